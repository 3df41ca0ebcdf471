/*
 * What the two backends of sql.h (sql_sqlite.c, sql_pg.c) share with the
 * dispatch in sql.c: each connection and statement starts with the base
 * struct below, so the public calls reach the backend through db->ops.
 */
#ifndef SIGNETD_SQL_INTERNAL_H
#define SIGNETD_SQL_INTERNAL_H

#include "records/sql.h"

struct sql_ops {
	enum sql_backend backend;
	int (*reconnect)(struct sql_db *db, struct errmsg *em);
	int (*prepare)(struct sql_db *db, const char *sql, struct sql_stmt **out,
		       struct errmsg *em);
	void (*finalize)(struct sql_stmt *st);
	void (*bind_int64)(struct sql_stmt *st, int i, int64_t v);
	void (*bind_text)(struct sql_stmt *st, int i, const char *s);
	void (*bind_blob)(struct sql_stmt *st, int i, const void *p, size_t n);
	void (*bind_null)(struct sql_stmt *st, int i);
	int (*step)(struct sql_stmt *st, const char *what, struct errmsg *em);
	int (*col_null)(struct sql_stmt *st, int col);
	int64_t (*col_int64)(struct sql_stmt *st, int col);
	const char *(*col_text)(struct sql_stmt *st, int col);
	const void *(*col_blob)(struct sql_stmt *st, int col, size_t *len);
	void (*reset)(struct sql_stmt *st);
	int64_t (*changes)(struct sql_db *db);
	int (*exec)(struct sql_db *db, const char *sql, struct errmsg *em);
	int (*in_transaction)(struct sql_db *db);
	int (*transaction_failed)(struct sql_db *db);
	int (*connected)(struct sql_db *db);
	void (*close)(struct sql_db *db);
};

/* The first member of each backend's connection. */
struct sql_db {
	const struct sql_ops *ops;
};

/* The first member of each backend's statement. */
struct sql_stmt {
	struct sql_db *db;
};

/* At most SQL_EXCERPT_MAX bytes of the start of `sql` for a message, on one
 * line, with "..." when cut. */
#define SQL_EXCERPT_MAX 48
void sql_excerpt(const char *sql, char *buf, size_t size);

/* What sql_col_blob returns for an empty blob that is not NULL. */
extern const unsigned char sql_empty_blob[1];

#endif
