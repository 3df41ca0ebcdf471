#!/usr/bin/env bash
# libsignet-pkcs11 under pkcs11-tool (OpenSC): the objects a client may use,
# signatures that verify with the exported public keys, the refusals and
# PKCS#11 return codes a caller sees (itest_pkcs11 for those pkcs11-tool
# cannot provoke), and a signetd restarted under a running caller.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pkcs11_lib.sh
. "$(dirname "$0")/pkcs11_lib.sh"
p11_setup
D=$IT_DIR
tool() { SIGNET_PKCS11_CONFIG="$D/$1.conf" p11_consumer pkcs11-tool --module "$P11_MODULE" "${@:2}"; }

# --- the objects: gw's keys and device-1's certificate, nothing else ---
expect_rc 0 tool gw --list-objects
objs=$(cat "$D/out")
for want in "Private Key Object; EC" "label:      device-1" "Certificate Object; type = X.509 cert" \
	"Private Key Object; RSA" "label:      device-rsa" "Public Key Object; EC  EC_POINT 256 bits"; do
	[[ $objs == *"$want"* ]] || it_fail "list-objects lacks '$want': $objs"
done
[[ $objs != *rogue-1* && $objs != *other-1* ]] || it_fail "gw sees keys it may not use: $objs"
[[ $objs == *"Access:     sensitive, always sensitive, never extractable"* ]] ||
	it_fail "private key not sensitive/non-extractable: $objs"
expect_rc 0 tool rogue --list-objects
[[ $(cat "$D/out") == *rogue-1* && $(cat "$D/out") != *device-1* ]] || it_fail "rogue's objects: $(cat "$D/out")"

# pkcs11-tool --sign picks its key by --id (it ignores --label): each key's CKA_ID
id_of() { awk -v l="$1" '$1 == "label:" && $2 == l { getline; print $2; exit }' <<<"$objs"; }
id1=$(id_of device-1) idrsa=$(id_of device-rsa)
[[ -n $id1 && -n $idrsa && $id1 != "$idrsa" ]] || it_fail "CKA_IDs: '$id1' '$idrsa'"

# the certificate object is the ledger's
expect_rc 0 tool gw --read-object --type cert --label device-1 -o "$D/cert.der"
openssl x509 -inform DER -in "$D/cert.der" -out "$D/cert.pem"
cmp <(openssl x509 -in "$D/cert.pem" -outform DER) <(openssl x509 -in "$D/device-1.pem" -outform DER) ||
	it_fail "certificate object differs from the one issued"
# the public key object is the key's (RSA here: OpenSC 0.23's --read-object of an EC
# public key reads memory it freed, as ASan shows; itest_pkcs11 checks the EC key's)
expect_rc 0 tool gw --read-object --type pubkey --label device-rsa -o "$D/pub.der"
cmp <(openssl pkey -pubin -inform DER -in "$D/pub.der" -outform DER) \
	<(openssl pkey -pubin -in "$D/device-rsa.pub" -outform DER) || it_fail "public key object differs"

# --- signatures, verified by openssl with the exported public keys ---
head -c 1000 /dev/urandom >"$D/msg"
openssl dgst -sha256 -binary "$D/msg" >"$D/msg.sha256"
expect_rc 0 tool gw --sign --mechanism ECDSA-SHA256 --id "$id1" --signature-format openssl \
	-i "$D/msg" -o "$D/ec.sig"
openssl dgst -sha256 -verify "$D/device-1.pub" -signature "$D/ec.sig" "$D/msg" >/dev/null ||
	it_fail "ECDSA-SHA256 signature does not verify"
expect_rc 0 tool gw --sign --mechanism ECDSA --id "$id1" --signature-format openssl \
	-i "$D/msg.sha256" -o "$D/ecraw.sig"
openssl pkeyutl -verify -pubin -inkey "$D/device-1.pub" -in "$D/msg.sha256" -sigfile "$D/ecraw.sig" \
	>/dev/null || it_fail "CKM_ECDSA signature does not verify"
expect_rc 0 tool gw --sign --mechanism SHA256-RSA-PKCS --id "$idrsa" -i "$D/msg" -o "$D/rsa.sig"
openssl dgst -sha256 -verify "$D/device-rsa.pub" -signature "$D/rsa.sig" "$D/msg" >/dev/null ||
	it_fail "SHA256-RSA-PKCS signature does not verify"
expect_rc 0 tool gw --sign --mechanism RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 \
	--salt-len -1 --id "$idrsa" -i "$D/msg.sha256" -o "$D/pss.sig"
openssl pkeyutl -verify -pubin -inkey "$D/device-rsa.pub" -in "$D/msg.sha256" -sigfile "$D/pss.sig" \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest -pkeyopt digest:sha256 >/dev/null ||
	it_fail "RSA-PKCS-PSS signature does not verify"

# --- refusals ---
# a key gw may not use is not an object (itest_pkcs11 checks no label finds it)
expect_rc 0 tool rogue --list-objects
idrogue=$(awk '$1 == "label:" && $2 == "rogue-1" { getline; print $2; exit }' "$D/out")
expect_rc 1 tool gw --sign --mechanism ECDSA-SHA256 --id "$idrogue" -i "$D/msg" -o "$D/x.sig"
# a mechanism the token does not have
expect_rc 1 tool gw --sign --mechanism SHA256-RSA-PKCS --id "$id1" -i "$D/msg" -o "$D/x.sig"
[[ $IT_ERR == *CKR_KEY_TYPE_INCONSISTENT* ]] || it_fail "RSA mechanism on an EC key: $IT_ERR"
expect_rc 1 tool gw --sign --mechanism SHA1-RSA-PKCS --id "$idrsa" -i "$D/msg" -o "$D/x.sig"
[[ $IT_ERR == *CKR_MECHANISM_INVALID* ]] || it_fail "unknown mechanism: $IT_ERR"

# --- pkcs11-tool's own test of the token, where it applies ---
# Its RSA test signs raw data with CKM_RSA_PKCS, which signetd cannot do (it
# signs digests: CKR_DATA_INVALID), so the token it tests holds the EC key
# alone, named in the configuration's `keys` rather than listed.
{
	cat "$D/gw.conf"
	echo 'keys = [ "device-1", "rogue-1" ];'
} >"$D/gw-ec.conf"
expect_rc 0 tool gw-ec --list-objects
[[ $(cat "$D/out") == *device-1* && $(cat "$D/out") != *device-rsa* && $(cat "$D/out") != *rogue-1* ]] ||
	it_fail "objects of an explicit key list: $(cat "$D/out")"
expect_rc 0 tool gw-ec --test
[[ $(cat "$D/out") == *"No errors"* ]] || it_fail "pkcs11-tool --test: $(cat "$D/out") $IT_ERR"

# --- return codes pkcs11-tool does not show, and signetd changing under one session ---
ITEST="$SIGNET_BUILD_DIR/tests/integration/itest_pkcs11"
expect_rc 0 "$ITEST" "$P11_MODULE" "$D/gw.conf" # the checks, fork() included
coproc P11 { "$ITEST" "$P11_MODULE" "$D/gw.conf" --steps 2>"$D/itest.err"; }
itest_pid=$P11_PID # bash unsets P11_PID when the coprocess ends
# a hung itest_pkcs11 would hold ctest's pipe open: end it with the test
stop_itest() {
	if [[ -n $itest_pid ]] && kill -0 "$itest_pid" 2>/dev/null; then
		kill -KILL "$itest_pid" 2>/dev/null || true
	fi
	it_cleanup
}
trap stop_itest EXIT
# answer LINE: wait for the program to print LINE (it then waits for us)
answer() {
	local got
	read -r -t 60 got <&"${P11[0]}" || it_fail "itest_pkcs11 stopped before '$1': $(cat "$D/itest.err")"
	[[ $got == "$1" ]] || it_fail "itest_pkcs11 said '$got', wanted '$1': $(cat "$D/itest.err")"
}
answer restart
it_stop
it_start
echo go >&"${P11[1]}"
answer withdraw
# gw keeps its methods but loses its keys: a reload, the session stays open
sed -i 's|keys = \[ "device-\*" \]|keys = [ "none-*" ]|' "$D/signetd.conf"
kill -HUP "$IT_PID"
for _ in $(seq 1 50); do
	grep -q "reload" "$D/signetd.log" && break
	sleep 0.1
done
sleep 0.5
echo go >&"${P11[1]}"
answer down
it_stop
echo go >&"${P11[1]}"
answer "done"
wait "$itest_pid" || it_fail "itest_pkcs11: $(cat "$D/itest.err")"

# --- a caller killed in the middle of its calls does not wedge signetd ---
sed -i 's|keys = \[ "none-\*" \]|keys = [ "device-*" ]|' "$D/signetd.conf"
it_start
for _ in 1 2 3; do
	"$ITEST" "$P11_MODULE" "$D/gw.conf" --loop >"$D/loop.out" 2>&1 &
	loop=$!
	sleep 0.5
	kill -KILL "$loop"
	wait "$loop" 2>/dev/null || true
	grep -q signing "$D/loop.out" || it_fail "the signing loop did not start: $(cat "$D/loop.out")"
done
expect_rc 0 tool gw --sign --mechanism ECDSA-SHA256 --id "$id1" --signature-format openssl \
	-i "$D/msg" -o "$D/ec2.sig"
openssl dgst -sha256 -verify "$D/device-1.pub" -signature "$D/ec2.sig" "$D/msg" >/dev/null ||
	it_fail "signature after killed callers does not verify"
it_stop
echo "PASS: pkcs11_tool"
