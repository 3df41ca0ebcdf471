/* client/gateway/scep.c: URLs, operations, content types, over a fake signetd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signet/signet.h>

#include "config.h"
#include "scep.h"

/* What the fake backend saw and will answer. */
struct fake {
	int calls;
	char enrolment[80];
	uint8_t msg[64];
	size_t msg_len;
	char peer[64];
	int err;	/* returned by both calls */
	size_t n_certs; /* GetCACert: 1 or 2 */
	int pki_status;
};

static int fake_ca_certs(void *ctx, const char *enrolment, struct scep_ca_certs *out, char *err,
			 size_t errlen)
{
	struct fake *f = ctx;

	f->calls++;
	snprintf(f->enrolment, sizeof(f->enrolment), "%s", enrolment);
	if (f->err != 0) {
		snprintf(err, errlen, "fake error");
		return f->err;
	}
	out->n_certs = f->n_certs;
	out->first = (uint8_t *)strdup("CA-DER");
	out->first_len = 6;
	out->pkcs7 = (uint8_t *)strdup("PKCS7");
	out->pkcs7_len = 5;
	out->caps = strdup("POSTPKIOperation\nSHA-256\n");
	return 0;
}

static int fake_operation(void *ctx, const char *enrolment, const uint8_t *msg, size_t len,
			  const char *peer, struct scep_op_result *out, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->calls++;
	snprintf(f->enrolment, sizeof(f->enrolment), "%s", enrolment);
	snprintf(f->peer, sizeof(f->peer), "%s", peer);
	f->msg_len = len < sizeof(f->msg) ? len : sizeof(f->msg);
	memcpy(f->msg, msg, f->msg_len);
	if (f->err != 0) {
		snprintf(err, errlen, "not a pkiMessage");
		return f->err;
	}
	out->cert_rep = (uint8_t *)strdup("CERTREP");
	out->cert_rep_len = 7;
	snprintf(out->transaction_id, sizeof(out->transaction_id), "TX1");
	out->pki_status = f->pki_status;
	out->fail_info = f->pki_status == 2 ? 2 : 0;
	return 0;
}

static struct gw_config cfg;
static struct fake fk;
static struct scep_backend be = {&fk, fake_ca_certs, fake_operation};

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.path, "/scep");
	strcpy(cfg.default_enrolment, "mdm");
	memset(&fk, 0, sizeof(fk));
	fk.n_certs = 2;
	return 0;
}

static void route(const char *url, int want, const char *name)
{
	char got[GW_NAME_MAX + 1];

	assert_int_equal(scep_route(&cfg, url, got), want);
	if (want == 0)
		assert_string_equal(got, name);
}

static void test_route(void **state)
{
	(void)state;
	route("/scep", 0, "mdm");
	route("/scep/", 0, "mdm");
	route("/scep/routers", 0, "routers");
	route("/scep/routers/", 0, "routers");
	route("/scep/cgi-bin/pkiclient.exe", 0, "mdm");
	route("/scep/routers/cgi-bin/pkiclient.exe", 0, "routers");
	route("/cgi-bin/pkiclient.exe", 0, "mdm");
	route("/", SIGNET_E_NOT_FOUND, NULL);
	route("/scepx", SIGNET_E_NOT_FOUND, NULL);
	route("/other/scep", SIGNET_E_NOT_FOUND, NULL);
	route("/scep/a/b", SIGNET_E_NOT_FOUND, NULL);
	route("/scep/..", SIGNET_E_NOT_FOUND, NULL);
	route("/scep//", SIGNET_E_NOT_FOUND, NULL);
	route("/scep/a%2fb", SIGNET_E_NOT_FOUND, NULL);
	route("/scep/"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	      SIGNET_E_NOT_FOUND, NULL);
}

static void test_route_lists(void **state)
{
	(void)state;
	cfg.default_enrolment[0] = '\0';
	route("/scep", SIGNET_E_NOT_FOUND, NULL);
	route("/cgi-bin/pkiclient.exe", SIGNET_E_NOT_FOUND, NULL);
	route("/scep/anything", 0, "anything");
	strcpy(cfg.enrolments[0], "mdm");
	cfg.n_enrolments = 1;
	route("/scep/anything", SIGNET_E_NOT_FOUND, NULL);
	route("/scep/mdm", 0, "mdm");
}

static void handle(const char *method, const char *url, const char *op, const char *message,
		   const char *body, struct scep_response *resp)
{
	struct scep_request req = {
		method,	    url, op, message, (const uint8_t *)body, body ? strlen(body) : 0,
		"192.0.2.7"};

	assert_int_equal(scep_handle(&cfg, &be, &req, resp), 0);
}

static void test_getcacaps(void **state)
{
	struct scep_response resp;

	(void)state;
	handle("GET", "/scep/routers", "GetCACaps", NULL, NULL, &resp);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "text/plain");
	assert_int_equal(resp.body_len, strlen("POSTPKIOperation\nSHA-256\n"));
	assert_memory_equal(resp.body, "POSTPKIOperation\nSHA-256\n", resp.body_len);
	assert_string_equal(fk.enrolment, "routers");
	scep_response_clear(&resp);
}

static void test_getcacert(void **state)
{
	struct scep_response resp;

	(void)state;
	handle("GET", "/scep", "GetCACert", "whatever", NULL, &resp);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "application/x-x509-ca-ra-cert");
	assert_memory_equal(resp.body, "PKCS7", 5);
	scep_response_clear(&resp);
	fk.n_certs = 1;
	handle("GET", "/scep", "GetCACert", NULL, NULL, &resp);
	assert_string_equal(resp.content_type, "application/x-x509-ca-cert");
	assert_int_equal(resp.body_len, 6);
	assert_memory_equal(resp.body, "CA-DER", 6);
	scep_response_clear(&resp);
}

static void test_pkioperation(void **state)
{
	struct scep_response resp;

	(void)state;
	handle("POST", "/scep", "PKIOperation", NULL, "\x30\x03raw", &resp);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "application/x-pki-message");
	assert_memory_equal(resp.body, "CERTREP", 7);
	assert_string_equal(resp.transaction_id, "TX1");
	assert_string_equal(resp.note, "SUCCESS");
	assert_int_equal(fk.msg_len, 5);
	assert_memory_equal(fk.msg, "\x30\x03raw", 5);
	assert_string_equal(fk.peer, "192.0.2.7");
	scep_response_clear(&resp);
	/* GET: base64 (URL-safe here), already URL-decoded */
	fk.pki_status = 2;
	handle("GET", "/scep", "PKIOperation", "MAP7_w", NULL, &resp);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.note, "FAILURE failInfo badMessageCheck");
	assert_int_equal(fk.msg_len, 4);
	assert_memory_equal(fk.msg, "\x30\x03\xfb\xff", 4);
	scep_response_clear(&resp);
}

static void expect(const char *method, const char *url, const char *op, const char *message,
		   const char *body, int status)
{
	struct scep_response resp;
	int calls = fk.calls;

	handle(method, url, op, message, body, &resp);
	assert_int_equal(resp.status, status);
	assert_string_equal(resp.content_type, "text/plain");
	assert_true(resp.body_len > 1 && resp.body[resp.body_len - 1] == '\n');
	if (status != 503 && status != 500 && status != 403 && fk.err == 0)
		assert_int_equal(fk.calls, calls); /* refused before signetd was asked */
	scep_response_clear(&resp);
}

static void test_refusals(void **state)
{
	(void)state;
	expect("GET", "/nope", "GetCACaps", NULL, NULL, 404);
	expect("GET", "/scep", NULL, NULL, NULL, 400);
	expect("GET", "/scep", "GetNextCACert", NULL, NULL, 400);
	expect("GET", "/scep", "getcacaps", NULL, NULL, 400);
	expect("POST", "/scep", "GetCACaps", NULL, "x", 405);
	expect("PUT", "/scep", "PKIOperation", NULL, "x", 405);
	expect("GET", "/scep", "PKIOperation", NULL, NULL, 400);
	expect("GET", "/scep", "PKIOperation", "", NULL, 400);
	expect("GET", "/scep", "PKIOperation", "not*base64", NULL, 400);
	expect("POST", "/scep", "PKIOperation", NULL, "", 400);
}

static void test_backend_errors(void **state)
{
	struct scep_response resp;

	(void)state;
	fk.err = SIGNET_E_INVALID_ARGUMENT;
	handle("POST", "/scep", "PKIOperation", NULL, "junk", &resp);
	assert_int_equal(resp.status, 400);
	assert_memory_equal(resp.body, "not a pkiMessage\n", resp.body_len);
	scep_response_clear(&resp);
	fk.err = SIGNET_E_NOT_FOUND;
	expect("GET", "/scep/gone", "GetCACert", NULL, NULL, 404);
	fk.err = SIGNET_E_UNAVAILABLE;
	handle("GET", "/scep", "GetCACaps", NULL, NULL, &resp);
	assert_int_equal(resp.status, 503);
	/* the client hears no internals; the log does */
	assert_null(strstr((char *)resp.body, "fake"));
	assert_non_null(strstr(resp.note, "fake error"));
	scep_response_clear(&resp);
	fk.err = SIGNET_E_INTERNAL;
	expect("GET", "/scep", "GetCACert", NULL, NULL, 500);
	fk.err = SIGNET_E_PERMISSION_DENIED;
	expect("GET", "/scep", "GetCACert", NULL, NULL, 403);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_route, setup),
		cmocka_unit_test_setup(test_route_lists, setup),
		cmocka_unit_test_setup(test_getcacaps, setup),
		cmocka_unit_test_setup(test_getcacert, setup),
		cmocka_unit_test_setup(test_pkioperation, setup),
		cmocka_unit_test_setup(test_refusals, setup),
		cmocka_unit_test_setup(test_backend_errors, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
