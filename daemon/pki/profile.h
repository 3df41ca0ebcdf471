/*
 * Issuance profiles: what a certificate signed from a CSR may be. The CSR
 * proposes a key, a subject and SANs; the profile decides whether they are
 * acceptable and fixes every extension (CSR extensions are never copied).
 * Pure policy, no token and no I/O, so every rule is unit-tested.
 *
 * Five profiles are built in (device, constrained-device, server,
 * intermediate, scep-ra); the configuration may redefine them or add its own
 * (config_profiles.c, docs/configuration.md).
 */
#ifndef SIGNETD_PROFILE_H
#define SIGNETD_PROFILE_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "pki/certbuild.h"
#include "base/errmsg.h"

#define PROFILE_NAME_MAX     63
#define PROFILE_MAX	     64
#define PROFILE_MAX_PATTERNS 32
#define PROFILE_MAX_ATTRS    16
#define PROFILE_PATTERN_MAX  255
#define PROFILE_MAX_DAYS     36500
#define PROFILE_MAX_BACKDATE 86400
#define PROFILE_CN_MAX	     64 /* ub-common-name (RFC 5280) */

/* Bit sets over enum signet_key_alg and enum signet_hash. */
#define PROFILE_BIT(v) (1u << (unsigned)(v))

struct ip_range {
	int family; /* 4 or 6 */
	uint8_t addr[16];
	unsigned prefix; /* bits */
};

struct profile {
	char name[PROFILE_NAME_MAX + 1];
	unsigned key_algs;	  /* subject keys allowed: PROFILE_BIT(enum signet_key_alg) */
	unsigned issuer_key_algs; /* CA keys that may sign under it; 0: any */
	enum signet_hash hash;	  /* signature hash; DEFAULT: SHA-384 for P-384 CAs, else SHA-256 */
	unsigned csr_hashes;	  /* hashes the CSR may be signed with: PROFILE_BIT(hash); 0: any */
	unsigned key_usage;	  /* KU_*; keyEncipherment is dropped for EC keys, keyAgreement
				     for RSA keys (RFC 5480, RFC 4055) */
	int eku[CERTBUILD_MAX_EKU]; /* NIDs */
	size_t n_eku;
	int is_ca;
	int path_len; /* CA only; -1: no pathLen */
	unsigned default_days, max_days;
	unsigned backdate_seconds;
	/* subject */
	int attrs[PROFILE_MAX_ATTRS]; /* attribute NIDs allowed in the subject */
	size_t n_attrs;
	int cn_required;
	unsigned cn_max_len;
	char *cn_pattern; /* POSIX extended regex the whole CN must match; NULL: any */
	regex_t cn_re;
	int subject_override; /* the request may replace the CSR's subject */
	/* subject alternative names */
	char *dns[PROFILE_MAX_PATTERNS]; /* fnmatch(3) patterns, case-insensitive */
	size_t n_dns;
	struct ip_range ips[PROFILE_MAX_PATTERNS];
	size_t n_ips;
	char *uris[PROFILE_MAX_PATTERNS]; /* fnmatch(3) patterns */
	size_t n_uris;
	int san_required;
	int san_override; /* the request may replace the CSR's SANs */
};

struct profile_set {
	struct profile *v;
	size_t n;
};

/* A profile name: 1-63 of [A-Za-z0-9._-]. */
int profile_name_valid(const char *name);

/* The built-in profiles, in a fresh set (SIGNET_E_NOMEM). */
int profile_set_builtin(struct profile_set *set);
void profile_set_free(struct profile_set *set);
const struct profile *profile_find(const struct profile_set *set, const char *name);
/* A new entry (name set, everything else a copy of `base`, or zero); NULL when full. */
struct profile *profile_set_add(struct profile_set *set, const char *name,
				const struct profile *base);
void profile_free(struct profile *p);

/* Setters that own their copies; SIGNET_E_INVALID_ARGUMENT with a reason in `why`. */
int profile_set_cn_pattern(struct profile *p, const char *pattern, char *why, size_t whylen);
int profile_add_pattern(char **list, size_t *n, const char *pattern, char *why, size_t whylen);
int profile_parse_ip_range(const char *text, struct ip_range *out);
/* "digitalSignature" -> KU_DIGITAL_SIGNATURE; 0 when unknown. */
unsigned profile_key_usage_bit(const char *name);
/* Consistency of a finished profile (pathLen without CA, CA without keyCertSign, ...). */
int profile_check(const struct profile *p, char *why, size_t whylen);

/* The signet algorithm of a public key, or UNSPECIFIED; `desc` says what it is ("EC secp521r1"). */
enum signet_key_alg profile_key_alg(EVP_PKEY *key, char *desc, size_t desclen);

struct issue_request {
	X509_REQ *csr;			   /* its signature already verified */
	const X509_NAME *subject_override; /* NULL: the CSR's subject */
	const GENERAL_NAMES *san_override; /* NULL: the CSR's SANs */
	unsigned validity_days;		   /* 0: the profile's default */
	enum signet_key_alg issuer_alg;
	const char *ca_name; /* for messages */
	time_t now;
};

/* What to certify: a cert_spec whose pieces this struct owns. */
struct issue_plan {
	struct cert_spec spec; /* issuer is left for the caller to set */
	X509_NAME *subject;
	GENERAL_NAMES *sans;
	EVP_PKEY *key;
	const EVP_MD *md;
};

/*
 * Apply profile `p` to the request. INVALID_ARGUMENT naming the rule for a
 * CSR or override the profile refuses (key type, CSR hash, subject attribute,
 * CN pattern or length, SAN type or value, validity); FAILED_PRECONDITION
 * when the CA's key type is not one the profile may be signed with.
 */
int profile_plan(const struct profile *p, const struct issue_request *rq, struct issue_plan *out,
		 struct errmsg *em);
void issue_plan_release(struct issue_plan *plan);

#endif
