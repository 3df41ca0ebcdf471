#!/usr/bin/env bash
# Two "hosts" on one PostgreSQL database: two signetd with their own state
# directories and audit logs, one SoftHSM token (as failover.sh), records
# in one database, possession.shared_challenges on. Through the two:
#  1. an intermediate created on A is served by B for SignCsr, B not restarted;
#  2. a SignCsr retried with the same request id on the other host gets the
#     same certificate, and the database holds one row for it;
#  3. a challenge made on one host is answered once on the other; a second
#     answer, on either, is a replay;
#  4. revocations made on A and on B are both on the CRL fetched from either,
#     and CRL numbers taken on A, B, A strictly increase;
#  5. one publisher of CRL files at a time (PublishCrl in its audit log
#     only); stopped, the other takes over within a few refresh intervals,
#     and keeps it when the first comes back.
export SIGNET_TEST_BACKEND=pg
source "$(dirname "$0")/lib.sh"

ITC="$SIGNET_BUILD_DIR/tests/integration/itest_client"
REFRESH=1 # records.crl_refresh_seconds of both hosts
B_PID=""

hosts_cleanup() {
	local rc=$?
	[[ -z $B_PID ]] || kill -KILL "$B_PID" 2>/dev/null
	if ((rc != 0)) && [[ -f $IT_DIR/b.log ]]; then
		echo "--- signetd B log ---" >&2
		tail -n 30 "$IT_DIR/b.log" >&2
	fi
	it_cleanup
}

it_setup
trap hosts_cleanup EXIT
D=$IT_DIR
EP_A=$SIGNET_ENDPOINT
EP_B="ipc://$D/b.sock"
AUDIT_A=$D/state/audit.log
AUDIT_B=$D/state-b/audit.log

# host_config FILE STATE_DIR ENDPOINT CRL_DIR: one host's signetd.
host_config() {
	write_signetd_config "$1" "$2" "$IT_LABEL" "$3" 4 debug
	it_records_group "crl_publish_dir = \"$4\";" "crl_refresh_seconds = $REFRESH;" >>"$1"
	echo "possession: { shared_challenges = true; };" >>"$1"
}
host_config "$D/signetd.conf" "$D/state" "$EP_A" "$D/crl-a"
host_config "$D/b.conf" "$D/state-b" "$EP_B" "$D/crl-b"

on_a() { "$SIGNET" --endpoint "$EP_A" "$@"; }
on_b() { "$SIGNET" --endpoint "$EP_B" "$@"; }

start_b() {
	"$SIGNETD" --config "$D/b.conf" >>"$D/b.log" 2>&1 &
	B_PID=$!
	for _ in $(seq 1 100); do
		on_b --timeout 1000 health >/dev/null 2>&1 && return 0
		kill -0 "$B_PID" 2>/dev/null || it_fail "signetd B exited during start-up: $(tail -5 "$D/b.log")"
		sleep 0.1
	done
	it_fail "signetd B did not answer Health within 10 s: $(tail -5 "$D/b.log")"
}

stop_b() {
	local rc=0
	kill -TERM "$B_PID"
	wait "$B_PID" || rc=$?
	B_PID=""
	((rc == 0)) || it_fail "signetd B exited with $rc after SIGTERM: $(tail -5 "$D/b.log")"
}

serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
# crl_number FILE: a PEM CRL's number, in decimal (OpenSSL prints it in hex)
crl_number() {
	local n
	n=$(openssl crl -in "$1" -noout -crlnumber | cut -d= -f2)
	[[ $n == 0x* ]] || n=0x$n
	echo $((n))
}
# device NAME: a key made outside and its CSR, $D/NAME.key and $D/NAME.csr
device() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/$1.key" 2>/dev/null
	openssl req -new -key "$D/$1.key" -subj "/CN=$1" -out "$D/$1.csr"
}
# published LOG: how many CRLs that host has published (PublishCrl OK in its audit log)
published() { grep -c '"method":"PublishCrl".*"status":"OK"' "$1" 2>/dev/null || true; }

it_start
start_b

# --- 1: a CA made on A while B runs is served by B, without a restart ---
expect_rc 0 on_a ca create-root root --alg p256 --subject "/CN=Hosts Root" --out "$D/root.pem"
expect_rc 0 on_a ca create-intermediate issuing --parent root --alg p256 --subject "/CN=Hosts Issuing"
device first
t0=$(date +%s%N)
it_until 15 on_b --timeout 2000 issue --ca issuing --profile device --csr "$D/first.csr" \
	--out "$D/first.pem" 2>"$D/b-issue.err" ||
	it_fail "B could not issue under the intermediate A created, 15 s later: $(tail -n 1 "$D/b-issue.err")"
echo "1: B issued under A's new intermediate after $((($(date +%s%N) - t0) / 1000000)) ms"
expect_rc 0 on_a ca chain issuing --out "$D/chain.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$D/first.pem" >/dev/null ||
	it_fail "B's certificate does not chain to A's intermediate"

# renewed, then re-keyed, on A: B serves each new generation, without a
# restart, and still chains what the one before issued
b_serves() { # WHAT PEM: B's chain of `issuing` starts with PEM within 15 s
	for _ in $(seq 1 150); do
		on_b ca chain issuing --out "$D/chain-b.pem" 2>/dev/null &&
			cmp -s <(openssl x509 -in "$D/chain-b.pem" -outform DER) <(openssl x509 -in "$2" -outform DER) &&
			return 0
		sleep 0.1
	done
	it_fail "B does not serve the certificate A $1, 15 s later: B has $(openssl x509 -in "$D/chain-b.pem" -noout -serial 2>&1), A $(openssl x509 -in "$2" -noout -serial)"
}
expect_rc 0 on_a ca renew issuing --out "$D/renewed.pem"
b_serves renewed "$D/renewed.pem"
expect_rc 0 on_a ca rekey issuing --out "$D/rekeyed.pem"
b_serves re-keyed "$D/rekeyed.pem"
device second
expect_rc 0 on_b issue --ca issuing --profile device --csr "$D/second.csr" --out "$D/second.pem"
openssl verify -CAfile "$D/root.pem" -untrusted "$D/rekeyed.pem" "$D/second.pem" >/dev/null ||
	it_fail "B's certificate after the re-key does not chain to A's new intermediate"
ls "$D/state-b/cas/issuing.old/"*.pem >/dev/null 2>&1 ||
	it_fail "B kept no earlier generation of issuing: $(ls -R "$D/state-b/cas" 2>&1)"
expect_rc 0 on_b ca chain issuing --out "$D/chain.pem"
echo "1: B serves A's renewal and re-key of issuing"

# --- 2: the same request id on the other host: the same certificate, one row ---
device retried
openssl req -in "$D/retried.csr" -outform DER -out "$D/retried.der"
rid=$(openssl rand -hex 16)
SIGNET_ENDPOINT=$EP_A "$ITC" sign-csr "$rid" issuing device "$D/retried.der" "$D/retry-a.der" 2>"$D/err" ||
	it_fail "SignCsr with request id $rid on A: $(cat "$D/err")"
SIGNET_ENDPOINT=$EP_B "$ITC" sign-csr "$rid" issuing device "$D/retried.der" "$D/retry-b.der" 2>"$D/err" ||
	it_fail "the same SignCsr (request id $rid) retried on B: $(cat "$D/err")"
serial_a=$(openssl x509 -inform DER -in "$D/retry-a.der" -noout -serial | cut -d= -f2)
serial_b=$(openssl x509 -inform DER -in "$D/retry-b.der" -noout -serial | cut -d= -f2)
cmp -s "$D/retry-a.der" "$D/retry-b.der" ||
	it_fail "a retry on B of A's request $rid got another certificate: serial $serial_b, A's $serial_a"
rows=$(it_sql "SELECT count(*) FROM issued WHERE request_id = decode('$rid', 'hex')")
[[ $rows == 1 ]] || it_fail "request id $rid, sent to A then B: $rows rows in issued, want 1"
echo "2: request $rid on A and B: one certificate, serial $serial_a, one row"

# --- 3: a challenge made on one host is answered once, on the other ---
expect_rc 0 on_a key generate --alg p256 dev-tok
expect_rc 0 on_a csr dev-tok --subject /CN=dev-tok --out "$D/dev-tok.csr"
expect_rc 0 on_a issue --ca issuing --profile device --csr "$D/dev-tok.csr" --out "$D/dev-tok.pem"
cat "$D/dev-tok.pem" "$D/chain.pem" >"$D/dev-tok.chain"
# round MAKER ANSWERER OTHER: made on MAKER, answered on ANSWERER, replayed on both
round() {
	local ch host
	expect_rc 0 "$1" challenge create --device-id dev-tok --nonce-out "$D/nonce"
	ch=$(cut -d' ' -f1 "$D/out")
	[[ $ch =~ ^[0-9a-f]{32}$ ]] || it_fail "challenge create on ${1#on_} printed: $(cat "$D/out")"
	expect_rc 0 on_a sign dev-tok --in "$D/nonce" --out "$D/sig"
	expect_rc 0 "$2" challenge verify "$ch" --chain "$D/dev-tok.chain" --sig "$D/sig"
	for host in "$2" "$3"; do
		local rc=0
		"$host" challenge verify "$ch" --chain "$D/dev-tok.chain" --sig "$D/sig" >"$D/out" 2>"$D/err" || rc=$?
		((rc == 19)) && grep -q "already used" "$D/err" ||
			it_fail "challenge of ${1#on_} answered on ${2#on_}, again on ${host#on_}: want 19 'already used', got $rc: $(cat "$D/err")"
	done
}
round on_a on_b on_a
round on_b on_a on_b
echo "3: challenges answered across hosts once; replays refused on both"

# --- 4: revocations on both hosts, one CRL; CRL numbers across hosts ---
device rev-a
device rev-b
expect_rc 0 on_a issue --ca issuing --profile device --csr "$D/rev-a.csr" --out "$D/rev-a.pem"
expect_rc 0 on_b issue --ca issuing --profile device --csr "$D/rev-b.csr" --out "$D/rev-b.pem"
# each host revokes the certificate the other issued
expect_rc 0 on_a revoke issuing "$(serial_of "$D/rev-b.pem")" --reason keyCompromise
expect_rc 0 on_b revoke issuing "$(serial_of "$D/rev-a.pem")" --reason superseded
expect_rc 0 on_a crl issuing --out "$D/crl-1.pem"
expect_rc 0 on_b crl issuing --out "$D/crl-2.pem"
expect_rc 0 on_a crl issuing --out "$D/crl-3.pem"
for c in 1 2 3; do
	openssl crl -in "$D/crl-$c.pem" -noout -text >"$D/crl-$c.txt"
	for dev in rev-a rev-b; do
		grep -q "Serial Number: $(serial_of "$D/$dev.pem")" "$D/crl-$c.txt" ||
			it_fail "CRL $c (hosts A, B, A) does not list $dev (serial $(serial_of "$D/$dev.pem"))"
	done
	grep -q "Serial Number: $(serial_of "$D/first.pem")" "$D/crl-$c.txt" &&
		it_fail "CRL $c lists a certificate nobody revoked"
	openssl crl -in "$D/crl-$c.pem" -noout -verify -CAfile <(cat "$D/chain.pem") 2>&1 | grep -q 'verify OK' ||
		it_fail "CRL $c does not verify with the intermediate's certificate"
done
n1=$(crl_number "$D/crl-1.pem") n2=$(crl_number "$D/crl-2.pem") n3=$(crl_number "$D/crl-3.pem")
((n1 < n2 && n2 < n3)) || it_fail "CRL numbers from A, B, A: $n1, $n2, $n3; want strictly increasing"
echo "4: revocations of A and B on every CRL; CRL numbers $n1 (A) < $n2 (B) < $n3 (A)"

# --- 5: one publisher at a time, and a takeover ---
# publishers SECONDS: over that window, how many CRLs each host published
# ("A B" in $PUB)
publishers() {
	local a0 b0
	a0=$(published "$AUDIT_A") b0=$(published "$AUDIT_B")
	sleep "$1"
	PUB="$(($(published "$AUDIT_A") - a0)) $(($(published "$AUDIT_B") - b0))"
}
sleep $((2 * REFRESH)) # past the publications the revocations may have set off
publishers $((4 * REFRESH))
read -r pa pb <<<"$PUB"
if ((pa > 0 && pb == 0)); then
	pub=A
elif ((pa == 0 && pb > 0)); then
	pub=B
else
	it_fail "CRLs published over $((4 * REFRESH)) s: A $pa, B $pb; want one host, not $( ((pa + pb)) && echo both || echo neither)"
fi
echo "5: $pub publishes ($pa by A, $pb by B in $((4 * REFRESH)) s)"
crl_dir=$D/crl-${pub,,}
openssl crl -inform DER -in "$crl_dir/issuing.crl" -noout -text >"$D/published.txt" ||
	it_fail "the publisher $pub wrote no $crl_dir/issuing.crl: $(ls "$crl_dir" 2>&1)"
grep -q "Serial Number: $(serial_of "$D/rev-a.pem")" "$D/published.txt" ||
	it_fail "the CRL $pub published does not list rev-a"
# the other host serves the last CRL the publisher signed: copied from the
# database into its own publish directory at its refresh
other=$([[ $pub == A ]] && echo b || echo a)
crl_number() { openssl crl -inform DER -in "$1" -noout -crlnumber 2>/dev/null | sed 's/.*=//'; }
copied=0
for _ in $(seq 1 $((40 * REFRESH))); do
	[[ -f $D/crl-$other/issuing.crl && $(crl_number "$D/crl-$other/issuing.crl") == "$(crl_number "$crl_dir/issuing.crl")" ]] &&
		copied=1 && break
	sleep 0.1
done
((copied)) || it_fail "the host that does not publish has no copy of $pub's last CRL (number $(crl_number "$crl_dir/issuing.crl")) in $D/crl-$other: $(ls "$D/crl-$other" 2>&1)"
cmp -s "$D/crl-$other/issuing.crl" "$crl_dir/issuing.crl" ||
	it_fail "the copy in $D/crl-$other differs from the CRL $pub signed with the same number"

# stop the publisher: the other takes over
if [[ $pub == A ]]; then
	it_stop
	audit_new=$AUDIT_B new=B
else
	stop_b
	audit_new=$AUDIT_A new=A
fi
before=$(published "$audit_new") t0=$(date +%s%N) took=0
for _ in $(seq 1 $((80 * REFRESH))); do
	(($(published "$audit_new") > before)) && took=1 && break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
((took)) || it_fail "$pub stopped, $new published no CRL within $((8 * REFRESH)) s (crl_refresh_seconds = $REFRESH)"
echo "5: $pub stopped; $new took over publishing after $ms ms"

# the first back: the new publisher keeps the role
if [[ $pub == A ]]; then
	rm -f "$D/signetd.sock"
	it_start
else
	rm -f "$D/b.sock"
	start_b
fi
sleep $((2 * REFRESH))
publishers $((4 * REFRESH))
read -r pa pb <<<"$PUB"
if [[ $new == A ]]; then
	((pa > 0 && pb == 0)) || it_fail "after B came back: A published $pa, B $pb; want A only"
else
	((pb > 0 && pa == 0)) || it_fail "after A came back: A published $pa, B $pb; want B only"
fi
echo "5: $pub back, $new still the only publisher ($pa by A, $pb by B)"

expect_rc 0 "$SIGNET" audit verify "$AUDIT_A"
expect_rc 0 "$SIGNET" audit verify "$AUDIT_B"
stop_b
it_stop
echo "pg_hosts: OK"
