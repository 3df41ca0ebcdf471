#include "latency.h"

#include <stdlib.h>

int latency_init(struct latency *l)
{
	l->n = 0;
	l->bucket = calloc(LATENCY_MAX_US + 1, sizeof(*l->bucket));
	return l->bucket != NULL ? 0 : -1;
}

void latency_free(struct latency *l)
{
	free(l->bucket);
	l->bucket = NULL;
	l->n = 0;
}

void latency_add(struct latency *l, uint64_t us)
{
	l->bucket[us < LATENCY_MAX_US ? us : LATENCY_MAX_US]++;
	l->n++;
}

void latency_merge(struct latency *into, const struct latency *from)
{
	for (uint32_t i = 0; i <= LATENCY_MAX_US; i++)
		into->bucket[i] += from->bucket[i];
	into->n += from->n;
}

uint64_t latency_quantile(const struct latency *l, double q)
{
	/* the smallest latency that at least q of the samples do not exceed */
	uint64_t want = (uint64_t)((double)l->n * q + 0.999999), seen = 0;

	if (l->n == 0)
		return 0;
	if (want == 0)
		want = 1;
	for (uint32_t i = 0; i <= LATENCY_MAX_US; i++) {
		seen += l->bucket[i];
		if (seen >= want)
			return i;
	}
	return LATENCY_MAX_US;
}
