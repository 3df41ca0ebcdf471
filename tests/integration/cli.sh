#!/usr/bin/env bash
# The signet CLI end to end: every verb, outputs checked with openssl, and the
# exit codes scripts rely on (2 usage, 3 no daemon, 10 + gRPC status).
source "$(dirname "$0")/lib.sh"
it_setup
it_start
D="$IT_DIR"

expect_rc 0 "$SIGNET" info
grep -q "$IT_LABEL" "$D/out" || it_fail "info does not name the token"
expect_rc 0 "$SIGNET" health
grep -q SERVING "$D/out" || it_fail "health does not say SERVING"

# keys: generate, duplicate, list, public key in PEM and DER
expect_rc 0 "$SIGNET" key generate --alg p256 cli-dev
expect_rc 16 "$SIGNET" key generate --alg p256 cli-dev
[[ "$IT_ERR" == *ALREADY_EXISTS* ]] || it_fail "duplicate key error does not name the status: $IT_ERR"
expect_rc 0 "$SIGNET" key generate --alg rsa2048 cli-rsa
expect_rc 0 "$SIGNET" key list
grep -q '^cli-dev ' "$D/out" || it_fail "key list misses cli-dev"
grep '^cli-dev ' "$D/out" | grep -q 'sensitive=yes' || it_fail "cli-dev not sensitive"
grep '^cli-dev ' "$D/out" | grep -q 'extractable=no' || it_fail "cli-dev extractable"
expect_rc 0 "$SIGNET" key pub cli-dev --out "$D/dev.pub.pem"
openssl pkey -pubin -in "$D/dev.pub.pem" -noout || it_fail "public key PEM does not parse"
expect_rc 0 "$SIGNET" key pub cli-dev --der --out "$D/dev.pub.der"
cmp <(openssl pkey -pubin -inform DER -in "$D/dev.pub.der" -outform PEM) "$D/dev.pub.pem" ||
	it_fail "DER and PEM public keys differ"

# signatures verified by openssl: message, stdin, prehashed digest, RSA PKCS#1 and PSS
openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" sign cli-dev --in "$D/nonce" --out "$D/nonce.sig"
openssl dgst -sha256 -verify "$D/dev.pub.pem" -signature "$D/nonce.sig" "$D/nonce" >/dev/null ||
	it_fail "EC signature does not verify"
"$SIGNET" sign cli-dev --in - --hash sha384 <"$D/nonce" >"$D/stdin.sig" || it_fail "sign from stdin"
openssl dgst -sha384 -verify "$D/dev.pub.pem" -signature "$D/stdin.sig" "$D/nonce" >/dev/null ||
	it_fail "stdin signature does not verify"
openssl dgst -sha256 -binary -out "$D/nonce.dgst" "$D/nonce"
expect_rc 0 "$SIGNET" sign cli-dev --digest --in "$D/nonce.dgst" --out "$D/dgst.sig"
openssl dgst -sha256 -verify "$D/dev.pub.pem" -signature "$D/dgst.sig" "$D/nonce" >/dev/null ||
	it_fail "prehashed signature does not verify"
expect_rc 0 "$SIGNET" sign cli-dev --format raw --in "$D/nonce" --out "$D/raw.sig"
[[ $(stat -c %s "$D/raw.sig") -eq 64 ]] || it_fail "raw P-256 signature is not 64 bytes"
expect_rc 0 "$SIGNET" key pub cli-rsa --out "$D/rsa.pub.pem"
expect_rc 0 "$SIGNET" sign cli-rsa --in "$D/nonce" --out "$D/rsa.sig"
openssl dgst -sha256 -verify "$D/rsa.pub.pem" -signature "$D/rsa.sig" "$D/nonce" >/dev/null ||
	it_fail "RSA PKCS#1 signature does not verify"
expect_rc 0 "$SIGNET" sign cli-rsa --format pss --in "$D/nonce" --out "$D/pss.sig"
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
	-verify "$D/rsa.pub.pem" -signature "$D/pss.sig" "$D/nonce" >/dev/null ||
	it_fail "RSA-PSS signature does not verify"

# CSR
expect_rc 0 "$SIGNET" csr cli-dev --subject "/CN=cli-dev/O=Signet Test" --dns cli-dev.example \
	--ip 192.0.2.1 --out "$D/dev.csr"
openssl req -in "$D/dev.csr" -verify -noout 2>&1 | grep -q 'verify OK' || it_fail "CSR does not verify"
openssl req -in "$D/dev.csr" -noout -subject | grep -q 'CN *= *cli-dev' || it_fail "CSR subject"
openssl req -in "$D/dev.csr" -noout -text | grep -q 'DNS:cli-dev.example' || it_fail "CSR SAN"
cmp <(openssl req -in "$D/dev.csr" -noout -pubkey) "$D/dev.pub.pem" || it_fail "CSR key differs"

# refusals and their exit codes
expect_rc 15 "$SIGNET" sign no-such-key --in "$D/nonce"
[[ "$IT_ERR" == *NOT_FOUND* ]] || it_fail "missing key error: $IT_ERR"
head -c 31 "$D/nonce.dgst" >"$D/short.dgst"
expect_rc 13 "$SIGNET" sign cli-dev --digest --in "$D/short.dgst"
[[ "$IT_ERR" == *INVALID_ARGUMENT* ]] || it_fail "short digest error: $IT_ERR"
expect_rc 13 "$SIGNET" sign cli-dev --format pss --in "$D/nonce"
expect_rc 13 "$SIGNET" csr cli-dev --subject "no-slash"
expect_rc 2 "$SIGNET" key generate --alg ed448 cli-x
expect_rc 2 "$SIGNET" frobnicate
expect_rc 2 "$SIGNET" sign cli-dev
expect_rc 0 "$SIGNET" --help
expect_rc 0 "$SIGNET" key --help

# delete
expect_rc 0 "$SIGNET" key delete cli-rsa
expect_rc 15 "$SIGNET" key pub cli-rsa
expect_rc 15 "$SIGNET" key delete cli-rsa

# endpoint precedence: a bad --endpoint beats a good environment variable
expect_rc 3 "$SIGNET" --timeout 500 --endpoint "ipc://$D/nowhere.sock" health
it_stop
# no daemon at all
expect_rc 3 "$SIGNET" --timeout 500 health
echo "cli: ok"
