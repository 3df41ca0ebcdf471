#include "records/issued.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "base/x509der.h"
#include "base/asn1time.h"

int issued_spki_sha256(X509 *cert, uint8_t out[32])
{
	unsigned char *spki = NULL;
	unsigned int len = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
	int ok = n > 0 && EVP_Digest(spki, (size_t)n, out, &len, EVP_sha256(), NULL) && len == 32;

	OPENSSL_free(spki);
	return ok ? 0 : -1;
}

/* One SAN as text; IP addresses through inet_ntop, the rest as IA5 text. */
static int san_text(const GENERAL_NAME *gn, char *out, size_t outlen)
{
	const ASN1_STRING *s = NULL;
	const char *kind = NULL;
	char ip[INET6_ADDRSTRLEN] = "";

	switch (gn->type) {
	case GEN_DNS:
		kind = "DNS", s = gn->d.dNSName;
		break;
	case GEN_URI:
		kind = "URI", s = gn->d.uniformResourceIdentifier;
		break;
	case GEN_EMAIL:
		kind = "email", s = gn->d.rfc822Name;
		break;
	case GEN_IPADD:
		if (gn->d.iPAddress->length == 4 || gn->d.iPAddress->length == 16)
			inet_ntop(gn->d.iPAddress->length == 4 ? AF_INET : AF_INET6,
				  gn->d.iPAddress->data, ip, sizeof(ip));
		return snprintf(out, outlen, "IP:%s", ip);
	default:
		return snprintf(out, outlen, "other:%d", gn->type);
	}
	return snprintf(out, outlen, "%s:%.*s", kind, ASN1_STRING_length(s),
			(const char *)ASN1_STRING_get0_data(s));
}

void issued_sans_text(X509 *cert, char *out, size_t outlen)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && used + 1 < outlen; i++) {
		int n;

		if (i > 0)
			used += (size_t)snprintf(out + used, outlen - used, ", ");
		if (used + 1 >= outlen)
			break;
		n = san_text(sk_GENERAL_NAME_value(gens, i), out + used, outlen - used);
		used += n > 0 ? (size_t)n : 0;
	}
	GENERAL_NAMES_free(gens);
}

int issued_serial_hex(X509 *cert, char out[LEDGER_SERIAL_MAX])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int ok = hex != NULL && strlen(hex) < LEDGER_SERIAL_MAX;

	if (ok)
		snprintf(out, LEDGER_SERIAL_MAX, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	return ok ? 0 : -1;
}

int issued_entry_fill(X509 *cert, const char *ca, const char *issuer_key, const char *profile,
		      const char *caller, const uint8_t *request_id, struct issued_entry *out,
		      struct errmsg *em)
{
	struct ledger_entry *e = &out->e;
	int n;

	memset(out, 0, sizeof(*out));
	n = x509der(cert, &out->der);
	if (n <= 0 || issued_serial_hex(cert, e->serial) != 0 ||
	    issued_spki_sha256(cert, e->spki_sha256) != 0) {
		issued_entry_release(out);
		return errmsg_set(em, SIGNET_E_INTERNAL,
				  "cannot read the certificate to record it");
	}
	X509_NAME_oneline(X509_get_subject_name(cert), out->subject, sizeof(out->subject));
	issued_sans_text(cert, out->sans, sizeof(out->sans));
	e->ca = (char *)ca;
	e->issuer_key = (char *)issuer_key;
	e->subject = out->subject;
	e->sans = out->sans;
	e->profile = (char *)profile;
	e->not_before = asn1time_unix(X509_get0_notBefore(cert));
	e->not_after = asn1time_unix(X509_get0_notAfter(cert));
	e->caller = (char *)(caller != NULL ? caller : "");
	if (request_id != NULL) {
		memcpy(e->request_id, request_id, LEDGER_REQUEST_ID);
		e->has_request_id = 1;
	}
	e->issued_at = (int64_t)time(NULL);
	e->der = out->der;
	e->der_len = (size_t)n;
	return 0;
}

void issued_entry_release(struct issued_entry *ie)
{
	OPENSSL_free(ie->der);
	ie->der = NULL;
	ie->e.der = NULL;
}
