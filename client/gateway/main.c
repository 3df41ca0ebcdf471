/*
 * signet-gatewayd: SCEP over HTTP and EST over HTTPS in front of signetd. Transport only: it
 * never opens the token and decides nothing about certificates; it carries
 * each request to signetd as a client with its own credential, and signetd's
 * answer back.
 *
 *   signet-gatewayd --config /etc/signet/gatewayd.conf
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "backend.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "privdrop.h"
#include "ratelimit.h"
#include "tls.h"

#define GW_DEFAULT_CONFIG "/etc/signet/gatewayd.conf"
#define GW_RATE_SOURCES	  4096 /* sources the rate limiter remembers */

static int gw_usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: signet-gatewayd [--config FILE]   (default %s)\n"
		"       signet-gatewayd --version\n",
		GW_DEFAULT_CONFIG);
	return rc;
}

/* SIGTERM and SIGINT blocked in every thread, taken by sigwait() in main. */
static void gw_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int gw_run(const struct gw_config *cfg)
{
	struct ratelimit *rl = NULL;
	struct backend *be = NULL;
	struct http_server *srv = NULL;
	struct gw_tls tls = {0};
	struct gw_privdrop plan;
	struct scep_backend sb;
	struct est_backend eb;
	char err[512] = "";
	sigset_t set;
	int fd, sig = 0, rc = 1;

	gw_block_signals(&set);
	if ((rl = ratelimit_new(cfg->per_source_per_minute, GW_RATE_SOURCES)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	/* whom to become is settled before anything is bound or read */
	if (gw_privdrop_plan(cfg->user, &plan, err, sizeof(err)) != 0)
		goto out;
	/* the key may be root's: read before the drop */
	if (gw_tls_load(cfg, &tls, err, sizeof(err)) != 0)
		goto out;
	if ((fd = http_listen(cfg, err, sizeof(err))) < 0)
		goto out;
	/* bound as root if need be; nothing after this needs it */
	if (gw_privdrop_apply(&plan, err, sizeof(err)) != 0) {
		close(fd);
		goto out;
	}
	if ((be = backend_new(cfg, err, sizeof(err))) == NULL) {
		close(fd);
		goto out;
	}
	backend_scep(be, &sb);
	backend_est(be, &eb);
	if ((srv = http_start(fd, cfg, &sb, cfg->est_enabled ? &eb : NULL, rl, &tls, err,
			      sizeof(err))) == NULL)
		goto out;
	gw_log("serving SCEP on %s://%s%s%s:%u%s for signetd at %s as client '%s'",
	       tls.certificate ? "https" : "http", strchr(cfg->listen_host, ':') ? "[" : "",
	       cfg->listen_host, strchr(cfg->listen_host, ':') ? "]" : "", cfg->listen_port,
	       cfg->path, cfg->endpoints, cfg->client);
	if (cfg->est_enabled)
		gw_log("serving EST on https://%s%s%s:%u%s (client certificates %s)",
		       strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
		       strchr(cfg->listen_host, ':') ? "]" : "", cfg->listen_port, EST_PATH,
		       cfg->tls_client_anchors[0] ? "asked for, naming tls.client_anchors"
						  : "asked for, naming the server's chain");
	sd_notify(0, "READY=1");
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		gw_log("SIGHUP: nothing to reload; restart to change the configuration");
	sd_notify(0, "STOPPING=1");
	gw_log("signal %d: stopping", sig);
	rc = 0;
out:
	if (rc != 0)
		gw_log("%s", err);
	http_stop(srv);
	gw_tls_clear(&tls);
	backend_free(be);
	ratelimit_free(rl);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = GW_DEFAULT_CONFIG;
	struct gw_config cfg;
	char err[512];
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--version") == 0)
			return printf("signet-gatewayd %s\n", SIGNET_VERSION) < 0;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return gw_usage(stdout, 0);
		else
			return gw_usage(stderr, 2);
	}
	if (gw_config_load(path, &cfg, err, sizeof(err)) != 0) {
		gw_log("%s", err);
		gw_config_free(&cfg);
		return 1;
	}
	rc = gw_run(&cfg);
	gw_config_free(&cfg);
	return rc;
}
