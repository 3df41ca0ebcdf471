#include "server.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "rpc/dispatch.h"
#include "base/log.h"

/* How often an idle worker looks at the stop flag. */
#define WORKER_POLL_MS 100

static void worker_answer(int sock, void *ctrl, uint8_t *reply, size_t reply_len)
{
	struct nn_msghdr hdr;
	struct nn_iovec iov;

	memset(&hdr, 0, sizeof(hdr));
	iov.iov_base = reply;
	iov.iov_len = reply_len;
	hdr.msg_iov = &iov;
	hdr.msg_iovlen = 1;
	hdr.msg_control = &ctrl; /* the request's routing header goes back with the reply */
	hdr.msg_controllen = NN_MSG;
	if (nn_sendmsg(sock, &hdr, 0) < 0) {
		log_warn("cannot send a reply: %s", nn_strerror(nn_errno()));
		nn_freemsg(ctrl);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct token *t = srv->d->token;

	while (!atomic_load(&srv->stopping)) {
		struct nn_msghdr hdr;
		struct nn_iovec iov;
		void *body = NULL, *ctrl = NULL;
		uint8_t *reply = NULL;
		size_t reply_len = 0;
		int n;

		memset(&hdr, 0, sizeof(hdr));
		iov.iov_base = &body;
		iov.iov_len = NN_MSG;
		hdr.msg_iov = &iov;
		hdr.msg_iovlen = 1;
		hdr.msg_control = &ctrl;
		hdr.msg_controllen = NN_MSG;
		/* A lost token is brought back between requests, also while idle:
		 * the receive below times out every WORKER_POLL_MS. */
		token_maintain(t);
		/*
		 * Leader/followers: one worker at a time waits on the socket and
		 * the rest on this mutex. nanomsg wakes every thread polling a
		 * socket when a message arrives; with all workers in
		 * nn_recvmsg, each request would wake them all to find one
		 * message, and they would fight over the socket's lock.
		 */
		pthread_mutex_lock(&srv->receiving);
		n = nn_recvmsg(srv->sock, &hdr, 0);
		pthread_mutex_unlock(&srv->receiving);
		if (n < 0) {
			int e = nn_errno();

			if (e == ETIMEDOUT || e == EAGAIN || e == EINTR)
				continue;
			if (e == EBADF || e == ETERM)
				break;
			log_warn("receive failed: %s", nn_strerror(e));
			continue;
		}
		token_enter(t, &w->tu);
		dispatch_request(srv->d, w->tu.session, body, (size_t)n, &reply, &reply_len);
		token_leave(t, &w->tu);
		nn_freemsg(body);
		if (reply == NULL) {
			log_error("out of memory answering a request; dropped");
			nn_freemsg(ctrl);
			continue;
		}
		worker_answer(srv->sock, ctrl, reply, reply_len);
		free(reply);
	}
	return NULL;
}

/* Give path to the user and group signetd will serve as, when it is root now. */
static int give_to_owner(const struct server *srv, const char *path, char *err, size_t errlen)
{
	if (srv->owner == (uid_t)-1 || chown(path, srv->owner, srv->group) == 0)
		return 0;
	snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
	return -1;
}

/*
 * An ipc socket's directory decides who may connect: created here when
 * missing, mode 0750, owned by signetd's user and group, so only members of
 * that group can reach the socket. One that exists is the administrator's
 * (systemd's RuntimeDirectory=); it is only warned about when others may
 * enter it.
 */
static int ipc_make_dir(const struct server *srv, const char *endpoint, char *err, size_t errlen)
{
	char copy[PATH_MAX], *dir;
	struct stat st;

	if (strncmp(endpoint, "ipc://", 6) != 0 || strlen(endpoint + 6) >= sizeof(copy))
		return 0;
	memcpy(copy, endpoint + 6, strlen(endpoint + 6) + 1);
	dir = dirname(copy);
	if (stat(dir, &st) == 0) {
		if ((st.st_mode & 007) != 0)
			log_warn("%s: others may enter (mode %04o); the socket's own mode 0660 is "
				 "all that keeps them out",
				 dir, (unsigned)(st.st_mode & 07777));
		return 0;
	}
	/* the umask is 077: chmod after mkdir to open it to the group */
	if (errno != ENOENT || mkdir(dir, 0750) != 0 || chmod(dir, 0750) != 0) {
		snprintf(err, errlen, "socket directory %s: %s", dir, strerror(errno));
		return -1;
	}
	log_info("created %s (mode 0750) for the ipc socket", dir);
	return give_to_owner(srv, dir, err, errlen);
}

/*
 * The daemon's umask makes the socket 0600. Who may connect is decided by the
 * socket's directory (owned by signetd's user and the client group, mode
 * 0750), so the socket itself is opened to that group: connecting needs
 * write access to it.
 */
static int ipc_open_to_group(const struct server *srv, const char *endpoint, char *err,
			     size_t errlen)
{
	if (strncmp(endpoint, "ipc://", 6) != 0)
		return 0;
	if (chmod(endpoint + 6, 0660) != 0) {
		snprintf(err, errlen, "chmod %s: %s", endpoint + 6, strerror(errno));
		return -1;
	}
	return give_to_owner(srv, endpoint + 6, err, errlen);
}

static int server_bind(struct server *srv, char *err, size_t errlen)
{
	const struct config *cfg = srv->d->cfg;
	int timeout = WORKER_POLL_MS;
	/* nanomsg refuses larger messages outright; keep headroom so that a
	 * moderately oversized request still gets an explanatory reply. */
	int maxsize = cfg->max_message_size > (size_t)INT32_MAX / 4
			      ? INT32_MAX
			      : (int)cfg->max_message_size * 4;

	srv->sock = nn_socket(AF_SP_RAW, NN_REP);
	if (srv->sock < 0) {
		snprintf(err, errlen, "nn_socket: %s", nn_strerror(nn_errno()));
		return -1;
	}
	if (nn_setsockopt(srv->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    nn_setsockopt(srv->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize)) < 0) {
		snprintf(err, errlen, "nn_setsockopt: %s", nn_strerror(nn_errno()));
		return -1;
	}
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		if (ipc_make_dir(srv, cfg->endpoints[i], err, errlen) != 0)
			return -1;
		if (nn_bind(srv->sock, cfg->endpoints[i]) < 0) {
			snprintf(err, errlen, "cannot bind %s: %s", cfg->endpoints[i],
				 nn_strerror(nn_errno()));
			return -1;
		}
		srv->n_bound = i + 1;
		if (ipc_open_to_group(srv, cfg->endpoints[i], err, errlen) != 0)
			return -1;
		log_info("listening on %s", cfg->endpoints[i]);
	}
	return 0;
}

static int server_open_sessions(struct server *srv, char *err, size_t errlen)
{
	struct errmsg em = {0};

	for (unsigned i = 0; i < srv->n_workers; i++) {
		srv->workers[i].srv = srv;
		srv->workers[i].tu.session = CK_INVALID_HANDLE;
		srv->workers[i].tu.generation = token_generation(srv->d->token);
		if (token_session_open(srv->d->token, &srv->workers[i].tu.session, &em) != 0) {
			snprintf(err, errlen, "worker %u: %s", i, em.text);
			return -1;
		}
	}
	return 0;
}

int server_listen(struct server *srv, struct daemon_state *d, uid_t owner, gid_t group, char *err,
		  size_t errlen)
{
	memset(srv, 0, sizeof(*srv));
	srv->d = d;
	srv->sock = -1;
	srv->owner = owner;
	srv->group = group;
	atomic_init(&srv->stopping, false);
	pthread_mutex_init(&srv->receiving, NULL);
	return server_bind(srv, err, errlen);
}

int server_start(struct server *srv, char *err, size_t errlen)
{
	srv->n_workers = srv->d->cfg->workers;
	srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
	if (srv->workers == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (server_open_sessions(srv, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < srv->n_workers; i++) {
		int e = pthread_create(&srv->workers[i].thread, NULL, worker_main,
				       &srv->workers[i]);

		if (e != 0) {
			snprintf(err, errlen, "cannot start worker %u: %s", i, strerror(e));
			return -1;
		}
		srv->workers[i].running = 1;
	}
	return 0;
}

static void remove_ipc_files(const struct config *cfg, size_t n_bound)
{
	for (size_t i = 0; i < n_bound; i++) {
		const char *ep = cfg->endpoints[i];

		if (strncmp(ep, "ipc://", 6) == 0 && unlink(ep + 6) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", ep + 6, strerror(errno));
	}
}

void server_stop(struct server *srv)
{
	if (srv->d == NULL)
		return; /* never listened */
	atomic_store(&srv->stopping, true);
	for (unsigned i = 0; srv->workers != NULL && i < srv->n_workers; i++)
		if (srv->workers[i].running)
			pthread_join(srv->workers[i].thread, NULL);
	if (srv->sock >= 0) {
		/* nanomsg 1.1 has no working NN_LINGER: give its I/O thread a moment to
		 * flush the last replies before the socket goes away. */
		usleep(100 * 1000);
		nn_close(srv->sock);
		remove_ipc_files(srv->d->cfg, srv->n_bound);
	}
	for (unsigned i = 0; srv->workers != NULL && i < srv->n_workers; i++)
		token_session_close(srv->d->token, srv->workers[i].tu.session);
	free(srv->workers);
	pthread_mutex_destroy(&srv->receiving);
	srv->workers = NULL;
	srv->sock = -1;
	srv->d = NULL;
}
