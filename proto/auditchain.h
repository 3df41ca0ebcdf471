/*
 * The audit log's chain format, shared by signetd (which writes it) and the
 * signet CLI (which verifies it).
 *
 * Every line is one JSON object whose first member is
 *   {"prev":"<64 hex digits>", ...}
 * where the digits are the SHA-256 of the previous line's bytes (without its
 * newline), or 64 zeros on the first line. Lines end with "\n".
 */
#ifndef SIGNET_AUDITCHAIN_H
#define SIGNET_AUDITCHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AUDITCHAIN_HASH_LEN 32
#define AUDITCHAIN_LINE_MAX 8192

/* SHA-256 of a line (without its newline) as 64 lower-case hex digits + NUL. */
void auditchain_hash_hex(const char *line, size_t len, char out[2 * AUDITCHAIN_HASH_LEN + 1]);

/* The "prev" value of a line, copied into out. -1 if the line does not start
 * with {"prev":"<64 hex>", */
int auditchain_prev(const char *line, size_t len, char out[2 * AUDITCHAIN_HASH_LEN + 1]);

/*
 * Check a whole log. Returns the number of lines when every line's prev is
 * the hash of the line before it; -1 otherwise, with *bad_line (1-based) and
 * a reason in err. A line over AUDITCHAIN_LINE_MAX or without its newline is
 * a failure. `last_hash` (may be NULL) receives the last line's hash.
 */
long auditchain_verify(FILE *f, long *bad_line, char *err, size_t errlen,
		       char last_hash[2 * AUDITCHAIN_HASH_LEN + 1]);

#endif
