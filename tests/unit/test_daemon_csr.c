/* Unit tests for daemon/pki/csr.c: subject parsing, SAN validation, and a real
 * request built with a software key standing in for the token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/csr.h"
#include "hsm/keystore.h"

static char *name_text(X509_NAME *n)
{
	static char buf[256];

	X509_NAME_oneline(n, buf, sizeof(buf));
	return buf;
}

static void test_subject_parse(void **state)
{
	X509_NAME *n = NULL;
	char org[32];

	(void)state;
	assert_int_equal(csr_subject_parse("/CN=device-1/O=Acme\\/Sub/C=DE", &n, NULL), 0);
	/* oneline() escapes the slash again; the entry itself holds it bare */
	assert_string_equal(name_text(n), "/CN=device-1/O=Acme\\/Sub/C=DE");
	assert_int_equal(X509_NAME_entry_count(n), 3);
	assert_int_equal(X509_NAME_get_text_by_NID(n, NID_organizationName, org, sizeof(org)), 8);
	assert_string_equal(org, "Acme/Sub");
	X509_NAME_free(n);
	assert_int_equal(csr_subject_parse("", &n, NULL), 0);
	assert_int_equal(X509_NAME_entry_count(n), 0);
	X509_NAME_free(n);
}

static void test_subject_refusals(void **state)
{
	static const char *const bad[] = {
		"CN=no-leading-slash", "/CN=", "/=value", "/CN", "/NOPE=x", "/C=TOOLONG",
		"/CN=ok//O=empty",
	};
	struct errmsg em = {0};
	X509_NAME *n = NULL;
	char big[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		em.text[0] = '\0';
		assert_int_equal(csr_subject_parse(bad[i], &n, &em), SIGNET_E_INVALID_ARGUMENT);
		assert_true(em.text[0] != '\0');
	}
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[1] = 'C';
	big[2] = 'N';
	big[3] = '=';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(csr_subject_parse(big, &n, &em), SIGNET_E_INVALID_ARGUMENT);
	/* CN is at most 64 characters (RFC 5280 ub-common-name) */
	assert_int_equal(
		csr_subject_parse(
			"/CN=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &n,
			&em),
		SIGNET_E_INVALID_ARGUMENT);
}

static void test_dns_names(void **state)
{
	(void)state;
	assert_true(csr_dns_name_valid("device-1.example.com"));
	assert_true(csr_dns_name_valid("*.example.com"));
	assert_true(csr_dns_name_valid("localhost"));
	assert_false(csr_dns_name_valid(""));
	assert_false(csr_dns_name_valid("-bad.example"));
	assert_false(csr_dns_name_valid("bad-.example"));
	assert_false(csr_dns_name_valid("a..b"));
	assert_false(csr_dns_name_valid("a.*.b"));
	assert_false(csr_dns_name_valid("under_score.example"));
	assert_false(csr_dns_name_valid("trailing."));
}

static void test_key_names(void **state)
{
	(void)state;
	assert_true(keystore_name_valid("device-1"));
	assert_true(keystore_name_valid("A.b_c-9"));
	assert_false(keystore_name_valid(""));
	assert_false(keystore_name_valid(NULL));
	assert_false(keystore_name_valid("has space"));
	assert_false(keystore_name_valid("slash/name"));
	assert_false(keystore_name_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_build_request(void **state)
{
	char *dns[] = {"device-1.example"}, *ips[] = {"192.0.2.7"}, *bad_ip[] = {"300.1.1.1"};
	struct csr_params p = {.subject = "/CN=device-1",
			       .dns_names = dns,
			       .n_dns_names = 1,
			       .ip_addresses = ips,
			       .n_ip_addresses = 1};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	const unsigned char *cursor;
	struct errmsg em = {0};
	uint8_t *der = NULL;
	size_t len = 0;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) * exts;

	(void)state;
	assert_non_null(key);
	assert_int_equal(csr_build(&p, key, key, EVP_sha256(), &der, &len, &em), 0);
	cursor = der;
	req = d2i_X509_REQ(NULL, &cursor, (long)len);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	assert_string_equal(name_text(X509_REQ_get_subject_name(req)), "/CN=device-1");
	exts = X509_REQ_get_extensions(req);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, 0))),
			 NID_subject_alt_name);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	OPENSSL_free(der);

	p.ip_addresses = bad_ip;
	assert_int_equal(csr_build(&p, key, key, EVP_sha256(), &der, &len, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "300.1.1.1"));
	p.subject = "";
	p.n_dns_names = 0;
	p.n_ip_addresses = 0;
	assert_int_equal(csr_build(&p, key, key, EVP_sha256(), &der, &len, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	EVP_PKEY_free(key);
}

/* A sub-CA's request asks for CA:TRUE (with pathLen) and keyCertSign, critical. */
static void test_ca_request(void **state)
{
	struct csr_params p = {.subject = "/CN=Sub CA", .is_ca = 1, .ca_path_len = 1};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	const unsigned char *cursor;
	uint8_t *der = NULL;
	size_t len = 0;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) * exts;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;

	(void)state;
	assert_int_equal(csr_build(&p, key, key, EVP_sha256(), &der, &len, NULL), 0);
	cursor = der;
	assert_non_null(req = d2i_X509_REQ(NULL, &cursor, (long)len));
	exts = X509_REQ_get_extensions(req);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 2);
	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++)
		assert_true(X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, i)));
	assert_non_null(bc = X509V3_get_d2i(exts, NID_basic_constraints, NULL, NULL));
	assert_true(bc->ca);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 1);
	assert_non_null(ku = X509V3_get_d2i(exts, NID_key_usage, NULL, NULL));
	assert_true(ASN1_BIT_STRING_get_bit(ku, 5)); /* keyCertSign */
	assert_true(ASN1_BIT_STRING_get_bit(ku, 6)); /* cRLSign */
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

/* A request for `key`, signed by it, in DER (PEM when `pem`). */
static uint8_t *request_for(EVP_PKEY *key, const EVP_MD *md, int pem, size_t *len)
{
	struct csr_params p = {.subject = "/CN=key-test"};
	struct errmsg em = {0};
	uint8_t *der = NULL;
	const unsigned char *cursor;
	X509_REQ *req;
	BIO *bio;
	BUF_MEM *mem;
	uint8_t *out;

	assert_int_equal(csr_build(&p, key, key, md, &der, len, &em), 0);
	if (!pem)
		return der;
	cursor = der;
	req = d2i_X509_REQ(NULL, &cursor, (long)*len);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	BIO_get_mem_ptr(bio, &mem);
	out = malloc(mem->length);
	memcpy(out, mem->data, mem->length);
	*len = mem->length;
	BIO_free(bio);
	X509_REQ_free(req);
	OPENSSL_free(der);
	return out;
}

/* The key of a parsed request is built without OpenSSL's decoders, for every
 * key type signet issues to, and is the key the request was made with. */
static void test_public_key(void **state)
{
	EVP_PKEY *keys[] = {EVP_EC_gen("P-256"),
			    EVP_EC_gen("P-384"),
			    EVP_EC_gen("P-521"),
			    EVP_RSA_gen(2048),
			    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
			    EVP_PKEY_Q_keygen(NULL, NULL, "ED448")};
	struct errmsg em = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int eddsa = EVP_PKEY_get_id(keys[i]) == EVP_PKEY_ED25519 ||
			    EVP_PKEY_get_id(keys[i]) == EVP_PKEY_ED448;

		assert_non_null(keys[i]);
		for (int pem = 0; pem <= 1; pem++) {
			size_t len = 0;
			uint8_t *data =
				request_for(keys[i], eddsa ? NULL : EVP_sha256(), pem, &len);
			X509_REQ *req = NULL;
			EVP_PKEY *got;

			assert_int_equal(csr_parse(data, len, &req, &em), 0);
			got = csr_public_key(req);
			assert_non_null(got);
			assert_int_equal(EVP_PKEY_eq(got, keys[i]), 1);
			assert_int_equal(csr_verify_signature(req, &em), 0);
			EVP_PKEY_free(got);
			X509_REQ_free(req);
			free(data);
		}
		EVP_PKEY_free(keys[i]);
	}
}

/* A point that is not on its curve is no key at all, and the request is no
 * proof of possession. */
static void test_public_key_off_curve(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	struct errmsg em = {0};
	size_t len = 0;
	uint8_t *der = request_for(key, EVP_sha256(), 0, &len);
	unsigned char point[65];
	size_t point_len = 0;
	X509_REQ *req = NULL;
	uint8_t *at;

	(void)state;
	assert_int_equal(EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", point,
							 sizeof(point), &point_len),
			 1);
	at = memmem(der, len, point, point_len);
	assert_non_null(at);
	at[point_len - 1] ^= 1; /* y moves off the curve */
	assert_int_equal(csr_parse(der, len, &req, &em), 0);
	assert_null(csr_public_key(req));
	assert_int_equal(csr_verify_signature(req, &em), SIGNET_E_INVALID_ARGUMENT);
	X509_REQ_free(req);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject_parse), cmocka_unit_test(test_subject_refusals),
		cmocka_unit_test(test_dns_names),     cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_build_request), cmocka_unit_test(test_ca_request),
		cmocka_unit_test(test_public_key),    cmocka_unit_test(test_public_key_off_curve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
