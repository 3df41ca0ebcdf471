/*
 * A certificate chain a device presents, checked for internal consistency up
 * to a trust anchor, the way an IoT hub checks one before it asks for proof
 * of possession: signatures, issuer/subject and AKI/SKI linkage (OpenSSL's
 * strict X.509 checks), validity at `now`, CA flags and pathLen, the purpose
 * (for a client: the leaf's keyUsage must include digitalSignature, and its
 * EKU, if any, clientAuth), and no certificate of the path revoked.
 *
 * Only the presented certificates are used as intermediates: a device that
 * leaves one out fails, as it would at the hub. Any anchor ends the path
 * (a CA signet holds whose issuer is outside signet is an anchor, too).
 */
#ifndef SIGNETD_CHAINVERIFY_H
#define SIGNETD_CHAINVERIFY_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "base/errmsg.h"
#include "records/ledger.h"

#define CHAINVERIFY_MAX_CERTS 10 /* presented certificates, leaf included */
#define CHAINVERIFY_CN_MAX    128

/* The numbers are the wire's ChainPurpose. */
enum chain_purpose { CHAIN_CLIENT = 0, CHAIN_SERVER = 1, CHAIN_CA = 2, CHAIN_ANY = 3 };

/* 1 when `cert` is revoked (with a reason in `why`), 0 when not, negative on
 * failure to tell (an error status). */
typedef int (*chain_revoked_fn)(void *arg, X509 *cert, char *why, size_t whylen);

struct chain_result {
	STACK_OF(X509) * path;			/* leaf first, anchor last */
	char device_id[CHAINVERIFY_CN_MAX + 1]; /* the leaf's CN; "" if none */
	uint8_t spki_sha256[32];
	char serial[LEDGER_SERIAL_MAX];
};

/* What is known of the leaf before any check: for messages about a failure. */
int chain_leaf_describe(X509 *leaf, struct chain_result *out);

/* For `now`: verify as if every certificate were within its validity, to
 * tell a chain that is ours but expired from one that is not ours at all. */
#define CHAINVERIFY_ANY_TIME ((time_t)-1)

/*
 * Verify `presented` (leaf first) against `anchors`. `revoked` NULL skips
 * the revocation check. UNAUTHENTICATED with "check 'chain': ...",
 * "check 'key usage': ..." or "check 'revocation': ..." when a check fails;
 * INVALID_ARGUMENT for an empty or over-long chain. The leaf's device_id,
 * fingerprint and serial are filled whenever the chain was not empty (for
 * the caller's message); the path, on success only (release with
 * chain_result_release).
 */
int chainverify(STACK_OF(X509) * presented, STACK_OF(X509) * anchors, enum chain_purpose purpose,
		chain_revoked_fn revoked, void *arg, time_t now, struct chain_result *out,
		struct errmsg *em);
void chain_result_release(struct chain_result *r);

#endif
