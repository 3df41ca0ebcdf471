/*
 * The gateway's TLS certificate and key (optional: SCEP clients speak plain
 * HTTP), read into memory before the privilege drop, so the key file may
 * stay root's.
 */
#ifndef SIGNET_GATEWAY_TLS_H
#define SIGNET_GATEWAY_TLS_H

#include <stddef.h>

#include "config.h"

#define GW_TLS_FILE_MAX (1 << 20) /* a PEM chain and key are a few KB */

struct gw_tls {
	char *certificate; /* PEM, NUL-terminated; NULL: plain HTTP */
	char *key;	   /* PEM; wiped by gw_tls_clear() */
	/*
	 * PEM CAs the server names when it asks for a client certificate
	 * (EST): tls.client_anchors, or the server's own chain when unset.
	 * Only a hint to the client: the gateway does not verify the client's
	 * chain, signetd does. NULL: no client certificate is asked for.
	 */
	char *client_anchors;
};

/*
 * Read cfg->tls_certificate and cfg->tls_key into *tls (both NULL when the
 * config has no tls group), and with est.enabled the client anchors. The key file must not be open
 * to group or others (mode & 077), as with the client secret. 0, or -1 with a message in err; *tls
 * is then empty.
 */
int gw_tls_load(const struct gw_config *cfg, struct gw_tls *tls, char *err, size_t errlen);

/* Wipe the key and free both. NULL is fine. */
void gw_tls_clear(struct gw_tls *tls);

#endif
