/*
 * The enrolment group: named doors through which devices ask for
 * certificates by an enrolment protocol (SCEP or EST) that signet-gatewayd
 * serves over HTTP(S). Each names the CA and profile it issues under, for
 * SCEP the RA key on the token (and where its certificate is), and how a
 * requester proves itself. Secrets and anchors are only named here
 * (challenge_file, bootstrap_anchors); rpc/enrol.c and rpc/est.c read them
 * per request, so that a replaced file needs no reload.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

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

static int load_protocol(struct config_loader *l, const config_setting_t *g,
			 struct enrolment_def *e)
{
	const char *v = NULL;

	if (cfg_get_string(l, g, "protocol", &v) != 0)
		return -1;
	if (v != NULL && strcmp(v, "scep") == 0)
		e->protocol = ENROLMENT_SCEP;
	else if (v != NULL && strcmp(v, "est") == 0)
		e->protocol = ENROLMENT_EST;
	else
		return cfg_refuse(l, g, "protocol", "required: \"scep\" or \"est\"");
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

/* The settings only SCEP has: the RA and the challenge. */
static int load_scep(struct config_loader *l, const config_setting_t *g, struct enrolment_def *e)
{
	static const char *const known[] = {
		"protocol",	    "ca",	 "profile",	   "ra_key",
		"ra_certificate",   "challenge", "challenge_file", "allow_des",
		"max_message_size", NULL};

	if (cfg_only_known(l, g, known) != 0 || required_string(l, g, "ra_key", &e->ra_key) != 0 ||
	    optional_path(l, g, "ra_certificate", &e->ra_certificate) != 0 ||
	    load_challenge(l, g, e) != 0 || cfg_get_bool(l, g, "allow_des", &e->allow_des) != 0)
		return -1;
	return 0;
}

/* A /csrattrs entry must name an OID OpenSSL knows, or be one. */
static int load_csr_attrs(struct config_loader *l, const config_setting_t *g,
			  struct enrolment_def *e)
{
	if (cfg_get_strings(l, g, "csr_attrs", CONFIG_MAX_CSR_ATTRS, 128, &e->csr_attrs,
			    &e->n_csr_attrs) != 0)
		return -1;
	for (size_t i = 0; i < e->n_csr_attrs; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(e->csr_attrs[i], 0);

		ASN1_OBJECT_free(o);
		if (o == NULL)
			return cfg_refuse(l, g, "csr_attrs",
					  "'%s' is no attribute name or dotted OID",
					  e->csr_attrs[i]);
	}
	return 0;
}

/* The settings only EST has: bootstrap anchors, codes, manual, csr_attrs. */
static int load_est(struct config_loader *l, const config_setting_t *g, struct enrolment_def *e)
{
	static const char *const known[] = {
		"protocol", "ca",	   "profile",	"bootstrap_anchors", "codes",
		"manual",   "retry_after", "csr_attrs", "max_message_size",  NULL};
	long long retry = CONFIG_DEFAULT_RETRY_AFTER;
	int codes = 1;

	if (cfg_only_known(l, g, known) != 0 ||
	    optional_path(l, g, "bootstrap_anchors", &e->bootstrap_anchors) != 0 ||
	    cfg_get_bool(l, g, "codes", &codes) != 0 ||
	    cfg_get_bool(l, g, "manual", &e->manual) != 0 ||
	    cfg_get_int(l, g, "retry_after", 1, 86400, &retry) != 0 || load_csr_attrs(l, g, e) != 0)
		return -1;
	if (config_setting_get_member(g, "retry_after") != NULL && !e->manual)
		return cfg_refuse(l, g, "retry_after", "only with manual = true");
	e->challenge = codes ? ENROLMENT_CHALLENGE_CODES : ENROLMENT_CHALLENGE_NONE;
	e->retry_after = (unsigned)retry;
	return 0;
}

static int load_enrolment(struct config_loader *l, const config_setting_t *g, struct config *cfg)
{
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
	if (load_protocol(l, g, e) != 0 ||
	    (e->protocol == ENROLMENT_SCEP ? load_scep(l, g, e) : load_est(l, g, e)) != 0 ||
	    required_string(l, g, "ca", &e->ca) != 0 ||
	    required_string(l, g, "profile", &e->profile) != 0 ||
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
		free(e->bootstrap_anchors);
		cfg_strings_free(e->csr_attrs, e->n_csr_attrs);
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
