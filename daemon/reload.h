/*
 * SIGHUP: the configuration file is read again and what can change while
 * requests run is swapped in at once: clients (secrets and rules), profiles,
 * the auth limits, challenge lifetimes, the log level. Settings bound to
 * what start-up built (the token, the endpoints and workers, the state and
 * record files, the challenge table, the user) keep their old values, with
 * a warning naming each that the file changed: a restart applies them.
 *
 * Requests hold the swap lock for read from the first byte checked to the
 * reply (dispatch_request); the swap takes it for write, so no request sees
 * half of a reload, and the old configuration and auth object are freed only
 * once no request can hold them.
 */
#ifndef SIGNETD_RELOAD_H
#define SIGNETD_RELOAD_H

#include <pthread.h>

#include "config/config.h"
#include "rpc/state.h"

struct reload {
	pthread_rwlock_t lock; /* d->swap_lock points here */
	const char *path;      /* the file given with --config */
	struct daemon_state *d;
	struct config *owned; /* the configuration in force after a reload (malloc) */
};

/* Make `d` swappable: requests take rl->lock from now on. `d->cfg` stays the
 * caller's (the start-up configuration, which must outlive reload_fini).
 * -1 only when the lock cannot be made. */
int reload_init(struct reload *rl, const char *path, struct daemon_state *d);

/*
 * Read the file again and, when it is valid and every client's secret can
 * be read, swap it in; the replay memory carries over (auth_carry). Runs on
 * the thread that handles signals, never on a worker. -1 with the reason
 * logged when the reload is refused: the configuration in force stays.
 */
int reload_apply(struct reload *rl);

/* After server_stop: free the configuration a reload left (d->cfg then
 * points at nothing; the caller closes d->auth). */
void reload_fini(struct reload *rl);

/*
 * Give `next` the values of `cur` for every setting a running daemon cannot
 * change, logging a warning that names each one the file changed. The auth
 * window and reorder allowance may shrink but not grow (the replay memory
 * covers only the old ones). Returns how many settings were kept; -1 when
 * out of memory (next is then unfit for use: config_free it).
 */
int reload_keep_fixed(const struct config *cur, struct config *next);

#endif
