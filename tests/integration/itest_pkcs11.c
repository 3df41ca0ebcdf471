/*
 * libsignet-pkcs11 driven directly, for what pkcs11-tool does not show: the
 * length-query convention and CKR_BUFFER_TOO_SMALL, multi-part signing,
 * attribute errors, an unknown mechanism, fork(), and one session held
 * across a restart of signetd, a reload that withdraws the key and signetd
 * gone (pkcs11_tool.sh does those between the lines this program prints
 * and reads).
 *
 *   itest_pkcs11 MODULE CONFIG [--steps]  the checks; with --steps, the restart protocol
 *   itest_pkcs11 MODULE CONFIG --loop     sign until killed
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR f;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "itest_pkcs11:%d: %s: ", __LINE__, #cond);                 \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)
#define CK(call, want)                                                                             \
	do {                                                                                       \
		CK_RV rv_ = (call);                                                                \
		CHECK(rv_ == (CK_RV)(want), "got 0x%lx, wanted 0x%lx", (unsigned long)rv_,         \
		      (unsigned long)(want));                                                      \
	} while (0)

static CK_OBJECT_HANDLE find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label)
{
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
			    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_OBJECT_HANDLE h = 0;
	CK_ULONG n = 0;

	CK(f->C_FindObjectsInit(s, t, 2), CKR_OK);
	CK(f->C_FindObjects(s, &h, 1, &n), CKR_OK);
	CK(f->C_FindObjectsFinal(s), CKR_OK);
	return n == 1 ? h : 0;
}

static CK_SESSION_HANDLE open_session(void)
{
	CK_SLOT_ID slot;
	CK_ULONG n = 1;
	CK_SESSION_HANDLE s;

	CK(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
	CHECK(n == 1, "%lu slots", (unsigned long)n);
	CK(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	return s;
}

/* CKM_ECDSA over a 32-byte digest with key `k`: the return value. */
static CK_RV sign_ecdsa(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, unsigned char sig[64])
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	unsigned char digest[32] = {1, 2, 3};
	CK_ULONG len = 64;
	CK_RV rv;

	if ((rv = f->C_SignInit(s, &m, k)) != CKR_OK)
		return rv;
	return f->C_Sign(s, digest, sizeof(digest), sig, &len);
}

/* The private key's public half, from CKA_PUBLIC_KEY_INFO. */
static EVP_PKEY *public_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k)
{
	unsigned char spki[512];
	const unsigned char *p = spki;
	CK_ATTRIBUTE a = {CKA_PUBLIC_KEY_INFO, spki, sizeof(spki)};

	CK(f->C_GetAttributeValue(s, k, &a, 1), CKR_OK);
	return d2i_PUBKEY(NULL, &p, (long)a.ulValueLen);
}

/* r||s (PKCS#11's ECDSA form) as DER, verified over `digest`. */
static int verify_raw(EVP_PKEY *pub, const unsigned char *digest, size_t dlen,
		      const unsigned char *sig)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	int n, ok;

	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	n = i2d_ECDSA_SIG(es, &der);
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_verify(ctx, der, (size_t)n, digest, dlen) == 1;
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void check_lengths(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, EVP_PKEY *pub)
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	unsigned char digest[32] = {9}, sig[64];
	CK_ULONG len = 0;

	CK(f->C_Sign(s, digest, 32, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
	CK(f->C_SignInit(s, &m, k), CKR_OK);
	CK(f->C_SignInit(s, &m, k), CKR_OPERATION_ACTIVE);
	CK(f->C_Sign(s, digest, 32, NULL, &len), CKR_OK); /* length query */
	CHECK(len == 64, "length query: %lu", (unsigned long)len);
	len = 10;
	CK(f->C_Sign(s, digest, 32, sig, &len), CKR_BUFFER_TOO_SMALL);
	CHECK(len == 64, "too small: %lu", (unsigned long)len);
	len = sizeof(sig); /* the operation is still active after both */
	CK(f->C_Sign(s, digest, 32, sig, &len), CKR_OK);
	CHECK(len == 64 && verify_raw(pub, digest, 32, sig), "CKM_ECDSA signature");
	CK(f->C_Sign(s, digest, 32, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* a digest of no known length ends the operation */
	CK(f->C_SignInit(s, &m, k), CKR_OK);
	len = sizeof(sig);
	CK(f->C_Sign(s, digest, 20, sig, &len), CKR_DATA_LEN_RANGE);
	CK(f->C_Sign(s, digest, 32, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
}

static void check_multipart(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, EVP_PKEY *pub)
{
	CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
	unsigned char sig[64], digest[32];
	CK_ULONG len = 0;

	CK(f->C_SignInit(s, &m, k), CKR_OK);
	CK(f->C_SignUpdate(s, (CK_BYTE_PTR) "hello, ", 7), CKR_OK);
	CK(f->C_SignUpdate(s, (CK_BYTE_PTR) "world", 5), CKR_OK);
	CK(f->C_SignFinal(s, NULL, &len), CKR_OK);
	CHECK(len == 64, "SignFinal length query: %lu", (unsigned long)len);
	CK(f->C_SignFinal(s, sig, &len), CKR_OK);
	EVP_Digest("hello, world", 12, digest, NULL, EVP_sha256(), NULL);
	CHECK(verify_raw(pub, digest, 32, sig), "multi-part CKM_ECDSA_SHA256 signature");
}

static void check_refusals(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k)
{
	CK_MECHANISM md5 = {CKM_MD5_RSA_PKCS, NULL, 0}, rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 20};
	CK_MECHANISM badpss = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
	CK_OBJECT_HANDLE pubk = find(s, CKO_PUBLIC_KEY, "device-1");
	CK_OBJECT_HANDLE rsak = find(s, CKO_PRIVATE_KEY, "device-rsa");
	unsigned char buf[8];

	CK(f->C_SignInit(s, &md5, k), CKR_MECHANISM_INVALID);
	CK(f->C_SignInit(s, &rsa, k), CKR_KEY_TYPE_INCONSISTENT);
	CK(f->C_SignInit(s, &rsa, pubk), CKR_KEY_HANDLE_INVALID);
	CK(f->C_SignInit(s, &rsa, 9999), CKR_KEY_HANDLE_INVALID);
	CHECK(rsak != 0, "no device-rsa");
	CK(f->C_SignInit(s, &badpss, rsak), CKR_MECHANISM_PARAM_INVALID); /* salt != hash length */
	CK(f->C_EncryptInit(s, &rsa, rsak), CKR_FUNCTION_NOT_SUPPORTED);
	CK(f->C_GenerateRandom(s, buf, sizeof(buf)), CKR_RANDOM_NO_RNG);
	CK(f->C_Sign(9999, buf, 1, buf, NULL), CKR_SESSION_HANDLE_INVALID);
	CHECK(find(s, CKO_PRIVATE_KEY, "rogue-1") == 0, "rogue-1 is an object");
	CHECK(find(s, CKO_PRIVATE_KEY, "other-1") == 0, "other-1 is an object");
}

static void check_attributes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k)
{
	CK_BBOOL sens = 0, extr = 1;
	unsigned char small[4], value[64];
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a[] = {{CKA_SENSITIVE, &sens, sizeof(sens)},
			    {CKA_EXTRACTABLE, &extr, sizeof(extr)},
			    {CKA_KEY_TYPE, &kt, sizeof(kt)}};
	CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
	CK_ATTRIBUTE p = {CKA_EC_POINT, small, sizeof(small)};
	CK_ATTRIBUTE q = {CKA_EC_POINT, NULL, 0};

	CK(f->C_GetAttributeValue(s, k, a, 3), CKR_OK);
	CHECK(sens == CK_TRUE && extr == CK_FALSE && kt == CKK_EC, "%d %d %lu", sens, extr,
	      (unsigned long)kt);
	CK(f->C_GetAttributeValue(s, k, &v, 1), CKR_ATTRIBUTE_SENSITIVE);
	CHECK(v.ulValueLen == CK_UNAVAILABLE_INFORMATION, "CKA_VALUE length");
	CK(f->C_GetAttributeValue(s, k, &q, 1), CKR_OK);
	CHECK(q.ulValueLen == 67, "EC_POINT length %lu", (unsigned long)q.ulValueLen);
	CK(f->C_GetAttributeValue(s, k, &p, 1), CKR_BUFFER_TOO_SMALL);
	CHECK(p.ulValueLen == CK_UNAVAILABLE_INFORMATION, "short EC_POINT length");
}

/*
 * A child of fork() must initialise the module again. It can while the
 * parent has no connection open (nanomsg is not fork-safe); after the
 * parent has, C_Initialize says no rather than hang.
 */
static void check_fork(int parent_connected)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	int status;
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		CK_ULONG n = 0;
		CK_SESSION_HANDLE s;
		unsigned char sig[64];

		alarm(20);
		CK(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
		if (parent_connected) {
			CK(f->C_Initialize(&args), CKR_GENERAL_ERROR);
			_exit(0);
		}
		CK(f->C_Initialize(&args), CKR_OK);
		s = open_session();
		CK(sign_ecdsa(s, find(s, CKO_PRIVATE_KEY, "device-1"), sig), CKR_OK);
		CK(f->C_Finalize(NULL), CKR_OK);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child after fork: status %d", status);
}

/* Print STEP, wait for the driving script's line, then sign: want `want`. */
static void step(const char *name, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, CK_RV want)
{
	char line[64];
	unsigned char sig[64];

	printf("%s\n", name);
	fflush(stdout);
	CHECK(fgets(line, sizeof(line), stdin) != NULL, "no answer to %s", name);
	CK(sign_ecdsa(s, k, sig), want);
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	unsigned char sig[64];
	EVP_PKEY *pub;
	void *mod;

	CHECK(argc >= 3, "usage: itest_pkcs11 MODULE CONFIG [--steps|--loop]");
	setenv("SIGNET_PKCS11_CONFIG", argv[2], 1);
	CHECK((mod = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) != NULL, "%s", dlerror());
	*(void **)&get = dlsym(mod, "C_GetFunctionList");
	CHECK(get != NULL, "no C_GetFunctionList");
	CK(get(&f), CKR_OK);
	CK(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_CRYPTOKI_NOT_INITIALIZED);
	CK(f->C_Initialize(&args), CKR_OK);
	CK(f->C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	if (argc == 3)
		check_fork(0); /* before the parent connects */
	s = open_session();
	CHECK((k = find(s, CKO_PRIVATE_KEY, "device-1")) != 0, "no device-1");
	if (argc > 3 && strcmp(argv[3], "--loop") == 0) {
		printf("signing\n");
		fflush(stdout);
		for (;;)
			CK(sign_ecdsa(s, k, sig), CKR_OK);
	}
	CHECK((pub = public_key(s, k)) != NULL, "CKA_PUBLIC_KEY_INFO");
	check_lengths(s, k, pub);
	check_multipart(s, k, pub);
	check_refusals(s, k);
	check_attributes(s, k);
	if (argc == 3)
		check_fork(1);
	CK(sign_ecdsa(s, k, sig), CKR_OK); /* the parent's module still works */
	if (argc > 3 && strcmp(argv[3], "--steps") == 0) {
		step("restart", s, k, CKR_OK);				/* signetd restarted */
		step("withdraw", s, k, CKR_KEY_FUNCTION_NOT_PERMITTED); /* gw's key rule changed */
		step("down", s, k, CKR_DEVICE_ERROR);			/* signetd stopped */
	}
	EVP_PKEY_free(pub);
	CK(f->C_CloseSession(s), CKR_OK);
	CK(f->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
	CK(f->C_Finalize(NULL), CKR_OK);
	CK(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	printf("done\n");
	return 0;
}
