#include "hsm/p11.h"

#include <stdio.h>

struct rv_name {
	CK_RV rv;
	const char *name;
};

#define RV(x)                                                                                      \
	{                                                                                          \
		x, #x                                                                              \
	}
static const struct rv_name rv_names[] = {
	RV(CKR_OK),
	RV(CKR_CANCEL),
	RV(CKR_HOST_MEMORY),
	RV(CKR_SLOT_ID_INVALID),
	RV(CKR_GENERAL_ERROR),
	RV(CKR_FUNCTION_FAILED),
	RV(CKR_ARGUMENTS_BAD),
	RV(CKR_ATTRIBUTE_READ_ONLY),
	RV(CKR_ATTRIBUTE_SENSITIVE),
	RV(CKR_ATTRIBUTE_TYPE_INVALID),
	RV(CKR_ATTRIBUTE_VALUE_INVALID),
	RV(CKR_DATA_INVALID),
	RV(CKR_DATA_LEN_RANGE),
	RV(CKR_DEVICE_ERROR),
	RV(CKR_DEVICE_MEMORY),
	RV(CKR_DEVICE_REMOVED),
	RV(CKR_FUNCTION_NOT_SUPPORTED),
	RV(CKR_KEY_HANDLE_INVALID),
	RV(CKR_KEY_SIZE_RANGE),
	RV(CKR_KEY_TYPE_INCONSISTENT),
	RV(CKR_KEY_FUNCTION_NOT_PERMITTED),
	RV(CKR_MECHANISM_INVALID),
	RV(CKR_MECHANISM_PARAM_INVALID),
	RV(CKR_OBJECT_HANDLE_INVALID),
	RV(CKR_OPERATION_ACTIVE),
	RV(CKR_OPERATION_NOT_INITIALIZED),
	RV(CKR_PIN_INCORRECT),
	RV(CKR_PIN_INVALID),
	RV(CKR_PIN_LEN_RANGE),
	RV(CKR_PIN_EXPIRED),
	RV(CKR_PIN_LOCKED),
	RV(CKR_SESSION_CLOSED),
	RV(CKR_SESSION_COUNT),
	RV(CKR_SESSION_HANDLE_INVALID),
	RV(CKR_SESSION_READ_ONLY),
	RV(CKR_SESSION_EXISTS),
	RV(CKR_SIGNATURE_INVALID),
	RV(CKR_SIGNATURE_LEN_RANGE),
	RV(CKR_TEMPLATE_INCOMPLETE),
	RV(CKR_TEMPLATE_INCONSISTENT),
	RV(CKR_TOKEN_NOT_PRESENT),
	RV(CKR_TOKEN_NOT_RECOGNIZED),
	RV(CKR_TOKEN_WRITE_PROTECTED),
	RV(CKR_USER_ALREADY_LOGGED_IN),
	RV(CKR_USER_NOT_LOGGED_IN),
	RV(CKR_USER_PIN_NOT_INITIALIZED),
	RV(CKR_USER_TYPE_INVALID),
	RV(CKR_BUFFER_TOO_SMALL),
	RV(CKR_CRYPTOKI_NOT_INITIALIZED),
	RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
};
#undef RV

const char *p11_rv_name(CK_RV rv, char *buf, size_t buflen)
{
	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	snprintf(buf, buflen, "CKR_0x%08lx", (unsigned long)rv);
	return buf;
}

/* Per thread: each worker reads back only its own request's failures. */
static _Thread_local CK_RV p11_last_failure = CKR_OK;

CK_RV p11_take_failure(void)
{
	CK_RV rv = p11_last_failure;

	p11_last_failure = CKR_OK;
	return rv;
}

int p11_err(CK_RV rv)
{
	if (rv != CKR_OK)
		p11_last_failure = rv;
	switch (rv) {
	case CKR_OK:
		return SIGNET_OK;
	case CKR_DEVICE_REMOVED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_PIN_EXPIRED:
	case CKR_PIN_LOCKED:
	/* The token failed without saying why: its fault, not the request's,
	 * and another signetd (or a retry) may well succeed. */
	case CKR_GENERAL_ERROR:
	case CKR_FUNCTION_FAILED:
		return SIGNET_E_UNAVAILABLE;
	case CKR_KEY_HANDLE_INVALID:
	case CKR_OBJECT_HANDLE_INVALID:
		return SIGNET_E_NOT_FOUND;
	case CKR_DATA_INVALID:
	case CKR_DATA_LEN_RANGE:
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_KEY_SIZE_RANGE:
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
		return SIGNET_E_INVALID_ARGUMENT;
	case CKR_HOST_MEMORY:
	case CKR_DEVICE_MEMORY:
	case CKR_SESSION_COUNT:
		return SIGNET_E_RESOURCE_EXHAUSTED;
	case CKR_TOKEN_WRITE_PROTECTED:
		return SIGNET_E_FAILED_PRECONDITION;
	default:
		return SIGNET_E_INTERNAL;
	}
}

int p11_fail(struct errmsg *em, CK_RV rv, const char *what)
{
	char buf[32];

	return errmsg_set(em, p11_err(rv), "%s: %s", what, p11_rv_name(rv, buf, sizeof(buf)));
}
