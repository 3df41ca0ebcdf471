/*
 * Applying a profile to a CSR: every check that decides whether a
 * certificate may be issued, and the cert_spec that says what it will be.
 * Messages name the profile and the rule, so a refused caller knows what to
 * change.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "pki/csr.h"
#include "pki/profile.h"
#include "hex.h"
#include "hsm/sign.h"

static int refuse(struct errmsg *em, const struct profile *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "profile 'device': <reason>" as INVALID_ARGUMENT. */
static int refuse(struct errmsg *em, const struct profile *p, const char *fmt, ...)
{
	char reason[ERRMSG_MAX - 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "profile '%s': %s", p->name, reason);
}

static void alg_list(unsigned bits, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (int a = SIGNET_KEY_EC_P256; a <= SIGNET_KEY_RSA_4096 && used < outlen; a++)
		if (bits & PROFILE_BIT(a))
			used += (size_t)snprintf(out + used, outlen - used, "%s%s",
						 used > 0 ? ", " : "",
						 signet_key_alg_name((enum signet_key_alg)a));
}

static int check_key(const struct profile *p, EVP_PKEY *key, enum signet_key_alg *alg,
		     struct errmsg *em)
{
	char desc[64], allowed[64];

	*alg = profile_key_alg(key, desc, sizeof(desc));
	if (*alg != SIGNET_KEY_UNSPECIFIED && (p->key_algs & PROFILE_BIT(*alg)))
		return 0;
	alg_list(p->key_algs, allowed, sizeof(allowed));
	return refuse(em, p, "key type %s is not allowed (key_types: %s)", desc, allowed);
}

static int check_issuer(const struct profile *p, const struct issue_request *rq, struct errmsg *em)
{
	char allowed[64];

	if (p->issuer_key_algs == 0 || (p->issuer_key_algs & PROFILE_BIT(rq->issuer_alg)))
		return 0;
	alg_list(p->issuer_key_algs, allowed, sizeof(allowed));
	return errmsg_set(em, SIGNET_E_FAILED_PRECONDITION,
			  "profile '%s': CA '%s' has a %s key; this profile is signed only by %s "
			  "keys (issuer_key_types)",
			  p->name, rq->ca_name != NULL ? rq->ca_name : "?",
			  signet_key_alg_name(rq->issuer_alg) != NULL
				  ? signet_key_alg_name(rq->issuer_alg)
				  : "unknown",
			  allowed);
}

/* The hash the CSR was signed with must be one the profile accepts. */
static int check_csr_hash(const struct profile *p, X509_REQ *csr, struct errmsg *em)
{
	int md_nid = NID_undef, pk_nid = NID_undef;
	enum signet_hash h = SIGNET_HASH_DEFAULT;

	if (p->csr_hashes == 0)
		return 0;
	OBJ_find_sigid_algs(X509_REQ_get_signature_nid(csr), &md_nid, &pk_nid);
	if (md_nid == NID_sha256)
		h = SIGNET_HASH_SHA256;
	else if (md_nid == NID_sha384)
		h = SIGNET_HASH_SHA384;
	else if (md_nid == NID_sha512)
		h = SIGNET_HASH_SHA512;
	if (h != SIGNET_HASH_DEFAULT && (p->csr_hashes & PROFILE_BIT(h)))
		return 0;
	return refuse(em, p, "the CSR is signed with %s, which csr_signature_hashes does not allow",
		      OBJ_nid2ln(X509_REQ_get_signature_nid(csr)));
}

static int attr_allowed(const struct profile *p, int nid)
{
	for (size_t i = 0; i < p->n_attrs; i++)
		if (p->attrs[i] == nid)
			return 1;
	return 0;
}

static int check_cn(const struct profile *p, const ASN1_STRING *value, struct errmsg *em)
{
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, value), r = 0;

	if (len < 0)
		return refuse(em, p, "the CN is not a readable string");
	for (int i = 0; i < len && r == 0; i++)
		if (utf8[i] < 0x20 || utf8[i] == 0x7f)
			r = refuse(em, p, "the CN contains a control character");
	if (r == 0 && (len == 0 || (unsigned)len > p->cn_max_len))
		r = refuse(em, p, "the CN must be 1-%u characters (subject.cn_max_length)",
			   p->cn_max_len);
	if (r == 0 && p->cn_pattern != NULL &&
	    regexec(&p->cn_re, (const char *)utf8, 0, NULL, 0) != 0)
		r = refuse(em, p, "CN '%.64s' does not match subject.cn_pattern \"%.80s\"", utf8,
			   p->cn_pattern);
	OPENSSL_free(utf8);
	return r;
}

static int check_subject(const struct profile *p, const X509_NAME *name, struct errmsg *em)
{
	int n_cn = 0, r = 0;

	for (int i = 0; i < X509_NAME_entry_count(name) && r == 0; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));

		if (!attr_allowed(p, nid)) {
			char oid[80];

			OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e), 0);
			r = refuse(em, p,
				   "subject attribute %s is not allowed (subject.attributes)", oid);
		} else if (nid == NID_commonName && ++n_cn > 1) {
			r = refuse(em, p, "the subject has more than one CN");
		} else if (nid == NID_commonName) {
			r = check_cn(p, X509_NAME_ENTRY_get_data(e), em);
		}
	}
	if (r == 0 && n_cn == 0 && p->cn_required)
		r = refuse(em, p, "the subject needs a CN (subject.cn_required)");
	return r;
}

static int ip_in_range(const struct ip_range *range, const unsigned char *addr, int len)
{
	unsigned full = range->prefix / 8, rest = range->prefix % 8;

	if ((range->family == 4 && len != 4) || (range->family == 6 && len != 16))
		return 0;
	if (memcmp(range->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((range->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

/* An IA5String SAN as a C string: printable ASCII without NULs or spaces. */
static int san_text(const ASN1_IA5STRING *s, char *out, size_t outlen)
{
	int len = ASN1_STRING_length(s);
	const unsigned char *d = ASN1_STRING_get0_data(s);

	if (len <= 0 || (size_t)len >= outlen)
		return -1;
	for (int i = 0; i < len; i++)
		if (d[i] <= 0x20 || d[i] >= 0x7f)
			return -1;
	memcpy(out, d, (size_t)len);
	out[len] = '\0';
	return 0;
}

static int matches_any(char *const *patterns, size_t n, const char *value, int flags)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(patterns[i], value, flags) == 0)
			return 1;
	return 0;
}

static int check_dns(const struct profile *p, const ASN1_IA5STRING *s, struct errmsg *em)
{
	char name[CSR_SAN_LEN_MAX + 1];

	if (san_text(s, name, sizeof(name)) != 0 || !csr_dns_name_valid(name))
		return refuse(em, p, "a DNS name in the SANs is not a valid host name");
	if (!matches_any(p->dns, p->n_dns, name, FNM_CASEFOLD))
		return refuse(em, p, "DNS name '%s' is not allowed (san.dns)", name);
	return 0;
}

static int check_uri(const struct profile *p, const ASN1_IA5STRING *s, struct errmsg *em)
{
	char uri[CSR_SAN_LEN_MAX + 1];

	if (san_text(s, uri, sizeof(uri)) != 0 || strchr(uri, ':') == NULL)
		return refuse(em, p, "a URI in the SANs is not an absolute URI");
	if (!matches_any(p->uris, p->n_uris, uri, 0))
		return refuse(em, p, "URI '%s' is not allowed (san.uri)", uri);
	return 0;
}

static int check_ip(const struct profile *p, const ASN1_OCTET_STRING *ip, struct errmsg *em)
{
	const unsigned char *a = ASN1_STRING_get0_data(ip);
	int len = ASN1_STRING_length(ip);
	char text[16 * 3]; /* "20:01:0D:B8:...", as OpenSSL writes octets */

	if (len != 4 && len != 16)
		return refuse(em, p, "an IP address in the SANs is neither IPv4 nor IPv6");
	for (size_t i = 0; i < p->n_ips; i++)
		if (ip_in_range(&p->ips[i], a, len))
			return 0;
	hex_encode(a, (size_t)len, text, sizeof(text), HEX_UPPER, ':');
	return refuse(em, p, "IP address %s is not allowed (san.ip)", text);
}

static int check_san(const struct profile *p, const GENERAL_NAME *g, struct errmsg *em)
{
	switch (g->type) {
	case GEN_DNS:
		return check_dns(p, g->d.dNSName, em);
	case GEN_URI:
		return check_uri(p, g->d.uniformResourceIdentifier, em);
	case GEN_IPADD:
		return check_ip(p, g->d.iPAddress, em);
	case GEN_EMAIL:
		return refuse(em, p, "e-mail SANs are not allowed");
	default:
		return refuse(em, p, "SANs of type %d are not allowed (only DNS, IP and URI)",
			      g->type);
	}
}

/* The CSR's SAN extension, decoded (NULL with *bad = 0 when there is none). */
static GENERAL_NAMES *csr_sans(X509_REQ *csr, int *bad)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
	GENERAL_NAMES *gens = NULL;
	int i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);

	*bad = 0;
	if (i >= 0) {
		gens = X509V3_EXT_d2i(X509v3_get_ext(exts, i));
		if (gens == NULL || X509v3_get_ext_by_NID(exts, NID_subject_alt_name, i) >= 0)
			*bad = 1;
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (*bad) {
		GENERAL_NAMES_free(gens);
		return NULL;
	}
	return gens;
}

/* Check every SAN and copy the accepted ones into plan->sans. */
static int plan_sans(const struct profile *p, const struct issue_request *rq,
		     struct issue_plan *plan, struct errmsg *em)
{
	GENERAL_NAMES *from_csr = NULL;
	const GENERAL_NAMES *sans = rq->san_override;
	int bad = 0, r = 0;

	if (sans != NULL && !p->san_override)
		return refuse(em, p, "SAN overrides are not allowed (san.allow_override)");
	if (sans == NULL)
		sans = from_csr = csr_sans(rq->csr, &bad);
	if (bad)
		return refuse(em, p, "the CSR's subjectAltName extension is malformed or repeated");
	if (sk_GENERAL_NAME_num(sans) > CSR_SAN_MAX)
		r = refuse(em, p, "more than %d SANs", CSR_SAN_MAX);
	if ((plan->sans = sk_GENERAL_NAME_new_null()) == NULL)
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	for (int i = 0; r == 0 && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *copy;

		if ((r = check_san(p, sk_GENERAL_NAME_value(sans, i), em)) != 0)
			break;
		copy = GENERAL_NAME_dup(sk_GENERAL_NAME_value(sans, i));
		if (copy == NULL || !sk_GENERAL_NAME_push(plan->sans, copy)) {
			GENERAL_NAME_free(copy);
			r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		}
	}
	if (r == 0 && p->san_required && sk_GENERAL_NAME_num(plan->sans) == 0)
		r = refuse(em, p, "the certificate needs at least one SAN (san.required)");
	GENERAL_NAMES_free(from_csr);
	return r;
}

static int plan_subject(const struct profile *p, const struct issue_request *rq,
			struct issue_plan *plan, struct errmsg *em)
{
	const X509_NAME *name = rq->subject_override;
	int r;

	if (name != NULL && !p->subject_override)
		return refuse(em, p, "subject overrides are not allowed (subject.allow_override)");
	if (name == NULL)
		name = X509_REQ_get_subject_name(rq->csr);
	if ((r = check_subject(p, name, em)) != 0)
		return r;
	if ((plan->subject = X509_NAME_dup(name)) == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	plan->spec.subject = plan->subject;
	return 0;
}

static int plan_validity(const struct profile *p, const struct issue_request *rq,
			 struct issue_plan *plan, struct errmsg *em)
{
	unsigned days = rq->validity_days != 0 ? rq->validity_days : p->default_days;

	if (days > p->max_days)
		return refuse(em, p, "a validity of %u days is over the limit of %u (max_days)",
			      days, p->max_days);
	plan->spec.not_before = rq->now - (time_t)p->backdate_seconds;
	plan->spec.not_after = rq->now + (time_t)days * 24 * 3600;
	return 0;
}

/* Key usages that make no sense for the key type are left out. */
static unsigned usage_for(unsigned usage, enum signet_key_alg alg)
{
	if (alg == SIGNET_KEY_EC_P256 || alg == SIGNET_KEY_EC_P384)
		return usage & ~(unsigned)(KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT);
	return usage & ~(unsigned)KU_KEY_AGREEMENT;
}

static const EVP_MD *plan_md(const struct profile *p, enum signet_key_alg issuer_alg)
{
	if (p->hash != SIGNET_HASH_DEFAULT)
		return sign_hash_md(p->hash);
	return issuer_alg == SIGNET_KEY_EC_P384 ? EVP_sha384() : EVP_sha256();
}

int profile_plan(const struct profile *p, const struct issue_request *rq, struct issue_plan *out,
		 struct errmsg *em)
{
	enum signet_key_alg alg;
	EVP_PKEY *key = csr_public_key(rq->csr);
	int r;

	memset(out, 0, sizeof(*out));
	if (key == NULL)
		return refuse(em, p, "the CSR carries no usable public key");
	out->key = key; /* transferred: released with the plan */
	if ((r = check_issuer(p, rq, em)) != 0 || (r = check_key(p, key, &alg, em)) != 0 ||
	    (r = check_csr_hash(p, rq->csr, em)) != 0 || (r = plan_subject(p, rq, out, em)) != 0 ||
	    (r = plan_sans(p, rq, out, em)) != 0 || (r = plan_validity(p, rq, out, em)) != 0)
		goto out;
	if (X509_NAME_entry_count(out->subject) == 0 && sk_GENERAL_NAME_num(out->sans) == 0) {
		r = refuse(em, p, "the certificate would have neither a subject nor SANs");
		goto out;
	}
	out->md = plan_md(p, rq->issuer_alg);
	out->spec.subject_key = key;
	out->spec.subject_spki = X509_REQ_get_X509_PUBKEY(rq->csr);
	out->spec.is_ca = p->is_ca;
	out->spec.path_len = p->is_ca ? p->path_len : -1;
	out->spec.key_usage = usage_for(p->key_usage, alg);
	memcpy(out->spec.eku, p->eku, sizeof(out->spec.eku));
	out->spec.n_eku = p->n_eku;
	out->spec.sans = out->sans;
out:
	if (r != 0)
		issue_plan_release(out);
	return r;
}

void issue_plan_release(struct issue_plan *plan)
{
	X509_NAME_free(plan->subject);
	GENERAL_NAMES_free(plan->sans);
	EVP_PKEY_free(plan->key);
	memset(plan, 0, sizeof(*plan));
}
