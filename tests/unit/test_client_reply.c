/* Unit tests for client/reply.c: every way signetd's reply can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reply.h"

static const uint8_t our_id[WIRE_REQUEST_ID_LEN] = {1, 2,  3,  4,  5,  6,  7,  8,
						    9, 10, 11, 12, 13, 14, 15, 16};

struct packed {
	uint8_t *data;
	size_t len;
};

static struct packed pack_message(const ProtobufCMessage *m)
{
	struct packed p;

	p.len = protobuf_c_message_get_packed_size(m);
	p.data = malloc(p.len > 0 ? p.len : 1);
	assert_non_null(p.data);
	protobuf_c_message_pack(m, p.data);
	return p;
}

/* A Reply with `status`, `message` and a HealthResponse payload (SERVING, uptime 42). */
static struct packed make_reply(const uint8_t *id, size_t id_len, int status, const char *message)
{
	Signet__V1__Reply rep = SIGNET__V1__REPLY__INIT;
	Signet__V1__HealthResponse health = SIGNET__V1__HEALTH_RESPONSE__INIT;
	struct packed payload, out;

	health.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	health.token_state = "ok";
	health.uptime_seconds = 42;
	payload = pack_message(&health.base);
	rep.version = 1;
	rep.request_id.data = (uint8_t *)id;
	rep.request_id.len = id_len;
	rep.status = (Signet__V1__StatusCode)status;
	rep.message = (char *)(message != NULL ? message : "");
	if (status == 0) {
		rep.payload.data = payload.data;
		rep.payload.len = payload.len;
	}
	out = pack_message(&rep.base);
	free(payload.data);
	return out;
}

static int decode(struct packed p, ProtobufCMessage **resp, char *msg, size_t msglen)
{
	int r = reply_decode(p.data, p.len, our_id, &signet__v1__health_response__descriptor, resp,
			     msg, msglen);

	free(p.data);
	return r;
}

static void test_ok_reply_gives_the_payload(void **state)
{
	ProtobufCMessage *resp = NULL;
	const Signet__V1__HealthResponse *health;
	char msg[128] = "";

	(void)state;
	assert_int_equal(
		decode(make_reply(our_id, sizeof(our_id), 0, NULL), &resp, msg, sizeof(msg)), 0);
	assert_non_null(resp);
	health = (const Signet__V1__HealthResponse *)resp;
	assert_int_equal(health->uptime_seconds, 42);
	assert_string_equal(health->token_state, "ok");
	protobuf_c_message_free_unpacked(resp, NULL);
}

static void test_mismatched_request_id_is_protocol_error(void **state)
{
	uint8_t other[WIRE_REQUEST_ID_LEN];
	ProtobufCMessage *resp = NULL;
	char msg[128] = "";

	(void)state;
	memcpy(other, our_id, sizeof(other));
	other[15] ^= 0xff;
	assert_int_equal(decode(make_reply(other, sizeof(other), 0, NULL), &resp, msg, sizeof(msg)),
			 SIGNET_E_PROTOCOL);
	assert_null(resp);
	assert_non_null(strstr(msg, "does not match the request"));
	/* A wrong id wins over the status: that answer is not ours to report. */
	assert_int_equal(
		decode(make_reply(other, sizeof(other), 5, "no key"), &resp, msg, sizeof(msg)),
		SIGNET_E_PROTOCOL);
	/* A prefix of our id is not our id. */
	assert_int_equal(decode(make_reply(our_id, 8, 0, NULL), &resp, msg, sizeof(msg)),
			 SIGNET_E_PROTOCOL);
	assert_null(resp);
}

static void test_empty_request_id(void **state)
{
	ProtobufCMessage *resp = NULL;
	char msg[128] = "";

	(void)state;
	/* signetd could not read the envelope (e.g. too large): its status is the answer. */
	assert_int_equal(decode(make_reply(NULL, 0, 8, "request of 9 bytes exceeds the limit"),
				&resp, msg, sizeof(msg)),
			 SIGNET_E_RESOURCE_EXHAUSTED);
	assert_string_equal(msg, "request of 9 bytes exceeds the limit");
	/* ...but success without our id is not trusted. */
	assert_int_equal(decode(make_reply(NULL, 0, 0, NULL), &resp, msg, sizeof(msg)),
			 SIGNET_E_PROTOCOL);
	assert_null(resp);
}

static void test_garbage_bytes_are_protocol_error(void **state)
{
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x42, 0x13};
	ProtobufCMessage *resp = NULL;
	char msg[128] = "";

	(void)state;
	assert_int_equal(reply_decode(garbage, sizeof(garbage), our_id,
				      &signet__v1__health_response__descriptor, &resp, msg,
				      sizeof(msg)),
			 SIGNET_E_PROTOCOL);
	assert_null(resp);
	assert_non_null(strstr(msg, "cannot decode the reply"));
	/* Nothing at all is no answer either. */
	assert_int_equal(reply_decode((const uint8_t *)"", 0, our_id,
				      &signet__v1__health_response__descriptor, &resp, msg,
				      sizeof(msg)),
			 SIGNET_E_PROTOCOL);
	assert_null(resp);
}

static void test_garbage_payload_is_protocol_error(void **state)
{
	static uint8_t bad_payload[] = {0x0a, 0x50, 0x01}; /* field 1 claims 80 bytes, has 1 */
	Signet__V1__Reply rep = SIGNET__V1__REPLY__INIT;
	ProtobufCMessage *resp = NULL;
	char msg[128] = "";

	(void)state;
	rep.request_id.data = (uint8_t *)our_id;
	rep.request_id.len = sizeof(our_id);
	rep.payload.data = bad_payload;
	rep.payload.len = sizeof(bad_payload);
	assert_int_equal(decode(pack_message(&rep.base), &resp, msg, sizeof(msg)),
			 SIGNET_E_PROTOCOL);
	assert_null(resp);
	assert_string_equal(msg, "cannot decode the reply payload as HealthResponse");
}

static void test_status_maps_to_signet_err(void **state)
{
	static const struct {
		int status;
		int err;
	} cases[] = {
		{3, SIGNET_E_INVALID_ARGUMENT}, {5, SIGNET_E_NOT_FOUND},
		{6, SIGNET_E_ALREADY_EXISTS},	{12, SIGNET_E_UNIMPLEMENTED},
		{14, SIGNET_E_UNAVAILABLE},	{16, SIGNET_E_UNAUTHENTICATED},
		{99, SIGNET_E_UNKNOWN},
	};
	ProtobufCMessage *resp = NULL;
	char msg[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(decode(make_reply(our_id, sizeof(our_id), cases[i].status,
						   "daemon says no"),
					&resp, msg, sizeof(msg)),
				 cases[i].err);
		assert_null(resp);
		assert_string_equal(msg, "daemon says no");
	}
}

static void test_empty_message_uses_strerror(void **state)
{
	ProtobufCMessage *resp = NULL;
	char msg[128];

	(void)state;
	assert_int_equal(decode(make_reply(our_id, sizeof(our_id), 5, ""), &resp, msg, sizeof(msg)),
			 SIGNET_E_NOT_FOUND);
	assert_string_equal(msg, "not found");
}

static void test_message_is_sanitised_and_bounded(void **state)
{
	char long_message[2000];
	ProtobufCMessage *resp = NULL;
	char msg[64];

	(void)state;
	assert_int_equal(decode(make_reply(our_id, sizeof(our_id), 3, "bad\x1b[31m key\n\xc3\xa9"),
				&resp, msg, sizeof(msg)),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(msg, "bad?[31m key???");
	memset(long_message, 'x', sizeof(long_message) - 1);
	long_message[sizeof(long_message) - 1] = '\0';
	assert_int_equal(decode(make_reply(our_id, sizeof(our_id), 13, long_message), &resp, msg,
				sizeof(msg)),
			 SIGNET_E_INTERNAL);
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
}

static void test_copy_text_edges(void **state)
{
	char out[4] = "zzz";

	(void)state;
	reply_copy_text(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	reply_copy_text("abcdef", out, sizeof(out));
	assert_string_equal(out, "abc");
	reply_copy_text("x", out, 0); /* must not write */
	assert_string_equal(out, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_reply_gives_the_payload),
		cmocka_unit_test(test_mismatched_request_id_is_protocol_error),
		cmocka_unit_test(test_empty_request_id),
		cmocka_unit_test(test_garbage_bytes_are_protocol_error),
		cmocka_unit_test(test_garbage_payload_is_protocol_error),
		cmocka_unit_test(test_status_maps_to_signet_err),
		cmocka_unit_test(test_empty_message_uses_strerror),
		cmocka_unit_test(test_message_is_sanitised_and_bounded),
		cmocka_unit_test(test_copy_text_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
