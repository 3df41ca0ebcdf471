#include "pki/sigverify.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "pki/profile.h"
#include "hsm/sign.h"

/* A raw r||s signature as the DER OpenSSL verifies; its halves must each be
 * the field size, as SignNonce (and COSE/JOSE) make them. */
static int raw_to_der(EVP_PKEY *pub, const uint8_t *sig, size_t siglen, uint8_t *der,
		      size_t *derlen, struct errmsg *em)
{
	size_t field = (size_t)(EVP_PKEY_get_bits(pub) + 7) / 8;

	if (siglen != 2 * field || sign_ecdsa_raw_to_der(sig, siglen, der, derlen) != 0)
		return errmsg_set(
			em, SIGNET_E_INVALID_ARGUMENT,
			"a raw ECDSA signature for this key is %zu bytes (r || s), not %zu",
			2 * field, siglen);
	return 0;
}

/* A DER ECDSA-Sig-Value must parse to its exact end before it is verified. */
static int der_well_formed(const uint8_t *sig, size_t siglen, struct errmsg *em)
{
	const unsigned char *p = sig;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
	int ok = s != NULL && p == sig + siglen;

	ECDSA_SIG_free(s);
	ERR_clear_error();
	return ok ? 0
		  : errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
			       "the signature is not a DER ECDSA-Sig-Value");
}

static int set_padding(EVP_PKEY_CTX *pctx, const struct sign_plan *plan)
{
	if (plan->format == SIGNET_SIG_RSA_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
	if (plan->format == SIGNET_SIG_RSA_PKCS1)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
	return 1;
}

static int verify(EVP_PKEY *pub, const struct sign_plan *plan, const uint8_t *msg, size_t len,
		  const uint8_t *sig, size_t siglen, struct errmsg *em)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int r;

	if (ctx == NULL ||
	    EVP_DigestVerifyInit(ctx, &pctx, sign_hash_md(plan->hash), NULL, pub) != 1 ||
	    !set_padding(pctx, plan))
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot set up verification");
	else if (EVP_DigestVerify(ctx, sig, siglen, msg, len) != 1)
		r = errmsg_set(em, SIGNET_E_UNAUTHENTICATED,
			       "the signature does not verify with the certificate's key (%s, %s)",
			       sign_hash_name(plan->hash),
			       plan->format == SIGNET_SIG_RSA_PSS     ? "RSA-PSS"
			       : plan->format == SIGNET_SIG_RSA_PKCS1 ? "RSA PKCS#1 v1.5"
								      : "ECDSA");
	else
		r = 0;
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}

int sigverify_message(EVP_PKEY *pub, const uint8_t *msg, size_t len, const uint8_t *sig,
		      size_t siglen, enum signet_hash hash, enum signet_sig_format format,
		      struct errmsg *em)
{
	char desc[64];
	enum signet_key_alg alg = profile_key_alg(pub, desc, sizeof(desc));
	struct sign_plan plan;
	uint8_t der[SIGN_MAX_SIG];
	size_t derlen = sizeof(der);
	int r;

	if (alg == SIGNET_KEY_UNSPECIFIED)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the certificate's key (%s) is not one signet verifies", desc);
	if ((r = sign_plan_make(alg, hash, format, &plan, em)) != 0)
		return r;
	if (siglen == 0 || siglen > SIGN_MAX_SIG)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "a signature of %zu bytes",
				  siglen);
	if (plan.format == SIGNET_SIG_ECDSA_RAW) {
		if ((r = raw_to_der(pub, sig, siglen, der, &derlen, em)) != 0)
			return r;
		return verify(pub, &plan, msg, len, der, derlen, em);
	}
	if (plan.format == SIGNET_SIG_ECDSA_DER && (r = der_well_formed(sig, siglen, em)) != 0)
		return r;
	return verify(pub, &plan, msg, len, sig, siglen, em);
}
