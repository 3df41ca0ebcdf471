/*
 * EST (RFC 7030) through an enrolment door: EstEnroll and
 * GetEnrolmentCsrAttrs, for signet-gatewayd (which speaks EST over HTTPS and
 * holds no key). docs/est.md.
 */
#include <stdio.h>

#include "rpc/rpc.h"

int process_est_enroll(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__EstEnrollRequest *req = (const void *)request;

	rpc_object(rq, "enrolment=%.48s", req->enrolment);
	return errmsg_set(&rq->em, SIGNET_E_UNIMPLEMENTED, "EstEnroll is not served yet");
}

int process_get_enrolment_csr_attrs(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetEnrolmentCsrAttrsRequest *req = (const void *)request;

	rpc_object(rq, "enrolment=%.48s", req->enrolment);
	return errmsg_set(&rq->em, SIGNET_E_UNIMPLEMENTED,
			  "GetEnrolmentCsrAttrs is not served yet");
}
