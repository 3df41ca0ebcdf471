/* Unit tests for client/cli: output formats (print.c), bounded I/O (io.c), command runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

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

static void test_key_line(void **state)
{
	uint8_t id[] = {0x01, 0xab, 0xff};
	struct signet_key_info key = {.name = "web-1",
				      .alg = SIGNET_KEY_EC_P256,
				      .id = id,
				      .id_len = sizeof(id),
				      .sensitive = 1,
				      .extractable = 0};
	struct capture c;

	(void)state;
	capture_start(&c);
	cli_print_key(c.f, &key);
	assert_string_equal(capture_end(&c), "web-1 p256 01abff sensitive=yes extractable=no\n");
	free(c.text);

	/* No id and an algorithm this CLI does not know: the field count stays the same. */
	key.id_len = 0;
	key.alg = (enum signet_key_alg)9;
	key.sensitive = 0;
	key.extractable = 1;
	capture_start(&c);
	cli_print_key(c.f, &key);
	assert_string_equal(capture_end(&c), "web-1 unknown(9) - sensitive=no extractable=yes\n");
	free(c.text);
}

static void test_info(void **state)
{
	enum signet_key_alg algs[] = {SIGNET_KEY_EC_P256, SIGNET_KEY_RSA_2048};
	char *methods[] = {"GetInfo", "Health"};
	struct signet_info info = {
		.daemon_version = "0.1.0",
		.protocol_version = 1,
		.token_label = "lab\x1b]0;el", /* terminal escapes from the token are defused */
		.token_serial = "42",
		.token_model = "SoftHSM v2",
		.token_manufacturer = "SoftHSM project",
		.slot_id = 1234567890123ull,
		.key_algs = algs,
		.n_key_algs = 2,
		.methods = methods,
		.n_methods = 2,
		.workers = 4,
		.max_message_size = 1048576,
	};
	struct capture c;

	(void)state;
	capture_start(&c);
	cli_print_info(c.f, &info);
	assert_string_equal(capture_end(&c), "daemon_version: 0.1.0\n"
					     "protocol_version: 1\n"
					     "token_label: lab?]0;el\n"
					     "token_serial: 42\n"
					     "token_model: SoftHSM v2\n"
					     "token_manufacturer: SoftHSM project\n"
					     "slot: 1234567890123\n"
					     "algorithms: p256 rsa2048\n"
					     "methods: GetInfo Health\n"
					     "workers: 4\n"
					     "max_message_size: 1048576\n");
	free(c.text);
}

static void test_health_line(void **state)
{
	struct signet_health h = {.serving = 1, .token_state = "ok", .uptime_seconds = 93};
	struct capture c;

	(void)state;
	capture_start(&c);
	cli_print_health(c.f, &h);
	assert_string_equal(capture_end(&c), "SERVING token=ok uptime=93s\n");
	free(c.text);
}

static void test_ca_line(void **state)
{
	struct signet_ca_info ca = {.name = "issuing",
				    .key = "ca.issuing",
				    .subject = "/CN=Issuing CA/O=Ex\n\x1b[2J",
				    .parent = "root",
				    .not_before = 1700000000,
				    .not_after = 1893456000, /* 2030-01-01 */
				    .path_len_limited = 1,
				    .path_len = 0};
	struct capture c;

	(void)state;
	capture_start(&c);
	cli_print_ca(c.f, &ca);
	assert_string_equal(capture_end(&c), "issuing parent=root subject=/CN=Issuing CA/O=Ex??[2J "
					     "not_after=2030-01-01T00:00:00Z path_len=0\n");
	free(c.text);

	/* A root, no pathLen, and a time gmtime cannot express. */
	ca.name = "root";
	ca.parent = "";
	ca.subject = "/CN=Root";
	ca.not_after = INT64_MAX;
	ca.path_len_limited = 0;
	ca.path_len = 7; /* meaningless without the flag */
	capture_start(&c);
	cli_print_ca(c.f, &ca);
	assert_string_equal(capture_end(&c),
			    "root parent=- subject=/CN=Root not_after=- path_len=none\n");
	free(c.text);

	ca.not_after = 0;
	ca.path_len_limited = 1;
	ca.path_len = 32;
	capture_start(&c);
	cli_print_ca(c.f, &ca);
	assert_string_equal(capture_end(&c), "root parent=- subject=/CN=Root "
					     "not_after=1970-01-01T00:00:00Z path_len=32\n");
	free(c.text);
}

static void test_ca_key_line(void **state)
{
	struct capture c;

	(void)state;
	capture_start(&c);
	cli_print_ca_key(c.f, "sub", "ca.sub");
	assert_string_equal(capture_end(&c), "sub key=ca.sub\n");
	free(c.text);
	capture_start(&c);
	cli_print_ca_key(c.f, "sub", "ca2.sub\x1b[2J");
	assert_string_equal(capture_end(&c), "sub key=ca2.sub?[2J\n");
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

static void assert_file(const char *path, const char *want)
{
	struct cli_ctx ctx = {0};
	struct signet_buf buf = {0};

	assert_int_equal(cli_read_input(&ctx, path, CLI_MAX_INPUT, &buf), 0);
	assert_int_equal(buf.len, strlen(want));
	assert_memory_equal(buf.data, want, buf.len);
	signet_buf_free(&buf);
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

static void test_run_refuses_non_commands(void **state)
{
	struct cli_args args = {.cmd = CLI_CMD_KEY};
	struct cli_ctx ctx = {0};

	(void)state;
	assert_int_equal(cli_run(&ctx, &args), CLI_E_USAGE);
	args.cmd = CLI_CMD_CA;
	assert_int_equal(cli_run(&ctx, &args), CLI_E_USAGE);
	args.cmd = CLI_CMD_COUNT;
	assert_int_equal(cli_run(&ctx, &args), CLI_E_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_line),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_health_line),
		cmocka_unit_test(test_ca_line),
		cmocka_unit_test(test_ca_key_line),
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
		cmocka_unit_test(test_run_refuses_non_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
