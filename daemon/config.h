/*
 * signetd's configuration file, parsed with libconfig. See
 * packaging/signetd.conf.example for every setting and docs/configuration.md.
 */
#ifndef SIGNETD_CONFIG_H
#define SIGNETD_CONFIG_H

#include <stddef.h>

#include "log.h"
#include "p11uri.h"

#define CONFIG_MAX_ENDPOINTS	   8
#define CONFIG_MAX_WORKERS	   256
#define CONFIG_DEFAULT_MAX_MESSAGE (1024 * 1024)
#define CONFIG_MIN_MESSAGE	   1024
#define CONFIG_MAX_MESSAGE	   (64 * 1024 * 1024)

struct config {
	/* token { ... } */
	char *module_path;   /* absolute path of the PKCS#11 module */
	struct p11uri token; /* from token.uri, or token.label / token.serial */
	char *pin_file;	     /* absolute path; never the PIN itself */
	/* server { ... } */
	char *endpoints[CONFIG_MAX_ENDPOINTS]; /* "ipc://..." or "tcp://..." */
	size_t n_endpoints;
	unsigned workers;	 /* 0 in the file means: number of online CPUs */
	size_t max_message_size; /* bytes; requests above it are refused */
	/* top level */
	char *state_dir;
	enum log_level log_level;
};

/*
 * Load and validate `path`. On error returns -1 and writes a message naming
 * the file, line (when libconfig knows it) and setting into err. On success
 * every field is set (defaults applied) and must be released with
 * config_free(). Validation: module_path and pin_file absolute; exactly one
 * of token.uri / token.label+serial style selection (uri wins if both are
 * given is NOT allowed: both is an error); at least one endpoint, each
 * starting with ipc:// or tcp://; 0 <= workers <= CONFIG_MAX_WORKERS;
 * CONFIG_MIN_MESSAGE <= max_message_size <= CONFIG_MAX_MESSAGE; log_level one
 * of error/warn/info/debug; unknown settings are refused (typos must not be
 * silently ignored).
 */
int config_load(const char *path, struct config *out, char *err, size_t errlen);

/* Release everything config_load() allocated; safe on a zeroed struct. */
void config_free(struct config *cfg);

#endif
