/*
 * The checks of an EST enrolment (RFC 7030) that need no token, no ledger and
 * no CA store: the channel binding, the re-enrolment's subject rule, the
 * /csrattrs answer. rpc/est.c applies them; docs/est.md.
 */
#ifndef SIGNETD_PKI_EST_H
#define SIGNETD_PKI_EST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "base/errmsg.h"

#define EST_TLS_UNIQUE_MAX 64 /* tls-unique is 12 bytes (36 with SSLv3's Finished) */

/*
 * RFC 7030 3.5: when `tls_unique` is not empty and the CSR carries a
 * challengePassword, it must be the base64 of tls_unique. 0 when it is, or
 * when there is nothing to compare (no challengePassword; no tls_unique, as
 * under TLS 1.3); INVALID_ARGUMENT naming the mismatch otherwise.
 */
int est_check_tls_unique(X509_REQ *csr, const uint8_t *tls_unique, size_t len, struct errmsg *em);

/*
 * RFC 7030 4.2.2: a re-enrolment's CSR has the subject and subjectAltName of
 * the certificate it renews (both SAN absent counts as equal). 0, or
 * PERMISSION_DENIED saying which differs.
 */
int est_same_subject(X509_REQ *csr, X509 *cert, struct errmsg *em);

/*
 * The DER CsrAttrs (RFC 7030 4.5.2) asking for the `n` attributes `names`
 * (names OpenSSL knows, or dotted OIDs): *der (OPENSSL_free) and *len. n 0
 * gives *der NULL and *len 0. INVALID_ARGUMENT for a name that is no OID.
 */
int est_csr_attrs(char *const *names, size_t n, unsigned char **der, size_t *len,
		  struct errmsg *em);

#endif
