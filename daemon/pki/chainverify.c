#include "pki/chainverify.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "records/issued.h"

int chain_leaf_describe(X509 *leaf, struct chain_result *out)
{
	int r = issued_spki_sha256(leaf, out->spki_sha256);

	out->device_id[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, out->device_id,
				  sizeof(out->device_id));
	if (issued_serial_hex(leaf, out->serial) != 0)
		out->serial[0] = '\0';
	ERR_clear_error();
	return r;
}

static int purpose_id(enum chain_purpose purpose)
{
	switch (purpose) {
	case CHAIN_CLIENT:
		return X509_PURPOSE_SSL_CLIENT;
	case CHAIN_SERVER:
		return X509_PURPOSE_SSL_SERVER;
	default:
		return X509_PURPOSE_ANY;
	}
}

static X509_STORE *anchor_store(STACK_OF(X509) * anchors, time_t now, enum chain_purpose purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_VERIFY_PARAM *param = X509_VERIFY_PARAM_new();
	int ok = store != NULL && param != NULL;

	for (int i = 0; ok && i < sk_X509_num(anchors); i++)
		ok = X509_STORE_add_cert(store, sk_X509_value(anchors, i)) == 1 ||
		     ERR_GET_REASON(ERR_peek_last_error()) == X509_R_CERT_ALREADY_IN_HASH_TABLE;
	/* PARTIAL_CHAIN: an anchor need not be self-signed (a CA signet holds
	 * under an outside root ends the path); X509_STRICT: RFC 5280's rules,
	 * AKI/SKI presence included. */
	if (ok) {
		X509_VERIFY_PARAM_set_flags(param,
					    X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
		if (now == CHAINVERIFY_ANY_TIME)
			X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
		else
			X509_VERIFY_PARAM_set_time(param, now);
		X509_VERIFY_PARAM_set_purpose(param, purpose_id(purpose));
		ok = X509_STORE_set1_param(store, param) == 1;
	}
	X509_VERIFY_PARAM_free(param);
	ERR_clear_error();
	if (!ok) {
		X509_STORE_free(store);
		return NULL;
	}
	return store;
}

static int verify_path(STACK_OF(X509) * presented, X509_STORE *store, STACK_OF(X509) * *path,
		       struct errmsg *em)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_dup(presented);
	int r = 0;

	if (ctx == NULL || untrusted == NULL ||
	    !X509_STORE_CTX_init(ctx, store, sk_X509_value(presented, 0), untrusted)) {
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	} else if (X509_verify_cert(ctx) != 1) {
		int err = X509_STORE_CTX_get_error(ctx),
		    depth = X509_STORE_CTX_get_error_depth(ctx);
		X509 *at = X509_STORE_CTX_get_current_cert(ctx);
		char subject[256] = "?";

		if (at != NULL)
			X509_NAME_oneline(X509_get_subject_name(at), subject, sizeof(subject));
		r = errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
			       "check 'chain' failed: %s (depth %d, %s)",
			       X509_verify_cert_error_string(err), depth, subject);
	} else if ((*path = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	}
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	return r;
}

/* Beyond what OpenSSL's purposes check: a device that proves possession by
 * signing needs digitalSignature itself, not keyAgreement; a CA purpose
 * needs the first certificate to be a CA. */
static int check_leaf(X509 *leaf, enum chain_purpose purpose, struct errmsg *em)
{
	uint32_t flags = X509_get_extension_flags(leaf);

	/* a device or server is an end entity: a CA certificate first in the
	 * chain (a chain presented in the wrong order) is no such leaf */
	if ((purpose == CHAIN_CLIENT || purpose == CHAIN_SERVER) && X509_check_ca(leaf) != 0)
		return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
				  "check 'leaf' failed: the first certificate is a CA certificate, "
				  "not a device's");
	if (purpose == CHAIN_CLIENT &&
	    (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)))
		return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
				  "check 'key usage' failed: the leaf's keyUsage does not include "
				  "digitalSignature");
	if (purpose == CHAIN_CA && X509_check_ca(leaf) != 1)
		return errmsg_set(
			em, SIGNET_E_UNAUTHENTICATED,
			"check 'ca' failed: the first certificate is not a CA certificate");
	return 0;
}

static int check_revocation(STACK_OF(X509) * path, chain_revoked_fn revoked, void *arg,
			    struct errmsg *em)
{
	for (int i = 0; revoked != NULL && i < sk_X509_num(path); i++) {
		X509 *c = sk_X509_value(path, i);
		char why[256] = "", subject[256];
		int r = revoked(arg, c, why, sizeof(why));

		if (r < 0)
			return errmsg_set(em, r, "check 'revocation' could not be made: %s", why);
		if (r > 0) {
			X509_NAME_oneline(X509_get_subject_name(c), subject, sizeof(subject));
			return errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
					  "check 'revocation' failed: %s (depth %d) %s", subject, i,
					  why);
		}
	}
	return 0;
}

int chainverify(STACK_OF(X509) * presented, STACK_OF(X509) * anchors, enum chain_purpose purpose,
		chain_revoked_fn revoked, void *arg, time_t now, struct chain_result *out,
		struct errmsg *em)
{
	X509_STORE *store = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (sk_X509_num(presented) < 1 || sk_X509_num(presented) > CHAINVERIFY_MAX_CERTS)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a chain is 1 to %d certificates, the leaf first",
				  CHAINVERIFY_MAX_CERTS);
	if (chain_leaf_describe(sk_X509_value(presented, 0), out) != 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the leaf's public key is unusable");
	if ((store = anchor_store(anchors, now, purpose)) == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	/* the leaf's own fitness first: its message is more precise than OpenSSL's */
	if ((r = check_leaf(sk_X509_value(presented, 0), purpose, em)) == 0 &&
	    (r = verify_path(presented, store, &out->path, em)) == 0)
		r = check_revocation(out->path, revoked, arg, em);
	X509_STORE_free(store);
	if (r != 0)
		chain_result_release(out);
	return r;
}

void chain_result_release(struct chain_result *r)
{
	sk_X509_pop_free(r->path, X509_free);
	r->path = NULL;
}
