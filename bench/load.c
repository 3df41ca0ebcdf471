/*
 * Load for signetd through libsignet: N clients, each a thread with its own
 * connection, calling SignNonce or SignCsr back to back.
 *
 *   signet-bench-load --endpoint EP --op nonce --key LABEL
 *   signet-bench-load --endpoint EP --op csr --ca NAME --profile NAME
 *   signet-bench-load --endpoint EP --op health    (the daemon without the token)
 *       [--clients N] [--seconds S | --requests N] [--client NAME --secret-file F]
 *
 * With --seconds, what completes inside the window counts; with --requests,
 * the run ends after that many in all. SignCsr cycles through 256 P-256 CSRs
 * (CN bench-device-NNNN) made in memory before the clock starts. Any failed
 * call ends the run with its message and exit status 1: a benchmark that
 * counts errors as work measures nothing. Prints one JSON object on stdout.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <signet/signet.h>

#include "latency.h"

#define N_CSRS 256

enum op { OP_NONCE, OP_CSR, OP_HEALTH };

struct options {
	const char *endpoint, *key, *ca, *profile, *client, *secret_file;
	enum op op;
	unsigned clients;
	double seconds;
	uint64_t requests;
};

struct csr {
	unsigned char *der;
	int len;
};

struct worker {
	pthread_t thread;
	unsigned index;
	struct latency lat;
	atomic_uint_fast64_t ops;
	char error[512];
};

static struct options opt;
static struct csr csrs[N_CSRS];
static atomic_bool stop_flag, measuring;
static pthread_barrier_t start_line;	  /* every client and main: the clock starts together */
static atomic_uint_fast64_t issued_total; /* --requests: calls handed out */

static int make_csr(unsigned i, struct csr *out)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	char cn[32];
	int ok;

	snprintf(cn, sizeof(cn), "bench-device-%04u", i);
	ok = key != NULL && req != NULL && name != NULL &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)cn, -1, -1, 0) ==
		     1 &&
	     X509_REQ_set_subject_name(req, name) == 1 && X509_REQ_set_pubkey(req, key) == 1 &&
	     X509_REQ_sign(req, key, EVP_sha256()) > 0 &&
	     (out->len = i2d_X509_REQ(req, &out->der)) > 0;
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static int call_once(signet_client *c, struct worker *w, uint64_t n)
{
	if (opt.op == OP_HEALTH) {
		struct signet_health h;

		return signet_health(c, &h);
	} else if (opt.op == OP_NONCE) {
		uint8_t digest[32];
		struct signet_sign_params p = {.key = opt.key,
					       .data = digest,
					       .len = sizeof(digest),
					       .prehashed = 1,
					       .hash = SIGNET_HASH_SHA256,
					       .format = SIGNET_SIG_ECDSA_DER};
		struct signet_buf sig = {0};
		int r;

		memset(digest, (int)(n & 0xff), sizeof(digest));
		memcpy(digest, &w->index, sizeof(w->index));
		r = signet_sign(c, &p, &sig, NULL, NULL);
		signet_buf_free(&sig);
		return r;
	} else {
		const struct csr *csr = &csrs[(w->index * 31 + n) % N_CSRS];
		struct signet_issue_params p = {.ca = opt.ca,
						.profile = opt.profile,
						.csr = csr->der,
						.csr_len = (size_t)csr->len};
		struct signet_issued *issued = NULL;
		int r = signet_sign_csr(c, &p, &issued);

		signet_issued_free(issued);
		return r;
	}
}

static int may_call(void)
{
	if (atomic_load_explicit(&stop_flag, memory_order_relaxed))
		return 0;
	if (opt.requests == 0)
		return 1;
	return atomic_fetch_add(&issued_total, 1) < opt.requests;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	signet_client *c = NULL;
	uint64_t n = 0;
	int r;

	if ((r = signet_connect(opt.endpoint, 30000, &c)) != 0 ||
	    (opt.client != NULL &&
	     (r = signet_load_credential(c, opt.client, opt.secret_file)) != 0)) {
		snprintf(w->error, sizeof(w->error), "connect: %s", signet_strerror(r));
		pthread_barrier_wait(&start_line);
		goto out;
	}
	/* one call before the clock starts: connection set up, daemon warm */
	if ((r = call_once(c, w, n++)) != 0) {
		snprintf(w->error, sizeof(w->error), "%s: %s", signet_status_name(r),
			 signet_last_error(c));
		pthread_barrier_wait(&start_line);
		goto out;
	}
	pthread_barrier_wait(&start_line);
	while (may_call()) {
		uint64_t t0 = now_ns();

		if ((r = call_once(c, w, n++)) != 0) {
			snprintf(w->error, sizeof(w->error), "%s: %s", signet_status_name(r),
				 signet_last_error(c));
			atomic_store(&stop_flag, true);
			break;
		}
		if (atomic_load_explicit(&measuring, memory_order_relaxed)) {
			latency_add(&w->lat, (now_ns() - t0) / 1000);
			atomic_fetch_add_explicit(&w->ops, 1, memory_order_relaxed);
		}
	}
out:
	signet_close(c);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: signet-bench-load --endpoint EP (--op nonce --key LABEL | --op csr --ca "
		"NAME "
		"--profile NAME)\n"
		"       [--clients N] [--seconds S | --requests N] [--client NAME --secret-file "
		"F]\n");
	exit(2);
}

static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {{"endpoint", required_argument, NULL, 'e'},
						 {"op", required_argument, NULL, 'o'},
						 {"key", required_argument, NULL, 'k'},
						 {"ca", required_argument, NULL, 'c'},
						 {"profile", required_argument, NULL, 'p'},
						 {"clients", required_argument, NULL, 'n'},
						 {"seconds", required_argument, NULL, 's'},
						 {"requests", required_argument, NULL, 'r'},
						 {"client", required_argument, NULL, 'C'},
						 {"secret-file", required_argument, NULL, 'S'},
						 {NULL, 0, NULL, 0}};
	const char *op = NULL;
	int c;

	opt = (struct options){.clients = 1, .seconds = 5};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			opt.endpoint = optarg;
			break;
		case 'o':
			op = optarg;
			break;
		case 'k':
			opt.key = optarg;
			break;
		case 'c':
			opt.ca = optarg;
			break;
		case 'p':
			opt.profile = optarg;
			break;
		case 'n':
			opt.clients = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			opt.seconds = strtod(optarg, NULL);
			break;
		case 'r':
			opt.requests = strtoull(optarg, NULL, 10);
			break;
		case 'C':
			opt.client = optarg;
			break;
		case 'S':
			opt.secret_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (op != NULL && strcmp(op, "nonce") == 0 && opt.key != NULL)
		opt.op = OP_NONCE;
	else if (op != NULL && strcmp(op, "health") == 0)
		opt.op = OP_HEALTH;
	else if (op != NULL && strcmp(op, "csr") == 0 && opt.ca != NULL && opt.profile != NULL)
		opt.op = OP_CSR;
	else
		usage();
	if (opt.endpoint == NULL || opt.clients < 1 || opt.clients > 1024 || !(opt.seconds > 0) ||
	    (opt.client != NULL) != (opt.secret_file != NULL))
		usage();
}

int main(int argc, char **argv)
{
	struct worker *w;
	struct latency all;
	uint64_t t0, t1, ops = 0;
	int failed = 0;

	parse_options(argc, argv);
	for (unsigned i = 0; opt.op == OP_CSR && i < N_CSRS; i++)
		if (make_csr(i, &csrs[i]) != 0) {
			fprintf(stderr, "signet-bench-load: cannot make a CSR\n");
			return 1;
		}
	w = calloc(opt.clients, sizeof(*w));
	if (w == NULL || latency_init(&all) != 0 ||
	    pthread_barrier_init(&start_line, NULL, opt.clients + 1) != 0)
		return 1;
	for (unsigned i = 0; i < opt.clients; i++) {
		w[i].index = i;
		if (latency_init(&w[i].lat) != 0 ||
		    pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			return 1;
	}
	atomic_store(&measuring, true);
	pthread_barrier_wait(&start_line);
	t0 = now_ns();
	if (opt.requests == 0) {
		usleep((useconds_t)(opt.seconds * 1e6));
		atomic_store(&measuring, false);
		atomic_store(&stop_flag, true);
	}
	for (unsigned i = 0; i < opt.clients; i++)
		pthread_join(w[i].thread, NULL);
	t1 = now_ns();
	for (unsigned i = 0; i < opt.clients; i++) {
		if (w[i].error[0] != '\0' && !failed) {
			fprintf(stderr, "signet-bench-load: client %u: %s\n", i, w[i].error);
			failed = 1;
		}
		ops += atomic_load(&w[i].ops);
		latency_merge(&all, &w[i].lat);
		latency_free(&w[i].lat);
	}
	if (opt.requests == 0 && t1 - t0 > (uint64_t)(opt.seconds * 1e9))
		t1 = t0 + (uint64_t)(opt.seconds * 1e9); /* the window, not the drain */
	printf("{\"op\":\"%s\",\"clients\":%u,\"seconds\":%.2f,\"ops\":%llu,\"rate\":%.0f,"
	       "\"p50_us\":%llu,\"p99_us\":%llu}\n",
	       opt.op == OP_NONCE ? "SignNonce"
	       : opt.op == OP_CSR ? "SignCsr"
				  : "Health",
	       opt.clients, (double)(t1 - t0) / 1e9, (unsigned long long)ops,
	       (double)ops * 1e9 / (double)(t1 - t0),
	       (unsigned long long)latency_quantile(&all, 0.50),
	       (unsigned long long)latency_quantile(&all, 0.99));
	latency_free(&all);
	for (unsigned i = 0; i < N_CSRS; i++)
		OPENSSL_free(csrs[i].der);
	free(w);
	pthread_barrier_destroy(&start_line);
	return failed;
}
