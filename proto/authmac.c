#include "authmac.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hex.h"

/*
 * OpenSSL 3 looks an algorithm up by name on every implicit fetch (and HMAC's
 * "digest" parameter is one); on a path taken by every request on both
 * sides, those lookups cost more than the HMAC itself. So SHA-256 is fetched
 * once, and each MAC starts as a copy of an unkeyed HMAC-SHA256 context made
 * once. Both are only read after that, which OpenSSL allows from any thread.
 */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_alg;
static EVP_MAC_CTX *hmac_template;

static void fetch_algorithms(void)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
			       OSSL_PARAM_construct_end()};

	sha256_alg = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (mac != NULL && (hmac_template = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_CTX_set_params(hmac_template, params) != 1) {
		EVP_MAC_CTX_free(hmac_template);
		hmac_template = NULL;
	}
	EVP_MAC_free(mac); /* the context holds its own reference */
}

/* An HMAC-SHA256 context, not yet keyed; NULL on failure. */
static EVP_MAC_CTX *hmac_sha256_new(void)
{
	if (pthread_once(&fetch_once, fetch_algorithms) != 0 || hmac_template == NULL ||
	    sha256_alg == NULL)
		return NULL;
	return EVP_MAC_CTX_dup(hmac_template);
}

static int put_field(EVP_MAC_CTX *ctx, const void *data, size_t len)
{
	uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len};

	return EVP_MAC_update(ctx, be, sizeof(be)) == 1 &&
	       (len == 0 || EVP_MAC_update(ctx, data, len) == 1);
}

static int put_fields(EVP_MAC_CTX *ctx, const struct authmac_input *in)
{
	static const char version[] = "signet-auth-v1";
	uint8_t payload_hash[32];
	unsigned int hlen = 0;
	char ts[24];

	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)in->timestamp_ms);
	if (EVP_Digest(in->payload, in->payload_len, payload_hash, &hlen, sha256_alg, NULL) != 1)
		return 0;
	return put_field(ctx, version, sizeof(version) - 1) &&
	       put_field(ctx, in->method, strlen(in->method)) &&
	       put_field(ctx, in->request_id, in->request_id_len) &&
	       put_field(ctx, in->client, strlen(in->client)) && put_field(ctx, ts, strlen(ts)) &&
	       put_field(ctx, in->nonce, in->nonce_len) &&
	       put_field(ctx, payload_hash, sizeof(payload_hash));
}

int authmac_compute(const uint8_t *secret, size_t secret_len, const struct authmac_input *in,
		    uint8_t out[AUTHMAC_LEN])
{
	EVP_MAC_CTX *ctx = hmac_sha256_new();
	size_t len = 0;
	int ok = ctx != NULL && EVP_MAC_init(ctx, secret, secret_len, NULL) == 1 &&
		 put_fields(ctx, in) && EVP_MAC_final(ctx, out, &len, AUTHMAC_LEN) == 1 &&
		 len == AUTHMAC_LEN;

	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

int authmac_verify(const uint8_t *secret, size_t secret_len, const struct authmac_input *in,
		   const uint8_t *mac, size_t mac_len)
{
	uint8_t want[AUTHMAC_LEN];
	int ok = mac_len == AUTHMAC_LEN && authmac_compute(secret, secret_len, in, want) == 0 &&
		 CRYPTO_memcmp(want, mac, AUTHMAC_LEN) == 0;

	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

int authmac_secret_parse(const char *text, size_t len, uint8_t *out, size_t *out_len,
			 const char **why)
{
	size_t start = 0, end = len, n;

	while (start < end && isspace((unsigned char)text[start]))
		start++;
	while (end > start && isspace((unsigned char)text[end - 1]))
		end--;
	n = end - start;
	if (n % 2 != 0 || n / 2 < AUTHMAC_SECRET_MIN || n / 2 > AUTHMAC_SECRET_MAX) {
		*why = "a client secret is 64 to 128 hex digits (256 to 512 bits)";
		return -1;
	}
	if (hex_decode(text + start, n, out, AUTHMAC_SECRET_MAX) != 0) {
		OPENSSL_cleanse(out, n / 2);
		*why = "a client secret holds hex digits only";
		return -1;
	}
	*out_len = n / 2;
	return 0;
}
