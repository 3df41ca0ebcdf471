/*
 * Unit tests for daemon/pki/profile*.c and the CSR checks in daemon/pki/csr.c: every
 * rule of the built-in profiles, on CSRs made with software keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "pki/csr.h"
#include "pki/profile.h"

static EVP_PKEY *p256, *p384, *rsa2048;
static struct profile_set builtins;

static int setup(void **state)
{
	(void)state;
	p256 = EVP_EC_gen("P-256");
	p384 = EVP_EC_gen("P-384");
	rsa2048 = EVP_RSA_gen(2048);
	return p256 != NULL && p384 != NULL && rsa2048 != NULL &&
			       profile_set_builtin(&builtins) == 0
		       ? 0
		       : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa2048);
	profile_set_free(&builtins);
	return 0;
}

/* A CSR for `key`, with `subject` ("/CN=x") and optional DNS/IP/URI/e-mail SANs. */
static X509_REQ *make_csr(EVP_PKEY *key, const char *subject, const char *const *dns, size_t n_dns,
			  const char *const *ips, size_t n_ips, const EVP_MD *md)
{
	struct csr_params params = {.subject = subject,
				    .dns_names = (char **)dns,
				    .n_dns_names = n_dns,
				    .ip_addresses = (char **)ips,
				    .n_ip_addresses = n_ips};
	uint8_t *der = NULL;
	size_t len = 0;
	X509_REQ *req = NULL;

	assert_int_equal(
		csr_build(&params, key, key, md != NULL ? md : EVP_sha256(), &der, &len, NULL), 0);
	assert_int_equal(csr_parse(der, len, &req, NULL), 0);
	OPENSSL_free(der);
	return req;
}

static const struct profile *builtin(const char *name)
{
	const struct profile *p = profile_find(&builtins, name);

	assert_non_null(p);
	return p;
}

/* Plan `csr` under profile `name`; returns the status, the message in `em`. */
static int plan(const char *name, X509_REQ *csr, enum signet_key_alg issuer, unsigned days,
		struct issue_plan *out, struct errmsg *em)
{
	struct issue_request rq = {.csr = csr,
				   .validity_days = days,
				   .issuer_alg = issuer,
				   .ca_name = "ca1",
				   .now = 1700000000};

	memset(em, 0, sizeof(*em));
	return profile_plan(builtin(name), &rq, out, em);
}

static void expect_refusal(const char *name, X509_REQ *csr, enum signet_key_alg issuer,
			   unsigned days, int status, const char *why)
{
	struct issue_plan pl;
	struct errmsg em;
	int r = plan(name, csr, issuer, days, &pl, &em);

	if (r != status)
		fail_msg("profile %s: status %d, wanted %d (%s)", name, r, status, em.text);
	if (strstr(em.text, why) == NULL)
		fail_msg("message '%s' lacks '%s'", em.text, why);
	assert_null(pl.subject);
	assert_null(pl.key);
}

static void test_device_accepts_a_device_id(void **state)
{
	X509_REQ *csr = make_csr(p256, "/CN=dev-01.line_3:a/O=Example", NULL, 0, NULL, 0, NULL);
	struct issue_plan pl;
	struct errmsg em;

	(void)state;
	assert_int_equal(plan("device", csr, SIGNET_KEY_EC_P256, 0, &pl, &em), 0);
	assert_int_equal(pl.spec.not_before, 1700000000 - 300);
	assert_int_equal(pl.spec.not_after, 1700000000 + 365L * 86400);
	/* keyEncipherment means nothing for an EC key: dropped */
	assert_int_equal(pl.spec.key_usage, KU_DIGITAL_SIGNATURE);
	assert_int_equal(pl.spec.n_eku, 1);
	assert_int_equal(pl.spec.eku[0], NID_client_auth);
	assert_false(pl.spec.is_ca);
	assert_int_equal(pl.spec.path_len, -1);
	assert_ptr_equal(pl.md, EVP_sha256());
	assert_int_equal(X509_NAME_cmp(pl.subject, X509_REQ_get_subject_name(csr)), 0);
	assert_int_equal(sk_GENERAL_NAME_num(pl.sans), 0);
	issue_plan_release(&pl);
	X509_REQ_free(csr);
}

static void test_device_rsa_keeps_key_encipherment(void **state)
{
	X509_REQ *csr = make_csr(rsa2048, "/CN=dev-rsa", NULL, 0, NULL, 0, NULL);
	struct issue_plan pl;
	struct errmsg em;

	(void)state;
	assert_int_equal(plan("device", csr, SIGNET_KEY_EC_P384, 30, &pl, &em), 0);
	assert_int_equal(pl.spec.key_usage, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_ptr_equal(pl.md, EVP_sha384()); /* by the P-384 CA key */
	assert_int_equal(pl.spec.not_after, 1700000000 + 30L * 86400);
	issue_plan_release(&pl);
	X509_REQ_free(csr);
}

static void test_device_cn_rules(void **state)
{
	static const char *const bad[] = {
		"/CN=dev.",		     /* last character must be alphanumeric or '-' */
		"/CN=dev ice",		     /* no spaces */
		"/CN=dev\\/ice",	     /* no slashes */
		"/CN=dév",		     /* ASCII only */
		"/O=Example",		     /* no CN */
		"/CN=a/CN=b",		     /* one CN */
		"/CN=ok/emailAddress=a@b.c", /* attribute not allowed */
	};
	char long_cn[80] = "";
	X509_REQ *csr;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		csr = make_csr(p256, bad[i], NULL, 0, NULL, 0, NULL);
		expect_refusal("device", csr, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
			       "profile 'device'");
		X509_REQ_free(csr);
	}
	/* OpenSSL itself refuses a 65-character CN from text; the DER of a CSR can hold one */
	memset(long_cn, 'a', 65);
	csr = make_csr(p256, "/CN=short", NULL, 0, NULL, 0, NULL);
	X509_NAME_ENTRY_set_data(X509_NAME_get_entry(X509_REQ_get_subject_name(csr), 0),
				 V_ASN1_UTF8STRING, (unsigned char *)long_cn, 65);
	expect_refusal("device", csr, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
		       "1-64 characters");
	X509_REQ_free(csr);
	csr = make_csr(p256, "/CN=x.", NULL, 0, NULL, 0, NULL);
	expect_refusal("device", csr, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
		       "does not match subject.cn_pattern");
	X509_REQ_free(csr);
	csr = make_csr(p256, "/CN=ok/emailAddress=a@b.c", NULL, 0, NULL, 0, NULL);
	expect_refusal("device", csr, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
		       "subject attribute emailAddress is not allowed");
	X509_REQ_free(csr);
}

static void test_device_refuses_sans_and_long_validity(void **state)
{
	static const char *const dns[] = {"dev.example.com"};
	X509_REQ *csr = make_csr(p256, "/CN=dev-1", dns, 1, NULL, 0, NULL);

	(void)state;
	expect_refusal("device", csr, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
		       "DNS name 'dev.example.com' is not allowed (san.dns)");
	X509_REQ_free(csr);
	csr = make_csr(p256, "/CN=dev-1", NULL, 0, NULL, 0, NULL);
	expect_refusal("device", csr, SIGNET_KEY_EC_P256, 3651, SIGNET_E_INVALID_ARGUMENT,
		       "3651 days is over the limit of 3650 (max_days)");
	X509_REQ_free(csr);
}

static void test_constrained_device(void **state)
{
	X509_REQ *ok = make_csr(p256, "/CN=sensor-7", NULL, 0, NULL, 0, NULL);
	X509_REQ *big = make_csr(p384, "/CN=sensor-7", NULL, 0, NULL, 0, NULL);
	X509_REQ *rsa = make_csr(rsa2048, "/CN=sensor-7", NULL, 0, NULL, 0, NULL);
	X509_REQ *sha384 = make_csr(p256, "/CN=sensor-7", NULL, 0, NULL, 0, EVP_sha384());
	struct issue_plan pl;
	struct errmsg em;

	(void)state;
	assert_int_equal(plan("constrained-device", ok, SIGNET_KEY_EC_P256, 0, &pl, &em), 0);
	assert_int_equal(pl.spec.key_usage, KU_DIGITAL_SIGNATURE);
	assert_ptr_equal(pl.md, EVP_sha256());
	issue_plan_release(&pl);
	expect_refusal("constrained-device", big, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
		       "key type EC secp384r1 is not allowed (key_types: p256)");
	expect_refusal("constrained-device", rsa, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
		       "key type RSA 2048 is not allowed");
	expect_refusal("constrained-device", sha384, SIGNET_KEY_EC_P256, 0,
		       SIGNET_E_INVALID_ARGUMENT, "csr_signature_hashes does not allow");
	expect_refusal("constrained-device", ok, SIGNET_KEY_EC_P384, 0,
		       SIGNET_E_FAILED_PRECONDITION, "CA 'ca1' has a p384 key");
	X509_REQ_free(ok);
	X509_REQ_free(big);
	X509_REQ_free(rsa);
	X509_REQ_free(sha384);
}

static void test_server(void **state)
{
	static const char *const dns[] = {"broker.example.com", "localhost"};
	static const char *const ips[] = {"127.0.0.1", "::1"};
	X509_REQ *with = make_csr(p256, "/CN=broker", dns, 2, ips, 2, NULL);
	X509_REQ *without = make_csr(p256, "/CN=broker", NULL, 0, NULL, 0, NULL);
	struct issue_plan pl;
	struct errmsg em;

	(void)state;
	assert_int_equal(plan("server", with, SIGNET_KEY_EC_P256, 0, &pl, &em), 0);
	assert_int_equal(sk_GENERAL_NAME_num(pl.sans), 4);
	assert_int_equal(pl.spec.eku[0], NID_server_auth);
	assert_ptr_equal(pl.spec.sans, pl.sans);
	issue_plan_release(&pl);
	expect_refusal("server", without, SIGNET_KEY_EC_P256, 0, SIGNET_E_INVALID_ARGUMENT,
		       "needs at least one SAN (san.required)");
	expect_refusal("server", with, SIGNET_KEY_EC_P256, 826, SIGNET_E_INVALID_ARGUMENT,
		       "limit of 825");
	X509_REQ_free(with);
	X509_REQ_free(without);
}

static void test_intermediate(void **state)
{
	X509_REQ *csr = make_csr(p384, "/CN=Sub CA/O=Example", NULL, 0, NULL, 0, NULL);
	struct issue_plan pl;
	struct errmsg em;

	(void)state;
	assert_int_equal(plan("intermediate", csr, SIGNET_KEY_EC_P256, 0, &pl, &em), 0);
	assert_true(pl.spec.is_ca);
	assert_int_equal(pl.spec.path_len, 0);
	assert_int_equal(pl.spec.key_usage, KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(pl.spec.n_eku, 0);
	issue_plan_release(&pl);
	X509_REQ_free(csr);
}

/* The SCEP RA's certificate: an RSA key that signs CertReps and has envelopes
 * encrypted to it (digitalSignature + keyEncipherment), no EKU (RFC 8894
 * defines none), never a CA; an EC key cannot decrypt a key transport. */
static void test_scep_ra(void **state)
{
	X509_REQ *rsa = make_csr(rsa2048, "/CN=signet SCEP RA", NULL, 0, NULL, 0, NULL);
	X509_REQ *ec = make_csr(p256, "/CN=signet SCEP RA", NULL, 0, NULL, 0, NULL);
	struct issue_plan pl;
	struct errmsg em;

	(void)state;
	assert_int_equal(plan("scep-ra", rsa, SIGNET_KEY_EC_P256, 0, &pl, &em), 0);
	assert_false(pl.spec.is_ca);
	assert_int_equal(pl.spec.key_usage, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(pl.spec.n_eku, 0);
	issue_plan_release(&pl);
	assert_int_equal(plan("scep-ra", ec, SIGNET_KEY_EC_P256, 0, &pl, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	X509_REQ_free(rsa);
	X509_REQ_free(ec);
}

/* A custom profile: IP ranges, URI patterns, overrides. */
static void test_custom_san_rules_and_overrides(void **state)
{
	static const char *const in_range[] = {"10.1.2.3"};
	static const char *const out_of_range[] = {"192.168.1.1"};
	struct profile_set set = {0};
	struct profile *p;
	X509_REQ *good, *bad;
	X509_NAME *subject = NULL;
	struct issue_request rq = {.issuer_alg = SIGNET_KEY_EC_P256, .now = 1700000000};
	struct issue_plan pl;
	struct errmsg em = {0};
	char why[128];

	(void)state;
	assert_int_equal(profile_set_builtin(&set), 0);
	assert_non_null(p = profile_set_add(&set, "lab", profile_find(&set, "server")));
	for (size_t i = 0; i < p->n_dns; i++)
		free(p->dns[i]); /* the copy owns its own patterns */
	p->n_dns = 0;
	p->n_ips = 0;
	assert_int_equal(profile_parse_ip_range("10.0.0.0/8", &p->ips[p->n_ips++]), 0);
	assert_int_equal(profile_add_pattern(p->uris, &p->n_uris, "urn:dev:*", why, sizeof(why)),
			 0);
	good = make_csr(p256, "/CN=lab", NULL, 0, in_range, 1, NULL);
	bad = make_csr(p256, "/CN=lab", NULL, 0, out_of_range, 1, NULL);
	rq.csr = good;
	assert_int_equal(profile_plan(p, &rq, &pl, &em), 0);
	issue_plan_release(&pl);
	rq.csr = bad;
	assert_int_equal(profile_plan(p, &rq, &pl, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "is not allowed (san.ip)"));
	/* overrides only when the profile says so */
	assert_int_equal(csr_subject_parse("/CN=other", &subject, NULL), 0);
	rq.csr = good;
	rq.subject_override = subject;
	assert_int_equal(profile_plan(p, &rq, &pl, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "subject.allow_override"));
	p->subject_override = 1;
	assert_int_equal(profile_plan(p, &rq, &pl, &em), 0);
	assert_int_equal(X509_NAME_cmp(pl.subject, subject), 0);
	issue_plan_release(&pl);
	X509_NAME_free(subject);
	X509_REQ_free(good);
	X509_REQ_free(bad);
	profile_set_free(&set);
}

static void test_ip_ranges(void **state)
{
	struct ip_range r;

	(void)state;
	assert_int_equal(profile_parse_ip_range("10.128.0.0/9", &r), 0);
	assert_int_equal(r.family, 4);
	assert_int_equal(r.prefix, 9);
	assert_int_equal(profile_parse_ip_range("fd00::/8", &r), 0);
	assert_int_equal(r.family, 6);
	assert_int_equal(profile_parse_ip_range("::1", &r), 0);
	assert_int_equal(r.prefix, 128);
	assert_int_equal(profile_parse_ip_range("10.0.0.0/33", &r), -1);
	assert_int_equal(profile_parse_ip_range("10.0.0/8", &r), -1);
	assert_int_equal(profile_parse_ip_range("/8", &r), -1);
	assert_int_equal(profile_parse_ip_range("10.0.0.0/", &r), -1);
}

/* A CSR signed with SHA-1 is refused before any profile looks at it. */
static void test_csr_sha1_refused(void **state)
{
	X509_REQ *sha1 = make_csr(p256, "/CN=dev-1", NULL, 0, NULL, 0, EVP_sha1());
	X509_REQ *sha384 = make_csr(p256, "/CN=dev-1", NULL, 0, NULL, 0, EVP_sha384());
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(csr_verify_signature(sha1, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "signed with SHA-1 (ecdsa-with-SHA1)"));
	assert_int_equal(csr_verify_signature(sha384, &em), 0);
	X509_REQ_free(sha1);
	X509_REQ_free(sha384);
}

static void test_csr_parse_and_signature(void **state)
{
	X509_REQ *csr = make_csr(p256, "/CN=dev-1", NULL, 0, NULL, 0, NULL), *back = NULL;
	unsigned char *der = NULL, garbage[] = "not a request";
	int n = i2d_X509_REQ(csr, &der);
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	struct errmsg em = {0};

	(void)state;
	/* PEM and DER both read */
	assert_true(PEM_write_bio_X509_REQ(bio, csr));
	BIO_get_mem_ptr(bio, &mem);
	assert_int_equal(csr_parse((const uint8_t *)mem->data, mem->length, &back, &em), 0);
	assert_int_equal(csr_verify_signature(back, &em), 0);
	X509_REQ_free(back);
	/* trailing bytes after DER, garbage, empty: refused */
	{
		unsigned char *longer = OPENSSL_malloc((size_t)n + 1);

		memcpy(longer, der, (size_t)n);
		longer[n] = 0;
		assert_int_equal(csr_parse(longer, (size_t)n + 1, &back, &em),
				 SIGNET_E_INVALID_ARGUMENT);
		OPENSSL_free(longer);
	}
	assert_int_equal(csr_parse(garbage, sizeof(garbage), &back, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "not a PKCS#10 request"));
	assert_int_equal(csr_parse(der, 0, &back, &em), SIGNET_E_INVALID_ARGUMENT);
	/* a flipped bit in the signature: parses, but is no proof of possession */
	der[n - 1] ^= 0x01;
	assert_int_equal(csr_parse(der, (size_t)n, &back, &em), 0);
	assert_int_equal(csr_verify_signature(back, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "does not verify"));
	X509_REQ_free(back);
	/* the CSR's subject changed after signing: same */
	der[n - 1] ^= 0x01;
	assert_int_equal(csr_parse(der, (size_t)n, &back, &em), 0);
	assert_int_equal(csr_verify_signature(back, &em), 0);
	X509_REQ_free(back);
	BIO_free(bio);
	OPENSSL_free(der);
	X509_REQ_free(csr);
}

static void test_key_alg_names(void **state)
{
	char desc[64];
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_int_equal(profile_key_alg(p256, desc, sizeof(desc)), SIGNET_KEY_EC_P256);
	assert_int_equal(profile_key_alg(rsa2048, desc, sizeof(desc)), SIGNET_KEY_RSA_2048);
	assert_string_equal(desc, "RSA 2048");
	assert_non_null(ed);
	assert_int_equal(profile_key_alg(ed, desc, sizeof(desc)), SIGNET_KEY_UNSPECIFIED);
	assert_string_equal(desc, "ED25519");
	EVP_PKEY_free(ed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_accepts_a_device_id),
		cmocka_unit_test(test_device_rsa_keeps_key_encipherment),
		cmocka_unit_test(test_device_cn_rules),
		cmocka_unit_test(test_device_refuses_sans_and_long_validity),
		cmocka_unit_test(test_constrained_device),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_intermediate),
		cmocka_unit_test(test_scep_ra),
		cmocka_unit_test(test_custom_san_rules_and_overrides),
		cmocka_unit_test(test_ip_ranges),
		cmocka_unit_test(test_csr_parse_and_signature),
		cmocka_unit_test(test_csr_sha1_refused),
		cmocka_unit_test(test_key_alg_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
