/* AWS Signature Version 4 as a server checks it: the Authorization
 * header's credential scope, the request's date, and the signature
 * computed again from the canonical request with the caller's secret
 * (HMAC-SHA256 through a key derived per date, region and service). The
 * signing steps are exposed for the tests, which check them against AWS's
 * published examples. Free of the rest of the gateway but for its request
 * and key types. */
#ifndef GW_SIGV4_H
#define GW_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "gateway.h"

#define GW_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

typedef enum gw_sigv4_result {
  GW_SIGV4_OK,
  GW_SIGV4_MISSING,     /* no Authorization header */
  GW_SIGV4_INCOMPLETE,  /* the header or the date is malformed */
  GW_SIGV4_UNKNOWN_KEY, /* the access key id is not configured */
  GW_SIGV4_INVALID      /* scope, date skew or signature wrong */
} gw_sigv4_result;

/* What a request must be signed for. */
typedef struct gw_sigv4_scope {
  const char *region, *service;
  const gw_access_key *keys;
  size_t nkeys;
  int64_t now_s;       /* the server's time, seconds since the epoch */
  unsigned max_skew_s; /* AWS allows 15 minutes either way */
} gw_sigv4_scope;

/* Check the request's signature. Anything but GW_SIGV4_OK writes AWS's
 * message for it into msg. Threads: any. */
gw_sigv4_result gw_sigv4_verify(const gw_request *req,
                                const gw_sigv4_scope *scope, char *msg,
                                size_t msg_size);

/* ---- the signing steps ---- */

/* The canonical request: method, canonical URI (the path's segments
 * encoded twice, as every service but S3 signs them), canonical query,
 * the headers listed in `signed_headers` ("host;x-amz-date", lower case,
 * ';'-separated) with their values trimmed, and the body's SHA-256.
 * req->path and req->query are taken decoded, as the HTTP layer hands
 * them. malloc'd; NULL without memory. */
char *gw_sigv4_canonical_request(const gw_request *req,
                                 const char *signed_headers);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n
 * <hex SHA-256 of the canonical request>". malloc'd; NULL without
 * memory. amz_date is "20150830T123600Z". */
char *gw_sigv4_string_to_sign(const char *amz_date, const char *region,
                              const char *service,
                              const char *canonical_request);

/* The signing key, HMAC chained over "AWS4"+secret, the date (YYYYMMDD),
 * region, service and "aws4_request". */
void gw_sigv4_signing_key(unsigned char out[32], const char *secret,
                          const char *date8, const char *region,
                          const char *service);

/* The signature, 64 lower-case hex digits: HMAC of the string to sign
 * with the signing key. Returns -1 without memory. */
int gw_sigv4_signature(char out[65], const char *secret, const char *amz_date,
                       const char *region, const char *service,
                       const char *canonical_request);

/* Lower-case hex SHA-256 of n bytes. */
void gw_sigv4_sha256_hex(char out[65], const void *data, size_t n);

#endif
