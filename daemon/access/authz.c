#include "access/authz.h"

#include <fnmatch.h>
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
	    (r = check_field(request, "profile", f->profile, em)) != 0)
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
	    read_field(request, f->profile, &t->profile) != 0) {
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
