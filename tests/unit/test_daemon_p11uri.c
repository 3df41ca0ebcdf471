/* Unit tests for daemon/hsm/p11uri.c: RFC 7512 token URIs. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hsm/p11uri.h"

static void parse_ok(const char *uri, struct p11uri *u)
{
	char err[256] = "";

	if (p11uri_parse(uri, u, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", uri, err);
}

static void test_attributes_are_kept(void **state)
{
	struct p11uri u;

	(void)state;
	parse_ok("pkcs11:token=signet;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;"
		 "serial=1a2b3c4d5e6f7081;slot-id=7",
		 &u);
	assert_string_equal(u.token, "signet");
	assert_string_equal(u.manufacturer, "SoftHSM project");
	assert_string_equal(u.model, "SoftHSM v2");
	assert_string_equal(u.serial, "1a2b3c4d5e6f7081");
	assert_true(u.has_slot_id);
	assert_int_equal(u.slot_id, 7);
}

static void test_percent_escapes_and_scheme_case(void **state)
{
	struct p11uri u;

	(void)state;
	parse_ok("PKCS11:token=a%2Fb%3bc%25d", &u); /* both hex cases */
	assert_string_equal(u.token, "a/b;c%d");
	assert_false(u.has_slot_id);
	assert_string_equal(u.serial, "");
	parse_ok("Pkcs11:token=%e2%82%ac", &u); /* UTF-8 passes through */
	assert_string_equal(u.token, "\xe2\x82\xac");
}

static void test_empty_and_full_length(void **state)
{
	char max_slot[64];
	struct p11uri u;

	(void)state;
	parse_ok("pkcs11:", &u); /* matches any token; token.c insists on exactly one */
	assert_string_equal(u.token, "");
	assert_false(u.has_slot_id);
	parse_ok("pkcs11:token=x?", &u);
	parse_ok("pkcs11:token=x;", &u);
	/* 32 bytes is CK_TOKEN_INFO's label, 16 its serial: exactly full is fine */
	parse_ok("pkcs11:token=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;serial=0123456789abcdef", &u);
	assert_int_equal(strlen(u.token), 32);
	assert_int_equal(strlen(u.serial), 16);
	parse_ok("pkcs11:token=%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41"
		 "%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41",
		 &u); /* the limit applies to the decoded value */
	assert_int_equal(strlen(u.token), 32);
	snprintf(max_slot, sizeof(max_slot), "pkcs11:slot-id=%lu", ULONG_MAX);
	parse_ok(max_slot, &u);
	assert_true(u.slot_id == ULONG_MAX);
}

static const struct refusal {
	const char *uri;
	const char *why; /* the message must contain this */
} refusals[] = {
	{"pkcs12:token=x", "pkcs11:"},
	{"pkcs11", "pkcs11:"},
	{"token=x", "pkcs11:"},
	{"pkcs11:token=%zz", "malformed percent-escape"},
	{"pkcs11:token=%4", "malformed percent-escape"},
	{"pkcs11:token=ab%", "malformed percent-escape"},
	{"pkcs11:token=%00x", "NUL or control character"},
	{"pkcs11:token=a%0Ab", "NUL or control character"},
	{"pkcs11:token=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too long"},
	{"pkcs11:model=aaaaaaaaaaaaaaaaa", "model: value too long (at most 16 bytes)"},
	{"pkcs11:serial=0123456789abcdef0", "serial: value too long"},
	{"pkcs11:token=a;token=b", "token given twice"},
	{"pkcs11:slot-id=1;slot-id=1", "slot-id given twice"},
	{"pkcs11:token=", "token: empty value"},
	{"pkcs11:object=key", "names an object, but signetd needs a token URI"},
	{"pkcs11:token=t;id=%01", "names an object"},
	{"pkcs11:token=t;type=private", "names an object"},
	{"pkcs11:frobnicate=1", "unknown attribute 'frobnicate'"},
	{"pkcs11:library-manufacturer=x", "unknown attribute"},
	{"pkcs11:token=x?frob=1", "unknown query attribute 'frob'"},
	{"pkcs11:?token=x", "unknown query attribute 'token'"}, /* a path attribute */
	{"pkcs11:slot-id=seven", "slot-id: must be a decimal number"},
	{"pkcs11:slot-id=", "decimal"},
	{"pkcs11:slot-id=-1", "decimal"},
	{"pkcs11:slot-id=%2B1", "decimal"},
	{"pkcs11:slot-id=0x10", "decimal"},
	{"pkcs11:slot-id=18446744073709551616", "decimal"}, /* above any ULONG_MAX */
	{"pkcs11:token", "malformed attribute"},
	{"pkcs11:=x", "malformed attribute"},
	{"pkcs11:token=x?pin-source=file:/etc/pin", "pin-source: refused; the PIN comes from "
						    "token.pin_file"},
	{"pkcs11:token=x?module-path=/usr/lib/softhsm/libsofthsm2.so", "token.module"},
	{"pkcs11:token=x?module-name=softhsm2", "token.module"},
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct p11uri u;
		char err[256] = "";

		memset(&u, 0xa5, sizeof(u));
		if (p11uri_parse(refusals[i].uri, &u, err, sizeof(err)) != -1)
			fail_msg("'%s' accepted", refusals[i].uri);
		if (strstr(err, refusals[i].why) == NULL)
			fail_msg("'%s': message '%s' lacks '%s'", refusals[i].uri, err,
				 refusals[i].why);
		/* refused means zeroed, not half-filled */
		assert_string_equal(u.token, "");
		assert_false(u.has_slot_id);
	}
}

static void test_too_long_uri(void **state)
{
	char uri[1100], err[256] = "";
	struct p11uri u;

	(void)state;
	memset(uri, ';', sizeof(uri) - 1);
	memcpy(uri, "pkcs11:", 7);
	uri[sizeof(uri) - 1] = '\0';
	assert_int_equal(p11uri_parse(uri, &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 1024 bytes"));
}

/* The PIN is refused without being repeated, wherever it sits in the URI. */
static void test_pin_value_never_echoed(void **state)
{
	static const char *const uris[] = {
		"pkcs11:token=x?pin-value=s3cr3t",
		"pkcs11:token=x?pin-value=s3cr3t&module-path=/m.so",
		"pkcs11:pin-value=s3cr3t;token=x",
		"pkcs11:token=x?pin-value=%73%33cr3t",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		struct p11uri u;
		char err[256] = "";

		assert_int_equal(p11uri_parse(uris[i], &u, err, sizeof(err)), -1);
		if (strstr(err, "s3cr3t") != NULL || strstr(err, "%73") != NULL)
			fail_msg("'%s': the PIN reached the message '%s'", uris[i], err);
		assert_non_null(strstr(err, "pin-value"));
		assert_non_null(strstr(err, "pin_file"));
	}
}

/* No value reaches a message: a typo'd URI may carry something private. */
static void test_messages_never_echo_values(void **state)
{
	static const char *const uris[] = {
		"pkcs11:token=PRIVATEPRIVATEPRIVATEPRIVATEPRIVATE",
		"pkcs11:slot-id=PRIVATE",
		"pkcs11:token=PRIVATE%zz",
		"pkcs11:object=PRIVATE",
		"pkcs11:unknown=PRIVATE",
		"pkcs11:token=a?pin-source=PRIVATE",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		struct p11uri u;
		char err[256] = "";

		assert_int_equal(p11uri_parse(uris[i], &u, err, sizeof(err)), -1);
		if (strstr(err, "PRIVATE") != NULL)
			fail_msg("'%s': value echoed in '%s'", uris[i], err);
	}
}

static void test_small_error_buffer(void **state)
{
	struct p11uri u;
	char err[8];

	(void)state;
	assert_int_equal(p11uri_parse("pkcs11:frobnicate=1", &u, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(p11uri_parse("pkcs11:frobnicate=1", &u, NULL, 0), -1);
}

static void test_matches(void **state)
{
	struct p11uri u;

	(void)state;
	parse_ok("pkcs11:token=a;serial=s1", &u);
	assert_true(p11uri_matches(&u, "a", "m", "x", "s1", 3));
	assert_false(p11uri_matches(&u, "a", "m", "x", "s2", 3));
	assert_false(p11uri_matches(&u, "b", "m", "x", "s1", 3));
	assert_false(p11uri_matches(&u, "a ", "m", "x", "s1", 3)); /* exact, padding stripped */
	assert_false(p11uri_matches(&u, NULL, "m", "x", "s1", 3));
	parse_ok("pkcs11:manufacturer=M;model=X", &u);
	assert_true(p11uri_matches(&u, "any", "M", "X", "s", 0));
	assert_false(p11uri_matches(&u, "any", "m", "X", "s", 0)); /* case matters */
	assert_false(p11uri_matches(&u, "any", "M", "Y", "s", 0));
	parse_ok("pkcs11:slot-id=3", &u);
	assert_true(p11uri_matches(&u, "any", "m", "x", "s", 3));
	assert_false(p11uri_matches(&u, "any", "m", "x", "s", 4));
	parse_ok("pkcs11:slot-id=0", &u); /* slot 0 is a real slot, not "any" */
	assert_false(p11uri_matches(&u, "any", "m", "x", "s", 4));
	parse_ok("pkcs11:", &u);
	assert_true(p11uri_matches(&u, NULL, NULL, NULL, NULL, 99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes_are_kept),
		cmocka_unit_test(test_percent_escapes_and_scheme_case),
		cmocka_unit_test(test_empty_and_full_length),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_too_long_uri),
		cmocka_unit_test(test_pin_value_never_echoed),
		cmocka_unit_test(test_messages_never_echo_values),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
