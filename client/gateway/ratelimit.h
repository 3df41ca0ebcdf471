/*
 * Per-source rate limit: a token bucket per client address, refilled at
 * per_minute/60 a second up to per_minute, in a table of bounded size.
 * Thread-safe.
 */
#ifndef SIGNET_GATEWAY_RATELIMIT_H
#define SIGNET_GATEWAY_RATELIMIT_H

#include <stddef.h>

#define RATELIMIT_KEY_MAX 64 /* an IPv6 address in text, with room to spare */

struct ratelimit;

/*
 * A limiter allowing `per_minute` requests a minute from each source (0: no
 * limit), remembering at most `capacity` sources (at least 1). When the table
 * is full, a new source takes the place of the one seen longest ago: an
 * attacker with many addresses gets a fresh bucket for each, which the
 * connection limit bounds anyway. NULL when out of memory.
 */
struct ratelimit *ratelimit_new(unsigned per_minute, size_t capacity);
void ratelimit_free(struct ratelimit *rl);

/*
 * Take one token from `source`'s bucket at time `now` (seconds, monotonic):
 * 1 when there was one, 0 when the source is over its rate. A key longer
 * than RATELIMIT_KEY_MAX-1 is cut.
 */
int ratelimit_allow(struct ratelimit *rl, const char *source, double now);

/* How many sources the table holds now (for the tests). */
size_t ratelimit_sources(struct ratelimit *rl);

#endif
