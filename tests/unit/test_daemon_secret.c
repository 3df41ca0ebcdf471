/* Unit tests for daemon/base/secret.c: reading PIN and other secret files. */
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

#include "base/secret.h"
#include "testutil.h"

/* What every test PIN contains, so a leak into a message is easy to spot. */
#define MARK "s3cr3t"

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "secret");
	testutil_join(path, sizeof(path), dir, "pin");
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	testutil_rm_rf(dir);
	return 0;
}

static void expect_pin(const char *content, size_t len, const char *want, size_t want_len)
{
	struct secret s;
	char err[256] = "";

	testutil_write_mode(path, content, len, 0600);
	if (secret_read_file(path, "PIN file", &s, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(s.len, want_len);
	assert_memory_equal(s.buf, want, want_len);
	assert_int_equal(s.buf[s.len], '\0');
	secret_free(&s);
	assert_null(s.buf);
	assert_int_equal(s.len, 0);
}

static void test_reads_and_strips_one_line_end(void **state)
{
	(void)state;
	expect_pin(MARK, 6, MARK, 6);
	expect_pin(MARK "\n", 7, MARK, 6);
	expect_pin(MARK "\r\n", 8, MARK, 6);
	/* blanks are part of the PIN */
	expect_pin(" " MARK " \n", 9, " " MARK " ", 8);
}

/* The longest PIN is accepted with or without its line end, one byte more is not. */
static void test_length_limit(void **state)
{
	char pin[SECRET_MAX_LEN + 3], err[256];
	struct secret s;

	(void)state;
	memset(pin, 'x', sizeof(pin));
	expect_pin(pin, SECRET_MAX_LEN, pin, SECRET_MAX_LEN);
	memcpy(pin + SECRET_MAX_LEN, "\n", 1);
	expect_pin(pin, SECRET_MAX_LEN + 1, pin, SECRET_MAX_LEN);
	memcpy(pin + SECRET_MAX_LEN, "\r\n", 2);
	expect_pin(pin, SECRET_MAX_LEN + 2, pin, SECRET_MAX_LEN);
	memset(pin, 'x', sizeof(pin));
	for (size_t len = SECRET_MAX_LEN + 1; len <= sizeof(pin); len++) {
		testutil_write_mode(path, pin, len, 0600);
		assert_int_equal(secret_read_file(path, "PIN file", &s, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "longer than 256 bytes"));
	}
	/* a PIN of the maximum length followed by more than a line end */
	memcpy(pin + SECRET_MAX_LEN, "\r\n", 2);
	pin[SECRET_MAX_LEN + 2] = 'y';
	testutil_write_mode(path, pin, sizeof(pin), 0600);
	assert_int_equal(secret_read_file(path, "PIN file", &s, err, sizeof(err)), -1);
}

static void test_big_file_refused(void **state)
{
	static char big[100000];
	struct secret s;
	char err[256];

	(void)state;
	memset(big, 'x', sizeof(big));
	testutil_write_mode(path, big, sizeof(big), 0600);
	assert_int_equal(secret_read_file(path, "PIN file", &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
}

static void expect_refused(const char *content, size_t len, mode_t mode, const char *why)
{
	struct secret s;
	char err[256] = "";

	testutil_write_mode(path, content, len, mode);
	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(secret_read_file(path, "PIN file", &s, err, sizeof(err)), -1);
	assert_null(s.buf);
	assert_int_equal(s.len, 0);
	if (strstr(err, why) == NULL)
		fail_msg("message '%s' lacks '%s'", err, why);
	if (strstr(err, MARK) != NULL)
		fail_msg("the secret reached the message '%s'", err);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused(MARK, 6, 0644, "mode 0644");
	expect_refused(MARK, 6, 0644, "chmod 600");
	expect_refused(MARK, 6, 0640, "chmod 600");
	expect_refused(MARK, 6, 0660, "chmod 600");
	expect_refused(MARK, 6, 0602, "chmod 600");
	expect_refused(MARK, 6, 0604, "chmod 600");
	expect_refused("", 0, 0600, "empty");
	expect_refused("\n", 1, 0600, "empty");
	expect_refused("\r\n", 2, 0600, "empty");
	expect_refused(MARK "\0" MARK, 13, 0600, "NUL");
	expect_refused("\0", 1, 0600, "NUL");
	/* one line end is ignored; any other line break would fail a login and cost a try */
	expect_refused(MARK "\n\n", 8, 0600, "line break");
	expect_refused(MARK "\r", 7, 0600, "line break");
	expect_refused(MARK "\r\r\n", 9, 0600, "line break");
	expect_refused("12\n34", 5, 0600, "line break");
}

static void test_stricter_modes_accepted(void **state)
{
	static const mode_t modes[] = {0400, 0600, 0700};
	struct secret s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		testutil_write_mode(path, MARK, 6, modes[i]);
		if (secret_read_file(path, "PIN file", &s, err, sizeof(err)) != 0)
			fail_msg("mode %04o refused: %s", (unsigned)modes[i], err);
		secret_free(&s);
	}
}

static void expect_path_refused(const char *p, const char *why)
{
	struct secret s;
	char err[256] = "";

	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(secret_read_file(p, "secret file", &s, err, sizeof(err)), -1);
	assert_null(s.buf);
	if (strstr(err, why) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", p, err, why);
	assert_non_null(strstr(err, p));
	/* the message names the file as the caller calls it */
	assert_non_null(strstr(err, "secret file"));
}

static void test_not_a_plain_file(void **state)
{
	char link[160], fifo[160];

	(void)state;
	expect_path_refused(dir, "not a regular file");
	expect_path_refused("/dev/null", "not a regular file");
	/* a FIFO is refused at once, not waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_path_refused(fifo, "not a regular file");
	unlink(fifo);
	/* a symlink is not followed, even to a good file */
	testutil_write_mode(path, MARK, 6, 0600);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(path, link), 0);
	expect_path_refused(link, "symbolic link");
	unlink(link);
}

static void test_missing_file(void **state)
{
	char missing[160];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/absent", dir);
	expect_path_refused(missing, "No such file");
}

/* A copy lives on its own page: the original may be wiped and freed first. */
static void test_dup(void **state)
{
	struct secret s, copy, empty = {0};
	char err[256];

	(void)state;
	testutil_write_mode(path, MARK, 6, 0600);
	assert_int_equal(secret_read_file(path, "PIN file", &s, err, sizeof(err)), 0);
	assert_int_equal(secret_dup(&s, &copy, err, sizeof(err)), 0);
	assert_ptr_not_equal(copy.buf, s.buf);
	secret_free(&s);
	assert_int_equal(copy.len, 6);
	assert_string_equal(copy.buf, MARK);
	secret_free(&copy);
	assert_null(copy.buf);
	assert_int_equal(secret_dup(&empty, &copy, err, sizeof(err)), -1);
	assert_null(copy.buf);
}

static void test_free_is_safe(void **state)
{
	struct secret zero = {0};
	struct secret s;
	char err[256];

	(void)state;
	secret_free(NULL);
	secret_free(&zero);
	testutil_write_mode(path, MARK, 6, 0600);
	assert_int_equal(secret_read_file(path, "PIN file", &s, err, sizeof(err)), 0);
	secret_free(&s);
	secret_free(&s); /* twice */
	assert_null(s.buf);
}

static void expect_read_as(uid_t user, const char *why)
{
	struct secret s;
	char err[256] = "";
	int r = secret_read_file_as(path, "PIN file", user, &s, err, sizeof(err));

	secret_free(&s);
	if (why == NULL && r != 0)
		fail_msg("refused: %s", err);
	if (why != NULL && (r != -1 || strstr(err, why) == NULL))
		fail_msg("returned %d with '%s', wanted a refusal saying '%s'", r, err, why);
}

/* Only root can give a file away; the CI runs the tests as root. */
#define OTHER_UID 12345
#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (geteuid() != 0) {                                                              \
			print_message("not root: cannot make files of other owners; skipped\n");   \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* The daemon's user, root, or the effective user may own the file; no one else. */
static void test_owner(void **state)
{
	(void)state;
	NEED_ROOT();
	testutil_write_mode(path, MARK, 6, 0600);
	expect_read_as(OTHER_UID, NULL); /* root's */
	assert_int_equal(chown(path, OTHER_UID, OTHER_UID), 0);
	expect_read_as(OTHER_UID, NULL);
	expect_read_as(OTHER_UID + 1, "owned by uid 12345, not by the daemon's user (uid 12346)");
	expect_read_as(0, "chown it");
}

/* systemd's credentials: root's, 0400 or 0440 (an ACL's mask), in $CREDENTIALS_DIRECTORY. */
static void test_systemd_credential(void **state)
{
	(void)state;
	NEED_ROOT();
	testutil_write_mode(path, MARK, 6, 0440);
	unsetenv("CREDENTIALS_DIRECTORY");
	expect_read_as(OTHER_UID, "chmod 600");
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", "/nonexistent", 1), 0);
	expect_read_as(OTHER_UID, "chmod 600");
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	expect_read_as(OTHER_UID, NULL);
	testutil_write_mode(path, MARK, 6, 0400);
	expect_read_as(OTHER_UID, NULL);
	/* anything more than read access is not what systemd writes */
	testutil_write_mode(path, MARK, 6, 0640);
	expect_read_as(OTHER_UID, "chmod 600");
	testutil_write_mode(path, MARK, 6, 0444);
	expect_read_as(OTHER_UID, "chmod 600");
	/* nor is a file of another owner */
	testutil_write_mode(path, MARK, 6, 0440);
	assert_int_equal(chown(path, OTHER_UID + 1, 0), 0);
	expect_read_as(OTHER_UID, "owned by uid");
	unsetenv("CREDENTIALS_DIRECTORY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_strips_one_line_end),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_big_file_refused),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_stricter_modes_accepted),
		cmocka_unit_test(test_not_a_plain_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_free_is_safe),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_systemd_credential),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
