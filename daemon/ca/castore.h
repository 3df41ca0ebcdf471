/*
 * The certificate authorities signet knows. Each CA has one record file,
 * STATE_DIR/cas/NAME.pem: the label of its token key, in RFC 7468
 * "explanatory text" before the first PEM block ("key: LABEL"; records
 * without it use "ca.NAME"), then the CA's certificate, then, for a sub-CA
 * signed outside signet, the certificates above it up to its root.
 *
 * Renewal (same key, new certificate) and re-keying (new key) replace the
 * record with one rename(2); the record they replace moves first to
 * STATE_DIR/cas/NAME.old/SERIAL.pem. Those earlier generations stay loaded,
 * so what they issued still chains, but only the current one signs.
 *
 * A CA's parent is derived from its certificate (issuer name and AKI), not
 * stored, so the files cannot contradict each other. A new record is created
 * with link(2), which fails if the name exists, and a replacement checks that
 * the file on disk is still the one this process loaded: two daemons sharing
 * a state directory cannot silently use two different certificates for one
 * CA name.
 *
 * Another daemon on the same state directory may add, renew or re-key a CA
 * at any time. Every lookup first compares the CA directory's change time
 * with the one last loaded (one stat(2)) and, when it moved, loads the whole
 * store again and swaps it in; a store that fails to load is logged and the
 * one in memory kept. Records are only ever linked or renamed into place, so
 * a load never sees half a record or a CA without its current generation.
 *
 * Hosts that share one PostgreSQL database share their CAs through it
 * (castore_share, ca/cashare.c): every new record is written to the
 * database's ca_records first, where a name can be created once and a
 * generation replaced once across all hosts, and then to the file; each
 * host copies the records it has not seen into its own directory, at most
 * CASHARE_POLL_MS after the last look, at its next lookup. The files stay
 * what is loaded and what signs.
 */
#ifndef SIGNETD_CASTORE_H
#define SIGNETD_CASTORE_H

#include <pthread.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "base/errmsg.h"
#include "hsm/keystore.h"
#include "records/ledger.h"

#define CA_NAME_MAX	  60 /* so that "ca." + name fits a key name */
#define CASTORE_MAX	  4096
#define CA_ABOVE_MAX	  16 /* certificates above an imported sub-CA */
#define CA_RECORD_MAX	  (256 * 1024)
#define CA_GENERATION_MAX 99

struct ca {
	char name[CA_NAME_MAX + 1];
	char key[KEY_NAME_MAX + 1]; /* its token key's label */
	X509 *cert;
	STACK_OF(X509) * above; /* issuers outside signet, nearest first; NULL if none */
	int retired;		/* an earlier generation: chains, never signs */
	int parent; /* in the store: index into castore.cas, -1 for a root or an issuer outside
		       signet; meaningless in a copy */
	char parent_name[CA_NAME_MAX + 1]; /* in a copy: its parent's name then, or "" */
};

struct castore {
	char *dir; /* STATE_DIR/cas */
	pthread_rwlock_t lock;
	struct ca *cas;
	size_t n;
	pthread_mutex_t loading; /* one reload at a time */
	struct stat seen;	 /* of dir, when what is in memory was loaded */
	/* the database shared with other hosts, or NULL (castore_share) */
	struct ledger *shared;
	int64_t shared_seen;	/* the last ca_records row copied (under loading) */
	int64_t shared_next_ms; /* when to look again (CLOCK_MONOTONIC) */
};

int castore_name_valid(const char *name);

/* The token key label of a CA's key generation `gen` (1 for its first key):
 * "ca.NAME", then "ca2.NAME", "ca3.NAME"... INVALID_ARGUMENT when it would
 * not fit a key name (long names allow fewer re-keyings). */
int castore_key_label(const char *name, unsigned gen, char *out, size_t outlen, struct errmsg *em);
/* The generation of `label` for CA `name`, or 0 if it is not one of its labels. */
unsigned castore_key_generation(const char *name, const char *label);

/* Is `label` in the CA key namespace ("ca.*", "caN.*")? Such keys sign only
 * through the CA RPCs, under their rules; the key RPCs refuse them. */
int castore_key_reserved(const char *label);

/* Create STATE_DIR and STATE_DIR/cas if needed (0700) and load every CA. */
int castore_open(struct castore *cs, const char *state_dir, char *err, size_t errlen);
void castore_close(struct castore *cs);

/* Share the CAs through `l`'s database, when it is one that several hosts
 * share (PostgreSQL): copy in what the others recorded, and record the CAs
 * only this host has. Call it once, after castore_open. Failures are
 * logged; the store keeps serving what it has. */
void castore_share(struct castore *cs, struct ledger *l);

/*
 * Record a new CA durably. `key` NULL means "ca.NAME"; `above` (may be NULL)
 * is copied. ALREADY_EXISTS if the name is taken.
 */
int castore_add(struct castore *cs, const char *name, const char *key, X509 *cert,
		STACK_OF(X509) * above, struct errmsg *em);

/*
 * Make `cert` (with `key`, `above`) the CA's current generation, retiring
 * `current`, which must still be the current one (FAILED_PRECONDITION if
 * another request or another daemon replaced it meanwhile).
 */
int castore_replace(struct castore *cs, const char *name, X509 *current, const char *key,
		    X509 *cert, STACK_OF(X509) * above, struct errmsg *em);

/* A copy of the CA's current entry with its own references; release with
 * ca_release(). NOT_FOUND if there is no such CA. */
int castore_get(struct castore *cs, const char *name, struct ca *out, struct errmsg *em);
void ca_release(struct ca *ca);

/* The generation of CA `name` whose key is `key_label` (the current one when
 * it has that key, else the latest-expiring retired one), a copy as for
 * castore_get. NOT_FOUND when the CA never had that key. */
int castore_get_by_key(struct castore *cs, const char *name, const char *key_label, struct ca *out,
		       struct errmsg *em);

/* The CA's current certificate, its parent's, ... up to the root (and an
 * imported CA's outside issuers). */
int castore_chain(struct castore *cs, const char *name, STACK_OF(X509) * *out, struct errmsg *em);

/* Copies of every current entry, sorted by name; release with castore_list_free(). */
int castore_list(struct castore *cs, struct ca **out, size_t *n, struct errmsg *em);
/* The same with the retired generations too. */
int castore_list_generations(struct castore *cs, struct ca **out, size_t *n, struct errmsg *em);
void castore_list_free(struct ca *cas, size_t n);

/* The tops of signet's hierarchies, current and retired: self-signed roots,
 * and CAs whose issuer is outside signet (imported sub-CAs). A device chain
 * that reaches one of them reaches "a signet CA". */
int castore_anchors(struct castore *cs, STACK_OF(X509) * *out, struct errmsg *em);

/* Copies of every certificate signet holds as a CA, current and retired, for
 * verifying chains that end in one of them. */
int castore_all_certs(struct castore *cs, STACK_OF(X509) * *out, struct errmsg *em);

#endif
