/*
 * The ledger entry of a certificate signet made: its serial, subject, SANs,
 * SPKI fingerprint, validity and DER, read from the certificate itself so
 * the record cannot disagree with what was returned.
 */
#ifndef SIGNETD_ISSUED_H
#define SIGNETD_ISSUED_H

#include <openssl/x509.h>

#include "records/ledger.h"

struct issued_entry {
	struct ledger_entry e; /* points into the buffers below */
	char subject[LEDGER_TEXT_MAX];
	char sans[LEDGER_TEXT_MAX];
	uint8_t *der; /* OPENSSL_malloc */
};

/* Fill `out` for `cert`; the strings given are borrowed and must outlive it.
 * request_id may be NULL. INTERNAL when the certificate cannot be read. */
int issued_entry_fill(X509 *cert, const char *ca, const char *issuer_key, const char *profile,
		      const char *caller, const uint8_t *request_id, struct issued_entry *out,
		      struct errmsg *em);
void issued_entry_release(struct issued_entry *ie);

/* "DNS:a, IP:192.0.2.1, URI:u, email:e" for the certificate's SANs ("" if none). */
void issued_sans_text(X509 *cert, char *out, size_t outlen);

/* The certificate's serial as `openssl x509 -serial` prints it (upper-case
 * hex, whole octets), the ledger's form. -1 when it does not fit 20 octets. */
int issued_serial_hex(X509 *cert, char out[LEDGER_SERIAL_MAX]);

/* SHA-256 of the certificate's SubjectPublicKeyInfo DER. -1 on failure. */
int issued_spki_sha256(X509 *cert, uint8_t out[32]);

#endif
