#!/usr/bin/env bash
# SCEP through signetd's ScepOperation, with messages made the way a client
# makes them: the CSR and the device's self-signed certificate by openssl req,
# the envelope to the RA by 'openssl cms -encrypt' (AES-128, 3DES, DES), the
# signed attributes by itest_scepsign (the one step openssl's command line
# cannot do); the CertRep checked and decrypted by 'openssl cms', the issued
# certificate by 'openssl verify'. Refusals are FAILURE CertReps with the
# right failInfo, audited with the transactionID, and record nothing. And the
# RA key, as pkcs11-tool reads it: decrypt and sign only, never extractable.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
SIGN="$SIGNET_BUILD_DIR/tests/integration/itest_scepsign"
(umask 077 && printf 'secret\n' >"$D/scep.secret")
cat >>"$D/signetd.conf" <<CONF
enrolment: {
  mdm: { protocol = "scep"; ca = "issuing"; profile = "device"; ra_key = "scep-ra";
         challenge = "static"; challenge_file = "$D/scep.secret"; };
  legacy: { protocol = "scep"; ca = "issuing"; profile = "device"; ra_key = "scep-ra";
         ra_certificate = "$D/ra.pem"; challenge = "static"; challenge_file = "$D/scep.secret";
         allow_des = true; };
  codes: { protocol = "scep"; ca = "issuing"; profile = "device"; ra_key = "scep-ra"; };
};
CONF
it_start

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=SCEP Test Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=SCEP Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"

# No RA key yet: the door cannot answer (FAILED_PRECONDITION, 19), and says why.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/dev.key" 2>/dev/null
printf 'junk' >"$D/junk.der"
expect_rc 13 "$SIGNET" enrol scep mdm --in "$D/junk.der"
expect_rc 15 "$SIGNET" enrol scep nowhere --in "$D/junk.der"

# --- the RA, as docs/scep.md sets it up ---
expect_rc 13 "$SIGNET" key generate --alg p256 --purpose ra ec-ra
[[ $IT_ERR == *"must be RSA"* ]] || it_fail "an EC RA key: $IT_ERR"
expect_rc 0 "$SIGNET" key generate --alg rsa2048 --purpose ra scep-ra
[[ $(cat "$D/out") == *"usage=sign,decrypt"* ]] || it_fail "RA key usage: $(cat "$D/out")"
expect_rc 0 "$SIGNET" csr scep-ra --subject "/CN=signet SCEP RA" --out "$D/ra.csr"
expect_rc 0 "$SIGNET" issue --ca issuing --profile scep-ra --csr "$D/ra.csr" --out "$D/ra.pem"
openssl x509 -in "$D/ra.pem" -noout -ext keyUsage | grep -q "Digital Signature, Key Encipherment" ||
	it_fail "RA certificate keyUsage: $(openssl x509 -in "$D/ra.pem" -noout -ext keyUsage)"

# GetCACert / GetCACaps: the issuing CA first, then the RA, then the root.
expect_rc 0 "$SIGNET" enrol cacerts mdm --out "$D/cacerts.p7"
for cap in POSTPKIOperation AES SHA-256 SHA-512 Renewal SCEPStandard; do
	grep -qx "$cap" "$D/out" || it_fail "GetCACaps lacks $cap: $(cat "$D/out")"
done
openssl pkcs7 -inform DER -in "$D/cacerts.p7" -print_certs -noout >"$D/cacerts.txt" ||
	it_fail "the GetCACert PKCS#7 does not parse"
[[ $(grep '^subject=' "$D/cacerts.txt" | tr '\n' '|') == "subject=CN = SCEP Issuing|subject=CN = signet SCEP RA|subject=CN = SCEP Test Root|" ]] ||
	it_fail "GetCACert order: $(cat "$D/cacerts.txt")"

# The RA key as the token has it.
IT_PIN=$(cat "$SIGNET_USER_PIN_FILE")
export IT_PIN
# p11 TYPE: the lines pkcs11-tool prints for the TYPE object labelled scep-ra
p11() {
	pkcs11-tool --module "$SIGNET_PKCS11_MODULE" --token-label "$IT_LABEL" --login \
		--pin env:IT_PIN --list-objects --type "$1" 2>/dev/null >"$D/p11.txt" ||
		it_fail "pkcs11-tool could not list $1 objects"
	awk '/^(Private|Public) Key Object/ { if (hit) exit; buf = $0 "\n"; next }
		{ buf = buf $0 "\n" } $1 == "label:" { hit = ($2 == "scep-ra") }
		END { if (hit) printf "%s", buf }' "$D/p11.txt"
}
priv=$(p11 privkey)
usage=$(sed -n 's/^[[:space:]]*Usage:[[:space:]]*//p' <<<"$priv")
[[ $usage == "decrypt, sign" ]] || it_fail "RA private key Usage '$usage', wanted 'decrypt, sign'"
access=$(sed -n 's/^[[:space:]]*Access:[[:space:]]*//p' <<<"$priv")
[[ $access == *sensitive* && $access == *"never extractable"* ]] || it_fail "RA private key Access '$access'"
[[ $access != *", extractable"* && $access != extractable* ]] || it_fail "RA private key extractable: '$access'"
usage=$(p11 pubkey | sed -n 's/^[[:space:]]*Usage:[[:space:]]*//p')
[[ $usage == "encrypt, verify" ]] || it_fail "RA public key Usage '$usage', wanted 'encrypt, verify'"

# --- messages ---
# csr NAME CN PASSWORD: NAME.key (made if absent), NAME.csr.der with challengePassword
csr() {
	[[ -f "$D/$1.key" ]] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/$1.key" 2>/dev/null
	printf '[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n[dn]\nCN=%s\n[attrs]\n%s\n' \
		"$2" "${3:+challengePassword=$3}" >"$D/$1.cnf"
	openssl req -new -key "$D/$1.key" -config "$D/$1.cnf" -outform DER -out "$D/$1.csr.der" ||
		it_fail "openssl req for $1"
	openssl req -x509 -new -key "$D/$1.key" -subj "/CN=$2" -days 1 -out "$D/$1.self.pem" 2>/dev/null ||
		it_fail "self-signed certificate for $1"
}
# msg NAME TXID CIPHER [TYPE [SIGNER.pem SIGNER.key [RECIPIENT]]]: NAME.msg, NAME.csr.der
# encrypted to the RA (or RECIPIENT) and signed by its self-signed certificate (or SIGNER)
msg() {
	local name=$1 txid=$2 cipher=$3 type=${4:-19} cert=${5:-$D/$1.self.pem} key=${6:-$D/$1.key}
	# shellcheck disable=SC2086 # the cipher may carry provider options
	openssl cms -encrypt -binary $cipher -in "$D/$name.csr.der" -outform DER \
		-out "$D/$name.env" "${7:-$D/ra.pem}" 2>"$D/cms.err" || it_fail "openssl cms -encrypt: $(cat "$D/cms.err")"
	"$SIGN" "$D/$name.env" "$cert" "$key" "$type" "$txid" "$D/$name.msg" || it_fail "itest_scepsign $name"
}
# scep DOOR NAME WANT: send NAME.msg, expect the printed "STATUS failInfo=F" WANT
scep() {
	expect_rc 0 "$SIGNET" enrol scep "$1" --in "$D/$2.msg" --out "$D/$2.rep"
	[[ $(cat "$D/out") == "$3 txid="* ]] || it_fail "$2 through $1: '$(cat "$D/out")', wanted '$3'"
	# the CertRep verifies with the RA certificate, whatever it says
	openssl cms -verify -binary -inform DER -in "$D/$2.rep" -noverify -certfile "$D/ra.pem" \
		-signer "$D/$2.rep-signer.pem" -out "$D/$2.rep-content" 2>"$D/cms.err" ||
		it_fail "openssl cms -verify of $2's CertRep: $(cat "$D/cms.err")"
	cmp -s <(openssl x509 -in "$D/$2.rep-signer.pem" -outform DER) <(openssl x509 -in "$D/ra.pem" -outform DER) ||
		it_fail "$2's CertRep is not signed by the RA"
}
# issued NAME [KEY]: decrypt NAME's CertRep with the requester's key, the certificate in NAME.cert.pem
issued() {
	openssl cms -decrypt -binary -inform DER -in "$D/$1.rep-content" -inkey "${2:-$D/$1.key}" \
		-out "$D/$1.p7" 2>"$D/cms.err" || it_fail "openssl cms -decrypt of $1's CertRep: $(cat "$D/cms.err")"
	openssl pkcs7 -inform DER -in "$D/$1.p7" -print_certs | awk '/BEGIN/{n++} n==1' >"$D/$1.cert.pem"
	openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$D/$1.cert.pem" >/dev/null 2>&1 ||
		it_fail "openssl verify refuses $1's certificate"
}
ledger_count() { "$SIGNET" ledger list --ca issuing --all | wc -l; }
audit_has() { grep -q "$1" "$D/state/audit.log" || it_fail "the audit log has no line with '$1'"; }

# A good PKCSReq, AES-128: a certificate for the CSR's key, from the issuing CA.
csr dev1 dev-1 secret
msg dev1 tx-dev1 -aes128
scep mdm dev1 "SUCCESS failInfo=none"
issued dev1
openssl x509 -in "$D/dev1.cert.pem" -noout -subject | grep -q "CN = dev-1" || it_fail "dev1 subject"
cmp -s <(openssl x509 -in "$D/dev1.cert.pem" -noout -pubkey) <(openssl pkey -in "$D/dev1.key" -pubout) ||
	it_fail "dev1's certificate is not for its key"
audit_has "txid=tx-dev1 type=PKCSReq pki=SUCCESS"
count=$(ledger_count)

# The same transactionID and CSR again: the same certificate, nothing new recorded.
scep mdm dev1 "SUCCESS failInfo=none"
cp "$D/dev1.cert.pem" "$D/dev1.first.pem"
issued dev1
cmp -s "$D/dev1.cert.pem" "$D/dev1.first.pem" || it_fail "a repeated transactionID got another certificate"
# ... with another key: refused.
csr dev1b dev-1b secret
msg dev1b tx-dev1 -aes128
scep mdm dev1b "FAILURE failInfo=badRequest"

# 3DES is fine; AES-256 too.
csr dev2 dev-2 secret
msg dev2 tx-dev2 -des3
scep mdm dev2 "SUCCESS failInfo=none"
issued dev2
count=$((count + 1))

# Refusals: nothing recorded, each audited with its transactionID.
csr bad bad-1 wrong
msg bad tx-wrongpw -aes256
scep mdm bad "FAILURE failInfo=badRequest"
audit_has "txid=tx-wrongpw type=PKCSReq pki=FAILURE/badRequest"
csr nopw nopw-1 ""
msg nopw tx-nopw -aes128
scep mdm nopw "FAILURE failInfo=badRequest"
# the signature broken: its last byte is the signature's
csr tamp tamp-1 secret
msg tamp tx-tamper -aes128
size=$(stat -c %s "$D/tamp.msg")
last=$(od -An -tu1 -j $((size - 1)) "$D/tamp.msg" | tr -d ' ')
printf "\\$(printf '%03o' $(((last + 1) % 256)))" | dd of="$D/tamp.msg" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
scep mdm tamp "FAILURE failInfo=badMessageCheck"
audit_has "txid=tx-tamper type=PKCSReq pki=FAILURE/badMessageCheck"
# encrypted to another RA's certificate
csr other other-1 secret
msg other tx-otherra -aes128 19 "$D/other.self.pem" "$D/other.key" "$D/other.self.pem"
scep mdm other "FAILURE failInfo=badMessageCheck"
# single DES: badAlg, unless the door allows it
csr des des-1 secret
msg des tx-des "-des -provider legacy -provider default"
scep mdm des "FAILURE failInfo=badAlg"
audit_has "txid=tx-des type=PKCSReq pki=FAILURE/badAlg"
[[ $(ledger_count) -eq $count ]] || it_fail "a refused request was recorded"
scep legacy des "SUCCESS failInfo=none"
issued des
count=$((count + 1))
# not a pkiMessage at all: INVALID_ARGUMENT (13), no CertRep
head -c 200 "$D/dev2.msg" >"$D/trunc.msg"
expect_rc 13 "$SIGNET" enrol scep mdm --in "$D/trunc.msg"
[[ $IT_ERR == *"not a pkiMessage"* ]] || it_fail "truncated: $IT_ERR"

# CertPoll (GetCertInitial) by transactionID: the certificate, or badCertId.
cp "$D/dev2.csr.der" "$D/poll.csr.der"
cp "$D/dev2.key" "$D/poll.key"
cp "$D/dev2.self.pem" "$D/poll.self.pem"
msg poll tx-dev2 -aes128 20
scep mdm poll "SUCCESS failInfo=none"
issued poll
cmp -s <(openssl x509 -in "$D/poll.cert.pem" -outform DER) <(openssl x509 -in "$D/dev2.cert.pem" -outform DER) ||
	it_fail "CertPoll answered another certificate"
msg poll tx-never -aes128 20
scep mdm poll "FAILURE failInfo=badCertId"

# RenewalReq: signed by dev-1's certificate from this CA, for a new key.
csr renew dev-1 ""
msg renew tx-renew -aes128 17 "$D/dev1.cert.pem" "$D/dev1.key"
scep mdm renew "SUCCESS failInfo=none"
issued renew "$D/dev1.key"
count=$((count + 1))
# ... by a self-signed certificate: refused.
msg renew tx-renew2 -aes128 17
scep mdm renew "FAILURE failInfo=badRequest"

# Single-use codes: bound to a device, used once.
expect_rc 0 "$SIGNET" enrol code codes --device-id dev-9
code=$(cut -d' ' -f1 "$D/out")
[[ $code =~ ^[0-9a-f]{32}$ ]] || it_fail "enrol code printed '$(cat "$D/out")'"
! grep -q "$code" "$D/signetd.log" "$D/state/audit.log" || it_fail "the code is in a log"
expect_rc 19 "$SIGNET" enrol code mdm
csr c9 dev-9 "$code"
msg c9 tx-code1 -aes128
scep codes c9 "SUCCESS failInfo=none"
issued c9
count=$((count + 1))
msg c9 tx-code2 -aes128
scep codes c9 "FAILURE failInfo=badRequest"
expect_rc 0 "$SIGNET" enrol code codes --device-id dev-9
csr c10 dev-10 "$(cut -d' ' -f1 "$D/out")"
msg c10 tx-code3 -aes128
scep codes c10 "FAILURE failInfo=badRequest"
grep -q "the code is for device 'dev-9'" "$D/signetd.log" || it_fail "the log does not say why the code was refused"

[[ $(ledger_count) -eq $count ]] || it_fail "the ledger holds $(ledger_count) certificates, wanted $count"
it_stop
echo "scep_messages: ok"
