#!/usr/bin/env bash
# HSM faults: signetd on SoftHSM2 behind the fault-injecting PKCS#11 module
# (tests/faultmod). Each fault gives UNAVAILABLE with the PKCS#11 code named,
# never a bad signature; a lost session or login is recovered on the next
# request; a removed token is answered UNAVAILABLE at once, reported by
# Health, and recovered within seconds of coming back; a stalled token does
# not hold a client past its --timeout; a batch of CSRs under a fault is
# refused whole, or issues what it made before it; a PIN refused on re-login
# is not tried again.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
it_setup_faultmod
it_start

openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" key generate --alg p256 dev
expect_rc 0 "$SIGNET" key pub dev --out "$D/dev.pub.pem"

# sign_ok WHAT: a signature that openssl verifies with the key's public half.
sign_ok() {
	rm -f "$D/sig"
	expect_rc 0 "$SIGNET" sign dev --in "$D/nonce" --out "$D/sig"
	openssl dgst -sha256 -verify "$D/dev.pub.pem" -signature "$D/sig" "$D/nonce" >/dev/null ||
		it_fail "$1: the signature does not verify"
}

# sign_fails CODE WHAT: UNAVAILABLE (exit 24) naming CODE, and no signature written.
sign_fails() {
	rm -f "$D/sig"
	expect_rc 24 "$SIGNET" sign dev --in "$D/nonce" --out "$D/sig"
	[[ $IT_ERR == *UNAVAILABLE* && $IT_ERR == *"$1"* ]] || it_fail "$2: error does not say UNAVAILABLE and $1: $IT_ERR"
	[[ ! -s "$D/sig" ]] || it_fail "$2: a signature was written for a failed request"
}

sign_ok "before any fault"

# --- a token that fails one call: UNAVAILABLE with the code, then recovered ---
for code in CKR_DEVICE_REMOVED CKR_TOKEN_NOT_PRESENT CKR_DEVICE_ERROR; do
	fault "C_Sign $code count=1"
	sign_fails "$code" "C_Sign $code"
	wait_healthy 5
	sign_ok "after C_Sign $code"
done

# --- a lost session: the next request gets a new one ---
fault "C_SignInit CKR_SESSION_HANDLE_INVALID count=1"
sign_fails CKR_SESSION_HANDLE_INVALID "session lost"
sign_ok "after a lost session"
fault "C_FindObjectsInit CKR_SESSION_CLOSED count=1"
expect_rc 24 "$SIGNET" key pub other
[[ $IT_ERR == *CKR_SESSION_CLOSED* ]] || it_fail "session closed: $IT_ERR"
expect_rc 15 "$SIGNET" key pub other # NOT_FOUND: the session works again

# --- a lost login: logged in again, the next request works ---
fault "C_Sign CKR_USER_NOT_LOGGED_IN count=1"
sign_fails CKR_USER_NOT_LOGGED_IN "login lost"
sign_ok "after a lost login"
grep -q "logged in again" "$D/signetd.log" || it_fail "no re-login logged"

# --- the token pulled out: fast UNAVAILABLE, Health says down, back within seconds ---
fault "* CKR_DEVICE_REMOVED"
sign_fails CKR_DEVICE_REMOVED "token removed"
start=$(date +%s%N)
sign_fails CKR_DEVICE_REMOVED "token still removed"
expect_rc 24 "$SIGNET" key generate --alg p256 while-down
elapsed=$((($(date +%s%N) - start) / 1000000))
((elapsed < 2000)) || it_fail "requests to a removed token took $elapsed ms"
expect_rc 24 "$SIGNET" health
grep -q "down: CKR_DEVICE_REMOVED since .*, retrying" "$D/out" "$D/err" || it_fail "Health while down: $(cat "$D/out" "$D/err")"
sleep 1 # several failed recovery attempts, so backoff has grown
fault
wait_healthy 8
grep -q "token=ok" "$D/health" || grep -q " ok" "$D/health" || it_fail "Health after recovery: $(cat "$D/health")"
sign_ok "after the token came back"
grep -q "token: back" "$D/signetd.log" || it_fail "no recovery logged"
expect_rc 0 "$SIGNET" key list
grep -q '^dev ' "$D/out" || it_fail "key list after recovery misses dev"
grep -q '^while-down ' "$D/out" && it_fail "a key was generated while the token was down"

# --- a stalled token: the client gives up at its deadline, signetd goes on ---
fault "C_Sign delay_ms=3000 count=1"
start=$(date +%s%N)
expect_rc 3 "$SIGNET" --timeout 500 sign dev --in "$D/nonce" --out "$D/sig"
elapsed=$((($(date +%s%N) - start) / 1000000))
[[ $IT_ERR == *DEADLINE_EXCEEDED* ]] || it_fail "stalled sign: $IT_ERR"
((elapsed < 2000)) || it_fail "the client waited $elapsed ms past a 500 ms timeout"
expect_rc 0 "$SIGNET" --timeout 2000 health
sign_ok "while another worker is stalled"
sleep 3 # the stalled worker finishes; its late reply goes nowhere
sign_ok "after the stall"

# --- issuance under a token fault: no certificate, no ledger row; then it works ---
fault
wait_healthy 10
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Fault Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=Fault Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/leaf.key" 2>/dev/null
openssl req -new -key "$D/leaf.key" -subj /CN=leaf-1 -out "$D/leaf.csr"
rows() { sqlite3 "$D/state/ledger.db" 'select count(*) from issued'; }
before=$(rows)
for code in CKR_DEVICE_REMOVED CKR_SESSION_HANDLE_INVALID; do
	fault "C_Sign $code count=1"
	rm -f "$D/leaf.pem"
	expect_rc 24 "$SIGNET" issue --ca issuing --profile device --csr "$D/leaf.csr" --out "$D/leaf.pem"
	[[ $IT_ERR == *"$code"* ]] || it_fail "issuance under $code: $IT_ERR"
	[[ ! -s "$D/leaf.pem" ]] || it_fail "issuance under $code wrote a certificate"
	(($(rows) == before)) || it_fail "issuance under $code left a ledger row"
	fault
	wait_healthy 10
done
expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$D/leaf.csr" --out "$D/leaf.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$D/leaf.pem" >/dev/null ||
	it_fail "the certificate issued after the faults does not verify"

# --- a batch under a token fault: before any certificate was made, the whole
# batch is UNAVAILABLE (a client fails over); after some, those are issued and
# the rest answered UNAVAILABLE without being tried ---
mkdir "$D/batch"
for i in 1 2 3 4; do openssl req -new -key "$D/leaf.key" -subj "/CN=batch-$i" -out "$D/batch/b$i.csr"; done
before=$(rows)
fault "C_Sign CKR_DEVICE_REMOVED count=1"
expect_rc 24 "$SIGNET" issue --batch "$D/batch" --ca issuing --profile device --out-dir "$D/bout" \
	--manifest "$D/b1.json"
[[ $IT_ERR == *UNAVAILABLE*CKR_DEVICE_REMOVED* ]] || it_fail "batch under a fault: $IT_ERR"
(($(rows) == before)) || it_fail "a batch refused whole left ledger rows"
fault
wait_healthy 10
fault "C_Sign CKR_DEVICE_REMOVED after=2 count=1"
expect_rc 5 "$SIGNET" issue --batch "$D/batch" --ca issuing --profile device --out-dir "$D/bout" \
	--manifest "$D/b2.json"
python3 - "$D/b2.json" <<'PY' || it_fail "batch with a fault after two: $(cat "$D/b2.json")"
import json, sys
m = json.load(open(sys.argv[1]))
assert [r["status"] for r in m] == ["OK", "OK", "UNAVAILABLE", "UNAVAILABLE"], m
assert "CKR_DEVICE_REMOVED" in m[2]["message"] and m[3]["message"].startswith("not tried: "), m
PY
(($(rows) == before + 2)) || it_fail "$(($(rows) - before)) ledger rows for the 2 certificates issued"
fault
wait_healthy 10

# --- a PIN refused on re-login: reported, never tried again ---
fault "C_Sign CKR_USER_NOT_LOGGED_IN count=1" "C_Login CKR_PIN_INCORRECT"
sign_fails CKR_USER_NOT_LOGGED_IN "login lost, PIN refused"
expect_rc 24 "$SIGNET" health
grep -q "not retrying" "$D/out" "$D/err" || it_fail "Health after a refused PIN: $(cat "$D/out" "$D/err")"
grep -q "restart signetd" "$D/signetd.log" || it_fail "refused PIN not logged"
fault
sleep 1
expect_rc 24 "$SIGNET" health # still down: the PIN is not tried again
sign_fails "not retrying" "after a refused PIN"
[[ $(grep -c "cannot log in again" "$D/signetd.log") -eq 1 ]] || it_fail "a refused PIN was tried again"
kill -0 "$IT_PID" || it_fail "signetd died"
it_stop
echo "hsm_faults: ok"
