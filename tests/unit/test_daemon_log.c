/* Unit tests for daemon/base/log.c: level names, line format, and log-line forging. */
#include <fcntl.h>
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

#include "base/log.h"

static void test_level_names(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_from_name("debug", &l), 0);
	assert_int_equal(l, LOG_LVL_DEBUG);
	assert_int_equal(log_level_from_name("info", &l), 0);
	assert_int_equal(l, LOG_LVL_INFO);
	assert_int_equal(log_level_from_name("warn", &l), 0);
	assert_int_equal(l, LOG_LVL_WARN);
	l = LOG_LVL_DEBUG;
	assert_int_equal(log_level_from_name("warning", &l), 0);
	assert_int_equal(l, LOG_LVL_WARN);
	assert_int_equal(log_level_from_name("error", &l), 0);
	assert_int_equal(l, LOG_LVL_ERROR);
	assert_int_equal(log_level_from_name("verbose", &l), -1);
	assert_int_equal(log_level_from_name("INFO", &l), -1);
	assert_int_equal(log_level_from_name("", &l), -1);
	assert_int_equal(log_level_from_name(NULL, &l), -1);
}

static void test_default_level_and_bounds(void **state)
{
	(void)state;
	assert_int_equal(log_get_level(), LOG_LVL_INFO);
	log_set_level(LOG_LVL_DEBUG);
	assert_int_equal(log_get_level(), LOG_LVL_DEBUG);
	log_set_level((enum log_level)42); /* ignored: it would index past the level table */
	assert_int_equal(log_get_level(), LOG_LVL_DEBUG);
	log_set_level(LOG_LVL_INFO);
}

static void test_sanitize_escapes_control_characters(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	n = log_sanitize(out, sizeof(out), "key\nsignetd[1]: error: fake");
	assert_string_equal(out, "key\\x0asignetd[1]: error: fake");
	assert_int_equal(n, strlen(out));
	log_sanitize(out, sizeof(out), "a\rb\tc\x1b[31md\x7f");
	assert_string_equal(out, "a\\x0db\\x09c\\x1b[31md\\x7f");
}

/* Bytes >= 0x80 are escaped too: a request's bytes are not known to be UTF-8,
 * and a terminal or log viewer may read some of them as C1 controls (0x9b is
 * CSI) or as invisible or look-alike characters. */
static void test_sanitize_escapes_high_bytes(void **state)
{
	char out[64];

	(void)state;
	log_sanitize(out, sizeof(out), "caf\xc3\xa9");
	assert_string_equal(out, "caf\\xc3\\xa9");
	log_sanitize(out, sizeof(out),
		     "a\x9b"
		     "31mb\x80\xff");
	assert_string_equal(out, "a\\x9b31mb\\x80\\xff");
	/* U+2028 LINE SEPARATOR, a line break to some viewers */
	log_sanitize(out, sizeof(out), "x\xe2\x80\xa8y");
	assert_string_equal(out, "x\\xe2\\x80\\xa8y");
	/* printable ASCII stays as it is, backslash included */
	log_sanitize(out, sizeof(out), "~ !\\z");
	assert_string_equal(out, "~ !\\z");
}

static void test_sanitize_is_bounded(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'Z', sizeof(out));
	/* an escape is never cut in half: "\x0a" does not fit twice in 7 bytes */
	assert_int_equal(log_sanitize(out, sizeof(out), "\n\n\n"), 4);
	assert_string_equal(out, "\\x0a");
	assert_int_equal(log_sanitize(out, sizeof(out), "abcdefghij"), 7);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(log_sanitize(out, 1, "abc"), 0);
	assert_string_equal(out, "");
	out[0] = 'Z';
	assert_int_equal(log_sanitize(out, 0, "abc"), 0);
	assert_int_equal(out[0], 'Z');
}

static void test_format_plain(void **state)
{
	char line[128];
	size_t n;

	(void)state;
	n = log_format_line(line, sizeof(line), LOG_LVL_WARN, false, 1234, "disk\nfull");
	assert_string_equal(line, "signetd[1234]: warning: disk\\x0afull\n");
	assert_int_equal(n, strlen(line));
	log_format_line(line, sizeof(line), LOG_LVL_ERROR, false, 7, "x");
	assert_string_equal(line, "signetd[7]: error: x\n");
	log_format_line(line, sizeof(line), LOG_LVL_DEBUG, false, 7, "");
	assert_string_equal(line, "signetd[7]: debug: \n");
}

static void test_format_journal(void **state)
{
	static const struct {
		enum log_level level;
		const char *line;
	} want[] = {
		{LOG_LVL_ERROR, "<3>m\n"},
		{LOG_LVL_WARN, "<4>m\n"},
		{LOG_LVL_INFO, "<6>m\n"},
		{LOG_LVL_DEBUG, "<7>m\n"},
	};
	char line[64];

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		log_format_line(line, sizeof(line), want[i].level, true, 1234, "m");
		assert_string_equal(line, want[i].line);
	}
	/* journald reads a "<N>" at the start of each line: a request must not forge one */
	log_format_line(line, sizeof(line), LOG_LVL_DEBUG, true, 1, "a\n<3>forged");
	assert_string_equal(line, "<7>a\\x0a<3>forged\n");
}

/* Truncated lines still end in exactly one newline. */
static void test_format_truncates_to_one_line(void **state)
{
	char msg[300], line[32];
	size_t n;

	(void)state;
	memset(msg, '\n', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	n = log_format_line(line, sizeof(line), LOG_LVL_INFO, false, 99999, msg);
	assert_true(n < sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_int_equal(line[n - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + n - 1);
	n = log_format_line(line, 2, LOG_LVL_INFO, false, 1, "abc");
	assert_int_equal(n, 1);
	assert_string_equal(line, "\n");
	assert_int_equal(log_format_line(line, 1, LOG_LVL_INFO, false, 1, "abc"), 0);
	assert_int_equal(log_format_line(line, sizeof(line), (enum log_level)9, false, 1, "a"), 0);
}

/* Run log_msg() with stderr sent to a file; return what it wrote. */
static char *capture(void (*emit)(void))
{
	char path[] = "/tmp/signet-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	static char out[4096];
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	emit();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	return out;
}

static void emit_each_level(void)
{
	log_error("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("d");
}

static void test_log_msg_filters_by_level(void **state)
{
	char want[256];
	const char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	out = capture(emit_each_level);
	snprintf(want, sizeof(want),
		 "signetd[%ld]: error: e 1\nsignetd[%ld]: warning: w\n"
		 "signetd[%ld]: info: i\n",
		 (long)getpid(), (long)getpid(), (long)getpid());
	assert_string_equal(out, want);
	log_set_level(LOG_LVL_ERROR);
	out = capture(emit_each_level);
	snprintf(want, sizeof(want), "signetd[%ld]: error: e 1\n", (long)getpid());
	assert_string_equal(out, want);
	log_set_level(LOG_LVL_INFO);
}

static void emit_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s\n%s", big, big);
}

static void test_log_msg_cuts_long_messages(void **state)
{
	const char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	out = capture(emit_long);
	assert_true(strlen(out) < 1200);
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_non_null(strstr(out, "xxx...\n"));
}

static void emit_info(void)
{
	log_info("hello");
}

/* Point JOURNAL_STREAM at stderr's device and inode plus `ino_offset`. */
static void set_journal_stream(unsigned long long ino_offset)
{
	struct stat st;
	char env[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + ino_offset);
	setenv("JOURNAL_STREAM", env, 1);
}

static void emit_under_journal(void)
{
	set_journal_stream(0);
	log_info("hello");
	unsetenv("JOURNAL_STREAM");
}

/* Same device, another inode: a stream the child inherited the variable for. */
static void emit_under_other_stream(void)
{
	set_journal_stream(1);
	log_info("hello");
	unsetenv("JOURNAL_STREAM");
}

/* The journal prefix only when JOURNAL_STREAM names our stderr (a child's may not). */
static void test_log_msg_journal_detection(void **state)
{
	char want[64];

	(void)state;
	assert_string_equal(capture(emit_under_journal), "<6>hello\n");
	snprintf(want, sizeof(want), "signetd[%ld]: info: hello\n", (long)getpid());
	assert_string_equal(capture(emit_under_other_stream), want);
	setenv("JOURNAL_STREAM", "1:1", 1);
	assert_string_equal(capture(emit_info), want);
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_string_equal(capture(emit_info), want);
	unsetenv("JOURNAL_STREAM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_default_level_and_bounds),
		cmocka_unit_test(test_sanitize_escapes_control_characters),
		cmocka_unit_test(test_sanitize_escapes_high_bytes),
		cmocka_unit_test(test_sanitize_is_bounded),
		cmocka_unit_test(test_format_plain),
		cmocka_unit_test(test_format_journal),
		cmocka_unit_test(test_format_truncates_to_one_line),
		cmocka_unit_test(test_log_msg_filters_by_level),
		cmocka_unit_test(test_log_msg_cuts_long_messages),
		cmocka_unit_test(test_log_msg_journal_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
