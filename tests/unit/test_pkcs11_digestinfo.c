/* client/pkcs11/digestinfo.c: the DigestInfo CKM_RSA_PKCS signs, as (input -> hash, digest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p11.h"

/* OpenSSL's own DigestInfo for `md` over "abc", the reference encoding. */
static size_t digestinfo(const EVP_MD *md, unsigned char *out, unsigned char *digest)
{
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *os;
	unsigned int n;
	unsigned char *p = out;
	int len;

	EVP_Digest("abc", 3, digest, &n, md, NULL);
	X509_SIG_getm(sig, &alg, &os);
	X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL);
	ASN1_OCTET_STRING_set(os, digest, (int)n);
	len = i2d_X509_SIG(sig, &p);
	X509_SIG_free(sig);
	return (size_t)len;
}

static void test_known_hashes(void **state)
{
	static const struct {
		const char *md;
		enum signet_hash hash;
		size_t len;
	} rows[] = {{"SHA256", SIGNET_HASH_SHA256, 32},
		    {"SHA384", SIGNET_HASH_SHA384, 48},
		    {"SHA512", SIGNET_HASH_SHA512, 64}};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned char in[128], digest[64];
		const uint8_t *d;
		size_t dlen, n = digestinfo(EVP_get_digestbyname(rows[i].md), in, digest);
		enum signet_hash h;

		assert_int_equal(p11_digestinfo_parse(in, n, &h, &d, &dlen), CKR_OK);
		assert_int_equal(h, rows[i].hash);
		assert_int_equal(dlen, rows[i].len);
		assert_memory_equal(d, digest, dlen);
		assert_int_equal(p11_hash_by_len(rows[i].len), rows[i].hash);
		/* a byte more or less, or a bare digest, is not a DigestInfo */
		assert_int_equal(p11_digestinfo_parse(in, n - 1, &h, &d, &dlen), CKR_DATA_INVALID);
		assert_int_equal(p11_digestinfo_parse(in, n + 1, &h, &d, &dlen), CKR_DATA_INVALID);
		assert_int_equal(p11_digestinfo_parse(digest, dlen, &h, &d, &dlen),
				 CKR_DATA_INVALID);
	}
}

static void test_refused(void **state)
{
	unsigned char in[128], digest[64], md5sha1[36] = {0};
	const uint8_t *d;
	size_t dlen;
	enum signet_hash h;

	(void)state;
	/* SHA-1 and SHA-224: hashes signetd does not sign */
	assert_int_equal(
		p11_digestinfo_parse(in, digestinfo(EVP_sha1(), in, digest), &h, &d, &dlen),
		CKR_DATA_INVALID);
	assert_int_equal(
		p11_digestinfo_parse(in, digestinfo(EVP_sha224(), in, digest), &h, &d, &dlen),
		CKR_DATA_INVALID);
	/* TLS 1.0's MD5 || SHA-1 */
	assert_int_equal(p11_digestinfo_parse(md5sha1, sizeof(md5sha1), &h, &d, &dlen),
			 CKR_DATA_INVALID);
	assert_int_equal(p11_hash_by_len(20), -1);
	assert_int_equal(p11_hash_by_len(0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_hashes),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
