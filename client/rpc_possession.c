/* Proof of possession, server side: CreateChallenge, VerifyPossession, VerifyChain. */
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define SPKI_SHA256_LEN 32

void signet_challenge_free(struct signet_challenge *challenge)
{
	if (challenge == NULL)
		return;
	free(challenge->id);
	free(challenge->nonce);
	memset(challenge, 0, sizeof(*challenge));
	free(challenge);
}

void signet_verified_free(struct signet_verified *verified)
{
	if (verified == NULL)
		return;
	free(verified->device_id);
	free(verified->leaf_spki_sha256);
	free(verified->leaf_serial);
	free(verified->leaf_ca);
	for (size_t i = 0; verified->path != NULL && i < verified->n_path; i++)
		signet_buf_free(&verified->path[i]);
	free(verified->path);
	memset(verified, 0, sizeof(*verified));
	free(verified);
}

/* The oneof binding: exactly one of a non-empty device ID and a fingerprint. */
static int challenge_binding(signet_client *client, const char *device_id,
			     const uint8_t *spki_sha256, Signet__V1__CreateChallengeRequest *req)
{
	if ((device_id == NULL) == (spki_sha256 == NULL) ||
	    (device_id != NULL && device_id[0] == '\0'))
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "bind a challenge to a device ID or an SPKI SHA-256 "
				    "fingerprint, not both");
	if (device_id != NULL) {
		req->binding_case = SIGNET__V1__CREATE_CHALLENGE_REQUEST__BINDING_DEVICE_ID;
		req->device_id = (char *)device_id;
	} else {
		req->binding_case = SIGNET__V1__CREATE_CHALLENGE_REQUEST__BINDING_SPKI_SHA256;
		req->spki_sha256.data = (uint8_t *)spki_sha256;
		req->spki_sha256.len = SPKI_SHA256_LEN;
	}
	return 0;
}

/* A challenge without its id or nonce cannot be answered. */
static int challenge_new(signet_client *client, const Signet__V1__CreateChallengeResponse *resp,
			 struct signet_challenge **out)
{
	struct signet_challenge *c;

	if (resp->challenge_id == NULL || resp->challenge_id[0] == '\0' || resp->nonce.len == 0)
		return client_error(client, SIGNET_E_PROTOCOL,
				    "CreateChallenge reply carries no challenge id or nonce");
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->id = client_strdup(resp->challenge_id)) == NULL ||
	    (c->nonce = client_memdup(resp->nonce.data, resp->nonce.len)) == NULL) {
		signet_challenge_free(c);
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	}
	c->nonce_len = resp->nonce.len;
	c->expires_at = resp->expires_at;
	*out = c;
	return 0;
}

int signet_create_challenge(signet_client *client, const char *device_id,
			    const uint8_t *spki_sha256, unsigned ttl_seconds,
			    struct signet_challenge **out)
{
	Signet__V1__CreateChallengeRequest req = SIGNET__V1__CREATE_CHALLENGE_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = challenge_binding(client, device_id, spki_sha256, &req)) != 0)
		return r;
	req.ttl_seconds = ttl_seconds;
	if ((r = client_call(client, "CreateChallenge", &req.base,
			     &signet__v1__create_challenge_response__descriptor, &msg)) != 0)
		return r;
	r = challenge_new(client, (const Signet__V1__CreateChallengeResponse *)msg, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

/* An OK that names no path or no 32-byte leaf fingerprint verified nothing. */
static int verified_check(signet_client *client, const char *method,
			  const Signet__V1__VerifiedChain *c)
{
	if (c == NULL || c->n_path_der == 0 || c->leaf_spki_sha256.len != SPKI_SHA256_LEN)
		return client_error(client, SIGNET_E_PROTOCOL,
				    "%s reply carries no verified path or leaf fingerprint",
				    method);
	for (size_t i = 0; i < c->n_path_der; i++)
		if (c->path_der[i].len == 0)
			return client_error(client, SIGNET_E_PROTOCOL,
					    "%s reply carries an empty certificate in its path",
					    method);
	return 0;
}

static int verified_copy(struct signet_verified *v, const Signet__V1__VerifiedChain *c)
{
	if ((v->device_id = client_strdup(c->device_id)) == NULL ||
	    (v->leaf_serial = client_strdup(c->leaf_serial)) == NULL ||
	    (v->leaf_ca = client_strdup(c->leaf_ca)) == NULL ||
	    (v->leaf_spki_sha256 =
		     client_memdup(c->leaf_spki_sha256.data, c->leaf_spki_sha256.len)) == NULL ||
	    (v->path = calloc(c->n_path_der, sizeof(*v->path))) == NULL)
		return SIGNET_E_NOMEM;
	v->leaf_spki_sha256_len = c->leaf_spki_sha256.len;
	for (size_t i = 0; i < c->n_path_der; i++) {
		/* Counted first, so that a partial copy is freed too. */
		v->n_path = i + 1;
		if (client_buf_dup(&v->path[i], &c->path_der[i]) != 0)
			return SIGNET_E_NOMEM;
	}
	return 0;
}

/* VerifyPossession and VerifyChain answer alike; checked even when out is NULL. */
static int verified_new(signet_client *client, const char *method,
			const Signet__V1__VerifiedChain *c, struct signet_verified **out)
{
	struct signet_verified *v;
	int r;

	if ((r = verified_check(client, method, c)) != 0 || out == NULL)
		return r;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	if ((r = verified_copy(v, c)) != 0) {
		signet_verified_free(v);
		return client_error(client, r, "out of memory");
	}
	*out = v;
	return 0;
}

static int possession_check(signet_client *client, const char *challenge_id, const uint8_t *chain,
			    size_t chain_len, const uint8_t *sig, size_t sig_len)
{
	if (challenge_id == NULL || challenge_id[0] == '\0')
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no challenge id given");
	if (chain == NULL || chain_len == 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "no certificate chain given");
	if (sig == NULL || sig_len == 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no signature given");
	return 0;
}

int signet_verify_possession(signet_client *client, const char *challenge_id, const uint8_t *chain,
			     size_t chain_len, const uint8_t *sig, size_t sig_len,
			     enum signet_sig_format format, enum signet_hash hash,
			     struct signet_verified **out)
{
	Signet__V1__VerifyPossessionRequest req = SIGNET__V1__VERIFY_POSSESSION_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = possession_check(client, challenge_id, chain, chain_len, sig, sig_len)) != 0)
		return r;
	req.challenge_id = (char *)challenge_id;
	req.chain.data = (uint8_t *)chain;
	req.chain.len = chain_len;
	req.signature.data = (uint8_t *)sig;
	req.signature.len = sig_len;
	req.format = (Signet__V1__SignatureFormat)format;
	req.hash = (Signet__V1__HashAlgorithm)hash;
	if ((r = client_call(client, "VerifyPossession", &req.base,
			     &signet__v1__verify_possession_response__descriptor, &msg)) != 0)
		return r;
	r = verified_new(client, "VerifyPossession",
			 ((const Signet__V1__VerifyPossessionResponse *)msg)->chain, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_verify_chain(signet_client *client, const uint8_t *chain, size_t chain_len,
			enum signet_chain_purpose purpose, int check_revocation,
			struct signet_verified **out)
{
	Signet__V1__VerifyChainRequest req = SIGNET__V1__VERIFY_CHAIN_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (chain == NULL || chain_len == 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "no certificate chain given");
	if ((int)purpose < SIGNET_PURPOSE_CLIENT || (int)purpose > SIGNET_PURPOSE_ANY)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "%d is not a chain purpose",
				    (int)purpose);
	req.chain.data = (uint8_t *)chain;
	req.chain.len = chain_len;
	req.purpose = (Signet__V1__ChainPurpose)purpose;
	req.check_revocation = check_revocation != 0;
	if ((r = client_call(client, "VerifyChain", &req.base,
			     &signet__v1__verify_chain_response__descriptor, &msg)) != 0)
		return r;
	r = verified_new(client, "VerifyChain",
			 ((const Signet__V1__VerifyChainResponse *)msg)->chain, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
