/*
 * The layout of struct token, for hsm/ (and unit tests of it) alone: other
 * layers hold a pointer and ask the functions of hsm/token.h, so the locks,
 * the kept PIN and the recovery state cannot be reached around them.
 */
#ifndef SIGNETD_TOKEN_INTERNAL_H
#define SIGNETD_TOKEN_INTERNAL_H

#include <libp11.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "hsm/token.h"

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
	atomic_uint general_errors; /* requests in a row that met CKR_GENERAL_ERROR */

	/*
	 * Some modules fail (SoftHSM 2.6: CKR_GENERAL_ERROR) when an object is
	 * created or destroyed while another thread looks objects up. With
	 * serialize_objects, look-ups hold `objects` shared and creation and
	 * destruction hold it exclusively (token_objects_*).
	 */
	pthread_rwlock_t objects;
	atomic_int serialize_objects;
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
/* Requests in a row that meet CKR_GENERAL_ERROR, with C_GetTokenInfo still
 * answering, before the token is taken for down all the same. */
#define TOKEN_GENERAL_ERROR_LIMIT 3

/* Failures that mean the token itself is gone or broken, not one session:
 * token_leave() marks it down for them. */
int token_gone(CK_RV rv);

/* The wait before the next recovery attempt after one that failed: twice
 * the last, at most TOKEN_BACKOFF_MAX_MS (the first is TOKEN_BACKOFF_MIN_MS). */
long token_backoff_next(long backoff_ms);

#endif
