/*
 * The one rule for names signet takes from callers and config: keys, CAs,
 * profiles, clients, registry verification codes. 1 to max characters of
 * [A-Za-z0-9._-], safe in token labels, file names, log lines and URIs.
 * Shared by signetd, libsignet and the CLI, with the one wording of the rule.
 */
#ifndef SIGNET_PROTO_NAMERULE_H
#define SIGNET_PROTO_NAMERULE_H

#include <stddef.h>

/* The allowed characters, as messages and help spell them. */
#define NAME_CHARS_TEXT "A-Z a-z 0-9 . _ -"

/* A client name, in signetd's config and in libsignet's credential. */
#define NAME_CLIENT_MAX 64

/* Room for name_rule()'s text with a `what` of up to 40 characters. */
#define NAME_RULE_MAX 96

/* 1 when name is 1 to max characters of [A-Za-z0-9._-]; 0 otherwise or NULL. */
int name_valid(const char *name, size_t max);

/*
 * The rule as a message, "<what> are 1-<max> characters of A-Z a-z 0-9 . _ -"
 * (`what` in the plural: "key names"), into out; returns out. The offending
 * name is left out on purpose: it may be long or unprintable.
 */
const char *name_rule(const char *what, size_t max, char *out, size_t outlen);

#endif
