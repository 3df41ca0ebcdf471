/*
 * Unit tests for daemon/rpc/rpc.c, the helpers every handler shares: the
 * audit object (bounded), the reply payload (replaced, never leaked), room
 * for a repeated field (even an empty one), the chain's DER and PEM, and
 * recording an issued certificate in a real ledger so that a retry of the
 * same request id finds it again, and only for the CA it was issued by;
 * and SignCsrBatch's limits. No token: nothing here signs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "rpc/issue.h"
#include "rpc/rpc.h"
#include "testpki.h"
#include "testutil.h"

struct fixture {
	char dir[128];
	struct ledger *ledger;
	struct daemon_state d;
	EVP_PKEY *ca_key;
	X509 *ca;
	X509 *leaf;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	time_t now = time(NULL);

	assert_non_null(f);
	testutil_mkdtemp(f->dir, sizeof(f->dir), "rpc");
	assert_int_equal(ledger_open(f->dir, &f->ledger, err, sizeof(err)), 0);
	f->d.ledger = f->ledger;
	f->ca_key = testpki_key();
	f->ca = testpki_cert(&(struct testpki_spec){.cn = "rpc test root",
						    .key = f->ca_key,
						    .not_before = now - 60,
						    .not_after = now + 86400,
						    .is_ca = 1,
						    .path_len = -1,
						    .key_usage = KU_KEY_CERT_SIGN | KU_CRL_SIGN});
	EVP_PKEY *leaf_key = testpki_key();
	f->leaf = testpki_cert(&(struct testpki_spec){.cn = "device-1",
						      .key = leaf_key,
						      .issuer = f->ca,
						      .issuer_key = f->ca_key,
						      .not_before = now - 60,
						      .not_after = now + 3600,
						      .key_usage = KU_DIGITAL_SIGNATURE,
						      .eku = NID_client_auth});
	EVP_PKEY_free(leaf_key);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ledger_close(f->ledger);
	X509_free(f->leaf);
	X509_free(f->ca);
	EVP_PKEY_free(f->ca_key);
	testutil_rm_rf(f->dir);
	free(f);
	return 0;
}

static void test_object_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct rpc rq = {.d = &f->d};
	char longname[2 * RPC_OBJECT_MAX];

	rpc_object(&rq, "ca=%s serial=%s", "issuing", "0A1B");
	assert_string_equal(rq.object, "ca=issuing serial=0A1B");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	rpc_object(&rq, "key=%s", longname);
	assert_int_equal(strlen(rq.object), RPC_OBJECT_MAX - 1);
	assert_memory_equal(rq.object, "key=xxx", 7);
}

static void test_respond_packs_and_replaces(void **state)
{
	struct fixture *f = *state;
	struct rpc rq = {.d = &f->d};
	Signet__V1__HealthResponse first = SIGNET__V1__HEALTH_RESPONSE__INIT;
	Signet__V1__HealthResponse second = SIGNET__V1__HEALTH_RESPONSE__INIT;
	Signet__V1__HealthResponse *back;

	first.token_state = "a first answer";
	second.token_state = "ok";
	assert_int_equal(rpc_respond(&rq, &first.base), 0);
	/* a second reply replaces the first: the request carries one payload */
	assert_int_equal(rpc_respond(&rq, &second.base), 0);
	back = signet__v1__health_response__unpack(NULL, rq.out_len, rq.out);
	assert_non_null(back);
	assert_string_equal(back->token_state, "ok");
	signet__v1__health_response__free_unpacked(back, NULL);
	free(rq.out);
}

static void test_entries_for_an_empty_list(void **state)
{
	struct fixture *f = *state;
	struct rpc rq = {.d = &f->d};
	uint64_t *some = rpc_entries(&rq, 3, sizeof(*some));
	void *none = rpc_entries(&rq, 0, sizeof(uint64_t));

	/* zeroed, and an empty list gets room too: NULL means out of memory only */
	assert_non_null(some);
	assert_true(some[0] == 0 && some[1] == 0 && some[2] == 0);
	assert_non_null(none);
	assert_int_equal(rq.em.err, 0);
	free(some);
	free(none);
}

static void test_chain_encode(void **state)
{
	struct fixture *f = *state;
	STACK_OF(X509) *chain = sk_X509_new_null();
	ProtobufCBinaryData ders[2];
	char *pem = NULL;
	BIO *bio;
	X509 *again;
	size_t der_len;
	unsigned char *der;

	sk_X509_push(chain, f->leaf);
	sk_X509_push(chain, f->ca);
	assert_int_equal(rpc_chain_encode(chain, ders, &pem), 0);
	/* the DER is each certificate's own, in chain order */
	der = testpki_der(f->leaf, &der_len);
	assert_int_equal(ders[0].len, der_len);
	assert_memory_equal(ders[0].data, der, der_len);
	OPENSSL_free(der);
	/* the PEM holds both, in the same order, as openssl reads them */
	bio = BIO_new_mem_buf(pem, -1);
	again = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(again);
	assert_int_equal(X509_cmp(again, f->leaf), 0);
	X509_free(again);
	again = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(again);
	assert_int_equal(X509_cmp(again, f->ca), 0);
	X509_free(again);
	assert_null(PEM_read_bio_X509(bio, NULL, NULL, NULL));
	BIO_free(bio);
	for (int i = 0; i < 2; i++)
		OPENSSL_free(ders[i].data);
	free(pem);
	sk_X509_free(chain);
}

static void test_record_then_retry(void **state)
{
	struct fixture *f = *state;
	static const uint8_t rid[WIRE_REQUEST_ID_LEN] = {7, 7, 7, 7, 7, 7, 7, 7,
							 7, 7, 7, 7, 7, 7, 7, 1};
	struct rpc rq = {.d = &f->d, .caller = "factory", .request_id = rid};
	struct rpc retry = {.d = &f->d, .caller = "factory", .request_id = rid};
	char serial[64], want[RPC_OBJECT_MAX];
	X509 *found = NULL;

	assert_int_equal(rpc_find_retry(&rq, "issuing", &found), SIGNET_E_NOT_FOUND);
	assert_int_equal(rpc_record_issued(&rq, f->leaf, "issuing", "issuing-key", "device", 1), 0);
	testpki_serial_hex(f->leaf, serial, sizeof(serial));
	snprintf(want, sizeof(want), "ca=issuing serial=%s profile=device", serial);
	assert_string_equal(rq.object, want);

	/* the same caller's same request id finds the very certificate */
	assert_int_equal(rpc_find_retry(&retry, "issuing", &found), 0);
	assert_int_equal(X509_cmp(found, f->leaf), 0);
	X509_free(found);
	snprintf(want, sizeof(want), "ca=issuing serial=%s retry", serial);
	assert_string_equal(retry.object, want);

	/* ...but not for another CA, and the same id recorded twice is refused */
	found = NULL;
	assert_int_equal(rpc_find_retry(&retry, "other", &found), SIGNET_E_ALREADY_EXISTS);
	assert_null(found);
	assert_non_null(strstr(retry.em.text, "CA 'issuing'"));
	assert_int_equal(rpc_record_issued(&retry, f->leaf, "issuing", "issuing-key", "device", 1),
			 SIGNET_E_ALREADY_EXISTS);
}

static void test_no_request_id_no_retry(void **state)
{
	struct fixture *f = *state;
	static const uint8_t rid[WIRE_REQUEST_ID_LEN] = {9};
	struct rpc rq = {.d = &f->d, .caller = "factory"};
	struct rpc other = {.d = &f->d, .caller = "someone-else", .request_id = rid};
	X509 *found = NULL;

	/* recorded without its request id: nothing for a retry to find */
	assert_int_equal(rpc_record_issued(&rq, f->leaf, "issuing", "issuing-key", "device", 0), 0);
	assert_int_equal(rpc_find_retry(&rq, "issuing", &found), SIGNET_E_NOT_FOUND);
	/* another caller's id is another request */
	assert_int_equal(rpc_find_retry(&other, "issuing", &found), SIGNET_E_NOT_FOUND);
	assert_null(found);
}

/* A batch is refused whole when empty or over either limit, the message
 * naming the setting and both numbers; at the limits it passes. */
static void test_batch_limits(void **state)
{
	struct config cfg = {.max_batch_csrs = 4, .max_batch_bytes = 2048};
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(issue_batch_check(&cfg, 4, 2048, &em), 0);
	assert_int_equal(issue_batch_check(&cfg, 1, 1, &em), 0);
	assert_int_equal(issue_batch_check(&cfg, 0, 0, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(em.text, "a batch needs at least one CSR");
	assert_int_equal(issue_batch_check(&cfg, 5, 100, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(em.text, "a batch of 5 CSRs is over server.max_batch_csrs (4): "
				     "send it in smaller batches");
	assert_int_equal(issue_batch_check(&cfg, 2, 2049, &em), SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(em.text, "a batch of 2049 bytes of CSRs is over "
				     "server.max_batch_bytes (2048): send it in smaller batches");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_object_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_respond_packs_and_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entries_for_an_empty_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_encode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_then_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_request_id_no_retry, setup, teardown),
		cmocka_unit_test(test_batch_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
