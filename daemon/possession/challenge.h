/*
 * Proof-of-possession challenges: single-use random nonces, each bound to
 * the device it is for (a device ID, i.e. the leaf certificate's CN, or the
 * SHA-256 of its SubjectPublicKeyInfo) and to the caller that asked, with an
 * expiry. Held in memory: a restart voids every outstanding challenge, which
 * fails safe (the device is asked again). A shared table
 * (challenge_table_new_shared) keeps them in the ledger's database instead,
 * for several signetd on one state directory (challenge_db.h).
 *
 * Bounded: at most max_per_caller outstanding challenges per caller and
 * max_total entries in all (RESOURCE_EXHAUSTED beyond); expired ones stop
 * counting whenever the table is touched, and are dropped a grace period
 * (5 minutes) later, or sooner when the table is full, so that a late answer
 * is told "expired" rather than "no challenge". A challenge is consumed by
 * the first attempt to use it, whatever that attempt's outcome, and is then
 * remembered as used at least until it would have expired, so a replay is
 * told apart from an unknown id.
 *
 * Thread-safe. Time is passed in by the caller (seconds), for tests.
 */
#ifndef SIGNETD_CHALLENGE_H
#define SIGNETD_CHALLENGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/errmsg.h"

#define CHALLENGE_ID_LEN	16 /* random bytes; 32 hex digits on the wire */
#define CHALLENGE_NONCE_LEN	32
#define CHALLENGE_DEVICE_ID_MAX 128
#define CHALLENGE_CALLER_MAX	64
/* How long an expired challenge is remembered, unless room is needed sooner. */
#define CHALLENGE_EXPIRED_GRACE 300

struct ledger;

struct challenge_table;

struct challenge_limits {
	unsigned max_per_caller; /* outstanding (unused, unexpired) per caller */
	unsigned max_total;	 /* entries in the table, used ones included */
};

struct challenge {
	char id[2 * CHALLENGE_ID_LEN + 1]; /* lower-case hex */
	uint8_t nonce[CHALLENGE_NONCE_LEN];
	char device_id[CHALLENGE_DEVICE_ID_MAX + 1]; /* "" when bound to a fingerprint */
	uint8_t spki_sha256[32];
	int has_fingerprint;
	char caller[CHALLENGE_CALLER_MAX + 1];
	int64_t created;
	int64_t expires;
};

int challenge_table_new(const struct challenge_limits *limits, struct challenge_table **out);
/* The same rules, the challenges kept in `ledger`'s database and shared with
 * every other signetd using it; each create and take is a durable write. */
int challenge_table_new_shared(const struct challenge_limits *limits, struct ledger *ledger,
			       struct challenge_table **out);
void challenge_table_free(struct challenge_table *t);

/*
 * A new challenge for `caller`, bound to `device_id` (non-empty) or, when
 * device_id is NULL or "", to `spki_sha256` (32 bytes; INVALID_ARGUMENT if
 * neither is given, or both). `nonce` (CHALLENGE_NONCE_LEN bytes) and `id`
 * (CHALLENGE_ID_LEN bytes) are random bytes the caller drew (the token's RNG
 * or OpenSSL's); an id already in the table is INTERNAL. RESOURCE_EXHAUSTED
 * past the limits, the message saying which. *out (may be NULL) receives a
 * copy.
 */
int challenge_create(struct challenge_table *t, const char *caller, const char *device_id,
		     const uint8_t *spki_sha256, const uint8_t *id, const uint8_t *nonce,
		     int64_t now, int64_t ttl_seconds, struct challenge *out, struct errmsg *em);

/*
 * Consume the challenge `id` (hex) for `caller`: *out receives it and it can
 * never be used again. NOT_FOUND for an id never issued (or issued to another
 * caller: callers cannot use each other's challenges), FAILED_PRECONDITION
 * for one already used ("already used: a replay") or expired ("expired N s
 * ago").
 */
int challenge_take(struct challenge_table *t, const char *caller, const char *id, int64_t now,
		   struct challenge *out, struct errmsg *em);

/* Outstanding (unused, unexpired) challenges of `caller`, or of all when NULL. */
size_t challenge_outstanding(struct challenge_table *t, const char *caller, int64_t now);

#endif
