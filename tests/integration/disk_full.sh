#!/usr/bin/env bash
# A full disk: issuance is refused with UNAVAILABLE and no certificate
# leaves without its record; nonce signing, which writes nothing but the
# audit line, keeps working; once there is room again, issuance resumes with
# no restart (a state directory that turns read-only: readonly_state.sh).
# The state directory is a small tmpfs of its own, so the test needs to be
# able to mount one (root); without that it is skipped (77).
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"

it_mount_state "a tmpfs" -t tmpfs -o size=8m,mode=0700 tmpfs
it_start
it_issuer Disk

rows() { sqlite3 "$D/state/ledger.db" 'select count(*) from issued'; }
# the intermediate CA's certificate and the first device's
rows_before=$(rows)
nonce_works() {
	openssl rand -out "$D/nonce" 32
	expect_rc 0 "$SIGNET" sign dev-key --in "$D/nonce" --out "$D/nonce.sig"
	openssl dgst -sha256 -verify "$D/dev-key.pub" -signature "$D/nonce.sig" "$D/nonce" >/dev/null ||
		it_fail "$1: the nonce signature does not verify"
}
refused_unavailable() {
	local what=$1 before
	before=$(rows)
	rm -f "$D/refused.pem"
	expect_rc 24 "$SIGNET" issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/refused.pem"
	[[ $IT_ERR == *UNAVAILABLE* && $IT_ERR == *"filesystem is full"* ]] || it_fail "$what: $IT_ERR"
	[[ ! -s "$D/refused.pem" ]] || it_fail "$what: a certificate left without its record"
	(($(rows) == before)) || it_fail "$what: the ledger changed"
}

# --- the disk fills up ---
dd if=/dev/zero of="$D/state/filler" bs=64k 2>/dev/null || true
refused_unavailable "disk full"
nonce_works "disk full"
kill -0 "$IT_PID" || it_fail "signetd died on a full disk"
rm -f "$D/state/filler"
expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/after-full.pem"
openssl verify -CAfile "$D/root.pem" -untrusted <(openssl x509 -in "$D/state/cas/issuing.pem") \
	"$D/after-full.pem" >/dev/null || it_fail "the certificate issued after the disk full does not verify"

# the one certificate issued since is in the ledger, the refused ones are not, and the records are whole
(($(rows) == rows_before + 1)) || it_fail "the ledger holds $(rows) certificates, want $((rows_before + 1))"
[[ $(sqlite3 "$D/state/ledger.db" 'PRAGMA integrity_check') == ok ]] || it_fail "ledger integrity"
it_stop
expect_rc 0 "$SIGNET" audit verify "$D/state/audit.log"
echo "disk full: OK"
