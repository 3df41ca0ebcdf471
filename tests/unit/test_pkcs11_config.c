/* client/pkcs11/config.c: the module's configuration, as (text -> settings or refusal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p11.h"
#include "testutil.h"

static struct p11_config cfg;
static char err[256];

static void test_full(void **state)
{
	(void)state;
	assert_int_equal(
		p11_config_parse("endpoints = [ \"ipc:///a.sock\", \"ipc:///b,ipc:///c\" ];\n"
				 "client = \"gw\"; secret_file = \"/k\"; label = \"hsm\";\n"
				 "keys = [ \"device-1\" ]; timeout_ms = 250; retries = 3;",
				 &cfg, err, sizeof(err)),
		CKR_OK);
	assert_int_equal(cfg.n_endpoints, 2);
	assert_string_equal(cfg.endpoints[1], "ipc:///b,ipc:///c"); /* a failover list: one slot */
	assert_string_equal(cfg.client, "gw");
	assert_string_equal(cfg.secret_file, "/k");
	assert_string_equal(cfg.label, "hsm");
	assert_int_equal(cfg.n_keys, 1);
	assert_string_equal(cfg.keys[0], "device-1");
	assert_int_equal(cfg.timeout_ms, 250);
	assert_int_equal(cfg.retries, 3);
	p11_config_free(&cfg);
}

static void test_defaults(void **state)
{
	(void)state;
	setenv("SIGNET_ENDPOINT", "ipc:///env.sock", 1);
	assert_int_equal(p11_config_parse("", &cfg, err, sizeof(err)), CKR_OK);
	assert_int_equal(cfg.n_endpoints, 1);
	assert_string_equal(cfg.endpoints[0], "ipc:///env.sock");
	assert_null(cfg.client);
	assert_null(cfg.keys); /* every key ListKeys shows */
	assert_string_equal(cfg.label, "signet");
	assert_int_equal(cfg.timeout_ms, 10000);
	assert_int_equal(cfg.retries, 1);
	p11_config_free(&cfg);
	unsetenv("SIGNET_ENDPOINT");
	assert_int_equal(p11_config_parse("endpoints = \"tcp://h:7411\";", &cfg, err, sizeof(err)),
			 CKR_OK);
	assert_string_equal(cfg.endpoints[0], "tcp://h:7411");
	p11_config_free(&cfg);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *text, *msg;
	} rows[] = {
		{"endpoints = [", "line 1"},
		{"endpoints = [ \"\" ];", "endpoints[0]: a non-empty string"},
		{"endpoints = 3;", "endpoints: a list of strings"},
		{"client = \"gw\";", "client and secret_file go together"},
		{"secret_file = \"/k\";", "client and secret_file go together"},
		{"client = 5; secret_file = \"/k\";", "client: a non-empty string"},
		{"retries = 11;", "retries: 0 to 10"},
		{"timeout_ms = -1;", "timeout_ms: 0 or more"},
		{"endpoints = [ "
		 "\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\","
		 "\"m\",\"n\",\"o\",\"p\",\"q\" ];",
		 "endpoints: at most 16"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		assert_int_equal(p11_config_parse(rows[i].text, &cfg, err, sizeof(err)),
				 CKR_ARGUMENTS_BAD);
		if (strstr(err, rows[i].msg) == NULL)
			fail_msg("'%s': '%s', wanted '%s'", rows[i].text, err, rows[i].msg);
		assert_int_equal(cfg.n_endpoints, 0); /* nothing half-filled is left */
	}
}

static void test_file(void **state)
{
	char dir[256], path[512];

	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "p11cfg");
	testutil_join(path, sizeof(path), dir, "pkcs11.conf");
	testutil_write_text(path, "endpoints = [ \"ipc:///f.sock\" ];\n");
	setenv("SIGNET_PKCS11_CONFIG", path, 1);
	assert_int_equal(p11_config_load(NULL, &cfg, err, sizeof(err)), CKR_OK);
	assert_string_equal(cfg.endpoints[0], "ipc:///f.sock");
	p11_config_free(&cfg);
	testutil_join(path, sizeof(path), dir, "missing.conf");
	setenv("SIGNET_PKCS11_CONFIG", path, 1);
	assert_int_equal(p11_config_load(NULL, &cfg, err, sizeof(err)), CKR_ARGUMENTS_BAD);
	assert_non_null(strstr(err, "missing.conf"));
	unsetenv("SIGNET_PKCS11_CONFIG");
	p11_config_free(NULL);
	testutil_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
