#!/usr/bin/env bash
# What factory scripts do without signet: one `openssl x509 -req` process per
# certificate, the CA key on the same token through libp11's pkcs11 engine.
#
#   bench/openssl-x509.sh DIR CA_CERT KEY_URI PIN_FILE CSR COUNT PARALLEL
#
# KEY_URI is an RFC 7512 URI for the CA's private key. The PIN goes from
# PIN_FILE into the engine's section of an OpenSSL config made in DIR (mode
# 0600), so it is on no command line. Signs COUNT
# certificates for CSR, PARALLEL processes at a time, each with the
# extensions signet's device profile gives (key usage, EKU, SKI/AKI), and
# prints one JSON object on stdout. $SIGNET_PKCS11_MODULE names the module.
set -euo pipefail

(($# == 7)) || {
	echo "usage: ${0##*/} DIR CA_CERT KEY_URI PIN_FILE CSR COUNT PARALLEL" >&2
	exit 2
}
dir=$1 ca=$2 uri=$3 pin_file=$4 csr=$5 count=$6 parallel=$7
engine=$(dpkg -L libengine-pkcs11-openssl | grep -m1 '/engines-3/pkcs11.so$') ||
	{ echo "${0##*/}: libengine-pkcs11-openssl is not installed" >&2 && exit 1; }
mkdir -p "$dir/out"

umask 077
cat >"$dir/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = ${SIGNET_PKCS11_MODULE:?}
PIN = $(tr -d '\n' <"$pin_file")
init = 0
CNF
cat >"$dir/device.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT

# SoftHSM2 sometimes crashes when several processes open one token at once
# (a reason to have one daemon own it): a failed process is retried, as a
# factory script would, and counted.
sign_one() {
	local try
	for try in 1 2 3 4 5; do
		OPENSSL_CONF=$dir/openssl.cnf openssl x509 -req -in "$csr" -engine pkcs11 \
			-CAkeyform engine -CAkey "$uri" -CA "$ca" -set_serial "0x$(openssl rand -hex 16)" \
			-days 365 -sha256 -extfile "$dir/device.ext" -out "$dir/out/$1.pem" \
			2>"$dir/out/$1.err" && return 0
		echo "$1 try $try" >>"$dir/failed"
	done
	return 1
}
export -f sign_one
export dir csr uri ca

# one check outside the clock: the path works and the result verifies
sign_one check >/dev/null 2>&1 || {
	cat "$dir/out/check.err" >&2
	exit 1
}
openssl verify -partial_chain -CAfile "$ca" "$dir/out/check.pem" >/dev/null

start=$(date +%s%N)
: >"$dir/failed"
seq "$count" | xargs -P "$parallel" -I{} bash -c 'sign_one {} 2>/dev/null'
end=$(date +%s%N)
failed=$(wc -l <"$dir/failed")
made=$(find "$dir/out" -name '[0-9]*.pem' -size +0 | wc -l)
((made == count)) || {
	echo "${0##*/}: only $made of $count certificates were made" >&2
	exit 1
}
awk -v n="$count" -v p="$parallel" -v ns="$((end - start))" -v f="$failed" 'BEGIN {
	printf "{\"clients\":%d,\"ops\":%d,\"seconds\":%.2f,\"rate\":%.1f,\"mean_ms\":%.1f,\"retried\":%d}\n",
		p, n, ns / 1e9, n / (ns / 1e9), ns / 1e6 / n * p, f }'
