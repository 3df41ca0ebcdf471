#include "hsm/token_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

/* A CK_TOKEN_INFO field, blank-padded and unterminated, as a C string. */
static void info_field(char *dst, size_t dstlen, const CK_UTF8CHAR *src, size_t srclen)
{
	size_t n = srclen;

	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Borrow the function list of the module libp11 has loaded: same handle, so
 * the same C_Initialize'd instance. */
static int token_bind_functions(struct token *t, const char *module, char *err, size_t errlen)
{
	CK_C_GetFunctionList get_list;
	CK_RV rv;

	t->dl = dlopen(module, RTLD_NOW | RTLD_NOLOAD);
	if (t->dl == NULL) {
		snprintf(err, errlen, "%s: module not resident after load: %s", module, dlerror());
		return -1;
	}
	*(void **)(&get_list) = dlsym(t->dl, "C_GetFunctionList");
	if (get_list == NULL) {
		snprintf(err, errlen, "%s: no C_GetFunctionList", module);
		return -1;
	}
	rv = get_list(&t->fn);
	if (rv != CKR_OK || t->fn == NULL) {
		snprintf(err, errlen, "%s: C_GetFunctionList failed", module);
		return -1;
	}
	return 0;
}

/* The slots with a token in them; *ids is the caller's to free. */
static CK_RV token_list_slots(struct token *t, CK_SLOT_ID **ids, CK_ULONG *n)
{
	CK_RV rv;

	*ids = NULL;
	/* The list can grow between the two calls: ask again until it fits. */
	for (int tries = 0; tries < 3; tries++) {
		CK_SLOT_ID *grown;

		if ((rv = t->fn->C_GetSlotList(CK_TRUE, NULL, n)) != CKR_OK)
			break;
		if ((grown = realloc(*ids, (*n + 1) * sizeof(**ids))) == NULL) {
			rv = CKR_HOST_MEMORY;
			break;
		}
		*ids = grown;
		if ((rv = t->fn->C_GetSlotList(CK_TRUE, *ids, n)) != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rv;
}

/* Does the token in this slot match the URI and, once known, the serial
 * number of the token signetd logged into at start-up? */
static int token_is_ours(const struct token *t, CK_SLOT_ID id, const CK_TOKEN_INFO *info)
{
	char label[33], manufacturer[33], model[17], serial[17];

	if (!(info->flags & CKF_TOKEN_INITIALIZED))
		return 0;
	info_field(label, sizeof(label), info->label, sizeof(info->label));
	info_field(manufacturer, sizeof(manufacturer), info->manufacturerID,
		   sizeof(info->manufacturerID));
	info_field(model, sizeof(model), info->model, sizeof(info->model));
	info_field(serial, sizeof(serial), info->serialNumber, sizeof(info->serialNumber));
	if (t->serial[0] != '\0' && strcmp(serial, t->serial) != 0)
		return 0;
	return p11uri_matches(&t->uri, label, manufacturer, model, serial, id);
}

/*
 * Find the one token that is ours (token_is_ours) among the module's slots
 * now, and make its slot t->slot_id. -1 and a message when there is none or
 * more than one; *rv_out is the module's failure, if it failed.
 */
static int token_find_slot(struct token *t, CK_RV *rv_out, char *err, size_t errlen)
{
	CK_SLOT_ID *ids = NULL, found = 0;
	CK_TOKEN_INFO info;
	CK_ULONG n = 0;
	unsigned matches = 0;
	char buf[32];

	if ((*rv_out = token_list_slots(t, &ids, &n)) != CKR_OK) {
		snprintf(err, errlen, "C_GetSlotList: %s", p11_rv_name(*rv_out, buf, sizeof(buf)));
		return -1;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		if (t->fn->C_GetTokenInfo(ids[i], &info) != CKR_OK ||
		    !token_is_ours(t, ids[i], &info))
			continue;
		if (matches++ == 0)
			found = ids[i];
	}
	free(ids);
	if (matches == 1) {
		t->slot_id = found;
		return 0;
	}
	*rv_out = CKR_TOKEN_NOT_PRESENT;
	if (matches == 0)
		snprintf(err, errlen, "no initialized token matches the configured token URI%s",
			 t->serial[0] != '\0' ? " and the serial number signetd started with" : "");
	else
		snprintf(err, errlen,
			 "%u tokens match the configured token URI; name the token by serial",
			 matches);
	return -1;
}

/* C_GetTokenInfo of our slot; -1 and a message, *rv_out the module's answer. */
static int token_info(struct token *t, CK_TOKEN_INFO *info, CK_RV *rv_out, char *err, size_t errlen)
{
	char buf[32];

	*rv_out = t->fn->C_GetTokenInfo(t->slot_id, info);
	if (*rv_out == CKR_OK)
		return 0;
	snprintf(err, errlen, "C_GetTokenInfo: %s", p11_rv_name(*rv_out, buf, sizeof(buf)));
	return -1;
}

/* Remember which token this is: a re-initialization must find the same one. */
static int token_note_identity(struct token *t, char *err, size_t errlen)
{
	CK_TOKEN_INFO info;
	CK_RV rv;

	if (token_info(t, &info, &rv, err, errlen) != 0)
		return -1;
	info_field(t->label, sizeof(t->label), info.label, sizeof(info.label));
	info_field(t->manufacturer, sizeof(t->manufacturer), info.manufacturerID,
		   sizeof(info.manufacturerID));
	info_field(t->model, sizeof(t->model), info.model, sizeof(info.model));
	info_field(t->serial, sizeof(t->serial), info.serialNumber, sizeof(info.serialNumber));
	return 0;
}

static int token_init_locks(struct token *t, char *err, size_t errlen)
{
	pthread_rwlockattr_t attr;
	int ok;

	/* Writer first: a waiting re-initialization holds back new requests
	 * instead of waiting for a moment when none is in the module. */
	ok = pthread_rwlockattr_init(&attr) == 0;
	ok = ok && pthread_rwlockattr_setkind_np(&attr,
						 PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) == 0;
	ok = ok && pthread_rwlock_init(&t->use, &attr) == 0;
	pthread_rwlockattr_destroy(&attr);
	if (!ok) {
		snprintf(err, errlen, "cannot create the token's locks");
		return -1;
	}
	if (pthread_mutex_init(&t->recover, NULL) != 0 ||
	    pthread_mutex_init(&t->state_lock, NULL) != 0 ||
	    pthread_rwlock_init(&t->objects, NULL) != 0) {
		snprintf(err, errlen, "cannot create the token's locks");
		return -1;
	}
	t->locks_ready = 1;
	return 0;
}

/* Load the module and find the token in it; token_close() undoes a part done. */
static int token_load(struct token *t, const char *module, const struct p11uri *uri, char *err,
		      size_t errlen)
{
	CK_RV rv;

	t->login_session = CK_INVALID_HANDLE;
	t->uri = *uri;
	atomic_init(&t->state, TOKEN_UP);
	atomic_init(&t->generation, 1);
	if (token_init_locks(t, err, errlen) != 0)
		return -1;
	t->ctx = PKCS11_CTX_new();
	if (t->ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (PKCS11_CTX_load(t->ctx, module) != 0) {
		snprintf(err, errlen, "cannot load PKCS#11 module %s", module);
		PKCS11_CTX_free(t->ctx);
		t->ctx = NULL;
		return -1;
	}
	if (token_bind_functions(t, module, err, errlen) != 0 ||
	    token_find_slot(t, &rv, err, errlen) != 0 || token_note_identity(t, err, errlen) != 0)
		return -1;
	/* SoftHSM 2.6 races object creation against look-ups (docs/configuration.md). */
	atomic_init(&t->serialize_objects, strncmp(t->manufacturer, "SoftHSM", 7) == 0);
	return 0;
}

int token_open(struct token **out, const char *module, const struct p11uri *uri, char *err,
	       size_t errlen)
{
	struct token *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (token_load(t, module, uri, err, errlen) != 0) {
		token_close(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* Read the PIN flags fresh from the module: libp11's copy is from load time.
 * -1: the flags forbid a login; 1: the module did not answer (*rv_out). */
static int token_check_pin_flags(struct token *t, CK_FLAGS *flags, CK_RV *rv_out, char *err,
				 size_t errlen)
{
	CK_TOKEN_INFO info;

	if (token_info(t, &info, rv_out, err, errlen) != 0)
		return 1;
	*flags = info.flags;
	if (info.flags & CKF_USER_PIN_LOCKED) {
		snprintf(err, errlen, "the token's user PIN is locked; unlock it with the SO PIN");
		return -1;
	}
	if (info.flags & CKF_USER_PIN_FINAL_TRY) {
		snprintf(err, errlen,
			 "one more wrong PIN would lock the token; refusing to try. Check the "
			 "PIN file, then reset the retry counter with a correct login");
		return -1;
	}
	if (!(info.flags & CKF_USER_PIN_INITIALIZED)) {
		snprintf(err, errlen, "the token's user PIN is not initialized");
		return -1;
	}
	return 0;
}

/* Open the login session and log in with the kept PIN. *refused: the token
 * said no to the PIN itself, which must never be tried again. */
static int token_do_login(struct token *t, int *refused, CK_RV *rv_out, char *err, size_t errlen)
{
	CK_FLAGS flags;
	char buf[32];
	CK_RV rv;
	int r;

	*refused = 0;
	*rv_out = CKR_OK;
	if ((r = token_check_pin_flags(t, &flags, rv_out, err, errlen)) != 0) {
		*refused = r < 0; /* locked or one try from it: as final as a wrong PIN */
		return -1;
	}
	rv = t->fn->C_OpenSession(t->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				  &t->login_session);
	if (rv != CKR_OK) {
		*rv_out = rv;
		snprintf(err, errlen, "C_OpenSession: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
	}
	if (!(flags & CKF_LOGIN_REQUIRED))
		return 0;
	if (t->pin.buf == NULL) {
		*refused = 1;
		snprintf(err, errlen, "no PIN kept to log in with");
		return -1;
	}
	rv = t->fn->C_Login(t->login_session, CKU_USER, (CK_UTF8CHAR_PTR)t->pin.buf,
			    (CK_ULONG)t->pin.len);
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID ||
	    rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED) {
		*refused = 1;
		*rv_out = rv;
		snprintf(err, errlen,
			 "the token refused the PIN (%s); not retrying, since retries can lock "
			 "the token",
			 p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		*rv_out = rv;
		snprintf(err, errlen, "C_Login: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
	}
	t->logged_in = 1;
	return 0;
}

int token_login(struct token *t, const struct secret *pin, char *err, size_t errlen)
{
	CK_RV rv;
	int refused;

	if (secret_dup(pin, &t->pin, err, errlen) != 0)
		return -1;
	if (token_do_login(t, &refused, &rv, err, errlen) != 0) {
		secret_free(&t->pin);
		return -1;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int token_gone(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_ERROR ||
	       rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

static void token_mark_down(struct token *t, CK_RV rv)
{
	char buf[32];
	int was;

	pthread_mutex_lock(&t->state_lock);
	was = atomic_load(&t->state);
	if (was == TOKEN_UP) {
		t->down_rv = rv;
		t->down_since = time(NULL);
		t->backoff_ms = TOKEN_BACKOFF_MIN_MS;
		t->next_retry_ms = now_ms() + t->backoff_ms;
		t->attempts = 0;
		atomic_store(&t->general_errors, 0);
		atomic_store(&t->state, TOKEN_DOWN);
	}
	pthread_mutex_unlock(&t->state_lock);
	if (was == TOKEN_UP)
		log_error("token: %s; answering UNAVAILABLE until it is back",
			  p11_rv_name(rv, buf, sizeof(buf)));
}

/* A re-login the token refused: stop for good, the PIN is not tried again. */
static void token_mark_failed(struct token *t, CK_RV rv, const char *why)
{
	pthread_mutex_lock(&t->state_lock);
	if (atomic_load(&t->state) == TOKEN_UP) {
		t->down_since = time(NULL);
	}
	t->down_rv = rv;
	atomic_store(&t->state, TOKEN_FAILED);
	pthread_mutex_unlock(&t->state_lock);
	secret_free(&t->pin);
	log_error("token: cannot log in again: %s; restart signetd once the token is fixed", why);
}

int token_check(struct token *t, struct errmsg *em)
{
	char state[160];

	if (atomic_load(&t->state) == TOKEN_UP)
		return 0;
	token_health(t, state, sizeof(state));
	return errmsg_set(em, SIGNET_E_UNAVAILABLE, "token %s", state);
}

int token_confirm(struct token *t, struct errmsg *em)
{
	CK_TOKEN_INFO info;
	char buf[32];
	CK_RV rv;
	int r;

	if ((r = token_check(t, em)) != 0)
		return r;
	rv = t->fn->C_GetTokenInfo(t->slot_id, &info);
	if (rv == CKR_OK)
		return 0;
	token_mark_down(t, rv);
	return errmsg_set(em, SIGNET_E_UNAVAILABLE, "C_GetTokenInfo: %s",
			  p11_rv_name(rv, buf, sizeof(buf)));
}

void token_objects_lookup(struct token *t)
{
	if (atomic_load(&t->serialize_objects))
		pthread_rwlock_rdlock(&t->objects);
}

void token_objects_change(struct token *t)
{
	if (atomic_load(&t->serialize_objects))
		pthread_rwlock_wrlock(&t->objects);
}

void token_objects_done(struct token *t)
{
	if (atomic_load(&t->serialize_objects))
		pthread_rwlock_unlock(&t->objects);
}

void token_set_serialize_objects(struct token *t, int on)
{
	atomic_store(&t->serialize_objects, on != 0);
}

int token_serializes_objects(const struct token *t)
{
	return atomic_load(&((struct token *)t)->serialize_objects);
}

unsigned long token_generation(struct token *t)
{
	return atomic_load(&t->generation);
}

/* Under t->recover: log in on a fresh login session, or mark the token
 * failed when the PIN itself was refused. */
static int token_login_fresh(struct token *t, char *err, size_t errlen, CK_RV *rv_out)
{
	int refused;

	t->login_session = CK_INVALID_HANDLE;
	t->logged_in = 0;
	if (token_do_login(t, &refused, rv_out, err, errlen) == 0)
		return 0;
	if (refused)
		token_mark_failed(t, *rv_out, err);
	return -1;
}

/* Under t->recover: log in again on a new login session. */
static void token_relogin_locked(struct token *t)
{
	char err[256];
	CK_RV rv;

	if (atomic_load(&t->state) != TOKEN_UP)
		return;
	if (t->login_session != CK_INVALID_HANDLE)
		t->fn->C_CloseSession(t->login_session);
	if (token_login_fresh(t, err, sizeof(err), &rv) == 0)
		log_info("token: logged in again");
	else if (token_gone(rv))
		token_mark_down(t, rv);
	else if (atomic_load(&t->state) == TOKEN_UP)
		log_warn("token: logging in again failed: %s", err);
}

/* Under t->recover: look for the token in its old slot and log in again. */
static int token_reopen_locked(struct token *t, char *err, size_t errlen, CK_RV *rv_out)
{
	CK_TOKEN_INFO info;

	if (token_info(t, &info, rv_out, err, errlen) != 0)
		return -1;
	if (!token_is_ours(t, t->slot_id, &info)) {
		*rv_out = CKR_TOKEN_NOT_RECOGNIZED;
		snprintf(err, errlen, "slot %lu holds another token now",
			 (unsigned long)t->slot_id);
		return -1;
	}
	/* Every session of the lost token is void: start from none, then log in. */
	atomic_fetch_add(&t->generation, 1);
	t->fn->C_CloseAllSessions(t->slot_id);
	return token_login_fresh(t, err, errlen, rv_out);
}

/*
 * Under t->recover: C_Finalize and C_Initialize the module, find the token
 * wherever it is now, and log in. Some modules see a token that was
 * re-plugged, or a network HSM that failed over, only after a fresh
 * C_Initialize, and may give it another slot id. PKCS#11 allows no other
 * call in flight during C_Finalize, so this waits for every thread to leave
 * the module (token_leave) and holds new ones back, for a bounded time.
 */
static int token_reinit_locked(struct token *t, char *err, size_t errlen, CK_RV *rv_out)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_SLOT_ID old_slot = t->slot_id;
	struct timespec until;
	char buf[32];
	int r = -1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TOKEN_REINIT_WAIT_MS / 1000;
	until.tv_nsec += (TOKEN_REINIT_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (pthread_rwlock_timedwrlock(&t->use, &until) != 0) {
		*rv_out = CKR_FUNCTION_FAILED;
		snprintf(err, errlen,
			 "calls still in the module after %d ms; re-initialization "
			 "put off",
			 TOKEN_REINIT_WAIT_MS);
		return -1;
	}
	/* Sessions, object handles and the login end with C_Finalize. */
	atomic_fetch_add(&t->generation, 1);
	t->login_session = CK_INVALID_HANDLE;
	t->logged_in = 0;
	(void)t->fn->C_Finalize(NULL);
	*rv_out = t->fn->C_Initialize(&args);
	if (*rv_out != CKR_OK && *rv_out != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		snprintf(err, errlen, "C_Initialize: %s", p11_rv_name(*rv_out, buf, sizeof(buf)));
		goto out;
	}
	t->reinits++;
	if (token_find_slot(t, rv_out, err, errlen) != 0 ||
	    token_login_fresh(t, err, errlen, rv_out) != 0)
		goto out;
	log_info("token: module re-initialized (%lu so far); token '%s' found in slot %lu%s",
		 t->reinits, t->label, (unsigned long)t->slot_id,
		 t->slot_id != old_slot ? ", not its old slot" : "");
	r = 0;
out:
	pthread_rwlock_unlock(&t->use);
	return r;
}

/* Under t->recover: one recovery attempt, the module re-initialized from
 * TOKEN_REINIT_FROM_ATTEMPT on. */
static int token_recover_locked(struct token *t, char *err, size_t errlen)
{
	CK_RV rv;
	int unknown;

	/* A module that failed without naming why is in a state of its own
	 * making (SoftHSM with its files gone stays broken until it is
	 * initialized again): only a re-initialization is worth trying. */
	pthread_mutex_lock(&t->state_lock);
	unknown = t->down_rv == CKR_GENERAL_ERROR;
	pthread_mutex_unlock(&t->state_lock);
	if (!unknown && token_reopen_locked(t, err, errlen, &rv) == 0)
		return 0;
	if (atomic_load(&t->state) != TOKEN_DOWN ||
	    (++t->attempts < TOKEN_REINIT_FROM_ATTEMPT && !unknown))
		return -1;
	return token_reinit_locked(t, err, errlen, &rv);
}

long token_backoff_next(long backoff_ms)
{
	return backoff_ms * 2 > TOKEN_BACKOFF_MAX_MS ? TOKEN_BACKOFF_MAX_MS : backoff_ms * 2;
}

void token_maintain(struct token *t)
{
	char err[256];
	int due;

	if (atomic_load(&t->state) != TOKEN_DOWN)
		return;
	pthread_mutex_lock(&t->state_lock);
	due = now_ms() >= t->next_retry_ms;
	pthread_mutex_unlock(&t->state_lock);
	/* One worker tries; the others go on answering UNAVAILABLE meanwhile. */
	if (!due || pthread_mutex_trylock(&t->recover) != 0)
		return;
	if (atomic_load(&t->state) != TOKEN_DOWN) {
		pthread_mutex_unlock(&t->recover);
		return;
	}
	if (token_recover_locked(t, err, sizeof(err)) == 0) {
		pthread_mutex_lock(&t->state_lock);
		atomic_store(&t->state, TOKEN_UP);
		pthread_mutex_unlock(&t->state_lock);
		log_info("token: back; sessions reopened and logged in again");
	} else if (atomic_load(&t->state) == TOKEN_DOWN) {
		long wait_ms;

		pthread_mutex_lock(&t->state_lock);
		t->backoff_ms = token_backoff_next(t->backoff_ms);
		t->next_retry_ms = now_ms() + t->backoff_ms;
		wait_ms = t->backoff_ms;
		pthread_mutex_unlock(&t->state_lock);
		log_debug("token: still down (%s); next try in %ld ms", err, wait_ms);
	}
	pthread_mutex_unlock(&t->recover);
}

/* Failures that say nothing about the session: an attribute a key lacks or hides. */
static int token_session_unaffected(CK_RV rv)
{
	return rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
	       rv == CKR_BUFFER_TOO_SMALL;
}

/*
 * CKR_GENERAL_ERROR names no cause: one request's bad luck (SoftHSM 2.6's
 * races) or a module that lost its token (SoftHSM with its files gone). The
 * token is asked (C_GetTokenInfo): down when that fails too, or when the
 * error met TOKEN_GENERAL_ERROR_LIMIT requests in a row.
 */
static int token_general_error_down(struct token *t, CK_RV rv)
{
	CK_TOKEN_INFO info;

	if (rv != CKR_GENERAL_ERROR)
		return 0;
	if (atomic_fetch_add(&t->general_errors, 1) + 1 >= TOKEN_GENERAL_ERROR_LIMIT)
		return 1;
	return t->fn->C_GetTokenInfo(t->slot_id, &info) != CKR_OK;
}

/*
 * React to `rv`, a failure met by u's thread (u may be NULL): u's session is
 * dropped so the next token_enter() opens a new one; a lost login
 * (USER_NOT_LOGGED_IN) is logged into again now; a token that is gone
 * (DEVICE_REMOVED, TOKEN_NOT_PRESENT, DEVICE_ERROR, ...) is marked down and
 * left to token_maintain().
 */
static void token_fault(struct token *t, CK_RV rv, struct token_user *u)
{
	char buf[32];

	/*
	 * Any other failure may leave an operation active on the session (a
	 * C_Sign the token failed without ending it makes the next C_SignInit
	 * CKR_OPERATION_ACTIVE). A new session costs one call; start clean.
	 * A session from before the last recovery is closed already, and its
	 * handle may name someone else's session now: only forgotten.
	 */
	if (u != NULL && u->session != CK_INVALID_HANDLE && !token_session_unaffected(rv)) {
		if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED)
			log_warn("token: a worker's session was lost (%s); reopening it",
				 p11_rv_name(rv, buf, sizeof(buf)));
		if (u->generation == atomic_load(&t->generation))
			t->fn->C_CloseSession(u->session);
		u->session = CK_INVALID_HANDLE;
	}
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		/* Whoever holds `recover` is logging in already, or re-initializing
		 * and waiting for this thread to leave the module: never wait. */
		if (pthread_mutex_trylock(&t->recover) == 0) {
			log_warn("token: the login was lost; logging in again");
			token_relogin_locked(t);
			pthread_mutex_unlock(&t->recover);
		}
	} else if (token_gone(rv) || token_general_error_down(t, rv)) {
		token_mark_down(t, rv);
	}
}

/* Make u's session usable: reopened when it was lost or opened before the
 * last recovery. Nothing while the token is down. */
static void token_session_refresh(struct token *t, struct token_user *u)
{
	unsigned long now_gen = atomic_load(&t->generation);
	struct errmsg em = {0};

	if (atomic_load(&t->state) != TOKEN_UP)
		return;
	if (u->session != CK_INVALID_HANDLE && u->generation == now_gen)
		return;
	/* An older generation's session was closed by the recovery; its handle
	 * may be reused by now, so it is not closed again. */
	u->session = CK_INVALID_HANDLE;
	if (token_session_open(t, &u->session, &em) != 0) {
		u->session = CK_INVALID_HANDLE;
		log_warn("token: cannot reopen a worker's session: %s", em.text);
		token_fault(t, p11_take_failure(), NULL);
		return;
	}
	u->generation = now_gen;
}

void token_enter(struct token *t, struct token_user *u)
{
	pthread_rwlock_rdlock(&t->use);
	token_session_refresh(t, u);
	(void)p11_take_failure(); /* only what happens from here on counts */
}

void token_leave(struct token *t, struct token_user *u)
{
	CK_RV rv = p11_take_failure();

	if (rv != CKR_OK)
		token_fault(t, rv, u);
	else
		atomic_store(&t->general_errors, 0);
	pthread_rwlock_unlock(&t->use);
}

int token_session_open(struct token *t, CK_SESSION_HANDLE *out, struct errmsg *em)
{
	CK_RV rv = t->fn->C_OpenSession(t->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
					out);

	return rv == CKR_OK ? 0 : p11_fail(em, rv, "C_OpenSession");
}

void token_session_close(struct token *t, CK_SESSION_HANDLE session)
{
	if (t->fn != NULL && session != CK_INVALID_HANDLE)
		t->fn->C_CloseSession(session);
}

int token_health(struct token *t, char *state, size_t statelen)
{
	CK_TOKEN_INFO info;
	char buf[32], since[32];
	struct tm tm;
	CK_RV rv;
	int st = atomic_load(&t->state);

	if (st != TOKEN_UP) {
		pthread_mutex_lock(&t->state_lock);
		gmtime_r(&t->down_since, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(state, statelen, "down: %s since %s, %s",
			 p11_rv_name(t->down_rv, buf, sizeof(buf)), since,
			 st == TOKEN_DOWN ? "retrying" : "the PIN was refused; not retrying");
		pthread_mutex_unlock(&t->state_lock);
		return SIGNET_E_UNAVAILABLE;
	}
	/* Health is how an idle daemon notices a removed token: ask the module. */
	rv = t->fn->C_GetTokenInfo(t->slot_id, &info);
	if (rv != CKR_OK) {
		/* A token that cannot say it is there is as good as gone, whatever
		 * the code (SoftHSM with its files gone: CKR_GENERAL_ERROR). */
		token_mark_down(t, rv);
		snprintf(state, statelen, "C_GetTokenInfo: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return SIGNET_E_UNAVAILABLE;
	}
	snprintf(state, statelen, "ok");
	return 0;
}

int token_random(struct token *t, CK_SESSION_HANDLE session, unsigned char *buf, size_t len,
		 struct errmsg *em)
{
	CK_RV rv;
	int r;

	if ((r = token_check(t, em)) != 0)
		return r;
	rv = t->fn->C_GenerateRandom(session, buf, (CK_ULONG)len);
	return rv == CKR_OK ? 0 : p11_fail(em, rv, "C_GenerateRandom");
}

int token_can_generate(struct token *t, CK_MECHANISM_TYPE mechanism, CK_ULONG bits)
{
	CK_MECHANISM_INFO info;

	if (t->fn->C_GetMechanismInfo(t->slot_id, mechanism, &info) != CKR_OK)
		return 0;
	if (!(info.flags & CKF_GENERATE_KEY_PAIR))
		return 0;
	/* EC modules report field sizes in bits; RSA ones modulus sizes. */
	return bits == 0 || (bits >= info.ulMinKeySize && bits <= info.ulMaxKeySize);
}

const char *token_label(const struct token *t)
{
	return t->label;
}

const char *token_serial(const struct token *t)
{
	return t->serial;
}

const char *token_model(const struct token *t)
{
	return t->model;
}

const char *token_manufacturer(const struct token *t)
{
	return t->manufacturer;
}

CK_SLOT_ID token_slot_id(const struct token *t)
{
	return t->slot_id;
}

void token_close(struct token *t)
{
	if (t == NULL)
		return;
	if (t->fn != NULL && t->login_session != CK_INVALID_HANDLE) {
		if (t->logged_in)
			t->fn->C_Logout(t->login_session);
		t->fn->C_CloseSession(t->login_session);
	}
	t->login_session = CK_INVALID_HANDLE;
	t->logged_in = 0;
	t->fn = NULL;
	if (t->dl != NULL)
		dlclose(t->dl);
	t->dl = NULL;
	if (t->ctx != NULL) {
		PKCS11_CTX_unload(t->ctx);
		PKCS11_CTX_free(t->ctx);
	}
	t->ctx = NULL;
	secret_free(&t->pin);
	if (t->locks_ready) {
		pthread_rwlock_destroy(&t->use);
		pthread_mutex_destroy(&t->recover);
		pthread_mutex_destroy(&t->state_lock);
		pthread_rwlock_destroy(&t->objects);
	}
	free(t);
}
