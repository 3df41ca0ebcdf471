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

#include "records/ledger.h"
#include "records/sql.h"

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
	W_REQUEST_SERIAL,
	W_BY_CA_SERIAL,
	W_CA_OF_SERIAL,
	W_REVOKE,
	W_CRL_BUMP,
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
	int single; /* one statement, which undoes itself when it fails: no savepoint */
	/* when set, consecutive ops with the same group function are applied by
	 * one call of it (each op's rc set by it): a certificate's record, so
	 * that the records of a batch go in with one multi-row insert */
	void (*group)(struct ledger *l, struct op **ops, size_t n);
	int rc;
	int done;
	struct op *next;
};

/* When a lost connection is tried again. */
struct backoff {
	int64_t retry_at_ms; /* not before then (CLOCK_MONOTONIC) */
	unsigned ms;	     /* the last wait; doubles up to LEDGER_BACKOFF_MAX_MS */
};

/* Certificates recorded by one INSERT: 64 rows of 14 parameters, well
 * inside both backends' limits on a statement's parameters. */
#define LEDGER_ROWS_MAX 64

/* One read connection and its statements, used by one thread at a time. A
 * few of them, so that concurrent requests' look-ups (a retry's request id,
 * on every SignCsr) do not queue for one connection's round trips. */
#define LEDGER_READERS 4
struct reader {
	pthread_mutex_t lock;
	struct sql_db *db;
	struct sql_stmt *r[R_COUNT];
	struct backoff back;
};

struct ledger {
	enum sql_backend backend;
	char path[PATH_MAX];	/* SQLite: STATE_DIR/ledger.db; PostgreSQL: "" */
	char *conninfo;		/* PostgreSQL: the libpq connection string (no password) */
	struct secret password; /* PostgreSQL: its password, if any */
	/* the writer thread's alone while it runs */
	struct sql_db *wdb;
	struct sql_stmt *w[W_COUNT];
	struct backoff wback;
	/* reads: beside the writer (WAL; PostgreSQL: connections of their own),
	 * on whichever reader is free */
	struct reader readers[LEDGER_READERS];
	unsigned next_reader; /* where the search for a free one starts */
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
	/* PostgreSQL: the session holding each named advisory lock (ledger_lead) */
	pthread_mutex_t lead_lock;
	struct sql_db *lead_db;
	/* the writer's multi-row inserts of certificates, by rows - 1, prepared
	 * when first needed (ledger.c, insert_records) */
	struct sql_stmt *w_rows[LEDGER_ROWS_MAX];
};

#define LEDGER_BACKOFF_MIN_MS 100
#define LEDGER_BACKOFF_MAX_MS 2000

static inline int nomem(struct errmsg *em)
{
	return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "ledger: out of memory");
}

/* Run a statement that returns no row of interest (sql_run), with a unique
 * key's refusal as the ledger's ALREADY_EXISTS. */
static inline int stmt_run(struct sql_stmt *st, const char *what, struct errmsg *em)
{
	int r = sql_run(st, what, em);

	return r > 0 ? errmsg_set(em, SIGNET_E_ALREADY_EXISTS, "ledger: %s: already recorded", what)
		     : r;
}

static inline int text_ok(const char *s)
{
	return s != NULL && strlen(s) <= LEDGER_TEXT_MAX;
}

/* schema.c: bring the database's schema to the current version (both backends). */
int ledger_migrate(struct ledger *l, struct sql_db *db, struct errmsg *em);
/* schema.c: the SQL of statement i of each connection, for this backend. */
const char *ledger_wsql(enum sql_backend b, enum wstmt i);
const char *ledger_rsql(enum sql_backend b, enum rstmt i);
/* schema.c: the list query's test of a case-insensitive substring of the
 * subject, with its parameter written "$?" (numbered by the list query). */
const char *ledger_subject_match(enum sql_backend b);

/* db.c: (re)connect the writer's connection after a loss, at most once per
 * backoff interval: 0 when it is usable, UNAVAILABLE in em when not. */
int ledger_writer_connected(struct ledger *l, struct errmsg *em);
/* db.c: a reader, locked and connected (UNAVAILABLE in em when it cannot
 * be, and NULL); give it back with ledger_reader_put. */
struct reader *ledger_reader_get(struct ledger *l, struct errmsg *em);
void ledger_reader_put(struct reader *rd);

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
/* writer.c: the same for an op that writes with one statement (reads
 * besides are fine): it needs no savepoint of its own, which on PostgreSQL
 * saves two round trips. Should that statement fail, on PostgreSQL the
 * whole batch fails with it (its transaction can only roll back). */
int ledger_submit_single(struct ledger *l, int (*apply)(struct ledger *, void *, struct errmsg *),
			 void *arg, struct errmsg *em);
/* writer.c: a single-statement op that may be applied together with the
 * queued ops of the same `group` (see struct op); it has no apply of its
 * own. */
int ledger_submit_grouped(struct ledger *l, void (*group)(struct ledger *, struct op **, size_t),
			  void *arg, struct errmsg *em);

/* ledger_query.c: step a statement expected to give at most one entry;
 * NOT_FOUND with `missing` when it gives none. Resets it. */
int ledger_read_entry(struct sql_stmt *st, struct ledger_entry *out, const char *missing,
		      struct errmsg *em);

#endif
