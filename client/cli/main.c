/* signet: the command-line client of signetd. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "help.h"

static void print_usage_error(const struct cli_args *args)
{
	const char *cmd = cli_command_name(args->cmd);

	fprintf(stderr, "signet: %s: %s\n", cli_status_name(CLI_E_USAGE), args->error);
	fprintf(stderr, "Try 'signet%s%s --help'.\n", cmd[0] != '\0' ? " " : "", cmd);
}

static int run(const struct cli_args *args)
{
	struct cli_ctx ctx = {.in = stdin, .out = stdout, .err = stderr};
	int r;

	/* A local command needs no endpoint: a bad one must not stop it. */
	if (cli_command_is_local(args->cmd) || (r = cli_connect(&ctx, args)) == 0)
		r = cli_run(&ctx, args);
	/* Buffered output can still fail (full disk, closed pipe). */
	if (r == 0 && fflush(stdout) != 0)
		r = cli_error(&ctx, CLI_E_IO, "cannot write to standard output");
	if (r != 0)
		fprintf(stderr, "signet: %s: %s\n", cli_status_name(r), ctx.msg);
	signet_close(ctx.client);
	return cli_exit_code(r);
}

int main(int argc, char **argv)
{
	struct cli_env env = {.endpoint = secure_getenv(SIGNET_ENDPOINT_ENV),
			      .client = secure_getenv(CLI_CLIENT_ENV),
			      .secret_file = secure_getenv(CLI_SECRET_FILE_ENV)};
	struct cli_args args;
	int r = cli_parse_env(argc, argv, &env, &args);
	int code = cli_exit_code(r);

	if (r == CLI_E_USAGE)
		print_usage_error(&args);
	else if (r != 0)
		fprintf(stderr, "signet: %s: %s\n", cli_status_name(r), signet_strerror(r));
	else if (args.help)
		fputs(cli_help(args.cmd), stdout);
	else if (args.version)
		printf("signet %s (protocol %d)\n", SIGNET_VERSION, SIGNET_PROTOCOL_VERSION);
	else
		code = run(&args);
	cli_args_free(&args);
	return code;
}
