/*
 * One small interface over the two databases the records can live in:
 * SQLite (STATE_DIR/ledger.db, the embedded default) and PostgreSQL (one
 * database shared by the signetd of several hosts). Each statement of the
 * ledger, the challenges, the CA store and the audit checkpoints is written
 * once, in the SQL both understand; only the schema (records/db.c's
 * migrations) is written per backend.
 *
 * The common SQL: parameters are $1, $2, ... (SQLite reads them as named
 * parameters, numbered in order of first appearance, so a statement uses
 * them in ascending order of first use); integers are BIGINT (64-bit on
 * both), text is TEXT (UTF-8), bytes are BLOB in SQLite and BYTEA in
 * PostgreSQL; INSERT ... ON CONFLICT ... DO UPDATE / DO NOTHING and
 * RETURNING work in both.
 *
 * A connection is used by one thread at a time; its owner serialises.
 * Columns are numbered from 0, parameters from 1, as in SQLite.
 */
#ifndef SIGNETD_SQL_H
#define SIGNETD_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "base/errmsg.h"
#include "base/secret.h"

enum sql_backend { SQL_SQLITE = 1, SQL_POSTGRES = 2 };

struct sql_db;	 /* one connection */
struct sql_stmt; /* a statement prepared on one connection */

/* What sql_step() returns besides an error (< 0, set in em). */
enum sql_step_result {
	SQL_DONE = 0,	/* no (more) rows */
	SQL_ROW = 1,	/* a row is ready for the sql_col_* calls */
	SQL_UNIQUE = 2, /* a unique constraint refused the statement; em says which
			 * (em->err SIGNET_E_ALREADY_EXISTS) */
};

enum sql_backend sql_backend(const struct sql_db *db);

/* Open the SQLite database file at `path` (read-write, or read-only when
 * `readonly`; never created here: the caller creates it with its mode),
 * with extended result codes and a busy timeout of `busy_ms`. UNAVAILABLE
 * in em with SQLite's reason. */
int sql_open_sqlite(const char *path, int readonly, int busy_ms, struct sql_db **out,
		    struct errmsg *em);

/*
 * Connect to PostgreSQL. `conninfo` is a libpq URI or key=value string that
 * holds no password (sql_conninfo_check); `password` (NULL or empty: none)
 * is copied into a locked page of the connection's own, kept to reconnect,
 * and wiped at sql_close. UNAVAILABLE in em with libpq's reason;
 * INVALID_ARGUMENT when sql_conninfo_check refuses conninfo. The session
 * gets connect_timeout=5, application_name=signetd and TCP keepalives
 * unless conninfo sets them.
 */
int sql_open_postgres(const char *conninfo, const struct secret *password, struct sql_db **out,
		      struct errmsg *em);

/* Is `conninfo` a libpq connection string signetd accepts: one libpq can
 * parse, with no password in it (a password belongs in a file, never in the
 * configuration: the message says to use records.database_password_file)
 * and no sslpassword (a client key's passphrase)? 0, or INVALID_ARGUMENT in
 * em. */
int sql_conninfo_check(const char *conninfo, struct errmsg *em);

/* Connect again after the connection was lost (SQLite: nothing to do, 0).
 * Statements prepared on db stay valid handles; they are prepared again on
 * the new connection at their next step. UNAVAILABLE in em while the server
 * cannot be reached. */
int sql_reconnect(struct sql_db *db, struct errmsg *em);

/* Prepare `sql` on db. Errors are UNAVAILABLE in em (the message names `sql`
 * shortened, never a bound value). Release with sql_finalize (NULL is fine),
 * before sql_close. PostgreSQL: prepared on the server at once when
 * connected, else at the first step after sql_reconnect; the server infers
 * each parameter's type from its use, so write CAST($1 AS BIGINT) where the
 * SQL does not say. */
int sql_prepare(struct sql_db *db, const char *sql, struct sql_stmt **out, struct errmsg *em);
void sql_finalize(struct sql_stmt *st);

/* Bind parameter i (1-based). Values are not copied: they must stay valid
 * until the statement is stepped for the first time. NULL text or blob
 * binds SQL NULL. */
void sql_bind_int64(struct sql_stmt *st, int i, int64_t v);
void sql_bind_text(struct sql_stmt *st, int i, const char *s);
void sql_bind_blob(struct sql_stmt *st, int i, const void *p, size_t n);
void sql_bind_null(struct sql_stmt *st, int i);

/* Run the statement (first call) or move to its next row; parameters not
 * bound are NULL. After SQL_DONE or an error, sql_reset before the next
 * run (the backends differ on a step without it). Returns an enum
 * sql_step_result, or a negative status with UNAVAILABLE in em when the
 * database failed (a lost PostgreSQL connection included; `what` names the
 * act in the message: "recording a certificate"). */
int sql_step(struct sql_stmt *st, const char *what, struct errmsg *em);

/* The current row's columns (0-based). Text is "" for NULL; a blob is NULL
 * with *len 0 for NULL, and an empty blob a non-NULL pointer with *len 0.
 * Pointers are valid until the next step or reset. PostgreSQL answers in
 * binary: sql_col_int64 reads BIGINT, INTEGER, SMALLINT and BOOLEAN (0/1),
 * sql_col_text TEXT, VARCHAR, CHAR and NAME; any other type (NUMERIC, as
 * sum() of a BIGINT is: cast it) reads as 0 and "", and sql_col_blob gives
 * any value's bytes as sent. */
int sql_col_null(struct sql_stmt *st, int col);
int64_t sql_col_int64(struct sql_stmt *st, int col);
const char *sql_col_text(struct sql_stmt *st, int col);
const void *sql_col_blob(struct sql_stmt *st, int col, size_t *len);

/* Ready the statement to be bound and stepped again (bindings cleared). */
void sql_reset(struct sql_stmt *st);

/* Rows inserted, changed or deleted by the last statement stepped on db. */
int64_t sql_changes(struct sql_db *db);

/* Run SQL without parameters or results (may hold several statements:
 * migrations, BEGIN, SAVEPOINT ...). UNAVAILABLE in em on failure. */
int sql_exec(struct sql_db *db, const char *sql, struct errmsg *em);

/* Step a prepared statement expected to return at most one row and no
 * interest in it, then reset it: 0, or the error of sql_step. SQL_UNIQUE is
 * returned as is (> 0). */
int sql_run(struct sql_stmt *st, const char *what, struct errmsg *em);

/* Inside a transaction (after BEGIN, before COMMIT/ROLLBACK, and not rolled
 * back by the database on its own)? */
int sql_in_transaction(struct sql_db *db);

/* Has a statement failed inside the transaction so that only a rollback
 * (to a savepoint, or of all) may follow? PostgreSQL: after any error in a
 * transaction block, which would then turn COMMIT into a ROLLBACK; SQLite:
 * never (a failed statement undoes only itself). */
int sql_transaction_failed(struct sql_db *db);

/* Is the connection usable? SQLite: always; PostgreSQL: not lost. */
int sql_connected(struct sql_db *db);

void sql_close(struct sql_db *db);

#endif
