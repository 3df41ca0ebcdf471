/*
 * Signing arithmetic that needs no token: which PKCS#11 mechanism a request
 * maps to, what bytes go into C_Sign, and ECDSA signature encodings.
 */
#ifndef SIGNETD_SIGN_H
#define SIGNETD_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "hsm/p11.h"

#define SIGN_MAX_DIGEST 64
#define SIGN_MAX_INPUT	(19 + SIGN_MAX_DIGEST) /* DigestInfo prefix + digest */
#define SIGN_MAX_SIG	512		       /* RSA-4096 */

struct sign_plan {
	enum signet_hash hash;	       /* never SIGNET_HASH_DEFAULT */
	enum signet_sig_format format; /* never SIGNET_SIG_DEFAULT */
	CK_MECHANISM_TYPE mechanism;
	CK_RSA_PKCS_PSS_PARAMS pss; /* for CKM_RSA_PKCS_PSS */
	size_t digest_len;
};

/* Resolve defaults and refuse combinations that make no sense for the key
 * (an RSA format for an EC key, say). INVALID_ARGUMENT with a message. */
int sign_plan_make(enum signet_key_alg alg, enum signet_hash hash, enum signet_sig_format format,
		   struct sign_plan *out, struct errmsg *em);

/* Fill a CK_MECHANISM for the plan; it points into `plan`. */
void sign_plan_mechanism(struct sign_plan *plan, CK_MECHANISM *mech);

const EVP_MD *sign_hash_md(enum signet_hash hash);
size_t sign_hash_len(enum signet_hash hash);
const char *sign_hash_name(enum signet_hash hash);

/*
 * The bytes C_Sign receives: the digest (ECDSA, PSS) or DigestInfo || digest
 * (PKCS#1 v1.5). `data` is hashed unless `prehashed`, in which case its length
 * must equal the digest length. `out` holds SIGN_MAX_INPUT bytes.
 */
int sign_build_input(const struct sign_plan *plan, const uint8_t *data, size_t len, int prehashed,
		     uint8_t *out, size_t *outlen, struct errmsg *em);

/* PKCS#11's r || s -> ECDSA-Sig-Value DER. `der` holds SIGN_MAX_SIG bytes. */
int sign_ecdsa_raw_to_der(const uint8_t *raw, size_t rawlen, uint8_t *der, size_t *derlen);

/* PKCS#11's r || s -> a new ECDSA_SIG (for OpenSSL's signing callbacks). */
ECDSA_SIG *sign_ecdsa_raw_to_sig(const uint8_t *raw, size_t rawlen);

#endif
