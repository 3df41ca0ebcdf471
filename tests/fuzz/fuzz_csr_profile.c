/*
 * Fuzz target: the CSR checks SignCsr makes (rpc_issue.c) before any token
 * work, then the issuance itself with a software CA.
 *
 * Input: the whole input is one CSR, PEM or DER, as SignCsr's `csr` field
 * carries it. No splitting.
 *
 * It goes through csr_parse and csr_verify_signature, then profile_plan
 * under each built-in profile (no overrides, the CA's key P-256, a fixed
 * "now"), and every plan a profile accepts is signed by certbuild_sign with
 * a P-256 CA made at start-up; the certificate must verify and re-parse.
 *
 * profile_plan runs even when the CSR's signature does not verify: a caller
 * holds the CSR's key, so any content can come with a valid signature, and
 * a mutated CSR (whose signature no longer verifies) must still reach the
 * profile checks for the fuzzer to explore them.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "pki/certbuild.h"
#include "pki/csr.h"
#include "pki/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW ((time_t)1767225600) /* 2026-01-01: results never depend on the clock */

static struct profile_set profiles;
static EVP_PKEY *ca_key;
static X509 *ca_cert;

static void fuzz_cleanup(void)
{
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	profile_set_free(&profiles);
}

static void fuzz_setup_once(void)
{
	static int done;
	X509_NAME *name;
	struct cert_spec spec = {.subject = NULL,
				 .not_before = FUZZ_NOW - 86400,
				 .not_after = FUZZ_NOW + 100L * 365 * 86400,
				 .is_ca = 1,
				 .path_len = -1,
				 .key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN};

	if (done)
		return;
	spec.subject = name = X509_NAME_new();
	if (name == NULL || (ca_key = EVP_EC_gen("P-256")) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"Fuzz CA",
					-1, -1, 0))
		abort();
	spec.subject_key = ca_key;
	if (certbuild_sign(&spec, ca_key, ca_key, EVP_sha256(), &ca_cert, NULL) != 0 ||
	    profile_set_builtin(&profiles) != 0)
		abort();
	X509_NAME_free(name);
	atexit(fuzz_cleanup);
	done = 1;
}

/* An issued certificate must be one a relying party can read back. */
static void check_issued(X509 *cert)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_X509(cert, &der);
	X509 *back;

	if (len <= 0 || X509_verify(cert, ca_key) != 1)
		abort();
	p = der;
	back = d2i_X509(NULL, &p, len);
	if (back == NULL || p != der + len || X509_cmp(back, cert) != 0)
		abort();
	X509_free(back);
	OPENSSL_free(der);
}

static void issue(const struct profile *p, X509_REQ *csr)
{
	struct issue_request rq = {
		.csr = csr, .issuer_alg = SIGNET_KEY_EC_P256, .ca_name = "fuzz", .now = FUZZ_NOW};
	struct issue_plan plan;
	struct errmsg em = {0};
	X509 *cert = NULL;

	if (profile_plan(p, &rq, &plan, &em) != 0)
		return;
	plan.spec.issuer = ca_cert;
	if (certbuild_sign(&plan.spec, ca_key, ca_key, plan.md, &cert, &em) == 0)
		check_issued(cert);
	X509_free(cert);
	issue_plan_release(&plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errmsg em = {0};
	X509_REQ *csr = NULL;

	fuzz_setup_once();
	if (csr_parse(data, size, &csr, &em) != 0)
		return 0;
	csr_verify_signature(csr, &em);
	for (size_t i = 0; i < profiles.n; i++)
		issue(&profiles.v[i], csr);
	X509_REQ_free(csr);
	ERR_clear_error();
	return 0;
}
