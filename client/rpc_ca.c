/* CA RPCs: CreateRootCa, CreateIntermediateCa, GetCaChain, ListCas,
 * IssueVerificationCertificate, and the lifecycle: CreateCaRequest,
 * ImportCaCertificate, RenewCa, RekeyCa. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "reply.h"

/* Release what a ca_info holds, not the struct itself (list entries live in an array). */
static void ca_info_clear(struct signet_ca_info *ca)
{
	free(ca->name);
	free(ca->key);
	free(ca->subject);
	free(ca->parent);
	free(ca->cert_der);
	free(ca->serial);
	for (size_t i = 0; ca->external_chain != NULL && i < ca->n_external_chain; i++)
		signet_buf_free(&ca->external_chain[i]);
	free(ca->external_chain);
	memset(ca, 0, sizeof(*ca));
}

void signet_ca_info_free(struct signet_ca_info *ca)
{
	if (ca == NULL)
		return;
	ca_info_clear(ca);
	free(ca);
}

void signet_ca_list_free(struct signet_ca_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; list->cas != NULL && i < list->n_cas; i++)
		ca_info_clear(&list->cas[i]);
	free(list->cas);
	memset(list, 0, sizeof(*list));
	free(list);
}

static int ca_chain_copy(struct signet_ca_info *ca, const Signet__V1__CaInfo *c)
{
	if (c->n_external_chain_der == 0)
		return 0;
	ca->external_chain = calloc(c->n_external_chain_der, sizeof(*ca->external_chain));
	if (ca->external_chain == NULL)
		return SIGNET_E_NOMEM;
	for (size_t i = 0; i < c->n_external_chain_der; i++) {
		/* Counted first, so that a partial copy is freed too. */
		ca->n_external_chain = i + 1;
		if (client_buf_dup(&ca->external_chain[i], &c->external_chain_der[i]) != 0)
			return SIGNET_E_NOMEM;
	}
	return 0;
}

/* Fill `ca` from the wire; on failure the caller clears what was copied.
 * Every call that returns a CA goes through here. */
static int ca_info_copy(struct signet_ca_info *ca, const Signet__V1__CaInfo *c)
{
	ca->key_generation = c->key_generation;
	ca->not_before = c->not_before;
	ca->not_after = c->not_after;
	ca->path_len_limited = c->path_len_limited ? 1 : 0;
	ca->path_len = c->path_len_limited ? c->path_len : 0;
	if ((ca->name = client_strdup(c->name)) == NULL ||
	    (ca->key = client_strdup(c->key)) == NULL ||
	    (ca->subject = client_strdup(c->subject)) == NULL ||
	    (ca->parent = client_strdup(c->parent)) == NULL ||
	    (ca->cert_der = client_memdup(c->certificate_der.data, c->certificate_der.len)) ==
		    NULL ||
	    (ca->serial = client_memdup(c->serial.data, c->serial.len)) == NULL)
		return SIGNET_E_NOMEM;
	ca->cert_len = c->certificate_der.len;
	ca->serial_len = c->serial.len;
	return ca_chain_copy(ca, c);
}

/* A created CA without its certificate is of no use to the caller. */
static int ca_info_new(signet_client *client, const char *method, const Signet__V1__CaInfo *c,
		       struct signet_ca_info **out)
{
	struct signet_ca_info *ca = NULL;
	int r;

	if (c == NULL || c->certificate_der.len == 0)
		return client_error(client, SIGNET_E_PROTOCOL, "%s reply carries no certificate",
				    method);
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ca_info_copy(ca, c)) != 0) {
		client_error(client, r, "out of memory");
		goto out;
	}
	*out = ca;
	ca = NULL; /* transferred */
out:
	signet_ca_info_free(ca);
	return r;
}

/* -1 is the only negative path_len (no constraint). */
static int ca_check_path_len(signet_client *client, int path_len)
{
	if (path_len < -1)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "path_len %d: use -1 for no pathLen constraint", path_len);
	return 0;
}

/* The wire's pair of fields for a path_len. */
static void ca_path_len(int path_len, protobuf_c_boolean *limited, uint32_t *len)
{
	*limited = path_len >= 0;
	*len = path_len >= 0 ? (uint32_t)path_len : 0;
}

/* What both create calls need. */
static int ca_check_params(signet_client *client, const struct signet_ca_params *p,
			   int intermediate)
{
	if (p->name == NULL || p->subject == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a CA needs a name and a subject");
	if (intermediate && p->parent == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "an intermediate CA needs a parent CA");
	return ca_check_path_len(client, p->path_len);
}

/* The fields both create requests carry, under the same names (not the same numbers). */
#define CA_CREATE_FILL(req, p)                                                                     \
	do {                                                                                       \
		(req).name = (char *)(p)->name;                                                    \
		(req).algorithm = (Signet__V1__KeyAlgorithm)(p)->alg;                              \
		(req).subject = (char *)(p)->subject;                                              \
		(req).validity_days = (p)->validity_days;                                          \
		ca_path_len((p)->path_len, &(req).path_len_limited, &(req).path_len);              \
		(req).hash = (Signet__V1__HashAlgorithm)(p)->hash;                                 \
	} while (0)

/* An RPC whose reply is the CA it made, in its field `ca`, and maybe bytes more. */
struct ca_rpc {
	const char *method;
	const ProtobufCMessageDescriptor *reply;
	const char *extra; /* the reply's bytes field the caller may ask for; NULL: none */
};

static const struct ca_rpc create_root_rpc = {
	"CreateRootCa", &signet__v1__create_root_ca_response__descriptor, NULL};
static const struct ca_rpc create_intermediate_rpc = {
	"CreateIntermediateCa", &signet__v1__create_intermediate_ca_response__descriptor, NULL};
static const struct ca_rpc import_rpc = {
	"ImportCaCertificate", &signet__v1__import_ca_certificate_response__descriptor, NULL};
static const struct ca_rpc renew_rpc = {"RenewCa", &signet__v1__renew_ca_response__descriptor,
					"previous_serial"};
static const struct ca_rpc rekey_rpc = {"RekeyCa", &signet__v1__rekey_ca_response__descriptor,
					"link_certificate_der"};

/* The CA a reply carries and, for RenewCa and RekeyCa, bytes the caller may
 * want (the replaced serial, the link certificate). All outputs or none. */
static int ca_replaced_out(signet_client *client, const char *method, const Signet__V1__CaInfo *c,
			   const ProtobufCBinaryData *extra, struct signet_ca_info **out,
			   struct signet_buf *extra_out)
{
	struct signet_ca_info *ca = NULL;
	struct signet_buf b = {0};
	int r;

	if ((r = ca_info_new(client, method, c, &ca)) != 0)
		return r;
	if (extra_out != NULL && client_buf_dup(&b, extra) != 0) {
		signet_ca_info_free(ca);
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	}
	*out = ca;
	if (extra_out != NULL)
		*extra_out = b;
	return 0;
}

/* Send `req` as `rpc`; the CA replied into *out, its extra bytes into *extra_out (may be NULL). */
static int ca_rpc_call(signet_client *client, const struct ca_rpc *rpc, const ProtobufCMessage *req,
		       struct signet_ca_info **out, struct signet_buf *extra_out)
{
	const ProtobufCBinaryData *extra = NULL;
	ProtobufCMessage *msg = NULL;
	int r;

	if ((r = client_call(client, rpc->method, req, rpc->reply, &msg)) != 0)
		return r;
	if (rpc->extra != NULL)
		extra = reply_field(msg, rpc->extra);
	r = ca_replaced_out(client, rpc->method,
			    *(Signet__V1__CaInfo *const *)reply_field(msg, "ca"), extra, out,
			    rpc->extra != NULL ? extra_out : NULL);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

/* CreateRootCa or CreateIntermediateCa: one request but for the parent. */
static int ca_create(signet_client *client, const struct signet_ca_params *params, int intermediate,
		     struct signet_ca_info **out)
{
	Signet__V1__CreateRootCaRequest root = SIGNET__V1__CREATE_ROOT_CA_REQUEST__INIT;
	Signet__V1__CreateIntermediateCaRequest sub =
		SIGNET__V1__CREATE_INTERMEDIATE_CA_REQUEST__INIT;
	int r;

	if (client == NULL || params == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = ca_check_params(client, params, intermediate)) != 0)
		return r;
	if (!intermediate) {
		CA_CREATE_FILL(root, params);
		return ca_rpc_call(client, &create_root_rpc, &root.base, out, NULL);
	}
	CA_CREATE_FILL(sub, params);
	sub.parent = (char *)params->parent;
	return ca_rpc_call(client, &create_intermediate_rpc, &sub.base, out, NULL);
}

int signet_create_root_ca(signet_client *client, const struct signet_ca_params *params,
			  struct signet_ca_info **out)
{
	return ca_create(client, params, 0, out);
}

int signet_create_intermediate_ca(signet_client *client, const struct signet_ca_params *params,
				  struct signet_ca_info **out)
{
	return ca_create(client, params, 1, out);
}

int signet_get_ca_chain(signet_client *client, const char *name, char **pem_out, size_t *n_certs)
{
	Signet__V1__GetCaChainRequest req = SIGNET__V1__GET_CA_CHAIN_REQUEST__INIT;
	const Signet__V1__GetCaChainResponse *resp;
	ProtobufCMessage *msg = NULL;
	char *pem;
	int r;

	if (client == NULL || pem_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (name == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no CA name given");
	req.name = (char *)name;
	if ((r = client_call(client, "GetCaChain", &req.base,
			     &signet__v1__get_ca_chain_response__descriptor, &msg)) != 0)
		return r;
	resp = (const Signet__V1__GetCaChainResponse *)msg;
	/* A chain holds at least the CA itself. */
	if (resp->n_certificates_der == 0 || resp->pem == NULL || resp->pem[0] == '\0') {
		r = client_error(client, SIGNET_E_PROTOCOL,
				 "GetCaChain reply carries no certificate");
		goto out;
	}
	if ((pem = client_strdup(resp->pem)) == NULL) {
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	*pem_out = pem;
	if (n_certs != NULL)
		*n_certs = resp->n_certificates_der;
out:
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

static int ca_list_from_response(const Signet__V1__ListCasResponse *resp,
				 struct signet_ca_list **out)
{
	struct signet_ca_list *list = calloc(1, sizeof(*list));
	int r = 0;

	if (list == NULL)
		return SIGNET_E_NOMEM;
	if ((list->cas = calloc(resp->n_cas + 1, sizeof(*list->cas))) == NULL) {
		r = SIGNET_E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < resp->n_cas; i++) {
		/* Counted first, so that a partial copy is freed too. */
		list->n_cas = i + 1;
		if ((r = ca_info_copy(&list->cas[i], resp->cas[i])) != 0)
			goto out;
	}
	*out = list;
	list = NULL; /* transferred */
out:
	signet_ca_list_free(list);
	return r;
}

int signet_list_cas(signet_client *client, struct signet_ca_list **out)
{
	Signet__V1__ListCasRequest req = SIGNET__V1__LIST_CAS_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = client_call(client, "ListCas", &req.base,
			     &signet__v1__list_cas_response__descriptor, &msg)) != 0)
		return r;
	if ((r = ca_list_from_response((const Signet__V1__ListCasResponse *)msg, out)) != 0)
		client_error(client, r, "out of memory");
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_issue_verification_certificate(signet_client *client, const char *ca, const char *code,
					  unsigned validity_days, struct signet_buf *der_out,
					  char **pem_out)
{
	Signet__V1__IssueVerificationCertificateRequest req =
		SIGNET__V1__ISSUE_VERIFICATION_CERTIFICATE_REQUEST__INIT;
	const Signet__V1__IssueVerificationCertificateResponse *resp;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || der_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (ca == NULL || code == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a verification certificate needs a CA name and a code");
	req.ca = (char *)ca;
	req.code = (char *)code;
	req.validity_days = validity_days;
	if ((r = client_call(client, "IssueVerificationCertificate", &req.base,
			     &signet__v1__issue_verification_certificate_response__descriptor,
			     &msg)) != 0)
		return r;
	resp = (const Signet__V1__IssueVerificationCertificateResponse *)msg;
	if (resp->certificate_der.len == 0 || resp->certificate_pem == NULL ||
	    resp->certificate_pem[0] == '\0')
		r = client_error(client, SIGNET_E_PROTOCOL,
				 "IssueVerificationCertificate reply carries no certificate");
	/* Both forms or nothing: a registry takes either, and the CLI writes either. */
	else if ((r = client_der_pem_out(&resp->certificate_der, resp->certificate_pem, der_out,
					 pem_out)) != 0)
		client_error(client, r, "out of memory");
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

/* The CLI writes the PEM and reports the key: a reply without either is broken. */
static int ca_request_check(signet_client *client, const Signet__V1__CreateCaRequestResponse *resp)
{
	if (resp->csr_der.len == 0 || resp->csr_pem == NULL || resp->csr_pem[0] == '\0')
		return client_error(client, SIGNET_E_PROTOCOL,
				    "CreateCaRequest reply carries no request");
	if (resp->key == NULL || resp->key[0] == '\0')
		return client_error(client, SIGNET_E_PROTOCOL,
				    "CreateCaRequest reply names no key");
	return 0;
}

static int ca_request_copy_out(const Signet__V1__CreateCaRequestResponse *resp,
			       struct signet_buf *der_out, char **pem_out, char **key_out)
{
	char *key = NULL;

	if (key_out != NULL && (key = client_strdup(resp->key)) == NULL)
		return SIGNET_E_NOMEM;
	if (client_der_pem_out(&resp->csr_der, resp->csr_pem, der_out, pem_out) != 0) {
		free(key);
		return SIGNET_E_NOMEM;
	}
	if (key_out != NULL)
		*key_out = key;
	return 0;
}

int signet_create_ca_request(signet_client *client, const struct signet_ca_request_params *params,
			     struct signet_buf *der_out, char **pem_out, char **key_out)
{
	Signet__V1__CreateCaRequestRequest req = SIGNET__V1__CREATE_CA_REQUEST_REQUEST__INIT;
	const Signet__V1__CreateCaRequestResponse *resp;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || params == NULL || der_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (params->name == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no CA name given");
	if ((r = ca_check_path_len(client, params->path_len)) != 0)
		return r;
	req.name = (char *)params->name;
	req.algorithm = (Signet__V1__KeyAlgorithm)params->alg;
	/* Empty: signetd keeps a held CA's subject (and refuses it for a new CA). */
	req.subject = (char *)(params->subject != NULL ? params->subject : "");
	req.hash = (Signet__V1__HashAlgorithm)params->hash;
	ca_path_len(params->path_len, &req.path_len_limited, &req.path_len);
	if ((r = client_call(client, "CreateCaRequest", &req.base,
			     &signet__v1__create_ca_request_response__descriptor, &msg)) != 0)
		return r;
	resp = (const Signet__V1__CreateCaRequestResponse *)msg;
	if ((r = ca_request_check(client, resp)) == 0 &&
	    (r = ca_request_copy_out(resp, der_out, pem_out, key_out)) != 0)
		client_error(client, r, "out of memory");
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_import_ca_certificate(signet_client *client, const char *name, const uint8_t *cert,
				 size_t cert_len, const uint8_t *chain, size_t chain_len,
				 struct signet_ca_info **out)
{
	Signet__V1__ImportCaCertificateRequest req =
		SIGNET__V1__IMPORT_CA_CERTIFICATE_REQUEST__INIT;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (name == NULL || cert == NULL || cert_len == 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "an import needs a CA name and a certificate");
	if (chain == NULL && chain_len > 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "the chain is NULL but has a length");
	req.name = (char *)name;
	req.certificate.data = (uint8_t *)cert;
	req.certificate.len = cert_len;
	req.chain.data = (uint8_t *)chain;
	req.chain.len = chain_len;
	return ca_rpc_call(client, &import_rpc, &req.base, out, NULL);
}

/* The fields both RenewCaRequest and RekeyCaRequest carry, under the same names. */
#define CA_REPLACE_FILL(req, name_, days, hash_)                                                   \
	do {                                                                                       \
		(req).name = (char *)(name_);                                                      \
		(req).validity_days = (days);                                                      \
		(req).hash = (Signet__V1__HashAlgorithm)(hash_);                                   \
	} while (0)

/* RenewCa or RekeyCa: one request but for the key algorithm, which only a rekey takes. */
static int ca_replace(signet_client *client, const char *name, int rekey, enum signet_key_alg alg,
		      unsigned validity_days, enum signet_hash hash, struct signet_ca_info **out,
		      struct signet_buf *extra_out)
{
	Signet__V1__RenewCaRequest renew = SIGNET__V1__RENEW_CA_REQUEST__INIT;
	Signet__V1__RekeyCaRequest rekey_req = SIGNET__V1__REKEY_CA_REQUEST__INIT;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (name == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no CA name given");
	if (!rekey) {
		CA_REPLACE_FILL(renew, name, validity_days, hash);
		return ca_rpc_call(client, &renew_rpc, &renew.base, out, extra_out);
	}
	CA_REPLACE_FILL(rekey_req, name, validity_days, hash);
	rekey_req.algorithm = (Signet__V1__KeyAlgorithm)alg;
	return ca_rpc_call(client, &rekey_rpc, &rekey_req.base, out, extra_out);
}

int signet_renew_ca(signet_client *client, const char *name, unsigned validity_days,
		    enum signet_hash hash, struct signet_ca_info **out,
		    struct signet_buf *previous_serial)
{
	return ca_replace(client, name, 0, SIGNET_KEY_UNSPECIFIED, validity_days, hash, out,
			  previous_serial);
}

int signet_rekey_ca(signet_client *client, const char *name, enum signet_key_alg alg,
		    unsigned validity_days, enum signet_hash hash, struct signet_ca_info **out,
		    struct signet_buf *link_cert_der)
{
	return ca_replace(client, name, 1, alg, validity_days, hash, out, link_cert_der);
}
