/* Unit tests for daemon/base/privdrop.c: whom signetd serves as. */
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/privdrop.h"

static uid_t nobody_uid;
static gid_t nobody_gid;

static int setup(void **state)
{
	const struct passwd *pw = getpwnam("nobody");

	(void)state;
	assert_non_null(pw);
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	return 0;
}

static void expect_refused(uid_t euid, const char *user, const char *why)
{
	struct privdrop p;
	char err[512] = "";

	assert_int_equal(privdrop_plan(euid, euid, user, &p, err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("'%s' lacks '%s'", err, why);
}

static void test_root_must_name_a_user(void **state)
{
	(void)state;
	expect_refused(0, NULL, "started as root without a 'user' setting");
	expect_refused(0, NULL, "user = \"root\"");
	expect_refused(0, "no-such-user-signet-test", "no such user");
	expect_refused(0, "abcdefghijklmnopqrstuvwxyz0123456", "too long");
}

static void test_root_plans(void **state)
{
	struct privdrop p;
	char err[512];

	(void)state;
	assert_int_equal(privdrop_plan(0, 0, "root", &p, err, sizeof(err)), 0);
	assert_int_equal(p.drop, 0);
	assert_int_equal(p.uid, 0);
	assert_int_equal(privdrop_plan(0, 0, "nobody", &p, err, sizeof(err)), 0);
	assert_int_equal(p.drop, 1);
	assert_int_equal(p.uid, nobody_uid);
	assert_int_equal(p.gid, nobody_gid);
	assert_string_equal(p.name, "nobody");
}

static void test_unprivileged_stays(void **state)
{
	struct privdrop p;
	char err[512];

	(void)state;
	assert_int_equal(privdrop_plan(4242, 4343, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.drop, 0);
	assert_int_equal(p.uid, 4242);
	assert_int_equal(p.gid, 4343);
	/* already the configured user */
	assert_int_equal(privdrop_plan(nobody_uid, 4343, "nobody", &p, err, sizeof(err)), 0);
	assert_int_equal(p.drop, 0);
	assert_int_equal(p.uid, nobody_uid);
	/* only root can become someone else */
	expect_refused(4242, "nobody", "only root can become another user");
	/* nothing to apply */
	assert_int_equal(privdrop_apply(&p, err, sizeof(err)), 0);
}

/* In a child: the drop takes, root cannot be regained, the process is not dumpable. */
static int child_drop(void)
{
	struct privdrop p;
	char err[512];
	uid_t r, e, s;

	if (privdrop_plan(0, 0, "nobody", &p, err, sizeof(err)) != 0 ||
	    privdrop_apply(&p, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (getresuid(&r, &e, &s) != 0 || r != nobody_uid || e != nobody_uid || s != nobody_uid)
		return 2;
	if (getegid() != nobody_gid || getgid() != nobody_gid)
		return 3;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return 4;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 5;
	return 0;
}

static void test_apply_as_root(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: cannot switch users; skipped\n");
		skip();
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_drop());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_must_name_a_user),
		cmocka_unit_test(test_root_plans),
		cmocka_unit_test(test_unprivileged_stays),
		cmocka_unit_test(test_apply_as_root),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
