/*
 * Signing mechanisms as SignNonce requests. signetd is always sent a digest:
 * the hashing mechanisms (CKM_ECDSA_SHA256, CKM_SHA256_RSA_PKCS, ...) hash
 * here, as data arrives, so a multi-part C_SignUpdate needs no buffer; the
 * raw ones (CKM_ECDSA, CKM_RSA_PKCS, CKM_RSA_PKCS_PSS) are given a digest by
 * their caller, a DigestInfo for CKM_RSA_PKCS.
 */
#include <string.h>

#include <openssl/evp.h>

#include "p11.h"

enum { MECH_DIGEST, MECH_DIGESTINFO, MECH_HASHING };

static const struct mech {
	CK_MECHANISM_TYPE type;
	CK_KEY_TYPE key_type;
	int input;	       /* MECH_* */
	enum signet_hash hash; /* MECH_HASHING: the hash; else taken from the input */
	enum signet_sig_format fmt;
} mechs[] = {
	{CKM_ECDSA, CKK_EC, MECH_DIGEST, SIGNET_HASH_DEFAULT, SIGNET_SIG_ECDSA_RAW},
	{CKM_ECDSA_SHA256, CKK_EC, MECH_HASHING, SIGNET_HASH_SHA256, SIGNET_SIG_ECDSA_RAW},
	{CKM_ECDSA_SHA384, CKK_EC, MECH_HASHING, SIGNET_HASH_SHA384, SIGNET_SIG_ECDSA_RAW},
	{CKM_ECDSA_SHA512, CKK_EC, MECH_HASHING, SIGNET_HASH_SHA512, SIGNET_SIG_ECDSA_RAW},
	{CKM_RSA_PKCS, CKK_RSA, MECH_DIGESTINFO, SIGNET_HASH_DEFAULT, SIGNET_SIG_RSA_PKCS1},
	{CKM_SHA256_RSA_PKCS, CKK_RSA, MECH_HASHING, SIGNET_HASH_SHA256, SIGNET_SIG_RSA_PKCS1},
	{CKM_SHA384_RSA_PKCS, CKK_RSA, MECH_HASHING, SIGNET_HASH_SHA384, SIGNET_SIG_RSA_PKCS1},
	{CKM_SHA512_RSA_PKCS, CKK_RSA, MECH_HASHING, SIGNET_HASH_SHA512, SIGNET_SIG_RSA_PKCS1},
	{CKM_RSA_PKCS_PSS, CKK_RSA, MECH_DIGEST, SIGNET_HASH_DEFAULT, SIGNET_SIG_RSA_PSS},
	{CKM_SHA256_RSA_PKCS_PSS, CKK_RSA, MECH_HASHING, SIGNET_HASH_SHA256, SIGNET_SIG_RSA_PSS},
	{CKM_SHA384_RSA_PKCS_PSS, CKK_RSA, MECH_HASHING, SIGNET_HASH_SHA384, SIGNET_SIG_RSA_PSS},
	{CKM_SHA512_RSA_PKCS_PSS, CKK_RSA, MECH_HASHING, SIGNET_HASH_SHA512, SIGNET_SIG_RSA_PSS},
};
#define N_MECHS (sizeof(mechs) / sizeof(mechs[0]))

static const struct mech *mech_find(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < N_MECHS; i++)
		if (mechs[i].type == type)
			return &mechs[i];
	return NULL;
}

CK_RV p11_mech_list(CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv = CKR_OK;

	if (list != NULL && *count < N_MECHS)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (list != NULL)
		for (size_t i = 0; i < N_MECHS; i++)
			list[i] = mechs[i].type;
	*count = N_MECHS;
	return rv;
}

CK_RV p11_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	const struct mech *m = mech_find(type);

	if (m == NULL)
		return CKR_MECHANISM_INVALID;
	/* the key sizes signetd generates (GenerateKey's algorithms) */
	info->ulMinKeySize = m->key_type == CKK_EC ? 256 : 2048;
	info->ulMaxKeySize = m->key_type == CKK_EC ? 521 : 4096;
	info->flags = CKF_HW | CKF_SIGN;
	if (m->key_type == CKK_EC)
		info->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	return CKR_OK;
}

static const EVP_MD *sign_md(enum signet_hash hash)
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

static CK_MECHANISM_TYPE sign_ck_hash(enum signet_hash hash, CK_RSA_PKCS_MGF_TYPE *mgf)
{
	static const struct {
		enum signet_hash hash;
		CK_MECHANISM_TYPE ck;
		CK_RSA_PKCS_MGF_TYPE mgf;
	} t[] = {{SIGNET_HASH_SHA256, CKM_SHA256, CKG_MGF1_SHA256},
		 {SIGNET_HASH_SHA384, CKM_SHA384, CKG_MGF1_SHA384},
		 {SIGNET_HASH_SHA512, CKM_SHA512, CKG_MGF1_SHA512}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].hash == hash)
			return (*mgf = t[i].mgf, t[i].ck);
	return CKM_VENDOR_DEFINED;
}

/*
 * PSS parameters signetd can honour: MGF1 with the same hash and a salt as
 * long as the digest (what TLS 1.3 asks for). `*hash` is the hash named.
 */
static CK_RV sign_pss_params(const CK_MECHANISM *mech, enum signet_hash want,
			     enum signet_hash *hash)
{
	const CK_RSA_PKCS_PSS_PARAMS *p = mech->pParameter;

	if (p == NULL || mech->ulParameterLen != sizeof(*p))
		return CKR_MECHANISM_PARAM_INVALID;
	for (int h = SIGNET_HASH_SHA256; h <= SIGNET_HASH_SHA512; h++) {
		CK_RSA_PKCS_MGF_TYPE mgf;

		if (sign_ck_hash(h, &mgf) != p->hashAlg)
			continue;
		if (p->mgf != mgf || p->sLen != (CK_ULONG)EVP_MD_get_size(sign_md(h)) ||
		    (want != SIGNET_HASH_DEFAULT && (int)want != h))
			return CKR_MECHANISM_PARAM_INVALID;
		*hash = h;
		return CKR_OK;
	}
	return CKR_MECHANISM_PARAM_INVALID;
}

CK_RV p11_sign_init(struct p11_signop *op, const CK_MECHANISM *mech, const struct p11_object *key)
{
	const struct mech *m = mech_find(mech->mechanism);
	enum signet_hash hash;
	CK_RV rv;

	if (m == NULL)
		return CKR_MECHANISM_INVALID;
	if (key == NULL || key->cls != CKO_PRIVATE_KEY)
		return CKR_KEY_HANDLE_INVALID;
	if (key->key_type != m->key_type)
		return CKR_KEY_TYPE_INCONSISTENT;
	hash = m->hash;
	if (m->fmt == SIGNET_SIG_RSA_PSS) {
		if ((rv = sign_pss_params(mech, m->hash, &hash)) != CKR_OK)
			return rv;
	} else if (mech->pParameter != NULL || mech->ulParameterLen != 0) {
		return CKR_MECHANISM_PARAM_INVALID;
	}
	memset(op, 0, sizeof(*op));
	op->mech = mech->mechanism;
	op->key = key;
	op->hash = hash;
	op->fmt = m->fmt;
	if (m->input == MECH_HASHING) {
		if ((op->md = EVP_MD_CTX_new()) == NULL)
			return CKR_HOST_MEMORY;
		if (!EVP_DigestInit_ex(op->md, sign_md(hash), NULL)) {
			p11_sign_end(op);
			return CKR_FUNCTION_FAILED;
		}
	}
	op->active = 1;
	return CKR_OK;
}

CK_RV p11_sign_update(struct p11_signop *op, const uint8_t *data, size_t len)
{
	if (op->md != NULL)
		return EVP_DigestUpdate(op->md, data, len) ? CKR_OK : CKR_FUNCTION_FAILED;
	/* the raw mechanisms sign one digest or DigestInfo: a few dozen bytes */
	if (len > sizeof(op->buf) - op->buf_len)
		return CKR_DATA_LEN_RANGE;
	memcpy(op->buf + op->buf_len, data, len);
	op->buf_len += len;
	return CKR_OK;
}

CK_RV p11_output_check(CK_BYTE_PTR out, CK_ULONG_PTR out_len, size_t need, int *proceed)
{
	*proceed = 0;
	if (out == NULL) {
		*out_len = need;
		return CKR_OK;
	}
	if (*out_len < need) {
		*out_len = need;
		return CKR_BUFFER_TOO_SMALL;
	}
	*proceed = 1;
	return CKR_OK;
}

CK_RV p11_sign_digest(struct p11_signop *op, uint8_t *digest, size_t *digest_len,
		      enum signet_hash *hash)
{
	const struct mech *m = mech_find(op->mech);
	const uint8_t *d;
	unsigned int n;
	int h;
	CK_RV rv;

	if (op->md != NULL) {
		if (!EVP_DigestFinal_ex(op->md, digest, &n))
			return CKR_FUNCTION_FAILED;
		*digest_len = n;
		*hash = op->hash;
		return CKR_OK;
	}
	if (m->input == MECH_DIGESTINFO) {
		if ((rv = p11_digestinfo_parse(op->buf, op->buf_len, hash, &d, digest_len)) !=
		    CKR_OK)
			return rv;
		memcpy(digest, d, *digest_len);
		return CKR_OK;
	}
	if ((h = p11_hash_by_len(op->buf_len)) < 0 ||
	    (op->hash != SIGNET_HASH_DEFAULT && (int)op->hash != h))
		return CKR_DATA_LEN_RANGE;
	memcpy(digest, op->buf, op->buf_len);
	*digest_len = op->buf_len;
	*hash = (enum signet_hash)h;
	return CKR_OK;
}

void p11_sign_end(struct p11_signop *op)
{
	EVP_MD_CTX_free(op->md);
	OPENSSL_cleanse(op, sizeof(*op));
}
