/*
 * sql.h's calls, handed to the backend the connection was opened with
 * (sql_sqlite.c or sql_pg.c), and what is the same on both.
 */
#include <string.h>

#include "records/sql_internal.h"

const unsigned char sql_empty_blob[1];

void sql_excerpt(const char *sql, char *buf, size_t size)
{
	size_t n = 0, max = size > SQL_EXCERPT_MAX + 4 ? SQL_EXCERPT_MAX : size - 4;

	if (size < 5) {
		if (size > 0)
			buf[0] = '\0';
		return;
	}
	/* migrations span lines; a message is one */
	for (; sql[n] != '\0' && n < max; n++)
		buf[n] = (sql[n] == '\n' || sql[n] == '\r' || sql[n] == '\t') ? ' ' : sql[n];
	if (sql[n] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

enum sql_backend sql_backend(const struct sql_db *db)
{
	return db->ops->backend;
}

int sql_reconnect(struct sql_db *db, struct errmsg *em)
{
	return db->ops->reconnect(db, em);
}

int sql_prepare(struct sql_db *db, const char *sql, struct sql_stmt **out, struct errmsg *em)
{
	*out = NULL;
	return db->ops->prepare(db, sql, out, em);
}

void sql_finalize(struct sql_stmt *st)
{
	if (st != NULL)
		st->db->ops->finalize(st);
}

void sql_bind_int64(struct sql_stmt *st, int i, int64_t v)
{
	st->db->ops->bind_int64(st, i, v);
}

void sql_bind_text(struct sql_stmt *st, int i, const char *s)
{
	if (s == NULL)
		st->db->ops->bind_null(st, i);
	else
		st->db->ops->bind_text(st, i, s);
}

void sql_bind_blob(struct sql_stmt *st, int i, const void *p, size_t n)
{
	if (p == NULL)
		st->db->ops->bind_null(st, i);
	else
		st->db->ops->bind_blob(st, i, p, n);
}

void sql_bind_null(struct sql_stmt *st, int i)
{
	st->db->ops->bind_null(st, i);
}

int sql_step(struct sql_stmt *st, const char *what, struct errmsg *em)
{
	return st->db->ops->step(st, what, em);
}

int sql_col_null(struct sql_stmt *st, int col)
{
	return st->db->ops->col_null(st, col);
}

int64_t sql_col_int64(struct sql_stmt *st, int col)
{
	return st->db->ops->col_int64(st, col);
}

const char *sql_col_text(struct sql_stmt *st, int col)
{
	return st->db->ops->col_text(st, col);
}

const void *sql_col_blob(struct sql_stmt *st, int col, size_t *len)
{
	*len = 0;
	return st->db->ops->col_blob(st, col, len);
}

void sql_reset(struct sql_stmt *st)
{
	st->db->ops->reset(st);
}

int64_t sql_changes(struct sql_db *db)
{
	return db->ops->changes(db);
}

int sql_exec(struct sql_db *db, const char *sql, struct errmsg *em)
{
	return db->ops->exec(db, sql, em);
}

int sql_run(struct sql_stmt *st, const char *what, struct errmsg *em)
{
	int r = sql_step(st, what, em);

	sql_reset(st);
	return r == SQL_ROW ? 0 : r;
}

int sql_transaction_failed(struct sql_db *db)
{
	return db->ops->transaction_failed(db);
}

int sql_in_transaction(struct sql_db *db)
{
	return db->ops->in_transaction(db);
}

int sql_connected(struct sql_db *db)
{
	return db->ops->connected(db);
}

void sql_close(struct sql_db *db)
{
	if (db != NULL)
		db->ops->close(db);
}
