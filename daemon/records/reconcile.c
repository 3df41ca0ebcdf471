/*
 * The start-up reconcile of the ledger with the audit trail (reconcile.h):
 * what the lines since the last reconcile account for, the rows since then
 * checked against it, recovered lines for the rest, and the point reached
 * saved in the ledger's table audit_reconciled.
 *
 * Audit lines are read with the appender's format in mind (records/audit.c):
 * one JSON object of string members and one number ("seq"), strings escaped
 * with \" \\ and \u00XX. Only caller, object, status and request_id are read.
 */
#include "records/reconcile.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "base/log.h"

#define FIELD_MAX 1100 /* an audit field is at most 1024 bytes escaped */
/* "ca=X serial=Y profile=Z recovered", the ledger's texts at their longest */
#define OBJECT_MAX (2 * LEDGER_TEXT_MAX + LEDGER_SERIAL_MAX + 64)

/* --- reading an audit line --- */

/* \uXXXX at p (after the "\u") as UTF-8 into out; its length, 0 if malformed. */
static size_t unescape_u(const char *p, const char *end, char out[3])
{
	unsigned cp = 0;

	if (end - p < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return 0;
		cp = cp << 4 | (unsigned)d;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | cp >> 12);
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* The JSON string at *p (its opening quote), unescaped into out (NULL: skip
 * it); *p moves past its closing quote. -1 if malformed or too long. */
static int read_string(const char **p, const char *end, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n = 0, k;
	char u[3];

	if (s >= end || *s++ != '"')
		return -1;
	while (s < end && *s != '"') {
		if (*s != '\\') {
			u[0] = *s++, k = 1;
		} else if (s + 1 < end && s[1] == 'u') {
			if ((k = unescape_u(s + 2, end, u)) == 0)
				return -1;
			s += 6;
		} else if (s + 1 < end) {
			u[0] = s[1], k = 1;
			s += 2;
		} else {
			return -1;
		}
		if (out != NULL && n + k >= outlen)
			return -1;
		if (out != NULL)
			memcpy(out + n, u, k);
		n += k;
	}
	if (s >= end)
		return -1;
	if (out != NULL)
		out[n] = '\0';
	*p = s + 1;
	return 0;
}

/* The string member `name` of an audit line into out. -1 if it has none. */
static int line_member(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	const char *p = line, *end = line + len;
	char key[32];

	if (p >= end || *p++ != '{')
		return -1;
	while (p < end && *p != '}') {
		if (read_string(&p, end, key, sizeof(key)) != 0 || p >= end || *p++ != ':')
			return -1;
		if (p < end && *p == '"') {
			bool wanted = strcmp(key, name) == 0;

			if (read_string(&p, end, wanted ? out : NULL, outlen) != 0)
				return -1;
			if (wanted)
				return 0;
		} else {
			while (p < end && *p != ',' && *p != '}')
				p++;
		}
		if (p < end && *p == ',')
			p++;
	}
	return -1;
}

/* --- what the lines account for: a sorted set of keys --- */

struct keys {
	char **v;
	size_t n, cap;
	bool sorted;
};

static int keys_add(struct keys *k, const char *a, const char *b)
{
	size_t len = strlen(a) + strlen(b) + 2;
	char **grown, *s;

	if (k->n == k->cap) {
		k->cap = k->cap != 0 ? k->cap * 2 : 256;
		if ((grown = reallocarray(k->v, k->cap, sizeof(*k->v))) == NULL)
			return -1;
		k->v = grown;
	}
	if ((s = malloc(len)) == NULL)
		return -1;
	/* 0x1f cannot start a serial, and keeps caller and request id apart */
	snprintf(s, len, "%s\x1f%s", a, b);
	k->v[k->n++] = s;
	k->sorted = false;
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool keys_has(struct keys *k, const char *a, const char *b)
{
	char probe[LEDGER_TEXT_MAX + FIELD_MAX + 2], *pp = probe;

	if (k->n == 0)
		return false;
	if (!k->sorted) {
		qsort(k->v, k->n, sizeof(*k->v), cmp_str);
		k->sorted = true;
	}
	snprintf(probe, sizeof(probe), "%s\x1f%s", a, b);
	return bsearch(&pp, k->v, k->n, sizeof(*k->v), cmp_str) != NULL;
}

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

/* Each "serial=HEX" word of an object, as key ("serial", HEX). */
static int add_serials(struct keys *k, const char *object)
{
	char word[FIELD_MAX];
	const char *p = object;
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, " ");
		if (n > 7 && n < sizeof(word) && strncmp(p, "serial=", 7) == 0) {
			char serial[LEDGER_SERIAL_MAX];

			memcpy(word, p + 7, n - 7);
			word[n - 7] = '\0';
			/* in the ledger's form, as the rows have it */
			if (ledger_serial_normalise(word, serial) == 0 &&
			    keys_add(k, "serial", serial) != 0)
				return -1;
		}
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

struct scan {
	struct keys keys;
	size_t lines;
	bool nomem;
};

/* One line: its serials, and (status OK) its caller and request id. A line
 * that cannot be read as ours accounts for nothing. */
static int scan_line(const char *line, size_t len, void *arg)
{
	struct scan *s = arg;
	char caller[FIELD_MAX], object[FIELD_MAX], status[64], rid[2 * 64 + 1];

	s->lines++;
	if (line_member(line, len, "object", object, sizeof(object)) == 0 &&
	    add_serials(&s->keys, object) != 0)
		goto nomem;
	if (line_member(line, len, "status", status, sizeof(status)) != 0 ||
	    strcmp(status, "OK") != 0 ||
	    line_member(line, len, "caller", caller, sizeof(caller)) != 0 ||
	    line_member(line, len, "request_id", rid, sizeof(rid)) != 0 || rid[0] == '\0')
		return 0;
	if (keys_add(&s->keys, rid, caller) != 0)
		goto nomem;
	return 0;
nomem:
	s->nomem = true;
	return -1;
}

/* --- how far the trail was reconciled: table audit_reconciled --- */

struct mark {
	const char *trail;
	int64_t ledger_id;
	struct audit_position pos;
	bool found;
};

static int mark_load_apply(struct sql_db *db, void *arg, struct errmsg *em)
{
	static const char sql[] = "SELECT ledger_id, audit_offset, audit_hash FROM "
				  "audit_reconciled WHERE trail = $1";
	struct mark *m = arg;
	struct sql_stmt *st = NULL;
	const char *hash;
	int r;

	if ((r = sql_prepare(db, sql, &st, em)) != 0)
		return r;
	sql_bind_text(st, 1, m->trail);
	r = sql_step(st, "reading audit_reconciled", em);
	if (r == SQL_ROW && strlen(hash = sql_col_text(st, 2)) == sizeof(m->pos.hash) - 1 &&
	    sql_col_int64(st, 1) >= 0) {
		m->ledger_id = sql_col_int64(st, 0);
		m->pos.offset = (uint64_t)sql_col_int64(st, 1);
		memcpy(m->pos.hash, hash, sizeof(m->pos.hash));
		m->found = true;
	}
	sql_finalize(st);
	return r < 0 ? r : 0;
}

static int mark_save_apply(struct sql_db *db, void *arg, struct errmsg *em)
{
	static const char sql[] =
		"INSERT INTO audit_reconciled (trail, ledger_id, audit_offset, audit_hash) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT (trail) DO UPDATE SET "
		"ledger_id = excluded.ledger_id, audit_offset = excluded.audit_offset, "
		"audit_hash = excluded.audit_hash";
	const struct mark *m = arg;
	struct sql_stmt *st = NULL;
	int r;

	if (m->pos.offset > INT64_MAX)
		return errmsg_set(em, SIGNET_E_INTERNAL, "ledger: audit offset out of range");
	if ((r = sql_prepare(db, sql, &st, em)) != 0)
		return r;
	sql_bind_text(st, 1, m->trail);
	sql_bind_int64(st, 2, m->ledger_id);
	sql_bind_int64(st, 3, (int64_t)m->pos.offset);
	sql_bind_text(st, 4, m->pos.hash);
	r = sql_run(st, "saving audit_reconciled", em);
	sql_finalize(st);
	return r < 0 ? r : 0;
}

/* --- the rows --- */

static const char *method_of(const char *profile)
{
	if (strcmp(profile, "verification") == 0)
		return "IssueVerificationCertificate";
	if (strcmp(profile, "ca") == 0)
		return "CreateIntermediateCa"; /* or RenewCa: the row does not say */
	if (strcmp(profile, "ca-link") == 0)
		return "RekeyCa";
	return "SignCsr";
}

static bool accounted(struct keys *k, const struct ledger_entry *e)
{
	char rid[2 * LEDGER_REQUEST_ID + 1];

	if (keys_has(k, "serial", e->serial))
		return true;
	if (!e->has_request_id ||
	    hex_encode(e->request_id, LEDGER_REQUEST_ID, rid, sizeof(rid), HEX_LOWER, '\0') != 0)
		return false;
	return keys_has(k, rid, e->caller);
}

static int recover(struct audit *a, const struct ledger_entry *e)
{
	char object[OBJECT_MAX], message[256], when[32];
	time_t t = (time_t)e->issued_at;
	struct tm tm;
	struct audit_event ev = {
		.caller = e->caller,
		.method = method_of(e->profile),
		.object = object,
		.status = "OK",
		.message = message,
		.request_id = e->has_request_id ? e->request_id : NULL,
		.request_id_len = e->has_request_id ? LEDGER_REQUEST_ID : 0,
	};

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%" PRId64, e->issued_at);
	snprintf(object, sizeof(object), "ca=%s serial=%s profile=%s recovered", e->ca, e->serial,
		 e->profile);
	snprintf(message, sizeof(message),
		 "recovered at start-up: ledger row %" PRId64 ", recorded %s, had no audit line "
		 "(signetd stopped between the two)",
		 e->id, when);
	log_warn("audit: certificate %s of CA '%s' (ledger row %" PRId64
		 ") had no audit line; appended it as recovered",
		 e->serial, e->ca, e->id);
	return audit_append(a, &ev);
}

/* Every row of the trail after m->ledger_id; m->ledger_id ends at the last. */
static int check_rows(struct ledger *l, struct audit *a, struct keys *k, struct mark *m,
		      struct reconcile_result *out, char *err, size_t errlen)
{
	struct ledger_filter f = {.trail = m->trail, .after_id = m->ledger_id};
	struct ledger_entry *rows = NULL;
	struct errmsg em = {0};
	size_t n = 0;
	int64_t next;
	int r;

	do {
		if ((r = ledger_list(l, &f, &rows, &n, &next, &em)) != 0) {
			snprintf(err, errlen, "%s", em.text);
			return -1;
		}
		for (size_t i = 0; i < n && r == 0; i++) {
			out->rows++;
			if (!accounted(k, &rows[i]) && (r = recover(a, &rows[i])) == 0)
				out->recovered++;
			if (r == 0)
				m->ledger_id = rows[i].id;
		}
		ledger_list_free(rows, n);
		if (r != 0) {
			snprintf(err, errlen, "cannot append a recovered line to the audit log");
			return -1;
		}
		f.after_id = next;
	} while (next != 0);
	return 0;
}

/* --- the whole --- */

/* The lines since the mark into s; from the log's start when it does not fit. */
static int read_lines(struct audit *a, struct mark *m, struct scan *s, struct reconcile_result *out,
		      char *err, size_t errlen)
{
	int r = audit_scan(a, &m->pos, scan_line, s, err, errlen);

	if (r == 1) {
		log_warn("audit log %s is not the one reconciled last (replaced, or its end lost); "
			 "checking the certificates since then against all of it",
			 audit_path(a));
		out->rescanned = 1;
		keys_free(&s->keys);
		memset(s, 0, sizeof(*s));
		memset(&m->pos, 0, sizeof(m->pos));
		memset(m->pos.hash, '0', sizeof(m->pos.hash) - 1);
		r = audit_scan(a, &m->pos, scan_line, s, err, errlen);
	}
	if (s->nomem)
		snprintf(err, errlen, "out of memory");
	return r == 0 ? 0 : -1;
}

/* The trail's name: its real path, and on a database several hosts share,
 * the host's name before it (two hosts may keep their logs at one path). */
static char *trail_name(const struct ledger *l, const struct audit *a)
{
	char *path = realpath(audit_path(a), NULL), host[256], *name = NULL;

	if (path == NULL || ledger_backend(l) == SQL_SQLITE)
		return path;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown-host");
	host[sizeof(host) - 1] = '\0';
	if (asprintf(&name, "%s:%s", host, path) < 0)
		name = NULL;
	free(path);
	return name;
}

int reconcile_run(struct ledger *l, struct audit *a, struct reconcile_result *out, char *err,
		  size_t errlen)
{
	struct mark m = {.trail = NULL};
	struct scan s = {.lines = 0};
	struct errmsg em = {0};
	char *trail = trail_name(l, a);
	int r = -1;

	memset(out, 0, sizeof(*out));
	memset(m.pos.hash, '0', sizeof(m.pos.hash) - 1);
	if (trail == NULL) {
		snprintf(err, errlen, "audit log %s: cannot resolve its path", audit_path(a));
		goto out;
	}
	m.trail = trail;
	if (ledger_set_trail(l, trail, &em) != 0 ||
	    ledger_write(l, mark_load_apply, &m, &em) != 0) {
		snprintf(err, errlen, "%s", em.text);
		goto out;
	}
	if (read_lines(a, &m, &s, out, err, errlen) != 0 ||
	    check_rows(l, a, &s.keys, &m, out, err, errlen) != 0)
		goto out;
	out->lines = s.lines;
	/* the mark may not run ahead of what is on disk */
	if (audit_sync(a) != 0) {
		snprintf(err, errlen, "audit log %s: cannot sync it", audit_path(a));
		goto out;
	}
	audit_position(a, &m.pos);
	if (ledger_write(l, mark_save_apply, &m, &em) != 0) {
		snprintf(err, errlen, "%s", em.text);
		goto out;
	}
	r = 0;
out:
	keys_free(&s.keys);
	free(trail);
	return r;
}
