/*
 * Sessions, login, finding objects, reading attributes and signing: the
 * entry points that work on a session. A session is used by one call at a
 * time (its lock); calls on different sessions run in parallel, each with a
 * libsignet client of its own from the slot's pool.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "p11.h"

#define SESSIONS_MAX 4096

/* The open session `h`, locked; NULL when there is none. */
static struct p11_session *session_get(CK_SESSION_HANDLE h)
{
	struct p11_session *s = NULL;

	pthread_mutex_lock(&p11_mod.table_lock);
	if (h >= 1 && h <= p11_mod.n_sessions)
		s = p11_mod.sessions[h - 1];
	pthread_mutex_unlock(&p11_mod.table_lock);
	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&s->lock);
	if (!s->open) {
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	return s;
}

static void session_put(struct p11_session *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* A call on session `h` begins: the module entered (p11_enter) and the
 * session locked. CKR_SESSION_HANDLE_INVALID, with nothing held, for a handle
 * that is not open. session_leave() ends it. */
static CK_RV session_enter(CK_SESSION_HANDLE h, struct p11_session **out)
{
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if ((*out = session_get(h)) == NULL) {
		p11_leave();
		return CKR_SESSION_HANDLE_INVALID;
	}
	return CKR_OK;
}

static void session_leave(struct p11_session *s)
{
	session_put(s);
	p11_leave();
}

/* A closed session struct to reuse, or a new one; its handle in `*h`. */
static struct p11_session *session_alloc(CK_SESSION_HANDLE *h)
{
	struct p11_session *s = NULL, **t;

	pthread_mutex_lock(&p11_mod.table_lock);
	for (size_t i = 0; i < p11_mod.n_sessions; i++) {
		/* a session busy in a call is open: never wait for its signature here */
		if (pthread_mutex_trylock(&p11_mod.sessions[i]->lock) != 0)
			continue;
		if (!p11_mod.sessions[i]->open) {
			s = p11_mod.sessions[i];
			*h = i + 1;
			break;
		}
		pthread_mutex_unlock(&p11_mod.sessions[i]->lock);
	}
	if (s == NULL && p11_mod.n_sessions < SESSIONS_MAX &&
	    (t = realloc(p11_mod.sessions, (p11_mod.n_sessions + 1) * sizeof(*t))) != NULL) {
		p11_mod.sessions = t;
		if ((s = calloc(1, sizeof(*s))) != NULL) {
			pthread_mutex_init(&s->lock, NULL);
			pthread_mutex_lock(&s->lock);
			t[p11_mod.n_sessions++] = s;
			*h = p11_mod.n_sessions;
		}
	}
	pthread_mutex_unlock(&p11_mod.table_lock);
	return s; /* locked */
}

/* End what `s` was doing and mark it closed; under its lock. */
static void session_close_locked(struct p11_session *s)
{
	struct p11_slot *slot = s->slot;
	int last;

	p11_sign_end(&s->sign);
	free(s->found);
	s->found = NULL;
	s->n_found = s->pos = 0;
	s->finding = 0;
	s->open = 0;
	pthread_mutex_lock(&slot->lock);
	/* the last session gone: the next one reads the keys again (new keys, certificates) */
	if ((last = --slot->n_sessions == 0))
		slot->loaded = 0;
	pthread_mutex_unlock(&slot->lock);
	if (last) { /* PKCS#11: closing a token's last session logs the user out */
		pthread_mutex_lock(&p11_mod.table_lock);
		p11_mod.logged_in = 0;
		pthread_mutex_unlock(&p11_mod.table_lock);
	}
}

void p11_sessions_free(void)
{
	for (size_t i = 0; i < p11_mod.n_sessions; i++) {
		p11_sign_end(&p11_mod.sessions[i]->sign);
		free(p11_mod.sessions[i]->found);
		pthread_mutex_destroy(&p11_mod.sessions[i]->lock);
		free(p11_mod.sessions[i]);
	}
	free(p11_mod.sessions);
	p11_mod.sessions = NULL;
	p11_mod.n_sessions = 0;
}

static struct p11_slot *session_slot(CK_SLOT_ID id)
{
	return id < p11_mod.n_slots ? &p11_mod.slots[id] : NULL;
}

CK_RV C_OpenSession(CK_SLOT_ID slot_id, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
		    CK_SESSION_HANDLE_PTR out)
{
	struct p11_slot *slot;
	struct p11_session *s;
	CK_SESSION_HANDLE h = 0;
	CK_RV rv;

	(void)app;
	(void)notify; /* no callbacks: nothing here is asynchronous */
	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if ((slot = session_slot(slot_id)) == NULL)
		rv = CKR_SLOT_ID_INVALID;
	else if (out == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (!(flags & CKF_SERIAL_SESSION))
		rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (rv != CKR_OK)
		goto out;
	pthread_mutex_lock(&slot->lock);
	if ((rv = p11_slot_load(slot, &p11_mod.cfg)) == CKR_OK)
		slot->n_sessions++;
	pthread_mutex_unlock(&slot->lock);
	if (rv != CKR_OK)
		goto out;
	if ((s = session_alloc(&h)) == NULL) {
		pthread_mutex_lock(&slot->lock);
		if (--slot->n_sessions == 0)
			slot->loaded = 0;
		pthread_mutex_unlock(&slot->lock);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	memset(&s->sign, 0, sizeof(s->sign));
	s->open = 1;
	s->slot = slot;
	s->flags = flags;
	session_put(s);
	*out = h;
out:
	p11_leave();
	return rv;
}

CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	session_close_locked(s);
	session_leave(s);
	return rv;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slot_id)
{
	size_t n;
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if (session_slot(slot_id) == NULL) {
		p11_leave();
		return CKR_SLOT_ID_INVALID;
	}
	pthread_mutex_lock(&p11_mod.table_lock);
	n = p11_mod.n_sessions;
	pthread_mutex_unlock(&p11_mod.table_lock);
	for (CK_SESSION_HANDLE h = 1; h <= n; h++) {
		struct p11_session *s = session_get(h);

		if (s == NULL)
			continue;
		if (s->slot->id == slot_id)
			session_close_locked(s);
		session_put(s);
	}
	p11_leave();
	return CKR_OK;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
	struct p11_session *s;
	CK_RV rv;
	int rw, user;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if ((s = session_get(h)) == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
	} else if (info == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		session_put(s);
	} else {
		pthread_mutex_lock(&p11_mod.table_lock);
		user = p11_mod.logged_in;
		pthread_mutex_unlock(&p11_mod.table_lock);
		rw = (s->flags & CKF_RW_SESSION) != 0;
		info->slotID = s->slot->id;
		info->flags = s->flags;
		info->ulDeviceError = 0;
		info->state = user ? (rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS)
				   : (rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION);
		session_put(s);
	}
	p11_leave();
	return rv;
}

/*
 * C_Login is accepted and changes nothing but the session state: the
 * credential is the client secret of the module's configuration, and the
 * PIN is ignored (docs/pkcs11.md). The token does not ask for a login.
 */
CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
	struct p11_session *s;
	CK_RV rv;

	(void)pin;
	(void)pin_len;
	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if ((s = session_get(h)) == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
		goto out;
	}
	session_put(s);
	pthread_mutex_lock(&p11_mod.table_lock);
	if (user == CKU_SO)
		rv = CKR_USER_TYPE_INVALID; /* nothing here for a security officer to do */
	else if (user == CKU_CONTEXT_SPECIFIC)
		rv = CKR_OK; /* no key asks for it (CKA_ALWAYS_AUTHENTICATE is false) */
	else if (user != CKU_USER)
		rv = CKR_USER_TYPE_INVALID;
	else if (p11_mod.logged_in)
		rv = CKR_USER_ALREADY_LOGGED_IN;
	else
		p11_mod.logged_in = 1;
	pthread_mutex_unlock(&p11_mod.table_lock);
out:
	p11_leave();
	return rv;
}

CK_RV C_Logout(CK_SESSION_HANDLE h)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if ((s = session_get(h)) == NULL) {
		rv = CKR_SESSION_HANDLE_INVALID;
	} else {
		session_put(s);
		pthread_mutex_lock(&p11_mod.table_lock);
		rv = p11_mod.logged_in ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
		p11_mod.logged_in = 0;
		pthread_mutex_unlock(&p11_mod.table_lock);
	}
	p11_leave();
	return rv;
}

/* The object `h` of the session's slot; NULL when there is none. */
static const struct p11_object *session_object(const struct p11_session *s, CK_OBJECT_HANDLE h)
{
	return h >= 1 && h <= s->slot->n_objs ? &s->slot->objs[h - 1] : NULL;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl,
			  CK_ULONG n)
{
	struct p11_session *s;
	const struct p11_object *o;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if ((o = session_object(s, obj)) == NULL)
		rv = CKR_OBJECT_HANDLE_INVALID;
	else if (tmpl == NULL && n > 0)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_object_get(o, tmpl, n);
	session_leave(s);
	return rv;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ULONG_PTR size)
{
	struct p11_session *s;
	const struct p11_object *o;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if ((o = session_object(s, obj)) == NULL)
		rv = CKR_OBJECT_HANDLE_INVALID;
	else if (size == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		*size = CK_UNAVAILABLE_INFORMATION;
	session_leave(s);
	return rv;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if (s->finding)
		rv = CKR_OPERATION_ACTIVE;
	else if (tmpl == NULL && n > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if ((s->found = calloc(s->slot->n_objs + 1, sizeof(*s->found))) == NULL)
		rv = CKR_HOST_MEMORY;
	if (rv == CKR_OK) {
		s->n_found = s->pos = 0;
		for (size_t i = 0; i < s->slot->n_objs; i++)
			if (p11_object_match(&s->slot->objs[i], tmpl, n))
				s->found[s->n_found++] = i + 1;
		s->finding = 1;
	}
	session_leave(s);
	return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if (!s->finding) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else if (count == NULL || (out == NULL && max > 0)) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		*count = 0;
		while (*count < max && s->pos < s->n_found)
			out[(*count)++] = s->found[s->pos++];
	}
	session_leave(s);
	return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if (!s->finding)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	free(s->found);
	s->found = NULL;
	s->finding = 0;
	session_leave(s);
	return rv;
}

CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if (mech == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (s->sign.active)
		rv = CKR_OPERATION_ACTIVE;
	else
		rv = p11_sign_init(&s->sign, mech, session_object(s, key));
	session_leave(s);
	return rv;
}

/* Ask signetd for the signature of what `s`'s operation gathered, into `out`. */
static CK_RV session_sign_remote(struct p11_session *s, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct p11_signop *op = &s->sign;
	uint8_t digest[64];
	size_t digest_len = 0;
	struct signet_sign_params p = {.key = op->key->key_name, .prehashed = 1, .format = op->fmt};
	struct signet_buf sig = {0};
	signet_client *c = NULL;
	CK_RV rv;
	int r;

	if ((rv = p11_sign_digest(op, digest, &digest_len, &p.hash)) != CKR_OK ||
	    (rv = p11_slot_client(s->slot, &p11_mod.cfg, &c)) != CKR_OK)
		return rv;
	p.data = digest;
	p.len = digest_len;
	if ((r = signet_sign(c, &p, &sig, NULL, NULL)) != 0) {
		p11_log("SignNonce '%s': %s", p.key, signet_last_error(c));
		rv = p11_errmap(r);
	} else if (sig.len > *out_len) {
		p11_log("SignNonce '%s': %zu bytes, not %lu", p.key, sig.len,
			(unsigned long)*out_len);
		rv = CKR_DEVICE_ERROR;
	} else {
		memcpy(out, sig.data, sig.len);
		*out_len = sig.len;
	}
	/* a client whose socket broke or timed out is not given to the next caller */
	p11_slot_release(s->slot, c,
			 r == SIGNET_E_TRANSPORT || r == SIGNET_E_DEADLINE_EXCEEDED ||
				 r == SIGNET_E_PROTOCOL);
	signet_buf_free(&sig);
	OPENSSL_cleanse(digest, sizeof(digest));
	return rv;
}

/*
 * The end of C_Sign and C_SignFinal: a length query or a short buffer
 * leaves the operation active (PKCS#11 5.2); anything else ends it.
 */
static CK_RV session_sign_finish(struct p11_session *s, const uint8_t *data, size_t len,
				 CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	int proceed;
	CK_RV rv;

	if (out_len == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto end;
	}
	if ((rv = p11_output_check(out, out_len, s->sign.key->sig_len, &proceed)) != CKR_OK ||
	    !proceed)
		return rv;
	if (data != NULL && (rv = p11_sign_update(&s->sign, data, len)) != CKR_OK)
		goto end;
	rv = session_sign_remote(s, out, out_len);
end:
	p11_sign_end(&s->sign);
	return rv;
}

CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR out,
	     CK_ULONG_PTR out_len)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if (!s->sign.active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (data == NULL && len > 0)
		rv = (p11_sign_end(&s->sign), CKR_ARGUMENTS_BAD);
	else
		rv = session_sign_finish(s, data != NULL ? data : (const uint8_t *)"", len, out,
					 out_len);
	session_leave(s);
	return rv;
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if (!s->sign.active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (data == NULL && len > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if (len > 0)
		rv = p11_sign_update(&s->sign, data, len);
	if (rv != CKR_OK && s->sign.active)
		p11_sign_end(&s->sign);
	session_leave(s);
	return rv;
}

CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct p11_session *s;
	CK_RV rv;

	if ((rv = session_enter(h, &s)) != CKR_OK)
		return rv;
	if (!s->sign.active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else
		rv = session_sign_finish(s, NULL, 0, out, out_len);
	session_leave(s);
	return rv;
}
