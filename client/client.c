/* The client handle and the one transport path shared by every RPC. */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

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
 * A fresh REQ socket. The resend interval is longer than the timeout so that
 * nanomsg never repeats a request (GenerateKey is not idempotent) while we
 * still wait for its answer.
 */
static int client_open_socket(signet_client *client)
{
	int resend_ivl = client->timeout_ms <= INT_MAX - 1000 ? client->timeout_ms + 1000 : INT_MAX;
	int sock, r;

	if ((sock = nn_socket(AF_SP, NN_REQ)) < 0)
		return client_error(client, SIGNET_E_TRANSPORT, "cannot create a socket: %s",
				    nn_strerror(nn_errno()));
	if (client_setopt(sock, NN_SOL_SOCKET, NN_SNDTIMEO, client->timeout_ms) < 0 ||
	    client_setopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, client->timeout_ms) < 0 ||
	    client_setopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, (int)CLIENT_MAX_MESSAGE) < 0 ||
	    client_setopt(sock, NN_REQ, NN_REQ_RESEND_IVL, resend_ivl) < 0) {
		r = client_error(client, SIGNET_E_TRANSPORT, "cannot configure the socket: %s",
				 nn_strerror(nn_errno()));
		goto out;
	}
	/* nanomsg connects lazily: this only fails for an unusable address. */
	if (nn_connect(sock, client->endpoint) < 0) {
		r = client_error(client, SIGNET_E_INVALID_ARGUMENT, "cannot use endpoint '%s': %s",
				 client->endpoint, nn_strerror(nn_errno()));
		goto out;
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
	if (strlen(endpoint) >= CLIENT_ENDPOINT_MAX)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((client = calloc(1, sizeof(*client))) == NULL)
		return SIGNET_E_NOMEM;
	client->sock = -1;
	client->timeout_ms = timeout_ms > 0 ? timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
	snprintf(client->endpoint, sizeof(client->endpoint), "%s", endpoint);
	if ((r = client_open_socket(client)) != 0)
		goto out;
	*out = client;
	client = NULL; /* transferred */
out:
	signet_close(client);
	return r;
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

static int client_new_request_id(signet_client *client, uint8_t *id)
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

static int client_transport_error(signet_client *client, const char *what)
{
	int e = nn_errno();

	client_reset_socket(client);
	if (e == ETIMEDOUT || e == EAGAIN)
		return client_error(client, SIGNET_E_DEADLINE_EXCEEDED,
				    "no answer from signetd at %s within %d ms", client->endpoint,
				    client->timeout_ms);
	return client_error(client, SIGNET_E_TRANSPORT, "cannot %s signetd at %s: %s", what,
			    client->endpoint, nn_strerror(e));
}

int client_call(signet_client *client, const char *method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	uint8_t request_id[WIRE_REQUEST_ID_LEN];
	uint8_t *envelope = NULL;
	void *reply = NULL;
	size_t envelope_len = 0;
	int n, r;

	if (client->sock < 0 && (r = client_open_socket(client)) != 0)
		return r;
	if ((r = client_new_request_id(client, request_id)) != 0 ||
	    (r = client_pack_envelope(client, method, req, request_id, &envelope, &envelope_len)) !=
		    0)
		goto out;
	if (nn_send(client->sock, envelope, envelope_len, 0) < 0) {
		r = client_transport_error(client, "send to");
		goto out;
	}
	if ((n = nn_recv(client->sock, &reply, NN_MSG, 0)) < 0) {
		r = client_transport_error(client, "receive from");
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
