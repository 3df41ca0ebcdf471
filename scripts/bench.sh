#!/usr/bin/env bash
# signet's throughput and latency next to the token's own limit, in one run.
#
#   scripts/bench.sh [--quick] [--json FILE]
#
# Installs what is missing (scripts/deps.sh --bench), builds a Release tree in
# build-bench/ (or $SIGNET_BENCH_BUILD_DIR), creates a fresh SoftHSM token and
# measures, on that token and in this run:
#   1. C_Sign (ECDSA P-256, 32-byte digest) straight on the module: the baseline;
#      and a nanomsg ipc echo with signetd's worker pattern: the IPC floor
#   2. SignNonce through signetd over ipc://, 1/4/16/64 clients, and
#      SignNonceBatch (16 digests a request) at 1 and 16; and C_Sign
#      through libsignet-pkcs11.so (the PKCS#11 module over libsignet), 1 and
#      16 threads, against SignNonce at 1 and 16 clients
#   3. SignCsr through signetd (P-256 CA key on the token, device profile,
#      ledger durable), 1/16/64 clients; at 16 clients again with the records
#      on PostgreSQL (a private server started here, fsync on), against
#      SQLite's row; SignCsrBatch, 1 and 4 clients, batches of 16 and 256
#      (certificates/s, p99 per batch); and SCEP enrolments (PKCSReq with a
#      single-use code, RSA-2048 device keys) through signet-gatewayd by
#      micromdm/scep's client code, 16 clients; and EST enrolments
#      (simpleenroll with a single-use code by HTTP Basic, P-256 device keys)
#      over HTTPS by curl, 16 at a time, one TLS handshake each
#   4. what users do instead: one `openssl x509 -req` process per certificate
#      with the pkcs11 engine (1 and 16 at a time), and `cfssl serve` with a
#      software key driven at 1/16/64 clients
#   5. signetd's memory: idle, after 100k and 1M SignNonce, and its peak
#   6. OpenSSL's own cost per step of an issuance (parse, verify, sign), the
#      floor under SignCsr whatever signetd does around it
# then prints a table, the ratios against the targets, and a JSON summary
# (also written to FILE, default $build/bench-results.json).
#
# Every client authenticates with an HMAC credential, as a factory line would.
# --quick: 1-second windows and a 20k/100k memory run, to check the harness.
# SIGNET_BENCH_SECONDS overrides the window (default 5).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SIGNET_ROOT"

quick=0
json_out=
while (($#)); do
	case $1 in
	--quick) quick=1 ;;
	--json)
		json_out=${2:?--json wants a file}
		shift
		;;
	*) die "usage: ${0##*/} [--quick] [--json FILE]" ;;
	esac
	shift
done
seconds=${SIGNET_BENCH_SECONDS:-5}
mem_first=100000 mem_total=1000000 openssl_count=200
if ((quick)); then
	seconds=${SIGNET_BENCH_SECONDS:-1}
	mem_first=20000 mem_total=100000 openssl_count=32
fi
ncpu=$(build_jobs)

scripts/deps.sh --bench

build=${SIGNET_BENCH_BUILD_DIR:-build-bench}
[[ $build == /* ]] || build=$SIGNET_ROOT/$build
json_out=${json_out:-$build/bench-results.json}
step "build a Release tree in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGNET_BUILD_TESTS=OFF >&2
cmake --build "$build" -j"$ncpu" >&2
daemon_bin=$build/daemon/signetd
cli_bin=$build/client/cli/signet
raw_bin=$build/bench/signet-bench-raw
echo_bin=$build/bench/signet-bench-echo
load_bin=$build/bench/signet-bench-load
costs_bin=$build/bench/signet-bench-openssl
gatewayd_bin=$build/client/gateway/signet-gatewayd

dir=$(mktemp -d "${TMPDIR:-/tmp}/signet-bench.XXXXXX")
SIGNETD_PID=
GATEWAYD_PID=
PG_SIGNETD_PID=
cleanup() {
	local rc=$?
	[[ -z $GATEWAYD_PID ]] || kill -TERM "$GATEWAYD_PID" 2>/dev/null || true
	[[ -z $PG_SIGNETD_PID ]] || kill -KILL "$PG_SIGNETD_PID" 2>/dev/null || true
	# a subshell: pg_stop dies on failure, and the run's verdict is not its
	[[ -z ${PG_DIR:-} ]] || (pg_stop) >/dev/null 2>&1 || (pg_kill) >/dev/null 2>&1 || true
	end_run "$rc" "$dir" "${SIGNET_BENCH_KEEP:-0}" 20
}
trap cleanup EXIT

step "a fresh SoftHSM token and signetd on it"
eval "$(scripts/softhsm-token.sh "$dir" signet-bench)"
endpoint=ipc://$dir/signetd.sock
make_client_secrets "$dir/admin.key" "$dir/factory.key" "$dir/gateway.key" "$dir/p11.key"
SIGNET_CONFIG_AUTH=$(
	cat <<EOF
clients: {
  admin: { secret_file = "$dir/admin.key"; admin = true; methods = [ "*" ];
           cas = [ "*" ]; profiles = [ "*" ]; keys = [ "*" ]; enrolments = [ "*" ]; };
  gateway: { secret_file = "$dir/gateway.key"; max_concurrent = 64;
             methods = [ "GetEnrolmentCaCerts", "ScepOperation", "EstEnroll" ];
             enrolments = [ "mdm", "est" ]; };
  factory: { secret_file = "$dir/factory.key"; max_concurrent = 256;
             methods = [ "SignCsr", "SignCsrBatch", "SignNonce", "SignNonceBatch" ];
             cas = [ "bench-issuing", "bench-pg-issuing" ];
             profiles = [ "device" ]; keys = [ "bench-nonce" ]; };
  p11: { secret_file = "$dir/p11.key"; max_concurrent = 256;
         methods = [ "GetPublicKey", "SignNonce" ]; keys = [ "bench-nonce" ]; };
};
EOF
)
export SIGNET_CONFIG_AUTH
mkdir -p "$dir/state"
write_signetd_config "$dir/signetd.conf" "$dir/state" signet-bench "$endpoint" 0 warning
admin() { "$cli_bin" --endpoint "$endpoint" --client admin --secret-file "$dir/admin.key" "$@"; }
start_signetd "$daemon_bin" "$dir/signetd.conf" "$dir/signetd.log" admin --timeout 1000 health
admin health >/dev/null
admin key generate --alg p256 bench-nonce >/dev/null
admin ca create-root bench-root --alg p256 --subject "/CN=Bench Root" >/dev/null
admin ca create-intermediate bench-issuing --parent bench-root --alg p256 \
	--subject "/CN=Bench Issuing" >/dev/null
admin ca chain bench-issuing --out "$dir/chain.pem"
openssl x509 -in "$dir/chain.pem" -out "$dir/issuing.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/dev.key"
openssl req -new -key "$dir/dev.key" -subj /CN=bench-device-0001 -out "$dir/dev.csr"
# The SCEP door: an RA key and certificate, then signetd restarted with
# enrolment.mdm (before anything is measured).
admin key generate --alg rsa2048 --purpose ra bench-ra >/dev/null
admin csr bench-ra --subject "/CN=Bench SCEP RA" --out "$dir/ra.csr"
admin issue --ca bench-issuing --profile scep-ra --csr "$dir/ra.csr" --out "$dir/ra.pem"
cat >>"$dir/signetd.conf" <<EOF
enrolment: {
  mdm: { protocol = "scep"; ca = "bench-issuing"; profile = "device"; ra_key = "bench-ra"; challenge = "codes"; };
  est: { protocol = "est"; ca = "bench-issuing"; profile = "device"; codes = true; };
};
EOF
kill -TERM "$SIGNETD_PID"
wait "$SIGNETD_PID" || die "signetd did not stop cleanly"
start_signetd "$daemon_bin" "$dir/signetd.conf" "$dir/signetd.log" admin --timeout 1000 health

# rss_kib FIELD: signetd's VmRSS or VmHWM in KiB.
rss_kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$SIGNETD_PID/status"; }
# field NAME JSON: a number from one of the bench programs' JSON objects.
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\\1/" <<<"$2"; }
load() { "$load_bin" --endpoint "$endpoint" --client factory --secret-file "$dir/factory.key" "$@"; }
idle_rss=$(rss_kib VmRSS)

step "1. the token's own limit: C_Sign straight on the module"
declare -A R
R[raw_1]=$("$raw_bin" --module "$SIGNET_PKCS11_MODULE" --token signet-bench --key bench-nonce \
	--pin-file "$SIGNET_USER_PIN_FILE" --threads 1 --seconds "$seconds")
R[raw_n]=$("$raw_bin" --module "$SIGNET_PKCS11_MODULE" --token signet-bench --key bench-nonce \
	--pin-file "$SIGNET_USER_PIN_FILE" --threads "$ncpu" --seconds "$seconds")
say "${R[raw_1]}" "${R[raw_n]}"
for c in 1 16; do
	R[echo_$c]=$("$echo_bin" --endpoint "ipc://$dir/echo.sock" --clients "$c" --seconds "$seconds")
	say "${R[echo_$c]}"
done

step "2. SignNonce through signetd"
for c in 1 4 16 64; do
	R[nonce_$c]=$(load --op nonce --key bench-nonce --clients "$c" --seconds "$seconds")
	say "${R[nonce_$c]}"
done
# SignNonceBatch: 16 digests a request; rate counts signatures
for c in 1 16; do
	R[nonceb_$c]=$(load --op nonce-batch --batch 16 --key bench-nonce --clients "$c" \
		--seconds "$seconds")
	say "${R[nonceb_$c]}"
done

step "2b. C_Sign through libsignet-pkcs11.so (ECDSA P-256, 32-byte digest)"
# the same harness as the raw baseline, on the module: one session per thread
printf 'endpoints = [ "%s" ];\nclient = "p11";\nsecret_file = "%s";\nkeys = [ "bench-nonce" ];\n' \
	"$endpoint" "$dir/p11.key" >"$dir/p11.conf"
for c in 1 16; do
	# the module takes no PIN: C_Login is accepted and the file's content ignored
	R[p11_$c]=$(SIGNET_PKCS11_CONFIG="$dir/p11.conf" "$raw_bin" \
		--module "$build/client/pkcs11/libsignet-pkcs11.so" --token signet --key bench-nonce \
		--pin-file /dev/null --threads "$c" --seconds "$seconds")
	say "${R[p11_$c]}"
done

step "3. SignCsr through signetd (device profile, ledger durable)"
for c in 1 16 64; do
	R[csr_$c]=$(load --op csr --ca bench-issuing --profile device --clients "$c" --seconds "$seconds")
	say "${R[csr_$c]}"
done

step "3a. SignCsrBatch through signetd, batches of 16 and 256"
for c in 1 4; do
	for b in 16 256; do
		R[batch_${c}_$b]=$(load --op batch --batch "$b" --ca bench-issuing --profile device --clients "$c" \
			--seconds "$seconds")
		say "${R[batch_${c}_$b]}"
	done
done

step "3b. SignCsr with the records on PostgreSQL, 16 clients"
# As root the server runs as user postgres (initdb refuses root), which must
# pass through $dir (mktemp made it 0700) to reach its own directory.
((EUID != 0)) || chmod 0711 "$dir"
pg_start "$dir/pg" >&2
pg_endpoint=ipc://$dir/signetd-pg.sock
mkdir -p "$dir/state-pg"
write_signetd_config "$dir/signetd-pg.conf" "$dir/state-pg" signet-bench "$pg_endpoint" 0 warning
printf 'records: {\n  database = "%s";\n  database_password_file = "%s";\n};\n' \
	"$PG_URI" "$PG_PASSWORD_FILE" >>"$dir/signetd-pg.conf"
admin_pg() { "$cli_bin" --endpoint "$pg_endpoint" --client admin --secret-file "$dir/admin.key" "$@"; }
# start_signetd sets SIGNETD_PID, which stays the SQLite signetd's (measured below)
sqlite_pid=$SIGNETD_PID
start_signetd "$daemon_bin" "$dir/signetd-pg.conf" "$dir/signetd-pg.log" admin_pg --timeout 1000 health
PG_SIGNETD_PID=$SIGNETD_PID SIGNETD_PID=$sqlite_pid
# CA names of its own: the keys of both signetd are on the one token
admin_pg ca create-root bench-pg-root --alg p256 --subject "/CN=Bench PG Root" >/dev/null
admin_pg ca create-intermediate bench-pg-issuing --parent bench-pg-root --alg p256 \
	--subject "/CN=Bench PG Issuing" >/dev/null
R[csr_pg_16]=$("$load_bin" --endpoint "$pg_endpoint" --client factory --secret-file "$dir/factory.key" \
	--op csr --ca bench-pg-issuing --profile device --clients 16 --seconds "$seconds") ||
	die "SignCsr on PostgreSQL failed (log: $dir/signetd-pg.log)"
say "${R[csr_pg_16]}"
kill -TERM "$PG_SIGNETD_PID"
wait "$PG_SIGNETD_PID" || die "signetd on PostgreSQL did not stop cleanly (log: $dir/signetd-pg.log)"
PG_SIGNETD_PID=
pg_stop

step "3c. SCEP enrolments through signet-gatewayd, 16 clients"
build_scepclient "$dir/scepclient" "$dir/go" >&2
start_gatewayd "$gatewayd_bin" "$dir/gatewayd.conf" "$dir/gatewayd.log" "$endpoint" "$dir/gateway.key"
port=$GATEWAYD_PORT
# a single-use code per enrolment, bound to its device ID (what the client puts in the CN)
scep_n=$((quick ? 64 : 512))
for ((i = 0; i < scep_n; i++)); do
	admin enrol code mdm --device-id "bench-$i" | cut -d' ' -f1
done >"$dir/scep-codes"
R[scep_16]=$("$dir/scepclient" -url "http://127.0.0.1:$port/scep/mdm" -challenges "$dir/scep-codes" \
	-n "$scep_n" -clients 16) || die "SCEP enrolments failed (log: $dir/gatewayd.log)"
say "${R[scep_16]}"
kill -TERM "$GATEWAYD_PID"
wait "$GATEWAYD_PID" || die "signet-gatewayd did not stop cleanly"
GATEWAYD_PID=
step "3d. EST enrolments through signet-gatewayd (HTTPS, curl), 16 at a time"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/est-tls.key" \
	-subj /CN=bench-est -addext subjectAltName=IP:127.0.0.1 -out "$dir/est-tls.csr" 2>/dev/null
chmod 600 "$dir/est-tls.key"
admin issue --ca bench-issuing --profile server --csr "$dir/est-tls.csr" --out "$dir/est-tls-leaf.pem"
cat "$dir/est-tls-leaf.pem" "$dir/chain.pem" >"$dir/est-tls.pem"
awk '/BEGIN CERT/ { n++ } n == 2' "$dir/chain.pem" >"$dir/root.pem"
start_gatewayd "$gatewayd_bin" "$dir/gatewayd-est.conf" "$dir/gatewayd-est.log" "$endpoint" "$dir/gateway.key" \
	"tls = { certificate = \"$dir/est-tls.pem\"; key = \"$dir/est-tls.key\"; };
est = { enabled = true; default = \"est\"; };" "$dir/root.pem"
port=$GATEWAYD_PORT
est_n=$((quick ? 64 : 512))
mkdir -p "$dir/est"
# the CSRs and codes first: only the enrolments are timed
for ((i = 0; i < est_n; i++)); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-subj "/CN=bench-est-$i" -outform DER 2>/dev/null | base64 >"$dir/est/$i.b64"
	printf '%s %s\n' "$i" "$(admin enrol code est --device-id "bench-est-$i" | cut -d' ' -f1)"
done >"$dir/est-codes"
# est_one I CODE: one simpleenroll; prints curl's total time in seconds, fails unless 200
est_one() {
	curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --cacert "$dir/root.pem" -u "bench-est-$1:$2" \
		-H 'Content-Type: application/pkcs10' --data-binary "@$dir/est/$1.b64" \
		"https://127.0.0.1:$port/.well-known/est/simpleenroll"
}
export -f est_one
export dir port
t0=$(date +%s.%N)
xargs -P 16 -L 1 bash -c 'est_one "$0" "$1"' <"$dir/est-codes" >"$dir/est-times"
t1=$(date +%s.%N)
est_ok=$(grep -c '^200 ' "$dir/est-times" || true)
((est_ok == est_n)) || die "EST enrolments: $est_ok of $est_n answered 200 (log: $dir/gatewayd-est.log)"
R[est_16]=$(awk '{ print $2 * 1e6 }' "$dir/est-times" | sort -n | awk -v n="$est_n" -v t0="$t0" -v t1="$t1" \
	'{ v[NR] = $1 } END { printf "{\"op\":\"est\",\"clients\":16,\"ops\":%d,\"rate\":%.1f,\"p50_us\":%d,\"p99_us\":%d}", n, n / (t1 - t0), v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }')
say "${R[est_16]}"
kill -TERM "$GATEWAYD_PID"
wait "$GATEWAYD_PID" || die "signet-gatewayd (EST) did not stop cleanly"
GATEWAYD_PID=
issued=$(sqlite3 "$dir/state/ledger.db" \
	'select count(*) from issued' 2>/dev/null || echo "?")

step "4. what users would do instead"
key_uri="pkcs11:token=signet-bench;object=ca.bench-issuing;type=private"
R[openssl_1]=$(bench/openssl-x509.sh "$dir/openssl-1" "$dir/issuing.pem" "$key_uri" \
	"$SIGNET_USER_PIN_FILE" "$dir/dev.csr" \
	"$((openssl_count / 4))" 1)
R[openssl_16]=$(bench/openssl-x509.sh "$dir/openssl-16" "$dir/issuing.pem" "$key_uri" \
	"$SIGNET_USER_PIN_FILE" "$dir/dev.csr" \
	"$openssl_count" 16)
say "${R[openssl_1]}" "${R[openssl_16]}"
mapfile -t cf < <(bench/cfssl.sh "$dir/cfssl" "$dir/dev.csr" "$seconds" 1 16 64)
R[cfssl_1]=${cf[0]} R[cfssl_16]=${cf[1]} R[cfssl_64]=${cf[2]}
say "${cf[@]}"

step "5. signetd's memory over $mem_total SignNonce requests"
load --op nonce --key bench-nonce --clients 16 --requests "$mem_first" >/dev/null
rss_first=$(rss_kib VmRSS)
load --op nonce --key bench-nonce --clients 16 --requests "$((mem_total - mem_first))" >/dev/null
rss_total=$(rss_kib VmRSS)
peak_rss=$(rss_kib VmHWM)
kill -0 "$SIGNETD_PID" || die "signetd died during the run"

step "6. OpenSSL's own cost per step of an issuance, one CPU"
costs=$("$costs_bin")
say "$costs"

# ---- report ----
rate() { field rate "${R[$1]}"; }
p50() { field p50_us "${R[$1]}"; }
p99() { field p99_us "${R[$1]}"; }
certs_rate() { field certs_rate "${R[$1]}"; }
sigs_rate() { field sigs_rate "${R[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() { printf '%-52s %12s %10s %10s\n' "$@"; }

{
	printf '\nsignet benchmark, %s, %d CPUs, %ss windows, one fresh SoftHSM token\n\n' \
		"$(date -u +%Y-%m-%dT%H:%MZ)" "$ncpu" "$seconds"
	row "path" "per second" "p50 (us)" "p99 (us)"
	row "C_Sign direct, 1 thread" "$(rate raw_1)" "$(p50 raw_1)" "$(p99 raw_1)"
	row "C_Sign direct, $ncpu threads" "$(rate raw_n)" "$(p50 raw_n)" "$(p99 raw_n)"
	for c in 1 16; do
		row "nanomsg ipc echo, 200 bytes, $c clients" "$(rate echo_$c)" "$(p50 echo_$c)" "$(p99 echo_$c)"
	done
	for c in 1 4 16 64; do
		row "SignNonce via signetd, $c clients" "$(rate nonce_$c)" "$(p50 nonce_$c)" "$(p99 nonce_$c)"
	done
	for c in 1 16; do
		row "SignNonceBatch via signetd, $c clients, batch 16 (sig/s)" \
			"$(sigs_rate nonceb_$c)" "$(p50 nonceb_$c)" "$(p99 nonceb_$c)"
	done
	for c in 1 16; do
		row "C_Sign via libsignet-pkcs11.so, $c threads" "$(rate p11_$c)" "$(p50 p11_$c)" "$(p99 p11_$c)"
	done
	for c in 1 16 64; do
		row "SignCsr via signetd, $c clients" "$(rate csr_$c)" "$(p50 csr_$c)" "$(p99 csr_$c)"
		[[ $c != 16 ]] ||
			row "SignCsr via signetd, 16 clients, PostgreSQL" "$(rate csr_pg_16)" "$(p50 csr_pg_16)" \
				"$(p99 csr_pg_16)"
	done
	for c in 1 4; do
		for b in 16 256; do
			row "SignCsrBatch via signetd, $c clients, batch $b" "$(certs_rate batch_${c}_$b)" \
				"$(p50 batch_${c}_$b)" "$(p99 batch_${c}_$b)"
		done
	done
	row "SCEP PKCSReq via signet-gatewayd, 16 clients" "$(rate scep_16)" "$(p50 scep_16)" "$(p99 scep_16)"
	row "EST simpleenroll via signet-gatewayd (curl), 16" "$(rate est_16)" "$(p50 est_16)" "$(p99 est_16)"
	row "openssl x509 -req + pkcs11 engine, 1 at a time" "$(rate openssl_1)" "-" "-"
	row "openssl x509 -req + pkcs11 engine, 16 at a time" "$(rate openssl_16)" "-" "-"
	for c in 1 16 64; do
		row "cfssl serve (software key), $c clients" "$(rate cfssl_$c)" "$(p50 cfssl_$c)" "$(p99 cfssl_$c)"
	done
	printf '\nSignCsrBatch rows: certificates per second; p50 and p99 of a whole batch.\n'
	printf 'signetd memory: idle %d KiB, after %d SignNonce %d KiB, after %d %d KiB, peak %d KiB\n' \
		"$idle_rss" "$mem_first" "$rss_first" "$mem_total" "$rss_total" "$peak_rss"
	printf 'ledger rows after the run: %s\n' "$issued"
	printf 'OpenSSL %s per call, one CPU (us): parse a CSR %s, check its signature %s, sign a\n' \
		"$(sed -E 's/.*"version":"([^"]*)".*/\1/' <<<"$costs")" "$(field parse_csr_us "$costs")" \
		"$(field verify_csr_us "$costs")"
	printf '  certificate in software %s, check a certificate signature %s, X509_set_pubkey %s (avoided)\n' \
		"$(field software_sign_us "$costs")" "$(field verify_cert_us "$costs")" \
		"$(field set_pubkey_us "$costs")"
} | tee "$dir/table.txt"

nonce_vs_raw=$(ratio "$(rate nonce_16)" "$(rate raw_n)")
nonceb_vs_raw=$(ratio "$(sigs_rate nonceb_16)" "$(rate raw_n)")
nonce_p50_over=$(($(p50 nonce_1) - $(p50 raw_1)))
csr_vs_openssl=$(ratio "$(rate csr_16)" "$(rate openssl_16)")
csr_vs_cfssl=$(ratio "$(rate csr_16)" "$(rate cfssl_16)")
csr_pg_vs_sqlite=$(ratio "$(rate csr_pg_16)" "$(rate csr_16)")
rss_growth=$(ratio "$rss_total" "$rss_first")
p11_vs_nonce_1=$(ratio "$(rate p11_1)" "$(rate nonce_1)")
p11_vs_nonce_16=$(ratio "$(rate p11_16)" "$(rate nonce_16)")
# the best batch row, in certificates/s
batch_best=batch_1_16
for k in batch_1_256 batch_4_16 batch_4_256; do
	(($(certs_rate "$k") > $(certs_rate "$batch_best"))) && batch_best=$k
done
batch_vs_cfssl=$(ratio "$(certs_rate "$batch_best")" "$(rate cfssl_16)")
batch_vs_raw=$(ratio "$(certs_rate "$batch_best")" "$(rate raw_n)")
batch_vs_csr=$(ratio "$(certs_rate "$batch_best")" "$(rate csr_16)")
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=" ? v >= t : v <= t); print (ok ? "met" : "MISSED") }'; }
{
	printf '\n%-60s %10s %8s %s\n' "target" "measured" "goal" ""
	printf '%-60s %10s %8s %s\n' "SignNonce 16 clients / raw C_Sign $ncpu threads" "$nonce_vs_raw" ">= 0.60" \
		"$(verdict "$nonce_vs_raw" 0.6 '>=')"
	printf '%-60s %10s %8s %s\n' "SignNonceBatch (16) 16 clients / raw C_Sign $ncpu threads" "$nonceb_vs_raw" \
		">= 0.60" "$(verdict "$nonceb_vs_raw" 0.6 '>=')"
	printf '%-60s %10s %8s %s\n' "SignNonce 1 client p50 - raw C_Sign p50 (us)" "$nonce_p50_over" "<= 150" \
		"$(verdict "$nonce_p50_over" 150 '<=')"
	printf '%-60s %10s %8s %s\n' "  of which nanomsg's own round trip (echo p50, us)" "$(p50 echo_1)" "" \
		"(the IPC floor)"
	printf '%-60s %10s %8s %s\n' "C_Sign via libsignet-pkcs11.so / SignNonce, 1 thread" "$p11_vs_nonce_1" \
		">= 0.90" "$(verdict "$p11_vs_nonce_1" 0.9 '>=')"
	printf '%-60s %10s %8s %s\n' "C_Sign via libsignet-pkcs11.so / SignNonce, 16 threads" "$p11_vs_nonce_16" \
		">= 0.90" "$(verdict "$p11_vs_nonce_16" 0.9 '>=')"
	printf '%-60s %10s %8s %s\n' "SignCsr 16 clients (certificates/s)" "$(rate csr_16)" ">= 5000" \
		"$(verdict "$(rate csr_16)" 5000 '>=')"
	printf '%-60s %10s %8s %s\n' "SignCsr 16 clients, PostgreSQL / SQLite" "$csr_pg_vs_sqlite" ">= 0.80" \
		"$(verdict "$csr_pg_vs_sqlite" 0.8 '>=')"
	printf '%-60s %10s %8s %s\n' "SignCsr 16 clients / openssl x509 16 at a time" "$csr_vs_openssl" ">= 50" \
		"$(verdict "$csr_vs_openssl" 50 '>=')"
	printf '%-60s %10s %8s %s\n' "SignCsr 16 clients / cfssl 16 clients (ambition)" "$csr_vs_cfssl" ">= 1.00" \
		"$(verdict "$csr_vs_cfssl" 1 '>=')"
	printf '%-60s %10s %8s %s\n' "SignCsrBatch best (${batch_best#batch_}) / cfssl 16 clients" "$batch_vs_cfssl" \
		">= 2.00" "$(verdict "$batch_vs_cfssl" 2 '>=')"
	printf '%-60s %10s %8s %s\n' "SignCsrBatch best, certificates / raw C_Sign $ncpu threads" "$batch_vs_raw" \
		"" "(the token's limit)"
	printf '%-60s %10s %8s %s\n' "SignCsrBatch best / SignCsr 16 clients" "$batch_vs_csr" "" ""
	printf '%-60s %10s %8s %s\n' "RSS after $mem_total / after $mem_first" "$rss_growth" "<= 1.10" \
		"$(verdict "$rss_growth" 1.1 '<=')"
	printf '%-60s %10s %8s %s\n' "idle RSS (KiB)" "$idle_rss" "< 16384" "$(verdict "$idle_rss" 16383 '<=')"
} | tee -a "$dir/table.txt"

join_rows() {
	local first=1 k
	for k in "$@"; do
		((first)) || printf ','
		first=0
		printf '"%s":%s' "$k" "${R[$k]}"
	done
}
{
	printf '{"date":"%s","cpus":%d,"seconds":%s,' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ncpu" "$seconds"
	printf '"results":{%s},' "$(join_rows raw_1 raw_n echo_1 echo_16 nonce_1 nonce_4 nonce_16 nonce_64 nonceb_1 nonceb_16 \
		p11_1 p11_16 csr_1 csr_16 csr_64 csr_pg_16 batch_1_16 batch_1_256 batch_4_16 batch_4_256 scep_16 \
		est_16 openssl_1 openssl_16 cfssl_1 cfssl_16 cfssl_64)"
	printf '"openssl_costs":%s,' "$costs"
	printf '"memory_kib":{"idle":%d,"after_%d":%d,"after_%d":%d,"peak":%d},' "$idle_rss" \
		"$mem_first" "$rss_first" "$mem_total" "$rss_total" "$peak_rss"
	printf '"ratios":{"nonce16_vs_raw":%s,"nonce_batch16_vs_raw":%s,"nonce1_p50_over_raw_us":%d,' \
		"$nonce_vs_raw" "$nonceb_vs_raw" "$nonce_p50_over"
	printf '"echo1_p50_us":%d,' "$(p50 echo_1)"
	printf '"p11_1_vs_nonce_1":%s,"p11_16_vs_nonce_16":%s,' "$p11_vs_nonce_1" "$p11_vs_nonce_16"
	printf '"csr16_vs_openssl16":%s,"csr16_pg_vs_sqlite":%s,' "$csr_vs_openssl" "$csr_pg_vs_sqlite"
	printf '"batch_best":"%s","batch_best_vs_cfssl16":%s,"batch_best_vs_raw":%s,"batch_best_vs_csr16":%s,' \
		"${batch_best#batch_}" "$batch_vs_cfssl" "$batch_vs_raw" "$batch_vs_csr"
	printf '"csr16_vs_cfssl16":%s,"rss_growth":%s}}\n' "$csr_vs_cfssl" "$rss_growth"
} >"$json_out"
printf '\nJSON summary (%s):\n' "$json_out"
cat "$json_out"
