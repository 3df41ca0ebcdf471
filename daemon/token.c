#include "token.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

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

/* Read the PIN flags fresh from the module: libp11's copy is from load time. */
static int token_check_pin_flags(struct token *t, CK_FLAGS *flags, char *err, size_t errlen)
{
	CK_TOKEN_INFO info;
	char buf[32];
	CK_RV rv = t->fn->C_GetTokenInfo(t->slot_id, &info);

	if (rv != CKR_OK) {
		snprintf(err, errlen, "C_GetTokenInfo: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
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

int token_login(struct token *t, const struct secret *pin, char *err, size_t errlen)
{
	CK_FLAGS flags;
	char buf[32];
	CK_RV rv;

	if (token_check_pin_flags(t, &flags, err, errlen) != 0)
		return -1;
	rv = t->fn->C_OpenSession(t->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				  &t->login_session);
	if (rv != CKR_OK) {
		snprintf(err, errlen, "C_OpenSession: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
	}
	if (!(flags & CKF_LOGIN_REQUIRED))
		return 0;
	rv = t->fn->C_Login(t->login_session, CKU_USER, (CK_UTF8CHAR_PTR)pin->buf,
			    (CK_ULONG)pin->len);
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID) {
		snprintf(err, errlen,
			 "the token refused the PIN (%s); not retrying, since retries can lock "
			 "the token",
			 p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		snprintf(err, errlen, "C_Login: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return -1;
	}
	t->logged_in = 1;
	return 0;
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
	char buf[32];
	CK_RV rv = t->fn->C_GetTokenInfo(t->slot_id, &info);

	if (rv != CKR_OK) {
		snprintf(state, statelen, "C_GetTokenInfo: %s", p11_rv_name(rv, buf, sizeof(buf)));
		return p11_err(rv);
	}
	snprintf(state, statelen, "ok");
	return 0;
}

int token_random(struct token *t, CK_SESSION_HANDLE session, unsigned char *buf, size_t len,
		 struct errmsg *em)
{
	CK_RV rv = t->fn->C_GenerateRandom(session, buf, (CK_ULONG)len);

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
}
