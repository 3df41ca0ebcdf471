/* Table-driven parsing of the signet command line. */
#include "args.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "hex.h"
#include "namerule.h"
#include "reason.h"

#define N_ELEMS(a)   (sizeof(a) / sizeof((a)[0]))
#define CMD_BIT(cmd) (UINT64_C(1) << (cmd))
#define ANY_COMMAND  ((UINT64_C(1) << CLI_CMD_COUNT) - 1)

#define OPT_VALUE  0x1 /* takes a value: --opt VALUE or --opt=VALUE */
#define OPT_REPEAT 0x2 /* may be given more than once */

#define KEY_OUTPUT (CMD_BIT(CLI_CMD_KEY_PUB) | CMD_BIT(CLI_CMD_CSR))
#define CA_CREATE  (CMD_BIT(CLI_CMD_CA_CREATE_ROOT) | CMD_BIT(CLI_CMD_CA_CREATE_INTERMEDIATE))
#define CA_OUTPUT  (CA_CREATE | CMD_BIT(CLI_CMD_CA_CHAIN))
#define ISSUE	   CMD_BIT(CLI_CMD_ISSUE)
#define CA_VERIFY  CMD_BIT(CLI_CMD_CA_VERIFY_CODE)
#define CA_REQUEST CMD_BIT(CLI_CMD_CA_REQUEST)
#define CA_IMPORT  CMD_BIT(CLI_CMD_CA_IMPORT)
#define CA_RENEW   CMD_BIT(CLI_CMD_CA_RENEW)
#define CA_REKEY   CMD_BIT(CLI_CMD_CA_REKEY)
/* The lifecycle verbs that make a new certificate for a CA signet holds. */
#define CA_REPLACE	 (CA_RENEW | CA_REKEY)
#define LEDGER_LIST	 CMD_BIT(CLI_CMD_LEDGER_LIST)
#define LEDGER_GET	 CMD_BIT(CLI_CMD_LEDGER_GET)
#define REVOKE		 CMD_BIT(CLI_CMD_REVOKE)
#define CRL		 CMD_BIT(CLI_CMD_CRL)
#define CHALLENGE_CREATE CMD_BIT(CLI_CMD_CHALLENGE_CREATE)
#define CHALLENGE_VERIFY CMD_BIT(CLI_CMD_CHALLENGE_VERIFY)
#define VERIFY_CHAIN	 CMD_BIT(CLI_CMD_VERIFY_CHAIN)
#define ENROL_CODE	 CMD_BIT(CLI_CMD_ENROL_CODE)
#define ENROL_SCEP	 CMD_BIT(CLI_CMD_ENROL_SCEP)
#define ENROL_CACERTS	 CMD_BIT(CLI_CMD_ENROL_CACERTS)
#define ENROL_EST	 CMD_BIT(CLI_CMD_ENROL_EST)

/* signetd's own limits (it checks them too): a usage error costs no round trip. */
#define CA_MAX_DAYS	  36500
#define CA_MAX_PATH_LEN	  32
#define VERIFY_MAX_DAYS	  365
#define LEDGER_MAX_PAGE	  100
#define CHALLENGE_MAX_TTL 86400 /* the most possession.challenge_max_ttl_seconds allows */

/* Room for what --reason takes, reason_list("|"). */
#define REASON_LIST_MAX 192

_Static_assert(CLI_CMD_COUNT < 64, "CMD_BIT needs a wider type");

struct name_value {
	const char *name;
	int value;
};

static const struct name_value alg_names[] = {
	{"p256", SIGNET_KEY_EC_P256},	  {"p384", SIGNET_KEY_EC_P384},
	{"rsa2048", SIGNET_KEY_RSA_2048}, {"rsa3072", SIGNET_KEY_RSA_3072},
	{"rsa4096", SIGNET_KEY_RSA_4096},
};

static const struct name_value hash_names[] = {
	{"sha256", SIGNET_HASH_SHA256},
	{"sha384", SIGNET_HASH_SHA384},
	{"sha512", SIGNET_HASH_SHA512},
};

static const struct name_value format_names[] = {
	{"der", SIGNET_SIG_ECDSA_DER},
	{"raw", SIGNET_SIG_ECDSA_RAW},
	{"pkcs1", SIGNET_SIG_RSA_PKCS1},
	{"pss", SIGNET_SIG_RSA_PSS},
};

static const struct name_value purpose_names[] = {
	{"client", SIGNET_PURPOSE_CLIENT},
	{"server", SIGNET_PURPOSE_SERVER},
	{"ca", SIGNET_PURPOSE_CA},
	{"any", SIGNET_PURPOSE_ANY},
};

static const struct name_value key_purpose_names[] = {
	{"sign", SIGNET_KEY_PURPOSE_SIGN},
	{"ra", SIGNET_KEY_PURPOSE_RA},
};

/* Cursor over argv while parsing. */
struct parser {
	int argc;
	char *const *argv;
	int i;
	uint64_t seen; /* bit per options[] row given so far */
	struct cli_args *args;
};

/* How an option's value lands in struct cli_args. */
enum opt_kind {
	KIND_STRING, /* const char *: the value as given (pointing into argv) */
	KIND_FLAG,   /* int: set to 1 */
	KIND_LIST,   /* struct cli_strlist: one more value */
	KIND_CHOICE, /* an enum: the value of the name in `choices` */
	KIND_INT,    /* int: a decimal from `min` to `max` */
	KIND_UINT,   /* unsigned: likewise */
	KIND_WHEN,   /* struct cli_when: a Unix time or "now" */
	KIND_TIME,   /* int64_t: a Unix time */
	KIND_SPECIAL /* `apply` does it: the rules of one option */
};

struct cli_option;
typedef int cli_apply_fn(struct parser *p, const struct cli_option *opt, const char *value);

struct cli_option {
	const char *name;
	unsigned flags;
	uint64_t commands; /* CMD_BITs of the commands that accept it */
	enum opt_kind kind;
	size_t offset; /* of the field in struct cli_args */
	/* KIND_INT, KIND_UINT: completes "--days wants ..."; KIND_STRING: why "" is
	 * refused (NULL: "" is a value like any other) */
	const char *what;
	long min, max; /* KIND_INT, KIND_UINT */
	const struct name_value *choices;
	size_t n_choices;
	cli_apply_fn *apply; /* KIND_SPECIAL */
};

/*
 * offsetof(struct cli_args, f), refused at compile time unless f is a `type`:
 * comparing pointers to distinct types is a diagnostic (an error with -Werror).
 */
#define FIELD(f, type)                                                                             \
	(offsetof(struct cli_args, f) + 0 * sizeof(&((struct cli_args *)0)->f == (type *)0))
#define STRING(f)	 .kind = KIND_STRING, .offset = FIELD(f, const char *)
#define NONEMPTY(f, why) STRING(f), .what = (why)
#define FLAG(f)		 .kind = KIND_FLAG, .offset = FIELD(f, int)
#define LIST(f)		 .kind = KIND_LIST, .offset = FIELD(f, struct cli_strlist)
#define WHEN(f)		 .kind = KIND_WHEN, .offset = FIELD(f, struct cli_when)
#define TIME(f)		 .kind = KIND_TIME, .offset = FIELD(f, int64_t)
#define INT(f, what_, lo, hi)                                                                      \
	.kind = KIND_INT, .offset = FIELD(f, int), .what = (what_), .min = (lo), .max = (hi)
#define UINT(f, what_, lo, hi)                                                                     \
	.kind = KIND_UINT, .offset = FIELD(f, unsigned), .what = (what_), .min = (lo), .max = (hi)
/* An enum field: written as an int, which every enum of signet.h is the size of. */
#define CHOICE(f, table)                                                                           \
	.kind = KIND_CHOICE, .offset = offsetof(struct cli_args, f), .choices = (table),           \
	.n_choices = N_ELEMS(table)
#define SPECIAL(fn) .kind = KIND_SPECIAL, .apply = (fn)

_Static_assert(sizeof(enum signet_key_alg) == sizeof(int) &&
		       sizeof(enum signet_hash) == sizeof(int) &&
		       sizeof(enum signet_sig_format) == sizeof(int) &&
		       sizeof(enum signet_chain_purpose) == sizeof(int),
	       "KIND_CHOICE writes an enum as an int");

/* The options with rules of their own. */
static cli_apply_fn apply_days, apply_revoked, apply_fingerprint, apply_reason, apply_purpose;

static const struct cli_option options[] = {
	{"endpoint", OPT_VALUE, ANY_COMMAND,
	 NONEMPTY(endpoint, "--endpoint needs a URL or a comma-separated list, "
			    "e.g. " SIGNET_DEFAULT_ENDPOINT)},
	{"timeout", OPT_VALUE, ANY_COMMAND, INT(timeout_ms, "milliseconds", 1, INT_MAX)},
	{"retries", OPT_VALUE, ANY_COMMAND, UINT(retries, "a number", 0, CLI_RETRIES_MAX)},
	{"client", OPT_VALUE, ANY_COMMAND, STRING(client)},
	{"secret-file", OPT_VALUE, ANY_COMMAND, STRING(secret_file)},
	{"help", OPT_REPEAT, ANY_COMMAND, FLAG(help)},
	{"version", OPT_REPEAT, CMD_BIT(CLI_CMD_NONE), FLAG(version)},
	{"alg", OPT_VALUE, CMD_BIT(CLI_CMD_KEY_GENERATE) | CA_CREATE | CA_REQUEST | CA_REKEY,
	 CHOICE(alg, alg_names)},
	{"der", OPT_REPEAT, KEY_OUTPUT | ISSUE | CA_VERIFY | LEDGER_GET | CRL, FLAG(der)},
	{"out", OPT_VALUE,
	 KEY_OUTPUT | CMD_BIT(CLI_CMD_SIGN) | CA_OUTPUT | ISSUE | CA_VERIFY | CA_REQUEST |
		 CA_IMPORT | CA_REPLACE | LEDGER_GET | CRL | ENROL_SCEP | ENROL_CACERTS | ENROL_EST,
	 STRING(out)},
	{"in", OPT_VALUE, CMD_BIT(CLI_CMD_SIGN) | ENROL_SCEP, STRING(in)},
	{"subject", OPT_VALUE, CMD_BIT(CLI_CMD_CSR) | CA_CREATE | ISSUE | CA_REQUEST | LEDGER_LIST,
	 STRING(subject)},
	{"dns", OPT_VALUE | OPT_REPEAT, CMD_BIT(CLI_CMD_CSR) | ISSUE, LIST(dns)},
	{"ip", OPT_VALUE | OPT_REPEAT, CMD_BIT(CLI_CMD_CSR) | ISSUE, LIST(ip)},
	{"uri", OPT_VALUE | OPT_REPEAT, CMD_BIT(CLI_CMD_CSR) | ISSUE, LIST(uri)},
	{"email", OPT_VALUE | OPT_REPEAT, CMD_BIT(CLI_CMD_CSR), LIST(email)},
	{"hash", OPT_VALUE,
	 CMD_BIT(CLI_CMD_CSR) | CMD_BIT(CLI_CMD_SIGN) | CA_CREATE | CA_REQUEST | CA_REPLACE |
		 CHALLENGE_VERIFY,
	 CHOICE(hash, hash_names)},
	{"digest", OPT_REPEAT, CMD_BIT(CLI_CMD_SIGN), FLAG(digest)},
	{"format", OPT_VALUE, CMD_BIT(CLI_CMD_SIGN) | CHALLENGE_VERIFY,
	 CHOICE(format, format_names)},
	{"parent", OPT_VALUE, CMD_BIT(CLI_CMD_CA_CREATE_INTERMEDIATE), STRING(parent)},
	{"days", OPT_VALUE, CA_CREATE | ISSUE | CA_VERIFY | CA_REPLACE, SPECIAL(apply_days)},
	{"path-len", OPT_VALUE, CA_CREATE | CA_REQUEST,
	 INT(path_len, "a number of CA levels", 0, CA_MAX_PATH_LEN)},
	{"ca", OPT_VALUE, ISSUE | LEDGER_LIST, STRING(ca)},
	{"profile", OPT_VALUE, ISSUE | LEDGER_LIST, STRING(profile)},
	{"csr", OPT_VALUE, ISSUE | ENROL_EST, STRING(csr)},
	{"batch", OPT_VALUE, ISSUE, NONEMPTY(batch, "--batch needs a directory or a PEM bundle")},
	{"out-dir", OPT_VALUE, ISSUE, NONEMPTY(out_dir, "--out-dir needs a directory")},
	{"manifest", OPT_VALUE, ISSUE,
	 NONEMPTY(manifest, "--manifest needs a file (.json or .csv)")},
	{"batch-size", OPT_VALUE, ISSUE,
	 UINT(batch_size, "a number of CSRs", 1, CLI_MAX_BATCH_SIZE)},
	{"chain", OPT_VALUE, ISSUE | CA_IMPORT | CHALLENGE_VERIFY | VERIFY_CHAIN | ENROL_EST,
	 STRING(chain)},
	{"code", OPT_VALUE, ENROL_EST, STRING(code)},
	{"reenroll", 0, ENROL_EST, FLAG(reenroll)},
	{"tls-unique", OPT_VALUE, ENROL_EST, STRING(tls_unique)},
	{"cert", OPT_VALUE, CA_IMPORT, STRING(cert)},
	{"link-out", OPT_VALUE, CA_REKEY, STRING(link_out)},
	{"serial", OPT_VALUE, LEDGER_LIST, STRING(serial)},
	{"valid-at", OPT_VALUE, LEDGER_LIST, WHEN(valid_at)},
	{"expires-after", OPT_VALUE, LEDGER_LIST, WHEN(expires_after)},
	{"expires-before", OPT_VALUE, LEDGER_LIST, WHEN(expires_before)},
	{"revoked", 0, LEDGER_LIST, SPECIAL(apply_revoked)},
	{"not-revoked", 0, LEDGER_LIST, SPECIAL(apply_revoked)},
	{"limit", OPT_VALUE, LEDGER_LIST,
	 UINT(limit, "a number of certificates", 1, LEDGER_MAX_PAGE)},
	{"all", 0, LEDGER_LIST, FLAG(all)},
	{"page", OPT_VALUE, LEDGER_LIST, STRING(page)},
	{"fingerprint", OPT_VALUE, LEDGER_GET | CHALLENGE_CREATE, SPECIAL(apply_fingerprint)},
	{"reason", OPT_VALUE, REVOKE, SPECIAL(apply_reason)},
	{"invalidity-date", OPT_VALUE, REVOKE, TIME(invalidity_date)},
	{"key", OPT_VALUE, CRL, STRING(key)},
	/* "" binds to nothing: signetd would match no leaf. */
	{"device-id", OPT_VALUE, CHALLENGE_CREATE | ENROL_CODE,
	 NONEMPTY(device_id, "--device-id needs the device's ID, its certificate's CN")},
	{"ttl", OPT_VALUE, CHALLENGE_CREATE | ENROL_CODE,
	 UINT(ttl, "a number of seconds", 1, CHALLENGE_MAX_TTL)},
	{"nonce-out", OPT_VALUE, CHALLENGE_CREATE, STRING(nonce_out)},
	{"sig", OPT_VALUE, CHALLENGE_VERIFY, STRING(sig)},
	{"purpose", OPT_VALUE, VERIFY_CHAIN | CMD_BIT(CLI_CMD_KEY_GENERATE),
	 SPECIAL(apply_purpose)},
	{"check-revocation", 0, VERIFY_CHAIN, FLAG(check_revocation)},
	{"path-out", OPT_VALUE, VERIFY_CHAIN, STRING(path_out)},
};

_Static_assert(N_ELEMS(options) <= 64, "struct parser's `seen` needs a wider type");

struct cli_command_desc {
	const char *group; /* "key" or "ca" for their subcommands, else NULL */
	const char *word;
	const char *name; /* as the user types it, for messages */
	enum cli_command cmd;
	const char *positional; /* "key NAME", "CA NAME"; NULL: takes none */
	int is_group;		/* only a word before a subcommand */
};

static const struct cli_command_desc commands[] = {
	{NULL, "info", "info", CLI_CMD_INFO, NULL, 0},
	{NULL, "health", "health", CLI_CMD_HEALTH, NULL, 0},
	{NULL, "key", "key", CLI_CMD_KEY, NULL, 1},
	{"key", "generate", "key generate", CLI_CMD_KEY_GENERATE, "key NAME", 0},
	{"key", "pub", "key pub", CLI_CMD_KEY_PUB, "key NAME", 0},
	{"key", "list", "key list", CLI_CMD_KEY_LIST, NULL, 0},
	{"key", "delete", "key delete", CLI_CMD_KEY_DELETE, "key NAME", 0},
	{NULL, "csr", "csr", CLI_CMD_CSR, "key NAME", 0},
	{NULL, "sign", "sign", CLI_CMD_SIGN, "key NAME", 0},
	{NULL, "ca", "ca", CLI_CMD_CA, NULL, 1},
	{"ca", "create-root", "ca create-root", CLI_CMD_CA_CREATE_ROOT, "CA NAME", 0},
	{"ca", "create-intermediate", "ca create-intermediate", CLI_CMD_CA_CREATE_INTERMEDIATE,
	 "CA NAME", 0},
	{"ca", "request", "ca request", CLI_CMD_CA_REQUEST, "CA NAME", 0},
	{"ca", "import", "ca import", CLI_CMD_CA_IMPORT, "CA NAME", 0},
	{"ca", "renew", "ca renew", CLI_CMD_CA_RENEW, "CA NAME", 0},
	{"ca", "rekey", "ca rekey", CLI_CMD_CA_REKEY, "CA NAME", 0},
	{"ca", "chain", "ca chain", CLI_CMD_CA_CHAIN, "CA NAME", 0},
	{"ca", "list", "ca list", CLI_CMD_CA_LIST, NULL, 0},
	{"ca", "verify-code", "ca verify-code", CLI_CMD_CA_VERIFY_CODE, "CA NAME", 0},
	{NULL, "issue", "issue", CLI_CMD_ISSUE, NULL, 0},
	{NULL, "ledger", "ledger", CLI_CMD_LEDGER, NULL, 1},
	{"ledger", "list", "ledger list", CLI_CMD_LEDGER_LIST, NULL, 0},
	{"ledger", "get", "ledger get", CLI_CMD_LEDGER_GET, "SERIAL", 0},
	{NULL, "revoke", "revoke", CLI_CMD_REVOKE, "CA NAME", 0},
	{NULL, "crl", "crl", CLI_CMD_CRL, "CA NAME", 0},
	{NULL, "audit", "audit", CLI_CMD_AUDIT, NULL, 1},
	{"audit", "verify", "audit verify", CLI_CMD_AUDIT_VERIFY, "FILE", 0},
	{NULL, "challenge", "challenge", CLI_CMD_CHALLENGE, NULL, 1},
	{"challenge", "create", "challenge create", CLI_CMD_CHALLENGE_CREATE, NULL, 0},
	{"challenge", "verify", "challenge verify", CLI_CMD_CHALLENGE_VERIFY, "CHALLENGE_ID", 0},
	{NULL, "verify-chain", "verify-chain", CLI_CMD_VERIFY_CHAIN, NULL, 0},
	{NULL, "enrol", "enrol", CLI_CMD_ENROL, NULL, 1},
	{"enrol", "code", "enrol code", CLI_CMD_ENROL_CODE, "enrolment NAME", 0},
	{"enrol", "cacerts", "enrol cacerts", CLI_CMD_ENROL_CACERTS, "enrolment NAME", 0},
	{"enrol", "scep", "enrol scep", CLI_CMD_ENROL_SCEP, "enrolment NAME", 0},
	{"enrol", "est", "enrol est", CLI_CMD_ENROL_EST, "enrolment NAME", 0},
};

static int usage(struct cli_args *args, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage(struct cli_args *args, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args->error, sizeof(args->error), fmt, ap);
	va_end(ap);
	return CLI_E_USAGE;
}

const char *cli_command_name(enum cli_command cmd)
{
	for (size_t i = 0; i < N_ELEMS(commands); i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "";
}

static const struct cli_command_desc *command_desc(enum cli_command cmd)
{
	for (size_t i = 0; i < N_ELEMS(commands); i++)
		if (commands[i].cmd == cmd)
			return &commands[i];
	return NULL;
}

/* The one command that reads a local file and never asks signetd. */
int cli_command_is_local(enum cli_command cmd)
{
	return cmd == CLI_CMD_AUDIT_VERIFY;
}

/* "--hash must be one of sha256|sha384|sha512, not 'md5'" when not found. */
static int parse_choice(struct cli_args *args, const char *option, const char *value,
			const struct name_value *table, size_t n, int *out)
{
	char choices[128] = "";
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(value, table[i].name) == 0) {
			*out = table[i].value;
			return 0;
		}
		used += (size_t)snprintf(choices + used, sizeof(choices) - used, "%s%s",
					 i > 0 ? "|" : "", table[i].name);
		if (used >= sizeof(choices))
			break;
	}
	return usage(args, "--%s must be one of %s, not '%s'", option, choices, value);
}

/* A decimal from `min` to `max`; `what` completes "--days wants ...". */
static int parse_bounded(struct cli_args *args, const char *option, const char *what,
			 const char *value, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		return usage(args, "--%s wants %s from %ld to %ld, not '%s'", option, what, min,
			     max, value);
	*out = v;
	return 0;
}

/* Room for every value a repeatable option can take: at most one per argv entry. */
static int strlist_push(struct cli_strlist *list, int argc, const char *value)
{
	if (list->items == NULL &&
	    (list->items = calloc((size_t)argc, sizeof(*list->items))) == NULL)
		return SIGNET_E_NOMEM;
	list->items[list->n++] = value;
	return 0;
}

/* Seconds since 1970; from 1, since 0 means "none" on the wire. */
static int parse_time(struct cli_args *args, const char *option, const char *what,
		      const char *value, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v <= 0)
		return usage(args, "--%s wants %s, not '%s'", option, what, value);
	*out = v;
	return 0;
}

/* "now" is resolved when the command runs: parsing reads no clock. */
static int parse_when(struct cli_args *args, const char *option, const char *value,
		      struct cli_when *out)
{
	if (strcmp(value, "now") == 0) {
		out->now = 1;
		return 0;
	}
	return parse_time(args, option, "a Unix time in seconds or 'now'", value, &out->at);
}

int64_t cli_when_resolve(const struct cli_when *w, int64_t now)
{
	return w->now ? now : w->at;
}

/* A verification certificate is short-lived: signetd allows a year. */
static int apply_days(struct parser *p, const struct cli_option *opt, const char *value)
{
	long max = p->args->cmd == CLI_CMD_CA_VERIFY_CODE ? VERIFY_MAX_DAYS : CA_MAX_DAYS;
	long v = 0;
	int r;

	if ((r = parse_bounded(p->args, opt->name, "a number of days", value, 1, max, &v)) == 0)
		p->args->days = (unsigned)v;
	return r;
}

static const struct cli_option *find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < N_ELEMS(options); i++)
		if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

static uint64_t option_bit(const struct cli_option *opt)
{
	return UINT64_C(1) << (opt - options);
}

/* --revoked and --not-revoked: one filter, given once. */
static int apply_revoked(struct parser *p, const struct cli_option *opt, const char *value)
{
	int revoked = strcmp(opt->name, "revoked") == 0;
	const char *other = revoked ? "not-revoked" : "revoked";

	(void)value;
	if (p->seen & option_bit(find_option(other, strlen(other))))
		return usage(p->args, "--revoked and --not-revoked exclude each other");
	p->args->revoked = revoked ? SIGNET_REVOKED_ONLY : SIGNET_REVOKED_NOT;
	return 0;
}

/* --purpose: what a chain is checked for (verify-chain), what a key is for (key generate). */
static int apply_purpose(struct parser *p, const struct cli_option *opt, const char *value)
{
	int v = 0, r;

	if (p->args->cmd == CLI_CMD_KEY_GENERATE) {
		if ((r = parse_choice(p->args, opt->name, value, key_purpose_names,
				      N_ELEMS(key_purpose_names), &v)) != 0)
			return r;
		p->args->key_purpose = (enum signet_key_purpose)v;
		return 0;
	}
	if ((r = parse_choice(p->args, opt->name, value, purpose_names, N_ELEMS(purpose_names),
			      &v)) != 0)
		return r;
	p->args->purpose = (enum signet_chain_purpose)v;
	return 0;
}

/* 64 hex digits, as sha256sum prints the hash of a DER SubjectPublicKeyInfo. */
static int apply_fingerprint(struct parser *p, const struct cli_option *opt, const char *value)
{
	struct cli_args *args = p->args;
	size_t n = sizeof(args->fingerprint);

	(void)opt;
	if (strlen(value) != 2 * n || hex_decode(value, 2 * n, args->fingerprint, n) != 0)
		return usage(args,
			     "--fingerprint wants the SHA-256 of the public key as 64 hex "
			     "digits, not '%s'",
			     value);
	args->has_fingerprint = 1;
	return 0;
}

/* The names signetd revokes with, ignoring case (removeFromCRL is for delta
 * CRLs, which signet does not make). */
static int apply_reason(struct parser *p, const struct cli_option *opt, const char *value)
{
	char list[REASON_LIST_MAX];
	int code;

	(void)opt;
	if (reason_from_name(value, &code) != 0 || !reason_valid(code))
		return usage(p->args, "--reason must be one of %s, not '%s'",
			     reason_list("|", list, sizeof(list)), value);
	p->args->reason = (enum signet_revocation_reason)code;
	return 0;
}

/* `value` (NULL for an option that takes none) into the field options[] names. */
static int apply_option(struct parser *p, const struct cli_option *opt, const char *value)
{
	struct cli_args *args = p->args;
	void *field = (char *)args + opt->offset;
	long v = 0;
	int choice = 0, r;

	switch (opt->kind) {
	case KIND_STRING:
		if (opt->what != NULL && value[0] == '\0')
			return usage(args, "%s", opt->what);
		*(const char **)field = value;
		return 0;
	case KIND_FLAG:
		*(int *)field = 1;
		return 0;
	case KIND_LIST:
		return strlist_push(field, p->argc, value);
	case KIND_CHOICE:
		if ((r = parse_choice(args, opt->name, value, opt->choices, opt->n_choices,
				      &choice)) == 0)
			memcpy(field, &choice, sizeof(choice)); /* the enum, as an int */
		return r;
	case KIND_INT:
	case KIND_UINT:
		if ((r = parse_bounded(args, opt->name, opt->what, value, opt->min, opt->max,
				       &v)) != 0)
			return r;
		if (opt->kind == KIND_INT)
			*(int *)field = (int)v;
		else
			*(unsigned *)field = (unsigned)v;
		return 0;
	case KIND_WHEN:
		return parse_when(args, opt->name, value, field);
	case KIND_TIME:
		return parse_time(args, opt->name, "a Unix time in seconds", value, field);
	case KIND_SPECIAL:
		return opt->apply(p, opt, value);
	}
	return usage(args, "internal error: option --%s has no handler", opt->name);
}

static int unknown_option(struct parser *p, const char *arg)
{
	enum cli_command cmd = p->args->cmd;

	if (cmd == CLI_CMD_NONE)
		return usage(p->args, "unknown option '%s'", arg);
	return usage(p->args, "unknown option '%s' for 'signet %s'", arg, cli_command_name(cmd));
}

/* One option at argv[p->i] ("--name", "--name=value", "-h"); consumes its value. */
static int parse_option(struct parser *p)
{
	const char *arg = p->argv[p->i];
	const char *name = arg + 2, *eq, *value = NULL;
	const struct cli_option *opt;

	if (strcmp(arg, "-h") == 0)
		name = "help";
	else if (strncmp(arg, "--", 2) != 0)
		return unknown_option(p, arg);
	eq = strchr(name, '=');
	opt = find_option(name, eq != NULL ? (size_t)(eq - name) : strlen(name));
	if (opt == NULL || !(opt->commands & CMD_BIT(p->args->cmd)))
		return unknown_option(p, arg);
	if (!(opt->flags & OPT_VALUE) && eq != NULL)
		return usage(p->args, "option --%s takes no value", opt->name);
	if ((opt->flags & OPT_VALUE) && eq != NULL)
		value = eq + 1;
	else if (opt->flags & OPT_VALUE) {
		if (p->i + 1 >= p->argc)
			return usage(p->args, "option --%s needs a value", opt->name);
		value = p->argv[++p->i];
	}
	if (!(opt->flags & OPT_REPEAT) && (p->seen & option_bit(opt)))
		return usage(p->args, "option --%s is given twice", opt->name);
	p->seen |= option_bit(opt);
	return apply_option(p, opt, value);
}

static int is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

static int is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Global options, up to the command word (as getopt's "+"). */
static int parse_global(struct parser *p)
{
	int r;

	for (; p->i < p->argc && is_option(p->argv[p->i]); p->i++) {
		if (strcmp(p->argv[p->i], "--") == 0) {
			p->i++;
			break;
		}
		if ((r = parse_option(p)) != 0)
			return r;
	}
	return 0;
}

static const struct cli_command_desc *find_command(const char *group, const char *word)
{
	for (size_t i = 0; i < N_ELEMS(commands); i++) {
		int same_group = group == NULL ? commands[i].group == NULL
					       : commands[i].group != NULL &&
							 strcmp(commands[i].group, group) == 0;

		if (same_group && strcmp(commands[i].word, word) == 0)
			return &commands[i];
	}
	return NULL;
}

/* "generate, pub, list, delete": the subcommands of `group`, from the table. */
static void subcommand_list(const char *group, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_ELEMS(commands) && used < size; i++)
		if (commands[i].group != NULL && strcmp(commands[i].group, group) == 0)
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
						 used > 0 ? ", " : "", commands[i].word);
}

/* The command word(s): "info", "key generate", "ca chain", ... */
static int parse_command(struct parser *p)
{
	const struct cli_command_desc *d;
	const char *word, *group;
	char choices[128];

	if (p->i >= p->argc)
		return usage(p->args, "no command given");
	word = p->argv[p->i++];
	if ((d = find_command(NULL, word)) == NULL)
		return usage(p->args, "unknown command '%s'", word);
	p->args->cmd = d->cmd;
	if (!d->is_group)
		return 0;
	group = d->word;
	/* "key --help" asks for the group's help; anything else needs a subcommand. */
	if (p->i < p->argc && is_help(p->argv[p->i])) {
		p->args->help = 1;
		return 0;
	}
	if (p->i >= p->argc || is_option(p->argv[p->i])) {
		subcommand_list(group, choices, sizeof(choices));
		return usage(p->args, "'signet %s' needs a subcommand: %s", group, choices);
	}
	word = p->argv[p->i++];
	if ((d = find_command(group, word)) == NULL)
		return usage(p->args, "unknown subcommand '%s %s'", group, word);
	p->args->cmd = d->cmd;
	return 0;
}

/* Where the next positional goes; NULL when the command takes no more. */
static const char **positional_slot(struct cli_args *args, const struct cli_command_desc *d)
{
	const char **second = NULL;

	if (d->positional == NULL)
		return NULL;
	/* 'ledger get SERIAL': a serial, like the one 'revoke' takes second. */
	if (args->cmd == CLI_CMD_LEDGER_GET)
		return args->serial == NULL ? &args->serial : NULL;
	if (args->name == NULL)
		return &args->name;
	/* 'ca verify-code CA CODE' and 'revoke CA SERIAL' take a second one. */
	if (args->cmd == CLI_CMD_CA_VERIFY_CODE)
		second = &args->code;
	else if (args->cmd == CLI_CMD_REVOKE)
		second = &args->serial;
	return second != NULL && *second == NULL ? second : NULL;
}

static int take_positional(struct parser *p, const char *arg)
{
	const struct cli_command_desc *d = command_desc(p->args->cmd);
	const char **slot = positional_slot(p->args, d);

	if (slot == NULL)
		return usage(p->args, "unexpected argument '%s' for 'signet %s'", arg, d->name);
	*slot = arg;
	return 0;
}

/* Options and the NAME positional of a command, in any order; "--" ends options. */
static int parse_command_args(struct parser *p)
{
	int only_positionals = 0, r;

	for (; p->i < p->argc; p->i++) {
		const char *arg = p->argv[p->i];

		r = 0;
		if (!only_positionals && strcmp(arg, "--") == 0)
			only_positionals = 1;
		else if (!only_positionals && is_option(arg))
			r = parse_option(p);
		else
			r = take_positional(p, arg);
		if (r != 0 || p->args->help)
			return r;
	}
	return 0;
}

/* What the CA create commands cannot run without. */
static int check_required_ca(struct cli_args *args, const char *name)
{
	if (args->cmd == CLI_CMD_CA_CREATE_INTERMEDIATE && args->parent == NULL)
		return usage(args, "'signet %s' needs --parent CA, the CA that signs it", name);
	if (args->subject == NULL)
		return usage(args, "'signet %s' needs --subject, e.g. /CN=Example CA/O=Example",
			     name);
	if (args->alg == SIGNET_KEY_UNSPECIFIED)
		return usage(args, "'signet %s' needs --alg p256|p384|rsa2048|rsa3072|rsa4096",
			     name);
	return 0;
}

static int is_stdin(const char *path)
{
	return path != NULL && strcmp(path, "-") == 0;
}

/* What 'ca import' cannot run without. ('ca request' may go without --subject:
 * a CA signet holds keeps its own, and signetd refuses none for a new CA.) */
static int check_required_import(struct cli_args *args)
{
	if (args->cert == NULL)
		return usage(args, "'signet ca import' needs --cert FILE, the certificate the "
				   "outside CA returned");
	if (is_stdin(args->cert) && is_stdin(args->chain))
		return usage(args, "--cert and --chain cannot both read standard input");
	return 0;
}

/* 'ledger get' finds a certificate by serial or by public key: one of them. */
static int check_required_ledger_get(struct cli_args *args)
{
	if (args->serial == NULL && !args->has_fingerprint)
		return usage(args, "'signet ledger get' needs a SERIAL or --fingerprint HEX64");
	if (args->serial != NULL && args->has_fingerprint)
		return usage(args, "'signet ledger get' takes a SERIAL or --fingerprint, not both");
	return 0;
}

/* A challenge is bound to a device ID or a public key: one of them. */
static int check_required_challenge_create(struct cli_args *args)
{
	if (args->device_id == NULL && !args->has_fingerprint)
		return usage(
			args,
			"'signet challenge create' needs --device-id ID or --fingerprint HEX64");
	if (args->device_id != NULL && args->has_fingerprint)
		return usage(args, "'signet challenge create' takes --device-id or --fingerprint, "
				   "not both");
	return 0;
}

/* What 'challenge verify' and 'verify-chain' read. */
/* One CSR (--csr) or many (--batch), and only the options that fit each. */
static int check_required_issue(struct cli_args *args)
{
	if (args->ca == NULL || args->profile == NULL ||
	    (args->csr == NULL) == (args->batch == NULL))
		return usage(args, "'signet issue' needs --ca CA, --profile PROFILE and --csr FILE "
				   "(or --batch DIR|FILE)");
	if (args->batch == NULL) {
		if (args->out_dir != NULL || args->manifest != NULL || args->batch_size != 0)
			return usage(args,
				     "--out-dir, --manifest and --batch-size go with --batch");
		return 0;
	}
	/* one certificate per input, under the CSR's own subject and SANs */
	if (args->out != NULL || args->der || args->subject != NULL || args->dns.n > 0 ||
	    args->ip.n > 0 || args->uri.n > 0)
		return usage(args,
			     "--batch writes one certificate per input into --out-dir: "
			     "--out, --der, --subject, --dns, --ip and --uri do not go with it");
	if (args->manifest != NULL && strcmp(args->manifest, "-") != 0 && args->chain != NULL &&
	    strcmp(args->manifest, args->chain) == 0)
		return usage(args, "--manifest and --chain name the same file");
	return 0;
}

static int check_required_verify(struct cli_args *args, const char *name)
{
	if (args->chain == NULL)
		return usage(args,
			     "'signet %s' needs --chain FILE, the certificate chain, leaf first",
			     name);
	if (args->cmd == CLI_CMD_CHALLENGE_VERIFY && args->sig == NULL)
		return usage(args,
			     "'signet %s' needs --sig FILE, the device's signature over the nonce",
			     name);
	if (is_stdin(args->chain) && is_stdin(args->sig))
		return usage(args, "--chain and --sig cannot both read standard input");
	return 0;
}

/* What a command cannot run without. */
static int check_required(struct cli_args *args)
{
	const struct cli_command_desc *d = command_desc(args->cmd);

	if (args->cmd == CLI_CMD_LEDGER_GET)
		return check_required_ledger_get(args);
	if (args->cmd == CLI_CMD_CHALLENGE_CREATE)
		return check_required_challenge_create(args);
	if (d->positional != NULL && args->name == NULL)
		return usage(args, "'signet %s' needs a %s", d->name, d->positional);
	if (args->cmd == CLI_CMD_CA_CREATE_ROOT || args->cmd == CLI_CMD_CA_CREATE_INTERMEDIATE)
		return check_required_ca(args, d->name);
	if (args->cmd == CLI_CMD_CA_IMPORT)
		return check_required_import(args);
	if (args->cmd == CLI_CMD_CHALLENGE_VERIFY || args->cmd == CLI_CMD_VERIFY_CHAIN)
		return check_required_verify(args, d->name);
	if (args->cmd == CLI_CMD_KEY_GENERATE && args->alg == SIGNET_KEY_UNSPECIFIED)
		return usage(args,
			     "'signet key generate' needs --alg p256|p384|rsa2048|rsa3072|rsa4096");
	if (args->cmd == CLI_CMD_CSR && args->subject == NULL)
		return usage(args, "'signet csr' needs --subject, e.g. /CN=device-1/O=Example");
	if (args->cmd == CLI_CMD_ISSUE)
		return check_required_issue(args);
	if (args->cmd == CLI_CMD_CA_VERIFY_CODE && args->code == NULL)
		return usage(args, "'signet ca verify-code' needs the registry's verification CODE "
				   "after the CA NAME");
	if (args->cmd == CLI_CMD_REVOKE && args->serial == NULL)
		return usage(args,
			     "'signet revoke' needs the certificate's SERIAL after the CA NAME");
	if (args->cmd == CLI_CMD_SIGN && args->in == NULL)
		return usage(args, "'signet sign' needs --in FILE (or --in - for standard input)");
	if (args->cmd == CLI_CMD_ENROL_SCEP && args->in == NULL)
		return usage(args, "'signet enrol scep' needs --in FILE, the pkiMessage (DER)");
	if (args->cmd == CLI_CMD_ENROL_EST && args->csr == NULL)
		return usage(args, "'signet enrol est' needs --csr FILE, the PKCS#10 request");
	return 0;
}

/* --endpoint wins over $SIGNET_ENDPOINT, which wins over the default; empty means unset. */
static void resolve_endpoint(struct cli_args *args, const char *env_endpoint)
{
	if (args->endpoint != NULL)
		return;
	if (env_endpoint != NULL && env_endpoint[0] != '\0')
		args->endpoint = env_endpoint;
	else
		args->endpoint = SIGNET_DEFAULT_ENDPOINT;
}

/* "" counts as unset, as for $SIGNET_ENDPOINT. */
static const char *env_value(const char *value)
{
	return value != NULL && value[0] != '\0' ? value : NULL;
}

/* A client name and its secret file, both or neither; `*_src` name where they came from. */
static int check_credential(struct cli_args *args, const char *client_src, const char *file_src)
{
	if ((args->client == NULL) != (args->secret_file == NULL))
		return usage(args, "%s needs %s too: a client name and its secret go together",
			     args->client != NULL ? client_src : file_src,
			     args->client != NULL ? file_src : client_src);
	/* What libsignet takes as a client name (signet_set_credential()). */
	if (args->client != NULL && !name_valid(args->client, NAME_CLIENT_MAX))
		return usage(args,
			     "%s wants a client name of 1 to %d characters of " NAME_CHARS_TEXT
			     ", not '%s'",
			     client_src, NAME_CLIENT_MAX, args->client);
	if (args->secret_file != NULL && args->secret_file[0] == '\0')
		return usage(args, "%s needs a file name", file_src);
	return 0;
}

/*
 * --client and --secret-file replace $SIGNET_CLIENT and $SIGNET_SECRET_FILE
 * as a pair, so a name never meets another client's secret. A command that
 * never asks signetd needs neither.
 */
static int resolve_credential(struct cli_args *args, const struct cli_env *env)
{
	int from_options = args->client != NULL || args->secret_file != NULL;

	if (!from_options) {
		args->client = env_value(env->client);
		args->secret_file = env_value(env->secret_file);
	}
	if (cli_command_is_local(args->cmd)) {
		args->client = args->secret_file = NULL;
		return 0;
	}
	if (from_options)
		return check_credential(args, "--client", "--secret-file");
	return check_credential(args, "$" CLI_CLIENT_ENV, "$" CLI_SECRET_FILE_ENV);
}

int cli_parse(int argc, char *const argv[], const char *env_endpoint, struct cli_args *args)
{
	struct cli_env env = {.endpoint = env_endpoint};

	return cli_parse_env(argc, argv, &env, args);
}

int cli_parse_env(int argc, char *const argv[], const struct cli_env *env, struct cli_args *args)
{
	struct parser p = {.argc = argc, .argv = argv, .i = 1, .args = args};
	int r;

	memset(args, 0, sizeof(*args));
	args->path_len = -1;
	if ((r = parse_global(&p)) != 0)
		goto out;
	if (args->help || args->version)
		goto out;
	if ((r = parse_command(&p)) != 0 || args->help)
		goto out;
	if ((r = parse_command_args(&p)) != 0 || args->help)
		goto out;
	if ((r = check_required(args)) == 0)
		r = resolve_credential(args, env);
out:
	resolve_endpoint(args, env->endpoint);
	return r;
}

void cli_args_free(struct cli_args *args)
{
	if (args == NULL)
		return;
	free(args->dns.items);
	free(args->ip.items);
	free(args->uri.items);
	free(args->email.items);
	memset(args, 0, sizeof(*args));
}
