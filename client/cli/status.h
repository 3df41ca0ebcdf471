/*
 * What the CLI tells scripts: its own local error codes, their names, and the
 * exit code for every error (documented in docs/cli.md; scripts rely on it).
 */
#ifndef SIGNET_CLI_STATUS_H
#define SIGNET_CLI_STATUS_H

#include <signet/signet.h>

/* Failures that happen in the CLI itself, beside enum signet_err. */
enum cli_err {
	CLI_E_USAGE = -200,   /* bad command line */
	CLI_E_IO = -201,      /* a local file or stream failed */
	CLI_E_AUDIT = -202,   /* 'audit verify': the audit log's chain is broken */
	CLI_E_PARTIAL = -203, /* 'issue --batch': some inputs were not issued */
};

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_LOCAL = 1,	   /* local failure: files, memory */
	CLI_EXIT_USAGE = 2,	   /* bad command line */
	CLI_EXIT_TRANSPORT = 3,	   /* could not talk to signetd */
	CLI_EXIT_AUDIT = 4,	   /* the audit log does not verify */
	CLI_EXIT_PARTIAL = 5,	   /* 'issue --batch': some inputs not issued (see the manifest) */
	CLI_EXIT_STATUS_BASE = 10, /* + the gRPC status signetd answered */
};

/* Exit code for `err` (0, an enum signet_err or an enum cli_err). */
int cli_exit_code(int err);
/* "NOT_FOUND", "TRANSPORT", "USAGE", "IO", "AUDIT", "PARTIAL", ... Never NULL. */
const char *cli_status_name(int err);

#endif
