/*
 * The ledger's reads, on the reader connection beside the writer (WAL;
 * PostgreSQL: a connection of its own): look-ups by serial, key fingerprint
 * and request id, the paged list, the revoked certificates a CRL lists, and
 * other modules' reads (ledger_read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/ledger_internal.h"

/* --- rows --- */

static int text_col(struct sql_stmt *st, int i, char **out)
{
	*out = strdup(sql_col_text(st, i));
	return *out != NULL ? 0 : -1;
}

/* Copy a blob column of exactly `len` bytes; 0 if it has another length. */
static int fixed_blob_col(struct sql_stmt *st, int i, uint8_t *out, size_t len)
{
	size_t n;
	const void *p = sql_col_blob(st, i, &n);

	if (p == NULL || n != len)
		return 0;
	memcpy(out, p, len);
	return 1;
}

static int der_col(struct sql_stmt *st, int i, struct ledger_entry *e)
{
	size_t n;
	const void *p = sql_col_blob(st, i, &n);

	if (p == NULL || n == 0 || (e->der = malloc(n)) == NULL)
		return -1;
	memcpy(e->der, p, n);
	e->der_len = n;
	return 0;
}

static int entry_from_row(struct sql_stmt *st, struct ledger_entry *e, struct errmsg *em)
{
	memset(e, 0, sizeof(*e));
	e->id = sql_col_int64(st, 0);
	snprintf(e->serial, sizeof(e->serial), "%s", sql_col_text(st, 3));
	fixed_blob_col(st, 7, e->spki_sha256, sizeof(e->spki_sha256));
	e->not_before = sql_col_int64(st, 8);
	e->not_after = sql_col_int64(st, 9);
	e->has_request_id = fixed_blob_col(st, 11, e->request_id, sizeof(e->request_id));
	e->issued_at = sql_col_int64(st, 12);
	e->revoked_at = sql_col_int64(st, 14);
	e->reason = (enum ledger_reason)sql_col_int64(st, 15);
	e->invalidity_date = sql_col_int64(st, 16);
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
int ledger_read_entry(struct sql_stmt *st, struct ledger_entry *out, const char *missing,
		      struct errmsg *em)
{
	int r = sql_step(st, "reading a certificate", em);

	if (r == SQL_ROW)
		r = entry_from_row(st, out, em);
	else if (r >= 0)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "%s", missing);
	sql_reset(st);
	return r;
}

/* --- reads --- */

int ledger_find_request(struct ledger *l, const char *caller,
			const uint8_t request_id[LEDGER_REQUEST_ID], struct ledger_entry *out,
			struct errmsg *em)
{
	struct reader *rd;
	struct sql_stmt *st;
	int r;

	if (caller == NULL || request_id == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a request look-up needs a caller and a request id");
	if ((rd = ledger_reader_get(l, em)) == NULL)
		return em != NULL ? em->err : SIGNET_E_UNAVAILABLE;
	st = rd->r[R_FIND_REQUEST];
	sql_bind_text(st, 1, caller);
	sql_bind_blob(st, 2, request_id, LEDGER_REQUEST_ID);
	r = ledger_read_entry(st, out, "ledger: no certificate recorded for this request", em);
	ledger_reader_put(rd);
	return r;
}

int ledger_get(struct ledger *l, const char *serial, const uint8_t *spki_sha256,
	       struct ledger_entry *out, struct errmsg *em)
{
	char norm[LEDGER_SERIAL_MAX], missing[128];
	int by_serial = serial != NULL && *serial != '\0';
	struct reader *rd;
	struct sql_stmt *st;
	int r;

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
	if ((rd = ledger_reader_get(l, em)) == NULL)
		return em != NULL ? em->err : SIGNET_E_UNAVAILABLE;
	st = rd->r[by_serial ? R_BY_SERIAL : R_BY_SPKI];
	if (by_serial)
		sql_bind_text(st, 1, norm);
	else
		sql_bind_blob(st, 1, spki_sha256, 32);
	r = ledger_read_entry(st, out, missing, em);
	ledger_reader_put(rd);
	return r;
}

int ledger_read(struct ledger *l, int (*read)(struct sql_db *db, void *arg, struct errmsg *em),
		void *arg, struct errmsg *em)
{
	struct reader *rd = ledger_reader_get(l, em);
	int r;

	if (rd == NULL)
		return em != NULL ? em->err : SIGNET_E_UNAVAILABLE;
	r = read(rd->db, arg, em);
	ledger_reader_put(rd);
	return r;
}

/* --- list --- */

/* The list query: built from constant fragments only, with the caller's
 * values bound. Parameters are numbered as they are added, without gaps
 * (PostgreSQL must know the type of every number up to the last). */
struct list_query {
	enum sql_backend backend;
	char sql[1536];
	size_t len;
	int n;
	struct {
		const char *text; /* NULL: num */
		int64_t num;
	} param[12];
};

/* Append `fragment` with each "$?" in it naming one new parameter. */
static void add_text(struct list_query *q, const char *fragment, const char *value)
{
	q->n++;
	for (const char *p = fragment; *p != '\0' && q->len < sizeof(q->sql) - 1; p++) {
		if (p[0] == '$' && p[1] == '?') {
			q->len += (size_t)snprintf(q->sql + q->len, sizeof(q->sql) - q->len, "$%d",
						   q->n);
			p++;
		} else {
			q->sql[q->len++] = *p;
			q->sql[q->len] = '\0';
		}
	}
	q->param[q->n - 1].text = value;
}

static void add_num(struct list_query *q, const char *fragment, int64_t value)
{
	add_text(q, fragment, NULL);
	q->param[q->n - 1].num = value;
}

static void add_plain(struct list_query *q, const char *fragment)
{
	if (q->len < sizeof(q->sql))
		q->len +=
			(size_t)snprintf(q->sql + q->len, sizeof(q->sql) - q->len, "%s", fragment);
}

static void list_sql(struct list_query *q, const struct ledger_filter *f, const char *serial,
		     unsigned limit)
{
	char subject[96];

	q->len = (size_t)snprintf(q->sql, sizeof(q->sql), "SELECT %s FROM issued WHERE",
				  ENTRY_COLUMNS);
	add_num(q, " id > $?", f->after_id);
	if (f->ca != NULL && *f->ca != '\0')
		add_text(q, " AND ca = $?", f->ca);
	if (f->profile != NULL && *f->profile != '\0')
		add_text(q, " AND profile = $?", f->profile);
	if (f->subject_contains != NULL) {
		snprintf(subject, sizeof(subject), " AND %s", ledger_subject_match(q->backend));
		add_text(q, subject, f->subject_contains);
	}
	if (serial != NULL)
		add_text(q, " AND serial = $?", serial);
	if (f->valid_at != 0)
		add_num(q, " AND not_before <= $? AND not_after >= $?", f->valid_at);
	if (f->expires_after != 0)
		add_num(q, " AND not_after >= $?", f->expires_after);
	if (f->expires_before != 0)
		add_num(q, " AND not_after < $?", f->expires_before);
	if (f->trail != NULL)
		add_text(q, " AND trail = $?", f->trail);
	if (f->revoked == LEDGER_ONLY_REVOKED)
		add_plain(q, " AND revoked_at IS NOT NULL");
	else if (f->revoked == LEDGER_NOT_REVOKED)
		add_plain(q, " AND revoked_at IS NULL");
	/* one more than asked, to know whether another page follows */
	add_num(q, " ORDER BY id LIMIT $?", (int64_t)limit + 1);
}

static void list_bind(struct sql_stmt *st, const struct list_query *q)
{
	for (int i = 0; i < q->n; i++)
		if (q->param[i].text != NULL)
			sql_bind_text(st, i + 1, q->param[i].text);
		else
			sql_bind_int64(st, i + 1, q->param[i].num);
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
static int list_rows(struct sql_stmt *st, unsigned limit, struct ledger_entry *out, size_t *n,
		     int64_t *next, struct errmsg *em)
{
	int rc = 0, r = 0;

	while (r == 0 && (rc = sql_step(st, "listing certificates", em)) == SQL_ROW) {
		if (*n == limit) {
			*next = out[limit - 1].id;
			return 0;
		}
		if ((r = entry_from_row(st, &out[*n], em)) == 0)
			(*n)++;
	}
	return r != 0 ? r : rc < 0 ? rc : 0;
}

int ledger_list(struct ledger *l, const struct ledger_filter *f, struct ledger_entry **out,
		size_t *n, int64_t *next_after_id, struct errmsg *em)
{
	static const struct ledger_filter everything;
	char norm[LEDGER_SERIAL_MAX];
	struct list_query q = {.backend = l->backend};
	struct ledger_entry *entries = NULL;
	struct sql_stmt *st = NULL;
	struct reader *rd;
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
	list_sql(&q, f, serial, limit);
	if ((rd = ledger_reader_get(l, em)) == NULL) {
		r = em != NULL ? em->err : SIGNET_E_UNAVAILABLE;
		goto out;
	}
	if ((r = sql_prepare(rd->db, q.sql, &st, em)) == 0) {
		list_bind(st, &q);
		r = list_rows(st, limit, entries, &count, &next, em);
	}
	sql_finalize(st);
	ledger_reader_put(rd);
out:
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

static int revoked_push(struct ledger_revoked **v, size_t *n, size_t *cap, struct sql_stmt *st)
{
	struct ledger_revoked *grown, *e;

	if (*n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 64;
		if ((grown = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			return -1;
		*v = grown;
	}
	e = &(*v)[(*n)++];
	snprintf(e->serial, sizeof(e->serial), "%s", sql_col_text(st, 0));
	e->revoked_at = sql_col_int64(st, 1);
	e->reason = (enum ledger_reason)sql_col_int64(st, 2);
	e->invalidity_date = sql_col_int64(st, 3);
	return 0;
}

int ledger_revoked_list(struct ledger *l, const char *issuer_key, int64_t now,
			struct ledger_revoked **out, size_t *n, struct errmsg *em)
{
	struct ledger_revoked *v = NULL;
	struct reader *rd;
	struct sql_stmt *st;
	size_t count = 0, cap = 0;
	int rc, r = 0;

	*out = NULL;
	*n = 0;
	if (!text_ok(issuer_key))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a revocation list needs an issuer key");
	if ((rd = ledger_reader_get(l, em)) == NULL)
		return em != NULL ? em->err : SIGNET_E_UNAVAILABLE;
	st = rd->r[R_REVOKED];
	sql_bind_text(st, 1, issuer_key);
	sql_bind_int64(st, 2, now);
	while ((rc = sql_step(st, "listing revocations", em)) == SQL_ROW)
		if (revoked_push(&v, &count, &cap, st) != 0) {
			r = nomem(em);
			goto out;
		}
	if (rc < 0)
		r = rc;
out:
	sql_reset(st);
	ledger_reader_put(rd);
	if (r != 0) {
		free(v);
		return r;
	}
	*out = v; /* transferred */
	*n = count;
	return 0;
}

/* --- the kept CRLs --- */

struct crl_last_arg {
	const char *issuer_key;
	uint8_t *der;
	size_t len;
	uint64_t number;
};

static int read_crl_last(struct sql_db *db, void *arg, struct errmsg *em)
{
	struct crl_last_arg *a = arg;
	struct sql_stmt *st = NULL;
	const void *der;
	int r;

	if ((r = sql_prepare(db, "SELECT number, der FROM published_crls WHERE issuer_key = $1",
			     &st, em)) != 0)
		return r;
	sql_bind_text(st, 1, a->issuer_key);
	r = sql_step(st, "reading a kept CRL", em);
	if (r == SQL_ROW) {
		a->number = (uint64_t)sql_col_int64(st, 0);
		der = sql_col_blob(st, 1, &a->len);
		r = der != NULL && a->len > 0 && (a->der = malloc(a->len)) != NULL ? 0 : nomem(em);
		if (r == 0)
			memcpy(a->der, der, a->len);
	} else if (r >= 0) {
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "ledger: no CRL kept for key '%s'",
			       a->issuer_key);
	}
	sql_finalize(st);
	return r;
}

int ledger_crl_last(struct ledger *l, const char *issuer_key, uint8_t **der, size_t *len,
		    uint64_t *number, struct errmsg *em)
{
	struct crl_last_arg a = {.issuer_key = issuer_key};
	int r;

	*der = NULL;
	*len = 0;
	if (l->backend == SQL_SQLITE)
		return errmsg_set(em, SIGNET_E_NOT_FOUND,
				  "ledger: CRLs are kept only in PostgreSQL");
	if ((r = ledger_read(l, read_crl_last, &a, em)) != 0)
		return r;
	*der = a.der;
	*len = a.len;
	*number = a.number;
	return 0;
}
