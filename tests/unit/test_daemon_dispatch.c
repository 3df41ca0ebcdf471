/*
 * Unit tests for daemon/rpc/dispatch.c: everything decided before a handler runs
 * (size limit, envelope decoding, version, request id, method, payload), the
 * method table (proto/methods.def: one row per method of the service, what
 * each request acts on, its flags) and the start-up check of that table. No
 * token is needed for any of these.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/dispatch.h"

static struct config cfg = {.max_message_size = 4096, .workers = 1};
static struct daemon_state st = {.cfg = &cfg};
static const uint8_t rid[WIRE_REQUEST_ID_LEN] = {1, 2,	3,  4,	5,  6,	7,  8,
						 9, 10, 11, 12, 13, 14, 15, 16};

/* Run raw bytes through dispatch and decode the reply. */
static Signet__V1__Reply *roundtrip(const uint8_t *msg, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	Signet__V1__Reply *rep;

	dispatch_request(&st, 0, msg, len, &out, &out_len);
	assert_non_null(out);
	rep = signet__v1__reply__unpack(NULL, out_len, out);
	free(out);
	assert_non_null(rep);
	assert_int_equal(rep->version, SIGNET_PROTOCOL_VERSION);
	return rep;
}

static Signet__V1__Reply *send_envelope(uint32_t version, const char *method, size_t rid_len,
					const uint8_t *payload, size_t payload_len)
{
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	uint8_t buf[8192];
	size_t len;

	env.version = version;
	env.method = (char *)method;
	env.request_id.data = (uint8_t *)rid;
	env.request_id.len = rid_len;
	env.payload.data = (uint8_t *)payload;
	env.payload.len = payload_len;
	len = signet__v1__envelope__get_packed_size(&env);
	assert_true(len <= sizeof(buf));
	signet__v1__envelope__pack(&env, buf);
	return roundtrip(buf, len);
}

static void test_every_method_has_a_handler(void **state)
{
	const ProtobufCServiceDescriptor *svc = &signet__v1__signet__descriptor;
	char err[128];
	size_t n;
	const struct dispatch_method *served = dispatch_methods(&n);

	(void)state;
	assert_int_equal(dispatch_init(err, sizeof(err)), 0);
	for (unsigned i = 0; i < svc->n_methods; i++) {
		assert_non_null(dispatch_handler(i));
		assert_string_equal(dispatch_method(i)->name, svc->methods[i].name);
	}
	assert_null(dispatch_handler(svc->n_methods));
	assert_null(dispatch_method(svc->n_methods));
	/* and the reverse: every row is a method of the service, in its order
	 * (GetInfo lists the rows) */
	assert_int_equal(n, svc->n_methods);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(served[i].name, svc->methods[i].name);
}

/* The row of `method`, after dispatch_init. */
static const struct dispatch_method *row_of(const char *method)
{
	const ProtobufCServiceDescriptor *svc = &signet__v1__signet__descriptor;
	const ProtobufCMethodDescriptor *m =
		protobuf_c_service_descriptor_get_method_by_name(svc, method);
	char err[128];

	assert_int_equal(dispatch_init(err, sizeof(err)), 0);
	assert_non_null(m);
	assert_non_null(dispatch_method((unsigned)(m - svc->methods)));
	return dispatch_method((unsigned)(m - svc->methods));
}

static struct authz_target target_of(const char *method, const ProtobufCMessage *request)
{
	struct authz_target t;

	assert_int_equal(authz_target_of(&row_of(method)->target, request, &t), 0);
	return t;
}

static void test_targets(void **state)
{
	Signet__V1__GenerateKeyRequest gen = SIGNET__V1__GENERATE_KEY_REQUEST__INIT;
	Signet__V1__SignCsrRequest sign = SIGNET__V1__SIGN_CSR_REQUEST__INIT;
	Signet__V1__CreateIntermediateCaRequest sub =
		SIGNET__V1__CREATE_INTERMEDIATE_CA_REQUEST__INIT;
	Signet__V1__ListIssuedRequest list = SIGNET__V1__LIST_ISSUED_REQUEST__INIT;
	Signet__V1__GetIssuedRequest get = SIGNET__V1__GET_ISSUED_REQUEST__INIT;
	struct authz_target t;

	(void)state;
	gen.name = "dev-1";
	t = target_of("GenerateKey", &gen.base);
	assert_string_equal(t.key, "dev-1");
	assert_true(t.ca == NULL && t.parent == NULL && t.profile == NULL);

	sign.ca = "issuing";
	sign.profile = "device";
	t = target_of("SignCsr", &sign.base);
	assert_string_equal(t.ca, "issuing");
	assert_string_equal(t.profile, "device");
	assert_true(t.key == NULL && t.parent == NULL);

	sub.name = "issuing-2";
	sub.parent = "root";
	t = target_of("CreateIntermediateCa", &sub.base);
	assert_string_equal(t.ca, "issuing-2");
	assert_string_equal(t.parent, "root");
	assert_true(t.key == NULL && t.profile == NULL);

	/* all CAs (""): still a CA to authorize, which only "*" matches */
	t = target_of("ListIssued", &list.base);
	assert_string_equal(t.ca, "");
	assert_true(t.key == NULL && t.parent == NULL && t.profile == NULL);

	t = target_of("GetIssued", &get.base);
	assert_true(t.key == NULL && t.ca == NULL && t.parent == NULL && t.profile == NULL);
}

static void test_flags(void **state)
{
	(void)state;
	assert_int_equal(row_of("GetInfo")->flags, SIGNET_METHOD_RETRYABLE);
	assert_int_equal(row_of("DeleteKey")->flags, SIGNET_METHOD_AUDITED | SIGNET_METHOD_ADMIN);
	assert_int_equal(row_of("Revoke")->flags, SIGNET_METHOD_AUDITED | SIGNET_METHOD_ADMIN);
	assert_int_equal(row_of("SignCsr")->flags, SIGNET_METHOD_AUDITED | SIGNET_METHOD_RETRYABLE);
	assert_int_equal(row_of("GetCrl")->flags, SIGNET_METHOD_AUDITED);
	assert_int_equal(row_of("ListIssued")->flags, SIGNET_METHOD_RETRYABLE);
	assert_int_equal(row_of("CreateChallenge")->flags, SIGNET_METHOD_AUDITED);
	/* a proof of possession of a CA: a glob in methods does not grant it */
	assert_int_equal(row_of("IssueVerificationCertificate")->flags,
			 SIGNET_METHOD_AUDITED | SIGNET_METHOD_RETRYABLE | SIGNET_METHOD_CA_PROOF);
}

/* A copy of the served table, for dispatch_check to find fault with. */
static struct dispatch_method *table_copy(size_t *n)
{
	const struct dispatch_method *served = dispatch_methods(n);
	struct dispatch_method *t = malloc(*n * sizeof(*t));

	assert_non_null(t);
	memcpy(t, served, *n * sizeof(*t));
	return t;
}

static void expect_refused(const struct dispatch_method *t, size_t n, const char *needle)
{
	char err[256] = "";

	assert_int_equal(dispatch_check(t, n, &signet__v1__signet__descriptor, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, needle));
}

static void test_check_finds_bad_rows(void **state)
{
	const ProtobufCServiceDescriptor *svc = &signet__v1__signet__descriptor;
	char err[256], last[128];
	size_t n, gen = 2, nonce = 7;
	struct dispatch_method *t = table_copy(&n);

	(void)state;
	assert_int_equal(dispatch_check(t, n, svc, err, sizeof(err)), 0);
	assert_string_equal(t[gen].name, "GenerateKey");
	assert_string_equal(t[nonce].name, "SignNonce");

	t[gen].target.key = "nmae"; /* no such field */
	expect_refused(t, n, "'nmae'");
	t[gen].target.key = "algorithm"; /* not a string */
	expect_refused(t, n, "'algorithm'");
	t[gen].target.key = "name";
	t[nonce].target.parent = "message"; /* bytes, and in a oneof */
	expect_refused(t, n, "'message'");
	t[nonce].target.parent = NULL;

	t[gen].handler = NULL;
	expect_refused(t, n, "GenerateKey has no handler");
	t[gen].handler = dispatch_methods(&n)[gen].handler;

	t[gen].name = "GenerateKeys"; /* a row for no method, and a method without one */
	expect_refused(t, n, "GenerateKey has no handler");
	t[gen].name = "GenerateKey";
	t[n - 1].name = "GenerateKey";
	expect_refused(t, n, "GenerateKey has more than one row");
	t[n - 1].name = svc->methods[n - 1].name;
	/* a row beyond the service's methods */
	t = realloc(t, (n + 1) * sizeof(*t));
	assert_non_null(t);
	t[n] = t[0];
	t[n].name = "Frobnicate";
	expect_refused(t, n + 1, "names Frobnicate, which service");
	snprintf(last, sizeof(last), "%s has no handler", svc->methods[n - 1].name);
	expect_refused(t, n - 1, last);
	assert_int_equal(dispatch_check(t, n, svc, err, sizeof(err)), 0);
	free(t);
}

static void test_oversized_refused_before_decoding(void **state)
{
	uint8_t *big = calloc(1, cfg.max_message_size + 1);
	Signet__V1__Reply *rep;

	(void)state;
	rep = roundtrip(big, cfg.max_message_size + 1);
	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__RESOURCE_EXHAUSTED);
	assert_non_null(strstr(rep->message, "exceeds the limit of 4096"));
	signet__v1__reply__free_unpacked(rep, NULL);
	free(big);
}

static void test_garbage_is_invalid_argument(void **state)
{
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
	Signet__V1__Reply *rep;

	(void)state;
	rep = roundtrip(garbage, sizeof(garbage));
	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_int_equal(rep->request_id.len, 0);
	signet__v1__reply__free_unpacked(rep, NULL);
}

static void test_truncated_envelope(void **state)
{
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	uint8_t buf[256];
	size_t len;
	Signet__V1__Reply *rep;

	(void)state;
	env.version = 1;
	env.method = "Health";
	env.request_id.data = (uint8_t *)rid;
	env.request_id.len = sizeof(rid);
	len = signet__v1__envelope__pack(&env, buf);
	for (size_t cut = 1; cut < len; cut++) {
		rep = roundtrip(buf, cut);
		/* a prefix either fails to decode or lacks fields: never OK, never a crash */
		assert_int_not_equal(rep->status, SIGNET__V1__STATUS_CODE__OK);
		signet__v1__reply__free_unpacked(rep, NULL);
	}
}

static void test_wrong_version(void **state)
{
	Signet__V1__Reply *rep = send_envelope(2, "Health", sizeof(rid), NULL, 0);

	(void)state;
	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION);
	assert_non_null(strstr(rep->message, "version 2"));
	assert_int_equal(rep->request_id.len, sizeof(rid));
	assert_memory_equal(rep->request_id.data, rid, sizeof(rid));
	signet__v1__reply__free_unpacked(rep, NULL);
}

static void test_request_id_length(void **state)
{
	Signet__V1__Reply *rep = send_envelope(1, "Health", 5, NULL, 0);

	(void)state;
	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_non_null(strstr(rep->message, "request_id"));
	signet__v1__reply__free_unpacked(rep, NULL);
}

static void test_unknown_method(void **state)
{
	Signet__V1__Reply *rep = send_envelope(1, "Launch\nMissiles", sizeof(rid), NULL, 0);

	(void)state;
	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__UNIMPLEMENTED);
	/* quoted safely: no control characters reach the message */
	assert_non_null(strstr(rep->message, "'Launch?Missiles'"));
	signet__v1__reply__free_unpacked(rep, NULL);
}

static void test_undecodable_payload(void **state)
{
	static const uint8_t bad[] = {0x0a, 0x7f, 'x'}; /* field 1, length 127, 1 byte */
	Signet__V1__Reply *rep = send_envelope(1, "GenerateKey", sizeof(rid), bad, sizeof(bad));

	(void)state;
	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_non_null(strstr(rep->message, "GenerateKeyRequest"));
	signet__v1__reply__free_unpacked(rep, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_method_has_a_handler),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_check_finds_bad_rows),
		cmocka_unit_test(test_oversized_refused_before_decoding),
		cmocka_unit_test(test_garbage_is_invalid_argument),
		cmocka_unit_test(test_truncated_envelope),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_request_id_length),
		cmocka_unit_test(test_unknown_method),
		cmocka_unit_test(test_undecodable_payload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
