/* Operations with a private key: CreateCsr and SignNonce. */
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* The request borrows the caller's strings; protobuf-c only reads them. */
static char **csr_strings(const char *const *list)
{
	return (char **)list;
}

static int csr_fill_request(signet_client *client, const struct signet_csr_params *p,
			    Signet__V1__CreateCsrRequest *req)
{
	if (p->key == NULL || p->subject == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a CSR needs a key name and a subject");
	if ((p->n_dns_names > 0 && p->dns_names == NULL) ||
	    (p->n_ip_addresses > 0 && p->ip_addresses == NULL) ||
	    (p->n_uris > 0 && p->uris == NULL) || (p->n_emails > 0 && p->emails == NULL))
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a subject alternative name list is NULL but has entries");
	req->key = (char *)p->key;
	req->subject = (char *)p->subject;
	req->n_dns_names = p->n_dns_names;
	req->dns_names = csr_strings(p->dns_names);
	req->n_ip_addresses = p->n_ip_addresses;
	req->ip_addresses = csr_strings(p->ip_addresses);
	req->n_uris = p->n_uris;
	req->uris = csr_strings(p->uris);
	req->n_emails = p->n_emails;
	req->emails = csr_strings(p->emails);
	req->hash = (Signet__V1__HashAlgorithm)p->hash;
	return 0;
}

int signet_create_csr(signet_client *client, const struct signet_csr_params *params,
		      struct signet_buf *der_out, char **pem_out)
{
	Signet__V1__CreateCsrRequest req = SIGNET__V1__CREATE_CSR_REQUEST__INIT;
	const Signet__V1__CreateCsrResponse *resp;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || params == NULL || der_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = csr_fill_request(client, params, &req)) != 0 ||
	    (r = client_call(client, "CreateCsr", &req.base,
			     &signet__v1__create_csr_response__descriptor, &msg)) != 0)
		return r;
	resp = (const Signet__V1__CreateCsrResponse *)msg;
	if (resp->csr_der.len == 0)
		r = client_error(client, SIGNET_E_PROTOCOL, "CreateCsr reply carries no request");
	else if ((r = client_der_pem_out(&resp->csr_der, resp->csr_pem, der_out, pem_out)) != 0)
		client_error(client, r, "out of memory");
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

static int sign_fill_request(signet_client *client, const struct signet_sign_params *p,
			     Signet__V1__SignNonceRequest *req)
{
	ProtobufCBinaryData input;

	if (p->key == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no key name given");
	if (p->data == NULL && p->len > 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "data is NULL but its length is %zu", p->len);
	input.data = (uint8_t *)p->data;
	input.len = p->len;
	req->key = (char *)p->key;
	if (p->prehashed) {
		req->input_case = SIGNET__V1__SIGN_NONCE_REQUEST__INPUT_DIGEST;
		req->digest = input;
	} else {
		req->input_case = SIGNET__V1__SIGN_NONCE_REQUEST__INPUT_MESSAGE;
		req->message = input;
	}
	req->hash = (Signet__V1__HashAlgorithm)p->hash;
	req->format = (Signet__V1__SignatureFormat)p->format;
	return 0;
}

int signet_sign(signet_client *client, const struct signet_sign_params *params,
		struct signet_buf *sig_out, enum signet_hash *used_hash,
		enum signet_sig_format *used_format)
{
	Signet__V1__SignNonceRequest req = SIGNET__V1__SIGN_NONCE_REQUEST__INIT;
	const Signet__V1__SignNonceResponse *resp;
	ProtobufCMessage *msg = NULL;
	uint8_t *sig;
	int r;

	if (client == NULL || params == NULL || sig_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = sign_fill_request(client, params, &req)) != 0 ||
	    (r = client_call(client, "SignNonce", &req.base,
			     &signet__v1__sign_nonce_response__descriptor, &msg)) != 0)
		return r;
	resp = (const Signet__V1__SignNonceResponse *)msg;
	if (resp->signature.len == 0) {
		r = client_error(client, SIGNET_E_PROTOCOL, "SignNonce reply carries no signature");
		goto out;
	}
	if ((sig = client_memdup(resp->signature.data, resp->signature.len)) == NULL) {
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
		goto out;
	}
	sig_out->data = sig;
	sig_out->len = resp->signature.len;
	if (used_hash != NULL)
		*used_hash = (enum signet_hash)resp->hash;
	if (used_format != NULL)
		*used_format = (enum signet_sig_format)resp->format;
out:
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

static int sign_batch_fill(signet_client *client, const struct signet_sign_batch_params *p,
			   Signet__V1__SignNonceBatchRequest *req, ProtobufCBinaryData *in)
{
	if (p->key == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no key name given");
	if (p->n == 0 || p->n > SIGNET_SIGN_BATCH_MAX)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a batch holds 1 to %d inputs, not %zu", SIGNET_SIGN_BATCH_MAX,
				    p->n);
	if (p->data == NULL || p->lens == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no inputs given");
	for (size_t i = 0; i < p->n; i++) {
		if (p->data[i] == NULL && p->lens[i] > 0)
			return client_error(client, SIGNET_E_INVALID_ARGUMENT,
					    "input %zu is NULL but its length is %zu", i,
					    p->lens[i]);
		in[i].data = (uint8_t *)p->data[i];
		in[i].len = p->lens[i];
	}
	req->key = (char *)p->key;
	if (p->prehashed) {
		req->digests = in;
		req->n_digests = p->n;
	} else {
		req->messages = in;
		req->n_messages = p->n;
	}
	req->hash = (Signet__V1__HashAlgorithm)p->hash;
	req->format = (Signet__V1__SignatureFormat)p->format;
	return 0;
}

/* The reply's signatures copied out, all or none. */
static int sign_batch_take(signet_client *client, const Signet__V1__SignNonceBatchResponse *resp,
			   size_t n, struct signet_buf *sigs)
{
	size_t i;

	if (resp->n_signatures != n)
		return client_error(client, SIGNET_E_PROTOCOL,
				    "SignNonceBatch reply carries %zu signatures for %zu inputs",
				    resp->n_signatures, n);
	for (i = 0; i < n; i++) {
		if (resp->signatures[i].len == 0 ||
		    (sigs[i].data = client_memdup(resp->signatures[i].data,
						  resp->signatures[i].len)) == NULL)
			break;
		sigs[i].len = resp->signatures[i].len;
	}
	if (i == n)
		return 0;
	while (i-- > 0)
		signet_buf_free(&sigs[i]);
	return client_error(client,
			    resp->signatures[i].len == 0 ? SIGNET_E_PROTOCOL : SIGNET_E_NOMEM,
			    "SignNonceBatch: a signature is empty or out of memory");
}

int signet_sign_batch(signet_client *client, const struct signet_sign_batch_params *params,
		      struct signet_buf *sigs_out, enum signet_hash *used_hash,
		      enum signet_sig_format *used_format)
{
	Signet__V1__SignNonceBatchRequest req = SIGNET__V1__SIGN_NONCE_BATCH_REQUEST__INIT;
	const Signet__V1__SignNonceBatchResponse *resp;
	ProtobufCBinaryData *in = NULL;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || params == NULL || sigs_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (params->n > 0 && params->n <= SIGNET_SIGN_BATCH_MAX &&
	    (in = calloc(params->n, sizeof(*in))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	if ((r = sign_batch_fill(client, params, &req, in)) != 0 ||
	    (r = client_call(client, "SignNonceBatch", &req.base,
			     &signet__v1__sign_nonce_batch_response__descriptor, &msg)) != 0)
		goto out;
	resp = (const Signet__V1__SignNonceBatchResponse *)msg;
	if ((r = sign_batch_take(client, resp, params->n, sigs_out)) != 0)
		goto out;
	if (used_hash != NULL)
		*used_hash = (enum signet_hash)resp->hash;
	if (used_format != NULL)
		*used_format = (enum signet_sig_format)resp->format;
out:
	protobuf_c_message_free_unpacked(msg, NULL);
	free(in);
	return r;
}
