/*
 * Secrets (the token PIN): held in a page of their own that is locked in RAM
 * (mlock), excluded from core dumps (MADV_DONTDUMP), bounded in size, and
 * wiped (explicit_bzero) before it is unmapped.
 */
#ifndef SIGNETD_SECRET_H
#define SIGNETD_SECRET_H

#include <stddef.h>
#include <sys/types.h>

#define SECRET_MAX_LEN 256

struct secret {
	char *buf;  /* NUL-terminated; NULL when empty */
	size_t len; /* bytes before the NUL */
};

/*
 * Read a secret file (a PIN, a client's HMAC secret; `what` names it in
 * messages: "PIN file"): the whole content minus one trailing "\n" or "\r\n".
 * Refuses (-1 and a message in err, which never contains the secret):
 * a symbolic link, anything but a regular file, a file readable or writable
 * by group or others, an empty PIN, one longer than SECRET_MAX_LEN, or one
 * containing NUL or another line break (a login with it would fail and use
 * up one of the token's PIN tries). On success out->buf is a locked page
 * the caller releases with secret_free(); on failure *out is zeroed.
 */
int secret_read_file(const char *path, const char *what, struct secret *out, char *err,
		     size_t errlen);

/*
 * The same, for a daemon that will serve as `user` (a start as root that
 * drops privileges later): the file must also be owned by `user`, root or
 * the effective user, so no other account can have put a PIN there. A file
 * of systemd's credentials directory ($CREDENTIALS_DIRECTORY) is accepted as
 * systemd leaves it: owned by root, mode 0400, or 0440 when the group bits
 * are the mask of the ACL that lets the service's user read it.
 */
int secret_read_file_as(const char *path, const char *what, uid_t user, struct secret *out,
			char *err, size_t errlen);

/*
 * A copy of `from` in a locked page of its own, for a holder that outlives
 * the original (the token keeps the PIN to log in again). -1 and a message
 * when `from` is empty or the page cannot be had; *out is zeroed then.
 */
int secret_dup(const struct secret *from, struct secret *out, char *err, size_t errlen);

/* Wipe and release; safe on a zeroed or already freed struct. */
void secret_free(struct secret *s);

#endif
