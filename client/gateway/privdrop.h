/*
 * Whom signet-gatewayd serves as. Started as root it binds its port, then
 * becomes `user` for good before it serves a request; started as anyone
 * else it stays who it is (and `user`, if set, must be that user).
 */
#ifndef SIGNET_GATEWAY_PRIVDROP_H
#define SIGNET_GATEWAY_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Become `user` (its uid, primary group and supplementary groups: the
 * signet group reaches signetd's socket) when euid is 0; refuse to go on as
 * root when user is NULL or "" (serving HTTP as root must be asked for,
 * with user = "root"); when not root, refuse a user other than the current
 * one. Checks that root cannot be regained. 0, or -1 with a message in err:
 * the caller must not go on.
 */
int gw_privdrop(const char *user, char *err, size_t errlen);

#endif
