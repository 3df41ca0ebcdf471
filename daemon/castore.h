/*
 * The certificate authorities signet knows: each CA's certificate, kept in
 * STATE_DIR/cas/NAME.pem, and its key on the token, labelled "ca.NAME".
 * A CA's parent is derived from its certificate (issuer name and AKI), not
 * stored, so the files cannot contradict each other.
 *
 * A CA file is created with link(2), which fails if the name exists: two
 * daemons sharing a state directory cannot silently write two different
 * certificates for one CA name.
 */
#ifndef SIGNETD_CASTORE_H
#define SIGNETD_CASTORE_H

#include <pthread.h>

#include <openssl/x509.h>

#include "errmsg.h"

#define CA_NAME_MAX 60 /* so that "ca." + name fits a key name */
#define CASTORE_MAX 4096

struct ca {
	char name[CA_NAME_MAX + 1];
	char key[CA_NAME_MAX + 4]; /* "ca.NAME" */
	X509 *cert;
	int parent; /* index into castore.cas, -1 for a root or an unknown issuer */
};

struct castore {
	char *dir; /* STATE_DIR/cas */
	pthread_rwlock_t lock;
	struct ca *cas;
	size_t n;
};

int castore_name_valid(const char *name);

/* Create STATE_DIR and STATE_DIR/cas if needed (0700) and load every CA. */
int castore_open(struct castore *cs, const char *state_dir, char *err, size_t errlen);
void castore_close(struct castore *cs);

/* Record a new CA durably. ALREADY_EXISTS if the name is taken. */
int castore_add(struct castore *cs, const char *name, X509 *cert, struct errmsg *em);

/* A copy of the CA's entry with its own reference to the certificate; release
 * with ca_release(). NOT_FOUND if there is no such CA. */
int castore_get(struct castore *cs, const char *name, struct ca *out, struct errmsg *em);
void ca_release(struct ca *ca);

/* The CA's certificate, then its parent's, up to the root. */
int castore_chain(struct castore *cs, const char *name, STACK_OF(X509) * *out, struct errmsg *em);

/* Copies of every entry; release with castore_list_free(). */
int castore_list(struct castore *cs, struct ca **out, size_t *n, struct errmsg *em);
void castore_list_free(struct ca *cas, size_t n);

/* The name of entry `ca`'s parent, or "" (callers hold no lock: copies only). */
int castore_parent_name(struct castore *cs, const struct ca *ca, char *out, size_t outlen);

#endif
