#!/usr/bin/env bash
# Callers: every request authenticated with a client's secret, every act
# authorized by the client's rules, each refusal with its own status and a
# message naming the rule, and audited; the concurrency limit; stale and
# replayed credentials (itest_auth), also across a restart; verification
# certificates (a proof of possession of a CA) only for the clients granted
# them; no secret in the log, argv or audit.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"

umask 077
for c in operator factory keyuser device registrar prover; do openssl rand -hex 32 >"$D/$c.key"; done
SIGNET_CONFIG_AUTH=$(
	cat <<EOF
clients: {
  operator: { secret_file = "$D/operator.key"; admin = true;
              methods = [ "*" ]; cas = [ "*" ]; profiles = [ "*" ]; keys = [ "*" ]; };
  factory: { secret_file = "$D/factory.key";
             methods = [ "SignCsr", "GetCaChain", "Health" ];
             cas = [ "issuing" ]; profiles = [ "device" ]; };
  keyuser: { secret_file = "$D/keyuser.key"; max_concurrent = 1;
             methods = [ "GenerateKey", "SignNonce", "DeleteKey", "GetPublicKey", "ListKeys" ];
             keys = [ "dev-*" ]; };
  device: { secret_file = "$D/device.key";
            methods = [ "*" ]; cas = [ "issuing" ]; profiles = [ "device" ]; };
  registrar: { secret_file = "$D/registrar.key";
               methods = [ "IssueVerificationCertificate" ]; cas = [ "issuing" ]; };
  prover: { secret_file = "$D/prover.key"; methods = [ "*" ]; cas = [ "*" ];
            profiles = [ "device" ]; verification_cas = [ "issuing" ]; };
};
EOF
)
export SIGNET_CONFIG_AUTH
it_write_config "$D/signetd.conf"
it_start

as() { local who=$1 want=$2; shift 2; expect_rc "$want" "$SIGNET" --client "$who" --secret-file "$D/$who.key" "$@"; }

# --- the operator sets up; the factory issues what it may ---
as operator 0 ca create-root root --alg p256 --subject "/CN=Auth Root" --out "$D/root.pem"
as operator 0 ca create-intermediate issuing --parent root --alg p256 --subject "/CN=Auth Issuing"
as operator 0 ca create-intermediate other --parent root --alg p256 --subject "/CN=Auth Other"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/dev.key" 2>/dev/null
openssl req -new -key "$D/dev.key" -subj /CN=dev-1 -out "$D/dev.csr"
as factory 0 issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/dev.pem"
SIGNET_CLIENT=factory SIGNET_SECRET_FILE=$D/factory.key expect_rc 0 "$SIGNET" health

# --- authentication refusals: 26 ---
expect_rc 26 "$SIGNET" ca list
[[ $IT_ERR == *"credential is required"* ]] || it_fail "no credential: $IT_ERR"
openssl rand -hex 32 >"$D/nobody.key"
as nobody 26 health
[[ $IT_ERR == *"no client named 'nobody'"* ]] || it_fail "unknown client: $IT_ERR"
expect_rc 26 "$SIGNET" --client operator --secret-file "$D/factory.key" ca list
[[ $IT_ERR == *"MAC does not verify"* ]] || it_fail "wrong secret: $IT_ERR"
SIGNET_ENDPOINT=$SIGNET_ENDPOINT SIGNET_CLIENT=factory SIGNET_SECRET_FILE=$D/factory.key \
	"$SIGNET_BUILD_DIR/tests/integration/itest_auth" >"$D/itest_auth.log" 2>&1 ||
	it_fail "stale and replayed credentials: $(cat "$D/itest_auth.log")"

# --- authorization refusals: 17, each naming its rule ---
as factory 17 ca list
[[ $IT_ERR == *"may not call ListCas (not in clients.factory.methods)"* ]] || it_fail "method: $IT_ERR"
as factory 17 issue --ca other --profile device --csr "$D/dev.csr" --out "$D/x.pem"
[[ $IT_ERR == *"may not use CA 'other' (not in clients.factory.cas)"* ]] || it_fail "CA: $IT_ERR"
as factory 17 issue --ca issuing --profile server --csr "$D/dev.csr" --out "$D/x.pem"
[[ $IT_ERR == *"profile 'server'"* ]] || it_fail "profile: $IT_ERR"
as keyuser 0 key generate --alg p256 dev-1
as keyuser 17 key generate --alg p256 prod-1
[[ $IT_ERR == *"may not use key 'prod-1' (not in clients.keyuser.keys)"* ]] || it_fail "key: $IT_ERR"
as keyuser 17 key delete dev-1
[[ $IT_ERR == *"DeleteKey is an admin method"* ]] || it_fail "admin: $IT_ERR"
# a listing shows a client the keys its rules name, not every key on the token
as operator 0 key generate --alg p256 ops-1
as keyuser 0 key list
grep -q '^dev-1 ' "$D/out" || it_fail "keyuser's key list misses dev-1: $(cat "$D/out")"
grep -q '^ops-1 ' "$D/out" && it_fail "keyuser's key list shows ops-1, a key it may not use"
as operator 0 key list
grep -q '^ops-1 ' "$D/out" && grep -q '^dev-1 ' "$D/out" || it_fail "operator's key list: $(cat "$D/out")"
as factory 17 revoke issuing "$(openssl x509 -in "$D/dev.pem" -noout -serial | cut -d= -f2)"
as operator 0 revoke issuing "$(openssl x509 -in "$D/dev.pem" -noout -serial | cut -d= -f2)"

# --- a verification certificate proves possession of the CA: a glob in
# methods does not grant it; admin, verification_cas or the method's own name do ---
as device 0 issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/dev2.pem"
as device 17 ca verify-code issuing DEVICECODE1
[[ $IT_ERR == *"verification certificate of CA 'issuing'"*"clients.device.verification_cas"* ]] ||
	it_fail "verification certificate for a profile-limited client: $IT_ERR"
as prover 17 ca verify-code other PROVERCODE1
[[ $IT_ERR == *"CA 'other'"*"clients.prover.verification_cas"* ]] || it_fail "verification_cas: $IT_ERR"
as operator 0 ca verify-code issuing OPERATORCODE1 --out "$D/v-operator.pem"
as registrar 0 ca verify-code issuing REGISTRARCODE1 --out "$D/v-registrar.pem"
as prover 0 ca verify-code issuing PROVERCODE2 --out "$D/v-prover.pem"
openssl x509 -in "$D/v-prover.pem" -noout -subject | grep -q PROVERCODE2 ||
	it_fail "the verification certificate does not name its code"

# --- over the concurrency limit: 18 while a slow request of the same client runs ---
got=0
for i in 1 2 3; do
	"$SIGNET" --client keyuser --secret-file "$D/keyuser.key" --timeout 60000 key generate --alg rsa4096 "dev-slow-$i" \
		>/dev/null 2>&1 &
	slow=$!
	sleep 0.3
	rc=0
	"$SIGNET" --client keyuser --secret-file "$D/keyuser.key" key generate --alg p256 "dev-fast-$i" \
		>/dev/null 2>"$D/err" || rc=$?
	wait "$slow" || true
	if ((rc == 18)); then
		grep -q "clients.keyuser.max_concurrent" "$D/err" || it_fail "limit message: $(cat "$D/err")"
		got=1
		break
	fi
done
((got)) || it_fail "a second request of a client with max_concurrent = 1 was never refused"
as operator 0 health # others are served meanwhile and after

# --- refusals are audited, with who asked ---
audit=$D/state/audit.log
grep -q '"caller":"factory","method":"ListCas".*"status":"PERMISSION_DENIED"' "$audit" ||
	it_fail "a refused method is not audited with its caller"
grep -q '"object":"claimed_client=nobody".*"status":"UNAUTHENTICATED"' "$audit" ||
	grep -q '"status":"UNAUTHENTICATED".*claimed_client=nobody' "$audit" ||
	it_fail "an unknown client is not audited"
grep -q '"caller":"operator","method":"Revoke".*"status":"OK"' "$audit" || it_fail "the revocation's caller"
grep -q '"caller":"device","method":"IssueVerificationCertificate","object":"ca=issuing code=DEVICECODE1".*"status":"PERMISSION_DENIED"' "$audit" ||
	it_fail "a refused verification certificate is not audited with its CA and code"
grep -q '"caller":"registrar","method":"IssueVerificationCertificate","object":"ca=issuing code=REGISTRARCODE1 serial=[0-9A-F]*".*"status":"OK"' "$audit" ||
	it_fail "a verification certificate is not audited with its CA and code"
expect_rc 0 "$SIGNET" audit verify "$audit"

# --- no secret anywhere it could leak: log, audit, the daemon's argv ---
tr '\0' ' ' <"/proc/$IT_PID/cmdline" >"$D/cmdline"
for f in operator factory keyuser; do
	s=$(cat "$D/$f.key")
	for where in "$D/signetd.log" "$audit" "$D/cmdline"; do
		grep -qi -- "$s" "$where" && it_fail "the secret of $f is in $where"
	done
done
pin=$(cat "$SIGNET_USER_PIN_FILE")
for where in "$D/signetd.log" "$audit" "$D/cmdline"; do
	grep -qF -- "$pin" "$where" && it_fail "the PIN is in $where"
done

# --- a request captured before a restart is refused after it ---
itest() {
	SIGNET_ENDPOINT=$SIGNET_ENDPOINT SIGNET_CLIENT=factory SIGNET_SECRET_FILE=$D/factory.key \
		"$SIGNET_BUILD_DIR/tests/integration/itest_auth" "$@"
}
itest capture "$D/captured.bin" >"$D/itest_auth.log" 2>&1 || it_fail "capture: $(cat "$D/itest_auth.log")"
it_stop
it_start
itest replay "$D/captured.bin" >"$D/itest_auth.log" 2>&1 ||
	it_fail "a request captured before a restart was accepted after it: $(cat "$D/itest_auth.log")"
grep -q "before signetd started" "$D/itest_auth.log" || it_fail "replay message: $(cat "$D/itest_auth.log")"
as factory 0 health # a fresh request is served at once
it_stop

# --- tcp:// endpoints refuse to start without credentials ---
SIGNET_CONFIG_AUTH='auth: { allow_anonymous = true; };' \
	write_signetd_config "$D/tcp.conf" "$D/state" "$IT_LABEL" "tcp://127.0.0.1:1" 1 info
rc=0
timeout 20 "$SIGNETD" --config "$D/tcp.conf" >"$D/tcp.log" 2>&1 || rc=$?
((rc == 1)) && grep -q "allow_anonymous is for ipc:// endpoints only" "$D/tcp.log" ||
	it_fail "a tcp endpoint without credentials: exit $rc, $(cat "$D/tcp.log")"
echo "auth: OK"
