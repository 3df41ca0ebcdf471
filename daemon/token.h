/*
 * The token: the PKCS#11 module loaded through libp11, the slot chosen by the
 * configured URI, and the login that all of signetd's sessions share.
 *
 * libp11 loads the module (C_Initialize with CKF_OS_LOCKING_OK) and finds the
 * token. Sessions, login and key operations go straight to the module's
 * function list instead of libp11's key API, because libp11 0.4 keeps a heap
 * copy of the PIN after login and a key cache that is not safe to use from
 * several threads; see docs/architecture.md.
 */
#ifndef SIGNETD_TOKEN_H
#define SIGNETD_TOKEN_H

#include <libp11.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "p11.h"
#include "p11uri.h"
#include "secret.h"

struct token {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int n_slots;
	CK_FUNCTION_LIST *fn; /* the module's own function list */
	void *dl;	      /* our dlopen reference to the module libp11 loaded */
	CK_SLOT_ID slot_id;
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	CK_SESSION_HANDLE login_session; /* kept open: closing the last session logs out */
	int logged_in;

	/*
	 * Recovery from a token that went away or forgot the login. The PIN is
	 * kept (a locked page of our own) so the token can be logged into again
	 * without main.c; a PIN the token refuses once is wiped, never retried.
	 */
	struct secret pin;
	int locks_ready;
	pthread_mutex_t recover;    /* held by the one thread logging in again */
	pthread_mutex_t state_lock; /* guards the down_* fields and next_retry_ms */
	atomic_int state;	    /* enum token_state */
	atomic_ulong generation; /* bumped by every recovery: older sessions and handles are void */
	CK_RV down_rv;
	time_t down_since;
	long long next_retry_ms; /* CLOCK_MONOTONIC */
	long backoff_ms;
};

enum token_state {
	TOKEN_UP = 0,
	TOKEN_DOWN =
		1, /* removed or failing: requests answered UNAVAILABLE, retried with backoff */
	TOKEN_FAILED = 2, /* the PIN was refused on a re-login: not retried, needs a restart */
};

#define TOKEN_BACKOFF_MIN_MS 100
#define TOKEN_BACKOFF_MAX_MS 5000

/* Load `module`, find exactly one token matching `uri`. -1 and a message on failure. */
int token_open(struct token *t, const char *module, const struct p11uri *uri, char *err,
	       size_t errlen);

/*
 * Log in as the user with `pin`. Checks the token's PIN flags first and
 * refuses to try when the PIN is locked or one failure away from locking; a
 * rejected PIN is reported and never retried. The token keeps its own copy
 * of the PIN (locked, out of core dumps) for logging in again after a fault;
 * the caller still owns and wipes `pin`.
 */
int token_login(struct token *t, const struct secret *pin, char *err, size_t errlen);

/* 0 when the token is up; otherwise UNAVAILABLE and why, at once, without
 * touching the module (a removed token must not make requests wait). */
int token_check(struct token *t, struct errmsg *em);

/* Incremented by each recovery; a cached object handle from an older one is void. */
unsigned long token_generation(struct token *t);

/*
 * React to `rv`, a failure a request on `*session` met (p11_take_failure()).
 * The session (lost, or perhaps left with an operation active) is closed and
 * set to CK_INVALID_HANDLE so token_session_refresh() opens a new one; a lost
 * login (USER_NOT_LOGGED_IN) is logged into again now; a token that is gone
 * (DEVICE_REMOVED, TOKEN_NOT_PRESENT, DEVICE_ERROR, ...) is marked down and
 * recovered by token_maintain(). session may be NULL.
 */
void token_fault(struct token *t, CK_RV rv, CK_SESSION_HANDLE *session);

/* For a down token whose retry is due: one recovery attempt (find the token,
 * close the old sessions, open a login session, log in again), after which
 * the next waits twice as long, up to TOKEN_BACKOFF_MAX_MS. Cheap otherwise;
 * called by every worker between requests. */
void token_maintain(struct token *t);

/* Make a worker's session usable: reopened when it was lost or opened before
 * the last recovery (*gen records the generation it belongs to). Does
 * nothing while the token is down. */
void token_session_refresh(struct token *t, CK_SESSION_HANDLE *session, unsigned long *gen);

/* A new read/write session for one worker thread. */
int token_session_open(struct token *t, CK_SESSION_HANDLE *out, struct errmsg *em);
void token_session_close(struct token *t, CK_SESSION_HANDLE session);

/* Is the token there and answering? Writes "ok" or the reason ("down:
 * CKR_DEVICE_REMOVED since ..., retrying") into state; UNAVAILABLE when down. */
int token_health(struct token *t, char *state, size_t statelen);

/* Random bytes from the token's generator. */
int token_random(struct token *t, CK_SESSION_HANDLE session, unsigned char *buf, size_t len,
		 struct errmsg *em);

/* Log out, close the login session, unload the module. Safe on a zeroed struct. */
void token_close(struct token *t);

#endif
