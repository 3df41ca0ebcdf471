/*
 * Unit tests for daemon/pki/est.c: the EST checks that need no token, with
 * CSRs and certificates built here with OpenSSL (testpki): the tls-unique
 * link (RFC 7030 3.5, and nothing to check under TLS 1.3), the
 * re-enrolment's subject and SAN rule (4.2.2), and the /csrattrs DER.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>

#include "pki/est.h"
#include "testpki.h"

static EVP_PKEY *key;

static int setup(void **state)
{
	(void)state;
	key = testpki_key();
	return key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

/* A CSR for CN=cn with challengePassword pw (NULL: none) and a DNS SAN (NULL: none). */
static X509_REQ *make_csr(const char *cn, const char *pw, const char *dns)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = testpki_name(cn);

	assert_non_null(req);
	assert_true(X509_REQ_set_subject_name(req, name));
	assert_true(X509_REQ_set_pubkey(req, key));
	if (pw != NULL)
		assert_true(X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword,
						      MBSTRING_ASC, (const unsigned char *)pw, -1));
	if (dns != NULL) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		GENERAL_NAMES *gens = GENERAL_NAMES_new();
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		assert_true(ASN1_STRING_set(s, dns, -1));
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		assert_true(sk_GENERAL_NAME_push(gens, g));
		assert_true(X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, 0));
		assert_true(X509_REQ_add_extensions(req, exts));
		GENERAL_NAMES_free(gens);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return req;
}

static X509 *make_cert(const char *cn, const char *dns)
{
	GENERAL_NAMES *gens = NULL;
	struct testpki_spec spec = {.cn = cn,
				    .key = key,
				    .not_before = time(NULL) - 60,
				    .not_after = time(NULL) + 3600,
				    .key_usage = KU_DIGITAL_SIGNATURE};
	X509 *c;

	if (dns != NULL) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		gens = GENERAL_NAMES_new();
		assert_true(ASN1_STRING_set(s, dns, -1));
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		assert_true(sk_GENERAL_NAME_push(gens, g));
		spec.sans = gens;
	}
	c = testpki_cert(&spec);
	GENERAL_NAMES_free(gens);
	return c;
}

/* 12 bytes of tls-unique and their base64. */
static const uint8_t tu[12] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
			       0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
static const char tu64[] = "ABEiM0RVZneImaq7";

static void test_tls_unique(void **state)
{
	X509_REQ *good = make_csr("dev-1", tu64, NULL), *bad = make_csr("dev-1", "secret", NULL),
		 *none = make_csr("dev-1", NULL, NULL);
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(est_check_tls_unique(good, tu, sizeof(tu), &em), 0);
	assert_int_equal(est_check_tls_unique(bad, tu, sizeof(tu), &em), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "tls-unique"));
	/* no challengePassword: nothing links the CSR, nothing to check */
	assert_int_equal(est_check_tls_unique(none, tu, sizeof(tu), &em), 0);
	/* TLS 1.3: no tls-unique, the link cannot be checked */
	assert_int_equal(est_check_tls_unique(bad, NULL, 0, &em), 0);
	/* one byte more is another channel */
	assert_int_equal(est_check_tls_unique(good, tu, sizeof(tu) - 1, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	X509_REQ_free(good);
	X509_REQ_free(bad);
	X509_REQ_free(none);
}

static void test_same_subject(void **state)
{
	X509 *cert = make_cert("dev-1", NULL), *with_san = make_cert("dev-1", "dev-1.example");
	X509_REQ *same = make_csr("dev-1", NULL, NULL), *other = make_csr("dev-2", NULL, NULL),
		 *san = make_csr("dev-1", NULL, "dev-1.example"),
		 *other_san = make_csr("dev-1", NULL, "evil.example");
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(est_same_subject(same, cert, &em), 0);
	assert_int_equal(est_same_subject(other, cert, &em), SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "CN=dev-2"));
	assert_non_null(strstr(em.text, "CN=dev-1"));
	/* a SAN the certificate lacks, another SAN, a SAN left out */
	assert_int_equal(est_same_subject(san, cert, &em), SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "subjectAltName"));
	assert_int_equal(est_same_subject(other_san, with_san, &em), SIGNET_E_PERMISSION_DENIED);
	assert_int_equal(est_same_subject(same, with_san, &em), SIGNET_E_PERMISSION_DENIED);
	assert_int_equal(est_same_subject(san, with_san, &em), 0);
	X509_free(cert);
	X509_free(with_san);
	X509_REQ_free(same);
	X509_REQ_free(other);
	X509_REQ_free(san);
	X509_REQ_free(other_san);
}

static void test_csr_attrs(void **state)
{
	static char *names[] = {"challengePassword", "1.2.840.10045.4.3.2"};
	static char *bad[] = {"noSuchAttribute"};
	/* SEQUENCE { OID 1.2.840.113549.1.9.7, OID 1.2.840.10045.4.3.2 } */
	static const unsigned char want[] = {0x30, 0x15, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					     0xf7, 0x0d, 0x01, 0x09, 0x07, 0x06, 0x08, 0x2a,
					     0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	unsigned char *der = NULL;
	size_t len = 1;
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(est_csr_attrs(names, 0, &der, &len, &em), 0);
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(est_csr_attrs(names, 2, &der, &len, &em), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(der, want, sizeof(want));
	OPENSSL_free(der);
	assert_int_equal(est_csr_attrs(bad, 1, &der, &len, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_null(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_unique),
		cmocka_unit_test(test_same_subject),
		cmocka_unit_test(test_csr_attrs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
