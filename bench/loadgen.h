/*
 * The load generator signet-bench-load and signet-soak share: N clients, each
 * a thread with its own connection to signetd, calling the program's request
 * back to back until a total is handed out or a time window ends, each call
 * timed. The programs keep what is their own (the request mix, what counts as
 * a right answer, what they print); this module owns the threads, the start
 * line, the counting, and the options both take.
 */
#ifndef SIGNET_BENCH_LOADGEN_H
#define SIGNET_BENCH_LOADGEN_H

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <signet/signet.h>

#include "latency.h"

#define LOADGEN_MAX_CLIENTS 1024

/* The options both programs take; each adds its own. */
struct loadgen_options {
	const char *endpoint, *client, *secret_file;
	const char *ca;	 /* the CA SignCsr issues under */
	const char *key; /* the token key SignNonce signs with */
	unsigned clients;
	double seconds;	   /* the window, when requests is 0 */
	uint64_t requests; /* calls in all; 0 runs for seconds instead */
};

/*
 * getopt_long over argv: --endpoint --client --secret-file --ca --key
 * --clients --requests (and --seconds when with_seconds) into o, which holds
 * the program's defaults; the program's own options (extra, ended by a zero
 * entry, at most LOADGEN_MAX_OWN_OPTIONS) through own(val, optarg), which
 * returns 0 or -1. 0, or -1 at an option that is neither's or refused.
 */
#define LOADGEN_MAX_OWN_OPTIONS 8
int loadgen_parse(int argc, char **argv, struct loadgen_options *o, int with_seconds,
		  const struct option *extra, int (*own)(int val, const char *arg));

/* Whether clients is within 1..LOADGEN_MAX_CLIENTS. */
int loadgen_clients_ok(const struct loadgen_options *o);

/* One client of the run. */
struct loadgen_worker {
	pthread_t thread;
	unsigned index;
	signet_client *c;
	void *own;		 /* the program's per-client state, set by its start hook */
	struct loadgen_run *run; /* what it belongs to */
	struct latency lat;	 /* calls that completed inside the window */
	atomic_uint_fast64_t ops;
	char error[512]; /* what ended this client's run early, if anything */
};

/* What a program plugs in. */
struct loadgen_program {
	/* Optional: per-client set-up once connected, before the clock starts
	 * (a warm-up call, a device key). 0, or a status that keeps this client out. */
	int (*start)(struct loadgen_worker *w);
	/* Request n of this client's run: 0, or a status that ends the whole run.
	 * On a status with w->error left empty, the status and the daemon's last
	 * error go there. */
	int (*call)(struct loadgen_worker *w, uint64_t n);
	/* Optional: per-client clean-up, the connection still open. */
	void (*finish)(struct loadgen_worker *w);
};

struct loadgen_run {
	const struct loadgen_options *opt;
	const struct loadgen_program *prog;
	struct loadgen_worker *workers; /* opt->clients of them */
	uint64_t ops;			/* calls completed inside the window */
	struct latency lat;		/* their latencies, merged */
	uint64_t elapsed_ns;		/* the window (--seconds), or start to last answer */
	/* shared by the clients while they run */
	pthread_barrier_t start_line;
	atomic_bool stop, measuring;
	atomic_uint_fast64_t handed_out;
};

/*
 * Connect opt->clients clients (with opt->client's credential when set), run
 * prog on each, and gather their counts. 0, or -1 when threads or memory ran
 * out (clients already started are then stuck at the start line: exit).
 * Clients that failed have w->error set. Release with loadgen_release.
 */
int loadgen_run(struct loadgen_run *run, const struct loadgen_options *opt,
		const struct loadgen_program *prog);

/* The first client whose run ended early, or NULL. */
const struct loadgen_worker *loadgen_first_failed(const struct loadgen_run *run);

void loadgen_release(struct loadgen_run *run);

/*
 * A P-256 key and a DER CSR for /CN=cn signed with it: 0 or -1. The key goes
 * to *key when key is not NULL (EVP_PKEY_free), else is freed; *der is to
 * OPENSSL_free.
 */
int loadgen_make_csr(const char *cn, EVP_PKEY **key, unsigned char **der, int *len);

#endif
