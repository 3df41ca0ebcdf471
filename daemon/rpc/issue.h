/*
 * One certificate for one CSR under a profile: the steps SignCsr and
 * SignCsrBatch share (issue.c), so that a batch's item is checked, signed
 * and recorded exactly as a SignCsr of its own would be. Internal to
 * daemon/rpc.
 *
 * A certificate goes: issue_prepare (profile, CSR and its signature, the
 * certificate a retry of its request id already got, the profile's rules,
 * signing on the worker's session), issue_entry (its ledger entry), the
 * ledger (ledger_record, or ledger_record_batch for a batch), then
 * issue_settle with what the ledger answered.
 */
#ifndef SIGNETD_RPC_ISSUE_H
#define SIGNETD_RPC_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "pki/profile.h"
#include "rpc/rpc.h"

/* What one certificate is asked for: a SignCsrRequest, or an item of a
 * SignCsrBatchRequest; it points into the request. */
struct issue_input {
	const char *ca;
	const char *profile;
	ProtobufCBinaryData csr;
	uint32_t validity_days;
	const char *subject; /* "" or NULL: the CSR's */
	char **dns_names;
	size_t n_dns_names;
	char **ip_addresses;
	size_t n_ip_addresses;
	char **uris;
	size_t n_uris;
};

/* The CA that signs and its token key, loaded by the first certificate
 * that needs them (a retry needs neither). */
struct issue_signer {
	struct ca ca;
	struct key *key; /* NULL until loaded */
};

/*
 * One certificate in the making. Its request `rq` holds the request id it is
 * recorded under, its message and its audit object: SignCsr's own request,
 * or for a batch's item a copy of the batch's request with the item's id.
 */
struct issue_item {
	struct rpc *rq;
	struct issue_input in;
	const struct profile *p; /* found by issue_prepare */
	X509_REQ *csr;
	X509 *cert;		/* the new certificate, or the one recorded for the request id */
	int retry;		/* cert is that recorded one: nothing to record */
	struct issued_entry ie; /* the new certificate's ledger entry (issue_entry); its DER
				 * is the certificate's while ie.der is set */
};

/* Load s's CA and key unless loaded: NOT_FOUND for an unknown CA. */
int issue_signer_load(struct rpc *rq, const char *ca, struct issue_signer *s);
void issue_signer_release(struct issue_signer *s);

/*
 * Everything before the ledger, in SignCsr's order: the profile (NOT_FOUND),
 * the CSR and its own signature (INVALID_ARGUMENT), a certificate already
 * recorded for this caller's request id (0 with it->retry set: the same
 * certificate again, or ALREADY_EXISTS when it was for another key or CA),
 * the CA (loaded into s if need be), the profile's rules, and the
 * certificate signed on the worker's session and checked (it->cert).
 * Errors are in it->rq->em.
 */
int issue_prepare(struct issue_item *it, struct issue_signer *s);

/* it->ie for the new it->cert, under it->rq's request id. */
int issue_entry(struct issue_item *it, const struct issue_signer *s);

/*
 * What the ledger's answer for the new certificate means: 0 (recorded: it
 * is logged), ALREADY_EXISTS because a retry of the same request id was
 * recorded meanwhile (then it->cert is that one, it->retry set, and 0
 * returned unless it was for another key), or the ledger's error, whose
 * message the caller has put in it->rq->em.
 */
int issue_settle(struct issue_item *it, int recorded);

void issue_item_release(struct issue_item *it);

/*
 * SignCsrBatch's limits (server.max_batch_csrs, max_batch_bytes, pure): 0,
 * or INVALID_ARGUMENT for an empty batch or one over a limit, with a message
 * naming the setting and both numbers. INVALID_ARGUMENT rather than
 * RESOURCE_EXHAUSTED: the same batch sent again is refused again, whatever
 * the daemon's load, and must be split (RESOURCE_EXHAUSTED is what a caller
 * over max_concurrent gets, which passes with time).
 */
int issue_batch_check(const struct config *cfg, size_t n_items, size_t csr_bytes,
		      struct errmsg *em);

#endif
