#!/usr/bin/env bash
# EST end to end: a real signetd with an EST door (enrolment.factory,
# protocol "est", a vendor's bootstrap anchor and single-use codes),
# signet-gatewayd in front of it on HTTPS with a server certificate signet
# issued, and curl as the EST client: cacerts, simpleenroll with a code (HTTP
# Basic) and with a bootstrap (birth) certificate, simplereenroll with the
# issued one, a renewal loop; each certificate checked with openssl verify and
# GnuTLS certtool. Then what must be refused, each with its HTTP status.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

it_setup
it_gateway_setup curl certtool base64
D=$IT_DIR
make_client_secrets "$D/admin.key" "$D/gateway.key"
# The gateway may fetch the doors' certificates and carry EST requests
# through doors factory and edge-devices, and nothing else.
SIGNET_CONFIG_AUTH=$(
	cat <<CONF
auth: { allow_anonymous = false; };
clients: {
  admin: { secret_file = "$D/admin.key"; methods = [ "*" ]; cas = [ "*" ]; profiles = [ "*" ];
           keys = [ "*" ]; enrolments = [ "*" ]; admin = true; };
  gateway: { secret_file = "$D/gateway.key";
             methods = [ "GetEnrolmentCaCerts", "EstEnroll", "GetEnrolmentCsrAttrs" ];
             enrolments = [ "factory", "edge-devices" ]; };
};
CONF
)
export SIGNET_CONFIG_AUTH SIGNET_CLIENT=admin SIGNET_SECRET_FILE=$D/admin.key
it_write_config "$D/signetd.conf"
it_start

# --- signet's CA, and the gateway's TLS certificate from it (profile server) ---
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=EST Test Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=EST Test Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/tls.key" \
	-subj /CN=est-gateway -addext subjectAltName=IP:127.0.0.1 -out "$D/tls.csr" 2>/dev/null || it_fail "TLS CSR"
chmod 600 "$D/tls.key"
expect_rc 0 "$SIGNET" issue --ca issuing --profile server --csr "$D/tls.csr" --out "$D/tls-leaf.pem"
cat "$D/tls-leaf.pem" "$D/chain.pem" >"$D/tls.pem"

# --- a device vendor's CA (not signet's) and birth certificates under it ---
# vendor_ca NAME: a throwaway P-256 root $D/NAME-ca.pem/.key
vendor_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$1-ca.key" \
		-subj "/CN=$1 Vendor Root" -days 30 -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$D/$1-ca.pem" 2>/dev/null || it_fail "vendor CA $1"
}
# birth CA CN [expired]: a client certificate CN under vendor CA, $D/CN.pem/.key
birth() {
	local ca=$1 cn=$2 dates
	dates=$'expiration_days = 30'
	[[ ${3:-} == expired ]] && dates=$'activation_date = "2020-01-01 00:00:00 UTC"\nexpiration_date = "2020-01-02 00:00:00 UTC"'
	printf 'cn = "%s"\ntls_www_client\nsigning_key\n%s\n' "$cn" "$dates" >"$D/$cn.tmpl"
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$D/$cn.key" 2>/dev/null ||
		it_fail "birth key $cn"
	certtool --generate-certificate --load-privkey "$D/$cn.key" --load-ca-certificate "$D/$ca-ca.pem" \
		--load-ca-privkey "$D/$ca-ca.key" --template "$D/$cn.tmpl" --outfile "$D/$cn.pem" >"$D/certtool.log" 2>&1 ||
		it_fail "birth certificate $cn: $(tail -n 3 "$D/certtool.log")"
}
vendor_ca acme
vendor_ca rogue
birth acme dev-boot-1
birth acme dev-boot-old expired
birth rogue dev-rogue-1

it_stop
cat >>"$D/signetd.conf" <<CONF
enrolment: {
  factory: { protocol = "est"; ca = "issuing"; profile = "device"; bootstrap_anchors = "$D/acme-ca.pem"; codes = true; };
  edge-devices: { protocol = "est"; ca = "issuing"; profile = "device"; codes = true; };
};
CONF
it_start

# start_gateway NAME SCHEME EXTRA [CURL_ARGS...]: signet-gatewayd on a free
# port (retried when another process takes it first), config $D/NAME.conf
# with EXTRA at the top level; sets STARTED_PID and STARTED_BASE.
start_gateway() {
	local name=$1 scheme=$2 extra=$3 port
	shift 3
	for _ in 1 2 3 4 5; do
		port=$(it_free_port) || it_fail "no free port"
		write_gatewayd_config "$D/$name.conf" "$port" "$SIGNET_ENDPOINT" gateway "$D/gateway.key" "$extra"
		: >"$D/$name.log"
		"$GATEWAYD" --config "$D/$name.conf" >>"$D/$name.log" 2>&1 &
		STARTED_PID=$!
		for _ in $(seq 1 50); do
			if ! kill -0 "$STARTED_PID" 2>/dev/null; then
				grep -q 'cannot listen' "$D/$name.log" && continue 2
				it_fail "$name exited during start-up: $(tail -n 5 "$D/$name.log")"
			fi
			if curl -s -o /dev/null "$@" "$scheme://127.0.0.1:$port/"; then
				STARTED_BASE="$scheme://127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
		done
		it_fail "$name did not answer within 5 s"
	done
	it_fail "$name found no free port"
}
EST_CONF="tls = { certificate = \"$D/tls.pem\"; key = \"$D/tls.key\"; client_anchors = \"$D/acme-ca.pem\"; };
est = { enabled = true; default = \"factory\"; labels = { edge = \"edge-devices\"; }; };"
start_gateway gatewayd https "$EST_CONF" --cacert "$D/root.pem"
GW_PID=$STARTED_PID BASE=$STARTED_BASE
EST="$BASE/.well-known/est"
grep -q 'serving EST on https://' "$D/gatewayd.log" || it_fail "the gateway does not say it serves EST"

# est METHOD URL [curl args...]: "STATUS CONTENT_TYPE", body in $D/body, headers in $D/headers.
est() {
	local method=$1 url=$2
	shift 2
	curl -sS --cacert "$D/root.pem" -X "$method" -D "$D/headers" -o "$D/body" \
		-w '%{http_code} %{content_type}' "$@" "$url" 2>"$D/curl.err" || echo "000 $(cat "$D/curl.err")"
}
want() {
	local got=$1 status=$2 what=$3
	[[ ${got%% *} == "$status" ]] || it_fail "$what: HTTP $got, wanted $status: $(head -c 300 "$D/body")"
}
# csr CN KEY: a base64 DER PKCS#10 for CN with a new P-256 key in KEY, in $D/csr.b64
csr() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$2" -subj "/CN=$1" \
		-outform DER -out "$D/csr.der" 2>/dev/null || it_fail "CSR $1"
	base64 "$D/csr.der" >"$D/csr.b64"
}
enrol() { # OP OUT [curl args...]: POST $D/csr.b64 to OP, the certificate to OUT
	local op=$1 out=$2
	shift 2
	got=$(est POST "$EST/$op" -H 'Content-Type: application/pkcs10' --data-binary "@$D/csr.b64" "$@")
	want "$got" 200 "$op"
	[[ $got == "200 application/pkcs7-mime; smime-type=certs-only" ]] || it_fail "$op content type: $got"
	grep -qi '^Content-Transfer-Encoding: base64' "$D/headers" || it_fail "$op: no Content-Transfer-Encoding: base64"
	b64d "$D/body" >"$D/body.der" || it_fail "$op: the body is not base64"
	openssl pkcs7 -inform DER -in "$D/body.der" -print_certs -out "$out" 2>"$D/err" ||
		it_fail "$op: no PKCS#7 openssl reads: $(cat "$D/err")"
}
verify_cert() { # CERT CN
	openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$1" >"$D/verify" 2>&1 ||
		it_fail "openssl verify $1: $(cat "$D/verify")"
	cat "$1" "$D/chain.pem" >"$D/bundle.pem"
	certtool --verify --load-ca-certificate "$D/root.pem" --infile "$D/bundle.pem" >"$D/certtool" 2>&1 ||
		it_fail "certtool --verify $1: $(tail -n 5 "$D/certtool")"
	grep -q 'Chain verification output: Verified' "$D/certtool" || it_fail "certtool: $(tail -n 5 "$D/certtool")"
	openssl x509 -in "$1" -noout -subject | grep -q "CN = $2\$" || it_fail "$1: subject $(openssl x509 -in "$1" -noout -subject)"
}
same_key() { # CERT KEY
	[[ $(openssl x509 -in "$1" -noout -pubkey) == $(openssl pkey -in "$2" -pubout) ]] ||
		it_fail "$1 does not certify the key in $2"
}
# b64d FILE: an EST body decoded (MIME base64: lines end in CRLF, which GNU base64 refuses)
b64d() { tr -d '\r' <"$1" | base64 -d; }
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

# --- the gateway's own certificate is signet's, and curl trusts it by signet's root ---
openssl s_client -connect "${BASE#https://}" -CAfile "$D/root.pem" </dev/null >"$D/s_client" 2>&1 || true
grep -q 'Verify return code: 0 (ok)' "$D/s_client" || it_fail "the gateway's TLS certificate: $(grep -i verify "$D/s_client")"

# --- /cacerts: the CA chain, base64 PKCS#7 ---
got=$(est GET "$EST/cacerts")
want "$got" 200 cacerts
[[ $got == "200 application/pkcs7-mime"* ]] || it_fail "cacerts content type: $got"
b64d "$D/body" | openssl pkcs7 -inform DER -print_certs -out "$D/cacerts.pem" 2>"$D/err" ||
	it_fail "cacerts is no base64 PKCS#7: $(cat "$D/err")"
grep -q 'subject=CN = EST Test Issuing' "$D/cacerts.pem" || it_fail "cacerts lacks the issuing CA"
got=$(est GET "$BASE/.well-known/est/edge/cacerts")
want "$got" 200 "cacerts through label edge"

# --- /csrattrs: none configured: 204 ---
got=$(est GET "$EST/csrattrs")
[[ ${got%% *} == 204 || ${got%% *} == 200 ]] || it_fail "csrattrs: HTTP $got"

# --- /simpleenroll with a single-use code (HTTP Basic) ---
code=$("$SIGNET" enrol code factory --device-id dev-code-1 | cut -d' ' -f1) || it_fail "enrol code"
csr dev-code-1 "$D/code1.key"
enrol simpleenroll "$D/code1.pem" -u "dev-code-1:$code"
verify_cert "$D/code1.pem" dev-code-1
same_key "$D/code1.pem" "$D/code1.key"
expect_rc 0 "$SIGNET" ledger get "$(serial "$D/code1.pem")"
# the code is spent
got=$(est POST "$EST/simpleenroll" --data-binary "@$D/csr.b64" -u "dev-code-1:$code")
want "$got" 401 "a used code"
grep -qi '^WWW-Authenticate: Basic realm="est"' "$D/headers" || it_fail "401 without WWW-Authenticate"
# no credential at all
got=$(est POST "$EST/simpleenroll" --data-binary "@$D/csr.b64")
want "$got" 401 "no certificate and no code"

# --- /simpleenroll with a bootstrap certificate (vendor mode) ---
csr dev-boot-1 "$D/boot1.key"
enrol simpleenroll "$D/boot1.pem" --cert "$D/dev-boot-1.pem" --key "$D/dev-boot-1.key"
verify_cert "$D/boot1.pem" dev-boot-1
same_key "$D/boot1.pem" "$D/boot1.key"

# --- /simplereenroll with the issued certificate, and a renewal loop like certd's ---
cur=$D/boot1.pem curkey=$D/boot1.key
declare -a olds=()
for i in 1 2 3; do
	csr dev-boot-1 "$D/renew$i.key"
	# the second over TLS 1.2: the gateway passes tls-unique (none exists under 1.3)
	tlsmax=()
	((i != 2)) || tlsmax=(--tls-max 1.2)
	enrol simplereenroll "$D/renew$i.pem" --cert "$cur" --key "$curkey" "${tlsmax[@]}"
	verify_cert "$D/renew$i.pem" dev-boot-1
	same_key "$D/renew$i.pem" "$D/renew$i.key"
	[[ $(serial "$D/renew$i.pem") != "$(serial "$cur")" ]] || it_fail "re-enrolment $i gave the same certificate"
	olds+=("$(serial "$cur")")
	cur=$D/renew$i.pem curkey=$D/renew$i.key
done
"$SIGNET" ledger list --subject dev-boot-1 --all >"$D/ledger" 2>"$D/err" || it_fail "ledger list: $(cat "$D/err")"
grep -q 'simplereenroll op=- -> 200 (re-enrolment issued (1 client cert(s), no code, tls-unique))' "$D/gatewayd.log" ||
	it_fail "no tls-unique passed under TLS 1.2"
for s in "${olds[@]}" "$(serial "$cur")"; do
	grep -qi "^$s " "$D/ledger" || it_fail "certificate $s is not in the ledger: $(cat "$D/ledger")"
done

# --- refusals, each with its status ---
# a birth certificate under an anchor the door does not trust
csr dev-rogue-1 "$D/rogue.key"
got=$(est POST "$EST/simpleenroll" --data-binary "@$D/csr.b64" --cert "$D/dev-rogue-1.pem" --key "$D/dev-rogue-1.key")
want "$got" 401 "a bootstrap certificate under the wrong anchor"
# an expired birth certificate
csr dev-boot-old "$D/old.key"
got=$(est POST "$EST/simpleenroll" --data-binary "@$D/csr.b64" --cert "$D/dev-boot-old.pem" --key "$D/dev-boot-old.key")
want "$got" 403 "an expired bootstrap certificate (ours, but expired: 403, like est_rpc)"
# re-enrolment asking for another subject
csr dev-other "$D/other.key"
got=$(est POST "$EST/simplereenroll" --data-binary "@$D/csr.b64" --cert "$cur" --key "$curkey")
want "$got" 403 "re-enrolment with another subject"
# re-enrolment with a revoked certificate
expect_rc 0 "$SIGNET" revoke issuing "$(serial "$D/code1.pem")" --reason keyCompromise
csr dev-code-1 "$D/code1b.key"
got=$(est POST "$EST/simplereenroll" --data-binary "@$D/csr.b64" --cert "$D/code1.pem" --key "$D/code1.key")
want "$got" 403 "re-enrolment with a revoked certificate"
# not a CSR
printf 'bm90IGEgQ1NS\n' >"$D/notcsr.b64"
got=$(est POST "$EST/simpleenroll" --data-binary "@$D/notcsr.b64" --cert "$D/dev-boot-1.pem" --key "$D/dev-boot-1.key")
want "$got" 400 "a body that is no CSR"
printf '!!!' >"$D/notb64"
got=$(est POST "$EST/simpleenroll" --data-binary "@$D/notb64" --cert "$D/dev-boot-1.pem" --key "$D/dev-boot-1.key")
want "$got" 400 "a body that is not base64"
# an oversized body: refused before it is read
head -c 20000 /dev/zero >"$D/big"
got=$(est POST "$EST/simpleenroll" --data-binary "@$D/big")
want "$got" 413 "an oversized body"
# unknown label, unknown operation, wrong method
got=$(est GET "$BASE/.well-known/est/nolabel/cacerts")
want "$got" 404 "an unknown label"
got=$(est GET "$EST/serverkeygen")
want "$got" 404 "an operation not served"
got=$(est GET "$EST/simpleenroll")
want "$got" 405 "simpleenroll by GET"

# --- EST is HTTPS only ---
# plain HTTP to the HTTPS port: no answer
got=$(curl -s -o /dev/null -w '%{http_code}' "http://${BASE#https://}/.well-known/est/cacerts" || true)
[[ $got == 000 ]] || it_fail "plain HTTP to the EST port: HTTP $got"
# a plain-HTTP gateway has no EST URLs
start_gateway plain http ""
GW_PID2=$STARTED_PID
got=$(curl -s -o /dev/null -w '%{http_code}' "$STARTED_BASE/.well-known/est/cacerts")
[[ $got == 404 ]] || it_fail "EST over plain HTTP: HTTP $got, wanted 404"
# and est.enabled without tls does not start
write_gatewayd_config "$D/notls.conf" 1 "$SIGNET_ENDPOINT" gateway "$D/gateway.key" 'est = { enabled = true; default = "factory"; };'
expect_rc 1 "$GATEWAYD" --config "$D/notls.conf"
[[ $IT_ERR == *"HTTPS only"* ]] || it_fail "est without tls: $IT_ERR"

# --- the gateway still serves, and logged each request ---
got=$(est GET "$EST/cacerts")
want "$got" 200 "cacerts after the refusals"
grep -q 'POST /.well-known/est/simplereenroll op=- -> 200' "$D/gatewayd.log" || it_fail "no access-log line for simplereenroll"
# a clean stop (in the sanitizer build: no leak report either)
kill -TERM "$GW_PID"
wait "$GW_PID" || it_fail "signet-gatewayd did not stop cleanly: $(tail -n 20 "$D/gatewayd.log")"
GW_PID=""
GW_OK=1
echo "est_gateway: ok"
