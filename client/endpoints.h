/*
 * libsignet internals: the endpoint list of a client. "ipc:///a.sock" names
 * one signetd; "ipc:///a.sock,ipc:///b.sock" names several, over which the
 * client's one REQ socket balances its requests (docs/failover.md).
 */
#ifndef SIGNET_ENDPOINTS_H
#define SIGNET_ENDPOINTS_H

#include <stddef.h>

/* nanomsg's own limit for one address is 128 bytes; ours leaves room. */
#define ENDPOINT_MAX	  256
#define ENDPOINTS_MAX	  16
#define ENDPOINT_LIST_MAX (ENDPOINTS_MAX * ENDPOINT_MAX)

struct endpoints {
	char addr[ENDPOINTS_MAX][ENDPOINT_MAX];
	size_t n;
};

/*
 * Split `list` at commas into `out`, white space around each address
 * dropped. 0, or SIGNET_E_INVALID_ARGUMENT with the reason in `err` for an
 * empty list or element ("a,,b", a trailing comma), an address of
 * ENDPOINT_MAX bytes or more, more than ENDPOINTS_MAX addresses, or one named
 * twice (it would get twice the share of requests). `out` is undefined after
 * a failure. Whether nanomsg can use an address is nn_connect()'s to say.
 */
int endpoints_parse(const char *list, struct endpoints *out, char *err, size_t errlen);

#endif
