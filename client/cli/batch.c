/* The pure parts of 'signet issue --batch' (batch.h). */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

/* --- request ids --- */

static int hash_part(EVP_MD_CTX *md, const void *data, size_t len)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	return EVP_DigestUpdate(md, be, sizeof(be)) && EVP_DigestUpdate(md, data, len);
}

int cli_batch_request_id(const uint8_t *csr, size_t len, const char *ca, const char *profile,
			 unsigned days, uint8_t out[CLI_BATCH_ID_LEN])
{
	static const char label[] = "signet issue --batch v1";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t digest[EVP_MAX_MD_SIZE], d[4] = {(uint8_t)(days >> 24), (uint8_t)(days >> 16),
						 (uint8_t)(days >> 8), (uint8_t)days};
	unsigned dlen = 0;
	int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
		 hash_part(md, label, sizeof(label) - 1) && hash_part(md, ca, strlen(ca)) &&
		 hash_part(md, profile, strlen(profile)) && hash_part(md, d, sizeof(d)) &&
		 hash_part(md, csr, len) && EVP_DigestFinal_ex(md, digest, &dlen) &&
		 dlen >= CLI_BATCH_ID_LEN;

	if (ok)
		memcpy(out, digest, CLI_BATCH_ID_LEN);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* --- a PEM bundle --- */

/* The END line of the block whose BEGIN line ended at p, past its dashes; NULL if none. */
static const char *block_end(const char *p, const char *limit, const char *label)
{
	char end[64];
	size_t n = (size_t)snprintf(end, sizeof(end), "-----END %s-----", label);
	const char *e = p;

	while ((e = memchr(e, '-', (size_t)(limit - e))) != NULL) {
		if ((size_t)(limit - e) >= n && memcmp(e, end, n) == 0)
			return e + n;
		e++;
	}
	return NULL;
}

/* The next BEGIN of a CSR block at or after p: its start, and its label. */
static const char *block_begin(const char *p, const char *limit, const char **label)
{
	static const char *const labels[] = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"};
	char begin[64];

	for (; (p = memchr(p, '-', (size_t)(limit - p))) != NULL; p++)
		for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
			size_t n = (size_t)snprintf(begin, sizeof(begin), "-----BEGIN %s-----",
						    labels[i]);

			if ((size_t)(limit - p) >= n && memcmp(p, begin, n) == 0) {
				*label = labels[i];
				return p;
			}
		}
	return NULL;
}

static int blocks_add(struct signet_buf **v, size_t *n, size_t *cap, const char *from,
		      const char *to)
{
	struct signet_buf *grown;
	size_t len = (size_t)(to - from);

	if (*n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 16;
		if ((grown = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			return SIGNET_E_NOMEM;
		*v = grown;
	}
	/* the PEM text with its newline: what 'openssl req' would read */
	if (((*v)[*n].data = malloc(len + 1)) == NULL)
		return SIGNET_E_NOMEM;
	memcpy((*v)[*n].data, from, len);
	(*v)[*n].data[len] = '\n';
	(*v)[(*n)++].len = len + 1;
	return 0;
}

int cli_csr_blocks(const uint8_t *text, size_t len, struct signet_buf **out, size_t *n)
{
	const char *p = (const char *)text, *limit = p + len, *b, *e, *label;
	struct signet_buf *v = NULL;
	size_t cap = 0;
	int r = 0;

	*n = 0;
	while (r == 0 && p < limit && (b = block_begin(p, limit, &label)) != NULL) {
		if ((e = block_end(b, limit, label)) == NULL)
			r = SIGNET_E_INVALID_ARGUMENT;
		else
			r = blocks_add(&v, n, &cap, b, e);
		p = e;
	}
	if (r == 0 && *n == 0)
		r = SIGNET_E_INVALID_ARGUMENT;
	if (r != 0) {
		for (size_t i = 0; i < *n; i++)
			signet_buf_free(&v[i]);
		free(v);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

/* --- names and cuts --- */

int cli_batch_stem(const char *name, char *stem, size_t len)
{
	static const char *const exts[] = {".csr", ".pem", ".der"};
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (n > 4 && strcmp(name + n - 4, exts[i]) == 0 && n - 4 < len) {
			memcpy(stem, name, n - 4);
			stem[n - 4] = '\0';
			return 1;
		}
	return 0;
}

size_t cli_batch_next(const size_t *csr_lens, size_t from, size_t n, size_t max_n, size_t max_bytes)
{
	size_t k = 0, bytes = 0;

	while (from + k < n && k < max_n && (k == 0 || csr_lens[from + k] <= max_bytes - bytes)) {
		bytes += csr_lens[from + k];
		k++;
		if (bytes >= max_bytes)
			break;
	}
	return k;
}

void cli_serial_hex(const uint8_t *serial, size_t len, char out[41])
{
	static const char digits[] = "0123456789ABCDEF";

	out[0] = '\0';
	if (len > 20)
		return;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[serial[i] >> 4];
		out[2 * i + 1] = digits[serial[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* --- the manifest --- */

enum cli_manifest_format cli_manifest_format_of(const char *path)
{
	size_t n = path != NULL ? strlen(path) : 0;

	return n >= 4 && strcasecmp(path + n - 4, ".csv") == 0 ? CLI_MANIFEST_CSV
							       : CLI_MANIFEST_JSON;
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlongs, surrogates or code points above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	unsigned cp;

	if (n == 0 || s[0] > 0xf4)
		return 0;
	cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t k;

	fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p < 0x80)
			fputc(*p, f);
		else if ((k = utf8_len(p)) > 0) {
			fwrite(p, 1, k, f);
			p += k - 1;
		} else
			fputs("\\ufffd", f);
	}
	fputc('"', f);
}

static void csv_field(FILE *f, const char *s)
{
	size_t n;

	s = s != NULL ? s : "";
	n = strlen(s);
	if (strpbrk(s, ",\"\r\n") == NULL && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static const char *const columns[] = {"input", "output", "serial", "subject", "status", "message"};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

static void row_fields(const struct cli_manifest_row *row, const char *v[N_COLUMNS])
{
	v[0] = row->input;
	v[1] = row->output;
	v[2] = row->serial;
	v[3] = row->subject;
	v[4] = row->status;
	v[5] = row->message;
}

static void write_json(FILE *f, const struct cli_manifest_row *rows, size_t n)
{
	const char *v[N_COLUMNS];

	fputs("[", f);
	for (size_t i = 0; i < n; i++) {
		row_fields(&rows[i], v);
		fputs(i > 0 ? ",\n {" : "\n {", f);
		for (size_t c = 0; c < N_COLUMNS; c++) {
			fprintf(f, "%s\"%s\": ", c > 0 ? ", " : "", columns[c]);
			json_string(f, v[c]);
		}
		fputs("}", f);
	}
	fputs(n > 0 ? "\n]\n" : "]\n", f);
}

static void write_csv(FILE *f, const struct cli_manifest_row *rows, size_t n)
{
	const char *v[N_COLUMNS];

	for (size_t c = 0; c < N_COLUMNS; c++)
		fprintf(f, "%s%s", c > 0 ? "," : "", columns[c]);
	fputs("\r\n", f);
	for (size_t i = 0; i < n; i++) {
		row_fields(&rows[i], v);
		for (size_t c = 0; c < N_COLUMNS; c++) {
			if (c > 0)
				fputc(',', f);
			csv_field(f, v[c]);
		}
		fputs("\r\n", f);
	}
}

int cli_manifest_write(FILE *f, enum cli_manifest_format fmt, const struct cli_manifest_row *rows,
		       size_t n)
{
	if (fmt == CLI_MANIFEST_CSV)
		write_csv(f, rows, n);
	else
		write_json(f, rows, n);
	return ferror(f) || fflush(f) != 0 ? -1 : 0;
}
