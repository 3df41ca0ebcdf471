/*
 * A soak client for signetd: N clients (threads, each its own connection)
 * send a fixed mix of requests until a total is reached, and every answer is
 * checked against what it must be. Good requests must succeed; bad inputs
 * must be refused with their own status; anything else is an unexpected
 * error, counted and the first few printed.
 *
 *   signet-soak --endpoint EP --client NAME --secret-file F --ca CA --key KEY
 *               [--clients N] [--requests N]
 *
 * The mix, per ten steps of a client: four SignNonce with the token key
 * KEY, a SignCsr (the device profile) for the client's own device key, a
 * GetCaChain, a proof-of-possession round (CreateChallenge, a signature
 * with the device key, VerifyPossession), a SignCsr with a malformed CSR
 * (INVALID_ARGUMENT), a SignNonce with a key that does not exist
 * (NOT_FOUND), and a VerifyChain of the device's chain. Prints one JSON
 * object on stdout; exits 1 if any answer was unexpected.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <signet/signet.h>

#include "loadgen.h"

enum step { NONCE, CSR, CHAIN, POSSESSION, BAD_CSR, BAD_KEY, VERIFY_CHAIN, N_STEPS };
static const char *const step_names[N_STEPS] = {"SignNonce", "SignCsr", "GetCaChain", "Possession",
						"BadCsr",    "BadKey",	"VerifyChain"};
/* ten steps a round: four nonces, one of each of the others */
static const enum step mix[10] = {NONCE,      CSR,     NONCE, CHAIN,   NONCE,
				  POSSESSION, BAD_CSR, NONCE, BAD_KEY, VERIFY_CHAIN};

struct device {
	EVP_PKEY *key;
	char id[32];
	unsigned char *csr;
	int csr_len;
	char *chain_pem; /* the leaf, then its CA chain */
};

/* What a client did, beside the connection loadgen keeps. */
struct soaker {
	struct device d;
	uint64_t done[N_STEPS];
	uint64_t unexpected;
	char first_error[512];
};

static struct loadgen_options opt;
static struct soaker *soakers; /* one a client */
static atomic_uint_fast64_t unexpected_total;

static void note_unexpected(struct loadgen_worker *w, enum step s, int r)
{
	struct soaker *k = w->own;

	if (k->unexpected++ == 0)
		snprintf(k->first_error, sizeof(k->first_error), "%s: %s: %s", step_names[s],
			 signet_status_name(r), signet_last_error(w->c));
	if (atomic_fetch_add(&unexpected_total, 1) < 5)
		fprintf(stderr, "signet-soak: client %u: %s: %s: %s\n", w->index, step_names[s],
			signet_status_name(r), signet_last_error(w->c));
}

static void device_free(struct device *d)
{
	EVP_PKEY_free(d->key);
	OPENSSL_free(d->csr);
	free(d->chain_pem);
}

static int issue(signet_client *c, const struct device *d, char **chain_pem)
{
	struct signet_issue_params p = {
		.ca = opt.ca, .profile = "device", .csr = d->csr, .csr_len = (size_t)d->csr_len};
	struct signet_issued *is = NULL;
	int r = signet_sign_csr(c, &p, &is);

	if (r == 0 && chain_pem != NULL) {
		size_t a = strlen(is->cert_pem), b = strlen(is->chain_pem);

		if ((*chain_pem = malloc(a + b + 1)) == NULL)
			r = SIGNET_E_NOMEM;
		else {
			memcpy(*chain_pem, is->cert_pem, a);
			memcpy(*chain_pem + a, is->chain_pem, b + 1);
		}
	}
	signet_issued_free(is);
	return r;
}

static int sign_nonce(signet_client *c, const char *key, uint64_t n)
{
	uint8_t msg[32];
	struct signet_sign_params p = {.key = key, .data = msg, .len = sizeof(msg)};
	struct signet_buf sig = {0};
	int r;

	memset(msg, (int)(n & 0xff), sizeof(msg));
	r = signet_sign(c, &p, &sig, NULL, NULL);
	signet_buf_free(&sig);
	return r;
}

static int possession_round(signet_client *c, const struct device *d)
{
	struct signet_challenge *ch = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[80];
	size_t sig_len = sizeof(sig);
	int r;

	if ((r = signet_create_challenge(c, d->id, NULL, 0, &ch)) != 0)
		goto out;
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, d->key) != 1 ||
	    EVP_DigestSign(md, sig, &sig_len, ch->nonce, ch->nonce_len) != 1) {
		r = SIGNET_E_INTERNAL;
		goto out;
	}
	r = signet_verify_possession(c, ch->id, (const uint8_t *)d->chain_pem, strlen(d->chain_pem),
				     sig, sig_len, SIGNET_SIG_ECDSA_DER, SIGNET_HASH_SHA256, NULL);
out:
	EVP_MD_CTX_free(md);
	signet_challenge_free(ch);
	return r;
}

/* The status a step must end with. */
static int expected(enum step s)
{
	return s == BAD_CSR ? SIGNET_E_INVALID_ARGUMENT : s == BAD_KEY ? SIGNET_E_NOT_FOUND : 0;
}

static int run_step(signet_client *c, struct device *d, enum step s, uint64_t n)
{
	static const uint8_t garbage[] = {0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef};
	struct signet_issue_params bad = {
		.ca = opt.ca, .profile = "device", .csr = garbage, .csr_len = sizeof(garbage)};
	struct signet_issued *is = NULL;
	char *pem = NULL;
	int r;

	switch (s) {
	case NONCE:
		return sign_nonce(c, opt.key, n);
	case CSR:
		return issue(c, d, NULL);
	case CHAIN:
		r = signet_get_ca_chain(c, opt.ca, &pem, NULL);
		signet_free(pem);
		return r;
	case POSSESSION:
		return possession_round(c, d);
	case BAD_CSR:
		r = signet_sign_csr(c, &bad, &is);
		signet_issued_free(is);
		return r;
	case BAD_KEY:
		return sign_nonce(c, "soak-no-such-key", n);
	case VERIFY_CHAIN:
		return signet_verify_chain(c, (const uint8_t *)d->chain_pem, strlen(d->chain_pem),
					   SIGNET_PURPOSE_CLIENT, 1, NULL);
	default:
		return SIGNET_E_INTERNAL;
	}
}

/* The client's device key, CSR and certificate chain, before any step. */
static int soak_start(struct loadgen_worker *w)
{
	struct soaker *k = &soakers[w->index];

	w->own = k;
	snprintf(k->d.id, sizeof(k->d.id), "soak-device-%04u", w->index);
	if (loadgen_make_csr(k->d.id, &k->d.key, &k->d.csr, &k->d.csr_len) != 0)
		return -1;
	return issue(w->c, &k->d, &k->d.chain_pem);
}

/* Step n of the client's rounds; an unexpected answer is counted, not fatal. */
static int soak_call(struct loadgen_worker *w, uint64_t n)
{
	struct soaker *k = w->own;
	enum step s = mix[(n + w->index) % 10];
	int r;

	if ((r = run_step(w->c, &k->d, s, n)) != expected(s))
		note_unexpected(w, s, r);
	k->done[s]++;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: signet-soak --endpoint EP --client NAME --secret-file F --ca CA "
			"--key KEY [--clients N] [--requests N]\n");
	exit(2);
}

static void parse_options(int argc, char **argv)
{
	opt = (struct loadgen_options){.clients = 32, .requests = 1000000};
	if (loadgen_parse(argc, argv, &opt, 0, NULL, NULL) != 0)
		usage();
	if (!opt.endpoint || !opt.client || !opt.secret_file || !opt.ca || !opt.key ||
	    !loadgen_clients_ok(&opt) || opt.requests < 1)
		usage();
}

/* Each client's first unexpected answer, or what kept it from starting. */
static uint64_t report_clients(const struct loadgen_run *run, uint64_t done[N_STEPS])
{
	uint64_t set_up_failures = 0;

	for (unsigned i = 0; i < opt.clients; i++) {
		const char *set_up = run->workers[i].error;

		for (int s = 0; s < N_STEPS; s++)
			done[s] += soakers[i].done[s];
		if (set_up[0] != '\0') {
			fprintf(stderr, "signet-soak: client %u first unexpected: set-up: %s\n", i,
				set_up);
			set_up_failures++;
		} else if (soakers[i].first_error[0] != '\0') {
			fprintf(stderr, "signet-soak: client %u first unexpected: %s\n", i,
				soakers[i].first_error);
		}
	}
	return set_up_failures;
}

int main(int argc, char **argv)
{
	static const struct loadgen_program prog = {.start = soak_start, .call = soak_call};
	struct loadgen_run run;
	uint64_t done[N_STEPS] = {0}, total = 0, unexpected;

	parse_options(argc, argv);
	if ((soakers = calloc(opt.clients, sizeof(*soakers))) == NULL ||
	    loadgen_run(&run, &opt, &prog) != 0)
		return 1;
	unexpected = report_clients(&run, done) + atomic_load(&unexpected_total);
	printf("{\"clients\":%u,", opt.clients);
	for (int s = 0; s < N_STEPS; s++) {
		printf("\"%s\":%llu,", step_names[s], (unsigned long long)done[s]);
		total += done[s];
	}
	printf("\"steps\":%llu,\"unexpected\":%llu}\n", (unsigned long long)total,
	       (unsigned long long)unexpected);
	loadgen_release(&run);
	for (unsigned i = 0; i < opt.clients; i++)
		device_free(&soakers[i].d);
	free(soakers);
	return unexpected == 0 ? 0 : 1;
}
