/* Unit tests for daemon/access/auth.c's replay memory: a (client, nonce) is refused
 * a second time inside the window, accepted again after it, and the table
 * keeps every live entry through the sweeps that empty expired ones. */
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

#define WINDOW_S  120
#define REORDER_S 10
#define T0	  1700000000000LL /* ms; any realistic clock */
#define SEC	  1000LL

/* 32 bytes, as hex: what "openssl rand -hex 32" writes */
static const char secret_hex[] =
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
static const uint8_t secret[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
				   0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
				   0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

struct fixture {
	char path[64];
	struct client_def clients[2];
	struct config cfg;
	struct auth *auth;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	int fd;

	if (f == NULL)
		return -1;
	strcpy(f->path, "/tmp/signet-auth-XXXXXX");
	if ((fd = mkstemp(f->path)) < 0 ||
	    write(fd, secret_hex, strlen(secret_hex)) != (ssize_t)strlen(secret_hex) ||
	    close(fd) != 0)
		return -1;
	/* both clients share the secret: only the name tells them apart */
	f->clients[0] =
		(struct client_def){.name = "alpha", .secret_file = f->path, .max_concurrent = 1};
	f->clients[1] =
		(struct client_def){.name = "beta", .secret_file = f->path, .max_concurrent = 1};
	f->cfg.auth_window_seconds = WINDOW_S;
	f->cfg.auth_reorder_seconds = REORDER_S;
	f->cfg.workers = 1;
	f->cfg.clients = f->clients;
	f->cfg.n_clients = 2;
	if (auth_open(&f->cfg, &f->auth, err, sizeof(err)) != 0) {
		fprintf(stderr, "auth_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	auth_close(f->auth);
	unlink(f->path);
	free(f);
	return 0;
}

/* A request from `client` with nonce number `n`, stamped ts_ms, seen at now_ms. */
static int send_at(struct fixture *f, const char *client, uint64_t n, int64_t ts_ms, int64_t now_ms,
		   struct errmsg *em)
{
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	Signet__V1__Credential cr = SIGNET__V1__CREDENTIAL__INIT;
	uint8_t nonce[AUTHMAC_NONCE_LEN] = "nonce-\x01\x02", rid[16] = "request-id";
	uint8_t mac[AUTHMAC_LEN];
	struct auth_client *who = NULL;
	struct authmac_input in;
	int r;

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
	if (authmac_compute(secret, sizeof(secret), &in, mac) != 0)
		return -1;
	env.version = 1;
	env.method = "GetInfo";
	env.request_id = (ProtobufCBinaryData){sizeof(rid), rid};
	env.credential = &cr;
	cr.client = (char *)client;
	cr.timestamp_ms = (uint64_t)ts_ms;
	cr.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
	cr.mac = (ProtobufCBinaryData){sizeof(mac), mac};
	em->err = 0;
	em->text[0] = '\0';
	r = auth_authenticate(f->auth, &env, now_ms, &who, em);
	if (r == 0)
		assert_string_equal(auth_client_def(who)->name, client);
	return r;
}

static int send_now(struct fixture *f, const char *client, uint64_t n, int64_t now_ms,
		    struct errmsg *em)
{
	return send_at(f, client, n, now_ms, now_ms, em);
}

static void test_replay(void **state)
{
	struct fixture *f = *state;
	struct errmsg em;

	assert_int_equal(send_now(f, "alpha", 1, T0, &em), 0);
	assert_int_equal(send_now(f, "alpha", 1, T0 + 1, &em), SIGNET_E_UNAUTHENTICATED);
	assert_string_equal(em.text, "replayed request: client 'alpha' already sent this nonce");
	/* the same nonce from another client is that client's own */
	assert_int_equal(send_now(f, "beta", 1, T0 + 2, &em), 0);
	assert_int_equal(send_now(f, "beta", 1, T0 + 3, &em), SIGNET_E_UNAUTHENTICATED);
	assert_string_equal(em.text, "replayed request: client 'beta' already sent this nonce");
	/* the captured request itself, replayed a little later */
	assert_int_equal(send_at(f, "alpha", 1, T0, T0 + 5 * SEC, &em), SIGNET_E_UNAUTHENTICATED);
	assert_string_equal(em.text, "replayed request: client 'alpha' already sent this nonce");
	/* the original credential itself is now too old */
	assert_int_equal(send_at(f, "alpha", 1, T0, T0 + (WINDOW_S + 5) * SEC, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "behind the daemon's clock"));
	/* well after the window the nonce is forgotten */
	assert_int_equal(send_now(f, "alpha", 1, T0 + (WINDOW_S + 5) * SEC, &em), 0);
	assert_int_equal(send_now(f, "alpha", 1, T0 + (WINDOW_S + 6) * SEC, &em),
			 SIGNET_E_UNAUTHENTICATED);
}

static void test_many_nonces(void **state)
{
	struct fixture *f = *state;
	struct errmsg em;
	const uint64_t n = 200000;

	for (uint64_t i = 0; i < n; i++)
		if (send_now(f, "alpha", i, T0 + (int64_t)(i / 40000) * SEC, &em) != 0)
			fail_msg("nonce %llu: %s", (unsigned long long)i, em.text);
	/* replays, as captured: their own stamps */
	assert_int_equal(send_at(f, "alpha", n - 1, T0 + 4 * SEC, T0 + 6 * SEC, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_string_equal(em.text, "replayed request: client 'alpha' already sent this nonce");
	assert_int_equal(send_at(f, "alpha", n / 2, T0 + 2 * SEC, T0 + 6 * SEC, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(send_at(f, "alpha", 0, T0, T0 + 6 * SEC, &em), SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(send_now(f, "beta", 0, T0 + 6 * SEC, &em), 0);
}

/* A client's requests may arrive out of order by auth.reorder_seconds, no more. */
static void test_reorder_allowance(void **state)
{
	struct fixture *f = *state;
	struct errmsg em;

	assert_int_equal(send_now(f, "alpha", 1, T0 + 20 * SEC, &em), 0);
	assert_int_equal(send_at(f, "alpha", 2, T0 + 15 * SEC, T0 + 20 * SEC, &em), 0);
	assert_int_equal(send_at(f, "alpha", 3, T0 + 5 * SEC, T0 + 20 * SEC, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "15000 ms before the newest one client 'alpha' sent"));
	assert_non_null(strstr(em.text, "auth.reorder_seconds"));
	/* another client's clock is its own */
	assert_int_equal(send_at(f, "beta", 3, T0 + 5 * SEC, T0 + 20 * SEC, &em), 0);
}

/*
 * A full table refuses a new nonce, still tells a replay apart, and frees
 * the entries a client's newer stamps have made dead.
 */
static void test_full_then_sweep(void **state)
{
	struct fixture *f = *state;
	struct errmsg em;
	const uint64_t max = AUTH_REPLAY_MAX;
	const int64_t later = T0 + (REORDER_S + 2) * SEC;

	for (uint64_t i = 0; i < max; i++)
		if (send_now(f, "alpha", i, T0, &em) != 0)
			fail_msg("nonce %llu: %s", (unsigned long long)i, em.text);
	assert_int_equal(send_now(f, "beta", 0, T0, &em), SIGNET_E_RESOURCE_EXHAUSTED);
	assert_string_equal(em.text,
			    "too many requests inside the replay window; try again shortly");
	/* a replay is still told apart from a full table */
	assert_int_equal(send_now(f, "alpha", max / 2, T0, &em), SIGNET_E_UNAUTHENTICATED);
	assert_string_equal(em.text, "replayed request: client 'alpha' already sent this nonce");

	/* alpha moves on: its old entries are dead and swept for this request */
	assert_int_equal(send_now(f, "alpha", max, later, &em), 0);
	assert_int_equal(send_now(f, "beta", 0, later, &em), 0);
	for (uint64_t i = 0; i < max; i += 997)
		if (send_at(f, "alpha", i, T0, later, &em) != SIGNET_E_UNAUTHENTICATED)
			fail_msg("a replay of nonce %llu was accepted", (unsigned long long)i);
	assert_int_equal(send_now(f, "alpha", max, later + 1, &em), SIGNET_E_UNAUTHENTICATED);
}

/* A credential stamped before start-up may have been accepted by the signetd
 * that ran before, whose replay memory is gone: refused, with the reason. */
static void test_stamped_before_start(void **state)
{
	struct fixture *f = *state;
	struct errmsg em;

	/* no mark: the window alone decides */
	assert_int_equal(send_at(f, "alpha", 1, T0 - 5 * SEC, T0, &em), 0);
	auth_start(f->auth, T0);
	assert_int_equal(send_at(f, "alpha", 2, T0 - 1, T0 + 3 * SEC, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_string_equal(em.text,
			    "client 'alpha': the credential was stamped 1 ms before signetd "
			    "started: sent before a restart (this process cannot tell it from a "
			    "copy of one its predecessor served), or by a clock behind the "
			    "daemon's; send it again");
	/* stamped at or after the start: served; another client alike */
	assert_int_equal(send_at(f, "alpha", 3, T0, T0 + 3 * SEC, &em), 0);
	assert_int_equal(send_at(f, "beta", 3, T0 - 2 * SEC, T0 + 3 * SEC, &em),
			 SIGNET_E_UNAUTHENTICATED);
	assert_int_equal(send_at(f, "beta", 4, T0 + 2 * SEC, T0 + 3 * SEC, &em), 0);
	/* an unauthentic credential gets the MAC's reason, not this one */
	assert_int_equal(send_at(f, "gamma", 5, T0 - 1, T0, &em), SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "no client named"));
}

/* A reload keeps the start mark: the new auth object's memory starts at the
 * same moment the old one's did. */
static void test_start_mark_survives_reload(void **state)
{
	struct fixture *f = *state;
	struct auth *next = NULL;
	struct errmsg em;
	char err[256];

	auth_start(f->auth, T0);
	assert_int_equal(auth_open(&f->cfg, &next, err, sizeof(err)), 0);
	auth_carry(next, f->auth);
	auth_close(f->auth);
	f->auth = next;
	assert_int_equal(send_at(f, "alpha", 1, T0 - 1, T0 + SEC, &em), SIGNET_E_UNAUTHENTICATED);
	assert_non_null(strstr(em.text, "before signetd started"));
	assert_int_equal(send_at(f, "alpha", 2, T0 + 1, T0 + SEC, &em), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_nonces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorder_allowance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_then_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stamped_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_mark_survives_reload, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
