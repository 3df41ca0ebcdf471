#include "p11uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URI_MAX 1024

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode [src, src+len) into dst (dstlen including NUL). */
static int pct_decode(const char *src, size_t len, char *dst, size_t dstlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hexval(src[i + 1]);
			lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) /* bad, or a NUL */
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= dstlen)
			return -2;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

struct attr_slot {
	const char *name;
	char *dst;
	size_t dstlen;
};

static int set_attr(struct p11uri *out, const char *name, const char *value, size_t vlen,
		    unsigned *seen, char *err, size_t errlen)
{
	struct attr_slot slots[] = {
		{"token", out->token, sizeof(out->token)},
		{"manufacturer", out->manufacturer, sizeof(out->manufacturer)},
		{"model", out->model, sizeof(out->model)},
		{"serial", out->serial, sizeof(out->serial)},
	};
	char num[32];
	char *end;
	int r;

	if (strcmp(name, "pin-value") == 0 || strcmp(name, "pin-source") == 0) {
		snprintf(err, errlen, "token URI: %s is refused; put the PIN in token.pin_file",
			 name);
		return -1;
	}
	if (strcmp(name, "object") == 0 || strcmp(name, "id") == 0 || strcmp(name, "type") == 0) {
		snprintf(err, errlen,
			 "token URI: '%s' names an object, but signetd needs a token URI", name);
		return -1;
	}
	for (unsigned i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		if (strcmp(name, slots[i].name) != 0)
			continue;
		if (*seen & (1u << i)) {
			snprintf(err, errlen, "token URI: %s given twice", name);
			return -1;
		}
		*seen |= 1u << i;
		r = pct_decode(value, vlen, slots[i].dst, slots[i].dstlen);
		if (r != 0) {
			snprintf(err, errlen, "token URI: %s: %s", name,
				 r == -2 ? "value too long" : "malformed percent-escape");
			return -1;
		}
		return 0;
	}
	if (strcmp(name, "slot-id") == 0) {
		if (out->has_slot_id) {
			snprintf(err, errlen, "token URI: slot-id given twice");
			return -1;
		}
		if (vlen == 0 || vlen >= sizeof(num) ||
		    pct_decode(value, vlen, num, sizeof(num)) != 0 || num[0] < '0' ||
		    num[0] > '9') {
			snprintf(err, errlen, "token URI: slot-id must be a decimal number");
			return -1;
		}
		out->slot_id = strtoul(num, &end, 10);
		if (*end != '\0') {
			snprintf(err, errlen, "token URI: slot-id must be a decimal number");
			return -1;
		}
		out->has_slot_id = true;
		return 0;
	}
	snprintf(err, errlen, "token URI: unknown attribute '%.32s'", name);
	return -1;
}

/* Parse "name=value" pairs separated by `sep` in [p, p+len). */
static int parse_pairs(struct p11uri *out, const char *p, size_t len, char sep, unsigned *seen,
		       char *err, size_t errlen)
{
	const char *end = p + len;

	while (p < end) {
		const char *next = memchr(p, sep, (size_t)(end - p));
		const char *stop = next != NULL ? next : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		char name[32];
		size_t nlen;

		if (stop == p) {
			p = stop + 1;
			continue;
		}
		if (eq == NULL || eq == p || (size_t)(eq - p) >= sizeof(name)) {
			snprintf(err, errlen, "token URI: malformed attribute");
			return -1;
		}
		nlen = (size_t)(eq - p);
		memcpy(name, p, nlen);
		name[nlen] = '\0';
		if (sep == '&' && strcmp(name, "module-path") == 0) {
			/* the module comes from token.module; a query hint is harmless */
		} else if (set_attr(out, name, eq + 1, (size_t)(stop - eq - 1), seen, err,
				    errlen) != 0) {
			return -1;
		}
		p = stop + 1;
	}
	return 0;
}

int p11uri_parse(const char *uri, struct p11uri *out, char *err, size_t errlen)
{
	const char *path, *query;
	size_t len;
	unsigned seen = 0;

	memset(out, 0, sizeof(*out));
	if (uri == NULL || strncasecmp(uri, "pkcs11:", 7) != 0) {
		snprintf(err, errlen, "token URI must start with 'pkcs11:'");
		return -1;
	}
	len = strlen(uri);
	if (len > URI_MAX) {
		snprintf(err, errlen, "token URI longer than %d bytes", URI_MAX);
		return -1;
	}
	path = uri + 7;
	query = strchr(path, '?');
	if (parse_pairs(out, path, query != NULL ? (size_t)(query - path) : strlen(path), ';',
			&seen, err, errlen) != 0)
		return -1;
	if (query != NULL &&
	    parse_pairs(out, query + 1, strlen(query + 1), '&', &seen, err, errlen) != 0)
		return -1;
	return 0;
}

static bool field_matches(const char *want, const char *have)
{
	return want[0] == '\0' || (have != NULL && strcmp(want, have) == 0);
}

bool p11uri_matches(const struct p11uri *uri, const char *label, const char *manufacturer,
		    const char *model, const char *serial, unsigned long slot_id)
{
	return field_matches(uri->token, label) && field_matches(uri->manufacturer, manufacturer) &&
	       field_matches(uri->model, model) && field_matches(uri->serial, serial) &&
	       (!uri->has_slot_id || uri->slot_id == slot_id);
}
