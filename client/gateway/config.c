/* signet-gatewayd's configuration file. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <signet/signet.h>

static int gw_config_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int gw_config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SIGNET_E_INVALID_ARGUMENT;
}

int gw_config_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	/* a letter or digit first: never "." or "..", whatever the URL */
	if (n == 0 || n > GW_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '_')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int gw_config_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hl;
	unsigned char addr[16];
	char *end;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return SIGNET_E_INVALID_ARGUMENT;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || strchr(s, ':') != colon)
			return SIGNET_E_INVALID_ARGUMENT;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return SIGNET_E_INVALID_ARGUMENT;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(s[0] == '[' ? AF_INET6 : AF_INET, host, addr) != 1)
		return SIGNET_E_INVALID_ARGUMENT;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || p < 1 || p > 65535)
		return SIGNET_E_INVALID_ARGUMENT;
	*port = (uint16_t)p;
	return 0;
}

/* A string setting into a fixed buffer: absent leaves the default. */
static int gw_config_string(config_t *c, const char *key, char *dst, size_t dstlen, char *err,
			    size_t errlen)
{
	config_setting_t *s = config_lookup(c, key);
	const char *v;

	if (s == NULL)
		return 0;
	if ((v = config_setting_get_string(s)) == NULL)
		return gw_config_error(err, errlen, "line %d: %s must be a string",
				       config_setting_source_line(s), key);
	if (strlen(v) >= dstlen)
		return gw_config_error(err, errlen, "line %d: %s is longer than %zu characters",
				       config_setting_source_line(s), key, dstlen - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* A non-negative integer setting within [lo, hi]. */
static int gw_config_uint(config_t *c, const char *key, long long lo, long long hi, long long *val,
			  char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(c, key);
	long long v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return gw_config_error(err, errlen, "line %d: %s must be an integer",
				       config_setting_source_line(s), key);
	v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return gw_config_error(err, errlen, "line %d: %s must be %lld to %lld",
				       config_setting_source_line(s), key, lo, hi);
	*val = v;
	return 0;
}

/* signetd.endpoints: a list of strings (or one string), joined with commas. */
static int gw_config_endpoints(config_t *c, struct gw_config *cfg, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(c, "signetd.endpoints");
	size_t len = 0, i, n;
	const char *v;

	if (s == NULL)
		return (cfg->endpoints = strdup(SIGNET_DEFAULT_ENDPOINT)) ? 0 : SIGNET_E_NOMEM;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return (cfg->endpoints = strdup(config_setting_get_string(s))) ? 0 : SIGNET_E_NOMEM;
	n = (size_t)config_setting_length(s);
	if (!config_setting_is_aggregate(s) || n == 0)
		return gw_config_error(err, errlen,
				       "line %d: signetd.endpoints must be a list of "
				       "strings",
				       config_setting_source_line(s));
	for (i = 0; i < n; i++) {
		if ((v = config_setting_get_string_elem(s, (int)i)) == NULL)
			return gw_config_error(err, errlen,
					       "line %d: signetd.endpoints must be a "
					       "list of strings",
					       config_setting_source_line(s));
		len += strlen(v) + 1;
	}
	if ((cfg->endpoints = calloc(1, len)) == NULL)
		return SIGNET_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(cfg->endpoints, ",");
		strcat(cfg->endpoints, config_setting_get_string_elem(s, (int)i));
	}
	return 0;
}

static int gw_config_enrolments(config_t *c, struct gw_config *cfg, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(c, "scep.enrolments");
	const char *v;
	int i, n;

	if (s == NULL)
		return 0;
	n = config_setting_length(s);
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return gw_config_error(err, errlen,
				       "line %d: scep.enrolments must be a list of names",
				       config_setting_source_line(s));
	if (n > GW_ENROLMENTS_MAX)
		return gw_config_error(err, errlen, "line %d: at most %d enrolments",
				       config_setting_source_line(s), GW_ENROLMENTS_MAX);
	for (i = 0; i < n; i++) {
		v = config_setting_get_string_elem(s, i);
		if (v == NULL || !gw_config_name_ok(v))
			return gw_config_error(err, errlen,
					       "line %d: scep.enrolments: '%s' is not "
					       "an enrolment name (1 to 64 of A-Z a-z 0-9 . _ -)",
					       config_setting_source_line(s),
					       v ? v : "(not a string)");
		memcpy(cfg->enrolments[i], v, strlen(v) + 1);
	}
	cfg->n_enrolments = (size_t)n;
	return 0;
}

/* est.labels: a group of LABEL = "ENROLMENT", both names. */
static int gw_config_est_labels(config_t *c, struct gw_config *cfg, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(c, "est.labels"), *e;
	const char *name, *v;
	int i, n;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return gw_config_error(err, errlen,
				       "line %d: est.labels must be a group of "
				       "label = \"enrolment\"",
				       config_setting_source_line(s));
	if ((n = config_setting_length(s)) > GW_ENROLMENTS_MAX)
		return gw_config_error(err, errlen, "line %d: at most %d labels",
				       config_setting_source_line(s), GW_ENROLMENTS_MAX);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(e);
		v = config_setting_get_string(e);
		if (!gw_config_name_ok(name) || v == NULL || !gw_config_name_ok(v))
			return gw_config_error(err, errlen,
					       "line %d: est.labels.%s must be an enrolment name "
					       "(1 to 64 of A-Z a-z 0-9 . _ -)",
					       config_setting_source_line(e), name);
		memcpy(cfg->est_labels[i].label, name, strlen(name) + 1);
		memcpy(cfg->est_labels[i].enrolment, v, strlen(v) + 1);
	}
	cfg->n_est_labels = (size_t)n;
	return 0;
}

static int gw_config_est(config_t *c, struct gw_config *cfg, char *err, size_t errlen)
{
	config_setting_t *s = config_lookup(c, "est.enabled");
	int r;

	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return gw_config_error(err, errlen,
					       "line %d: est.enabled must be true or false",
					       config_setting_source_line(s));
		cfg->est_enabled = config_setting_get_bool(s);
	}
	if ((r = gw_config_string(c, "est.default", cfg->est_default, sizeof(cfg->est_default), err,
				  errlen)) != 0 ||
	    (r = gw_config_est_labels(c, cfg, err, errlen)) != 0)
		return r;
	if (cfg->est_default[0] != '\0' && !gw_config_name_ok(cfg->est_default))
		return gw_config_error(err, errlen, "est.default '%s' is not an enrolment name",
				       cfg->est_default);
	return 0;
}

/* The URL prefix: absolute, no trailing '/', no query, no '..'. */
static int gw_config_check_path(const char *p, char *err, size_t errlen)
{
	size_t n = strlen(p);

	if (n < 2 || p[0] != '/' || p[n - 1] == '/' || strpbrk(p, "?#%") != NULL ||
	    strstr(p, "//") != NULL || strstr(p, "/.") != NULL)
		return gw_config_error(err, errlen, "scep.path '%s' must look like \"/scep\"", p);
	return 0;
}

static int gw_config_defaults(struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->listen_host, "127.0.0.1", sizeof("127.0.0.1"));
	cfg->listen_port = 8080;
	cfg->timeout_ms = 10000;
	memcpy(cfg->path, "/scep", sizeof("/scep"));
	cfg->max_body = 65536;
	cfg->max_connections = 64;
	cfg->per_source_per_minute = 600;
	return 0;
}

static int gw_config_read(config_t *c, struct gw_config *cfg, char *err, size_t errlen)
{
	char listen[128] = "";
	long long v;
	int r;

	if ((r = gw_config_string(c, "listen", listen, sizeof(listen), err, errlen)) != 0)
		return r;
	if (listen[0] != '\0' &&
	    gw_config_parse_listen(listen, cfg->listen_host, sizeof(cfg->listen_host),
				   &cfg->listen_port) != 0)
		return gw_config_error(err, errlen,
				       "listen '%s' must be \"IPV4:PORT\" or "
				       "\"[IPV6]:PORT\" (numeric)",
				       listen);
	if ((r = gw_config_string(c, "user", cfg->user, sizeof(cfg->user), err, errlen)) != 0 ||
	    (r = gw_config_endpoints(c, cfg, err, errlen)) != 0 ||
	    (r = gw_config_string(c, "signetd.client", cfg->client, sizeof(cfg->client), err,
				  errlen)) != 0 ||
	    (r = gw_config_string(c, "signetd.secret_file", cfg->secret_file,
				  sizeof(cfg->secret_file), err, errlen)) != 0 ||
	    (r = gw_config_string(c, "scep.path", cfg->path, sizeof(cfg->path), err, errlen)) !=
		    0 ||
	    (r = gw_config_string(c, "scep.default", cfg->default_enrolment,
				  sizeof(cfg->default_enrolment), err, errlen)) != 0 ||
	    (r = gw_config_enrolments(c, cfg, err, errlen)) != 0 ||
	    (r = gw_config_string(c, "tls.certificate", cfg->tls_certificate,
				  sizeof(cfg->tls_certificate), err, errlen)) != 0 ||
	    (r = gw_config_string(c, "tls.key", cfg->tls_key, sizeof(cfg->tls_key), err, errlen)) !=
		    0 ||
	    (r = gw_config_string(c, "tls.client_anchors", cfg->tls_client_anchors,
				  sizeof(cfg->tls_client_anchors), err, errlen)) != 0 ||
	    (r = gw_config_est(c, cfg, err, errlen)) != 0)
		return r;
	v = cfg->timeout_ms;
	if ((r = gw_config_uint(c, "signetd.timeout_ms", 100, 600000, &v, err, errlen)) != 0)
		return r;
	cfg->timeout_ms = (int)v;
	v = (long long)cfg->max_body;
	if ((r = gw_config_uint(c, "limits.max_body", 1024, 16 << 20, &v, err, errlen)) != 0)
		return r;
	cfg->max_body = (size_t)v;
	v = cfg->max_connections;
	if ((r = gw_config_uint(c, "limits.max_connections", 1, 4096, &v, err, errlen)) != 0)
		return r;
	cfg->max_connections = (unsigned)v;
	v = cfg->per_source_per_minute;
	if ((r = gw_config_uint(c, "limits.per_source_per_minute", 0, 1000000, &v, err, errlen)) !=
	    0)
		return r;
	cfg->per_source_per_minute = (unsigned)v;
	return 0;
}

/* What must be there and must agree with the rest. */
static int gw_config_check(const struct gw_config *cfg, char *err, size_t errlen)
{
	size_t i;
	int r;

	if (cfg->client[0] == '\0' || cfg->secret_file[0] == '\0')
		return gw_config_error(err, errlen,
				       "signetd.client and signetd.secret_file are "
				       "required: the gateway is a signetd client with its own "
				       "credential");
	if ((r = gw_config_check_path(cfg->path, err, errlen)) != 0)
		return r;
	if ((cfg->tls_certificate[0] == '\0') != (cfg->tls_key[0] == '\0'))
		return gw_config_error(err, errlen, "tls.certificate and tls.key go together");
	/* EST sends codes and issues certificates on a TLS client's word: never in the clear */
	if (cfg->est_enabled && cfg->tls_certificate[0] == '\0')
		return gw_config_error(err, errlen,
				       "est.enabled needs tls.certificate and tls.key: EST is "
				       "served over HTTPS only");
	if (cfg->est_enabled && cfg->est_default[0] == '\0' && cfg->n_est_labels == 0)
		return gw_config_error(err, errlen, "est.enabled needs est.default or est.labels");
	if (cfg->tls_client_anchors[0] != '\0' && cfg->tls_certificate[0] == '\0')
		return gw_config_error(err, errlen, "tls.client_anchors needs tls.certificate");
	if (cfg->default_enrolment[0] == '\0')
		return 0;
	if (!gw_config_name_ok(cfg->default_enrolment))
		return gw_config_error(err, errlen, "scep.default '%s' is not an enrolment name",
				       cfg->default_enrolment);
	if (cfg->n_enrolments == 0)
		return 0;
	for (i = 0; i < cfg->n_enrolments; i++)
		if (strcmp(cfg->enrolments[i], cfg->default_enrolment) == 0)
			return 0;
	return gw_config_error(err, errlen, "scep.default '%s' is not in scep.enrolments",
			       cfg->default_enrolment);
}

int gw_config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen)
{
	config_t c;
	int r;

	gw_config_defaults(cfg);
	config_init(&c);
	if (config_read_file(&c, path) != CONFIG_TRUE) {
		if (config_error_type(&c) == CONFIG_ERR_FILE_IO) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			r = SIGNET_E_NOT_FOUND;
		} else {
			r = gw_config_error(err, errlen, "%s:%d: %s", path, config_error_line(&c),
					    config_error_text(&c));
		}
		goto out;
	}
	if ((r = gw_config_read(&c, cfg, err, errlen)) == 0)
		r = gw_config_check(cfg, err, errlen);
	if (r == SIGNET_E_INVALID_ARGUMENT && strncmp(err, path, strlen(path)) != 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: %s", path, err);
		snprintf(err, errlen, "%s", msg);
	}
out:
	config_destroy(&c);
	return r;
}

void gw_config_free(struct gw_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->endpoints);
	cfg->endpoints = NULL;
}
