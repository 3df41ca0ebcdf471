/*
 * The ledger's writer: one thread applies every write queued while it was
 * committing the last batch, in one transaction and one fsync, then wakes
 * their callers (see ledger.h). Writes of other modules' tables in the same
 * file (ledger_write) join the same batches.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "records/ledger_internal.h"

/* One op inside the batch's transaction. The savepoint undoes a failed op's
 * partial writes and nothing else, so one bad op never costs the batch. */
static int apply_one(struct ledger *l, struct op *op)
{
	int r, r2;

	if (op->single)
		return op->apply(l, op->arg, op->em);
	if ((r = stmt_run(l->w[W_SAVEPOINT], "savepoint", op->em)) != 0)
		return r;
	r = op->apply(l, op->arg, op->em);
	if (r != 0)
		stmt_run(l->w[W_ROLLBACK_TO], "rollback to savepoint", NULL);
	r2 = stmt_run(l->w[W_RELEASE], "release savepoint", r == 0 ? op->em : NULL);
	return r != 0 ? r : r2;
}

/* The run of ops from `first` that share its group function, applied by one
 * call of it; how many there were. */
static size_t apply_group(struct ledger *l, struct op *first)
{
	struct op *ops[LEDGER_ROWS_MAX];
	size_t k = 0;

	for (struct op *op = first; op != NULL && op->group == first->group && k < LEDGER_ROWS_MAX;
	     op = op->next)
		ops[k++] = op;
	first->group(l, ops, k);
	return k;
}

static void fail_batch(const struct ledger *l, struct op *batch, const struct errmsg *why)
{
	char state[160] = "";

	if (l->backend == SQL_SQLITE)
		ledger_storage_state(l, state, sizeof(state));
	for (struct op *op = batch; op != NULL; op = op->next)
		op->rc = errmsg_set(op->em, SIGNET_E_UNAVAILABLE, "ledger: not committed: %s%s",
				    why->text, state);
}

/* Apply every op of the batch in one transaction: one fsync for all. */
static size_t run_batch(struct ledger *l, struct op *batch)
{
	struct errmsg tx = {0};
	struct op *op;
	size_t n = 0;
	int r;

	if ((r = ledger_writer_connected(l, &tx)) != 0 ||
	    (r = stmt_run(l->w[W_BEGIN], "begin", &tx)) != 0)
		goto out;
	for (op = batch; op != NULL; op = op->next, n++) {
		if (op->group != NULL) {
			size_t k = apply_group(l, op);

			n += k - 1;
			while (--k > 0)
				op = op->next;
		} else {
			op->rc = apply_one(l, op);
		}
		/* an I/O error or a full disk makes SQLite roll back everything;
		 * a lost connection takes PostgreSQL's transaction with it, and
		 * a failed statement outside a savepoint leaves it only a rollback */
		if (!sql_in_transaction(l->wdb) || sql_transaction_failed(l->wdb)) {
			r = errmsg_set(&tx, SIGNET_E_UNAVAILABLE, "transaction rolled back (%s)",
				       op->rc != 0 ? op->em->text : "by the database");
			goto out;
		}
	}
	r = stmt_run(l->w[W_COMMIT], "commit", &tx);
out:
	if (r != 0) {
		if (sql_in_transaction(l->wdb))
			stmt_run(l->w[W_ROLLBACK], "rollback", NULL);
		fail_batch(l, batch, &tx);
		return 0;
	}
	return n;
}

/* Wake the batch's callers; called with l->lock held, so no caller can
 * return (and free its op) before the loop is done with it. */
static void finish_batch(struct ledger *l, struct op *batch, size_t applied)
{
	for (struct op *op = batch; op != NULL; op = op->next)
		op->done = 1;
	if (applied > 0) {
		l->stats.commits++;
		l->stats.writes += applied;
		if (applied > l->stats.largest_batch)
			l->stats.largest_batch = applied;
	}
	pthread_cond_broadcast(&l->done);
}

static void *writer_main(void *arg)
{
	struct ledger *l = arg;
	struct op *batch;
	size_t applied;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (l->head == NULL && !l->stopping)
			pthread_cond_wait(&l->work, &l->lock);
		if (l->head == NULL)
			break; /* stopping, and the queue is drained */
		batch = l->head;
		l->head = NULL;
		l->tail = &l->head;
		pthread_mutex_unlock(&l->lock);
		applied = run_batch(l, batch);
		pthread_mutex_lock(&l->lock);
		finish_batch(l, batch, applied);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* Queue `op` (on the caller's stack) and wait until it is committed or failed. */
static int submit(struct ledger *l, struct op *op)
{
	pthread_mutex_lock(&l->lock);
	if (l->stopping) {
		pthread_mutex_unlock(&l->lock);
		return errmsg_set(op->em, SIGNET_E_UNAVAILABLE, "ledger: closing");
	}
	*l->tail = op;
	l->tail = &op->next;
	pthread_cond_signal(&l->work);
	while (!op->done)
		pthread_cond_wait(&l->done, &l->lock);
	pthread_mutex_unlock(&l->lock);
	return op->rc;
}

int ledger_submit(struct ledger *l, int (*apply)(struct ledger *, void *, struct errmsg *),
		  void *arg, struct errmsg *em)
{
	struct op op = {.apply = apply, .arg = arg, .em = em};

	return submit(l, &op);
}

int ledger_submit_grouped(struct ledger *l, void (*group)(struct ledger *, struct op **, size_t),
			  void *arg, struct errmsg *em)
{
	struct op op = {.arg = arg, .em = em, .single = 1, .group = group};

	return submit(l, &op);
}

int ledger_submit_single(struct ledger *l, int (*apply)(struct ledger *, void *, struct errmsg *),
			 void *arg, struct errmsg *em)
{
	struct op op = {.apply = apply, .arg = arg, .em = em, .single = 1};

	return submit(l, &op);
}

struct foreign_write {
	int (*apply)(struct sql_db *db, void *arg, struct errmsg *em);
	void *arg;
};

static int apply_foreign(struct ledger *l, void *arg, struct errmsg *em)
{
	struct foreign_write *w = arg;

	return w->apply(l->wdb, w->arg, em);
}

int ledger_write(struct ledger *l, int (*apply)(struct sql_db *db, void *arg, struct errmsg *em),
		 void *arg, struct errmsg *em)
{
	struct foreign_write w = {.apply = apply, .arg = arg};

	return ledger_submit(l, apply_foreign, &w, em);
}

void ledger_stats(struct ledger *l, struct ledger_stats *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->stats;
	pthread_mutex_unlock(&l->lock);
}

/* The writer takes no signals: they belong to the daemon's main thread. */
int ledger_writer_start(struct ledger *l, struct errmsg *em)
{
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&l->writer, NULL, writer_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: cannot start the writer: %s",
				  strerror(e));
	l->started = 1;
	return 0;
}

void ledger_writer_stop(struct ledger *l)
{
	if (!l->started)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->writer, NULL);
}
