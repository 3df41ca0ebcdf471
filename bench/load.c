/*
 * Load for signetd through libsignet: N clients, each a thread with its own
 * connection, calling SignNonce, SignNonceBatch, SignCsr or SignCsrBatch back to back.
 *
 *   signet-bench-load --endpoint EP --op nonce --key LABEL
 *   signet-bench-load --endpoint EP --op nonce-batch --batch N --key LABEL
 *   signet-bench-load --endpoint EP --op csr --ca NAME --profile NAME
 *   signet-bench-load --endpoint EP --op batch --batch N --ca NAME --profile NAME
 *   signet-bench-load --endpoint EP --op health    (the daemon without the token)
 *       [--clients N] [--seconds S | --requests N] [--client NAME --secret-file F]
 *
 * With --seconds, what completes inside the window counts; with --requests,
 * the run ends after that many in all. SignCsr cycles through 256 P-256 CSRs
 * (CN bench-device-NNNN) made in memory before the clock starts; a
 * SignCsrBatch call sends N of them (at most 256), each item under a fresh
 * request id, and counts as one call of N certificates ("certs_rate"). Any
 * failed call, or batch item, ends the run with its message and exit status
 * 1: a benchmark that counts errors as work measures nothing. Prints one
 * JSON object on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <signet/signet.h>

#include "loadgen.h"

#define N_CSRS 256

enum op { OP_NONCE, OP_NONCE_BATCH, OP_CSR, OP_BATCH, OP_HEALTH };

struct csr {
	unsigned char *der;
	int len;
};

static struct loadgen_options opt;
static enum op op;
static const char *profile;
static struct csr csrs[N_CSRS];
static unsigned batch_size;

/* One SignCsrBatch of batch_size CSRs; an item that failed fails the call. */
static int call_batch(struct loadgen_worker *w, uint64_t n)
{
	struct signet_batch_item items[N_CSRS];
	struct signet_batch_result *res = NULL;
	int r;

	memset(items, 0, sizeof(items));
	for (unsigned i = 0; i < batch_size; i++) {
		const struct csr *csr = &csrs[(w->index * 31 + n * batch_size + i) % N_CSRS];

		items[i].profile = profile;
		items[i].csr = csr->der;
		items[i].csr_len = (size_t)csr->len;
	}
	r = signet_sign_csr_batch(w->c, opt.ca, items, batch_size, &res);
	for (size_t i = 0; r == 0 && i < res->n_items; i++)
		if ((r = res->items[i].status) != 0)
			snprintf(w->error, sizeof(w->error), "item %zu: %s: %s", i,
				 signet_status_name(r), res->items[i].message);
	signet_batch_result_free(res);
	return r;
}

/* One SignNonceBatch of batch_size distinct digests. */
static int call_nonce_batch(struct loadgen_worker *w, uint64_t n)
{
	uint8_t digests[SIGNET_SIGN_BATCH_MAX][32];
	const uint8_t *data[SIGNET_SIGN_BATCH_MAX];
	size_t lens[SIGNET_SIGN_BATCH_MAX];
	struct signet_buf sigs[SIGNET_SIGN_BATCH_MAX];
	struct signet_sign_batch_params p = {.key = opt.key,
					     .data = data,
					     .lens = lens,
					     .n = batch_size,
					     .prehashed = 1,
					     .hash = SIGNET_HASH_SHA256,
					     .format = SIGNET_SIG_ECDSA_DER};
	int r;

	for (unsigned i = 0; i < batch_size; i++) {
		memset(digests[i], (int)(n & 0xff), sizeof(digests[i]));
		memcpy(digests[i], &w->index, sizeof(w->index));
		memcpy(digests[i] + sizeof(w->index), &i, sizeof(i));
		data[i] = digests[i];
		lens[i] = sizeof(digests[i]);
	}
	r = signet_sign_batch(w->c, &p, sigs, NULL, NULL);
	for (unsigned i = 0; r == 0 && i < batch_size; i++)
		signet_buf_free(&sigs[i]);
	return r;
}

static int call_once(struct loadgen_worker *w, uint64_t n)
{
	if (op == OP_NONCE_BATCH)
		return call_nonce_batch(w, n);
	if (op == OP_HEALTH) {
		struct signet_health h;

		return signet_health(w->c, &h);
	} else if (op == OP_BATCH) {
		return call_batch(w, n);
	} else if (op == OP_NONCE) {
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
		r = signet_sign(w->c, &p, &sig, NULL, NULL);
		signet_buf_free(&sig);
		return r;
	} else {
		const struct csr *csr = &csrs[(w->index * 31 + n) % N_CSRS];
		struct signet_issue_params p = {.ca = opt.ca,
						.profile = profile,
						.csr = csr->der,
						.csr_len = (size_t)csr->len};
		struct signet_issued *issued = NULL;
		int r = signet_sign_csr(w->c, &p, &issued);

		signet_issued_free(issued);
		return r;
	}
}

/* One call before the clock starts: connection set up, daemon warm. */
static int warm_up(struct loadgen_worker *w)
{
	return call_once(w, 0);
}

static int measured_call(struct loadgen_worker *w, uint64_t n)
{
	return call_once(w, n + 1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: signet-bench-load --endpoint EP (--op nonce --key LABEL | --op nonce-batch "
		"--batch N --key LABEL | --op csr --ca NAME --profile NAME | --op batch --batch N "
		"--ca NAME --profile NAME)\n"
		"       [--clients N] [--seconds S | --requests N] [--client NAME --secret-file "
		"F]\n");
	exit(2);
}

static const char *op_name;

static int own_option(int val, const char *arg)
{
	char *end;
	unsigned long v;

	if (val == 'o') {
		op_name = arg;
	} else if (val == 'b') {
		v = strtoul(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || v < 1 || v > SIGNET_SIGN_BATCH_MAX)
			return -1;
		batch_size = (unsigned)v;
	} else {
		profile = arg;
	}
	return 0;
}

static void parse_options(int argc, char **argv)
{
	static const struct option own[] = {{"op", required_argument, NULL, 'o'},
					    {"profile", required_argument, NULL, 'p'},
					    {"batch", required_argument, NULL, 'b'},
					    {NULL, 0, NULL, 0}};

	opt = (struct loadgen_options){.clients = 1, .seconds = 5};
	if (loadgen_parse(argc, argv, &opt, 1, own, own_option) != 0)
		usage();
	if (op_name != NULL && strcmp(op_name, "nonce") == 0 && opt.key != NULL)
		op = OP_NONCE;
	else if (op_name != NULL && strcmp(op_name, "nonce-batch") == 0 && opt.key != NULL &&
		 batch_size > 0)
		op = OP_NONCE_BATCH;
	else if (op_name != NULL && strcmp(op_name, "health") == 0)
		op = OP_HEALTH;
	else if (op_name != NULL && strcmp(op_name, "csr") == 0 && opt.ca != NULL &&
		 profile != NULL)
		op = OP_CSR;
	else if (op_name != NULL && strcmp(op_name, "batch") == 0 && opt.ca != NULL &&
		 profile != NULL && batch_size > 0 && batch_size <= N_CSRS)
		op = OP_BATCH;
	else
		usage();
	if (opt.endpoint == NULL || !loadgen_clients_ok(&opt) || !(opt.seconds > 0) ||
	    (opt.client != NULL) != (opt.secret_file != NULL))
		usage();
}

/* The 256 CSRs SignCsr cycles through, made before the clock starts. */
static int make_csrs(void)
{
	char cn[32];

	for (unsigned i = 0; i < N_CSRS; i++) {
		snprintf(cn, sizeof(cn), "bench-device-%04u", i);
		if (loadgen_make_csr(cn, NULL, &csrs[i].der, &csrs[i].len) != 0)
			return -1;
	}
	return 0;
}

static void print_result(const struct loadgen_run *run)
{
	double rate = (double)run->ops * 1e9 / (double)run->elapsed_ns;

	printf("{\"op\":\"%s\",\"clients\":%u,\"seconds\":%.2f,\"ops\":%llu,\"rate\":%.0f,",
	       op == OP_NONCE	      ? "SignNonce"
	       : op == OP_NONCE_BATCH ? "SignNonceBatch"
	       : op == OP_CSR	      ? "SignCsr"
	       : op == OP_BATCH	      ? "SignCsrBatch"
				      : "Health",
	       opt.clients, (double)run->elapsed_ns / 1e9, (unsigned long long)run->ops, rate);
	/* a batch's latency is the whole call's; its rate is in certificates too */
	if (op == OP_BATCH)
		printf("\"batch\":%u,\"certs_rate\":%.0f,", batch_size, rate * batch_size);
	else if (op == OP_NONCE_BATCH)
		printf("\"batch\":%u,\"sigs_rate\":%.0f,", batch_size, rate * batch_size);
	printf("\"p50_us\":%llu,\"p99_us\":%llu}\n",
	       (unsigned long long)latency_quantile(&run->lat, 0.50),
	       (unsigned long long)latency_quantile(&run->lat, 0.99));
}

int main(int argc, char **argv)
{
	static const struct loadgen_program prog = {.start = warm_up, .call = measured_call};
	struct loadgen_run run;
	const struct loadgen_worker *failed;

	parse_options(argc, argv);
	if ((op == OP_CSR || op == OP_BATCH) && make_csrs() != 0) {
		fprintf(stderr, "signet-bench-load: cannot make a CSR\n");
		return 1;
	}
	if (loadgen_run(&run, &opt, &prog) != 0)
		return 1;
	if ((failed = loadgen_first_failed(&run)) != NULL)
		fprintf(stderr, "signet-bench-load: client %u: %s\n", failed->index, failed->error);
	print_result(&run);
	loadgen_release(&run);
	for (unsigned i = 0; i < N_CSRS; i++)
		OPENSSL_free(csrs[i].der);
	return failed != NULL;
}
