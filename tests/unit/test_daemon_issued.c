/* Unit tests for daemon/records/issued.c: the ledger entry read from a certificate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "pki/csr.h"
#include "records/issued.h"
#include "testpki.h"

/* A self-signed dev-1 for an hour, with these SANs (may be NULL). */
static X509 *make_leaf(EVP_PKEY *key, const GENERAL_NAMES *sans)
{
	time_t now = time(NULL);

	return testpki_cert(&(struct testpki_spec){.cn = "dev-1",
						   .key = key,
						   .not_before = now,
						   .not_after = now + 3600,
						   .path_len = -1,
						   .key_usage = KU_DIGITAL_SIGNATURE,
						   .sans = sans});
}

static void test_entry(void **state)
{
	char *dns[] = {"dev-1.example"}, *ips[] = {"192.0.2.7", "2001:db8::1"},
	     *uris[] = {"urn:dev:1"};
	struct csr_params p = {.dns_names = dns,
			       .n_dns_names = 1,
			       .ip_addresses = ips,
			       .n_ip_addresses = 2,
			       .uris = uris,
			       .n_uris = 1};
	EVP_PKEY *key = testpki_key();
	GENERAL_NAMES *sans = NULL;
	uint8_t rid[16] = {1, 2, 3}, fp[32];
	unsigned char *spki = NULL;
	unsigned int fplen = 0;
	struct issued_entry ie;
	const unsigned char *cursor;
	X509 *cert, *back;
	int n;

	(void)state;
	assert_int_equal(csr_sans_build(&p, &sans, NULL), 0);
	cert = make_leaf(key, sans);
	assert_int_equal(issued_entry_fill(cert, "issuing", "ca.issuing", "device", "factory", rid,
					   &ie, NULL),
			 0);
	assert_string_equal(ie.e.ca, "issuing");
	assert_string_equal(ie.e.issuer_key, "ca.issuing");
	assert_string_equal(ie.e.profile, "device");
	assert_string_equal(ie.e.caller, "factory");
	assert_string_equal(ie.e.subject, "/CN=dev-1");
	assert_string_equal(ie.e.sans,
			    "DNS:dev-1.example, IP:192.0.2.7, IP:2001:db8::1, URI:urn:dev:1");
	assert_true(ie.e.has_request_id);
	assert_memory_equal(ie.e.request_id, rid, sizeof(rid));
	assert_true(ie.e.not_after - ie.e.not_before == 3600);
	/* the serial as `openssl x509 -serial` prints it: upper-case, whole octets */
	assert_true(strlen(ie.e.serial) % 2 == 0 && strlen(ie.e.serial) <= 40);
	assert_true(strspn(ie.e.serial, "0123456789ABCDEF") == strlen(ie.e.serial));
	/* the fingerprint is SHA-256 over the SubjectPublicKeyInfo DER */
	n = i2d_PUBKEY(key, &spki);
	assert_true(EVP_Digest(spki, (size_t)n, fp, &fplen, EVP_sha256(), NULL));
	assert_memory_equal(ie.e.spki_sha256, fp, 32);
	cursor = ie.e.der;
	assert_non_null(back = d2i_X509(NULL, &cursor, (long)ie.e.der_len));
	assert_int_equal(X509_cmp(back, cert), 0);
	X509_free(back);
	issued_entry_release(&ie);

	/* no request id, no SANs */
	X509_free(cert);
	cert = make_leaf(key, NULL);
	assert_int_equal(issued_entry_fill(cert, "c", "k", "p", NULL, NULL, &ie, NULL), 0);
	assert_false(ie.e.has_request_id);
	assert_string_equal(ie.e.sans, "");
	assert_string_equal(ie.e.caller, "");
	issued_entry_release(&ie);

	OPENSSL_free(spki);
	GENERAL_NAMES_free(sans);
	X509_free(cert);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
