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

/* Check that every method of `service Signet` has a handler (a start-up invariant). */
int dispatch_init(char *err, size_t errlen);

/* The handler for a method index of the service descriptor, or NULL. */
rpc_handler dispatch_handler(unsigned method_index);

/*
 * Handle one request. `max_len` is the configured message limit. On return
 * *reply holds a packed Reply (malloc) or is NULL when memory ran out.
 */
void dispatch_request(struct daemon_state *d, CK_SESSION_HANDLE session, const uint8_t *msg,
		      size_t len, uint8_t **reply, size_t *reply_len);

#endif
