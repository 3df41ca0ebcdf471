/*
 * SignCsr: a certificate for a CSR, signed by a signet CA's token key under a
 * profile. Order matters: everything the caller sent is checked (profile,
 * CSR, its signature, the profile's rules) before the token is touched. The
 * steps of one certificate are shared with SignCsrBatch (issue.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "base/x509der.h"
#include "pki/certbuild.h"
#include "pki/csr.h"
#include "records/issued.h"
#include "hsm/keybridge.h"
#include "base/asn1time.h"
#include "base/log.h"
#include "pki/pem.h"
#include "pki/profile.h"
#include "rpc/issue.h"
#include "rpc/rpc.h"

/* The request's subject and SAN overrides, parsed; NULL members when not given. */
struct overrides {
	X509_NAME *subject;
	GENERAL_NAMES *sans;
};

static int overrides_parse(const struct issue_input *in, struct overrides *o, struct errmsg *em)
{
	struct csr_params sans = {.dns_names = in->dns_names,
				  .n_dns_names = in->n_dns_names,
				  .ip_addresses = in->ip_addresses,
				  .n_ip_addresses = in->n_ip_addresses,
				  .uris = in->uris,
				  .n_uris = in->n_uris};
	int r;

	memset(o, 0, sizeof(*o));
	if (in->subject != NULL && in->subject[0] != '\0' &&
	    (r = csr_subject_parse(in->subject, &o->subject, em)) != 0)
		return r;
	if (in->n_dns_names + in->n_ip_addresses + in->n_uris > 0)
		return csr_sans_build(&sans, &o->sans, em);
	return 0;
}

static void overrides_release(struct overrides *o)
{
	X509_NAME_free(o->subject);
	GENERAL_NAMES_free(o->sans);
}

static const struct profile *find_profile(struct rpc *rq, const char *name)
{
	const struct profile_set *set = &rq->d->cfg->profiles;
	const struct profile *p = profile_find(set, name);
	char known[256] = "";
	size_t used = 0;

	if (p != NULL)
		return p;
	for (size_t i = 0; i < set->n && used < sizeof(known); i++)
		used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
					 i > 0 ? ", " : "", set->v[i].name);
	errmsg_set(&rq->em, SIGNET_E_NOT_FOUND, "no profile named '%.64s' (known: %s)", name,
		   known);
	return NULL;
}

/* The CSR, read and its proof of possession checked: pure, before any token work. */
static int read_csr(struct rpc *rq, const struct issue_input *in, X509_REQ **csr)
{
	int r = csr_parse(in->csr.data, in->csr.len, csr, &rq->em);

	if (r == 0 && (r = csr_verify_signature(*csr, &rq->em)) != 0) {
		X509_REQ_free(*csr);
		*csr = NULL;
	}
	return r;
}

/* The request checked against the profile: what will be certified. */
static int plan_request(struct rpc *rq, const struct issue_input *in, const struct profile *p,
			X509_REQ *csr, const struct overrides *o, enum signet_key_alg issuer_alg,
			struct issue_plan *plan)
{
	struct issue_request ir = {.csr = csr,
				   .subject_override = o->subject,
				   .san_override = o->sans,
				   .validity_days = in->validity_days,
				   .issuer_alg = issuer_alg,
				   .ca_name = in->ca,
				   .now = time(NULL)};
	int r = profile_plan(p, &ir, plan, &rq->em);

	if (r != 0)
		log_info("refused a CSR for CA '%s', profile '%s': %s", in->ca, p->name,
			 rq->em.text);
	return r;
}

static int certify(struct rpc *rq, struct issue_plan *plan, const struct ca *ca, struct key *ca_key,
		   X509 **out)
{
	struct keybridge bridge = {
		.ks = rq->d->keys, .key = ca_key, .session = rq->session, .em = &rq->em};
	EVP_PKEY *signer = keybridge_pkey(&bridge);
	int r;

	if (signer == NULL)
		return errmsg_openssl(&rq->em, SIGNET_E_INTERNAL, "cannot set up token signing");
	plan->spec.issuer = ca->cert;
	r = certbuild_sign(&plan->spec, signer, ca_key->pub_pkey, plan->md, out, &rq->em);
	EVP_PKEY_free(signer);
	return r;
}

/* Everything the response points into, owned here. */
struct issued {
	unsigned char *der;
	char *pem;
	ProtobufCBinaryData *chain;
	int n_chain;
	char *chain_pem;
	uint8_t serial[32];
};

static void issued_release(struct issued *is)
{
	for (int i = 0; is->chain != NULL && i < is->n_chain; i++)
		OPENSSL_free(is->chain[i].data);
	free(is->chain);
	free(is->chain_pem);
	free(is->pem);
	OPENSSL_free(is->der);
}

static int respond(struct rpc *rq, X509 *cert, const char *ca_name, struct issued *is)
{
	Signet__V1__SignCsrResponse resp = SIGNET__V1__SIGN_CSR_RESPONSE__INIT;
	STACK_OF(X509) *chain = NULL;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	int n = x509der(cert, &is->der), r;

	if (n <= 0 || bn == NULL || BN_num_bytes(bn) > (int)sizeof(is->serial) ||
	    (is->pem = pem_encode("CERTIFICATE", is->der, (size_t)n)) == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_INTERNAL, "cannot encode the certificate");
		goto out;
	}
	if ((r = castore_chain(rq->d->cas, ca_name, &chain, &rq->em)) != 0)
		goto out;
	is->n_chain = sk_X509_num(chain);
	is->chain = calloc((size_t)is->n_chain, sizeof(*is->chain));
	if (is->chain == NULL || rpc_chain_encode(chain, is->chain, &is->chain_pem) != 0) {
		r = errmsg_set(&rq->em, SIGNET_E_INTERNAL, "cannot encode the CA chain");
		goto out;
	}
	resp.certificate_der = (ProtobufCBinaryData){.data = is->der, .len = (size_t)n};
	resp.certificate_pem = is->pem;
	resp.chain_der = is->chain;
	resp.n_chain_der = (size_t)is->n_chain;
	resp.chain_pem = is->chain_pem;
	resp.serial.len = (size_t)BN_bn2bin(bn, is->serial);
	resp.serial.data = is->serial;
	resp.not_before = asn1time_unix(X509_get0_notBefore(cert));
	resp.not_after = asn1time_unix(X509_get0_notAfter(cert));
	r = rpc_respond(rq, &resp.base);
out:
	BN_free(bn);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

static void log_issued(X509 *cert, const char *ca, const char *profile)
{
	char subject[256], serial[LEDGER_SERIAL_MAX] = "?";

	issued_serial_hex(cert, serial);
	X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	log_info("issued serial %s '%s' with CA '%s', profile '%s'", serial, subject, ca, profile);
}

/* A retry of a request that was answered already gets the same certificate,
 * if it asks for the same key: 0 with it->cert; NOT_FOUND for a new request id. */
static int find_retry(struct issue_item *it)
{
	X509 *prior = NULL;
	int r = rpc_find_retry(it->rq, it->in.ca, &prior);

	if (r != 0)
		return r;
	if (!csr_key_matches(it->csr, prior)) {
		r = errmsg_set(&it->rq->em, SIGNET_E_ALREADY_EXISTS,
			       "this request id was used for a certificate for another key");
		X509_free(prior);
	} else {
		X509_free(it->cert);
		it->cert = prior; /* transferred */
		it->retry = 1;
	}
	ERR_clear_error();
	return r;
}

int issue_signer_load(struct rpc *rq, const char *ca, struct issue_signer *s)
{
	if (s->key != NULL)
		return 0;
	return rpc_ca_load(rq, ca, &s->ca, &s->key);
}

void issue_signer_release(struct issue_signer *s)
{
	if (s->key == NULL)
		return;
	ca_release(&s->ca);
	key_put(s->key);
	s->key = NULL;
}

int issue_prepare(struct issue_item *it, struct issue_signer *s)
{
	struct rpc *rq = it->rq;
	struct overrides o = {.subject = NULL};
	struct issue_plan plan = {.key = NULL};
	int r;

	if ((it->p = find_profile(rq, it->in.profile)) == NULL)
		return SIGNET_E_NOT_FOUND;
	rpc_object(rq, "ca=%.64s profile=%.64s", it->in.ca, it->p->name);
	if ((r = read_csr(rq, &it->in, &it->csr)) != 0)
		return r;
	if ((r = find_retry(it)) != SIGNET_E_NOT_FOUND)
		return r;
	if ((r = overrides_parse(&it->in, &o, &rq->em)) == 0 &&
	    (r = issue_signer_load(rq, it->in.ca, s)) == 0 &&
	    (r = plan_request(rq, &it->in, it->p, it->csr, &o, s->key->alg, &plan)) == 0)
		r = certify(rq, &plan, &s->ca, s->key, &it->cert);
	issue_plan_release(&plan);
	overrides_release(&o);
	return r;
}

int issue_entry(struct issue_item *it, const struct issue_signer *s)
{
	return rpc_issued_entry(it->rq, it->cert, it->in.ca, s->key->name, it->p->name, 1, &it->ie);
}

int issue_settle(struct issue_item *it, int recorded)
{
	int r;

	if (recorded == 0) {
		log_issued(it->cert, it->in.ca, it->p->name);
		return 0;
	}
	if (recorded != SIGNET_E_ALREADY_EXISTS)
		return recorded;
	/* a retry of this request won the race; a serial clash (127 random
	 * bits) stays what the ledger said. The entry was for the certificate
	 * that lost: no one may answer with it */
	issued_entry_release(&it->ie);
	if ((r = find_retry(it)) == SIGNET_E_NOT_FOUND)
		return recorded;
	return r;
}

void issue_item_release(struct issue_item *it)
{
	issued_entry_release(&it->ie);
	X509_free(it->cert);
	X509_REQ_free(it->csr);
	it->cert = NULL;
	it->csr = NULL;
}

static struct issue_input input_of(const Signet__V1__SignCsrRequest *req)
{
	return (struct issue_input){.ca = req->ca,
				    .profile = req->profile,
				    .csr = req->csr,
				    .validity_days = req->validity_days,
				    .subject = req->subject,
				    .dns_names = req->dns_names,
				    .n_dns_names = req->n_dns_names,
				    .ip_addresses = req->ip_addresses,
				    .n_ip_addresses = req->n_ip_addresses,
				    .uris = req->uris,
				    .n_uris = req->n_uris};
}

int process_sign_csr(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__SignCsrRequest *req = (const void *)request;
	struct issue_item it = {.rq = rq, .in = input_of(req)};
	struct issue_signer s = {.key = NULL};
	struct issued is = {.der = NULL};
	int r;

	if ((r = issue_prepare(&it, &s)) == 0 && !it.retry && (r = issue_entry(&it, &s)) == 0)
		r = issue_settle(&it, ledger_record(rq->d->ledger, &it.ie.e, &rq->em));
	if (r == 0)
		r = respond(rq, it.cert, req->ca, &is);
	issued_release(&is);
	issue_item_release(&it);
	issue_signer_release(&s);
	return r;
}
