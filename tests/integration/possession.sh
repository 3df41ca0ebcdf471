#!/usr/bin/env bash
# Proof of possession, server side: challenge -> device signature (a token
# key through SignNonce, a file key through openssl dgst) -> VerifyPossession,
# and every way it must fail, each with its own status and message: replay,
# expiry, wrong device, another key's signature, a missing intermediate, an
# expired leaf, a leaf without digitalSignature, a revoked intermediate, an
# untrusted root, malformed signatures, too many outstanding challenges.
# VerifyChain on its own. The daemon keeps serving throughout.
# SIGNET_TEST_BACKEND=pg: the records (and the shared challenges) on PostgreSQL.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"

# --- an outside CA the config trusts (xroot), and one it does not (yroot) ---
outside_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$1.key" \
		-subj "/CN=Outside $1" -days 365 -out "$D/$1.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>/dev/null
	mkdir -p "$D/$1.db"
	: >"$D/$1.db/index.txt"
	cat >"$D/$1.cnf" <<EOF
[ca]
default_ca = this
[this]
database = $D/$1.db/index.txt
new_certs_dir = $D/$1.db
certificate = $D/$1.pem
private_key = $D/$1.key
serial = $D/$1.db/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[agreement]
basicConstraints = CA:FALSE
keyUsage = critical, keyAgreement
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	openssl rand -hex 8 >"$D/$1.db/serial"
}
# outside_leaf CA NAME EXTENSIONS [START END]: a device of an outside CA
outside_leaf() {
	local dates=()
	[[ -n ${4:-} ]] && dates=(-startdate "$4" -enddate "$5")
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/$2.key" 2>/dev/null
	openssl req -new -key "$D/$2.key" -subj "/CN=$2" -out "$D/$2.csr"
	openssl ca -batch -config "$D/$1.cnf" -extensions "$3" -in "$D/$2.csr" -out "$D/$2.pem" \
		-days 30 "${dates[@]}" 2>"$D/ca.log" || it_fail "openssl ca: $(cat "$D/ca.log")"
}
outside_ca xroot
outside_ca yroot
cat >>"$D/signetd.conf" <<EOF
possession: {
  trust_anchors = "$D/xroot.pem";
  max_challenges_per_caller = 5;
};
EOF
it_records_group >>"$D/signetd.conf"
it_start

fingerprint_of() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
# challenge DEVICE-ID: a new challenge, its id in $CH and nonce in $D/nonce
challenge() {
	expect_rc 0 "$SIGNET" challenge create --device-id "$1" --nonce-out "$D/nonce" "${@:2}"
	CH=$(cut -d' ' -f1 "$D/out")
	[[ $CH =~ ^[0-9a-f]{32}$ ]] || it_fail "challenge create printed: $(cat "$D/out")"
	[[ $(stat -c %s "$D/nonce") -ge 32 ]] || it_fail "a nonce of fewer than 32 bytes"
}
# verify WANT CHAIN SIG [options]: VerifyPossession of $CH
verify() { expect_rc "$1" "$SIGNET" challenge verify "$CH" --chain "$2" --sig "$3" "${@:4}"; }
file_sign() { openssl dgst -sha256 -sign "$D/$1.key" -out "$D/sig" "$D/nonce"; }

# --- the signet hierarchy and two devices: a token key and a file key ---
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=PoP Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate inter --parent root --alg p384 --subject "/CN=PoP Inter" \
	--out "$D/inter.pem"
expect_rc 0 "$SIGNET" key generate --alg p256 dev-tok
expect_rc 0 "$SIGNET" csr dev-tok --subject /CN=dev-tok --out "$D/dev-tok.csr"
expect_rc 0 "$SIGNET" issue --ca inter --profile device --csr "$D/dev-tok.csr" --out "$D/dev-tok.pem"
cat "$D/dev-tok.pem" "$D/inter.pem" >"$D/dev-tok.chain"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/dev-file.key" 2>/dev/null
openssl req -new -key "$D/dev-file.key" -subj /CN=dev-file -out "$D/dev-file.csr"
expect_rc 0 "$SIGNET" issue --ca inter --profile device --csr "$D/dev-file.csr" --out "$D/dev-file.pem"
cat "$D/dev-file.pem" "$D/inter.pem" "$D/root.pem" >"$D/dev-file.chain"

# --- too many outstanding challenges (short-lived, so they do not linger) ---
# (long enough that a loaded machine cannot expire the first before the sixth)
for _ in 1 2 3 4 5; do challenge dev-tok --ttl 4; done
expect_rc 18 "$SIGNET" challenge create --device-id dev-tok
[[ $IT_ERR == *"outstanding"* ]] || it_fail "the limit's message: $IT_ERR"
sleep 5

# --- the round: token key (SignNonce), DER and raw r||s ---
challenge dev-tok
expect_rc 0 "$SIGNET" sign dev-tok --in "$D/nonce" --out "$D/sig"
verify 0 "$D/dev-tok.chain" "$D/sig"
grep -q "^OK device=dev-tok fingerprint=$(fingerprint_of "$D/dev-tok.pem") serial=.* ca=inter$" "$D/out" ||
	it_fail "verify output: $(cat "$D/out")"
verify 19 "$D/dev-tok.chain" "$D/sig"
[[ $IT_ERR == *"already used"* ]] || it_fail "a replay: $IT_ERR"
challenge dev-tok
expect_rc 0 "$SIGNET" sign dev-tok --in "$D/nonce" --out "$D/sig" --format raw
verify 0 "$D/dev-tok.chain" "$D/sig" --format raw

# --- the round: file key (openssl dgst), bound to the certificate's fingerprint ---
expect_rc 0 "$SIGNET" challenge create --fingerprint "$(fingerprint_of "$D/dev-file.pem")" --nonce-out "$D/nonce"
CH=$(cut -d' ' -f1 "$D/out")
file_sign dev-file
verify 0 "$D/dev-file.chain" "$D/sig"
grep -q "^OK device=dev-file " "$D/out" || it_fail "verify output: $(cat "$D/out")"

# --- each failure, with its status and message ---
challenge dev-tok --ttl 1
expect_rc 0 "$SIGNET" sign dev-tok --in "$D/nonce" --out "$D/sig"
sleep 2
verify 19 "$D/dev-tok.chain" "$D/sig"
[[ $IT_ERR == *"expired"* ]] || it_fail "an expired challenge: $IT_ERR"

challenge dev-tok # answered by the other device, with its own valid certificate and key
file_sign dev-file
verify 17 "$D/dev-file.chain" "$D/sig"
[[ $IT_ERR == *"check 'device'"*"dev-file"*"leaf sha256"* ]] || it_fail "wrong device: $IT_ERR"

challenge dev-file # signed by another key
expect_rc 0 "$SIGNET" sign dev-tok --in "$D/nonce" --out "$D/sig"
verify 26 "$D/dev-file.chain" "$D/sig"
[[ $IT_ERR == *"does not verify"* ]] || it_fail "another key's signature: $IT_ERR"

challenge dev-file # the intermediate left out
file_sign dev-file
verify 26 "$D/dev-file.pem" "$D/sig"
[[ $IT_ERR == *"check 'chain'"*"local issuer"* ]] || it_fail "missing intermediate: $IT_ERR"

outside_leaf xroot x-expired client 20200101000000Z 20200201000000Z
challenge x-expired
file_sign x-expired
verify 26 "$D/x-expired.pem" "$D/sig"
[[ $IT_ERR == *"check 'chain'"*"expired"* ]] || it_fail "expired leaf: $IT_ERR"

outside_leaf xroot x-agree agreement
challenge x-agree
file_sign x-agree
verify 26 "$D/x-agree.pem" "$D/sig"
[[ $IT_ERR == *"check 'key usage'"* ]] || it_fail "leaf without digitalSignature: $IT_ERR"

outside_leaf yroot y-dev client
challenge y-dev
file_sign y-dev
verify 26 "$D/y-dev.pem" "$D/sig"
[[ $IT_ERR == *"check 'chain'"* ]] || it_fail "untrusted root: $IT_ERR"

outside_leaf xroot x-dev client # a configured anchor's device passes
challenge x-dev
file_sign x-dev
verify 0 "$D/x-dev.pem" "$D/sig"
grep -q "^OK device=x-dev .* ca=-$" "$D/out" || it_fail "outside device: $(cat "$D/out")"

challenge dev-file # malformed signatures
file_sign dev-file
head -c 20 "$D/sig" >"$D/short.sig"
verify 13 "$D/dev-file.chain" "$D/short.sig"
[[ $IT_ERR == *"not a DER ECDSA"* ]] || it_fail "truncated signature: $IT_ERR"
challenge dev-file
openssl rand 64 >"$D/junk.sig"
verify 13 "$D/dev-file.chain" "$D/junk.sig"
challenge dev-file
openssl rand 63 >"$D/junk.sig"
verify 13 "$D/dev-file.chain" "$D/junk.sig" --format raw
challenge dev-file
verify 13 "$D/dev-file.chain" "$D/sig" --format pss
CH=00112233445566778899aabbccddeeff
verify 15 "$D/dev-file.chain" "$D/sig"

# --- VerifyChain on its own ---
expect_rc 0 "$SIGNET" verify-chain --chain "$D/dev-file.chain" --path-out "$D/path.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/path.pem") -eq 3 ]] || it_fail "the verified path is not leaf, inter, root"
expect_rc 26 "$SIGNET" verify-chain --chain "$D/dev-file.chain" --purpose server
expect_rc 0 "$SIGNET" verify-chain --chain <(cat "$D/inter.pem" "$D/root.pem") --purpose ca
expect_rc 13 "$SIGNET" verify-chain --chain "$D/nonce"

# --- two signetd on one state directory, sharing their challenges: a round
# may be answered through either, once, as an endpoint list balances it ---
it_stop
sed -i 's/^  max_challenges_per_caller = 5;/&\n  shared_challenges = true;/' "$D/signetd.conf"
grep -q shared_challenges "$D/signetd.conf" || it_fail "config: shared_challenges not added"
EP_A=$SIGNET_ENDPOINT EP_B="ipc://$D/b.sock" B_PID=""
# B: A's config with its own socket and audit log (in A's records group)
sed -e "s|$EP_A|$EP_B|" -e "s|^records: {\$|&\n  audit_log = \"$D/audit-b.log\";|" "$D/signetd.conf" >"$D/b.conf"
grep -q audit-b.log "$D/b.conf" || it_fail "config: B's audit_log not added"
trap '[[ -z $B_PID ]] || kill -KILL "$B_PID" 2>/dev/null; it_cleanup' EXIT
it_start
"$SIGNETD" --config "$D/b.conf" >>"$D/b.log" 2>&1 &
B_PID=$!
for _ in $(seq 1 100); do
	"$SIGNET" --endpoint "$EP_B" --timeout 1000 health >/dev/null 2>&1 && break
	kill -0 "$B_PID" 2>/dev/null || it_fail "signetd B exited: $(cat "$D/b.log")"
	sleep 0.1
done
challenge dev-tok # through A
expect_rc 0 "$SIGNET" sign dev-tok --in "$D/nonce" --out "$D/sig"
SIGNET_ENDPOINT=$EP_B verify 0 "$D/dev-tok.chain" "$D/sig"
verify 19 "$D/dev-tok.chain" "$D/sig" # through A: spent through B
[[ $IT_ERR == *"already used"* ]] || it_fail "a replay through the other daemon: $IT_ERR"
SIGNET_ENDPOINT=$EP_B challenge dev-file
file_sign dev-file
verify 0 "$D/dev-file.chain" "$D/sig"
for _ in 1 2 3 4 5 6; do
	SIGNET_ENDPOINT="$EP_A,$EP_B" challenge dev-file
	file_sign dev-file
	SIGNET_ENDPOINT="$EP_A,$EP_B" verify 0 "$D/dev-file.chain" "$D/sig"
done
grep -q '"method":"VerifyPossession".*"status":"OK"' "$D/audit-b.log" ||
	it_fail "B's verdict is not in its audit trail"
kill -TERM "$B_PID"
wait "$B_PID" || it_fail "signetd B exited with $? after SIGTERM"
B_PID=""

# --- a revoked intermediate cuts its devices off ---
expect_rc 0 "$SIGNET" revoke root "$(openssl x509 -in "$D/inter.pem" -noout -serial | cut -d= -f2)"
challenge dev-tok
expect_rc 0 "$SIGNET" sign dev-tok --in "$D/nonce" --out "$D/sig"
verify 26 "$D/dev-tok.chain" "$D/sig"
[[ $IT_ERR == *"check 'revocation'"*"PoP Inter"* ]] || it_fail "revoked intermediate: $IT_ERR"
expect_rc 26 "$SIGNET" verify-chain --chain "$D/dev-file.chain" --check-revocation
expect_rc 0 "$SIGNET" verify-chain --chain "$D/dev-file.chain"

# every verdict is in the audit trail, and the daemon still serves
grep -q '"method":"VerifyPossession".*"status":"UNAUTHENTICATED"' "$D/state/audit.log" ||
	it_fail "refused possession is not audited"
expect_rc 0 "$SIGNET" health
it_stop
echo "possession: OK"
