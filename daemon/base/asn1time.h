/*
 * An X.509 time (UTCTime or GeneralizedTime) as Unix time. In base/ rather
 * than pki/ because records/ (below pki/) reads certificate validity too.
 */
#ifndef SIGNETD_ASN1TIME_H
#define SIGNETD_ASN1TIME_H

#include <stdint.h>

#include <openssl/asn1.h>

/* Seconds since the epoch, UTC; 0 when t is NULL or does not parse (callers
 * treat 0 as "unknown": it clamps nothing and shows as no date). */
int64_t asn1time_unix(const ASN1_TIME *t);

#endif
