/*
 * SCEP pkiMessages (RFC 8894) with OpenSSL's CMS API. The order of the
 * checks is the order of the failInfo a requester gets: the message's form
 * (badRequest), the signature (badMessageCheck), the envelope's recipient
 * and cipher (badMessageCheck, badAlg), then its content.
 */
#include "pki/scep.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "pki/csr.h"

/* The SCEP attributes, 2.16.840.1.113733.1.9.N (VeriSign's arc). */
enum scep_attr {
	SCEP_ATTR_MESSAGE_TYPE = 2,
	SCEP_ATTR_PKI_STATUS = 3,
	SCEP_ATTR_FAIL_INFO = 4,
	SCEP_ATTR_SENDER_NONCE = 5,
	SCEP_ATTR_RECIPIENT_NONCE = 6,
	SCEP_ATTR_TRANSACTION_ID = 7,
};

static ASN1_OBJECT *scep_oid(enum scep_attr which)
{
	char text[64];

	snprintf(text, sizeof(text), "2.16.840.1.113733.1.9.%d", (int)which);
	return OBJ_txt2obj(text, 1);
}

/* Refuse in SCEP's terms: 0 returned, the failInfo and the reason recorded. */
static int refuse(struct scep_request *req, enum scep_fail fail, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct scep_request *req, enum scep_fail fail, const char *fmt, ...)
{
	va_list ap;

	req->fail = fail;
	va_start(ap, fmt);
	vsnprintf(req->why, sizeof(req->why), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return 0;
}

void scep_request_release(struct scep_request *req)
{
	if (req == NULL)
		return;
	CMS_ContentInfo_free(req->cms);
	X509_free(req->signer);
	X509_REQ_free(req->csr);
	OPENSSL_free(req->content);
	memset(req, 0, sizeof(*req));
}

/* The one value of signed attribute `which`, if it has the ASN.1 type `type`. */
static const ASN1_STRING *attr_value(CMS_SignerInfo *si, enum scep_attr which, int type)
{
	ASN1_OBJECT *o = scep_oid(which);
	const ASN1_STRING *v = o != NULL ? CMS_signed_get0_data_by_OBJ(si, o, -3, type) : NULL;

	ASN1_OBJECT_free(o);
	return v;
}

/* transactionID: printable, so that it can go into logs and the audit trail. */
static int read_txid(struct scep_request *req, CMS_SignerInfo *si)
{
	const ASN1_STRING *v = attr_value(si, SCEP_ATTR_TRANSACTION_ID, V_ASN1_PRINTABLESTRING);
	int n = v != NULL ? ASN1_STRING_length(v) : 0;
	const unsigned char *d = v != NULL ? ASN1_STRING_get0_data(v) : NULL;

	if (n <= 0 || n > SCEP_TXID_MAX)
		return -1;
	for (int i = 0; i < n; i++)
		if (d[i] < 0x20 || d[i] > 0x7e)
			return -1;
	memcpy(req->txid, d, (size_t)n);
	req->txid[n] = '\0';
	return 0;
}

static int read_type(struct scep_request *req, CMS_SignerInfo *si)
{
	const ASN1_STRING *v = attr_value(si, SCEP_ATTR_MESSAGE_TYPE, V_ASN1_PRINTABLESTRING);
	char text[4] = "";
	int n = v != NULL ? ASN1_STRING_length(v) : 0, t;

	if (n <= 0 || n >= (int)sizeof(text))
		return -1;
	memcpy(text, ASN1_STRING_get0_data(v), (size_t)n);
	t = atoi(text);
	if (t != SCEP_MSG_PKCS_REQ && t != SCEP_MSG_RENEWAL_REQ && t != SCEP_MSG_CERT_POLL &&
	    t != SCEP_MSG_GET_CERT && t != SCEP_MSG_GET_CRL)
		return -1;
	req->type = (enum scep_message_type)t;
	return 0;
}

static int read_nonce(struct scep_request *req, CMS_SignerInfo *si)
{
	const ASN1_STRING *v = attr_value(si, SCEP_ATTR_SENDER_NONCE, V_ASN1_OCTET_STRING);

	if (v == NULL || ASN1_STRING_length(v) != SCEP_NONCE_LEN)
		return -1;
	memcpy(req->sender_nonce, ASN1_STRING_get0_data(v), SCEP_NONCE_LEN);
	req->has_nonce = 1;
	return 0;
}

/* The certificate of the message that names signer `si`, and its digest. */
static int read_signer(struct scep_request *req, CMS_SignerInfo *si)
{
	STACK_OF(X509) *certs = CMS_get1_certs(req->cms);
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *obj = NULL;

	for (int i = 0; req->signer == NULL && i < sk_X509_num(certs); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0 &&
		    X509_up_ref(sk_X509_value(certs, i)))
			req->signer = sk_X509_value(certs, i);
	sk_X509_pop_free(certs, X509_free);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	if (dig != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, dig);
	req->md = obj != NULL ? EVP_get_digestbynid(OBJ_obj2nid(obj)) : NULL;
	return req->signer != NULL ? 0 : -1;
}

int scep_parse(const uint8_t *der, size_t len, struct scep_request *req, struct errmsg *em)
{
	const unsigned char *p = der;
	STACK_OF(CMS_SignerInfo) * signers;
	CMS_SignerInfo *si;

	memset(req, 0, sizeof(*req));
	req->fail = SCEP_FAIL_NONE;
	if (len == 0 || len > LONG_MAX ||
	    (req->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)) == NULL || p != der + len) {
		ERR_clear_error();
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "not a pkiMessage: not one DER CMS structure (%zu bytes)", len);
	}
	if (OBJ_obj2nid(CMS_get0_type(req->cms)) != NID_pkcs7_signed)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "not a pkiMessage: a CMS %s, not a SignedData",
				  OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(req->cms))));
	signers = CMS_get0_SignerInfos(req->cms);
	if (sk_CMS_SignerInfo_num(signers) != 1)
		return refuse(req, SCEP_FAIL_BAD_REQUEST, "%d signers, not one",
			      sk_CMS_SignerInfo_num(signers));
	si = sk_CMS_SignerInfo_value(signers, 0);
	/* The transactionID and nonce first: a refusal still names them. */
	if (read_txid(req, si) != 0)
		return refuse(req, SCEP_FAIL_BAD_REQUEST,
			      "no printable transactionID of 1-%d "
			      "characters",
			      SCEP_TXID_MAX);
	if (read_nonce(req, si) != 0)
		return refuse(req, SCEP_FAIL_BAD_REQUEST, "no 16-byte senderNonce");
	if (read_type(req, si) != 0)
		return refuse(req, SCEP_FAIL_BAD_REQUEST,
			      "no messageType signetd serves (PKCSReq, RenewalReq, CertPoll)");
	if (read_signer(req, si) != 0)
		return refuse(req, SCEP_FAIL_BAD_MESSAGE_CHECK,
			      "the signer's certificate is not in the message");
	return 0;
}

int scep_verify(struct scep_request *req, struct errmsg *em)
{
	BIO *out = BIO_new(BIO_s_mem());
	BUF_MEM *mem = NULL;
	int r = 0;

	if (out == NULL)
		return errmsg_set(em, SIGNET_E_NOMEM, "out of memory");
	/* The signer's certificate is the requester's own (self-signed, or
	 * one to be renewed): it is judged later, by what it asks for. */
	if (CMS_verify(req->cms, NULL, NULL, NULL, out, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) !=
	    1) {
		unsigned long e = ERR_peek_last_error();

		r = refuse(req, SCEP_FAIL_BAD_MESSAGE_CHECK, "the signature does not verify (%s)",
			   e != 0 ? ERR_reason_error_string(e) : "?");
		goto out;
	}
	BIO_get_mem_ptr(out, &mem);
	if (mem == NULL || mem->length == 0) {
		r = refuse(req, SCEP_FAIL_BAD_REQUEST, "the message has no pkcsPKIEnvelope");
		goto out;
	}
	if ((req->content = OPENSSL_memdup(mem->data, mem->length)) == NULL) {
		r = errmsg_set(em, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	req->content_len = mem->length;
out:
	BIO_free(out);
	return r;
}

int scep_check_time(struct scep_request *req, time_t now, long skew)
{
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(req->cms), 0);
	int at = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	const ASN1_TYPE *t;
	ASN1_TIME *lo = NULL, *hi = NULL;
	int r = 0;

	if (at < 0)
		return 0;
	t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, at), 0);
	if (t == NULL || (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME))
		return refuse(req, SCEP_FAIL_BAD_TIME, "signingTime is not a time");
	lo = ASN1_TIME_adj(NULL, now, 0, -skew);
	hi = ASN1_TIME_adj(NULL, now, 0, skew);
	if (lo == NULL || hi == NULL)
		r = refuse(req, SCEP_FAIL_BAD_TIME, "the clock cannot be compared");
	else if (ASN1_TIME_compare((const ASN1_TIME *)t->value.asn1_string, lo) < 0 ||
		 ASN1_TIME_compare((const ASN1_TIME *)t->value.asn1_string, hi) > 0)
		r = refuse(req, SCEP_FAIL_BAD_TIME,
			   "signingTime is more than %ld hours from signetd's clock", skew / 3600);
	ASN1_TIME_free(lo);
	ASN1_TIME_free(hi);
	return r;
}

/* One DER header at *p (of *left bytes): its tag, class and content length;
 * *p moves past the header. -1 when it is not a well-formed header. */
static int der_header(const unsigned char **p, long *left, int *tag, int *cls, long *len)
{
	const unsigned char *q = *p;
	int ret = ASN1_get_object(&q, len, tag, cls, *left);

	if ((ret & 0x80) != 0 || *len > *left - (q - *p))
		return -1;
	*left -= q - *p;
	*p = q;
	return 0;
}

static int der_enter(const unsigned char **p, long *left, int want_tag, int want_cls)
{
	int tag, cls;
	long len;

	if (der_header(p, left, &tag, &cls, &len) != 0 || tag != want_tag || cls != want_cls)
		return -1;
	*left = len;
	return 0;
}

static int der_skip(const unsigned char **p, long *left, int *tag, int *cls)
{
	long len;

	if (der_header(p, left, tag, cls, &len) != 0)
		return -1;
	*p += len;
	*left -= len;
	return 0;
}

/*
 * The contentEncryptionAlgorithm of a ContentInfo holding an EnvelopedData,
 * read from the DER: OpenSSL 3.0 has no accessor for it, and it must be
 * known before anything is decrypted.
 */
static int envelope_cipher(const uint8_t *der, size_t derlen, int *nid)
{
	const unsigned char *p = der;
	long left = (long)derlen;
	int tag, cls;
	ASN1_OBJECT *alg;

	if (der_enter(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) != 0 ||
	    der_skip(&p, &left, &tag, &cls) != 0 || /* contentType */
	    der_enter(&p, &left, 0, V_ASN1_CONTEXT_SPECIFIC) != 0 ||
	    der_enter(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) != 0 ||
	    der_skip(&p, &left, &tag, &cls) != 0 || /* version */
	    der_skip(&p, &left, &tag, &cls) != 0)   /* originatorInfo or recipientInfos */
		return -1;
	if (cls == V_ASN1_CONTEXT_SPECIFIC && der_skip(&p, &left, &tag, &cls) != 0)
		return -1; /* that was originatorInfo: now the recipientInfos */
	if (der_enter(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) != 0 || /* ECI */
	    der_skip(&p, &left, &tag, &cls) != 0 ||			    /* contentType */
	    der_enter(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) != 0 ||
	    (alg = d2i_ASN1_OBJECT(NULL, &p, left)) == NULL)
		return -1;
	*nid = OBJ_obj2nid(alg);
	ASN1_OBJECT_free(alg);
	return 0;
}

/* OpenSSL 3 keeps single DES in its legacy provider; loaded once, with the
 * default one, which an explicit load would otherwise leave out. The
 * handles are kept for the life of the process: a provider whose load
 * reference is dropped is never torn down (nor its library context
 * freed) at OpenSSL's exit clean-up. */
static OSSL_PROVIDER *default_provider, *legacy_provider;
static int des_provider_ok;
static pthread_once_t des_once = PTHREAD_ONCE_INIT;

static void des_provider_load(void)
{
	default_provider = OSSL_PROVIDER_load(NULL, "default");
	legacy_provider = default_provider != NULL ? OSSL_PROVIDER_load(NULL, "legacy") : NULL;
	des_provider_ok = legacy_provider != NULL;
}

static int cipher_allowed(int nid, int allow_des)
{
	switch (nid) {
	case NID_aes_128_cbc:
	case NID_aes_192_cbc:
	case NID_aes_256_cbc:
	case NID_des_ede3_cbc:
		return 1;
	case NID_des_cbc:
		if (!allow_des)
			return 0;
		pthread_once(&des_once, des_provider_load);
		return des_provider_ok;
	default:
		return 0;
	}
}

/* Is any recipient of `env` the RA's certificate? */
static int for_ra(CMS_ContentInfo *env, X509 *ra_cert)
{
	STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(env);

	for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, i);

		if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS &&
		    CMS_RecipientInfo_ktri_cert_cmp(ri, ra_cert) == 0)
			return 1;
	}
	return 0;
}

static int read_csr(struct scep_request *req, const BUF_MEM *plain, struct errmsg *em)
{
	struct errmsg why = {0};

	if (csr_parse((const uint8_t *)plain->data, plain->length, &req->csr, &why) != 0)
		return refuse(req, SCEP_FAIL_BAD_REQUEST, "the envelope holds no CSR: %s",
			      why.text);
	if (csr_verify_signature(req->csr, &why) != 0)
		return refuse(req, SCEP_FAIL_BAD_REQUEST, "%s", why.text);
	(void)em;
	return 0;
}

int scep_decrypt(struct scep_request *req, X509 *ra_cert, EVP_PKEY *ra_key, int allow_des,
		 struct errmsg *em)
{
	const unsigned char *p = req->content;
	CMS_ContentInfo *env = d2i_CMS_ContentInfo(NULL, &p, (long)req->content_len);
	BIO *out = NULL;
	BUF_MEM *plain = NULL;
	int r = 0;

	if (env == NULL || OBJ_obj2nid(CMS_get0_type(env)) != NID_pkcs7_enveloped) {
		r = refuse(req, SCEP_FAIL_BAD_MESSAGE_CHECK,
			   "the signed content is not an EnvelopedData");
		goto out;
	}
	if (envelope_cipher(req->content, req->content_len, &req->cipher_nid) != 0) {
		r = refuse(req, SCEP_FAIL_BAD_MESSAGE_CHECK, "the envelope names no cipher");
		goto out;
	}
	if (!cipher_allowed(req->cipher_nid, allow_des)) {
		r = refuse(req, SCEP_FAIL_BAD_ALG, "content cipher %s is refused%s",
			   OBJ_nid2sn(req->cipher_nid),
			   req->cipher_nid == NID_des_cbc ? " (single DES: allow_des is false)"
							  : " (AES-CBC or 3DES only)");
		goto out;
	}
	if (!for_ra(env, ra_cert)) {
		r = refuse(req, SCEP_FAIL_BAD_MESSAGE_CHECK,
			   "the envelope is not encrypted to this RA's certificate");
		goto out;
	}
	if ((out = BIO_new(BIO_s_mem())) == NULL) {
		r = errmsg_set(em, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	if (CMS_decrypt(env, ra_key, ra_cert, NULL, out, CMS_BINARY) != 1) {
		r = refuse(req, SCEP_FAIL_BAD_MESSAGE_CHECK, "the envelope does not decrypt");
		goto out;
	}
	BIO_get_mem_ptr(out, &plain);
	if (req->type == SCEP_MSG_PKCS_REQ || req->type == SCEP_MSG_RENEWAL_REQ)
		r = read_csr(req, plain, em);
out:
	if (plain != NULL && plain->data != NULL)
		OPENSSL_cleanse(plain->data, plain->length);
	BIO_free(out);
	CMS_ContentInfo_free(env);
	ERR_clear_error();
	return r;
}

int scep_challenge_password(X509_REQ *csr, char *out, size_t outlen)
{
	int i = X509_REQ_get_attr_by_NID(csr, NID_pkcs9_challengePassword, -1);
	X509_ATTRIBUTE *a = i >= 0 ? X509_REQ_get_attr(csr, i) : NULL;
	ASN1_TYPE *t = a != NULL ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	const ASN1_STRING *s;

	if (t == NULL || (t->type != V_ASN1_PRINTABLESTRING && t->type != V_ASN1_UTF8STRING &&
			  t->type != V_ASN1_IA5STRING))
		return -1;
	s = t->value.asn1_string;
	if (ASN1_STRING_length(s) <= 0 || (size_t)ASN1_STRING_length(s) >= outlen)
		return -1;
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	out[ASN1_STRING_length(s)] = '\0';
	return 0;
}

int scep_certs_only(STACK_OF(X509) * certs, uint8_t **der, size_t *len, struct errmsg *em)
{
	PKCS7 *p7 = PKCS7_new();
	PKCS7_SIGNED *s = PKCS7_SIGNED_new();
	int n = -1, ok;

	*der = NULL;
	/* As 'openssl crl2pkcs7 -nocrl' makes it: signed, data content absent. */
	ok = p7 != NULL && s != NULL && ASN1_INTEGER_set(s->version, 1);
	if (ok) {
		p7->type = OBJ_nid2obj(NID_pkcs7_signed);
		p7->d.sign = s;
		s->contents->type = OBJ_nid2obj(NID_pkcs7_data);
		s = NULL;
	}
	for (int i = 0; ok && i < sk_X509_num(certs); i++)
		ok = PKCS7_add_certificate(p7, sk_X509_value(certs, i));
	if (ok)
		n = i2d_PKCS7(p7, der);
	PKCS7_SIGNED_free(s);
	PKCS7_free(p7);
	if (n <= 0)
		return errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot encode a certs-only PKCS#7");
	*len = (size_t)n;
	return 0;
}

/* The pkcsPKIEnvelope of a SUCCESS: the certificate and chain, to the requester. */
static int success_envelope(const struct scep_request *req, const struct scep_reply *rep,
			    BIO **content, struct errmsg *em)
{
	STACK_OF(X509) *certs = sk_X509_new_null(), *recips = sk_X509_new_null();
	const EVP_CIPHER *cipher = EVP_get_cipherbynid(
		req->cipher_nid == NID_des_cbc || req->cipher_nid == 0 ? NID_aes_128_cbc
								       : req->cipher_nid);
	CMS_ContentInfo *env = NULL;
	uint8_t *inner = NULL, *outer = NULL;
	size_t inner_len = 0;
	BIO *in = NULL;
	int n = -1, r;

	if (certs == NULL || recips == NULL || !sk_X509_push(certs, rep->cert) ||
	    !sk_X509_push(recips, req->signer)) {
		r = errmsg_set(em, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(rep->chain); i++)
		if (!sk_X509_push(certs, sk_X509_value(rep->chain, i))) {
			r = errmsg_set(em, SIGNET_E_NOMEM, "out of memory");
			goto out;
		}
	if ((r = scep_certs_only(certs, &inner, &inner_len, em)) != 0)
		goto out;
	if (cipher == NULL || (in = BIO_new_mem_buf(inner, (int)inner_len)) == NULL ||
	    (env = CMS_encrypt(recips, in, cipher, CMS_BINARY)) == NULL ||
	    (n = i2d_CMS_ContentInfo(env, &outer)) <= 0 ||
	    (*content = BIO_new(BIO_s_mem())) == NULL || BIO_write(*content, outer, n) != n) {
		r = errmsg_openssl(em, SIGNET_E_INTERNAL,
				   "cannot encrypt the certificate to the requester");
		goto out;
	}
out:
	OPENSSL_free(outer);
	OPENSSL_free(inner);
	BIO_free(in);
	CMS_ContentInfo_free(env);
	sk_X509_free(certs);
	sk_X509_free(recips);
	return r;
}

static int add_attr(CMS_SignerInfo *si, enum scep_attr which, int type, const void *data, int len)
{
	ASN1_OBJECT *o = scep_oid(which);
	int ok;

	/* A length of -1 would make OpenSSL take data for an ASN1_STRING. */
	if (len < 0)
		len = (int)strlen(data);
	ok = o != NULL && CMS_signed_add1_attr_by_OBJ(si, o, type, data, len);

	ASN1_OBJECT_free(o);
	return ok;
}

static int add_reply_attrs(CMS_SignerInfo *si, const struct scep_request *req,
			   const struct scep_reply *rep)
{
	uint8_t nonce[SCEP_NONCE_LEN];
	char status[4], fail[4];

	snprintf(status, sizeof(status), "%d", (int)rep->status);
	snprintf(fail, sizeof(fail), "%d", (int)rep->fail);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    !add_attr(si, SCEP_ATTR_MESSAGE_TYPE, V_ASN1_PRINTABLESTRING, "3", 1) ||
	    !add_attr(si, SCEP_ATTR_PKI_STATUS, V_ASN1_PRINTABLESTRING, status, -1) ||
	    !add_attr(si, SCEP_ATTR_SENDER_NONCE, V_ASN1_OCTET_STRING, nonce, sizeof(nonce)))
		return 0;
	if (rep->status == SCEP_STATUS_FAILURE &&
	    !add_attr(si, SCEP_ATTR_FAIL_INFO, V_ASN1_PRINTABLESTRING, fail, -1))
		return 0;
	if (req->txid[0] != '\0' &&
	    !add_attr(si, SCEP_ATTR_TRANSACTION_ID, V_ASN1_PRINTABLESTRING, req->txid, -1))
		return 0;
	if (req->has_nonce && !add_attr(si, SCEP_ATTR_RECIPIENT_NONCE, V_ASN1_OCTET_STRING,
					req->sender_nonce, SCEP_NONCE_LEN))
		return 0;
	return 1;
}

/* SHA-256 unless the requester signed with SHA-512 (GetCACaps offers both). */
static const EVP_MD *reply_md(const struct scep_request *req)
{
	return req->md == EVP_sha512() ? EVP_sha512() : EVP_sha256();
}

int scep_certrep(const struct scep_request *req, const struct scep_reply *rep, X509 *ra_cert,
		 EVP_PKEY *ra_key, uint8_t **der, size_t *len, struct errmsg *em)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	BIO *content = NULL;
	int n, r = 0;

	*der = NULL;
	if (rep->status == SCEP_STATUS_SUCCESS &&
	    (r = success_envelope(req, rep, &content, em)) != 0)
		goto out;
	/* FAILURE and PENDING carry no envelope: an empty content. */
	if (content == NULL && (content = BIO_new(BIO_s_mem())) == NULL) {
		r = errmsg_set(em, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	em->err = 0;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY)) == NULL ||
	    (si = CMS_add1_signer(cms, ra_cert, ra_key, reply_md(req),
				  CMS_NOSMIMECAP | CMS_BINARY)) == NULL ||
	    !add_reply_attrs(si, req, rep) || CMS_final(cms, content, NULL, CMS_BINARY) != 1 ||
	    (n = i2d_CMS_ContentInfo(cms, der)) <= 0) {
		r = em->err != 0 ? em->err
				 : errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot sign the CertRep");
		OPENSSL_free(*der);
		*der = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	ERR_clear_error();
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	return r;
}

const char *scep_message_type_name(enum scep_message_type type)
{
	switch (type) {
	case SCEP_MSG_PKCS_REQ:
		return "PKCSReq";
	case SCEP_MSG_RENEWAL_REQ:
		return "RenewalReq";
	case SCEP_MSG_CERT_POLL:
		return "CertPoll";
	case SCEP_MSG_GET_CERT:
		return "GetCert";
	case SCEP_MSG_GET_CRL:
		return "GetCRL";
	case SCEP_MSG_CERT_REP:
		return "CertRep";
	default:
		return "unknown";
	}
}

const char *scep_fail_name(enum scep_fail fail)
{
	static const char *const names[] = {"badAlg", "badMessageCheck", "badRequest", "badTime",
					    "badCertId"};

	if (fail < 0 || (size_t)fail >= sizeof(names) / sizeof(names[0]))
		return "none";
	return names[fail];
}
