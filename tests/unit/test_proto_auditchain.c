/* Unit tests for proto/auditchain.c: the audit log's hash chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditchain.h"

#define HEX   (2 * AUDITCHAIN_HASH_LEN + 1)
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

/* A log of n chained lines, "{"prev":"...","seq":i}\n" each, in a malloc'd string. */
static char *make_log(int n)
{
	char prev[HEX] = ZEROS, line[256];
	size_t cap = (size_t)n * sizeof(line) + 1, used = 0;
	char *log = malloc(cap);

	assert_non_null(log);
	log[0] = '\0';
	for (int i = 1; i <= n; i++) {
		int len = snprintf(line, sizeof(line), "{\"prev\":\"%s\",\"seq\":%d}", prev, i);

		auditchain_hash_hex(line, (size_t)len, prev);
		used += (size_t)snprintf(log + used, cap - used, "%s\n", line);
	}
	return log;
}

/* auditchain_verify over an in-memory file. */
static long verify(const char *data, size_t len, long *bad, char *err, size_t errlen,
		   char last[HEX])
{
	FILE *f = fmemopen((void *)data, len, "r");
	long n;

	assert_non_null(f);
	n = auditchain_verify(f, bad, err, errlen, last);
	fclose(f);
	return n;
}

static void expect_bad(const char *data, size_t len, long want_line, const char *want_reason)
{
	char err[256];
	long bad = -7;

	assert_int_equal(verify(data, len, &bad, err, sizeof(err), NULL), -1);
	assert_int_equal(bad, want_line);
	if (strstr(err, want_reason) == NULL)
		fail_msg("reason '%s' lacks '%s'", err, want_reason);
}

/* Line i (1-based) of log: its start and length without the newline. */
static const char *line_of(const char *log, int i, size_t *len)
{
	const char *p = log;

	for (int k = 1; k < i; k++)
		p = strchr(p, '\n') + 1;
	*len = (size_t)(strchr(p, '\n') - p);
	return p;
}

static void test_hash_known_answer(void **state)
{
	char hex[HEX];

	(void)state;
	auditchain_hash_hex("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	auditchain_hash_hex("", 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_prev(void **state)
{
	const char good[] = "{\"prev\":\"" ZEROS "\",\"seq\":1}";
	char out[HEX] = "";

	(void)state;
	assert_int_equal(auditchain_prev(good, strlen(good), out), 0);
	assert_string_equal(out, ZEROS);
	/* Upper case, a short hash, no comma, another first member, a cut line. */
	assert_int_equal(auditchain_prev("{\"prev\":\"" ZEROS "\"}", 76, out), -1);
	assert_int_equal(auditchain_prev("{\"prev\":\"00\",\"seq\":1}", 21, out), -1);
	assert_int_equal(auditchain_prev("{\"seq\":1,\"prev\":\"" ZEROS "\",", 82, out), -1);
	assert_int_equal(auditchain_prev(good, 40, out), -1);
	{
		char upper[sizeof(good)];

		memcpy(upper, good, sizeof(good));
		upper[9] = 'A';
		assert_int_equal(auditchain_prev(upper, strlen(upper), out), -1);
	}
}

static void test_verify_good(void **state)
{
	char *log = make_log(5);
	char err[256], last[HEX];
	size_t len;
	const char *l5 = line_of(log, 5, &len);
	char want[HEX];
	long bad = -7;

	(void)state;
	assert_int_equal(verify(log, strlen(log), &bad, err, sizeof(err), last), 5);
	assert_int_equal(bad, 0);
	auditchain_hash_hex(l5, len, want);
	assert_string_equal(last, want);
	free(log);
}

static void test_verify_empty(void **state)
{
	char err[256], last[HEX];
	long bad = -7;

	(void)state;
	assert_int_equal(verify("", 0, &bad, err, sizeof(err), last), 0);
	assert_string_equal(last, ZEROS);
}

static void test_edited_line(void **state)
{
	char *log = make_log(5);
	char *p = strstr(log, "\"seq\":3");

	(void)state;
	p[6] = '9';
	/* Line 3 still starts well; line 4's prev no longer matches it. */
	expect_bad(log, strlen(log), 4, "hash of line 3");
	free(log);
}

static void test_edited_last_line_prev(void **state)
{
	char *log = make_log(3);
	size_t len;
	char *l3 = (char *)line_of(log, 3, &len);

	(void)state;
	l3[9] = l3[9] == '0' ? '1' : '0';
	expect_bad(log, strlen(log), 3, "hash of line 2");
	free(log);
}

static void test_removed_line(void **state)
{
	char *log = make_log(5);
	size_t len2, len3;
	const char *l2 = line_of(log, 2, &len2);
	const char *l3 = line_of(log, 3, &len3);

	(void)state;
	memmove((char *)l2, l3, strlen(l3) + 1);
	expect_bad(log, strlen(log), 2, "hash of line 1");
	free(log);
}

static void test_removed_first_line(void **state)
{
	char *log = make_log(3);
	const char *rest = strchr(log, '\n') + 1;

	(void)state;
	expect_bad(rest, strlen(rest), 1, "64 zeros");
	free(log);
}

static void test_reordered_pair(void **state)
{
	char *log = make_log(4);
	size_t len2, len3;
	const char *l2 = line_of(log, 2, &len2);
	const char *l3 = line_of(log, 3, &len3);
	char swapped[1024];
	size_t head = (size_t)(l2 - log);

	(void)state;
	memcpy(swapped, log, head);
	memcpy(swapped + head, l3, len3 + 1);
	memcpy(swapped + head + len3 + 1, l2, len2 + 1);
	strcpy(swapped + head + len2 + len3 + 2, l3 + len3 + 1);
	assert_int_equal(strlen(swapped), strlen(log));
	expect_bad(swapped, strlen(swapped), 2, "hash of line 1");
	free(log);
}

static void test_no_final_newline(void **state)
{
	char *log = make_log(3);

	(void)state;
	expect_bad(log, strlen(log) - 1, 3, "no newline");
	free(log);
}

static void test_too_long(void **state)
{
	static const char head[] = "{\"prev\":\"" ZEROS "\",\"m\":\"";
	size_t len = AUDITCHAIN_LINE_MAX + 10;
	char *log = malloc(len + 1);
	char err[256];
	long bad;

	(void)state;
	assert_non_null(log);
	memcpy(log, head, sizeof(head) - 1);
	memset(log + sizeof(head) - 1, 'x', len - (sizeof(head) - 1));
	log[len - 1] = '\n';
	expect_bad(log, len, 1, "longer than");
	/* The longest line allowed, newline included, is exactly LINE_MAX. */
	log[AUDITCHAIN_LINE_MAX - 1] = '\n';
	assert_int_equal(verify(log, AUDITCHAIN_LINE_MAX, &bad, err, sizeof(err), NULL), 1);
	log[AUDITCHAIN_LINE_MAX - 1] = 'x';
	log[AUDITCHAIN_LINE_MAX] = '\n';
	expect_bad(log, AUDITCHAIN_LINE_MAX + 1, 1, "longer than");
	free(log);
}

static void test_garbage(void **state)
{
	static const char garbage[] = "hello\nworld\n";
	static const char binary[] = "{\"prev\":\"\x00\x01\x02\"}\n";
	char *log = make_log(2);
	char mixed[1024];

	(void)state;
	expect_bad(garbage, strlen(garbage), 1, "not a chain line");
	expect_bad(binary, sizeof(binary) - 1, 1, "not a chain line");
	expect_bad("\n", 1, 1, "not a chain line");
	snprintf(mixed, sizeof(mixed), "%sgarbage\n", log);
	expect_bad(mixed, strlen(mixed), 3, "not a chain line");
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_known_answer),
		cmocka_unit_test(test_prev),
		cmocka_unit_test(test_verify_good),
		cmocka_unit_test(test_verify_empty),
		cmocka_unit_test(test_edited_line),
		cmocka_unit_test(test_edited_last_line_prev),
		cmocka_unit_test(test_removed_line),
		cmocka_unit_test(test_removed_first_line),
		cmocka_unit_test(test_reordered_pair),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
