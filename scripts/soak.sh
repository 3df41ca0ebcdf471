#!/usr/bin/env bash
# A soak of signetd: a million mixed requests from 32 clients, nothing lost.
#
#   scripts/soak.sh [--requests N] [--clients N] [--asan] [--shared-challenges]
#
# Installs what is missing, builds (Release in build-soak/, or with ASan and
# UBSan in build-soak-asan/ with --asan), creates a fresh SoftHSM token,
# starts signetd with HMAC clients and runs tests/soak/soak.c: SignNonce,
# SignCsr, GetCaChain, proof-of-possession rounds, VerifyChain and bad inputs
# that must be refused with their own status. It then checks:
#   - no unexpected answer (the soak client counts them);
#   - signetd alive throughout, and exiting 0 on SIGTERM;
#   - signetd's RSS flat: the last sample at most 10 % above the one taken
#     a third of the way in, once caches, the challenge table (challenges
#     live for their TTL) and malloc's arenas have reached their steady
#     state (not with --asan, whose quarantine keeps freed memory on purpose,
#     nor for runs of fewer than 100,000 requests, too short to get there);
#   - the ledger passes SQLite's integrity check and holds every certificate
#     the soak was given; the audit trail's chain verifies;
#   - with --asan: no AddressSanitizer, LeakSanitizer or UBSan report.
# --shared-challenges keeps the challenges in the ledger
# (possession.shared_challenges), so every possession round writes to it.
# Prints a JSON summary. Defaults: 1,000,000 requests (--asan: 20,000).
# Not part of the CI suite: it takes minutes (about 2 per 100k requests here).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SIGNET_ROOT"

requests='' clients=32 asan=0 shared=false
RSS_MIN_REQUESTS=100000
while (($#)); do
	case $1 in
	--requests)
		requests=${2:?--requests wants a number}
		shift
		;;
	--clients)
		clients=${2:?--clients wants a number}
		shift
		;;
	--asan) asan=1 ;;
	--shared-challenges) shared=true ;;
	*) die "usage: ${0##*/} [--requests N] [--clients N] [--asan] [--shared-challenges]" ;;
	esac
	shift
done
[[ -n $requests ]] || { ((asan)) && requests=20000 || requests=1000000; }

scripts/deps.sh
if ((asan)); then
	build=${SIGNET_SOAK_BUILD_DIR:-build-soak-asan}
	flags=(-DCMAKE_BUILD_TYPE=Debug -DSIGNET_SANITIZE=ON)
else
	build=${SIGNET_SOAK_BUILD_DIR:-build-soak}
	flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
[[ $build == /* ]] || build=$SIGNET_ROOT/$build
step "build in $build"
cmake -S . -B "$build" "${flags[@]}" -DSIGNET_BUILD_TESTS=ON >&2
cmake --build "$build" -j"$(build_jobs)" --target signetd signet signet-soak >&2
daemon_bin=$build/daemon/signetd
cli_bin=$build/client/cli/signet
soak_bin=$build/tests/soak/signet-soak

dir=$(mktemp -d "${TMPDIR:-/tmp}/signet-soak.XXXXXX")
SIGNETD_PID='' sampler_pid=''
cleanup() {
	local rc=$?
	[[ -z $sampler_pid ]] || kill "$sampler_pid" 2>/dev/null || true
	end_run "$rc" "$dir" "${SIGNET_SOAK_KEEP:-0}" 30
}
trap cleanup EXIT

step "a fresh token and signetd"
eval "$(scripts/softhsm-token.sh "$dir" signet-soak)"
endpoint=ipc://$dir/signetd.sock
make_client_secrets "$dir/admin.key" "$dir/soak.key"
SIGNET_CONFIG_AUTH=$(
	cat <<EOF
clients: {
  admin: { secret_file = "$dir/admin.key"; admin = true; methods = [ "*" ];
           cas = [ "*" ]; profiles = [ "*" ]; keys = [ "*" ]; };
  soak: { secret_file = "$dir/soak.key"; max_concurrent = 256;
          methods = [ "SignNonce", "SignCsr", "GetCaChain", "CreateChallenge",
                      "VerifyPossession", "VerifyChain" ];
          cas = [ "soak-issuing" ]; profiles = [ "device" ]; keys = [ "soak-*" ]; };
};
# Challenges are kept past their use for a while (to tell a replay from an
# unknown id), up to max_challenges: a smaller table than the default 100k
# reaches its bound within the first third of the run, so the RSS verdict
# sees the steady state rather than the table filling.
possession: { challenge_ttl_seconds = 30; max_challenges = 20000;
              shared_challenges = $shared; };
EOF
)
export SIGNET_CONFIG_AUTH
mkdir -p "$dir/state"
write_signetd_config "$dir/signetd.conf" "$dir/state" signet-soak "$endpoint" 0 warning
admin() { "$cli_bin" --endpoint "$endpoint" --client admin --secret-file "$dir/admin.key" "$@"; }
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
	LSAN_OPTIONS=suppressions=$SIGNET_ROOT/tests/lsan.supp \
	start_signetd "$daemon_bin" "$dir/signetd.conf" "$dir/signetd.log" admin --timeout 1000 health
admin key generate --alg p256 soak-nonce >/dev/null
admin ca create-root soak-root --alg p256 --subject "/CN=Soak Root" >/dev/null
admin ca create-intermediate soak-issuing --parent soak-root --alg p256 \
	--subject "/CN=Soak Issuing" >/dev/null

# VmRSS every second, with the time, while the soak runs
(while kill -0 "$SIGNETD_PID" 2>/dev/null; do
	printf '%s %s\n' "$(date +%s)" "$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SIGNETD_PID/status")"
	sleep 1
done) >"$dir/rss" 2>/dev/null &
sampler_pid=$!

step "$requests requests from $clients clients"
start=$(date +%s)
summary=$("$soak_bin" --endpoint "$endpoint" --client soak --secret-file "$dir/soak.key" \
	--ca soak-issuing --key soak-nonce --clients "$clients" --requests "$requests") ||
	die "the soak client saw unexpected answers: $summary"
end=$(date +%s)
kill "$sampler_pid" 2>/dev/null || true
sampler_pid=
kill -0 "$SIGNETD_PID" 2>/dev/null || die "signetd died during the soak"
say "$summary"

# RSS: the sample a third of the way in against the last one
read -r rss_early rss_last rss_peak < <(awk -v s="$start" -v e="$end" '
	BEGIN { n = 0; peak = 0 }
	$1 >= s && $1 <= e { t[n] = $1; r[n] = $2; n++; if ($2 > peak) peak = $2 }
	END { if (n == 0) { print 0, 0, 0; exit }
	      i = int(n / 3); print r[i], r[n - 1], peak }' "$dir/rss")
growth=$(awk -v a="$rss_last" -v b="$rss_early" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')

step "the records"
integrity=$(sqlite3 "$dir/state/ledger.db" 'PRAGMA integrity_check')
[[ $integrity == ok ]] || die "ledger integrity check: $integrity"
rows=$(sqlite3 "$dir/state/ledger.db" 'select count(*) from issued')
issued=$(sed -E 's/.*"SignCsr":([0-9]+).*/\1/' <<<"$summary")
# each client's own device certificate comes on top of the SignCsr steps
((rows >= issued + clients)) || die "the ledger holds $rows certificates; $((issued + clients)) were issued"
"$cli_bin" audit verify "$dir/state/audit.log" >&2 || die "the audit trail's chain does not verify"
audit_lines=$(wc -l <"$dir/state/audit.log")

step "stop signetd"
kill -TERM "$SIGNETD_PID"
rc=0
wait "$SIGNETD_PID" || rc=$?
SIGNETD_PID=
((rc == 0)) || die "signetd exited with $rc after SIGTERM"
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/signetd.log"; then
	grep -E -A5 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/signetd.log" >&2
	die "a sanitizer reported an error"
fi

seconds=$((end > start ? end - start : 1))
printf '{"requests":%d,"clients":%d,"sanitizers":%s,"seconds":%d,"rate":%d,"soak":%s,' \
	"$requests" "$clients" "$( ((asan)) && echo true || echo false)" "$seconds" \
	"$((requests / seconds))" "$summary"
printf '"rss_kib":{"third":%d,"last":%d,"peak":%d,"growth":%s,"samples":[%s]},' \
	"$rss_early" "$rss_last" "$rss_peak" "$growth" "$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }' "$dir/rss")"
printf '"ledger_rows":%d,"audit_lines":%d}\n' "$rows" "$audit_lines"
# ASan's quarantine holds freed memory back on purpose: RSS means nothing
# there. A run under RSS_MIN_REQUESTS ends before caches, the challenge
# table and malloc's arenas have grown to their steady state.
if ((asan)); then
	say "RSS not judged: ASan keeps freed memory"
elif ((requests < RSS_MIN_REQUESTS)); then
	say "RSS not judged: a run of fewer than $RSS_MIN_REQUESTS requests ends before the steady state"
else
	awk -v g="$growth" 'BEGIN { exit !(g <= 1.10) }' ||
		die "signetd's RSS grew by a factor of $growth"
fi
say "soak: OK"
