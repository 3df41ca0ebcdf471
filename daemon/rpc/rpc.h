/*
 * Request handling: one handler per RPC, named process_<method>(). A handler
 * gets the decoded request, does the work on its worker's session, and either
 * calls rpc_respond() with its response and returns 0, or returns a negative
 * enum signet_err with a message in rq->em.
 */
#ifndef SIGNETD_RPC_H
#define SIGNETD_RPC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "records/audit.h"
#include "access/auth.h"
#include "access/authz.h"
#include "ca/casign.h"
#include "ca/castore.h"
#include "possession/challenge.h"
#include "config/config.h"
#include "base/errmsg.h"
#include "hsm/keystore.h"
#include "records/issued.h"
#include "records/ledger.h"
#include "hsm/token.h"
#include "rpc/state.h"
#include "wire.h"

#define RPC_OBJECT_MAX 192

struct rpc {
	struct daemon_state *d;
	CK_SESSION_HANDLE session;	 /* this worker's own token session */
	const uint8_t *request_id;	 /* WIRE_REQUEST_ID_LEN bytes, from the envelope */
	const char *caller;		 /* the envelope's client name; "" when none */
	const struct client_def *client; /* its rules; NULL for an anonymous caller */
	char object[RPC_OBJECT_MAX];	 /* what the act was on, for the audit trail */
	struct errmsg em;
	uint8_t *out; /* packed response payload (malloc) */
	size_t out_len;
};

typedef int (*rpc_handler)(struct rpc *rq, const ProtobufCMessage *request);

/* Name what the request acts on ("ca=issuing serial=0A1B"), for the audit trail. */
void rpc_object(struct rpc *rq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pack `response` as the reply payload. */
int rpc_respond(struct rpc *rq, const ProtobufCMessage *response);

/* The handlers, one per row of proto/methods.def:
 * int process_<handler>(struct rpc *rq, const ProtobufCMessage *request); */
#define SIGNET_METHOD(name, handler, flags, target)                                                \
	int process_##handler(struct rpc *rq, const ProtobufCMessage *request);
#include "methods.def"

/* The rest of rpc.c: what several handlers share. */

/* Zeroed room for the n entries (of `size` bytes) of a reply's repeated field,
 * or for the pointers to them: at least one, since calloc(0) may return NULL
 * and an empty list is no error. NULL, with RESOURCE_EXHAUSTED in rq->em, when
 * memory is short. */
void *rpc_entries(struct rpc *rq, size_t n, size_t size);

/* For the handlers that sign with a CA: its entry and token key (release
 * with ca_release() and key_put()); NOT_FOUND for an unknown CA. */
int rpc_ca_load(struct rpc *rq, const char *name, struct ca *ca, struct key **key);

/* The request's session and key store as a signer for casign, with its
 * messages going to rq->em. */
struct casign_signer rpc_signer(struct rpc *rq);

/* The ledger entry of a certificate the request made (with the request's id
 * when with_request_id), not recorded yet: for a handler that records
 * several at once (ledger_record_batch). The audit object names its serial.
 * Release with issued_entry_release(). */
int rpc_issued_entry(struct rpc *rq, X509 *cert, const char *ca, const char *issuer_key,
		     const char *profile, int with_request_id, struct issued_entry *ie);
/* Record a certificate the request made, durably, before it is returned
 * (with the request's id when with_request_id, so a retry finds it);
 * ALREADY_EXISTS when this caller's request id was recorded already. */
int rpc_record_issued(struct rpc *rq, X509 *cert, const char *ca, const char *issuer_key,
		      const char *profile, int with_request_id);
/* A CA certificate's place in the CA's history ("create", "renew", "rekey",
 * "import"), recorded durably. */
int rpc_record_ca(struct rpc *rq, const char *name, const char *event, const char *key, X509 *cert);
/* The certificate this caller's request id already got, if any: 0 and *out;
 * NOT_FOUND when none; ALREADY_EXISTS when it was for another CA. */
int rpc_find_retry(struct rpc *rq, const char *ca, X509 **out);

/* A chain_revoked_fn (pki/chainverify.h) asking the ledger, `arg` the struct
 * rpc: revoked if the ledger holds this very certificate (same DER) revoked;
 * certificates signet did not issue are not in it. */
int rpc_ledger_revoked(void *arg, X509 *cert, char *why, size_t whylen);

/* DER (OPENSSL_malloc'd, one per certificate) and concatenated PEM (malloc) of a chain. */
int rpc_chain_encode(STACK_OF(X509) * chain, ProtobufCBinaryData *ders, char **pem);

#endif
