/*
 * sql.h on SQLite: one sqlite3 handle per connection. The common SQL's $1,
 * $2, ... are named parameters to SQLite, so each statement keeps the index
 * SQLite gave each of them, and sql.h's parameter i is bound at map[i].
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "records/sql_internal.h"

struct lite_db {
	struct sql_db base;
	sqlite3 *h;
};

struct lite_stmt {
	struct sql_stmt base;
	sqlite3_stmt *h;
	int nparams;
	int *map;     /* [1..nparams]: SQLite's index of "$i" */
	int bind_err; /* the first binding SQLite refused, until the reset */
	int bind_param;
};

static const struct sql_ops lite_ops;

static sqlite3 *lite_handle(struct sql_db *db)
{
	return ((struct lite_db *)db)->h;
}

static struct lite_stmt *lite_stmt(struct sql_stmt *st)
{
	return (struct lite_stmt *)st;
}

int sql_open_sqlite(const char *path, int readonly, int busy_ms, struct sql_db **out,
		    struct errmsg *em)
{
	/* NOMUTEX: a connection is used by one thread at a time (sql.h);
	 * NOFOLLOW: a symlink could put the records where nobody meant */
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	struct lite_db *db = NULL;
	sqlite3 *h = NULL;
	int rc, r = 0;

	*out = NULL;
	if ((rc = sqlite3_open_v2(path, &h, flags, NULL)) != SQLITE_OK) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot open %s: %s", path,
			       h != NULL ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		goto out;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot open %s: out of memory", path);
		goto out;
	}
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, busy_ms);
	db->base.ops = &lite_ops;
	db->h = h;
	h = NULL; /* transferred */
	*out = &db->base;
out:
	sqlite3_close(h);
	return r;
}

static int lite_reconnect(struct sql_db *db, struct errmsg *em)
{
	(void)db;
	(void)em;
	return 0;
}

/* map[i] for each $i of 1..count; a parameter named otherwise (?, ?5, :x,
 * or $ with a gap) is not the common SQL and is refused. */
static int lite_map_params(struct lite_stmt *s, const char *sql, struct errmsg *em)
{
	char name[16], ex[SQL_EXCERPT_MAX + 4];

	s->nparams = sqlite3_bind_parameter_count(s->h);
	if ((s->map = calloc((size_t)s->nparams + 1, sizeof(*s->map))) == NULL)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "preparing a statement: out of memory");
	for (int i = 1; i <= s->nparams; i++) {
		snprintf(name, sizeof(name), "$%d", i);
		if ((s->map[i] = sqlite3_bind_parameter_index(s->h, name)) == 0) {
			sql_excerpt(sql, ex, sizeof(ex));
			return errmsg_set(em, SIGNET_E_UNAVAILABLE,
					  "preparing \"%s\": parameters must be $1..$%d", ex,
					  s->nparams);
		}
	}
	return 0;
}

static void lite_finalize(struct sql_stmt *st)
{
	struct lite_stmt *s = lite_stmt(st);

	sqlite3_finalize(s->h);
	free(s->map);
	free(s);
}

static int lite_prepare(struct sql_db *db, const char *sql, struct sql_stmt **out,
			struct errmsg *em)
{
	char ex[SQL_EXCERPT_MAX + 4];
	struct lite_stmt *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "preparing a statement: out of memory");
	s->base.db = db;
	/* PERSISTENT: these live as long as the connection */
	if (sqlite3_prepare_v3(lite_handle(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->h, NULL) !=
	    SQLITE_OK) {
		sql_excerpt(sql, ex, sizeof(ex));
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "preparing \"%s\": %s", ex,
			       sqlite3_errmsg(lite_handle(db)));
		goto out;
	}
	if (s->h == NULL) {
		sql_excerpt(sql, ex, sizeof(ex));
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "preparing \"%s\": no statement", ex);
		goto out;
	}
	if ((r = lite_map_params(s, sql, em)) != 0)
		goto out;
	*out = &s->base;
	s = NULL; /* transferred */
out:
	if (s != NULL)
		lite_finalize(&s->base);
	return r;
}

/* SQLite's index of parameter i, or 0 (and the error kept for the step). */
static int lite_index(struct lite_stmt *s, int i)
{
	if (i >= 1 && i <= s->nparams)
		return s->map[i];
	if (s->bind_err == 0) {
		s->bind_err = SQLITE_RANGE;
		s->bind_param = i;
	}
	return 0;
}

static void lite_bound(struct lite_stmt *s, int i, int rc)
{
	if (rc != SQLITE_OK && s->bind_err == 0) {
		s->bind_err = rc;
		s->bind_param = i;
	}
}

static void lite_bind_int64(struct sql_stmt *st, int i, int64_t v)
{
	struct lite_stmt *s = lite_stmt(st);
	int j = lite_index(s, i);

	if (j != 0)
		lite_bound(s, i, sqlite3_bind_int64(s->h, j, v));
}

/* SQLITE_STATIC: sql.h has the caller keep values until the first step. */
static void lite_bind_text(struct sql_stmt *st, int i, const char *v)
{
	struct lite_stmt *s = lite_stmt(st);
	int j = lite_index(s, i);

	if (j != 0)
		lite_bound(s, i, sqlite3_bind_text(s->h, j, v, -1, SQLITE_STATIC));
}

static void lite_bind_blob(struct sql_stmt *st, int i, const void *p, size_t n)
{
	struct lite_stmt *s = lite_stmt(st);
	int j = lite_index(s, i);

	if (j != 0)
		lite_bound(s, i, sqlite3_bind_blob64(s->h, j, p, n, SQLITE_STATIC));
}

static void lite_bind_null(struct sql_stmt *st, int i)
{
	struct lite_stmt *s = lite_stmt(st);
	int j = lite_index(s, i);

	if (j != 0)
		lite_bound(s, i, sqlite3_bind_null(s->h, j));
}

static int lite_step(struct sql_stmt *st, const char *what, struct errmsg *em)
{
	struct lite_stmt *s = lite_stmt(st);
	sqlite3 *h = lite_handle(st->db);
	int rc;

	if (s->bind_err != 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: cannot bind parameter $%d: %s",
				  what, s->bind_param, sqlite3_errstr(s->bind_err));
	switch ((rc = sqlite3_step(s->h))) {
	case SQLITE_ROW:
		return SQL_ROW;
	case SQLITE_DONE:
		return SQL_DONE;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		errmsg_set(em, SIGNET_E_ALREADY_EXISTS, "%s: %s", what, sqlite3_errmsg(h));
		return SQL_UNIQUE;
	default:
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: %s", what, sqlite3_errmsg(h));
	}
}

static int lite_col_null(struct sql_stmt *st, int col)
{
	return sqlite3_column_type(lite_stmt(st)->h, col) == SQLITE_NULL;
}

static int64_t lite_col_int64(struct sql_stmt *st, int col)
{
	return sqlite3_column_int64(lite_stmt(st)->h, col);
}

static const char *lite_col_text(struct sql_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(lite_stmt(st)->h, col);

	return t != NULL ? (const char *)t : "";
}

/* SQLite gives NULL for an empty blob too; sql.h keeps NULL for SQL NULL. */
static const void *lite_col_blob(struct sql_stmt *st, int col, size_t *len)
{
	sqlite3_stmt *h = lite_stmt(st)->h;
	const void *p;

	if (sqlite3_column_type(h, col) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(h, col);
	*len = (size_t)sqlite3_column_bytes(h, col);
	if (*len == 0)
		return sql_empty_blob;
	return p;
}

static void lite_reset(struct sql_stmt *st)
{
	struct lite_stmt *s = lite_stmt(st);

	sqlite3_reset(s->h);
	sqlite3_clear_bindings(s->h);
	s->bind_err = 0;
	s->bind_param = 0;
}

static int64_t lite_changes(struct sql_db *db)
{
	return sqlite3_changes64(lite_handle(db));
}

static int lite_exec(struct sql_db *db, const char *sql, struct errmsg *em)
{
	char ex[SQL_EXCERPT_MAX + 4];
	char *msg = NULL;
	int r = 0;

	if (sqlite3_exec(lite_handle(db), sql, NULL, NULL, &msg) != SQLITE_OK) {
		sql_excerpt(sql, ex, sizeof(ex));
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "running \"%s\": %s", ex,
			       msg != NULL ? msg : sqlite3_errmsg(lite_handle(db)));
	}
	sqlite3_free(msg);
	return r;
}

static int lite_transaction_failed(struct sql_db *db)
{
	(void)db;
	return 0;
}

static int lite_in_transaction(struct sql_db *db)
{
	return !sqlite3_get_autocommit(lite_handle(db));
}

static int lite_connected(struct sql_db *db)
{
	(void)db;
	return 1;
}

static void lite_close(struct sql_db *db)
{
	/* close_v2: a statement the owner forgot keeps the handle alive
	 * rather than failing the close */
	sqlite3_close_v2(lite_handle(db));
	free(db);
}

static const struct sql_ops lite_ops = {
	.backend = SQL_SQLITE,
	.reconnect = lite_reconnect,
	.prepare = lite_prepare,
	.finalize = lite_finalize,
	.bind_int64 = lite_bind_int64,
	.bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob,
	.bind_null = lite_bind_null,
	.step = lite_step,
	.col_null = lite_col_null,
	.col_int64 = lite_col_int64,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.reset = lite_reset,
	.changes = lite_changes,
	.exec = lite_exec,
	.in_transaction = lite_in_transaction,
	.transaction_failed = lite_transaction_failed,
	.connected = lite_connected,
	.close = lite_close,
};
