/*
 * Enrolment front ends: GetEnrolmentCaCerts, ScepOperation and
 * CreateEnrolmentCode, for signet-gatewayd (which speaks SCEP over HTTP and
 * holds no key). The doors are enrolment.NAME (config.h); docs/scep.md.
 *
 * A ScepOperation answers with a CertRep whatever SCEP can express: the RPC
 * fails only for bytes that are no pkiMessage, an unknown door, or token and
 * ledger trouble. Certificates are recorded under the caller "scep:NAME"
 * with a request id derived from the transactionID, so the same
 * transactionID gets the same certificate again (from any gateway), and
 * another key under it is refused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base/log.h"
#include "base/secret.h"
#include "hex.h"
#include "hsm/keybridge.h"
#include "pki/certbuild.h"
#include "pki/chainverify.h"
#include "pki/csr.h"
#include "pki/profile.h"
#include "pki/scep.h"
#include "possession/challenge_db.h"
#include "records/issued.h"
#include "rpc/enrol.h"
#include "rpc/rpc.h"

#define ENROL_CODE_TTL	   86400 /* a code's default and longest life */
#define ENROL_PASSWORD_MAX 256

/* GetCACaps: what signetd does (3DES is accepted, so DES3 is named too). */
static const char *const scep_caps[] = {"POSTPKIOperation", "AES",     "DES3",	      "SHA-256",
					"SHA-512",	    "Renewal", "SCEPStandard"};

static const char *protocol_name(int protocol)
{
	return protocol == ENROLMENT_EST ? "EST" : "SCEP";
}

int enrol_door(struct rpc *rq, const char *name, int protocol, const struct enrolment_def **out)
{
	rpc_object(rq, "enrolment=%.48s", name);
	if ((*out = config_enrolment(rq->d->cfg, name)) == NULL)
		return errmsg_set(&rq->em, SIGNET_E_NOT_FOUND, "no enrolment '%.64s' is configured",
				  name);
	if (protocol != ENROL_ANY && (int)(*out)->protocol != protocol)
		return errmsg_set(&rq->em, SIGNET_E_NOT_FOUND,
				  "enrolment '%.64s' is an %s door, not %s", name,
				  protocol_name((int)(*out)->protocol), protocol_name(protocol));
	return 0;
}

void enrol_caller(const struct enrolment_def *e, char out[ENROL_CALLER_MAX])
{
	snprintf(out, ENROL_CALLER_MAX, "%s:%s", e->protocol == ENROLMENT_EST ? "est" : "scep",
		 e->name);
}

/* The RA certificate: the configured file, else the newest the ledger holds for the key. */
static int ra_cert_load(struct rpc *rq, const struct enrolment_def *e, struct key *k, X509 **out)
{
	struct ledger_entry le = {.der = NULL};
	const unsigned char *p;
	uint8_t spki_sha256[32];
	BIO *b;
	int r = 0;

	*out = NULL;
	if (e->ra_certificate != NULL) {
		if ((b = BIO_new_file(e->ra_certificate, "r")) != NULL)
			*out = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		ERR_clear_error();
		if (*out == NULL)
			return errmsg_set(
				&rq->em, SIGNET_E_FAILED_PRECONDITION,
				"enrolment.%s.ra_certificate: %s holds no PEM certificate", e->name,
				e->ra_certificate);
	} else {
		SHA256(k->spki, k->spki_len, spki_sha256);
		if ((r = ledger_get(rq->d->ledger, NULL, spki_sha256, &le, &rq->em)) != 0)
			return r == SIGNET_E_NOT_FOUND
				       ? errmsg_set(
						 &rq->em, SIGNET_E_FAILED_PRECONDITION,
						 "enrolment '%s': no certificate for RA key '%s' "
						 "(issue one under profile scep-ra, or set "
						 "ra_certificate)",
						 e->name, k->name)
				       : r;
		p = le.der;
		*out = d2i_X509(NULL, &p, (long)le.der_len);
		ledger_entry_release(&le);
		if (*out == NULL)
			return errmsg_set(&rq->em, SIGNET_E_DATA_LOSS,
					  "the ledger's RA certificate does not decode");
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(*out), k->pub_pkey) != 1) {
		X509_free(*out);
		*out = NULL;
		return errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
				  "enrolment '%s': the RA certificate is not for key '%s'", e->name,
				  k->name);
	}
	return 0;
}

/* The door's RA: its token key (made to decrypt) and certificate. */
static int ra_load(struct rpc *rq, const struct enrolment_def *e, struct key **k, X509 **cert)
{
	int r = keystore_get(rq->d->keys, rq->session, e->ra_key, k, &rq->em);

	if (r == SIGNET_E_NOT_FOUND)
		return errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
				  "enrolment '%s': RA key '%s' is not on the token", e->name,
				  e->ra_key);
	if (r != 0)
		return r;
	if (((*k)->usage & SIGNET_KEY_USAGE_DECRYPT) == 0) {
		r = errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
			       "enrolment '%s': key '%s' is not an RA key (it cannot decrypt; "
			       "generate one with purpose ra)",
			       e->name, e->ra_key);
	} else if ((r = ra_cert_load(rq, e, *k, cert)) == 0) {
		return 0;
	}
	key_put(*k);
	*k = NULL;
	return r;
}

/* --- GetEnrolmentCaCerts --- */

/* The issuing CA, the RA (SCEP), then the rest of the CA's chain. */
static int door_certs(struct rpc *rq, const struct enrolment_def *e, X509 *ra,
		      STACK_OF(X509) * *out)
{
	STACK_OF(X509) *chain = NULL;
	int r = castore_chain(rq->d->cas, e->ca, &chain, &rq->em);

	if (r != 0)
		return r == SIGNET_E_NOT_FOUND
			       ? errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
					    "enrolment '%s': no CA '%s'", e->name, e->ca)
			       : r;
	if (ra != NULL && (!X509_up_ref(ra) || !sk_X509_insert(chain, ra, 1))) {
		sk_X509_pop_free(chain, X509_free);
		return errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	}
	*out = chain;
	return 0;
}

int process_get_enrolment_ca_certs(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetEnrolmentCaCertsRequest *req = (const void *)request;
	Signet__V1__GetEnrolmentCaCertsResponse resp =
		SIGNET__V1__GET_ENROLMENT_CA_CERTS_RESPONSE__INIT;
	const struct enrolment_def *e;
	STACK_OF(X509) *certs = NULL;
	ProtobufCBinaryData *ders = NULL;
	char *pem = NULL;
	struct key *k = NULL;
	X509 *ra = NULL;
	uint8_t *p7 = NULL;
	size_t p7_len = 0;
	int r, n = 0;

	if ((r = enrol_door(rq, req->enrolment, ENROL_ANY, &e)) != 0 ||
	    (e->protocol == ENROLMENT_SCEP && (r = ra_load(rq, e, &k, &ra)) != 0) ||
	    (r = door_certs(rq, e, ra, &certs)) != 0)
		goto out;
	n = sk_X509_num(certs);
	if ((ders = rpc_entries(rq, (size_t)n, sizeof(*ders))) == NULL) {
		r = SIGNET_E_RESOURCE_EXHAUSTED;
		goto out;
	}
	if (rpc_chain_encode(certs, ders, &pem) != 0 ||
	    (r = scep_certs_only(certs, &p7, &p7_len, &rq->em)) != 0) {
		r = r != 0 ? r : errmsg_set(&rq->em, SIGNET_E_INTERNAL, "cannot encode the chain");
		goto out;
	}
	resp.certificates = ders;
	resp.n_certificates = (size_t)n;
	resp.pkcs7 = (ProtobufCBinaryData){.data = p7, .len = p7_len};
	if (e->protocol == ENROLMENT_SCEP) { /* EST has no capabilities to tell */
		resp.capabilities = (char **)scep_caps;
		resp.n_capabilities = sizeof(scep_caps) / sizeof(scep_caps[0]);
	}
	r = rpc_respond(rq, &resp.base);
out:
	for (int i = 0; ders != NULL && i < n; i++)
		OPENSSL_free(ders[i].data);
	free(ders);
	free(pem);
	OPENSSL_free(p7);
	sk_X509_pop_free(certs, X509_free);
	X509_free(ra);
	key_put(k);
	return r;
}

/* --- ScepOperation --- */

/* Everything one ScepOperation holds. */
struct scep_op {
	struct rpc *rq;
	const struct enrolment_def *e;
	char caller[ENROL_CALLER_MAX];
	uint8_t request_id[LEDGER_REQUEST_ID];
	struct scep_request req;
	struct key *ra_key;
	X509 *ra_cert;
	struct keybridge ra_bridge;
	EVP_PKEY *ra_pkey;
	struct scep_reply rep;
	struct challenge code; /* the code taken, given back if no certificate comes of it */
};

static int op_refuse(struct scep_op *op, enum scep_fail fail, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A FAILURE CertRep, with the reason for the log (the requester gets the failInfo only). */
static int op_refuse(struct scep_op *op, enum scep_fail fail, const char *fmt, ...)
{
	va_list ap;

	op->req.fail = fail;
	va_start(ap, fmt);
	vsnprintf(op->req.why, sizeof(op->req.why), fmt, ap);
	va_end(ap);
	return 0;
}

/* The ledger's request id of a transactionID at this door: the same from any gateway. */
static void op_request_id(struct scep_op *op)
{
	static const char label[] = "signet scep transactionID";
	uint8_t buf[sizeof(label) + 2 * (SCEP_TXID_MAX + 1)], md[SHA256_DIGEST_LENGTH];
	int n = snprintf((char *)buf, sizeof(buf), "%s%c%s%c%s", label, 0, op->e->name, 0,
			 op->req.txid);

	SHA256(buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, md);
	memcpy(op->request_id, md, sizeof(op->request_id));
}

/* The certificate already issued under this transactionID: 0 and *out, or NOT_FOUND. */
static int op_find_prior(struct scep_op *op, X509 **out)
{
	struct ledger_entry le = {.der = NULL};
	const unsigned char *p;
	int r = ledger_find_request(op->rq->d->ledger, op->caller, op->request_id, &le, NULL);

	if (r != 0)
		return r;
	p = le.der;
	*out = d2i_X509(NULL, &p, (long)le.der_len);
	ledger_entry_release(&le);
	return *out != NULL ? 0
			    : errmsg_set(&op->rq->em, SIGNET_E_DATA_LOSS,
					 "the ledger's certificate for this transactionID does not "
					 "decode");
}

/* The same transactionID again: the same certificate for the same key, or refused. */
static int op_answer_prior(struct scep_op *op, X509 *prior)
{
	if (op->req.csr != NULL && !csr_key_matches(op->req.csr, prior)) {
		X509_free(prior);
		return op_refuse(op, SCEP_FAIL_BAD_REQUEST,
				 "transactionID %s was used for another key", op->req.txid);
	}
	op->rep.status = SCEP_STATUS_SUCCESS;
	op->rep.cert = prior;
	return 0;
}

/* challenge = "static": the door's secret, compared in constant time (as hashes,
 * so that the length is not told either). */
static int check_static(struct scep_op *op, const char *pw)
{
	struct secret s = {.buf = NULL};
	uint8_t want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
	char err[256];
	int same;

	if (secret_read_file(op->e->challenge_file, "SCEP challenge file", &s, err, sizeof(err)) !=
	    0)
		return errmsg_set(&op->rq->em, SIGNET_E_FAILED_PRECONDITION,
				  "enrolment.%s.challenge_file: %s", op->e->name, err);
	SHA256((const uint8_t *)s.buf, s.len, want);
	SHA256((const uint8_t *)pw, strlen(pw), got);
	secret_free(&s);
	same = CRYPTO_memcmp(want, got, sizeof(want)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (!same)
		return op_refuse(op, SCEP_FAIL_BAD_REQUEST, "wrong challengePassword");
	return 0;
}

/* A code's id in the ledger: the hash of the code, so the table holds no code. */
static void code_id(const char *code, uint8_t id[CHALLENGE_ID_LEN],
		    char hexid[2 * CHALLENGE_ID_LEN + 1])
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	SHA256((const uint8_t *)code, strlen(code), md);
	memcpy(id, md, CHALLENGE_ID_LEN);
	hex_encode(id, CHALLENGE_ID_LEN, hexid, 2 * CHALLENGE_ID_LEN + 1, HEX_LOWER, 0);
}

static int csr_cn(X509_REQ *csr, char *out, size_t outlen)
{
	X509_NAME *n = X509_REQ_get_subject_name(csr);

	return X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)outlen) > 0 ? 0 : -1;
}

int enrol_code_take(struct rpc *rq, const struct enrolment_def *e, const char *code, X509_REQ *csr,
		    struct challenge *taken, char *why, size_t whylen)
{
	struct errmsg em = {0};
	uint8_t id[CHALLENGE_ID_LEN];
	char hexid[2 * CHALLENGE_ID_LEN + 1], cn[CHALLENGE_DEVICE_ID_MAX + 1] = "",
									   caller[ENROL_CALLER_MAX];
	int r;

	enrol_caller(e, caller);
	code_id(code, id, hexid);
	r = challenge_db_take(rq->d->ledger, caller, id, hexid, time(NULL), taken, &em);
	if (r != 0)
		memset(taken, 0, sizeof(*taken)); /* nothing to give back */
	if (r == SIGNET_E_NOT_FOUND || r == SIGNET_E_FAILED_PRECONDITION) {
		snprintf(why, whylen, "%s", em.text);
		return 1;
	}
	if (r != 0)
		return errmsg_set(&rq->em, r, "%s", em.text);
	if (taken->device_id[0] != '\0' &&
	    (csr_cn(csr, cn, sizeof(cn)) != 0 || strcasecmp(cn, taken->device_id) != 0)) {
		/* the wrong device does not use up the right one's code */
		enrol_code_restore(rq, taken);
		snprintf(why, whylen, "the code is for device '%s', the CSR's CN is '%s'",
			 taken->device_id, cn);
		memset(taken, 0, sizeof(*taken));
		return 1;
	}
	return 0;
}

void enrol_code_restore(struct rpc *rq, const struct challenge *taken)
{
	struct errmsg em = {0};
	uint8_t id[CHALLENGE_ID_LEN];

	if (taken->id[0] == '\0')
		return;
	if (hex_decode(taken->id, strlen(taken->id), id, sizeof(id)) != 0 ||
	    challenge_db_give_back(rq->d->ledger, id, taken, &em) != 0)
		log_warn("enrolment: cannot give back code %.12s... of %s after a failure: %s",
			 taken->id, taken->caller, em.text);
}

/* challenge = "codes": single use, bound to a device when made so. */
static int check_code(struct scep_op *op, const char *pw)
{
	char why[SCEP_WHY_MAX] = "";
	int r = enrol_code_take(op->rq, op->e, pw, op->req.csr, &op->code, why, sizeof(why));

	if (r == 1)
		return op_refuse(op, SCEP_FAIL_BAD_REQUEST, "challengePassword: %s", why);
	return r;
}

int enrol_cert_is_ours(struct rpc *rq, const struct enrolment_def *e, X509 *cert, char *why,
		       size_t whylen)
{
	STACK_OF(X509) *chain = NULL, *presented = sk_X509_new_null(), *anchors = NULL;
	struct chain_result res = {.path = NULL};
	struct ledger_entry le = {.der = NULL};
	struct errmsg em = {0};
	char serial[LEDGER_SERIAL_MAX];
	int ok = 0;

	if (presented == NULL || castore_chain(rq->d->cas, e->ca, &chain, &em) != 0 ||
	    (anchors = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(anchors, sk_X509_value(chain, 0)) || !sk_X509_push(presented, cert))
		snprintf(why, whylen, "cannot check the certificate: %s", em.text);
	else if (chainverify(presented, anchors, CHAIN_ANY, NULL, NULL, time(NULL), &res, &em) != 0)
		snprintf(why, whylen, "the certificate is no valid certificate of CA '%s': %s",
			 e->ca, em.text);
	else if (issued_serial_hex(cert, serial) != 0 ||
		 ledger_get(rq->d->ledger, serial, NULL, &le, &em) != 0 ||
		 strcmp(le.ca, e->ca) != 0)
		snprintf(why, whylen, "the certificate is not in the ledger for CA '%s'", e->ca);
	else if (le.revoked_at != 0)
		snprintf(why, whylen, "the certificate %s is revoked", serial);
	else
		ok = 1;
	ledger_entry_release(&le);
	chain_result_release(&res);
	sk_X509_free(anchors);
	sk_X509_free(presented);
	sk_X509_pop_free(chain, X509_free);
	return ok;
}

/* Whether the requester may have a certificate: a challengePassword for
 * PKCSReq, or (RenewalReq, or a PKCSReq without one) a certificate of this
 * CA signing the request. */
static int op_authorize(struct scep_op *op)
{
	char pw[ENROL_PASSWORD_MAX], why[SCEP_WHY_MAX] = "";
	int has_pw = scep_challenge_password(op->req.csr, pw, sizeof(pw)) == 0, r = 0;

	if (op->req.type == SCEP_MSG_PKCS_REQ && has_pw)
		r = op->e->challenge == ENROLMENT_CHALLENGE_STATIC ? check_static(op, pw)
								   : check_code(op, pw);
	else if (!enrol_cert_is_ours(op->rq, op->e, op->req.signer, why, sizeof(why)))
		r = op_refuse(op, SCEP_FAIL_BAD_REQUEST, "%s%s",
			      op->req.type == SCEP_MSG_PKCS_REQ ? "no challengePassword, and " : "",
			      why);
	OPENSSL_cleanse(pw, sizeof(pw));
	return r;
}

static int op_certify(struct scep_op *op, const struct profile *p, struct issue_plan *plan,
		      const struct ca *ca, struct key *ca_key, X509 **out)
{
	struct rpc *rq = op->rq;
	struct keybridge bridge = {
		.ks = rq->d->keys, .key = ca_key, .session = rq->session, .em = &rq->em};
	struct issue_request ir = {.csr = op->req.csr,
				   .issuer_alg = ca_key->alg,
				   .ca_name = op->e->ca,
				   .now = time(NULL)};
	struct errmsg why = {0};
	EVP_PKEY *signer;
	int r;

	if (profile_plan(p, &ir, plan, &why) != 0)
		return op_refuse(op, SCEP_FAIL_BAD_REQUEST, "profile '%s': %s", p->name, why.text);
	if ((signer = keybridge_pkey(&bridge)) == NULL)
		return errmsg_openssl(&rq->em, SIGNET_E_INTERNAL, "cannot set up token signing");
	plan->spec.issuer = ca->cert;
	r = certbuild_sign(&plan->spec, signer, ca_key->pub_pkey, plan->md, out, &rq->em);
	EVP_PKEY_free(signer);
	return r;
}

static int op_record(struct scep_op *op, X509 *cert, const char *issuer_key)
{
	struct issued_entry ie;
	char serial[LEDGER_SERIAL_MAX] = "?";
	int r;

	if ((r = issued_entry_fill(cert, op->e->ca, issuer_key, op->e->profile, op->caller,
				   op->request_id, &ie, &op->rq->em)) != 0)
		return r;
	r = ledger_record(op->rq->d->ledger, &ie.e, &op->rq->em);
	issued_entry_release(&ie);
	if (r == 0) {
		issued_serial_hex(cert, serial);
		log_info("scep: enrolment '%s' issued serial %s (transactionID %s)", op->e->name,
			 serial, op->req.txid);
	}
	return r;
}

/* PKCSReq, RenewalReq: authorize, apply the profile, issue, record. */
static int op_issue(struct scep_op *op)
{
	const struct profile *p = profile_find(&op->rq->d->cfg->profiles, op->e->profile);
	struct issue_plan plan = {.key = NULL};
	struct ca ca = {.cert = NULL};
	struct key *ca_key = NULL;
	X509 *cert = NULL, *prior = NULL;
	int r;

	if ((r = op_find_prior(op, &prior)) != SIGNET_E_NOT_FOUND)
		return r == 0 ? op_answer_prior(op, prior) : r;
	if (p == NULL)
		return op_refuse(op, SCEP_FAIL_BAD_REQUEST, "no profile '%s'", op->e->profile);
	if ((r = op_authorize(op)) != 0 || op->req.fail != SCEP_FAIL_NONE)
		return r;
	if ((r = rpc_ca_load(op->rq, op->e->ca, &ca, &ca_key)) != 0 ||
	    (r = op_certify(op, p, &plan, &ca, ca_key, &cert)) != 0 ||
	    op->req.fail != SCEP_FAIL_NONE)
		goto out;
	r = op_record(op, cert, ca_key->name);
	if (r == SIGNET_E_ALREADY_EXISTS && (r = op_find_prior(op, &prior)) == 0) {
		r = op_answer_prior(op, prior); /* the same transactionID won a race */
	} else if (r == 0) {
		op->rep.status = SCEP_STATUS_SUCCESS;
		op->rep.cert = cert;
		cert = NULL;
	}
out:
	if (op->rep.cert == NULL)
		enrol_code_restore(op->rq, &op->code);
	X509_free(cert);
	issue_plan_release(&plan);
	ca_release(&ca);
	key_put(ca_key);
	return r;
}

/* CertPoll (GetCertInitial): what the transactionID got, if anything. */
static int op_poll(struct scep_op *op)
{
	X509 *prior = NULL;
	int r = op_find_prior(op, &prior);

	if (r == SIGNET_E_NOT_FOUND)
		return op_refuse(op, SCEP_FAIL_BAD_CERT_ID,
				 "no certificate was issued for transactionID %s", op->req.txid);
	if (r != 0)
		return r;
	op->rep.status = SCEP_STATUS_SUCCESS;
	op->rep.cert = prior;
	return 0;
}

/* The checks and the act; a refusal leaves op->req.fail set. */
static int op_run(struct scep_op *op)
{
	int r;

	op->ra_bridge = (struct keybridge){.ks = op->rq->d->keys,
					   .key = op->ra_key,
					   .session = op->rq->session,
					   .em = &op->rq->em};
	if ((op->ra_pkey = keybridge_pkey(&op->ra_bridge)) == NULL)
		return errmsg_openssl(&op->rq->em, SIGNET_E_INTERNAL, "cannot set up the RA key");
	if (op->req.fail != SCEP_FAIL_NONE)
		return 0;
	op_request_id(op);
	op->rq->em.err = 0;
	if ((r = scep_verify(&op->req, &op->rq->em)) != 0 || op->req.fail != SCEP_FAIL_NONE ||
	    (r = scep_check_time(&op->req, time(NULL), SCEP_SIGNING_TIME_SKEW)) != 0 ||
	    op->req.fail != SCEP_FAIL_NONE ||
	    (r = scep_decrypt(&op->req, op->ra_cert, op->ra_pkey, op->e->allow_des, &op->rq->em)) !=
		    0)
		return r;
	/* a token failure while decrypting is no badMessageCheck */
	if (op->rq->em.err == SIGNET_E_UNAVAILABLE)
		return op->rq->em.err;
	if (op->req.fail != SCEP_FAIL_NONE)
		return 0;
	switch (op->req.type) {
	case SCEP_MSG_PKCS_REQ:
	case SCEP_MSG_RENEWAL_REQ:
		return op_issue(op);
	case SCEP_MSG_CERT_POLL:
		return op_poll(op);
	default:
		return op_refuse(op, SCEP_FAIL_BAD_REQUEST, "%s is not served",
				 scep_message_type_name(op->req.type));
	}
}

static int op_respond(struct scep_op *op, const char *peer)
{
	Signet__V1__ScepOperationResponse resp = SIGNET__V1__SCEP_OPERATION_RESPONSE__INIT;
	STACK_OF(X509) *chain = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	if (op->req.fail != SCEP_FAIL_NONE) {
		op->rep.status = SCEP_STATUS_FAILURE;
		op->rep.fail = op->req.fail;
		log_info("scep: enrolment '%s' refused %s transactionID '%s' from %.64s: %s: %s",
			 op->e->name, scep_message_type_name(op->req.type), op->req.txid, peer,
			 scep_fail_name(op->req.fail), op->req.why);
	} else if (castore_chain(op->rq->d->cas, op->e->ca, &chain, &op->rq->em) == 0) {
		op->rep.chain = chain;
	}
	rpc_object(op->rq, "enrolment=%.48s txid=%.48s type=%s pki=%s%s%s peer=%.40s", op->e->name,
		   op->req.txid[0] != '\0' ? op->req.txid : "-",
		   scep_message_type_name(op->req.type),
		   op->rep.status == SCEP_STATUS_SUCCESS ? "SUCCESS" : "FAILURE",
		   op->req.fail != SCEP_FAIL_NONE ? "/" : "",
		   op->req.fail != SCEP_FAIL_NONE ? scep_fail_name(op->req.fail) : "", peer);
	op->rq->em.err = 0;
	if ((r = scep_certrep(&op->req, &op->rep, op->ra_cert, op->ra_pkey, &der, &len,
			      &op->rq->em)) == 0) {
		resp.cert_rep = (ProtobufCBinaryData){.data = der, .len = len};
		resp.transaction_id = op->req.txid;
		resp.pki_status = (Signet__V1__ScepPkiStatus)op->rep.status;
		resp.fail_info = (Signet__V1__ScepFailInfo)(op->rep.fail + 1);
		r = rpc_respond(op->rq, &resp.base);
	}
	OPENSSL_free(der);
	sk_X509_pop_free(chain, X509_free);
	op->rep.chain = NULL;
	return r;
}

int process_scep_operation(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__ScepOperationRequest *req = (const void *)request;
	const char *peer = req->peer[0] != '\0' ? req->peer : "-";
	struct scep_op op = {.rq = rq, .rep = {.fail = SCEP_FAIL_NONE}};
	int r;

	op.req.fail = SCEP_FAIL_NONE;
	if ((r = enrol_door(rq, req->enrolment, ENROLMENT_SCEP, &op.e)) != 0)
		return r;
	enrol_caller(op.e, op.caller);
	if (req->message.len > op.e->max_message_size)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a pkiMessage of %zu bytes exceeds enrolment.%s.max_message_size "
				  "(%zu)",
				  req->message.len, op.e->name, op.e->max_message_size);
	if ((r = scep_parse(req->message.data, req->message.len, &op.req, &rq->em)) != 0) {
		rpc_object(rq, "enrolment=%.48s peer=%.40s", op.e->name, peer);
		goto out;
	}
	if ((r = ra_load(rq, op.e, &op.ra_key, &op.ra_cert)) != 0 || (r = op_run(&op)) != 0)
		goto out;
	r = op_respond(&op, peer);
out:
	if (r != 0 && op.req.txid[0] != '\0')
		rpc_object(rq, "enrolment=%.48s txid=%.48s peer=%.40s", op.e->name, op.req.txid,
			   peer);
	X509_free(op.rep.cert);
	EVP_PKEY_free(op.ra_pkey);
	X509_free(op.ra_cert);
	key_put(op.ra_key);
	scep_request_release(&op.req);
	return r;
}

/* --- CreateEnrolmentCode --- */

static int device_id_ok(const char *id)
{
	size_t n = strlen(id);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || (unsigned char)id[i] == 0x7f)
			return 0;
	return n <= CHALLENGE_DEVICE_ID_MAX;
}

static int code_store(struct rpc *rq, const struct enrolment_def *e, const char *device_id,
		      unsigned ttl, const char *code, int64_t *expires)
{
	const struct config *cfg = rq->d->cfg;
	struct challenge_limits lim = {.max_per_caller = cfg->max_challenges_per_caller,
				       .max_total = cfg->max_challenges};
	struct challenge c = {.created = time(NULL)};
	uint8_t id[CHALLENGE_ID_LEN];

	code_id(code, id, c.id);
	if (RAND_bytes(c.nonce, sizeof(c.nonce)) != 1)
		return errmsg_set(&rq->em, SIGNET_E_INTERNAL, "no randomness");
	snprintf(c.device_id, sizeof(c.device_id), "%s", device_id);
	enrol_caller(e, c.caller);
	c.expires = c.created + ttl;
	*expires = c.expires;
	return challenge_db_insert(rq->d->ledger, &lim, id, &c, c.created, &rq->em);
}

int process_create_enrolment_code(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__CreateEnrolmentCodeRequest *req = (const void *)request;
	Signet__V1__CreateEnrolmentCodeResponse resp =
		SIGNET__V1__CREATE_ENROLMENT_CODE_RESPONSE__INIT;
	const struct enrolment_def *e;
	unsigned ttl = req->ttl_seconds != 0 ? req->ttl_seconds : ENROL_CODE_TTL;
	uint8_t raw[16];
	char code[2 * sizeof(raw) + 1];
	int64_t expires = 0;
	int r;

	if ((r = enrol_door(rq, req->enrolment, ENROL_ANY, &e)) != 0)
		return r;
	rpc_object(rq, "enrolment=%.48s device=%.64s", e->name,
		   req->device_id[0] != '\0' ? req->device_id : "-");
	if (e->challenge != ENROLMENT_CHALLENGE_CODES)
		return errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION, "enrolment '%s' %s",
				  e->name,
				  e->challenge == ENROLMENT_CHALLENGE_STATIC
					  ? "has a static challenge, not codes"
					  : "takes no codes (codes = false)");
	if (ttl > ENROL_CODE_TTL)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "ttl_seconds %u is over the maximum of %d", ttl, ENROL_CODE_TTL);
	if (!device_id_ok(req->device_id))
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "device_id: at most %d printable characters",
				  CHALLENGE_DEVICE_ID_MAX);
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return errmsg_set(&rq->em, SIGNET_E_INTERNAL, "no randomness for the code");
	hex_encode(raw, sizeof(raw), code, sizeof(code), HEX_LOWER, 0);
	OPENSSL_cleanse(raw, sizeof(raw));
	if ((r = code_store(rq, e, req->device_id, ttl, code, &expires)) == 0) {
		resp.code = code;
		resp.expires_at = expires;
		r = rpc_respond(rq, &resp.base);
	}
	OPENSSL_cleanse(code, sizeof(code));
	return r;
}
