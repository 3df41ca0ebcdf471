/*
 * Slots: one per configured signetd endpoint. A slot keeps a pool of
 * libsignet clients (a signet_client serves one thread at a time, and one
 * client per caller thread lets signetd's workers sign in parallel) and the
 * objects read from signetd for the sessions open on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "p11.h"

#define SLOT_IDLE_MAX 64 /* clients kept connected beyond that are closed */

/* every client open in this process: a child of fork() cannot use nanomsg if it is not 0 */
static unsigned slot_live;

unsigned p11_slot_live_clients(void)
{
	return __atomic_load_n(&slot_live, __ATOMIC_SEQ_CST);
}

static void slot_close(signet_client *c)
{
	if (c == NULL)
		return;
	signet_close(c);
	__atomic_sub_fetch(&slot_live, 1, __ATOMIC_SEQ_CST);
}

static void slot_pad(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, len < n ? len : n);
}

CK_RV p11_slots_init(const struct p11_config *cfg, struct p11_slot *slots, size_t *n_slots)
{
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		struct p11_slot *s = &slots[i];
		unsigned char md[32];
		char label[64];

		memset(s, 0, sizeof(*s));
		s->id = i;
		s->endpoint = cfg->endpoints[i];
		if (i == 0)
			snprintf(label, sizeof(label), "%.32s", cfg->label);
		else
			snprintf(label, sizeof(label), "%.28s-%zu", cfg->label, i);
		slot_pad(s->label, 32, label);
		s->label[32] = '\0';
		/* a serial that names the endpoint, stable across runs */
		EVP_Digest(s->endpoint, strlen(s->endpoint), md, NULL, EVP_sha256(), NULL);
		for (int j = 0; j < 8; j++)
			snprintf(s->serial + 2 * j, 3, "%02x", md[j]);
		pthread_mutex_init(&s->pool_lock, NULL);
		pthread_mutex_init(&s->lock, NULL);
		*n_slots = i + 1;
	}
	return CKR_OK;
}

void p11_slots_free(struct p11_slot *slots, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < slots[i].n_idle; j++)
			slot_close(slots[i].idle[j]);
		free(slots[i].idle);
		p11_objects_free(slots[i].objs, slots[i].n_objs);
		pthread_mutex_destroy(&slots[i].pool_lock);
		pthread_mutex_destroy(&slots[i].lock);
		memset(&slots[i], 0, sizeof(slots[i]));
	}
}

static CK_RV slot_connect(const struct p11_slot *slot, const struct p11_config *cfg,
			  signet_client **out)
{
	signet_client *c = NULL;
	int r;

	if ((r = signet_connect(slot->endpoint, cfg->timeout_ms, &c)) == 0)
		__atomic_add_fetch(&slot_live, 1, __ATOMIC_SEQ_CST);
	if (r != 0 || (r = signet_set_retries(c, cfg->retries)) != 0 ||
	    (cfg->client != NULL &&
	     (r = signet_load_credential(c, cfg->client, cfg->secret_file)) != 0)) {
		p11_log("slot %lu: %s: %s", (unsigned long)slot->id, slot->endpoint,
			c != NULL ? signet_last_error(c) : signet_strerror(r));
		slot_close(c);
		/* a bad endpoint or secret file is the module's setup, not a call's */
		return r == SIGNET_E_NOMEM ? CKR_HOST_MEMORY : CKR_DEVICE_ERROR;
	}
	*out = c;
	return CKR_OK;
}

CK_RV p11_slot_client(struct p11_slot *slot, const struct p11_config *cfg, signet_client **out)
{
	signet_client *c = NULL;

	pthread_mutex_lock(&slot->pool_lock);
	if (slot->n_idle > 0)
		c = slot->idle[--slot->n_idle];
	pthread_mutex_unlock(&slot->pool_lock);
	if (c != NULL) {
		*out = c;
		return CKR_OK;
	}
	return slot_connect(slot, cfg, out);
}

void p11_slot_release(struct p11_slot *slot, signet_client *c, int broken)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&slot->pool_lock);
	if (!broken && slot->n_idle == slot->cap_idle && slot->cap_idle < SLOT_IDLE_MAX) {
		size_t cap = slot->cap_idle ? 2 * slot->cap_idle : 4;
		signet_client **idle = realloc(slot->idle, cap * sizeof(*idle));

		if (idle != NULL) {
			slot->idle = idle;
			slot->cap_idle = cap;
		}
	}
	if (!broken && slot->n_idle < slot->cap_idle) {
		slot->idle[slot->n_idle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&slot->pool_lock);
	slot_close(c);
}

/* One key's objects, with its certificate when the ledger has one for it. */
static CK_RV slot_load_key(signet_client *c, const char *name, struct p11_object **objs,
			   size_t *n_objs)
{
	struct signet_key_info *k = NULL;
	struct signet_issued_cert *cert = NULL;
	unsigned char fp[32];
	CK_RV rv;
	int r;

	if ((r = signet_get_public_key(c, name, &k)) != 0) {
		p11_log("key '%s': %s", name, signet_last_error(c));
		/* not this client's key (or gone since the list): not an object */
		return r == SIGNET_E_PERMISSION_DENIED || r == SIGNET_E_NOT_FOUND ? CKR_OK
										  : p11_errmap(r);
	}
	EVP_Digest(k->spki_der, k->spki_len, fp, NULL, EVP_sha256(), NULL);
	if ((r = signet_get_issued(c, NULL, fp, &cert)) != 0)
		p11_log("key '%s': no certificate: %s", name, signet_last_error(c));
	rv = p11_objects_for_key(name, k->id, k->id_len, k->spki_der, k->spki_len,
				 cert != NULL ? cert->cert_der : NULL,
				 cert != NULL ? cert->cert_len : 0, objs, n_objs);
	if (rv == CKR_DEVICE_ERROR &&
	    cert != NULL) /* a certificate we cannot read: the key alone */
		rv = p11_objects_for_key(name, k->id, k->id_len, k->spki_der, k->spki_len, NULL, 0,
					 objs, n_objs);
	if (rv == CKR_KEY_TYPE_INCONSISTENT) { /* a kind of key PKCS#11 callers here cannot use */
		p11_log("key '%s': not an EC or RSA key, left out", name);
		rv = CKR_OK;
	}
	signet_issued_cert_free(cert);
	signet_key_info_free(k);
	return rv;
}

static CK_RV slot_read(signet_client *c, const struct p11_config *cfg, struct p11_object **objs,
		       size_t *n_objs)
{
	struct signet_key_list *list = NULL;
	CK_RV rv = CKR_OK;
	int r;

	if (cfg->keys != NULL) {
		for (size_t i = 0; rv == CKR_OK && i < cfg->n_keys; i++)
			rv = slot_load_key(c, cfg->keys[i], objs, n_objs);
		return rv;
	}
	if ((r = signet_list_keys(c, &list)) != 0) {
		p11_log("ListKeys: %s", signet_last_error(c));
		/* a client that may not list keys sees an empty token (name them in `keys`) */
		return r == SIGNET_E_PERMISSION_DENIED ? CKR_OK : p11_errmap(r);
	}
	for (size_t i = 0; rv == CKR_OK && i < list->n_keys; i++)
		rv = slot_load_key(c, list->keys[i].name, objs, n_objs);
	signet_key_list_free(list);
	return rv;
}

CK_RV p11_slot_load(struct p11_slot *slot, const struct p11_config *cfg)
{
	struct p11_object *objs = NULL;
	size_t n_objs = 0;
	signet_client *c = NULL;
	CK_RV rv;

	/* under slot->lock, held by the caller */
	if (slot->loaded)
		return CKR_OK;
	if ((rv = p11_slot_client(slot, cfg, &c)) != CKR_OK)
		return rv;
	rv = slot_read(c, cfg, &objs, &n_objs);
	p11_slot_release(slot, c, rv == CKR_DEVICE_ERROR);
	if (rv != CKR_OK) {
		p11_objects_free(objs, n_objs);
		return rv;
	}
	/* no session is open, so no operation holds one of the old objects */
	p11_objects_free(slot->objs, slot->n_objs);
	slot->objs = objs;
	slot->n_objs = n_objs;
	slot->loaded = 1;
	return CKR_OK;
}
