#include "pki/est.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki/scep.h"

#define EST_PASSWORD_MAX 256

int est_check_tls_unique(X509_REQ *csr, const uint8_t *tls_unique, size_t len, struct errmsg *em)
{
	char pw[EST_PASSWORD_MAX], want[4 * ((EST_TLS_UNIQUE_MAX + 2) / 3) + 1];
	int r = 0;

	if (len == 0 || scep_challenge_password(csr, pw, sizeof(pw)) != 0)
		return 0;
	if (len > EST_TLS_UNIQUE_MAX ||
	    EVP_EncodeBlock((unsigned char *)want, tls_unique, (int)len) <= 0 ||
	    strcmp(pw, want) != 0)
		r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
			       "the CSR's challengePassword is not this TLS channel's tls-unique "
			       "(RFC 7030 3.5: it must be the base64 of it)");
	OPENSSL_cleanse(pw, sizeof(pw));
	return r;
}

/* Both absent, or the same DER. */
static int sans_equal(X509_REQ *csr, X509 *cert)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
	GENERAL_NAMES *a = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	GENERAL_NAMES *b = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	unsigned char *da = NULL, *db = NULL;
	int la = a != NULL ? i2d_GENERAL_NAMES(a, &da) : 0;
	int lb = b != NULL ? i2d_GENERAL_NAMES(b, &db) : 0;
	int same = la == lb && la >= 0 && (la == 0 || memcmp(da, db, (size_t)la) == 0);

	OPENSSL_free(da);
	OPENSSL_free(db);
	GENERAL_NAMES_free(a);
	GENERAL_NAMES_free(b);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return same;
}

int est_same_subject(X509_REQ *csr, X509 *cert, struct errmsg *em)
{
	char have[256], want[256];

	if (X509_NAME_cmp(X509_REQ_get_subject_name(csr), X509_get_subject_name(cert)) != 0) {
		X509_NAME_oneline(X509_REQ_get_subject_name(csr), want, sizeof(want));
		X509_NAME_oneline(X509_get_subject_name(cert), have, sizeof(have));
		return errmsg_set(em, SIGNET_E_PERMISSION_DENIED,
				  "re-enrolment: the CSR's subject '%s' is not the certificate's "
				  "'%s'",
				  want, have);
	}
	if (!sans_equal(csr, cert))
		return errmsg_set(
			em, SIGNET_E_PERMISSION_DENIED,
			"re-enrolment: the CSR's subjectAltName is not the certificate's");
	return 0;
}

/* CsrAttrs ::= SEQUENCE OF AttrOrOID, here OIDs only. */
int est_csr_attrs(char *const *names, size_t n, unsigned char **der, size_t *len, struct errmsg *em)
{
	STACK_OF(ASN1_TYPE) *seq = NULL;
	int r = 0, l;

	*der = NULL;
	*len = 0;
	if (n == 0)
		return 0;
	if ((seq = sk_ASN1_TYPE_new_null()) == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(names[i], 0);
		ASN1_TYPE *t = o != NULL ? ASN1_TYPE_new() : NULL;

		if (t != NULL)
			ASN1_TYPE_set(t, V_ASN1_OBJECT, o);
		else
			ASN1_OBJECT_free(o);
		if (t == NULL || !sk_ASN1_TYPE_push(seq, t)) {
			ASN1_TYPE_free(t);
			r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				       "csr_attrs: '%.64s' is no attribute name or dotted OID",
				       names[i]);
		}
	}
	if (r == 0 && (l = i2d_ASN1_SEQUENCE_ANY(seq, der)) <= 0)
		r = errmsg_set(em, SIGNET_E_INTERNAL, "cannot encode the CsrAttrs");
	else if (r == 0)
		*len = (size_t)l;
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	ERR_clear_error();
	return r;
}
