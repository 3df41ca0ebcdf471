/* Unit tests for proto/wire.c: the one mapping between errors and wire statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

static void test_status_round_trip(void **state)
{
	(void)state;
	for (int code = 0; code <= 16; code++)
		assert_int_equal(wire_status_from_err(wire_err_from_status(code)), code);
	assert_int_equal(wire_status_from_err(SIGNET_E_NOT_FOUND),
			 SIGNET__V1__STATUS_CODE__NOT_FOUND);
	assert_int_equal(wire_err_from_status(SIGNET__V1__STATUS_CODE__UNAUTHENTICATED),
			 SIGNET_E_UNAUTHENTICATED);
}

static void test_local_errors_are_internal_on_the_wire(void **state)
{
	(void)state;
	assert_int_equal(wire_status_from_err(SIGNET_E_NOMEM), SIGNET__V1__STATUS_CODE__INTERNAL);
	assert_int_equal(wire_status_from_err(SIGNET_E_TRANSPORT),
			 SIGNET__V1__STATUS_CODE__INTERNAL);
	assert_int_equal(wire_err_from_status(99), SIGNET_E_UNKNOWN);
	assert_int_equal(wire_err_from_status(-1), SIGNET_E_UNKNOWN);
}

static void test_names(void **state)
{
	enum signet_key_alg alg;

	(void)state;
	assert_string_equal(signet_status_name(SIGNET_E_INVALID_ARGUMENT), "INVALID_ARGUMENT");
	assert_string_equal(signet_status_name(SIGNET_E_TRANSPORT), "TRANSPORT");
	assert_string_equal(signet_status_name(12345), "UNKNOWN");
	assert_string_equal(signet_strerror(SIGNET_E_NOT_FOUND), "not found");
	assert_string_equal(signet_key_alg_name(SIGNET_KEY_RSA_3072), "rsa3072");
	assert_null(signet_key_alg_name(SIGNET_KEY_UNSPECIFIED));
	assert_int_equal(signet_key_alg_from_name("p384", &alg), 0);
	assert_int_equal(alg, SIGNET_KEY_EC_P384);
	assert_int_equal(signet_key_alg_from_name("ed25519", &alg), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_local_errors_are_internal_on_the_wire),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
