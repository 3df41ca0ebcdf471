/* Unit tests for proto/namerule.c: the one rule for names, and its words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "namerule.h"

static void test_valid(void **state)
{
	(void)state;
	assert_true(name_valid("web-1", 64));
	assert_true(name_valid("ca.root_2", 64));
	assert_true(name_valid("A.Z-a_z.0-9", 64));
	assert_true(name_valid("x", 1));
}

static void test_invalid(void **state)
{
	(void)state;
	assert_false(name_valid(NULL, 64));
	assert_false(name_valid("", 64));
	assert_false(name_valid("no spaces", 64));
	assert_false(name_valid("a/b", 64));
	assert_false(name_valid("a:b", 64));
	assert_false(name_valid("caf\xc3\xa9", 64));
	assert_false(name_valid("tab\t", 64));
	assert_false(name_valid("xy", 1));
}

static void test_length_bound(void **state)
{
	char name[66];

	(void)state;
	memset(name, 'n', sizeof(name));
	name[64] = '\0';
	assert_true(name_valid(name, 64));
	assert_false(name_valid(name, 63));
	name[64] = 'n';
	name[65] = '\0';
	assert_false(name_valid(name, 64));
}

static void test_rule_wording(void **state)
{
	char out[NAME_RULE_MAX];

	(void)state;
	/* the wording integration tests and docs/cli.md quote */
	assert_string_equal(name_rule("verification codes", 64, out, sizeof(out)),
			    "verification codes are 1-64 characters of A-Z a-z 0-9 . _ -");
	assert_string_equal(name_rule("CA names", 60, out, sizeof(out)),
			    "CA names are 1-60 characters of A-Z a-z 0-9 . _ -");
	/* truncated, never overrun */
	assert_ptr_equal(name_rule("key names", 64, out, 10), out);
	assert_string_equal(out, "key names");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_length_bound),
		cmocka_unit_test(test_rule_wording),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
