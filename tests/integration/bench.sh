#!/usr/bin/env bash
# The benchmark programs measure what they claim: the raw C_Sign baseline
# signs on the token, the load generator's calls succeed (a failed call ends
# the run with status 1 instead of being counted), SignCsr and SignCsrBatch
# load leave one ledger row per counted certificate, and the JSON they print
# is complete.
# Short windows: this checks the harness, not the figures.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
RAW="$SIGNET_BUILD_DIR/bench/signet-bench-raw"
LOAD="$SIGNET_BUILD_DIR/bench/signet-bench-load"
ECHO="$SIGNET_BUILD_DIR/bench/signet-bench-echo"
it_start

expect_rc 0 "$SIGNET" key generate --alg p256 bench-nonce
expect_rc 0 "$SIGNET" ca create-root bench-root --alg p256 --subject "/CN=Bench Root"
expect_rc 0 "$SIGNET" ca create-intermediate bench-issuing --parent bench-root --alg p256 \
	--subject "/CN=Bench Issuing"

number() { sed -E "s/.*\"$1\":([0-9.]+).*/\\1/" <<<"$2"; }
check_json() {
	local what=$1 json=$2 f
	for f in ops rate p50_us p99_us; do
		[[ $json == *"\"$f\":"* ]] || it_fail "$what: no $f in $json"
	done
	(($(number ops "$json") > 0)) || it_fail "$what: nothing completed: $json"
}

# --- the baseline: C_Sign straight on the module, 1 and 2 sessions ---
for threads in 1 2; do
	out=$("$RAW" --module "$SIGNET_PKCS11_MODULE" --token "$IT_LABEL" --key bench-nonce \
		--pin-file "$SIGNET_USER_PIN_FILE" --threads "$threads" --seconds 0.3) ||
		it_fail "signet-bench-raw --threads $threads failed"
	check_json "raw $threads" "$out"
	[[ $out == *"\"threads\":$threads,"* ]] || it_fail "raw: wrong thread count: $out"
done
# a key that is not there is an error, not a zero rate
expect_rc 1 "$RAW" --module "$SIGNET_PKCS11_MODULE" --token "$IT_LABEL" --key no-such-key \
	--pin-file "$SIGNET_USER_PIN_FILE" --seconds 0.1
[[ $IT_ERR == *"no private key labelled 'no-such-key'"* ]] || it_fail "raw, missing key: $IT_ERR"

# --- the same harness through libsignet-pkcs11.so (no PIN: the file is not read) ---
printf 'endpoints = [ "%s" ];\nkeys = [ "bench-nonce" ];\n' "$SIGNET_ENDPOINT" >"$D/p11.conf"
for threads in 1 2; do
	out=$(SIGNET_PKCS11_CONFIG="$D/p11.conf" "$RAW" --module "$SIGNET_BUILD_DIR/client/pkcs11/libsignet-pkcs11.so" \
		--token signet --key bench-nonce --pin-file /dev/null --threads "$threads" --seconds 0.3) ||
		it_fail "signet-bench-raw on libsignet-pkcs11.so --threads $threads failed"
	check_json "pkcs11 module $threads" "$out"
done

# --- the IPC floor: every round trip of every client answered ---
out=$("$ECHO" --endpoint "ipc://$D/echo.sock" --clients 3 --seconds 0.3) || it_fail "echo failed"
check_json "echo" "$out"

# --- OpenSSL's own costs: every step measured ---
out=$("$SIGNET_BUILD_DIR/bench/signet-bench-openssl" --rounds 20) || it_fail "openssl costs failed"
for f in parse_csr_us verify_csr_us set_pubkey_us software_sign_us verify_cert_us parse_cert_us; do
	[[ $out =~ \"$f\":[0-9.]+ ]] || it_fail "openssl costs: no $f in $out"
done

# --- SignNonce load: a fixed number of requests all complete ---
out=$("$LOAD" --endpoint "$SIGNET_ENDPOINT" --op nonce --key bench-nonce --clients 4 \
	--requests 400) || it_fail "SignNonce load failed"
check_json "nonce" "$out"
(($(number ops "$out") == 400)) || it_fail "SignNonce load: 400 asked, not $(number ops "$out"): $out"

# --- SignCsr load: every counted certificate is in the ledger ---
before=$(sqlite3 "$D/state/ledger.db" 'select count(*) from issued')
out=$("$LOAD" --endpoint "$SIGNET_ENDPOINT" --op csr --ca bench-issuing --profile device \
	--clients 4 --requests 200) || it_fail "SignCsr load failed"
check_json "csr" "$out"
after=$(sqlite3 "$D/state/ledger.db" 'select count(*) from issued')
# 200 counted, plus one warm-up call per client outside the count
((after - before == 200 + 4)) || it_fail "ledger grew by $((after - before)), want 204"

# --- SignCsrBatch load: batches of 16, every counted certificate in the ledger ---
before=$after
out=$("$LOAD" --endpoint "$SIGNET_ENDPOINT" --op batch --batch 16 --ca bench-issuing --profile device \
	--clients 2 --requests 10) || it_fail "SignCsrBatch load failed"
check_json "batch" "$out"
[[ $out == *'"batch":16,"certs_rate":'* ]] || it_fail "batch: no certificate rate: $out"
after=$(sqlite3 "$D/state/ledger.db" 'select count(*) from issued')
((after - before == (10 + 2) * 16)) || it_fail "ledger grew by $((after - before)), want $(((10 + 2) * 16))"
# an item refused (no such profile) ends the run, naming the item
expect_rc 1 "$LOAD" --endpoint "$SIGNET_ENDPOINT" --op batch --batch 4 --ca bench-issuing --profile nope \
	--clients 1 --seconds 0.2
[[ $IT_ERR == *"item 0: NOT_FOUND: no profile named 'nope'"* ]] || it_fail "batch with a refused item: $IT_ERR"

# --- a refusal ends the run with its message; nothing is counted as done ---
expect_rc 1 "$LOAD" --endpoint "$SIGNET_ENDPOINT" --op csr --ca no-such-ca --profile device \
	--clients 2 --seconds 0.2
[[ $IT_ERR == *"NOT_FOUND"* ]] || it_fail "load against a missing CA: $IT_ERR"

kill -0 "$IT_PID" || it_fail "signetd died under load"
it_stop
echo "bench harness OK"
