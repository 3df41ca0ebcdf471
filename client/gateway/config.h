/*
 * signet-gatewayd's configuration file (libconfig), e.g.
 *
 *   listen = "127.0.0.1:8080";          # or "[::1]:8080"
 *   user = "signet-gateway";            # when started as root
 *   signetd = { endpoints = [ "ipc:///run/signet/signetd.sock" ];
 *               client = "gateway"; secret_file = "/etc/signet/gateway.secret";
 *               timeout_ms = 10000; };
 *   scep = { path = "/scep"; default = "mdm"; enrolments = [ "mdm", "routers" ]; };
 *   limits = { max_body = 65536; max_connections = 64; per_source_per_minute = 600; };
 *   tls = { certificate = "/etc/signet/gateway.pem"; key = "/etc/signet/gateway.key";
 *           client_anchors = "/etc/signet/est-anchors.pem"; };
 *   est = { enabled = true; default = "factory"; labels = { edge = "edge-devices"; }; };
 *
 * docs/scep.md and docs/est.md describe each setting.
 */
#ifndef SIGNET_GATEWAY_CONFIG_H
#define SIGNET_GATEWAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define GW_NAME_MAX	  64  /* an enrolment or client name, as signetd allows them */
#define GW_PATH_MAX	  128 /* the URL path prefix */
#define GW_ENROLMENTS_MAX 64
#define GW_FILE_MAX	  4096

struct gw_config {
	char listen_host[64]; /* a numeric address: no resolver at start-up */
	uint16_t listen_port;
	char user[33]; /* "" when not set */

	char *endpoints; /* comma-separated, as signet_connect() takes them */
	char client[GW_NAME_MAX + 1];
	char secret_file[GW_FILE_MAX];
	int timeout_ms;

	char path[GW_PATH_MAX];			 /* "/scep": no trailing '/' */
	char default_enrolment[GW_NAME_MAX + 1]; /* served at `path` itself; "" none */
	char enrolments[GW_ENROLMENTS_MAX][GW_NAME_MAX + 1];
	size_t n_enrolments; /* 0: any name, signetd decides */

	size_t max_body;
	unsigned max_connections;
	unsigned per_source_per_minute;

	char tls_certificate[GW_FILE_MAX]; /* PEM; "" (and tls_key "") for plain HTTP */
	char tls_key[GW_FILE_MAX];
	char tls_client_anchors[GW_FILE_MAX]; /* PEM CAs named in the certificate request; "" */

	int est_enabled;		   /* EST needs tls: refused at start-up otherwise */
	char est_default[GW_NAME_MAX + 1]; /* /.well-known/est/OP; "" none */
	struct {
		char label[GW_NAME_MAX + 1];	 /* /.well-known/est/LABEL/OP */
		char enrolment[GW_NAME_MAX + 1]; /* signetd's enrolment.NAME */
	} est_labels[GW_ENROLMENTS_MAX];
	size_t n_est_labels;
};

/*
 * Read `path` into *cfg (every unset key gets its default: listen
 * 127.0.0.1:8080, timeout 10 s, path /scep, max_body 65536, 64 connections,
 * 600 a minute from a source, plain HTTP). signetd.client and secret_file
 * are required; tls.certificate and tls.key go together; est.enabled needs
 * them, and est.default or at least one label.
 * 0, or SIGNET_E_INVALID_ARGUMENT / SIGNET_E_NOT_FOUND with a message in
 * err naming the file, line and key. Free with gw_config_free() either way.
 */
int gw_config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen);
void gw_config_free(struct gw_config *cfg);

/*
 * "HOST:PORT" with HOST a numeric IPv4 address or a bracketed IPv6 one
 * ("[::1]:8080"), port 1 to 65535, into host (without brackets) and *port.
 * 0 or SIGNET_E_INVALID_ARGUMENT.
 */
int gw_config_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

/* 1 when `name` is a valid enrolment name: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with . _ -.
 */
int gw_config_name_ok(const char *name);

#endif
