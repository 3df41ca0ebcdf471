#!/usr/bin/env bash
# A token whose files vanish under a running signetd (SoftHSM2's object
# directory moved away), and a module that answers CKR_GENERAL_ERROR to every
# call (the fault module). While the token is not serving, no request is
# answered NOT_FOUND, an empty key list or INTERNAL: everything is
# UNAVAILABLE (so libsignet fails over), Health says the token is down, and
# once the files (or the module) are back signetd recovers by itself, with no
# restart, and the keys made before sign again.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
it_setup_faultmod
it_start

openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" key generate --alg p256 k1
expect_rc 0 "$SIGNET" key pub k1 --out "$D/k1.pub.pem"
expect_rc 0 "$SIGNET" key generate --alg p256 k2
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Files Root" --out "$D/root.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/leaf.key" 2>/dev/null
openssl req -new -key "$D/leaf.key" -subj /CN=leaf-1 -out "$D/leaf.csr"

sign_ok() {
	rm -f "$D/sig"
	expect_rc 0 "$SIGNET" sign k1 --in "$D/nonce" --out "$D/sig"
	openssl dgst -sha256 -verify "$D/k1.pub.pem" -signature "$D/sig" "$D/nonce" >/dev/null ||
		it_fail "$1: the signature does not verify"
}

# all_unavailable WHAT: every kind of request answers UNAVAILABLE (24), never
# NOT_FOUND (15), an empty list (0) or INTERNAL.
all_unavailable() {
	local what=$1
	expect_rc 24 "$SIGNET" sign k1 --in "$D/nonce" --out "$D/sig"
	[[ $IT_ERR == *UNAVAILABLE* ]] || it_fail "$what: sign: $IT_ERR"
	expect_rc 24 "$SIGNET" key pub k2
	expect_rc 24 "$SIGNET" key list
	expect_rc 24 "$SIGNET" key generate --alg p256 "while-${what// /-}"
	[[ $IT_ERR != *INTERNAL* ]] || it_fail "$what: generate: $IT_ERR"
	expect_rc 24 "$SIGNET" issue --ca root --profile device --csr "$D/leaf.csr" --out "$D/leaf.pem"
	[[ $IT_ERR != *"no longer on the token"* ]] || it_fail "$what: issue: $IT_ERR"
	expect_rc 24 "$SIGNET" health
}

tokdir=$(find "$D/token/tokens" -mindepth 1 -maxdepth 1 -type d)
[[ -n $tokdir && -d $tokdir ]] || it_fail "no SoftHSM token directory under $D/token/tokens"

# first_after_loss WHAT CMD...: with the token's files just moved away, CMD
# (the first request to meet the loss) is answered UNAVAILABLE, naming no
# missing key; once they are back, the token serves again by itself.
first_after_loss() {
	local what=$1
	shift
	mv "$tokdir" "$D/away"
	expect_rc 24 "$@"
	[[ $IT_ERR == *UNAVAILABLE* && $IT_ERR != *NOT_FOUND* && $IT_ERR != *"no longer on"* ]] ||
		it_fail "$what with the files gone: $IT_ERR"
	mv "$D/away" "$tokdir"
	wait_healthy 15
}

sign_ok "before any fault"

# --- each kind of request the first to meet the files gone ---
first_after_loss "sign (cached key)" "$SIGNET" sign k1 --in "$D/nonce" --out "$D/sig"
first_after_loss "key pub (not cached)" "$SIGNET" key pub k2
first_after_loss "key list" "$SIGNET" key list
first_after_loss "key generate" "$SIGNET" key generate --alg p256 while-gone
first_after_loss "key delete" "$SIGNET" key delete k2
first_after_loss "issue" "$SIGNET" issue --ca root --profile device --csr "$D/leaf.csr" --out "$D/leaf.pem"
first_after_loss "health" "$SIGNET" health
sign_ok "after the files came back, each time"

# --- the token's files moved away under the running daemon, then back ---
mv "$tokdir" "$D/away"
all_unavailable "files gone"
grep -q "down: CKR_" "$D/out" "$D/err" || it_fail "Health with the files gone: $(cat "$D/out" "$D/err")"
sleep 1 # a few recovery attempts fail meanwhile
all_unavailable "files still gone"
mv "$D/away" "$tokdir"
wait_healthy 15
sign_ok "after the files came back"
expect_rc 0 "$SIGNET" key list
grep -q '^k1 ' "$D/out" || it_fail "key list after the files came back misses k1"
grep -q '^k2 ' "$D/out" || it_fail "key list after the files came back misses k2"
grep -q '^while-' "$D/out" && it_fail "a key was generated while the files were gone"
expect_rc 0 "$SIGNET" issue --ca root --profile device --csr "$D/leaf.csr" --out "$D/leaf.pem"
openssl verify -CAfile "$D/root.pem" "$D/leaf.pem" >/dev/null || it_fail "the certificate issued after recovery does not verify"

# --- a module that answers CKR_GENERAL_ERROR to everything ---
fault "* CKR_GENERAL_ERROR"
all_unavailable "general error"
grep -q "down: CKR_GENERAL_ERROR since .*, retrying" "$D/out" "$D/err" ||
	it_fail "Health under CKR_GENERAL_ERROR: $(cat "$D/out" "$D/err")"
expect_rc 24 "$SIGNET" sign k1 --in "$D/nonce" --out "$D/sig"
[[ $IT_ERR == *CKR_GENERAL_ERROR* ]] || it_fail "the error does not name CKR_GENERAL_ERROR: $IT_ERR"
fault
wait_healthy 15
sign_ok "after CKR_GENERAL_ERROR stopped"
expect_rc 0 "$SIGNET" key list
grep -q '^k2 ' "$D/out" || it_fail "key list after CKR_GENERAL_ERROR misses k2"

kill -0 "$IT_PID" || it_fail "signetd died"
it_stop
echo "token_files: ok"
