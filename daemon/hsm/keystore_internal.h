/*
 * The layout of struct keystore, for hsm/ (and unit tests of it) alone: the
 * cache of looked-up keys, a hash table by name under a read-write lock.
 */
#ifndef SIGNETD_KEYSTORE_INTERNAL_H
#define SIGNETD_KEYSTORE_INTERNAL_H

#include <pthread.h>

#include "hsm/keystore.h"

#define KEYSTORE_BUCKETS  1024
#define KEYSTORE_LIST_MAX 100000 /* objects ListKeys looks at */

struct keystore {
	struct token *token;
	pthread_rwlock_t lock;	 /* guards buckets and epoch */
	pthread_mutex_t admin;	 /* serialises generate/delete so names stay unique */
	unsigned long epoch;	 /* bumped by every eviction, so stale loads are not cached */
	unsigned long token_gen; /* the token recovery the cached handles belong to */
	struct key *buckets[KEYSTORE_BUCKETS];
};

#endif
