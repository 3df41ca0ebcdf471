/* SignCsr: certificates for CSRs, under a profile. */
#include <stdlib.h>
#include <string.h>

#include "client.h"

void signet_issued_free(struct signet_issued *issued)
{
	if (issued == NULL)
		return;
	free(issued->cert_der);
	free(issued->cert_pem);
	free(issued->chain_pem);
	free(issued->serial);
	free(issued);
}

static int issued_copy(const Signet__V1__SignCsrResponse *resp, struct signet_issued *is)
{
	is->cert_len = resp->certificate_der.len;
	is->serial_len = resp->serial.len;
	is->n_chain = resp->n_chain_der;
	is->not_before = resp->not_before;
	is->not_after = resp->not_after;
	if ((is->cert_der = client_memdup(resp->certificate_der.data, is->cert_len)) == NULL ||
	    (is->cert_pem = client_strdup(resp->certificate_pem)) == NULL ||
	    (is->chain_pem = client_strdup(resp->chain_pem)) == NULL ||
	    (is->serial = client_memdup(resp->serial.data, is->serial_len)) == NULL)
		return SIGNET_E_NOMEM;
	return 0;
}

static int issued_new(signet_client *client, const Signet__V1__SignCsrResponse *resp,
		      struct signet_issued **out)
{
	struct signet_issued *is;
	int r;

	if (resp->certificate_der.len == 0 || resp->certificate_pem[0] == '\0' ||
	    resp->n_chain_der == 0 || resp->chain_pem[0] == '\0')
		return client_error(client, SIGNET_E_PROTOCOL,
				    "SignCsr reply lacks the certificate or its chain");
	if ((is = calloc(1, sizeof(*is))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	if ((r = issued_copy(resp, is)) != 0) {
		signet_issued_free(is);
		return client_error(client, r, "out of memory");
	}
	*out = is;
	return 0;
}

int signet_sign_csr(signet_client *client, const struct signet_issue_params *params,
		    struct signet_issued **out)
{
	Signet__V1__SignCsrRequest req = SIGNET__V1__SIGN_CSR_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || params == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (params->ca == NULL || params->profile == NULL || params->csr == NULL ||
	    params->csr_len == 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "SignCsr needs a CA, a profile and a CSR");
	req.ca = (char *)params->ca;
	req.profile = (char *)params->profile;
	req.csr.data = (uint8_t *)params->csr;
	req.csr.len = params->csr_len;
	req.validity_days = params->validity_days;
	if (params->subject != NULL)
		req.subject = (char *)params->subject;
	req.dns_names = (char **)params->dns_names;
	req.n_dns_names = params->n_dns_names;
	req.ip_addresses = (char **)params->ip_addresses;
	req.n_ip_addresses = params->n_ip_addresses;
	req.uris = (char **)params->uris;
	req.n_uris = params->n_uris;
	if ((r = client_call(client, "SignCsr", &req.base,
			     &signet__v1__sign_csr_response__descriptor, &msg)) != 0)
		return r;
	r = issued_new(client, (const Signet__V1__SignCsrResponse *)msg, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
