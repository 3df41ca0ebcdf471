#!/usr/bin/env bash
# A token that only comes back after the PKCS#11 module is finalized and
# initialized again, and then under another slot id (the fault module's
# "until=reinit" and "renumber"). signetd answers UNAVAILABLE meanwhile,
# re-initializes the module by itself with backoff, finds the same token by
# its URI and serial number in its new slot, logs in, and serves again:
# signatures and certificates from keys made before verify, and the CRL
# publisher's own session works again. A C_Initialize that fails leaves the
# module finalized and is tried again. Another token under the same label
# (another serial number) is not taken for it, nor logged into. A re-initialization waits for a call
# already inside the module (a stalled C_Sign), which still gets its answer.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
mkdir -p "$D/crl"
it_setup_faultmod "" "records: { crl_publish_dir = \"$D/crl\"; crl_refresh_seconds = 1; };"
it_start

openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" key generate --alg p256 dev
expect_rc 0 "$SIGNET" key pub dev --out "$D/dev.pub.pem"
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Reinit Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=Reinit Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/leaf.key" 2>/dev/null
openssl req -new -key "$D/leaf.key" -subj /CN=leaf-1 -out "$D/leaf.csr"

# verify_sig FILE WHAT: FILE is a signature over the nonce by dev.
verify_sig() {
	openssl dgst -sha256 -verify "$D/dev.pub.pem" -signature "$1" "$D/nonce" >/dev/null ||
		it_fail "$2: the signature does not verify"
}
sign_ok() {
	rm -f "$D/sig"
	expect_rc 0 "$SIGNET" sign dev --in "$D/nonce" --out "$D/sig"
	verify_sig "$D/sig" "$1"
}
# removed_until_reinit WHAT: a request meets the token gone, which stays gone
# until the module is initialized again.
removed_until_reinit() {
	fault "* CKR_DEVICE_REMOVED until=reinit" "$@"
	rm -f "$D/sig"
	expect_rc 24 "$SIGNET" sign dev --in "$D/nonce" --out "$D/sig"
	[[ $IT_ERR == *UNAVAILABLE* && $IT_ERR == *CKR_DEVICE_REMOVED* ]] || it_fail "token removed: $IT_ERR"
	[[ ! -s "$D/sig" ]] || it_fail "a signature was written for a failed request"
}
reinits() { grep -c "module re-initialized" "$D/signetd.log" || true; }
sign_ok "before any fault"
[[ $(reinits) == 0 ]] || it_fail "re-initialized without a fault"

# --- the token comes back only after C_Initialize, in another slot ---
removed_until_reinit renumber
wait_healthy 10
[[ $(reinits) == 1 ]] || it_fail "want one re-initialization, log has $(reinits)"
grep -q "module re-initialized .*found in slot .*, not its old slot" "$D/signetd.log" ||
	it_fail "the new slot is not in the log"
grep -q "token: back" "$D/signetd.log" || it_fail "no recovery logged"
sign_ok "after the re-initialization"
expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$D/leaf.csr" --out "$D/leaf.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$D/leaf.pem" >/dev/null ||
	it_fail "the certificate issued after the re-initialization does not verify"

# --- a module that will not initialize at first: left finalized, retried ---
removed_until_reinit "C_Initialize CKR_DEVICE_ERROR count=2"
wait_healthy 15
[[ $(reinits) == 2 ]] || it_fail "want a second re-initialization, log has $(reinits)"
grep -q "still down (C_Initialize: CKR_DEVICE_ERROR)" "$D/signetd.log" ||
	it_fail "the failed C_Initialize is not in the log"
sign_ok "after C_Initialize failed twice"

# --- the CRL publisher's session came back with the token ---
touch "$D/recovered"
for _ in $(seq 1 50); do
	[[ $D/crl/issuing.crl -nt $D/recovered ]] && break
	sleep 0.1
done
[[ $D/crl/issuing.crl -nt $D/recovered ]] || it_fail "no CRL published since the recovery"
openssl crl -inform DER -in "$D/crl/issuing.crl" -CAfile "$D/chain.pem" -noout 2>"$D/crl.err" ||
	it_fail "the CRL published after the recovery does not verify: $(cat "$D/crl.err")"

# --- a call inside the module when the token goes: the re-initialization waits for it ---
# (without the CRL publisher, whose own C_Sign could take the one stall)
it_stop
it_setup_faultmod
it_start
fault "C_Sign delay_ms=4000 count=1"
"$SIGNET" --timeout 8000 sign dev --in "$D/nonce" --out "$D/stalled.sig" >"$D/stalled.out" 2>&1 &
stalled=$!
sleep 0.5
removed_until_reinit
rc=0
wait "$stalled" || rc=$?
((rc == 0)) || it_fail "the call in the module when the token went failed ($rc): $(cat "$D/stalled.out")"
verify_sig "$D/stalled.sig" "the call in the module when the token went"
wait_healthy 10
[[ $(reinits) == 3 ]] || it_fail "want a third re-initialization, log has $(reinits)"
grep -q "re-initialization put off" "$D/signetd.log" || it_fail "the re-initialization did not wait for the call in the module"
sign_ok "after the second re-initialization"
expect_rc 0 "$SIGNET" key list
grep -q '^dev ' "$D/out" || it_fail "key list after the re-initialization misses dev"

# --- another token with the same label in its place: not ours, never logged
# into (its PIN differs: a login would be refused and stop recovery for good) ---
"$SIGNET_SRC_DIR/scripts/softhsm-token.sh" "$D/impostor" "$IT_LABEL" >/dev/null 2>&1 ||
	it_fail "cannot make the impostor token"
tokens="$IT_DIR/token/tokens"
removed_until_reinit "C_Initialize CKR_DEVICE_ERROR" # held down while the tokens are swapped
mkdir "$D/away"
mv "$tokens"/* "$D/away/"
cp -r "$D/impostor/tokens"/* "$tokens/"
fault "* CKR_DEVICE_REMOVED until=reinit"
for _ in $(seq 1 100); do
	grep -q "serial number signetd started with" "$D/signetd.log" && break
	sleep 0.1
done
grep -q "serial number signetd started with" "$D/signetd.log" ||
	it_fail "the impostor token was not refused for its serial number"
expect_rc 24 "$SIGNET" health
grep -q "refused the PIN\|cannot log in again" "$D/signetd.log" && it_fail "signetd tried its PIN on the impostor"
rm -rf "${tokens:?}"/*
mv "$D/away"/* "$tokens/"
wait_healthy 15
[[ $(reinits) == 4 ]] || it_fail "want a fourth re-initialization, log has $(reinits)"
sign_ok "after the real token came back"

kill -0 "$IT_PID" || it_fail "signetd died"
it_stop
expect_rc 0 "$SIGNET" audit verify "$D/state/audit.log"
echo "hsm_reinit: ok"
