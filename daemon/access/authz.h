/*
 * Authorization: may this client call this method on these objects? The
 * rules come from the client's declaration (config.h, struct client_def):
 * the method must match one of its method patterns, an admin method needs
 * admin = true, and each object the request names (a CA, a parent CA, a
 * profile, a key) must match one of the patterns of its kind. An object kind
 * the client has no patterns for is refused. Pure: no I/O, no locks.
 */
#ifndef SIGNETD_AUTHZ_H
#define SIGNETD_AUTHZ_H

#include "config/config.h"
#include "base/errmsg.h"

/* What a request acts on; NULL members are not part of it. */
struct authz_target {
	const char *ca;
	const char *parent; /* the issuing CA of a new intermediate */
	const char *profile;
	const char *key;
};

/* 0, or PERMISSION_DENIED with a message naming the rule (the client, the
 * setting, the value refused). */
int authz_check(const struct client_def *c, const char *method, int admin_method,
		const struct authz_target *t, struct errmsg *em);

#endif
