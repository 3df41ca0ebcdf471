/*
 * The ledger's reads, on the reader connection beside the writer (WAL):
 * look-ups by serial, key fingerprint and request id, the paged list, and
 * the revoked certificates a CRL lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "records/ledger_internal.h"

/* --- rows --- */

static int text_col(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	*out = s != NULL ? strdup((const char *)s) : NULL;
	return *out != NULL ? 0 : -1;
}

static int64_t int_col(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

/* Copy a blob column of exactly `len` bytes; 0 if it has another length. */
static int fixed_blob_col(sqlite3_stmt *st, int i, uint8_t *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, i);

	if (p == NULL || (size_t)sqlite3_column_bytes(st, i) != len)
		return 0;
	memcpy(out, p, len);
	return 1;
}

static int der_col(sqlite3_stmt *st, int i, struct ledger_entry *e)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);

	if (p == NULL || n <= 0 || (e->der = malloc((size_t)n)) == NULL)
		return -1;
	memcpy(e->der, p, (size_t)n);
	e->der_len = (size_t)n;
	return 0;
}

static int entry_from_row(sqlite3_stmt *st, struct ledger_entry *e, struct errmsg *em)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	snprintf(e->serial, sizeof(e->serial), "%s", str_col(st, 3));
	fixed_blob_col(st, 7, e->spki_sha256, sizeof(e->spki_sha256));
	e->not_before = int_col(st, 8);
	e->not_after = int_col(st, 9);
	e->has_request_id = fixed_blob_col(st, 11, e->request_id, sizeof(e->request_id));
	e->issued_at = int_col(st, 12);
	e->revoked_at = int_col(st, 14);
	e->reason = (enum ledger_reason)int_col(st, 15);
	e->invalidity_date = int_col(st, 16);
	if (text_col(st, 1, &e->ca) != 0 || text_col(st, 2, &e->issuer_key) != 0 ||
	    text_col(st, 4, &e->subject) != 0 || text_col(st, 5, &e->sans) != 0 ||
	    text_col(st, 6, &e->profile) != 0 || text_col(st, 10, &e->caller) != 0 ||
	    der_col(st, 13, e) != 0) {
		ledger_entry_release(e);
		return nomem(em);
	}
	return 0;
}

void ledger_entry_release(struct ledger_entry *e)
{
	if (e == NULL)
		return;
	free(e->ca);
	free(e->issuer_key);
	free(e->subject);
	free(e->sans);
	free(e->profile);
	free(e->caller);
	free(e->der);
	memset(e, 0, sizeof(*e));
}

void ledger_list_free(struct ledger_entry *entries, size_t n)
{
	if (entries == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		ledger_entry_release(&entries[i]);
	free(entries);
}

/* Step a statement expected to give at most one entry; NOT_FOUND with
 * `missing` when it gives none. Resets it. */
int ledger_read_entry(sqlite3_stmt *st, struct ledger_entry *out, const char *missing,
		      struct errmsg *em)
{
	int rc = sqlite3_step(st), r;

	if (rc == SQLITE_ROW)
		r = entry_from_row(st, out, em);
	else if (rc == SQLITE_DONE)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "%s", missing);
	else
		r = db_error(em, sqlite3_db_handle(st), "reading a certificate");
	stmt_done(st);
	return r;
}

/* --- reads --- */

int ledger_find_request(struct ledger *l, const char *caller,
			const uint8_t request_id[LEDGER_REQUEST_ID], struct ledger_entry *out,
			struct errmsg *em)
{
	sqlite3_stmt *st = l->r[R_FIND_REQUEST];
	int r;

	if (caller == NULL || request_id == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a request look-up needs a caller and a request id");
	pthread_mutex_lock(&l->rlock);
	if (sqlite3_bind_text(st, 1, caller, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 2, request_id, LEDGER_REQUEST_ID, SQLITE_STATIC) != SQLITE_OK) {
		stmt_done(st);
		r = db_error(em, l->rdb, "looking up a request");
	} else {
		r = ledger_read_entry(st, out, "ledger: no certificate recorded for this request",
				      em);
	}
	pthread_mutex_unlock(&l->rlock);
	return r;
}

int ledger_get(struct ledger *l, const char *serial, const uint8_t *spki_sha256,
	       struct ledger_entry *out, struct errmsg *em)
{
	char norm[LEDGER_SERIAL_MAX], missing[128];
	int by_serial = serial != NULL && *serial != '\0';
	sqlite3_stmt *st = l->r[by_serial ? R_BY_SERIAL : R_BY_SPKI];
	int rc, r;

	if (by_serial && ledger_serial_normalise(serial, norm) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: serial '%.64s' is not hex of at most 20 octets", serial);
	if (!by_serial && spki_sha256 == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: give a serial or a key fingerprint");
	if (by_serial)
		snprintf(missing, sizeof(missing), "ledger: no certificate with serial %s", norm);
	else
		snprintf(missing, sizeof(missing), "ledger: no certificate for that key");
	pthread_mutex_lock(&l->rlock);
	if (by_serial)
		rc = sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
	else
		rc = sqlite3_bind_blob(st, 1, spki_sha256, 32, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		r = db_error(em, l->rdb, "looking up a certificate");
	} else {
		r = ledger_read_entry(st, out, missing, em);
	}
	pthread_mutex_unlock(&l->rlock);
	return r;
}

/* --- list --- */

/* Parameters of the list query, by number. */
enum {
	P_AFTER = 1,
	P_CA,
	P_PROFILE,
	P_SUBJECT,
	P_SERIAL,
	P_VALID_AT,
	P_EXP_AFTER,
	P_EXP_BEFORE,
	P_TRAIL,
	P_LIMIT
};

/* The query is built from constant fragments only; user input is bound. */
static void list_sql(const struct ledger_filter *f, const char *serial, char *sql, size_t len)
{
	size_t n = (size_t)snprintf(sql, len, "SELECT %s FROM issued WHERE id > ?%d", ENTRY_COLUMNS,
				    P_AFTER);

#define APPEND(...)                                                                                \
	do {                                                                                       \
		if (n < len)                                                                       \
			n += (size_t)snprintf(sql + n, len - n, __VA_ARGS__);                      \
	} while (0)
	if (f->ca != NULL && *f->ca != '\0')
		APPEND(" AND ca = ?%d", P_CA);
	if (f->profile != NULL && *f->profile != '\0')
		APPEND(" AND profile = ?%d", P_PROFILE);
	if (f->subject_contains != NULL)
		APPEND(" AND instr(lower(subject), lower(?%d)) > 0", P_SUBJECT);
	if (serial != NULL)
		APPEND(" AND serial = ?%d", P_SERIAL);
	if (f->valid_at != 0)
		APPEND(" AND not_before <= ?%d AND not_after >= ?%d", P_VALID_AT, P_VALID_AT);
	if (f->expires_after != 0)
		APPEND(" AND not_after >= ?%d", P_EXP_AFTER);
	if (f->expires_before != 0)
		APPEND(" AND not_after < ?%d", P_EXP_BEFORE);
	if (f->trail != NULL)
		APPEND(" AND trail = ?%d", P_TRAIL);
	if (f->revoked == LEDGER_ONLY_REVOKED)
		APPEND(" AND revoked_at IS NOT NULL");
	else if (f->revoked == LEDGER_NOT_REVOKED)
		APPEND(" AND revoked_at IS NULL");
	APPEND(" ORDER BY id LIMIT ?%d", P_LIMIT);
#undef APPEND
}

static int list_bind(sqlite3_stmt *st, const struct ledger_filter *f, const char *serial,
		     unsigned limit)
{
	int rc = sqlite3_bind_int64(st, P_AFTER, f->after_id);

	if (rc == SQLITE_OK && f->ca != NULL && *f->ca != '\0')
		rc = sqlite3_bind_text(st, P_CA, f->ca, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && f->profile != NULL && *f->profile != '\0')
		rc = sqlite3_bind_text(st, P_PROFILE, f->profile, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && f->subject_contains != NULL)
		rc = sqlite3_bind_text(st, P_SUBJECT, f->subject_contains, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && serial != NULL)
		rc = sqlite3_bind_text(st, P_SERIAL, serial, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && f->valid_at != 0)
		rc = sqlite3_bind_int64(st, P_VALID_AT, f->valid_at);
	if (rc == SQLITE_OK && f->expires_after != 0)
		rc = sqlite3_bind_int64(st, P_EXP_AFTER, f->expires_after);
	if (rc == SQLITE_OK && f->expires_before != 0)
		rc = sqlite3_bind_int64(st, P_EXP_BEFORE, f->expires_before);
	if (rc == SQLITE_OK && f->trail != NULL)
		rc = sqlite3_bind_text(st, P_TRAIL, f->trail, -1, SQLITE_STATIC);
	/* one more than asked, to know whether another page follows */
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, P_LIMIT, (int)limit + 1);
	return rc;
}

static int list_filter_valid(const struct ledger_filter *f, char serial[LEDGER_SERIAL_MAX],
			     struct errmsg *em)
{
	if ((f->ca != NULL && strlen(f->ca) > LEDGER_TEXT_MAX) ||
	    (f->profile != NULL && strlen(f->profile) > LEDGER_TEXT_MAX) ||
	    (f->subject_contains != NULL && strlen(f->subject_contains) > LEDGER_TEXT_MAX) ||
	    (f->trail != NULL && strlen(f->trail) > LEDGER_TEXT_MAX))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a filter is longer than %d characters", LEDGER_TEXT_MAX);
	if (f->serial != NULL && ledger_serial_normalise(f->serial, serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: serial '%.64s' is not hex of at most 20 octets",
				  f->serial);
	if (f->revoked != LEDGER_ANY && f->revoked != LEDGER_ONLY_REVOKED &&
	    f->revoked != LEDGER_NOT_REVOKED)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: bad revocation filter");
	return 0;
}

/* Step the prepared list query into out[], at most `limit` entries. */
static int list_rows(sqlite3_stmt *st, unsigned limit, struct ledger_entry *out, size_t *n,
		     int64_t *next, struct errmsg *em)
{
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == limit) {
			*next = out[limit - 1].id;
			return 0;
		}
		if ((r = entry_from_row(st, &out[*n], em)) == 0)
			(*n)++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(em, sqlite3_db_handle(st), "listing certificates");
	return r;
}

int ledger_list(struct ledger *l, const struct ledger_filter *f, struct ledger_entry **out,
		size_t *n, int64_t *next_after_id, struct errmsg *em)
{
	static const struct ledger_filter everything;
	char norm[LEDGER_SERIAL_MAX], sql[1024];
	struct ledger_entry *entries = NULL;
	sqlite3_stmt *st = NULL;
	const char *serial;
	size_t count = 0;
	int64_t next = 0;
	unsigned limit;
	int r;

	*out = NULL;
	*n = 0;
	*next_after_id = 0;
	if (f == NULL)
		f = &everything;
	if ((r = list_filter_valid(f, norm, em)) != 0)
		return r;
	serial = f->serial != NULL ? norm : NULL;
	limit = f->limit == 0 || f->limit > LEDGER_LIST_MAX ? LEDGER_LIST_MAX : f->limit;
	if ((entries = calloc(limit, sizeof(*entries))) == NULL)
		return nomem(em);
	list_sql(f, serial, sql, sizeof(sql));
	pthread_mutex_lock(&l->rlock);
	if (sqlite3_prepare_v2(l->rdb, sql, -1, &st, NULL) != SQLITE_OK ||
	    list_bind(st, f, serial, limit) != SQLITE_OK) {
		r = db_error(em, l->rdb, "listing certificates");
		goto out;
	}
	r = list_rows(st, limit, entries, &count, &next, em);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&l->rlock);
	if (r != 0) {
		ledger_list_free(entries, count);
		return r;
	}
	*out = entries; /* transferred */
	*n = count;
	*next_after_id = next;
	return 0;
}

/* --- revoked list --- */

static int revoked_push(struct ledger_revoked **v, size_t *n, size_t *cap, sqlite3_stmt *st)
{
	struct ledger_revoked *grown, *e;

	if (*n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 64;
		if ((grown = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			return -1;
		*v = grown;
	}
	e = &(*v)[(*n)++];
	snprintf(e->serial, sizeof(e->serial), "%s", str_col(st, 0));
	e->revoked_at = int_col(st, 1);
	e->reason = (enum ledger_reason)int_col(st, 2);
	e->invalidity_date = int_col(st, 3);
	return 0;
}

int ledger_revoked_list(struct ledger *l, const char *issuer_key, int64_t now,
			struct ledger_revoked **out, size_t *n, struct errmsg *em)
{
	sqlite3_stmt *st = l->r[R_REVOKED];
	struct ledger_revoked *v = NULL;
	size_t count = 0, cap = 0;
	int rc, r = 0;

	*out = NULL;
	*n = 0;
	if (!text_ok(issuer_key))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a revocation list needs an issuer key");
	pthread_mutex_lock(&l->rlock);
	if (sqlite3_bind_text(st, 1, issuer_key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK) {
		r = db_error(em, l->rdb, "listing revocations");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (revoked_push(&v, &count, &cap, st) != 0) {
			r = nomem(em);
			goto out;
		}
	if (rc != SQLITE_DONE)
		r = db_error(em, l->rdb, "listing revocations");
out:
	stmt_done(st);
	pthread_mutex_unlock(&l->rlock);
	if (r != 0) {
		free(v);
		return r;
	}
	*out = v; /* transferred */
	*n = count;
	return 0;
}
