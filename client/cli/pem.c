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

/* --- certificates out of PEM or DER, for 'enrol est --chain' --- */

#define CERTS_MAX 10 /* what signetd takes in a chain */

static int b64_value(int c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* The base64 between `from` and `to` (whitespace skipped, '=' ends it). */
static int b64_decode(const char *from, const char *to, struct signet_buf *out)
{
	uint32_t acc = 0;
	int bits = 0, v;

	if ((out->data = malloc((size_t)(to - from) / 4 * 3 + 3)) == NULL)
		return SIGNET_E_NOMEM;
	out->len = 0;
	for (const char *p = from; p < to && *p != '='; p++) {
		if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
			continue;
		if ((v = b64_value(*p)) < 0)
			return SIGNET_E_INVALID_ARGUMENT;
		acc = (acc << 6) | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out->data[out->len++] = (uint8_t)(acc >> bits);
		}
	}
	return out->len > 0 ? 0 : SIGNET_E_INVALID_ARGUMENT;
}

/* The length of the DER TLV at p (a SEQUENCE, definite length), or 0. */
static size_t der_tlv_len(const uint8_t *p, size_t len)
{
	size_t n = 0, hdr;

	if (len < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80)
		return 2 + (size_t)p[1] <= len ? 2 + (size_t)p[1] : 0;
	hdr = 2 + (p[1] & 0x7f);
	if ((p[1] & 0x7f) == 0 || (p[1] & 0x7f) > 3 || hdr > len)
		return 0;
	for (size_t i = 2; i < hdr; i++)
		n = (n << 8) | p[i];
	return hdr + n <= len ? hdr + n : 0;
}

static int certs_pem(const char *text, size_t len, struct signet_buf *v, size_t *n)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----",
			  end[] = "-----END CERTIFICATE-----";
	const char *p = text, *limit = text + len, *b, *e;
	int r;

	while (*n < CERTS_MAX && (b = strstr(p, begin)) != NULL && b < limit) {
		b += sizeof(begin) - 1;
		if ((e = strstr(b, end)) == NULL)
			return SIGNET_E_INVALID_ARGUMENT;
		if ((r = b64_decode(b, e, &v[*n])) != 0) {
			signet_buf_free(&v[*n]);
			return r;
		}
		(*n)++;
		p = e + sizeof(end) - 1;
	}
	return *n > 0 ? 0 : SIGNET_E_INVALID_ARGUMENT;
}

static int certs_der(const uint8_t *p, size_t len, struct signet_buf *v, size_t *n)
{
	size_t off = 0, one;

	while (off < len && *n < CERTS_MAX) {
		if ((one = der_tlv_len(p + off, len - off)) == 0)
			return SIGNET_E_INVALID_ARGUMENT;
		if ((v[*n].data = malloc(one)) == NULL)
			return SIGNET_E_NOMEM;
		memcpy(v[*n].data, p + off, one);
		v[(*n)++].len = one;
		off += one;
	}
	return *n > 0 && off == len ? 0 : SIGNET_E_INVALID_ARGUMENT;
}

int cli_certs_split(const uint8_t *text, size_t len, struct signet_buf **out, size_t *n)
{
	struct signet_buf *v = calloc(CERTS_MAX, sizeof(*v));
	char *s = NULL;
	int r;

	*n = 0;
	if (v == NULL)
		return SIGNET_E_NOMEM;
	if (len > 0 && text[0] == 0x30) {
		r = certs_der(text, len, v, n);
	} else if ((s = malloc(len + 1)) == NULL) {
		r = SIGNET_E_NOMEM;
	} else {
		memcpy(s, text, len);
		s[len] = '\0';
		r = certs_pem(s, len, v, n);
	}
	free(s);
	if (r != 0) {
		for (size_t i = 0; i < CERTS_MAX; i++)
			signet_buf_free(&v[i]);
		free(v);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}
