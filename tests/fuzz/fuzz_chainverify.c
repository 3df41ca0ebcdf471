/*
 * Fuzz target: a chain a device presents (VerifyChain, VerifyPossession),
 * split and checked the way rpc_possession.c does it.
 *
 * Input: the whole input is the `chain` field: certparse_many splits it
 * into at most CHAINVERIFY_MAX_CERTS certificates (concatenated PEM blocks
 * with any text around them, or concatenated DER). No other splitting.
 *
 * The certificates are verified by chainverify, once for each purpose
 * (client, server, CA, any), at a fixed "now" (a day after the root's
 * notBefore), against anchors loaded once
 * at start-up as the daemon loads its trust_anchors file (certparse_file):
 * tests/fuzz/pki/root.pem and inter.pem, a software root and an
 * intermediate under it (make-seeds.sh makes them and the seeds that chain
 * to them). The revocation callback re-encodes each certificate of the path,
 * as the ledger lookup does, and answers by serial: ...DEAD revoked, ...0BAD
 * "cannot tell" (an error), anything else good.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "pki/certparse.h"
#include "pki/chainverify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_PKI_DIR
#error "FUZZ_PKI_DIR: the directory of root.pem and inter.pem"
#endif

static STACK_OF(X509) * anchors;
/* A day after the root's notBefore: results never depend on the clock, and
 * seeds made with the anchors (all within seconds) are valid then. */
static time_t fuzz_now;

static void fuzz_cleanup(void)
{
	sk_X509_pop_free(anchors, X509_free);
}

static void fuzz_setup_once(void)
{
	static int done;
	STACK_OF(X509) *inter = NULL;
	char err[256];
	struct tm tm;

	if (done)
		return;
	if (certparse_file(FUZZ_PKI_DIR "/root.pem", 1, &anchors, err, sizeof(err)) != 0 ||
	    certparse_file(FUZZ_PKI_DIR "/inter.pem", 1, &inter, err, sizeof(err)) != 0 ||
	    !sk_X509_push(anchors, sk_X509_value(inter, 0))) {
		fprintf(stderr, "fuzz_chainverify: %s\n", err);
		abort();
	}
	sk_X509_free(inter); /* its one certificate now belongs to anchors */
	if (ASN1_TIME_to_tm(X509_get0_notBefore(sk_X509_value(anchors, 0)), &tm) != 1)
		abort();
	fuzz_now = timegm(&tm) + 86400;
	atexit(fuzz_cleanup);
	done = 1;
}

static int revoked_by_serial(void *arg, X509 *cert, char *why, size_t whylen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	unsigned char *der = NULL;
	size_t n = hex != NULL ? strlen(hex) : 0;
	int len = i2d_X509(cert, &der), r = 0;

	(*(int *)arg)++;
	if (hex == NULL || len <= 0) {
		snprintf(why, whylen, "cannot read the certificate");
		r = SIGNET_E_INTERNAL;
	} else if (n >= 4 && strcmp(hex + n - 4, "DEAD") == 0) {
		snprintf(why, whylen, "serial %s is revoked", hex);
		r = 1;
	} else if (n >= 4 && strcmp(hex + n - 4, "0BAD") == 0) {
		snprintf(why, whylen, "the ledger cannot be read");
		r = SIGNET_E_INTERNAL;
	}
	OPENSSL_free(der);
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

static void verify(STACK_OF(X509) * presented, enum chain_purpose purpose)
{
	struct chain_result res;
	struct errmsg em = {0};
	int calls = 0, r;

	r = chainverify(presented, anchors, purpose, revoked_by_serial, &calls, fuzz_now, &res,
			&em);
	/* a success has a path from the leaf up to the first anchor (at most one
	 * more than was presented: rpc_possession.c's buffers count on it), each
	 * certificate of it asked about */
	if (r == 0 &&
	    (sk_X509_num(res.path) < 1 || sk_X509_num(res.path) > CHAINVERIFY_MAX_CERTS + 1 ||
	     X509_cmp(sk_X509_value(res.path, 0), sk_X509_value(presented, 0)) != 0 ||
	     calls != sk_X509_num(res.path)))
		abort();
	if (r != 0 && (res.path != NULL || em.text[0] == '\0'))
		abort();
	chain_result_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *presented = NULL;
	struct errmsg em = {0};

	fuzz_setup_once();
	if (certparse_many(data, size, CHAINVERIFY_MAX_CERTS, &presented, &em) != 0)
		return 0;
	for (int purpose = CHAIN_CLIENT; purpose <= CHAIN_ANY; purpose++)
		verify(presented, (enum chain_purpose)purpose);
	sk_X509_pop_free(presented, X509_free);
	ERR_clear_error();
	return 0;
}
