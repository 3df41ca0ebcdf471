/* How a signetd status becomes an HTTP status, for the gateway's answers. */
#ifndef SIGNET_GATEWAY_STATUS_H
#define SIGNET_GATEWAY_STATUS_H

/*
 * The HTTP status for `err` (0 or a negative enum signet_err): 200 for 0;
 * INVALID_ARGUMENT 400; NOT_FOUND 404; PERMISSION_DENIED and UNAUTHENTICATED
 * 403 (the gateway's own credential was refused: nothing the client can
 * fix, but not the client's business either); RESOURCE_EXHAUSTED 429;
 * UNAVAILABLE, DEADLINE_EXCEEDED and a signetd that cannot be reached 503;
 * anything else 500.
 */
int status_http(int err);

#endif
