/* The records' checksum over OpenSSL's EVP interface (thread-safe: each
 * task has its own digest context). */
#include "checksum.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct pd_checksum {
  EVP_MD_CTX *md;
};

pd_checksum *pd_checksum_new(void) {
  pd_checksum *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  if (!(c->md = EVP_MD_CTX_new()) ||
      EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
    pd_checksum_free(c);
    return NULL;
  }
  return c;
}

bool pd_checksum_add(pd_checksum *c, const unsigned char *data, size_t len) {
  unsigned char prefix[8];
  uint64_t n = len;
  for (int k = 7; k >= 0; k--, n >>= 8) prefix[k] = (unsigned char)(n & 0xFF);
  return EVP_DigestUpdate(c->md, prefix, sizeof prefix) == 1 &&
         (len == 0 || EVP_DigestUpdate(c->md, data, len) == 1);
}

bool pd_checksum_finish(pd_checksum *c, char out[PD_CHECKSUM_MAX]) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool ok = EVP_DigestFinal_ex(c->md, digest, &len) == 1 && len == 32;
  pd_checksum_free(c);
  if (!ok) return false;
  int at = snprintf(out, PD_CHECKSUM_MAX, "sha256:");
  for (unsigned int k = 0; k < len; k++)
    at += snprintf(out + at, PD_CHECKSUM_MAX - (size_t)at, "%02x", digest[k]);
  return true;
}

void pd_checksum_free(pd_checksum *c) {
  if (!c) return;
  EVP_MD_CTX_free(c->md);
  free(c);
}
