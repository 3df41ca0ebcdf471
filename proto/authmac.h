/*
 * How a client proves who it is on every request, shared by libsignet (which
 * computes it) and signetd (which checks it).
 *
 * Each client has a secret of at least 256 bits, kept in a file as hex
 * digits. Credential.mac is HMAC-SHA256 keyed with it over the envelope's
 * fields, each as a 4-byte big-endian length followed by its bytes, in this
 * order:
 *
 *   "signet-auth-v1", method, request_id, credential.client,
 *   credential.timestamp_ms (decimal ASCII), credential.nonce,
 *   SHA-256(payload)
 *
 * Lengths make the encoding unambiguous; hashing the payload keeps the MAC
 * input small and independent of how a protobuf encoder orders fields. The
 * version is fixed to 1 by the envelope check itself.
 */
#ifndef SIGNET_AUTHMAC_H
#define SIGNET_AUTHMAC_H

#include <stddef.h>
#include <stdint.h>

#define AUTHMAC_LEN	   32
#define AUTHMAC_NONCE_LEN  16 /* what libsignet sends; the daemon accepts 16-64 */
#define AUTHMAC_SECRET_MIN 32 /* bytes: 256 bits */
#define AUTHMAC_SECRET_MAX 64

struct authmac_input {
	const char *method;
	const uint8_t *request_id;
	size_t request_id_len;
	const char *client;
	uint64_t timestamp_ms;
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *payload;
	size_t payload_len;
};

/* HMAC-SHA256 of `in` with `secret`. -1 on an OpenSSL failure. */
int authmac_compute(const uint8_t *secret, size_t secret_len, const struct authmac_input *in,
		    uint8_t out[AUTHMAC_LEN]);

/* 1 when `mac` is the MAC of `in` (compared in constant time). */
int authmac_verify(const uint8_t *secret, size_t secret_len, const struct authmac_input *in,
		   const uint8_t *mac, size_t mac_len);

/*
 * A secret file's text: AUTHMAC_SECRET_MIN to AUTHMAC_SECRET_MAX bytes as hex
 * digits (either case), surrounding white space ignored ("openssl rand -hex
 * 32 > client.key" makes one). The bytes go to `out` (AUTHMAC_SECRET_MAX);
 * -1 with a reason (never the text itself) otherwise.
 */
int authmac_secret_parse(const char *text, size_t len, uint8_t *out, size_t *out_len,
			 const char **why);

#endif
