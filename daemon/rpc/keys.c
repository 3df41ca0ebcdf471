/* Key RPCs: GenerateKey, GetPublicKey, ListKeys, DeleteKey, CreateCsr, SignNonce. */
#include <stdlib.h>
#include <string.h>

#include "pki/csr.h"
#include "hsm/keybridge.h"
#include "base/log.h"
#include "pki/pem.h"
#include "hsm/pubkey.h"
#include "rpc/rpc.h"
#include "hsm/sign.h"

/* CA keys sign certificates and CRLs through the CA RPCs only: a raw
 * signature by one (SignNonce over a TBSCertificate's hash) would be a
 * certificate no profile checked and no record holds. */
static int refuse_ca_key(struct rpc *rq, const char *name)
{
	if (!castore_key_reserved(name))
		return 0;
	return errmsg_set(&rq->em, SIGNET_E_PERMISSION_DENIED,
			  "key '%.64s' is in the CA key namespace (ca.*, caN.*): CA keys are "
			  "made, used and removed through the CA RPCs only",
			  name);
}

/* The wire enums and the public API enums share their numbers by design. */
static void key_info_fill(const struct key *k, Signet__V1__KeyInfo *info)
{
	info->name = (char *)k->name;
	info->algorithm = (Signet__V1__KeyAlgorithm)k->alg;
	info->id.data = (uint8_t *)k->id;
	info->id.len = k->id_len;
	info->sensitive = k->sensitive;
	info->extractable = k->extractable;
	info->usage = k->usage;
}

int process_generate_key(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GenerateKeyRequest *req = (const void *)request;
	Signet__V1__GenerateKeyResponse resp = SIGNET__V1__GENERATE_KEY_RESPONSE__INIT;
	Signet__V1__KeyInfo info = SIGNET__V1__KEY_INFO__INIT;
	struct key *k = NULL;
	int r;

	rpc_object(rq, "key=%.64s", req->name);
	if ((r = refuse_ca_key(rq, req->name)) != 0)
		return r;
	if (req->purpose != SIGNET__V1__KEY_PURPOSE__KEY_PURPOSE_SIGN &&
	    req->purpose != SIGNET__V1__KEY_PURPOSE__KEY_PURPOSE_RA)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "unknown key purpose %d",
				  (int)req->purpose);
	r = keystore_generate_for(
		rq->d->keys, rq->session, req->name, (enum signet_key_alg)req->algorithm,
		req->purpose == SIGNET__V1__KEY_PURPOSE__KEY_PURPOSE_RA ? KEYSTORE_PURPOSE_RA
									: KEYSTORE_PURPOSE_SIGN,
		&k, &rq->em);
	if (r != 0)
		return r;
	log_info("generated %s %skey '%s'", signet_key_alg_name(k->alg),
		 req->purpose == SIGNET__V1__KEY_PURPOSE__KEY_PURPOSE_RA ? "RA " : "", k->name);
	key_info_fill(k, &info);
	resp.key = &info;
	resp.public_key_der.data = k->spki;
	resp.public_key_der.len = k->spki_len;
	r = rpc_respond(rq, &resp.base);
	key_put(k);
	return r;
}

int process_get_public_key(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetPublicKeyRequest *req = (const void *)request;
	Signet__V1__GetPublicKeyResponse resp = SIGNET__V1__GET_PUBLIC_KEY_RESPONSE__INIT;
	Signet__V1__KeyInfo info = SIGNET__V1__KEY_INFO__INIT;
	struct key *k = NULL;
	char *pem = NULL;
	int r;

	if ((r = keystore_get(rq->d->keys, rq->session, req->name, &k, &rq->em)) != 0)
		return r;
	pem = pem_encode("PUBLIC KEY", k->spki, k->spki_len);
	if (pem == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	key_info_fill(k, &info);
	resp.key = &info;
	resp.public_key_der.data = k->spki;
	resp.public_key_der.len = k->spki_len;
	resp.public_key_pem = pem;
	r = rpc_respond(rq, &resp.base);
out:
	free(pem);
	key_put(k);
	return r;
}

int process_list_keys(struct rpc *rq, const ProtobufCMessage *request)
{
	Signet__V1__ListKeysResponse resp = SIGNET__V1__LIST_KEYS_RESPONSE__INIT;
	Signet__V1__KeyInfo *infos = NULL, **ptrs = NULL;
	struct key **keys = NULL;
	size_t n = 0, shown = 0;
	int r;

	(void)request;
	if ((r = keystore_list(rq->d->keys, rq->session, &keys, &n, &rq->em)) != 0)
		return r;
	if ((infos = rpc_entries(rq, n, sizeof(*infos))) == NULL ||
	    (ptrs = rpc_entries(rq, n, sizeof(*ptrs))) == NULL) {
		r = rq->em.err;
		goto out;
	}
	/* a client sees the keys its rules let it use, not every key's name */
	for (size_t i = 0; i < n; i++) {
		if (!authz_key_visible(rq->client, keys[i]->name))
			continue;
		signet__v1__key_info__init(&infos[shown]);
		key_info_fill(keys[i], &infos[shown]);
		ptrs[shown] = &infos[shown];
		shown++;
	}
	resp.keys = ptrs;
	resp.n_keys = shown;
	r = rpc_respond(rq, &resp.base);
out:
	free(ptrs);
	free(infos);
	keystore_list_free(keys, n);
	return r;
}

int process_delete_key(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__DeleteKeyRequest *req = (const void *)request;
	Signet__V1__DeleteKeyResponse resp = SIGNET__V1__DELETE_KEY_RESPONSE__INIT;
	int r;

	rpc_object(rq, "key=%.64s", req->name);
	if ((r = refuse_ca_key(rq, req->name)) != 0 ||
	    (r = keystore_delete(rq->d->keys, rq->session, req->name, &rq->em)) != 0)
		return r;
	log_info("deleted key '%s'", req->name);
	return rpc_respond(rq, &resp.base);
}

static enum signet_hash csr_hash(const struct key *k, Signet__V1__HashAlgorithm wire)
{
	if (wire != SIGNET__V1__HASH_ALGORITHM__HASH_DEFAULT)
		return (enum signet_hash)wire;
	return k->alg == SIGNET_KEY_EC_P384 ? SIGNET_HASH_SHA384 : SIGNET_HASH_SHA256;
}

int process_create_csr(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__CreateCsrRequest *req = (const void *)request;
	Signet__V1__CreateCsrResponse resp = SIGNET__V1__CREATE_CSR_RESPONSE__INIT;
	struct csr_params p = {
		.subject = req->subject,
		.dns_names = req->dns_names,
		.n_dns_names = req->n_dns_names,
		.ip_addresses = req->ip_addresses,
		.n_ip_addresses = req->n_ip_addresses,
		.uris = req->uris,
		.n_uris = req->n_uris,
		.emails = req->emails,
		.n_emails = req->n_emails,
	};
	struct keybridge bridge = {.ks = rq->d->keys, .session = rq->session, .em = &rq->em};
	EVP_PKEY *signer = NULL;
	const EVP_MD *md;
	uint8_t *der = NULL;
	size_t der_len = 0;
	char *pem = NULL;
	int r;

	rpc_object(rq, "key=%.64s", req->key);
	if ((r = refuse_ca_key(rq, req->key)) != 0 ||
	    (r = keystore_get(rq->d->keys, rq->session, req->key, &bridge.key, &rq->em)) != 0)
		return r;
	md = sign_hash_md(csr_hash(bridge.key, req->hash));
	if (md == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "unknown hash algorithm %d",
			       (int)req->hash);
		goto out;
	}
	if (bridge.key->alg == SIGNET_KEY_UNSPECIFIED) {
		r = errmsg_set(&rq->em, SIGNET_E_FAILED_PRECONDITION,
			       "key '%s' is of a kind signet does not sign with", req->key);
		goto out;
	}
	signer = keybridge_pkey(&bridge);
	if (signer == NULL) {
		r = errmsg_openssl(&rq->em, SIGNET_E_INTERNAL, "cannot set up token signing");
		goto out;
	}
	if ((r = csr_build(&p, signer, bridge.key->pub_pkey, md, &der, &der_len, &rq->em)) != 0)
		goto out;
	pem = pem_encode("CERTIFICATE REQUEST", der, der_len);
	if (pem == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	resp.csr_der.data = der;
	resp.csr_der.len = der_len;
	resp.csr_pem = pem;
	r = rpc_respond(rq, &resp.base);
out:
	free(pem);
	OPENSSL_free(der);
	EVP_PKEY_free(signer);
	key_put(bridge.key);
	return r;
}

/* C_Sign's output in the requested encoding. */
static int sign_encode(const struct sign_plan *plan, uint8_t *sig, size_t *siglen)
{
	uint8_t der[SIGN_MAX_SIG];
	size_t der_len = 0;
	int r;

	if (plan->format != SIGNET_SIG_ECDSA_DER)
		return 0;
	if ((r = sign_ecdsa_raw_to_der(sig, *siglen, der, &der_len)) != 0)
		return r;
	memcpy(sig, der, der_len);
	*siglen = der_len;
	return 0;
}

/* One input signed under `plan`: hashed (unless prehashed), signed on the
 * worker's session, encoded. sig holds SIGN_MAX_SIG bytes. */
static int sign_one(struct rpc *rq, struct key *k, struct sign_plan *plan,
		    const ProtobufCBinaryData *data, int prehashed, uint8_t *sig, size_t *sig_len)
{
	uint8_t input[SIGN_MAX_INPUT];
	size_t input_len = 0;
	CK_MECHANISM mech;
	int r;

	*sig_len = SIGN_MAX_SIG;
	if ((r = sign_build_input(plan, data->data, data->len, prehashed, input, &input_len,
				  &rq->em)) != 0)
		goto out;
	sign_plan_mechanism(plan, &mech);
	if ((r = keystore_sign(rq->d->keys, rq->session, k, &mech, input, input_len, sig, sig_len,
			       &rq->em)) != 0)
		goto out;
	if ((r = sign_encode(plan, sig, sig_len)) != 0)
		r = errmsg_set(&rq->em, r, "the token returned a malformed ECDSA signature");
out:
	OPENSSL_cleanse(input, sizeof(input));
	return r;
}

/* The key, once its rules allow it to sign, and the plan for its signatures. */
static int sign_setup(struct rpc *rq, const char *key, int hash, int format, struct key **k,
		      struct sign_plan *plan)
{
	int r;

	if ((r = refuse_ca_key(rq, key)) != 0 ||
	    (r = keystore_get(rq->d->keys, rq->session, key, k, &rq->em)) != 0)
		return r;
	if ((r = sign_plan_make((*k)->alg, (enum signet_hash)hash, (enum signet_sig_format)format,
				plan, &rq->em)) != 0) {
		key_put(*k);
		*k = NULL;
	}
	return r;
}

int process_sign_nonce(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__SignNonceRequest *req = (const void *)request;
	Signet__V1__SignNonceResponse resp = SIGNET__V1__SIGN_NONCE_RESPONSE__INIT;
	int prehashed = req->input_case == SIGNET__V1__SIGN_NONCE_REQUEST__INPUT_DIGEST;
	const ProtobufCBinaryData *data = prehashed ? &req->digest : &req->message;
	uint8_t sig[SIGN_MAX_SIG];
	size_t sig_len = 0;
	struct sign_plan plan;
	struct key *k = NULL;
	int r;

	rpc_object(rq, "key=%.64s", req->key);
	if (req->input_case == SIGNET__V1__SIGN_NONCE_REQUEST__INPUT__NOT_SET)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "nothing to sign: set message or digest");
	if ((r = sign_setup(rq, req->key, req->hash, req->format, &k, &plan)) != 0)
		return r;
	if ((r = sign_one(rq, k, &plan, data, prehashed, sig, &sig_len)) != 0)
		goto out;
	resp.signature.data = sig;
	resp.signature.len = sig_len;
	resp.hash = (Signet__V1__HashAlgorithm)plan.hash;
	resp.format = (Signet__V1__SignatureFormat)plan.format;
	r = rpc_respond(rq, &resp.base);
out:
	key_put(k);
	return r;
}

/* The inputs of a batch: messages or digests, 1 to SIGNET_SIGN_BATCH_MAX. */
static int batch_inputs(struct rpc *rq, const Signet__V1__SignNonceBatchRequest *req,
			const ProtobufCBinaryData **in, size_t *n, int *prehashed)
{
	if (req->n_messages > 0 && req->n_digests > 0)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a batch holds messages or digests, not both");
	*prehashed = req->n_digests > 0;
	*in = *prehashed ? req->digests : req->messages;
	*n = *prehashed ? req->n_digests : req->n_messages;
	if (*n == 0)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "nothing to sign: the batch has no messages or digests");
	if (*n > SIGNET_SIGN_BATCH_MAX)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a batch holds at most %d inputs, this one %zu",
				  SIGNET_SIGN_BATCH_MAX, *n);
	return 0;
}

int process_sign_nonce_batch(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__SignNonceBatchRequest *req = (const void *)request;
	Signet__V1__SignNonceBatchResponse resp = SIGNET__V1__SIGN_NONCE_BATCH_RESPONSE__INIT;
	const ProtobufCBinaryData *in;
	ProtobufCBinaryData *sigs = NULL;
	uint8_t *buf = NULL;
	struct sign_plan plan;
	struct key *k = NULL;
	size_t n = 0, i;
	int prehashed, r;

	rpc_object(rq, "key=%.64s", req->key);
	if ((r = batch_inputs(rq, req, &in, &n, &prehashed)) != 0)
		return r;
	rpc_object(rq, "key=%.64s count=%zu", req->key, n);
	if ((r = sign_setup(rq, req->key, req->hash, req->format, &k, &plan)) != 0)
		return r;
	if ((sigs = calloc(n, sizeof(*sigs))) == NULL || (buf = malloc(n * SIGN_MAX_SIG)) == NULL) {
		r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		sigs[i].data = buf + i * SIGN_MAX_SIG;
		if ((r = sign_one(rq, k, &plan, &in[i], prehashed, sigs[i].data, &sigs[i].len)) !=
		    0) {
			char why[ERRMSG_MAX];

			snprintf(why, sizeof(why), "%s", rq->em.text);
			errmsg_set(&rq->em, r, "input %zu of %zu: %s", i + 1, n, why);
			goto out;
		}
	}
	resp.signatures = sigs;
	resp.n_signatures = n;
	resp.hash = (Signet__V1__HashAlgorithm)plan.hash;
	resp.format = (Signet__V1__SignatureFormat)plan.format;
	r = rpc_respond(rq, &resp.base);
out:
	free(buf);
	free(sigs);
	key_put(k);
	return r;
}
