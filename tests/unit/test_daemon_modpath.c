/* Unit tests for daemon/hsm/modpath.c: the PKCS#11 module allowlist. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hsm/modpath.h"

/* root/lib (allowed), root/lib64 (a name lib is a prefix of), root/elsewhere */
static char root[64];

static void path_of(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", root, rel);
}

static void touch(const char *rel)
{
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), rel);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
}

static void mkdir_rel(const char *rel)
{
	char p[256];

	path_of(p, sizeof(p), rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void symlink_rel(const char *target_rel, const char *rel)
{
	char t[256], p[256];

	path_of(t, sizeof(t), target_rel);
	path_of(p, sizeof(p), rel);
	assert_int_equal(symlink(t, p), 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/signet-modpath-XXXXXX");
	assert_non_null(mkdtemp(root));
	mkdir_rel("lib");
	mkdir_rel("lib/sub");
	mkdir_rel("lib64");
	mkdir_rel("elsewhere");
	touch("lib/mod.so");
	touch("lib/sub/deep.so");
	touch("lib64/mod.so");
	touch("elsewhere/evil.so");
	symlink_rel("elsewhere/evil.so", "lib/escape.so"); /* inside, pointing out */
	symlink_rel("lib/mod.so", "elsewhere/in.so");	   /* outside, pointing in */
	symlink_rel("lib", "liblink");			   /* an allowed dir by a link */
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Check `rel` against an allowlist of the one directory `dir_rel`. */
static int check(const char *rel, const char *dir_rel, char *resolved, char *err)
{
	char module[256], dir[256];
	const char *dirs[1] = {dir};

	path_of(module, sizeof(module), rel);
	path_of(dir, sizeof(dir), dir_rel);
	return modpath_check(module, dirs, 1, resolved, PATH_MAX, err, 512);
}

static void expect_ok(const char *rel, const char *dir_rel, const char *want_rel)
{
	char resolved[PATH_MAX], err[512] = "", want[256], real_want[PATH_MAX];

	if (check(rel, dir_rel, resolved, err) != 0)
		fail_msg("%s refused: %s", rel, err);
	path_of(want, sizeof(want), want_rel);
	assert_non_null(realpath(want, real_want));
	assert_string_equal(resolved, real_want);
}

static void expect_refused(const char *rel, const char *dir_rel, const char *why)
{
	char resolved[PATH_MAX], err[512] = "";

	assert_int_equal(check(rel, dir_rel, resolved, err), -1);
	if (strstr(err, why) == NULL)
		fail_msg("%s: '%s' lacks '%s'", rel, err, why);
}

static void test_inside_is_loaded_by_its_real_path(void **state)
{
	(void)state;
	expect_ok("lib/mod.so", "lib", "lib/mod.so");
	expect_ok("lib/sub/deep.so", "lib", "lib/sub/deep.so");
	/* a link from outside into the allowlist: what is loaded is inside */
	expect_ok("elsewhere/in.so", "lib", "lib/mod.so");
	/* the allowlist is resolved too */
	expect_ok("lib/mod.so", "liblink", "lib/mod.so");
	expect_ok("liblink/mod.so", "lib", "lib/mod.so");
}

static void test_outside_is_refused(void **state)
{
	(void)state;
	expect_refused("elsewhere/evil.so", "lib", "outside the allowed directories");
	/* "lib" is a string prefix of "lib64", not its parent */
	expect_refused("lib64/mod.so", "lib", "outside the allowed directories");
	/* a symlink in the allowlist that escapes it */
	expect_refused("lib/escape.so", "lib", "resolved: ");
	expect_refused("lib/escape.so", "lib", "elsewhere/evil.so");
	expect_refused("lib/escape.so", "lib", "token.module_dirs");
}

static void test_not_a_module_file(void **state)
{
	(void)state;
	expect_refused("lib/absent.so", "lib", "No such file");
	expect_refused("lib/sub", "lib", "not a regular file");
}

static void test_absent_allowlist_dir_admits_nothing(void **state)
{
	(void)state;
	expect_refused("lib/mod.so", "no-such-dir", "outside the allowed directories");
}

static void test_several_dirs(void **state)
{
	char module[256], a[256], b[256], resolved[PATH_MAX], err[512];
	const char *dirs[3] = {"/nonexistent", a, b};

	(void)state;
	path_of(a, sizeof(a), "elsewhere");
	path_of(b, sizeof(b), "lib64");
	path_of(module, sizeof(module), "lib64/mod.so");
	assert_int_equal(
		modpath_check(module, dirs, 3, resolved, sizeof(resolved), err, sizeof(err)), 0);
	path_of(module, sizeof(module), "lib/mod.so");
	assert_int_equal(
		modpath_check(module, dirs, 3, resolved, sizeof(resolved), err, sizeof(err)), -1);
	/* the message lists the allowlist as configured */
	assert_non_null(strstr(err, "/nonexistent, "));
}

static void test_defaults(void **state)
{
	const char *dirs[MODPATH_MAX_DIRS];
	size_t n = modpath_default_dirs(dirs, MODPATH_MAX_DIRS);
	char resolved[PATH_MAX], err[512];
	int has_usr_lib = 0;

	(void)state;
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++)
		has_usr_lib |= strcmp(dirs[i], "/usr/lib") == 0;
	assert_true(has_usr_lib);
	assert_int_equal(modpath_default_dirs(dirs, 1), 1);
	/* the test token's module, where Debian puts it */
	if (access("/usr/lib/softhsm/libsofthsm2.so", F_OK) == 0)
		assert_int_equal(modpath_check("/usr/lib/softhsm/libsofthsm2.so", dirs, n, resolved,
					       sizeof(resolved), err, sizeof(err)),
				 0);
	n = modpath_default_dirs(dirs, MODPATH_MAX_DIRS);
	assert_int_equal(
		modpath_check("/tmp", dirs, n, resolved, sizeof(resolved), err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_is_loaded_by_its_real_path),
		cmocka_unit_test(test_outside_is_refused),
		cmocka_unit_test(test_not_a_module_file),
		cmocka_unit_test(test_absent_allowlist_dir_admits_nothing),
		cmocka_unit_test(test_several_dirs),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
