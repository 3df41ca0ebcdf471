#include "auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "authmac.h"
#include "secret.h"

#define REPLAY_BUCKETS 65536
#define NONCE_MIN      16
#define NONCE_MAX      64
#define SWEEP_EVERY    REPLAY_BUCKETS /* inserts between full sweeps: amortised O(1) */

struct auth_client {
	const struct client_def *def;
	struct secret secret; /* the key bytes (not hex), in a locked page */
	atomic_uint in_flight;
};

/* A (client, nonce) seen inside the window, remembered until it expires. */
struct seen {
	struct seen *next;
	int64_t expires_ms;
	size_t client;
	uint8_t nonce_len;
	uint8_t nonce[NONCE_MAX];
};

struct auth {
	struct auth_client *clients;
	size_t n;
	int allow_anonymous;
	int64_t window_ms;
	unsigned max_total;
	atomic_uint in_flight_total;
	pthread_mutex_t replay_lock;
	struct seen **buckets;
	size_t n_seen;
	size_t inserts;
	uint64_t seed; /* random per process: bucket choice is not predictable */
};

static int client_secret_load(struct auth_client *c, char *err, size_t errlen)
{
	uint8_t key[AUTHMAC_SECRET_MAX];
	const char *why = NULL;
	char reason[256];
	size_t n = 0;

	if (secret_read_file(c->def->secret_file, &c->secret, reason, sizeof(reason)) != 0) {
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

int auth_open(const struct config *cfg, struct auth **out, char *err, size_t errlen)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->buckets = calloc(REPLAY_BUCKETS, sizeof(*a->buckets))) == NULL ||
	    (a->clients = calloc(cfg->n_clients > 0 ? cfg->n_clients : 1, sizeof(*a->clients))) ==
		    NULL ||
	    RAND_bytes((unsigned char *)&a->seed, sizeof(a->seed)) != 1) {
		snprintf(err, errlen, "out of memory");
		auth_close(a);
		return -1;
	}
	pthread_mutex_init(&a->replay_lock, NULL);
	a->allow_anonymous = cfg->allow_anonymous;
	a->window_ms = (int64_t)cfg->auth_window_seconds * 1000;
	a->max_total = cfg->max_concurrent != 0 ? cfg->max_concurrent : cfg->workers;
	for (size_t i = 0; i < cfg->n_clients; i++) {
		a->clients[i].def = &cfg->clients[i];
		a->n = i + 1;
		if (client_secret_load(&a->clients[i], err, errlen) != 0) {
			auth_close(a);
			return -1;
		}
	}
	*out = a;
	return 0;
}

void auth_close(struct auth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		secret_free(&a->clients[i].secret);
	for (size_t b = 0; a->buckets != NULL && b < REPLAY_BUCKETS; b++)
		for (struct seen *s = a->buckets[b], *next; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
	if (a->buckets != NULL)
		pthread_mutex_destroy(&a->replay_lock);
	free(a->buckets);
	free(a->clients);
	free(a);
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

static size_t bucket_of(const struct auth *a, size_t client, const uint8_t *nonce, size_t len)
{
	uint64_t h = a->seed ^ (client * 0x9e3779b97f4a7c15ULL);

	for (size_t i = 0; i < len; i++)
		h = (h ^ nonce[i]) * 0x100000001b3ULL; /* FNV-1a over a secret seed */
	return (size_t)(h ^ (h >> 29)) % REPLAY_BUCKETS;
}

/* Drop the expired entries of one chain. */
static void prune(struct auth *a, struct seen **head, int64_t now_ms)
{
	while (*head != NULL) {
		if ((*head)->expires_ms < now_ms) {
			struct seen *dead = *head;

			*head = dead->next;
			free(dead);
			a->n_seen--;
		} else {
			head = &(*head)->next;
		}
	}
}

/* Remember (client, nonce) until expires_ms; SIGNET_E_UNAUTHENTICATED if
 * it is remembered already. Caller holds replay_lock. */
static int remember(struct auth *a, size_t client, const uint8_t *nonce, size_t len, int64_t now_ms,
		    int64_t expires_ms, struct errmsg *em)
{
	struct seen **head = &a->buckets[bucket_of(a, client, nonce, len)], *s;

	if (++a->inserts % SWEEP_EVERY == 0)
		for (size_t b = 0; b < REPLAY_BUCKETS; b++)
			prune(a, &a->buckets[b], now_ms);
	prune(a, head, now_ms);
	for (s = *head; s != NULL; s = s->next)
		if (s->client == client && s->nonce_len == len && memcmp(s->nonce, nonce, len) == 0)
			return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
					  "replayed request: client '%s' already sent this nonce",
					  a->clients[client].def->name);
	if (a->n_seen >= AUTH_REPLAY_MAX)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED,
				  "too many requests inside the replay window; try again shortly");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	s->client = client;
	s->nonce_len = (uint8_t)len;
	memcpy(s->nonce, nonce, len);
	s->expires_ms = expires_ms;
	s->next = *head;
	*head = s;
	a->n_seen++;
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

static int mac_check(const struct auth_client *c, const Signet__V1__Envelope *env,
		     struct errmsg *em)
{
	const Signet__V1__Credential *cr = env->credential;
	struct authmac_input in = {.method = env->method,
				   .request_id = env->request_id.data,
				   .request_id_len = env->request_id.len,
				   .client = cr->client,
				   .timestamp_ms = cr->timestamp_ms,
				   .nonce = cr->nonce.data,
				   .nonce_len = cr->nonce.len,
				   .payload = env->payload.data,
				   .payload_len = env->payload.len};

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
	int r;

	if (cr == NULL || cr->client == NULL || cr->client[0] == '\0')
		return anonymous(a, who, em);
	if ((c = client_find(a, cr->client)) == NULL)
		return errmsg_set(em, SIGNET_E_UNAUTHENTICATED, "no client named '%.64s'",
				  cr->client);
	if (cr->nonce.len < NONCE_MIN || cr->nonce.len > NONCE_MAX)
		return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
				  "a credential's nonce is %d to %d bytes", NONCE_MIN, NONCE_MAX);
	if ((r = time_check(a, cr, now_ms, em)) != 0 || (r = mac_check(c, env, em)) != 0)
		return r;
	pthread_mutex_lock(&a->replay_lock);
	r = remember(a, (size_t)(c - a->clients), cr->nonce.data, cr->nonce.len, now_ms,
		     (int64_t)cr->timestamp_ms + a->window_ms, em);
	pthread_mutex_unlock(&a->replay_lock);
	if (r == 0)
		*who = c;
	return r;
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
