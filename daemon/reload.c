#include "reload.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "access/auth.h"
#include "pki/certparse.h"
#include "base/log.h"

static void kept(const char *key, int *n)
{
	log_warn("reload: %s cannot change while signetd runs; the old value stays until a "
		 "restart",
		 key);
	(*n)++;
}

static bool str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int keep_str(const char *key, const char *cur, char **next, int *n)
{
	char *copy = NULL;

	if (str_same(cur, *next))
		return 0;
	if (cur != NULL && (copy = strdup(cur)) == NULL)
		return -1;
	free(*next);
	*next = copy;
	kept(key, n);
	return 0;
}

static int keep_strs(const char *key, char *const *cur, size_t ncur, char **next, size_t *nnext,
		     int *n)
{
	size_t i;

	if (ncur == *nnext) {
		for (i = 0; i < ncur && str_same(cur[i], next[i]); i++)
			;
		if (i == ncur)
			return 0;
	}
	for (i = 0; i < *nnext; i++) {
		free(next[i]);
		next[i] = NULL;
	}
	*nnext = 0;
	for (i = 0; i < ncur; i++) {
		if ((next[i] = strdup(cur[i])) == NULL)
			return -1;
		*nnext = i + 1;
	}
	kept(key, n);
	return 0;
}

static void keep_uint(const char *key, unsigned cur, unsigned *next, int *n)
{
	if (cur == *next)
		return;
	*next = cur;
	kept(key, n);
}

static bool uri_same(const struct p11uri *a, const struct p11uri *b)
{
	return strcmp(a->token, b->token) == 0 && strcmp(a->manufacturer, b->manufacturer) == 0 &&
	       strcmp(a->model, b->model) == 0 && strcmp(a->serial, b->serial) == 0 &&
	       a->has_slot_id == b->has_slot_id && a->slot_id == b->slot_id;
}

/* A wider allowance would accept credentials whose nonces the replay
 * memory has already forgotten; a narrower one is safe. */
static void no_wider(const char *key, unsigned cur, unsigned *next, int *n)
{
	if (*next <= cur)
		return;
	log_warn("reload: %s may only be lowered while signetd runs; %u stays until a restart", key,
		 cur);
	*next = cur;
	(*n)++;
}

int reload_keep_fixed(const struct config *cur, struct config *next)
{
	int n = 0;

	if (!uri_same(&cur->token, &next->token)) {
		next->token = cur->token;
		kept("token.uri (label, serial)", &n);
	}
	if (keep_str("token.module", cur->module_path, &next->module_path, &n) != 0 ||
	    keep_str("token.pin_file", cur->pin_file, &next->pin_file, &n) != 0 ||
	    keep_strs("token.module_dirs", cur->module_dirs, cur->n_module_dirs, next->module_dirs,
		      &next->n_module_dirs, &n) != 0 ||
	    keep_strs("server.endpoints", cur->endpoints, cur->n_endpoints, next->endpoints,
		      &next->n_endpoints, &n) != 0 ||
	    keep_str("records.audit_log", cur->audit_log, &next->audit_log, &n) != 0 ||
	    keep_str("records.crl_publish_dir", cur->crl_publish_dir, &next->crl_publish_dir, &n) !=
		    0 ||
	    keep_str("records.database", cur->database, &next->database, &n) != 0 ||
	    keep_str("records.database_password_file", cur->database_password_file,
		     &next->database_password_file, &n) != 0 ||
	    keep_str("state_dir", cur->state_dir, &next->state_dir, &n) != 0 ||
	    keep_str("user", cur->user, &next->user, &n) != 0)
		return -1;
	keep_uint("server.workers", cur->workers, &next->workers, &n);
	/* nanomsg's receive limit was set from it when the sockets were bound */
	if (cur->max_message_size != next->max_message_size) {
		next->max_message_size = cur->max_message_size;
		kept("server.max_message_size", &n);
	}
	/* the file's batch bytes were checked against its own message limit,
	 * which was not applied: a batch still travels in one message */
	if (next->max_batch_bytes > next->max_message_size) {
		log_warn("reload: server.max_batch_bytes %zu is above the server.max_message_size "
			 "in force (%zu); %zu applies until a restart",
			 next->max_batch_bytes, next->max_message_size, next->max_message_size);
		next->max_batch_bytes = next->max_message_size;
		n++;
	}
	keep_uint("records.audit_flush_ms", cur->audit_flush_ms, &next->audit_flush_ms, &n);
	/* the CRL publisher runs on the start-up configuration */
	keep_uint("records.crl_validity_hours", cur->crl_validity_hours, &next->crl_validity_hours,
		  &n);
	keep_uint("records.crl_refresh_seconds", cur->crl_refresh_seconds,
		  &next->crl_refresh_seconds, &n);
	/* sized into the challenge table when it was made */
	keep_uint("possession.max_challenges", cur->max_challenges, &next->max_challenges, &n);
	keep_uint("possession.max_challenges_per_caller", cur->max_challenges_per_caller,
		  &next->max_challenges_per_caller, &n);
	if (next->serialize_objects != cur->serialize_objects) {
		next->serialize_objects = cur->serialize_objects;
		kept("token.serialize_object_creation", &n);
	}
	if (next->shared_challenges != cur->shared_challenges) {
		next->shared_challenges = cur->shared_challenges;
		kept("possession.shared_challenges", &n);
	}
	no_wider("auth.window_seconds", cur->auth_window_seconds, &next->auth_window_seconds, &n);
	no_wider("auth.reorder_seconds", cur->auth_reorder_seconds, &next->auth_reorder_seconds,
		 &n);
	return n;
}

int reload_init(struct reload *rl, const char *path, struct daemon_state *d)
{
	pthread_rwlockattr_t attr;
	int r = -1;

	memset(rl, 0, sizeof(*rl));
	rl->path = path;
	rl->d = d;
	if (pthread_rwlockattr_init(&attr) != 0)
		return -1;
	/* a steady stream of requests must not starve the reload out */
	if (pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) ==
		    0 &&
	    pthread_rwlock_init(&rl->lock, &attr) == 0) {
		d->swap_lock = &rl->lock;
		r = 0;
	}
	pthread_rwlockattr_destroy(&attr);
	return r;
}

int reload_apply(struct reload *rl)
{
	struct daemon_state *d = rl->d;
	struct config *next = calloc(1, sizeof(*next)), *old;
	struct auth *auth = NULL, *old_auth;
	STACK_OF(X509) *anchors = NULL, *old_anchors;
	char err[512];
	int r = -1, n;

	if (next == NULL) {
		log_error("reload refused: out of memory; the configuration in force stays");
		goto out;
	}
	if (config_load(rl->path, next, err, sizeof(err)) != 0) {
		log_error("reload refused: %s; the configuration in force stays", err);
		goto out;
	}
	if ((n = reload_keep_fixed(d->cfg, next)) < 0) {
		log_error("reload refused: out of memory; the configuration in force stays");
		goto out;
	}
	/* the secrets are read before anything is swapped: a client whose
	 * secret file is missing refuses the whole reload */
	if (auth_open(next, &auth, err, sizeof(err)) != 0) {
		log_error("reload refused: clients: %s; the configuration in force stays", err);
		goto out;
	}
	/* read again even when the path is the same: its content may have changed */
	if (next->trust_anchors != NULL && certparse_file(next->trust_anchors, TRUST_ANCHORS_MAX,
							  &anchors, err, sizeof(err)) != 0) {
		log_error("reload refused: possession.trust_anchors: %s; the configuration in "
			  "force stays",
			  err);
		goto out;
	}
	pthread_rwlock_wrlock(&rl->lock);
	/* no request in flight from here: none holds the old objects */
	old = rl->owned;
	old_auth = d->auth;
	if (old_auth != NULL)
		auth_carry(auth, old_auth);
	old_anchors = d->trust_anchors;
	d->cfg = next;
	d->auth = auth;
	d->trust_anchors = anchors;
	rl->owned = next;
	log_set_level(next->log_level);
	pthread_rwlock_unlock(&rl->lock);
	auth_close(old_auth); /* its clients still point into `old`: first */
	config_free(old);
	free(old);
	sk_X509_pop_free(old_anchors, X509_free);
	next = NULL; /* transferred */
	auth = NULL;
	anchors = NULL;
	log_info("reload: %s applied (%zu clients, %zu profiles%s)", rl->path, d->cfg->n_clients,
		 d->cfg->profiles.n, n > 0 ? "; some settings wait for a restart" : "");
	if (d->cfg->allow_anonymous)
		log_warn("auth.allow_anonymous: callers on the ipc socket need no credential");
	r = 0;
out:
	auth_close(auth);
	sk_X509_pop_free(anchors, X509_free);
	config_free(next);
	free(next);
	return r;
}

void reload_fini(struct reload *rl)
{
	if (rl->d != NULL && rl->d->swap_lock == &rl->lock) {
		rl->d->swap_lock = NULL;
		pthread_rwlock_destroy(&rl->lock);
	}
	config_free(rl->owned);
	free(rl->owned);
	rl->owned = NULL;
}
