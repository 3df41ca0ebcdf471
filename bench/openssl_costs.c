/*
 * What OpenSSL itself costs per step of an issuance, in this process, on one
 * CPU: the floor under signetd's SignCsr whatever signetd does around it.
 *
 *   signet-bench-openssl [--rounds N]
 *
 * Prints one JSON object on stdout: microseconds per call of parsing a P-256
 * CSR (d2i_X509_REQ), checking its signature, X509_set_pubkey (which signetd
 * avoids by copying the CSR's key bytes), a software ECDSA signature over a
 * certificate, checking that signature, and parsing a certificate.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "latency.h"

struct subject {
	EVP_PKEY *key;
	const unsigned char *req_der, *cert_der;
	int req_len, cert_len;
	X509_REQ *req; /* parsed */
	X509 *cert;
};

static void parse_csr(struct subject *s)
{
	const unsigned char *p = s->req_der;

	X509_REQ_free(d2i_X509_REQ(NULL, &p, s->req_len));
}

static void verify_csr(struct subject *s)
{
	X509_REQ_verify(s->req, X509_REQ_get0_pubkey(s->req));
}

static void set_pubkey(struct subject *s)
{
	X509_set_pubkey(s->cert, s->key);
}

static void sign_cert(struct subject *s)
{
	X509_sign(s->cert, s->key, EVP_sha256());
}

static void verify_cert(struct subject *s)
{
	X509_verify(s->cert, s->key);
}

static void parse_cert(struct subject *s)
{
	const unsigned char *p = s->cert_der;

	X509_free(d2i_X509(NULL, &p, s->cert_len));
}

/* Microseconds per call of fn, over `rounds` calls. */
static double time_us(void (*fn)(struct subject *), struct subject *s, int rounds)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < rounds; i++)
		fn(s);
	return (double)(now_ns() - t0) / 1e3 / rounds;
}

static X509 *self_signed(EVP_PKEY *key, X509_NAME *name)
{
	X509 *c = X509_new();

	if (c == NULL || !X509_set_version(c, X509_VERSION_3) || !X509_set_subject_name(c, name) ||
	    !X509_set_issuer_name(c, name) || !X509_set_pubkey(c, key) ||
	    X509_gmtime_adj(X509_getm_notBefore(c), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(c), 86400) == NULL ||
	    X509_sign(c, key, EVP_sha256()) <= 0) {
		X509_free(c);
		return NULL;
	}
	return c;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"rounds", required_argument, NULL, 'r'},
						 {NULL, 0, NULL, 0}};
	int rounds = 2000, opt, r = 1;
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *req_der = NULL, *cert_der = NULL;
	const unsigned char *p;
	struct subject s = {.key = EVP_EC_gen("P-256")};

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt != 'r' || (rounds = atoi(optarg)) < 1) {
			fprintf(stderr, "usage: signet-bench-openssl [--rounds N]\n");
			return 2;
		}
	}
	if (s.key == NULL || req == NULL || name == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"dev-1",
					-1, -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, s.key) ||
	    X509_REQ_sign(req, s.key, EVP_sha256()) <= 0 ||
	    (s.req_len = i2d_X509_REQ(req, &req_der)) <= 0 ||
	    (s.cert = self_signed(s.key, name)) == NULL ||
	    (s.cert_len = i2d_X509(s.cert, &cert_der)) <= 0) {
		fprintf(stderr, "signet-bench-openssl: cannot set up\n");
		goto out;
	}
	s.req_der = req_der;
	s.cert_der = cert_der;
	p = req_der;
	if ((s.req = d2i_X509_REQ(NULL, &p, s.req_len)) == NULL)
		goto out;
	printf("{\"version\":\"%s\",\"parse_csr_us\":%.1f,\"verify_csr_us\":%.1f,"
	       "\"set_pubkey_us\":%.1f,\"software_sign_us\":%.1f,\"verify_cert_us\":%.1f,"
	       "\"parse_cert_us\":%.1f}\n",
	       OpenSSL_version(OPENSSL_VERSION_STRING), time_us(parse_csr, &s, rounds),
	       time_us(verify_csr, &s, rounds), time_us(set_pubkey, &s, rounds),
	       time_us(sign_cert, &s, rounds), time_us(verify_cert, &s, rounds),
	       time_us(parse_cert, &s, rounds));
	r = 0;
out:
	OPENSSL_free(req_der);
	OPENSSL_free(cert_der);
	X509_REQ_free(s.req);
	X509_REQ_free(req);
	X509_free(s.cert);
	X509_NAME_free(name);
	EVP_PKEY_free(s.key);
	return r;
}
