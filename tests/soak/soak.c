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
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <signet/signet.h>

enum step { NONCE, CSR, CHAIN, POSSESSION, BAD_CSR, BAD_KEY, VERIFY_CHAIN, N_STEPS };
static const char *const step_names[N_STEPS] = {"SignNonce", "SignCsr", "GetCaChain", "Possession",
						"BadCsr",    "BadKey",	"VerifyChain"};
/* ten steps a round: four nonces, one of each of the others */
static const enum step mix[10] = {NONCE,      CSR,     NONCE, CHAIN,   NONCE,
				  POSSESSION, BAD_CSR, NONCE, BAD_KEY, VERIFY_CHAIN};

struct options {
	const char *endpoint, *client, *secret_file, *ca, *key;
	unsigned clients;
	uint64_t requests;
};

struct device {
	EVP_PKEY *key;
	char id[32];
	unsigned char *csr;
	int csr_len;
	char *chain_pem; /* the leaf, then its CA chain */
};

struct worker {
	pthread_t thread;
	unsigned index;
	uint64_t done[N_STEPS];
	uint64_t unexpected;
	char first_error[512];
};

static struct options opt;
static atomic_uint_fast64_t handed_out;
static atomic_uint_fast64_t unexpected_total;

static void note_unexpected(struct worker *w, enum step s, int r, signet_client *c)
{
	if (w->unexpected++ == 0)
		snprintf(w->first_error, sizeof(w->first_error), "%s: %s: %s", step_names[s],
			 signet_status_name(r), signet_last_error(c));
	if (atomic_fetch_add(&unexpected_total, 1) < 5)
		fprintf(stderr, "signet-soak: client %u: %s: %s: %s\n", w->index, step_names[s],
			signet_status_name(r), signet_last_error(c));
}

static int device_make(struct device *d, unsigned index)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	int ok;

	snprintf(d->id, sizeof(d->id), "soak-device-%04u", index);
	d->key = EVP_EC_gen("P-256");
	ok = d->key != NULL && req != NULL && name != NULL &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)d->id, -1, -1,
					0) &&
	     X509_REQ_set_subject_name(req, name) && X509_REQ_set_pubkey(req, d->key) &&
	     X509_REQ_sign(req, d->key, EVP_sha256()) > 0 &&
	     (d->csr_len = i2d_X509_REQ(req, &d->csr)) > 0;
	X509_NAME_free(name);
	X509_REQ_free(req);
	return ok ? 0 : -1;
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

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct device d = {.key = NULL};
	signet_client *c = NULL;
	uint64_t n;
	int r;

	if ((r = signet_connect(opt.endpoint, 30000, &c)) != 0 ||
	    (r = signet_load_credential(c, opt.client, opt.secret_file)) != 0 ||
	    (r = device_make(&d, w->index)) != 0 || (r = issue(c, &d, &d.chain_pem)) != 0) {
		w->unexpected++;
		snprintf(w->first_error, sizeof(w->first_error), "set-up: %s: %s",
			 signet_status_name(r), c != NULL ? signet_last_error(c) : "");
		atomic_fetch_add(&unexpected_total, 1);
		goto out;
	}
	while ((n = atomic_fetch_add(&handed_out, 1)) < opt.requests) {
		enum step s = mix[(n + w->index) % 10];

		if ((r = run_step(c, &d, s, n)) != expected(s))
			note_unexpected(w, s, r, c);
		w->done[s]++;
	}
out:
	device_free(&d);
	signet_close(c);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: signet-soak --endpoint EP --client NAME --secret-file F --ca CA "
			"--key KEY [--clients N] [--requests N]\n");
	exit(2);
}

static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {{"endpoint", required_argument, NULL, 'e'},
						 {"client", required_argument, NULL, 'C'},
						 {"secret-file", required_argument, NULL, 'S'},
						 {"ca", required_argument, NULL, 'c'},
						 {"key", required_argument, NULL, 'k'},
						 {"clients", required_argument, NULL, 'n'},
						 {"requests", required_argument, NULL, 'r'},
						 {NULL, 0, NULL, 0}};
	int ch;

	opt = (struct options){.clients = 32, .requests = 1000000};
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			opt.endpoint = optarg;
			break;
		case 'C':
			opt.client = optarg;
			break;
		case 'S':
			opt.secret_file = optarg;
			break;
		case 'c':
			opt.ca = optarg;
			break;
		case 'k':
			opt.key = optarg;
			break;
		case 'n':
			opt.clients = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			opt.requests = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (!opt.endpoint || !opt.client || !opt.secret_file || !opt.ca || !opt.key ||
	    opt.clients < 1 || opt.clients > 1024 || opt.requests < 1)
		usage();
}

int main(int argc, char **argv)
{
	struct worker *w;
	uint64_t done[N_STEPS] = {0}, total = 0;

	parse_options(argc, argv);
	if ((w = calloc(opt.clients, sizeof(*w))) == NULL)
		return 1;
	for (unsigned i = 0; i < opt.clients; i++) {
		w[i].index = i;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			return 1;
	}
	for (unsigned i = 0; i < opt.clients; i++) {
		pthread_join(w[i].thread, NULL);
		for (int s = 0; s < N_STEPS; s++)
			done[s] += w[i].done[s];
		if (w[i].first_error[0] != '\0')
			fprintf(stderr, "signet-soak: client %u first unexpected: %s\n", i,
				w[i].first_error);
	}
	printf("{\"clients\":%u,", opt.clients);
	for (int s = 0; s < N_STEPS; s++) {
		printf("\"%s\":%llu,", step_names[s], (unsigned long long)done[s]);
		total += done[s];
	}
	printf("\"steps\":%llu,\"unexpected\":%llu}\n", (unsigned long long)total,
	       (unsigned long long)atomic_load(&unexpected_total));
	free(w);
	return atomic_load(&unexpected_total) == 0 ? 0 : 1;
}
