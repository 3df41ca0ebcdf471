/* signetd statuses to HTTP statuses. */
#include "status.h"

#include <signet/signet.h>

int status_http(int err)
{
	switch (err) {
	case SIGNET_OK:
		return 200;
	case SIGNET_E_INVALID_ARGUMENT:
		return 400;
	case SIGNET_E_NOT_FOUND:
		return 404;
	case SIGNET_E_PERMISSION_DENIED:
	case SIGNET_E_UNAUTHENTICATED:
		return 403;
	case SIGNET_E_RESOURCE_EXHAUSTED:
		return 429;
	/* a token or ledger in trouble, or no signetd: worth a retry later */
	case SIGNET_E_UNAVAILABLE:
	case SIGNET_E_DEADLINE_EXCEEDED:
	case SIGNET_E_TRANSPORT:
		return 503;
	default:
		return 500;
	}
}
