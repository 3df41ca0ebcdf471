/*
 * Revocation reasons: RFC 5280's CRLReason codes and their ASN.1 names. The
 * wire (RevocationReason), the public enum signet_revocation_reason and the
 * ledger's column carry the same numbers (reason.c checks wire == public at
 * compile time); this is the one table of names and the one rule of which
 * codes revoke, for signetd, libsignet and the CLI.
 */
#ifndef SIGNET_PROTO_REASON_H
#define SIGNET_PROTO_REASON_H

#include <stddef.h>

/* RFC 5280's name of `code` ("keyCompromise"); NULL for 7 and unknown codes. */
const char *reason_name(int code);

/* The code named `name`, case ignored ("CACompromise" is "cACompromise",
 * as OpenSSL's -crl_reason has it); 0, or -1 when no reason has that name. */
int reason_from_name(const char *name, int *code);

/* 1 when a certificate may be revoked with `code`: a known reason other than
 * removeFromCRL, which only un-holds an entry of a delta CRL (RFC 5280
 * 5.3.1) and which signet, making no delta CRLs, never takes. */
int reason_valid(int code);

/*
 * The names reason_valid() accepts, most specific first and "unspecified"
 * last, joined by `sep`, into out; returns out.
 */
const char *reason_list(const char *sep, char *out, size_t outlen);

#endif
