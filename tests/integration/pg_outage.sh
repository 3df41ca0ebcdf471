#!/usr/bin/env bash
# The records' PostgreSQL server goes away under SignCsr load (three clients
# in loops, each noting what it got: a serial, or the CLI's exit status):
#  1. stopped (fast shutdown) for a few seconds, then 2. killed (immediate
#     shutdown, recovery at its start): while it is down issuance answers
#     UNAVAILABLE (exit 24) and nothing else, signing with a token key
#     (SignNonce) goes on; once it is back issuance works again without a
#     restart of signetd (within 20 s); every serial a client received is in
#     the `issued` table;
#  3. signetd killed (-9) under the same load and restarted: again every
#     serial received is in the database;
#  4. a signetd started while the database is down exits non-zero with
#     libpq's reason; a URI with a password in it is refused at start-up, the
#     message naming database_password_file and not showing the password.
export SIGNET_TEST_BACKEND=pg
source "$(dirname "$0")/lib.sh"

UNAVAILABLE=24 # the CLI's exit status for UNAVAILABLE (client/cli/help.c)
CLIENTS=3
CLIENT_PIDS=()

outage_cleanup() {
	touch "$IT_DIR/stop" 2>/dev/null
	((${#CLIENT_PIDS[@]} == 0)) || kill "${CLIENT_PIDS[@]}" 2>/dev/null
	it_cleanup
}

it_setup
trap outage_cleanup EXIT
D=$IT_DIR
it_records_group >>"$D/signetd.conf"
it_start

now_ms() { echo $(($(date +%s%N) / 1000000)); }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | sed 's/^0*//'; }

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Outage Root"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=Outage Issuing"
expect_rc 0 "$SIGNET" key generate --alg p256 dev-nonce
expect_rc 0 "$SIGNET" key pub dev-nonce --out "$D/dev-nonce.pub"
openssl rand -out "$D/nonce" 32
for i in $(seq 0 "$CLIENTS"); do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/c$i.key" 2>/dev/null
	openssl req -new -key "$D/c$i.key" -subj "/CN=outage-$i" -out "$D/c$i.csr"
done

# client I LOG: SignCsr in a loop until $D/stop exists; one line per call in
# LOG: "MS ok SERIAL" or "MS rc STATUS MESSAGE" (MS: when it was answered)
client() {
	local i=$1 log=$2 rc
	while [[ ! -e $D/stop ]]; do
		rc=0
		"$SIGNET" --timeout 10000 issue --ca issuing --profile device --csr "$D/c$i.csr" \
			--out "$D/c$i.pem" 2>"$D/c$i.err" || rc=$?
		if ((rc == 0)); then
			echo "$(now_ms) ok $(serial_of "$D/c$i.pem")"
		else
			echo "$(now_ms) rc $rc $(head -c 200 "$D/c$i.err" | tr '\n' ' ')"
		fi >>"$log"
		rm -f "$D/c$i.pem"
	done
}
# start_clients PHASE: the clients, logging to $D/PHASE-I.log
start_clients() {
	rm -f "$D/stop"
	for i in $(seq 1 "$CLIENTS"); do
		: >"$D/$1-$i.log"
		client "$i" "$D/$1-$i.log" &
		CLIENT_PIDS+=($!)
	done
}
stop_clients() {
	touch "$D/stop"
	wait "${CLIENT_PIDS[@]}" 2>/dev/null || true
	CLIENT_PIDS=()
}
# received PHASE [AFTER_MS]: how many certificates the clients got (answered after AFTER_MS)
received() { cat "$D/$1"-*.log | awk -v t="${2:-0}" '$2 == "ok" && $1 > t' | wc -l; }
# wait_received PHASE N [AFTER_MS]: until the clients got N certificates (after AFTER_MS), 20 s at most
wait_received() {
	for _ in $(seq 1 200); do
		(($(received "$1" "${3:-0}") >= $2)) && return 0
		sleep 0.1
	done
	it_fail "$1: the clients got $(received "$1" "${3:-0}") certificates in 20 s, want $2: $(tail -q -n 2 "$D/$1"-*.log)"
}
# all_recorded PHASE: every serial a client got in PHASE is a row of `issued`
all_recorded() {
	local missing
	cat "$D/$1"-*.log | awk '$2 == "ok" { print $3 }' | sort -u >"$D/$1.got"
	it_sql "SELECT serial FROM issued" | sed 's/^0*//' | sort -u >"$D/$1.db" ||
		it_fail "$1: cannot read issued"
	missing=$(comm -23 "$D/$1.got" "$D/$1.db")
	[[ -z $missing ]] || it_fail "$1: serials received by a client but not in issued: $missing"
	echo "$1: all $(wc -l <"$D/$1.got") serials the clients received are in issued"
}
# only_unavailable PHASE: no call failed with anything but UNAVAILABLE; some did
only_unavailable() {
	local other
	other=$(cat "$D/$1"-*.log | awk -v u="$UNAVAILABLE" '$2 == "rc" && $3 != u' | head -3)
	[[ -z $other ]] || it_fail "$1: while the database was away, want only exit $UNAVAILABLE (UNAVAILABLE), got: $other"
	grep -q " rc $UNAVAILABLE " "$D/$1"-*.log ||
		it_fail "$1: no client call was answered UNAVAILABLE: the load did not meet the outage"
}

# outage PHASE HOW: the database away (pg_stop or pg_kill) under load for 3 s,
# and back
outage() {
	local phase=$1 how=$2 t_back
	start_clients "$phase"
	wait_received "$phase" 5
	"$how"
	expect_rc "$UNAVAILABLE" "$SIGNET" --timeout 10000 issue --ca issuing --profile device --csr "$D/c0.csr" \
		--out "$D/c0.pem"
	expect_rc 0 "$SIGNET" --timeout 10000 sign dev-nonce --in "$D/nonce" --out "$D/sig"
	openssl dgst -sha256 -verify "$D/dev-nonce.pub" -signature "$D/sig" "$D/nonce" >/dev/null ||
		it_fail "$phase: SignNonce with the database down returned a signature that does not verify"
	# a CA goes to the database before its file: none is made while it is away
	expect_rc "$UNAVAILABLE" "$SIGNET" --timeout 10000 ca create-root "down-$phase" --alg p256 \
		--subject "/CN=Made while the database was down"
	[[ ! -e $D/state/cas/down-$phase.pem ]] ||
		it_fail "$phase: a CA created while the database was away has a record file, and no row"
	sleep 3
	pg_start "$PG_DIR"
	t_back=$(now_ms)
	it_until 20 "$SIGNET" --timeout 5000 issue --ca issuing --profile device --csr "$D/c0.csr" \
		--out "$D/c0.pem" 2>"$D/c0.err" ||
		it_fail "$phase: the database back for 20 s, issuance still fails: $(tail -n 1 "$D/c0.err")"
	echo "$phase: issuance back $(($(now_ms) - t_back)) ms after the database"
	# and the CA refused then is made now: its row, then its file
	expect_rc 0 "$SIGNET" --timeout 10000 ca create-root "down-$phase" --alg p256 \
		--subject "/CN=Made once the database was back"
	[[ -f $D/state/cas/down-$phase.pem ]] || it_fail "$phase: CA down-$phase has no record file"
	[[ $(it_sql "SELECT count(*) FROM ca_records WHERE name = 'down-$phase'") == 1 ]] ||
		it_fail "$phase: CA down-$phase is not in ca_records once"
	wait_received "$phase" 3 "$t_back"
	stop_clients
	only_unavailable "$phase"
	kill -0 "$IT_PID" 2>/dev/null || it_fail "$phase: signetd exited"
	all_recorded "$phase"
}

# --- 1, 2: the database stopped, then killed ---
outage stopped pg_stop
outage killed pg_kill

# --- 3: signetd killed under load ---
start_clients kill9
wait_received kill9 6
kill -KILL "$IT_PID"
wait "$IT_PID" 2>/dev/null || true
IT_PID=""
rm -f "$D/signetd.sock"
it_start
t_back=$(now_ms)
wait_received kill9 3 "$t_back"
stop_clients
all_recorded kill9

# --- 4: start-up with the database down; a password in the URI ---
it_stop
pg_stop
rc=0
timeout 60 "$SIGNETD" --config "$D/signetd.conf" >"$D/down.log" 2>&1 || rc=$?
((rc != 124)) || it_fail "signetd started with the database down was still running after 60 s; want it to exit"
((rc != 0)) || it_fail "signetd started with the database down exited 0"
# libpq's own words for a socket nobody listens on
grep -q 'connection to server on socket .*failed' "$D/down.log" ||
	it_fail "signetd with the database down (exit $rc) does not give libpq's reason: $(tail -5 "$D/down.log")"
echo "4: with the database down signetd exits $rc: $(grep -m1 'connection to server' "$D/down.log")"
pg_start "$PG_DIR"

inline=Inl1nePassw0rd
sed "s|database = \"postgresql://signet@|database = \"postgresql://signet:$inline@|" "$D/signetd.conf" >"$D/inline.conf"
grep -q "signet:$inline@" "$D/inline.conf" || it_fail "config: the password was not put in the URI"
rc=0
timeout 60 "$SIGNETD" --config "$D/inline.conf" >"$D/inline.log" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || it_fail "signetd with a password in records.database: exit $rc, want a refusal at start-up"
grep -q database_password_file "$D/inline.log" ||
	it_fail "the refusal of a password in the URI does not name database_password_file: $(tail -3 "$D/inline.log")"
! grep -qF "$inline" "$D/inline.log" || it_fail "signetd wrote the URI's password in its output"
echo "4: a password in the URI is refused: $(grep -m1 database_password_file "$D/inline.log")"

# and the real password never reached a log
! grep -qF "$(cat "$PG_PASSWORD_FILE")" "$D/signetd.log" "$D/down.log" ||
	it_fail "the database password is in signetd's log"
echo "pg_outage: OK"
