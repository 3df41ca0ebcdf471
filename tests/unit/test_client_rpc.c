/*
 * libsignet against a scripted in-process signetd (nanomsg REP over inproc):
 * what each RPC puts on the wire, how each reply becomes a plain C struct,
 * and how timeouts and bad replies surface.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "authmac.h"
#include "client.h"
#include "credential.h"

#define FAKE_ENDPOINT "inproc://signet-test"
#define TIMEOUT_MS    300

enum fake_mode {
	FAKE_ANSWER,   /* reply with our request id */
	FAKE_WRONG_ID, /* reply with another request id */
	FAKE_GARBAGE,  /* reply with bytes that are no Reply */
	FAKE_SILENT,   /* never reply */
};

/* One scripted exchange: what to answer, and what the client sent. */
struct fake {
	int sock;
	pthread_t thread;
	enum fake_mode mode;
	int status;
	const char *message;
	const ProtobufCMessage *response;
	Signet__V1__Envelope *env; /* the request received, for the test to inspect */
};

static struct fake fake = {.sock = -1};

static void fake_reply(struct fake *f)
{
	Signet__V1__Reply rep = SIGNET__V1__REPLY__INIT;
	uint8_t wrong_id[WIRE_REQUEST_ID_LEN] = {0};
	uint8_t *payload = NULL, *buf;
	size_t len;

	rep.version = 1;
	rep.request_id = f->env->request_id;
	if (f->mode == FAKE_WRONG_ID) {
		rep.request_id.data = wrong_id;
		rep.request_id.len = sizeof(wrong_id);
	}
	rep.status = (Signet__V1__StatusCode)f->status;
	rep.message = (char *)(f->message != NULL ? f->message : "");
	if (f->response != NULL) {
		payload = malloc(protobuf_c_message_get_packed_size(f->response) + 1);
		rep.payload.data = payload;
		rep.payload.len = protobuf_c_message_pack(f->response, payload);
	}
	len = protobuf_c_message_get_packed_size(&rep.base);
	buf = malloc(len + 1);
	protobuf_c_message_pack(&rep.base, buf);
	if (f->mode == FAKE_GARBAGE)
		memset(buf, 0xff, len);
	nn_send(f->sock, buf, len, 0);
	free(buf);
	free(payload);
}

static void *fake_serve_one(void *arg)
{
	struct fake *f = arg;
	void *msg = NULL;
	int n = nn_recv(f->sock, &msg, NN_MSG, 0);

	if (n < 0)
		return NULL;
	f->env = signet__v1__envelope__unpack(NULL, (size_t)n, msg);
	nn_freemsg(msg);
	if (f->env != NULL && f->mode != FAKE_SILENT)
		fake_reply(f);
	return NULL;
}

/* Script the next exchange and start serving it. */
static void fake_expect(enum fake_mode mode, int status, const char *message,
			const ProtobufCMessage *response)
{
	fake.mode = mode;
	fake.status = status;
	fake.message = message;
	fake.response = response;
	fake.env = NULL;
	assert_int_equal(pthread_create(&fake.thread, NULL, fake_serve_one, &fake), 0);
}

/* Wait for the exchange; returns the request's payload decoded as `desc`. */
static ProtobufCMessage *fake_done(const char *method, const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *req;

	assert_int_equal(pthread_join(fake.thread, NULL), 0);
	assert_non_null(fake.env);
	assert_int_equal(fake.env->version, SIGNET_PROTOCOL_VERSION);
	assert_string_equal(fake.env->method, method);
	assert_int_equal(fake.env->request_id.len, WIRE_REQUEST_ID_LEN);
	req = protobuf_c_message_unpack(desc, NULL, fake.env->payload.len, fake.env->payload.data);
	assert_non_null(req);
	signet__v1__envelope__free_unpacked(fake.env, NULL);
	fake.env = NULL;
	return req;
}

static int group_setup(void **state)
{
	int timeout = 5000; /* a broken test must not hang the suite */

	(void)state;
	fake.sock = nn_socket(AF_SP, NN_REP);
	if (fake.sock < 0 || nn_bind(fake.sock, FAKE_ENDPOINT) < 0 ||
	    nn_setsockopt(fake.sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nn_close(fake.sock);
	return 0;
}

static int client_setup(void **state)
{
	signet_client *client = NULL;

	if (signet_connect(FAKE_ENDPOINT, TIMEOUT_MS, &client) != 0)
		return -1;
	*state = client;
	return 0;
}

static int client_teardown(void **state)
{
	signet_close(*state);
	return 0;
}

static void test_connect_arguments(void **state)
{
	signet_client *client = NULL;

	(void)state;
	assert_int_equal(signet_connect(FAKE_ENDPOINT, -1, &client), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_connect(FAKE_ENDPOINT, 0, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_connect("nonsense://x", 0, &client), SIGNET_E_INVALID_ARGUMENT);
	assert_null(client);
	assert_int_equal(signet_connect(FAKE_ENDPOINT, 0, &client), 0);
	assert_int_equal(client->timeout_ms, CLIENT_DEFAULT_TIMEOUT_MS);
	assert_string_equal(signet_last_error(client), "");
	signet_close(client);
	signet_close(NULL);
	assert_string_equal(signet_last_error(NULL), "");
}

static void test_endpoint_from_environment(void **state)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	struct signet_health health;
	signet_client *client = NULL;

	(void)state;
	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	setenv(SIGNET_ENDPOINT_ENV, FAKE_ENDPOINT, 1);
	assert_int_equal(signet_connect(NULL, TIMEOUT_MS, &client), 0);
	unsetenv(SIGNET_ENDPOINT_ENV);
	assert_string_equal(client->endpoint, FAKE_ENDPOINT);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_health(client, &health), 0);
	protobuf_c_message_free_unpacked(
		fake_done("Health", &signet__v1__health_request__descriptor), NULL);
	signet_close(client);

	assert_int_equal(signet_connect(NULL, TIMEOUT_MS, &client), 0);
	assert_string_equal(client->endpoint, SIGNET_DEFAULT_ENDPOINT);
	signet_close(client);
}

static void test_get_info(void **state)
{
	Signet__V1__GetInfoResponse resp = SIGNET__V1__GET_INFO_RESPONSE__INIT;
	Signet__V1__TokenInfo tok = SIGNET__V1__TOKEN_INFO__INIT;
	Signet__V1__KeyAlgorithm algs[] = {SIGNET__V1__KEY_ALGORITHM__EC_P256,
					   SIGNET__V1__KEY_ALGORITHM__RSA_4096};
	char *methods[] = {"GetInfo", "SignNonce"};
	struct signet_info *info = NULL;

	tok.label = "signet-test";
	tok.serial = "0123";
	tok.model = "SoftHSM v2";
	tok.manufacturer = "SoftHSM project";
	tok.slot_id = 77;
	resp.daemon_version = "0.1.0";
	resp.protocol_version = 1;
	resp.token = &tok;
	resp.n_key_algorithms = 2;
	resp.key_algorithms = algs;
	resp.n_methods = 2;
	resp.methods = methods;
	resp.workers = 4;
	resp.max_message_size = 1048576;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_info(*state, &info), 0);
	protobuf_c_message_free_unpacked(
		fake_done("GetInfo", &signet__v1__get_info_request__descriptor), NULL);
	assert_string_equal(info->daemon_version, "0.1.0");
	assert_int_equal(info->protocol_version, 1);
	assert_string_equal(info->token_label, "signet-test");
	assert_string_equal(info->token_serial, "0123");
	assert_string_equal(info->token_model, "SoftHSM v2");
	assert_string_equal(info->token_manufacturer, "SoftHSM project");
	assert_int_equal(info->slot_id, 77);
	assert_int_equal(info->n_key_algs, 2);
	assert_int_equal(info->key_algs[0], SIGNET_KEY_EC_P256);
	assert_int_equal(info->key_algs[1], SIGNET_KEY_RSA_4096);
	assert_int_equal(info->n_methods, 2);
	assert_string_equal(info->methods[1], "SignNonce");
	assert_int_equal(info->workers, 4);
	assert_int_equal(info->max_message_size, 1048576);
	signet_info_free(info);
}

static void test_get_info_without_token(void **state)
{
	Signet__V1__GetInfoResponse resp = SIGNET__V1__GET_INFO_RESPONSE__INIT;
	struct signet_info *info = NULL;

	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_info(*state, &info), 0);
	protobuf_c_message_free_unpacked(
		fake_done("GetInfo", &signet__v1__get_info_request__descriptor), NULL);
	/* Absent strings come back empty, never NULL. */
	assert_string_equal(info->token_label, "");
	assert_int_equal(info->n_key_algs, 0);
	assert_int_equal(info->n_methods, 0);
	signet_info_free(info);
}

static void test_health(void **state)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	struct signet_health health = {.serving = 7};

	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	resp.token_state = "ok";
	resp.uptime_seconds = 3600;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_health(*state, &health), 0);
	protobuf_c_message_free_unpacked(
		fake_done("Health", &signet__v1__health_request__descriptor), NULL);
	assert_int_equal(health.serving, 1);
	assert_string_equal(health.token_state, "ok");
	assert_int_equal(health.uptime_seconds, 3600);

	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__NOT_SERVING;
	resp.token_state = "token removed";
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_health(*state, &health), SIGNET_E_UNAVAILABLE);
	protobuf_c_message_free_unpacked(
		fake_done("Health", &signet__v1__health_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state),
			    "signetd is not serving (token: token removed)");
	/* Outputs are written only on success. */
	assert_string_equal(health.token_state, "ok");
}

static void test_generate_key(void **state)
{
	Signet__V1__GenerateKeyResponse resp = SIGNET__V1__GENERATE_KEY_RESPONSE__INIT;
	Signet__V1__KeyInfo k = SIGNET__V1__KEY_INFO__INIT;
	Signet__V1__GenerateKeyRequest *req;
	uint8_t id[] = {0xde, 0xad, 0xbe, 0xef};
	uint8_t spki[] = {0x30, 0x59, 0x30, 0x13};
	struct signet_key_info *key = NULL;

	k.name = "web-1";
	k.algorithm = SIGNET__V1__KEY_ALGORITHM__EC_P384;
	k.id.data = id;
	k.id.len = sizeof(id);
	k.sensitive = 1;
	resp.key = &k;
	resp.public_key_der.data = spki;
	resp.public_key_der.len = sizeof(spki);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_generate_key(*state, "web-1", SIGNET_KEY_EC_P384, &key), 0);
	req = (Signet__V1__GenerateKeyRequest *)fake_done(
		"GenerateKey", &signet__v1__generate_key_request__descriptor);
	assert_string_equal(req->name, "web-1");
	assert_int_equal(req->algorithm, SIGNET__V1__KEY_ALGORITHM__EC_P384);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(key->name, "web-1");
	assert_int_equal(key->alg, SIGNET_KEY_EC_P384);
	assert_int_equal(key->id_len, 4);
	assert_memory_equal(key->id, id, 4);
	assert_int_equal(key->sensitive, 1);
	assert_int_equal(key->extractable, 0);
	assert_int_equal(key->spki_len, sizeof(spki));
	assert_memory_equal(key->spki_der, spki, sizeof(spki));
	assert_null(key->spki_pem);
	signet_key_info_free(key);
}

static void test_reply_without_key_is_protocol_error(void **state)
{
	Signet__V1__GetPublicKeyResponse resp = SIGNET__V1__GET_PUBLIC_KEY_RESPONSE__INIT;
	struct signet_key_info *key = NULL;

	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_public_key(*state, "k", &key), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("GetPublicKey", &signet__v1__get_public_key_request__descriptor), NULL);
	assert_null(key);
	assert_string_equal(signet_last_error(*state), "GetPublicKey reply carries no key");
}

static void test_get_public_key(void **state)
{
	Signet__V1__GetPublicKeyResponse resp = SIGNET__V1__GET_PUBLIC_KEY_RESPONSE__INIT;
	Signet__V1__KeyInfo k = SIGNET__V1__KEY_INFO__INIT;
	Signet__V1__GetPublicKeyRequest *req;
	uint8_t spki[] = {0x30, 0x82, 0x01, 0x22};
	struct signet_key_info *key = NULL;

	k.name = "rsa";
	k.algorithm = SIGNET__V1__KEY_ALGORITHM__RSA_2048;
	resp.key = &k;
	resp.public_key_der.data = spki;
	resp.public_key_der.len = sizeof(spki);
	resp.public_key_pem = "-----BEGIN PUBLIC KEY-----\nMII=\n-----END PUBLIC KEY-----\n";
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_public_key(*state, "rsa", &key), 0);
	req = (Signet__V1__GetPublicKeyRequest *)fake_done(
		"GetPublicKey", &signet__v1__get_public_key_request__descriptor);
	assert_string_equal(req->name, "rsa");
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(key->alg, SIGNET_KEY_RSA_2048);
	assert_int_equal(key->id_len, 0);
	assert_memory_equal(key->spki_der, spki, sizeof(spki));
	assert_string_equal(key->spki_pem, resp.public_key_pem);
	signet_key_info_free(key);
}

static void test_list_and_delete_keys(void **state)
{
	Signet__V1__ListKeysResponse resp = SIGNET__V1__LIST_KEYS_RESPONSE__INIT;
	Signet__V1__KeyInfo k1 = SIGNET__V1__KEY_INFO__INIT, k2 = SIGNET__V1__KEY_INFO__INIT;
	Signet__V1__KeyInfo *keys[] = {&k1, &k2};
	Signet__V1__DeleteKeyResponse del = SIGNET__V1__DELETE_KEY_RESPONSE__INIT;
	Signet__V1__DeleteKeyRequest *req;
	struct signet_key_list *list = NULL;

	k1.name = "a";
	k1.algorithm = SIGNET__V1__KEY_ALGORITHM__EC_P256;
	k2.name = "b";
	k2.algorithm = SIGNET__V1__KEY_ALGORITHM__RSA_3072;
	k2.extractable = 1;
	resp.n_keys = 2;
	resp.keys = keys;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_list_keys(*state, &list), 0);
	protobuf_c_message_free_unpacked(
		fake_done("ListKeys", &signet__v1__list_keys_request__descriptor), NULL);
	assert_int_equal(list->n_keys, 2);
	assert_string_equal(list->keys[0].name, "a");
	assert_string_equal(list->keys[1].name, "b");
	assert_int_equal(list->keys[1].alg, SIGNET_KEY_RSA_3072);
	assert_int_equal(list->keys[1].extractable, 1);
	assert_null(list->keys[0].spki_der);
	signet_key_list_free(list);

	fake_expect(FAKE_ANSWER, 0, NULL, &del.base);
	assert_int_equal(signet_delete_key(*state, "b"), 0);
	req = (Signet__V1__DeleteKeyRequest *)fake_done(
		"DeleteKey", &signet__v1__delete_key_request__descriptor);
	assert_string_equal(req->name, "b");
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void test_create_csr_sends_every_san(void **state)
{
	Signet__V1__CreateCsrResponse resp = SIGNET__V1__CREATE_CSR_RESPONSE__INIT;
	Signet__V1__CreateCsrRequest *req;
	const char *dns[] = {"a.example", "b.example"};
	const char *ips[] = {"10.0.0.1"};
	const char *uris[] = {"spiffe://ex/a"};
	const char *emails[] = {"ops@example.com", "sec@example.com"};
	struct signet_csr_params params = {
		.key = "k",
		.subject = "/CN=a/O=Ex",
		.dns_names = dns,
		.n_dns_names = 2,
		.ip_addresses = ips,
		.n_ip_addresses = 1,
		.uris = uris,
		.n_uris = 1,
		.emails = emails,
		.n_emails = 2,
		.hash = SIGNET_HASH_SHA384,
	};
	uint8_t der[] = {0x30, 0x82};
	struct signet_buf out = {0};
	char *pem = NULL;

	resp.csr_der.data = der;
	resp.csr_der.len = sizeof(der);
	resp.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_csr(*state, &params, &out, &pem), 0);
	req = (Signet__V1__CreateCsrRequest *)fake_done(
		"CreateCsr", &signet__v1__create_csr_request__descriptor);
	assert_string_equal(req->key, "k");
	assert_string_equal(req->subject, "/CN=a/O=Ex");
	assert_int_equal(req->n_dns_names, 2);
	assert_string_equal(req->dns_names[1], "b.example");
	assert_int_equal(req->n_ip_addresses, 1);
	assert_string_equal(req->ip_addresses[0], "10.0.0.1");
	assert_int_equal(req->n_uris, 1);
	assert_int_equal(req->n_emails, 2);
	assert_string_equal(req->emails[1], "sec@example.com");
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA384);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(out.len, 2);
	assert_memory_equal(out.data, der, 2);
	assert_string_equal(pem, resp.csr_pem);
	signet_buf_free(&out);
	assert_null(out.data);
	assert_int_equal(out.len, 0);
	signet_free(pem);
}

static void test_create_csr_rejects_bad_params_locally(void **state)
{
	struct signet_csr_params params = {.key = "k", .subject = NULL};
	struct signet_buf out = {0};

	assert_int_equal(signet_create_csr(*state, &params, &out, NULL), SIGNET_E_INVALID_ARGUMENT);
	params.subject = "/CN=x";
	params.n_dns_names = 1; /* but no list */
	assert_int_equal(signet_create_csr(*state, &params, &out, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_null(out.data);
}

static void test_sign_message_and_digest(void **state)
{
	Signet__V1__SignNonceResponse resp = SIGNET__V1__SIGN_NONCE_RESPONSE__INIT;
	Signet__V1__SignNonceRequest *req;
	uint8_t sig[] = {0x30, 0x45, 0x02, 0x21};
	uint8_t digest[32];
	struct signet_sign_params params = {.key = "k", .data = (const uint8_t *)"hello", .len = 5};
	struct signet_buf out = {0};
	enum signet_hash hash = SIGNET_HASH_DEFAULT;
	enum signet_sig_format format = SIGNET_SIG_DEFAULT;

	resp.signature.data = sig;
	resp.signature.len = sizeof(sig);
	resp.hash = SIGNET__V1__HASH_ALGORITHM__SHA256;
	resp.format = SIGNET__V1__SIGNATURE_FORMAT__ECDSA_DER;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_sign(*state, &params, &out, &hash, &format), 0);
	req = (Signet__V1__SignNonceRequest *)fake_done(
		"SignNonce", &signet__v1__sign_nonce_request__descriptor);
	assert_int_equal(req->input_case, SIGNET__V1__SIGN_NONCE_REQUEST__INPUT_MESSAGE);
	assert_int_equal(req->message.len, 5);
	assert_memory_equal(req->message.data, "hello", 5);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_memory_equal(out.data, sig, sizeof(sig));
	assert_int_equal(hash, SIGNET_HASH_SHA256);
	assert_int_equal(format, SIGNET_SIG_ECDSA_DER);
	signet_buf_free(&out);

	memset(digest, 0xab, sizeof(digest));
	params.data = digest;
	params.len = sizeof(digest);
	params.prehashed = 1;
	params.hash = SIGNET_HASH_SHA256;
	params.format = SIGNET_SIG_ECDSA_RAW;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_sign(*state, &params, &out, NULL, NULL), 0);
	req = (Signet__V1__SignNonceRequest *)fake_done(
		"SignNonce", &signet__v1__sign_nonce_request__descriptor);
	assert_int_equal(req->input_case, SIGNET__V1__SIGN_NONCE_REQUEST__INPUT_DIGEST);
	assert_int_equal(req->digest.len, 32);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA256);
	assert_int_equal(req->format, SIGNET__V1__SIGNATURE_FORMAT__ECDSA_RAW);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	signet_buf_free(&out);
}

static void test_empty_signature_is_protocol_error(void **state)
{
	Signet__V1__SignNonceResponse resp = SIGNET__V1__SIGN_NONCE_RESPONSE__INIT;
	struct signet_sign_params params = {.key = "k", .data = (const uint8_t *)"x", .len = 1};
	struct signet_buf out = {0};

	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_sign(*state, &params, &out, NULL, NULL), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("SignNonce", &signet__v1__sign_nonce_request__descriptor), NULL);
	assert_null(out.data);
}

/* A CaInfo as signetd would send it; the arrays must outlive the reply. */
static void ca_fill(Signet__V1__CaInfo *c, const char *name, const char *parent, uint8_t *cert,
		    size_t cert_len, uint8_t *serial, size_t serial_len)
{
	c->name = (char *)name;
	c->key = "ca.placeholder";
	c->subject = "/CN=Example Root/O=Example";
	c->parent = (char *)parent;
	c->certificate_der.data = cert;
	c->certificate_der.len = cert_len;
	c->not_before = 1700000000;
	c->not_after = 2015360000;
	c->serial.data = serial;
	c->serial.len = serial_len;
}

static void test_create_root_ca(void **state)
{
	Signet__V1__CreateRootCaResponse resp = SIGNET__V1__CREATE_ROOT_CA_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	Signet__V1__CreateRootCaRequest *req;
	uint8_t cert[] = {0x30, 0x82, 0x01, 0xf0, 0x30};
	uint8_t serial[] = {0x4f, 0x00, 0x9a};
	struct signet_ca_params params = {
		.name = "root",
		.parent = "ignored-for-a-root",
		.alg = SIGNET_KEY_EC_P384,
		.subject = "/CN=Example Root/O=Example",
		.validity_days = 7300,
		.path_len = 1,
		.hash = SIGNET_HASH_SHA384,
	};
	struct signet_ca_info *ca = NULL;

	ca_fill(&c, "root", "", cert, sizeof(cert), serial, sizeof(serial));
	c.key = "ca.root";
	c.path_len_limited = 1;
	c.path_len = 1;
	resp.ca = &c;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_root_ca(*state, &params, &ca), 0);
	req = (Signet__V1__CreateRootCaRequest *)fake_done(
		"CreateRootCa", &signet__v1__create_root_ca_request__descriptor);
	assert_string_equal(req->name, "root");
	assert_int_equal(req->algorithm, SIGNET__V1__KEY_ALGORITHM__EC_P384);
	assert_string_equal(req->subject, "/CN=Example Root/O=Example");
	assert_int_equal(req->validity_days, 7300);
	assert_true(req->path_len_limited);
	assert_int_equal(req->path_len, 1);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA384);
	protobuf_c_message_free_unpacked(&req->base, NULL);

	assert_string_equal(ca->name, "root");
	assert_string_equal(ca->key, "ca.root");
	assert_string_equal(ca->subject, "/CN=Example Root/O=Example");
	assert_string_equal(ca->parent, "");
	assert_int_equal(ca->cert_len, sizeof(cert));
	assert_memory_equal(ca->cert_der, cert, sizeof(cert));
	assert_int_equal(ca->not_before, 1700000000);
	assert_int_equal(ca->not_after, 2015360000);
	assert_int_equal(ca->path_len_limited, 1);
	assert_int_equal(ca->path_len, 1);
	assert_int_equal(ca->serial_len, sizeof(serial));
	assert_memory_equal(ca->serial, serial, sizeof(serial));
	signet_ca_info_free(ca);
}

static void test_create_root_ca_without_path_len(void **state)
{
	Signet__V1__CreateRootCaResponse resp = SIGNET__V1__CREATE_ROOT_CA_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	Signet__V1__CreateRootCaRequest *req;
	uint8_t cert[] = {0x30};
	struct signet_ca_params params = {
		.name = "root", .alg = SIGNET_KEY_EC_P256, .subject = "/CN=R", .path_len = -1};
	struct signet_ca_info *ca = NULL;

	ca_fill(&c, "root", "", cert, sizeof(cert), NULL, 0);
	/* A path_len sent without its flag means nothing; the struct says 0. */
	c.path_len = 9;
	resp.ca = &c;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_root_ca(*state, &params, &ca), 0);
	req = (Signet__V1__CreateRootCaRequest *)fake_done(
		"CreateRootCa", &signet__v1__create_root_ca_request__descriptor);
	assert_false(req->path_len_limited);
	assert_int_equal(req->path_len, 0);
	assert_int_equal(req->validity_days, 0);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__HASH_DEFAULT);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(ca->path_len_limited, 0);
	assert_int_equal(ca->path_len, 0);
	assert_int_equal(ca->serial_len, 0);
	assert_non_null(ca->serial);
	signet_ca_info_free(ca);

	/* path_len 0 is a constraint, not its absence. */
	params.path_len = 0;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_root_ca(*state, &params, &ca), 0);
	req = (Signet__V1__CreateRootCaRequest *)fake_done(
		"CreateRootCa", &signet__v1__create_root_ca_request__descriptor);
	assert_true(req->path_len_limited);
	assert_int_equal(req->path_len, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	signet_ca_info_free(ca);
}

static void test_create_intermediate_ca(void **state)
{
	Signet__V1__CreateIntermediateCaResponse resp =
		SIGNET__V1__CREATE_INTERMEDIATE_CA_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	Signet__V1__CreateIntermediateCaRequest *req;
	uint8_t cert[] = {0x30, 0x82};
	uint8_t serial[] = {0x01};
	struct signet_ca_params params = {
		.name = "issuing",
		.parent = "root",
		.alg = SIGNET_KEY_RSA_3072,
		.subject = "/CN=Issuing",
		.validity_days = 365,
		.path_len = -1,
		.hash = SIGNET_HASH_SHA512,
	};
	struct signet_ca_info *ca = NULL;

	ca_fill(&c, "issuing", "root", cert, sizeof(cert), serial, sizeof(serial));
	resp.ca = &c;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_intermediate_ca(*state, &params, &ca), 0);
	req = (Signet__V1__CreateIntermediateCaRequest *)fake_done(
		"CreateIntermediateCa", &signet__v1__create_intermediate_ca_request__descriptor);
	assert_string_equal(req->name, "issuing");
	assert_string_equal(req->parent, "root");
	assert_int_equal(req->algorithm, SIGNET__V1__KEY_ALGORITHM__RSA_3072);
	assert_string_equal(req->subject, "/CN=Issuing");
	assert_int_equal(req->validity_days, 365);
	assert_false(req->path_len_limited);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA512);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(ca->name, "issuing");
	assert_string_equal(ca->parent, "root");
	assert_int_equal(ca->path_len_limited, 0);
	assert_memory_equal(ca->cert_der, cert, sizeof(cert));
	signet_ca_info_free(ca);
	ca = NULL;

	params.path_len = 2;
	fake_expect(FAKE_ANSWER, SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
		    "parent 'root' has pathLen 0: it cannot sign another CA", NULL);
	assert_int_equal(signet_create_intermediate_ca(*state, &params, &ca),
			 SIGNET_E_FAILED_PRECONDITION);
	req = (Signet__V1__CreateIntermediateCaRequest *)fake_done(
		"CreateIntermediateCa", &signet__v1__create_intermediate_ca_request__descriptor);
	assert_true(req->path_len_limited);
	assert_int_equal(req->path_len, 2);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_null(ca);
	assert_string_equal(signet_last_error(*state),
			    "parent 'root' has pathLen 0: it cannot sign another CA");
}

static void test_create_ca_rejects_bad_params_locally(void **state)
{
	struct signet_ca_params params = {.name = "x", .subject = NULL, .path_len = -1};
	struct signet_ca_info *ca = NULL;

	assert_int_equal(signet_create_root_ca(*state, &params, &ca), SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "a CA needs a name and a subject");
	params.subject = "/CN=x";
	params.name = NULL;
	assert_int_equal(signet_create_root_ca(*state, &params, &ca), SIGNET_E_INVALID_ARGUMENT);
	params.name = "x";
	params.path_len = -2;
	assert_int_equal(signet_create_root_ca(*state, &params, &ca), SIGNET_E_INVALID_ARGUMENT);
	params.path_len = -1;
	assert_int_equal(signet_create_intermediate_ca(*state, &params, &ca),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "an intermediate CA needs a parent CA");
	assert_int_equal(signet_create_root_ca(*state, NULL, &ca), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_create_intermediate_ca(*state, &params, NULL),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(ca);
}

static void test_created_ca_without_certificate_is_protocol_error(void **state)
{
	Signet__V1__CreateRootCaResponse resp = SIGNET__V1__CREATE_ROOT_CA_RESPONSE__INIT;
	Signet__V1__CreateIntermediateCaResponse iresp =
		SIGNET__V1__CREATE_INTERMEDIATE_CA_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	struct signet_ca_params params = {.name = "r", .subject = "/CN=r", .path_len = -1};
	struct signet_ca_info *ca = NULL;

	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_root_ca(*state, &params, &ca), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("CreateRootCa", &signet__v1__create_root_ca_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state), "CreateRootCa reply carries no certificate");
	c.name = "r";
	resp.ca = &c;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_root_ca(*state, &params, &ca), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("CreateRootCa", &signet__v1__create_root_ca_request__descriptor), NULL);
	assert_null(ca);

	/* the same for an intermediate */
	params.parent = "r";
	fake_expect(FAKE_ANSWER, 0, NULL, &iresp.base);
	assert_int_equal(signet_create_intermediate_ca(*state, &params, &ca), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("CreateIntermediateCa",
			  &signet__v1__create_intermediate_ca_request__descriptor),
		NULL);
	assert_string_equal(signet_last_error(*state),
			    "CreateIntermediateCa reply carries no certificate");
	assert_null(ca);
}

static void test_get_ca_chain(void **state)
{
	Signet__V1__GetCaChainResponse resp = SIGNET__V1__GET_CA_CHAIN_RESPONSE__INIT;
	Signet__V1__GetCaChainRequest *req;
	uint8_t c1[] = {0x30, 0x01}, c2[] = {0x30, 0x02};
	ProtobufCBinaryData certs[] = {{sizeof(c1), c1}, {sizeof(c2), c2}};
	char *pem = NULL;
	size_t n = 0;

	resp.n_certificates_der = 2;
	resp.certificates_der = certs;
	resp.pem = "-----BEGIN CERTIFICATE-----\nMAE=\n-----END CERTIFICATE-----\n"
		   "-----BEGIN CERTIFICATE-----\nMAI=\n-----END CERTIFICATE-----\n";
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_ca_chain(*state, "issuing", &pem, &n), 0);
	req = (Signet__V1__GetCaChainRequest *)fake_done(
		"GetCaChain", &signet__v1__get_ca_chain_request__descriptor);
	assert_string_equal(req->name, "issuing");
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(n, 2);
	assert_string_equal(pem, resp.pem);
	signet_free(pem);
	pem = NULL;

	/* n_certs is optional. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_ca_chain(*state, "issuing", &pem, NULL), 0);
	protobuf_c_message_free_unpacked(
		fake_done("GetCaChain", &signet__v1__get_ca_chain_request__descriptor), NULL);
	assert_string_equal(pem, resp.pem);
	signet_free(pem);
	pem = NULL;

	assert_int_equal(signet_get_ca_chain(*state, NULL, &pem, &n), SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no CA name given");
	assert_int_equal(signet_get_ca_chain(*state, "x", NULL, &n), SIGNET_E_INVALID_ARGUMENT);
}

static void test_empty_ca_chain_is_protocol_error(void **state)
{
	Signet__V1__GetCaChainResponse resp = SIGNET__V1__GET_CA_CHAIN_RESPONSE__INIT;
	char *pem = NULL;
	size_t n = 7;

	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_ca_chain(*state, "root", &pem, &n), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("GetCaChain", &signet__v1__get_ca_chain_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state), "GetCaChain reply carries no certificate");
	assert_null(pem);
	assert_int_equal(n, 7);
}

static void test_list_cas(void **state)
{
	Signet__V1__ListCasResponse resp = SIGNET__V1__LIST_CAS_RESPONSE__INIT;
	Signet__V1__CaInfo c1 = SIGNET__V1__CA_INFO__INIT, c2 = SIGNET__V1__CA_INFO__INIT;
	Signet__V1__CaInfo *cas[] = {&c1, &c2};
	uint8_t cert1[] = {0x30, 0x11}, cert2[] = {0x30, 0x22, 0x33};
	uint8_t serial[] = {0x7f, 0xff};
	struct signet_ca_list *list = NULL;

	ca_fill(&c1, "root", "", cert1, sizeof(cert1), serial, sizeof(serial));
	c1.key = "ca.root";
	c1.path_len_limited = 1;
	c1.path_len = 0;
	ca_fill(&c2, "issuing", "root", cert2, sizeof(cert2), NULL, 0);
	c2.key = "ca.issuing";
	c2.subject = "/CN=Issuing";
	c2.not_after = -1;
	c2.key_generation = 3;
	resp.n_cas = 2;
	resp.cas = cas;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_list_cas(*state, &list), 0);
	protobuf_c_message_free_unpacked(
		fake_done("ListCas", &signet__v1__list_cas_request__descriptor), NULL);
	assert_int_equal(list->n_cas, 2);
	assert_string_equal(list->cas[0].name, "root");
	assert_string_equal(list->cas[0].key, "ca.root");
	assert_string_equal(list->cas[0].parent, "");
	assert_int_equal(list->cas[0].path_len_limited, 1);
	assert_int_equal(list->cas[0].path_len, 0);
	assert_memory_equal(list->cas[0].serial, serial, sizeof(serial));
	assert_int_equal(list->cas[0].cert_len, sizeof(cert1));
	assert_string_equal(list->cas[1].name, "issuing");
	assert_string_equal(list->cas[1].key, "ca.issuing");
	assert_string_equal(list->cas[1].subject, "/CN=Issuing");
	assert_string_equal(list->cas[1].parent, "root");
	assert_int_equal(list->cas[1].path_len_limited, 0);
	assert_int_equal(list->cas[1].not_before, 1700000000);
	assert_int_equal(list->cas[1].not_after, -1);
	assert_memory_equal(list->cas[1].cert_der, cert2, sizeof(cert2));
	/* A CaInfo from an older signetd has neither: no chain, generation 0. */
	assert_int_equal(list->cas[0].key_generation, 0);
	assert_int_equal(list->cas[0].n_external_chain, 0);
	assert_null(list->cas[0].external_chain);
	assert_int_equal(list->cas[1].key_generation, 3);
	signet_ca_list_free(list);
	list = NULL;

	/* No CA yet: an empty list, not an error. */
	resp.n_cas = 0;
	resp.cas = NULL;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_list_cas(*state, &list), 0);
	protobuf_c_message_free_unpacked(
		fake_done("ListCas", &signet__v1__list_cas_request__descriptor), NULL);
	assert_int_equal(list->n_cas, 0);
	assert_non_null(list->cas);
	signet_ca_list_free(list);
	assert_int_equal(signet_list_cas(NULL, &list), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_list_cas(*state, NULL), SIGNET_E_INVALID_ARGUMENT);
}

#define VCODE_PEM "-----BEGIN CERTIFICATE-----\nMAE=\n-----END CERTIFICATE-----\n"

static void test_issue_verification_certificate(void **state)
{
	Signet__V1__IssueVerificationCertificateResponse resp =
		SIGNET__V1__ISSUE_VERIFICATION_CERTIFICATE_RESPONSE__INIT;
	Signet__V1__IssueVerificationCertificateRequest *req;
	uint8_t der[] = {0x30, 0x01};
	struct signet_buf out = {0};
	char *pem = NULL;

	resp.certificate_der.data = der;
	resp.certificate_der.len = sizeof(der);
	resp.certificate_pem = VCODE_PEM;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(
		signet_issue_verification_certificate(*state, "root", "0123ABCDEF", 7, &out, &pem),
		0);
	req = (Signet__V1__IssueVerificationCertificateRequest *)fake_done(
		"IssueVerificationCertificate",
		&signet__v1__issue_verification_certificate_request__descriptor);
	assert_string_equal(req->ca, "root");
	assert_string_equal(req->code, "0123ABCDEF");
	assert_int_equal(req->validity_days, 7);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(out.len, sizeof(der));
	assert_memory_equal(out.data, der, sizeof(der));
	assert_string_equal(pem, VCODE_PEM);
	signet_buf_free(&out);
	signet_free(pem);

	/* The PEM is optional; 0 days asks for the daemon's default. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_issue_verification_certificate(*state, "root", "c", 0, &out, NULL),
			 0);
	req = (Signet__V1__IssueVerificationCertificateRequest *)fake_done(
		"IssueVerificationCertificate",
		&signet__v1__issue_verification_certificate_request__descriptor);
	assert_int_equal(req->validity_days, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_memory_equal(out.data, der, sizeof(der));
	signet_buf_free(&out);
}

/* signetd's refusals are rows of daemon_refusals[]; these never reach it. */
static void test_verification_certificate_refusals(void **state)
{
	struct signet_buf out = {0};
	char *pem = NULL;

	assert_int_equal(signet_issue_verification_certificate(*state, NULL, "c", 0, &out, &pem),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state),
			    "a verification certificate needs a CA name and a code");
	assert_int_equal(signet_issue_verification_certificate(*state, "root", NULL, 0, &out, &pem),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_issue_verification_certificate(*state, "root", "c", 0, NULL, &pem),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_issue_verification_certificate(NULL, "root", "c", 0, &out, &pem),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(out.data);
	assert_null(pem);
}

static void test_verification_reply_without_certificate_is_protocol_error(void **state)
{
	Signet__V1__IssueVerificationCertificateResponse resp =
		SIGNET__V1__ISSUE_VERIFICATION_CERTIFICATE_RESPONSE__INIT;
	uint8_t der[] = {0x30, 0x01};
	struct signet_buf out = {0};
	char *pem = NULL;

	/* An OK reply with nothing in it. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_issue_verification_certificate(*state, "root", "c", 0, &out, &pem),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("IssueVerificationCertificate",
			  &signet__v1__issue_verification_certificate_request__descriptor),
		NULL);
	assert_string_equal(signet_last_error(*state),
			    "IssueVerificationCertificate reply carries no certificate");

	/* Half a certificate is none: the DER without its PEM, and the reverse. */
	resp.certificate_der.data = der;
	resp.certificate_der.len = sizeof(der);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_issue_verification_certificate(*state, "root", "c", 0, &out, NULL),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("IssueVerificationCertificate",
			  &signet__v1__issue_verification_certificate_request__descriptor),
		NULL);
	resp.certificate_der.len = 0;
	resp.certificate_pem = VCODE_PEM;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_issue_verification_certificate(*state, "root", "c", 0, &out, &pem),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("IssueVerificationCertificate",
			  &signet__v1__issue_verification_certificate_request__descriptor),
		NULL);

	/* Bytes that are no Reply at all. */
	resp.certificate_der.len = sizeof(der);
	fake_expect(FAKE_GARBAGE, 0, NULL, &resp.base);
	assert_int_equal(signet_issue_verification_certificate(*state, "root", "c", 0, &out, &pem),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("IssueVerificationCertificate",
			  &signet__v1__issue_verification_certificate_request__descriptor),
		NULL);
	assert_null(out.data);
	assert_null(pem);
}

#define CAREQ_PEM "-----BEGIN CERTIFICATE REQUEST-----\nMAE=\n-----END CERTIFICATE REQUEST-----\n"

static void test_create_ca_request(void **state)
{
	Signet__V1__CreateCaRequestResponse resp = SIGNET__V1__CREATE_CA_REQUEST_RESPONSE__INIT;
	Signet__V1__CreateCaRequestRequest *req;
	uint8_t der[] = {0x30, 0x01};
	struct signet_ca_request_params params = {
		.name = "sub",
		.alg = SIGNET_KEY_EC_P384,
		.subject = "/CN=Example Sub-CA/O=Example",
		.path_len = 0,
		.hash = SIGNET_HASH_SHA384,
	};
	struct signet_buf out = {0};
	char *pem = NULL, *key = NULL;

	resp.csr_der.data = der;
	resp.csr_der.len = sizeof(der);
	resp.csr_pem = CAREQ_PEM;
	resp.key = "ca.sub";
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_ca_request(*state, &params, &out, &pem, &key), 0);
	req = (Signet__V1__CreateCaRequestRequest *)fake_done(
		"CreateCaRequest", &signet__v1__create_ca_request_request__descriptor);
	assert_string_equal(req->name, "sub");
	assert_int_equal(req->algorithm, SIGNET__V1__KEY_ALGORITHM__EC_P384);
	assert_string_equal(req->subject, "/CN=Example Sub-CA/O=Example");
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA384);
	/* pathLen 0 is a constraint, not its absence. */
	assert_true(req->path_len_limited);
	assert_int_equal(req->path_len, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(out.len, sizeof(der));
	assert_memory_equal(out.data, der, sizeof(der));
	assert_string_equal(pem, CAREQ_PEM);
	assert_string_equal(key, "ca.sub");
	signet_buf_free(&out);
	signet_free(pem);
	signet_free(key);

	/* A held CA's renewal request: no algorithm, its own subject and pathLen;
	 * the PEM and the key label are optional. */
	params.alg = SIGNET_KEY_UNSPECIFIED;
	params.subject = NULL;
	params.path_len = -1;
	params.hash = SIGNET_HASH_DEFAULT;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_ca_request(*state, &params, &out, NULL, NULL), 0);
	req = (Signet__V1__CreateCaRequestRequest *)fake_done(
		"CreateCaRequest", &signet__v1__create_ca_request_request__descriptor);
	assert_int_equal(req->algorithm, SIGNET__V1__KEY_ALGORITHM__KEY_ALGORITHM_UNSPECIFIED);
	assert_string_equal(req->subject, "");
	assert_false(req->path_len_limited);
	assert_int_equal(req->path_len, 0);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__HASH_DEFAULT);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_memory_equal(out.data, der, sizeof(der));
	signet_buf_free(&out);
}

/* signetd's refusals are rows of daemon_refusals[]; these never reach it. */
static void test_ca_request_refusals(void **state)
{
	struct signet_ca_request_params params = {.name = "sub", .path_len = -1};
	struct signet_buf out = {0};
	char *pem = NULL, *key = NULL;

	/* Checked before anything is sent. */
	params.name = NULL;
	assert_int_equal(signet_create_ca_request(*state, &params, &out, &pem, &key),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no CA name given");
	params.name = "sub";
	params.path_len = -2;
	assert_int_equal(signet_create_ca_request(*state, &params, &out, &pem, &key),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state),
			    "path_len -2: use -1 for no pathLen constraint");
	params.path_len = -1;
	assert_int_equal(signet_create_ca_request(*state, NULL, &out, &pem, &key),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_create_ca_request(*state, &params, NULL, &pem, &key),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_create_ca_request(NULL, &params, &out, &pem, &key),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(out.data);
	assert_null(pem);
	assert_null(key);
}

static void expect_ca_request_protocol_error(void **state,
					     const Signet__V1__CreateCaRequestResponse *resp,
					     enum fake_mode mode, const char *why)
{
	struct signet_ca_request_params params = {.name = "sub", .path_len = -1};
	struct signet_buf out = {0};
	char *pem = NULL, *key = NULL;

	fake_expect(mode, 0, NULL, &resp->base);
	assert_int_equal(signet_create_ca_request(*state, &params, &out, &pem, &key),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("CreateCaRequest", &signet__v1__create_ca_request_request__descriptor),
		NULL);
	if (why != NULL)
		assert_string_equal(signet_last_error(*state), why);
	assert_null(out.data);
	assert_null(pem);
	assert_null(key);
}

static void test_ca_request_reply_without_request_is_protocol_error(void **state)
{
	Signet__V1__CreateCaRequestResponse resp = SIGNET__V1__CREATE_CA_REQUEST_RESPONSE__INIT;
	uint8_t der[] = {0x30, 0x01};

	expect_ca_request_protocol_error(state, &resp, FAKE_ANSWER,
					 "CreateCaRequest reply carries no request");
	/* Half a request is none: the DER without its PEM, and the reverse. */
	resp.csr_der.data = der;
	resp.csr_der.len = sizeof(der);
	resp.key = "ca.sub";
	expect_ca_request_protocol_error(state, &resp, FAKE_ANSWER,
					 "CreateCaRequest reply carries no request");
	resp.csr_der.len = 0;
	resp.csr_pem = CAREQ_PEM;
	expect_ca_request_protocol_error(state, &resp, FAKE_ANSWER,
					 "CreateCaRequest reply carries no request");
	/* A request for a key nobody named. */
	resp.csr_der.len = sizeof(der);
	resp.key = "";
	expect_ca_request_protocol_error(state, &resp, FAKE_ANSWER,
					 "CreateCaRequest reply names no key");
	resp.key = "ca.sub";
	expect_ca_request_protocol_error(state, &resp, FAKE_GARBAGE, NULL);
}

static void test_import_ca_certificate(void **state)
{
	Signet__V1__ImportCaCertificateResponse resp =
		SIGNET__V1__IMPORT_CA_CERTIFICATE_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	Signet__V1__ImportCaCertificateRequest *req;
	uint8_t cert[] = {0x30, 0x82, 0x02}, serial[] = {0x0a};
	uint8_t up1[] = {0x30, 0x11}, up2[] = {0x30, 0x22, 0x33};
	ProtobufCBinaryData above[] = {{sizeof(up1), up1}, {sizeof(up2), up2}};
	const uint8_t pem[] = "-----BEGIN CERTIFICATE-----\nMAE=\n-----END CERTIFICATE-----\n";
	const uint8_t chain[] = {0x30, 0x11, 0x30, 0x22, 0x33};
	struct signet_ca_info *ca = NULL;

	ca_fill(&c, "sub", "", cert, sizeof(cert), serial, sizeof(serial));
	c.key = "ca.sub";
	c.n_external_chain_der = 2;
	c.external_chain_der = above;
	c.key_generation = 1;
	resp.ca = &c;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_import_ca_certificate(*state, "sub", pem, sizeof(pem) - 1, chain,
						      sizeof(chain), &ca),
			 0);
	req = (Signet__V1__ImportCaCertificateRequest *)fake_done(
		"ImportCaCertificate", &signet__v1__import_ca_certificate_request__descriptor);
	assert_string_equal(req->name, "sub");
	/* Sent as given: signetd parses PEM or DER. */
	assert_int_equal(req->certificate.len, sizeof(pem) - 1);
	assert_memory_equal(req->certificate.data, pem, sizeof(pem) - 1);
	assert_int_equal(req->chain.len, sizeof(chain));
	assert_memory_equal(req->chain.data, chain, sizeof(chain));
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(ca->name, "sub");
	assert_string_equal(ca->key, "ca.sub");
	assert_memory_equal(ca->cert_der, cert, sizeof(cert));
	assert_int_equal(ca->key_generation, 1);
	assert_int_equal(ca->n_external_chain, 2);
	assert_int_equal(ca->external_chain[0].len, sizeof(up1));
	assert_memory_equal(ca->external_chain[0].data, up1, sizeof(up1));
	assert_int_equal(ca->external_chain[1].len, sizeof(up2));
	assert_memory_equal(ca->external_chain[1].data, up2, sizeof(up2));
	signet_ca_info_free(ca);
	ca = NULL;

	/* No chain: the issuer is a CA signetd holds. */
	c.n_external_chain_der = 0;
	c.external_chain_der = NULL;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(
		signet_import_ca_certificate(*state, "sub", cert, sizeof(cert), NULL, 0, &ca), 0);
	req = (Signet__V1__ImportCaCertificateRequest *)fake_done(
		"ImportCaCertificate", &signet__v1__import_ca_certificate_request__descriptor);
	assert_memory_equal(req->certificate.data, cert, sizeof(cert));
	assert_int_equal(req->chain.len, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(ca->n_external_chain, 0);
	assert_null(ca->external_chain);
	signet_ca_info_free(ca);
}

/* signetd's refusals are rows of daemon_refusals[]. */
static void test_import_ca_certificate_refusals(void **state)
{
	Signet__V1__ImportCaCertificateResponse resp =
		SIGNET__V1__IMPORT_CA_CERTIFICATE_RESPONSE__INIT;
	uint8_t cert[] = {0x30, 0x01};
	struct signet_ca_info *ca = NULL;

	/* An OK reply without the CA's certificate. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(
		signet_import_ca_certificate(*state, "sub", cert, sizeof(cert), NULL, 0, &ca),
		SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("ImportCaCertificate",
			  &signet__v1__import_ca_certificate_request__descriptor),
		NULL);
	assert_string_equal(signet_last_error(*state),
			    "ImportCaCertificate reply carries no certificate");

	/* Checked before anything is sent. */
	assert_int_equal(
		signet_import_ca_certificate(*state, NULL, cert, sizeof(cert), NULL, 0, &ca),
		SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state),
			    "an import needs a CA name and a certificate");
	assert_int_equal(signet_import_ca_certificate(*state, "sub", NULL, 0, NULL, 0, &ca),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_import_ca_certificate(*state, "sub", cert, 0, NULL, 0, &ca),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(
		signet_import_ca_certificate(*state, "sub", cert, sizeof(cert), NULL, 3, &ca),
		SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "the chain is NULL but has a length");
	assert_int_equal(
		signet_import_ca_certificate(*state, "sub", cert, sizeof(cert), NULL, 0, NULL),
		SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(
		signet_import_ca_certificate(NULL, "sub", cert, sizeof(cert), NULL, 0, &ca),
		SIGNET_E_INVALID_ARGUMENT);
	assert_null(ca);
}

static void test_renew_ca(void **state)
{
	Signet__V1__RenewCaResponse resp = SIGNET__V1__RENEW_CA_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	Signet__V1__RenewCaRequest *req;
	uint8_t cert[] = {0x30, 0x82}, serial[] = {0x02}, prev[] = {0x01, 0xff};
	struct signet_ca_info *ca = NULL;
	struct signet_buf prev_out = {0};

	ca_fill(&c, "issuing", "root", cert, sizeof(cert), serial, sizeof(serial));
	c.key_generation = 1;
	resp.ca = &c;
	resp.previous_serial.data = prev;
	resp.previous_serial.len = sizeof(prev);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(
		signet_renew_ca(*state, "issuing", 730, SIGNET_HASH_SHA512, &ca, &prev_out), 0);
	req = (Signet__V1__RenewCaRequest *)fake_done("RenewCa",
						      &signet__v1__renew_ca_request__descriptor);
	assert_string_equal(req->name, "issuing");
	assert_int_equal(req->validity_days, 730);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA512);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(ca->name, "issuing");
	assert_string_equal(ca->parent, "root");
	assert_memory_equal(ca->serial, serial, sizeof(serial));
	assert_int_equal(ca->key_generation, 1);
	assert_int_equal(prev_out.len, sizeof(prev));
	assert_memory_equal(prev_out.data, prev, sizeof(prev));
	signet_ca_info_free(ca);
	signet_buf_free(&prev_out);
	ca = NULL;

	/* The previous serial is optional; 0 days keeps the current length. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_renew_ca(*state, "issuing", 0, SIGNET_HASH_DEFAULT, &ca, NULL), 0);
	req = (Signet__V1__RenewCaRequest *)fake_done("RenewCa",
						      &signet__v1__renew_ca_request__descriptor);
	assert_int_equal(req->validity_days, 0);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__HASH_DEFAULT);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_memory_equal(ca->cert_der, cert, sizeof(cert));
	signet_ca_info_free(ca);
}

/* An OK reply without the CA: nothing comes out, not even the extra bytes. */
static void check_successor_without_ca(void **state, int rekey, const ProtobufCMessage *resp,
				       enum fake_mode mode)
{
	const char *method = rekey ? "RekeyCa" : "RenewCa";
	const ProtobufCMessageDescriptor *desc = rekey ? &signet__v1__rekey_ca_request__descriptor
						       : &signet__v1__renew_ca_request__descriptor;
	struct signet_ca_info *ca = NULL;
	struct signet_buf extra = {0};
	int r;

	fake_expect(mode, 0, NULL, resp);
	if (rekey)
		r = signet_rekey_ca(*state, "root", SIGNET_KEY_UNSPECIFIED, 0, SIGNET_HASH_DEFAULT,
				    &ca, &extra);
	else
		r = signet_renew_ca(*state, "root", 0, SIGNET_HASH_DEFAULT, &ca, &extra);
	assert_int_equal(r, SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(fake_done(method, desc), NULL);
	assert_null(ca);
	assert_null(extra.data);
	assert_int_equal(extra.len, 0);
}

static void test_renew_ca_refusals(void **state)
{
	Signet__V1__RenewCaResponse resp = SIGNET__V1__RENEW_CA_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	uint8_t prev[] = {0x01};
	struct signet_ca_info *ca = NULL;

	resp.previous_serial.data = prev;
	resp.previous_serial.len = sizeof(prev);
	check_successor_without_ca(state, 0, &resp.base, FAKE_ANSWER);
	assert_string_equal(signet_last_error(*state), "RenewCa reply carries no certificate");
	resp.ca = &c; /* a CaInfo without its certificate */
	check_successor_without_ca(state, 0, &resp.base, FAKE_ANSWER);
	check_successor_without_ca(state, 0, &resp.base, FAKE_GARBAGE);

	assert_int_equal(signet_renew_ca(*state, NULL, 0, SIGNET_HASH_DEFAULT, &ca, NULL),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no CA name given");
	assert_int_equal(signet_renew_ca(*state, "root", 0, SIGNET_HASH_DEFAULT, NULL, NULL),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_renew_ca(NULL, "root", 0, SIGNET_HASH_DEFAULT, &ca, NULL),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(ca);
}

static void test_rekey_ca(void **state)
{
	Signet__V1__RekeyCaResponse resp = SIGNET__V1__REKEY_CA_RESPONSE__INIT;
	Signet__V1__CaInfo c = SIGNET__V1__CA_INFO__INIT;
	Signet__V1__RekeyCaRequest *req;
	uint8_t cert[] = {0x30, 0x82, 0x01}, serial[] = {0x09}, prev[] = {0x08};
	uint8_t link[] = {0x30, 0x82, 0x03, 0x04};
	struct signet_ca_info *ca = NULL;
	struct signet_buf link_out = {0};

	ca_fill(&c, "root", "", cert, sizeof(cert), serial, sizeof(serial));
	c.key = "ca2.root";
	c.key_generation = 2;
	resp.ca = &c;
	resp.previous_serial.data = prev;
	resp.previous_serial.len = sizeof(prev);
	resp.link_certificate_der.data = link;
	resp.link_certificate_der.len = sizeof(link);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_rekey_ca(*state, "root", SIGNET_KEY_RSA_4096, 3650,
					 SIGNET_HASH_SHA384, &ca, &link_out),
			 0);
	req = (Signet__V1__RekeyCaRequest *)fake_done("RekeyCa",
						      &signet__v1__rekey_ca_request__descriptor);
	assert_string_equal(req->name, "root");
	assert_int_equal(req->algorithm, SIGNET__V1__KEY_ALGORITHM__RSA_4096);
	assert_int_equal(req->validity_days, 3650);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA384);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(ca->key, "ca2.root");
	assert_int_equal(ca->key_generation, 2);
	assert_memory_equal(ca->cert_der, cert, sizeof(cert));
	assert_int_equal(link_out.len, sizeof(link));
	assert_memory_equal(link_out.data, link, sizeof(link));
	signet_ca_info_free(ca);
	signet_buf_free(&link_out);
	ca = NULL;

	/* A non-root gets no link: an empty buffer, not an error. */
	ca_fill(&c, "issuing", "root", cert, sizeof(cert), serial, sizeof(serial));
	resp.link_certificate_der.len = 0;
	resp.link_certificate_der.data = NULL;
	link_out.len = 99;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_rekey_ca(*state, "issuing", SIGNET_KEY_UNSPECIFIED, 0,
					 SIGNET_HASH_DEFAULT, &ca, &link_out),
			 0);
	req = (Signet__V1__RekeyCaRequest *)fake_done("RekeyCa",
						      &signet__v1__rekey_ca_request__descriptor);
	assert_int_equal(req->algorithm, SIGNET__V1__KEY_ALGORITHM__KEY_ALGORITHM_UNSPECIFIED);
	assert_int_equal(req->validity_days, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(link_out.len, 0);
	assert_null(link_out.data);
	signet_ca_info_free(ca);
	ca = NULL;

	/* The link is optional. */
	resp.link_certificate_der.data = link;
	resp.link_certificate_der.len = sizeof(link);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_rekey_ca(*state, "root", SIGNET_KEY_UNSPECIFIED, 0,
					 SIGNET_HASH_DEFAULT, &ca, NULL),
			 0);
	protobuf_c_message_free_unpacked(
		fake_done("RekeyCa", &signet__v1__rekey_ca_request__descriptor), NULL);
	assert_non_null(ca);
	signet_ca_info_free(ca);
}

static void test_rekey_ca_refusals(void **state)
{
	Signet__V1__RekeyCaResponse resp = SIGNET__V1__REKEY_CA_RESPONSE__INIT;
	uint8_t link[] = {0x30, 0x01};
	struct signet_ca_info *ca = NULL;
	struct signet_buf link_out = {0};

	fake_expect(FAKE_ANSWER, SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
		    "key 'ca2.root' is already on the token (left by an interrupted re-key?); "
		    "delete it and try again",
		    NULL);
	assert_int_equal(signet_rekey_ca(*state, "root", SIGNET_KEY_EC_P256, 0, SIGNET_HASH_DEFAULT,
					 &ca, &link_out),
			 SIGNET_E_FAILED_PRECONDITION);
	protobuf_c_message_free_unpacked(
		fake_done("RekeyCa", &signet__v1__rekey_ca_request__descriptor), NULL);
	assert_non_null(strstr(signet_last_error(*state), "interrupted re-key"));
	/* A link certificate alone is no answer. */
	resp.link_certificate_der.data = link;
	resp.link_certificate_der.len = sizeof(link);
	check_successor_without_ca(state, 1, &resp.base, FAKE_ANSWER);
	assert_string_equal(signet_last_error(*state), "RekeyCa reply carries no certificate");
	check_successor_without_ca(state, 1, &resp.base, FAKE_GARBAGE);

	assert_int_equal(signet_rekey_ca(*state, NULL, SIGNET_KEY_UNSPECIFIED, 0,
					 SIGNET_HASH_DEFAULT, &ca, &link_out),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no CA name given");
	assert_int_equal(signet_rekey_ca(*state, "root", SIGNET_KEY_UNSPECIFIED, 0,
					 SIGNET_HASH_DEFAULT, NULL, &link_out),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_rekey_ca(NULL, "root", SIGNET_KEY_UNSPECIFIED, 0,
					 SIGNET_HASH_DEFAULT, &ca, &link_out),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(ca);
	assert_null(link_out.data);
}

/* An IssuedCertificate as signetd would send it; `cert` must outlive the reply. */
static void issued_fill(Signet__V1__IssuedCertificate *c, const char *serial, uint8_t *cert,
			size_t cert_len)
{
	static uint8_t spki[32] = {0xaa, 0xbb};
	static uint8_t rid[16] = {0x01, 0x02};

	c->ca = "issuing";
	c->issuer_key = "ca.issuing";
	c->serial = (char *)serial;
	c->subject = "/CN=dev-1";
	c->sans = "DNS:dev-1.example";
	c->profile = "device";
	c->spki_sha256.data = spki;
	c->spki_sha256.len = sizeof(spki);
	c->not_before = 1700000000;
	c->not_after = 1800000000;
	c->caller = "factory";
	c->request_id.data = rid;
	c->request_id.len = sizeof(rid);
	c->issued_at = 1700000001;
	c->certificate_der.data = cert;
	c->certificate_der.len = cert_len;
}

static void test_revocation_reason_names(void **state)
{
	enum signet_revocation_reason r = SIGNET_REASON_UNSPECIFIED;

	(void)state;
	assert_string_equal(signet_revocation_reason_name(SIGNET_REASON_UNSPECIFIED),
			    "unspecified");
	assert_string_equal(signet_revocation_reason_name(SIGNET_REASON_CA_COMPROMISE),
			    "cACompromise");
	assert_string_equal(signet_revocation_reason_name(SIGNET_REASON_AA_COMPROMISE),
			    "aACompromise");
	assert_null(signet_revocation_reason_name((enum signet_revocation_reason)7));
	assert_null(signet_revocation_reason_name((enum signet_revocation_reason)11));
	assert_null(signet_revocation_reason_name((enum signet_revocation_reason) - 1));
	assert_int_equal(signet_revocation_reason_from_name("keyCompromise", &r), 0);
	assert_int_equal(r, SIGNET_REASON_KEY_COMPROMISE);
	/* OpenSSL's spelling and the camel case of the other names. */
	assert_int_equal(signet_revocation_reason_from_name("CACompromise", &r), 0);
	assert_int_equal(r, SIGNET_REASON_CA_COMPROMISE);
	assert_int_equal(signet_revocation_reason_from_name("caCompromise", &r), 0);
	assert_int_equal(r, SIGNET_REASON_CA_COMPROMISE);
	assert_int_equal(signet_revocation_reason_from_name("removeFromCRL", &r), 0);
	assert_int_equal(r, SIGNET_REASON_REMOVE_FROM_CRL);
	assert_int_equal(signet_revocation_reason_from_name("stolen", &r), -1);
	assert_int_equal(signet_revocation_reason_from_name("", &r), -1);
	assert_int_equal(signet_revocation_reason_from_name(NULL, &r), -1);
	assert_int_equal(r, SIGNET_REASON_REMOVE_FROM_CRL);
}

static void test_list_issued(void **state)
{
	Signet__V1__ListIssuedResponse resp = SIGNET__V1__LIST_ISSUED_RESPONSE__INIT;
	Signet__V1__IssuedCertificate c1 = SIGNET__V1__ISSUED_CERTIFICATE__INIT,
				      c2 = SIGNET__V1__ISSUED_CERTIFICATE__INIT;
	Signet__V1__IssuedCertificate *certs[] = {&c1, &c2};
	Signet__V1__ListIssuedRequest *req;
	uint8_t cert1[] = {0x30, 0x01}, cert2[] = {0x30, 0x02, 0x03};
	struct signet_ledger_filter f = {
		.ca = "issuing",
		.profile = "device",
		.subject_contains = "dev",
		.serial = "0A1B",
		.valid_at = 1750000000,
		.revoked = SIGNET_REVOKED_ONLY,
		.page_size = 2,
		.page_token = "42",
		.expires_after = 1760000000,
		.expires_before = 1770000000,
	};
	struct signet_issued_list *list = NULL;

	issued_fill(&c1, "0A1B", cert1, sizeof(cert1));
	issued_fill(&c2, "7F", cert2, sizeof(cert2));
	c2.profile = "server";
	c2.sans = "";
	c2.revoked = 1;
	c2.revoked_at = 1710000000;
	c2.reason = SIGNET__V1__REVOCATION_REASON__KEY_COMPROMISE;
	c2.invalidity_date = 1709999999;
	resp.n_certificates = 2;
	resp.certificates = certs;
	resp.next_page_token = "44";
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_list_issued(*state, &f, &list), 0);
	req = (Signet__V1__ListIssuedRequest *)fake_done(
		"ListIssued", &signet__v1__list_issued_request__descriptor);
	assert_string_equal(req->ca, "issuing");
	assert_string_equal(req->profile, "device");
	assert_string_equal(req->subject_contains, "dev");
	assert_string_equal(req->serial, "0A1B");
	assert_int_equal(req->valid_at, 1750000000);
	assert_int_equal(req->revoked, SIGNET__V1__REVOKED_FILTER__REVOKED_ONLY);
	assert_int_equal(req->page_size, 2);
	assert_string_equal(req->page_token, "42");
	assert_int_equal(req->expires_after, 1760000000);
	assert_int_equal(req->expires_before, 1770000000);
	protobuf_c_message_free_unpacked(&req->base, NULL);

	assert_int_equal(list->n_certs, 2);
	assert_string_equal(list->next_page_token, "44");
	assert_string_equal(list->certs[0].ca, "issuing");
	assert_string_equal(list->certs[0].issuer_key, "ca.issuing");
	assert_string_equal(list->certs[0].serial, "0A1B");
	assert_string_equal(list->certs[0].subject, "/CN=dev-1");
	assert_string_equal(list->certs[0].sans, "DNS:dev-1.example");
	assert_string_equal(list->certs[0].profile, "device");
	assert_int_equal(list->certs[0].spki_sha256_len, 32);
	assert_int_equal(list->certs[0].spki_sha256[1], 0xbb);
	assert_int_equal(list->certs[0].not_before, 1700000000);
	assert_int_equal(list->certs[0].not_after, 1800000000);
	assert_string_equal(list->certs[0].caller, "factory");
	assert_int_equal(list->certs[0].request_id_len, 16);
	assert_int_equal(list->certs[0].issued_at, 1700000001);
	assert_int_equal(list->certs[0].cert_len, sizeof(cert1));
	assert_memory_equal(list->certs[0].cert_der, cert1, sizeof(cert1));
	assert_int_equal(list->certs[0].revoked, 0);
	assert_string_equal(list->certs[1].profile, "server");
	assert_string_equal(list->certs[1].sans, "");
	assert_memory_equal(list->certs[1].cert_der, cert2, sizeof(cert2));
	assert_int_equal(list->certs[1].revoked, 1);
	assert_int_equal(list->certs[1].revoked_at, 1710000000);
	assert_int_equal(list->certs[1].reason, SIGNET_REASON_KEY_COMPROMISE);
	assert_int_equal(list->certs[1].invalidity_date, 1709999999);
	signet_issued_list_free(list);
	list = NULL;

	/* No filter: everything, the first page, signetd's page size; the last page. */
	resp.next_page_token = NULL;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_list_issued(*state, NULL, &list), 0);
	req = (Signet__V1__ListIssuedRequest *)fake_done(
		"ListIssued", &signet__v1__list_issued_request__descriptor);
	assert_string_equal(req->ca, "");
	assert_string_equal(req->serial, "");
	assert_int_equal(req->valid_at, 0);
	assert_int_equal(req->revoked, SIGNET__V1__REVOKED_FILTER__REVOKED_ANY);
	assert_int_equal(req->page_size, 0);
	assert_string_equal(req->page_token, "");
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(list->next_page_token, "");
	signet_issued_list_free(list);
}

static void test_list_issued_empty_and_refusals(void **state)
{
	Signet__V1__ListIssuedResponse resp = SIGNET__V1__LIST_ISSUED_RESPONSE__INIT;
	Signet__V1__IssuedCertificate c1 = SIGNET__V1__ISSUED_CERTIFICATE__INIT,
				      c2 = SIGNET__V1__ISSUED_CERTIFICATE__INIT;
	Signet__V1__IssuedCertificate *certs[] = {&c1, &c2};
	uint8_t cert[] = {0x30};
	struct signet_ledger_filter f = {.page_token = "garbage"};
	struct signet_issued_list *list = NULL;

	/* Nothing matches: an empty list, not an error. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_list_issued(*state, &f, &list), 0);
	protobuf_c_message_free_unpacked(
		fake_done("ListIssued", &signet__v1__list_issued_request__descriptor), NULL);
	assert_int_equal(list->n_certs, 0);
	assert_non_null(list->certs);
	assert_string_equal(list->next_page_token, "");
	signet_issued_list_free(list);
	list = NULL;

	/* One record in a page without its certificate spoils the page. */
	issued_fill(&c1, "01", cert, sizeof(cert));
	issued_fill(&c2, "02", NULL, 0);
	resp.n_certificates = 2;
	resp.certificates = certs;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_list_issued(*state, NULL, &list), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("ListIssued", &signet__v1__list_issued_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state),
			    "ListIssued reply carries a record without certificate or serial");
	assert_null(list);
	fake_expect(FAKE_GARBAGE, 0, NULL, &resp.base);
	assert_int_equal(signet_list_issued(*state, NULL, &list), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("ListIssued", &signet__v1__list_issued_request__descriptor), NULL);
	assert_null(list);

	assert_int_equal(signet_list_issued(*state, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_list_issued(NULL, NULL, &list), SIGNET_E_INVALID_ARGUMENT);
	signet_issued_list_free(NULL);
}

static void test_get_issued(void **state)
{
	Signet__V1__GetIssuedResponse resp = SIGNET__V1__GET_ISSUED_RESPONSE__INIT;
	Signet__V1__IssuedCertificate c = SIGNET__V1__ISSUED_CERTIFICATE__INIT;
	Signet__V1__GetIssuedRequest *req;
	uint8_t cert[] = {0x30, 0x82, 0x01};
	uint8_t fp[32];
	struct signet_issued_cert *out = NULL;

	memset(fp, 0x5a, sizeof(fp));
	issued_fill(&c, "0A1B", cert, sizeof(cert));
	resp.certificate = &c;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_issued(*state, "0a1b", NULL, &out), 0);
	req = (Signet__V1__GetIssuedRequest *)fake_done(
		"GetIssued", &signet__v1__get_issued_request__descriptor);
	assert_string_equal(req->serial, "0a1b");
	assert_int_equal(req->spki_sha256.len, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(out->serial, "0A1B");
	assert_memory_equal(out->cert_der, cert, sizeof(cert));
	signet_issued_cert_free(out);
	out = NULL;

	/* By fingerprint: 32 bytes, and no serial. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_issued(*state, NULL, fp, &out), 0);
	req = (Signet__V1__GetIssuedRequest *)fake_done(
		"GetIssued", &signet__v1__get_issued_request__descriptor);
	assert_string_equal(req->serial, "");
	assert_int_equal(req->spki_sha256.len, 32);
	assert_memory_equal(req->spki_sha256.data, fp, 32);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_non_null(out);
	signet_issued_cert_free(out);
	out = NULL;

	/* Exactly one of serial and fingerprint, checked before anything is sent. */
	assert_int_equal(signet_get_issued(*state, NULL, NULL, &out), SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state),
			    "give a serial or an SPKI SHA-256 fingerprint, not both");
	assert_int_equal(signet_get_issued(*state, "01", fp, &out), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_get_issued(*state, "", NULL, &out), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_get_issued(*state, "01", NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_get_issued(NULL, "01", NULL, &out), SIGNET_E_INVALID_ARGUMENT);
	assert_null(out);
	signet_issued_cert_free(NULL);
}

static void expect_get_issued_protocol_error(void **state,
					     const Signet__V1__GetIssuedResponse *resp)
{
	struct signet_issued_cert *out = NULL;

	fake_expect(FAKE_ANSWER, 0, NULL, &resp->base);
	assert_int_equal(signet_get_issued(*state, "01", NULL, &out), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("GetIssued", &signet__v1__get_issued_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state),
			    "GetIssued reply carries a record without certificate or serial");
	assert_null(out);
}

static void test_get_issued_reply_without_record_is_protocol_error(void **state)
{
	Signet__V1__GetIssuedResponse resp = SIGNET__V1__GET_ISSUED_RESPONSE__INIT;
	Signet__V1__IssuedCertificate c = SIGNET__V1__ISSUED_CERTIFICATE__INIT;
	uint8_t cert[] = {0x30};

	expect_get_issued_protocol_error(state, &resp);
	resp.certificate = &c; /* a record with nothing in it */
	expect_get_issued_protocol_error(state, &resp);
	issued_fill(&c, "", cert, sizeof(cert));
	expect_get_issued_protocol_error(state, &resp);
	issued_fill(&c, "01", NULL, 0);
	expect_get_issued_protocol_error(state, &resp);
}

static void test_revoke(void **state)
{
	Signet__V1__RevokeResponse resp = SIGNET__V1__REVOKE_RESPONSE__INIT;
	Signet__V1__IssuedCertificate c = SIGNET__V1__ISSUED_CERTIFICATE__INIT;
	Signet__V1__RevokeRequest *req;
	uint8_t cert[] = {0x30, 0x05};
	struct signet_issued_cert *out = NULL;

	issued_fill(&c, "0A1B", cert, sizeof(cert));
	c.revoked = 1;
	c.revoked_at = 1750000000;
	c.reason = SIGNET__V1__REVOCATION_REASON__AA_COMPROMISE;
	resp.certificate = &c;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_revoke(*state, "issuing", "0A1B", SIGNET_REASON_AA_COMPROMISE,
				       1749999000, &out),
			 0);
	req = (Signet__V1__RevokeRequest *)fake_done("Revoke",
						     &signet__v1__revoke_request__descriptor);
	assert_string_equal(req->ca, "issuing");
	assert_string_equal(req->serial, "0A1B");
	assert_int_equal(req->reason, 10);
	assert_int_equal(req->invalidity_date, 1749999000);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(out->revoked, 1);
	assert_int_equal(out->revoked_at, 1750000000);
	assert_int_equal(out->reason, SIGNET_REASON_AA_COMPROMISE);
	signet_issued_cert_free(out);

	/* The record is optional; unspecified and no invalidity date are zeros. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(
		signet_revoke(*state, "issuing", "0A1B", SIGNET_REASON_UNSPECIFIED, 0, NULL), 0);
	req = (Signet__V1__RevokeRequest *)fake_done("Revoke",
						     &signet__v1__revoke_request__descriptor);
	assert_int_equal(req->reason, 0);
	assert_int_equal(req->invalidity_date, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* signetd's refusals are rows of daemon_refusals[]. */
static void test_revoke_refusals(void **state)
{
	Signet__V1__RevokeResponse resp = SIGNET__V1__REVOKE_RESPONSE__INIT;
	struct signet_issued_cert *out = NULL;

	/* An OK without the record is no answer, even to a caller who wants none. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_revoke(*state, "issuing", "01", SIGNET_REASON_SUPERSEDED, 0, NULL),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("Revoke", &signet__v1__revoke_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state),
			    "Revoke reply carries a record without certificate or serial");

	/* Checked before anything is sent. */
	assert_int_equal(signet_revoke(*state, NULL, "01", SIGNET_REASON_SUPERSEDED, 0, &out),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "a revocation needs a CA name and a serial");
	assert_int_equal(signet_revoke(*state, "ca", NULL, SIGNET_REASON_SUPERSEDED, 0, &out),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(
		signet_revoke(*state, "ca", "01", (enum signet_revocation_reason)7, 0, &out),
		SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "7 is not an RFC 5280 reason code");
	assert_int_equal(signet_revoke(*state, "ca", "01", SIGNET_REASON_SUPERSEDED, -1, &out),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "invalidity_date is Unix time, 0 for none");
	assert_int_equal(signet_revoke(NULL, "ca", "01", SIGNET_REASON_SUPERSEDED, 0, &out),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(out);
}

#define CRL_PEM "-----BEGIN X509 CRL-----\nMAE=\n-----END X509 CRL-----\n"

static void test_get_crl(void **state)
{
	Signet__V1__GetCrlResponse resp = SIGNET__V1__GET_CRL_RESPONSE__INIT;
	Signet__V1__GetCrlRequest *req;
	uint8_t der[] = {0x30, 0x01};
	struct signet_buf out = {0};
	char *pem = NULL;
	uint64_t number = 0;

	resp.crl_der.data = der;
	resp.crl_der.len = sizeof(der);
	resp.crl_pem = CRL_PEM;
	resp.crl_number = 7;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_crl(*state, "root", "ca.root", &out, &pem, &number), 0);
	req = (Signet__V1__GetCrlRequest *)fake_done("GetCrl",
						     &signet__v1__get_crl_request__descriptor);
	assert_string_equal(req->ca, "root");
	assert_string_equal(req->key, "ca.root");
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_int_equal(out.len, sizeof(der));
	assert_memory_equal(out.data, der, sizeof(der));
	assert_string_equal(pem, CRL_PEM);
	assert_int_equal(number, 7);
	signet_buf_free(&out);
	signet_free(pem);

	/* The current key; PEM and number are optional, and a PEM not asked for may lack. */
	resp.crl_pem = NULL;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_crl(*state, "root", NULL, &out, NULL, NULL), 0);
	req = (Signet__V1__GetCrlRequest *)fake_done("GetCrl",
						     &signet__v1__get_crl_request__descriptor);
	assert_string_equal(req->key, "");
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_memory_equal(out.data, der, sizeof(der));
	signet_buf_free(&out);
}

static void test_get_crl_refusals(void **state)
{
	Signet__V1__GetCrlResponse resp = SIGNET__V1__GET_CRL_RESPONSE__INIT;
	uint8_t der[] = {0x30, 0x01};
	struct signet_buf out = {0};
	char *pem = NULL;
	uint64_t number = 99;

	/* An OK reply without the DER; with the DER but not the PEM asked for. */
	resp.crl_pem = CRL_PEM;
	resp.crl_number = 8;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_crl(*state, "root", NULL, &out, &pem, &number),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("GetCrl", &signet__v1__get_crl_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state), "GetCrl reply carries no CRL");
	resp.crl_der.data = der;
	resp.crl_der.len = sizeof(der);
	resp.crl_pem = "";
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_get_crl(*state, "root", NULL, &out, &pem, &number),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("GetCrl", &signet__v1__get_crl_request__descriptor), NULL);
	fake_expect(FAKE_GARBAGE, 0, NULL, &resp.base);
	assert_int_equal(signet_get_crl(*state, "root", NULL, &out, NULL, &number),
			 SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("GetCrl", &signet__v1__get_crl_request__descriptor), NULL);

	/* Checked before anything is sent. */
	assert_int_equal(signet_get_crl(*state, NULL, NULL, &out, &pem, &number),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no CA name given");
	assert_int_equal(signet_get_crl(*state, "root", NULL, NULL, &pem, &number),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_get_crl(NULL, "root", NULL, &out, &pem, &number),
			 SIGNET_E_INVALID_ARGUMENT);
	/* Outputs are written only on success. */
	assert_null(out.data);
	assert_null(pem);
	assert_int_equal(number, 99);
}

static void test_create_challenge(void **state)
{
	Signet__V1__CreateChallengeResponse resp = SIGNET__V1__CREATE_CHALLENGE_RESPONSE__INIT;
	Signet__V1__CreateChallengeRequest *req;
	uint8_t nonce[32], fp[32];
	struct signet_challenge *c = NULL;

	memset(nonce, 0x6e, sizeof(nonce));
	memset(fp, 0x5a, sizeof(fp));
	resp.challenge_id = "00112233445566778899aabbccddeeff";
	resp.nonce.data = nonce;
	resp.nonce.len = sizeof(nonce);
	resp.expires_at = 1750000060;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_challenge(*state, "dev-1", NULL, 120, &c), 0);
	req = (Signet__V1__CreateChallengeRequest *)fake_done(
		"CreateChallenge", &signet__v1__create_challenge_request__descriptor);
	assert_int_equal(req->binding_case,
			 SIGNET__V1__CREATE_CHALLENGE_REQUEST__BINDING_DEVICE_ID);
	assert_string_equal(req->device_id, "dev-1");
	assert_int_equal(req->ttl_seconds, 120);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_string_equal(c->id, "00112233445566778899aabbccddeeff");
	assert_int_equal(c->nonce_len, sizeof(nonce));
	assert_memory_equal(c->nonce, nonce, sizeof(nonce));
	assert_int_equal(c->expires_at, 1750000060);
	signet_challenge_free(c);
	c = NULL;

	/* Bound to a fingerprint: 32 bytes, and no device ID; ttl 0 is signetd's default. */
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_create_challenge(*state, NULL, fp, 0, &c), 0);
	req = (Signet__V1__CreateChallengeRequest *)fake_done(
		"CreateChallenge", &signet__v1__create_challenge_request__descriptor);
	assert_int_equal(req->binding_case,
			 SIGNET__V1__CREATE_CHALLENGE_REQUEST__BINDING_SPKI_SHA256);
	assert_int_equal(req->spki_sha256.len, 32);
	assert_memory_equal(req->spki_sha256.data, fp, 32);
	assert_int_equal(req->ttl_seconds, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_non_null(c);
	signet_challenge_free(c);
	signet_challenge_free(NULL);
}

static void expect_create_challenge_protocol_error(void **state,
						   const Signet__V1__CreateChallengeResponse *resp)
{
	struct signet_challenge *c = NULL;

	fake_expect(FAKE_ANSWER, 0, NULL, &resp->base);
	assert_int_equal(signet_create_challenge(*state, "dev-1", NULL, 0, &c), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("CreateChallenge", &signet__v1__create_challenge_request__descriptor),
		NULL);
	assert_string_equal(signet_last_error(*state),
			    "CreateChallenge reply carries no challenge id or nonce");
	assert_null(c);
}

/* signetd's refusals are rows of daemon_refusals[]. */
static void test_create_challenge_refusals(void **state)
{
	Signet__V1__CreateChallengeResponse resp = SIGNET__V1__CREATE_CHALLENGE_RESPONSE__INIT;
	uint8_t nonce[] = {1, 2, 3}, fp[32] = {0};
	struct signet_challenge *c = NULL;

	/* An OK reply without the id, or without the nonce, or garbage. */
	expect_create_challenge_protocol_error(state, &resp);
	resp.challenge_id = "00112233445566778899aabbccddeeff";
	expect_create_challenge_protocol_error(state, &resp);
	resp.challenge_id = "";
	resp.nonce.data = nonce;
	resp.nonce.len = sizeof(nonce);
	expect_create_challenge_protocol_error(state, &resp);
	fake_expect(FAKE_GARBAGE, 0, NULL, &resp.base);
	assert_int_equal(signet_create_challenge(*state, "dev-1", NULL, 0, &c), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("CreateChallenge", &signet__v1__create_challenge_request__descriptor),
		NULL);

	/* Exactly one binding, checked before anything is sent. */
	assert_int_equal(signet_create_challenge(*state, NULL, NULL, 0, &c),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state),
			    "bind a challenge to a device ID or an SPKI SHA-256 fingerprint, "
			    "not both");
	assert_int_equal(signet_create_challenge(*state, "dev-1", fp, 0, &c),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_create_challenge(*state, "", NULL, 0, &c),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_create_challenge(*state, "dev-1", NULL, 0, NULL),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_create_challenge(NULL, "dev-1", NULL, 0, &c),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(c);
}

/* A VerifiedChain as signetd would send it: leaf and root in the path. */
struct verified_reply {
	Signet__V1__VerifiedChain chain;
	ProtobufCBinaryData path[2];
	uint8_t fp[32], leaf[3], root[2];
};

static void verified_fill(struct verified_reply *v)
{
	Signet__V1__VerifiedChain init = SIGNET__V1__VERIFIED_CHAIN__INIT;

	memset(v, 0, sizeof(*v));
	v->chain = init;
	memset(v->fp, 0xab, sizeof(v->fp));
	memcpy(v->leaf, "\x30\x82\x01", 3);
	memcpy(v->root, "\x30\x01", 2);
	v->path[0].data = v->leaf;
	v->path[0].len = sizeof(v->leaf);
	v->path[1].data = v->root;
	v->path[1].len = sizeof(v->root);
	v->chain.device_id = "dev-1";
	v->chain.leaf_spki_sha256.data = v->fp;
	v->chain.leaf_spki_sha256.len = sizeof(v->fp);
	v->chain.leaf_serial = "0A1B";
	v->chain.leaf_ca = "issuing";
	v->chain.path_der = v->path;
	v->chain.n_path_der = 2;
}

static void assert_verified(const struct signet_verified *v, const struct verified_reply *want)
{
	assert_string_equal(v->device_id, "dev-1");
	assert_int_equal(v->leaf_spki_sha256_len, 32);
	assert_memory_equal(v->leaf_spki_sha256, want->fp, 32);
	assert_string_equal(v->leaf_serial, "0A1B");
	assert_string_equal(v->leaf_ca, want->chain.leaf_ca);
	assert_int_equal(v->n_path, 2);
	assert_int_equal(v->path[0].len, sizeof(want->leaf));
	assert_memory_equal(v->path[0].data, want->leaf, sizeof(want->leaf));
	assert_int_equal(v->path[1].len, sizeof(want->root));
	assert_memory_equal(v->path[1].data, want->root, sizeof(want->root));
}

static const uint8_t pop_chain[] = "-----BEGIN CERTIFICATE-----\nMAE=\n-----END CERTIFICATE-----\n";
static const uint8_t pop_sig[] = {0x30, 0x44, 0x02, 0x20};

static void test_verify_possession(void **state)
{
	Signet__V1__VerifyPossessionResponse resp = SIGNET__V1__VERIFY_POSSESSION_RESPONSE__INIT;
	Signet__V1__VerifyPossessionRequest *req;
	struct verified_reply vr;
	struct signet_verified *v = NULL;

	verified_fill(&vr);
	resp.chain = &vr.chain;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_verify_possession(*state, "00112233445566778899aabbccddeeff",
						  pop_chain, sizeof(pop_chain) - 1, pop_sig,
						  sizeof(pop_sig), SIGNET_SIG_ECDSA_RAW,
						  SIGNET_HASH_SHA384, &v),
			 0);
	req = (Signet__V1__VerifyPossessionRequest *)fake_done(
		"VerifyPossession", &signet__v1__verify_possession_request__descriptor);
	assert_string_equal(req->challenge_id, "00112233445566778899aabbccddeeff");
	assert_int_equal(req->chain.len, sizeof(pop_chain) - 1);
	assert_memory_equal(req->chain.data, pop_chain, sizeof(pop_chain) - 1);
	assert_int_equal(req->signature.len, sizeof(pop_sig));
	assert_memory_equal(req->signature.data, pop_sig, sizeof(pop_sig));
	assert_int_equal(req->format, SIGNET__V1__SIGNATURE_FORMAT__ECDSA_RAW);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA384);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_verified(v, &vr);
	signet_verified_free(v);
	v = NULL;

	/* Defaults are zeros on the wire; the result is optional; a leaf from another CA. */
	vr.chain.leaf_ca = NULL;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_verify_possession(*state, "c1", pop_chain, 3, pop_sig, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, NULL),
			 0);
	req = (Signet__V1__VerifyPossessionRequest *)fake_done(
		"VerifyPossession", &signet__v1__verify_possession_request__descriptor);
	assert_int_equal(req->format, SIGNET__V1__SIGNATURE_FORMAT__SIGNATURE_FORMAT_DEFAULT);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__HASH_DEFAULT);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_verify_possession(*state, "c1", pop_chain, 3, pop_sig, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 0);
	protobuf_c_message_free_unpacked(
		fake_done("VerifyPossession", &signet__v1__verify_possession_request__descriptor),
		NULL);
	assert_string_equal(v->leaf_ca, "");
	signet_verified_free(v);
	signet_verified_free(NULL);
}

/* One call of `chain` 0 (VerifyPossession) or 1 (VerifyChain) against the script. */
static int call_verify(void **state, int chain, struct signet_verified **out)
{
	const char *method = chain ? "VerifyChain" : "VerifyPossession";
	const ProtobufCMessageDescriptor *desc =
		chain ? &signet__v1__verify_chain_request__descriptor
		      : &signet__v1__verify_possession_request__descriptor;
	int r;

	if (chain)
		r = signet_verify_chain(*state, pop_chain, 3, SIGNET_PURPOSE_CLIENT, 1, out);
	else
		r = signet_verify_possession(*state, "c1", pop_chain, 3, pop_sig, 1,
					     SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, out);
	protobuf_c_message_free_unpacked(fake_done(method, desc), NULL);
	return r;
}

/* An OK reply that does not say what verified is no answer, wanted or not. */
static void check_verify_malformed(void **state, int chain, Signet__V1__VerifiedChain **slot,
				   const ProtobufCMessage *resp)
{
	const char *method = chain ? "VerifyChain" : "VerifyPossession";
	char want[128];
	struct verified_reply vr;
	struct signet_verified *v = NULL;

	snprintf(want, sizeof(want), "%s reply carries no verified path or leaf fingerprint",
		 method);
	*slot = NULL;
	fake_expect(FAKE_ANSWER, 0, NULL, resp);
	assert_int_equal(call_verify(state, chain, NULL), SIGNET_E_PROTOCOL);
	assert_string_equal(signet_last_error(*state), want);
	verified_fill(&vr);
	*slot = &vr.chain;
	vr.chain.n_path_der = 0; /* an empty path */
	fake_expect(FAKE_ANSWER, 0, NULL, resp);
	assert_int_equal(call_verify(state, chain, &v), SIGNET_E_PROTOCOL);
	assert_string_equal(signet_last_error(*state), want);
	vr.chain.n_path_der = 2;
	vr.chain.leaf_spki_sha256.len = 20; /* a SHA-1 is no SHA-256 */
	fake_expect(FAKE_ANSWER, 0, NULL, resp);
	assert_int_equal(call_verify(state, chain, &v), SIGNET_E_PROTOCOL);
	vr.chain.leaf_spki_sha256.len = 32;
	vr.path[1].len = 0; /* an empty certificate in the path */
	fake_expect(FAKE_ANSWER, 0, NULL, resp);
	assert_int_equal(call_verify(state, chain, &v), SIGNET_E_PROTOCOL);
	assert_non_null(strstr(signet_last_error(*state), "an empty certificate in its path"));
	fake_expect(FAKE_GARBAGE, 0, NULL, resp);
	assert_int_equal(call_verify(state, chain, &v), SIGNET_E_PROTOCOL);
	assert_null(v);
}

static void test_verify_possession_refusals(void **state)
{
	Signet__V1__VerifyPossessionResponse resp = SIGNET__V1__VERIFY_POSSESSION_RESPONSE__INIT;
	struct signet_verified *v = NULL;
	const char *cid = "c1";

	check_verify_malformed(state, 0, &resp.chain, &resp.base);

	/* Checked before anything is sent. */
	assert_int_equal(signet_verify_possession(*state, NULL, pop_chain, 3, pop_sig, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no challenge id given");
	assert_int_equal(signet_verify_possession(*state, "", pop_chain, 3, pop_sig, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_verify_possession(*state, cid, NULL, 3, pop_sig, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no certificate chain given");
	assert_int_equal(signet_verify_possession(*state, cid, pop_chain, 0, pop_sig, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_verify_possession(*state, cid, pop_chain, 3, NULL, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no signature given");
	assert_int_equal(signet_verify_possession(*state, cid, pop_chain, 3, pop_sig, 0,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_verify_possession(NULL, cid, pop_chain, 3, pop_sig, 1,
						  SIGNET_SIG_DEFAULT, SIGNET_HASH_DEFAULT, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(v);
}

static void test_verify_chain(void **state)
{
	static const enum signet_chain_purpose purposes[] = {SIGNET_PURPOSE_CLIENT,
							     SIGNET_PURPOSE_SERVER,
							     SIGNET_PURPOSE_CA, SIGNET_PURPOSE_ANY};
	static const Signet__V1__ChainPurpose wire[] = {SIGNET__V1__CHAIN_PURPOSE__PURPOSE_CLIENT,
							SIGNET__V1__CHAIN_PURPOSE__PURPOSE_SERVER,
							SIGNET__V1__CHAIN_PURPOSE__PURPOSE_CA,
							SIGNET__V1__CHAIN_PURPOSE__PURPOSE_ANY};
	Signet__V1__VerifyChainResponse resp = SIGNET__V1__VERIFY_CHAIN_RESPONSE__INIT;
	Signet__V1__VerifyChainRequest *req;
	struct verified_reply vr;
	struct signet_verified *v = NULL;

	verified_fill(&vr);
	resp.chain = &vr.chain;
	for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
		assert_int_equal(signet_verify_chain(*state, pop_chain, sizeof(pop_chain) - 1,
						     purposes[i], (int)(i % 2) * 7, &v),
				 0);
		req = (Signet__V1__VerifyChainRequest *)fake_done(
			"VerifyChain", &signet__v1__verify_chain_request__descriptor);
		assert_int_equal(req->chain.len, sizeof(pop_chain) - 1);
		assert_memory_equal(req->chain.data, pop_chain, sizeof(pop_chain) - 1);
		assert_int_equal(req->purpose, wire[i]);
		assert_int_equal(req->check_revocation, i % 2);
		protobuf_c_message_free_unpacked(&req->base, NULL);
		assert_verified(v, &vr);
		signet_verified_free(v);
		v = NULL;
	}
}

static void test_verify_chain_refusals(void **state)
{
	Signet__V1__VerifyChainResponse resp = SIGNET__V1__VERIFY_CHAIN_RESPONSE__INIT;
	struct signet_verified *v = NULL;

	check_verify_malformed(state, 1, &resp.chain, &resp.base);

	/* Checked before anything is sent. */
	assert_int_equal(signet_verify_chain(*state, NULL, 3, SIGNET_PURPOSE_ANY, 0, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no certificate chain given");
	assert_int_equal(signet_verify_chain(*state, pop_chain, 0, SIGNET_PURPOSE_ANY, 0, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(
		signet_verify_chain(*state, pop_chain, 3, (enum signet_chain_purpose)4, 0, &v),
		SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "4 is not a chain purpose");
	assert_int_equal(
		signet_verify_chain(*state, pop_chain, 3, (enum signet_chain_purpose) - 1, 0, &v),
		SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_verify_chain(NULL, pop_chain, 3, SIGNET_PURPOSE_ANY, 0, &v),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_null(v);
}

/*
 * --- signetd's refusals ---
 *
 * Each RPC refused by signetd returns the status as its error and the message
 * as signet_last_error(), and writes none of its outputs. A refused_* call
 * makes one RPC against the script with fixed arguments, waits for the
 * exchange and asserts that no output was written; daemon_refusals[] pairs it
 * with what signetd answers. A new refusal is one row.
 */
typedef int (*refused_call)(void **state);

static int refused_generate_key(void **state)
{
	struct signet_key_info *key = NULL;
	int r = signet_generate_key(*state, "web-1", SIGNET_KEY_EC_P256, &key);

	protobuf_c_message_free_unpacked(
		fake_done("GenerateKey", &signet__v1__generate_key_request__descriptor), NULL);
	assert_null(key);
	return r;
}

static int refused_get_ca_chain(void **state)
{
	char *pem = NULL;
	size_t n = 7;
	int r = signet_get_ca_chain(*state, "nope", &pem, &n);

	protobuf_c_message_free_unpacked(
		fake_done("GetCaChain", &signet__v1__get_ca_chain_request__descriptor), NULL);
	assert_null(pem);
	assert_int_equal(n, 7);
	return r;
}

static int refused_issue_verification_certificate(void **state)
{
	struct signet_buf out = {0};
	char *pem = NULL;
	int r = signet_issue_verification_certificate(*state, "nope", "bad code!", 0, &out, &pem);

	protobuf_c_message_free_unpacked(
		fake_done("IssueVerificationCertificate",
			  &signet__v1__issue_verification_certificate_request__descriptor),
		NULL);
	assert_null(out.data);
	assert_null(pem);
	return r;
}

static int refused_create_ca_request(void **state)
{
	struct signet_ca_request_params params = {.name = "sub", .path_len = -1};
	struct signet_buf out = {0};
	char *pem = NULL, *key = NULL;
	int r = signet_create_ca_request(*state, &params, &out, &pem, &key);

	protobuf_c_message_free_unpacked(
		fake_done("CreateCaRequest", &signet__v1__create_ca_request_request__descriptor),
		NULL);
	assert_null(out.data);
	assert_null(pem);
	assert_null(key);
	return r;
}

static int refused_import_ca_certificate(void **state)
{
	uint8_t cert[] = {0x30, 0x01};
	struct signet_ca_info *ca = NULL;
	int r = signet_import_ca_certificate(*state, "sub", cert, sizeof(cert), NULL, 0, &ca);

	protobuf_c_message_free_unpacked(
		fake_done("ImportCaCertificate",
			  &signet__v1__import_ca_certificate_request__descriptor),
		NULL);
	assert_null(ca);
	return r;
}

static int refused_renew_ca(void **state)
{
	struct signet_ca_info *ca = NULL;
	struct signet_buf prev = {0};
	int r = signet_renew_ca(*state, "nope", 36501, SIGNET_HASH_DEFAULT, &ca, &prev);

	protobuf_c_message_free_unpacked(
		fake_done("RenewCa", &signet__v1__renew_ca_request__descriptor), NULL);
	assert_null(ca);
	assert_null(prev.data);
	return r;
}

static int refused_rekey_ca(void **state)
{
	struct signet_ca_info *ca = NULL;
	struct signet_buf link = {0};
	int r = signet_rekey_ca(*state, "nope", SIGNET_KEY_UNSPECIFIED, 36501, SIGNET_HASH_DEFAULT,
				&ca, &link);

	protobuf_c_message_free_unpacked(
		fake_done("RekeyCa", &signet__v1__rekey_ca_request__descriptor), NULL);
	assert_null(ca);
	assert_null(link.data);
	return r;
}

static int refused_list_issued(void **state)
{
	struct signet_ledger_filter f = {.page_token = "garbage"};
	struct signet_issued_list *list = NULL;
	int r = signet_list_issued(*state, &f, &list);

	protobuf_c_message_free_unpacked(
		fake_done("ListIssued", &signet__v1__list_issued_request__descriptor), NULL);
	assert_null(list);
	return r;
}

static int refused_get_issued(void **state)
{
	struct signet_issued_cert *out = NULL;
	int r = signet_get_issued(*state, "0A1C", NULL, &out);

	protobuf_c_message_free_unpacked(
		fake_done("GetIssued", &signet__v1__get_issued_request__descriptor), NULL);
	assert_null(out);
	return r;
}

static int refused_revoke(void **state)
{
	struct signet_issued_cert *out = NULL;
	int r = signet_revoke(*state, "issuing", "0A1C", SIGNET_REASON_SUPERSEDED, 0, &out);

	protobuf_c_message_free_unpacked(
		fake_done("Revoke", &signet__v1__revoke_request__descriptor), NULL);
	assert_null(out);
	return r;
}

static int refused_get_crl(void **state)
{
	struct signet_buf out = {0};
	char *pem = NULL;
	uint64_t number = 99;
	int r = signet_get_crl(*state, "nope", NULL, &out, &pem, &number);

	protobuf_c_message_free_unpacked(
		fake_done("GetCrl", &signet__v1__get_crl_request__descriptor), NULL);
	assert_null(out.data);
	assert_null(pem);
	assert_int_equal(number, 99);
	return r;
}

static int refused_create_challenge(void **state)
{
	struct signet_challenge *c = NULL;
	int r = signet_create_challenge(*state, "dev-1", NULL, 900, &c);

	protobuf_c_message_free_unpacked(
		fake_done("CreateChallenge", &signet__v1__create_challenge_request__descriptor),
		NULL);
	assert_null(c);
	return r;
}

static int refused_verify_possession(void **state)
{
	struct signet_verified *v = NULL;
	int r = call_verify(state, 0, &v);

	assert_null(v);
	return r;
}

static int refused_verify_chain(void **state)
{
	struct signet_verified *v = NULL;
	int r = call_verify(state, 1, &v);

	assert_null(v);
	return r;
}

/* What signetd answers each of `calls` (one, or two that share the check) with, and
 * the error the caller gets for it. */
struct daemon_refusal {
	refused_call calls[2];
	int status;
	int err;
	const char *message;
};

static const struct daemon_refusal daemon_refusals[] = {
	{{refused_generate_key},
	 SIGNET__V1__STATUS_CODE__ALREADY_EXISTS,
	 SIGNET_E_ALREADY_EXISTS,
	 "a key named 'web-1' already exists"},
	{{refused_get_ca_chain},
	 SIGNET__V1__STATUS_CODE__NOT_FOUND,
	 SIGNET_E_NOT_FOUND,
	 "no CA named 'nope'"},
	{{refused_issue_verification_certificate},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "verification codes are 1-64 characters of A-Z a-z 0-9 . _ -"},
	{{refused_issue_verification_certificate},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "a verification certificate lives at most 365 days"},
	{{refused_issue_verification_certificate},
	 SIGNET__V1__STATUS_CODE__NOT_FOUND,
	 SIGNET_E_NOT_FOUND,
	 "no CA named 'nope'"},
	{{refused_issue_verification_certificate},
	 SIGNET__V1__STATUS_CODE__UNAVAILABLE,
	 SIGNET_E_UNAVAILABLE,
	 "token not present"},
	{{refused_create_ca_request},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "a new CA needs a key algorithm"},
	{{refused_create_ca_request},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "a CA needs a subject"},
	{{refused_create_ca_request},
	 SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
	 SIGNET_E_FAILED_PRECONDITION,
	 "key 'ca.sub' exists with another algorithm; re-keying a CA is RekeyCa"},
	{{refused_create_ca_request},
	 SIGNET__V1__STATUS_CODE__UNAVAILABLE,
	 SIGNET_E_UNAVAILABLE,
	 "token not present"},
	{{refused_import_ca_certificate},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "the certificate is not a CA certificate (basicConstraints CA:TRUE)"},
	{{refused_import_ca_certificate},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "the certificate is for another key than 'ca.sub' on the token"},
	{{refused_import_ca_certificate},
	 SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
	 SIGNET_E_FAILED_PRECONDITION,
	 "no key 'ca.sub' on the token: make the request with CreateCaRequest first"},
	{{refused_import_ca_certificate},
	 SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
	 SIGNET_E_FAILED_PRECONDITION,
	 "the certificate is not valid now"},
	/* RenewCa and RekeyCa share these checks. */
	{{refused_renew_ca, refused_rekey_ca},
	 SIGNET__V1__STATUS_CODE__NOT_FOUND,
	 SIGNET_E_NOT_FOUND,
	 "no CA named 'nope'"},
	{{refused_renew_ca, refused_rekey_ca},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "validity of 36501 days is over the limit of 36500"},
	{{refused_renew_ca, refused_rekey_ca},
	 SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
	 SIGNET_E_FAILED_PRECONDITION,
	 "CA 'sub' was signed by a CA outside signet: to renew it, send CreateCaRequest "
	 "to that CA and import what it returns"},
	{{refused_list_issued},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "invalid page_token"},
	{{refused_get_issued},
	 SIGNET__V1__STATUS_CODE__NOT_FOUND,
	 SIGNET_E_NOT_FOUND,
	 "no certificate 0A1C"},
	{{refused_revoke},
	 SIGNET__V1__STATUS_CODE__NOT_FOUND,
	 SIGNET_E_NOT_FOUND,
	 "no certificate 0A1C"},
	{{refused_revoke},
	 SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
	 SIGNET_E_FAILED_PRECONDITION,
	 "certificate 0A1C was issued by CA 'other', not 'issuing'"},
	{{refused_revoke},
	 SIGNET__V1__STATUS_CODE__ALREADY_EXISTS,
	 SIGNET_E_ALREADY_EXISTS,
	 "certificate 0A1C is revoked since 2026-01-01T00:00:00Z"},
	{{refused_revoke},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "a serial is up to 40 hex digits"},
	{{refused_get_crl},
	 SIGNET__V1__STATUS_CODE__NOT_FOUND,
	 SIGNET_E_NOT_FOUND,
	 "no CA named 'nope'"},
	{{refused_create_challenge},
	 SIGNET__V1__STATUS_CODE__RESOURCE_EXHAUSTED,
	 SIGNET_E_RESOURCE_EXHAUSTED,
	 "caller 'factory' has 1000 challenges outstanding, the limit"},
	{{refused_create_challenge},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "ttl_seconds 900 is over the maximum of 600"},
	/* VerifyPossession and VerifyChain share these checks. */
	{{refused_verify_possession, refused_verify_chain},
	 SIGNET__V1__STATUS_CODE__NOT_FOUND,
	 SIGNET_E_NOT_FOUND,
	 "no challenge c1"},
	{{refused_verify_possession, refused_verify_chain},
	 SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
	 SIGNET_E_FAILED_PRECONDITION,
	 "challenge c1 is already used: a replay"},
	{{refused_verify_possession, refused_verify_chain},
	 SIGNET__V1__STATUS_CODE__PERMISSION_DENIED,
	 SIGNET_E_PERMISSION_DENIED,
	 "leaf CN 'dev-2' is not the challenge's device 'dev-1'"},
	{{refused_verify_possession, refused_verify_chain},
	 SIGNET__V1__STATUS_CODE__UNAUTHENTICATED,
	 SIGNET_E_UNAUTHENTICATED,
	 "device dev-1: the signature does not verify with the leaf's key"},
	{{refused_verify_possession, refused_verify_chain},
	 SIGNET__V1__STATUS_CODE__INVALID_ARGUMENT,
	 SIGNET_E_INVALID_ARGUMENT,
	 "chain: certificate 2 is not PEM or DER"},
};

static void test_daemon_refusals(void **state)
{
	for (size_t i = 0; i < sizeof(daemon_refusals) / sizeof(daemon_refusals[0]); i++) {
		const struct daemon_refusal *row = &daemon_refusals[i];

		for (size_t c = 0; c < 2 && row->calls[c] != NULL; c++) {
			int r;

			fake_expect(FAKE_ANSWER, row->status, row->message, NULL);
			r = row->calls[c](state);
			if (r != row->err)
				print_message(
					"daemon_refusals[%zu] (\"%s\"), call %zu, returned %d\n", i,
					row->message, c, r);
			assert_int_equal(r, row->err);
			assert_string_equal(signet_last_error(*state), row->message);
		}
	}
}

static void test_wrong_request_id_is_protocol_error(void **state)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	struct signet_health health;

	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	fake_expect(FAKE_WRONG_ID, 0, NULL, &resp.base);
	assert_int_equal(signet_health(*state, &health), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("Health", &signet__v1__health_request__descriptor), NULL);
	assert_non_null(strstr(signet_last_error(*state), "does not match the request"));
}

static void test_garbage_reply_is_protocol_error(void **state)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	struct signet_health health;

	resp.token_state = "padding so the reply has a few bytes";
	fake_expect(FAKE_GARBAGE, 0, NULL, &resp.base);
	assert_int_equal(signet_health(*state, &health), SIGNET_E_PROTOCOL);
	protobuf_c_message_free_unpacked(
		fake_done("Health", &signet__v1__health_request__descriptor), NULL);
}

static void test_silence_is_deadline_exceeded_and_client_recovers(void **state)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	struct signet_health health;

	fake_expect(FAKE_SILENT, 0, NULL, NULL);
	assert_int_equal(signet_health(*state, &health), SIGNET_E_DEADLINE_EXCEEDED);
	protobuf_c_message_free_unpacked(
		fake_done("Health", &signet__v1__health_request__descriptor), NULL);
	assert_string_equal(signet_last_error(*state),
			    "no answer from signetd at " FAKE_ENDPOINT " within 300 ms");
	/* The next call goes through on a fresh socket. */
	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_health(*state, &health), 0);
	protobuf_c_message_free_unpacked(
		fake_done("Health", &signet__v1__health_request__descriptor), NULL);
}

static void test_request_ids_are_fresh(void **state)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	struct signet_health health;
	uint8_t first[WIRE_REQUEST_ID_LEN];

	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_health(*state, &health), 0);
	assert_int_equal(pthread_join(fake.thread, NULL), 0);
	memcpy(first, fake.env->request_id.data, sizeof(first));
	signet__v1__envelope__free_unpacked(fake.env, NULL);
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_health(*state, &health), 0);
	assert_int_equal(pthread_join(fake.thread, NULL), 0);
	assert_memory_not_equal(first, fake.env->request_id.data, sizeof(first));
	signet__v1__envelope__free_unpacked(fake.env, NULL);
	fake.env = NULL;
}

/* --- Credentials --- */

static const uint8_t secret_a[32] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				     0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
				     0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
				     0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20};
static const uint8_t secret_b[40] = {0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9,
				     0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
				     0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd,
				     0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7};
/* secret_a as a secret file holds it */
#define SECRET_A_HEX "0102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F20"

/* One Health exchange; returns the envelope signetd received (free it). */
static Signet__V1__Envelope *health_exchange(signet_client *client)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	Signet__V1__Envelope *env;
	struct signet_health health;

	resp.status = SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	fake_expect(FAKE_ANSWER, 0, NULL, &resp.base);
	assert_int_equal(signet_health(client, &health), 0);
	assert_int_equal(pthread_join(fake.thread, NULL), 0);
	assert_non_null(fake.env);
	env = fake.env;
	fake.env = NULL;
	return env;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What signetd does with a request: recompute the MAC from the received envelope. */
static int mac_verifies(const Signet__V1__Envelope *env, const uint8_t *secret, size_t len)
{
	const Signet__V1__Credential *cred = env->credential;
	struct authmac_input in = {
		.method = env->method,
		.request_id = env->request_id.data,
		.request_id_len = env->request_id.len,
		.client = cred->client,
		.timestamp_ms = cred->timestamp_ms,
		.nonce = cred->nonce.data,
		.nonce_len = cred->nonce.len,
		.payload = env->payload.data,
		.payload_len = env->payload.len,
	};

	return authmac_verify(secret, len, &in, cred->mac.data, cred->mac.len);
}

/* env carries a fresh credential for `name` whose MAC `secret` verifies. */
static void assert_credential(const Signet__V1__Envelope *env, const char *name,
			      const uint8_t *secret, size_t len)
{
	uint64_t now = now_ms();

	assert_non_null(env->credential);
	assert_string_equal(env->credential->client, name);
	assert_in_range(env->credential->timestamp_ms, now - 5000, now + 1000);
	assert_int_equal(env->credential->nonce.len, AUTHMAC_NONCE_LEN);
	assert_int_equal(env->credential->mac.len, AUTHMAC_LEN);
	assert_true(mac_verifies(env, secret, len));
}

static void test_no_credential_unless_set(void **state)
{
	Signet__V1__Envelope *env = health_exchange(*state);

	assert_null(env->credential);
	signet__v1__envelope__free_unpacked(env, NULL);
}

static void test_credential_on_every_request(void **state)
{
	Signet__V1__Envelope *first, *second;
	uint8_t other[sizeof(secret_a)];

	assert_int_equal(signet_set_credential(*state, "factory-1", secret_a, sizeof(secret_a)), 0);
	first = health_exchange(*state);
	second = health_exchange(*state);
	assert_credential(first, "factory-1", secret_a, sizeof(secret_a));
	assert_credential(second, "factory-1", secret_a, sizeof(secret_a));
	assert_memory_not_equal(first->credential->nonce.data, second->credential->nonce.data,
				AUTHMAC_NONCE_LEN);
	/* Another secret, or a changed field, does not verify. */
	memcpy(other, secret_a, sizeof(other));
	other[0] ^= 1;
	assert_false(mac_verifies(first, other, sizeof(other)));
	first->request_id.data[0] ^= 1;
	assert_false(mac_verifies(first, secret_a, sizeof(secret_a)));
	signet__v1__envelope__free_unpacked(first, NULL);
	signet__v1__envelope__free_unpacked(second, NULL);
}

/* Replacing wipes and frees the old secret (LSan checks the freeing). */
static void test_credential_replaced(void **state)
{
	Signet__V1__Envelope *env;

	assert_int_equal(signet_set_credential(*state, "a", secret_a, sizeof(secret_a)), 0);
	assert_int_equal(signet_set_credential(*state, "B.b_2", secret_b, sizeof(secret_b)), 0);
	env = health_exchange(*state);
	assert_credential(env, "B.b_2", secret_b, sizeof(secret_b));
	assert_false(mac_verifies(env, secret_a, sizeof(secret_a)));
	signet__v1__envelope__free_unpacked(env, NULL);
}

static void test_credential_refusals(void **state)
{
	char long_name[CREDENTIAL_NAME_MAX + 2];
	Signet__V1__Envelope *env;

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(signet_set_credential(*state, "kept", secret_a, sizeof(secret_a)), 0);
	assert_int_equal(signet_set_credential(*state, "", secret_a, 32),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(*state), "client name"));
	assert_int_equal(signet_set_credential(*state, NULL, secret_a, 32),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_set_credential(*state, "a b", secret_a, 32),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_set_credential(*state, "x/y", secret_a, 32),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_set_credential(*state, long_name, secret_a, 32),
			 SIGNET_E_INVALID_ARGUMENT);
	long_name[CREDENTIAL_NAME_MAX] = '\0';
	assert_int_equal(signet_set_credential(*state, long_name, secret_b, 40), 0);
	assert_int_equal(signet_set_credential(*state, "kept", secret_a, sizeof(secret_a)), 0);
	assert_int_equal(signet_set_credential(*state, "short", secret_a, AUTHMAC_SECRET_MIN - 1),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "a client secret is 32 to 64 bytes");
	assert_int_equal(signet_set_credential(*state, "long", secret_a, AUTHMAC_SECRET_MAX + 1),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_set_credential(*state, "none", NULL, 32),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_set_credential(NULL, "a", secret_a, 32), SIGNET_E_INVALID_ARGUMENT);
	/* A refusal leaves the credential the client had. */
	env = health_exchange(*state);
	assert_credential(env, "kept", secret_a, sizeof(secret_a));
	signet__v1__envelope__free_unpacked(env, NULL);
}

/* A secret file in a fresh directory; `path` gets its name. */
static void write_secret_file(char *dir, char *path, size_t size, const char *text, mode_t mode)
{
	FILE *f;

	strcpy(dir, "/tmp/signet-cred-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, size, "%s/client.key", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void remove_secret_file(const char *dir, const char *path)
{
	unlink(path);
	rmdir(dir);
}

static void test_load_credential(void **state)
{
	char dir[64], path[96];
	Signet__V1__Envelope *env;

	write_secret_file(dir, path, sizeof(path), "  " SECRET_A_HEX "\n", 0600);
	assert_int_equal(signet_load_credential(*state, "factory", path), 0);
	env = health_exchange(*state);
	assert_credential(env, "factory", secret_a, sizeof(secret_a));
	signet__v1__envelope__free_unpacked(env, NULL);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(signet_load_credential(*state, "factory", path), 0);
	remove_secret_file(dir, path);
}

/* `text` in a file of `mode` is refused with `err`, and the message says `says`. */
static void check_file_refused(signet_client *client, const char *text, mode_t mode, int err,
			       const char *says)
{
	char dir[64], path[96];

	write_secret_file(dir, path, sizeof(path), text, mode);
	assert_int_equal(signet_load_credential(client, "factory", path), err);
	assert_non_null(strstr(signet_last_error(client), says));
	remove_secret_file(dir, path);
}

static void test_load_credential_refusals(void **state)
{
	char dir[64], path[96];
	Signet__V1__Envelope *env;

	assert_int_equal(signet_set_credential(*state, "kept", secret_a, sizeof(secret_a)), 0);
	check_file_refused(*state, SECRET_A_HEX "\n", 0644, SIGNET_E_PERMISSION_DENIED,
			   "chmod 600");
	check_file_refused(*state, SECRET_A_HEX "\n", 0640, SIGNET_E_PERMISSION_DENIED,
			   "open to group or others (mode 0640)");
	check_file_refused(*state,
			   "not a hex secret, but a password of sorts, long enough to "
			   "pass the length check, 64+ chars\n",
			   0600, SIGNET_E_INVALID_ARGUMENT, "hex digits");
	/* The message never quotes the file. */
	assert_null(strstr(signet_last_error(*state), "password"));
	check_file_refused(*state, "0102\n", 0600, SIGNET_E_INVALID_ARGUMENT, "64 to 128");
	check_file_refused(*state, "", 0600, SIGNET_E_INVALID_ARGUMENT, "64 to 128");
	write_secret_file(dir, path, sizeof(path), SECRET_A_HEX, 0600);
	assert_int_equal(signet_load_credential(*state, "bad name", path),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_load_credential(*state, "factory", dir), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(*state), "not a regular file"));
	assert_int_equal(signet_load_credential(*state, "factory", NULL),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_load_credential(NULL, "factory", path), SIGNET_E_INVALID_ARGUMENT);
	remove_secret_file(dir, path);
	assert_int_equal(signet_load_credential(*state, "factory", path), SIGNET_E_NOT_FOUND);
	assert_non_null(strstr(signet_last_error(*state), "cannot open secret file"));
	env = health_exchange(*state);
	assert_credential(env, "kept", secret_a, sizeof(secret_a));
	signet__v1__envelope__free_unpacked(env, NULL);
}

/* Closing a client with a credential frees it (LSan would report the secret). */
static void test_close_frees_credential(void **state)
{
	signet_client *client = NULL;

	(void)state;
	assert_int_equal(signet_connect(FAKE_ENDPOINT, TIMEOUT_MS, &client), 0);
	assert_int_equal(signet_set_credential(client, "a", secret_a, sizeof(secret_a)), 0);
	assert_non_null(client->cred);
	signet_close(client);
}

static void test_null_arguments(void **state)
{
	struct signet_key_info *key = NULL;
	struct signet_buf out = {0};

	assert_int_equal(signet_get_info(NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_generate_key(*state, NULL, SIGNET_KEY_EC_P256, &key),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(signet_last_error(*state), "no key name given");
	assert_int_equal(signet_delete_key(*state, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_sign(*state, NULL, &out, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	signet_info_free(NULL);
	signet_key_info_free(NULL);
	signet_key_list_free(NULL);
	signet_ca_info_free(NULL);
	signet_ca_list_free(NULL);
	signet_buf_free(NULL);
	signet_free(NULL);
}

#define CLIENT_TEST(fn) cmocka_unit_test_setup_teardown(fn, client_setup, client_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_arguments),
		cmocka_unit_test(test_endpoint_from_environment),
		CLIENT_TEST(test_get_info),
		CLIENT_TEST(test_get_info_without_token),
		CLIENT_TEST(test_health),
		CLIENT_TEST(test_generate_key),
		CLIENT_TEST(test_reply_without_key_is_protocol_error),
		CLIENT_TEST(test_get_public_key),
		CLIENT_TEST(test_list_and_delete_keys),
		CLIENT_TEST(test_create_csr_sends_every_san),
		CLIENT_TEST(test_create_csr_rejects_bad_params_locally),
		CLIENT_TEST(test_sign_message_and_digest),
		CLIENT_TEST(test_empty_signature_is_protocol_error),
		CLIENT_TEST(test_create_root_ca),
		CLIENT_TEST(test_create_root_ca_without_path_len),
		CLIENT_TEST(test_create_intermediate_ca),
		CLIENT_TEST(test_create_ca_rejects_bad_params_locally),
		CLIENT_TEST(test_created_ca_without_certificate_is_protocol_error),
		CLIENT_TEST(test_get_ca_chain),
		CLIENT_TEST(test_empty_ca_chain_is_protocol_error),
		CLIENT_TEST(test_list_cas),
		CLIENT_TEST(test_issue_verification_certificate),
		CLIENT_TEST(test_verification_certificate_refusals),
		CLIENT_TEST(test_verification_reply_without_certificate_is_protocol_error),
		CLIENT_TEST(test_create_ca_request),
		CLIENT_TEST(test_ca_request_refusals),
		CLIENT_TEST(test_ca_request_reply_without_request_is_protocol_error),
		CLIENT_TEST(test_import_ca_certificate),
		CLIENT_TEST(test_import_ca_certificate_refusals),
		CLIENT_TEST(test_renew_ca),
		CLIENT_TEST(test_renew_ca_refusals),
		CLIENT_TEST(test_rekey_ca),
		CLIENT_TEST(test_rekey_ca_refusals),
		cmocka_unit_test(test_revocation_reason_names),
		CLIENT_TEST(test_list_issued),
		CLIENT_TEST(test_list_issued_empty_and_refusals),
		CLIENT_TEST(test_get_issued),
		CLIENT_TEST(test_get_issued_reply_without_record_is_protocol_error),
		CLIENT_TEST(test_revoke),
		CLIENT_TEST(test_revoke_refusals),
		CLIENT_TEST(test_get_crl),
		CLIENT_TEST(test_get_crl_refusals),
		CLIENT_TEST(test_create_challenge),
		CLIENT_TEST(test_create_challenge_refusals),
		CLIENT_TEST(test_verify_possession),
		CLIENT_TEST(test_verify_possession_refusals),
		CLIENT_TEST(test_verify_chain),
		CLIENT_TEST(test_verify_chain_refusals),
		CLIENT_TEST(test_daemon_refusals),
		CLIENT_TEST(test_wrong_request_id_is_protocol_error),
		CLIENT_TEST(test_garbage_reply_is_protocol_error),
		CLIENT_TEST(test_silence_is_deadline_exceeded_and_client_recovers),
		CLIENT_TEST(test_request_ids_are_fresh),
		CLIENT_TEST(test_null_arguments),
		CLIENT_TEST(test_no_credential_unless_set),
		CLIENT_TEST(test_credential_on_every_request),
		CLIENT_TEST(test_credential_replaced),
		CLIENT_TEST(test_credential_refusals),
		CLIENT_TEST(test_load_credential),
		CLIENT_TEST(test_load_credential_refusals),
		cmocka_unit_test(test_close_frees_credential),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
