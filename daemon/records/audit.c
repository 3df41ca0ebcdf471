/*
 * The audit trail's appender: one chained JSON line per privileged act,
 * written before audit_append returns, durable then or within flush_ms.
 *
 * Line format (one line, members in this order):
 *   {"prev":"<64 hex>","seq":N,"time":"2026-11-23T09:15:04.123Z",
 *    "caller":"...","method":"...","object":"...","status":"...",
 *    "message":"...","request_id":"<hex or empty>"}\n
 * seq is the line number (1 for the first line); time is UTC with
 * milliseconds, taken under the lock so that times follow the file's order.
 *
 * No secret ever goes in: the fields are names (caller, method, key, CA,
 * serial) and statuses only, never a PIN, key material or a request's
 * payload. Callers must keep it so.
 *
 * Strings are escaped as JSON: '"' and '\' with a backslash, control
 * characters and DEL as \u00XX, well-formed UTF-8 as it is; every byte that
 * is not part of well-formed UTF-8 (stray continuation bytes, overlong forms,
 * surrogates, beyond U+10FFFF) becomes \ufffd, so a line is always valid JSON
 * and valid UTF-8. A line, its newline included, is at most
 * AUDITCHAIN_LINE_MAX bytes: caller, method, object and status get at most
 * AUDIT_FIELD_MAX bytes each, the message the rest; a field cut short ends
 * in "...". The members themselves are never cut.
 *
 * Durability: a line is written whole, under the lock that orders the chain,
 * so once audit_append returns a crash of signetd itself cannot lose it: it
 * is in the kernel's page cache. What happens next depends on flush_ms:
 *  - 0 (strict): the appender waits until an fdatasync that began after its
 *    write has finished. One fdatasync serves every line written before it
 *    began (group commit): the first waiter syncs, the others sleep on
 *    `synced`. Every audited request pays a disk sync before its reply.
 *  - > 0: the appender returns at once and a flusher thread syncs. The first
 *    line after a sync wakes it; it then lets lines gather for flush_ms and
 *    does one fdatasync for all of them. A power cut (or kernel crash) can
 *    lose about the last flush_ms of lines, so the file ends early but its
 *    chain still verifies. That is the trade for not putting a disk sync on
 *    every request's path; the certificate ledger keeps its own rule (durable
 *    before the reply) and does not depend on this.
 * A failed fdatasync is final: after one, Linux may have dropped the dirty
 * pages and a later fdatasync can succeed without them, so every line not
 * yet known durable (strict mode), and every later append, fails (-1) until
 * restart. With flush_ms > 0 the lines already returned for cannot be failed
 * any more: the failure is logged, and every later append fails.
 */
#include "records/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auditchain.h"
#include "hex.h"
#include "base/log.h"

#define HEX_LEN (2 * AUDITCHAIN_HASH_LEN)
/* Escaped bytes for each of caller, method, object and status. */
#define AUDIT_FIELD_MAX 1024
/* Longer request ids are cut to this many bytes (the envelope's are 16). */
#define AUDIT_REQUEST_ID_MAX 64
/* What a cut field ends with. */
#define TRUNC_MARK     "..."
#define TRUNC_MARK_LEN (sizeof(TRUNC_MARK) - 1)

/* The line without caller, method, object, status and message, at its longest. */
#define AUDIT_SKELETON_MAX                                                                         \
	(sizeof("{\"prev\":\"\",\"seq\":,\"time\":\"\",\"caller\":\"\",\"method\":\"\","           \
		"\"object\":\"\",\"status\":\"\",\"message\":\"\",\"request_id\":\"\"}\n") -       \
	 1 + HEX_LEN + 20 + 32 + 2 * AUDIT_REQUEST_ID_MAX)
_Static_assert(AUDIT_SKELETON_MAX + 4 * AUDIT_FIELD_MAX + 1024 <= AUDITCHAIN_LINE_MAX,
	       "the message must keep at least 1 KiB of the line");

struct audit_line {
	char buf[AUDITCHAIN_LINE_MAX];
	size_t len;
	bool overflow; /* a bug: the budgets below should make this impossible */
};

struct audit {
	char *path;
	int fd;
	pthread_mutex_t lock;	/* orders the chain: hash, seq and write of a line */
	pthread_cond_t synced;	/* broadcast when an fdatasync ends */
	uint64_t seq;		/* of the last line written */
	uint64_t synced_seq;	/* lines up to this one are on disk */
	bool syncing;		/* a thread is in fdatasync for the others */
	int write_err;		/* errno that stopped all appends: a torn line stays */
	int sync_err;		/* errno of a failed fdatasync: nothing is durable now */
	off_t size;		/* the file's length, where a failed write is cut back to */
	char prev[HEX_LEN + 1]; /* the hash of the last line */
	struct audit_line line; /* built under `lock`: no stack, no allocation */
	/* The flusher (flush_ms > 0). flush_ms, flusher and flusher_started are set
	 * by audit_open and never change; flush_pending and closing are under `lock`. */
	unsigned flush_ms;    /* 0: appenders sync; else how long lines gather */
	pthread_cond_t wake;  /* the flusher sleeps on it (CLOCK_MONOTONIC) */
	pthread_t flusher;    /* valid when flusher_started */
	bool flusher_started; /* set by audit_open only */
	bool flush_pending;   /* the flusher was woken for lines it has not synced */
	bool closing;	      /* audit_close: the flusher stops now, not at its deadline */
};

static void put_raw(struct audit_line *l, const char *s, size_t n)
{
	if (l->overflow || n > sizeof(l->buf) - l->len) {
		l->overflow = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put(struct audit_line *l, const char *s)
{
	put_raw(l, s, strlen(s));
}

/*
 * The length of the well-formed UTF-8 sequence at s (2 to 4), or 0. s is
 * NUL-terminated, and NUL is no continuation byte: no read past the end.
 */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The JSON form of the character at s into out; *used gets how many bytes of s it took. */
static size_t escape_char(const unsigned char *s, size_t *used, char out[8])
{
	size_t n;

	*used = 1;
	if (*s == '"' || *s == '\\') {
		out[0] = '\\';
		out[1] = (char)*s;
		return 2;
	}
	if (*s < 0x20 || *s == 0x7f)
		return (size_t)snprintf(out, 8, "\\u%04x", *s);
	if (*s < 0x80) {
		out[0] = (char)*s;
		return 1;
	}
	if ((n = utf8_len(s)) == 0)
		return (size_t)snprintf(out, 8, "\\ufffd");
	memcpy(out, s, n);
	*used = n;
	return n;
}

static size_t escaped_len(const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t total = 0, used;
	char esc[8];

	for (; *s != '\0'; s += used)
		total += escape_char(s, &used, esc);
	return total;
}

/* src escaped, in at most `budget` bytes (>= TRUNC_MARK_LEN); cut at a character if need be. */
static void put_escaped(struct audit_line *l, const char *src, size_t budget)
{
	const unsigned char *s = (const unsigned char *)(src != NULL ? src : "");
	bool cut = escaped_len((const char *)s) > budget;
	size_t limit, written = 0, used, n;
	char esc[8];

	if (budget < TRUNC_MARK_LEN) {
		l->overflow = true;
		return;
	}
	limit = cut ? budget - TRUNC_MARK_LEN : budget;
	for (; *s != '\0'; s += used) {
		n = escape_char(s, &used, esc);
		if (written + n > limit)
			break;
		put_raw(l, esc, n);
		written += n;
	}
	if (cut)
		put(l, TRUNC_MARK);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A bounded field: at most AUDIT_FIELD_MAX, and never more than what is left. */
static void put_field(struct audit_line *l, const char *name, const char *value)
{
	put(l, name);
	put_escaped(l, value, min_size(AUDIT_FIELD_MAX, sizeof(l->buf) - l->len));
}

static void format_time(char *out, size_t outlen)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outlen - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* ","request_id":"<hex>"}\n: what follows the message, built first to size it. */
static size_t format_tail(const struct audit_event *ev, char *out, size_t outlen)
{
	size_t n = min_size(ev->request_id != NULL ? ev->request_id_len : 0, AUDIT_REQUEST_ID_MAX);
	size_t len = (size_t)snprintf(out, outlen, "\",\"request_id\":\"");

	if (hex_encode(ev->request_id, n, out + len, outlen - len, HEX_LOWER, '\0') == 0)
		len += hex_encoded_len(n, '\0');
	len += (size_t)snprintf(out + len, outlen - len, "\"}\n");
	return len;
}

static void format_line(struct audit *a, const struct audit_event *ev, uint64_t seq)
{
	struct audit_line *l = &a->line;
	char head[HEX_LEN + 96], tail[2 * AUDIT_REQUEST_ID_MAX + 32], now[40];
	size_t tail_len = format_tail(ev, tail, sizeof(tail));

	format_time(now, sizeof(now));
	l->len = 0;
	l->overflow = false;
	snprintf(head, sizeof(head), "{\"prev\":\"%s\",\"seq\":%" PRIu64 ",\"time\":\"%s\"",
		 a->prev, seq, now);
	put(l, head);
	put_field(l, ",\"caller\":\"", ev->caller);
	put_field(l, "\",\"method\":\"", ev->method);
	put_field(l, "\",\"object\":\"", ev->object);
	put_field(l, "\",\"status\":\"", ev->status);
	put(l, "\",\"message\":\"");
	if (l->len + tail_len + TRUNC_MARK_LEN > sizeof(l->buf))
		l->overflow = true;
	else
		put_escaped(l, ev->message, sizeof(l->buf) - l->len - tail_len);
	put_raw(l, tail, tail_len);
}

/*
 * The whole line or nothing: a torn line would break the chain for every
 * line after it. A failed write is cut back to the last whole line; if even
 * that fails, no line is appended after it.
 */
static int write_line(struct audit *a)
{
	size_t done = 0;
	ssize_t n;
	int e;

	while (done < a->line.len) {
		n = write(a->fd, a->line.buf + done, a->line.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	return 0;
fail:
	e = n < 0 ? errno : EIO;
	log_error("audit log %s: cannot write: %s", a->path, strerror(e));
	if (done > 0 && ftruncate(a->fd, a->size) != 0) {
		a->write_err = errno;
		log_error("audit log %s: cannot remove a partly written line (%s); no more lines "
			  "will be appended",
			  a->path, strerror(a->write_err));
	}
	return -1;
}

/* Under the lock: format, hash and write the next line; *seq gets its number. */
static int append_locked(struct audit *a, const struct audit_event *ev, uint64_t *seq)
{
	char hash[HEX_LEN + 1];

	if (a->write_err != 0 || a->sync_err != 0) {
		log_error("audit log %s: not appending after an earlier failure (%s)", a->path,
			  strerror(a->write_err != 0 ? a->write_err : a->sync_err));
		return -1;
	}
	format_line(a, ev, a->seq + 1);
	if (a->line.overflow) {
		log_error("audit log %s: internal error: a line overflowed its bounds", a->path);
		return -1;
	}
	/* The hash covers the line without its newline. */
	auditchain_hash_hex(a->line.buf, a->line.len - 1, hash);
	if (hash[0] == '\0') {
		log_error("audit log %s: cannot hash a line (out of memory?)", a->path);
		return -1;
	}
	if (write_line(a) != 0)
		return -1;
	a->seq++;
	a->size += (off_t)a->line.len;
	memcpy(a->prev, hash, sizeof(hash));
	*seq = a->seq;
	return 0;
}

/* One fdatasync, without the lock, for every line written before it starts. */
static void sync_for_all(struct audit *a)
{
	uint64_t upto = a->seq;
	int r, e = 0;

	a->syncing = true;
	pthread_mutex_unlock(&a->lock);
	while ((r = fdatasync(a->fd)) != 0 && errno == EINTR)
		;
	if (r != 0)
		e = errno;
	pthread_mutex_lock(&a->lock);
	a->syncing = false;
	if (r == 0 && upto > a->synced_seq)
		a->synced_seq = upto;
	if (r != 0) {
		a->sync_err = e;
		log_error("audit log %s: fdatasync failed (%s); appends fail until restart",
			  a->path, strerror(e));
	}
	pthread_cond_broadcast(&a->synced);
}

/* Under the lock: return once line `seq` is on disk, syncing for others if nobody is. */
static int wait_durable(struct audit *a, uint64_t seq)
{
	while (a->synced_seq < seq && a->sync_err == 0) {
		if (a->syncing)
			pthread_cond_wait(&a->synced, &a->lock);
		else
			sync_for_all(a);
	}
	return a->synced_seq >= seq ? 0 : -1;
}

int audit_append(struct audit *a, const struct audit_event *ev)
{
	uint64_t seq = 0;
	int r;

	pthread_mutex_lock(&a->lock);
	if ((r = append_locked(a, ev, &seq)) != 0)
		goto out;
	if (a->flush_ms == 0) {
		r = wait_durable(a, seq);
		goto out;
	}
	/* Only the first line since the flusher's last sync wakes it: a signal per
	 * append would cost every request a futex call for nothing. */
	if (!a->flush_pending) {
		a->flush_pending = true;
		pthread_cond_signal(&a->wake);
	}
out:
	pthread_mutex_unlock(&a->lock);
	return r;
}

int audit_sync(struct audit *a)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = wait_durable(a, a->seq);
	pthread_mutex_unlock(&a->lock);
	return r;
}

const char *audit_path(const struct audit *a)
{
	return a->path;
}

void audit_position(struct audit *a, struct audit_position *out)
{
	pthread_mutex_lock(&a->lock);
	out->offset = (uint64_t)a->size;
	memcpy(out->hash, a->prev, sizeof(out->hash));
	pthread_mutex_unlock(&a->lock);
}

/* Under the lock: true at the deadline, false when audit_close interrupts. */
static bool gather(struct audit *a)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(a->flush_ms / 1000);
	until.tv_nsec += (long)(a->flush_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!a->closing && pthread_cond_timedwait(&a->wake, &a->lock, &until) != ETIMEDOUT)
		;
	return !a->closing;
}

/*
 * Sleeps until a line is waiting, lets a burst gather for flush_ms, then
 * syncs it all at once. Lines written during the sync set flush_pending
 * again, so they get the next round. audit_close does the last sync.
 */
static void *flusher_main(void *arg)
{
	struct audit *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->flush_pending && !a->closing)
			pthread_cond_wait(&a->wake, &a->lock);
		if (!gather(a))
			break;
		a->flush_pending = false;
		if (a->sync_err == 0 && a->synced_seq < a->seq)
			sync_for_all(a);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static int start_flusher(struct audit *a, char *err, size_t errlen)
{
	int e;

	if (a->flush_ms == 0)
		return 0;
	if ((e = pthread_create(&a->flusher, NULL, flusher_main, a)) != 0) {
		snprintf(err, errlen, "audit log %s: cannot start its flusher thread: %s", a->path,
			 strerror(e));
		return -1;
	}
	a->flusher_started = true;
	return 0;
}

/* O_NOFOLLOW: a symlink could point the daemon's appends at a file someone else chose. */
static int open_log(struct audit *a, char *err, size_t errlen)
{
	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd >= 0)
		return 0;
	if (errno == ELOOP)
		snprintf(err, errlen, "audit log %s: is a symbolic link; name the file itself",
			 a->path);
	else
		snprintf(err, errlen, "audit log %s: %s", a->path, strerror(errno));
	return -1;
}

/* Like the PIN file: only the daemon's user reads who did what. */
static int check_log(struct audit *a, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(a->fd, &st) != 0) {
		snprintf(err, errlen, "audit log %s: %s", a->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "audit log %s: not a regular file", a->path);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "audit log %s: mode %04o lets group or others at the audit trail; chmod "
			 "600 it",
			 a->path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Two appenders (two daemons on one state directory) would fork the chain. */
static int lock_log(struct audit *a, char *err, size_t errlen)
{
	if (flock(a->fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		snprintf(err, errlen, "audit log %s: in use by another process (another signetd?)",
			 a->path);
	else
		snprintf(err, errlen, "audit log %s: cannot lock it: %s", a->path, strerror(errno));
	return -1;
}

/* A second descriptor to read with: it must be the very file we append to. */
static FILE *open_reader(struct audit *a, char *err, size_t errlen)
{
	int rfd = open(a->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat w, r;
	FILE *f = NULL;

	if (rfd < 0) {
		snprintf(err, errlen, "audit log %s: cannot read it: %s", a->path, strerror(errno));
		goto out;
	}
	if (fstat(a->fd, &w) != 0 || fstat(rfd, &r) != 0 || w.st_dev != r.st_dev ||
	    w.st_ino != r.st_ino) {
		snprintf(err, errlen, "audit log %s: was replaced while it was opened", a->path);
		goto out;
	}
	if ((f = fdopen(rfd, "r")) == NULL)
		snprintf(err, errlen, "audit log %s: %s", a->path, strerror(errno));
	else
		rfd = -1; /* transferred */
out:
	if (rfd >= 0)
		close(rfd);
	return f;
}

/* One line at the reader's position, at most AUDITCHAIN_LINE_MAX bytes with its
 * newline; *len without it. -1 at the end, or on a torn or overlong line. */
static int scan_line(FILE *f, char *buf, size_t *len)
{
	int c;

	*len = 0;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (*len + 1 >= AUDITCHAIN_LINE_MAX)
			return -1;
		buf[(*len)++] = (char)c;
	}
	return c == '\n' ? 0 : -1;
}

/* The lines from `offset` up to `end`: the first must follow `hash`. *unreadable
 * when a line cannot be read. */
static int scan_lines(FILE *f, const struct audit_position *from, off_t end, char *buf,
		      int (*each)(const char *line, size_t len, void *arg), void *arg,
		      bool *unreadable)
{
	char prev[HEX_LEN + 1];
	size_t len;
	int r = 0;

	*unreadable = fseeko(f, (off_t)from->offset, SEEK_SET) != 0;
	for (bool first = true; r == 0 && !*unreadable && ftello(f) < end; first = false) {
		/* mid-line, or not after that hash: not a place in this log */
		if (scan_line(f, buf, &len) != 0) {
			*unreadable = !first;
			return first ? 1 : -1;
		}
		if (first &&
		    (auditchain_prev(buf, len, prev) != 0 || strcmp(prev, from->hash) != 0))
			return 1;
		r = each(buf, len, arg);
	}
	return *unreadable ? -1 : r;
}

int audit_scan(struct audit *a, const struct audit_position *from,
	       int (*each)(const char *line, size_t len, void *arg), void *arg, char *err,
	       size_t errlen)
{
	struct audit_position now;
	bool unreadable = false;
	char *buf = NULL;
	FILE *f = NULL;
	int r = -1;

	audit_position(a, &now);
	if (from->offset > now.offset)
		return 1;
	if (from->offset == now.offset)
		return strcmp(from->hash, now.hash) == 0 ? 0 : 1;
	if ((buf = malloc(AUDITCHAIN_LINE_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((f = open_reader(a, err, errlen)) == NULL)
		goto out;
	r = scan_lines(f, from, (off_t)now.offset, buf, each, arg, &unreadable);
	if (unreadable)
		snprintf(err, errlen, "audit log %s: cannot read it back from offset %" PRIu64,
			 a->path, from->offset);
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return r;
}

/* Verify the whole chain and continue it; a broken log is the operator's to look at. */
static int resume(struct audit *a, char *err, size_t errlen)
{
	FILE *f = open_reader(a, err, errlen);
	char why[256];
	long n, bad = 0;
	off_t end;
	int r = -1;

	if (f == NULL)
		return -1;
	n = auditchain_verify(f, &bad, why, sizeof(why), a->prev);
	if (n < 0) {
		snprintf(err, errlen,
			 "audit log %s line %ld: %s; refusing to extend a broken chain (keep the "
			 "file as evidence, move it aside, check it with 'signet audit verify')",
			 a->path, bad, why);
		goto out;
	}
	if ((end = ftello(f)) < 0) {
		snprintf(err, errlen, "audit log %s: %s", a->path, strerror(errno));
		goto out;
	}
	a->seq = a->synced_seq = (uint64_t)n;
	a->size = end;
	r = 0;
out:
	fclose(f);
	return r;
}

/* Lines already there and the file's name in its directory: on disk before the first append. */
static int sync_log(struct audit *a, char *err, size_t errlen)
{
	char *dir = strdup(a->path), *slash;
	int dfd = -1, r = -1;

	if (dir == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if (fdatasync(a->fd) != 0 || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		snprintf(err, errlen, "audit log %s: cannot sync it: %s", a->path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return r;
}

static struct audit *audit_new(const char *path, unsigned flush_ms)
{
	struct audit *a = calloc(1, sizeof(*a));
	pthread_condattr_t attr;

	if (a == NULL)
		return NULL;
	a->fd = -1;
	a->flush_ms = flush_ms;
	if ((a->path = strdup(path)) == NULL) {
		free(a);
		return NULL;
	}
	/* None fails on Linux with these attributes. The flusher's deadlines are
	 * monotonic: setting the clock must not stretch or skip an interval. */
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->synced, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->wake, &attr);
	pthread_condattr_destroy(&attr);
	return a;
}

int audit_open(const char *path, unsigned flush_ms, struct audit **out, char *err, size_t errlen)
{
	struct audit *a;
	int r = -1;

	*out = NULL;
	if ((a = audit_new(path, flush_ms)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (open_log(a, err, errlen) != 0 || check_log(a, err, errlen) != 0 ||
	    lock_log(a, err, errlen) != 0 || resume(a, err, errlen) != 0 ||
	    sync_log(a, err, errlen) != 0 || start_flusher(a, err, errlen) != 0)
		goto out;
	*out = a;
	a = NULL; /* transferred */
	r = 0;
out:
	audit_close(a);
	return r;
}

/*
 * Every append has returned by now. The flusher is stopped without waiting
 * out its interval (a stopping daemon should not hang for flush_ms), and
 * whatever it had not synced yet is synced here.
 */
void audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->flusher_started) {
		pthread_mutex_lock(&a->lock);
		a->closing = true;
		pthread_cond_signal(&a->wake);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->flusher, NULL);
	}
	pthread_mutex_lock(&a->lock);
	if (a->fd >= 0 && a->sync_err == 0 && a->synced_seq < a->seq)
		sync_for_all(a);
	pthread_mutex_unlock(&a->lock);
	if (a->fd >= 0)
		close(a->fd);
	pthread_cond_destroy(&a->wake);
	pthread_cond_destroy(&a->synced);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}
