/* Unit tests for daemon/base/asn1time.c: certificate times as Unix time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/x509.h>

#include "base/asn1time.h"

static int64_t unix_of(const char *text)
{
	ASN1_TIME *t = ASN1_TIME_new();
	int64_t v;

	assert_non_null(t);
	assert_int_equal(ASN1_TIME_set_string(t, text), 1);
	v = asn1time_unix(t);
	ASN1_TIME_free(t);
	return v;
}

static void test_generalized_and_utc(void **state)
{
	(void)state;
	assert_int_equal(unix_of("20260101000000Z"), INT64_C(1767225600));
	assert_int_equal(unix_of("260101000000Z"), INT64_C(1767225600));
	/* UTCTime 50-99 is 19xx (RFC 5280 4.1.2.5.1) */
	assert_int_equal(unix_of("700101000001Z"), 1);
	/* past 2038 and 9999: whole 64-bit seconds */
	assert_int_equal(unix_of("20500101000000Z"), INT64_C(2524608000));
	assert_int_equal(unix_of("99991231235959Z"), INT64_C(253402300799));
}

static void test_time_of_a_certificate(void **state)
{
	X509 *x = X509_new();

	(void)state;
	assert_non_null(x);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), 1700000000));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), 4102444800)); /* 2100-01-01 */
	assert_int_equal(asn1time_unix(X509_get0_notBefore(x)), INT64_C(1700000000));
	assert_int_equal(asn1time_unix(X509_get0_notAfter(x)), INT64_C(4102444800));
	X509_free(x);
}

static void test_unknown_is_zero(void **state)
{
	ASN1_TIME *t = ASN1_TIME_new();

	(void)state;
	assert_int_equal(asn1time_unix(NULL), 0);
	/* an empty time (no string set) does not parse */
	assert_non_null(t);
	assert_int_equal(asn1time_unix(t), 0);
	ASN1_TIME_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generalized_and_utc),
		cmocka_unit_test(test_time_of_a_certificate),
		cmocka_unit_test(test_unknown_is_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
