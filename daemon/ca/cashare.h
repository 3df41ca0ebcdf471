/*
 * The CA store shared by hosts through their common database (castore.h,
 * castore_share): the table ca_records, written before a record file, and
 * read back into the files of every host. Only castore.c and cashare.c use
 * this.
 */
#ifndef SIGNETD_CASHARE_H
#define SIGNETD_CASHARE_H

#include <stdint.h>

#include "ca/castore.h"
#include "records/ledger.h"

/* How often a host looks for CAs the others recorded, at most. */
#define CASHARE_POLL_MS 1000

/*
 * Record CA `name`'s new record (key, cert, above) in the database:
 * `replaces` is the serial of the generation it replaces, "" for a new CA.
 * ALREADY_EXISTS when another host created the name first; ABORTED when
 * another host replaced that generation first; UNAVAILABLE when the
 * database cannot be written.
 */
int cashare_publish(struct ledger *l, const char *name, const char *replaces, const char *key,
		    X509 *cert, STACK_OF(X509) * above, struct errmsg *em);

/* Copy in the records the others added, when CASHARE_POLL_MS has passed
 * since the last look. For castore_sync. */
void cashare_poll(struct castore *cs);

/* castore.c: a record's text, as its file holds it; free() it. */
int castore_record_text(const char *key, X509 *cert, STACK_OF(X509) * above, char **text);
/* castore.c: a certificate's serial in upper-case hex (BN_bn2hex). */
int castore_serial_hex(X509 *cert, char out[41]);
/* castore.c: apply a record copied from the database to the files (see
 * cashare_publish for `replaces`), under the directory's lock. */
int castore_apply_record(struct castore *cs, const char *name, const char *replaces,
			 const char *serial, const char *text, struct errmsg *em);

#endif
