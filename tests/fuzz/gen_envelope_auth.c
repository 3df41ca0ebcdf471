/*
 * Writes the seeds of fuzz_envelope_auth: the envelopes of corpus/envelope/
 * (one request of each method, unsigned) signed as each client of
 * auth_fixture.h with the client MAC (proto/authmac.h), as libsignet signs
 * them, stamped just before the target's fixed clock; and envelopes that
 * authentication must refuse (refused-*: stale, ahead, a wrong secret, an
 * altered payload, a replayed nonce...).
 *
 *   gen_envelope_auth tests/fuzz/corpus/envelope tests/fuzz/corpus/envelope_auth
 *
 * Deterministic: nonces and request ids come from the file and client names,
 * so rerunning it rewrites the same bytes.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "auth_fixture.h"
#include "authmac.h"
#include "wire.h"

#define GEN_MAX_INPUT (1 << 20)

struct seed_opts {
	const char *client;	/* the name in the credential; NULL: none */
	const char *secret_hex; /* what it is signed with */
	int64_t stamp_ms;
	size_t nonce_len;
	int alter_payload; /* flip a payload byte after signing */
	int warmup_nonce;  /* the nonce the target's history used already */
};

static int hex_bytes(const char *hex, uint8_t *out, size_t *len)
{
	const char *why;

	return authmac_secret_parse(hex, strlen(hex), out, len, &why);
}

/* Deterministic bytes for a nonce or request id: SHA-256 of a label. */
static void derive(const char *label, const char *name, uint8_t *out, size_t len)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	char in[512];

	snprintf(in, sizeof(in), "%s/%s", label, name);
	SHA256((const uint8_t *)in, strlen(in), md);
	for (size_t i = 0; i < len; i++)
		out[i] = md[i % sizeof(md)] ^ (uint8_t)(i / sizeof(md));
}

static int write_seed(const char *dir, const char *name, const Signet__V1__Envelope *in,
		      const struct seed_opts *o)
{
	Signet__V1__Envelope env = *in;
	Signet__V1__Credential cr = SIGNET__V1__CREDENTIAL__INIT;
	uint8_t rid[WIRE_REQUEST_ID_LEN], nonce[64], mac[AUTHMAC_LEN], key[AUTHMAC_SECRET_MAX];
	uint8_t *buf = NULL, *payload = NULL;
	size_t key_len = 0, len;
	char path[4096];
	FILE *f;
	int r = -1;

	derive("request-id", name, rid, sizeof(rid));
	if (o->warmup_nonce)
		memset(nonce, 'W', sizeof(nonce));
	else
		derive("nonce", name, nonce, o->nonce_len);
	env.request_id.data = rid;
	env.request_id.len = sizeof(rid);
	env.credential = NULL;
	if (o->client != NULL) {
		struct authmac_input mi = {.method = env.method,
					   .request_id = rid,
					   .request_id_len = sizeof(rid),
					   .client = o->client,
					   .timestamp_ms = (uint64_t)o->stamp_ms,
					   .nonce = nonce,
					   .nonce_len = o->nonce_len,
					   .payload = env.payload.data,
					   .payload_len = env.payload.len};

		if (hex_bytes(o->secret_hex, key, &key_len) != 0 ||
		    authmac_compute(key, key_len, &mi, mac) != 0)
			goto out;
		cr.client = (char *)o->client;
		cr.timestamp_ms = (uint64_t)o->stamp_ms;
		cr.nonce.data = nonce;
		cr.nonce.len = o->nonce_len;
		cr.mac.data = mac;
		cr.mac.len = sizeof(mac);
		env.credential = &cr;
	}
	if (o->alter_payload) { /* the last byte flipped, or one added */
		if ((payload = calloc(1, env.payload.len + 1)) == NULL)
			goto out;
		memcpy(payload, env.payload.data, env.payload.len);
		if (env.payload.len > 0)
			payload[env.payload.len - 1] ^= 1;
		else
			env.payload.len = 1;
		env.payload.data = payload;
	}
	len = protobuf_c_message_get_packed_size(&env.base);
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		goto out;
	protobuf_c_message_pack(&env.base, buf);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		goto out;
	r = fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		r = -1;
out:
	if (r != 0)
		fprintf(stderr, "gen_envelope_auth: cannot write %s\n", name);
	free(buf);
	free(payload);
	return r;
}

static Signet__V1__Envelope *read_envelope(const char *path)
{
	static uint8_t data[GEN_MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t len;

	if (f == NULL)
		return NULL;
	len = fread(data, 1, sizeof(data), f);
	fclose(f);
	return (Signet__V1__Envelope *)protobuf_c_message_unpack(&signet__v1__envelope__descriptor,
								 NULL, len, data);
}

/* Each envelope signed by each client, a second before the clock. */
static int sign_all(const char *name, const Signet__V1__Envelope *env, const char *out)
{
	char seed[512];
	int r = 0;

	for (size_t c = 0; c < FUZZ_AUTH_N_CLIENTS; c++) {
		struct seed_opts o = {.client = fuzz_auth_clients[c].name,
				      .secret_hex = fuzz_auth_clients[c].secret_hex,
				      .stamp_ms = FUZZ_AUTH_NOW_MS - 1000 - (int64_t)c,
				      .nonce_len = AUTHMAC_NONCE_LEN};

		snprintf(seed, sizeof(seed), "%s-%s", fuzz_auth_clients[c].name, name);
		r |= write_seed(out, seed, env, &o);
	}
	return r;
}

/* What authentication must refuse, each from the Health request. */
static int refusals(const Signet__V1__Envelope *env, const char *out)
{
	const struct fuzz_auth_client *op = &fuzz_auth_clients[0], *rd = &fuzz_auth_clients[3];
	const int64_t now = FUZZ_AUTH_NOW_MS, win = FUZZ_AUTH_WINDOW_S * 1000LL;
	const struct {
		const char *name;
		struct seed_opts o;
	} cases[] = {
		{"stale", {op->name, op->secret_hex, now - win - 5000, 16, 0, 0}},
		{"ahead", {op->name, op->secret_hex, now + win + 5000, 16, 0, 0}},
		{"reordered",
		 {op->name, op->secret_hex, now - FUZZ_AUTH_REORDER_S * 1000LL - 2000, 16, 0, 0}},
		{"wrong-secret", {op->name, rd->secret_hex, now - 1000, 16, 0, 0}},
		{"unknown-client", {"nobody", op->secret_hex, now - 1000, 16, 0, 0}},
		{"short-nonce", {op->name, op->secret_hex, now - 1000, 8, 0, 0}},
		{"long-nonce", {op->name, op->secret_hex, now - 1000, 65, 0, 0}},
		{"altered-payload", {op->name, op->secret_hex, now - 1000, 16, 1, 0}},
		{"replayed-nonce", {op->name, op->secret_hex, now - 500, 16, 0, 1}},
		{"anonymous", {NULL, NULL, 0, 16, 0, 0}},
	};
	char seed[128];
	int r = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(seed, sizeof(seed), FUZZ_AUTH_REFUSED_PREFIX "%s", cases[i].name);
		r |= write_seed(out, seed, env, &cases[i].o);
	}
	return r;
}

int main(int argc, char **argv)
{
	char path[4096];
	struct dirent *e;
	DIR *d;
	int r = 0, n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s ENVELOPE_CORPUS OUT_DIR\n", argv[0]);
		return 2;
	}
	if ((d = opendir(argv[1])) == NULL) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		Signet__V1__Envelope *env;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		if ((env = read_envelope(path)) == NULL || env->credential != NULL) {
			/* a credential seed of corpus/envelope: not one to re-sign */
			if (env != NULL)
				protobuf_c_message_free_unpacked(&env->base, NULL);
			continue;
		}
		r |= sign_all(e->d_name, env, argv[2]);
		if (strcmp(e->d_name, "health") == 0)
			r |= refusals(env, argv[2]);
		protobuf_c_message_free_unpacked(&env->base, NULL);
		n++;
	}
	closedir(d);
	printf("signed %d envelopes as %zu clients into %s\n", n, FUZZ_AUTH_N_CLIENTS, argv[2]);
	return r != 0 || n == 0 ? 1 : 0;
}
