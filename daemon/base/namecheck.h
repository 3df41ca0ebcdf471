/*
 * The name rule (proto/namerule.h) as signetd's error: every layer that takes
 * a name from a caller refuses it in the same words.
 */
#ifndef SIGNETD_NAMECHECK_H
#define SIGNETD_NAMECHECK_H

#include <stddef.h>

#include "base/errmsg.h"
#include "namerule.h"

/* 0 when name_valid(name, max); otherwise INVALID_ARGUMENT with
 * name_rule(what, max) as the message ("CA names are 1-60 characters of ..."). */
int name_check(const char *what, const char *name, size_t max, struct errmsg *em);

#endif
