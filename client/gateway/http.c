/* libmicrohttpd glue: sockets, bodies within bounds, rate limits, answers. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "log.h"

#define HTTP_CONNECTION_TIMEOUT_S 30 /* a slow client holds a thread no longer */

struct http_server {
	struct MHD_Daemon *mhd;
	const struct gw_config *cfg;
	const struct scep_backend *be;
	const struct est_backend *est;
	struct ratelimit *rl;
};

/* One request's state between libmicrohttpd's calls. */
struct http_req {
	uint8_t *body;
	size_t len;
	char peer[INET6_ADDRSTRLEN];
};

int http_listen(const struct gw_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	int v6 = strchr(cfg->listen_host, ':') != NULL, fd, one = 1;
	socklen_t sl;

	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(cfg->listen_port);
		inet_pton(AF_INET6, cfg->listen_host, &in6->sin6_addr);
		sl = sizeof(*in6);
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(cfg->listen_port);
		inet_pton(AF_INET, cfg->listen_host, &in4->sin_addr);
		sl = sizeof(*in4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
		snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", v6 ? "[" : "",
			 cfg->listen_host, v6 ? "]" : "", cfg->listen_port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int http_check_length(const char *content_length, size_t max_body)
{
	unsigned long long n;
	char *end;

	if (content_length == NULL)
		return 0;
	errno = 0;
	n = strtoull(content_length, &end, 10);
	if (content_length[0] < '0' || content_length[0] > '9' || *end != '\0' || errno != 0)
		return 400;
	return n > max_body ? 413 : 0;
}

static double http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void http_peer(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, outlen, "?");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  (socklen_t)outlen);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)outlen);
}

/* Send resp (its body is handed to libmicrohttpd) and log the request. */
static enum MHD_Result http_send(struct MHD_Connection *conn, const char *peer, const char *method,
				 const char *url, const char *op, struct scep_response *resp)
{
	struct MHD_Response *mr;
	enum MHD_Result ok;
	char eurl[160], eop[40], etid[140], enote[300];

	/* the URL, the operation and the transactionID come from the peer */
	gw_log("%s %s %s op=%s -> %d%s%s (%s)", peer, method,
	       gw_log_escape(url, eurl, sizeof(eurl)),
	       op ? gw_log_escape(op, eop, sizeof(eop)) : "-", resp->status,
	       resp->transaction_id[0] ? " transactionID=" : "",
	       gw_log_escape(resp->transaction_id, etid, sizeof(etid)),
	       gw_log_escape(resp->note, enote, sizeof(enote)));
	mr = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (mr == NULL)
		return MHD_NO;
	resp->body = NULL; /* libmicrohttpd frees it */
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	for (size_t i = 0; i < resp->n_headers; i++)
		MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
	ok = MHD_queue_response(conn, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	return ok;
}

static enum MHD_Result http_refuse(struct MHD_Connection *conn, const char *peer,
				   const char *method, const char *url, int status, const char *why)
{
	const char *op = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "operation");
	struct scep_response resp = {0};
	size_t n = strlen(why);
	enum MHD_Result ok;

	resp.status = status;
	resp.content_type = "text/plain";
	snprintf(resp.note, sizeof(resp.note), "%s", why);
	if ((resp.body = malloc(n + 1)) == NULL)
		return MHD_NO;
	memcpy(resp.body, why, n);
	resp.body[n] = '\n';
	resp.body_len = n + 1;
	ok = http_send(conn, peer, method, url, op, &resp);
	scep_response_clear(&resp);
	return ok;
}

/* The first call, headers only: rate limit and declared size, before any body. */
static enum MHD_Result http_begin(struct http_server *srv, struct MHD_Connection *conn,
				  const char *method, const char *url, void **con_cls)
{
	struct http_req *rq;
	int status;

	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return MHD_NO;
	*con_cls = rq;
	http_peer(conn, rq->peer, sizeof(rq->peer));
	if (!ratelimit_allow(srv->rl, rq->peer, http_now()))
		return http_refuse(conn, rq->peer, method, url, 429,
				   "too many requests from this address");
	status = http_check_length(
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH),
		srv->cfg->max_body);
	if (status == 413)
		return http_refuse(conn, rq->peer, method, url, 413, "request body too large");
	if (status != 0)
		return http_refuse(conn, rq->peer, method, url, status, "bad Content-Length");
	return MHD_YES;
}

/* A piece of the body: kept while within max_body (a chunked body has no length up front). */
static enum MHD_Result http_body(struct http_server *srv, struct http_req *rq, const char *data,
				 size_t *size)
{
	uint8_t *nb;

	if (*size > srv->cfg->max_body - rq->len) {
		/* too late for an answer (libmicrohttpd is reading the body): drop the connection
		 */
		gw_log("%s: body over %zu bytes, connection closed", rq->peer, srv->cfg->max_body);
		return MHD_NO;
	}
	if ((nb = realloc(rq->body, rq->len + *size)) == NULL)
		return MHD_NO;
	memcpy(nb + rq->len, data, *size);
	rq->body = nb;
	rq->len += *size;
	*size = 0;
	return MHD_YES;
}

/*
 * The TLS side of an EST request: the client's chain as presented (not
 * verified here: signetd decides) and tls-unique under TLS 1.2 (RFC 7030
 * 3.5; TLS 1.3 has none). *cb is gnutls_free()d by the caller.
 */
static void http_tls_peer(struct MHD_Connection *conn, struct est_request *req, gnutls_datum_t *cb)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
	const gnutls_datum_t *peers;
	unsigned n = 0, i;

	if (s == NULL)
		return;
	req->tls = 1;
	if ((peers = gnutls_certificate_get_peers(s, &n)) != NULL)
		for (i = 0; i < n && i < EST_CHAIN_MAX; i++) {
			req->chain[i] = peers[i].data;
			req->chain_len[i] = peers[i].size;
			req->n_chain++;
		}
	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3 &&
	    gnutls_session_channel_binding(s, GNUTLS_CB_TLS_UNIQUE, cb) == GNUTLS_E_SUCCESS) {
		req->tls_unique = cb->data;
		req->tls_unique_len = cb->size;
	}
}

static enum MHD_Result http_est(struct http_server *srv, struct MHD_Connection *conn,
				struct http_req *rq, const char *method, const char *url)
{
	struct est_request req = {0};
	struct scep_response resp = {0};
	gnutls_datum_t cb = {NULL, 0};
	enum MHD_Result ok = MHD_NO;

	req.method = method;
	req.url = url;
	req.authorization =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req.body = rq->body;
	req.body_len = rq->len;
	req.peer = rq->peer;
	http_tls_peer(conn, &req, &cb);
	if (est_handle(srv->cfg, srv->est, &req, &resp) == 0)
		ok = http_send(conn, rq->peer, method, url, NULL, &resp);
	scep_response_clear(&resp);
	gnutls_free(cb.data);
	return ok;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_req *rq = *con_cls;
	struct scep_request req = {0};
	struct scep_response resp = {0};
	enum MHD_Result ok;

	(void)version;
	if (rq == NULL)
		return http_begin(srv, conn, method, url, con_cls);
	if (*upload_data_size != 0)
		return http_body(srv, rq, upload_data, upload_data_size);
	if (strncmp(url, EST_PATH, strlen(EST_PATH)) == 0)
		return http_est(srv, conn, rq, method, url);
	req.method = method;
	req.url = url;
	req.operation = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "operation");
	req.message = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "message");
	req.body = rq->body;
	req.body_len = rq->len;
	req.peer = rq->peer;
	if (scep_handle(srv->cfg, srv->be, &req, &resp) != 0) {
		scep_response_clear(&resp);
		return MHD_NO;
	}
	ok = http_send(conn, rq->peer, method, url, req.operation, &resp);
	scep_response_clear(&resp);
	return ok;
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct http_req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	gw_log("http: %s", line);
}

struct http_server *http_start(int fd, const struct gw_config *cfg, const struct scep_backend *be,
			       const struct est_backend *est, struct ratelimit *rl,
			       const struct gw_tls *tls, char *err, size_t errlen)
{
	struct MHD_OptionItem tls_options[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, tls ? tls->certificate : NULL},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, tls ? tls->key : NULL},
		/* with a trust list libmicrohttpd asks for (does not require, does not verify) a
		   client certificate: EST's bootstrap or current certificate */
		{MHD_OPTION_HTTPS_MEM_TRUST, 0, tls ? tls->client_anchors : NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	struct http_server *srv;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ERROR_LOG;

	if (strchr(cfg->listen_host, ':') != NULL)
		flags |= MHD_USE_IPv6;
	if (tls != NULL && tls->certificate != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "tls: this libmicrohttpd has no TLS support");
			close(fd);
			return NULL;
		}
		flags |= MHD_USE_TLS;
		if (tls->client_anchors == NULL)
			tls_options[2].option = MHD_OPTION_END;
	} else {
		tls_options[0].option = MHD_OPTION_END; /* plain HTTP */
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	srv->cfg = cfg;
	srv->be = be;
	srv->est = est;
	srv->rl = rl;
	/* the logger first: libmicrohttpd logs option errors as it reads them */
	srv->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, srv, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log,
		NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, http_completed,
		NULL, MHD_OPTION_ARRAY, tls_options, MHD_OPTION_END);
	if (srv->mhd == NULL) {
		snprintf(err, errlen,
			 "cannot start the HTTP server (libmicrohttpd%s; its log says why)",
			 (flags & MHD_USE_TLS) ? ", TLS" : "");
		close(fd);
		free(srv);
		return NULL;
	}
	return srv;
}

void http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->mhd);
	free(srv);
}
