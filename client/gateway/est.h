/*
 * EST over HTTPS (RFC 7030) in front of signetd. Transport only, like SCEP:
 * the gateway carries the request, the TLS client's certificate chain, the
 * HTTP Basic credentials and the tls-unique channel binding to signetd,
 * which decides; its answer comes back as RFC 7030 wants it.
 *
 * URLs (est.default = "factory", est.labels = { edge = "edge-devices"; }):
 *   /.well-known/est/OP          the default enrolment ("factory")
 *   /.well-known/est/edge/OP     the enrolment label "edge" maps to
 * OP: cacerts (GET), simpleenroll and simplereenroll (POST), csrattrs (GET).
 */
#ifndef SIGNET_GATEWAY_EST_H
#define SIGNET_GATEWAY_EST_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "scep.h"

#define EST_PATH	 "/.well-known/est"
#define EST_CHAIN_MAX	 8   /* client certificates passed on; more is not a real chain */
#define EST_USER_MAX	 128 /* HTTP Basic user name */
#define EST_PASSWORD_MAX 256 /* HTTP Basic password: an enrolment code */

enum est_op {
	EST_OP_UNKNOWN = 0,
	EST_OP_CACERTS,
	EST_OP_SIMPLEENROLL,
	EST_OP_SIMPLEREENROLL,
	EST_OP_CSRATTRS,
};

/* One (re-)enrolment as signetd gets it (EstEnrollRequest). */
struct est_enroll_in {
	const char *enrolment;
	const uint8_t *csr; /* DER PKCS#10 */
	size_t csr_len;
	const uint8_t *const *chain; /* the TLS client's chain, DER, leaf first */
	const size_t *chain_len;
	size_t n_chain;
	const char *username; /* "" when none */
	const char *code;     /* "" when none */
	int reenroll;
	const uint8_t *tls_unique; /* empty under TLS 1.3 */
	size_t tls_unique_len;
	const char *peer;
};

struct est_enroll_out {
	uint8_t *pkcs7; /* certs-only PKCS#7 (DER) with the certificate */
	size_t pkcs7_len;
	unsigned retry_after; /* non-zero: pending, no certificate */
};

/*
 * What the gateway asks signetd. 0 or a negative enum signet_err with a
 * message in err; the out buffers are then the caller's (free()).
 * csr_attrs: *der NULL and *len 0 when the enrolment has none.
 */
struct est_backend {
	void *ctx;
	int (*ca_certs)(void *ctx, const char *enrolment, struct scep_ca_certs *out, char *err,
			size_t errlen);
	int (*enroll)(void *ctx, const struct est_enroll_in *in, struct est_enroll_out *out,
		      char *err, size_t errlen);
	int (*csr_attrs)(void *ctx, const char *enrolment, uint8_t **der, size_t *len, char *err,
			 size_t errlen);
};

/* An HTTPS request as the gateway saw it. */
struct est_request {
	const char *method;
	const char *url;
	const char *authorization; /* the Authorization header, NULL if none */
	const uint8_t *body;
	size_t body_len;
	const char *peer;
	int tls; /* 0: plain HTTP, where EST is not served */
	const uint8_t *chain[EST_CHAIN_MAX];
	size_t chain_len[EST_CHAIN_MAX];
	size_t n_chain;
	const uint8_t *tls_unique;
	size_t tls_unique_len;
};

/*
 * The enrolment and operation `url` names under cfg: 0, or
 * SIGNET_E_NOT_FOUND for a URL outside EST_PATH, an unknown label or
 * operation, or no label when est.default is not set.
 */
int est_route(const struct gw_config *cfg, const char *url, char *enrolment, enum est_op *op);

/*
 * An HTTP Basic Authorization header ("Basic base64(user:password)", the
 * scheme case-insensitive) into user and password (EST_USER_MAX+1 and
 * EST_PASSWORD_MAX+1 bytes; wipe the password). 0, or
 * SIGNET_E_INVALID_ARGUMENT for another scheme, bad base64, no ':', a NUL
 * or a part too long.
 */
int est_parse_basic(const char *header, char *user, char *password);

/*
 * Answer `req`: 404 outside the scheme or over plain HTTP, 405 for the
 * wrong method, 400 for a body that is not base64, 401 with
 * WWW-Authenticate for a malformed Authorization header; otherwise
 * signetd's answer: 200 application/pkcs7-mime (base64) for cacerts and an
 * issued certificate, 202 + Retry-After when pending, 200
 * application/csrattrs or 204 for csrattrs, and for an error the status
 * est_http_status() gives. resp is always filled in. 0, or SIGNET_E_NOMEM.
 */
int est_handle(const struct gw_config *cfg, const struct est_backend *be,
	       const struct est_request *req, struct scep_response *resp);

/*
 * The HTTP status for a signetd status, as the EST contract has it:
 * UNAUTHENTICATED 401, PERMISSION_DENIED 403, INVALID_ARGUMENT 400,
 * NOT_FOUND 404, the rest as status_http().
 */
int est_http_status(int err);

#endif
