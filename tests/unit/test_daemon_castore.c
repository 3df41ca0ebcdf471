/* Unit tests for daemon/ca/castore.c: durable CA files, unique names, derived
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

#include "ca/castore.h"
#include "testpki.h"
#include "testutil.h"

/* A CA for a day from now, signed by issuer_key under issuer (NULL: self-signed). */
static X509 *make_ca(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	time_t now = time(NULL);

	return testpki_cert(&(struct testpki_spec){.cn = cn,
						   .key = key,
						   .issuer = issuer,
						   .issuer_key = issuer_key,
						   .not_before = now,
						   .not_after = now + 86400,
						   .is_ca = 1,
						   .path_len = -1,
						   .key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN});
}

static void test_store_chain_reload(void **state)
{
	char dir[64], err[256];
	EVP_PKEY *rk = testpki_key(), *ik = testpki_key();
	X509 *root, *inter;
	struct castore cs;
	struct errmsg em = {0};
	STACK_OF(X509) *chain = NULL;
	struct ca ca;
	struct ca *all = NULL;
	size_t n = 0;

	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "castore");
	root = make_ca("Root", rk, NULL, NULL);
	inter = make_ca("Inter", ik, root, rk);
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_add(&cs, "root", NULL, root, NULL, &em), 0);
	assert_int_equal(castore_add(&cs, "inter", NULL, inter, NULL, &em), 0);
	assert_int_equal(castore_add(&cs, "root", NULL, inter, NULL, &em), SIGNET_E_ALREADY_EXISTS);
	assert_int_equal(castore_add(&cs, "bad/name", NULL, inter, NULL, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	castore_close(&cs);

	/* a fresh store reads the files back and derives the parent */
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_get(&cs, "inter", &ca, &em), 0);
	assert_string_equal(ca.key, "ca.inter");
	assert_int_equal(X509_cmp(ca.cert, inter), 0);
	assert_string_equal(ca.parent_name, "root");
	ca_release(&ca);
	assert_int_equal(castore_chain(&cs, "inter", &chain, &em), 0);
	assert_int_equal(sk_X509_num(chain), 2);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), inter), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), root), 0);
	sk_X509_pop_free(chain, X509_free);
	assert_int_equal(castore_list(&cs, &all, &n, &em), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].name, "inter"); /* by name, not in the order added */
	assert_string_equal(all[1].name, "root");
	castore_list_free(all, n);
	assert_int_equal(castore_get(&cs, "nobody", &ca, &em), SIGNET_E_NOT_FOUND);
	assert_int_equal(castore_chain(&cs, "nobody", &chain, &em), SIGNET_E_NOT_FOUND);
	castore_close(&cs);

	/* a second store on the same directory cannot take the name either */
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_add(&cs, "inter", NULL, root, NULL, &em), SIGNET_E_ALREADY_EXISTS);
	castore_close(&cs);

	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	testutil_rm_rf(dir);
}

static void test_key_labels(void **state)
{
	char label[KEY_NAME_MAX + 1], name60[CA_NAME_MAX + 1];

	(void)state;
	assert_int_equal(castore_key_label("root", 1, label, sizeof(label), NULL), 0);
	assert_string_equal(label, "ca.root");
	assert_int_equal(castore_key_label("root", 2, label, sizeof(label), NULL), 0);
	assert_string_equal(label, "ca2.root");
	assert_int_equal(castore_key_label("root", 17, label, sizeof(label), NULL), 0);
	assert_string_equal(label, "ca17.root");
	assert_int_equal(
		castore_key_label("root", CA_GENERATION_MAX + 1, label, sizeof(label), NULL),
		SIGNET_E_FAILED_PRECONDITION);
	/* the longest name has room for generations 2-9 only */
	memset(name60, 'n', CA_NAME_MAX);
	name60[CA_NAME_MAX] = '\0';
	assert_int_equal(castore_key_label(name60, 9, label, sizeof(label), NULL), 0);
	assert_int_equal(castore_key_label(name60, 10, label, sizeof(label), NULL),
			 SIGNET_E_FAILED_PRECONDITION);

	assert_int_equal(castore_key_generation("root", "ca.root"), 1);
	assert_int_equal(castore_key_generation("root", "ca2.root"), 2);
	assert_int_equal(castore_key_generation("root", "ca17.root"), 17);
	/* not this CA's, or not a label castore makes */
	assert_int_equal(castore_key_generation("root", "ca.other"), 0);
	assert_int_equal(castore_key_generation("root", "ca2.root2"), 0);
	assert_int_equal(castore_key_generation("root", "ca1.root"), 0);
	assert_int_equal(castore_key_generation("root", "ca02.root"), 0);
	assert_int_equal(castore_key_generation("root", "ca100.root"), 0);
	assert_int_equal(castore_key_generation("root", "cax.root"), 0);
	assert_int_equal(castore_key_generation("root", "root"), 0);
	/* a CA named "2.root" is not generation 2 of "root", and vice versa */
	assert_int_equal(castore_key_generation("2.root", "ca.2.root"), 1);
	assert_int_equal(castore_key_generation("root", "ca.2.root"), 0);

	/* the namespace the key RPCs leave alone */
	assert_true(castore_key_reserved("ca.root"));
	assert_true(castore_key_reserved("ca2.root"));
	assert_true(castore_key_reserved("ca123.x"));
	assert_false(castore_key_reserved("ca"));
	assert_false(castore_key_reserved("cab.root"));
	assert_false(castore_key_reserved("device-ca.1"));
	assert_false(castore_key_reserved("c"));
}

static void assert_chain(struct castore *cs, const char *name, X509 *const *want, int n)
{
	STACK_OF(X509) *chain = NULL;
	struct errmsg em = {0};

	assert_int_equal(castore_chain(cs, name, &chain, &em), 0);
	assert_int_equal(sk_X509_num(chain), n);
	for (int i = 0; i < n; i++)
		assert_int_equal(X509_cmp(sk_X509_value(chain, i), want[i]), 0);
	sk_X509_pop_free(chain, X509_free);
}

/* Renewal and re-keying: new generations sign, old ones still chain. */
static void test_generations(void **state)
{
	char dir[64], err[256], path[512];
	EVP_PKEY *rk = testpki_key(), *rk2 = testpki_key(), *ik = testpki_key(),
		 *sk = testpki_key();
	X509 *root, *inter, *sub, *inter2, *root2, *inter3;
	struct castore cs, other;
	struct errmsg em = {0};
	struct ca ca;
	struct ca *all = NULL;
	size_t n = 0;

	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "castore");
	root = make_ca("Root", rk, NULL, NULL);
	inter = make_ca("Inter", ik, root, rk);
	sub = make_ca("Sub", sk, inter, ik);
	inter2 = make_ca("Inter", ik, root, rk);   /* renewed: same key and subject */
	root2 = make_ca("Root", rk2, NULL, NULL);  /* re-keyed root */
	inter3 = make_ca("Inter", ik, root2, rk2); /* renewed under the new root key */

	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_add(&cs, "root", NULL, root, NULL, &em), 0);
	assert_int_equal(castore_add(&cs, "inter", NULL, inter, NULL, &em), 0);
	assert_int_equal(castore_add(&cs, "sub", NULL, sub, NULL, &em), 0);

	/* renewal: the child now chains through the renewed certificate */
	assert_int_equal(castore_replace(&cs, "inter", inter, "ca.inter", inter2, NULL, &em), 0);
	assert_chain(&cs, "sub", (X509 *[]){sub, inter2, root}, 3);
	/* a replace that lost a race with another request is refused */
	assert_int_equal(castore_replace(&cs, "inter", inter, "ca.inter", inter3, NULL, &em),
			 SIGNET_E_ABORTED);
	assert_int_equal(castore_replace(&cs, "nobody", inter, "ca.nobody", inter3, NULL, &em),
			 SIGNET_E_NOT_FOUND);

	/* re-key the root: inter2 was issued by the old key and still chains to it */
	assert_int_equal(castore_replace(&cs, "root", root, "ca2.root", root2, NULL, &em), 0);
	assert_int_equal(castore_get(&cs, "root", &ca, &em), 0);
	assert_string_equal(ca.key, "ca2.root");
	assert_int_equal(X509_cmp(ca.cert, root2), 0);
	ca_release(&ca);
	assert_chain(&cs, "inter", (X509 *[]){inter2, root}, 2);
	assert_int_equal(castore_list(&cs, &all, &n, &em), 0);
	assert_int_equal(n, 3); /* current generations only */
	castore_list_free(all, n);
	castore_close(&cs);

	/* everything survives a restart, the old generations archived */
	snprintf(path, sizeof(path), "%s/cas/root.old", dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_chain(&cs, "sub", (X509 *[]){sub, inter2, root}, 3);
	assert_int_equal(castore_get(&cs, "root", &ca, &em), 0);
	assert_string_equal(ca.key, "ca2.root");
	ca_release(&ca);

	/* another store on the same directory replaces "inter": ours loads it at its next
	 * lookup, so a replace based on what it had before loses the race */
	assert_int_equal(castore_open(&other, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_replace(&other, "inter", inter2, "ca.inter", inter3, NULL, &em),
			 0);
	castore_close(&other);
	assert_int_equal(castore_replace(&cs, "inter", inter2, "ca.inter", inter, NULL, &em),
			 SIGNET_E_ABORTED);
	assert_chain(&cs, "inter", (X509 *[]){inter3, root2}, 2);
	castore_close(&cs);
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_chain(&cs, "inter", (X509 *[]){inter3, root2}, 2);
	castore_close(&cs);

	X509 *certs[] = {root, inter, sub, inter2, root2, inter3};
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	EVP_PKEY *keys[] = {rk, rk2, ik, sk};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	testutil_rm_rf(dir);
}

/* A sub-CA signed outside signet keeps the chain above it, and its key label. */
/* Two daemons on one state directory: what one adds or replaces, the other
 * sees at its next lookup, with the parent derived again. */
static void test_shared_directory(void **state)
{
	char dir[64], err[256], path[512];
	EVP_PKEY *rk = testpki_key(), *ik = testpki_key();
	X509 *root = make_ca("Root", rk, NULL, NULL), *inter = make_ca("Inter", ik, root, rk),
	     *inter2 = make_ca("Inter", ik, root, rk);
	struct castore a, b;
	struct errmsg em = {0};
	struct ca ca, *all = NULL;
	STACK_OF(X509) *anchors = NULL;
	size_t n = 0;

	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "castore");
	assert_int_equal(castore_open(&a, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_open(&b, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_get(&b, "root", &ca, &em), SIGNET_E_NOT_FOUND);

	assert_int_equal(castore_add(&a, "root", NULL, root, NULL, &em), 0);
	assert_int_equal(castore_add(&a, "inter", NULL, inter, NULL, &em), 0);
	assert_int_equal(castore_get(&b, "inter", &ca, &em), 0);
	assert_int_equal(X509_cmp(ca.cert, inter), 0);
	assert_string_equal(ca.parent_name, "root");
	ca_release(&ca);
	assert_int_equal(castore_anchors(&b, &anchors, &em), 0);
	assert_int_equal(sk_X509_num(anchors), 1);
	sk_X509_pop_free(anchors, X509_free);
	/* b cannot take a name a created */
	assert_int_equal(castore_add(&b, "inter", NULL, inter2, NULL, &em),
			 SIGNET_E_ALREADY_EXISTS);

	/* a renewal through a: b signs with the new certificate, the old one still chains */
	assert_int_equal(castore_replace(&a, "inter", inter, "ca.inter", inter2, NULL, &em), 0);
	assert_int_equal(castore_get(&b, "inter", &ca, &em), 0);
	assert_int_equal(X509_cmp(ca.cert, inter2), 0);
	ca_release(&ca);
	assert_int_equal(castore_list_generations(&b, &all, &n, &em), 0);
	assert_int_equal(n, 3);
	castore_list_free(all, n);

	/* a record b cannot read: b keeps serving what it had, and says so */
	snprintf(path, sizeof(path), "%s/cas/broken.pem", dir);
	testutil_write_text(path, "not a CA record\n");
	assert_int_equal(castore_get(&b, "inter", &ca, &em), 0);
	assert_int_equal(X509_cmp(ca.cert, inter2), 0);
	ca_release(&ca);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(castore_get(&b, "root", &ca, &em), 0);
	ca_release(&ca);

	castore_close(&a);
	castore_close(&b);
	X509_free(root);
	X509_free(inter);
	X509_free(inter2);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	testutil_rm_rf(dir);
}

static void test_imported(void **state)
{
	char dir[64], err[256], path[512];
	EVP_PKEY *xk = testpki_key(), *xik = testpki_key(), *sk = testpki_key();
	X509 *xroot = make_ca("Outside Root", xk, NULL, NULL);
	X509 *xinter = make_ca("Outside Inter", xik, xroot, xk);
	X509 *sub = make_ca("Our Sub", sk, xinter, xik);
	STACK_OF(X509) *above = sk_X509_new_null();
	struct castore cs;
	struct errmsg em = {0};
	struct ca ca;

	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "castore");
	sk_X509_push(above, xinter);
	sk_X509_push(above, xroot);
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_add(&cs, "sub", "ca.sub", sub, above, &em), 0);
	assert_chain(&cs, "sub", (X509 *[]){sub, xinter, xroot}, 3);
	assert_int_equal(castore_add(&cs, "bad", "not a label", sub, NULL, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	castore_close(&cs);

	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), 0);
	assert_int_equal(castore_get(&cs, "sub", &ca, &em), 0);
	assert_string_equal(ca.key, "ca.sub");
	assert_int_equal(ca.parent, -1); /* its issuer is not a CA of signet's */
	assert_int_equal(sk_X509_num(ca.above), 2);
	ca_release(&ca);
	assert_chain(&cs, "sub", (X509 *[]){sub, xinter, xroot}, 3);
	castore_close(&cs);

	/* a record that is not one refuses to load, naming the file */
	snprintf(path, sizeof(path), "%s/cas/broken.pem", dir);
	testutil_write_text(path, "key: ca.broken\nno certificate here\n");
	assert_int_equal(castore_open(&cs, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "broken.pem"));

	sk_X509_free(above);
	X509_free(xroot);
	X509_free(xinter);
	X509_free(sub);
	EVP_PKEY_free(xk);
	EVP_PKEY_free(xik);
	EVP_PKEY_free(sk);
	testutil_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_chain_reload), cmocka_unit_test(test_key_labels),
		cmocka_unit_test(test_generations),	   cmocka_unit_test(test_shared_directory),
		cmocka_unit_test(test_imported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
