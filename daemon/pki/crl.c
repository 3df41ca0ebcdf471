#include "pki/crl.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "hsm/keybridge.h"

static ASN1_INTEGER *serial_from_hex(const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;

	if (BN_hex2bn(&bn, hex) > 0)
		serial = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return serial;
}

static int add_entry_ext(X509_REVOKED *rev, int nid, void *value)
{
	return X509_REVOKED_add1_ext_i2d(rev, nid, value, 0, X509V3_ADD_DEFAULT) == 1;
}

static int entry_add(X509_CRL *crl, const struct ledger_revoked *r, struct errmsg *em)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *serial = serial_from_hex(r->serial);
	ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)r->revoked_at);
	ASN1_ENUMERATED *reason = NULL;
	ASN1_GENERALIZEDTIME *invalid = NULL;
	int ok = rev != NULL && serial != NULL && when != NULL &&
		 X509_REVOKED_set_serialNumber(rev, serial) &&
		 X509_REVOKED_set_revocationDate(rev, when);

	if (ok && r->reason != LEDGER_REASON_UNSPECIFIED)
		ok = (reason = ASN1_ENUMERATED_new()) != NULL &&
		     ASN1_ENUMERATED_set(reason, (long)r->reason) &&
		     add_entry_ext(rev, NID_crl_reason, reason);
	/* invalidityDate is a GeneralizedTime (RFC 5280 5.3.2) */
	if (ok && r->invalidity_date != 0)
		ok = (invalid = ASN1_GENERALIZEDTIME_set(NULL, (time_t)r->invalidity_date)) !=
			     NULL &&
		     add_entry_ext(rev, NID_invalidity_date, invalid);
	if (ok)
		ok = X509_CRL_add0_revoked(crl, rev);
	if (ok)
		rev = NULL; /* transferred */
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(when);
	ASN1_ENUMERATED_free(reason);
	ASN1_GENERALIZEDTIME_free(invalid);
	return ok ? 0
		  : errmsg_openssl(em,
				   serial == NULL ? SIGNET_E_INVALID_ARGUMENT : SIGNET_E_INTERNAL,
				   "cannot add serial %.41s to the CRL", r->serial);
}

/* AKI = the issuer's SKI, and the CRL number (RFC 5280 5.2.1, 5.2.3). */
static int crl_extensions(X509_CRL *crl, const struct crl_spec *spec, struct errmsg *em)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(spec->issuer);
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	ASN1_INTEGER *number = ASN1_INTEGER_new();
	int ok = akid != NULL && number != NULL && ski != NULL &&
		 (akid->keyid = ASN1_OCTET_STRING_dup(ski)) != NULL &&
		 ASN1_INTEGER_set_uint64(number, spec->number) &&
		 X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) == 1 &&
		 X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1;

	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(number);
	if (ski == NULL)
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "the CA certificate has no subject key identifier");
	return ok ? 0 : errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot add the CRL extensions");
}

static int crl_fill(X509_CRL *crl, const struct crl_spec *spec, struct errmsg *em)
{
	ASN1_TIME *last = ASN1_TIME_set(NULL, spec->this_update);
	ASN1_TIME *next = ASN1_TIME_set(NULL, spec->next_update);
	int r = 0;

	if (last == NULL || next == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(spec->issuer)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next))
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot fill the CRL");
	for (size_t i = 0; r == 0 && i < spec->n_revoked; i++)
		r = entry_add(crl, &spec->revoked[i], em);
	if (r == 0)
		r = crl_extensions(crl, spec, em);
	if (r == 0 && !X509_CRL_sort(crl))
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot sort the CRL");
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return r;
}

int crl_build(const struct crl_spec *spec, EVP_PKEY *signer, EVP_PKEY *issuer_key, const EVP_MD *md,
	      X509_CRL **out, struct errmsg *em)
{
	struct errmsg local = {0};
	X509_CRL *crl = NULL;
	int r;

	if (em == NULL)
		em = &local;
	if (!(X509_get_key_usage(spec->issuer) & KU_CRL_SIGN))
		return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
				  "the CA certificate's keyUsage does not allow cRLSign");
	if (spec->next_update <= spec->this_update)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "nextUpdate is not after thisUpdate");
	if ((crl = X509_CRL_new()) == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	if ((r = crl_fill(crl, spec, em)) != 0)
		goto out;
	em->err = 0;
	if (X509_CRL_sign(crl, signer, md) <= 0) {
		r = keybridge_sign_error(em);
		goto out;
	}
	if (X509_CRL_verify(crl, issuer_key) != 1) {
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "the CRL's signature does not verify");
		goto out;
	}
	*out = crl;
	crl = NULL; /* transferred */
out:
	X509_CRL_free(crl);
	return r;
}
