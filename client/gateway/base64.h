/*
 * Base64 as SCEP clients send it in a GET PKIOperation's `message=`: the
 * standard alphabet or the URL-safe one (micromdm's client uses it), padded
 * or not, wrapped in lines or not.
 */
#ifndef SIGNET_GATEWAY_BASE64_H
#define SIGNET_GATEWAY_BASE64_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode `len` characters of `in` into a new buffer (*out, *out_len; free()
 * it). Accepts A-Z a-z 0-9 with '+' or '-' and '/' or '_', '=' padding only
 * at the end, and ignores CR, LF and tabs. A space counts as '+': a client
 * that put a raw '+' in a query string has it turned into a space by URL
 * decoding. 0, or SIGNET_E_INVALID_ARGUMENT for anything else (a stray
 * character, a dangling sextet, non-zero padding bits, empty input),
 * SIGNET_E_NOMEM.
 */
int b64_decode(const char *in, size_t len, uint8_t **out, size_t *out_len);

/*
 * Encode `len` bytes as standard padded base64 in lines of at most `wrap`
 * characters, each ending in CRLF (0: one line, no CRLF), NUL-terminated,
 * into a new buffer (*out, *out_len without the NUL; free() it). 0 or
 * SIGNET_E_NOMEM.
 */
int b64_encode(const uint8_t *in, size_t len, size_t wrap, char **out, size_t *out_len);

#endif
