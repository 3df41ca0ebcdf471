/*
 * CA lifecycle RPCs: a sub-CA signed by an outside CA (CreateCaRequest, then
 * ImportCaCertificate), renewal (RenewCa: same key, new certificate) and
 * re-keying (RekeyCa: new key, same subject). Replaced generations stay in
 * the castore, so what they issued keeps chaining.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/castore.h"
#include "pki/certbuild.h"
#include "pki/certparse.h"
#include "pki/csr.h"
#include "hsm/keybridge.h"
#include "base/log.h"
#include "base/namecheck.h"
#include "pki/pem.h"
#include "rpc/rpc.h"
#include "rpc/ca.h"

#define LIFECYCLE_MAX_DAYS 36500
#define SECONDS_PER_DAY	   (24 * 3600)

/* --- CreateCaRequest --- */

/* The key a request is for: a held CA's current key, else the pending key of
 * a new CA, made now if it does not exist yet (*made set). */
static int request_key(struct rpc *rq, const Signet__V1__CreateCaRequestRequest *req,
		       const struct ca *held, struct key **key, int *made)
{
	enum signet_key_alg alg = (enum signet_key_alg)req->algorithm;
	char label[KEY_NAME_MAX + 1];
	int r;

	*made = 0;
	if (held->cert != NULL)
		snprintf(label, sizeof(label), "%s", held->key);
	else if ((r = castore_key_label(req->name, 1, label, sizeof(label), &rq->em)) != 0)
		return r;
	r = keystore_get(rq->d->keys, rq->session, label, key, &rq->em);
	if (r == SIGNET_E_NOT_FOUND && held->cert == NULL) {
		if (alg == SIGNET_KEY_UNSPECIFIED)
			return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
					  "a new CA needs a key algorithm");
		r = keystore_generate(rq->d->keys, rq->session, label, alg, key, &rq->em);
		*made = r == 0;
	}
	if (r == 0 && alg != SIGNET_KEY_UNSPECIFIED && (*key)->alg != alg) {
		r = errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
			       "key '%s' exists with another algorithm; re-keying a CA is RekeyCa",
			       label);
		if (*made)
			keystore_delete(rq->d->keys, rq->session, label, NULL);
		key_put(*key);
		*key = NULL;
		*made = 0;
	}
	return r;
}

/* A held CA keeps its subject: ImportCaCertificate would refuse another one
 * only after the outside CA had signed it. */
static int held_subject_check(struct rpc *rq, const Signet__V1__CreateCaRequestRequest *req,
			      const struct ca *held)
{
	X509_NAME *asked = NULL;
	int r;

	if (req->subject[0] == '\0')
		return 0;
	if ((r = csr_subject_parse(req->subject, &asked, &rq->em)) != 0)
		return r;
	if (X509_NAME_cmp(asked, X509_get_subject_name(held->cert)) != 0)
		r = errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
			       "CA '%s' keeps its subject; a CA with another subject is a new CA",
			       req->name);
	X509_NAME_free(asked);
	return r;
}

static int request_build(struct rpc *rq, const Signet__V1__CreateCaRequestRequest *req,
			 const struct ca *held, struct key *key, uint8_t **der, size_t *len)
{
	struct keybridge bridge = {
		.ks = rq->d->keys, .key = key, .session = rq->session, .em = &rq->em};
	struct csr_params p = {.subject = req->subject,
			       .is_ca = 1,
			       .ca_path_len = req->path_len_limited ? (int)req->path_len : -1};
	const EVP_MD *md = casign_md(key->alg, (enum signet_hash)req->hash);
	EVP_PKEY *signer;
	int r;

	if (held->cert != NULL && (r = held_subject_check(rq, req, held)) != 0)
		return r;
	if (held->cert != NULL && req->subject[0] == '\0') {
		/* renewal with the outside CA: the subject it already certified, as it is */
		p.subject_name = X509_get_subject_name(held->cert);
		if (!req->path_len_limited)
			p.ca_path_len = (int)X509_get_pathlen(held->cert);
	}
	if (p.subject_name == NULL && p.subject[0] == '\0')
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "a CA needs a subject");
	if (md == NULL)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "unknown hash algorithm %d",
				  (int)req->hash);
	if ((signer = keybridge_pkey(&bridge)) == NULL)
		return errmsg_openssl(&rq->em, SIGNET_E_INTERNAL, "cannot set up token signing");
	r = csr_build(&p, signer, key->pub_pkey, md, der, len, &rq->em);
	EVP_PKEY_free(signer);
	return r;
}

int process_create_ca_request(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__CreateCaRequestRequest *req = (const void *)request;
	Signet__V1__CreateCaRequestResponse resp = SIGNET__V1__CREATE_CA_REQUEST_RESPONSE__INIT;
	struct ca held = {.cert = NULL};
	struct key *key = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	char *pem = NULL;
	int r, made = 0;

	rpc_object(rq, "ca=%.64s", req->name);
	if ((r = name_check("CA names", req->name, CA_NAME_MAX, &rq->em)) != 0)
		return r;
	if (req->path_len_limited && req->path_len > 32)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "pathLen above 32");
	castore_get(rq->d->cas, req->name, &held, NULL); /* absent: a new CA */
	if ((r = request_key(rq, req, &held, &key, &made)) != 0)
		goto out;
	rpc_object(rq, "ca=%.64s key=%s", req->name, key->name);
	if ((r = request_build(rq, req, &held, key, &der, &len)) != 0)
		goto out;
	if ((pem = pem_encode("CERTIFICATE REQUEST", der, len)) == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	log_info("made a CA certificate request for %s CA '%s' (key '%s')",
		 held.cert != NULL ? "the existing" : "the new", req->name, key->name);
	resp.csr_der.data = der;
	resp.csr_der.len = len;
	resp.csr_pem = pem;
	resp.key = key->name;
	r = rpc_respond(rq, &resp.base);
out:
	if (r != 0 && made) /* no orphan key for a request nobody got */
		keystore_delete(rq->d->keys, rq->session, key->name, NULL);
	free(pem);
	OPENSSL_free(der);
	key_put(key);
	ca_release(&held);
	return r;
}

/* --- ImportCaCertificate --- */

/* What a CA certificate must be before signet signs with it. */
static int check_ca_cert(X509 *cert, struct errmsg *em)
{
	uint32_t flags = X509_get_extension_flags(cert);
	time_t now = time(NULL);

	if (X509_check_ca(cert) != 1 || !(flags & EXFLAG_BCONS))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the certificate is not a CA certificate (basicConstraints "
				  "CA:TRUE)");
	if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the certificate's keyUsage does not allow keyCertSign");
	if (flags & EXFLAG_SS)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the certificate is self-signed: make roots with CreateRootCa");
	if (X509_cmp_time(X509_get0_notBefore(cert), &now) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(cert), &now) < 0)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "the certificate is not valid now");
	return 0;
}

/* The certificate must chain to a self-signed root in `given` or to a CA
 * signet holds. *verified: the chain OpenSSL built, the certificate first. */
static int verify_chain(struct rpc *rq, X509 *cert, STACK_OF(X509) * given, STACK_OF(X509) * held,
			STACK_OF(X509) * *verified)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r = 0;

	if (store == NULL || ctx == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(given); i++)
		if (X509_get_extension_flags(sk_X509_value(given, i)) & EXFLAG_SS)
			X509_STORE_add_cert(store, sk_X509_value(given, i));
	for (int i = 0; i < sk_X509_num(held); i++)
		X509_STORE_add_cert(store, sk_X509_value(held, i));
	ERR_clear_error(); /* adding a certificate twice queues a harmless error */
	if (!X509_STORE_CTX_init(ctx, store, cert, given)) {
		r = errmsg_openssl(&rq->em, SIGNET_E_INTERNAL, "cannot set up verification");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		r = errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
			       "the certificate does not verify up to a root in the chain or a CA "
			       "signet holds: %s",
			       X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto out;
	}
	*verified = X509_STORE_CTX_get1_chain(ctx);
	if (*verified == NULL)
		r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

static int held_by_signet(X509 *cert, STACK_OF(X509) * held)
{
	for (int i = 0; i < sk_X509_num(held); i++)
		if (X509_cmp(cert, sk_X509_value(held, i)) == 0)
			return 1;
	return 0;
}

/* The verified issuers up to the first CA signet holds (which the castore
 * chains by itself): what the record keeps as the chain above. */
static int outside_issuers(STACK_OF(X509) * verified, STACK_OF(X509) * held,
			   STACK_OF(X509) * *above)
{
	*above = sk_X509_new_null();
	if (*above == NULL)
		return SIGNET_E_RESOURCE_EXHAUSTED;
	for (int i = 1; i < sk_X509_num(verified); i++) {
		X509 *c = sk_X509_value(verified, i);

		if (held_by_signet(c, held))
			break;
		if (sk_X509_num(*above) >= CA_ABOVE_MAX || !sk_X509_push(*above, c))
			return SIGNET_E_INVALID_ARGUMENT;
		X509_up_ref(c);
	}
	return 0;
}

/* The token key the certificate must certify: the held CA's, or the pending one. */
static int import_key(struct rpc *rq, const char *name, const struct ca *held, X509 *cert,
		      struct key **key)
{
	char label[KEY_NAME_MAX + 1];
	int r;

	if (held->cert != NULL) {
		snprintf(label, sizeof(label), "%s", held->key);
		if (X509_NAME_cmp(X509_get_subject_name(held->cert), X509_get_subject_name(cert)) !=
		    0)
			return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
					  "the certificate's subject is not CA '%s''s", name);
	} else if ((r = castore_key_label(name, 1, label, sizeof(label), &rq->em)) != 0) {
		return r;
	}
	r = keystore_get(rq->d->keys, rq->session, label, key, &rq->em);
	if (r == SIGNET_E_NOT_FOUND)
		return errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
				  "no key '%s' on the token: make the request with "
				  "CreateCaRequest first",
				  label);
	if (r == 0 && EVP_PKEY_eq((*key)->pub_pkey, X509_get0_pubkey(cert)) != 1) {
		key_put(*key);
		*key = NULL;
		ERR_clear_error();
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "the certificate is for another key than '%s' on the token",
				  label);
	}
	return r;
}

static int respond_ca(struct rpc *rq, const char *name, ProtobufCMessage *resp,
		      Signet__V1__CaInfo **slot)
{
	struct ca_info_buf b;
	struct ca now = {.cert = NULL};
	int r;

	if ((r = castore_get(rq->d->cas, name, &now, &rq->em)) != 0)
		return r;
	if ((r = rpc_ca_info_fill(&now, &b)) != 0)
		r = errmsg_set(&rq->em, r, "cannot encode the CA certificate");
	else {
		*slot = &b.info;
		r = rpc_respond(rq, resp);
	}
	rpc_ca_info_release(&b);
	ca_release(&now);
	return r;
}

int process_import_ca_certificate(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__ImportCaCertificateRequest *req = (const void *)request;
	Signet__V1__ImportCaCertificateResponse resp =
		SIGNET__V1__IMPORT_CA_CERTIFICATE_RESPONSE__INIT;
	STACK_OF(X509) *given = NULL, *held_certs = NULL, *verified = NULL, *above = NULL;
	struct ca held = {.cert = NULL};
	struct key *key = NULL;
	X509 *cert = NULL;
	int r;

	rpc_object(rq, "ca=%.64s", req->name);
	if ((r = name_check("CA names", req->name, CA_NAME_MAX, &rq->em)) != 0)
		return r;
	castore_get(rq->d->cas, req->name, &held, NULL); /* absent: a new CA */
	if ((r = certparse_one(req->certificate.data, req->certificate.len, "the certificate",
			       &cert, &rq->em)) != 0 ||
	    (r = certparse_many(req->chain.data, req->chain.len, CA_ABOVE_MAX, &given, &rq->em)) !=
		    0 ||
	    (r = check_ca_cert(cert, &rq->em)) != 0 ||
	    (r = import_key(rq, req->name, &held, cert, &key)) != 0 ||
	    (r = castore_all_certs(rq->d->cas, &held_certs, &rq->em)) != 0 ||
	    (r = verify_chain(rq, cert, given, held_certs, &verified)) != 0)
		goto out;
	if ((r = outside_issuers(verified, held_certs, &above)) != 0) {
		r = errmsg_set(&rq->em, r, "too many certificates above the CA");
		goto out;
	}
	if (held.cert != NULL)
		r = castore_replace(rq->d->cas, req->name, held.cert, held.key, cert, above,
				    &rq->em);
	else
		r = castore_add(rq->d->cas, req->name, key->name, cert, above, &rq->em);
	if (r == 0)
		r = rpc_record_ca(rq, req->name, "import", key->name, cert);
	if (r != 0)
		goto out;
	log_info("imported %s certificate of CA '%s' (key '%s')",
		 held.cert != NULL ? "a renewed" : "the", req->name, key->name);
	r = respond_ca(rq, req->name, &resp.base, &resp.ca);
out:
	sk_X509_pop_free(above, X509_free);
	sk_X509_pop_free(verified, X509_free);
	sk_X509_pop_free(held_certs, X509_free);
	sk_X509_pop_free(given, X509_free);
	X509_free(cert);
	key_put(key);
	ca_release(&held);
	return r;
}

/* --- RenewCa and RekeyCa --- */

/* Everything a renewal or re-key works with, loaded once. */
struct successor {
	struct ca cur;		/* the CA's current generation */
	struct key *cur_key;	/* its token key */
	struct ca parent;	/* the parent's current generation; cert NULL for a root */
	struct key *parent_key; /* NULL for a root */
	struct ca_terms terms;
	uint8_t prev_serial[32];
	size_t prev_serial_len;
};

static void successor_release(struct successor *s)
{
	ca_release(&s->cur);
	ca_release(&s->parent);
	key_put(s->cur_key);
	key_put(s->parent_key);
}

/* The current validity length, in days, rounded up. */
static unsigned current_days(X509 *cert)
{
	int days = 0, secs = 0;

	if (!ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)))
		return 0;
	return (unsigned)days + (secs > 0 ? 1 : 0);
}

static int successor_load(struct rpc *rq, const char *name, unsigned days,
			  Signet__V1__HashAlgorithm hash, const char *verb, struct successor *s)
{
	char parent[CA_NAME_MAX + 1];
	int r;

	if (days > LIFECYCLE_MAX_DAYS)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "validity of %u days is over the limit of %d", days,
				  LIFECYCLE_MAX_DAYS);
	if ((r = rpc_ca_load(rq, name, &s->cur, &s->cur_key)) != 0)
		return r;
	snprintf(parent, sizeof(parent), "%s", s->cur.parent_name);
	if (!(X509_get_extension_flags(s->cur.cert) & EXFLAG_SS)) {
		if (parent[0] == '\0')
			return errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
					  "CA '%s' was signed by a CA outside signet: to %s it, "
					  "send CreateCaRequest to that CA and import what it "
					  "returns",
					  name, verb);
		if ((r = rpc_ca_load(rq, parent, &s->parent, &s->parent_key)) != 0)
			return r;
	}
	s->terms.subject = X509_get_subject_name(s->cur.cert);
	s->terms.validity_days = days != 0 ? days : current_days(s->cur.cert);
	s->terms.path_len = (int)X509_get_pathlen(s->cur.cert);
	s->terms.hash = (enum signet_hash)hash;
	s->prev_serial_len = rpc_ca_serial(s->cur.cert, s->prev_serial, sizeof(s->prev_serial));
	return 0;
}

/* A successor signed by the parent is a certificate the parent issued. */
static int successor_record(struct rpc *rq, const struct successor *s, X509 *cert)
{
	if (s->parent_key == NULL)
		return 0;
	return rpc_record_issued(rq, cert, s->parent.name, s->parent_key->name, "ca", 1);
}

int process_renew_ca(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__RenewCaRequest *req = (const void *)request;
	Signet__V1__RenewCaResponse resp = SIGNET__V1__RENEW_CA_RESPONSE__INIT;
	struct casign_signer signer = rpc_signer(rq);
	struct successor s = {.cur.cert = NULL};
	X509 *cert = NULL;
	int r;

	if ((r = successor_load(rq, req->name, req->validity_days, req->hash, "renew", &s)) != 0 ||
	    (r = casign_certify(&signer, &s.terms, s.cur_key->pub_pkey,
				s.parent_key != NULL ? s.parent_key : s.cur_key, s.parent.cert,
				&cert)) != 0 ||
	    (r = successor_record(rq, &s, cert)) != 0 ||
	    (r = castore_replace(rq->d->cas, req->name, s.cur.cert, s.cur.key, cert, NULL,
				 &rq->em)) != 0 ||
	    (r = rpc_record_ca(rq, req->name, "renew", s.cur.key, cert)) != 0)
		goto out;
	log_info("renewed CA '%s' (key '%s')", req->name, s.cur.key);
	resp.previous_serial.data = s.prev_serial;
	resp.previous_serial.len = s.prev_serial_len;
	r = respond_ca(rq, req->name, &resp.base, &resp.ca);
out:
	X509_free(cert);
	successor_release(&s);
	return r;
}

/* A root's link certificate: the new root key certified by the old root, so
 * a relying party that trusts only the old root reaches the new one. */
static int link_certify(struct rpc *rq, const struct successor *s, struct key *new_key,
			uint8_t **der, size_t *len)
{
	struct casign_signer signer = rpc_signer(rq);
	X509 *link = NULL;
	int r, n;

	r = casign_certify(&signer, &s->terms, new_key->pub_pkey, s->cur_key, s->cur.cert, &link);
	if (r == 0) /* the old root key issued it: a certificate like any other */
		r = rpc_record_issued(rq, link, s->cur.name, s->cur_key->name, "ca-link", 1);
	if (r != 0) {
		X509_free(link);
		return r;
	}
	*der = NULL;
	n = i2d_X509(link, der);
	X509_free(link);
	if (n <= 0)
		return errmsg_set(&rq->em, SIGNET_E_INTERNAL, "cannot encode the link certificate");
	*len = (size_t)n;
	return 0;
}

static int rekey_key(struct rpc *rq, const Signet__V1__RekeyCaRequest *req,
		     const struct successor *s, struct key **out)
{
	unsigned gen = castore_key_generation(req->name, s->cur.key);
	enum signet_key_alg alg =
		req->algorithm != SIGNET__V1__KEY_ALGORITHM__KEY_ALGORITHM_UNSPECIFIED
			? (enum signet_key_alg)req->algorithm
			: s->cur_key->alg;
	char label[KEY_NAME_MAX + 1];
	int r;

	if (gen == 0) /* a record whose label is not ours: start a series of our own */
		gen = 1;
	if ((r = castore_key_label(req->name, gen + 1, label, sizeof(label), &rq->em)) != 0)
		return r;
	r = keystore_generate(rq->d->keys, rq->session, label, alg, out, &rq->em);
	if (r == SIGNET_E_ALREADY_EXISTS)
		return errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
				  "key '%s' is already on the token (left by an interrupted "
				  "re-key?); delete it and try again",
				  label);
	return r;
}

int process_rekey_ca(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__RekeyCaRequest *req = (const void *)request;
	Signet__V1__RekeyCaResponse resp = SIGNET__V1__REKEY_CA_RESPONSE__INIT;
	struct casign_signer signer = rpc_signer(rq);
	struct successor s = {.cur.cert = NULL};
	struct key *new_key = NULL;
	uint8_t *link = NULL;
	size_t link_len = 0;
	X509 *cert = NULL;
	int r, committed = 0;

	if ((r = successor_load(rq, req->name, req->validity_days, req->hash, "re-key", &s)) != 0 ||
	    (r = rekey_key(rq, req, &s, &new_key)) != 0)
		goto out;
	/* A root with pathLen 0 may certify no CA, not even its successor's key. */
	if (s.parent.cert == NULL && X509_get_pathlen(s.cur.cert) != 0)
		r = link_certify(rq, &s, new_key, &link, &link_len);
	if (r == 0)
		r = casign_certify(&signer, &s.terms, new_key->pub_pkey,
				   s.parent_key != NULL ? s.parent_key : new_key, s.parent.cert,
				   &cert);
	if (r == 0)
		r = successor_record(rq, &s, cert);
	if (r == 0)
		r = castore_replace(rq->d->cas, req->name, s.cur.cert, new_key->name, cert, NULL,
				    &rq->em);
	committed = r == 0; /* from here on the CA uses the new key */
	if (r == 0)
		r = rpc_record_ca(rq, req->name, "rekey", new_key->name, cert);
	if (r != 0)
		goto out;
	log_info("re-keyed CA '%s': key '%s' replaces '%s'", req->name, new_key->name, s.cur.key);
	resp.previous_serial.data = s.prev_serial;
	resp.previous_serial.len = s.prev_serial_len;
	resp.link_certificate_der.data = link;
	resp.link_certificate_der.len = link_len;
	r = respond_ca(rq, req->name, &resp.base, &resp.ca);
out:
	if (!committed && new_key != NULL) /* no orphan key for a CA that does not use it */
		keystore_delete(rq->d->keys, rq->session, new_key->name, NULL);
	OPENSSL_free(link);
	X509_free(cert);
	key_put(new_key);
	successor_release(&s);
	return r;
}
