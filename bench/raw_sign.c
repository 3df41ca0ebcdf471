/*
 * The token's own limit: C_Sign (CKM_ECDSA over a 32-byte digest) called
 * straight on the PKCS#11 module, one session per thread, no signetd, no
 * OpenSSL. This is the baseline every signetd figure is divided by.
 *
 *   signet-bench-raw --module SO --token LABEL --key LABEL --pin-file FILE
 *                    [--threads N] [--seconds S]
 *
 * Prints one JSON object on stdout. The PIN is read from FILE and wiped.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "latency.h"

struct options {
	const char *module, *token, *key, *pin_file;
	unsigned threads;
	double seconds;
};

struct worker {
	pthread_t thread;
	CK_SLOT_ID slot;
	const char *key;
	struct latency lat;
	atomic_uint_fast64_t ops;
	CK_RV failed;
};

static CK_FUNCTION_LIST_PTR p11;
static atomic_bool stop_flag, measuring;
static atomic_uint ready;

static void die(const char *what, CK_RV rv)
{
	fprintf(stderr, "signet-bench-raw: %s failed: CKR 0x%lx\n", what, (unsigned long)rv);
	exit(1);
}

static CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
			       {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	CK_RV rv;

	if ((rv = p11->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK)
		die("C_FindObjectsInit", rv);
	if ((rv = p11->C_FindObjects(s, &h, 1, &n)) != CKR_OK)
		die("C_FindObjects", rv);
	p11->C_FindObjectsFinal(s);
	if (n != 1) {
		fprintf(stderr, "signet-bench-raw: no private key labelled '%s'\n", label);
		exit(1);
	}
	return h;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	CK_BYTE digest[32], sig[132];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;

	memset(digest, 0x5a, sizeof(digest));
	if ((w->failed = p11->C_OpenSession(w->slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK)
		return NULL;
	key = find_key(s, w->key);
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&stop_flag)) {
		CK_ULONG siglen = sizeof(sig);
		uint64_t t0 = now_ns();

		if ((w->failed = p11->C_SignInit(s, &mech, key)) != CKR_OK ||
		    (w->failed = p11->C_Sign(s, digest, sizeof(digest), sig, &siglen)) != CKR_OK)
			break;
		if (atomic_load_explicit(&measuring, memory_order_relaxed))
			latency_add(&w->lat, (now_ns() - t0) / 1000);
		digest[atomic_fetch_add_explicit(&w->ops, 1, memory_order_relaxed) % 32]++;
	}
	p11->C_CloseSession(s);
	return NULL;
}

static int token_slot(const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	size_t len = strlen(label);

	if (p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK || len > sizeof(ti.label))
			continue;
		if (memcmp(ti.label, label, len) == 0 &&
		    (len == sizeof(ti.label) || ti.label[len] == ' ')) {
			*out = slots[i];
			return 0;
		}
	}
	return -1;
}

static void login(CK_SLOT_ID slot, const char *pin_file, CK_SESSION_HANDLE *s)
{
	char pin[256];
	FILE *f = fopen(pin_file, "r");
	size_t n;
	CK_RV rv;

	if (f == NULL) {
		fprintf(stderr, "signet-bench-raw: %s: %s\n", pin_file, strerror(errno));
		exit(1);
	}
	n = fread(pin, 1, sizeof(pin) - 1, f);
	fclose(f);
	while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
		n--;
	if ((rv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, s)) != CKR_OK)
		die("C_OpenSession", rv);
	rv = p11->C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)pin, n);
	explicit_bzero(pin, sizeof(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		die("C_Login", rv);
}

static void load_module(const char *path)
{
	CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
	CK_C_GetFunctionList get;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CK_RV rv;

	if (h == NULL) {
		fprintf(stderr, "signet-bench-raw: %s\n", dlerror());
		exit(1);
	}
	get = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
	if (get == NULL || get(&p11) != CKR_OK) {
		fprintf(stderr, "signet-bench-raw: %s is no PKCS#11 module\n", path);
		exit(1);
	}
	if ((rv = p11->C_Initialize(&init)) != CKR_OK)
		die("C_Initialize", rv);
}

static void usage(void)
{
	fprintf(stderr, "usage: signet-bench-raw --module SO --token LABEL --key LABEL "
			"--pin-file FILE [--threads N] [--seconds S]\n");
	exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {{"module", required_argument, NULL, 'm'},
						 {"token", required_argument, NULL, 't'},
						 {"key", required_argument, NULL, 'k'},
						 {"pin-file", required_argument, NULL, 'p'},
						 {"threads", required_argument, NULL, 'n'},
						 {"seconds", required_argument, NULL, 's'},
						 {NULL, 0, NULL, 0}};
	int c;

	*o = (struct options){.threads = 1, .seconds = 5};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->module = optarg;
			break;
		case 't':
			o->token = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'p':
			o->pin_file = optarg;
			break;
		case 'n':
			o->threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->seconds = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (!o->module || !o->token || !o->key || !o->pin_file || o->threads < 1 ||
	    o->threads > 256 || !(o->seconds > 0))
		usage();
}

int main(int argc, char **argv)
{
	struct options o;
	struct worker *w;
	struct latency all;
	CK_SESSION_HANDLE login_session;
	CK_SLOT_ID slot;
	uint64_t t0, t1, ops = 0;

	parse_options(argc, argv, &o);
	load_module(o.module);
	if (token_slot(o.token, &slot) != 0) {
		fprintf(stderr, "signet-bench-raw: no token labelled '%s'\n", o.token);
		return 1;
	}
	login(slot, o.pin_file, &login_session);
	w = calloc(o.threads, sizeof(*w));
	if (w == NULL || latency_init(&all) != 0)
		return 1;
	for (unsigned i = 0; i < o.threads; i++) {
		w[i].slot = slot;
		w[i].key = o.key;
		if (latency_init(&w[i].lat) != 0 ||
		    pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			return 1;
	}
	while (atomic_load(&ready) < o.threads)
		usleep(1000);
	/* count only what completes inside the measured window */
	for (unsigned i = 0; i < o.threads; i++)
		ops -= atomic_load_explicit(&w[i].ops, memory_order_relaxed);
	atomic_store(&measuring, true);
	t0 = now_ns();
	usleep((useconds_t)(o.seconds * 1e6));
	for (unsigned i = 0; i < o.threads; i++)
		ops += atomic_load_explicit(&w[i].ops, memory_order_relaxed);
	t1 = now_ns();
	atomic_store(&measuring, false);
	atomic_store(&stop_flag, true);
	for (unsigned i = 0; i < o.threads; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].failed != CKR_OK)
			die("C_Sign", w[i].failed);
		latency_merge(&all, &w[i].lat);
		latency_free(&w[i].lat);
	}
	printf("{\"threads\":%u,\"seconds\":%.2f,\"ops\":%llu,\"rate\":%.0f,\"p50_us\":%llu,"
	       "\"p99_us\":%llu}\n",
	       o.threads, (double)(t1 - t0) / 1e9, (unsigned long long)ops,
	       (double)ops * 1e9 / (double)(t1 - t0),
	       (unsigned long long)latency_quantile(&all, 0.50),
	       (unsigned long long)latency_quantile(&all, 0.99));
	latency_free(&all);
	free(w);
	p11->C_Logout(login_session);
	p11->C_CloseSession(login_session);
	p11->C_Finalize(NULL);
	return 0;
}
