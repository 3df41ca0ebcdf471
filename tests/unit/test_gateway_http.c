/* client/gateway/http.c: a real libmicrohttpd server on 127.0.0.1, a fake signetd behind it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"

static struct {
	int calls;
	uint8_t msg[4096];
	size_t len;
} fk;

static int fake_ca_certs(void *ctx, const char *enrolment, struct scep_ca_certs *out, char *err,
			 size_t errlen)
{
	(void)ctx;
	(void)enrolment;
	(void)err;
	(void)errlen;
	fk.calls++;
	out->n_certs = 2;
	out->first = (uint8_t *)strdup("CA");
	out->first_len = 2;
	out->pkcs7 = (uint8_t *)strdup("P7");
	out->pkcs7_len = 2;
	out->caps = strdup("POSTPKIOperation\n");
	return 0;
}

static int fake_operation(void *ctx, const char *enrolment, const uint8_t *msg, size_t len,
			  const char *peer, struct scep_op_result *out, char *err, size_t errlen)
{
	(void)ctx;
	(void)enrolment;
	(void)peer;
	(void)err;
	(void)errlen;
	fk.calls++;
	fk.len = len < sizeof(fk.msg) ? len : sizeof(fk.msg);
	memcpy(fk.msg, msg, fk.len);
	out->cert_rep = (uint8_t *)strdup("REP");
	out->cert_rep_len = 3;
	return 0;
}

static struct scep_backend be = {NULL, fake_ca_certs, fake_operation};

struct server {
	struct gw_config cfg;
	struct ratelimit *rl;
	struct http_server *srv;
	uint16_t port;
};

static void server_start(struct server *s, unsigned per_minute)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char err[256] = "";
	int fd;

	memset(s, 0, sizeof(*s));
	strcpy(s->cfg.listen_host, "127.0.0.1");
	strcpy(s->cfg.path, "/scep");
	strcpy(s->cfg.default_enrolment, "mdm");
	s->cfg.max_body = 1024;
	s->cfg.max_connections = 4;
	s->rl = ratelimit_new(per_minute, 16);
	fd = http_listen(&s->cfg, err, sizeof(err)); /* port 0: the kernel picks */
	assert_true(fd >= 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	s->srv = http_start(fd, &s->cfg, &be, NULL, s->rl, NULL, err, sizeof(err));
	if (s->srv == NULL)
		fail_msg("http_start: %s", err);
	memset(&fk, 0, sizeof(fk));
}

static void server_stop(struct server *s)
{
	http_stop(s->srv);
	ratelimit_free(s->rl);
}

/* Send `req` (len bytes), read the answer until the server closes: its status, 0 if none. */
static int exchange(const struct server *s, const char *req, size_t len, char *resp, size_t resplen)
{
	struct sockaddr_in sin = {0};
	size_t got = 0;
	ssize_t n;
	int fd, status = 0;

	sin.sin_family = AF_INET;
	sin.sin_port = htons(s->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	/* the server may answer and close before taking all of an oversized body */
	(void)!send(fd, req, len, MSG_NOSIGNAL);
	while (got + 1 < resplen && (n = recv(fd, resp + got, resplen - 1 - got, 0)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	close(fd);
	sscanf(resp, "HTTP/1.1 %d", &status);
	return status;
}

static int request(const struct server *s, const char *req, char *resp, size_t resplen)
{
	return exchange(s, req, strlen(req), resp, resplen);
}

static void test_get(void **state)
{
	struct server s;
	char resp[4096];

	(void)state;
	server_start(&s, 0);
	assert_int_equal(request(&s,
				 "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: x\r\n"
				 "Connection: close\r\n\r\n",
				 resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "Content-Type: text/plain"));
	assert_non_null(strstr(resp, "\r\n\r\nPOSTPKIOperation\n"));
	assert_int_equal(request(&s,
				 "GET /scep?operation=GetCACert HTTP/1.1\r\nHost: x\r\n"
				 "Connection: close\r\n\r\n",
				 resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "Content-Type: application/x-x509-ca-ra-cert"));
	assert_int_equal(request(&s,
				 "GET /nowhere?operation=GetCACert HTTP/1.1\r\nHost: x\r\n"
				 "Connection: close\r\n\r\n",
				 resp, sizeof(resp)),
			 404);
	/* message= is URL-decoded before base64: %2F is '/', %3D '=' */
	assert_int_equal(request(&s,
				 "GET /scep?operation=PKIOperation&message=MAP7%2Fw%3D%3D "
				 "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
				 resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "Content-Type: application/x-pki-message"));
	assert_int_equal(fk.len, 4);
	assert_memory_equal(fk.msg, "\x30\x03\xfb\xff", 4);
	server_stop(&s);
}

static void test_post_limits(void **state)
{
	struct server s;
	char resp[4096], *big;
	int n;

	(void)state;
	server_start(&s, 0);
	assert_int_equal(request(&s,
				 "POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: x\r\n"
				 "Content-Type: application/x-pki-message\r\n"
				 "Content-Length: 5\r\nConnection: close\r\n\r\nhello",
				 resp, sizeof(resp)),
			 200);
	assert_int_equal(fk.len, 5);
	assert_memory_equal(fk.msg, "hello", 5);
	/* declared too large: 413 before a byte of the body is read, signetd never asked */
	fk.calls = 0;
	assert_int_equal(request(&s,
				 "POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: x\r\n"
				 "Content-Length: 1025\r\nConnection: close\r\n\r\n",
				 resp, sizeof(resp)),
			 413);
	/* chunked past the limit: the connection is dropped, nothing is answered */
	big = malloc(8192);
	n = snprintf(big, 8192,
		     "POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n800\r\n");
	memset(big + n, 'A', 2048);
	memcpy(big + n + 2048, "\r\n0\r\n\r\n", 7);
	assert_int_not_equal(exchange(&s, big, (size_t)n + 2048 + 7, resp, sizeof(resp)), 200);
	free(big);
	assert_int_equal(fk.calls, 0);
	/* and the server goes on serving */
	assert_int_equal(request(&s,
				 "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: x\r\n"
				 "Connection: close\r\n\r\n",
				 resp, sizeof(resp)),
			 200);
	server_stop(&s);
}

static void test_rate_limit(void **state)
{
	struct server s;
	char resp[4096];
	const char *get = "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: x\r\n"
			  "Connection: close\r\n\r\n";

	(void)state;
	server_start(&s, 2);
	assert_int_equal(request(&s, get, resp, sizeof(resp)), 200);
	assert_int_equal(request(&s, get, resp, sizeof(resp)), 200);
	assert_int_equal(request(&s, get, resp, sizeof(resp)), 429);
	assert_int_equal(fk.calls, 2);
	server_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_post_limits),
		cmocka_unit_test(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
