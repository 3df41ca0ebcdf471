/*
 * The enrolment group: named doors through which devices ask for
 * certificates by an enrolment protocol (SCEP today) that signet-gatewayd
 * serves over HTTP. Each names the CA and profile it issues under, the RA key
 * on the token (and where its certificate is), and how a requester proves
 * itself. Secrets are only named here (challenge_file); rpc/enrol.c reads them.
 */
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"
#include "namerule.h"

static int enrolment_duplicate(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_enrolments; i++)
		if (strcmp(cfg->enrolments[i].name, name) == 0)
			return 1;
	return 0;
}

/* A required string setting, copied. */
static int required_string(struct config_loader *l, const config_setting_t *g, const char *name,
			   char **out)
{
	const char *v = NULL;

	if (cfg_get_string(l, g, name, &v) != 0)
		return -1;
	if (v == NULL || v[0] == '\0')
		return cfg_refuse(l, g, name, "required");
	if ((*out = strdup(v)) == NULL)
		return cfg_refuse(l, g, name, "out of memory");
	return 0;
}

/* An optional absolute path, copied; *out stays NULL when absent. */
static int optional_path(struct config_loader *l, const config_setting_t *g, const char *name,
			 char **out)
{
	const char *v = NULL;

	if (cfg_get_string(l, g, name, &v) != 0)
		return -1;
	if (v == NULL)
		return 0;
	if (v[0] != '/')
		return cfg_refuse(l, g, name, "must be an absolute path");
	if ((*out = strdup(v)) == NULL)
		return cfg_refuse(l, g, name, "out of memory");
	return 0;
}

static int load_protocol(struct config_loader *l, const config_setting_t *g)
{
	const char *v = NULL;

	if (cfg_get_string(l, g, "protocol", &v) != 0)
		return -1;
	if (v == NULL || strcmp(v, "scep") != 0)
		return cfg_refuse(l, g, "protocol", "required: \"scep\" (the only one so far)");
	return 0;
}

/* How a requester proves itself: a static secret in a file, or single-use codes. */
static int load_challenge(struct config_loader *l, const config_setting_t *g,
			  struct enrolment_def *e)
{
	const char *v = NULL;

	if (cfg_get_string(l, g, "challenge", &v) != 0 ||
	    optional_path(l, g, "challenge_file", &e->challenge_file) != 0)
		return -1;
	if (v == NULL || strcmp(v, "codes") == 0)
		e->challenge = ENROLMENT_CHALLENGE_CODES;
	else if (strcmp(v, "static") == 0)
		e->challenge = ENROLMENT_CHALLENGE_STATIC;
	else
		return cfg_refuse(l, g, "challenge", "must be \"codes\" or \"static\"");
	if (e->challenge == ENROLMENT_CHALLENGE_STATIC && e->challenge_file == NULL)
		return cfg_refuse(l, g, "challenge_file",
				  "required with challenge = \"static\" (the secret's file)");
	if (e->challenge == ENROLMENT_CHALLENGE_CODES && e->challenge_file != NULL)
		return cfg_refuse(l, g, "challenge_file",
				  "only with challenge = \"static\" (codes live in the ledger)");
	return 0;
}

static int load_enrolment(struct config_loader *l, const config_setting_t *g, struct config *cfg)
{
	static const char *const known[] = {
		"protocol",	    "ca",	 "profile",	   "ra_key",
		"ra_certificate",   "challenge", "challenge_file", "allow_des",
		"max_message_size", NULL};
	const char *name = config_setting_name(g);
	long long max = CONFIG_DEFAULT_ENROLMENT_MESSAGE;
	struct enrolment_def *e;
	char rule[NAME_RULE_MAX];

	if (!config_setting_is_group(g))
		return cfg_refuse(l, g, NULL, "an enrolment is a group { protocol = ...; ... }");
	/* short enough that "scep:NAME" names its codes' caller (CHALLENGE_CALLER_MAX) */
	if (!name_valid(name, CONFIG_ENROLMENT_NAME_MAX))
		return cfg_refuse(l, g, NULL, "%s",
				  name_rule("enrolment names", CONFIG_ENROLMENT_NAME_MAX, rule,
					    sizeof(rule)));
	if (enrolment_duplicate(cfg, name))
		return cfg_refuse(l, g, NULL, "enrolment '%s' is declared twice", name);
	if (cfg->n_enrolments >= CONFIG_MAX_ENROLMENTS)
		return cfg_refuse(l, g, NULL, "more than %d enrolments", CONFIG_MAX_ENROLMENTS);
	e = &cfg->enrolments[cfg->n_enrolments++];
	if ((e->name = strdup(name)) == NULL)
		return cfg_refuse(l, g, NULL, "out of memory");
	if (cfg_only_known(l, g, known) != 0 || load_protocol(l, g) != 0 ||
	    required_string(l, g, "ca", &e->ca) != 0 ||
	    required_string(l, g, "profile", &e->profile) != 0 ||
	    required_string(l, g, "ra_key", &e->ra_key) != 0 ||
	    optional_path(l, g, "ra_certificate", &e->ra_certificate) != 0 ||
	    load_challenge(l, g, e) != 0 || cfg_get_bool(l, g, "allow_des", &e->allow_des) != 0 ||
	    cfg_get_int(l, g, "max_message_size", CONFIG_MIN_MESSAGE, CONFIG_MAX_MESSAGE, &max) !=
		    0)
		return -1;
	if (profile_find(&cfg->profiles, e->profile) == NULL)
		return cfg_refuse(l, g, "profile", "no profile '%s' is defined", e->profile);
	e->max_message_size = (size_t)max;
	return 0;
}

int cfg_load_enrolments(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *group = config_setting_get_member(root, "enrolment");

	if (group == NULL)
		return 0;
	if (!config_setting_is_group(group))
		return cfg_refuse(l, root, "enrolment", "must be a group { name: { ... }; ... }");
	if ((cfg->enrolments = calloc(CONFIG_MAX_ENROLMENTS, sizeof(*cfg->enrolments))) == NULL)
		return cfg_refuse(l, root, "enrolment", "out of memory");
	for (int i = 0; i < config_setting_length(group); i++)
		if (load_enrolment(l, config_setting_get_elem(group, (unsigned)i), cfg) != 0)
			return -1;
	return 0;
}

void cfg_enrolments_free(struct config *cfg)
{
	for (size_t i = 0; cfg->enrolments != NULL && i < cfg->n_enrolments; i++) {
		struct enrolment_def *e = &cfg->enrolments[i];

		free(e->name);
		free(e->ca);
		free(e->profile);
		free(e->ra_key);
		free(e->ra_certificate);
		free(e->challenge_file);
	}
	free(cfg->enrolments);
	cfg->enrolments = NULL;
	cfg->n_enrolments = 0;
}

const struct enrolment_def *config_enrolment(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->n_enrolments; i++)
		if (strcmp(cfg->enrolments[i].name, name) == 0)
			return &cfg->enrolments[i];
	return NULL;
}
