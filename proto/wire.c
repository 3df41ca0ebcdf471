/* Error names and the single mapping between enum signet_err and wire status. */
#include "wire.h"

#include <string.h>

struct err_desc {
	int err;
	const char *name;
	const char *text;
};

static const struct err_desc err_table[] = {
	{SIGNET_OK, "OK", "success"},
	{SIGNET_E_CANCELLED, "CANCELLED", "cancelled"},
	{SIGNET_E_UNKNOWN, "UNKNOWN", "unknown error"},
	{SIGNET_E_INVALID_ARGUMENT, "INVALID_ARGUMENT", "invalid argument"},
	{SIGNET_E_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", "deadline exceeded"},
	{SIGNET_E_NOT_FOUND, "NOT_FOUND", "not found"},
	{SIGNET_E_ALREADY_EXISTS, "ALREADY_EXISTS", "already exists"},
	{SIGNET_E_PERMISSION_DENIED, "PERMISSION_DENIED", "permission denied"},
	{SIGNET_E_RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED", "resource exhausted"},
	{SIGNET_E_FAILED_PRECONDITION, "FAILED_PRECONDITION", "failed precondition"},
	{SIGNET_E_ABORTED, "ABORTED", "aborted"},
	{SIGNET_E_OUT_OF_RANGE, "OUT_OF_RANGE", "out of range"},
	{SIGNET_E_UNIMPLEMENTED, "UNIMPLEMENTED", "not implemented"},
	{SIGNET_E_INTERNAL, "INTERNAL", "internal error"},
	{SIGNET_E_UNAVAILABLE, "UNAVAILABLE", "service unavailable"},
	{SIGNET_E_DATA_LOSS, "DATA_LOSS", "data loss"},
	{SIGNET_E_UNAUTHENTICATED, "UNAUTHENTICATED", "unauthenticated"},
	{SIGNET_E_NOMEM, "NOMEM", "out of memory"},
	{SIGNET_E_TRANSPORT, "TRANSPORT", "cannot talk to signetd"},
	{SIGNET_E_PROTOCOL, "PROTOCOL", "malformed reply from signetd"},
};

static const struct err_desc *err_lookup(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].err == err)
			return &err_table[i];
	return NULL;
}

const char *signet_strerror(int err)
{
	const struct err_desc *d = err_lookup(err);

	return d != NULL ? d->text : "unrecognised error code";
}

const char *signet_status_name(int err)
{
	const struct err_desc *d = err_lookup(err);

	return d != NULL ? d->name : "UNKNOWN";
}

Signet__V1__StatusCode wire_status_from_err(int err)
{
	/* The wire-mirroring errors are minus the gRPC code by construction. */
	if (err <= 0 && err >= SIGNET_E_UNAUTHENTICATED)
		return (Signet__V1__StatusCode)-err;
	if (err > 0)
		return SIGNET__V1__STATUS_CODE__UNKNOWN;
	return SIGNET__V1__STATUS_CODE__INTERNAL;
}

int wire_err_from_status(int status)
{
	if (status >= 0 && status <= (int)SIGNET__V1__STATUS_CODE__UNAUTHENTICATED)
		return -status;
	return SIGNET_E_UNKNOWN;
}

static const char *const key_alg_names[] = {
	[SIGNET_KEY_EC_P256] = "p256",	   [SIGNET_KEY_EC_P384] = "p384",
	[SIGNET_KEY_RSA_2048] = "rsa2048", [SIGNET_KEY_RSA_3072] = "rsa3072",
	[SIGNET_KEY_RSA_4096] = "rsa4096",
};

const char *signet_key_alg_name(enum signet_key_alg alg)
{
	if ((int)alg <= 0 || (size_t)alg >= sizeof(key_alg_names) / sizeof(key_alg_names[0]))
		return NULL;
	return key_alg_names[alg];
}

int signet_key_alg_from_name(const char *name, enum signet_key_alg *out)
{
	if (name == NULL)
		return -1;
	for (size_t i = 1; i < sizeof(key_alg_names) / sizeof(key_alg_names[0]); i++) {
		if (strcmp(name, key_alg_names[i]) == 0) {
			*out = (enum signet_key_alg)i;
			return 0;
		}
	}
	return -1;
}

struct authmac_input wire_mac_input(const Signet__V1__Envelope *env)
{
	const Signet__V1__Credential *cr = env->credential;

	return (struct authmac_input){.method = env->method,
				      .request_id = env->request_id.data,
				      .request_id_len = env->request_id.len,
				      .client = cr->client,
				      .timestamp_ms = cr->timestamp_ms,
				      .nonce = cr->nonce.data,
				      .nonce_len = cr->nonce.len,
				      .payload = env->payload.data,
				      .payload_len = env->payload.len};
}
