/*
 * Levelled logging to stderr. Under systemd (JOURNAL_STREAM set) each line
 * carries an sd-daemon "<N>" priority prefix so journald keeps the level.
 * Never pass a secret to these functions.
 */
#ifndef SIGNETD_LOG_H
#define SIGNETD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn"/"warning", "info", "debug" -> level; -1 when unknown. */
int log_level_from_name(const char *name, enum log_level *out);

/*
 * Copy src escaping control characters (newlines above all) and every byte
 * >= 0x7f as \xNN, so that text from a request cannot forge a log line or
 * carry terminal escapes (C1, UTF-8 look-alikes); printable ASCII is kept. Stops before a character
 * that would not fit; dst is always NUL-terminated when dstlen > 0. Returns the length written.
 */
size_t log_sanitize(char *dst, size_t dstlen, const char *src);

/*
 * The complete line log_msg() writes for msg: "<6>msg\n" when stderr is the
 * journal, "signetd[PID]: info: msg\n" otherwise; msg sanitized, the line cut
 * to fit but always ending in "\n" (dstlen >= 2). Returns its length.
 * Pure, for the tests.
 */
size_t log_format_line(char *dst, size_t dstlen, enum log_level level, bool journal, long pid,
		       const char *msg);

/* Thread-safe: each line reaches stderr in a single write(), whole. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
