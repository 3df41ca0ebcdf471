/* OpenSSL 3 deprecates the EC_KEY/RSA method APIs, but they remain the way to
 * plug a token into X509_sign without writing a provider. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "hsm/keybridge.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "hsm/sign.h"

static EC_KEY_METHOD *bridge_ec_method;
static RSA_METHOD *bridge_rsa_method;
static int bridge_ec_index = -1;
static int bridge_rsa_index = -1;

static int bridge_sign_raw(struct keybridge *b, CK_MECHANISM_TYPE mech_type, const uint8_t *in,
			   size_t inlen, uint8_t *out, size_t *outlen)
{
	CK_MECHANISM mech = {mech_type, NULL, 0};

	return keystore_sign(b->ks, b->session, b->key, &mech, in, inlen, out, outlen, b->em);
}

static ECDSA_SIG *bridge_ecdsa_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
					const BIGNUM *r, EC_KEY *eckey)
{
	struct keybridge *b = EC_KEY_get_ex_data(eckey, bridge_ec_index);
	uint8_t raw[SIGN_MAX_SIG];
	size_t rawlen = sizeof(raw);

	(void)kinv;
	(void)r;
	if (b == NULL || dlen <= 0 ||
	    bridge_sign_raw(b, CKM_ECDSA, dgst, (size_t)dlen, raw, &rawlen) != 0)
		return NULL;
	return sign_ecdsa_raw_to_sig(raw, rawlen);
}

/* OpenSSL pads (PKCS#1 DigestInfo or PSS) and hands us the block to exponentiate;
 * the token does the same with CKM_RSA_PKCS (adds type-1 padding) or CKM_RSA_X_509. */
static int bridge_rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
			       int padding)
{
	struct keybridge *b = RSA_get_ex_data(rsa, bridge_rsa_index);
	size_t outlen = (size_t)RSA_size(rsa);
	CK_MECHANISM_TYPE mech;

	if (b == NULL || flen <= 0)
		return -1;
	if (padding == RSA_PKCS1_PADDING)
		mech = CKM_RSA_PKCS;
	else if (padding == RSA_NO_PADDING)
		mech = CKM_RSA_X_509;
	else
		return -1;
	if (bridge_sign_raw(b, mech, from, (size_t)flen, to, &outlen) != 0)
		return -1;
	return (int)outlen;
}

/*
 * Decryption, for RA keys only (keystore_decrypt refuses any other):
 * PKCS#1 v1.5 is removed by the token (CKM_RSA_PKCS); for OAEP OpenSSL asks
 * for the raw block (RSA_NO_PADDING, CKM_RSA_X_509) and checks the padding
 * itself, with the hash the CMS RecipientInfo names.
 */
static int bridge_rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
			       int padding)
{
	struct keybridge *b = RSA_get_ex_data(rsa, bridge_rsa_index);
	size_t outlen = (size_t)RSA_size(rsa);
	enum keystore_decrypt how;

	if (b == NULL || flen <= 0)
		return -1;
	if (padding == RSA_PKCS1_PADDING)
		how = KEYSTORE_DECRYPT_RSA_PKCS;
	else if (padding == RSA_NO_PADDING)
		how = KEYSTORE_DECRYPT_RSA_RAW;
	else
		return -1;
	if (keystore_decrypt(b->ks, b->session, b->key, how, from, (size_t)flen, to, &outlen,
			     b->em) != 0)
		return -1;
	return (int)outlen;
}

int keybridge_init(void)
{
	int (*ec_sign)(int, const unsigned char *, int, unsigned char *, unsigned int *,
		       const BIGNUM *, const BIGNUM *, EC_KEY *) = NULL;
	int (*ec_setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;

	bridge_ec_index = EC_KEY_get_ex_new_index(0, "signet keybridge", NULL, NULL, NULL);
	bridge_rsa_index = RSA_get_ex_new_index(0, "signet keybridge", NULL, NULL, NULL);
	bridge_ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
	bridge_rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL());
	if (bridge_ec_index < 0 || bridge_rsa_index < 0 || bridge_ec_method == NULL ||
	    bridge_rsa_method == NULL)
		return SIGNET_E_INTERNAL;
	/* Keep OpenSSL's DER-producing sign(), which calls our sign_sig(). */
	EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), &ec_sign, &ec_setup, NULL);
	EC_KEY_METHOD_set_sign(bridge_ec_method, ec_sign, NULL, bridge_ecdsa_sign_sig);
	RSA_meth_set1_name(bridge_rsa_method, "signet token RSA");
	RSA_meth_set_priv_enc(bridge_rsa_method, bridge_rsa_priv_enc);
	RSA_meth_set_priv_dec(bridge_rsa_method, bridge_rsa_priv_dec);
	return 0;
}

void keybridge_fini(void)
{
	EC_KEY_METHOD_free(bridge_ec_method);
	RSA_meth_free(bridge_rsa_method);
	bridge_ec_method = NULL;
	bridge_rsa_method = NULL;
}

static EVP_PKEY *bridge_ec_pkey(struct keybridge *b)
{
	/* A private copy: the get0 object is OpenSSL's cache, shared by all threads. */
	EC_KEY *ec = EC_KEY_dup(EVP_PKEY_get0_EC_KEY(b->key->pub_pkey));
	EVP_PKEY *pkey = EVP_PKEY_new();

	if (ec == NULL || pkey == NULL || !EC_KEY_set_method(ec, bridge_ec_method) ||
	    !EC_KEY_set_ex_data(ec, bridge_ec_index, b) || !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
		EC_KEY_free(ec);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey; /* ec transferred */
}

static EVP_PKEY *bridge_rsa_pkey(struct keybridge *b)
{
	RSA *rsa = RSAPublicKey_dup(EVP_PKEY_get0_RSA(b->key->pub_pkey));
	EVP_PKEY *pkey = EVP_PKEY_new();

	if (rsa == NULL || pkey == NULL || !RSA_set_method(rsa, bridge_rsa_method) ||
	    !RSA_set_ex_data(rsa, bridge_rsa_index, b) || !EVP_PKEY_assign_RSA(pkey, rsa)) {
		RSA_free(rsa);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey; /* rsa transferred */
}

EVP_PKEY *keybridge_pkey(struct keybridge *b)
{
	switch (EVP_PKEY_get_base_id(b->key->pub_pkey)) {
	case EVP_PKEY_EC:
		return bridge_ec_pkey(b);
	case EVP_PKEY_RSA:
		return bridge_rsa_pkey(b);
	default:
		return NULL;
	}
}

int keybridge_sign_error(struct errmsg *em)
{
	int r = em->err != 0 ? em->err : errmsg_openssl(em, SIGNET_E_INTERNAL, "signing failed");

	ERR_clear_error();
	return r;
}
