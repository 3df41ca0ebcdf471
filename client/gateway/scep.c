/* SCEP over HTTP: routing, operations, content types. */
#include "scep.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signet/signet.h>

#include "base64.h"
#include "status.h"

#define SCEP_TYPE_TEXT	  "text/plain"
#define SCEP_TYPE_CA	  "application/x-x509-ca-cert"
#define SCEP_TYPE_CA_RA	  "application/x-x509-ca-ra-cert"
#define SCEP_TYPE_MESSAGE "application/x-pki-message"

void scep_ca_certs_clear(struct scep_ca_certs *c)
{
	if (c == NULL)
		return;
	free(c->first);
	free(c->pkcs7);
	free(c->caps);
	memset(c, 0, sizeof(*c));
}

void scep_op_result_clear(struct scep_op_result *r)
{
	if (r == NULL)
		return;
	free(r->cert_rep);
	memset(r, 0, sizeof(*r));
}

void scep_response_clear(struct scep_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

enum scep_op scep_op_from_name(const char *s)
{
	if (s == NULL)
		return SCEP_OP_UNKNOWN;
	if (strcmp(s, "GetCACaps") == 0)
		return SCEP_OP_GETCACAPS;
	if (strcmp(s, "GetCACert") == 0)
		return SCEP_OP_GETCACERT;
	if (strcmp(s, "PKIOperation") == 0)
		return SCEP_OP_PKIOPERATION;
	return SCEP_OP_UNKNOWN;
}

static int scep_route_allowed(const struct gw_config *cfg, const char *name)
{
	size_t i;

	if (!gw_config_name_ok(name))
		return 0;
	if (cfg->n_enrolments == 0)
		return 1;
	for (i = 0; i < cfg->n_enrolments; i++)
		if (strcmp(cfg->enrolments[i], name) == 0)
			return 1;
	return 0;
}

/* rest: what follows scep.path, "" or "/NAME", with the aliases taken off. */
static int scep_route_rest(const struct gw_config *cfg, const char *rest, size_t n, char *name)
{
	size_t alias = strlen(SCEP_PKICLIENT_PATH);

	/* ".../cgi-bin/pkiclient.exe": clients that append it to the URL they are given */
	if (n >= alias && memcmp(rest + n - alias, SCEP_PKICLIENT_PATH, alias) == 0)
		n -= alias;
	else if (n > 0 && rest[n - 1] == '/')
		n--;
	if (n == 0) {
		if (cfg->default_enrolment[0] == '\0')
			return SIGNET_E_NOT_FOUND;
		memcpy(name, cfg->default_enrolment, strlen(cfg->default_enrolment) + 1);
		return 0;
	}
	if (rest[0] != '/' || n - 1 > GW_NAME_MAX)
		return SIGNET_E_NOT_FOUND;
	memcpy(name, rest + 1, n - 1);
	name[n - 1] = '\0';
	return scep_route_allowed(cfg, name) ? 0 : SIGNET_E_NOT_FOUND;
}

int scep_route(const struct gw_config *cfg, const char *url, char *name)
{
	size_t plen = strlen(cfg->path);

	name[0] = '\0';
	if (strcmp(url, SCEP_PKICLIENT_PATH) == 0)
		return scep_route_rest(cfg, "", 0, name);
	if (strncmp(url, cfg->path, plen) != 0 || (url[plen] != '\0' && url[plen] != '/'))
		return SIGNET_E_NOT_FOUND;
	return scep_route_rest(cfg, url + plen, strlen(url + plen), name);
}

static int scep_answer(struct scep_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A text/plain answer with a one-line reason, also kept for the log. */
static int scep_answer(struct scep_response *resp, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(resp->note, sizeof(resp->note), fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = SCEP_TYPE_TEXT;
	free(resp->body);
	n = (int)strlen(resp->note);
	if ((resp->body = malloc((size_t)n + 2)) == NULL) {
		resp->body_len = 0;
		return SIGNET_E_NOMEM;
	}
	memcpy(resp->body, resp->note, (size_t)n);
	resp->body[n] = '\n';
	resp->body[n + 1] = '\0';
	resp->body_len = (size_t)n + 1;
	return 0;
}

/* A backend failure: the client hears the reason for 4xx, only the status for 5xx. */
static int scep_answer_backend(struct scep_response *resp, int r, const char *err)
{
	int status = status_http(r);

	if (status < 500)
		return scep_answer(resp, status, "%s", err);
	scep_answer(resp, status, "%s",
		    status == 503 ? "service unavailable, try again later" : "internal error");
	snprintf(resp->note, sizeof(resp->note), "%s: %s", signet_status_name(r), err);
	return 0;
}

static int scep_take(struct scep_response *resp, const char *type, uint8_t **data, size_t len)
{
	resp->status = 200;
	resp->content_type = type;
	resp->body = *data;
	resp->body_len = len;
	*data = NULL;
	return 0;
}

static int scep_ca(const struct scep_backend *be, const char *enrolment, enum scep_op op,
		   struct scep_response *resp)
{
	struct scep_ca_certs certs = {0};
	char err[256] = "";
	int r;

	if ((r = be->ca_certs(be->ctx, enrolment, &certs, err, sizeof(err))) != 0) {
		r = scep_answer_backend(resp, r, err);
		goto out;
	}
	if (op == SCEP_OP_GETCACAPS) {
		uint8_t *caps = (uint8_t *)certs.caps;
		certs.caps = NULL;
		r = scep_take(resp, SCEP_TYPE_TEXT, &caps, strlen((char *)caps));
	} else if (certs.n_certs == 1) {
		/* one certificate: the CA itself, in DER, no RA (RFC 8894 4.2.1.1) */
		r = scep_take(resp, SCEP_TYPE_CA, &certs.first, certs.first_len);
	} else {
		r = scep_take(resp, SCEP_TYPE_CA_RA, &certs.pkcs7, certs.pkcs7_len);
	}
	if (op == SCEP_OP_GETCACERT)
		snprintf(resp->note, sizeof(resp->note), "%zu certificate(s)", certs.n_certs);
	else
		snprintf(resp->note, sizeof(resp->note), "capabilities");
out:
	scep_ca_certs_clear(&certs);
	return r;
}

static const char *scep_status_name(int s)
{
	return s == 0 ? "SUCCESS" : s == 2 ? "FAILURE" : s == 3 ? "PENDING" : "?";
}

/* By name: the wire's numbers are RFC 8894's plus one (0 is "none"), which would mislead. */
static const char *scep_fail_name(int f)
{
	static const char *const names[] = {"none",	  "badAlg",  "badMessageCheck",
					    "badRequest", "badTime", "badCertId"};

	return f >= 0 && f < (int)(sizeof(names) / sizeof(names[0])) ? names[f] : "?";
}

static int scep_pkioperation(const struct scep_backend *be, const char *enrolment,
			     const struct scep_request *req, struct scep_response *resp)
{
	struct scep_op_result res = {0};
	const uint8_t *msg = req->body;
	size_t len = req->body_len;
	uint8_t *decoded = NULL;
	char err[256] = "";
	int r;

	if (strcmp(req->method, "GET") == 0) {
		if (req->message == NULL || req->message[0] == '\0')
			return scep_answer(resp, 400, "PKIOperation by GET needs message=");
		if (b64_decode(req->message, strlen(req->message), &decoded, &len) != 0)
			return scep_answer(resp, 400, "message= is not base64");
		msg = decoded;
	}
	if (len == 0) {
		r = scep_answer(resp, 400, "PKIOperation needs a pkiMessage");
		goto out;
	}
	r = be->operation(be->ctx, enrolment, msg, len, req->peer, &res, err, sizeof(err));
	if (r != 0) {
		r = scep_answer_backend(resp, r, err);
		goto out;
	}
	memcpy(resp->transaction_id, res.transaction_id, sizeof(resp->transaction_id));
	r = scep_take(resp, SCEP_TYPE_MESSAGE, &res.cert_rep, res.cert_rep_len);
	if (res.pki_status == 2)
		snprintf(resp->note, sizeof(resp->note), "FAILURE failInfo %s",
			 scep_fail_name(res.fail_info));
	else
		snprintf(resp->note, sizeof(resp->note), "%s", scep_status_name(res.pki_status));
out:
	free(decoded);
	scep_op_result_clear(&res);
	return r;
}

int scep_handle(const struct gw_config *cfg, const struct scep_backend *be,
		const struct scep_request *req, struct scep_response *resp)
{
	char enrolment[GW_NAME_MAX + 1];
	enum scep_op op;
	int get = strcmp(req->method, "GET") == 0;

	memset(resp, 0, sizeof(*resp));
	if (scep_route(cfg, req->url, enrolment) != 0)
		return scep_answer(resp, 404, "no SCEP enrolment here");
	if (req->operation == NULL)
		return scep_answer(resp, 400, "operation= is required");
	if ((op = scep_op_from_name(req->operation)) == SCEP_OP_UNKNOWN)
		return scep_answer(resp, 400, "operation not supported");
	if (!get && !(op == SCEP_OP_PKIOPERATION && strcmp(req->method, "POST") == 0))
		return scep_answer(resp, 405, "%s does not take %s", req->operation, req->method);
	if (op == SCEP_OP_PKIOPERATION)
		return scep_pkioperation(be, enrolment, req, resp);
	return scep_ca(be, enrolment, op, resp);
}
