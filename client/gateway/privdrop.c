/* Dropping root after the port is bound. */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int gw_privdrop_plan(const char *user, struct gw_privdrop *plan, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t euid = geteuid();

	memset(plan, 0, sizeof(*plan));
	if (user == NULL || user[0] == '\0') {
		if (euid != 0)
			return 0;
		snprintf(err, errlen,
			 "started as root with no user = \"...\" in the config: "
			 "set user = \"signet-gateway\" (or \"root\" to stay root)");
		return -1;
	}
	if ((pw = getpwnam(user)) == NULL || strlen(pw->pw_name) >= sizeof(plan->name)) {
		snprintf(err, errlen, "user '%s' does not exist", user);
		return -1;
	}
	if (euid != 0) {
		if (pw->pw_uid == euid)
			return 0;
		snprintf(err, errlen, "only root can become user '%s'", user);
		return -1;
	}
	plan->drop = pw->pw_uid != 0;
	plan->uid = pw->pw_uid;
	plan->gid = pw->pw_gid;
	memcpy(plan->name, pw->pw_name, strlen(pw->pw_name) + 1);
	return 0;
}

int gw_privdrop_apply(const struct gw_privdrop *plan, char *err, size_t errlen)
{
	if (!plan->drop)
		return 0;
	if (initgroups(plan->name, plan->gid) != 0 ||
	    setresgid(plan->gid, plan->gid, plan->gid) != 0 ||
	    setresuid(plan->uid, plan->uid, plan->uid) != 0) {
		snprintf(err, errlen, "cannot become user '%s': %s", plan->name, strerror(errno));
		return -1;
	}
	/* a drop that can be undone is no drop */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "root could be regained after becoming '%s'", plan->name);
		return -1;
	}
	/* a uid change turns core dumps back on */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}
