/* CA RPCs: CreateRootCa, CreateIntermediateCa, GetCaChain, ListCas,
 * IssueVerificationCertificate. */
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Release what a ca_info holds, not the struct itself (list entries live in an array). */
static void ca_info_clear(struct signet_ca_info *ca)
{
	free(ca->name);
	free(ca->key);
	free(ca->subject);
	free(ca->parent);
	free(ca->cert_der);
	free(ca->serial);
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

/* Fill `ca` from the wire; on failure the caller clears what was copied. */
static int ca_info_copy(struct signet_ca_info *ca, const Signet__V1__CaInfo *c)
{
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
	return 0;
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

/* What both create calls need; -1 is the only negative path_len (no constraint). */
static int ca_check_params(signet_client *client, const struct signet_ca_params *p,
			   int intermediate)
{
	if (p->name == NULL || p->subject == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a CA needs a name and a subject");
	if (intermediate && p->parent == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "an intermediate CA needs a parent CA");
	if (p->path_len < -1)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "path_len %d: use -1 for no pathLen constraint", p->path_len);
	return 0;
}

int signet_create_root_ca(signet_client *client, const struct signet_ca_params *params,
			  struct signet_ca_info **out)
{
	Signet__V1__CreateRootCaRequest req = SIGNET__V1__CREATE_ROOT_CA_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || params == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = ca_check_params(client, params, 0)) != 0)
		return r;
	req.name = (char *)params->name;
	req.algorithm = (Signet__V1__KeyAlgorithm)params->alg;
	req.subject = (char *)params->subject;
	req.validity_days = params->validity_days;
	req.path_len_limited = params->path_len >= 0;
	req.path_len = params->path_len >= 0 ? (uint32_t)params->path_len : 0;
	req.hash = (Signet__V1__HashAlgorithm)params->hash;
	if ((r = client_call(client, "CreateRootCa", &req.base,
			     &signet__v1__create_root_ca_response__descriptor, &msg)) != 0)
		return r;
	r = ca_info_new(client, "CreateRootCa", ((const Signet__V1__CreateRootCaResponse *)msg)->ca,
			out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_create_intermediate_ca(signet_client *client, const struct signet_ca_params *params,
				  struct signet_ca_info **out)
{
	Signet__V1__CreateIntermediateCaRequest req =
		SIGNET__V1__CREATE_INTERMEDIATE_CA_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || params == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = ca_check_params(client, params, 1)) != 0)
		return r;
	req.name = (char *)params->name;
	req.parent = (char *)params->parent;
	req.algorithm = (Signet__V1__KeyAlgorithm)params->alg;
	req.subject = (char *)params->subject;
	req.validity_days = params->validity_days;
	req.path_len_limited = params->path_len >= 0;
	req.path_len = params->path_len >= 0 ? (uint32_t)params->path_len : 0;
	req.hash = (Signet__V1__HashAlgorithm)params->hash;
	if ((r = client_call(client, "CreateIntermediateCa", &req.base,
			     &signet__v1__create_intermediate_ca_response__descriptor, &msg)) != 0)
		return r;
	r = ca_info_new(client, "CreateIntermediateCa",
			((const Signet__V1__CreateIntermediateCaResponse *)msg)->ca, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
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

/* Both forms or nothing: a registry takes either, and the CLI writes either. */
static int verification_copy_out(const Signet__V1__IssueVerificationCertificateResponse *resp,
				 struct signet_buf *der_out, char **pem_out)
{
	uint8_t *der = client_memdup(resp->certificate_der.data, resp->certificate_der.len);
	char *pem = NULL;

	if (der == NULL ||
	    (pem_out != NULL && (pem = client_strdup(resp->certificate_pem)) == NULL)) {
		free(der);
		return SIGNET_E_NOMEM;
	}
	der_out->data = der;
	der_out->len = resp->certificate_der.len;
	if (pem_out != NULL)
		*pem_out = pem;
	return 0;
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
	else if ((r = verification_copy_out(resp, der_out, pem_out)) != 0)
		client_error(client, r, "out of memory");
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
