/* The shared load generator: see loadgen.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "loadgen.h"

static const struct option shared_longopts[] = {
	{"endpoint", required_argument, NULL, 'e'},    {"client", required_argument, NULL, 'C'},
	{"secret-file", required_argument, NULL, 'S'}, {"ca", required_argument, NULL, 'c'},
	{"key", required_argument, NULL, 'k'},	       {"clients", required_argument, NULL, 'n'},
	{"requests", required_argument, NULL, 'r'},    {"seconds", required_argument, NULL, 's'},
};
#define N_SHARED (sizeof(shared_longopts) / sizeof(shared_longopts[0]))

static void shared_option(struct loadgen_options *o, int c, const char *arg)
{
	switch (c) {
	case 'e':
		o->endpoint = arg;
		break;
	case 'C':
		o->client = arg;
		break;
	case 'S':
		o->secret_file = arg;
		break;
	case 'c':
		o->ca = arg;
		break;
	case 'k':
		o->key = arg;
		break;
	case 'n':
		o->clients = (unsigned)strtoul(arg, NULL, 10);
		break;
	case 's':
		o->seconds = strtod(arg, NULL);
		break;
	default: /* 'r' */
		o->requests = strtoull(arg, NULL, 10);
	}
}

int loadgen_parse(int argc, char **argv, struct loadgen_options *o, int with_seconds,
		  const struct option *extra, int (*own)(int val, const char *arg))
{
	struct option longopts[N_SHARED + LOADGEN_MAX_OWN_OPTIONS + 1];
	size_t n_shared = with_seconds ? N_SHARED : N_SHARED - 1; /* --seconds comes last */
	size_t n = n_shared;
	int c, index = -1;

	memcpy(longopts, shared_longopts, n_shared * sizeof(longopts[0]));
	for (size_t i = 0; extra != NULL && extra[i].name != NULL; i++) {
		if (i == LOADGEN_MAX_OWN_OPTIONS)
			return -1;
		longopts[n++] = extra[i];
	}
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	while ((c = getopt_long(argc, argv, "", longopts, &index)) != -1) {
		/* the index, not the value, tells whose option it is */
		if (c == '?' || index < 0)
			return -1;
		if ((size_t)index < n_shared)
			shared_option(o, c, optarg);
		else if (own == NULL || own(c, optarg) != 0)
			return -1;
		index = -1;
	}
	return 0;
}

int loadgen_clients_ok(const struct loadgen_options *o)
{
	return o->clients >= 1 && o->clients <= LOADGEN_MAX_CLIENTS;
}

static void note_status(struct loadgen_worker *w, int r)
{
	if (w->error[0] == '\0')
		snprintf(w->error, sizeof(w->error), "%s: %s", signet_status_name(r),
			 signet_last_error(w->c));
}

/* The next call, if the run is not over: with --requests, one of the total. */
static int may_call(struct loadgen_run *run)
{
	if (atomic_load_explicit(&run->stop, memory_order_relaxed))
		return 0;
	if (run->opt->requests == 0)
		return 1;
	return atomic_fetch_add(&run->handed_out, 1) < run->opt->requests;
}

/* Connection and the program's set-up: 0, or the status, noted in w->error. */
static int worker_start(struct loadgen_worker *w)
{
	const struct loadgen_options *opt = w->run->opt;
	int r;

	if ((r = signet_connect(opt->endpoint, 30000, &w->c)) != 0 ||
	    (opt->client != NULL &&
	     (r = signet_load_credential(w->c, opt->client, opt->secret_file)) != 0)) {
		snprintf(w->error, sizeof(w->error), "connect: %s", signet_strerror(r));
		return r;
	}
	if (w->run->prog->start != NULL && (r = w->run->prog->start(w)) != 0)
		note_status(w, r);
	return r;
}

static void *worker_main(void *arg)
{
	struct loadgen_worker *w = arg;
	struct loadgen_run *run = w->run;
	uint64_t n = 0;
	int r, started = worker_start(w) == 0;

	/* everyone at the line, failed or not: the clock starts together */
	pthread_barrier_wait(&run->start_line);
	while (started && may_call(run)) {
		uint64_t t0 = now_ns();

		if ((r = run->prog->call(w, n++)) != 0) {
			note_status(w, r);
			atomic_store(&run->stop, true);
			break;
		}
		if (atomic_load_explicit(&run->measuring, memory_order_relaxed)) {
			latency_add(&w->lat, (now_ns() - t0) / 1000);
			atomic_fetch_add_explicit(&w->ops, 1, memory_order_relaxed);
		}
	}
	if (run->prog->finish != NULL)
		run->prog->finish(w);
	signet_close(w->c);
	w->c = NULL;
	return NULL;
}

/* Until the window ends (--seconds) or every client is done (--requests). */
static void wait_out(struct loadgen_run *run)
{
	const struct loadgen_options *opt = run->opt;
	uint64_t t0, t1;

	atomic_store(&run->measuring, true);
	pthread_barrier_wait(&run->start_line);
	t0 = now_ns();
	if (opt->requests == 0) {
		usleep((useconds_t)(opt->seconds * 1e6));
		atomic_store(&run->measuring, false);
		atomic_store(&run->stop, true);
	}
	for (unsigned i = 0; i < opt->clients; i++)
		pthread_join(run->workers[i].thread, NULL);
	t1 = now_ns();
	if (opt->requests == 0 && t1 - t0 > (uint64_t)(opt->seconds * 1e9))
		t1 = t0 + (uint64_t)(opt->seconds * 1e9); /* the window, not the drain */
	run->elapsed_ns = t1 - t0;
}

int loadgen_run(struct loadgen_run *run, const struct loadgen_options *opt,
		const struct loadgen_program *prog)
{
	*run = (struct loadgen_run){.opt = opt, .prog = prog};
	run->workers = calloc(opt->clients, sizeof(*run->workers));
	if (run->workers == NULL || latency_init(&run->lat) != 0 ||
	    pthread_barrier_init(&run->start_line, NULL, opt->clients + 1) != 0)
		return -1;
	for (unsigned i = 0; i < opt->clients; i++) {
		struct loadgen_worker *w = &run->workers[i];

		w->index = i;
		w->run = run;
		/* no way back from here: the clients started wait at the line, so the
		 * caller can only exit */
		if (latency_init(&w->lat) != 0 ||
		    pthread_create(&w->thread, NULL, worker_main, w) != 0)
			return -1;
	}
	wait_out(run);
	for (unsigned i = 0; i < opt->clients; i++) {
		run->ops += atomic_load(&run->workers[i].ops);
		latency_merge(&run->lat, &run->workers[i].lat);
	}
	return 0;
}

const struct loadgen_worker *loadgen_first_failed(const struct loadgen_run *run)
{
	for (unsigned i = 0; run->workers != NULL && i < run->opt->clients; i++)
		if (run->workers[i].error[0] != '\0')
			return &run->workers[i];
	return NULL;
}

void loadgen_release(struct loadgen_run *run)
{
	for (unsigned i = 0; run->workers != NULL && i < run->opt->clients; i++)
		latency_free(&run->workers[i].lat);
	free(run->workers);
	run->workers = NULL;
	latency_free(&run->lat);
	pthread_barrier_destroy(&run->start_line);
}

int loadgen_make_csr(const char *cn, EVP_PKEY **keyp, unsigned char **der, int *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	int ok = key != NULL && req != NULL && name != NULL &&
		 X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
					    -1, 0) == 1 &&
		 X509_REQ_set_subject_name(req, name) == 1 && X509_REQ_set_pubkey(req, key) == 1 &&
		 X509_REQ_sign(req, key, EVP_sha256()) > 0 && (*len = i2d_X509_REQ(req, der)) > 0;

	X509_NAME_free(name);
	X509_REQ_free(req);
	if (ok && keyp != NULL)
		*keyp = key;
	else
		EVP_PKEY_free(key);
	return ok ? 0 : -1;
}
