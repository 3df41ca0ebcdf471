/* Unit tests for daemon/possession/challenge.c: the round trip with either binding,
 * single use, expiry and the grace period after it, callers kept apart, junk
 * ids, both limits, the expiry order under mixed TTLs, many threads, and a
 * full table. Time is injected. The same tests run again on shared tables
 * (challenge_db.c, in a ledger), but for the two that need a hundred
 * thousand writes; two ledgers on one directory stand for two daemons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "possession/challenge.h"
#include "records/ledger.h"

#define NOW   1800000000LL
#define TTL   60
#define GRACE CHALLENGE_EXPIRED_GRACE

/* A distinct id for each n; the bytes vary in few places, as a bad RNG's
 * would, so the hash table must spread them itself. */
static void make_id(uint32_t n, uint8_t id[CHALLENGE_ID_LEN])
{
	memset(id, 0xa5, CHALLENGE_ID_LEN);
	memcpy(id + CHALLENGE_ID_LEN - sizeof(n), &n, sizeof(n));
}

static void make_nonce(uint32_t n, uint8_t nonce[CHALLENGE_NONCE_LEN])
{
	for (size_t i = 0; i < CHALLENGE_NONCE_LEN; i++)
		nonce[i] = (uint8_t)(n * 31 + i * 7 + 1);
}

static void to_hex(const uint8_t *raw, size_t len, char *hex)
{
	for (size_t i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", raw[i]);
}

static void id_hex(uint32_t n, char hex[2 * CHALLENGE_ID_LEN + 1])
{
	uint8_t id[CHALLENGE_ID_LEN];

	make_id(n, id);
	to_hex(id, sizeof(id), hex);
}

/* Shared mode: each table gets a ledger of its own, in a fresh directory
 * (on tmpfs when there is one: a ledger write waits for fsync). */
enum { MAX_LEDGERS = 32 };
static int shared_mode;
static struct ledger *ledgers[MAX_LEDGERS];
static char ledger_dirs[MAX_LEDGERS][64];
static size_t n_ledgers;

static struct ledger *ledger_in(const char *dir)
{
	struct ledger *l = NULL;
	char err[256] = "";

	if (ledger_open(dir, &l, err, sizeof(err)) != 0)
		fail_msg("ledger_open %s: %s", dir, err);
	assert_true(n_ledgers < MAX_LEDGERS);
	ledgers[n_ledgers++] = l;
	return l;
}

static const char *fresh_dir(void)
{
	static char dir[64];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/signet-chal-XXXXXX",
		 stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(ledger_dirs[n_ledgers], sizeof(ledger_dirs[0]), "%s", dir);
	return dir;
}

static int setup_shared(void **state)
{
	(void)state;
	shared_mode = 1;
	return 0;
}

static int teardown_shared(void **state)
{
	char cmd[128];

	(void)state;
	for (size_t i = 0; i < n_ledgers; i++) {
		ledger_close(ledgers[i]);
		if (ledger_dirs[i][0] != '\0') {
			snprintf(cmd, sizeof(cmd), "rm -rf %s", ledger_dirs[i]);
			if (system(cmd) != 0)
				return -1;
		}
	}
	n_ledgers = 0;
	shared_mode = 0;
	return 0;
}

static struct challenge_table *table(unsigned per_caller, unsigned total)
{
	struct challenge_limits lim = {.max_per_caller = per_caller, .max_total = total};
	struct challenge_table *t = NULL;

	if (shared_mode)
		assert_int_equal(challenge_table_new_shared(&lim, ledger_in(fresh_dir()), &t), 0);
	else
		assert_int_equal(challenge_table_new(&lim, &t), 0);
	assert_non_null(t);
	return t;
}

/* Challenge n for `caller`, bound to a device ID, created at `now`. */
static int create_at(struct challenge_table *t, const char *caller, uint32_t n, int64_t now,
		     int64_t ttl, struct errmsg *em)
{
	uint8_t id[CHALLENGE_ID_LEN], nonce[CHALLENGE_NONCE_LEN];

	make_id(n, id);
	make_nonce(n, nonce);
	return challenge_create(t, caller, "device-1", NULL, id, nonce, now, ttl, NULL, em);
}

static void create_ok(struct challenge_table *t, const char *caller, uint32_t n, int64_t now)
{
	struct errmsg em = {0};

	if (create_at(t, caller, n, now, TTL, &em) != 0)
		fail_msg("challenge_create %u: %s", n, em.text);
}

static int take(struct challenge_table *t, const char *caller, uint32_t n, int64_t now,
		struct errmsg *em)
{
	char hex[2 * CHALLENGE_ID_LEN + 1];
	struct challenge c;

	id_hex(n, hex);
	return challenge_take(t, caller, hex, now, &c, em);
}

/* The failure `r` is `want`, its message holds `text` and never the nonce. */
static void assert_refused(int r, int want, const struct errmsg *em, const char *text, uint32_t n)
{
	uint8_t nonce[CHALLENGE_NONCE_LEN];
	char hex[2 * CHALLENGE_NONCE_LEN + 1];

	make_nonce(n, nonce);
	to_hex(nonce, sizeof(nonce), hex);
	assert_int_equal(r, want);
	if (strstr(em->text, text) == NULL)
		fail_msg("'%s' is not in '%s'", text, em->text);
	assert_null(strstr(em->text, hex));
}

static void test_round_trip_device_id(void **state)
{
	struct challenge_table *t = table(10, 100);
	uint8_t id[CHALLENGE_ID_LEN], nonce[CHALLENGE_NONCE_LEN];
	char hex[2 * CHALLENGE_ID_LEN + 1];
	struct challenge made, got;
	struct errmsg em = {0};

	(void)state;
	make_id(7, id);
	make_nonce(7, nonce);
	id_hex(7, hex);
	assert_int_equal(
		challenge_create(t, "factory", "dev-0042", NULL, id, nonce, NOW, TTL, &made, &em),
		0);
	assert_int_equal(challenge_take(t, "factory", hex, NOW + 1, &got, &em), 0);
	for (const struct challenge *c = &made; c != NULL; c = c == &made ? &got : NULL) {
		assert_string_equal(c->id, hex);
		assert_memory_equal(c->nonce, nonce, sizeof(nonce));
		assert_string_equal(c->device_id, "dev-0042");
		assert_int_equal(c->has_fingerprint, 0);
		assert_string_equal(c->caller, "factory");
		assert_int_equal(c->created, NOW);
		assert_int_equal(c->expires, NOW + TTL);
	}
	challenge_table_free(t);
}

static void test_round_trip_fingerprint(void **state)
{
	struct challenge_table *t = table(10, 100);
	uint8_t id[CHALLENGE_ID_LEN], nonce[CHALLENGE_NONCE_LEN], fp[32];
	char hex[2 * CHALLENGE_ID_LEN + 1];
	struct challenge got;
	struct errmsg em = {0};

	(void)state;
	make_id(8, id);
	make_nonce(8, nonce);
	id_hex(8, hex);
	for (size_t i = 0; i < sizeof(fp); i++)
		fp[i] = (uint8_t)(0xf0 ^ i);
	/* "" counts as no device ID. */
	assert_int_equal(challenge_create(t, "svc", "", fp, id, nonce, NOW, 5, NULL, &em), 0);
	assert_int_equal(challenge_take(t, "svc", hex, NOW + 4, &got, &em), 0);
	assert_string_equal(got.id, hex);
	assert_memory_equal(got.nonce, nonce, sizeof(nonce));
	assert_string_equal(got.device_id, "");
	assert_int_equal(got.has_fingerprint, 1);
	assert_memory_equal(got.spki_sha256, fp, sizeof(fp));
	assert_string_equal(got.caller, "svc");
	assert_int_equal(got.created, NOW);
	assert_int_equal(got.expires, NOW + 5);
	challenge_table_free(t);
}

static void test_replay(void **state)
{
	struct challenge_table *t = table(10, 100);
	char msg[128], hex[2 * CHALLENGE_ID_LEN + 1];
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "a", 1, NOW);
	assert_int_equal(take(t, "a", 1, NOW, &em), 0);
	id_hex(1, hex);
	snprintf(msg, sizeof(msg), "challenge %s was already used: a replay", hex);
	assert_refused(take(t, "a", 1, NOW + 1, &em), SIGNET_E_FAILED_PRECONDITION, &em, msg, 1);
	/* Still a replay once expired, within the grace period. */
	assert_refused(take(t, "a", 1, NOW + TTL + GRACE - 1, &em), SIGNET_E_FAILED_PRECONDITION,
		       &em, "already used", 1);
	challenge_table_free(t);
}

static void test_expired(void **state)
{
	struct challenge_table *t = table(10, 100);
	char msg[128], hex[2 * CHALLENGE_ID_LEN + 1];
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "a", 1, NOW);
	create_ok(t, "a", 2, NOW);
	create_ok(t, "a", 3, NOW);
	assert_int_equal(take(t, "a", 1, NOW + TTL - 1, &em), 0);
	id_hex(2, hex);
	snprintf(msg, sizeof(msg), "challenge %s expired 0 s ago", hex);
	assert_refused(take(t, "a", 2, NOW + TTL, &em), SIGNET_E_FAILED_PRECONDITION, &em, msg, 2);
	id_hex(3, hex);
	snprintf(msg, sizeof(msg), "challenge %s expired 12 s ago", hex);
	assert_refused(take(t, "a", 3, NOW + TTL + 12, &em), SIGNET_E_FAILED_PRECONDITION, &em, msg,
		       3);
	/* An expired one was never used, so it stays "expired", not a replay. */
	assert_refused(take(t, "a", 3, NOW + TTL + 13, &em), SIGNET_E_FAILED_PRECONDITION, &em,
		       "expired 13 s ago", 3);
	challenge_table_free(t);
}

static void test_swept_after_horizon(void **state)
{
	struct challenge_table *t = table(10, 100);
	char msg[128], hex[2 * CHALLENGE_ID_LEN + 1];
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "a", 1, NOW);
	create_ok(t, "a", 2, NOW);
	assert_int_equal(take(t, "a", 1, NOW, &em), 0);
	assert_refused(take(t, "a", 1, NOW + TTL + GRACE - 1, &em), SIGNET_E_FAILED_PRECONDITION,
		       &em, "already used", 1);
	assert_refused(take(t, "a", 2, NOW + TTL + GRACE - 1, &em), SIGNET_E_FAILED_PRECONDITION,
		       &em, "expired", 2);
	id_hex(1, hex);
	snprintf(msg, sizeof(msg), "no challenge %s", hex);
	assert_refused(take(t, "a", 1, NOW + TTL + GRACE, &em), SIGNET_E_NOT_FOUND, &em, msg, 1);
	assert_refused(take(t, "a", 2, NOW + TTL + GRACE, &em), SIGNET_E_NOT_FOUND, &em,
		       "no challenge", 2);
	/* Both are gone, so their ids may be issued again. */
	create_ok(t, "a", 1, NOW + TTL + GRACE);
	challenge_table_free(t);
}

static void test_other_caller(void **state)
{
	struct challenge_table *t = table(10, 100);
	char msg[128], hex[2 * CHALLENGE_ID_LEN + 1];
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "alice", 1, NOW);
	id_hex(1, hex);
	snprintf(msg, sizeof(msg), "no challenge %s", hex);
	assert_refused(take(t, "bob", 1, NOW, &em), SIGNET_E_NOT_FOUND, &em, msg, 1);
	assert_refused(take(t, "alic", 1, NOW, &em), SIGNET_E_NOT_FOUND, &em, msg, 1);
	assert_refused(take(t, "", 1, NOW, &em), SIGNET_E_NOT_FOUND, &em, msg, 1);
	/* The owner's challenge was neither consumed nor uncounted. */
	assert_int_equal(challenge_outstanding(t, "alice", NOW), 1);
	assert_int_equal(take(t, "alice", 1, NOW, &em), 0);
	challenge_table_free(t);
}

static void test_junk_ids(void **state)
{
	static const char *const junk[] = {
		"",
		"a5a5a5a5a5a5a5a5a5a5a5a5070000",    /* 30 */
		"a5a5a5a5a5a5a5a5a5a5a5a50700000",   /* 31 */
		"a5a5a5a5a5a5a5a5a5a5a5a5070000000", /* 33 */
		"a5a5a5a5a5a5a5a5a5a5a5a50700000g",
		"a5a5a5a5a5a5a5a5a5a5a5a5070000 0",
		"0xa5a5a5a5a5a5a5a5a5a5a5a5070000",
		"a5a5a5a5a5a5a5a5a5a5a5a5070000-0",
		"\xff\xfe\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5"
		"\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5",
	};
	struct challenge_table *t = table(10, 100);
	char hex[2 * CHALLENGE_ID_LEN + 1], big[4096];
	struct challenge c;
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "a", 7, NOW);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_refused(challenge_take(t, "a", junk[i], NOW, &c, &em), SIGNET_E_NOT_FOUND,
			       &em, "32 hex digits", 7);
	assert_int_equal(challenge_take(t, "a", NULL, NOW, &c, &em), SIGNET_E_NOT_FOUND);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(challenge_take(t, "a", big, NOW, &c, &em), SIGNET_E_NOT_FOUND);
	assert_int_equal(strlen(em.text) < 100, 1); /* junk is not echoed */
	/* None of that consumed challenge 7, which upper case names too. */
	id_hex(7, hex);
	for (char *p = hex; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(challenge_take(t, "a", hex, NOW, &c, &em), 0);
	id_hex(7, hex);
	assert_string_equal(c.id, hex);
	challenge_table_free(t);
}

static void test_limit_per_caller(void **state)
{
	struct challenge_table *t = table(3, 100);
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "a", 1, NOW);
	create_ok(t, "a", 2, NOW);
	create_ok(t, "a", 3, NOW + 10);
	assert_refused(create_at(t, "a", 4, NOW + 10, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED, &em,
		       "caller 'a' has 3 outstanding challenges, the limit", 4);
	create_ok(t, "b", 5, NOW + 10); /* others are not held back */
	/* Taking one frees room: used ones are not outstanding. */
	assert_int_equal(take(t, "a", 1, NOW + 10, &em), 0);
	create_ok(t, "a", 4, NOW + 10);
	assert_refused(create_at(t, "a", 6, NOW + 10, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED, &em,
		       "caller 'a'", 6);
	/* So does expiry: number 2 expires at NOW + TTL. */
	create_ok(t, "a", 6, NOW + TTL);
	assert_refused(create_at(t, "a", 7, NOW + TTL, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED, &em,
		       "caller 'a'", 7);
	challenge_table_free(t);
}

static void test_limit_total(void **state)
{
	struct challenge_table *t = table(10, 4);
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "a", 1, NOW);
	create_ok(t, "a", 2, NOW + 5);
	create_ok(t, "b", 3, NOW + 5);
	create_ok(t, "c", 4, NOW + 5);
	assert_refused(create_at(t, "d", 5, NOW + 5, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED, &em,
		       "signetd holds 4 challenges, the limit for all callers", 5);
	/* A used one is remembered, so it still takes room... */
	assert_int_equal(take(t, "b", 3, NOW + 5, &em), 0);
	assert_refused(create_at(t, "d", 5, NOW + 5, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED, &em,
		       "all callers", 5);
	/* ...until it, or any other, expires: then it makes way at once,
	 * within the grace period. Number 1 is the first. */
	create_ok(t, "d", 5, NOW + TTL);
	assert_refused(take(t, "a", 1, NOW + TTL, &em), SIGNET_E_NOT_FOUND, &em, "no challenge", 1);
	assert_refused(create_at(t, "d", 6, NOW + TTL, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED, &em,
		       "all callers", 6);
	create_ok(t, "d", 6, NOW + 5 + TTL);
	create_ok(t, "d", 7, NOW + 5 + TTL);
	create_ok(t, "d", 8, NOW + 5 + TTL);
	assert_int_equal(challenge_outstanding(t, NULL, NOW + 5 + TTL), 4);
	challenge_table_free(t);
}

static void test_bad_arguments(void **state)
{
	struct challenge_table *t = table(10, 100);
	uint8_t id[CHALLENGE_ID_LEN], nonce[CHALLENGE_NONCE_LEN], fp[32] = {1};
	char long_name[CHALLENGE_DEVICE_ID_MAX + 2];
	struct challenge_limits zero = {.max_per_caller = 0, .max_total = 10};
	struct challenge_table *none = t;
	struct errmsg em = {0};

	(void)state;
	make_id(1, id);
	make_nonce(1, nonce);
	assert_refused(challenge_create(t, "a", "dev", fp, id, nonce, NOW, TTL, NULL, &em),
		       SIGNET_E_INVALID_ARGUMENT, &em, "exactly one", 1);
	assert_refused(challenge_create(t, "a", NULL, NULL, id, nonce, NOW, TTL, NULL, &em),
		       SIGNET_E_INVALID_ARGUMENT, &em, "exactly one", 1);
	assert_refused(challenge_create(t, "a", "", NULL, id, nonce, NOW, TTL, NULL, &em),
		       SIGNET_E_INVALID_ARGUMENT, &em, "exactly one", 1);
	assert_int_equal(challenge_create(t, NULL, "dev", NULL, id, nonce, NOW, TTL, NULL, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(challenge_create(t, "a", "dev", NULL, id, nonce, NOW, 0, NULL, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(challenge_create(t, "a", "dev", NULL, NULL, nonce, NOW, TTL, NULL, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(challenge_create(t, "a", long_name, NULL, id, nonce, NOW, TTL, NULL, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	long_name[CHALLENGE_CALLER_MAX + 1] = '\0';
	assert_int_equal(challenge_create(t, long_name, "d", NULL, id, nonce, NOW, TTL, NULL, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	/* The longest names that fit are fine. */
	long_name[CHALLENGE_CALLER_MAX] = '\0';
	assert_int_equal(challenge_create(t, long_name, "d", NULL, id, nonce, NOW, TTL, NULL, &em),
			 0);
	assert_int_equal(challenge_outstanding(t, NULL, NOW), 1);
	assert_int_equal(challenge_table_new(&zero, &none), SIGNET_E_INVALID_ARGUMENT);
	assert_null(none);
	challenge_table_free(t);
	challenge_table_free(NULL);
}

static void test_duplicate_id(void **state)
{
	struct challenge_table *t = table(10, 100);
	struct errmsg em = {0};

	(void)state;
	create_ok(t, "a", 1, NOW);
	assert_refused(create_at(t, "a", 1, NOW, TTL, &em), SIGNET_E_INTERNAL, &em,
		       "already in use", 1);
	assert_refused(create_at(t, "b", 1, NOW, TTL, &em), SIGNET_E_INTERNAL, &em,
		       "already in use", 1);
	/* A used id is still in the table. */
	assert_int_equal(take(t, "a", 1, NOW, &em), 0);
	assert_refused(create_at(t, "a", 1, NOW + 1, TTL, &em), SIGNET_E_INTERNAL, &em,
		       "already in use", 1);
	assert_int_equal(challenge_outstanding(t, NULL, NOW + 1), 0);
	challenge_table_free(t);
}

static void test_outstanding(void **state)
{
	struct challenge_table *t = table(10, 100);
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(challenge_outstanding(t, NULL, NOW), 0);
	assert_int_equal(challenge_outstanding(t, "a", NOW), 0);
	create_ok(t, "a", 1, NOW);
	create_ok(t, "a", 2, NOW + 10);
	create_ok(t, "b", 3, NOW + 20);
	assert_int_equal(challenge_outstanding(t, "a", NOW + 20), 2);
	assert_int_equal(challenge_outstanding(t, "b", NOW + 20), 1);
	assert_int_equal(challenge_outstanding(t, "c", NOW + 20), 0);
	assert_int_equal(challenge_outstanding(t, NULL, NOW + 20), 3);
	assert_int_equal(take(t, "a", 2, NOW + 20, &em), 0);
	assert_int_equal(challenge_outstanding(t, "a", NOW + 20), 1);
	assert_int_equal(challenge_outstanding(t, NULL, NOW + 20), 2);
	assert_int_equal(challenge_outstanding(t, "a", NOW + TTL), 0);
	assert_int_equal(challenge_outstanding(t, NULL, NOW + TTL), 1);
	assert_int_equal(challenge_outstanding(t, NULL, NOW + 20 + TTL), 0);
	assert_int_equal(challenge_outstanding(t, "b", NOW + 20 + TTL), 0);
	challenge_table_free(t);
}

/* TTLs in every order: the count at each second matches a plain recount. */
static void test_mixed_ttls(void **state)
{
	enum { N = 2000 };
	struct challenge_table *t = table(N, N);
	int64_t ttl[N];
	struct errmsg em = {0};
	size_t want;

	(void)state;
	srand(5);
	for (uint32_t i = 0; i < N; i++) {
		ttl[i] = 1 + rand() % 500;
		if (create_at(t, i % 2 ? "odd" : "even", i, NOW, ttl[i], &em) != 0)
			fail_msg("create %u: %s", i, em.text);
	}
	for (int64_t s = 0; s <= 501; s += 7) {
		want = 0;
		for (uint32_t i = 0; i < N; i++)
			want += ttl[i] > s;
		assert_int_equal(challenge_outstanding(t, NULL, NOW + s), want);
	}
	challenge_table_free(t);
}

struct worker {
	struct challenge_table *t;
	uint32_t base;
	char caller[24];
	int failures;
};

enum { THREADS = 8, PER_THREAD = 3000 };

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct errmsg em;
	int64_t now;

	for (uint32_t i = 0; i < PER_THREAD; i++) {
		now = NOW + i / 100;
		/* Create two, take one, and try a neighbour's: never ours to take. */
		w->failures += create_at(w->t, w->caller, w->base + 2 * i, now, TTL, &em) != 0;
		w->failures += create_at(w->t, w->caller, w->base + 2 * i + 1, now, TTL, &em) != 0;
		w->failures += take(w->t, w->caller, w->base + 2 * i, now, &em) != 0;
		w->failures +=
			take(w->t, w->caller, (w->base + (1u << 20) + 2 * i + 1) % (THREADS << 20),
			     now, &em) != SIGNET_E_NOT_FOUND;
		w->failures += take(w->t, w->caller, w->base + 2 * i, now, &em) !=
			       SIGNET_E_FAILED_PRECONDITION;
		(void)challenge_outstanding(w->t, i % 2 ? w->caller : NULL, now);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct challenge_table *t = table(2 * PER_THREAD, THREADS * 2 * PER_THREAD);
	struct worker w[THREADS];
	pthread_t th[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.t = t, .base = (uint32_t)i << 20};
		snprintf(w[i].caller, sizeof(w[i].caller), "worker-%d", i);
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	/* Each worker left its odd ones. */
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(challenge_outstanding(t, w[i].caller, NOW), PER_THREAD);
	assert_int_equal(challenge_outstanding(t, NULL, NOW), THREADS * PER_THREAD);
	challenge_table_free(t);
}

/* A full table of 100000: refused, then refilled as the old ones expire, then
 * swept in one go. Each step must stay cheap however full the table is. */
static void test_full_table(void **state)
{
	enum { N = 100000 };
	struct challenge_table *t = table(N, N);
	struct errmsg em = {0};

	(void)state;
	/* Created over 50 s, so none has expired at NOW + 50. */
	for (uint32_t i = 0; i < N; i++)
		create_ok(t, i % 3 ? "big" : "small", i, NOW + i / 2000);
	assert_refused(create_at(t, "other", N, NOW + 50, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED,
		       &em, "all callers", N);
	for (uint32_t i = 0; i < N; i += 2)
		assert_int_equal(take(t, i % 3 ? "big" : "small", i, NOW + 50, &em), 0);
	/* All have expired: each new one pushes out one of them. */
	for (uint32_t i = N; i < 2 * N; i++)
		create_ok(t, "new", i, NOW + 50 + TTL);
	assert_int_equal(challenge_outstanding(t, NULL, NOW + 50 + TTL), N);
	assert_int_equal(challenge_outstanding(t, "big", NOW + 50 + TTL), 0);
	assert_refused(take(t, "big", 1, NOW + 50 + TTL, &em), SIGNET_E_NOT_FOUND, &em,
		       "no challenge", 1);
	/* Long after, one call sweeps them all. */
	assert_int_equal(challenge_outstanding(t, NULL, NOW + 1000000), 0);
	create_ok(t, "new", 0, NOW + 1000000);
	challenge_table_free(t);
}

/* Two daemons on one state directory: a challenge made through either is
 * answered through the other, once; their limits count each other's. */
static void test_two_daemons(void **state)
{
	struct challenge_limits lim = {.max_per_caller = 3, .max_total = 100};
	const char *dir = fresh_dir();
	struct ledger *la = ledger_in(dir), *lb = ledger_in(dir);
	struct challenge_table *a = NULL, *b = NULL;
	struct errmsg em = {0};

	(void)state;
	ledger_dirs[n_ledgers - 1][0] = '\0'; /* removed with the first */
	assert_int_equal(challenge_table_new_shared(&lim, NULL, &a), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(challenge_table_new_shared(&lim, la, &a), 0);
	assert_int_equal(challenge_table_new_shared(&lim, lb, &b), 0);
	create_ok(a, "alice", 1, NOW);
	create_ok(b, "alice", 2, NOW);
	assert_int_equal(take(b, "alice", 1, NOW + 1, &em), 0);
	assert_refused(take(a, "alice", 1, NOW + 1, &em), SIGNET_E_FAILED_PRECONDITION, &em,
		       "already used", 1);
	assert_refused(take(a, "bob", 2, NOW + 1, &em), SIGNET_E_NOT_FOUND, &em, "no challenge", 2);
	create_ok(a, "alice", 3, NOW + 1);
	create_ok(a, "alice", 4, NOW + 1);
	assert_refused(create_at(b, "alice", 5, NOW + 1, TTL, &em), SIGNET_E_RESOURCE_EXHAUSTED,
		       &em, "caller 'alice' has 3", 5);
	assert_int_equal(challenge_outstanding(b, "alice", NOW + 1), 3);
	assert_int_equal(take(a, "alice", 2, NOW + 2, &em), 0);
	challenge_table_free(a);
	challenge_table_free(b);
}

/* What both kinds of table must do alike. */
#define COMMON_TESTS                                                                               \
	cmocka_unit_test(test_round_trip_device_id),                                               \
		cmocka_unit_test(test_round_trip_fingerprint), cmocka_unit_test(test_replay),      \
		cmocka_unit_test(test_expired), cmocka_unit_test(test_swept_after_horizon),        \
		cmocka_unit_test(test_other_caller), cmocka_unit_test(test_junk_ids),              \
		cmocka_unit_test(test_limit_per_caller), cmocka_unit_test(test_limit_total),       \
		cmocka_unit_test(test_bad_arguments), cmocka_unit_test(test_duplicate_id),         \
		cmocka_unit_test(test_outstanding), cmocka_unit_test(test_mixed_ttls)

int main(void)
{
	const struct CMUnitTest tests[] = {
		COMMON_TESTS,
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_full_table),
	};
	const struct CMUnitTest shared_tests[] = {
		COMMON_TESTS,
		cmocka_unit_test(test_two_daemons),
	};
	int failed = cmocka_run_group_tests_name("in memory", tests, NULL, NULL);

	return failed +
	       cmocka_run_group_tests_name("shared", shared_tests, setup_shared, teardown_shared);
}
