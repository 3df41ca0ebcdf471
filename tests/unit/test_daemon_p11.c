/* Unit tests for daemon/hsm/p11.c: how PKCS#11 failures become project
 * errors. A failure of the token itself is never INTERNAL, so that clients
 * fail over (UNAVAILABLE) instead of giving up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hsm/p11.h"

static void test_token_failures_unavailable(void **state)
{
	static const CK_RV codes[] = {CKR_GENERAL_ERROR,     CKR_FUNCTION_FAILED,
				      CKR_DEVICE_ERROR,	     CKR_DEVICE_REMOVED,
				      CKR_TOKEN_NOT_PRESENT, CKR_SESSION_HANDLE_INVALID};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		assert_int_equal(p11_err(codes[i]), SIGNET_E_UNAVAILABLE);
	(void)p11_take_failure();
}

static void test_fail_names_the_code(void **state)
{
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(p11_fail(&em, CKR_GENERAL_ERROR, "C_GenerateKeyPair"),
			 SIGNET_E_UNAVAILABLE);
	assert_string_equal(em.text, "C_GenerateKeyPair: CKR_GENERAL_ERROR");
	assert_int_equal(p11_take_failure(), CKR_GENERAL_ERROR);
	assert_int_equal(p11_take_failure(), CKR_OK);
}

static void test_our_own_mistakes_internal(void **state)
{
	(void)state;
	assert_int_equal(p11_err(CKR_ARGUMENTS_BAD), SIGNET_E_INTERNAL);
	assert_int_equal(p11_err(CKR_TEMPLATE_INCONSISTENT), SIGNET_E_INTERNAL);
	assert_int_equal(p11_err(CKR_OK), SIGNET_OK);
	(void)p11_take_failure();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_failures_unavailable),
		cmocka_unit_test(test_fail_names_the_code),
		cmocka_unit_test(test_our_own_mistakes_internal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
