/* Unit tests for daemon/p11uri.c: RFC 7512 token URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "p11uri.h"

static void test_valid(void **state)
{
	struct p11uri u;
	char err[256];

	(void)state;
	assert_int_equal(
		p11uri_parse("pkcs11:token=My%20Token;serial=1a2b;slot-id=7", &u, err, sizeof(err)),
		0);
	assert_string_equal(u.token, "My Token");
	assert_string_equal(u.serial, "1a2b");
	assert_true(u.has_slot_id);
	assert_int_equal(u.slot_id, 7);
	assert_int_equal(
		p11uri_parse("PKCS11:model=SoftHSM%20v2?module-path=/x.so", &u, err, sizeof(err)),
		0);
	assert_string_equal(u.model, "SoftHSM v2");
	assert_string_equal(u.token, "");
	assert_int_equal(p11uri_parse("pkcs11:", &u, err, sizeof(err)), 0);
}

static void refused(const char *uri, const char *why)
{
	struct p11uri u;
	char err[256] = "";

	assert_int_equal(p11uri_parse(uri, &u, err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", uri, err, why);
}

static void test_refusals(void **state)
{
	struct p11uri u;
	char err[256] = "";

	(void)state;
	refused("pkcs12:token=x", "pkcs11:");
	refused("pkcs11:token=%zz", "percent");
	refused("pkcs11:token=%4", "percent");
	refused("pkcs11:token=%00x", "percent");
	refused("pkcs11:token=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long");
	refused("pkcs11:token=a;token=b", "twice");
	refused("pkcs11:object=key", "names an object");
	refused("pkcs11:frobnicate=1", "unknown attribute");
	refused("pkcs11:slot-id=seven", "decimal");
	refused("pkcs11:token", "malformed");
	refused("pkcs11:token=x?pin-source=file:/etc/pin", "pin_file");
	/* a PIN in the URI is refused without being repeated */
	assert_int_equal(p11uri_parse("pkcs11:token=x?pin-value=s3cr3t", &u, err, sizeof(err)), -1);
	assert_null(strstr(err, "s3cr3t"));
	assert_non_null(strstr(err, "pin_file"));
}

static void test_matches(void **state)
{
	struct p11uri u;
	char err[256];

	(void)state;
	assert_int_equal(p11uri_parse("pkcs11:token=a;serial=s1", &u, err, sizeof(err)), 0);
	assert_true(p11uri_matches(&u, "a", "m", "x", "s1", 3));
	assert_false(p11uri_matches(&u, "a", "m", "x", "s2", 3));
	assert_false(p11uri_matches(&u, "b", "m", "x", "s1", 3));
	assert_int_equal(p11uri_parse("pkcs11:slot-id=3", &u, err, sizeof(err)), 0);
	assert_true(p11uri_matches(&u, "any", "m", "x", "s", 3));
	assert_false(p11uri_matches(&u, "any", "m", "x", "s", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
