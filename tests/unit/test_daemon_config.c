/* Unit tests for daemon/config/config.c: loading, defaults, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "testutil.h"

#define TOKEN_OK                                                                                   \
	"token: { module = \"/usr/lib/softhsm/libsofthsm2.so\"; uri = \"pkcs11:token=t\"; "        \
	"pin_file = \"/etc/signet/pin\"; };\n"
#define SERVER_OK                                                                                  \
	"server: { endpoints = [ \"ipc:///run/signet/signetd.sock\" ]; };\n"                       \
	"auth: { allow_anonymous = true; };\n"
#define SERVER_WITH "auth: { allow_anonymous = true; }; server: { endpoints = [ \"ipc:///a\" ]; "
#define CLIENT_OK                                                                                  \
	"clients: { c1: { secret_file = \"/etc/signet/c1.key\"; methods = [ \"Get*\" ]; }; };\n"
#define TOKEN_WITH "token: { module = \"/m.so\"; pin_file = \"/p\"; "

static char dir[64];
static char path[128];

/*
 * Fixtures live in data/ beside this file; the shipped example two levels up.
 * (TEST_DATA_DIR names tests/data, which does not exist.) CMake compiles with
 * absolute source paths, so __FILE__ locates them from any build directory.
 */
static const char *source_path(const char *relative)
{
	static char buf[512];
	const char *slash = strrchr(__FILE__, '/');

	assert_non_null(slash);
	snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - __FILE__), __FILE__, relative);
	return buf;
}

static int make_dir(void **state)
{
	(void)state;
	testutil_mkdtemp(dir, sizeof(dir), "conf");
	testutil_join(path, sizeof(path), dir, "signetd.conf");
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	testutil_rm_rf(dir);
	return 0;
}

static int load_text(const char *text, struct config *cfg, char *err, size_t errlen)
{
	testutil_write_text(path, text);
	return config_load(path, cfg, err, errlen);
}

static void load_ok(const char *file, struct config *cfg)
{
	char err[512] = "";

	if (config_load(file, cfg, err, sizeof(err)) != 0)
		fail_msg("%s refused: %s", file, err);
}

static unsigned default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	n *= CONFIG_WORKERS_PER_CPU;
	return n > CONFIG_DEFAULT_MAX_WORKERS ? CONFIG_DEFAULT_MAX_WORKERS : (unsigned)n;
}

static void test_minimal_gets_defaults(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(source_path("data/config-minimal.conf"), &cfg);
	assert_string_equal(cfg.module_path, "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(cfg.token.token, "signet");
	assert_string_equal(cfg.token.serial, "");
	assert_string_equal(cfg.pin_file, "/etc/signet/user-pin");
	assert_int_equal(cfg.n_endpoints, 1);
	assert_string_equal(cfg.endpoints[0], "ipc:///run/signet/signetd.sock");
	assert_int_equal(cfg.workers, default_workers()); /* 0: per online CPU */
	assert_int_equal(cfg.max_message_size, CONFIG_DEFAULT_MAX_MESSAGE);
	assert_int_equal(cfg.shutdown_timeout_seconds, CONFIG_DEFAULT_SHUTDOWN_TIMEOUT);
	assert_int_equal(cfg.max_batch_csrs, CONFIG_DEFAULT_BATCH_CSRS);
	assert_int_equal(cfg.max_batch_bytes, CONFIG_DEFAULT_BATCH_BYTES);
	assert_string_equal(cfg.state_dir, "/var/lib/signet");
	assert_int_equal(cfg.log_level, LOG_LVL_INFO);
	assert_string_equal(cfg.audit_log, "/var/lib/signet/audit.log");
	assert_int_equal(cfg.crl_validity_hours, CONFIG_DEFAULT_CRL_HOURS);
	assert_null(cfg.crl_publish_dir);
	assert_int_equal(cfg.crl_refresh_seconds, CONFIG_DEFAULT_CRL_HOURS * 3600 / 2);
	assert_int_equal(cfg.audit_flush_ms, 10); /* no records group at all */
	assert_null(cfg.trust_anchors);
	assert_int_equal(cfg.challenge_ttl_seconds, CONFIG_DEFAULT_CHALLENGE_TTL);
	assert_int_equal(cfg.challenge_max_ttl_seconds, CONFIG_DEFAULT_CHALLENGE_MAX);
	assert_int_equal(cfg.max_challenges_per_caller, CONFIG_DEFAULT_PER_CALLER);
	assert_int_equal(cfg.max_challenges, CONFIG_DEFAULT_CHALLENGES);
	assert_false(cfg.shared_challenges);
	config_free(&cfg);
	assert_null(cfg.module_path);
	config_free(&cfg); /* safe twice */
}

static void test_full(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(source_path("data/config-full.conf"), &cfg);
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_string_equal(cfg.state_dir, "/srv/signet/state");
	assert_string_equal(cfg.module_path, "/opt/hsm/lib/libvendor-pkcs11.so");
	assert_string_equal(cfg.token.token, "signet production");
	assert_string_equal(cfg.token.serial, "1a2b3c4d5e6f7081");
	assert_false(cfg.token.has_slot_id);
	assert_string_equal(cfg.pin_file, "/run/credentials/signetd.service/user-pin");
	assert_int_equal(cfg.n_endpoints, 3);
	assert_string_equal(cfg.endpoints[0], "ipc:///run/signet/signetd.sock");
	assert_string_equal(cfg.endpoints[1], "tcp://127.0.0.1:5555");
	assert_string_equal(cfg.endpoints[2], "tcp://[::1]:5556");
	assert_int_equal(cfg.workers, 16);
	assert_int_equal(cfg.max_message_size, 4194304);
	assert_string_equal(cfg.audit_log, "/var/log/signet/audit.log");
	assert_int_equal(cfg.crl_validity_hours, 24);
	assert_string_equal(cfg.crl_publish_dir, "/srv/signet/crl");
	assert_int_equal(cfg.crl_refresh_seconds, 3600);
	assert_int_equal(cfg.audit_flush_ms, 0);
	assert_string_equal(cfg.trust_anchors, "/etc/signet/trust-anchors.pem");
	assert_int_equal(cfg.challenge_ttl_seconds, 30);
	assert_int_equal(cfg.challenge_max_ttl_seconds, 300);
	assert_int_equal(cfg.max_challenges_per_caller, 50);
	assert_int_equal(cfg.max_challenges, 5000);
	assert_true(cfg.shared_challenges);
	config_free(&cfg);
}

/* token.module_dirs replaces the default allowlist; user is kept as named. */
static void test_module_dirs_and_user(void **state)
{
	struct config cfg;
	char err[512] = "";

	(void)state;
	if (load_text(TOKEN_WITH "uri = \"pkcs11:\"; module_dirs = [ \"/opt/a/lib\", \"/opt/b\" ]; "
				 "};\n" SERVER_OK "user = \"signet\";\n",
		      &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.n_module_dirs, 2);
	assert_string_equal(cfg.module_dirs[0], "/opt/a/lib");
	assert_string_equal(cfg.module_dirs[1], "/opt/b");
	assert_string_equal(cfg.user, "signet");
	config_free(&cfg);
	assert_null(cfg.user);
	/* absent: the defaults (modpath.h) and no user */
	assert_int_equal(load_text(TOKEN_OK SERVER_OK, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_module_dirs, 0);
	assert_null(cfg.user);
	config_free(&cfg);
}

/* token.serialize_object_creation: true, false, or left to the module (-1). */
static void test_serialize_object_creation(void **state)
{
	struct config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(load_text(TOKEN_OK SERVER_OK, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.serialize_objects, -1);
	config_free(&cfg);
	if (load_text(TOKEN_WITH
		      "uri = \"pkcs11:\"; serialize_object_creation = false; };\n" SERVER_OK,
		      &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.serialize_objects, 0);
	config_free(&cfg);
	if (load_text(TOKEN_WITH
		      "uri = \"pkcs11:\"; serialize_object_creation = true; };\n" SERVER_OK,
		      &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.serialize_objects, 1);
	config_free(&cfg);
	assert_int_not_equal(
		load_text(TOKEN_WITH
			  "uri = \"pkcs11:\"; serialize_object_creation = \"yes\"; };\n" SERVER_OK,
			  &cfg, err, sizeof(err)),
		0);
	assert_non_null(strstr(err, "serialize_object_creation"));
	assert_non_null(strstr(err, "true or false"));
}

/* The shipped example must stay a configuration the daemon accepts. */
static void test_packaged_example_loads(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(source_path("../../packaging/signetd.conf.example"), &cfg);
	assert_string_equal(cfg.token.token, "signet");
	assert_int_equal(cfg.n_endpoints, 1);
	config_free(&cfg);
}

static void test_accepted_variants(void **state)
{
	static const char *const texts[] = {
		/* serial alone; the group and list spellings libconfig allows */
		TOKEN_WITH "serial = \"0123456789abcdef\"; };\n" SERVER_OK,
		TOKEN_WITH "label = \"32 bytes: aaaaaaaaaaaaaaaaaaaaaa\"; };\n" SERVER_OK,
		"token = { module = \"/m\"; uri = \"pkcs11:serial=1\"; pin_file = \"/p\"; };\n"
		"server = { endpoints = ( \"ipc:///a\", \"tcp://*:5555\" ); };\n" CLIENT_OK,
		TOKEN_OK SERVER_WITH "workers = 256; max_message_size = 1024; };\n",
		TOKEN_OK SERVER_WITH "max_message_size = 67108864; };\n",
		TOKEN_OK SERVER_WITH "workers = 4L; max_message_size = 0x100000; };\n",
		TOKEN_OK SERVER_WITH "shutdown_timeout_seconds = 3600; };\n",
		TOKEN_OK SERVER_OK "log_level = \"warning\";\n",
		TOKEN_OK SERVER_OK "log_level = \"error\";\n",
		/* clients alone, no anonymous callers */
		TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; };\n" CLIENT_OK,
	};
	struct config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (load_text(texts[i], &cfg, err, sizeof(err)) != 0)
			fail_msg("refused:\n%s\n-> %s", texts[i], err);
		config_free(&cfg);
	}
}

/* SignCsrBatch's limits: as set, and the byte limit never above the message's. */
static void test_batch_limits(void **state)
{
	struct config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load_text(TOKEN_OK SERVER_WITH
				   "max_batch_csrs = 4096; max_batch_bytes = 65536; };\n",
				   &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.max_batch_csrs, 4096);
	assert_int_equal(cfg.max_batch_bytes, 65536);
	config_free(&cfg);
	/* a message limit below the default bytes lowers the default with it */
	assert_int_equal(load_text(TOKEN_OK SERVER_WITH "max_message_size = 4096; };\n", &cfg, err,
				   sizeof(err)),
			 0);
	assert_int_equal(cfg.max_batch_bytes, 4096);
	assert_int_equal(cfg.max_batch_csrs, CONFIG_DEFAULT_BATCH_CSRS);
	config_free(&cfg);
}

static const struct refusal {
	const char *text;
	const char *why; /* the message must contain this */
} refusals[] = {
	/* required groups and settings */
	{SERVER_OK, "token: required"},
	{TOKEN_OK, "server: required"},
	{"token = \"x\";\n" SERVER_OK, ":1: token: must be a group"},
	{TOKEN_OK "server = [ \"ipc:///a\" ];\n", "server: must be a group"},
	{"token: { uri = \"pkcs11:token=t\"; pin_file = \"/p\"; };\n" SERVER_OK,
	 "token.module: required"},
	{"token: { module = \"/m\"; uri = \"pkcs11:token=t\"; };\n" SERVER_OK,
	 "token.pin_file: required"},
	{TOKEN_WITH "};\n" SERVER_OK, "token: name the token with uri, or with label"},
	{TOKEN_OK "server: { workers = 2; };\n", "server.endpoints: required"},
	/* how the token is named */
	{TOKEN_WITH "uri = \"pkcs11:token=t\"; label = \"t\"; };\n" SERVER_OK,
	 "token.uri: give either uri or label/serial, not both"},
	{TOKEN_WITH "uri = \"pkcs11:token=t\"; serial = \"1\"; };\n" SERVER_OK, "not both"},
	{TOKEN_WITH "uri = \"pkcs11:object=x\"; };\n" SERVER_OK,
	 "token.uri: object: names an object, but signetd needs a token URI"},
	{TOKEN_WITH "uri = \"pkcs11:object=x\"; };\n" SERVER_OK, "names an object"},
	{TOKEN_WITH "uri = \"file:///x\"; };\n" SERVER_OK, "token.uri: must start with 'pkcs11:'"},
	{TOKEN_WITH "uri = 7; };\n" SERVER_OK, "token.uri: must be a string"},
	{TOKEN_WITH "label = \"\"; };\n" SERVER_OK, "token.label: empty"},
	{TOKEN_WITH "label = \"33 bytes: aaaaaaaaaaaaaaaaaaaaaaa\"; };\n" SERVER_OK,
	 "token.label: longer than 32 bytes"},
	{TOKEN_WITH "serial = \"0123456789abcdef0\"; };\n" SERVER_OK,
	 "token.serial: longer than 16 bytes"},
	/* paths */
	{"token: { module = \"libsofthsm2.so\"; uri = \"pkcs11:\"; pin_file = \"/p\"; "
	 "};\n" SERVER_OK,
	 "token.module: must be an absolute path"},
	{"token: { module = \"/m\"; uri = \"pkcs11:\"; pin_file = \"pin\"; };\n" SERVER_OK,
	 "token.pin_file: must be an absolute path"},
	{"token: { module = \"\"; uri = \"pkcs11:\"; pin_file = \"/p\"; };\n" SERVER_OK,
	 "token.module: must be an absolute path"},
	{"token: { module = [\"/m\"]; uri = \"pkcs11:\"; pin_file = \"/p\"; };\n" SERVER_OK,
	 "token.module: must be a string"},
	{TOKEN_OK SERVER_OK "state_dir = \"var/lib/signet\";\n", "state_dir: must be an absolute"},
	/* the module allowlist and the user to serve as */
	{TOKEN_WITH "uri = \"pkcs11:\"; module_dirs = [ \"lib\" ]; };\n" SERVER_OK,
	 "token.module_dirs: item 1: must be an absolute path"},
	{TOKEN_WITH "uri = \"pkcs11:\"; module_dirs = ( \"/a\", 5 ); };\n" SERVER_OK,
	 "token.module_dirs: item 2: must be an absolute path"},
	{TOKEN_WITH "uri = \"pkcs11:\"; module_dirs = [ ]; };\n" SERVER_OK,
	 "token.module_dirs: must be a list"},
	{TOKEN_WITH "uri = \"pkcs11:\"; module_dirs = \"/opt\"; };\n" SERVER_OK,
	 "token.module_dirs: must be a list"},
	{TOKEN_WITH "uri = \"pkcs11:\"; module_dirs = [ \"/1\", \"/2\", \"/3\", \"/4\", \"/5\", "
		    "\"/6\", \"/7\", \"/8\", \"/9\", \"/10\", \"/11\", \"/12\", \"/13\", \"/14\", "
		    "\"/15\", \"/16\", \"/17\" ]; };\n" SERVER_OK,
	 "token.module_dirs: at most 16"},
	{TOKEN_OK SERVER_OK "user = \"\";\n", "user: must be a user name"},
	{TOKEN_OK SERVER_OK "user = \"a:b\";\n", "user: must be a user name"},
	{TOKEN_OK SERVER_OK "user = \"abcdefghijklmnopqrstuvwxyz0123456\";\n",
	 "user: must be a user name of 1 to 32"},
	{TOKEN_OK SERVER_OK "user = 0;\n", "user: must be a string"},
	/* records */
	{TOKEN_OK SERVER_OK "records: { audit_log = \"audit.log\"; };\n",
	 "records.audit_log: must be an absolute path"},
	{TOKEN_OK SERVER_OK "records: { crl_validity_hours = 0; };\n",
	 "records.crl_validity_hours: must be between 1"},
	{TOKEN_OK SERVER_OK "records: { crl_publish_dir = \"crl\"; };\n",
	 "records.crl_publish_dir: must be an absolute path"},
	{TOKEN_OK SERVER_OK "records: { crl_lifetime = 5; };\n", "records.crl_lifetime"},
	/* a CRL must be re-signed before it expires */
	{TOKEN_OK SERVER_OK "records: { audit_flush_ms = 1001; };\n",
	 "records.audit_flush_ms: must be between 0 and 1000"},
	{TOKEN_OK SERVER_OK "records: { crl_validity_hours = 1; crl_refresh_seconds = 3601; };\n",
	 "records.crl_refresh_seconds: must be between 1 and 3600"},
	{TOKEN_OK SERVER_OK "records = 5;\n", "records: must be a group"},
	/* auth and clients */
	{TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; };\n", "clients: no client is declared"},
	{TOKEN_OK "server: { endpoints = [ \"tcp://127.0.0.1:5555\" ]; };\n"
		  "auth: { allow_anonymous = true; };\n" CLIENT_OK,
	 "allow_anonymous is for ipc:// endpoints only"},
	{TOKEN_OK SERVER_OK "clients: { c1: { methods = [ \"Get*\" ]; }; };\n",
	 "c1.secret_file: required"},
	{TOKEN_OK SERVER_OK
	 "clients: { c1: { secret_file = \"/k\"; methods = [ \"SignCrs\" ]; }; };\n",
	 "'SignCrs' matches no method"},
	{TOKEN_OK SERVER_OK "clients: { c1: { secret_file = \"/k\"; admin = 1; }; };\n",
	 "c1.admin: must be true or false"},
	{TOKEN_OK SERVER_OK "clients: { c1: { secret_file = \"/k\"; rights = 1; }; };\n",
	 "c1.rights"},
	{TOKEN_OK SERVER_OK "clients: { c1: { secret_file = \"/k\"; cas = \"x\"; }; };\n",
	 "c1.cas: must be a list"},
	{TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; };\n"
		  "auth: { window_seconds = 0; allow_anonymous = true; };\n",
	 "auth.window_seconds: must be between 1"},
	{TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; };\n"
		  "auth: { window_seconds = 30; reorder_seconds = 31; allow_anonymous = true; };\n",
	 "auth.reorder_seconds: must be between 1 and 30"},
	{TOKEN_OK "server: { endpoints = [ \"ipc:///a\" ]; };\n"
		  "auth: { clients_dir = \"/nonexistent/dir\"; };\n",
	 "auth.clients_dir: /nonexistent/dir: No such file"},
	/* possession */
	{TOKEN_OK SERVER_OK "possession: { trust_anchors = \"anchors.pem\"; };\n",
	 "possession.trust_anchors: must be an absolute path"},
	{TOKEN_OK SERVER_OK "possession: { challenge_max_ttl_seconds = 60; "
			    "challenge_ttl_seconds = 61; };\n",
	 "possession.challenge_ttl_seconds: must be between 1 and 60"},
	{TOKEN_OK SERVER_OK
	 "possession: { max_challenges = 10; max_challenges_per_caller = 11; };\n",
	 "possession.max_challenges_per_caller: must be between 1 and 10"},
	{TOKEN_OK SERVER_OK "possession: { nonce_bytes = 64; };\n", "possession.nonce_bytes"},
	{TOKEN_OK SERVER_OK "possession: { shared_challenges = 1; };\n",
	 "possession.shared_challenges"},
	/* endpoints */
	{TOKEN_OK "server: { endpoints = [ \"http://x\" ]; };\n",
	 "server.endpoints: item 1: must start with ipc:// or tcp://"},
	{TOKEN_OK "server: { endpoints = [ \"ipc:///a\", \"inproc://x\" ]; };\n", "item 2"},
	{TOKEN_OK "server: { endpoints = [ ]; };\n", "server.endpoints: required"},
	{TOKEN_OK "server: { endpoints = \"ipc:///a\"; };\n", "server.endpoints: required"},
	{TOKEN_OK "server: { endpoints = ( \"ipc:///a\", 5 ); };\n", "item 2: must be a string"},
	{TOKEN_OK "server: { endpoints = [ \"ipc://relative.sock\" ]; };\n",
	 "ipc:// needs an absolute path"},
	{TOKEN_OK "server: { endpoints = [ \"ipc://\" ]; };\n", "ipc:// needs an absolute path"},
	{TOKEN_OK "server: { endpoints = [ \"tcp://127.0.0.1\" ]; };\n", "tcp:// needs HOST:PORT"},
	{TOKEN_OK "server: { endpoints = [ \"tcp://:5555\" ]; };\n", "tcp:// needs HOST:PORT"},
	{TOKEN_OK "server: { endpoints = [ \"tcp://h:0\" ]; };\n", "tcp:// needs HOST:PORT"},
	{TOKEN_OK "server: { endpoints = [ \"tcp://h:65536\" ]; };\n", "tcp:// needs HOST:PORT"},
	{TOKEN_OK "server: { endpoints = [ \"tcp://h:80x\" ]; };\n", "tcp:// needs HOST:PORT"},
	{TOKEN_OK "server: { endpoints = [ \"ipc:///a\", \"ipc:///a\" ]; };\n",
	 "item 2: listed twice"},
	{TOKEN_OK "server: { endpoints = [ \"ipc:///1\", \"ipc:///2\", \"ipc:///3\", \"ipc:///4\", "
		  "\"ipc:///5\", \"ipc:///6\", \"ipc:///7\", \"ipc:///8\", \"ipc:///9\" ]; };\n",
	 "server.endpoints: at most 8"},
	/* numbers */
	{TOKEN_OK SERVER_WITH "workers = 257; };\n", "server.workers: must be between 0 and 256"},
	{TOKEN_OK SERVER_WITH "workers = -1; };\n", "server.workers: must be between 0 and 256"},
	{TOKEN_OK SERVER_WITH "workers = 100000000000L; };\n", "must be between 0 and 256"},
	{TOKEN_OK SERVER_WITH "workers = \"2\"; };\n", "server.workers: must be a whole number"},
	{TOKEN_OK SERVER_WITH "workers = 2.0; };\n", "server.workers: must be a whole number"},
	{TOKEN_OK SERVER_WITH "workers = true; };\n", "must be a whole number"},
	{TOKEN_OK SERVER_WITH "max_message_size = 1023; };\n",
	 "server.max_message_size: must be between 1024 and 67108864"},
	{TOKEN_OK SERVER_WITH "max_message_size = 67108865; };\n",
	 "server.max_message_size: must be between 1024 and 67108864"},
	{TOKEN_OK SERVER_WITH "max_message_size = \"1M\"; };\n", "must be a whole number"},
	{TOKEN_OK SERVER_WITH "max_batch_csrs = 0; };\n",
	 "server.max_batch_csrs: must be between 1 and 4096"},
	{TOKEN_OK SERVER_WITH "max_batch_csrs = 4097; };\n",
	 "server.max_batch_csrs: must be between 1 and 4096"},
	{TOKEN_OK SERVER_WITH "max_batch_bytes = 1023; };\n",
	 "server.max_batch_bytes: must be between 1024 and 67108864"},
	{TOKEN_OK SERVER_WITH "max_batch_bytes = 2097152; };\n",
	 "server.max_batch_bytes: 2097152 is above server.max_message_size (1048576)"},
	{TOKEN_OK SERVER_WITH "max_message_size = 4096; max_batch_bytes = 8192; };\n",
	 "above server.max_message_size (4096)"},
	/* unknown settings, at every level */
	{TOKEN_OK SERVER_WITH "wrokers = 2; };\n", "server.wrokers: unknown setting"},
	{TOKEN_WITH "uri = \"pkcs11:\"; modul = \"/m\"; };\n" SERVER_OK,
	 "token.modul: unknown setting (known here: module, uri, label, serial, pin_file, "
	 "module_dirs, serialize_object_creation)"},
	{TOKEN_OK SERVER_OK "frobnicate = 1;\n", ":4: frobnicate: unknown setting"},
	{TOKEN_OK SERVER_OK "ledger: { };\n", "ledger: unknown setting"},
	{TOKEN_OK SERVER_OK "Log_level = \"info\";\n", "Log_level: unknown setting"},
	/* profiles */
	{TOKEN_OK SERVER_OK "profiles: { factory: { max_days = 10; }; };\n",
	 "profiles.factory: a new profile needs base = \"device\""},
	{TOKEN_OK SERVER_OK "profiles: { f: { base = \"nope\"; }; };\n",
	 "f.base: no profile named 'nope'"},
	{TOKEN_OK SERVER_OK "profiles: { device: { max_day = 10; }; };\n",
	 "device.max_day: unknown setting"},
	{TOKEN_OK SERVER_OK "profiles: { device: { key_types = [ \"p521\" ]; }; };\n",
	 "device.key_types: item 1 ('p521'): not one of p256"},
	{TOKEN_OK SERVER_OK "profiles: { device: { key_types = [ ]; }; };\n",
	 "key_types: allows no key type"},
	{TOKEN_OK SERVER_OK "profiles: { device: { key_usage = [ \"signing\" ]; }; };\n",
	 "device.key_usage: item 1 ('signing'): not a key usage"},
	{TOKEN_OK SERVER_OK "profiles: { device: { extended_key_usage = [ \"bogus\" ]; }; };\n",
	 "not a known extended key usage"},
	{TOKEN_OK SERVER_OK
	 "profiles: { device: { extended_key_usage = [ \"clientAuth\", "
	 "\"serverAuth\", \"codeSigning\", \"emailProtection\", \"timeStamping\", "
	 "\"OCSPSigning\", \"clientAuth\", \"serverAuth\", \"codeSigning\" ]; }; };\n",
	 "device.extended_key_usage: item 9 ('codeSigning'): at most 8"},
	{TOKEN_OK SERVER_OK
	 "profiles: { device: { subject: { attributes = [ \"CN\", \"nope\" ]; }; "
	 "}; };\n",
	 "item 2 ('nope'): not a known attribute"},
	{TOKEN_OK SERVER_OK "profiles: { device: { path_len = 1; }; };\n",
	 "path_len: only for ca = true"},
	{TOKEN_OK SERVER_OK "profiles: { device: { key_usage = [ \"keyCertSign\" ]; }; };\n",
	 "keyCertSign and cRLSign are for ca = true"},
	{TOKEN_OK SERVER_OK "profiles: { device: { default_days = 400; max_days = 300; }; };\n",
	 "default_days: must be between 1 and max_days"},
	{TOKEN_OK SERVER_OK "profiles: { device: { max_days = 40000; }; };\n",
	 "device.max_days: must be between 1 and 36500"},
	{TOKEN_OK SERVER_OK "profiles: { device: { subject: { cn_pattern = \"(\"; }; }; };\n",
	 "subject.cn_pattern: not a POSIX extended regular expression"},
	{TOKEN_OK SERVER_OK "profiles: { device: { subject: { attributes = [ \"O\" ]; }; }; };\n",
	 "cn_required needs CN among them"},
	{TOKEN_OK SERVER_OK "profiles: { server: { san: { ip = [ \"10.0.0.0/33\" ]; }; }; };\n",
	 "san.ip: item 1 ('10.0.0.0/33'): not an address or CIDR range"},
	{TOKEN_OK SERVER_OK "profiles: { device: { ca = 1; }; };\n",
	 "device.ca: must be true or false"},
	{TOKEN_OK SERVER_OK "profiles: { device: 3; };\n", "profiles.device: must be a group"},
	{TOKEN_OK SERVER_OK "profiles: { device: { signature_hash = \"md5\"; }; };\n",
	 "signature_hash: must be default, sha256, sha384 or sha512"},
	{TOKEN_OK SERVER_WITH "shutdown_timeout_seconds = 0; };\n",
	 "server.shutdown_timeout_seconds: must be between 1 and 3600"},
	/* enrolment doors */
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { ca = \"i\"; profile = \"device\"; "
			    "ra_key = \"ra\"; }; };\n",
	 "mdm.protocol: required: \"scep\" or \"est\""},
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { protocol = \"cmp\"; }; };\n",
	 "mdm.protocol: required: \"scep\" or \"est\""},
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { protocol = \"est\"; }; };\n", "mdm.ca: required"},
	{TOKEN_OK SERVER_OK
	 "enrolment: { e: { protocol = \"est\"; ca = \"i\"; profile = \"device\"; "
	 "ra_key = \"ra\"; }; };\n",
	 "e.ra_key"},
	{TOKEN_OK SERVER_OK
	 "enrolment: { e: { protocol = \"est\"; ca = \"i\"; profile = \"device\"; "
	 "bootstrap_anchors = \"a.pem\"; }; };\n",
	 "e.bootstrap_anchors: must be an absolute path"},
	{TOKEN_OK SERVER_OK
	 "enrolment: { e: { protocol = \"est\"; ca = \"i\"; profile = \"device\"; "
	 "retry_after = 30; }; };\n",
	 "e.retry_after: only with manual = true"},
	{TOKEN_OK SERVER_OK
	 "enrolment: { e: { protocol = \"est\"; ca = \"i\"; profile = \"device\"; "
	 "csr_attrs = [ \"noSuchAttribute\" ]; }; };\n",
	 "e.csr_attrs: 'noSuchAttribute' is no attribute name or dotted OID"},
	{TOKEN_OK SERVER_OK
	 "enrolment: { e: { protocol = \"scep\"; ca = \"i\"; profile = \"device\"; "
	 "ra_key = \"ra\"; codes = true; }; };\n",
	 "e.codes"},
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { protocol = \"scep\"; profile = \"device\"; "
			    "ra_key = \"ra\"; }; };\n",
	 "mdm.ca: required"},
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { protocol = \"scep\"; ca = \"i\"; "
			    "profile = \"phone\"; ra_key = \"ra\"; }; };\n",
	 "mdm.profile: no profile 'phone' is defined"},
	{TOKEN_OK SERVER_OK
	 "enrolment: { mdm: { protocol = \"scep\"; ca = \"i\"; "
	 "profile = \"device\"; ra_key = \"ra\"; challenge = \"static\"; }; };\n",
	 "mdm.challenge_file: required with challenge = \"static\""},
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { protocol = \"scep\"; ca = \"i\"; "
			    "profile = \"device\"; ra_key = \"ra\"; challenge = \"otp\"; }; };\n",
	 "mdm.challenge: must be \"codes\" or \"static\""},
	{TOKEN_OK SERVER_OK
	 "enrolment: { mdm: { protocol = \"scep\"; ca = \"i\"; "
	 "profile = \"device\"; ra_key = \"ra\"; ra_certificate = \"ra.pem\"; }; };\n",
	 "mdm.ra_certificate: must be an absolute path"},
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { protocol = \"scep\"; ca = \"i\"; "
			    "profile = \"device\"; ra_key = \"ra\"; max_message_size = 10; }; };\n",
	 "mdm.max_message_size: must be between 1024"},
	{TOKEN_OK SERVER_OK "enrolment: { mdm: { protocol = \"scep\"; ca = \"i\"; "
			    "profile = \"device\"; ra_key = \"ra\"; allow_md5 = true; }; };\n",
	 "mdm.allow_md5"},
	{TOKEN_OK SERVER_OK "enrolment: { a*b: { protocol = \"scep\"; }; };\n", "enrolment names"},
	{TOKEN_OK SERVER_OK "enrolment: { abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw: "
			    "{ protocol = \"scep\"; }; };\n",
	 "enrolment names are 1-48 characters"},
	/* other values */
	{TOKEN_OK SERVER_OK "log_level = \"loud\";\n",
	 "log_level: must be error, warn, info or debug"},
	{TOKEN_OK SERVER_OK "log_level = 3;\n", "log_level: must be a string"},
	/* syntax errors carry file and line */
	{"token: {\n  module = ;\n};\n", "signetd.conf:2: syntax error"},
	{TOKEN_OK TOKEN_OK SERVER_OK, ":2: duplicate setting name"},
	{"", "token: required"},
};

#define PG_URI "postgresql://signet@/signet?host=/run/postgresql&port=5432"

/* records.database: SQLite unless it names a PostgreSQL database, which
 * turns shared challenges on unless possession says otherwise. */
static void test_records_database(void **state)
{
	static const char *const sqlite[] = {
		TOKEN_OK SERVER_OK,
		TOKEN_OK SERVER_OK "records: { crl_validity_hours = 24; };\n",
		TOKEN_OK SERVER_OK "records: { database = \"sqlite\"; };\n",
		TOKEN_OK SERVER_OK "records: { database = \"\"; };\n",
	};
	struct config cfg;
	char err[512] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(sqlite) / sizeof(sqlite[0]); i++) {
		if (load_text(sqlite[i], &cfg, err, sizeof(err)) != 0)
			fail_msg("refused:\n%s\n-> %s", sqlite[i], err);
		assert_null(cfg.database);
		assert_null(cfg.database_password_file);
		assert_false(cfg.shared_challenges);
		config_free(&cfg);
	}
	if (load_text(TOKEN_OK SERVER_OK "records: { database = \"" PG_URI "\";\n"
					 "  database_password_file = \"/etc/signet/pgpass\"; };\n",
		      &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(cfg.database, PG_URI);
	assert_string_equal(cfg.database_password_file, "/etc/signet/pgpass");
	assert_true(cfg.shared_challenges);
	config_free(&cfg);
	assert_null(cfg.database);
	/* no password file (peer or certificate authentication); key=value form */
	if (load_text(TOKEN_OK SERVER_OK "records: { database = \"host=db.example dbname=signet "
					 "sslmode=verify-full\"; };\n",
		      &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(cfg.database, "host=db.example dbname=signet sslmode=verify-full");
	assert_null(cfg.database_password_file);
	assert_true(cfg.shared_challenges);
	config_free(&cfg);
	/* an operator may still keep the challenges per host */
	if (load_text(TOKEN_OK SERVER_OK "records: { database = \"" PG_URI "\"; };\n"
					 "possession: { shared_challenges = false; };\n",
		      &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_non_null(cfg.database);
	assert_false(cfg.shared_challenges);
	config_free(&cfg);
}

/* A password in records.database is refused, the file it belongs in is
 * named, and the password is not repeated; so for each way to write it. */
static void test_database_password_refused(void **state)
{
	static const char *const texts[] = {
		TOKEN_OK SERVER_OK "records: { database = \"postgresql://u:secret@host/db\"; };\n",
		TOKEN_OK SERVER_OK
		"records: { database = \"postgres://u:secret@host:5433/db\"; };\n",
		TOKEN_OK SERVER_OK
		"records: { database = \"postgresql://u@host/db?password=secret\";"
		" };\n",
		TOKEN_OK SERVER_OK
		"records: { database = \"host=h dbname=db password=secret\"; };\n",
		TOKEN_OK SERVER_OK
		"records: { database = \"host=h password = 'sec ret' dbname=db\";"
		" database_password_file = \"/etc/signet/pgpass\"; };\n",
	};
	struct config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		err[0] = '\0';
		if (load_text(texts[i], &cfg, err, sizeof(err)) != -1)
			fail_msg("accepted:\n%s", texts[i]);
		if (strstr(err, "records.database:") == NULL ||
		    strstr(err, "records.database_password_file") == NULL)
			fail_msg("message '%s' does not name records.database and "
				 "records.database_password_file for:\n%s",
				 err, texts[i]);
		if (strstr(err, "secret") != NULL || strstr(err, "sec ret") != NULL)
			fail_msg("message '%s' repeats the password of:\n%s", err, texts[i]);
		assert_null(cfg.database);
		assert_null(cfg.state_dir);
	}
}

/* The passphrase of the client's key is as much a secret. */
static void test_database_sslpassword_refused(void **state)
{
	struct config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(load_text(TOKEN_OK SERVER_OK
				   "records: { database = \"postgresql://u@h/db?sslkey=/k.pem&"
				   "sslpassword=secret\"; };\n",
				   &cfg, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "records.database: "));
	assert_non_null(strstr(err, "must not hold sslpassword"));
	assert_null(strstr(err, "secret"));
	assert_int_equal(load_text(TOKEN_OK SERVER_OK "records: { database = \"host=h "
						      "sslpassword=secret\"; };\n",
				   &cfg, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "must not hold sslpassword"));
	assert_null(strstr(err, "secret"));
	assert_null(cfg.database);
}

/* What else records.database and database_password_file refuse; a quote
 * of an unparsable string must not show what might be a secret in it. */
static void test_database_refusals(void **state)
{
	static const struct refusal cases[] = {
		{TOKEN_OK SERVER_OK
		 "records: { database_password_file = \"/etc/signet/pgpass\"; };\n",
		 "records.database_password_file: is for a PostgreSQL database"},
		{TOKEN_OK SERVER_OK "records: { database = \"sqlite\";\n"
				    "  database_password_file = \"/etc/signet/pgpass\"; };\n",
		 ":5: records.database_password_file: is for a PostgreSQL database"},
		{TOKEN_OK SERVER_OK "records: { database = \"" PG_URI "\";\n"
				    "  database_password_file = \"pgpass\"; };\n",
		 ":5: records.database_password_file: must be an absolute path"},
		{TOKEN_OK SERVER_OK "records: { database = \"" PG_URI "\";\n"
				    "  database_password_file = \"\"; };\n",
		 "records.database_password_file: must be an absolute path"},
		{TOKEN_OK SERVER_OK "records: { database = 5; };\n",
		 "records.database: must be a string"},
		{TOKEN_OK SERVER_OK "records: { database = \"mysql://u@h/db\"; };\n",
		 "records.database: a URI must start with postgresql://"},
		{TOKEN_OK SERVER_OK "records: { database = \"host=h nosuchoption=1\"; };\n",
		 "records.database: invalid connection option \"nosuchoption\""},
		{TOKEN_OK SERVER_OK "records: { database = \"host='h dbname=db\"; };\n",
		 "records.database: unterminated quoted string"},
		{TOKEN_OK SERVER_OK "records: { database = \"dbname\"; };\n",
		 "records.database: missing \"=\" after"},
		{TOKEN_OK SERVER_OK "records: { database = \"postgresql://u:secret@[::1/db\"; };\n",
		 "matching \"]\" in IPv6 host address in URI: \"...\""},
		{TOKEN_OK SERVER_OK "records: { database = \"postgresql://h/db?secret\"; };\n",
		 "separator \"=\" in URI query parameter: \"...\""},
	};
	struct config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (load_text(cases[i].text, &cfg, err, sizeof(err)) != -1)
			fail_msg("accepted:\n%s", cases[i].text);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("message '%s' lacks '%s' for:\n%s", err, cases[i].why,
				 cases[i].text);
		if (strstr(err, "secret") != NULL)
			fail_msg("message '%s' quotes the conninfo of:\n%s", err, cases[i].text);
		assert_null(cfg.database);
		assert_null(cfg.database_password_file);
		assert_null(cfg.state_dir);
	}
}

/* An enrolment door with its defaults, and one with every setting. */
static void test_enrolments(void **state)
{
	static const char text[] = TOKEN_OK SERVER_OK
		"enrolment: {\n"
		"  mdm: { protocol = \"scep\"; ca = \"issuing\"; profile = \"device\";\n"
		"         ra_key = \"scep-ra\"; };\n"
		"  routers: { protocol = \"scep\"; ca = \"issuing\"; profile = \"server\";\n"
		"         ra_key = \"scep-ra\"; ra_certificate = \"/etc/signet/ra.pem\";\n"
		"         challenge = \"static\"; challenge_file = \"/etc/signet/scep.secret\";\n"
		"         allow_des = true; max_message_size = 8192; };\n"
		"};\n";
	const struct enrolment_def *mdm, *routers;
	struct config cfg;
	char err[512] = "";

	(void)state;
	if (load_text(text, &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.n_enrolments, 2);
	assert_non_null(mdm = config_enrolment(&cfg, "mdm"));
	assert_string_equal(mdm->ra_key, "scep-ra");
	assert_null(mdm->ra_certificate);
	assert_int_equal(mdm->challenge, ENROLMENT_CHALLENGE_CODES);
	assert_false(mdm->allow_des);
	assert_int_equal(mdm->max_message_size, CONFIG_DEFAULT_ENROLMENT_MESSAGE);
	assert_non_null(routers = config_enrolment(&cfg, "routers"));
	assert_string_equal(routers->profile, "server");
	assert_string_equal(routers->ra_certificate, "/etc/signet/ra.pem");
	assert_int_equal(routers->challenge, ENROLMENT_CHALLENGE_STATIC);
	assert_string_equal(routers->challenge_file, "/etc/signet/scep.secret");
	assert_true(routers->allow_des);
	assert_int_equal(routers->max_message_size, 8192);
	assert_null(config_enrolment(&cfg, "est"));
	config_free(&cfg);
}

/* An EST door: codes by default, and one in vendor mode with every setting. */
static void test_est_enrolments(void **state)
{
	static const char text[] = TOKEN_OK SERVER_OK
		"enrolment: {\n"
		"  edge: { protocol = \"est\"; ca = \"issuing\"; profile = \"device\"; };\n"
		"  factory: { protocol = \"est\"; ca = \"issuing\"; profile = \"device\";\n"
		"         bootstrap_anchors = \"/etc/signet/vendor-anchors.pem\"; codes = false;\n"
		"         manual = true; retry_after = 120;\n"
		"         csr_attrs = [ \"challengePassword\", \"1.2.840.10045.4.3.2\" ]; };\n"
		"};\n";
	const struct enrolment_def *edge, *factory;
	struct config cfg;
	char err[512] = "";

	(void)state;
	if (load_text(text, &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_non_null(edge = config_enrolment(&cfg, "edge"));
	assert_int_equal(edge->protocol, ENROLMENT_EST);
	assert_int_equal(edge->challenge, ENROLMENT_CHALLENGE_CODES);
	assert_null(edge->bootstrap_anchors);
	assert_null(edge->ra_key);
	assert_false(edge->manual);
	assert_int_equal(edge->n_csr_attrs, 0);
	assert_non_null(factory = config_enrolment(&cfg, "factory"));
	assert_int_equal(factory->challenge, ENROLMENT_CHALLENGE_NONE);
	assert_string_equal(factory->bootstrap_anchors, "/etc/signet/vendor-anchors.pem");
	assert_true(factory->manual);
	assert_int_equal(factory->retry_after, 120);
	assert_int_equal(factory->n_csr_attrs, 2);
	assert_string_equal(factory->csr_attrs[1], "1.2.840.10045.4.3.2");
	config_free(&cfg);
}

/* Built-ins are there without a profiles group; the file changes and extends them. */
static void test_profiles(void **state)
{
	static const char text[] = TOKEN_OK SERVER_OK
		"profiles: {\n"
		"  device: { max_days = 730; subject: { cn_pattern = \"SN-[0-9]{4}\"; }; };\n"
		"  factory: { base = \"constrained-device\"; default_days = 30;\n"
		"    extended_key_usage = [ \"clientAuth\", \"serverAuth\" ];\n"
		"    san: { ip = [ \"10.0.0.0/8\" ]; uri = [ \"urn:dev:*\" ]; }; };\n"
		"};\n";
	const struct profile *device, *factory, *server;
	struct config cfg;
	char err[512] = "";

	(void)state;
	if (load_text(text, &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.profiles.n, 6);
	assert_non_null(device = profile_find(&cfg.profiles, "device"));
	assert_int_equal(device->max_days, 730);
	assert_int_equal(device->default_days, 365); /* kept from the built-in */
	assert_string_equal(device->cn_pattern, "SN-[0-9]{4}");
	assert_non_null(factory = profile_find(&cfg.profiles, "factory"));
	assert_int_equal(factory->key_algs, PROFILE_BIT(SIGNET_KEY_EC_P256));
	assert_int_equal(factory->issuer_key_algs, PROFILE_BIT(SIGNET_KEY_EC_P256));
	assert_int_equal(factory->default_days, 30);
	assert_int_equal(factory->n_eku, 2);
	assert_int_equal(factory->n_ips, 1);
	assert_int_equal(factory->n_uris, 1);
	assert_string_equal(factory->cn_pattern, "[A-Za-z0-9._:-]*[A-Za-z0-9-]");
	assert_non_null(server = profile_find(&cfg.profiles, "server"));
	assert_true(server->san_required);
	assert_non_null(profile_find(&cfg.profiles, "intermediate"));
	assert_null(profile_find(&cfg.profiles, "nope"));
	config_free(&cfg);
	assert_int_equal(cfg.profiles.n, 0);
}

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct config cfg;
		char err[512] = "";

		if (load_text(refusals[i].text, &cfg, err, sizeof(err)) != -1)
			fail_msg("accepted:\n%s", refusals[i].text);
		if (strstr(err, refusals[i].why) == NULL)
			fail_msg("message '%s' lacks '%s' for:\n%s", err, refusals[i].why,
				 refusals[i].text);
		if (strncmp(err, path, strlen(path)) != 0)
			fail_msg("message '%s' does not start with the file name", err);
		/* nothing left allocated, nothing half-set */
		assert_null(cfg.module_path);
		assert_null(cfg.state_dir);
		assert_int_equal(cfg.n_endpoints, 0);
	}
}

/* Errors point at the line of the offending setting, even inside a group. */
static void test_messages_name_the_line(void **state)
{
	static const char text[] = "# signetd\n"
				   "log_level = \"info\";\n" TOKEN_OK "server: {\n"
				   "  endpoints = [ \"ipc:///a\" ];\n"
				   "  workers = 999;\n"
				   "};\n";
	struct config cfg;
	char err[512], want[256];

	(void)state;
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:6: server.workers: must be between 0 and 256", path);
	assert_string_equal(err, want);
}

static void test_syntax_error_fixture(void **state)
{
	char file[512], want[600], err[600];
	struct config cfg;

	(void)state;
	snprintf(file, sizeof(file), "%s", source_path("data/config-syntax-error.conf"));
	assert_int_equal(config_load(file, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: syntax error", file);
	assert_string_equal(err, want);
}

/* The PIN is refused, where it belongs is said, and the PIN is not repeated. */
static void test_pin_in_config_refused(void **state)
{
	struct config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(load_text(TOKEN_WITH "uri = \"pkcs11:\"; pin = \"s3cr3t\"; };\n" SERVER_OK,
				   &cfg, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, ":1: token.pin: "));
	assert_non_null(strstr(err, "put the PIN in pin_file"));
	assert_null(strstr(err, "s3cr3t"));
	assert_int_equal(load_text(TOKEN_WITH
				   "uri = \"pkcs11:token=t?pin-value=s3cr3t\"; };\n" SERVER_OK,
				   &cfg, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "token.uri: pin-value"));
	assert_null(strstr(err, "s3cr3t"));
}

/* Clients from the main file and a drop-in directory, in name order;
 * a name declared twice across them is refused. */
static void test_clients(void **state)
{
	char text[1024], dropins[96], f1[160], f2[160], err[512];
	struct config cfg;

	(void)state;
	snprintf(dropins, sizeof(dropins), "%s/clients.d", dir);
	assert_int_equal(mkdir(dropins, 0700), 0);
	snprintf(f1, sizeof(f1), "%s/10-line1.conf", dropins);
	snprintf(f2, sizeof(f2), "%s/20-line2.conf", dropins);
	testutil_write_text(f1, "line1: { secret_file = \"/k/1\"; methods = [ \"SignCsr\" ];\n"
				"         cas = [ \"issuing-*\" ]; profiles = [ \"device\" ];\n"
				"         verification_cas = [ \"issuing-1\" ];\n"
				"         enrolments = [ \"mdm\", \"routers-*\" ]; };\n");
	testutil_write_text(f2, "line2: { secret_file = \"/k/2\"; methods = [ \"SignCsr\" ]; "
				"max_concurrent = 2; };\n");
	snprintf(text, sizeof(text),
		 TOKEN_OK
		 "server: { endpoints = [ \"ipc:///a\" ]; };\n"
		 "auth: { clients_dir = \"%s\"; window_seconds = 30; max_concurrent = 9; };\n"
		 "clients: { operator: { secret_file = \"/k/op\"; admin = true; "
		 "methods = [ \"*\" ]; }; };\n",
		 dropins);
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_clients, 3);
	assert_string_equal(cfg.clients[0].name, "operator");
	assert_true(cfg.clients[0].admin);
	assert_string_equal(cfg.clients[1].name, "line1");
	assert_string_equal(cfg.clients[1].secret_file, "/k/1");
	assert_int_equal(cfg.clients[1].n_cas, 1);
	assert_string_equal(cfg.clients[1].cas[0], "issuing-*");
	assert_int_equal(cfg.clients[1].n_keys, 0);
	assert_int_equal(cfg.clients[1].n_verification_cas, 1);
	assert_string_equal(cfg.clients[1].verification_cas[0], "issuing-1");
	assert_int_equal(cfg.clients[0].n_verification_cas, 0);
	assert_int_equal(cfg.clients[1].n_enrolments, 2);
	assert_string_equal(cfg.clients[1].enrolments[1], "routers-*");
	assert_int_equal(cfg.clients[0].n_enrolments, 0);
	assert_int_equal(cfg.clients[1].max_concurrent, CONFIG_DEFAULT_CLIENT_CONCURRENCY);
	assert_string_equal(cfg.clients[2].name, "line2");
	assert_int_equal(cfg.clients[2].max_concurrent, 2);
	assert_false(cfg.allow_anonymous);
	assert_int_equal(cfg.auth_window_seconds, 30);
	assert_int_equal(cfg.auth_reorder_seconds, 10); /* the default, inside the window */
	assert_int_equal(cfg.max_concurrent, 9);
	config_free(&cfg);

	testutil_write_text(f2, "line1: { secret_file = \"/k/2\"; };\n");
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "20-line2.conf"));
	assert_non_null(strstr(err, "client 'line1' is declared twice"));
	testutil_write_text(f2, "line2: { secret_file = ; };\n");
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "20-line2.conf:1:"));
	unlink(f1);
	unlink(f2);
	rmdir(dropins);
}

static void test_long_endpoints(void **state)
{
	char text[1024], ep[300], err[512];
	struct config cfg;

	(void)state;
	/* ipc: the path must fit a sockaddr_un (107 bytes) */
	memset(ep, 'a', sizeof(ep));
	memcpy(ep, "ipc:///", 7);
	ep[6 + 107] = '\0';
	snprintf(text, sizeof(text), TOKEN_OK "server: { endpoints = [ \"%s\" ]; };\n" CLIENT_OK,
		 ep);
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	ep[6 + 107] = 'a'; /* 108 bytes */
	ep[6 + 108] = '\0';
	snprintf(text, sizeof(text), TOKEN_OK "server: { endpoints = [ \"%s\" ]; };\n" CLIENT_OK,
		 ep);
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "socket path longer"));
	/* any endpoint: at most 255 bytes */
	memset(ep, 'h', sizeof(ep));
	memcpy(ep, "tcp://", 6);
	memcpy(ep + 251, ":555", 5);
	snprintf(text, sizeof(text), TOKEN_OK "server: { endpoints = [ \"%s\" ]; };\n" CLIENT_OK,
		 ep);
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	memcpy(ep + 251, ":5555", 6);
	snprintf(text, sizeof(text), TOKEN_OK "server: { endpoints = [ \"%s\" ]; };\n" CLIENT_OK,
		 ep);
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 255 bytes"));
}

/* Settings from an @include file are reported with that file's name and line. */
static void test_include_names_its_file(void **state)
{
	char inc[160], text[512], err[512], want[256];
	struct config cfg;

	(void)state;
	snprintf(inc, sizeof(inc), "%s/server.conf", dir);
	testutil_write_text(inc, "server: {\n  endpoints = [ \"ipc:///a\" ];\n  typo = 1;\n};\n");
	snprintf(text, sizeof(text), TOKEN_OK "@include \"%s\"\n", inc);
	assert_int_equal(load_text(text, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: server.typo: unknown setting", inc);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("'%s' does not start with '%s'", err, want);
	unlink(inc);
}

static void test_unreadable_files(void **state)
{
	struct config cfg;
	char err[512];

	(void)state;
	assert_int_equal(config_load("/nonexistent/signetd.conf", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/signetd.conf: No such file or directory");
	assert_int_equal(config_load(dir, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(cfg.module_path);
}

static void test_small_error_buffer(void **state)
{
	struct config cfg;
	char err[16];

	(void)state;
	assert_int_equal(load_text(TOKEN_OK SERVER_OK "x = 1;\n", &cfg, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(load_text(TOKEN_OK SERVER_OK "x = 1;\n", &cfg, NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_gets_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_module_dirs_and_user),
		cmocka_unit_test(test_serialize_object_creation),
		cmocka_unit_test(test_packaged_example_loads),
		cmocka_unit_test(test_accepted_variants),
		cmocka_unit_test(test_batch_limits),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_messages_name_the_line),
		cmocka_unit_test(test_syntax_error_fixture),
		cmocka_unit_test(test_pin_in_config_refused),
		cmocka_unit_test(test_records_database),
		cmocka_unit_test(test_database_password_refused),
		cmocka_unit_test(test_database_refusals),
		cmocka_unit_test(test_database_sslpassword_refused),
		cmocka_unit_test(test_long_endpoints),
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_enrolments),
		cmocka_unit_test(test_est_enrolments),
		cmocka_unit_test(test_include_names_its_file),
		cmocka_unit_test(test_unreadable_files),
		cmocka_unit_test(test_small_error_buffer),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
