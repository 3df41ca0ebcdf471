#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static atomic_int current_level = LOG_LVL_INFO;

static const struct {
	const char *name;
	const char *journal_prefix; /* sd-daemon priority */
} levels[] = {
	[LOG_LVL_ERROR] = {"error", "<3>"},
	[LOG_LVL_WARN] = {"warning", "<4>"},
	[LOG_LVL_INFO] = {"info", "<6>"},
	[LOG_LVL_DEBUG] = {"debug", "<7>"},
};

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, level);
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

/* Control characters (newlines above all) could forge log lines: escape them. */
size_t log_sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 4 < dstlen; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return o;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], clean[LOG_LINE_MAX], line[LOG_LINE_MAX + 64];
	va_list ap;
	int n;

	if (level > log_get_level() || (int)level < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_sanitize(clean, sizeof(clean), raw);
	if (getenv("JOURNAL_STREAM") != NULL)
		n = snprintf(line, sizeof(line), "%s%s\n", levels[level].journal_prefix, clean);
	else
		n = snprintf(line, sizeof(line), "signetd[%ld]: %s: %s\n", (long)getpid(),
			     levels[level].name, clean);
	/* One write per line, so lines from worker threads never interleave. */
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
			     (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
