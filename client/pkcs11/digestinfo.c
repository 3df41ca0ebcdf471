/* PKCS#1 DigestInfo, the input of CKM_RSA_PKCS for a signature. */
#include <string.h>

#include "p11.h"

/*
 * DER prefixes of DigestInfo { AlgorithmIdentifier { oid, NULL }, OCTET
 * STRING } (RFC 8017, 9.2 note 1), the digest following. A fixed table is
 * the whole grammar: these are the only encodings TLS stacks produce, and an
 * exact match leaves no room for parser confusion.
 */
static const struct {
	enum signet_hash hash;
	size_t digest_len;
	uint8_t prefix[19];
} digestinfos[] = {
	{SIGNET_HASH_SHA256,
	 32,
	 {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	  0x05, 0x00, 0x04, 0x20}},
	{SIGNET_HASH_SHA384,
	 48,
	 {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
	  0x05, 0x00, 0x04, 0x30}},
	{SIGNET_HASH_SHA512,
	 64,
	 {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
	  0x05, 0x00, 0x04, 0x40}},
};

CK_RV p11_digestinfo_parse(const uint8_t *in, size_t len, enum signet_hash *hash,
			   const uint8_t **digest, size_t *digest_len)
{
	for (size_t i = 0; i < sizeof(digestinfos) / sizeof(digestinfos[0]); i++) {
		size_t plen = sizeof(digestinfos[i].prefix);

		if (len != plen + digestinfos[i].digest_len ||
		    memcmp(in, digestinfos[i].prefix, plen) != 0)
			continue;
		*hash = digestinfos[i].hash;
		*digest = in + plen;
		*digest_len = digestinfos[i].digest_len;
		return CKR_OK;
	}
	return CKR_DATA_INVALID;
}

int p11_hash_by_len(size_t len)
{
	switch (len) {
	case 32:
		return SIGNET_HASH_SHA256;
	case 48:
		return SIGNET_HASH_SHA384;
	case 64:
		return SIGNET_HASH_SHA512;
	default:
		return -1;
	}
}
