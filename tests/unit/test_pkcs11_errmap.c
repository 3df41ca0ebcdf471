/* client/pkcs11/errmap.c: signetd's answers as CKR codes, one row each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "p11.h"

static void test_rows(void **state)
{
	static const struct {
		int err;
		CK_RV rv;
	} rows[] = {
		{SIGNET_OK, CKR_OK},
		{SIGNET_E_UNAVAILABLE, CKR_DEVICE_ERROR},
		{SIGNET_E_TRANSPORT, CKR_DEVICE_ERROR},
		{SIGNET_E_DEADLINE_EXCEEDED, CKR_DEVICE_ERROR},
		{SIGNET_E_PROTOCOL, CKR_DEVICE_ERROR},
		{SIGNET_E_INTERNAL, CKR_DEVICE_ERROR},
		{SIGNET_E_PERMISSION_DENIED, CKR_KEY_FUNCTION_NOT_PERMITTED},
		{SIGNET_E_UNAUTHENTICATED, CKR_USER_NOT_LOGGED_IN},
		{SIGNET_E_NOT_FOUND, CKR_KEY_HANDLE_INVALID},
		{SIGNET_E_INVALID_ARGUMENT, CKR_DATA_INVALID},
		{SIGNET_E_FAILED_PRECONDITION, CKR_KEY_TYPE_INCONSISTENT},
		{SIGNET_E_UNIMPLEMENTED, CKR_MECHANISM_INVALID},
		{SIGNET_E_RESOURCE_EXHAUSTED, CKR_DEVICE_MEMORY},
		{SIGNET_E_NOMEM, CKR_HOST_MEMORY},
		{SIGNET_E_CANCELLED, CKR_FUNCTION_CANCELED},
		{-999, CKR_DEVICE_ERROR}, /* a code from a newer libsignet */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(p11_errmap(rows[i].err), rows[i].rv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_rows)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
