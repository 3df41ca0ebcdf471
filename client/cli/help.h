/* --help texts of the signet CLI, one per command (docs/cli.md says the same). */
#ifndef SIGNET_CLI_HELP_H
#define SIGNET_CLI_HELP_H

#include "args.h"

/* The help for `cmd` (CLI_CMD_NONE: the overview). Never NULL. */
const char *cli_help(enum cli_command cmd);

#endif
