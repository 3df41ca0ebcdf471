#include "fake_token.h"

#include <stdlib.h>
#include <string.h>

#include "hsm/token_internal.h"

static CK_RV fail_token_info(CK_SLOT_ID s, CK_TOKEN_INFO_PTR i)
{
	(void)s;
	(void)i;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_mech_info(CK_SLOT_ID s, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i)
{
	(void)s;
	(void)t;
	(void)i;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_find_init(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR a, CK_ULONG n)
{
	(void)s;
	(void)a;
	(void)n;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_find(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR o, CK_ULONG m, CK_ULONG_PTR n)
{
	(void)s;
	(void)o;
	(void)m;
	*n = 0;
	return CKR_DEVICE_ERROR;
}

static CK_RV ok_find_final(CK_SESSION_HANDLE s)
{
	(void)s;
	return CKR_OK;
}

static CK_RV fail_generate(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pa,
			   CK_ULONG pn, CK_ATTRIBUTE_PTR qa, CK_ULONG qn, CK_OBJECT_HANDLE_PTR pub,
			   CK_OBJECT_HANDLE_PTR priv)
{
	(void)s, (void)m, (void)pa, (void)pn, (void)qa, (void)qn, (void)pub, (void)priv;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_destroy(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	(void)s;
	(void)o;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR a, CK_ULONG n)
{
	(void)s;
	(void)o;
	(void)a;
	(void)n;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)s;
	(void)m;
	(void)k;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR sig,
		       CK_ULONG_PTR sn)
{
	(void)s;
	(void)d;
	(void)n;
	(void)sig;
	(void)sn;
	return CKR_DEVICE_ERROR;
}

static CK_RV fail_random(CK_SESSION_HANDLE s, CK_BYTE_PTR buf, CK_ULONG n)
{
	(void)s;
	(void)buf;
	(void)n;
	return CKR_DEVICE_ERROR;
}

static CK_FUNCTION_LIST failing = {
	.version = {2, 40},
	.C_GetTokenInfo = fail_token_info,
	.C_GetMechanismInfo = fail_mech_info,
	.C_FindObjectsInit = fail_find_init,
	.C_FindObjects = fail_find,
	.C_FindObjectsFinal = ok_find_final,
	.C_GenerateKeyPair = fail_generate,
	.C_DestroyObject = fail_destroy,
	.C_GetAttributeValue = fail_attr,
	.C_SignInit = fail_sign_init,
	.C_Sign = fail_sign,
	.C_GenerateRandom = fail_random,
};

struct token *fake_token_new(void)
{
	struct token *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->fn = &failing;
	strcpy(t->label, "fake");
	return t;
}
