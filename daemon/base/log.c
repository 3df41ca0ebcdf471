#include "base/log.h"

#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MSG_MAX  1024
#define LOG_LINE_MAX (LOG_MSG_MAX + 64)

/* A write() of at most PIPE_BUF bytes to a pipe is atomic: whole lines even
 * when stderr is a pipe shared with other processes. */
_Static_assert(LOG_LINE_MAX <= PIPE_BUF, "a log line must fit in one atomic pipe write");

static atomic_int current_level = LOG_LVL_INFO;

static const struct {
	const char *name;
	const char *journal_prefix; /* sd-daemon(3) priority */
} levels[] = {
	[LOG_LVL_ERROR] = {"error", "<3>"},
	[LOG_LVL_WARN] = {"warning", "<4>"},
	[LOG_LVL_INFO] = {"info", "<6>"},
	[LOG_LVL_DEBUG] = {"debug", "<7>"},
};

static bool level_valid(enum log_level level)
{
	return (int)level >= LOG_LVL_ERROR && (int)level <= LOG_LVL_DEBUG;
}

void log_set_level(enum log_level level)
{
	if (level_valid(level))
		atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&current_level);
}

int log_level_from_name(const char *name, enum log_level *out)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "warn") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(name, levels[i].name) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

size_t log_sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	if (dstlen == 0)
		return 0;
	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;
		/* bytes >= 0x80 too: request text is not known to be UTF-8, and
		 * C1 controls (0x9b: CSI) or look-alikes would reach a terminal */
		bool escape = c < 0x20 || c >= 0x7f;
		size_t need = escape ? 4 : 1;

		if (o + need >= dstlen)
			break;
		if (escape)
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return o;
}

size_t log_format_line(char *dst, size_t dstlen, enum log_level level, bool journal, long pid,
		       const char *msg)
{
	size_t used;
	int n;

	if (dstlen < 2 || !level_valid(level))
		return 0;
	if (journal)
		n = snprintf(dst, dstlen - 1, "%s", levels[level].journal_prefix);
	else
		n = snprintf(dst, dstlen - 1, "signetd[%ld]: %s: ", pid, levels[level].name);
	used = n < 0 ? 0 : (size_t)n < dstlen - 1 ? (size_t)n : dstlen - 2;
	/* dstlen - used - 1 leaves room for the "\n" whatever msg holds */
	used += log_sanitize(dst + used, dstlen - used - 1, msg);
	dst[used++] = '\n';
	dst[used] = '\0';
	return used;
}

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected; the
 * variable is inherited by children whose stderr may go elsewhere, so it only
 * counts when it names our stderr (sd_journal_stream_fd(3)).
 */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX], line[LOG_LINE_MAX];
	size_t len;
	va_list ap;
	int n;

	if (!level_valid(level) || level > log_get_level())
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4); /* show that the message was cut */
	len = log_format_line(line, sizeof(line), level, stderr_is_journal(), (long)getpid(), msg);
	(void)!write(STDERR_FILENO, line, len);
}
