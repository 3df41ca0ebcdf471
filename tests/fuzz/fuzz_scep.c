/*
 * Fuzz target: a pkiMessage as ScepOperation receives it from the gateway,
 * read and checked the way rpc/enrol.c does it, with a software RA key
 * standing in for the token's (pki/scep.c takes any EVP_PKEY).
 *
 * Input: the whole input is the message. scep_parse, then (when it did not
 * refuse) scep_verify and scep_decrypt with tests/fuzz/pki/scep-ra.{key,pem}
 * (make-scep-seeds.sh makes them and the seeds, which are encrypted to that
 * key), single DES allowed when the input's length is odd, so both paths of
 * the cipher check run; then the challengePassword of a decrypted CSR, and
 * the FAILURE or SUCCESS CertRep the request gets (SUCCESS: the RA's own
 * certificate stands in for the issued one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/scep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_PKI_DIR
#error "FUZZ_PKI_DIR: the directory of scep-ra.key and scep-ra.pem"
#endif

static EVP_PKEY *ra_key;
static X509 *ra_cert;

static void fuzz_cleanup(void)
{
	EVP_PKEY_free(ra_key);
	X509_free(ra_cert);
}

static void fuzz_setup_once(void)
{
	static int done;
	BIO *b;

	if (done)
		return;
	if ((b = BIO_new_file(FUZZ_PKI_DIR "/scep-ra.key", "r")) != NULL)
		ra_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if ((b = BIO_new_file(FUZZ_PKI_DIR "/scep-ra.pem", "r")) != NULL)
		ra_cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (ra_key == NULL || ra_cert == NULL) {
		fprintf(stderr, "fuzz_scep: cannot load %s/scep-ra.{key,pem}\n", FUZZ_PKI_DIR);
		abort();
	}
	atexit(fuzz_cleanup);
	done = 1;
}

/* The answer, as op_respond builds it; its bytes are not looked at. */
static void answer(const struct scep_request *req)
{
	struct scep_reply rep = {.status = SCEP_STATUS_FAILURE, .fail = req->fail};
	struct errmsg em = {0};
	uint8_t *der = NULL;
	size_t len = 0;

	if (req->fail == SCEP_FAIL_NONE && req->signer != NULL) {
		rep = (struct scep_reply){
			.status = SCEP_STATUS_SUCCESS, .fail = SCEP_FAIL_NONE, .cert = ra_cert};
	} else if (rep.fail == SCEP_FAIL_NONE) {
		rep.fail = SCEP_FAIL_BAD_REQUEST;
	}
	if (scep_certrep(req, &rep, ra_cert, ra_key, &der, &len, &em) == 0 && len == 0)
		abort(); /* a CertRep is never empty */
	OPENSSL_free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_request req;
	struct errmsg em = {0};
	char pw[256];

	fuzz_setup_once();
	if (scep_parse(data, size, &req, &em) != 0) {
		if (em.err != SIGNET_E_INVALID_ARGUMENT)
			abort(); /* unreadable input is INVALID_ARGUMENT, nothing else */
		scep_request_release(&req);
		ERR_clear_error();
		return 0;
	}
	if (req.fail == SCEP_FAIL_NONE && scep_verify(&req, &em) == 0 && req.fail == SCEP_FAIL_NONE)
		scep_decrypt(&req, ra_cert, ra_key, (int)(size & 1), &em);
	if (req.fail == SCEP_FAIL_NONE && req.csr != NULL)
		scep_challenge_password(req.csr, pw, sizeof(pw));
	answer(&req);
	scep_request_release(&req);
	ERR_clear_error();
	return 0;
}
