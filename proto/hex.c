/* Octets <-> hex digits, for everything signet prints or reads as hex. */
#include "hex.h"

static const char lower_digits[] = "0123456789abcdef";
static const char upper_digits[] = "0123456789ABCDEF";

size_t hex_encoded_len(size_t len, char sep)
{
	if (len == 0)
		return 0;
	return 2 * len + (sep != '\0' ? len - 1 : 0);
}

int hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen, enum hex_case hc, char sep)
{
	const char *digits = hc == HEX_UPPER ? upper_digits : lower_digits;
	size_t o = 0;

	if (out == NULL || outlen < hex_encoded_len(len, sep) + 1) {
		if (out != NULL && outlen > 0)
			out[0] = '\0';
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && sep != '\0')
			out[o++] = sep;
		out[o++] = digits[in[i] >> 4];
		out[o++] = digits[in[i] & 0xf];
	}
	out[o] = '\0';
	return 0;
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Digits 0-9 are both cases; a-f and A-F only their own. */
static int digit_of_case(char c, enum hex_case hc)
{
	if (hex_digit(c) < 0)
		return 0;
	if (hc == HEX_LOWER)
		return !(c >= 'A' && c <= 'F');
	if (hc == HEX_UPPER)
		return !(c >= 'a' && c <= 'f');
	return 1;
}

size_t hex_span(const char *text, size_t len, enum hex_case hc)
{
	size_t n = 0;

	while (n < len && digit_of_case(text[n], hc))
		n++;
	return n;
}

int hex_decode(const char *text, size_t len, uint8_t *out, size_t outlen)
{
	if (text == NULL || len % 2 != 0 || len / 2 > outlen)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
