#!/usr/bin/env bash
# Regenerate fuzz_scep's fixture and seeds with the openssl CLI and
# itest_scepsign from a build tree:
#
#   tests/fuzz/make-scep-seeds.sh [BUILD_DIR]   (default: build)
#
# Writes tests/fuzz/pki/scep-ra.{key,pem} (a throwaway RSA RA key, for the
# fuzz target only: it never certifies anything) and corpus/scep/* (PKCSReq
# with AES-128, 3DES, DES and OAEP envelopes, a CertPoll, a RenewalReq shape,
# one to another RA). Rerun it as a whole: the seeds are encrypted to the key.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
build=$(cd "${1:-$here/../../build}" && pwd -P)
sign=$build/tests/integration/itest_scepsign
[[ -x $sign ]] || { echo "no $sign: build first" >&2; exit 1; }
pki=$here/pki seeds=$here/corpus/scep
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$pki" "$seeds"
cd "$tmp"
rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
rsa ra.key
openssl req -x509 -new -key ra.key -subj "/CN=Fuzz SCEP RA" -days 36500 -out ra.pem
rsa other.key
openssl req -x509 -new -key other.key -subj "/CN=Another RA" -days 36500 -out other.pem
rsa dev.key
openssl req -x509 -new -key dev.key -subj /CN=dev-1 -days 36500 -out dev.pem
printf '[req]\ndistinguished_name=dn\nattributes=a\nprompt=no\n[dn]\nCN=dev-1\n[a]\nchallengePassword=secret\n' >req.cnf
openssl req -new -key dev.key -config req.cnf -outform DER -out csr.der
# seed NAME TYPE RECIPIENT CIPHER...
seed() {
	local name=$1 type=$2 to=$3
	shift 3
	openssl cms -encrypt -binary -in csr.der -outform DER -out env.der -recip "$to" "$@"
	"$sign" env.der dev.pem dev.key "$type" "tx-$name" "$seeds/$name"
}
seed pkcsreq-aes128 19 ra.pem -aes128
seed pkcsreq-des3 19 ra.pem -des3
seed pkcsreq-des 19 ra.pem -des -provider legacy -provider default
seed pkcsreq-oaep 19 ra.pem -aes256 -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256
seed certpoll 20 ra.pem -aes128
seed renewalreq 17 ra.pem -aes128
seed other-ra 19 other.pem -aes128
cp ra.key "$pki/scep-ra.key"
cp ra.pem "$pki/scep-ra.pem"
