/*
 * What the enrolment front ends (SCEP: rpc/enrol.c, EST: rpc/est.c) share:
 * the doors, their ledger caller, single-use codes, and whether a
 * certificate is a live one of a door's CA.
 */
#ifndef SIGNETD_RPC_ENROL_H
#define SIGNETD_RPC_ENROL_H

#include <openssl/x509.h>

#include "possession/challenge.h"
#include "rpc/rpc.h"

#define ENROL_CALLER_MAX (CHALLENGE_CALLER_MAX + 1)
#define ENROL_ANY	 (-1) /* enrol_door: a door of any protocol */

/* The door `name` (naming it in the audit object), of `protocol` (an enum
 * enrolment_protocol, or ENROL_ANY); NOT_FOUND when there is none, or it
 * speaks another protocol. */
int enrol_door(struct rpc *rq, const char *name, int protocol, const struct enrolment_def **out);

/* The ledger's caller name of a door's certificates and codes: "scep:NAME", "est:NAME". */
void enrol_caller(const struct enrolment_def *e, char out[ENROL_CALLER_MAX]);

/*
 * Take the single-use code `code` of door `e` (bound to a device: `csr`'s CN
 * must equal it). 0 with *taken filled; 1 when refused (unknown, used,
 * expired, another device; the reason in `why`); a negative status (ledger
 * trouble) in rq->em. A code taken for a request that fails afterwards goes
 * back with enrol_code_restore(), so that only a success uses it up.
 */
int enrol_code_take(struct rpc *rq, const struct enrolment_def *e, const char *code, X509_REQ *csr,
		    struct challenge *taken, char *why, size_t whylen);
/* Put back a code enrol_code_take() took (best effort: logged when it cannot). */
void enrol_code_restore(struct rpc *rq, const struct challenge *taken);

/* Is `cert` a still-valid certificate of door e's CA, in the ledger for it
 * and not revoked? 1, or 0 with the reason in `why`. */
int enrol_cert_is_ours(struct rpc *rq, const struct enrolment_def *e, X509 *cert, char *why,
		       size_t whylen);

#endif
