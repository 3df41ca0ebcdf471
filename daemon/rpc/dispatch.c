#include "rpc/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

/* privileged: the act goes to the audit trail, whatever its result (refusals
 * by policy included). Reads of public material are not privileged. */
static const struct {
	const char *method;
	rpc_handler fn;
	int privileged;
} handler_table[] = {
	/* clang-format off */
	{"GetInfo", process_get_info, 0},
	{"Health", process_health, 0},
	{"GenerateKey", process_generate_key, 1},
	{"GetPublicKey", process_get_public_key, 0},
	{"ListKeys", process_list_keys, 0},
	{"DeleteKey", process_delete_key, 1},
	{"CreateCsr", process_create_csr, 1},
	{"SignNonce", process_sign_nonce, 1},
	{"CreateRootCa", process_create_root_ca, 1},
	{"CreateIntermediateCa", process_create_intermediate_ca, 1},
	{"GetCaChain", process_get_ca_chain, 0},
	{"ListCas", process_list_cas, 0},
	{"IssueVerificationCertificate", process_issue_verification_certificate, 1},
	{"SignCsr", process_sign_csr, 1},
	{"CreateCaRequest", process_create_ca_request, 1},
	{"ImportCaCertificate", process_import_ca_certificate, 1},
	{"RenewCa", process_renew_ca, 1},
	{"RekeyCa", process_rekey_ca, 1},
	{"ListIssued", process_list_issued, 0},
	{"GetIssued", process_get_issued, 0},
	{"Revoke", process_revoke, 1},
	{"GetCrl", process_get_crl, 1},
	{"CreateChallenge", process_create_challenge, 1},
	{"VerifyPossession", process_verify_possession, 1},
	{"VerifyChain", process_verify_chain, 0},
	/* clang-format on */
};

#define SERVICE	    (&signet__v1__signet__descriptor)
#define MAX_METHODS 64

static rpc_handler handlers_by_index[MAX_METHODS];
static int privileged_by_index[MAX_METHODS];

int dispatch_init(char *err, size_t errlen)
{
	if (SERVICE->n_methods > MAX_METHODS) {
		snprintf(err, errlen, "too many methods in the service descriptor");
		return -1;
	}
	for (unsigned i = 0; i < SERVICE->n_methods; i++) {
		const char *name = SERVICE->methods[i].name;

		handlers_by_index[i] = NULL;
		for (size_t h = 0; h < sizeof(handler_table) / sizeof(handler_table[0]); h++)
			if (strcmp(handler_table[h].method, name) == 0) {
				handlers_by_index[i] = handler_table[h].fn;
				privileged_by_index[i] = handler_table[h].privileged;
			}
		if (handlers_by_index[i] == NULL) {
			snprintf(err, errlen, "method %s has no handler", name);
			return -1;
		}
	}
	return 0;
}

rpc_handler dispatch_handler(unsigned method_index)
{
	return method_index < SERVICE->n_methods ? handlers_by_index[method_index] : NULL;
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
static int authorize(struct rpc *rq, const ProtobufCMethodDescriptor *method,
		     const ProtobufCMessage *req, const struct client_def *who)
{
	struct authz_target t;
	int admin = 1;

	if (who == NULL)
		return 0;
	if (rpc_target(method->name, req, &t, &admin) != 0)
		return errmsg_set(&rq->em, SIGNET_E_PERMISSION_DENIED,
				  "%s has no authorization rule", method->name);
	return authz_check(who, method->name, admin, &t, &rq->em);
}

static int run_method(struct rpc *rq, const Signet__V1__Envelope *env,
		      const ProtobufCMethodDescriptor *method, struct auth_client *who)
{
	ProtobufCMessage *req;
	rpc_handler fn = dispatch_handler((unsigned)(method - SERVICE->methods));
	int r;

	if (fn == NULL)
		return errmsg_set(&rq->em, SIGNET_E_UNIMPLEMENTED, "method %s is not served",
				  method->name);
	req = protobuf_c_message_unpack(method->input, NULL, env->payload.len, env->payload.data);
	if (req == NULL)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "cannot decode %s",
				  method->input->short_name);
	rq->em.err = 0;
	rq->request_id = env->request_id.data;
	if ((r = authorize(rq, method, req, auth_client_def(who))) == 0 &&
	    (rq->d->auth == NULL || (r = auth_enter(rq->d->auth, who, &rq->em)) == 0)) {
		r = fn(rq, req);
		if (rq->d->auth != NULL)
			auth_leave(rq->d->auth, who);
	}
	protobuf_c_message_free_unpacked(req, NULL);
	return r;
}

/* Who is calling: checked before the payload is decoded. */
static int authenticate(struct rpc *rq, const Signet__V1__Envelope *env, struct auth_client **who)
{
	struct timespec now;
	int r;

	*who = NULL;
	rq->caller = "";
	if (rq->d->auth == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	r = auth_authenticate(rq->d->auth, env, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
			      who, &rq->em);
	if (r == 0 && *who != NULL)
		rq->caller = auth_client_def(*who)->name;
	else if (r != 0 && env->credential != NULL && env->credential->client != NULL)
		rpc_object(rq, "claimed_client=%.64s", env->credential->client);
	return r;
}

/* A privileged method that ran (or was refused) goes to the audit trail. A
 * failure to record is logged: the request's own result stands. */
static void audit_act(struct rpc *rq, const Signet__V1__Envelope *env,
		      const ProtobufCMethodDescriptor *method, int r)
{
	unsigned index = (unsigned)(method - SERVICE->methods);
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

	if (rq->d->audit == NULL || index >= MAX_METHODS ||
	    !(privileged_by_index[index] || refused))
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
