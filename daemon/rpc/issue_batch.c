/*
 * SignCsrBatch: up to server.max_batch_csrs CSRs for one CA in one request.
 * The envelope's authorization covers the CA; each item's profile is
 * authorized here, by the rule SignCsr's profile is (authz_check). Each item
 * goes through SignCsr's own steps (issue.h) as a request of its own inside
 * the batch: its request id (the item's idempotency key), its message, its
 * audit line. Every new certificate is then recorded in one ledger write
 * (one commit) before any is returned; an item that fails, at any step,
 * answers its own status and the others are issued.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "base/asn1time.h"
#include "base/log.h"
#include "rpc/issue.h"
#include "rpc/rpc.h"

int issue_batch_check(const struct config *cfg, size_t n_items, size_t csr_bytes, struct errmsg *em)
{
	if (n_items == 0)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "a batch needs at least one CSR");
	if (n_items > cfg->max_batch_csrs)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a batch of %zu CSRs is over server.max_batch_csrs (%u): "
				  "send it in smaller batches",
				  n_items, cfg->max_batch_csrs);
	if (csr_bytes > cfg->max_batch_bytes)
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "a batch of %zu bytes of CSRs is over server.max_batch_bytes "
				  "(%zu): send it in smaller batches",
				  csr_bytes, cfg->max_batch_bytes);
	return 0;
}

/* One item: a request of its own inside the batch's. */
struct batch_item {
	struct rpc rq;
	struct issue_item it;
	int rc;
	/* what its result points into */
	unsigned char *der;
	uint8_t serial[32];
};

struct batch {
	struct rpc *rq;
	const Signet__V1__SignCsrBatchRequest *req;
	struct issue_signer signer;
	struct batch_item *v;
	size_t n;
	size_t issued, retried, failed;
	int settled; /* every item has its outcome (batch_record ran) */
	/* the first item the token or the records failed (UNAVAILABLE): the
	 * items after it are not tried */
	const struct batch_item *unavailable;
};

static struct issue_input input_of(const char *ca, const Signet__V1__SignCsrBatchItem *item)
{
	return (struct issue_input){.ca = ca,
				    .profile = item->profile,
				    .csr = item->csr,
				    .validity_days = item->validity_days,
				    .subject = item->subject,
				    .dns_names = item->dns_names,
				    .n_dns_names = item->n_dns_names,
				    .ip_addresses = item->ip_addresses,
				    .n_ip_addresses = item->n_ip_addresses,
				    .uris = item->uris,
				    .n_uris = item->n_uris};
}

/* The batch's request with the item's id, and a message and object of its own. */
static void item_start(struct batch_item *b, struct rpc *rq, const char *ca,
		       const Signet__V1__SignCsrBatchItem *item)
{
	b->rq = *rq;
	b->rq.out = NULL;
	b->rq.out_len = 0;
	b->rq.em = (struct errmsg){0};
	b->rq.request_id = item->request_id.len == LEDGER_REQUEST_ID ? item->request_id.data : NULL;
	rpc_object(&b->rq, "ca=%.64s profile=%.64s", ca, item->profile);
	b->it.rq = &b->rq;
	b->it.in = input_of(ca, item);
}

/* The item's profile for this caller: what dispatch checks of SignCsr's. */
static int item_allowed(struct batch_item *b)
{
	struct authz_target t = {.ca = b->it.in.ca, .profile = b->it.in.profile};

	if (b->rq.client == NULL)
		return 0; /* anonymous (auth.allow_anonymous): anything */
	return authz_check(b->rq.client, "SignCsrBatch", 0, &t, &b->rq.em);
}

static int item_prepare(struct batch *bt, struct batch_item *b, size_t i)
{
	const Signet__V1__SignCsrBatchItem *item = bt->req->items[i];
	int r;

	item_start(b, bt->rq, bt->req->ca, item);
	if (bt->unavailable != NULL)
		return errmsg_set(&b->rq.em, SIGNET_E_UNAVAILABLE, "not tried: %s",
				  bt->unavailable->rq.em.text);
	if (b->rq.request_id == NULL)
		return errmsg_set(&b->rq.em, SIGNET_E_INVALID_ARGUMENT,
				  "item %zu: request_id must be %d bytes (the item's key for "
				  "retries), got %zu",
				  i, LEDGER_REQUEST_ID, item->request_id.len);
	if (b->it.in.profile == NULL || b->it.in.profile[0] == '\0')
		return errmsg_set(&b->rq.em, SIGNET_E_INVALID_ARGUMENT, "item %zu names no profile",
				  i);
	if ((r = item_allowed(b)) != 0)
		return r;
	return issue_prepare(&b->it, &bt->signer);
}

/* Every new certificate in one ledger write; then what each entry's answer
 * means. The ledger's error when its transaction failed: nothing of the
 * batch was recorded, and the whole batch is answered so (UNAVAILABLE), so
 * that a client fails over or tries again, as for a SignCsr. */
static int batch_record(struct batch *bt)
{
	const struct ledger_entry **entries = calloc(bt->n, sizeof(*entries));
	struct errmsg *em = calloc(bt->n, sizeof(*em));
	size_t *at = calloc(bt->n, sizeof(*at)), m = 0;
	int *rcs = calloc(bt->n, sizeof(*rcs)), r = 0;

	if (entries == NULL || em == NULL || at == NULL || rcs == NULL) {
		r = errmsg_set(&bt->rq->em, SIGNET_E_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < bt->n; i++) {
		struct batch_item *b = &bt->v[i];

		if (b->rc != 0 || b->it.retry || (b->rc = issue_entry(&b->it, &bt->signer)) != 0)
			continue;
		entries[m] = &b->it.ie.e;
		at[m++] = i;
	}
	if ((r = ledger_record_batch(bt->rq->d->ledger, entries, m, rcs, em)) != 0)
		bt->rq->em = em[0]; /* every entry has the transaction's message */
	bt->settled = 1;
	for (size_t k = 0; k < m; k++) {
		struct batch_item *b = &bt->v[at[k]];

		if (rcs[k] != 0)
			b->rq.em = em[k];
		b->rc = issue_settle(&b->it, rcs[k]);
	}
out:
	free(rcs);
	free(at);
	free(em);
	free(entries);
	return r;
}

/* The item's line in the audit trail, as SignCsr's would be, under its own request id. */
static void item_audit(const struct batch *bt, struct batch_item *b)
{
	struct audit_event ev = {
		.caller = bt->rq->caller != NULL ? bt->rq->caller : "",
		.method = "SignCsrBatch",
		.object = b->rq.object,
		.status = signet_status_name(b->rc),
		.message = b->rc != 0 ? b->rq.em.text : "",
		.request_id = b->rq.request_id,
		.request_id_len = b->rq.request_id != NULL ? LEDGER_REQUEST_ID : 0,
	};

	if (bt->rq->d->audit != NULL && audit_append(bt->rq->d->audit, &ev) != 0)
		log_error("SignCsrBatch: the audit trail could not record item %s", b->rq.object);
}

static int result_fill(struct batch_item *b, Signet__V1__SignCsrBatchResult *res)
{
	BIGNUM *bn = NULL;
	int n;

	res->status = (int32_t)wire_status_from_err(b->rc);
	if (b->rc != 0) {
		if (b->rq.em.text[0] == '\0')
			snprintf(b->rq.em.text, sizeof(b->rq.em.text), "%s",
				 signet_strerror(b->rc));
		res->message = b->rq.em.text;
		return 0;
	}
	/* a new certificate's DER is in its ledger entry already */
	if (b->it.ie.der != NULL)
		res->certificate_der =
			(ProtobufCBinaryData){.data = b->it.ie.der, .len = b->it.ie.e.der_len};
	else if ((n = i2d_X509(b->it.cert, &b->der)) > 0)
		res->certificate_der = (ProtobufCBinaryData){.data = b->der, .len = (size_t)n};
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(b->it.cert), NULL);
	if (res->certificate_der.len == 0 || bn == NULL ||
	    BN_num_bytes(bn) > (int)sizeof(b->serial)) {
		BN_free(bn);
		return SIGNET_E_INTERNAL;
	}
	res->serial.len = (size_t)BN_bn2bin(bn, b->serial);
	res->serial.data = b->serial;
	res->not_before = asn1time_unix(X509_get0_notBefore(b->it.cert));
	res->not_after = asn1time_unix(X509_get0_notAfter(b->it.cert));
	BN_free(bn);
	return 0;
}

/* Everything the response points into, owned here. */
struct batch_reply {
	Signet__V1__SignCsrBatchResult *results;
	Signet__V1__SignCsrBatchResult **ptrs;
	ProtobufCBinaryData *chain;
	int n_chain;
	char *chain_pem;
};

static void reply_release(struct batch_reply *br)
{
	for (int i = 0; br->chain != NULL && i < br->n_chain; i++)
		OPENSSL_free(br->chain[i].data);
	free(br->chain);
	free(br->chain_pem);
	free(br->ptrs);
	free(br->results);
}

static int chain_fill(struct batch *bt, struct batch_reply *br)
{
	STACK_OF(X509) *chain = NULL;
	int r;

	if ((r = castore_chain(bt->rq->d->cas, bt->req->ca, &chain, &bt->rq->em)) != 0)
		return r;
	br->n_chain = sk_X509_num(chain);
	if ((br->chain = rpc_entries(bt->rq, (size_t)br->n_chain, sizeof(*br->chain))) == NULL)
		r = SIGNET_E_RESOURCE_EXHAUSTED;
	else if (rpc_chain_encode(chain, br->chain, &br->chain_pem) != 0)
		r = errmsg_set(&bt->rq->em, SIGNET_E_INTERNAL, "cannot encode the CA chain");
	sk_X509_pop_free(chain, X509_free);
	return r;
}

static int batch_respond(struct batch *bt)
{
	Signet__V1__SignCsrBatchResponse resp = SIGNET__V1__SIGN_CSR_BATCH_RESPONSE__INIT;
	struct batch_reply br = {.results = NULL};
	int r;

	if ((br.results = rpc_entries(bt->rq, bt->n, sizeof(*br.results))) == NULL ||
	    (br.ptrs = rpc_entries(bt->rq, bt->n, sizeof(*br.ptrs))) == NULL) {
		r = SIGNET_E_RESOURCE_EXHAUSTED;
		goto out;
	}
	if ((r = chain_fill(bt, &br)) != 0)
		goto out;
	for (size_t i = 0; i < bt->n; i++) {
		signet__v1__sign_csr_batch_result__init(&br.results[i]);
		br.ptrs[i] = &br.results[i];
		if ((r = result_fill(&bt->v[i], &br.results[i])) != 0) {
			r = errmsg_set(&bt->rq->em, r, "cannot encode the certificate of item %zu",
				       i);
			goto out;
		}
	}
	resp.results = br.ptrs;
	resp.n_results = bt->n;
	resp.chain_der = br.chain;
	resp.n_chain_der = (size_t)br.n_chain;
	resp.chain_pem = br.chain_pem;
	r = rpc_respond(bt->rq, &resp.base);
out:
	reply_release(&br);
	return r;
}

static size_t csr_bytes(const Signet__V1__SignCsrBatchRequest *req)
{
	size_t sum = 0;

	for (size_t i = 0; i < req->n_items; i++)
		sum += req->items[i]->csr.len; /* each under the message limit: no overflow */
	return sum;
}

/* Count the outcomes, write each item's audit line, and name the batch. */
static void batch_account(struct batch *bt)
{
	for (size_t i = 0; i < bt->n; i++) {
		struct batch_item *b = &bt->v[i];

		if (b->rc != 0)
			bt->failed++;
		else if (b->it.retry)
			bt->retried++;
		else
			bt->issued++;
		item_audit(bt, b);
	}
	rpc_object(bt->rq, "ca=%.64s batch items=%zu issued=%zu retried=%zu failed=%zu",
		   bt->req->ca, bt->n, bt->issued, bt->retried, bt->failed);
}

/*
 * Whether an item got a new certificate. When the token (or the records)
 * failed before any did, the whole batch is answered UNAVAILABLE, as a
 * SignCsr would be: nothing was issued, and a client with another signetd
 * sends it there. Once some were made, they are recorded and returned, and
 * the items that were not are answered UNAVAILABLE each.
 */
static int batch_made_any(const struct batch *bt)
{
	for (size_t i = 0; i < bt->n; i++)
		if (bt->v[i].rc == 0 && !bt->v[i].it.retry)
			return 1;
	return 0;
}

static void batch_release(struct batch *bt)
{
	for (size_t i = 0; bt->v != NULL && i < bt->n; i++) {
		issue_item_release(&bt->v[i].it);
		OPENSSL_free(bt->v[i].der);
	}
	free(bt->v);
	issue_signer_release(&bt->signer);
}

int process_sign_csr_batch(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__SignCsrBatchRequest *req = (const void *)request;
	struct batch bt = {.rq = rq, .req = req, .n = req->n_items};
	int r;

	rpc_object(rq, "ca=%.64s batch items=%zu", req->ca, req->n_items);
	if ((r = issue_batch_check(rq->d->cfg, req->n_items, csr_bytes(req), &rq->em)) != 0 ||
	    (r = issue_signer_load(rq, req->ca, &bt.signer)) != 0)
		goto out;
	if ((bt.v = rpc_entries(rq, bt.n, sizeof(*bt.v))) == NULL) {
		r = SIGNET_E_RESOURCE_EXHAUSTED;
		goto out;
	}
	for (size_t i = 0; i < bt.n; i++)
		if ((bt.v[i].rc = item_prepare(&bt, &bt.v[i], i)) == SIGNET_E_UNAVAILABLE &&
		    bt.unavailable == NULL)
			bt.unavailable = &bt.v[i];
	if (bt.unavailable != NULL && !batch_made_any(&bt)) {
		r = errmsg_set(&rq->em, SIGNET_E_UNAVAILABLE, "%s", bt.unavailable->rq.em.text);
		goto out;
	}
	r = batch_record(&bt);
	if (bt.settled)
		batch_account(&bt);
	if (r == 0)
		r = batch_respond(&bt);
out:
	batch_release(&bt);
	return r;
}
