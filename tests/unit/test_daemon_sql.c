/*
 * Unit tests for daemon/records/sql*.c: the same cases on SQLite (a scratch
 * file, always) and on PostgreSQL (when SIGNET_TEST_PG_CONNINFO names a
 * database, with SIGNET_TEST_PG_PASSWORD_FILE if it needs a password; else
 * those cases are skipped). Each PostgreSQL case works in TEMP tables of its
 * own connection, so runs against one database do not meet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "records/sql.h"
#include "testutil.h"

struct fx {
	enum sql_backend backend;
	struct sql_db *db;
	char dir[64];
};

static int open_pg(struct sql_db **db)
{
	const char *conninfo = getenv("SIGNET_TEST_PG_CONNINFO");
	const char *pwfile = getenv("SIGNET_TEST_PG_PASSWORD_FILE");
	struct secret pw = {0};
	struct errmsg em = {0};
	char err[256];
	int r;

	if (pwfile != NULL && pwfile[0] != '\0' &&
	    secret_read_file(pwfile, "database password file", &pw, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	r = sql_open_postgres(conninfo, &pw, db, &em);
	secret_free(&pw);
	if (r != 0)
		fail_msg("sql_open_postgres: %s", em.text);
	return 0;
}

static int have_pg(void)
{
	const char *conninfo = getenv("SIGNET_TEST_PG_CONNINFO");

	return conninfo != NULL && conninfo[0] != '\0';
}

static int setup_sqlite(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct errmsg em = {0};
	char path[128];
	int fd;

	assert_non_null(fx);
	fx->backend = SQL_SQLITE;
	testutil_mkdtemp(fx->dir, sizeof(fx->dir), "sql");
	testutil_join(path, sizeof(path), fx->dir, "test.db");
	/* sql_open_sqlite never creates: its caller does, with the mode */
	assert_true((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600)) >= 0);
	close(fd);
	if (sql_open_sqlite(path, 0, 5000, &fx->db, &em) != 0)
		fail_msg("sql_open_sqlite: %s", em.text);
	*state = fx;
	return 0;
}

static int setup_pg(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->backend = SQL_POSTGRES;
	if (have_pg())
		open_pg(&fx->db);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	sql_close(fx->db);
	if (fx->dir[0] != '\0')
		testutil_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* The fixture's connection, or the case skipped for want of a server. */
static struct fx *fx_get(void **state)
{
	struct fx *fx = *state;

	if (fx->db == NULL) {
		print_message("SIGNET_TEST_PG_CONNINFO is not set: skipped\n");
		skip();
	}
	assert_int_equal(sql_backend(fx->db), fx->backend);
	return fx;
}

static void exec_ok(struct sql_db *db, const char *sql)
{
	struct errmsg em = {0};

	if (sql_exec(db, sql, &em) != 0)
		fail_msg("%s: %s", sql, em.text);
}

static struct sql_stmt *prepare_ok(struct sql_db *db, const char *sql)
{
	struct sql_stmt *st = NULL;
	struct errmsg em = {0};

	if (sql_prepare(db, sql, &st, &em) != 0)
		fail_msg("%s: %s", sql, em.text);
	assert_non_null(st);
	return st;
}

static int step_ok(struct sql_stmt *st)
{
	struct errmsg em = {0};
	int r = sql_step(st, "testing", &em);

	if (r < 0)
		fail_msg("sql_step: %s", em.text);
	return r;
}

/* The table of most cases: one column of each kind, the bytes in the type
 * each database has for them. */
static void create_table(struct fx *fx)
{
	if (fx->backend == SQL_SQLITE)
		exec_ok(fx->db, "CREATE TABLE t (k BIGINT PRIMARY KEY, name TEXT UNIQUE,"
				" data BLOB, extra BIGINT)");
	else
		exec_ok(fx->db, "CREATE TEMP TABLE t (k BIGINT PRIMARY KEY, name TEXT UNIQUE,"
				" data BYTEA, extra BIGINT)");
}

static int64_t count_rows(struct sql_db *db)
{
	struct sql_stmt *st = prepare_ok(db, "SELECT count(*) FROM t");
	int64_t n;

	assert_int_equal(step_ok(st), SQL_ROW);
	n = sql_col_int64(st, 0);
	assert_int_equal(step_ok(st), SQL_DONE);
	sql_finalize(st);
	return n;
}

static void insert_row(struct sql_db *db, int64_t k, const char *name)
{
	struct sql_stmt *st = prepare_ok(db, "INSERT INTO t (k, name) VALUES ($1, $2)");
	struct errmsg em = {0};

	sql_bind_int64(st, 1, k);
	sql_bind_text(st, 2, name);
	if (sql_run(st, "inserting", &em) != 0)
		fail_msg("insert %lld: %s", (long long)k, em.text);
	sql_finalize(st);
}

static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x00};

static void insert_types(struct sql_db *db)
{
	struct sql_stmt *st =
		prepare_ok(db, "INSERT INTO t (k, name, data, extra) VALUES ($1, $2, $3, $4)");
	struct errmsg em = {0};

	sql_bind_int64(st, 1, 1);
	sql_bind_text(st, 2, "h\xc3\xa9llo 'quoted' \"x\"");
	sql_bind_blob(st, 3, bytes, sizeof(bytes));
	sql_bind_int64(st, 4, INT64_MIN);
	assert_int_equal(sql_run(st, "row 1", &em), 0);
	/* NULL text, an empty blob, an explicit NULL */
	sql_bind_int64(st, 1, 2);
	sql_bind_text(st, 2, NULL);
	sql_bind_blob(st, 3, "", 0);
	sql_bind_null(st, 4);
	assert_int_equal(sql_run(st, "row 2", &em), 0);
	/* empty text, a NULL blob, the largest integer */
	sql_bind_int64(st, 1, 3);
	sql_bind_text(st, 2, "");
	sql_bind_blob(st, 3, NULL, 0);
	sql_bind_int64(st, 4, INT64_MAX);
	assert_int_equal(sql_run(st, "row 3", &em), 0);
	sql_finalize(st);
}

static void test_types(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *st;
	const void *p;
	size_t len;

	create_table(fx);
	insert_types(fx->db);
	st = prepare_ok(fx->db, "SELECT k, name, data, extra FROM t ORDER BY k");

	assert_int_equal(step_ok(st), SQL_ROW);
	assert_int_equal(sql_col_int64(st, 0), 1);
	assert_string_equal(sql_col_text(st, 1), "h\xc3\xa9llo 'quoted' \"x\"");
	p = sql_col_blob(st, 2, &len);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(p, bytes, sizeof(bytes));
	assert_true(sql_col_int64(st, 3) == INT64_MIN);
	assert_false(sql_col_null(st, 3));

	assert_int_equal(step_ok(st), SQL_ROW);
	assert_int_equal(sql_col_int64(st, 0), 2);
	assert_true(sql_col_null(st, 1));
	assert_string_equal(sql_col_text(st, 1), "");
	assert_false(sql_col_null(st, 2));
	len = 99;
	assert_non_null(sql_col_blob(st, 2, &len)); /* empty, not NULL */
	assert_int_equal(len, 0);
	assert_true(sql_col_null(st, 3));
	assert_int_equal(sql_col_int64(st, 3), 0);

	assert_int_equal(step_ok(st), SQL_ROW);
	assert_int_equal(sql_col_int64(st, 0), 3);
	assert_false(sql_col_null(st, 1));
	assert_string_equal(sql_col_text(st, 1), "");
	assert_true(sql_col_null(st, 2));
	len = 99;
	assert_null(sql_col_blob(st, 2, &len));
	assert_int_equal(len, 0);
	assert_true(sql_col_int64(st, 3) == INT64_MAX);

	assert_int_equal(step_ok(st), SQL_DONE);
	sql_finalize(st);
}

/* The integer types PostgreSQL answers besides BIGINT: INTEGER, SMALLINT
 * and a comparison's BOOLEAN, all read as integers. */
static void test_integer_types(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *st = prepare_ok(fx->db, "SELECT CAST(-7 AS INTEGER), CAST(-3 AS SMALLINT),"
						 " (1 = 1), (1 = 0), CAST($1 AS BIGINT) + 1");

	sql_bind_int64(st, 1, 41);
	assert_int_equal(step_ok(st), SQL_ROW);
	assert_int_equal(sql_col_int64(st, 0), -7);
	assert_int_equal(sql_col_int64(st, 1), -3);
	assert_int_equal(sql_col_int64(st, 2), 1);
	assert_int_equal(sql_col_int64(st, 3), 0);
	assert_int_equal(sql_col_int64(st, 4), 42);
	assert_int_equal(step_ok(st), SQL_DONE);
	sql_finalize(st);
}

static void test_rows(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *st;
	char name[24];
	int64_t want = 40;

	create_table(fx);
	for (int k = 1; k <= 50; k++) {
		snprintf(name, sizeof(name), "n%d", k);
		insert_row(fx->db, k, name);
	}
	st = prepare_ok(fx->db, "SELECT k, name FROM t WHERE k >= $1 ORDER BY k");
	sql_bind_int64(st, 1, 40);
	while (step_ok(st) == SQL_ROW) {
		snprintf(name, sizeof(name), "n%lld", (long long)want);
		assert_int_equal(sql_col_int64(st, 0), want);
		assert_string_equal(sql_col_text(st, 1), name);
		want++;
	}
	assert_int_equal(want, 51);
	/* and none */
	sql_reset(st);
	sql_bind_int64(st, 1, 51);
	assert_int_equal(step_ok(st), SQL_DONE);
	sql_finalize(st);
}

static void test_changes(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *up, *del;
	struct errmsg em = {0};

	create_table(fx);
	for (int k = 1; k <= 5; k++)
		insert_row(fx->db, k, NULL);
	assert_int_equal(sql_changes(fx->db), 1);
	up = prepare_ok(fx->db, "UPDATE t SET extra = $1 WHERE k <= $2");
	sql_bind_int64(up, 1, 7);
	sql_bind_int64(up, 2, 3);
	assert_int_equal(sql_run(up, "updating", &em), 0);
	assert_int_equal(sql_changes(fx->db), 3);
	/* a query leaves the count alone */
	assert_int_equal(count_rows(fx->db), 5);
	assert_int_equal(sql_changes(fx->db), 3);
	del = prepare_ok(fx->db, "DELETE FROM t WHERE k = $1");
	sql_bind_int64(del, 1, 99);
	assert_int_equal(sql_run(del, "deleting", &em), 0);
	assert_int_equal(sql_changes(fx->db), 0);
	sql_bind_int64(del, 1, 5);
	assert_int_equal(sql_run(del, "deleting", &em), 0);
	assert_int_equal(sql_changes(fx->db), 1);
	sql_finalize(up);
	sql_finalize(del);
}

static void test_unique(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *st;
	struct errmsg em = {0};

	create_table(fx);
	st = prepare_ok(fx->db, "INSERT INTO t (k, name) VALUES ($1, $2)");
	sql_bind_int64(st, 1, 1);
	sql_bind_text(st, 2, "first");
	assert_int_equal(sql_run(st, "inserting", &em), 0);

	/* the primary key */
	sql_bind_int64(st, 1, 1);
	sql_bind_text(st, 2, "second");
	assert_int_equal(sql_step(st, "inserting", &em), SQL_UNIQUE);
	assert_int_equal(em.err, SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em.text, "inserting: "));
	/* PostgreSQL's DETAIL line names the values: never in the message */
	assert_null(strstr(em.text, "second"));
	assert_null(strstr(em.text, "Key ("));
	sql_reset(st);

	/* another unique column, through sql_run */
	memset(&em, 0, sizeof(em));
	sql_bind_int64(st, 1, 2);
	sql_bind_text(st, 2, "first");
	assert_int_equal(sql_run(st, "inserting", &em), SQL_UNIQUE);
	if (fx->backend == SQL_POSTGRES)
		assert_non_null(strstr(em.text, "t_name_key"));
	else
		assert_non_null(strstr(em.text, "t.name"));

	/* and the statement goes on */
	sql_bind_int64(st, 1, 2);
	sql_bind_text(st, 2, "second");
	assert_int_equal(sql_run(st, "inserting", &em), 0);
	assert_int_equal(count_rows(fx->db), 2);
	sql_finalize(st);
}

static void test_upsert_returning(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *up, *nothing;
	char name[24];

	create_table(fx);
	up = prepare_ok(fx->db,
			"INSERT INTO t (k, name, extra) VALUES ($1, $2, 1)"
			" ON CONFLICT (k) DO UPDATE SET extra = t.extra + 1, name = excluded.name"
			" RETURNING extra, name");
	for (int i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		sql_bind_int64(up, 1, 10);
		sql_bind_text(up, 2, name);
		assert_int_equal(step_ok(up), SQL_ROW);
		assert_int_equal(sql_col_int64(up, 0), i);
		assert_string_equal(sql_col_text(up, 1), name);
		assert_int_equal(step_ok(up), SQL_DONE);
		assert_int_equal(sql_changes(fx->db), 1);
		sql_reset(up);
	}
	nothing = prepare_ok(fx->db, "INSERT INTO t (k, extra) VALUES ($1, 0)"
				     " ON CONFLICT (k) DO NOTHING RETURNING k");
	sql_bind_int64(nothing, 1, 10);
	assert_int_equal(step_ok(nothing), SQL_DONE);
	assert_int_equal(sql_changes(fx->db), 0);
	sql_reset(nothing);
	sql_bind_int64(nothing, 1, 11);
	assert_int_equal(step_ok(nothing), SQL_ROW);
	assert_int_equal(sql_col_int64(nothing, 0), 11);
	assert_int_equal(step_ok(nothing), SQL_DONE);
	assert_int_equal(count_rows(fx->db), 2);
	sql_finalize(up);
	sql_finalize(nothing);
}

/* A statement failing inside a transaction: on PostgreSQL the transaction
 * is then in error and refuses all else until ROLLBACK TO the savepoint. */
static void test_savepoint(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *ins;
	struct errmsg em = {0};

	create_table(fx);
	ins = prepare_ok(fx->db, "INSERT INTO t (k) VALUES ($1)");
	exec_ok(fx->db, "BEGIN");
	sql_bind_int64(ins, 1, 1);
	assert_int_equal(sql_run(ins, "inserting", &em), 0);
	exec_ok(fx->db, "SAVEPOINT op");
	sql_bind_int64(ins, 1, 1);
	assert_int_equal(sql_run(ins, "inserting", &em), SQL_UNIQUE);
	assert_true(sql_in_transaction(fx->db));
	if (fx->backend == SQL_POSTGRES) {
		sql_bind_int64(ins, 1, 2);
		assert_true(sql_run(ins, "inserting", &em) < 0);
		assert_int_equal(em.err, SIGNET_E_UNAVAILABLE);
		assert_true(sql_in_transaction(fx->db));
		assert_true(sql_connected(fx->db));
	}
	exec_ok(fx->db, "ROLLBACK TO op");
	sql_bind_int64(ins, 1, 2);
	assert_int_equal(sql_run(ins, "inserting", &em), 0);
	exec_ok(fx->db, "RELEASE op");
	assert_true(sql_in_transaction(fx->db));
	exec_ok(fx->db, "COMMIT");
	assert_false(sql_in_transaction(fx->db));
	assert_int_equal(count_rows(fx->db), 2);

	/* a rolled back one leaves nothing */
	exec_ok(fx->db, "BEGIN");
	sql_bind_int64(ins, 1, 3);
	assert_int_equal(sql_run(ins, "inserting", &em), 0);
	exec_ok(fx->db, "ROLLBACK");
	assert_false(sql_in_transaction(fx->db));
	assert_int_equal(count_rows(fx->db), 2);
	sql_finalize(ins);
}

static void test_in_transaction(void **state)
{
	struct fx *fx = fx_get(state);
	struct errmsg em = {0};

	assert_false(sql_in_transaction(fx->db));
	exec_ok(fx->db, "BEGIN");
	assert_true(sql_in_transaction(fx->db));
	exec_ok(fx->db, "COMMIT");
	assert_false(sql_in_transaction(fx->db));
	/* several statements in one exec, one of them failing */
	assert_true(sql_exec(fx->db, "BEGIN; SELECT * FROM no_such_table", &em) < 0);
	assert_int_equal(em.err, SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "no_such_table"));
	assert_true(sql_in_transaction(fx->db));
	exec_ok(fx->db, "ROLLBACK");
	assert_false(sql_in_transaction(fx->db));
}

static void test_reuse(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *ins, *get;
	struct errmsg em = {0};
	char name[24];

	create_table(fx);
	ins = prepare_ok(fx->db, "INSERT INTO t (k, name, data) VALUES ($1, $2, $3)");
	get = prepare_ok(fx->db, "SELECT name, data FROM t WHERE k = $1");
	exec_ok(fx->db, "BEGIN");
	for (int k = 0; k < 500; k++) {
		uint8_t b = (uint8_t)k;

		snprintf(name, sizeof(name), "r%d", k);
		sql_bind_int64(ins, 1, k);
		sql_bind_text(ins, 2, name);
		sql_bind_blob(ins, 3, &b, 1);
		if (sql_run(ins, "inserting", &em) != 0)
			fail_msg("row %d: %s", k, em.text);
	}
	exec_ok(fx->db, "COMMIT");
	for (int k = 499; k >= 0; k--) {
		const uint8_t *p;
		size_t len;

		snprintf(name, sizeof(name), "r%d", k);
		sql_bind_int64(get, 1, k);
		assert_int_equal(step_ok(get), SQL_ROW);
		assert_string_equal(sql_col_text(get, 0), name);
		p = sql_col_blob(get, 1, &len);
		assert_int_equal(len, 1);
		assert_int_equal(p[0], (uint8_t)k);
		sql_reset(get);
	}
	/* a reset clears the bindings: an unbound parameter is NULL */
	assert_int_equal(step_ok(get), SQL_DONE);
	sql_finalize(ins);
	sql_finalize(get);
}

static void test_errors(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *st = NULL;
	struct errmsg em = {0};

	assert_int_equal(sql_prepare(fx->db, "SELEC 1 FROM nowhere", &st, &em),
			 SIGNET_E_UNAVAILABLE);
	assert_null(st);
	assert_non_null(strstr(em.text, "SELEC 1"));

	create_table(fx);
	st = prepare_ok(fx->db, "SELECT k FROM t WHERE k = $1");
	sql_bind_int64(st, 2, 1); /* no such parameter */
	assert_int_equal(sql_step(st, "looking", &em), SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "looking: "));
	sql_reset(st);
	sql_bind_int64(st, 1, 1);
	assert_int_equal(step_ok(st), SQL_DONE);
	sql_finalize(st);

	if (fx->backend == SQL_POSTGRES) {
		/* a value PostgreSQL refuses is not quoted back */
		st = prepare_ok(fx->db, "INSERT INTO t (k) VALUES ($1)");
		sql_bind_text(st, 1, "s3cr3t");
		assert_int_equal(sql_run(st, "inserting", &em), SIGNET_E_UNAVAILABLE);
		assert_null(strstr(em.text, "s3cr3t"));
		sql_finalize(st);
	}
}

static int64_t backend_pid(struct sql_stmt *st)
{
	int64_t pid;

	assert_int_equal(step_ok(st), SQL_ROW);
	pid = sql_col_int64(st, 0);
	assert_int_equal(step_ok(st), SQL_DONE);
	sql_reset(st);
	return pid;
}

/* The server ends our session (as a restart or failover would): the next
 * step fails, the connection says it is lost, and after sql_reconnect the
 * statements prepared before work again. */
static void test_reconnect(void **state)
{
	struct fx *fx = fx_get(state);
	struct sql_stmt *pid_st, *kill, *late = NULL;
	struct sql_db *other = NULL;
	struct errmsg em = {0};
	int64_t pid;

	if (fx->backend == SQL_SQLITE) {
		assert_int_equal(sql_reconnect(fx->db, &em), 0);
		assert_true(sql_connected(fx->db));
		return;
	}
	pid_st = prepare_ok(fx->db, "SELECT pg_backend_pid()");
	pid = backend_pid(pid_st);
	assert_true(pid > 0);

	open_pg(&other);
	/* the two-argument form waits (5 s at most) until the session is gone */
	kill = prepare_ok(other, "SELECT pg_terminate_backend($1, 5000)");
	sql_bind_int64(kill, 1, pid);
	assert_int_equal(step_ok(kill), SQL_ROW);
	assert_int_equal(sql_col_int64(kill, 0), 1);
	sql_finalize(kill);
	sql_close(other);

	assert_true(sql_connected(fx->db));
	assert_true(sql_step(pid_st, "asking", &em) < 0);
	assert_int_equal(em.err, SIGNET_E_UNAVAILABLE);
	assert_false(sql_connected(fx->db));
	assert_false(sql_in_transaction(fx->db));
	sql_reset(pid_st);
	assert_int_equal(sql_exec(fx->db, "SELECT 1", &em), SIGNET_E_UNAVAILABLE);
	assert_true(sql_step(pid_st, "asking", &em) < 0);
	sql_reset(pid_st);
	/* prepared while lost: on the server after the reconnect */
	assert_int_equal(sql_prepare(fx->db, "SELECT CAST($1 AS BIGINT) * 2", &late, &em), 0);

	if (sql_reconnect(fx->db, &em) != 0)
		fail_msg("sql_reconnect: %s", em.text);
	assert_true(sql_connected(fx->db));
	assert_true(backend_pid(pid_st) != pid);
	sql_bind_int64(late, 1, 21);
	assert_int_equal(step_ok(late), SQL_ROW);
	assert_int_equal(sql_col_int64(late, 0), 42);
	sql_finalize(late);
	sql_finalize(pid_st);
}

/* The session's defaults, where the conninfo does not set its own. */
static void test_session(void **state)
{
	struct fx *fx = fx_get(state);
	const char *conninfo = getenv("SIGNET_TEST_PG_CONNINFO");
	struct sql_stmt *st;

	if (fx->backend == SQL_SQLITE)
		return;
	st = prepare_ok(fx->db, "SELECT current_setting('application_name'),"
				" current_setting('synchronous_commit')");
	assert_int_equal(step_ok(st), SQL_ROW);
	if (strstr(conninfo, "application_name") == NULL)
		assert_string_equal(sql_col_text(st, 0), "signetd");
	assert_string_equal(sql_col_text(st, 1), "on");
	sql_finalize(st);
}

static void expect_refused(const char *conninfo, const char *want)
{
	struct errmsg em = {0};

	assert_int_equal(sql_conninfo_check(conninfo, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(em.err, SIGNET_E_INVALID_ARGUMENT);
	if (strstr(em.text, want) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", conninfo, em.text, want);
	if (strstr(em.text, "hunter2") != NULL)
		fail_msg("%s: \"%s\" quotes the secret", conninfo, em.text);
}

/* No server needed: libpq parses the string. */
static void test_conninfo_check(void **state)
{
	static const char *const good[] = {
		"postgresql:///signet?host=/run/postgresql",
		"postgres://signet@db.example:5432/signet?sslmode=verify-full&sslrootcert=/etc/"
		"ca.pem"
		"&sslcert=/etc/c.pem&sslkey=/etc/k.pem",
		"postgresql://signet:@db.example/signet", /* an empty password is none */
		"host=/run/postgresql dbname=signet user=signet",
		"dbname=signet",
	};
	struct errmsg em = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (sql_conninfo_check(good[i], &em) != 0)
			fail_msg("%s: %s", good[i], em.text);
	expect_refused("postgresql://signet:hunter2@db.example/signet", "database_password_file");
	expect_refused("postgresql:///signet?password=hunter2", "database_password_file");
	expect_refused("host=db.example password=hunter2", "database_password_file");
	expect_refused("host=db.example password='hunter2 x'", "database_password_file");
	expect_refused("", "empty");
	expect_refused("mysql://db.example/signet", "postgresql://");
	expect_refused("signet", "records.database: ");
	expect_refused("host=db.example nosuchoption=hunter2", "option \"nosuchoption\"");
	expect_refused("postgresql:///db?nosuch=hunter2", "\"nosuch\"");
	expect_refused("host='hunter2", "records.database: ");
	expect_refused("postgresql://u:hunter2@[::1/db", "records.database: ");
	expect_refused("postgresql:///db?sslmode=hunter2%zz", "records.database: ");
}

static void test_open_postgres_refusals(void **state)
{
	struct sql_db *db = NULL;
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(sql_open_postgres("postgresql://u:hunter2@localhost/db", NULL, &db, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(db);
	assert_null(strstr(em.text, "hunter2"));
	/* no server behind a socket directory that does not exist */
	assert_int_equal(
		sql_open_postgres("postgresql:///db?host=/nonexistent-signet-dir", NULL, &db, &em),
		SIGNET_E_UNAVAILABLE);
	assert_null(db);
	assert_non_null(strstr(em.text, "cannot connect to the database"));
}

#define ON_BOTH(f)                                                                                 \
	{"sqlite/" #f, f, setup_sqlite, teardown, NULL},                                           \
	{                                                                                          \
		"postgres/" #f, f, setup_pg, teardown, NULL                                        \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conninfo_check),
		cmocka_unit_test(test_open_postgres_refusals),
		ON_BOTH(test_types),
		ON_BOTH(test_integer_types),
		ON_BOTH(test_rows),
		ON_BOTH(test_changes),
		ON_BOTH(test_unique),
		ON_BOTH(test_upsert_returning),
		ON_BOTH(test_savepoint),
		ON_BOTH(test_in_transaction),
		ON_BOTH(test_reuse),
		ON_BOTH(test_errors),
		ON_BOTH(test_reconnect),
		ON_BOTH(test_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
