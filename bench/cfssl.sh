#!/usr/bin/env bash
# cfssl, as Debian's golang-cfssl ships it, signing the same kind of CSR over
# HTTP with a software P-256 CA key and no durable ledger, driven by `hey` at
# the given concurrencies.
#
#   bench/cfssl.sh DIR CSR SECONDS CLIENTS...
#
# Prints one JSON object per concurrency on stdout.
set -euo pipefail

(($# >= 4)) || {
	echo "usage: ${0##*/} DIR CSR SECONDS CLIENTS..." >&2
	exit 2
}
dir=$1 csr=$2 seconds=$3
shift 3
mkdir -p "$dir"
cd "$dir"

cat >ca-csr.json <<'JSON'
{"CN": "cfssl bench CA", "key": {"algo": "ecdsa", "size": 256}}
JSON
cat >config.json <<'JSON'
{"signing": {"default": {"expiry": "8760h",
  "usages": ["digital signature", "client auth"]}}}
JSON
cfssl gencert -initca ca-csr.json 2>/dev/null | cfssljson -bare ca
# the request body: {"certificate_request": "<PEM with \n escapes>"}
printf '{"certificate_request": "%s"}' "$(awk '{printf "%s\\n", $0}' "$csr")" >sign.json

port=
pid=
cleanup() { [[ -z $pid ]] || kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	cfssl serve -address 127.0.0.1 -port "$port" -ca ca.pem -ca-key ca-key.pem \
		-config config.json -loglevel 5 >serve.log 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break 2
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
done
[[ -n $pid ]] || {
	echo "${0##*/}: cfssl serve did not start" >&2
	cat serve.log >&2
	exit 1
}
url=http://127.0.0.1:$port/api/v1/cfssl/sign

# one request outside the clock: the answer is a certificate that verifies
curl -sf -H 'Content-Type: application/json' --data-binary @sign.json "$url" >first.json ||
	{ echo "${0##*/}: cfssl refused the signing request" >&2 && exit 1; }
sed -E 's/.*"certificate":"([^"]*)".*/\1/; s/\\n/\n/g' first.json >first.pem
openssl verify -CAfile ca.pem first.pem >/dev/null

for clients in "$@"; do
	out=$(hey -z "${seconds}s" -c "$clients" -m POST -T application/json -D sign.json "$url")
	ok=$(awk '/\[200\]/ {print $2}' <<<"$out")
	bad=$(grep -E '^\s+\[[0-9]+\]' <<<"$out" | grep -vc '\[200\]' || true)
	[[ -n $ok ]] && ((bad == 0)) || {
		echo "${0##*/}: cfssl answered with errors at $clients clients:" >&2
		echo "$out" >&2
		exit 1
	}
	awk -v c="$clients" -v ok="$ok" -v s="$seconds" '
		/Requests\/sec:/ { rate = $2 }
		/ 50% in / { p50 = $3 * 1e6 }
		/ 99% in / { p99 = $3 * 1e6 }
		END { printf "{\"clients\":%d,\"ops\":%d,\"seconds\":%.2f,\"rate\":%.0f,\"p50_us\":%d,\"p99_us\":%d}\n",
			c, ok, s, rate, p50, p99 }' <<<"$out"
done
