/* base/x509der: the DER kept with a certificate is the one i2d_X509 gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "base/x509der.h"
#include "testpki.h"

static X509 *self_signed(EVP_PKEY **key)
{
	struct testpki_spec spec = {
		.cn = "x509der", .not_before = time(NULL), .not_after = time(NULL) + 3600};

	*key = testpki_key();
	spec.key = *key;
	return testpki_cert(&spec);
}

static void assert_der_is_fresh_encoding(X509 *cert)
{
	unsigned char *kept = NULL, *fresh = NULL;
	int n = x509der(cert, &kept), m = i2d_X509(cert, &fresh);

	assert_true(n > 0);
	assert_int_equal(n, m);
	assert_memory_equal(kept, fresh, (size_t)n);
	OPENSSL_free(kept);
	OPENSSL_free(fresh);
}

static void test_without_keep(void **state)
{
	EVP_PKEY *key;
	X509 *cert = self_signed(&key);
	size_t len = 1;

	(void)state;
	assert_null(x509der_peek(cert, &len));
	assert_int_equal(len, 0);
	assert_der_is_fresh_encoding(cert);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void test_keep(void **state)
{
	EVP_PKEY *key;
	X509 *cert = self_signed(&key);
	const unsigned char *peek;
	unsigned char *copy = NULL;
	size_t len;
	int n;

	(void)state;
	assert_int_equal(x509der_keep(cert), 0);
	assert_int_equal(x509der_keep(cert), 0); /* a second keep replaces the first */
	assert_non_null(peek = x509der_peek(cert, &len));
	assert_der_is_fresh_encoding(cert);
	n = x509der(cert, &copy);
	assert_int_equal((size_t)n, len);
	assert_ptr_not_equal(copy, peek); /* a copy the caller owns */
	assert_memory_equal(copy, peek, len);
	OPENSSL_free(copy);
	X509_free(cert); /* frees what was kept: LeakSanitizer says if not */
	EVP_PKEY_free(key);
}

/* A duplicate is its own object: it may be changed, so it keeps nothing. */
static void test_dup_keeps_nothing(void **state)
{
	EVP_PKEY *key;
	X509 *cert = self_signed(&key), *dup;
	size_t len;

	(void)state;
	assert_int_equal(x509der_keep(cert), 0);
	assert_non_null(dup = X509_dup(cert));
	assert_null(x509der_peek(dup, &len));
	assert_der_is_fresh_encoding(dup);
	X509_free(dup);
	X509_free(cert);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_keep),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_dup_keeps_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
