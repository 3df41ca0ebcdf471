/* Service RPCs: GetInfo and Health. */
#include <stdio.h>
#include <stdlib.h>

#include "rpc/dispatch.h"
#include "rpc/rpc.h"

/* Algorithms this token can generate, in signet's terms. */
static size_t supported_algorithms(struct token *t, Signet__V1__KeyAlgorithm *out)
{
	size_t n = 0;

	if (token_can_generate(t, CKM_EC_KEY_PAIR_GEN, 0)) {
		out[n++] = SIGNET__V1__KEY_ALGORITHM__EC_P256;
		out[n++] = SIGNET__V1__KEY_ALGORITHM__EC_P384;
	}
	if (token_can_generate(t, CKM_RSA_PKCS_KEY_PAIR_GEN, 2048))
		out[n++] = SIGNET__V1__KEY_ALGORITHM__RSA_2048;
	if (token_can_generate(t, CKM_RSA_PKCS_KEY_PAIR_GEN, 3072))
		out[n++] = SIGNET__V1__KEY_ALGORITHM__RSA_3072;
	if (token_can_generate(t, CKM_RSA_PKCS_KEY_PAIR_GEN, 4096))
		out[n++] = SIGNET__V1__KEY_ALGORITHM__RSA_4096;
	return n;
}

int process_get_info(struct rpc *rq, const ProtobufCMessage *request)
{
	Signet__V1__GetInfoResponse resp = SIGNET__V1__GET_INFO_RESPONSE__INIT;
	Signet__V1__TokenInfo tok = SIGNET__V1__TOKEN_INFO__INIT;
	Signet__V1__KeyAlgorithm algs[5];
	char *methods[64];
	struct token *t = rq->d->token;
	size_t n;
	const struct dispatch_method *served = dispatch_methods(&n);

	(void)request;
	tok.label = (char *)token_label(t);
	tok.serial = (char *)token_serial(t);
	tok.model = (char *)token_model(t);
	tok.manufacturer = (char *)token_manufacturer(t);
	tok.slot_id = token_slot_id(t);
	resp.daemon_version = SIGNET_VERSION;
	resp.protocol_version = SIGNET_PROTOCOL_VERSION;
	resp.token = &tok;
	resp.n_key_algorithms = supported_algorithms(t, algs);
	resp.key_algorithms = algs;
	for (size_t i = 0; i < n && i < 64; i++)
		methods[i] = (char *)served[i].name;
	resp.n_methods = n < 64 ? n : 64;
	resp.methods = methods;
	resp.workers = rq->d->cfg->workers;
	resp.max_message_size = rq->d->cfg->max_message_size;
	resp.max_batch_csrs = rq->d->cfg->max_batch_csrs;
	resp.max_batch_bytes = rq->d->cfg->max_batch_bytes;
	return rpc_respond(rq, &resp.base);
}

int process_health(struct rpc *rq, const ProtobufCMessage *request)
{
	Signet__V1__HealthResponse resp = SIGNET__V1__HEALTH_RESPONSE__INIT;
	char state[128];
	int r = token_health(rq->d->token, state, sizeof(state));

	(void)request;
	resp.status = r == 0 ? SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING
			     : SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__NOT_SERVING;
	resp.token_state = state;
	resp.uptime_seconds = (uint64_t)(time(NULL) - rq->d->started);
	return rpc_respond(rq, &resp.base);
}
