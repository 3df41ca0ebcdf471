#include "hsm/keystore_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "base/namecheck.h"
#include "hsm/pubkey.h"
#include "hsm/token_internal.h"

static const CK_BBOOL ck_true = CK_TRUE;
static const CK_BBOOL ck_false = CK_FALSE;

int keystore_name_valid(const char *name)
{
	return name_valid(name, KEY_NAME_MAX);
}

/* The key name rule as the caller's error, in the one wording every entry point gives. */
static int key_name_check(const char *name, struct errmsg *em)
{
	return name_check("key names", name, KEY_NAME_MAX, em);
}

static unsigned int name_hash(const char *name)
{
	unsigned int h = 2166136261u; /* FNV-1a */

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % KEYSTORE_BUCKETS;
}

static void key_free(struct key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pub_pkey);
	OPENSSL_free(k->spki);
	free(k);
}

void key_put(struct key *k)
{
	if (k != NULL && atomic_fetch_sub(&k->refs, 1) == 1)
		key_free(k);
}

static struct key *key_ref(struct key *k)
{
	atomic_fetch_add(&k->refs, 1);
	return k;
}

int keystore_new(struct token *token, struct keystore **out)
{
	struct keystore *ks = calloc(1, sizeof(*ks));

	*out = NULL;
	if (ks == NULL)
		return SIGNET_E_RESOURCE_EXHAUSTED;
	ks->token = token;
	ks->token_gen = token_generation(token);
	if (pthread_rwlock_init(&ks->lock, NULL) != 0) {
		free(ks);
		return SIGNET_E_INTERNAL;
	}
	if (pthread_mutex_init(&ks->admin, NULL) != 0) {
		pthread_rwlock_destroy(&ks->lock);
		free(ks);
		return SIGNET_E_INTERNAL;
	}
	*out = ks;
	return 0;
}

void keystore_free(struct keystore *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < KEYSTORE_BUCKETS; i++) {
		struct key *k = ks->buckets[i], *next;

		for (; k != NULL; k = next) {
			next = k->next;
			key_put(k);
		}
		ks->buckets[i] = NULL;
	}
	pthread_rwlock_destroy(&ks->lock);
	pthread_mutex_destroy(&ks->admin);
	free(ks);
}

static struct key *cache_lookup_locked(struct keystore *ks, const char *name)
{
	struct key *k = ks->buckets[name_hash(name)];

	while (k != NULL && strcmp(k->name, name) != 0)
		k = k->next;
	return k;
}

/* Drop `name` from the cache; the cache's reference goes with it. */
static void cache_evict(struct keystore *ks, const char *name)
{
	struct key **pp, *gone = NULL;

	pthread_rwlock_wrlock(&ks->lock);
	for (pp = &ks->buckets[name_hash(name)]; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->name, name) == 0) {
			gone = *pp;
			*pp = gone->next;
			break;
		}
	}
	ks->epoch++;
	pthread_rwlock_unlock(&ks->lock);
	key_put(gone);
}

/*
 * The token came back from a loss: the handles cached before it may now name
 * nothing, or other objects. Drop them all (and make loads begun before now
 * uncacheable) before anyone looks in the cache. Returns token_check().
 */
static int cache_check_token(struct keystore *ks, struct errmsg *em)
{
	unsigned long gen = token_generation(ks->token);
	struct key *gone = NULL, *next;
	int r;

	if ((r = token_check(ks->token, em)) != 0)
		return r;
	pthread_rwlock_rdlock(&ks->lock);
	r = ks->token_gen == gen;
	pthread_rwlock_unlock(&ks->lock);
	if (r)
		return 0;
	pthread_rwlock_wrlock(&ks->lock);
	if (ks->token_gen != gen) {
		for (size_t i = 0; i < KEYSTORE_BUCKETS; i++) {
			struct key *k = ks->buckets[i];

			for (; k != NULL; k = next) {
				next = k->next;
				k->next = gone;
				gone = k;
			}
			ks->buckets[i] = NULL;
		}
		ks->token_gen = gen;
		ks->epoch++;
	}
	pthread_rwlock_unlock(&ks->lock);
	for (; gone != NULL; gone = next) {
		next = gone->next;
		key_put(gone);
	}
	return 0;
}

/* Insert a freshly loaded key unless an eviction happened since `epoch` (it
 * may describe objects that are gone) or another thread was first. Returns
 * the cached key with a reference for the caller. */
static struct key *cache_insert(struct keystore *ks, struct key *k, unsigned long epoch)
{
	struct key *have;

	pthread_rwlock_wrlock(&ks->lock);
	have = cache_lookup_locked(ks, k->name);
	if (have != NULL) {
		key_ref(have);
		pthread_rwlock_unlock(&ks->lock);
		key_put(k);
		return have;
	}
	if (epoch == ks->epoch) {
		unsigned int b = name_hash(k->name);

		k->next = ks->buckets[b];
		ks->buckets[b] = key_ref(k);
	}
	pthread_rwlock_unlock(&ks->lock);
	return k;
}

/* Handles of objects of `cls` labelled `name`, at most `max`. */
static int find_objects(struct token *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *name,
			CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n, struct errmsg *em)
{
	CK_FUNCTION_LIST *fn = t->fn;
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_LABEL, (void *)name, name != NULL ? strlen(name) : 0},
	};
	const char *what = "C_FindObjectsInit";
	CK_RV rv;

	token_objects_lookup(t);
	rv = fn->C_FindObjectsInit(s, tmpl, name != NULL ? 2 : 1);
	if (rv == CKR_OK) {
		what = "C_FindObjects";
		rv = fn->C_FindObjects(s, out, max, n);
		fn->C_FindObjectsFinal(s);
	}
	token_objects_done(t);
	return rv == CKR_OK ? 0 : p11_fail(em, rv, what);
}

/* One object of `cls` labelled `name`. NOT_FOUND only when the token
 * confirms it is there (token_confirm): a token that lost its objects finds
 * nothing either. */
static int find_one(struct token *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *name,
		    CK_OBJECT_HANDLE *out, struct errmsg *em)
{
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0;
	int r = find_objects(t, s, cls, name, found, 2, &n, em);

	if (r != 0)
		return r;
	if (n == 0)
		return token_confirm(t, em) != 0 ? SIGNET_E_UNAVAILABLE : SIGNET_E_NOT_FOUND;
	if (n > 1)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "several %s keys are labelled '%s' on the token; signet needs "
				  "labels to be unique",
				  cls == CKO_PRIVATE_KEY ? "private" : "public", name);
	*out = found[0];
	return 0;
}

/* The private key's usage bits; an attribute the token will not tell is unset. */
static unsigned int key_read_usage(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv)
{
	static const struct {
		CK_ATTRIBUTE_TYPE type;
		unsigned int bit;
	} usages[] = {
		{CKA_SIGN, SIGNET_KEY_USAGE_SIGN},
		{CKA_DECRYPT, SIGNET_KEY_USAGE_DECRYPT},
		{CKA_UNWRAP, SIGNET_KEY_USAGE_UNWRAP},
		{CKA_DERIVE, SIGNET_KEY_USAGE_DERIVE},
	};
	unsigned int usage = 0;
	int v;

	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		pubkey_attr_bool(fn, s, priv, usages[i].type, &v);
		if (v)
			usage |= usages[i].bit;
	}
	return usage;
}

static int key_read_attrs(struct keystore *ks, CK_SESSION_HANDLE s, struct key *k,
			  struct errmsg *em)
{
	CK_FUNCTION_LIST *fn = ks->token->fn;
	uint8_t *id = NULL;
	size_t id_len = 0;
	int r;

	if ((r = pubkey_load(fn, s, k->pub, &k->alg, &k->pub_pkey, em)) != 0)
		return r;
	if (pubkey_spki(k->pub_pkey, &k->spki, &k->spki_len) != 0)
		return errmsg_set(em, SIGNET_E_INTERNAL, "cannot encode the public key");
	pubkey_attr_bool(fn, s, k->priv, CKA_SENSITIVE, &k->sensitive);
	pubkey_attr_bool(fn, s, k->priv, CKA_EXTRACTABLE, &k->extractable);
	k->usage = key_read_usage(fn, s, k->priv);
	/* CKA_ID is optional for keys made elsewhere. */
	if (pubkey_attr_get(fn, s, k->priv, CKA_ID, &id, &id_len, KEY_ID_MAX, NULL) == 0) {
		memcpy(k->id, id, id_len);
		k->id_len = id_len;
		free(id);
	}
	return 0;
}

static int key_load(struct keystore *ks, CK_SESSION_HANDLE s, const char *name, struct key **out,
		    struct errmsg *em)
{
	struct key *k = calloc(1, sizeof(*k));
	int r;

	if (k == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	atomic_init(&k->refs, 1);
	k->token_gen = token_generation(ks->token);
	snprintf(k->name, sizeof(k->name), "%s", name);
	r = find_one(ks->token, s, CKO_PRIVATE_KEY, name, &k->priv, em);
	if (r == SIGNET_E_NOT_FOUND)
		r = errmsg_set(em, r, "no key named '%s'", name);
	if (r == 0) {
		r = find_one(ks->token, s, CKO_PUBLIC_KEY, name, &k->pub, em);
		if (r == SIGNET_E_NOT_FOUND)
			r = errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				       "key '%s' has no public key object on the token", name);
	}
	if (r == 0) {
		token_objects_lookup(ks->token);
		r = key_read_attrs(ks, s, k, em);
		token_objects_done(ks->token);
	}
	if (r != 0) {
		key_put(k);
		return r;
	}
	*out = k;
	return 0;
}

int keystore_get(struct keystore *ks, CK_SESSION_HANDLE s, const char *name, struct key **out,
		 struct errmsg *em)
{
	struct key *k;
	unsigned long epoch;
	int r;

	if ((r = key_name_check(name, em)) != 0)
		return r;
	if ((r = cache_check_token(ks, em)) != 0)
		return r;
	pthread_rwlock_rdlock(&ks->lock);
	k = cache_lookup_locked(ks, name);
	if (k != NULL)
		key_ref(k);
	epoch = ks->epoch;
	pthread_rwlock_unlock(&ks->lock);
	if (k != NULL) {
		*out = k;
		return 0;
	}
	if ((r = key_load(ks, s, name, &k, em)) != 0)
		return r;
	*out = cache_insert(ks, k, epoch);
	return 0;
}

static int keygen_mechanism(enum signet_key_alg alg, CK_MECHANISM *mech, CK_ULONG *bits,
			    const uint8_t **params, size_t *params_len)
{
	mech->pParameter = NULL;
	mech->ulParameterLen = 0;
	switch (alg) {
	case SIGNET_KEY_EC_P256:
	case SIGNET_KEY_EC_P384:
		mech->mechanism = CKM_EC_KEY_PAIR_GEN;
		*params = alg == SIGNET_KEY_EC_P256 ? pubkey_p256_params : pubkey_p384_params;
		*params_len = alg == SIGNET_KEY_EC_P256 ? sizeof(pubkey_p256_params)
							: sizeof(pubkey_p384_params);
		return 0;
	case SIGNET_KEY_RSA_2048:
	case SIGNET_KEY_RSA_3072:
	case SIGNET_KEY_RSA_4096:
		mech->mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		*bits = alg == SIGNET_KEY_RSA_2048   ? 2048
			: alg == SIGNET_KEY_RSA_3072 ? 3072
						     : 4096;
		return 0;
	default:
		return SIGNET_E_INVALID_ARGUMENT;
	}
}

static int destroy_labelled(struct keystore *ks, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
			    const char *name, CK_ULONG *destroyed, struct errmsg *em);

/* After a C_GenerateKeyPair that failed: destroy what it may have left
 * labelled `name` (the name was free before; the caller holds ks->admin). */
static int keygen_clean(struct keystore *ks, CK_SESSION_HANDLE s, const char *name,
			struct errmsg *em)
{
	CK_ULONG destroyed = 0;
	int r;

	if ((r = destroy_labelled(ks, s, CKO_PRIVATE_KEY, name, &destroyed, em)) != 0 ||
	    (r = destroy_labelled(ks, s, CKO_PUBLIC_KEY, name, &destroyed, em)) != 0)
		return r;
	if (destroyed > 0)
		log_warn("token: destroyed %lu object(s) a failed key generation left as '%s'",
			 (unsigned long)destroyed, name);
	return 0;
}

/*
 * C_GenerateKeyPair, kept apart from look-ups where the token needs it
 * (token_objects_change). A CKR_GENERAL_ERROR from a token that still
 * answers C_GetTokenInfo is tried once more, since SoftHSM 2.6 fails now
 * and then when creation races a look-up; half-made objects are destroyed
 * first. Whatever the token fails with is answered with its CKR name and
 * p11_err()'s status (UNAVAILABLE for a failing token), never INTERNAL.
 */
static int keygen_call(struct keystore *ks, CK_SESSION_HANDLE s, const char *name,
		       CK_MECHANISM *mech, CK_ATTRIBUTE *pub_tmpl, CK_ULONG npub,
		       CK_ATTRIBUTE *priv_tmpl, CK_ULONG npriv, struct errmsg *em)
{
	CK_OBJECT_HANDLE pub, priv;
	CK_RV rv = CKR_OK;
	int r;

	for (int tries = 0; tries < 2; tries++) {
		token_objects_change(ks->token);
		rv = ks->token->fn->C_GenerateKeyPair(s, mech, pub_tmpl, npub, priv_tmpl, npriv,
						      &pub, &priv);
		token_objects_done(ks->token);
		if (rv == CKR_OK)
			return 0;
		if (rv != CKR_GENERAL_ERROR)
			break;
		if ((r = token_confirm(ks->token, em)) != 0 ||
		    (r = keygen_clean(ks, s, name, em)) != 0)
			return r;
		if (tries == 0)
			log_warn("token: generating key '%s' failed (CKR_GENERAL_ERROR); once more",
				 name);
	}
	return p11_fail(em, rv, "C_GenerateKeyPair");
}

/*
 * C_GenerateKeyPair with the attributes that keep the private key in the
 * token and let it sign only. Every usage is spelled out: a token fills in
 * what a template leaves out by its own defaults (SoftHSM makes keys that
 * unwrap, and an RSA key that unwraps into an extractable secret is a
 * decryption oracle). CKA_MODIFIABLE false keeps it so: PKCS#11 lets
 * anyone holding the PIN turn CKA_UNWRAP back on otherwise. A key made to
 * decrypt needs a template of its own: an RA key (KEYSTORE_PURPOSE_RA), RSA
 * only, gets CKA_DECRYPT on the private half and CKA_ENCRYPT on the public
 * one, and still never unwraps or derives: C_Decrypt hands the plaintext to
 * signetd, which treats it as the content-encryption key of one SCEP
 * message, where an unwrap would make a token object of it.
 */
static int keygen_on_token(struct keystore *ks, CK_SESSION_HANDLE s, const char *name,
			   enum signet_key_alg alg, enum keystore_purpose purpose,
			   const uint8_t *id, size_t id_len, struct errmsg *em)
{
	const CK_BBOOL *decrypt = purpose == KEYSTORE_PURPOSE_RA ? &ck_true : &ck_false;
	static const CK_BYTE rsa_exponent[] = {0x01, 0x00, 0x01};
	CK_MECHANISM mech;
	CK_ULONG bits = 0, npub = 10;
	const uint8_t *params = NULL;
	size_t params_len = 0;
	CK_ATTRIBUTE pub_tmpl[12] = {
		{CKA_TOKEN, (void *)&ck_true, sizeof(CK_BBOOL)},
		{CKA_PRIVATE, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_MODIFIABLE, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_VERIFY, (void *)&ck_true, sizeof(CK_BBOOL)},
		{CKA_VERIFY_RECOVER, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_ENCRYPT, (void *)decrypt, sizeof(CK_BBOOL)},
		{CKA_WRAP, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_DERIVE, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_LABEL, (void *)name, strlen(name)},
		{CKA_ID, (void *)id, id_len},
	};
	CK_ATTRIBUTE priv_tmpl[] = {
		{CKA_TOKEN, (void *)&ck_true, sizeof(CK_BBOOL)},
		{CKA_PRIVATE, (void *)&ck_true, sizeof(CK_BBOOL)},
		{CKA_MODIFIABLE, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_SENSITIVE, (void *)&ck_true, sizeof(CK_BBOOL)},
		{CKA_EXTRACTABLE, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_SIGN, (void *)&ck_true, sizeof(CK_BBOOL)},
		{CKA_SIGN_RECOVER, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_DECRYPT, (void *)decrypt, sizeof(CK_BBOOL)},
		{CKA_UNWRAP, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_DERIVE, (void *)&ck_false, sizeof(CK_BBOOL)},
		{CKA_LABEL, (void *)name, strlen(name)},
		{CKA_ID, (void *)id, id_len},
	};

	if (purpose == KEYSTORE_PURPOSE_RA && alg != SIGNET_KEY_RSA_2048 &&
	    alg != SIGNET_KEY_RSA_3072 && alg != SIGNET_KEY_RSA_4096)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "an RA key decrypts what requesters encrypt to it: it must be "
				  "RSA (rsa2048, rsa3072 or rsa4096)");
	if (keygen_mechanism(alg, &mech, &bits, &params, &params_len) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "unsupported key algorithm %d; use p256, p384, rsa2048, "
				  "rsa3072 or rsa4096",
				  (int)alg);
	if (params != NULL) {
		pub_tmpl[npub++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)params, params_len};
	} else {
		pub_tmpl[npub++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
		pub_tmpl[npub++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)rsa_exponent,
						  sizeof(rsa_exponent)};
	}
	return keygen_call(ks, s, name, &mech, pub_tmpl, npub, priv_tmpl,
			   sizeof(priv_tmpl) / sizeof(priv_tmpl[0]), em);
}

static int name_taken(struct keystore *ks, CK_SESSION_HANDLE s, const char *name, int *taken,
		      struct errmsg *em)
{
	CK_OBJECT_HANDLE h[1];
	CK_ULONG npriv = 0, npub = 0;
	int r;

	if ((r = find_objects(ks->token, s, CKO_PRIVATE_KEY, name, h, 1, &npriv, em)) != 0 ||
	    (r = find_objects(ks->token, s, CKO_PUBLIC_KEY, name, h, 1, &npub, em)) != 0)
		return r;
	*taken = npriv + npub > 0;
	return 0;
}

int keystore_generate(struct keystore *ks, CK_SESSION_HANDLE s, const char *name,
		      enum signet_key_alg alg, struct key **out, struct errmsg *em)
{
	return keystore_generate_for(ks, s, name, alg, KEYSTORE_PURPOSE_SIGN, out, em);
}

int keystore_generate_for(struct keystore *ks, CK_SESSION_HANDLE s, const char *name,
			  enum signet_key_alg alg, enum keystore_purpose purpose, struct key **out,
			  struct errmsg *em)
{
	uint8_t id[16];
	int r, taken = 0;

	if ((r = key_name_check(name, em)) != 0)
		return r;
	if (RAND_bytes(id, sizeof(id)) != 1)
		return errmsg_set(em, SIGNET_E_INTERNAL, "no randomness for the key id");
	if ((r = cache_check_token(ks, em)) != 0)
		return r;
	pthread_mutex_lock(&ks->admin);
	if ((r = name_taken(ks, s, name, &taken, em)) != 0)
		goto out;
	if (taken) {
		r = errmsg_set(em, SIGNET_E_ALREADY_EXISTS, "a key named '%s' already exists",
			       name);
		goto out;
	}
	if ((r = keygen_on_token(ks, s, name, alg, purpose, id, sizeof(id), em)) != 0)
		goto out;
	cache_evict(ks, name); /* nothing should be there; make sure no stale entry is */
	r = keystore_get(ks, s, name, out, em);
out:
	pthread_mutex_unlock(&ks->admin);
	return r;
}

static int destroy_labelled(struct keystore *ks, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
			    const char *name, CK_ULONG *destroyed, struct errmsg *em)
{
	CK_OBJECT_HANDLE h[16];
	CK_ULONG n = 0;
	CK_RV rv;
	int r;

	if ((r = find_objects(ks->token, s, cls, name, h, 16, &n, em)) != 0)
		return r;
	for (CK_ULONG i = 0; i < n; i++) {
		token_objects_change(ks->token);
		rv = ks->token->fn->C_DestroyObject(s, h[i]);
		token_objects_done(ks->token);
		if (rv != CKR_OK)
			return p11_fail(em, rv, "C_DestroyObject");
		(*destroyed)++;
	}
	return 0;
}

int keystore_delete(struct keystore *ks, CK_SESSION_HANDLE s, const char *name, struct errmsg *em)
{
	CK_ULONG destroyed = 0;
	int r;

	if ((r = key_name_check(name, em)) != 0)
		return r;
	if ((r = cache_check_token(ks, em)) != 0)
		return r;
	pthread_mutex_lock(&ks->admin);
	cache_evict(ks, name);
	r = destroy_labelled(ks, s, CKO_PRIVATE_KEY, name, &destroyed, em);
	if (r == 0)
		r = destroy_labelled(ks, s, CKO_PUBLIC_KEY, name, &destroyed, em);
	if (r == 0 && destroyed == 0 && (r = token_confirm(ks->token, em)) == 0)
		r = errmsg_set(em, SIGNET_E_NOT_FOUND, "no key named '%s'", name);
	pthread_mutex_unlock(&ks->admin);
	return r;
}

void keystore_list_free(struct key **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		key_put(keys[i]);
	free(keys);
}

/* The label of a private key object, if it is a name signet can serve. */
static int object_name(struct token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		       char name[KEY_NAME_MAX + 1])
{
	uint8_t *label = NULL;
	size_t len = 0;
	int r;

	token_objects_lookup(t);
	r = pubkey_attr_get(t->fn, s, obj, CKA_LABEL, &label, &len, KEY_NAME_MAX, NULL);
	token_objects_done(t);
	if (r != 0)
		return -1;
	memcpy(name, label, len);
	name[len] = '\0';
	free(label);
	return keystore_name_valid(name) ? 0 : -1;
}

/* Handles of every private key object, gathered in chunks. */
static int find_private_keys(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE **out,
			     size_t *n, struct errmsg *em)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl = {CKA_CLASS, &cls, sizeof(cls)};
	CK_OBJECT_HANDLE *handles = NULL, *grown;
	size_t have = 0, cap = 0;
	CK_ULONG got = 0;
	CK_RV rv = fn->C_FindObjectsInit(s, &tmpl, 1);

	if (rv != CKR_OK)
		return p11_fail(em, rv, "C_FindObjectsInit");
	do {
		if (have == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			grown = cap <= KEYSTORE_LIST_MAX ? realloc(handles, cap * sizeof(*handles))
							 : NULL;
			if (grown == NULL) {
				rv = CKR_HOST_MEMORY;
				break;
			}
			handles = grown;
		}
		rv = fn->C_FindObjects(s, handles + have, (CK_ULONG)(cap - have), &got);
		have += got;
	} while (rv == CKR_OK && got > 0);
	fn->C_FindObjectsFinal(s);
	if (rv != CKR_OK) {
		free(handles);
		return p11_fail(em, rv, "C_FindObjects");
	}
	*out = handles;
	*n = have;
	return 0;
}

int keystore_list(struct keystore *ks, CK_SESSION_HANDLE s, struct key ***out, size_t *n,
		  struct errmsg *em)
{
	CK_OBJECT_HANDLE *handles = NULL;
	size_t count = 0, nkeys = 0;
	struct key **keys = NULL;
	int r;

	if ((r = cache_check_token(ks, em)) != 0)
		return r;
	token_objects_lookup(ks->token);
	r = find_private_keys(ks->token->fn, s, &handles, &count, em);
	token_objects_done(ks->token);
	if (r != 0)
		return r;
	keys = calloc(count > 0 ? count : 1, sizeof(*keys));
	if (keys == NULL) {
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		char name[KEY_NAME_MAX + 1];

		/* Unlabelled keys, and keys that vanish or are unreadable, are not listed. */
		if (object_name(ks->token, s, handles[i], name) != 0 ||
		    keystore_get(ks, s, name, &keys[nkeys], NULL) != 0)
			continue;
		nkeys++;
	}
	/* Nothing, or less than was there: from a failing token, no answer. */
	if ((nkeys < count || count == 0) && (r = token_confirm(ks->token, em)) != 0) {
		keystore_list_free(keys, nkeys);
		keys = NULL;
		goto out;
	}
	*out = keys;
	*n = nkeys;
	keys = NULL; /* transferred */
out:
	free(handles);
	free(keys);
	return r;
}

int keystore_sign(struct keystore *ks, CK_SESSION_HANDLE s, struct key *k, CK_MECHANISM *mech,
		  const uint8_t *in, size_t inlen, uint8_t *sig, size_t *siglen, struct errmsg *em)
{
	CK_FUNCTION_LIST *fn = ks->token->fn;
	CK_ULONG len = *siglen;
	CK_RV rv;
	int r;

	if ((r = token_check(ks->token, em)) != 0)
		return r;
	/* Handles found before the token was lost may name another object now. */
	if (k->token_gen != token_generation(ks->token))
		return errmsg_set(em, SIGNET_E_UNAVAILABLE,
				  "the token was reset while key '%s' was in use; retry", k->name);
	rv = fn->C_SignInit(s, mech, k->priv);
	if (rv == CKR_OK)
		rv = fn->C_Sign(s, (CK_BYTE_PTR)in, (CK_ULONG)inlen, sig, &len);
	if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID) {
		/* Deleted behind our back (another tool, another daemon), or the
		 * token lost its objects: only the token can tell which. */
		cache_evict(ks, k->name);
		if ((r = token_confirm(ks->token, em)) != 0)
			return r;
		return errmsg_set(em, SIGNET_E_NOT_FOUND, "key '%s' is no longer on the token",
				  k->name);
	}
	if (rv != CKR_OK)
		return p11_fail(em, rv, "C_Sign");
	*siglen = len;
	return 0;
}

/* The mechanism of `how`; OAEP's parameters live in *oaep. */
static void decrypt_mechanism(enum keystore_decrypt how, CK_RSA_PKCS_OAEP_PARAMS *oaep,
			      CK_MECHANISM *mech)
{
	*oaep = (CK_RSA_PKCS_OAEP_PARAMS){.source = CKZ_DATA_SPECIFIED};
	if (how == KEYSTORE_DECRYPT_RSA_PKCS || how == KEYSTORE_DECRYPT_RSA_RAW) {
		*mech = (CK_MECHANISM){
			how == KEYSTORE_DECRYPT_RSA_PKCS ? CKM_RSA_PKCS : CKM_RSA_X_509, NULL, 0};
		return;
	}
	oaep->hashAlg = how == KEYSTORE_DECRYPT_RSA_OAEP_SHA256 ? CKM_SHA256 : CKM_SHA_1;
	oaep->mgf = how == KEYSTORE_DECRYPT_RSA_OAEP_SHA256 ? CKG_MGF1_SHA256 : CKG_MGF1_SHA1;
	*mech = (CK_MECHANISM){CKM_RSA_PKCS_OAEP, oaep, sizeof(*oaep)};
}

int keystore_decrypt(struct keystore *ks, CK_SESSION_HANDLE s, struct key *k,
		     enum keystore_decrypt how, const uint8_t *in, size_t inlen, uint8_t *out,
		     size_t *outlen, struct errmsg *em)
{
	CK_FUNCTION_LIST *fn = ks->token->fn;
	CK_RSA_PKCS_OAEP_PARAMS oaep;
	CK_MECHANISM mech;
	CK_ULONG len = *outlen;
	CK_RV rv;
	int r;

	/* Only a key made to decrypt (an RA key) is asked to: a signing key the
	 * token would let decrypt (one made elsewhere) stays a signing key. */
	if ((k->usage & SIGNET_KEY_USAGE_DECRYPT) == 0)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "key '%s' is not made to decrypt (CKA_DECRYPT is false): "
				  "generate an RA key (purpose ra)",
				  k->name);
	if ((r = token_check(ks->token, em)) != 0)
		return r;
	if (k->token_gen != token_generation(ks->token))
		return errmsg_set(em, SIGNET_E_UNAVAILABLE,
				  "the token was reset while key '%s' was in use; retry", k->name);
	decrypt_mechanism(how, &oaep, &mech);
	rv = fn->C_DecryptInit(s, &mech, k->priv);
	if (rv == CKR_OK)
		rv = fn->C_Decrypt(s, (CK_BYTE_PTR)in, (CK_ULONG)inlen, out, &len);
	if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the data does not decrypt with key '%s'", k->name);
	if (rv != CKR_OK)
		return p11_fail(em, rv, "C_Decrypt");
	*outlen = len;
	return 0;
}
