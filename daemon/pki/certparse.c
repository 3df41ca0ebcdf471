#include "pki/certparse.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

static int is_pem(const uint8_t *data, size_t len)
{
	static const char tag[] = "-----BEGIN ";

	return memmem(data, len, tag, sizeof(tag) - 1) != NULL;
}

static int parse_pem(const uint8_t *data, size_t len, int max, STACK_OF(X509) * out)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509 *c;
	int r = 0;

	if (bio == NULL)
		return -1;
	ERR_clear_error();
	while (r == 0 && (c = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(out) >= max || !sk_X509_push(out, c)) {
			X509_free(c);
			r = -1;
		}
	}
	/* the loop ends at the first block that is not a certificate, or at the end */
	if (r == 0 && ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
		r = -1;
	BIO_free(bio);
	return r;
}

static int parse_der(const uint8_t *data, size_t len, int max, STACK_OF(X509) * out)
{
	const unsigned char *p = data, *end = data + len;

	while (p < end) {
		X509 *c = d2i_X509(NULL, &p, (long)(end - p));

		if (c == NULL)
			return -1;
		if (sk_X509_num(out) >= max || !sk_X509_push(out, c)) {
			X509_free(c);
			return -1;
		}
	}
	return 0;
}

int certparse_many(const uint8_t *data, size_t len, int max, STACK_OF(X509) * *out,
		   struct errmsg *em)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	int r;

	if (certs == NULL)
		return errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
	if (len > INT_MAX)
		r = -1;
	else if (len == 0)
		r = 0;
	else
		r = is_pem(data, len) ? parse_pem(data, len, max, certs)
				      : parse_der(data, len, max, certs);
	ERR_clear_error();
	if (r != 0) {
		sk_X509_pop_free(certs, X509_free);
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "expected up to %d X.509 certificates in PEM or DER", max);
	}
	*out = certs;
	return 0;
}

int certparse_one(const uint8_t *data, size_t len, const char *what, X509 **out, struct errmsg *em)
{
	STACK_OF(X509) *certs = NULL;

	if (len == 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "%s is missing", what);
	if (certparse_many(data, len, 2, &certs, em) != 0 || sk_X509_num(certs) != 1) {
		sk_X509_pop_free(certs, X509_free);
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "%s must be one X.509 certificate in PEM or DER", what);
	}
	*out = sk_X509_shift(certs);
	sk_X509_free(certs);
	return 0;
}

#define CERTPARSE_FILE_MAX (1024 * 1024)

int certparse_file(const char *path, int max, STACK_OF(X509) * *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	uint8_t *buf = malloc(CERTPARSE_FILE_MAX + 1);
	STACK_OF(X509) *certs = NULL;
	struct errmsg em = {0};
	size_t n;
	int r = -1;

	if (f == NULL || buf == NULL) {
		snprintf(err, errlen, "%s: %s", path,
			 f == NULL ? strerror(errno) : "out of memory");
		goto out;
	}
	n = fread(buf, 1, CERTPARSE_FILE_MAX + 1, f);
	if (ferror(f) || n > CERTPARSE_FILE_MAX)
		snprintf(err, errlen, "%s: unreadable or over 1 MiB", path);
	else if (certparse_many(buf, n, max, &certs, &em) != 0)
		snprintf(err, errlen, "%s: %s", path, em.text);
	else if (sk_X509_num(certs) == 0)
		snprintf(err, errlen, "%s: no certificate in it", path);
	else {
		*out = certs;
		certs = NULL; /* transferred */
		r = 0;
	}
out:
	sk_X509_pop_free(certs, X509_free);
	if (f != NULL)
		fclose(f);
	free(buf);
	return r;
}
