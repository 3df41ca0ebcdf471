#include "hsm/sign.h"

#include <string.h>

#include <openssl/ec.h>

/* DER of DigestInfo { AlgorithmIdentifier, OCTET STRING } up to the digest (RFC 8017 9.2). */
static const uint8_t digestinfo_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					    0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t digestinfo_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
					    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					    0x02, 0x05, 0x00, 0x04, 0x30};
static const uint8_t digestinfo_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
					    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					    0x03, 0x05, 0x00, 0x04, 0x40};

struct hash_desc {
	const char *name;
	size_t len;
	CK_MECHANISM_TYPE ck_hash;
	CK_RSA_PKCS_MGF_TYPE mgf;
	const uint8_t *digestinfo;
};

static const struct hash_desc hashes[] = {
	[SIGNET_HASH_SHA256] = {"SHA256", 32, CKM_SHA256, CKG_MGF1_SHA256, digestinfo_sha256},
	[SIGNET_HASH_SHA384] = {"SHA384", 48, CKM_SHA384, CKG_MGF1_SHA384, digestinfo_sha384},
	[SIGNET_HASH_SHA512] = {"SHA512", 64, CKM_SHA512, CKG_MGF1_SHA512, digestinfo_sha512},
};

static const struct hash_desc *hash_lookup(enum signet_hash hash)
{
	if (hash < SIGNET_HASH_SHA256 || hash > SIGNET_HASH_SHA512)
		return NULL;
	return &hashes[hash];
}

const EVP_MD *sign_hash_md(enum signet_hash hash)
{
	switch (hash) {
	case SIGNET_HASH_SHA256:
		return EVP_sha256();
	case SIGNET_HASH_SHA384:
		return EVP_sha384();
	case SIGNET_HASH_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

size_t sign_hash_len(enum signet_hash hash)
{
	const struct hash_desc *h = hash_lookup(hash);

	return h != NULL ? h->len : 0;
}

const char *sign_hash_name(enum signet_hash hash)
{
	const struct hash_desc *h = hash_lookup(hash);

	return h != NULL ? h->name : "unknown";
}

static int key_is_ec(enum signet_key_alg alg)
{
	return alg == SIGNET_KEY_EC_P256 || alg == SIGNET_KEY_EC_P384;
}

static int key_is_rsa(enum signet_key_alg alg)
{
	return alg == SIGNET_KEY_RSA_2048 || alg == SIGNET_KEY_RSA_3072 ||
	       alg == SIGNET_KEY_RSA_4096;
}

static int plan_format(enum signet_key_alg alg, enum signet_sig_format format,
		       struct sign_plan *out, struct errmsg *em)
{
	if (format == SIGNET_SIG_DEFAULT)
		format = key_is_ec(alg) ? SIGNET_SIG_ECDSA_DER : SIGNET_SIG_RSA_PKCS1;
	switch (format) {
	case SIGNET_SIG_ECDSA_DER:
	case SIGNET_SIG_ECDSA_RAW:
		if (!key_is_ec(alg))
			return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
					  "signature format %s needs an EC key",
					  format == SIGNET_SIG_ECDSA_DER ? "ECDSA_DER"
									 : "ECDSA_RAW");
		out->mechanism = CKM_ECDSA;
		break;
	case SIGNET_SIG_RSA_PKCS1:
	case SIGNET_SIG_RSA_PSS:
		if (!key_is_rsa(alg))
			return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
					  "signature format %s needs an RSA key",
					  format == SIGNET_SIG_RSA_PSS ? "RSA_PSS" : "RSA_PKCS1");
		out->mechanism = format == SIGNET_SIG_RSA_PSS ? CKM_RSA_PKCS_PSS : CKM_RSA_PKCS;
		break;
	default:
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "unknown signature format %d",
				  (int)format);
	}
	out->format = format;
	return 0;
}

int sign_plan_make(enum signet_key_alg alg, enum signet_hash hash, enum signet_sig_format format,
		   struct sign_plan *out, struct errmsg *em)
{
	const struct hash_desc *h;
	int r;

	memset(out, 0, sizeof(*out));
	if (!key_is_ec(alg) && !key_is_rsa(alg))
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "the key's algorithm is not one signet signs with");
	if (hash == SIGNET_HASH_DEFAULT)
		hash = alg == SIGNET_KEY_EC_P384 ? SIGNET_HASH_SHA384 : SIGNET_HASH_SHA256;
	h = hash_lookup(hash);
	if (h == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "unknown hash algorithm %d",
				  (int)hash);
	if ((r = plan_format(alg, format, out, em)) != 0)
		return r;
	out->hash = hash;
	out->digest_len = h->len;
	out->pss.hashAlg = h->ck_hash;
	out->pss.mgf = h->mgf;
	out->pss.sLen = h->len;
	return 0;
}

void sign_plan_mechanism(struct sign_plan *plan, CK_MECHANISM *mech)
{
	mech->mechanism = plan->mechanism;
	if (plan->mechanism == CKM_RSA_PKCS_PSS) {
		mech->pParameter = &plan->pss;
		mech->ulParameterLen = sizeof(plan->pss);
	} else {
		mech->pParameter = NULL;
		mech->ulParameterLen = 0;
	}
}

int sign_build_input(const struct sign_plan *plan, const uint8_t *data, size_t len, int prehashed,
		     uint8_t *out, size_t *outlen, struct errmsg *em)
{
	const struct hash_desc *h = hash_lookup(plan->hash);
	size_t prefix = 0;
	unsigned int mdlen = 0;

	if (h == NULL)
		return errmsg_set(em, SIGNET_E_INTERNAL, "sign plan without a hash");
	if (plan->format == SIGNET_SIG_RSA_PKCS1) {
		memcpy(out, h->digestinfo, sizeof(digestinfo_sha256));
		prefix = sizeof(digestinfo_sha256);
	}
	if (prehashed) {
		if (len != h->len)
			return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
					  "a %s digest is %zu bytes, got %zu", h->name, h->len,
					  len);
		memcpy(out + prefix, data, len);
	} else {
		if (!EVP_Digest(data, len, out + prefix, &mdlen, sign_hash_md(plan->hash), NULL))
			return errmsg_openssl(em, SIGNET_E_INTERNAL, "hashing failed");
	}
	*outlen = prefix + h->len;
	return 0;
}

ECDSA_SIG *sign_ecdsa_raw_to_sig(const uint8_t *raw, size_t rawlen)
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;

	if (rawlen == 0 || rawlen % 2 != 0 || rawlen > 2 * 66)
		return NULL;
	r = BN_bin2bn(raw, (int)(rawlen / 2), NULL);
	s = BN_bin2bn(raw + rawlen / 2, (int)(rawlen / 2), NULL);
	sig = ECDSA_SIG_new();
	if (r == NULL || s == NULL || sig == NULL || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return NULL;
	}
	return sig; /* r and s transferred */
}

int sign_ecdsa_raw_to_der(const uint8_t *raw, size_t rawlen, uint8_t *der, size_t *derlen)
{
	ECDSA_SIG *sig = sign_ecdsa_raw_to_sig(raw, rawlen);
	unsigned char *p = der;
	int n;

	if (sig == NULL)
		return SIGNET_E_INTERNAL;
	n = i2d_ECDSA_SIG(sig, NULL);
	if (n <= 0 || n > SIGN_MAX_SIG) {
		ECDSA_SIG_free(sig);
		return SIGNET_E_INTERNAL;
	}
	n = i2d_ECDSA_SIG(sig, &p);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return SIGNET_E_INTERNAL;
	*derlen = (size_t)n;
	return 0;
}
