/* client/gateway/config.c: signet-gatewayd's configuration file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <signet/signet.h>

#include "config.h"
#include "testutil.h"

static char dir[256], file[512];

static int setup(void **state)
{
	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "gwconfig");
	testutil_join(file, sizeof(file), dir, "gatewayd.conf");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testutil_rm_rf(dir);
	return 0;
}

#define SIGNETD_OK "signetd = { client = \"gateway\"; secret_file = \"/s\"; };\n"

static int load(const char *text, struct gw_config *cfg, char *err, size_t errlen)
{
	int r;

	testutil_write_text(file, text);
	r = gw_config_load(file, cfg, err, errlen);
	return r;
}

static void refused(const char *text, const char *msg)
{
	struct gw_config cfg;
	char err[512] = "";

	assert_int_equal(load(text, &cfg, err, sizeof(err)), SIGNET_E_INVALID_ARGUMENT);
	if (strstr(err, msg) == NULL)
		fail_msg("error '%s' lacks '%s'", err, msg);
	gw_config_free(&cfg);
}

static void test_defaults(void **state)
{
	struct gw_config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(load(SIGNETD_OK, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_string_equal(cfg.endpoints, SIGNET_DEFAULT_ENDPOINT);
	assert_string_equal(cfg.client, "gateway");
	assert_string_equal(cfg.path, "/scep");
	assert_string_equal(cfg.default_enrolment, "");
	assert_int_equal(cfg.n_enrolments, 0);
	assert_int_equal(cfg.max_body, 65536);
	assert_int_equal(cfg.max_connections, 64);
	assert_int_equal(cfg.per_source_per_minute, 600);
	assert_int_equal(cfg.timeout_ms, 10000);
	gw_config_free(&cfg);
}

static void test_full(void **state)
{
	struct gw_config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(
		load("listen = \"[::1]:8443\";\nuser = \"signet-gateway\";\n"
		     "signetd = { endpoints = [ \"ipc:///a.sock\", \"tcp://127.0.0.1:7411\" ];\n"
		     "  client = \"gw\"; secret_file = \"/etc/signet/gateway.secret\"; "
		     "timeout_ms = 2500; };\n"
		     "scep = { path = \"/enrol/scep\"; default = \"mdm\"; enrolments = [ \"mdm\", "
		     "\"routers\" ]; };\n"
		     "limits = { max_body = 4096; max_connections = 8; per_source_per_minute = 0; "
		     "};\n"
		     "tls = { certificate = \"/etc/signet/gw.pem\"; key = \"/etc/signet/gw.key\"; "
		     "};\n",
		     &cfg, err, sizeof(err)),
		0);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 8443);
	assert_string_equal(cfg.user, "signet-gateway");
	assert_string_equal(cfg.endpoints, "ipc:///a.sock,tcp://127.0.0.1:7411");
	assert_string_equal(cfg.secret_file, "/etc/signet/gateway.secret");
	assert_int_equal(cfg.timeout_ms, 2500);
	assert_string_equal(cfg.path, "/enrol/scep");
	assert_string_equal(cfg.default_enrolment, "mdm");
	assert_int_equal(cfg.n_enrolments, 2);
	assert_string_equal(cfg.enrolments[1], "routers");
	assert_int_equal(cfg.max_body, 4096);
	assert_int_equal(cfg.max_connections, 8);
	assert_int_equal(cfg.per_source_per_minute, 0);
	assert_string_equal(cfg.tls_certificate, "/etc/signet/gw.pem");
	assert_string_equal(cfg.tls_key, "/etc/signet/gw.key");
	gw_config_free(&cfg);
}

static void test_refused(void **state)
{
	(void)state;
	refused("signetd = { client = \"gateway\"; };\n", "required");
	refused(SIGNETD_OK "listen = \"localhost:80\";\n", "listen 'localhost:80'");
	refused(SIGNETD_OK "limits = { max_body = 10; };\n", "max_body must be 1024 to");
	refused(SIGNETD_OK "limits = { max_connections = \"many\"; };\n", "must be an integer");
	refused(SIGNETD_OK "scep = { path = \"/scep/\"; };\n", "scep.path");
	refused(SIGNETD_OK "scep = { path = \"scep\"; };\n", "scep.path");
	refused(SIGNETD_OK "scep = { enrolments = [ \"a/b\" ]; };\n", "'a/b' is not");
	refused(SIGNETD_OK "scep = { default = \"x\"; enrolments = [ \"mdm\" ]; };\n",
		"not in scep.enrolments");
	refused(SIGNETD_OK "scep = { default = \"../x\"; };\n", "not an enrolment name");
	refused(SIGNETD_OK "listen = ;\n", "syntax error");
	refused(SIGNETD_OK "tls = { certificate = \"/c.pem\"; };\n", "go together");
	refused(SIGNETD_OK "tls = { key = \"/k.pem\"; };\n", "go together");
}

#define TLS_OK "tls = { certificate = \"/c.pem\"; key = \"/k.pem\"; };\n"

static void test_est(void **state)
{
	struct gw_config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(load(SIGNETD_OK
			      "tls = { certificate = \"/c.pem\"; key = \"/k.pem\"; "
			      "client_anchors = \"/a.pem\"; };\n"
			      "est = { enabled = true; default = \"factory\";\n"
			      "  labels = { edge = \"edge-devices\"; lab = \"lab\"; }; };\n",
			      &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.est_enabled, 1);
	assert_string_equal(cfg.est_default, "factory");
	assert_int_equal(cfg.n_est_labels, 2);
	assert_string_equal(cfg.est_labels[0].label, "edge");
	assert_string_equal(cfg.est_labels[0].enrolment, "edge-devices");
	assert_string_equal(cfg.est_labels[1].label, "lab");
	assert_string_equal(cfg.tls_client_anchors, "/a.pem");
	gw_config_free(&cfg);
	/* no est group: off */
	assert_int_equal(load(SIGNETD_OK, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.est_enabled, 0);
	gw_config_free(&cfg);

	refused(SIGNETD_OK "est = { enabled = true; default = \"factory\"; };\n", "HTTPS only");
	refused(SIGNETD_OK TLS_OK "est = { enabled = true; };\n", "est.default or est.labels");
	refused(SIGNETD_OK TLS_OK "est = { enabled = 1; default = \"f\"; };\n", "true or false");
	refused(SIGNETD_OK TLS_OK "est = { enabled = true; default = \"../f\"; };\n",
		"not an enrolment name");
	refused(SIGNETD_OK TLS_OK "est = { enabled = true; labels = { edge = \"a/b\"; }; };\n",
		"est.labels.edge");
	refused(SIGNETD_OK TLS_OK "est = { enabled = true; labels = [ \"a\" ]; };\n",
		"must be a group");
	refused(SIGNETD_OK "tls = { client_anchors = \"/a.pem\"; };\n", "needs tls.certificate");
}

static void test_missing_file(void **state)
{
	struct gw_config cfg;
	char err[512] = "", path[600];

	(void)state;
	snprintf(path, sizeof(path), "%s/nope.conf", dir);
	assert_int_equal(gw_config_load(path, &cfg, err, sizeof(err)), SIGNET_E_NOT_FOUND);
	assert_non_null(strstr(err, "nope.conf"));
	gw_config_free(&cfg);
	gw_config_free(NULL);
}

static void test_listen(void **state)
{
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(gw_config_parse_listen("127.0.0.1:8080", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(gw_config_parse_listen("[::1]:1", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 1);
	assert_int_not_equal(gw_config_parse_listen("::1:80", host, sizeof(host), &port), 0);
	assert_int_not_equal(gw_config_parse_listen("127.0.0.1", host, sizeof(host), &port), 0);
	assert_int_not_equal(gw_config_parse_listen("127.0.0.1:0", host, sizeof(host), &port), 0);
	assert_int_not_equal(gw_config_parse_listen("127.0.0.1:65536", host, sizeof(host), &port),
			     0);
	assert_int_not_equal(gw_config_parse_listen("127.0.0.1:80x", host, sizeof(host), &port), 0);
	assert_int_not_equal(gw_config_parse_listen("[::1]80", host, sizeof(host), &port), 0);
	assert_int_not_equal(gw_config_parse_listen("[127.0.0.1]:80", host, sizeof(host), &port),
			     0);
	assert_int_not_equal(gw_config_parse_listen(":80", host, sizeof(host), &port), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_full),
		cmocka_unit_test(test_refused),	 cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_listen),	 cmocka_unit_test(test_est),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
