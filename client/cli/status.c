/* Exit codes and status names of the signet CLI. */
#include "status.h"

int cli_exit_code(int err)
{
	switch (err) {
	case SIGNET_OK:
		return CLI_EXIT_OK;
	case CLI_E_USAGE:
		return CLI_EXIT_USAGE;
	case CLI_E_AUDIT:
		return CLI_EXIT_AUDIT;
	case CLI_E_PARTIAL:
		return CLI_EXIT_PARTIAL;
	/* DEADLINE_EXCEEDED is what an absent daemon looks like over nanomsg. */
	case SIGNET_E_TRANSPORT:
	case SIGNET_E_PROTOCOL:
	case SIGNET_E_DEADLINE_EXCEEDED:
		return CLI_EXIT_TRANSPORT;
	default:
		break;
	}
	if (err < 0 && err >= SIGNET_E_UNAUTHENTICATED)
		return CLI_EXIT_STATUS_BASE - err;
	return CLI_EXIT_LOCAL;
}

const char *cli_status_name(int err)
{
	if (err == CLI_E_USAGE)
		return "USAGE";
	if (err == CLI_E_IO)
		return "IO";
	if (err == CLI_E_AUDIT)
		return "AUDIT";
	if (err == CLI_E_PARTIAL)
		return "PARTIAL";
	return signet_status_name(err);
}
