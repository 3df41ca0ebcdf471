/*
 * Octets as hex digits and back: request ids, fingerprints, challenge ids,
 * client secrets, audit hashes. One copy for signetd, libsignet and the CLI,
 * free of OpenSSL (signet_proto goes into libsignet). What each caller
 * prints is compared by tests and scripts, so the case is the caller's
 * choice and the output is exactly two digits per octet.
 */
#ifndef SIGNET_PROTO_HEX_H
#define SIGNET_PROTO_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writing takes HEX_LOWER or HEX_UPPER; reading any of the three. */
enum hex_case {
	HEX_LOWER,
	HEX_UPPER,
	HEX_EITHER,
};

/* Characters hex_encode() writes for `len` octets, without the NUL. */
size_t hex_encoded_len(size_t len, char sep);

/*
 * in[0..len) as two digits per octet in case `hc`, `sep` between octets
 * unless it is '\0' ("7F:00:00:01"), and a NUL, into out. 0, or -1 when
 * outlen is smaller than hex_encoded_len() + 1 (out is then "" if it has
 * room for that).
 */
int hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen, enum hex_case hc, char sep);

/* The value 0-15 of one hex digit of either case; -1 for anything else. */
int hex_digit(char c);

/* How many of text[0..len) from the start are hex digits of case `hc`. */
size_t hex_span(const char *text, size_t len, enum hex_case hc);

/*
 * Exactly `len` hex digits of either case, no separators, into len / 2
 * octets of out (outlen bytes). 0, or -1 when len is odd, the octets do not
 * fit, or a character is not a digit; out may then hold part of the octets
 * (a caller decoding a secret wipes it).
 */
int hex_decode(const char *text, size_t len, uint8_t *out, size_t outlen);

#endif
