/*
 * Levelled logging to stderr. Under systemd (JOURNAL_STREAM set) each line
 * carries an sd-daemon "<N>" priority prefix so journald keeps the level.
 * Never pass a secret to these functions.
 */
#ifndef SIGNETD_LOG_H
#define SIGNETD_LOG_H

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

/* Copy src escaping control characters as \xNN; returns the length written. */
size_t log_sanitize(char *dst, size_t dstlen, const char *src);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
