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

#include "rpc.h"

struct worker {
	struct server *srv;
	CK_SESSION_HANDLE session;
	pthread_t thread;
	int running;
};

struct server {
	struct daemon_state *d;
	int sock;
	struct worker *workers;
	unsigned n_workers;
	size_t n_bound; /* endpoints bound so far: only their ipc files are ours to remove */
	atomic_bool stopping;
};

/* Open sessions, bind endpoints, start workers. -1 and a message on failure. */
int server_start(struct server *srv, struct daemon_state *d, char *err, size_t errlen);

/* Let workers finish the request in hand, then close the socket, remove ipc
 * socket files and close the sessions. */
void server_stop(struct server *srv);

#endif
