/*
 * What the signet commands share: the context they run in and the one way
 * they report a failure (main prints it as "signet: STATUS: reason").
 */
#ifndef SIGNET_CLI_H
#define SIGNET_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <signet/signet.h>

#include "args.h"
#include "status.h"

/* Largest input 'signet sign' reads: signetd's default message limit. */
#define CLI_MAX_INPUT (1024 * 1024)
#define CLI_MSG_MAX   512
/* Largest DER cli_pem_encode() takes; certificates are a few KiB. */
#define CLI_MAX_PEM_DER (16 * 1024 * 1024)
/* Largest certificate or chain file a command reads; a chain is a few KiB. */
#define CLI_MAX_CERT (256 * 1024)

struct cli_ctx {
	signet_client *client;
	FILE *in;	       /* what "--in -" reads */
	FILE *out;	       /* standard output */
	FILE *err;	       /* notes beside the output; NULL: standard error */
	char msg[CLI_MSG_MAX]; /* why the command failed */
};

/* Record why the command failed and return `err`. */
int cli_error(struct cli_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record a libsignet failure with the client's message; returns `err`. */
int cli_client_error(struct cli_ctx *ctx, int err);

/*
 * Open the client for args->endpoint (a failure: exit 3, or 1 on NOMEM) and
 * load args->client's credential from args->secret_file, if given (a
 * failure: IO, exit 1).
 */
int cli_connect(struct cli_ctx *ctx, const struct cli_args *args);
/* Run the parsed command (not help or version). */
int cli_run(struct cli_ctx *ctx, const struct cli_args *args);
/*
 * What the commands that make or replace a CA print: the CA line, then the
 * certificate as PEM to args->out (if given), then `link` (NULL: none asked
 * for) to args->link_out; an empty link is a note on ctx->err and no file.
 */
int cli_report_ca(struct cli_ctx *ctx, const struct cli_args *args, const struct signet_ca_info *ca,
		  const struct signet_buf *link);

/* issue_batch.c: 'signet issue --batch'. */
int cli_cmd_issue_batch(struct cli_ctx *ctx, const struct cli_args *args);

/* possession.c: 'challenge create', 'challenge verify', 'verify-chain'. */
int cli_cmd_challenge_create(struct cli_ctx *ctx, const struct cli_args *args);
int cli_cmd_challenge_verify(struct cli_ctx *ctx, const struct cli_args *args);
int cli_cmd_verify_chain(struct cli_ctx *ctx, const struct cli_args *args);

/* enrol.c: 'enrol code', 'enrol cacerts', 'enrol scep'. */
int cli_cmd_enrol_code(struct cli_ctx *ctx, const struct cli_args *args);
int cli_cmd_enrol_scep(struct cli_ctx *ctx, const struct cli_args *args);
int cli_cmd_enrol_cacerts(struct cli_ctx *ctx, const struct cli_args *args);
int cli_cmd_enrol_est(struct cli_ctx *ctx, const struct cli_args *args);
/* pem.c: the certificates of `text` (concatenated PEM, or concatenated DER),
 * each a signet_buf in *out (free each and the array); 0, or
 * SIGNET_E_INVALID_ARGUMENT when it holds none or is malformed. */
int cli_certs_split(const uint8_t *text, size_t len, struct signet_buf **out, size_t *n);

/* io.c: bounded input from a file or "-", output to a file or stdout (NULL / "-"). */
int cli_read_input(struct cli_ctx *ctx, const char *path, size_t max, struct signet_buf *out);
int cli_write_output(struct cli_ctx *ctx, const char *path, const void *data, size_t len);

/*
 * pem.c: `der` as PEM with "-----BEGIN label-----", 64 characters a line.
 * *out is a NUL-terminated string to free(). SIGNET_E_INVALID_ARGUMENT for an
 * empty or oversized input, SIGNET_E_NOMEM.
 */
int cli_pem_encode(const char *label, const uint8_t *der, size_t len, char **out);

/* print.c: what the commands print. */
void cli_print_hex(FILE *f, const uint8_t *data, size_t len);
void cli_print_key(FILE *f, const struct signet_key_info *key);
void cli_print_info(FILE *f, const struct signet_info *info);
void cli_print_health(FILE *f, const struct signet_health *health);
/* NAME parent=PARENT|- subject=SUBJECT not_after=YYYY-MM-DDTHH:MM:SSZ path_len=N|none */
void cli_print_ca(FILE *f, const struct signet_ca_info *ca);
/* NAME key=LABEL: the token key a CA request is for. */
void cli_print_ca_key(FILE *f, const char *name, const char *key);
/*
 * SERIAL ca=CA profile=PROFILE subject=SUBJECT not_after=YYYY-MM-DDTHH:MM:SSZ
 * status=valid|revoked(REASON): a certificate in the ledger ('-' for an empty field).
 */
void cli_print_issued(FILE *f, const struct signet_issued_cert *cert);
/* What 'ledger list' says on standard error when a page is not the last. */
void cli_print_next_page(FILE *f, const char *token);
/* CHALLENGE_ID nonce=HEX expires=YYYY-MM-DDTHH:MM:SSZ */
void cli_print_challenge(FILE *f, const struct signet_challenge *challenge);
/* CODE expires=YYYY-MM-DDTHH:MM:SSZ */
void cli_print_enrolment_code(FILE *f, const char *code, int64_t expires_at);
/* OK device=ID fingerprint=HEX64 serial=SERIAL ca=CA ('-' for an empty field) */
void cli_print_verified(FILE *f, const struct signet_verified *verified);

#endif
