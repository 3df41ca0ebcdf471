/*
 * Where a PKCS#11 module may be loaded from. Loading a module runs its code
 * inside the process that holds the PIN and the login, so the configured
 * path must resolve (realpath(3): every symbolic link followed) into one of
 * a few directories that only root can write: the system library
 * directories by default, or the ones token.module_dirs names.
 */
#ifndef SIGNETD_MODPATH_H
#define SIGNETD_MODPATH_H

#include <stddef.h>

#define MODPATH_MAX_DIRS 16

/*
 * The default allowlist: /usr/lib, /usr/lib64, /usr/local/lib and the
 * Debian multiarch directory /usr/lib/<triplet>, as static strings. Returns
 * how many were written to dirs (at most max).
 */
size_t modpath_default_dirs(const char **dirs, size_t max);

/*
 * Resolve `module` with realpath(3) and accept it only when the result is a
 * regular file inside (at any depth) one of the n directories in dirs, each
 * resolved with realpath(3) as well; a directory that does not exist is
 * skipped. On success writes the resolved path, which is what must be
 * loaded (not `module`: a symlink could be changed in between), into
 * resolved (resolved_len bytes, PATH_MAX is enough) and returns 0. Otherwise
 * -1 and a message in err naming the module, what it resolved to and the
 * allowed directories.
 */
int modpath_check(const char *module, const char *const *dirs, size_t n, char *resolved,
		  size_t resolved_len, char *err, size_t errlen);

#endif
