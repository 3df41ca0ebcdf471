/* client/gateway/status.c and http_check_length(): HTTP statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signet/signet.h>

#include "http.h"
#include "status.h"

static void test_mapping(void **state)
{
	(void)state;
	assert_int_equal(status_http(SIGNET_OK), 200);
	assert_int_equal(status_http(SIGNET_E_INVALID_ARGUMENT), 400);
	assert_int_equal(status_http(SIGNET_E_NOT_FOUND), 404);
	assert_int_equal(status_http(SIGNET_E_PERMISSION_DENIED), 403);
	assert_int_equal(status_http(SIGNET_E_UNAUTHENTICATED), 403);
	assert_int_equal(status_http(SIGNET_E_RESOURCE_EXHAUSTED), 429);
	assert_int_equal(status_http(SIGNET_E_UNAVAILABLE), 503);
	assert_int_equal(status_http(SIGNET_E_DEADLINE_EXCEEDED), 503);
	assert_int_equal(status_http(SIGNET_E_TRANSPORT), 503);
	assert_int_equal(status_http(SIGNET_E_INTERNAL), 500);
	assert_int_equal(status_http(SIGNET_E_PROTOCOL), 500);
	assert_int_equal(status_http(SIGNET_E_FAILED_PRECONDITION), 500);
	assert_int_equal(status_http(-12345), 500);
}

static void test_content_length(void **state)
{
	(void)state;
	assert_int_equal(http_check_length(NULL, 100), 0);
	assert_int_equal(http_check_length("100", 100), 0);
	assert_int_equal(http_check_length("0", 100), 0);
	assert_int_equal(http_check_length("101", 100), 413);
	assert_int_equal(http_check_length("99999999999999999999999", 100), 400);
	assert_int_equal(http_check_length("-1", 100), 400);
	assert_int_equal(http_check_length("12x", 100), 400);
	assert_int_equal(http_check_length("", 100), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_content_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
