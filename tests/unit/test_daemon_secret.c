/* Unit tests for daemon/secret.c: reading PIN files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "secret.h"

static char path[64];

static void write_pin(const char *content, size_t len, mode_t mode)
{
	int fd;

	strcpy(path, "/tmp/signet-pin-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	chmod(path, mode);
}

static void test_reads_and_strips(void **state)
{
	static const char *const files[] = {"1234", "1234\n", "1234\r\n"};
	struct secret s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		write_pin(files[i], strlen(files[i]), 0600);
		assert_int_equal(secret_read_file(path, &s, err, sizeof(err)), 0);
		assert_string_equal(s.buf, "1234");
		assert_int_equal(s.len, 4);
		secret_free(&s);
		assert_null(s.buf);
		secret_free(&s); /* twice is safe */
		unlink(path);
	}
}

static void expect_refused(const char *content, size_t len, mode_t mode, const char *why)
{
	struct secret s;
	char err[256] = "";

	write_pin(content, len, mode);
	assert_int_equal(secret_read_file(path, &s, err, sizeof(err)), -1);
	assert_null(s.buf);
	if (strstr(err, why) == NULL)
		fail_msg("message '%s' lacks '%s'", err, why);
	if (len > 0 && len < 32)
		assert_null(strstr(err, content)); /* the secret never reaches a message */
	unlink(path);
}

static void test_refusals(void **state)
{
	char big[SECRET_MAX_LEN + 2];
	struct secret s;
	char err[256];

	(void)state;
	expect_refused("secretpin", 9, 0644, "chmod 600");
	expect_refused("secretpin", 9, 0660, "chmod 600");
	expect_refused("", 0, 0600, "empty");
	expect_refused("\n", 1, 0600, "empty");
	expect_refused("ab\0cd", 5, 0600, "NUL");
	memset(big, 'x', sizeof(big));
	expect_refused(big, sizeof(big), 0600, "longer than");
	assert_int_equal(secret_read_file("/nonexistent/pin", &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/pin"));
	assert_int_equal(secret_read_file("/tmp", &s, err, sizeof(err)), -1);
	/* a symlink is not followed */
	write_pin("1234", 4, 0600);
	unlink("/tmp/signet-pin-link");
	assert_int_equal(symlink(path, "/tmp/signet-pin-link"), 0);
	assert_int_equal(secret_read_file("/tmp/signet-pin-link", &s, err, sizeof(err)), -1);
	unlink("/tmp/signet-pin-link");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_strips),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
