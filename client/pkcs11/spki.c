/*
 * A key's PKCS#11 attributes, derived from its SubjectPublicKeyInfo.
 *
 * The SPKI is read as ASN.1 (X509_PUBKEY's fields), never made into an
 * EVP_PKEY: the module runs inside programs that set an engine as OpenSSL's
 * default for RSA or EC (the pkcs11 engine that loads this module, for one),
 * and an engine-backed key answers no EVP_PKEY_get_*_param().
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "p11.h"

static const struct {
	int nid;
	CK_ULONG bits;
} spki_curves[] = {
	{NID_X9_62_prime256v1, 256},
	{NID_secp384r1, 384},
	{NID_secp521r1, 521},
};

/* `*out` = DER of `obj` by `i2d`; CKR_HOST_MEMORY or CKR_DEVICE_ERROR. */
static CK_RV spki_i2d(int (*i2d)(const void *, unsigned char **), const void *obj, uint8_t **out,
		      size_t *out_len)
{
	unsigned char *der = NULL;
	int n = i2d(obj, &der);

	if (n <= 0)
		return CKR_DEVICE_ERROR;
	if ((*out = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der);
		return CKR_HOST_MEMORY;
	}
	memcpy(*out, der, (size_t)n);
	*out_len = (size_t)n;
	OPENSSL_free(der);
	return CKR_OK;
}

static int spki_i2d_object(const void *o, unsigned char **p)
{
	return i2d_ASN1_OBJECT(o, p);
}

static int spki_i2d_octets(const void *o, unsigned char **p)
{
	return i2d_ASN1_OCTET_STRING(o, p);
}

static CK_RV spki_ec(const X509_ALGOR *alg, const unsigned char *pk, int pk_len,
		     struct p11_keyattrs *out)
{
	const ASN1_OBJECT *curve;
	const void *pval;
	int ptype, nid;
	ASN1_OCTET_STRING *os = NULL;
	CK_RV rv = CKR_KEY_TYPE_INCONSISTENT;

	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype != V_ASN1_OBJECT) /* explicit curve parameters: not a named curve */
		return rv;
	curve = pval;
	nid = OBJ_obj2nid(curve);
	for (size_t i = 0; i < sizeof(spki_curves) / sizeof(spki_curves[0]); i++)
		if (spki_curves[i].nid == nid)
			out->bits = spki_curves[i].bits;
	if (out->bits == 0)
		return rv;
	out->key_type = CKK_EC;
	out->sig_len = 2 * ((out->bits + 7) / 8);
	/* the uncompressed point, as signetd's keys are and TLS stacks expect */
	if (pk_len != 1 + (int)out->sig_len || pk[0] != 0x04)
		return CKR_DEVICE_ERROR;
	if ((rv = spki_i2d(spki_i2d_object, curve, &out->ec_params, &out->ec_params_len)) != CKR_OK)
		return rv;
	/* CKA_EC_POINT is DER: an OCTET STRING around the point (PKCS#11 2.40, 2.3.3) */
	if ((os = ASN1_OCTET_STRING_new()) == NULL || !ASN1_OCTET_STRING_set(os, pk, pk_len))
		rv = CKR_HOST_MEMORY;
	else
		rv = spki_i2d(spki_i2d_octets, os, &out->ec_point, &out->ec_point_len);
	ASN1_OCTET_STRING_free(os);
	return rv;
}

/* INTEGER `t` as unsigned big-endian bytes; its bit count in `*bits` (optional). */
static CK_RV spki_integer(const ASN1_TYPE *t, uint8_t **out, size_t *out_len, CK_ULONG *bits)
{
	BIGNUM *bn;
	CK_RV rv = CKR_HOST_MEMORY;
	int n;

	if (t == NULL || t->type != V_ASN1_INTEGER ||
	    (bn = ASN1_INTEGER_to_BN(t->value.integer, NULL)) == NULL)
		return CKR_DEVICE_ERROR;
	n = BN_num_bytes(bn);
	if (n > 0 && (*out = malloc((size_t)n)) != NULL) {
		*out_len = (size_t)BN_bn2bin(bn, *out);
		if (bits != NULL)
			*bits = (CK_ULONG)BN_num_bits(bn);
		rv = CKR_OK;
	} else if (n == 0) {
		rv = CKR_DEVICE_ERROR;
	}
	BN_free(bn);
	return rv;
}

static CK_RV spki_rsa(const unsigned char *pk, int pk_len, struct p11_keyattrs *out)
{
	const unsigned char *p = pk;
	/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
	ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, pk_len);
	CK_RV rv = CKR_DEVICE_ERROR;

	if (seq == NULL)
		return rv;
	if (p == pk + pk_len && sk_ASN1_TYPE_num(seq) == 2 &&
	    (rv = spki_integer(sk_ASN1_TYPE_value(seq, 0), &out->modulus, &out->modulus_len,
			       &out->bits)) == CKR_OK &&
	    (rv = spki_integer(sk_ASN1_TYPE_value(seq, 1), &out->exponent, &out->exponent_len,
			       NULL)) == CKR_OK) {
		out->key_type = CKK_RSA;
		out->sig_len = (out->bits + 7) / 8;
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return rv;
}

CK_RV p11_spki_attrs(const uint8_t *der, size_t len, struct p11_keyattrs *out)
{
	const unsigned char *p = der, *pk;
	const ASN1_OBJECT *oid;
	X509_ALGOR *alg;
	X509_PUBKEY *pub;
	int pk_len, nid;
	CK_RV rv;

	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0 || len > 0x7fffffff ||
	    (pub = d2i_X509_PUBKEY(NULL, &p, (long)len)) == NULL)
		return CKR_DEVICE_ERROR;
	if (p != der + len || !X509_PUBKEY_get0_param(NULL, &pk, &pk_len, &alg, pub))
		rv = CKR_DEVICE_ERROR; /* trailing bytes: not one SPKI */
	else if (X509_ALGOR_get0(&oid, NULL, NULL, alg),
		 (nid = OBJ_obj2nid(oid)) == NID_X9_62_id_ecPublicKey)
		rv = spki_ec(alg, pk, pk_len, out);
	else if (nid == NID_rsaEncryption)
		rv = spki_rsa(pk, pk_len, out);
	else
		rv = CKR_KEY_TYPE_INCONSISTENT;
	X509_PUBKEY_free(pub);
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
