#include "hsm/pubkey.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

const uint8_t pubkey_p256_params[10] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const uint8_t pubkey_p384_params[7] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

int pubkey_attr_get(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		    CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len, size_t max,
		    struct errmsg *em)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv = fn->C_GetAttributeValue(s, obj, &a, 1);

	if (rv != CKR_OK)
		return p11_fail(em, rv, "C_GetAttributeValue");
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0 || a.ulValueLen > max)
		return errmsg_set(em, SIGNET_E_INTERNAL,
				  "token object attribute 0x%lx has an unusable length",
				  (unsigned long)type);
	a.pValue = malloc(a.ulValueLen);
	if (a.pValue == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	rv = fn->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return p11_fail(em, rv, "C_GetAttributeValue");
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

int pubkey_attr_bool(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, int *out)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = {type, &v, sizeof(v)};
	CK_RV rv = fn->C_GetAttributeValue(s, obj, &a, 1);

	*out = rv == CKR_OK && v == CK_TRUE;
	return rv == CKR_OK ? 0 : p11_err(rv);
}

EVP_PKEY *pubkey_ec_from_point(const char *group, const uint8_t *point, size_t len)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len);
	params[2] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* CKA_EC_POINT is a DER OCTET STRING by the standard; some modules return the
 * bare point. Accept both, by length. */
static int ec_point_unwrap(const uint8_t *attr, size_t len, size_t field, const uint8_t **point,
			   size_t *plen)
{
	size_t want = 2 * field + 1;

	if (len == want && attr[0] == 0x04) {
		*point = attr;
		*plen = len;
		return 0;
	}
	if (len >= 2 && attr[0] == 0x04 && attr[1] < 0x80 && attr[1] == len - 2 &&
	    attr[1] == want) {
		*point = attr + 2;
		*plen = len - 2;
		return 0;
	}
	if (len >= 3 && attr[0] == 0x04 && attr[1] == 0x81 && attr[2] == len - 3 &&
	    attr[2] == want) {
		*point = attr + 3;
		*plen = len - 3;
		return 0;
	}
	return -1;
}

static int load_ec(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
		   enum signet_key_alg *alg, EVP_PKEY **out, struct errmsg *em)
{
	uint8_t *params = NULL, *ecpoint = NULL;
	size_t plen = 0, elen = 0, field, ptlen;
	const uint8_t *point;
	const char *group;
	int r;

	if ((r = pubkey_attr_get(fn, s, pub, CKA_EC_PARAMS, &params, &plen, 256, em)) != 0 ||
	    (r = pubkey_attr_get(fn, s, pub, CKA_EC_POINT, &ecpoint, &elen, 256, em)) != 0)
		goto out;
	if (plen == sizeof(pubkey_p256_params) && memcmp(params, pubkey_p256_params, plen) == 0) {
		*alg = SIGNET_KEY_EC_P256;
		group = "P-256";
		field = 32;
	} else if (plen == sizeof(pubkey_p384_params) &&
		   memcmp(params, pubkey_p384_params, plen) == 0) {
		*alg = SIGNET_KEY_EC_P384;
		group = "P-384";
		field = 48;
	} else {
		r = errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			       "the key is on a curve signet does not use");
		goto out;
	}
	if (ec_point_unwrap(ecpoint, elen, field, &point, &ptlen) != 0) {
		r = errmsg_set(em, SIGNET_E_INTERNAL, "the token returned a malformed EC point");
		goto out;
	}
	*out = pubkey_ec_from_point(group, point, ptlen);
	if (*out == NULL)
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot decode the EC public key");
out:
	free(params);
	free(ecpoint);
	return r;
}

static EVP_PKEY *rsa_from_parts(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn_n = BN_bin2bn(n, (int)nlen, NULL), *bn_e = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;

	if (bld != NULL && bn_n != NULL && bn_e != NULL && ctx != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static int load_rsa(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
		    enum signet_key_alg *alg, EVP_PKEY **out, struct errmsg *em)
{
	uint8_t *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	int r, bits;

	if ((r = pubkey_attr_get(fn, s, pub, CKA_MODULUS, &n, &nlen, 1024, em)) != 0 ||
	    (r = pubkey_attr_get(fn, s, pub, CKA_PUBLIC_EXPONENT, &e, &elen, 16, em)) != 0)
		goto out;
	*out = rsa_from_parts(n, nlen, e, elen);
	if (*out == NULL) {
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot decode the RSA public key");
		goto out;
	}
	bits = EVP_PKEY_get_bits(*out);
	*alg = bits == 2048   ? SIGNET_KEY_RSA_2048
	       : bits == 3072 ? SIGNET_KEY_RSA_3072
	       : bits == 4096 ? SIGNET_KEY_RSA_4096
			      : SIGNET_KEY_UNSPECIFIED;
out:
	free(n);
	free(e);
	return r;
}

int pubkey_load(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
		enum signet_key_alg *alg, EVP_PKEY **out, struct errmsg *em)
{
	CK_KEY_TYPE type = 0;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &type, sizeof(type)};
	CK_RV rv = fn->C_GetAttributeValue(s, pub, &a, 1);

	*alg = SIGNET_KEY_UNSPECIFIED;
	if (rv != CKR_OK)
		return p11_fail(em, rv, "C_GetAttributeValue(CKA_KEY_TYPE)");
	if (type == CKK_EC)
		return load_ec(fn, s, pub, alg, out, em);
	if (type == CKK_RSA)
		return load_rsa(fn, s, pub, alg, out, em);
	return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION, "the key's type is neither EC nor RSA");
}

int pubkey_spki(EVP_PKEY *pkey, uint8_t **der, size_t *len)
{
	unsigned char *buf = NULL;
	int n = i2d_PUBKEY(pkey, &buf);

	if (n <= 0)
		return SIGNET_E_INTERNAL;
	*der = buf;
	*len = (size_t)n;
	return 0;
}
