#!/usr/bin/env bash
# signet end to end on a fresh SoftHSM token, step by step.
#
#   scripts/demo.sh
#
# Installs missing packages, builds signetd and the signet CLI in build/ (or
# $SIGNET_BUILD_DIR), creates a throwaway token, starts signetd on it and walks
# through generating a key in the token, exporting its public key, making a
# CSR and signing a nonce, building a root -> intermediate -> issuing CA chain
# on the token, answering a cloud registry's verification code, issuing device
# certificates (for a key made outside the daemon and for the token key),
# proving possession of the token key against a challenge (and refusing its
# replay), showing refusals, renewing the issuing CA, revoking it (its devices fail
# CRL-checked verification, a sibling CA's pass), checking the audit trail,
# checking every result with OpenSSL and showing with
# pkcs11-tool that the private key cannot leave the token. Last, one SCEP
# enrolment: signetd restarted with declared clients and an enrolment door,
# signet-gatewayd in front of it on 127.0.0.1, and micromdm/scep's client
# code (Debian's) enrolling a device with a single-use code. Then it stops
# both daemons. The temporary directory is removed at the end unless SIGNET_DEMO_KEEP=1.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SIGNET_ROOT"

build=${SIGNET_BUILD_DIR:-build}
label=signet-demo
key=device-1

scripts/deps.sh

step "build signetd and the signet CLI in $build/"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build "$build" -j"$(build_jobs)" >&2
daemon_bin=$SIGNET_ROOT/$build/daemon/signetd
cli_bin=$SIGNET_ROOT/$build/client/cli/signet
[[ $build == /* ]] && daemon_bin=$build/daemon/signetd cli_bin=$build/client/cli/signet
[[ -x $daemon_bin ]] || die "$daemon_bin was not built"
[[ -x $cli_bin ]] || die "$cli_bin was not built"

gatewayd_bin=$SIGNET_ROOT/$build/client/gateway/signet-gatewayd
[[ $build == /* ]] && gatewayd_bin=$build/client/gateway/signet-gatewayd
[[ -x $gatewayd_bin ]] || die "$gatewayd_bin was not built"

dir=$(mktemp -d "${TMPDIR:-/tmp}/signet-demo.XXXXXX")
SIGNETD_PID=
GATEWAYD_PID=
cleanup() {
	local rc=$?
	[[ -z $GATEWAYD_PID ]] || kill -TERM "$GATEWAYD_PID" 2>/dev/null || true
	end_run "$rc" "$dir" "${SIGNET_DEMO_KEEP:-0}" 40
	((rc == 0)) || say "demo FAILED (exit $rc)"
}
trap cleanup EXIT

step "create a fresh SoftHSM token '$label' in $dir/tokens"
token_env=$(scripts/softhsm-token.sh "$dir" "$label")
# Exports SOFTHSM2_CONF among others: signetd and pkcs11-tool inherit it, and
# it is how SoftHSM2 finds this token instead of the system store.
eval "$token_env"
module=$SIGNET_PKCS11_MODULE
endpoint=ipc://$dir/signetd.sock

conf=$dir/signetd.conf
write_signetd_config "$conf" "$dir/state" "$label" "$endpoint" 2 info
mkdir -p "$dir/state"
say "config: $conf"
sed 's/^/    /' "$conf" >&2

signet() {
	printf '$ signet %s\n' "$*" >&2
	"$cli_bin" --endpoint "$endpoint" "$@"
}

step "start signetd (log: $dir/signetd.log)"
# Bounded wait: health answers once the workers serve; `timeout` guards
# against a client that would wait for its full request timeout.
start_signetd "$daemon_bin" "$conf" "$dir/signetd.log" \
	timeout 5 "$cli_bin" --endpoint "$endpoint" --timeout 1000 health
signet health

step "ask the daemon what it is and which token it serves"
signet info

step "generate an EC P-256 key pair inside the token"
signet key generate --alg p256 "$key"

step "export the public key (the private key stays in the token)"
signet key pub "$key" --out "$dir/$key.pub.pem"
cat "$dir/$key.pub.pem"

step "create a certificate signing request signed by the token key, and check it with OpenSSL"
signet csr "$key" --subject "/CN=$key/O=Signet Demo" --out "$dir/$key.csr.pem"
openssl req -in "$dir/$key.csr.pem" -verify -noout -text

step "sign a random 32-byte nonce with the token key, and verify it with OpenSSL"
openssl rand -out "$dir/nonce.bin" 32
signet sign "$key" --in "$dir/nonce.bin" --out "$dir/nonce.sig"
openssl dgst -sha256 -verify "$dir/$key.pub.pem" -signature "$dir/nonce.sig" "$dir/nonce.bin"

step "build a CA hierarchy whose keys never leave the token: root -> intermediate -> issuing"
signet ca create-root demo-root --alg p256 --subject "/CN=Signet Demo Root/O=Signet Demo" \
	--days 3650 --out "$dir/root.pem"
signet ca create-intermediate demo-intermediate --parent demo-root --alg p256 \
	--subject "/CN=Signet Demo Intermediate/O=Signet Demo"
signet ca create-intermediate demo-issuing --parent demo-intermediate --alg p256 \
	--subject "/CN=Signet Demo Issuing/O=Signet Demo" --days 1825
signet ca list
signet ca chain demo-issuing --out "$dir/chain.pem"
openssl verify -CAfile "$dir/root.pem" -untrusted "$dir/chain.pem" "$dir/chain.pem"

step "a cloud registry asks for proof of possession of the root: issue the verification certificate for its code"
# Azure IoT Hub/DPS and AWS IoT hand out a code; the answer is a certificate with
# CN = that code, signed by the CA's key (here on the token), for a throwaway key.
code=$(openssl rand -hex 16)
say "the registry's verification code: $code"
signet ca verify-code demo-root "$code" --out "$dir/verification.pem"
openssl verify -CAfile "$dir/root.pem" "$dir/verification.pem"
cn=$(openssl x509 -in "$dir/verification.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
[[ $cn == "$code" ]] || die "the verification certificate's CN is '$cn', not the code '$code'"
openssl x509 -in "$dir/verification.pem" -noout -ext basicConstraints | grep -q 'CA:FALSE' ||
	die "the verification certificate is a CA certificate"
say "OK: CN = the registry's code, CA:FALSE, signed by the root; upload $dir/verification.pem"
openssl x509 -in "$dir/verification.pem" -noout -subject -dates

# check_device CERT DEVICE_ID: the chain verifies to the root and CN = device ID.
check_device() {
	local cert=$1 id=$2 cn
	openssl verify -CAfile "$dir/root.pem" -untrusted "$dir/chain.pem" "$cert"
	cn=$(openssl x509 -in "$cert" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
	[[ $cn == "$id" ]] || die "the certificate's CN is '$cn', not the device ID '$id'"
	say "OK: CN = device ID = $id"
	openssl x509 -in "$cert" -noout -serial -dates -ext keyUsage,extendedKeyUsage,authorityKeyIdentifier
}

device_id=factory-dev-0001
step "a device makes its own key and CSR (as on a real device); signet issues it a certificate"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$device_id.key"
openssl req -new -key "$dir/$device_id.key" -subj "/CN=$device_id" -out "$dir/$device_id.csr"
signet issue --ca demo-issuing --profile device --csr "$dir/$device_id.csr" --out "$dir/$device_id.pem"
check_device "$dir/$device_id.pem" "$device_id"

step "the token key '$key' gets a device certificate for the CSR made above"
signet issue --ca demo-issuing --profile device --csr "$dir/$key.csr.pem" --out "$dir/$key.pem"
check_device "$dir/$key.pem" "$key"

step "proof of possession: the server challenges '$key', the device signs the nonce in the token"
signet challenge create --device-id "$key" --nonce-out "$dir/challenge.nonce" | tee "$dir/challenge.txt"
challenge_id=$(cut -d' ' -f1 "$dir/challenge.txt")
signet sign "$key" --in "$dir/challenge.nonce" --out "$dir/challenge.sig"
cat "$dir/$key.pem" "$dir/chain.pem" >"$dir/$key.chain.pem"
signet challenge verify "$challenge_id" --chain "$dir/$key.chain.pem" --sig "$dir/challenge.sig"
say "OK: possession proven"
step "the same answer again is a replay, and is refused"
if signet challenge verify "$challenge_id" --chain "$dir/$key.chain.pem" --sig "$dir/challenge.sig"; then
	die "a replayed challenge was accepted"
fi
say "OK: the replay was refused"

step "the profile refuses what it must: a CN that is not a device ID, a CSR whose signature fails"
openssl req -new -key "$dir/$device_id.key" -subj "/CN=not a device id!" -out "$dir/bad.csr"
if signet issue --ca demo-issuing --profile device --csr "$dir/bad.csr" --out /dev/null; then
	die "a CSR with a bad device ID was signed"
fi
openssl req -in "$dir/$device_id.csr" -outform DER -out "$dir/$device_id.der"
LC_ALL=C sed "s/$device_id/factory-dev-0002/" "$dir/$device_id.der" >"$dir/forged.der"
if signet issue --ca demo-issuing --profile device --csr "$dir/forged.der" --out /dev/null; then
	die "a CSR whose signature does not verify was signed"
fi
say "OK: both refused, with the rule named"

step "renew the issuing CA (same key, new certificate): what it issued before still verifies"
signet ca renew demo-issuing --out "$dir/issuing-renewed.pem"
signet ca chain demo-issuing --out "$dir/chain.pem"
check_device "$dir/$device_id.pem" "$device_id"

step "every certificate is in the ledger, recorded before it was returned"
signet ledger list --ca demo-issuing

step "revoke the issuing CA: its devices fail CRL-checked verification, a sibling CA's still pass"
signet ca create-intermediate demo-issuing-b --parent demo-intermediate --alg p256 \
	--subject "/CN=Signet Demo Issuing B/O=Signet Demo" --days 365
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/sibling.key"
openssl req -new -key "$dir/sibling.key" -subj "/CN=factory-dev-0002" -out "$dir/sibling.csr"
signet issue --ca demo-issuing-b --profile device --csr "$dir/sibling.csr" --out "$dir/sibling.pem"
issuing_serial=$(openssl x509 -in "$dir/issuing-renewed.pem" -noout -serial | cut -d= -f2)
signet revoke demo-intermediate "$issuing_serial" --reason cessationOfOperation
for ca in demo-root demo-intermediate demo-issuing demo-issuing-b; do
	signet crl "$ca" --out "$dir/$ca.crl"
done
cat "$dir"/*.crl >"$dir/crls.pem"
signet ca chain demo-issuing-b --out "$dir/chain-b.pem"
cat "$dir/chain.pem" "$dir/chain-b.pem" >"$dir/untrusted.pem"
crl_verify() {
	openssl verify -crl_check_all -CAfile "$dir/root.pem" -untrusted "$dir/untrusted.pem" \
		-CRLfile "$dir/crls.pem" "$1" 2>&1 || true
}
verdict=$(crl_verify "$dir/$device_id.pem")
printf '%s\n' "$verdict" >&2
[[ $verdict == *"certificate revoked"* ]] || die "a device of the revoked CA still verifies"
verdict=$(crl_verify "$dir/sibling.pem")
printf '%s\n' "$verdict" >&2
[[ $verdict == *": OK"* ]] || die "a device of the sibling CA no longer verifies"
say "OK: the revoked CA's device is refused, the sibling's passes"

step "the audit trail: every privileged act, hash-chained; check the chain"
tail -n 2 "$dir/state/audit.log" >&2
signet audit verify "$dir/state/audit.log"

step "list the keys in the token"
signet key list

step "ask the token itself (pkcs11-tool) whether the private key could ever leave it"
# The PIN goes to pkcs11-tool through its environment only.
objects=$(SIGNET_DEMO_PIN=$(<"$SIGNET_USER_PIN_FILE") \
	pkcs11-tool --module "$module" --token-label "$label" --login --pin env:SIGNET_DEMO_PIN \
	--list-objects --type privkey 2>/dev/null) || die "pkcs11-tool could not list the token's private keys"
# --label does not filter --list-objects: pick the block of our key.
block=$(awk -v want="$key" '
	/^[^ ].*Object;/ { inkey = ($0 ~ /^Private Key Object/); head = $0; lab = ""; next }
	inkey && /^  label:/ { lab = $0; sub(/^  label: */, "", lab);
		if (lab == want) print head }
	inkey && lab == want { print }' <<<"$objects")
[[ -n $block ]] || die "pkcs11-tool shows no private key labelled $key"
printf '%s\n' "$block"
access=$(sed -n 's/^ *Access: *//p' <<<"$block")
# Attributes are listed as "sensitive, always sensitive, never extractable, local".
IFS=, read -r -a attrs <<<"$access"
sensitive=0 extractable=0
for a in "${attrs[@]}"; do
	a=${a# }
	[[ $a == sensitive ]] && sensitive=1
	[[ $a == extractable ]] && extractable=1
done
((sensitive)) || die "the private key is not CKA_SENSITIVE"
((!extractable)) || die "the private key is CKA_EXTRACTABLE"
say "OK: the private key is sensitive and never extractable"

step "SCEP: an RSA key for the registration authority, which decrypts what SCEP clients send"
signet key generate --alg rsa2048 --purpose ra demo-scep-ra
signet csr demo-scep-ra --subject "/CN=Signet Demo SCEP RA/O=Signet Demo" --out "$dir/scep-ra.csr"
signet issue --ca demo-issuing-b --profile scep-ra --csr "$dir/scep-ra.csr" --out "$dir/scep-ra.pem"

step "SCEP: restart signetd with clients (an admin, and the gateway's own) and an enrolment door"
kill -TERM "$SIGNETD_PID"
wait "$SIGNETD_PID" || die "signetd did not stop cleanly"
SIGNETD_PID=
make_client_secrets "$dir/admin.secret" "$dir/gateway.secret"
SIGNET_CONFIG_AUTH=$(
	cat <<CONF
auth: { allow_anonymous = false; };
clients: {
  admin: { secret_file = "$dir/admin.secret"; methods = [ "*" ]; cas = [ "*" ]; profiles = [ "*" ];
           keys = [ "*" ]; enrolments = [ "*" ]; admin = true; };
  gateway: { secret_file = "$dir/gateway.secret";
             methods = [ "GetEnrolmentCaCerts", "ScepOperation", "EstEnroll", "GetEnrolmentCsrAttrs" ];
             enrolments = [ "mdm", "factory" ]; };
};
CONF
) write_signetd_config "$conf" "$dir/state" "$label" "$endpoint" 2 info
cat >>"$conf" <<CONF
enrolment: {
  mdm: { protocol = "scep"; ca = "demo-issuing-b"; profile = "device"; ra_key = "demo-scep-ra"; challenge = "codes"; };
  factory: { protocol = "est"; ca = "demo-issuing-b"; profile = "device"; codes = true; };
};
CONF
sed -n '/^clients/,$p' "$conf" | sed 's/^/    /' >&2
export SIGNET_CLIENT=admin SIGNET_SECRET_FILE=$dir/admin.secret
start_signetd "$daemon_bin" "$conf" "$dir/signetd.log" \
	timeout 5 "$cli_bin" --endpoint "$endpoint" --timeout 1000 health

step "SCEP: start signet-gatewayd on 127.0.0.1 (log: $dir/gatewayd.log)"
start_gatewayd "$gatewayd_bin" "$dir/gatewayd.conf" "$dir/gatewayd.log" "$endpoint" "$dir/gateway.secret"
port=$GATEWAYD_PORT
scep_url=http://127.0.0.1:$port/scep/mdm
say "\$ curl '$scep_url?operation=GetCACaps'"
curl -fsS "$scep_url?operation=GetCACaps" >&2
curl -fsS -o "$dir/scep-ca.p7" "$scep_url?operation=GetCACert"
openssl pkcs7 -inform DER -in "$dir/scep-ca.p7" -print_certs -noout >&2

step "SCEP: a device enrols with a single-use code, through micromdm/scep's client (Debian's Go packages)"
build_scepclient "$dir/scepclient" "$dir/go" >&2
scep_device=mdm-dev-0001
scep_code=$(signet enrol code mdm --device-id "$scep_device" | cut -d' ' -f1)
say "the code an MDM would put in the device's SCEP profile: $scep_code"
"$dir/scepclient" -url "$scep_url" -challenge "$scep_code" -cn "$scep_device" \
	-key "$dir/$scep_device.key" -cert "$dir/$scep_device.pem"
signet ca chain demo-issuing-b --out "$dir/chain-b.pem"
openssl verify -CAfile "$dir/root.pem" -untrusted "$dir/chain-b.pem" "$dir/$scep_device.pem"
openssl x509 -in "$dir/$scep_device.pem" -noout -subject -serial -ext extendedKeyUsage
step "SCEP: the same code again is refused in the CertRep (FAILURE)"
if "$dir/scepclient" -url "$scep_url" -challenge "$scep_code" -cn "$scep_device" \
	-key "$dir/x.key" -cert "$dir/x.pem"; then
	die "a used enrolment code was accepted"
fi
say "OK: refused"
tail -n 3 "$dir/gatewayd.log" >&2
kill -TERM "$GATEWAYD_PID"
wait "$GATEWAYD_PID" || die "signet-gatewayd did not stop cleanly"
GATEWAYD_PID=

step "EST: signet-gatewayd on HTTPS, its TLS certificate issued by signet (profile server)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/est-tls.key" \
	-subj /CN=est-gateway -addext subjectAltName=IP:127.0.0.1 -out "$dir/est-tls.csr" 2>/dev/null
chmod 600 "$dir/est-tls.key"
signet issue --ca demo-issuing-b --profile server --csr "$dir/est-tls.csr" --out "$dir/est-tls-leaf.pem"
cat "$dir/est-tls-leaf.pem" "$dir/chain-b.pem" >"$dir/est-tls.pem"
start_gatewayd "$gatewayd_bin" "$dir/gatewayd-est.conf" "$dir/gatewayd-est.log" "$endpoint" "$dir/gateway.secret" \
	"tls = { certificate = \"$dir/est-tls.pem\"; key = \"$dir/est-tls.key\"; };
est = { enabled = true; default = \"factory\"; };" "$dir/root.pem"
port=$GATEWAYD_PORT
est_url=https://127.0.0.1:$port/.well-known/est

step "EST: a device enrols with curl and a single-use code (HTTP Basic)"
est_device=est-dev-0001
est_code=$(signet enrol code factory --device-id "$est_device" | cut -d' ' -f1)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$est_device.key" \
	-subj "/CN=$est_device" -outform DER 2>/dev/null | base64 >"$dir/$est_device.csr.b64"
say "\$ curl --cacert root.pem -u $est_device:CODE --data-binary @csr.b64 $est_url/simpleenroll"
curl -fsS --cacert "$dir/root.pem" -u "$est_device:$est_code" -H 'Content-Type: application/pkcs10' \
	--data-binary "@$dir/$est_device.csr.b64" "$est_url/simpleenroll" | tr -d '\r' | base64 -d |
	openssl pkcs7 -inform DER -print_certs -out "$dir/$est_device.pem"
openssl verify -CAfile "$dir/root.pem" -untrusted "$dir/chain-b.pem" "$dir/$est_device.pem"
openssl x509 -in "$dir/$est_device.pem" -noout -subject -serial
step "EST: it renews with /simplereenroll, authenticated by the certificate it has"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$est_device-2.key" \
	-subj "/CN=$est_device" -outform DER 2>/dev/null | base64 >"$dir/$est_device-2.csr.b64"
curl -fsS --cacert "$dir/root.pem" --cert "$dir/$est_device.pem" --key "$dir/$est_device.key" \
	-H 'Content-Type: application/pkcs10' --data-binary "@$dir/$est_device-2.csr.b64" \
	"$est_url/simplereenroll" | tr -d '\r' | base64 -d |
	openssl pkcs7 -inform DER -print_certs -out "$dir/$est_device-2.pem"
openssl verify -CAfile "$dir/root.pem" -untrusted "$dir/chain-b.pem" "$dir/$est_device-2.pem"
signet ledger list --subject "$est_device" --all >&2
tail -n 2 "$dir/gatewayd-est.log" >&2
kill -TERM "$GATEWAYD_PID"
wait "$GATEWAYD_PID" || die "signet-gatewayd (EST) did not stop cleanly"
GATEWAYD_PID=

step "stop signetd with SIGTERM"
kill -TERM "$SIGNETD_PID"
status=0
wait "$SIGNETD_PID" || status=$?
SIGNETD_PID=
((status == 0)) || die "signetd exited with status $status"
say "signetd exited with status 0"
[[ ! -e $dir/signetd.sock ]] || die "signetd left its socket $dir/signetd.sock behind"
say "and removed its socket $dir/signetd.sock"

step "demo finished: every signature and request above was checked by OpenSSL"
