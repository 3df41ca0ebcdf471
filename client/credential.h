/*
 * libsignet internals: the caller's credential (client name and secret) and
 * the stamp it puts on every envelope. proto/authmac.h defines the MAC.
 */
#ifndef SIGNET_CREDENTIAL_H
#define SIGNET_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include <signet/signet.h>

#include "authmac.h"
#include "namerule.h"
#include "signet.pb-c.h"

#define CREDENTIAL_NAME_MAX NAME_CLIENT_MAX /* what signetd's config allows */
/* Largest secret file read: 128 hex digits and a little white space fit many times. */
#define CREDENTIAL_FILE_MAX 1024

/* Lives in OpenSSL's secure heap when the application set one up. */
struct credential {
	char client[CREDENTIAL_NAME_MAX + 1];
	uint8_t secret[AUTHMAC_SECRET_MAX];
	size_t secret_len;
};

/* One envelope's Credential; msg points into the struct itself. */
struct credential_stamp {
	Signet__V1__Credential msg;
	uint8_t nonce[AUTHMAC_NONCE_LEN];
	uint8_t mac[AUTHMAC_LEN];
};

/* Wipe and free; NULL is fine. */
void credential_free(struct credential *cred);

/*
 * When `client` has a credential, fill `stamp` for `env` (method, request_id
 * and payload already set) and point env->credential at it; otherwise leave
 * env alone. SIGNET_E_INTERNAL (with the client's last error) when the
 * clock, the random generator or the MAC fails.
 */
int credential_stamp(signet_client *client, Signet__V1__Envelope *env,
		     struct credential_stamp *stamp);

#endif
