#!/usr/bin/env bash
# Failover: two signetd on ONE SoftHSM token, each with its own state
# directory and socket, and clients that name both ("A,B"). Under SignNonce
# load with HMAC credentials:
#  1. both instances serve; A is killed (-9); no call fails, B serves on;
#  2. A (restarted) is stopped (SIGSTOP) so that requests sit unanswered on
#     it, then killed: those requests move to B and still succeed: nanomsg
#     resends them over the surviving connection, and B, which never saw their
#     credential nonces, does not take them for replays.
# Also: a second signetd on A's state directory (and so its audit log) is
# refused, which docs/failover.md states as the current constraint.
# SIGNET_TEST_BACKEND=pg: every instance's records in one PostgreSQL database.
. "$(dirname "$0")/lib.sh"

LOAD="$SIGNET_BUILD_DIR/bench/signet-bench-load"
B_PID=""
LOAD_PID=""

fo_cleanup() {
	local p
	for p in "$LOAD_PID" "$B_PID"; do
		[[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null
	done
	it_cleanup
}

it_setup
trap fo_cleanup EXIT
D=$IT_DIR
umask 077
openssl rand -hex 32 >"$D/loader.key"
SIGNET_CONFIG_AUTH=$(
	cat <<EOF
auth: { allow_anonymous = true; };
clients: {
  loader: { secret_file = "$D/loader.key";
            methods = [ "GenerateKey", "GetPublicKey", "SignNonce", "Health", "SignCsr" ];
            keys = [ "fo-*" ]; cas = [ "fo-ca" ]; profiles = [ "device" ]; };
};
EOF
)
export SIGNET_CONFIG_AUTH
it_write_config "$D/signetd.conf"
it_records_group >>"$D/signetd.conf"
EP_A=$SIGNET_ENDPOINT
EP_B="ipc://$D/b.sock"
write_signetd_config "$D/b.conf" "$D/state-b" "$IT_LABEL" "$EP_B" 4 debug
it_records_group >>"$D/b.conf"
as_loader() { "$SIGNET" --client loader --secret-file "$D/loader.key" "$@"; }

# start_b [CONF]: the second instance, waited for as it_start waits for the first.
start_b() {
	"$SIGNETD" --config "${1:-$D/b.conf}" >>"$D/b.log" 2>&1 &
	B_PID=$!
	for _ in $(seq 1 100); do
		as_loader --endpoint "$EP_B" --timeout 1000 health >/dev/null 2>&1 && return 0
		kill -0 "$B_PID" 2>/dev/null || it_fail "signetd B exited during start-up: $(tail -5 "$D/b.log")"
		sleep 0.1
	done
	it_fail "signetd B did not answer Health within 10 s"
}

# served LOG: how many calls of $OP that instance has answered OK.
OP=SignNonce
served() { grep -c "$OP.*OK" "$1" || true; }

# wait_served LOG N: until that instance has answered N of them (10 s at most).
wait_served() {
	for _ in $(seq 1 200); do
		(($(served "$1") >= $2)) && return 0
		sleep 0.05
	done
	it_fail "$1: fewer than $2 $OP answered within 10 s (have $(served "$1"))"
}

# start_load LOAD-OPTIONS...: 4 clients calling over both endpoints.
start_load() {
	"$LOAD" --endpoint "$EP_A,$EP_B" --clients 4 --client loader --secret-file "$D/loader.key" \
		"$@" >"$D/load.out" 2>"$D/load.err" &
	LOAD_PID=$!
}

# stall_a: stop A and check that every client now waits on it (B goes quiet, the load cannot end).
stall_a() {
	local b_stalled
	kill -STOP "$A_PID"
	sleep 1
	b_stalled=$(served "$D/b.log")
	sleep 0.5
	(($(served "$D/b.log") == b_stalled)) || it_fail "B still served while A was stopped: clients not waiting on A"
	kill -0 "$LOAD_PID" 2>/dev/null || it_fail "the load ended with A stopped: no request was waiting on A"
}

# end_load: the load ran to its end with every call answered OK.
end_load() {
	local rc=0
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	((rc == 0)) || it_fail "a client call failed (load exit $rc): $(cat "$D/load.err")"
	grep -q '"ops":[1-9]' "$D/load.out" || it_fail "no load measured: $(cat "$D/load.out")"
}

it_start
A_PID=$IT_PID
start_b

# One key on the shared token, made through A, seen through B.
as_loader --endpoint "$EP_A" key generate --alg p256 fo-1 >/dev/null || it_fail "key generate"
as_loader --endpoint "$EP_B" key pub fo-1 >"$D/pub-b.pem" || it_fail "B does not see the key A made"

# A second daemon on A's state directory: its audit log is locked.
write_signetd_config "$D/a2.conf" "$D/state" "$IT_LABEL" "ipc://$D/a2.sock" 2 debug
it_records_group >>"$D/a2.conf"
rc=0
timeout 20 "$SIGNETD" --config "$D/a2.conf" >"$D/a2.log" 2>&1 || rc=$?
((rc != 0)) || it_fail "a second signetd started on a state directory in use"
grep -q "in use by another process" "$D/a2.log" || it_fail "second daemon: $(tail -3 "$D/a2.log")"

# --- 1: both serve, A dies, nothing fails ---
start_load --op nonce --key fo-1 --seconds 6
wait_served "$D/signetd.log" 50
wait_served "$D/b.log" 50
b_before=$(served "$D/b.log")
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null || true
IT_PID=""
wait_served "$D/b.log" $((b_before + 200))
end_load
# The CLI with the same list: A's socket is stale, B answers.
as_loader --endpoint "$EP_A,$EP_B" --retries 1 key pub fo-1 >"$D/pub-cli.pem" ||
	it_fail "the CLI with an endpoint list, one instance dead"
cmp -s "$D/pub-b.pem" "$D/pub-cli.pem" || it_fail "the CLI got another public key"
echo "phase 1: A served $(served "$D/signetd.log"), B $(served "$D/b.log"): $(cat "$D/load.out")"

# --- 2: requests unanswered on A move to B when A dies ---
rm -f "$D/signetd.sock"
: >"$D/signetd.log"
it_start
A_PID=$IT_PID
start_load --op nonce --key fo-1 --seconds 6
wait_served "$D/signetd.log" 50
b_before=$(served "$D/b.log")
stall_a
(($(served "$D/b.log") > b_before)) || it_fail "B served nothing around the stop"
b_stalled=$(served "$D/b.log")
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null || true
IT_PID=""
wait_served "$D/b.log" $((b_stalled + 200))
end_load
! grep -qi "replay" "$D/b.log" || it_fail "B refused a moved request as a replay: $(grep -i replay "$D/b.log" | head -3)"
echo "phase 2: $(cat "$D/load.out")"

kill -TERM "$B_PID"
rc=0
wait "$B_PID" || rc=$?
B_PID=""
((rc == 0)) || it_fail "signetd B exited with $rc after SIGTERM"

# --- 3: issuance with one ledger: A and B share A's state directory, B with
# its own audit log. A CA created and renewed through A is served by B at
# once. SignCsr load over both; A stopped with requests waiting
# on it, then killed: every request gets exactly one certificate, whether A
# had recorded it (B answers the moved request from the ledger, by request
# id) or not (B issues it). ---
OP=SignCsr
rm -f "$D/signetd.sock" "$D/b.sock"
: >"$D/signetd.log"
: >"$D/b.log"
it_start
A_PID=$IT_PID
write_signetd_config "$D/b2.conf" "$D/state" "$IT_LABEL" "$EP_B" 4 debug
it_records_group "audit_log = \"$D/audit-b.log\";" >>"$D/b2.conf"
start_b "$D/b2.conf"
# a CA made through A while B runs: B finds it in the shared state directory
"$SIGNET" --endpoint "$EP_A" ca create-root fo-ca --alg p256 --subject "/CN=Failover CA" >/dev/null ||
	it_fail "ca create-root"
"$SIGNET" --endpoint "$EP_B" ca chain fo-ca --out "$D/fo-ca-b.pem" || it_fail "B does not know the CA A made"
# renewed through A: B issues under the new certificate
"$SIGNET" --endpoint "$EP_A" ca renew fo-ca --out "$D/fo-ca-renewed.pem" >/dev/null || it_fail "ca renew"
"$SIGNET" --endpoint "$EP_B" ca chain fo-ca --out "$D/fo-ca-b.pem" || it_fail "ca chain via B"
cmp -s <(openssl x509 -in "$D/fo-ca-b.pem" -outform DER) <(openssl x509 -in "$D/fo-ca-renewed.pem" -outform DER) ||
	it_fail "B does not serve the certificate A renewed"
start_load --op csr --ca fo-ca --profile device --requests 3000
wait_served "$D/signetd.log" 20
wait_served "$D/b.log" 20
stall_a
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null || true
IT_PID=""
end_load
# 3000 and each client's warm-up call
"$SIGNET" --endpoint "$EP_B" ledger list --ca fo-ca --profile device --all >"$D/ledger.txt" || it_fail "ledger list via B"
n=$(wc -l <"$D/ledger.txt")
((n == 3004)) || it_fail "$n certificates for 3004 SignCsr calls"
n=$(cut -d' ' -f1 "$D/ledger.txt" | sort -u | wc -l)
((n == 3004)) || it_fail "$n distinct serials for 3004 certificates"
echo "phase 3: A answered $(served "$D/signetd.log"), B $(served "$D/b.log"), 3004 certificates"

kill -TERM "$B_PID"
rc=0
wait "$B_PID" || rc=$?
B_PID=""
((rc == 0)) || it_fail "signetd B exited with $rc after SIGTERM"
echo "failover: OK"
