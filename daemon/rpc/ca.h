/*
 * What the CA handlers share (rpc_ca.c: creation and queries;
 * rpc_ca_lifecycle.c: external sub-CAs, renewal, re-keying): the terms of a
 * CA certificate signed on the token, and the CaInfo a reply carries.
 */
#ifndef SIGNETD_RPC_CA_H
#define SIGNETD_RPC_CA_H

#include "rpc/rpc.h"

#define CA_BACKDATE_SECONDS 60 /* tolerate small clock skew on relying parties */

/* Azure's sample CA profile: digitalSignature, keyCertSign, cRLSign (critical). */
#define CA_KEY_USAGE (KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN)

struct ca_terms {
	const X509_NAME *subject;
	unsigned validity_days; /* clamped to the issuer's validity */
	int path_len;		/* -1: none; clamped to what the issuer leaves */
	Signet__V1__HashAlgorithm hash;
};

/* A CA certificate for `subject_key`, signed on the token by `signer_key`
 * (the subject key itself for a self-signed root, issuer NULL). */
int rpc_ca_certify(struct rpc *rq, const struct ca_terms *t, EVP_PKEY *subject_key,
		   struct key *signer_key, X509 *issuer, X509 **out);

/* The signature hash for a CA signing with `signer_alg`. NULL if `wire` is unknown. */
const EVP_MD *rpc_ca_md(enum signet_key_alg signer_alg, Signet__V1__HashAlgorithm wire);

/* Everything a CaInfo points into, owned here. */
struct ca_info_buf {
	Signet__V1__CaInfo info;
	char subject[512];
	char parent[CA_NAME_MAX + 1];
	uint8_t *der;
	uint8_t serial[32];
	ProtobufCBinaryData external[CA_ABOVE_MAX];
};

int rpc_ca_info_fill(const struct ca *ca, struct ca_info_buf *b);
void rpc_ca_info_release(struct ca_info_buf *b);

/* Serial of `cert`, big-endian, into buf (at least 32 bytes); its length. */
size_t rpc_ca_serial(const X509 *cert, uint8_t *buf, size_t buflen);

#endif
