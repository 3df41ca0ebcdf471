/* Unit tests for daemon/access/authz.c: each rule allows what it names and refuses
 * the rest, with a message that names the rule; what a request acts on is
 * read from the string fields a method's row names, and only from those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "access/authz.h"
#include "signet.pb-c.h"

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

/* A listing shows what a request could name: the client's key patterns. */
static void test_key_visible(void **state)
{
	(void)state;
	assert_true(authz_key_visible(NULL, "anything")); /* anonymous: everything */
	assert_true(authz_key_visible(&operator_, "dev-1"));
	assert_false(authz_key_visible(&operator_, "prod-1"));
	assert_false(authz_key_visible(&factory, "dev-1")); /* no keys setting: none */
}

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
	assert_int_equal(authz_check(&factory, "Revoke", SIGNET_METHOD_ADMIN, &t, &em),
			 SIGNET_E_PERMISSION_DENIED);
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
	assert_int_equal(
		authz_check(&operator_, "CreateIntermediateCa", SIGNET_METHOD_ADMIN, &t, &em), 0);
	assert_int_equal(
		authz_check(&operator_, "GetIssued", 0, &(struct authz_target){.ca = ""}, &em), 0);
	assert_int_equal(authz_check(&operator_, "DeleteKey", SIGNET_METHOD_ADMIN,
				     &(struct authz_target){.key = "ca.root"}, &em),
			 SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "key 'ca.root'"));
	not_admin.admin = 0;
	assert_int_equal(
		authz_check(&not_admin, "CreateIntermediateCa", SIGNET_METHOD_ADMIN, &t, &em),
		SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(em.text, "CreateIntermediateCa is an admin method and client "
				     "'operator' is not an admin (clients.operator.admin)");
	assert_int_equal(authz_check(&not_admin, "SignNonce", 0,
				     &(struct authz_target){.key = "dev-7"}, &em),
			 0);
}

/* A verification certificate proves possession of the CA: a glob in methods
 * does not grant it, admin, verification_cas or the method's full name do,
 * and the CA must still be one of the client's. */
static void test_ca_proof(void **state)
{
	static char *named[] = {"SignCsr", "IssueVerificationCertificate"},
		    *issuing[] = {"issuing"}, *issuing_star[] = {"issuing*"};
	const char *m = "IssueVerificationCertificate";
	const unsigned flags = SIGNET_METHOD_AUDITED | SIGNET_METHOD_CA_PROOF;
	struct client_def device = {.name = "device",
				    .methods = all,
				    .n_methods = 1,
				    .cas = issuing,
				    .n_cas = 1,
				    .profiles = factory_profiles,
				    .n_profiles = 1};
	struct client_def c;
	struct authz_target t = {.ca = "issuing", .code = "ABC"};
	struct errmsg em = {0};

	(void)state;
	/* the finding: methods = [ "*" ] limited to a profile got one */
	assert_int_equal(authz_check(&device, m, flags, &t, &em), SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(em.text,
			    "client 'device' may not get a verification certificate of CA "
			    "'issuing': it proves possession of the CA, so a glob in methods does "
			    "not grant it (needs the CA in clients.device.verification_cas, "
			    "IssueVerificationCertificate named in clients.device.methods, or "
			    "admin = true)");
	/* the same client still signs what its profile allows */
	assert_int_equal(authz_check(&device, "SignCsr", SIGNET_METHOD_AUDITED,
				     &(struct authz_target){.ca = "issuing", .profile = "device"},
				     &em),
			 0);
	/* a glob naming it more narrowly is still a glob */
	c = device;
	c.methods = (char *[]){"Issue*"};
	assert_int_equal(authz_check(&c, m, flags, &t, &em), SIGNET_E_PERMISSION_DENIED);
	/* granted per CA */
	c = device;
	c.cas = all;
	c.verification_cas = issuing_star;
	c.n_verification_cas = 1;
	assert_int_equal(authz_check(&c, m, flags, &t, &em), 0);
	t.ca = "other";
	assert_int_equal(authz_check(&c, m, flags, &t, &em), SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "CA 'other'"));
	/* verification_cas does not widen cas */
	c.cas = issuing;
	t.ca = "issuing-2";
	assert_int_equal(authz_check(&c, m, flags, &t, &em), SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "not in clients.device.cas"));
	/* named in full (configurations written before verification_cas) */
	c = device;
	c.methods = named;
	c.n_methods = 2;
	t.ca = "issuing";
	assert_int_equal(authz_check(&c, m, flags, &t, &em), 0);
	t.ca = "other";
	assert_int_equal(authz_check(&c, m, flags, &t, &em), SIGNET_E_PERMISSION_DENIED);
	assert_non_null(strstr(em.text, "not in clients.device.cas"));
	/* admin */
	t.ca = "issuing-1";
	assert_int_equal(authz_check(&operator_, m, flags, &t, &em), 0);
}

/* An enrolment door is an object kind of its own: a client needs it named in
 * clients.NAME.enrolments; having every CA and profile does not grant it. */
static void test_enrolment(void **state)
{
	static char *mdm_methods[] = {"ScepOperation", "GetEnrolment*"}, *mdm_doors[] = {"mdm-*"};
	static const struct client_def gateway = {.name = "gateway",
						  .methods = mdm_methods,
						  .n_methods = 2,
						  .enrolments = mdm_doors,
						  .n_enrolments = 1};
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(authz_check(&gateway, "ScepOperation", SIGNET_METHOD_AUDITED,
				     &(struct authz_target){.enrolment = "mdm-phones"}, &em),
			 0);
	assert_int_equal(authz_check(&gateway, "ScepOperation", SIGNET_METHOD_AUDITED,
				     &(struct authz_target){.enrolment = "routers"}, &em),
			 SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(em.text, "client 'gateway' may not use enrolment 'routers' (not in "
				     "clients.gateway.enrolments)");
	/* the operator has every CA, profile and method, but no enrolments list */
	assert_int_equal(authz_check(&operator_, "ScepOperation", SIGNET_METHOD_AUDITED,
				     &(struct authz_target){.enrolment = "mdm-phones"}, &em),
			 SIGNET_E_PERMISSION_DENIED);
	assert_string_equal(em.text, "client 'operator' may use no enrolment "
				     "(clients.operator.enrolments is empty)");
}

static void test_enrolment_fields(void **state)
{
	Signet__V1__ScepOperationRequest req = SIGNET__V1__SCEP_OPERATION_REQUEST__INIT;
	struct authz_target t;
	char buf[128];
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(authz_fields_check(&(struct authz_fields){.enrolment = "enrolment"},
					    &signet__v1__scep_operation_request__descriptor, &em),
			 0);
	assert_int_equal(authz_fields_check(&(struct authz_fields){.enrolment = "message"},
					    &signet__v1__scep_operation_request__descriptor, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "'message' to name the enrolment"));
	req.enrolment = "mdm";
	assert_int_equal(
		authz_target_of(&(struct authz_fields){.enrolment = "enrolment"}, &req.base, &t),
		0);
	assert_ptr_equal(t.enrolment, req.enrolment);
	authz_target_describe(&t, buf, sizeof(buf));
	assert_string_equal(buf, "enrolment=mdm");
}

static void test_describe(void **state)
{
	char buf[256], small[12], long_ca[100];

	(void)state;
	authz_target_describe(&(struct authz_target){.ca = "issuing", .code = "ABC"}, buf,
			      sizeof(buf));
	assert_string_equal(buf, "ca=issuing code=ABC");
	authz_target_describe(&(struct authz_target){.parent = "root", .key = "k"}, buf,
			      sizeof(buf));
	assert_string_equal(buf, "parent=root key=k");
	authz_target_describe(&(struct authz_target){0}, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* cut, never overrun */
	authz_target_describe(&(struct authz_target){.ca = "issuing", .profile = "device"}, small,
			      sizeof(small));
	assert_string_equal(small, "ca=issuing ");
	memset(long_ca, 'x', sizeof(long_ca) - 1);
	long_ca[sizeof(long_ca) - 1] = '\0';
	authz_target_describe(&(struct authz_target){.ca = long_ca}, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 3 + 64);
}

static void test_fields_check(void **state)
{
	const ProtobufCMessageDescriptor *sign = &signet__v1__sign_csr_request__descriptor;
	struct errmsg em = {0};

	(void)state;
	assert_int_equal(authz_fields_check(&(struct authz_fields){0}, sign, &em), 0);
	assert_int_equal(
		authz_fields_check(&(struct authz_fields){.ca = "ca", .profile = "profile"}, sign,
				   &em),
		0);
	assert_int_equal(
		authz_fields_check(&(struct authz_fields){.profile = "profiles"}, sign, &em),
		SIGNET_E_INVALID_ARGUMENT);
	assert_string_equal(em.text, "signet.v1.SignCsrRequest has no string field 'profiles' to "
				     "name the profile it acts on");
	/* bytes, not a string; a list of strings, not one */
	assert_int_equal(authz_fields_check(&(struct authz_fields){.key = "csr"}, sign, &em),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "'csr' to name the key"));
	assert_int_equal(
		authz_fields_check(&(struct authz_fields){.parent = "dns_names"}, sign, &em),
		SIGNET_E_INVALID_ARGUMENT);
	assert_non_null(strstr(em.text, "'dns_names' to name the parent CA"));
}

static void test_target_of(void **state)
{
	Signet__V1__SignCsrRequest req = SIGNET__V1__SIGN_CSR_REQUEST__INIT;
	struct authz_target t;

	(void)state;
	req.ca = "issuing-1";
	req.profile = "device";
	assert_int_equal(authz_target_of(&(struct authz_fields){.ca = "ca", .profile = "profile"},
					 &req.base, &t),
			 0);
	assert_ptr_equal(t.ca, req.ca);
	assert_ptr_equal(t.profile, req.profile);
	assert_null(t.key);
	assert_null(t.parent);
	/* a field the request lacks: nothing, and an error, rather than a target
	 * with a kind quietly left out (which authz_check would not check) */
	assert_int_equal(
		authz_target_of(&(struct authz_fields){.ca = "ca", .key = "key"}, &req.base, &t),
		-1);
	assert_null(t.ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factory),
		cmocka_unit_test(test_key_visible),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_ca_proof),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_fields_check),
		cmocka_unit_test(test_target_of),
		cmocka_unit_test(test_enrolment),
		cmocka_unit_test(test_enrolment_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
