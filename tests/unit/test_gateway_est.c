/* client/gateway/est.c: EST URLs, HTTP Basic, base64 answers, statuses, over a fake signetd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signet/signet.h>

#include "base64.h"
#include "config.h"
#include "est.h"

/* What the fake backend saw and will answer. */
struct fake {
	int calls;
	char enrolment[80];
	char username[80], code[80];
	uint8_t csr[64];
	size_t csr_len, n_chain, tls_unique_len;
	int reenroll;
	int err;
	unsigned retry_after;
	int no_attrs;
};

static struct fake fk;
static struct gw_config cfg;

static int fake_ca_certs(void *ctx, const char *enrolment, struct scep_ca_certs *out, char *err,
			 size_t errlen)
{
	(void)ctx;
	fk.calls++;
	snprintf(fk.enrolment, sizeof(fk.enrolment), "%s", enrolment);
	if (fk.err != 0) {
		snprintf(err, errlen, "fake error");
		return fk.err;
	}
	out->n_certs = 1;
	out->pkcs7 = (uint8_t *)strdup("PKCS7");
	out->pkcs7_len = 5;
	return 0;
}

static int fake_enroll(void *ctx, const struct est_enroll_in *in, struct est_enroll_out *out,
		       char *err, size_t errlen)
{
	(void)ctx;
	fk.calls++;
	snprintf(fk.enrolment, sizeof(fk.enrolment), "%s", in->enrolment);
	snprintf(fk.username, sizeof(fk.username), "%s", in->username);
	snprintf(fk.code, sizeof(fk.code), "%s", in->code);
	fk.csr_len = in->csr_len < sizeof(fk.csr) ? in->csr_len : sizeof(fk.csr);
	memcpy(fk.csr, in->csr, fk.csr_len);
	fk.n_chain = in->n_chain;
	fk.tls_unique_len = in->tls_unique_len;
	fk.reenroll = in->reenroll;
	if (fk.err != 0) {
		snprintf(err, errlen, "refused");
		return fk.err;
	}
	out->retry_after = fk.retry_after;
	if (fk.retry_after == 0) {
		out->pkcs7 = (uint8_t *)strdup("CERT");
		out->pkcs7_len = 4;
	}
	return 0;
}

static int fake_csr_attrs(void *ctx, const char *enrolment, uint8_t **der, size_t *len, char *err,
			  size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	fk.calls++;
	snprintf(fk.enrolment, sizeof(fk.enrolment), "%s", enrolment);
	*der = NULL;
	*len = 0;
	if (!fk.no_attrs) {
		*der = (uint8_t *)strdup("\x30\x00");
		*len = 2;
	}
	return 0;
}

static const struct est_backend be = {NULL, fake_ca_certs, fake_enroll, fake_csr_attrs};

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.est_enabled = 1;
	strcpy(cfg.est_default, "factory");
	strcpy(cfg.est_labels[0].label, "edge");
	strcpy(cfg.est_labels[0].enrolment, "edge-devices");
	cfg.n_est_labels = 1;
	memset(&fk, 0, sizeof(fk));
	return 0;
}

static void route(const char *url, int want, const char *name, enum est_op op)
{
	char got[GW_NAME_MAX + 1];
	enum est_op gop = EST_OP_UNKNOWN;

	assert_int_equal(est_route(&cfg, url, got, &gop), want);
	if (want == 0) {
		assert_string_equal(got, name);
		assert_int_equal(gop, op);
	}
}

static void test_route(void **state)
{
	(void)state;
	route("/.well-known/est/cacerts", 0, "factory", EST_OP_CACERTS);
	route("/.well-known/est/simpleenroll", 0, "factory", EST_OP_SIMPLEENROLL);
	route("/.well-known/est/simplereenroll", 0, "factory", EST_OP_SIMPLEREENROLL);
	route("/.well-known/est/csrattrs", 0, "factory", EST_OP_CSRATTRS);
	route("/.well-known/est/edge/simpleenroll", 0, "edge-devices", EST_OP_SIMPLEENROLL);
	route("/.well-known/est/edge/cacerts", 0, "edge-devices", EST_OP_CACERTS);
	route("/.well-known/est", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/est/", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/est/serverkeygen", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/est/other/cacerts", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/est/edge", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/est/edge/x/cacerts", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/estx/cacerts", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/est/cacerts/", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/scep", SIGNET_E_NOT_FOUND, NULL, 0);
	cfg.est_default[0] = '\0';
	route("/.well-known/est/cacerts", SIGNET_E_NOT_FOUND, NULL, 0);
	route("/.well-known/est/edge/cacerts", 0, "edge-devices", EST_OP_CACERTS);
	cfg.est_enabled = 0;
	route("/.well-known/est/edge/cacerts", SIGNET_E_NOT_FOUND, NULL, 0);
}

static void basic(const char *h, int want, const char *user, const char *pw)
{
	char u[EST_USER_MAX + 1], p[EST_PASSWORD_MAX + 1];

	assert_int_equal(est_parse_basic(h, u, p), want);
	if (want == 0) {
		assert_string_equal(u, user);
		assert_string_equal(p, pw);
	}
}

static void test_basic(void **state)
{
	(void)state;
	basic("Basic ZGV2aWNlMTpjb2RlLTEyMw==", 0, "device1", "code-123");
	basic("basic   ZGV2aWNlMTpjb2RlLTEyMw==", 0, "device1", "code-123");
	basic("Basic OnNlY3JldA==", 0, "", "secret");			/* ":secret" */
	basic("Basic dTpwOnE=", 0, "u", "p:q");				/* the first ':' splits */
	basic("Basic dXNlcg==", SIGNET_E_INVALID_ARGUMENT, NULL, NULL); /* "user": no ':' */
	basic("Bearer abc", SIGNET_E_INVALID_ARGUMENT, NULL, NULL);
	basic("Basic !!!", SIGNET_E_INVALID_ARGUMENT, NULL, NULL);
	basic("Basic", SIGNET_E_INVALID_ARGUMENT, NULL, NULL);
	basic("Basic dQBwOnE=", SIGNET_E_INVALID_ARGUMENT, NULL, NULL); /* "u\0p:q" */
}

static void test_base64_wrap(void **state)
{
	uint8_t in[100];
	char *out;
	size_t n, i;

	(void)state;
	assert_int_equal(b64_encode((const uint8_t *)"CERT", 4, 64, &out, &n), 0);
	assert_string_equal(out, "Q0VSVA==\r\n");
	assert_int_equal(n, 10);
	free(out);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	assert_int_equal(b64_encode(in, sizeof(in), 64, &out, &n), 0);
	/* 136 characters: a line of 64, a line of 64, a line of 8 */
	assert_int_equal(n, 136 + 6);
	assert_memory_equal(out + 64, "\r\n", 2);
	assert_memory_equal(out + 130, "\r\n", 2);
	assert_memory_equal(out + n - 2, "\r\n", 2);
	free(out);
	assert_int_equal(b64_encode(in, 3, 0, &out, &n), 0);
	assert_string_equal(out, "AAEC");
	free(out);
}

static void test_status(void **state)
{
	(void)state;
	assert_int_equal(est_http_status(SIGNET_E_UNAUTHENTICATED), 401);
	assert_int_equal(est_http_status(SIGNET_E_PERMISSION_DENIED), 403);
	assert_int_equal(est_http_status(SIGNET_E_INVALID_ARGUMENT), 400);
	assert_int_equal(est_http_status(SIGNET_E_NOT_FOUND), 404);
	assert_int_equal(est_http_status(SIGNET_E_UNAVAILABLE), 503);
}

static const char *header(const struct scep_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n_headers; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void handle(const char *method, const char *url, const char *auth, const char *body,
		   struct scep_response *resp)
{
	static const uint8_t leaf[] = "LEAF";
	struct est_request req = {0};

	req.method = method;
	req.url = url;
	req.authorization = auth;
	req.body = (const uint8_t *)body;
	req.body_len = body ? strlen(body) : 0;
	req.peer = "192.0.2.7";
	req.tls = 1;
	req.chain[0] = leaf;
	req.chain_len[0] = 4;
	req.n_chain = 1;
	assert_int_equal(est_handle(&cfg, &be, &req, resp), 0);
}

static void test_cacerts(void **state)
{
	struct scep_response r;

	(void)state;
	handle("GET", "/.well-known/est/cacerts", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/pkcs7-mime; smime-type=certs-only");
	assert_string_equal(header(&r, "Content-Transfer-Encoding"), "base64");
	assert_int_equal(r.body_len, 10);
	assert_memory_equal(r.body, "UEtDUzc=\r\n", 10);
	assert_string_equal(fk.enrolment, "factory");
	scep_response_clear(&r);
	handle("POST", "/.well-known/est/cacerts", NULL, "x", &r);
	assert_int_equal(r.status, 405);
	scep_response_clear(&r);
}

static void test_enroll(void **state)
{
	struct scep_response r;

	(void)state;
	/* "CSR!" in base64, wrapped as clients do */
	handle("POST", "/.well-known/est/edge/simpleenroll",
	       "Basic ZGV2aWNlMTpjb2RlLTEyMw==", "Q1NS\r\nIQ==\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/pkcs7-mime; smime-type=certs-only");
	assert_string_equal(header(&r, "Content-Transfer-Encoding"), "base64");
	assert_memory_equal(r.body, "Q0VSVA==\r\n", 10);
	assert_string_equal(fk.enrolment, "edge-devices");
	assert_string_equal(fk.username, "device1");
	assert_string_equal(fk.code, "code-123");
	assert_int_equal(fk.csr_len, 4);
	assert_memory_equal(fk.csr, "CSR!", 4);
	assert_int_equal(fk.n_chain, 1);
	assert_int_equal(fk.reenroll, 0);
	scep_response_clear(&r);

	handle("POST", "/.well-known/est/simplereenroll", NULL, "Q1NSIQ==", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(fk.reenroll, 1);
	assert_string_equal(fk.code, "");
	scep_response_clear(&r);

	handle("GET", "/.well-known/est/simpleenroll", NULL, NULL, &r);
	assert_int_equal(r.status, 405);
	scep_response_clear(&r);
	fk.calls = 0;
	handle("POST", "/.well-known/est/simpleenroll", NULL, "!!!", &r);
	assert_int_equal(r.status, 400);
	scep_response_clear(&r);
	handle("POST", "/.well-known/est/simpleenroll", NULL, "", &r);
	assert_int_equal(r.status, 400);
	scep_response_clear(&r);
	handle("POST", "/.well-known/est/simpleenroll", "Basic !!!", "Q1NSIQ==", &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(header(&r, "WWW-Authenticate"), "Basic realm=\"est\"");
	scep_response_clear(&r);
	assert_int_equal(fk.calls, 0);
}

static void test_enroll_statuses(void **state)
{
	struct scep_response r;

	(void)state;
	fk.err = SIGNET_E_UNAUTHENTICATED;
	handle("POST", "/.well-known/est/simpleenroll", NULL, "Q1NSIQ==", &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(header(&r, "WWW-Authenticate"), "Basic realm=\"est\"");
	scep_response_clear(&r);
	fk.err = SIGNET_E_PERMISSION_DENIED;
	handle("POST", "/.well-known/est/simplereenroll", NULL, "Q1NSIQ==", &r);
	assert_int_equal(r.status, 403);
	assert_null(header(&r, "WWW-Authenticate"));
	scep_response_clear(&r);
	fk.err = SIGNET_E_INVALID_ARGUMENT;
	handle("POST", "/.well-known/est/simpleenroll", NULL, "Q1NSIQ==", &r);
	assert_int_equal(r.status, 400);
	scep_response_clear(&r);
	fk.err = SIGNET_E_UNAVAILABLE;
	handle("POST", "/.well-known/est/simpleenroll", NULL, "Q1NSIQ==", &r);
	assert_int_equal(r.status, 503);
	scep_response_clear(&r);
	fk.err = 0;
	fk.retry_after = 600;
	handle("POST", "/.well-known/est/simpleenroll", NULL, "Q1NSIQ==", &r);
	assert_int_equal(r.status, 202);
	assert_string_equal(header(&r, "Retry-After"), "600");
	scep_response_clear(&r);
}

static void test_csrattrs(void **state)
{
	struct scep_response r;

	(void)state;
	handle("GET", "/.well-known/est/csrattrs", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/csrattrs");
	assert_string_equal(header(&r, "Content-Transfer-Encoding"), "base64");
	assert_memory_equal(r.body, "MAA=\r\n", 6);
	scep_response_clear(&r);
	fk.no_attrs = 1;
	handle("GET", "/.well-known/est/csrattrs", NULL, NULL, &r);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
	scep_response_clear(&r);
}

static void test_plain_http(void **state)
{
	struct est_request req = {0};
	struct scep_response r;

	(void)state;
	req.method = "GET";
	req.url = "/.well-known/est/cacerts";
	req.peer = "192.0.2.7";
	assert_int_equal(est_handle(&cfg, &be, &req, &r), 0);
	assert_int_equal(r.status, 404);
	assert_int_equal(fk.calls, 0);
	scep_response_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_route, setup),
		cmocka_unit_test_setup(test_basic, setup),
		cmocka_unit_test_setup(test_base64_wrap, setup),
		cmocka_unit_test_setup(test_status, setup),
		cmocka_unit_test_setup(test_cacerts, setup),
		cmocka_unit_test_setup(test_enroll, setup),
		cmocka_unit_test_setup(test_enroll_statuses, setup),
		cmocka_unit_test_setup(test_csrattrs, setup),
		cmocka_unit_test_setup(test_plain_http, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
