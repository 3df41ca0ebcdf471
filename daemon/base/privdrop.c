#include "base/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/log.h"

static int stay(uid_t uid, gid_t gid, struct privdrop *out)
{
	out->drop = 0;
	out->uid = uid;
	out->gid = gid;
	return 0;
}

int privdrop_plan(uid_t euid, gid_t egid, const char *user, struct privdrop *out, char *err,
		  size_t errlen)
{
	const struct passwd *pw;

	memset(out, 0, sizeof(*out));
	if (user == NULL && euid == 0) {
		snprintf(err, errlen,
			 "started as root without a 'user' setting: set user = \"signet\" to "
			 "serve as that user once the token is open and the endpoints are bound, "
			 "or user = \"root\" to serve as root on purpose");
		return -1;
	}
	if (user == NULL)
		return stay(euid, egid, out);
	if (strlen(user) > PRIVDROP_NAME_MAX) {
		snprintf(err, errlen, "user '%s': name too long", user);
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user '%s': %s", user,
			 errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	memcpy(out->name, user, strlen(user) + 1);
	if (pw->pw_uid == euid)
		return stay(euid, euid == 0 ? pw->pw_gid : egid, out);
	if (euid != 0) {
		snprintf(err, errlen,
			 "user '%s' (uid %u): running as uid %u, and only root can become another "
			 "user; start as root or as '%s'",
			 user, (unsigned)pw->pw_uid, (unsigned)euid, user);
		return -1;
	}
	out->drop = 1;
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	return 0;
}

/* All of real, effective and saved ids are the target, and root is out of reach. */
static int verify_dropped(const struct privdrop *p, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != p->uid ||
	    eu != p->uid || su != p->uid || rg != p->gid || eg != p->gid || sg != p->gid) {
		snprintf(err, errlen, "user '%s': ids not changed as asked", p->name);
		return -1;
	}
	if (setuid(0) != -1 || setgid(0) != -1) {
		snprintf(err, errlen, "user '%s': root could be regained after the switch",
			 p->name);
		return -1;
	}
	return 0;
}

int privdrop_apply(const struct privdrop *p, char *err, size_t errlen)
{
	if (!p->drop)
		return 0;
	/* groups first: once the uid is not root, they can no longer be set */
	if (initgroups(p->name, p->gid) != 0 || setresgid(p->gid, p->gid, p->gid) != 0 ||
	    setresuid(p->uid, p->uid, p->uid) != 0) {
		snprintf(err, errlen, "cannot become user '%s' (uid %u, gid %u): %s", p->name,
			 (unsigned)p->uid, (unsigned)p->gid, strerror(errno));
		return -1;
	}
	if (verify_dropped(p, err, errlen) != 0)
		return -1;
	/* a uid change resets the flag to the system's default: keep the PIN's
	 * pages out of core dumps and the process out of reach of ptrace */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	log_info("serving as user '%s' (uid %u, gid %u)", p->name, (unsigned)p->uid,
		 (unsigned)p->gid);
	return 0;
}
