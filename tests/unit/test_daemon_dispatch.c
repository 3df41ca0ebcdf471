/*
 * Unit tests for daemon/dispatch.c: everything decided before a handler runs
 * (size limit, envelope decoding, version, request id, method, payload), and
 * the service/handler invariant. No token is needed for any of these.
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
	char err[128];

	(void)state;
	assert_int_equal(dispatch_init(err, sizeof(err)), 0);
	for (unsigned i = 0; i < signet__v1__signet__descriptor.n_methods; i++)
		assert_non_null(dispatch_handler(i));
	assert_null(dispatch_handler(signet__v1__signet__descriptor.n_methods));
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
