/* Validation of signetd's Reply: request id, status, payload. */
#include "reply.h"

#include <stdio.h>
#include <string.h>

const void *reply_field(const ProtobufCMessage *msg, const char *name)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);

	return f != NULL ? (const char *)msg + f->offset : NULL;
}

void reply_copy_text(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (; in != NULL && *in != '\0' && o + 1 < outlen; in++)
		out[o++] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
	out[o] = '\0';
}

/*
 * An empty id means signetd could not read our envelope (for instance it was
 * over its size limit); such an error reply is still the answer to this
 * request, since the REQ socket matches replies to requests itself. Any other
 * id, or an empty one on success, is a reply we must not trust.
 */
static int reply_check_id(const Signet__V1__Reply *rep, const uint8_t *request_id, char *msg,
			  size_t msglen)
{
	if (rep->request_id.len == 0 && rep->status != SIGNET__V1__STATUS_CODE__OK)
		return 0;
	if (rep->request_id.len == WIRE_REQUEST_ID_LEN &&
	    memcmp(rep->request_id.data, request_id, WIRE_REQUEST_ID_LEN) == 0)
		return 0;
	snprintf(msg, msglen, "reply does not match the request (request_id of %zu bytes differs)",
		 rep->request_id.len);
	return SIGNET_E_PROTOCOL;
}

static int reply_status(const Signet__V1__Reply *rep, char *msg, size_t msglen)
{
	int err = wire_err_from_status((int)rep->status);

	if (err == SIGNET_OK)
		return 0;
	if (rep->message != NULL && rep->message[0] != '\0')
		reply_copy_text(rep->message, msg, msglen);
	else
		snprintf(msg, msglen, "%s", signet_strerror(err));
	return err;
}

int reply_decode(const uint8_t *buf, size_t len, const uint8_t *request_id,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char *msg,
		 size_t msglen)
{
	Signet__V1__Reply *rep = NULL;
	ProtobufCMessage *payload;
	int r;

	rep = signet__v1__reply__unpack(NULL, len, buf);
	if (rep == NULL) {
		snprintf(msg, msglen, "cannot decode the reply (%zu bytes) as a signet Reply", len);
		r = SIGNET_E_PROTOCOL;
		goto out;
	}
	if ((r = reply_check_id(rep, request_id, msg, msglen)) != 0 ||
	    (r = reply_status(rep, msg, msglen)) != 0)
		goto out;
	payload = protobuf_c_message_unpack(resp_desc, NULL, rep->payload.len, rep->payload.data);
	if (payload == NULL) {
		snprintf(msg, msglen, "cannot decode the reply payload as %s",
			 resp_desc->short_name);
		r = SIGNET_E_PROTOCOL;
		goto out;
	}
	*resp = payload;
	r = 0;
out:
	if (rep != NULL)
		signet__v1__reply__free_unpacked(rep, NULL);
	return r;
}
