/*
 * The audit log's chain: hashing a line, reading its "prev", and checking a
 * whole file. The verifier only trusts bytes: it never parses the JSON past
 * the "prev" prefix, so anything after it, valid JSON or not, is covered by
 * the next line's hash and nothing else.
 *
 * A line, its newline included, is at most AUDITCHAIN_LINE_MAX bytes; the
 * daemon's appender keeps to the same bound.
 */
#include "auditchain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hex.h"

#define HEX_LEN (2 * AUDITCHAIN_HASH_LEN)

/* {"prev":"<64 hex>", */
static const char prev_head[] = "{\"prev\":\"";
#define PREV_HEAD_LEN (sizeof(prev_head) - 1)
#define PREV_LINE_MIN (PREV_HEAD_LEN + HEX_LEN + 2)

/*
 * EVP_Digest of SHA-256 fails only when OpenSSL cannot allocate. The caller
 * then gets "", which matches no "prev": the verifier reports the line, the
 * appender refuses to write.
 */
void auditchain_hash_hex(const char *line, size_t len, char out[2 * AUDITCHAIN_HASH_LEN + 1])
{
	unsigned char md[AUDITCHAIN_HASH_LEN];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(line, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != AUDITCHAIN_HASH_LEN)
		return;
	hex_encode(md, AUDITCHAIN_HASH_LEN, out, HEX_LEN + 1, HEX_LOWER, '\0');
}

int auditchain_prev(const char *line, size_t len, char out[2 * AUDITCHAIN_HASH_LEN + 1])
{
	const char *hex = line + PREV_HEAD_LEN;

	if (len < PREV_LINE_MIN || memcmp(line, prev_head, PREV_HEAD_LEN) != 0)
		return -1;
	/* Lower case only: that is what auditchain_hash_hex writes. */
	if (hex_span(hex, HEX_LEN, HEX_LOWER) != HEX_LEN)
		return -1;
	if (hex[HEX_LEN] != '"' || hex[HEX_LEN + 1] != ',')
		return -1;
	memcpy(out, hex, HEX_LEN);
	out[HEX_LEN] = '\0';
	return 0;
}

enum read_result {
	READ_LINE,     /* a whole line, newline seen (not stored) */
	READ_EOF,      /* end of file before any byte */
	READ_TORN,     /* end of file in the middle of a line */
	READ_TOO_LONG, /* no newline within AUDITCHAIN_LINE_MAX bytes */
	READ_IO_ERROR, /* errno says why */
};

/*
 * One line into buf (AUDITCHAIN_LINE_MAX bytes), without its newline. Bytes
 * are bytes: a NUL in a line is kept and hashed like any other. The caller
 * holds the stream's lock.
 */
static enum read_result read_line(FILE *f, char *buf, size_t *len)
{
	int c;

	*len = 0;
	while ((c = getc_unlocked(f)) != EOF) {
		if (c == '\n')
			return READ_LINE;
		/* Room for the newline too: the whole line is at most LINE_MAX. */
		if (*len + 1 >= AUDITCHAIN_LINE_MAX)
			return READ_TOO_LONG;
		buf[(*len)++] = (char)c;
	}
	if (ferror_unlocked(f))
		return READ_IO_ERROR;
	return *len == 0 ? READ_EOF : READ_TORN;
}

/* Why line n (1-based) does not continue the chain whose last hash is `want`. */
static int check_line(const char *line, size_t len, long n, const char *want, char *err,
		      size_t errlen)
{
	char prev[HEX_LEN + 1];

	if (auditchain_prev(line, len, prev) != 0) {
		snprintf(err, errlen,
			 "not a chain line: it does not start with "
			 "{\"prev\":\"<64 hex digits>\",");
		return -1;
	}
	if (strcmp(prev, want) == 0)
		return 0;
	if (n == 1)
		snprintf(err, errlen,
			 "prev is not 64 zeros: lines before it were removed, or "
			 "it was edited");
	else
		snprintf(err, errlen,
			 "prev does not match the hash of line %ld: a line was edited, removed "
			 "or moved",
			 n - 1);
	return -1;
}

static void explain_read(enum read_result rr, int saved_errno, char *err, size_t errlen)
{
	switch (rr) {
	case READ_TORN:
		snprintf(err, errlen, "no newline at the end of the file (a torn write?)");
		break;
	case READ_TOO_LONG:
		snprintf(err, errlen, "longer than %d bytes", AUDITCHAIN_LINE_MAX - 1);
		break;
	default:
		snprintf(err, errlen, "cannot read: %s", strerror(saved_errno));
		break;
	}
}

/* auditchain_verify with the stream locked; `hash` holds the running hash. */
static long verify_locked(FILE *f, char *buf, long *bad_line, char *err, size_t errlen,
			  char hash[HEX_LEN + 1])
{
	enum read_result rr;
	size_t len;
	long n = 0;

	errno = 0;
	while ((rr = read_line(f, buf, &len)) == READ_LINE) {
		n++;
		if (check_line(buf, len, n, hash, err, errlen) != 0) {
			*bad_line = n;
			return -1;
		}
		auditchain_hash_hex(buf, len, hash);
	}
	if (rr == READ_EOF)
		return n;
	explain_read(rr, errno, err, errlen);
	*bad_line = n + 1;
	return -1;
}

/*
 * An empty log verifies, with 0 lines; its "last hash" is then the 64 zeros
 * the first line must carry, so an appender resumes the same way in both
 * cases. Removing lines from the end cannot be seen here: nothing follows
 * them (the "seq" of the last line says how many there were).
 */
long auditchain_verify(FILE *f, long *bad_line, char *err, size_t errlen,
		       char last_hash[2 * AUDITCHAIN_HASH_LEN + 1])
{
	char *buf = malloc(AUDITCHAIN_LINE_MAX);
	char hash[HEX_LEN + 1];
	long n;

	*bad_line = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(hash, '0', HEX_LEN);
	hash[HEX_LEN] = '\0';
	flockfile(f);
	n = verify_locked(f, buf, bad_line, err, errlen, hash);
	funlockfile(f);
	free(buf);
	if (n >= 0 && last_hash != NULL)
		memcpy(last_hash, hash, sizeof(hash));
	return n;
}
