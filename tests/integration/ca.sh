#!/usr/bin/env bash
# CA hierarchy on the token: a root and three levels of intermediates (as in
# Azure's sample scripts), checked with `openssl verify`; extensions, clamped
# validity, pathLen, refusals; verification certificates for registry codes
# ('signet ca verify-code'); persistence across a restart.
source "$(dirname "$0")/lib.sh"
it_setup
it_start
D="$IT_DIR"

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Signet Test Root/O=Signet" \
	--days 30 --path-len 3 --out "$D/root.pem"
grep -q '^root ' "$D/out" || it_fail "create-root summary: $(cat "$D/out")"
expect_rc 0 "$SIGNET" ca create-intermediate i1 --parent root --alg p384 --subject "/CN=Signet I1" \
	--days 365 --out "$D/i1.pem"
expect_rc 0 "$SIGNET" ca create-intermediate i2 --parent i1 --alg rsa2048 --subject "/CN=Signet I2" \
	--out "$D/i2.pem"
expect_rc 0 "$SIGNET" ca create-intermediate i3 --parent i2 --alg p256 --subject "/CN=Signet I3" \
	--path-len 0 --out "$D/i3.pem"

# the chain: i3 first, root last, and openssl accepts it
expect_rc 0 "$SIGNET" ca chain i3 --out "$D/chain.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/chain.pem") -eq 4 ]] || it_fail "chain of i3 is not 4 certificates"
cmp <(openssl x509 -in "$D/chain.pem" -outform DER) <(openssl x509 -in "$D/i3.pem" -outform DER) ||
	it_fail "chain does not start with i3"
cat "$D/i1.pem" "$D/i2.pem" >"$D/untrusted.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/untrusted.pem" "$D/i3.pem" | grep -q ': OK' ||
	it_fail "openssl verify rejects root -> i1 -> i2 -> i3"
openssl verify -CAfile "$D/root.pem" "$D/i3.pem" >/dev/null 2>&1 &&
	it_fail "i3 verified without its intermediates"

# extensions (RFC 5280 and Azure's CA profile)
openssl x509 -in "$D/root.pem" -noout -text >"$D/root.txt"
grep -A1 'Basic Constraints: critical' "$D/root.txt" | grep -q 'CA:TRUE, pathlen:3' || it_fail "root basicConstraints"
grep -A1 'Key Usage: critical' "$D/root.txt" | grep -q 'Digital Signature, Certificate Sign, CRL Sign' ||
	it_fail "root keyUsage"
grep -q 'Subject Key Identifier' "$D/root.txt" || it_fail "root has no SKI"
root_ski=$(openssl x509 -in "$D/root.pem" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')
i1_aki=$(openssl x509 -in "$D/i1.pem" -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' ' | sed 's/^keyid://')
[[ -n $root_ski && $root_ski == "$i1_aki" ]] || it_fail "i1's AKI ($i1_aki) is not the root's SKI ($root_ski)"
openssl x509 -in "$D/i1.pem" -noout -text | grep -q 'ecdsa-with-SHA256' || it_fail "i1 not signed by the P-256 root with SHA-256"
openssl x509 -in "$D/i2.pem" -noout -text | grep -q 'ecdsa-with-SHA384' || it_fail "i2 not signed by the P-384 i1 with SHA-384"
serial_ok "$D/i1.pem" || it_fail "serial $(openssl x509 -in "$D/i1.pem" -noout -serial) is not 64-160 bits"

# pathLen is clamped like validity: root 3 -> i1 2 -> i2 1 -> i3 0 (asked)
openssl x509 -in "$D/i1.pem" -noout -ext basicConstraints | grep -q 'pathlen:2' || it_fail "i1 pathLen not clamped to 2"
openssl x509 -in "$D/i2.pem" -noout -ext basicConstraints | grep -q 'pathlen:1' || it_fail "i2 pathLen not clamped to 1"

# a child never outlives its parent: i1 asked for 365 days under a 30-day root
[[ "$(openssl x509 -in "$D/i1.pem" -noout -enddate)" == "$(openssl x509 -in "$D/root.pem" -noout -enddate)" ]] ||
	it_fail "i1 outlives the root"

# the CA keys are on the token, sensitive and not extractable
expect_rc 0 "$SIGNET" key list
grep '^ca.root ' "$D/out" | grep -q 'sensitive=yes extractable=no' || it_fail "ca.root key not listed as sensitive"

# refusals
expect_rc 19 "$SIGNET" ca create-intermediate i4 --parent i3 --alg p256 --subject "/CN=I4"
[[ $IT_ERR == *pathLen* ]] || it_fail "pathLen refusal does not say so: $IT_ERR"
expect_rc 16 "$SIGNET" ca create-root root --alg p256 --subject "/CN=again"
expect_rc 15 "$SIGNET" ca create-intermediate orphan --parent nobody --alg p256 --subject "/CN=x"
expect_rc 13 "$SIGNET" ca create-root bad --alg p256 --subject "CN=no-slash"
expect_rc 13 "$SIGNET" ca create-root "bad name" --alg p256 --subject "/CN=x"
expect_rc 15 "$SIGNET" ca chain nobody
# a refused CA leaves no key behind
expect_rc 0 "$SIGNET" key list
grep -q '^ca.bad ' "$D/out" && it_fail "a refused CA left its key on the token"

# verification certificates for registry codes (Azure IoT "verify certificate", AWS IoT
# registration code): CN = the code exactly, CA:FALSE, signed by the CA's token key.
# vroot outlives the default 30 days, which the 30-day root above would clamp.
expect_rc 0 "$SIGNET" ca create-root vroot --alg p384 --subject "/CN=Signet Verify Root" --out "$D/vroot.pem"
check_vcode() { # CERT CODE ROOT [UNTRUSTED]: what a registry checks
	local subject untrusted=()
	[[ -n ${4:-} ]] && untrusted=(-untrusted "$4")
	subject=$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253)
	[[ $subject == "subject=CN=$2" ]] || it_fail "verification certificate subject is '$subject', not CN=$2"
	openssl x509 -in "$1" -noout -ext basicConstraints | grep -q 'CA:FALSE' ||
		it_fail "verification certificate for $2 is a CA"
	openssl verify -CAfile "$3" "${untrusted[@]}" "$1" | grep -q ': OK' ||
		it_fail "verification certificate for $2 does not verify under $3"
}
# lifetime DAYS CERT: notAfter is DAYS days from now (give or take a minute)
lifetime() {
	openssl x509 -in "$2" -noout -checkend $(($1 * 86400 - 120)) >/dev/null ||
		it_fail "$2 ends more than 2 minutes before $1 days"
	openssl x509 -in "$2" -noout -checkend $(($1 * 86400 + 120)) >/dev/null &&
		it_fail "$2 lives longer than $1 days"
	return 0
}
expect_rc 0 "$SIGNET" ca verify-code vroot 0123456789ABCDEF --out "$D/verify.pem"
[[ ! -s "$D/out" ]] || it_fail "verify-code --out also printed: $(cat "$D/out")"
check_vcode "$D/verify.pem" 0123456789ABCDEF "$D/vroot.pem"
lifetime 30 "$D/verify.pem"
openssl x509 -in "$D/verify.pem" -noout -text | grep -q 'ecdsa-with-SHA384' ||
	it_fail "verification certificate not signed by the P-384 root with SHA-384"
# --days, an AWS registration code (64 hex digits), PEM on standard output
aws_code=$(openssl rand -hex 32)
expect_rc 0 "$SIGNET" ca verify-code vroot "$aws_code" --days 7
cp "$D/out" "$D/verify-aws.pem"
check_vcode "$D/verify-aws.pem" "$aws_code" "$D/vroot.pem"
lifetime 7 "$D/verify-aws.pem"
# DER, and an intermediate three levels down: verifies under its chain
expect_rc 0 "$SIGNET" ca verify-code i3 "az.Code_1-x" --der --out "$D/verify-i3.der"
openssl x509 -inform DER -in "$D/verify-i3.der" -out "$D/verify-i3.pem" ||
	it_fail "verify-code --der is not a DER certificate"
check_vcode "$D/verify-i3.pem" "az.Code_1-x" "$D/root.pem" "$D/chain.pem"
openssl verify -CAfile "$D/vroot.pem" "$D/verify-i3.pem" >/dev/null 2>&1 &&
	it_fail "i3's verification certificate verifies under another root"
# a fresh throwaway key each time: two certificates for one code share no key
expect_rc 0 "$SIGNET" ca verify-code vroot 0123456789ABCDEF --out "$D/verify2.pem"
[[ "$(openssl x509 -in "$D/verify.pem" -noout -pubkey)" != "$(openssl x509 -in "$D/verify2.pem" -noout -pubkey)" ]] ||
	it_fail "two verification certificates share a key"
# refusals, each naming its rule; a refusal leaves --out untouched
echo untouched >"$D/keep.pem"
expect_rc 13 "$SIGNET" ca verify-code vroot 'bad code!' --out "$D/keep.pem"
[[ $IT_ERR == *"verification codes are 1-64 characters of A-Z a-z 0-9 . _ -"* ]] ||
	it_fail "a bad code is not refused by its rule: $IT_ERR"
[[ $(cat "$D/keep.pem") == untouched ]] || it_fail "a refused verify-code wrote its --out file"
expect_rc 13 "$SIGNET" ca verify-code vroot "${aws_code}0"
[[ $IT_ERR == *"1-64 characters"* ]] || it_fail "a 65-character code is not refused by its rule: $IT_ERR"
expect_rc 13 "$SIGNET" ca verify-code vroot ""
expect_rc 15 "$SIGNET" ca verify-code nobody 0123456789ABCDEF
[[ $IT_ERR == *nobody* ]] || it_fail "unknown CA refusal does not name it: $IT_ERR"
expect_rc 2 "$SIGNET" ca verify-code vroot 0123456789ABCDEF --days 366
[[ $IT_ERR == *"from 1 to 365"* ]] || it_fail "--days 366 refusal does not give the limit: $IT_ERR"
expect_rc 2 "$SIGNET" ca verify-code vroot
# no key left behind by the throwaway keys: only CA keys on the token
expect_rc 0 "$SIGNET" key list
grep -qv '^ca\.' "$D/out" && it_fail "verify-code left a key on the token: $(cat "$D/out")"

# ca list is sorted by name, not in the order the CAs were made (root, i1, i2, i3, vroot)
# nor in the order the state directory is read after a restart
ca_names() { cut -d' ' -f1 "$D/out" | tr '\n' ' '; }
expect_rc 0 "$SIGNET" ca list
[[ $(ca_names) == "i1 i2 i3 root vroot " ]] || it_fail "ca list not sorted by name: $(ca_names)"

# everything survives a restart
it_stop
it_start
expect_rc 0 "$SIGNET" ca list
[[ $(wc -l <"$D/out") -eq 5 ]] || it_fail "ca list after restart: $(cat "$D/out")"
[[ $(ca_names) == "i1 i2 i3 root vroot " ]] || it_fail "ca list after restart not sorted by name: $(ca_names)"
grep '^i3 ' "$D/out" | grep -q 'parent=i2' || it_fail "i3's parent lost: $(cat "$D/out")"
grep '^root ' "$D/out" | grep -q 'parent=-' || it_fail "root has a parent: $(cat "$D/out")"
expect_rc 0 "$SIGNET" ca chain i3 --out "$D/chain2.pem"
cmp "$D/chain.pem" "$D/chain2.pem" || it_fail "chain changed across a restart"
# and the restored CAs still sign
expect_rc 0 "$SIGNET" ca create-intermediate i3b --parent i2 --alg p256 --subject "/CN=Signet I3b" --out "$D/i3b.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/untrusted.pem" "$D/i3b.pem" | grep -q ': OK' ||
	it_fail "a CA created after the restart does not verify"
it_stop
echo "ca: ok"
