/*
 * Whom signet-gatewayd serves as. Started as root it binds its port, then
 * becomes `user` for good before it serves a request; started as anyone
 * else it stays who it is (and `user`, if set, must be that user).
 */
#ifndef SIGNET_GATEWAY_PRIVDROP_H
#define SIGNET_GATEWAY_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct gw_privdrop {
	int drop; /* 1: gw_privdrop_apply() switches to uid/gid */
	uid_t uid;
	gid_t gid;
	char name[33];
};

/*
 * Decide, before anything is bound: for euid 0, become `user` (refused when
 * user is NULL or "": serving HTTP as root must be asked for, with user =
 * "root"); for another euid, stay (refused when user names someone else).
 * An unknown user is refused. 0, or -1 with a message in err.
 */
int gw_privdrop_plan(const char *user, struct gw_privdrop *plan, char *err, size_t errlen);

/*
 * Carry the plan out: the user's supplementary groups (the signet group
 * reaches signetd's socket), gid, uid; then check that root cannot be
 * regained, and turn core dumps off again. Nothing to do when plan->drop is
 * 0. 0, or -1 with a message in err: the caller must not go on.
 */
int gw_privdrop_apply(const struct gw_privdrop *plan, char *err, size_t errlen);

#endif
