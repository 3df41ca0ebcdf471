/* Unit tests for daemon/castore.c: durable CA files, unique names, derived
 * parents and chains, reloading; software keys stand in for token keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "castore.h"
#include "certbuild.h"

static X509 *make_ca(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509_NAME *subject = X509_NAME_new();
	time_t now = time(NULL);
	struct cert_spec spec = {.subject = subject,
				 .subject_key = key,
				 .issuer = issuer,
				 .not_before = now,
				 .not_after = now + 86400,
				 .is_ca = 1,
				 .path_len = -1,
				 .key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN};
	X509 *cert = NULL;

	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				   0);
	assert_int_equal(certbuild_sign(&spec, issuer_key != NULL ? issuer_key : key,
					issuer_key != NULL ? issuer_key : key, EVP_sha256(), &cert,
					NULL),
			 0);
	X509_NAME_free(subject);
	return cert;
}

static void test_store_chain_reload(void **state)
{
	char dir[] = "/tmp/signet-castore-XXXXXX", err[256], parent[64];
	EVP_PKEY *rk = EVP_EC_gen("P-256"), *ik = EVP_EC_gen("P-256");
	X509 *root, *inter;
	struct castore cs;
	struct errmsg em = {0};
	STACK_OF(X509) *chain = NULL;
	struct ca ca;
	struct ca *all = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	root = make_ca("Root", rk, NULL, NULL);
	inter = make_ca("Inter", ik, root, rk);
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_add(&cs, "root", root, &em), 0);
	assert_int_equal(castore_add(&cs, "inter", inter, &em), 0);
	assert_int_equal(castore_add(&cs, "root", inter, &em), SIGNET_E_ALREADY_EXISTS);
	assert_int_equal(castore_add(&cs, "bad/name", inter, &em), SIGNET_E_INVALID_ARGUMENT);
	castore_close(&cs);

	/* a fresh store reads the files back and derives the parent */
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_get(&cs, "inter", &ca, &em), 0);
	assert_string_equal(ca.key, "ca.inter");
	assert_int_equal(X509_cmp(ca.cert, inter), 0);
	castore_parent_name(&cs, &ca, parent, sizeof(parent));
	assert_string_equal(parent, "root");
	ca_release(&ca);
	assert_int_equal(castore_chain(&cs, "inter", &chain, &em), 0);
	assert_int_equal(sk_X509_num(chain), 2);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), inter), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), root), 0);
	sk_X509_pop_free(chain, X509_free);
	assert_int_equal(castore_list(&cs, &all, &n, &em), 0);
	assert_int_equal(n, 2);
	castore_list_free(all, n);
	assert_int_equal(castore_get(&cs, "nobody", &ca, &em), SIGNET_E_NOT_FOUND);
	assert_int_equal(castore_chain(&cs, "nobody", &chain, &em), SIGNET_E_NOT_FOUND);
	castore_close(&cs);

	/* a second store on the same directory cannot take the name either */
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_add(&cs, "inter", root, &em), SIGNET_E_ALREADY_EXISTS);
	castore_close(&cs);

	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	assert_int_equal(system(err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_chain_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
