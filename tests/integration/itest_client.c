/*
 * Integration test: every RPC through libsignet against a real signetd on a
 * throwaway SoftHSM token (started by run-itest.sh). Every signature and
 * request the daemon returns is checked with OpenSSL here, in-process.
 *
 * Environment: SIGNET_ENDPOINT (the daemon), SIGNET_TEST_TOKEN_LABEL.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <signet/signet.h>

#include "signet.pb-c.h"

static signet_client *connect_or_fail(void)
{
	signet_client *c = NULL;

	assert_int_equal(signet_connect(NULL, 20000, &c), SIGNET_OK);
	assert_non_null(c);
	return c;
}

static EVP_PKEY *public_key_of(signet_client *c, const char *name)
{
	struct signet_key_info *k = NULL;
	const unsigned char *p;
	EVP_PKEY *pkey;

	assert_int_equal(signet_get_public_key(c, name, &k), SIGNET_OK);
	p = k->spki_der;
	pkey = d2i_PUBKEY(NULL, &p, (long)k->spki_len);
	assert_non_null(pkey);
	signet_key_info_free(k);
	return pkey;
}

static void generate(signet_client *c, const char *name, enum signet_key_alg alg)
{
	struct signet_key_info *k = NULL;

	assert_int_equal(signet_generate_key(c, name, alg, &k), SIGNET_OK);
	assert_string_equal(k->name, name);
	assert_int_equal(k->alg, alg);
	assert_true(k->sensitive);
	assert_false(k->extractable);
	assert_true(k->spki_len > 0);
	assert_true(k->id_len > 0);
	signet_key_info_free(k);
}

/* Verify `sig` over `msg` with OpenSSL; returns 1 when it verifies. */
static int verify(EVP_PKEY *pkey, const EVP_MD *md, int pss, const uint8_t *msg, size_t len,
		  const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	/* no cmocka asserts here: worker threads call this too */
	if (ctx == NULL || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1) {
		EVP_MD_CTX_free(ctx);
		return 0;
	}
	if (pss) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	ok = EVP_DigestVerify(ctx, sig, siglen, msg, len);
	EVP_MD_CTX_free(ctx);
	return ok == 1;
}

static void sign_ok(signet_client *c, const char *key, enum signet_hash hash,
		    enum signet_sig_format fmt, struct signet_buf *sig, const uint8_t *msg,
		    size_t len)
{
	struct signet_sign_params p = {
		.key = key, .data = msg, .len = len, .hash = hash, .format = fmt};

	assert_int_equal(signet_sign(c, &p, sig, NULL, NULL), SIGNET_OK);
}

/* SignNonceBatch: every input signed by the key, as SignNonce would, in
 * order; checked by OpenSSL with the key's public half. */
#define BATCH_N 64
static void test_sign_batch(void **state)
{
	signet_client *c = connect_or_fail();
	uint8_t msgs[BATCH_N][24], digest[32];
	const uint8_t *data[SIGNET_SIGN_BATCH_MAX + 1];
	size_t lens[SIGNET_SIGN_BATCH_MAX + 1];
	static struct signet_buf sigs[SIGNET_SIGN_BATCH_MAX + 1];
	struct signet_sign_batch_params p = {.key = "it-batch", .data = data, .lens = lens};
	enum signet_hash used_hash;
	EVP_PKEY *pub;

	(void)state;
	generate(c, "it-batch", SIGNET_KEY_EC_P256);
	pub = public_key_of(c, "it-batch");
	for (int i = 0; i < BATCH_N; i++) {
		snprintf((char *)msgs[i], sizeof(msgs[i]), "batch-nonce-%04d", i);
		data[i] = msgs[i];
		lens[i] = strlen((char *)msgs[i]);
	}
	p.n = BATCH_N;
	assert_int_equal(signet_sign_batch(c, &p, sigs, &used_hash, NULL), SIGNET_OK);
	assert_int_equal(used_hash, SIGNET_HASH_SHA256);
	for (int i = 0; i < BATCH_N; i++) {
		assert_true(
			verify(pub, EVP_sha256(), 0, msgs[i], lens[i], sigs[i].data, sigs[i].len));
		/* in order: input i's signature is no other input's */
		assert_false(verify(pub, EVP_sha256(), 0, msgs[(i + 1) % BATCH_N],
				    lens[(i + 1) % BATCH_N], sigs[i].data, sigs[i].len));
		signet_buf_free(&sigs[i]);
	}

	/* digests, raw r||s */
	SHA256(msgs[0], lens[0], digest);
	for (int i = 0; i < 3; i++) {
		data[i] = digest;
		lens[i] = sizeof(digest);
	}
	p.n = 3;
	p.prehashed = 1;
	p.format = SIGNET_SIG_ECDSA_RAW;
	assert_int_equal(signet_sign_batch(c, &p, sigs, NULL, NULL), SIGNET_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sigs[i].len, 64);
		signet_buf_free(&sigs[i]);
	}

	/* a digest of the wrong length fails the whole batch, and says which */
	lens[1] = 20;
	assert_int_equal(signet_sign_batch(c, &p, sigs, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(c), "input 2 of 3"));

	/* over the limit, empty, an unknown key, a CA's key: refused */
	for (int i = 0; i <= SIGNET_SIGN_BATCH_MAX; i++) {
		data[i] = digest;
		lens[i] = sizeof(digest);
	}
	p.n = SIGNET_SIGN_BATCH_MAX + 1;
	assert_int_equal(signet_sign_batch(c, &p, sigs, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	p.n = SIGNET_SIGN_BATCH_MAX; /* the limit itself is fine */
	assert_int_equal(signet_sign_batch(c, &p, sigs, NULL, NULL), SIGNET_OK);
	for (int i = 0; i < SIGNET_SIGN_BATCH_MAX; i++)
		signet_buf_free(&sigs[i]);
	p.n = 0;
	assert_int_equal(signet_sign_batch(c, &p, sigs, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	p.n = 1;
	p.key = "no-such-key";
	assert_int_equal(signet_sign_batch(c, &p, sigs, NULL, NULL), SIGNET_E_NOT_FOUND);
	EVP_PKEY_free(pub);
	signet_close(c);
}

static void test_info_and_health(void **state)
{
	signet_client *c = connect_or_fail();
	struct signet_info *info = NULL;
	struct signet_health h;
	const char *label = getenv("SIGNET_TEST_TOKEN_LABEL");
	static const char *const served[] = {"GetInfo",
					     "Health",
					     "GenerateKey",
					     "GetPublicKey",
					     "ListKeys",
					     "DeleteKey",
					     "CreateCsr",
					     "SignNonce",
					     "SignNonceBatch",
					     "CreateRootCa",
					     "GetCaChain",
					     "CreateIntermediateCa",
					     "ListCas",
					     "SignCsr",
					     "SignCsrBatch",
					     "RenewCa",
					     "IssueVerificationCertificate",
					     "RekeyCa",
					     "CreateCaRequest",
					     "ImportCaCertificate",
					     "ListIssued",
					     "GetIssued",
					     "Revoke",
					     "GetCrl",
					     "CreateChallenge",
					     "VerifyPossession",
					     "VerifyChain",
					     "GetEnrolmentCaCerts",
					     "ScepOperation",
					     "CreateEnrolmentCode",
					     "EstEnroll",
					     "GetEnrolmentCsrAttrs"};
	int has_p256 = 0;

	(void)state;
	assert_int_equal(signet_get_info(c, &info), SIGNET_OK);
	assert_int_equal(info->protocol_version, SIGNET_PROTOCOL_VERSION);
	if (label != NULL)
		assert_string_equal(info->token_label, label);
	assert_true(info->workers >= 1);
	/* every method the daemon serves is listed, once */
	assert_int_equal(info->n_methods, sizeof(served) / sizeof(served[0]));
	for (size_t m = 0; m < sizeof(served) / sizeof(served[0]); m++) {
		int listed = 0;

		for (size_t i = 0; i < info->n_methods; i++)
			listed += strcmp(info->methods[i], served[m]) == 0;
		assert_int_equal(listed, 1);
	}
	for (size_t i = 0; i < info->n_key_algs; i++)
		has_p256 |= info->key_algs[i] == SIGNET_KEY_EC_P256;
	assert_true(has_p256);
	signet_info_free(info);
	assert_int_equal(signet_health(c, &h), SIGNET_OK);
	assert_true(h.serving);
	assert_string_equal(h.token_state, "ok");
	signet_close(c);
}

static void test_ec_signatures(void **state)
{
	static const uint8_t msg[] = "challenge-nonce-0123456789";
	signet_client *c = connect_or_fail();
	struct signet_buf sig = {0};
	struct signet_sign_params p = {.key = "it-p256", .data = msg, .len = sizeof(msg)};
	enum signet_hash used_hash;
	enum signet_sig_format used_fmt;
	EVP_PKEY *pub;
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	uint8_t *der = NULL;
	int der_len;

	(void)state;
	generate(c, "it-p256", SIGNET_KEY_EC_P256);
	generate(c, "it-p384", SIGNET_KEY_EC_P384);
	pub = public_key_of(c, "it-p256");

	/* defaults: SHA-256, DER */
	assert_int_equal(signet_sign(c, &p, &sig, &used_hash, &used_fmt), SIGNET_OK);
	assert_int_equal(used_hash, SIGNET_HASH_SHA256);
	assert_int_equal(used_fmt, SIGNET_SIG_ECDSA_DER);
	assert_true(verify(pub, EVP_sha256(), 0, msg, sizeof(msg), sig.data, sig.len));
	assert_false(verify(pub, EVP_sha256(), 0, msg, sizeof(msg) - 1, sig.data, sig.len));
	signet_buf_free(&sig);

	/* raw r||s is 64 bytes for P-256 and verifies once re-encoded */
	sign_ok(c, "it-p256", SIGNET_HASH_SHA512, SIGNET_SIG_ECDSA_RAW, &sig, msg, sizeof(msg));
	assert_int_equal(sig.len, 64);
	r = BN_bin2bn(sig.data, 32, NULL);
	s = BN_bin2bn(sig.data + 32, 32, NULL);
	es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, r, s);
	der_len = i2d_ECDSA_SIG(es, &der);
	assert_true(verify(pub, EVP_sha512(), 0, msg, sizeof(msg), der, (size_t)der_len));
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	signet_buf_free(&sig);
	EVP_PKEY_free(pub);

	/* P-384 defaults to SHA-384 */
	pub = public_key_of(c, "it-p384");
	p.key = "it-p384";
	assert_int_equal(signet_sign(c, &p, &sig, &used_hash, NULL), SIGNET_OK);
	assert_int_equal(used_hash, SIGNET_HASH_SHA384);
	assert_true(verify(pub, EVP_sha384(), 0, msg, sizeof(msg), sig.data, sig.len));
	signet_buf_free(&sig);
	EVP_PKEY_free(pub);
	signet_close(c);
}

static void test_prehashed_digest(void **state)
{
	static const uint8_t msg[] = "prehashed";
	signet_client *c = connect_or_fail();
	uint8_t digest[32];
	struct signet_buf sig = {0};
	struct signet_sign_params p = {.key = "it-p256", .data = digest, .len = 32, .prehashed = 1};
	EVP_PKEY *pub = public_key_of(c, "it-p256");

	(void)state;
	EVP_Digest(msg, sizeof(msg), digest, NULL, EVP_sha256(), NULL);
	assert_int_equal(signet_sign(c, &p, &sig, NULL, NULL), SIGNET_OK);
	assert_true(verify(pub, EVP_sha256(), 0, msg, sizeof(msg), sig.data, sig.len));
	signet_buf_free(&sig);
	/* a digest of the wrong length is refused, and says why */
	p.len = 31;
	assert_int_equal(signet_sign(c, &p, &sig, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(c), "32 bytes"));
	EVP_PKEY_free(pub);
	signet_close(c);
}

static void test_rsa_signatures(void **state)
{
	static const uint8_t msg[] = "rsa nonce";
	signet_client *c = connect_or_fail();
	struct signet_buf sig = {0};
	EVP_PKEY *pub;

	(void)state;
	generate(c, "it-rsa2048", SIGNET_KEY_RSA_2048);
	pub = public_key_of(c, "it-rsa2048");
	assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
	sign_ok(c, "it-rsa2048", SIGNET_HASH_DEFAULT, SIGNET_SIG_DEFAULT, &sig, msg, sizeof(msg));
	assert_int_equal(sig.len, 256);
	assert_true(verify(pub, EVP_sha256(), 0, msg, sizeof(msg), sig.data, sig.len));
	signet_buf_free(&sig);
	sign_ok(c, "it-rsa2048", SIGNET_HASH_SHA384, SIGNET_SIG_RSA_PSS, &sig, msg, sizeof(msg));
	assert_true(verify(pub, EVP_sha384(), 1, msg, sizeof(msg), sig.data, sig.len));
	assert_false(verify(pub, EVP_sha384(), 0, msg, sizeof(msg), sig.data, sig.len));
	signet_buf_free(&sig);
	EVP_PKEY_free(pub);
	signet_close(c);
}

static void test_larger_rsa_keys(void **state)
{
	static const uint8_t msg[] = "big";
	signet_client *c = connect_or_fail();
	struct signet_buf sig = {0};
	EVP_PKEY *pub;

	(void)state;
	generate(c, "it-rsa3072", SIGNET_KEY_RSA_3072);
	generate(c, "it-rsa4096", SIGNET_KEY_RSA_4096);
	pub = public_key_of(c, "it-rsa4096");
	assert_int_equal(EVP_PKEY_get_bits(pub), 4096);
	sign_ok(c, "it-rsa4096", SIGNET_HASH_SHA512, SIGNET_SIG_RSA_PKCS1, &sig, msg, sizeof(msg));
	assert_int_equal(sig.len, 512);
	assert_true(verify(pub, EVP_sha512(), 0, msg, sizeof(msg), sig.data, sig.len));
	signet_buf_free(&sig);
	EVP_PKEY_free(pub);
	signet_close(c);
}

static void test_key_errors(void **state)
{
	static const uint8_t msg[] = "x";
	signet_client *c = connect_or_fail();
	struct signet_key_info *k = NULL;
	struct signet_buf sig = {0};
	struct signet_sign_params p = {.key = "no-such-key", .data = msg, .len = 1};

	(void)state;
	assert_int_equal(signet_generate_key(c, "it-p256", SIGNET_KEY_EC_P256, &k),
			 SIGNET_E_ALREADY_EXISTS);
	assert_non_null(strstr(signet_last_error(c), "it-p256"));
	assert_int_equal(signet_generate_key(c, "bad name", SIGNET_KEY_EC_P256, &k),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_generate_key(c, "it-alg", (enum signet_key_alg)77, &k),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_generate_key(c, "it-alg", SIGNET_KEY_UNSPECIFIED, &k),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(signet_get_public_key(c, "no-such-key", &k), SIGNET_E_NOT_FOUND);
	assert_int_equal(signet_sign(c, &p, &sig, NULL, NULL), SIGNET_E_NOT_FOUND);
	assert_non_null(strstr(signet_last_error(c), "no-such-key"));
	p.key = "it-p256";
	p.format = SIGNET_SIG_RSA_PSS;
	assert_int_equal(signet_sign(c, &p, &sig, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	p.format = SIGNET_SIG_DEFAULT;
	p.hash = (enum signet_hash)9;
	assert_int_equal(signet_sign(c, &p, &sig, NULL, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_null(sig.data);
	signet_close(c);
}

static void test_csr(void **state)
{
	const char *dns[] = {"device-1.example"}, *ips[] = {"10.1.2.3"}, *uris[] = {"urn:dev:1"};
	struct signet_csr_params p = {.key = "it-p256",
				      .subject = "/CN=device-1/O=Signet Test",
				      .dns_names = dns,
				      .n_dns_names = 1,
				      .ip_addresses = ips,
				      .n_ip_addresses = 1,
				      .uris = uris,
				      .n_uris = 1};
	signet_client *c = connect_or_fail();
	struct signet_buf der = {0};
	char *pem = NULL, subject[128];
	EVP_PKEY *pub = public_key_of(c, "it-p256");
	const unsigned char *cursor;
	X509_REQ *req;
	BIO *bio;

	(void)state;
	assert_int_equal(signet_create_csr(c, &p, &der, &pem), SIGNET_OK);
	cursor = der.data;
	req = d2i_X509_REQ(NULL, &cursor, (long)der.len);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, pub), 1);
	X509_NAME_oneline(X509_REQ_get_subject_name(req), subject, sizeof(subject));
	assert_string_equal(subject, "/CN=device-1/O=Signet Test");
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), pub), 1);
	X509_REQ_free(req);
	/* the PEM is the same request */
	bio = BIO_new_mem_buf(pem, -1);
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, pub), 1);
	X509_REQ_free(req);
	BIO_free(bio);
	signet_free(pem);
	signet_buf_free(&der);

	/* RSA keys make requests too */
	p.key = "it-rsa2048";
	assert_int_equal(signet_create_csr(c, &p, &der, NULL), SIGNET_OK);
	signet_buf_free(&der);

	p.subject = "CN=missing-slash";
	assert_int_equal(signet_create_csr(c, &p, &der, NULL), SIGNET_E_INVALID_ARGUMENT);
	p.subject = "/CN=x";
	dns[0] = "not a dns name";
	assert_int_equal(signet_create_csr(c, &p, &der, NULL), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(c), "DNS"));
	p.key = "no-such-key";
	assert_int_equal(signet_create_csr(c, &p, &der, NULL), SIGNET_E_NOT_FOUND);
	EVP_PKEY_free(pub);
	signet_close(c);
}

/* SignCsr through the library: a token-key CSR becomes a certificate under a fresh CA. */
static void test_sign_csr(void **state)
{
	struct signet_ca_params ca = {.name = "it-issuer",
				      .alg = SIGNET_KEY_EC_P256,
				      .subject = "/CN=It Issuer",
				      .path_len = -1};
	struct signet_csr_params cp = {.key = "it-p256", .subject = "/CN=it-device-1"};
	signet_client *c = connect_or_fail();
	struct signet_ca_info *info = NULL;
	struct signet_buf csr = {0};
	struct signet_issued *is = NULL;
	struct signet_issue_params ip = {.ca = "it-issuer", .profile = "device"};
	const unsigned char *cursor;
	EVP_PKEY *pub = public_key_of(c, "it-p256"), *ca_pub;
	X509 *cert, *ca_cert;
	char cn[64];

	(void)state;
	assert_int_equal(signet_create_root_ca(c, &ca, &info), SIGNET_OK);
	cursor = info->cert_der;
	ca_cert = d2i_X509(NULL, &cursor, (long)info->cert_len);
	assert_non_null(ca_cert);
	assert_int_equal(signet_create_csr(c, &cp, &csr, NULL), SIGNET_OK);
	ip.csr = csr.data;
	ip.csr_len = csr.len;
	assert_int_equal(signet_sign_csr(c, &ip, &is), SIGNET_OK);
	cursor = is->cert_der;
	cert = d2i_X509(NULL, &cursor, (long)is->cert_len);
	assert_non_null(cert);
	ca_pub = X509_get0_pubkey(ca_cert);
	assert_int_equal(X509_verify(cert, ca_pub), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), pub), 1);
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "it-device-1");
	assert_int_equal(is->n_chain, 1);
	assert_non_null(strstr(is->cert_pem, "BEGIN CERTIFICATE"));
	assert_true(is->serial_len >= 8 && is->serial_len <= 20);
	assert_true(is->not_after > is->not_before);
	signet_issued_free(is);
	is = NULL;

	/* refusals carry the daemon's reason */
	ip.profile = "constrained-device";
	cp.key = "it-rsa2048";
	signet_buf_free(&csr);
	assert_int_equal(signet_create_csr(c, &cp, &csr, NULL), SIGNET_OK);
	ip.csr = csr.data;
	ip.csr_len = csr.len;
	assert_int_equal(signet_sign_csr(c, &ip, &is), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(c), "key type RSA 2048 is not allowed"));
	assert_null(is);
	ip.profile = NULL;
	assert_int_equal(signet_sign_csr(c, &ip, &is), SIGNET_E_INVALID_ARGUMENT);
	X509_free(cert);
	X509_free(ca_cert);
	EVP_PKEY_free(pub);
	signet_buf_free(&csr);
	signet_ca_info_free(info);
	signet_close(c);
}

static void test_list_and_delete(void **state)
{
	signet_client *c = connect_or_fail();
	struct signet_key_list *list = NULL;
	struct signet_key_info *k = NULL;
	int seen = 0;

	(void)state;
	generate(c, "it-doomed", SIGNET_KEY_EC_P256);
	assert_int_equal(signet_list_keys(c, &list), SIGNET_OK);
	for (size_t i = 0; i < list->n_keys; i++) {
		assert_true(list->keys[i].sensitive);
		assert_false(list->keys[i].extractable);
		seen += strcmp(list->keys[i].name, "it-doomed") == 0;
	}
	assert_int_equal(seen, 1);
	signet_key_list_free(list);
	assert_int_equal(signet_delete_key(c, "it-doomed"), SIGNET_OK);
	assert_int_equal(signet_get_public_key(c, "it-doomed", &k), SIGNET_E_NOT_FOUND);
	assert_int_equal(signet_delete_key(c, "it-doomed"), SIGNET_E_NOT_FOUND);
	/* the name is free again */
	generate(c, "it-doomed", SIGNET_KEY_EC_P384);
	assert_int_equal(signet_delete_key(c, "it-doomed"), SIGNET_OK);
	signet_close(c);
}

#define THREADS		 8
#define SIGNS_PER_THREAD 200

static void *sign_many(void *arg)
{
	EVP_PKEY *pub = arg;
	signet_client *c = NULL;
	uint8_t msg[32];
	long bad = 0;

	if (signet_connect(NULL, 20000, &c) != SIGNET_OK)
		return (void *)1L;
	for (int i = 0; i < SIGNS_PER_THREAD; i++) {
		struct signet_buf sig = {0};
		struct signet_sign_params p = {.key = "it-p256", .data = msg, .len = sizeof(msg)};

		RAND_bytes(msg, sizeof(msg));
		if (signet_sign(c, &p, &sig, NULL, NULL) != SIGNET_OK ||
		    !verify(pub, EVP_sha256(), 0, msg, sizeof(msg), sig.data, sig.len))
			bad++;
		signet_buf_free(&sig);
	}
	signet_close(c);
	return (void *)bad;
}

static void test_concurrent_signing(void **state)
{
	signet_client *c = connect_or_fail();
	EVP_PKEY *pub = public_key_of(c, "it-p256");
	pthread_t t[THREADS];
	long bad = 0;

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sign_many, pub), 0);
	for (int i = 0; i < THREADS; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		bad += (long)ret;
	}
	assert_int_equal(bad, 0);
	EVP_PKEY_free(pub);
	signet_close(c);
}

/* SignCsrBatch through libsignet: each item its own outcome; an all-zero
 * request id gets a random one, returned; the batch sent again with the ids
 * it went under gets the same certificates; an empty batch and an unknown
 * CA are refused whole. */
static void test_sign_csr_batch(void **state)
{
	static const uint8_t junk[] = "not a certificate request";
	struct signet_csr_params cp = {.key = "it-p256", .subject = "/CN=it-batch-1"};
	signet_client *c = connect_or_fail();
	struct signet_buf csr = {0};
	struct signet_batch_item items[3] = {
		{.profile = "device"},
		{.profile = "device", .csr = junk, .csr_len = sizeof(junk)},
		{.profile = "nope"}};
	struct signet_batch_result *res = NULL, *again = NULL;
	static const uint8_t zero[16];
	const unsigned char *cursor;
	X509 *cert;

	(void)state;
	assert_int_equal(signet_create_csr(c, &cp, &csr, NULL), SIGNET_OK);
	items[0].csr = items[2].csr = csr.data;
	items[0].csr_len = items[2].csr_len = csr.len;
	assert_int_equal(RAND_bytes(items[1].request_id, 16), 1);
	assert_int_equal(signet_sign_csr_batch(c, "it-issuer", items, 3, &res), SIGNET_OK);
	assert_int_equal(res->n_items, 3);
	assert_int_equal(res->n_chain, 1);
	assert_non_null(strstr(res->chain_pem, "BEGIN CERTIFICATE"));
	assert_int_equal(res->items[0].status, SIGNET_OK);
	assert_string_equal(res->items[0].message, "");
	assert_memory_not_equal(res->items[0].request_id, zero, 16);
	cursor = res->items[0].cert_der;
	assert_non_null(cert = d2i_X509(NULL, &cursor, (long)res->items[0].cert_len));
	X509_free(cert);
	assert_true(res->items[0].serial_len >= 8 && res->items[0].not_after > 0);
	assert_int_equal(res->items[1].status, SIGNET_E_INVALID_ARGUMENT);
	assert_memory_equal(res->items[1].request_id, items[1].request_id, 16);
	assert_null(res->items[1].cert_der);
	assert_int_equal(res->items[2].status, SIGNET_E_NOT_FOUND);
	assert_non_null(strstr(res->items[2].message, "no profile named 'nope'"));

	/* again, under the ids it went under: the same certificate */
	for (size_t i = 0; i < 3; i++)
		memcpy(items[i].request_id, res->items[i].request_id, 16);
	assert_int_equal(signet_sign_csr_batch(c, "it-issuer", items, 3, &again), SIGNET_OK);
	assert_int_equal(again->items[0].status, SIGNET_OK);
	assert_int_equal(again->items[0].cert_len, res->items[0].cert_len);
	assert_memory_equal(again->items[0].cert_der, res->items[0].cert_der,
			    res->items[0].cert_len);
	signet_batch_result_free(again);
	again = NULL;

	/* one id twice in a batch: the second item is a retry of the first */
	assert_int_equal(RAND_bytes(items[0].request_id, 16), 1);
	memcpy(items[2].request_id, items[0].request_id, 16);
	items[2].profile = "device";
	assert_int_equal(signet_sign_csr_batch(c, "it-issuer", items, 3, &again), SIGNET_OK);
	assert_int_equal(again->items[0].status, SIGNET_OK);
	assert_int_equal(again->items[2].status, SIGNET_OK);
	assert_int_equal(again->items[2].cert_len, again->items[0].cert_len);
	assert_memory_equal(again->items[2].cert_der, again->items[0].cert_der,
			    again->items[0].cert_len);
	assert_memory_not_equal(again->items[0].cert_der, res->items[0].cert_der,
				res->items[0].cert_len);
	signet_batch_result_free(again);
	again = NULL;

	assert_int_equal(signet_sign_csr_batch(c, "it-issuer", items, 0, &again),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(signet_last_error(c), "at least one"));
	assert_int_equal(signet_sign_csr_batch(c, "it-nobody", items, 1, &again),
			 SIGNET_E_NOT_FOUND);
	assert_null(again);
	signet_batch_result_free(res);
	signet_batch_result_free(NULL);
	signet_buf_free(&csr);
	signet_close(c);
}

/* A SignCsr envelope with a chosen request id on a raw REQ socket: what a
 * client's retry after a lost reply sends. The reply, decoded, or NULL with
 * why on stderr (no cmocka asserts: sign_csr_main() runs outside a test). */
static Signet__V1__Reply *sign_csr_raw(const char *ca, const char *profile, const uint8_t rid[16],
				       const uint8_t *csr, size_t csr_len)
{
	Signet__V1__SignCsrRequest req = SIGNET__V1__SIGN_CSR_REQUEST__INIT;
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	uint8_t payload[4096], msg[8192];
	const char *endpoint = getenv("SIGNET_ENDPOINT");
	int s = -1, timeout = 20000, n;
	void *answer = NULL;
	Signet__V1__Reply *rep = NULL;

	req.ca = (char *)ca;
	req.profile = (char *)profile;
	req.csr = (ProtobufCBinaryData){.data = (uint8_t *)csr, .len = csr_len};
	env.version = SIGNET_PROTOCOL_VERSION;
	env.method = "SignCsr";
	env.request_id = (ProtobufCBinaryData){.data = (uint8_t *)rid, .len = 16};
	if (protobuf_c_message_get_packed_size(&req.base) > sizeof(payload)) {
		fprintf(stderr, "sign-csr: a CSR of %zu bytes is too large\n", csr_len);
		return NULL;
	}
	env.payload = (ProtobufCBinaryData){.data = payload,
					    .len = protobuf_c_message_pack(&req.base, payload)};
	if (protobuf_c_message_get_packed_size(&env.base) > sizeof(msg) || endpoint == NULL) {
		fprintf(stderr, "sign-csr: envelope too large or SIGNET_ENDPOINT unset\n");
		return NULL;
	}
	n = (int)protobuf_c_message_pack(&env.base, msg);
	if ((s = nn_socket(AF_SP, NN_REQ)) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
	    nn_connect(s, endpoint) < 0 || nn_send(s, msg, (size_t)n, 0) != n ||
	    (n = nn_recv(s, &answer, NN_MSG, 0)) <= 0) {
		fprintf(stderr, "sign-csr: %s: %s\n", endpoint, nn_strerror(nn_errno()));
		goto out;
	}
	if ((rep = signet__v1__reply__unpack(NULL, (size_t)n, answer)) == NULL)
		fprintf(stderr, "sign-csr: the reply does not decode\n");
out:
	if (answer != NULL)
		nn_freemsg(answer);
	if (s >= 0)
		nn_close(s);
	return rep;
}

static Signet__V1__Reply *send_sign_csr(const uint8_t rid[16], const struct signet_buf *csr)
{
	Signet__V1__Reply *rep = sign_csr_raw("it-retry-ca", "device", rid, csr->data, csr->len);

	assert_non_null(rep);
	return rep;
}

/* The certificate of an OK SignCsr reply, as DER in `out`: its length, or 0
 * when the payload does not decode or does not fit (no asserts, as above). */
static size_t reply_cert_der(const Signet__V1__Reply *rep, uint8_t *out, size_t outlen)
{
	Signet__V1__SignCsrResponse *resp;
	size_t len = 0;

	resp = signet__v1__sign_csr_response__unpack(NULL, rep->payload.len, rep->payload.data);
	if (resp != NULL && resp->certificate_der.len <= outlen) {
		len = resp->certificate_der.len;
		memcpy(out, resp->certificate_der.data, len);
	}
	signet__v1__sign_csr_response__free_unpacked(resp, NULL);
	return len;
}

static size_t reply_cert(const Signet__V1__Reply *rep, uint8_t *out, size_t outlen)
{
	size_t len;

	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__OK);
	len = reply_cert_der(rep, out, outlen);
	assert_true(len > 0);
	return len;
}

/* A retry with the same request id gets the same certificate, not a second
 * one; the same id for another key is refused. */
static void test_idempotent_retry(void **state)
{
	struct signet_ca_params ca = {.name = "it-retry-ca",
				      .alg = SIGNET_KEY_EC_P256,
				      .subject = "/CN=It Retry CA",
				      .path_len = -1};
	struct signet_csr_params c1 = {.key = "it-retry-1", .subject = "/CN=it-retry-1"};
	struct signet_csr_params c2 = {.key = "it-retry-2", .subject = "/CN=it-retry-2"};
	signet_client *c = connect_or_fail();
	struct signet_ca_info *info = NULL;
	struct signet_buf csr1 = {0}, csr2 = {0};
	uint8_t rid[16], other[16], first[4096], again[4096], fresh[4096];
	size_t first_len, again_len, fresh_len;
	Signet__V1__Reply *rep;

	(void)state;
	assert_int_equal(signet_create_root_ca(c, &ca, &info), SIGNET_OK);
	generate(c, "it-retry-1", SIGNET_KEY_EC_P256);
	generate(c, "it-retry-2", SIGNET_KEY_EC_P256);
	assert_int_equal(signet_create_csr(c, &c1, &csr1, NULL), SIGNET_OK);
	assert_int_equal(signet_create_csr(c, &c2, &csr2, NULL), SIGNET_OK);
	assert_int_equal(RAND_bytes(rid, sizeof(rid)), 1);
	assert_int_equal(RAND_bytes(other, sizeof(other)), 1);

	rep = send_sign_csr(rid, &csr1);
	first_len = reply_cert(rep, first, sizeof(first));
	signet__v1__reply__free_unpacked(rep, NULL);
	rep = send_sign_csr(rid, &csr1);
	again_len = reply_cert(rep, again, sizeof(again));
	signet__v1__reply__free_unpacked(rep, NULL);
	assert_int_equal(again_len, first_len);
	assert_memory_equal(again, first, first_len);

	rep = send_sign_csr(rid, &csr2);
	assert_int_equal(rep->status, SIGNET__V1__STATUS_CODE__ALREADY_EXISTS);
	signet__v1__reply__free_unpacked(rep, NULL);

	/* a new request id is a new request: a new certificate */
	rep = send_sign_csr(other, &csr1);
	fresh_len = reply_cert(rep, fresh, sizeof(fresh));
	signet__v1__reply__free_unpacked(rep, NULL);
	assert_false(fresh_len == first_len && memcmp(fresh, first, first_len) == 0);

	signet_buf_free(&csr1);
	signet_buf_free(&csr2);
	signet_ca_info_free(info);
	signet_close(c);
}

/*
 * itest_client sign-csr RID CA PROFILE CSR OUT: one SignCsr with request id
 * RID (32 hex digits) to $SIGNET_ENDPOINT, as anonymous, the CSR read from
 * the DER file CSR, the certificate written as DER to OUT. For scripts that
 * retry one request on another signetd (pg_hosts.sh). Exit 0, or 1 with the
 * status and message on stderr.
 */
static int sign_csr_main(int argc, char **argv)
{
	uint8_t rid[16], csr[4096], cert[8192];
	size_t csr_len = 0, cert_len;
	Signet__V1__Reply *rep = NULL;
	FILE *f = NULL;
	int rc = 1;

	if (argc != 7 || strcmp(argv[1], "sign-csr") != 0 || strlen(argv[2]) != 32) {
		fprintf(stderr,
			"usage: itest_client [sign-csr RID-HEX32 CA PROFILE CSR.der OUT.der]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(rid); i++) {
		unsigned v;

		if (sscanf(argv[2] + 2 * i, "%2x", &v) != 1)
			return 2;
		rid[i] = (uint8_t)v;
	}
	if ((f = fopen(argv[5], "rb")) == NULL || (csr_len = fread(csr, 1, sizeof(csr), f)) == 0 ||
	    !feof(f)) {
		fprintf(stderr, "sign-csr: cannot read %s (at most %zu bytes)\n", argv[5],
			sizeof(csr));
		goto out;
	}
	fclose(f);
	f = NULL;
	if ((rep = sign_csr_raw(argv[3], argv[4], rid, csr, csr_len)) == NULL)
		goto out;
	if (rep->status != SIGNET__V1__STATUS_CODE__OK) {
		fprintf(stderr, "sign-csr: status %d: %s\n", (int)rep->status, rep->message);
		goto out;
	}
	if ((cert_len = reply_cert_der(rep, cert, sizeof(cert))) == 0) {
		fprintf(stderr, "sign-csr: no certificate in the OK reply\n");
		goto out;
	}
	if ((f = fopen(argv[6], "wb")) == NULL || fwrite(cert, 1, cert_len, f) != cert_len) {
		fprintf(stderr, "sign-csr: cannot write %s\n", argv[6]);
		goto out;
	}
	rc = 0;
out:
	if (f != NULL && fclose(f) != 0)
		rc = 1;
	signet__v1__reply__free_unpacked(rep, NULL);
	return rc;
}

/*
 * itest_client sign-csr-batch CA PROFILE:CSR...: one SignCsrBatch through
 * libsignet, each item under its own profile with a random request id, as
 * $SIGNET_CLIENT with $SIGNET_SECRET_FILE when set. One line per item on
 * stdout: "OK SERIAL" or "STATUS message". Exit 0 when the batch was
 * answered, else 1 with the error on stderr.
 */
static int sign_csr_batch_main(int argc, char **argv)
{
	struct signet_batch_item items[64] = {{0}};
	struct signet_buf csrs[64] = {{0}};
	struct signet_batch_result *res = NULL;
	const char *client = getenv("SIGNET_CLIENT"), *secret = getenv("SIGNET_SECRET_FILE");
	size_t n = (size_t)argc - 3;
	signet_client *c = NULL;
	int r, rc = 1;

	if (argc < 4 || n > 64)
		return 2;
	for (size_t i = 0; i < n; i++) {
		char *colon = strchr(argv[3 + i], ':');
		FILE *f;

		if (colon == NULL)
			return 2;
		*colon = '\0';
		items[i].profile = argv[3 + i];
		csrs[i].data = malloc(65536);
		if (csrs[i].data == NULL || (f = fopen(colon + 1, "rb")) == NULL)
			goto out;
		csrs[i].len = fread(csrs[i].data, 1, 65536, f);
		fclose(f);
		items[i].csr = csrs[i].data;
		items[i].csr_len = csrs[i].len;
	}
	if ((r = signet_connect(NULL, 20000, &c)) != 0 ||
	    (client != NULL && (r = signet_load_credential(c, client, secret)) != 0) ||
	    (r = signet_sign_csr_batch(c, argv[2], items, n, &res)) != 0) {
		fprintf(stderr, "sign-csr-batch: %s: %s\n", signet_status_name(r),
			c != NULL ? signet_last_error(c) : "");
		goto out;
	}
	for (size_t i = 0; i < res->n_items; i++) {
		const struct signet_batch_issued *it = &res->items[i];

		printf("%s", signet_status_name(it->status));
		for (size_t k = 0; it->status == 0 && k < it->serial_len; k++)
			printf("%s%02X", k == 0 ? " " : "", it->serial[k]);
		printf("%s%s\n", it->status != 0 ? " " : "", it->message);
	}
	rc = 0;
out:
	signet_batch_result_free(res);
	for (size_t i = 0; i < n; i++)
		free(csrs[i].data);
	signet_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_and_health),	   cmocka_unit_test(test_ec_signatures),
		cmocka_unit_test(test_prehashed_digest),   cmocka_unit_test(test_sign_batch),
		cmocka_unit_test(test_rsa_signatures),	   cmocka_unit_test(test_larger_rsa_keys),
		cmocka_unit_test(test_key_errors),	   cmocka_unit_test(test_csr),
		cmocka_unit_test(test_sign_csr),	   cmocka_unit_test(test_sign_csr_batch),
		cmocka_unit_test(test_idempotent_retry),   cmocka_unit_test(test_list_and_delete),
		cmocka_unit_test(test_concurrent_signing),
	};

	if (argc > 1 && strcmp(argv[1], "sign-csr-batch") == 0)
		return sign_csr_batch_main(argc, argv);
	if (argc > 1)
		return sign_csr_main(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
