/* Unit tests for daemon/log.c: level names and log-line forging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void test_level_names(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_from_name("debug", &l), 0);
	assert_int_equal(l, LOG_LVL_DEBUG);
	assert_int_equal(log_level_from_name("warn", &l), 0);
	assert_int_equal(l, LOG_LVL_WARN);
	assert_int_equal(log_level_from_name("warning", &l), 0);
	assert_int_equal(log_level_from_name("error", &l), 0);
	assert_int_equal(l, LOG_LVL_ERROR);
	assert_int_equal(log_level_from_name("verbose", &l), -1);
	assert_int_equal(log_level_from_name(NULL, &l), -1);
}

static void test_newlines_cannot_forge_lines(void **state)
{
	char out[64];

	(void)state;
	log_sanitize(out, sizeof(out), "key\nsignetd: error: fake");
	assert_null(strchr(out, '\n'));
	assert_string_equal(out, "key\\x0asignetd: error: fake");
	/* bounded: never writes past the buffer */
	log_sanitize(out, 8, "\n\n\n\n\n\n");
	assert_true(strlen(out) < 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_newlines_cannot_forge_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
