/*
 * A test-only PKCS#11 module that stands between signetd and a real module
 * (SoftHSM2) and makes chosen calls fail or stall on command, so the
 * integration tests can pull the token out from under a running daemon.
 *
 * Environment:
 *   SIGNET_FAULTMOD_TARGET   the real module (default SoftHSM2's)
 *   SIGNET_FAULTMOD_CONTROL  a control file, looked at (stat) on every call
 *                            and re-read whenever it changes
 *
 * Control file, one rule a line, '#' starts a comment:
 *   C_Sign CKR_DEVICE_REMOVED          fail every C_Sign
 *   * CKR_TOKEN_NOT_PRESENT count=3    fail the next 3 calls of any function
 *   C_Sign delay_ms=2000               stall C_Sign, then forward it
 *   C_Sign CKR_DEVICE_ERROR after=3    pass the next 3 C_Sign, then fail
 *   * CKR_DEVICE_REMOVED until=reinit  fail every call until the module is
 *                                      finalized and initialized again
 *   renumber                           from the next C_Initialize on, show
 *                                      every slot under a new id (a token
 *                                      that comes back in another slot)
 * "*" matches every function except C_GetFunctionList, C_Initialize,
 * C_Finalize and C_GetInfo, so the module can still be loaded and unloaded.
 * The first rule that matches and has not used up its count applies. An
 * absent or empty file passes every call through. Never for production.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#define FM_DEFAULT_TARGET "/usr/lib/softhsm/libsofthsm2.so"
#define FM_MAX_RULES	  32
#define FM_NAME_MAX	  40

#define FM_EXPORT __attribute__((visibility("default")))

struct fm_rule {
	char fn[FM_NAME_MAX]; /* "C_Sign" or "*" */
	CK_RV rv;	      /* CKR_OK: only delay */
	long delay_ms;
	long count;		/* applications left; -1: unlimited */
	long after;		/* matching calls to pass before it applies */
	unsigned long lapse_at; /* until=reinit: void once fm_inits reaches it; 0: never */
};

static pthread_once_t fm_once = PTHREAD_ONCE_INIT;
static void *fm_dl;
static CK_FUNCTION_LIST *fm_target;

static pthread_mutex_t fm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stat fm_seen; /* of the control file when last read; st_ino 0: absent */
static struct fm_rule fm_rules[FM_MAX_RULES];
static size_t fm_n_rules;
static unsigned long fm_inits;	/* C_Initialize calls the real module accepted */
static int fm_renumber;		/* the control file says "renumber" */
static CK_SLOT_ID fm_slot_mask; /* slot ids shown = the real ones ^ this */

struct fm_code {
	const char *name;
	CK_RV rv;
};

static const struct fm_code fm_codes[] = {
	{"CKR_OK", CKR_OK},
	{"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},
	{"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
	{"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
	{"CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY},
	{"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
	{"CKR_SESSION_CLOSED", CKR_SESSION_CLOSED},
	{"CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID},
	{"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT},
	{"CKR_TOKEN_NOT_RECOGNIZED", CKR_TOKEN_NOT_RECOGNIZED},
	{"CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN},
	{"CKR_PIN_INCORRECT", CKR_PIN_INCORRECT},
	{"CKR_PIN_LOCKED", CKR_PIN_LOCKED},
	{"CKR_KEY_HANDLE_INVALID", CKR_KEY_HANDLE_INVALID},
	{"CKR_OBJECT_HANDLE_INVALID", CKR_OBJECT_HANDLE_INVALID},
	{"CKR_CRYPTOKI_NOT_INITIALIZED", CKR_CRYPTOKI_NOT_INITIALIZED},
	{"CKR_HOST_MEMORY", CKR_HOST_MEMORY},
};

/* A code by name, or as a number ("0x32"). */
static int fm_parse_rv(const char *s, CK_RV *rv)
{
	char *end;
	CK_ULONG v;

	for (size_t i = 0; i < sizeof(fm_codes) / sizeof(fm_codes[0]); i++)
		if (strcmp(s, fm_codes[i].name) == 0) {
			*rv = fm_codes[i].rv;
			return 0;
		}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*rv = (CK_RV)v;
	return 0;
}

/* One line into a rule: 0 done, 1 nothing there, 2 the renumber directive,
 * -1 malformed (ignored, with a message). Under fm_lock. */
static int fm_parse_line(char *line, struct fm_rule *rule)
{
	char *save = NULL, *tok;
	int have_action = 0;

	line[strcspn(line, "#\r\n")] = '\0';
	tok = strtok_r(line, " \t", &save);
	if (tok == NULL)
		return 1;
	if (strcmp(tok, "renumber") == 0)
		return strtok_r(NULL, " \t", &save) == NULL ? 2 : -1;
	if (strlen(tok) >= sizeof(rule->fn))
		return -1;
	memset(rule, 0, sizeof(*rule));
	snprintf(rule->fn, sizeof(rule->fn), "%s", tok);
	rule->count = -1;
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strncmp(tok, "delay_ms=", 9) == 0) {
			rule->delay_ms = strtol(tok + 9, NULL, 10);
			have_action = rule->delay_ms > 0;
		} else if (strncmp(tok, "count=", 6) == 0) {
			rule->count = strtol(tok + 6, NULL, 10);
		} else if (strncmp(tok, "after=", 6) == 0) {
			rule->after = strtol(tok + 6, NULL, 10);
		} else if (strcmp(tok, "until=reinit") == 0) {
			rule->lapse_at = fm_inits + 1;
		} else if (fm_parse_rv(tok, &rule->rv) == 0) {
			have_action = 1;
		} else {
			return -1;
		}
	}
	return have_action ? 0 : -1;
}

/* Under fm_lock: re-read the control file when it is not what we read last. */
static void fm_refresh_locked(void)
{
	const char *path = getenv("SIGNET_FAULTMOD_CONTROL");
	struct stat st;
	char line[256];
	FILE *f;

	if (path == NULL || stat(path, &st) != 0)
		memset(&st, 0, sizeof(st));
	/* A rewrite within one second can keep the mtime's seconds: compare nanoseconds and size
	 * too. */
	if (st.st_ino == fm_seen.st_ino && st.st_size == fm_seen.st_size &&
	    st.st_mtim.tv_sec == fm_seen.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == fm_seen.st_mtim.tv_nsec)
		return;
	fm_seen = st;
	fm_n_rules = 0;
	fm_renumber = 0;
	if (st.st_ino == 0 || (f = fopen(path, "re")) == NULL)
		return;
	while (fm_n_rules < FM_MAX_RULES && fgets(line, sizeof(line), f) != NULL) {
		int r = fm_parse_line(line, &fm_rules[fm_n_rules]);

		if (r == 0)
			fm_n_rules++;
		else if (r == 2)
			fm_renumber = 1;
		else if (r < 0)
			fprintf(stderr, "faultmod: %s: ignoring a malformed rule\n", path);
	}
	fclose(f);
}

/* The four calls a "*" rule leaves alone, so the module still loads and unloads. */
static int fm_exempt(const char *fn)
{
	return strcmp(fn, "C_GetFunctionList") == 0 || strcmp(fn, "C_Initialize") == 0 ||
	       strcmp(fn, "C_Finalize") == 0 || strcmp(fn, "C_GetInfo") == 0;
}

/* What to do about a call of fn: CKR_OK forwards it (after any delay). */
static CK_RV fm_enter(const char *fn)
{
	CK_RV rv = CKR_OK;
	long delay_ms = 0;

	pthread_mutex_lock(&fm_lock);
	fm_refresh_locked();
	for (size_t i = 0; i < fm_n_rules; i++) {
		struct fm_rule *rule = &fm_rules[i];

		if (rule->count == 0 || (rule->lapse_at != 0 && fm_inits >= rule->lapse_at))
			continue;
		if (strcmp(rule->fn, fn) != 0 && !(strcmp(rule->fn, "*") == 0 && !fm_exempt(fn)))
			continue;
		if (rule->after > 0) {
			rule->after--;
			break; /* passed, and no later rule either */
		}
		if (rule->count > 0)
			rule->count--;
		rv = rule->rv;
		delay_ms = rule->delay_ms;
		break;
	}
	pthread_mutex_unlock(&fm_lock);
	if (delay_ms > 0) {
		struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return rv;
}

static void fm_load(void)
{
	const char *path = getenv("SIGNET_FAULTMOD_TARGET");
	CK_C_GetFunctionList get_list;

	if (path == NULL || path[0] == '\0')
		path = FM_DEFAULT_TARGET;
	fm_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (fm_dl == NULL) {
		fprintf(stderr, "faultmod: cannot load %s: %s\n", path, dlerror());
		return;
	}
	*(void **)(&get_list) = dlsym(fm_dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&fm_target) != CKR_OK)
		fm_target = NULL;
}

/* The slot ids the caller sees: the real ones, renumbered since "renumber". */
static CK_SLOT_ID fm_slot_mask_now(void)
{
	CK_SLOT_ID mask;

	pthread_mutex_lock(&fm_lock);
	mask = fm_slot_mask;
	pthread_mutex_unlock(&fm_lock);
	return mask;
}

/* The fault, if any, else the real module's answer in rv. */
#define FM_FORWARD(name, args)                                                                     \
	do {                                                                                       \
		CK_RV rv_ = fm_enter(#name);                                                       \
                                                                                                   \
		if (rv_ != CKR_OK)                                                                 \
			return rv_;                                                                \
		if (fm_target == NULL || fm_target->name == NULL)                                  \
			return CKR_FUNCTION_NOT_SUPPORTED;                                         \
		rv = fm_target->name args;                                                         \
	} while (0)

/*
 * Every call: the fault first, then the real module's function. FM forwards
 * as it is; FM_SLOT first turns the caller's slot_id back into the real one;
 * FM_OWN functions are written out below the list.
 */
#define FM_FUNCTIONS                                                                               \
	FM_OWN(C_Initialize, (void *init_args), (init_args))                                       \
	FM(C_Finalize, (void *reserved), (reserved))                                               \
	FM(C_GetInfo, (CK_INFO * info), (info))                                                    \
	FM_OWN(C_GetSlotList, (CK_BBOOL token_present, CK_SLOT_ID * slot_list, CK_ULONG * count),  \
	       (token_present, slot_list, count))                                                  \
	FM_SLOT(C_GetSlotInfo, (CK_SLOT_ID slot_id, CK_SLOT_INFO * info), (slot_id, info))         \
	FM_SLOT(C_GetTokenInfo, (CK_SLOT_ID slot_id, CK_TOKEN_INFO * info), (slot_id, info))       \
	FM_SLOT(C_GetMechanismList,                                                                \
		(CK_SLOT_ID slot_id, CK_MECHANISM_TYPE * mechanism_list, CK_ULONG * count),        \
		(slot_id, mechanism_list, count))                                                  \
	FM_SLOT(C_GetMechanismInfo,                                                                \
		(CK_SLOT_ID slot_id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO * info),            \
		(slot_id, type, info))                                                             \
	FM_SLOT(C_InitToken,                                                                       \
		(CK_SLOT_ID slot_id, CK_BYTE * pin, CK_ULONG pin_len, CK_BYTE * label),            \
		(slot_id, pin, pin_len, label))                                                    \
	FM(C_InitPIN, (CK_SESSION_HANDLE session, CK_BYTE * pin, CK_ULONG pin_len),                \
	   (session, pin, pin_len))                                                                \
	FM(C_SetPIN,                                                                               \
	   (CK_SESSION_HANDLE session, CK_BYTE * old_pin, CK_ULONG old_len, CK_BYTE * new_pin,     \
	    CK_ULONG new_len),                                                                     \
	   (session, old_pin, old_len, new_pin, new_len))                                          \
	FM_SLOT(C_OpenSession,                                                                     \
		(CK_SLOT_ID slot_id, CK_FLAGS flags, void *application, CK_NOTIFY notify,          \
		 CK_SESSION_HANDLE *session),                                                      \
		(slot_id, flags, application, notify, session))                                    \
	FM(C_CloseSession, (CK_SESSION_HANDLE session), (session))                                 \
	FM_SLOT(C_CloseAllSessions, (CK_SLOT_ID slot_id), (slot_id))                               \
	FM_OWN(C_GetSessionInfo, (CK_SESSION_HANDLE session, CK_SESSION_INFO * info),              \
	       (session, info))                                                                    \
	FM(C_GetOperationState,                                                                    \
	   (CK_SESSION_HANDLE session, CK_BYTE * operation_state, CK_ULONG * operation_state_len), \
	   (session, operation_state, operation_state_len))                                        \
	FM(C_SetOperationState,                                                                    \
	   (CK_SESSION_HANDLE session, CK_BYTE * operation_state, CK_ULONG operation_state_len,    \
	    CK_OBJECT_HANDLE encryption_key, CK_OBJECT_HANDLE authentiation_key),                  \
	   (session, operation_state, operation_state_len, encryption_key, authentiation_key))     \
	FM(C_Login,                                                                                \
	   (CK_SESSION_HANDLE session, CK_USER_TYPE user_type, CK_BYTE * pin, CK_ULONG pin_len),   \
	   (session, user_type, pin, pin_len))                                                     \
	FM(C_Logout, (CK_SESSION_HANDLE session), (session))                                       \
	FM(C_CreateObject,                                                                         \
	   (CK_SESSION_HANDLE session, CK_ATTRIBUTE * templ, CK_ULONG count,                       \
	    CK_OBJECT_HANDLE * object),                                                            \
	   (session, templ, count, object))                                                        \
	FM(C_CopyObject,                                                                           \
	   (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE * templ,              \
	    CK_ULONG count, CK_OBJECT_HANDLE * new_object),                                        \
	   (session, object, templ, count, new_object))                                            \
	FM(C_DestroyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object),                  \
	   (session, object))                                                                      \
	FM(C_GetObjectSize, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ULONG * size), \
	   (session, object, size))                                                                \
	FM(C_GetAttributeValue,                                                                    \
	   (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE * templ,              \
	    CK_ULONG count),                                                                       \
	   (session, object, templ, count))                                                        \
	FM(C_SetAttributeValue,                                                                    \
	   (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE * templ,              \
	    CK_ULONG count),                                                                       \
	   (session, object, templ, count))                                                        \
	FM(C_FindObjectsInit, (CK_SESSION_HANDLE session, CK_ATTRIBUTE * templ, CK_ULONG count),   \
	   (session, templ, count))                                                                \
	FM(C_FindObjects,                                                                          \
	   (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE * object, CK_ULONG max_object_count,       \
	    CK_ULONG * object_count),                                                              \
	   (session, object, max_object_count, object_count))                                      \
	FM(C_FindObjectsFinal, (CK_SESSION_HANDLE session), (session))                             \
	FM(C_EncryptInit,                                                                          \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE key),            \
	   (session, mechanism, key))                                                              \
	FM(C_Encrypt,                                                                              \
	   (CK_SESSION_HANDLE session, CK_BYTE * data, CK_ULONG data_len,                          \
	    CK_BYTE * encrypted_data, CK_ULONG * encrypted_data_len),                              \
	   (session, data, data_len, encrypted_data, encrypted_data_len))                          \
	FM(C_EncryptUpdate,                                                                        \
	   (CK_SESSION_HANDLE session, CK_BYTE * part, CK_ULONG part_len,                          \
	    CK_BYTE * encrypted_part, CK_ULONG * encrypted_part_len),                              \
	   (session, part, part_len, encrypted_part, encrypted_part_len))                          \
	FM(C_EncryptFinal,                                                                         \
	   (CK_SESSION_HANDLE session, CK_BYTE * last_encrypted_part,                              \
	    CK_ULONG * last_encrypted_part_len),                                                   \
	   (session, last_encrypted_part, last_encrypted_part_len))                                \
	FM(C_DecryptInit,                                                                          \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE key),            \
	   (session, mechanism, key))                                                              \
	FM(C_Decrypt,                                                                              \
	   (CK_SESSION_HANDLE session, CK_BYTE * encrypted_data, CK_ULONG encrypted_data_len,      \
	    CK_BYTE * data, CK_ULONG * data_len),                                                  \
	   (session, encrypted_data, encrypted_data_len, data, data_len))                          \
	FM(C_DecryptUpdate,                                                                        \
	   (CK_SESSION_HANDLE session, CK_BYTE * encrypted_part, CK_ULONG encrypted_part_len,      \
	    CK_BYTE * part, CK_ULONG * part_len),                                                  \
	   (session, encrypted_part, encrypted_part_len, part, part_len))                          \
	FM(C_DecryptFinal,                                                                         \
	   (CK_SESSION_HANDLE session, CK_BYTE * last_part, CK_ULONG * last_part_len),             \
	   (session, last_part, last_part_len))                                                    \
	FM(C_DigestInit, (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism),                    \
	   (session, mechanism))                                                                   \
	FM(C_Digest,                                                                               \
	   (CK_SESSION_HANDLE session, CK_BYTE * data, CK_ULONG data_len, CK_BYTE * digest,        \
	    CK_ULONG * digest_len),                                                                \
	   (session, data, data_len, digest, digest_len))                                          \
	FM(C_DigestUpdate, (CK_SESSION_HANDLE session, CK_BYTE * part, CK_ULONG part_len),         \
	   (session, part, part_len))                                                              \
	FM(C_DigestKey, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key), (session, key))         \
	FM(C_DigestFinal, (CK_SESSION_HANDLE session, CK_BYTE * digest, CK_ULONG * digest_len),    \
	   (session, digest, digest_len))                                                          \
	FM(C_SignInit,                                                                             \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE key),            \
	   (session, mechanism, key))                                                              \
	FM(C_Sign,                                                                                 \
	   (CK_SESSION_HANDLE session, CK_BYTE * data, CK_ULONG data_len, CK_BYTE * signature,     \
	    CK_ULONG * signature_len),                                                             \
	   (session, data, data_len, signature, signature_len))                                    \
	FM(C_SignUpdate, (CK_SESSION_HANDLE session, CK_BYTE * part, CK_ULONG part_len),           \
	   (session, part, part_len))                                                              \
	FM(C_SignFinal,                                                                            \
	   (CK_SESSION_HANDLE session, CK_BYTE * signature, CK_ULONG * signature_len),             \
	   (session, signature, signature_len))                                                    \
	FM(C_SignRecoverInit,                                                                      \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE key),            \
	   (session, mechanism, key))                                                              \
	FM(C_SignRecover,                                                                          \
	   (CK_SESSION_HANDLE session, CK_BYTE * data, CK_ULONG data_len, CK_BYTE * signature,     \
	    CK_ULONG * signature_len),                                                             \
	   (session, data, data_len, signature, signature_len))                                    \
	FM(C_VerifyInit,                                                                           \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE key),            \
	   (session, mechanism, key))                                                              \
	FM(C_Verify,                                                                               \
	   (CK_SESSION_HANDLE session, CK_BYTE * data, CK_ULONG data_len, CK_BYTE * signature,     \
	    CK_ULONG signature_len),                                                               \
	   (session, data, data_len, signature, signature_len))                                    \
	FM(C_VerifyUpdate, (CK_SESSION_HANDLE session, CK_BYTE * part, CK_ULONG part_len),         \
	   (session, part, part_len))                                                              \
	FM(C_VerifyFinal,                                                                          \
	   (CK_SESSION_HANDLE session, CK_BYTE * signature, CK_ULONG signature_len),               \
	   (session, signature, signature_len))                                                    \
	FM(C_VerifyRecoverInit,                                                                    \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE key),            \
	   (session, mechanism, key))                                                              \
	FM(C_VerifyRecover,                                                                        \
	   (CK_SESSION_HANDLE session, CK_BYTE * signature, CK_ULONG signature_len,                \
	    CK_BYTE * data, CK_ULONG * data_len),                                                  \
	   (session, signature, signature_len, data, data_len))                                    \
	FM(C_DigestEncryptUpdate,                                                                  \
	   (CK_SESSION_HANDLE session, CK_BYTE * part, CK_ULONG part_len,                          \
	    CK_BYTE * encrypted_part, CK_ULONG * encrypted_part_len),                              \
	   (session, part, part_len, encrypted_part, encrypted_part_len))                          \
	FM(C_DecryptDigestUpdate,                                                                  \
	   (CK_SESSION_HANDLE session, CK_BYTE * encrypted_part, CK_ULONG encrypted_part_len,      \
	    CK_BYTE * part, CK_ULONG * part_len),                                                  \
	   (session, encrypted_part, encrypted_part_len, part, part_len))                          \
	FM(C_SignEncryptUpdate,                                                                    \
	   (CK_SESSION_HANDLE session, CK_BYTE * part, CK_ULONG part_len,                          \
	    CK_BYTE * encrypted_part, CK_ULONG * encrypted_part_len),                              \
	   (session, part, part_len, encrypted_part, encrypted_part_len))                          \
	FM(C_DecryptVerifyUpdate,                                                                  \
	   (CK_SESSION_HANDLE session, CK_BYTE * encrypted_part, CK_ULONG encrypted_part_len,      \
	    CK_BYTE * part, CK_ULONG * part_len),                                                  \
	   (session, encrypted_part, encrypted_part_len, part, part_len))                          \
	FM(C_GenerateKey,                                                                          \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_ATTRIBUTE * templ,             \
	    CK_ULONG count, CK_OBJECT_HANDLE * key),                                               \
	   (session, mechanism, templ, count, key))                                                \
	FM(C_GenerateKeyPair,                                                                      \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism,                                   \
	    CK_ATTRIBUTE * public_key_template, CK_ULONG public_key_attribute_count,               \
	    CK_ATTRIBUTE * private_key_template, CK_ULONG private_key_attribute_count,             \
	    CK_OBJECT_HANDLE * public_key, CK_OBJECT_HANDLE * private_key),                        \
	   (session, mechanism, public_key_template, public_key_attribute_count,                   \
	    private_key_template, private_key_attribute_count, public_key, private_key))           \
	FM(C_WrapKey,                                                                              \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE wrapping_key,    \
	    CK_OBJECT_HANDLE key, CK_BYTE * wrapped_key, CK_ULONG * wrapped_key_len),              \
	   (session, mechanism, wrapping_key, key, wrapped_key, wrapped_key_len))                  \
	FM(C_UnwrapKey,                                                                            \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE unwrapping_key,  \
	    CK_BYTE * wrapped_key, CK_ULONG wrapped_key_len, CK_ATTRIBUTE * templ,                 \
	    CK_ULONG attribute_count, CK_OBJECT_HANDLE * key),                                     \
	   (session, mechanism, unwrapping_key, wrapped_key, wrapped_key_len, templ,               \
	    attribute_count, key))                                                                 \
	FM(C_DeriveKey,                                                                            \
	   (CK_SESSION_HANDLE session, CK_MECHANISM * mechanism, CK_OBJECT_HANDLE base_key,        \
	    CK_ATTRIBUTE * templ, CK_ULONG attribute_count, CK_OBJECT_HANDLE * key),               \
	   (session, mechanism, base_key, templ, attribute_count, key))                            \
	FM(C_SeedRandom, (CK_SESSION_HANDLE session, CK_BYTE * seed, CK_ULONG seed_len),           \
	   (session, seed, seed_len))                                                              \
	FM(C_GenerateRandom,                                                                       \
	   (CK_SESSION_HANDLE session, CK_BYTE * random_data, CK_ULONG random_len),                \
	   (session, random_data, random_len))                                                     \
	FM(C_GetFunctionStatus, (CK_SESSION_HANDLE session), (session))                            \
	FM(C_CancelFunction, (CK_SESSION_HANDLE session), (session))                               \
	FM_OWN(C_WaitForSlotEvent, (CK_FLAGS flags, CK_SLOT_ID * slot, void *reserved),            \
	       (flags, slot, reserved))

#define FM(name, params, args)                                                                     \
	static CK_RV fm_##name params                                                              \
	{                                                                                          \
		CK_RV rv;                                                                          \
                                                                                                   \
		FM_FORWARD(name, args);                                                            \
		return rv;                                                                         \
	}
#define FM_SLOT(name, params, args)                                                                \
	static CK_RV fm_##name params                                                              \
	{                                                                                          \
		CK_RV rv;                                                                          \
                                                                                                   \
		slot_id ^= fm_slot_mask_now();                                                     \
		FM_FORWARD(name, args);                                                            \
		return rv;                                                                         \
	}
#define FM_OWN(name, params, args) static CK_RV fm_##name params;
FM_FUNCTIONS
#undef FM
#undef FM_SLOT
#undef FM_OWN

static CK_RV fm_C_Initialize(void *init_args)
{
	CK_RV rv;

	FM_FORWARD(C_Initialize, (init_args));
	if (rv == CKR_OK) {
		pthread_mutex_lock(&fm_lock);
		fm_refresh_locked(); /* a "renumber" written just before counts */
		fm_inits++;
		if (fm_renumber)
			fm_slot_mask = (CK_SLOT_ID)fm_inits << 20;
		pthread_mutex_unlock(&fm_lock);
	}
	return rv;
}

static CK_RV fm_C_GetSlotList(CK_BBOOL token_present, CK_SLOT_ID *slot_list, CK_ULONG *count)
{
	CK_RV rv;

	FM_FORWARD(C_GetSlotList, (token_present, slot_list, count));
	if (rv == CKR_OK && slot_list != NULL) {
		CK_SLOT_ID mask = fm_slot_mask_now();

		for (CK_ULONG i = 0; i < *count; i++)
			slot_list[i] ^= mask;
	}
	return rv;
}

static CK_RV fm_C_GetSessionInfo(CK_SESSION_HANDLE session, CK_SESSION_INFO *info)
{
	CK_RV rv;

	FM_FORWARD(C_GetSessionInfo, (session, info));
	if (rv == CKR_OK)
		info->slotID ^= fm_slot_mask_now();
	return rv;
}

static CK_RV fm_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved)
{
	CK_RV rv;

	FM_FORWARD(C_WaitForSlotEvent, (flags, slot, reserved));
	if (rv == CKR_OK)
		*slot ^= fm_slot_mask_now();
	return rv;
}

static CK_RV fm_C_GetFunctionList(CK_FUNCTION_LIST **list);

#define FM(name, params, args)	    .name = fm_##name,
#define FM_SLOT(name, params, args) .name = fm_##name,
#define FM_OWN(name, params, args)  .name = fm_##name,
static CK_FUNCTION_LIST fm_list = {.version = {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
				   .C_GetFunctionList = fm_C_GetFunctionList,
				   FM_FUNCTIONS};
#undef FM
#undef FM_SLOT
#undef FM_OWN

static CK_RV fm_C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	pthread_once(&fm_once, fm_load);
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if (fm_target == NULL)
		return CKR_GENERAL_ERROR;
	*list = &fm_list;
	return CKR_OK;
}

/* The one exported symbol. */
FM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list);

FM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	return fm_C_GetFunctionList(list);
}
