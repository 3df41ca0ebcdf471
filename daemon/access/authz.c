#include "access/authz.h"

#include <fnmatch.h>

static int matches(char *const *patterns, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(patterns[i], value, 0) == 0)
			return 1;
	return 0;
}

/* One object kind: absent from the request, or matching a pattern. */
static int object_allowed(const struct client_def *c, const char *kind, const char *setting,
			  char *const *patterns, size_t n, const char *value, struct errmsg *em)
{
	if (value == NULL || matches(patterns, n, value))
		return 0;
	if (n == 0)
		return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
				  "client '%s' may use no %s (clients.%s.%s is empty)", c->name,
				  kind, c->name, setting);
	return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
			  "client '%s' may not use %s '%.64s' (not in clients.%s.%s)", c->name,
			  kind, value, c->name, setting);
}

int authz_check(const struct client_def *c, const char *method, int admin_method,
		const struct authz_target *t, struct errmsg *em)
{
	int r;

	if (!matches(c->methods, c->n_methods, method))
		return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
				  "client '%s' may not call %s (not in clients.%s.methods)",
				  c->name, method, c->name);
	if (admin_method && !c->admin)
		return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
				  "%s is an admin method and client '%s' is not an admin "
				  "(clients.%s.admin)",
				  method, c->name, c->name);
	if ((r = object_allowed(c, "CA", "cas", c->cas, c->n_cas, t->ca, em)) != 0 ||
	    (r = object_allowed(c, "CA", "cas", c->cas, c->n_cas, t->parent, em)) != 0 ||
	    (r = object_allowed(c, "profile", "profiles", c->profiles, c->n_profiles, t->profile,
				em)) != 0)
		return r;
	return object_allowed(c, "key", "keys", c->keys, c->n_keys, t->key, em);
}
