#!/usr/bin/env bash
# EST through signetd's EstEnroll, driven as signet-gatewayd drives it (the
# hidden 'signet enrol est'): enrolment with a single-use code, with a
# manufacturer's birth certificate chained to the door's bootstrap anchors
# (made by openssl and certtool), re-enrolment with the issued certificate;
# each refusal with its status (wrong anchor 401, expired bootstrap 403,
# another subject 403, revoked 403). Certificates are checked with
# 'openssl verify' and 'certtool --verify'; a renewal loop like certd's keeps
# every old certificate in the ledger.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
cat >>"$D/signetd.conf" <<CONF
enrolment: {
  edge: { protocol = "est"; ca = "issuing"; profile = "device"; };
  factory: { protocol = "est"; ca = "issuing"; profile = "device";
             bootstrap_anchors = "$D/anchors.pem"; codes = false; };
  held: { protocol = "est"; ca = "issuing"; profile = "device"; manual = true; retry_after = 90; };
  mdm: { protocol = "scep"; ca = "issuing"; profile = "device"; ra_key = "scep-ra"; };
};
CONF
it_start
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=EST Test Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=EST Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"

# csr NAME CN [challengePassword]: a fresh P-256 key and its CSR, by openssl req
csr() {
	openssl ecparam -name prime256v1 -genkey -noout -out "$D/$1.key" 2>/dev/null
	if [[ -n ${3:-} ]]; then
		printf '[req]\nprompt = no\ndistinguished_name = dn\nattributes = attrs\n[dn]\nCN = %s\n[attrs]\nchallengePassword = %s\n' \
			"$2" "$3" >"$D/$1.cnf"
		openssl req -new -key "$D/$1.key" -config "$D/$1.cnf" -out "$D/$1.csr" 2>/dev/null ||
			it_fail "openssl req $1"
	else
		openssl req -new -key "$D/$1.key" -subj "/CN=$2" -out "$D/$1.csr" 2>/dev/null ||
			it_fail "openssl req $1"
	fi
}
# verified CERT: openssl and GnuTLS both accept it under the root
verified() {
	openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$1" >/dev/null 2>&1 ||
		it_fail "openssl verify refuses $1"
	cat "$1" "$D/chain.pem" >"$D/full.pem"
	certtool --verify --load-ca-certificate "$D/root.pem" --infile "$D/full.pem" >"$D/certtool.txt" 2>&1 ||
		it_fail "certtool --verify refuses $1: $(cat "$D/certtool.txt")"
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
ledger_count() { "$SIGNET" ledger list --ca issuing --all | wc -l; }
audit_has() { grep -qi "$1" "$D/state/audit.log" || it_fail "the audit log has no line with '$1'"; }

# --- a single-use code (HTTP Basic) ---
expect_rc 0 "$SIGNET" enrol code edge --device-id edge-1
code=$(cut -d' ' -f1 "$D/out")
csr e1 edge-1
expect_rc 26 "$SIGNET" enrol est edge --csr "$D/e1.csr"
[[ $IT_ERR == *"no enrolment code"* ]] || it_fail "no code: $IT_ERR"
csr other edge-2
expect_rc 26 "$SIGNET" enrol est edge --csr "$D/other.csr" --code "$code"
[[ $IT_ERR == *"the code is for device 'edge-1'"* ]] || it_fail "another device's code: $IT_ERR"
# the wrong device did not use it up; the right one gets a certificate, once
expect_rc 0 "$SIGNET" enrol est edge --csr "$D/e1.csr" --code "$code" --out "$D/e1.pem"
verified "$D/e1.pem"
expect_rc 26 "$SIGNET" enrol est edge --csr "$D/e1.csr" --code "$code"
audit_has "EstEnroll.*enrolment=edge ca=issuing serial=$(serial_of "$D/e1.pem" | tr 'A-F' 'a-f').*auth=code"
! grep -q "$code" "$D/signetd.log" "$D/state/audit.log" || it_fail "the code is in a log"
# A request the profile refuses does not use the code up either.
expect_rc 0 "$SIGNET" enrol code edge
code=$(cut -d' ' -f1 "$D/out")
csr bad "no spaces allowed"
expect_rc 13 "$SIGNET" enrol est edge --csr "$D/bad.csr" --code "$code"
csr e3 edge-3
expect_rc 0 "$SIGNET" enrol est edge --csr "$D/e3.csr" --code "$code" --out "$D/e3.pem"
# Not a CSR: 400.
printf 'junk' >"$D/junk.der"
expect_rc 13 "$SIGNET" enrol est edge --csr "$D/junk.der" --code "$code"
# A SCEP door is not an EST one.
expect_rc 15 "$SIGNET" enrol est mdm --csr "$D/e1.csr" --code "$code"
expect_rc 15 "$SIGNET" enrol est nowhere --csr "$D/e1.csr"

# --- tls-unique: the CSR's challengePassword must be its base64 (RFC 7030 3.5) ---
tu=00112233445566778899aabb
tu64=$(printf '%s' "$tu" | tr 'a-f' 'A-F' | basenc --base16 -d | base64)
expect_rc 0 "$SIGNET" enrol code edge
code=$(cut -d' ' -f1 "$D/out")
csr tu1 edge-4 "wrong"
expect_rc 13 "$SIGNET" enrol est edge --csr "$D/tu1.csr" --code "$code" --tls-unique "$tu"
[[ $IT_ERR == *"tls-unique"* ]] || it_fail "tls-unique mismatch: $IT_ERR"
csr tu2 edge-4 "$tu64"
expect_rc 0 "$SIGNET" enrol est edge --csr "$D/tu2.csr" --code "$code" --tls-unique "$tu" --out "$D/tu2.pem"

# --- vendor mode: a birth certificate chained to the bootstrap anchors ---
# The anchor by certtool (valid since 2019, so that an old birth certificate chains to it).
certtool --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$D/anchor.key" 2>/dev/null
cat >"$D/anchor.tmpl" <<'T'
cn = "Vendor Manufacturing CA"
ca
cert_signing_key
crl_signing_key
activation_date = "2019-01-01 00:00:00"
expiration_date = "2039-01-01 00:00:00"
T
certtool --generate-self-signed --load-privkey "$D/anchor.key" --template "$D/anchor.tmpl" \
	--outfile "$D/anchors.pem" 2>/dev/null || it_fail "certtool anchor"
cat >"$D/birth.ext" <<'X'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X
# birth NAME CN SIGNER_CERT SIGNER_KEY: a birth certificate by openssl x509 -req
birth() {
	csr "$1" "$2"
	openssl x509 -req -in "$D/$1.csr" -CA "$3" -CAkey "$4" -CAcreateserial -days 3650 \
		-extfile "$D/birth.ext" -out "$D/$1.pem" 2>/dev/null || it_fail "openssl x509 -req $1"
}
birth b1 fab-1 "$D/anchors.pem" "$D/anchor.key"
csr f1 fab-1
expect_rc 0 "$SIGNET" enrol est factory --csr "$D/f1.csr" --chain "$D/b1.pem" --out "$D/f1.pem"
verified "$D/f1.pem"
audit_has "enrolment=factory ca=issuing serial=.*auth=bootstrap"
# The door takes no codes, and nothing without a chain.
expect_rc 26 "$SIGNET" enrol est factory --csr "$D/f1.csr" --code "$code"
# Wrong anchor: a birth certificate of another vendor's CA (openssl req -x509): 401.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/rogue.key" \
	-subj "/CN=Rogue CA" -days 3650 -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$D/rogue.pem" 2>/dev/null
birth b2 fab-2 "$D/rogue.pem" "$D/rogue.key"
csr f2 fab-2
expect_rc 26 "$SIGNET" enrol est factory --csr "$D/f2.csr" --chain "$D/b2.pem"
[[ $IT_ERR == *"does not chain to the bootstrap anchors"* ]] || it_fail "wrong anchor: $IT_ERR"
# Expired birth certificate (certtool, 2020-2021): 403 with the reason.
csr b3 fab-3
cat >"$D/expired.tmpl" <<'T'
cn = "fab-3"
signing_key
tls_www_client
activation_date = "2020-01-01 00:00:00"
expiration_date = "2021-01-01 00:00:00"
T
certtool --generate-certificate --load-request "$D/b3.csr" --load-ca-certificate "$D/anchors.pem" \
	--load-ca-privkey "$D/anchor.key" --template "$D/expired.tmpl" --outfile "$D/b3.pem" 2>/dev/null ||
	it_fail "certtool expired birth certificate"
expect_rc 17 "$SIGNET" enrol est factory --csr "$D/b3.csr" --chain "$D/b3.pem"
[[ $IT_ERR == *"expired"* ]] || it_fail "expired bootstrap: $IT_ERR"

# --- re-enrolment: the issued certificate, the same subject ---
count=$(ledger_count)
csr r1 edge-1
expect_rc 26 "$SIGNET" enrol est edge --reenroll --csr "$D/r1.csr"
expect_rc 17 "$SIGNET" enrol est edge --reenroll --csr "$D/other.csr" --chain "$D/e1.pem"
[[ $IT_ERR == *"subject"* ]] || it_fail "another subject: $IT_ERR"
# the birth certificate is no certificate of this CA
expect_rc 17 "$SIGNET" enrol est factory --reenroll --csr "$D/f1.csr" --chain "$D/b1.pem"
# A renewal loop like certd's: each time with the certificate the last one got.
cur="$D/e1.pem"
for i in 1 2 3; do
	csr "loop$i" edge-1
	expect_rc 0 "$SIGNET" enrol est edge --reenroll --csr "$D/loop$i.csr" --chain "$cur" --out "$D/loop$i.pem"
	verified "$D/loop$i.pem"
	[[ $(openssl x509 -in "$D/loop$i.pem" -noout -subject) == "subject=CN = edge-1" ]] ||
		it_fail "re-enrolled subject: $(openssl x509 -in "$D/loop$i.pem" -noout -subject)"
	cur="$D/loop$i.pem"
done
audit_has "enrolment=edge ca=issuing serial=.*auth=reenroll"
[[ $(ledger_count) -eq $((count + 3)) ]] || it_fail "the ledger holds $(ledger_count), wanted $((count + 3))"
for c in e1 loop1 loop2 loop3; do
	expect_rc 0 "$SIGNET" ledger get "$(serial_of "$D/$c.pem")"
done
# A revoked certificate cannot renew itself: 403.
expect_rc 0 "$SIGNET" revoke issuing "$(serial_of "$D/loop3.pem")"
csr loop4 edge-1
expect_rc 17 "$SIGNET" enrol est edge --reenroll --csr "$D/loop4.csr" --chain "$D/loop3.pem"
[[ $IT_ERR == *"revoked"* ]] || it_fail "revoked re-enrolment: $IT_ERR"

# --- manual: 202 + Retry-After, nothing recorded, the code kept ---
count=$(ledger_count)
expect_rc 0 "$SIGNET" enrol code held
code=$(cut -d' ' -f1 "$D/out")
csr h1 held-1
expect_rc 0 "$SIGNET" enrol est held --csr "$D/h1.csr" --code "$code"
[[ $(cat "$D/out") == "retry after 90 seconds (manual)" ]] || it_fail "manual: $(cat "$D/out")"
expect_rc 0 "$SIGNET" enrol est held --csr "$D/h1.csr" --code "$code"
[[ $(ledger_count) -eq $count ]] || it_fail "a manual door recorded a certificate"

# /cacerts of an EST door: the issuing CA and its chain, no RA, no capabilities.
expect_rc 0 "$SIGNET" enrol cacerts edge --out "$D/cacerts.p7"
[[ ! -s "$D/out" ]] || it_fail "an EST door lists capabilities: $(cat "$D/out")"
openssl pkcs7 -inform DER -in "$D/cacerts.p7" -print_certs -noout | grep -c '^subject=' >"$D/n.txt"
[[ $(cat "$D/n.txt") -eq 2 ]] || it_fail "EST cacerts holds $(cat "$D/n.txt") certificates"
it_stop
echo "est_rpc: ok"
