/*
 * Keeps published CRLs fresh. With records.crl_publish_dir set, a thread
 * re-signs the CRL of every CA key (current and earlier ones) at start-up and
 * every records.crl_refresh_seconds, on a token session of its own, so a
 * published CRL never passes its nextUpdate while signetd runs, revocations
 * or not. Each signing is an act in the audit trail (caller "signetd"). A
 * session lost to a token fault is reopened, like a worker's, at the next
 * refresh after the token is back.
 *
 * Hosts sharing one PostgreSQL database sign their CRLs on one host at a
 * time: the one holding the database's advisory lock (ledger_lead). It
 * keeps each CRL it signs in the database; the others write that one into
 * their own publish directories at each refresh, and take the lead when
 * its holder stops or loses the database.
 */
#ifndef SIGNETD_CRLPUB_H
#define SIGNETD_CRLPUB_H

#include <pthread.h>

#include "hsm/token.h"
#include "rpc/state.h"

struct crlpub {
	struct daemon_state *d;
	struct token_user tu; /* the publisher's own session */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int running;
	int leading; /* at the last refresh: 1 signing, 0 copying, -1 before the first */
};

/* Start the thread (nothing to do without a publish directory). */
int crlpub_start(struct crlpub *p, struct daemon_state *d, char *err, size_t errlen);
/* Stop it; safe when it never started. */
void crlpub_stop(struct crlpub *p);

#endif
