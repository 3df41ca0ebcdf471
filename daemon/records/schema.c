/*
 * The ledger's schema on each backend, its migrations, and the SQL of the
 * statements each connection prepares. The statements are written once, in
 * the SQL both backends understand (records/sql.h); only a few words differ
 * and are chosen here.
 *
 * SQLite keeps its version in PRAGMA user_version, PostgreSQL in the table
 * schema_version. Entry i of a backend's list takes version i to i + 1, in
 * one transaction. Append new entries; never edit a released one. PostgreSQL
 * has versions 1 to 3 as SQLite has them, and then the shared CA store
 * (ca_records), which only several hosts need.
 */
#include <stdio.h>
#include <string.h>

#include "records/ledger_internal.h"

/* --- SQLite --- */

/* Rows of `issued` are never deleted, so rowids grow in issue order and
 * serve as the paging cursor without AUTOINCREMENT's extra write. */
static const char *const sqlite_migrations[] = {
	/* v1 */
	"CREATE TABLE issued ("
	" id INTEGER PRIMARY KEY,"
	" ca TEXT NOT NULL,"
	" issuer_key TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" sans TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" spki_sha256 BLOB NOT NULL CHECK (length(spki_sha256) = 32),"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" caller TEXT NOT NULL,"
	" request_id BLOB CHECK (request_id IS NULL OR length(request_id) = 16),"
	" issued_at INTEGER NOT NULL,"
	" der BLOB NOT NULL,"
	" revoked_at INTEGER,"
	" reason INTEGER,"
	" invalidity_date INTEGER,"
	" UNIQUE (ca, serial));"
	"CREATE UNIQUE INDEX issued_request ON issued (caller, request_id)"
	" WHERE request_id IS NOT NULL;"
	"CREATE INDEX issued_serial ON issued (serial);"
	"CREATE INDEX issued_spki ON issued (spki_sha256);"
	"CREATE INDEX issued_ca ON issued (ca, id);"
	/* small: only revoked rows, what a CRL needs */
	"CREATE INDEX issued_revoked ON issued (issuer_key, not_after)"
	" WHERE revoked_at IS NOT NULL;"
	"CREATE TABLE crl_numbers ("
	" issuer_key TEXT PRIMARY KEY,"
	" number INTEGER NOT NULL);"
	"CREATE TABLE ca_events ("
	" id INTEGER PRIMARY KEY,"
	" ca TEXT NOT NULL,"
	" event TEXT NOT NULL CHECK (event IN ('create', 'renew', 'rekey', 'import')),"
	" key_label TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" der BLOB NOT NULL,"
	" at INTEGER NOT NULL);"
	"CREATE INDEX ca_events_ca ON ca_events (ca, id);",
	/* v2: proof-of-possession challenges shared by the signetd on one state
	 * directory (challenge_db.c), keyed by the SHA-256 of the id, a bearer
	 * token that is never itself compared; the row count kept by triggers,
	 * so the table's bound costs no scan */
	"CREATE TABLE challenges ("
	" id_key BLOB PRIMARY KEY CHECK (length(id_key) = 32),"
	" caller TEXT NOT NULL,"
	" device_id TEXT NOT NULL,"
	" spki_sha256 BLOB CHECK (spki_sha256 IS NULL OR length(spki_sha256) = 32),"
	" nonce BLOB,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX challenges_caller ON challenges (caller, used, expires);"
	"CREATE INDEX challenges_expires ON challenges (expires);"
	"CREATE TABLE challenge_count (n INTEGER NOT NULL);"
	"INSERT INTO challenge_count VALUES (0);"
	"CREATE TRIGGER challenges_added AFTER INSERT ON challenges"
	" BEGIN UPDATE challenge_count SET n = n + 1; END;"
	"CREATE TRIGGER challenges_removed AFTER DELETE ON challenges"
	" BEGIN UPDATE challenge_count SET n = n - 1; END;",
	/* v3: the audit trail each certificate's act belongs to (the signetd's
	 * audit log; NULL for rows from before), so that each signetd on a shared
	 * state directory reconciles its own rows with its own trail at start-up,
	 * and how far each trail has been reconciled (records/reconcile.c) */
	"ALTER TABLE issued ADD COLUMN trail TEXT;"
	"CREATE INDEX issued_trail ON issued (trail, id) WHERE trail IS NOT NULL;"
	"CREATE TABLE audit_reconciled ("
	" trail TEXT PRIMARY KEY,"
	" ledger_id INTEGER NOT NULL,"
	" audit_offset INTEGER NOT NULL,"
	" audit_hash TEXT NOT NULL) WITHOUT ROWID;",
};

/* --- PostgreSQL --- */

/* Ids come from sequences: they grow in insert order, which is the commit
 * order of one writer (what the reconcile of its own trail relies on) but
 * not across hosts, whose transactions may commit out of id order. */
static const char *const pg_migrations[] = {
	/* v1 */
	"CREATE TABLE issued ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" ca TEXT NOT NULL,"
	" issuer_key TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" sans TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" spki_sha256 BYTEA NOT NULL CHECK (length(spki_sha256) = 32),"
	" not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" caller TEXT NOT NULL,"
	" request_id BYTEA CHECK (request_id IS NULL OR length(request_id) = 16),"
	" issued_at BIGINT NOT NULL,"
	" der BYTEA NOT NULL,"
	" revoked_at BIGINT,"
	" reason INTEGER,"
	" invalidity_date BIGINT,"
	" UNIQUE (ca, serial));"
	"CREATE UNIQUE INDEX issued_request ON issued (caller, request_id)"
	" WHERE request_id IS NOT NULL;"
	"CREATE INDEX issued_serial ON issued (serial);"
	"CREATE INDEX issued_spki ON issued (spki_sha256);"
	"CREATE INDEX issued_ca ON issued (ca, id);"
	"CREATE INDEX issued_revoked ON issued (issuer_key, not_after)"
	" WHERE revoked_at IS NOT NULL;"
	"CREATE TABLE crl_numbers ("
	" issuer_key TEXT PRIMARY KEY,"
	" number BIGINT NOT NULL);"
	"CREATE TABLE ca_events ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" ca TEXT NOT NULL,"
	" event TEXT NOT NULL CHECK (event IN ('create', 'renew', 'rekey', 'import')),"
	" key_label TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" der BYTEA NOT NULL,"
	" at BIGINT NOT NULL);"
	"CREATE INDEX ca_events_ca ON ca_events (ca, id);",
	/* v2: challenges shared by every signetd on the database; the count
	 * row serialises inserts across hosts, which keeps the bound exact */
	"CREATE TABLE challenges ("
	" id_key BYTEA PRIMARY KEY CHECK (length(id_key) = 32),"
	" caller TEXT NOT NULL,"
	" device_id TEXT NOT NULL,"
	" spki_sha256 BYTEA CHECK (spki_sha256 IS NULL OR length(spki_sha256) = 32),"
	" nonce BYTEA,"
	" created BIGINT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX challenges_caller ON challenges (caller, used, expires);"
	"CREATE INDEX challenges_expires ON challenges (expires);"
	"CREATE TABLE challenge_count (n BIGINT NOT NULL);"
	"INSERT INTO challenge_count VALUES (0);"
	"CREATE FUNCTION challenge_count_track() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN"
	"  IF TG_OP = 'INSERT' THEN UPDATE challenge_count SET n = n + 1;"
	"  ELSE UPDATE challenge_count SET n = n - 1; END IF;"
	"  RETURN NULL;"
	" END $$;"
	"CREATE TRIGGER challenges_counted AFTER INSERT OR DELETE ON challenges"
	" FOR EACH ROW EXECUTE FUNCTION challenge_count_track();",
	/* v3: audit trails and how far each was reconciled */
	"ALTER TABLE issued ADD COLUMN trail TEXT;"
	"CREATE INDEX issued_trail ON issued (trail, id) WHERE trail IS NOT NULL;"
	"CREATE TABLE audit_reconciled ("
	" trail TEXT PRIMARY KEY,"
	" ledger_id BIGINT NOT NULL,"
	" audit_offset BIGINT NOT NULL,"
	" audit_hash TEXT NOT NULL);",
	/* v4: the CA store of every host (ca/castore_sync.c): each CA record
	 * file as written, in order; `replaces` is the serial of the generation
	 * it replaces ('' for a new CA), unique per CA, so that two hosts cannot
	 * both create one name or both replace one generation */
	"CREATE TABLE ca_records ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" replaces TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" record BYTEA NOT NULL,"
	" at BIGINT NOT NULL,"
	" UNIQUE (name, replaces));"
	/* and the last CRL the publishing host signed for each key, which the
	 * other hosts copy into their publish directories (crlpub.c) */
	"CREATE TABLE published_crls ("
	" issuer_key TEXT PRIMARY KEY,"
	" number BIGINT NOT NULL,"
	" der BYTEA NOT NULL,"
	" at BIGINT NOT NULL);",
};

#define N_SQLITE ((int)(sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0])))
#define N_PG	 ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

/* Any 64-bit number no other user of the database would pick: "signet" in ASCII. */
#define MIGRATION_LOCK "1936287589803636"

static int int_query(struct sql_db *db, const char *sql, int *out, struct errmsg *em)
{
	struct sql_stmt *st = NULL;
	int r;

	if ((r = sql_prepare(db, sql, &st, em)) != 0)
		return r;
	r = sql_step(st, "reading the schema version", em);
	if (r == SQL_ROW) {
		*out = (int)sql_col_int64(st, 0);
		r = 0;
	} else if (r >= 0) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: no schema version");
	}
	sql_finalize(st);
	return r;
}

static int too_new(const struct ledger *l, int version, int known, struct errmsg *em)
{
	return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			  "ledger: %s has schema version %d, and this signetd knows versions up "
			  "to %d only (was it written by a newer signetd? upgrade this one)",
			  l->backend == SQL_SQLITE ? l->path : "the PostgreSQL database", version,
			  known);
}

/* One SQLite step in its own transaction; *current set once up to date.
 * IMMEDIATE: two processes opening at once must not both migrate. */
static int sqlite_step(struct ledger *l, struct sql_db *db, int *current, struct errmsg *em)
{
	char sql[64];
	int version = 0, r;

	if ((r = sql_exec(db, "BEGIN IMMEDIATE", em)) != 0)
		return r;
	if ((r = int_query(db, "PRAGMA user_version", &version, em)) != 0)
		goto out;
	if (version < 0 || version > N_SQLITE) {
		r = too_new(l, version, N_SQLITE, em);
		goto out;
	}
	if (version < N_SQLITE) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((r = sql_exec(db, sqlite_migrations[version], em)) != 0 ||
		    (r = sql_exec(db, sql, em)) != 0)
			goto out;
	}
	if ((r = sql_exec(db, "COMMIT", em)) != 0)
		goto out;
	*current = version == N_SQLITE;
	return 0;
out:
	sql_exec(db, "ROLLBACK", NULL);
	return r;
}

/* PostgreSQL: every step in one transaction (its DDL is transactional),
 * under an advisory lock, so that hosts starting together migrate once. */
static int pg_migrate(struct ledger *l, struct sql_db *db, struct errmsg *em)
{
	char sql[96];
	int version = 0, r;

	if ((r = sql_exec(db,
			  "BEGIN;"
			  "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
			  "SET LOCAL client_min_messages = warning;"
			  "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
			  "INSERT INTO schema_version SELECT 0"
			  " WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
			  em)) != 0)
		goto out;
	if ((r = int_query(db, "SELECT max(version) FROM schema_version", &version, em)) != 0)
		goto out;
	if (version < 0 || version > N_PG) {
		r = too_new(l, version, N_PG, em);
		goto out;
	}
	for (int v = version; v < N_PG; v++)
		if ((r = sql_exec(db, pg_migrations[v], em)) != 0)
			goto out;
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", N_PG);
	if ((r = sql_exec(db, sql, em)) != 0 || (r = sql_exec(db, "COMMIT", em)) != 0)
		goto out;
	return 0;
out:
	sql_exec(db, "ROLLBACK", NULL);
	return r;
}

int ledger_migrate(struct ledger *l, struct sql_db *db, struct errmsg *em)
{
	int current = 0, r = 0;

	if (l->backend == SQL_POSTGRES)
		return pg_migrate(l, db, em);
	while (r == 0 && !current)
		r = sqlite_step(l, db, &current, em);
	return r;
}

/* --- statements --- */

/* The writer connection's statements, prepared once. W_BEGIN is per backend. */
static const char *const wsql[W_COUNT] = {
	[W_COMMIT] = "COMMIT",
	[W_ROLLBACK] = "ROLLBACK",
	[W_SAVEPOINT] = "SAVEPOINT op",
	[W_RELEASE] = "RELEASE op",
	[W_ROLLBACK_TO] = "ROLLBACK TO op",
	[W_REQUEST_SERIAL] = "SELECT serial FROM issued WHERE caller = $1 AND request_id = $2",
	[W_BY_CA_SERIAL] = "SELECT " ENTRY_COLUMNS " FROM issued WHERE ca = $1 AND serial = $2",
	[W_CA_OF_SERIAL] = "SELECT ca FROM issued WHERE serial = $1 ORDER BY id LIMIT 1",
	/* revoked_at IS NULL: another host may have revoked it since it was read */
	[W_REVOKE] = "UPDATE issued SET revoked_at = $1, reason = $2, invalidity_date = $3 "
		     "WHERE id = $4 AND revoked_at IS NULL",
	/* one statement: the row is locked from the bump to the read, so no two
	 * hosts ever take one number */
	[W_CRL_BUMP] = "INSERT INTO crl_numbers (issuer_key, number) VALUES ($1, 1) "
		       "ON CONFLICT (issuer_key) DO UPDATE SET number = crl_numbers.number + 1 "
		       "RETURNING number",
	[W_CA_EVENT] = "INSERT INTO ca_events (ca, event, key_label, serial, der, at) "
		       "VALUES ($1, $2, $3, $4, $5, $6)",
};

/* The reader connection's statements on the hot path. */
static const char *const rsql[R_COUNT] = {
	[R_FIND_REQUEST] =
		"SELECT " ENTRY_COLUMNS " FROM issued WHERE caller = $1 AND request_id = $2",
	/* serials are unique per CA only: the newest wins, like a fingerprint */
	[R_BY_SERIAL] =
		"SELECT " ENTRY_COLUMNS " FROM issued WHERE serial = $1 ORDER BY id DESC LIMIT 1",
	[R_BY_SPKI] = "SELECT " ENTRY_COLUMNS
		      " FROM issued WHERE spki_sha256 = $1 ORDER BY id DESC LIMIT 1",
	[R_REVOKED] = "SELECT serial, revoked_at, reason, invalidity_date FROM issued "
		      "WHERE issuer_key = $1 AND revoked_at IS NOT NULL AND not_after >= $2 "
		      "ORDER BY id",
};

const char *ledger_wsql(enum sql_backend b, enum wstmt i)
{
	if (i == W_BEGIN)
		return b == SQL_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
	return wsql[i];
}

const char *ledger_rsql(enum sql_backend b, enum rstmt i)
{
	(void)b;
	return rsql[i];
}

const char *ledger_subject_match(enum sql_backend b)
{
	return b == SQL_SQLITE ? "instr(lower(subject), lower($?)) > 0"
			       : "strpos(lower(subject), lower($?)) > 0";
}
