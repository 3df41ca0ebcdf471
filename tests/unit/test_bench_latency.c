/* The benchmarks' percentiles: what the report prints must be the quantile asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "latency.h"

static void test_empty_is_zero(void **state)
{
	struct latency l;

	(void)state;
	assert_int_equal(latency_init(&l), 0);
	assert_int_equal(latency_quantile(&l, 0.5), 0);
	assert_int_equal(latency_quantile(&l, 0.99), 0);
	latency_free(&l);
}

/* 1..100 us once each: p50 is 50, p99 is 99, p100 is 100. */
static void test_quantiles_of_a_ramp(void **state)
{
	struct latency l;

	(void)state;
	assert_int_equal(latency_init(&l), 0);
	for (uint64_t us = 100; us >= 1; us--)
		latency_add(&l, us);
	assert_int_equal(l.n, 100);
	assert_int_equal(latency_quantile(&l, 0.50), 50);
	assert_int_equal(latency_quantile(&l, 0.99), 99);
	assert_int_equal(latency_quantile(&l, 1.0), 100);
	assert_int_equal(latency_quantile(&l, 0.001), 1);
	latency_free(&l);
}

/* A slow tail is not hidden: one sample in a hundred at 5 ms makes p99 5 ms. */
static void test_tail_and_overflow(void **state)
{
	struct latency l;

	(void)state;
	assert_int_equal(latency_init(&l), 0);
	for (int i = 0; i < 98; i++)
		latency_add(&l, 10);
	latency_add(&l, 5000);
	latency_add(&l, 50ull * LATENCY_MAX_US); /* beyond the last bucket: counted there */
	assert_int_equal(latency_quantile(&l, 0.50), 10);
	assert_int_equal(latency_quantile(&l, 0.99), 5000);
	assert_int_equal(latency_quantile(&l, 1.0), LATENCY_MAX_US);
	latency_free(&l);
}

/* Per-thread histograms merged give the quantiles of all samples. */
static void test_merge(void **state)
{
	struct latency a, b;

	(void)state;
	assert_int_equal(latency_init(&a), 0);
	assert_int_equal(latency_init(&b), 0);
	for (int i = 0; i < 50; i++) {
		latency_add(&a, 100);
		latency_add(&b, 300);
	}
	latency_merge(&a, &b);
	assert_int_equal(a.n, 100);
	assert_int_equal(latency_quantile(&a, 0.50), 100);
	assert_int_equal(latency_quantile(&a, 0.51), 300);
	latency_free(&a);
	latency_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_zero),
		cmocka_unit_test(test_quantiles_of_a_ramp),
		cmocka_unit_test(test_tail_and_overflow),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
