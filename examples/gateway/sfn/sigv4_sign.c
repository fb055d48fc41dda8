/* SigV4's signing steps (see sigv4.h): the canonical request, the
 * string to sign, the derived key and the signature. A server computes
 * them again to check a request; the tests check them against AWS's
 * published examples. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4.h"

/* ---- a growing string ---------------------------------------------------- */

typedef struct text {
  char *s;
  size_t n, cap;
  bool oom;
} text;

static void put(text *t, const char *s, size_t n) {
  if (t->oom) return;
  if (t->n + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    while (cap < t->n + n + 1) cap *= 2;
    char *p = realloc(t->s, cap);
    if (!p) {
      t->oom = true;
      return;
    }
    t->s = p;
    t->cap = cap;
  }
  memcpy(t->s + t->n, s, n);
  t->n += n;
  t->s[t->n] = '\0';
}

static void put_str(text *t, const char *s) { put(t, s, strlen(s)); }

static char *take(text *t) {
  if (t->oom || !t->s) {
    free(t->s);
    return t->oom ? NULL : strdup("");
  }
  return t->s;
}

/* ---- hashing ------------------------------------------------------------- */

static void hex(char *out, const unsigned char *b, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

void gw_sigv4_sha256_hex(char out[65], const void *data, size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32)
    memset(md, 0, 32); /* never matches a client's hash */
  hex(out, md, 32);
}

static void hmac(unsigned char out[32], const void *key, size_t klen,
                 const char *data) {
  unsigned len = 32;
  if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data,
            strlen(data), out, &len))
    memset(out, 0, 32);
}

void gw_sigv4_signing_key(unsigned char out[32], const char *secret,
                          const char *date8, const char *region,
                          const char *service) {
  size_t n = strlen(secret) + 4;
  char *k = malloc(n + 1);
  unsigned char a[32], b[32];
  if (!k) {
    memset(out, 0, 32);
    return;
  }
  snprintf(k, n + 1, "AWS4%s", secret);
  hmac(a, k, n, date8);
  hmac(b, a, 32, region);
  hmac(a, b, 32, service);
  hmac(out, a, 32, "aws4_request");
  OPENSSL_cleanse(k, n);
  OPENSSL_cleanse(a, sizeof a);
  OPENSSL_cleanse(b, sizeof b);
  free(k);
}

/* ---- the canonical request ---------------------------------------------- */

static bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 3986 percent-encoding with upper-case digits, as SigV4 requires. */
static void encode(text *t, const char *s, size_t n, bool keep_slash) {
  static const char digits[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c) || (keep_slash && c == '/')) {
      put(t, (const char *)&c, 1);
    } else {
      char e[3] = {'%', digits[c >> 4], digits[c & 15]};
      put(t, e, 3);
    }
  }
}

/* The path as received is the decoded one encoded once; services other
 * than S3 sign it encoded once more. */
static void canonical_uri(text *t, const char *path) {
  if (!path || !*path) path = "/";
  text once = {0};
  encode(&once, path, strlen(path), true);
  if (once.oom)
    t->oom = true;
  else
    encode(t, once.s, once.n, true);
  free(once.s);
}

typedef struct pair {
  char *k, *v;
} pair;

static int pair_cmp(const void *a, const void *b) {
  const pair *x = a, *y = b;
  int c = strcmp(x->k, y->k);
  return c ? c : strcmp(x->v, y->v);
}

/* Parameters encoded, sorted by name then value, joined with '&'. */
static void canonical_query(text *t, const char *q) {
  if (!q || !*q) return;
  size_t n = 1;
  for (const char *p = q; *p; p++) n += *p == '&';
  pair *v = calloc(n, sizeof *v);
  if (!v) {
    t->oom = true;
    return;
  }
  size_t count = 0;
  for (const char *p = q; count < n;) {
    size_t len = strcspn(p, "&");
    if (len) {
      const char *eq = memchr(p, '=', len);
      size_t klen = eq ? (size_t)(eq - p) : len;
      text k = {0}, val = {0};
      encode(&k, p, klen, false);
      if (eq) encode(&val, eq + 1, len - klen - 1, false);
      v[count].k = take(&k);
      v[count].v = take(&val);
      if (!v[count].k || !v[count].v) t->oom = true;
      count++;
    }
    if (!p[len]) break;
    p += len + 1;
  }
  if (!t->oom) qsort(v, count, sizeof *v, pair_cmp);
  for (size_t i = 0; i < count; i++) {
    if (!t->oom) {
      if (i) put(t, "&", 1);
      put_str(t, v[i].k);
      put(t, "=", 1);
      put_str(t, v[i].v);
    }
    free(v[i].k);
    free(v[i].v);
  }
  free(v);
}

/* Every value of the header, trimmed, inner runs of blanks made one
 * space, joined with ','. */
static void header_values(text *t, const gw_request *req, const char *name,
                          size_t nlen) {
  bool first = true;
  for (size_t i = 0; i < req->nheaders; i++) {
    const char *hn = req->headers[i].name;
    if (strlen(hn) != nlen || strncasecmp(hn, name, nlen) != 0) continue;
    if (!first) put(t, ",", 1);
    first = false;
    const char *v = req->headers[i].value;
    bool blank = false, started = false;
    for (; *v; v++) {
      if (*v == ' ' || *v == '\t') {
        blank = started;
        continue;
      }
      if (blank) put(t, " ", 1);
      blank = false;
      started = true;
      put(t, v, 1);
    }
  }
}

char *gw_sigv4_canonical_request(const gw_request *req,
                                 const char *signed_headers) {
  text t = {0};
  put_str(&t, req->method);
  put(&t, "\n", 1);
  canonical_uri(&t, req->path);
  put(&t, "\n", 1);
  canonical_query(&t, req->query);
  put(&t, "\n", 1);
  for (const char *p = signed_headers; *p;) {
    size_t len = strcspn(p, ";");
    put(&t, p, len);
    put(&t, ":", 1);
    header_values(&t, req, p, len);
    put(&t, "\n", 1);
    p += len;
    if (*p) p++;
  }
  put(&t, "\n", 1);
  put_str(&t, signed_headers);
  put(&t, "\n", 1);
  char body_hash[65];
  gw_sigv4_sha256_hex(body_hash, req->body, req->body_len);
  put_str(&t, body_hash);
  return take(&t);
}

char *gw_sigv4_string_to_sign(const char *amz_date, const char *region,
                              const char *service,
                              const char *canonical_request) {
  char h[65];
  gw_sigv4_sha256_hex(h, canonical_request, strlen(canonical_request));
  size_t n = strlen(amz_date) + strlen(region) + strlen(service) + 128;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, GW_SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s",
             amz_date, amz_date, region, service, h);
  return s;
}

int gw_sigv4_signature(char out[65], const char *secret, const char *amz_date,
                       const char *region, const char *service,
                       const char *canonical_request) {
  char date8[9];
  snprintf(date8, sizeof date8, "%.8s", amz_date);
  char *sts =
      gw_sigv4_string_to_sign(amz_date, region, service, canonical_request);
  if (!sts) return -1;
  unsigned char key[32], sig[32];
  gw_sigv4_signing_key(key, secret, date8, region, service);
  hmac(sig, key, sizeof key, sts);
  OPENSSL_cleanse(key, sizeof key);
  free(sts);
  hex(out, sig, sizeof sig);
  return 0;
}
