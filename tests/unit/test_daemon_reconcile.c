/* Unit tests for daemon/records/reconcile.c: ledger rows without an audit
 * line get a recovered one at start-up; rows with one, of another trail or
 * before the last reconcile are left alone; a replaced log is read whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auditchain.h"
#include "records/audit.h"
#include "records/ledger.h"
#include "records/reconcile.h"
#include "testutil.h"

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "reconcile");
	testutil_join(path, sizeof(path), dir, "audit.log");
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	testutil_rm_rf(dir);
	return 0;
}

struct world {
	struct ledger *l;
	struct audit *a;
};

static void world_open(struct world *w)
{
	char err[512] = "";

	if (ledger_open(dir, &w->l, err, sizeof(err)) != 0)
		fail_msg("ledger_open: %s", err);
	if (audit_open(path, 0, &w->a, err, sizeof(err)) != 0)
		fail_msg("audit_open: %s", err);
}

static void world_close(struct world *w)
{
	audit_close(w->a);
	ledger_close(w->l);
}

static struct reconcile_result reconcile_ok(struct world *w)
{
	struct reconcile_result res;
	char err[512] = "";

	if (reconcile_run(w->l, w->a, &res, err, sizeof(err)) != 0)
		fail_msg("reconcile_run: %s", err);
	return res;
}

static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01};

/* A certificate recorded as a handler does: n makes serial and request id. */
static void record(struct world *w, unsigned n, const char *profile)
{
	struct ledger_entry e = {
		.ca = "issuing",
		.issuer_key = "ca.issuing.1",
		.subject = "CN=dev",
		.sans = "",
		.profile = (char *)profile,
		.caller = "factory",
		.has_request_id = 1,
		.issued_at = 1800000000,
		.der = (uint8_t *)der,
		.der_len = sizeof(der),
	};
	struct errmsg em = {0};

	snprintf(e.serial, sizeof(e.serial), "%04X", n);
	e.request_id[0] = (uint8_t)n;
	if (ledger_record(w->l, &e, &em) != 0)
		fail_msg("ledger_record: %s", em.text);
}

/* Its audit line, as dispatch writes it: request id 16 bytes, n first. */
static void audit_line(struct world *w, unsigned n, const char *status, const char *object)
{
	uint8_t rid[16] = {(uint8_t)n};
	struct audit_event ev = {
		.caller = "factory",
		.method = "SignCsr",
		.object = object,
		.status = status,
		.message = "",
		.request_id = rid,
		.request_id_len = sizeof(rid),
	};

	assert_int_equal(audit_append(w->a, &ev), 0);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static char *log_text(void)
{
	size_t len;

	return testutil_read(path, &len);
}

static void assert_chain_ok(void)
{
	char why[256];
	long bad = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_true(auditchain_verify(f, &bad, why, sizeof(why), NULL) >= 0);
	fclose(f);
}

/* The crash: rows committed, their lines never written. Only those are
 * recovered, with the row's caller, request id, CA, serial and profile. */
static void test_missing_lines_recovered(void **state)
{
	struct world w;
	struct reconcile_result res;
	char *text;

	(void)state;
	world_open(&w);
	res = reconcile_ok(&w); /* the first start: nothing yet */
	assert_int_equal(res.rows, 0);
	record(&w, 1, "device");
	audit_line(&w, 1, "OK", "ca=issuing serial=0001 profile=device");
	record(&w, 2, "device"); /* killed before its line */
	record(&w, 3, "verification");
	audit_line(&w, 3, "OK", "ca=issuing profile=verification"); /* its request id says */
	record(&w, 4, "device");
	audit_line(&w, 4, "RESOURCE_EXHAUSTED", "ca=issuing serial=0004 profile=device");
	record(&w, 5, "verification");				       /* killed too */
	audit_line(&w, 6, "UNAVAILABLE", "ca=issuing profile=device"); /* failed: no row */
	world_close(&w);

	world_open(&w);
	res = reconcile_ok(&w);
	assert_int_equal(res.rows, 5);
	assert_int_equal(res.recovered, 2);
	assert_int_equal(res.rescanned, 0);
	text = log_text();
	assert_int_equal(count(text, "recovered"), 4); /* object and message of each */
	assert_non_null(strstr(text, "\"caller\":\"factory\",\"method\":\"SignCsr\","
				     "\"object\":\"ca=issuing serial=02 profile=device recovered\","
				     "\"status\":\"OK\""));
	assert_non_null(strstr(text, "\"request_id\":\"02000000000000000000000000000000\"}"));
	assert_non_null(strstr(text, "\"method\":\"IssueVerificationCertificate\","
				     "\"object\":\"ca=issuing serial=05 profile=verification "
				     "recovered\""));
	assert_non_null(strstr(text, "2027-01-15T08:00:00Z"));
	assert_null(strstr(text, "serial=01 profile=device recovered"));
	assert_null(strstr(text, "serial=04 profile=device recovered"));
	free(text);
	assert_chain_ok();
	world_close(&w);
}

/* A second start reads only what came after the first, and recovers nothing twice. */
static void test_bounded_and_idempotent(void **state)
{
	struct world w;
	struct reconcile_result res;
	char *text;

	(void)state;
	world_open(&w);
	reconcile_ok(&w);
	record(&w, 1, "device");
	record(&w, 2, "device");
	audit_line(&w, 2, "OK", "ca=issuing serial=0002 profile=device");
	res = reconcile_ok(&w);
	assert_int_equal(res.rows, 2);
	assert_int_equal(res.lines, 1);
	assert_int_equal(res.recovered, 1);
	world_close(&w);

	world_open(&w);
	res = reconcile_ok(&w);
	assert_int_equal(res.rows, 0);
	assert_int_equal(res.lines, 0);
	assert_int_equal(res.recovered, 0);
	record(&w, 3, "device");
	audit_line(&w, 3, "OK", "ca=issuing serial=0003 profile=device");
	res = reconcile_ok(&w);
	assert_int_equal(res.rows, 1);
	assert_int_equal(res.lines, 1);
	assert_int_equal(res.recovered, 0);
	text = log_text();
	assert_int_equal(count(text, "profile=device recovered"), 1);
	free(text);
	world_close(&w);
}

/* Another signetd on the state directory keeps its own trail: its rows are
 * not this one's to recover. */
static void test_other_trail_left_alone(void **state)
{
	struct world w;
	struct reconcile_result res;
	struct errmsg em = {0};

	(void)state;
	world_open(&w);
	assert_int_equal(ledger_set_trail(w.l, "/var/log/signet/audit-b.log", &em), 0);
	record(&w, 1, "device");
	res = reconcile_ok(&w);
	assert_int_equal(res.rows, 0);
	assert_int_equal(res.recovered, 0);
	record(&w, 2, "device"); /* now under this trail */
	res = reconcile_ok(&w);
	assert_int_equal(res.rows, 1);
	assert_int_equal(res.recovered, 1);
	world_close(&w);
}

/* A log moved aside and started afresh: the position no longer fits, so the
 * new log is read from its start for the rows since the last reconcile. */
static void test_replaced_log_read_whole(void **state)
{
	char aside[160];
	struct world w;
	struct reconcile_result res;

	(void)state;
	world_open(&w);
	record(&w, 1, "device");
	audit_line(&w, 1, "OK", "ca=issuing serial=0001 profile=device");
	reconcile_ok(&w);
	record(&w, 2, "device");
	audit_line(&w, 2, "OK", "ca=issuing serial=0002 profile=device");
	world_close(&w);
	snprintf(aside, sizeof(aside), "%s.old", path);
	assert_int_equal(rename(path, aside), 0);

	world_open(&w);
	audit_line(&w, 9, "OK", "ca=issuing serial=0009 profile=device");
	res = reconcile_ok(&w);
	assert_int_equal(res.rescanned, 1);
	assert_int_equal(res.rows, 1); /* row 1 was reconciled before */
	assert_int_equal(res.lines, 1);
	assert_int_equal(res.recovered, 1);
	assert_chain_ok();
	world_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_lines_recovered, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_bounded_and_idempotent, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_other_trail_left_alone, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_replaced_log_read_whole, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
