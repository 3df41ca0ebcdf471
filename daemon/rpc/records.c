/*
 * Records RPCs: ListIssued, GetIssued, Revoke, GetCrl. CRLs are signed and
 * published by ca/casign; recording what a request issued is rpc/rpc.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "pki/pem.h"
#include "rpc/rpc.h"
#include "reason.h"

/* --- IssuedCertificate --- */

static void issued_fill(const struct ledger_entry *e, Signet__V1__IssuedCertificate *out)
{
	signet__v1__issued_certificate__init(out);
	out->ca = e->ca;
	out->issuer_key = e->issuer_key;
	out->serial = (char *)e->serial;
	out->subject = e->subject;
	out->sans = e->sans;
	out->profile = e->profile;
	out->spki_sha256 = (ProtobufCBinaryData){.data = (uint8_t *)e->spki_sha256, .len = 32};
	out->not_before = e->not_before;
	out->not_after = e->not_after;
	out->caller = e->caller;
	if (e->has_request_id)
		out->request_id = (ProtobufCBinaryData){.data = (uint8_t *)e->request_id,
							.len = LEDGER_REQUEST_ID};
	out->issued_at = e->issued_at;
	out->certificate_der = (ProtobufCBinaryData){.data = e->der, .len = e->der_len};
	out->revoked = e->revoked_at != 0;
	out->revoked_at = e->revoked_at;
	out->reason = (Signet__V1__RevocationReason)e->reason;
	out->invalidity_date = e->invalidity_date;
}

/* --- ListIssued, GetIssued --- */

static int page_token_parse(struct rpc *rq, const char *token, int64_t *after_id)
{
	char *end;
	long long v;

	*after_id = 0;
	if (token[0] == '\0')
		return 0;
	errno = 0;
	v = strtoll(token, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || token[0] == '+' || token[0] == ' ')
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "invalid page_token");
	*after_id = v;
	return 0;
}

int process_list_issued(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__ListIssuedRequest *req = (const void *)request;
	Signet__V1__ListIssuedResponse resp = SIGNET__V1__LIST_ISSUED_RESPONSE__INIT;
	struct ledger_filter f = {.ca = req->ca,
				  .profile = req->profile,
				  .subject_contains = req->subject_contains,
				  .valid_at = req->valid_at,
				  .expires_after = req->expires_after,
				  .expires_before = req->expires_before,
				  .revoked = (enum ledger_revoked_filter)req->revoked,
				  .limit = req->page_size};
	char serial[LEDGER_SERIAL_MAX], next[24] = "";
	Signet__V1__IssuedCertificate *certs = NULL, **ptrs = NULL;
	struct ledger_entry *entries = NULL;
	size_t n = 0;
	int64_t next_id = 0;
	int r;

	if (req->page_size > LEDGER_LIST_MAX ||
	    req->revoked > SIGNET__V1__REVOKED_FILTER__REVOKED_NOT)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "page_size is at most %d; revoked is ANY, ONLY or NOT",
				  LEDGER_LIST_MAX);
	if (req->serial[0] != '\0') {
		if (ledger_serial_normalise(req->serial, serial) != 0)
			return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
					  "a serial is up to 40 hex digits");
		f.serial = serial;
	}
	if ((r = page_token_parse(rq, req->page_token, &f.after_id)) != 0 ||
	    (r = ledger_list(rq->d->ledger, &f, &entries, &n, &next_id, &rq->em)) != 0)
		return r;
	if ((certs = rpc_entries(rq, n, sizeof(*certs))) == NULL ||
	    (ptrs = rpc_entries(rq, n, sizeof(*ptrs))) == NULL) {
		r = rq->em.err;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		issued_fill(&entries[i], &certs[i]);
		ptrs[i] = &certs[i];
	}
	if (next_id != 0)
		snprintf(next, sizeof(next), "%lld", (long long)next_id);
	resp.certificates = ptrs;
	resp.n_certificates = n;
	resp.next_page_token = next;
	r = rpc_respond(rq, &resp.base);
out:
	free(ptrs);
	free(certs);
	ledger_list_free(entries, n);
	return r;
}

int process_get_issued(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetIssuedRequest *req = (const void *)request;
	Signet__V1__GetIssuedResponse resp = SIGNET__V1__GET_ISSUED_RESPONSE__INIT;
	Signet__V1__IssuedCertificate cert;
	struct ledger_entry e = {.der = NULL};
	char serial[LEDGER_SERIAL_MAX] = "";
	int r;

	if (req->serial[0] != '\0' && ledger_serial_normalise(req->serial, serial) != 0)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a serial is up to 40 hex digits");
	if (req->serial[0] == '\0' && req->spki_sha256.len != 32)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "give a serial or a 32-byte SPKI SHA-256 fingerprint");
	if ((r = ledger_get(rq->d->ledger, serial, req->spki_sha256.data, &e, &rq->em)) != 0)
		return r;
	issued_fill(&e, &cert);
	resp.certificate = &cert;
	r = rpc_respond(rq, &resp.base);
	ledger_entry_release(&e);
	return r;
}

/* --- CRLs --- */

static struct casign_crl_policy crl_policy(struct rpc *rq)
{
	return (struct casign_crl_policy){.ledger = rq->d->ledger,
					  .validity_hours = rq->d->cfg->crl_validity_hours,
					  .publish_dir = rq->d->cfg->crl_publish_dir};
}

/* Sign the CRL of CA generation `gen` (its key) and write it to the publish
 * directory; rq->object names it for the audit trail once it is signed. */
static int crl_refresh(struct rpc *rq, const struct ca *gen)
{
	struct casign_signer s = rpc_signer(rq);
	struct casign_crl_policy p = crl_policy(rq);
	uint64_t number;
	int r = casign_crl_refresh(&s, &p, gen, &number);

	if (number != 0)
		rpc_object(rq, "ca=%s key=%s crl_number=%llu", gen->name, gen->key,
			   (unsigned long long)number);
	return r;
}

static int crl_generation(struct rpc *rq, const char *ca, const char *key, struct ca *gen)
{
	struct ca cur = {.cert = NULL};
	int r;

	if (key == NULL || key[0] == '\0') {
		if ((r = castore_get(rq->d->cas, ca, &cur, &rq->em)) != 0)
			return r;
		key = cur.key;
	}
	r = castore_get_by_key(rq->d->cas, ca, key, gen, &rq->em);
	ca_release(&cur);
	return r;
}

int process_get_crl(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetCrlRequest *req = (const void *)request;
	Signet__V1__GetCrlResponse resp = SIGNET__V1__GET_CRL_RESPONSE__INIT;
	struct casign_signer s = rpc_signer(rq);
	struct casign_crl_policy p = crl_policy(rq);
	struct ca gen = {.cert = NULL};
	struct casign_crl c = {.der = NULL};
	char *pem = NULL;
	int r;

	rpc_object(rq, "ca=%.64s key=%.64s", req->ca, req->key);
	if ((r = crl_generation(rq, req->ca, req->key, &gen)) != 0 ||
	    (r = casign_crl_sign(&s, &p, &gen, &c)) != 0)
		goto out;
	rpc_object(rq, "ca=%s key=%s crl_number=%llu", gen.name, gen.key,
		   (unsigned long long)c.number);
	if ((pem = pem_encode("X509 CRL", c.der, c.len)) == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	if (casign_crl_publish(&p, &gen, &c, &rq->em) != 0) /* the caller still gets the CRL */
		log_error("%s", rq->em.text);
	resp.crl_der = (ProtobufCBinaryData){.data = c.der, .len = c.len};
	resp.crl_pem = pem;
	resp.crl_number = c.number;
	resp.this_update = (int64_t)c.this_update;
	resp.next_update = (int64_t)c.next_update;
	r = rpc_respond(rq, &resp.base);
out:
	free(pem);
	OPENSSL_free(c.der);
	ca_release(&gen);
	return r;
}

/* --- Revoke --- */

/* After a revocation, the published CRL of the key that signed the certificate. */
static void republish(struct rpc *rq, const char *ca, const char *issuer_key)
{
	struct ca gen = {.cert = NULL};
	struct errmsg em = rq->em;
	char object[RPC_OBJECT_MAX];

	if (rq->d->cfg->crl_publish_dir == NULL)
		return;
	memcpy(object, rq->object, sizeof(object));
	if (castore_get_by_key(rq->d->cas, ca, issuer_key, &gen, &rq->em) != 0 ||
	    crl_refresh(rq, &gen) != 0)
		log_error("revoked, but the CRL of CA '%s' was not republished: %s", ca,
			  rq->em.text);
	rq->em = em; /* the revocation's own result and audit object stand */
	memcpy(rq->object, object, sizeof(object));
	ca_release(&gen);
}

int process_revoke(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__RevokeRequest *req = (const void *)request;
	Signet__V1__RevokeResponse resp = SIGNET__V1__REVOKE_RESPONSE__INIT;
	Signet__V1__IssuedCertificate cert;
	struct ledger_entry e = {.der = NULL};
	struct ca ca = {.cert = NULL};
	char serial[LEDGER_SERIAL_MAX];
	int r;

	rpc_object(rq, "ca=%.64s serial=%.41s", req->ca, req->serial);
	if (!reason_valid((int)req->reason))
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "reason %d is not a CRL reason signet revokes with", req->reason);
	if (ledger_serial_normalise(req->serial, serial) != 0)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a serial is up to 40 hex digits");
	if (req->invalidity_date < 0)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "invalid invalidity_date");
	if ((r = castore_get(rq->d->cas, req->ca, &ca, &rq->em)) != 0)
		return r;
	ca_release(&ca);
	if ((r = ledger_revoke(rq->d->ledger, req->ca, serial, (enum ledger_reason)req->reason,
			       req->invalidity_date, (int64_t)time(NULL), &e, &rq->em)) != 0)
		return r;
	log_info("revoked serial %s of CA '%s' (reason %d)", serial, req->ca, req->reason);
	republish(rq, req->ca, e.issuer_key);
	issued_fill(&e, &cert);
	resp.certificate = &cert;
	r = rpc_respond(rq, &resp.base);
	ledger_entry_release(&e);
	return r;
}
