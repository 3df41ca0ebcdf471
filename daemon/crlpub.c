#include "crlpub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "ca/casign.h"
#include "ca/castore.h"
#include "config/config.h"
#include "records/audit.h"
#include "records/ledger.h"

/* What a refresh names in the audit trail: as long as a request's
 * (RPC_OBJECT_MAX), so both read the same. */
#define CRLPUB_OBJECT_MAX 192

/* Was (name, key) seen earlier in the list? Each key's CRL is signed once. */
static int seen_before(const struct ca *all, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(all[j].name, all[i].name) == 0 && strcmp(all[j].key, all[i].key) == 0)
			return 1;
	return 0;
}

static void audit_refresh(struct crlpub *p, const char *object, const struct errmsg *em, int r)
{
	struct audit_event ev = {.caller = "signetd",
				 .method = "PublishCrl",
				 .object = object,
				 .status = signet_status_name(r),
				 .message = r != 0 ? em->text : ""};

	if (p->d->audit != NULL && audit_append(p->d->audit, &ev) != 0)
		log_error("PublishCrl: the audit trail could not record this act");
}

/* Sign and publish the CRL of one CA key, on the publisher's own session. */
static void refresh_one(struct crlpub *p, const struct ca *entry)
{
	struct errmsg em = {0};
	struct casign_signer s = {.keys = p->d->keys, .session = p->tu.session, .em = &em};
	struct casign_crl_policy policy = {.ledger = p->d->ledger,
					   .validity_hours = p->d->cfg->crl_validity_hours,
					   .publish_dir = p->d->cfg->crl_publish_dir};
	char object[CRLPUB_OBJECT_MAX];
	struct ca gen = {.cert = NULL};
	uint64_t number = 0;
	int r;

	snprintf(object, sizeof(object), "ca=%s key=%s", entry->name, entry->key);
	if ((r = castore_get_by_key(p->d->cas, entry->name, entry->key, &gen, &em)) == 0)
		r = casign_crl_refresh(&s, &policy, &gen, &number);
	if (number != 0)
		snprintf(object, sizeof(object), "ca=%s key=%s crl_number=%llu", gen.name, gen.key,
			 (unsigned long long)number);
	if (r != 0)
		log_error("CRL of CA '%s' (key '%s') not republished: %s", entry->name, entry->key,
			  em.text);
	audit_refresh(p, object, &em, r);
	ca_release(&gen);
}

/* Another host publishes: write the last CRL it kept for this key, when it
 * is newer than the one written here before. */
static void follow_one(struct crlpub *p, const struct ca *gen)
{
	struct casign_crl_policy policy = {.publish_dir = p->d->cfg->crl_publish_dir};
	struct casign_crl c = {.der = NULL};
	struct errmsg em = {0};
	uint8_t *der = NULL;

	if (ledger_crl_last(p->d->ledger, gen->key, &der, &c.len, &c.number, &em) != 0) {
		if (em.err != SIGNET_E_NOT_FOUND)
			log_warn("CRL of CA '%s' not copied from the database: %s", gen->name,
				 em.text);
		return;
	}
	c.der = der;
	if (casign_crl_publish(&policy, gen, &c, &em) != 0)
		log_error("CRL %llu of CA '%s' not copied: %s", (unsigned long long)c.number,
			  gen->name, em.text);
	free(der);
}

static void refresh_all(struct crlpub *p)
{
	struct ca *all = NULL;
	size_t n = 0;
	/* one host signs, the others copy what it signed */
	int lead = ledger_lead(p->d->ledger, "crl-publisher");

	if (lead != p->leading)
		log_info(lead ? "CRL publisher: this signetd signs the CRLs"
			      : "CRL publisher: another signetd on the database signs the CRLs; "
				"this one copies them");
	p->leading = lead;
	if (castore_list_generations(p->d->cas, &all, &n, NULL) != 0) {
		log_error("CRLs not republished: out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!seen_before(all, i)) {
			if (lead)
				refresh_one(p, &all[i]);
			else
				follow_one(p, &all[i]);
		}
	castore_list_free(all, n);
}

static void *crlpub_main(void *arg)
{
	struct crlpub *p = arg;
	struct timespec until;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		pthread_mutex_unlock(&p->mu);
		token_enter(p->d->token, &p->tu);
		refresh_all(p);
		token_leave(p->d->token, &p->tu);
		pthread_mutex_lock(&p->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)p->d->cfg->crl_refresh_seconds;
		while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int crlpub_start(struct crlpub *p, struct daemon_state *d, char *err, size_t errlen)
{
	struct errmsg em = {0};

	memset(p, 0, sizeof(*p));
	p->d = d;
	p->tu.session = CK_INVALID_HANDLE;
	p->tu.generation = token_generation(d->token);
	p->leading = -1; /* not known yet: the first refresh says which */
	if (d->cfg->crl_publish_dir == NULL)
		return 0;
	if (token_session_open(d->token, &p->tu.session, &em) != 0) {
		snprintf(err, errlen, "CRL publisher: %s", em.text);
		return -1;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->thread, NULL, crlpub_main, p) != 0) {
		snprintf(err, errlen, "CRL publisher: cannot start a thread");
		token_session_close(d->token, p->tu.session);
		return -1;
	}
	p->running = 1;
	return 0;
}

void crlpub_stop(struct crlpub *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	token_session_close(p->d->token, p->tu.session);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	p->running = 0;
}
