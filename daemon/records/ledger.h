/*
 * The ledger: every certificate signet issued, its revocation, the CRL
 * numbers and the history of each CA's certificates, in SQLite
 * (STATE_DIR/ledger.db, mode 0600, WAL, synchronous=FULL) or in a
 * PostgreSQL database shared by the signetd of several hosts.
 *
 * Writes are durable when the call returns, and concurrent writes are
 * grouped: one writer thread applies every queued write in one transaction
 * and one fsync, then wakes their callers. A caller therefore gets a
 * certificate only after its record is on disk, and durability does not cap
 * throughput. Reads use their own connection and never wait for the writer
 * (WAL).
 *
 * A PostgreSQL connection that is lost makes the writes and reads of the
 * moment UNAVAILABLE; each connection is opened again, with a backoff of
 * at most LEDGER_BACKOFF_MAX_MS (ledger_internal.h), by the next call that
 * needs it. Everything unique across hosts (a caller's request id, a CA's
 * serial, a CRL number, a CA name) is unique in the database itself.
 *
 * The schema is versioned (PRAGMA user_version; PostgreSQL: the table
 * schema_version) and migrated at open (records/schema.c).
 */
#ifndef SIGNETD_LEDGER_H
#define SIGNETD_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <signet/signet.h>

#include "base/errmsg.h"
#include "base/secret.h"
#include "records/sql.h"

#define LEDGER_SERIAL_MAX 41 /* 20 octets in hex, and a NUL */
#define LEDGER_REQUEST_ID 16
#define LEDGER_LIST_MAX	  100 /* entries in one page */
#define LEDGER_TEXT_MAX	  1024

struct ledger;

/* RFC 5280 CRLReason codes, numbered as the public enum and the wire (7 is
 * not used); proto/reason.h names them and says which ones revoke. */
enum ledger_reason {
	LEDGER_REASON_UNSPECIFIED = SIGNET_REASON_UNSPECIFIED,
	LEDGER_REASON_KEY_COMPROMISE = SIGNET_REASON_KEY_COMPROMISE,
	LEDGER_REASON_CA_COMPROMISE = SIGNET_REASON_CA_COMPROMISE,
	LEDGER_REASON_AFFILIATION_CHANGED = SIGNET_REASON_AFFILIATION_CHANGED,
	LEDGER_REASON_SUPERSEDED = SIGNET_REASON_SUPERSEDED,
	LEDGER_REASON_CESSATION_OF_OPERATION = SIGNET_REASON_CESSATION_OF_OPERATION,
	LEDGER_REASON_CERTIFICATE_HOLD = SIGNET_REASON_CERTIFICATE_HOLD,
	LEDGER_REASON_REMOVE_FROM_CRL = SIGNET_REASON_REMOVE_FROM_CRL,
	LEDGER_REASON_PRIVILEGE_WITHDRAWN = SIGNET_REASON_PRIVILEGE_WITHDRAWN,
	LEDGER_REASON_AA_COMPROMISE = SIGNET_REASON_AA_COMPROMISE,
};

/* One issued certificate. Strings and blobs are owned by the entry when it
 * comes from the ledger (release with ledger_entry_release); when passed to
 * ledger_record they are the caller's. */
struct ledger_entry {
	int64_t id;			/* row id; ascending in issue order (paging cursor) */
	char *ca;			/* the signet CA that issued it */
	char *issuer_key;		/* the token key that signed it (CRLs are per key) */
	char serial[LEDGER_SERIAL_MAX]; /* upper-case hex, even length, as BN_bn2hex */
	char *subject;			/* OpenSSL one-line form */
	char *sans;			/* "DNS:a, IP:192.0.2.1", or "" */
	char *profile;		 /* profile name; "ca" for a CA certificate, "verification" */
	uint8_t spki_sha256[32]; /* SHA-256 of the SubjectPublicKeyInfo DER */
	int64_t not_before;	 /* Unix time */
	int64_t not_after;
	char *caller; /* who asked (the envelope's client; "" if none) */
	uint8_t request_id[LEDGER_REQUEST_ID];
	int has_request_id;
	int64_t issued_at;
	uint8_t *der; /* the certificate */
	size_t der_len;
	/* revocation; revoked_at 0 when not revoked */
	int64_t revoked_at;
	enum ledger_reason reason;
	int64_t invalidity_date; /* 0: none */
};

/* Where the records live. */
struct ledger_options {
	const char *state_dir; /* SQLite: the file is STATE_DIR/ledger.db */
	/* NULL, "" or "sqlite": SQLite; else a libpq connection string (a
	 * "postgresql://" URI) without a password */
	const char *database;
	const struct secret *password; /* PostgreSQL's password; NULL: none (copied) */
};

/* Open (creating or migrating the schema if needed) and start the writer.
 * PostgreSQL: UNAVAILABLE with libpq's reason when the server cannot be
 * reached; INVALID_ARGUMENT for a connection string with a password. */
int ledger_open_with(const struct ledger_options *o, struct ledger **out, char *err, size_t errlen);
/* SQLite in STATE_DIR/ledger.db. */
int ledger_open(const char *state_dir, struct ledger **out, char *err, size_t errlen);
enum sql_backend ledger_backend(const struct ledger *l);
/* Stop the writer (after the queued writes) and close. NULL is fine. */
void ledger_close(struct ledger *l);

/*
 * Name the audit trail the acts of this signetd go to (its audit log's real
 * path): every certificate recorded from now on carries it, so that a
 * reconcile at start-up (records/reconcile.h) checks only this signetd's
 * rows against its own trail when several share the state directory. Call it
 * before the first write; INVALID_ARGUMENT for "" or a name over
 * LEDGER_TEXT_MAX.
 */
int ledger_set_trail(struct ledger *l, const char *trail, struct errmsg *em);

/*
 * Record an issued certificate, durably. ALREADY_EXISTS when (caller,
 * request_id) is already recorded (a retry: see ledger_find_request) or the
 * CA has a certificate with that serial; UNAVAILABLE when the database
 * cannot be written.
 */
int ledger_record(struct ledger *l, const struct ledger_entry *e, struct errmsg *em);

/*
 * Record n issued certificates in one write: one op of the writer's next
 * transaction, so they share one commit, and all are durable when this
 * returns. Each entry has its own result, rcs[i] and em[i] (both arrays of
 * n, the caller's): 0, or what ledger_record would have answered for it
 * alone (INVALID_ARGUMENT, ALREADY_EXISTS for a recorded request id or a
 * serial clash, including with an earlier entry of the same batch); one
 * entry's refusal keeps none of the others out. Returns 0 when the
 * transaction committed (rcs[] tell which entries it holds), or the reason
 * it did not (UNAVAILABLE, RESOURCE_EXHAUSTED), which then is every
 * entry's result too: none of them was recorded.
 */
int ledger_record_batch(struct ledger *l, const struct ledger_entry *const *entries, size_t n,
			int *rcs, struct errmsg *em);

/* The certificate recorded for (caller, request_id). NOT_FOUND if none. */
int ledger_find_request(struct ledger *l, const char *caller,
			const uint8_t request_id[LEDGER_REQUEST_ID], struct ledger_entry *out,
			struct errmsg *em);

/* By serial (hex, any case, leading zeros optional) or, when serial is NULL
 * or "", by SPKI fingerprint (the newest such certificate). NOT_FOUND. */
int ledger_get(struct ledger *l, const char *serial, const uint8_t *spki_sha256,
	       struct ledger_entry *out, struct errmsg *em);

enum ledger_revoked_filter { LEDGER_ANY = 0, LEDGER_ONLY_REVOKED = 1, LEDGER_NOT_REVOKED = 2 };

struct ledger_filter {
	const char *ca;		      /* NULL or "": any */
	const char *profile;	      /* NULL or "": any */
	const char *subject_contains; /* case-insensitive substring of the subject; NULL: any */
	const char *serial;	      /* exact (normalised like ledger_get); NULL: any */
	int64_t valid_at;	      /* not_before <= t <= not_after; 0: any */
	int64_t expires_after;	      /* not_after >= t; 0: any */
	int64_t expires_before;	      /* not_after < t; 0: any */
	enum ledger_revoked_filter revoked;
	const char *trail; /* recorded under this audit trail (ledger_set_trail); NULL: any */
	int64_t after_id;  /* paging: entries with id > after_id; 0 from the start */
	unsigned limit;	   /* 1..LEDGER_LIST_MAX; 0 means LEDGER_LIST_MAX */
};

/* One page, ascending by id. *next_after_id is the cursor for the next page,
 * or 0 when this was the last. Release with ledger_list_free. */
int ledger_list(struct ledger *l, const struct ledger_filter *f, struct ledger_entry **out,
		size_t *n, int64_t *next_after_id, struct errmsg *em);
void ledger_list_free(struct ledger_entry *entries, size_t n);
void ledger_entry_release(struct ledger_entry *e);

/*
 * Revoke, durably: NOT_FOUND for an unknown serial, FAILED_PRECONDITION when
 * the serial belongs to another CA (the message names it), ALREADY_EXISTS
 * when it is revoked already (the message says when). On success *out (may
 * be NULL) receives the updated entry.
 */
int ledger_revoke(struct ledger *l, const char *ca, const char *serial, enum ledger_reason reason,
		  int64_t invalidity_date, int64_t now, struct ledger_entry *out,
		  struct errmsg *em);

struct ledger_revoked {
	char serial[LEDGER_SERIAL_MAX];
	int64_t revoked_at;
	enum ledger_reason reason;
	int64_t invalidity_date;
};

/* Every revoked certificate signed by `issuer_key` that has not expired
 * before `now` (expired ones may leave the CRL, RFC 5280 3.3). free() it. */
int ledger_revoked_list(struct ledger *l, const char *issuer_key, int64_t now,
			struct ledger_revoked **out, size_t *n, struct errmsg *em);

/*
 * Run `apply` on the writer's connection, in the writer's next transaction
 * (under a savepoint of its own, rolled back when apply fails), committed
 * durably with the other queued writes before this returns. For modules
 * with tables of their own in the ledger's database (challenge_db, the
 * reconcile's checkpoints, the CA store's shared records). apply runs
 * on the writer thread; it prepares and finalizes its own statements and
 * returns 0 or an error set in em, which this returns.
 */
int ledger_write(struct ledger *l, int (*apply)(struct sql_db *db, void *arg, struct errmsg *em),
		 void *arg, struct errmsg *em);

/*
 * Read on the reader's connection, beside the writer: `read` prepares,
 * steps and finalizes its own statements, under the reader's lock. For
 * modules with tables of their own (the CA store's records).
 */
int ledger_read(struct ledger *l, int (*read)(struct sql_db *db, void *arg, struct errmsg *em),
		void *arg, struct errmsg *em);

/*
 * Is this signetd the one that does `what` (a name: "crl-publisher") among
 * all those sharing the records? SQLite: always 1. PostgreSQL: a session
 * advisory lock taken on a connection of the ledger's own and held while
 * it lives; 1 while held, 0 while another host holds it or the database
 * cannot be reached (the lock goes with a lost connection, and is tried
 * for again at the next call). One name per ledger.
 */
int ledger_lead(struct ledger *l, const char *what);

/* The next CRL number for `issuer_key` (1, 2, ...), durably taken. */
int ledger_next_crl_number(struct ledger *l, const char *issuer_key, uint64_t *out,
			   struct errmsg *em);

/*
 * Keep the CRL just published for `issuer_key` (number, DER) for the hosts
 * that do not publish (ledger_lead), replacing an older one; a CRL with a
 * number not above the kept one is ignored. SQLite: nothing to do (every
 * signetd on it publishes).
 */
int ledger_crl_keep(struct ledger *l, const char *issuer_key, uint64_t number, const uint8_t *der,
		    size_t len, int64_t at, struct errmsg *em);

/* The CRL kept for `issuer_key`: *der is malloc'd, the caller's. NOT_FOUND
 * when there is none (and always with SQLite). */
int ledger_crl_last(struct ledger *l, const char *issuer_key, uint8_t **der, size_t *len,
		    uint64_t *number, struct errmsg *em);

/* A CA certificate's history: event is "create", "renew", "rekey" or "import". */
int ledger_ca_event(struct ledger *l, const char *ca, const char *event, const char *key_label,
		    const char *serial, const uint8_t *der, size_t der_len, int64_t at,
		    struct errmsg *em);

/* Normalise a serial given by a caller into ledger form. -1 if it is not hex
 * or longer than 20 octets. */
int ledger_serial_normalise(const char *in, char out[LEDGER_SERIAL_MAX]);

/* PRAGMA integrity_check: 0 when "ok" (PostgreSQL: 0, nothing to check). */
int ledger_integrity_check(struct ledger *l, struct errmsg *em);

/* For tests and benchmarks: how the writer grouped the writes so far. */
struct ledger_stats {
	uint64_t writes;	/* operations applied in a committed transaction */
	uint64_t commits;	/* transactions committed, one fsync each */
	uint64_t largest_batch; /* most operations in one transaction */
};
void ledger_stats(struct ledger *l, struct ledger_stats *out);

#endif
