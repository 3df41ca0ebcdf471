/* Dropping root after the port is bound. */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int gw_privdrop_become(const struct passwd *pw, char *err, size_t errlen)
{
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot become user '%s': %s", pw->pw_name, strerror(errno));
		return -1;
	}
	/* a drop that can be undone is no drop */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root could be regained after becoming '%s'", pw->pw_name);
		return -1;
	}
	/* a uid change turns core dumps back on */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

int gw_privdrop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t euid = geteuid();

	if (user == NULL || user[0] == '\0') {
		if (euid != 0)
			return 0;
		snprintf(err, errlen,
			 "started as root with no user = \"...\" in the config: "
			 "set user = \"signet-gateway\" (or \"root\" to stay root)");
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user '%s' does not exist", user);
		return -1;
	}
	if (euid != 0) {
		if (pw->pw_uid == euid)
			return 0;
		snprintf(err, errlen, "only root can become user '%s'", user);
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;
	return gw_privdrop_become(pw, err, errlen);
}
