/* nextToken: "<offset>.<issued>.<mac>", the mac an HMAC-SHA256 (cut to
 * 128 bits) over the listing's context, the offset and the time it was
 * issued, with a key drawn at random once per process. A client can
 * neither forge a token nor carry one to another listing (another machine,
 * filter or order); like AWS's, a token expires after 24 hours. Tokens do
 * not outlive the process, and neither does the in-memory store. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sfn.h"

#define TOKEN_LIFETIME_S (24 * 3600)

/* Written once under pthread_once, read-only afterwards. */
static unsigned char key[32];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_init(void) {
  if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key) {
    /* No entropy yet: a clock-seeded key still differs per process. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
    for (size_t i = 0; i < sizeof key; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      key[i] = (unsigned char)x;
    }
  }
}

static void mac(char out[33], const char *context, size_t offset,
                long long issued) {
  pthread_once(&key_once, key_init);
  char *msg = gw_sfn_strf("%s\n%zu\n%lld", context, offset, issued);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!msg || !HMAC(EVP_sha256(), key, sizeof key, (unsigned char *)msg,
                    strlen(msg), md, &len))
    memset(md, 0, 16);
  free(msg);
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    out[2 * i] = digits[md[i] >> 4];
    out[2 * i + 1] = digits[md[i] & 15];
  }
  out[32] = '\0';
}

void gw_sfn_page_next(json_t *o, const char *context, size_t offset) {
  long long issued = (long long)(gw_now_ms() / 1000);
  char m[33], token[96];
  mac(m, context, offset, issued);
  snprintf(token, sizeof token, "%zu.%lld.%s", offset, issued, m);
  if (o) json_object_set_new(o, "nextToken", json_string(token));
}

bool gw_sfn_page_start(gw_sfn_call *c, const char *token, const char *context,
                       size_t *offset) {
  *offset = 0;
  if (!token) return true;
  unsigned long long off;
  long long issued;
  char given[33] = {0}, want[33];
  int used = 0;
  bool ok = sscanf(token, "%llu.%lld.%32[0-9a-f]%n", &off, &issued, given,
                   &used) == 3 &&
            (size_t)used == strlen(token) && strlen(given) == 32;
  if (ok) {
    mac(want, context, (size_t)off, issued);
    ok = CRYPTO_memcmp(want, given, 32) == 0;
  }
  long long now = (long long)(gw_now_ms() / 1000);
  if (!ok || issued > now + 60 || now - issued > TOKEN_LIFETIME_S) {
    gw_sfn_fail(c, "InvalidToken", "Invalid Token: '%s'",
                ok ? "The token has expired" : "Invalid token");
    return false;
  }
  *offset = (size_t)off;
  return true;
}

bool gw_sfn_page_args(gw_sfn_call *c, const char *context, size_t dflt,
                      size_t *start, size_t *n) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  long long max = gw_sfn_int(&p, "maxResults", 0, 1000, 0);
  const char *token = gw_sfn_str(&p, "nextToken", false, 1, 1024);
  if (gw_sfn_params_failed(&p, c) ||
      !gw_sfn_page_start(c, token, context, start))
    return false;
  *n = max ? (size_t)max : dflt;
  return true;
}

json_t *gw_sfn_page_of(json_t *all, const char *member, const char *context,
                       size_t start, size_t n) {
  size_t total = json_array_size(all);
  json_t *page = json_array();
  for (size_t i = start; i < total && i < start + n; i++)
    json_array_append(page, json_array_get(all, i));
  json_decref(all);
  json_t *o = json_pack("{s:o}", member, page);
  if (o && start + n < total) gw_sfn_page_next(o, context, start + n);
  return o;
}
