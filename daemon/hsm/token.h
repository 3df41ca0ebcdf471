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

#include "hsm/p11.h"
#include "hsm/p11uri.h"
#include "base/secret.h"

/* Opaque: its layout is hsm/token_internal.h, for hsm/ alone. */
struct token;

/* A thread's own session on the token, and the recovery it was opened after. */
struct token_user {
	CK_SESSION_HANDLE session; /* CK_INVALID_HANDLE after a loss, until reopened */
	unsigned long generation;
};

/* Load `module`, find exactly one initialized token matching `uri` (kept for
 * finding it again) and give it in *out (release with token_close). -1 and a
 * message on failure, with nothing left loaded and *out NULL. */
int token_open(struct token **out, const char *module, const struct p11uri *uri, char *err,
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

/*
 * The token's own word that it is there, for a look-up that found nothing
 * before it answers NOT_FOUND or an empty list: a token that lost its
 * objects (SoftHSM with its files gone) finds nothing for every search.
 * 0 when C_GetTokenInfo answers; else UNAVAILABLE naming the failure, with
 * the token marked down for recovery (token_maintain). One PKCS#11 call:
 * for misses only, never for the signing path.
 */
int token_confirm(struct token *t, struct errmsg *em);

/*
 * Keep object creation and destruction apart from object look-ups, on a
 * token that needs it (token_set_serialize_objects; on by default for
 * SoftHSM, whose 2.6 releases fail C_GenerateKeyPair with CKR_GENERAL_ERROR
 * when a look-up races it). A look-up (C_FindObjects*, C_GetAttributeValue)
 * goes between token_objects_lookup() and token_objects_done(); a
 * C_GenerateKeyPair or C_DestroyObject between token_objects_change() and
 * token_objects_done(). Not nested; nothing else is held meanwhile. No-ops
 * when the token does not need them.
 */
void token_objects_lookup(struct token *t);
void token_objects_change(struct token *t);
void token_objects_done(struct token *t);

/* Turn that rule on (1) or off (0); set after token_open(), before any request. */
void token_set_serialize_objects(struct token *t, int on);
/* Is it on? */
int token_serializes_objects(const struct token *t);

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
 * is marked down for token_maintain(). So is one that answers
 * CKR_GENERAL_ERROR and then fails C_GetTokenInfo too, or meets it
 * TOKEN_GENERAL_ERROR_LIMIT requests in a row; its first recovery attempt
 * re-initializes the module, whose state is unknown. Not nested.
 */
void token_enter(struct token *t, struct token_user *u);
void token_leave(struct token *t, struct token_user *u);

/* A new read/write session for one worker thread. */
int token_session_open(struct token *t, CK_SESSION_HANDLE *out, struct errmsg *em);
void token_session_close(struct token *t, CK_SESSION_HANDLE session);

/* Is the token there and answering? Writes "ok" or the reason ("down:
 * CKR_DEVICE_REMOVED since ..., retrying") into state; UNAVAILABLE when down.
 * A C_GetTokenInfo that fails, whatever the code, marks the token down. */
int token_health(struct token *t, char *state, size_t statelen);

/* Random bytes from the token's generator. */
int token_random(struct token *t, CK_SESSION_HANDLE session, unsigned char *buf, size_t len,
		 struct errmsg *em);

/* Can the token generate key pairs with `mechanism` (a *_KEY_PAIR_GEN),
 * `bits` long (0: whatever size)? 1 or 0; a module that cannot say is taken
 * at its word, as no. Not a fault: the token's state is left alone. */
int token_can_generate(struct token *t, CK_MECHANISM_TYPE mechanism, CK_ULONG bits);

/* The token's identity as read at start-up (CK_TOKEN_INFO, trailing blanks
 * trimmed). The strings live as long as the token. */
const char *token_label(const struct token *t);
const char *token_serial(const struct token *t);
const char *token_model(const struct token *t);
const char *token_manufacturer(const struct token *t);

/* The slot the token is in now; it may change when a recovery re-initializes
 * the module, so read it between token_enter() and token_leave(). */
CK_SLOT_ID token_slot_id(const struct token *t);

/* Log out, close the login session, unload the module, free the token.
 * NULL is fine; no other thread may be using the token. */
void token_close(struct token *t);

#endif
