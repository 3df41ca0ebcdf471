/*
 * Which signetd leads a task among those sharing the records (ledger.h,
 * ledger_lead): with SQLite, every one (they share a state directory, and
 * what they lead is safe to do twice); with PostgreSQL, the one whose
 * session holds an advisory lock named after the task. The lock lives on a
 * connection of its own, so that it is held for as long as the signetd
 * lives and is released by the server the moment it dies or loses touch.
 */
#include <stdio.h>

#include "records/ledger_internal.h"

/* The first key of the two-key advisory locks, "sign" in ASCII; the second is
 * the hash of the task's name. */
#define LEAD_LOCK_CLASS "1936287589"

static int try_lock(struct ledger *l, const char *what, struct errmsg *em)
{
	struct sql_stmt *st = NULL;
	int r;

	if ((r = sql_prepare(l->lead_db,
			     "SELECT pg_try_advisory_lock(" LEAD_LOCK_CLASS ", hashtext($1))", &st,
			     em)) != 0)
		return r;
	sql_bind_text(st, 1, what);
	r = sql_step(st, "taking the lead", em);
	if (r == SQL_ROW)
		r = sql_col_int64(st, 0) != 0;
	else if (r >= 0)
		r = 0;
	sql_finalize(st);
	return r;
}

int ledger_lead(struct ledger *l, const char *what)
{
	struct errmsg em = {0};
	int r;

	if (l->backend == SQL_SQLITE)
		return 1;
	pthread_mutex_lock(&l->lead_lock);
	if (l->lead_db == NULL)
		r = sql_open_postgres(l->conninfo, &l->password, &l->lead_db, &em);
	else
		r = sql_connected(l->lead_db) ? 0 : sql_reconnect(l->lead_db, &em);
	/* asked again while held, the lock is taken once more by the same
	 * session, which answers true: the question doubles as a check that
	 * the session (and so the lock) is still there */
	if (r == 0)
		r = try_lock(l, what, &em);
	pthread_mutex_unlock(&l->lead_lock);
	return r == 1;
}
