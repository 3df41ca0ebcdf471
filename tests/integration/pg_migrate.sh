#!/usr/bin/env bash
# Schema migration on PostgreSQL: a database at the previous schema version
# (tests/integration/pg_schema_v3.sql: issued, crl_numbers, ca_events,
# challenges, challenge_count, audit_reconciled, schema_version = 3) with a
# few rows in it; signetd started on it migrates it to the current version:
# the schema (pg_dump --schema-only) is the one signetd creates in an empty
# database, the rows are still there and a new SignCsr works. A database
# marked with a version newer than signetd knows (99) is refused at start-up.
# Skipped (77) while pg_schema_v3.sql does not exist.
export SIGNET_TEST_BACKEND=pg
source "$(dirname "$0")/lib.sh"

V3="$SIGNET_SRC_DIR/tests/integration/pg_schema_v3.sql"
if [[ ! -f $V3 ]]; then
	echo "SKIP: $V3 (the version-3 schema to migrate from) does not exist"
	exit 77
fi
FRESH_PID=""
migrate_cleanup() {
	[[ -z $FRESH_PID ]] || kill -KILL "$FRESH_PID" 2>/dev/null
	it_cleanup
}
it_setup
trap migrate_cleanup EXIT
D=$IT_DIR
it_records_group >>"$D/signetd.conf"

# --- version 3, and rows in it ---
pg_psql -f "$V3" >/dev/null 2>"$D/v3.err" || it_fail "loading $V3: $(cat "$D/v3.err")"
v=$(pg_psql "SELECT version FROM schema_version")
[[ $v == 3 ]] || it_fail "$V3 leaves schema_version at '$v', want 3"
for t in issued crl_numbers ca_events challenges challenge_count audit_reconciled; do
	[[ $(pg_psql "SELECT to_regclass('public.$t') IS NOT NULL") == t ]] || it_fail "$V3 made no table $t"
done
# an old certificate (not signet's: only its row matters)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/old.key" \
	-subj /CN=old-device -days 30 -out "$D/old.pem" 2>/dev/null
old_serial=$(openssl x509 -in "$D/old.pem" -noout -serial | cut -d= -f2)
old_der=$(openssl x509 -in "$D/old.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')
old_spki=$(openssl x509 -in "$D/old.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
old_rid=$(openssl rand -hex 16)
t=$(date +%s)
pg_psql "
INSERT INTO issued (ca, issuer_key, serial, subject, sans, profile, spki_sha256, not_before,
                    not_after, caller, request_id, issued_at, der, trail)
  VALUES ('old-ca', 'ca.old-ca', '$old_serial', '/CN=old-device', '', 'device',
          decode('$old_spki', 'hex'), $t, $((t + 30 * 86400)), 'anonymous',
          decode('$old_rid', 'hex'), $t, decode('$old_der', 'hex'), NULL);
INSERT INTO crl_numbers (issuer_key, number) VALUES ('ca.old-ca', 41);
INSERT INTO ca_events (ca, event, key_label, serial, der, at)
  VALUES ('old-ca', 'create', 'ca.old-ca', '$old_serial', decode('$old_der', 'hex'), $t);
INSERT INTO audit_reconciled (trail, ledger_id, audit_offset, audit_hash)
  VALUES ('/old-host/audit.log', 1, 4096, '$(printf '%064d' 0)');
" >/dev/null 2>"$D/rows.err" || it_fail "rows into the version-3 tables: $(cat "$D/rows.err")"

# --- signetd migrates it ---
it_start
v=$(pg_psql "SELECT max(version) FROM schema_version")
((v > 3)) || it_fail "signetd started on version 3 left schema_version at $v"
[[ $(pg_psql "SELECT count(*) FROM schema_version") == 1 ]] ||
	it_fail "schema_version holds $(pg_psql "SELECT count(*) FROM schema_version") rows after the migration, want 1"

# the same schema as signetd makes from nothing, in a database of its own
pg_createdb signet_fresh
write_signetd_config "$D/fresh.conf" "$D/state-fresh" "$IT_LABEL" "ipc://$D/fresh.sock" 2 debug
printf 'records: {\n  database = "%s";\n  database_password_file = "%s";\n};\n' \
	"$(pg_uri signet_fresh)" "$PG_PASSWORD_FILE" >>"$D/fresh.conf"
"$SIGNETD" --config "$D/fresh.conf" >"$D/fresh.log" 2>&1 &
FRESH_PID=$!
for _ in $(seq 1 100); do
	"$SIGNET" --endpoint "ipc://$D/fresh.sock" --timeout 1000 health >/dev/null 2>&1 && break
	kill -0 "$FRESH_PID" 2>/dev/null || it_fail "signetd on an empty database exited: $(tail -5 "$D/fresh.log")"
	sleep 0.1
done
kill -TERM "$FRESH_PID"
wait "$FRESH_PID" || it_fail "signetd on the empty database exited with $? after SIGTERM"
FRESH_PID=""
fresh_v=$(PG_DB=signet_fresh pg_psql "SELECT max(version) FROM schema_version")
((v == fresh_v)) || it_fail "migrated to version $v; a fresh database is at $fresh_v"
# schema_dump DB: its schema, without what differs between two dumps of equal
# schemas (comments, SET lines, blank lines, 15.14's random \restrict keys)
schema_dump() {
	PGPASSFILE=$PG_DIR/pgpass "$PG_BIN/pg_dump" --schema-only -w -h "$PG_SOCKDIR" -p "$PG_PORT" \
		-U signet -d "$1" >"$D/$1.raw.sql" 2>"$D/dump.err" || it_fail "pg_dump $1: $(cat "$D/dump.err")"
	grep -v -E '^(--|SET |SELECT pg_catalog\.set_config|\\(un)?restrict |$)' "$D/$1.raw.sql" >"$D/$1.sql"
}
schema_dump signet
schema_dump signet_fresh
grep -q 'CREATE TABLE public.issued' "$D/signet.sql" || it_fail "the dump of the migrated database has no issued table"
diff -u "$D/signet_fresh.sql" "$D/signet.sql" >"$D/schema.diff" ||
	it_fail "the migrated schema differs from a fresh one (- fresh, + migrated): $(head -40 "$D/schema.diff")"
echo "migrated from 3 to $v: the schema is a fresh one's ($(grep -c '^CREATE' "$D/signet.sql") CREATE statements)"

# the rows survived
[[ $(it_sql "SELECT subject FROM issued WHERE serial = '$old_serial'") == /CN=old-device ]] ||
	it_fail "the old issued row did not survive the migration: $(it_sql "SELECT count(*) FROM issued")"
[[ $(it_sql "SELECT encode(request_id, 'hex') FROM issued WHERE serial = '$old_serial'") == "$old_rid" ]] ||
	it_fail "the old row's request id changed in the migration"
[[ $(it_sql "SELECT number FROM crl_numbers WHERE issuer_key = 'ca.old-ca'") == 41 ]] ||
	it_fail "crl_numbers lost the old row (or its number)"
[[ $(it_sql "SELECT count(*) FROM ca_events WHERE ca = 'old-ca'") == 1 ]] || it_fail "ca_events lost the old row"
[[ $(it_sql "SELECT audit_offset FROM audit_reconciled WHERE trail = '/old-host/audit.log'") == 4096 ]] ||
	it_fail "audit_reconciled lost the old row"
expect_rc 0 "$SIGNET" ledger get "$old_serial" --out "$D/old-got.pem"
cmp -s <(openssl x509 -in "$D/old-got.pem" -outform DER) <(openssl x509 -in "$D/old.pem" -outform DER) ||
	it_fail "signetd returns another certificate for the old row"

# and signetd issues on the migrated database
expect_rc 0 "$SIGNET" ca create-root root --alg p256 --subject "/CN=Migrated Root"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/dev.key" 2>/dev/null
openssl req -new -key "$D/dev.key" -subj /CN=after-migration -out "$D/dev.csr"
expect_rc 0 "$SIGNET" issue --ca root --profile device --csr "$D/dev.csr" --out "$D/dev.pem"
serial=$(openssl x509 -in "$D/dev.pem" -noout -serial | cut -d= -f2)
[[ $(it_sql "SELECT count(*) FROM issued WHERE serial = '$serial'") == 1 ]] ||
	it_fail "the certificate issued after the migration is not in issued"
it_stop

# --- a newer schema than this signetd knows ---
pg_psql "UPDATE schema_version SET version = 99" >/dev/null
rc=0
timeout 60 "$SIGNETD" --config "$D/signetd.conf" >"$D/newer.log" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || it_fail "signetd on a database at schema version 99: exit $rc, want a refusal at start-up"
grep -q "version 99" "$D/newer.log" && grep -q "newer" "$D/newer.log" ||
	it_fail "the refusal of version 99 should say 'version 99' and 'newer': $(tail -3 "$D/newer.log")"
[[ $(pg_psql "SELECT version FROM schema_version") == 99 ]] || it_fail "signetd changed a schema version it does not know"
echo "version 99 refused: $(grep -m1 'version 99' "$D/newer.log")"
echo "pg_migrate: OK"
