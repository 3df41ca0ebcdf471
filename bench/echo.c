/*
 * The IPC floor: a nanomsg raw REP echo server with signetd's worker pattern
 * (leader/followers on one socket) and REQ clients, each its own connection
 * and thread, in one process over ipc://. No protobuf, no token: what a
 * round trip costs before signetd does anything.
 *
 *   signet-bench-echo --endpoint ipc:///tmp/x.sock [--clients N] [--seconds S]
 *       [--workers N] [--size BYTES]
 *
 * Prints one JSON object on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "latency.h"

struct client {
	pthread_t thread;
	struct latency lat;
	atomic_uint_fast64_t ops;
	int failed;
};

static const char *endpoint;
static size_t msg_size = 200;
static int server_sock = -1;
static pthread_mutex_t receiving = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stop_flag, servers_stop, measuring;
static pthread_barrier_t start_line;

static void *server_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&servers_stop)) {
		struct nn_msghdr hdr;
		struct nn_iovec iov;
		void *body = NULL, *ctrl = NULL;
		int n;

		memset(&hdr, 0, sizeof(hdr));
		iov.iov_base = &body;
		iov.iov_len = NN_MSG;
		hdr.msg_iov = &iov;
		hdr.msg_iovlen = 1;
		hdr.msg_control = &ctrl;
		hdr.msg_controllen = NN_MSG;
		pthread_mutex_lock(&receiving);
		n = nn_recvmsg(server_sock, &hdr, 0);
		pthread_mutex_unlock(&receiving);
		if (n < 0)
			continue;     /* the receive timeout: look at the stop flag */
		iov.iov_len = NN_MSG; /* send the received chunk back as it is */
		hdr.msg_control = &ctrl;
		hdr.msg_controllen = NN_MSG;
		if (nn_sendmsg(server_sock, &hdr, 0) < 0) {
			nn_freemsg(body);
			nn_freemsg(ctrl);
		}
	}
	return NULL;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char *msg = calloc(1, msg_size);
	int s = nn_socket(AF_SP, NN_REQ), timeout = 10000;

	if (msg == NULL || s < 0 || nn_connect(s, endpoint) < 0 ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)) < 0)
		c->failed = 1;
	pthread_barrier_wait(&start_line);
	while (!c->failed && !atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		void *reply = NULL;
		uint64_t t0 = now_ns();

		if (nn_send(s, msg, msg_size, 0) < 0 || nn_recv(s, &reply, NN_MSG, 0) < 0) {
			c->failed = 1;
			break;
		}
		nn_freemsg(reply);
		if (atomic_load_explicit(&measuring, memory_order_relaxed)) {
			latency_add(&c->lat, (now_ns() - t0) / 1000);
			atomic_fetch_add_explicit(&c->ops, 1, memory_order_relaxed);
		}
	}
	if (s >= 0)
		nn_close(s);
	free(msg);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: signet-bench-echo --endpoint EP [--clients N] [--seconds S] "
			"[--workers N] [--size BYTES]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"endpoint", required_argument, NULL, 'e'},
						 {"clients", required_argument, NULL, 'n'},
						 {"seconds", required_argument, NULL, 's'},
						 {"workers", required_argument, NULL, 'w'},
						 {"size", required_argument, NULL, 'z'},
						 {NULL, 0, NULL, 0}};
	unsigned clients = 1, workers = 2;
	double seconds = 5;
	int opt, timeout = 100, failed = 0;
	pthread_t *servers;
	struct client *cl;
	struct latency all;
	uint64_t t0, t1, ops = 0;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			endpoint = optarg;
			break;
		case 'n':
			clients = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'w':
			workers = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'z':
			msg_size = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (endpoint == NULL || clients < 1 || clients > 1024 || workers < 1 || workers > 256 ||
	    !(seconds > 0) || msg_size < 1 || msg_size > 65536)
		usage();
	server_sock = nn_socket(AF_SP_RAW, NN_REP);
	if (server_sock < 0 || nn_bind(server_sock, endpoint) < 0 ||
	    nn_setsockopt(server_sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
		fprintf(stderr, "signet-bench-echo: %s: %s\n", endpoint, nn_strerror(nn_errno()));
		return 1;
	}
	servers = calloc(workers, sizeof(*servers));
	cl = calloc(clients, sizeof(*cl));
	if (servers == NULL || cl == NULL || latency_init(&all) != 0 ||
	    pthread_barrier_init(&start_line, NULL, clients + 1) != 0)
		return 1;
	for (unsigned i = 0; i < workers; i++)
		if (pthread_create(&servers[i], NULL, server_main, NULL) != 0)
			return 1;
	for (unsigned i = 0; i < clients; i++)
		if (latency_init(&cl[i].lat) != 0 ||
		    pthread_create(&cl[i].thread, NULL, client_main, &cl[i]) != 0)
			return 1;
	usleep(200 * 1000); /* connections made and warm before the clock starts */
	atomic_store(&measuring, true);
	pthread_barrier_wait(&start_line);
	t0 = now_ns();
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&measuring, false);
	t1 = now_ns();
	atomic_store(&stop_flag, true);
	for (unsigned i = 0; i < clients; i++) {
		pthread_join(cl[i].thread, NULL);
		failed |= cl[i].failed;
		ops += atomic_load(&cl[i].ops);
		latency_merge(&all, &cl[i].lat);
		latency_free(&cl[i].lat);
	}
	/* clients first: each finishes the round trip in hand */
	atomic_store(&servers_stop, true);
	for (unsigned i = 0; i < workers; i++)
		pthread_join(servers[i], NULL);
	nn_close(server_sock);
	if (failed)
		fprintf(stderr, "signet-bench-echo: a client's round trip failed\n");
	printf("{\"clients\":%u,\"seconds\":%.2f,\"ops\":%llu,\"rate\":%.0f,\"p50_us\":%llu,"
	       "\"p99_us\":%llu}\n",
	       clients, (double)(t1 - t0) / 1e9, (unsigned long long)ops,
	       (double)ops * 1e9 / (double)(t1 - t0),
	       (unsigned long long)latency_quantile(&all, 0.50),
	       (unsigned long long)latency_quantile(&all, 0.99));
	latency_free(&all);
	free(cl);
	free(servers);
	pthread_barrier_destroy(&start_line);
	return failed;
}
