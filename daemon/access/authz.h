/*
 * Authorization: may this client call this method on these objects? The
 * rules come from the client's declaration (config.h, struct client_def):
 * the method must match one of its method patterns, an admin method needs
 * admin = true, and each object the request names (a CA, a parent CA, a
 * profile, a key, an enrolment) must match one of the patterns of its kind. An object kind
 * the client has no patterns for is refused. A method that proves possession
 * of a CA (SIGNET_METHOD_CA_PROOF) needs more than a glob in methods: admin,
 * the CA in verification_cas, or the method named in full. What a request
 * acts on is read from the string fields its method's row names
 * (proto/methods.def). Pure: no I/O, no locks.
 */
#ifndef SIGNETD_AUTHZ_H
#define SIGNETD_AUTHZ_H

#include <protobuf-c/protobuf-c.h>

#include "config/config.h"
#include "base/errmsg.h"
#include "methods.h"

/* What a request acts on; NULL members are not part of it. */
struct authz_target {
	const char *ca;
	const char *parent; /* the issuing CA of a new intermediate */
	const char *profile;
	const char *key;
	const char *enrolment; /* an enrolment door (enrolment.NAME: SCEP) */
	/* not an object of a rule: what the act certifies (the registration code
	 * of a verification certificate), for the audit line of a refusal */
	const char *code;
};

/* Which fields of a request name what it acts on: for each kind, the name of
 * a string field of the request message, or NULL when it names none. */
struct authz_fields {
	const char *ca;
	const char *parent;
	const char *profile;
	const char *key;
	const char *enrolment;
	const char *code;
};

/* 0 when every field `f` names is a singular string field of the message
 * type `request` (a start-up check of the method table); otherwise
 * INVALID_ARGUMENT with a message naming the field. */
int authz_fields_check(const struct authz_fields *f, const ProtobufCMessageDescriptor *request,
		       struct errmsg *em);

/* What `request` acts on, read through `f`: *t points into the request, so it
 * lives as long as the request. -1 with *t cleared when a named field is not a
 * string field of the request (what authz_fields_check rules out). */
int authz_target_of(const struct authz_fields *f, const ProtobufCMessage *request,
		    struct authz_target *t);

/* 0, or PERMISSION_DENIED with a message naming the rule (the client, the
 * setting, the value refused). `flags` are the method's SIGNET_METHOD_* flags
 * (proto/methods.h): ADMIN and CA_PROOF add their rules. */
int authz_check(const struct client_def *c, const char *method, unsigned flags,
		const struct authz_target *t, struct errmsg *em);

/* May client `c` (NULL: an anonymous caller) see key `name` at all: what a
 * listing shows it. Its `keys` patterns, as for a request naming the key. */
int authz_key_visible(const struct client_def *c, const char *name);

/* What `t` names, as "ca=X parent=Y profile=Z key=K enrolment=E code=C" with the absent
 * kinds left out (each value cut at 64 bytes), into buf: the audit object of
 * a request refused before its handler could say what it was on. */
void authz_target_describe(const struct authz_target *t, char *buf, size_t len);

#endif
