/*
 * libpq, loaded when a PostgreSQL database is configured rather than linked:
 * libpq brings Kerberos, LDAP and GnuTLS with it, 2.5 MB of resident
 * libraries that a signetd on SQLite (the default) would carry for nothing.
 * sql_pg.c calls libpq through `pq` only; the names below send its PQ*()
 * calls there. pq_load() is idempotent and thread-safe.
 */
#ifndef SIGNETD_PQ_H
#define SIGNETD_PQ_H

#include <libpq-fe.h>

#include "base/errmsg.h"

/* The soname of the libpq this signetd was built against (libpq5). */
#define PQ_SONAME "libpq.so.5"

#define PQ_FUNCTIONS(X)                                                                            \
	X(PQclear)                                                                                 \
	X(PQcmdStatus)                                                                             \
	X(PQcmdTuples)                                                                             \
	X(PQconnectdbParams)                                                                       \
	X(PQconninfoFree)                                                                          \
	X(PQconninfoParse)                                                                         \
	X(PQdescribePrepared)                                                                      \
	X(PQerrorMessage)                                                                          \
	X(PQexec)                                                                                  \
	X(PQexecPrepared)                                                                          \
	X(PQfinish)                                                                                \
	X(PQfreemem)                                                                               \
	X(PQftype)                                                                                 \
	X(PQgetisnull)                                                                             \
	X(PQgetlength)                                                                             \
	X(PQgetvalue)                                                                              \
	X(PQnfields)                                                                               \
	X(PQnparams)                                                                               \
	X(PQntuples)                                                                               \
	X(PQprepare)                                                                               \
	X(PQresStatus)                                                                             \
	X(PQresultErrorField)                                                                      \
	X(PQresultErrorMessage)                                                                    \
	X(PQresultStatus)                                                                          \
	X(PQsetNoticeReceiver)                                                                     \
	X(PQsetSSLKeyPassHook_OpenSSL)                                                             \
	X(PQstatus)                                                                                \
	X(PQtransactionStatus)

#define PQ_POINTER(name) __typeof__(name) *name;
struct pq_functions {
	PQ_FUNCTIONS(PQ_POINTER)
};
#undef PQ_POINTER

extern struct pq_functions pq;

/* Load libpq and find every function above: 0, or UNAVAILABLE in em naming
 * what is missing (the libpq5 package, or a function in it). */
int pq_load(struct errmsg *em);

#ifndef PQ_LOADER
#define PQclear			    pq.PQclear
#define PQcmdStatus		    pq.PQcmdStatus
#define PQcmdTuples		    pq.PQcmdTuples
#define PQconnectdbParams	    pq.PQconnectdbParams
#define PQconninfoFree		    pq.PQconninfoFree
#define PQconninfoParse		    pq.PQconninfoParse
#define PQdescribePrepared	    pq.PQdescribePrepared
#define PQerrorMessage		    pq.PQerrorMessage
#define PQexec			    pq.PQexec
#define PQexecPrepared		    pq.PQexecPrepared
#define PQfinish		    pq.PQfinish
#define PQfreemem		    pq.PQfreemem
#define PQftype			    pq.PQftype
#define PQgetisnull		    pq.PQgetisnull
#define PQgetlength		    pq.PQgetlength
#define PQgetvalue		    pq.PQgetvalue
#define PQnfields		    pq.PQnfields
#define PQnparams		    pq.PQnparams
#define PQntuples		    pq.PQntuples
#define PQprepare		    pq.PQprepare
#define PQresStatus		    pq.PQresStatus
#define PQresultErrorField	    pq.PQresultErrorField
#define PQresultErrorMessage	    pq.PQresultErrorMessage
#define PQresultStatus		    pq.PQresultStatus
#define PQsetNoticeReceiver	    pq.PQsetNoticeReceiver
#define PQsetSSLKeyPassHook_OpenSSL pq.PQsetSSLKeyPassHook_OpenSSL
#define PQstatus		    pq.PQstatus
#define PQtransactionStatus	    pq.PQtransactionStatus
#endif

#endif
