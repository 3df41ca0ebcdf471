/* client/gateway/log.c: what peers send, made safe for a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void test_escape(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(gw_log_escape("/scep/mdm", out, sizeof(out)), "/scep/mdm");
	assert_string_equal(gw_log_escape("a\nb\\c\x7f\xff", out, sizeof(out)),
			    "a\\x0ab\\x5cc\\x7f\\xff");
	assert_string_equal(
		gw_log_escape("0123456789012345678901234567890123456789", out, sizeof(out)),
		"0123456789012345678901234567...");
	assert_true(strlen(gw_log_escape("\n\n\n\n\n\n\n\n\n\n\n\n", out, sizeof(out))) < 32);
	assert_string_equal(gw_log_escape("abc", out, 4), "");
	assert_string_equal(gw_log_escape("", out, sizeof(out)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
