/*
 * DER to PEM (RFC 7468): what 'ca create-* --out' writes. signetd sends a new
 * CA's certificate as DER only; the encoding is simple enough not to pull
 * OpenSSL into the CLI for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PEM_LINE 64 /* base64 characters per line */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Four characters for 1-3 input bytes, '='-padded. */
static void b64_quad(const uint8_t *in, size_t n, char *out)
{
	uint32_t v = (uint32_t)in[0] << 16;

	if (n > 1)
		v |= (uint32_t)in[1] << 8;
	if (n > 2)
		v |= in[2];
	out[0] = b64[(v >> 18) & 0x3f];
	out[1] = b64[(v >> 12) & 0x3f];
	out[2] = n > 1 ? b64[(v >> 6) & 0x3f] : '=';
	out[3] = n > 2 ? b64[v & 0x3f] : '=';
}

int cli_pem_encode(const char *label, const uint8_t *der, size_t len, char **out)
{
	size_t chars, lines, size, o = 0;
	char *pem;
	int n;

	if (len == 0 || len > CLI_MAX_PEM_DER)
		return SIGNET_E_INVALID_ARGUMENT;
	chars = (len + 2) / 3 * 4;
	lines = (chars + PEM_LINE - 1) / PEM_LINE;
	/* "-----BEGIN " label "-----\n", the lines, "-----END " label "-----\n", NUL. */
	size = 2 * (strlen(label) + 17) + chars + lines + 1;
	if ((pem = malloc(size)) == NULL)
		return SIGNET_E_NOMEM;
	n = snprintf(pem, size, "-----BEGIN %s-----\n", label);
	o = (size_t)n;
	for (size_t i = 0, col = 0; i < len; i += 3) {
		b64_quad(der + i, len - i < 3 ? len - i : 3, pem + o);
		o += 4;
		col += 4;
		if (col == PEM_LINE || i + 3 >= len) {
			pem[o++] = '\n';
			col = 0;
		}
	}
	snprintf(pem + o, size - o, "-----END %s-----\n", label);
	*out = pem;
	return 0;
}
