/* client/gateway/ratelimit.c: token buckets per source, a bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

static void test_burst_then_refill(void **state)
{
	struct ratelimit *rl = ratelimit_new(60, 16); /* one a second, bursts of 60 */
	int i;

	(void)state;
	assert_non_null(rl);
	for (i = 0; i < 60; i++)
		assert_true(ratelimit_allow(rl, "192.0.2.1", 100.0));
	assert_false(ratelimit_allow(rl, "192.0.2.1", 100.0));
	/* another source has its own bucket */
	assert_true(ratelimit_allow(rl, "192.0.2.2", 100.0));
	assert_false(ratelimit_allow(rl, "192.0.2.1", 100.5));
	assert_true(ratelimit_allow(rl, "192.0.2.1", 101.0));
	assert_false(ratelimit_allow(rl, "192.0.2.1", 101.0));
	/* a long silence refills up to the burst, not beyond */
	for (i = 0; i < 60; i++)
		assert_true(ratelimit_allow(rl, "192.0.2.1", 10000.0));
	assert_false(ratelimit_allow(rl, "192.0.2.1", 10000.0));
	ratelimit_free(rl);
}

static void test_unlimited(void **state)
{
	struct ratelimit *rl = ratelimit_new(0, 1);
	int i;

	(void)state;
	for (i = 0; i < 10000; i++)
		assert_true(ratelimit_allow(rl, "192.0.2.1", 1.0));
	assert_int_equal(ratelimit_sources(rl), 0);
	ratelimit_free(rl);
}

/* A full table forgets the source seen longest ago, and never grows. */
static void test_bounded(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 4);
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "198.51.100.%d", i);
		assert_true(ratelimit_allow(rl, key, 10.0 + i));
	}
	assert_false(ratelimit_allow(rl, "198.51.100.1", 14.0));
	assert_int_equal(ratelimit_sources(rl), 4);
	for (i = 100; i < 200; i++) {
		snprintf(key, sizeof(key), "203.0.113.%d", i);
		assert_true(ratelimit_allow(rl, key, 20.0 + i));
	}
	assert_int_equal(ratelimit_sources(rl), 4);
	ratelimit_free(rl);
}

static void test_long_key(void **state)
{
	struct ratelimit *rl = ratelimit_new(1, 4);
	char key[300];

	(void)state;
	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_true(ratelimit_allow(rl, key, 1.0));
	assert_false(ratelimit_allow(rl, key, 1.0));
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_long_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
