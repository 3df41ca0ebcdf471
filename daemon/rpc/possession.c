/*
 * Proof of possession, server side: CreateChallenge, VerifyPossession,
 * VerifyChain. A challenge's nonce comes from the token's RNG; a device's
 * answer is checked in the order the failures are reported: the challenge,
 * the chain (with revocation in the ledger), the binding, the signature.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "pki/certparse.h"
#include "pki/chainverify.h"
#include "possession/challenge.h"
#include "records/issued.h"
#include "base/log.h"
#include "hex.h"
#include "rpc/rpc.h"
#include "pki/sigverify.h"

/* --- CreateChallenge --- */

static int device_id_valid(const char *id)
{
	size_t n = strlen(id);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || (unsigned char)id[i] == 0x7f)
			return 0;
	return n > 0 && n <= CHALLENGE_DEVICE_ID_MAX;
}

int process_create_challenge(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__CreateChallengeRequest *req = (const void *)request;
	Signet__V1__CreateChallengeResponse resp = SIGNET__V1__CREATE_CHALLENGE_RESPONSE__INIT;
	const struct config *cfg = rq->d->cfg;
	int by_device =
		req->binding_case == SIGNET__V1__CREATE_CHALLENGE_REQUEST__BINDING_DEVICE_ID;
	unsigned ttl = req->ttl_seconds != 0 ? req->ttl_seconds : cfg->challenge_ttl_seconds;
	uint8_t random[CHALLENGE_ID_LEN + CHALLENGE_NONCE_LEN];
	struct challenge c;
	int r;

	if (by_device && !device_id_valid(req->device_id))
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a device ID is 1-%d printable characters",
				  CHALLENGE_DEVICE_ID_MAX);
	if (!by_device && req->spki_sha256.len != 32)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "bind the challenge to a device_id or a 32-byte spki_sha256");
	if (ttl > cfg->challenge_max_ttl_seconds)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT,
				  "a challenge lives at most %u seconds",
				  cfg->challenge_max_ttl_seconds);
	rpc_object(rq, "device=%.64s", by_device ? req->device_id : "(fingerprint)");
	if ((r = token_random(rq->d->token, rq->session, random, sizeof(random), &rq->em)) != 0)
		return r;
	r = challenge_create(rq->d->challenges, rq->caller, by_device ? req->device_id : NULL,
			     by_device ? NULL : req->spki_sha256.data, random,
			     random + CHALLENGE_ID_LEN, (int64_t)time(NULL), ttl, &c, &rq->em);
	OPENSSL_cleanse(random, sizeof(random));
	if (r != 0)
		return r;
	rpc_object(rq, "challenge=%s device=%.64s", c.id,
		   by_device ? req->device_id : "(fingerprint)");
	resp.challenge_id = c.id;
	resp.nonce = (ProtobufCBinaryData){.data = c.nonce, .len = sizeof(c.nonce)};
	resp.expires_at = c.expires;
	r = rpc_respond(rq, &resp.base);
	OPENSSL_cleanse(c.nonce, sizeof(c.nonce));
	return r;
}

/* --- the chain both verifications share --- */

/* The ledger's word on a certificate of the path: revoked if the ledger
 * holds this very certificate (same DER) and it is revoked. Certificates
 * signet did not issue are not in it. */
int rpc_ledger_revoked(void *arg, X509 *cert, char *why, size_t whylen)
{
	struct rpc *rq = arg;
	struct ledger_entry e = {.der = NULL};
	char serial[LEDGER_SERIAL_MAX];
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der), r;

	if (issued_serial_hex(cert, serial) != 0 || n <= 0) {
		snprintf(why, whylen, "cannot read the certificate");
		r = SIGNET_E_INTERNAL;
	} else if ((r = ledger_get(rq->d->ledger, serial, NULL, &e, NULL)) == SIGNET_E_NOT_FOUND) {
		r = 0;
	} else if (r != 0) {
		snprintf(why, whylen, "the ledger cannot be read");
	} else {
		r = e.revoked_at != 0 && e.der_len == (size_t)n &&
		    memcmp(e.der, der, e.der_len) == 0;
		if (r)
			snprintf(why, whylen, "was revoked by CA '%s' (serial %s, reason %d)", e.ca,
				 e.serial, (int)e.reason);
	}
	ledger_entry_release(&e);
	OPENSSL_free(der);
	return r;
}

/* Signet's anchors and the configured ones, for one verification. */
static int anchors_get(struct rpc *rq, STACK_OF(X509) * *out)
{
	int r = castore_anchors(rq->d->cas, out, &rq->em);

	for (int i = 0; r == 0 && i < sk_X509_num(rq->d->trust_anchors); i++) {
		X509 *a = sk_X509_value(rq->d->trust_anchors, i);

		if (!sk_X509_push(*out, a))
			r = errmsg_set(&rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		else
			X509_up_ref(a);
	}
	return r;
}

static int chain_check(struct rpc *rq, const ProtobufCBinaryData *chain, enum chain_purpose purpose,
		       int revocation, struct chain_result *res)
{
	STACK_OF(X509) *presented = NULL, *anchors = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = certparse_many(chain->data, chain->len, CHAINVERIFY_MAX_CERTS, &presented,
				&rq->em)) == 0 &&
	    (r = anchors_get(rq, &anchors)) == 0)
		r = chainverify(presented, anchors, purpose, revocation ? rpc_ledger_revoked : NULL,
				rq, time(NULL), res, &rq->em);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(presented, X509_free);
	return r;
}

/* Everything a VerifiedChain points into. */
struct verified_buf {
	Signet__V1__VerifiedChain v;
	char leaf_ca[CA_NAME_MAX + 1];
	ProtobufCBinaryData path[CHAINVERIFY_MAX_CERTS + 1];
};

/* The signet CA that issued the leaf, if the ledger holds it. */
static void leaf_ca(struct rpc *rq, const struct chain_result *res, char *out, size_t outlen)
{
	struct ledger_entry e = {.der = NULL};

	out[0] = '\0';
	if (ledger_get(rq->d->ledger, res->serial, NULL, &e, NULL) == 0 &&
	    memcmp(e.spki_sha256, res->spki_sha256, 32) == 0)
		snprintf(out, outlen, "%s", e.ca);
	ledger_entry_release(&e);
}

static int verified_fill(struct rpc *rq, struct chain_result *res, struct verified_buf *b)
{
	int n = sk_X509_num(res->path);

	memset(b, 0, sizeof(*b));
	signet__v1__verified_chain__init(&b->v);
	leaf_ca(rq, res, b->leaf_ca, sizeof(b->leaf_ca));
	for (int i = 0; i < n && i <= CHAINVERIFY_MAX_CERTS; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(res->path, i), &der);

		if (len <= 0)
			return errmsg_set(&rq->em, SIGNET_E_INTERNAL, "cannot encode the path");
		b->path[b->v.n_path_der++] = (ProtobufCBinaryData){.data = der, .len = (size_t)len};
	}
	b->v.path_der = b->path;
	b->v.device_id = res->device_id;
	b->v.leaf_spki_sha256 = (ProtobufCBinaryData){.data = res->spki_sha256, .len = 32};
	b->v.leaf_serial = res->serial;
	b->v.leaf_ca = b->leaf_ca;
	return 0;
}

static void verified_release(struct verified_buf *b)
{
	for (size_t i = 0; i < b->v.n_path_der; i++)
		OPENSSL_free(b->path[i].data);
	b->v.n_path_der = 0;
}

/* --- VerifyChain --- */

int process_verify_chain(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__VerifyChainRequest *req = (const void *)request;
	Signet__V1__VerifyChainResponse resp = SIGNET__V1__VERIFY_CHAIN_RESPONSE__INIT;
	struct chain_result res;
	struct verified_buf b;
	int r;

	if (req->purpose > SIGNET__V1__CHAIN_PURPOSE__PURPOSE_ANY)
		return errmsg_set(&rq->em, SIGNET_E_INVALID_ARGUMENT, "unknown purpose %d",
				  (int)req->purpose);
	if ((r = chain_check(rq, &req->chain, (enum chain_purpose)req->purpose,
			     req->check_revocation, &res)) != 0)
		return r;
	if ((r = verified_fill(rq, &res, &b)) == 0) {
		resp.chain = &b.v;
		r = rpc_respond(rq, &resp.base);
	}
	verified_release(&b);
	chain_result_release(&res);
	return r;
}

/* --- VerifyPossession --- */

static int binding_check(struct rpc *rq, const struct challenge *c, const struct chain_result *res)
{
	if (c->has_fingerprint && memcmp(c->spki_sha256, res->spki_sha256, 32) != 0)
		return errmsg_set(&rq->em, SIGNET_E_PERMISSION_DENIED,
				  "check 'device' failed: the leaf's key is not the one the "
				  "challenge is for");
	/* device IDs are case-insensitive, as IoT Hub/DPS registration IDs are */
	if (!c->has_fingerprint && strcasecmp(c->device_id, res->device_id) != 0)
		return errmsg_set(&rq->em, SIGNET_E_PERMISSION_DENIED,
				  "check 'device' failed: the leaf's CN is '%.64s', the challenge "
				  "is for '%.64s'",
				  res->device_id, c->device_id);
	return 0;
}

/* A failure's message names the device and leaf it was about. */
static void name_the_leaf(struct rpc *rq, const struct chain_result *res)
{
	size_t used = strlen(rq->em.text);
	char fp[65];

	if (res->serial[0] == '\0' || used + 1 >= sizeof(rq->em.text))
		return;
	hex_encode(res->spki_sha256, 32, fp, sizeof(fp), HEX_LOWER, '\0');
	snprintf(rq->em.text + used, sizeof(rq->em.text) - used, "; device '%.64s', leaf sha256 %s",
		 res->device_id, fp);
}

static int possession_check(struct rpc *rq, const Signet__V1__VerifyPossessionRequest *req,
			    const struct challenge *c, struct chain_result *res)
{
	int r;

	if ((r = chain_check(rq, &req->chain, CHAIN_CLIENT, 1, res)) == 0 &&
	    (r = binding_check(rq, c, res)) == 0)
		r = sigverify_message(X509_get0_pubkey(sk_X509_value(res->path, 0)), c->nonce,
				      sizeof(c->nonce), req->signature.data, req->signature.len,
				      (enum signet_hash)req->hash,
				      (enum signet_sig_format)req->format, &rq->em);
	if (r != 0)
		name_the_leaf(rq, res);
	return r;
}

int process_verify_possession(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__VerifyPossessionRequest *req = (const void *)request;
	Signet__V1__VerifyPossessionResponse resp = SIGNET__V1__VERIFY_POSSESSION_RESPONSE__INIT;
	struct chain_result res = {.path = NULL};
	struct verified_buf b = {.v.n_path_der = 0};
	struct challenge c;
	int r;

	rpc_object(rq, "challenge=%.40s", req->challenge_id);
	/* consumed first: whatever follows, this challenge is spent */
	if ((r = challenge_take(rq->d->challenges, rq->caller, req->challenge_id,
				(int64_t)time(NULL), &c, &rq->em)) != 0)
		return r;
	r = possession_check(rq, req, &c, &res);
	rpc_object(rq, "challenge=%s device=%.64s serial=%s", c.id, res.device_id, res.serial);
	OPENSSL_cleanse(c.nonce, sizeof(c.nonce));
	if (r == 0 && (r = verified_fill(rq, &res, &b)) == 0) {
		log_info("possession proven: device '%s', serial %s", res.device_id, res.serial);
		resp.chain = &b.v;
		r = rpc_respond(rq, &resp.base);
	}
	verified_release(&b);
	chain_result_release(&res);
	return r;
}
