/* Unit tests for daemon/crl.c: CRLv2 content, and OpenSSL's verifier
 * rejecting a revoked certificate while its sibling passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "pki/certbuild.h"
#include "pki/crl.h"

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int is_ca,
		       unsigned usage)
{
	X509_NAME *subject = X509_NAME_new();
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = subject,
				 .subject_key = key,
				 .issuer = issuer,
				 .not_before = now - 60,
				 .not_after = now + 86400,
				 .is_ca = is_ca,
				 .path_len = -1,
				 .key_usage = usage};
	X509 *cert = NULL;

	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				   0);
	assert_int_equal(certbuild_sign(&spec, issuer_key != NULL ? issuer_key : key,
					issuer_key != NULL ? issuer_key : key, EVP_sha256(), &cert,
					NULL),
			 0);
	X509_NAME_free(subject);
	return cert;
}

static void serial_hex(X509 *cert, char out[LEDGER_SERIAL_MAX])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = BN_bn2hex(bn);

	snprintf(out, LEDGER_SERIAL_MAX, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* Does OpenSSL accept `leaf` under `root` with this CRL (crl_check)? */
static int verify_with_crl(X509 *root, X509 *leaf, X509_CRL *crl)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	X509_STORE_add_cert(store, root);
	X509_STORE_add_crl(store, crl);
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	ok = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void test_crl_content_and_verify(void **state)
{
	EVP_PKEY *ck = EVP_EC_gen("P-256"), *k1 = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
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
	serial_hex(revoked, entries[0].serial);
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

	assert_int_equal(verify_with_crl(ca, revoked, crl), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(verify_with_crl(ca, sibling, crl), 0);
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
	EVP_PKEY *ck = EVP_EC_gen("P-256");
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
