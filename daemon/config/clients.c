/*
 * Who may call signetd: the auth group (anonymous mode, replay window,
 * concurrency, a drop-in directory) and the clients, declared in the clients
 * group of the main file or in files of auth.clients_dir, each a libconfig
 * file whose top level holds client groups. A client's secret stays in its
 * own file (secret_file); this module only names it.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"
#include "namerule.h"
#include "wire.h"

#define CLIENT_LIST_MAX	   64
#define CLIENT_PATTERN_MAX 128

int cfg_get_bool(struct config_loader *l, const config_setting_t *group, const char *name, int *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_refuse(l, group, name, "must be true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

void cfg_strings_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

int cfg_get_strings(struct config_loader *l, const config_setting_t *group, const char *name,
		    size_t maxn, size_t maxlen, char ***out, size_t *n)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	size_t count;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfg_refuse(l, group, name, "must be a list like [ \"a\", \"b\" ]");
	count = (size_t)config_setting_length(s);
	if (count > maxn)
		return cfg_refuse(l, group, name, "more than %zu items", maxn);
	if ((*out = calloc(count > 0 ? count : 1, sizeof(char *))) == NULL)
		return cfg_refuse(l, group, name, "out of memory");
	for (size_t i = 0; i < count; i++) {
		const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));

		if (v == NULL || v[0] == '\0' || strlen(v) > maxlen)
			return cfg_refuse(l, group, name,
					  "item %zu: must be a string of 1-%zu bytes", i + 1,
					  maxlen);
		if (((*out)[i] = strdup(v)) == NULL)
			return cfg_refuse(l, group, name, "out of memory");
		*n = i + 1;
	}
	return 0;
}

/* A method pattern must be able to match a method this daemon serves: a
 * typo must not silently grant nothing (or, with a glob, something else). */
static int method_pattern_known(const char *pattern)
{
	const ProtobufCServiceDescriptor *svc = &signet__v1__signet__descriptor;

	for (unsigned i = 0; i < svc->n_methods; i++)
		if (fnmatch(pattern, svc->methods[i].name, 0) == 0)
			return 1;
	return 0;
}

static int load_lists(struct config_loader *l, const config_setting_t *g, struct client_def *c)
{
	if (cfg_get_strings(l, g, "methods", CLIENT_LIST_MAX, CLIENT_PATTERN_MAX, &c->methods,
			    &c->n_methods) != 0 ||
	    cfg_get_strings(l, g, "cas", CLIENT_LIST_MAX, CLIENT_PATTERN_MAX, &c->cas, &c->n_cas) !=
		    0 ||
	    cfg_get_strings(l, g, "profiles", CLIENT_LIST_MAX, CLIENT_PATTERN_MAX, &c->profiles,
			    &c->n_profiles) != 0 ||
	    cfg_get_strings(l, g, "keys", CLIENT_LIST_MAX, CLIENT_PATTERN_MAX, &c->keys,
			    &c->n_keys) != 0 ||
	    cfg_get_strings(l, g, "enrolments", CLIENT_LIST_MAX, CLIENT_PATTERN_MAX, &c->enrolments,
			    &c->n_enrolments) != 0 ||
	    cfg_get_strings(l, g, "verification_cas", CLIENT_LIST_MAX, CLIENT_PATTERN_MAX,
			    &c->verification_cas, &c->n_verification_cas) != 0)
		return -1;
	for (size_t i = 0; i < c->n_methods; i++)
		if (!method_pattern_known(c->methods[i]))
			return cfg_refuse(l, g, "methods",
					  "'%.64s' matches no method signetd serves",
					  c->methods[i]);
	return 0;
}

static int client_duplicate(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_clients; i++)
		if (strcmp(cfg->clients[i].name, name) == 0)
			return 1;
	return 0;
}

static int load_client(struct config_loader *l, const config_setting_t *g, struct config *cfg)
{
	static const char *const known[] = {
		"secret_file", "admin", "max_concurrent",   "methods",	  "cas",
		"profiles",    "keys",	"verification_cas", "enrolments", NULL};
	const char *name = config_setting_name(g), *secret = NULL;
	long long max = CONFIG_DEFAULT_CLIENT_CONCURRENCY;
	struct client_def *c;
	char rule[NAME_RULE_MAX];

	if (!config_setting_is_group(g))
		return cfg_refuse(l, g, NULL, "a client is a group { secret_file = ...; ... }");
	if (!name_valid(name, NAME_CLIENT_MAX))
		return cfg_refuse(l, g, NULL, "%s",
				  name_rule("client names", NAME_CLIENT_MAX, rule, sizeof(rule)));
	if (client_duplicate(cfg, name))
		return cfg_refuse(l, g, NULL, "client '%s' is declared twice", name);
	if (cfg->n_clients >= CONFIG_MAX_CLIENTS)
		return cfg_refuse(l, g, NULL, "more than %d clients", CONFIG_MAX_CLIENTS);
	c = &cfg->clients[cfg->n_clients++];
	if ((c->name = strdup(name)) == NULL)
		return cfg_refuse(l, g, NULL, "out of memory");
	if (cfg_only_known(l, g, known) != 0 || cfg_get_string(l, g, "secret_file", &secret) != 0 ||
	    cfg_get_bool(l, g, "admin", &c->admin) != 0 ||
	    cfg_get_int(l, g, "max_concurrent", 1, CONFIG_MAX_WORKERS, &max) != 0 ||
	    load_lists(l, g, c) != 0)
		return -1;
	if (secret == NULL || secret[0] != '/')
		return cfg_refuse(l, g, "secret_file", "required, an absolute path");
	if ((c->secret_file = strdup(secret)) == NULL)
		return cfg_refuse(l, g, "secret_file", "out of memory");
	c->max_concurrent = (unsigned)max;
	return 0;
}

static int load_client_group(struct config_loader *l, const config_setting_t *group,
			     struct config *cfg)
{
	for (int i = 0; i < config_setting_length(group); i++)
		if (load_client(l, config_setting_get_elem(group, (unsigned)i), cfg) != 0)
			return -1;
	return 0;
}

/* One drop-in file: its top level holds client groups. */
static int load_dropin(struct config_loader *parent, const char *path, struct config *cfg)
{
	struct config_loader l = {.file = path, .err = parent->err, .errlen = parent->errlen};
	config_t cf;
	int r = -1;

	config_init(&cf);
	if (!config_read_file(&cf, path))
		snprintf(l.err, l.errlen, "%s:%d: %s", path, config_error_line(&cf),
			 config_error_text(&cf));
	else
		r = load_client_group(&l, config_root_setting(&cf), cfg);
	config_destroy(&cf);
	return r;
}

static int conf_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
}

/* Every *.conf file of the directory, in name order (scandir sorts). */
static int load_dropins(struct config_loader *l, const config_setting_t *auth, const char *dir,
			struct config *cfg)
{
	struct dirent **names = NULL;
	char path[4096 + 256];
	int n = scandir(dir, &names, conf_name, alphasort), r = 0;

	if (n < 0)
		return cfg_refuse(l, auth, "clients_dir", "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (r == 0)
			r = load_dropin(l, path, cfg);
		free(names[i]);
	}
	free(names);
	return r;
}

static int has_tcp_endpoint(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_endpoints; i++)
		if (strncmp(cfg->endpoints[i], "tcp://", 6) == 0)
			return 1;
	return 0;
}

/* Nothing is trusted for reaching the socket: clients must be declared, or
 * anonymous callers allowed explicitly, and never over tcp. */
static int check_auth_mode(struct config_loader *l, const config_setting_t *root,
			   const struct config *cfg)
{
	if (cfg->allow_anonymous && has_tcp_endpoint(cfg))
		return cfg_refuse(l, root, "auth",
				  "allow_anonymous is for ipc:// endpoints only: a tcp:// endpoint "
				  "needs clients with credentials");
	if (!cfg->allow_anonymous && cfg->n_clients == 0)
		return cfg_refuse(l, root, "clients",
				  "no client is declared: declare clients (with secret files), or "
				  "set auth.allow_anonymous = true for ipc:// development setups");
	return 0;
}

static int load_auth(struct config_loader *l, const config_setting_t *root, struct config *cfg,
		     const char **dir)
{
	static const char *const known[] = {"allow_anonymous", "window_seconds", "reorder_seconds",
					    "max_concurrent",  "clients_dir",	 NULL};
	const config_setting_t *auth = config_setting_get_member(root, "auth");
	long long window = CONFIG_DEFAULT_AUTH_WINDOW, reorder = -1, max = 0;

	*dir = NULL;
	cfg->auth_window_seconds = CONFIG_DEFAULT_AUTH_WINDOW;
	cfg->auth_reorder_seconds = CONFIG_DEFAULT_AUTH_REORDER;
	if (auth == NULL)
		return 0;
	if (!config_setting_is_group(auth))
		return cfg_refuse(l, root, "auth", "must be a group { ... }");
	if (cfg_only_known(l, auth, known) != 0 ||
	    cfg_get_bool(l, auth, "allow_anonymous", &cfg->allow_anonymous) != 0 ||
	    cfg_get_int(l, auth, "window_seconds", 1, 3600, &window) != 0 ||
	    cfg_get_int(l, auth, "reorder_seconds", 1, window, &reorder) != 0 ||
	    cfg_get_int(l, auth, "max_concurrent", 0, 100000, &max) != 0 ||
	    cfg_get_string(l, auth, "clients_dir", dir) != 0)
		return -1;
	if (*dir != NULL && (*dir)[0] != '/')
		return cfg_refuse(l, auth, "clients_dir", "must be an absolute path");
	cfg->auth_window_seconds = (unsigned)window;
	cfg->auth_reorder_seconds = reorder > 0 ? (unsigned)reorder
				    : window < CONFIG_DEFAULT_AUTH_REORDER
					    ? (unsigned)window
					    : CONFIG_DEFAULT_AUTH_REORDER;
	cfg->max_concurrent = (unsigned)max;
	return 0;
}

int cfg_load_clients(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *group = config_setting_get_member(root, "clients");
	const config_setting_t *auth = config_setting_get_member(root, "auth");
	const char *dir = NULL;

	if ((cfg->clients = calloc(CONFIG_MAX_CLIENTS, sizeof(*cfg->clients))) == NULL)
		return cfg_refuse(l, root, NULL, "out of memory");
	if (load_auth(l, root, cfg, &dir) != 0)
		return -1;
	if (group != NULL && !config_setting_is_group(group))
		return cfg_refuse(l, root, "clients", "must be a group { name: { ... }; ... }");
	if ((group != NULL && load_client_group(l, group, cfg) != 0) ||
	    (dir != NULL && load_dropins(l, auth, dir, cfg) != 0))
		return -1;
	return check_auth_mode(l, root, cfg);
}

void cfg_clients_free(struct config *cfg)
{
	for (size_t i = 0; cfg->clients != NULL && i < cfg->n_clients; i++) {
		struct client_def *c = &cfg->clients[i];

		free(c->name);
		free(c->secret_file);
		cfg_strings_free(c->methods, c->n_methods);
		cfg_strings_free(c->cas, c->n_cas);
		cfg_strings_free(c->profiles, c->n_profiles);
		cfg_strings_free(c->keys, c->n_keys);
		cfg_strings_free(c->enrolments, c->n_enrolments);
		cfg_strings_free(c->verification_cas, c->n_verification_cas);
	}
	free(cfg->clients);
	cfg->clients = NULL;
	cfg->n_clients = 0;
}
