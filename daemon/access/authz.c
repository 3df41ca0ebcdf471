#include "access/authz.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

/* The descriptor of the singular string field `name` of `desc`, or NULL. A
 * oneof member is not one: its storage may hold another member. */
static const ProtobufCFieldDescriptor *string_field(const ProtobufCMessageDescriptor *desc,
						    const char *name)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(desc, name);

	if (f == NULL || f->type != PROTOBUF_C_TYPE_STRING ||
	    f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0)
		return NULL;
	return f;
}

static int check_field(const ProtobufCMessageDescriptor *desc, const char *kind, const char *name,
		       struct errmsg *em)
{
	if (name == NULL || string_field(desc, name) != NULL)
		return 0;
	return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
			  "%s has no string field '%s' to name the %s it acts on", desc->name, name,
			  kind);
}

int authz_fields_check(const struct authz_fields *f, const ProtobufCMessageDescriptor *request,
		       struct errmsg *em)
{
	int r;

	if ((r = check_field(request, "key", f->key, em)) != 0 ||
	    (r = check_field(request, "CA", f->ca, em)) != 0 ||
	    (r = check_field(request, "parent CA", f->parent, em)) != 0 ||
	    (r = check_field(request, "profile", f->profile, em)) != 0 ||
	    (r = check_field(request, "enrolment", f->enrolment, em)) != 0 ||
	    (r = check_field(request, "code", f->code, em)) != 0)
		return r;
	return 0;
}

/* *out = the string field `name` of `m` (left alone when name is NULL). */
static int read_field(const ProtobufCMessage *m, const char *name, const char **out)
{
	const ProtobufCFieldDescriptor *f;

	if (name == NULL)
		return 0;
	if ((f = string_field(m->descriptor, name)) == NULL)
		return -1;
	*out = *(const char *const *)(const void *)((const char *)m + f->offset);
	return 0;
}

int authz_target_of(const struct authz_fields *f, const ProtobufCMessage *request,
		    struct authz_target *t)
{
	memset(t, 0, sizeof(*t));
	if (read_field(request, f->key, &t->key) != 0 || read_field(request, f->ca, &t->ca) != 0 ||
	    read_field(request, f->parent, &t->parent) != 0 ||
	    read_field(request, f->profile, &t->profile) != 0 ||
	    read_field(request, f->enrolment, &t->enrolment) != 0 ||
	    read_field(request, f->code, &t->code) != 0) {
		memset(t, 0, sizeof(*t));
		return -1;
	}
	return 0;
}

static int matches(char *const *patterns, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(patterns[i], value, 0) == 0)
			return 1;
	return 0;
}

int authz_key_visible(const struct client_def *c, const char *name)
{
	return c == NULL || matches(c->keys, c->n_keys, name);
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

/* A pattern equal to the method's name, not a glob that happens to match it. */
static int named_in_full(char *const *patterns, size_t n, const char *method)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(patterns[i], method) == 0)
			return 1;
	return 0;
}

/*
 * A verification certificate is a proof of possession of the CA's key: with
 * it anyone can register the CA in a cloud account of theirs (AWS IoT, Azure
 * DPS) and have devices under it trusted there. methods = [ "*" ] is written
 * for the ordinary methods, so, as a Vault policy grants no path a rule does
 * not name, it takes a grant of its own: admin, the CA in verification_cas,
 * or (configurations written before) the method named in full in methods.
 */
static int ca_proof_allowed(const struct client_def *c, const char *method,
			    const struct authz_target *t, struct errmsg *em)
{
	const char *ca = t->ca != NULL ? t->ca : "";

	if (c->admin || named_in_full(c->methods, c->n_methods, method) ||
	    matches(c->verification_cas, c->n_verification_cas, ca))
		return 0;
	return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
			  "client '%s' may not get a verification certificate of CA '%.64s': "
			  "it proves possession of the CA, so a glob in methods does not grant "
			  "it (needs the CA in clients.%s.verification_cas, %s named in "
			  "clients.%s.methods, or admin = true)",
			  c->name, ca, c->name, method, c->name);
}

int authz_check(const struct client_def *c, const char *method, unsigned flags,
		const struct authz_target *t, struct errmsg *em)
{
	int r;

	if (!matches(c->methods, c->n_methods, method))
		return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
				  "client '%s' may not call %s (not in clients.%s.methods)",
				  c->name, method, c->name);
	if ((flags & SIGNET_METHOD_ADMIN) != 0 && !c->admin)
		return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
				  "%s is an admin method and client '%s' is not an admin "
				  "(clients.%s.admin)",
				  method, c->name, c->name);
	if ((flags & SIGNET_METHOD_CA_PROOF) != 0 && (r = ca_proof_allowed(c, method, t, em)) != 0)
		return r;
	if ((r = object_allowed(c, "CA", "cas", c->cas, c->n_cas, t->ca, em)) != 0 ||
	    (r = object_allowed(c, "CA", "cas", c->cas, c->n_cas, t->parent, em)) != 0 ||
	    (r = object_allowed(c, "profile", "profiles", c->profiles, c->n_profiles, t->profile,
				em)) != 0 ||
	    (r = object_allowed(c, "enrolment", "enrolments", c->enrolments, c->n_enrolments,
				t->enrolment, em)) != 0)
		return r;
	return object_allowed(c, "key", "keys", c->keys, c->n_keys, t->key, em);
}

static void describe_one(char *buf, size_t len, size_t *at, const char *kind, const char *value)
{
	int n;

	if (value == NULL || *at >= len)
		return;
	n = snprintf(buf + *at, len - *at, "%s%s=%.64s", *at > 0 ? " " : "", kind, value);
	*at = n < 0 ? len : *at + (size_t)n;
}

void authz_target_describe(const struct authz_target *t, char *buf, size_t len)
{
	size_t at = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	describe_one(buf, len, &at, "ca", t->ca);
	describe_one(buf, len, &at, "parent", t->parent);
	describe_one(buf, len, &at, "profile", t->profile);
	describe_one(buf, len, &at, "key", t->key);
	describe_one(buf, len, &at, "enrolment", t->enrolment);
	describe_one(buf, len, &at, "code", t->code);
}
