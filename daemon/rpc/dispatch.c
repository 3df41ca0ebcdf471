#include "rpc/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

/* The methods served, from their one home: proto/methods.def says, for each,
 * its handler, whether the act is audited, whether it is an admin method and
 * which request fields name what it acts on. */
/* clang-format off */
#define TARGET(...) {__VA_ARGS__}
#define NO_TARGET   {0}
/* clang-format on */
#define SIGNET_METHOD(name, handler, flags, target) {#name, process_##handler, flags, target},
static const struct dispatch_method served[] = {
#include "methods.def"
};
#undef TARGET
#undef NO_TARGET

#define N_SERVED    (sizeof(served) / sizeof(served[0]))
#define SERVICE	    (&signet__v1__signet__descriptor)
#define MAX_METHODS 64

static const struct dispatch_method *rows_by_index[MAX_METHODS];

const struct dispatch_method *dispatch_methods(size_t *n)
{
	*n = N_SERVED;
	return served;
}

static const struct dispatch_method *row_named(const struct dispatch_method *table, size_t n,
					       const char *name, size_t *count)
{
	const struct dispatch_method *row = NULL;

	*count = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0) {
			row = &table[i];
			(*count)++;
		}
	return row;
}

/* A row: a method of the service, a handler, target fields its request has. */
static int check_row(const struct dispatch_method *row, const ProtobufCServiceDescriptor *svc,
		     char *err, size_t errlen)
{
	const ProtobufCMethodDescriptor *m =
		protobuf_c_service_descriptor_get_method_by_name(svc, row->name);
	struct errmsg em = {0};

	if (m == NULL) {
		snprintf(err, errlen, "the method table names %s, which service %s lacks",
			 row->name, svc->name);
		return -1;
	}
	if (row->handler == NULL) {
		snprintf(err, errlen, "method %s has no handler", row->name);
		return -1;
	}
	if (authz_fields_check(&row->target, m->input, &em) != 0) {
		snprintf(err, errlen, "method %s: %s", row->name, em.text);
		return -1;
	}
	return 0;
}

int dispatch_check(const struct dispatch_method *table, size_t n,
		   const ProtobufCServiceDescriptor *svc, char *err, size_t errlen)
{
	size_t count;

	for (unsigned i = 0; i < svc->n_methods; i++) {
		row_named(table, n, svc->methods[i].name, &count);
		if (count != 1) {
			snprintf(err, errlen, "method %s has %s", svc->methods[i].name,
				 count == 0 ? "no handler"
					    : "more than one row in the method table");
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (check_row(&table[i], svc, err, errlen) != 0)
			return -1;
	return 0;
}

int dispatch_init(char *err, size_t errlen)
{
	size_t count;

	if (SERVICE->n_methods > MAX_METHODS) {
		snprintf(err, errlen, "too many methods in the service descriptor");
		return -1;
	}
	if (dispatch_check(served, N_SERVED, SERVICE, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < SERVICE->n_methods; i++)
		rows_by_index[i] = row_named(served, N_SERVED, SERVICE->methods[i].name, &count);
	return 0;
}

const struct dispatch_method *dispatch_method(unsigned method_index)
{
	return method_index < SERVICE->n_methods ? rows_by_index[method_index] : NULL;
}

rpc_handler dispatch_handler(unsigned method_index)
{
	const struct dispatch_method *row = dispatch_method(method_index);

	return row != NULL ? row->handler : NULL;
}

/* A method name fit to quote in a message or log: printable ASCII, bounded. */
static void quote_method(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < outlen; in++)
		out[o++] = (*in > 0x20 && *in < 0x7f) ? *in : '?';
	out[o] = '\0';
}

static void pack_reply(const Signet__V1__Envelope *env, int err, const char *message,
		       const uint8_t *payload, size_t payload_len, uint8_t **reply,
		       size_t *reply_len)
{
	Signet__V1__Reply rep = SIGNET__V1__REPLY__INIT;
	size_t len;

	rep.version = SIGNET_PROTOCOL_VERSION;
	if (env != NULL && env->request_id.len == WIRE_REQUEST_ID_LEN)
		rep.request_id = env->request_id;
	rep.status = wire_status_from_err(err);
	rep.message = (char *)(err != 0 ? message : "");
	if (err == 0) {
		rep.payload.data = (uint8_t *)payload;
		rep.payload.len = payload_len;
	}
	len = protobuf_c_message_get_packed_size(&rep.base);
	*reply = malloc(len > 0 ? len : 1);
	*reply_len = *reply != NULL ? protobuf_c_message_pack(&rep.base, *reply) : 0;
}

/* Validate the envelope and find the handler; on failure the message is in em. */
static int envelope_check(const Signet__V1__Envelope *env, const ProtobufCMethodDescriptor **method,
			  struct errmsg *em)
{
	char quoted[65];

	if (env->version != SIGNET_PROTOCOL_VERSION)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "protocol version %u is not supported; this daemon speaks %d",
				  env->version, SIGNET_PROTOCOL_VERSION);
	if (env->request_id.len != WIRE_REQUEST_ID_LEN)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "request_id must be %d bytes, got %zu", WIRE_REQUEST_ID_LEN,
				  env->request_id.len);
	*method = protobuf_c_service_descriptor_get_method_by_name(SERVICE, env->method);
	if (*method == NULL) {
		quote_method(env->method, quoted, sizeof(quoted));
		return errmsg_set(em, SIGNET_E_UNIMPLEMENTED, "unknown method '%s'", quoted);
	}
	return 0;
}

/* May the caller do this? Anonymous callers (auth.allow_anonymous, or no
 * auth at all in tests) may do anything; clients what their rules allow. */
static int authorize(struct rpc *rq, const struct dispatch_method *row, const ProtobufCMessage *req,
		     const struct client_def *who)
{
	struct authz_target t;
	int r;

	if (who == NULL)
		return 0;
	if (authz_target_of(&row->target, req, &t) != 0)
		return errmsg_set(&rq->em, SIGNET_E_PERMISSION_DENIED,
				  "%s has no authorization rule", row->name);
	/* a refusal's audit line says what was asked for: the handler that
	 * would have said it does not run */
	if ((r = authz_check(who, row->name, row->flags, &t, &rq->em)) != 0)
		authz_target_describe(&t, rq->object, sizeof(rq->object));
	return r;
}

/* One "kind=value" word of a default object, when the request names one. */
static size_t object_word(char *out, size_t len, size_t used, const char *kind, const char *value)
{
	if (value == NULL || *value == '\0' || used >= len)
		return used;
	return used + (size_t)snprintf(out + used, len - used, "%s%s=%.64s", used > 0 ? " " : "",
				       kind, value);
}

/* What the request names (key, CA, parent, profile), as the audit object of
 * an act refused before its handler ran, or whose handler names nothing more
 * precise: every audited act says what it was on. */
static void name_target(struct rpc *rq, const struct dispatch_method *row,
			const ProtobufCMessage *req)
{
	struct authz_target t;
	size_t n = 0;

	if (authz_target_of(&row->target, req, &t) != 0)
		return;
	n = object_word(rq->object, sizeof(rq->object), n, "key", t.key);
	n = object_word(rq->object, sizeof(rq->object), n, "ca", t.ca);
	n = object_word(rq->object, sizeof(rq->object), n, "parent", t.parent);
	object_word(rq->object, sizeof(rq->object), n, "profile", t.profile);
}

static int run_method(struct rpc *rq, const Signet__V1__Envelope *env,
		      const ProtobufCMethodDescriptor *method, struct auth_client *who)
{
	ProtobufCMessage *req;
	const struct dispatch_method *row = dispatch_method((unsigned)(method - SERVICE->methods));
	int r;

	if (row == NULL)
		return errmsg_set(&rq->em, SIGNET_E_UNIMPLEMENTED, "method %s is not served",
				  method->name);
	req = protobuf_c_message_unpack(method->input, NULL, env->payload.len, env->payload.data);
	if (req == NULL)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "cannot decode %s",
				  method->input->short_name);
	rq->em.err = 0;
	rq->request_id = env->request_id.data;
	name_target(rq, row, req);
	if ((r = authorize(rq, row, req, auth_client_def(who))) == 0 &&
	    (rq->d->auth == NULL || (r = auth_enter(rq->d->auth, who, &rq->em)) == 0)) {
		r = row->handler(rq, req);
		if (rq->d->auth != NULL)
			auth_leave(rq->d->auth, who);
	}
	protobuf_c_message_free_unpacked(req, NULL);
	return r;
}

/* The daemon's clock, in ms since the epoch (a fuzz target sets its own). */
static int64_t now_ms(const struct daemon_state *d)
{
	struct timespec now;

	if (d->clock_ms != NULL)
		return d->clock_ms();
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Who is calling: checked before the payload is decoded. */
static int authenticate(struct rpc *rq, const Signet__V1__Envelope *env, struct auth_client **who)
{
	int r;

	*who = NULL;
	rq->caller = "";
	if (rq->d->auth == NULL)
		return 0;
	r = auth_authenticate(rq->d->auth, env, now_ms(rq->d), who, &rq->em);
	if (r == 0 && *who != NULL) {
		rq->client = auth_client_def(*who);
		rq->caller = rq->client->name;
	} else if (r != 0 && env->credential != NULL && env->credential->client != NULL)
		rpc_object(rq, "claimed_client=%.64s", env->credential->client);
	return r;
}

/* A privileged method that ran (or was refused) goes to the audit trail. A
 * failure to record is logged: the request's own result stands. */
static void audit_act(struct rpc *rq, const Signet__V1__Envelope *env,
		      const ProtobufCMethodDescriptor *method, int r)
{
	const struct dispatch_method *row = dispatch_method((unsigned)(method - SERVICE->methods));
	struct audit_event ev = {
		.caller = rq->caller != NULL ? rq->caller : "",
		.method = method->name,
		.object = rq->object,
		.status = signet_status_name(r),
		.message = r != 0 ? rq->em.text : "",
		.request_id = env->request_id.data,
		.request_id_len = env->request_id.len,
	};

	/* refusals of who may do what are audited whatever the method */
	int refused = r == SIGNET_E_UNAUTHENTICATED || r == SIGNET_E_PERMISSION_DENIED;

	if (rq->d->audit == NULL ||
	    !((row != NULL && (row->flags & SIGNET_METHOD_AUDITED) != 0) || refused))
		return;
	if (audit_append(rq->d->audit, &ev) != 0)
		log_error("%s: the audit trail could not record this act", method->name);
}

void dispatch_request(struct daemon_state *d, CK_SESSION_HANDLE session, const uint8_t *msg,
		      size_t len, uint8_t **reply, size_t *reply_len)
{
	struct rpc rq = {.d = d, .session = session};
	const ProtobufCMethodDescriptor *method = NULL;
	Signet__V1__Envelope *env = NULL;
	struct auth_client *who = NULL;
	int r;

	/* held to the reply: the configuration and clients it was checked
	 * against stay in force, and alive, for the whole request */
	if (d->swap_lock != NULL)
		pthread_rwlock_rdlock(d->swap_lock);
	/* Bounded before anything is decoded. */
	if (len > d->cfg->max_message_size) {
		r = errmsg_set(&rq.em, SIGNET_E_RESOURCE_EXHAUSTED,
			       "request of %zu bytes exceeds the limit of %zu bytes", len,
			       d->cfg->max_message_size);
		goto out;
	}
	env = (Signet__V1__Envelope *)protobuf_c_message_unpack(&signet__v1__envelope__descriptor,
								NULL, len, msg);
	if (env == NULL) {
		r = errmsg_set(&rq.em, SIGNET_E_INVALID_ARGUMENT,
			       "request is not a signet Envelope");
		goto out;
	}
	if ((r = envelope_check(env, &method, &rq.em)) == 0 &&
	    (r = authenticate(&rq, env, &who)) == 0)
		r = run_method(&rq, env, method, who);
out:
	if (r != 0 && rq.em.text[0] == '\0')
		snprintf(rq.em.text, sizeof(rq.em.text), "%s", signet_strerror(r));
	if (method != NULL)
		audit_act(&rq, env, method, r);
	if (r != 0) {
		if (rq.em.text[0] == '\0')
			snprintf(rq.em.text, sizeof(rq.em.text), "%s", signet_strerror(r));
		log_info("%s: %s: %s", method != NULL ? method->name : "request",
			 signet_status_name(r), rq.em.text);
	} else {
		log_debug("%s: OK", method->name);
	}
	pack_reply(env, r, rq.em.text, rq.out, rq.out_len, reply, reply_len);
	if (d->swap_lock != NULL)
		pthread_rwlock_unlock(d->swap_lock);
	free(rq.out);
	if (env != NULL)
		protobuf_c_message_free_unpacked(&env->base, NULL);
}
