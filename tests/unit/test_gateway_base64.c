/* client/gateway/base64.c: what SCEP clients send in message=. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signet/signet.h>

#include "base64.h"

static void check(const char *in, const char *want)
{
	uint8_t *out = NULL;
	size_t n = 0;

	assert_int_equal(b64_decode(in, strlen(in), &out, &n), 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	free(out);
}

static void refused(const char *in)
{
	uint8_t *out = (uint8_t *)"x";
	size_t n = 7;

	assert_int_equal(b64_decode(in, strlen(in), &out, &n), SIGNET_E_INVALID_ARGUMENT);
	assert_null(out);
	assert_int_equal(n, 0);
}

static void test_standard(void **state)
{
	(void)state;
	check("Zm9vYmFy", "foobar");
	check("Zm9vYg==", "foob");
	check("Zm9vYmE=", "fooba");
	check("Zg==", "f");
}

static void test_unpadded_and_wrapped(void **state)
{
	(void)state;
	check("Zm9vYg", "foob");
	check("Zm9v\r\nYmFy\n", "foobar");
	check("Zm9vYmE=\r\n", "fooba");
}

/* "+/" and "-_" are the same sextets; a space is a '+' lost to URL decoding. */
static void test_alphabets(void **state)
{
	(void)state;
	check("+/+/", "\xfb\xff\xbf");
	check("-_-_", "\xfb\xff\xbf");
	check(" /+_", "\xfb\xff\xbf");
}

static void test_refused(void **state)
{
	(void)state;
	refused("");
	refused("\r\n");
	refused("Zm9v!mFy");
	refused("Z");	      /* a dangling sextet */
	refused("Zm9vY");     /* the same after a whole group */
	refused("Zm9vYg=");   /* one '=' where two belong */
	refused("Zm9vYmE=="); /* two where one belongs */
	refused("Zm==Zm9v");  /* data after the padding */
	refused("Zh==");      /* padding bits not zero */
	refused("=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard),
		cmocka_unit_test(test_unpadded_and_wrapped),
		cmocka_unit_test(test_alphabets),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
