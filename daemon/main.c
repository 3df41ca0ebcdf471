/*
 * signetd: start-up and shutdown. Everything that can fail at start-up fails
 * here, loudly and with exit status 1, before the daemon reports READY.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>

#include "config/config.h"
#include "rpc/dispatch.h"
#include "hsm/keybridge.h"
#include "records/audit.h"
#include "access/auth.h"
#include "pki/certparse.h"
#include "crlpub.h"
#include "hsm/keystore.h"
#include "records/ledger.h"
#include "records/reconcile.h"
#include "base/log.h"
#include "hsm/modpath.h"
#include "base/privdrop.h"
#include "reload.h"
#include "base/secret.h"
#include "server.h"
#include "hsm/token.h"

#define EXIT_STARTUP 1
#define EXIT_USAGE   2

static void usage(FILE *out)
{
	fprintf(out, "usage: signetd --config FILE [--check-config]\n"
		     "       signetd --version | --help\n"
		     "\n"
		     "  -c, --config FILE   configuration file (see signetd.conf.example)\n"
		     "      --check-config  load and validate the configuration, then exit\n"
		     "  -V, --version       print the version and exit\n"
		     "  -h, --help          print this help and exit\n");
}

/* Secrets must not end up in a core file, and no one else may ptrace us. */
static void protect_process(void)
{
	struct rlimit no_core = {0, 0};

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
}

/*
 * Every connection takes a file descriptor, a half-open one too until
 * nanomsg's handshake timeout closes it: with a shell's or systemd's soft
 * limit of 1024, a burst of them would leave none for the token's files or
 * for Health. The soft limit is raised to the hard one, which needs no
 * privilege (systemd's default hard limit is 524288; LimitNOFILE= in the
 * unit sets both). signetd and nanomsg wait with poll/epoll, never
 * select(2), so descriptors above 1023 are safe. Called before the
 * privileges are dropped and before the log level is known: the outcome
 * is logged later by fd_limit_log.
 */
static void fd_limit_raise(struct rlimit *before, struct rlimit *after, int *err)
{
	*err = 0;
	if (getrlimit(RLIMIT_NOFILE, before) != 0) {
		*err = errno;
		return;
	}
	*after = *before;
	if (before->rlim_cur == before->rlim_max)
		return;
	after->rlim_cur = before->rlim_max;
	if (setrlimit(RLIMIT_NOFILE, after) != 0) {
		*err = errno;
		*after = *before;
	}
}

static void fd_limit_log(const struct rlimit *before, const struct rlimit *after, int err)
{
	if (err != 0)
		log_warn("file descriptor limit stays %llu (hard %llu): %s",
			 (unsigned long long)before->rlim_cur, (unsigned long long)before->rlim_max,
			 strerror(err));
	else if (after->rlim_cur != before->rlim_cur)
		log_info("file descriptor limit raised from %llu to the hard limit, %llu",
			 (unsigned long long)before->rlim_cur, (unsigned long long)after->rlim_cur);
	else
		log_info("file descriptor limit: %llu (the hard limit)",
			 (unsigned long long)after->rlim_cur);
}

static int parse_args(int argc, char **argv, const char **config, int *check_only)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'k':
			*check_only = 1;
			break;
		case 'V':
			printf("signetd %s (protocol %d)\n", SIGNET_VERSION,
			       SIGNET_PROTOCOL_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || *config == NULL) {
		fprintf(stderr, "signetd: %s\n",
			*config == NULL ? "--config FILE is required" : "unexpected argument");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The module runs inside this process: only one from an allowed directory. */
static int check_module(const struct config *cfg, char *resolved, size_t len, char *err,
			size_t errlen)
{
	const char *dirs[CONFIG_MAX_MODULE_DIRS];
	size_t n = cfg->n_module_dirs;

	if (n > 0)
		memcpy(dirs, cfg->module_dirs, n * sizeof(dirs[0]));
	else
		n = modpath_default_dirs(dirs, CONFIG_MAX_MODULE_DIRS);
	return modpath_check(cfg->module_path, dirs, n, resolved, len, err, errlen);
}

/* Open the token and log in; the PIN is wiped as soon as the login is done. */
static int open_token(const struct config *cfg, uid_t pin_owner, struct token **token)
{
	struct secret pin = {0};
	char err[512], module[PATH_MAX];
	int r = -1;

	if (check_module(cfg, module, sizeof(module), err, sizeof(err)) != 0 ||
	    token_open(token, module, &cfg->token, err, sizeof(err)) != 0)
		goto out;
	if (cfg->serialize_objects >= 0)
		token_set_serialize_objects(*token, cfg->serialize_objects);
	log_info("token: object creation %s look-ups (token.serialize_object_creation%s)",
		 token_serializes_objects(*token) ? "kept apart from" : "concurrent with",
		 cfg->serialize_objects >= 0 ? "" : " by default for this module");
	if (secret_read_file_as(cfg->pin_file, "PIN file", pin_owner, &pin, err, sizeof(err)) != 0)
		goto out;
	r = token_login(*token, &pin, err, sizeof(err));
out:
	secret_free(&pin);
	if (r != 0)
		log_error("token: %s", err);
	return r;
}

/* PostgreSQL's password, read while the file may still be root's only. */
static int read_db_password(const struct config *cfg, uid_t owner, struct secret *out)
{
	char err[512];

	if (cfg->database_password_file == NULL)
		return 0;
	if (secret_read_file_as(cfg->database_password_file, "database password file", owner, out,
				err, sizeof(err)) != 0) {
		log_error("records.database_password_file: %s", err);
		return -1;
	}
	return 0;
}

static int open_ledger(const struct config *cfg, const struct secret *password, struct ledger **out)
{
	struct ledger_options o = {
		.state_dir = cfg->state_dir, .database = cfg->database, .password = password};
	char err[512];

	if (ledger_open_with(&o, out, err, sizeof(err)) != 0) {
		log_error("ledger: %s", err);
		return -1;
	}
	if (ledger_backend(*out) == SQL_POSTGRES)
		log_info("ledger: on PostgreSQL (records.database)");
	return 0;
}

/* The wall clock in ms, as dispatch reads it for credentials. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	/* Workers inherit this mask, so only the main thread's sigwait() sees them. */
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void wait_for_stop(const sigset_t *set, struct reload *rl)
{
	int sig = 0;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading %s", rl->path);
			sd_notify(0, "RELOADING=1");
			(void)reload_apply(rl); /* a refusal is logged; the old config stays */
			sd_notify(0, "READY=1\nSTATUS=serving");
			continue;
		}
		log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
}

/*
 * Shutdown waits for the requests in hand, and one stuck in the PKCS#11
 * module would hold it forever: past server.shutdown_timeout_seconds the
 * process exits without closing the token (the module's state goes with it).
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	unsigned seconds;
} drain = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void *drain_watchdog(void *arg)
{
	struct timespec until;
	int timed_out = 0;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)drain.seconds;
	pthread_mutex_lock(&drain.mu);
	while (!drain.done && !timed_out)
		timed_out = pthread_cond_timedwait(&drain.cv, &drain.mu, &until) == ETIMEDOUT;
	pthread_mutex_unlock(&drain.mu);
	if (!timed_out)
		return NULL;
	log_error("shutdown: requests still in flight after %u s "
		  "(server.shutdown_timeout_seconds); exiting without closing the token",
		  drain.seconds);
	_exit(EXIT_STARTUP);
}

static void drain_watch(unsigned seconds, pthread_t *thread)
{
	drain.seconds = seconds;
	if (pthread_create(thread, NULL, drain_watchdog, NULL) != 0) {
		log_warn("shutdown: cannot start the drain watchdog; waiting without a deadline");
		*thread = pthread_self();
	}
}

static void drain_done(pthread_t thread)
{
	if (pthread_equal(thread, pthread_self()))
		return;
	pthread_mutex_lock(&drain.mu);
	drain.done = 1;
	pthread_cond_signal(&drain.cv);
	pthread_mutex_unlock(&drain.mu);
	pthread_join(thread, NULL);
}

/* The trust anchors callers configured, and the challenge table. */
static int open_possession(const struct config *cfg, struct daemon_state *d)
{
	struct challenge_limits limits = {.max_per_caller = cfg->max_challenges_per_caller,
					  .max_total = cfg->max_challenges};
	char err[512];

	if (cfg->trust_anchors != NULL &&
	    certparse_file(cfg->trust_anchors, TRUST_ANCHORS_MAX, &d->trust_anchors, err,
			   sizeof(err)) != 0) {
		log_error("possession.trust_anchors: %s", err);
		return -1;
	}
	if ((cfg->shared_challenges ? challenge_table_new_shared(&limits, d->ledger, &d->challenges)
				    : challenge_table_new(&limits, &d->challenges)) != 0) {
		log_error("out of memory for the challenge table");
		return -1;
	}
	return 0;
}

/*
 * Certificates the ledger holds but no audit line names (signetd stopped
 * between the two) get their line before anything is served. A failure does
 * not stop the start: the ledger still has them, and the next start looks
 * again.
 */
static void reconcile_trail(struct ledger *l, struct audit *a)
{
	struct reconcile_result res;
	char err[512] = "";

	if (reconcile_run(l, a, &res, err, sizeof(err)) != 0) {
		log_error("audit reconcile: %s; the certificates not yet checked are checked at "
			  "the next start",
			  err);
		return;
	}
	if (res.recovered > 0)
		log_warn("audit reconcile: %zu of the %zu certificates since the last start had no "
			 "audit line; appended them as recovered",
			 res.recovered, res.rows);
	else
		log_info("audit reconcile: the %zu certificates since the last start are all in "
			 "the audit trail (%zu lines read)",
			 res.rows, res.lines);
}

/*
 * The last things that may need root: binding the endpoints (and giving the
 * ipc sockets to the user served as). Then root is given up for good, before
 * any state file is opened or any request read.
 */
static int listen_and_drop(const struct privdrop *priv, struct server *srv,
			   struct daemon_state *state)
{
	uid_t owner = priv->drop ? priv->uid : (uid_t)-1;
	gid_t group = priv->drop ? priv->gid : (gid_t)-1;
	char err[512];

	if (server_listen(srv, state, owner, group, err, sizeof(err)) != 0 ||
	    privdrop_apply(priv, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

static int run(const struct config *cfg, const char *config_path)
{
	struct token *token = NULL;
	struct keystore *keys = NULL;
	struct castore cas = {0};
	struct ledger *ledger = NULL;
	struct audit *audit = NULL;
	struct server srv = {0};
	struct crlpub crls = {.running = 0};
	struct daemon_state state = {.cfg = cfg, .cas = &cas};
	struct daemon_state crl_state;
	struct reload rl = {0};
	pthread_t watchdog = pthread_self(); /* none yet */
	char err[512];
	sigset_t set;
	struct privdrop priv;
	struct secret db_password = {0};
	int r = EXIT_STARTUP;

	block_signals(&set);
	if (privdrop_plan(geteuid(), getegid(), cfg->user, &priv, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return EXIT_STARTUP;
	}
	if (dispatch_init(err, sizeof(err)) != 0 || keybridge_init() != 0) {
		log_error("internal: %s", err);
		return EXIT_STARTUP;
	}
	if (reload_init(&rl, config_path, &state) != 0) {
		log_error("internal: cannot make the reload lock");
		keybridge_fini();
		return EXIT_STARTUP;
	}
	if (open_token(cfg, priv.uid, &token) != 0 ||
	    read_db_password(cfg, priv.uid, &db_password) != 0)
		goto out_token;
	if (keystore_new(token, &keys) != 0)
		goto out_token;
	state.token = token;
	state.keys = keys;
	if (listen_and_drop(&priv, &srv, &state) != 0)
		goto out_server;
	if (castore_open(&cas, cfg->state_dir, err, sizeof(err)) != 0) {
		log_error("CA store: %s", err);
		goto out_server;
	}
	if (open_ledger(cfg, &db_password, &ledger) != 0)
		goto out_server;
	secret_free(&db_password); /* the ledger keeps its own copy */
	if (audit_open(cfg->audit_log, cfg->audit_flush_ms, &audit, err, sizeof(err)) != 0) {
		log_error("audit log: %s", err);
		goto out_server;
	}
	castore_share(&cas, ledger);
	state.ledger = ledger;
	state.audit = audit;
	reconcile_trail(ledger, audit);
	if (open_possession(cfg, &state) != 0)
		goto out_server;
	if (auth_open(cfg, &state.auth, err, sizeof(err)) != 0) {
		log_error("clients: %s", err);
		goto out_server;
	}
	auth_start(state.auth, now_ms());
	if (cfg->allow_anonymous)
		log_warn("auth.allow_anonymous: callers on the ipc socket need no credential");
	state.started = time(NULL);
	/* The CRL publisher runs outside any request, so it cannot hold the
	 * swap lock: it gets the start-up configuration, which is never freed
	 * before it stops, and the records settings it reads never reload. */
	crl_state = state;
	crl_state.swap_lock = NULL;
	crl_state.auth = NULL;
	crl_state.trust_anchors = NULL; /* a reload frees them */
	if (server_start(&srv, err, sizeof(err)) != 0 ||
	    crlpub_start(&crls, &crl_state, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out_server;
	}
	log_info("signetd %s serving token '%s' (serial %s) with %u workers", SIGNET_VERSION,
		 token_label(token), token_serial(token), cfg->workers);
	sd_notify(0, "READY=1\nSTATUS=serving");
	wait_for_stop(&set, &rl);
	sd_notify(0, "STOPPING=1");
	drain_watch(state.cfg->shutdown_timeout_seconds, &watchdog);
	r = 0;
out_server:
	crlpub_stop(&crls);
	server_stop(&srv); /* no request in flight after this */
	audit_close(audit);
	ledger_close(ledger);
	challenge_table_free(state.challenges);
	auth_close(state.auth);
	sk_X509_pop_free(state.trust_anchors, X509_free);
	castore_close(&cas);
	keystore_free(keys);
out_token:
	secret_free(&db_password);
	token_close(token);
	if (r == 0)
		drain_done(watchdog);
	reload_fini(&rl); /* after server_stop: it reads the endpoints */
	keybridge_fini();
	if (r == 0)
		log_info("stopped");
	return r;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	int check_only = 0, r;
	struct config cfg;
	struct rlimit fds_before = {0}, fds_after = {0};
	int fds_err;
	char err[512];

	protect_process();
	fd_limit_raise(&fds_before, &fds_after, &fds_err);
	if (parse_args(argc, argv, &config_path, &check_only) != 0)
		return EXIT_USAGE;
	memset(&cfg, 0, sizeof(cfg));
	if (config_load(config_path, &cfg, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return EXIT_STARTUP;
	}
	log_set_level(cfg.log_level);
	if (check_only) {
		printf("%s: configuration OK\n", config_path);
		config_free(&cfg);
		return 0;
	}
	fd_limit_log(&fds_before, &fds_after, fds_err);
	r = run(&cfg, config_path);
	config_free(&cfg);
	return r;
}
