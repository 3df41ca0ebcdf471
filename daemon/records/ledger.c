/*
 * The ledger's writes: recording an issued certificate, revoking one, taking
 * a CRL number and a CA certificate's history, each applied by the writer
 * (writer.c) and durable when the call returns.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "hex.h"
#include "reason.h"
#include "records/ledger_internal.h"

static void format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

int ledger_serial_normalise(const char *in, char out[LEDGER_SERIAL_MAX])
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	size_t len;
	int r = -1;

	if (in == NULL)
		return -1;
	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
		in += 2;
	len = strlen(in);
	if (len == 0 || hex_span(in, len, HEX_EITHER) != len)
		return -1;
	/* leading zeros do not count towards the 20 octets */
	in += strspn(in, "0");
	if (strlen(in) > LEDGER_SERIAL_MAX - 1)
		return -1;
	if (*in == '\0') {
		/* BN_bn2hex writes zero as "0"; keep the form even */
		snprintf(out, LEDGER_SERIAL_MAX, "00");
		return 0;
	}
	if (BN_hex2bn(&bn, in) == 0 || (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	if (strlen(hex) < LEDGER_SERIAL_MAX) {
		snprintf(out, LEDGER_SERIAL_MAX, "%s", hex);
		r = 0;
	}
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* --- record --- */

struct record_arg {
	const struct ledger_entry *e;
	char serial[LEDGER_SERIAL_MAX];
	int queued; /* a batch's entry that passed record_prepare */
};

static int record_valid(const struct ledger_entry *e, struct errmsg *em)
{
	if (!text_ok(e->ca) || !text_ok(e->issuer_key) || !text_ok(e->subject) ||
	    !text_ok(e->profile) || !text_ok(e->caller))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a record needs a CA, issuer key, subject, profile and "
				  "caller of at most %d characters",
				  LEDGER_TEXT_MAX);
	if (e->der == NULL || e->der_len == 0 || e->der_len > INT_MAX)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: a record needs its DER");
	return 0;
}

#define RECORD_PARAMS 14 /* the columns of one row of `issued` an insert gives */

/* Row `row` of a multi-row insert: its parameters start at 14 * row + 1. */
static void bind_record(struct sql_stmt *st, int row, const struct ledger_entry *e,
			const char *serial, const char *trail)
{
	int b = RECORD_PARAMS * row;

	sql_bind_text(st, b + 1, e->ca);
	sql_bind_text(st, b + 2, e->issuer_key);
	sql_bind_text(st, b + 3, serial);
	sql_bind_text(st, b + 4, e->subject);
	sql_bind_text(st, b + 5, e->sans != NULL ? e->sans : "");
	sql_bind_text(st, b + 6, e->profile);
	sql_bind_blob(st, b + 7, e->spki_sha256, sizeof(e->spki_sha256));
	sql_bind_int64(st, b + 8, e->not_before);
	sql_bind_int64(st, b + 9, e->not_after);
	sql_bind_text(st, b + 10, e->caller);
	if (e->has_request_id)
		sql_bind_blob(st, b + 11, e->request_id, sizeof(e->request_id));
	else
		sql_bind_null(st, b + 11);
	sql_bind_int64(st, b + 12, e->issued_at);
	sql_bind_blob(st, b + 13, e->der, e->der_len);
	sql_bind_text(st, b + 14, trail); /* NULL binds NULL */
}

/* The serial recorded for this caller's request id: 1 and `serial` when
 * there is one, 0 when not, < 0 on a database error. */
static int request_recorded(struct ledger *l, const struct ledger_entry *e,
			    char serial[LEDGER_SERIAL_MAX], struct errmsg *em)
{
	struct sql_stmt *st = l->w[W_REQUEST_SERIAL];
	int r;

	if (!e->has_request_id)
		return 0;
	sql_bind_text(st, 1, e->caller);
	sql_bind_blob(st, 2, e->request_id, sizeof(e->request_id));
	r = sql_step(st, "looking up a request id", em);
	if (r == SQL_ROW)
		snprintf(serial, LEDGER_SERIAL_MAX, "%s", sql_col_text(st, 0));
	sql_reset(st);
	return r == SQL_ROW ? 1 : r < 0 ? r : 0;
}

/* A unique key refused the row: say which, as a retry and a serial clash
 * mean different things to the caller. */
static int record_conflict(struct ledger *l, const struct record_arg *a, struct errmsg *em)
{
	char first[LEDGER_SERIAL_MAX];
	int r = request_recorded(l, a->e, first, em);

	if (r < 0)
		return r;
	if (r == 1)
		return errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
				  "ledger: caller '%s' already has this request id recorded "
				  "(certificate %s)",
				  a->e->caller, first);
	return errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
			  "ledger: CA '%s' already has a certificate with serial %s", a->e->ca,
			  a->serial);
}

/* INSERT ... VALUES (row), (row), ... for `rows` certificates. A row that
 * clashes with a unique key (a caller's request id, a CA's serial) is left
 * out by ON CONFLICT DO NOTHING, not an error: in PostgreSQL an error would
 * abort the transaction. Each row inserted is returned by its CA and serial. */
static char *rows_sql(int rows)
{
	static const char head[] = "INSERT INTO issued (ca, issuer_key, serial, subject, sans, "
				   "profile, spki_sha256, not_before, not_after, caller, "
				   "request_id, issued_at, der, trail) VALUES ";
	static const char tail[] = " ON CONFLICT DO NOTHING RETURNING ca, serial";
	size_t len = sizeof(head) + sizeof(tail) + (size_t)rows * RECORD_PARAMS * 8;
	char *sql = malloc(len);
	size_t n;

	if (sql == NULL)
		return NULL;
	n = (size_t)snprintf(sql, len, "%s", head);
	for (int r = 0; r < rows; r++)
		for (int c = 1; c <= RECORD_PARAMS; c++)
			n += (size_t)snprintf(sql + n, len - n, "%s$%d%s",
					      c == 1 ? (r > 0 ? ", (" : "(") : ", ",
					      r * RECORD_PARAMS + c, c == RECORD_PARAMS ? ")" : "");
	snprintf(sql + n, len - n, "%s", tail);
	return sql;
}

static struct sql_stmt *rows_stmt(struct ledger *l, int rows, struct errmsg *em)
{
	char *sql;

	if (l->w_rows[rows - 1] != NULL)
		return l->w_rows[rows - 1];
	if ((sql = rows_sql(rows)) == NULL) {
		nomem(em);
		return NULL;
	}
	if (sql_prepare(l->wdb, sql, &l->w_rows[rows - 1], em) != 0)
		l->w_rows[rows - 1] = NULL;
	free(sql);
	return l->w_rows[rows - 1];
}

/* Which of as[0..n-1] the insert's returned rows are: one each, the first
 * not yet matched with that CA and serial. */
static int mark_inserted(struct sql_stmt *st, struct record_arg *const *as, size_t n, int *inserted,
			 struct errmsg *em)
{
	int r;

	while ((r = sql_step(st, "recording certificates", em)) == SQL_ROW) {
		const char *ca = sql_col_text(st, 0), *serial = sql_col_text(st, 1);

		for (size_t i = 0; i < n; i++)
			if (!inserted[i] && strcmp(as[i]->serial, serial) == 0 &&
			    strcmp(as[i]->e->ca, ca) == 0) {
				inserted[i] = 1;
				break;
			}
	}
	return r < 0 ? r : 0;
}

/* Up to LEDGER_ROWS_MAX records with one statement; rcs[i] and ems[i] say
 * what became of each: 0, ALREADY_EXISTS (which key refused it), or the
 * statement's error for all. */
static void insert_chunk(struct ledger *l, struct record_arg *const *as, struct errmsg *const *ems,
			 int *rcs, size_t n)
{
	int inserted[LEDGER_ROWS_MAX] = {0};
	struct errmsg why = {0};
	struct sql_stmt *st = rows_stmt(l, (int)n, &why);
	int r = st == NULL ? why.err : 0;

	if (r == 0) {
		for (size_t i = 0; i < n; i++)
			bind_record(st, (int)i, as[i]->e, as[i]->serial, l->trail);
		r = mark_inserted(st, as, n, inserted, &why);
		sql_reset(st);
	}
	for (size_t i = 0; i < n; i++) {
		if (r != 0)
			rcs[i] = errmsg_set(ems[i], r, "%s", why.text);
		else
			rcs[i] = inserted[i] ? 0 : record_conflict(l, as[i], ems[i]);
	}
}

/* Any number of records, LEDGER_ROWS_MAX at a time. */
static void insert_records(struct ledger *l, struct record_arg *const *as,
			   struct errmsg *const *ems, int *rcs, size_t n)
{
	for (size_t i = 0; i < n; i += LEDGER_ROWS_MAX) {
		size_t k = n - i < LEDGER_ROWS_MAX ? n - i : LEDGER_ROWS_MAX;

		insert_chunk(l, as + i, ems + i, rcs + i, k);
		if (!sql_in_transaction(l->wdb) || sql_transaction_failed(l->wdb))
			break; /* run_batch fails them all */
	}
}

/* The queued ledger_record() calls of one batch, with one insert. */
static void group_records(struct ledger *l, struct op **ops, size_t n)
{
	struct record_arg *as[LEDGER_ROWS_MAX];
	struct errmsg *ems[LEDGER_ROWS_MAX];
	int rcs[LEDGER_ROWS_MAX];

	for (size_t i = 0; i < n; i++) {
		as[i] = ops[i]->arg;
		ems[i] = ops[i]->em;
	}
	insert_records(l, as, ems, rcs, n);
	for (size_t i = 0; i < n; i++)
		ops[i]->rc = rcs[i];
}

/* An entry checked before it is queued, its serial in the ledger's form. */
static int record_prepare(const struct ledger_entry *e, struct record_arg *a, struct errmsg *em)
{
	int r;

	a->e = e;
	if ((r = record_valid(e, em)) != 0)
		return r;
	if (ledger_serial_normalise(e->serial, a->serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: serial '%.64s' is not hex of at most 20 octets",
				  e->serial);
	return 0;
}

int ledger_record(struct ledger *l, const struct ledger_entry *e, struct errmsg *em)
{
	struct record_arg a;
	int r;

	if ((r = record_prepare(e, &a, em)) != 0)
		return r;
	return ledger_submit_grouped(l, group_records, &a, em);
}

struct record_batch_arg {
	struct record_arg *a;
	size_t n;
	int *rcs;
	struct errmsg *em;
};

/* The entries queued (those record_prepare passed), with multi-row
 * inserts: one entry's clash leaves the others and the transaction as they
 * were (ON CONFLICT DO NOTHING), and no savepoint is needed. A database
 * error that fails the transaction fails the op (run_batch). */
static int apply_record_batch(struct ledger *l, void *arg, struct errmsg *em)
{
	struct record_batch_arg *b = arg;
	struct record_arg **as = calloc(b->n, sizeof(*as));
	struct errmsg **ems = calloc(b->n, sizeof(*ems));
	int *rcs = calloc(b->n, sizeof(*rcs));
	size_t k = 0;

	if (as == NULL || ems == NULL || rcs == NULL) {
		free(as);
		free(ems);
		free(rcs);
		return nomem(em);
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->a[i].queued) {
			as[k] = &b->a[i];
			ems[k++] = &b->em[i];
		}
	insert_records(l, as, ems, rcs, k);
	for (size_t i = 0, j = 0; i < b->n; i++)
		if (b->a[i].queued)
			b->rcs[i] = rcs[j++];
	free(as);
	free(ems);
	free(rcs);
	return 0;
}

int ledger_record_batch(struct ledger *l, const struct ledger_entry *const *entries, size_t n,
			int *rcs, struct errmsg *em)
{
	struct record_batch_arg b = {.n = n, .rcs = rcs, .em = em};
	struct errmsg whole = {0};
	size_t queued = 0;
	int r = 0;

	if (n > 0 && (b.a = calloc(n, sizeof(*b.a))) == NULL) {
		r = nomem(&whole);
		for (size_t i = 0; i < n; i++)
			rcs[i] = r, em[i] = whole;
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		em[i].err = 0;
		em[i].text[0] = '\0';
		rcs[i] = record_prepare(entries[i], &b.a[i], &em[i]);
		b.a[i].queued = rcs[i] == 0;
		queued += (size_t)b.a[i].queued;
	}
	if (queued > 0)
		r = ledger_submit_single(l, apply_record_batch, &b, &whole);
	/* the transaction rolled back: none of the op's rows is in the ledger,
	 * whatever each insert said before */
	for (size_t i = 0; r != 0 && i < n; i++)
		if (b.a[i].queued)
			rcs[i] = r, em[i] = whole;
	free(b.a);
	return r;
}

/* --- revoke --- */

struct revoke_arg {
	const char *ca;
	char serial[LEDGER_SERIAL_MAX];
	enum ledger_reason reason;
	int64_t invalidity_date;
	int64_t now;
	struct ledger_entry entry; /* the revoked certificate, filled by the writer */
};

/* Not in this CA: another CA's certificate, or none at all. */
static int revoke_missing(struct ledger *l, const struct revoke_arg *a, struct errmsg *em)
{
	struct sql_stmt *st = l->w[W_CA_OF_SERIAL];
	int r;

	sql_bind_text(st, 1, a->serial);
	r = sql_step(st, "looking up a serial", em);
	if (r == SQL_ROW)
		r = errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			       "ledger: certificate %s was issued by CA '%s', not by '%s'",
			       a->serial, sql_col_text(st, 0), a->ca);
	else if (r >= 0)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "ledger: no certificate with serial %s",
			       a->serial);
	sql_reset(st);
	return r;
}

static int revoked_already(const struct revoke_arg *a, int64_t at, int reason, struct errmsg *em)
{
	char when[64];

	format_time(at, when, sizeof(when));
	return errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
			  "ledger: certificate %s of CA '%s' was revoked already, at %s "
			  "(reason %d)",
			  a->serial, a->ca, when, reason);
}

/* The update names the row and that it is still unrevoked: when another
 * host revoked it since it was read, nothing changes. */
static int revoke_update(struct ledger *l, struct revoke_arg *a, struct errmsg *em)
{
	struct sql_stmt *st = l->w[W_REVOKE];
	int r;

	sql_bind_int64(st, 1, a->now);
	sql_bind_int64(st, 2, (int64_t)a->reason);
	if (a->invalidity_date != 0)
		sql_bind_int64(st, 3, a->invalidity_date);
	else
		sql_bind_null(st, 3);
	sql_bind_int64(st, 4, a->entry.id);
	if ((r = stmt_run(st, "revoking", em)) != 0)
		return r;
	if (sql_changes(l->wdb) != 1)
		return revoked_already(a, a->now, (int)a->reason, em);
	return 0;
}

static int apply_revoke(struct ledger *l, void *arg, struct errmsg *em)
{
	struct revoke_arg *a = arg;
	struct sql_stmt *st = l->w[W_BY_CA_SERIAL];
	int r;

	sql_bind_text(st, 1, a->ca);
	sql_bind_text(st, 2, a->serial);
	r = ledger_read_entry(st, &a->entry, "", em);
	if (r == SIGNET_E_NOT_FOUND)
		return revoke_missing(l, a, em);
	if (r != 0)
		return r;
	if (a->entry.revoked_at != 0) {
		r = revoked_already(a, a->entry.revoked_at, (int)a->entry.reason, em);
		goto out;
	}
	if ((r = revoke_update(l, a, em)) != 0)
		goto out;
	a->entry.revoked_at = a->now;
	a->entry.reason = a->reason;
	a->entry.invalidity_date = a->invalidity_date;
out:
	if (r != 0)
		ledger_entry_release(&a->entry);
	return r;
}

int ledger_revoke(struct ledger *l, const char *ca, const char *serial, enum ledger_reason reason,
		  int64_t invalidity_date, int64_t now, struct ledger_entry *out, struct errmsg *em)
{
	struct revoke_arg a = {
		.ca = ca, .reason = reason, .invalidity_date = invalidity_date, .now = now};
	int r;

	if (!text_ok(ca) || ledger_serial_normalise(serial, a.serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: revoking needs a CA and a serial in hex of at most "
				  "20 octets");
	if (!reason_valid((int)reason))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: %d is not a revocation reason", (int)reason);
	if (now <= 0 || invalidity_date < 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: revocation and invalidity times must be positive");
	r = ledger_submit(l, apply_revoke, &a, em);
	if (r == 0 && out != NULL)
		*out = a.entry; /* transferred */
	else
		ledger_entry_release(&a.entry);
	return r;
}

/* --- CRL numbers and CA events --- */

struct crl_arg {
	const char *issuer_key;
	uint64_t number;
};

static int apply_crl_number(struct ledger *l, void *arg, struct errmsg *em)
{
	struct crl_arg *a = arg;
	struct sql_stmt *st = l->w[W_CRL_BUMP];
	int r;

	sql_bind_text(st, 1, a->issuer_key);
	r = sql_step(st, "taking a CRL number", em);
	if (r == SQL_ROW) {
		a->number = (uint64_t)sql_col_int64(st, 0);
		r = 0;
	} else if (r >= 0) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: taking a CRL number: no number");
	}
	sql_reset(st);
	return r;
}

int ledger_next_crl_number(struct ledger *l, const char *issuer_key, uint64_t *out,
			   struct errmsg *em)
{
	struct crl_arg a = {.issuer_key = issuer_key};
	int r;

	if (!text_ok(issuer_key) || *issuer_key == '\0')
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a CRL number needs an issuer key");
	if ((r = ledger_submit(l, apply_crl_number, &a, em)) == 0)
		*out = a.number;
	return r;
}

struct crl_keep_arg {
	const char *issuer_key;
	uint64_t number;
	const uint8_t *der;
	size_t len;
	int64_t at;
};

static int apply_crl_keep(struct ledger *l, void *arg, struct errmsg *em)
{
	static const char sql[] =
		"INSERT INTO published_crls (issuer_key, number, der, at) VALUES ($1, $2, $3, $4) "
		"ON CONFLICT (issuer_key) DO UPDATE SET number = excluded.number, "
		"der = excluded.der, at = excluded.at "
		"WHERE published_crls.number < excluded.number";
	struct crl_keep_arg *a = arg;
	struct sql_stmt *st = NULL;
	int r;

	if ((r = sql_prepare(l->wdb, sql, &st, em)) != 0)
		return r;
	sql_bind_text(st, 1, a->issuer_key);
	sql_bind_int64(st, 2, (int64_t)a->number);
	sql_bind_blob(st, 3, a->der, a->len);
	sql_bind_int64(st, 4, a->at);
	r = stmt_run(st, "keeping a CRL", em);
	sql_finalize(st);
	return r;
}

int ledger_crl_keep(struct ledger *l, const char *issuer_key, uint64_t number, const uint8_t *der,
		    size_t len, int64_t at, struct errmsg *em)
{
	struct crl_keep_arg a = {
		.issuer_key = issuer_key, .number = number, .der = der, .len = len, .at = at};

	if (l->backend == SQL_SQLITE)
		return 0;
	if (!text_ok(issuer_key) || der == NULL || len == 0 || number > INT64_MAX)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: keeping a CRL needs its issuer key, number and DER");
	return ledger_submit(l, apply_crl_keep, &a, em);
}

struct ca_event_arg {
	const char *ca, *event, *key_label;
	char serial[LEDGER_SERIAL_MAX];
	const uint8_t *der;
	size_t der_len;
	int64_t at;
};

static int apply_ca_event(struct ledger *l, void *arg, struct errmsg *em)
{
	struct ca_event_arg *a = arg;
	struct sql_stmt *st = l->w[W_CA_EVENT];

	sql_bind_text(st, 1, a->ca);
	sql_bind_text(st, 2, a->event);
	sql_bind_text(st, 3, a->key_label);
	sql_bind_text(st, 4, a->serial);
	sql_bind_blob(st, 5, a->der, a->der_len);
	sql_bind_int64(st, 6, a->at);
	return stmt_run(st, "recording a CA event", em);
}

static int event_known(const char *event)
{
	static const char *const known[] = {"create", "renew", "rekey", "import"};

	for (size_t i = 0; event != NULL && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(event, known[i]) == 0)
			return 1;
	return 0;
}

int ledger_ca_event(struct ledger *l, const char *ca, const char *event, const char *key_label,
		    const char *serial, const uint8_t *der, size_t der_len, int64_t at,
		    struct errmsg *em)
{
	struct ca_event_arg a = {.ca = ca,
				 .event = event,
				 .key_label = key_label,
				 .der = der,
				 .der_len = der_len,
				 .at = at};

	if (!event_known(event))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: unknown CA event '%.32s'",
				  event != NULL ? event : "");
	if (!text_ok(ca) || !text_ok(key_label) || der == NULL || der_len == 0 ||
	    der_len > INT_MAX || ledger_serial_normalise(serial, a.serial) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: a CA event needs a CA, a key label, a serial and the "
				  "certificate");
	return ledger_submit(l, apply_ca_event, &a, em);
}
