#include "possession/challenge_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define KEY_LEN 32

/* Rows are found by the SHA-256 of the id: the id is a bearer token, and the
 * B-tree's comparisons would time how much of a guessed one matched. */
static int id_key(const uint8_t *raw_id, uint8_t key[KEY_LEN], struct errmsg *em)
{
	if (EVP_Digest(raw_id, CHALLENGE_ID_LEN, key, NULL, EVP_sha256(), NULL) != 1)
		return errmsg_set(em, SIGNET_E_INTERNAL, "challenges: SHA-256 failed");
	return 0;
}

/* A statement whose first parameter is the row's key, bound. */
static int prepare_keyed(struct sql_db *db, const char *sql, const uint8_t *key,
			 struct sql_stmt **st, struct errmsg *em)
{
	int r = sql_prepare(db, sql, st, em);

	if (r == 0)
		sql_bind_blob(*st, 1, key, KEY_LEN);
	return r;
}

/* Run a statement that returns no rows, then finalize it. */
static int run_done(struct sql_stmt *st, const char *what, struct errmsg *em)
{
	int r = sql_run(st, what, em);

	sql_finalize(st);
	return r < 0 ? r : 0;
}

/* The one integer a statement returns, then finalize it. */
static int run_int(struct sql_stmt *st, const char *what, int64_t *out, struct errmsg *em)
{
	int r = sql_step(st, what, em);

	*out = r == SQL_ROW ? sql_col_int64(st, 0) : 0;
	sql_finalize(st);
	return r < 0 ? r : 0;
}

/* Forget what expired more than the grace period ago. */
static int sweep(struct sql_db *db, int64_t now, struct errmsg *em)
{
	struct sql_stmt *st;
	int r;

	if ((r = sql_prepare(db, "DELETE FROM challenges WHERE expires <= $1", &st, em)) != 0)
		return r;
	sql_bind_int64(st, 1,
		       now > INT64_MIN + CHALLENGE_EXPIRED_GRACE ? now - CHALLENGE_EXPIRED_GRACE
								 : INT64_MIN);
	return run_done(st, "sweep", em);
}

static int outstanding(struct sql_db *db, const char *caller, int64_t now, int64_t *n,
		       struct errmsg *em)
{
	struct sql_stmt *st;
	int r;

	r = sql_prepare(db,
			caller != NULL
				? "SELECT count(*) FROM challenges"
				  " WHERE expires > $1 AND caller = $2 AND used = 0"
				: "SELECT count(*) FROM challenges WHERE expires > $1 AND used = 0",
			&st, em);
	if (r != 0)
		return r;
	sql_bind_int64(st, 1, now);
	if (caller != NULL)
		sql_bind_text(st, 2, caller);
	return run_int(st, "counting outstanding challenges", n, em);
}

/* Is there room for one more row? The oldest expired one makes way. */
static int make_room(struct sql_db *db, const struct challenge_limits *lim, int64_t now, int *room,
		     int64_t *count, struct errmsg *em)
{
	struct sql_stmt *st;
	int r;

	*room = 1;
	if ((r = sql_prepare(db, "SELECT n FROM challenge_count", &st, em)) != 0 ||
	    (r = run_int(st, "counting challenges", count, em)) != 0)
		return r;
	if (*count < (int64_t)lim->max_total)
		return 0;
	r = sql_prepare(db,
			"DELETE FROM challenges WHERE id_key = (SELECT id_key FROM challenges"
			" WHERE expires <= $1 ORDER BY expires LIMIT 1)",
			&st, em);
	if (r != 0)
		return r;
	sql_bind_int64(st, 1, now);
	if ((r = run_done(st, "making room", em)) != 0)
		return r;
	*room = sql_changes(db) == 1;
	return 0;
}

static int key_exists(struct sql_db *db, const uint8_t *key, int64_t *exists, struct errmsg *em)
{
	struct sql_stmt *st;
	int r;

	if ((r = prepare_keyed(db, "SELECT count(*) FROM challenges WHERE id_key = $1", key, &st,
			       em)) != 0)
		return r;
	return run_int(st, "looking up an id", exists, em);
}

struct insert_op {
	const struct challenge_limits *lim;
	const struct challenge *c;
	uint8_t key[KEY_LEN];
	int64_t now;
};

static int insert_row(struct sql_db *db, const struct insert_op *op, struct errmsg *em)
{
	const struct challenge *c = op->c;
	struct sql_stmt *st;
	int r;

	r = prepare_keyed(db,
			  "INSERT INTO challenges (id_key, caller, device_id, spki_sha256, nonce,"
			  " created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			  op->key, &st, em);
	if (r != 0)
		return r;
	sql_bind_text(st, 2, c->caller);
	sql_bind_text(st, 3, c->device_id);
	if (c->has_fingerprint)
		sql_bind_blob(st, 4, c->spki_sha256, sizeof(c->spki_sha256));
	else
		sql_bind_null(st, 4);
	sql_bind_blob(st, 5, c->nonce, sizeof(c->nonce));
	sql_bind_int64(st, 6, c->created);
	sql_bind_int64(st, 7, c->expires);
	return run_done(st, "storing a challenge", em);
}

/* The checks and their order are those of the table in memory (insert_locked). */
static int insert_apply(struct sql_db *db, void *arg, struct errmsg *em)
{
	struct insert_op *op = arg;
	int64_t exists, count, mine;
	int r, room;

	if ((r = sweep(db, op->now, em)) != 0 || (r = key_exists(db, op->key, &exists, em)) != 0)
		return r;
	if (exists)
		return errmsg_set(em, SIGNET_E_INTERNAL, "challenge id %s is already in use",
				  op->c->id);
	if ((r = make_room(db, op->lim, op->now, &room, &count, em)) != 0 ||
	    (r = outstanding(db, op->c->caller, op->now, &mine, em)) != 0)
		return r;
	if (mine >= (int64_t)op->lim->max_per_caller)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED,
				  "caller '%s' has %" PRId64 " outstanding challenges, the limit",
				  op->c->caller, mine);
	if (!room)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED,
				  "signetd holds %" PRId64 " challenges, the limit for all callers "
				  "(used ones count until they expire)",
				  count);
	return insert_row(db, op, em);
}

int challenge_db_insert(struct ledger *l, const struct challenge_limits *lim, const uint8_t *raw_id,
			const struct challenge *c, int64_t now, struct errmsg *em)
{
	struct insert_op op = {.lim = lim, .c = c, .now = now};
	int r;

	if ((r = id_key(raw_id, op.key, em)) != 0)
		return r;
	return ledger_write(l, insert_apply, &op, em);
}

struct take_op {
	const char *caller;
	const char *hex;
	uint8_t key[KEY_LEN];
	int64_t now;
	struct challenge c;
};

static int replayed(const struct take_op *op, struct errmsg *em)
{
	return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			  "challenge %s was already used: a replay", op->hex);
}

/* Copy a blob column of exactly `len` bytes; 0 when it is one. */
static int column_blob(struct sql_stmt *st, int col, uint8_t *out, size_t len)
{
	size_t n;
	const void *p = sql_col_blob(st, col, &n);

	if (p == NULL || n != len)
		return -1;
	memcpy(out, p, len);
	return 0;
}

/* Read the row into op->c and say whether it may be taken, as take_locked(). */
static int take_check(struct sql_stmt *st, struct take_op *op, struct errmsg *em)
{
	struct challenge *c = &op->c;
	int rc = sql_step(st, "looking up a challenge", em);

	if (rc < 0)
		return rc;
	/* another caller's challenge is answered as unknown, and left alone */
	if (rc != SQL_ROW || strcmp(sql_col_text(st, 0), op->caller) != 0)
		return errmsg_set(em, SIGNET_E_NOT_FOUND, "no challenge %s", op->hex);
	if (sql_col_int64(st, 6) != 0)
		return replayed(op, em);
	c->expires = sql_col_int64(st, 5);
	if (op->now >= c->expires)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "challenge %s expired %" PRIu64 " s ago", op->hex,
				  (uint64_t)op->now - (uint64_t)c->expires);
	snprintf(c->id, sizeof(c->id), "%s", op->hex);
	snprintf(c->caller, sizeof(c->caller), "%s", op->caller);
	snprintf(c->device_id, sizeof(c->device_id), "%s", sql_col_text(st, 1));
	c->has_fingerprint = column_blob(st, 2, c->spki_sha256, sizeof(c->spki_sha256)) == 0;
	c->created = sql_col_int64(st, 4);
	if (column_blob(st, 3, c->nonce, sizeof(c->nonce)) != 0)
		return errmsg_set(em, SIGNET_E_INTERNAL, "challenge %s has no nonce stored",
				  op->hex);
	return 0;
}

/* The row is marked used only if it still is not: another signetd may
 * have taken it between our read and our update (PostgreSQL re-checks the
 * condition once that one commits), and then this answer is the replay. */
static int take_apply(struct sql_db *db, void *arg, struct errmsg *em)
{
	struct take_op *op = arg;
	struct sql_stmt *st;
	int r;

	if ((r = sweep(db, op->now, em)) != 0)
		return r;
	r = prepare_keyed(db,
			  "SELECT caller, device_id, spki_sha256, nonce, created, expires, used"
			  " FROM challenges WHERE id_key = $1",
			  op->key, &st, em);
	if (r != 0)
		return r;
	r = take_check(st, op, em);
	sql_finalize(st);
	if (r != 0)
		return r;
	/* Only the id, caller and expiry are needed to refuse a replay. */
	if ((r = prepare_keyed(db,
			       "UPDATE challenges SET used = 1, nonce = NULL"
			       " WHERE id_key = $1 AND used = 0",
			       op->key, &st, em)) != 0 ||
	    (r = run_done(st, "consuming a challenge", em)) != 0)
		return r;
	return sql_changes(db) == 1 ? 0 : replayed(op, em);
}

int challenge_db_take(struct ledger *l, const char *caller, const uint8_t *raw_id, const char *hex,
		      int64_t now, struct challenge *out, struct errmsg *em)
{
	struct take_op op = {.caller = caller, .hex = hex, .now = now};
	int r;

	if ((r = id_key(raw_id, op.key, em)) == 0 &&
	    (r = ledger_write(l, take_apply, &op, em)) == 0 && out != NULL)
		*out = op.c;
	OPENSSL_cleanse(&op.c, sizeof(op.c));
	return r;
}

struct count_op {
	const char *caller;
	int64_t now;
	int64_t n;
};

static int count_apply(struct sql_db *db, void *arg, struct errmsg *em)
{
	struct count_op *op = arg;

	return outstanding(db, op->caller, op->now, &op->n, em);
}

size_t challenge_db_outstanding(struct ledger *l, const char *caller, int64_t now)
{
	struct count_op op = {.caller = caller, .now = now};
	struct errmsg em = {0};

	return ledger_write(l, count_apply, &op, &em) == 0 && op.n > 0 ? (size_t)op.n : 0;
}

struct give_back_op {
	const struct challenge *c;
	uint8_t key[KEY_LEN];
};

static int give_back_apply(struct sql_db *db, void *arg, struct errmsg *em)
{
	struct give_back_op *op = arg;
	struct sql_stmt *st;
	int r = prepare_keyed(db,
			      "UPDATE challenges SET used = 0, nonce = $2"
			      " WHERE id_key = $1 AND caller = $3 AND used = 1",
			      op->key, &st, em);

	if (r != 0)
		return r;
	sql_bind_blob(st, 2, op->c->nonce, sizeof(op->c->nonce));
	sql_bind_text(st, 3, op->c->caller);
	return run_done(st, "giving back a challenge", em);
}

int challenge_db_give_back(struct ledger *l, const uint8_t *raw_id, const struct challenge *c,
			   struct errmsg *em)
{
	struct give_back_op op = {.c = c};
	int r;

	if ((r = id_key(raw_id, op.key, em)) == 0)
		r = ledger_write(l, give_back_apply, &op, em);
	OPENSSL_cleanse(op.key, sizeof(op.key));
	return r;
}
