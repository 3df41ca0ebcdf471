/*
 * libsignet internals: the client handle and the one generic call path that
 * every RPC goes through (envelope out, reply in, errors mapped once).
 */
#ifndef SIGNET_CLIENT_H
#define SIGNET_CLIENT_H

#include <signet/signet.h>

#include "wire.h"

struct credential;

#define CLIENT_DEFAULT_TIMEOUT_MS 30000
/* Largest reply accepted; nanomsg drops anything bigger before we see it. */
#define CLIENT_MAX_MESSAGE  (64u * 1024 * 1024)
#define CLIENT_ERROR_MAX    512
#define CLIENT_ENDPOINT_MAX 256

struct signet_client {
	int sock; /* nanomsg NN_REQ socket, -1 when closed */
	int timeout_ms;
	char endpoint[CLIENT_ENDPOINT_MAX];
	char last_error[CLIENT_ERROR_MAX];
	struct credential *cred; /* NULL: requests carry no credential */
};

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
