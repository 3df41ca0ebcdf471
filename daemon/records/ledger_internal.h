/*
 * What the pieces of the ledger share (db.c, writer.c, ledger.c,
 * ledger_query.c): the struct behind the public handle, the prepared
 * statements of each connection and the small helpers around them. Not for
 * use outside daemon/records/.
 */
#ifndef SIGNETD_LEDGER_INTERNAL_H
#define SIGNETD_LEDGER_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <sqlite3.h>

#include "records/ledger.h"

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

/* The reader connection's statements on the hot path. */
enum rstmt { R_FIND_REQUEST, R_BY_SERIAL, R_BY_SPKI, R_REVOKED, R_COUNT };

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
	/* the audit trail rows recorded from now on belong to (NULL: none); set
	 * before any write by ledger_set_trail, then only read */
	char *trail;
};

static inline int nomem(struct errmsg *em)
{
	return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "ledger: out of memory");
}

/* Every SQLite failure is reported as the ledger being unavailable: the
 * caller cannot fix it, and a retry later may succeed. */
static inline int db_error(struct errmsg *em, sqlite3 *db, const char *what)
{
	return errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: %s: %s", what, sqlite3_errmsg(db));
}

static inline void stmt_done(sqlite3_stmt *st)
{
	/* an unreset read statement would pin its WAL snapshot */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a statement that returns no row of interest. */
static inline int stmt_run(sqlite3_stmt *st, const char *what, struct errmsg *em)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = db_error(em, sqlite3_db_handle(st), what);
	stmt_done(st);
	return r;
}

/* A NOT NULL text column; "" only if SQLite ran out of memory. */
static inline const char *str_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

static inline int text_ok(const char *s)
{
	return s != NULL && strlen(s) <= LEDGER_TEXT_MAX;
}

/* db.c: the SQL each connection prepares at open, by enum wstmt / rstmt. */
extern const char *const ledger_wsql[W_COUNT];
extern const char *const ledger_rsql[R_COUNT];

/* db.c: why the state directory refuses writes, if it says so ("" if not):
 * appended to the message of a batch that could not be committed. */
void ledger_storage_state(const struct ledger *l, char *buf, size_t len);

/* writer.c: start the writer thread (signals blocked in it). */
int ledger_writer_start(struct ledger *l, struct errmsg *em);
/* writer.c: let the writer finish the queued writes, then join it. Nothing
 * when it was never started. */
void ledger_writer_stop(struct ledger *l);
/* writer.c: queue a write and wait until it is committed (or failed). apply
 * runs on the writer thread, inside the batch's transaction, under a
 * savepoint of its own. */
int ledger_submit(struct ledger *l, int (*apply)(struct ledger *, void *, struct errmsg *),
		  void *arg, struct errmsg *em);

/* ledger_query.c: step a statement expected to give at most one entry;
 * NOT_FOUND with `missing` when it gives none. Resets it. */
int ledger_read_entry(sqlite3_stmt *st, struct ledger_entry *out, const char *missing,
		      struct errmsg *em);

#endif
