/*
 * EST (RFC 7030) through an enrolment door: EstEnroll and
 * GetEnrolmentCsrAttrs, for signet-gatewayd (which speaks EST over HTTPS,
 * holds no key and decides nothing). docs/est.md.
 *
 * Who may have a certificate, in order: a re-enrolment needs the TLS
 * client's certificate to be a live one of the door's CA with the CSR's
 * subject and SANs (else PERMISSION_DENIED); an enrolment with a client chain
 * that verifies to the door's bootstrap anchors (vendor mode; an expired or
 * revoked one is PERMISSION_DENIED); else a single-use code from HTTP Basic,
 * used up only when a certificate comes of it; else UNAUTHENTICATED.
 * Certificates are issued as SignCsr issues them (profile, ledger record
 * under the caller's request id, so a retry gets the same certificate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/log.h"
#include "hsm/keybridge.h"
#include "pki/certbuild.h"
#include "pki/chainverify.h"
#include "pki/csr.h"
#include "pki/est.h"
#include "pki/profile.h"
#include "pki/scep.h"
#include "records/issued.h"
#include "rpc/enrol.h"
#include "rpc/rpc.h"

#define EST_WHY_MAX 320

/* Everything one EstEnroll holds. */
struct est_op {
	struct rpc *rq;
	const Signet__V1__EstEnrollRequest *req;
	const struct enrolment_def *e;
	X509_REQ *csr;
	STACK_OF(X509) * chain; /* the TLS client's, leaf first; empty when none */
	struct challenge code;	/* the code taken, given back if no certificate comes of it */
	const char *auth;	/* how the requester proved itself, for the audit trail */
};

static const char *peer_of(const struct est_op *op)
{
	return op->req->peer[0] != '\0' ? op->req->peer : "-";
}

/* The CSR as the client sent it, its proof of possession checked. */
static int est_read_csr(struct est_op *op)
{
	const ProtobufCBinaryData *b = &op->req->csr;
	int r;

	if (b->len == 0)
		return errmsg_set(&op->rq->em, SIGNET_E_INVALID_ARGUMENT, "no CSR");
	if (b->len > op->e->max_message_size)
		return errmsg_set(&op->rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a CSR of %zu bytes exceeds enrolment.%s.max_message_size (%zu)",
				  b->len, op->e->name, op->e->max_message_size);
	if ((r = csr_parse(b->data, b->len, &op->csr, &op->rq->em)) != 0 ||
	    (r = csr_verify_signature(op->csr, &op->rq->em)) != 0)
		return r;
	return 0;
}

/* The peer chain, DER certificates leaf first. */
static int est_read_chain(struct est_op *op)
{
	const Signet__V1__EstEnrollRequest *req = op->req;

	if (req->n_peer_chain > CHAINVERIFY_MAX_CERTS)
		return errmsg_set(&op->rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a client chain of %zu certificates (at most %d)",
				  req->n_peer_chain, CHAINVERIFY_MAX_CERTS);
	if ((op->chain = sk_X509_new_null()) == NULL)
		return errmsg_set(&op->rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	for (size_t i = 0; i < req->n_peer_chain; i++) {
		const unsigned char *p = req->peer_chain[i].data;
		X509 *c = d2i_X509(NULL, &p, (long)req->peer_chain[i].len);

		if (c == NULL || p != req->peer_chain[i].data + req->peer_chain[i].len ||
		    !sk_X509_push(op->chain, c)) {
			X509_free(c);
			ERR_clear_error();
			return errmsg_set(&op->rq->em, SIGNET_E_INVALID_ARGUMENT,
					  "peer_chain[%zu] is no DER certificate", i);
		}
	}
	return 0;
}

/* /simplereenroll: a live certificate of this CA, for the same subject and SANs (4.2.2). */
static int est_auth_reenroll(struct est_op *op)
{
	char why[EST_WHY_MAX] = "";
	X509 *leaf;

	if (sk_X509_num(op->chain) == 0)
		return errmsg_set(&op->rq->em, SIGNET_E_UNAUTHENTICATED,
				  "re-enrolment needs the client's certificate (none was "
				  "presented)");
	leaf = sk_X509_value(op->chain, 0);
	op->auth = "reenroll";
	if (!enrol_cert_is_ours(op->rq, op->e, leaf, why, sizeof(why)))
		return errmsg_set(&op->rq->em, SIGNET_E_PERMISSION_DENIED, "re-enrolment: %s", why);
	return est_same_subject(op->csr, leaf, &op->rq->em);
}

/* The door's bootstrap anchors, read per request (a replaced file needs no reload). */
static int est_anchors(struct est_op *op, STACK_OF(X509) * *out)
{
	BIO *b = BIO_new_file(op->e->bootstrap_anchors, "r");
	X509 *c;

	*out = sk_X509_new_null();
	while (b != NULL && *out != NULL && (c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(*out, c))
			X509_free(c);
	BIO_free(b);
	ERR_clear_error();
	if (*out != NULL && sk_X509_num(*out) > 0)
		return 0;
	sk_X509_pop_free(*out, X509_free);
	*out = NULL;
	return errmsg_set(&op->rq->em, SIGNET_E_FAILED_PRECONDITION,
			  "enrolment.%s.bootstrap_anchors: %s holds no PEM certificate",
			  op->e->name, op->e->bootstrap_anchors);
}

/* Vendor mode: 0 when the client chain verifies to the anchors; 1 when it
 * does not chain to them (another way may still prove the requester);
 * PERMISSION_DENIED when it does but is expired or revoked. */
static int est_auth_bootstrap(struct est_op *op, char *why, size_t whylen)
{
	STACK_OF(X509) *anchors = NULL;
	struct chain_result res = {.path = NULL};
	struct errmsg now_em = {0}, mid_em = {0};
	int r;

	if ((r = est_anchors(op, &anchors)) != 0)
		return r;
	r = chainverify(op->chain, anchors, CHAIN_CLIENT, rpc_ledger_revoked, op->rq, time(NULL),
			&res, &now_em);
	chain_result_release(&res);
	if (r == 0) {
		op->auth = "bootstrap";
	} else if (r == SIGNET_E_UNAUTHENTICATED &&
		   chainverify(op->chain, anchors, CHAIN_CLIENT, NULL, NULL, CHAINVERIFY_ANY_TIME,
			       &res, &mid_em) == 0) {
		op->auth = "bootstrap";
		r = errmsg_set(&op->rq->em, SIGNET_E_PERMISSION_DENIED,
			       "the bootstrap certificate is refused: %s", now_em.text);
	} else if (r == SIGNET_E_UNAUTHENTICATED) {
		snprintf(why, whylen,
			 "the client certificate does not chain to the bootstrap "
			 "anchors: %s",
			 now_em.text);
		r = 1;
	} else {
		r = errmsg_set(&op->rq->em, r, "%s", now_em.text);
	}
	chain_result_release(&res);
	sk_X509_pop_free(anchors, X509_free);
	return r;
}

static int est_auth_code(struct est_op *op, char *why, size_t whylen)
{
	size_t used = strlen(why);
	int r;

	if (op->e->challenge != ENROLMENT_CHALLENGE_CODES)
		return errmsg_set(&op->rq->em, SIGNET_E_UNAUTHENTICATED,
				  "%s%sthe door takes no codes", why, used > 0 ? "; " : "");
	if (op->req->code[0] == '\0')
		return errmsg_set(&op->rq->em, SIGNET_E_UNAUTHENTICATED,
				  "%s%sno enrolment code (HTTP Basic password) was given", why,
				  used > 0 ? "; " : "");
	op->auth = "code";
	r = enrol_code_take(op->rq, op->e, op->req->code, op->csr, &op->code, why + used,
			    whylen - used);
	if (r == 1)
		return errmsg_set(&op->rq->em, SIGNET_E_UNAUTHENTICATED, "enrolment code: %s",
				  why + used);
	return r;
}

/* Whether the requester may have a certificate, in the order of the file's head. */
static int est_authorize(struct est_op *op)
{
	char why[EST_WHY_MAX] = "";
	int r;

	if (op->req->reenroll)
		return est_auth_reenroll(op);
	if (sk_X509_num(op->chain) > 0 && op->e->bootstrap_anchors != NULL &&
	    (r = est_auth_bootstrap(op, why, sizeof(why))) != 1)
		return r;
	return est_auth_code(op, why, sizeof(why));
}

static int est_certify(struct est_op *op, const struct profile *p, const struct ca *ca,
		       struct key *ca_key, X509 **out)
{
	struct rpc *rq = op->rq;
	struct keybridge bridge = {
		.ks = rq->d->keys, .key = ca_key, .session = rq->session, .em = &rq->em};
	struct issue_request ir = {
		.csr = op->csr, .issuer_alg = ca_key->alg, .ca_name = op->e->ca, .now = time(NULL)};
	struct issue_plan plan = {.key = NULL};
	struct errmsg why = {0};
	EVP_PKEY *signer = NULL;
	int r;

	if (profile_plan(p, &ir, &plan, &why) != 0) {
		r = errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "%s", why.text);
	} else if ((signer = keybridge_pkey(&bridge)) == NULL) {
		r = errmsg_openssl(&rq->em, SIGNET_E_INTERNAL, "cannot set up token signing");
	} else {
		plan.spec.issuer = ca->cert;
		r = certbuild_sign(&plan.spec, signer, ca_key->pub_pkey, plan.md, out, &rq->em);
	}
	EVP_PKEY_free(signer);
	issue_plan_release(&plan);
	return r;
}

/* The answer: the certificate, and a certs-only PKCS#7 of it alone (RFC 7030 4.2.3). */
static int est_respond(struct est_op *op, X509 *cert)
{
	Signet__V1__EstEnrollResponse resp = SIGNET__V1__EST_ENROLL_RESPONSE__INIT;
	STACK_OF(X509) *one = sk_X509_new_null();
	unsigned char *der = NULL;
	uint8_t *p7 = NULL;
	size_t p7_len = 0;
	char serial[LEDGER_SERIAL_MAX] = "?";
	int n = i2d_X509(cert, &der), r;

	issued_serial_hex(cert, serial);
	rpc_object(op->rq, "enrolment=%.48s ca=%.48s serial=%s auth=%s peer=%.40s", op->e->name,
		   op->e->ca, serial, op->auth, peer_of(op));
	if (one == NULL || n <= 0 || !sk_X509_push(one, cert))
		r = errmsg_set(&op->rq->em, SIGNET_E_INTERNAL, "cannot encode the certificate");
	else if ((r = scep_certs_only(one, &p7, &p7_len, &op->rq->em)) == 0) {
		resp.certificate = (ProtobufCBinaryData){.data = der, .len = (size_t)n};
		resp.pkcs7 = (ProtobufCBinaryData){.data = p7, .len = p7_len};
		r = rpc_respond(op->rq, &resp.base);
	}
	sk_X509_free(one);
	OPENSSL_free(der);
	OPENSSL_free(p7);
	return r;
}

/* A retry of an answered request gets the same certificate, for the same key. */
static int est_answer_retry(struct est_op *op)
{
	X509 *prior = NULL;
	int r = rpc_find_retry(op->rq, op->e->ca, &prior);

	if (r != 0)
		return r;
	op->auth = "retry";
	if (!csr_key_matches(op->csr, prior))
		r = errmsg_set(&op->rq->em, SIGNET_E_ALREADY_EXISTS,
			       "this request id was used for a certificate for another key");
	else
		r = est_respond(op, prior);
	X509_free(prior);
	return r;
}

/* Authorized: issue (or, manual, tell when to ask again), record, answer. */
static int est_issue(struct est_op *op)
{
	const struct profile *p = profile_find(&op->rq->d->cfg->profiles, op->e->profile);
	Signet__V1__EstEnrollResponse later = SIGNET__V1__EST_ENROLL_RESPONSE__INIT;
	struct ca ca = {.cert = NULL};
	struct key *ca_key = NULL;
	X509 *cert = NULL;
	char serial[LEDGER_SERIAL_MAX] = "?";
	int r;

	if (p == NULL)
		return errmsg_set(&op->rq->em, SIGNET_E_FAILED_PRECONDITION, "no profile '%s'",
				  op->e->profile);
	if (op->e->manual) {
		/* no approval queue yet: nothing recorded, the code kept for the retry */
		rpc_object(op->rq, "enrolment=%.48s auth=%s manual retry_after=%u peer=%.40s",
			   op->e->name, op->auth, op->e->retry_after, peer_of(op));
		later.retry_after_seconds = op->e->retry_after;
		return rpc_respond(op->rq, &later.base);
	}
	if ((r = rpc_ca_load(op->rq, op->e->ca, &ca, &ca_key)) != 0 ||
	    (r = est_certify(op, p, &ca, ca_key, &cert)) != 0)
		goto out;
	r = rpc_record_issued(op->rq, cert, op->e->ca, ca_key->name, p->name, 1);
	if (r == SIGNET_E_ALREADY_EXISTS) { /* a retry of this request won the race */
		r = est_answer_retry(op);
	} else if (r == 0) {
		memset(&op->code, 0, sizeof(op->code)); /* used up */
		issued_serial_hex(cert, serial);
		log_info("est: enrolment '%s' issued serial %s to %.64s (auth %s)", op->e->name,
			 serial, peer_of(op), op->auth);
		r = est_respond(op, cert);
	}
out:
	X509_free(cert);
	ca_release(&ca);
	key_put(ca_key);
	return r;
}

int process_est_enroll(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__EstEnrollRequest *req = (const void *)request;
	struct est_op op = {.rq = rq, .req = req, .auth = "none"};
	int r;

	if ((r = enrol_door(rq, req->enrolment, ENROLMENT_EST, &op.e)) != 0)
		return r;
	rpc_object(rq, "enrolment=%.48s %s peer=%.40s", op.e->name,
		   req->reenroll ? "reenroll" : "enroll", peer_of(&op));
	if ((r = est_read_csr(&op)) != 0 || (r = est_read_chain(&op)) != 0 ||
	    (r = est_check_tls_unique(op.csr, req->tls_unique.data, req->tls_unique.len,
				      &rq->em)) != 0)
		goto out;
	if ((r = est_answer_retry(&op)) != SIGNET_E_NOT_FOUND)
		goto out;
	rq->em.err = 0;
	if ((r = est_authorize(&op)) != 0)
		goto refused;
	r = est_issue(&op);
refused:
	if (r != 0) {
		rpc_object(rq, "enrolment=%.48s %s auth=%s peer=%.40s", op.e->name,
			   req->reenroll ? "reenroll" : "enroll", op.auth, peer_of(&op));
		log_info("est: enrolment '%s' refused %s from %.64s: %s", op.e->name,
			 req->reenroll ? "a re-enrolment" : "an enrolment", peer_of(&op),
			 rq->em.text);
	}
out:
	enrol_code_restore(rq, &op.code); /* no-op once used up */
	sk_X509_pop_free(op.chain, X509_free);
	X509_REQ_free(op.csr);
	return r;
}

/* --- GetEnrolmentCsrAttrs --- */

int process_get_enrolment_csr_attrs(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetEnrolmentCsrAttrsRequest *req = (const void *)request;
	Signet__V1__GetEnrolmentCsrAttrsResponse resp =
		SIGNET__V1__GET_ENROLMENT_CSR_ATTRS_RESPONSE__INIT;
	const struct enrolment_def *e;
	unsigned char *der = NULL;
	size_t len = 0;
	int r;

	if ((r = enrol_door(rq, req->enrolment, ENROLMENT_EST, &e)) != 0 ||
	    (r = est_csr_attrs(e->csr_attrs, e->n_csr_attrs, &der, &len, &rq->em)) != 0)
		return r;
	resp.csr_attrs = (ProtobufCBinaryData){.data = der, .len = len};
	r = rpc_respond(rq, &resp.base);
	OPENSSL_free(der);
	return r;
}
