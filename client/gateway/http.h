/*
 * The HTTP side of signet-gatewayd, on libmicrohttpd: one thread per
 * connection (a PKIOperation waits for signetd), at most max_connections of
 * them, bodies at most max_body bytes, a per-source rate limit.
 */
#ifndef SIGNET_GATEWAY_HTTP_H
#define SIGNET_GATEWAY_HTTP_H

#include <stddef.h>

#include "config.h"
#include "est.h"
#include "ratelimit.h"
#include "scep.h"
#include "tls.h"

struct http_server;

/*
 * Bind and listen on cfg->listen_host:listen_port (done as root, before the
 * privilege drop, so a port below 1024 works). The socket, or -1 with a
 * message in err.
 */
int http_listen(const struct gw_config *cfg, char *err, size_t errlen);

/*
 * Serve SCEP on the listening socket `fd` (taken over) with `be`, and EST
 * (URLs under EST_PATH, HTTPS only) with `est` (NULL: none), over TLS when
 * tls->certificate is set (libmicrohttpd's GnuTLS), asking for a client
 * certificate when tls->client_anchors is set; cfg, be, est, rl and tls must
 * outlive the server. NULL with a message in err.
 */
struct http_server *http_start(int fd, const struct gw_config *cfg, const struct scep_backend *be,
			       const struct est_backend *est, struct ratelimit *rl,
			       const struct gw_tls *tls, char *err, size_t errlen);

/* Stop accepting, wait for the requests in progress, free. NULL is fine. */
void http_stop(struct http_server *srv);

/*
 * What a request may bring, decided from its headers before any body is
 * read: 0 to go on, or the HTTP status to answer at once (413 when
 * Content-Length says more than max_body, 400 for a Content-Length that is
 * not a number).
 */
int http_check_length(const char *content_length, size_t max_body);

#endif
