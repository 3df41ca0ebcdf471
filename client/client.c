/* The client handle and the one transport path shared by every RPC. */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "methods.h"
#include "credential.h"
#include "reply.h"

int client_error(signet_client *client, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(client->last_error, sizeof(client->last_error), fmt, ap);
	va_end(ap);
	return err;
}

char *client_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

uint8_t *client_memdup(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);

	if (p != NULL && len > 0)
		memcpy(p, data, len);
	return p;
}

int client_buf_dup(struct signet_buf *out, const ProtobufCBinaryData *in)
{
	out->data = NULL;
	out->len = 0;
	if (in->len == 0)
		return 0;
	if ((out->data = client_memdup(in->data, in->len)) == NULL)
		return SIGNET_E_NOMEM;
	out->len = in->len;
	return 0;
}

int client_der_pem_out(const ProtobufCBinaryData *der, const char *pem, struct signet_buf *der_out,
		       char **pem_out)
{
	uint8_t *d = client_memdup(der->data, der->len);
	char *p = NULL;

	if (d == NULL || (pem_out != NULL && (p = client_strdup(pem)) == NULL)) {
		free(d);
		return SIGNET_E_NOMEM;
	}
	der_out->data = d;
	der_out->len = der->len;
	if (pem_out != NULL)
		*pem_out = p;
	return 0;
}

static int client_setopt(int sock, int level, int option, int value)
{
	return nn_setsockopt(sock, level, option, &value, sizeof(value));
}

/*
 * A fresh REQ socket connected to every endpoint: nanomsg sends each request
 * to the next connected signetd in turn, never to one that is not connected,
 * and when the connection a request went out on breaks it sends the request
 * at once to another (docs/failover.md). The connections are made in an
 * order rotated at random, so that short-lived clients, which send one
 * request to whichever signetd answers the handshake first, spread too.
 */
static int client_open_socket(signet_client *client)
{
	unsigned char rot = 0;
	size_t i, k;
	int sock, r;

	if ((sock = nn_socket(AF_SP, NN_REQ)) < 0)
		return client_error(client, SIGNET_E_TRANSPORT, "cannot create a socket: %s",
				    nn_strerror(nn_errno()));
	if (client_setopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, (int)CLIENT_MAX_MESSAGE) < 0) {
		r = client_error(client, SIGNET_E_TRANSPORT, "cannot configure the socket: %s",
				 nn_strerror(nn_errno()));
		goto out;
	}
	if (client->eps.n > 1 &&
	    getrandom(&rot, sizeof(rot), GRND_NONBLOCK) != (ssize_t)sizeof(rot))
		rot = 0; /* any order will do */
	/* nanomsg connects lazily: this only fails for an unusable address. */
	for (i = 0; i < client->eps.n; i++) {
		k = (i + rot) % client->eps.n;
		if (nn_connect(sock, client->eps.addr[k]) < 0) {
			r = client_error(client, SIGNET_E_INVALID_ARGUMENT,
					 "cannot use endpoint '%s': %s", client->eps.addr[k],
					 nn_strerror(nn_errno()));
			goto out;
		}
	}
	client->sock = sock;
	sock = -1; /* transferred */
	r = 0;
out:
	if (sock >= 0)
		nn_close(sock);
	return r;
}

/*
 * One attempt's time limits. The resend interval is longer than the attempt
 * so that nanomsg never repeats a request on its own timer: GenerateKey is
 * not idempotent, and a byte-identical copy carries the same credential
 * nonce, which the signetd that saw the first copy refuses as a replay.
 */
static int client_set_budget(signet_client *client, int budget_ms)
{
	int resend_ivl = budget_ms <= INT_MAX - 1000 ? budget_ms + 1000 : INT_MAX;

	if (client_setopt(client->sock, NN_SOL_SOCKET, NN_SNDTIMEO, budget_ms) < 0 ||
	    client_setopt(client->sock, NN_SOL_SOCKET, NN_RCVTIMEO, budget_ms) < 0 ||
	    client_setopt(client->sock, NN_REQ, NN_REQ_RESEND_IVL, resend_ivl) < 0)
		return client_error(client, SIGNET_E_TRANSPORT, "cannot configure the socket: %s",
				    nn_strerror(nn_errno()));
	return 0;
}

/*
 * After a timeout the REQ socket still holds the unanswered request and would
 * send it again later; a new socket forgets it.
 */
static void client_reset_socket(signet_client *client)
{
	if (client->sock >= 0)
		nn_close(client->sock);
	client->sock = -1;
	(void)client_open_socket(client);
}

static const char *client_resolve_endpoint(const char *endpoint)
{
	if (endpoint == NULL || endpoint[0] == '\0')
		endpoint = secure_getenv(SIGNET_ENDPOINT_ENV);
	if (endpoint == NULL || endpoint[0] == '\0')
		endpoint = SIGNET_DEFAULT_ENDPOINT;
	return endpoint;
}

int signet_connect(const char *endpoint, int timeout_ms, signet_client **out)
{
	signet_client *client = NULL;
	int r;

	if (out == NULL || timeout_ms < 0)
		return SIGNET_E_INVALID_ARGUMENT;
	endpoint = client_resolve_endpoint(endpoint);
	if (strlen(endpoint) >= ENDPOINT_LIST_MAX)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((client = calloc(1, sizeof(*client))) == NULL)
		return SIGNET_E_NOMEM;
	client->sock = -1;
	client->timeout_ms = timeout_ms > 0 ? timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
	snprintf(client->endpoint, sizeof(client->endpoint), "%s", endpoint);
	if ((r = endpoints_parse(endpoint, &client->eps, client->last_error,
				 sizeof(client->last_error))) != 0 ||
	    (r = client_open_socket(client)) != 0)
		goto out;
	*out = client;
	client = NULL; /* transferred */
out:
	signet_close(client);
	return r;
}

int signet_set_timeout(signet_client *client, int timeout_ms)
{
	if (client == NULL || timeout_ms < 0)
		return SIGNET_E_INVALID_ARGUMENT;
	client->timeout_ms = timeout_ms > 0 ? timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
	return 0;
}

int signet_set_retries(signet_client *client, unsigned retries)
{
	if (client == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (retries > CLIENT_RETRIES_MAX)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "at most %d retries",
				    CLIENT_RETRIES_MAX);
	client->retries = retries;
	return 0;
}

void signet_close(signet_client *client)
{
	if (client == NULL)
		return;
	if (client->sock >= 0)
		nn_close(client->sock);
	credential_free(client->cred);
	free(client);
}

const char *signet_last_error(const signet_client *client)
{
	return client != NULL ? client->last_error : "";
}

int client_new_request_id(signet_client *client, uint8_t *id)
{
	size_t got = 0;

	while (got < WIRE_REQUEST_ID_LEN) {
		ssize_t n = getrandom(id + got, WIRE_REQUEST_ID_LEN - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return client_error(client, SIGNET_E_INTERNAL,
					    "cannot draw a request id: %s", strerror(errno));
		got += (size_t)n;
	}
	return 0;
}

/* The envelope for one call, with the caller's credential if set, packed into a fresh buffer. */
static int client_pack_envelope(signet_client *client, const char *method,
				const ProtobufCMessage *req, const uint8_t *request_id,
				uint8_t **buf, size_t *len)
{
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	struct credential_stamp stamp;
	size_t payload_len = protobuf_c_message_get_packed_size(req);
	uint8_t *payload = NULL;
	int r;

	if (payload_len > CLIENT_MAX_MESSAGE)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "%s request of %zu bytes is over the %u byte limit", method,
				    payload_len, CLIENT_MAX_MESSAGE);
	if ((payload = malloc(payload_len > 0 ? payload_len : 1)) == NULL) {
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	env.version = SIGNET_PROTOCOL_VERSION;
	env.method = (char *)method;
	env.request_id.data = (uint8_t *)request_id;
	env.request_id.len = WIRE_REQUEST_ID_LEN;
	env.payload.data = payload;
	env.payload.len = protobuf_c_message_pack(req, payload);
	if ((r = credential_stamp(client, &env, &stamp)) != 0)
		goto out;
	*len = signet__v1__envelope__get_packed_size(&env);
	if ((*buf = malloc(*len)) == NULL) {
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	signet__v1__envelope__pack(&env, *buf);
	r = 0;
out:
	free(payload);
	return r;
}

int client_method_retryable(const char *method)
{
	/* the flags of each method are in proto/methods.def, shared with signetd */
	/* clang-format off */
#define SIGNET_METHOD(name, handler, flags, target) {#name, ((flags) & SIGNET_METHOD_RETRYABLE) != 0},
	/* clang-format on */
	static const struct {
		const char *name;
		int retryable;
	} methods[] = {
#include "methods.def"
	};
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].retryable;
	return 0;
}

/* A send or receive that failed: the socket is replaced, the attempt may be repeated. */
static int client_transport_error(signet_client *client, const char *what, int budget_ms)
{
	int e = nn_errno();

	client_reset_socket(client);
	if (e == ETIMEDOUT || e == EAGAIN)
		return client_error(client, SIGNET_E_DEADLINE_EXCEEDED,
				    "no answer from signetd at %s within %d ms", client->endpoint,
				    budget_ms);
	return client_error(client, SIGNET_E_TRANSPORT, "cannot %s signetd at %s: %s", what,
			    client->endpoint, nn_strerror(e));
}

/*
 * One attempt of at most `budget_ms`, stamped afresh (a new credential nonce
 * and time) but with the call's request id. `*no_answer` is set when
 * signetd's answer never came, so that the call may be repeated.
 */
static int client_attempt(signet_client *client, const char *method, const ProtobufCMessage *req,
			  const uint8_t *request_id, int budget_ms,
			  const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
			  int *no_answer)
{
	uint8_t *envelope = NULL;
	void *reply = NULL;
	size_t envelope_len = 0;
	int n, r;

	*no_answer = 0;
	if ((client->sock < 0 && (r = client_open_socket(client)) != 0) ||
	    (r = client_set_budget(client, budget_ms)) != 0 ||
	    (r = client_pack_envelope(client, method, req, request_id, &envelope, &envelope_len)) !=
		    0)
		goto out;
	if (nn_send(client->sock, envelope, envelope_len, 0) < 0) {
		*no_answer = 1;
		r = client_transport_error(client, "send to", budget_ms);
		goto out;
	}
	if ((n = nn_recv(client->sock, &reply, NN_MSG, 0)) < 0) {
		*no_answer = 1;
		r = client_transport_error(client, "receive from", budget_ms);
		goto out;
	}
	r = reply_decode(reply, (size_t)n, request_id, resp_desc, resp, client->last_error,
			 sizeof(client->last_error));
out:
	if (reply != NULL)
		nn_freemsg(reply);
	free(envelope);
	return r;
}

static int64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The call's deadline is split evenly over the attempts left, so that a
 * signetd that never answers leaves time to ask another. A call is repeated
 * only if it is safe to (client_method_retryable) and either no answer came
 * or, with several endpoints, signetd answered UNAVAILABLE (a draining or
 * failing instance; nanomsg sends the next request to the next one).
 */
int client_call(signet_client *client, const char *method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	uint8_t request_id[WIRE_REQUEST_ID_LEN];
	unsigned attempts = client_method_retryable(method) ? client->retries + 1 : 1, i;
	int64_t deadline = client_now_ms() + client->timeout_ms, left;
	int no_answer = 0, r;

	if ((r = client_new_request_id(client, request_id)) != 0)
		return r;
	for (i = 0; i < attempts; i++) {
		left = deadline - client_now_ms();
		if (i > 0 && left < 1)
			break; /* the last attempt's error stands */
		left = left < 1 ? 1 : left / (attempts - i);
		r = client_attempt(client, method, req, request_id, left < 1 ? 1 : (int)left,
				   resp_desc, resp, &no_answer);
		if (!no_answer && !(r == SIGNET_E_UNAVAILABLE && client->eps.n > 1))
			return r;
	}
	if (i > 1 && r == SIGNET_E_DEADLINE_EXCEEDED)
		r = client_error(client, r,
				 "no answer from signetd at %s within %d ms (%u attempts)",
				 client->endpoint, client->timeout_ms, i);
	return r;
}

void signet_free(void *ptr)
{
	free(ptr);
}

void signet_buf_free(struct signet_buf *buf)
{
	if (buf == NULL)
		return;
	free(buf->data);
	memset(buf, 0, sizeof(*buf));
}
