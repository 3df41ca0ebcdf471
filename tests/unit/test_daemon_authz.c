/* Unit tests for daemon/authz.c: each rule allows what it names and refuses
 * the rest, with a message that names the rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "access/authz.h"

static char *factory_methods[] = {"SignCsr", "Get*"}, *factory_cas[] = {"issuing-*"},
	    *factory_profiles[] = {"device"}, *all[] = {"*"}, *dev_keys[] = {"dev-*"};

static const struct client_def factory = {.name = "factory",
					  .methods = factory_methods,
					  .n_methods = 2,
					  .cas = factory_cas,
					  .n_cas = 1,
					  .profiles = factory_profiles,
					  .n_profiles = 1};

static const struct client_def operator_ = {.name = "operator",
					    .admin = 1,
					    .methods = all,
					    .n_methods = 1,
					    .cas = all,
					    .n_cas = 1,
					    .profiles = all,
					    .n_profiles = 1,
					    .keys = dev_keys,
					    .n_keys = 1};

static void test_factory(void **state)
{
	struct authz_target t = {.ca = "issuing-1", .profile = "device"};
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(authz_check(&factory, "SignCsr", 0, &t, &em), 0);
	assert_int_equal(authz_check(&factory, "GetCaChain", 0,
				     &(struct authz_target){.ca = "issuing-9"}, &em),
			 0);
	/* another CA, another profile, another method */
	t.ca = "root";
	assert_int_equal(authz_check(&factory, "SignCsr", 0, &t, &em), SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(em.text,
			    "client 'factory' may not use CA 'root' (not in clients.factory.cas)");
	t.ca = "issuing-1";
	t.profile = "server";
	assert_int_equal(authz_check(&factory, "SignCsr", 0, &t, &em), SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "profile 'server'"));
	assert_int_equal(authz_check(&factory, "Revoke", 1, &t, &em), SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(
		em.text, "client 'factory' may not call Revoke (not in clients.factory.methods)");
	/* no key patterns at all: no key */
	assert_int_equal(authz_check(&factory, "GetPublicKey", 0,
				     &(struct authz_target){.key = "dev-1"}, &em),
			 SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(em.text,
			    "client 'factory' may use no key (clients.factory.keys is empty)");
	/* "" (ListIssued over every CA) matches only a "*" */
	assert_int_equal(
		authz_check(&factory, "GetIssued", 0, &(struct authz_target){.ca = ""}, &em),
		SIGNET_E_PERMISSION_DENIED);
}

static void test_admin(void **state)
{
	struct authz_target t = {.ca = "issuing-2", .parent = "root"};
	struct errmsg em = {0};
	struct client_def not_admin = operator_;

	(void)state;
	assert_int_equal(authz_check(&operator_, "CreateIntermediateCa", 1, &t, &em), 0);
	assert_int_equal(
		authz_check(&operator_, "GetIssued", 0, &(struct authz_target){.ca = ""}, &em), 0);
	assert_int_equal(authz_check(&operator_, "DeleteKey", 1,
				     &(struct authz_target){.key = "ca.root"}, &em),
			 SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "key 'ca.root'"));
	not_admin.admin = 0;
	assert_int_equal(authz_check(&not_admin, "CreateIntermediateCa", 1, &t, &em),
			 SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(em.text, "CreateIntermediateCa is an admin method and client "
				     "'operator' is not an admin (clients.operator.admin)");
	assert_int_equal(authz_check(&not_admin, "SignNonce", 0,
				     &(struct authz_target){.key = "dev-7"}, &em),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factory),
		cmocka_unit_test(test_admin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
