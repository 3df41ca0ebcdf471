#!/usr/bin/env bash
# Issuance: CSRs signed by signet CAs under the built-in profiles and one from
# the config, checked field by field with OpenSSL; every refusal the profiles
# make, with its exit code and a message naming the rule.
source "$(dirname "$0")/lib.sh"
it_setup
cat >>"$IT_DIR/signetd.conf" <<'CONF'
profiles: {
  # a factory line's own rule: serial-number CNs, short-lived, subject may be set by the line
  factory: {
    base = "device";
    max_days = 30;
    default_days = 7;
    subject: { cn_pattern = "SN-[0-9]{6}"; allow_override = true; };
  };
};
CONF
it_start
D="$IT_DIR"

# openssl_csr NAME SUBJECT KEYSPEC [openssl req args...]: a key and a CSR made outside signet
openssl_csr() {
	local name=$1 subject=$2 spec=$3
	shift 3
	# shellcheck disable=SC2086 # the key spec is several options
	openssl genpkey $spec -out "$D/$name.key" 2>/dev/null
	openssl req -new -key "$D/$name.key" -subj "$subject" -out "$D/$name.csr" "$@"
}
P256="-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
P384="-algorithm EC -pkeyopt ec_paramgen_curve:P-384"
RSA2048="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"

# field CERT EXTENSION: the extension's lines from openssl x509 -ext
field() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null; }
ski() { field "$1" subjectKeyIdentifier | tail -1 | tr -d ' '; }
aki() { field "$1" authorityKeyIdentifier | tail -1 | tr -d ' ' | sed 's/^keyid://'; }
not_after() { date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
not_before() { date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s; }

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Issue Test Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate i1 --parent root --alg p256 --subject "/CN=Issue I1"
expect_rc 0 "$SIGNET" ca create-intermediate i2 --parent i1 --alg p384 --subject "/CN=Issue I2"
expect_rc 0 "$SIGNET" ca create-intermediate i3 --parent i2 --alg rsa2048 --subject "/CN=Issue I3"
expect_rc 0 "$SIGNET" ca create-intermediate short --parent root --alg p256 --subject "/CN=Short" --days 2

# --- device: a key made outside the daemon, as on a real device ---
openssl_csr dev1 "/CN=factory-dev-0001/O=Example" "$P256"
before=$(date +%s)
expect_rc 0 "$SIGNET" issue --ca i2 --profile device --csr "$D/dev1.csr" --out "$D/dev1.pem" --chain "$D/i2-chain.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/i2-chain.pem") -eq 3 ]] || it_fail "the chain of i2 is not i2, i1, root"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/i2-chain.pem" "$D/dev1.pem" | grep -q ': OK' ||
	it_fail "openssl verify rejects the device certificate"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/i2-chain.pem" -purpose sslclient "$D/dev1.pem" >/dev/null ||
	it_fail "the device certificate is not fit for TLS client authentication"
[[ $(openssl x509 -in "$D/dev1.pem" -noout -subject -nameopt RFC2253) == "subject=O=Example,CN=factory-dev-0001" ]] ||
	it_fail "device subject: $(openssl x509 -in "$D/dev1.pem" -noout -subject)"
openssl x509 -in "$D/dev1.pem" -noout -text >"$D/dev1.txt"
grep -A1 'Key Usage: critical' "$D/dev1.txt" | grep -qx ' *Digital Signature' || it_fail "device keyUsage: $(grep -A1 'Key Usage' "$D/dev1.txt")"
grep -A1 'Extended Key Usage' "$D/dev1.txt" | grep -qx ' *TLS Web Client Authentication' || it_fail "device EKU"
grep -A1 'Basic Constraints: critical' "$D/dev1.txt" | grep -q 'CA:FALSE' && it_fail "an end entity's basicConstraints is critical"
grep -A1 'Basic Constraints' "$D/dev1.txt" | grep -q 'CA:FALSE' || it_fail "device basicConstraints is not CA:FALSE"
grep -q 'Subject Alternative Name' "$D/dev1.txt" && it_fail "device certificate has SANs nobody asked for"
grep -q 'Signature Algorithm: ecdsa-with-SHA384' "$D/dev1.txt" || it_fail "not signed with SHA-384 by the P-384 CA"
openssl x509 -in "$D/i2-chain.pem" >"$D/i2.pem"
[[ -n $(ski "$D/dev1.pem") ]] || it_fail "device certificate has no SKI"
[[ $(aki "$D/dev1.pem") == "$(ski "$D/i2.pem")" ]] || it_fail "device AKI is not i2's SKI"
serial_ok "$D/dev1.pem" || it_fail "serial $(openssl x509 -in "$D/dev1.pem" -noout -serial): not positive 64-160 bits"
# notBefore backdated for clock skew, but never before the CA's own (created a moment ago)
nb=$(not_before "$D/dev1.pem") na=$(not_after "$D/dev1.pem")
((nb < before && nb >= $(not_before "$D/i2.pem"))) || it_fail "notBefore is not backdated within the CA's validity"
((na - before >= 365 * 86400 - 10 && na - before <= 365 * 86400 + 10)) || it_fail "default validity is not 365 days"
cmp <(openssl x509 -in "$D/dev1.pem" -noout -pubkey) <(openssl pkey -in "$D/dev1.key" -pubout) ||
	it_fail "the certificate does not carry the CSR's key"
# a second certificate for the same CSR gets another serial
expect_rc 0 "$SIGNET" issue --ca i2 --profile device --csr "$D/dev1.csr" --out "$D/dev1b.pem"
[[ $(openssl x509 -in "$D/dev1b.pem" -noout -serial) != "$(openssl x509 -in "$D/dev1.pem" -noout -serial)" ]] ||
	it_fail "two certificates share a serial"

# --- root -> 3 intermediates -> device, as Azure's sample scripts build it ---
expect_rc 0 "$SIGNET" issue --ca i3 --profile device --csr "$D/dev1.csr" --out "$D/deep.pem" --chain "$D/i3-chain.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/i3-chain.pem") -eq 4 ]] || it_fail "the chain of i3 is not 4 certificates"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/i3-chain.pem" "$D/deep.pem" | grep -q ': OK' ||
	it_fail "a device under root -> i1 -> i2 -> i3 does not verify"
openssl x509 -in "$D/deep.pem" -noout -text | grep -q 'Signature Algorithm: sha256WithRSAEncryption' ||
	it_fail "not signed by the RSA i3"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/i2-chain.pem" "$D/deep.pem" >/dev/null 2>&1 &&
	it_fail "a device of i3 verified without i3"

# --- device: a key made on the token, its CSR from signet, DER output ---
expect_rc 0 "$SIGNET" key generate dev2 --alg p256
expect_rc 0 "$SIGNET" csr dev2 --subject "/CN=dev-2" --out "$D/dev2.csr"
expect_rc 0 "$SIGNET" issue --ca i1 --profile device --csr - --der --out "$D/dev2.der" <"$D/dev2.csr"
openssl x509 -inform DER -in "$D/dev2.der" -out "$D/dev2.pem"
expect_rc 0 "$SIGNET" ca chain i1 --out "$D/i1-chain.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/i1-chain.pem" "$D/dev2.pem" | grep -q ': OK' ||
	it_fail "token-key device certificate does not verify"
expect_rc 0 "$SIGNET" key pub dev2 --out "$D/dev2.pub"
cmp <(openssl x509 -in "$D/dev2.pem" -noout -pubkey) "$D/dev2.pub" || it_fail "not the token key's certificate"

# --- device with an RSA key: keyEncipherment too (TLS 1.2 RSA key exchange) ---
openssl_csr rsa "/CN=dev-rsa" "$RSA2048"
expect_rc 0 "$SIGNET" issue --ca i1 --profile device --csr "$D/rsa.csr" --out "$D/rsa.pem"
field "$D/rsa.pem" keyUsage | grep -q 'Digital Signature, Key Encipherment' || it_fail "RSA device keyUsage"

# --- CSR extensions are never copied: a CSR asking to be a CA gets CA:FALSE ---
openssl_csr greedy "/CN=greedy-1" "$P256" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign" -addext "extendedKeyUsage=codeSigning"
expect_rc 0 "$SIGNET" issue --ca i1 --profile device --csr "$D/greedy.csr" --out "$D/greedy.pem"
field "$D/greedy.pem" basicConstraints | grep -q 'CA:FALSE' || it_fail "a CSR's basicConstraints was copied"
field "$D/greedy.pem" keyUsage | grep -q 'Certificate Sign' && it_fail "a CSR's keyUsage was copied"
field "$D/greedy.pem" extendedKeyUsage | grep -q 'Code Signing' && it_fail "a CSR's EKU was copied"

# --- validity never beyond the CA's ---
expect_rc 0 "$SIGNET" ca chain short --out "$D/short-chain.pem"
expect_rc 0 "$SIGNET" issue --ca short --profile device --csr "$D/dev1.csr" --days 300 --out "$D/clamped.pem"
[[ $(not_after "$D/clamped.pem") == $(not_after "$D/short-chain.pem") ]] || it_fail "device outlives its CA"

# --- constrained-device: P-256, ecdsa-with-SHA256, digitalSignature only ---
openssl_csr coap "/CN=sensor-0042" "$P256"
expect_rc 0 "$SIGNET" issue --ca i1 --profile constrained-device --csr "$D/coap.csr" --out "$D/coap.pem"
openssl x509 -in "$D/coap.pem" -noout -text >"$D/coap.txt"
grep -q 'Signature Algorithm: ecdsa-with-SHA256' "$D/coap.txt" || it_fail "constrained: not ecdsa-with-SHA256"
grep -A1 'Key Usage: critical' "$D/coap.txt" | grep -qx ' *Digital Signature' || it_fail "constrained keyUsage"
grep -q 'Authority Key Identifier' "$D/coap.txt" || it_fail "constrained: no AKI (RFC 7925)"
openssl_csr coap384 "/CN=sensor-0043" "$P384"
expect_rc 13 "$SIGNET" issue --ca i1 --profile constrained-device --csr "$D/coap384.csr"
[[ $IT_ERR == *"key type EC secp384r1 is not allowed (key_types: p256)"* ]] || it_fail "P-384 refusal: $IT_ERR"
expect_rc 19 "$SIGNET" issue --ca i2 --profile constrained-device --csr "$D/coap.csr"
[[ $IT_ERR == *"CA 'i2' has a p384 key"* ]] || it_fail "P-384 CA refusal: $IT_ERR"
openssl_csr coapsha384 "/CN=sensor-0044" "$P256" -sha384
expect_rc 13 "$SIGNET" issue --ca i1 --profile constrained-device --csr "$D/coapsha384.csr"
[[ $IT_ERR == *csr_signature_hashes* ]] || it_fail "SHA-384 CSR refusal: $IT_ERR"

# --- server: SANs required, serverAuth ---
openssl_csr srv "/CN=broker" "$P256" -addext "subjectAltName=DNS:broker.example.com,DNS:localhost,IP:127.0.0.1"
expect_rc 0 "$SIGNET" issue --ca i1 --profile server --csr "$D/srv.csr" --out "$D/srv.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/i1-chain.pem" -purpose sslserver "$D/srv.pem" >/dev/null ||
	it_fail "the server certificate is not fit for a TLS server"
field "$D/srv.pem" subjectAltName | grep -q 'DNS:broker.example.com, DNS:localhost, IP Address:127.0.0.1' ||
	it_fail "server SANs: $(field "$D/srv.pem" subjectAltName)"
openssl x509 -in "$D/srv.pem" -noout -checkhost localhost | grep -q 'does match' || it_fail "checkhost localhost"
openssl_csr nosan "/CN=broker" "$P256"
expect_rc 13 "$SIGNET" issue --ca i1 --profile server --csr "$D/nosan.csr"
[[ $IT_ERR == *"san.required"* ]] || it_fail "SAN-less server refusal: $IT_ERR"

# --- intermediate: a sub-CA whose key is elsewhere ---
openssl_csr sub "/CN=External Sub CA/O=Example" "$P256"
expect_rc 0 "$SIGNET" issue --ca root --profile intermediate --csr "$D/sub.csr" --out "$D/sub.pem"
field "$D/sub.pem" basicConstraints | grep -q 'CA:TRUE, pathlen:0' || it_fail "intermediate basicConstraints"
openssl verify -CAfile "$D/root.pem" "$D/sub.pem" | grep -q ': OK' || it_fail "intermediate does not verify"
# a leaf it signs (with its own key, outside signet) verifies through it
openssl req -new -key "$D/dev1.key" -subj "/CN=leaf" -out "$D/leaf.csr"
openssl x509 -req -in "$D/leaf.csr" -CA "$D/sub.pem" -CAkey "$D/sub.key" -days 1 -out "$D/leaf.pem" 2>/dev/null
openssl verify -CAfile "$D/root.pem" -untrusted "$D/sub.pem" "$D/leaf.pem" | grep -q ': OK' ||
	it_fail "a leaf of the signed intermediate does not verify"

# --- a profile from the config ---
openssl_csr sn "/CN=SN-123456" "$P256"
expect_rc 0 "$SIGNET" issue --ca i1 --profile factory --csr "$D/sn.csr" --out "$D/sn.pem"
(($(not_after "$D/sn.pem") - $(not_before "$D/sn.pem") <= 7 * 86400 + 400)) || it_fail "factory default_days"
expect_rc 13 "$SIGNET" issue --ca i1 --profile factory --csr "$D/dev1.csr"
[[ $IT_ERR == *"does not match subject.cn_pattern"* ]] || it_fail "factory CN refusal: $IT_ERR"
expect_rc 0 "$SIGNET" issue --ca i1 --profile factory --csr "$D/dev1.csr" --subject "/CN=SN-654321" --out "$D/sn2.pem"
[[ $(openssl x509 -in "$D/sn2.pem" -noout -subject -nameopt RFC2253) == "subject=CN=SN-654321" ]] ||
	it_fail "subject override not applied"
expect_rc 13 "$SIGNET" issue --ca i1 --profile factory --csr "$D/sn.csr" --days 31
[[ $IT_ERR == *"max_days"* ]] || it_fail "factory max_days refusal: $IT_ERR"

# --- refusals ---
# a CSR whose signature does not verify: its subject changed after signing
openssl req -in "$D/dev1.csr" -outform DER -out "$D/dev1.der"
LC_ALL=C sed 's/factory-dev-0001/factory-dev-0002/' "$D/dev1.der" >"$D/forged.der"
cmp -s "$D/dev1.der" "$D/forged.der" && it_fail "the forged CSR is unchanged"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/forged.der"
[[ $IT_ERR == *"signature does not verify"* ]] || it_fail "forged CSR refusal: $IT_ERR"
expect_rc 0 "$SIGNET" issue --ca i1 --profile device --csr "$D/dev1.der" --out /dev/null
head -c 300 /dev/urandom >"$D/garbage.csr"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/garbage.csr"
[[ $IT_ERR == *"not a PKCS#10 request"* ]] || it_fail "garbage refusal: $IT_ERR"
expect_rc 15 "$SIGNET" issue --ca i1 --profile nosuch --csr "$D/dev1.csr"
[[ $IT_ERR == *"known: device, constrained-device, server, intermediate, scep-ra, factory"* ]] || it_fail "unknown profile: $IT_ERR"
expect_rc 15 "$SIGNET" issue --ca nosuch --profile device --csr "$D/dev1.csr"
openssl_csr badid "/CN=bad id." "$P256"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/badid.csr"
[[ $IT_ERR == *"profile 'device': CN 'bad id.' does not match subject.cn_pattern"* ]] || it_fail "CN refusal: $IT_ERR"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/dev1.csr" --days 3651
[[ $IT_ERR == *"over the limit of 3650 (max_days)"* ]] || it_fail "validity refusal: $IT_ERR"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/dev1.csr" --subject "/CN=other"
[[ $IT_ERR == *"subject.allow_override"* ]] || it_fail "override refusal: $IT_ERR"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/srv.csr"
[[ $IT_ERR == *"DNS name 'broker.example.com' is not allowed (san.dns)"* ]] || it_fail "SAN refusal: $IT_ERR"
openssl_csr weak "/CN=weak-1" "-algorithm RSA -pkeyopt rsa_keygen_bits:1024"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/weak.csr"
[[ $IT_ERR == *"key type RSA 1024 is not allowed"* ]] || it_fail "weak key refusal: $IT_ERR"
openssl_csr ed "/CN=ed-1" "-algorithm ED25519"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/ed.csr"
# SHA-1 signatures are refused in every profile, by name; the same key with SHA-256 is fine
for prof in device server; do
	openssl_csr sha1 "/CN=sha1-1" "$RSA2048" -sha1
	openssl req -in "$D/sha1.csr" -noout -text | grep -q sha1WithRSAEncryption || it_fail "openssl made no SHA-1 CSR"
	expect_rc 13 "$SIGNET" issue --ca i1 --profile "$prof" --csr "$D/sha1.csr"
	[[ $IT_ERR == *"INVALID_ARGUMENT"*"signed with SHA-1"* ]] || it_fail "SHA-1 CSR refusal ($prof): $IT_ERR"
done
openssl_csr sha1ec "/CN=sha1-2" "$P256" -sha1
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/sha1ec.csr"
[[ $IT_ERR == *"signed with SHA-1 (ecdsa-with-SHA1)"* ]] || it_fail "SHA-1 ECDSA CSR refusal: $IT_ERR"
openssl req -new -key "$D/sha1.key" -subj "/CN=sha1-1" -sha1 -sigopt rsa_padding_mode:pss -out "$D/pss1.csr"
expect_rc 13 "$SIGNET" issue --ca i1 --profile device --csr "$D/pss1.csr"
[[ $IT_ERR == *"signed with SHA-1 (rsassaPss)"* ]] || it_fail "SHA-1 RSA-PSS CSR refusal: $IT_ERR"
openssl req -new -key "$D/sha1.key" -subj "/CN=sha1-1" -sha256 -out "$D/sha256.csr"
expect_rc 0 "$SIGNET" issue --ca i1 --profile device --csr "$D/sha256.csr" --out /dev/null
expect_rc 2 "$SIGNET" issue --ca i1 --csr "$D/dev1.csr"
expect_rc 1 "$SIGNET" issue --ca i1 --profile device --csr "$D/missing.csr"

# the daemon kept serving through all of it
expect_rc 0 "$SIGNET" health
it_stop
echo "issue: ok"
