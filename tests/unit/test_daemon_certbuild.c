/*
 * Unit tests for daemon/pki/certbuild.c with software keys standing in for token
 * keys: a root -> intermediate -> leaf chain that OpenSSL's verifier accepts,
 * the extensions RFC 5280 and the IoT profiles ask for, and every refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/x509der.h"
#include "pki/certbuild.h"
#include "testpki.h"

#define DAY (24 * 3600)

static X509 *make_ca(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_signer,
		     int path_len, time_t days)
{
	X509_NAME *subject = testpki_name(cn);
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = subject,
				 .subject_key = key,
				 .issuer = issuer,
				 .not_before = now - 60,
				 .not_after = now + days * DAY,
				 .is_ca = 1,
				 .path_len = path_len,
				 .key_usage =
					 KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN};
	struct errmsg em = {0};
	X509 *cert = NULL;
	int r = certbuild_sign(&spec, issuer_signer != NULL ? issuer_signer : key,
			       issuer != NULL ? X509_get0_pubkey(issuer) : key, EVP_sha256(), &cert,
			       &em);

	if (r != 0)
		fail_msg("make_ca(%s): %s", cn, em.text);
	X509_NAME_free(subject);
	return cert;
}

/* Does OpenSSL accept leaf under root, through inter (may be NULL), for purpose? */
static int verify_chain(X509 *root, X509 *inter, X509 *leaf, int purpose)
{
	return testpki_verify(root, inter, leaf, NULL, purpose) == 0;
}

static void test_chain_verifies(void **state)
{
	EVP_PKEY *rk = testpki_key(), *ik = testpki_key(), *dk = testpki_key();
	X509 *root = make_ca("Root", rk, NULL, NULL, 1, 3650);
	X509 *inter = make_ca("Inter", ik, root, rk, 0, 365);
	X509_NAME *subject = testpki_name("device-0042");
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = subject,
				 .subject_key = dk,
				 .issuer = inter,
				 .not_before = now - 60,
				 .not_after = now + 30 * DAY,
				 .path_len = -1,
				 .key_usage = KU_DIGITAL_SIGNATURE,
				 .eku = {NID_client_auth},
				 .n_eku = 1};
	struct errmsg em = {0};
	X509 *leaf = NULL;
	const ASN1_INTEGER *serial;
	BIGNUM *bn;

	(void)state;
	assert_int_equal(
		certbuild_sign(&spec, ik, X509_get0_pubkey(inter), EVP_sha256(), &leaf, &em), 0);
	assert_true(verify_chain(root, inter, leaf, X509_PURPOSE_SSL_CLIENT));
	/* a client certificate is no server certificate */
	assert_false(verify_chain(root, inter, leaf, X509_PURPOSE_SSL_SERVER));
	/* without the intermediate there is no chain */
	assert_false(verify_chain(root, NULL, leaf, X509_PURPOSE_SSL_CLIENT));

	/* root: self-signed, no AKI needed; CA flags critical */
	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_get_pathlen(root), 1);
	assert_true(X509_get_extension_flags(root) & EXFLAG_SS);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(
				 root, X509_get_ext_by_NID(root, NID_basic_constraints, -1))),
			 1);
	/* AKI of each child is its issuer's SKI */
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(inter),
					       X509_get0_subject_key_id(root)),
			 0);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf),
					       X509_get0_subject_key_id(inter)),
			 0);
	/* leaf: not a CA, keyUsage critical digitalSignature, EKU clientAuth */
	assert_int_equal(X509_check_ca(leaf), 0);
	assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_EXTENSION_get_critical(
				 X509_get_ext(leaf, X509_get_ext_by_NID(leaf, NID_key_usage, -1))),
			 1);
	assert_true(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT);
	assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
	/* serial: positive, at most 20 octets, at least 64 bits */
	serial = X509_get0_serialNumber(leaf);
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	assert_false(BN_is_negative(bn));
	assert_true(BN_num_bytes(bn) <= 20);
	assert_true(BN_num_bits(bn) >= 64);
	assert_int_not_equal(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(inter)), 0);
	BN_free(bn);
	X509_free(leaf);
	X509_NAME_free(subject);
	X509_free(inter);
	X509_free(root);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(dk);
}

static void test_child_never_outlives_parent(void **state)
{
	EVP_PKEY *rk = testpki_key(), *ik = testpki_key();
	X509 *root = make_ca("Root", rk, NULL, NULL, -1, 10);
	X509 *inter = make_ca("Inter", ik, root, rk, -1, 1000);

	(void)state;
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(inter), X509_get0_notAfter(root)), 0);
	X509_free(inter);
	X509_free(root);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
}

/* The post-sign check refuses a certificate whose signature the issuer's key
 * does not verify (a token key that is not the CA certificate's), on the EC
 * path over the kept DER and on X509_verify()'s for RSA; and the DER kept
 * with a signed certificate is its encoding. */
static void check_wrong_issuer_key(EVP_PKEY *signer, EVP_PKEY *other, const EVP_MD *md)
{
	X509 *root = make_ca("Root", signer, NULL, NULL, 1, 100);
	X509_NAME *subject = testpki_name("device");
	EVP_PKEY *dk = testpki_key();
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = subject,
				 .subject_key = dk,
				 .issuer = root,
				 .not_before = now,
				 .not_after = now + DAY,
				 .path_len = -1,
				 .key_usage = KU_DIGITAL_SIGNATURE};
	struct errmsg em = {0};
	X509 *cert = NULL;
	unsigned char *kept = NULL, *fresh = NULL;
	int n, m;

	assert_int_equal(certbuild_sign(&spec, signer, other, md, &cert, &em), SIGNET_E_INTERNAL);
	assert_non_null(strstr(em.text, "does not verify"));
	assert_null(cert);
	assert_int_equal(certbuild_sign(&spec, signer, signer, md, &cert, &em), 0);
	n = x509der(cert, &kept);
	m = i2d_X509(cert, &fresh);
	assert_true(n > 0 && n == m);
	assert_memory_equal(kept, fresh, (size_t)n);
	OPENSSL_free(kept);
	OPENSSL_free(fresh);
	X509_free(cert);
	X509_free(root);
	X509_NAME_free(subject);
	EVP_PKEY_free(dk);
}

static void test_post_sign_check(void **state)
{
	EVP_PKEY *ec = testpki_key(), *ec2 = testpki_key();
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *rsa2 = EVP_RSA_gen(2048);

	(void)state;
	check_wrong_issuer_key(ec, ec2, EVP_sha256());
	check_wrong_issuer_key(ec, ec2, EVP_sha384());
	check_wrong_issuer_key(rsa, rsa2, EVP_sha256());
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
}

static void test_refusals(void **state)
{
	EVP_PKEY *rk = testpki_key(), *ik = testpki_key();
	X509 *root = make_ca("Root", rk, NULL, NULL, 0, 100);
	X509_NAME *subject = testpki_name("x"), *empty = X509_NAME_new();
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = subject,
				 .subject_key = ik,
				 .issuer = root,
				 .not_before = now,
				 .not_after = now + DAY,
				 .is_ca = 1,
				 .path_len = -1,
				 .key_usage = KU_KEY_CERT_SIGN};
	struct errmsg em = {0};
	X509 *cert = NULL, *leaf = NULL;

	(void)state;
	/* pathLen 0 at the root: no CA below it */
	assert_int_equal(certbuild_sign(&spec, rk, rk, EVP_sha256(), &cert, &em),
			 SIGNET_E_FAILED_PRECONDITION);
	assert_non_null(strstr(em.text, "pathLen"));
	/* pathLen on a leaf */
	spec.is_ca = 0;
	spec.path_len = 2;
	assert_int_equal(certbuild_sign(&spec, rk, rk, EVP_sha256(), &cert, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	/* validity that ends before it starts */
	spec.path_len = -1;
	spec.not_after = now - DAY;
	assert_int_equal(certbuild_sign(&spec, rk, rk, EVP_sha256(), &cert, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	/* neither subject nor SANs */
	spec.not_after = now + DAY;
	spec.subject = empty;
	assert_int_equal(certbuild_sign(&spec, rk, rk, EVP_sha256(), &cert, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	/* a leaf cannot issue */
	spec.subject = subject;
	spec.key_usage = KU_DIGITAL_SIGNATURE;
	assert_int_equal(certbuild_sign(&spec, rk, rk, EVP_sha256(), &leaf, &em), 0);
	spec.issuer = leaf;
	assert_int_equal(certbuild_sign(&spec, ik, rk, EVP_sha256(), &cert, &em),
			 SIGNET_E_FAILED_PRECONDITION);
	assert_non_null(strstr(em.text, "not a CA"));
	/* a signer that is not the issuer's key is caught before anything leaves */
	spec.issuer = root;
	assert_int_equal(certbuild_sign(&spec, ik, rk, EVP_sha256(), &cert, &em),
			 SIGNET_E_INTERNAL);
	assert_null(cert);
	X509_free(leaf);
	X509_NAME_free(subject);
	X509_NAME_free(empty);
	X509_free(root);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
}

static void test_serials_differ(void **state)
{
	ASN1_INTEGER *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(certbuild_serial(&a, NULL), 0);
	assert_int_equal(certbuild_serial(&b, NULL), 0);
	assert_int_not_equal(ASN1_INTEGER_cmp(a, b), 0);
	ASN1_INTEGER_free(a);
	ASN1_INTEGER_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_verifies),
		cmocka_unit_test(test_child_never_outlives_parent),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_post_sign_check),
		cmocka_unit_test(test_serials_differ),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
