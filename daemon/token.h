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
};

/* Load `module`, find exactly one token matching `uri`. -1 and a message on failure. */
int token_open(struct token *t, const char *module, const struct p11uri *uri, char *err,
	       size_t errlen);

/*
 * Log in as the user with `pin`. Checks the token's PIN flags first and
 * refuses to try when the PIN is locked or one failure away from locking; a
 * rejected PIN is reported and never retried.
 */
int token_login(struct token *t, const struct secret *pin, char *err, size_t errlen);

/* A new read/write session for one worker thread. */
int token_session_open(struct token *t, CK_SESSION_HANDLE *out, struct errmsg *em);
void token_session_close(struct token *t, CK_SESSION_HANDLE session);

/* Is the token there and answering? Writes "ok" or the reason into state. */
int token_health(struct token *t, char *state, size_t statelen);

/* Random bytes from the token's generator. */
int token_random(struct token *t, CK_SESSION_HANDLE session, unsigned char *buf, size_t len,
		 struct errmsg *em);

/* Log out, close the login session, unload the module. Safe on a zeroed struct. */
void token_close(struct token *t);

#endif
