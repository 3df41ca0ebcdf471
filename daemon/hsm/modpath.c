#include "hsm/modpath.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

size_t modpath_default_dirs(const char **dirs, size_t max)
{
	static const char *const defaults[] = {
		"/usr/lib",
		"/usr/lib64",
		"/usr/local/lib",
#ifdef SIGNET_MULTIARCH
		/* also under /usr/lib, unless a distribution made it a link elsewhere */
		"/usr/lib/" SIGNET_MULTIARCH,
#endif
	};
	size_t n = 0;

	for (; n < max && n < sizeof(defaults) / sizeof(defaults[0]); n++)
		dirs[n] = defaults[n];
	return n;
}

/* Is `path` `dir` itself or below it? Both are resolved, so a prefix on a
 * '/' boundary is enough ("/usr/lib" must not admit "/usr/lib64x/..."). */
static bool is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static bool in_allowlist(const char *path, const char *const *dirs, size_t n)
{
	char dir[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		if (dirs[i] == NULL || realpath(dirs[i], dir) == NULL)
			continue; /* an absent directory admits nothing */
		if (is_below(path, dir))
			return true;
	}
	return false;
}

static void list_dirs(const char *const *dirs, size_t n, char *out, size_t outlen)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(out);

		snprintf(out + used, outlen - used, "%s%s", i > 0 ? ", " : "", dirs[i]);
	}
}

int modpath_check(const char *module, const char *const *dirs, size_t n, char *resolved,
		  size_t resolved_len, char *err, size_t errlen)
{
	char real[PATH_MAX], allowed[512];
	struct stat st;

	if (realpath(module, real) == NULL) {
		snprintf(err, errlen, "PKCS#11 module %s: %s", module, strerror(errno));
		return -1;
	}
	if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "PKCS#11 module %s: not a regular file", module);
		return -1;
	}
	if (!in_allowlist(real, dirs, n)) {
		list_dirs(dirs, n, allowed, sizeof(allowed));
		snprintf(err, errlen,
			 "PKCS#11 module %s (resolved: %s) is outside the allowed directories "
			 "(%s); refusing to load it. Add its directory to token.module_dirs",
			 module, real, allowed);
		return -1;
	}
	if (strlen(real) >= resolved_len) {
		snprintf(err, errlen, "PKCS#11 module %s: resolved path too long", module);
		return -1;
	}
	memcpy(resolved, real, strlen(real) + 1);
	return 0;
}
