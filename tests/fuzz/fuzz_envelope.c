/*
 * Fuzz target: arbitrary bytes as a request, through the whole dispatch path
 * (size check, envelope, version, method, payload decoding, handler) against
 * a token that fails every call. The reply must always decode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rpc/dispatch.h"
#include "fake_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct token *token;
static struct keystore *keys;
static struct castore cas;
static struct ledger *ledger;
static struct config cfg = {
	.max_message_size = 65536, .workers = 1, .max_batch_csrs = 16, .max_batch_bytes = 65536};
static struct daemon_state state = {.cfg = &cfg, .cas = &cas};

static char state_dir[] = "/tmp/signet-fuzz-XXXXXX";

/* Leave no state directory behind in /tmp: an empty cas/ and the ledger. */
static void fuzz_cleanup(void)
{
	static const char *const files[] = {"cas", "ledger.db", "ledger.db-wal", "ledger.db-shm"};
	char path[sizeof(state_dir) + 32];

	castore_close(&cas);
	ledger_close(ledger);
	challenge_table_free(state.challenges);
	keystore_free(keys);
	token_close(token);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, files[i]);
		if (unlink(path) != 0)
			rmdir(path);
	}
	rmdir(state_dir);
}

static void fuzz_setup_once(void)
{
	static int done;
	struct challenge_limits limits = {.max_per_caller = 100, .max_total = 1000};
	char err[128], *dir = state_dir;

	if (done)
		return;
	token = fake_token_new();
	/* CA requests reach the (empty) CA store before the failing token */
	if (token == NULL || mkdtemp(dir) == NULL ||
	    castore_open(&cas, dir, err, sizeof(err)) != 0 ||
	    ledger_open(dir, &ledger, err, sizeof(err)) != 0 ||
	    challenge_table_new(&limits, &state.challenges) != 0 ||
	    keystore_new(token, &keys) != 0 || dispatch_init(err, sizeof(err)) != 0 ||
	    profile_set_builtin(&cfg.profiles) != 0)
		abort();
	state.token = token;
	state.keys = keys;
	state.ledger = ledger; /* no audit log: every act would cost an fsync */
	atexit(fuzz_cleanup);
	done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *reply = NULL;
	size_t reply_len = 0;
	Signet__V1__Reply *rep;

	fuzz_setup_once();
	dispatch_request(&state, 0, data, size, &reply, &reply_len);
	if (reply == NULL)
		abort();
	rep = signet__v1__reply__unpack(NULL, reply_len, reply);
	if (rep == NULL)
		abort();
	signet__v1__reply__free_unpacked(rep, NULL);
	free(reply);
	return 0;
}
