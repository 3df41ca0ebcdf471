/*
 * What daemon and client share about the wire: the generated protobuf-c code,
 * and the one place where errors map to wire status codes and names.
 */
#ifndef SIGNET_PROTO_WIRE_H
#define SIGNET_PROTO_WIRE_H

#include <signet/signet.h>

#include "authmac.h"
#include "signet.pb-c.h"

/* Length of Envelope.request_id. */
#define WIRE_REQUEST_ID_LEN 16

/* enum signet_err -> wire status code; local errors become INTERNAL. */
Signet__V1__StatusCode wire_status_from_err(int err);
/* wire status code -> enum signet_err; unknown codes become SIGNET_E_UNKNOWN. */
int wire_err_from_status(int status);

/* What an envelope's MAC covers, pointing into `env`, whose credential must
 * be set: the one reading of an Envelope as authmac_input, for the daemon that
 * checks a MAC and for tests that check or forge one. */
struct authmac_input wire_mac_input(const Signet__V1__Envelope *env);

#endif
