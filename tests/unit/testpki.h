/*
 * Software PKI for the unit tests, built with OpenSSL alone so that a test of
 * one daemon module does not rest on another (certbuild makes the daemon's
 * certificates; these are the fixtures it is tested against). P-256 keys,
 * SHA-256 signatures, 127-bit random serials, and the extensions RFC 5280
 * asks for: basicConstraints, keyUsage (both critical where they must be),
 * extendedKeyUsage, subjectAltName, SKI and AKI. Every helper fails the
 * running cmocka test when OpenSSL refuses. Include after <cmocka.h>.
 */
#ifndef SIGNET_TESTPKI_H
#define SIGNET_TESTPKI_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509v3.h>

struct testpki_spec {
	const char *cn;	      /* the subject is /CN=cn */
	EVP_PKEY *key;	      /* the certified key */
	X509 *issuer;	      /* NULL: self-signed with key */
	EVP_PKEY *issuer_key; /* signs when issuer is set */
	time_t not_before, not_after;
	int is_ca;
	int path_len;		   /* CA only; -1 for no limit */
	unsigned key_usage;	   /* KU_* bits; 0 = no extension */
	int eku;		   /* one NID, e.g. NID_client_auth; 0 = no extension */
	const GENERAL_NAMES *sans; /* may be NULL */
};

/* A fresh P-256 key. */
EVP_PKEY *testpki_key(void);

/* /CN=cn, to X509_NAME_free(). */
X509_NAME *testpki_name(const char *cn);

/* The certificate spec describes, signed; to X509_free(). */
X509 *testpki_cert(const struct testpki_spec *spec);

/*
 * OpenSSL's verdict on leaf under the trust anchor, with inter (may be NULL)
 * as an untrusted intermediate: 0 when it verifies, else the X509_V_ERR_*.
 * A crl (may be NULL) is checked for the leaf; purpose is an X509_PURPOSE_*,
 * or 0 for OpenSSL's default.
 */
int testpki_verify(X509 *anchor, X509 *inter, X509 *leaf, X509_CRL *crl, int purpose);

/* The certificate's serial in upper-case hex, as `openssl x509 -serial` prints it. */
void testpki_serial_hex(X509 *cert, char *out, size_t size);

/* The certificate in DER, to OPENSSL_free(); *len its size. */
unsigned char *testpki_der(X509 *cert, size_t *len);

/* The certificate in PEM, NUL-terminated, to free(); *len its size. */
char *testpki_pem(X509 *cert, size_t *len);

#endif
