/*
 * Building X.509 certificates under RFC 5280's rules, for the CA and issuance
 * work: random positive serials, validity clamped to the issuer's, basic
 * constraints and path length, key usage, extended key usage, SANs, SKI and
 * AKI. The caller decides the content (profiles, CA policy); this module makes
 * it well-formed, signs it with the given signer (a token key through
 * keybridge, or any EVP_PKEY) and checks the signature before returning.
 */
#ifndef SIGNETD_CERTBUILD_H
#define SIGNETD_CERTBUILD_H

#include <time.h>

#include <openssl/x509v3.h>

#include "base/errmsg.h"

#define CERTBUILD_SERIAL_BYTES 16 /* 127 random bits: >= 64 required, <= 20 octets allowed */
#define CERTBUILD_MAX_EKU      8

struct cert_spec {
	const X509_NAME *subject; /* may be empty when sans are given */
	EVP_PKEY *subject_key;	  /* the certified public key */
	/* When set: subject_key's SubjectPublicKeyInfo as it came (a CSR's), copied
	 * into the certificate byte for byte. OpenSSL 3.0 would otherwise encode
	 * subject_key and decode it again, the most expensive step of an issuance. */
	const X509_PUBKEY *subject_spki;
	X509 *issuer; /* NULL: self-signed (a root) */
	time_t not_before;
	time_t not_after;
	int is_ca;
	int path_len;		    /* CA only; -1 for no limit */
	unsigned key_usage;	    /* KU_* bits from x509v3.h; 0 = no extension */
	int eku[CERTBUILD_MAX_EKU]; /* NIDs, e.g. NID_client_auth */
	size_t n_eku;
	const GENERAL_NAMES *sans; /* may be NULL */
};

/* A fresh serial: CERTBUILD_SERIAL_BYTES random bytes, positive, never zero. */
int certbuild_serial(ASN1_INTEGER **out, struct errmsg *em);

/*
 * Build and sign. `issuer_key` is the issuer's public key (the subject key for
 * a root), used to check the signature. Refuses (INVALID_ARGUMENT or
 * FAILED_PRECONDITION, with a message naming the rule): an issuer that is not
 * a CA or lacks keyCertSign, a CA below an issuer with pathLen 0, pathLen on
 * a non-CA, validity that is empty or ends before it starts once clamped to
 * the issuer's, an empty subject without SANs.
 */
int certbuild_sign(const struct cert_spec *spec, EVP_PKEY *signer, EVP_PKEY *issuer_key,
		   const EVP_MD *md, X509 **out, struct errmsg *em);

#endif
