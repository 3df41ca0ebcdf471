/*
 * The signet commands: each asks libsignet once and prints the answer
 * ('audit verify' alone works on a local file).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditchain.h"
#include "cli.h"

int cli_error(struct cli_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
	va_end(ap);
	return err;
}

int cli_client_error(struct cli_ctx *ctx, int err)
{
	const char *why = signet_last_error(ctx->client);

	return cli_error(ctx, err, "%s", why[0] != '\0' ? why : signet_strerror(err));
}

int cli_connect(struct cli_ctx *ctx, const struct cli_args *args)
{
	int r = signet_connect(args->endpoint, args->timeout_ms, &ctx->client);

	if (r == SIGNET_E_NOMEM)
		return cli_error(ctx, r, "out of memory");
	/* nanomsg connects lazily: what fails here is the address itself. */
	if (r != 0)
		return cli_error(ctx, SIGNET_E_TRANSPORT, "cannot use endpoint '%s': %s",
				 args->endpoint, signet_strerror(r));
	if (args->retries > 0 && (r = signet_set_retries(ctx->client, args->retries)) != 0)
		return cli_error(ctx, r, "%s", signet_last_error(ctx->client));
	if (args->client == NULL)
		return 0;
	/* A secret file that cannot be used is a local file problem, whatever libsignet's code. */
	if ((r = signet_load_credential(ctx->client, args->client, args->secret_file)) != 0)
		return cli_error(ctx, r == SIGNET_E_NOMEM ? r : CLI_E_IO, "%s",
				 signet_last_error(ctx->client));
	return 0;
}

static int cmd_info(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_info *info = NULL;
	int r;

	(void)args;
	if ((r = signet_get_info(ctx->client, &info)) != 0)
		return cli_client_error(ctx, r);
	cli_print_info(ctx->out, info);
	signet_info_free(info);
	return 0;
}

static int cmd_health(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_health health;
	int r;

	(void)args;
	if ((r = signet_health(ctx->client, &health)) != 0)
		return cli_client_error(ctx, r);
	cli_print_health(ctx->out, &health);
	return 0;
}

static int cmd_key_generate(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_key_info *key = NULL;
	int r;

	if ((r = signet_generate_key_for(ctx->client, args->name, args->alg, args->key_purpose,
					 &key)) != 0)
		return cli_client_error(ctx, r);
	cli_print_key(ctx->out, key);
	signet_key_info_free(key);
	return 0;
}

static int cmd_key_pub(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_key_info *key = NULL;
	int r;

	if ((r = signet_get_public_key(ctx->client, args->name, &key)) != 0)
		return cli_client_error(ctx, r);
	if (args->der && key->spki_len == 0)
		r = cli_error(ctx, SIGNET_E_PROTOCOL, "signetd sent no public key for '%s'",
			      args->name);
	else if (args->der)
		r = cli_write_output(ctx, args->out, key->spki_der, key->spki_len);
	else if (key->spki_pem == NULL || key->spki_pem[0] == '\0')
		r = cli_error(ctx, SIGNET_E_PROTOCOL, "signetd sent no PEM for key '%s'",
			      args->name);
	else
		r = cli_write_output(ctx, args->out, key->spki_pem, strlen(key->spki_pem));
	signet_key_info_free(key);
	return r;
}

static int cmd_key_list(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_key_list *list = NULL;
	int r;

	(void)args;
	if ((r = signet_list_keys(ctx->client, &list)) != 0)
		return cli_client_error(ctx, r);
	for (size_t i = 0; i < list->n_keys; i++)
		cli_print_key(ctx->out, &list->keys[i]);
	signet_key_list_free(list);
	return 0;
}

static int cmd_key_delete(struct cli_ctx *ctx, const struct cli_args *args)
{
	int r;

	if ((r = signet_delete_key(ctx->client, args->name)) != 0)
		return cli_client_error(ctx, r);
	return 0;
}

/* --der: the DER, else the PEM; to --out FILE or standard output. */
static int write_der_or_pem(struct cli_ctx *ctx, const struct cli_args *args,
			    const struct signet_buf *der, const char *pem)
{
	if (args->der)
		return cli_write_output(ctx, args->out, der->data, der->len);
	return cli_write_output(ctx, args->out, pem, strlen(pem));
}

/* The end of a call that returned `r` and a DER and PEM pair: the error, or
 * the pair written (write_der_or_pem()); the pair is released either way. */
static int der_or_pem_reply(struct cli_ctx *ctx, const struct cli_args *args, int r,
			    struct signet_buf *der, char *pem)
{
	if (r != 0)
		r = cli_client_error(ctx, r);
	else
		r = write_der_or_pem(ctx, args, der, pem);
	signet_buf_free(der);
	signet_free(pem);
	return r;
}

static int cmd_csr(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_csr_params params = {
		.key = args->name,
		.subject = args->subject,
		.dns_names = args->dns.items,
		.n_dns_names = args->dns.n,
		.ip_addresses = args->ip.items,
		.n_ip_addresses = args->ip.n,
		.uris = args->uri.items,
		.n_uris = args->uri.n,
		.emails = args->email.items,
		.n_emails = args->email.n,
		.hash = args->hash,
	};
	struct signet_buf der = {0};
	char *pem = NULL;
	int r;

	r = signet_create_csr(ctx->client, &params, &der, &pem);
	return der_or_pem_reply(ctx, args, r, &der, pem);
}

static int cmd_sign(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_sign_params params = {
		.key = args->name,
		.prehashed = args->digest,
		.hash = args->hash,
		.format = args->format,
	};
	struct signet_buf input = {0}, sig = {0};
	int r;

	/* Local input first: no daemon round trip for a missing file. */
	if ((r = cli_read_input(ctx, args->in, CLI_MAX_INPUT, &input)) != 0)
		goto out;
	params.data = input.data;
	params.len = input.len;
	if ((r = signet_sign(ctx->client, &params, &sig, NULL, NULL)) != 0) {
		cli_client_error(ctx, r);
		goto out;
	}
	r = cli_write_output(ctx, args->out, sig.data, sig.len);
out:
	signet_buf_free(&input);
	signet_buf_free(&sig);
	return r;
}

static FILE *note_stream(const struct cli_ctx *ctx)
{
	return ctx->err != NULL ? ctx->err : stderr;
}

static int write_pem(struct cli_ctx *ctx, const char *path, const char *what,
		     const struct signet_buf *der)
{
	char *pem = NULL;
	int r;

	if ((r = cli_pem_encode("CERTIFICATE", der->data, der->len, &pem)) != 0)
		return cli_error(ctx, r, "cannot encode the %s as PEM", what);
	r = cli_write_output(ctx, path, pem, strlen(pem));
	free(pem);
	return r;
}

/* Only a root that may certify a CA gets a link certificate from signetd. */
static int write_link(struct cli_ctx *ctx, const struct cli_args *args,
		      const struct signet_buf *link)
{
	if (link->len > 0)
		return write_pem(ctx, args->link_out, "link certificate", link);
	fprintf(note_stream(ctx),
		"signet: note: no link certificate for CA '%s' (only a root whose pathLen is "
		"not 0 gets one); '%s' not written\n",
		args->name, args->link_out);
	return 0;
}

/* The summary line first, so the CA is reported even when writing FILE fails. */
int cli_report_ca(struct cli_ctx *ctx, const struct cli_args *args, const struct signet_ca_info *ca,
		  const struct signet_buf *link)
{
	struct signet_buf cert = {.data = ca->cert_der, .len = ca->cert_len};
	int r;

	cli_print_ca(ctx->out, ca);
	if (args->out != NULL && (r = write_pem(ctx, args->out, "CA certificate", &cert)) != 0)
		return r;
	if (args->link_out != NULL && link != NULL)
		return write_link(ctx, args, link);
	return 0;
}

static int cmd_ca_create(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_ca_params params = {
		.name = args->name,
		.parent = args->parent,
		.alg = args->alg,
		.subject = args->subject,
		.validity_days = args->days,
		.path_len = args->path_len,
		.hash = args->hash,
	};
	struct signet_ca_info *ca = NULL;
	int r;

	if (args->cmd == CLI_CMD_CA_CREATE_INTERMEDIATE)
		r = signet_create_intermediate_ca(ctx->client, &params, &ca);
	else
		r = signet_create_root_ca(ctx->client, &params, &ca);
	if (r != 0)
		return cli_client_error(ctx, r);
	r = cli_report_ca(ctx, args, ca, NULL);
	signet_ca_info_free(ca);
	return r;
}

/* The key line goes to ctx->err: standard output may be the request itself. */
static int cmd_ca_request(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_ca_request_params params = {
		.name = args->name,
		.alg = args->alg,
		.subject = args->subject,
		.path_len = args->path_len,
		.hash = args->hash,
	};
	struct signet_buf der = {0};
	char *pem = NULL, *key = NULL;
	int r;

	if ((r = signet_create_ca_request(ctx->client, &params, &der, &pem, &key)) != 0)
		return cli_client_error(ctx, r);
	cli_print_ca_key(note_stream(ctx), args->name, key);
	r = cli_write_output(ctx, args->out, pem, strlen(pem));
	signet_buf_free(&der);
	signet_free(pem);
	signet_free(key);
	return r;
}

static int cmd_ca_import(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_buf cert = {0}, chain = {0};
	struct signet_ca_info *ca = NULL;
	int r;

	/* Local input first: no daemon round trip for a missing file. */
	if ((r = cli_read_input(ctx, args->cert, CLI_MAX_CERT, &cert)) != 0 ||
	    (args->chain != NULL &&
	     (r = cli_read_input(ctx, args->chain, CLI_MAX_CERT, &chain)) != 0))
		goto out;
	if (cert.len == 0) {
		r = cli_error(ctx, CLI_E_IO, "the certificate file '%s' is empty", args->cert);
		goto out;
	}
	if ((r = signet_import_ca_certificate(ctx->client, args->name, cert.data, cert.len,
					      chain.data, chain.len, &ca)) != 0)
		cli_client_error(ctx, r);
	else
		r = cli_report_ca(ctx, args, ca, NULL);
out:
	signet_ca_info_free(ca);
	signet_buf_free(&cert);
	signet_buf_free(&chain);
	return r;
}

/* 'ca renew' and 'ca rekey': a new certificate, and for a rekeyed root a link one. */
static int cmd_ca_replace(struct cli_ctx *ctx, const struct cli_args *args)
{
	int rekey = args->cmd == CLI_CMD_CA_REKEY;
	struct signet_ca_info *ca = NULL;
	struct signet_buf link = {0};
	int r;

	if (rekey)
		r = signet_rekey_ca(ctx->client, args->name, args->alg, args->days, args->hash, &ca,
				    &link);
	else
		r = signet_renew_ca(ctx->client, args->name, args->days, args->hash, &ca, NULL);
	if (r != 0)
		return cli_client_error(ctx, r);
	r = cli_report_ca(ctx, args, ca, rekey ? &link : NULL);
	signet_ca_info_free(ca);
	signet_buf_free(&link);
	return r;
}

static int cmd_ca_chain(struct cli_ctx *ctx, const struct cli_args *args)
{
	char *pem = NULL;
	int r;

	if ((r = signet_get_ca_chain(ctx->client, args->name, &pem, NULL)) != 0)
		return cli_client_error(ctx, r);
	r = cli_write_output(ctx, args->out, pem, strlen(pem));
	signet_free(pem);
	return r;
}

static int cmd_ca_list(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_ca_list *list = NULL;
	int r;

	(void)args;
	if ((r = signet_list_cas(ctx->client, &list)) != 0)
		return cli_client_error(ctx, r);
	for (size_t i = 0; i < list->n_cas; i++)
		cli_print_ca(ctx->out, &list->cas[i]);
	signet_ca_list_free(list);
	return 0;
}

/* Largest CSR 'signet issue' reads; real ones are a few hundred bytes. */
#define CLI_MAX_CSR (64 * 1024)

static int issue_write(struct cli_ctx *ctx, const struct cli_args *args,
		       const struct signet_issued *is)
{
	struct signet_buf cert = {.data = is->cert_der, .len = is->cert_len};
	int r;

	/* The chain first: a certificate on standard output must be the last word. */
	if (args->chain != NULL &&
	    (r = cli_write_output(ctx, args->chain, is->chain_pem, strlen(is->chain_pem))) != 0)
		return r;
	return write_der_or_pem(ctx, args, &cert, is->cert_pem);
}

static int cmd_issue(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_issue_params params = {
		.ca = args->ca,
		.profile = args->profile,
		.validity_days = args->days,
		.subject = args->subject,
		.dns_names = args->dns.items,
		.n_dns_names = args->dns.n,
		.ip_addresses = args->ip.items,
		.n_ip_addresses = args->ip.n,
		.uris = args->uri.items,
		.n_uris = args->uri.n,
	};
	struct signet_buf csr = {0};
	struct signet_issued *is = NULL;
	int r;

	if (args->batch != NULL)
		return cli_cmd_issue_batch(ctx, args);
	if ((r = cli_read_input(ctx, args->csr, CLI_MAX_CSR, &csr)) != 0)
		return r;
	params.csr = csr.data;
	params.csr_len = csr.len;
	if ((r = signet_sign_csr(ctx->client, &params, &is)) != 0)
		cli_client_error(ctx, r);
	else
		r = issue_write(ctx, args, is);
	signet_issued_free(is);
	signet_buf_free(&csr);
	return r;
}

/* What a cloud registry wants uploaded as proof that we hold the CA's key. */
static int cmd_ca_verify_code(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_buf der = {0};
	char *pem = NULL;
	int r;

	r = signet_issue_verification_certificate(ctx->client, args->name, args->code, args->days,
						  &der, &pem);
	return der_or_pem_reply(ctx, args, r, &der, pem);
}

/*
 * Local: the file is read here and signetd is not asked, so a copy of the
 * log can be checked anywhere. A broken chain is CLI_E_AUDIT (exit 4) with
 * the line; a file that cannot be read is CLI_E_IO (exit 1).
 */
static int cmd_audit_verify(struct cli_ctx *ctx, const struct cli_args *args)
{
	const char *path = args->name;
	int from_stdin = strcmp(path, "-") == 0;
	FILE *f = from_stdin ? ctx->in : fopen(path, "r");
	char why[256];
	long n, bad = 0;
	int r = 0;

	if (f == NULL)
		return cli_error(ctx, CLI_E_IO, "cannot open '%s': %s", path, strerror(errno));
	n = auditchain_verify(f, &bad, why, sizeof(why), NULL);
	/* No line to blame (out of memory) or a read error: the file, not the chain. */
	if (n < 0 && (bad == 0 || ferror(f)))
		r = cli_error(ctx, CLI_E_IO, "%s: %s", path, why);
	else if (n < 0)
		r = cli_error(ctx, CLI_E_AUDIT, "%s line %ld: %s", path, bad, why);
	else
		fprintf(ctx->out, "%s: OK (%ld lines)\n", path, n);
	if (!from_stdin)
		fclose(f);
	return r;
}

static void ledger_filter_from_args(const struct cli_args *args, struct signet_ledger_filter *f)
{
	int64_t now = (int64_t)time(NULL);

	memset(f, 0, sizeof(*f));
	f->ca = args->ca;
	f->profile = args->profile;
	f->subject_contains = args->subject;
	f->serial = args->serial;
	f->valid_at = cli_when_resolve(&args->valid_at, now);
	f->expires_after = cli_when_resolve(&args->expires_after, now);
	f->expires_before = cli_when_resolve(&args->expires_before, now);
	f->revoked = args->revoked;
	f->page_size = args->limit;
	f->page_token = args->page;
}

/* One page printed; `*next` gets its next_page_token, "" after the last page. */
static int ledger_page(struct cli_ctx *ctx, const struct signet_ledger_filter *f, char **next)
{
	struct signet_issued_list *list = NULL;
	int r = 0;

	if ((r = signet_list_issued(ctx->client, f, &list)) != 0)
		return cli_client_error(ctx, r);
	for (size_t i = 0; i < list->n_certs; i++)
		cli_print_issued(ctx->out, &list->certs[i]);
	/* A token that leads back to the same page would make --all loop for ever. */
	if (list->next_page_token[0] != '\0' && f->page_token != NULL &&
	    strcmp(list->next_page_token, f->page_token) == 0)
		r = cli_error(ctx, SIGNET_E_PROTOCOL, "signetd answered page '%s' with itself",
			      f->page_token);
	else if ((*next = strdup(list->next_page_token)) == NULL)
		r = cli_error(ctx, SIGNET_E_NOMEM, "out of memory");
	signet_issued_list_free(list);
	return r;
}

/* Lines go out page by page: a long ledger is never held in memory. */
static int cmd_ledger_list(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_ledger_filter f;
	char *next = NULL, *sent = NULL;
	int r;

	ledger_filter_from_args(args, &f);
	while ((r = ledger_page(ctx, &f, &next)) == 0 && next[0] != '\0' && args->all) {
		free(sent);
		f.page_token = sent = next;
		next = NULL;
	}
	if (r == 0 && next[0] != '\0')
		cli_print_next_page(note_stream(ctx), next);
	free(next);
	free(sent);
	return r;
}

/* The certificate to --out or standard output; its ledger line to ctx->err, as
 * 'ca request' reports its key: standard output may be the certificate. */
static int cmd_ledger_get(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_issued_cert *cert = NULL;
	struct signet_buf der;
	int r;

	if ((r = signet_get_issued(ctx->client, args->serial,
				   args->has_fingerprint ? args->fingerprint : NULL, &cert)) != 0)
		return cli_client_error(ctx, r);
	cli_print_issued(note_stream(ctx), cert);
	der.data = cert->cert_der;
	der.len = cert->cert_len;
	if (args->der)
		r = cli_write_output(ctx, args->out, der.data, der.len);
	else
		r = write_pem(ctx, args->out, "certificate", &der);
	signet_issued_cert_free(cert);
	return r;
}

static int cmd_revoke(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_issued_cert *cert = NULL;
	int r;

	if ((r = signet_revoke(ctx->client, args->name, args->serial, args->reason,
			       args->invalidity_date, &cert)) != 0)
		return cli_client_error(ctx, r);
	cli_print_issued(ctx->out, cert);
	signet_issued_cert_free(cert);
	return 0;
}

/* Like 'ca chain', nothing but the CRL: its number is in it (openssl crl -crlnumber). */
static int cmd_crl(struct cli_ctx *ctx, const struct cli_args *args)
{
	struct signet_buf der = {0};
	char *pem = NULL;
	int r;

	r = signet_get_crl(ctx->client, args->name, args->key, &der, args->der ? NULL : &pem, NULL);
	return der_or_pem_reply(ctx, args, r, &der, pem);
}

typedef int (*cli_command_fn)(struct cli_ctx *ctx, const struct cli_args *args);

static const cli_command_fn command_fns[CLI_CMD_COUNT] = {
	[CLI_CMD_INFO] = cmd_info,
	[CLI_CMD_HEALTH] = cmd_health,
	[CLI_CMD_KEY_GENERATE] = cmd_key_generate,
	[CLI_CMD_KEY_PUB] = cmd_key_pub,
	[CLI_CMD_KEY_LIST] = cmd_key_list,
	[CLI_CMD_KEY_DELETE] = cmd_key_delete,
	[CLI_CMD_CSR] = cmd_csr,
	[CLI_CMD_SIGN] = cmd_sign,
	[CLI_CMD_CA_CREATE_ROOT] = cmd_ca_create,
	[CLI_CMD_CA_CREATE_INTERMEDIATE] = cmd_ca_create,
	[CLI_CMD_CA_CHAIN] = cmd_ca_chain,
	[CLI_CMD_CA_LIST] = cmd_ca_list,
	[CLI_CMD_ISSUE] = cmd_issue,
	[CLI_CMD_CA_VERIFY_CODE] = cmd_ca_verify_code,
	[CLI_CMD_CA_REQUEST] = cmd_ca_request,
	[CLI_CMD_CA_IMPORT] = cmd_ca_import,
	[CLI_CMD_CA_RENEW] = cmd_ca_replace,
	[CLI_CMD_CA_REKEY] = cmd_ca_replace,
	[CLI_CMD_AUDIT_VERIFY] = cmd_audit_verify,
	[CLI_CMD_LEDGER_LIST] = cmd_ledger_list,
	[CLI_CMD_LEDGER_GET] = cmd_ledger_get,
	[CLI_CMD_REVOKE] = cmd_revoke,
	[CLI_CMD_CRL] = cmd_crl,
	[CLI_CMD_CHALLENGE_CREATE] = cli_cmd_challenge_create,
	[CLI_CMD_CHALLENGE_VERIFY] = cli_cmd_challenge_verify,
	[CLI_CMD_VERIFY_CHAIN] = cli_cmd_verify_chain,
	[CLI_CMD_ENROL_CODE] = cli_cmd_enrol_code,
	[CLI_CMD_ENROL_CACERTS] = cli_cmd_enrol_cacerts,
	[CLI_CMD_ENROL_SCEP] = cli_cmd_enrol_scep,
	[CLI_CMD_ENROL_EST] = cli_cmd_enrol_est,
};

int cli_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	if ((unsigned)args->cmd >= CLI_CMD_COUNT || command_fns[args->cmd] == NULL)
		return cli_error(ctx, CLI_E_USAGE, "nothing to run for 'signet %s'",
				 cli_command_name(args->cmd));
	return command_fns[args->cmd](ctx, args);
}
