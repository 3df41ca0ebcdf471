#!/usr/bin/env bash
# The README's "Trying it by hand" block, run as written: only its paths are
# moved (the build tree to this build, /tmp/signet-dev to a temporary
# directory, the scripts to the source tree) and nothing is added but a
# harness line that stops the signetd it starts. It must run to the end, and
# the `openssl verify` in it must pass, so the README cannot drift again.
set -euo pipefail
: "${SIGNET_SRC_DIR:?}" "${SIGNET_BUILD_DIR:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/signet-readme.XXXXXX")
cleanup() {
	[[ -n ${SIGNET_KEEP_TEST_DIR:-} ]] || rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	[[ ! -f $T/out ]] || tail -n 40 "$T/out" >&2
	exit 1
}

# The first fenced block after the heading, without its fences.
awk '/^## Trying it by hand/ { sect = 1; next }
	sect && /^## / { exit }
	sect && !inblock && /^```/ { inblock = 1; next }
	inblock && /^```/ { exit }
	inblock { print }' "$SIGNET_SRC_DIR/README.md" >"$T/snippet.sh"
[[ -s $T/snippet.sh ]] || fail "no fenced block under '## Trying it by hand' in README.md"
grep -q '^openssl verify ' "$T/snippet.sh" || fail "the README snippet no longer checks its certificate with openssl verify"

# Move the paths; everything else runs as written.
{
	echo "set -euo pipefail"
	# the harness line: whatever happens, the signetd the snippet starts stops with it
	echo "trap 'jobs=\$(jobs -p); [[ -z \$jobs ]] || kill \$jobs 2>/dev/null || true' EXIT"
	sed -e "s|/tmp/signet-dev|$T/dev|g" \
		-e "s|\\bbuild/|$SIGNET_BUILD_DIR/|g" \
		-e "s|\\bscripts/|$SIGNET_SRC_DIR/scripts/|g" "$T/snippet.sh"
} >"$T/run.sh"
if grep -n '/tmp/signet-dev\|^build/\| build/' "$T/run.sh" >"$T/left"; then
	fail "paths not moved: $(cat "$T/left")"
fi

mkdir -p "$T/work"
(cd "$T/work" && timeout 120 bash "$T/run.sh") >"$T/out" 2>&1 || fail "the README snippet failed (exit $?)"
grep -q '^dev.pem: OK$' "$T/out" || fail "openssl verify in the README snippet did not say 'dev.pem: OK'"
echo "ok"
