#!/usr/bin/env bash
# Run the whole test suite: lint, sanitizer build, every ctest test.
#
#   scripts/test.sh               # everything
#   scripts/test.sh -R unit       # extra arguments go to ctest
#
# Installs missing packages (scripts/deps.sh), checks formatting of the C
# sources (clang-format) and of the shell scripts (shellcheck), builds in
# build-test/ (or $SIGNET_BUILD_DIR) with ASan+UBSan and -Werror, runs
# ctest, then each libFuzzer target for $SIGNET_FUZZ_SECONDS (30; 0 skips)
# with clang in build-fuzz/ (scripts/fuzz.sh). Every check runs even when
# an earlier one failed; the last line says what failed. Exit status 0 only
# when everything passed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SIGNET_ROOT"

build=${SIGNET_BUILD_DIR:-build-test}
failed=()
passed=()

scripts/deps.sh

# Files under version control when this is a git checkout, else all of them.
source_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -- "$@"
	else
		# Skip build trees (anything with a CMakeCache.txt) and their generated code.
		local pattern d args=() prune=(-path ./.git)
		while IFS= read -r d; do
			prune+=(-o -path "$d")
		done < <(find . -name CMakeCache.txt -printf '%h\n')
		for pattern in "$@"; do
			args+=(${args[0]:+-o} -path "./$pattern")
		done
		find . \( "${prune[@]}" \) -prune -o \( "${args[@]}" \) -type f -print | sed 's|^\./||'
	fi
}

step "clang-format: checking C sources"
if command -v clang-format >/dev/null; then
	bad=()
	while IFS= read -r f; do
		[[ $f == *.pb-c.* || ! -f $f ]] && continue
		clang-format --dry-run --Werror -- "$f" >/dev/null 2>&1 || bad+=("$f")
	done < <(source_files '*.c' '*.h')
	if ((${#bad[@]})); then
		say "not formatted as .clang-format says (fix: clang-format -i FILE):"
		printf '  %s\n' "${bad[@]}" >&2
		failed+=(clang-format)
	else
		passed+=(clang-format)
	fi
else
	say "clang-format not found; skipped"
fi

step "shellcheck: checking shell scripts"
if command -v shellcheck >/dev/null; then
	scripts=() sourced=()
	while IFS= read -r f; do
		[[ -f $f ]] || continue
		# Files without a shebang are helpers that bash scripts source.
		if [[ $(head -c 2 "$f") == '#!' ]]; then scripts+=("$f"); else sourced+=("$f"); fi
	done < <(source_files '*.sh' '.ci/run' 'packaging/postinst.in' 'packaging/prerm.in' 'packaging/postrm.in')
	# -S warning: real mistakes fail the run, style notes do not.
	ok=1
	if ((${#scripts[@]})); then shellcheck -x -S warning "${scripts[@]}" >&2 || ok=0; fi
	if ((${#sourced[@]})); then shellcheck -x -S warning -s bash "${sourced[@]}" >&2 || ok=0; fi
	if ((ok)); then passed+=(shellcheck); else failed+=(shellcheck); fi
else
	say "shellcheck not found; skipped"
fi

step "build: $build (Debug, ASan+UBSan, -Werror)"
if cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSIGNET_SANITIZE=ON -DSIGNET_WERROR=ON \
	-DSIGNET_BUILD_TESTS=ON >&2 &&
	cmake --build "$build" -j"$(build_jobs)" >&2; then
	passed+=(build)

	step "ctest${*:+ $*}"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	if [[ -f tests/lsan.supp ]]; then
		export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SIGNET_ROOT/tests/lsan.supp:print_suppressions=0}
	fi
	# --no-tests=error: a suite that runs nothing must not look green.
	if ctest --test-dir "$build" --output-on-failure -j2 --timeout 300 --no-tests=error "$@"; then
		passed+=(ctest)
	else
		failed+=(ctest)
	fi
else
	failed+=(build)
	say "build failed; ctest not run"
fi

# libFuzzer, bounded: clang build in build-fuzz/, SIGNET_FUZZ_SECONDS (30) per
# target, on throwaway copies of the corpora (scripts/fuzz.sh).
# SIGNET_FUZZ_SECONDS=0 skips it.
if [[ ${SIGNET_FUZZ_SECONDS:-30} == 0 ]]; then
	say "fuzz: skipped (SIGNET_FUZZ_SECONDS=0)"
else
	step "fuzz: libFuzzer, ${SIGNET_FUZZ_SECONDS:-30}s per target"
	if scripts/fuzz.sh; then passed+=(fuzz); else failed+=(fuzz); fi
fi

echo
if ((${#failed[@]})); then
	echo "test.sh: FAILED: ${failed[*]} (passed: ${passed[*]:-none})"
	exit 1
fi
echo "test.sh: all passed: ${passed[*]}"
