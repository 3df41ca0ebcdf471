/*
 * What config.c shares with the modules that load one group of the file
 * each (config_profiles.c): the loader state and the setting readers, which
 * all report errors as "FILE:LINE: GROUP.NAME: reason".
 */
#ifndef SIGNETD_CONFIG_INTERNAL_H
#define SIGNETD_CONFIG_INTERNAL_H

#include <stddef.h>

#include <libconfig.h>

#include "config/config.h"

struct config_loader {
	const char *file; /* as the administrator named it, for messages */
	char *err;
	size_t errlen;
};

/*
 * Refuse member `name` of `group` (or the group itself when name is NULL),
 * pointing at the member's line when it is there, else at the group's.
 * Always returns -1.
 */
int cfg_refuse(struct config_loader *l, const config_setting_t *group, const char *name,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Unknown settings are refused: a typo must not be silently ignored. */
int cfg_only_known(struct config_loader *l, const config_setting_t *group,
		   const char *const *known);

/* An optional string; *out stays NULL when the setting is absent. */
int cfg_get_string(struct config_loader *l, const config_setting_t *group, const char *name,
		   const char **out);

/* Optional whole number in [min, max]; *out keeps its default when absent. */
int cfg_get_int(struct config_loader *l, const config_setting_t *group, const char *name,
		long long min, long long max, long long *out);

/* Optional true/false; *out keeps its default when absent. */
int cfg_get_bool(struct config_loader *l, const config_setting_t *group, const char *name,
		 int *out);

/* A list of strings (absent: *out stays NULL, *n 0), each at most maxlen
 * bytes, at most maxn of them; copies owned by the caller (cfg_strings_free). */
int cfg_get_strings(struct config_loader *l, const config_setting_t *group, const char *name,
		    size_t maxn, size_t maxlen, char ***out, size_t *n);
void cfg_strings_free(char **v, size_t n);

/* The profiles group (config_profiles.c): built-ins, then the file's. */
int cfg_load_profiles(struct config_loader *l, const config_setting_t *root, struct config *cfg);

/* The auth and clients groups, and auth.clients_dir (config_clients.c). */
int cfg_load_clients(struct config_loader *l, const config_setting_t *root, struct config *cfg);
void cfg_clients_free(struct config *cfg);

/* The enrolment group (enrolments.c), after the profiles it names. */
int cfg_load_enrolments(struct config_loader *l, const config_setting_t *root, struct config *cfg);
void cfg_enrolments_free(struct config *cfg);

#endif
