#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define SECRET_PAGE 4096

static char *secret_page_new(void)
{
	char *p =
		mmap(NULL, SECRET_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mlock(p, SECRET_PAGE) != 0)
		log_warn("cannot lock the PIN buffer in memory (%s); it may be swapped",
			 strerror(errno));
	(void)madvise(p, SECRET_PAGE, MADV_DONTDUMP);
	return p;
}

void secret_free(struct secret *s)
{
	if (s == NULL || s->buf == NULL)
		return;
	explicit_bzero(s->buf, SECRET_PAGE);
	munlock(s->buf, SECRET_PAGE);
	munmap(s->buf, SECRET_PAGE);
	s->buf = NULL;
	s->len = 0;
}

static int secret_check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "%s: mode %04o lets others read or change the PIN; chmod 600 it", path,
			 (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Read at most SECRET_MAX_LEN + 1 bytes straight into the locked page. */
static ssize_t secret_read_all(int fd, char *buf)
{
	size_t got = 0;

	while (got < SECRET_MAX_LEN + 1) {
		ssize_t n = read(fd, buf + got, SECRET_MAX_LEN + 1 - got);

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

int secret_read_file(const char *path, struct secret *out, char *err, size_t errlen)
{
	int fd = -1, r = -1;
	ssize_t n;
	char *buf = NULL;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "PIN file %s: %s", path, strerror(errno));
		goto out;
	}
	if (secret_check_file(fd, path, err, errlen) != 0)
		goto out;
	if ((buf = secret_page_new()) == NULL) {
		snprintf(err, errlen, "cannot allocate the PIN buffer");
		goto out;
	}
	if ((n = secret_read_all(fd, buf)) < 0) {
		snprintf(err, errlen, "PIN file %s: %s", path, strerror(errno));
		goto out;
	}
	if (n > SECRET_MAX_LEN) {
		snprintf(err, errlen, "PIN file %s: longer than %d bytes", path, SECRET_MAX_LEN);
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0 || memchr(buf, '\0', (size_t)n) != NULL) {
		snprintf(err, errlen, "PIN file %s: %s", path,
			 n == 0 ? "empty" : "contains a NUL byte");
		goto out;
	}
	out->buf = buf;
	out->len = (size_t)n;
	buf = NULL; /* transferred */
	r = 0;
out:
	if (buf != NULL) {
		struct secret tmp = {buf, 0};

		secret_free(&tmp);
	}
	if (fd >= 0)
		close(fd);
	return r;
}
