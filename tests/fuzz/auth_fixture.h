/*
 * What fuzz_envelope_auth and its seed generator (gen_envelope_auth.c) share:
 * the clients signetd is configured with, their secrets, and the fixed clock.
 * The seeds are signed with these secrets and stamped near FUZZ_AUTH_NOW_MS,
 * so they authenticate in the target whenever it runs. Not secrets: test
 * fixtures, in the open on purpose.
 */
#ifndef SIGNET_TESTS_AUTH_FIXTURE_H
#define SIGNET_TESTS_AUTH_FIXTURE_H

#include <stddef.h>

/* 2026-01-01T00:00:00Z: the target's clock, whatever the real one says */
#define FUZZ_AUTH_NOW_MS 1767225600000LL

/* the daemon's auth group: a 120 s window, 10 s reordering */
#define FUZZ_AUTH_WINDOW_S  120
#define FUZZ_AUTH_REORDER_S 10

struct fuzz_auth_client {
	const char *name;
	const char *secret_hex; /* 32 bytes */
	const char *rules;	/* the rest of its group in signetd.conf */
};

/* an admin, a client held to some CAs/profiles/keys, one that may only
 * read, and one whose secret the generator signs a seed wrongly with */
static const struct fuzz_auth_client fuzz_auth_clients[] = {
	{"operator", "7f1c0e5a3b9d2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e",
	 "admin = true; methods = [ \"*\" ]; cas = [ \"*\" ]; profiles = [ \"*\" ]; keys = [ \"*\" "
	 "];"},
	{"factory", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	 "methods = [ \"SignCsr\", \"Issue*\", \"GetCaChain\", \"Health\", \"CreateChallenge\", "
	 "\"VerifyPossession\" ]; "
	 "cas = [ \"issuing\", \"fleet-*\" ]; profiles = [ \"device\" ];"},
	{"keyuser", "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
	 "max_concurrent = 1; methods = [ \"GenerateKey\", \"Sign*\", \"DeleteKey\", "
	 "\"GetPublicKey\", \"ListKeys\", \"CreateCsr\" ]; keys = [ \"dev-*\" ];"},
	{"reader", "a5a5a5a55a5a5a5aa5a5a5a55a5a5a5aa5a5a5a55a5a5a5aa5a5a5a55a5a5a5a",
	 "methods = [ \"Health\", \"List*\", \"Get*\" ]; cas = [ \"*\" ];"},
};

#define FUZZ_AUTH_N_CLIENTS (sizeof(fuzz_auth_clients) / sizeof(fuzz_auth_clients[0]))

/* Seeds named so are meant to be refused by authentication (a stale stamp,
 * a wrong secret...); every other seed must authenticate. */
#define FUZZ_AUTH_REFUSED_PREFIX "refused-"

#endif
