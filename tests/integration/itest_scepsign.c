/*
 * The one step of a SCEP client that the openssl command line cannot do:
 * sign a pkcsPKIEnvelope (made by 'openssl cms -encrypt') into a pkiMessage
 * with the SCEP signed attributes (messageType, transactionID, senderNonce).
 *
 *   itest_scepsign ENVELOPE.der SIGNER.pem SIGNER.key MSGTYPE TXID OUT.der
 */
#include <stdio.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

static int add(CMS_SignerInfo *si, const char *oid, int type, const void *v, int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int ok = o != NULL && CMS_signed_add1_attr_by_OBJ(si, o, type, v, len);

	ASN1_OBJECT_free(o);
	return ok;
}

int main(int argc, char **argv)
{
	BIO *env = NULL, *out = NULL, *b;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	unsigned char nonce[16];
	int rc = 1;

	if (argc != 7) {
		fprintf(stderr, "usage: %s ENVELOPE SIGNER.pem SIGNER.key MSGTYPE TXID OUT\n",
			argv[0]);
		return 2;
	}
	if ((b = BIO_new_file(argv[2], "r")) != NULL)
		cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if ((b = BIO_new_file(argv[3], "r")) != NULL)
		key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	env = BIO_new_file(argv[1], "rb");
	if (cert == NULL || key == NULL || env == NULL || RAND_bytes(nonce, sizeof(nonce)) != 1)
		goto out;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY)) == NULL ||
	    (si = CMS_add1_signer(cms, cert, key, EVP_sha256(), CMS_BINARY)) == NULL ||
	    !add(si, "2.16.840.1.113733.1.9.2", V_ASN1_PRINTABLESTRING, argv[4],
		 (int)strlen(argv[4])) ||
	    !add(si, "2.16.840.1.113733.1.9.7", V_ASN1_PRINTABLESTRING, argv[5],
		 (int)strlen(argv[5])) ||
	    !add(si, "2.16.840.1.113733.1.9.5", V_ASN1_OCTET_STRING, nonce, sizeof(nonce)) ||
	    CMS_final(cms, env, NULL, CMS_BINARY) != 1 ||
	    (out = BIO_new_file(argv[6], "wb")) == NULL || !i2d_CMS_bio(out, cms))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		ERR_print_errors_fp(stderr);
	CMS_ContentInfo_free(cms);
	BIO_free(env);
	BIO_free(out);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
