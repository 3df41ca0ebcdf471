/* Unit tests for daemon/pki/chainverify.c: a device's presented chain against
 * trust anchors, and each way it can fail, with its own message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "pki/chainverify.h"
#include "testpki.h"

#define DAY 86400

struct pki {
	EVP_PKEY *rk, *ik, *lk, *ok;
	X509 *root, *inter, *leaf, *other_root, *expired_leaf, *no_ds_leaf, *server_leaf;
	time_t now;
};

static X509 *make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
		  unsigned usage, int eku, time_t nb, time_t na)
{
	return testpki_cert(&(struct testpki_spec){.cn = cn,
						   .key = key,
						   .issuer = issuer,
						   .issuer_key = issuer_key,
						   .not_before = nb,
						   .not_after = na,
						   .is_ca = ca,
						   .path_len = -1,
						   .key_usage = usage,
						   .eku = eku});
}

static int setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	unsigned ca = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
	time_t t = time(NULL);

	p->now = t;
	p->rk = testpki_key();
	p->ik = testpki_key();
	p->lk = testpki_key();
	p->ok = testpki_key();
	p->root = make("Root", p->rk, NULL, NULL, 1, ca, 0, t - 20 * DAY, t + 100 * DAY);
	p->other_root = make("Root", p->ok, NULL, NULL, 1, ca, 0, t - 20 * DAY, t + 100 * DAY);
	p->inter = make("Inter", p->ik, p->root, p->rk, 1, ca, 0, t - 10 * DAY, t + 50 * DAY);
	p->leaf = make("dev-1", p->lk, p->inter, p->ik, 0, KU_DIGITAL_SIGNATURE, NID_client_auth,
		       t - DAY, t + 10 * DAY);
	p->expired_leaf = make("dev-1", p->lk, p->inter, p->ik, 0, KU_DIGITAL_SIGNATURE,
			       NID_client_auth, t - 3 * DAY, t - DAY);
	p->no_ds_leaf = make("dev-1", p->lk, p->inter, p->ik, 0, KU_KEY_AGREEMENT, NID_client_auth,
			     t - DAY, t + 10 * DAY);
	p->server_leaf = make("dev-1", p->lk, p->inter, p->ik, 0, KU_DIGITAL_SIGNATURE,
			      NID_server_auth, t - DAY, t + 10 * DAY);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pki *p = *state;
	X509 *certs[] = {p->root,	  p->inter,	 p->leaf,	p->other_root,
			 p->expired_leaf, p->no_ds_leaf, p->server_leaf};
	EVP_PKEY *keys[] = {p->rk, p->ik, p->lk, p->ok};

	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	free(p);
	return 0;
}

static STACK_OF(X509) * list(X509 *a, X509 *b)
{
	STACK_OF(X509) *s = sk_X509_new_null();

	if (a != NULL)
		sk_X509_push(s, a);
	if (b != NULL)
		sk_X509_push(s, b);
	return s;
}

/* Run chainverify; the status, and the message in `em`. */
static int run(X509 *leaf, X509 *inter, X509 *anchor, enum chain_purpose purpose,
	       chain_revoked_fn revoked, void *arg, time_t now, struct errmsg *em)
{
	STACK_OF(X509) *presented = list(leaf, inter), *anchors = list(anchor, NULL);
	struct chain_result res;
	int r = chainverify(presented, anchors, purpose, revoked, arg, now, &res, em);

	if (r == 0)
		assert_non_null(res.path);
	chain_result_release(&res);
	sk_X509_free(presented);
	sk_X509_free(anchors);
	return r;
}

static void test_good_chain(void **state)
{
	struct pki *p = *state;
	STACK_OF(X509) *presented = list(p->leaf, p->inter), *anchors = list(p->root, NULL);
	struct chain_result res;
	struct errmsg em = {0};

	assert_int_equal(
		chainverify(presented, anchors, CHAIN_CLIENT, NULL, NULL, p->now, &res, &em), 0);
	assert_int_equal(sk_X509_num(res.path), 3);
	assert_int_equal(X509_cmp(sk_X509_value(res.path, 2), p->root), 0);
	assert_string_equal(res.device_id, "dev-1");
	assert_true(strlen(res.serial) >= 2);
	chain_result_release(&res);
	/* an intermediate may itself be the anchor */
	sk_X509_pop(anchors);
	sk_X509_push(anchors, p->inter);
	sk_X509_pop(presented);
	assert_int_equal(chainverify(presented, anchors, CHAIN_ANY, NULL, NULL, p->now, &res, &em),
			 0);
	assert_int_equal(sk_X509_num(res.path), 2);
	chain_result_release(&res);
	sk_X509_free(presented);
	sk_X509_free(anchors);
}

static int revoke_inter(void *arg, X509 *cert, char *why, size_t whylen)
{
	if (X509_cmp(cert, arg) != 0)
		return 0;
	snprintf(why, whylen, "revoked by its CA");
	return 1;
}

static int cannot_tell(void *arg, X509 *cert, char *why, size_t whylen)
{
	(void)arg;
	(void)cert;
	snprintf(why, whylen, "ledger unavailable");
	return SIGNET_E_UNAVAILABLE;
}

static void test_failures(void **state)
{
	struct pki *p = *state;
	struct errmsg em = {0};

	/* an intermediate left out; an untrusted root */
	assert_int_equal(run(p->leaf, NULL, p->root, CHAIN_CLIENT, NULL, NULL, p->now, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "check 'chain' failed: unable to get local issuer"));
	assert_int_equal(
		run(p->leaf, p->inter, p->other_root, CHAIN_CLIENT, NULL, NULL, p->now, &em),
		SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "check 'chain' failed"));
	/* an expired leaf; a chain checked before it began */
	assert_int_equal(
		run(p->expired_leaf, p->inter, p->root, CHAIN_CLIENT, NULL, NULL, p->now, &em),
		SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "certificate has expired"));
	assert_int_equal(
		run(p->leaf, p->inter, p->root, CHAIN_CLIENT, NULL, NULL, p->now - 2 * DAY, &em),
		SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "not yet valid"));
	/* no digitalSignature; a server certificate presented as a client */
	assert_int_equal(
		run(p->no_ds_leaf, p->inter, p->root, CHAIN_CLIENT, NULL, NULL, p->now, &em),
		SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "check 'key usage' failed"));
	assert_int_equal(
		run(p->server_leaf, p->inter, p->root, CHAIN_CLIENT, NULL, NULL, p->now, &em),
		SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "unsuitable certificate purpose (depth 0"));
	assert_int_equal(
		run(p->server_leaf, p->inter, p->root, CHAIN_SERVER, NULL, NULL, p->now, &em), 0);
	/* CA purpose */
	assert_int_equal(run(p->leaf, p->inter, p->root, CHAIN_CA, NULL, NULL, p->now, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "check 'ca' failed"));
	assert_int_equal(run(p->inter, NULL, p->root, CHAIN_CA, NULL, NULL, p->now, &em), 0);
	/* a CA certificate presented first is no device, even in the right hierarchy */
	assert_int_equal(run(p->inter, NULL, p->root, CHAIN_CLIENT, NULL, NULL, p->now, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "check 'leaf' failed"));
	/* revocation anywhere in the path, and a revocation check that cannot be made */
	assert_int_equal(
		run(p->leaf, p->inter, p->root, CHAIN_CLIENT, revoke_inter, p->inter, p->now, &em),
		SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "check 'revocation' failed: /CN=Inter (depth 1)"));
	assert_int_equal(
		run(p->leaf, p->inter, p->root, CHAIN_CLIENT, cannot_tell, NULL, p->now, &em),
		SIGNET_E_UNAVAILABLE);
	/* nothing, or too much */
	assert_int_equal(run(NULL, NULL, p->root, CHAIN_CLIENT, NULL, NULL, p->now, &em),
			 SIGNET_E_INVALID_ARGUMENT);
}

static void test_too_long(void **state)
{
	struct pki *p = *state;
	STACK_OF(X509) *presented = sk_X509_new_null(), *anchors = list(p->root, NULL);
	struct chain_result res;
	struct errmsg em = {0};

	for (int i = 0; i <= CHAINVERIFY_MAX_CERTS; i++)
		sk_X509_push(presented, p->inter);
	assert_int_equal(chainverify(presented, anchors, CHAIN_ANY, NULL, NULL, p->now, &res, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	sk_X509_free(presented);
	sk_X509_free(anchors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_chain),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_too_long),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
