/*
 * The proof-of-possession commands: 'challenge create' hands out a nonce for a
 * device to sign, 'challenge verify' has signetd check the device's chain and
 * signature, 'verify-chain' the chain alone.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Largest signature file read; an RSA-4096 signature is 512 bytes. */
#define CLI_MAX_SIG (64 * 1024)

/* The line first: the challenge exists even when --nonce-out FILE cannot be written. */
int cli_cmd_challenge_create(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_challenge *c = NULL;
	int r;

	if ((r = signet_create_challenge(ctx->client, args->device_id,
					 args->has_fingerprint ? args->fingerprint : NULL,
					 args->ttl, &c)) != 0)
		return cli_client_error(ctx, r);
	cli_print_challenge(ctx->out, c);
	if (args->nonce_out != NULL)
		r = cli_write_output(ctx, args->nonce_out, c->nonce, c->nonce_len);
	signet_challenge_free(c);
	return r;
}

/* A file that must hold something, read before signetd is asked; nothing on failure. */
static int read_nonempty(struct cli_ctx *ctx, const char *path, size_t max, const char *what,
			 struct signet_buf *out)
{
	int r;

	if ((r = cli_read_input(ctx, path, max, out)) != 0)
		return r;
	if (out->len > 0)
		return 0;
	signet_buf_free(out);
	return cli_error(ctx, CLI_E_IO, "the %s file '%s' is empty", what, path);
}

int cli_cmd_challenge_verify(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_buf chain = {0}, sig = {0};
	struct signet_verified *v = NULL;
	int r;

	/* Local input first: a missing file must not consume the challenge. */
	if ((r = read_nonempty(ctx, args->chain, CLI_MAX_CERT, "chain", &chain)) != 0 ||
	    (r = read_nonempty(ctx, args->sig, CLI_MAX_SIG, "signature", &sig)) != 0)
		goto out;
	if ((r = signet_verify_possession(ctx->client, args->name, chain.data, chain.len, sig.data,
					  sig.len, args->format, args->hash, &v)) != 0)
		cli_client_error(ctx, r);
	else
		cli_print_verified(ctx->out, v);
out:
	signet_verified_free(v);
	signet_buf_free(&chain);
	signet_buf_free(&sig);
	return r;
}

/* The path as concatenated PEM, leaf first, as 'ca chain' writes a chain. */
static int path_pem(const struct signet_verified *v, char **out)
{
	char *all = NULL, *pem = NULL, *grown;
	size_t len = 0, n;
	int r = 0;

	for (size_t i = 0; i < v->n_path && r == 0; i++) {
		if ((r = cli_pem_encode("CERTIFICATE", v->path[i].data, v->path[i].len, &pem)) != 0)
			break;
		n = strlen(pem);
		if ((grown = realloc(all, len + n + 1)) == NULL) {
			r = SIGNET_E_NOMEM;
		} else {
			memcpy(grown + len, pem, n + 1);
			all = grown;
			len += n;
		}
		free(pem);
		pem = NULL;
	}
	if (r != 0) {
		free(all);
		return r;
	}
	*out = all;
	return 0;
}

static int write_path(struct cli_ctx *ctx, const char *path, const struct signet_verified *v)
{
	char *pem = NULL;
	int r;

	if ((r = path_pem(v, &pem)) != 0)
		return cli_error(ctx, r, "cannot encode the verified path as PEM");
	r = cli_write_output(ctx, path, pem, strlen(pem));
	free(pem);
	return r;
}

/* The line first, as 'ca create-root' reports before writing --out FILE. */
int cli_cmd_verify_chain(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_buf chain = {0};
	struct signet_verified *v = NULL;
	int r;

	if ((r = read_nonempty(ctx, args->chain, CLI_MAX_CERT, "chain", &chain)) != 0)
		return r;
	if ((r = signet_verify_chain(ctx->client, chain.data, chain.len, args->purpose,
				     args->check_revocation, &v)) != 0) {
		cli_client_error(ctx, r);
	} else {
		cli_print_verified(ctx->out, v);
		if (args->path_out != NULL)
			r = write_path(ctx, args->path_out, v);
	}
	signet_verified_free(v);
	signet_buf_free(&chain);
	return r;
}
