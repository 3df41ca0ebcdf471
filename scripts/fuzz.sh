#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run each for a bounded time.
#
#   scripts/fuzz.sh                  # every target in tests/fuzz/, 30 s each
#   scripts/fuzz.sh csr_profile      # just these targets
#   SIGNET_FUZZ_SECONDS=600 scripts/fuzz.sh chainverify
#   scripts/fuzz.sh --long [HOURS] [TARGET...]   # hours-long run, default 4 h
#
# Builds in build-fuzz/ (or $SIGNET_FUZZ_BUILD_DIR): CC=clang, Debug,
# ASan+UBSan, -DSIGNET_FUZZ=ON, only the fuzz targets. Each target runs on a
# copy of its seed corpus (tests/fuzz/corpus/<target>) in a temp directory,
# so the checked-in corpus never grows; new inputs are thrown away. A crash,
# leak, timeout (10 s for one input) or sanitizer report fails the run: the
# input that did it is kept as build-fuzz/artifacts/fuzz-<target>-crash-*
# (leak-*, timeout-*), to be minimised (-minimize_crash=1) and added to the
# corpus as a regression seed with the fix. scripts/test.sh calls this; exit
# status 0 only when every target ran clean.
#
# --long [HOURS] runs every target (or those named) at once, each for HOURS
# (default 4; a decimal like 0.5 is fine), in libFuzzer's fork mode so a
# finding does not end the run: each keeps going and saves the input. Its
# corpus grows in build-fuzz/long/<target>/corpus (seeded from the
# checked-in one, kept across runs: a second --long run starts where the
# last stopped), findings land in build-fuzz/long/<target>/crash-*
# (leak-*, timeout-*, oom-*), the log in build-fuzz/long/<target>.log. At
# the end it prints each target's findings; exit status 1 when there are
# any. Merge useful corpus entries back with -merge=1 by hand.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SIGNET_ROOT"

build=${SIGNET_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${SIGNET_FUZZ_SECONDS:-30}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "SIGNET_FUZZ_SECONDS must be a whole number of seconds, not '$seconds'"
long=0
if [[ ${1:-} == --long ]]; then
	long=1
	shift
	hours=4
	if [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
		hours=$1
		shift
	fi
	seconds=$(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 }')
	((seconds > 0)) || die "--long needs a positive number of hours, not '$hours'"
fi
command -v clang >/dev/null || die "clang not found (scripts/deps.sh installs it)"

targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in tests/fuzz/fuzz_*.c; do
		f=${f##*/fuzz_}
		targets+=("${f%.c}")
	done
fi

binaries=()
for t in "${targets[@]}"; do
	[[ -f tests/fuzz/fuzz_$t.c && -d tests/fuzz/corpus/$t ]] || die "no fuzz target '$t' (tests/fuzz/fuzz_$t.c and corpus/$t/)"
	binaries+=("fuzz_${t}_libfuzzer")
done

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSIGNET_SANITIZE=ON -DSIGNET_FUZZ=ON \
	-DSIGNET_BUILD_TESTS=ON >&2
cmake --build "$build" -j"$(build_jobs)" --target "${binaries[@]}" >&2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SIGNET_ROOT/tests/lsan.supp:print_suppressions=0}

# run_long: every target at once for $seconds, findings kept, corpus kept
run_long() {
	local t f dir pids=() found=0 n
	for t in "${targets[@]}"; do
		dir=$SIGNET_ROOT/$build/long/$t
		mkdir -p "$dir/corpus"
		for f in tests/fuzz/corpus/"$t"/*; do
			[[ -e $dir/corpus/${f##*/} ]] || cp -- "$f" "$dir/corpus/"
		done
		say "fuzz --long: $t for ${seconds}s; corpus $dir/corpus, findings $dir/"
		"$build/tests/fuzz/fuzz_${t}_libfuzzer" -max_total_time="$seconds" -timeout=10 \
			-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
			-print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" \
			>"$dir.log" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	for t in "${targets[@]}"; do
		dir=$SIGNET_ROOT/$build/long/$t
		n=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
			-o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
		say "fuzz --long: $t: $n finding(s) in $dir/, corpus of $(find "$dir/corpus" -type f | wc -l)"
		((n == 0)) || found=1
	done
	return "$found"
}

if ((long)); then
	run_long
	exit $?
fi

artifacts=$SIGNET_ROOT/$build/artifacts
work=$(mktemp -d "${TMPDIR:-/tmp}/signet-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
failed=()
for t in "${targets[@]}"; do
	say "fuzz: $t for ${seconds}s"
	mkdir "$work/$t"
	cp -- tests/fuzz/corpus/"$t"/* "$work/$t/"
	# -timeout: one input taking 10 s is a finding (a request would stall a
	# worker); the daemon's own logging of refused requests is noise here.
	if "$build/tests/fuzz/fuzz_${t}_libfuzzer" -max_total_time="$seconds" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$artifacts/fuzz-$t-" "$work/$t" \
		>"$work/$t.log" 2>&1; then
		grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$t.log" >&2 || true
	else
		grep -v '^signetd\[' "$work/$t.log" | tail -n 60 >&2
		say "fuzz: $t FAILED; the input is in $artifacts/"
		failed+=("$t")
	fi
done
if ((${#failed[@]})); then
	say "fuzz: failed: ${failed[*]}"
	exit 1
fi
say "fuzz: ${targets[*]} ran ${seconds}s each without a finding"
