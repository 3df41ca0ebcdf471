#include "access/auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "authmac.h"
#include "base/secret.h"

#define NONCE_MIN 16
#define NONCE_MAX 64

/*
 * The replay memory is one table of REPLAY_SLOTS fixed-size slots, allocated
 * once: its memory is bounded whatever the request rate, no request allocates,
 * and a request is refused only when AUTH_REPLAY_MAX nonces are live at once.
 * At most AUTH_REPLAY_MAX slots are ever occupied (live or expired), so the
 * table is under half full and linear probes stay short.
 */
#define REPLAY_SLOTS (1u << 21)
_Static_assert(REPLAY_SLOTS >= 2u * AUTH_REPLAY_MAX, "replay table at most half full");
_Static_assert((REPLAY_SLOTS & (REPLAY_SLOTS - 1)) == 0, "a power of two, for masking");
/* Entries are kept this long past their expiry: another worker may be
 * checking a credential against a clock read a little before ours. */
#define REPLAY_GRACE_MS 1000

struct auth_client {
	const struct client_def *def;
	struct secret secret; /* the key bytes (not hex), in a locked page */
	atomic_uint in_flight;
	int64_t newest_ms; /* the latest credential timestamp accepted; under replay_lock */
	uint64_t name_key; /* keyed hash of the name: replay keys outlive a client's index */
};

/*
 * A (client, nonce) seen, as its keyed hash (key 0: empty), and when its
 * credential was stamped (48 bits of milliseconds) with the client's index
 * (16 bits) beside it: an entry is dead once the window has passed its
 * stamp, or once its client's newest stamp is more than the reorder
 * allowance past it (a replay of it would be refused as too old).
 */
struct slot {
	uint64_t key;
	uint64_t stamp_client;
};
_Static_assert(CONFIG_MAX_CLIENTS < 0xffff, "a client index fits in 16 bits");
/* The client index of an entry carried over a reload whose client is gone:
 * it dies with the window only (no client's newest stamp applies). */
#define CLIENT_GONE 0xffffu

struct auth {
	struct auth_client *clients;
	size_t n;
	int allow_anonymous;
	int64_t window_ms;
	int64_t reorder_ms;
	int64_t started_ms; /* credentials stamped before are refused; 0: none */
	unsigned max_total;
	atomic_uint in_flight_total;
	pthread_mutex_t replay_lock;
	struct slot *slots;	/* REPLAY_SLOTS, calloc'd: untouched pages cost no RSS */
	size_t used;		/* slots not empty, live or expired; <= AUTH_REPLAY_MAX */
	int64_t swept_ms;	/* when expired slots were last emptied */
	int64_t sweep_every_ms; /* at most one sweep per this, once the table is full */
	uint64_t seed[2];	/* random per process: the SipHash key */
};

static int client_secret_load(struct auth_client *c, char *err, size_t errlen)
{
	uint8_t key[AUTHMAC_SECRET_MAX];
	const char *why = NULL;
	char reason[256];
	size_t n = 0;

	if (secret_read_file(c->def->secret_file, "secret file", &c->secret, reason,
			     sizeof(reason)) != 0) {
		snprintf(err, errlen, "client '%s': %s", c->def->name, reason);
		return -1;
	}
	if (authmac_secret_parse(c->secret.buf, c->secret.len, key, &n, &why) != 0) {
		snprintf(err, errlen, "client '%s': %s: %s", c->def->name, c->def->secret_file,
			 why);
		secret_free(&c->secret);
		return -1;
	}
	/* the bytes replace their hex text in the same locked page */
	explicit_bzero(c->secret.buf, c->secret.len);
	memcpy(c->secret.buf, key, n);
	c->secret.len = n;
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

/* An enrolment door's static challengePassword is a secret like a client's:
 * read (and dropped again: the handler reads it per request) wherever client
 * secrets are, so a missing or unsafe file stops the start or the reload. */
static int enrolment_secrets_check(const struct config *cfg, char *err, size_t errlen)
{
	struct secret s = {.buf = NULL};
	char reason[256];

	for (size_t i = 0; i < cfg->n_enrolments; i++) {
		const struct enrolment_def *e = &cfg->enrolments[i];

		if (e->challenge != ENROLMENT_CHALLENGE_STATIC)
			continue;
		if (secret_read_file(e->challenge_file, "SCEP challenge file", &s, reason,
				     sizeof(reason)) != 0) {
			snprintf(err, errlen, "enrolment '%s': %s", e->name, reason);
			return -1;
		}
		secret_free(&s);
	}
	return 0;
}

static uint64_t siphash24(const uint64_t k[2], const uint8_t *in, size_t len);

static void name_keys(struct auth *a)
{
	for (size_t i = 0; i < a->n; i++)
		a->clients[i].name_key =
			siphash24(a->seed, (const uint8_t *)a->clients[i].def->name,
				  strlen(a->clients[i].def->name));
}

int auth_open(const struct config *cfg, struct auth **out, char *err, size_t errlen)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->slots = calloc(REPLAY_SLOTS, sizeof(*a->slots))) == NULL ||
	    (a->clients = calloc(cfg->n_clients > 0 ? cfg->n_clients : 1, sizeof(*a->clients))) ==
		    NULL ||
	    RAND_bytes((unsigned char *)a->seed, sizeof(a->seed)) != 1) {
		snprintf(err, errlen, "out of memory");
		auth_close(a);
		return -1;
	}
	pthread_mutex_init(&a->replay_lock, NULL);
	a->allow_anonymous = cfg->allow_anonymous;
	a->window_ms = (int64_t)cfg->auth_window_seconds * 1000;
	a->reorder_ms = (int64_t)cfg->auth_reorder_seconds * 1000;
	a->sweep_every_ms = a->window_ms / 128;
	a->max_total = cfg->max_concurrent != 0 ? cfg->max_concurrent : cfg->workers;
	for (size_t i = 0; i < cfg->n_clients; i++) {
		a->clients[i].def = &cfg->clients[i];
		a->n = i + 1;
		if (client_secret_load(&a->clients[i], err, errlen) != 0) {
			auth_close(a);
			return -1;
		}
	}
	if (enrolment_secrets_check(cfg, err, errlen) != 0) {
		auth_close(a);
		return -1;
	}
	name_keys(a);
	*out = a;
	return 0;
}

void auth_close(struct auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		secret_free(&a->clients[i].secret);
	if (a->slots != NULL)
		pthread_mutex_destroy(&a->replay_lock);
	free(a->slots);
	free(a->clients);
	free(a);
}

void auth_start(struct auth *a, int64_t now_ms)
{
	a->started_ms = now_ms;
}

const struct client_def *auth_client_def(const struct auth_client *who)
{
	return who != NULL ? who->def : NULL;
}

static struct auth_client *client_find(struct auth *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->clients[i].def->name, name) == 0)
			return &a->clients[i];
	return NULL;
}

/* --- replays --- */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
	v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
	v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
	v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

static void sipcompress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

/* SipHash-2-4: a keyed PRF made for hash tables, cheap on short inputs and
 * with no allocation (an EVP digest context would malloc on every request). */
static uint64_t siphash24(const uint64_t k[2], const uint8_t *in, size_t len)
{
	uint64_t v[4] = {0x736f6d6570736575ULL ^ k[0], 0x646f72616e646f6dULL ^ k[1],
			 0x6c7967656e657261ULL ^ k[0], 0x7465646279746573ULL ^ k[1]};
	uint64_t last = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		sipcompress(v, load_le64(in + i));
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	sipcompress(v, last);
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/*
 * What the table keeps of (client, nonce). The seed is secret, so no caller
 * can aim nonces at one run of slots. Two pairs with one key make the later
 * one refused as a replay (odds about AUTH_REPLAY_MAX / 2^64 a request); a
 * real replay always has its original's key, so it is never accepted. The
 * client enters by its name, not its index: a reload may renumber clients,
 * and a client removed and declared again must still find its nonces.
 */
static uint64_t replay_key(const struct auth *a, const struct auth_client *c, const uint8_t *nonce,
			   size_t len)
{
	uint8_t in[8 + NONCE_MAX];
	uint64_t key;

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(c->name_key >> (8 * i));
	memcpy(in + 8, nonce, len);
	key = siphash24(a->seed, in, 8 + len);
	return key != 0 ? key : 1; /* 0 marks an empty slot */
}

static int64_t slot_stamp(const struct slot *t)
{
	return (int64_t)(t->stamp_client >> 16);
}

static int expired(const struct auth *a, const struct slot *t, int64_t now_ms)
{
	int64_t stamp = slot_stamp(t);
	size_t client = t->stamp_client & 0xffff;

	if (stamp + a->window_ms + REPLAY_GRACE_MS < now_ms)
		return 1;
	return client != CLIENT_GONE &&
	       stamp + a->reorder_ms + REPLAY_GRACE_MS < a->clients[client].newest_ms;
}

/*
 * Empty the expired slots, and move each live entry back as near its home
 * slot as the freed slots allow, so no probe path crosses an empty slot.
 * Starting just after an empty slot, no probe path wraps past the start:
 * each entry lands on its own old path, at or before where it was, and
 * slots already passed are only ever filled, never emptied.
 */
static void sweep(struct auth *a, int64_t now_ms)
{
	const size_t mask = REPLAY_SLOTS - 1;
	size_t start = 0, i;

	while (a->slots[start].key != 0) /* ends: used < REPLAY_SLOTS */
		start = (start + 1) & mask;
	for (size_t n = 1; n < REPLAY_SLOTS; n++) {
		struct slot *t = &a->slots[(start + n) & mask], e = *t;

		if (e.key == 0)
			continue;
		t->key = 0;
		if (expired(a, &e, now_ms)) {
			a->used--;
			continue;
		}
		for (i = e.key & mask; a->slots[i].key != 0; i = (i + 1) & mask)
			;
		a->slots[i] = e;
	}
	a->swept_ms = now_ms;
}

/* Remember `key`, stamped `stamp_ms`, while a replay of it could pass the
 * other checks; SIGNET_E_UNAUTHENTICATED if it is remembered already.
 * Caller holds replay_lock. */
static int remember(struct auth *a, const struct auth_client *c, uint64_t key, int64_t now_ms,
		    int64_t stamp_ms, struct errmsg *em)
{
	const size_t mask = REPLAY_SLOTS - 1;
	struct slot *t, *reuse = NULL;
	size_t i;

	/* a sweep costs a pass over the table: once the table is full, at most
	 * one per window/128, at the price of refusing a little early */
	if (a->used >= AUTH_REPLAY_MAX &&
	    (now_ms < a->swept_ms || now_ms - a->swept_ms >= a->sweep_every_ms))
		sweep(a, now_ms);
	for (i = key & mask; (t = &a->slots[i])->key != 0; i = (i + 1) & mask) {
		if (expired(a, t, now_ms)) {
			if (reuse == NULL)
				reuse = t;
		} else if (t->key == key) {
			return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
					  "replayed request: client '%s' already sent this nonce",
					  c->def->name);
		}
	}
	if (reuse == NULL) {
		/* used bounds the live entries, each of which an expired slot
		 * on the path would not add to */
		if (a->used >= AUTH_REPLAY_MAX)
			return errmsg_set(
				em, SIGNET_E_RESOURCE_EXHAUSTED,
				"too many requests inside the replay window; try again shortly");
		reuse = t;
		a->used++;
	}
	reuse->key = key;
	reuse->stamp_client = ((uint64_t)stamp_ms << 16) | (uint64_t)(c - a->clients);
	return 0;
}

/* --- authentication --- */

static int anonymous(struct auth *a, struct auth_client **who, struct errmsg *em)
{
	*who = NULL;
	if (a->allow_anonymous)
		return 0;
	return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
			  "a client credential is required: set the client name and its secret "
			  "file (signet --client NAME --secret-file FILE)");
}

static int time_check(const struct auth *a, const Signet__V1__Credential *cr, int64_t now_ms,
		      struct errmsg *em)
{
	int64_t ts = cr->timestamp_ms > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)cr->timestamp_ms;
	int64_t off = ts > now_ms ? ts - now_ms : now_ms - ts;

	if (off <= a->window_ms)
		return 0;
	return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
			  "the credential's timestamp is %lld s %s the daemon's clock (at most "
			  "%lld s allowed): a stale or replayed request, or a wrong clock",
			  (long long)(off / 1000), ts > now_ms ? "ahead of" : "behind",
			  (long long)(a->window_ms / 1000));
}

/*
 * A credential much older than the newest one its client sent is refused:
 * requests of one client arrive nearly in the order they were stamped. That
 * bounds how long a nonce must be remembered by the reorder allowance, not
 * by the whole clock-skew window, and with it the requests per second the
 * replay table can take (AUTH_REPLAY_MAX per allowance, not per window).
 * Caller holds replay_lock.
 */
static int order_check(const struct auth *a, const struct auth_client *c, int64_t stamp_ms,
		       struct errmsg *em)
{
	if (stamp_ms + a->reorder_ms >= c->newest_ms)
		return 0;
	return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
			  "the credential was stamped %lld ms before the newest one client '%s' "
			  "sent (at most %lld s allowed, auth.reorder_seconds): a replayed or "
			  "long-delayed request, or hosts sharing a client with clocks apart",
			  (long long)(c->newest_ms - stamp_ms), c->def->name,
			  (long long)(a->reorder_ms / 1000));
}

/*
 * What this process accepted, its replay memory holds; what a signetd before
 * it accepted, no one does. A credential stamped before start-up is refused,
 * so a request captured before a restart cannot be sent again after it. The
 * cost: a client whose clock is behind the daemon's is refused for that long
 * after a start; libsignet stamps each attempt afresh.
 */
static int start_check(const struct auth *a, const struct auth_client *c, int64_t stamp_ms,
		       struct errmsg *em)
{
	if (stamp_ms >= a->started_ms)
		return 0;
	return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
			  "client '%s': the credential was stamped %lld ms before signetd started: "
			  "sent before a restart (this process cannot tell it from a copy of one "
			  "its predecessor served), or by a clock behind the daemon's; send it "
			  "again",
			  c->def->name, (long long)(a->started_ms - stamp_ms));
}

static int mac_check(const struct auth_client *c, const Signet__V1__Envelope *env,
		     struct errmsg *em)
{
	const Signet__V1__Credential *cr = env->credential;
	struct authmac_input in = wire_mac_input(env);

	if (authmac_verify((const uint8_t *)c->secret.buf, c->secret.len, &in, cr->mac.data,
			   cr->mac.len))
		return 0;
	return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
			  "the request's MAC does not verify for client '%s' (a wrong secret, or "
			  "the request was altered)",
			  c->def->name);
}

int auth_authenticate(struct auth *a, const Signet__V1__Envelope *env, int64_t now_ms,
		      struct auth_client **who, struct errmsg *em)
{
	const Signet__V1__Credential *cr = env->credential;
	struct auth_client *c;
	uint64_t key;
	int r;

	if (cr == NULL || cr->client == NULL || cr->client[0] == '\0')
		return anonymous(a, who, em);
	if ((c = client_find(a, cr->client)) == NULL)
		return errmsg_set(em, SIGNET_E_UNAUTHENTICATED, "no client named '%.64s'",
				  cr->client);
	if (cr->nonce.len < NONCE_MIN || cr->nonce.len > NONCE_MAX)
		return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
				  "a credential's nonce is %d to %d bytes", NONCE_MIN, NONCE_MAX);
	if ((r = time_check(a, cr, now_ms, em)) != 0 || (r = mac_check(c, env, em)) != 0 ||
	    (r = start_check(a, c, (int64_t)cr->timestamp_ms, em)) != 0)
		return r;
	key = replay_key(a, c, cr->nonce.data, cr->nonce.len);
	pthread_mutex_lock(&a->replay_lock);
	/* an authentic stamp moves the client on before the table is searched:
	 * the entries that makes dead are free for this very request */
	if ((r = order_check(a, c, (int64_t)cr->timestamp_ms, em)) == 0) {
		if ((int64_t)cr->timestamp_ms > c->newest_ms)
			c->newest_ms = (int64_t)cr->timestamp_ms;
		r = remember(a, c, key, now_ms, (int64_t)cr->timestamp_ms, em);
	}
	pthread_mutex_unlock(&a->replay_lock);
	if (r == 0)
		*who = c;
	return r;
}

/* --- reload --- */

void auth_carry(struct auth *to, struct auth *from)
{
	struct slot *fresh = to->slots;

	/* a wider allowance would accept credentials whose nonces were
	 * already forgotten */
	if (to->window_ms > from->window_ms)
		to->window_ms = from->window_ms;
	if (to->reorder_ms > from->reorder_ms)
		to->reorder_ms = from->reorder_ms;
	to->started_ms = from->started_ms;
	to->sweep_every_ms = to->window_ms / 128;
	memcpy(to->seed, from->seed, sizeof(to->seed));
	name_keys(to);
	for (size_t i = 0; i < to->n; i++) {
		struct auth_client *old = client_find(from, to->clients[i].def->name);

		to->clients[i].newest_ms = old != NULL ? old->newest_ms : 0;
	}
	/* each entry's client is renumbered by name; the keys stay valid
	 * since they hash the name, and the probe paths since the seed came too */
	for (size_t i = 0; i < REPLAY_SLOTS; i++) {
		struct slot *t = &from->slots[i];
		size_t idx = t->stamp_client & 0xffff;
		struct auth_client *c;

		if (t->key == 0 || idx == CLIENT_GONE)
			continue;
		c = client_find(to, from->clients[idx].def->name);
		t->stamp_client = (t->stamp_client & ~(uint64_t)0xffff) |
				  (c != NULL ? (uint64_t)(c - to->clients) : CLIENT_GONE);
	}
	to->slots = from->slots;
	from->slots = fresh; /* transferred: freed with `from` */
	to->used = from->used;
	to->swept_ms = from->swept_ms;
	from->used = 0;
}

/* --- concurrency --- */

int auth_enter(struct auth *a, struct auth_client *who, struct errmsg *em)
{
	if (a->max_total != 0 && atomic_fetch_add(&a->in_flight_total, 1) >= a->max_total) {
		atomic_fetch_sub(&a->in_flight_total, 1);
		return errmsg_set(
			em, SIGNET_E_RESOURCE_EXHAUSTED,
			"%u requests are in flight, the daemon's limit (auth.max_concurrent)",
			a->max_total);
	}
	if (who != NULL && atomic_fetch_add(&who->in_flight, 1) >= who->def->max_concurrent) {
		atomic_fetch_sub(&who->in_flight, 1);
		if (a->max_total != 0)
			atomic_fetch_sub(&a->in_flight_total, 1);
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED,
				  "client '%s' has %u requests in flight, its limit "
				  "(clients.%s.max_concurrent)",
				  who->def->name, who->def->max_concurrent, who->def->name);
	}
	return 0;
}

void auth_leave(struct auth *a, struct auth_client *who)
{
	if (who != NULL)
		atomic_fetch_sub(&who->in_flight, 1);
	if (a->max_total != 0)
		atomic_fetch_sub(&a->in_flight_total, 1);
}
