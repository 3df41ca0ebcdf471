/* The one table of revocation reasons. */
#include "reason.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <signet/signet.h>

#include "signet.pb-c.h"

/* The public enum is the wire's numbering; a change to either breaks here. */
#define SAME_CODE(pub, wire)                                                                       \
	_Static_assert((int)SIGNET_REASON_##pub == (int)SIGNET__V1__REVOCATION_REASON__##wire,     \
		       #pub " differs between signet.h and signet.proto")
SAME_CODE(UNSPECIFIED, REVOCATION_REASON_UNSPECIFIED);
SAME_CODE(KEY_COMPROMISE, KEY_COMPROMISE);
SAME_CODE(CA_COMPROMISE, CA_COMPROMISE);
SAME_CODE(AFFILIATION_CHANGED, AFFILIATION_CHANGED);
SAME_CODE(SUPERSEDED, SUPERSEDED);
SAME_CODE(CESSATION_OF_OPERATION, CESSATION_OF_OPERATION);
SAME_CODE(CERTIFICATE_HOLD, CERTIFICATE_HOLD);
SAME_CODE(REMOVE_FROM_CRL, REMOVE_FROM_CRL);
SAME_CODE(PRIVILEGE_WITHDRAWN, PRIVILEGE_WITHDRAWN);
SAME_CODE(AA_COMPROMISE, AA_COMPROMISE);

/* RFC 5280's ASN.1 names; 7 has none. */
static const char *const names[] = {
	[SIGNET_REASON_UNSPECIFIED] = "unspecified",
	[SIGNET_REASON_KEY_COMPROMISE] = "keyCompromise",
	[SIGNET_REASON_CA_COMPROMISE] = "cACompromise",
	[SIGNET_REASON_AFFILIATION_CHANGED] = "affiliationChanged",
	[SIGNET_REASON_SUPERSEDED] = "superseded",
	[SIGNET_REASON_CESSATION_OF_OPERATION] = "cessationOfOperation",
	[SIGNET_REASON_CERTIFICATE_HOLD] = "certificateHold",
	[SIGNET_REASON_REMOVE_FROM_CRL] = "removeFromCRL",
	[SIGNET_REASON_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
	[SIGNET_REASON_AA_COMPROMISE] = "aACompromise",
};

#define N_CODES ((int)(sizeof(names) / sizeof(names[0])))

const char *reason_name(int code)
{
	return code >= 0 && code < N_CODES ? names[code] : NULL;
}

int reason_from_name(const char *name, int *code)
{
	if (name == NULL || code == NULL)
		return -1;
	for (int i = 0; i < N_CODES; i++) {
		if (names[i] != NULL && strcasecmp(name, names[i]) == 0) {
			*code = i;
			return 0;
		}
	}
	return -1;
}

int reason_valid(int code)
{
	return reason_name(code) != NULL && code != SIGNET_REASON_REMOVE_FROM_CRL;
}

const char *reason_list(const char *sep, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return out;
	out[0] = '\0';
	/* 1..N_CODES, where the last turn stands for 0: unspecified says least */
	for (int i = 1; i <= N_CODES; i++) {
		int code = i % N_CODES;

		if (!reason_valid(code))
			continue;
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o > 0 ? sep : "", names[code]);
		if (o >= outlen)
			break;
	}
	return out;
}
