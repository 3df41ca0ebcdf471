/*
 * A certificate's DER, encoded once. OpenSSL keeps no encoding of a
 * certificate it built (only of one it parsed, and not of its TBS part once
 * signed), so every i2d_X509() of a new certificate encodes it again; on the
 * issuance path that was four encodings of each certificate and two of each
 * CA certificate in the chain, per request. The DER is kept with the X509 in
 * its ex_data and copied out from there.
 *
 * x509der_keep() must be called while no other thread can see the X509 (just
 * after signing, or while a CA store is loaded), and the X509 must not change
 * afterwards; x509der() may then be called from any thread.
 */
#ifndef SIGNETD_X509DER_H
#define SIGNETD_X509DER_H

#include <stddef.h>

#include <openssl/x509.h>

/* Encode `cert` now and keep the encoding with it. 0, or -1 (nothing kept)
 * when it cannot be encoded. */
int x509der_keep(X509 *cert);

/* As i2d_X509(cert, out) with *out NULL: a copy of the kept encoding, or a
 * fresh one; OPENSSL_free() it. The length, or -1. */
int x509der(X509 *cert, unsigned char **out);

/* The kept encoding itself (NULL when none), valid while `cert` lives. */
const unsigned char *x509der_peek(X509 *cert, size_t *len);

#endif
