/* Key RPCs: GenerateKey, GetPublicKey, ListKeys, DeleteKey. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "reply.h"

/* Release what a key_info holds, not the struct itself (list entries live in an array). */
static void key_info_clear(struct signet_key_info *key)
{
	free(key->name);
	free(key->id);
	free(key->spki_der);
	free(key->spki_pem);
	memset(key, 0, sizeof(*key));
}

void signet_key_info_free(struct signet_key_info *key)
{
	if (key == NULL)
		return;
	key_info_clear(key);
	free(key);
}

void signet_key_list_free(struct signet_key_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; list->keys != NULL && i < list->n_keys; i++)
		key_info_clear(&list->keys[i]);
	free(list->keys);
	memset(list, 0, sizeof(*list));
	free(list);
}

/* Fill `key` from the wire; on failure the caller clears what was copied. */
static int key_info_copy(struct signet_key_info *key, const Signet__V1__KeyInfo *k,
			 const ProtobufCBinaryData *spki, const char *pem)
{
	key->alg = (enum signet_key_alg)k->algorithm;
	key->sensitive = k->sensitive;
	key->extractable = k->extractable;
	key->usage = k->usage;
	if ((key->name = client_strdup(k->name)) == NULL ||
	    (key->id = client_memdup(k->id.data, k->id.len)) == NULL)
		return SIGNET_E_NOMEM;
	key->id_len = k->id.len;
	if (spki != NULL) {
		if ((key->spki_der = client_memdup(spki->data, spki->len)) == NULL)
			return SIGNET_E_NOMEM;
		key->spki_len = spki->len;
	}
	if (pem != NULL && (key->spki_pem = client_strdup(pem)) == NULL)
		return SIGNET_E_NOMEM;
	return 0;
}

static int key_info_new(signet_client *client, const char *method, const Signet__V1__KeyInfo *k,
			const ProtobufCBinaryData *spki, const char *pem,
			struct signet_key_info **out)
{
	struct signet_key_info *key = NULL;
	int r;

	if (k == NULL)
		return client_error(client, SIGNET_E_PROTOCOL, "%s reply carries no key", method);
	if ((key = calloc(1, sizeof(*key))) == NULL) {
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = key_info_copy(key, k, spki, pem)) != 0) {
		client_error(client, r, "out of memory");
		goto out;
	}
	*out = key;
	key = NULL; /* transferred */
out:
	signet_key_info_free(key);
	return r;
}

static int key_check_name(signet_client *client, const char *name)
{
	if (name == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no key name given");
	return 0;
}

/* GenerateKey and GetPublicKey: `req` for key `name`, answered by the key and
 * its public key (GetPublicKey's reply has the PEM too). */
static int key_rpc(signet_client *client, const char *name, const char *method,
		   const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply,
		   struct signet_key_info **out)
{
	const char *const *pem;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = key_check_name(client, name)) != 0)
		return r;
	if ((r = client_call(client, method, req, reply, &msg)) != 0)
		return r;
	pem = reply_field(msg, "public_key_pem");
	r = key_info_new(client, method, *(Signet__V1__KeyInfo *const *)reply_field(msg, "key"),
			 reply_field(msg, "public_key_der"), pem != NULL ? *pem : NULL, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_generate_key(signet_client *client, const char *name, enum signet_key_alg alg,
			struct signet_key_info **out)
{
	return signet_generate_key_for(client, name, alg, SIGNET_KEY_PURPOSE_SIGN, out);
}

int signet_generate_key_for(signet_client *client, const char *name, enum signet_key_alg alg,
			    enum signet_key_purpose purpose, struct signet_key_info **out)
{
	Signet__V1__GenerateKeyRequest req = SIGNET__V1__GENERATE_KEY_REQUEST__INIT;

	req.name = (char *)name;
	req.algorithm = (Signet__V1__KeyAlgorithm)alg;
	req.purpose = (Signet__V1__KeyPurpose)purpose;
	return key_rpc(client, name, "GenerateKey", &req.base,
		       &signet__v1__generate_key_response__descriptor, out);
}

int signet_get_public_key(signet_client *client, const char *name, struct signet_key_info **out)
{
	Signet__V1__GetPublicKeyRequest req = SIGNET__V1__GET_PUBLIC_KEY_REQUEST__INIT;

	req.name = (char *)name;
	return key_rpc(client, name, "GetPublicKey", &req.base,
		       &signet__v1__get_public_key_response__descriptor, out);
}

static int key_list_from_response(const Signet__V1__ListKeysResponse *resp,
				  struct signet_key_list **out)
{
	struct signet_key_list *list = calloc(1, sizeof(*list));
	int r = 0;

	if (list == NULL)
		return SIGNET_E_NOMEM;
	if ((list->keys = calloc(resp->n_keys + 1, sizeof(*list->keys))) == NULL) {
		r = SIGNET_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < resp->n_keys; i++) {
		/* Counted first, so that a partial copy is freed too. */
		list->n_keys = i + 1;
		if ((r = key_info_copy(&list->keys[i], resp->keys[i], NULL, NULL)) != 0)
			goto out;
	}
	*out = list;
	list = NULL; /* transferred */
out:
	signet_key_list_free(list);
	return r;
}

int signet_list_keys(signet_client *client, struct signet_key_list **out)
{
	Signet__V1__ListKeysRequest req = SIGNET__V1__LIST_KEYS_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = client_call(client, "ListKeys", &req.base,
			     &signet__v1__list_keys_response__descriptor, &msg)) != 0)
		return r;
	if ((r = key_list_from_response((const Signet__V1__ListKeysResponse *)msg, out)) != 0)
		client_error(client, r, "out of memory");
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_delete_key(signet_client *client, const char *name)
{
	Signet__V1__DeleteKeyRequest req = SIGNET__V1__DELETE_KEY_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = key_check_name(client, name)) != 0)
		return r;
	req.name = (char *)name;
	if ((r = client_call(client, "DeleteKey", &req.base,
			     &signet__v1__delete_key_response__descriptor, &msg)) != 0)
		return r;
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}
