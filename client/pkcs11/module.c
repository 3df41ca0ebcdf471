/*
 * libsignet-pkcs11's entry: C_GetFunctionList, C_Initialize/C_Finalize,
 * module, slot, token and mechanism information, and the functions a
 * signing-only token does not have.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p11.h"

struct p11_module p11_mod;
/* Held for reading by every call, for writing by C_Initialize/C_Finalize. */
static pthread_rwlock_t module_lock = PTHREAD_RWLOCK_INITIALIZER;

static void module_pad(unsigned char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, len < n ? len : n);
}

CK_RV p11_enter(void)
{
	/* a child of fork(): the parent's sockets and threads are not its own */
	if (p11_mod.pid != getpid())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	pthread_rwlock_rdlock(&module_lock);
	if (!p11_mod.initialized) {
		pthread_rwlock_unlock(&module_lock);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	return CKR_OK;
}

void p11_leave(void)
{
	pthread_rwlock_unlock(&module_lock);
}

/*
 * Only OS locking: callers that pass their own mutex functions without
 * CKF_OS_LOCKING_OK are refused (CKR_CANT_LOCK), as PKCS#11 allows.
 */
static CK_RV module_check_args(const CK_C_INITIALIZE_ARGS *a)
{
	int fns;

	if (a == NULL)
		return CKR_OK;
	if (a->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	fns = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) + (a->LockMutex != NULL) +
	      (a->UnlockMutex != NULL);
	if (fns != 0 && fns != 4)
		return CKR_ARGUMENTS_BAD;
	if (fns == 4 && !(a->flags & CKF_OS_LOCKING_OK))
		return CKR_CANT_LOCK;
	return CKR_OK;
}

CK_RV C_Initialize(CK_VOID_PTR args)
{
	char err[256] = "";
	CK_RV rv;

	if ((rv = module_check_args(args)) != CKR_OK)
		return rv;
	if (p11_mod.initialized && p11_mod.pid != getpid()) {
		/*
		 * A child after fork(). nanomsg is not fork-safe: its worker thread
		 * stayed in the parent, so while the parent had sockets open a
		 * socket here would hang. Without any, nanomsg starts afresh here.
		 * The parent's state is abandoned (a leak, not a double close), and
		 * its lock, which another thread may have held at the fork, renewed.
		 */
		if (p11_slot_live_clients() > 0) {
			p11_log("fork() with %u connections to signetd open: C_Finalize before "
				"fork(), or load the module in the child only",
				p11_slot_live_clients());
			return CKR_GENERAL_ERROR;
		}
		memset(&p11_mod, 0, sizeof(p11_mod));
		pthread_rwlock_init(&module_lock, NULL);
	}
	pthread_rwlock_wrlock(&module_lock);
	if (p11_mod.initialized) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	if ((rv = p11_config_load(NULL, &p11_mod.cfg, err, sizeof(err))) != CKR_OK) {
		p11_log("configuration: %s", err);
		rv = rv == CKR_HOST_MEMORY ? rv : CKR_GENERAL_ERROR;
		goto out;
	}
	p11_slots_init(&p11_mod.cfg, p11_mod.slots, &p11_mod.n_slots);
	pthread_mutex_init(&p11_mod.table_lock, NULL);
	p11_mod.pid = getpid();
	p11_mod.initialized = 1;
out:
	pthread_rwlock_unlock(&module_lock);
	return rv;
}

CK_RV C_Finalize(CK_VOID_PTR reserved)
{
	CK_RV rv = CKR_OK;

	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	if (p11_mod.pid != getpid())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	pthread_rwlock_wrlock(&module_lock);
	if (!p11_mod.initialized) {
		rv = CKR_CRYPTOKI_NOT_INITIALIZED;
	} else {
		p11_sessions_free();
		p11_slots_free(p11_mod.slots, p11_mod.n_slots);
		p11_config_free(&p11_mod.cfg);
		pthread_mutex_destroy(&p11_mod.table_lock);
		memset(&p11_mod, 0, sizeof(p11_mod));
		p11_mod.pid = getpid(); /* initialisable again in this process */
	}
	pthread_rwlock_unlock(&module_lock);
	return rv;
}

CK_RV C_GetInfo(CK_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if (info == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		memset(info, 0, sizeof(*info));
		info->cryptokiVersion.major = 2;
		info->cryptokiVersion.minor = 40;
		module_pad(info->manufacturerID, sizeof(info->manufacturerID), "signet");
		module_pad(info->libraryDescription, sizeof(info->libraryDescription),
			   "signetd keys over libsignet");
		info->libraryVersion.major = 0;
		info->libraryVersion.minor = 1;
	}
	p11_leave();
	return rv;
}

CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv;

	(void)present; /* a slot's token (signetd) is always there; a call says if it answers */
	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if (count == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (list != NULL && *count < p11_mod.n_slots)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (list != NULL)
		for (size_t i = 0; i < p11_mod.n_slots; i++)
			list[i] = p11_mod.slots[i].id;
	if (count != NULL)
		*count = p11_mod.n_slots;
	p11_leave();
	return rv;
}

static struct p11_slot *module_slot(CK_SLOT_ID id)
{
	return id < p11_mod.n_slots ? &p11_mod.slots[id] : NULL;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
	struct p11_slot *slot;
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if ((slot = module_slot(id)) == NULL) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (info == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		memset(info, 0, sizeof(*info));
		module_pad(info->slotDescription, sizeof(info->slotDescription), slot->endpoint);
		module_pad(info->manufacturerID, sizeof(info->manufacturerID), "signet");
		info->flags = CKF_TOKEN_PRESENT | CKF_HW_SLOT;
	}
	p11_leave();
	return rv;
}

CK_RV C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
	struct p11_slot *slot;
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if ((slot = module_slot(id)) == NULL) {
		rv = CKR_SLOT_ID_INVALID;
	} else if (info == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		memset(info, 0, sizeof(*info));
		memcpy(info->label, slot->label, sizeof(info->label));
		module_pad(info->manufacturerID, sizeof(info->manufacturerID), "signet");
		module_pad(info->model, sizeof(info->model), "signetd");
		module_pad(info->serialNumber, sizeof(info->serialNumber), slot->serial);
		/* no CKF_LOGIN_REQUIRED: the client credential is in the config, not a PIN */
		info->flags = CKF_TOKEN_INITIALIZED;
		info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
		info->ulSessionCount = CK_UNAVAILABLE_INFORMATION;
		info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
		info->ulRwSessionCount = CK_UNAVAILABLE_INFORMATION;
		info->ulMaxPinLen = 0;
		info->ulMinPinLen = 0;
		info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
		info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
		info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
		info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
		info->hardwareVersion.major = 0;
		info->firmwareVersion.major = 0;
		module_pad(info->utcTime, sizeof(info->utcTime), "");
	}
	p11_leave();
	return rv;
}

CK_RV C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if (module_slot(id) == NULL)
		rv = CKR_SLOT_ID_INVALID;
	else if (count == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_mech_list(list, count);
	p11_leave();
	return rv;
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	CK_RV rv;

	if ((rv = p11_enter()) != CKR_OK)
		return rv;
	if (module_slot(id) == NULL)
		rv = CKR_SLOT_ID_INVALID;
	else if (info == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_mech_info(type, info);
	p11_leave();
	return rv;
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
	(void)h;
	return CKR_FUNCTION_NOT_PARALLEL; /* what PKCS#11 2.40 says legacy functions return */
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE h)
{
	(void)h;
	return CKR_FUNCTION_NOT_PARALLEL;
}

/*
 * What a token of signetd keys cannot do: create, change or destroy objects
 * (keys are managed through signetd), encrypt, decrypt, verify, digest,
 * derive, PINs. All answer CKR_FUNCTION_NOT_SUPPORTED.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define UNSUPPORTED(name, args)                                                                    \
	CK_RV name args                                                                            \
	{                                                                                          \
		return CKR_FUNCTION_NOT_SUPPORTED;                                                 \
	}
UNSUPPORTED(C_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d))
UNSUPPORTED(C_InitPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c))
UNSUPPORTED(C_SetPIN,
	    (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d, CK_ULONG e))
UNSUPPORTED(C_GetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
UNSUPPORTED(C_SetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c,
				  CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e))
UNSUPPORTED(C_CreateObject,
	    (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE_PTR d))
UNSUPPORTED(C_CopyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d,
			   CK_OBJECT_HANDLE_PTR e))
UNSUPPORTED(C_DestroyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b))
UNSUPPORTED(C_SetAttributeValue,
	    (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d))
UNSUPPORTED(C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
UNSUPPORTED(C_Encrypt,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_EncryptUpdate,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_EncryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
UNSUPPORTED(C_DecryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
UNSUPPORTED(C_Decrypt,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_DecryptUpdate,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_DecryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
UNSUPPORTED(C_DigestInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b))
UNSUPPORTED(C_Digest,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_DigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
UNSUPPORTED(C_DigestKey, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b))
UNSUPPORTED(C_DigestFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c))
UNSUPPORTED(C_SignRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
UNSUPPORTED(C_SignRecover,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_VerifyInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
UNSUPPORTED(C_Verify, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e))
UNSUPPORTED(C_VerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
UNSUPPORTED(C_VerifyFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c))
UNSUPPORTED(C_VerifyRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c))
UNSUPPORTED(C_VerifyRecover,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_DigestEncryptUpdate,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_DecryptDigestUpdate,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_SignEncryptUpdate,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_DecryptVerifyUpdate,
	    (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e))
UNSUPPORTED(C_GenerateKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d,
			    CK_OBJECT_HANDLE_PTR e))
UNSUPPORTED(C_GenerateKeyPair,
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d,
	     CK_ATTRIBUTE_PTR e, CK_ULONG f, CK_OBJECT_HANDLE_PTR g, CK_OBJECT_HANDLE_PTR h))
UNSUPPORTED(C_WrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,
			CK_OBJECT_HANDLE d, CK_BYTE_PTR e, CK_ULONG_PTR f))
UNSUPPORTED(C_UnwrapKey,
	    (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_BYTE_PTR d, CK_ULONG e,
	     CK_ATTRIBUTE_PTR f, CK_ULONG g, CK_OBJECT_HANDLE_PTR h))
UNSUPPORTED(C_DeriveKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,
			  CK_ATTRIBUTE_PTR d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f))
UNSUPPORTED(C_WaitForSlotEvent, (CK_FLAGS a, CK_SLOT_ID_PTR b, CK_VOID_PTR c))

/* The token has no random number generator (no CKF_RNG): the code that says so. */
CK_RV C_SeedRandom(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
{
	return CKR_RANDOM_NO_RNG;
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
{
	return CKR_RANDOM_NO_RNG;
}
#pragma GCC diagnostic pop

static CK_FUNCTION_LIST module_functions = {
	.version = {2, 40},
	.C_Initialize = C_Initialize,
	.C_Finalize = C_Finalize,
	.C_GetInfo = C_GetInfo,
	.C_GetFunctionList = C_GetFunctionList,
	.C_GetSlotList = C_GetSlotList,
	.C_GetSlotInfo = C_GetSlotInfo,
	.C_GetTokenInfo = C_GetTokenInfo,
	.C_GetMechanismList = C_GetMechanismList,
	.C_GetMechanismInfo = C_GetMechanismInfo,
	.C_InitToken = C_InitToken,
	.C_InitPIN = C_InitPIN,
	.C_SetPIN = C_SetPIN,
	.C_OpenSession = C_OpenSession,
	.C_CloseSession = C_CloseSession,
	.C_CloseAllSessions = C_CloseAllSessions,
	.C_GetSessionInfo = C_GetSessionInfo,
	.C_GetOperationState = C_GetOperationState,
	.C_SetOperationState = C_SetOperationState,
	.C_Login = C_Login,
	.C_Logout = C_Logout,
	.C_CreateObject = C_CreateObject,
	.C_CopyObject = C_CopyObject,
	.C_DestroyObject = C_DestroyObject,
	.C_GetObjectSize = C_GetObjectSize,
	.C_GetAttributeValue = C_GetAttributeValue,
	.C_SetAttributeValue = C_SetAttributeValue,
	.C_FindObjectsInit = C_FindObjectsInit,
	.C_FindObjects = C_FindObjects,
	.C_FindObjectsFinal = C_FindObjectsFinal,
	.C_EncryptInit = C_EncryptInit,
	.C_Encrypt = C_Encrypt,
	.C_EncryptUpdate = C_EncryptUpdate,
	.C_EncryptFinal = C_EncryptFinal,
	.C_DecryptInit = C_DecryptInit,
	.C_Decrypt = C_Decrypt,
	.C_DecryptUpdate = C_DecryptUpdate,
	.C_DecryptFinal = C_DecryptFinal,
	.C_DigestInit = C_DigestInit,
	.C_Digest = C_Digest,
	.C_DigestUpdate = C_DigestUpdate,
	.C_DigestKey = C_DigestKey,
	.C_DigestFinal = C_DigestFinal,
	.C_SignInit = C_SignInit,
	.C_Sign = C_Sign,
	.C_SignUpdate = C_SignUpdate,
	.C_SignFinal = C_SignFinal,
	.C_SignRecoverInit = C_SignRecoverInit,
	.C_SignRecover = C_SignRecover,
	.C_VerifyInit = C_VerifyInit,
	.C_Verify = C_Verify,
	.C_VerifyUpdate = C_VerifyUpdate,
	.C_VerifyFinal = C_VerifyFinal,
	.C_VerifyRecoverInit = C_VerifyRecoverInit,
	.C_VerifyRecover = C_VerifyRecover,
	.C_DigestEncryptUpdate = C_DigestEncryptUpdate,
	.C_DecryptDigestUpdate = C_DecryptDigestUpdate,
	.C_SignEncryptUpdate = C_SignEncryptUpdate,
	.C_DecryptVerifyUpdate = C_DecryptVerifyUpdate,
	.C_GenerateKey = C_GenerateKey,
	.C_GenerateKeyPair = C_GenerateKeyPair,
	.C_WrapKey = C_WrapKey,
	.C_UnwrapKey = C_UnwrapKey,
	.C_DeriveKey = C_DeriveKey,
	.C_SeedRandom = C_SeedRandom,
	.C_GenerateRandom = C_GenerateRandom,
	.C_GetFunctionStatus = C_GetFunctionStatus,
	.C_CancelFunction = C_CancelFunction,
	.C_WaitForSlotEvent = C_WaitForSlotEvent,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	*list = &module_functions;
	return CKR_OK;
}
