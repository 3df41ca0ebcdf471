/* Service RPCs: GetInfo and Health. */
#include <stdio.h>
#include <stdlib.h>

#include "rpc/rpc.h"

static int mechanism_available(struct token *t, CK_MECHANISM_TYPE type, CK_ULONG bits)
{
	CK_MECHANISM_INFO info;

	if (token_functions(t)->C_GetMechanismInfo(token_slot_id(t), type, &info) != CKR_OK)
		return 0;
	if (!(info.flags & CKF_GENERATE_KEY_PAIR))
		return 0;
	/* EC modules report field sizes in bits; RSA ones modulus sizes. */
	return bits == 0 || (bits >= info.ulMinKeySize && bits <= info.ulMaxKeySize);
}

/* Algorithms this token can generate, in signet's terms. */
static size_t supported_algorithms(struct token *t, Signet__V1__KeyAlgorithm *out)
{
	size_t n = 0;

	if (mechanism_available(t, CKM_EC_KEY_PAIR_GEN, 0)) {
		out[n++] = SIGNET__V1__KEY_ALGORITHM__EC_P256;
		out[n++] = SIGNET__V1__KEY_ALGORITHM__EC_P384;
	}
	if (mechanism_available(t, CKM_RSA_PKCS_KEY_PAIR_GEN, 2048))
		out[n++] = SIGNET__V1__KEY_ALGORITHM__RSA_2048;
	if (mechanism_available(t, CKM_RSA_PKCS_KEY_PAIR_GEN, 3072))
		out[n++] = SIGNET__V1__KEY_ALGORITHM__RSA_3072;
	if (mechanism_available(t, CKM_RSA_PKCS_KEY_PAIR_GEN, 4096))
		out[n++] = SIGNET__V1__KEY_ALGORITHM__RSA_4096;
	return n;
}

int process_get_info(struct rpc *rq, const ProtobufCMessage *request)
{
	const ProtobufCServiceDescriptor *svc = &signet__v1__signet__descriptor;
	Signet__V1__GetInfoResponse resp = SIGNET__V1__GET_INFO_RESPONSE__INIT;
	Signet__V1__TokenInfo tok = SIGNET__V1__TOKEN_INFO__INIT;
	Signet__V1__KeyAlgorithm algs[5];
	char *methods[64];
	struct token *t = rq->d->token;

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
	for (unsigned i = 0; i < svc->n_methods && i < 64; i++)
		methods[i] = (char *)svc->methods[i].name;
	resp.n_methods = svc->n_methods < 64 ? svc->n_methods : 64;
	resp.methods = methods;
	resp.workers = rq->d->cfg->workers;
	resp.max_message_size = rq->d->cfg->max_message_size;
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
