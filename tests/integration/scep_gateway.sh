#!/usr/bin/env bash
# SCEP end to end: a real signetd with an enrolment door (enrolment.mdm, RA
# key and certificate from the CLI), signet-gatewayd in front of it on
# 127.0.0.1 as a client with its own credential, and clients nobody here
# wrote: curl for GetCACaps and GetCACert (the PKCS#7 read by openssl), and
# micromdm/scep's client code from Debian (built offline, by POST and by GET)
# for PKCSReq with a single-use challenge and RenewalReq. Each certificate is
# checked with openssl verify and GnuTLS certtool. Then what must be refused:
# an oversized body (413), unknown paths (404), garbage (400), a used or
# wrong challenge (a FAILURE CertRep) -- and the gateway still serves.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

it_setup
it_gateway_setup curl certtool go
D=$IT_DIR
make_client_secrets "$D/admin.key" "$D/gateway.key"
# The contract's rules: the gateway may fetch the door's certificates and
# carry pkiMessages through door mdm, and nothing else.
SIGNET_CONFIG_AUTH=$(
	cat <<CONF
auth: { allow_anonymous = false; };
clients: {
  admin: { secret_file = "$D/admin.key"; methods = [ "*" ]; cas = [ "*" ]; profiles = [ "*" ];
           keys = [ "*" ]; enrolments = [ "*" ]; admin = true; };
  gateway: { secret_file = "$D/gateway.key"; methods = [ "GetEnrolmentCaCerts", "ScepOperation" ];
             enrolments = [ "mdm" ]; };
};
CONF
)
export SIGNET_CONFIG_AUTH SIGNET_CLIENT=admin SIGNET_SECRET_FILE=$D/admin.key
it_write_config "$D/signetd.conf"
it_start

# --- the CA and the RA, as docs/scep.md sets them up ---
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=SCEP Test Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=SCEP Test Issuing"
expect_rc 0 "$SIGNET" ca chain issuing --out "$D/chain.pem"
expect_rc 0 "$SIGNET" key generate --alg rsa2048 --purpose ra scep-ra
expect_rc 0 "$SIGNET" csr scep-ra --subject "/CN=SCEP Test RA" --out "$D/ra.csr"
expect_rc 0 "$SIGNET" issue --ca issuing --profile scep-ra --csr "$D/ra.csr" --out "$D/ra.pem"
it_stop
cat >>"$D/signetd.conf" <<CONF
enrolment: {
  mdm: { protocol = "scep"; ca = "issuing"; profile = "device"; ra_key = "scep-ra"; challenge = "codes"; };
  other: { protocol = "scep"; ca = "issuing"; profile = "device"; ra_key = "scep-ra"; challenge = "codes"; };
};
CONF
it_start

# start_gateway NAME SCHEME [EXTRA [CURL_ARGS...]]: signet-gatewayd on a free
# port (another process may take it first: retry), config $D/NAME.conf with
# EXTRA at the top level, log $D/NAME.log; sets STARTED_PID and STARTED_BASE.
start_gateway() {
	local name=$1 scheme=$2 extra=${3:-} port
	shift 3 || shift $#
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
start_gateway gatewayd http
GW_PID=$STARTED_PID BASE=$STARTED_BASE
MDM="$BASE/scep/mdm"

# http GET|POST URL [curl args...]: "STATUS CONTENT_TYPE", the body in $D/body.
http() {
	local method=$1 url=$2
	shift 2
	curl -sS -X "$method" -o "$D/body" -w '%{http_code} %{content_type}' "$@" "$url" ||
		it_fail "curl $method $url failed"
}
want() {
	local got=$1 status=$2 what=$3
	[[ ${got%% *} == "$status" ]] || it_fail "$what: HTTP $got, wanted $status: $(head -c 300 "$D/body")"
}

# --- transport refusals the gateway makes itself, before signetd is asked ---
head -c 20000 /dev/zero >"$D/big"
got=$(http POST "$MDM?operation=PKIOperation" -H 'Content-Type: application/x-pki-message' --data-binary "@$D/big")
want "$got" 413 "an oversized body"
got=$(http GET "$BASE/nowhere?operation=GetCACaps")
want "$got" 404 "an unknown path"
got=$(http GET "$BASE/scep/a/b?operation=GetCACaps")
want "$got" 404 "a path below an enrolment"
got=$(http GET "$MDM?operation=PKIOperation&message=%21%21%21")
want "$got" 400 "a message that is not base64"
got=$(http GET "$MDM?operation=NoSuchOperation")
want "$got" 400 "an unknown operation"
printf 'garbage' >"$D/garbage"
got=$(http POST "$MDM?operation=GetCACert" --data-binary "@$D/garbage")
want "$got" 405 "GetCACert by POST"

# --- TLS (optional; libmicrohttpd's GnuTLS): the same server behind https ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/tls.key" \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 -out "$D/tls.pem" 2>/dev/null ||
	it_fail "TLS certificate"
chmod 600 "$D/tls.key"
start_gateway gatewayd-tls https "tls = { certificate = \"$D/tls.pem\"; key = \"$D/tls.key\"; };" --cacert "$D/tls.pem"
GW_PID2=$STARTED_PID TLS_BASE=$STARTED_BASE
got=$(http GET "$TLS_BASE/nowhere?operation=GetCACaps" --cacert "$D/tls.pem")
want "$got" 404 "an unknown path over https"
grep -q 'serving SCEP on https://' "$D/gatewayd-tls.log" || it_fail "the TLS gateway does not say https"
# a key others may read is refused at start-up
chmod 644 "$D/tls.key"
expect_rc 1 "$GATEWAYD" --config "$D/gatewayd-tls.conf"
[[ $IT_ERR == *"open to group or others"* ]] || it_fail "a readable TLS key: $IT_ERR"
chmod 600 "$D/tls.key"

# --- started as root: no user, no start; user = "nobody": it drops to nobody ---
if ((EUID == 0)); then
	sed '/^user = /d' "$D/gatewayd.conf" >"$D/noroot.conf"
	expect_rc 1 "$GATEWAYD" --config "$D/noroot.conf"
	[[ $IT_ERR == *"started as root with no user"* ]] || it_fail "root without user: $IT_ERR"
	# nobody may read its own copy of the secret, but not reach signetd's socket
	# (in root's 0700 test directory): it serves, and answers 503
	nd=$(mktemp -d /tmp/signet-gw-nobody.XXXXXX)
	install -o nobody -m 0600 "$D/gateway.key" "$nd/gateway.key"
	chmod 755 "$nd"
	nport=$(it_free_port) || it_fail "no free port"
	cat >"$D/nobody.conf" <<CONF
listen = "127.0.0.1:$nport";
user = "nobody";
signetd = { endpoints = [ "$SIGNET_ENDPOINT" ]; client = "gateway"; secret_file = "$nd/gateway.key"; timeout_ms = 500; };
scep = { default = "mdm"; };
CONF
	"$GATEWAYD" --config "$D/nobody.conf" >"$D/nobody.log" 2>&1 &
	np=$!
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$nport/" && break
		sleep 0.1
	done
	uid=$(awk '/^Uid:/ { print $2 "," $3 "," $4 "," $5 }' "/proc/$np/status")
	[[ $uid == "$(id -u nobody),$(id -u nobody),$(id -u nobody),$(id -u nobody)" ]] ||
		it_fail "user = nobody: the gateway runs with uids $uid"
	got=$(http GET "http://127.0.0.1:$nport/scep?operation=GetCACaps")
	want "$got" 503 "a gateway that cannot reach signetd"
	kill -TERM "$np"
	wait "$np" || it_fail "the nobody gateway did not stop cleanly"
	rm -rf "$nd"
fi

# --- GetCACaps, GetCACert with curl ---
got=$(http GET "$MDM?operation=GetCACaps")
want "$got" 200 GetCACaps
[[ $got == "200 text/plain"* ]] || it_fail "GetCACaps content type: $got"
for cap in POSTPKIOperation AES SHA-256 Renewal; do
	grep -qx "$cap" <(tr -d '\r' <"$D/body") || it_fail "GetCACaps lacks $cap: $(cat "$D/body")"
done
got=$(http GET "$BASE/cgi-bin/pkiclient.exe?operation=GetCACaps")
want "$got" 200 "GetCACaps at the pkiclient.exe alias (the default enrolment)"

got=$(http GET "$MDM?operation=GetCACert")
want "$got" 200 GetCACert
[[ $got == "200 application/x-x509-ca-ra-cert" ]] || it_fail "GetCACert content type: $got"
openssl pkcs7 -inform DER -in "$D/body" -print_certs -out "$D/cacerts.pem" 2>"$D/err" ||
	it_fail "GetCACert is no PKCS#7 openssl reads: $(cat "$D/err")"
n=$(grep -c 'BEGIN CERTIFICATE' "$D/cacerts.pem")
((n >= 2)) || it_fail "GetCACert: $n certificate(s), wanted the CA and the RA"
grep -q 'subject=CN = SCEP Test Issuing' "$D/cacerts.pem" || it_fail "GetCACert lacks the issuing CA"
grep -q 'subject=CN = SCEP Test RA' "$D/cacerts.pem" || it_fail "GetCACert lacks the RA"

# --- PKCSReq with a challenge, by the micromdm/scep client ---
SCEPCLIENT=$D/scepclient
build_scepclient "$SCEPCLIENT" "$D/go" >"$D/go.log" 2>&1 || it_fail "building the Go SCEP client: $(tail -n 20 "$D/go.log")"
expect_rc 0 "$SCEPCLIENT" -url "$MDM" -caps
grep -qx POSTPKIOperation "$D/out" || it_fail "scepclient -caps: $(cat "$D/out")"

code() {
	"$SIGNET" enrol code mdm --device-id "$1" >"$D/code" 2>"$D/err" || it_fail "enrol code: $(cat "$D/err")"
	cut -d' ' -f1 "$D/code"
}
verify_cert() { # CERT CN
	openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$1" >"$D/verify" 2>&1 ||
		it_fail "openssl verify $1: $(cat "$D/verify")"
	cat "$1" "$D/chain.pem" >"$D/bundle.pem"
	certtool --verify --load-ca-certificate "$D/root.pem" --infile "$D/bundle.pem" >"$D/certtool" 2>&1 ||
		it_fail "certtool --verify $1: $(tail -n 5 "$D/certtool")"
	grep -q 'Chain verification output: Verified' "$D/certtool" || it_fail "certtool: $(tail -n 5 "$D/certtool")"
	openssl x509 -in "$1" -noout -subject | grep -q "CN = $2\$" || it_fail "$1: subject $(openssl x509 -in "$1" -noout -subject)"
	openssl x509 -in "$1" -noout -ext extendedKeyUsage | grep -q 'TLS Web Client Authentication' ||
		it_fail "$1: no clientAuth (the device profile's)"
}
same_key() { # CERT KEY
	[[ $(openssl x509 -in "$1" -noout -pubkey) == $(openssl pkey -in "$2" -pubout) ]] ||
		it_fail "$1 does not certify the key in $2"
}

c1=$(code dev-scep-1)
expect_rc 0 "$SCEPCLIENT" -url "$MDM" -challenge "$c1" -cn dev-scep-1 -key "$D/dev1.key" -cert "$D/dev1.pem"
verify_cert "$D/dev1.pem" dev-scep-1
same_key "$D/dev1.pem" "$D/dev1.key"
# signet issued it: it is in the ledger
serial=$(openssl x509 -in "$D/dev1.pem" -noout -serial | cut -d= -f2)
expect_rc 0 "$SIGNET" ledger get "$serial"

# by GET: base64 in message= (the library's URL-safe alphabet, URL-encoded), through the default URL
c2=$(code dev-scep-2)
expect_rc 0 "$SCEPCLIENT" -get -url "$BASE/scep" -challenge "$c2" -cn dev-scep-2 -key "$D/dev2.key" -cert "$D/dev2.pem"
verify_cert "$D/dev2.pem" dev-scep-2

# --- what SCEP refuses in a CertRep: exit 2 from the client, HTTP 200 ---
expect_rc 2 "$SCEPCLIENT" -url "$MDM" -challenge "$c1" -cn dev-scep-1 -key "$D/x.key" -cert "$D/x.pem"
[[ $IT_ERR == *FAILURE* ]] || it_fail "a used code: $IT_ERR"
expect_rc 2 "$SCEPCLIENT" -url "$MDM" -challenge "not-a-code" -cn dev-scep-3 -key "$D/x.key" -cert "$D/x.pem"
[[ $IT_ERR == *FAILURE* ]] || it_fail "a wrong code: $IT_ERR"
grep -q 'PKIOperation -> 200 transactionID=[^ ]* (FAILURE failInfo' "$D/gatewayd.log" ||
	it_fail "the gateway's log has no FAILURE line with its transactionID"

# --- renewal: RenewalReq signed with the current certificate and key ---
expect_rc 0 "$SCEPCLIENT" -url "$MDM" -renew-key "$D/dev1.key" -renew-cert "$D/dev1.pem" -cn dev-scep-1 \
	-key "$D/dev1b.key" -cert "$D/dev1b.pem"
verify_cert "$D/dev1b.pem" dev-scep-1
same_key "$D/dev1b.pem" "$D/dev1b.key"
[[ $(openssl x509 -in "$D/dev1b.pem" -noout -serial) != "$(openssl x509 -in "$D/dev1.pem" -noout -serial)" ]] ||
	it_fail "renewal gave the same certificate"

# --- what signetd refuses outright, and the gateway keeps serving ---
got=$(http GET "$BASE/scep/no-such-door?operation=GetCACert")
[[ ${got%% *} == 404 || ${got%% *} == 403 ]] || it_fail "an enrolment signetd does not give the gateway: HTTP $got"
got=$(http GET "$BASE/scep/other?operation=GetCACert")
[[ ${got%% *} == 403 ]] || it_fail "door 'other' (not the gateway's): HTTP $got, wanted 403"
got=$(http POST "$MDM?operation=PKIOperation" -H 'Content-Type: application/x-pki-message' --data-binary "@$D/garbage")
want "$got" 400 "a garbage pkiMessage"
got=$(http GET "$MDM?operation=GetCACaps")
want "$got" 200 "GetCACaps after the refusals"
got=$(http GET "$TLS_BASE/scep/mdm?operation=GetCACaps" --cacert "$D/tls.pem")
want "$got" 200 "GetCACaps over https"
kill -0 "$GW_PID" || it_fail "signet-gatewayd died"

# --- a clean stop ---
kill -TERM "$GW_PID"
rc=0
wait "$GW_PID" || rc=$?
GW_PID=""
((rc == 0)) || it_fail "signet-gatewayd exited $rc after SIGTERM"
kill -TERM "$GW_PID2"
wait "$GW_PID2" || it_fail "the TLS gateway did not stop cleanly"
GW_PID2=""
GW_OK=1
it_stop
echo "scep_gateway: ok"
