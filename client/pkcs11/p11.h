/*
 * libsignet-pkcs11: a PKCS#11 v2.40 module whose tokens are signetd
 * endpoints. Shared types of its modules; nothing here leaves the .so.
 *
 * Every function of this module returns a CK_RV: it is the error domain of
 * the interface it implements, and signetd's errors are mapped into it once,
 * in errmap.c.
 */
#ifndef SIGNET_P11_H
#define SIGNET_P11_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

#include "signet/signet.h"

#define P11_MAX_SLOTS 16
#define P11_MAX_KEYS  256 /* keys read from an explicit `keys` list or ListKeys */

/* One attribute of an object: its type and its DER/native value bytes. */
struct p11_attr {
	CK_ATTRIBUTE_TYPE type;
	uint8_t *val;
	size_t len;
};

/* A token object: a private key, a public key or a certificate. */
struct p11_object {
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE key_type; /* for keys */
	char *key_name;	      /* signetd's name of the key */
	size_t sig_len;	      /* private keys: the signature's length, r||s or modulus */
	struct p11_attr *attrs;
	size_t n_attrs;
};

/* What a key's SubjectPublicKeyInfo gives its PKCS#11 attributes. */
struct p11_keyattrs {
	CK_KEY_TYPE key_type; /* CKK_EC or CKK_RSA */
	uint8_t *ec_params;   /* DER OID of the curve */
	size_t ec_params_len;
	uint8_t *ec_point; /* DER OCTET STRING of the uncompressed point */
	size_t ec_point_len;
	uint8_t *modulus; /* big-endian, no leading zero */
	size_t modulus_len;
	uint8_t *exponent;
	size_t exponent_len;
	CK_ULONG bits;	/* curve or modulus size */
	size_t sig_len; /* ECDSA r||s or RSA signature length */
};

/* The module's configuration (config.c). */
struct p11_config {
	char *endpoints[P11_MAX_SLOTS]; /* one slot each; an element may be a failover list */
	size_t n_endpoints;
	char *client;	   /* NULL: requests carry no credential */
	char *secret_file; /* with client */
	char *label;	   /* token label: slot 0's, "<label>-N" for slot N; default "signet" */
	char **keys;	   /* NULL: every key ListKeys shows (that GetPublicKey allows) */
	size_t n_keys;
	int timeout_ms;
	unsigned retries;
};

/* A slot: one signetd endpoint (config), its pool of clients, its objects. */
struct p11_slot {
	CK_SLOT_ID id;
	const char *endpoint;
	char label[33];		   /* blank-padded token label, not NUL-terminated in the info */
	char serial[17];	   /* from a hash of the endpoint */
	pthread_mutex_t pool_lock; /* the pool alone: taken inside `lock` while objects load */
	signet_client **idle;	   /* connected clients not in use */
	size_t n_idle, cap_idle;
	pthread_mutex_t lock;	 /* everything below */
	struct p11_object *objs; /* handle = index + 1 */
	size_t n_objs;
	int loaded;
	unsigned n_sessions;
};

/* ---- errmap.c ---- */
/* The CK_RV for a libsignet result (SIGNET_OK -> CKR_OK). */
CK_RV p11_errmap(int signet_err);

/*
 * A line on stderr when $SIGNET_PKCS11_DEBUG is set: a PKCS#11 module has no
 * other way to say why, and must stay quiet otherwise.
 */
void p11_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- config.c ---- */
/*
 * Read the configuration from `path` (NULL: $SIGNET_PKCS11_CONFIG, else
 * /etc/signet/pkcs11.conf if it exists, else one endpoint from
 * $SIGNET_ENDPOINT or the default, without credential). `err` gets a reason
 * on failure. CKR_ARGUMENTS_BAD for a file that does not parse or a bad
 * value, CKR_HOST_MEMORY.
 */
CK_RV p11_config_load(const char *path, struct p11_config *cfg, char *err, size_t errlen);
/* Parse configuration text (what p11_config_load reads from the file). */
CK_RV p11_config_parse(const char *text, struct p11_config *cfg, char *err, size_t errlen);
void p11_config_free(struct p11_config *cfg);

/* ---- spki.c ---- */
/*
 * The attributes of the key whose SubjectPublicKeyInfo is `der`: EC (P-256,
 * P-384, P-521) or RSA. CKR_KEY_TYPE_INCONSISTENT for another kind of key,
 * CKR_DEVICE_ERROR for DER that does not parse, CKR_HOST_MEMORY.
 */
CK_RV p11_spki_attrs(const uint8_t *der, size_t len, struct p11_keyattrs *out);
void p11_keyattrs_free(struct p11_keyattrs *ka);

/* ---- digestinfo.c ---- */
/*
 * `in` as a PKCS#1 DigestInfo (what CKM_RSA_PKCS signs for a signature):
 * on CKR_OK `*hash` is SHA-256/384/512 and `*digest` points into `in`.
 * CKR_DATA_INVALID for anything else (another hash, TLS 1.0's MD5+SHA-1, a
 * bare digest, trailing bytes).
 */
CK_RV p11_digestinfo_parse(const uint8_t *in, size_t len, enum signet_hash *hash,
			   const uint8_t **digest, size_t *digest_len);
/* The hash whose digest is `len` bytes long (32, 48, 64); -1 otherwise. */
int p11_hash_by_len(size_t len);

/* ---- objects.c ---- */
/* Append attribute (type, val, len) to `obj`; CKR_HOST_MEMORY. */
CK_RV p11_object_add(struct p11_object *obj, CK_ATTRIBUTE_TYPE type, const void *val, size_t len);
const struct p11_attr *p11_object_attr(const struct p11_object *obj, CK_ATTRIBUTE_TYPE type);
/*
 * C_GetAttributeValue on `obj`, with PKCS#11's rules: a NULL pValue gets the
 * length; a short buffer CKR_BUFFER_TOO_SMALL, a secret attribute of a
 * private key CKR_ATTRIBUTE_SENSITIVE, an absent one
 * CKR_ATTRIBUTE_TYPE_INVALID, each with ulValueLen
 * CK_UNAVAILABLE_INFORMATION; every other attribute is still filled in.
 */
CK_RV p11_object_get(const struct p11_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG n);
/* 1 when every attribute of `tmpl` is on `obj` with the same value. */
int p11_object_match(const struct p11_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG n);
/*
 * The objects for key `name` (SPKI `spki`, CKA_ID `id`) and, when `cert` is
 * not NULL, its certificate: appended to `*objs`.
 */
CK_RV p11_objects_for_key(const char *name, const uint8_t *id, size_t id_len, const uint8_t *spki,
			  size_t spki_len, const uint8_t *cert, size_t cert_len,
			  struct p11_object **objs, size_t *n_objs);
void p11_objects_free(struct p11_object *objs, size_t n);

/* ---- slot.c ---- */
CK_RV p11_slots_init(const struct p11_config *cfg, struct p11_slot *slots, size_t *n_slots);
void p11_slots_free(struct p11_slot *slots, size_t n);
/* A connected, authenticated client of `slot` for the caller alone. */
CK_RV p11_slot_client(struct p11_slot *slot, const struct p11_config *cfg, signet_client **out);
/* Give `c` back to the pool; `broken` (a transport failure) closes it instead. */
void p11_slot_release(struct p11_slot *slot, signet_client *c, int broken);
/* How many libsignet clients (nanomsg sockets) this process has open. */
unsigned p11_slot_live_clients(void);
/* Read the slot's objects from signetd if not read yet (or since its last session closed). */
CK_RV p11_slot_load(struct p11_slot *slot, const struct p11_config *cfg);

/* ---- sign.c ---- */
/* One signing operation in progress on a session. */
struct p11_signop {
	int active;
	CK_MECHANISM_TYPE mech;
	const struct p11_object *key;
	enum signet_hash hash; /* fixed by the mechanism or PSS parameters; 0: from the input */
	enum signet_sig_format fmt;
	void *md;	  /* EVP_MD_CTX for the hashing mechanisms */
	uint8_t buf[512]; /* the input of the single-part mechanisms */
	size_t buf_len;
};
/* CKF_SIGN mechanisms, for C_GetMechanismList/Info. */
CK_RV p11_mech_list(CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count);
CK_RV p11_mech_info(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info);
/* C_SignInit: check `mech` against `key` and start `op`. */
CK_RV p11_sign_init(struct p11_signop *op, const CK_MECHANISM *mech, const struct p11_object *key);
CK_RV p11_sign_update(struct p11_signop *op, const uint8_t *data, size_t len);
/*
 * PKCS#11's output convention for a result of `need` bytes: NULL `out` is a
 * length query (CKR_OK, `*out_len` = need, the operation goes on); a short
 * buffer CKR_BUFFER_TOO_SMALL with `*out_len` = need (goes on too). Returns
 * CKR_OK with `*proceed` = 1 when the caller should produce the result.
 */
CK_RV p11_output_check(CK_BYTE_PTR out, CK_ULONG_PTR out_len, size_t need, int *proceed);
/*
 * The digest to send and its hash, for the input gathered by `op`.
 * CKR_DATA_LEN_RANGE / CKR_DATA_INVALID when it is not one.
 */
CK_RV p11_sign_digest(struct p11_signop *op, uint8_t *digest, size_t *digest_len,
		      enum signet_hash *hash);
void p11_sign_end(struct p11_signop *op);

/* ---- module.c: the module's state ---- */
/* A session. Never freed before C_Finalize, so a stale handle finds it closed. */
struct p11_session {
	pthread_mutex_t lock; /* everything below; held across a signature */
	int open;
	struct p11_slot *slot;
	CK_FLAGS flags;
	CK_OBJECT_HANDLE *found; /* C_FindObjects results */
	size_t n_found, pos;
	int finding;
	struct p11_signop sign;
};

struct p11_module {
	int initialized;
	pid_t pid; /* the process that called C_Initialize: a child must call it again */
	struct p11_config cfg;
	struct p11_slot slots[P11_MAX_SLOTS];
	size_t n_slots;
	pthread_mutex_t table_lock;    /* sessions, n_sessions, logged_in */
	struct p11_session **sessions; /* handle = index + 1 */
	size_t n_sessions;
	int logged_in;
};
extern struct p11_module p11_mod;

/*
 * Every entry point but C_Initialize and C_GetFunctionList runs between
 * p11_enter (CKR_CRYPTOKI_NOT_INITIALIZED before C_Initialize or in a child
 * after fork()) and p11_leave: C_Finalize waits for the calls in flight.
 */
CK_RV p11_enter(void);
void p11_leave(void);

/* ---- session.c ---- */
/* Close every session (C_Finalize); frees them. */
void p11_sessions_free(void);

#endif /* SIGNET_P11_H */
