/*
 * Challenges kept in the ledger's database (table `challenges`) instead of
 * memory, so that every signetd on one state directory shares them: a
 * challenge made through one instance is answered through any other, and
 * only once, whichever answers. Used by challenge.c for a table made with
 * challenge_table_new_shared(), after it has checked the arguments; the
 * rules and messages are those of its table in memory. Each call is one
 * write through ledger_write(), so it is durable before it returns and needs
 * a writable state directory (UNAVAILABLE otherwise).
 */
#ifndef SIGNETD_CHALLENGE_DB_H
#define SIGNETD_CHALLENGE_DB_H

#include "possession/challenge.h"
#include "records/ledger.h"

/* Store `c` (its id is raw_id in hex), within `lim`, sweeping what expired
 * more than CHALLENGE_EXPIRED_GRACE before `now`. */
int challenge_db_insert(struct ledger *l, const struct challenge_limits *lim, const uint8_t *raw_id,
			const struct challenge *c, int64_t now, struct errmsg *em);

/* Consume the challenge raw_id (`hex` for messages) for `caller`, as
 * challenge_take(). *out may be NULL. */
int challenge_db_take(struct ledger *l, const char *caller, const uint8_t *raw_id, const char *hex,
		      int64_t now, struct challenge *out, struct errmsg *em);

/* Undo a challenge_db_take() of `c` (as it returned it, nonce included)
 * whose use came to nothing: it may be taken again until it expires. For
 * enrolment codes, which only a certificate should use up. */
int challenge_db_give_back(struct ledger *l, const uint8_t *raw_id, const struct challenge *c,
			   struct errmsg *em);

/* Outstanding (unused, unexpired) challenges of `caller`, or of all when
 * NULL; 0 when the database cannot be read. */
size_t challenge_db_outstanding(struct ledger *l, const char *caller, int64_t now);

#endif
