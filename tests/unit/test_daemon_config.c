/* Unit tests for daemon/config.c: loading, defaults, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define TOKEN_OK                                                                                   \
	"token: { module = \"/usr/lib/softhsm/libsofthsm2.so\"; uri = \"pkcs11:token=t\"; "        \
	"pin_file = \"/etc/signet/pin\"; };\n"
#define SERVER_OK "server: { endpoints = [ \"ipc:///run/signet/signetd.sock\" ]; };\n"

static char path[64];

static int load(const char *text, struct config *cfg, char *err, size_t errlen)
{
	FILE *f;
	int fd, r;

	strcpy(path, "/tmp/signet-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	r = config_load(path, cfg, err, errlen);
	unlink(path);
	return r;
}

static void test_minimal_gets_defaults(void **state)
{
	struct config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load(TOKEN_OK SERVER_OK, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.module_path, "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(cfg.token.token, "t");
	assert_string_equal(cfg.pin_file, "/etc/signet/pin");
	assert_int_equal(cfg.n_endpoints, 1);
	assert_true(cfg.workers >= 1);
	assert_int_equal(cfg.max_message_size, CONFIG_DEFAULT_MAX_MESSAGE);
	assert_string_equal(cfg.state_dir, "/var/lib/signet");
	assert_int_equal(cfg.log_level, LOG_LVL_INFO);
	config_free(&cfg);
	config_free(&cfg); /* safe twice */
}

static void test_full(void **state)
{
	struct config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load("log_level = \"debug\"; state_dir = \"/srv/s\";\n"
			      "token: { module = \"/m.so\"; label = \"lab\"; serial = \"123\"; "
			      "pin_file = \"/p\"; };\n"
			      "server: { endpoints = [ \"ipc:///a\", \"tcp://127.0.0.1:5555\" ]; "
			      "workers = 3; max_message_size = 2048; };\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_string_equal(cfg.token.token, "lab");
	assert_string_equal(cfg.token.serial, "123");
	assert_int_equal(cfg.n_endpoints, 2);
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.max_message_size, 2048);
	config_free(&cfg);
}

static void refused(const char *text, const char *why)
{
	struct config cfg;
	char err[512] = "";

	assert_int_equal(load(text, &cfg, err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("message '%s' lacks '%s'", err, why);
	assert_null(cfg.module_path); /* nothing left allocated */
}

static void test_refusals(void **state)
{
	(void)state;
	refused(SERVER_OK, "token: required");
	refused(TOKEN_OK, "server: required");
	refused("token: { uri = \"pkcs11:token=t\"; pin_file = \"/p\"; };\n" SERVER_OK,
		"token.module: required");
	refused("token: { module = \"/m\"; uri = \"pkcs11:token=t\"; };\n" SERVER_OK,
		"token.pin_file: required");
	refused("token: { module = \"m.so\"; uri = \"pkcs11:\"; pin_file = \"/p\"; };\n" SERVER_OK,
		"absolute path");
	refused("token: { module = \"/m\"; uri = \"pkcs11:token=t\"; label = \"t\"; "
		"pin_file = \"/p\"; };\n" SERVER_OK,
		"not both");
	refused("token: { module = \"/m\"; pin_file = \"/p\"; };\n" SERVER_OK, "name the token");
	refused("token: { module = \"/m\"; uri = \"pkcs11:object=x\"; pin_file = \"/p\"; "
		"};\n" SERVER_OK,
		"token.uri");
	refused("token: { module = \"/m\"; uri = \"pkcs11:token=t\"; pin_file = \"/p\"; "
		"pin = \"1234\"; };\n" SERVER_OK,
		"pin_file");
	refused(TOKEN_OK "server: { endpoints = [ \"http://x\" ]; };\n", "ipc:// or tcp://");
	refused(TOKEN_OK "server: { endpoints = [ ]; };\n", "server.endpoints");
	refused(TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; workers = 999; };\n",
		"between 0 and 256");
	refused(TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; workers = \"two\"; };\n",
		"whole number");
	refused(TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; max_message_size = 10; };\n",
		"max_message_size");
	refused(TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; wrokers = 2; };\n",
		"server.wrokers: unknown setting");
	refused(TOKEN_OK SERVER_OK "frobnicate = 1;\n", "frobnicate: unknown setting");
	refused(TOKEN_OK SERVER_OK "log_level = \"loud\";\n", "log_level");
	refused(TOKEN_OK SERVER_OK "state_dir = \"relative\";\n", "state_dir");
	/* the line of the offending setting is named */
	refused(TOKEN_OK SERVER_OK "\n\nextra = 1;\n", ":5:");
	/* libconfig's own syntax errors carry file and line */
	refused("token: {\n  module = ;\n};\n", ":2:");
}

static void test_missing_file(void **state)
{
	struct config cfg;
	char err[512];

	(void)state;
	assert_int_equal(config_load("/nonexistent/signetd.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/signetd.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_gets_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
