/*
 * An OpenSSL EVP_PKEY whose private operations run on the token, so that
 * OpenSSL's own X509_REQ_sign / X509_sign / X509_CRL_sign build and sign the
 * structures while the key stays in the HSM.
 *
 * The EVP_PKEY carries EC_KEY / RSA objects with our methods (OpenSSL's
 * "foreign key" path); each signature is one C_Sign on the session given in
 * the binding, so it runs on the calling worker's session with no lock.
 */
#ifndef SIGNETD_KEYBRIDGE_H
#define SIGNETD_KEYBRIDGE_H

#include <openssl/evp.h>

#include "hsm/keystore.h"

struct keybridge {
	struct keystore *ks;
	struct key *key; /* borrowed; must outlive the EVP_PKEY */
	CK_SESSION_HANDLE session;
	struct errmsg *em; /* receives the token's error, if any */
};

/* Set up the methods once at start-up; 0 or SIGNET_E_INTERNAL. */
int keybridge_init(void);
void keybridge_fini(void);

/* A new EVP_PKEY that signs with `b->key` (and, for an RA key, decrypts:
 * keystore_decrypt()); `b` must outlive it. NULL on failure. */
EVP_PKEY *keybridge_pkey(struct keybridge *b);

/*
 * The error for an X509_sign, X509_REQ_sign or X509_CRL_sign that failed, the
 * caller having set em->err to 0 before it: the token's own error when the
 * keybridge recorded one in em, else INTERNAL "signing failed" with OpenSSL's
 * reason. Leaves OpenSSL's error queue empty.
 */
int keybridge_sign_error(struct errmsg *em);

#endif
