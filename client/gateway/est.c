/* EST over HTTPS: routing, HTTP Basic, base64 bodies, statuses. */
#include "est.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <signet/signet.h>

#include "base64.h"
#include "status.h"

#define EST_TYPE_TEXT	  "text/plain"
#define EST_TYPE_PKCS7	  "application/pkcs7-mime; smime-type=certs-only"
#define EST_TYPE_CSRATTRS "application/csrattrs"
#define EST_B64_LINE	  64 /* as PEM wraps: RFC 7030 bodies are MIME base64 */
#define EST_REALM	  "Basic realm=\"est\""

static const struct {
	const char *name;
	enum est_op op;
} est_ops[] = {
	{"cacerts", EST_OP_CACERTS},
	{"simpleenroll", EST_OP_SIMPLEENROLL},
	{"simplereenroll", EST_OP_SIMPLEREENROLL},
	{"csrattrs", EST_OP_CSRATTRS},
};

static enum est_op est_op_from(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(est_ops) / sizeof(est_ops[0]); i++)
		if (strlen(est_ops[i].name) == n && memcmp(est_ops[i].name, s, n) == 0)
			return est_ops[i].op;
	return EST_OP_UNKNOWN;
}

/* The enrolment a label maps to, or NULL. */
static const char *est_label(const struct gw_config *cfg, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < cfg->n_est_labels; i++)
		if (strlen(cfg->est_labels[i].label) == n &&
		    memcmp(cfg->est_labels[i].label, s, n) == 0)
			return cfg->est_labels[i].enrolment;
	return NULL;
}

int est_route(const struct gw_config *cfg, const char *url, char *enrolment, enum est_op *op)
{
	size_t plen = strlen(EST_PATH);
	const char *rest = url + plen, *slash, *name = cfg->est_default;

	enrolment[0] = '\0';
	*op = EST_OP_UNKNOWN;
	if (!cfg->est_enabled || strncmp(url, EST_PATH, plen) != 0 || rest[0] != '/')
		return SIGNET_E_NOT_FOUND;
	rest++;
	/* "LABEL/OP" or "OP": an operation name is never taken for a label (RFC 7030 3.2.2) */
	if ((slash = strchr(rest, '/')) != NULL) {
		if ((name = est_label(cfg, rest, (size_t)(slash - rest))) == NULL)
			return SIGNET_E_NOT_FOUND;
		rest = slash + 1;
	}
	if (name[0] == '\0' || (*op = est_op_from(rest, strlen(rest))) == EST_OP_UNKNOWN)
		return SIGNET_E_NOT_FOUND;
	memcpy(enrolment, name, strlen(name) + 1);
	return 0;
}

int est_parse_basic(const char *header, char *user, char *password)
{
	uint8_t *dec = NULL;
	size_t n = 0, ul;
	const uint8_t *colon;
	int r = SIGNET_E_INVALID_ARGUMENT;

	user[0] = password[0] = '\0';
	if (strncasecmp(header, "Basic ", 6) != 0)
		return r;
	header += 6;
	header += strspn(header, " ");
	if (b64_decode(header, strlen(header), &dec, &n) != 0)
		goto out;
	if (memchr(dec, '\0', n) != NULL || (colon = memchr(dec, ':', n)) == NULL)
		goto out;
	ul = (size_t)(colon - dec);
	if (ul > EST_USER_MAX || n - ul - 1 > EST_PASSWORD_MAX)
		goto out;
	memcpy(user, dec, ul);
	user[ul] = '\0';
	memcpy(password, colon + 1, n - ul - 1);
	password[n - ul - 1] = '\0';
	r = 0;
out:
	if (dec != NULL) {
		explicit_bzero(dec, n);
		free(dec);
	}
	return r;
}

int est_http_status(int err)
{
	if (err == SIGNET_E_UNAUTHENTICATED)
		return 401;
	return status_http(err);
}

static void est_header(struct scep_response *resp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void est_header(struct scep_response *resp, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (resp->n_headers >= sizeof(resp->headers) / sizeof(resp->headers[0]))
		return;
	resp->headers[resp->n_headers].name = name;
	va_start(ap, fmt);
	vsnprintf(resp->headers[resp->n_headers].value, sizeof(resp->headers[0].value), fmt, ap);
	va_end(ap);
	resp->n_headers++;
}

static int est_answer(struct scep_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A text/plain answer with a one-line reason, also kept for the log. */
static int est_answer(struct scep_response *resp, int status, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(resp->note, sizeof(resp->note), fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = EST_TYPE_TEXT;
	free(resp->body);
	n = strlen(resp->note);
	resp->body_len = 0;
	if ((resp->body = malloc(n + 1)) == NULL)
		return SIGNET_E_NOMEM;
	memcpy(resp->body, resp->note, n);
	resp->body[n] = '\n';
	resp->body_len = n + 1;
	/* RFC 7030 3.2.3: a 401 tells the client it may try HTTP Basic */
	if (status == 401)
		est_header(resp, "WWW-Authenticate", EST_REALM);
	return 0;
}

/* A backend failure: the client hears the reason for 4xx, only the status for 5xx. */
static int est_answer_backend(struct scep_response *resp, int r, const char *err)
{
	int status = est_http_status(r), rc;

	if (status < 500)
		return est_answer(resp, status, "%s", err);
	rc = est_answer(resp, status, "%s",
			status == 503 ? "service unavailable, try again later" : "internal error");
	snprintf(resp->note, sizeof(resp->note), "%s: %s", signet_status_name(r), err);
	return rc;
}

/* A 200 with `der` in base64, lines of 64 (RFC 7030 4.1.3, 4.2.3, 4.5.2). */
static int est_base64(struct scep_response *resp, const char *type, const uint8_t *der, size_t len)
{
	char *b64;
	size_t n;

	if (b64_encode(der, len, EST_B64_LINE, &b64, &n) != 0)
		return est_answer(resp, 500, "out of memory");
	resp->status = 200;
	resp->content_type = type;
	resp->body = (uint8_t *)b64;
	resp->body_len = n;
	est_header(resp, "Content-Transfer-Encoding", "base64");
	return 0;
}

static int est_cacerts(const struct est_backend *be, const char *enrolment,
		       struct scep_response *resp)
{
	struct scep_ca_certs certs = {0};
	char err[256] = "";
	int r;

	if ((r = be->ca_certs(be->ctx, enrolment, &certs, err, sizeof(err))) != 0)
		r = est_answer_backend(resp, r, err);
	else if ((r = est_base64(resp, EST_TYPE_PKCS7, certs.pkcs7, certs.pkcs7_len)) == 0)
		snprintf(resp->note, sizeof(resp->note), "%zu certificate(s)", certs.n_certs);
	scep_ca_certs_clear(&certs);
	return r;
}

static int est_csrattrs(const struct est_backend *be, const char *enrolment,
			struct scep_response *resp)
{
	uint8_t *der = NULL;
	size_t len = 0;
	char err[256] = "";
	int r;

	if ((r = be->csr_attrs(be->ctx, enrolment, &der, &len, err, sizeof(err))) != 0) {
		r = est_answer_backend(resp, r, err);
	} else if (len == 0) {
		/* RFC 7030 4.5.2: nothing to ask for */
		resp->status = 204;
		resp->content_type = EST_TYPE_TEXT;
		snprintf(resp->note, sizeof(resp->note), "no CSR attributes");
	} else if ((r = est_base64(resp, EST_TYPE_CSRATTRS, der, len)) == 0) {
		snprintf(resp->note, sizeof(resp->note), "CSR attributes");
	}
	free(der);
	return r;
}

/* The request's credentials and CSR, checked before signetd is asked. */
static int est_enroll(const struct est_backend *be, const char *enrolment, enum est_op op,
		      const struct est_request *req, struct scep_response *resp)
{
	struct est_enroll_in in = {0};
	struct est_enroll_out out = {0};
	char user[EST_USER_MAX + 1] = "", code[EST_PASSWORD_MAX + 1] = "", err[256] = "";
	uint8_t *csr = NULL;
	size_t csr_len = 0;
	int r;

	if (req->authorization != NULL && est_parse_basic(req->authorization, user, code) != 0) {
		r = est_answer(resp, 401, "Authorization is not HTTP Basic");
		goto out;
	}
	if (req->body_len == 0 ||
	    b64_decode((const char *)req->body, req->body_len, &csr, &csr_len) != 0) {
		r = est_answer(resp, 400, "the body must be a base64 PKCS#10 request");
		goto out;
	}
	in.enrolment = enrolment;
	in.csr = csr;
	in.csr_len = csr_len;
	in.chain = req->chain;
	in.chain_len = req->chain_len;
	in.n_chain = req->n_chain;
	in.username = user;
	in.code = code;
	in.reenroll = op == EST_OP_SIMPLEREENROLL;
	in.tls_unique = req->tls_unique;
	in.tls_unique_len = req->tls_unique_len;
	in.peer = req->peer;
	if ((r = be->enroll(be->ctx, &in, &out, err, sizeof(err))) != 0) {
		size_t n;
		r = est_answer_backend(resp, r, err);
		/* what the client brought, for the log: signetd's refusal is about it */
		n = strlen(resp->note);
		snprintf(resp->note + n, sizeof(resp->note) - n, " (%zu client cert(s), %s%s)",
			 req->n_chain, code[0] ? "code" : "no code",
			 req->tls_unique_len ? ", tls-unique" : "");
	} else if (out.retry_after != 0) {
		/* RFC 7030 4.2.3: accepted, not yet issued */
		r = est_answer(resp, 202, "pending: retry after %u s", out.retry_after);
		est_header(resp, "Retry-After", "%u", out.retry_after);
	} else if ((r = est_base64(resp, EST_TYPE_PKCS7, out.pkcs7, out.pkcs7_len)) == 0) {
		snprintf(resp->note, sizeof(resp->note), "%s issued (%zu client cert(s), %s%s)",
			 in.reenroll ? "re-enrolment" : "enrolment", req->n_chain,
			 code[0] ? "code" : "no code", req->tls_unique_len ? ", tls-unique" : "");
	}
out:
	explicit_bzero(code, sizeof(code));
	free(csr);
	free(out.pkcs7);
	return r;
}

int est_handle(const struct gw_config *cfg, const struct est_backend *be,
	       const struct est_request *req, struct scep_response *resp)
{
	char enrolment[GW_NAME_MAX + 1];
	enum est_op op;
	int post = strcmp(req->method, "POST") == 0;

	memset(resp, 0, sizeof(*resp));
	/* codes and certificates never travel in the clear, whatever the listener */
	if (!req->tls || be == NULL || est_route(cfg, req->url, enrolment, &op) != 0)
		return est_answer(resp, 404, "no EST enrolment here");
	if (op == EST_OP_SIMPLEENROLL || op == EST_OP_SIMPLEREENROLL) {
		if (!post)
			return est_answer(resp, 405, "%s takes POST", req->url);
		return est_enroll(be, enrolment, op, req, resp);
	}
	if (strcmp(req->method, "GET") != 0)
		return est_answer(resp, 405, "%s takes GET", req->url);
	if (op == EST_OP_CACERTS)
		return est_cacerts(be, enrolment, resp);
	return est_csrattrs(be, enrolment, resp);
}
