/*
 * Fuzz target: a request through the whole dispatch path with clients
 * declared, as signetd serves them: MAC, time window, reordering, replay,
 * authorization, then the handler (on a token that fails every call). The
 * clients, their secrets and rules are those of auth_fixture.h, loaded by
 * config_load and auth_open from files written at start-up; the clock is
 * fixed at FUZZ_AUTH_NOW_MS, so the seeds (real signed envelopes,
 * gen_envelope_auth.c) authenticate whenever this runs.
 *
 * The replay memory starts with one earlier request per client (stamped at
 * the clock, nonce "WWWW..."), so the reorder and replay checks have a
 * history to refuse against; it is renewed whenever an input may have
 * changed what the next meets (auth_fresh). Each input is sent:
 *   1. the input as sent; one that authenticates must really carry its
 *      client's MAC and a stamp inside the window, and sent again it must
 *      be refused as a replay;
 *   2. re-signed with the secret of the client it names (when it names
 *      one), with a nonce of its own, so mutations of the method, payload, stamp or nonce get
 *      past the MAC to the window, replay, authorization and handlers;
 *      checked the same way.
 * Every reply must decode. Any broken property aborts.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access/auth.h"
#include "rpc/dispatch.h"
#include "authmac.h"
#include "auth_fixture.h"
#include "fake_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_replay_seed_check(const char *name);

static struct token *token;
static struct keystore *keys;
static struct castore cas;
static struct ledger *ledger;
static struct config cfg;
static struct auth *auth;
static uint8_t secrets[FUZZ_AUTH_N_CLIENTS][AUTHMAC_SECRET_MAX];
static size_t secret_lens[FUZZ_AUTH_N_CLIENTS];

static int64_t fixed_clock(void)
{
	return FUZZ_AUTH_NOW_MS;
}

static struct daemon_state state = {.cas = &cas, .clock_ms = fixed_clock};

/* what the run has seen, for the replay driver */
static unsigned long n_inputs, n_authenticated, n_resigned_authenticated;
static int last_authenticated; /* the last input, as sent */

/*
 * The replay memory is not reset for every input (opening one costs a
 * 32 MiB table: fuzzing would slow to a hundred inputs a second), only
 * once an input may have changed what the next one meets: a credential
 * stamped after the clock moved its client's newest stamp (older ones
 * would then be refused as reordered), or many nonces are remembered.
 * Re-signed inputs get a nonce of their own, so they never replay one
 * another; the inputs as sent keep theirs.
 */
#define FUZZ_AUTH_RESET_AFTER 100000 /* nonces remembered; AUTH_REPLAY_MAX is far */
static int needs_reset = 1;
static unsigned long remembered, resign_counter;

static char state_dir[] = "/tmp/signet-fuzz-auth-XXXXXX";

static void remove_state(void)
{
	static const char *const files[] = {
		"cas",		"ledger.db",	"ledger.db-wal", "ledger.db-shm", "pin",
		"signetd.conf", "operator.key", "factory.key",	 "keyuser.key",	  "reader.key"};
	char path[sizeof(state_dir) + 32];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, files[i]);
		if (unlink(path) != 0)
			rmdir(path);
	}
	rmdir(state_dir);
}

static void fuzz_cleanup(void)
{
#ifdef REPLAY_MUTATIONS
	printf("%lu inputs: %lu authenticated as sent, %lu once re-signed\n", n_inputs,
	       n_authenticated, n_resigned_authenticated);
#endif
	auth_close(auth);
	castore_close(&cas);
	ledger_close(ledger);
	challenge_table_free(state.challenges);
	keystore_free(keys);
	token_close(token);
	config_free(&cfg);
	remove_state();
}

static int write_file(const char *name, const char *text)
{
	char path[sizeof(state_dir) + 32];
	size_t len = strlen(text);
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	ok = write(fd, text, len) == (ssize_t)len;
	return close(fd) == 0 && ok ? 0 : -1;
}

/* signetd.conf declaring the fixture's clients, and their secret files */
static int write_config(void)
{
	char conf[8192], line[1024], name[64];
	const char *why;
	int o;

	o = snprintf(conf, sizeof(conf),
		     "log_level = \"error\";\nstate_dir = \"%s\";\n"
		     "token: { module = \"/usr/lib/softhsm/libsofthsm2.so\"; label = \"fake\";"
		     " pin_file = \"%s/pin\"; };\n"
		     "server: { endpoints = [ \"ipc://%s/sock\" ]; workers = 1;"
		     " max_message_size = 65536; };\n"
		     "auth: { window_seconds = %d; reorder_seconds = %d; };\nclients: {\n",
		     state_dir, state_dir, state_dir, FUZZ_AUTH_WINDOW_S, FUZZ_AUTH_REORDER_S);
	for (size_t i = 0; i < FUZZ_AUTH_N_CLIENTS; i++) {
		const struct fuzz_auth_client *c = &fuzz_auth_clients[i];

		snprintf(name, sizeof(name), "%s.key", c->name);
		if (write_file(name, c->secret_hex) != 0 ||
		    authmac_secret_parse(c->secret_hex, strlen(c->secret_hex), secrets[i],
					 &secret_lens[i], &why) != 0)
			return -1;
		snprintf(line, sizeof(line), "  %s: { secret_file = \"%s/%s\"; %s };\n", c->name,
			 state_dir, name, c->rules);
		o += snprintf(conf + o, sizeof(conf) - (size_t)o, "%s", line);
	}
	snprintf(conf + o, sizeof(conf) - (size_t)o, "};\n");
	return write_file("pin", "1234\n") == 0 ? write_file("signetd.conf", conf) : -1;
}

static void fuzz_setup_once(void)
{
	static int done;
	struct challenge_limits limits = {.max_per_caller = 100, .max_total = 1000};
	char err[512], path[sizeof(state_dir) + 32];

	if (done)
		return;
	if (mkdtemp(state_dir) == NULL || write_config() != 0)
		abort();
	snprintf(path, sizeof(path), "%s/signetd.conf", state_dir);
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_envelope_auth: %s\n", err);
		abort();
	}
	log_set_level(LOG_LVL_ERROR); /* a refusal per input would flood the output */
	token = fake_token_new();
	if (token == NULL || castore_open(&cas, state_dir, err, sizeof(err)) != 0 ||
	    ledger_open(state_dir, &ledger, err, sizeof(err)) != 0 ||
	    challenge_table_new(&limits, &state.challenges) != 0 ||
	    keystore_new(token, &keys) != 0 || dispatch_init(err, sizeof(err)) != 0)
		abort();
	state.cfg = &cfg;
	state.token = token;
	state.keys = keys;
	state.ledger = ledger; /* no audit log: every act would cost an fsync */
	atexit(fuzz_cleanup);
	done = 1;
}

static const uint8_t *client_secret(const char *name, size_t *len)
{
	for (size_t i = 0; name != NULL && i < FUZZ_AUTH_N_CLIENTS; i++)
		if (strcmp(fuzz_auth_clients[i].name, name) == 0) {
			*len = secret_lens[i];
			return secrets[i];
		}
	return NULL;
}

static int mac_of(const Signet__V1__Envelope *env, uint8_t mac[AUTHMAC_LEN])
{
	const Signet__V1__Credential *cr = env->credential;
	struct authmac_input in = wire_mac_input(env);
	const uint8_t *key;
	size_t key_len = 0;

	if ((key = client_secret(cr->client, &key_len)) == NULL)
		return -1;
	return authmac_compute(key, key_len, &in, mac);
}

/* A fresh replay memory, and in it one request per client stamped at the
 * clock, with nonce "WWWW...": refused-replayed-nonce and -reordered find it. */
static void auth_fresh(void)
{
	uint8_t rid[WIRE_REQUEST_ID_LEN] = {0}, nonce[AUTHMAC_NONCE_LEN], mac[AUTHMAC_LEN];
	Signet__V1__Credential cr = SIGNET__V1__CREDENTIAL__INIT;
	Signet__V1__Envelope env = SIGNET__V1__ENVELOPE__INIT;
	struct auth_client *who;
	struct errmsg em = {0};
	char err[512];

	if (!needs_reset)
		return;
	needs_reset = 0;
	remembered = 0;
	auth_close(auth);
	if (auth_open(&cfg, &auth, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_envelope_auth: %s\n", err);
		abort();
	}
	memset(nonce, 'W', sizeof(nonce));
	env.version = SIGNET_PROTOCOL_VERSION;
	env.method = "Health";
	env.request_id.data = rid;
	env.request_id.len = sizeof(rid);
	env.credential = &cr;
	cr.timestamp_ms = FUZZ_AUTH_NOW_MS;
	cr.nonce.data = nonce;
	cr.nonce.len = sizeof(nonce);
	cr.mac.data = mac;
	cr.mac.len = sizeof(mac);
	for (size_t i = 0; i < FUZZ_AUTH_N_CLIENTS; i++) {
		cr.client = (char *)fuzz_auth_clients[i].name;
		if (mac_of(&env, mac) != 0 ||
		    auth_authenticate(auth, &env, FUZZ_AUTH_NOW_MS, &who, &em) != 0)
			abort();
	}
	state.auth = auth;
}

/* Would dispatch get as far as authentication with this envelope? */
static int reaches_auth(const Signet__V1__Envelope *env, size_t size)
{
	return env != NULL && size <= cfg.max_message_size &&
	       env->version == SIGNET_PROTOCOL_VERSION &&
	       env->request_id.len == WIRE_REQUEST_ID_LEN &&
	       protobuf_c_service_descriptor_get_method_by_name(&signet__v1__signet__descriptor,
								env->method) != NULL;
}

/* Dispatch; the reply's status, and in *replayed whether authentication
 * refused it as a replay. Aborts when the reply does not decode. */
static int dispatch(const uint8_t *data, size_t size, int *replayed)
{
	uint8_t *reply = NULL;
	size_t reply_len = 0;
	Signet__V1__Reply *rep;
	int status;

	dispatch_request(&state, 0, data, size, &reply, &reply_len);
	if (reply == NULL || (rep = signet__v1__reply__unpack(NULL, reply_len, reply)) == NULL)
		abort();
	status = (int)rep->status;
	*replayed = status == SIGNET__V1__STATUS_CODE__UNAUTHENTICATED && rep->message != NULL &&
		    strstr(rep->message, "already sent this nonce") != NULL;
	signet__v1__reply__free_unpacked(rep, NULL);
	free(reply);
	return status;
}

/* What authentication let through must be authentic. */
static void check_authentic(const Signet__V1__Envelope *env)
{
	const Signet__V1__Credential *cr = env->credential;
	uint8_t mac[AUTHMAC_LEN];
	int64_t off;

	if (cr == NULL || mac_of(env, mac) != 0 || cr->mac.len != sizeof(mac) ||
	    memcmp(mac, cr->mac.data, sizeof(mac)) != 0 || cr->timestamp_ms > (uint64_t)INT64_MAX)
		abort(); /* no credential (anonymous is off), or not its client's MAC */
	off = (int64_t)cr->timestamp_ms - FUZZ_AUTH_NOW_MS;
	if (off > FUZZ_AUTH_WINDOW_S * 1000LL || off < -FUZZ_AUTH_WINDOW_S * 1000LL ||
	    cr->nonce.len < 16 || cr->nonce.len > 64)
		abort();
}

/*
 * Run one envelope twice; 1 when the first got past authentication. The
 * second tells: authentication refuses it as a replay exactly when the
 * first got through (a handler's own UNAUTHENTICATED, VerifyChain's, is
 * no refusal of the caller). An answer other than UNAUTHENTICATED comes
 * from past authentication, so a replay must follow it.
 */
static int run(const Signet__V1__Envelope *env, const uint8_t *data, size_t size)
{
	int replayed_first, replayed_second, status;

	status = dispatch(data, size, &replayed_first);
	if (!reaches_auth(env, size))
		return 0;
	dispatch(data, size, &replayed_second);
	if (status != SIGNET__V1__STATUS_CODE__UNAUTHENTICATED && !replayed_second)
		abort(); /* a replay was accepted */
	if (replayed_first || !replayed_second)
		return 0;
	check_authentic(env);
	if ((int64_t)env->credential->timestamp_ms > FUZZ_AUTH_NOW_MS ||
	    ++remembered >= FUZZ_AUTH_RESET_AFTER)
		needs_reset = 1;
	return 1;
}

/* The envelope with its client's own MAC, as a client holding the secret
 * would have sent it. */
static void run_resigned(Signet__V1__Envelope *env)
{
	Signet__V1__Credential *cr = env->credential;
	uint8_t mac[AUTHMAC_LEN], nonce[64] = {0}, *buf;
	ProtobufCBinaryData theirs, their_nonce;
	size_t len;

	if (cr == NULL)
		return;
	their_nonce = cr->nonce;
	if (cr->nonce.len >= 16 && cr->nonce.len <= sizeof(nonce)) {
		/* a nonce of the same length no other re-signed input had */
		resign_counter++;
		memset(nonce, 'R', sizeof(nonce));
		memcpy(nonce, &resign_counter, sizeof(resign_counter));
		cr->nonce.data = nonce;
	}
	if (mac_of(env, mac) != 0) {
		cr->nonce = their_nonce;
		return;
	}
	theirs = cr->mac;
	cr->mac.data = mac;
	cr->mac.len = sizeof(mac);
	len = protobuf_c_message_get_packed_size(&env->base);
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	protobuf_c_message_pack(&env->base, buf);
	if (run(env, buf, len))
		n_resigned_authenticated++;
	cr->mac = theirs; /* freed with the envelope; ours are on the stack */
	cr->nonce = their_nonce;
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Signet__V1__Envelope *env;

	fuzz_setup_once();
	auth_fresh();
	n_inputs++;
	env = (Signet__V1__Envelope *)protobuf_c_message_unpack(&signet__v1__envelope__descriptor,
								NULL, size, data);
	last_authenticated = run(env, data, size);
	n_authenticated += (unsigned long)last_authenticated;
	if (env != NULL) {
		run_resigned(env);
		protobuf_c_message_free_unpacked(&env->base, NULL);
	}
	return 0;
}

/* For replay.c: did the seed just run do what its name says? refused-*
 * seeds must not authenticate, all others must: seeds that never get past
 * the MAC would leave the rest of the path unfuzzed. */
int fuzz_replay_seed_check(const char *name)
{
	int refused =
		strncmp(name, FUZZ_AUTH_REFUSED_PREFIX, strlen(FUZZ_AUTH_REFUSED_PREFIX)) == 0;

	if (last_authenticated != refused)
		return 0;
	fprintf(stderr, "seed %s %s\n", name,
		refused ? "authenticated, but should be refused" : "did not authenticate");
	return -1;
}
