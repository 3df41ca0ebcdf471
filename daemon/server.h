/*
 * The serving side: one raw nanomsg REP socket bound to every configured
 * endpoint, and a pool of worker threads that each receive, dispatch and
 * answer requests on their own token session. A raw socket lets several
 * requests be in flight at once; each reply carries the routing header of
 * its request back.
 */
#ifndef SIGNETD_SERVER_H
#define SIGNETD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "hsm/token.h"
#include "rpc/state.h"

struct worker {
	struct server *srv;
	struct token_user tu; /* this worker's own session */
	pthread_t thread;
	int running;
};

struct server {
	struct daemon_state *d;
	int sock;
	struct worker *workers;
	unsigned n_workers;
	size_t n_bound; /* endpoints bound so far: only their ipc files are ours to remove */
	uid_t owner;	/* ipc directories and sockets are chowned to owner:group; -1: not */
	gid_t group;
	atomic_bool stopping;
	/* Held by the one worker waiting in nn_recvmsg (leader/followers). */
	pthread_mutex_t receiving;
};

/*
 * Bind every endpoint, while signetd may still be root. A missing ipc socket
 * directory is created 0750; sockets are made 0660. When owner is not
 * (uid_t)-1, both are chowned to owner:group (the user signetd is about to
 * become). -1 and a message on failure; server_stop() cleans up either way.
 */
int server_listen(struct server *srv, struct daemon_state *d, uid_t owner, gid_t group, char *err,
		  size_t errlen);

/* Open sessions and start the workers of a listening server. -1 and a message on failure. */
int server_start(struct server *srv, char *err, size_t errlen);

/* Let workers finish the request in hand, then close the socket, remove ipc
 * socket files and close the sessions. */
void server_stop(struct server *srv);

#endif
