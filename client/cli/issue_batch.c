/*
 * 'signet issue --batch DIR|FILE': every CSR of a directory (*.csr, *.pem,
 * *.der, in byte order of their names) or of a PEM bundle, sent in batches of
 * --batch-size through SignCsrBatch; one certificate written per input that
 * was issued (OUT_DIR/<name without extension>.pem, or OUT_DIR/<N>.pem for
 * the N-th CSR of a bundle), and a manifest of every input. Each input's
 * request id is derived from what it asks for (batch.h), so the same command
 * run again after a crash gets the same certificates.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "batch.h"
#include "cli.h"

/* Largest CSR file a directory may hold, and the largest bundle. */
#define BATCH_MAX_CSR	 (64 * 1024)
#define BATCH_MAX_BUNDLE (64 * 1024 * 1024)
#define BATCH_MAX_INPUTS 1000000

struct input {
	char *name;	       /* the manifest's input */
	char *out;	       /* where its certificate goes */
	struct signet_buf csr; /* as read: PEM or DER */
	dev_t dev;	       /* the file it came from (DIR): never overwritten */
	ino_t ino;
	uint8_t id[CLI_BATCH_ID_LEN];
	int status;    /* 0 issued, else the error */
	char *message; /* why not; NULL when issued */
	char serial[41];
	char subject[256];
	int written; /* the certificate is in `out` */
};

struct inputs {
	struct input *v;
	size_t n, cap;
};

static void inputs_free(struct inputs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->v[i].name);
		free(in->v[i].out);
		free(in->v[i].message);
		signet_buf_free(&in->v[i].csr);
	}
	free(in->v);
}

/* A new input named `name`, its certificate going to OUT_DIR/<base>.pem; csr is taken. */
static int inputs_add(struct cli_ctx *ctx, struct inputs *in, const char *out_dir, const char *name,
		      const char *base, struct signet_buf *csr)
{
	struct input *it, *grown;

	if (in->n == BATCH_MAX_INPUTS)
		return cli_error(ctx, CLI_E_IO, "more than %d CSRs", BATCH_MAX_INPUTS);
	if (in->n == in->cap) {
		in->cap = in->cap != 0 ? in->cap * 2 : 64;
		if ((grown = reallocarray(in->v, in->cap, sizeof(*in->v))) == NULL)
			return cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
		in->v = grown;
	}
	it = &in->v[in->n];
	memset(it, 0, sizeof(*it));
	it->csr = *csr;
	*csr = (struct signet_buf){0}; /* transferred */
	in->n++;
	if ((it->name = strdup(name)) == NULL ||
	    asprintf(&it->out, "%s/%s.pem", out_dir, base) < 0) {
		it->out = NULL;
		return cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's CSR files, sorted; *names to free (each and all). */
static int list_dir(struct cli_ctx *ctx, const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char stem[NAME_MAX + 1], **v = NULL, **grown;
	size_t cap = 0;
	int r = 0;

	*n = 0;
	if (d == NULL)
		return cli_error(ctx, CLI_E_IO, "cannot open '%s': %s", dir, strerror(errno));
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (!cli_batch_stem(e->d_name, stem, sizeof(stem)))
			continue;
		if (*n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			if ((grown = reallocarray(v, cap, sizeof(*v))) == NULL) {
				r = cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
				break;
			}
			v = grown;
		}
		if ((v[*n] = strdup(e->d_name)) == NULL)
			r = cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
		else
			(*n)++;
	}
	closedir(d);
	if (r == 0 && *n > 0)
		qsort(v, *n, sizeof(*v), name_cmp);
	*names = v;
	return r;
}

/* Every CSR file of dir, a regular file each. */
static int load_dir(struct cli_ctx *ctx, const char *dir, const char *out_dir, struct inputs *in)
{
	char **names = NULL, stem[NAME_MAX + 1], *path = NULL;
	struct signet_buf csr = {0};
	struct stat st;
	size_t n = 0;
	int r = list_dir(ctx, dir, &names, &n);

	for (size_t i = 0; r == 0 && i < n; i++) {
		cli_batch_stem(names[i], stem, sizeof(stem));
		free(path);
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			r = cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
		} else if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			continue; /* a directory named x.pem, a dangling link */
		} else if ((r = cli_read_input(ctx, path, BATCH_MAX_CSR, &csr)) == 0 &&
			   (r = inputs_add(ctx, in, out_dir, names[i], stem, &csr)) == 0) {
			in->v[in->n - 1].dev = st.st_dev;
			in->v[in->n - 1].ino = st.st_ino;
		}
	}
	signet_buf_free(&csr);
	free(path);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r == 0 && in->n == 0)
		r = cli_error(ctx, CLI_E_IO, "'%s' holds no *.csr, *.pem or *.der file", dir);
	return r;
}

/* Every CSR block of a PEM bundle: BUNDLE#N, written to OUT_DIR/N.pem. */
static int load_bundle(struct cli_ctx *ctx, const char *file, const char *out_dir,
		       struct inputs *in)
{
	struct signet_buf text = {0}, *blocks = NULL;
	const char *base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	char name[NAME_MAX + 32], index[24];
	size_t n = 0;
	int r;

	if ((r = cli_read_input(ctx, file, BATCH_MAX_BUNDLE, &text)) != 0)
		return r;
	if ((r = cli_csr_blocks(text.data, text.len, &blocks, &n)) != 0)
		r = cli_error(ctx, r == SIGNET_E_NOMEM ? r : CLI_E_IO,
			      "'%s' is not a PEM bundle of CSRs (a CERTIFICATE REQUEST block "
			      "missing or not ended)",
			      file);
	for (size_t i = 0; r == 0 && i < n; i++) {
		snprintf(name, sizeof(name), "%.*s#%zu", NAME_MAX, base, i + 1);
		snprintf(index, sizeof(index), "%zu", i + 1);
		r = inputs_add(ctx, in, out_dir, name, index, &blocks[i]);
	}
	for (size_t i = 0; i < n; i++)
		signet_buf_free(&blocks[i]);
	free(blocks);
	signet_buf_free(&text);
	return r;
}

static int out_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct input *const *)a)->out,
		      (*(const struct input *const *)b)->out);
}

/* No two inputs write one file (x.csr and x.der), and none its own input (x.pem). */
static int check_outputs(struct cli_ctx *ctx, struct inputs *in)
{
	const struct input **v = calloc(in->n, sizeof(*v));
	struct stat st;
	int r = 0;

	if (v == NULL)
		return cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
	for (size_t i = 0; i < in->n; i++)
		v[i] = &in->v[i];
	qsort(v, in->n, sizeof(*v), out_cmp);
	for (size_t i = 1; r == 0 && i < in->n; i++)
		if (strcmp(v[i - 1]->out, v[i]->out) == 0)
			r = cli_error(ctx, CLI_E_IO, "'%s' and '%s' would both be written to '%s'",
				      v[i - 1]->name, v[i]->name, v[i]->out);
	for (size_t i = 0; r == 0 && i < in->n; i++)
		if (in->v[i].ino != 0 && stat(in->v[i].out, &st) == 0 &&
		    st.st_dev == in->v[i].dev && st.st_ino == in->v[i].ino)
			r = cli_error(ctx, CLI_E_IO,
				      "the certificate of '%s' would overwrite it: give --out-dir "
				      "another directory",
				      in->v[i].name);
	free(v);
	return r;
}

/* --out-dir, made if it is not there (its parent must be): certificates are public. */
static int make_out_dir(struct cli_ctx *ctx, const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0777) == 0 ||
	    (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	return cli_error(ctx, CLI_E_IO, "cannot make the directory '%s': %s", dir,
			 errno == EEXIST ? "a file is in the way" : strerror(errno));
}

static int load_inputs(struct cli_ctx *ctx, const struct cli_args *args, struct inputs *in)
{
	const char *out_dir = args->out_dir != NULL ? args->out_dir : ".";
	struct stat st;
	int r;

	if ((r = make_out_dir(ctx, out_dir)) != 0)
		return r;
	if (stat(args->batch, &st) != 0)
		return cli_error(ctx, CLI_E_IO, "cannot open '%s': %s", args->batch,
				 strerror(errno));
	r = S_ISDIR(st.st_mode) ? load_dir(ctx, args->batch, out_dir, in)
				: load_bundle(ctx, args->batch, out_dir, in);
	for (size_t i = 0; r == 0 && i < in->n; i++)
		if (cli_batch_request_id(in->v[i].csr.data, in->v[i].csr.len, args->ca,
					 args->profile, args->days, in->v[i].id) != 0)
			r = cli_error(ctx, SIGNET_E_NOMEM, "cannot derive a request id");
	return r != 0 ? r : check_outputs(ctx, in);
}

/* The CSR's subject, for the manifest of an input that was not issued. */
static void csr_subject(const struct signet_buf *csr, char *out, size_t len)
{
	const unsigned char *p = csr->data;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)csr->len);
	BIO *bio;

	out[0] = '\0';
	if (req == NULL && (bio = BIO_new_mem_buf(csr->data, (int)csr->len)) != NULL) {
		req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (req != NULL)
		X509_NAME_oneline(X509_REQ_get_subject_name(req), out, (int)len);
	X509_REQ_free(req);
}

static void cert_subject(const struct signet_batch_issued *is, char *out, size_t len)
{
	const unsigned char *p = is->cert_der;
	X509 *cert = d2i_X509(NULL, &p, (long)is->cert_len);

	out[0] = '\0';
	if (cert != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), out, (int)len);
	X509_free(cert);
}

static void set_failed(struct input *it, int status, const char *message)
{
	it->status = status;
	free(it->message);
	it->message =
		strdup(message != NULL && message[0] != '\0' ? message : signet_strerror(status));
}

/* One issued certificate, as PEM, into its file. */
static void write_cert(struct cli_ctx *ctx, struct input *it, const struct signet_batch_issued *is)
{
	char *pem = NULL;
	int r;

	cli_serial_hex(is->serial, is->serial_len, it->serial);
	cert_subject(is, it->subject, sizeof(it->subject));
	if ((r = cli_pem_encode("CERTIFICATE", is->cert_der, is->cert_len, &pem)) != 0)
		r = cli_error(ctx, r, "cannot encode the certificate of '%s'", it->name);
	else
		r = cli_write_output(ctx, it->out, pem, strlen(pem));
	free(pem);
	if (r != 0) {
		set_failed(it, r, ctx->msg); /* issued, and recorded: a re-run gets it again */
		return;
	}
	it->status = 0;
	it->written = 1;
}

/* One request: inputs [from, from + k). */
static int send_batch(struct cli_ctx *ctx, const struct cli_args *args, struct inputs *in,
		      size_t from, size_t k, int *chain_written)
{
	struct signet_batch_item *items = calloc(k, sizeof(*items));
	struct signet_batch_result *res = NULL;
	int r;

	if (items == NULL)
		return cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
	for (size_t i = 0; i < k; i++) {
		const struct input *it = &in->v[from + i];

		items[i].profile = args->profile;
		items[i].csr = it->csr.data;
		items[i].csr_len = it->csr.len;
		items[i].validity_days = args->days;
		memcpy(items[i].request_id, it->id, CLI_BATCH_ID_LEN);
	}
	if ((r = signet_sign_csr_batch(ctx->client, args->ca, items, k, &res)) != 0) {
		free(items);
		return cli_client_error(ctx, r);
	}
	for (size_t i = 0; i < k; i++) {
		struct input *it = &in->v[from + i];

		if (res->items[i].status == 0)
			write_cert(ctx, it, &res->items[i]);
		else {
			set_failed(it, res->items[i].status, res->items[i].message);
			csr_subject(&it->csr, it->subject, sizeof(it->subject));
		}
	}
	if (args->chain != NULL && !*chain_written &&
	    cli_write_output(ctx, args->chain, res->chain_pem, strlen(res->chain_pem)) == 0)
		*chain_written = 1;
	signet_batch_result_free(res);
	free(items);
	return 0;
}

static int write_manifest(struct cli_ctx *ctx, const struct cli_args *args, const struct inputs *in)
{
	struct cli_manifest_row *rows = calloc(in->n > 0 ? in->n : 1, sizeof(*rows));
	int to_stdout = args->manifest == NULL || strcmp(args->manifest, "-") == 0;
	FILE *f = to_stdout ? ctx->out : fopen(args->manifest, "w");
	int r = 0;

	if (rows == NULL || f == NULL) {
		r = rows == NULL ? cli_error(ctx, SIGNET_E_NOMEM, "out of memory")
				 : cli_error(ctx, CLI_E_IO, "cannot create '%s': %s",
					     args->manifest, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < in->n; i++) {
		const struct input *it = &in->v[i];

		rows[i] = (struct cli_manifest_row){.input = it->name,
						    .output = it->written ? it->out : "",
						    .serial = it->serial,
						    .subject = it->subject,
						    .status = cli_status_name(it->status),
						    .message =
							    it->message != NULL ? it->message : ""};
	}
	if (cli_manifest_write(f, cli_manifest_format_of(to_stdout ? NULL : args->manifest), rows,
			       in->n) != 0)
		r = cli_error(ctx, CLI_E_IO, "cannot write the manifest");
out:
	if (f != NULL && !to_stdout && fclose(f) != 0 && r == 0)
		r = cli_error(ctx, CLI_E_IO, "cannot write '%s': %s", args->manifest,
			      strerror(errno));
	free(rows);
	return r;
}

/* The batches, one after the other; the first that fails whole (signetd
 * gone, a limit) stops the run, and it and the rest are marked so. */
static int send_all(struct cli_ctx *ctx, const struct cli_args *args, struct inputs *in)
{
	size_t *lens = calloc(in->n, sizeof(*lens)), max_n, k;
	int chain_written = 0, r = 0;

	if (lens == NULL)
		return cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
	for (size_t i = 0; i < in->n; i++)
		lens[i] = in->v[i].csr.len;
	max_n = args->batch_size != 0 ? args->batch_size : CLI_DEFAULT_BATCH_SIZE;
	for (size_t from = 0; from < in->n; from += k) {
		k = cli_batch_next(lens, from, in->n, max_n, CLI_BATCH_BYTES);
		if ((r = send_batch(ctx, args, in, from, k, &chain_written)) == 0)
			continue;
		for (size_t i = from; i < in->n; i++)
			set_failed(&in->v[i], r,
				   i < from + k ? ctx->msg : "not sent: an earlier batch failed");
		break;
	}
	free(lens);
	return r;
}

int cli_cmd_issue_batch(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct inputs in = {.v = NULL};
	size_t failed = 0;
	int r, rm;

	if ((r = load_inputs(ctx, args, &in)) != 0)
		goto out;
	r = send_all(ctx, args, &in);
	rm = write_manifest(ctx, args, &in);
	for (size_t i = 0; i < in.n; i++)
		failed += in.v[i].status != 0;
	if (r == 0 && rm != 0)
		r = rm;
	else if (r == 0 && failed > 0)
		r = cli_error(ctx, CLI_E_PARTIAL,
			      "%zu of %zu CSRs were not issued (the manifest says why)", failed,
			      in.n);
out:
	inputs_free(&in);
	return r;
}
