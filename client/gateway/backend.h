/*
 * The gateway's way to signetd: libsignet clients with the gateway's own
 * credential, one per request in flight, kept in a pool for the next.
 */
#ifndef SIGNET_GATEWAY_BACKEND_H
#define SIGNET_GATEWAY_BACKEND_H

#include "config.h"
#include "est.h"
#include "scep.h"

struct backend;

/*
 * A pool connecting to cfg->endpoints as cfg->client with the secret in
 * cfg->secret_file (cfg must outlive it). One client is made at once, so a
 * missing or unreadable secret fails at start-up; signetd itself need not be
 * up (nanomsg connects lazily). NULL with a message in err.
 */
struct backend *backend_new(const struct gw_config *cfg, char *err, size_t errlen);
void backend_free(struct backend *be);

/* The scep_backend whose calls go through `be`. */
void backend_scep(struct backend *be, struct scep_backend *out);

/* The est_backend whose calls go through `be`. */
void backend_est(struct backend *be, struct est_backend *out);

#endif
