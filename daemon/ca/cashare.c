/*
 * The CA store shared through the database (cashare.h). Rows of ca_records
 * are only ever inserted, under a table lock held to the end of the
 * inserting transaction, so ids become visible in order and "every row
 * after the last one copied" misses none.
 */
#include "ca/cashare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/monotime.h"

#define PULL_MAX 64 /* rows copied per look; the rest at the next */

struct publish_op {
	const char *name, *replaces;
	char serial[41];
	char *text;
	int64_t at;
};

static int publish_apply(struct sql_db *db, void *arg, struct errmsg *em)
{
	static const char sql[] = "INSERT INTO ca_records (name, replaces, serial, record, at) "
				  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id";
	struct publish_op *op = arg;
	struct sql_stmt *st = NULL;
	int r;

	if ((r = sql_exec(db, "LOCK TABLE ca_records IN EXCLUSIVE MODE", em)) != 0 ||
	    (r = sql_prepare(db, sql, &st, em)) != 0)
		return r;
	sql_bind_text(st, 1, op->name);
	sql_bind_text(st, 2, op->replaces);
	sql_bind_text(st, 3, op->serial);
	sql_bind_blob(st, 4, op->text, strlen(op->text));
	sql_bind_int64(st, 5, op->at);
	r = sql_step(st, "recording a CA", em);
	sql_finalize(st);
	if (r == SQL_DONE || r == SQL_UNIQUE)
		return *op->replaces == '\0'
			       ? errmsg_set(em, SIGNET_E_ALREADY_EXISTS,
					    "a CA named '%s' exists (created on a host sharing "
					    "this database)",
					    op->name)
			       : errmsg_set(em, SIGNET_E_ABORTED,
					    "CA '%s' was renewed or re-keyed on a host sharing "
					    "this database meanwhile",
					    op->name);
	return r < 0 ? r : 0;
}

int cashare_publish(struct ledger *l, const char *name, const char *replaces, const char *key,
		    X509 *cert, STACK_OF(X509) * above, struct errmsg *em)
{
	struct publish_op op = {.name = name, .replaces = replaces, .at = (int64_t)time(NULL)};
	int r;

	if (castore_serial_hex(cert, op.serial) != 0 ||
	    castore_record_text(key, cert, above, &op.text) != 0)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	r = ledger_write(l, publish_apply, &op, em);
	free(op.text);
	return r;
}

/* --- copying in --- */

struct pulled {
	int64_t id;
	char name[CA_NAME_MAX + 1];
	char replaces[41], serial[41];
	char *text;
};

struct pull_op {
	int64_t after;
	struct pulled rows[PULL_MAX];
	size_t n;
};

static int pull_row(struct sql_stmt *st, struct pulled *p)
{
	size_t len;
	const void *text = sql_col_blob(st, 4, &len);

	p->id = sql_col_int64(st, 0);
	snprintf(p->name, sizeof(p->name), "%s", sql_col_text(st, 1));
	snprintf(p->replaces, sizeof(p->replaces), "%s", sql_col_text(st, 2));
	snprintf(p->serial, sizeof(p->serial), "%s", sql_col_text(st, 3));
	if (len > CA_RECORD_MAX || (p->text = malloc(len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(p->text, text, len);
	p->text[len] = '\0';
	return 0;
}

static int pull_read(struct sql_db *db, void *arg, struct errmsg *em)
{
	static const char sql[] = "SELECT id, name, replaces, serial, record FROM ca_records "
				  "WHERE id > $1 ORDER BY id LIMIT $2";
	struct pull_op *op = arg;
	struct sql_stmt *st = NULL;
	int r;

	if ((r = sql_prepare(db, sql, &st, em)) != 0)
		return r;
	sql_bind_int64(st, 1, op->after);
	sql_bind_int64(st, 2, PULL_MAX);
	while ((r = sql_step(st, "reading the shared CAs", em)) == SQL_ROW && op->n < PULL_MAX) {
		if (pull_row(st, &op->rows[op->n]) != 0) {
			r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "a CA record is too large");
			break;
		}
		op->n++;
	}
	sql_finalize(st);
	return r < 0 ? r : 0;
}

/* Copy the rows after cs->shared_seen into the files; the last one applied
 * (or refused for good) moves the mark. Under cs->loading. */
static void pull(struct castore *cs)
{
	struct pull_op op = {.after = cs->shared_seen};
	struct errmsg em = {0};

	if (ledger_read(cs->shared, pull_read, &op, &em) != 0)
		log_warn("CA store: cannot read the CAs other hosts recorded: %s", em.text);
	for (size_t i = 0; i < op.n; i++) {
		struct pulled *p = &op.rows[i];
		int r = castore_apply_record(cs, p->name, p->replaces, p->serial, p->text, &em);

		if (r == SIGNET_E_UNAVAILABLE) {
			log_warn("CA store: cannot copy CA '%s' from the database yet: %s", p->name,
				 em.text);
			break; /* tried again at the next look */
		}
		if (r != 0)
			log_error("CA store: %s", em.text);
		else if (*p->replaces == '\0')
			log_info("CA store: CA '%s' (serial %s) from the database", p->name,
				 p->serial);
		cs->shared_seen = p->id;
	}
	for (size_t i = 0; i < op.n; i++)
		free(op.rows[i].text);
}

void cashare_poll(struct castore *cs)
{
	int64_t now = monotime_ms();

	/* a racy first look only costs a thread the lock below */
	if (now < __atomic_load_n(&cs->shared_next_ms, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&cs->loading);
	if (now >= cs->shared_next_ms) {
		pull(cs);
		__atomic_store_n(&cs->shared_next_ms, now + CASHARE_POLL_MS, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&cs->loading);
}

/* --- joining --- */

struct names_op {
	const char *name;
	int64_t n;
};

static int name_known(struct sql_db *db, void *arg, struct errmsg *em)
{
	struct names_op *op = arg;
	struct sql_stmt *st = NULL;
	int r;

	if ((r = sql_prepare(db, "SELECT count(*) FROM ca_records WHERE name = $1", &st, em)) != 0)
		return r;
	sql_bind_text(st, 1, op->name);
	if ((r = sql_step(st, "reading the shared CAs", em)) == SQL_ROW)
		op->n = sql_col_int64(st, 0);
	sql_finalize(st);
	return r < 0 ? r : 0;
}

/* A CA only this host has (made before it joined the database) is recorded
 * as new there: its history before stays in this host's files. */
static void publish_local(struct castore *cs)
{
	struct ca *cas = NULL;
	struct errmsg em = {0};
	size_t n = 0;

	if (castore_list(cs, &cas, &n, &em) != 0) {
		log_error("CA store: %s", em.text);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct names_op op = {.name = cas[i].name};

		if (ledger_read(cs->shared, name_known, &op, &em) != 0 ||
		    (op.n == 0 && cashare_publish(cs->shared, cas[i].name, "", cas[i].key,
						  cas[i].cert, cas[i].above, &em) != 0))
			log_error("CA store: cannot record CA '%s' in the database: %s",
				  cas[i].name, em.text);
		else if (op.n == 0)
			log_info("CA store: CA '%s' recorded in the database for the other hosts",
				 cas[i].name);
	}
	castore_list_free(cas, n);
}

void castore_share(struct castore *cs, struct ledger *l)
{
	if (ledger_backend(l) != SQL_POSTGRES)
		return;
	pthread_mutex_lock(&cs->loading);
	cs->shared = l;
	do {
		int64_t before = cs->shared_seen;

		pull(cs);
		if (cs->shared_seen == before)
			break;
	} while (1);
	cs->shared_next_ms = monotime_ms() + CASHARE_POLL_MS;
	pthread_mutex_unlock(&cs->loading);
	publish_local(cs);
}
