/* SignCsr and SignCsrBatch: certificates for CSRs, under a profile. */
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

/* --- SignCsrBatch --- */

void signet_batch_result_free(struct signet_batch_result *result)
{
	if (result == NULL)
		return;
	for (size_t i = 0; result->items != NULL && i < result->n_items; i++) {
		free(result->items[i].message);
		free(result->items[i].cert_der);
		free(result->items[i].serial);
	}
	free(result->items);
	free(result->chain_pem);
	free(result);
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* The wire items, pointing into the caller's; ids (a random one for an
 * all-zero id) in ids[16 * n]. */
static int batch_items(signet_client *client, const struct signet_batch_item *items, size_t n,
		       Signet__V1__SignCsrBatchItem *v, Signet__V1__SignCsrBatchItem **ptrs,
		       uint8_t *ids)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct signet_batch_item *it = &items[i];
		Signet__V1__SignCsrBatchItem *w = &v[i];

		if (it->profile == NULL || it->csr == NULL || it->csr_len == 0)
			return client_error(client, SIGNET_E_INVALID_ARGUMENT,
					    "SignCsrBatch: item %zu needs a profile and a CSR", i);
		memcpy(ids + 16 * i, it->request_id, 16);
		if (all_zero(it->request_id, 16) &&
		    (r = client_new_request_id(client, ids + 16 * i)) != 0)
			return r;
		signet__v1__sign_csr_batch_item__init(w);
		w->profile = (char *)it->profile;
		w->csr = (ProtobufCBinaryData){.data = (uint8_t *)it->csr, .len = it->csr_len};
		w->request_id = (ProtobufCBinaryData){.data = ids + 16 * i, .len = 16};
		w->validity_days = it->validity_days;
		if (it->subject != NULL)
			w->subject = (char *)it->subject;
		w->dns_names = (char **)it->dns_names;
		w->n_dns_names = it->n_dns_names;
		w->ip_addresses = (char **)it->ip_addresses;
		w->n_ip_addresses = it->n_ip_addresses;
		w->uris = (char **)it->uris;
		w->n_uris = it->n_uris;
		ptrs[i] = w;
	}
	return 0;
}

static int batch_issued_copy(const Signet__V1__SignCsrBatchResult *res, const uint8_t *id,
			     struct signet_batch_issued *out)
{
	out->status = res->status == 0 ? 0 : wire_err_from_status(res->status);
	memcpy(out->request_id, id, 16);
	if ((out->message = client_strdup(res->message)) == NULL)
		return SIGNET_E_NOMEM;
	if (out->status != 0)
		return 0;
	if (res->certificate_der.len == 0)
		return SIGNET_E_PROTOCOL;
	out->cert_len = res->certificate_der.len;
	out->serial_len = res->serial.len;
	out->not_before = res->not_before;
	out->not_after = res->not_after;
	if ((out->cert_der = client_memdup(res->certificate_der.data, out->cert_len)) == NULL ||
	    (out->serial = client_memdup(res->serial.data, out->serial_len)) == NULL)
		return SIGNET_E_NOMEM;
	return 0;
}

static int batch_result_new(signet_client *client, const Signet__V1__SignCsrBatchResponse *resp,
			    size_t n, const uint8_t *ids, struct signet_batch_result **out)
{
	struct signet_batch_result *res;
	int r = 0;

	if (resp->n_results != n || resp->n_chain_der == 0 || resp->chain_pem[0] == '\0')
		return client_error(client, SIGNET_E_PROTOCOL,
				    "SignCsrBatch reply has %zu results for %zu items, or no chain",
				    resp->n_results, n);
	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (res->items = calloc(n, sizeof(*res->items))) == NULL ||
	    (res->chain_pem = client_strdup(resp->chain_pem)) == NULL)
		r = SIGNET_E_NOMEM;
	if (res != NULL) {
		res->n_items = n;
		res->n_chain = resp->n_chain_der;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = batch_issued_copy(resp->results[i], ids + 16 * i, &res->items[i]);
	if (r != 0) {
		signet_batch_result_free(res);
		return client_error(client, r,
				    r == SIGNET_E_NOMEM ? "out of memory"
							: "SignCsrBatch reply lacks a certificate");
	}
	*out = res;
	return 0;
}

int signet_sign_csr_batch(signet_client *client, const char *ca,
			  const struct signet_batch_item *items, size_t n,
			  struct signet_batch_result **out)
{
	Signet__V1__SignCsrBatchRequest req = SIGNET__V1__SIGN_CSR_BATCH_REQUEST__INIT;
	Signet__V1__SignCsrBatchItem *v = NULL, **ptrs = NULL;
	ProtobufCMessage *msg = NULL;
	uint8_t *ids = NULL;
	int r;

	if (client == NULL || out == NULL || (n > 0 && items == NULL))
		return SIGNET_E_INVALID_ARGUMENT;
	if (ca == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "SignCsrBatch needs a CA");
	/* n == 0 goes to signetd, which says why it is refused */
	if ((v = calloc(n > 0 ? n : 1, sizeof(*v))) == NULL ||
	    (ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs))) == NULL ||
	    (ids = calloc(n > 0 ? n : 1, 16)) == NULL) {
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = batch_items(client, items, n, v, ptrs, ids)) != 0)
		goto out;
	req.ca = (char *)ca;
	req.items = ptrs;
	req.n_items = n;
	if ((r = client_call(client, "SignCsrBatch", &req.base,
			     &signet__v1__sign_csr_batch_response__descriptor, &msg)) != 0)
		goto out;
	r = batch_result_new(client, (const Signet__V1__SignCsrBatchResponse *)msg, n, ids, out);
	protobuf_c_message_free_unpacked(msg, NULL);
out:
	free(ids);
	free(ptrs);
	free(v);
	return r;
}
