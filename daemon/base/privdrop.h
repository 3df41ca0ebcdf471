/*
 * Whom signetd serves as. Started as root (to read a PIN file only root may
 * read, open a token whose device needs root, bind a socket in a root-owned
 * directory), it does those things first and then becomes the configured
 * user for good, before it serves a single request. Started as anyone else,
 * it stays who it is.
 */
#ifndef SIGNETD_PRIVDROP_H
#define SIGNETD_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#define PRIVDROP_NAME_MAX 32

struct privdrop {
	int drop;  /* 1: privdrop_apply() switches to uid/gid */
	uid_t uid; /* the user served as, after the drop if there is one */
	gid_t gid; /* its primary group: ipc socket directories get it */
	char name[PRIVDROP_NAME_MAX + 1];
};

/*
 * Decide, for a process whose effective uid is `euid` (and gid `egid`) and
 * the configuration's `user` (NULL when not set):
 *   euid 0, user NULL           -> refused: serving as root must be asked
 *                                  for with user = "root";
 *   euid 0, user "root" (uid 0) -> no drop;
 *   euid 0, another user        -> drop to its uid and primary group;
 *   euid not 0, user NULL or
 *   the user euid already is    -> no drop;
 *   euid not 0, another user    -> refused: only root can become it.
 * An unknown user is refused. -1 and a message in err on refusal.
 */
int privdrop_plan(uid_t euid, gid_t egid, const char *user, struct privdrop *out, char *err,
		  size_t errlen);

/*
 * Become plan->uid/gid with plan->name's supplementary groups (initgroups,
 * then setresgid, setresuid), check that root cannot be regained, and clear
 * PR_SET_DUMPABLE again (a uid change resets it). Nothing to do when
 * plan->drop is 0. The process must be single-threaded or use glibc, whose
 * set*id calls apply to every thread. -1 and a message in err on failure:
 * the caller must not go on.
 */
int privdrop_apply(const struct privdrop *plan, char *err, size_t errlen);

#endif
