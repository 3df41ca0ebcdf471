/*
 * libsignet internals: the client handle and the one generic call path that
 * every RPC goes through (envelope out, reply in, errors mapped once).
 */
#ifndef SIGNET_CLIENT_H
#define SIGNET_CLIENT_H

#include <signet/signet.h>

#include "endpoints.h"
#include "wire.h"

struct credential;

#define CLIENT_DEFAULT_TIMEOUT_MS 30000
/* Largest reply accepted; nanomsg drops anything bigger before we see it. */
#define CLIENT_MAX_MESSAGE (64u * 1024 * 1024)
#define CLIENT_ERROR_MAX   512
#define CLIENT_RETRIES_MAX 10

struct signet_client {
	int sock;	  /* nanomsg NN_REQ socket connected to every endpoint, -1 when closed */
	int timeout_ms;	  /* the deadline of one call, all its attempts together */
	unsigned retries; /* attempts after the first, for calls safe to repeat */
	char endpoint[ENDPOINT_LIST_MAX]; /* as given: one address or a list */
	struct endpoints eps;
	char last_error[CLIENT_ERROR_MAX];
	struct credential *cred; /* NULL: requests carry no credential */
};

/*
 * 1 when `method` may be sent again with the same request id after an
 * attempt that got no answer: it changes nothing (reads, SignNonce,
 * CreateCsr, VerifyChain), or signetd answers a repeated request id with the
 * first result (SignCsr, SignCsrBatch item by item, IssueVerificationCertificate).
 */
int client_method_retryable(const char *method);

/* WIRE_REQUEST_ID_LEN random bytes into id: 0, or SIGNET_E_INTERNAL with
 * the client's error set. */
int client_new_request_id(signet_client *client, uint8_t *id);

/*
 * Send `method` with request `req`; on SIGNET_OK `*resp` is the unpacked
 * response (free with protobuf_c_message_free_unpacked). On failure the
 * client's last error says why and `*resp` is untouched.
 */
int client_call(signet_client *client, const char *method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);

/* Record the reason for a failure and return `err`. */
int client_error(signet_client *client, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* strdup that maps NULL to "" so converted structs never hold NULL strings. */
char *client_strdup(const char *s);
/* Copy `len` bytes into a fresh allocation (NULL only on failure; len 0 is fine). */
uint8_t *client_memdup(const uint8_t *data, size_t len);

/* Copy `in` into `out`; an empty `in` gives {NULL, 0}. 0 or SIGNET_E_NOMEM. */
int client_buf_dup(struct signet_buf *out, const ProtobufCBinaryData *in);
/*
 * A reply's DER and (when pem_out is not NULL) PEM out to the caller: both
 * written, or neither. 0 or SIGNET_E_NOMEM.
 */
int client_der_pem_out(const ProtobufCBinaryData *der, const char *pem, struct signet_buf *der_out,
		       char **pem_out);

#endif
