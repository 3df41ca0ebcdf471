/* Unit tests for proto/reason.c: the one table of revocation reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <signet/signet.h>

#include "reason.h"

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(reason_name(SIGNET_REASON_UNSPECIFIED), "unspecified");
	assert_string_equal(reason_name(SIGNET_REASON_KEY_COMPROMISE), "keyCompromise");
	assert_string_equal(reason_name(SIGNET_REASON_CA_COMPROMISE), "cACompromise");
	assert_string_equal(reason_name(SIGNET_REASON_REMOVE_FROM_CRL), "removeFromCRL");
	assert_string_equal(reason_name(SIGNET_REASON_AA_COMPROMISE), "aACompromise");
	assert_null(reason_name(7));
	assert_null(reason_name(11));
	assert_null(reason_name(-1));
}

static void test_from_name(void **state)
{
	int code = -1;

	(void)state;
	assert_int_equal(reason_from_name("superseded", &code), 0);
	assert_int_equal(code, SIGNET_REASON_SUPERSEDED);
	/* case ignored, as OpenSSL's -crl_reason */
	assert_int_equal(reason_from_name("CACompromise", &code), 0);
	assert_int_equal(code, SIGNET_REASON_CA_COMPROMISE);
	assert_int_equal(reason_from_name("REMOVEFROMCRL", &code), 0);
	assert_int_equal(code, SIGNET_REASON_REMOVE_FROM_CRL);
	assert_int_equal(reason_from_name("stolen", &code), -1);
	assert_int_equal(reason_from_name("", &code), -1);
	assert_int_equal(reason_from_name(NULL, &code), -1);
	assert_int_equal(reason_from_name("superseded", NULL), -1);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i <= 10; i++) {
		int code = -1;

		if (reason_name(i) == NULL)
			continue;
		assert_int_equal(reason_from_name(reason_name(i), &code), 0);
		assert_int_equal(code, i);
	}
}

/* What revokes: every named reason but removeFromCRL (delta CRLs only). */
static void test_valid(void **state)
{
	(void)state;
	for (int i = 0; i <= 10; i++)
		assert_int_equal(reason_valid(i), i != 7 && i != SIGNET_REASON_REMOVE_FROM_CRL);
	assert_false(reason_valid(-1));
	assert_false(reason_valid(11));
}

static void test_list(void **state)
{
	char out[256];

	(void)state;
	assert_string_equal(reason_list("|", out, sizeof(out)),
			    "keyCompromise|cACompromise|affiliationChanged|superseded|"
			    "cessationOfOperation|certificateHold|privilegeWithdrawn|aACompromise|"
			    "unspecified");
	assert_string_equal(reason_list(", ", out, 30), "keyCompromise, cACompromise, ");
	assert_int_equal(strlen(out), 29);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),	   cmocka_unit_test(test_from_name),
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_valid),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
