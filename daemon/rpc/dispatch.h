/*
 * From the bytes of one request to the bytes of its reply: size check,
 * envelope decoding, version and method checks, payload decoding through the
 * generated service descriptor, the handler, and the reply envelope. Whatever
 * the input, a reply is produced (or the request is dropped when even that
 * cannot be allocated); nothing here aborts.
 */
#ifndef SIGNETD_DISPATCH_H
#define SIGNETD_DISPATCH_H

#include "rpc/rpc.h"
#include "methods.h"

/* One RPC as signetd serves it: a row of proto/methods.def. */
struct dispatch_method {
	const char *name; /* as in the service descriptor */
	rpc_handler handler;
	unsigned flags;		    /* enum signet_method_flag */
	struct authz_fields target; /* what a request names, for authz_check */
};

/* The methods served, in the order of proto/methods.def (the proto's);
 * *n is their number. */
const struct dispatch_method *dispatch_methods(size_t *n);

/*
 * Check a method table against a service: each method of `svc` has exactly
 * one row; each row names a method of `svc`, has a handler, and names as its
 * target only string fields of that method's request. 0, or -1 with the
 * first problem found in err.
 */
int dispatch_check(const struct dispatch_method *table, size_t n,
		   const ProtobufCServiceDescriptor *svc, char *err, size_t errlen);

/* dispatch_check the served methods against `service Signet` and index
 * them by the descriptor's method index (a start-up invariant). */
int dispatch_init(char *err, size_t errlen);

/* The row for a method index of the service descriptor; NULL past the last,
 * or before dispatch_init succeeded. */
const struct dispatch_method *dispatch_method(unsigned method_index);

/* The handler for a method index of the service descriptor, or NULL. */
rpc_handler dispatch_handler(unsigned method_index);

/*
 * Handle one request. `max_len` is the configured message limit. On return
 * *reply holds a packed Reply (malloc) or is NULL when memory ran out.
 */
void dispatch_request(struct daemon_state *d, CK_SESSION_HANDLE session, const uint8_t *msg,
		      size_t len, uint8_t **reply, size_t *reply_len);

#endif
