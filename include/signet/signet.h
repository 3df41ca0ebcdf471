/*
 * libsignet: the client side of signetd.
 *
 * A process linking this library asks signetd to generate keys, sign data and
 * build requests with keys that stay inside the HSM. It never sees private key
 * material: everything that comes back is public (keys, CSRs, signatures).
 *
 * Conventions for every function below:
 *  - the return value is SIGNET_OK (0) or a negative enum signet_err;
 *  - outputs are written only on success and are owned by the caller, who
 *    releases them with the matching *_free() function (all accept NULL);
 *  - after a failure, signet_last_error(client) gives the daemon's message
 *    (or the local reason) for that call.
 *
 * A signet_client is not thread-safe: use one per thread (connections are
 * cheap, and signetd serves them in parallel).
 */
#ifndef SIGNET_SIGNET_H
#define SIGNET_SIGNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIGNET_PROTOCOL_VERSION 1

/* Endpoint used when neither an argument nor SIGNET_ENDPOINT names one. */
#define SIGNET_DEFAULT_ENDPOINT "ipc:///run/signet/signetd.sock"
#define SIGNET_ENDPOINT_ENV	"SIGNET_ENDPOINT"

/*
 * One error type for the whole project. The first group mirrors the wire
 * status codes (the value is minus the gRPC code); the second is local to the
 * client side (transport, memory, protocol violations by the peer).
 */
enum signet_err {
	SIGNET_OK = 0,
	SIGNET_E_CANCELLED = -1,
	SIGNET_E_UNKNOWN = -2,
	SIGNET_E_INVALID_ARGUMENT = -3,
	SIGNET_E_DEADLINE_EXCEEDED = -4,
	SIGNET_E_NOT_FOUND = -5,
	SIGNET_E_ALREADY_EXISTS = -6,
	SIGNET_E_PERMISSION_DENIED = -7,
	SIGNET_E_RESOURCE_EXHAUSTED = -8,
	SIGNET_E_FAILED_PRECONDITION = -9,
	SIGNET_E_ABORTED = -10,
	SIGNET_E_OUT_OF_RANGE = -11,
	SIGNET_E_UNIMPLEMENTED = -12,
	SIGNET_E_INTERNAL = -13,
	SIGNET_E_UNAVAILABLE = -14,
	SIGNET_E_DATA_LOSS = -15,
	SIGNET_E_UNAUTHENTICATED = -16,
	/* local errors */
	SIGNET_E_NOMEM = -100,	   /* out of memory */
	SIGNET_E_TRANSPORT = -101, /* could not reach or talk to signetd */
	SIGNET_E_PROTOCOL = -102,  /* signetd's reply was malformed */
};

/* Static English text for an error ("not found"). Never NULL. */
const char *signet_strerror(int err);
/* Status name as scripts see it ("NOT_FOUND", "TRANSPORT"). Never NULL. */
const char *signet_status_name(int err);

enum signet_key_alg {
	SIGNET_KEY_UNSPECIFIED = 0,
	SIGNET_KEY_EC_P256 = 1,
	SIGNET_KEY_EC_P384 = 2,
	SIGNET_KEY_RSA_2048 = 3,
	SIGNET_KEY_RSA_3072 = 4,
	SIGNET_KEY_RSA_4096 = 5,
};

/*
 * What a key's private half may do on the token (CKA_SIGN, CKA_DECRYPT,
 * CKA_UNWRAP, CKA_DERIVE): bits of signet_key_info.usage. Keys signetd makes
 * sign and nothing else; 0 means none, or a daemon too old to say.
 */
enum signet_key_usage {
	SIGNET_KEY_USAGE_SIGN = 1 << 0,
	SIGNET_KEY_USAGE_DECRYPT = 1 << 1,
	SIGNET_KEY_USAGE_UNWRAP = 1 << 2,
	SIGNET_KEY_USAGE_DERIVE = 1 << 3,
};

/* "p256", "p384", "rsa2048", ... and back; -1 / NULL when unknown. */
const char *signet_key_alg_name(enum signet_key_alg alg);
int signet_key_alg_from_name(const char *name, enum signet_key_alg *out);

enum signet_hash {
	SIGNET_HASH_DEFAULT = 0, /* SHA-384 for P-384 keys, SHA-256 otherwise */
	SIGNET_HASH_SHA256 = 1,
	SIGNET_HASH_SHA384 = 2,
	SIGNET_HASH_SHA512 = 3,
};

enum signet_sig_format {
	SIGNET_SIG_DEFAULT = 0,	  /* ECDSA_DER for EC keys, RSA_PKCS1 for RSA */
	SIGNET_SIG_ECDSA_DER = 1, /* ECDSA-Sig-Value, as `openssl dgst` verifies */
	SIGNET_SIG_ECDSA_RAW = 2, /* r || s, each padded to the field size */
	SIGNET_SIG_RSA_PKCS1 = 3, /* RSASSA-PKCS1-v1_5 */
	SIGNET_SIG_RSA_PSS = 4,	  /* RSASSA-PSS, MGF1(same hash), salt = hash length */
};

typedef struct signet_client signet_client;

/* A byte string returned by the daemon. Free with signet_buf_free(). */
struct signet_buf {
	uint8_t *data;
	size_t len;
};
void signet_buf_free(struct signet_buf *buf); /* frees data, zeroes the struct */

/*
 * Connect to signetd at `endpoint` (NULL: $SIGNET_ENDPOINT, else the
 * default). `timeout_ms` bounds every later call on this client (0: 30 s).
 * nanomsg connects lazily, so an absent daemon shows up as
 * SIGNET_E_UNAVAILABLE or SIGNET_E_DEADLINE_EXCEEDED on the first call.
 *
 * `endpoint` may list several signetd instances, separated by commas
 * ("ipc:///run/a.sock,tcp://10.0.0.2:7411"; white space around each is
 * ignored; at most 16, none twice): requests then go to each connected one in
 * turn, never to one that is not connected, and a request whose connection
 * breaks before the answer is sent again at once to another (see
 * docs/failover.md). SIGNET_E_INVALID_ARGUMENT for an empty element, too
 * many, a repeated or unusable address.
 */
int signet_connect(const char *endpoint, int timeout_ms, signet_client **out);
/*
 * The deadline of each later call on `client` (0: 30 s), all its attempts
 * together; it replaces signet_connect()'s `timeout_ms`. Set it before a call
 * to give that call its own deadline. SIGNET_E_INVALID_ARGUMENT for a NULL
 * client or a negative value.
 */
int signet_set_timeout(signet_client *client, int timeout_ms);
/*
 * How many more times (0, the default, to 10) a later call is sent when no
 * answer came within its share of the deadline (the deadline split evenly
 * over the attempts left) or the transport failed, and, with several
 * endpoints, when a signetd answered SIGNET_E_UNAVAILABLE. Each attempt
 * carries the call's request id and a fresh credential stamp. Only calls that
 * are safe to repeat are: those that change nothing (get/list calls, Health,
 * signet_sign(), signet_create_csr(), signet_verify_chain()) and
 * signet_sign_csr(), signet_sign_csr_batch() and
 * signet_issue_verification_certificate(), for which
 * signetd answers a request id it has recorded with the certificate it issued
 * then (across instances only if they share a ledger: docs/failover.md).
 * The others are sent once. SIGNET_E_INVALID_ARGUMENT above 10.
 */
int signet_set_retries(signet_client *client, unsigned retries);
void signet_close(signet_client *client);
/* Message of the last failed call on this client; "" if none. */
const char *signet_last_error(const signet_client *client);

/*
 * Authenticate every later request on `client` as `client_name` (1 to 64
 * characters of A-Z a-z 0-9 . _ -, as signetd's config declares it) with
 * `secret` (32 to 64 bytes): each envelope then carries a Credential with the
 * time, a fresh random nonce and an HMAC-SHA256 over the request. Without
 * one, requests carry no credential. The secret is copied (into OpenSSL's
 * secure heap if the application set one up) and wiped when replaced or by
 * signet_close(); the caller may wipe its own copy at once.
 * SIGNET_E_INVALID_ARGUMENT for a bad name or secret length, SIGNET_E_NOMEM;
 * on failure the client keeps the credential it had (or none).
 */
int signet_set_credential(signet_client *client, const char *client_name, const uint8_t *secret,
			  size_t secret_len);
/*
 * signet_set_credential() with the secret read from `secret_file`: 64 to 128
 * hex digits, white space around them ignored (`umask 077; openssl rand -hex
 * 32 > client.key` makes one). As ssh does with a private key, a file that
 * group or others have any access to (mode & 077) is refused: chmod 600 it.
 * SIGNET_E_NOT_FOUND when the file does not exist; SIGNET_E_PERMISSION_DENIED
 * when it is open to group or others, or may not be opened;
 * SIGNET_E_INVALID_ARGUMENT for a bad name, no file name, something other
 * than a regular file, a read error, or content that is not a secret (the
 * message never quotes it); SIGNET_E_NOMEM. Every copy read is wiped.
 */
int signet_load_credential(signet_client *client, const char *client_name, const char *secret_file);

/* GetInfo */
struct signet_info {
	char *daemon_version;
	uint32_t protocol_version;
	char *token_label;
	char *token_serial;
	char *token_model;
	char *token_manufacturer;
	uint64_t slot_id;
	enum signet_key_alg *key_algs;
	size_t n_key_algs;
	char **methods;
	size_t n_methods;
	uint32_t workers;
	uint64_t max_message_size;
	/* SignCsrBatch's limits (signet_sign_csr_batch); 0 from a daemon
	 * older than batches */
	uint32_t max_batch_csrs;
	uint64_t max_batch_bytes;
};
int signet_get_info(signet_client *client, struct signet_info **out);
void signet_info_free(struct signet_info *info);

/* Health: SIGNET_OK when the daemon serves and its token works. */
struct signet_health {
	int serving;	       /* 1 when serving */
	char token_state[128]; /* "ok" or what is wrong */
	uint64_t uptime_seconds;
};
int signet_health(signet_client *client, struct signet_health *out);

/* Keys. A key is named by its token label: 1-64 of [A-Za-z0-9._-]. */
struct signet_key_info {
	char *name;
	enum signet_key_alg alg;
	uint8_t *id; /* CKA_ID */
	size_t id_len;
	int sensitive;
	int extractable;
	uint8_t *spki_der; /* SubjectPublicKeyInfo; NULL in list results */
	size_t spki_len;
	char *spki_pem;	    /* NULL unless from signet_get_public_key() */
	unsigned int usage; /* enum signet_key_usage bits */
};
void signet_key_info_free(struct signet_key_info *key);

struct signet_key_list {
	struct signet_key_info *keys;
	size_t n_keys;
};
void signet_key_list_free(struct signet_key_list *list);

/* SIGNET_E_ALREADY_EXISTS if a key of that name exists. */
int signet_generate_key(signet_client *client, const char *name, enum signet_key_alg alg,
			struct signet_key_info **out);
/* What a new key is for; the numbers are the wire's (KeyPurpose). */
enum signet_key_purpose {
	SIGNET_KEY_PURPOSE_SIGN = 0, /* sign only (what signet_generate_key() makes) */
	/* a SCEP registration authority's key: RSA only; signs and decrypts (the
	 * envelopes requesters encrypt to its certificate), never unwraps or derives */
	SIGNET_KEY_PURPOSE_RA = 1,
};
/* signet_generate_key() for `purpose`; SIGNET_E_INVALID_ARGUMENT for an RA key
 * that is not RSA, or a purpose signetd does not know. */
int signet_generate_key_for(signet_client *client, const char *name, enum signet_key_alg alg,
			    enum signet_key_purpose purpose, struct signet_key_info **out);
/* SIGNET_E_NOT_FOUND if there is no such key. */
int signet_get_public_key(signet_client *client, const char *name, struct signet_key_info **out);
int signet_list_keys(signet_client *client, struct signet_key_list **out);
int signet_delete_key(signet_client *client, const char *name);

/* CreateCsr: a PKCS#10 request signed on the token by key `key`. */
struct signet_csr_params {
	const char *key;
	const char *subject; /* OpenSSL form: "/CN=device-1/O=Example" */
	const char *const *dns_names;
	size_t n_dns_names;
	const char *const *ip_addresses;
	size_t n_ip_addresses;
	const char *const *uris;
	size_t n_uris;
	const char *const *emails;
	size_t n_emails;
	enum signet_hash hash;
};
/* On success `der_out` holds the DER request; `pem_out` (optional) the PEM. */
int signet_create_csr(signet_client *client, const struct signet_csr_params *params,
		      struct signet_buf *der_out, char **pem_out);

/* SignNonce: sign `data` with key `key`. */
struct signet_sign_params {
	const char *key;
	const uint8_t *data;
	size_t len;
	int prehashed; /* 1: data is a digest of `hash`'s length; 0: a message */
	enum signet_hash hash;
	enum signet_sig_format format;
};
/* Optional `used_hash`/`used_format` report what the daemon chose. */
int signet_sign(signet_client *client, const struct signet_sign_params *params,
		struct signet_buf *sig_out, enum signet_hash *used_hash,
		enum signet_sig_format *used_format);

/*
 * SignNonceBatch: sign `n` inputs (1 to SIGNET_SIGN_BATCH_MAX) with key `key`
 * in one request: one round trip, one credential check and one audit line
 * for all of them, for callers that sign many challenges. Each input is
 * signed as signet_sign() signs it (all messages, or all digests); either
 * all are signed or none is. On success sigs_out[0..n-1] (the caller's
 * array) hold the signatures, each to signet_buf_free(). Retried like
 * signet_sign().
 */
#define SIGNET_SIGN_BATCH_MAX 1024
struct signet_sign_batch_params {
	const char *key;
	const uint8_t *const *data; /* n inputs */
	const size_t *lens;	    /* and their lengths */
	size_t n;
	int prehashed; /* 1: every input is a digest of `hash`'s length */
	enum signet_hash hash;
	enum signet_sig_format format;
};
int signet_sign_batch(signet_client *client, const struct signet_sign_batch_params *params,
		      struct signet_buf *sigs_out, enum signet_hash *used_hash,
		      enum signet_sig_format *used_format);

/*
 * Certificate authorities whose keys live on the token. A CA NAME is 1-60 of
 * [A-Za-z0-9._-]; its token key is "ca.<name>". signetd checks both.
 */
struct signet_ca_info {
	char *name;	   /* signet's name for the CA */
	char *key;	   /* its token key, "ca.<name>" ("caN.<name>" after re-keys) */
	char *subject;	   /* OpenSSL one-line form, "/CN=Example Root" */
	char *parent;	   /* the issuing signet CA; "" for a root */
	uint8_t *cert_der; /* the CA's certificate */
	size_t cert_len;
	int64_t not_before; /* Unix time */
	int64_t not_after;
	int path_len_limited; /* 1: basicConstraints carries pathLen */
	unsigned path_len;    /* meaningful when path_len_limited */
	uint8_t *serial;      /* big-endian */
	size_t serial_len;
	/* Added with the CA lifecycle calls; an older signetd leaves them empty/0. */
	struct signet_buf *external_chain; /* DER issuers outside signet, nearest first */
	size_t n_external_chain;	   /* 0 unless the CA was imported */
	unsigned key_generation;	   /* 1: the first key, +1 at every re-key; 0: unknown */
};
void signet_ca_info_free(struct signet_ca_info *ca);

struct signet_ca_list {
	struct signet_ca_info *cas;
	size_t n_cas;
};
void signet_ca_list_free(struct signet_ca_list *list);

struct signet_ca_params {
	const char *name;
	const char *parent; /* intermediates only: the signet CA that signs it */
	enum signet_key_alg alg;
	const char *subject;	/* "/CN=Example Root/O=Example" */
	unsigned validity_days; /* 0: the daemon's default (3650 root, 1825 intermediate) */
	int path_len;		/* -1: no pathLen constraint; else 0 or more */
	enum signet_hash hash;
};
/*
 * Create a CA key pair on the token and its certificate: self-signed for a
 * root, signed by `parent` for an intermediate (whose validity signetd clamps
 * to the parent's). `*out` describes the new CA, certificate included.
 * SIGNET_E_INVALID_ARGUMENT locally when name, subject (or an intermediate's
 * parent) is NULL or path_len is below -1; from signetd for a bad name,
 * subject or validity. SIGNET_E_ALREADY_EXISTS for a name in use;
 * intermediates: SIGNET_E_NOT_FOUND for an unknown parent,
 * SIGNET_E_FAILED_PRECONDITION when the parent's pathLen forbids another level.
 */
int signet_create_root_ca(signet_client *client, const struct signet_ca_params *params,
			  struct signet_ca_info **out);
int signet_create_intermediate_ca(signet_client *client, const struct signet_ca_params *params,
				  struct signet_ca_info **out);
/*
 * PEM of the CA's chain, the CA first and its root last; `*n_certs`
 * (optional) is how many certificates it holds. Free `*pem_out` with
 * signet_free(). SIGNET_E_NOT_FOUND if there is no such CA.
 */
int signet_get_ca_chain(signet_client *client, const char *name, char **pem_out, size_t *n_certs);
/* Every CA signetd keeps; an empty list when there is none. */
int signet_list_cas(signet_client *client, struct signet_ca_list **out);

/*
 * IssueVerificationCertificate: proof of possession of CA `ca` toward a cloud
 * registry (Azure IoT Hub/DPS "verify certificate", AWS IoT registration
 * code). signetd makes a throwaway P-256 key, discards its private half, and
 * has the CA's token key sign a CA:FALSE certificate whose subject is exactly
 * CN=`code`. `validity_days` 0 means the daemon's default (30); at most 365,
 * and never beyond the CA's own validity. On success `der_out` holds the
 * certificate as DER (free with signet_buf_free()) and `pem_out` (optional;
 * free with signet_free()) as PEM. SIGNET_E_INVALID_ARGUMENT locally when ca
 * or code is NULL; from signetd for a code that is not 1-64 of
 * [A-Za-z0-9._-] or a validity over 365 days (the message names the rule).
 * SIGNET_E_NOT_FOUND for an unknown CA; SIGNET_E_PROTOCOL when an OK reply
 * carries no certificate.
 */
int signet_issue_verification_certificate(signet_client *client, const char *ca, const char *code,
					  unsigned validity_days, struct signet_buf *der_out,
					  char **pem_out);

/*
 * CA lifecycle, step 1 of a sub-CA that an outside CA signs: a key on the
 * token and a PKCS#10 request for it asking for CA:TRUE and keyCertSign.
 * For a CA signetd does not hold yet it makes the key (`alg` is then
 * required; signetd answers SIGNET_E_INVALID_ARGUMENT without one) and
 * repeating the call returns a fresh request for the same key. For a CA it
 * holds, the request is for the CA's current key (renewal with the outside
 * CA): leave `alg` unspecified, and `subject` NULL with path_len -1 to keep
 * the CA's subject and pathLen.
 */
struct signet_ca_request_params {
	const char *name;
	enum signet_key_alg alg; /* a new CA's key; SIGNET_KEY_UNSPECIFIED otherwise */
	const char *subject;	 /* "/CN=Example Sub-CA/O=Example"; NULL: the held CA's */
	int path_len;		 /* asked for, the outside CA decides; -1: none */
	enum signet_hash hash;
};
/*
 * On success `der_out` holds the request as DER (free with signet_buf_free()),
 * `pem_out` and `key_out` (both optional; free with signet_free()) the PEM and
 * the key's label on the token. SIGNET_E_INVALID_ARGUMENT locally when name is
 * NULL or path_len is below -1; from signetd for a bad name, a pathLen over 32
 * or a new CA without subject or algorithm. SIGNET_E_FAILED_PRECONDITION when
 * the key exists with another algorithm; SIGNET_E_PROTOCOL when an OK reply
 * lacks the request (DER or PEM) or the key label.
 */
int signet_create_ca_request(signet_client *client, const struct signet_ca_request_params *params,
			     struct signet_buf *der_out, char **pem_out, char **key_out);
/*
 * Step 2: register the certificate `cert` (PEM or DER, sent as given) that the
 * outside CA returned for that request, with `chain` (optional: NULL and 0),
 * its issuers nearest first as concatenated PEM or DER. signetd checks that
 * it certifies the pending key (or, for a CA it holds, the current key: a
 * renewal), is a CA certificate allowed to sign certificates, is valid now,
 * and verifies up to a self-signed root in `chain` or to a CA signetd holds.
 * `*out` describes the CA, its outside issuers in `external_chain`.
 * SIGNET_E_INVALID_ARGUMENT locally when name or cert is missing or chain is
 * NULL with a length; from signetd for each failed check (the message says
 * which). SIGNET_E_FAILED_PRECONDITION when there is no pending key (no
 * request made) or the certificate is not valid now.
 */
int signet_import_ca_certificate(signet_client *client, const char *name, const uint8_t *cert,
				 size_t cert_len, const uint8_t *chain, size_t chain_len,
				 struct signet_ca_info **out);
/*
 * RenewCa: the same key and subject, a new certificate (new serial and
 * validity) from the same parent, self-signed for a root. What the CA issued
 * before keeps verifying. `validity_days` 0 keeps the current validity
 * length (at most 36500; clamped to the parent's). `previous_serial`
 * (optional; free with signet_buf_free()) gets the replaced certificate's
 * serial. SIGNET_E_INVALID_ARGUMENT locally when name is NULL; from signetd
 * for a validity over 36500 days. SIGNET_E_NOT_FOUND for an unknown CA;
 * SIGNET_E_FAILED_PRECONDITION for a CA an outside CA signed (renew it with
 * signet_create_ca_request() and signet_import_ca_certificate()).
 * SIGNET_E_PROTOCOL when an OK reply carries no certificate.
 */
int signet_renew_ca(signet_client *client, const char *name, unsigned validity_days,
		    enum signet_hash hash, struct signet_ca_info **out,
		    struct signet_buf *previous_serial);
/*
 * RekeyCa: a new token key (`alg`, or the current key's algorithm when
 * unspecified), the same subject, a new certificate; the old key and
 * certificate stay, so what they issued still verifies. For a root whose
 * pathLen allows a CA below it, `link_cert_der` (optional; free with
 * signet_buf_free()) gets the link certificate: the new root's key certified
 * by the old root, for relying parties that trust only the old root. For
 * other CAs its len is 0. Errors as signet_renew_ca(), and
 * SIGNET_E_FAILED_PRECONDITION when the new key's label is already taken on
 * the token (left by an interrupted re-key).
 */
int signet_rekey_ca(signet_client *client, const char *name, enum signet_key_alg alg,
		    unsigned validity_days, enum signet_hash hash, struct signet_ca_info **out,
		    struct signet_buf *link_cert_der);

/*
 * SignCsr: a certificate for `csr` (PKCS#10, PEM or DER) signed by signet CA
 * `ca` under profile `profile` ("device", "constrained-device", "server",
 * "intermediate", or one from signetd's config). signetd checks the CSR's
 * own signature (INVALID_ARGUMENT when it does not verify) and the profile's
 * rules (INVALID_ARGUMENT naming the rule; FAILED_PRECONDITION when the CA's
 * key does not suit the profile); NOT_FOUND for an unknown CA or profile.
 */
struct signet_issue_params {
	const char *ca;
	const char *profile;
	const uint8_t *csr;
	size_t csr_len;
	unsigned validity_days; /* 0: the profile's default */
	const char *subject;	/* replaces the CSR's, if the profile allows; NULL: keep */
	/* replace the CSR's SANs, if the profile allows; all empty: keep */
	const char *const *dns_names;
	size_t n_dns_names;
	const char *const *ip_addresses;
	size_t n_ip_addresses;
	const char *const *uris;
	size_t n_uris;
};
struct signet_issued {
	uint8_t *cert_der;
	size_t cert_len;
	char *cert_pem;
	char *chain_pem; /* the issuing CA first, its root last */
	size_t n_chain;
	uint8_t *serial; /* big-endian */
	size_t serial_len;
	int64_t not_before; /* Unix time */
	int64_t not_after;
};
void signet_issued_free(struct signet_issued *issued);
int signet_sign_csr(signet_client *client, const struct signet_issue_params *params,
		    struct signet_issued **out);

/*
 * SignCsrBatch: certificates for n CSRs of CA `ca` in one request, each item
 * a signet_sign_csr() of its own (its own profile, checks and overrides)
 * with its own outcome; signetd records every new certificate in one
 * commit before it answers. At most signet_info.max_batch_csrs items (256
 * by default) and max_batch_bytes of CSRs together (1 MiB by default) per
 * call; a batch over either, or n == 0, is refused whole
 * (SIGNET_E_INVALID_ARGUMENT, the message naming the limit), as is one
 * naming an unknown CA (SIGNET_E_NOT_FOUND) or a CA the client may not use
 * (SIGNET_E_PERMISSION_DENIED). Otherwise the call returns 0 and each item's
 * result says whether it was issued: a bad CSR, a profile refusal, a
 * profile the client may not use (SIGNET_E_PERMISSION_DENIED) fail that item
 * alone. SIGNET_E_UNAVAILABLE for the whole call when signetd could not
 * record the batch: nothing of it was issued.
 *
 * Request ids: each item's request_id is its key for idempotency. An item
 * whose id this client had recorded already is answered with the
 * certificate it got then (SIGNET_E_ALREADY_EXISTS if that was for another
 * key), so a batch sent again, whole or in part, issues nothing twice; and
 * the call is retried like signet_sign_csr() (signet_set_retries). An
 * all-zero request_id is replaced by a random one for this call; the id used
 * is in the item's result, for the caller to keep if it may resend. A
 * caller that must be idempotent across its own restarts sets the ids
 * itself, from what it asks for (the CLI uses the first 16 bytes of
 * SHA-256 over the CSR, CA and profile).
 */
struct signet_batch_item {
	const char *profile;
	const uint8_t *csr; /* PKCS#10, PEM or DER */
	size_t csr_len;
	uint8_t request_id[16]; /* all zero: a random one */
	unsigned validity_days; /* as in signet_issue_params */
	const char *subject;
	const char *const *dns_names;
	size_t n_dns_names;
	const char *const *ip_addresses;
	size_t n_ip_addresses;
	const char *const *uris;
	size_t n_uris;
};
struct signet_batch_issued {
	int status;		/* 0, or the enum signet_err this item failed with */
	char *message;		/* why it failed; "" when issued */
	uint8_t request_id[16]; /* the id it was sent under */
	uint8_t *cert_der;	/* when issued (status 0) */
	size_t cert_len;
	uint8_t *serial; /* big-endian */
	size_t serial_len;
	int64_t not_before; /* Unix time */
	int64_t not_after;
};
struct signet_batch_result {
	struct signet_batch_issued *items; /* n of them, in the order of the request's */
	size_t n_items;
	char *chain_pem; /* the CA's chain, the issuing CA first, its root last */
	size_t n_chain;
};
int signet_sign_csr_batch(signet_client *client, const char *ca,
			  const struct signet_batch_item *items, size_t n,
			  struct signet_batch_result **out);
/* NULL is fine. */
void signet_batch_result_free(struct signet_batch_result *result);

/*
 * Records: the ledger of what signet issued, revocation, CRLs.
 * The numbers are RFC 5280's CRLReason and the wire's (7 is unused).
 */
enum signet_revocation_reason {
	SIGNET_REASON_UNSPECIFIED = 0,
	SIGNET_REASON_KEY_COMPROMISE = 1,
	SIGNET_REASON_CA_COMPROMISE = 2,
	SIGNET_REASON_AFFILIATION_CHANGED = 3,
	SIGNET_REASON_SUPERSEDED = 4,
	SIGNET_REASON_CESSATION_OF_OPERATION = 5,
	SIGNET_REASON_CERTIFICATE_HOLD = 6,
	SIGNET_REASON_REMOVE_FROM_CRL = 8, /* delta CRLs only */
	SIGNET_REASON_PRIVILEGE_WITHDRAWN = 9,
	SIGNET_REASON_AA_COMPROMISE = 10,
};
/*
 * RFC 5280's names ("keyCompromise", "cACompromise", ...), and back, ignoring
 * case ("CACompromise" and "caCompromise" too); NULL / -1 when unknown.
 */
const char *signet_revocation_reason_name(enum signet_revocation_reason reason);
int signet_revocation_reason_from_name(const char *name, enum signet_revocation_reason *out);

/* One certificate signet issued, as its ledger holds it. Strings are never NULL. */
struct signet_issued_cert {
	char *ca;	      /* the signet CA that issued it */
	char *issuer_key;     /* the token key that signed it */
	char *serial;	      /* upper-case hex, as `openssl x509 -serial` prints it */
	char *subject;	      /* OpenSSL one-line form */
	char *sans;	      /* "DNS:a, IP:192.0.2.1", or "" */
	char *profile;	      /* "ca" for a CA certificate, "verification" for a verification one */
	uint8_t *spki_sha256; /* SHA-256 of the SubjectPublicKeyInfo */
	size_t spki_sha256_len;
	int64_t not_before; /* Unix time */
	int64_t not_after;
	char *caller; /* the client that asked */
	uint8_t *request_id;
	size_t request_id_len;
	int64_t issued_at;
	uint8_t *cert_der;
	size_t cert_len;
	int revoked; /* 1 when revoked; then the three below */
	int64_t revoked_at;
	enum signet_revocation_reason reason;
	int64_t invalidity_date; /* 0: none */
};
void signet_issued_cert_free(struct signet_issued_cert *cert);

struct signet_issued_list {
	struct signet_issued_cert *certs;
	size_t n_certs;
	char *next_page_token; /* "" on the last page */
};
void signet_issued_list_free(struct signet_issued_list *list);

enum signet_revoked_filter {
	SIGNET_REVOKED_ANY = 0,
	SIGNET_REVOKED_ONLY = 1,
	SIGNET_REVOKED_NOT = 2,
};

/* What ListIssued returns; the filters combine, NULL or 0 leaves one out. */
struct signet_ledger_filter {
	const char *ca;
	const char *profile;
	const char *subject_contains; /* case-insensitive */
	const char *serial;	      /* hex */
	int64_t valid_at;	      /* Unix time within the validity */
	enum signet_revoked_filter revoked;
	uint32_t page_size;	/* 0: signetd's default (100); at most 100 */
	const char *page_token; /* the previous page's next_page_token; NULL: the first page */
	int64_t expires_after;	/* notAfter at or after this Unix time */
	int64_t expires_before; /* notAfter before this Unix time ("expiring within 30 days") */
};
/*
 * One page of the ledger, oldest first; `filter` NULL lists everything. The
 * next page is asked for with `page_token` = the list's next_page_token, until
 * that is "". SIGNET_E_INVALID_ARGUMENT from signetd for a page_size over 100,
 * a serial that is not hex or a token it did not make; SIGNET_E_PROTOCOL when
 * an entry lacks its certificate or serial.
 */
int signet_list_issued(signet_client *client, const struct signet_ledger_filter *filter,
		       struct signet_issued_list **out);
/*
 * The certificate with serial `serial` (hex), or, with `serial` NULL, the
 * newest one for the public key whose SubjectPublicKeyInfo has SHA-256
 * `spki_sha256` (32 bytes). SIGNET_E_INVALID_ARGUMENT locally unless exactly
 * one is given; SIGNET_E_NOT_FOUND when the ledger has none;
 * SIGNET_E_PROTOCOL when the reply lacks the certificate or its serial.
 */
int signet_get_issued(signet_client *client, const char *serial, const uint8_t *spki_sha256,
		      struct signet_issued_cert **out);
/*
 * Revoke the certificate `serial` that CA `ca` issued (an intermediate's own
 * certificate is revoked by its parent); the CA's CRLs list it from then on.
 * `invalidity_date` is Unix time, 0 for none. `*out` (optional) is the
 * certificate's record after the revocation. SIGNET_E_INVALID_ARGUMENT
 * locally when ca or serial is NULL, the reason is not one of the enum or
 * invalidity_date is negative; from signetd for a serial that is not hex.
 * SIGNET_E_NOT_FOUND for an unknown CA or serial; SIGNET_E_FAILED_PRECONDITION
 * for a certificate another CA issued; SIGNET_E_ALREADY_EXISTS when it is
 * revoked already; SIGNET_E_PROTOCOL when an OK reply lacks the record.
 */
int signet_revoke(signet_client *client, const char *ca, const char *serial,
		  enum signet_revocation_reason reason, int64_t invalidity_date,
		  struct signet_issued_cert **out);
/*
 * GetCrl: a CRL signed now by CA `ca`'s key on the token, with the next CRL
 * number; `key` names an earlier key of the CA (after a re-key), NULL the
 * current one. `der_out` gets the DER (free with signet_buf_free()),
 * `pem_out` (optional; free with signet_free()) the PEM, `crl_number`
 * (optional) its cRLNumber. SIGNET_E_INVALID_ARGUMENT locally when ca is
 * NULL; SIGNET_E_NOT_FOUND for an unknown CA or key; SIGNET_E_PROTOCOL when
 * an OK reply lacks the DER (or the PEM asked for).
 */
int signet_get_crl(signet_client *client, const char *ca, const char *key,
		   struct signet_buf *der_out, char **pem_out, uint64_t *crl_number);

/*
 * Proof of possession, server side: a provisioning service asks signetd for a
 * challenge, the device signs its nonce with its private key (signet_sign()
 * for a key on a token, `openssl dgst -sign` for a key in a file), and
 * signetd checks the device's chain and signature.
 */
struct signet_challenge {
	char *id;	/* 32 hex digits; what signet_verify_possession() names */
	uint8_t *nonce; /* the bytes the device signs, as a message */
	size_t nonce_len;
	int64_t expires_at; /* Unix time */
};
void signet_challenge_free(struct signet_challenge *challenge);

/*
 * CreateChallenge: a fresh single-use nonce for the device whose leaf
 * certificate has CN `device_id`, or whose SubjectPublicKeyInfo has SHA-256
 * `spki_sha256` (32 bytes): exactly one of them, else
 * SIGNET_E_INVALID_ARGUMENT locally (so is an empty device_id). Only this
 * client's credential can use it. `ttl_seconds` 0 is signetd's default;
 * above its configured maximum is SIGNET_E_INVALID_ARGUMENT.
 * SIGNET_E_RESOURCE_EXHAUSTED when the caller, or signetd in all, has too
 * many challenges outstanding; SIGNET_E_PROTOCOL when an OK reply lacks the
 * id or the nonce.
 */
int signet_create_challenge(signet_client *client, const char *device_id,
			    const uint8_t *spki_sha256, unsigned ttl_seconds,
			    struct signet_challenge **out);

/* What a chain is checked for; the numbers are the wire's. */
enum signet_chain_purpose {
	SIGNET_PURPOSE_CLIENT = 0, /* a device, a TLS client: digitalSignature, clientAuth */
	SIGNET_PURPOSE_SERVER = 1, /* TLS server: serverAuth if any EKU */
	SIGNET_PURPOSE_CA = 2,	   /* the first certificate is itself a CA certificate */
	SIGNET_PURPOSE_ANY = 3,	   /* signatures, linkage, validity and CA constraints only */
};

/* What signetd verified. Strings are never NULL; path is never empty. */
struct signet_verified {
	char *device_id;	     /* the leaf's CN */
	uint8_t *leaf_spki_sha256;   /* SHA-256 of the leaf's SubjectPublicKeyInfo */
	size_t leaf_spki_sha256_len; /* 32 */
	char *leaf_serial;	     /* upper-case hex */
	char *leaf_ca;		     /* the signet CA that issued the leaf; "" for another CA */
	struct signet_buf *path;     /* DER, the leaf first, the trust anchor last */
	size_t n_path;
};
void signet_verified_free(struct signet_verified *verified);

/*
 * VerifyPossession: succeeds only if challenge `challenge_id` exists, is
 * unexpired and unused and was issued to this client; `chain` (the leaf
 * first, concatenated PEM or DER; intermediates included: signetd fills no
 * gap) verifies to a trust anchor for purpose client with revocation
 * checked; the leaf matches the challenge's device ID or fingerprint; and
 * `sig` over the nonce verifies with the leaf's key in `format` with `hash`
 * (DEFAULT: as signet_sign() chooses for the leaf's key). The challenge is
 * consumed either way. `*out` (may be NULL) gets what was verified.
 * SIGNET_E_INVALID_ARGUMENT locally when challenge_id, chain or sig is
 * missing or empty. From signetd, each failed check with its own status and
 * a message saying which (docs/cli.md lists them): SIGNET_E_NOT_FOUND for an
 * unknown challenge (or another caller's), SIGNET_E_FAILED_PRECONDITION for a
 * used or expired one, and others for the chain, the binding and the
 * signature. SIGNET_E_PROTOCOL when an OK reply lacks the verified chain,
 * its path, or a 32-byte fingerprint.
 */
int signet_verify_possession(signet_client *client, const char *challenge_id, const uint8_t *chain,
			     size_t chain_len, const uint8_t *sig, size_t sig_len,
			     enum signet_sig_format format, enum signet_hash hash,
			     struct signet_verified **out);
/*
 * VerifyChain: the chain check of signet_verify_possession() alone, for
 * `purpose`, refusing a path with a certificate the ledger has revoked when
 * `check_revocation` is not 0; `*out` (may be NULL) as there.
 * SIGNET_E_INVALID_ARGUMENT locally when chain is missing or empty or
 * purpose is not one of the enum. From signetd, a status and a message
 * naming the check that failed (docs/cli.md lists them). SIGNET_E_PROTOCOL
 * as signet_verify_possession().
 */
int signet_verify_chain(signet_client *client, const uint8_t *chain, size_t chain_len,
			enum signet_chain_purpose purpose, int check_revocation,
			struct signet_verified **out);

/*
 * Enrolment front ends (SCEP, served over HTTP by signet-gatewayd): an
 * enrolment is a door configured in signetd (enrolment.NAME in signetd.conf)
 * naming the CA and profile it issues under, the SCEP RA key and certificate,
 * and how requesters prove themselves. docs/scep.md.
 */
struct signet_enrolment_ca_certs {
	/* DER: the issuing CA first, then the RA certificate, then the rest of the chain */
	struct signet_buf *certificates;
	size_t n_certificates;
	struct signet_buf pkcs7; /* the same as a degenerate certs-only PKCS#7 (GetCACert) */
	char **capabilities;	 /* GetCACaps lines ("POSTPKIOperation", "AES", ...) */
	size_t n_capabilities;
};
void signet_enrolment_ca_certs_free(struct signet_enrolment_ca_certs *certs);

/*
 * GetEnrolmentCaCerts: what SCEP GetCACert and GetCACaps answer for
 * enrolment `enrolment`. SIGNET_E_INVALID_ARGUMENT locally when enrolment is
 * NULL or empty; SIGNET_E_NOT_FOUND for an unknown enrolment;
 * SIGNET_E_PROTOCOL when an OK reply lacks a certificate or the PKCS#7.
 */
int signet_get_enrolment_ca_certs(signet_client *client, const char *enrolment,
				  struct signet_enrolment_ca_certs **out);

/* SCEP pkiStatus and failInfo; the numbers are the wire's (and RFC 8894's). */
enum signet_scep_status {
	SIGNET_SCEP_SUCCESS = 0,
	SIGNET_SCEP_FAILURE = 2,
	SIGNET_SCEP_PENDING = 3,
};
enum signet_scep_fail {
	SIGNET_SCEP_FAIL_NONE = 0,
	SIGNET_SCEP_FAIL_BAD_ALG = 1,
	SIGNET_SCEP_FAIL_BAD_MESSAGE_CHECK = 2,
	SIGNET_SCEP_FAIL_BAD_REQUEST = 3,
	SIGNET_SCEP_FAIL_BAD_TIME = 4,
	SIGNET_SCEP_FAIL_BAD_CERT_ID = 5,
};
struct signet_scep_reply {
	struct signet_buf cert_rep; /* DER CertRep pkiMessage, signed by the RA key */
	char *transaction_id;	    /* the request's transactionID; "" when unreadable */
	enum signet_scep_status pki_status;
	enum signet_scep_fail fail_info; /* SIGNET_SCEP_FAIL_NONE unless FAILURE */
};
void signet_scep_reply_free(struct signet_scep_reply *reply);

/*
 * ScepOperation: the raw pkiMessage `message` (DER, as the SCEP client sent
 * it) through enrolment `enrolment`; `peer` (optional) is the HTTP peer's
 * address, for the audit trail. Whatever SCEP can express (a bad signature,
 * a wrong challenge, DES content, a replayed transactionID with another CSR)
 * is SIGNET_OK with a FAILURE CertRep and its failInfo. SIGNET_E_INVALID_ARGUMENT
 * for a message that is no pkiMessage at all (not DER, truncated, not a
 * SignedData); SIGNET_E_NOT_FOUND for an unknown enrolment;
 * SIGNET_E_UNAVAILABLE on token or ledger trouble; SIGNET_E_PROTOCOL when an
 * OK reply lacks the CertRep.
 */
int signet_scep_operation(signet_client *client, const char *enrolment, const uint8_t *message,
			  size_t message_len, const char *peer, struct signet_scep_reply **out);

/*
 * CreateEnrolmentCode (admin): a single-use challengePassword for enrolment
 * `enrolment` (one with challenge = "codes"), bound to `device_id` when it is
 * not NULL or empty (the CSR's CN must equal it), living `ttl_seconds` (0:
 * the default). `*code_out` (free with signet_free()) gets the code,
 * `*expires_at` (optional) its Unix expiry. SIGNET_E_NOT_FOUND for an
 * unknown enrolment; SIGNET_E_FAILED_PRECONDITION for one with a static
 * challenge.
 */
int signet_create_enrolment_code(signet_client *client, const char *enrolment,
				 const char *device_id, unsigned ttl_seconds, char **code_out,
				 int64_t *expires_at);

/* EST (RFC 7030, served over HTTPS by signet-gatewayd): docs/est.md. */
struct signet_est_request {
	const uint8_t *csr; /* DER PKCS#10 as the client sent it */
	size_t csr_len;
	/* the TLS client's chain as presented, DER, leaf first; NULL/0: none */
	const struct signet_buf *peer_chain;
	size_t n_peer_chain;
	const char *code;	   /* HTTP Basic password: a single-use enrolment code, or NULL */
	const char *username;	   /* HTTP Basic user name, or NULL */
	int reenroll;		   /* nonzero: /simplereenroll */
	const uint8_t *tls_unique; /* TLS 1.2 tls-unique; NULL/0 under TLS 1.3 */
	size_t tls_unique_len;
	const char *peer; /* the HTTP peer's address, for the audit trail, or NULL */
};
struct signet_est_reply {
	struct signet_buf certificate; /* DER; empty when retry_after_seconds is set */
	struct signet_buf pkcs7;       /* certs-only PKCS#7 (DER) holding it */
	unsigned retry_after_seconds;  /* nonzero: manual profile, answer 202 + Retry-After */
};
void signet_est_reply_free(struct signet_est_reply *reply);

/*
 * EstEnroll: /simpleenroll (or /simplereenroll with req->reenroll) through
 * enrolment `enrolment`. On SIGNET_OK, *out (free with
 * signet_est_reply_free()) holds the certificate and its PKCS#7, or a nonzero
 * retry_after_seconds and no certificate. SIGNET_E_INVALID_ARGUMENT locally
 * for a NULL/empty enrolment or CSR, and from signetd for a CSR that does not
 * parse or verify, the profile's refusal, a challengePassword that is not the
 * channel's tls-unique; SIGNET_E_UNAUTHENTICATED for no chain to the
 * bootstrap anchors and no valid code; SIGNET_E_PERMISSION_DENIED for a
 * re-enrolment with another subject or CA, a revoked or expired certificate;
 * SIGNET_E_NOT_FOUND for an unknown enrolment (or one that is not EST);
 * SIGNET_E_UNAVAILABLE on token or ledger trouble; SIGNET_E_PROTOCOL when an
 * OK reply lacks both the certificate and a retry time.
 */
int signet_est_enroll(signet_client *client, const char *enrolment,
		      const struct signet_est_request *req, struct signet_est_reply **out);

/*
 * GetEnrolmentCsrAttrs: /csrattrs of enrolment `enrolment`. *der_out (free
 * with signet_free(); NULL with *der_len 0 when the door asks for none) gets
 * the DER CsrAttrs (RFC 7030 4.5.2). SIGNET_E_NOT_FOUND for an unknown
 * enrolment or one that is not EST.
 */
int signet_get_enrolment_csr_attrs(signet_client *client, const char *enrolment, uint8_t **der_out,
				   size_t *der_len);

/* Free a string returned by this library. */
void signet_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif /* SIGNET_SIGNET_H */
