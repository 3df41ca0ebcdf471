/* signet-gatewayd's log: one line a message on stderr (journald keeps it). */
#ifndef SIGNET_GATEWAY_LOG_H
#define SIGNET_GATEWAY_LOG_H

#include <stddef.h>

/* Print "signet-gatewayd: " and the message, with a newline. Thread-safe. */
void gw_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * `in`, as peers may send it, made safe for one log line in out (outlen > 0,
 * always terminated): bytes outside printable ASCII and the backslash become
 * \xHH, and the end is cut (with "...") to fit.
 */
const char *gw_log_escape(const char *in, char *out, size_t outlen);

#endif
