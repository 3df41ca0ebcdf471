/* Unit tests for proto/hex.c: octets <-> hex digits, as every caller prints them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"

static const uint8_t octets[] = {0x00, 0x7f, 0xab, 0xff};

static void test_encode_cases(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(hex_encode(octets, sizeof(octets), out, sizeof(out), HEX_LOWER, '\0'), 0);
	assert_string_equal(out, "007fabff");
	assert_int_equal(hex_encode(octets, sizeof(octets), out, sizeof(out), HEX_UPPER, '\0'), 0);
	assert_string_equal(out, "007FABFF");
	assert_int_equal(hex_encoded_len(sizeof(octets), '\0'), 8);
}

/* As OPENSSL_buf2hexstr writes an IP address: upper case, colons between. */
static void test_encode_separator(void **state)
{
	const uint8_t ip[] = {127, 0, 0, 1};
	char out[12];

	(void)state;
	assert_int_equal(hex_encoded_len(sizeof(ip), ':'), 11);
	assert_int_equal(hex_encode(ip, sizeof(ip), out, sizeof(out), HEX_UPPER, ':'), 0);
	assert_string_equal(out, "7F:00:00:01");
	assert_int_equal(hex_encode(ip, 1, out, sizeof(out), HEX_UPPER, ':'), 0);
	assert_string_equal(out, "7F");
}

static void test_encode_empty_and_short(void **state)
{
	char out[9] = "xxxxxxxx";

	(void)state;
	assert_int_equal(hex_encode(octets, 0, out, sizeof(out), HEX_LOWER, ':'), 0);
	assert_string_equal(out, "");
	/* one short of the NUL: refused, and out is left empty rather than cut */
	memset(out, 'x', sizeof(out));
	assert_int_equal(hex_encode(octets, sizeof(octets), out, 8, HEX_LOWER, '\0'), -1);
	assert_string_equal(out, "");
	assert_int_equal(hex_encode(octets, sizeof(octets), NULL, 0, HEX_LOWER, '\0'), -1);
}

static void test_digit(void **state)
{
	(void)state;
	assert_int_equal(hex_digit('0'), 0);
	assert_int_equal(hex_digit('9'), 9);
	assert_int_equal(hex_digit('a'), 10);
	assert_int_equal(hex_digit('F'), 15);
	assert_int_equal(hex_digit('g'), -1);
	assert_int_equal(hex_digit('G'), -1);
	assert_int_equal(hex_digit(' '), -1);
	assert_int_equal(hex_digit('\0'), -1);
}

static void test_span(void **state)
{
	(void)state;
	assert_int_equal(hex_span("09afAF", 6, HEX_EITHER), 6);
	assert_int_equal(hex_span("09afAF", 6, HEX_LOWER), 4);
	assert_int_equal(hex_span("09AFaf", 6, HEX_UPPER), 4);
	assert_int_equal(hex_span("12x4", 4, HEX_EITHER), 2);
	/* len bounds it, and a NUL stops it */
	assert_int_equal(hex_span("abcdef", 3, HEX_EITHER), 3);
	assert_int_equal(hex_span("ab\0cd", 5, HEX_EITHER), 2);
}

static void test_decode(void **state)
{
	uint8_t out[4] = {0};

	(void)state;
	assert_int_equal(hex_decode("007FabFF", 8, out, sizeof(out)), 0);
	assert_memory_equal(out, octets, sizeof(octets));
	assert_int_equal(hex_decode("", 0, out, sizeof(out)), 0);
}

static void test_decode_refuses(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(hex_decode("007", 3, out, sizeof(out)), -1);	      /* odd */
	assert_int_equal(hex_decode("0011223344", 10, out, sizeof(out)), -1); /* too long */
	assert_int_equal(hex_decode("00g1", 4, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("00:1", 4, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("0 11", 4, out, sizeof(out)), -1);
	assert_int_equal(hex_decode(NULL, 0, out, sizeof(out)), -1);
}

static void test_round_trip(void **state)
{
	uint8_t in[256], back[256];
	char text[2 * sizeof(in) + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	assert_int_equal(hex_encode(in, sizeof(in), text, sizeof(text), HEX_UPPER, '\0'), 0);
	assert_int_equal(strlen(text), 2 * sizeof(in));
	assert_int_equal(hex_decode(text, strlen(text), back, sizeof(back)), 0);
	assert_memory_equal(in, back, sizeof(in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_cases),
		cmocka_unit_test(test_encode_separator),
		cmocka_unit_test(test_encode_empty_and_short),
		cmocka_unit_test(test_digit),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
