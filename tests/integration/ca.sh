#!/usr/bin/env bash
# CA hierarchy on the token: a root and three levels of intermediates (as in
# Azure's sample scripts), checked with `openssl verify`; extensions, clamped
# validity, pathLen, refusals; persistence across a restart.
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

# a verification certificate for a registry code (no CLI verb yet: a hand-made request)
verification_request() { # CA CODE -> Envelope bytes (protobuf, lengths < 128)
	local payload
	payload=$(printf "\\x0a\\x$(printf %02x "${#1}")%s\\x12\\x$(printf %02x "${#2}")%s" "$1" "$2")
	printf '\x08\x01\x12\x1cIssueVerificationCertificate\x1a\x10'
	head -c 16 /dev/zero
	printf "\\x2a\\x$(printf %02x "${#payload}")%s" "$payload"
}
verification_request i1 0123456789ABCDEF >"$D/verify.req"
timeout 20 nanocat --req --connect "$SIGNET_ENDPOINT" -F "$D/verify.req" --raw --recv-timeout 10 >"$D/verify.rep" ||
	it_fail "no reply to IssueVerificationCertificate"
# the reply is binary protobuf: cut the PEM text out of it
LC_ALL=C sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/{
	s/.*-----BEGIN CERTIFICATE-----/-----BEGIN CERTIFICATE-----/
	s/-----END CERTIFICATE-----.*/-----END CERTIFICATE-----/
	p
}' "$D/verify.rep" >"$D/verify.pem"
openssl x509 -in "$D/verify.pem" -noout -subject | grep -q 'CN *= *0123456789ABCDEF' ||
	it_fail "verification certificate CN is not the code"
openssl x509 -in "$D/verify.pem" -noout -ext basicConstraints | grep -q 'CA:FALSE' ||
	it_fail "verification certificate is a CA"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/i1.pem" "$D/verify.pem" | grep -q ': OK' ||
	it_fail "verification certificate does not verify under i1"
verification_request i1 'bad code!' >"$D/verify-bad.req"
timeout 20 nanocat --req --connect "$SIGNET_ENDPOINT" -F "$D/verify-bad.req" --raw --recv-timeout 10 |
	grep -q 'verification codes are' || it_fail "a bad code is not refused"

# everything survives a restart
it_stop
it_start
expect_rc 0 "$SIGNET" ca list
[[ $(wc -l <"$D/out") -eq 4 ]] || it_fail "ca list after restart: $(cat "$D/out")"
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
