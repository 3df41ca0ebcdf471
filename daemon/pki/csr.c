#include "pki/csr.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "hsm/keybridge.h"

/* Split off the next "/TYPE=VALUE" component, undoing backslash escapes. */
static int subject_next(const char **cursor, char *type, size_t typelen, char *value,
			size_t valuelen)
{
	const char *p = *cursor + 1; /* skip '/' */
	size_t t = 0, v = 0;

	while (*p != '\0' && *p != '=' && *p != '/') {
		if (t + 1 >= typelen)
			return -1;
		type[t++] = *p++;
	}
	type[t] = '\0';
	if (*p != '=' || t == 0)
		return -1;
	p++;
	while (*p != '\0' && *p != '/') {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (v + 1 >= valuelen)
			return -1;
		value[v++] = *p++;
	}
	value[v] = '\0';
	*cursor = p;
	return v > 0 ? 0 : -1;
}

int csr_subject_parse(const char *subject, X509_NAME **out, struct errmsg *em)
{
	X509_NAME *name = X509_NAME_new();
	const char *cursor = subject;
	char type[64], value[CSR_SUBJECT_MAX];
	int r = 0, count = 0;

	if (name == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	if (strlen(subject) > CSR_SUBJECT_MAX) {
		r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "subject longer than %d bytes",
			       CSR_SUBJECT_MAX);
		goto out;
	}
	if (*subject != '\0' && *subject != '/') {
		r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
			       "subject must look like /CN=name/O=org");
		goto out;
	}
	while (*cursor == '/') {
		int nid;

		if (subject_next(&cursor, type, sizeof(type), value, sizeof(value)) != 0) {
			r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				       "malformed subject component near '%.32s'", cursor);
			goto out;
		}
		if (++count > CSR_NAME_ATTRS_MAX) {
			r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				       "subject has more than %d attributes", CSR_NAME_ATTRS_MAX);
			goto out;
		}
		nid = OBJ_txt2nid(type);
		if (nid == NID_undef) {
			r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				       "unknown subject attribute '%s'", type);
			goto out;
		}
		if (!X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
						(const unsigned char *)value, -1, -1, 0)) {
			r = errmsg_openssl(em, SIGNET_E_INVALID_ARGUMENT,
					   "subject attribute %s has an invalid value", type);
			goto out;
		}
	}
	*out = name;
	name = NULL; /* transferred */
out:
	X509_NAME_free(name);
	return r;
}

static int label_valid(const char *s, size_t len)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int csr_dns_name_valid(const char *name)
{
	size_t len = strlen(name);
	const char *p = name, *dot;

	if (len == 0 || len > 253)
		return 0;
	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	for (;;) {
		dot = strchr(p, '.');
		if (!label_valid(p, dot != NULL ? (size_t)(dot - p) : strlen(p)))
			return 0;
		if (dot == NULL)
			return 1;
		p = dot + 1;
	}
}

static int san_push(GENERAL_NAMES *gens, int type, ASN1_IA5STRING *ia5, ASN1_OCTET_STRING *ip)
{
	GENERAL_NAME *gen = GENERAL_NAME_new();

	if (gen == NULL)
		return -1;
	if (type == GEN_IPADD)
		GENERAL_NAME_set0_value(gen, type, ip);
	else
		GENERAL_NAME_set0_value(gen, type, ia5);
	if (!sk_GENERAL_NAME_push(gens, gen)) {
		GENERAL_NAME_free(gen);
		return -1;
	}
	return 0;
}

static int san_add_text(GENERAL_NAMES *gens, int type, const char *value, struct errmsg *em)
{
	static const char *const kinds[] = {
		[GEN_DNS] = "DNS name", [GEN_URI] = "URI", [GEN_EMAIL] = "email address"};
	ASN1_IA5STRING *ia5;
	size_t len = strlen(value);
	int ok;

	ok = len > 0 && len <= CSR_SAN_LEN_MAX;
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)value[i] > 0x20 && (unsigned char)value[i] < 0x7f;
	if (ok && type == GEN_DNS)
		ok = csr_dns_name_valid(value);
	if (ok && type == GEN_URI)
		ok = strchr(value, ':') != NULL;
	if (ok && type == GEN_EMAIL)
		ok = strchr(value, '@') != NULL && value[0] != '@';
	if (!ok)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "invalid %s '%.64s'", kinds[type],
				  value);
	ia5 = ASN1_IA5STRING_new();
	if (ia5 == NULL || !ASN1_STRING_set(ia5, value, (int)len) ||
	    san_push(gens, type, ia5, NULL) != 0) {
		ASN1_IA5STRING_free(ia5);
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	}
	return 0;
}

static int san_add_ip(GENERAL_NAMES *gens, const char *value, struct errmsg *em)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(value);

	ERR_clear_error();
	if (ip == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "invalid IP address '%.64s'",
				  value);
	if (san_push(gens, GEN_IPADD, NULL, ip) != 0) {
		ASN1_OCTET_STRING_free(ip);
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	}
	return 0;
}

static int san_build(const struct csr_params *p, GENERAL_NAMES *gens, struct errmsg *em)
{
	size_t total = p->n_dns_names + p->n_ip_addresses + p->n_uris + p->n_emails;
	int r = 0;

	if (total > CSR_SAN_MAX)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "more than %d subject alternative names", CSR_SAN_MAX);
	for (size_t i = 0; r == 0 && i < p->n_dns_names; i++)
		r = san_add_text(gens, GEN_DNS, p->dns_names[i], em);
	for (size_t i = 0; r == 0 && i < p->n_ip_addresses; i++)
		r = san_add_ip(gens, p->ip_addresses[i], em);
	for (size_t i = 0; r == 0 && i < p->n_uris; i++)
		r = san_add_text(gens, GEN_URI, p->uris[i], em);
	for (size_t i = 0; r == 0 && i < p->n_emails; i++)
		r = san_add_text(gens, GEN_EMAIL, p->emails[i], em);
	return r;
}

static int push_ext(STACK_OF(X509_EXTENSION) * exts, X509_EXTENSION *ext)
{
	if (ext == NULL || !sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		return -1;
	}
	return 0;
}

/* What a CA's request asks for: the extensions RFC 5280 wants on a CA. */
static int ca_exts(const struct csr_params *p, STACK_OF(X509_EXTENSION) * exts)
{
	char bc[64];

	if (p->ca_path_len >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", p->ca_path_len);
	else
		snprintf(bc, sizeof(bc), "critical,CA:TRUE");
	if (push_ext(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, bc)) != 0 ||
	    push_ext(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
					       "critical,digitalSignature,keyCertSign,cRLSign")) !=
		    0)
		return -1;
	return 0;
}

/* The extensionRequest attribute: SANs, critical when the subject is empty
 * (RFC 5280 4.2.1.6), and a CA's constraints. */
static int csr_add_extensions(X509_REQ *req, const struct csr_params *p, GENERAL_NAMES *gens,
			      int subject_empty, struct errmsg *em)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	int r = 0;

	if (exts == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	if (sk_GENERAL_NAME_num(gens) > 0 &&
	    push_ext(exts, X509V3_EXT_i2d(NID_subject_alt_name, subject_empty, gens)) != 0)
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot encode subjectAltName");
	else if (p->is_ca && ca_exts(p, exts) != 0)
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot encode the CA extensions");
	else if (sk_X509_EXTENSION_num(exts) > 0 && !X509_REQ_add_extensions(req, exts))
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot add the extension request");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

static int csr_encode(X509_REQ *req, uint8_t **der, size_t *derlen, struct errmsg *em)
{
	unsigned char *buf = NULL;
	int n = i2d_X509_REQ(req, &buf);

	if (n <= 0)
		return errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot encode the request");
	*der = buf;
	*derlen = (size_t)n;
	return 0;
}

int csr_build(const struct csr_params *p, EVP_PKEY *signer, EVP_PKEY *pub, const EVP_MD *md,
	      uint8_t **der, size_t *derlen, struct errmsg *em)
{
	struct errmsg local = {0};
	X509_REQ *req;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int r, subject_empty;

	if (em == NULL)
		em = &local;
	req = X509_REQ_new();
	if (req == NULL || gens == NULL) {
		r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	if (p->subject_name != NULL) {
		if ((name = X509_NAME_dup(p->subject_name)) == NULL) {
			r = errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
	} else if ((r = csr_subject_parse(p->subject != NULL ? p->subject : "", &name, em)) != 0) {
		goto out;
	}
	if ((r = san_build(p, gens, em)) != 0)
		goto out;
	subject_empty = X509_NAME_entry_count(name) == 0;
	if (subject_empty && sk_GENERAL_NAME_num(gens) == 0) {
		r = errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
			       "a request needs a subject or at least one alternative name");
		goto out;
	}
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, pub)) {
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "cannot fill the request");
		goto out;
	}
	if ((r = csr_add_extensions(req, p, gens, subject_empty, em)) != 0)
		goto out;
	em->err = 0;
	if (X509_REQ_sign(req, signer, md) <= 0) {
		r = keybridge_sign_error(em);
		goto out;
	}
	/* Never hand out a request whose signature does not check. */
	if (X509_REQ_verify(req, pub) != 1) {
		r = errmsg_openssl(em, SIGNET_E_INTERNAL, "the token's signature does not verify");
		goto out;
	}
	r = csr_encode(req, der, derlen, em);
out:
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return r;
}

int csr_sans_build(const struct csr_params *p, GENERAL_NAMES **out, struct errmsg *em)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int r;

	if (gens == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	if ((r = san_build(p, gens, em)) != 0) {
		GENERAL_NAMES_free(gens);
		return r;
	}
	*out = gens;
	return 0;
}

static int looks_like_pem(const uint8_t *data, size_t len)
{
	static const char begin[] = "-----BEGIN";
	size_t i = 0;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	return len - i >= sizeof(begin) - 1 && memcmp(data + i, begin, sizeof(begin) - 1) == 0;
}

/*
 * Requests are decoded in a library context with no algorithms (the "null"
 * provider): OpenSSL 3.0 decodes the public key of every X509_PUBKEY it
 * parses through its decoder framework, whose set-up costs about four times
 * the rest of the parse, and then decodes it again for every use with a
 * fresh decoder context. In the empty context that attempt fails at once and
 * leaves the key undecoded; csr_public_key() builds it from the
 * SubjectPublicKeyInfo's bytes instead. The context lives as long as the
 * process (requests hold a reference to it).
 */
static OSSL_LIB_CTX *parse_ctx;
static pthread_once_t parse_ctx_once = PTHREAD_ONCE_INIT;

static void parse_ctx_init(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	if (ctx != NULL && OSSL_PROVIDER_load(ctx, "null") == NULL) {
		OSSL_LIB_CTX_free(ctx);
		ctx = NULL;
	}
	parse_ctx = ctx; /* NULL: the default context, slower but the same result */
}

static X509_REQ *der_parse(const unsigned char *der, long len)
{
	const unsigned char *p = der;
	X509_REQ *req;

	pthread_once(&parse_ctx_once, parse_ctx_init);
	req = (X509_REQ *)ASN1_item_d2i_ex(NULL, &p, len, ASN1_ITEM_rptr(X509_REQ), parse_ctx,
					   NULL);
	if (req != NULL && p != der + len) {
		X509_REQ_free(req);
		req = NULL;
	}
	return req;
}

/* "CERTIFICATE REQUEST", or "NEW CERTIFICATE REQUEST" (old OpenSSL, Java
 * keytool): the first such block, as DER. */
static X509_REQ *pem_parse(const uint8_t *data, size_t len)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	unsigned char *der = NULL;
	long der_len = 0;
	X509_REQ *req = NULL;

	if (bio != NULL &&
	    PEM_bytes_read_bio(&der, &der_len, NULL, PEM_STRING_X509_REQ, bio, NULL, NULL) == 1)
		req = der_parse(der, der_len);
	OPENSSL_free(der);
	BIO_free(bio);
	return req;
}

int csr_parse(const uint8_t *data, size_t len, X509_REQ **out, struct errmsg *em)
{
	X509_REQ *req;

	if (len == 0 || len > INT_MAX)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "no CSR given");
	req = looks_like_pem(data, len) ? pem_parse(data, len) : der_parse(data, (long)len);
	ERR_clear_error();
	if (req == NULL)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the CSR is not a PKCS#10 request in PEM or DER");
	*out = req;
	return 0;
}

/* An EC key of a named curve: a copy of the curve's parameters, cached per
 * curve, given the point (checked to be on the curve). Copying parameters
 * costs a fraction of building the group from its name for every key. */
static EVP_PKEY *ec_key(int curve_nid, const unsigned char *point, int point_len)
{
	static const int curves[] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
	static EVP_PKEY *params[sizeof(curves) / sizeof(curves[0])];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	EVP_PKEY *tmpl = NULL, *key = NULL;
	size_t i;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]) && curves[i] != curve_nid; i++)
		;
	if (i == sizeof(curves) / sizeof(curves[0]))
		return NULL;
	pthread_mutex_lock(&lock);
	if (params[i] == NULL) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(
					  OSSL_PKEY_PARAM_GROUP_NAME,
					  (char *)OSSL_EC_curve_nid2name(curve_nid), 0),
				  OSSL_PARAM_construct_end()};

		if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &params[i], EVP_PKEY_KEY_PARAMETERS, p) != 1)
			params[i] = NULL;
		EVP_PKEY_CTX_free(ctx);
	}
	tmpl = params[i];
	pthread_mutex_unlock(&lock);
	if (tmpl != NULL && (key = EVP_PKEY_new()) != NULL &&
	    (EVP_PKEY_copy_parameters(key, tmpl) != 1 ||
	     EVP_PKEY_set1_encoded_public_key(key, point, (size_t)point_len) != 1)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

/* Any other key type: the general decoder, as OpenSSL would have used. */
static EVP_PKEY *spki_decode(X509_PUBKEY *spki)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_X509_PUBKEY(spki, &der);
	EVP_PKEY *key = NULL;

	if (len > 0) {
		p = der;
		key = d2i_PUBKEY(NULL, &p, len);
	}
	OPENSSL_free(der);
	return key;
}

EVP_PKEY *csr_public_key(const X509_REQ *req)
{
	X509_PUBKEY *spki = X509_REQ_get_X509_PUBKEY((X509_REQ *)req);
	const unsigned char *bits = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	const void *pval = NULL;
	EVP_PKEY *key = NULL;
	int bits_len = 0, ptype = 0;

	if (spki == NULL || !X509_PUBKEY_get0_param((ASN1_OBJECT **)&obj, &bits, &bits_len,
						    (X509_ALGOR **)&alg, spki))
		return NULL;
	switch (OBJ_obj2nid(obj)) {
	case NID_X9_62_id_ecPublicKey:
		X509_ALGOR_get0(NULL, &ptype, &pval, alg);
		if (ptype == V_ASN1_OBJECT)
			key = ec_key(OBJ_obj2nid(pval), bits, bits_len);
		break;
	case NID_rsaEncryption:
		/* RFC 8017 RSAPublicKey, the whole of the bit string */
		key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &bits, bits_len);
		break;
	case NID_ED25519:
		key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, bits, (size_t)bits_len);
		break;
	default:
		break;
	}
	if (key == NULL)
		key = spki_decode(spki);
	ERR_clear_error();
	return key;
}

int csr_key_matches(const X509_REQ *req, X509 *cert)
{
	EVP_PKEY *key = csr_public_key(req);
	int same = key != NULL && EVP_PKEY_eq(key, X509_get0_pubkey(cert)) == 1;

	EVP_PKEY_free(key);
	ERR_clear_error();
	return same;
}

/* The digest of an RSASSA-PSS signature: its parameters' hashAlgorithm,
 * SHA-1 when absent (RFC 4055 section 3.1); NID_undef when unreadable. */
static int pss_md_nid(const X509_ALGOR *alg)
{
	RSA_PSS_PARAMS *pss = NULL;
	int nid = NID_undef;

	if (alg->parameter != NULL && alg->parameter->type == V_ASN1_SEQUENCE)
		pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), alg->parameter);
	if (pss != NULL)
		nid = pss->hashAlgorithm == NULL ? NID_sha1
						 : OBJ_obj2nid(pss->hashAlgorithm->algorithm);
	RSA_PSS_PARAMS_free(pss);
	return nid;
}

/* The digest the request was signed with; NID_undef for none (Ed25519) or unknown. */
static int signature_md_nid(const X509_REQ *req)
{
	const X509_ALGOR *alg = NULL;
	int md_nid = NID_undef, pk_nid = NID_undef, sig_nid;

	X509_REQ_get0_signature(req, NULL, &alg);
	sig_nid = OBJ_obj2nid(alg->algorithm);
	if (sig_nid == NID_rsassaPss)
		return pss_md_nid(alg);
	OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid);
	return md_nid;
}

/* SHA-1 and older hashes are refused whatever the profile: chosen-prefix
 * collisions on SHA-1 are practical, so a signature over one proves little. */
static int refuse_weak_hash(const X509_REQ *req, struct errmsg *em)
{
	static const struct {
		int nid;
		const char *name;
	} weak[] = {
		{NID_sha1, "SHA-1"}, {NID_md5_sha1, "MD5+SHA-1"},
		{NID_md5, "MD5"},    {NID_md4, "MD4"},
		{NID_md2, "MD2"},    {NID_mdc2, "MDC-2"},
	};
	int md_nid = signature_md_nid(req);

	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (md_nid == weak[i].nid)
			return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
					  "the CSR is signed with %s (%s): signet refuses %s "
					  "signatures; sign it with SHA-256 or stronger "
					  "(openssl req -sha256)",
					  weak[i].name, OBJ_nid2ln(X509_REQ_get_signature_nid(req)),
					  weak[i].name);
	return 0;
}

int csr_verify_signature(X509_REQ *req, struct errmsg *em)
{
	EVP_PKEY *key;
	int ok, r;

	if ((r = refuse_weak_hash(req, em)) != 0)
		return r;
	/* the default library context: the request's own has no algorithms */
	key = csr_public_key(req);
	ok = key != NULL && X509_REQ_verify_ex(req, key, NULL, NULL) == 1;
	EVP_PKEY_free(key);
	ERR_clear_error();
	if (!ok)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "the CSR's signature does not verify with its own public key: "
				  "it is no proof of possession, nothing issued");
	return 0;
}
