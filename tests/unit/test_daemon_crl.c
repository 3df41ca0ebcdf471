/* Unit tests for daemon/pki/crl.c: CRLv2 content, and OpenSSL's verifier
 * rejecting a revoked certificate while its sibling passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "pki/crl.h"
#include "testpki.h"

/* Valid from a minute ago for a day, signed by issuer_key under issuer (NULL: self-signed). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int is_ca,
		       unsigned usage)
{
	time_t now = time(NULL);

	return testpki_cert(&(struct testpki_spec){.cn = cn,
						   .key = key,
						   .issuer = issuer,
						   .issuer_key = issuer_key,
						   .not_before = now - 60,
						   .not_after = now + 86400,
						   .is_ca = is_ca,
						   .path_len = -1,
						   .key_usage = usage});
}

static void test_crl_content_and_verify(void **state)
{
	EVP_PKEY *ck = testpki_key(), *k1 = testpki_key(), *k2 = testpki_key();
	X509 *ca = make_cert("CA", ck, NULL, NULL, 1, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	X509 *revoked = make_cert("dev-1", k1, ca, ck, 0, KU_DIGITAL_SIGNATURE);
	X509 *sibling = make_cert("dev-2", k2, ca, ck, 0, KU_DIGITAL_SIGNATURE);
	time_t now = time(NULL);
	struct ledger_revoked entries[2] = {
		{.revoked_at = now - 10,
		 .reason = LEDGER_REASON_KEY_COMPROMISE,
		 .invalidity_date = now - 3600},
		{.serial = "0123456789ABCDEF01", .revoked_at = now - 5},
	};
	struct crl_spec spec = {.issuer = ca,
				.revoked = entries,
				.n_revoked = 2,
				.number = 42,
				.this_update = now,
				.next_update = now + 86400};
	X509_CRL *crl = NULL;
	ASN1_INTEGER *number;
	ASN1_ENUMERATED *reason;
	X509_REVOKED *rev = NULL;
	struct errmsg em = {0};

	(void)state;
	testpki_serial_hex(revoked, entries[0].serial, sizeof(entries[0].serial));
	assert_int_equal(crl_build(&spec, ck, ck, EVP_sha256(), &crl, &em), 0);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)), 0);
	assert_non_null(number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL));
	assert_int_equal(ASN1_INTEGER_get(number), 42);
	ASN1_INTEGER_free(number);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(revoked)), 1);
	assert_non_null(reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL));
	assert_int_equal(ASN1_ENUMERATED_get(reason), LEDGER_REASON_KEY_COMPROMISE);
	ASN1_ENUMERATED_free(reason);
	assert_int_not_equal(X509_REVOKED_get_ext_by_NID(rev, NID_invalidity_date, -1), -1);
	/* the other entry's reason is unspecified: no reasonCode extension at all */
	rev = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0);
	if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(rev),
			     X509_get0_serialNumber(revoked)) == 0)
		rev = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 1);
	assert_int_equal(X509_REVOKED_get_ext_by_NID(rev, NID_crl_reason, -1), -1);

	assert_int_equal(testpki_verify(ca, NULL, revoked, crl, 0), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(testpki_verify(ca, NULL, sibling, crl, 0), 0);
	X509_CRL_free(crl);

	X509_free(ca);
	X509_free(revoked);
	X509_free(sibling);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void test_crl_refusals(void **state)
{
	EVP_PKEY *ck = testpki_key();
	X509 *nocrl = make_cert("CA", ck, NULL, NULL, 1, KU_KEY_CERT_SIGN);
	X509 *ca = make_cert("CA", ck, NULL, NULL, 1, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	struct ledger_revoked bad = {.serial = "not hex", .revoked_at = 1};
	time_t now = time(NULL);
	struct crl_spec spec = {
		.issuer = nocrl, .number = 1, .this_update = now, .next_update = now + 60};
	X509_CRL *crl = NULL;
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(crl_build(&spec, ck, ck, EVP_sha256(), &crl, &em),
			 SIGNET_E_FAILED_PRECONDITION);
	assert_non_null(strstr(em.text, "cRLSign"));
	spec.issuer = ca;
	spec.next_update = now;
	assert_int_equal(crl_build(&spec, ck, ck, EVP_sha256(), &crl, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	spec.next_update = now + 60;
	spec.revoked = &bad;
	spec.n_revoked = 1;
	assert_int_equal(crl_build(&spec, ck, ck, EVP_sha256(), &crl, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	/* an empty CRL is a CRL */
	spec.n_revoked = 0;
	assert_int_equal(crl_build(&spec, ck, ck, EVP_sha256(), &crl, &em), 0);
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0); /* NULL when empty */
	X509_CRL_free(crl);
	X509_free(nocrl);
	X509_free(ca);
	EVP_PKEY_free(ck);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crl_content_and_verify),
		cmocka_unit_test(test_crl_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
