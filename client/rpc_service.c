/* Service RPCs: GetInfo and Health. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "reply.h"

void signet_info_free(struct signet_info *info)
{
	if (info == NULL)
		return;
	free(info->daemon_version);
	free(info->token_label);
	free(info->token_serial);
	free(info->token_model);
	free(info->token_manufacturer);
	free(info->key_algs);
	for (size_t i = 0; info->methods != NULL && i < info->n_methods; i++)
		free(info->methods[i]);
	free(info->methods);
	memset(info, 0, sizeof(*info));
	free(info);
}

static int info_copy_token(struct signet_info *info, const Signet__V1__TokenInfo *tok)
{
	static const Signet__V1__TokenInfo absent = SIGNET__V1__TOKEN_INFO__INIT;

	if (tok == NULL)
		tok = &absent;
	info->slot_id = tok->slot_id;
	info->token_label = client_strdup(tok->label);
	info->token_serial = client_strdup(tok->serial);
	info->token_model = client_strdup(tok->model);
	info->token_manufacturer = client_strdup(tok->manufacturer);
	if (info->token_label == NULL || info->token_serial == NULL || info->token_model == NULL ||
	    info->token_manufacturer == NULL)
		return SIGNET_E_NOMEM;
	return 0;
}

static int info_copy_lists(struct signet_info *info, const Signet__V1__GetInfoResponse *resp)
{
	/* One extra slot keeps calloc(0) from being ambiguous. */
	info->key_algs = calloc(resp->n_key_algorithms + 1, sizeof(*info->key_algs));
	info->methods = calloc(resp->n_methods + 1, sizeof(*info->methods));
	if (info->key_algs == NULL || info->methods == NULL)
		return SIGNET_E_NOMEM;
	for (size_t i = 0; i < resp->n_key_algorithms; i++)
		info->key_algs[i] = (enum signet_key_alg)resp->key_algorithms[i];
	info->n_key_algs = resp->n_key_algorithms;
	for (size_t i = 0; i < resp->n_methods; i++) {
		if ((info->methods[i] = client_strdup(resp->methods[i])) == NULL)
			return SIGNET_E_NOMEM;
		info->n_methods = i + 1;
	}
	return 0;
}

static int info_from_response(const Signet__V1__GetInfoResponse *resp, struct signet_info **out)
{
	struct signet_info *info = calloc(1, sizeof(*info));
	int r;

	if (info == NULL)
		return SIGNET_E_NOMEM;
	info->protocol_version = resp->protocol_version;
	info->workers = resp->workers;
	info->max_message_size = resp->max_message_size;
	info->max_batch_csrs = resp->max_batch_csrs;
	info->max_batch_bytes = resp->max_batch_bytes;
	if ((info->daemon_version = client_strdup(resp->daemon_version)) == NULL) {
		r = SIGNET_E_NOMEM;
		goto out;
	}
	if ((r = info_copy_token(info, resp->token)) != 0 || (r = info_copy_lists(info, resp)) != 0)
		goto out;
	*out = info;
	info = NULL; /* transferred */
out:
	signet_info_free(info);
	return r;
}

int signet_get_info(signet_client *client, struct signet_info **out)
{
	Signet__V1__GetInfoRequest req = SIGNET__V1__GET_INFO_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = client_call(client, "GetInfo", &req.base,
			     &signet__v1__get_info_response__descriptor, &resp)) != 0)
		return r;
	if ((r = info_from_response((const Signet__V1__GetInfoResponse *)resp, out)) != 0)
		client_error(client, r, "out of memory");
	protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

int signet_health(signet_client *client, struct signet_health *out)
{
	Signet__V1__HealthRequest req = SIGNET__V1__HEALTH_REQUEST__INIT;
	const Signet__V1__HealthResponse *resp;
	struct signet_health health = {0};
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = client_call(client, "Health", &req.base, &signet__v1__health_response__descriptor,
			     &msg)) != 0)
		return r;
	resp = (const Signet__V1__HealthResponse *)msg;
	health.serving = resp->status == SIGNET__V1__HEALTH_RESPONSE__SERVING_STATUS__SERVING;
	health.uptime_seconds = resp->uptime_seconds;
	reply_copy_text(resp->token_state, health.token_state, sizeof(health.token_state));
	/* NOT_SERVING is a successful answer that says the service is unavailable. */
	if (health.serving)
		*out = health;
	else
		r = client_error(client, SIGNET_E_UNAVAILABLE, "signetd is not serving (token: %s)",
				 health.token_state);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
