/* Unit tests for daemon/base/namecheck.c: the name rule as signetd's error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/namecheck.h"

static void test_accepts(void **state)
{
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(name_check("key names", "web-1", 64, &em), 0);
	assert_int_equal(em.err, 0);
	assert_int_equal(name_check("key names", "web-1", 64, NULL), 0);
}

static void test_refuses_in_one_wording(void **state)
{
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(name_check("CA names", "a b", 60, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(em.err, SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(em.text, "CA names are 1-60 characters of A-Z a-z 0-9 . _ -");
	assert_int_equal(name_check("key names", NULL, 64, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(em.text, "key names are 1-64 characters of A-Z a-z 0-9 . _ -");
	assert_int_equal(name_check("key names", "x", 64, NULL), 0);
	assert_int_equal(name_check("key names", "", 64, NULL), SIGNET_E_INVALID_ARGUMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses_in_one_wording),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
