/* signetd's answers as PKCS#11 return values, and the debug log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "p11.h"

CK_RV p11_errmap(int signet_err)
{
	switch (signet_err) {
	case SIGNET_OK:
		return CKR_OK;
	case SIGNET_E_NOT_FOUND:
		/* the key went away under a handle the caller holds */
		return CKR_KEY_HANDLE_INVALID;
	case SIGNET_E_PERMISSION_DENIED:
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	case SIGNET_E_UNAUTHENTICATED:
		/* our credential is refused: a login would not help */
		return CKR_USER_NOT_LOGGED_IN;
	case SIGNET_E_INVALID_ARGUMENT:
	case SIGNET_E_OUT_OF_RANGE:
		return CKR_DATA_INVALID;
	case SIGNET_E_FAILED_PRECONDITION:
		return CKR_KEY_TYPE_INCONSISTENT;
	case SIGNET_E_UNIMPLEMENTED:
		return CKR_MECHANISM_INVALID;
	case SIGNET_E_NOMEM:
		return CKR_HOST_MEMORY;
	case SIGNET_E_RESOURCE_EXHAUSTED:
		/* signetd's per-client limit: the caller may try again */
		return CKR_DEVICE_MEMORY;
	case SIGNET_E_CANCELLED:
		return CKR_FUNCTION_CANCELED;
	case SIGNET_E_UNAVAILABLE:
	case SIGNET_E_DEADLINE_EXCEEDED:
	case SIGNET_E_TRANSPORT:
	case SIGNET_E_PROTOCOL:
	case SIGNET_E_INTERNAL:
	case SIGNET_E_DATA_LOSS:
	case SIGNET_E_ABORTED:
	case SIGNET_E_ALREADY_EXISTS:
	case SIGNET_E_UNKNOWN:
	default:
		return CKR_DEVICE_ERROR;
	}
}

void p11_log(const char *fmt, ...)
{
	const char *dbg = getenv("SIGNET_PKCS11_DEBUG");
	va_list ap;

	if (dbg == NULL || *dbg == '\0')
		return;
	va_start(ap, fmt);
	fputs("libsignet-pkcs11: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
