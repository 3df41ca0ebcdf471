/* Software PKI for the unit tests: see testpki.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "testpki.h"

#define SERIAL_BITS 127 /* >= 64 random bits, positive, within 20 octets */

EVP_PKEY *testpki_key(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");

	assert_non_null(key);
	return key;
}

X509_NAME *testpki_name(const char *cn)
{
	X509_NAME *name = X509_NAME_new();

	assert_non_null(name);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	return name;
}

static void add_ext(X509 *cert, int nid, int critical, void *value)
{
	X509_EXTENSION *ext = X509V3_EXT_i2d(nid, critical, value);

	assert_non_null(ext);
	assert_int_equal(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* An extension OpenSSL builds from its configuration syntax, e.g. "keyid:always". */
static void add_conf_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static void add_basic_constraints(X509 *cert, const struct testpki_spec *spec)
{
	char value[64];

	if (spec->is_ca && spec->path_len >= 0)
		snprintf(value, sizeof(value), "critical,CA:TRUE,pathlen:%d", spec->path_len);
	else
		snprintf(value, sizeof(value), "%s", spec->is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_conf_ext(cert, NULL, NID_basic_constraints, value);
}

static void add_key_usage(X509 *cert, unsigned usage)
{
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();

	assert_non_null(ku);
	/* KU_* are the bits of the first two DER bytes, most significant first */
	for (int bit = 0; bit < 9; bit++) {
		unsigned mask = bit < 8 ? 0x80u >> bit : 0x8000u;

		if (usage & mask)
			assert_int_equal(ASN1_BIT_STRING_set_bit(ku, bit, 1), 1);
	}
	add_ext(cert, NID_key_usage, 1, ku);
	ASN1_BIT_STRING_free(ku);
}

static void add_extensions(X509 *cert, const struct testpki_spec *spec)
{
	add_basic_constraints(cert, spec);
	if (spec->key_usage != 0)
		add_key_usage(cert, spec->key_usage);
	if (spec->eku != 0)
		add_conf_ext(cert, NULL, NID_ext_key_usage, OBJ_nid2sn(spec->eku));
	if (spec->sans != NULL)
		add_ext(cert, NID_subject_alt_name, 0, (void *)spec->sans);
	add_conf_ext(cert, NULL, NID_subject_key_identifier, "hash");
	if (spec->issuer != NULL)
		add_conf_ext(cert, spec->issuer, NID_authority_key_identifier, "keyid:always");
}

static void set_serial(X509 *cert)
{
	BIGNUM *bn = BN_new();

	assert_non_null(bn);
	assert_int_equal(BN_rand(bn, SERIAL_BITS, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), 1);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)));
	BN_free(bn);
}

X509 *testpki_cert(const struct testpki_spec *spec)
{
	X509 *cert = X509_new();
	X509_NAME *subject = testpki_name(spec->cn);
	EVP_PKEY *signer = spec->issuer != NULL ? spec->issuer_key : spec->key;

	assert_non_null(cert);
	assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
	set_serial(cert);
	assert_int_equal(X509_set_subject_name(cert, subject), 1);
	assert_int_equal(X509_set_issuer_name(cert, spec->issuer != NULL
							    ? X509_get_subject_name(spec->issuer)
							    : subject),
			 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), spec->not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), spec->not_after));
	assert_int_equal(X509_set_pubkey(cert, spec->key), 1);
	add_extensions(cert, spec);
	assert_true(X509_sign(cert, signer, EVP_sha256()) > 0);
	X509_NAME_free(subject);
	return cert;
}

int testpki_verify(X509 *anchor, X509 *inter, X509 *leaf, X509_CRL *crl, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int r;

	assert_true(store != NULL && ctx != NULL && untrusted != NULL);
	assert_int_equal(X509_STORE_add_cert(store, anchor), 1);
	if (inter != NULL)
		assert_true(sk_X509_push(untrusted, inter) > 0);
	if (crl != NULL) {
		assert_int_equal(X509_STORE_add_crl(store, crl), 1);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
	if (purpose != 0)
		assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	r = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	return r;
}

void testpki_serial_hex(X509 *cert, char *out, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex;

	assert_non_null(bn);
	assert_non_null(hex = BN_bn2hex(bn));
	snprintf(out, size, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
}

unsigned char *testpki_der(X509 *cert, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

char *testpki_pem(X509 *cert, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text, *out;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_X509(bio, cert), 1);
	n = BIO_get_mem_data(bio, &text);
	assert_true(n > 0);
	assert_non_null(out = malloc((size_t)n + 1));
	memcpy(out, text, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return out;
}
