/*
 * Authentication of callers: every request's Credential is checked against
 * the client's secret (proto/authmac.h) before its payload is decoded, within
 * a time window, and its nonce may not be used twice inside that window.
 * Also the concurrency limits: requests in flight per client and in all.
 *
 * Secrets are read at start-up from each client's secret_file (mode 0600,
 * as the PIN file), kept in locked pages excluded from core dumps, wiped at
 * close. Nothing here logs or returns a secret.
 */
#ifndef SIGNETD_AUTH_H
#define SIGNETD_AUTH_H

#include <stdint.h>

#include "config/config.h"
#include "base/errmsg.h"
#include "wire.h"

/*
 * Nonces remembered at once, across clients: the replay memory is a table
 * of twice as many 16-byte slots (32 MiB) allocated by auth_open, so it
 * never grows. A nonce is kept until the window has passed its timestamp or
 * its client has sent one stamped auth.reorder_seconds later, so requests
 * are refused only above AUTH_REPLAY_MAX per reorder allowance (100k/s with
 * the default 10 s) from busy clients.
 */
#define AUTH_REPLAY_MAX 1000000

struct auth;
struct auth_client; /* a declared client, as authentication found it */

/* Read every client's secret (and check that each enrolment door's static
 * challenge file reads as one) and allocate the replay memory. -1 with the
 * client or door and the reason in err. */
int auth_open(const struct config *cfg, struct auth **out, char *err, size_t errlen);
void auth_close(struct auth *a);

/*
 * Once at start-up, before serving (now_ms: the daemon's clock): refuse
 * every credential stamped before now_ms. The replay memory of the signetd
 * that ran before is gone, so a request it accepted could otherwise be
 * sent again while its stamp is still inside the window. auth_carry keeps
 * the mark over reloads; once the window has passed it, it refuses nothing
 * the window would not. Not calling it leaves no mark (the unit tests, the
 * fuzz target).
 */
void auth_start(struct auth *a, int64_t now_ms);

/*
 * Who sent `env` (now_ms: the daemon's clock). *who is NULL for an anonymous
 * caller, which only auth.allow_anonymous lets through. UNAUTHENTICATED with
 * the rule in the message: no credential, unknown client, a timestamp
 * outside the window, before auth_start's mark or more than
 * auth.reorder_seconds before the client's newest, a nonce of the wrong
 * size, a MAC that does not verify, a replay. RESOURCE_EXHAUSTED when AUTH_REPLAY_MAX nonces are
 * live.
 */
int auth_authenticate(struct auth *a, const Signet__V1__Envelope *env, int64_t now_ms,
		      struct auth_client **who, struct errmsg *em);

/*
 * A reload: `to` (just opened from the new configuration) takes over the
 * replay memory of `from`, which is in force until now, so no credential
 * accepted before is accepted again. Clients are matched by name: one that
 * stays keeps its newest stamp; the nonces of one that is gone are kept
 * until the window passes them, in case it comes back. A window or reorder
 * allowance wider in `to` than in `from` is narrowed to `from`'s: the
 * nonces outside the old allowance are forgotten already. `from`'s start
 * mark (auth_start) comes too. The caller
 * guarantees no request uses either object meanwhile; `from` is then only
 * fit for auth_close(), and must still have its configuration.
 */
void auth_carry(struct auth *to, struct auth *from);

/* The client's declaration; NULL for an anonymous caller. */
const struct client_def *auth_client_def(const struct auth_client *who);

/* Take a concurrency slot for `who` (NULL: anonymous, counted in the total
 * only); RESOURCE_EXHAUSTED naming the limit. auth_leave gives it back. */
int auth_enter(struct auth *a, struct auth_client *who, struct errmsg *em);
void auth_leave(struct auth *a, struct auth_client *who);

#endif
