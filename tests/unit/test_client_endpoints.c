/* The endpoint list of signet_connect(): "ipc:///a.sock,ipc:///b.sock" into its addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "endpoints.h"
#include <signet/signet.h>

static struct endpoints eps;
static char err[256];

static int parse(const char *list)
{
	err[0] = '\0';
	return endpoints_parse(list, &eps, err, sizeof(err));
}

static void test_one_endpoint(void **state)
{
	(void)state;
	assert_int_equal(parse("ipc:///run/signet/signetd.sock"), 0);
	assert_int_equal(eps.n, 1);
	assert_string_equal(eps.addr[0], "ipc:///run/signet/signetd.sock");
}

static void test_list_with_blanks(void **state)
{
	(void)state;
	assert_int_equal(parse("ipc:///a.sock,tcp://127.0.0.1:7411 ,\t ipc:///c.sock"), 0);
	assert_int_equal(eps.n, 3);
	assert_string_equal(eps.addr[0], "ipc:///a.sock");
	assert_string_equal(eps.addr[1], "tcp://127.0.0.1:7411");
	assert_string_equal(eps.addr[2], "ipc:///c.sock");
}

static void test_empty_elements_refused(void **state)
{
	static const char *const bad[] = {
		"", ",", "ipc:///a,", ",ipc:///a", "ipc:///a,,ipc:///b", "ipc:///a, ,ipc:///b",
		" "};
	size_t i;

	(void)state;
	assert_int_equal(parse(NULL), SIGNET_E_INVALID_ARGUMENT);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i]), SIGNET_E_INVALID_ARGUMENT);
		assert_true(strstr(err, "endpoint") != NULL);
	}
}

static void test_duplicate_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("ipc:///a.sock, ipc:///a.sock"), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "named twice"));
}

static void test_limits(void **state)
{
	char list[ENDPOINT_LIST_MAX + 16], addr[ENDPOINT_MAX + 1];
	size_t i, off = 0;

	(void)state;
	/* ENDPOINTS_MAX fit, one more does not */
	for (i = 0; i < ENDPOINTS_MAX; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%sipc:///s%zu",
					i > 0 ? "," : "", i);
	assert_int_equal(parse(list), 0);
	assert_int_equal(eps.n, ENDPOINTS_MAX);
	snprintf(list + off, sizeof(list) - off, ",ipc:///one-more");
	assert_int_equal(parse(list), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "more than"));

	/* one address of ENDPOINT_MAX - 1 bytes fits, ENDPOINT_MAX does not */
	memset(addr, 'x', sizeof(addr));
	memcpy(addr, "ipc:///", 7);
	addr[ENDPOINT_MAX - 1] = '\0';
	assert_int_equal(parse(addr), 0);
	addr[ENDPOINT_MAX - 1] = 'x';
	addr[ENDPOINT_MAX] = '\0';
	assert_int_equal(parse(addr), SIGNET_E_INVALID_ARGUMENT);

	/* a list over the whole limit, whatever its elements */
	memset(list, 'a', ENDPOINT_LIST_MAX);
	list[ENDPOINT_LIST_MAX] = '\0';
	assert_int_equal(parse(list), SIGNET_E_INVALID_ARGUMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_endpoint),
		cmocka_unit_test(test_list_with_blanks),
		cmocka_unit_test(test_empty_elements_refused),
		cmocka_unit_test(test_duplicate_refused),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
