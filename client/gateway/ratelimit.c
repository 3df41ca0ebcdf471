/* Token buckets per source address, in a small table scanned linearly. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
	char key[RATELIMIT_KEY_MAX];
	double tokens;
	double last; /* when tokens was computed: also the eviction order */
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate; /* tokens a second */
	double burst;
	size_t capacity, used;
	struct bucket *buckets;
};

struct ratelimit *ratelimit_new(unsigned per_minute, size_t capacity)
{
	struct ratelimit *rl;

	if (capacity == 0)
		capacity = 1;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->buckets = calloc(capacity, sizeof(*rl->buckets))) == NULL) {
		free(rl);
		return NULL;
	}
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = per_minute / 60.0;
	rl->burst = per_minute;
	rl->capacity = capacity;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->buckets);
	free(rl);
}

/* The source's bucket, or a new full one in a free or the stalest slot. */
static struct bucket *ratelimit_find(struct ratelimit *rl, const char *key, double now)
{
	struct bucket *b, *oldest = &rl->buckets[0];
	size_t i;

	for (i = 0; i < rl->used; i++) {
		b = &rl->buckets[i];
		if (strcmp(b->key, key) == 0)
			return b;
		if (b->last < oldest->last)
			oldest = b;
	}
	b = rl->used < rl->capacity ? &rl->buckets[rl->used++] : oldest;
	memset(b, 0, sizeof(*b));
	memcpy(b->key, key, strlen(key) + 1);
	b->tokens = rl->burst;
	b->last = now;
	return b;
}

int ratelimit_allow(struct ratelimit *rl, const char *source, double now)
{
	char key[RATELIMIT_KEY_MAX];
	struct bucket *b;
	int ok;

	if (rl->burst == 0)
		return 1;
	/* cut, not refused: the table's key is a bounded copy */
	memset(key, 0, sizeof(key));
	strncpy(key, source, sizeof(key) - 1);
	pthread_mutex_lock(&rl->lock);
	b = ratelimit_find(rl, key, now);
	if (now > b->last) {
		b->tokens += (now - b->last) * rl->rate;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
	}
	b->last = now;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	pthread_mutex_unlock(&rl->lock);
	return ok;
}

size_t ratelimit_sources(struct ratelimit *rl)
{
	size_t n;

	pthread_mutex_lock(&rl->lock);
	n = rl->used;
	pthread_mutex_unlock(&rl->lock);
	return n;
}
