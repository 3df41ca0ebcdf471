/*
 * The ledger's database file: created private, opened in WAL mode with
 * synchronous=FULL, its schema migrated, the statements of both connections
 * prepared; closed again; and why its directory refuses writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "records/ledger_internal.h"

#define LEDGER_FILE	"ledger.db"
#define BUSY_TIMEOUT_MS 10000

/*
 * Schema migrations: entry i takes user_version i to i + 1, in one
 * transaction. Append new entries; never edit a released one.
 * Rows of `issued` are never deleted, so rowids grow in issue order and serve
 * as the paging cursor without AUTOINCREMENT's extra write per insert.
 */
static const char *const migrations[] = {
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
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The writer connection's statements, prepared once. */
const char *const ledger_wsql[W_COUNT] = {
	[W_BEGIN] = "BEGIN IMMEDIATE",
	[W_COMMIT] = "COMMIT",
	[W_ROLLBACK] = "ROLLBACK",
	[W_SAVEPOINT] = "SAVEPOINT op",
	[W_RELEASE] = "RELEASE op",
	[W_ROLLBACK_TO] = "ROLLBACK TO op",
	[W_INSERT] = "INSERT INTO issued (ca, issuer_key, serial, subject, sans, profile, "
		     "spki_sha256, not_before, not_after, caller, request_id, issued_at, der, "
		     "trail) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[W_REQUEST_SERIAL] = "SELECT serial FROM issued WHERE caller = ?1 AND request_id = ?2",
	[W_BY_CA_SERIAL] = "SELECT " ENTRY_COLUMNS " FROM issued WHERE ca = ?1 AND serial = ?2",
	[W_CA_OF_SERIAL] = "SELECT ca FROM issued WHERE serial = ?1 ORDER BY id LIMIT 1",
	[W_REVOKE] = "UPDATE issued SET revoked_at = ?1, reason = ?2, invalidity_date = ?3 "
		     "WHERE id = ?4",
	[W_CRL_BUMP] = "INSERT INTO crl_numbers (issuer_key, number) VALUES (?1, 1) "
		       "ON CONFLICT (issuer_key) DO UPDATE SET number = number + 1",
	[W_CRL_GET] = "SELECT number FROM crl_numbers WHERE issuer_key = ?1",
	[W_CA_EVENT] = "INSERT INTO ca_events (ca, event, key_label, serial, der, at) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

/* The reader connection's statements on the hot path. */
const char *const ledger_rsql[R_COUNT] = {
	[R_FIND_REQUEST] =
		"SELECT " ENTRY_COLUMNS " FROM issued WHERE caller = ?1 AND request_id = ?2",
	/* serials are unique per CA only: the newest wins, like a fingerprint */
	[R_BY_SERIAL] =
		"SELECT " ENTRY_COLUMNS " FROM issued WHERE serial = ?1 ORDER BY id DESC LIMIT 1",
	[R_BY_SPKI] = "SELECT " ENTRY_COLUMNS
		      " FROM issued WHERE spki_sha256 = ?1 ORDER BY id DESC LIMIT 1",
	[R_REVOKED] = "SELECT serial, revoked_at, reason, invalidity_date FROM issued "
		      "WHERE issuer_key = ?1 AND revoked_at IS NOT NULL AND not_after >= ?2 "
		      "ORDER BY id",
};

static int exec_sql(sqlite3 *db, const char *sql, struct errmsg *em)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(em, db, sql);
	return 0;
}

/*
 * Why the state directory refuses writes, when it says so itself: SQLite
 * reports only "disk I/O error", and errno is gone by then. A filesystem
 * that went read-only after an error need not say so in its mount flags
 * (ext4's emergency read-only), so ask it for an unnamed file.
 */
void ledger_storage_state(const struct ledger *l, char *buf, size_t len)
{
	char dir[PATH_MAX], *slash;
	struct statvfs vfs;
	int fd;

	buf[0] = '\0';
	snprintf(dir, sizeof(dir), "%s", l->path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (statvfs(dir, &vfs) == 0 && vfs.f_bavail == 0) {
		snprintf(buf, len, "; the state directory's filesystem is full");
		return;
	}
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	else if (errno != EOPNOTSUPP && errno != EISDIR)
		snprintf(buf, len, "; the state directory refuses writes: %s", strerror(errno));
}

/* Create the file 0600 ourselves: SQLite would create it with the umask. A
 * file that exists with wider permissions is narrowed. Closed before SQLite
 * opens it, as closing any descriptor drops the process's POSIX locks. */
static int create_file(const char *path, struct errmsg *em)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600), r = 0;

	if (fd < 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: cannot open %s: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: %s is not a regular file", path);
	else if ((st.st_mode & 0077) != 0 && fchmod(fd, 0600) != 0)
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: cannot make %s private: %s", path,
			       strerror(errno));
	close(fd);
	return r;
}

static int open_db(const char *path, int flags, sqlite3 **db, struct errmsg *em)
{
	/* NOMUTEX: each connection is used by one thread at a time (the writer,
	 * or readers under rlock), so SQLite's per-connection mutex is redundant */
	int rc =
		sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);

	int r;

	if (rc != SQLITE_OK) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: cannot open %s: %s", path,
			       *db != NULL ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return r;
	}
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
	return 0;
}

static int prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **st, size_t n,
		       struct errmsg *em)
{
	for (size_t i = 0; i < n; i++)
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) !=
		    SQLITE_OK)
			return db_error(em, db, "preparing a statement");
	return 0;
}

static void finalize_all(sqlite3_stmt **st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(st[i]);
		st[i] = NULL;
	}
}

static int int_pragma(sqlite3 *db, const char *sql, int *out, struct errmsg *em)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		r = db_error(em, db, sql);
	else
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r;
}

/* WAL lets reads run beside the writer; it is a property of the file. */
static int set_wal(sqlite3 *db, struct errmsg *em)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int r = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		r = db_error(em, db, "PRAGMA journal_mode=WAL");
	else if ((mode = sqlite3_column_text(st, 0)) == NULL ||
		 strcmp((const char *)mode, "wal") != 0)
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE,
			       "ledger: the database cannot use a write-ahead log (journal mode "
			       "%s)",
			       mode != NULL ? (const char *)mode : "unknown");
	sqlite3_finalize(st);
	return r;
}

/* One migration step in its own transaction; *current set once up to date. */
static int migrate_step(sqlite3 *db, const char *path, int *current, struct errmsg *em)
{
	char sql[64];
	int version = 0, r;

	/* IMMEDIATE: two processes opening at once must not both migrate */
	if ((r = exec_sql(db, "BEGIN IMMEDIATE", em)) != 0)
		return r;
	if ((r = int_pragma(db, "PRAGMA user_version", &version, em)) != 0)
		goto out;
	if (version < 0 || version > SCHEMA_VERSION) {
		r = errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			       "ledger: %s has schema version %d, and this signetd knows versions "
			       "up to %d only (was it written by a newer signetd?)",
			       path, version, SCHEMA_VERSION);
		goto out;
	}
	if (version < SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((r = exec_sql(db, migrations[version], em)) != 0 ||
		    (r = exec_sql(db, sql, em)) != 0)
			goto out;
	}
	if ((r = exec_sql(db, "COMMIT", em)) != 0)
		goto out;
	*current = version == SCHEMA_VERSION;
	return 0;
out:
	exec_sql(db, "ROLLBACK", NULL);
	return r;
}

static int migrate(sqlite3 *db, const char *path, struct errmsg *em)
{
	int current = 0, r = 0;

	while (r == 0 && !current)
		r = migrate_step(db, path, &current, em);
	return r;
}

static int writer_open(struct ledger *l, struct errmsg *em)
{
	int r;

	if ((r = open_db(l->path, SQLITE_OPEN_READWRITE, &l->wdb, em)) != 0 ||
	    (r = set_wal(l->wdb, em)) != 0 ||
	    (r = exec_sql(l->wdb, "PRAGMA synchronous=FULL", em)) != 0 ||
	    (r = exec_sql(l->wdb, "PRAGMA foreign_keys=ON", em)) != 0 ||
	    (r = migrate(l->wdb, l->path, em)) != 0)
		return r;
	return prepare_all(l->wdb, ledger_wsql, l->w, W_COUNT, em);
}

/* After the migration, so that the reader sees the current schema. */
static int reader_open(struct ledger *l, struct errmsg *em)
{
	int r;

	if ((r = open_db(l->path, SQLITE_OPEN_READONLY, &l->rdb, em)) != 0)
		return r;
	return prepare_all(l->rdb, ledger_rsql, l->r, R_COUNT, em);
}

static struct ledger *ledger_new(const char *state_dir, struct errmsg *em)
{
	struct ledger *l;

	if (state_dir == NULL || strlen(state_dir) + sizeof("/" LEDGER_FILE) > PATH_MAX) {
		errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: bad state directory");
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		nomem(em);
		return NULL;
	}
	snprintf(l->path, sizeof(l->path), "%s/%s", state_dir, LEDGER_FILE);
	/* with default attributes these cannot fail on Linux */
	pthread_mutex_init(&l->rlock, NULL);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->done, NULL);
	l->tail = &l->head;
	return l;
}

int ledger_open(const char *state_dir, struct ledger **out, char *err, size_t errlen)
{
	struct errmsg em = {0};
	struct ledger *l;
	int r;

	*out = NULL;
	if ((l = ledger_new(state_dir, &em)) == NULL) {
		r = em.err;
		goto out;
	}
	if ((r = create_file(l->path, &em)) != 0 || (r = writer_open(l, &em)) != 0 ||
	    (r = reader_open(l, &em)) != 0 || (r = ledger_writer_start(l, &em)) != 0)
		goto out;
	*out = l;
	l = NULL; /* transferred */
out:
	if (r != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", em.text);
	ledger_close(l);
	return r;
}
void ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	ledger_writer_stop(l);
	/* the reader first: the last connection to close checkpoints the WAL,
	 * and only the writer can */
	finalize_all(l->r, R_COUNT);
	sqlite3_close(l->rdb);
	finalize_all(l->w, W_COUNT);
	sqlite3_close(l->wdb);
	pthread_cond_destroy(&l->done);
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->rlock);
	free(l->trail);
	free(l);
}

int ledger_set_trail(struct ledger *l, const char *trail, struct errmsg *em)
{
	char *copy;

	if (!text_ok(trail) || *trail == '\0')
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: an audit trail's name must have 1 to %d characters",
				  LEDGER_TEXT_MAX);
	if ((copy = strdup(trail)) == NULL)
		return nomem(em);
	free(l->trail);
	l->trail = copy;
	return 0;
}

/* A connection of its own: a long check must not hold up the reads. */
int ledger_integrity_check(struct ledger *l, struct errmsg *em)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const char *first;
	int r;

	if ((r = open_db(l->path, SQLITE_OPEN_READONLY, &db, em)) != 0)
		return r;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		r = db_error(em, db, "PRAGMA integrity_check");
		goto out;
	}
	first = (const char *)sqlite3_column_text(st, 0);
	if (first == NULL || strcmp(first, "ok") != 0)
		r = errmsg_set(em, SIGNET_E_DATA_LOSS, "ledger: %s fails its integrity check: %s",
			       l->path, first != NULL ? first : "no answer");
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}
