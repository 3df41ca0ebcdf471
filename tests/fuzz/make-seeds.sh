#!/usr/bin/env bash
# Regenerate the fuzz targets' fixtures and seed corpora with the openssl CLI:
#
#   tests/fuzz/make-seeds.sh
#
# Writes tests/fuzz/pki/{root,inter}.pem (the anchors fuzz_chainverify loads
# at start-up), corpus/chainverify/* (chains that verify against them, and
# ones that do not) and corpus/csr_profile/* (CSRs: P-256, P-384, RSA-2048,
# with SANs, a CA request, a bad signature; DER and PEM). Fresh keys every
# run, none kept: rerun it as a whole, never for one file, or the chain seeds
# stop verifying. Also corpus/envelope_auth/* (signed envelopes, from
# gen_envelope_auth in a build tree). Files in the corpora that this script does not write
# (regression inputs for bugs found by fuzzing) are left alone.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
pki=$here/pki chains=$here/corpus/chainverify csrs=$here/corpus/csr_profile
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$pki" "$chains" "$csrs"
cd "$tmp"

ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$1" -out "$2" 2>/dev/null; }
rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
der() { openssl "$1" -in "$2" -outform DER; }

# Extensions X509_STRICT wants: SKI everywhere, AKI below the root.
cat >ext.cnf <<'CNF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[sub]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:hub.example.com, IP:10.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# cert NAME CN KEY ISSUER SECTION [SERIAL]: NAME.pem signed by ISSUER.pem/.key
cert() {
	openssl req -new -key "$3" -subj "/CN=$2" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -days 36500 \
		-extfile ext.cnf -extensions "$5" -set_serial "${6:-0x$(openssl rand -hex 8)}" \
		-out "$1.pem" 2>/dev/null
}

ec P-256 root.key
openssl req -new -key root.key -subj "/CN=Fuzz Root" -out root.csr
openssl x509 -req -in root.csr -signkey root.key -days 36500 -extfile ext.cnf -extensions root \
	-set_serial 1 -out root.pem 2>/dev/null
ec P-384 inter.key
cert inter "Fuzz Inter" inter.key root ca
ec P-256 sub.key
cert sub "Vendor Sub-CA" sub.key inter sub
ec P-256 dev1.key
cert dev1 dev-1 dev1.key sub client
rsa dev2.key
cert dev2 dev-2 dev2.key inter client
cert revoked dev-3 dev1.key sub client 0x0123DEAD
cert unknown dev-4 dev1.key sub client 0x01230BAD
ec P-256 srv.key
cert server hub.example.com srv.key inter server

cp root.pem inter.pem "$pki/"
cat dev1.pem sub.pem >"$chains/valid-pem"
{ der x509 dev1.pem; der x509 sub.pem; } >"$chains/valid-der"
der x509 dev2.pem >"$chains/valid-direct-rsa-der"
{ der x509 server.pem; } >"$chains/server-der"
cat dev1.pem sub.pem inter.pem root.pem >"$chains/full-path-pem"
der x509 dev1.pem >"$chains/missing-intermediate-der"
cat revoked.pem sub.pem >"$chains/revoked-pem"
cat unknown.pem sub.pem >"$chains/revocation-unknown-pem"
{ der x509 sub.pem; der x509 dev1.pem; } >"$chains/wrong-order-der"
{
	echo "subject=/CN=dev-1 (as openssl prints it)"
	cat dev1.pem
	printf 'junk between\r\n'
	cat sub.pem
	echo "trailing junk"
} >"$chains/pem-with-junk"
{ cat dev1.pem; openssl req -new -key dev1.key -subj /CN=x; } >"$chains/pem-with-csr-block"
head -c 512 /dev/urandom >"$chains/garbage"
# the longest chain accepted (leaf and 9 sub-CAs: a path of 11 with the
# anchor) and one certificate too many
prev=inter
for i in 1 2 3 4 5 6 7 8 9; do
	ec P-256 "long$i.key"
	cert "long$i" "Long Sub-CA $i" "long$i.key" "$prev" ca
	prev=long$i
done
cert longleaf dev-5 dev1.key long9 client
# (DER: the replay runs every prefix, and PEM's would cost minutes)
for i in 9 8 7 6 5 4 3 2 1; do der x509 "long$i.pem"; done >long-cas.der
{ der x509 longleaf.pem; cat long-cas.der; } >"$chains/longest-der"
{ der x509 longleaf.pem; cat long-cas.der; der x509 sub.pem; } >"$chains/too-long-der"

# CSRs: csr KEY NAME SUBJECT [req options...] -> NAME-der and NAME-pem
csr() {
	local key=$1 name=$2 subj=$3
	shift 3
	openssl req -new -key "$key" -subj "$subj" "$@" -out "$name.csr"
	der req "$name.csr" >"$csrs/$name-der"
}
ec P-256 c256.key
csr c256.key p256 /CN=dev-1/O=Example
cp p256.csr "$csrs/p256-pem"
ec P-384 c384.key
csr c384.key p384-sans /CN=hub.example.com/O=Example -sha384 \
	-addext "subjectAltName=DNS:hub.example.com,DNS:*.example.org,IP:10.0.0.1,IP:2001:db8::1,URI:urn:example:device:1"
cp p384-sans.csr "$csrs/p384-sans-pem"
rsa crsa.key
csr crsa.key rsa2048 /CN=dev-2/serialNumber=1234/C=DE
csr crsa.key rsa2048-email /CN=dev-2 -addext "subjectAltName=email:a@example.com"
csr c256.key ca-request "/CN=Sub CA/O=Example" \
	-addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign"
csr c256.key sans-only / -addext "subjectAltName=DNS:a.example.com"
# a bad signature: the last byte of the DER (inside the signature) flipped
cp "$csrs/p256-der" "$csrs/p256-badsig-der"
printf '%s' "$(tail -c 1 "$csrs/p256-der" | od -An -tx1 | tr -d ' \n')" >last.hex
printf "\\x$(printf '%02x' $((0x$(cat last.hex) ^ 1)))" |
	dd of="$csrs/p256-badsig-der" bs=1 seek=$(($(stat -c %s "$csrs/p256-der") - 1)) conv=notrunc 2>/dev/null
# corpus/envelope_auth: the envelopes of corpus/envelope signed as each
# client of auth_fixture.h (the C generator, from a build tree: $SIGNET_BUILD_DIR
# or build/); deterministic, so a rerun changes nothing unless those did
gen=${SIGNET_BUILD_DIR:-$here/../../build}/tests/fuzz/gen_envelope_auth
if [[ -x $gen ]]; then
	mkdir -p "$here/corpus/envelope_auth"
	"$gen" "$here/corpus/envelope" "$here/corpus/envelope_auth"
else
	echo "corpus/envelope_auth left as it is: build gen_envelope_auth first ($gen)" >&2
fi
echo "seeds written to $chains and $csrs"
