/* libsignet clients for the gateway's requests, pooled. */
#include "backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signet/signet.h>

#define BACKEND_RETRIES 2 /* only calls libsignet deems safe to repeat are repeated */

struct backend {
	const struct gw_config *cfg;
	pthread_mutex_t lock;
	signet_client **idle;
	size_t n_idle, cap;
};

static int backend_connect(struct backend *be, signet_client **out, char *err, size_t errlen)
{
	signet_client *c = NULL;
	int r;

	*out = NULL;
	if ((r = signet_connect(be->cfg->endpoints, be->cfg->timeout_ms, &c)) != 0) {
		snprintf(err, errlen, "signetd endpoints '%s': %s", be->cfg->endpoints,
			 c ? signet_last_error(c) : signet_strerror(r));
		goto out;
	}
	if ((r = signet_load_credential(c, be->cfg->client, be->cfg->secret_file)) != 0) {
		snprintf(err, errlen, "credential: %s", signet_last_error(c));
		goto out;
	}
	if ((r = signet_set_retries(c, BACKEND_RETRIES)) != 0) {
		snprintf(err, errlen, "%s", signet_last_error(c));
		goto out;
	}
	*out = c;
	c = NULL;
out:
	signet_close(c);
	return r;
}

/* A client for one request: an idle one, or a new one. */
static int backend_acquire(struct backend *be, signet_client **out, char *err, size_t errlen)
{
	pthread_mutex_lock(&be->lock);
	*out = be->n_idle > 0 ? be->idle[--be->n_idle] : NULL;
	pthread_mutex_unlock(&be->lock);
	if (*out != NULL)
		return 0;
	return backend_connect(be, out, err, errlen);
}

/* Back to the pool, unless it is full: max_connections clients are all there can be in use. */
static void backend_release(struct backend *be, signet_client *c)
{
	pthread_mutex_lock(&be->lock);
	if (be->n_idle < be->cap) {
		be->idle[be->n_idle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&be->lock);
	signet_close(c);
}

struct backend *backend_new(const struct gw_config *cfg, char *err, size_t errlen)
{
	struct backend *be;
	signet_client *c;

	if ((be = calloc(1, sizeof(*be))) == NULL ||
	    (be->idle = calloc(cfg->max_connections, sizeof(*be->idle))) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(be);
		return NULL;
	}
	be->cfg = cfg;
	be->cap = cfg->max_connections;
	pthread_mutex_init(&be->lock, NULL);
	if (backend_connect(be, &c, err, errlen) != 0) {
		backend_free(be);
		return NULL;
	}
	backend_release(be, c);
	return be;
}

void backend_free(struct backend *be)
{
	if (be == NULL)
		return;
	while (be->n_idle > 0)
		signet_close(be->idle[--be->n_idle]);
	pthread_mutex_destroy(&be->lock);
	free(be->idle);
	free(be);
}

static int backend_dup(uint8_t **dst, size_t *dstlen, const struct signet_buf *src)
{
	if ((*dst = malloc(src->len ? src->len : 1)) == NULL)
		return SIGNET_E_NOMEM;
	memcpy(*dst, src->data, src->len);
	*dstlen = src->len;
	return 0;
}

/* GetCACaps lines, each with its newline, as RFC 8894 3.5.2 has them. */
static int backend_caps(const struct signet_enrolment_ca_certs *cc, char **out)
{
	size_t i, len = 1;

	for (i = 0; i < cc->n_capabilities; i++)
		len += strlen(cc->capabilities[i]) + 1;
	if ((*out = calloc(1, len)) == NULL)
		return SIGNET_E_NOMEM;
	for (i = 0; i < cc->n_capabilities; i++) {
		strcat(*out, cc->capabilities[i]);
		strcat(*out, "\n");
	}
	return 0;
}

static int backend_ca_certs(void *ctx, const char *enrolment, struct scep_ca_certs *out, char *err,
			    size_t errlen)
{
	struct backend *be = ctx;
	struct signet_enrolment_ca_certs *cc = NULL;
	signet_client *c;
	int r;

	if ((r = backend_acquire(be, &c, err, errlen)) != 0)
		return r;
	if ((r = signet_get_enrolment_ca_certs(c, enrolment, &cc)) != 0) {
		snprintf(err, errlen, "%s", signet_last_error(c));
		goto out;
	}
	if (cc->n_certificates == 0) {
		r = SIGNET_E_PROTOCOL;
		snprintf(err, errlen, "signetd sent no certificate for enrolment '%s'", enrolment);
		goto out;
	}
	out->n_certs = cc->n_certificates;
	if ((r = backend_dup(&out->first, &out->first_len, &cc->certificates[0])) != 0 ||
	    (r = backend_dup(&out->pkcs7, &out->pkcs7_len, &cc->pkcs7)) != 0 ||
	    (r = backend_caps(cc, &out->caps)) != 0) {
		snprintf(err, errlen, "out of memory");
		scep_ca_certs_clear(out);
	}
out:
	signet_enrolment_ca_certs_free(cc);
	backend_release(be, c);
	return r;
}

static int backend_operation(void *ctx, const char *enrolment, const uint8_t *msg, size_t len,
			     const char *peer, struct scep_op_result *out, char *err, size_t errlen)
{
	struct backend *be = ctx;
	struct signet_scep_reply *rep = NULL;
	signet_client *c;
	int r;

	if ((r = backend_acquire(be, &c, err, errlen)) != 0)
		return r;
	if ((r = signet_scep_operation(c, enrolment, msg, len, peer, &rep)) != 0) {
		snprintf(err, errlen, "%s", signet_last_error(c));
		goto out;
	}
	if ((r = backend_dup(&out->cert_rep, &out->cert_rep_len, &rep->cert_rep)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(out->transaction_id, sizeof(out->transaction_id), "%s",
		 rep->transaction_id ? rep->transaction_id : "");
	out->pki_status = (int)rep->pki_status;
	out->fail_info = (int)rep->fail_info;
out:
	signet_scep_reply_free(rep);
	backend_release(be, c);
	return r;
}

void backend_scep(struct backend *be, struct scep_backend *out)
{
	out->ctx = be;
	out->ca_certs = backend_ca_certs;
	out->operation = backend_operation;
}

static int backend_est_enroll(void *ctx, const struct est_enroll_in *in, struct est_enroll_out *out,
			      char *err, size_t errlen)
{
	struct backend *be = ctx;
	struct signet_buf chain[EST_CHAIN_MAX];
	struct signet_est_request req = {0};
	struct signet_est_reply *rep = NULL;
	signet_client *c;
	size_t i;
	int r;

	for (i = 0; i < in->n_chain && i < EST_CHAIN_MAX; i++) {
		chain[i].data = (uint8_t *)in->chain[i];
		chain[i].len = in->chain_len[i];
	}
	req.csr = in->csr;
	req.csr_len = in->csr_len;
	req.peer_chain = i > 0 ? chain : NULL;
	req.n_peer_chain = i;
	req.code = in->code;
	req.username = in->username;
	req.reenroll = in->reenroll;
	req.tls_unique = in->tls_unique;
	req.tls_unique_len = in->tls_unique_len;
	req.peer = in->peer;
	if ((r = backend_acquire(be, &c, err, errlen)) != 0)
		return r;
	if ((r = signet_est_enroll(c, in->enrolment, &req, &rep)) != 0) {
		snprintf(err, errlen, "%s", signet_last_error(c));
		goto out;
	}
	out->retry_after = rep->retry_after_seconds;
	if (out->retry_after == 0 &&
	    (r = backend_dup(&out->pkcs7, &out->pkcs7_len, &rep->pkcs7)) != 0)
		snprintf(err, errlen, "out of memory");
out:
	signet_est_reply_free(rep);
	backend_release(be, c);
	return r;
}

static int backend_est_csr_attrs(void *ctx, const char *enrolment, uint8_t **der, size_t *len,
				 char *err, size_t errlen)
{
	struct backend *be = ctx;
	uint8_t *d = NULL;
	signet_client *c;
	int r;

	*der = NULL;
	*len = 0;
	if ((r = backend_acquire(be, &c, err, errlen)) != 0)
		return r;
	if ((r = signet_get_enrolment_csr_attrs(c, enrolment, &d, len)) != 0) {
		snprintf(err, errlen, "%s", signet_last_error(c));
		goto out;
	}
	if (*len > 0) {
		/* the gateway's buffers are free()d; libsignet's want signet_free() */
		if ((*der = malloc(*len)) == NULL) {
			r = SIGNET_E_NOMEM;
			*len = 0;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		memcpy(*der, d, *len);
	}
out:
	signet_free(d);
	backend_release(be, c);
	return r;
}

void backend_est(struct backend *be, struct est_backend *out)
{
	out->ctx = be;
	out->ca_certs = backend_ca_certs;
	out->enroll = backend_est_enroll;
	out->csr_attrs = backend_est_csr_attrs;
}
