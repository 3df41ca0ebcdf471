/*
 * The SCEP operations over HTTP (RFC 8894 4): which enrolment a URL names,
 * which operation it asks for, and the answer, from signetd through a
 * backend. Transport only: every PKI decision is signetd's.
 *
 * URLs, with scep.path = "/scep":
 *   /scep/NAME?operation=OP     the enrolment NAME
 *   /scep?operation=OP          the default enrolment (scep.default)
 *   /cgi-bin/pkiclient.exe?operation=OP   the same, for clients that
 *                                         append the historical path
 */
#ifndef SIGNET_GATEWAY_SCEP_H
#define SIGNET_GATEWAY_SCEP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SCEP_PKICLIENT_PATH "/cgi-bin/pkiclient.exe"

enum scep_op {
	SCEP_OP_UNKNOWN = 0,
	SCEP_OP_GETCACAPS,
	SCEP_OP_GETCACERT,
	SCEP_OP_PKIOPERATION,
};

/* An enrolment's certificates and capabilities, as signetd gives them. */
struct scep_ca_certs {
	uint8_t *first; /* the first certificate (DER): the issuing CA */
	size_t first_len;
	size_t n_certs;
	uint8_t *pkcs7; /* all of them, certs-only PKCS#7 (DER) */
	size_t pkcs7_len;
	char *caps; /* GetCACaps lines, each ending in "\n" */
};

/* One PKIOperation's answer. */
struct scep_op_result {
	uint8_t *cert_rep; /* DER CertRep pkiMessage */
	size_t cert_rep_len;
	char transaction_id[128];
	int pki_status; /* 0 SUCCESS, 2 FAILURE, 3 PENDING */
	int fail_info;
};

/*
 * What the gateway asks signetd. Each call returns 0 or a negative enum
 * signet_err with a message in err; on success the out struct's buffers are
 * the caller's (scep_ca_certs_clear(), scep_op_result_clear()).
 */
struct scep_backend {
	void *ctx;
	int (*ca_certs)(void *ctx, const char *enrolment, struct scep_ca_certs *out, char *err,
			size_t errlen);
	int (*operation)(void *ctx, const char *enrolment, const uint8_t *msg, size_t len,
			 const char *peer, struct scep_op_result *out, char *err, size_t errlen);
};

void scep_ca_certs_clear(struct scep_ca_certs *c);
void scep_op_result_clear(struct scep_op_result *r);

/* An HTTP request as the gateway saw it. */
struct scep_request {
	const char *method;    /* "GET", "POST", ... */
	const char *url;       /* the path, without the query */
	const char *operation; /* the operation= argument, URL-decoded; NULL if none */
	const char *message;   /* the message= argument, URL-decoded; NULL if none */
	const uint8_t *body;   /* POST */
	size_t body_len;
	const char *peer; /* the client's address, for signetd's audit trail */
};

/* The answer: status, content type and body (malloc'd; scep_response_clear()). */
struct scep_response {
	int status;
	const char *content_type;
	uint8_t *body;
	size_t body_len;
	char transaction_id[128]; /* for the access log, "" when none */
	char note[256];		  /* why, for the access log */
	/* more headers (EST: Content-Transfer-Encoding, WWW-Authenticate, Retry-After) */
	struct {
		const char *name;
		char value[64];
	} headers[3];
	size_t n_headers;
};

void scep_response_clear(struct scep_response *resp);

/*
 * The enrolment `url` names under cfg (see the URL scheme above), copied to
 * name (GW_NAME_MAX+1 bytes). SIGNET_E_NOT_FOUND for a URL outside the
 * scheme, a name that is not one, a name not in scep.enrolments when that
 * list is set, or the bare path when there is no default.
 */
int scep_route(const struct gw_config *cfg, const char *url, char *name);

/* The operation named by `s` (case-sensitive, as RFC 8894 has them). */
enum scep_op scep_op_from_name(const char *s);

/*
 * Answer `req`: 404 for a URL outside the scheme, 405 for a method the
 * operation does not take, 400 for an unknown or missing operation or a
 * message that is not base64 or is empty, otherwise what the backend says,
 * its status mapped by status_http(). A CertRep (SUCCESS, FAILURE or
 * PENDING) is a 200 with application/x-pki-message. Error answers are
 * text/plain with a one-line reason. resp is always filled in. 0, or
 * SIGNET_E_NOMEM when not even an error body could be made.
 */
int scep_handle(const struct gw_config *cfg, const struct scep_backend *be,
		const struct scep_request *req, struct scep_response *resp);

#endif
