/* Unit tests for daemon/records/audit.c: the audit trail's appender. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "records/audit.h"
#include "auditchain.h"
#include "testutil.h"

#define ZEROS	   "0000000000000000000000000000000000000000000000000000000000000000"
#define THREADS	   8
#define PER_THREAD 100

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "audit");
	testutil_join(path, sizeof(path), dir, "audit.log");
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	testutil_rm_rf(dir);
	return 0;
}

static struct audit *open_flush(unsigned flush_ms)
{
	struct audit *a = NULL;
	char err[512] = "";

	if (audit_open(path, flush_ms, &a, err, sizeof(err)) != 0)
		fail_msg("audit_open: %s", err);
	return a;
}

/* Strict: each line durable when its append returns. */
static struct audit *open_ok(void)
{
	return open_flush(0);
}

static void append_ok(struct audit *a, const char *method, const char *message)
{
	struct audit_event ev = {
		.caller = "factory-1",
		.method = method,
		.object = "key=device-1",
		.status = "OK",
		.message = message,
	};

	assert_int_equal(audit_append(a, &ev), 0);
}

/* auditchain_verify on the file: the number of lines, or a failure. */
static long verify_file(void)
{
	FILE *f = fopen(path, "r");
	char err[256];
	long n, bad;

	assert_non_null(f);
	n = auditchain_verify(f, &bad, err, sizeof(err), NULL);
	fclose(f);
	if (n < 0)
		fail_msg("line %ld: %s", bad, err);
	return n;
}

/* Line i (1-based) of data, copied into a NUL-terminated string to free(). */
static char *line_at(const char *data, int i)
{
	const char *p = data, *end;

	for (int k = 1; k < i; k++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	end = strchr(p, '\n');
	assert_non_null(end);
	return strndup(p, (size_t)(end - p));
}

static void *appender(void *arg)
{
	struct audit *a = arg;
	struct audit_event ev = {
		.caller = "worker",
		.method = "SignCsr",
		.object = "ca=issuing",
		.status = "OK",
		.message = "",
	};
	long failed = 0;

	for (int i = 0; i < PER_THREAD; i++)
		failed += audit_append(a, &ev) != 0;
	return (void *)failed;
}

/* THREADS appenders at once: every line there, in seq order, the chain whole. */
static void concurrent_appends(unsigned flush_ms)
{
	struct audit *a = open_flush(flush_ms);
	pthread_t t[THREADS];
	char *data, want[32];
	void *failed;

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, appender, a), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
	}
	audit_close(a);
	assert_int_equal(verify_file(), THREADS * PER_THREAD);
	data = testutil_read(path, NULL);
	for (int i = 1; i <= THREADS * PER_THREAD; i++) {
		char *line = line_at(data, i);

		/* seq right after {"prev":"<64 hex>", */
		snprintf(want, sizeof(want), "\"seq\":%d,", i);
		assert_memory_equal(line + 75, want, strlen(want));
		free(line);
	}
	free(data);
}

static void test_concurrent_appends(void **state)
{
	(void)state;
	concurrent_appends(0);
}

/* A short interval: the flusher syncs many times while lines keep coming. */
static void test_concurrent_appends_flushed(void **state)
{
	(void)state;
	concurrent_appends(1);
}

/* With a flusher, audit_append still write(2)s before it returns: a crash of
 * signetd right after a reply cannot lose the line. */
static void test_flushed_line_written_before_return(void **state)
{
	struct audit *a = open_flush(50);
	char *data, *line;

	(void)state;
	for (int i = 1; i <= 3; i++) {
		append_ok(a, "SignNonce", "");
		assert_int_equal(verify_file(), i);
	}
	data = testutil_read(path, NULL);
	line = line_at(data, 3);
	assert_non_null(strstr(line, "\"seq\":3,"));
	assert_non_null(strstr(line, "\"method\":\"SignNonce\""));
	free(line);
	free(data);
	audit_close(a);
	assert_int_equal(verify_file(), 3);
	/* The next daemon continues the chain the flusher left. */
	a = open_flush(50);
	append_ok(a, "DeleteKey", "");
	audit_close(a);
	assert_int_equal(verify_file(), 4);
}

/*
 * audit_close interrupts the flusher's wait instead of sitting out its
 * interval: were it to wait, these rounds would take over 100 s and the test
 * would hit its ctest timeout. Half the rounds give the flusher time to be
 * in its timed wait when close comes, half close before it has woken.
 */
static void test_close_does_not_wait_out_interval(void **state)
{
	struct audit *a;

	(void)state;
	for (int i = 1; i <= 100; i++) {
		a = open_flush(1000);
		append_ok(a, "SignNonce", "");
		if (i % 2 == 0)
			usleep(1000);
		audit_close(a);
		assert_int_equal(verify_file(), i);
	}
	/* Opened and closed without a line: nothing to sync, nothing written. */
	a = open_flush(1000);
	audit_close(a);
	assert_int_equal(verify_file(), 100);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "2026-11-23T09:15:04.123Z" */
static void assert_time_format(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !is_digit(t[i]) : t[i] != shape[i])
			fail_msg("time '%.24s' is not like %s", t, shape);
}

static void test_line_format(void **state)
{
	static const uint8_t rid[16] = {0x00, 0x01, 0xab, 0xff, 4,  5,	6,  7,
					8,    9,    10,	  11,	12, 13, 14, 15};
	struct audit_event ev = {
		.caller = "factory-1",
		.method = "SignCsr",
		.object = "ca=issuing serial=0A1B",
		.status = "INVALID_ARGUMENT",
		.message = "profile 'device': CN does not match",
		.request_id = rid,
		.request_id_len = sizeof(rid),
	};
	static const char head[] = "{\"prev\":\"" ZEROS "\",\"seq\":1,\"time\":\"";
	struct audit *a = open_ok();
	char *data, *line, hash[2 * AUDITCHAIN_HASH_LEN + 1], want[128];
	const char *rest;

	(void)state;
	assert_int_equal(audit_append(a, &ev), 0);
	ev.request_id = NULL;
	ev.message = "";
	ev.status = "OK";
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	data = testutil_read(path, NULL);
	line = line_at(data, 1);
	assert_memory_equal(line, head, sizeof(head) - 1);
	assert_time_format(line + sizeof(head) - 1);
	rest = line + sizeof(head) - 1 + 24;
	assert_string_equal(rest, "\",\"caller\":\"factory-1\",\"method\":\"SignCsr\","
				  "\"object\":\"ca=issuing serial=0A1B\","
				  "\"status\":\"INVALID_ARGUMENT\","
				  "\"message\":\"profile 'device': CN does not match\","
				  "\"request_id\":\"0001abff0405060708090a0b0c0d0e0f\"}");
	auditchain_hash_hex(line, strlen(line), hash);
	free(line);
	line = line_at(data, 2);
	snprintf(want, sizeof(want), "{\"prev\":\"%s\",\"seq\":2,", hash);
	assert_memory_equal(line, want, strlen(want));
	assert_non_null(strstr(line, "\"status\":\"OK\",\"message\":\"\",\"request_id\":\"\"}"));
	free(line);
	free(data);
}

/* The text after "message":" in the only line of a fresh log, up to the closing quote. */
static char *logged_message(const char *message)
{
	struct audit *a = open_ok();
	struct audit_event ev = {"c", "m", "", "OK", message, NULL, 0};
	char *data, *start, *end, *out;

	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	data = testutil_read(path, NULL);
	assert_int_equal(unlink(path), 0);
	start = strstr(data, "\"message\":\"");
	assert_non_null(start);
	start += strlen("\"message\":\"");
	end = strstr(start, "\",\"request_id\":");
	assert_non_null(end);
	out = strndup(start, (size_t)(end - start));
	free(data);
	return out;
}

static void expect_escaped(const char *message, const char *want)
{
	char *got = logged_message(message);

	assert_string_equal(got, want);
	free(got);
}

static void test_escaping(void **state)
{
	(void)state;
	expect_escaped("say \"hi\" \\ bye", "say \\\"hi\\\" \\\\ bye");
	expect_escaped("a\nb\r\tc\x01\x1f\x7f", "a\\u000ab\\u000d\\u0009c\\u0001\\u001f\\u007f");
	/* Well-formed UTF-8 passes: é, €, 😀. */
	expect_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac "
								    "\xf0\x9f\x98\x80");
	/* Each byte outside well-formed UTF-8 is U+FFFD: a stray continuation, a
	 * Latin-1 byte, an overlong '/', a surrogate, a cut sequence. */
	expect_escaped("\x80", "\\ufffd");
	expect_escaped("x\xffy", "x\\ufffdy");
	expect_escaped("\xc0\xaf", "\\ufffd\\ufffd");
	expect_escaped("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd");
	expect_escaped("\xe2\x82", "\\ufffd\\ufffd");
	expect_escaped("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
}

static void test_other_fields_escaped(void **state)
{
	struct audit *a = open_ok();
	struct audit_event ev = {"a\"b\\c", "m\n", "key=\xff", "OK", "", NULL, 0};
	char *data;

	(void)state;
	assert_int_equal(audit_append(a, &ev), 0);
	audit_close(a);
	data = testutil_read(path, NULL);
	assert_non_null(strstr(data, "\"caller\":\"a\\\"b\\\\c\",\"method\":\"m\\u000a\","
				     "\"object\":\"key=\\ufffd\""));
	free(data);
}

static void test_long_fields_are_cut(void **state)
{
	size_t big = 3 * AUDITCHAIN_LINE_MAX;
	char *huge = malloc(big + 1), *data, *line;
	struct audit_event ev = {huge, "m", huge, "OK", huge, NULL, 0};
	struct audit *a = open_ok();
	size_t len;

	(void)state;
	assert_non_null(huge);
	/* Quotes double when escaped: the cut must not split one. */
	memset(huge, '"', big);
	huge[big] = '\0';
	assert_int_equal(audit_append(a, &ev), 0);
	append_ok(a, "after", "the chain goes on");
	audit_close(a);
	assert_int_equal(verify_file(), 2);
	data = testutil_read(path, &len);
	line = line_at(data, 1);
	assert_true(strlen(line) + 1 <= AUDITCHAIN_LINE_MAX);
	assert_true(strlen(line) + 1 > AUDITCHAIN_LINE_MAX - 8);
	assert_non_null(strstr(line, "\\\"\\\"...\",\"method\":\"m\","));
	assert_non_null(strstr(line, "...\",\"request_id\":\"\"}"));
	free(line);
	free(data);
	free(huge);
}

static void test_reopen_continues(void **state)
{
	struct audit *a = open_ok();
	char *data, *line;

	(void)state;
	append_ok(a, "GenerateKey", "");
	append_ok(a, "GetPublicKey", "");
	audit_close(a);
	a = open_ok();
	append_ok(a, "DeleteKey", "");
	audit_close(a);
	assert_int_equal(verify_file(), 3);
	data = testutil_read(path, NULL);
	line = line_at(data, 3);
	assert_non_null(strstr(line, "\"seq\":3,"));
	assert_non_null(strstr(line, "\"method\":\"DeleteKey\""));
	free(line);
	free(data);
}

static void expect_open_refused(const char *want)
{
	struct audit *a = (struct audit *)1;
	char err[512] = "";

	assert_int_equal(audit_open(path, 0, &a, err, sizeof(err)), -1);
	assert_null(a);
	if (strstr(err, want) == NULL)
		fail_msg("'%s' lacks '%s'", err, want);
}

static void test_tampered_refused(void **state)
{
	struct audit *a = open_ok();
	char *data, *p;
	size_t len;

	(void)state;
	append_ok(a, "GenerateKey", "");
	append_ok(a, "SignCsr", "");
	append_ok(a, "DeleteKey", "");
	audit_close(a);
	data = testutil_read(path, &len);
	p = strstr(data, "SignCsr");
	p[0] = 'X';
	testutil_write(path, data, len);
	expect_open_refused("line 3: prev does not match the hash of line 2");
	/* A torn last line (a crash mid-write elsewhere) is refused too. */
	p[0] = 'S';
	testutil_write(path, data, len - 1);
	expect_open_refused("line 3: no newline");
	free(data);
}

static void test_mode(void **state)
{
	struct audit *a = open_ok();
	struct stat st;

	(void)state;
	audit_close(a);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(chmod(path, 0640), 0);
	expect_open_refused("chmod 600");
	assert_int_equal(chmod(path, 0604), 0);
	expect_open_refused("mode 0604");
}

static void test_symlink_refused(void **state)
{
	char target[160];

	(void)state;
	snprintf(target, sizeof(target), "%s/real", dir);
	assert_int_equal(symlink(target, path), 0);
	expect_open_refused("symbolic link");
	unlink(target);
}

static void test_second_opener_refused(void **state)
{
	struct audit *a = open_ok();

	(void)state;
	expect_open_refused("in use by another process");
	audit_close(a);
}

static void test_missing_directory(void **state)
{
	struct audit *a = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(audit_open("/nonexistent-signet/audit.log", 10, &a, err, sizeof(err)), -1);
	assert_null(a);
	assert_non_null(strstr(err, "/nonexistent-signet/audit.log"));
	audit_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent_appends, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_concurrent_appends_flushed, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_flushed_line_written_before_return, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_close_does_not_wait_out_interval, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_line_format, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_escaping, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_other_fields_escaped, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_long_fields_are_cut, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_reopen_continues, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_tampered_refused, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_mode, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_symlink_refused, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_second_opener_refused, make_dir, remove_dir),
		cmocka_unit_test(test_missing_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
