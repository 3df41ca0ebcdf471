/*
 * Certificates from callers (an imported sub-CA's certificate and chain):
 * PEM or DER, one or a bounded list, parsed to the exact end.
 */
#ifndef SIGNETD_CERTPARSE_H
#define SIGNETD_CERTPARSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "base/errmsg.h"

/* Exactly one certificate, PEM or DER. INVALID_ARGUMENT otherwise; `what`
 * names it in the message ("the certificate"). */
int certparse_one(const uint8_t *data, size_t len, const char *what, X509 **out, struct errmsg *em);

/* Zero to `max` certificates: concatenated PEM blocks (text around them is
 * ignored, as OpenSSL does) or concatenated DER. *out is a new stack (empty
 * for len 0). INVALID_ARGUMENT for anything else or more than `max`. */
int certparse_many(const uint8_t *data, size_t len, int max, STACK_OF(X509) * *out,
		   struct errmsg *em);

/* 1 to `max` certificates from a PEM or DER file (at most 1 MiB), for
 * start-up: -1 with the file and the reason in err. */
int certparse_file(const char *path, int max, STACK_OF(X509) * *out, char *err, size_t errlen);

#endif
