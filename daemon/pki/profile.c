/* Profile definitions: the built-in five, and the setters config_profiles.c uses. */
#include "pki/profile.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/objects.h>

#include "namerule.h"

#define ALL_KEYS                                                                                   \
	(PROFILE_BIT(SIGNET_KEY_EC_P256) | PROFILE_BIT(SIGNET_KEY_EC_P384) |                       \
	 PROFILE_BIT(SIGNET_KEY_RSA_2048) | PROFILE_BIT(SIGNET_KEY_RSA_3072) |                     \
	 PROFILE_BIT(SIGNET_KEY_RSA_4096))

/*
 * Azure IoT Hub / DPS registration IDs as a certificate CN: alphanumerics and
 * "- . _ :", the last character alphanumeric or "-", at most 64 characters.
 */
#define DEVICE_ID_PATTERN "[A-Za-z0-9._:-]*[A-Za-z0-9-]"

int profile_name_valid(const char *name)
{
	return name_valid(name, PROFILE_NAME_MAX);
}

static void free_patterns(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
}

void profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	if (p->cn_pattern != NULL)
		regfree(&p->cn_re);
	free(p->cn_pattern);
	free_patterns(p->dns, p->n_dns);
	free_patterns(p->uris, p->n_uris);
	memset(p, 0, sizeof(*p));
}

void profile_set_free(struct profile_set *set)
{
	for (size_t i = 0; set != NULL && i < set->n; i++)
		profile_free(&set->v[i]);
	if (set != NULL) {
		free(set->v);
		set->v = NULL;
		set->n = 0;
	}
}

const struct profile *profile_find(const struct profile_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

int profile_set_cn_pattern(struct profile *p, const char *pattern, char *why, size_t whylen)
{
	size_t len = strlen(pattern) + sizeof("^()$");
	char *anchored = malloc(len), err[128];
	regex_t re;
	int rc;

	if (anchored == NULL)
		return SIGNET_E_NOMEM;
	/* The whole CN must match: a pattern without anchors must not pass "x; evil". */
	snprintf(anchored, len, "^(%s)$", pattern);
	rc = regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		regerror(rc, &re, err, sizeof(err));
		snprintf(why, whylen, "not a POSIX extended regular expression: %s", err);
		return SIGNET_E_INVALID_ARGUMENT;
	}
	if (p->cn_pattern != NULL)
		regfree(&p->cn_re);
	free(p->cn_pattern);
	if ((p->cn_pattern = strdup(pattern)) == NULL) {
		regfree(&re);
		return SIGNET_E_NOMEM;
	}
	p->cn_re = re;
	return 0;
}

int profile_add_pattern(char **list, size_t *n, const char *pattern, char *why, size_t whylen)
{
	if (*n >= PROFILE_MAX_PATTERNS) {
		snprintf(why, whylen, "at most %d patterns", PROFILE_MAX_PATTERNS);
		return SIGNET_E_INVALID_ARGUMENT;
	}
	if (pattern[0] == '\0' || strlen(pattern) > PROFILE_PATTERN_MAX) {
		snprintf(why, whylen, "a pattern is 1-%d characters", PROFILE_PATTERN_MAX);
		return SIGNET_E_INVALID_ARGUMENT;
	}
	if ((list[*n] = strdup(pattern)) == NULL)
		return SIGNET_E_NOMEM;
	(*n)++;
	return 0;
}

/* "10.0.0.0/8", "2001:db8::/32", or a single address (a full-length prefix). */
int profile_parse_ip_range(const char *text, struct ip_range *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned max;
	char *end;
	long prefix;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = 4, max = 32;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = 6, max = 128;
	else
		return -1;
	out->prefix = max;
	if (slash == NULL)
		return 0;
	prefix = strtol(slash + 1, &end, 10);
	if (end == slash + 1 || *end != '\0' || prefix < 0 || prefix > (long)max)
		return -1;
	out->prefix = (unsigned)prefix;
	return 0;
}

unsigned profile_key_usage_bit(const char *name)
{
	static const struct {
		const char *name;
		unsigned bit;
	} usages[] = {
		{"digitalSignature", KU_DIGITAL_SIGNATURE},
		{"nonRepudiation", KU_NON_REPUDIATION},
		{"contentCommitment", KU_NON_REPUDIATION},
		{"keyEncipherment", KU_KEY_ENCIPHERMENT},
		{"dataEncipherment", KU_DATA_ENCIPHERMENT},
		{"keyAgreement", KU_KEY_AGREEMENT},
		{"keyCertSign", KU_KEY_CERT_SIGN},
		{"cRLSign", KU_CRL_SIGN},
	};

	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (strcmp(usages[i].name, name) == 0)
			return usages[i].bit;
	return 0;
}

static int has_attr(const struct profile *p, int nid)
{
	for (size_t i = 0; i < p->n_attrs; i++)
		if (p->attrs[i] == nid)
			return 1;
	return 0;
}

int profile_check(const struct profile *p, char *why, size_t whylen)
{
	const char *problem = NULL;

	if (p->key_algs == 0)
		problem = "key_types: allows no key type";
	else if (!p->is_ca && p->path_len >= 0)
		problem = "path_len: only for ca = true";
	else if (p->is_ca && !(p->key_usage & KU_KEY_CERT_SIGN))
		problem = "key_usage: a CA profile needs keyCertSign";
	else if (!p->is_ca && (p->key_usage & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)))
		problem = "key_usage: keyCertSign and cRLSign are for ca = true";
	else if (p->default_days == 0 || p->default_days > p->max_days)
		problem = "default_days: must be between 1 and max_days";
	else if (p->max_days > PROFILE_MAX_DAYS)
		problem = "max_days: at most 36500";
	else if (p->cn_required && !has_attr(p, NID_commonName))
		problem = "subject.attributes: cn_required needs CN among them";
	else if (p->n_attrs == 0 && p->n_dns + p->n_ips + p->n_uris == 0)
		problem = "a profile must allow a subject attribute or a SAN";
	if (problem == NULL)
		return 0;
	snprintf(why, whylen, "%s", problem);
	return SIGNET_E_INVALID_ARGUMENT;
}

struct profile *profile_set_add(struct profile_set *set, const char *name,
				const struct profile *base)
{
	struct profile *grown, *p, from;
	char why[64];
	int ok = 1;

	if (set->n >= PROFILE_MAX)
		return NULL;
	/* `base` may point into set->v, which realloc moves: keep a shallow copy (the
	 * strings it points to stay where they are). */
	if (base != NULL) {
		from = *base;
		base = &from;
	}
	grown = realloc(set->v, (set->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	set->v = grown;
	p = &grown[set->n];
	memset(p, 0, sizeof(*p));
	if (base != NULL) {
		/* Copy the plain fields; owned strings and the regex are copied one by one. */
		*p = *base;
		p->cn_pattern = NULL;
		p->n_dns = p->n_uris = 0;
		if (base->cn_pattern != NULL)
			ok = profile_set_cn_pattern(p, base->cn_pattern, why, sizeof(why)) == 0;
		for (size_t i = 0; ok && i < base->n_dns; i++)
			ok = profile_add_pattern(p->dns, &p->n_dns, base->dns[i], why,
						 sizeof(why)) == 0;
		for (size_t i = 0; ok && i < base->n_uris; i++)
			ok = profile_add_pattern(p->uris, &p->n_uris, base->uris[i], why,
						 sizeof(why)) == 0;
	} else {
		p->path_len = -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	set->n++;
	if (!ok) {
		set->n--;
		profile_free(p);
		return NULL;
	}
	return p;
}

static void set_attrs(struct profile *p, const int *nids, size_t n)
{
	for (size_t i = 0; i < n && i < PROFILE_MAX_ATTRS; i++)
		p->attrs[i] = nids[i];
	p->n_attrs = n < PROFILE_MAX_ATTRS ? n : PROFILE_MAX_ATTRS;
}

static const int device_attrs[] = {
	NID_commonName,	 NID_organizationName,	  NID_organizationalUnitName,
	NID_countryName, NID_stateOrProvinceName, NID_localityName,
	NID_serialNumber};

/* Client certificates for devices, CN = device ID, as Azure IoT Hub/DPS and AWS IoT expect. */
static int builtin_device(struct profile *p, int constrained)
{
	char why[128];

	p->key_algs = constrained ? PROFILE_BIT(SIGNET_KEY_EC_P256) : ALL_KEYS;
	if (constrained) {
		/* RFC 7925 section 4.4.2: ECDSA on P-256 with SHA-256, end to end. */
		p->issuer_key_algs = PROFILE_BIT(SIGNET_KEY_EC_P256);
		p->hash = SIGNET_HASH_SHA256;
		p->csr_hashes = PROFILE_BIT(SIGNET_HASH_SHA256);
		p->key_usage = KU_DIGITAL_SIGNATURE;
	} else {
		p->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	}
	p->eku[0] = NID_client_auth;
	p->n_eku = 1;
	p->default_days = 365;
	p->max_days = 3650;
	p->backdate_seconds = 300;
	set_attrs(p, device_attrs, sizeof(device_attrs) / sizeof(device_attrs[0]));
	p->cn_required = 1;
	p->cn_max_len = PROFILE_CN_MAX;
	return profile_set_cn_pattern(p, DEVICE_ID_PATTERN, why, sizeof(why));
}

/* TLS server certificates: the names a client checks are SANs (RFC 6125). */
static int builtin_server(struct profile *p)
{
	static const int attrs[] = {
		NID_commonName,	 NID_organizationName,	  NID_organizationalUnitName,
		NID_countryName, NID_stateOrProvinceName, NID_localityName};
	char why[64];
	int r;

	p->key_algs = ALL_KEYS;
	p->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	p->eku[0] = NID_server_auth;
	p->n_eku = 1;
	p->default_days = 365;
	p->max_days = 825;
	p->backdate_seconds = 300;
	set_attrs(p, attrs, sizeof(attrs) / sizeof(attrs[0]));
	p->cn_max_len = PROFILE_CN_MAX;
	p->san_required = 1;
	if ((r = profile_add_pattern(p->dns, &p->n_dns, "*", why, sizeof(why))) != 0)
		return r;
	profile_parse_ip_range("0.0.0.0/0", &p->ips[p->n_ips++]);
	profile_parse_ip_range("::/0", &p->ips[p->n_ips++]);
	return 0;
}

/* A CA certificate for a CSR made elsewhere; pathLen 0: it signs end entities only. */
static void builtin_intermediate(struct profile *p)
{
	static const int attrs[] = {
		NID_commonName,	  NID_organizationName,	   NID_organizationalUnitName,
		NID_countryName,  NID_stateOrProvinceName, NID_localityName,
		NID_serialNumber, NID_domainComponent};

	p->key_algs = ALL_KEYS;
	p->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN;
	p->is_ca = 1;
	p->path_len = 0;
	p->default_days = 1825;
	p->max_days = 3650;
	p->backdate_seconds = 300;
	set_attrs(p, attrs, sizeof(attrs) / sizeof(attrs[0]));
	p->cn_required = 1;
	p->cn_max_len = PROFILE_CN_MAX;
}

/*
 * A SCEP registration authority (docs/scep.md): an RSA key on signet's token
 * that signs CertReps and decrypts the envelopes requesters encrypt to it,
 * so digitalSignature and keyEncipherment (RFC 8894 section 2.1.1); RFC 8894
 * defines no EKU, and clients check none.
 */
static void builtin_scep_ra(struct profile *p)
{
	static const int attrs[] = {NID_commonName, NID_organizationName,
				    NID_organizationalUnitName, NID_countryName};

	p->key_algs = PROFILE_BIT(SIGNET_KEY_RSA_2048) | PROFILE_BIT(SIGNET_KEY_RSA_3072) |
		      PROFILE_BIT(SIGNET_KEY_RSA_4096);
	p->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	p->path_len = -1;
	p->default_days = 730;
	p->max_days = 1825;
	p->backdate_seconds = 300;
	set_attrs(p, attrs, sizeof(attrs) / sizeof(attrs[0]));
	p->cn_required = 1;
	p->cn_max_len = PROFILE_CN_MAX;
}

int profile_set_builtin(struct profile_set *set)
{
	static const char *const names[] = {"device", "constrained-device", "server",
					    "intermediate", "scep-ra"};
	int r = 0;

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; r == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		struct profile *p = profile_set_add(set, names[i], NULL);

		if (p == NULL)
			r = SIGNET_E_NOMEM;
		else if (i <= 1)
			r = builtin_device(p, i == 1);
		else if (i == 2)
			r = builtin_server(p);
		else if (i == 3)
			builtin_intermediate(p);
		else
			builtin_scep_ra(p);
	}
	if (r != 0)
		profile_set_free(set);
	return r;
}

enum signet_key_alg profile_key_alg(EVP_PKEY *key, char *desc, size_t desclen)
{
	char group[64] = "";
	int bits = EVP_PKEY_get_bits(key);

	if (EVP_PKEY_is_a(key, "EC")) {
		EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
					       sizeof(group), NULL);
		snprintf(desc, desclen, "EC %s", group[0] != '\0' ? group : "(unnamed curve)");
		if (strcmp(group, "prime256v1") == 0)
			return SIGNET_KEY_EC_P256;
		if (strcmp(group, "secp384r1") == 0)
			return SIGNET_KEY_EC_P384;
		return SIGNET_KEY_UNSPECIFIED;
	}
	if (EVP_PKEY_is_a(key, "RSA")) {
		snprintf(desc, desclen, "RSA %d", bits);
		return bits == 2048   ? SIGNET_KEY_RSA_2048
		       : bits == 3072 ? SIGNET_KEY_RSA_3072
		       : bits == 4096 ? SIGNET_KEY_RSA_4096
				      : SIGNET_KEY_UNSPECIFIED;
	}
	snprintf(desc, desclen, "%s",
		 EVP_PKEY_get0_type_name(key) != NULL ? EVP_PKEY_get0_type_name(key)
						      : "an unknown key type");
	return SIGNET_KEY_UNSPECIFIED;
}
