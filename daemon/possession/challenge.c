/*
 * The challenge table. Entries are found by id in a chained hash table and
 * ordered by expiry in a min-heap (TTLs differ, so creation order is not
 * expiry order). When an entry's expiry passes, a sweep moves it from the heap
 * to a FIFO of expired entries, uncounting it if unused; it stays there a
 * grace period, so a late answer is told "expired" and a late replay "already
 * used", and is freed after it, or at once when the table is full and room is
 * needed. Each entry is moved and freed once, so sweeping is amortised
 * O(log n) per entry whatever the fill. Outstanding counts are kept per caller
 * in a second hash table, changed as entries are created, used and expire.
 */
#include "possession/challenge.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hex.h"
#include "possession/challenge_db.h"

struct hlink {
	struct hlink *next;
	uint64_t hash;
};

struct htab {
	struct hlink **b;
	size_t nb; /* a power of two */
	size_t n;
};

struct caller_slot {
	struct hlink hl; /* first: the table's links are cast back to slots */
	size_t entries;	 /* the slot is freed with the last entry naming it */
	unsigned outstanding;
	char name[CHALLENGE_CALLER_MAX + 1];
};

struct entry {
	struct hlink hl; /* first, as above */
	struct entry *qnext;
	struct caller_slot *caller;
	uint8_t raw_id[CHALLENGE_ID_LEN];
	int used;
	int expired; /* in the FIFO rather than the heap */
	struct challenge c;
};

struct challenge_table {
	pthread_mutex_t mu;
	struct challenge_limits lim;
	uint64_t key[3]; /* so bucket indices do not follow the raw bits of ids */
	struct htab ids, callers;
	struct entry **heap; /* unexpired entries, soonest expiry first */
	size_t nheap, capheap;
	struct entry *old_head, *old_tail; /* expired entries, oldest first */
	size_t nentries, outstanding;
	struct ledger *shared; /* when set, the challenges are there, not here */
};

/* --- hashing ------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t id_hash(const struct challenge_table *t, const uint8_t *raw)
{
	uint64_t lo, hi;

	memcpy(&lo, raw, sizeof(lo));
	memcpy(&hi, raw + sizeof(lo), sizeof(hi));
	return mix64(lo ^ t->key[0]) ^ mix64(hi ^ t->key[1]);
}

static uint64_t name_hash(const struct challenge_table *t, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ t->key[2]; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return mix64(h);
}

static int htab_init(struct htab *h)
{
	h->nb = 16;
	h->n = 0;
	h->b = calloc(h->nb, sizeof(*h->b));
	return h->b != NULL ? 0 : SIGNET_E_NOMEM;
}

static struct hlink **htab_head(const struct htab *h, uint64_t hash)
{
	return &h->b[hash & (h->nb - 1)];
}

/* Doubling keeps chains short at amortised O(1); if memory is short the
 * chains just grow longer, so a failure here is no failure of the caller. */
static void htab_grow(struct htab *h)
{
	size_t nb = h->nb * 2;
	struct hlink **b, *l, *next;

	if (h->n < h->nb || nb > SIZE_MAX / sizeof(*b) || (b = calloc(nb, sizeof(*b))) == NULL)
		return;
	for (size_t i = 0; i < h->nb; i++)
		for (l = h->b[i]; l != NULL; l = next) {
			next = l->next;
			l->next = b[l->hash & (nb - 1)];
			b[l->hash & (nb - 1)] = l;
		}
	free(h->b);
	h->b = b;
	h->nb = nb;
}

static void htab_insert(struct htab *h, struct hlink *l)
{
	struct hlink **head;

	htab_grow(h);
	head = htab_head(h, l->hash);
	l->next = *head;
	*head = l;
	h->n++;
}

static void htab_remove(struct htab *h, struct hlink *l)
{
	struct hlink **p;

	for (p = htab_head(h, l->hash); *p != NULL; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			h->n--;
			return;
		}
}

/* --- callers ------------------------------------------------------------ */

static struct caller_slot *caller_find(const struct challenge_table *t, const char *name)
{
	uint64_t hash = name_hash(t, name);

	for (struct hlink *l = *htab_head(&t->callers, hash); l != NULL; l = l->next)
		if (l->hash == hash && strcmp(((struct caller_slot *)l)->name, name) == 0)
			return (struct caller_slot *)l;
	return NULL;
}

/* The caller's slot, made if new; the entry that names it is counted. */
static struct caller_slot *caller_ref(struct challenge_table *t, const char *name)
{
	struct caller_slot *s = caller_find(t, name);

	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return NULL;
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->hl.hash = name_hash(t, name);
		htab_insert(&t->callers, &s->hl);
	}
	s->entries++;
	return s;
}

static void caller_unref(struct challenge_table *t, struct caller_slot *s)
{
	if (--s->entries > 0)
		return;
	htab_remove(&t->callers, &s->hl);
	free(s);
}

/* --- entries, heap and FIFO --------------------------------------------- */

static void entry_uncount(struct challenge_table *t, struct entry *e)
{
	if (e->used || e->expired)
		return;
	e->caller->outstanding--;
	t->outstanding--;
}

static void entry_wipe(struct entry *e)
{
	if (e == NULL)
		return;
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
}

/* Forget an entry that is in neither the heap nor the FIFO. */
static void entry_free(struct challenge_table *t, struct entry *e)
{
	htab_remove(&t->ids, &e->hl);
	caller_unref(t, e->caller);
	t->nentries--;
	entry_wipe(e);
}

static int heap_reserve(struct challenge_table *t)
{
	size_t cap = t->capheap != 0 ? t->capheap * 2 : 64;
	struct entry **h;

	if (t->nheap < t->capheap)
		return 0;
	if (cap > SIZE_MAX / sizeof(*h) || (h = realloc(t->heap, cap * sizeof(*h))) == NULL)
		return SIGNET_E_NOMEM;
	t->heap = h;
	t->capheap = cap;
	return 0;
}

static void heap_push(struct challenge_table *t, struct entry *e)
{
	size_t i = t->nheap++, parent;

	for (; i > 0; i = parent) {
		parent = (i - 1) / 2;
		if (t->heap[parent]->c.expires <= e->c.expires)
			break;
		t->heap[i] = t->heap[parent];
	}
	t->heap[i] = e;
}

static struct entry *heap_pop(struct challenge_table *t)
{
	struct entry *top = t->heap[0], *last = t->heap[--t->nheap];
	size_t i = 0, child;

	while ((child = 2 * i + 1) < t->nheap) {
		if (child + 1 < t->nheap &&
		    t->heap[child + 1]->c.expires < t->heap[child]->c.expires)
			child++;
		if (last->c.expires <= t->heap[child]->c.expires)
			break;
		t->heap[i] = t->heap[child];
		i = child;
	}
	if (t->nheap > 0)
		t->heap[i] = last;
	return top;
}

static struct entry *fifo_pop(struct challenge_table *t)
{
	struct entry *e = t->old_head;

	if ((t->old_head = e->qnext) == NULL)
		t->old_tail = NULL;
	return e;
}

static void fifo_push(struct challenge_table *t, struct entry *e)
{
	e->qnext = NULL;
	if (t->old_tail != NULL)
		t->old_tail->qnext = e;
	else
		t->old_head = e;
	t->old_tail = e;
}

static int64_t add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Move what has expired to the FIFO, and free what has been there long
 * enough. The FIFO is in expiry order unless the clock went back; then an
 * entry is freed a little late, which only costs memory within max_total. */
static void sweep(struct challenge_table *t, int64_t now)
{
	struct entry *e;

	while (t->nheap > 0 && t->heap[0]->c.expires <= now) {
		e = heap_pop(t);
		entry_uncount(t, e);
		e->expired = 1;
		fifo_push(t, e);
	}
	while (t->old_head != NULL &&
	       add_sat(t->old_head->c.expires, CHALLENGE_EXPIRED_GRACE) <= now)
		entry_free(t, fifo_pop(t));
}

/* Is there room for one more entry? Expired ones make way for it. */
static int make_room(struct challenge_table *t)
{
	if (t->nentries < t->lim.max_total)
		return 1;
	if (t->old_head == NULL)
		return 0;
	entry_free(t, fifo_pop(t));
	return 1;
}

static struct entry *entry_find(const struct challenge_table *t, const uint8_t *raw)
{
	struct hlink *l;

	/* Every entry on the chain is compared, in constant time: ids are
	 * bearer tokens, and a short cut would time how much of one matched. */
	for (l = *htab_head(&t->ids, id_hash(t, raw)); l != NULL; l = l->next)
		if (CRYPTO_memcmp(((struct entry *)l)->raw_id, raw, CHALLENGE_ID_LEN) == 0)
			return (struct entry *)l;
	return NULL;
}

/* --- ids ---------------------------------------------------------------- */

/* An id in its one written form: lower case. */
static void id_encode(const uint8_t *raw, char *hex)
{
	hex_encode(raw, CHALLENGE_ID_LEN, hex, 2 * CHALLENGE_ID_LEN + 1, HEX_LOWER, '\0');
}

/* Exactly 2 * CHALLENGE_ID_LEN hex digits, of either case; 0 or -1. */
static int id_decode(const char *hex, uint8_t *raw)
{
	if (hex == NULL || strnlen(hex, 2 * CHALLENGE_ID_LEN + 1) != 2 * CHALLENGE_ID_LEN)
		return -1;
	return hex_decode(hex, 2 * CHALLENGE_ID_LEN, raw, CHALLENGE_ID_LEN);
}

/* --- the table ---------------------------------------------------------- */

int challenge_table_new(const struct challenge_limits *limits, struct challenge_table **out)
{
	struct challenge_table *t = NULL;
	int r = SIGNET_E_INVALID_ARGUMENT;

	*out = NULL;
	if (limits == NULL || limits->max_per_caller == 0 || limits->max_total == 0)
		goto out;
	r = SIGNET_E_NOMEM;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto out;
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t);
		t = NULL;
		goto out;
	}
	t->lim = *limits;
	if ((r = htab_init(&t->ids)) != 0 || (r = htab_init(&t->callers)) != 0)
		goto out;
	if (RAND_bytes((unsigned char *)t->key, sizeof(t->key)) != 1) {
		r = SIGNET_E_INTERNAL;
		goto out;
	}
	*out = t;
	t = NULL; /* transferred */
	r = 0;
out:
	challenge_table_free(t);
	return r;
}

int challenge_table_new_shared(const struct challenge_limits *limits, struct ledger *ledger,
			       struct challenge_table **out)
{
	int r = ledger != NULL ? challenge_table_new(limits, out) : SIGNET_E_INVALID_ARGUMENT;

	if (r == 0)
		(*out)->shared = ledger;
	return r;
}

void challenge_table_free(struct challenge_table *t)
{
	struct hlink *l, *next;

	if (t == NULL)
		return;
	while (t->nheap > 0)
		entry_wipe(t->heap[--t->nheap]);
	while (t->old_head != NULL)
		entry_wipe(fifo_pop(t));
	for (size_t i = 0; t->callers.b != NULL && i < t->callers.nb; i++)
		for (l = t->callers.b[i]; l != NULL; l = next) {
			next = l->next;
			free(l);
		}
	free(t->callers.b);
	free(t->ids.b);
	free(t->heap);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static int check_create_args(const char *caller, const char *device_id, const uint8_t *spki_sha256,
			     const uint8_t *id, const uint8_t *nonce, int64_t ttl_seconds,
			     struct errmsg *em)
{
	int by_device = device_id != NULL && device_id[0] != '\0';

	if (caller == NULL || strnlen(caller, CHALLENGE_CALLER_MAX + 1) > CHALLENGE_CALLER_MAX)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a challenge needs a caller name of at most %d bytes",
				  CHALLENGE_CALLER_MAX);
	if (by_device == (spki_sha256 != NULL))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a challenge is bound to a device ID or to a key fingerprint: "
				  "exactly one of them");
	if (by_device && strnlen(device_id, CHALLENGE_DEVICE_ID_MAX + 1) > CHALLENGE_DEVICE_ID_MAX)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "device ID longer than %d bytes",
				  CHALLENGE_DEVICE_ID_MAX);
	if (id == NULL || nonce == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a challenge needs an id and a nonce");
	if (ttl_seconds <= 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a challenge's lifetime must be positive, not %" PRId64 " s",
				  ttl_seconds);
	return 0;
}

/* Limits are checked before anything is allocated. Room is made first, as
 * it may free the caller's slot. */
static int check_limits(struct challenge_table *t, const char *caller, struct errmsg *em)
{
	int room = make_room(t);
	struct caller_slot *s = caller_find(t, caller);

	if (s != NULL && s->outstanding >= t->lim.max_per_caller)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED,
				  "caller '%s' has %u outstanding challenges, the limit", caller,
				  s->outstanding);
	if (!room)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED,
				  "signetd holds %zu challenges, the limit for all callers "
				  "(used ones count until they expire)",
				  t->nentries);
	return 0;
}

static void challenge_fill(struct challenge *c, const char *caller, const char *device_id,
			   const uint8_t *spki_sha256, const uint8_t *id, const uint8_t *nonce,
			   int64_t now, int64_t ttl_seconds)
{
	memset(c, 0, sizeof(*c));
	id_encode(id, c->id);
	memcpy(c->nonce, nonce, CHALLENGE_NONCE_LEN);
	if (spki_sha256 != NULL) {
		memcpy(c->spki_sha256, spki_sha256, sizeof(c->spki_sha256));
		c->has_fingerprint = 1;
	} else {
		snprintf(c->device_id, sizeof(c->device_id), "%s", device_id);
	}
	snprintf(c->caller, sizeof(c->caller), "%s", caller);
	c->created = now;
	c->expires = add_sat(now, ttl_seconds);
}

static struct entry *entry_new(const char *caller, const char *device_id,
			       const uint8_t *spki_sha256, const uint8_t *id, const uint8_t *nonce,
			       int64_t now, int64_t ttl_seconds)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	memcpy(e->raw_id, id, CHALLENGE_ID_LEN);
	challenge_fill(&e->c, caller, device_id, spki_sha256, id, nonce, now, ttl_seconds);
	return e;
}

static int insert_locked(struct challenge_table *t, const char *caller, const char *device_id,
			 const uint8_t *spki_sha256, const uint8_t *id, const uint8_t *nonce,
			 int64_t now, int64_t ttl_seconds, struct challenge *out, struct errmsg *em)
{
	struct entry *e = NULL;
	char hex[2 * CHALLENGE_ID_LEN + 1];
	int r;

	sweep(t, now);
	if (entry_find(t, id) != NULL) {
		id_encode(id, hex);
		return errmsg_set(em, SIGNET_E_INTERNAL, "challenge id %s is already in use", hex);
	}
	if ((r = check_limits(t, caller, em)) != 0)
		return r;
	if (heap_reserve(t) != 0 ||
	    (e = entry_new(caller, device_id, spki_sha256, id, nonce, now, ttl_seconds)) == NULL ||
	    (e->caller = caller_ref(t, caller)) == NULL) {
		entry_wipe(e);
		return errmsg_set(em, SIGNET_E_NOMEM, "out of memory for a challenge");
	}
	e->hl.hash = id_hash(t, id);
	htab_insert(&t->ids, &e->hl);
	heap_push(t, e);
	t->nentries++;
	t->outstanding++;
	e->caller->outstanding++;
	if (out != NULL)
		*out = e->c;
	return 0;
}

int challenge_create(struct challenge_table *t, const char *caller, const char *device_id,
		     const uint8_t *spki_sha256, const uint8_t *id, const uint8_t *nonce,
		     int64_t now, int64_t ttl_seconds, struct challenge *out, struct errmsg *em)
{
	int r;

	if ((r = check_create_args(caller, device_id, spki_sha256, id, nonce, ttl_seconds, em)) !=
	    0)
		return r;
	if (t->shared != NULL) {
		struct challenge c;

		challenge_fill(&c, caller, device_id, spki_sha256, id, nonce, now, ttl_seconds);
		if ((r = challenge_db_insert(t->shared, &t->lim, id, &c, now, em)) == 0 &&
		    out != NULL)
			*out = c;
		OPENSSL_cleanse(&c, sizeof(c));
		return r;
	}
	pthread_mutex_lock(&t->mu);
	r = insert_locked(t, caller, device_id, spki_sha256, id, nonce, now, ttl_seconds, out, em);
	pthread_mutex_unlock(&t->mu);
	return r;
}

static int take_locked(struct challenge_table *t, const char *caller, const uint8_t *raw,
		       const char *hex, int64_t now, struct challenge *out, struct errmsg *em)
{
	struct entry *e;

	sweep(t, now);
	/* Another caller's challenge is answered as unknown, and left alone: one
	 * caller must not learn of, or spend, another's. */
	if ((e = entry_find(t, raw)) == NULL || strcmp(e->c.caller, caller) != 0)
		return errmsg_set(em, SIGNET_E_NOT_FOUND, "no challenge %s", hex);
	if (e->used)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "challenge %s was already used: a replay", hex);
	if (e->expired || now >= e->c.expires)
		/* Unsigned: the gap fits even where int64_t subtraction would not. */
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "challenge %s expired %" PRIu64 " s ago", hex,
				  now >= e->c.expires ? (uint64_t)now - (uint64_t)e->c.expires : 0);
	entry_uncount(t, e);
	e->used = 1;
	if (out != NULL)
		*out = e->c;
	/* Only the id, caller and expiry are needed to refuse a replay. */
	OPENSSL_cleanse(e->c.nonce, sizeof(e->c.nonce));
	return 0;
}

int challenge_take(struct challenge_table *t, const char *caller, const char *id, int64_t now,
		   struct challenge *out, struct errmsg *em)
{
	uint8_t raw[CHALLENGE_ID_LEN];
	char hex[2 * CHALLENGE_ID_LEN + 1];
	int r;

	/* Junk is not echoed: it may be long or unprintable. */
	if (id_decode(id, raw) != 0)
		return errmsg_set(em, SIGNET_E_NOT_FOUND,
				  "no such challenge: an id is %d hex digits",
				  2 * CHALLENGE_ID_LEN);
	if (caller == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a challenge is taken by a caller");
	id_encode(raw, hex);
	if (t->shared != NULL)
		return challenge_db_take(t->shared, caller, raw, hex, now, out, em);
	pthread_mutex_lock(&t->mu);
	r = take_locked(t, caller, raw, hex, now, out, em);
	pthread_mutex_unlock(&t->mu);
	return r;
}

size_t challenge_outstanding(struct challenge_table *t, const char *caller, int64_t now)
{
	struct caller_slot *s;
	size_t n;

	if (t->shared != NULL)
		return challenge_db_outstanding(t->shared, caller, now);
	pthread_mutex_lock(&t->mu);
	sweep(t, now);
	if (caller == NULL)
		n = t->outstanding;
	else
		n = (s = caller_find(t, caller)) != NULL ? s->outstanding : 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}
