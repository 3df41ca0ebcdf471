/*
 * Signing on behalf of a CA with its token key: the CA certificates it
 * issues (roots, intermediates, renewals, re-keys, link certificates) and
 * its CRLs, signed, numbered and published. Nothing here knows a request: a
 * signer is a token session, the key store its keys come from and where
 * messages go, so the request handlers and the CRL publisher share it.
 */
#ifndef SIGNETD_CASIGN_H
#define SIGNETD_CASIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/errmsg.h"
#include "ca/castore.h"
#include "hsm/keystore.h"
#include "records/ledger.h"

#define CA_BACKDATE_SECONDS 60 /* tolerate small clock skew on relying parties */

/* Azure's sample CA profile: digitalSignature, keyCertSign, cRLSign (critical). */
#define CA_KEY_USAGE (KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN)

/* Who signs: keys are taken from `keys` on `session`; failures are told in *em. */
struct casign_signer {
	struct keystore *keys;
	CK_SESSION_HANDLE session;
	struct errmsg *em;
};

/* The terms of a CA certificate. */
struct ca_terms {
	const X509_NAME *subject;
	unsigned validity_days; /* clamped to the issuer's validity */
	int path_len;		/* -1: none; clamped to what the issuer leaves */
	enum signet_hash hash;
};

/* A CA certificate for `subject_key`, signed on the token by `signer_key`
 * (the subject key itself for a self-signed root, issuer NULL).
 * INVALID_ARGUMENT for an unknown hash; *out is the caller's. */
int casign_certify(const struct casign_signer *s, const struct ca_terms *t, EVP_PKEY *subject_key,
		   struct key *signer_key, X509 *issuer, X509 **out);

/* The signature hash for a CA signing with `signer_alg`: SHA-384 for P-384
 * and SHA-256 otherwise by default. NULL if `hash` is unknown. */
const EVP_MD *casign_md(enum signet_key_alg signer_alg, enum signet_hash hash);

/* How a CA's CRLs are made and kept (the records.* settings). */
struct casign_crl_policy {
	struct ledger *ledger;	 /* revocations and CRL numbers */
	unsigned validity_hours; /* nextUpdate - thisUpdate */
	const char *publish_dir; /* NULL: CRL files are not written */
};

/* A signed CRL. */
struct casign_crl {
	uint8_t *der; /* OPENSSL_malloc; the caller's to OPENSSL_free */
	size_t len;
	uint64_t number;
	time_t this_update, next_update;
};

/* A CRL for the CA generation `gen`, signed now on the token by its key,
 * with the next CRL number of that key (taken from the ledger, so each
 * signing uses one up). */
int casign_crl_sign(const struct casign_signer *s, const struct casign_crl_policy *p,
		    const struct ca *gen, struct casign_crl *out);

/* Write `c` to the publish directory, atomically, mode 0644: CA.crl for the
 * current key, CA.KEY.crl for an earlier one. 0 without a directory;
 * UNAVAILABLE when the file cannot be written. */
int casign_crl_publish(const struct casign_crl_policy *p, const struct ca *gen,
		       const struct casign_crl *c, struct errmsg *em);

/* Sign the CRL of `gen` and publish it. *number: the signed CRL's number
 * (CRL numbers start at 1), left 0 when signing failed. */
int casign_crl_refresh(const struct casign_signer *s, const struct casign_crl_policy *p,
		       const struct ca *gen, uint64_t *number);

#endif
