/* Unit tests for client/cli/args.c (the command line), status.c (exit codes) and help.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "help.h"
#include "status.h"

#define MAX_ARGS 32

/* Parse "signet" followed by the NULL-terminated arguments; `env` stands for $SIGNET_ENDPOINT. */
static int parse(struct cli_args *args, const char *env, ...)
{
	char *argv[MAX_ARGS] = {"signet"};
	int argc = 1;
	va_list ap;

	va_start(ap, env);
	while ((argv[argc] = va_arg(ap, char *)) != NULL) {
		argc++;
		assert_true(argc < MAX_ARGS);
	}
	va_end(ap);
	return cli_parse(argc, argv, env, args);
}

#define PARSE(args, env, ...) parse((args), (env), __VA_ARGS__, (char *)NULL)

/* As parse(), with a whole environment: $SIGNET_CLIENT and $SIGNET_SECRET_FILE too. */
static int parse_env(struct cli_args *args, const struct cli_env *env, ...)
{
	char *argv[MAX_ARGS] = {"signet"};
	int argc = 1;
	va_list ap;

	va_start(ap, env);
	while ((argv[argc] = va_arg(ap, char *)) != NULL) {
		argc++;
		assert_true(argc < MAX_ARGS);
	}
	va_end(ap);
	return cli_parse_env(argc, argv, env, args);
}

#define PARSE_ENV(args, env, ...) parse_env((args), (env), __VA_ARGS__, (char *)NULL)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A command line that is a usage error, and what its message must say. */
struct usage_case {
	const char *env;	    /* $SIGNET_ENDPOINT, or NULL */
	const char *argv[MAX_ARGS]; /* after "signet", up to the first NULL */
	const char *error;	    /* the whole message; NULL: not checked */
	const char *part;	    /* a part of the message; NULL: not checked */
};

/* Each row parses to CLI_E_USAGE with its message; a failure names the row. */
static void check_usage_cases(const struct usage_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *argv[MAX_ARGS] = {"signet"};
		struct cli_args a;
		int argc = 1, r;

		for (; cases[i].argv[argc - 1] != NULL; argc++) {
			assert_true(argc < MAX_ARGS);
			argv[argc] = (char *)cases[i].argv[argc - 1];
		}
		r = cli_parse(argc, argv, cases[i].env, &a);
		if (r != CLI_E_USAGE)
			print_message("usage case %zu (signet %s ...) parsed\n", i, argv[1]);
		assert_int_equal(r, CLI_E_USAGE);
		if (cases[i].error != NULL)
			assert_string_equal(a.error, cases[i].error);
		if (cases[i].part != NULL)
			assert_non_null(strstr(a.error, cases[i].part));
		cli_args_free(&a);
	}
}

/* One field of struct cli_args a parse must leave, and what it must hold. */
struct field_check {
	enum { F_END, F_INT, F_STR, F_NULL, F_TRUE, F_FALSE } kind;
	const char *field; /* its name, for the message of a failure */
	size_t off;	   /* where it is in struct cli_args */
	size_t size;	   /* F_INT, F_TRUE, F_FALSE: its size in bytes */
	long long i;	   /* F_INT: the value */
	const char *s;	   /* F_STR: the value */
};

/* clang-format off */
#define ARGS_FIELD(f) #f, offsetof(struct cli_args, f)
#define ARGS_SIZE(f)  sizeof(((struct cli_args *)0)->f)
#define INT_IS(f, v)  {F_INT, ARGS_FIELD(f), ARGS_SIZE(f), (long long)(v), NULL}
#define STR_IS(f, v)  {F_STR, ARGS_FIELD(f), 0, 0, (v)}
#define IS_NULL(f)    {F_NULL, ARGS_FIELD(f), ARGS_SIZE(f), 0, NULL}
#define IS_TRUE(f)    {F_TRUE, ARGS_FIELD(f), ARGS_SIZE(f), 0, NULL}
#define IS_FALSE(f)   {F_FALSE, ARGS_FIELD(f), ARGS_SIZE(f), 0, NULL}
/* clang-format on */

#define MAX_CHECKS 16

/* A command line that parses, and the fields it sets; the checks end at the first F_END. */
struct parse_case {
	const char *env;	    /* $SIGNET_ENDPOINT, or NULL */
	const char *argv[MAX_ARGS]; /* after "signet", up to the first NULL */
	struct field_check want[MAX_CHECKS];
};

/* The integer field `c` names in `a`, widened as assert_int_equal() would. */
static long long field_int(const struct cli_args *a, const struct field_check *c)
{
	const char *p = (const char *)a + c->off;
	int64_t v64;
	int32_t v32;
	uint8_t v8;

	switch (c->size) {
	case sizeof(v64):
		memcpy(&v64, p, sizeof(v64));
		return v64;
	case sizeof(v32):
		memcpy(&v32, p, sizeof(v32));
		return v32;
	case sizeof(v8):
		memcpy(&v8, p, sizeof(v8));
		return v8;
	}
	fail_msg("field %s: no integer of %zu bytes", c->field, c->size);
	return 0;
}

static const char *field_str(const struct cli_args *a, const struct field_check *c)
{
	const char *s;

	memcpy(&s, (const char *)a + c->off, sizeof(s));
	return s;
}

/* One check of `a`; `row` and the field's name are printed before a failure. */
static void check_field(const struct cli_args *a, const struct field_check *c, size_t row)
{
	switch (c->kind) {
	case F_INT:
		if (field_int(a, c) != c->i)
			print_message("parse case %zu: a.%s\n", row, c->field);
		assert_int_equal(field_int(a, c), c->i);
		break;
	case F_STR:
		if (field_str(a, c) == NULL || strcmp(field_str(a, c), c->s) != 0)
			print_message("parse case %zu: a.%s\n", row, c->field);
		assert_string_equal(field_str(a, c), c->s);
		break;
	case F_NULL:
		if (field_str(a, c) != NULL)
			print_message("parse case %zu: a.%s\n", row, c->field);
		assert_null(field_str(a, c));
		break;
	case F_TRUE:
	case F_FALSE:
		if (!field_int(a, c) != (c->kind == F_FALSE))
			print_message("parse case %zu: a.%s\n", row, c->field);
		if (c->kind == F_TRUE)
			assert_true(field_int(a, c));
		else
			assert_false(field_int(a, c));
		break;
	case F_END:
		break;
	}
}

/* Each row parses to 0 and sets its fields; a failure names the row and the field. */
static void check_parse_cases(const struct parse_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *argv[MAX_ARGS] = {"signet"};
		struct cli_args a;
		int argc = 1, r;

		for (; cases[i].argv[argc - 1] != NULL; argc++) {
			assert_true(argc < MAX_ARGS);
			argv[argc] = (char *)cases[i].argv[argc - 1];
		}
		r = cli_parse(argc, argv, cases[i].env, &a);
		if (r != 0)
			print_message("parse case %zu (signet %s ...): %s\n", i, argv[1], a.error);
		assert_int_equal(r, 0);
		for (size_t c = 0; c < MAX_CHECKS && cases[i].want[c].kind != F_END; c++)
			check_field(&a, &cases[i].want[c], i);
		cli_args_free(&a);
	}
}

static void test_no_command_is_a_usage_error(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(parse(&a, NULL, (char *)NULL), CLI_E_USAGE);
	assert_string_equal(a.error, "no command given");
	assert_int_equal(a.cmd, CLI_CMD_NONE);
	cli_args_free(&a);
}

static void test_global_help_and_version(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL, {"--help"}, {IS_TRUE(help), INT_IS(cmd, CLI_CMD_NONE)}},
			{NULL, {"-h"}, {IS_TRUE(help)}},
			{NULL, {"--version"}, {IS_TRUE(version), IS_FALSE(help)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	/* --version belongs to the program, not to a command. */
	assert_int_equal(PARSE(&a, NULL, "info", "--version"), CLI_E_USAGE);
	assert_string_equal(a.error, "unknown option '--version' for 'signet info'");
	cli_args_free(&a);
}

static void test_unknown_options_and_commands(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct usage_case cases[] = {
			{NULL, {"--bogus", "info"}, "unknown option '--bogus'", NULL},
			{NULL, {"-x", "info"}, NULL, NULL},
			{NULL, {"frobnicate"}, "unknown command 'frobnicate'", NULL},
			/* A subcommand's word alone is not a command. */
			{NULL, {"generate"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	/* An option valid for one command is unknown to another. */
	assert_int_equal(PARSE(&a, NULL, "key", "list", "--der"), CLI_E_USAGE);
	assert_int_equal(a.cmd, CLI_CMD_KEY_LIST);
	assert_string_equal(a.error, "unknown option '--der' for 'signet key list'");
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			/* Prefixes are not abbreviations. */
			{NULL, {"sign", "k", "--in", "f", "--form", "der"}, NULL, NULL},
			{NULL, {"sign", "k", "--in", "f", "--formatx", "der"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_endpoint_precedence(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "info"), 0);
	assert_string_equal(a.endpoint, SIGNET_DEFAULT_ENDPOINT);
	assert_string_equal(a.endpoint, "ipc:///run/signet/signetd.sock");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, "tcp://10.0.0.1:7000", "info"), 0);
	assert_string_equal(a.endpoint, "tcp://10.0.0.1:7000");
	cli_args_free(&a);
	/* An empty variable counts as unset. */
	assert_int_equal(PARSE(&a, "", "info"), 0);
	assert_string_equal(a.endpoint, SIGNET_DEFAULT_ENDPOINT);
	cli_args_free(&a);
	{
		static const struct parse_case cases[] = {
			{"tcp://env:1",
			 {"--endpoint", "ipc:///tmp/flag.sock", "info"},
			 {STR_IS(endpoint, "ipc:///tmp/flag.sock")}},
			{"tcp://env:1",
			 {"--endpoint=ipc:///tmp/eq.sock", "info"},
			 {STR_IS(endpoint, "ipc:///tmp/eq.sock")}},
			/* Global options may follow the command too. */
			{"tcp://env:1",
			 {"key", "list", "--endpoint", "tcp://late:2"},
			 {STR_IS(endpoint, "tcp://late:2")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	/* Usage errors still resolve the endpoint (nothing is left NULL). */
	assert_int_equal(PARSE(&a, "tcp://env:1", "nope"), CLI_E_USAGE);
	assert_string_equal(a.endpoint, "tcp://env:1");
	cli_args_free(&a);
}

/* A list goes to libsignet as given, from the option or the environment. */
static void test_endpoint_list(void **state)
{
	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"--endpoint", "ipc:///a.sock,ipc:///b.sock", "health"},
			 {STR_IS(endpoint, "ipc:///a.sock,ipc:///b.sock")}},
			{"tcp://h1:7411, tcp://h2:7411",
			 {"health"},
			 {STR_IS(endpoint, "tcp://h1:7411, tcp://h2:7411")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
}

static void test_retries(void **state)
{
	static const char *const bad[] = {"-1", "11", "x", "", "1.5"};
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL, {"health"}, {INT_IS(retries, 0)}},
			{NULL, {"--retries", "2", "health"}, {INT_IS(retries, 2)}},
			{NULL, {"key", "list", "--retries=10"}, {INT_IS(retries, CLI_RETRIES_MAX)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "--retries", (char *)bad[i], "health"),
				 CLI_E_USAGE);
		assert_non_null(strstr(a.error, "--retries wants a number from 0 to 10"));
		cli_args_free(&a);
	}
}

static void test_endpoint_errors(void **state)
{
	(void)state;
	{
		static const struct usage_case cases[] = {
			{NULL, {"--endpoint"}, "option --endpoint needs a value", NULL},
			{NULL, {"--endpoint=", "info"}, NULL, NULL},
			{NULL,
			 {"--endpoint", "a", "info", "--endpoint", "b"},
			 "option --endpoint is given twice",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_credential_sources(void **state)
{
	const struct cli_env none = {0}, empty = {.client = "", .secret_file = ""};
	const struct cli_env env = {.client = "env-client", .secret_file = "/etc/env.key"};
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE_ENV(&a, &none, "info"), 0);
	assert_null(a.client);
	assert_null(a.secret_file);
	cli_args_free(&a);
	/* Empty variables count as unset. */
	assert_int_equal(PARSE_ENV(&a, &empty, "info"), 0);
	assert_null(a.client);
	assert_null(a.secret_file);
	cli_args_free(&a);
	assert_int_equal(PARSE_ENV(&a, &env, "key", "list"), 0);
	assert_string_equal(a.client, "env-client");
	assert_string_equal(a.secret_file, "/etc/env.key");
	cli_args_free(&a);
	assert_int_equal(PARSE_ENV(&a, &none, "--client", "factory-1", "--secret-file",
				   "factory.key", "info"),
			 0);
	assert_string_equal(a.client, "factory-1");
	assert_string_equal(a.secret_file, "factory.key");
	cli_args_free(&a);
	/* Options win over the environment; they may follow the command. */
	assert_int_equal(PARSE_ENV(&a, &env, "info", "--client=ops", "--secret-file=ops.key"), 0);
	assert_string_equal(a.client, "ops");
	assert_string_equal(a.secret_file, "ops.key");
	assert_string_equal(a.endpoint, SIGNET_DEFAULT_ENDPOINT);
	cli_args_free(&a);
	/* cli_parse() knows no credential variables: only options give one. */
	assert_int_equal(PARSE(&a, NULL, "health"), 0);
	assert_null(a.client);
	cli_args_free(&a);
}

static void check_credential_usage(const struct cli_env *env, const char *error, ...)
{
	char *argv[MAX_ARGS] = {"signet"};
	struct cli_args a;
	int argc = 1;
	va_list ap;

	va_start(ap, error);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	assert_int_equal(cli_parse_env(argc, argv, env, &a), CLI_E_USAGE);
	assert_string_equal(a.error, error);
	cli_args_free(&a);
}

static void test_credential_usage_errors(void **state)
{
	const struct cli_env none = {0};
	const struct cli_env env = {.client = "env-client", .secret_file = "/etc/env.key"};
	const struct cli_env half = {.client = "env-client"};
	const struct cli_env bad = {.client = "no spaces", .secret_file = "k"};

	(void)state;
	check_credential_usage(&none,
			       "--client needs --secret-file too: a client name and its secret go "
			       "together",
			       "--client", "f", "info", (char *)NULL);
	check_credential_usage(&none,
			       "--secret-file needs --client too: a client name and its secret go "
			       "together",
			       "info", "--secret-file", "f.key", (char *)NULL);
	/* An option replaces the whole pair: it does not borrow the other half. */
	check_credential_usage(&env,
			       "--client needs --secret-file too: a client name and its secret go "
			       "together",
			       "--client", "f", "info", (char *)NULL);
	check_credential_usage(
		&half,
		"$SIGNET_CLIENT needs $SIGNET_SECRET_FILE too: a client name and its "
		"secret go together",
		"info", (char *)NULL);
	check_credential_usage(
		&none,
		"--client wants a client name of 1 to 64 characters of A-Z a-z 0-9 . "
		"_ -, not 'a/b'",
		"--client", "a/b", "--secret-file", "k", "info", (char *)NULL);
	check_credential_usage(
		&bad,
		"$SIGNET_CLIENT wants a client name of 1 to 64 characters of A-Z a-z "
		"0-9 . _ -, not 'no spaces'",
		"info", (char *)NULL);
	check_credential_usage(&none, "--secret-file needs a file name", "--client", "c",
			       "--secret-file=", "info", (char *)NULL);
	check_credential_usage(&none, "option --client is given twice", "--client", "a", "info",
			       "--client", "b", (char *)NULL);
	check_credential_usage(&none, "option --secret-file needs a value", "info", "--client", "a",
			       "--secret-file", (char *)NULL);
}

/* 'audit verify' reads a local file: a credential, even half of one, is not its business. */
static void test_credential_not_needed_locally(void **state)
{
	const struct cli_env half = {.secret_file = "/etc/env.key"};
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE_ENV(&a, &half, "audit", "verify", "audit.log"), 0);
	assert_null(a.client);
	assert_null(a.secret_file);
	cli_args_free(&a);
	assert_int_equal(PARSE_ENV(&a, &half, "--client", "c", "audit", "verify", "audit.log"), 0);
	assert_null(a.client);
	cli_args_free(&a);
	/* Nor does help need one. */
	assert_int_equal(PARSE_ENV(&a, &half, "--client", "c", "info", "--help"), 0);
	assert_true(a.help);
	cli_args_free(&a);
}

static void test_timeout(void **state)
{
	static const char *const bad[] = {
		"0", "-5", "abc", "12ms", "", "2147483648", "99999999999999999999"};
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL, {"health"}, {INT_IS(timeout_ms, 0)}},
			{NULL, {"--timeout", "1500", "health"}, {INT_IS(timeout_ms, 1500)}},
			{NULL,
			 {"health", "--timeout=2147483647"},
			 {INT_IS(timeout_ms, 2147483647)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "--timeout", (char *)bad[i], "health"),
				 CLI_E_USAGE);
		assert_non_null(strstr(a.error, "--timeout wants milliseconds"));
		cli_args_free(&a);
	}
}

static void test_info_and_health(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL, {"info"}, {INT_IS(cmd, CLI_CMD_INFO), IS_NULL(name)}},
			{NULL, {"health"}, {INT_IS(cmd, CLI_CMD_HEALTH)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "health", "extra"), CLI_E_USAGE);
	assert_string_equal(a.error, "unexpected argument 'extra' for 'signet health'");
	cli_args_free(&a);
}

static void test_key_group(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "key"), CLI_E_USAGE);
	assert_int_equal(a.cmd, CLI_CMD_KEY);
	assert_non_null(strstr(a.error, "needs a subcommand"));
	cli_args_free(&a);
	{
		static const struct parse_case cases[] = {
			{NULL, {"key", "--help"}, {INT_IS(cmd, CLI_CMD_KEY), IS_TRUE(help)}},
			{NULL, {"key", "-h"}, {IS_TRUE(help)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	{
		static const struct usage_case cases[] = {
			{NULL, {"key", "rotate", "x"}, "unknown subcommand 'key rotate'", NULL},
			{NULL, {"key", "--der", "pub", "x"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_key_generate_algorithms(void **state)
{
	static const struct {
		const char *name;
		enum signet_key_alg alg;
	} algs[] = {
		{"p256", SIGNET_KEY_EC_P256},	  {"p384", SIGNET_KEY_EC_P384},
		{"rsa2048", SIGNET_KEY_RSA_2048}, {"rsa3072", SIGNET_KEY_RSA_3072},
		{"rsa4096", SIGNET_KEY_RSA_4096},
	};
	struct cli_args a;

	(void)state;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		assert_int_equal(
			PARSE(&a, NULL, "key", "generate", "--alg", (char *)algs[i].name, "k1"), 0);
		assert_int_equal(a.cmd, CLI_CMD_KEY_GENERATE);
		assert_int_equal(a.alg, algs[i].alg);
		assert_string_equal(a.name, "k1");
		cli_args_free(&a);
	}
	/* Options after the positional, and the --opt=value form. */
	assert_int_equal(PARSE(&a, NULL, "key", "generate", "web-1", "--alg=rsa3072"), 0);
	assert_int_equal(a.alg, SIGNET_KEY_RSA_3072);
	assert_string_equal(a.name, "web-1");
	cli_args_free(&a);
}

static void test_key_generate_errors(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct usage_case cases[] = {
			{NULL, {"key", "generate", "k1"}, NULL, "needs --alg"},
			{NULL,
			 {"key", "generate", "--alg", "p256"},
			 "'signet key generate' needs a key NAME",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "key", "generate", "--alg", "ed25519", "k"), CLI_E_USAGE);
	assert_string_equal(
		a.error, "--alg must be one of p256|p384|rsa2048|rsa3072|rsa4096, not 'ed25519'");
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL, {"key", "generate", "--alg", "P256", "k"}, NULL, NULL},
			{NULL, {"key", "generate", "--alg"}, "option --alg needs a value", NULL},
			{NULL,
			 {"key", "generate", "--alg", "p256", "a", "b"},
			 "unexpected argument 'b' for 'signet key generate'",
			 NULL},
			{NULL,
			 {"key", "generate", "--alg", "p256", "--alg", "p384", "k"},
			 NULL,
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_key_pub_list_delete(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"key", "pub", "k"},
			 {INT_IS(cmd, CLI_CMD_KEY_PUB), IS_FALSE(der), IS_NULL(out)}},
			{NULL,
			 {"key", "pub", "--der", "--out", "k.der", "k"},
			 {IS_TRUE(der), STR_IS(out, "k.der"), STR_IS(name, "k")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"key", "pub", "--der=yes", "k"},
			 "option --der takes no value",
			 NULL},
			{NULL, {"key", "pub"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}

	assert_int_equal(PARSE(&a, NULL, "key", "list"), 0);
	assert_int_equal(a.cmd, CLI_CMD_KEY_LIST);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "key", "list", "k"), CLI_E_USAGE);
	cli_args_free(&a);

	assert_int_equal(PARSE(&a, NULL, "key", "delete", "old.key_1"), 0);
	assert_int_equal(a.cmd, CLI_CMD_KEY_DELETE);
	assert_string_equal(a.name, "old.key_1");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "key", "delete"), CLI_E_USAGE);
	assert_string_equal(a.error, "'signet key delete' needs a key NAME");
	cli_args_free(&a);
	/* "--" lets a name start with a dash (labels may). */
	assert_int_equal(PARSE(&a, NULL, "key", "delete", "--", "-odd"), 0);
	assert_string_equal(a.name, "-odd");
	cli_args_free(&a);
}

static void test_csr_repeated_sans(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "csr", "--dns", "a.example", "dev", "--subject",
			       "/CN=dev/O=Ex", "--dns", "b.example", "--ip", "10.0.0.1", "--ip",
			       "::1", "--uri", "spiffe://ex/dev", "--email", "ops@example.com",
			       "--dns=c.example", "--hash", "sha512", "--der", "--out", "dev.csr"),
			 0);
	assert_int_equal(a.cmd, CLI_CMD_CSR);
	assert_string_equal(a.name, "dev");
	assert_string_equal(a.subject, "/CN=dev/O=Ex");
	assert_int_equal(a.dns.n, 3);
	assert_string_equal(a.dns.items[0], "a.example");
	assert_string_equal(a.dns.items[1], "b.example");
	assert_string_equal(a.dns.items[2], "c.example");
	assert_int_equal(a.ip.n, 2);
	assert_string_equal(a.ip.items[0], "10.0.0.1");
	assert_string_equal(a.ip.items[1], "::1");
	assert_int_equal(a.uri.n, 1);
	assert_string_equal(a.uri.items[0], "spiffe://ex/dev");
	assert_int_equal(a.email.n, 1);
	assert_string_equal(a.email.items[0], "ops@example.com");
	assert_int_equal(a.hash, SIGNET_HASH_SHA512);
	assert_true(a.der);
	assert_string_equal(a.out, "dev.csr");
	cli_args_free(&a);
	assert_null(a.dns.items);
}

static void test_csr_defaults_and_errors(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "csr", "k", "--subject", "/CN=x"), 0);
	assert_int_equal(a.hash, SIGNET_HASH_DEFAULT);
	assert_int_equal(a.dns.n, 0);
	assert_null(a.dns.items);
	assert_false(a.der);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL, {"csr", "k"}, NULL, "needs --subject"},
			{NULL, {"csr", "--subject", "/CN=x"}, NULL, "needs a key NAME"},
			{NULL,
			 {"csr", "k", "--subject", "/CN=x", "--hash", "md5"},
			 "--hash must be one of sha256|sha384|sha512, not 'md5'",
			 NULL},
			{NULL, {"csr", "k", "--subject", "/CN=x", "--dns"}, NULL, NULL},
			{NULL, {"csr", "k", "--subject", "/CN=x", "--format", "der"}, NULL, NULL},
			{NULL,
			 {"csr", "k", "--subject", "/CN=x", "--subject", "/CN=y"},
			 NULL,
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_sign_options(void **state)
{
	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"sign", "k", "--in", "msg.bin"},
			 {INT_IS(cmd, CLI_CMD_SIGN), STR_IS(in, "msg.bin"), IS_NULL(out),
			  IS_FALSE(digest), INT_IS(hash, SIGNET_HASH_DEFAULT),
			  INT_IS(format, SIGNET_SIG_DEFAULT)}},
			/* "-" is a value, not an option. */
			{NULL,
			 {"sign", "--in", "-", "--out", "-", "--digest", "--hash", "sha384", "k"},
			 {STR_IS(in, "-"), STR_IS(out, "-"), IS_TRUE(digest),
			  INT_IS(hash, SIGNET_HASH_SHA384), STR_IS(name, "k")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	{
		static const struct usage_case cases[] = {
			{NULL, {"sign", "k"}, NULL, "needs --in"},
			{NULL, {"sign", "k", "--in", "f", "--hash", "sha1"}, NULL, NULL},
			{NULL, {"sign", "k", "--in", "f", "--alg", "p256"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_sign_formats(void **state)
{
	static const struct {
		const char *name;
		enum signet_sig_format format;
	} formats[] = {
		{"der", SIGNET_SIG_ECDSA_DER},
		{"raw", SIGNET_SIG_ECDSA_RAW},
		{"pkcs1", SIGNET_SIG_RSA_PKCS1},
		{"pss", SIGNET_SIG_RSA_PSS},
	};
	struct cli_args a;

	(void)state;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "sign", "k", "--in", "f", "--format",
				       (char *)formats[i].name),
				 0);
		assert_int_equal(a.format, formats[i].format);
		cli_args_free(&a);
	}
	assert_int_equal(PARSE(&a, NULL, "sign", "k", "--in", "f", "--format=jws"), CLI_E_USAGE);
	assert_string_equal(a.error, "--format must be one of der|raw|pkcs1|pss, not 'jws'");
	cli_args_free(&a);
}

static void test_ca_group(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "ca"), CLI_E_USAGE);
	assert_int_equal(a.cmd, CLI_CMD_CA);
	assert_string_equal(a.error, "'signet ca' needs a subcommand: create-root, "
				     "create-intermediate, request, import, "
				     "renew, rekey, chain, list, verify-code");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "--help"), 0);
	assert_int_equal(a.cmd, CLI_CMD_CA);
	assert_true(a.help);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL, {"ca", "revoke", "x"}, "unknown subcommand 'ca revoke'", NULL},
			/* Subcommands belong to their group. */
			{NULL, {"ca", "generate", "x"}, NULL, NULL},
			{NULL, {"key", "chain", "x"}, NULL, NULL},
			{NULL, {"ca", "--out", "f", "list"}, NULL, NULL},
			/* The key group's message is built from the same table. */
			{NULL,
			 {"key"},
			 "'signet key' needs a subcommand: generate, pub, list, delete",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_ca_create_root_every_option(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "ca", "create-root", "--subject", "/CN=Example Root/O=Ex",
			       "root", "--alg", "p384", "--days", "7300", "--path-len", "1",
			       "--hash", "sha512", "--out", "root.pem"),
			 0);
	assert_int_equal(a.cmd, CLI_CMD_CA_CREATE_ROOT);
	assert_string_equal(a.name, "root");
	assert_string_equal(a.subject, "/CN=Example Root/O=Ex");
	assert_int_equal(a.alg, SIGNET_KEY_EC_P384);
	assert_int_equal(a.days, 7300);
	assert_int_equal(a.path_len, 1);
	assert_int_equal(a.hash, SIGNET_HASH_SHA512);
	assert_string_equal(a.out, "root.pem");
	assert_null(a.parent);
	cli_args_free(&a);
	/* Defaults: the daemon's validity, no pathLen, default hash, no file. */
	assert_int_equal(
		PARSE(&a, NULL, "ca", "create-root", "r", "--subject=/CN=R", "--alg=rsa4096"), 0);
	assert_int_equal(a.alg, SIGNET_KEY_RSA_4096);
	assert_int_equal(a.days, 0);
	assert_int_equal(a.path_len, -1);
	assert_int_equal(a.hash, SIGNET_HASH_DEFAULT);
	assert_null(a.out);
	cli_args_free(&a);
	{
		static const struct parse_case cases[] = {
			/* pathLen 0 (no CA below) and the bounds. */
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256",
			  "--path-len", "0", "--days", "1"},
			 {INT_IS(path_len, 0), INT_IS(days, 1)}},
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256",
			  "--path-len=32", "--days=36500"},
			 {INT_IS(path_len, 32), INT_IS(days, 36500)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	{
		static const struct usage_case cases[] = {
			/* Options of other commands are unknown here. */
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256",
			  "--parent", "x"},
			 "unknown option '--parent' for 'signet ca create-root'",
			 NULL},
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256", "--der"},
			 NULL,
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_ca_create_intermediate_every_option(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"ca", "create-intermediate", "issuing", "--parent", "root", "--subject",
			  "/CN=Issuing", "--alg", "rsa3072", "--days", "365", "--path-len", "0",
			  "--hash", "sha256", "--out", "-"},
			 {INT_IS(cmd, CLI_CMD_CA_CREATE_INTERMEDIATE), STR_IS(name, "issuing"),
			  STR_IS(parent, "root"), STR_IS(subject, "/CN=Issuing"),
			  INT_IS(alg, SIGNET_KEY_RSA_3072), INT_IS(days, 365), INT_IS(path_len, 0),
			  INT_IS(hash, SIGNET_HASH_SHA256), STR_IS(out, "-")}},
			{NULL,
			 {"ca", "create-intermediate", "--parent=root", "i", "--subject=/CN=I",
			  "--alg=p256"},
			 {INT_IS(path_len, -1), INT_IS(days, 0)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "ca", "create-intermediate", "i", "--parent", "a",
			       "--parent", "b", "--subject=/CN=I", "--alg=p256"),
			 CLI_E_USAGE);
	assert_string_equal(a.error, "option --parent is given twice");
	cli_args_free(&a);
}

static void test_ca_create_missing_options(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "ca", "create-root", "r", "--alg", "p256"), CLI_E_USAGE);
	assert_string_equal(
		a.error, "'signet ca create-root' needs --subject, e.g. /CN=Example CA/O=Example");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "create-root", "r", "--subject", "/CN=R"),
			 CLI_E_USAGE);
	assert_string_equal(
		a.error, "'signet ca create-root' needs --alg p256|p384|rsa2048|rsa3072|rsa4096");
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "ca", "create-root", "--subject", "/CN=R", "--alg", "p256"),
		CLI_E_USAGE);
	assert_string_equal(a.error, "'signet ca create-root' needs a CA NAME");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "create-intermediate", "i", "--subject", "/CN=I",
			       "--alg", "p256"),
			 CLI_E_USAGE);
	assert_string_equal(
		a.error, "'signet ca create-intermediate' needs --parent CA, the CA that signs it");
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "ca", "create-intermediate", "i", "--parent", "r", "--alg", "p256"),
		CLI_E_USAGE);
	assert_non_null(strstr(a.error, "needs --subject"));
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ca", "create-intermediate", "i", "--parent", "r", "--subject", "/CN=I"},
			 NULL,
			 "needs --alg"},
			{NULL,
			 {"ca", "create-intermediate", "--parent", "r", "--subject", "/CN=I",
			  "--alg", "p256"},
			 "'signet ca create-intermediate' needs a CA NAME",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(
		PARSE(&a, NULL, "ca", "create-root", "r", "--subject", "/CN=R", "--alg", "ed25519"),
		CLI_E_USAGE);
	assert_string_equal(
		a.error, "--alg must be one of p256|p384|rsa2048|rsa3072|rsa4096, not 'ed25519'");
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256", "--hash",
			  "md5"},
			 NULL,
			 NULL},
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256", "extra"},
			 "unexpected argument 'extra' for 'signet ca create-root'",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_ca_create_bad_numbers(void **state)
{
	static const char *const bad_days[] = {"0", "-1",  "36501", "abc",
					       "",  "12d", "1.5",   "99999999999999999999"};
	static const char *const bad_path_len[] = {"-1", "33", "none", "", "1x", "4294967296"};
	struct cli_args a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_days) / sizeof(bad_days[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "ca", "create-root", "r", "--subject", "/CN=R",
				       "--alg", "p256", "--days", (char *)bad_days[i]),
				 CLI_E_USAGE);
		assert_non_null(strstr(a.error, "--days wants a number of days from 1 to 36500"));
		cli_args_free(&a);
	}
	for (size_t i = 0; i < sizeof(bad_path_len) / sizeof(bad_path_len[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "ca", "create-intermediate", "i", "--parent", "r",
				       "--subject", "/CN=I", "--alg", "p256", "--path-len",
				       (char *)bad_path_len[i]),
				 CLI_E_USAGE);
		assert_non_null(
			strstr(a.error, "--path-len wants a number of CA levels from 0 to 32"));
		cli_args_free(&a);
	}
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256",
			  "--days=-5"},
			 "--days wants a number of days from 1 to 36500, not '-5'",
			 NULL},
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256",
			  "--days"},
			 "option --days needs a value",
			 NULL},
			{NULL,
			 {"ca", "create-root", "r", "--subject", "/CN=R", "--alg", "p256",
			  "--path-len", "1", "--path-len", "2"},
			 "option --path-len is given twice",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_ca_chain_and_list(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"ca", "chain", "issuing"},
			 {INT_IS(cmd, CLI_CMD_CA_CHAIN), STR_IS(name, "issuing"), IS_NULL(out)}},
			{NULL,
			 {"ca", "chain", "--out", "chain.pem", "issuing"},
			 {STR_IS(out, "chain.pem")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	{
		static const struct usage_case cases[] = {
			{NULL, {"ca", "chain"}, "'signet ca chain' needs a CA NAME", NULL},
			{NULL,
			 {"ca", "chain", "x", "--der"},
			 "unknown option '--der' for 'signet ca chain'",
			 NULL},
			{NULL, {"ca", "chain", "x", "--subject", "/CN=x"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}

	assert_int_equal(PARSE(&a, NULL, "ca", "list"), 0);
	assert_int_equal(a.cmd, CLI_CMD_CA_LIST);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ca", "list", "x"},
			 "unexpected argument 'x' for 'signet ca list'",
			 NULL},
			{NULL, {"ca", "list", "--out", "f"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "ca", "list", "--timeout", "500"), 0);
	assert_int_equal(a.timeout_ms, 500);
	cli_args_free(&a);

	{
		static const struct parse_case cases[] = {
			/* --help at every level wins over what is missing. */
			{NULL,
			 {"ca", "create-root", "--help"},
			 {INT_IS(cmd, CLI_CMD_CA_CREATE_ROOT), IS_TRUE(help)}},
			{NULL,
			 {"ca", "create-intermediate", "-h"},
			 {INT_IS(cmd, CLI_CMD_CA_CREATE_INTERMEDIATE), IS_TRUE(help)}},
			{NULL, {"ca", "chain", "--help"}, {IS_TRUE(help)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
}

static void test_issue(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "issue", "--ca", "i2", "--profile", "device", "--csr",
			       "d.csr", "--days", "30", "--subject", "/CN=x", "--dns", "a.example",
			       "--dns", "b.example", "--ip", "10.0.0.1", "--uri", "urn:x", "--out",
			       "d.pem", "--chain", "chain.pem", "--der"),
			 0);
	assert_int_equal(a.cmd, CLI_CMD_ISSUE);
	assert_string_equal(a.ca, "i2");
	assert_string_equal(a.profile, "device");
	assert_string_equal(a.csr, "d.csr");
	assert_int_equal(a.days, 30);
	assert_string_equal(a.subject, "/CN=x");
	assert_int_equal(a.dns.n, 2);
	assert_int_equal(a.ip.n, 1);
	assert_int_equal(a.uri.n, 1);
	assert_string_equal(a.out, "d.pem");
	assert_string_equal(a.chain, "chain.pem");
	assert_true(a.der);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"issue", "--ca", "i2", "--csr", "-"},
			 "'signet issue' needs --ca CA, --profile PROFILE and --csr FILE "
			 "(or --batch DIR|FILE)",
			 NULL},
			{NULL, {"issue", "--profile", "p", "--csr", "-"}, NULL, NULL},
			{NULL,
			 {"issue", "stray"},
			 "unexpected argument 'stray' for 'signet issue'",
			 NULL},
			{NULL,
			 {"issue", "--ca", "a", "--ca", "b"},
			 "option --ca is given twice",
			 NULL},
			{NULL, {"issue", "--path-len", "1"}, NULL, NULL},
			{NULL, {"csr", "k", "--subject", "/CN=x", "--csr", "f"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "issue", "--help"), 0);
	assert_true(a.help);
	cli_args_free(&a);
}

/* issue --batch: one CSR or many, and only the options that fit each. */
static void test_issue_batch(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "issue", "--ca", "i2", "--profile", "device", "--batch",
			       "csrs/", "--out-dir", "certs", "--manifest", "m.csv", "--batch-size",
			       "64", "--days", "30", "--chain", "chain.pem"),
			 0);
	assert_string_equal(a.batch, "csrs/");
	assert_string_equal(a.out_dir, "certs");
	assert_string_equal(a.manifest, "m.csv");
	assert_int_equal(a.batch_size, 64);
	assert_null(a.csr);
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "issue", "--ca", "i2", "--profile", "d", "--batch", "b.pem"), 0);
	assert_null(a.out_dir);
	assert_int_equal(a.batch_size, 0);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--batch", "d", "--csr", "f"},
			 "'signet issue' needs --ca CA, --profile PROFILE and --csr FILE "
			 "(or --batch DIR|FILE)",
			 NULL},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--csr", "f", "--out-dir", "o"},
			 "--out-dir, --manifest and --batch-size go with --batch",
			 NULL},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--csr", "f", "--batch-size",
			  "2"},
			 NULL,
			 "go with --batch"},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--batch", "d", "--out", "x.pem"},
			 NULL,
			 "--batch writes one certificate per input into --out-dir"},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--batch", "d", "--dns", "a"},
			 NULL,
			 "--out, --der, --subject, --dns, --ip and --uri do not go with it"},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--batch", "d", "--batch-size",
			  "0"},
			 NULL,
			 "--batch-size"},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--batch", "d", "--batch-size",
			  "4097"},
			 NULL,
			 "--batch-size"},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--batch", ""},
			 NULL,
			 "--batch needs"},
			{NULL,
			 {"issue", "--ca", "i", "--profile", "p", "--batch", "d", "--manifest", "x",
			  "--chain", "x"},
			 "--manifest and --chain name the same file",
			 NULL},
			{NULL, {"csr", "k", "--subject", "/CN=x", "--batch", "d"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_ca_verify_code(void **state)
{
	static const char *const bad_days[] = {"0", "366", "-1", "30d", ""};
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"ca", "verify-code", "root", "0123ABCDEF"},
			 {INT_IS(cmd, CLI_CMD_CA_VERIFY_CODE), STR_IS(name, "root"),
			  STR_IS(code, "0123ABCDEF"), INT_IS(days, 0), IS_NULL(out),
			  IS_FALSE(der)}},
			/* Options anywhere; CA first, CODE second. */
			{NULL,
			 {"ca", "verify-code", "--days", "7", "issuing", "--der", "--out=v.cer",
			  "abc.def_1-2"},
			 {STR_IS(name, "issuing"), STR_IS(code, "abc.def_1-2"), INT_IS(days, 7),
			  STR_IS(out, "v.cer"), IS_TRUE(der)}},
			/* A code that starts with '-' follows "--"; signetd judges its characters.
			 */
			{NULL, {"ca", "verify-code", "root", "--", "-x"}, {STR_IS(code, "-x")}},
			{NULL,
			 {"ca", "verify-code", "root", "bad code!"},
			 {STR_IS(code, "bad code!")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	/* An option's value is not the CODE. */
	assert_int_equal(PARSE(&a, NULL, "ca", "verify-code", "root", "--days", "365"),
			 CLI_E_USAGE);
	assert_non_null(strstr(a.error, "needs the registry's verification CODE"));
	cli_args_free(&a);

	assert_int_equal(PARSE(&a, NULL, "ca", "verify-code"), CLI_E_USAGE);
	assert_string_equal(a.error, "'signet ca verify-code' needs a CA NAME");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "verify-code", "root"), CLI_E_USAGE);
	assert_string_equal(
		a.error,
		"'signet ca verify-code' needs the registry's verification CODE after the CA NAME");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "verify-code", "root", "c1", "c2"), CLI_E_USAGE);
	assert_string_equal(a.error, "unexpected argument 'c2' for 'signet ca verify-code'");
	cli_args_free(&a);
	/* A year at most, as signetd; other commands keep their own limit. */
	for (size_t i = 0; i < sizeof(bad_days) / sizeof(bad_days[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "ca", "verify-code", "root", "c", "--days",
				       (char *)bad_days[i]),
				 CLI_E_USAGE);
		assert_non_null(strstr(a.error, "--days wants a number of days from 1 to 365"));
		cli_args_free(&a);
	}
	assert_int_equal(PARSE(&a, NULL, "ca", "verify-code", "root", "c", "--days", "365"), 0);
	assert_int_equal(a.days, 365);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "create-root", "r", "--subject", "/CN=R", "--alg",
			       "p256", "--days", "366"),
			 0);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			/* Only its own options. */
			{NULL,
			 {"ca", "verify-code", "root", "c", "--chain", "f"},
			 "unknown option '--chain' for 'signet ca verify-code'",
			 NULL},
			{NULL,
			 {"ca", "verify-code", "root", "c", "--subject", "/CN=c"},
			 NULL,
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(
		PARSE(&a, NULL, "ca", "verify-code", "root", "c", "--out", "a", "--out", "b"),
		CLI_E_USAGE);
	assert_string_equal(a.error, "option --out is given twice");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "verify-code", "--help"), 0);
	assert_int_equal(a.cmd, CLI_CMD_CA_VERIFY_CODE);
	assert_true(a.help);
	cli_args_free(&a);
}

static void test_ca_request(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"ca", "request", "--subject", "/CN=Sub CA/O=Ex", "sub", "--alg", "p384",
			  "--path-len", "0", "--hash", "sha384", "--out", "sub.csr"},
			 {INT_IS(cmd, CLI_CMD_CA_REQUEST), STR_IS(name, "sub"),
			  STR_IS(subject, "/CN=Sub CA/O=Ex"), INT_IS(alg, SIGNET_KEY_EC_P384),
			  INT_IS(path_len, 0), INT_IS(hash, SIGNET_HASH_SHA384),
			  STR_IS(out, "sub.csr")}},
			/* Defaults: no algorithm (signetd wants one for a new CA), no pathLen,
			   stdout. */
			{NULL,
			 {"ca", "request", "sub", "--subject=/CN=S"},
			 {INT_IS(alg, SIGNET_KEY_UNSPECIFIED), INT_IS(path_len, -1),
			  INT_IS(hash, SIGNET_HASH_DEFAULT), IS_NULL(out)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}

	/* No subject: a held CA's renewal request keeps its own (signetd judges). */
	assert_int_equal(PARSE(&a, NULL, "ca", "request", "sub"), 0);
	assert_null(a.subject);
	assert_int_equal(a.path_len, -1);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "request", "--subject", "/CN=S"), CLI_E_USAGE);
	assert_string_equal(a.error, "'signet ca request' needs a CA NAME");
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "ca", "request", "sub", "--subject", "/CN=S", "--path-len", "33"),
		CLI_E_USAGE);
	assert_non_null(strstr(a.error, "--path-len wants a number of CA levels from 0 to 32"));
	cli_args_free(&a);
	/* A request has no validity, no parent, no DER form. */
	assert_int_equal(
		PARSE(&a, NULL, "ca", "request", "sub", "--subject", "/CN=S", "--days", "30"),
		CLI_E_USAGE);
	assert_string_equal(a.error, "unknown option '--days' for 'signet ca request'");
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "ca", "request", "sub", "--subject", "/CN=S", "--parent", "r"),
		CLI_E_USAGE);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "request", "sub", "--subject", "/CN=S", "--der"),
			 CLI_E_USAGE);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "request", "--help"), 0);
	assert_int_equal(a.cmd, CLI_CMD_CA_REQUEST);
	assert_true(a.help);
	cli_args_free(&a);
}

static void test_ca_import(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"ca", "import", "sub", "--cert", "sub.pem", "--chain", "up.pem", "--out",
			  "-"},
			 {INT_IS(cmd, CLI_CMD_CA_IMPORT), STR_IS(name, "sub"),
			  STR_IS(cert, "sub.pem"), STR_IS(chain, "up.pem"), STR_IS(out, "-")}},
			/* The chain is optional; either file may be standard input, not both. */
			{NULL,
			 {"ca", "import", "--cert=-", "sub"},
			 {STR_IS(cert, "-"), IS_NULL(chain), IS_NULL(out)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "ca", "import", "sub", "--cert", "c", "--chain", "-"), 0);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "import", "sub", "--cert", "-", "--chain", "-"),
			 CLI_E_USAGE);
	assert_string_equal(a.error, "--cert and --chain cannot both read standard input");
	cli_args_free(&a);

	assert_int_equal(PARSE(&a, NULL, "ca", "import", "sub", "--chain", "up.pem"), CLI_E_USAGE);
	assert_string_equal(
		a.error,
		"'signet ca import' needs --cert FILE, the certificate the outside CA returned");
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ca", "import", "--cert", "c"},
			 "'signet ca import' needs a CA NAME",
			 NULL},
			{NULL,
			 {"ca", "import", "sub", "--cert", "a", "--cert", "b"},
			 "option --cert is given twice",
			 NULL},
			/* The certificate decides key, subject and validity. */
			{NULL,
			 {"ca", "import", "sub", "--cert", "c", "--alg", "p256"},
			 "unknown option '--alg' for 'signet ca import'",
			 NULL},
			{NULL, {"ca", "import", "sub", "--cert", "c", "--days", "9"}, NULL, NULL},
			/* --cert is import's alone. */
			{NULL, {"ca", "renew", "sub", "--cert", "c"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_ca_renew_and_rekey(void **state)
{
	static const char *const bad_days[] = {"0", "36501", "-1", "1y", ""};
	static const char *const verbs[] = {"renew", "rekey"};
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"ca", "renew", "issuing", "--days", "730", "--hash", "sha512", "--out",
			  "issuing.pem"},
			 {INT_IS(cmd, CLI_CMD_CA_RENEW), STR_IS(name, "issuing"), INT_IS(days, 730),
			  INT_IS(hash, SIGNET_HASH_SHA512), STR_IS(out, "issuing.pem")}},
			{NULL,
			 {"ca", "rekey", "--alg", "rsa4096", "root", "--days", "36500", "--hash",
			  "sha384", "--out", "root.pem", "--link-out", "link.pem"},
			 {INT_IS(cmd, CLI_CMD_CA_REKEY), STR_IS(name, "root"),
			  INT_IS(alg, SIGNET_KEY_RSA_4096), INT_IS(days, 36500),
			  INT_IS(hash, SIGNET_HASH_SHA384), STR_IS(out, "root.pem"),
			  STR_IS(link_out, "link.pem")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	/* Defaults: the current validity length and key algorithm, nothing written. */
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(PARSE(&a, NULL, "ca", (char *)verbs[i], "root"), 0);
		assert_int_equal(a.days, 0);
		assert_int_equal(a.alg, SIGNET_KEY_UNSPECIFIED);
		assert_int_equal(a.hash, SIGNET_HASH_DEFAULT);
		assert_null(a.out);
		assert_null(a.link_out);
		cli_args_free(&a);
		assert_int_equal(PARSE(&a, NULL, "ca", (char *)verbs[i]), CLI_E_USAGE);
		assert_non_null(strstr(a.error, "needs a CA NAME"));
		cli_args_free(&a);
		for (size_t j = 0; j < sizeof(bad_days) / sizeof(bad_days[0]); j++) {
			assert_int_equal(PARSE(&a, NULL, "ca", (char *)verbs[i], "root", "--days",
					       (char *)bad_days[j]),
					 CLI_E_USAGE);
			assert_non_null(
				strstr(a.error, "--days wants a number of days from 1 to 36500"));
			cli_args_free(&a);
		}
		/* Same subject and pathLen: those cannot change here. */
		assert_int_equal(
			PARSE(&a, NULL, "ca", (char *)verbs[i], "root", "--subject", "/CN=x"),
			CLI_E_USAGE);
		cli_args_free(&a);
		assert_int_equal(PARSE(&a, NULL, "ca", (char *)verbs[i], "root", "--path-len", "1"),
				 CLI_E_USAGE);
		cli_args_free(&a);
	}
	{
		static const struct usage_case cases[] = {
			/* Renewal keeps the key: no algorithm and no link. */
			{NULL,
			 {"ca", "renew", "root", "--alg", "p256"},
			 "unknown option '--alg' for 'signet ca renew'",
			 NULL},
			{NULL,
			 {"ca", "renew", "root", "--link-out", "l"},
			 "unknown option '--link-out' for 'signet ca renew'",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(
		PARSE(&a, NULL, "ca", "rekey", "root", "--link-out", "a", "--link-out", "b"),
		CLI_E_USAGE);
	assert_string_equal(a.error, "option --link-out is given twice");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ca", "rekey", "root", "--link-out"), CLI_E_USAGE);
	assert_string_equal(a.error, "option --link-out needs a value");
	cli_args_free(&a);
}

static void test_audit_verify(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "audit", "verify", "/var/lib/signet/audit.log"), 0);
	assert_int_equal(a.cmd, CLI_CMD_AUDIT_VERIFY);
	assert_string_equal(a.name, "/var/lib/signet/audit.log");
	assert_true(cli_command_is_local(a.cmd));
	cli_args_free(&a);
	{
		static const struct parse_case cases[] = {
			/* "-" is standard input; "--" lets a file name start with '-'. */
			{NULL, {"audit", "verify", "-"}, {STR_IS(name, "-")}},
			{NULL, {"audit", "verify", "--", "-odd.log"}, {STR_IS(name, "-odd.log")}},
			/* Global options are accepted as everywhere, and ignored. */
			{NULL,
			 {"--endpoint", "tcp://x:1", "audit", "verify", "f"},
			 {INT_IS(cmd, CLI_CMD_AUDIT_VERIFY)}},
			{NULL, {"audit", "--help"}, {INT_IS(cmd, CLI_CMD_AUDIT), IS_TRUE(help)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
}

static void test_audit_verify_errors(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct usage_case cases[] = {
			{NULL, {"audit"}, "'signet audit' needs a subcommand: verify", NULL},
			{NULL, {"audit", "check", "f"}, "unknown subcommand 'audit check'", NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "audit", "verify"), CLI_E_USAGE);
	assert_string_equal(a.error, "'signet audit verify' needs a FILE");
	assert_int_equal(a.cmd, CLI_CMD_AUDIT_VERIFY);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"audit", "verify", "a", "b"},
			 "unexpected argument 'b' for 'signet audit verify'",
			 NULL},
			{NULL,
			 {"audit", "verify", "f", "--out", "x"},
			 "unknown option '--out' for 'signet audit verify'",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	/* Only 'audit verify' runs without signetd. */
	assert_false(cli_command_is_local(CLI_CMD_INFO));
	assert_false(cli_command_is_local(CLI_CMD_ISSUE));
	assert_false(cli_command_is_local(CLI_CMD_NONE));
}

static void test_ledger_group(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "ledger"), CLI_E_USAGE);
	assert_int_equal(a.cmd, CLI_CMD_LEDGER);
	assert_string_equal(a.error, "'signet ledger' needs a subcommand: list, get");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ledger", "--help"), 0);
	assert_int_equal(a.cmd, CLI_CMD_LEDGER);
	assert_true(a.help);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ledger", "revoke", "x"},
			 "unknown subcommand 'ledger revoke'",
			 NULL},
			/* revoke and crl are commands of their own, not of a group. */
			{NULL, {"ca", "crl", "x"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_ledger_list_every_option(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "ledger", "list", "--ca", "i1", "--profile", "device",
			       "--subject", "dev-", "--serial", "0A1B", "--valid-at", "1750000000",
			       "--revoked", "--limit", "2", "--page", "42", "--all"),
			 0);
	assert_int_equal(a.cmd, CLI_CMD_LEDGER_LIST);
	assert_string_equal(a.ca, "i1");
	assert_string_equal(a.profile, "device");
	assert_string_equal(a.subject, "dev-");
	assert_string_equal(a.serial, "0A1B");
	assert_int_equal(a.valid_at.at, 1750000000);
	assert_false(a.valid_at.now);
	assert_int_equal(a.revoked, SIGNET_REVOKED_ONLY);
	assert_int_equal(a.limit, 2);
	assert_string_equal(a.page, "42");
	assert_true(a.all);
	cli_args_free(&a);

	{
		static const struct parse_case cases[] = {
			/* No filter: everything, signetd's page size, one page. */
			{NULL,
			 {"ledger", "list"},
			 {IS_NULL(ca), IS_NULL(serial), INT_IS(valid_at.at, 0),
			  INT_IS(expires_after.at, 0), INT_IS(expires_before.at, 0),
			  INT_IS(revoked, SIGNET_REVOKED_ANY), INT_IS(limit, 0), IS_NULL(page),
			  IS_FALSE(all)}},
			/* "now" is read when the command runs, not while parsing. */
			{NULL,
			 {"ledger", "list", "--valid-at=now", "--not-revoked"},
			 {IS_TRUE(valid_at.now), INT_IS(valid_at.at, 0),
			  INT_IS(revoked, SIGNET_REVOKED_NOT)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	/* an expiry window: what is still valid and expires before a date */
	assert_int_equal(PARSE(&a, NULL, "ledger", "list", "--expires-after", "now",
			       "--expires-before=1760000000"),
			 0);
	assert_true(a.expires_after.now);
	assert_int_equal(a.expires_before.at, 1760000000);
	assert_false(a.expires_before.now);
	assert_int_equal(cli_when_resolve(&a.expires_after, 1700000000), 1700000000);
	assert_int_equal(cli_when_resolve(&a.expires_before, 1700000000), 1760000000);
	assert_int_equal(cli_when_resolve(&a.valid_at, 1700000000), 0);
	cli_args_free(&a);
}

static void test_ledger_list_refusals(void **state)
{
	static const char *const bad_limits[] = {"0", "101", "-1", "10x", ""};
	static const char *const bad_times[] = {"0", "-5", "yesterday", "17e8", ""};
	struct cli_args a;

	(void)state;
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ledger", "list", "--revoked", "--not-revoked"},
			 "--revoked and --not-revoked exclude each other",
			 NULL},
			{NULL,
			 {"ledger", "list", "--not-revoked", "--revoked"},
			 "--revoked and --not-revoked exclude each other",
			 NULL},
			{NULL,
			 {"ledger", "list", "--revoked=yes"},
			 "option --revoked takes no value",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "ledger", "list", "--limit", bad_limits[i]),
				 CLI_E_USAGE);
		assert_non_null(strstr(a.error, "--limit wants a number of certificates from 1 "
						"to 100"));
		cli_args_free(&a);
	}
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "ledger", "list", "--valid-at", bad_times[i]),
				 CLI_E_USAGE);
		assert_non_null(
			strstr(a.error, "--valid-at wants a Unix time in seconds or 'now'"));
		cli_args_free(&a);
	}
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		assert_int_equal(
			PARSE(&a, NULL, "ledger", "list", "--expires-before", bad_times[i]),
			CLI_E_USAGE);
		assert_non_null(
			strstr(a.error, "--expires-before wants a Unix time in seconds or 'now'"));
		cli_args_free(&a);
	}
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ledger", "list", "0A1B"},
			 "unexpected argument '0A1B' for 'signet ledger list'",
			 NULL},
			/* Options of other commands. */
			{NULL, {"ledger", "list", "--out", "f"}, NULL, NULL},
			{NULL, {"ledger", "list", "--fingerprint", "00"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(
		PARSE(&a, NULL, "issue", "--ca", "i", "--profile", "p", "--csr", "f", "--all"),
		CLI_E_USAGE);
	cli_args_free(&a);
}

#define FP_HEX "00112233445566778899aabbccddeeffFFEEDDCCBBAA99887766554433221100"

static void test_ledger_get(void **state)
{
	static const char *const bad_fps[] = {
		FP_HEX "0",			 /* 65 digits */
		FP_HEX + 1,			 /* 63 */
		"",				 /* none */
		"00:11:22:33:44:55:66:77:88:99", /* colons */
		"g0112233445566778899aabbccddeeffFFEEDDCCBBAA99887766554433221100",
	};
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "ledger", "get", "0A1B", "--out", "c.pem", "--der"), 0);
	assert_int_equal(a.cmd, CLI_CMD_LEDGER_GET);
	assert_string_equal(a.serial, "0A1B");
	assert_null(a.name);
	assert_false(a.has_fingerprint);
	assert_string_equal(a.out, "c.pem");
	assert_true(a.der);
	cli_args_free(&a);

	assert_int_equal(PARSE(&a, NULL, "ledger", "get", "--fingerprint", FP_HEX), 0);
	assert_null(a.serial);
	assert_true(a.has_fingerprint);
	assert_int_equal(a.fingerprint[0], 0x00);
	assert_int_equal(a.fingerprint[1], 0x11);
	assert_int_equal(a.fingerprint[15], 0xff);
	assert_int_equal(a.fingerprint[16], 0xff);
	assert_int_equal(a.fingerprint[17], 0xee);
	assert_int_equal(a.fingerprint[31], 0x00);
	cli_args_free(&a);

	for (size_t i = 0; i < sizeof(bad_fps) / sizeof(bad_fps[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "ledger", "get", "--fingerprint", bad_fps[i]),
				 CLI_E_USAGE);
		assert_non_null(strstr(a.error, "--fingerprint wants the SHA-256 of the public key "
						"as 64 hex digits"));
		cli_args_free(&a);
	}
	assert_int_equal(PARSE(&a, NULL, "ledger", "get"), CLI_E_USAGE);
	assert_string_equal(a.error, "'signet ledger get' needs a SERIAL or --fingerprint HEX64");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "ledger", "get", "0A1B", "--fingerprint", FP_HEX),
			 CLI_E_USAGE);
	assert_string_equal(a.error,
			    "'signet ledger get' takes a SERIAL or --fingerprint, not both");
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"ledger", "get", "0A1B", "0A1C"},
			 "unexpected argument '0A1C' for 'signet ledger get'",
			 NULL},
			{NULL, {"ledger", "get", "0A1B", "--serial", "0A1C"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "ledger", "get", "--help"), 0);
	assert_true(a.help);
	cli_args_free(&a);
}

static void test_revoke(void **state)
{
	static const struct {
		const char *name;
		enum signet_revocation_reason reason;
	} reasons[] = {
		{"keyCompromise", SIGNET_REASON_KEY_COMPROMISE},
		{"cACompromise", SIGNET_REASON_CA_COMPROMISE},
		{"caCompromise", SIGNET_REASON_CA_COMPROMISE},
		{"CACompromise", SIGNET_REASON_CA_COMPROMISE},
		{"affiliationChanged", SIGNET_REASON_AFFILIATION_CHANGED},
		{"superseded", SIGNET_REASON_SUPERSEDED},
		{"cessationOfOperation", SIGNET_REASON_CESSATION_OF_OPERATION},
		{"certificateHold", SIGNET_REASON_CERTIFICATE_HOLD},
		{"privilegeWithdrawn", SIGNET_REASON_PRIVILEGE_WITHDRAWN},
		{"aACompromise", SIGNET_REASON_AA_COMPROMISE},
		{"unspecified", SIGNET_REASON_UNSPECIFIED},
	};
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "revoke", "i1", "0A1B"), 0);
	assert_int_equal(a.cmd, CLI_CMD_REVOKE);
	assert_string_equal(a.name, "i1");
	assert_string_equal(a.serial, "0A1B");
	assert_int_equal(a.reason, SIGNET_REASON_UNSPECIFIED);
	assert_int_equal(a.invalidity_date, 0);
	cli_args_free(&a);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "revoke", "--reason", reasons[i].name, "i1",
				       "0A1B", "--invalidity-date", "1749999000"),
				 0);
		assert_int_equal(a.reason, reasons[i].reason);
		assert_int_equal(a.invalidity_date, 1749999000);
		cli_args_free(&a);
	}
	{
		static const struct usage_case cases[] = {
			/* removeFromCRL belongs in delta CRLs, which signet does not make. */
			{NULL,
			 {"revoke", "i1", "1", "--reason", "removeFromCRL"},
			 "--reason must be one of keyCompromise|cACompromise|"
			 "affiliationChanged|superseded|cessationOfOperation|"
			 "certificateHold|privilegeWithdrawn|aACompromise|"
			 "unspecified, not 'removeFromCRL'",
			 NULL},
			{NULL, {"revoke", "i1", "1", "--reason", "stolen"}, NULL, "not 'stolen'"},
			{NULL, {"revoke", "i1", "1", "--reason", "1"}, NULL, NULL},
			{NULL,
			 {"revoke", "i1", "1", "--invalidity-date", "0"},
			 "--invalidity-date wants a Unix time in seconds, not '0'",
			 NULL},
			{NULL, {"revoke", "i1", "1", "--invalidity-date", "now"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}

	{
		static const struct usage_case cases[] = {
			{NULL, {"revoke"}, "'signet revoke' needs a CA NAME", NULL},
			{NULL,
			 {"revoke", "i1"},
			 "'signet revoke' needs the certificate's SERIAL after the CA NAME",
			 NULL},
			{NULL,
			 {"revoke", "i1", "1", "2"},
			 "unexpected argument '2' for 'signet revoke'",
			 NULL},
			{NULL, {"revoke", "i1", "1", "--out", "f"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "revoke", "--help"), 0);
	assert_true(a.help);
	cli_args_free(&a);
}

static void test_crl(void **state)
{
	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"crl", "i1"},
			 {INT_IS(cmd, CLI_CMD_CRL), STR_IS(name, "i1"), IS_NULL(key), IS_NULL(out),
			  IS_FALSE(der)}},
			{NULL,
			 {"crl", "--key", "ca.i1", "i1", "--out", "i1.crl", "--der"},
			 {STR_IS(key, "ca.i1"), STR_IS(out, "i1.crl"), IS_TRUE(der)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	{
		static const struct usage_case cases[] = {
			{NULL, {"crl"}, "'signet crl' needs a CA NAME", NULL},
			{NULL, {"crl", "i1", "i2"}, NULL, NULL},
			{NULL,
			 {"crl", "i1", "--key", "a", "--key", "b"},
			 "option --key is given twice",
			 NULL},
			{NULL, {"crl", "i1", "--reason", "superseded"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_challenge_group(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "challenge"), CLI_E_USAGE);
	assert_int_equal(a.cmd, CLI_CMD_CHALLENGE);
	assert_string_equal(a.error, "'signet challenge' needs a subcommand: create, verify");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "challenge", "--help"), 0);
	assert_int_equal(a.cmd, CLI_CMD_CHALLENGE);
	assert_true(a.help);
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"challenge", "verify-chain"},
			 "unknown subcommand 'challenge verify-chain'",
			 NULL},
			/* verify-chain is a command of its own, not of a group. */
			{NULL, {"ca", "verify-chain", "--chain", "f"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_challenge_create(void **state)
{
	static const char *const bad_ttls[] = {"0", "86401", "-1", "60s", ""};
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "challenge", "create", "--device-id", "dev-1"), 0);
	assert_int_equal(a.cmd, CLI_CMD_CHALLENGE_CREATE);
	assert_string_equal(a.device_id, "dev-1");
	assert_false(a.has_fingerprint);
	assert_int_equal(a.ttl, 0);
	assert_null(a.nonce_out);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "challenge", "create", "--fingerprint", FP_HEX, "--ttl",
			       "86400", "--nonce-out=n.bin"),
			 0);
	assert_null(a.device_id);
	assert_true(a.has_fingerprint);
	assert_int_equal(a.fingerprint[0], 0x00);
	assert_int_equal(a.fingerprint[16], 0xff);
	assert_int_equal(a.fingerprint[31], 0x00);
	assert_int_equal(a.ttl, 86400);
	assert_string_equal(a.nonce_out, "n.bin");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "challenge", "create", "--device-id", "d", "--ttl", "1"),
			 0);
	assert_int_equal(a.ttl, 1);
	cli_args_free(&a);

	/* Exactly one binding. */
	assert_int_equal(PARSE(&a, NULL, "challenge", "create"), CLI_E_USAGE);
	assert_string_equal(
		a.error, "'signet challenge create' needs --device-id ID or --fingerprint HEX64");
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "challenge", "create", "--device-id", "d", "--fingerprint", FP_HEX),
		CLI_E_USAGE);
	assert_string_equal(
		a.error, "'signet challenge create' takes --device-id or --fingerprint, not both");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "challenge", "create", "--device-id="), CLI_E_USAGE);
	assert_string_equal(a.error, "--device-id needs the device's ID, its certificate's CN");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "challenge", "create", "--fingerprint", FP_HEX + 1),
			 CLI_E_USAGE);
	assert_non_null(strstr(a.error, "--fingerprint wants the SHA-256 of the public key as 64 "
					"hex digits"));
	cli_args_free(&a);
	for (size_t i = 0; i < sizeof(bad_ttls) / sizeof(bad_ttls[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "challenge", "create", "--device-id", "d", "--ttl",
				       bad_ttls[i]),
				 CLI_E_USAGE);
		assert_non_null(strstr(a.error, "--ttl wants a number of seconds from 1 to 86400"));
		cli_args_free(&a);
	}
	assert_int_equal(
		PARSE(&a, NULL, "challenge", "create", "--device-id", "a", "--device-id", "b"),
		CLI_E_USAGE);
	assert_string_equal(a.error, "option --device-id is given twice");
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"challenge", "create", "--device-id", "d", "dev-2"},
			 "unexpected argument 'dev-2' for 'signet challenge create'",
			 NULL},
			/* Options of the other verbs. */
			{NULL,
			 {"challenge", "create", "--device-id", "d", "--sig", "s"},
			 NULL,
			 NULL},
			{NULL, {"ledger", "get", "--device-id", "d"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_challenge_verify(void **state)
{
	struct cli_args a;

	(void)state;
	{
		static const struct parse_case cases[] = {
			{NULL,
			 {"challenge", "verify", "c0ffee", "--chain", "dev.pem", "--sig",
			  "nonce.sig"},
			 {INT_IS(cmd, CLI_CMD_CHALLENGE_VERIFY), STR_IS(name, "c0ffee"),
			  STR_IS(chain, "dev.pem"), STR_IS(sig, "nonce.sig"),
			  INT_IS(format, SIGNET_SIG_DEFAULT), INT_IS(hash, SIGNET_HASH_DEFAULT)}},
			/* The names and the parser of 'signet sign'; standard input for one file.
			 */
			{NULL,
			 {"challenge", "verify", "--format", "pss", "--hash", "sha512", "--sig",
			  "-", "--chain", "c.pem", "c0ffee"},
			 {INT_IS(format, SIGNET_SIG_RSA_PSS), INT_IS(hash, SIGNET_HASH_SHA512),
			  STR_IS(sig, "-")}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"challenge", "verify", "c", "--chain", "f", "--sig", "s", "--format",
			  "jws"},
			 "--format must be one of der|raw|pkcs1|pss, not 'jws'",
			 NULL},
			{NULL,
			 {"challenge", "verify", "c", "--chain", "f", "--sig", "s", "--hash",
			  "md5"},
			 "--hash must be one of sha256|sha384|sha512, not 'md5'",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}

	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"challenge", "verify", "--chain", "f", "--sig", "s"},
			 "'signet challenge verify' needs a CHALLENGE_ID",
			 NULL},
			{NULL,
			 {"challenge", "verify", "c", "--sig", "s"},
			 "'signet challenge verify' needs --chain FILE, the certificate "
			 "chain, leaf first",
			 NULL},
			{NULL,
			 {"challenge", "verify", "c", "--chain", "f"},
			 "'signet challenge verify' needs --sig FILE, the device's "
			 "signature over the nonce",
			 NULL},
			{NULL,
			 {"challenge", "verify", "c", "--chain", "-", "--sig", "-"},
			 "--chain and --sig cannot both read standard input",
			 NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(
		PARSE(&a, NULL, "challenge", "verify", "c", "d", "--chain", "f", "--sig", "s"),
		CLI_E_USAGE);
	assert_string_equal(a.error, "unexpected argument 'd' for 'signet challenge verify'");
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "challenge", "verify", "c", "--chain", "f", "--sig", "s",
			       "--purpose", "client"),
			 CLI_E_USAGE);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "challenge", "verify", "--help"), 0);
	assert_true(a.help);
	cli_args_free(&a);
}

/* --purpose means a key's purpose for 'key generate', a chain's for verify-chain. */
static void test_enrol(void **state)
{
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "key", "generate", "--alg", "rsa2048", "--purpose", "ra",
			       "scep-ra"),
			 0);
	assert_int_equal(a.key_purpose, SIGNET_KEY_PURPOSE_RA);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "key", "generate", "--alg", "p256", "k"), 0);
	assert_int_equal(a.key_purpose, SIGNET_KEY_PURPOSE_SIGN);
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "key", "generate", "--alg", "p256", "--purpose", "client", "k"),
		CLI_E_USAGE);
	assert_non_null(strstr(a.error, "--purpose must be one of sign|ra"));
	cli_args_free(&a);
	assert_int_equal(
		PARSE(&a, NULL, "enrol", "code", "mdm", "--device-id", "dev-9", "--ttl", "600"), 0);
	assert_int_equal(a.cmd, CLI_CMD_ENROL_CODE);
	assert_string_equal(a.name, "mdm");
	assert_string_equal(a.device_id, "dev-9");
	assert_int_equal(a.ttl, 600);
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "enrol", "scep", "mdm"), CLI_E_USAGE);
	assert_non_null(strstr(a.error, "needs --in FILE"));
	cli_args_free(&a);
	assert_int_equal(PARSE(&a, NULL, "enrol", "cacerts", "mdm", "--out", "ca.p7"), 0);
	assert_int_equal(a.cmd, CLI_CMD_ENROL_CACERTS);
	cli_args_free(&a);
}

static void test_verify_chain(void **state)
{
	static const struct {
		const char *name;
		enum signet_chain_purpose purpose;
	} purposes[] = {
		{"client", SIGNET_PURPOSE_CLIENT},
		{"server", SIGNET_PURPOSE_SERVER},
		{"ca", SIGNET_PURPOSE_CA},
		{"any", SIGNET_PURPOSE_ANY},
	};
	struct cli_args a;

	(void)state;
	assert_int_equal(PARSE(&a, NULL, "verify-chain", "--chain", "dev.pem"), 0);
	assert_int_equal(a.cmd, CLI_CMD_VERIFY_CHAIN);
	assert_string_equal(a.chain, "dev.pem");
	assert_int_equal(a.purpose, SIGNET_PURPOSE_CLIENT);
	assert_false(a.check_revocation);
	assert_null(a.path_out);
	cli_args_free(&a);
	for (size_t i = 0; i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		assert_int_equal(PARSE(&a, NULL, "verify-chain", "--chain=-", "--purpose",
				       (char *)purposes[i].name, "--check-revocation", "--path-out",
				       "path.pem"),
				 0);
		assert_int_equal(a.purpose, purposes[i].purpose);
		assert_true(a.check_revocation);
		assert_string_equal(a.path_out, "path.pem");
		assert_string_equal(a.chain, "-");
		cli_args_free(&a);
	}
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"verify-chain", "--chain", "f", "--purpose", "Client"},
			 "--purpose must be one of client|server|ca|any, not 'Client'",
			 NULL},
			{NULL, {"verify-chain", "--chain", "f", "--purpose", "0"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
	assert_int_equal(PARSE(&a, NULL, "verify-chain"), CLI_E_USAGE);
	assert_string_equal(
		a.error,
		"'signet verify-chain' needs --chain FILE, the certificate chain, leaf first");
	cli_args_free(&a);
	{
		static const struct usage_case cases[] = {
			{NULL,
			 {"verify-chain", "--chain", "f", "--check-revocation=yes"},
			 "option --check-revocation takes no value",
			 NULL},
			{NULL,
			 {"verify-chain", "dev.pem"},
			 "unexpected argument 'dev.pem' for 'signet verify-chain'",
			 NULL},
			{NULL, {"verify-chain", "--chain", "f", "--sig", "s"}, NULL, NULL},
			{NULL, {"verify-chain", "--chain", "f", "--out", "p.pem"}, NULL, NULL},
		};

		check_usage_cases(cases, N_ELEMS(cases));
	}
}

static void test_command_help(void **state)
{
	(void)state;
	{
		static const struct parse_case cases[] = {
			/* --help wins over missing required options. */
			{NULL, {"sign", "--help"}, {INT_IS(cmd, CLI_CMD_SIGN), IS_TRUE(help)}},
			{NULL,
			 {"key", "generate", "-h"},
			 {INT_IS(cmd, CLI_CMD_KEY_GENERATE), IS_TRUE(help)}},
			{NULL, {"csr", "k", "--help", "--bogus"}, {IS_TRUE(help)}},
		};

		check_parse_cases(cases, N_ELEMS(cases));
	}
}

static void test_command_names(void **state)
{
	(void)state;
	assert_string_equal(cli_command_name(CLI_CMD_NONE), "");
	assert_string_equal(cli_command_name(CLI_CMD_INFO), "info");
	assert_string_equal(cli_command_name(CLI_CMD_KEY), "key");
	assert_string_equal(cli_command_name(CLI_CMD_KEY_GENERATE), "key generate");
	assert_string_equal(cli_command_name(CLI_CMD_KEY_DELETE), "key delete");
	assert_string_equal(cli_command_name(CLI_CMD_SIGN), "sign");
	assert_string_equal(cli_command_name(CLI_CMD_CA), "ca");
	assert_string_equal(cli_command_name(CLI_CMD_CA_CREATE_ROOT), "ca create-root");
	assert_string_equal(cli_command_name(CLI_CMD_CA_CREATE_INTERMEDIATE),
			    "ca create-intermediate");
	assert_string_equal(cli_command_name(CLI_CMD_CA_CHAIN), "ca chain");
	assert_string_equal(cli_command_name(CLI_CMD_CA_LIST), "ca list");
	assert_string_equal(cli_command_name(CLI_CMD_ISSUE), "issue");
	assert_string_equal(cli_command_name(CLI_CMD_CA_VERIFY_CODE), "ca verify-code");
	assert_string_equal(cli_command_name(CLI_CMD_CA_REQUEST), "ca request");
	assert_string_equal(cli_command_name(CLI_CMD_CA_IMPORT), "ca import");
	assert_string_equal(cli_command_name(CLI_CMD_CA_RENEW), "ca renew");
	assert_string_equal(cli_command_name(CLI_CMD_CA_REKEY), "ca rekey");
	assert_string_equal(cli_command_name(CLI_CMD_LEDGER), "ledger");
	assert_string_equal(cli_command_name(CLI_CMD_LEDGER_LIST), "ledger list");
	assert_string_equal(cli_command_name(CLI_CMD_LEDGER_GET), "ledger get");
	assert_string_equal(cli_command_name(CLI_CMD_REVOKE), "revoke");
	assert_string_equal(cli_command_name(CLI_CMD_CRL), "crl");
	assert_string_equal(cli_command_name(CLI_CMD_AUDIT), "audit");
	assert_string_equal(cli_command_name(CLI_CMD_AUDIT_VERIFY), "audit verify");
	assert_string_equal(cli_command_name(CLI_CMD_CHALLENGE), "challenge");
	assert_string_equal(cli_command_name(CLI_CMD_CHALLENGE_CREATE), "challenge create");
	assert_string_equal(cli_command_name(CLI_CMD_CHALLENGE_VERIFY), "challenge verify");
	assert_string_equal(cli_command_name(CLI_CMD_VERIFY_CHAIN), "verify-chain");
}

static void test_help_texts(void **state)
{
	static const struct {
		enum cli_command cmd;
		const char *must_mention;
	} topics[] = {
		{CLI_CMD_NONE, "--endpoint URL"},
		{CLI_CMD_INFO, "Usage: signet info"},
		{CLI_CMD_HEALTH, "SERVING"},
		{CLI_CMD_KEY, "key delete NAME"},
		{CLI_CMD_KEY_GENERATE, "rsa4096"},
		{CLI_CMD_KEY_PUB, "--der"},
		{CLI_CMD_KEY_LIST, "extractable="},
		{CLI_CMD_KEY_DELETE, "signet key delete"},
		{CLI_CMD_CSR, "--email ADDR"},
		{CLI_CMD_SIGN, "--format"},
		{CLI_CMD_NONE, "ca create-intermediate"},
		{CLI_CMD_CA, "ca chain NAME"},
		{CLI_CMD_CA_CREATE_ROOT, "--path-len N"},
		{CLI_CMD_CA_CREATE_INTERMEDIATE, "--parent CA"},
		{CLI_CMD_CA_CHAIN, "root's last"},
		{CLI_CMD_CA_LIST, "path_len=N|none"},
		{CLI_CMD_NONE, "issue --ca CA --profile PROFILE"},
		{CLI_CMD_ISSUE, "constrained-device"},
		{CLI_CMD_NONE, "ca verify-code CA CODE"},
		{CLI_CMD_CA, "ca verify-code CA CODE [--days N]"},
		{CLI_CMD_CA_VERIFY_CODE, "CN=CODE"},
		{CLI_CMD_NONE, "ca request NAME --subject DN --alg ALG"},
		{CLI_CMD_CA, "ca request NAME [--subject DN] [--alg ALG]"},
		{CLI_CMD_NONE, "ca rekey NAME"},
		{CLI_CMD_CA, "ca import NAME --cert FILE [--chain FILE] [--out FILE]"},
		{CLI_CMD_CA, "[--link-out FILE]"},
		{CLI_CMD_CA_REQUEST, "NAME key=LABEL"},
		{CLI_CMD_CA_IMPORT, "--chain FILE"},
		{CLI_CMD_CA_RENEW, "same key"},
		{CLI_CMD_CA_REKEY, "--link-out FILE"},
		{CLI_CMD_NONE, "ledger list"},
		{CLI_CMD_NONE, "revoke CA SERIAL"},
		{CLI_CMD_NONE, "crl CA"},
		{CLI_CMD_LEDGER, "ledger get --fingerprint HEX64"},
		{CLI_CMD_LEDGER_LIST, "status=valid|revoked(REASON)"},
		{CLI_CMD_LEDGER_LIST, "--not-revoked"},
		{CLI_CMD_LEDGER_GET, "sha256sum"},
		{CLI_CMD_REVOKE, "cessationOfOperation"},
		{CLI_CMD_REVOKE, "16 when it"},
		{CLI_CMD_CRL, "--key LABEL"},
		{CLI_CMD_NONE, "audit verify FILE"},
		{CLI_CMD_AUDIT, "audit verify FILE"},
		{CLI_CMD_AUDIT_VERIFY, "signet: AUDIT: FILE line N: reason"},
		{CLI_CMD_NONE, "challenge create (--device-id ID | --fingerprint HEX64)"},
		{CLI_CMD_NONE, "challenge verify CHALLENGE_ID --chain FILE --sig FILE"},
		{CLI_CMD_NONE, "verify-chain --chain FILE"},
		{CLI_CMD_CHALLENGE, "[--ttl SECONDS]"},
		{CLI_CMD_CHALLENGE, "[--format der|raw|pkcs1|pss] [--hash sha256|sha384|sha512]"},
		{CLI_CMD_CHALLENGE_CREATE, "CHALLENGE_ID nonce=HEX expires=YYYY-MM-DDTHH:MM:SSZ"},
		{CLI_CMD_CHALLENGE_CREATE, "--nonce-out FILE"},
		{CLI_CMD_CHALLENGE_VERIFY, "OK device=ID fingerprint=HEX64 serial=SERIAL ca=CA"},
		{CLI_CMD_CHALLENGE_VERIFY, "19 used (a replay)"},
		{CLI_CMD_VERIFY_CHAIN, "--purpose client|server|ca|any"},
		{CLI_CMD_VERIFY_CHAIN, "--path-out FILE"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		const char *text = cli_help(topics[i].cmd);

		assert_non_null(strstr(text, topics[i].must_mention));
		/* Every level documents the global options. */
		assert_non_null(strstr(text, "--timeout MS"));
	}
	assert_non_null(strstr(cli_help(CLI_CMD_NONE), "Exit codes"));
	assert_non_null(strstr(cli_help(CLI_CMD_NONE), "4 the audit log does not verify"));
	assert_non_null(strstr(cli_help(CLI_CMD_NONE), "--client NAME --secret-file FILE"));
	assert_non_null(strstr(cli_help(CLI_CMD_KEY_LIST), "$SIGNET_SECRET_FILE"));
	assert_non_null(strstr(cli_help(CLI_CMD_NONE), "26 UNAUTHENTICATED"));
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(cli_exit_code(SIGNET_OK), 0);
	assert_int_equal(cli_exit_code(CLI_E_IO), 1);
	assert_int_equal(cli_exit_code(SIGNET_E_NOMEM), 1);
	assert_int_equal(cli_exit_code(-999), 1);
	assert_int_equal(cli_exit_code(42), 1);
	assert_int_equal(cli_exit_code(CLI_E_USAGE), 2);
	assert_int_equal(cli_exit_code(SIGNET_E_TRANSPORT), 3);
	assert_int_equal(cli_exit_code(SIGNET_E_PROTOCOL), 3);
	assert_int_equal(cli_exit_code(SIGNET_E_DEADLINE_EXCEEDED), 3);
	assert_int_equal(cli_exit_code(CLI_E_AUDIT), 4);
	assert_int_equal(cli_exit_code(SIGNET_E_CANCELLED), 11);
	assert_int_equal(cli_exit_code(SIGNET_E_UNKNOWN), 12);
	assert_int_equal(cli_exit_code(SIGNET_E_INVALID_ARGUMENT), 13);
	assert_int_equal(cli_exit_code(SIGNET_E_NOT_FOUND), 15);
	assert_int_equal(cli_exit_code(SIGNET_E_ALREADY_EXISTS), 16);
	assert_int_equal(cli_exit_code(SIGNET_E_PERMISSION_DENIED), 17);
	assert_int_equal(cli_exit_code(SIGNET_E_RESOURCE_EXHAUSTED), 18);
	assert_int_equal(cli_exit_code(SIGNET_E_FAILED_PRECONDITION), 19);
	assert_int_equal(cli_exit_code(SIGNET_E_ABORTED), 20);
	assert_int_equal(cli_exit_code(SIGNET_E_OUT_OF_RANGE), 21);
	assert_int_equal(cli_exit_code(SIGNET_E_UNIMPLEMENTED), 22);
	assert_int_equal(cli_exit_code(SIGNET_E_INTERNAL), 23);
	assert_int_equal(cli_exit_code(SIGNET_E_UNAVAILABLE), 24);
	assert_int_equal(cli_exit_code(SIGNET_E_DATA_LOSS), 25);
	assert_int_equal(cli_exit_code(SIGNET_E_UNAUTHENTICATED), 26);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(cli_status_name(CLI_E_USAGE), "USAGE");
	assert_string_equal(cli_status_name(CLI_E_IO), "IO");
	assert_string_equal(cli_status_name(CLI_E_AUDIT), "AUDIT");
	assert_string_equal(cli_status_name(SIGNET_E_NOT_FOUND), "NOT_FOUND");
	assert_string_equal(cli_status_name(SIGNET_E_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
	assert_string_equal(cli_status_name(SIGNET_E_TRANSPORT), "TRANSPORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_command_is_a_usage_error),
		cmocka_unit_test(test_global_help_and_version),
		cmocka_unit_test(test_unknown_options_and_commands),
		cmocka_unit_test(test_endpoint_precedence),
		cmocka_unit_test(test_endpoint_errors),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_endpoint_list),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_credential_sources),
		cmocka_unit_test(test_credential_usage_errors),
		cmocka_unit_test(test_credential_not_needed_locally),
		cmocka_unit_test(test_info_and_health),
		cmocka_unit_test(test_key_group),
		cmocka_unit_test(test_key_generate_algorithms),
		cmocka_unit_test(test_key_generate_errors),
		cmocka_unit_test(test_key_pub_list_delete),
		cmocka_unit_test(test_csr_repeated_sans),
		cmocka_unit_test(test_csr_defaults_and_errors),
		cmocka_unit_test(test_sign_options),
		cmocka_unit_test(test_sign_formats),
		cmocka_unit_test(test_ca_group),
		cmocka_unit_test(test_ca_create_root_every_option),
		cmocka_unit_test(test_ca_create_intermediate_every_option),
		cmocka_unit_test(test_ca_create_missing_options),
		cmocka_unit_test(test_ca_create_bad_numbers),
		cmocka_unit_test(test_ca_chain_and_list),
		cmocka_unit_test(test_issue),
		cmocka_unit_test(test_issue_batch),
		cmocka_unit_test(test_ca_verify_code),
		cmocka_unit_test(test_ca_request),
		cmocka_unit_test(test_ca_import),
		cmocka_unit_test(test_ca_renew_and_rekey),
		cmocka_unit_test(test_audit_verify),
		cmocka_unit_test(test_audit_verify_errors),
		cmocka_unit_test(test_ledger_group),
		cmocka_unit_test(test_ledger_list_every_option),
		cmocka_unit_test(test_ledger_list_refusals),
		cmocka_unit_test(test_ledger_get),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_challenge_group),
		cmocka_unit_test(test_challenge_create),
		cmocka_unit_test(test_challenge_verify),
		cmocka_unit_test(test_verify_chain),
		cmocka_unit_test(test_enrol),
		cmocka_unit_test(test_command_help),
		cmocka_unit_test(test_command_names),
		cmocka_unit_test(test_help_texts),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
