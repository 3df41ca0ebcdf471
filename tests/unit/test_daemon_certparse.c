/* Unit tests for daemon/pki/certparse.c: certificates from callers, PEM or DER,
 * one or a bounded list, nothing else accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pki/certparse.h"
#include "testpki.h"

struct blob {
	uint8_t data[16384];
	size_t len;
};

/* A self-signed CA for an hour. */
static X509 *make_cert(const char *cn)
{
	EVP_PKEY *key = testpki_key();
	time_t now = time(NULL);
	X509 *cert = testpki_cert(&(struct testpki_spec){.cn = cn,
							 .key = key,
							 .not_before = now,
							 .not_after = now + 3600,
							 .is_ca = 1,
							 .path_len = -1,
							 .key_usage = KU_KEY_CERT_SIGN});

	EVP_PKEY_free(key);
	return cert;
}

static void append(struct blob *b, const void *data, size_t len)
{
	assert_true(b->len + len < sizeof(b->data));
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void append_der(struct blob *b, X509 *cert)
{
	size_t len;
	unsigned char *der = testpki_der(cert, &len);

	append(b, der, len);
	OPENSSL_free(der);
}

static void append_pem(struct blob *b, X509 *cert)
{
	size_t len;
	char *pem = testpki_pem(cert, &len);

	append(b, pem, len);
	free(pem);
}

static void append_text(struct blob *b, const char *text)
{
	append(b, text, strlen(text));
}

static void test_one(void **state)
{
	X509 *a = make_cert("A"), *b = make_cert("B"), *got = NULL;
	struct blob pem = {.len = 0}, der = {.len = 0}, two = {.len = 0};
	struct errmsg em = {0};

	(void)state;
	append_text(&pem, "subject=/CN=A\n"); /* as `openssl x509 -subject` leaves it */
	append_pem(&pem, a);
	append_der(&der, a);
	assert_int_equal(certparse_one(pem.data, pem.len, "the certificate", &got, &em), 0);
	assert_int_equal(X509_cmp(got, a), 0);
	X509_free(got);
	assert_int_equal(certparse_one(der.data, der.len, "the certificate", &got, &em), 0);
	assert_int_equal(X509_cmp(got, a), 0);
	X509_free(got);

	/* two where one is wanted; nothing; trailing bytes after the DER */
	append_pem(&two, a);
	append_pem(&two, b);
	assert_int_equal(certparse_one(two.data, two.len, "the certificate", &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "the certificate"));
	assert_int_equal(certparse_one(der.data, 0, "the certificate", &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "missing"));
	der.data[der.len++] = 0x00;
	assert_int_equal(certparse_one(der.data, der.len, "the certificate", &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	X509_free(a);
	X509_free(b);
}

static void test_many(void **state)
{
	X509 *a = make_cert("A"), *b = make_cert("B");
	struct blob pem = {.len = 0}, der = {.len = 0}, bad = {.len = 0};
	STACK_OF(X509) *got = NULL;
	struct errmsg em = {0};

	(void)state;
	append_pem(&pem, a);
	append_pem(&pem, b);
	append_der(&der, a);
	append_der(&der, b);
	assert_int_equal(certparse_many(pem.data, pem.len, 4, &got, &em), 0);
	assert_int_equal(sk_X509_num(got), 2);
	assert_int_equal(X509_cmp(sk_X509_value(got, 1), b), 0);
	sk_X509_pop_free(got, X509_free);
	assert_int_equal(certparse_many(der.data, der.len, 4, &got, &em), 0);
	assert_int_equal(sk_X509_num(got), 2);
	sk_X509_pop_free(got, X509_free);
	/* empty is an empty list; over the bound is refused */
	assert_int_equal(certparse_many(der.data, 0, 4, &got, &em), 0);
	assert_int_equal(sk_X509_num(got), 0);
	sk_X509_free(got);
	assert_int_equal(certparse_many(der.data, der.len, 1, &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(certparse_many(pem.data, pem.len, 1, &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	/* garbage, truncated DER, a broken PEM block */
	append_text(&bad, "not a certificate at all");
	assert_int_equal(certparse_many(bad.data, bad.len, 4, &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(certparse_many(der.data, der.len - 10, 4, &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	bad.len = 0;
	append_text(&bad, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
	assert_int_equal(certparse_many(bad.data, bad.len, 4, &got, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	X509_free(a);
	X509_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
