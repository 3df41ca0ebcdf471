# shellcheck shell=bash
# Shared set-up of the libsignet-pkcs11 tests (pkcs11_tool.sh, pkcs11_tls.sh):
# a signetd with three clients, keys and a device certificate, and a module
# configuration per client. Source it after lib.sh.
#
#   admin  everything
#   gw     ListKeys, GetPublicKey, GetIssued, SignNonce on keys device-*
#   rogue  the same methods on keys rogue-* only
#
# Keys: device-1 (P-256, with a client certificate from CA issuing),
# device-rsa (RSA 2048), rogue-1 (P-256, with a certificate too), other-1
# (P-256, nobody's but admin's). $P11_MODULE is the module,
# $IT_DIR/gw.conf and rogue.conf its configurations, $IT_DIR/root.pem and
# chain.pem the CAs, $IT_DIR/device-1.pem, device-1.pub, device-rsa.pub the
# device's certificate and public keys.
P11_MODULE="$SIGNET_BUILD_DIR/client/pkcs11/libsignet-pkcs11.so"

# p11_consumer CMD...: run CMD, a program not built here (pkcs11-tool, openssl,
# mosquitto, curl) that loads the module. A sanitizer build's module needs the
# ASan and UBSan runtimes first in the process: preload them. Their leak check
# is off: it would report the programs' own leaks (itest_pkcs11, built here,
# checks the module's).
P11_PRELOAD=
# (nm's output in a variable: grep -q at the end of a pipe would cut nm off, and pipefail fail it)
p11_syms=$(nm -D "$P11_MODULE" 2>/dev/null || true)
if [[ $p11_syms == *" U __asan_init"* ]]; then
	P11_PRELOAD="$(cc -print-file-name=libasan.so):$(cc -print-file-name=libubsan.so)"
fi
# p11_consumer_plain CMD...: the same for a program that hangs with a preloaded
# ASan runtime (curl, in setlocale()): a sanitizer build's copy of the module
# without sanitizers (libsignet-pkcs11-plain.so), named by PKCS11_MODULE_PATH.
P11_PLAIN_MODULE="$SIGNET_BUILD_DIR/client/pkcs11/libsignet-pkcs11-plain.so"
p11_consumer_plain() {
	if [[ -n $P11_PRELOAD ]]; then
		[[ -f $P11_PLAIN_MODULE ]] || it_fail "$P11_PLAIN_MODULE not built"
		PKCS11_MODULE_PATH=$P11_PLAIN_MODULE "$@"
	else
		"$@"
	fi
}
p11_consumer() {
	if [[ -n $P11_PRELOAD ]]; then
		LD_PRELOAD=$P11_PRELOAD ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 "$@"
	else
		"$@"
	fi
}

# p11_admin ARGS...: the signet CLI as admin.
p11_admin() { expect_rc 0 "$SIGNET" --client admin --secret-file "$IT_DIR/admin.key" "$@"; }

# p11_conf CLIENT: a module configuration for CLIENT in $IT_DIR/CLIENT.conf.
p11_conf() {
	cat >"$IT_DIR/$1.conf" <<EOF2
endpoints = [ "$SIGNET_ENDPOINT" ];
client = "$1";
secret_file = "$IT_DIR/$1.key";
label = "signet";
timeout_ms = 5000;
retries = 2;
EOF2
}

p11_setup() {
	[[ -f $P11_MODULE ]] || it_fail "$P11_MODULE not built"
	it_setup
	make_client_secrets "$IT_DIR/admin.key" "$IT_DIR/gw.key" "$IT_DIR/rogue.key"
	local m='methods = [ "ListKeys", "GetPublicKey", "GetIssued", "SignNonce" ];'
	SIGNET_CONFIG_AUTH=$(
		cat <<EOF2
clients: {
  admin: { secret_file = "$IT_DIR/admin.key"; admin = true; methods = [ "*" ];
           cas = [ "*" ]; profiles = [ "*" ]; keys = [ "*" ]; };
  gw: { secret_file = "$IT_DIR/gw.key"; $m keys = [ "device-*" ]; };
  rogue: { secret_file = "$IT_DIR/rogue.key"; $m keys = [ "rogue-*" ]; };
};
EOF2
	)
	export SIGNET_CONFIG_AUTH
	it_write_config "$IT_DIR/signetd.conf"
	it_start
	p11_admin key generate --alg p256 device-1
	p11_admin key generate --alg rsa2048 device-rsa
	p11_admin key generate --alg p256 rogue-1
	p11_admin key generate --alg p256 other-1
	p11_admin key pub device-1 --out "$IT_DIR/device-1.pub"
	p11_admin key pub device-rsa --out "$IT_DIR/device-rsa.pub"
	p11_admin ca create-root root --alg p256 --subject "/CN=PKCS11 Test Root" --out "$IT_DIR/root.pem"
	p11_admin ca create-intermediate issuing --parent root --alg p256 --subject "/CN=PKCS11 Test Issuing"
	p11_admin ca chain issuing --out "$IT_DIR/chain.pem"
	local k
	for k in device-1 rogue-1; do
		p11_admin csr "$k" --subject "/CN=$k" --out "$IT_DIR/$k.csr"
		p11_admin issue --ca issuing --profile device --csr "$IT_DIR/$k.csr" --out "$IT_DIR/$k.pem"
	done
	p11_conf gw
	p11_conf rogue
}
