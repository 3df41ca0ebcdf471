/*
 * Public keys of token objects: read the PKCS#11 attributes, recognise the
 * algorithm, and turn them into an OpenSSL EVP_PKEY and SubjectPublicKeyInfo.
 */
#ifndef SIGNETD_PUBKEY_H
#define SIGNETD_PUBKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "hsm/p11.h"

#define PUBKEY_ATTR_MAX 4096

/* DER of the namedCurve OIDs, as CKA_EC_PARAMS holds them. */
extern const uint8_t pubkey_p256_params[10];
extern const uint8_t pubkey_p384_params[7];

/* Read one attribute into a fresh buffer of at most `max` bytes. */
int pubkey_attr_get(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		    CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len, size_t max,
		    struct errmsg *em);

/* Read a CK_BBOOL attribute; *out is 0 when the module does not report it. */
int pubkey_attr_bool(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, int *out);

/*
 * Build the public key of public-key object `pub`. *alg is set to the signet
 * algorithm or SIGNET_KEY_UNSPECIFIED for curves and sizes signet does not
 * use (the key is still returned).
 */
int pubkey_load(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
		enum signet_key_alg *alg, EVP_PKEY **out, struct errmsg *em);

/* EVP_PKEY from an EC point for P-256/P-384 (pure; exposed for tests). */
EVP_PKEY *pubkey_ec_from_point(const char *group, const uint8_t *point, size_t len);

/* SubjectPublicKeyInfo DER of `pkey` in a fresh buffer. */
int pubkey_spki(EVP_PKEY *pkey, uint8_t **der, size_t *len);

#endif
