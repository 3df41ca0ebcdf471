/* Output formats of the commands: stable, one fact per line or field. */
#include <inttypes.h>
#include <time.h>

#include "cli.h"
#include "hex.h"

/* Octets encoded per write: any length prints, from a small buffer. */
#define PRINT_HEX_CHUNK 32

void cli_print_hex(FILE *f, const uint8_t *data, size_t len)
{
	/* '-' keeps a line's field count fixed for scripts when there is nothing. */
	if (len == 0) {
		fputc('-', f);
		return;
	}
	for (size_t i = 0; i < len; i += PRINT_HEX_CHUNK) {
		size_t n = len - i < PRINT_HEX_CHUNK ? len - i : PRINT_HEX_CHUNK;
		char buf[2 * PRINT_HEX_CHUNK + 1];

		hex_encode(data + i, n, buf, sizeof(buf), HEX_LOWER, '\0');
		fputs(buf, f);
	}
}

/* Daemon and token strings reach a terminal: no control characters. */
static void print_text(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void print_field(FILE *f, const char *label, const char *value)
{
	fprintf(f, "%s: ", label);
	print_text(f, value);
	fputc('\n', f);
}

static void print_alg(FILE *f, enum signet_key_alg alg)
{
	const char *name = signet_key_alg_name(alg);

	if (name != NULL)
		fputs(name, f);
	else
		fprintf(f, "unknown(%d)", (int)alg);
}

static const char *yes_no(int v)
{
	return v ? "yes" : "no";
}

/* "sign", "sign,unwrap", ...; "-" for none (or a daemon too old to say). */
static void print_usage(FILE *f, unsigned int usage)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{SIGNET_KEY_USAGE_SIGN, "sign"},
		{SIGNET_KEY_USAGE_DECRYPT, "decrypt"},
		{SIGNET_KEY_USAGE_UNWRAP, "unwrap"},
		{SIGNET_KEY_USAGE_DERIVE, "derive"},
	};
	const char *sep = "";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (usage & names[i].bit) {
			fprintf(f, "%s%s", sep, names[i].name);
			sep = ",";
		}
	}
	if (*sep == '\0')
		fputc('-', f);
}

void cli_print_key(FILE *f, const struct signet_key_info *key)
{
	print_text(f, key->name);
	fputc(' ', f);
	print_alg(f, key->alg);
	fputc(' ', f);
	cli_print_hex(f, key->id, key->id_len);
	fprintf(f, " sensitive=%s extractable=%s usage=", yes_no(key->sensitive),
		yes_no(key->extractable));
	print_usage(f, key->usage);
	fputc('\n', f);
}

void cli_print_info(FILE *f, const struct signet_info *info)
{
	print_field(f, "daemon_version", info->daemon_version);
	fprintf(f, "protocol_version: %" PRIu32 "\n", info->protocol_version);
	print_field(f, "token_label", info->token_label);
	print_field(f, "token_serial", info->token_serial);
	print_field(f, "token_model", info->token_model);
	print_field(f, "token_manufacturer", info->token_manufacturer);
	fprintf(f, "slot: %" PRIu64 "\n", info->slot_id);
	fputs("algorithms:", f);
	for (size_t i = 0; i < info->n_key_algs; i++) {
		fputc(' ', f);
		print_alg(f, info->key_algs[i]);
	}
	fputs("\nmethods:", f);
	for (size_t i = 0; i < info->n_methods; i++) {
		fputc(' ', f);
		print_text(f, info->methods[i]);
	}
	fprintf(f, "\nworkers: %" PRIu32 "\n", info->workers);
	fprintf(f, "max_message_size: %" PRIu64 "\n", info->max_message_size);
}

void cli_print_health(FILE *f, const struct signet_health *health)
{
	fprintf(f, "%s token=", health->serving ? "SERVING" : "NOT_SERVING");
	print_text(f, health->token_state);
	fprintf(f, " uptime=%" PRIu64 "s\n", health->uptime_seconds);
}

/* RFC 3339 in UTC; '-' for a time gmtime cannot express, so the field stays one word. */
static void print_time(FILE *f, int64_t t)
{
	time_t tt = (time_t)t;
	char buf[64];
	struct tm tm;

	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		fputc('-', f);
		return;
	}
	fputs(buf, f);
}

/* A one-word field: '-' when empty, so that the line keeps its shape. */
static void print_word(FILE *f, const char *s)
{
	if (s != NULL && s[0] != '\0')
		print_text(f, s);
	else
		fputc('-', f);
}

void cli_print_ca_key(FILE *f, const char *name, const char *key)
{
	print_text(f, name);
	fputs(" key=", f);
	print_text(f, key);
	fputc('\n', f);
}

void cli_print_ca(FILE *f, const struct signet_ca_info *ca)
{
	print_text(f, ca->name);
	fputs(" parent=", f);
	print_word(f, ca->parent);
	fputs(" subject=", f);
	print_text(f, ca->subject);
	fputs(" not_after=", f);
	print_time(f, ca->not_after);
	if (ca->path_len_limited)
		fprintf(f, " path_len=%u\n", ca->path_len);
	else
		fputs(" path_len=none\n", f);
}

static void print_status(FILE *f, const struct signet_issued_cert *cert)
{
	const char *reason = signet_revocation_reason_name(cert->reason);

	if (!cert->revoked)
		fputs("valid", f);
	else if (reason != NULL)
		fprintf(f, "revoked(%s)", reason);
	else
		fprintf(f, "revoked(unknown(%d))", (int)cert->reason);
}

void cli_print_issued(FILE *f, const struct signet_issued_cert *cert)
{
	print_word(f, cert->serial);
	fputs(" ca=", f);
	print_word(f, cert->ca);
	fputs(" profile=", f);
	print_word(f, cert->profile);
	fputs(" subject=", f);
	print_text(f, cert->subject);
	fputs(" not_after=", f);
	print_time(f, cert->not_after);
	fputs(" status=", f);
	print_status(f, cert);
	fputc('\n', f);
}

void cli_print_next_page(FILE *f, const char *token)
{
	fputs("signet: note: more certificates follow: add --page ", f);
	print_text(f, token);
	fputs(" for the next page, or --all for every page\n", f);
}

void cli_print_challenge(FILE *f, const struct signet_challenge *challenge)
{
	print_word(f, challenge->id);
	fputs(" nonce=", f);
	cli_print_hex(f, challenge->nonce, challenge->nonce_len);
	fputs(" expires=", f);
	print_time(f, challenge->expires_at);
	fputc('\n', f);
}

void cli_print_enrolment_code(FILE *f, const char *code, int64_t expires_at)
{
	print_word(f, code);
	fputs(" expires=", f);
	print_time(f, expires_at);
	fputc('\n', f);
}

void cli_print_verified(FILE *f, const struct signet_verified *verified)
{
	fputs("OK device=", f);
	print_word(f, verified->device_id);
	fputs(" fingerprint=", f);
	cli_print_hex(f, verified->leaf_spki_sha256, verified->leaf_spki_sha256_len);
	fputs(" serial=", f);
	print_word(f, verified->leaf_serial);
	fputs(" ca=", f);
	print_word(f, verified->leaf_ca);
	fputc('\n', f);
}
