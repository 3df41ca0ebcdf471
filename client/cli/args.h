/*
 * The signet command line, parsed into a struct. Pure logic: no I/O and no
 * environment access (the caller passes $SIGNET_ENDPOINT in), so every rule
 * is unit-tested.
 */
#ifndef SIGNET_CLI_ARGS_H
#define SIGNET_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <signet/signet.h>

/* The caller's credential when --client and --secret-file are not given. */
#define CLI_CLIENT_ENV	    "SIGNET_CLIENT"
#define CLI_SECRET_FILE_ENV "SIGNET_SECRET_FILE"
/* --retries: as many as signet_set_retries() takes. */
#define CLI_RETRIES_MAX 10
/* 'issue --batch-size': CSRs in one request, at most what signetd may allow
 * (server.max_batch_csrs); the default is signetd's default. */
#define CLI_MAX_BATCH_SIZE     4096
#define CLI_DEFAULT_BATCH_SIZE 256

enum cli_command {
	CLI_CMD_NONE = 0, /* no command (yet): global --help / --version */
	CLI_CMD_INFO,
	CLI_CMD_HEALTH,
	CLI_CMD_KEY, /* the 'key' group itself; only ever asked for --help */
	CLI_CMD_KEY_GENERATE,
	CLI_CMD_KEY_PUB,
	CLI_CMD_KEY_LIST,
	CLI_CMD_KEY_DELETE,
	CLI_CMD_CSR,
	CLI_CMD_SIGN,
	CLI_CMD_CA, /* the 'ca' group itself; only ever asked for --help */
	CLI_CMD_CA_CREATE_ROOT,
	CLI_CMD_CA_CREATE_INTERMEDIATE,
	CLI_CMD_CA_CHAIN,
	CLI_CMD_CA_LIST,
	CLI_CMD_ISSUE,
	CLI_CMD_CA_VERIFY_CODE,
	CLI_CMD_CA_REQUEST,
	CLI_CMD_CA_IMPORT,
	CLI_CMD_CA_RENEW,
	CLI_CMD_CA_REKEY,
	CLI_CMD_AUDIT, /* the 'audit' group itself; only ever asked for --help */
	CLI_CMD_AUDIT_VERIFY,
	CLI_CMD_LEDGER, /* the 'ledger' group itself; only ever asked for --help */
	CLI_CMD_LEDGER_LIST,
	CLI_CMD_LEDGER_GET,
	CLI_CMD_REVOKE,
	CLI_CMD_CRL,
	CLI_CMD_CHALLENGE, /* the 'challenge' group itself; only ever asked for --help */
	CLI_CMD_CHALLENGE_CREATE,
	CLI_CMD_CHALLENGE_VERIFY,
	CLI_CMD_VERIFY_CHAIN,
	CLI_CMD_ENROL, /* the 'enrol' group itself; only ever asked for --help */
	CLI_CMD_ENROL_CODE,
	CLI_CMD_ENROL_CACERTS,
	CLI_CMD_ENROL_SCEP, /* hidden: one raw pkiMessage through ScepOperation (debugging) */
	CLI_CMD_ENROL_EST,  /* hidden: one CSR through EstEnroll, as the gateway sends it */
	CLI_CMD_COUNT
};

/* Values of a repeatable option, pointing into argv. */
struct cli_strlist {
	const char **items;
	size_t n;
};

/* A time option: a Unix time, or "now", read when the command runs (parsing
 * reads no clock). at 0 and now 0: not given. */
struct cli_when {
	int64_t at;
	int now;
};

/* The Unix time `w` stands for, `now` being the command's; 0 if not given. */
int64_t cli_when_resolve(const struct cli_when *w, int64_t now);

struct cli_args {
	enum cli_command cmd;
	int help;	      /* print the help of `cmd` */
	int version;	      /* print the version */
	const char *endpoint; /* --endpoint, else $SIGNET_ENDPOINT, else the default */
	int timeout_ms;	      /* 0: the library's default */
	unsigned retries;     /* --retries: signet_set_retries() */
	/* --client and --secret-file, else $SIGNET_CLIENT and $SIGNET_SECRET_FILE:
	 * both or neither (NULL: requests carry no credential). Only the file's
	 * name is here; its content is read when the client connects. */
	const char *client;
	const char *secret_file;
	const char *name;	/* the key or CA NAME positional; the FILE of 'audit verify';
				 * the CHALLENGE_ID of 'challenge verify' */
	const char *code;	/* 'ca verify-code': the registry's CODE, after the CA;
				 * 'enrol est --code': the enrolment code */
	int reenroll;		/* 'enrol est --reenroll' */
	const char *tls_unique; /* 'enrol est --tls-unique HEX': the channel binding to send */
	enum signet_key_alg alg;
	const char *subject;
	const char *parent; /* --parent: the CA that signs an intermediate */
	const char *ca;	    /* --ca: the CA that issues */
	const char *profile;
	const char *csr; /* --csr FILE or "-" */
	/* 'issue --batch DIR|FILE': many CSRs, a certificate each into out_dir
	 * (default "."), and a manifest (default: JSON to standard output) */
	const char *batch;
	const char *out_dir;
	const char *manifest;
	unsigned batch_size; /* --batch-size; 0: CLI_DEFAULT_BATCH_SIZE or signetd's lower limit */
	const char *chain;   /* --chain FILE: issue writes the CA's chain there, ca import,
			      * challenge verify and verify-chain read it */
	const char *cert;    /* --cert FILE: the certificate 'ca import' registers */
	unsigned days;	     /* --days; 0: the daemon's default */
	int path_len;	     /* --path-len; -1 when not given */
	struct cli_strlist dns, ip, uri, email;
	enum signet_hash hash;
	enum signet_sig_format format;
	int der;	      /* DER output instead of PEM */
	int digest;	      /* --in holds a digest, not a message */
	const char *in;	      /* file or "-" */
	const char *out;      /* file or "-"; NULL: standard output */
	const char *link_out; /* --link-out FILE: a re-keyed root's link certificate */
	/* the records commands */
	const char *serial; /* 'revoke CA SERIAL', 'ledger get SERIAL', 'ledger list --serial' */
	const char *key;    /* 'crl --key': an earlier key of the CA; NULL: the current one */
	const char *page;   /* 'ledger list --page': the next_page_token to start from */
	struct cli_when valid_at;	    /* --valid-at */
	struct cli_when expires_after;	    /* --expires-after */
	struct cli_when expires_before;	    /* --expires-before */
	enum signet_revoked_filter revoked; /* --revoked, --not-revoked */
	unsigned limit;			    /* --limit: certificates a page; 0: signetd's default */
	int all;			    /* --all: follow the pages to the end */
	int has_fingerprint;		    /* 'ledger get' or 'challenge create' --fingerprint */
	uint8_t fingerprint[32];	    /* SHA-256 of the SubjectPublicKeyInfo */
	enum signet_revocation_reason reason;
	int64_t invalidity_date; /* --invalidity-date; 0: none */
	/* proof of possession: challenge create and verify, verify-chain */
	const char *device_id;		     /* 'challenge create --device-id': the leaf's CN */
	unsigned ttl;			     /* --ttl seconds; 0: signetd's default */
	const char *nonce_out;		     /* --nonce-out FILE: the raw nonce */
	const char *sig;		     /* --sig FILE: the device's signature over the nonce */
	enum signet_chain_purpose purpose;   /* --purpose; client by default */
	enum signet_key_purpose key_purpose; /* 'key generate --purpose sign|ra' */
	int check_revocation;		     /* --check-revocation */
	const char *path_out;		     /* --path-out FILE: the verified path as PEM */
	char error[256];		     /* why parsing failed */
};

/* The environment the command line falls back on; NULL or "" means unset. */
struct cli_env {
	const char *endpoint;	 /* $SIGNET_ENDPOINT */
	const char *client;	 /* $SIGNET_CLIENT */
	const char *secret_file; /* $SIGNET_SECRET_FILE */
};

/*
 * Parse argv (argv[0] is the program) with `env` for what options leave
 * unset. Returns 0, CLI_E_USAGE with args->error set (args->cmd says how far
 * parsing got, for the hint), or SIGNET_E_NOMEM. Strings in args point into
 * argv or env; release args with cli_args_free() in every case.
 */
int cli_parse_env(int argc, char *const argv[], const struct cli_env *env, struct cli_args *args);
/* cli_parse_env() with only $SIGNET_ENDPOINT (`env_endpoint`, or NULL) from the environment. */
int cli_parse(int argc, char *const argv[], const char *env_endpoint, struct cli_args *args);
void cli_args_free(struct cli_args *args);

/* "key generate", "ca chain", "csr", ...; "" for CLI_CMD_NONE. */
const char *cli_command_name(enum cli_command cmd);
/* 1 when `cmd` runs without signetd ('audit verify' reads a local file), else 0. */
int cli_command_is_local(enum cli_command cmd);

#endif
