/* PEM text for DER blobs, as replies carry it next to the DER. */
#ifndef SIGNETD_PEM_H
#define SIGNETD_PEM_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* One PEM block of `type` ("CERTIFICATE") per DER blob, concatenated, in a
 * fresh NUL-terminated string (free()). NULL when out of memory. */
char *pem_encode_many(const char *type, const ProtobufCBinaryData *ders, size_t n);

/* The same for a single blob. */
char *pem_encode(const char *type, const uint8_t *der, size_t len);

#endif
