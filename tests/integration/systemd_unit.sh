#!/usr/bin/env bash
# The systemd units CMake generates from systemd/*.service.in (signetd's and
# signet-gatewayd's) must each rate 2.0 or lower ("OK" or better) in
# `systemd-analyze security --offline=yes`, and systemd must know every
# setting in them (a typo would silently drop a protection). Skipped only
# when systemd-analyze is absent (scripts/deps.sh installs it: package systemd).
set -euo pipefail
: "${SIGNET_SRC_DIR:?}" "${SIGNET_BUILD_DIR:?}"
units=("$SIGNET_BUILD_DIR/systemd/signetd.service" "$SIGNET_BUILD_DIR/systemd/signet-gatewayd.service")
max=2.0

if ! command -v systemd-analyze >/dev/null; then
	echo "systemd_unit: skipped: systemd-analyze not found (apt-get install systemd)"
	exit 0
fi

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

check_unit() {
	local unit=$1 rc=0 level
	[[ -f $unit ]] || {
		echo "FAIL: $unit was not generated" >&2
		exit 1
	}
	grep -q '@[A-Z_]*@' "$unit" && {
		echo "FAIL: $unit has unconfigured placeholders" >&2
		exit 1
	}
	systemd-analyze security --offline=yes "$unit" >"$out" 2>"$err" || rc=$?
	# It exits non-zero only above its own threshold (--threshold, 100 by default).
	if ((rc != 0)); then
		echo "FAIL: systemd-analyze security exited $rc: $(cat "$err")" >&2
		exit 1
	fi
	if grep -Ei 'unknown (key|lvalue|section)|failed to parse|ignoring' "$err" >&2; then
		echo "FAIL: systemd does not understand every line of $unit (above)" >&2
		exit 1
	fi
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$out")
	[[ -n $level ]] || {
		echo "FAIL: no exposure level in: $(tail -n 3 "$out")" >&2
		exit 1
	}
	if awk -v l="$level" -v m="$max" 'BEGIN { exit !(l > m) }'; then
		grep '✗' "$out" >&2 || true
		echo "FAIL: $unit: exposure level $level is above $max; the unprotected items are above" >&2
		exit 1
	fi
	echo "systemd_unit: ${unit##*/}: exposure level $level (at most $max): ok"
}

for unit in "${units[@]}"; do
	check_unit "$unit"
done
