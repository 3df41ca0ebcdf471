/*
 * The token: the PKCS#11 module loaded through libp11, the slot chosen by the
 * configured URI, and the login that all of signetd's sessions share.
 *
 * libp11 loads the module (C_Initialize with CKF_OS_LOCKING_OK). Finding the
 * token, sessions, login and key operations go straight to the module's
 * function list instead of libp11's slot and key API, because libp11 0.4
 * keeps a heap copy of the PIN after login and a key cache that is not safe
 * to use from several threads, and because a module re-initialized after a
 * fault must be searched again without libp11's stale slot list; see
 * docs/architecture.md.
 *
 * Every thread that calls into the module does so between token_enter() and
 * token_leave() (the workers around each request, the CRL publisher around
 * each refresh). Recovery may have to C_Finalize and C_Initialize the module
 * again, which PKCS#11 forbids while any other call is in flight: it takes
 * the same lock exclusively.
 */
#ifndef SIGNETD_TOKEN_H
#define SIGNETD_TOKEN_H

#include <libp11.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "hsm/p11.h"
#include "hsm/p11uri.h"
#include "base/secret.h"

struct token {
	PKCS11_CTX *ctx;
	CK_FUNCTION_LIST *fn; /* the module's own function list */
	void *dl;	      /* our dlopen reference to the module libp11 loaded */
	struct p11uri uri;    /* kept to find the token again after a re-initialization */
	CK_SLOT_ID slot_id;   /* changes only under the exclusive `use` lock */
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
	pthread_rwlock_t use;	 /* shared: a call into the module; exclusive: re-initializing it */
	pthread_mutex_t recover; /* held by the one thread logging in again */
	pthread_mutex_t state_lock; /* guards the down_* fields and next_retry_ms */
	atomic_int state;	    /* enum token_state */
	atomic_ulong generation; /* bumped when a recovery voids every session and object handle */
	CK_RV down_rv;
	time_t down_since;
	long long next_retry_ms; /* CLOCK_MONOTONIC */
	long backoff_ms;
	unsigned attempts;     /* recovery attempts since the token went down (under recover) */
	unsigned long reinits; /* module re-initializations since start-up (under recover) */
};

/* A thread's own session on the token, and the recovery it was opened after. */
struct token_user {
	CK_SESSION_HANDLE session; /* CK_INVALID_HANDLE after a loss, until reopened */
	unsigned long generation;
};

enum token_state {
	TOKEN_UP = 0,
	TOKEN_DOWN =
		1, /* removed or failing: requests answered UNAVAILABLE, retried with backoff */
	TOKEN_FAILED = 2, /* the PIN was refused on a re-login: not retried, needs a restart */
};

#define TOKEN_BACKOFF_MIN_MS 100
#define TOKEN_BACKOFF_MAX_MS 5000
/* From this recovery attempt on, each attempt re-initializes the module:
 * the first only looks for the token in its old slot. */
#define TOKEN_REINIT_FROM_ATTEMPT 2
/* How long a re-initialization waits for calls in flight to leave the module. */
#define TOKEN_REINIT_WAIT_MS 1000

/* Load `module`, find exactly one initialized token matching `uri` (kept for
 * finding it again). -1 and a message on failure. */
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

/* Incremented by each recovery as it closes every session; a session or cached
 * object handle from an older generation is void, and its number may be reused. */
unsigned long token_generation(struct token *t);

/*
 * For a down token whose retry is due: one recovery attempt, after which the
 * next waits twice as long, up to TOKEN_BACKOFF_MAX_MS. The first attempt
 * looks for the token in its slot (close the old sessions, open a login
 * session, log in again); later ones C_Finalize and C_Initialize the module,
 * find the token by its URI and serial number wherever its slot is now, and
 * log in. Cheap when nothing is due. Called by workers between requests,
 * never between token_enter() and token_leave(): a re-initialization waits
 * (up to TOKEN_REINIT_WAIT_MS, else it is put off) for every other thread to
 * leave the module.
 */
void token_maintain(struct token *t);

/*
 * Begin calling into the module: hold it against re-initialization, reopen
 * u's session when it was lost or opened before the last recovery (not
 * while the token is down), and forget earlier PKCS#11 failures of this
 * thread. token_leave() acts on the failures met in between and lets go:
 * the session is dropped after any failure that may have left it unusable,
 * a lost login (USER_NOT_LOGGED_IN) is logged into again at once, and a
 * token that is gone (DEVICE_REMOVED, TOKEN_NOT_PRESENT, DEVICE_ERROR, ...)
 * is marked down for token_maintain(). Not nested.
 */
void token_enter(struct token *t, struct token_user *u);
void token_leave(struct token *t, struct token_user *u);

/* A new read/write session for one worker thread. */
int token_session_open(struct token *t, CK_SESSION_HANDLE *out, struct errmsg *em);
void token_session_close(struct token *t, CK_SESSION_HANDLE session);

/* Is the token there and answering? Writes "ok" or the reason ("down:
 * CKR_DEVICE_REMOVED since ..., retrying") into state; UNAVAILABLE when down. */
int token_health(struct token *t, char *state, size_t statelen);

/* Random bytes from the token's generator. */
int token_random(struct token *t, CK_SESSION_HANDLE session, unsigned char *buf, size_t len,
		 struct errmsg *em);

/* Can the token generate key pairs with `mechanism` (a *_KEY_PAIR_GEN),
 * `bits` long (0: whatever size)? 1 or 0; a module that cannot say is taken
 * at its word, as no. Not a fault: the token's state is left alone. */
int token_can_generate(struct token *t, CK_MECHANISM_TYPE mechanism, CK_ULONG bits);

/* Log out, close the login session, unload the module. Safe on a zeroed
 * struct; no other thread may be using the token. */
void token_close(struct token *t);

#endif
