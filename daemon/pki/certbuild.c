#include "pki/certbuild.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include "base/asn1time.h"
#include "base/x509der.h"
#include "hsm/keybridge.h"

int certbuild_serial(ASN1_INTEGER **out, struct errmsg *em)
{
	unsigned char raw[CERTBUILD_SERIAL_BYTES];
	BIGNUM *bn = NULL;

	do {
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return errmsg_set(em, SIGNET_E_INTERNAL, "no randomness for a serial");
		raw[0] &= 0x7f; /* positive, and DER needs no leading zero byte */
		BN_free(bn);
		bn = BN_bin2bn(raw, sizeof(raw), NULL);
	} while (bn != NULL && BN_is_zero(bn));
	*out = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	OPENSSL_cleanse(raw, sizeof(raw));
	return *out != NULL ? 0 : errmsg_set(em, SIGNET_E_INTERNAL, "cannot encode a serial");
}

/* What the issuer allows: a CA with keyCertSign, and room in its path length. */
static int issuer_allows(const struct cert_spec *spec, struct errmsg *em)
{
	X509 *iss = spec->issuer;
	long plen;

	if (iss == NULL)
		return 0;
	if (!X509_check_ca(iss) || !(X509_get_key_usage(iss) & KU_KEY_CERT_SIGN))
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "the issuer is not a CA allowed to sign certificates");
	plen = X509_get_pathlen(iss);
	if (spec->is_ca && plen == 0)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "the issuer's pathLen is 0: it may not certify another CA");
	return 0;
}

/* A child never outlives its parent (nor starts before it). */
static int clamp_validity(const struct cert_spec *spec, time_t *nb, time_t *na, struct errmsg *em)
{
	*nb = spec->not_before;
	*na = spec->not_after;
	if (spec->issuer != NULL) {
		time_t inb = (time_t)asn1time_unix(X509_get0_notBefore(spec->issuer));
		time_t ina = (time_t)asn1time_unix(X509_get0_notAfter(spec->issuer));

		if (*nb < inb)
			*nb = inb;
		if (*na > ina)
			*na = ina;
	}
	if (*na <= *nb)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the validity period is empty (after clamping to the issuer's)");
	return 0;
}

static int add_ext(X509 *cert, int nid, int critical, void *value, struct errmsg *em)
{
	X509_EXTENSION *ext = X509V3_EXT_i2d(nid, critical, value);
	int ok = ext != NULL && X509_add_ext(cert, ext, -1);

	X509_EXTENSION_free(ext);
	return ok ? 0
		  : errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot add extension %s",
				   OBJ_nid2sn(nid));
}

static int add_basic_constraints(X509 *cert, const struct cert_spec *spec, struct errmsg *em)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	int r;

	if (bc == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	bc->ca = spec->is_ca ? 0xff : 0;
	if (spec->is_ca && spec->path_len >= 0) {
		bc->pathlen = ASN1_INTEGER_new();
		if (bc->pathlen == NULL || !ASN1_INTEGER_set(bc->pathlen, spec->path_len)) {
			BASIC_CONSTRAINTS_free(bc);
			return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		}
	}
	/* critical on CAs (RFC 5280 4.2.1.9) */
	r = add_ext(cert, NID_basic_constraints, spec->is_ca, bc, em);
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

static int add_key_usage(X509 *cert, unsigned usage, struct errmsg *em)
{
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	int r = 0;

	if (ku == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	/* KU_* are the bits of the first two DER bytes, most significant first. */
	for (int bit = 0; bit < 9 && r == 0; bit++) {
		unsigned mask = bit < 8 ? 0x80u >> bit : 0x8000u;

		if ((usage & mask) && !ASN1_BIT_STRING_set_bit(ku, bit, 1))
			r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (r == 0)
		r = add_ext(cert, NID_key_usage, 1, ku, em);
	ASN1_BIT_STRING_free(ku);
	return r;
}

static int add_eku(X509 *cert, const struct cert_spec *spec, struct errmsg *em)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	int r = 0;

	if (eku == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	for (size_t i = 0; i < spec->n_eku && r == 0; i++)
		if (!sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(spec->eku[i])))
			r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	if (r == 0)
		r = add_ext(cert, NID_ext_key_usage, 0, eku, em);
	sk_ASN1_OBJECT_free(eku); /* OBJ_nid2obj objects are static */
	return r;
}

/* SKI = SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1); AKI = issuer's SKI. */
static int add_key_ids(X509 *cert, const struct cert_spec *spec, struct errmsg *em)
{
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	AUTHORITY_KEYID *akid = NULL;
	int r;

	if (ski == NULL || !X509_pubkey_digest(cert, EVP_sha1(), md, &mdlen) ||
	    !ASN1_OCTET_STRING_set(ski, md, (int)mdlen)) {
		ASN1_OCTET_STRING_free(ski);
		return errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot compute the key identifier");
	}
	r = add_ext(cert, NID_subject_key_identifier, 0, ski, em);
	if (r == 0 && spec->issuer != NULL) {
		const ASN1_OCTET_STRING *issuer_ski = X509_get0_subject_key_id(spec->issuer);

		akid = AUTHORITY_KEYID_new();
		if (akid == NULL || issuer_ski == NULL ||
		    (akid->keyid = ASN1_OCTET_STRING_dup(issuer_ski)) == NULL)
			r = errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				       "the issuer certificate has no subject key identifier");
		else
			r = add_ext(cert, NID_authority_key_identifier, 0, akid, em);
	}
	AUTHORITY_KEYID_free(akid);
	ASN1_OCTET_STRING_free(ski);
	return r;
}

static int add_extensions(X509 *cert, const struct cert_spec *spec, int subject_empty,
			  struct errmsg *em)
{
	int r = add_basic_constraints(cert, spec, em);

	if (r == 0 && spec->key_usage != 0)
		r = add_key_usage(cert, spec->key_usage, em);
	if (r == 0 && spec->n_eku > 0)
		r = add_eku(cert, spec, em);
	if (r == 0 && spec->sans != NULL && sk_GENERAL_NAME_num(spec->sans) > 0)
		r = add_ext(cert, NID_subject_alt_name, subject_empty, (void *)spec->sans, em);
	if (r == 0)
		r = add_key_ids(cert, spec, em);
	return r;
}

static int check_spec(const struct cert_spec *spec, struct errmsg *em)
{
	int subject_empty = X509_NAME_entry_count(spec->subject) == 0;

	if (!spec->is_ca && spec->path_len >= 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "pathLen is only for CA certificates");
	if (spec->n_eku > CERTBUILD_MAX_EKU)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "too many extended key usages");
	if (subject_empty && (spec->sans == NULL || sk_GENERAL_NAME_num(spec->sans) == 0))
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a certificate needs a subject or subject alternative names");
	return issuer_allows(spec, em);
}

/* A parameter of a key's AlgorithmIdentifier, copied: a named curve's OID, NULL, or absent. */
static int algor_param_dup(int ptype, const void *pval, void **out)
{
	*out = NULL;
	switch (ptype) {
	case V_ASN1_UNDEF:
	case V_ASN1_NULL:
		return 1;
	case V_ASN1_OBJECT:
		return (*out = OBJ_dup(pval)) != NULL;
	case V_ASN1_SEQUENCE: /* explicit parameters, or RSA-PSS's */
		return (*out = ASN1_STRING_dup(pval)) != NULL;
	default:
		return 0;
	}
}

/*
 * The certificate's SubjectPublicKeyInfo as a copy of `from`'s algorithm and
 * key bits. The certificate's X509_PUBKEY then has no decoded EVP_PKEY:
 * nothing here asks for one (SKI and the ledger's fingerprint read the bits).
 */
static int copy_spki(X509 *cert, const X509_PUBKEY *from)
{
	ASN1_OBJECT *alg_obj = NULL, *obj = NULL;
	const ASN1_OBJECT *alg_oid;
	const unsigned char *bits;
	unsigned char *bits_copy = NULL;
	const void *pval;
	void *param = NULL;
	X509_ALGOR *alg;
	int bits_len, ptype;

	if (!X509_PUBKEY_get0_param(&alg_obj, &bits, &bits_len, &alg, (X509_PUBKEY *)from))
		return 0;
	X509_ALGOR_get0(&alg_oid, &ptype, &pval, alg);
	if ((obj = OBJ_dup(alg_oid)) == NULL || !algor_param_dup(ptype, pval, &param) ||
	    (bits_copy = OPENSSL_memdup(bits, (size_t)bits_len)) == NULL ||
	    !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), obj, ptype, param, bits_copy,
				    bits_len)) {
		ASN1_OBJECT_free(obj);
		if (ptype == V_ASN1_OBJECT)
			ASN1_OBJECT_free(param);
		else
			ASN1_STRING_free(param);
		OPENSSL_free(bits_copy);
		return 0;
	}
	return 1; /* obj, param and bits_copy transferred */
}

static int set_subject_key(X509 *cert, const struct cert_spec *spec)
{
	if (spec->subject_spki != NULL)
		return copy_spki(cert, spec->subject_spki);
	return X509_set_pubkey(cert, spec->subject_key);
}

static int fill_cert(X509 *cert, const struct cert_spec *spec, struct errmsg *em)
{
	ASN1_INTEGER *serial = NULL;
	time_t nb, na;
	int r;

	if ((r = check_spec(spec, em)) != 0 || (r = clamp_validity(spec, &nb, &na, em)) != 0 ||
	    (r = certbuild_serial(&serial, em)) != 0)
		return r;
	/* ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime after (RFC 5280 4.1.2.5). */
	if (!X509_set_version(cert, X509_VERSION_3) || !X509_set_serialNumber(cert, serial) ||
	    !X509_set_subject_name(cert, spec->subject) ||
	    !X509_set_issuer_name(cert, spec->issuer != NULL ? X509_get_subject_name(spec->issuer)
							     : spec->subject) ||
	    !set_subject_key(cert, spec) || ASN1_TIME_set(X509_getm_notBefore(cert), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(cert), na) == NULL)
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot fill the certificate");
	ASN1_INTEGER_free(serial);
	if (r == 0)
		r = add_extensions(cert, spec, X509_NAME_entry_count(spec->subject) == 0, em);
	return r;
}

/* The TBSCertificate inside a certificate's DER: the first element of its
 * outer SEQUENCE, both with definite lengths (DER). */
static int tbs_span(const unsigned char *der, size_t len, const unsigned char **tbs,
		    size_t *tbs_len)
{
	const unsigned char *p = der;
	long inner;
	int tag, xclass;

	if (ASN1_get_object(&p, &inner, &tag, &xclass, (long)len) & 0x80 || tag != V_ASN1_SEQUENCE)
		return -1;
	*tbs = p;
	if (ASN1_get_object(&p, &inner, &tag, &xclass, (long)(len - (size_t)(p - der))) & 0x80 ||
	    tag != V_ASN1_SEQUENCE)
		return -1;
	*tbs_len = (size_t)(p - *tbs) + (size_t)inner;
	return 0;
}

/*
 * The post-sign check: does the signature verify under the issuer's key?
 * For an EC issuer, over the TBS bytes of the DER just kept, rather than
 * X509_verify()'s fresh encoding of them (a fifth of the check's cost);
 * other keys (RSA-PSS parameters, EdDSA) through X509_verify().
 */
static int signature_verifies(X509 *cert, EVP_PKEY *issuer_key, const EVP_MD *md)
{
	const ASN1_BIT_STRING *sig = NULL;
	const unsigned char *der, *tbs;
	size_t der_len, tbs_len;
	EVP_MD_CTX *ctx;
	int ok;

	der = x509der_peek(cert, &der_len);
	if (EVP_PKEY_get_base_id(issuer_key) != EVP_PKEY_EC || md == NULL || der == NULL ||
	    tbs_span(der, der_len, &tbs, &tbs_len) != 0)
		return X509_verify(cert, issuer_key);
	X509_get0_signature(&sig, NULL, cert);
	if (sig == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, issuer_key) == 1 &&
	     EVP_DigestVerify(ctx, sig->data, (size_t)sig->length, tbs, tbs_len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int certbuild_sign(const struct cert_spec *spec, EVP_PKEY *signer, EVP_PKEY *issuer_key,
		   const EVP_MD *md, X509 **out, struct errmsg *em)
{
	struct errmsg local = {0};
	X509 *cert = X509_new();
	int r;

	if (em == NULL)
		em = &local;
	if (cert == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	if ((r = fill_cert(cert, spec, em)) != 0)
		goto out;
	em->err = 0;
	if (X509_sign(cert, signer, md) <= 0) {
		r = keybridge_sign_error(em);
		goto out;
	}
	if (x509der_keep(cert) != 0) {
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot encode the new certificate");
		goto out;
	}
	if (signature_verifies(cert, issuer_key, md) != 1) {
		r = errmsg_openssl(em, SIGNET_E_INTERNAL,
				   "the new certificate's signature does not verify");
		goto out;
	}
	*out = cert;
	cert = NULL; /* transferred */
out:
	X509_free(cert);
	return r;
}
