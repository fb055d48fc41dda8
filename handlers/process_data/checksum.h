/* The records' checksum: SHA-256 (OpenSSL EVP) over, for each valid record
 * in order, its canonical length as 8 bytes big-endian followed by its
 * canonical bytes. The length prefix keeps ["ab","c"] and ["a","bc"]
 * apart. */
#ifndef PD_CHECKSUM_H
#define PD_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>

/* "sha256:" and 64 lowercase hex digits. */
#define PD_CHECKSUM_MAX (7 + 64 + 1)

typedef struct pd_checksum pd_checksum;

/* NULL when out of memory. */
pd_checksum *pd_checksum_new(void);
bool pd_checksum_add(pd_checksum *c, const unsigned char *data, size_t len);
/* Writes "sha256:<hex>" and frees the context. */
bool pd_checksum_finish(pd_checksum *c, char out[PD_CHECKSUM_MAX]);
/* Frees a context without finishing it; accepts NULL. */
void pd_checksum_free(pd_checksum *c);

#endif
