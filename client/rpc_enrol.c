/* Enrolment front ends (SCEP): GetEnrolmentCaCerts, ScepOperation, CreateEnrolmentCode. */
#include <stdlib.h>
#include <string.h>

#include "client.h"

void signet_enrolment_ca_certs_free(struct signet_enrolment_ca_certs *certs)
{
	if (certs == NULL)
		return;
	for (size_t i = 0; certs->certificates != NULL && i < certs->n_certificates; i++)
		signet_buf_free(&certs->certificates[i]);
	free(certs->certificates);
	signet_buf_free(&certs->pkcs7);
	for (size_t i = 0; certs->capabilities != NULL && i < certs->n_capabilities; i++)
		free(certs->capabilities[i]);
	free(certs->capabilities);
	memset(certs, 0, sizeof(*certs));
	free(certs);
}

void signet_scep_reply_free(struct signet_scep_reply *reply)
{
	if (reply == NULL)
		return;
	signet_buf_free(&reply->cert_rep);
	free(reply->transaction_id);
	memset(reply, 0, sizeof(*reply));
	free(reply);
}

static int enrolment_named(signet_client *client, const char *enrolment)
{
	if (enrolment == NULL || enrolment[0] == '\0')
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no enrolment name given");
	return 0;
}

static int ca_certs_copy(struct signet_enrolment_ca_certs *c,
			 const Signet__V1__GetEnrolmentCaCertsResponse *resp)
{
	if ((c->certificates = calloc(resp->n_certificates, sizeof(*c->certificates))) == NULL ||
	    (c->capabilities = calloc(resp->n_capabilities + 1, sizeof(char *))) == NULL ||
	    client_buf_dup(&c->pkcs7, &resp->pkcs7) != 0)
		return SIGNET_E_NOMEM;
	for (size_t i = 0; i < resp->n_certificates; i++) {
		/* Counted first, so that a partial copy is freed too. */
		c->n_certificates = i + 1;
		if (client_buf_dup(&c->certificates[i], &resp->certificates[i]) != 0)
			return SIGNET_E_NOMEM;
	}
	for (size_t i = 0; i < resp->n_capabilities; i++) {
		c->n_capabilities = i + 1;
		if ((c->capabilities[i] = client_strdup(resp->capabilities[i])) == NULL)
			return SIGNET_E_NOMEM;
	}
	return 0;
}

/* A door without its CA certificate or its PKCS#7 cannot be enrolled through. */
static int ca_certs_new(signet_client *client, const Signet__V1__GetEnrolmentCaCertsResponse *resp,
			struct signet_enrolment_ca_certs **out)
{
	struct signet_enrolment_ca_certs *c;
	int r;

	if (resp->n_certificates == 0 || resp->pkcs7.len == 0)
		return client_error(client, SIGNET_E_PROTOCOL,
				    "GetEnrolmentCaCerts reply carries no certificate");
	for (size_t i = 0; i < resp->n_certificates; i++)
		if (resp->certificates[i].len == 0)
			return client_error(client, SIGNET_E_PROTOCOL,
					    "GetEnrolmentCaCerts reply carries an empty "
					    "certificate");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	if ((r = ca_certs_copy(c, resp)) != 0) {
		signet_enrolment_ca_certs_free(c);
		return client_error(client, r, "out of memory");
	}
	*out = c;
	return 0;
}

int signet_get_enrolment_ca_certs(signet_client *client, const char *enrolment,
				  struct signet_enrolment_ca_certs **out)
{
	Signet__V1__GetEnrolmentCaCertsRequest req =
		SIGNET__V1__GET_ENROLMENT_CA_CERTS_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = enrolment_named(client, enrolment)) != 0)
		return r;
	req.enrolment = (char *)enrolment;
	if ((r = client_call(client, "GetEnrolmentCaCerts", &req.base,
			     &signet__v1__get_enrolment_ca_certs_response__descriptor, &msg)) != 0)
		return r;
	r = ca_certs_new(client, (const Signet__V1__GetEnrolmentCaCertsResponse *)msg, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

static int scep_reply_new(signet_client *client, const Signet__V1__ScepOperationResponse *resp,
			  struct signet_scep_reply **out)
{
	struct signet_scep_reply *s;

	/* Every answer SCEP can express is a signed CertRep. */
	if (resp->cert_rep.len == 0)
		return client_error(client, SIGNET_E_PROTOCOL,
				    "ScepOperation reply carries no CertRep");
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->transaction_id = client_strdup(resp->transaction_id)) == NULL ||
	    client_buf_dup(&s->cert_rep, &resp->cert_rep) != 0) {
		signet_scep_reply_free(s);
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	}
	s->pki_status = (enum signet_scep_status)resp->pki_status;
	s->fail_info = (enum signet_scep_fail)resp->fail_info;
	*out = s;
	return 0;
}

int signet_scep_operation(signet_client *client, const char *enrolment, const uint8_t *message,
			  size_t message_len, const char *peer, struct signet_scep_reply **out)
{
	Signet__V1__ScepOperationRequest req = SIGNET__V1__SCEP_OPERATION_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = enrolment_named(client, enrolment)) != 0)
		return r;
	if (message == NULL || message_len == 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no pkiMessage given");
	req.enrolment = (char *)enrolment;
	req.message.data = (uint8_t *)message;
	req.message.len = message_len;
	req.peer = (char *)(peer != NULL ? peer : "");
	if ((r = client_call(client, "ScepOperation", &req.base,
			     &signet__v1__scep_operation_response__descriptor, &msg)) != 0)
		return r;
	r = scep_reply_new(client, (const Signet__V1__ScepOperationResponse *)msg, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_create_enrolment_code(signet_client *client, const char *enrolment,
				 const char *device_id, unsigned ttl_seconds, char **code_out,
				 int64_t *expires_at)
{
	Signet__V1__CreateEnrolmentCodeRequest req =
		SIGNET__V1__CREATE_ENROLMENT_CODE_REQUEST__INIT;
	const Signet__V1__CreateEnrolmentCodeResponse *resp;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || code_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = enrolment_named(client, enrolment)) != 0)
		return r;
	req.enrolment = (char *)enrolment;
	req.device_id = (char *)(device_id != NULL ? device_id : "");
	req.ttl_seconds = ttl_seconds;
	if ((r = client_call(client, "CreateEnrolmentCode", &req.base,
			     &signet__v1__create_enrolment_code_response__descriptor, &msg)) != 0)
		return r;
	resp = (const Signet__V1__CreateEnrolmentCodeResponse *)msg;
	if (resp->code == NULL || resp->code[0] == '\0')
		r = client_error(client, SIGNET_E_PROTOCOL,
				 "CreateEnrolmentCode reply carries no code");
	else if ((*code_out = client_strdup(resp->code)) == NULL)
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
	else if (expires_at != NULL)
		*expires_at = resp->expires_at;
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

/* --- EST: EstEnroll, GetEnrolmentCsrAttrs --- */

void signet_est_reply_free(struct signet_est_reply *reply)
{
	if (reply == NULL)
		return;
	signet_buf_free(&reply->certificate);
	signet_buf_free(&reply->pkcs7);
	memset(reply, 0, sizeof(*reply));
	free(reply);
}

/* An answer is a certificate with its PKCS#7, or a retry time and neither. */
static int est_reply_new(signet_client *client, const Signet__V1__EstEnrollResponse *resp,
			 struct signet_est_reply **out)
{
	struct signet_est_reply *e;

	if (resp->retry_after_seconds == 0 && (resp->certificate.len == 0 || resp->pkcs7.len == 0))
		return client_error(client, SIGNET_E_PROTOCOL,
				    "EstEnroll reply carries no certificate and no retry time");
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    client_buf_dup(&e->certificate, &resp->certificate) != 0 ||
	    client_buf_dup(&e->pkcs7, &resp->pkcs7) != 0) {
		signet_est_reply_free(e);
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	}
	e->retry_after_seconds = resp->retry_after_seconds;
	*out = e;
	return 0;
}

int signet_est_enroll(signet_client *client, const char *enrolment,
		      const struct signet_est_request *in, struct signet_est_reply **out)
{
	Signet__V1__EstEnrollRequest req = SIGNET__V1__EST_ENROLL_REQUEST__INIT;
	ProtobufCBinaryData *chain = NULL;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || in == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = enrolment_named(client, enrolment)) != 0)
		return r;
	if (in->csr == NULL || in->csr_len == 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no CSR given");
	if (in->n_peer_chain > 0 && (chain = calloc(in->n_peer_chain, sizeof(*chain))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	for (size_t i = 0; i < in->n_peer_chain; i++)
		chain[i] = (ProtobufCBinaryData){.data = in->peer_chain[i].data,
						 .len = in->peer_chain[i].len};
	req.enrolment = (char *)enrolment;
	req.csr = (ProtobufCBinaryData){.data = (uint8_t *)in->csr, .len = in->csr_len};
	req.peer_chain = chain;
	req.n_peer_chain = in->n_peer_chain;
	req.code = (char *)(in->code != NULL ? in->code : "");
	req.username = (char *)(in->username != NULL ? in->username : "");
	req.reenroll = in->reenroll != 0;
	req.tls_unique =
		(ProtobufCBinaryData){.data = (uint8_t *)in->tls_unique, .len = in->tls_unique_len};
	req.peer = (char *)(in->peer != NULL ? in->peer : "");
	r = client_call(client, "EstEnroll", &req.base,
			&signet__v1__est_enroll_response__descriptor, &msg);
	free(chain);
	if (r != 0)
		return r;
	r = est_reply_new(client, (const Signet__V1__EstEnrollResponse *)msg, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_get_enrolment_csr_attrs(signet_client *client, const char *enrolment, uint8_t **der_out,
				   size_t *der_len)
{
	Signet__V1__GetEnrolmentCsrAttrsRequest req =
		SIGNET__V1__GET_ENROLMENT_CSR_ATTRS_REQUEST__INIT;
	const Signet__V1__GetEnrolmentCsrAttrsResponse *resp;
	ProtobufCMessage *msg = NULL;
	struct signet_buf b = {.data = NULL};
	int r;

	if (client == NULL || der_out == NULL || der_len == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = enrolment_named(client, enrolment)) != 0)
		return r;
	req.enrolment = (char *)enrolment;
	if ((r = client_call(client, "GetEnrolmentCsrAttrs", &req.base,
			     &signet__v1__get_enrolment_csr_attrs_response__descriptor, &msg)) != 0)
		return r;
	resp = (const Signet__V1__GetEnrolmentCsrAttrsResponse *)msg;
	*der_out = NULL;
	*der_len = 0;
	if (resp->csr_attrs.len > 0 && client_buf_dup(&b, &resp->csr_attrs) != 0)
		r = client_error(client, SIGNET_E_NOMEM, "out of memory");
	*der_out = b.data;
	*der_len = b.len;
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
