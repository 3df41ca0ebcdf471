/*
 * Milliseconds on CLOCK_MONOTONIC, for waits and back-offs that must not
 * move when the wall clock is set (the ledger's reconnects, the CA store's
 * polls).
 */
#ifndef SIGNETD_MONOTIME_H
#define SIGNETD_MONOTIME_H

#include <stdint.h>
#include <time.h>

static inline int64_t monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
