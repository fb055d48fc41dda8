/* AWS Signature Version 4 verification (see sigv4.h). The messages are
 * the ones AWS's JSON services answer with, so SDKs and the CLI show what
 * they would show against AWS. */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- verification -------------------------------------------------------- */

static const char *header(const gw_request *req, const char *name) {
  for (size_t i = 0; i < req->nheaders; i++)
    if (strcasecmp(req->headers[i].name, name) == 0)
      return req->headers[i].value;
  return NULL;
}

typedef struct auth_parts {
  char cred[300], signed_headers[1024], signature[80];
  bool has_cred, has_headers, has_sig;
} auth_parts;

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...". */
static void parse_auth(const char *auth, auth_parts *a) {
  memset(a, 0, sizeof *a);
  size_t alen = strlen(GW_SIGV4_ALGORITHM);
  if (strncmp(auth, GW_SIGV4_ALGORITHM, alen) != 0 || auth[alen] != ' ') return;
  for (const char *p = auth + alen; *p;) {
    while (*p == ' ' || *p == ',') p++;
    size_t len = strcspn(p, ",");
    const char *eq = memchr(p, '=', len);
    if (eq) {
      size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
      while (vlen && eq[vlen] == ' ') vlen--;
      struct {
        const char *key;
        char *dst;
        size_t cap;
        bool *seen;
      } f[] = {{"Credential", a->cred, sizeof a->cred, &a->has_cred},
               {"SignedHeaders", a->signed_headers, sizeof a->signed_headers,
                &a->has_headers},
               {"Signature", a->signature, sizeof a->signature, &a->has_sig}};
      for (size_t i = 0; i < 3; i++)
        if (strlen(f[i].key) == klen && strncmp(p, f[i].key, klen) == 0 &&
            vlen < f[i].cap) {
          memcpy(f[i].dst, eq + 1, vlen);
          f[i].dst[vlen] = '\0';
          *f[i].seen = vlen > 0;
        }
    }
    p += len;
  }
}

/* "20150830T123600Z" into seconds since the epoch; false when malformed. */
static bool parse_amz_date(const char *s, int64_t *out) {
  if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  for (int i = 0; i < 15; i++)
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return false;
  struct tm tm = {0};
  if (!strptime(s, "%Y%m%dT%H%M%SZ", &tm)) return false;
  *out = (int64_t)timegm(&tm);
  return true;
}

static void amz_date_of(char out[17], int64_t secs) {
  time_t t = (time_t)secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* The request's date in SigV4's form: X-Amz-Date, else Date (RFC 1123).
 * 0: absent; -1: malformed (msg written); 1: found. */
static int request_date(const gw_request *req, char amz[17], int64_t *secs,
                        char *msg, size_t n) {
  const char *d = header(req, "X-Amz-Date");
  if (d) {
    if (!parse_amz_date(d, secs)) {
      snprintf(msg, n,
               "Date must be in ISO-8601 'basic format'. Got '%.40s'. See "
               "http://en.wikipedia.org/wiki/ISO_8601",
               d);
      return -1;
    }
    snprintf(amz, 17, "%s", d);
    return 1;
  }
  if (!(d = header(req, "Date"))) return 0;
  struct tm tm = {0};
  const char *end = strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end) {
    snprintf(msg, n, "Date must be in RFC 1123 format. Got '%.40s'", d);
    return -1;
  }
  *secs = (int64_t)timegm(&tm);
  amz_date_of(amz, *secs);
  return 1;
}

static bool lists_host(const char *signed_headers) {
  for (const char *p = signed_headers; *p;) {
    size_t len = strcspn(p, ";");
    if (len == 4 && strncmp(p, "host", 4) == 0) return true;
    p += len;
    if (*p) p++;
  }
  return false;
}

/* What the header lacks, AWS's way: one sentence per missing part, then
 * the header itself. */
static gw_sigv4_result incomplete(const auth_parts *a, bool no_date,
                                  const char *auth, char *msg, size_t n) {
  snprintf(msg, n, "%s%s%s%sAuthorization=%.200s",
           a->has_cred ? ""
                       : "Authorization header requires 'Credential' "
                         "parameter. ",
           a->has_sig ? ""
                      : "Authorization header requires 'Signature' "
                        "parameter. ",
           a->has_headers ? ""
                          : "Authorization header requires 'SignedHeaders' "
                            "parameter. ",
           no_date ? "Authorization header requires existence of either a "
                     "'X-Amz-Date' or a 'Date' header. "
                   : "",
           auth);
  return GW_SIGV4_INCOMPLETE;
}

/* The credential's scope against the request's date and ours. */
static gw_sigv4_result check_scope(char *const el[5], const char *amz,
                                   const gw_sigv4_scope *sc, char *msg,
                                   size_t n) {
  if (strlen(el[1]) != 8 || strncmp(el[1], amz, 8) != 0) {
    snprintf(msg, n,
             "Date in Credential scope does not match YYYYMMDD from "
             "ISO-8601 version of date from HTTP: '%.20s' != '%.8s', from "
             "'%s'.",
             el[1], amz, amz);
    return GW_SIGV4_INVALID;
  }
  if (strcmp(el[2], sc->region) != 0) {
    snprintf(msg, n, "Credential should be scoped to a valid region.");
    return GW_SIGV4_INVALID;
  }
  if (strcmp(el[3], sc->service) != 0) {
    snprintf(msg, n, "Credential should be scoped to correct service: '%s'.",
             sc->service);
    return GW_SIGV4_INVALID;
  }
  if (strcmp(el[4], "aws4_request") != 0) {
    snprintf(msg, n,
             "Credential should be scoped with a valid terminator: "
             "'aws4_request', not '%.40s'.",
             el[4]);
    return GW_SIGV4_INVALID;
  }
  return GW_SIGV4_OK;
}

static gw_sigv4_result check_skew(const char *amz, int64_t t,
                                  const gw_sigv4_scope *sc, char *msg,
                                  size_t n) {
  char bound[17], now[17];
  int64_t skew = sc->max_skew_s;
  amz_date_of(now, sc->now_s);
  if (t < sc->now_s - skew) {
    amz_date_of(bound, sc->now_s - skew);
    snprintf(msg, n,
             "Signature expired: %s is now earlier than %s (%s - %lld "
             "min.)",
             amz, bound, now, (long long)(skew / 60));
    return GW_SIGV4_INVALID;
  }
  if (t > sc->now_s + skew) {
    amz_date_of(bound, sc->now_s + skew);
    snprintf(msg, n,
             "Signature not yet current: %s is still later than %s (%s + "
             "%lld min.)",
             amz, bound, now, (long long)(skew / 60));
    return GW_SIGV4_INVALID;
  }
  return GW_SIGV4_OK;
}

gw_sigv4_result gw_sigv4_verify(const gw_request *req, const gw_sigv4_scope *sc,
                                char *msg, size_t n) {
  const char *auth = header(req, "Authorization");
  if (!auth || !*auth) {
    snprintf(msg, n, "Missing Authentication Token");
    return GW_SIGV4_MISSING;
  }
  auth_parts a;
  parse_auth(auth, &a);
  char amz[17];
  int64_t t = 0;
  int dated = request_date(req, amz, &t, msg, n);
  if (dated < 0) return GW_SIGV4_INCOMPLETE;
  if (!a.has_cred || !a.has_sig || !a.has_headers || !dated)
    return incomplete(&a, !dated, auth, msg, n);
  char cred[sizeof a.cred], *el[5] = {0};
  memcpy(cred, a.cred, sizeof cred);
  size_t count = 0;
  for (char *p = cred, *s; p; p = s) {
    s = strchr(p, '/');
    if (s) *s++ = '\0';
    if (count < 5) el[count] = p;
    count++;
  }
  if (count != 5) {
    snprintf(msg, n,
             "Credential must have exactly 5 slash-delimited elements, e.g. "
             "keyid/date/region/service/term, got '%.200s'",
             a.cred);
    return GW_SIGV4_INCOMPLETE;
  }
  const gw_access_key *key = NULL;
  for (size_t i = 0; i < sc->nkeys && !key; i++)
    if (strcmp(sc->keys[i].id, el[0]) == 0) key = &sc->keys[i];
  if (!key) {
    snprintf(msg, n,
             "The security token included in the request is "
             "invalid.");
    return GW_SIGV4_UNKNOWN_KEY;
  }
  gw_sigv4_result r = check_scope(el, amz, sc, msg, n);
  if (r != GW_SIGV4_OK) return r;
  if (!lists_host(a.signed_headers)) {
    snprintf(msg, n,
             "'Host' or ':authority' must be a 'SignedHeader' in "
             "the AWS Authorization.");
    return GW_SIGV4_INCOMPLETE;
  }
  if ((r = check_skew(amz, t, sc, msg, n)) != GW_SIGV4_OK) return r;
  char *creq = gw_sigv4_canonical_request(req, a.signed_headers);
  char want[65], given[65] = {0};
  int rc = creq ? gw_sigv4_signature(want, key->secret, amz, sc->region,
                                     sc->service, creq)
                : -1;
  free(creq);
  if (rc) {
    snprintf(msg, n, "out of memory");
    return GW_SIGV4_INVALID;
  }
  /* Every digit is compared whatever the first mismatch. */
  size_t glen = strlen(a.signature);
  memcpy(given, a.signature, glen < 64 ? glen : 64);
  if (glen != 64 || CRYPTO_memcmp(want, given, 64) != 0) {
    snprintf(msg, n,
             "The request signature we calculated does not match the "
             "signature you provided. Check your AWS Secret Access Key and "
             "signing method. Consult the service documentation for "
             "details.");
    return GW_SIGV4_INVALID;
  }
  return GW_SIGV4_OK;
}
