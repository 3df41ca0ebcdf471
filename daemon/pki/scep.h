/*
 * SCEP (RFC 8894) messages, without a token: a pkiMessage read and checked
 * (the signer's signature over the signed attributes, the envelope to the
 * RA, its content cipher), and CertRep and GetCACert answers built. Keys are
 * EVP_PKEYs: signetd passes keybridge ones whose private operations run on
 * the token, the unit tests software ones.
 *
 * Every function that returns 0 may still have refused the message in a way
 * SCEP itself expresses: then req->fail is not SCEP_FAIL_NONE and req->why
 * says why (for the audit line; it is never sent to the requester). A
 * negative return is what SCEP cannot express: INVALID_ARGUMENT for bytes
 * that are no pkiMessage at all, INTERNAL and NOMEM.
 */
#ifndef SIGNETD_SCEP_H
#define SIGNETD_SCEP_H

#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "base/errmsg.h"

#define SCEP_TXID_MAX  128 /* a transactionID is a hash in hex or base64 in practice */
#define SCEP_NONCE_LEN 16
#define SCEP_WHY_MAX   256

/* messageType (RFC 8894 section 3.2.1.2) */
enum scep_message_type {
	SCEP_MSG_NONE = 0,
	SCEP_MSG_CERT_REP = 3,
	SCEP_MSG_RENEWAL_REQ = 17,
	SCEP_MSG_PKCS_REQ = 19,
	SCEP_MSG_CERT_POLL = 20, /* GetCertInitial */
	SCEP_MSG_GET_CERT = 21,
	SCEP_MSG_GET_CRL = 22,
};

/* pkiStatus */
enum scep_status {
	SCEP_STATUS_SUCCESS = 0,
	SCEP_STATUS_FAILURE = 2,
	SCEP_STATUS_PENDING = 3,
};

/* failInfo, with RFC 8894's numbers; NONE is no failure */
enum scep_fail {
	SCEP_FAIL_NONE = -1,
	SCEP_FAIL_BAD_ALG = 0,
	SCEP_FAIL_BAD_MESSAGE_CHECK = 1,
	SCEP_FAIL_BAD_REQUEST = 2,
	SCEP_FAIL_BAD_TIME = 3,
	SCEP_FAIL_BAD_CERT_ID = 4,
};

struct scep_request {
	CMS_ContentInfo *cms; /* the whole pkiMessage */
	enum scep_message_type type;
	char txid[SCEP_TXID_MAX + 1]; /* "" when absent or unreadable */
	uint8_t sender_nonce[SCEP_NONCE_LEN];
	int has_nonce;
	X509 *signer;	  /* the signer's certificate, from the message */
	const EVP_MD *md; /* the signer's digest; the CertRep uses it */
	uint8_t *content; /* the signed content (the pkcsPKIEnvelope), once verified */
	size_t content_len;
	int cipher_nid; /* the envelope's content cipher, once read */
	X509_REQ *csr;	/* PKCSReq, RenewalReq: the decrypted CSR */
	enum scep_fail fail;
	char why[SCEP_WHY_MAX];
};

/* Release what the request holds; a zeroed one is fine. */
void scep_request_release(struct scep_request *req);

/*
 * Read `der` as a pkiMessage: a CMS SignedData with one signer, its signed
 * attributes messageType, transactionID and senderNonce. INVALID_ARGUMENT
 * for bytes that are not a DER SignedData (truncated, trailing bytes, another
 * content type). Missing or malformed attributes, a signer without its
 * certificate or a message type signetd does not serve are badRequest.
 */
int scep_parse(const uint8_t *der, size_t len, struct scep_request *req, struct errmsg *em);

/* The signer's signature over the signed attributes, and their messageDigest
 * over the content: badMessageCheck when either fails. */
int scep_verify(struct scep_request *req, struct errmsg *em);

/* How far a requester's signingTime may be from signetd's clock: devices
 * with no battery-backed clock are common, so the bound only catches a
 * message signed on another day, not a clock that drifted. */
#define SCEP_SIGNING_TIME_SKEW (24 * 3600)

/* The signer's signingTime, when the message has one (RFC 8894 leaves it
 * optional), against `now`: badTime when it is further than `skew`
 * seconds away, or not a time. A message without it passes. */
int scep_check_time(struct scep_request *req, time_t now, long skew);

/*
 * Decrypt the pkcsPKIEnvelope with the RA's key `ra_key` (certificate
 * `ra_cert`): badMessageCheck when it is not encrypted to that certificate
 * or does not decrypt; badAlg for a content cipher other than AES-CBC and
 * 3DES (single DES too, unless `allow_des`). For PKCSReq and RenewalReq the
 * content is the CSR (req->csr; badRequest when it is not one, or its own
 * signature does not verify).
 */
int scep_decrypt(struct scep_request *req, X509 *ra_cert, EVP_PKEY *ra_key, int allow_des,
		 struct errmsg *em);

/* The CSR's challengePassword into out (NUL-terminated); 0, or -1 when it has
 * none or it does not fit. */
int scep_challenge_password(X509_REQ *csr, char *out, size_t outlen);

/* What signetd answers. */
struct scep_reply {
	enum scep_status status;
	enum scep_fail fail;	/* FAILURE only */
	X509 *cert;		/* SUCCESS: the certificate issued */
	STACK_OF(X509) * chain; /* SUCCESS: its CA chain, sent with it (may be NULL) */
};

/*
 * The CertRep for `req`: a SignedData signed by `ra_key` (certificate
 * `ra_cert`, included) with messageType 3, pkiStatus, failInfo, the
 * request's transactionID, recipientNonce = its senderNonce and a fresh
 * senderNonce; on SUCCESS its content is an EnvelopedData to the requester's
 * signer certificate (with the request's cipher) holding a certs-only
 * SignedData of the certificate and chain. *der is OPENSSL_malloc'd.
 */
int scep_certrep(const struct scep_request *req, const struct scep_reply *rep, X509 *ra_cert,
		 EVP_PKEY *ra_key, uint8_t **der, size_t *len, struct errmsg *em);

/* A degenerate certs-only SignedData of `certs` (GetCACert), DER, OPENSSL_malloc'd. */
int scep_certs_only(STACK_OF(X509) * certs, uint8_t **der, size_t *len, struct errmsg *em);

/* "PKCSReq", "RenewalReq", ...; "unknown" otherwise. */
const char *scep_message_type_name(enum scep_message_type type);
/* "badAlg", ...; "none" for SCEP_FAIL_NONE. */
const char *scep_fail_name(enum scep_fail fail);

#endif
