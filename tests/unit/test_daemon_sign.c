/* Unit tests for daemon/hsm/sign.c: mechanism choice, C_Sign input, ECDSA encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/sha.h>

#include "hsm/sign.h"

static void test_defaults_follow_the_key(void **state)
{
	struct sign_plan p;

	(void)state;
	assert_int_equal(sign_plan_make(SIGNET_KEY_EC_P256, 0, 0, &p, NULL), 0);
	assert_int_equal(p.hash, SIGNET_HASH_SHA256);
	assert_int_equal(p.format, SIGNET_SIG_ECDSA_DER);
	assert_int_equal(p.mechanism, CKM_ECDSA);
	assert_int_equal(sign_plan_make(SIGNET_KEY_EC_P384, 0, 0, &p, NULL), 0);
	assert_int_equal(p.hash, SIGNET_HASH_SHA384);
	assert_int_equal(sign_plan_make(SIGNET_KEY_RSA_3072, 0, 0, &p, NULL), 0);
	assert_int_equal(p.format, SIGNET_SIG_RSA_PKCS1);
	assert_int_equal(p.mechanism, CKM_RSA_PKCS);
}

static void test_pss_parameters(void **state)
{
	struct sign_plan p;
	CK_MECHANISM mech;

	(void)state;
	assert_int_equal(sign_plan_make(SIGNET_KEY_RSA_2048, SIGNET_HASH_SHA384, SIGNET_SIG_RSA_PSS,
					&p, NULL),
			 0);
	sign_plan_mechanism(&p, &mech);
	assert_int_equal(mech.mechanism, CKM_RSA_PKCS_PSS);
	assert_int_equal(mech.ulParameterLen, sizeof(CK_RSA_PKCS_PSS_PARAMS));
	assert_int_equal(p.pss.hashAlg, CKM_SHA384);
	assert_int_equal(p.pss.mgf, CKG_MGF1_SHA384);
	assert_int_equal(p.pss.sLen, 48);
}

static void test_format_must_fit_key(void **state)
{
	struct errmsg em = {0};
	struct sign_plan p;

	(void)state;
	assert_int_equal(sign_plan_make(SIGNET_KEY_EC_P256, 0, SIGNET_SIG_RSA_PSS, &p, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "RSA key"));
	assert_int_equal(sign_plan_make(SIGNET_KEY_RSA_2048, 0, SIGNET_SIG_ECDSA_RAW, &p, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "EC key"));
	assert_int_equal(sign_plan_make(SIGNET_KEY_EC_P256, 9, 0, &p, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(sign_plan_make(SIGNET_KEY_EC_P256, 0, 42, &p, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(sign_plan_make(SIGNET_KEY_UNSPECIFIED, 0, 0, &p, &em),
			 SIGNET_E_FAILED_PRECONDITION);
}

static void test_message_is_hashed(void **state)
{
	static const uint8_t msg[] = "nonce";
	uint8_t out[SIGN_MAX_INPUT], want[SHA256_DIGEST_LENGTH];
	size_t len = 0;
	struct sign_plan p;

	(void)state;
	assert_int_equal(sign_plan_make(SIGNET_KEY_EC_P256, 0, 0, &p, NULL), 0);
	assert_int_equal(sign_build_input(&p, msg, 5, 0, out, &len, NULL), 0);
	SHA256(msg, 5, want);
	assert_int_equal(len, 32);
	assert_memory_equal(out, want, 32);
}

static void test_pkcs1_gets_digestinfo(void **state)
{
	uint8_t digest[64], out[SIGN_MAX_INPUT];
	size_t len = 0;
	struct sign_plan p;

	(void)state;
	memset(digest, 0xab, sizeof(digest));
	assert_int_equal(sign_plan_make(SIGNET_KEY_RSA_2048, SIGNET_HASH_SHA512, 0, &p, NULL), 0);
	assert_int_equal(sign_build_input(&p, digest, 64, 1, out, &len, NULL), 0);
	assert_int_equal(len, 19 + 64);
	/* SEQUENCE, length 0x51, then the sha512 OID's last byte 0x03 at offset 14 */
	assert_int_equal(out[0], 0x30);
	assert_int_equal(out[1], 0x51);
	assert_int_equal(out[14], 0x03);
	assert_memory_equal(out + 19, digest, 64);
}

static void test_digest_length_checked(void **state)
{
	uint8_t digest[31] = {0}, out[SIGN_MAX_INPUT];
	size_t len = 0;
	struct errmsg em = {0};
	struct sign_plan p;

	(void)state;
	assert_int_equal(sign_plan_make(SIGNET_KEY_EC_P256, 0, 0, &p, NULL), 0);
	assert_int_equal(sign_build_input(&p, digest, sizeof(digest), 1, out, &len, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "32 bytes, got 31"));
}

static void test_raw_to_der_round_trip(void **state)
{
	uint8_t raw[64], der[SIGN_MAX_SIG];
	const unsigned char *p = der;
	size_t der_len = 0;
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;
	uint8_t back[64];

	(void)state;
	for (int i = 0; i < 64; i++)
		raw[i] = (uint8_t)(i == 0 || i == 32 ? 0x80 : i);
	assert_int_equal(sign_ecdsa_raw_to_der(raw, sizeof(raw), der, &der_len), 0);
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(sig);
	ECDSA_SIG_get0(sig, &r, &s);
	assert_int_equal(BN_bn2binpad(r, back, 32), 32);
	assert_int_equal(BN_bn2binpad(s, back + 32, 32), 32);
	assert_memory_equal(back, raw, 64);
	ECDSA_SIG_free(sig);
	/* odd or empty lengths are not signatures */
	assert_int_not_equal(sign_ecdsa_raw_to_der(raw, 63, der, &der_len), 0);
	assert_int_not_equal(sign_ecdsa_raw_to_der(raw, 0, der, &der_len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_follow_the_key),
		cmocka_unit_test(test_pss_parameters),
		cmocka_unit_test(test_format_must_fit_key),
		cmocka_unit_test(test_message_is_hashed),
		cmocka_unit_test(test_pkcs1_gets_digestinfo),
		cmocka_unit_test(test_digest_length_checked),
		cmocka_unit_test(test_raw_to_der_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
