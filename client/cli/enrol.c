/* 'enrol code', 'enrol cacerts' and the hidden 'enrol scep': the enrolment doors (SCEP). */
#include <stdio.h>

#include "cli.h"

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
