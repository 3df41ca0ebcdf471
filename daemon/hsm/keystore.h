/*
 * Keys on the token, named by their CKA_LABEL. A key is generated on the
 * token (sensitive, never extractable) and its private half never leaves it:
 * signing is a C_Sign on the calling worker's own session.
 *
 * Looked-up keys are cached with their object handles and public key, so the
 * signing path costs one C_SignInit + C_Sign. A struct key is reference
 * counted: keystore_get() hands out a reference, key_put() returns it.
 */
#ifndef SIGNETD_KEYSTORE_H
#define SIGNETD_KEYSTORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "hsm/token.h"

#define KEY_NAME_MAX 64
#define KEY_ID_MAX   64

struct key {
	atomic_int refs;
	char name[KEY_NAME_MAX + 1];
	CK_OBJECT_HANDLE priv;
	CK_OBJECT_HANDLE pub;
	enum signet_key_alg alg; /* SIGNET_KEY_UNSPECIFIED for keys signet cannot use */
	uint8_t id[KEY_ID_MAX];
	size_t id_len;
	int sensitive;
	int extractable;
	unsigned int usage; /* enum signet_key_usage bits, as the token has them */
	uint8_t *spki;	    /* SubjectPublicKeyInfo, DER */
	size_t spki_len;
	EVP_PKEY *pub_pkey;
	unsigned long token_gen; /* token_generation() when the handles were found */
	struct key *next;	 /* hash chain, under keystore.lock */
};

/* Opaque: its layout is hsm/keystore_internal.h, for hsm/ alone. */
struct keystore;

/* 1-64 characters of [A-Za-z0-9._-]: safe in logs, labels and file names. */
int keystore_name_valid(const char *name);

/* An empty key cache for the keys on `token`, in *out; 0 or an error. */
int keystore_new(struct token *token, struct keystore **out);
/* Drop the cache's references and free it. NULL is fine. */
void keystore_free(struct keystore *ks);

/*
 * Every function below answers UNAVAILABLE at once while the token is down
 * (token_check()). After the token recovers, the cache is emptied: object
 * handles need not survive a module's loss of the token. Nothing found (a
 * miss, an empty or short list, a delete of nothing, a cached handle the
 * token calls invalid) is believed only once the token confirms it is there
 * (token_confirm()); otherwise the answer is UNAVAILABLE, not NOT_FOUND.
 * Look-ups, generation and deletion keep apart as the token needs
 * (token_objects_*()); signing takes no lock.
 */

/* Find `name` (cache first, then the token). NOT_FOUND if absent. */
int keystore_get(struct keystore *ks, CK_SESSION_HANDLE s, const char *name, struct key **out,
		 struct errmsg *em);
void key_put(struct key *k);

/* Generate a key pair on the token. ALREADY_EXISTS if the name is taken.
 * One CKR_GENERAL_ERROR is tried again, after what it left is destroyed. */
int keystore_generate(struct keystore *ks, CK_SESSION_HANDLE s, const char *name,
		      enum signet_key_alg alg, struct key **out, struct errmsg *em);

/* What a new key is for: signing only, or an enrolment RA's key, which must
 * also decrypt (RSA only; never unwrap or derive; keystore.c's templates). */
enum keystore_purpose {
	KEYSTORE_PURPOSE_SIGN,
	KEYSTORE_PURPOSE_RA,
};
/* keystore_generate() for `purpose`; INVALID_ARGUMENT for an RA key that is not RSA. */
int keystore_generate_for(struct keystore *ks, CK_SESSION_HANDLE s, const char *name,
			  enum signet_key_alg alg, enum keystore_purpose purpose, struct key **out,
			  struct errmsg *em);

/* Destroy every object labelled `name` (private and public). */
int keystore_delete(struct keystore *ks, CK_SESSION_HANDLE s, const char *name, struct errmsg *em);

/* Every private key on the token that has a label; release with keystore_list_free(). */
int keystore_list(struct keystore *ks, CK_SESSION_HANDLE s, struct key ***out, size_t *n,
		  struct errmsg *em);
void keystore_list_free(struct key **keys, size_t n);

/* C_SignInit + C_Sign with `mech` on session `s`. *siglen: in capacity, out length. */
int keystore_sign(struct keystore *ks, CK_SESSION_HANDLE s, struct key *k, CK_MECHANISM *mech,
		  const uint8_t *in, size_t inlen, uint8_t *sig, size_t *siglen, struct errmsg *em);

/* How keystore_decrypt() removes the padding: what a CMS KeyTransRecipientInfo names. */
enum keystore_decrypt {
	KEYSTORE_DECRYPT_RSA_PKCS,	  /* rsaEncryption: PKCS#1 v1.5 */
	KEYSTORE_DECRYPT_RSA_OAEP_SHA1,	  /* RSAES-OAEP, SHA-1 and MGF1-SHA-1 (the default) */
	KEYSTORE_DECRYPT_RSA_OAEP_SHA256, /* RSAES-OAEP, SHA-256 and MGF1-SHA-256 */
	/* the raw RSA block (CKM_RSA_X_509), for OpenSSL to remove OAEP padding
	 * with the hash a RecipientInfo names (keybridge); what the key can do
	 * already, since RSA-PSS signing is a raw private operation too */
	KEYSTORE_DECRYPT_RSA_RAW,
};

/*
 * C_DecryptInit + C_Decrypt on session `s`: for RA keys only (the key's
 * CKA_DECRYPT is true), FAILED_PRECONDITION for any other. *outlen: in
 * capacity, out length. INVALID_ARGUMENT when the token finds the data does
 * not decrypt (bad padding, wrong length); the plaintext is the caller's to
 * wipe.
 */
int keystore_decrypt(struct keystore *ks, CK_SESSION_HANDLE s, struct key *k,
		     enum keystore_decrypt how, const uint8_t *in, size_t inlen, uint8_t *out,
		     size_t *outlen, struct errmsg *em);

#endif
