#!/usr/bin/env bash
# Records: every certificate in the ledger ('signet ledger'), revocation and
# CRLs signed on the token checked by OpenSSL (a revoked intermediate cuts off
# only its own devices), published CRL files kept fresh by a timer, the audit
# trail and its chain;
# then kill -9 during concurrent issuance: every certificate a client got is
# in the ledger afterwards, and the database is intact.
# SIGNET_TEST_BACKEND=pg: the same with the records on PostgreSQL.
source "$(dirname "$0")/lib.sh"
it_setup
D="$IT_DIR"
cat >>"$D/signetd.conf" <<EOF
records: {
  crl_validity_hours = 24;
  crl_publish_dir = "$D/crl";
  crl_refresh_seconds = 2;
$(it_records_pg)
};
EOF
it_start

serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
fingerprint_of() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
# device CA ID: a key made outside, its certificate from CA
device() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/$2.key" 2>/dev/null
	openssl req -new -key "$D/$2.key" -subj "/CN=$2" -out "$D/$2.csr"
	expect_rc 0 "$SIGNET" issue --ca "$1" --profile device --csr "$D/$2.csr" --out "$D/$2.pem"
}
# crl_verify CERT CRLS...: openssl verify's verdict with CRL checks on the
# whole chain (its exit status is not the test's: the output is)
crl_verify() {
	local cert=$1
	shift
	cat "$@" >"$D/crls.pem"
	openssl verify -crl_check_all -CAfile "$D/root.pem" -untrusted "$D/inters.pem" \
		-CRLfile "$D/crls.pem" "$cert" 2>&1 || true
}

expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Records Root" --out "$D/root.pem"
expect_rc 0 "$SIGNET" ca create-intermediate i1 --parent root --alg p256 --subject "/CN=Records I1" --out "$D/i1.pem"
expect_rc 0 "$SIGNET" ca create-intermediate i2 --parent root --alg p384 --subject "/CN=Records I2" --out "$D/i2.pem"
cat "$D/i1.pem" "$D/i2.pem" >"$D/inters.pem"
device i1 dev-a
device i1 dev-b
device i2 dev-c

# --- the ledger ---
expect_rc 0 "$SIGNET" ledger list --ca i1
[[ $(wc -l <"$D/out") -eq 2 ]] || it_fail "ledger list --ca i1: $(cat "$D/out")"
grep -q "^$(serial_of "$D/dev-a.pem") ca=i1 profile=device subject=/CN=dev-a " "$D/out" ||
	it_fail "dev-a's ledger line: $(cat "$D/out")"
expect_rc 0 "$SIGNET" ledger list --profile ca
grep -q "^$(serial_of "$D/i1.pem") ca=root profile=ca " "$D/out" || it_fail "i1's certificate is not in the ledger as issued by root"
expect_rc 0 "$SIGNET" ledger list --subject DEV-C
[[ $(wc -l <"$D/out") -eq 1 ]] || it_fail "subject filter: $(cat "$D/out")"
# what expires within a year (the devices) and not after (the CAs)
expect_rc 0 "$SIGNET" ledger list --expires-after now --expires-before "$(($(date +%s) + 400 * 86400))"
[[ $(wc -l <"$D/out") -eq 3 ]] || it_fail "expiry window: $(cat "$D/out")"
grep -q 'profile=ca' "$D/out" && it_fail "the expiry window let a CA certificate in"
expect_rc 0 "$SIGNET" ledger list --limit 2 --all
[[ $(wc -l <"$D/out") -eq 5 ]] || it_fail "ledger list --all with pages of 2: $(cat "$D/out")"
expect_rc 0 "$SIGNET" ledger get "$(serial_of "$D/dev-a.pem")" --out "$D/got.pem"
cmp -s <(openssl x509 -in "$D/got.pem" -outform DER) <(openssl x509 -in "$D/dev-a.pem" -outform DER) ||
	it_fail "ledger get returned another certificate"
expect_rc 0 "$SIGNET" ledger get --fingerprint "$(fingerprint_of "$D/dev-c.pem")" --out "$D/got-c.pem"
cmp -s "$D/got-c.pem" "$D/dev-c.pem" || it_fail "ledger get --fingerprint returned another certificate"
expect_rc 15 "$SIGNET" ledger get 0123456789ABCDEF

# --- revocation and CRLs ---
expect_rc 0 "$SIGNET" revoke i1 "$(serial_of "$D/dev-a.pem")" --reason keyCompromise
grep -q 'revoked' "$D/out" || it_fail "revoke output: $(cat "$D/out")"
expect_rc 16 "$SIGNET" revoke i1 "$(serial_of "$D/dev-a.pem")"
expect_rc 15 "$SIGNET" revoke i1 0123456789ABCDEF
expect_rc 19 "$SIGNET" revoke i1 "$(serial_of "$D/dev-c.pem")"
[[ $IT_ERR == *"i2"* ]] || it_fail "revoking another CA's certificate should name it: $IT_ERR"
expect_rc 0 "$SIGNET" crl i1 --out "$D/i1.crl"
openssl crl -in "$D/i1.crl" -noout -text >"$D/i1.crl.txt"
grep -q "Serial Number: $(serial_of "$D/dev-a.pem")" "$D/i1.crl.txt" || it_fail "dev-a is not on i1's CRL"
grep -q 'Key Compromise' "$D/i1.crl.txt" || it_fail "the CRL has no reason code"
grep -q 'Authority Key Identifier' "$D/i1.crl.txt" || it_fail "the CRL has no AKI"
n1=$(openssl crl -in "$D/i1.crl" -noout -crlnumber | cut -d= -f2)
expect_rc 0 "$SIGNET" crl i1 --out "$D/i1-again.crl"
n2=$(openssl crl -in "$D/i1-again.crl" -noout -crlnumber | cut -d= -f2)
((n2 > n1)) || it_fail "CRL numbers do not increase: $n1 then $n2"
openssl crl -in "$D/i1.crl" -noout -verify -CAfile <(cat "$D/i1.pem" "$D/root.pem") 2>&1 | grep -q 'verify OK' ||
	it_fail "i1's CRL signature does not verify with i1's certificate"
expect_rc 0 "$SIGNET" crl root --out "$D/root.crl"
expect_rc 0 "$SIGNET" crl i2 --out "$D/i2.crl"
[[ $(crl_verify "$D/dev-a.pem" "$D/root.crl" "$D/i1.crl" "$D/i2.crl") == *"certificate revoked"* ]] ||
	it_fail "a revoked device passed CRL-checked verification"
[[ $(crl_verify "$D/dev-b.pem" "$D/root.crl" "$D/i1.crl" "$D/i2.crl") == *": OK"* ]] ||
	it_fail "dev-b (not revoked) failed CRL-checked verification"

# an intermediate revoked by its parent cuts off its own devices only
expect_rc 0 "$SIGNET" revoke root "$(serial_of "$D/i1.pem")" --reason cessationOfOperation
expect_rc 0 "$SIGNET" crl root --out "$D/root.crl"
[[ $(crl_verify "$D/dev-b.pem" "$D/root.crl" "$D/i1.crl" "$D/i2.crl") == *"certificate revoked"* ]] ||
	it_fail "a device of the revoked intermediate passed"
[[ $(crl_verify "$D/dev-c.pem" "$D/root.crl" "$D/i1.crl" "$D/i2.crl") == *": OK"* ]] ||
	it_fail "a device of the sibling intermediate failed"
# the published files are the same CRLs, rewritten after each revocation
[[ -s $D/crl/root.crl && -s $D/crl/i1.crl ]] || it_fail "no CRL files in the publish directory: $(ls "$D/crl" 2>&1)"
openssl crl -inform DER -in "$D/crl/root.crl" -noout -text | grep -q "Serial Number: $(serial_of "$D/i1.pem")" ||
	it_fail "the published root CRL does not list i1"
# and re-signed on a timer, revocations or not: a published CRL must not expire
n_before=$(openssl crl -inform DER -in "$D/crl/root.crl" -noout -crlnumber | cut -d= -f2)
sleep 3
n_after=$(openssl crl -inform DER -in "$D/crl/root.crl" -noout -crlnumber | cut -d= -f2)
((n_after > n_before)) || it_fail "the published root CRL was not re-signed by the timer ($n_before, $n_after)"
[[ -s $D/crl/i2.crl ]] || it_fail "i2's CRL (nothing revoked) was not published by the timer"
expect_rc 0 "$SIGNET" ledger list --revoked
[[ $(wc -l <"$D/out") -eq 2 ]] || it_fail "ledger list --revoked: $(cat "$D/out")"

# --- the audit trail ---
# key and CA-request acts, to see that each names what it was on
expect_rc 0 "$SIGNET" key generate --alg p256 audited-key
openssl rand -out "$D/nonce" 32
expect_rc 0 "$SIGNET" sign audited-key --in "$D/nonce" --out "$D/nonce.sig"
expect_rc 0 "$SIGNET" csr audited-key --subject "/CN=audited" --out "$D/audited.csr"
expect_rc 0 "$SIGNET" key delete audited-key
expect_rc 15 "$SIGNET" key delete audited-key
expect_rc 0 "$SIGNET" ca request ext-audited --alg p256 --subject "/CN=Audited Sub-CA" --out "$D/ext.csr"
audit=$D/state/audit.log
for act in 'GenerateKey","object":"key=audited-key","status":"OK"' \
	'SignNonce","object":"key=audited-key","status":"OK"' \
	'CreateCsr","object":"key=audited-key","status":"OK"' \
	'DeleteKey","object":"key=audited-key","status":"OK"' \
	'DeleteKey","object":"key=audited-key","status":"NOT_FOUND"' \
	'CreateCaRequest","object":"ca=ext-audited key=ca'; do
	grep -qF "\"method\":\"$act" "$audit" || it_fail "no audit line $act: $(grep -F "${act%%\"*}" "$audit" | head -2)"
done
if grep -q '"object":""' "$audit"; then
	it_fail "an audited act names no object: $(grep '"object":""' "$audit" | head -1)"
fi
[[ $(stat -c %a "$audit") == 600 ]] || it_fail "the audit log is not 0600"
expect_rc 0 "$SIGNET" audit verify "$audit"
for m in CreateRootCa CreateIntermediateCa SignCsr Revoke GetCrl PublishCrl; do
	grep -q "\"method\":\"$m\"" "$audit" || it_fail "no $m in the audit log"
done
grep -q '"method":"Revoke".*"status":"ALREADY_EXISTS"' "$audit" || it_fail "a refused revocation is not in the audit log"
grep -q '"method":"ListIssued"' "$audit" && it_fail "reads are audited as privileged acts"
sed '3s/"status":"OK"/"status":"NO"/' "$audit" >"$D/tampered.log"
expect_rc 4 "$SIGNET" audit verify "$D/tampered.log"
sed '2d' "$audit" >"$D/cut.log"
expect_rc 4 "$SIGNET" audit verify "$D/cut.log"

# --- kill -9 during concurrent issuance: nothing a client received is lost ---
mkdir -p "$D/batch"
for i in $(seq 1 24); do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/batch/$i.key" 2>/dev/null
	openssl req -new -key "$D/batch/$i.key" -subj "/CN=batch-$i" -out "$D/batch/$i.csr"
done
for w in 1 2 3 4; do
	(
		for i in $(seq "$w" 4 24); do
			"$SIGNET" --timeout 1000 issue --ca i2 --profile device --csr "$D/batch/$i.csr" \
				--out "$D/batch/$i.pem" 2>/dev/null || rm -f "$D/batch/$i.pem"
		done
	) &
done
# kill once a few certificates have reached their clients, while the rest are in flight
for _ in $(seq 100); do
	(($(find "$D/batch" -name '*.pem' -size +0 | wc -l) >= 4)) && break
	sleep 0.1
done
kill -KILL "$IT_PID"
wait "$IT_PID" 2>/dev/null || true
IT_PID=""
wait
rm -f "$D/signetd.sock"
it_start
got=0
for pem in "$D"/batch/*.pem; do
	[[ -s $pem ]] || continue
	got=$((got + 1))
	serial=$(serial_of "$pem")
	expect_rc 0 "$SIGNET" ledger get "$serial" --out "$D/check.pem"
	cmp -s "$D/check.pem" "$pem" || it_fail "$pem was returned to a client but the ledger holds another"
	# and in the table itself, once
	rows=$(it_sql "SELECT count(*) FROM issued WHERE serial = '$serial' AND ca = 'i2'")
	[[ $rows == 1 ]] || it_fail "$pem (serial $serial): $rows rows in issued, want 1"
done
((got >= 4)) || it_fail "only $got certificates reached a client: the kill tested nothing"
echo "kill -9: $got of 24 certificates were received before the kill; all are in the ledger ($IT_BACKEND)"
if [[ $IT_BACKEND == sqlite ]]; then
	integrity=$(it_sql 'PRAGMA integrity_check;')
	[[ $integrity == ok ]] || it_fail "the ledger fails PRAGMA integrity_check: $integrity"
fi
expect_rc 0 "$SIGNET" audit verify "$audit"
it_stop
echo "records: OK"
