#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libconfig.h>

#include "config/internal.h"
#include "records/sql.h"

#define DEFAULT_STATE_DIR "/var/lib/signet"
#define ENDPOINT_MAX_LEN  255
#define PATH_MAX_LEN	  4095 /* bytes before the NUL, as PATH_MAX */
/* nanomsg binds an ipc endpoint to a sockaddr_un: the path must fit with its NUL */
#define IPC_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Write "FILE:LINE: GROUP.NAME: " into l->err; returns its length. */
static size_t error_prefix(struct config_loader *l, const config_setting_t *at, const char *group,
			   const char *name)
{
	const char *file = config_setting_source_file(at); /* set inside an @include */
	unsigned line = config_setting_source_line(at);
	char line_part[16] = "";
	int n;

	if (line > 0) /* the root group has none */
		snprintf(line_part, sizeof(line_part), "%u:", line);
	n = snprintf(l->err, l->errlen, "%s:%s %s%s%s: ", file != NULL ? file : l->file, line_part,
		     group != NULL ? group : "", group != NULL && name != NULL ? "." : "",
		     name != NULL ? name : "");
	return n < 0 ? 0 : (size_t)n < l->errlen ? (size_t)n : l->errlen - 1;
}

/*
 * Refuse member `name` of `group` (or the group itself when name is NULL),
 * pointing at the member's line when it is there, else at the group's.
 */
int cfg_refuse(struct config_loader *l, const config_setting_t *group, const char *name,
	       const char *fmt, ...)
{
	const config_setting_t *at = name != NULL ? config_setting_get_member(group, name) : NULL;
	size_t used;
	va_list ap;

	if (l->errlen == 0)
		return -1;
	used = error_prefix(l, at != NULL ? at : group, config_setting_name(group), name);
	va_start(ap, fmt);
	vsnprintf(l->err + used, l->errlen - used, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_known(const char *name, const char *const *known)
{
	for (; *known != NULL; known++) {
		if (strcmp(name, *known) == 0)
			return true;
	}
	return false;
}

/* Unknown settings are refused: a typo must not be silently ignored. */
int cfg_only_known(struct config_loader *l, const config_setting_t *group, const char *const *known)
{
	char list[128] = "";

	for (int i = 0; i < config_setting_length(group); i++) {
		const char *name = config_setting_name(config_setting_get_elem(group, (unsigned)i));

		if (is_known(name, known))
			continue;
		for (const char *const *k = known; *k != NULL; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k == known ? "" : ", ", *k);
		return cfg_refuse(l, group, name, "unknown setting (known here: %s)", list);
	}
	return 0;
}

/* An optional string; *out stays NULL when the setting is absent. */
int cfg_get_string(struct config_loader *l, const config_setting_t *group, const char *name,
		   const char **out)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	*out = NULL;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_refuse(l, group, name, "must be a string in double quotes");
	*out = config_setting_get_string(s);
	return 0;
}

/*
 * An absolute path, copied into *out; `fallback` when absent, or required
 * when fallback is NULL. Relative paths would depend on the daemon's working
 * directory.
 */
static int get_path(struct config_loader *l, const config_setting_t *group, const char *name,
		    const char *fallback, char **out)
{
	const char *v;

	if (cfg_get_string(l, group, name, &v) != 0)
		return -1;
	if (v == NULL && fallback == NULL)
		return cfg_refuse(l, group, name, "required");
	if (v == NULL)
		v = fallback;
	if (v[0] != '/')
		return cfg_refuse(l, group, name, "must be an absolute path");
	if (strlen(v) > PATH_MAX_LEN)
		return cfg_refuse(l, group, name, "longer than %d bytes", PATH_MAX_LEN);
	if ((*out = strdup(v)) == NULL)
		return cfg_refuse(l, group, name, "out of memory");
	return 0;
}

/* Optional whole number in [min, max]; *out keeps its default when absent. */
int cfg_get_int(struct config_loader *l, const config_setting_t *group, const char *name,
		long long min, long long max, long long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	long long v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return cfg_refuse(l, group, name, "must be a whole number, without quotes");
	/* libconfig 1.5 wraps literals beyond int (write 64-bit ones with an L). */
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return cfg_refuse(l, group, name, "must be between %lld and %lld", min, max);
	*out = v;
	return 0;
}

/* token.label / token.serial: it must fit the CK_TOKEN_INFO field it is compared with. */
static int get_token_field(struct config_loader *l, const config_setting_t *tok, const char *name,
			   char *dst, size_t size)
{
	const char *v;

	if (cfg_get_string(l, tok, name, &v) != 0)
		return -1;
	if (v == NULL)
		return 0;
	if (v[0] == '\0')
		return cfg_refuse(l, tok, name, "empty; leave it out instead");
	if (strlen(v) >= size)
		return cfg_refuse(l, tok, name, "longer than %zu bytes", size - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* Which token: token.uri, or token.label and/or token.serial; never both ways. */
static int load_token_selection(struct config_loader *l, const config_setting_t *tok,
				struct p11uri *sel)
{
	bool by_uri = config_setting_get_member(tok, "uri") != NULL;
	bool by_name = config_setting_get_member(tok, "label") != NULL ||
		       config_setting_get_member(tok, "serial") != NULL;
	const char *uri;
	char why[256];

	memset(sel, 0, sizeof(*sel));
	if (by_uri && by_name)
		return cfg_refuse(l, tok, "uri", "give either uri or label/serial, not both");
	if (!by_uri && !by_name)
		return cfg_refuse(l, tok, NULL,
				  "name the token with uri, or with label and/or serial");
	if (by_name) {
		if (get_token_field(l, tok, "label", sel->token, sizeof(sel->token)) != 0 ||
		    get_token_field(l, tok, "serial", sel->serial, sizeof(sel->serial)) != 0)
			return -1;
		return 0;
	}
	if (cfg_get_string(l, tok, "uri", &uri) != 0)
		return -1;
	if (p11uri_parse(uri, sel, why, sizeof(why)) != 0)
		return cfg_refuse(l, tok, "uri", "%s", why);
	return 0;
}

/* token.module_dirs: absolute directories, replacing the default allowlist
 * (modpath.h). An empty list would allow no module at all. */
static int load_module_dirs(struct config_loader *l, const config_setting_t *tok,
			    struct config *cfg)
{
	const config_setting_t *dirs = config_setting_get_member(tok, "module_dirs");
	int n = dirs != NULL ? config_setting_length(dirs) : 0;

	if (dirs == NULL)
		return 0;
	if (!(config_setting_is_array(dirs) || config_setting_is_list(dirs)) || n == 0)
		return cfg_refuse(l, tok, "module_dirs",
				  "must be a list of directories like [ \"/opt/vendor/lib\" ]");
	if (n > CONFIG_MAX_MODULE_DIRS)
		return cfg_refuse(l, tok, "module_dirs", "at most %d", CONFIG_MAX_MODULE_DIRS);
	for (int i = 0; i < n; i++) {
		const char *d =
			config_setting_get_string(config_setting_get_elem(dirs, (unsigned)i));

		if (d == NULL || d[0] != '/')
			return cfg_refuse(l, tok, "module_dirs",
					  "item %d: must be an absolute path", i + 1);
		if (strlen(d) > PATH_MAX_LEN)
			return cfg_refuse(l, tok, "module_dirs", "item %d: longer than %d bytes",
					  i + 1, PATH_MAX_LEN);
		if ((cfg->module_dirs[i] = strdup(d)) == NULL)
			return cfg_refuse(l, tok, "module_dirs", "out of memory");
		cfg->n_module_dirs = (size_t)i + 1;
	}
	return 0;
}

static int load_token(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	static const char *const known[] = {"module",
					    "uri",
					    "label",
					    "serial",
					    "pin_file",
					    "module_dirs",
					    "serialize_object_creation",
					    NULL};
	const config_setting_t *tok = config_setting_get_member(root, "token");

	if (tok == NULL)
		return cfg_refuse(l, root, "token",
				  "required: a group { module = \"...\"; uri = \"...\"; pin_file = "
				  "\"...\"; }");
	if (!config_setting_is_group(tok))
		return cfg_refuse(l, root, "token", "must be a group { ... }");
	/* before the unknown-setting check, to say where the PIN belongs */
	if (config_setting_get_member(tok, "pin") != NULL)
		return cfg_refuse(l, tok, "pin",
				  "refused; put the PIN in pin_file (mode 0600), never in the "
				  "configuration");
	cfg->serialize_objects = -1;
	if (cfg_only_known(l, tok, known) != 0 ||
	    get_path(l, tok, "module", NULL, &cfg->module_path) != 0 ||
	    get_path(l, tok, "pin_file", NULL, &cfg->pin_file) != 0 ||
	    load_module_dirs(l, tok, cfg) != 0 ||
	    cfg_get_bool(l, tok, "serialize_object_creation", &cfg->serialize_objects) != 0)
		return -1;
	return load_token_selection(l, tok, &cfg->token);
}

/* tcp://HOST:PORT, the port a decimal 1..65535. */
static bool tcp_address_ok(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;

	if (colon == NULL || colon == addr || colon[1] < '0' || colon[1] > '9')
		return false;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && port >= 1 && port <= 65535;
}

/* What is wrong with one endpoint, or NULL; nanomsg itself would say less. */
static const char *endpoint_problem(const char *ep)
{
	if (strlen(ep) > ENDPOINT_MAX_LEN)
		return "longer than 255 bytes";
	if (strncmp(ep, "ipc://", 6) == 0) {
		if (ep[6] != '/')
			return "ipc:// needs an absolute path: ipc:///run/signet/signetd.sock";
		if (strlen(ep + 6) > IPC_PATH_MAX)
			return "ipc:// socket path longer than a socket address allows (107 bytes)";
		return NULL;
	}
	if (strncmp(ep, "tcp://", 6) == 0)
		return tcp_address_ok(ep + 6) ? NULL
					      : "tcp:// needs HOST:PORT: tcp://127.0.0.1:5555";
	return "must start with ipc:// or tcp://";
}

static int load_endpoints(struct config_loader *l, const config_setting_t *server,
			  struct config *cfg)
{
	const config_setting_t *eps = config_setting_get_member(server, "endpoints");
	int n = eps != NULL ? config_setting_length(eps) : 0;

	if (eps == NULL || !(config_setting_is_array(eps) || config_setting_is_list(eps)) || n == 0)
		return cfg_refuse(l, server, "endpoints",
				  "required: a list like [ \"ipc:///run/signet/signetd.sock\" ]");
	if (n > CONFIG_MAX_ENDPOINTS)
		return cfg_refuse(l, server, "endpoints", "at most %d", CONFIG_MAX_ENDPOINTS);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(eps, (unsigned)i);
		const char *ep = config_setting_get_string(e); /* NULL unless a string */
		const char *problem = ep != NULL ? endpoint_problem(ep) : "must be a string";

		for (int j = 0; problem == NULL && j < i; j++) {
			if (strcmp(ep, cfg->endpoints[j]) == 0)
				problem = "listed twice";
		}
		if (problem != NULL)
			return cfg_refuse(l, server, "endpoints", "item %d: %s", i + 1, problem);
		if ((cfg->endpoints[i] = strdup(ep)) == NULL)
			return cfg_refuse(l, server, "endpoints", "out of memory");
		cfg->n_endpoints = (size_t)i + 1;
	}
	return 0;
}

/*
 * 0 workers: CONFIG_WORKERS_PER_CPU per online CPU, at most
 * CONFIG_DEFAULT_MAX_WORKERS. More workers than CPUs because a worker also
 * waits: for the ledger's grouped commit before it answers a SignCsr, for
 * the token. The more requests wait on one commit, the fewer commits a
 * certificate costs; each worker is one token session and a mostly idle
 * thread.
 */
static unsigned resolve_workers(long long configured)
{
	long cpus;

	if (configured > 0)
		return (unsigned)configured;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	if (cpus > CONFIG_DEFAULT_MAX_WORKERS / CONFIG_WORKERS_PER_CPU)
		return CONFIG_DEFAULT_MAX_WORKERS;
	return (unsigned)cpus * CONFIG_WORKERS_PER_CPU;
}

/* SignCsrBatch's limits. The bytes default to the message limit when that is
 * lower: a batch never fits in more than one message anyway, and a setting
 * above it would promise what the transport refuses. */
static int load_batch_limits(struct config_loader *l, const config_setting_t *server,
			     struct config *cfg)
{
	long long csrs = CONFIG_DEFAULT_BATCH_CSRS, bytes = CONFIG_DEFAULT_BATCH_BYTES;

	if ((size_t)bytes > cfg->max_message_size)
		bytes = (long long)cfg->max_message_size;
	if (cfg_get_int(l, server, "max_batch_csrs", 1, CONFIG_MAX_BATCH_CSRS, &csrs) != 0 ||
	    cfg_get_int(l, server, "max_batch_bytes", CONFIG_MIN_MESSAGE, CONFIG_MAX_MESSAGE,
			&bytes) != 0)
		return -1;
	if ((size_t)bytes > cfg->max_message_size)
		return cfg_refuse(l, server, "max_batch_bytes",
				  "%lld is above server.max_message_size (%zu): a batch travels "
				  "in one message",
				  bytes, cfg->max_message_size);
	cfg->max_batch_csrs = (unsigned)csrs;
	cfg->max_batch_bytes = (size_t)bytes;
	return 0;
}

static int load_server(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	static const char *const known[] = {"endpoints",
					    "workers",
					    "max_message_size",
					    "shutdown_timeout_seconds",
					    "max_batch_csrs",
					    "max_batch_bytes",
					    NULL};
	const config_setting_t *server = config_setting_get_member(root, "server");
	long long workers = 0, max_message = CONFIG_DEFAULT_MAX_MESSAGE,
		  drain = CONFIG_DEFAULT_SHUTDOWN_TIMEOUT;

	if (server == NULL)
		return cfg_refuse(l, root, "server",
				  "required: a group { endpoints = [ \"ipc:///...\" ]; }");
	if (!config_setting_is_group(server))
		return cfg_refuse(l, root, "server", "must be a group { ... }");
	if (cfg_only_known(l, server, known) != 0 || load_endpoints(l, server, cfg) != 0 ||
	    cfg_get_int(l, server, "workers", 0, CONFIG_MAX_WORKERS, &workers) != 0 ||
	    cfg_get_int(l, server, "max_message_size", CONFIG_MIN_MESSAGE, CONFIG_MAX_MESSAGE,
			&max_message) != 0 ||
	    cfg_get_int(l, server, "shutdown_timeout_seconds", 1, CONFIG_MAX_SHUTDOWN_TIMEOUT,
			&drain) != 0)
		return -1;
	cfg->workers = resolve_workers(workers);
	cfg->max_message_size = (size_t)max_message;
	cfg->shutdown_timeout_seconds = (unsigned)drain;
	return load_batch_limits(l, server, cfg);
}

/* records.database: SQLite when absent, "" or "sqlite"; else a libpq
 * connection string with no password in it, whose password, if it needs
 * one, is in database_password_file. With PostgreSQL the challenges are
 * kept in the database by default, for every host. */
static int load_database(struct config_loader *l, const config_setting_t *rec, struct config *cfg)
{
	const char *database = NULL, *password_file = NULL;
	struct errmsg em = {0};

	if (cfg_get_string(l, rec, "database", &database) != 0 ||
	    cfg_get_string(l, rec, "database_password_file", &password_file) != 0)
		return -1;
	if (database == NULL || *database == '\0' || strcmp(database, "sqlite") == 0) {
		if (password_file != NULL)
			return cfg_refuse(l, rec, "database_password_file",
					  "is for a PostgreSQL database; records.database does "
					  "not name one");
		return 0;
	}
	if (sql_conninfo_check(database, &em) != 0) {
		/* the records' messages name the setting themselves */
		const char *why = em.text;

		if (strncmp(why, "records.database: ", 18) == 0)
			why += 18;
		return cfg_refuse(l, rec, "database", "%s", why);
	}
	if ((cfg->database = strdup(database)) == NULL)
		return cfg_refuse(l, rec, "database", "out of memory");
	cfg->shared_challenges = 1;
	if (password_file != NULL)
		return get_path(l, rec, "database_password_file", NULL,
				&cfg->database_password_file);
	return 0;
}

/* records { audit_log; audit_flush_ms; crl_validity_hours; crl_publish_dir;
 * crl_refresh_seconds; database; database_password_file; }, all optional. A
 * CRL is re-signed well before it expires: by default at half its validity,
 * and never less often than its validity. */
static int load_records(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	static const char *const known[] = {"audit_log",
					    "audit_flush_ms",
					    "crl_validity_hours",
					    "crl_publish_dir",
					    "crl_refresh_seconds",
					    "database",
					    "database_password_file",
					    NULL};
	const config_setting_t *rec = config_setting_get_member(root, "records");
	char fallback[PATH_MAX_LEN + 32];
	long long hours = CONFIG_DEFAULT_CRL_HOURS, refresh = -1,
		  flush = CONFIG_DEFAULT_AUDIT_FLUSH_MS;
	const char *publish = NULL;

	snprintf(fallback, sizeof(fallback), "%s/audit.log", cfg->state_dir);
	cfg->crl_validity_hours = CONFIG_DEFAULT_CRL_HOURS;
	cfg->crl_refresh_seconds = CONFIG_DEFAULT_CRL_HOURS * 3600 / 2;
	cfg->audit_flush_ms = CONFIG_DEFAULT_AUDIT_FLUSH_MS;
	if (rec == NULL)
		return (cfg->audit_log = strdup(fallback)) != NULL
			       ? 0
			       : cfg_refuse(l, root, "records", "out of memory");
	if (!config_setting_is_group(rec))
		return cfg_refuse(l, root, "records", "must be a group { ... }");
	if (cfg_only_known(l, rec, known) != 0 ||
	    get_path(l, rec, "audit_log", fallback, &cfg->audit_log) != 0 ||
	    cfg_get_int(l, rec, "audit_flush_ms", 0, CONFIG_MAX_AUDIT_FLUSH_MS, &flush) != 0 ||
	    cfg_get_int(l, rec, "crl_validity_hours", 1, CONFIG_MAX_CRL_HOURS, &hours) != 0 ||
	    cfg_get_string(l, rec, "crl_publish_dir", &publish) != 0 ||
	    cfg_get_int(l, rec, "crl_refresh_seconds", 1, hours * 3600, &refresh) != 0 ||
	    load_database(l, rec, cfg) != 0)
		return -1;
	cfg->audit_flush_ms = (unsigned)flush;
	cfg->crl_validity_hours = (unsigned)hours;
	cfg->crl_refresh_seconds = refresh > 0 ? (unsigned)refresh : (unsigned)(hours * 3600 / 2);
	if (publish != NULL)
		return get_path(l, rec, "crl_publish_dir", NULL, &cfg->crl_publish_dir);
	return 0;
}

/* possession { trust_anchors; challenge_ttl_seconds; challenge_max_ttl_seconds;
 * max_challenges_per_caller; max_challenges; shared_challenges; }, all optional. */
static int load_possession(struct config_loader *l, const config_setting_t *root,
			   struct config *cfg)
{
	static const char *const known[] = {"trust_anchors",
					    "challenge_ttl_seconds",
					    "challenge_max_ttl_seconds",
					    "max_challenges_per_caller",
					    "max_challenges",
					    "shared_challenges",
					    NULL};
	const config_setting_t *pos = config_setting_get_member(root, "possession");
	long long ttl = CONFIG_DEFAULT_CHALLENGE_TTL, max_ttl = CONFIG_DEFAULT_CHALLENGE_MAX,
		  per_caller = CONFIG_DEFAULT_PER_CALLER, total = CONFIG_DEFAULT_CHALLENGES;
	const char *anchors = NULL;

	if (pos != NULL && !config_setting_is_group(pos))
		return cfg_refuse(l, root, "possession", "must be a group { ... }");
	if (pos != NULL &&
	    (cfg_only_known(l, pos, known) != 0 ||
	     cfg_get_int(l, pos, "challenge_max_ttl_seconds", 1, CONFIG_MAX_CHALLENGE_TTL,
			 &max_ttl) != 0 ||
	     cfg_get_int(l, pos, "challenge_ttl_seconds", 1, max_ttl, &ttl) != 0 ||
	     cfg_get_int(l, pos, "max_challenges", 1, CONFIG_MAX_CHALLENGES, &total) != 0 ||
	     cfg_get_int(l, pos, "max_challenges_per_caller", 1, total, &per_caller) != 0 ||
	     cfg_get_bool(l, pos, "shared_challenges", &cfg->shared_challenges) != 0 ||
	     cfg_get_string(l, pos, "trust_anchors", &anchors) != 0))
		return -1;
	if (ttl > max_ttl)
		ttl = max_ttl; /* only the maximum was lowered */
	cfg->challenge_ttl_seconds = (unsigned)ttl;
	cfg->challenge_max_ttl_seconds = (unsigned)max_ttl;
	cfg->max_challenges_per_caller = (unsigned)per_caller;
	cfg->max_challenges = (unsigned)total;
	if (anchors != NULL)
		return get_path(l, pos, "trust_anchors", NULL, &cfg->trust_anchors);
	return 0;
}

/* user: whom signetd serves as after a start as root (privdrop.h). Only the
 * name is checked here; it is looked up at start-up, on the host it runs on. */
static int load_user(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	const char *user;

	if (cfg_get_string(l, root, "user", &user) != 0)
		return -1;
	if (user == NULL)
		return 0;
	if (user[0] == '\0' || strlen(user) > CONFIG_MAX_USER_NAME || strchr(user, ':') != NULL ||
	    strchr(user, '/') != NULL)
		return cfg_refuse(l, root, "user", "must be a user name of 1 to %d characters",
				  CONFIG_MAX_USER_NAME);
	if ((cfg->user = strdup(user)) == NULL)
		return cfg_refuse(l, root, "user", "out of memory");
	return 0;
}

static int load_top(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	static const char *const known[] = {"log_level", "state_dir", "token",	    "server",
					    "profiles",	 "records",   "possession", "auth",
					    "clients",	 "user",      "enrolment",  NULL};
	const char *level;

	if (cfg_only_known(l, root, known) != 0 ||
	    cfg_get_string(l, root, "log_level", &level) != 0)
		return -1;
	cfg->log_level = LOG_LVL_INFO;
	if (level != NULL && log_level_from_name(level, &cfg->log_level) != 0)
		return cfg_refuse(l, root, "log_level", "must be error, warn, info or debug");
	if (load_user(l, root, cfg) != 0)
		return -1;
	return get_path(l, root, "state_dir", DEFAULT_STATE_DIR, &cfg->state_dir);
}

/* libconfig would read a directory as an empty file and report a syntax error. */
static FILE *open_config(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return NULL;
	}
	return f;
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
	struct config_loader l = {.file = path, .err = err, .errlen = errlen};
	const config_setting_t *root;
	FILE *f = NULL;
	config_t cf;
	int r = -1;

	memset(out, 0, sizeof(*out));
	config_init(&cf);
	if ((f = open_config(path, err, errlen)) == NULL)
		goto out;
	if (!config_read(&cf, f)) {
		/* error_file is NULL for the file we opened, set inside an @include */
		snprintf(err, errlen, "%s:%d: %s",
			 config_error_file(&cf) != NULL ? config_error_file(&cf) : path,
			 config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	root = config_root_setting(&cf);
	if (load_top(&l, root, out) != 0 || load_token(&l, root, out) != 0 ||
	    load_server(&l, root, out) != 0 || cfg_load_profiles(&l, root, out) != 0 ||
	    load_records(&l, root, out) != 0 || load_possession(&l, root, out) != 0 ||
	    cfg_load_clients(&l, root, out) != 0 || cfg_load_enrolments(&l, root, out) != 0)
		goto out;
	r = 0;
out:
	if (f != NULL)
		fclose(f);
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
	free(cfg->audit_log);
	free(cfg->crl_publish_dir);
	free(cfg->database);
	free(cfg->database_password_file);
	free(cfg->trust_anchors);
	free(cfg->user);
	for (size_t i = 0; i < cfg->n_module_dirs; i++)
		free(cfg->module_dirs[i]);
	cfg_clients_free(cfg);
	cfg_enrolments_free(cfg);
	profile_set_free(&cfg->profiles);
	for (size_t i = 0; i < cfg->n_endpoints; i++)
		free(cfg->endpoints[i]);
	memset(cfg, 0, sizeof(*cfg));
}
