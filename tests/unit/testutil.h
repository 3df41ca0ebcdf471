/*
 * Files for the unit tests: scratch directories under /tmp, whole files
 * written and read back, trees removed. Every helper fails the running cmocka
 * test when the file system does not do what was asked, so a test never goes
 * on with a fixture that is not there. Include after <cmocka.h>.
 */
#ifndef SIGNET_TESTUTIL_H
#define SIGNET_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* A fresh directory /tmp/signet-NAME-XXXXXX, its path into dir[size]. */
void testutil_mkdtemp(char *dir, size_t size, const char *name);

/* "dir/name" into out[size]; fails the test when it does not fit. */
void testutil_join(char *out, size_t size, const char *dir, const char *name);

/* Create or truncate path and write len bytes of data to it. */
void testutil_write(const char *path, const void *data, size_t len);

/* testutil_write of a NUL-terminated text. */
void testutil_write_text(const char *path, const char *text);

/*
 * Replace path with len bytes of data and the given mode, through a
 * temporary file in the same directory renamed over it: the file is never
 * seen with another mode or half its content.
 */
void testutil_write_mode(const char *path, const void *data, size_t len, mode_t mode);

/* The whole file, NUL-terminated, to free(); *len its size when len is not NULL. */
char *testutil_read(const char *path, size_t *len);

/* Remove path and everything under it; a path that is not there is no failure. */
void testutil_rm_rf(const char *path);

#endif
