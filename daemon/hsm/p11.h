/*
 * The one place where PKCS#11 return values become project errors, and where
 * the PKCS#11 header comes from (p11-kit's copy of the OASIS header).
 */
#ifndef SIGNETD_P11_H
#define SIGNETD_P11_H

#include <p11-kit/pkcs11.h>

#include "base/errmsg.h"

/* "CKR_PIN_INCORRECT", or "CKR_0x..." for values we do not name. Thread-safe. */
const char *p11_rv_name(CK_RV rv, char *buf, size_t buflen);

/* Map a PKCS#11 failure to enum signet_err: a token that is gone or failing
 * is UNAVAILABLE, a vanished object NOT_FOUND, bad input INVALID_ARGUMENT. */
int p11_err(CK_RV rv);

/* errmsg_set() with ": CKR_..." appended, returning p11_err(rv). */
int p11_fail(struct errmsg *em, CK_RV rv, const char *what);

/*
 * The last failure this thread mapped with p11_err() or p11_fail() since the
 * previous call (CKR_OK if none), and forget it. A worker asks after each
 * request, so that a lost session, login or token found deep inside any
 * module is acted on (token_leave()) without threading it back up by hand.
 */
CK_RV p11_take_failure(void);

#endif
