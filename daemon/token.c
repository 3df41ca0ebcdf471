#include "token.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void copy_field(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src != NULL ? src : "");
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

static PKCS11_SLOT *token_find_slot(struct token *t, const struct p11uri *uri, char *err,
				    size_t errlen)
{
	PKCS11_SLOT *found = NULL;
	unsigned int matches = 0;

	for (unsigned int i = 0; i < t->n_slots; i++) {
		PKCS11_SLOT *s = &t->slots[i];
		PKCS11_TOKEN *tk = s->token;

		if (tk == NULL || !tk->initialized)
			continue;
		if (!p11uri_matches(uri, tk->label, tk->manufacturer, tk->model, tk->serialnr,
				    PKCS11_get_slotid_from_slot(s)))
			continue;
		if (matches++ == 0)
			found = s;
	}
	if (matches == 0)
		snprintf(err, errlen, "no initialized token matches the configured token URI");
	else if (matches > 1)
		snprintf(err, errlen,
			 "%u tokens match the configured token URI; name the token by serial",
			 matches);
	return matches == 1 ? found : NULL;
}

int token_open(struct token *t, const char *module, const struct p11uri *uri, char *err,
	       size_t errlen)
{
	PKCS11_SLOT *slot;

	memset(t, 0, sizeof(*t));
	t->login_session = CK_INVALID_HANDLE;
	atomic_init(&t->state, TOKEN_UP);
	atomic_init(&t->generation, 1);
	if (pthread_mutex_init(&t->recover, NULL) != 0 ||
	    pthread_mutex_init(&t->state_lock, NULL) != 0) {
		snprintf(err, errlen, "cannot create the token's locks");
		return -1;
	}
	t->locks_ready = 1;
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
	if (PKCS11_enumerate_slots(t->ctx, &t->slots, &t->n_slots) != 0) {
		snprintf(err, errlen, "%s: cannot list slots", module);
		return -1;
	}
	slot = token_find_slot(t, uri, err, errlen);
	if (slot == NULL)
		return -1;
	t->slot_id = PKCS11_get_slotid_from_slot(slot);
	copy_field(t->label, sizeof(t->label), slot->token->label);
	copy_field(t->manufacturer, sizeof(t->manufacturer), slot->token->manufacturer);
	copy_field(t->model, sizeof(t->model), slot->token->model);
	copy_field(t->serial, sizeof(t->serial), slot->token->serialnr);
	return token_bind_functions(t, module, err, errlen);
}

/* Read the PIN flags fresh from the module: libp11's copy is from load time.
 * -1: the flags forbid a login; 1: the module did not answer (*rv_out). */
static int token_check_pin_flags(struct token *t, CK_FLAGS *flags, CK_RV *rv_out, char *err,
				 size_t errlen)
{
	CK_TOKEN_INFO info;
	char buf[32];
	CK_RV rv = t->fn->C_GetTokenInfo(t->slot_id, &info);

	if (rv != CKR_OK) {
		*rv_out = rv;
		snprintf(err, errlen, "C_GetTokenInfo: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return 1;
	}
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

/* Failures that mean the token itself is gone or broken, not one session. */
static int token_gone(CK_RV rv)
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

unsigned long token_generation(struct token *t)
{
	return atomic_load(&t->generation);
}

/* Under t->recover: log in again on the login session, reopening it when the
 * module forgot it. */
static void token_relogin_locked(struct token *t)
{
	char err[256];
	CK_RV rv;
	int refused;

	if (atomic_load(&t->state) != TOKEN_UP)
		return;
	if (t->login_session != CK_INVALID_HANDLE)
		t->fn->C_CloseSession(t->login_session);
	t->login_session = CK_INVALID_HANDLE;
	t->logged_in = 0;
	if (token_do_login(t, &refused, &rv, err, sizeof(err)) == 0) {
		log_info("token: logged in again");
		return;
	}
	if (refused)
		token_mark_failed(t, rv, err);
	else if (token_gone(rv))
		token_mark_down(t, rv);
	else
		log_warn("token: logging in again failed: %s", err);
}

/* Under t->recover: one attempt to bring a down token back. */
static int token_reopen_locked(struct token *t, char *err, size_t errlen, CK_RV *rv_out)
{
	CK_TOKEN_INFO info;
	char buf[32];
	int refused;
	CK_RV rv = t->fn->C_GetTokenInfo(t->slot_id, &info);

	*rv_out = rv;
	if (rv != CKR_OK) {
		snprintf(err, errlen, "C_GetTokenInfo: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
	}
	/* Every session of the lost token is void: start from none, then log in. */
	t->fn->C_CloseAllSessions(t->slot_id);
	t->login_session = CK_INVALID_HANDLE;
	t->logged_in = 0;
	if (token_do_login(t, &refused, rv_out, err, errlen) != 0) {
		if (refused)
			token_mark_failed(t, *rv_out, err);
		return -1;
	}
	return 0;
}

void token_maintain(struct token *t)
{
	char err[256];
	CK_RV rv;
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
	if (token_reopen_locked(t, err, sizeof(err), &rv) == 0) {
		atomic_fetch_add(&t->generation, 1);
		pthread_mutex_lock(&t->state_lock);
		atomic_store(&t->state, TOKEN_UP);
		pthread_mutex_unlock(&t->state_lock);
		log_info("token: back; sessions reopened and logged in again");
	} else {
		long wait_ms;

		pthread_mutex_lock(&t->state_lock);
		t->backoff_ms = t->backoff_ms * 2 > TOKEN_BACKOFF_MAX_MS ? TOKEN_BACKOFF_MAX_MS
									 : t->backoff_ms * 2;
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

void token_fault(struct token *t, CK_RV rv, CK_SESSION_HANDLE *session)
{
	char buf[32];

	/*
	 * Any other failure may leave an operation active on the session (a
	 * C_Sign the token failed without ending it makes the next C_SignInit
	 * CKR_OPERATION_ACTIVE). A new session costs one call; start clean.
	 */
	if (session != NULL && *session != CK_INVALID_HANDLE && !token_session_unaffected(rv)) {
		if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED)
			log_warn("token: a worker's session was lost (%s); reopening it",
				 p11_rv_name(rv, buf, sizeof(buf)));
		t->fn->C_CloseSession(*session);
		*session = CK_INVALID_HANDLE;
	}
	if (rv == CKR_USER_NOT_LOGGED_IN) {
		log_warn("token: the login was lost; logging in again");
		pthread_mutex_lock(&t->recover);
		token_relogin_locked(t);
		pthread_mutex_unlock(&t->recover);
	} else if (token_gone(rv)) {
		token_mark_down(t, rv);
	}
}

void token_session_refresh(struct token *t, CK_SESSION_HANDLE *session, unsigned long *gen)
{
	unsigned long now_gen = atomic_load(&t->generation);
	struct errmsg em = {0};

	if (atomic_load(&t->state) != TOKEN_UP)
		return;
	if (*session != CK_INVALID_HANDLE && *gen == now_gen)
		return;
	if (*session != CK_INVALID_HANDLE)
		t->fn->C_CloseSession(*session); /* of a token since recovered: void anyway */
	*session = CK_INVALID_HANDLE;
	if (token_session_open(t, session, &em) != 0) {
		*session = CK_INVALID_HANDLE;
		log_warn("token: cannot reopen a worker's session: %s", em.text);
		token_fault(t, p11_take_failure(), NULL);
		return;
	}
	*gen = now_gen;
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
	int st;

	token_maintain(t);
	st = atomic_load(&t->state);
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
		token_fault(t, rv, NULL);
		snprintf(state, statelen, "C_GetTokenInfo: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return p11_err(rv);
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

void token_close(struct token *t)
{
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
		if (t->slots != NULL)
			PKCS11_release_all_slots(t->ctx, t->slots, t->n_slots);
		PKCS11_CTX_unload(t->ctx);
		PKCS11_CTX_free(t->ctx);
	}
	t->ctx = NULL;
	t->slots = NULL;
	secret_free(&t->pin);
	if (t->locks_ready) {
		pthread_mutex_destroy(&t->recover);
		pthread_mutex_destroy(&t->state_lock);
	}
	t->locks_ready = 0;
}
