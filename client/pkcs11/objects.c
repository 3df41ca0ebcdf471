/*
 * Token objects: each key signetd lets the client use is a private key, a
 * public key and, when the ledger has a certificate for it, a certificate.
 * An object is a flat list of attributes computed once, so finding and
 * reading attributes is the same byte comparison and copy for all of them.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "p11.h"

CK_RV p11_object_add(struct p11_object *obj, CK_ATTRIBUTE_TYPE type, const void *val, size_t len)
{
	struct p11_attr *a = realloc(obj->attrs, (obj->n_attrs + 1) * sizeof(*a));

	if (a == NULL)
		return CKR_HOST_MEMORY;
	obj->attrs = a;
	a = &obj->attrs[obj->n_attrs];
	if ((a->val = malloc(len > 0 ? len : 1)) == NULL)
		return CKR_HOST_MEMORY;
	if (len > 0)
		memcpy(a->val, val, len);
	a->type = type;
	a->len = len;
	obj->n_attrs++;
	return CKR_OK;
}

static CK_RV object_bool(struct p11_object *obj, CK_ATTRIBUTE_TYPE type, CK_BBOOL v)
{
	return p11_object_add(obj, type, &v, sizeof(v));
}

static CK_RV object_ulong(struct p11_object *obj, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return p11_object_add(obj, type, &v, sizeof(v));
}

const struct p11_attr *p11_object_attr(const struct p11_object *obj, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < obj->n_attrs; i++)
		if (obj->attrs[i].type == type)
			return &obj->attrs[i];
	return NULL;
}

/* Attributes that would reveal a private key: PKCS#11 says "sensitive", not "absent". */
static int object_secret(const struct p11_object *obj, CK_ATTRIBUTE_TYPE type)
{
	if (obj->cls != CKO_PRIVATE_KEY)
		return 0;
	switch (type) {
	case CKA_VALUE:
	case CKA_PRIVATE_EXPONENT:
	case CKA_PRIME_1:
	case CKA_PRIME_2:
	case CKA_EXPONENT_1:
	case CKA_EXPONENT_2:
	case CKA_COEFFICIENT:
		return 1;
	default:
		return 0;
	}
}

CK_RV p11_object_get(const struct p11_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_RV rv = CKR_OK;

	for (CK_ULONG i = 0; i < n; i++) {
		const struct p11_attr *a = p11_object_attr(obj, tmpl[i].type);

		if (object_secret(obj, tmpl[i].type)) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_SENSITIVE;
		} else if (a == NULL) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (tmpl[i].pValue == NULL) {
			tmpl[i].ulValueLen = a->len;
		} else if (tmpl[i].ulValueLen < a->len) {
			tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			memcpy(tmpl[i].pValue, a->val, a->len);
			tmpl[i].ulValueLen = a->len;
		}
	}
	return rv;
}

int p11_object_match(const struct p11_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		const struct p11_attr *a = p11_object_attr(obj, tmpl[i].type);

		if (a == NULL || a->len != tmpl[i].ulValueLen ||
		    (a->len > 0 &&
		     (tmpl[i].pValue == NULL || memcmp(a->val, tmpl[i].pValue, a->len))))
			return 0;
	}
	return 1;
}

/* What every object says: class, label, ID, read-only token object. */
static CK_RV object_common(struct p11_object *obj, CK_OBJECT_CLASS cls, const char *name,
			   const uint8_t *id, size_t id_len)
{
	CK_RV rv;

	obj->cls = cls;
	if ((obj->key_name = strdup(name)) == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = object_ulong(obj, CKA_CLASS, cls)) != CKR_OK ||
	    (rv = object_bool(obj, CKA_TOKEN, CK_TRUE)) != CKR_OK ||
	    /* no login exists to unlock private objects: every object is visible (docs/pkcs11.md)
	     */
	    (rv = object_bool(obj, CKA_PRIVATE, CK_FALSE)) != CKR_OK ||
	    (rv = object_bool(obj, CKA_MODIFIABLE, CK_FALSE)) != CKR_OK ||
	    (rv = object_bool(obj, CKA_DESTROYABLE, CK_FALSE)) != CKR_OK ||
	    (rv = p11_object_add(obj, CKA_LABEL, name, strlen(name))) != CKR_OK)
		return rv;
	return p11_object_add(obj, CKA_ID, id, id_len);
}

/* The public values both key objects carry (and libp11 reads from either). */
static CK_RV object_key_public(struct p11_object *obj, const struct p11_keyattrs *ka,
			       const uint8_t *spki, size_t spki_len)
{
	CK_RV rv;

	obj->key_type = ka->key_type;
	obj->sig_len = ka->sig_len;
	if ((rv = object_ulong(obj, CKA_KEY_TYPE, ka->key_type)) != CKR_OK ||
	    (rv = object_bool(obj, CKA_LOCAL, CK_TRUE)) != CKR_OK ||
	    (rv = object_bool(obj, CKA_DERIVE, CK_FALSE)) != CKR_OK ||
	    (rv = p11_object_add(obj, CKA_PUBLIC_KEY_INFO, spki, spki_len)) != CKR_OK)
		return rv;
	if (ka->key_type == CKK_EC)
		return (rv = p11_object_add(obj, CKA_EC_PARAMS, ka->ec_params,
					    ka->ec_params_len)) != CKR_OK
			       ? rv
			       : p11_object_add(obj, CKA_EC_POINT, ka->ec_point, ka->ec_point_len);
	if ((rv = p11_object_add(obj, CKA_MODULUS, ka->modulus, ka->modulus_len)) != CKR_OK ||
	    (rv = object_ulong(obj, CKA_MODULUS_BITS, ka->bits)) != CKR_OK)
		return rv;
	return p11_object_add(obj, CKA_PUBLIC_EXPONENT, ka->exponent, ka->exponent_len);
}

static CK_RV object_private(struct p11_object *obj, const struct p11_keyattrs *ka,
			    const uint8_t *spki, size_t spki_len)
{
	static const CK_ATTRIBUTE_TYPE no[] = {CKA_DECRYPT, CKA_UNWRAP, CKA_SIGN_RECOVER,
					       CKA_EXTRACTABLE, CKA_ALWAYS_AUTHENTICATE};
	static const CK_ATTRIBUTE_TYPE yes[] = {CKA_SIGN, CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE,
						CKA_NEVER_EXTRACTABLE};
	CK_RV rv = object_key_public(obj, ka, spki, spki_len);

	for (size_t i = 0; rv == CKR_OK && i < sizeof(no) / sizeof(no[0]); i++)
		rv = object_bool(obj, no[i], CK_FALSE);
	for (size_t i = 0; rv == CKR_OK && i < sizeof(yes) / sizeof(yes[0]); i++)
		rv = object_bool(obj, yes[i], CK_TRUE);
	return rv;
}

static CK_RV object_public(struct p11_object *obj, const struct p11_keyattrs *ka,
			   const uint8_t *spki, size_t spki_len)
{
	CK_RV rv = object_key_public(obj, ka, spki, spki_len);

	if (rv == CKR_OK)
		rv = object_bool(obj, CKA_VERIFY, CK_TRUE);
	if (rv == CKR_OK)
		rv = object_bool(obj, CKA_ENCRYPT, CK_FALSE);
	if (rv == CKR_OK)
		rv = object_bool(obj, CKA_WRAP, CK_FALSE);
	return rv;
}

/* i2d of a name or serial into attribute `type`. */
static CK_RV object_der_name(struct p11_object *obj, CK_ATTRIBUTE_TYPE type, const X509_NAME *nm)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(nm, &der);
	CK_RV rv = n > 0 ? p11_object_add(obj, type, der, (size_t)n) : CKR_DEVICE_ERROR;

	OPENSSL_free(der);
	return rv;
}

static CK_RV object_cert(struct p11_object *obj, const uint8_t *cert, size_t cert_len)
{
	const unsigned char *p = cert;
	X509 *x = d2i_X509(NULL, &p, (long)cert_len);
	unsigned char *serial = NULL;
	int n;
	CK_RV rv = CKR_DEVICE_ERROR;

	if (x == NULL)
		return rv;
	if ((rv = object_ulong(obj, CKA_CERTIFICATE_TYPE, CKC_X_509)) != CKR_OK ||
	    (rv = object_ulong(obj, CKA_CERTIFICATE_CATEGORY, 1 /* token user */)) != CKR_OK ||
	    (rv = object_bool(obj, CKA_TRUSTED, CK_FALSE)) != CKR_OK ||
	    (rv = p11_object_add(obj, CKA_VALUE, cert, cert_len)) != CKR_OK ||
	    (rv = object_der_name(obj, CKA_SUBJECT, X509_get_subject_name(x))) != CKR_OK ||
	    (rv = object_der_name(obj, CKA_ISSUER, X509_get_issuer_name(x))) != CKR_OK)
		goto out;
	n = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &serial);
	rv = n > 0 ? p11_object_add(obj, CKA_SERIAL_NUMBER, serial, (size_t)n) : CKR_DEVICE_ERROR;
out:
	OPENSSL_free(serial);
	X509_free(x);
	return rv;
}

static void object_clear(struct p11_object *obj)
{
	for (size_t j = 0; j < obj->n_attrs; j++)
		free(obj->attrs[j].val);
	free(obj->attrs);
	free(obj->key_name);
	memset(obj, 0, sizeof(*obj));
}

CK_RV p11_objects_for_key(const char *name, const uint8_t *id, size_t id_len, const uint8_t *spki,
			  size_t spki_len, const uint8_t *cert, size_t cert_len,
			  struct p11_object **objs, size_t *n_objs)
{
	struct p11_keyattrs ka;
	struct p11_object *o = NULL;
	size_t add = cert != NULL ? 3 : 2;
	CK_RV rv;

	/* without a CKA_ID of its own, the name pairs key, public key and certificate */
	if (id_len == 0) {
		id = (const uint8_t *)name;
		id_len = strlen(name);
	}
	if ((rv = p11_spki_attrs(spki, spki_len, &ka)) != CKR_OK)
		return rv;
	if ((o = realloc(*objs, (*n_objs + add) * sizeof(*o))) == NULL) {
		p11_keyattrs_free(&ka);
		return CKR_HOST_MEMORY;
	}
	*objs = o;
	o += *n_objs;
	memset(o, 0, add * sizeof(*o));
	*n_objs += add; /* counted at once: p11_objects_free frees what was filled */
	if ((rv = object_common(&o[0], CKO_PRIVATE_KEY, name, id, id_len)) != CKR_OK ||
	    (rv = object_private(&o[0], &ka, spki, spki_len)) != CKR_OK ||
	    (rv = object_common(&o[1], CKO_PUBLIC_KEY, name, id, id_len)) != CKR_OK ||
	    (rv = object_public(&o[1], &ka, spki, spki_len)) != CKR_OK)
		goto out;
	if (cert != NULL &&
	    ((rv = object_common(&o[2], CKO_CERTIFICATE, name, id, id_len)) != CKR_OK ||
	     (rv = object_cert(&o[2], cert, cert_len)) != CKR_OK))
		goto out;
out:
	if (rv != CKR_OK && o != NULL) {
		/* all or nothing: the caller may go on without this key */
		for (size_t i = 0; i < add; i++)
			object_clear(&o[i]);
		*n_objs -= add;
	}
	p11_keyattrs_free(&ka);
	return rv;
}

void p11_objects_free(struct p11_object *objs, size_t n)
{
	if (objs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		object_clear(&objs[i]);
	free(objs);
}
