/*
 * The audit trail: every privileged act, appended to a file (mode 0600) as
 * one JSON object per line. Each line starts with "prev", the SHA-256 of the
 * previous line (all zeros for the first), so a removed or edited line breaks
 * the chain; `signet audit verify FILE` checks it (proto/auditchain.c holds
 * the format both sides share).
 *
 * A line is durable when audit_append returns; concurrent appenders share
 * fsyncs. On open, the chain is resumed from the file's last line.
 */
#ifndef SIGNETD_AUDIT_H
#define SIGNETD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct audit;

struct audit_event {
	const char *caller;	   /* the envelope's client name; "" if none */
	const char *method;	   /* "SignCsr" */
	const char *object;	   /* "ca=issuing serial=0A1B...", "key=device-1"; may be "" */
	const char *status;	   /* "OK", "INVALID_ARGUMENT", ... */
	const char *message;	   /* the error message; "" on success */
	const uint8_t *request_id; /* may be NULL */
	size_t request_id_len;
};

/* Open or create `path`; refuse a file whose last line is not a chain line. */
int audit_open(const char *path, struct audit **out, char *err, size_t errlen);
void audit_close(struct audit *a);

/* Append one line, durably. -1 when it cannot be written (logged). */
int audit_append(struct audit *a, const struct audit_event *ev);

#endif
