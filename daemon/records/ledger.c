#include "records/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "hex.h"
#include "reason.h"

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
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Column order read by entry_from_row. */
#define ENTRY_COLUMNS                                                                              \
	"id, ca, issuer_key, serial, subject, sans, profile, spki_sha256, not_before, not_after, " \
	"caller, request_id, issued_at, der, revoked_at, reason, invalidity_date"

/* The writer connection's statements, prepared once. */
enum wstmt {
	W_BEGIN,
	W_COMMIT,
	W_ROLLBACK,
	W_SAVEPOINT,
	W_RELEASE,
	W_ROLLBACK_TO,
	W_INSERT,
	W_REQUEST_SERIAL,
	W_BY_CA_SERIAL,
	W_CA_OF_SERIAL,
	W_REVOKE,
	W_CRL_BUMP,
	W_CRL_GET,
	W_CA_EVENT,
	W_COUNT
};

static const char *const wsql[W_COUNT] = {
	[W_BEGIN] = "BEGIN IMMEDIATE",
	[W_COMMIT] = "COMMIT",
	[W_ROLLBACK] = "ROLLBACK",
	[W_SAVEPOINT] = "SAVEPOINT op",
	[W_RELEASE] = "RELEASE op",
	[W_ROLLBACK_TO] = "ROLLBACK TO op",
	[W_INSERT] = "INSERT INTO issued (ca, issuer_key, serial, subject, sans, profile, "
		     "spki_sha256, not_before, not_after, caller, request_id, issued_at, der) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
enum rstmt { R_FIND_REQUEST, R_BY_SERIAL, R_BY_SPKI, R_REVOKED, R_COUNT };

static const char *const rsql[R_COUNT] = {
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

/* A queued write; it lives on its caller's stack until `done`. */
struct op {
	int (*apply)(struct ledger *l, void *arg, struct errmsg *em);
	void *arg;
	struct errmsg *em;
	int rc;
	int done;
	struct op *next;
};

struct ledger {
	char path[PATH_MAX];
	/* the writer thread's alone while it runs */
	sqlite3 *wdb;
	sqlite3_stmt *w[W_COUNT];
	/* reads: WAL lets them run beside the writer */
	pthread_mutex_t rlock;
	sqlite3 *rdb;
	sqlite3_stmt *r[R_COUNT];
	/* lock guards the queue, the done flags, stopping and stats */
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t done;
	struct op *head, **tail;
	int stopping;
	int started;
	pthread_t writer;
	struct ledger_stats stats;
};

static int nomem(struct errmsg *em)
{
	return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "ledger: out of memory");
}

/* Every SQLite failure is reported as the ledger being unavailable: the
 * caller cannot fix it, and a retry later may succeed. */
static int db_error(struct errmsg *em, sqlite3 *db, const char *what)
{
	return errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: %s: %s", what, sqlite3_errmsg(db));
}

static void stmt_done(sqlite3_stmt *st)
{
	/* an unreset read statement would pin its WAL snapshot */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a statement that returns no row of interest. */
static int stmt_run(sqlite3_stmt *st, const char *what, struct errmsg *em)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = db_error(em, sqlite3_db_handle(st), what);
	stmt_done(st);
	return r;
}

static int exec_sql(sqlite3 *db, const char *sql, struct errmsg *em)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(em, db, sql);
	return 0;
}

static void format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

int ledger_serial_normalise(const char *in, char out[LEDGER_SERIAL_MAX])
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	size_t len;
	int r = -1;

	if (in == NULL)
		return -1;
	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
		in += 2;
	len = strlen(in);
	if (len == 0 || hex_span(in, len, HEX_EITHER) != len)
		return -1;
	/* leading zeros do not count towards the 20 octets */
	in += strspn(in, "0");
	if (strlen(in) > LEDGER_SERIAL_MAX - 1)
		return -1;
	if (*in == '\0') {
		/* BN_bn2hex writes zero as "0"; keep the form even */
		snprintf(out, LEDGER_SERIAL_MAX, "00");
		return 0;
	}
	if (BN_hex2bn(&bn, in) == 0 || (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	if (strlen(hex) < LEDGER_SERIAL_MAX) {
		snprintf(out, LEDGER_SERIAL_MAX, "%s", hex);
		r = 0;
	}
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* --- rows --- */

static int text_col(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	*out = s != NULL ? strdup((const char *)s) : NULL;
	return *out != NULL ? 0 : -1;
}

/* A NOT NULL text column; "" only if SQLite ran out of memory. */
static const char *str_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

static int64_t int_col(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

/* Copy a blob column of exactly `len` bytes; 0 if it has another length. */
static int fixed_blob_col(sqlite3_stmt *st, int i, uint8_t *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, i);

	if (p == NULL || (size_t)sqlite3_column_bytes(st, i) != len)
		return 0;
	memcpy(out, p, len);
	return 1;
}

static int der_col(sqlite3_stmt *st, int i, struct ledger_entry *e)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);

	if (p == NULL || n <= 0 || (e->der = malloc((size_t)n)) == NULL)
		return -1;
	memcpy(e->der, p, (size_t)n);
	e->der_len = (size_t)n;
	return 0;
}

static int entry_from_row(sqlite3_stmt *st, struct ledger_entry *e, struct errmsg *em)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	snprintf(e->serial, sizeof(e->serial), "%s", str_col(st, 3));
	fixed_blob_col(st, 7, e->spki_sha256, sizeof(e->spki_sha256));
	e->not_before = int_col(st, 8);
	e->not_after = int_col(st, 9);
	e->has_request_id = fixed_blob_col(st, 11, e->request_id, sizeof(e->request_id));
	e->issued_at = int_col(st, 12);
	e->revoked_at = int_col(st, 14);
	e->reason = (enum ledger_reason)int_col(st, 15);
	e->invalidity_date = int_col(st, 16);
	if (text_col(st, 1, &e->ca) != 0 || text_col(st, 2, &e->issuer_key) != 0 ||
	    text_col(st, 4, &e->subject) != 0 || text_col(st, 5, &e->sans) != 0 ||
	    text_col(st, 6, &e->profile) != 0 || text_col(st, 10, &e->caller) != 0 ||
	    der_col(st, 13, e) != 0) {
		ledger_entry_release(e);
		return nomem(em);
	}
	return 0;
}

void ledger_entry_release(struct ledger_entry *e)
{
	if (e == NULL)
		return;
	free(e->ca);
	free(e->issuer_key);
	free(e->subject);
	free(e->sans);
	free(e->profile);
	free(e->caller);
	free(e->der);
	memset(e, 0, sizeof(*e));
}

void ledger_list_free(struct ledger_entry *entries, size_t n)
{
	if (entries == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		ledger_entry_release(&entries[i]);
	free(entries);
}

/* Step a statement expected to give at most one entry; NOT_FOUND with
 * `missing` when it gives none. Resets it. */
static int read_entry(sqlite3_stmt *st, struct ledger_entry *out, const char *missing,
		      struct errmsg *em)
{
	int rc = sqlite3_step(st), r;

	if (rc == SQLITE_ROW)
		r = entry_from_row(st, out, em);
	else if (rc == SQLITE_DONE)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "%s", missing);
	else
		r = db_error(em, sqlite3_db_handle(st), "reading a certificate");
	stmt_done(st);
	return r;
}

/* --- the writer --- */

/* One op inside the batch's transaction. The savepoint undoes a failed op's
 * partial writes and nothing else, so one bad op never costs the batch. */
static int apply_one(struct ledger *l, struct op *op)
{
	int r, r2;

	if ((r = stmt_run(l->w[W_SAVEPOINT], "savepoint", op->em)) != 0)
		return r;
	r = op->apply(l, op->arg, op->em);
	if (r != 0)
		stmt_run(l->w[W_ROLLBACK_TO], "rollback to savepoint", NULL);
	r2 = stmt_run(l->w[W_RELEASE], "release savepoint", r == 0 ? op->em : NULL);
	return r != 0 ? r : r2;
}

/*
 * Why the state directory refuses writes, when it says so itself: SQLite
 * reports only "disk I/O error", and errno is gone by then. A filesystem
 * that went read-only after an error need not say so in its mount flags
 * (ext4's emergency read-only), so ask it for an unnamed file.
 */
static void storage_state(const struct ledger *l, char *buf, size_t len)
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

static void fail_batch(const struct ledger *l, struct op *batch, const struct errmsg *why)
{
	char state[160];

	storage_state(l, state, sizeof(state));
	for (struct op *op = batch; op != NULL; op = op->next)
		op->rc = errmsg_set(op->em, SIGNET_E_UNAVAILABLE, "ledger: not committed: %s%s",
				    why->text, state);
}

/* Apply every op of the batch in one transaction: one fsync for all. */
static size_t run_batch(struct ledger *l, struct op *batch)
{
	struct errmsg tx = {0};
	struct op *op;
	size_t n = 0;
	int r;

	if ((r = stmt_run(l->w[W_BEGIN], "begin", &tx)) != 0)
		goto out;
	for (op = batch; op != NULL; op = op->next, n++) {
		op->rc = apply_one(l, op);
		/* an I/O error or a full disk makes SQLite roll back everything */
		if (sqlite3_get_autocommit(l->wdb)) {
			r = errmsg_set(&tx, SIGNET_E_UNAVAILABLE, "transaction rolled back (%s)",
				       sqlite3_errmsg(l->wdb));
			goto out;
		}
	}
	r = stmt_run(l->w[W_COMMIT], "commit", &tx);
out:
	if (r != 0) {
		if (!sqlite3_get_autocommit(l->wdb))
			stmt_run(l->w[W_ROLLBACK], "rollback", NULL);
		fail_batch(l, batch, &tx);
		return 0;
	}
	return n;
}

/* Wake the batch's callers; called with l->lock held, so no caller can
 * return (and free its op) before the loop is done with it. */
static void finish_batch(struct ledger *l, struct op *batch, size_t applied)
{
	for (struct op *op = batch; op != NULL; op = op->next)
		op->done = 1;
	if (applied > 0) {
		l->stats.commits++;
		l->stats.writes += applied;
		if (applied > l->stats.largest_batch)
			l->stats.largest_batch = applied;
	}
	pthread_cond_broadcast(&l->done);
}

static void *writer_main(void *arg)
{
	struct ledger *l = arg;
	struct op *batch;
	size_t applied;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (l->head == NULL && !l->stopping)
			pthread_cond_wait(&l->work, &l->lock);
		if (l->head == NULL)
			break; /* stopping, and the queue is drained */
		batch = l->head;
		l->head = NULL;
		l->tail = &l->head;
		pthread_mutex_unlock(&l->lock);
		applied = run_batch(l, batch);
		pthread_mutex_lock(&l->lock);
		finish_batch(l, batch, applied);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* Queue a write and wait until it is committed (or failed). */
static int submit(struct ledger *l, int (*apply)(struct ledger *, void *, struct errmsg *),
		  void *arg, struct errmsg *em)
{
	struct op op = {.apply = apply, .arg = arg, .em = em};

	pthread_mutex_lock(&l->lock);
	if (l->stopping) {
		pthread_mutex_unlock(&l->lock);
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: closing");
	}
	*l->tail = &op;
	l->tail = &op.next;
	pthread_cond_signal(&l->work);
	while (!op.done)
		pthread_cond_wait(&l->done, &l->lock);
	pthread_mutex_unlock(&l->lock);
	return op.rc;
}

struct foreign_write {
	int (*apply)(sqlite3 *db, void *arg, struct errmsg *em);
	void *arg;
};

static int apply_foreign(struct ledger *l, void *arg, struct errmsg *em)
{
	struct foreign_write *w = arg;

	return w->apply(l->wdb, w->arg, em);
}

int ledger_write(struct ledger *l, int (*apply)(sqlite3 *db, void *arg, struct errmsg *em),
		 void *arg, struct errmsg *em)
{
	struct foreign_write w = {.apply = apply, .arg = arg};

	return submit(l, apply_foreign, &w, em);
}

void ledger_stats(struct ledger *l, struct ledger_stats *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->stats;
	pthread_mutex_unlock(&l->lock);
}

/* --- record --- */

struct record_arg {
	const struct ledger_entry *e;
	char serial[LEDGER_SERIAL_MAX];
};

static int text_ok(const char *s)
{
	return s != NULL && strlen(s) <= LEDGER_TEXT_MAX;
}

static int record_valid(const struct ledger_entry *e, struct errmsg *em)
{
	if (!text_ok(e->ca) || !text_ok(e->issuer_key) || !text_ok(e->subject) ||
	    !text_ok(e->profile) || !text_ok(e->caller))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a record needs a CA, issuer key, subject, profile and "
				  "caller of at most %d characters",
				  LEDGER_TEXT_MAX);
	if (e->der == NULL || e->der_len == 0 || e->der_len > INT_MAX)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: a record needs its DER");
	return 0;
}

static int bind_record(sqlite3_stmt *st, const struct ledger_entry *e, const char *serial)
{
	int rc = SQLITE_OK;

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, e->ca, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, e->issuer_key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, e->subject, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 5, e->sans != NULL ? e->sans : "", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 6, e->profile, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 7, e->spki_sha256, sizeof(e->spki_sha256),
				       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, e->not_before);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, e->not_after);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 10, e->caller, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && e->has_request_id)
		rc = sqlite3_bind_blob(st, 11, e->request_id, sizeof(e->request_id), SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 12, e->issued_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 13, e->der, (int)e->der_len, SQLITE_STATIC);
	return rc;
}

/* The serial recorded for this caller's request id, if any. */
static int request_recorded(struct ledger *l, const struct ledger_entry *e,
			    char serial[LEDGER_SERIAL_MAX])
{
	sqlite3_stmt *st = l->w[W_REQUEST_SERIAL];
	int found = 0;

	if (e->has_request_id &&
	    sqlite3_bind_text(st, 1, e->caller, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_blob(st, 2, e->request_id, sizeof(e->request_id), SQLITE_STATIC) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(serial, LEDGER_SERIAL_MAX, "%s", str_col(st, 0));
		found = 1;
	}
	stmt_done(st);
	return found;
}

/* A unique constraint failed: say which, as a retry and a serial clash mean
 * different things to the caller. */
static int record_conflict(struct ledger *l, const struct record_arg *a, struct errmsg *em)
{
	char first[LEDGER_SERIAL_MAX];

	if (request_recorded(l, a->e, first))
		return errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
				  "ledger: caller '%s' already has this request id recorded "
				  "(certificate %s)",
				  a->e->caller, first);
	return errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
			  "ledger: CA '%s' already has a certificate with serial %s", a->e->ca,
			  a->serial);
}

static int apply_record(struct ledger *l, void *arg, struct errmsg *em)
{
	struct record_arg *a = arg;
	sqlite3_stmt *st = l->w[W_INSERT];
	int rc, r = 0;

	if ((rc = bind_record(st, a->e, a->serial)) == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_UNIQUE)
		r = db_error(em, l->wdb, "recording a certificate");
	stmt_done(st);
	/* told apart once the insert is reset */
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		r = record_conflict(l, a, em);
	return r;
}

int ledger_record(struct ledger *l, const struct ledger_entry *e, struct errmsg *em)
{
	struct record_arg a = {.e = e};
	int r;

	if ((r = record_valid(e, em)) != 0)
		return r;
	if (ledger_serial_normalise(e->serial, a.serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: serial '%.64s' is not hex of at most 20 octets",
				  e->serial);
	return submit(l, apply_record, &a, em);
}

/* --- revoke --- */

struct revoke_arg {
	const char *ca;
	char serial[LEDGER_SERIAL_MAX];
	enum ledger_reason reason;
	int64_t invalidity_date;
	int64_t now;
	struct ledger_entry entry; /* the revoked certificate, filled by the writer */
};

/* Not in this CA: another CA's certificate, or none at all. */
static int revoke_missing(struct ledger *l, const struct revoke_arg *a, struct errmsg *em)
{
	sqlite3_stmt *st = l->w[W_CA_OF_SERIAL];
	int rc, r;

	if (sqlite3_bind_text(st, 1, a->serial, -1, SQLITE_STATIC) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			       "ledger: certificate %s was issued by CA '%s', not by '%s'",
			       a->serial, str_col(st, 0), a->ca);
	else if (rc == SQLITE_DONE)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "ledger: no certificate with serial %s",
			       a->serial);
	else
		r = db_error(em, l->wdb, "looking up a serial");
	stmt_done(st);
	return r;
}

static int revoke_update(struct ledger *l, struct revoke_arg *a, struct errmsg *em)
{
	sqlite3_stmt *st = l->w[W_REVOKE];
	int rc;

	rc = sqlite3_bind_int64(st, 1, a->now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 2, (int)a->reason);
	if (rc == SQLITE_OK && a->invalidity_date != 0)
		rc = sqlite3_bind_int64(st, 3, a->invalidity_date);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, a->entry.id);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return db_error(em, l->wdb, "revoking");
	}
	return stmt_run(st, "revoking", em);
}

static int apply_revoke(struct ledger *l, void *arg, struct errmsg *em)
{
	struct revoke_arg *a = arg;
	sqlite3_stmt *st = l->w[W_BY_CA_SERIAL];
	char when[64];
	int r;

	if (sqlite3_bind_text(st, 1, a->ca, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, a->serial, -1, SQLITE_STATIC) != SQLITE_OK) {
		stmt_done(st);
		return db_error(em, l->wdb, "looking up a serial");
	}
	r = read_entry(st, &a->entry, "", em);
	if (r == SIGNET_E_NOT_FOUND)
		return revoke_missing(l, a, em);
	if (r != 0)
		return r;
	if (a->entry.revoked_at != 0) {
		format_time(a->entry.revoked_at, when, sizeof(when));
		r = errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
			       "ledger: certificate %s of CA '%s' was revoked already, at %s "
			       "(reason %d)",
			       a->serial, a->ca, when, (int)a->entry.reason);
		goto out;
	}
	if ((r = revoke_update(l, a, em)) != 0)
		goto out;
	a->entry.revoked_at = a->now;
	a->entry.reason = a->reason;
	a->entry.invalidity_date = a->invalidity_date;
out:
	if (r != 0)
		ledger_entry_release(&a->entry);
	return r;
}

int ledger_revoke(struct ledger *l, const char *ca, const char *serial, enum ledger_reason reason,
		  int64_t invalidity_date, int64_t now, struct ledger_entry *out, struct errmsg *em)
{
	struct revoke_arg a = {
		.ca = ca, .reason = reason, .invalidity_date = invalidity_date, .now = now};
	int r;

	if (!text_ok(ca) || ledger_serial_normalise(serial, a.serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: revoking needs a CA and a serial in hex of at most "
				  "20 octets");
	if (!reason_valid((int)reason))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: %d is not a revocation reason", (int)reason);
	if (now <= 0 || invalidity_date < 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: revocation and invalidity times must be positive");
	r = submit(l, apply_revoke, &a, em);
	if (r == 0 && out != NULL)
		*out = a.entry; /* transferred */
	else
		ledger_entry_release(&a.entry);
	return r;
}

/* --- CRL numbers and CA events --- */

struct crl_arg {
	const char *issuer_key;
	uint64_t number;
};

static int apply_crl_number(struct ledger *l, void *arg, struct errmsg *em)
{
	struct crl_arg *a = arg;
	sqlite3_stmt *st = l->w[W_CRL_GET];
	int r;

	if (sqlite3_bind_text(l->w[W_CRL_BUMP], 1, a->issuer_key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, a->issuer_key, -1, SQLITE_STATIC) != SQLITE_OK) {
		stmt_done(l->w[W_CRL_BUMP]);
		stmt_done(st);
		return db_error(em, l->wdb, "binding a CRL number");
	}
	if ((r = stmt_run(l->w[W_CRL_BUMP], "taking a CRL number", em)) != 0) {
		stmt_done(st);
		return r;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		a->number = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = db_error(em, l->wdb, "reading a CRL number");
	stmt_done(st);
	return r;
}

int ledger_next_crl_number(struct ledger *l, const char *issuer_key, uint64_t *out,
			   struct errmsg *em)
{
	struct crl_arg a = {.issuer_key = issuer_key};
	int r;

	if (!text_ok(issuer_key) || *issuer_key == '\0')
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a CRL number needs an issuer key");
	if ((r = submit(l, apply_crl_number, &a, em)) == 0)
		*out = a.number;
	return r;
}

struct ca_event_arg {
	const char *ca, *event, *key_label;
	char serial[LEDGER_SERIAL_MAX];
	const uint8_t *der;
	size_t der_len;
	int64_t at;
};

static int apply_ca_event(struct ledger *l, void *arg, struct errmsg *em)
{
	struct ca_event_arg *a = arg;
	sqlite3_stmt *st = l->w[W_CA_EVENT];
	int rc;

	rc = sqlite3_bind_text(st, 1, a->ca, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, a->event, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, a->key_label, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, a->serial, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 5, a->der, (int)a->der_len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, a->at);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return db_error(em, l->wdb, "recording a CA event");
	}
	return stmt_run(st, "recording a CA event", em);
}

static int event_known(const char *event)
{
	static const char *const known[] = {"create", "renew", "rekey", "import"};

	for (size_t i = 0; event != NULL && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(event, known[i]) == 0)
			return 1;
	return 0;
}

int ledger_ca_event(struct ledger *l, const char *ca, const char *event, const char *key_label,
		    const char *serial, const uint8_t *der, size_t der_len, int64_t at,
		    struct errmsg *em)
{
	struct ca_event_arg a = {.ca = ca,
				 .event = event,
				 .key_label = key_label,
				 .der = der,
				 .der_len = der_len,
				 .at = at};

	if (!event_known(event))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: unknown CA event '%.32s'",
				  event != NULL ? event : "");
	if (!text_ok(ca) || !text_ok(key_label) || der == NULL || der_len == 0 ||
	    der_len > INT_MAX || ledger_serial_normalise(serial, a.serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a CA event needs a CA, a key label, a serial and the "
				  "certificate");
	return submit(l, apply_ca_event, &a, em);
}

/* --- reads --- */

int ledger_find_request(struct ledger *l, const char *caller,
			const uint8_t request_id[LEDGER_REQUEST_ID], struct ledger_entry *out,
			struct errmsg *em)
{
	sqlite3_stmt *st = l->r[R_FIND_REQUEST];
	int r;

	if (caller == NULL || request_id == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a request look-up needs a caller and a request id");
	pthread_mutex_lock(&l->rlock);
	if (sqlite3_bind_text(st, 1, caller, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, request_id, LEDGER_REQUEST_ID, SQLITE_STATIC) != SQLITE_OK) {
		stmt_done(st);
		r = db_error(em, l->rdb, "looking up a request");
	} else {
		r = read_entry(st, out, "ledger: no certificate recorded for this request", em);
	}
	pthread_mutex_unlock(&l->rlock);
	return r;
}

int ledger_get(struct ledger *l, const char *serial, const uint8_t *spki_sha256,
	       struct ledger_entry *out, struct errmsg *em)
{
	char norm[LEDGER_SERIAL_MAX], missing[128];
	int by_serial = serial != NULL && *serial != '\0';
	sqlite3_stmt *st = l->r[by_serial ? R_BY_SERIAL : R_BY_SPKI];
	int rc, r;

	if (by_serial && ledger_serial_normalise(serial, norm) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: serial '%.64s' is not hex of at most 20 octets", serial);
	if (!by_serial && spki_sha256 == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: give a serial or a key fingerprint");
	if (by_serial)
		snprintf(missing, sizeof(missing), "ledger: no certificate with serial %s", norm);
	else
		snprintf(missing, sizeof(missing), "ledger: no certificate for that key");
	pthread_mutex_lock(&l->rlock);
	if (by_serial)
		rc = sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
	else
		rc = sqlite3_bind_blob(st, 1, spki_sha256, 32, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		r = db_error(em, l->rdb, "looking up a certificate");
	} else {
		r = read_entry(st, out, missing, em);
	}
	pthread_mutex_unlock(&l->rlock);
	return r;
}

/* --- list --- */

/* Parameters of the list query, by number. */
enum {
	P_AFTER = 1,
	P_CA,
	P_PROFILE,
	P_SUBJECT,
	P_SERIAL,
	P_VALID_AT,
	P_EXP_AFTER,
	P_EXP_BEFORE,
	P_LIMIT
};

/* The query is built from constant fragments only; user input is bound. */
static void list_sql(const struct ledger_filter *f, const char *serial, char *sql, size_t len)
{
	size_t n = (size_t)snprintf(sql, len, "SELECT %s FROM issued WHERE id > ?%d", ENTRY_COLUMNS,
				    P_AFTER);

#define APPEND(...)                                                                                \
	do {                                                                                       \
		if (n < len)                                                                       \
			n += (size_t)snprintf(sql + n, len - n, __VA_ARGS__);                      \
	} while (0)
	if (f->ca != NULL && *f->ca != '\0')
		APPEND(" AND ca = ?%d", P_CA);
	if (f->profile != NULL && *f->profile != '\0')
		APPEND(" AND profile = ?%d", P_PROFILE);
	if (f->subject_contains != NULL)
		APPEND(" AND instr(lower(subject), lower(?%d)) > 0", P_SUBJECT);
	if (serial != NULL)
		APPEND(" AND serial = ?%d", P_SERIAL);
	if (f->valid_at != 0)
		APPEND(" AND not_before <= ?%d AND not_after >= ?%d", P_VALID_AT, P_VALID_AT);
	if (f->expires_after != 0)
		APPEND(" AND not_after >= ?%d", P_EXP_AFTER);
	if (f->expires_before != 0)
		APPEND(" AND not_after < ?%d", P_EXP_BEFORE);
	if (f->revoked == LEDGER_ONLY_REVOKED)
		APPEND(" AND revoked_at IS NOT NULL");
	else if (f->revoked == LEDGER_NOT_REVOKED)
		APPEND(" AND revoked_at IS NULL");
	APPEND(" ORDER BY id LIMIT ?%d", P_LIMIT);
#undef APPEND
}

static int list_bind(sqlite3_stmt *st, const struct ledger_filter *f, const char *serial,
		     unsigned limit)
{
	int rc = sqlite3_bind_int64(st, P_AFTER, f->after_id);

	if (rc == SQLITE_OK && f->ca != NULL && *f->ca != '\0')
		rc = sqlite3_bind_text(st, P_CA, f->ca, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && f->profile != NULL && *f->profile != '\0')
		rc = sqlite3_bind_text(st, P_PROFILE, f->profile, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && f->subject_contains != NULL)
		rc = sqlite3_bind_text(st, P_SUBJECT, f->subject_contains, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && serial != NULL)
		rc = sqlite3_bind_text(st, P_SERIAL, serial, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && f->valid_at != 0)
		rc = sqlite3_bind_int64(st, P_VALID_AT, f->valid_at);
	if (rc == SQLITE_OK && f->expires_after != 0)
		rc = sqlite3_bind_int64(st, P_EXP_AFTER, f->expires_after);
	if (rc == SQLITE_OK && f->expires_before != 0)
		rc = sqlite3_bind_int64(st, P_EXP_BEFORE, f->expires_before);
	/* one more than asked, to know whether another page follows */
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, P_LIMIT, (int)limit + 1);
	return rc;
}

static int list_filter_valid(const struct ledger_filter *f, char serial[LEDGER_SERIAL_MAX],
			     struct errmsg *em)
{
	if ((f->ca != NULL && strlen(f->ca) > LEDGER_TEXT_MAX) ||
	    (f->profile != NULL && strlen(f->profile) > LEDGER_TEXT_MAX) ||
	    (f->subject_contains != NULL && strlen(f->subject_contains) > LEDGER_TEXT_MAX))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a filter is longer than %d characters", LEDGER_TEXT_MAX);
	if (f->serial != NULL && ledger_serial_normalise(f->serial, serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: serial '%.64s' is not hex of at most 20 octets",
				  f->serial);
	if (f->revoked != LEDGER_ANY && f->revoked != LEDGER_ONLY_REVOKED &&
	    f->revoked != LEDGER_NOT_REVOKED)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: bad revocation filter");
	return 0;
}

/* Step the prepared list query into out[], at most `limit` entries. */
static int list_rows(sqlite3_stmt *st, unsigned limit, struct ledger_entry *out, size_t *n,
		     int64_t *next, struct errmsg *em)
{
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == limit) {
			*next = out[limit - 1].id;
			return 0;
		}
		if ((r = entry_from_row(st, &out[*n], em)) == 0)
			(*n)++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(em, sqlite3_db_handle(st), "listing certificates");
	return r;
}

int ledger_list(struct ledger *l, const struct ledger_filter *f, struct ledger_entry **out,
		size_t *n, int64_t *next_after_id, struct errmsg *em)
{
	static const struct ledger_filter everything;
	char norm[LEDGER_SERIAL_MAX], sql[1024];
	struct ledger_entry *entries = NULL;
	sqlite3_stmt *st = NULL;
	const char *serial;
	size_t count = 0;
	int64_t next = 0;
	unsigned limit;
	int r;

	*out = NULL;
	*n = 0;
	*next_after_id = 0;
	if (f == NULL)
		f = &everything;
	if ((r = list_filter_valid(f, norm, em)) != 0)
		return r;
	serial = f->serial != NULL ? norm : NULL;
	limit = f->limit == 0 || f->limit > LEDGER_LIST_MAX ? LEDGER_LIST_MAX : f->limit;
	if ((entries = calloc(limit, sizeof(*entries))) == NULL)
		return nomem(em);
	list_sql(f, serial, sql, sizeof(sql));
	pthread_mutex_lock(&l->rlock);
	if (sqlite3_prepare_v2(l->rdb, sql, -1, &st, NULL) != SQLITE_OK ||
	    list_bind(st, f, serial, limit) != SQLITE_OK) {
		r = db_error(em, l->rdb, "listing certificates");
		goto out;
	}
	r = list_rows(st, limit, entries, &count, &next, em);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&l->rlock);
	if (r != 0) {
		ledger_list_free(entries, count);
		return r;
	}
	*out = entries; /* transferred */
	*n = count;
	*next_after_id = next;
	return 0;
}

/* --- revoked list --- */

static int revoked_push(struct ledger_revoked **v, size_t *n, size_t *cap, sqlite3_stmt *st)
{
	struct ledger_revoked *grown, *e;

	if (*n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 64;
		if ((grown = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			return -1;
		*v = grown;
	}
	e = &(*v)[(*n)++];
	snprintf(e->serial, sizeof(e->serial), "%s", str_col(st, 0));
	e->revoked_at = int_col(st, 1);
	e->reason = (enum ledger_reason)int_col(st, 2);
	e->invalidity_date = int_col(st, 3);
	return 0;
}

int ledger_revoked_list(struct ledger *l, const char *issuer_key, int64_t now,
			struct ledger_revoked **out, size_t *n, struct errmsg *em)
{
	sqlite3_stmt *st = l->r[R_REVOKED];
	struct ledger_revoked *v = NULL;
	size_t count = 0, cap = 0;
	int rc, r = 0;

	*out = NULL;
	*n = 0;
	if (!text_ok(issuer_key))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a revocation list needs an issuer key");
	pthread_mutex_lock(&l->rlock);
	if (sqlite3_bind_text(st, 1, issuer_key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK) {
		r = db_error(em, l->rdb, "listing revocations");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (revoked_push(&v, &count, &cap, st) != 0) {
			r = nomem(em);
			goto out;
		}
	if (rc != SQLITE_DONE)
		r = db_error(em, l->rdb, "listing revocations");
out:
	stmt_done(st);
	pthread_mutex_unlock(&l->rlock);
	if (r != 0) {
		free(v);
		return r;
	}
	*out = v; /* transferred */
	*n = count;
	return 0;
}

/* --- open, migrate, close --- */

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
	return prepare_all(l->wdb, wsql, l->w, W_COUNT, em);
}

/* After the migration, so that the reader sees the current schema. */
static int reader_open(struct ledger *l, struct errmsg *em)
{
	int r;

	if ((r = open_db(l->path, SQLITE_OPEN_READONLY, &l->rdb, em)) != 0)
		return r;
	return prepare_all(l->rdb, rsql, l->r, R_COUNT, em);
}

/* The writer takes no signals: they belong to the daemon's main thread. */
static int writer_start(struct ledger *l, struct errmsg *em)
{
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&l->writer, NULL, writer_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: cannot start the writer: %s",
				  strerror(e));
	l->started = 1;
	return 0;
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
	    (r = reader_open(l, &em)) != 0 || (r = writer_start(l, &em)) != 0)
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
	if (l->started) {
		pthread_mutex_lock(&l->lock);
		l->stopping = 1;
		pthread_cond_signal(&l->work);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->writer, NULL);
	}
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
	free(l);
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
