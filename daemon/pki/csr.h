/*
 * PKCS#10 certification requests for token keys: subject parsing, SAN
 * validation, and the request itself, signed through a keybridge EVP_PKEY.
 */
#ifndef SIGNETD_CSR_H
#define SIGNETD_CSR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/errmsg.h"

#define CSR_SUBJECT_MAX	   1024
#define CSR_NAME_ATTRS_MAX 16
#define CSR_SAN_MAX	   64
#define CSR_SAN_LEN_MAX	   255

struct csr_params {
	const char *subject;	       /* "/CN=device-1/O=Example"; may be "" when SANs are given */
	const X509_NAME *subject_name; /* if set, used as it is instead of `subject` */
	char **dns_names;
	size_t n_dns_names;
	char **ip_addresses;
	size_t n_ip_addresses;
	char **uris;
	size_t n_uris;
	char **emails;
	size_t n_emails;
	/* A CA's request (a sub-CA for an outside CA): ask for basicConstraints
	 * CA:TRUE (with pathLen when ca_path_len >= 0) and keyUsage keyCertSign,
	 * cRLSign, digitalSignature, all critical. */
	int is_ca;
	int ca_path_len;
};

/* "/CN=a/O=b\/c" -> X509_NAME. "" gives an empty name. INVALID_ARGUMENT on bad input. */
int csr_subject_parse(const char *subject, X509_NAME **out, struct errmsg *em);

/* A DNS name as it may appear in a SAN: LDH labels, optionally "*." first. */
int csr_dns_name_valid(const char *name);

/*
 * Build and sign the request. `signer` signs (on the token); `pub` is the
 * same key's public half, used to check the result before it is returned.
 * `der` is allocated with OPENSSL_malloc.
 */
int csr_build(const struct csr_params *p, EVP_PKEY *signer, EVP_PKEY *pub, const EVP_MD *md,
	      uint8_t **der, size_t *derlen, struct errmsg *em);

/* The SANs of `p` (DNS, IP, URI, e-mail), checked; for requests that override a CSR's. */
int csr_sans_build(const struct csr_params *p, GENERAL_NAMES **out, struct errmsg *em);

/* A PKCS#10 request in PEM or DER. INVALID_ARGUMENT when it is neither, or
 * when bytes follow the DER request. The request's public key is left
 * undecoded (X509_REQ_get0_pubkey() gives NULL): use csr_public_key(). */
int csr_parse(const uint8_t *data, size_t len, X509_REQ **out, struct errmsg *em);

/* The request's public key, a new reference the caller frees; NULL when it
 * cannot be read (an EC point off its curve, say). P-256/384/521, RSA and
 * Ed25519 are built from the key's bytes without OpenSSL's decoder
 * framework; other types go through it. */
EVP_PKEY *csr_public_key(const X509_REQ *req);

/* Does the request carry the key `cert` certifies? (A retry of a request id
 * must ask for the same key.) */
int csr_key_matches(const X509_REQ *req, X509 *cert);

/* Proof that the requester holds the private key: the request's signature
 * verifies with the public key it carries. INVALID_ARGUMENT when it does not,
 * and when it was made with SHA-1 or an older hash (RSA-PSS included),
 * whether or not it verifies; the message names the hash. */
int csr_verify_signature(X509_REQ *req, struct errmsg *em);

#endif
