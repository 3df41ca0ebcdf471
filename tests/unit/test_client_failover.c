/*
 * libsignet with several endpoints, deadlines and retries, against two
 * scripted in-process signetd (nanomsg REP over inproc): requests are spread
 * over both, a retry carries the same request id under a fresh credential
 * stamp, only calls safe to repeat are repeated, and UNAVAILABLE moves a call
 * to the other instance.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "authmac.h"
#include "client.h"

#define EP_A	 "inproc://failover-a"
#define EP_B	 "inproc://failover-b"
#define MAX_SEEN 64

enum fake_mode {
	FAKE_ANSWER,	  /* SERVING */
	FAKE_SILENT_ONCE, /* drop the first request, answer the rest */
	FAKE_SILENT,	  /* never answer */
	FAKE_UNAVAILABLE, /* answer UNAVAILABLE */
};

/* One scripted signetd: it serves until stopped and keeps what it was sent. */
struct fake {
	const char *endpoint;
	int sock;
	pthread_t thread;
	enum fake_mode mode;
	atomic_bool stop;
	atomic_uint n_seen;
	Signet__V1__Envelope *seen[MAX_SEEN];
};

static struct fake fake_a = {.endpoint = EP_A, .sock = -1};
static struct fake fake_b = {.endpoint = EP_B, .sock = -1};

static const uint8_t secret[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
				   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void fake_reply(struct fake *f, const Signet__V1__Envelope *env)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	Signet__V1__Reply rep = SIGNET__V1__REPLY__INIT;
	uint8_t payload[64], *buf;
	size_t len;

	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	rep.version = 1;
	rep.request_id = env->request_id;
	rep.message = (char *)"";
	if (f->mode == FAKE_UNAVAILABLE) {
		rep.status = (Signet__V1__StatusCode)14;
		rep.message = (char *)"draining";
	} else {
		rep.payload.data = payload;
		rep.payload.len = protobuf_c_message_pack(&resp.base, payload);
	}
	len = protobuf_c_message_get_packed_size(&rep.base);
	buf = malloc(len + 1);
	protobuf_c_message_pack(&rep.base, buf);
	nn_send(f->sock, buf, len, 0);
	free(buf);
}

static void *fake_serve(void *arg)
{
	struct fake *f = arg;

	while (!atomic_load(&f->stop)) {
		Signet__V1__Envelope *env;
		void *msg = NULL;
		unsigned n;
		bool answer;
		int len = nn_recv(f->sock, &msg, NN_MSG, 0);

		if (len < 0)
			continue; /* the receive timeout: look at the stop flag */
		env = signet__v1__envelope__unpack(NULL, (size_t)len, msg);
		nn_freemsg(msg);
		if (env == NULL)
			continue;
		n = atomic_load(&f->n_seen);
		answer = f->mode == FAKE_ANSWER || f->mode == FAKE_UNAVAILABLE ||
			 (f->mode == FAKE_SILENT_ONCE && n > 0);
		/* Counted before the answer goes: a caller holding its answer
		 * must find its request counted. */
		if (n < MAX_SEEN)
			f->seen[n] = env;
		atomic_store(&f->n_seen, n + 1);
		if (answer)
			fake_reply(f, env);
		if (n >= MAX_SEEN)
			signet__v1__envelope__free_unpacked(env, NULL);
	}
	return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
	int timeout = 50;

	f->mode = mode;
	atomic_store(&f->stop, false);
	atomic_store(&f->n_seen, 0);
	f->sock = nn_socket(AF_SP, NN_REP);
	assert_true(f->sock >= 0);
	assert_true(nn_bind(f->sock, f->endpoint) >= 0);
	assert_int_equal(
		nn_setsockopt(f->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

/* Stop serving; what it saw stays for the test to look at. */
static void fake_join(struct fake *f)
{
	if (f->sock < 0 || atomic_load(&f->stop))
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
}

static void fake_stop(struct fake *f)
{
	unsigned i, n;

	if (f->sock < 0)
		return;
	fake_join(f);
	nn_close(f->sock);
	f->sock = -1;
	n = atomic_load(&f->n_seen);
	for (i = 0; i < n && i < MAX_SEEN; i++)
		signet__v1__envelope__free_unpacked(f->seen[i], NULL);
}

static int teardown(void **state)
{
	(void)state;
	fake_stop(&fake_a);
	fake_stop(&fake_b);
	return 0;
}

static void test_connect_to_a_list(void **state)
{
	signet_client *c = NULL;

	(void)state;
	assert_int_equal(signet_connect(EP_A ", " EP_B, 1000, &c), 0);
	assert_int_equal(c->eps.n, 2);
	assert_string_equal(c->eps.addr[1], EP_B);
	assert_string_equal(c->endpoint, EP_A ", " EP_B);
	signet_close(c);
	c = NULL;
	assert_int_equal(signet_connect(EP_A ",," EP_B, 1000, &c), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_connect(EP_A "," EP_A, 1000, &c), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_connect(EP_A ",nonsense://x", 1000, &c), SIGNET_E_INVALID_ARGUMENT);
	assert_null(c);
}

static void test_set_timeout_and_retries(void **state)
{
	signet_client *c = NULL;

	(void)state;
	assert_int_equal(signet_set_timeout(NULL, 10), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_set_retries(NULL, 1), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_connect(EP_A, 1000, &c), 0);
	assert_int_equal(c->retries, 0);
	assert_int_equal(signet_set_timeout(c, -1), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(c->timeout_ms, 1000);
	assert_int_equal(signet_set_timeout(c, 250), 0);
	assert_int_equal(c->timeout_ms, 250);
	assert_int_equal(signet_set_timeout(c, 0), 0);
	assert_int_equal(c->timeout_ms, CLIENT_DEFAULT_TIMEOUT_MS);
	assert_int_equal(signet_set_retries(c, CLIENT_RETRIES_MAX + 1), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(c), "retries"));
	assert_int_equal(signet_set_retries(c, 3), 0);
	assert_int_equal(c->retries, 3);
	signet_close(c);
}

static void test_retryable_methods(void **state)
{
	(void)state;
	assert_true(client_method_retryable("SignNonce"));
	assert_true(client_method_retryable("SignCsr"));
	assert_true(client_method_retryable("IssueVerificationCertificate"));
	assert_true(client_method_retryable("Health"));
	assert_false(client_method_retryable("GenerateKey"));
	assert_false(client_method_retryable("Revoke"));
	assert_false(client_method_retryable("VerifyPossession"));
	assert_false(client_method_retryable("CreateChallenge"));
	assert_false(client_method_retryable("GetCrl"));
}

/* proto/methods.def marks exactly the methods libsignet always repeated, and
 * the reads and idempotent calls added since (GetEnrolmentCaCerts; EstEnroll,
 * idempotent through the ledger's request id; GetEnrolmentCsrAttrs; SignCsrBatch,
 * idempotent through each item's request id; SignNonceBatch, which changes
 * nothing). */
static void test_retryable_is_the_old_list(void **state)
{
	static const char *const old[] = {
		"GetInfo",
		"Health",
		"ListKeys",
		"GetPublicKey",
		"ListCas",
		"GetCaChain",
		"ListIssued",
		"GetIssued",
		"SignNonce",
		"SignNonceBatch",
		"CreateCsr",
		"VerifyChain",
		"SignCsr",
		"SignCsrBatch",
		"IssueVerificationCertificate",
		"GetEnrolmentCaCerts",
		"EstEnroll",
		"GetEnrolmentCsrAttrs",
	};
	const ProtobufCServiceDescriptor *svc = &signet__v1__signet__descriptor;
	unsigned n = 0;

	(void)state;
	for (unsigned i = 0; i < svc->n_methods; i++) {
		int listed = 0;

		for (size_t j = 0; j < sizeof(old) / sizeof(old[0]); j++)
			listed |= strcmp(old[j], svc->methods[i].name) == 0;
		assert_int_equal(client_method_retryable(svc->methods[i].name), listed);
		n += (unsigned)listed;
	}
	assert_int_equal(n, sizeof(old) / sizeof(old[0]));
	assert_false(client_method_retryable("Frobnicate"));
	assert_false(client_method_retryable(""));
}

/* Back-to-back calls on one client go to both instances. */
static void test_requests_spread_over_endpoints(void **state)
{
	struct signet_health h;
	signet_client *c = NULL;
	int i;

	(void)state;
	fake_start(&fake_a, FAKE_ANSWER);
	fake_start(&fake_b, FAKE_ANSWER);
	assert_int_equal(signet_connect(EP_A "," EP_B, 2000, &c), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(signet_health(c, &h), 0);
	signet_close(c);
	assert_true(atomic_load(&fake_a.n_seen) > 0);
	assert_true(atomic_load(&fake_b.n_seen) > 0);
	assert_int_equal(atomic_load(&fake_a.n_seen) + atomic_load(&fake_b.n_seen), 20);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first attempt gets half the deadline; the second is the same request, stamped afresh. */
static void test_retry_keeps_request_id_with_fresh_stamp(void **state)
{
	struct signet_health h;
	signet_client *c = NULL;
	Signet__V1__Envelope *first, *second;
	int64_t t0, took;

	(void)state;
	fake_start(&fake_a, FAKE_SILENT_ONCE);
	assert_int_equal(signet_connect(EP_A, 600, &c), 0);
	assert_int_equal(signet_set_credential(c, "factory-1", secret, sizeof(secret)), 0);
	assert_int_equal(signet_set_retries(c, 1), 0);
	t0 = mono_ms();
	assert_int_equal(signet_health(c, &h), 0);
	took = mono_ms() - t0;
	assert_in_range(took, 250, 600);
	signet_close(c);
	fake_join(&fake_a); /* what it saw is settled */
	assert_int_equal(atomic_load(&fake_a.n_seen), 2);
	first = fake_a.seen[0];
	second = fake_a.seen[1];
	assert_int_equal(first->request_id.len, WIRE_REQUEST_ID_LEN);
	assert_int_equal(second->request_id.len, WIRE_REQUEST_ID_LEN);
	assert_memory_equal(first->request_id.data, second->request_id.data, WIRE_REQUEST_ID_LEN);
	assert_non_null(first->credential);
	assert_non_null(second->credential);
	assert_memory_not_equal(first->credential->nonce.data, second->credential->nonce.data,
				AUTHMAC_NONCE_LEN);
	assert_memory_not_equal(first->credential->mac.data, second->credential->mac.data,
				AUTHMAC_LEN);
}

/* Without retries (the default), a silent signetd costs the whole deadline. */
static void test_no_retry_by_default(void **state)
{
	struct signet_health h;
	signet_client *c = NULL;

	(void)state;
	fake_start(&fake_a, FAKE_SILENT_ONCE);
	assert_int_equal(signet_connect(EP_A, 300, &c), 0);
	assert_int_equal(signet_health(c, &h), SIGNET_E_DEADLINE_EXCEEDED);
	assert_non_null(strstr(signet_last_error(c), "within 300 ms"));
	/* the client recovers: the next call is answered */
	assert_int_equal(signet_health(c, &h), 0);
	signet_close(c);
}

/* GenerateKey is not idempotent: sent once whatever the retries. */
static void test_unsafe_call_is_not_repeated(void **state)
{
	struct signet_key_info *key = NULL;
	signet_client *c = NULL;

	(void)state;
	fake_start(&fake_a, FAKE_SILENT);
	assert_int_equal(signet_connect(EP_A, 300, &c), 0);
	assert_int_equal(signet_set_retries(c, 3), 0);
	assert_int_equal(signet_generate_key(c, "k", SIGNET_KEY_EC_P256, &key),
			 SIGNET_E_DEADLINE_EXCEEDED);
	assert_null(key);
	signet_close(c);
	assert_int_equal(atomic_load(&fake_a.n_seen), 1);
}

/* Every attempt unanswered: the call ends at its deadline, not later. */
static void test_deadline_bounds_all_attempts(void **state)
{
	struct signet_health h;
	signet_client *c = NULL;
	int64_t t0, took;

	(void)state;
	fake_start(&fake_a, FAKE_SILENT);
	assert_int_equal(signet_connect(EP_A, 10000, &c), 0);
	assert_int_equal(signet_set_retries(c, 2), 0);
	assert_int_equal(signet_set_timeout(c, 450), 0);
	t0 = mono_ms();
	assert_int_equal(signet_health(c, &h), SIGNET_E_DEADLINE_EXCEEDED);
	took = mono_ms() - t0;
	assert_in_range(took, 400, 700);
	assert_non_null(strstr(signet_last_error(c), "within 450 ms (3 attempts)"));
	signet_close(c);
	assert_int_equal(atomic_load(&fake_a.n_seen), 3);
}

/* A draining instance answers UNAVAILABLE: the call moves to the other. */
static void test_unavailable_moves_to_the_other_instance(void **state)
{
	struct signet_health h;
	signet_client *c = NULL;
	int i;

	(void)state;
	fake_start(&fake_a, FAKE_UNAVAILABLE);
	fake_start(&fake_b, FAKE_ANSWER);
	assert_int_equal(signet_connect(EP_A "," EP_B, 2000, &c), 0);
	assert_int_equal(signet_set_retries(c, 1), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(signet_health(c, &h), 0);
	signet_close(c);
	assert_int_equal(atomic_load(&fake_b.n_seen), 10);
	assert_true(atomic_load(&fake_a.n_seen) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_to_a_list),
		cmocka_unit_test(test_set_timeout_and_retries),
		cmocka_unit_test(test_retryable_methods),
		cmocka_unit_test(test_retryable_is_the_old_list),
		cmocka_unit_test_teardown(test_requests_spread_over_endpoints, teardown),
		cmocka_unit_test_teardown(test_retry_keeps_request_id_with_fresh_stamp, teardown),
		cmocka_unit_test_teardown(test_no_retry_by_default, teardown),
		cmocka_unit_test_teardown(test_unsafe_call_is_not_repeated, teardown),
		cmocka_unit_test_teardown(test_deadline_bounds_all_attempts, teardown),
		cmocka_unit_test_teardown(test_unavailable_moves_to_the_other_instance, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
