/* Unit tests for daemon/hsm/keystore.c's key cache, on a fake PKCS#11
 * function list holding two EC P-256 key pairs: hits and misses, emptying
 * on a new token generation, eviction of a key deleted behind our back, and
 * the reference counting of struct key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hsm/keystore_internal.h"
#include "hsm/pubkey.h"
#include "hsm/token_internal.h"

/* Key i is private handle 10 * (i + 1), public handle 10 * (i + 1) + 1. */
static const char *const names[] = {"alpha", "beta"};
#define NKEYS 2

static struct {
	uint8_t point[65]; /* one P-256 public point serves both keys */
	int present[NKEYS];
	CK_RV sign_rv;
	CK_RV info_rv;	    /* C_GetTokenInfo */
	unsigned gen_fail;  /* C_GenerateKeyPair calls left to fail with CKR_GENERAL_ERROR */
	unsigned gens;	    /* C_GenerateKeyPair calls */
	unsigned destroyed; /* C_DestroyObject calls */
	int gen_exclusive;  /* every C_GenerateKeyPair ran with lookups held off */
	/* what the last C_GenerateKeyPair asked for: -1 when not in its template */
	int priv_decrypt, priv_unwrap, priv_derive, priv_sign, pub_encrypt;
	unsigned decrypt_inits; /* C_DecryptInit calls */
	struct token *token;
	unsigned finds; /* C_FindObjectsInit calls: round trips to the token */
	CK_OBJECT_CLASS cls;
	char label[KEY_NAME_MAX + 1];
	int any_label;
	int found_pos;
} fake;

static CK_RV fake_find_init(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	(void)s;
	fake.finds++;
	fake.any_label = 1;
	fake.found_pos = 0;
	for (CK_ULONG i = 0; i < n; i++) {
		if (tmpl[i].type == CKA_CLASS)
			memcpy(&fake.cls, tmpl[i].pValue, sizeof(fake.cls));
		if (tmpl[i].type == CKA_LABEL) {
			fake.any_label = 0;
			memcpy(fake.label, tmpl[i].pValue, tmpl[i].ulValueLen);
			fake.label[tmpl[i].ulValueLen] = '\0';
		}
	}
	return CKR_OK;
}

static CK_RV fake_find(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR n)
{
	(void)s;
	*n = 0;
	for (; fake.found_pos < NKEYS && *n < max; fake.found_pos++) {
		int i = fake.found_pos;

		if (!fake.present[i] || (!fake.any_label && strcmp(fake.label, names[i]) != 0))
			continue;
		out[(*n)++] = (CK_OBJECT_HANDLE)(10 * (i + 1) + (fake.cls == CKO_PUBLIC_KEY));
	}
	return CKR_OK;
}

static CK_RV fake_find_final(CK_SESSION_HANDLE s)
{
	(void)s;
	return CKR_OK;
}

static CK_RV set_attr(CK_ATTRIBUTE *a, const void *v, size_t len)
{
	if (a->pValue != NULL) {
		if (a->ulValueLen < len)
			return CKR_BUFFER_TOO_SMALL;
		memcpy(a->pValue, v, len);
	}
	a->ulValueLen = len;
	return CKR_OK;
}

static CK_RV fake_get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR a,
			   CK_ULONG n)
{
	static const CK_KEY_TYPE ec = CKK_EC;
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	int key = (int)(obj / 10) - 1;
	const char *name;

	(void)s;
	if (n != 1 || key < 0 || key >= NKEYS || !fake.present[key])
		return CKR_OBJECT_HANDLE_INVALID;
	name = names[key];
	switch (a->type) {
	case CKA_KEY_TYPE:
		return set_attr(a, &ec, sizeof(ec));
	case CKA_EC_PARAMS:
		return set_attr(a, pubkey_p256_params, sizeof(pubkey_p256_params));
	case CKA_EC_POINT:
		return set_attr(a, fake.point, sizeof(fake.point));
	case CKA_SENSITIVE:
		return set_attr(a, &yes, sizeof(yes));
	case CKA_EXTRACTABLE:
		return set_attr(a, &no, sizeof(no));
	case CKA_ID:
		return set_attr(a, name, 2);
	case CKA_LABEL:
		return set_attr(a, name, strlen(name));
	default:
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

static CK_RV fake_sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)s, (void)m, (void)k;
	return fake.sign_rv;
}

static CK_RV fake_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inlen, CK_BYTE_PTR sig,
		       CK_ULONG_PTR siglen)
{
	(void)s, (void)in, (void)inlen;
	memset(sig, 0x5a, 64);
	*siglen = 64;
	return CKR_OK;
}

static CK_RV fake_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	(void)slot;
	memset(info, 0, sizeof(*info));
	return fake.info_rv;
}

/* Makes "beta" (key 1), as SoftHSM 2.6 does now and then under concurrent
 * look-ups: after leaving a public half behind and failing. */
static int tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (t[i].type == type)
			return *(const CK_BBOOL *)t[i].pValue == CK_TRUE;
	return -1;
}

static CK_RV fake_generate(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub,
			   CK_ULONG npub, CK_ATTRIBUTE_PTR priv, CK_ULONG npriv,
			   CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv)
{
	(void)s, (void)m;
	fake.gens++;
	fake.priv_decrypt = tmpl_bool(priv, npriv, CKA_DECRYPT);
	fake.priv_unwrap = tmpl_bool(priv, npriv, CKA_UNWRAP);
	fake.priv_derive = tmpl_bool(priv, npriv, CKA_DERIVE);
	fake.priv_sign = tmpl_bool(priv, npriv, CKA_SIGN);
	fake.pub_encrypt = tmpl_bool(pub, npub, CKA_ENCRYPT);
	if (pthread_rwlock_tryrdlock(&fake.token->objects) == 0) {
		pthread_rwlock_unlock(&fake.token->objects);
		fake.gen_exclusive = 0;
	}
	fake.present[1] = 1;
	if (fake.gen_fail > 0) {
		fake.gen_fail--;
		return CKR_GENERAL_ERROR;
	}
	*hpub = 21;
	*hpriv = 20;
	return CKR_OK;
}

static CK_RV fake_destroy(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
	(void)s;
	fake.destroyed++;
	if (obj == 20 || obj == 21)
		fake.present[1] = 0;
	return CKR_OK;
}

static CK_RV fake_decrypt_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)s, (void)m, (void)k;
	fake.decrypt_inits++;
	return CKR_KEY_FUNCTION_NOT_PERMITTED;
}

static CK_FUNCTION_LIST fake_fn = {
	.C_DecryptInit = fake_decrypt_init,
	.C_GetTokenInfo = fake_token_info,
	.C_GenerateKeyPair = fake_generate,
	.C_DestroyObject = fake_destroy,
	.version = {2, 40},
	.C_FindObjectsInit = fake_find_init,
	.C_FindObjects = fake_find,
	.C_FindObjectsFinal = fake_find_final,
	.C_GetAttributeValue = fake_get_attr,
	.C_SignInit = fake_sign_init,
	.C_Sign = fake_sign,
};

struct fixture {
	struct token *token;
	struct keystore *ks;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	unsigned char *pt = NULL;

	assert_non_null(f);
	assert_non_null(pkey);
	assert_int_equal(EVP_PKEY_get1_encoded_public_key(pkey, &pt), sizeof(fake.point));
	memset(&fake, 0, sizeof(fake));
	memcpy(fake.point, pt, sizeof(fake.point));
	OPENSSL_free(pt);
	EVP_PKEY_free(pkey);
	fake.present[0] = fake.present[1] = 1;

	/* a token that is up, as token_open() leaves it */
	assert_non_null(f->token = calloc(1, sizeof(*f->token)));
	f->token->fn = &fake_fn;
	f->token->login_session = CK_INVALID_HANDLE;
	atomic_init(&f->token->state, TOKEN_UP);
	atomic_init(&f->token->generation, 1);
	assert_int_equal(pthread_rwlock_init(&f->token->use, NULL), 0);
	assert_int_equal(pthread_mutex_init(&f->token->recover, NULL), 0);
	assert_int_equal(pthread_mutex_init(&f->token->state_lock, NULL), 0);
	assert_int_equal(pthread_rwlock_init(&f->token->objects, NULL), 0);
	f->token->locks_ready = 1;
	f->token->serialize_objects = 1;
	fake.token = f->token;
	fake.gen_exclusive = 1;
	assert_int_equal(keystore_new(f->token, &f->ks), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	keystore_free(f->ks);
	token_close(f->token);
	free(f);
	return 0;
}

static void test_name_valid(void **state)
{
	char longest[KEY_NAME_MAX + 2];

	(void)state;
	assert_true(keystore_name_valid("a"));
	assert_true(keystore_name_valid("CA-root_2.v1"));
	memset(longest, 'k', KEY_NAME_MAX);
	longest[KEY_NAME_MAX] = '\0';
	assert_true(keystore_name_valid(longest));
	longest[KEY_NAME_MAX] = 'k';
	longest[KEY_NAME_MAX + 1] = '\0';
	assert_false(keystore_name_valid(longest));
	assert_false(keystore_name_valid(""));
	assert_false(keystore_name_valid(NULL));
	assert_false(keystore_name_valid("a b"));
	assert_false(keystore_name_valid("../a"));
}

static void test_bad_name_asks_nothing(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	assert_int_equal(keystore_get(f->ks, 1, "no/slash", &k, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_null(k);
	assert_int_equal(fake.finds, 0);
}

/* A second look-up is served from the cache, with a reference of its own. */
static void test_hit(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *a = NULL, *b = NULL;

	assert_int_equal(keystore_get(f->ks, 1, "alpha", &a, &em), 0);
	assert_int_equal(fake.finds, 2); /* the private and the public key */
	assert_string_equal(a->name, "alpha");
	assert_int_equal(a->priv, 10);
	assert_int_equal(a->pub, 11);
	assert_int_equal(a->alg, SIGNET_KEY_EC_P256);
	assert_true(a->sensitive);
	assert_false(a->extractable);
	assert_int_equal(a->id_len, 2);
	assert_non_null(a->spki);
	assert_int_equal(a->token_gen, token_generation(f->token));

	assert_int_equal(keystore_get(f->ks, 1, "alpha", &b, &em), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(fake.finds, 2);
	assert_int_equal(atomic_load(&a->refs), 3); /* the cache's and ours */
	key_put(b);
	key_put(a);
	assert_int_equal(atomic_load(&a->refs), 1);
}

/* Names are looked up by name: two keys, two entries. */
static void test_by_name(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *a = NULL, *b = NULL, *again = NULL;

	assert_int_equal(keystore_get(f->ks, 1, "alpha", &a, &em), 0);
	assert_int_equal(keystore_get(f->ks, 1, "beta", &b, &em), 0);
	assert_ptr_not_equal(a, b);
	assert_string_equal(b->name, "beta");
	assert_int_equal(b->priv, 20);
	assert_int_equal(keystore_get(f->ks, 1, "beta", &again, &em), 0);
	assert_ptr_equal(again, b);
	assert_int_equal(fake.finds, 4);
	key_put(again);
	key_put(b);
	key_put(a);
}

/* An absent key is NOT_FOUND and not remembered as absent. */
static void test_miss(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	assert_int_equal(keystore_get(f->ks, 1, "gamma", &k, &em), SIGNET_E_NOT_FOUND);
	assert_string_equal(em.text, "no key named 'gamma'");
	assert_int_equal(fake.finds, 1);
	assert_int_equal(keystore_get(f->ks, 1, "gamma", &k, &em), SIGNET_E_NOT_FOUND);
	assert_int_equal(fake.finds, 2);
	assert_null(k);
}

/* A recovery voids every cached handle: the cache is emptied, and a key
 * still held from before cannot sign. */
static void test_generation_empties_cache(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *old = NULL, *fresh = NULL;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	uint8_t sig[64];
	size_t siglen = sizeof(sig);

	assert_int_equal(keystore_get(f->ks, 1, "alpha", &old, &em), 0);
	atomic_fetch_add(&f->token->generation, 1);
	assert_int_equal(keystore_get(f->ks, 1, "alpha", &fresh, &em), 0);
	assert_ptr_not_equal(old, fresh);
	assert_int_equal(fake.finds, 4);
	assert_int_equal(fresh->token_gen, token_generation(f->token));
	assert_int_equal(atomic_load(&old->refs), 1); /* the cache let go of it */

	assert_int_equal(keystore_sign(f->ks, 1, old, &mech, sig, 32, sig, &siglen, &em),
			 SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "the token was reset while key 'alpha' was in use"));
	siglen = sizeof(sig);
	assert_int_equal(keystore_sign(f->ks, 1, fresh, &mech, sig, 32, sig, &siglen, &em), 0);
	assert_int_equal(siglen, 64);
	key_put(old);
	key_put(fresh);
}

/* A key deleted behind our back is evicted when signing finds it gone. */
static void test_vanished_key_evicted(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL, *again = NULL;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	uint8_t sig[64];
	size_t siglen = sizeof(sig);

	assert_int_equal(keystore_get(f->ks, 1, "beta", &k, &em), 0);
	fake.sign_rv = CKR_KEY_HANDLE_INVALID;
	fake.present[1] = 0;
	assert_int_equal(keystore_sign(f->ks, 1, k, &mech, sig, 32, sig, &siglen, &em),
			 SIGNET_E_NOT_FOUND);
	assert_string_equal(em.text, "key 'beta' is no longer on the token");
	assert_int_equal(atomic_load(&k->refs), 1); /* only ours is left */
	assert_int_equal(keystore_get(f->ks, 1, "beta", &again, &em), SIGNET_E_NOT_FOUND);
	assert_int_equal(fake.finds, 3);
	key_put(k);
}

/* While the token is down nothing is asked of it, nor of the cache. */
static void test_token_down(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	assert_int_equal(keystore_get(f->ks, 1, "alpha", &k, &em), 0);
	key_put(k);
	k = NULL;
	atomic_store(&f->token->state, TOKEN_DOWN);
	f->token->down_rv = CKR_DEVICE_REMOVED;
	assert_int_equal(keystore_get(f->ks, 1, "alpha", &k, &em), SIGNET_E_UNAVAILABLE);
	assert_null(k);
	assert_non_null(strstr(em.text, "CKR_DEVICE_REMOVED"));
	assert_int_equal(fake.finds, 2);
}

/* A reference outlives the keystore; key_put(NULL) is fine. */
static void test_reference_outlives_keystore(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	assert_int_equal(keystore_get(f->ks, 1, "alpha", &k, &em), 0);
	keystore_free(f->ks);
	f->ks = NULL;
	assert_int_equal(atomic_load(&k->refs), 1);
	assert_string_equal(k->name, "alpha");
	key_put(k);
	key_put(NULL);
	keystore_free(NULL);
}

/* Listing finds every labelled private key, through the cache. */
static void test_list(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key **keys = NULL, *k = NULL;
	size_t n = 0;

	assert_int_equal(keystore_list(f->ks, 1, &keys, &n, &em), 0);
	assert_int_equal(n, 2);
	assert_string_equal(keys[0]->name, "alpha");
	assert_string_equal(keys[1]->name, "beta");
	assert_int_equal(keystore_get(f->ks, 1, "beta", &k, &em), 0);
	assert_ptr_equal(k, keys[1]);
	key_put(k);
	keystore_list_free(keys, n);
}

/* A miss while the token is failing is the token's fault, not the key's:
 * UNAVAILABLE, and the token is marked down. */
static void test_miss_token_failing(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	fake.present[0] = 0;
	fake.info_rv = CKR_GENERAL_ERROR;
	assert_int_equal(keystore_get(f->ks, 1, "alpha", &k, &em), SIGNET_E_UNAVAILABLE);
	assert_null(k);
	assert_non_null(strstr(em.text, "CKR_GENERAL_ERROR"));
	assert_int_equal(atomic_load(&f->token->state), TOKEN_DOWN);
}

/* An empty list from a failing token is not an empty token. */
static void test_list_token_failing(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key **keys = NULL;
	size_t n = 0;

	fake.present[0] = fake.present[1] = 0;
	assert_int_equal(keystore_list(f->ks, 1, &keys, &n, &em), 0);
	assert_int_equal(n, 0);
	keystore_list_free(keys, n);
	fake.info_rv = CKR_GENERAL_ERROR;
	assert_int_equal(keystore_list(f->ks, 1, &keys, &n, &em), SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "CKR_GENERAL_ERROR"));
}

/* A cached key's handle turning invalid while the token is failing. */
static void test_vanished_key_token_failing(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	uint8_t sig[64];
	size_t siglen = sizeof(sig);

	assert_int_equal(keystore_get(f->ks, 1, "beta", &k, &em), 0);
	fake.sign_rv = CKR_KEY_HANDLE_INVALID;
	fake.info_rv = CKR_GENERAL_ERROR;
	assert_int_equal(keystore_sign(f->ks, 1, k, &mech, sig, 32, sig, &siglen, &em),
			 SIGNET_E_UNAVAILABLE);
	assert_non_null(strstr(em.text, "CKR_GENERAL_ERROR"));
	key_put(k);
}

/* C_GenerateKeyPair's CKR_GENERAL_ERROR is tried once more, after what the
 * failed call left behind is destroyed; it runs with look-ups held off. */
static void test_generate_retried(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	fake.present[1] = 0;
	fake.gen_fail = 1;
	assert_int_equal(keystore_generate(f->ks, 1, "beta", SIGNET_KEY_EC_P256, &k, &em), 0);
	assert_int_equal(fake.gens, 2);
	assert_true(fake.destroyed > 0);
	assert_true(fake.gen_exclusive);
	assert_string_equal(k->name, "beta");
	key_put(k);
}

/* Failing again: UNAVAILABLE naming the code, never INTERNAL. */
static void test_generate_fails_unavailable(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	fake.present[1] = 0;
	fake.gen_fail = 2;
	assert_int_equal(keystore_generate(f->ks, 1, "beta", SIGNET_KEY_EC_P256, &k, &em),
			 SIGNET_E_UNAVAILABLE);
	assert_null(k);
	assert_int_equal(fake.gens, 2);
	assert_non_null(strstr(em.text, "C_GenerateKeyPair: CKR_GENERAL_ERROR"));
	assert_int_equal(fake.present[1], 0); /* nothing half-made left behind */
}

/* An RA key: decrypt on the private half and encrypt on the public one, and
 * still never unwrap or derive; a signing key neither; an EC RA key is refused
 * before the token is asked. */
static void test_ra_template(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;

	fake.present[1] = 0;
	assert_int_equal(keystore_generate_for(f->ks, 1, "beta", SIGNET_KEY_EC_P256,
					       KEYSTORE_PURPOSE_RA, &k, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "must be RSA"));
	assert_int_equal(fake.gens, 0);
	assert_int_equal(keystore_generate_for(f->ks, 1, "beta", SIGNET_KEY_RSA_2048,
					       KEYSTORE_PURPOSE_RA, &k, &em),
			 0);
	assert_int_equal(fake.priv_decrypt, 1);
	assert_int_equal(fake.priv_sign, 1);
	assert_int_equal(fake.priv_unwrap, 0);
	assert_int_equal(fake.priv_derive, 0);
	assert_int_equal(fake.pub_encrypt, 1);
	key_put(k);
	assert_int_equal(keystore_delete(f->ks, 1, "beta", &em), 0);
	assert_int_equal(keystore_generate(f->ks, 1, "beta", SIGNET_KEY_EC_P256, &k, &em), 0);
	assert_int_equal(fake.priv_decrypt, 0);
	assert_int_equal(fake.pub_encrypt, 0);
	key_put(k);
}

/* A key whose CKA_DECRYPT is not true is never asked to decrypt. */
static void test_decrypt_needs_ra_key(void **state)
{
	struct fixture *f = *state;
	struct errmsg em = {0};
	struct key *k = NULL;
	uint8_t in[256] = {0}, out[256];
	size_t outlen = sizeof(out);

	assert_int_equal(keystore_get(f->ks, 1, "alpha", &k, &em), 0);
	assert_int_equal(k->usage & SIGNET_KEY_USAGE_DECRYPT, 0);
	assert_int_equal(keystore_decrypt(f->ks, 1, k, KEYSTORE_DECRYPT_RSA_PKCS, in, sizeof(in),
					  out, &outlen, &em),
			 SIGNET_E_FAILED_PRECONDITION);
	assert_non_null(strstr(em.text, "not made to decrypt"));
	assert_int_equal(fake.decrypt_inits, 0);
	key_put(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test_setup_teardown(test_bad_name_asks_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ra_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decrypt_needs_ra_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_empties_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vanished_key_evicted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference_outlives_keystore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_miss_token_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_token_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vanished_key_token_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_fails_unavailable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
