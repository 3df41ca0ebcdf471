/*
 * Start-up reconcile of the ledger with the audit trail. A certificate is
 * durable in the ledger before its request's audit line is appended (the
 * line says how the request ended, so it comes after the handler), and a
 * signetd killed in between leaves a certificate that no audit line names.
 * Before serving, every ledger row of this signetd's trail recorded since
 * the last reconcile is checked against the audit lines appended since then;
 * each row no line accounts for gets a recovered line, appended now.
 *
 * A row is accounted for by a line with status OK and the row's caller and
 * request id (the request that made it, or its retry), or by any line whose
 * object names its serial ("serial=0A1B..."). A recovered line is
 *   "caller": the row's, "method": SignCsr (IssueVerificationCertificate,
 *   CreateIntermediateCa, RekeyCa for the profiles verification, ca and
 *   ca-link), "object": "ca=X serial=Y profile=Z recovered", "status": "OK",
 *   "message": when the ledger recorded it, "request_id": the row's.
 *
 * Bounded: how far the trail was reconciled (the last row id and the audit
 * log's length and last hash) is kept in the ledger, table audit_reconciled,
 * one row per trail, so a start-up reads only the rows and lines since the
 * previous one. A log that is not the one reconciled last (replaced, or its
 * end lost) is read from its start, for the rows since then.
 */
#ifndef SIGNETD_RECONCILE_H
#define SIGNETD_RECONCILE_H

#include <stddef.h>

#include "records/audit.h"
#include "records/ledger.h"

struct reconcile_result {
	size_t rows;	  /* ledger rows of this trail checked */
	size_t lines;	  /* audit lines read */
	size_t recovered; /* recovered lines appended */
	int rescanned;	  /* the log did not fit the last reconcile: read from its start */
};

/*
 * Name this signetd's trail in the ledger (the audit log's real path, see
 * ledger_set_trail), then reconcile as above. Call it after both are open
 * and before any request is served. 0 with *out filled; -1 with err when
 * the ledger or the log cannot be read, a recovered line cannot be appended
 * or the point reached cannot be saved: the rows not yet accounted for are
 * then checked again at the next start.
 */
int reconcile_run(struct ledger *l, struct audit *a, struct reconcile_result *out, char *err,
		  size_t errlen);

#endif
