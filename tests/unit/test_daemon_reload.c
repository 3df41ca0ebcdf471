/* Unit tests for daemon/reload.c and auth_carry: settings a running daemon
 * cannot change keep their old values, and the replay memory survives a
 * reload that renumbers, removes and brings back clients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "access/auth.h"
#include "authmac.h"
#include "reload.h"

#define T0  1700000000000LL /* ms */
#define SEC 1000LL

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* A configuration as config_load leaves one, enough for reload_keep_fixed. */
static void fill(struct config *c, const char *endpoint, unsigned workers)
{
	memset(c, 0, sizeof(*c));
	c->module_path = xstrdup("/usr/lib/softhsm/libsofthsm2.so");
	c->pin_file = xstrdup("/etc/signet/pin");
	strcpy(c->token.token, "signet");
	c->endpoints[0] = xstrdup(endpoint);
	c->n_endpoints = 1;
	c->workers = workers;
	c->max_message_size = 65536;
	c->state_dir = xstrdup("/var/lib/signet");
	c->audit_log = xstrdup("/var/lib/signet/audit.log");
	c->auth_window_seconds = 120;
	c->auth_reorder_seconds = 10;
	c->max_challenges = 100;
	c->max_challenges_per_caller = 10;
	c->challenge_ttl_seconds = 60;
}

static void unchanged_file_keeps_nothing(void **state)
{
	struct config cur, next;

	(void)state;
	fill(&cur, "ipc:///run/signet.sock", 4);
	fill(&next, "ipc:///run/signet.sock", 4);
	next.challenge_ttl_seconds = 30; /* may change */
	next.log_level = LOG_LVL_DEBUG;
	assert_int_equal(reload_keep_fixed(&cur, &next), 0);
	assert_int_equal(next.challenge_ttl_seconds, 30);
	config_free(&cur);
	config_free(&next);
}

static void fixed_settings_keep_old_values(void **state)
{
	struct config cur, next;

	(void)state;
	fill(&cur, "ipc:///run/signet.sock", 4);
	fill(&next, "tcp://0.0.0.0:7000", 8);
	free(next.state_dir);
	next.state_dir = NULL;
	next.user = xstrdup("signet");
	strcpy(next.token.serial, "1234");
	next.auth_window_seconds = 60;	 /* narrower: applies */
	next.auth_reorder_seconds = 20;	 /* wider: kept */
	next.max_challenges = 1000;	 /* the table is sized: kept */
	next.challenge_ttl_seconds = 5;	 /* applies */
	next.max_message_size = 1 << 20; /* nanomsg's limit is set: kept */
	next.max_batch_bytes = 1 << 20;	 /* fits the file's message limit, not the one kept */
	next.max_batch_csrs = 16;	 /* applies */
	next.shared_challenges = 1;	 /* where challenges live: kept */
	next.serialize_objects = 1;	 /* set on the token at start-up: kept */
	/* endpoints, workers, state_dir, user, token, reorder, max_challenges, max_message_size,
	 * shared_challenges, serialize_object_creation; max_batch_bytes lowered to the message's */
	assert_int_equal(reload_keep_fixed(&cur, &next), 11);
	assert_int_equal(next.n_endpoints, 1);
	assert_string_equal(next.endpoints[0], "ipc:///run/signet.sock");
	assert_int_equal(next.workers, 4);
	assert_string_equal(next.state_dir, "/var/lib/signet");
	assert_null(next.user);
	assert_string_equal(next.token.serial, "");
	assert_int_equal(next.auth_window_seconds, 60);
	assert_int_equal(next.auth_reorder_seconds, 10);
	assert_int_equal(next.max_challenges, 100);
	assert_int_equal(next.challenge_ttl_seconds, 5);
	assert_int_equal(next.max_message_size, 65536);
	assert_int_equal(next.max_batch_bytes, 65536);
	assert_int_equal(next.max_batch_csrs, 16);
	assert_false(next.shared_challenges);
	assert_int_equal(next.serialize_objects, cur.serialize_objects);
	/* the copies are next's own */
	assert_ptr_not_equal(next.endpoints[0], cur.endpoints[0]);
	config_free(&cur);
	config_free(&next);
}

/* --- auth_carry --- */

static const char secret_hex[] =
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
static const uint8_t secret[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
				   0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
				   0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct generation {
	struct client_def clients[2];
	struct config cfg;
	struct auth *auth;
};

static void open_gen(struct generation *g, const char *path, const char *first, const char *second,
		     unsigned window)
{
	char err[256];

	memset(g, 0, sizeof(*g));
	g->clients[0] = (struct client_def){
		.name = (char *)first, .secret_file = (char *)path, .max_concurrent = 1};
	g->clients[1] = (struct client_def){
		.name = (char *)second, .secret_file = (char *)path, .max_concurrent = 1};
	g->cfg.auth_window_seconds = window;
	g->cfg.auth_reorder_seconds = 10;
	g->cfg.workers = 1;
	g->cfg.clients = g->clients;
	g->cfg.n_clients = second != NULL ? 2 : 1;
	if (auth_open(&g->cfg, &g->auth, err, sizeof(err)) != 0)
		fail_msg("auth_open: %s", err);
}

static int send_at(struct auth *a, const char *client, uint64_t n, int64_t ts_ms, int64_t now_ms)
{
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	Signet__V1__Credential cr = SIGNET__V1__CREDENTIAL__INIT;
	uint8_t nonce[AUTHMAC_NONCE_LEN] = "nonce-\x01\x02", rid[16] = "request-id";
	uint8_t mac[AUTHMAC_LEN];
	struct auth_client *who = NULL;
	struct authmac_input in;
	struct errmsg em = {0};

	memcpy(nonce + 8, &n, sizeof(n));
	in = (struct authmac_input){.method = "GetInfo",
				    .request_id = rid,
				    .request_id_len = sizeof(rid),
				    .client = client,
				    .timestamp_ms = (uint64_t)ts_ms,
				    .nonce = nonce,
				    .nonce_len = sizeof(nonce),
				    .payload = (const uint8_t *)"",
				    .payload_len = 0};
	assert_int_equal(authmac_compute(secret, sizeof(secret), &in, mac), 0);
	env.version = 1;
	env.method = "GetInfo";
	env.request_id = (ProtobufCBinaryData){sizeof(rid), rid};
	env.credential = &cr;
	cr.client = (char *)client;
	cr.timestamp_ms = (uint64_t)ts_ms;
	cr.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
	cr.mac = (ProtobufCBinaryData){sizeof(mac), mac};
	return auth_authenticate(a, &env, now_ms, &who, &em);
}

static void replays_survive_reloads(void **state)
{
	struct generation g1, g2, g3;
	char path[64] = "/tmp/signet-reload-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, secret_hex, strlen(secret_hex)), (ssize_t)strlen(secret_hex));
	close(fd);

	open_gen(&g1, path, "alpha", "beta", 120);
	assert_int_equal(send_at(g1.auth, "alpha", 1, T0, T0), 0);
	assert_int_equal(send_at(g1.auth, "beta", 2, T0, T0), 0);

	/* renumbered (beta first), alpha gone, the window wider (kept at 120) */
	open_gen(&g2, path, "beta", NULL, 600);
	auth_carry(g2.auth, g1.auth);
	auth_close(g1.auth);
	assert_int_equal(send_at(g2.auth, "beta", 2, T0, T0 + 1), SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(send_at(g2.auth, "beta", 3, T0, T0 + 1), 0);
	/* beyond the old window: the wider one did not apply */
	assert_int_equal(send_at(g2.auth, "beta", 4, T0 + 1, T0 + 200 * SEC),
			 SIGNET_E_UNAUTHENTICATED);

	/* alpha comes back: its nonce is still remembered */
	open_gen(&g3, path, "alpha", "beta", 120);
	auth_carry(g3.auth, g2.auth);
	auth_close(g2.auth);
	assert_int_equal(send_at(g3.auth, "alpha", 1, T0, T0 + 2), SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(send_at(g3.auth, "beta", 3, T0, T0 + 2), SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(send_at(g3.auth, "alpha", 5, T0, T0 + 2), 0);
	/* beta's newest stamp carried over: far older ones stay refused */
	assert_int_equal(send_at(g3.auth, "beta", 6, T0 + 60 * SEC, T0 + 60 * SEC), 0);
	assert_int_equal(send_at(g3.auth, "beta", 7, T0 + 30 * SEC, T0 + 60 * SEC),
			 SIGNET_E_UNAUTHENTICATED);
	auth_close(g3.auth);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unchanged_file_keeps_nothing),
		cmocka_unit_test(fixed_settings_keep_old_values),
		cmocka_unit_test(replays_survive_reloads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
