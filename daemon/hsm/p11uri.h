/*
 * RFC 7512 PKCS#11 URIs, as far as signetd needs them: which token to use.
 * Only token-identifying path attributes are kept; a PIN inside the URI
 * (pin-value) is refused, because the PIN must come from a protected file.
 */
#ifndef SIGNETD_P11URI_H
#define SIGNETD_P11URI_H

#include <stdbool.h>
#include <stddef.h>

/* Sizes follow CK_TOKEN_INFO (label 32, manufacturer 32, model 16, serial 16), plus NUL. */
struct p11uri {
	char token[33];	       /* "token=" label; "" matches any */
	char manufacturer[33]; /* "manufacturer=" */
	char model[17];	       /* "model=" */
	char serial[17];       /* "serial=" */
	bool has_slot_id;
	unsigned long slot_id; /* "slot-id=" */
};

/*
 * Parse `uri` ("pkcs11:token=signet;serial=1a2b"; the scheme in any case).
 * Path attributes are separated by ';', query attributes (after '?') by '&';
 * values are percent-decoded. Attributes signetd does not honour are refused
 * rather than ignored, since ignoring one would select the wrong token or
 * module: unknown ones, object attributes (object=, id=, type=), pin-value
 * and pin-source (the PIN comes from token.pin_file), module-path and
 * module-name (the module is token.module). Also refused: a repeated
 * attribute, an empty value, a value longer than its field, a malformed
 * escape, a decoded NUL or control character, a slot-id that is not a
 * decimal number. Messages name the attribute, never its value, and leave
 * out the URI: callers add that context.
 * Returns 0, or -1 with a message in err and *out zeroed.
 */
int p11uri_parse(const char *uri, struct p11uri *out, char *err, size_t errlen);

/*
 * Does a token with these CK_TOKEN_INFO fields (already stripped of the
 * trailing blanks PKCS#11 pads with) match the URI? Empty URI fields match all.
 */
bool p11uri_matches(const struct p11uri *uri, const char *label, const char *manufacturer,
		    const char *model, const char *serial, unsigned long slot_id);

#endif
