/*
 * Enrolment front ends: GetEnrolmentCaCerts, ScepOperation,
 * CreateEnrolmentCode, for signet-gatewayd (which speaks SCEP over HTTP and
 * holds no key). The doors are configured as enrolment.NAME (config.h).
 */
#include "rpc/rpc.h"

/* No enrolment is configured yet: every door is unknown. */
static int enrolment_unknown(struct rpc *rq, const char *name)
{
	rpc_object(rq, "enrolment=%.64s", name);
	return errmsg_set(&rq->em, SIGNET_E_NOT_FOUND, "no enrolment '%.64s' is configured", name);
}

int process_get_enrolment_ca_certs(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__GetEnrolmentCaCertsRequest *req = (const void *)request;

	return enrolment_unknown(rq, req->enrolment);
}

int process_scep_operation(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__ScepOperationRequest *req = (const void *)request;

	return enrolment_unknown(rq, req->enrolment);
}

int process_create_enrolment_code(struct rpc *rq, const ProtobufCMessage *request)
{
	const Signet__V1__CreateEnrolmentCodeRequest *req = (const void *)request;

	return enrolment_unknown(rq, req->enrolment);
}
