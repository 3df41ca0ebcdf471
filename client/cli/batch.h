/*
 * 'signet issue --batch': what is pure in it (batch.c, unit-tested by
 * test_cli_batch.c): the request id of an input, the CSRs of a PEM bundle,
 * the names of the outputs, how inputs are cut into requests, and the
 * manifest in JSON or CSV. The command itself is issue_batch.c.
 */
#ifndef SIGNET_CLI_BATCH_H
#define SIGNET_CLI_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <signet/signet.h>

#define CLI_BATCH_ID_LEN 16
/* CSR bytes in one request: room for the envelope within signetd's
 * default message limit (1 MiB), whatever --batch-size says. */
#define CLI_BATCH_BYTES (768 * 1024)

/*
 * The request id of one input: the first 16 bytes of SHA-256 over a label,
 * the CA, the profile, the validity asked for and the input's bytes, each
 * length-prefixed. The same command on the same input gives the same id,
 * so running it again after a crash gets the certificates already issued
 * instead of new ones. -1 if hashing fails.
 */
int cli_batch_request_id(const uint8_t *csr, size_t len, const char *ca, const char *profile,
			 unsigned days, uint8_t out[CLI_BATCH_ID_LEN]);

/*
 * The CSRs of a PEM bundle: each "-----BEGIN CERTIFICATE REQUEST-----" (or
 * NEW CERTIFICATE REQUEST) block up to its END line, as text, in order;
 * anything between blocks is ignored. *out (free each with
 * signet_buf_free(), then free()) has *n > 0 entries. SIGNET_E_INVALID_ARGUMENT
 * when there is no block or one is not ended, SIGNET_E_NOMEM.
 */
int cli_csr_blocks(const uint8_t *text, size_t len, struct signet_buf **out, size_t *n);

/* 1 when `name` is a file 'issue --batch DIR' takes (*.csr, *.pem, *.der,
 * not a hidden file), and its name without that extension into stem. */
int cli_batch_stem(const char *name, char *stem, size_t len);

/* How many of the n inputs from `from` on go in the next request: at most
 * max_n, and CSRs of at most max_bytes together, but never none. */
size_t cli_batch_next(const size_t *csr_lens, size_t from, size_t n, size_t max_n,
		      size_t max_bytes);

/* Upper-case hex of a big-endian serial, as 'openssl x509 -serial' prints
 * it; "" when it does not fit (out has room for 20 octets). */
void cli_serial_hex(const uint8_t *serial, size_t len, char out[41]);

enum cli_manifest_format { CLI_MANIFEST_JSON, CLI_MANIFEST_CSV };

/* CSV for a file name ending ".csv" (any case), JSON otherwise. */
enum cli_manifest_format cli_manifest_format_of(const char *path);

/* One input's line of the manifest; NULL fields are written empty. */
struct cli_manifest_row {
	const char *input;   /* the file, or BUNDLE#N */
	const char *output;  /* the certificate written; "" when none */
	const char *serial;  /* hex; "" when not issued */
	const char *subject; /* the certificate's, or the CSR's; "" when unknown */
	const char *status;  /* "OK", "INVALID_ARGUMENT", ... */
	const char *message; /* why not; "" when issued */
};

/*
 * The manifest: JSON, an array of objects with the row's members (strings
 * escaped per RFC 8259, bytes that are not UTF-8 as U+FFFD), or CSV (RFC
 * 4180: a header line, fields quoted when they hold a comma, a quote, CR,
 * LF or a space at either end, quotes doubled, CRLF line ends). -1 when
 * writing fails.
 */
int cli_manifest_write(FILE *f, enum cli_manifest_format fmt, const struct cli_manifest_row *rows,
		       size_t n);

#endif
