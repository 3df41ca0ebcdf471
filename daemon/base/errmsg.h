/*
 * A failed operation returns a negative enum signet_err and, for the caller
 * who sent the request, a sentence saying what was wrong. errmsg carries that
 * sentence from deep inside a module up to the reply.
 */
#ifndef SIGNETD_ERRMSG_H
#define SIGNETD_ERRMSG_H

#include <signet/signet.h>

#define ERRMSG_MAX 512

struct errmsg {
	int err; /* the error last recorded, 0 if none */
	char text[ERRMSG_MAX];
};

/* Record a message (em may be NULL) and return `err`, so callers can write
 * `return errmsg_set(em, SIGNET_E_NOT_FOUND, "no key named '%s'", name);`. */
int errmsg_set(struct errmsg *em, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like errmsg_set, appending the first queued OpenSSL error, and clearing the queue. */
int errmsg_openssl(struct errmsg *em, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
