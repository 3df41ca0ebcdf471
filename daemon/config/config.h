/*
 * signetd's configuration file, parsed with libconfig. See
 * packaging/signetd.conf.example for every setting and docs/configuration.md.
 */
#ifndef SIGNETD_CONFIG_H
#define SIGNETD_CONFIG_H

#include <stddef.h>

#include "base/log.h"
#include "hsm/p11uri.h"
#include "pki/profile.h"

#define CONFIG_MAX_ENDPOINTS		8
#define CONFIG_MAX_WORKERS		256
#define CONFIG_WORKERS_PER_CPU		8  /* workers = 0 */
#define CONFIG_DEFAULT_MAX_WORKERS	64 /* workers = 0 never gives more */
#define CONFIG_DEFAULT_MAX_MESSAGE	(1024 * 1024)
#define CONFIG_MIN_MESSAGE		1024
#define CONFIG_MAX_MESSAGE		(64 * 1024 * 1024)
#define CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 10
#define CONFIG_DEFAULT_BATCH_CSRS	256
#define CONFIG_MAX_BATCH_CSRS		4096
#define CONFIG_DEFAULT_BATCH_BYTES	(1024 * 1024) /* never above max_message_size */
#define CONFIG_MAX_SHUTDOWN_TIMEOUT	3600
#define CONFIG_DEFAULT_CRL_HOURS	168 /* a week, as RFC 5280 suggests for routine CRLs */
#define CONFIG_MAX_CRL_HOURS		(24 * 366)
#define CONFIG_DEFAULT_CHALLENGE_TTL	60
#define CONFIG_DEFAULT_CHALLENGE_MAX	600
#define CONFIG_MAX_CHALLENGE_TTL	86400
#define CONFIG_DEFAULT_PER_CALLER	1000
#define CONFIG_DEFAULT_CHALLENGES	100000
#define CONFIG_MAX_CHALLENGES		10000000
#define CONFIG_MAX_MODULE_DIRS		16
#define CONFIG_MAX_USER_NAME		32 /* useradd's limit on Debian */

/* records.audit_flush_ms: how long an audit line may stay unsynced */
#define CONFIG_DEFAULT_AUDIT_FLUSH_MS 10
#define CONFIG_MAX_AUDIT_FLUSH_MS     1000

#define CONFIG_MAX_CLIENTS		  1024
#define CONFIG_DEFAULT_CLIENT_CONCURRENCY 8
#define CONFIG_DEFAULT_AUTH_WINDOW	  120 /* seconds of clock skew a credential may have */
#define CONFIG_DEFAULT_AUTH_REORDER	  10 /* seconds a client's requests may arrive out of order */

/* A client that may call signetd, and what it may do. Patterns are fnmatch(3)
 * globs; a list that is absent allows nothing of its kind. */
struct client_def {
	char *name;
	char *secret_file; /* absolute; the secret itself is read by auth.c */
	int admin;	   /* may use the admin methods (CA lifecycle, DeleteKey, Revoke) */
	unsigned max_concurrent;
	char **methods;
	size_t n_methods;
	char **cas;
	size_t n_cas;
	char **profiles;
	size_t n_profiles;
	char **keys;
	size_t n_keys;
	char **enrolments; /* enrolment doors (enrolment.NAME) it may use */
	size_t n_enrolments;
	/* CAs whose verification certificates (proofs of possession) it may get
	 * without admin; a glob in methods does not grant them (access/authz.h) */
	char **verification_cas;
	size_t n_verification_cas;
};

#define CONFIG_MAX_ENROLMENTS		 64
#define CONFIG_DEFAULT_ENROLMENT_MESSAGE 65536
#define CONFIG_ENROLMENT_NAME_MAX	 48

#define CONFIG_MAX_CSR_ATTRS	   16
#define CONFIG_DEFAULT_RETRY_AFTER 60

enum enrolment_protocol {
	ENROLMENT_SCEP, /* RFC 8894, docs/scep.md */
	ENROLMENT_EST,	/* RFC 7030, docs/est.md */
};

/* How a requester proves it may enrol by a secret: a SCEP challengePassword,
 * an EST HTTP Basic password. */
enum enrolment_challenge {
	ENROLMENT_CHALLENGE_CODES,  /* single-use codes from CreateEnrolmentCode, in the ledger */
	ENROLMENT_CHALLENGE_STATIC, /* one secret for the door, in challenge_file (SCEP) */
	ENROLMENT_CHALLENGE_NONE,   /* no secret accepted (EST with codes = false) */
};

/* enrolment.NAME: a door through which devices enrol by SCEP (docs/scep.md)
 * or EST (docs/est.md). */
struct enrolment_def {
	char *name;
	enum enrolment_protocol protocol;
	char *ca;	      /* the signet CA that issues */
	char *profile;	      /* the profile it issues under (checked to exist) */
	char *ra_key;	      /* SCEP: the RA key on the token (GenerateKey purpose RA) */
	char *ra_certificate; /* SCEP: absolute path of its PEM; NULL: the newest in the ledger */
	enum enrolment_challenge challenge;
	char *challenge_file; /* absolute; the static secret, read like a client secret */
	int allow_des;	      /* single DES content encryption (refused: badAlg) */
	size_t max_message_size;
	/* EST */
	char *bootstrap_anchors; /* absolute path of PEM anchors (vendor mode); NULL: none */
	int manual;		 /* answer retry_after and issue nothing (no approval yet) */
	unsigned retry_after;	 /* seconds, with manual */
	char **csr_attrs;	 /* /csrattrs: attribute names or dotted OIDs */
	size_t n_csr_attrs;
};

struct config {
	/* token { ... } */
	char *module_path;   /* absolute path of the PKCS#11 module */
	struct p11uri token; /* from token.uri, or token.label / token.serial */
	char *pin_file;	     /* absolute path; never the PIN itself */
	/* where the module may live; none given: the system library directories */
	char *module_dirs[CONFIG_MAX_MODULE_DIRS];
	size_t n_module_dirs;
	/* keep object creation apart from look-ups: 1, 0, or -1 (not set:
	 * on for a SoftHSM token, whose 2.6 releases need it) */
	int serialize_objects;
	/* server { ... } */
	char *endpoints[CONFIG_MAX_ENDPOINTS]; /* "ipc://..." or "tcp://..." */
	size_t n_endpoints;
	unsigned workers;	 /* >= 1; 0 in the file means: number of online CPUs */
	size_t max_message_size; /* bytes; requests above it are refused */
	/* SignCsrBatch: CSRs in one request, and their bytes together */
	unsigned max_batch_csrs; /* 1..CONFIG_MAX_BATCH_CSRS */
	size_t max_batch_bytes;	 /* CONFIG_MIN_MESSAGE..max_message_size */
	/* how long shutdown may wait for requests in flight before exiting hard */
	unsigned shutdown_timeout_seconds;
	/* profiles { ... }: the built-in ones, changed or extended by the file */
	struct profile_set profiles;
	/* records { ... } */
	char *audit_log;	      /* absolute; default STATE_DIR/audit.log */
	unsigned audit_flush_ms;      /* 0: sync before the reply; else within this many ms */
	unsigned crl_validity_hours;  /* a CRL's nextUpdate - thisUpdate */
	char *crl_publish_dir;	      /* absolute, or NULL: CRL files are not written */
	unsigned crl_refresh_seconds; /* published CRLs are re-signed this often */
	char *database;		      /* PostgreSQL's connection string; NULL: SQLite */
	char *database_password_file; /* absolute, or NULL; never the password itself */
	/* possession { ... } */
	char *trust_anchors;		    /* absolute path of a PEM bundle, or NULL */
	unsigned challenge_ttl_seconds;	    /* a challenge's default lifetime */
	unsigned challenge_max_ttl_seconds; /* the longest a caller may ask for */
	unsigned max_challenges_per_caller; /* outstanding, per caller */
	unsigned max_challenges;	    /* outstanding and recently used, in all */
	int shared_challenges;		    /* kept in the ledger, for every signetd on state_dir */
	/* auth { ... } and clients { ... } */
	int allow_anonymous;	      /* ipc only: callers without credentials may do anything */
	unsigned auth_window_seconds; /* credential timestamps within now +- this */
	/* and no older than this before the newest one the same client sent */
	unsigned auth_reorder_seconds;
	unsigned max_concurrent; /* requests in flight in all; 0: the worker count */
	struct client_def *clients;
	size_t n_clients;
	/* enrolment { ... } */
	struct enrolment_def *enrolments;
	size_t n_enrolments;
	/* top level */
	char *state_dir;
	enum log_level log_level;
	char *user; /* serve as this user once started as root; NULL: not set */
};

/*
 * Load and validate `path`. On error returns -1, leaves *out zeroed, and
 * writes into err a message naming the file, the line (when libconfig knows
 * it) and the setting: "signetd.conf:12: server.workers: must be between 0
 * and 256". On success every field is set (defaults applied; workers = 0 is
 * resolved to the number of online CPUs, at least 1) and must be released
 * with config_free().
 * Validation: module_path, pin_file and state_dir absolute; the token named
 * by token.uri (see p11uri_parse) or by token.label and/or token.serial,
 * never both ways; 1..CONFIG_MAX_ENDPOINTS distinct endpoints, each
 * ipc:///absolute/path or tcp://host:port; 0 <= workers <=
 * CONFIG_MAX_WORKERS; CONFIG_MIN_MESSAGE <= max_message_size <=
 * CONFIG_MAX_MESSAGE; log_level one of error/warn/info/debug. Unknown
 * settings are refused (typos must not be silently ignored), and so is a
 * token.pin: the PIN belongs in pin_file, and no message repeats it.
 */
int config_load(const char *path, struct config *out, char *err, size_t errlen);

/* The enrolment door named `name`, or NULL. */
const struct enrolment_def *config_enrolment(const struct config *cfg, const char *name);

/* Release everything config_load() allocated; safe on a zeroed struct. */
void config_free(struct config *cfg);

#endif
