/* client/pkcs11/sign.c: mechanisms -> SignNonce digests, and PKCS#11's output convention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "p11.h"

static struct p11_object ec_key = {.cls = CKO_PRIVATE_KEY, .key_type = CKK_EC, .sig_len = 64};
static struct p11_object rsa_key = {.cls = CKO_PRIVATE_KEY, .key_type = CKK_RSA, .sig_len = 256};
static struct p11_object pub_key = {.cls = CKO_PUBLIC_KEY, .key_type = CKK_EC};

static void test_output_convention(void **state)
{
	static const struct {
		int buf;       /* 0: NULL, a length query */
		CK_ULONG have; /* *out_len on entry */
		CK_RV rv;
		CK_ULONG out_len; /* on return */
		int proceed;
	} rows[] = {
		{0, 0, CKR_OK, 64, 0},
		{0, 1000, CKR_OK, 64, 0},
		{1, 63, CKR_BUFFER_TOO_SMALL, 64, 0},
		{1, 0, CKR_BUFFER_TOO_SMALL, 64, 0},
		{1, 64, CKR_OK, 64, 1},
		{1, 100, CKR_OK, 100, 1}, /* the signature sets the length */
	};
	unsigned char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CK_ULONG len = rows[i].have;
		int proceed = -1;

		assert_int_equal(p11_output_check(rows[i].buf ? buf : NULL, &len, 64, &proceed),
				 rows[i].rv);
		assert_int_equal(len, rows[i].out_len);
		assert_int_equal(proceed, rows[i].proceed);
	}
}

static void test_init_rows(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS ok = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_RSA_PKCS_PSS_PARAMS salt = {CKM_SHA256, CKG_MGF1_SHA256, 20};
	CK_RSA_PKCS_PSS_PARAMS mgf = {CKM_SHA256, CKG_MGF1_SHA384, 32};
	CK_RSA_PKCS_PSS_PARAMS sha1 = {CKM_SHA_1, CKG_MGF1_SHA1, 20};
	CK_RSA_PKCS_PSS_PARAMS p384 = {CKM_SHA384, CKG_MGF1_SHA384, 48};
	const struct {
		CK_MECHANISM mech;
		const struct p11_object *key;
		CK_RV rv;
	} rows[] = {
		{{CKM_ECDSA, NULL, 0}, &ec_key, CKR_OK},
		{{CKM_ECDSA_SHA256, NULL, 0}, &ec_key, CKR_OK},
		{{CKM_ECDSA_SHA384, NULL, 0}, &ec_key, CKR_OK},
		{{CKM_RSA_PKCS, NULL, 0}, &rsa_key, CKR_OK},
		{{CKM_SHA256_RSA_PKCS, NULL, 0}, &rsa_key, CKR_OK},
		{{CKM_RSA_PKCS_PSS, &ok, sizeof(ok)}, &rsa_key, CKR_OK},
		{{CKM_SHA384_RSA_PKCS_PSS, &p384, sizeof(p384)}, &rsa_key, CKR_OK},
		{{CKM_SHA256_RSA_PKCS_PSS, &p384, sizeof(p384)},
		 &rsa_key,
		 CKR_MECHANISM_PARAM_INVALID},
		{{CKM_RSA_PKCS_PSS, &salt, sizeof(salt)}, &rsa_key, CKR_MECHANISM_PARAM_INVALID},
		{{CKM_RSA_PKCS_PSS, &mgf, sizeof(mgf)}, &rsa_key, CKR_MECHANISM_PARAM_INVALID},
		{{CKM_RSA_PKCS_PSS, &sha1, sizeof(sha1)}, &rsa_key, CKR_MECHANISM_PARAM_INVALID},
		{{CKM_RSA_PKCS_PSS, NULL, 0}, &rsa_key, CKR_MECHANISM_PARAM_INVALID},
		{{CKM_ECDSA, &ok, sizeof(ok)}, &ec_key, CKR_MECHANISM_PARAM_INVALID},
		{{CKM_ECDSA, NULL, 0}, &rsa_key, CKR_KEY_TYPE_INCONSISTENT},
		{{CKM_SHA256_RSA_PKCS, NULL, 0}, &ec_key, CKR_KEY_TYPE_INCONSISTENT},
		{{CKM_ECDSA, NULL, 0}, &pub_key, CKR_KEY_HANDLE_INVALID},
		{{CKM_ECDSA, NULL, 0}, NULL, CKR_KEY_HANDLE_INVALID},
		{{CKM_SHA1_RSA_PKCS, NULL, 0}, &rsa_key, CKR_MECHANISM_INVALID},
		{{CKM_RSA_X_509, NULL, 0}, &rsa_key, CKR_MECHANISM_INVALID},
		{{CKM_ECDSA_SHA1, NULL, 0}, &ec_key, CKR_MECHANISM_INVALID},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct p11_signop op = {0};
		CK_RV rv = p11_sign_init(&op, &rows[i].mech, rows[i].key);

		if (rv != rows[i].rv)
			fail_msg("row %zu: mechanism 0x%lx: 0x%lx", i,
				 (unsigned long)rows[i].mech.mechanism, (unsigned long)rv);
		assert_int_equal(op.active, rv == CKR_OK);
		p11_sign_end(&op);
	}
}

/* The digest `mech` makes of `in` (fed in two parts), or its error. */
static CK_RV digest_of(CK_MECHANISM_TYPE mech, const struct p11_object *key, const void *in,
		       size_t len, uint8_t *digest, size_t *dlen, enum signet_hash *hash,
		       enum signet_sig_format *fmt)
{
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_MECHANISM m = {mech, NULL, 0};
	struct p11_signop op;
	CK_RV rv;

	if (mech == CKM_RSA_PKCS_PSS)
		m = (CK_MECHANISM){mech, &pss, sizeof(pss)};
	assert_int_equal(p11_sign_init(&op, &m, key), CKR_OK);
	if ((rv = p11_sign_update(&op, in, len / 2)) == CKR_OK &&
	    (rv = p11_sign_update(&op, (const uint8_t *)in + len / 2, len - len / 2)) == CKR_OK)
		rv = p11_sign_digest(&op, digest, dlen, hash);
	*fmt = op.fmt;
	p11_sign_end(&op);
	return rv;
}

static void test_digests(void **state)
{
	static const unsigned char info256[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
						  0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
						  0x01, 0x05, 0x00, 0x04, 0x20};
	unsigned char sha256[32], sha384[48], in[64], digest[64], big[600] = {0};
	size_t dlen;
	enum signet_hash h;
	enum signet_sig_format fmt;

	(void)state;
	EVP_Digest("message", 7, sha256, NULL, EVP_sha256(), NULL);
	EVP_Digest("message", 7, sha384, NULL, EVP_sha384(), NULL);
	/* hashing mechanisms hash here, whatever the parts */
	assert_int_equal(
		digest_of(CKM_ECDSA_SHA256, &ec_key, "message", 7, digest, &dlen, &h, &fmt),
		CKR_OK);
	assert_int_equal(h, SIGNET_HASH_SHA256);
	assert_int_equal(fmt, SIGNET_SIG_ECDSA_RAW);
	assert_memory_equal(digest, sha256, 32);
	assert_int_equal(
		digest_of(CKM_SHA384_RSA_PKCS, &rsa_key, "message", 7, digest, &dlen, &h, &fmt),
		CKR_OK);
	assert_int_equal(h, SIGNET_HASH_SHA384);
	assert_int_equal(fmt, SIGNET_SIG_RSA_PKCS1);
	assert_memory_equal(digest, sha384, 48);
	/* CKM_ECDSA: the hash follows from the digest's length */
	assert_int_equal(digest_of(CKM_ECDSA, &ec_key, sha384, 48, digest, &dlen, &h, &fmt),
			 CKR_OK);
	assert_int_equal(h, SIGNET_HASH_SHA384);
	assert_int_equal(dlen, 48);
	assert_int_equal(digest_of(CKM_ECDSA, &ec_key, sha256, 20, digest, &dlen, &h, &fmt),
			 CKR_DATA_LEN_RANGE);
	/* CKM_RSA_PKCS: a DigestInfo, nothing else */
	memcpy(in, info256, 19);
	memcpy(in + 19, sha256, 32);
	assert_int_equal(digest_of(CKM_RSA_PKCS, &rsa_key, in, 51, digest, &dlen, &h, &fmt),
			 CKR_OK);
	assert_int_equal(h, SIGNET_HASH_SHA256);
	assert_memory_equal(digest, sha256, 32);
	assert_int_equal(digest_of(CKM_RSA_PKCS, &rsa_key, sha256, 32, digest, &dlen, &h, &fmt),
			 CKR_DATA_INVALID);
	/* CKM_RSA_PKCS_PSS: a digest of the parameters' hash */
	assert_int_equal(digest_of(CKM_RSA_PKCS_PSS, &rsa_key, sha256, 32, digest, &dlen, &h, &fmt),
			 CKR_OK);
	assert_int_equal(fmt, SIGNET_SIG_RSA_PSS);
	assert_int_equal(digest_of(CKM_RSA_PKCS_PSS, &rsa_key, sha384, 48, digest, &dlen, &h, &fmt),
			 CKR_DATA_LEN_RANGE);
	/* the raw mechanisms take a few dozen bytes, not a message */
	assert_int_equal(digest_of(CKM_ECDSA, &ec_key, big, sizeof(big), digest, &dlen, &h, &fmt),
			 CKR_DATA_LEN_RANGE);
}

static void test_mechanisms(void **state)
{
	CK_MECHANISM_TYPE list[32];
	CK_ULONG n = 0;
	CK_MECHANISM_INFO info;

	(void)state;
	assert_int_equal(p11_mech_list(NULL, &n), CKR_OK);
	assert_int_equal(n, 12);
	n = 2;
	assert_int_equal(p11_mech_list(list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 12);
	n = 32;
	assert_int_equal(p11_mech_list(list, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++) {
		assert_int_equal(p11_mech_info(list[i], &info), CKR_OK);
		assert_true(info.flags & CKF_SIGN);
		assert_false(info.flags & (CKF_VERIFY | CKF_DECRYPT | CKF_ENCRYPT));
	}
	assert_int_equal(p11_mech_info(CKM_MD5, &info), CKR_MECHANISM_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_convention),
		cmocka_unit_test(test_init_rows),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_mechanisms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
