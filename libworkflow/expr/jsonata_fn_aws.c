/* The functions AWS Step Functions adds to JSONata in JSONata states
 * ($partition, $range, $hash, $random with a seed, $uuid, $parse), as its
 * documentation and recorded executions show them: numbers that should be
 * integers are truncated toward zero, and arguments AWS cannot use (a
 * chunk size below one, an empty array, a step of zero or of the wrong
 * sign, an unknown algorithm) give undefined, so the field fails. Found
 * before the library's own functions when the bindings ask for AWS's
 * function set (wf__jsonata_bindings.aws), which also removes $eval. */
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "jsonata_fn.h"
#include "rng.h"

/* AWS refuses ranges longer than this (per Floci's measurements). */
#define AWS_RANGE_MAX 360145


static bool whole(const jv *x, double *out) {
  if (!x || x->kind != JV_NUM || !isfinite(x->u.n)) return false;
  *out = trunc(x->u.n);
  return true;
}

/* AWS's own failures read as $error's do (D3137, its message). */
static _Noreturn void aws_error(jev *ev, const char *message) {
  jerr_reset(&ev->err, "D3137");
  ev->err.message = message;
  jrethrow(ev);
}

static jv *fn_partition(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *arr = JARG(0);
  if (!arr || arr->kind != JV_ARR || !arr->u.arr.len) return NULL;
  double size = (double)arr->u.arr.len; /* no size: one chunk */
  if (JARG(1) && !whole(JARG(1), &size)) return NULL;
  if (JARG(1) && JARG(1)->u.n < 0)
    aws_error(ev, "Second argument must be zero or greater");
  if (size < 1) return NULL;
  jv *r = jv_arr(ev, 0);
  jv *chunk = NULL;
  for (size_t i = 0; i < arr->u.arr.len; i++) {
    if (!chunk || (double)chunk->u.arr.len >= size) {
      chunk = jv_arr(ev, 0);
      jv_push(ev, r, chunk);
    }
    jv_push(ev, chunk, arr->u.arr.v[i]);
  }
  return r;
}

static jv *fn_range(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  double start, end, step;
  if (!whole(JARG(0), &start) || !whole(JARG(1), &end) ||
      !whole(JARG(2), &step) || step == 0 || (end - start) * step < 0)
    return NULL;
  double count = floor((end - start) / step) + 1;
  if (count > AWS_RANGE_MAX) jthrow_oom(ev); /* AWS's memory bound */
  if (count == 1) return jv_num(ev, start);
  jv *r = jv_arr(ev, 0);
  for (double i = 0; i < count; i++) {
    if ((i == 0 || fmod(i, 4096) == 0)) jcharge(ev);
    jv_push(ev, r, jv_num(ev, start + i * step));
  }
  return r;
}

static jv *fn_hash(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *v = JARG(0), *alg = JARG(1);
  if (!v || !alg || v->kind != JV_STR) return NULL;
  static const struct {
    const char *name;
    const char *evp;
  } algs[] = {{"MD5", "MD5"}, {"SHA-1", "SHA1"}, {"SHA-256", "SHA256"},
              {"SHA-384", "SHA384"}, {"SHA-512", "SHA512"}};
  const EVP_MD *md = NULL;
  for (size_t i = 0; i < sizeof algs / sizeof *algs; i++)
    if (alg->u.str.len == strlen(algs[i].name) &&
        !memcmp(alg->u.str.s, algs[i].name, alg->u.str.len))
      md = EVP_get_digestbyname(algs[i].evp);
  if (!md) {
    static const char pre[] = "Hash algorithm '",
                      post[] = "' must be one of SHA-1, SHA-384, SHA-256, "
                               "SHA-512, MD5";
    size_t len = alg->u.str.len > 64 ? 64 : alg->u.str.len;
    char *msg = jalloc(ev, sizeof pre + len + sizeof post);
    memcpy(msg, pre, sizeof pre - 1);
    memcpy(msg + sizeof pre - 1, alg->u.str.s, len);
    memcpy(msg + sizeof pre - 1 + len, post, sizeof post);
    aws_error(ev, msg);
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(v->u.str.s, v->u.str.len, out, &len, md, NULL))
    jthrow_oom(ev);
  char *hex = jalloc(ev, 2 * len + 1);
  for (unsigned i = 0; i < len; i++) {
    hex[2 * i] = "0123456789abcdef"[out[i] >> 4];
    hex[2 * i + 1] = "0123456789abcdef"[out[i] & 15];
  }
  return jv_str(ev, hex, 2 * len);
}

/* With a seed, the sequence of java.util.Random (a 48-bit linear
 * congruential generator): the same seed gives the same number. */
static jv *fn_random(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  double seed;
  if (!whole(JARG(0), &seed))
    return jv_num(ev, (double)(jrandom(ev) >> 11) / 9007199254740992.0);
  const uint64_t mask = (1ULL << 48) - 1;
  /* Java's (long) of a double: saturating at long's bounds. */
  int64_t java_long = seed >= 9223372036854775807.0    ? INT64_MAX
                      : seed <= -9223372036854775808.0 ? INT64_MIN
                                                       : (int64_t)seed;
  uint64_t s = ((uint64_t)java_long ^ 0x5DEECE66DULL) & mask;
  uint64_t hi, lo;
  s = (s * 0x5DEECE66DULL + 0xB) & mask;
  hi = s >> (48 - 26);
  s = (s * 0x5DEECE66DULL + 0xB) & mask;
  lo = s >> (48 - 27);
  return jv_num(ev, (double)((hi << 27) + lo) / 9007199254740992.0);
}

static jv *fn_uuid(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)a, (void)n, (void)in, (void)env;
  char out[37];
  uint64_t x = jrandom(ev), y = jrandom(ev);
  wf__uuid_v4(out, x, y);
  return jv_str(ev, jstrdup(ev, out, 36), 36);
}

static jv *fn_parse(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0);
  if (!s) return NULL;
  /* Values point into the document: it lives as long as the evaluation. */
  jdoc_node *node = jalloc(ev, sizeof *node);
  json_t *j = json_loadb(s->u.str.s, s->u.str.len,
                         JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
  if (!j) aws_error(ev, "Invalid JSON");
  node->doc = j;
  node->next = ev->docs;
  ev->docs = node;
  return jv_from_json(ev, j);
}

const jnative jfn_aws_table[] = {
    {"partition", "<an?:a>", fn_partition, 2},
    {"range", "<nnn?:x>", fn_range, 3},
    {"hash", "<ss?:s>", fn_hash, 2},
    {"random", "<n?:n>", fn_random, 1},
    {"uuid", "<:s>", fn_uuid, 0},
    {"parse", "<s:x>", fn_parse, 1},
    {NULL, NULL, NULL, 0}};
