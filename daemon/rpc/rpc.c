/*
 * What several request handlers share: naming the act for the audit trail,
 * packing the reply, loading a CA to sign with, recording what a request
 * issued (and finding it again for a retry), and encoding a chain.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/x509der.h"
#include "pki/pem.h"
#include "records/issued.h"
#include "rpc/rpc.h"

void rpc_object(struct rpc *rq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->object, sizeof(rq->object), fmt, ap);
	va_end(ap);
}

int rpc_respond(struct rpc *rq, const ProtobufCMessage *response)
{
	size_t len = protobuf_c_message_get_packed_size(response);

	free(rq->out);
	rq->out = malloc(len > 0 ? len : 1);
	if (rq->out == NULL)
		return errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	rq->out_len = protobuf_c_message_pack(response, rq->out);
	return 0;
}

void *rpc_entries(struct rpc *rq, size_t n, size_t size)
{
	void *p = calloc(n > 0 ? n : 1, size);

	if (p == NULL)
		errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	return p;
}

/* --- signing with a CA --- */

int rpc_ca_load(struct rpc *rq, const char *name, struct ca *ca, struct key **key)
{
	int r = castore_get(rq->d->cas, name, ca, &rq->em);

	if (r == 0 && (r = keystore_get(rq->d->keys, rq->session, ca->key, key, &rq->em)) != 0)
		ca_release(ca);
	return r;
}

struct casign_signer rpc_signer(struct rpc *rq)
{
	return (struct casign_signer){.keys = rq->d->keys, .session = rq->session, .em = &rq->em};
}

/* --- recording issued certificates --- */

int rpc_issued_entry(struct rpc *rq, X509 *cert, const char *ca, const char *issuer_key,
		     const char *profile, int with_request_id, struct issued_entry *ie)
{
	int r = issued_entry_fill(cert, ca, issuer_key, profile, rq->caller,
				  with_request_id ? rq->request_id : NULL, ie, &rq->em);

	if (r == 0)
		rpc_object(rq, "ca=%s serial=%s profile=%s", ca, ie->e.serial, profile);
	return r;
}

int rpc_record_issued(struct rpc *rq, X509 *cert, const char *ca, const char *issuer_key,
		      const char *profile, int with_request_id)
{
	struct issued_entry ie;
	int r;

	if ((r = rpc_issued_entry(rq, cert, ca, issuer_key, profile, with_request_id, &ie)) != 0)
		return r;
	r = ledger_record(rq->d->ledger, &ie.e, &rq->em);
	issued_entry_release(&ie);
	return r;
}

int rpc_record_ca(struct rpc *rq, const char *name, const char *event, const char *key, X509 *cert)
{
	struct issued_entry ie;
	int r;

	if ((r = issued_entry_fill(cert, name, key, "ca", NULL, NULL, &ie, &rq->em)) != 0)
		return r;
	rpc_object(rq, "ca=%s serial=%s key=%s", name, ie.e.serial, key);
	r = ledger_ca_event(rq->d->ledger, name, event, key, ie.e.serial, ie.e.der, ie.e.der_len,
			    ie.e.issued_at, &rq->em);
	issued_entry_release(&ie);
	return r;
}

int rpc_find_retry(struct rpc *rq, const char *ca, X509 **out)
{
	struct ledger_entry e = {.der = NULL};
	const unsigned char *p;
	int r;

	if (rq->request_id == NULL)
		return SIGNET_E_NOT_FOUND;
	r = ledger_find_request(rq->d->ledger, rq->caller, rq->request_id, &e, NULL);
	if (r != 0)
		return r;
	p = e.der;
	if (strcmp(e.ca, ca) != 0)
		r = errmsg_set(&rq->em, SIGNET_E_ALREADY_EXISTS,
			       "this request id was used for a certificate of CA '%s'", e.ca);
	else if ((*out = d2i_X509(NULL, &p, (long)e.der_len)) == NULL)
		r = errmsg_set(&rq->em, SIGNET_E_DATA_LOSS,
			       "the ledger's certificate for this request id does not decode");
	else
		rpc_object(rq, "ca=%s serial=%s retry", e.ca, e.serial);
	ledger_entry_release(&e);
	return r;
}

/* --- replies --- */

/* DER and concatenated PEM of every certificate in the chain. */
int rpc_chain_encode(STACK_OF(X509) * chain, ProtobufCBinaryData *ders, char **pem)
{
	for (int i = 0; i < sk_X509_num(chain); i++) {
		unsigned char *der = NULL;
		int n = x509der(sk_X509_value(chain, i), &der);

		if (n <= 0)
			return SIGNET_E_INTERNAL;
		ders[i].data = der;
		ders[i].len = (size_t)n;
	}
	*pem = pem_encode_many("CERTIFICATE", ders, (size_t)sk_X509_num(chain));
	return *pem != NULL ? 0 : SIGNET_E_RESOURCE_EXHAUSTED;
}
