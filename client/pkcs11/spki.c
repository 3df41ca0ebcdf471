/* A key's PKCS#11 attributes, derived from its SubjectPublicKeyInfo. */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "p11.h"

/* `*out` = i2d of an ASN1 object (the i2d_ function given). */
#define P11_I2D(fn, obj, out, out_len)                                                             \
	do {                                                                                       \
		int n_ = fn(obj, NULL);                                                            \
		unsigned char *p_;                                                                 \
		if (n_ <= 0 || (*(out) = malloc((size_t)n_)) == NULL)                              \
			break;                                                                     \
		p_ = *(out);                                                                       \
		*(out_len) = (size_t)fn(obj, &p_);                                                 \
	} while (0)

static CK_RV spki_ec(EVP_PKEY *pkey, struct p11_keyattrs *out)
{
	char group[64];
	unsigned char point[1 + 2 * 66];
	size_t point_len = 0;
	ASN1_OCTET_STRING *os = NULL;
	int nid;
	CK_RV rv = CKR_HOST_MEMORY;

	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) ||
	    (nid = OBJ_txt2nid(group)) == NID_undef)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1 && nid != NID_secp521r1)
		return CKR_KEY_TYPE_INCONSISTENT;
	/* the key's own encoding: uncompressed unless it says otherwise */
	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
					     &point_len) ||
	    point_len == 0 || point[0] != 0x04)
		return CKR_DEVICE_ERROR;
	out->key_type = CKK_EC;
	out->bits = (CK_ULONG)EVP_PKEY_get_bits(pkey);
	out->sig_len = 2 * ((out->bits + 7) / 8);
	P11_I2D(i2d_ASN1_OBJECT, OBJ_nid2obj(nid), &out->ec_params, &out->ec_params_len);
	if (out->ec_params == NULL)
		goto out;
	/* CKA_EC_POINT is DER: an OCTET STRING around the point (PKCS#11 2.40, 2.3.3) */
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, point, (int)point_len))
		goto out;
	P11_I2D(i2d_ASN1_OCTET_STRING, os, &out->ec_point, &out->ec_point_len);
	if (out->ec_point != NULL)
		rv = CKR_OK;
out:
	ASN1_OCTET_STRING_free(os);
	return rv;
}

static CK_RV spki_bn(EVP_PKEY *pkey, const char *name, uint8_t **out, size_t *out_len)
{
	BIGNUM *bn = NULL;
	CK_RV rv = CKR_HOST_MEMORY;
	int n;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		return CKR_DEVICE_ERROR;
	n = BN_num_bytes(bn);
	if ((*out = malloc(n > 0 ? (size_t)n : 1)) != NULL) {
		*out_len = (size_t)BN_bn2bin(bn, *out);
		rv = CKR_OK;
	}
	BN_free(bn);
	return rv;
}

static CK_RV spki_rsa(EVP_PKEY *pkey, struct p11_keyattrs *out)
{
	CK_RV rv;

	out->key_type = CKK_RSA;
	out->bits = (CK_ULONG)EVP_PKEY_get_bits(pkey);
	out->sig_len = (out->bits + 7) / 8;
	if ((rv = spki_bn(pkey, OSSL_PKEY_PARAM_RSA_N, &out->modulus, &out->modulus_len)) != CKR_OK)
		return rv;
	return spki_bn(pkey, OSSL_PKEY_PARAM_RSA_E, &out->exponent, &out->exponent_len);
}

CK_RV p11_spki_attrs(const uint8_t *der, size_t len, struct p11_keyattrs *out)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;
	CK_RV rv;

	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0 || len > 0x7fffffff ||
	    (pkey = d2i_PUBKEY(NULL, &p, (long)len)) == NULL)
		return CKR_DEVICE_ERROR;
	if (p != der + len)
		rv = CKR_DEVICE_ERROR; /* trailing bytes: not one SPKI */
	else if (EVP_PKEY_is_a(pkey, "EC"))
		rv = spki_ec(pkey, out);
	else if (EVP_PKEY_is_a(pkey, "RSA"))
		rv = spki_rsa(pkey, out);
	else
		rv = CKR_KEY_TYPE_INCONSISTENT;
	EVP_PKEY_free(pkey);
	if (rv != CKR_OK)
		p11_keyattrs_free(out);
	return rv;
}

void p11_keyattrs_free(struct p11_keyattrs *ka)
{
	if (ka == NULL)
		return;
	free(ka->ec_params);
	free(ka->ec_point);
	free(ka->modulus);
	free(ka->exponent);
	memset(ka, 0, sizeof(*ka));
}
