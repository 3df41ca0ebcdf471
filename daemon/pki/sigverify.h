/*
 * The verifying side of SignNonce: does a device's signature over a message
 * (a challenge's nonce) verify with its certificate's public key, in the
 * formats SignNonce produces (ECDSA DER or raw r||s, RSA PKCS#1 v1.5 or PSS
 * with salt = hash length) and with the same defaults?
 */
#ifndef SIGNETD_SIGVERIFY_H
#define SIGNETD_SIGVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/errmsg.h"

/*
 * 0 when it verifies. INVALID_ARGUMENT for a key signet does not verify
 * (another curve, an odd RSA size), a format that does not fit the key, an
 * empty or malformed signature (raw r||s of the wrong length, DER that does
 * not parse); UNAUTHENTICATED when a well-formed signature does not verify.
 */
int sigverify_message(EVP_PKEY *pub, const uint8_t *msg, size_t len, const uint8_t *sig,
		      size_t siglen, enum signet_hash hash, enum signet_sig_format format,
		      struct errmsg *em);

#endif
