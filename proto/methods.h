/*
 * The facts about each RPC that are not in signet.proto, kept in one place
 * (methods.def) for both ends: whether the act is audited, whether it is an
 * admin method, whether a client may repeat it, whether it proves
 * possession of a CA, and which fields of its
 * request name what it acts on. This header gives the flags the rows use;
 * include it before expanding methods.def.
 */
#ifndef SIGNET_PROTO_METHODS_H
#define SIGNET_PROTO_METHODS_H

enum signet_method_flag {
	/* signetd records the act in the audit trail, whatever its result
	 * (refusals by policy included); reads of public material are not */
	SIGNET_METHOD_AUDITED = 1 << 0,
	/* a client needs admin = true: CA lifecycle, key deletion, revocation */
	SIGNET_METHOD_ADMIN = 1 << 1,
	/* libsignet may send it again with the same request id after an
	 * attempt that got no answer: it changes nothing, or signetd answers a
	 * repeated request id with the first result */
	SIGNET_METHOD_RETRYABLE = 1 << 2,
	/* its answer proves possession of a CA's key to a third party (a
	 * verification certificate lets its holder register the CA in their
	 * own cloud account): a glob in a client's methods does not grant it;
	 * admin = true, clients.NAME.verification_cas or the method named in
	 * full does */
	SIGNET_METHOD_CA_PROOF = 1 << 3,
};

#endif
