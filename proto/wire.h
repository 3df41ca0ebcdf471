/*
 * What daemon and client share about the wire: the generated protobuf-c code,
 * and the one place where errors map to wire status codes and names.
 */
#ifndef SIGNET_PROTO_WIRE_H
#define SIGNET_PROTO_WIRE_H

#include <signet/signet.h>

#include "signet.pb-c.h"

/* Length of Envelope.request_id. */
#define WIRE_REQUEST_ID_LEN 16

/* enum signet_err -> wire status code; local errors become INTERNAL. */
Signet__V1__StatusCode wire_status_from_err(int err);
/* wire status code -> enum signet_err; unknown codes become SIGNET_E_UNKNOWN. */
int wire_err_from_status(int status);

#endif
