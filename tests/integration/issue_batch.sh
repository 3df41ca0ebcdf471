#!/usr/bin/env bash
# Batch issuance (SignCsrBatch, 'signet issue --batch'): a batch mixing good
# CSRs with a broken signature, a key the profile refuses and garbage, each
# with its own status while the others are issued and verify; the same batch
# again gets the same certificates and adds no ledger row; batches over
# server.max_batch_csrs and max_batch_bytes (changed by SIGHUP) refused whole,
# naming the limit; a client allowed one profile gets PERMISSION_DENIED for
# the items of another in the same batch; kill -9 of signetd while batches
# are in flight: every serial a manifest reported is in the ledger, and the
# same commands run again complete the rounds with one certificate per
# input; the manifest as JSON and CSV.
# SIGNET_TEST_BACKEND=pg: the same with the records on PostgreSQL.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
ITEST="$SIGNET_BUILD_DIR/tests/integration/itest_client"

umask 077
openssl rand -hex 32 >"$D/line.key"
# config MAX_CSRS [MAX_BYTES]: anonymous callers may do anything (ipc); client
# "line" may batch under profile device of CA issuing only
config() {
	SIGNET_CONFIG_AUTH=$(
		cat <<EOF
auth: { allow_anonymous = true; };
clients: {
  line: { secret_file = "$D/line.key"; methods = [ "SignCsrBatch" ];
          cas = [ "issuing" ]; profiles = [ "device" ]; };
};
EOF
	)
	export SIGNET_CONFIG_AUTH
	it_write_config "$D/signetd.conf.new" "max_batch_csrs = $1; ${2:+max_batch_bytes = $2;}"
	it_records_group >>"$D/signetd.conf.new"
	mv "$D/signetd.conf.new" "$D/signetd.conf"
}
config 32
it_start

# csr DIR NAME [KEYSPEC]: a key and a PEM CSR DIR/NAME.csr for /CN=NAME
csr() {
	local spec=${3:-"-algorithm EC -pkeyopt ec_paramgen_curve:P-256"}
	# shellcheck disable=SC2086 # the key spec is several options
	openssl genpkey $spec -out "$D/$2.key" 2>/dev/null
	openssl req -new -key "$D/$2.key" -subj "/CN=$2" -out "$1/$2.csr"
}
# json_rows FILE: the manifest's rows as "input status serial output subject" lines
json_rows() {
	python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["input"], r["status"], r["serial"] or "-", r["output"] or "-", r["subject"] or "-")
' "$1"
}
csv_rows() {
	python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
for r in rows:
    print(r["input"], r["status"], r["serial"] or "-", r["output"] or "-", r["subject"] or "-")
' "$1"
}
ledger_count() { it_sql "SELECT count(*) FROM issued WHERE ca = '$1'"; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Batch Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate issuing --parent root --alg p256 --subject "/CN=Batch Issuing"

# --- a mixed batch: each input its own status, the others issued ---
mkdir "$D/in" "$D/certs"
for n in a1 a2 a3 a4 a5; do csr "$D/in" "$n"; done
csr "$D/in" rsa "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" # constrained-device takes P-256 only
openssl req -in "$D/in/a1.csr" -outform DER -out "$D/a1.der"
# the last byte of the DER is the signature's: the CSR parses, its signature fails
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
	"$D/a1.der" "$D/in/badsig.der"
head -c 300 /dev/urandom >"$D/in/junk.pem"
echo "not a CSR" >"$D/in/README" # not *.csr/*.pem/*.der: not an input
expect_rc 5 "$SIGNET" issue --batch "$D/in" --ca issuing --profile constrained-device \
	--out-dir "$D/certs" --manifest "$D/first.json" --chain "$D/chain.pem"
[[ $IT_ERR == *"PARTIAL: 3 of 8 CSRs were not issued"* ]] || it_fail "partial batch: $IT_ERR"
json_rows "$D/first.json" >"$D/first.rows"
[[ $(wc -l <"$D/first.rows") -eq 8 ]] || it_fail "manifest: $(cat "$D/first.rows")"
# inputs in name order, each with its status
[[ $(cut -d' ' -f1,2 "$D/first.rows" | tr '\n' ' ') == "a1.csr OK a2.csr OK a3.csr OK a4.csr OK a5.csr OK badsig.der INVALID_ARGUMENT junk.pem INVALID_ARGUMENT rsa.csr INVALID_ARGUMENT " ]] ||
	it_fail "statuses: $(cat "$D/first.rows")"
python3 - "$D/first.json" <<'PY' || it_fail "manifest messages: $(cat "$D/first.json")"
import json, sys
m = {r["input"]: r for r in json.load(open(sys.argv[1]))}
assert "signature" in m["badsig.der"]["message"], m["badsig.der"]
assert m["rsa.csr"]["message"].find("RSA 2048 is not allowed") >= 0, m["rsa.csr"]
assert m["rsa.csr"]["subject"] == "/CN=rsa", m["rsa.csr"]
assert m["junk.pem"]["subject"] == "" and m["junk.pem"]["output"] == "", m["junk.pem"]
assert m["a3.csr"]["message"] == "" and m["a3.csr"]["subject"] == "/CN=a3", m["a3.csr"]
PY
[[ $(grep -c 'BEGIN CERTIFICATE' "$D/chain.pem") -eq 2 ]] || it_fail "the chain is not issuing, root"
for n in a1 a2 a3 a4 a5; do
	[[ -f $D/certs/$n.pem ]] || it_fail "no certificate for $n"
	openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$D/certs/$n.pem" | grep -q ': OK' ||
		it_fail "$n does not verify"
	cmp -s <(openssl x509 -in "$D/certs/$n.pem" -noout -pubkey) <(openssl pkey -in "$D/$n.key" -pubout) ||
		it_fail "$n's certificate is not for its key"
	grep -q "^$n.csr OK $(serial_of "$D/certs/$n.pem") $D/certs/$n.pem /CN=$n\$" "$D/first.rows" ||
		it_fail "manifest row of $n: $(grep "^$n" "$D/first.rows")"
done
[[ ! -e $D/certs/rsa.pem && ! -e $D/certs/junk.pem && ! -e $D/certs/badsig.pem ]] || it_fail "a certificate for a refused input"
[[ $(ledger_count issuing) -eq 5 ]] || it_fail "$(ledger_count issuing) ledger rows for 5 certificates"
# one audit line per item under its own request id, and one for the batch
audit=$D/state/audit.log
[[ $(grep -c '"method":"SignCsrBatch".*"object":"ca=issuing serial=[0-9A-F]* profile=constrained-device".*"status":"OK"' "$audit") -eq 5 ]] ||
	it_fail "item lines: $(grep SignCsrBatch "$audit")"
[[ $(grep -c '"method":"SignCsrBatch".*"status":"INVALID_ARGUMENT"' "$audit") -eq 3 ]] || it_fail "refused items' lines"
grep -q '"object":"ca=issuing batch items=8 issued=5 retried=0 failed=3".*"status":"OK"' "$audit" ||
	it_fail "the batch's line: $(grep 'batch items' "$audit")"

# --- the same command again: the same certificates, no new row ---
mkdir "$D/out2"
expect_rc 5 "$SIGNET" issue --batch "$D/in" --ca issuing --profile constrained-device \
	--out-dir "$D/out2" --manifest "$D/second.csv"
csv_rows "$D/second.csv" | sed "s|$D/out2/|$D/certs/|" >"$D/second.rows"
cmp -s "$D/first.rows" "$D/second.rows" || it_fail "the retry's manifest differs: $(diff "$D/first.rows" "$D/second.rows")"
for n in a1 a2 a3 a4 a5; do
	cmp -s "$D/certs/$n.pem" "$D/out2/$n.pem" || it_fail "the retry got another certificate for $n"
done
[[ $(ledger_count issuing) -eq 5 ]] || it_fail "the retry added ledger rows: $(ledger_count issuing)"
grep -q '"object":"ca=issuing batch items=8 issued=0 retried=5 failed=3"' "$audit" || it_fail "the retry's batch line"
# the CSV is RFC 4180: a header, CRLF, a message with a comma quoted
head -1 "$D/second.csv" | grep -q $'^input,output,serial,subject,status,message\r$' || it_fail "CSV header: $(head -1 "$D/second.csv")"
# a PEM bundle: N-th CSR to OUT_DIR/N.pem, all issued, exit 0; the manifest on standard output
cat "$D"/in/a*.csr >"$D/bundle.pem"
mkdir "$D/out3"
expect_rc 0 "$SIGNET" issue --batch "$D/bundle.pem" --ca issuing --profile device --out-dir "$D/out3" --batch-size 2
python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); assert [r["input"] for r in m] == ["bundle.pem#%d" % i for i in range(1, 6)], m; assert all(r["status"] == "OK" for r in m), m' \
	"$D/out" || it_fail "bundle manifest: $(cat "$D/out")"
for i in 1 2 3 4 5; do
	openssl verify -CAfile "$D/root.pem" -untrusted "$D/chain.pem" "$D/out3/$i.pem" | grep -q ': OK' || it_fail "bundle #$i"
done
[[ $(grep -c '"object":"ca=issuing batch items=[12] issued=[12]' "$audit") -eq 3 ]] || it_fail "--batch-size 2: not 3 requests"

# --- limits: refused whole, naming the limit and the numbers ---
mkdir "$D/many"
for i in $(seq 1 33); do csr "$D/many" "m$i"; done
before=$(ledger_count issuing)
expect_rc 13 "$SIGNET" issue --batch "$D/many" --ca issuing --profile device --out-dir "$D/certs" --batch-size 33 --manifest "$D/many.json"
[[ $IT_ERR == *"a batch of 33 CSRs is over server.max_batch_csrs (32)"* ]] || it_fail "max_batch_csrs: $IT_ERR"
python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); assert len(m) == 33 and all(r["status"] == "INVALID_ARGUMENT" and r["serial"] == "" for r in m), m' \
	"$D/many.json" || it_fail "refused batch's manifest"
[[ $(ledger_count issuing) -eq $before ]] || it_fail "a refused batch issued certificates"
config 32 1024
it_hup 'reload: .* applied'
expect_rc 13 "$SIGNET" issue --batch "$D/bundle.pem" --ca issuing --profile device --out-dir "$D/out3"
[[ $IT_ERR =~ "a batch of "[0-9]+" bytes of CSRs is over server.max_batch_bytes (1024)" ]] || it_fail "max_batch_bytes: $IT_ERR"
[[ $(ledger_count issuing) -eq $before ]] || it_fail "a batch over the byte limit issued certificates"
config 32
it_hup 'reload: .* applied'

# --- authorization item by item: profile device yes, server no ---
openssl req -new -key "$D/a2.key" -subj /CN=srv.example -addext "subjectAltName=DNS:srv.example" -out "$D/srv.csr"
SIGNET_CLIENT=line SIGNET_SECRET_FILE=$D/line.key "$ITEST" sign-csr-batch issuing \
	"device:$D/in/a2.csr" "server:$D/srv.csr" "device:$D/in/a3.csr" >"$D/authz.out" 2>"$D/authz.err" ||
	it_fail "sign-csr-batch as line: $(cat "$D/authz.err")"
mapfile -t lines <"$D/authz.out"
[[ ${lines[0]} == "OK "* && ${lines[2]} == "OK "* ]] || it_fail "line's device items: $(cat "$D/authz.out")"
[[ ${lines[1]} == "PERMISSION_DENIED client 'line' may not use profile 'server' (not in clients.line.profiles)" ]] ||
	it_fail "line's server item: ${lines[1]}"
grep -q '"caller":"line","method":"SignCsrBatch","object":"ca=issuing profile=server","status":"PERMISSION_DENIED"' "$audit" ||
	it_fail "the refused item's audit line: $(grep '"caller":"line"' "$audit")"
# the envelope's authorization covers the CA
rc=0
SIGNET_CLIENT=line SIGNET_SECRET_FILE=$D/line.key "$ITEST" sign-csr-batch root "device:$D/in/a2.csr" >/dev/null 2>"$D/authz.err" || rc=$?
if ((rc != 1)) || ! grep -q "PERMISSION_DENIED: client 'line' may not use CA 'root'" "$D/authz.err"; then
	it_fail "another CA: $(cat "$D/authz.err")"
fi

# --- kill -9 while batches are in flight ---
expect_rc 0 "$SIGNET" ca create-intermediate killca --parent root --alg p256 --subject "/CN=Batch Kill"
mkdir "$D/kin"
for i in $(seq 1 40); do csr "$D/kin" "k$i"; done
ROUNDS=16
# round R [RETRIES]: its own --days, so its own request ids: 40 new certificates
round() {
	mkdir -p "$D/kout-$1"
	"$SIGNET" --timeout 2000 --retries "${2:-0}" issue --batch "$D/kin" --ca killca --profile device \
		--days $((100 + $1)) --batch-size 8 --out-dir "$D/kout-$1" --manifest "$D/kill-$1.json" 2>>"$D/rounds.err"
}
# without retries: a batch in flight when signetd dies is reported not issued,
# though signetd may have recorded it
(for r in $(seq 1 $ROUNDS); do round "$r" || true; done) &
LOOP=$!
for at in 80 240 400; do
	for _ in $(seq 1 200); do
		(($(ledger_count killca) >= at)) && break
		sleep 0.02
	done
	echo "kill -9 at $(ledger_count killca) certificates"
	kill -KILL "$IT_PID"
	wait "$IT_PID" 2>/dev/null || true
	IT_PID=""
	it_start
done
wait "$LOOP" || true
issued=0
for r in $(seq 1 $ROUNDS); do
	[[ -f $D/kill-$r.json ]] || it_fail "round $r wrote no manifest: $(tail -3 "$D/rounds.err")"
	while read -r _ status serial _; do
		[[ $status == OK ]] || continue
		issued=$((issued + 1))
		[[ $(it_sql "SELECT count(*) FROM issued WHERE ca = 'killca' AND serial = '$serial'") -eq 1 ]] ||
			it_fail "round $r reported $serial issued; the ledger does not have it"
	done < <(json_rows "$D/kill-$r.json")
done
((issued > 0)) || it_fail "no round issued anything"
echo "kill -9 (3 times): $issued certificates reported issued, all in the ledger, which holds $(ledger_count killca)"
# every round again: what the ledger holds comes back, the rest is issued, one per input
for r in $(seq 1 $ROUNDS); do
	rc=0
	round "$r" 2 || rc=$?
	((rc == 0)) || it_fail "round $r again exited $rc: $(tail -3 "$D/rounds.err")"
done
[[ $(ledger_count killca) -eq $((40 * ROUNDS)) ]] || it_fail "$(ledger_count killca) ledger rows for $((40 * ROUNDS)) inputs"
[[ $(it_sql "SELECT count(DISTINCT request_id) FROM issued WHERE ca = 'killca'") -eq $((40 * ROUNDS)) ]] ||
	it_fail "request ids are not one per input"
# every row has its audit line: an item's own, or one the start-up reconcile
# added for a row signetd recorded and was killed before it wrote the line
it_sql "SELECT serial FROM issued WHERE ca = 'killca'" >"$D/kill-serials"
python3 - "$audit" "$D/kill-serials" <<'PY' || it_fail "ledger rows without an audit line"
import json, re, sys
named = set()
for line in open(sys.argv[1]):
    m = re.search(r"\bserial=([0-9A-F]+)", json.loads(line)["object"])
    if m:
        named.add(m.group(1))
missing = [s for s in open(sys.argv[2]).read().split() if s not in named]
assert not missing, missing[:5]
PY
expect_rc 0 "$SIGNET" audit verify "$audit"
it_stop
echo "issue_batch: OK"
