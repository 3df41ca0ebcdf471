/*
 * What the CLI cannot be made to send: a request with a stale timestamp, and
 * the same authenticated request twice (a replay). Speaks the wire protocol
 * itself, with the MAC from proto/authmac.h. Environment: SIGNET_ENDPOINT,
 * SIGNET_CLIENT, SIGNET_SECRET_FILE (set by auth.sh).
 *
 *   itest_auth               the tests below
 *   itest_auth capture FILE  send a fresh request (it must succeed) and keep
 *                            its bytes in FILE
 *   itest_auth replay FILE   send FILE's bytes again: it must be refused
 *                            (auth.sh restarts signetd in between)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <openssl/rand.h>

#include "authmac.h"
#include "signet.pb-c.h"

static uint8_t secret[AUTHMAC_SECRET_MAX];
static uint8_t rid[16]; /* the last envelope's request id, for test_altered */
static size_t secret_len;

static void load_secret(void)
{
	char text[256];
	const char *why = NULL;
	FILE *f = fopen(getenv("SIGNET_SECRET_FILE"), "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	assert_int_equal(authmac_secret_parse(text, n, secret, &secret_len, &why), 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A Health envelope from SIGNET_CLIENT with the given timestamp, MAC'd. */
static size_t envelope(uint64_t timestamp_ms, uint8_t *out, size_t cap)
{
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	Signet__V1__Credential cr = SIGNET__V1__CREDENTIAL__INIT;
	static uint8_t nonce[16], mac[AUTHMAC_LEN];
	struct authmac_input in;

	assert_int_equal(RAND_bytes(rid, sizeof(rid)), 1);
	assert_int_equal(RAND_bytes(nonce, sizeof(nonce)), 1);
	env.version = 1;
	env.method = "Health";
	env.request_id = (ProtobufCBinaryData){.data = rid, .len = sizeof(rid)};
	cr.client = getenv("SIGNET_CLIENT");
	cr.timestamp_ms = timestamp_ms;
	cr.nonce = (ProtobufCBinaryData){.data = nonce, .len = sizeof(nonce)};
	in = (struct authmac_input){.method = env.method,
				    .request_id = rid,
				    .request_id_len = sizeof(rid),
				    .client = cr.client,
				    .timestamp_ms = timestamp_ms,
				    .nonce = nonce,
				    .nonce_len = sizeof(nonce),
				    .payload = NULL,
				    .payload_len = 0};
	assert_int_equal(authmac_compute(secret, secret_len, &in, mac), 0);
	cr.mac = (ProtobufCBinaryData){.data = mac, .len = sizeof(mac)};
	env.credential = &cr;
	assert_true(protobuf_c_message_get_packed_size(&env.base) <= cap);
	return protobuf_c_message_pack(&env.base, out);
}

/* Send `msg` and return the reply's status; its message into `text`. */
static int send_and_status(const uint8_t *msg, size_t len, char *text, size_t textlen)
{
	int s = nn_socket(AF_SP, NN_REQ), timeout = 20000, n, status;
	void *answer = NULL;
	Signet__V1__Reply *rep;

	assert_true(s >= 0);
	assert_int_equal(nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)),
			 0);
	assert_true(nn_connect(s, getenv("SIGNET_ENDPOINT")) >= 0);
	assert_int_equal(nn_send(s, msg, len, 0), (int)len);
	n = nn_recv(s, &answer, NN_MSG, 0);
	assert_true(n > 0);
	rep = signet__v1__reply__unpack(NULL, (size_t)n, answer);
	assert_non_null(rep);
	status = (int)rep->status;
	snprintf(text, textlen, "%s", rep->message);
	signet__v1__reply__free_unpacked(rep, NULL);
	nn_freemsg(answer);
	nn_close(s);
	return status;
}

static void test_fresh_then_replayed(void **state)
{
	uint8_t msg[1024];
	char text[512];
	size_t len = envelope(now_ms(), msg, sizeof(msg));

	(void)state;
	assert_int_equal(send_and_status(msg, len, text, sizeof(text)),
			 SIGNET__V1__STATUS_CODE__OK);
	assert_int_equal(send_and_status(msg, len, text, sizeof(text)),
			 SIGNET__V1__STATUS_CODE__UNAUTHENTICATED);
	assert_non_null(strstr(text, "replayed request"));
}

static void test_stale_and_future(void **state)
{
	uint8_t msg[1024];
	char text[512];
	size_t len = envelope(now_ms() - 10 * 60 * 1000, msg, sizeof(msg));

	(void)state;
	assert_int_equal(send_and_status(msg, len, text, sizeof(text)),
			 SIGNET__V1__STATUS_CODE__UNAUTHENTICATED);
	assert_non_null(strstr(text, "behind the daemon's clock"));
	len = envelope(now_ms() + 10 * 60 * 1000, msg, sizeof(msg));
	assert_int_equal(send_and_status(msg, len, text, sizeof(text)),
			 SIGNET__V1__STATUS_CODE__UNAUTHENTICATED);
	assert_non_null(strstr(text, "ahead of the daemon's clock"));
}

/* One byte the MAC covers (the request id) changed on the way: the request
 * still parses and names a real method, and only the MAC refuses it. */
static void test_altered(void **state)
{
	uint8_t msg[1024];
	char text[512];
	size_t len = envelope(now_ms(), msg, sizeof(msg));
	uint8_t *id = memmem(msg, len, rid, sizeof(rid));

	(void)state;
	assert_non_null(id);
	id[0] ^= 0x01;
	assert_int_equal(send_and_status(msg, len, text, sizeof(text)),
			 SIGNET__V1__STATUS_CODE__UNAUTHENTICATED);
	assert_non_null(strstr(text, "MAC does not verify"));
}

/* A request captured before a restart, sent again after it. */
static int capture(const char *path)
{
	uint8_t msg[1024];
	char text[512];
	size_t len = envelope(now_ms(), msg, sizeof(msg));
	FILE *f;
	int status = send_and_status(msg, len, text, sizeof(text));

	if (status != SIGNET__V1__STATUS_CODE__OK) {
		fprintf(stderr, "capture: status %d: %s\n", status, text);
		return 1;
	}
	if ((f = fopen(path, "wb")) == NULL || fwrite(msg, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

static int replay(const char *path)
{
	uint8_t msg[1024];
	char text[512];
	FILE *f = fopen(path, "rb");
	size_t len;
	int status;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	len = fread(msg, 1, sizeof(msg), f);
	fclose(f);
	status = send_and_status(msg, len, text, sizeof(text));
	printf("%d %s\n", status, text);
	return status == SIGNET__V1__STATUS_CODE__UNAUTHENTICATED ? 0 : 1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_then_replayed),
		cmocka_unit_test(test_stale_and_future),
		cmocka_unit_test(test_altered),
	};

	load_secret();
	if (argc == 3 && strcmp(argv[1], "capture") == 0)
		return capture(argv[2]);
	if (argc == 3 && strcmp(argv[1], "replay") == 0)
		return replay(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
