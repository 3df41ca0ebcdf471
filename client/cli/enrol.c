/* 'enrol code', 'enrol cacerts' and the hidden 'enrol scep' and 'enrol est': the enrolment
 * doors (SCEP, EST). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hex.h"

int cli_cmd_enrol_code(struct cli_ctx *ctx, const struct cli_args *args)
{
	char *code = NULL;
	int64_t expires = 0;
	int r;

	if ((r = signet_create_enrolment_code(ctx->client, args->name, args->device_id, args->ttl,
					      &code, &expires)) != 0)
		return cli_client_error(ctx, r);
	cli_print_enrolment_code(ctx->out, code, expires);
	signet_free(code);
	return 0;
}

static const char *scep_status_name(enum signet_scep_status s)
{
	switch (s) {
	case SIGNET_SCEP_SUCCESS:
		return "SUCCESS";
	case SIGNET_SCEP_FAILURE:
		return "FAILURE";
	case SIGNET_SCEP_PENDING:
		return "PENDING";
	}
	return "UNKNOWN";
}

static const char *scep_fail_name(enum signet_scep_fail f)
{
	static const char *const names[] = {"none",	  "badAlg",  "badMessageCheck",
					    "badRequest", "badTime", "badCertId"};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

int cli_cmd_enrol_scep(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_buf msg = {0};
	struct signet_scep_reply *rep = NULL;
	int r;

	if ((r = cli_read_input(ctx, args->in, CLI_MAX_INPUT, &msg)) != 0)
		return r;
	if ((r = signet_scep_operation(ctx->client, args->name, msg.data, msg.len, "cli", &rep)) !=
	    0) {
		r = cli_client_error(ctx, r);
		goto out;
	}
	fprintf(ctx->out, "%s failInfo=%s txid=%s\n", scep_status_name(rep->pki_status),
		scep_fail_name(rep->fail_info),
		rep->transaction_id[0] != '\0' ? rep->transaction_id : "-");
	if (args->out != NULL)
		r = cli_write_output(ctx, args->out, rep->cert_rep.data, rep->cert_rep.len);
out:
	signet_scep_reply_free(rep);
	signet_buf_free(&msg);
	return r;
}

int cli_cmd_enrol_cacerts(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_enrolment_ca_certs *c = NULL;
	int r = 0;

	if ((r = signet_get_enrolment_ca_certs(ctx->client, args->name, &c)) != 0)
		return cli_client_error(ctx, r);
	for (size_t i = 0; i < c->n_capabilities; i++)
		fprintf(ctx->out, "%s\n", c->capabilities[i]);
	if (args->out != NULL)
		r = cli_write_output(ctx, args->out, c->pkcs7.data, c->pkcs7.len);
	signet_enrolment_ca_certs_free(c);
	return r;
}

/* What the TLS client would present, split into its certificates. */
static int est_chain(struct cli_ctx *ctx, const char *path, struct signet_buf **certs, size_t *n)
{
	struct signet_buf file = {0};
	int r;

	*certs = NULL;
	*n = 0;
	if (path == NULL)
		return 0;
	if ((r = cli_read_input(ctx, path, CLI_MAX_INPUT, &file)) != 0)
		return r;
	if ((r = cli_certs_split(file.data, file.len, certs, n)) != 0)
		r = cli_error(ctx, CLI_E_USAGE, "%s holds no PEM or DER certificate", path);
	signet_buf_free(&file);
	return r;
}

int cli_cmd_enrol_est(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_buf csr = {0}, *chain = NULL;
	struct signet_est_request req = {.code = args->code, .reenroll = args->reenroll};
	struct signet_est_reply *rep = NULL;
	uint8_t tls_unique[64];
	char *pem = NULL;
	size_t n = 0, tu = args->tls_unique != NULL ? strlen(args->tls_unique) : 0;
	int r;

	if (tu > 2 * sizeof(tls_unique) ||
	    (tu > 0 && hex_decode(args->tls_unique, tu, tls_unique, tu / 2) != 0))
		return cli_error(ctx, CLI_E_USAGE, "--tls-unique needs at most %zu bytes in hex",
				 sizeof(tls_unique));
	req.tls_unique = tls_unique;
	req.tls_unique_len = tu / 2;

	if ((r = cli_read_input(ctx, args->csr, CLI_MAX_INPUT, &csr)) != 0 ||
	    (r = est_chain(ctx, args->chain, &chain, &n)) != 0)
		goto out;
	req.csr = csr.data;
	req.csr_len = csr.len;
	req.peer_chain = chain;
	req.n_peer_chain = n;
	req.peer = "cli";
	if ((r = signet_est_enroll(ctx->client, args->name, &req, &rep)) != 0) {
		r = cli_client_error(ctx, r);
		goto out;
	}
	if (rep->retry_after_seconds != 0) {
		fprintf(ctx->out, "retry after %u seconds (manual)\n", rep->retry_after_seconds);
		goto out;
	}
	if ((r = cli_pem_encode("CERTIFICATE", rep->certificate.data, rep->certificate.len,
				&pem)) != 0) {
		r = cli_error(ctx, r, "cannot encode the certificate as PEM");
		goto out;
	}
	if (args->out != NULL)
		r = cli_write_output(ctx, args->out, pem, strlen(pem));
	else
		fputs(pem, ctx->out);
out:
	free(pem);
	for (size_t i = 0; chain != NULL && i < n; i++)
		signet_buf_free(&chain[i]);
	free(chain);
	signet_est_reply_free(rep);
	signet_buf_free(&csr);
	return r;
}
