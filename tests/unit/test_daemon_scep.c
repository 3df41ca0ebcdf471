/*
 * Unit tests for daemon/pki/scep.c: pkiMessages built here with OpenSSL's CMS
 * API as a SCEP client builds them (a self-signed certificate of the CSR's
 * key signs, the CSR is encrypted to the RA's certificate), read back, and
 * CertReps checked the way a client checks them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include "pki/csr.h"
#include "pki/scep.h"
#include "testpki.h"

static EVP_PKEY *ra_key, *other_ra_key, *dev_key;
static X509 *ra_cert, *other_ra_cert, *dev_cert;
static OSSL_PROVIDER *default_prov, *legacy_prov;

static X509 *self_signed(EVP_PKEY *key, const char *cn)
{
	struct testpki_spec spec = {.cn = cn,
				    .key = key,
				    .not_before = time(NULL) - 60,
				    .not_after = time(NULL) + 3600,
				    .key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT};

	return testpki_cert(&spec);
}

static int setup(void **state)
{
	(void)state;
	/* single DES is in the legacy provider: load it (with the default) to
	 * build DES messages; signetd loads it only for allow_des */
	default_prov = OSSL_PROVIDER_load(NULL, "default");
	legacy_prov = OSSL_PROVIDER_load(NULL, "legacy");
	ra_key = EVP_RSA_gen(2048);
	other_ra_key = EVP_RSA_gen(2048);
	dev_key = EVP_RSA_gen(2048);
	ra_cert = self_signed(ra_key, "signet SCEP RA");
	other_ra_cert = self_signed(other_ra_key, "another RA");
	dev_cert = self_signed(dev_key, "device-1");
	return ra_cert != NULL && other_ra_cert != NULL && dev_cert != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(ra_cert);
	X509_free(other_ra_cert);
	X509_free(dev_cert);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(other_ra_key);
	EVP_PKEY_free(dev_key);
	OSSL_PROVIDER_unload(legacy_prov);
	OSSL_PROVIDER_unload(default_prov);
	return 0;
}

/* A CSR for dev_key, CN=device-1, with challengePassword `pw` (NULL: none), DER. */
static BIO *csr_bio(const char *pw)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = testpki_name("device-1");
	BIO *b = BIO_new(BIO_s_mem());

	assert_non_null(req);
	assert_true(X509_REQ_set_subject_name(req, name));
	assert_true(X509_REQ_set_pubkey(req, dev_key));
	if (pw != NULL)
		assert_true(X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword,
						      MBSTRING_ASC, (const unsigned char *)pw, -1));
	assert_true(X509_REQ_sign(req, dev_key, EVP_sha256()) > 0);
	assert_true(i2d_X509_REQ_bio(b, req));
	X509_NAME_free(name);
	X509_REQ_free(req);
	return b;
}

static void add_str(CMS_SignerInfo *si, const char *oid, int type, const void *v, int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);

	/* -1 would make OpenSSL take v for an ASN1_STRING */
	if (len < 0)
		len = (int)strlen(v);
	assert_true(CMS_signed_add1_attr_by_OBJ(si, o, type, v, len));
	ASN1_OBJECT_free(o);
}

struct msg_opts {
	const EVP_CIPHER *cipher; /* NULL: AES-128-CBC */
	X509 *to;		  /* NULL: ra_cert */
	const char *type;	  /* NULL: "19" (PKCSReq) */
	const char *pw;		  /* NULL: "secret" */
	int no_txid;
	long signed_at; /* seconds from now of the signingTime; 0: what CMS_final sets */
};

static const uint8_t nonce[16] = "0123456789abcdef";

/* A pkiMessage as a client makes one; DER, OPENSSL_malloc'd. */
static uint8_t *make_msg(const struct msg_opts *o, size_t *len)
{
	STACK_OF(X509) *to = sk_X509_new_null();
	BIO *csr = csr_bio(o->pw != NULL ? o->pw : "secret"), *env_bio = BIO_new(BIO_s_mem());
	CMS_ContentInfo *env, *cms;
	CMS_SignerInfo *si;
	uint8_t *der = NULL;
	int n;

	sk_X509_push(to, o->to != NULL ? o->to : ra_cert);
	env = CMS_encrypt(to, csr, o->cipher != NULL ? o->cipher : EVP_aes_128_cbc(), CMS_BINARY);
	assert_non_null(env);
	assert_true(i2d_CMS_bio(env_bio, env));
	cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY);
	assert_non_null(cms);
	si = CMS_add1_signer(cms, dev_cert, dev_key, EVP_sha256(), CMS_BINARY);
	assert_non_null(si);
	add_str(si, "2.16.840.1.113733.1.9.2", V_ASN1_PRINTABLESTRING,
		o->type != NULL ? o->type : "19", -1);
	if (!o->no_txid)
		add_str(si, "2.16.840.1.113733.1.9.7", V_ASN1_PRINTABLESTRING, "tx-0001", -1);
	add_str(si, "2.16.840.1.113733.1.9.5", V_ASN1_OCTET_STRING, nonce, sizeof(nonce));
	if (o->signed_at != 0) {
		ASN1_TIME *at = X509_gmtime_adj(NULL, o->signed_at);

		assert_non_null(at);
		assert_int_equal(
			CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, at->type, at, -1),
			1);
		ASN1_TIME_free(at);
	}
	assert_int_equal(CMS_final(cms, env_bio, NULL, CMS_BINARY), 1);
	n = i2d_CMS_ContentInfo(cms, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	CMS_ContentInfo_free(env);
	CMS_ContentInfo_free(cms);
	BIO_free(csr);
	BIO_free(env_bio);
	sk_X509_free(to);
	return der;
}

/* parse + verify + decrypt as signetd runs them, stopping at the first refusal. */
static int run(const uint8_t *der, size_t len, int allow_des, struct scep_request *req)
{
	struct errmsg em = {0};
	int r = scep_parse(der, len, req, &em);

	if (r == 0 && req->fail == SCEP_FAIL_NONE)
		r = scep_verify(req, &em);
	if (r == 0 && req->fail == SCEP_FAIL_NONE)
		r = scep_decrypt(req, ra_cert, ra_key, allow_des, &em);
	return r;
}

/* signingTime, when there is one, within a day of the clock (badTime). */
static void test_signing_time(void **state)
{
	static const struct {
		long signed_at;
		enum scep_fail want;
	} rows[] = {
		{0, SCEP_FAIL_NONE},		  /* CMS_final's own: now */
		{-3600, SCEP_FAIL_NONE},	  /* a clock an hour behind */
		{-2 * 86400, SCEP_FAIL_BAD_TIME}, /* signed two days ago: replayed or stale */
		{2 * 86400, SCEP_FAIL_BAD_TIME},  /* from the future */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct scep_request req;
		struct errmsg em = {0};
		size_t len;
		uint8_t *der = make_msg(&(struct msg_opts){.signed_at = rows[i].signed_at}, &len);

		assert_int_equal(scep_parse(der, len, &req, &em), 0);
		assert_int_equal(scep_verify(&req, &em), 0);
		assert_int_equal(req.fail, SCEP_FAIL_NONE);
		assert_int_equal(scep_check_time(&req, time(NULL), SCEP_SIGNING_TIME_SKEW), 0);
		if (req.fail != rows[i].want)
			fail_msg("row %zu: failInfo %d, wanted %d (%s)", i, req.fail, rows[i].want,
				 req.why);
		if (rows[i].want == SCEP_FAIL_BAD_TIME)
			assert_non_null(strstr(req.why, "signingTime"));
		scep_request_release(&req);
		OPENSSL_free(der);
	}
}

static void test_good_request(void **state)
{
	struct scep_request req;
	size_t len;
	uint8_t *der = make_msg(&(struct msg_opts){0}, &len);
	char pw[64];
	EVP_PKEY *csr_key;

	(void)state;
	assert_int_equal(run(der, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_NONE);
	assert_int_equal(req.type, SCEP_MSG_PKCS_REQ);
	assert_string_equal(req.txid, "tx-0001");
	assert_memory_equal(req.sender_nonce, nonce, sizeof(nonce));
	assert_int_equal(req.cipher_nid, NID_aes_128_cbc);
	assert_non_null(req.csr);
	csr_key = csr_public_key(req.csr);
	assert_int_equal(EVP_PKEY_eq(csr_key, dev_key), 1);
	EVP_PKEY_free(csr_key);
	assert_int_equal(scep_challenge_password(req.csr, pw, sizeof(pw)), 0);
	assert_string_equal(pw, "secret");
	assert_int_equal(X509_cmp(req.signer, dev_cert), 0);
	scep_request_release(&req);
	OPENSSL_free(der);
}

/* Bytes that are no pkiMessage at all: an RPC error, not a CertRep. */
static void test_not_a_message(void **state)
{
	struct scep_request req;
	struct errmsg em = {0};
	size_t len;
	uint8_t *der = make_msg(&(struct msg_opts){0}, &len);
	uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};

	(void)state;
	assert_int_equal(scep_parse(der, len - 10, &req, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "not a pkiMessage"));
	scep_request_release(&req);
	assert_int_equal(scep_parse(junk, sizeof(junk), &req, &em), SIGNET_E_INVALID_ARGUMENT);
	scep_request_release(&req);
	assert_int_equal(scep_parse(der, 0, &req, &em), SIGNET_E_INVALID_ARGUMENT);
	scep_request_release(&req);
	OPENSSL_free(der);
}

/* The signature is the last thing in the message: one flipped bit breaks it. */
static void test_tampered_signature(void **state)
{
	struct scep_request req;
	size_t len;
	uint8_t *der = make_msg(&(struct msg_opts){0}, &len);

	(void)state;
	der[len - 1] ^= 0x01;
	assert_int_equal(run(der, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_BAD_MESSAGE_CHECK);
	assert_non_null(strstr(req.why, "signature does not verify"));
	assert_string_equal(req.txid, "tx-0001"); /* still named in the refusal */
	scep_request_release(&req);
	OPENSSL_free(der);
}

static void test_other_ra(void **state)
{
	struct scep_request req;
	size_t len;
	uint8_t *der = make_msg(&(struct msg_opts){.to = other_ra_cert}, &len);

	(void)state;
	assert_int_equal(run(der, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_BAD_MESSAGE_CHECK);
	assert_non_null(strstr(req.why, "not encrypted to this RA"));
	scep_request_release(&req);
	OPENSSL_free(der);
}

/* 3DES and AES-256 are fine; single DES is badAlg unless the door allows it. */
static void test_ciphers(void **state)
{
	struct scep_request req;
	size_t len;
	uint8_t *des3 = make_msg(&(struct msg_opts){.cipher = EVP_des_ede3_cbc()}, &len);

	(void)state;
	assert_int_equal(run(des3, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_NONE);
	assert_int_equal(req.cipher_nid, NID_des_ede3_cbc);
	scep_request_release(&req);
	OPENSSL_free(des3);

	uint8_t *aes256 = make_msg(&(struct msg_opts){.cipher = EVP_aes_256_cbc()}, &len);
	assert_int_equal(run(aes256, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_NONE);
	scep_request_release(&req);
	OPENSSL_free(aes256);

	uint8_t *des = make_msg(&(struct msg_opts){.cipher = EVP_des_cbc()}, &len);
	assert_int_equal(run(des, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_BAD_ALG);
	assert_non_null(strstr(req.why, "allow_des"));
	assert_null(req.csr);
	scep_request_release(&req);
	assert_int_equal(run(des, len, 1, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_NONE);
	assert_non_null(req.csr);
	scep_request_release(&req);
	OPENSSL_free(des);
}

static void test_bad_attributes(void **state)
{
	struct scep_request req;
	size_t len;
	uint8_t *der = make_msg(&(struct msg_opts){.no_txid = 1}, &len);

	(void)state;
	assert_int_equal(run(der, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_BAD_REQUEST);
	assert_non_null(strstr(req.why, "transactionID"));
	scep_request_release(&req);
	OPENSSL_free(der);
	der = make_msg(&(struct msg_opts){.type = "99"}, &len);
	assert_int_equal(run(der, len, 0, &req), 0);
	assert_int_equal(req.fail, SCEP_FAIL_BAD_REQUEST);
	assert_non_null(strstr(req.why, "messageType"));
	scep_request_release(&req);
	OPENSSL_free(der);
}

/* A signed attribute's one printable value, as a client reads it. */
static void expect_attr(CMS_SignerInfo *si, const char *oid, const char *want)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	const ASN1_STRING *v = CMS_signed_get0_data_by_OBJ(si, o, -3, V_ASN1_PRINTABLESTRING);

	ASN1_OBJECT_free(o);
	if (want == NULL) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_int_equal(ASN1_STRING_length(v), strlen(want));
	assert_memory_equal(ASN1_STRING_get0_data(v), want, strlen(want));
}

/* A CertRep, verified with the RA's certificate; its signer info in *si. */
static CMS_ContentInfo *read_certrep(const uint8_t *der, size_t len, BIO *content,
				     CMS_SignerInfo **si)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(X509) *certs = sk_X509_new_null();
	ASN1_OBJECT *o = OBJ_txt2obj("2.16.840.1.113733.1.9.6", 1);
	const ASN1_STRING *rn;

	assert_non_null(cms);
	sk_X509_push(certs, ra_cert);
	assert_int_equal(CMS_verify(cms, certs, NULL, NULL, content,
				    CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY | CMS_NOINTERN),
			 1);
	*si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	expect_attr(*si, "2.16.840.1.113733.1.9.2", "3");
	expect_attr(*si, "2.16.840.1.113733.1.9.7", "tx-0001");
	rn = CMS_signed_get0_data_by_OBJ(*si, o, -3, V_ASN1_OCTET_STRING);
	assert_non_null(rn);
	assert_memory_equal(ASN1_STRING_get0_data(rn), nonce, sizeof(nonce));
	ASN1_OBJECT_free(o);
	sk_X509_free(certs);
	return cms;
}

static void test_certrep_success(void **state)
{
	struct scep_request req;
	struct errmsg em = {0};
	size_t len, replen;
	uint8_t *der = make_msg(&(struct msg_opts){0}, &len), *rep = NULL;
	BIO *content = BIO_new(BIO_s_mem()), *plain = BIO_new(BIO_s_mem());
	CMS_SignerInfo *si;
	CMS_ContentInfo *cms, *env;
	PKCS7 *p7;

	(void)state;
	assert_int_equal(run(der, len, 0, &req), 0);
	/* the issued certificate stands in: any certificate will do here */
	assert_int_equal(scep_certrep(&req,
				      &(struct scep_reply){.status = SCEP_STATUS_SUCCESS,
							   .fail = SCEP_FAIL_NONE,
							   .cert = other_ra_cert},
				      ra_cert, ra_key, &rep, &replen, &em),
			 0);
	cms = read_certrep(rep, replen, content, &si);
	expect_attr(si, "2.16.840.1.113733.1.9.3", "0");
	expect_attr(si, "2.16.840.1.113733.1.9.4", NULL);
	/* the requester decrypts it with its own key */
	env = d2i_CMS_bio(content, NULL);
	assert_non_null(env);
	assert_int_equal(CMS_decrypt(env, dev_key, dev_cert, NULL, plain, CMS_BINARY), 1);
	p7 = d2i_PKCS7_bio(plain, NULL);
	assert_non_null(p7);
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 1);
	assert_int_equal(X509_cmp(sk_X509_value(p7->d.sign->cert, 0), other_ra_cert), 0);
	PKCS7_free(p7);
	CMS_ContentInfo_free(env);
	CMS_ContentInfo_free(cms);
	BIO_free(content);
	BIO_free(plain);
	OPENSSL_free(rep);
	scep_request_release(&req);
	OPENSSL_free(der);
}

static void test_certrep_failure(void **state)
{
	struct scep_request req;
	struct errmsg em = {0};
	size_t len, replen;
	uint8_t *der = make_msg(&(struct msg_opts){0}, &len), *rep = NULL;
	BIO *content = BIO_new(BIO_s_mem());
	CMS_SignerInfo *si;
	CMS_ContentInfo *cms;

	(void)state;
	assert_int_equal(run(der, len, 0, &req), 0);
	assert_int_equal(scep_certrep(&req,
				      &(struct scep_reply){.status = SCEP_STATUS_FAILURE,
							   .fail = SCEP_FAIL_BAD_REQUEST},
				      ra_cert, ra_key, &rep, &replen, &em),
			 0);
	cms = read_certrep(rep, replen, content, &si);
	expect_attr(si, "2.16.840.1.113733.1.9.3", "2");
	expect_attr(si, "2.16.840.1.113733.1.9.4", "2");
	assert_int_equal(BIO_pending(content), 0);
	CMS_ContentInfo_free(cms);
	BIO_free(content);
	OPENSSL_free(rep);
	scep_request_release(&req);
	OPENSSL_free(der);
}

static void test_certs_only(void **state)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	struct errmsg em = {0};
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len;
	PKCS7 *p7;

	(void)state;
	sk_X509_push(certs, ra_cert);
	sk_X509_push(certs, dev_cert);
	assert_int_equal(scep_certs_only(certs, &der, &len, &em), 0);
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	assert_non_null(p7);
	assert_true(PKCS7_type_is_signed(p7));
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 2);
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
	PKCS7_free(p7);
	OPENSSL_free(der);
	sk_X509_free(certs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_request),	cmocka_unit_test(test_signing_time),
		cmocka_unit_test(test_not_a_message),	cmocka_unit_test(test_tampered_signature),
		cmocka_unit_test(test_other_ra),	cmocka_unit_test(test_ciphers),
		cmocka_unit_test(test_bad_attributes),	cmocka_unit_test(test_certrep_success),
		cmocka_unit_test(test_certrep_failure), cmocka_unit_test(test_certs_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
