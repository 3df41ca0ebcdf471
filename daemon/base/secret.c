#include "base/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

/*
 * The longest acceptable file is a PIN of SECRET_MAX_LEN bytes and "\r\n".
 * Reading one byte more is enough to refuse anything longer: at most two
 * bytes are stripped, so a full read always leaves too long a PIN. st_size
 * is not trusted (the file may grow between fstat and read).
 */
#define SECRET_READ_LIMIT (SECRET_MAX_LEN + 3)

/* The smallest page any Linux port uses: the buffer always fits in one. */
_Static_assert(SECRET_READ_LIMIT <= 4096, "the PIN buffer must fit in one page");

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

static void page_free(char *p)
{
	size_t size = page_size();

	explicit_bzero(p, size);
	(void)munlock(p, size);
	(void)munmap(p, size);
}

/*
 * A page of its own, locked so it is never swapped and left out of core
 * dumps. An unprivileged development run may lack RLIMIT_MEMLOCK: it goes
 * on unlocked, with a warning.
 */
static char *page_new(char *err, size_t errlen)
{
	size_t size = page_size();
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot allocate the PIN buffer: %s", strerror(errno));
		return NULL;
	}
	if (mlock(p, size) != 0) {
		if (errno != EPERM && errno != ENOMEM && errno != EAGAIN) {
			snprintf(err, errlen, "cannot lock the PIN buffer: %s", strerror(errno));
			(void)munmap(p, size);
			return NULL;
		}
		log_warn("cannot lock the PIN buffer in memory (%s); it may reach swap",
			 strerror(errno));
	}
	if (madvise(p, size, MADV_DONTDUMP) != 0)
		log_warn("cannot keep the PIN buffer out of core dumps (%s)", strerror(errno));
	return p;
}

int secret_dup(const struct secret *from, struct secret *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (from->buf == NULL || from->len > SECRET_MAX_LEN) {
		snprintf(err, errlen, "no secret to copy");
		return -1;
	}
	if ((out->buf = page_new(err, errlen)) == NULL)
		return -1;
	memcpy(out->buf, from->buf, from->len);
	out->buf[from->len] = '\0';
	out->len = from->len;
	return 0;
}

void secret_free(struct secret *s)
{
	if (s == NULL)
		return;
	if (s->buf != NULL)
		page_free(s->buf);
	memset(s, 0, sizeof(*s));
}

/*
 * O_NOFOLLOW: a symlink could point the daemon at a file its owner did not
 * protect. O_NONBLOCK: a FIFO must be refused, not waited on forever; it has
 * no effect on the regular file we go on to read.
 */
static int open_pin_file(const char *path, const char *what, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd >= 0)
		return fd;
	if (errno == ELOOP)
		snprintf(err, errlen, "%s %s: is a symbolic link; name the file itself", what,
			 path);
	else
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

/* Is path directly inside $CREDENTIALS_DIRECTORY, the unit's own credentials? */
static bool in_credentials_dir(const char *path)
{
	const char *dir = secure_getenv("CREDENTIALS_DIRECTORY");
	char copy[PATH_MAX], real_dir[PATH_MAX], real_parent[PATH_MAX];

	if (dir == NULL || dir[0] != '/' || strlen(path) >= sizeof(copy))
		return false;
	memcpy(copy, path, strlen(path) + 1);
	return realpath(dir, real_dir) != NULL && realpath(dirname(copy), real_parent) != NULL &&
	       strcmp(real_dir, real_parent) == 0;
}

/*
 * systemd writes a credential read-only, owned by root, and lets the
 * service's user read it through an ACL entry; stat shows the ACL's mask as
 * group bits, so such a file reads 0440 although no group may read it.
 */
static bool is_systemd_credential(const struct stat *st, const char *path)
{
	return st->st_uid == 0 && (st->st_mode & 0337) == 0 && in_credentials_dir(path);
}

static int check_pin_owner(const struct stat *st, uid_t user, const char *path, const char *what,
			   char *err, size_t errlen)
{
	if (st->st_uid == 0 || st->st_uid == user || st->st_uid == geteuid())
		return 0;
	snprintf(err, errlen,
		 "%s %s: owned by uid %u, not by the daemon's user (uid %u) or root; "
		 "chown it",
		 what, path, (unsigned)st->st_uid, (unsigned)user);
	return -1;
}

static int check_pin_file(int fd, const char *path, const char *what, uid_t user, char *err,
			  size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		return -1;
	}
	if (is_systemd_credential(&st, path))
		return 0;
	if (check_pin_owner(&st, user, path, what, err, errlen) != 0)
		return -1;
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "%s %s: mode %04o lets group or others at the secret; chmod 600 it", what,
			 path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Straight into the locked page: no stdio buffer keeps a copy. */
static ssize_t read_bounded(int fd, char *buf, size_t limit)
{
	size_t got = 0;

	while (got < limit) {
		ssize_t n = read(fd, buf + got, limit - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Editors end files with a newline; it is not part of the PIN. */
static size_t strip_line_end(const char *buf, size_t len)
{
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	return len;
}

/* The content is judged without ever being copied into a message. */
static int check_pin(const char *buf, size_t len, const char *path, const char *what, char *err,
		     size_t errlen)
{
	if (len > SECRET_MAX_LEN)
		snprintf(err, errlen, "%s %s: longer than %d bytes", what, path, SECRET_MAX_LEN);
	else if (len == 0)
		snprintf(err, errlen, "%s %s: empty", what, path);
	else if (memchr(buf, '\0', len) != NULL)
		snprintf(err, errlen, "%s %s: contains a NUL byte", what, path);
	else if (memchr(buf, '\n', len) != NULL || memchr(buf, '\r', len) != NULL)
		/* surely a stray line end: a login with it would cost one of the PIN's tries */
		snprintf(err, errlen,
			 "%s %s: a line break inside the secret (only one at the end is ignored)",
			 what, path);
	else
		return 0;
	return -1;
}

int secret_read_file(const char *path, const char *what, struct secret *out, char *err,
		     size_t errlen)
{
	return secret_read_file_as(path, what, geteuid(), out, err, errlen);
}

int secret_read_file_as(const char *path, const char *what, uid_t user, struct secret *out,
			char *err, size_t errlen)
{
	char *buf = NULL;
	int fd = -1, r = -1;
	ssize_t n;
	size_t len;

	memset(out, 0, sizeof(*out));
	if ((fd = open_pin_file(path, what, err, errlen)) < 0 ||
	    check_pin_file(fd, path, what, user, err, errlen) != 0 ||
	    (buf = page_new(err, errlen)) == NULL)
		goto out;
	if ((n = read_bounded(fd, buf, SECRET_READ_LIMIT)) < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	len = strip_line_end(buf, (size_t)n);
	if (check_pin(buf, len, path, what, err, errlen) != 0)
		goto out;
	buf[len] = '\0';
	out->buf = buf;
	out->len = len;
	buf = NULL; /* transferred */
	r = 0;
out:
	if (buf != NULL)
		page_free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}
