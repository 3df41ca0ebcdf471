#include "hsm/p11uri.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hex.h"

#define URI_SCHEME    "pkcs11:"
#define URI_MAX	      1024
#define ATTR_NAME_MAX 32
#define FIELD_SIZE(f) sizeof(((struct p11uri *)0)->f)
#define SEEN_SLOT_ID  (1u << 4)

/* The token-identifying attributes we keep, as strings. */
static const struct {
	const char *name;
	size_t offset, size;
} text_attrs[] = {
	{"token", offsetof(struct p11uri, token), FIELD_SIZE(token)},
	{"manufacturer", offsetof(struct p11uri, manufacturer), FIELD_SIZE(manufacturer)},
	{"model", offsetof(struct p11uri, model), FIELD_SIZE(model)},
	{"serial", offsetof(struct p11uri, serial), FIELD_SIZE(serial)},
};
_Static_assert(sizeof(text_attrs) / sizeof(text_attrs[0]) == 4,
	       "the seen-bits of the text attributes must stay below SEEN_SLOT_ID");

/*
 * Attributes RFC 7512 defines that signetd will not honour. Ignoring them
 * would use a token or module other than the one the URI names, so each is
 * refused with the way to say it in the configuration. The messages never
 * repeat a value: pin-value's is the PIN.
 */
static const struct {
	const char *name;
	const char *why;
} refused_attrs[] = {
	{"pin-value", "a PIN in the URI is refused; put the PIN in token.pin_file"},
	{"pin-source", "refused; the PIN comes from token.pin_file only"},
	{"module-path", "refused; name the module with token.module"},
	{"module-name", "refused; name the module with token.module"},
	{"object", "names an object, but signetd needs a token URI"},
	{"id", "names an object, but signetd needs a token URI"},
	{"type", "names an object, but signetd needs a token URI"},
};

/*
 * Percent-decode the value of attribute `name`, [src, src + len), into dst
 * (dstsize bytes with the NUL). A decoded NUL or control character is refused:
 * token fields are C strings, and they end up in log lines.
 */
static int pct_decode(const char *name, const char *src, size_t len, char *dst, size_t dstsize,
		      char *err, size_t errlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '%') {
			int hi = i + 2 < len ? hex_digit(src[i + 1]) : -1;
			int lo = i + 2 < len ? hex_digit(src[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "%s: malformed percent-escape", name);
				return -1;
			}
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, errlen, "%s: NUL or control character in the value", name);
			return -1;
		}
		if (o + 1 >= dstsize) {
			snprintf(err, errlen, "%s: value too long (at most %zu bytes)", name,
				 dstsize - 1);
			return -1;
		}
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* Decimal digits only: strtoul would also take signs, blanks and hex. */
static int parse_slot_id(const char *s, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (*s < '0' || *s > '9' || v > (ULONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int refuse_if_unsupported(const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(refused_attrs) / sizeof(refused_attrs[0]); i++) {
		if (strcmp(name, refused_attrs[i].name) == 0) {
			snprintf(err, errlen, "%s: %s", name, refused_attrs[i].why);
			return -1;
		}
	}
	return 0;
}

/* Record that `bit` was set; a second occurrence would be ambiguous. */
static int mark_seen(unsigned *seen, unsigned bit, const char *name, char *err, size_t errlen)
{
	if (*seen & bit) {
		snprintf(err, errlen, "%s given twice", name);
		return -1;
	}
	*seen |= bit;
	return 0;
}

static int set_slot_id(struct p11uri *out, const char *value, size_t vlen, char *err, size_t errlen)
{
	char digits[24];

	if (pct_decode("slot-id", value, vlen, digits, sizeof(digits), err, errlen) != 0 ||
	    parse_slot_id(digits, &out->slot_id) != 0) {
		snprintf(err, errlen, "slot-id: must be a decimal number");
		return -1;
	}
	out->has_slot_id = true;
	return 0;
}

/* One path attribute; the value is never copied into a message. */
static int set_path_attr(struct p11uri *out, const char *name, const char *value, size_t vlen,
			 unsigned *seen, char *err, size_t errlen)
{
	if (refuse_if_unsupported(name, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(text_attrs) / sizeof(text_attrs[0]); i++) {
		if (strcmp(name, text_attrs[i].name) != 0)
			continue;
		if (vlen == 0) {
			/* an empty field matches every token; say that by leaving it out */
			snprintf(err, errlen, "%s: empty value", name);
			return -1;
		}
		if (mark_seen(seen, 1u << i, name, err, errlen) != 0)
			return -1;
		return pct_decode(name, value, vlen, (char *)out + text_attrs[i].offset,
				  text_attrs[i].size, err, errlen);
	}
	if (strcmp(name, "slot-id") == 0) {
		if (mark_seen(seen, SEEN_SLOT_ID, name, err, errlen) != 0)
			return -1;
		return set_slot_id(out, value, vlen, err, errlen);
	}
	snprintf(err, errlen, "unknown attribute '%s'", name);
	return -1;
}

/* The query may only carry attributes we refuse with a reason (pin-value, ...). */
static int check_query_attr(const char *name, char *err, size_t errlen)
{
	if (refuse_if_unsupported(name, err, errlen) != 0)
		return -1;
	snprintf(err, errlen, "unknown query attribute '%s'", name);
	return -1;
}

/* Split "name=value" at [p, p + len) and copy the name into name[ATTR_NAME_MAX + 1]. */
static int split_attr(const char *p, size_t len, char *name, const char **value, size_t *vlen,
		      char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', len);
	size_t nlen = eq != NULL ? (size_t)(eq - p) : 0;

	if (eq == NULL || nlen == 0 || nlen > ATTR_NAME_MAX) {
		snprintf(err, errlen, "malformed attribute (want name=value)");
		return -1;
	}
	memcpy(name, p, nlen);
	name[nlen] = '\0';
	*value = eq + 1;
	*vlen = len - nlen - 1;
	return 0;
}

/* Attributes separated by `sep` in [p, p + len); empty ones are skipped. */
static int parse_attrs(struct p11uri *out, const char *p, size_t len, char sep, unsigned *seen,
		       char *err, size_t errlen)
{
	const char *end = p + len;

	while (p < end) {
		const char *next = memchr(p, sep, (size_t)(end - p));
		const char *stop = next != NULL ? next : end;
		char name[ATTR_NAME_MAX + 1];
		const char *value;
		size_t vlen;
		int r;

		if (stop > p) {
			if (split_attr(p, (size_t)(stop - p), name, &value, &vlen, err, errlen) !=
			    0)
				return -1;
			r = sep == ';' ? set_path_attr(out, name, value, vlen, seen, err, errlen)
				       : check_query_attr(name, err, errlen);
			if (r != 0)
				return -1;
		}
		p = stop + 1;
	}
	return 0;
}

int p11uri_parse(const char *uri, struct p11uri *out, char *err, size_t errlen)
{
	const char *path, *query;
	size_t len, path_len;
	unsigned seen = 0;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (uri == NULL || strncasecmp(uri, URI_SCHEME, strlen(URI_SCHEME)) != 0) {
		snprintf(err, errlen, "must start with '%s'", URI_SCHEME);
		goto out;
	}
	if ((len = strlen(uri)) > URI_MAX) {
		snprintf(err, errlen, "longer than %d bytes", URI_MAX);
		goto out;
	}
	path = uri + strlen(URI_SCHEME);
	query = memchr(path, '?', len - strlen(URI_SCHEME));
	path_len = query != NULL ? (size_t)(query - path) : len - strlen(URI_SCHEME);
	if (parse_attrs(out, path, path_len, ';', &seen, err, errlen) != 0)
		goto out;
	if (query != NULL &&
	    parse_attrs(out, query + 1, strlen(query + 1), '&', &seen, err, errlen) != 0)
		goto out;
	r = 0;
out:
	if (r != 0)
		memset(out, 0, sizeof(*out)); /* no half-parsed fields left behind */
	return r;
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
