/*
 * Reading signetd's reply: pure logic, no transport, so that every way a
 * reply can be wrong is testable without a daemon.
 */
#ifndef SIGNET_CLIENT_REPLY_H
#define SIGNET_CLIENT_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * Decode `buf` as a Reply to the request `request_id` (WIRE_REQUEST_ID_LEN
 * bytes) and, when its status is OK, its payload as `resp_desc`.
 * Returns 0 with `*resp` set, the daemon's status as an enum signet_err, or
 * SIGNET_E_PROTOCOL for bytes that are not a valid answer to this request; on
 * failure `msg` (NUL-terminated, printable ASCII only) says why.
 */
int reply_decode(const uint8_t *buf, size_t len, const uint8_t *request_id,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char *msg,
		 size_t msglen);

/*
 * The field `name` of the decoded message `msg`, found by its descriptor, or
 * NULL when its type has none: for replies that differ in type, not in shape.
 */
const void *reply_field(const ProtobufCMessage *msg, const char *name);

/* Copy `in` into `out` (bounded, NUL-terminated), replacing control and
 * non-ASCII bytes with '?': daemon text ends up on terminals. */
void reply_copy_text(const char *in, char *out, size_t outlen);

#endif
