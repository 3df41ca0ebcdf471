/*
 * What each method acts on, for authorization (authz.h): the CA, parent CA,
 * profile or key a decoded request names, and whether the method is an
 * admin method (CA lifecycle, key deletion, revocation). A method missing
 * here is refused: a new RPC must say what it touches before anyone but an
 * anonymous development caller can use it.
 */
#include <string.h>

#include "rpc/rpc.h"

typedef void (*target_fn)(const ProtobufCMessage *m, struct authz_target *t);

#define REQ(type, m) ((const Signet__V1__##type *)(m))

static void none(const ProtobufCMessage *m, struct authz_target *t)
{
	(void)m;
	(void)t;
}
static void generate_key(const ProtobufCMessage *m, struct authz_target *t)
{
	t->key = REQ(GenerateKeyRequest, m)->name;
}
static void get_public_key(const ProtobufCMessage *m, struct authz_target *t)
{
	t->key = REQ(GetPublicKeyRequest, m)->name;
}
static void delete_key(const ProtobufCMessage *m, struct authz_target *t)
{
	t->key = REQ(DeleteKeyRequest, m)->name;
}
static void create_csr(const ProtobufCMessage *m, struct authz_target *t)
{
	t->key = REQ(CreateCsrRequest, m)->key;
}
static void sign_nonce(const ProtobufCMessage *m, struct authz_target *t)
{
	t->key = REQ(SignNonceRequest, m)->key;
}
static void create_root_ca(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(CreateRootCaRequest, m)->name;
}
static void create_intermediate_ca(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(CreateIntermediateCaRequest, m)->name;
	t->parent = REQ(CreateIntermediateCaRequest, m)->parent;
}
static void get_ca_chain(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(GetCaChainRequest, m)->name;
}
static void verification(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(IssueVerificationCertificateRequest, m)->ca;
}
static void sign_csr(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(SignCsrRequest, m)->ca;
	t->profile = REQ(SignCsrRequest, m)->profile;
}
static void ca_request(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(CreateCaRequestRequest, m)->name;
}
static void ca_import(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(ImportCaCertificateRequest, m)->name;
}
static void renew_ca(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(RenewCaRequest, m)->name;
}
static void rekey_ca(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(RekeyCaRequest, m)->name;
}
/* Listing every CA's records ("") needs a client allowed every CA ("*"). */
static void list_issued(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(ListIssuedRequest, m)->ca;
}
static void revoke(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(RevokeRequest, m)->ca;
}
static void get_crl(const ProtobufCMessage *m, struct authz_target *t)
{
	t->ca = REQ(GetCrlRequest, m)->ca;
}

static const struct {
	const char *method;
	int admin;
	target_fn target;
} targets[] = {
	/* clang-format off */
	{"GetInfo", 0, none},
	{"Health", 0, none},
	{"GenerateKey", 0, generate_key},
	{"GetPublicKey", 0, get_public_key},
	{"ListKeys", 0, none},
	{"DeleteKey", 1, delete_key},
	{"CreateCsr", 0, create_csr},
	{"SignNonce", 0, sign_nonce},
	{"CreateRootCa", 1, create_root_ca},
	{"CreateIntermediateCa", 1, create_intermediate_ca},
	{"GetCaChain", 0, get_ca_chain},
	{"ListCas", 0, none},
	{"IssueVerificationCertificate", 0, verification},
	{"SignCsr", 0, sign_csr},
	{"CreateCaRequest", 1, ca_request},
	{"ImportCaCertificate", 1, ca_import},
	{"RenewCa", 1, renew_ca},
	{"RekeyCa", 1, rekey_ca},
	{"ListIssued", 0, list_issued},
	{"GetIssued", 0, none},
	{"Revoke", 1, revoke},
	{"GetCrl", 0, get_crl},
	{"CreateChallenge", 0, none},
	{"VerifyPossession", 0, none},
	{"VerifyChain", 0, none},
	/* clang-format on */
};

int rpc_target(const char *method, const ProtobufCMessage *request, struct authz_target *t,
	       int *admin)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (strcmp(targets[i].method, method) == 0) {
			targets[i].target(request, t);
			*admin = targets[i].admin;
			return 0;
		}
	return -1;
}
