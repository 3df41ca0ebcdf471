/* Unit tests for daemon/pki/sigverify.c: every format SignNonce produces
 * verifies, and every way a signature can be wrong is told apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include "pki/sigverify.h"

static const uint8_t nonce[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

/* OpenSSL's own signature over the nonce, as a device would make it. */
static size_t sign_with(EVP_PKEY *key, const EVP_MD *md, int pss, uint8_t *sig, size_t cap)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t len = cap;

	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, key), 1);
	if (pss) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0);
	}
	assert_int_equal(EVP_DigestSign(ctx, sig, &len, nonce, sizeof(nonce)), 1);
	EVP_MD_CTX_free(ctx);
	return len;
}

/* DER ECDSA-Sig-Value -> r || s, each half `field` bytes. */
static size_t der_to_raw(const uint8_t *der, size_t len, size_t field, uint8_t *raw)
{
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);

	assert_non_null(s);
	assert_true(BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, (int)field) > 0);
	assert_true(BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + field, (int)field) > 0);
	ECDSA_SIG_free(s);
	return 2 * field;
}

static void test_ec_formats(void **state)
{
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *p384 = EVP_EC_gen("P-384"),
		 *other = EVP_EC_gen("P-256");
	uint8_t sig[256], raw[132];
	struct errmsg em = {0};
	size_t len, rawlen;

	(void)state;
	len = sign_with(p256, EVP_sha256(), 0, sig, sizeof(sig));
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), sig, len,
					   SIGNET_HASH_DEFAULT, SIGNET_SIG_DEFAULT, &em),
			 0);
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), sig, len, SIGNET_HASH_SHA256,
					   SIGNET_SIG_ECDSA_DER, &em),
			 0);
	rawlen = der_to_raw(sig, len, 32, raw);
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), raw, rawlen,
					   SIGNET_HASH_SHA256, SIGNET_SIG_ECDSA_RAW, &em),
			 0);
	/* another key's signature, another message, another hash */
	assert_int_equal(sigverify_message(other, nonce, sizeof(nonce), sig, len,
					   SIGNET_HASH_SHA256, SIGNET_SIG_ECDSA_DER, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "does not verify"));
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce) - 1, sig, len,
					   SIGNET_HASH_SHA256, SIGNET_SIG_ECDSA_DER, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), sig, len, SIGNET_HASH_SHA384,
					   SIGNET_SIG_ECDSA_DER, &em),
			 SIGNET_E_UNAUTHENTICATED);
	/* malformed: truncated DER, raw of the wrong length, empty, an RSA format */
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), sig, len - 3,
					   SIGNET_HASH_SHA256, SIGNET_SIG_ECDSA_DER, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "not a DER ECDSA-Sig-Value"));
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), raw, rawlen - 1,
					   SIGNET_HASH_SHA256, SIGNET_SIG_ECDSA_RAW, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), sig, 0, SIGNET_HASH_SHA256,
					   SIGNET_SIG_ECDSA_DER, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(sigverify_message(p256, nonce, sizeof(nonce), sig, len, SIGNET_HASH_SHA256,
					   SIGNET_SIG_RSA_PSS, &em),
			 SIGNET_E_INVALID_ARGUMENT);

	/* P-384 defaults to SHA-384; raw halves are 48 bytes */
	len = sign_with(p384, EVP_sha384(), 0, sig, sizeof(sig));
	assert_int_equal(sigverify_message(p384, nonce, sizeof(nonce), sig, len,
					   SIGNET_HASH_DEFAULT, SIGNET_SIG_DEFAULT, &em),
			 0);
	rawlen = der_to_raw(sig, len, 48, raw);
	assert_int_equal(sigverify_message(p384, nonce, sizeof(nonce), raw, rawlen,
					   SIGNET_HASH_DEFAULT, SIGNET_SIG_ECDSA_RAW, &em),
			 0);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(other);
}

static void test_rsa_and_unsupported_keys(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *p521 = EVP_EC_gen("P-521");
	uint8_t sig[512];
	struct errmsg em = {0};
	size_t len;

	(void)state;
	len = sign_with(rsa, EVP_sha256(), 0, sig, sizeof(sig));
	assert_int_equal(sigverify_message(rsa, nonce, sizeof(nonce), sig, len, SIGNET_HASH_DEFAULT,
					   SIGNET_SIG_DEFAULT, &em),
			 0);
	/* a PKCS#1 v1.5 signature is no PSS signature */
	assert_int_equal(sigverify_message(rsa, nonce, sizeof(nonce), sig, len, SIGNET_HASH_SHA256,
					   SIGNET_SIG_RSA_PSS, &em),
			 SIGNET_E_UNAUTHENTICATED);
	len = sign_with(rsa, EVP_sha384(), 1, sig, sizeof(sig));
	assert_int_equal(sigverify_message(rsa, nonce, sizeof(nonce), sig, len, SIGNET_HASH_SHA384,
					   SIGNET_SIG_RSA_PSS, &em),
			 0);
	assert_int_equal(sigverify_message(rsa, nonce, sizeof(nonce), sig, len, SIGNET_HASH_SHA384,
					   SIGNET_SIG_ECDSA_RAW, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(sigverify_message(p521, nonce, sizeof(nonce), sig, 64, SIGNET_HASH_SHA256,
					   SIGNET_SIG_DEFAULT, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "secp521r1"));
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p521);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_formats),
		cmocka_unit_test(test_rsa_and_unsupported_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
