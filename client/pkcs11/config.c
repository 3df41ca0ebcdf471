/*
 * The module's configuration: which signetd instances are its slots and as
 * which client it calls them. A libconfig file, as signetd's own:
 *
 *   endpoints = [ "ipc:///run/signet/signetd.sock" ];   # one slot each
 *   client = "mqtt-gw";  secret_file = "/etc/signet/mqtt-gw.key";
 *   label = "signet";  keys = [ "device-1" ];  timeout_ms = 5000;  retries = 1;
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "p11.h"

#define P11_CONFIG_ENV	   "SIGNET_PKCS11_CONFIG"
#define P11_CONFIG_DEFAULT "/etc/signet/pkcs11.conf"

static CK_RV cfg_error(char *err, size_t errlen, CK_RV rv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rv;
}

static CK_RV cfg_strdup(char **out, const char *s)
{
	return (*out = strdup(s)) == NULL ? CKR_HOST_MEMORY : CKR_OK;
}

/* `name`: a string or a list of strings, into `out` (at most `max`). */
static CK_RV cfg_strings(config_setting_t *root, const char *name, char **out, size_t max,
			 size_t *n, char *err, size_t errlen)
{
	config_setting_t *s = config_setting_get_member(root, name);
	int count;

	*n = 0;
	if (s == NULL)
		return CKR_OK;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return (*n = 1, cfg_strdup(&out[0], config_setting_get_string(s)));
	if (!config_setting_is_aggregate(s))
		return cfg_error(err, errlen, CKR_ARGUMENTS_BAD, "%s: a list of strings", name);
	count = config_setting_length(s);
	if (count < 0 || (size_t)count > max)
		return cfg_error(err, errlen, CKR_ARGUMENTS_BAD, "%s: at most %zu", name, max);
	for (int i = 0; i < count; i++) {
		const char *v = config_setting_get_string_elem(s, i);

		if (v == NULL || *v == '\0')
			return cfg_error(err, errlen, CKR_ARGUMENTS_BAD,
					 "%s[%d]: a non-empty string", name, i);
		if (cfg_strdup(&out[i], v) != CKR_OK)
			return CKR_HOST_MEMORY;
		*n = (size_t)i + 1;
	}
	return CKR_OK;
}

static CK_RV cfg_string(config_t *c, const char *name, char **out, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(c, name);

	if (s == NULL)
		return CKR_OK;
	if (config_setting_type(s) != CONFIG_TYPE_STRING || *config_setting_get_string(s) == '\0')
		return cfg_error(err, errlen, CKR_ARGUMENTS_BAD, "%s: a non-empty string", name);
	return cfg_strdup(out, config_setting_get_string(s));
}

static CK_RV cfg_fill(config_t *c, struct p11_config *cfg, char *err, size_t errlen)
{
	config_setting_t *root = config_root_setting(c);
	int v;
	CK_RV rv;

	if ((rv = cfg_strings(root, "endpoints", cfg->endpoints, P11_MAX_SLOTS, &cfg->n_endpoints,
			      err, errlen)) != CKR_OK ||
	    (rv = cfg_string(c, "client", &cfg->client, err, errlen)) != CKR_OK ||
	    (rv = cfg_string(c, "secret_file", &cfg->secret_file, err, errlen)) != CKR_OK ||
	    (rv = cfg_string(c, "label", &cfg->label, err, errlen)) != CKR_OK)
		return rv;
	if (config_setting_get_member(root, "keys") != NULL) {
		if ((cfg->keys = calloc(P11_MAX_KEYS, sizeof(char *))) == NULL)
			return CKR_HOST_MEMORY;
		if ((rv = cfg_strings(root, "keys", cfg->keys, P11_MAX_KEYS, &cfg->n_keys, err,
				      errlen)) != CKR_OK)
			return rv;
	}
	if (config_lookup_int(c, "timeout_ms", &v)) {
		if (v < 0)
			return cfg_error(err, errlen, CKR_ARGUMENTS_BAD, "timeout_ms: 0 or more");
		cfg->timeout_ms = v;
	}
	if (config_lookup_int(c, "retries", &v)) {
		if (v < 0 || v > 10)
			return cfg_error(err, errlen, CKR_ARGUMENTS_BAD, "retries: 0 to 10");
		cfg->retries = (unsigned)v;
	}
	if ((cfg->client == NULL) != (cfg->secret_file == NULL))
		return cfg_error(err, errlen, CKR_ARGUMENTS_BAD,
				 "client and secret_file go together");
	return CKR_OK;
}

/* What an absent setting means. */
static CK_RV cfg_defaults(struct p11_config *cfg)
{
	const char *env = getenv(SIGNET_ENDPOINT_ENV);

	if (cfg->n_endpoints == 0) {
		if (cfg_strdup(&cfg->endpoints[0],
			       env != NULL && *env != '\0' ? env : SIGNET_DEFAULT_ENDPOINT) !=
		    CKR_OK)
			return CKR_HOST_MEMORY;
		cfg->n_endpoints = 1;
	}
	if (cfg->label == NULL && cfg_strdup(&cfg->label, "signet") != CKR_OK)
		return CKR_HOST_MEMORY;
	if (cfg->timeout_ms == 0)
		cfg->timeout_ms = 10000;
	return CKR_OK;
}

static void cfg_init(struct p11_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->retries = 1; /* a restarted signetd costs one retry, not a failed handshake */
}

CK_RV p11_config_parse(const char *text, struct p11_config *cfg, char *err, size_t errlen)
{
	config_t c;
	CK_RV rv;

	cfg_init(cfg);
	config_init(&c);
	if (!config_read_string(&c, text))
		rv = cfg_error(err, errlen, CKR_ARGUMENTS_BAD, "line %d: %s", config_error_line(&c),
			       config_error_text(&c));
	else if ((rv = cfg_fill(&c, cfg, err, errlen)) == CKR_OK)
		rv = cfg_defaults(cfg);
	config_destroy(&c);
	if (rv != CKR_OK)
		p11_config_free(cfg);
	return rv;
}

CK_RV p11_config_load(const char *path, struct p11_config *cfg, char *err, size_t errlen)
{
	config_t c;
	CK_RV rv;

	if (path == NULL && (path = getenv(P11_CONFIG_ENV)) != NULL && *path == '\0')
		path = NULL;
	if (path == NULL && access(P11_CONFIG_DEFAULT, F_OK) == 0)
		path = P11_CONFIG_DEFAULT;
	cfg_init(cfg);
	if (path == NULL)
		return cfg_defaults(cfg) == CKR_OK ? CKR_OK
						   : (p11_config_free(cfg), CKR_HOST_MEMORY);
	config_init(&c);
	if (!config_read_file(&c, path))
		rv = cfg_error(err, errlen, CKR_ARGUMENTS_BAD, "%s:%d: %s", path,
			       config_error_line(&c),
			       config_error_text(&c) ? config_error_text(&c) : "cannot read");
	else if ((rv = cfg_fill(&c, cfg, err, errlen)) == CKR_OK)
		rv = cfg_defaults(cfg);
	config_destroy(&c);
	if (rv != CKR_OK)
		p11_config_free(cfg);
	return rv;
}

void p11_config_free(struct p11_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < P11_MAX_SLOTS; i++)
		free(cfg->endpoints[i]);
	if (cfg->keys != NULL)
		for (size_t i = 0; i < P11_MAX_KEYS; i++)
			free(cfg->keys[i]);
	free(cfg->keys);
	free(cfg->client);
	free(cfg->secret_file);
	free(cfg->label);
	cfg_init(cfg);
}
