/* Base64 decoding, liberal in the alphabet, strict in the structure. */
#include "base64.h"

#include <stdlib.h>

#include <signet/signet.h>

/* The 6-bit value of c, -1 for a character to skip, -2 for an invalid one. */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-' || c == ' ')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	if (c == '\r' || c == '\n' || c == '\t')
		return -1;
	return -2;
}

/* Only white space may follow the padding, and at most two '='. */
static int b64_check_tail(const char *in, size_t i, size_t len, unsigned nbits)
{
	unsigned pads = 0;

	for (; i < len; i++) {
		if (in[i] == '=')
			pads++;
		else if (b64_value(in[i]) != -1)
			return SIGNET_E_INVALID_ARGUMENT;
	}
	/* 2 characters (12 bits) want "==", 3 (18 bits) want "=" */
	if (pads != 0 && pads != (nbits == 12 ? 2u : nbits == 18 ? 1u : 0u))
		return SIGNET_E_INVALID_ARGUMENT;
	return 0;
}

int b64_decode(const char *in, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *buf;
	uint32_t acc = 0;
	unsigned nbits = 0; /* bits of the current 4-character group */
	size_t i, n = 0;
	int v, r;

	*out = NULL;
	*out_len = 0;
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		return SIGNET_E_NOMEM;
	for (i = 0; i < len && in[i] != '='; i++) {
		if ((v = b64_value(in[i])) == -1)
			continue;
		if (v < 0) {
			r = SIGNET_E_INVALID_ARGUMENT;
			goto out;
		}
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits == 24) {
			buf[n++] = (uint8_t)(acc >> 16);
			buf[n++] = (uint8_t)(acc >> 8);
			buf[n++] = (uint8_t)acc;
			acc = 0;
			nbits = 0;
		}
	}
	r = SIGNET_E_INVALID_ARGUMENT;
	if (nbits == 6 || b64_check_tail(in, i, len, nbits) != 0)
		goto out;
	/* the bits below the last whole byte must be zero (RFC 4648 3.5) */
	if ((nbits == 12 && (acc & 0xf) != 0) || (nbits == 18 && (acc & 0x3) != 0))
		goto out;
	if (nbits == 12)
		buf[n++] = (uint8_t)(acc >> 4);
	else if (nbits == 18) {
		buf[n++] = (uint8_t)(acc >> 10);
		buf[n++] = (uint8_t)(acc >> 2);
	}
	if (n == 0)
		goto out;
	*out = buf;
	*out_len = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

int b64_encode(const uint8_t *in, size_t len, size_t wrap, char **out, size_t *out_len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t chars = (len + 2) / 3 * 4, lines = wrap ? (chars + wrap - 1) / wrap : 0;
	size_t i, n = 0, col = 0, k;
	char *buf, q[4];

	if ((buf = malloc(chars + 2 * lines + 1)) == NULL)
		return SIGNET_E_NOMEM;
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		q[0] = abc[v >> 18 & 63];
		q[1] = abc[v >> 12 & 63];
		q[2] = i + 1 < len ? abc[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? abc[v & 63] : '=';
		for (k = 0; k < 4; k++) {
			buf[n++] = q[k];
			if (wrap && ++col == wrap) {
				buf[n++] = '\r';
				buf[n++] = '\n';
				col = 0;
			}
		}
	}
	/* the last line ends in CRLF too */
	if (wrap && col != 0) {
		buf[n++] = '\r';
		buf[n++] = '\n';
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}
