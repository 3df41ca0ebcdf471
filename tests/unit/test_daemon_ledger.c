/* Unit tests for daemon/records/ledger*.c: records and their look-ups, the idempotent
 * retry, listing and paging, revocation, CRL numbers, schema migrations and
 * grouped commits from many threads. Each test has its own state directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "records/ledger.h"

#define NOW 1800000000LL
#define DAY 86400LL

static void make_dir(char *dir)
{
	strcpy(dir, "/tmp/signet-ledger-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = {"ledger.db", "ledger.db-wal", "ledger.db-shm"};
	char path[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static struct ledger *open_ok(const char *dir)
{
	struct ledger *l = NULL;
	char err[512] = "";

	if (ledger_open(dir, &l, err, sizeof(err)) != 0)
		fail_msg("ledger_open: %s", err);
	return l;
}

/* An entry whose fields all differ from the defaults; `n` varies them. */
struct sample {
	struct ledger_entry e;
	uint8_t der[48];
	char subject[64];
};

static void sample_init(struct sample *s, const char *ca, const char *serial, unsigned n)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->subject, sizeof(s->subject), "CN=Device-%04u, O=Acme", n);
	for (size_t i = 0; i < sizeof(s->der); i++)
		s->der[i] = (uint8_t)(n * 7 + i);
	s->e.ca = (char *)ca;
	s->e.issuer_key = "ca.key";
	snprintf(s->e.serial, sizeof(s->e.serial), "%s", serial);
	s->e.subject = s->subject;
	s->e.sans = "DNS:a.example, IP:192.0.2.1";
	s->e.profile = "device";
	memset(s->e.spki_sha256, (int)(n & 0xff), sizeof(s->e.spki_sha256));
	s->e.spki_sha256[0] = (uint8_t)(n >> 8);
	s->e.not_before = NOW - DAY;
	s->e.not_after = NOW + 365 * DAY;
	s->e.caller = "factory";
	memset(s->e.request_id, 0, sizeof(s->e.request_id));
	memcpy(s->e.request_id, &n, sizeof(n));
	s->e.has_request_id = 1;
	s->e.issued_at = NOW;
	s->e.der = s->der;
	s->e.der_len = sizeof(s->der);
}

static void assert_same(const struct ledger_entry *got, const struct ledger_entry *want)
{
	char serial[LEDGER_SERIAL_MAX];

	assert_int_equal(ledger_serial_normalise(want->serial, serial), 0);
	assert_true(got->id > 0);
	assert_string_equal(got->ca, want->ca);
	assert_string_equal(got->issuer_key, want->issuer_key);
	assert_string_equal(got->serial, serial);
	assert_string_equal(got->subject, want->subject);
	assert_string_equal(got->sans, want->sans);
	assert_string_equal(got->profile, want->profile);
	assert_memory_equal(got->spki_sha256, want->spki_sha256, 32);
	assert_int_equal(got->not_before, want->not_before);
	assert_int_equal(got->not_after, want->not_after);
	assert_string_equal(got->caller, want->caller);
	assert_int_equal(got->has_request_id, want->has_request_id);
	if (want->has_request_id)
		assert_memory_equal(got->request_id, want->request_id, LEDGER_REQUEST_ID);
	assert_int_equal(got->issued_at, want->issued_at);
	assert_int_equal(got->der_len, want->der_len);
	assert_memory_equal(got->der, want->der, want->der_len);
}

static int user_version(const char *dir)
{
	char path[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v;

	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_serial_normalise(void **state)
{
	char out[LEDGER_SERIAL_MAX];
	char longest[48], too_long[64];

	(void)state;
	assert_int_equal(ledger_serial_normalise("9DD1", out), 0);
	assert_string_equal(out, "9DD1");
	assert_int_equal(ledger_serial_normalise("9dd", out), 0);
	assert_string_equal(out, "09DD");
	assert_int_equal(ledger_serial_normalise("0x0abc", out), 0);
	assert_string_equal(out, "0ABC");
	assert_int_equal(ledger_serial_normalise("0000000001", out), 0);
	assert_string_equal(out, "01");
	assert_int_equal(ledger_serial_normalise("0", out), 0);
	assert_string_equal(out, "00");
	memset(longest, 'f', 40);
	longest[40] = '\0';
	assert_int_equal(ledger_serial_normalise(longest, out), 0);
	assert_int_equal(strlen(out), 40);
	snprintf(too_long, sizeof(too_long), "000%s", longest); /* zeros do not count */
	assert_int_equal(ledger_serial_normalise(too_long, out), 0);
	snprintf(too_long, sizeof(too_long), "1%s", longest);
	assert_int_equal(ledger_serial_normalise(too_long, out), -1);
	assert_int_equal(ledger_serial_normalise("", out), -1);
	assert_int_equal(ledger_serial_normalise("0x", out), -1);
	assert_int_equal(ledger_serial_normalise("-1", out), -1);
	assert_int_equal(ledger_serial_normalise(" 1", out), -1);
	assert_int_equal(ledger_serial_normalise("12g", out), -1);
	assert_int_equal(ledger_serial_normalise(NULL, out), -1);
}

/* "v0" is what a first start finds: an empty file, here one made too open. */
static void test_migrate_v0_and_v1(void **state)
{
	char dir[64], path[128];
	sqlite3 *db = NULL;
	struct ledger *l;
	struct sample s;
	struct ledger_entry got;
	struct stat st;
	int fd;

	(void)state;
	make_dir(dir);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0644)) >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	l = open_ok(dir);
	assert_int_equal(user_version(dir), 3);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	sample_init(&s, "root", "01", 1);
	assert_int_equal(ledger_record(l, &s.e, NULL), 0);
	ledger_close(l);

	/* a v1 database (as the first release left it) is migrated and keeps its rows */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "DROP TABLE challenges; DROP TABLE challenge_count;"
				      "DROP TABLE audit_reconciled; DROP INDEX issued_trail;"
				      "ALTER TABLE issued DROP COLUMN trail;"
				      "PRAGMA user_version = 1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	l = open_ok(dir);
	assert_int_equal(user_version(dir), 3);
	assert_int_equal(ledger_get(l, "1", NULL, &got, NULL), 0);
	assert_same(&got, &s.e);
	ledger_entry_release(&got);
	ledger_close(l);
	remove_dir(dir);
}

static void test_refuse_future_version(void **state)
{
	char dir[64], path[128], err[512] = "";
	struct ledger *l = NULL;
	sqlite3 *db = NULL;

	(void)state;
	make_dir(dir);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ledger_open(dir, &l, err, sizeof(err)), SIGNET_E_FAILED_PRECONDITION);
	assert_null(l);
	assert_non_null(strstr(err, "version 99"));
	assert_int_equal(user_version(dir), 99); /* left alone */
	remove_dir(dir);
}

static void test_record_get_find(void **state)
{
	char dir[64], path[128];
	struct ledger *l;
	struct sample s, bare;
	struct ledger_entry got;
	struct errmsg em = {0};
	struct stat st;
	uint8_t spki[32];

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	sample_init(&s, "inter", "9dd0c1", 42);
	assert_int_equal(ledger_record(l, &s.e, &em), 0);
	/* SQLite gives the log the database file's mode */
	snprintf(path, sizeof(path), "%s/ledger.db-wal", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ledger_get(l, "0x009DD0C1", NULL, &got, &em), 0);
	assert_same(&got, &s.e);
	assert_string_equal(got.serial, "9DD0C1");
	assert_int_equal(got.revoked_at, 0);
	assert_int_equal(got.invalidity_date, 0);
	ledger_entry_release(&got);
	assert_int_equal(ledger_get(l, "", s.e.spki_sha256, &got, &em), 0);
	assert_same(&got, &s.e);
	ledger_entry_release(&got);
	assert_int_equal(ledger_find_request(l, "factory", s.e.request_id, &got, &em), 0);
	assert_same(&got, &s.e);
	ledger_entry_release(&got);

	/* no request id, no SANs */
	sample_init(&bare, "inter", "0A", 43);
	bare.e.has_request_id = 0;
	bare.e.sans = "";
	assert_int_equal(ledger_record(l, &bare.e, &em), 0);
	assert_int_equal(ledger_get(l, "a", NULL, &got, &em), 0);
	assert_same(&got, &bare.e);
	ledger_entry_release(&got);

	memset(spki, 0xee, sizeof(spki));
	assert_int_equal(ledger_get(l, NULL, spki, &got, &em), SIGNET_E_NOT_FOUND);
	assert_int_equal(ledger_get(l, "77", NULL, &got, &em), SIGNET_E_NOT_FOUND);
	assert_non_null(strstr(em.text, "77"));
	assert_int_equal(ledger_get(l, "zz", NULL, &got, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(ledger_get(l, NULL, NULL, &got, &em), SIGNET_E_INVALID_ARGUMENT);
	s.e.request_id[15] ^= 1;
	assert_int_equal(ledger_find_request(l, "factory", s.e.request_id, &got, &em),
			 SIGNET_E_NOT_FOUND);
	bare.e.der = NULL;
	assert_int_equal(ledger_record(l, &bare.e, &em), SIGNET_E_INVALID_ARGUMENT);

	assert_int_equal(ledger_integrity_check(l, &em), 0);
	ledger_close(l);
	remove_dir(dir);
}

static void test_retry_and_duplicates(void **state)
{
	char dir[64];
	struct ledger *l;
	struct sample first, retry, other, dup, sibling;
	struct ledger_entry got;
	struct errmsg em = {0};

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	sample_init(&first, "inter", "11", 1);
	assert_int_equal(ledger_record(l, &first.e, &em), 0);

	/* the same request again (a retry signed a new certificate): refused */
	sample_init(&retry, "inter", "12", 2);
	memcpy(retry.e.request_id, first.e.request_id, LEDGER_REQUEST_ID);
	assert_int_equal(ledger_record(l, &retry.e, &em), SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em.text, "request"));
	assert_non_null(strstr(em.text, "11"));
	assert_int_equal(ledger_find_request(l, "factory", first.e.request_id, &got, &em), 0);
	assert_same(&got, &first.e);
	ledger_entry_release(&got);
	assert_int_equal(ledger_get(l, "12", NULL, &got, &em), SIGNET_E_NOT_FOUND);

	/* the same request id from another caller is its own request */
	sample_init(&other, "inter", "13", 3);
	memcpy(other.e.request_id, first.e.request_id, LEDGER_REQUEST_ID);
	other.e.caller = "line-2";
	assert_int_equal(ledger_record(l, &other.e, &em), 0);
	assert_int_equal(ledger_find_request(l, "line-2", first.e.request_id, &got, &em), 0);
	assert_same(&got, &other.e);
	ledger_entry_release(&got);

	/* a serial is unique per CA */
	sample_init(&dup, "inter", "11", 4);
	assert_int_equal(ledger_record(l, &dup.e, &em), SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em.text, "serial 11"));
	sample_init(&sibling, "sibling", "11", 5);
	assert_int_equal(ledger_record(l, &sibling.e, &em), 0);
	ledger_close(l);
	remove_dir(dir);
}

/* A batch: one commit for all its entries, each with its own result; a
 * refused entry (a retry, a serial clash, a bad entry, a request id twice in
 * the batch) keeps none of the others out. */
static void test_record_batch(void **state)
{
	char dir[64];
	struct ledger *l;
	struct sample first, s[6];
	const struct ledger_entry *v[6];
	struct ledger_stats before, after;
	struct ledger_entry got;
	struct errmsg em[6];
	int rcs[6];

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	sample_init(&first, "inter", "21", 1);
	assert_int_equal(ledger_record(l, &first.e, NULL), 0);
	for (unsigned i = 0; i < 6; i++) {
		char serial[8];

		snprintf(serial, sizeof(serial), "%02X", 0x22 + i);
		sample_init(&s[i], "inter", serial, 2 + i);
		v[i] = &s[i].e;
	}
	memcpy(s[1].e.request_id, first.e.request_id, LEDGER_REQUEST_ID); /* a retry */
	s[2].e.der = NULL;						  /* not recordable */
	snprintf(s[3].e.serial, sizeof(s[3].e.serial), "22");		  /* s[0]'s serial */
	memcpy(s[4].e.request_id, s[0].e.request_id, LEDGER_REQUEST_ID);  /* s[0]'s id */
	ledger_stats(l, &before);
	assert_int_equal(ledger_record_batch(l, v, 6, rcs, em), 0);
	ledger_stats(l, &after);
	assert_int_equal(after.commits, before.commits + 1);
	assert_int_equal(rcs[0], 0);
	assert_int_equal(rcs[1], SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em[1].text, "request id recorded (certificate 21)"));
	assert_int_equal(rcs[2], SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(rcs[3], SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em[3].text, "serial 22"));
	assert_int_equal(rcs[4], SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em[4].text, "certificate 22"));
	assert_int_equal(rcs[5], 0);
	assert_string_equal(em[5].text, "");
	for (unsigned i = 0; i < 6; i++) {
		int want = i == 0 || i == 5 ? 0 : SIGNET_E_NOT_FOUND;

		if (i == 3)
			continue; /* its serial is s[0]'s */
		assert_int_equal(ledger_get(l, s[i].e.serial, NULL, &got, NULL), want);
		if (want == 0) {
			assert_same(&got, &s[i].e);
			ledger_entry_release(&got);
		}
	}
	assert_int_equal(ledger_find_request(l, "factory", s[5].e.request_id, &got, NULL), 0);
	assert_same(&got, &s[5].e);
	ledger_entry_release(&got);
	/* nothing to record is no write at all */
	assert_int_equal(ledger_record_batch(l, v, 0, rcs, em), 0);
	ledger_stats(l, &before);
	assert_int_equal(before.commits, after.commits);
	ledger_close(l);
	remove_dir(dir);
}

/* Serials 0100..0129; CA "a" for even n, "b" for odd; every third a server. */
static void fill(struct ledger *l, unsigned count)
{
	struct sample s;
	char serial[16];

	for (unsigned n = 0; n < count; n++) {
		snprintf(serial, sizeof(serial), "%04X", 0x100 + n);
		sample_init(&s, n % 2 == 0 ? "a" : "b", serial, n);
		if (n % 3 == 0)
			s.e.profile = "server";
		if (n == 7)
			snprintf(s.subject, sizeof(s.subject), "CN=odd_one%%, O=Acme");
		if (n >= 20)
			s.e.not_after = NOW - DAY; /* expired */
		assert_int_equal(ledger_record(l, &s.e, NULL), 0);
	}
}

static size_t count_all(struct ledger *l, const struct ledger_filter *f)
{
	struct ledger_filter page = *f;
	struct ledger_entry *v;
	size_t n, total = 0;
	int64_t next;

	do {
		assert_int_equal(ledger_list(l, &page, &v, &n, &next, NULL), 0);
		total += n;
		ledger_list_free(v, n);
		page.after_id = next;
	} while (next != 0);
	return total;
}

static void test_list_filters_and_paging(void **state)
{
	char dir[64];
	struct ledger *l;
	struct ledger_filter f = {0};
	struct ledger_entry *v;
	struct errmsg em = {0};
	size_t n;
	int64_t next, last_id = 0;

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	fill(l, 30);

	assert_int_equal(count_all(l, &f), 30);
	f.ca = "a";
	assert_int_equal(count_all(l, &f), 15);
	f.profile = "server"; /* even and multiple of 3: 0, 6, ..., 24 */
	assert_int_equal(count_all(l, &f), 5);
	f.valid_at = NOW; /* 24 has expired */
	assert_int_equal(count_all(l, &f), 4);
	memset(&f, 0, sizeof(f));
	f.subject_contains = "device-001"; /* 0010..0019, case-insensitive */
	assert_int_equal(count_all(l, &f), 10);
	/* % and _ are not wildcards */
	f.subject_contains = "_";
	assert_int_equal(count_all(l, &f), 1);
	f.subject_contains = "E%";
	assert_int_equal(count_all(l, &f), 1);
	f.subject_contains = "nobody";
	assert_int_equal(count_all(l, &f), 0);
	/* an expiry window: 20..29 expired a day ago, the rest expire in a year */
	memset(&f, 0, sizeof(f));
	f.expires_before = NOW;
	assert_int_equal(count_all(l, &f), 10);
	f.expires_after = NOW - 2 * DAY;
	assert_int_equal(count_all(l, &f), 10);
	f.expires_after = NOW - DAY + 1; /* the bound is inclusive, the upper one is not */
	assert_int_equal(count_all(l, &f), 0);
	f.expires_before = 0;
	f.expires_after = NOW;
	assert_int_equal(count_all(l, &f), 20);
	f.expires_before = NOW + 365 * DAY; /* not_after == this: outside */
	assert_int_equal(count_all(l, &f), 0);
	memset(&f, 0, sizeof(f));
	f.serial = "0x10a";
	assert_int_equal(ledger_list(l, &f, &v, &n, &next, &em), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].serial, "010A");
	assert_int_equal(next, 0);
	ledger_list_free(v, n);
	f.serial = "not hex";
	assert_int_equal(ledger_list(l, &f, &v, &n, &next, &em), SIGNET_E_INVALID_ARGUMENT);

	/* 10 valid entries of CA "a" in pages of 4: 4, 4, 2 */
	memset(&f, 0, sizeof(f));
	f.ca = "a";
	f.valid_at = NOW;
	f.limit = 4;
	for (int page = 0; page < 3; page++) {
		assert_int_equal(ledger_list(l, &f, &v, &n, &next, &em), 0);
		assert_int_equal(n, page < 2 ? 4 : 2);
		for (size_t i = 0; i < n; i++) {
			assert_true(v[i].id > last_id);
			assert_string_equal(v[i].ca, "a");
			last_id = v[i].id;
		}
		assert_int_equal(next, page < 2 ? last_id : 0);
		ledger_list_free(v, n);
		f.after_id = next;
	}

	/* revoked or not */
	assert_int_equal(ledger_revoke(l, "a", "0102", LEDGER_REASON_SUPERSEDED, 0, NOW, NULL, &em),
			 0);
	memset(&f, 0, sizeof(f));
	f.revoked = LEDGER_ONLY_REVOKED;
	assert_int_equal(count_all(l, &f), 1);
	f.revoked = LEDGER_NOT_REVOKED;
	assert_int_equal(count_all(l, &f), 29);
	f.limit = 1000; /* bounded to LEDGER_LIST_MAX, not refused */
	assert_int_equal(count_all(l, &f), 29);
	ledger_close(l);
	remove_dir(dir);
}

static void test_revoke(void **state)
{
	char dir[64];
	struct ledger *l;
	struct sample s;
	struct ledger_entry got;
	struct errmsg em = {0};

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	sample_init(&s, "inter1", "0ABCDEF0", 1);
	assert_int_equal(ledger_record(l, &s.e, NULL), 0);

	assert_int_equal(ledger_revoke(l, "inter1", "abcdef0", LEDGER_REASON_KEY_COMPROMISE,
				       NOW - DAY, NOW, &got, &em),
			 0);
	assert_same(&got, &s.e);
	assert_int_equal(got.revoked_at, NOW);
	assert_int_equal(got.reason, LEDGER_REASON_KEY_COMPROMISE);
	assert_int_equal(got.invalidity_date, NOW - DAY);
	ledger_entry_release(&got);
	assert_int_equal(ledger_get(l, "0ABCDEF0", NULL, &got, &em), 0);
	assert_int_equal(got.revoked_at, NOW);
	assert_int_equal(got.reason, LEDGER_REASON_KEY_COMPROMISE);
	ledger_entry_release(&got);

	assert_int_equal(ledger_revoke(l, "inter1", "0ABCDEF0", LEDGER_REASON_UNSPECIFIED, 0,
				       NOW + 5, NULL, &em),
			 SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em.text, "2027-01-15T08:00:00Z"));
	assert_int_equal(ledger_revoke(l, "inter2", "0ABCDEF0", LEDGER_REASON_UNSPECIFIED, 0, NOW,
				       NULL, &em),
			 SIGNET_E_FAILED_PRECONDITION);
	assert_non_null(strstr(em.text, "'inter1'"));
	assert_int_equal(
		ledger_revoke(l, "inter1", "0BAD", LEDGER_REASON_UNSPECIFIED, 0, NOW, NULL, &em),
		SIGNET_E_NOT_FOUND);
	assert_int_equal(
		ledger_revoke(l, "inter1", "0ABCDEF0", (enum ledger_reason)7, 0, NOW, NULL, &em),
		SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(
		ledger_revoke(l, "inter1", "xyz", LEDGER_REASON_UNSPECIFIED, 0, NOW, NULL, &em),
		SIGNET_E_INVALID_ARGUMENT);
	/* the first revocation stands */
	assert_int_equal(ledger_get(l, "0ABCDEF0", NULL, &got, &em), 0);
	assert_int_equal(got.revoked_at, NOW);
	ledger_entry_release(&got);
	ledger_close(l);
	remove_dir(dir);
}

static void test_revoked_list(void **state)
{
	char dir[64];
	struct ledger *l;
	struct sample live, expired, kept, other;
	struct ledger_revoked *v;
	size_t n;

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	sample_init(&live, "ca", "01", 1);
	sample_init(&expired, "ca", "02", 2);
	expired.e.not_after = NOW - 1;
	sample_init(&kept, "ca", "03", 3);
	sample_init(&other, "ca", "04", 4);
	other.e.issuer_key = "ca2.key"; /* after a re-key */
	assert_int_equal(ledger_record(l, &live.e, NULL), 0);
	assert_int_equal(ledger_record(l, &expired.e, NULL), 0);
	assert_int_equal(ledger_record(l, &kept.e, NULL), 0);
	assert_int_equal(ledger_record(l, &other.e, NULL), 0);
	assert_int_equal(ledger_revoke(l, "ca", "01", LEDGER_REASON_CESSATION_OF_OPERATION, NOW - 9,
				       NOW - 5, NULL, NULL),
			 0);
	assert_int_equal(
		ledger_revoke(l, "ca", "02", LEDGER_REASON_UNSPECIFIED, 0, NOW - 5, NULL, NULL), 0);
	assert_int_equal(
		ledger_revoke(l, "ca", "04", LEDGER_REASON_UNSPECIFIED, 0, NOW - 5, NULL, NULL), 0);

	assert_int_equal(ledger_revoked_list(l, "ca.key", NOW, &v, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].serial, "01");
	assert_int_equal(v[0].revoked_at, NOW - 5);
	assert_int_equal(v[0].reason, LEDGER_REASON_CESSATION_OF_OPERATION);
	assert_int_equal(v[0].invalidity_date, NOW - 9);
	free(v);
	/* before 02 expired, it was listed */
	assert_int_equal(ledger_revoked_list(l, "ca.key", NOW - 2, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	free(v);
	assert_int_equal(ledger_revoked_list(l, "nobody", NOW, &v, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(v);
	ledger_close(l);
	remove_dir(dir);
}

static void test_crl_numbers_and_ca_events(void **state)
{
	char dir[64];
	struct ledger *l;
	struct errmsg em = {0};
	uint8_t der[8] = {0x30, 6, 1, 2, 3, 4, 5, 6};
	uint64_t k;

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	for (uint64_t want = 1; want <= 3; want++) {
		assert_int_equal(ledger_next_crl_number(l, "ca.root", &k, &em), 0);
		assert_int_equal(k, want);
	}
	assert_int_equal(ledger_next_crl_number(l, "ca.inter", &k, &em), 0);
	assert_int_equal(k, 1);
	assert_int_equal(
		ledger_ca_event(l, "root", "create", "ca.root", "01", der, sizeof(der), NOW, &em),
		0);
	assert_int_equal(
		ledger_ca_event(l, "root", "rekey", "ca2.root", "02", der, sizeof(der), NOW, &em),
		0);
	assert_int_equal(
		ledger_ca_event(l, "root", "explode", "ca.root", "01", der, sizeof(der), NOW, &em),
		SIGNET_E_INVALID_ARGUMENT);
	ledger_close(l);

	l = open_ok(dir);
	assert_int_equal(ledger_next_crl_number(l, "ca.root", &k, &em), 0);
	assert_int_equal(k, 4);
	assert_int_equal(ledger_integrity_check(l, &em), 0);
	ledger_close(l);
	remove_dir(dir);
}

#define THREADS	    8
#define PER_THREAD  200
#define ALL_RECORDS (THREADS * PER_THREAD)

struct worker {
	struct ledger *l;
	unsigned index;
	int failures;
};

static void *record_many(void *arg)
{
	struct worker *w = arg;
	struct sample s;
	struct errmsg em = {0};
	char serial[16];

	for (unsigned i = 0; i < PER_THREAD; i++) {
		unsigned n = w->index * PER_THREAD + i;

		snprintf(serial, sizeof(serial), "%06X", 0x10000 + n);
		sample_init(&s, "dev", serial, n);
		if (ledger_record(w->l, &s.e, &em) != 0)
			w->failures++;
	}
	return NULL;
}

/* Reads meanwhile must neither fail nor wait for the writer. */
static void *read_meanwhile(void *arg)
{
	struct worker *w = arg;
	struct ledger_filter f = {.limit = 10};
	struct ledger_entry *v, got;
	size_t n;
	int64_t next;

	for (unsigned i = 0; i < 200; i++) {
		if (ledger_list(w->l, &f, &v, &n, &next, NULL) != 0)
			w->failures++;
		else
			ledger_list_free(v, n);
		if (ledger_get(w->l, "010000", NULL, &got, NULL) == 0)
			ledger_entry_release(&got);
	}
	return NULL;
}

/* A batch larger than one insert statement (LEDGER_ROWS_MAX rows): every
 * chunk recorded, in one commit, and a clash in the last chunk with a row
 * of the first refused alone. */
#define BIG_BATCH 150
static void test_record_batch_chunks(void **state)
{
	static struct sample s[BIG_BATCH];
	const struct ledger_entry *v[BIG_BATCH];
	struct errmsg em[BIG_BATCH];
	int rcs[BIG_BATCH];
	struct ledger_filter f = {0};
	struct ledger_stats before, after;
	char dir[64], serial[16];
	struct ledger *l;

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	for (unsigned i = 0; i < BIG_BATCH; i++) {
		snprintf(serial, sizeof(serial), "%06X", 0x30000 + i);
		sample_init(&s[i], "bulk", serial, 1000 + i);
		v[i] = &s[i].e;
	}
	memcpy(s[BIG_BATCH - 1].e.request_id, s[3].e.request_id, LEDGER_REQUEST_ID);
	ledger_stats(l, &before);
	assert_int_equal(ledger_record_batch(l, v, BIG_BATCH, rcs, em), 0);
	ledger_stats(l, &after);
	assert_int_equal(after.commits, before.commits + 1);
	for (unsigned i = 0; i < BIG_BATCH - 1; i++)
		assert_int_equal(rcs[i], 0);
	assert_int_equal(rcs[BIG_BATCH - 1], SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(em[BIG_BATCH - 1].text, "certificate 030003"));
	f.ca = "bulk";
	assert_int_equal(count_all(l, &f), BIG_BATCH - 1);
	ledger_close(l);
}

static void check_all_recorded(struct ledger *l)
{
	struct ledger_filter f = {0};
	struct ledger_entry got;
	struct sample s;
	char serial[16];

	assert_int_equal(count_all(l, &f), ALL_RECORDS);
	for (unsigned n = 0; n < ALL_RECORDS; n++) {
		snprintf(serial, sizeof(serial), "%06X", 0x10000 + n);
		sample_init(&s, "dev", serial, n);
		assert_int_equal(ledger_find_request(l, "factory", s.e.request_id, &got, NULL), 0);
		assert_same(&got, &s.e);
		ledger_entry_release(&got);
	}
}

static void test_concurrent_records(void **state)
{
	char dir[64];
	struct ledger *l;
	struct worker w[THREADS + 1];
	pthread_t t[THREADS + 1];
	struct ledger_stats stats;
	struct errmsg em = {0};

	(void)state;
	make_dir(dir);
	l = open_ok(dir);
	for (unsigned i = 0; i <= THREADS; i++) {
		w[i] = (struct worker){.l = l, .index = i};
		assert_int_equal(pthread_create(&t[i], NULL,
						i < THREADS ? record_many : read_meanwhile, &w[i]),
				 0);
	}
	for (unsigned i = 0; i <= THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	ledger_stats(l, &stats);
	print_message("group commit: %llu records in %llu commits (largest batch %llu)\n",
		      (unsigned long long)stats.writes, (unsigned long long)stats.commits,
		      (unsigned long long)stats.largest_batch);
	assert_int_equal(stats.writes, ALL_RECORDS);
	check_all_recorded(l);
	ledger_close(l);

	/* durable: a fresh open sees every record, and the file is sound */
	l = open_ok(dir);
	check_all_recorded(l);
	assert_int_equal(ledger_integrity_check(l, &em), 0);
	ledger_close(l);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_normalise),
		cmocka_unit_test(test_migrate_v0_and_v1),
		cmocka_unit_test(test_refuse_future_version),
		cmocka_unit_test(test_record_get_find),
		cmocka_unit_test(test_retry_and_duplicates),
		cmocka_unit_test(test_record_batch),
		cmocka_unit_test(test_record_batch_chunks),
		cmocka_unit_test(test_list_filters_and_paging),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_revoked_list),
		cmocka_unit_test(test_crl_numbers_and_ca_events),
		cmocka_unit_test(test_concurrent_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
