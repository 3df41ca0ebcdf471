/* CA RPCs: CreateRootCa, CreateIntermediateCa, GetCaChain, ListCas,
 * IssueVerificationCertificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/castore.h"
#include "pki/certbuild.h"
#include "pki/csr.h"
#include "hsm/keybridge.h"
#include "base/asn1time.h"
#include "base/log.h"
#include "base/namecheck.h"
#include "pki/pem.h"
#include "records/issued.h"
#include "rpc/rpc.h"
#include "rpc/ca.h"

#define ROOT_DEFAULT_DAYS	  3650
#define INTERMEDIATE_DEFAULT_DAYS 1825
#define CA_MAX_DAYS		  36500

struct ca_request {
	const char *name;
	const char *parent; /* NULL for a root */
	enum signet_key_alg alg;
	const char *subject;
	unsigned validity_days;
	int path_len; /* -1: none */
	Signet__V1__HashAlgorithm hash;
};

size_t rpc_ca_serial(const X509 *cert, uint8_t *buf, size_t buflen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	size_t n = 0;

	if (bn != NULL && (size_t)BN_num_bytes(bn) <= buflen)
		n = (size_t)BN_bn2bin(bn, buf);
	BN_free(bn);
	return n;
}

int rpc_ca_info_fill(const struct ca *ca, struct ca_info_buf *b)
{
	long plen = X509_get_pathlen(ca->cert);
	int n, n_above = sk_X509_num(ca->above);

	memset(b, 0, sizeof(*b));
	signet__v1__ca_info__init(&b->info);
	X509_NAME_oneline(X509_get_subject_name(ca->cert), b->subject, sizeof(b->subject));
	snprintf(b->parent, sizeof(b->parent), "%s", ca->parent_name);
	n = i2d_X509(ca->cert, &b->der);
	b->info.serial.len = rpc_ca_serial(ca->cert, b->serial, sizeof(b->serial));
	if (n <= 0 || b->info.serial.len == 0 || n_above > CA_ABOVE_MAX)
		return SIGNET_E_INTERNAL;
	for (int i = 0; i < n_above; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(ca->above, i), &der);

		if (len <= 0)
			return SIGNET_E_INTERNAL;
		b->external[b->info.n_external_chain_der].data = der;
		b->external[b->info.n_external_chain_der++].len = (size_t)len;
	}
	b->info.external_chain_der = b->external;
	b->info.name = (char *)ca->name;
	b->info.key = (char *)ca->key;
	b->info.key_generation = castore_key_generation(ca->name, ca->key);
	b->info.subject = b->subject;
	b->info.parent = b->parent;
	b->info.certificate_der.data = b->der;
	b->info.certificate_der.len = (size_t)n;
	b->info.not_before = asn1time_unix(X509_get0_notBefore(ca->cert));
	b->info.not_after = asn1time_unix(X509_get0_notAfter(ca->cert));
	b->info.path_len_limited = plen >= 0;
	b->info.path_len = plen >= 0 ? (uint32_t)plen : 0;
	b->info.serial.data = b->serial;
	return 0;
}

void rpc_ca_info_release(struct ca_info_buf *b)
{
	OPENSSL_free(b->der);
	b->der = NULL;
	for (size_t i = 0; i < b->info.n_external_chain_der; i++)
		OPENSSL_free(b->external[i].data);
	b->info.n_external_chain_der = 0;
}

static int check_request(const struct ca_request *cr, struct errmsg *em)
{
	int r;

	if ((r = name_check("CA names", cr->name, CA_NAME_MAX, em)) != 0)
		return r;
	if (cr->validity_days > CA_MAX_DAYS)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "validity of %u days is over the limit of %d", cr->validity_days,
				  CA_MAX_DAYS);
	if (cr->subject == NULL || cr->subject[0] == '\0')
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "a CA needs a subject");
	return 0;
}

/* Sign the new CA's certificate with `signer_key` (itself for a root). */
static int ca_certify(struct rpc *rq, const struct ca_request *cr, struct key *subject_key,
		      struct key *signer_key, X509 *issuer, X509 **out)
{
	struct casign_signer s = rpc_signer(rq);
	struct ca_terms t = {.validity_days = cr->validity_days,
			     .path_len = cr->path_len,
			     .hash = (enum signet_hash)cr->hash};
	X509_NAME *subject = NULL;
	int r;

	if (t.validity_days == 0)
		t.validity_days = issuer == NULL ? ROOT_DEFAULT_DAYS : INTERMEDIATE_DEFAULT_DAYS;
	if ((r = csr_subject_parse(cr->subject, &subject, &rq->em)) != 0)
		return r;
	t.subject = subject;
	r = casign_certify(&s, &t, subject_key->pub_pkey, signer_key, issuer, out);
	X509_NAME_free(subject);
	return r;
}

static int ca_respond(struct rpc *rq, const struct ca *ca, int root)
{
	struct ca_info_buf b;
	int r = rpc_ca_info_fill(ca, &b);

	if (r != 0) {
		rpc_ca_info_release(&b);
		return errmsg_set(&rq->em, r, "cannot encode the CA certificate");
	}
	if (root) {
		Signet__V1__CreateRootCaResponse resp = SIGNET__V1__CREATE_ROOT_CA_RESPONSE__INIT;

		resp.ca = &b.info;
		r = rpc_respond(rq, &resp.base);
	} else {
		Signet__V1__CreateIntermediateCaResponse resp =
			SIGNET__V1__CREATE_INTERMEDIATE_CA_RESPONSE__INIT;

		resp.ca = &b.info;
		r = rpc_respond(rq, &resp.base);
	}
	rpc_ca_info_release(&b);
	return r;
}

static int ca_create(struct rpc *rq, const struct ca_request *cr)
{
	struct ca pca = {.cert = NULL}, made = {.cert = NULL};
	struct key *key = NULL, *parent_key = NULL;
	char key_name[CA_NAME_MAX + 4];
	X509 *cert = NULL;
	int r;

	if ((r = check_request(cr, &rq->em)) != 0)
		return r;
	if (castore_get(rq->d->cas, cr->name, &made, NULL) == 0) {
		ca_release(&made);
		return errmsg_set(&rq->em, SIGNET_E_ALREADY_EXISTS, "a CA named '%s' exists",
				  cr->name);
	}
	if (cr->parent != NULL && (r = rpc_ca_load(rq, cr->parent, &pca, &parent_key)) != 0)
		return r;
	snprintf(key_name, sizeof(key_name), "ca.%s", cr->name);
	if ((r = keystore_generate(rq->d->keys, rq->session, key_name, cr->alg, &key, &rq->em)) !=
	    0)
		goto out;
	r = ca_certify(rq, cr, key, parent_key != NULL ? parent_key : key, pca.cert, &cert);
	/* an intermediate's certificate is one its parent issued: revocable by it */
	if (r == 0 && parent_key != NULL)
		r = rpc_record_issued(rq, cert, cr->parent, parent_key->name, "ca", 1);
	if (r == 0)
		r = castore_add(rq->d->cas, cr->name, NULL, cert, NULL, &rq->em);
	if (r == 0)
		r = rpc_record_ca(rq, cr->name, "create", key_name, cert);
	if (r != 0) {
		/* no orphan key on the token for a CA that does not exist */
		keystore_delete(rq->d->keys, rq->session, key_name, NULL);
		goto out;
	}
	log_info("created %s CA '%s'%s%s", cr->parent != NULL ? "intermediate" : "root", cr->name,
		 cr->parent != NULL ? " under " : "", cr->parent != NULL ? cr->parent : "");
	if ((r = castore_get(rq->d->cas, cr->name, &made, &rq->em)) == 0)
		r = ca_respond(rq, &made, cr->parent == NULL);
out:
	ca_release(&made);
	ca_release(&pca);
	X509_free(cert);
	key_put(key);
	key_put(parent_key);
	return r;
}

int process_create_root_ca(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__CreateRootCaRequest *req = (const void *)request;
	struct ca_request cr = {.name = req->name,
				.alg = (enum signet_key_alg)req->algorithm,
				.subject = req->subject,
				.validity_days = req->validity_days,
				.path_len = req->path_len_limited ? (int)req->path_len : -1,
				.hash = req->hash};

	if (req->path_len_limited && req->path_len > 32)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "pathLen above 32");
	return ca_create(rq, &cr);
}

int process_create_intermediate_ca(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__CreateIntermediateCaRequest *req = (const void *)request;
	struct ca_request cr = {.name = req->name,
				.parent = req->parent,
				.alg = (enum signet_key_alg)req->algorithm,
				.subject = req->subject,
				.validity_days = req->validity_days,
				.path_len = req->path_len_limited ? (int)req->path_len : -1,
				.hash = req->hash};

	if (req->parent[0] == '\0')
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "an intermediate CA needs a parent CA");
	if (req->path_len_limited && req->path_len > 32)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "pathLen above 32");
	return ca_create(rq, &cr);
}

int process_get_ca_chain(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetCaChainRequest *req = (const void *)request;
	Signet__V1__GetCaChainResponse resp = SIGNET__V1__GET_CA_CHAIN_RESPONSE__INIT;
	STACK_OF(X509) *chain = NULL;
	ProtobufCBinaryData *ders = NULL;
	char *pem = NULL;
	int r, n;

	if ((r = castore_chain(rq->d->cas, req->name, &chain, &rq->em)) != 0)
		return r;
	n = sk_X509_num(chain);
	ders = calloc((size_t)n, sizeof(*ders));
	if (ders == NULL || (r = rpc_chain_encode(chain, ders, &pem)) != 0) {
		r = errmsg_set(&rq->em, SIGNET_E_INTERNAL, "cannot encode the chain");
		goto out;
	}
	resp.certificates_der = ders;
	resp.n_certificates_der = (size_t)n;
	resp.pem = pem;
	r = rpc_respond(rq, &resp.base);
out:
	for (int i = 0; ders != NULL && i < n; i++)
		OPENSSL_free(ders[i].data);
	free(ders);
	free(pem);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

int process_list_cas(struct rpc *rq, const ProtobufCMessage *request)
{
	Signet__V1__ListCasResponse resp = SIGNET__V1__LIST_CAS_RESPONSE__INIT;
	struct ca_info_buf *bufs = NULL;
	Signet__V1__CaInfo **ptrs = NULL;
	struct ca *cas = NULL;
	size_t n = 0, filled = 0;
	int r;

	(void)request;
	if ((r = castore_list(rq->d->cas, &cas, &n, &rq->em)) != 0)
		return r;
	if ((bufs = rpc_entries(rq, n, sizeof(*bufs))) == NULL ||
	    (ptrs = rpc_entries(rq, n, sizeof(*ptrs))) == NULL) {
		r = rq->em.err;
		goto out;
	}
	for (; filled < n && r == 0; filled++) {
		r = rpc_ca_info_fill(&cas[filled], &bufs[filled]);
		ptrs[filled] = &bufs[filled].info;
	}
	if (r != 0) {
		r = errmsg_set(&rq->em, r, "cannot encode a CA certificate");
		goto out;
	}
	resp.cas = ptrs;
	resp.n_cas = n;
	r = rpc_respond(rq, &resp.base);
out:
	for (size_t i = 0; bufs != NULL && i < filled; i++)
		rpc_ca_info_release(&bufs[i]);
	free(bufs);
	free(ptrs);
	castore_list_free(cas, n);
	return r;
}

#define VERIFICATION_DEFAULT_DAYS 30
#define VERIFICATION_MAX_DAYS	  365
#define VERIFICATION_CODE_MAX	  64

/* Sign a CA:FALSE certificate for CN=code and a throwaway key with the CA's token key. */
static int verification_certify(struct rpc *rq, const struct ca *ca, struct key *ca_key,
				const char *code, unsigned days, X509 **out)
{
	struct keybridge bridge = {
		.ks = rq->d->keys, .key = ca_key, .session = rq->session, .em = &rq->em};
	EVP_PKEY *throwaway = EVP_EC_gen("P-256"), *signer = NULL;
	X509_NAME *subject = X509_NAME_new();
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = subject,
				 .subject_key = throwaway,
				 .issuer = ca->cert,
				 .not_before = now - CA_BACKDATE_SECONDS,
				 .not_after = now + (time_t)days * 24 * 3600,
				 .path_len = -1,
				 .key_usage = KU_DIGITAL_SIGNATURE};
	int r;

	if (throwaway == NULL || subject == NULL ||
	    !X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
					(const unsigned char *)code, -1, -1, 0) ||
	    (signer = keybridge_pkey(&bridge)) == NULL)
		r = errmsg_openssl(&rq->em, SIGNET_E_INTERNAL, "cannot prepare the certificate");
	else
		r = certbuild_sign(&spec, signer, ca_key->pub_pkey,
				   casign_md(ca_key->alg, SIGNET_HASH_DEFAULT), out, &rq->em);
	EVP_PKEY_free(signer);
	EVP_PKEY_free(throwaway); /* the private half is never used again */
	X509_NAME_free(subject);
	return r;
}

/* Is this the verification certificate for `code`? (A retry must ask for the same.) */
static int verification_for(X509 *cert, const char *code)
{
	char cn[VERIFICATION_CODE_MAX + 2] = "";

	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	return strcmp(cn, code) == 0;
}

/* The certificate for this request: the one a retry already got, or a new
 * one, recorded before it is returned. */
static int verification_get(struct rpc *rq,
			    const Signet__V1__IssueVerificationCertificateRequest *req,
			    unsigned days, X509 **out)
{
	struct ca ca = {.cert = NULL};
	struct key *ca_key = NULL;
	int r = rpc_find_retry(rq, req->ca, out);

	if (r == 0 && !verification_for(*out, req->code)) {
		X509_free(*out);
		*out = NULL;
		return errmsg_set(&rq->em, SIGNET_E_ALREADY_EXISTS,
				  "this request id was used for another certificate");
	}
	if (r != SIGNET_E_NOT_FOUND)
		return r;
	if ((r = rpc_ca_load(rq, req->ca, &ca, &ca_key)) != 0)
		return r;
	if ((r = verification_certify(rq, &ca, ca_key, req->code, days, out)) == 0 &&
	    (r = rpc_record_issued(rq, *out, req->ca, ca_key->name, "verification", 1)) != 0) {
		X509_free(*out);
		*out = NULL;
		if (r == SIGNET_E_ALREADY_EXISTS) /* a retry of this request won the race */
			r = rpc_find_retry(rq, req->ca, out);
	}
	if (r == 0)
		log_info("issued a verification certificate for code '%s' with CA '%s'", req->code,
			 req->ca);
	ca_release(&ca);
	key_put(ca_key);
	return r;
}

/* The audit line of a verification certificate names the code it proves
 * possession for, besides the serial the ledger keeps it under. */
static void verification_audit(struct rpc *rq, const char *ca, const char *code, X509 *cert)
{
	char serial[LEDGER_SERIAL_MAX] = "?";
	int retry = strstr(rq->object, " retry") != NULL;

	issued_serial_hex(cert, serial);
	rpc_object(rq, "ca=%.64s code=%.64s serial=%s%s", ca, code, serial, retry ? " retry" : "");
}

int process_issue_verification_certificate(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__IssueVerificationCertificateRequest *req = (const void *)request;
	Signet__V1__IssueVerificationCertificateResponse resp =
		SIGNET__V1__ISSUE_VERIFICATION_CERTIFICATE_RESPONSE__INIT;
	unsigned days = req->validity_days != 0 ? req->validity_days : VERIFICATION_DEFAULT_DAYS;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	char *pem = NULL;
	int r, n;

	rpc_object(rq, "ca=%.64s code=%.64s", req->ca, req->code);
	/* Registry codes are hex (AWS) or alphanumeric (Azure): the name rule is a
	 * safe superset. */
	if ((r = name_check("verification codes", req->code, VERIFICATION_CODE_MAX, &rq->em)) != 0)
		return r;
	if (days > VERIFICATION_MAX_DAYS)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a verification certificate lives at most %d days",
				  VERIFICATION_MAX_DAYS);
	if ((r = verification_get(rq, req, days, &cert)) != 0)
		goto out;
	verification_audit(rq, req->ca, req->code, cert);
	n = i2d_X509(cert, &der);
	if (n <= 0 || (pem = pem_encode("CERTIFICATE", der, (size_t)n)) == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_INTERNAL, "cannot encode the certificate");
		goto out;
	}
	resp.certificate_der.data = der;
	resp.certificate_der.len = (size_t)n;
	resp.certificate_pem = pem;
	r = rpc_respond(rq, &resp.base);
out:
	free(pem);
	OPENSSL_free(der);
	X509_free(cert);
	return r;
}
