/*
 * Unit tests for client/cli/batch.c, the pure parts of 'signet issue
 * --batch': request ids (stable, and different for anything else asked),
 * the CSR blocks of a PEM bundle, output names, how inputs are cut into
 * requests, serials in hex, and the manifest in JSON and CSV with every
 * character that needs escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"

static const uint8_t csr_a[] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
			       "-----END CERTIFICATE REQUEST-----\n";

static void test_request_id(void **state)
{
	uint8_t id[CLI_BATCH_ID_LEN], again[CLI_BATCH_ID_LEN], other[CLI_BATCH_ID_LEN];
	static const uint8_t csr_b[] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAB\n"
				       "-----END CERTIFICATE REQUEST-----\n";

	(void)state;
	assert_int_equal(cli_batch_request_id(csr_a, sizeof(csr_a), "issuing", "device", 0, id), 0);
	assert_int_equal(cli_batch_request_id(csr_a, sizeof(csr_a), "issuing", "device", 0, again),
			 0);
	assert_memory_equal(id, again, sizeof(id));
	/* anything else asked is another request */
	assert_int_equal(cli_batch_request_id(csr_b, sizeof(csr_b), "issuing", "device", 0, other),
			 0);
	assert_memory_not_equal(id, other, sizeof(id));
	assert_int_equal(cli_batch_request_id(csr_a, sizeof(csr_a), "other", "device", 0, other),
			 0);
	assert_memory_not_equal(id, other, sizeof(id));
	assert_int_equal(cli_batch_request_id(csr_a, sizeof(csr_a), "issuing", "server", 0, other),
			 0);
	assert_memory_not_equal(id, other, sizeof(id));
	assert_int_equal(cli_batch_request_id(csr_a, sizeof(csr_a), "issuing", "device", 30, other),
			 0);
	assert_memory_not_equal(id, other, sizeof(id));
	/* the fields are length-prefixed: moving a byte from one to the next differs */
	assert_int_equal(cli_batch_request_id(csr_a, sizeof(csr_a), "ab", "c", 0, id), 0);
	assert_int_equal(cli_batch_request_id(csr_a, sizeof(csr_a), "a", "bc", 0, other), 0);
	assert_memory_not_equal(id, other, sizeof(id));
	/* a known answer, as docs/cli.md spells the derivation out (Python:
	 * sha256 over each of label, CA, profile, days as 4 bytes and the CSR,
	 * each after its length as 8 bytes, big-endian): it must not drift, or a
	 * re-run would issue again what it should find */
	{
		static const uint8_t want[CLI_BATCH_ID_LEN] = {0xc5, 0x14, 0xa1, 0xcd, 0x47, 0xe1,
							       0x13, 0x4c, 0x54, 0x3a, 0x47, 0x3a,
							       0x76, 0x81, 0xc5, 0xb4};

		assert_int_equal(cli_batch_request_id((const uint8_t *)"csr", 3, "ca", "p", 7, id),
				 0);
		if (memcmp(id, want, sizeof(want)) != 0) {
			for (size_t i = 0; i < sizeof(id); i++)
				print_message("0x%02x, ", id[i]);
			print_message("\n");
		}
		assert_memory_equal(id, want, sizeof(want));
	}
}

static void test_csr_blocks(void **state)
{
	const char *text = "junk before\n"
			   "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
			   "REQUEST-----\n"
			   "-----BEGIN CERTIFICATE-----\nnot a request\n-----END CERTIFICATE-----\n"
			   "-----BEGIN NEW CERTIFICATE REQUEST-----\nBBBB\n-----END NEW "
			   "CERTIFICATE REQUEST-----";
	struct signet_buf *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(cli_csr_blocks((const uint8_t *)text, strlen(text), &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].len, sizeof(csr_a) - 1);
	assert_memory_equal(v[0].data, csr_a, v[0].len);
	assert_true(v[1].len > 20 &&
		    memcmp(v[1].data, "-----BEGIN NEW CERTIFICATE REQUEST-----\nBBBB\n", 45) == 0);
	assert_int_equal(v[1].data[v[1].len - 1], '\n');
	for (size_t i = 0; i < n; i++)
		signet_buf_free(&v[i]);
	free(v);

	/* nothing, or a block that does not end */
	assert_int_equal(cli_csr_blocks((const uint8_t *)"no PEM here", 11, &v, &n),
			 SIGNET_E_INVALID_ARGUMENT);
	assert_int_equal(n, 0);
	text = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQ";
	assert_int_equal(cli_csr_blocks((const uint8_t *)text, strlen(text), &v, &n),
			 SIGNET_E_INVALID_ARGUMENT);
	/* a BEGIN of one label is not ended by the other's END */
	text = "-----BEGIN CERTIFICATE REQUEST-----\nA\n-----END NEW CERTIFICATE REQUEST-----\n";
	assert_int_equal(cli_csr_blocks((const uint8_t *)text, strlen(text), &v, &n),
			 SIGNET_E_INVALID_ARGUMENT);
}

static void test_stem(void **state)
{
	char stem[16];

	(void)state;
	assert_true(cli_batch_stem("dev-1.csr", stem, sizeof(stem)));
	assert_string_equal(stem, "dev-1");
	assert_true(cli_batch_stem("a.b.pem", stem, sizeof(stem)));
	assert_string_equal(stem, "a.b");
	assert_true(cli_batch_stem("x.der", stem, sizeof(stem)));
	assert_string_equal(stem, "x");
	assert_false(cli_batch_stem(".hidden.csr", stem, sizeof(stem)));
	assert_false(cli_batch_stem(".csr", stem, sizeof(stem)));
	assert_false(cli_batch_stem("README", stem, sizeof(stem)));
	assert_false(cli_batch_stem("x.CSR", stem, sizeof(stem)));
	assert_false(cli_batch_stem("x.csr.bak", stem, sizeof(stem)));
	assert_false(cli_batch_stem("a-very-long-name.csr", stem, sizeof(stem))); /* no room */
}

static void test_next(void **state)
{
	static const size_t lens[] = {100, 100, 100, 500, 2000, 100};

	(void)state;
	assert_int_equal(cli_batch_next(lens, 0, 6, 2, 10000), 2); /* by count */
	assert_int_equal(cli_batch_next(lens, 4, 6, 256, 10000), 2);
	assert_int_equal(cli_batch_next(lens, 0, 6, 256, 800), 4); /* by bytes: exactly 800 */
	assert_int_equal(cli_batch_next(lens, 0, 6, 256, 799), 3);
	/* one over the limit alone still goes (signetd says why it is refused) */
	assert_int_equal(cli_batch_next(lens, 4, 6, 256, 1000), 1);
	assert_int_equal(cli_batch_next(lens, 5, 6, 256, 1000), 1);
	assert_int_equal(cli_batch_next(lens, 6, 6, 256, 1000), 0);
}

static void test_serial_hex(void **state)
{
	static const uint8_t serial[] = {0x0a, 0xbc, 0x01};
	uint8_t big[21] = {0};
	char hex[41];

	(void)state;
	cli_serial_hex(serial, sizeof(serial), hex);
	assert_string_equal(hex, "0ABC01");
	cli_serial_hex(big, 20, hex);
	assert_int_equal(strlen(hex), 40);
	cli_serial_hex(big, 21, hex);
	assert_string_equal(hex, "");
}

/* What the manifest writes into a memory stream. */
static char *manifest(enum cli_manifest_format fmt, const struct cli_manifest_row *rows, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(cli_manifest_write(f, fmt, rows, n), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_manifest_format(void **state)
{
	(void)state;
	assert_int_equal(cli_manifest_format_of("m.csv"), CLI_MANIFEST_CSV);
	assert_int_equal(cli_manifest_format_of("M.CSV"), CLI_MANIFEST_CSV);
	assert_int_equal(cli_manifest_format_of("m.json"), CLI_MANIFEST_JSON);
	assert_int_equal(cli_manifest_format_of("m"), CLI_MANIFEST_JSON);
	assert_int_equal(cli_manifest_format_of(NULL), CLI_MANIFEST_JSON);
	assert_int_equal(cli_manifest_format_of("csv"), CLI_MANIFEST_JSON);
}

static void test_manifest_json(void **state)
{
	const struct cli_manifest_row rows[] = {
		{"a.csr", "out/a.pem", "0A1B", "/CN=a", "OK", ""},
		/* quotes, backslashes, control characters, UTF-8 kept, bad bytes replaced */
		{"q\"b\\.csr", NULL, NULL, "/CN=caf\xc3\xa9\t\x01", "INVALID_ARGUMENT",
		 "line\nbreak \x7f \xff\xc3 \xed\xa0\x80 \xf0\x9f\x94\x91"},
	};
	char *out;

	(void)state;
	out = manifest(CLI_MANIFEST_JSON, rows, 2);
	assert_string_equal(out,
			    "[\n"
			    " {\"input\": \"a.csr\", \"output\": \"out/a.pem\", \"serial\": "
			    "\"0A1B\", \"subject\": \"/CN=a\", \"status\": \"OK\", "
			    "\"message\": \"\"},\n"
			    " {\"input\": \"q\\\"b\\\\.csr\", \"output\": \"\", \"serial\": "
			    "\"\", \"subject\": \"/CN=caf\xc3\xa9\\u0009\\u0001\", \"status\": "
			    "\"INVALID_ARGUMENT\", \"message\": \"line\\nbreak \\u007f "
			    "\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \xf0\x9f\x94\x91\"}\n"
			    "]\n");
	free(out);
	out = manifest(CLI_MANIFEST_JSON, rows, 0);
	assert_string_equal(out, "[]\n");
	free(out);
}

static void test_manifest_csv(void **state)
{
	const struct cli_manifest_row rows[] = {
		{"a.csr", "out/a.pem", "0A1B", "/CN=a", "OK", ""},
		{"b,c.csr", "", "", "/CN=\"b\"", "INVALID_ARGUMENT", "two\r\nlines"},
		{" lead", "", "", "trail ", "NOT_FOUND", "no profile named 'x' (known: a, b)"},
	};
	char *out;

	(void)state;
	out = manifest(CLI_MANIFEST_CSV, rows, 3);
	assert_string_equal(out,
			    "input,output,serial,subject,status,message\r\n"
			    "a.csr,out/a.pem,0A1B,/CN=a,OK,\r\n"
			    "\"b,c.csr\",,,\"/CN=\"\"b\"\"\",INVALID_ARGUMENT,\"two\r\nlines\"\r\n"
			    "\" lead\",,,\"trail \",NOT_FOUND,\"no profile named 'x' (known: a, "
			    "b)\"\r\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_id),    cmocka_unit_test(test_csr_blocks),
		cmocka_unit_test(test_stem),	      cmocka_unit_test(test_next),
		cmocka_unit_test(test_serial_hex),    cmocka_unit_test(test_manifest_format),
		cmocka_unit_test(test_manifest_json), cmocka_unit_test(test_manifest_csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
