/*
 * What every request handler may use, and what the daemon's top level
 * (main.c, server.c, crlpub.c, reload.c) builds and swaps.
 *
 * It lives in rpc/, not in daemon/ beside main.c: the handlers need it, and
 * an include may only go down the layers (daemon/ -> rpc/ -> ...). A header
 * in daemon/ included by rpc/ would be a call back up; here the top level
 * includes it downwards, like any rpc/ header. Everything it points to is
 * only declared, so including it pulls in no subsystem.
 */
#ifndef SIGNETD_RPC_STATE_H
#define SIGNETD_RPC_STATE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

struct audit;
struct auth;
struct castore;
struct challenge_table;
struct config;
struct keystore;
struct ledger;
struct token;

/* Certificates possession.trust_anchors may hold. */
#define TRUST_ANCHORS_MAX 256

/*
 * Shared by all workers, read-only after start except cfg and auth, which a
 * reload swaps (reload.h) while holding swap_lock for write. A request holds
 * it for read throughout, so neither pointer, nor anything reached through
 * them, may be kept past the request.
 */
struct daemon_state {
	pthread_rwlock_t *swap_lock; /* NULL: nothing is ever swapped (tests) */
	const struct config *cfg;
	struct token *token;
	struct keystore *keys;
	struct castore *cas;
	struct ledger *ledger;
	struct audit *audit;
	struct challenge_table *challenges;
	struct auth *auth;		/* NULL only in tests: every caller anonymous */
	STACK_OF(X509) * trust_anchors; /* possession.trust_anchors; may be NULL; swapped by a
					   reload under swap_lock, like cfg */
	time_t started;
	/* the clock credentials are checked against, in ms since the epoch;
	 * NULL: CLOCK_REALTIME. A fuzz target fixes it, so its signed seeds
	 * stay inside the window. */
	int64_t (*clock_ms)(void);
};

#endif
