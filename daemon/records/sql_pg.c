/*
 * sql.h on PostgreSQL, over libpq. A statement is prepared on the server
 * under a name of its own ("s<N>"), again on each new connection: the
 * connection's generation says whether the server still knows it. Values
 * travel as text (integers, text) or binary (bytes); results come back in
 * binary, decoded by column type. A lost connection is only noticed and
 * reported here; the owner decides when to call sql_reconnect().
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "records/pq.h"
#include "records/sql_internal.h"

/* pg_type's OIDs (catalog/pg_type_d.h is not in libpq-dev); fixed for good. */
#define PG_BOOLOID    16
#define PG_BYTEAOID   17
#define PG_NAMEOID    19
#define PG_INT8OID    20
#define PG_INT2OID    21
#define PG_INT4OID    23
#define PG_TEXTOID    25
#define PG_BPCHAROID  1042
#define PG_VARCHAROID 1043

#define PG_MAX_PARAMS 65535 /* the protocol's limit */
#define PG_LINE_MAX   400   /* of a libpq message in ours */

struct pg_db {
	struct sql_db base;
	PGconn *conn;
	char *conninfo;		/* holds no password (sql_conninfo_check) */
	struct secret password; /* empty when none */
	uint64_t gen;		/* bumped at each new connection */
	uint64_t names;		/* statements named on this db so far */
	int64_t changes;
};

struct pg_stmt {
	struct sql_stmt base;
	char *sql;
	char name[24];
	uint64_t gen; /* of the connection it is prepared on; 0: none yet */
	int cap;      /* parameters the text can hold: the highest $N in it */
	int nparams;  /* as the server counted them */
	int max_bound;
	int bad_param; /* a parameter bound out of range, until the reset */
	const char **values;
	int *lengths;
	int *formats;
	char (*num)[24]; /* integers as text */
	PGresult *res;	 /* of the execution, while stepping through it */
	int row;
};

static const struct sql_ops pg_ops;

static struct pg_db *pg_db(struct sql_db *db)
{
	return (struct pg_db *)db;
}

static struct pg_stmt *pg_stmt(struct sql_stmt *st)
{
	return (struct pg_stmt *)st;
}

/* The first line of a libpq message, which is where PostgreSQL puts the
 * sentence; the DETAIL lines after it may quote the values of a row. */
static void pg_first_line(const char *msg, char *buf, size_t size)
{
	size_t n = msg != NULL ? strcspn(msg, "\r\n") : 0;

	if (n >= size)
		n = size - 1;
	if (n > 0)
		memcpy(buf, msg, n);
	buf[n] = '\0';
}

/* Is q[0..n) the name of an option in conninfo ("name=" in it)? An unknown
 * option's name helps the reader and is no secret; a value is never
 * followed by "=". */
static int pg_is_option_name(const char *conninfo, const char *q, size_t n)
{
	const char *end = conninfo + strlen(conninfo);

	if (n == 0 || strspn(q, "abcdefghijklmnopqrstuvwxyz_") < n)
		return 0;
	for (const char *p = conninfo; (p = memmem(p, (size_t)(end - p), q, n)) != NULL; p++)
		if (p[n] == '=')
			return 1;
	return 0;
}

/* libpq's messages about a connection string quote parts of it, which may
 * hold a secret: keep the sentence and what cannot be one (a one-character
 * quote such as "=", an option's name), "..." for the rest. */
static void pg_redact(const char *msg, const char *conninfo, char *buf, size_t size)
{
	size_t n = 0, q;

	for (const char *p = msg; *p != '\0' && *p != '\n' && n + 6 < size; p++) {
		const char *end = *p == '"' ? strchr(p + 1, '"') : NULL;

		if (end == NULL) {
			buf[n++] = *p;
			continue;
		}
		q = (size_t)(end - p) - 1;
		/* whole, so that its closing quote opens nothing */
		if ((q <= 1 || pg_is_option_name(conninfo, p + 1, q)) && n + q + 2 + 6 < size) {
			memcpy(buf + n, p, q + 2);
			n += q + 2;
		} else {
			memcpy(buf + n, "\"...\"", 5);
			n += 5;
		}
		p = end;
	}
	buf[n] = '\0';
}

/* Server notices (a WARNING about a transaction, say) go to our log. */
static void pg_notice(void *arg, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	char line[PG_LINE_MAX];

	(void)arg;
	pg_first_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), line, sizeof(line));
	if (sev != NULL && strcmp(sev, "WARNING") == 0)
		log_warn("postgresql: %s", line);
	else
		log_debug("postgresql: %s", line);
}

/*
 * Every statement is prepared once per connection, and each is an indexed
 * look-up or a single-row write whose best plan does not depend on the
 * values bound: a generic plan, planned once, rather than PostgreSQL's
 * default of planning each of the first executions afresh and every one
 * after that whose generic plan it does not trust (a fifth of the server's
 * time per certificate went to planning).
 */
static int pg_session_setup(struct pg_db *db, struct errmsg *em)
{
	PGresult *res = PQexec(db->conn, "SET plan_cache_mode = force_generic_plan");
	char line[PG_LINE_MAX];
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		pg_first_line(PQerrorMessage(db->conn), line, sizeof(line));
	PQclear(res);
	return ok ? 0
		  : errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot set up the database session: %s",
			       line);
}

/*
 * A new connection. Keywords are applied in order and the expanded dbname
 * (the whole conninfo) overrides those before it: the timeout, name and
 * keepalives are defaults the conninfo may change; the password comes last
 * and only from our secret.
 */
static int pg_connect(struct pg_db *db, struct errmsg *em)
{
	static const char *const keys[] = {
		"connect_timeout",
		"application_name",
		"keepalives",
		"keepalives_idle",
		"keepalives_interval",
		"keepalives_count",
		"dbname",
		"password",
		NULL,
	};
	const char *const values[] = {
		"5", "signetd", "1", "30", "10", "3", db->conninfo, db->password.buf, NULL,
	};
	char line[PG_LINE_MAX];

	PQfinish(db->conn);
	db->conn = PQconnectdbParams(keys, values, 1);
	db->gen++;
	if (db->conn == NULL)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE,
				  "cannot connect to the database: out of memory");
	if (PQstatus(db->conn) != CONNECTION_OK) {
		pg_first_line(PQerrorMessage(db->conn), line, sizeof(line));
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "cannot connect to the database: %s",
				  line);
	}
	PQsetNoticeReceiver(db->conn, pg_notice, NULL);
	return pg_session_setup(db, em);
}

static void pg_close(struct sql_db *base)
{
	struct pg_db *db = pg_db(base);

	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db->conninfo);
	secret_free(&db->password);
	free(db);
}

/* Left alone, libpq lets OpenSSL ask for an encrypted client key's
 * passphrase on the terminal: a daemon must neither block on a prompt nor
 * read a secret there. It gets none, and the key fails to load. */
static int pg_no_key_passphrase(char *buf, int size, PGconn *conn)
{
	(void)conn;
	if (size > 0)
		buf[0] = '\0';
	log_error("records.database: the client key (sslkey) is encrypted and signetd takes no "
		  "passphrase for it: give sslkey a key without one, readable by signetd alone");
	return 0;
}

static void pg_set_hooks(void)
{
	PQsetSSLKeyPassHook_OpenSSL(pg_no_key_passphrase);
}

int sql_open_postgres(const char *conninfo, const struct secret *password, struct sql_db **out,
		      struct errmsg *em)
{
	static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
	struct pg_db *db = NULL;
	char err[256];
	int r;

	*out = NULL;
	if ((r = sql_conninfo_check(conninfo, em)) != 0)
		return r;
	pthread_once(&hooks_once, pg_set_hooks);
	if ((db = calloc(1, sizeof(*db))) == NULL || (db->conninfo = strdup(conninfo)) == NULL) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE,
			       "cannot connect to the database: out of memory");
		goto out;
	}
	db->base.ops = &pg_ops;
	if (password != NULL && password->buf != NULL && password->len > 0 &&
	    secret_dup(password, &db->password, err, sizeof(err)) != 0) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "database password: %s", err);
		goto out;
	}
	if ((r = pg_connect(db, em)) != 0)
		goto out;
	*out = &db->base;
	db = NULL; /* transferred */
out:
	pg_close(db != NULL ? &db->base : NULL);
	return r;
}

/* "scheme://" at the start of s, other than libpq's two. */
static int pg_foreign_uri(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	if (n == 0 || strncmp(s + n, "://", 3) != 0)
		return 0;
	return !(n == 10 && strncmp(s, "postgresql", n) == 0) &&
	       !(n == 8 && strncmp(s, "postgres", n) == 0);
}

/* The role's password, and sslpassword: the passphrase of the client's key,
 * as much a secret, which signetd has no file for. */
static int pg_refuses_password(PQconninfoOption *opts, struct errmsg *em)
{
	int r = 0;

	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		int ssl = strcmp(o->keyword, "sslpassword") == 0;

		if ((!ssl && strcmp(o->keyword, "password") != 0) || o->val == NULL)
			continue;
		if (o->val[0] != '\0' && ssl)
			r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				       "records.database must not hold sslpassword, the passphrase "
				       "of the client key: give sslkey a key without one, readable "
				       "by signetd alone");
		else if (o->val[0] != '\0')
			r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				       "records.database must not hold a password: put it in the "
				       "file named by records.database_password_file");
		/* libpq frees it without wiping */
		explicit_bzero(o->val, strlen(o->val));
	}
	return r;
}

int sql_conninfo_check(const char *conninfo, struct errmsg *em)
{
	PQconninfoOption *opts;
	char *err = NULL, line[PG_LINE_MAX];
	int r;

	if (conninfo == NULL || conninfo[0] == '\0')
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "records.database is empty");
	if (pg_foreign_uri(conninfo))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "records.database: a URI must start with postgresql:// or "
				  "postgres://");
	if ((r = pq_load(em)) != 0)
		return r;
	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		pg_redact(err != NULL ? err : "out of memory", conninfo, line, sizeof(line));
		PQfreemem(err);
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "records.database: %s", line);
	}
	r = pg_refuses_password(opts, em);
	PQconninfoFree(opts);
	return r;
}

static int pg_reconnect(struct sql_db *db, struct errmsg *em)
{
	return pg_connect(pg_db(db), em);
}

/* Rows an INSERT, UPDATE, DELETE or MERGE touched; other commands leave
 * the count alone, as in SQLite. */
static void pg_count_changes(struct pg_db *db, PGresult *res)
{
	static const char *const verbs[] = {"INSERT ", "UPDATE ", "DELETE ", "MERGE "};
	const char *tag = PQcmdStatus(res);

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strncmp(tag, verbs[i], strlen(verbs[i])) == 0) {
			db->changes = strtoll(PQcmdTuples(res), NULL, 10);
			return;
		}
}

/* SQL_UNIQUE for a unique violation, else UNAVAILABLE: with the first line
 * of the message, but none for a data exception (class 22), whose message
 * quotes the value refused. */
static int pg_failure(struct pg_db *db, const PGresult *res, const char *what, struct errmsg *em)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[PG_LINE_MAX];

	if (msg == NULL && res != NULL && PQresultErrorMessage(res)[0] != '\0')
		msg = PQresultErrorMessage(res);
	if (msg == NULL)
		msg = PQerrorMessage(db->conn);
	pg_first_line(msg, line, sizeof(line));
	if (state != NULL && strcmp(state, "23505") == 0) {
		errmsg_set(em, SIGNET_E_ALREADY_EXISTS, "%s: %s", what, line);
		return SQL_UNIQUE;
	}
	if (state != NULL && strncmp(state, "22", 2) == 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: a value was refused (SQLSTATE %s)",
				  what, state);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: connection lost: %s", what, line);
	return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: %s", what, line);
}

/* Take a result: 0 (res in *keep, or cleared when keep is NULL), or the
 * failure's status with res cleared. */
static int pg_result(struct pg_db *db, PGresult *res, const char *what, PGresult **keep,
		     struct errmsg *em)
{
	int r;

	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		pg_count_changes(db, res);
		if (keep != NULL)
			*keep = res;
		else
			PQclear(res);
		return 0;
	case PGRES_FATAL_ERROR:
	case PGRES_NONFATAL_ERROR:
	case PGRES_BAD_RESPONSE:
		r = pg_failure(db, res, what, em);
		break;
	default: /* COPY and the like: not what sql.h runs */
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: unexpected result %s", what,
			       PQresStatus(PQresultStatus(res)));
		break;
	}
	PQclear(res);
	return r;
}

/* Prepare s on the current connection under a new name, and learn how
 * many parameters the server found in it. */
static int pg_prepare_on(struct pg_db *db, struct pg_stmt *s, const char *what, struct errmsg *em)
{
	PGresult *res = NULL;
	int r;

	snprintf(s->name, sizeof(s->name), "s%" PRIu64, ++db->names);
	if ((r = pg_result(db, PQprepare(db->conn, s->name, s->sql, 0, NULL), what, NULL, em)) !=
		    0 ||
	    (r = pg_result(db, PQdescribePrepared(db->conn, s->name), what, &res, em)) != 0)
		return r;
	s->nparams = PQnparams(res);
	PQclear(res);
	if (s->nparams > s->cap) /* cannot be: each $N is in the text */
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: %d parameters, $%d at most", what,
				  s->nparams, s->cap);
	s->gen = db->gen;
	return 0;
}

/* The highest $N in sql: at least as many parameters as the server will
 * find (a $N in a literal only makes room for one more). */
static int pg_scan_params(const char *sql)
{
	int max = 0;

	for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$')) {
		long n = strtol(p + 1, NULL, 10);

		if (p[1] >= '0' && p[1] <= '9' && n > max && n <= PG_MAX_PARAMS)
			max = (int)n;
	}
	return max;
}

static void pg_finalize(struct sql_stmt *st)
{
	struct pg_stmt *s = pg_stmt(st);
	struct pg_db *db = pg_db(st->db);
	char sql[48];

	/* in a failed transaction the server would refuse; the name then
	 * lives until the connection ends, which is harmless */
	if (s->gen == db->gen && PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_INERROR) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(db->conn, sql));
	}
	PQclear(s->res);
	free(s->sql);
	free(s->values);
	free(s->lengths);
	free(s->formats);
	free(s->num);
	free(s);
}

static int pg_stmt_alloc(struct pg_stmt *s, const char *sql)
{
	size_t n;

	if ((s->sql = strdup(sql)) == NULL)
		return -1;
	s->cap = pg_scan_params(sql);
	n = (size_t)s->cap + 1; /* never 0 for calloc */
	s->values = calloc(n, sizeof(*s->values));
	s->lengths = calloc(n, sizeof(*s->lengths));
	s->formats = calloc(n, sizeof(*s->formats));
	s->num = calloc(n, sizeof(*s->num));
	return s->values != NULL && s->lengths != NULL && s->formats != NULL && s->num != NULL ? 0
											       : -1;
}

/* Prepared at once when connected, so a mistake in the SQL shows at
 * start-up as it does on SQLite; when the connection is lost (before or
 * during), at the first step after sql_reconnect(). */
static int pg_prepare(struct sql_db *base, const char *sql, struct sql_stmt **out,
		      struct errmsg *em)
{
	struct pg_db *db = pg_db(base);
	char ex[SQL_EXCERPT_MAX + 4], what[SQL_EXCERPT_MAX + 20];
	struct pg_stmt *s;
	int r = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "preparing a statement: out of memory");
	s->base.db = base;
	if (pg_stmt_alloc(s, sql) != 0) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "preparing a statement: out of memory");
		goto out;
	}
	sql_excerpt(sql, ex, sizeof(ex));
	snprintf(what, sizeof(what), "preparing \"%s\"", ex);
	if (PQstatus(db->conn) == CONNECTION_OK && (r = pg_prepare_on(db, s, what, em)) != 0 &&
	    PQstatus(db->conn) != CONNECTION_OK)
		r = 0; /* lost on the way: prepared after the reconnect */
	if (r != 0)
		goto out;
	*out = &s->base;
	s = NULL; /* transferred */
out:
	if (s != NULL)
		pg_finalize(&s->base);
	return r;
}

/* Where parameter i goes, or -1 (kept for the step to report). */
static int pg_slot(struct pg_stmt *s, int i)
{
	if (i < 1 || i > s->cap) {
		if (s->bad_param == 0)
			s->bad_param = i;
		return -1;
	}
	if (i > s->max_bound)
		s->max_bound = i;
	return i - 1;
}

static void pg_set(struct pg_stmt *s, int i, const char *v, int len, int format)
{
	int k = pg_slot(s, i);

	if (k < 0)
		return;
	s->values[k] = v;
	s->lengths[k] = len;
	s->formats[k] = format;
}

static void pg_bind_int64(struct sql_stmt *st, int i, int64_t v)
{
	struct pg_stmt *s = pg_stmt(st);
	int k = pg_slot(s, i);

	if (k < 0)
		return;
	snprintf(s->num[k], sizeof(s->num[k]), "%" PRId64, v);
	pg_set(s, i, s->num[k], 0, 0);
}

static void pg_bind_text(struct sql_stmt *st, int i, const char *v)
{
	pg_set(pg_stmt(st), i, v, 0, 0);
}

static void pg_bind_blob(struct sql_stmt *st, int i, const void *p, size_t n)
{
	struct pg_stmt *s = pg_stmt(st);

	if (n > INT32_MAX) { /* the protocol's limit on a value */
		if (s->bad_param == 0)
			s->bad_param = i;
		return;
	}
	pg_set(s, i, p, (int)n, 1);
}

static void pg_bind_null(struct sql_stmt *st, int i)
{
	pg_set(pg_stmt(st), i, NULL, 0, 0);
}

static int pg_execute(struct pg_stmt *s, const char *what, struct errmsg *em)
{
	struct pg_db *db = pg_db(s->base.db);
	int r;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE,
				  "%s: the connection to the database is lost", what);
	if (s->gen != db->gen && (r = pg_prepare_on(db, s, what, em)) != 0)
		return r;
	if (s->bad_param != 0 || s->max_bound > s->nparams)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "%s: cannot bind parameter $%d", what,
				  s->bad_param != 0 ? s->bad_param : s->max_bound);
	return pg_result(
		db,
		PQexecPrepared(db->conn, s->name, s->nparams, s->values, s->lengths, s->formats, 1),
		what, &s->res, em);
}

static int pg_step(struct sql_stmt *st, const char *what, struct errmsg *em)
{
	struct pg_stmt *s = pg_stmt(st);
	int r;

	if (s->res == NULL) {
		if ((r = pg_execute(s, what, em)) != 0)
			return r;
		s->row = 0;
	} else if (s->row < PQntuples(s->res)) {
		s->row++;
	}
	return s->row < PQntuples(s->res) ? SQL_ROW : SQL_DONE;
}

/* The current row's value in col, or NULL for SQL NULL or no such value. */
static const unsigned char *pg_value(struct pg_stmt *s, int col, size_t *len, Oid *type)
{
	if (s->res == NULL || s->row >= PQntuples(s->res) || col < 0 || col >= PQnfields(s->res) ||
	    PQgetisnull(s->res, s->row, col))
		return NULL;
	*len = (size_t)PQgetlength(s->res, s->row, col);
	*type = PQftype(s->res, col);
	return (const unsigned char *)PQgetvalue(s->res, s->row, col);
}

static uint64_t pg_be(const unsigned char *v, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++)
		x = x << 8 | v[i];
	return x;
}

static int pg_col_null(struct sql_stmt *st, int col)
{
	size_t len;
	Oid type;

	return pg_value(pg_stmt(st), col, &len, &type) == NULL;
}

static int64_t pg_col_int64(struct sql_stmt *st, int col)
{
	size_t len = 0;
	Oid type = 0;
	const unsigned char *v = pg_value(pg_stmt(st), col, &len, &type);

	if (v == NULL)
		return 0;
	if (type == PG_INT8OID && len == 8)
		return (int64_t)pg_be(v, 8);
	if (type == PG_INT4OID && len == 4)
		return (int32_t)(uint32_t)pg_be(v, 4);
	if (type == PG_INT2OID && len == 2)
		return (int16_t)(uint16_t)pg_be(v, 2);
	if (type == PG_BOOLOID && len == 1)
		return v[0] != 0;
	return 0;
}

static const char *pg_col_text(struct sql_stmt *st, int col)
{
	size_t len = 0;
	Oid type = 0;
	const unsigned char *v = pg_value(pg_stmt(st), col, &len, &type);

	/* binary text is the text itself, and libpq ends every value in NUL */
	if (v != NULL && (type == PG_TEXTOID || type == PG_VARCHAROID || type == PG_NAMEOID ||
			  type == PG_BPCHAROID))
		return (const char *)v;
	return "";
}

static const void *pg_col_blob(struct sql_stmt *st, int col, size_t *len)
{
	Oid type = 0;

	/* an empty value is "", not NULL, as sql.h wants */
	return pg_value(pg_stmt(st), col, len, &type);
}

static void pg_reset(struct sql_stmt *st)
{
	struct pg_stmt *s = pg_stmt(st);
	size_t n = (size_t)s->cap;

	PQclear(s->res);
	s->res = NULL;
	s->row = 0;
	memset(s->values, 0, n * sizeof(*s->values));
	memset(s->lengths, 0, n * sizeof(*s->lengths));
	memset(s->formats, 0, n * sizeof(*s->formats));
	s->max_bound = 0;
	s->bad_param = 0;
}

static int64_t pg_changes(struct sql_db *db)
{
	return pg_db(db)->changes;
}

static int pg_exec(struct sql_db *base, const char *sql, struct errmsg *em)
{
	struct pg_db *db = pg_db(base);
	char ex[SQL_EXCERPT_MAX + 4], what[SQL_EXCERPT_MAX + 20];

	sql_excerpt(sql, ex, sizeof(ex));
	snprintf(what, sizeof(what), "running \"%s\"", ex);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE,
				  "%s: the connection to the database is lost", what);
	return pg_result(db, PQexec(db->conn, sql), what, NULL, em);
}

/* INERROR too: the transaction failed but stays open until ROLLBACK (or
 * ROLLBACK TO a savepoint); UNKNOWN is a lost connection, whose
 * transaction the server rolled back. */
static int pg_transaction_failed(struct sql_db *db)
{
	return PQtransactionStatus(pg_db(db)->conn) == PQTRANS_INERROR;
}

static int pg_in_transaction(struct sql_db *db)
{
	switch (PQtransactionStatus(pg_db(db)->conn)) {
	case PQTRANS_ACTIVE:
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		return 1;
	default:
		return 0;
	}
}

static int pg_connected(struct sql_db *db)
{
	return PQstatus(pg_db(db)->conn) == CONNECTION_OK;
}

static const struct sql_ops pg_ops = {
	.backend = SQL_POSTGRES,
	.reconnect = pg_reconnect,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_null = pg_col_null,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.reset = pg_reset,
	.changes = pg_changes,
	.exec = pg_exec,
	.in_transaction = pg_in_transaction,
	.transaction_failed = pg_transaction_failed,
	.connected = pg_connected,
	.close = pg_close,
};
