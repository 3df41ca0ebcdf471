/* The caller's credential: set, loaded from a secret file, stamped on each envelope. */
#include "credential.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "client.h"

void credential_free(struct credential *cred)
{
	OPENSSL_secure_clear_free(cred, sizeof(*cred));
}

static int credential_check_name(signet_client *client, const char *name)
{
	char rule[NAME_RULE_MAX];

	if (!name_valid(name, CREDENTIAL_NAME_MAX))
		return client_error(
			client, SIGNET_E_INVALID_ARGUMENT, "%s",
			name_rule("client names", CREDENTIAL_NAME_MAX, rule, sizeof(rule)));
	return 0;
}

int signet_set_credential(signet_client *client, const char *client_name, const uint8_t *secret,
			  size_t secret_len)
{
	struct credential *cred;
	int r;

	if (client == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = credential_check_name(client, client_name)) != 0)
		return r;
	if (secret == NULL || secret_len < AUTHMAC_SECRET_MIN || secret_len > AUTHMAC_SECRET_MAX)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a client secret is %d to %d bytes", AUTHMAC_SECRET_MIN,
				    AUTHMAC_SECRET_MAX);
	if ((cred = OPENSSL_secure_zalloc(sizeof(*cred))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	memcpy(cred->client, client_name, strlen(client_name) + 1);
	memcpy(cred->secret, secret, secret_len);
	cred->secret_len = secret_len;
	credential_free(client->cred);
	client->cred = cred; /* transferred */
	return 0;
}

static int credential_open_error(signet_client *client, const char *path, int e)
{
	int err = SIGNET_E_INVALID_ARGUMENT;

	if (e == ENOENT || e == ENOTDIR)
		err = SIGNET_E_NOT_FOUND;
	else if (e == EACCES || e == EPERM)
		err = SIGNET_E_PERMISSION_DENIED;
	return client_error(client, err, "cannot open secret file '%s': %s", path, strerror(e));
}

/* Like ssh with a private key: a secret others can read is no longer a secret. */
static int credential_check_file(signet_client *client, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return credential_open_error(client, path, errno);
	if (!S_ISREG(st.st_mode))
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "secret file '%s' is not a regular file", path);
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return client_error(client, SIGNET_E_PERMISSION_DENIED,
				    "secret file '%s' is open to group or others (mode %04o): "
				    "chmod 600 it",
				    path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The whole file into `text` (CREDENTIAL_FILE_MAX); the caller wipes it. */
static int credential_read_fd(signet_client *client, int fd, const char *path, char *text,
			      size_t *len)
{
	ssize_t n;

	*len = 0;
	while ((n = read(fd, text + *len, CREDENTIAL_FILE_MAX - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return client_error(client, SIGNET_E_INVALID_ARGUMENT,
					    "cannot read secret file '%s': %s", path,
					    strerror(errno));
		*len += (size_t)n;
		if (*len == CREDENTIAL_FILE_MAX)
			return client_error(client, SIGNET_E_INVALID_ARGUMENT,
					    "secret file '%s' is too large for a secret", path);
	}
	return 0;
}

static int credential_read_file(signet_client *client, const char *path, char *text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd < 0)
		return credential_open_error(client, path, errno);
	if ((r = credential_check_file(client, fd, path)) == 0)
		r = credential_read_fd(client, fd, path, text, len);
	close(fd);
	return r;
}

int signet_load_credential(signet_client *client, const char *client_name, const char *secret_file)
{
	char text[CREDENTIAL_FILE_MAX];
	uint8_t secret[AUTHMAC_SECRET_MAX];
	size_t text_len = 0, secret_len = 0;
	const char *why = NULL;
	int r;

	if (client == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = credential_check_name(client, client_name)) != 0)
		return r;
	if (secret_file == NULL || secret_file[0] == '\0')
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no secret file given");
	if ((r = credential_read_file(client, secret_file, text, &text_len)) != 0)
		goto out;
	if (authmac_secret_parse(text, text_len, secret, &secret_len, &why) != 0) {
		r = client_error(client, SIGNET_E_INVALID_ARGUMENT, "secret file '%s': %s",
				 secret_file, why);
		goto out;
	}
	r = signet_set_credential(client, client_name, secret, secret_len);
out:
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(secret, sizeof(secret));
	return r;
}

static int credential_now_ms(uint64_t *ms)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return -1;
	*ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return 0;
}

/* The MAC over exactly what the envelope carries. */
static int credential_mac(const struct credential *cred, const Signet__V1__Envelope *env,
			  struct credential_stamp *stamp)
{
	struct authmac_input in = {
		.method = env->method,
		.request_id = env->request_id.data,
		.request_id_len = env->request_id.len,
		.client = cred->client,
		.timestamp_ms = stamp->msg.timestamp_ms,
		.nonce = stamp->nonce,
		.nonce_len = sizeof(stamp->nonce),
		.payload = env->payload.data,
		.payload_len = env->payload.len,
	};

	return authmac_compute(cred->secret, cred->secret_len, &in, stamp->mac);
}

int credential_stamp(signet_client *client, Signet__V1__Envelope *env,
		     struct credential_stamp *stamp)
{
	static const Signet__V1__Credential init = SIGNET__V1__CREDENTIAL__INIT;
	const struct credential *cred = client->cred;

	if (cred == NULL)
		return 0;
	stamp->msg = init;
	if (credential_now_ms(&stamp->msg.timestamp_ms) != 0)
		return client_error(client, SIGNET_E_INTERNAL, "cannot read the clock");
	if (RAND_bytes(stamp->nonce, sizeof(stamp->nonce)) != 1)
		return client_error(client, SIGNET_E_INTERNAL, "cannot draw a request nonce");
	if (credential_mac(cred, env, stamp) != 0)
		return client_error(client, SIGNET_E_INTERNAL, "cannot compute the request MAC");
	stamp->msg.client = (char *)cred->client;
	stamp->msg.nonce = (ProtobufCBinaryData){sizeof(stamp->nonce), stamp->nonce};
	stamp->msg.mac = (ProtobufCBinaryData){sizeof(stamp->mac), stamp->mac};
	env->credential = &stamp->msg;
	return 0;
}
