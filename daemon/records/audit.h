/*
 * The audit trail: every privileged act, appended to a file (mode 0600) as
 * one JSON object per line. Each line starts with "prev", the SHA-256 of the
 * previous line (all zeros for the first), so a removed or edited line breaks
 * the chain; `signet audit verify FILE` checks it (proto/auditchain.c holds
 * the format both sides share).
 *
 * Durability: a line is written to the file (so in the kernel: a crash of
 * signetd loses nothing) before audit_append returns. With flush_ms 0 it is
 * also on disk by then, concurrent appenders sharing fdatasyncs, and every
 * audited request waits for a disk sync. With flush_ms > 0 a flusher thread
 * syncs about flush_ms after a line is written (plus the sync itself), one
 * fdatasync for a whole burst, and appenders do not wait: a power cut can
 * lose the last flush_ms or so of lines (the chain left on disk still
 * verifies). On open, the chain is resumed from the file's last line.
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

/*
 * Open or create `path` (lines already there are synced first); refuse a file
 * whose chain does not verify. flush_ms 0: each append is durable when it
 * returns; else lines are synced by a flusher thread started here, about
 * flush_ms (<= 1000) after they are written. *out is the caller's to
 * audit_close; on failure it is NULL and err says why.
 */
int audit_open(const char *path, unsigned flush_ms, struct audit **out, char *err, size_t errlen);

/*
 * Once no append is running or will start: stops the flusher without waiting
 * out its interval, syncs the lines not yet synced, frees. NULL is fine.
 */
void audit_close(struct audit *a);

/*
 * Append one line: written when it returns, and durable too with flush_ms 0.
 * -1 when it cannot be written, or (flush_ms 0) not be synced; after a failed
 * write that could not be undone or a failed fdatasync, every later append
 * fails too. Failures are logged. Thread-safe.
 */
int audit_append(struct audit *a, const struct audit_event *ev);

/*
 * Wait until every line written so far is on disk (with flush_ms > 0 they
 * may not be yet). -1 when a sync failed (now or before). Thread-safe.
 */
int audit_sync(struct audit *a);

/* The path the log was opened with. */
const char *audit_path(const struct audit *a);

/* A place in the log: the end of a line, and that line's hash (64 zeros
 * for the start of the file), which tells whether a log is still the one
 * the position was taken in. */
struct audit_position {
	uint64_t offset;
	char hash[65];
};

/* Where the log ends now. Thread-safe. */
void audit_position(struct audit *a, struct audit_position *out);

/*
 * Pass each whole line written after `from` (without its newline; lines are
 * at most AUDITCHAIN_LINE_MAX bytes) to `each`, up to the end of the log as
 * it is when the scan starts; a non-zero return of `each` stops the scan and
 * is returned. 1, before any line is passed, when `from` is not a place in
 * this log (the line there does not follow that hash: the file was replaced
 * or lost its end); -1 with err when it cannot be read. For start-up, before
 * appends begin: appends during a scan are not seen.
 */
int audit_scan(struct audit *a, const struct audit_position *from,
	       int (*each)(const char *line, size_t len, void *arg), void *arg, char *err,
	       size_t errlen);

#endif
