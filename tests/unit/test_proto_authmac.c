/* Unit tests for proto/authmac.c: the request MAC both sides compute, against
 * a value computed independently (Python's hmac over the documented
 * encoding), and the secret file format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authmac.h"

static const uint8_t rid[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static uint8_t nonce[16], secret[32];

static struct authmac_input sample(void)
{
	struct authmac_input in = {.method = "SignCsr",
				   .request_id = rid,
				   .request_id_len = sizeof(rid),
				   .client = "factory",
				   .timestamp_ms = 1800000000123ULL,
				   .nonce = nonce,
				   .nonce_len = sizeof(nonce),
				   .payload = (const uint8_t *)"payload",
				   .payload_len = 7};

	memset(nonce, 0xaa, sizeof(nonce));
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	return in;
}

static void test_known_answer(void **state)
{
	static const uint8_t want[AUTHMAC_LEN] = {0x2f, 0x77, 0x0a, 0xc5, 0x92, 0x60, 0x91, 0x7a,
						  0xf6, 0x49, 0xba, 0x46, 0xcb, 0x4d, 0x1c, 0x5a,
						  0x14, 0x1e, 0x26, 0x14, 0x3f, 0x11, 0x23, 0x53,
						  0x18, 0xc5, 0x3a, 0x28, 0x9b, 0xf4, 0xc8, 0x72};
	struct authmac_input in = sample();
	uint8_t mac[AUTHMAC_LEN];

	(void)state;
	assert_int_equal(authmac_compute(secret, sizeof(secret), &in, mac), 0);
	assert_memory_equal(mac, want, sizeof(want));
	assert_true(authmac_verify(secret, sizeof(secret), &in, want, sizeof(want)));
}

/* Every field is covered: changing any one breaks the MAC. */
static void test_every_field_counts(void **state)
{
	struct authmac_input in = sample();
	uint8_t mac[AUTHMAC_LEN], other_rid[16] = {1};

	(void)state;
	assert_int_equal(authmac_compute(secret, sizeof(secret), &in, mac), 0);
	in.method = "SignCsX";
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac)));
	in = sample();
	in.request_id = other_rid;
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac)));
	in = sample();
	in.client = "factorY";
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac)));
	in = sample();
	in.timestamp_ms++;
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac)));
	in = sample();
	in.nonce_len--;
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac)));
	in = sample();
	in.payload_len--;
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac)));
	in = sample();
	assert_false(authmac_verify(secret, sizeof(secret) - 1, &in, mac, sizeof(mac)));
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac) - 1));
	/* lengths keep fields apart: moving a byte between two fields is seen */
	in.client = "factor";
	in.method = "SignCsry";
	assert_false(authmac_verify(secret, sizeof(secret), &in, mac, sizeof(mac)));
}

static void test_secret_parse(void **state)
{
	char text[300];
	uint8_t out[AUTHMAC_SECRET_MAX];
	size_t n = 0;
	const char *why = NULL;

	(void)state;
	snprintf(text, sizeof(text), "  %s\n",
		 "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f");
	assert_int_equal(authmac_secret_parse(text, strlen(text), out, &n, &why), 0);
	assert_int_equal(n, 32);
	assert_int_equal(out[10], 10);
	assert_int_equal(out[31], 31);
	/* too short (255 bits is not 256), odd, not hex, too long */
	assert_int_equal(authmac_secret_parse(text, 2 + 62, out, &n, &why), -1);
	assert_non_null(strstr(why, "64 to 128 hex digits"));
	assert_int_equal(authmac_secret_parse(text + 2, 63, out, &n, &why), -1);
	memcpy(text + 10, "zz", 2);
	assert_int_equal(authmac_secret_parse(text, strlen(text), out, &n, &why), -1);
	assert_non_null(strstr(why, "hex digits only"));
	memset(text, 'a', 130);
	assert_int_equal(authmac_secret_parse(text, 130, out, &n, &why), -1);
	assert_int_equal(authmac_secret_parse(text, 128, out, &n, &why), 0);
	assert_int_equal(n, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_every_field_counts),
		cmocka_unit_test(test_secret_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
