/*
 * The profiles group of the configuration. Every profile starts from a
 * base: the built-in of the same name when there is one, else the profile
 * named by `base`, which a new profile must give. Settings given replace the
 * base's (lists replace whole lists), so a file states only what it changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "config/internal.h"
#include "namerule.h"
#include "pki/profile.h"

#define WHY_MAX 160

/* A list of strings, each passed to `each`; a missing setting leaves the base's. */
typedef int (*item_fn)(struct profile *p, const char *item, char *why, size_t whylen);

static int load_list(struct config_loader *l, const config_setting_t *g, const char *name,
		     struct profile *p, void (*reset)(struct profile *p), item_fn each)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	char why[WHY_MAX];

	if (s == NULL)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfg_refuse(l, g, name, "must be a list like [ \"a\", \"b\" ]");
	reset(p);
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));

		if (v == NULL)
			return cfg_refuse(l, g, name, "item %d: must be a string", i + 1);
		if (each(p, v, why, sizeof(why)) != 0)
			return cfg_refuse(l, g, name, "item %d ('%.64s'): %s", i + 1, v, why);
	}
	return 0;
}

static int get_unsigned(struct config_loader *l, const config_setting_t *g, const char *name,
			long long min, long long max, unsigned *out)
{
	long long v = *out;

	if (cfg_get_int(l, g, name, min, max, &v) != 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void reset_keys(struct profile *p)
{
	p->key_algs = 0;
}

static int add_alg(unsigned *bits, const char *item, char *why, size_t whylen)
{
	enum signet_key_alg alg;

	if (signet_key_alg_from_name(item, &alg) != 0) {
		snprintf(why, whylen, "not one of p256, p384, rsa2048, rsa3072, rsa4096");
		return -1;
	}
	*bits |= PROFILE_BIT(alg);
	return 0;
}

static int add_key(struct profile *p, const char *item, char *why, size_t whylen)
{
	return add_alg(&p->key_algs, item, why, whylen);
}

static void reset_issuer_keys(struct profile *p)
{
	p->issuer_key_algs = 0;
}

static int add_issuer_key(struct profile *p, const char *item, char *why, size_t whylen)
{
	return add_alg(&p->issuer_key_algs, item, why, whylen);
}

static int hash_from_name(const char *name, enum signet_hash *out)
{
	static const char *const names[] = {"default", "sha256", "sha384", "sha512"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum signet_hash)i;
			return 0;
		}
	return -1;
}

static void reset_csr_hashes(struct profile *p)
{
	p->csr_hashes = 0;
}

static int add_csr_hash(struct profile *p, const char *item, char *why, size_t whylen)
{
	enum signet_hash h;

	if (hash_from_name(item, &h) != 0 || h == SIGNET_HASH_DEFAULT) {
		snprintf(why, whylen, "not one of sha256, sha384, sha512");
		return -1;
	}
	p->csr_hashes |= PROFILE_BIT(h);
	return 0;
}

static void reset_usage(struct profile *p)
{
	p->key_usage = 0;
}

static int add_usage(struct profile *p, const char *item, char *why, size_t whylen)
{
	unsigned bit = profile_key_usage_bit(item);

	if (bit == 0) {
		snprintf(why, whylen,
			 "not a key usage (digitalSignature, nonRepudiation, keyEncipherment, "
			 "dataEncipherment, keyAgreement, keyCertSign, cRLSign)");
		return -1;
	}
	p->key_usage |= bit;
	return 0;
}

static void reset_eku(struct profile *p)
{
	p->n_eku = 0;
}

/* A name or dotted OID OpenSSL knows, appended to nids[*n] (room for max):
 * what the EKU and subject-attribute lists both hold. `unknown` says why a
 * name is refused. */
static int add_nid(int *nids, size_t *n, size_t max, const char *item, const char *unknown,
		   char *why, size_t whylen)
{
	int nid = OBJ_txt2nid(item);

	if (nid == NID_undef) {
		snprintf(why, whylen, "%s", unknown);
		return -1;
	}
	if (*n >= max) {
		snprintf(why, whylen, "at most %zu", max);
		return -1;
	}
	nids[(*n)++] = nid;
	return 0;
}

/* "clientAuth", "serverAuth", ... or a dotted OID OpenSSL knows. */
static int add_eku(struct profile *p, const char *item, char *why, size_t whylen)
{
	return add_nid(p->eku, &p->n_eku, CERTBUILD_MAX_EKU, item,
		       "not a known extended key usage (serverAuth, clientAuth, "
		       "codeSigning, emailProtection, timeStamping, OCSPSigning)",
		       why, whylen);
}

static void reset_attrs(struct profile *p)
{
	p->n_attrs = 0;
}

static int add_attr(struct profile *p, const char *item, char *why, size_t whylen)
{
	return add_nid(p->attrs, &p->n_attrs, PROFILE_MAX_ATTRS, item,
		       "not a known attribute (CN, O, OU, C, ST, L, serialNumber, ...)", why,
		       whylen);
}

static void reset_dns(struct profile *p)
{
	for (size_t i = 0; i < p->n_dns; i++)
		free(p->dns[i]);
	p->n_dns = 0;
}

static int add_dns(struct profile *p, const char *item, char *why, size_t whylen)
{
	return profile_add_pattern(p->dns, &p->n_dns, item, why, whylen);
}

static void reset_uris(struct profile *p)
{
	for (size_t i = 0; i < p->n_uris; i++)
		free(p->uris[i]);
	p->n_uris = 0;
}

static int add_uri(struct profile *p, const char *item, char *why, size_t whylen)
{
	return profile_add_pattern(p->uris, &p->n_uris, item, why, whylen);
}

static void reset_ips(struct profile *p)
{
	p->n_ips = 0;
}

static int add_ip(struct profile *p, const char *item, char *why, size_t whylen)
{
	if (p->n_ips >= PROFILE_MAX_PATTERNS) {
		snprintf(why, whylen, "at most %d", PROFILE_MAX_PATTERNS);
		return -1;
	}
	if (profile_parse_ip_range(item, &p->ips[p->n_ips]) != 0) {
		snprintf(why, whylen, "not an address or CIDR range (10.0.0.0/8, fd00::/8)");
		return -1;
	}
	p->n_ips++;
	return 0;
}

static int load_subject(struct config_loader *l, const config_setting_t *g, struct profile *p)
{
	static const char *const known[] = {"attributes",    "cn_required",    "cn_pattern",
					    "cn_max_length", "allow_override", NULL};
	const config_setting_t *s = config_setting_get_member(g, "subject");
	const char *pattern;
	char why[WHY_MAX];

	if (s == NULL)
		return 0;
	if (!config_setting_is_group(s))
		return cfg_refuse(l, g, "subject", "must be a group { ... }");
	if (cfg_only_known(l, s, known) != 0 ||
	    load_list(l, s, "attributes", p, reset_attrs, add_attr) != 0 ||
	    cfg_get_bool(l, s, "cn_required", &p->cn_required) != 0 ||
	    get_unsigned(l, s, "cn_max_length", 1, PROFILE_CN_MAX, &p->cn_max_len) != 0 ||
	    cfg_get_bool(l, s, "allow_override", &p->subject_override) != 0 ||
	    cfg_get_string(l, s, "cn_pattern", &pattern) != 0)
		return -1;
	if (pattern != NULL && profile_set_cn_pattern(p, pattern, why, sizeof(why)) != 0)
		return cfg_refuse(l, s, "cn_pattern", "%s", why);
	return 0;
}

static int load_san(struct config_loader *l, const config_setting_t *g, struct profile *p)
{
	static const char *const known[] = {"dns", "ip", "uri", "required", "allow_override", NULL};
	const config_setting_t *s = config_setting_get_member(g, "san");

	if (s == NULL)
		return 0;
	if (!config_setting_is_group(s))
		return cfg_refuse(l, g, "san", "must be a group { ... }");
	if (cfg_only_known(l, s, known) != 0 ||
	    load_list(l, s, "dns", p, reset_dns, add_dns) != 0 ||
	    load_list(l, s, "ip", p, reset_ips, add_ip) != 0 ||
	    load_list(l, s, "uri", p, reset_uris, add_uri) != 0 ||
	    cfg_get_bool(l, s, "required", &p->san_required) != 0 ||
	    cfg_get_bool(l, s, "allow_override", &p->san_override) != 0)
		return -1;
	return 0;
}

static int load_signing(struct config_loader *l, const config_setting_t *g, struct profile *p)
{
	const char *hash;
	long long path_len = p->path_len;

	if (cfg_get_string(l, g, "signature_hash", &hash) != 0)
		return -1;
	if (hash != NULL && hash_from_name(hash, &p->hash) != 0)
		return cfg_refuse(l, g, "signature_hash",
				  "must be default, sha256, sha384 or sha512");
	if (cfg_get_bool(l, g, "ca", &p->is_ca) != 0 ||
	    cfg_get_int(l, g, "path_len", -1, 32, &path_len) != 0)
		return -1;
	p->path_len = (int)path_len;
	return 0;
}

static int load_profile_settings(struct config_loader *l, const config_setting_t *g,
				 struct profile *p)
{
	static const char *const known[] = {"base",
					    "key_types",
					    "issuer_key_types",
					    "signature_hash",
					    "csr_signature_hashes",
					    "key_usage",
					    "extended_key_usage",
					    "ca",
					    "path_len",
					    "default_days",
					    "max_days",
					    "backdate_seconds",
					    "subject",
					    "san",
					    NULL};
	char why[WHY_MAX];

	if (cfg_only_known(l, g, known) != 0 ||
	    load_list(l, g, "key_types", p, reset_keys, add_key) != 0 ||
	    load_list(l, g, "issuer_key_types", p, reset_issuer_keys, add_issuer_key) != 0 ||
	    load_list(l, g, "csr_signature_hashes", p, reset_csr_hashes, add_csr_hash) != 0 ||
	    load_list(l, g, "key_usage", p, reset_usage, add_usage) != 0 ||
	    load_list(l, g, "extended_key_usage", p, reset_eku, add_eku) != 0 ||
	    load_signing(l, g, p) != 0 ||
	    get_unsigned(l, g, "max_days", 1, PROFILE_MAX_DAYS, &p->max_days) != 0 ||
	    get_unsigned(l, g, "default_days", 1, PROFILE_MAX_DAYS, &p->default_days) != 0 ||
	    get_unsigned(l, g, "backdate_seconds", 0, PROFILE_MAX_BACKDATE, &p->backdate_seconds) !=
		    0 ||
	    load_subject(l, g, p) != 0 || load_san(l, g, p) != 0)
		return -1;
	if (profile_check(p, why, sizeof(why)) != 0)
		return cfg_refuse(l, g, NULL, "%s", why);
	return 0;
}

/* One profile: its base, then its settings over the base's. */
static int load_profile(struct config_loader *l, const config_setting_t *group,
			const config_setting_t *g, struct profile_set *set)
{
	const char *name = config_setting_name(g), *base_name;
	const struct profile *base;
	struct profile *p, *existing;
	char rule[NAME_RULE_MAX];

	if (!config_setting_is_group(g))
		return cfg_refuse(l, group, name, "must be a group { ... }");
	if (!profile_name_valid(name))
		return cfg_refuse(l, group, name, "%s",
				  name_rule("profile names", PROFILE_NAME_MAX, rule, sizeof(rule)));
	if (cfg_get_string(l, g, "base", &base_name) != 0)
		return -1;
	base = base_name != NULL ? profile_find(set, base_name) : profile_find(set, name);
	if (base == NULL && base_name != NULL)
		return cfg_refuse(l, g, "base", "no profile named '%.64s' above this one",
				  base_name);
	if (base == NULL)
		return cfg_refuse(l, group, name,
				  "a new profile needs base = \"device\" (or another profile) to "
				  "start from");
	/* The new entry is built from a copy; it replaces the old one only when complete. */
	if ((p = profile_set_add(set, name, base)) == NULL)
		return cfg_refuse(l, group, name, "too many profiles (at most %d) or no memory",
				  PROFILE_MAX);
	if (load_profile_settings(l, g, p) != 0) {
		profile_free(p);
		set->n--;
		return -1;
	}
	existing = (struct profile *)profile_find(set, name);
	if (existing != p) {
		profile_free(existing);
		*existing = *p;
		set->n--;
	}
	return 0;
}

int cfg_load_profiles(struct config_loader *l, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *group = config_setting_get_member(root, "profiles");

	if (profile_set_builtin(&cfg->profiles) != 0)
		return cfg_refuse(l, root, NULL, "out of memory");
	if (group == NULL)
		return 0;
	if (!config_setting_is_group(group))
		return cfg_refuse(l, root, "profiles", "must be a group { name: { ... }; ... }");
	for (int i = 0; i < config_setting_length(group); i++)
		if (load_profile(l, group, config_setting_get_elem(group, (unsigned)i),
				 &cfg->profiles) != 0)
			return -1;
	return 0;
}
