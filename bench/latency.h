/*
 * Latency histograms for the benchmarks: one per thread, no locks, merged at
 * the end. Buckets are 1 us wide up to LATENCY_MAX_US; slower samples land
 * in the last bucket (a p99 that reads LATENCY_MAX_US means "at least").
 */
#ifndef SIGNET_BENCH_LATENCY_H
#define SIGNET_BENCH_LATENCY_H

#include <stdint.h>
#include <time.h>

#define LATENCY_MAX_US 1000000u

struct latency {
	uint32_t *bucket; /* LATENCY_MAX_US + 1 counters */
	uint64_t n;
};

/* 0, or -1 when out of memory. */
int latency_init(struct latency *l);
void latency_free(struct latency *l);
void latency_add(struct latency *l, uint64_t us);
void latency_merge(struct latency *into, const struct latency *from);
/* The q-quantile (0 < q <= 1) in microseconds; 0 with no samples. */
uint64_t latency_quantile(const struct latency *l, double q);

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
