/*
 * Certificate revocation lists (RFC 5280 section 5): a CRLv2 for one CA key,
 * with an AKI, an increasing cRLNumber, and per entry the revocation date, a
 * reason code (left out for "unspecified", as 5.3.1 advises) and an
 * invalidity date when known. Signed by the given signer (the CA's token
 * key through keybridge) and checked before it is returned.
 */
#ifndef SIGNETD_CRL_H
#define SIGNETD_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "base/errmsg.h"
#include "records/ledger.h"

struct crl_spec {
	X509 *issuer; /* the CA certificate for the signing key */
	const struct ledger_revoked *revoked;
	size_t n_revoked;
	uint64_t number;
	time_t this_update;
	time_t next_update;
};

/* FAILED_PRECONDITION when the issuer may not sign CRLs (keyUsage without
 * cRLSign); INVALID_ARGUMENT for a malformed serial; INTERNAL otherwise. */
int crl_build(const struct crl_spec *spec, EVP_PKEY *signer, EVP_PKEY *issuer_key, const EVP_MD *md,
	      X509_CRL **out, struct errmsg *em);

#endif
