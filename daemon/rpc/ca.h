/*
 * What the CA handlers share (rpc/ca.c: creation and queries;
 * rpc/ca_lifecycle.c: external sub-CAs, renewal, re-keying): the CaInfo a
 * reply carries. The signing itself is ca/casign.h's.
 */
#ifndef SIGNETD_RPC_CA_H
#define SIGNETD_RPC_CA_H

#include "rpc/rpc.h"

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
