/* Records RPCs: ListIssued, GetIssued, Revoke, GetCrl. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "reason.h"

#define SPKI_SHA256_LEN 32

const char *signet_revocation_reason_name(enum signet_revocation_reason reason)
{
	return reason_name((int)reason);
}

int signet_revocation_reason_from_name(const char *name, enum signet_revocation_reason *out)
{
	int code;

	if (out == NULL || reason_from_name(name, &code) != 0)
		return -1;
	*out = (enum signet_revocation_reason)code;
	return 0;
}

/* Release what a record holds, not the struct itself (list entries live in an array). */
static void issued_cert_clear(struct signet_issued_cert *c)
{
	free(c->ca);
	free(c->issuer_key);
	free(c->serial);
	free(c->subject);
	free(c->sans);
	free(c->profile);
	free(c->spki_sha256);
	free(c->caller);
	free(c->request_id);
	free(c->cert_der);
	memset(c, 0, sizeof(*c));
}

void signet_issued_cert_free(struct signet_issued_cert *cert)
{
	if (cert == NULL)
		return;
	issued_cert_clear(cert);
	free(cert);
}

void signet_issued_list_free(struct signet_issued_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; list->certs != NULL && i < list->n_certs; i++)
		issued_cert_clear(&list->certs[i]);
	free(list->certs);
	free(list->next_page_token);
	memset(list, 0, sizeof(*list));
	free(list);
}

/* A record without its certificate or serial names nothing the caller can use. */
static int issued_cert_check(signet_client *client, const char *method,
			     const Signet__V1__IssuedCertificate *c)
{
	if (c == NULL || c->certificate_der.len == 0 || c->serial == NULL || c->serial[0] == '\0')
		return client_error(client, SIGNET_E_PROTOCOL,
				    "%s reply carries a record without certificate or serial",
				    method);
	return 0;
}

static int issued_cert_copy_bytes(struct signet_issued_cert *out,
				  const Signet__V1__IssuedCertificate *c)
{
	if ((out->spki_sha256 = client_memdup(c->spki_sha256.data, c->spki_sha256.len)) == NULL ||
	    (out->request_id = client_memdup(c->request_id.data, c->request_id.len)) == NULL ||
	    (out->cert_der = client_memdup(c->certificate_der.data, c->certificate_der.len)) ==
		    NULL)
		return SIGNET_E_NOMEM;
	out->spki_sha256_len = c->spki_sha256.len;
	out->request_id_len = c->request_id.len;
	out->cert_len = c->certificate_der.len;
	return 0;
}

/* Fill `out` from the wire; on failure the caller clears what was copied.
 * Every call that returns a record goes through here. */
static int issued_cert_copy(struct signet_issued_cert *out, const Signet__V1__IssuedCertificate *c)
{
	out->not_before = c->not_before;
	out->not_after = c->not_after;
	out->issued_at = c->issued_at;
	out->revoked = c->revoked ? 1 : 0;
	out->revoked_at = c->revoked_at;
	out->reason = (enum signet_revocation_reason)c->reason;
	out->invalidity_date = c->invalidity_date;
	if ((out->ca = client_strdup(c->ca)) == NULL ||
	    (out->issuer_key = client_strdup(c->issuer_key)) == NULL ||
	    (out->serial = client_strdup(c->serial)) == NULL ||
	    (out->subject = client_strdup(c->subject)) == NULL ||
	    (out->sans = client_strdup(c->sans)) == NULL ||
	    (out->profile = client_strdup(c->profile)) == NULL ||
	    (out->caller = client_strdup(c->caller)) == NULL)
		return SIGNET_E_NOMEM;
	return issued_cert_copy_bytes(out, c);
}

/* GetIssued and Revoke answer with one record. */
static int issued_cert_new(signet_client *client, const char *method,
			   const Signet__V1__IssuedCertificate *c, struct signet_issued_cert **out)
{
	struct signet_issued_cert *cert = NULL;
	int r;

	if ((r = issued_cert_check(client, method, c)) != 0 || out == NULL)
		return r;
	if ((cert = calloc(1, sizeof(*cert))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	if ((r = issued_cert_copy(cert, c)) != 0) {
		signet_issued_cert_free(cert);
		return client_error(client, r, "out of memory");
	}
	*out = cert;
	return 0;
}

static void ledger_filter_encode(const struct signet_ledger_filter *f,
				 Signet__V1__ListIssuedRequest *req)
{
	static const struct signet_ledger_filter none = {.ca = NULL};

	if (f == NULL)
		f = &none;
	/* protobuf-c packs "" as absent; NULL would crash it. */
	req->ca = (char *)(f->ca != NULL ? f->ca : "");
	req->profile = (char *)(f->profile != NULL ? f->profile : "");
	req->subject_contains = (char *)(f->subject_contains != NULL ? f->subject_contains : "");
	req->serial = (char *)(f->serial != NULL ? f->serial : "");
	req->valid_at = f->valid_at;
	req->revoked = (Signet__V1__RevokedFilter)f->revoked;
	req->page_size = f->page_size;
	req->page_token = (char *)(f->page_token != NULL ? f->page_token : "");
	req->expires_after = f->expires_after;
	req->expires_before = f->expires_before;
}

static int issued_list_copy(const Signet__V1__ListIssuedResponse *resp,
			    struct signet_issued_list *list)
{
	/* One extra slot keeps calloc(0) from being ambiguous. */
	if ((list->certs = calloc(resp->n_certificates + 1, sizeof(*list->certs))) == NULL ||
	    (list->next_page_token = client_strdup(resp->next_page_token)) == NULL)
		return SIGNET_E_NOMEM;
	for (size_t i = 0; i < resp->n_certificates; i++) {
		/* Counted first, so that a partial copy is freed too. */
		list->n_certs = i + 1;
		if (issued_cert_copy(&list->certs[i], resp->certificates[i]) != 0)
			return SIGNET_E_NOMEM;
	}
	return 0;
}

static int issued_list_new(signet_client *client, const Signet__V1__ListIssuedResponse *resp,
			   struct signet_issued_list **out)
{
	struct signet_issued_list *list;
	int r;

	for (size_t i = 0; i < resp->n_certificates; i++)
		if ((r = issued_cert_check(client, "ListIssued", resp->certificates[i])) != 0)
			return r;
	if ((list = calloc(1, sizeof(*list))) == NULL)
		return client_error(client, SIGNET_E_NOMEM, "out of memory");
	if ((r = issued_list_copy(resp, list)) != 0) {
		signet_issued_list_free(list);
		return client_error(client, r, "out of memory");
	}
	*out = list;
	return 0;
}

int signet_list_issued(signet_client *client, const struct signet_ledger_filter *filter,
		       struct signet_issued_list **out)
{
	Signet__V1__ListIssuedRequest req = SIGNET__V1__LIST_ISSUED_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	ledger_filter_encode(filter, &req);
	if ((r = client_call(client, "ListIssued", &req.base,
			     &signet__v1__list_issued_response__descriptor, &msg)) != 0)
		return r;
	r = issued_list_new(client, (const Signet__V1__ListIssuedResponse *)msg, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_get_issued(signet_client *client, const char *serial, const uint8_t *spki_sha256,
		      struct signet_issued_cert **out)
{
	Signet__V1__GetIssuedRequest req = SIGNET__V1__GET_ISSUED_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	/* An empty serial means "by fingerprint" on the wire: not what "" asks for. */
	if ((serial == NULL) == (spki_sha256 == NULL) || (serial != NULL && serial[0] == '\0'))
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "give a serial or an SPKI SHA-256 fingerprint, not both");
	req.serial = (char *)(serial != NULL ? serial : "");
	req.spki_sha256.data = (uint8_t *)spki_sha256;
	req.spki_sha256.len = spki_sha256 != NULL ? SPKI_SHA256_LEN : 0;
	if ((r = client_call(client, "GetIssued", &req.base,
			     &signet__v1__get_issued_response__descriptor, &msg)) != 0)
		return r;
	r = issued_cert_new(client, "GetIssued",
			    ((const Signet__V1__GetIssuedResponse *)msg)->certificate, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

static int revoke_check(signet_client *client, const char *ca, const char *serial,
			enum signet_revocation_reason reason, int64_t invalidity_date)
{
	if (ca == NULL || serial == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "a revocation needs a CA name and a serial");
	if (signet_revocation_reason_name(reason) == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "%d is not an RFC 5280 reason code", (int)reason);
	if (invalidity_date < 0)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT,
				    "invalidity_date is Unix time, 0 for none");
	return 0;
}

int signet_revoke(signet_client *client, const char *ca, const char *serial,
		  enum signet_revocation_reason reason, int64_t invalidity_date,
		  struct signet_issued_cert **out)
{
	Signet__V1__RevokeRequest req = SIGNET__V1__REVOKE_REQUEST__INIT;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if ((r = revoke_check(client, ca, serial, reason, invalidity_date)) != 0)
		return r;
	req.ca = (char *)ca;
	req.serial = (char *)serial;
	req.reason = (Signet__V1__RevocationReason)reason;
	req.invalidity_date = invalidity_date;
	if ((r = client_call(client, "Revoke", &req.base, &signet__v1__revoke_response__descriptor,
			     &msg)) != 0)
		return r;
	/* Checked even when the caller wants no record: an OK without one is no answer. */
	r = issued_cert_new(client, "Revoke",
			    ((const Signet__V1__RevokeResponse *)msg)->certificate, out);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}

int signet_get_crl(signet_client *client, const char *ca, const char *key,
		   struct signet_buf *der_out, char **pem_out, uint64_t *crl_number)
{
	Signet__V1__GetCrlRequest req = SIGNET__V1__GET_CRL_REQUEST__INIT;
	const Signet__V1__GetCrlResponse *resp;
	ProtobufCMessage *msg = NULL;
	int r;

	if (client == NULL || der_out == NULL)
		return SIGNET_E_INVALID_ARGUMENT;
	if (ca == NULL)
		return client_error(client, SIGNET_E_INVALID_ARGUMENT, "no CA name given");
	req.ca = (char *)ca;
	req.key = (char *)(key != NULL ? key : "");
	if ((r = client_call(client, "GetCrl", &req.base, &signet__v1__get_crl_response__descriptor,
			     &msg)) != 0)
		return r;
	resp = (const Signet__V1__GetCrlResponse *)msg;
	if (resp->crl_der.len == 0 ||
	    (pem_out != NULL && (resp->crl_pem == NULL || resp->crl_pem[0] == '\0')))
		r = client_error(client, SIGNET_E_PROTOCOL, "GetCrl reply carries no CRL");
	else if ((r = client_der_pem_out(&resp->crl_der, resp->crl_pem, der_out, pem_out)) != 0)
		client_error(client, r, "out of memory");
	else if (crl_number != NULL)
		*crl_number = resp->crl_number;
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
