/* client/pkcs11/objects.c: a key's objects, C_GetAttributeValue's rules, template matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "p11.h"
#include "testpki.h"

static struct p11_object *objs;
static size_t n_objs;
static unsigned char *spki, *cert;
static size_t cert_len;
static int spki_len;

static int setup(void **state)
{
	EVP_PKEY *k = testpki_key();
	struct testpki_spec spec = {.cn = "device-1", .key = k, .not_after = time(NULL) + 3600};
	X509 *x = testpki_cert(&spec);

	(void)state;
	spki = NULL;
	spki_len = i2d_PUBKEY(k, &spki);
	cert = testpki_der(x, &cert_len);
	objs = NULL;
	n_objs = 0;
	assert_int_equal(p11_objects_for_key("device-1", (const uint8_t *)"\x01\x02", 2, spki,
					     (size_t)spki_len, cert, cert_len, &objs, &n_objs),
			 CKR_OK);
	/* a key without CKA_ID of its own nor certificate: two objects, its name as ID */
	assert_int_equal(p11_objects_for_key("device-2", NULL, 0, spki, (size_t)spki_len, NULL, 0,
					     &objs, &n_objs),
			 CKR_OK);
	X509_free(x);
	EVP_PKEY_free(k);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	p11_objects_free(objs, n_objs);
	OPENSSL_free(spki);
	OPENSSL_free(cert);
	return 0;
}

static void test_objects(void **state)
{
	static const CK_OBJECT_CLASS cls[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE,
					      CKO_PRIVATE_KEY, CKO_PUBLIC_KEY};

	(void)state;
	assert_int_equal(n_objs, 5);
	for (size_t i = 0; i < n_objs; i++)
		assert_int_equal(objs[i].cls, cls[i]);
	assert_int_equal(objs[0].sig_len, 64);
	assert_memory_equal(p11_object_attr(&objs[3], CKA_ID)->val, "device-2", 8);
	assert_memory_equal(p11_object_attr(&objs[2], CKA_VALUE)->val, cert, cert_len);
	assert_memory_equal(p11_object_attr(&objs[1], CKA_PUBLIC_KEY_INFO)->val, spki,
			    (size_t)spki_len);
}

/* (object, attribute) -> (return value, length, value): one row each. */
static void test_get_rows(void **state)
{
	static const struct {
		size_t obj;
		CK_ATTRIBUTE_TYPE type;
		size_t buf; /* 0: a length query */
		CK_RV rv;
		CK_ULONG len;
		const char *val;
	} rows[] = {
		{0, CKA_SENSITIVE, 1, CKR_OK, 1, "\x01"},
		{0, CKA_EXTRACTABLE, 1, CKR_OK, 1, "\x00"},
		{0, CKA_NEVER_EXTRACTABLE, 1, CKR_OK, 1, "\x01"},
		{0, CKA_SIGN, 1, CKR_OK, 1, "\x01"},
		{0, CKA_DECRYPT, 1, CKR_OK, 1, "\x00"},
		{0, CKA_PRIVATE, 1, CKR_OK, 1, "\x00"},
		{0, CKA_LABEL, 0, CKR_OK, 8, NULL},
		{0, CKA_LABEL, 8, CKR_OK, 8, "device-1"},
		{0, CKA_LABEL, 7, CKR_BUFFER_TOO_SMALL, CK_UNAVAILABLE_INFORMATION, NULL},
		{0, CKA_ID, 2, CKR_OK, 2, "\x01\x02"},
		{0, CKA_EC_PARAMS, 10, CKR_OK, 10, "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"},
		{0, CKA_EC_POINT, 0, CKR_OK, 67, NULL},
		{0, CKA_VALUE, 64, CKR_ATTRIBUTE_SENSITIVE, CK_UNAVAILABLE_INFORMATION, NULL},
		{0, CKA_PRIVATE_EXPONENT, 0, CKR_ATTRIBUTE_SENSITIVE, CK_UNAVAILABLE_INFORMATION,
		 NULL},
		{0, CKA_MODULUS, 0, CKR_ATTRIBUTE_TYPE_INVALID, CK_UNAVAILABLE_INFORMATION, NULL},
		{1, CKA_VERIFY, 1, CKR_OK, 1, "\x01"},
		{1, CKA_SENSITIVE, 0, CKR_ATTRIBUTE_TYPE_INVALID, CK_UNAVAILABLE_INFORMATION, NULL},
		{1, CKA_EC_POINT, 0, CKR_OK, 67, NULL},
		{2, CKA_LABEL, 8, CKR_OK, 8, "device-1"},
		{2, CKA_SUBJECT, 0, CKR_OK, 21, NULL}, /* SEQUENCE { SET { CN=device-1 } } */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned char buf[128];
		CK_ATTRIBUTE a = {rows[i].type, rows[i].buf ? buf : NULL, rows[i].buf};

		if (p11_object_get(&objs[rows[i].obj], &a, 1) != rows[i].rv ||
		    a.ulValueLen != rows[i].len)
			fail_msg("row %zu: attribute 0x%lx length %lu", i,
				 (unsigned long)rows[i].type, (unsigned long)a.ulValueLen);
		if (rows[i].val != NULL)
			assert_memory_equal(buf, rows[i].val, rows[i].len);
	}
}

static void test_get_several(void **state)
{
	CK_BBOOL sens = 0;
	unsigned char small[2];
	CK_ATTRIBUTE a[] = {{CKA_MODULUS, small, sizeof(small)},
			    {CKA_SENSITIVE, &sens, sizeof(sens)},
			    {CKA_LABEL, small, sizeof(small)}};

	(void)state;
	/* one error for the call; every attribute that can be is still filled in */
	assert_int_not_equal(p11_object_get(&objs[0], a, 3), CKR_OK);
	assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(sens, CK_TRUE);
	assert_int_equal(a[1].ulValueLen, 1);
	assert_int_equal(a[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

static void test_match(void **state)
{
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, certc = CKO_CERTIFICATE;
	CK_KEY_TYPE ec = CKK_EC, rsa = CKK_RSA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE by_label[] = {{CKA_CLASS, &priv, sizeof(priv)}, {CKA_LABEL, "device-1", 8}};
	CK_ATTRIBUTE by_type[] = {{CKA_KEY_TYPE, &ec, sizeof(ec)}, {CKA_SIGN, &yes, 1}};
	CK_ATTRIBUTE rsa_key[] = {{CKA_KEY_TYPE, &rsa, sizeof(rsa)}};
	CK_ATTRIBUTE cert_tmpl[] = {{CKA_CLASS, &certc, sizeof(certc)}};
	CK_ATTRIBUTE prefix[] = {{CKA_LABEL, "device", 6}};
	size_t hits = 0;

	(void)state;
	assert_true(p11_object_match(&objs[0], by_label, 2));
	assert_false(p11_object_match(&objs[1], by_label, 2));
	assert_false(p11_object_match(&objs[3], by_label, 2));
	for (size_t i = 0; i < n_objs; i++)
		hits += (size_t)p11_object_match(&objs[i], by_type, 2);
	assert_int_equal(hits, 2); /* the two private keys */
	assert_false(p11_object_match(&objs[0], rsa_key, 1));
	assert_true(p11_object_match(&objs[2], cert_tmpl, 1));
	assert_false(p11_object_match(&objs[0], prefix, 1)); /* values match whole */
	assert_true(p11_object_match(&objs[4], NULL, 0));    /* an empty template: everything */
}

static void test_bad_key(void **state)
{
	unsigned char junk[] = {0x30, 0x00};
	size_t before = n_objs;

	(void)state;
	assert_int_equal(
		p11_objects_for_key("x", NULL, 0, junk, sizeof(junk), NULL, 0, &objs, &n_objs),
		CKR_DEVICE_ERROR);
	/* a certificate that does not parse: nothing for this key is added */
	assert_int_equal(p11_objects_for_key("y", NULL, 0, spki, (size_t)spki_len, junk,
					     sizeof(junk), &objs, &n_objs),
			 CKR_DEVICE_ERROR);
	assert_int_equal(n_objs, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects),	    cmocka_unit_test(test_get_rows),
		cmocka_unit_test(test_get_several), cmocka_unit_test(test_match),
		cmocka_unit_test(test_bad_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
