#include "pki/pem.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

char *pem_encode_many(const char *type, const ProtobufCBinaryData *ders, size_t n)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	int ok = bio != NULL;
	long len;

	for (size_t i = 0; ok && i < n; i++)
		ok = PEM_write_bio(bio, type, "", ders[i].data, (long)ders[i].len) > 0;
	if (ok) {
		len = BIO_get_mem_data(bio, &data);
		pem = malloc((size_t)len + 1);
		if (pem != NULL) {
			memcpy(pem, data, (size_t)len);
			pem[len] = '\0';
		}
	}
	BIO_free(bio);
	return pem;
}

char *pem_encode(const char *type, const uint8_t *der, size_t len)
{
	ProtobufCBinaryData blob = {len, (uint8_t *)der};

	return pem_encode_many(type, &blob, 1);
}
