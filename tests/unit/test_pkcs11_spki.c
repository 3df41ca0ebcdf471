/* client/pkcs11/spki.c: a key's PKCS#11 attributes from its SubjectPublicKeyInfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p11.h"

/* A fresh key of `alg` ("EC"/"RSA"/"ED25519") with `param`; its SPKI DER in `*der`. */
static EVP_PKEY *spki_of(const char *alg, const char *param, unsigned char **der, int *len)
{
	EVP_PKEY *k = NULL;

	if (strcmp(alg, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	else if (strcmp(alg, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, alg);
	assert_non_null(k);
	*der = NULL;
	*len = i2d_PUBKEY(k, der);
	assert_true(*len > 0);
	return k;
}

static const struct {
	const char *curve;
	uint8_t oid[10]; /* DER OBJECT IDENTIFIER */
	size_t oid_len;
	CK_ULONG bits;
	size_t sig_len;
} curves[] = {
	{"P-256", {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 10, 256, 64},
	{"P-384", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 7, 384, 96},
	{"P-521", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}, 7, 521, 132},
};

static void test_ec_curves(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		struct p11_keyattrs ka;
		unsigned char *der, point[200];
		size_t point_len = 0, n = curves[i].bits == 521 ? 133 : 1 + curves[i].bits / 4;
		int len;
		EVP_PKEY *k = spki_of("EC", curves[i].curve, &der, &len);

		assert_int_equal(p11_spki_attrs(der, (size_t)len, &ka), CKR_OK);
		assert_int_equal(ka.key_type, CKK_EC);
		assert_int_equal(ka.bits, curves[i].bits);
		assert_int_equal(ka.sig_len, curves[i].sig_len);
		assert_memory_equal(ka.ec_params, curves[i].oid, curves[i].oid_len);
		assert_int_equal(ka.ec_params_len, curves[i].oid_len);
		/* EC_POINT: OCTET STRING (04, length) around the uncompressed point */
		EVP_PKEY_get_octet_string_param(k, "pub", point, sizeof(point), &point_len);
		assert_int_equal(point_len, n);
		assert_int_equal(ka.ec_point[0], 0x04);
		assert_memory_equal(ka.ec_point + ka.ec_point_len - n, point, n);
		assert_int_equal(ka.ec_point_len, n + (n < 128 ? 2 : 3));
		assert_null(ka.modulus);
		p11_keyattrs_free(&ka);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

static void test_rsa(void **state)
{
	struct p11_keyattrs ka;
	unsigned char *der;
	int len;
	EVP_PKEY *k = spki_of("RSA", NULL, &der, &len);

	(void)state;
	assert_int_equal(p11_spki_attrs(der, (size_t)len, &ka), CKR_OK);
	assert_int_equal(ka.key_type, CKK_RSA);
	assert_int_equal(ka.bits, 2048);
	assert_int_equal(ka.sig_len, 256);
	assert_int_equal(ka.modulus_len, 256);
	assert_true(ka.modulus[0] & 0x80);
	assert_int_equal(ka.exponent_len, 3); /* 65537 */
	assert_memory_equal(ka.exponent, "\x01\x00\x01", 3);
	assert_null(ka.ec_params);
	p11_keyattrs_free(&ka);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void test_refused(void **state)
{
	struct p11_keyattrs ka;
	unsigned char *der, junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	int len;
	EVP_PKEY *k = spki_of("ED25519", NULL, &der, &len);
	unsigned char *longer = malloc((size_t)len + 1);

	(void)state;
	assert_int_equal(p11_spki_attrs(der, (size_t)len, &ka), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(p11_spki_attrs(junk, sizeof(junk), &ka), CKR_DEVICE_ERROR);
	assert_int_equal(p11_spki_attrs(NULL, 0, &ka), CKR_DEVICE_ERROR);
	memcpy(longer, der, (size_t)len);
	longer[len] = 0;
	assert_int_equal(p11_spki_attrs(longer, (size_t)len + 1, &ka), CKR_DEVICE_ERROR);
	p11_keyattrs_free(&ka);
	p11_keyattrs_free(NULL);
	free(longer);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_curves),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
