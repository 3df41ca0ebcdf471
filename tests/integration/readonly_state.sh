#!/usr/bin/env bash
# The state directory turns read-only under a running signetd, as an ext4
# filesystem mounted errors=remount-ro does after an I/O error (staged with
# the kernel's trigger_fs_error on a loop device): issuance is refused with
# UNAVAILABLE and no certificate leaves without its record, shared
# challenges (possession.shared_challenges) are neither made nor spent;
# nonce signing keeps working; signetd keeps serving and stops cleanly. After a repair
# (fsck, mount read-write) every record written before is there, the
# challenge whose spending was refused can be spent, and a new signetd
# issues again. Needs root and a loop device; skipped (77) without.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"

truncate -s 32M "$D/state.img"
mkfs.ext4 -q -F "$D/state.img" 2>"$D/mkfs.err" || it_fail "mkfs.ext4: $(cat "$D/mkfs.err")"
it_mount_state "an ext4 image on a loop device" -o loop,errors=remount-ro "$D/state.img"
chmod 0700 "$D/state"
fs_sysfs=/sys/fs/ext4/$(basename "$(findmnt -no SOURCE "$D/state")")
if [[ ! -w $fs_sysfs/trigger_fs_error ]]; then
	echo "SKIP: this kernel has no $fs_sysfs/trigger_fs_error"
	exit 77
fi

# challenges in the ledger too: with the ledger, they go read-only
echo 'possession: { shared_challenges = true; };' >>"$D/signetd.conf"
it_start
it_issuer RO
expect_rc 0 "$SIGNET" challenge create --device-id dev-1 --nonce-out "$D/ch.nonce"
challenge=$(cut -d' ' -f1 "$D/out")
serial_before=$(openssl x509 -in "$D/before.pem" -noout -serial | cut -d= -f2)
rows() { sqlite3 "$D/state/ledger.db" 'select count(*) from issued'; }
rows_before=$(rows)

# --- the filesystem under the state directory goes read-only ---
echo 1 >"$fs_sysfs/trigger_fs_error"
touch "$D/state/probe" 2>/dev/null && it_fail "the state directory is still writable"
for i in 1 2 3; do
	rm -f "$D/refused.pem"
	expect_rc 24 "$SIGNET" issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/refused.pem"
	[[ $IT_ERR == *UNAVAILABLE* && $IT_ERR == *"refuses writes: Read-only file system"* ]] ||
		it_fail "issuance $i on a read-only state directory: $IT_ERR"
	[[ ! -s "$D/refused.pem" ]] || it_fail "issuance $i: a certificate left without its record"
done
expect_rc 24 "$SIGNET" ca verify-code issuing 0123456789ABCDEF --out "$D/refused-vc.pem"
[[ ! -s "$D/refused-vc.pem" ]] || it_fail "a verification certificate left without its record"
# a shared challenge is a ledger write, made or spent: refused the same way
expect_rc 24 "$SIGNET" challenge create --device-id dev-1 --nonce-out "$D/ch2.nonce"
[[ $IT_ERR == *UNAVAILABLE* && $IT_ERR == *"refuses writes"* ]] || it_fail "a new challenge: $IT_ERR"
openssl dgst -sha256 -sign "$D/dev.key" -out "$D/ch.sig" "$D/ch.nonce"
cat "$D/before.pem" "$D/chain.pem" >"$D/dev.chain"
expect_rc 24 "$SIGNET" challenge verify "$challenge" --chain "$D/dev.chain" --sig "$D/ch.sig"
[[ $IT_ERR == *UNAVAILABLE* ]] || it_fail "spending a challenge: $IT_ERR"
openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" sign dev-key --in "$D/nonce" --out "$D/nonce.sig"
openssl dgst -sha256 -verify "$D/dev-key.pub" -signature "$D/nonce.sig" "$D/nonce" >/dev/null ||
	it_fail "the nonce signature on a read-only state directory does not verify"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain-ro.pem"
expect_rc 0 "$SIGNET" ledger list --ca issuing
grep -q "$serial_before" "$D/out" || it_fail "the ledger cannot be read on a read-only state directory"
kill -0 "$IT_PID" || it_fail "signetd died on a read-only state directory"
it_stop

# --- repaired: every record from before is there, and issuance works again ---
umount "$D/state"
e2fsck -fy "$D/state.img" >"$D/fsck.out" 2>&1 || (($? <= 1)) || it_fail "e2fsck: $(cat "$D/fsck.out")"
mount -o loop,errors=remount-ro "$D/state.img" "$D/state" || it_fail "cannot mount the repaired image"
(($(rows) == rows_before)) || it_fail "the ledger holds $(rows) certificates, want $rows_before"
[[ $(sqlite3 "$D/state/ledger.db" 'PRAGMA integrity_check') == ok ]] || it_fail "ledger integrity"
expect_rc 0 "$SIGNET" audit verify "$D/state/audit.log"
it_start
# the challenge whose spending was refused is still there, and spent once now
expect_rc 0 "$SIGNET" challenge verify "$challenge" --chain "$D/dev.chain" --sig "$D/ch.sig"
expect_rc 19 "$SIGNET" challenge verify "$challenge" --chain "$D/dev.chain" --sig "$D/ch.sig"
expect_rc 0 "$SIGNET" issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/after.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$D/after.pem" >/dev/null ||
	it_fail "the certificate issued after the repair does not verify"
(($(rows) == rows_before + 1)) || it_fail "the ledger holds $(rows) certificates, want $((rows_before + 1))"
it_stop
echo "readonly state: OK"
