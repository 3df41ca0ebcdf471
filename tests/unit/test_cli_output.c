/*
 * Unit tests for client/cli: output formats (print.c), bounded I/O (io.c), the
 * command runner, and the records commands against a scripted signetd.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "authmac.h"
#include "cli.h"
#include "wire.h"

/* Captures what a function prints. */
struct capture {
	FILE *f;
	char *text;
	size_t len;
};

static void capture_start(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static const char *capture_end(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->text;
}

/*
 * --- What the CLI prints: rows of (input -> text) ---
 *
 * Each row is one cmocka test of its own name: `print` writes `in` to a
 * captured stream, and the text must be `want`, or hold each of `part`.
 * A new line format case is one row.
 */
struct print_case {
	const char *name;
	void (*print)(FILE *f, const void *in);
	const void *in;
	const char *want;    /* the whole text; NULL: not checked */
	const char *part[2]; /* pieces of the text; NULL: not checked */
};

static void print_key(FILE *f, const void *in)
{
	cli_print_key(f, in);
}

static void print_info(FILE *f, const void *in)
{
	cli_print_info(f, in);
}

static void print_health(FILE *f, const void *in)
{
	cli_print_health(f, in);
}

static void print_ca(FILE *f, const void *in)
{
	cli_print_ca(f, in);
}

/* cli_print_ca_key() of a {name, key} pair. */
static void print_ca_key(FILE *f, const void *in)
{
	const char *const *pair = in;

	cli_print_ca_key(f, pair[0], pair[1]);
}

static void print_issued(FILE *f, const void *in)
{
	cli_print_issued(f, in);
}

static void print_next_page(FILE *f, const void *in)
{
	cli_print_next_page(f, in);
}

static void print_challenge(FILE *f, const void *in)
{
	cli_print_challenge(f, in);
}

static void print_verified(FILE *f, const void *in)
{
	cli_print_verified(f, in);
}

/* 32 bytes of 0xab, as the verified line prints a fingerprint. */
#define AB64 "abababababababababababababababababababababababababababababababab"

static uint8_t key_id[] = {0x01, 0xab, 0xff};
static enum signet_key_alg info_algs[] = {SIGNET_KEY_EC_P256, SIGNET_KEY_RSA_2048};
static char *info_methods[] = {"GetInfo", "Health"};
static uint8_t challenge_nonce[] = {0x00, 0x1f, 0xab, 0xff};
static uint8_t ab_fp[32] = {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
			    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
			    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
static const char *ca_key_plain[] = {"sub", "ca.sub"};
static const char *ca_key_escape[] = {"sub", "ca2.sub\x1b[2J"};

static const struct print_case print_cases[] = {
	{.name = "print_key",
	 .print = print_key,
	 .in = &(struct signet_key_info){.name = "web-1",
					 .alg = SIGNET_KEY_EC_P256,
					 .id = key_id,
					 .id_len = sizeof(key_id),
					 .sensitive = 1,
					 .extractable = 0,
					 .usage = SIGNET_KEY_USAGE_SIGN | SIGNET_KEY_USAGE_UNWRAP},
	 .want = "web-1 p256 01abff sensitive=yes extractable=no usage=sign,unwrap\n"},
	/* No id and an algorithm this CLI does not know: the field count stays the same. */
	{.name = "print_key_unknown_alg_no_id",
	 .print = print_key,
	 .in = &(struct signet_key_info){.name = "web-1",
					 .alg = (enum signet_key_alg)9,
					 .id = key_id,
					 .id_len = 0,
					 .sensitive = 0,
					 .extractable = 1,
					 .usage = 0},
	 .want = "web-1 unknown(9) - sensitive=no extractable=yes usage=-\n"},
	{.name = "print_info",
	 .print = print_info,
	 .in =
		 &(struct signet_info){
			 .daemon_version = "0.1.0",
			 .protocol_version = 1,
			 .token_label =
				 "lab\x1b]0;el", /* terminal escapes from the token are defused */
			 .token_serial = "42",
			 .token_model = "SoftHSM v2",
			 .token_manufacturer = "SoftHSM project",
			 .slot_id = 1234567890123ull,
			 .key_algs = info_algs,
			 .n_key_algs = 2,
			 .methods = info_methods,
			 .n_methods = 2,
			 .workers = 4,
			 .max_message_size = 1048576,
		 },
	 .want = "daemon_version: 0.1.0\n"
		 "protocol_version: 1\n"
		 "token_label: lab?]0;el\n"
		 "token_serial: 42\n"
		 "token_model: SoftHSM v2\n"
		 "token_manufacturer: SoftHSM project\n"
		 "slot: 1234567890123\n"
		 "algorithms: p256 rsa2048\n"
		 "methods: GetInfo Health\n"
		 "workers: 4\n"
		 "max_message_size: 1048576\n"},
	{.name = "print_health",
	 .print = print_health,
	 .in = &(struct signet_health){.serving = 1, .token_state = "ok", .uptime_seconds = 93},
	 .want = "SERVING token=ok uptime=93s\n"},
	{.name = "print_ca",
	 .print = print_ca,
	 .in = &(struct signet_ca_info){.name = "issuing",
					.key = "ca.issuing",
					.subject = "/CN=Issuing CA/O=Ex\n\x1b[2J",
					.parent = "root",
					.not_before = 1700000000,
					.not_after = 1893456000, /* 2030-01-01 */
					.path_len_limited = 1,
					.path_len = 0},
	 .want = "issuing parent=root subject=/CN=Issuing CA/O=Ex??[2J "
		 "not_after=2030-01-01T00:00:00Z path_len=0\n"},
	/* A root, no pathLen, and a time gmtime cannot express. */
	{.name = "print_ca_root_no_path_len",
	 .print = print_ca,
	 .in = &(struct signet_ca_info){.name = "root",
					.key = "ca.issuing",
					.subject = "/CN=Root",
					.parent = "",
					.not_before = 1700000000,
					.not_after = INT64_MAX,
					.path_len_limited = 0,
					.path_len = 7 /* meaningless without the flag */},
	 .want = "root parent=- subject=/CN=Root not_after=- path_len=none\n"},
	{.name = "print_ca_epoch_path_len_32",
	 .print = print_ca,
	 .in = &(struct signet_ca_info){.name = "root",
					.key = "ca.issuing",
					.subject = "/CN=Root",
					.parent = "",
					.not_before = 1700000000,
					.not_after = 0,
					.path_len_limited = 1,
					.path_len = 32},
	 .want = "root parent=- subject=/CN=Root not_after=1970-01-01T00:00:00Z path_len=32\n"},
	{.name = "print_ca_key",
	 .print = print_ca_key,
	 .in = ca_key_plain,
	 .want = "sub key=ca.sub\n"},
	{.name = "print_ca_key_escape",
	 .print = print_ca_key,
	 .in = ca_key_escape,
	 .want = "sub key=ca2.sub?[2J\n"},
	{.name = "print_issued",
	 .print = print_issued,
	 .in = &(struct signet_issued_cert){.serial = "0A1B",
					    .ca = "i1",
					    .profile = "device",
					    .subject = "/CN=dev a/O=Ex\x1b[2J",
					    .not_after = 1893456000},
	 .want = /* 2030-01-01 */
	 "0A1B ca=i1 profile=device subject=/CN=dev a/O=Ex?[2J "
	 "not_after=2030-01-01T00:00:00Z status=valid\n"},
	/* Revoked; the RFC 5280 name of the reason; an empty field is '-'. */
	{.name = "print_issued_revoked",
	 .print = print_issued,
	 .in = &(struct signet_issued_cert){.serial = "0A1B",
					    .ca = "i1",
					    .profile = "",
					    .subject = "/CN=x",
					    .not_after = INT64_MAX,
					    .revoked = 1,
					    .reason = SIGNET_REASON_CA_COMPROMISE},
	 .want = "0A1B ca=i1 profile=- subject=/CN=x not_after=- status=revoked(cACompromise)\n"},
	/* A reason this CLI does not know keeps the field one word. */
	{.name = "print_issued_unknown_reason",
	 .print = print_issued,
	 .in = &(struct signet_issued_cert){.serial = "0A1B",
					    .ca = "i1",
					    .profile = "",
					    .subject = "/CN=x",
					    .not_after = INT64_MAX,
					    .revoked = 1,
					    .reason = (enum signet_revocation_reason)7},
	 .part = {" status=revoked(unknown(7))\n"}},
	{.name = "print_next_page",
	 .print = print_next_page,
	 .in = "42\n",
	 .want = "signet: note: more certificates follow: add --page 42? "
		 "for the next page, or --all for every page\n"},
	{.name = "print_challenge",
	 .print = print_challenge,
	 .in = &(struct signet_challenge){.id = "00112233445566778899aabbccddeeff",
					  .nonce = challenge_nonce,
					  .nonce_len = sizeof(challenge_nonce),
					  .expires_at = 1893456000},
	 .want = /* 2030-01-01 */
	 "00112233445566778899aabbccddeeff nonce=001fabff expires=2030-01-01T00:00:00Z\n"},
	/* Nothing to show keeps each field one word. */
	{.name = "print_challenge_empty",
	 .print = print_challenge,
	 .in = &(struct signet_challenge){.id = "",
					  .nonce = challenge_nonce,
					  .nonce_len = 0,
					  .expires_at = INT64_MAX},
	 .want = "- nonce=- expires=-\n"},
	{.name = "print_verified",
	 .print = print_verified,
	 .in = &(struct signet_verified){.device_id = "dev-1\x1b[2J",
					 .leaf_spki_sha256 = ab_fp,
					 .leaf_spki_sha256_len = sizeof(ab_fp),
					 .leaf_serial = "0A1B",
					 .leaf_ca = "issuing"},
	 .want = "OK device=dev-1?[2J fingerprint=" AB64 " serial=0A1B ca=issuing\n"},
	/* A leaf another CA issued, without a CN. */
	{.name = "print_verified_other_ca_no_cn",
	 .print = print_verified,
	 .in = &(struct signet_verified){.device_id = "",
					 .leaf_spki_sha256 = ab_fp,
					 .leaf_spki_sha256_len = sizeof(ab_fp),
					 .leaf_serial = "0A1B",
					 .leaf_ca = ""},
	 .part = {"OK device=- fingerprint=abab", " serial=0A1B ca=-\n"}},
};

#define N_PRINT_CASES (sizeof(print_cases) / sizeof(print_cases[0]))

/* The test of one row of print_cases[], its prestate. */
static void test_print_case(void **state)
{
	const struct print_case *row = *state;
	struct capture c;

	capture_start(&c);
	row->print(c.f, row->in);
	capture_end(&c);
	if (row->want != NULL)
		assert_string_equal(c.text, row->want);
	for (size_t i = 0; i < 2 && row->part[i] != NULL; i++)
		assert_non_null(strstr(c.text, row->part[i]));
	free(c.text);
}

static void test_pem_encode(void **state)
{
	uint8_t der[49];
	char *pem = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)i;
	/* 48 bytes fill exactly one 64-character line. */
	assert_int_equal(cli_pem_encode("CERTIFICATE", der, 48, &pem), 0);
	assert_string_equal(pem,
			    "-----BEGIN CERTIFICATE-----\n"
			    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"
			    "-----END CERTIFICATE-----\n");
	free(pem);
	assert_int_equal(cli_pem_encode("CERTIFICATE", der, 49, &pem), 0);
	assert_string_equal(pem,
			    "-----BEGIN CERTIFICATE-----\n"
			    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"
			    "MA==\n"
			    "-----END CERTIFICATE-----\n");
	free(pem);
	/* RFC 4648 test vectors for the padding. */
	assert_int_equal(cli_pem_encode("X", (const uint8_t *)"fo", 2, &pem), 0);
	assert_string_equal(pem, "-----BEGIN X-----\nZm8=\n-----END X-----\n");
	free(pem);
	assert_int_equal(cli_pem_encode("X", (const uint8_t *)"foobar", 6, &pem), 0);
	assert_string_equal(pem, "-----BEGIN X-----\nZm9vYmFy\n-----END X-----\n");
	free(pem);
	pem = NULL;
	assert_int_equal(cli_pem_encode("X", der, 0, &pem), SIGNET_E_INVALID_ARGUMENT);
	assert_null(pem);
}

static void test_read_stdin_bounded(void **state)
{
	char data[] = "0123456789";
	struct cli_ctx ctx = {0};
	struct signet_buf buf = {0};

	(void)state;
	ctx.in = fmemopen(data, 10, "r");
	assert_int_equal(cli_read_input(&ctx, "-", 10, &buf), 0);
	assert_int_equal(buf.len, 10);
	assert_memory_equal(buf.data, data, 10);
	signet_buf_free(&buf);
	fclose(ctx.in);

	/* One byte over the limit is refused, and nothing is returned. */
	ctx.in = fmemopen(data, 10, "r");
	assert_int_equal(cli_read_input(&ctx, "-", 9, &buf), CLI_E_IO);
	assert_string_equal(ctx.msg, "standard input is larger than the limit of 9 bytes");
	assert_null(buf.data);
	fclose(ctx.in);

	/* Empty input is a valid (empty) message. */
	ctx.in = fmemopen(data, 0, "r");
	assert_int_equal(cli_read_input(&ctx, NULL, 9, &buf), 0);
	assert_int_equal(buf.len, 0);
	signet_buf_free(&buf);
	fclose(ctx.in);
}

static void test_files(void **state)
{
	char path[] = "/tmp/test_cli_output.XXXXXX";
	struct cli_ctx ctx = {0};
	struct signet_buf buf = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cli_write_output(&ctx, path, "signature", 9), 0);
	assert_int_equal(cli_read_input(&ctx, path, CLI_MAX_INPUT, &buf), 0);
	assert_int_equal(buf.len, 9);
	assert_memory_equal(buf.data, "signature", 9);
	signet_buf_free(&buf);
	assert_int_equal(cli_read_input(&ctx, path, 8, &buf), CLI_E_IO);
	unlink(path);

	assert_int_equal(cli_read_input(&ctx, "/nonexistent/in", 8, &buf), CLI_E_IO);
	assert_string_equal(ctx.msg, "cannot open '/nonexistent/in': No such file or directory");
	assert_int_equal(cli_write_output(&ctx, "/nonexistent/out", "x", 1), CLI_E_IO);
	assert_string_equal(ctx.msg, "cannot create '/nonexistent/out': No such file or directory");
	/* A directory opens but does not read. */
	assert_int_equal(cli_read_input(&ctx, "/tmp", 8, &buf), CLI_E_IO);
	assert_non_null(strstr(ctx.msg, "cannot read /tmp"));
}

static void test_write_to_stdout(void **state)
{
	struct cli_ctx ctx = {0};
	struct capture c;

	(void)state;
	capture_start(&c);
	ctx.out = c.f;
	assert_int_equal(cli_write_output(&ctx, NULL, "abc", 3), 0);
	assert_int_equal(cli_write_output(&ctx, "-", "def", 3), 0);
	assert_string_equal(capture_end(&c), "abcdef");
	free(c.text);
}

/* Run a command line against an endpoint nobody serves. */
static int run_line(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_args args;
	int r;

	assert_int_equal(cli_parse(argc, argv, NULL, &args), 0);
	if ((r = cli_connect(ctx, &args)) == 0)
		r = cli_run(ctx, &args);
	signet_close(ctx->client);
	ctx->client = NULL;
	cli_args_free(&args);
	return r;
}

static void test_absent_daemon_is_exit_3(void **state)
{
	char *argv[] = {"signet", "--endpoint", "inproc://nobody-here", "--timeout", "100", "info"};
	struct cli_ctx ctx = {0};
	int r;

	(void)state;
	r = run_line(&ctx, 6, argv);
	assert_int_equal(r, SIGNET_E_DEADLINE_EXCEEDED);
	assert_int_equal(cli_exit_code(r), 3);
	assert_string_equal(ctx.msg,
			    "no answer from signetd at inproc://nobody-here within 100 ms");
}

static void test_bad_endpoint_is_exit_3(void **state)
{
	char *argv[] = {"signet", "--endpoint", "carrier-pigeon://coop", "health"};
	struct cli_ctx ctx = {0};
	int r;

	(void)state;
	r = run_line(&ctx, 4, argv);
	assert_int_equal(r, SIGNET_E_TRANSPORT);
	assert_int_equal(cli_exit_code(r), 3);
	assert_non_null(strstr(ctx.msg, "cannot use endpoint 'carrier-pigeon://coop'"));
}

static void test_sign_reads_input_before_asking(void **state)
{
	char *argv[] = {"signet",    "--endpoint", "inproc://nobody-here",
			"--timeout", "60000",	   "sign",
			"k",	     "--in",	   "/nonexistent/msg"};
	struct cli_ctx ctx = {0};

	(void)state;
	/* Fails at once on the file, not after the 60 s timeout. */
	assert_int_equal(run_line(&ctx, 9, argv), CLI_E_IO);
	assert_int_equal(cli_exit_code(CLI_E_IO), 1);
}

static void test_verify_code_writes_nothing_on_failure(void **state)
{
	char path[] = "/tmp/test_cli_output.XXXXXX";
	char *argv[] = {
		"signet",      "--endpoint", "inproc://nobody-here", "--timeout", "100", "ca",
		"verify-code", "root",	     "0123ABCDEF",	     "--out",	  path};
	struct cli_ctx ctx = {0};
	int fd = mkstemp(path);
	int r;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	/* No answer: exit 3, and --out FILE is not even created. */
	r = run_line(&ctx, 11, argv);
	assert_int_equal(r, SIGNET_E_DEADLINE_EXCEEDED);
	assert_int_equal(cli_exit_code(r), 3);
	assert_int_equal(access(path, F_OK), -1);
}

/* A fresh path that does not exist yet. */
static void temp_path(char *path)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
}

static void assert_file_bytes(const char *path, const void *want, size_t len)
{
	struct cli_ctx ctx = {0};
	struct signet_buf buf = {0};

	assert_int_equal(cli_read_input(&ctx, path, CLI_MAX_INPUT, &buf), 0);
	assert_int_equal(buf.len, len);
	assert_memory_equal(buf.data, want, len);
	signet_buf_free(&buf);
}

static void assert_file(const char *path, const char *want)
{
	assert_file_bytes(path, want, strlen(want));
}

#define FO_PEM	   "-----BEGIN CERTIFICATE-----\nZm8=\n-----END CERTIFICATE-----\n"
#define FOOBAR_PEM "-----BEGIN CERTIFICATE-----\nZm9vYmFy\n-----END CERTIFICATE-----\n"
#define ROOT_LINE  "root parent=- subject=/CN=Root not_after=1970-01-01T00:00:00Z path_len=none\n"

static void test_report_ca(void **state)
{
	char out_path[] = "/tmp/test_cli_output.XXXXXX",
	     link_path[] = "/tmp/test_cli_output.XXXXXX";
	uint8_t cert[] = {'f', 'o'};
	struct signet_ca_info ca = {.name = "root",
				    .parent = "",
				    .subject = "/CN=Root",
				    .cert_der = cert,
				    .cert_len = 2};
	struct signet_buf link = {.data = (uint8_t *)"foobar", .len = 6};
	struct cli_args args = {.name = "root", .out = out_path, .link_out = link_path};
	struct cli_ctx ctx = {0};
	struct capture out, err;

	(void)state;
	temp_path(out_path);
	temp_path(link_path);
	/* A re-keyed root: the line, the new certificate, the link. */
	capture_start(&out);
	capture_start(&err);
	ctx.out = out.f;
	ctx.err = err.f;
	assert_int_equal(cli_report_ca(&ctx, &args, &ca, &link), 0);
	assert_string_equal(capture_end(&out), ROOT_LINE);
	assert_string_equal(capture_end(&err), "");
	free(out.text);
	free(err.text);
	assert_file(out_path, FO_PEM);
	assert_file(link_path, FOOBAR_PEM);
	unlink(link_path);

	/* No link (not a root, or a root with pathLen 0): a note, and no file. */
	link.data = NULL;
	link.len = 0;
	capture_start(&out);
	capture_start(&err);
	ctx.out = out.f;
	ctx.err = err.f;
	assert_int_equal(cli_report_ca(&ctx, &args, &ca, &link), 0);
	assert_string_equal(capture_end(&out), ROOT_LINE);
	assert_non_null(strstr(capture_end(&err), "signet: note: no link certificate for CA "
						  "'root'"));
	assert_non_null(strstr(err.text, link_path));
	free(out.text);
	free(err.text);
	assert_int_equal(access(link_path, F_OK), -1);
	unlink(out_path);

	/* "--out -": the certificate follows the line on standard output. */
	args.out = "-";
	args.link_out = NULL;
	capture_start(&out);
	ctx.out = out.f;
	ctx.err = NULL;
	assert_int_equal(cli_report_ca(&ctx, &args, &ca, NULL), 0);
	assert_string_equal(capture_end(&out), ROOT_LINE FO_PEM);
	free(out.text);
}

/* The lifecycle verbs against nobody: exit 3, and no --out or --link-out file. */
static void test_lifecycle_writes_nothing_on_failure(void **state)
{
	char out[] = "/tmp/test_cli_output.XXXXXX", link[] = "/tmp/test_cli_output.XXXXXX";
	char *lines[][6] = {
		{"request", "sub", "--subject", "/CN=S", "--out", out},
		{"renew", "root", "--out", out, "--days", "9"},
		{"rekey", "root", "--out", out, "--link-out", link},
	};
	struct cli_ctx ctx = {0};

	(void)state;
	temp_path(out);
	temp_path(link);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char *argv[12] = {"signet",    "--endpoint", "inproc://nobody-here",
				  "--timeout", "100",	     "ca"};
		int r;

		memcpy(argv + 6, lines[i], sizeof(lines[i]));
		r = run_line(&ctx, 12, argv);
		assert_int_equal(r, SIGNET_E_DEADLINE_EXCEEDED);
		assert_int_equal(cli_exit_code(r), 3);
		assert_int_equal(access(out, F_OK), -1);
		assert_int_equal(access(link, F_OK), -1);
	}
}

static void test_import_reads_files_before_asking(void **state)
{
	char *argv[] = {"signet",	    "--endpoint", "inproc://nobody-here",
			"--timeout",	    "60000",	  "ca",
			"import",	    "sub",	  "--cert",
			"/nonexistent/cert"};
	char *chain_argv[] = {"signet",	   "--endpoint", "inproc://nobody-here",
			      "--timeout", "60000",	 "ca",
			      "import",	   "sub",	 "--cert",
			      "/dev/null", "--chain",	 "/nonexistent/chain"};
	struct cli_ctx ctx = {0};

	(void)state;
	/* Fails at once on the file, not after the 60 s timeout. */
	assert_int_equal(run_line(&ctx, 10, argv), CLI_E_IO);
	assert_string_equal(ctx.msg, "cannot open '/nonexistent/cert': No such file or directory");
	assert_int_equal(run_line(&ctx, 12, chain_argv), CLI_E_IO);
	assert_string_equal(ctx.msg, "cannot open '/nonexistent/chain': No such file or directory");
	/* An empty certificate is refused here, with the file's name. */
	argv[9] = "/dev/null";
	assert_int_equal(run_line(&ctx, 10, argv), CLI_E_IO);
	assert_string_equal(ctx.msg, "the certificate file '/dev/null' is empty");
}

/*
 * A scripted signetd for the records commands: it answers the next requests
 * with `replies`, in order, and keeps each request's envelope.
 */
#define FAKE_ENDPOINT "inproc://test-cli-records"
#define FAKE_MAX      4

struct fake_reply {
	int status;
	const char *message;
	const ProtobufCMessage *response; /* NULL: an empty payload */
};

struct fake {
	int sock;
	pthread_t thread;
	const struct fake_reply *replies;
	size_t n;
	Signet__V1__Envelope *env[FAKE_MAX];
};

static void fake_answer(struct fake *f, size_t i)
{
	Signet__V1__Reply rep = SIGNET__V1__REPLY__INIT;
	const struct fake_reply *r = &f->replies[i];
	uint8_t payload[4096], buf[8192];

	rep.version = SIGNET_PROTOCOL_VERSION;
	rep.request_id = f->env[i]->request_id;
	rep.status = (Signet__V1__StatusCode)r->status;
	rep.message = (char *)(r->message != NULL ? r->message : "");
	if (r->response != NULL) {
		assert_true(protobuf_c_message_get_packed_size(r->response) <= sizeof(payload));
		rep.payload.data = payload;
		rep.payload.len = protobuf_c_message_pack(r->response, payload);
	}
	assert_true(protobuf_c_message_get_packed_size(&rep.base) <= sizeof(buf));
	nn_send(f->sock, buf, protobuf_c_message_pack(&rep.base, buf), 0);
}

static void *fake_serve(void *arg)
{
	struct fake *f = arg;

	for (size_t i = 0; i < f->n; i++) {
		void *msg = NULL;
		int n = nn_recv(f->sock, &msg, NN_MSG, 0);

		if (n < 0)
			return NULL;
		f->env[i] = signet__v1__envelope__unpack(NULL, (size_t)n, msg);
		nn_freemsg(msg);
		if (f->env[i] == NULL)
			return NULL;
		fake_answer(f, i);
	}
	return NULL;
}

static void fake_start(struct fake *f, const struct fake_reply *replies, size_t n)
{
	int timeout = 5000; /* a broken test must not hang the suite */

	assert_true(n <= FAKE_MAX);
	memset(f, 0, sizeof(*f));
	f->replies = replies;
	f->n = n;
	f->sock = nn_socket(AF_SP, NN_REP);
	assert_true(f->sock >= 0);
	assert_true(nn_bind(f->sock, FAKE_ENDPOINT) >= 0);
	assert_int_equal(
		nn_setsockopt(f->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

/* Wait for the script to end; the requests stay for the test to decode. */
static void fake_stop(struct fake *f)
{
	assert_int_equal(pthread_join(f->thread, NULL), 0);
	nn_close(f->sock);
}

/* Request `i`, which must be `method`, decoded as `desc`. */
static ProtobufCMessage *fake_request(struct fake *f, size_t i, const char *method,
				      const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *req;

	assert_non_null(f->env[i]);
	assert_string_equal(f->env[i]->method, method);
	req = protobuf_c_message_unpack(desc, NULL, f->env[i]->payload.len,
					f->env[i]->payload.data);
	assert_non_null(req);
	return req;
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < FAKE_MAX; i++)
		if (f->env[i] != NULL)
			signet__v1__envelope__free_unpacked(f->env[i], NULL);
}

/* `words` after "signet --endpoint FAKE_ENDPOINT", against the script. */
static int run_records(struct cli_ctx *ctx, struct capture *out, struct capture *err, char **words,
		       size_t n)
{
	char *argv[16] = {"signet", "--endpoint", FAKE_ENDPOINT};
	int r;

	assert_true(n + 3 <= sizeof(argv) / sizeof(argv[0]));
	memcpy(argv + 3, words, n * sizeof(*words));
	capture_start(out);
	capture_start(err);
	ctx->out = out->f;
	ctx->err = err->f;
	r = run_line(ctx, (int)n + 3, argv);
	capture_end(out);
	capture_end(err);
	return r;
}

/* A page of a scripted ledger: `n` certificates, serials from `first` on. */
struct page {
	Signet__V1__ListIssuedResponse resp;
	Signet__V1__IssuedCertificate certs[2];
	Signet__V1__IssuedCertificate *ptrs[2];
	char serials[2][8];
};

static uint8_t fake_der[] = {'f', 'o'};

static void issued_fill(Signet__V1__IssuedCertificate *c, char *serial)
{
	Signet__V1__IssuedCertificate init = SIGNET__V1__ISSUED_CERTIFICATE__INIT;

	*c = init;
	c->serial = serial;
	c->ca = "i1";
	c->profile = "device";
	c->subject = "/CN=dev";
	c->not_after = 0;
	c->certificate_der.data = fake_der;
	c->certificate_der.len = sizeof(fake_der);
}

static void page_fill(struct page *p, int first, size_t n, const char *next)
{
	Signet__V1__ListIssuedResponse init = SIGNET__V1__LIST_ISSUED_RESPONSE__INIT;

	p->resp = init;
	for (size_t i = 0; i < n; i++) {
		snprintf(p->serials[i], sizeof(p->serials[i]), "%02X", first + (int)i);
		issued_fill(&p->certs[i], p->serials[i]);
		p->ptrs[i] = &p->certs[i];
	}
	p->resp.certificates = p->ptrs;
	p->resp.n_certificates = n;
	p->resp.next_page_token = (char *)next;
}

#define LINE(serial)                                                                               \
	serial " ca=i1 profile=device subject=/CN=dev not_after=1970-01-01T00:00:00Z "             \
	       "status=valid\n"

static void test_ledger_list_all_follows_the_pages(void **state)
{
	struct page p[3];
	struct fake_reply replies[3] = {{0}};
	char *words[] = {"ledger", "list",	"--all",      "--limit",    "2",	 "--ca",
			 "i1",	   "--revoked", "--valid-at", "1750000000", "--subject", "DEV"};
	Signet__V1__ListIssuedRequest *req;
	const char *tokens[] = {"", "2", "3"};
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;

	(void)state;
	page_fill(&p[0], 1, 2, "2");
	page_fill(&p[1], 3, 2, "3");
	page_fill(&p[2], 5, 1, "");
	for (size_t i = 0; i < 3; i++)
		replies[i].response = &p[i].resp.base;
	fake_start(&f, replies, 3);
	assert_int_equal(run_records(&ctx, &out, &err, words, 12), 0);
	fake_stop(&f);
	assert_string_equal(out.text, LINE("01") LINE("02") LINE("03") LINE("04") LINE("05"));
	assert_string_equal(err.text, "");
	/* The same filter on every page, each page asked for by the previous one's token. */
	for (size_t i = 0; i < 3; i++) {
		req = (Signet__V1__ListIssuedRequest *)fake_request(
			&f, i, "ListIssued", &signet__v1__list_issued_request__descriptor);
		assert_string_equal(req->page_token, tokens[i]);
		assert_int_equal(req->page_size, 2);
		assert_string_equal(req->ca, "i1");
		assert_string_equal(req->subject_contains, "DEV");
		assert_int_equal(req->revoked, SIGNET__V1__REVOKED_FILTER__REVOKED_ONLY);
		assert_int_equal(req->valid_at, 1750000000);
		protobuf_c_message_free_unpacked(&req->base, NULL);
	}
	fake_free(&f);
	free(out.text);
	free(err.text);
}

static void test_ledger_list_one_page_says_how_to_go_on(void **state)
{
	struct page p;
	struct fake_reply reply = {0};
	char *words[] = {"ledger", "list", "--page", "7", "--valid-at", "now", "--not-revoked"};
	Signet__V1__ListIssuedRequest *req;
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;
	int64_t before = (int64_t)time(NULL);

	(void)state;
	page_fill(&p, 8, 2, "9");
	reply.response = &p.resp.base;
	fake_start(&f, &reply, 1);
	assert_int_equal(run_records(&ctx, &out, &err, words, 7), 0);
	fake_stop(&f);
	assert_string_equal(out.text, LINE("08") LINE("09"));
	assert_string_equal(err.text, "signet: note: more certificates follow: add --page 9 for "
				      "the next page, or --all for every page\n");
	req = (Signet__V1__ListIssuedRequest *)fake_request(
		&f, 0, "ListIssued", &signet__v1__list_issued_request__descriptor);
	assert_string_equal(req->page_token, "7");
	assert_int_equal(req->page_size, 0);
	assert_int_equal(req->revoked, SIGNET__V1__REVOKED_FILTER__REVOKED_NOT);
	assert_true(req->valid_at >= before && req->valid_at <= (int64_t)time(NULL));
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);
}

static void test_ledger_list_page_token_loop_is_protocol_error(void **state)
{
	struct page p;
	struct fake_reply reply = {0};
	char *words[] = {"ledger", "list", "--all", "--page", "7"};
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;
	int r;

	(void)state;
	page_fill(&p, 1, 1, "7");
	reply.response = &p.resp.base;
	fake_start(&f, &reply, 1);
	r = run_records(&ctx, &out, &err, words, 5);
	fake_stop(&f);
	assert_int_equal(r, SIGNET_E_PROTOCOL);
	assert_int_equal(cli_exit_code(r), 3);
	assert_string_equal(ctx.msg, "signetd answered page '7' with itself");
	assert_string_equal(out.text, LINE("01"));
	fake_free(&f);
	free(out.text);
	free(err.text);
}

static void test_ledger_get_writes_the_certificate(void **state)
{
	char path[] = "/tmp/test_cli_output.XXXXXX";
	Signet__V1__GetIssuedResponse resp = SIGNET__V1__GET_ISSUED_RESPONSE__INIT;
	Signet__V1__IssuedCertificate c;
	struct fake_reply reply = {.response = &resp.base};
	char *pem_words[] = {"ledger", "get", "0a1b"};
	char *der_words[] = {"ledger",
			     "get",
			     "--fingerprint",
			     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
			     "--der",
			     "--out",
			     path};
	Signet__V1__GetIssuedRequest *req;
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;

	(void)state;
	issued_fill(&c, "0A1B");
	resp.certificate = &c;
	/* PEM on standard output, the ledger line on standard error. */
	fake_start(&f, &reply, 1);
	assert_int_equal(run_records(&ctx, &out, &err, pem_words, 3), 0);
	fake_stop(&f);
	assert_string_equal(out.text, FO_PEM);
	assert_string_equal(err.text, LINE("0A1B"));
	req = (Signet__V1__GetIssuedRequest *)fake_request(
		&f, 0, "GetIssued", &signet__v1__get_issued_request__descriptor);
	assert_string_equal(req->serial, "0a1b");
	assert_int_equal(req->spki_sha256.len, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);

	/* By fingerprint, DER to a file. */
	temp_path(path);
	fake_start(&f, &reply, 1);
	assert_int_equal(run_records(&ctx, &out, &err, der_words, 7), 0);
	fake_stop(&f);
	assert_string_equal(out.text, "");
	assert_file(path, "fo");
	req = (Signet__V1__GetIssuedRequest *)fake_request(
		&f, 0, "GetIssued", &signet__v1__get_issued_request__descriptor);
	assert_string_equal(req->serial, "");
	assert_int_equal(req->spki_sha256.len, 32);
	assert_int_equal(req->spki_sha256.data[31], 0xff);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);
	unlink(path);
}

static void test_revoke_prints_the_line(void **state)
{
	Signet__V1__RevokeResponse resp = SIGNET__V1__REVOKE_RESPONSE__INIT;
	Signet__V1__IssuedCertificate c;
	struct fake_reply replies[] = {
		{.response = &resp.base},
		{.status = SIGNET__V1__STATUS_CODE__ALREADY_EXISTS,
		 .message = "certificate 0A1B is revoked already"},
	};
	char *words[] = {
		"revoke",    "i1", "0A1B", "--reason", "keyCompromise", "--invalidity-date",
		"1749999000"};
	Signet__V1__RevokeRequest *req;
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;
	int r;

	(void)state;
	issued_fill(&c, "0A1B");
	c.revoked = 1;
	c.reason = SIGNET__V1__REVOCATION_REASON__KEY_COMPROMISE;
	resp.certificate = &c;
	fake_start(&f, replies, 2);
	assert_int_equal(run_records(&ctx, &out, &err, words, 7), 0);
	assert_string_equal(out.text,
			    "0A1B ca=i1 profile=device subject=/CN=dev "
			    "not_after=1970-01-01T00:00:00Z status=revoked(keyCompromise)\n");
	free(out.text);
	free(err.text);
	/* Twice: signetd's status is the exit code, 16. */
	r = run_records(&ctx, &out, &err, words, 3);
	fake_stop(&f);
	assert_int_equal(r, SIGNET_E_ALREADY_EXISTS);
	assert_int_equal(cli_exit_code(r), 16);
	assert_string_equal(ctx.msg, "certificate 0A1B is revoked already");
	assert_string_equal(out.text, "");
	req = (Signet__V1__RevokeRequest *)fake_request(&f, 0, "Revoke",
							&signet__v1__revoke_request__descriptor);
	assert_string_equal(req->ca, "i1");
	assert_string_equal(req->serial, "0A1B");
	assert_int_equal(req->reason, SIGNET__V1__REVOCATION_REASON__KEY_COMPROMISE);
	assert_int_equal(req->invalidity_date, 1749999000);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	req = (Signet__V1__RevokeRequest *)fake_request(&f, 1, "Revoke",
							&signet__v1__revoke_request__descriptor);
	assert_int_equal(req->reason, SIGNET__V1__REVOCATION_REASON__REVOCATION_REASON_UNSPECIFIED);
	assert_int_equal(req->invalidity_date, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);
}

static void test_crl_writes_pem_or_der(void **state)
{
	Signet__V1__GetCrlResponse resp = SIGNET__V1__GET_CRL_RESPONSE__INIT;
	struct fake_reply replies[] = {{.response = &resp.base}, {.response = &resp.base}};
	char *pem_words[] = {"crl", "i1"};
	char *der_words[] = {"crl", "i1", "--key", "ca.i1", "--der"};
	Signet__V1__GetCrlRequest *req;
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;

	(void)state;
	resp.crl_der.data = fake_der;
	resp.crl_der.len = sizeof(fake_der);
	resp.crl_pem = "-----BEGIN X509 CRL-----\nZm8=\n-----END X509 CRL-----\n";
	resp.crl_number = 3;
	fake_start(&f, replies, 2);
	/* Nothing but the CRL, as 'ca chain' writes nothing but the chain. */
	assert_int_equal(run_records(&ctx, &out, &err, pem_words, 2), 0);
	assert_string_equal(out.text, resp.crl_pem);
	assert_string_equal(err.text, "");
	free(out.text);
	free(err.text);
	assert_int_equal(run_records(&ctx, &out, &err, der_words, 5), 0);
	fake_stop(&f);
	assert_string_equal(out.text, "fo");
	req = (Signet__V1__GetCrlRequest *)fake_request(&f, 0, "GetCrl",
							&signet__v1__get_crl_request__descriptor);
	assert_string_equal(req->ca, "i1");
	assert_string_equal(req->key, "");
	protobuf_c_message_free_unpacked(&req->base, NULL);
	req = (Signet__V1__GetCrlRequest *)fake_request(&f, 1, "GetCrl",
							&signet__v1__get_crl_request__descriptor);
	assert_string_equal(req->key, "ca.i1");
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);
}

#define CHALLENGE_ID "00112233445566778899aabbccddeeff"

static uint8_t fake_nonce[32];

static void test_challenge_create_writes_the_nonce(void **state)
{
	char path[] = "/tmp/test_cli_output.XXXXXX";
	Signet__V1__CreateChallengeResponse resp = SIGNET__V1__CREATE_CHALLENGE_RESPONSE__INIT;
	struct fake_reply replies[] = {
		{.response = &resp.base},
		{.response = &resp.base},
		{.status = SIGNET__V1__STATUS_CODE__RESOURCE_EXHAUSTED,
		 .message = "caller 'factory' has 1000 outstanding challenges, the limit"},
	};
	char *id_words[] = {"challenge", "create", "--device-id", "dev-1",
			    "--ttl",	 "30",	   "--nonce-out", path};
	char *fp_words[] = {"challenge", "create", "--fingerprint",
			    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};
	Signet__V1__CreateChallengeRequest *req;
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;
	char line[256];
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(fake_nonce); i++)
		fake_nonce[i] = (uint8_t)(i * 8);
	resp.challenge_id = CHALLENGE_ID;
	resp.nonce.data = fake_nonce;
	resp.nonce.len = sizeof(fake_nonce);
	resp.expires_at = 1893456000;
	snprintf(line, sizeof(line), CHALLENGE_ID " nonce=%s expires=2030-01-01T00:00:00Z\n",
		 "0008101820283038404850586068707880889098a0a8b0b8c0c8d0d8e0e8f0f8");
	temp_path(path);
	fake_start(&f, replies, 3);
	assert_int_equal(run_records(&ctx, &out, &err, id_words, 8), 0);
	assert_string_equal(out.text, line);
	assert_string_equal(err.text, "");
	assert_file_bytes(path, fake_nonce, sizeof(fake_nonce));
	free(out.text);
	free(err.text);
	unlink(path);
	assert_int_equal(run_records(&ctx, &out, &err, fp_words, 4), 0);
	assert_string_equal(out.text, line);
	free(out.text);
	free(err.text);
	/* Refused: signetd's status is the exit code, and no FILE. */
	r = run_records(&ctx, &out, &err, id_words, 8);
	fake_stop(&f);
	assert_int_equal(r, SIGNET_E_RESOURCE_EXHAUSTED);
	assert_int_equal(cli_exit_code(r), 18);
	assert_string_equal(ctx.msg, "caller 'factory' has 1000 outstanding challenges, the limit");
	assert_string_equal(out.text, "");
	assert_int_equal(access(path, F_OK), -1);

	req = (Signet__V1__CreateChallengeRequest *)fake_request(
		&f, 0, "CreateChallenge", &signet__v1__create_challenge_request__descriptor);
	assert_int_equal(req->binding_case,
			 SIGNET__V1__CREATE_CHALLENGE_REQUEST__BINDING_DEVICE_ID);
	assert_string_equal(req->device_id, "dev-1");
	assert_int_equal(req->ttl_seconds, 30);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	req = (Signet__V1__CreateChallengeRequest *)fake_request(
		&f, 1, "CreateChallenge", &signet__v1__create_challenge_request__descriptor);
	assert_int_equal(req->binding_case,
			 SIGNET__V1__CREATE_CHALLENGE_REQUEST__BINDING_SPKI_SHA256);
	assert_int_equal(req->spki_sha256.len, 32);
	assert_int_equal(req->spki_sha256.data[15], 0xff);
	assert_int_equal(req->ttl_seconds, 0);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);
}

/* A VerifiedChain whose path is "fo" then "foobar". */
struct verified {
	Signet__V1__VerifiedChain chain;
	ProtobufCBinaryData path[2];
	uint8_t fp[32];
};

static void verified_fill(struct verified *v)
{
	Signet__V1__VerifiedChain init = SIGNET__V1__VERIFIED_CHAIN__INIT;

	v->chain = init;
	memset(v->fp, 0xab, sizeof(v->fp));
	v->path[0].data = fake_der;
	v->path[0].len = sizeof(fake_der);
	v->path[1].data = (uint8_t *)"foobar";
	v->path[1].len = 6;
	v->chain.device_id = "dev-1";
	v->chain.leaf_spki_sha256.data = v->fp;
	v->chain.leaf_spki_sha256.len = sizeof(v->fp);
	v->chain.leaf_serial = "0A1B";
	v->chain.leaf_ca = "issuing";
	v->chain.path_der = v->path;
	v->chain.n_path_der = 2;
}

#define OK_LINE "OK device=dev-1 fingerprint=" AB64 " serial=0A1B ca=issuing\n"

static void test_challenge_verify_prints_the_line(void **state)
{
	char chain[] = "/tmp/test_cli_output.XXXXXX", sig[] = "/tmp/test_cli_output.XXXXXX";
	Signet__V1__VerifyPossessionResponse resp = SIGNET__V1__VERIFY_POSSESSION_RESPONSE__INIT;
	struct fake_reply replies[] = {
		{.response = &resp.base},
		{.status = SIGNET__V1__STATUS_CODE__FAILED_PRECONDITION,
		 .message = "challenge " CHALLENGE_ID " was already used: a replay"},
		{.status = SIGNET__V1__STATUS_CODE__PERMISSION_DENIED,
		 .message = "check 'device' failed: the leaf's CN is 'dev-2', the challenge is for "
			    "'dev-1'"},
	};
	char *words[] = {"challenge", "verify",	  CHALLENGE_ID, "--chain", chain,   "--sig",
			 sig,	      "--format", "raw",	"--hash",  "sha384"};
	Signet__V1__VerifyPossessionRequest *req;
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct verified v;
	struct fake f;
	int r;

	(void)state;
	temp_path(chain);
	temp_path(sig);
	assert_int_equal(cli_write_output(&ctx, chain, FO_PEM, strlen(FO_PEM)), 0);
	assert_int_equal(cli_write_output(&ctx, sig, "\x30\x00sig", 5), 0);
	verified_fill(&v);
	resp.chain = &v.chain;
	fake_start(&f, replies, 3);
	assert_int_equal(run_records(&ctx, &out, &err, words, 11), 0);
	assert_string_equal(out.text, OK_LINE);
	assert_string_equal(err.text, "");
	free(out.text);
	free(err.text);
	/* Each refusal is signetd's status and message; nothing on standard output. */
	r = run_records(&ctx, &out, &err, words, 7);
	assert_int_equal(r, SIGNET_E_FAILED_PRECONDITION);
	assert_int_equal(cli_exit_code(r), 19);
	assert_string_equal(ctx.msg, "challenge " CHALLENGE_ID " was already used: a replay");
	assert_string_equal(out.text, "");
	free(out.text);
	free(err.text);
	r = run_records(&ctx, &out, &err, words, 7);
	fake_stop(&f);
	assert_int_equal(r, SIGNET_E_PERMISSION_DENIED);
	assert_int_equal(cli_exit_code(r), 17);
	assert_non_null(strstr(ctx.msg, "check 'device' failed"));
	assert_string_equal(out.text, "");

	req = (Signet__V1__VerifyPossessionRequest *)fake_request(
		&f, 0, "VerifyPossession", &signet__v1__verify_possession_request__descriptor);
	assert_string_equal(req->challenge_id, CHALLENGE_ID);
	assert_int_equal(req->chain.len, strlen(FO_PEM));
	assert_memory_equal(req->chain.data, FO_PEM, strlen(FO_PEM));
	assert_int_equal(req->signature.len, 5);
	assert_memory_equal(req->signature.data, "\x30\x00sig", 5);
	assert_int_equal(req->format, SIGNET__V1__SIGNATURE_FORMAT__ECDSA_RAW);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__SHA384);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	req = (Signet__V1__VerifyPossessionRequest *)fake_request(
		&f, 1, "VerifyPossession", &signet__v1__verify_possession_request__descriptor);
	assert_int_equal(req->format, SIGNET__V1__SIGNATURE_FORMAT__SIGNATURE_FORMAT_DEFAULT);
	assert_int_equal(req->hash, SIGNET__V1__HASH_ALGORITHM__HASH_DEFAULT);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);
	unlink(chain);
	unlink(sig);
}

static void test_challenge_verify_reads_files_before_asking(void **state)
{
	char *argv[] = {"signet",    "--endpoint", "inproc://nobody-here", "--timeout", "60000",
			"challenge", "verify",	   CHALLENGE_ID,	   "--chain",	"/dev/null",
			"--sig",     "/dev/null"};
	char chain[] = "/tmp/test_cli_output.XXXXXX";
	struct cli_ctx ctx = {0};

	(void)state;
	/* Fails at once on the file, not after the 60 s timeout: the challenge stays unused. */
	assert_int_equal(run_line(&ctx, 12, argv), CLI_E_IO);
	assert_string_equal(ctx.msg, "the chain file '/dev/null' is empty");
	argv[9] = "/nonexistent/chain";
	assert_int_equal(run_line(&ctx, 12, argv), CLI_E_IO);
	assert_string_equal(ctx.msg, "cannot open '/nonexistent/chain': No such file or directory");
	temp_path(chain);
	assert_int_equal(cli_write_output(&ctx, chain, "fo", 2), 0);
	argv[9] = chain;
	assert_int_equal(run_line(&ctx, 12, argv), CLI_E_IO);
	assert_string_equal(ctx.msg, "the signature file '/dev/null' is empty");
	unlink(chain);
	argv[5] = "verify-chain";
	argv[6] = "--chain";
	argv[7] = "/dev/null";
	assert_int_equal(run_line(&ctx, 8, argv), CLI_E_IO);
	assert_string_equal(ctx.msg, "the chain file '/dev/null' is empty");
}

static void test_verify_chain_writes_the_path(void **state)
{
	char chain[] = "/tmp/test_cli_output.XXXXXX", path[] = "/tmp/test_cli_output.XXXXXX";
	Signet__V1__VerifyChainResponse resp = SIGNET__V1__VERIFY_CHAIN_RESPONSE__INIT;
	struct fake_reply replies[] = {
		{.response = &resp.base},
		{.response = &resp.base},
		{.status = SIGNET__V1__STATUS_CODE__UNAUTHENTICATED,
		 .message =
			 "check 'chain' failed: unable to get local issuer certificate (depth 0, "
			 "/CN=dev-1)"},
	};
	char *words[] = {"verify-chain",       "--chain",    chain, "--purpose", "server",
			 "--check-revocation", "--path-out", path};
	Signet__V1__VerifyChainRequest *req;
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct verified v;
	struct fake f;
	int r;

	(void)state;
	temp_path(chain);
	temp_path(path);
	assert_int_equal(cli_write_output(&ctx, chain, "fo", 2), 0);
	verified_fill(&v);
	resp.chain = &v.chain;
	fake_start(&f, replies, 3);
	/* The line, and the path as PEM, leaf first. */
	assert_int_equal(run_records(&ctx, &out, &err, words, 8), 0);
	assert_string_equal(out.text, OK_LINE);
	assert_file(path, FO_PEM FOOBAR_PEM);
	unlink(path);
	free(out.text);
	free(err.text);
	/* Without --path-out: the line alone; the defaults on the wire. */
	assert_int_equal(run_records(&ctx, &out, &err, words, 3), 0);
	assert_string_equal(out.text, OK_LINE);
	assert_int_equal(access(path, F_OK), -1);
	free(out.text);
	free(err.text);
	r = run_records(&ctx, &out, &err, words, 8);
	fake_stop(&f);
	assert_int_equal(r, SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(cli_exit_code(r), 26);
	assert_non_null(strstr(ctx.msg, "check 'chain' failed"));
	assert_string_equal(out.text, "");
	assert_int_equal(access(path, F_OK), -1);

	req = (Signet__V1__VerifyChainRequest *)fake_request(
		&f, 0, "VerifyChain", &signet__v1__verify_chain_request__descriptor);
	assert_int_equal(req->chain.len, 2);
	assert_memory_equal(req->chain.data, "fo", 2);
	assert_int_equal(req->purpose, SIGNET__V1__CHAIN_PURPOSE__PURPOSE_SERVER);
	assert_true(req->check_revocation);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	req = (Signet__V1__VerifyChainRequest *)fake_request(
		&f, 1, "VerifyChain", &signet__v1__verify_chain_request__descriptor);
	assert_int_equal(req->purpose, SIGNET__V1__CHAIN_PURPOSE__PURPOSE_CLIENT);
	assert_false(req->check_revocation);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	fake_free(&f);
	free(out.text);
	free(err.text);
	unlink(chain);
}

/* --- The credential on the wire --- */

#define CRED_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* A secret file of `mode` holding CRED_HEX, in a fresh directory. */
static void cred_file(char *dir, char *path, size_t size, mode_t mode)
{
	FILE *f;

	strcpy(dir, "/tmp/signet-cli-cred-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, size, "%s/factory.key", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(CRED_HEX "\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void cred_file_remove(const char *dir, const char *path)
{
	unlink(path);
	rmdir(dir);
}

/* What signetd checks: the MAC over the received envelope, with the file's secret. */
static void assert_cred_verifies(const Signet__V1__Envelope *env, const char *client)
{
	const Signet__V1__Credential *cred = env->credential;
	uint8_t secret[32];
	struct authmac_input in;

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	assert_non_null(cred);
	assert_string_equal(cred->client, client);
	assert_int_equal(cred->nonce.len, AUTHMAC_NONCE_LEN);
	in = wire_mac_input(env);
	assert_true(authmac_verify(secret, sizeof(secret), &in, cred->mac.data, cred->mac.len));
}

static void test_credential_is_sent(void **state)
{
	Signet__V1__ListKeysResponse resp = SIGNET__V1__LIST_KEYS_RESPONSE__INIT;
	struct fake_reply replies[2] = {{.response = &resp.base}, {.response = &resp.base}};
	char dir[64], path[96];
	char *with[] = {"--client", "factory-1", "--secret-file", path, "key", "list"};
	char *without[] = {"key", "list"};
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;

	(void)state;
	cred_file(dir, path, sizeof(path), 0600);
	fake_start(&f, replies, 2);
	assert_int_equal(run_records(&ctx, &out, &err, with, 6), 0);
	free(out.text);
	free(err.text);
	assert_int_equal(run_records(&ctx, &out, &err, without, 2), 0);
	fake_stop(&f);
	assert_cred_verifies(f.env[0], "factory-1");
	assert_null(f.env[1]->credential);
	fake_free(&f);
	free(out.text);
	free(err.text);
	cred_file_remove(dir, path);
}

/* signetd's refusals keep their exit codes: 26 and 17, with its message. */
static void test_credential_refusals_exit_codes(void **state)
{
	struct fake_reply replies[2] = {
		{.status = 16, .message = "client 'factory-1': bad MAC"},
		{.status = 7,
		 .message = "client 'factory-1' may not call DeleteKey (rule: methods)"}};
	char dir[64], path[96];
	char *list[] = {"--client", "factory-1", "--secret-file", path, "key", "list"};
	char *del[] = {"--client", "factory-1", "--secret-file", path, "key", "delete", "k"};
	struct cli_ctx ctx = {0};
	struct capture out, err;
	struct fake f;
	int r;

	(void)state;
	cred_file(dir, path, sizeof(path), 0600);
	fake_start(&f, replies, 2);
	r = run_records(&ctx, &out, &err, list, 6);
	assert_int_equal(r, SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(cli_exit_code(r), 26);
	assert_string_equal(ctx.msg, "client 'factory-1': bad MAC");
	free(out.text);
	free(err.text);
	r = run_records(&ctx, &out, &err, del, 7);
	assert_int_equal(r, SIGNET_E_PERMISSION_DENIED);
	assert_int_equal(cli_exit_code(r), 17);
	assert_string_equal(out.text, "");
	fake_stop(&f);
	fake_free(&f);
	free(out.text);
	free(err.text);
	cred_file_remove(dir, path);
}

/* A secret file others can read stops the command before anything is sent. */
static void test_loose_secret_file_is_exit_1(void **state)
{
	char dir[64], path[96];
	char *argv[] = {"signet",   "--endpoint", "inproc://nobody-here", "--timeout", "100",
			"--client", "factory-1",  "--secret-file",	  path,	       "info"};
	struct cli_ctx ctx = {0};
	int r;

	(void)state;
	cred_file(dir, path, sizeof(path), 0644);
	r = run_line(&ctx, 10, argv);
	assert_int_equal(r, CLI_E_IO);
	assert_int_equal(cli_exit_code(r), 1);
	assert_non_null(strstr(ctx.msg, "chmod 600"));
	assert_null(strstr(ctx.msg, CRED_HEX));
	assert_int_equal(chmod(path, 0600), 0);
	cred_file_remove(dir, path);
	r = run_line(&ctx, 10, argv);
	assert_int_equal(r, CLI_E_IO);
	assert_non_null(strstr(ctx.msg, "cannot open secret file"));
}

static void test_run_refuses_non_commands(void **state)
{
	struct cli_args args = {.cmd = CLI_CMD_KEY};
	struct cli_ctx ctx = {0};

	(void)state;
	assert_int_equal(cli_run(&ctx, &args), CLI_E_USAGE);
	args.cmd = CLI_CMD_CA;
	assert_int_equal(cli_run(&ctx, &args), CLI_E_USAGE);
	args.cmd = CLI_CMD_CHALLENGE;
	assert_int_equal(cli_run(&ctx, &args), CLI_E_USAGE);
	args.cmd = CLI_CMD_COUNT;
	assert_int_equal(cli_run(&ctx, &args), CLI_E_USAGE);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_pem_encode),
		cmocka_unit_test(test_read_stdin_bounded),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_write_to_stdout),
		cmocka_unit_test(test_absent_daemon_is_exit_3),
		cmocka_unit_test(test_bad_endpoint_is_exit_3),
		cmocka_unit_test(test_sign_reads_input_before_asking),
		cmocka_unit_test(test_verify_code_writes_nothing_on_failure),
		cmocka_unit_test(test_report_ca),
		cmocka_unit_test(test_lifecycle_writes_nothing_on_failure),
		cmocka_unit_test(test_import_reads_files_before_asking),
		cmocka_unit_test(test_ledger_list_all_follows_the_pages),
		cmocka_unit_test(test_ledger_list_one_page_says_how_to_go_on),
		cmocka_unit_test(test_ledger_list_page_token_loop_is_protocol_error),
		cmocka_unit_test(test_ledger_get_writes_the_certificate),
		cmocka_unit_test(test_revoke_prints_the_line),
		cmocka_unit_test(test_crl_writes_pem_or_der),
		cmocka_unit_test(test_challenge_create_writes_the_nonce),
		cmocka_unit_test(test_challenge_verify_prints_the_line),
		cmocka_unit_test(test_challenge_verify_reads_files_before_asking),
		cmocka_unit_test(test_verify_chain_writes_the_path),
		cmocka_unit_test(test_run_refuses_non_commands),
		cmocka_unit_test(test_credential_is_sent),
		cmocka_unit_test(test_credential_refusals_exit_codes),
		cmocka_unit_test(test_loose_secret_file_is_exit_1),
	};
	struct CMUnitTest tests[N_PRINT_CASES + sizeof(fixed) / sizeof(fixed[0])];

	/* One test per print_cases[] row, named after it, the row its state. */
	for (size_t i = 0; i < N_PRINT_CASES; i++)
		tests[i] = (struct CMUnitTest){.name = print_cases[i].name,
					       .test_func = test_print_case,
					       .initial_state = (void *)&print_cases[i]};
	memcpy(tests + N_PRINT_CASES, fixed, sizeof(fixed));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
