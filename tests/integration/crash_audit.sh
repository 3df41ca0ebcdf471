#!/usr/bin/env bash
# A certificate is durable in the ledger before its request's audit line is
# appended: signetd killed in between leaves a certificate that no audit line
# names, until the reconcile at the next start appends a recovered line.
#
# First a deterministic round: gdb stops signetd on the audit_append of a
# SignCsr, after the ledger committed, and kills it there (no test hook in
# signetd itself). Then rounds of kill -9 of signetd and its clients together
# under SignCsr load from several concurrent clients, after a random delay.
# At the end every ledger row must be named by an audit line, and the chain
# must verify.
source "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || {
	echo "gdb is not installed (scripts/deps.sh): skipped"
	exit 77
}
it_setup
D="$IT_DIR"
LOAD="$SIGNET_BUILD_DIR/bench/signet-bench-load"
audit=$D/state/audit.log
it_start

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Crash Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=Crash Issuing" --out "$D/issuing.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/dev.key" 2>/dev/null
openssl req -new -key "$D/dev.key" -subj "/CN=crash-dev" -out "$D/dev.csr"

# kill_all: signetd and whatever load is running, at once
kill_all() {
	kill -KILL "$IT_PID" "$@" 2>/dev/null || true
	wait "$IT_PID" "$@" 2>/dev/null || true
	IT_PID=""
	rm -f "$D/signetd.sock"
}

# --- deterministic: killed between the ledger's commit and the audit line ---
# The breakpoint's condition reads the method's name: "SignC" (not SignNonce).
gdb -p "$IT_PID" -batch -nx \
	-ex 'set pagination off' \
	-ex 'handle SIGPIPE nostop noprint pass' \
	-ex "break audit_append if ev->method[0] == 'S' && ev->method[4] == 'C'" \
	-ex 'continue' -ex 'kill' >"$D/gdb.log" 2>&1 &
gdb_pid=$!
for _ in $(seq 100); do
	grep -q '^Breakpoint 1 at' "$D/gdb.log" && break
	sleep 0.1
done
grep -q '^Breakpoint 1 at' "$D/gdb.log" || it_fail "gdb did not attach: $(cat "$D/gdb.log")"
sleep 0.5 # let gdb resume signetd
"$SIGNET" --timeout 3000 issue --ca issuing --profile device --csr "$D/dev.csr" --out "$D/dev.pem" \
	>/dev/null 2>&1 || true
wait "$gdb_pid" || true
grep -q 'Breakpoint 1, audit_append' "$D/gdb.log" || it_fail "gdb did not stop signetd at audit_append: $(cat "$D/gdb.log")"
kill_all
caught=$(sqlite3 "$D/state/ledger.db" "SELECT serial FROM issued WHERE profile = 'device'")
[[ $caught =~ ^[0-9A-F]+$ ]] || it_fail "the certificate killed before its audit line is not in the ledger: '$caught'"
grep -q "serial=$caught " "$audit" && it_fail "the audit line of $caught was written: the kill came too late"
it_start
grep -q "\"object\":\"ca=issuing serial=$caught profile=device recovered\",\"status\":\"OK\"" "$audit" ||
	it_fail "no recovered audit line for $caught"
echo "deterministic round: certificate $caught recovered into the audit trail"

# --- kill -9 of signetd and its clients together, under load ---
for round in 1 2 3; do
	"$LOAD" --endpoint "$SIGNET_ENDPOINT" --op csr --ca issuing --profile device --clients 8 \
		--seconds 30 >/dev/null 2>&1 &
	load_pid=$!
	loops=()
	for _ in 1 2; do
		(while :; do
			"$SIGNET" --timeout 1000 issue --ca issuing --profile device --csr "$D/dev.csr" \
				--out /dev/null >/dev/null 2>&1 || true
		done) &
		loops+=("$!")
	done
	sleep "$((1 + RANDOM % 2)).$((RANDOM % 10))"
	kill -KILL "${loops[@]}" 2>/dev/null || true
	kill_all "$load_pid"
	wait "${loops[@]}" 2>/dev/null || true
	echo "round $round: $(sqlite3 "$D/state/ledger.db" 'SELECT count(*) FROM issued') certificates in the ledger"
	it_start
done
it_stop

# every certificate in the ledger is named by an audit line
sqlite3 "$D/state/ledger.db" 'SELECT serial FROM issued' | sort -u >"$D/ledger.serials"
grep -o 'serial=[0-9A-F]*' "$audit" | cut -d= -f2 | sort -u >"$D/audit.serials"
comm -23 "$D/ledger.serials" "$D/audit.serials" >"$D/unaudited"
[[ -s $D/unaudited ]] && it_fail "$(wc -l <"$D/unaudited") of $(wc -l <"$D/ledger.serials") certificates have no audit line: $(head -5 "$D/unaudited" | tr '\n' ' ')"
echo "$(wc -l <"$D/ledger.serials") certificates, each named in the audit trail ($(grep -c '"object":"[^"]* recovered"' "$audit") recovered)"
[[ $(sqlite3 "$D/state/ledger.db" 'PRAGMA integrity_check;') == ok ]] || it_fail "the ledger fails PRAGMA integrity_check"
expect_rc 0 "$SIGNET" audit verify "$audit"
echo "crash_audit: OK"
