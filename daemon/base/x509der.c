#include "base/x509der.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

/* What the ex_data slot holds. */
struct kept {
	size_t len;
	unsigned char der[];
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int slot = -1;

static void kept_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	OPENSSL_free(ptr);
}

/* A copy of an X509 (X509_dup) encodes its own DER again: nothing to copy. */
static int kept_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
		    long argl, void *argp)
{
	(void)to, (void)from, (void)idx, (void)argl, (void)argp;
	*from_d = NULL;
	return 1;
}

static void make_slot(void)
{
	slot = X509_get_ex_new_index(0, NULL, NULL, kept_dup, kept_free);
}

static struct kept *kept_of(X509 *cert)
{
	pthread_once(&once, make_slot);
	return slot >= 0 ? X509_get_ex_data(cert, slot) : NULL;
}

int x509der_keep(X509 *cert)
{
	unsigned char *der = NULL;
	struct kept *k;
	int n;

	pthread_once(&once, make_slot);
	if (slot < 0 || (n = i2d_X509(cert, &der)) <= 0)
		return -1;
	k = OPENSSL_malloc(sizeof(*k) + (size_t)n);
	if (k != NULL) {
		k->len = (size_t)n;
		memcpy(k->der, der, (size_t)n);
	}
	OPENSSL_free(der);
	if (k == NULL)
		return -1;
	OPENSSL_free(X509_get_ex_data(cert, slot));
	if (!X509_set_ex_data(cert, slot, k)) {
		OPENSSL_free(k);
		return -1;
	}
	return 0;
}

int x509der(X509 *cert, unsigned char **out)
{
	struct kept *k = kept_of(cert);

	*out = NULL;
	if (k == NULL)
		return i2d_X509(cert, out);
	if ((*out = OPENSSL_memdup(k->der, k->len)) == NULL)
		return -1;
	return (int)k->len;
}

const unsigned char *x509der_peek(X509 *cert, size_t *len)
{
	struct kept *k = kept_of(cert);

	*len = k != NULL ? k->len : 0;
	return k != NULL ? k->der : NULL;
}
