#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#define ENDPOINT_MAX_LEN 255
#define PATH_MAX_LEN	 4096

struct loader {
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct loader *l, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "FILE:LINE: " + message; libconfig knows the line of every setting. */
static int fail(struct loader *l, const config_setting_t *s, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (s != NULL && config_setting_source_line(s) > 0)
		snprintf(l->err, l->errlen, "%s:%u: ", l->file, config_setting_source_line(s));
	else
		snprintf(l->err, l->errlen, "%s: ", l->file);
	used = strlen(l->err);
	va_start(ap, fmt);
	vsnprintf(l->err + used, l->errlen - used, fmt, ap);
	va_end(ap);
	return -1;
}

/* Unknown settings are refused: a typo must not be silently ignored. */
static int only_known(struct loader *l, const config_setting_t *group, const char *where,
		      const char *const *known)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		int ok = 0;

		for (const char *const *k = known; *k != NULL && !ok; k++)
			ok = strcmp(*k, name) == 0;
		if (!ok && strcmp(name, "pin") == 0 && strcmp(where, "token") == 0)
			return fail(
				l, s,
				"token.pin: never put the PIN in the config; put it in pin_file");
		if (!ok)
			return fail(l, s, "%s%s%s: unknown setting", where, *where ? "." : "",
				    name);
	}
	return 0;
}

/* An optional string setting; *out stays NULL when absent. */
static int get_string(struct loader *l, const config_setting_t *group, const char *where,
		      const char *name, const char **out)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	*out = NULL;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(l, s, "%s.%s: must be a string", where, name);
	*out = config_setting_get_string(s);
	return 0;
}

static int get_path(struct loader *l, const config_setting_t *group, const char *where,
		    const char *name, char **out)
{
	const char *v;

	if (get_string(l, group, where, name, &v) != 0)
		return -1;
	if (v == NULL)
		return fail(l, group, "%s.%s: required", where, name);
	if (v[0] != '/' || strlen(v) > PATH_MAX_LEN)
		return fail(l, config_setting_get_member(group, name),
			    "%s.%s: must be an absolute path", where, name);
	*out = strdup(v);
	return *out != NULL ? 0 : fail(l, NULL, "out of memory");
}

static int load_token(struct loader *l, const config_setting_t *root, struct config *cfg)
{
	static const char *const known[] = {"module", "uri", "label", "serial", "pin_file", NULL};
	const config_setting_t *tok = config_setting_get_member(root, "token");
	const char *uri, *label, *serial;
	char uerr[256];

	if (tok == NULL || !config_setting_is_group(tok))
		return fail(l, tok, "token: required group { module, uri, pin_file }");
	if (only_known(l, tok, "token", known) != 0 ||
	    get_path(l, tok, "token", "module", &cfg->module_path) != 0 ||
	    get_path(l, tok, "token", "pin_file", &cfg->pin_file) != 0 ||
	    get_string(l, tok, "token", "uri", &uri) != 0 ||
	    get_string(l, tok, "token", "label", &label) != 0 ||
	    get_string(l, tok, "token", "serial", &serial) != 0)
		return -1;
	if (uri != NULL && (label != NULL || serial != NULL))
		return fail(l, tok, "token: give either uri or label/serial, not both");
	if (uri == NULL && label == NULL && serial == NULL)
		return fail(l, tok, "token: name the token with uri, or label and/or serial");
	if (uri != NULL) {
		if (p11uri_parse(uri, &cfg->token, uerr, sizeof(uerr)) != 0)
			return fail(l, config_setting_get_member(tok, "uri"), "token.uri: %s",
				    uerr);
		return 0;
	}
	memset(&cfg->token, 0, sizeof(cfg->token));
	if (label != NULL && snprintf(cfg->token.token, sizeof(cfg->token.token), "%s", label) >=
				     (int)sizeof(cfg->token.token))
		return fail(l, tok, "token.label: at most 32 characters");
	if (serial != NULL && snprintf(cfg->token.serial, sizeof(cfg->token.serial), "%s",
				       serial) >= (int)sizeof(cfg->token.serial))
		return fail(l, tok, "token.serial: at most 16 characters");
	return 0;
}

static int load_endpoints(struct loader *l, const config_setting_t *server, struct config *cfg)
{
	const config_setting_t *eps = config_setting_get_member(server, "endpoints");
	int n = eps != NULL ? config_setting_length(eps) : 0;

	if (eps == NULL || !(config_setting_is_array(eps) || config_setting_is_list(eps)) || n == 0)
		return fail(l, eps != NULL ? eps : server,
			    "server.endpoints: required, a list like [ "
			    "\"ipc:///run/signet/signetd.sock\" ]");
	if (n > CONFIG_MAX_ENDPOINTS)
		return fail(l, eps, "server.endpoints: at most %d", CONFIG_MAX_ENDPOINTS);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(eps, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING
					? config_setting_get_string(e)
					: NULL;

		if (v == NULL || strlen(v) > ENDPOINT_MAX_LEN ||
		    (strncmp(v, "ipc://", 6) != 0 && strncmp(v, "tcp://", 6) != 0) || strlen(v) < 7)
			return fail(l, e,
				    "server.endpoints[%d]: must be an ipc:// or tcp:// address", i);
		if ((cfg->endpoints[i] = strdup(v)) == NULL)
			return fail(l, NULL, "out of memory");
		cfg->n_endpoints = (size_t)i + 1;
	}
	return 0;
}

static int get_int(struct loader *l, const config_setting_t *group, const char *name, long long min,
		   long long max, long long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(l, s, "server.%s: must be a whole number", name);
	*out = config_setting_get_int64(s);
	if (*out < min || *out > max)
		return fail(l, s, "server.%s: must be between %lld and %lld", name, min, max);
	return 0;
}

static int load_server(struct loader *l, const config_setting_t *root, struct config *cfg)
{
	static const char *const known[] = {"endpoints", "workers", "max_message_size", NULL};
	const config_setting_t *server = config_setting_get_member(root, "server");
	long long workers = 0, maxmsg = CONFIG_DEFAULT_MAX_MESSAGE;
	long cpus;

	if (server == NULL || !config_setting_is_group(server))
		return fail(l, server, "server: required group { endpoints = [ ... ]; }");
	if (only_known(l, server, "server", known) != 0 || load_endpoints(l, server, cfg) != 0 ||
	    get_int(l, server, "workers", 0, CONFIG_MAX_WORKERS, &workers) != 0 ||
	    get_int(l, server, "max_message_size", CONFIG_MIN_MESSAGE, CONFIG_MAX_MESSAGE,
		    &maxmsg) != 0)
		return -1;
	if (workers == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		workers = cpus < 1 ? 1 : cpus > CONFIG_MAX_WORKERS ? CONFIG_MAX_WORKERS : cpus;
	}
	cfg->workers = (unsigned)workers;
	cfg->max_message_size = (size_t)maxmsg;
	return 0;
}

static int load_top(struct loader *l, const config_setting_t *root, struct config *cfg)
{
	static const char *const known[] = {"log_level", "state_dir", "token", "server", NULL};
	const char *level, *state_dir;

	if (only_known(l, root, "", known) != 0 ||
	    get_string(l, root, "", "log_level", &level) != 0 ||
	    get_string(l, root, "", "state_dir", &state_dir) != 0)
		return -1;
	cfg->log_level = LOG_LVL_INFO;
	if (level != NULL && log_level_from_name(level, &cfg->log_level) != 0)
		return fail(l, config_setting_get_member(root, "log_level"),
			    "log_level: one of error, warn, info, debug");
	if (state_dir != NULL && state_dir[0] != '/')
		return fail(l, config_setting_get_member(root, "state_dir"),
			    "state_dir: must be an absolute path");
	cfg->state_dir = strdup(state_dir != NULL ? state_dir : "/var/lib/signet");
	return cfg->state_dir != NULL ? 0 : fail(l, NULL, "out of memory");
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
	struct loader l = {.file = path, .err = err, .errlen = errlen};
	config_t cf;
	const config_setting_t *root;
	int r = -1;

	memset(out, 0, sizeof(*out));
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read the configuration file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
				 config_error_text(&cf));
		goto out;
	}
	root = config_root_setting(&cf);
	r = load_top(&l, root, out) == 0 && load_token(&l, root, out) == 0 &&
			    load_server(&l, root, out) == 0
		    ? 0
		    : -1;
out:
	config_destroy(&cf);
	if (r != 0)
		config_free(out);
	return r;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->module_path);
	free(cfg->pin_file);
	free(cfg->state_dir);
	for (size_t i = 0; i < cfg->n_endpoints; i++)
		free(cfg->endpoints[i]);
	memset(cfg, 0, sizeof(*cfg));
}
