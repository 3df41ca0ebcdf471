/* Unit tests for 'signet audit verify' (client/cli/commands.c): no daemon involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auditchain.h"
#include "cli.h"
#include "testutil.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

static char dir[64];
static char path[128];

static int make_dir(void **state)
{
	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "cli-audit");
	testutil_join(path, sizeof(path), dir, "audit.log");
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	testutil_rm_rf(dir);
	return 0;
}

/* n chained lines into `path`; the second line's method is `method2`. */
static void write_log(int n, const char *method2)
{
	char prev[2 * AUDITCHAIN_HASH_LEN + 1] = ZEROS, line[256];
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (int i = 1; i <= n; i++) {
		int len = snprintf(line, sizeof(line),
				   "{\"prev\":\"%s\",\"seq\":%d,\"method\":\"%s\"}", prev, i,
				   i == 2 ? method2 : "SignCsr");

		fprintf(f, "%s\n", line);
		auditchain_hash_hex(line, (size_t)len, prev);
	}
	assert_int_equal(fclose(f), 0);
}

/* Change the first byte of the first `word` in the log to `c`, in place. */
static void overwrite_first(const char *word, char c)
{
	size_t len;
	char *data = testutil_read(path, &len), *at = strstr(data, word);

	assert_non_null(at);
	*at = c;
	testutil_write(path, data, len);
	free(data);
}

/* Run 'signet audit verify FILE'; *out gets standard output (free it). */
static int run_verify(const char *file, FILE *in, char **out, struct cli_ctx *ctx)
{
	char *argv[] = {"signet", "audit", "verify", (char *)file};
	struct cli_args args;
	size_t len;
	int r;

	memset(ctx, 0, sizeof(*ctx));
	ctx->in = in;
	ctx->out = open_memstream(out, &len);
	assert_non_null(ctx->out);
	assert_int_equal(cli_parse(4, argv, NULL, &args), 0);
	/* Local: there is no client, and none is needed. */
	assert_true(cli_command_is_local(args.cmd));
	r = cli_run(ctx, &args);
	assert_int_equal(fclose(ctx->out), 0);
	cli_args_free(&args);
	return r;
}

static void test_good_log(void **state)
{
	struct cli_ctx ctx;
	char *out = NULL, want[200];

	(void)state;
	write_log(5, "GenerateKey");
	assert_int_equal(run_verify(path, NULL, &out, &ctx), 0);
	snprintf(want, sizeof(want), "%s: OK (5 lines)\n", path);
	assert_string_equal(out, want);
	free(out);
}

static void test_empty_log(void **state)
{
	struct cli_ctx ctx;
	char *out = NULL, want[200];

	(void)state;
	write_log(0, "");
	assert_int_equal(run_verify(path, NULL, &out, &ctx), 0);
	snprintf(want, sizeof(want), "%s: OK (0 lines)\n", path);
	assert_string_equal(out, want);
	free(out);
}

static void test_broken_log(void **state)
{
	struct cli_ctx ctx;
	char *out = NULL, want[300];
	int r;

	(void)state;
	/* Line 2 as if edited after the fact: line 3 no longer follows it. */
	write_log(4, "GenerateKey");
	overwrite_first("GenerateKey", 'D');
	r = run_verify(path, NULL, &out, &ctx);
	assert_int_equal(r, CLI_E_AUDIT);
	assert_int_equal(cli_exit_code(r), 4);
	assert_string_equal(cli_status_name(r), "AUDIT");
	snprintf(want, sizeof(want),
		 "%s line 3: prev does not match the hash of line 2: a line was edited, "
		 "removed or moved",
		 path);
	assert_string_equal(ctx.msg, want);
	assert_string_equal(out, "");
	free(out);
}

static void test_stdin(void **state)
{
	static char data[] = "garbage\n";
	FILE *in = fmemopen(data, strlen(data), "r");
	struct cli_ctx ctx;
	char *out = NULL;

	(void)state;
	assert_non_null(in);
	assert_int_equal(run_verify("-", in, &out, &ctx), CLI_E_AUDIT);
	assert_non_null(strstr(ctx.msg, "- line 1: not a chain line"));
	fclose(in);
	free(out);
}

static void test_unreadable(void **state)
{
	struct cli_ctx ctx;
	char *out = NULL;
	int r;

	(void)state;
	r = run_verify(path, NULL, &out, &ctx);
	assert_int_equal(r, CLI_E_IO);
	assert_int_equal(cli_exit_code(r), 1);
	assert_non_null(strstr(ctx.msg, "cannot open"));
	free(out);
	/* A directory opens but cannot be read: a local I/O error, not a broken chain. */
	r = run_verify(dir, NULL, &out, &ctx);
	assert_int_equal(r, CLI_E_IO);
	assert_non_null(strstr(ctx.msg, "cannot read"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_log, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_empty_log, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_broken_log, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_stdin, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_unreadable, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
