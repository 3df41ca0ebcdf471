/*
 * The ledger's database: SQLite's file created private, opened in WAL mode
 * with synchronous=FULL, or a PostgreSQL server connected to; the schema
 * migrated (schema.c), the statements of both connections prepared; a lost
 * connection re-opened with a backoff; closed again; and why SQLite's
 * directory refuses writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/monotime.h"
#include "records/ledger_internal.h"

#define LEDGER_FILE	"ledger.db"
#define BUSY_TIMEOUT_MS 10000

/*
 * Why the state directory refuses writes, when it says so itself: SQLite
 * reports only "disk I/O error", and errno is gone by then. A filesystem
 * that went read-only after an error need not say so in its mount flags
 * (ext4's emergency read-only), so ask it for an unnamed file.
 */
void ledger_storage_state(const struct ledger *l, char *buf, size_t len)
{
	char dir[PATH_MAX], *slash;
	struct statvfs vfs;
	int fd;

	buf[0] = '\0';
	snprintf(dir, sizeof(dir), "%s", l->path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (statvfs(dir, &vfs) == 0 && vfs.f_bavail == 0) {
		snprintf(buf, len, "; the state directory's filesystem is full");
		return;
	}
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	else if (errno != EOPNOTSUPP && errno != EISDIR)
		snprintf(buf, len, "; the state directory refuses writes: %s", strerror(errno));
}

/* Create the file 0600 ourselves: SQLite would create it with the umask. A
 * file that exists with wider permissions is narrowed. Closed before SQLite
 * opens it, as closing any descriptor drops the process's POSIX locks. */
static int create_file(const char *path, struct errmsg *em)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600), r = 0;

	if (fd < 0)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: cannot open %s: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: %s is not a regular file", path);
	else if ((st.st_mode & 0077) != 0 && fchmod(fd, 0600) != 0)
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: cannot make %s private: %s", path,
			       strerror(errno));
	close(fd);
	return r;
}

static int sqlite_pragmas(struct sql_db *db, struct errmsg *em)
{
	struct sql_stmt *st = NULL;
	const char *mode;
	int r;

	/* WAL lets reads run beside the writer; it is a property of the file */
	if ((r = sql_prepare(db, "PRAGMA journal_mode=WAL", &st, em)) != 0)
		return r;
	if ((r = sql_step(st, "PRAGMA journal_mode=WAL", em)) == SQL_ROW) {
		mode = sql_col_text(st, 0);
		r = strcmp(mode, "wal") == 0 ? 0
					     : errmsg_set(em, SIGNET_E_UNAVAILABLE,
							  "ledger: the database cannot use a "
							  "write-ahead log (journal mode %s)",
							  mode);
	} else if (r >= 0) {
		r = errmsg_set(em, SIGNET_E_UNAVAILABLE, "ledger: PRAGMA journal_mode: no answer");
	}
	sql_finalize(st);
	if (r == 0)
		r = sql_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", em);
	return r;
}

/* A connection of either backend; SQLite's reader is read-only. */
static int connect_db(struct ledger *l, int reader, struct sql_db **db, struct errmsg *em)
{
	if (l->backend == SQL_SQLITE)
		return sql_open_sqlite(l->path, reader, BUSY_TIMEOUT_MS, db, em);
	return sql_open_postgres(l->conninfo, &l->password, db, em);
}

static int prepare_writer(struct ledger *l, struct errmsg *em)
{
	int r = 0;

	for (int i = 0; r == 0 && i < W_COUNT; i++)
		r = sql_prepare(l->wdb, ledger_wsql(l->backend, (enum wstmt)i), &l->w[i], em);
	return r;
}

static int prepare_reader(struct ledger *l, struct reader *rd, struct errmsg *em)
{
	int r = 0;

	for (int i = 0; r == 0 && i < R_COUNT; i++)
		r = sql_prepare(rd->db, ledger_rsql(l->backend, (enum rstmt)i), &rd->r[i], em);
	return r;
}

static int writer_open(struct ledger *l, struct errmsg *em)
{
	int r;

	if ((r = connect_db(l, 0, &l->wdb, em)) != 0 ||
	    (l->backend == SQL_SQLITE && (r = sqlite_pragmas(l->wdb, em)) != 0) ||
	    (r = ledger_migrate(l, l->wdb, em)) != 0)
		return r;
	return prepare_writer(l, em);
}

/* After the migration, so that the readers see the current schema. */
static int readers_open(struct ledger *l, struct errmsg *em)
{
	int r = 0;

	for (int i = 0; r == 0 && i < LEDGER_READERS; i++)
		if ((r = connect_db(l, 1, &l->readers[i].db, em)) == 0)
			r = prepare_reader(l, &l->readers[i], em);
	return r;
}

/* Reconnect `db` unless the last try was too recent; the waits double from
 * LEDGER_BACKOFF_MIN_MS to LEDGER_BACKOFF_MAX_MS, so a server that is down
 * is not hammered and one that is back is found within the longest wait. */
static int reconnect(struct sql_db *db, struct backoff *b, struct errmsg *em)
{
	int64_t now = monotime_ms();
	int r;

	if (sql_connected(db))
		return 0;
	if (now < b->retry_at_ms)
		return errmsg_set(em, SIGNET_E_UNAVAILABLE,
				  "ledger: the connection to the database is lost; trying again "
				  "in %lld ms",
				  (long long)(b->retry_at_ms - now));
	if ((r = sql_reconnect(db, em)) != 0) {
		b->ms = b->ms == 0 ? LEDGER_BACKOFF_MIN_MS : b->ms * 2;
		if (b->ms > LEDGER_BACKOFF_MAX_MS)
			b->ms = LEDGER_BACKOFF_MAX_MS;
		b->retry_at_ms = now + b->ms;
		return r;
	}
	*b = (struct backoff){0};
	return 0;
}

int ledger_writer_connected(struct ledger *l, struct errmsg *em)
{
	return reconnect(l->wdb, &l->wback, em);
}

/* The first free reader from a rotating start, or, when all are busy, the
 * start's. */
struct reader *ledger_reader_get(struct ledger *l, struct errmsg *em)
{
	unsigned start = __atomic_fetch_add(&l->next_reader, 1, __ATOMIC_RELAXED);
	struct reader *rd = NULL;

	for (unsigned i = 0; rd == NULL && i < LEDGER_READERS; i++) {
		struct reader *c = &l->readers[(start + i) % LEDGER_READERS];

		if (pthread_mutex_trylock(&c->lock) == 0)
			rd = c;
	}
	if (rd == NULL) {
		rd = &l->readers[start % LEDGER_READERS];
		pthread_mutex_lock(&rd->lock);
	}
	if (reconnect(rd->db, &rd->back, em) != 0) {
		pthread_mutex_unlock(&rd->lock);
		return NULL;
	}
	return rd;
}

void ledger_reader_put(struct reader *rd)
{
	pthread_mutex_unlock(&rd->lock);
}

static struct ledger *ledger_new(const struct ledger_options *o, struct errmsg *em)
{
	int pg = o->database != NULL && *o->database != '\0' && strcmp(o->database, "sqlite") != 0;
	struct ledger *l;
	char err[256];

	if (!pg &&
	    (o->state_dir == NULL || strlen(o->state_dir) + sizeof("/" LEDGER_FILE) > PATH_MAX)) {
		errmsg_set(em, SIGNET_E_INVALID_ARGUMENT, "ledger: bad state directory");
		return NULL;
	}
	if (pg && sql_conninfo_check(o->database, em) != 0)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		nomem(em);
		return NULL;
	}
	l->backend = pg ? SQL_POSTGRES : SQL_SQLITE;
	if (!pg)
		snprintf(l->path, sizeof(l->path), "%s/%s", o->state_dir, LEDGER_FILE);
	/* with default attributes these cannot fail on Linux */
	for (int i = 0; i < LEDGER_READERS; i++)
		pthread_mutex_init(&l->readers[i].lock, NULL);
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->lead_lock, NULL);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->done, NULL);
	l->tail = &l->head;
	if (pg && ((l->conninfo = strdup(o->database)) == NULL ||
		   (o->password != NULL && o->password->buf != NULL &&
		    secret_dup(o->password, &l->password, err, sizeof(err)) != 0))) {
		errmsg_set(em, SIGNET_E_RESOURCE_EXHAUSTED, "ledger: %s",
			   l->conninfo == NULL ? "out of memory" : err);
		ledger_close(l);
		return NULL;
	}
	return l;
}

int ledger_open_with(const struct ledger_options *o, struct ledger **out, char *err, size_t errlen)
{
	struct errmsg em = {0};
	struct ledger *l;
	int r;

	*out = NULL;
	if ((l = ledger_new(o, &em)) == NULL) {
		r = em.err;
		goto out;
	}
	if ((l->backend == SQL_SQLITE && (r = create_file(l->path, &em)) != 0) ||
	    (r = writer_open(l, &em)) != 0 || (r = readers_open(l, &em)) != 0 ||
	    (r = ledger_writer_start(l, &em)) != 0)
		goto out;
	*out = l;
	l = NULL; /* transferred */
out:
	if (r != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", em.text);
	ledger_close(l);
	return r;
}

int ledger_open(const char *state_dir, struct ledger **out, char *err, size_t errlen)
{
	struct ledger_options o = {.state_dir = state_dir};

	return ledger_open_with(&o, out, err, errlen);
}

enum sql_backend ledger_backend(const struct ledger *l)
{
	return l->backend;
}

static void finalize_all(struct sql_stmt **st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sql_finalize(st[i]);
		st[i] = NULL;
	}
}

void ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	ledger_writer_stop(l);
	/* the reader first: the last connection to close checkpoints the WAL,
	 * and only the writer can */
	for (int i = 0; i < LEDGER_READERS; i++) {
		finalize_all(l->readers[i].r, R_COUNT);
		sql_close(l->readers[i].db);
	}
	finalize_all(l->w, W_COUNT);
	finalize_all(l->w_rows, LEDGER_ROWS_MAX);
	sql_close(l->wdb);
	sql_close(l->lead_db);
	pthread_cond_destroy(&l->done);
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->lead_lock);
	pthread_mutex_destroy(&l->lock);
	for (int i = 0; i < LEDGER_READERS; i++)
		pthread_mutex_destroy(&l->readers[i].lock);
	free(l->trail);
	free(l->conninfo);
	secret_free(&l->password);
	free(l);
}

int ledger_set_trail(struct ledger *l, const char *trail, struct errmsg *em)
{
	char *copy;

	if (!text_ok(trail) || *trail == '\0')
		return errmsg_set(em, SIGNET_E_INVALID_ARGUMENT,
				  "ledger: an audit trail's name must have 1 to %d characters",
				  LEDGER_TEXT_MAX);
	if ((copy = strdup(trail)) == NULL)
		return nomem(em);
	free(l->trail);
	l->trail = copy;
	return 0;
}

/* A connection of its own: a long check must not hold up the reads.
 * PostgreSQL keeps its own pages' checksums; there is nothing to ask. */
int ledger_integrity_check(struct ledger *l, struct errmsg *em)
{
	struct sql_db *db = NULL;
	struct sql_stmt *st = NULL;
	const char *first;
	int r;

	if (l->backend != SQL_SQLITE)
		return 0;
	if ((r = sql_open_sqlite(l->path, 1, BUSY_TIMEOUT_MS, &db, em)) != 0)
		return r;
	if ((r = sql_prepare(db, "PRAGMA integrity_check", &st, em)) != 0)
		goto out;
	if ((r = sql_step(st, "PRAGMA integrity_check", em)) < 0)
		goto out;
	first = r == SQL_ROW ? sql_col_text(st, 0) : "no answer";
	r = strcmp(first, "ok") == 0
		    ? 0
		    : errmsg_set(em, SIGNET_E_DATA_LOSS, "ledger: %s fails its integrity check: %s",
				 l->path, first);
out:
	sql_finalize(st);
	sql_close(db);
	return r;
}
