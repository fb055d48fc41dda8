/* States.Base64Encode, States.Base64Decode, States.Hash (OpenSSL EVP). */
#include <openssl/evp.h>
#include <string.h>

#include "alloc.h"
#include "intrinsic_impl.h"

/* AWS's documented input limit, counted in Java characters. */
#define INPUT_LIMIT 10000

static bool within_limit(const char *s, size_t n) {
  if (n <= INPUT_LIMIT) return true; /* UTF-16 units never exceed bytes */
  return wf__intrinsic_utf16_len(s, n) <= INPUT_LIMIT;
}

/* The text of a string argument within the limit; false for any other
 * argument (both Base64 functions take only strings). */
static bool limited_text(const json_t *arg, const char **s, size_t *n) {
  if (!json_is_string(arg)) return false;
  *s = json_string_value(arg);
  *n = json_string_length(arg);
  return within_limit(*s, *n);
}

/* Standard alphabet with padding; the text's UTF-8 bytes are encoded. */
int wf__intrinsic_base64_encode(json_t **out, json_t *const *args,
                                size_t nargs, const wf__icall *c) {
  (void)nargs;
  const char *s;
  size_t n;
  if (!limited_text(args[0], &s, &n)) return wf__intrinsic_invalid(c);
  unsigned char *buf = wf__malloc((n + 2) / 3 * 4 + 1);
  if (!buf) return wf__intrinsic_oom(c);
  int len = EVP_EncodeBlock(buf, (const unsigned char *)s, (int)n);
  *out = json_stringn((const char *)buf, (size_t)(len < 0 ? 0 : len));
  wf__free(buf);
  return *out ? 0 : wf__intrinsic_oom(c);
}

static int b64_value(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+' || ch == '-') return 62;
  if (ch == '/' || ch == '_') return 63;
  return -1;
}

/* AWS decodes leniently: it returns output for "!!!invalid!!!", "abc",
 * "ab==cd" and " YWJjZA== ". Characters outside the alphabet are skipped,
 * decoding stops at the first '=', and bits short of a byte are dropped
 * (the lenient Base64 of Apache Commons Codec). The bytes are read as
 * UTF-8, malformed sequences becoming U+FFFD as in Java's new String(). */
int wf__intrinsic_base64_decode(json_t **out, json_t *const *args,
                                size_t nargs, const wf__icall *c) {
  (void)nargs;
  const char *s;
  size_t n;
  if (!limited_text(args[0], &s, &n)) return wf__intrinsic_invalid(c);
  char *bytes = wf__malloc(n / 4 * 3 + 3);
  if (!bytes) return wf__intrinsic_oom(c);
  size_t nb = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n && s[i] != '='; i++) {
    int v = b64_value((unsigned char)s[i]);
    if (v < 0) continue;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[nb++] = (char)((acc >> bits) & 0xFF);
    }
  }
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_reserve(&b, nb);
  for (size_t i = 0; i < nb;)
    wf__intrinsic_utf8_put(&b, wf__intrinsic_utf8_next(bytes, nb, &i));
  wf__free(bytes);
  *out = b.oom ? NULL : json_stringn(b.data ? b.data : "", b.len);
  wf__strbuf_free(&b);
  return *out ? 0 : wf__intrinsic_oom(c);
}

/* The data may be any value: AWS hashes numbers and objects as Java prints
 * them. The algorithm must be spelt exactly as documented. */
int wf__intrinsic_hash(json_t **out, json_t *const *args, size_t nargs,
                       const wf__icall *c) {
  (void)nargs;
  static const struct {
    const char *name;
    const EVP_MD *(*md)(void);
  } algs[] = {{"MD5", EVP_md5},
              {"SHA-1", EVP_sha1},
              {"SHA-256", EVP_sha256},
              {"SHA-384", EVP_sha384},
              {"SHA-512", EVP_sha512}};
  const EVP_MD *md = NULL;
  if (json_is_string(args[1])) {
    for (size_t i = 0; i < sizeof algs / sizeof algs[0] && !md; i++)
      if (strcmp(json_string_value(args[1]), algs[i].name) == 0 &&
          strlen(algs[i].name) == json_string_length(args[1]))
        md = algs[i].md();
  }
  if (!md) return wf__intrinsic_invalid(c);
  wf__strbuf data = WF__STRBUF_INIT;
  const char *s;
  size_t n;
  if (json_is_string(args[0])) {
    s = json_string_value(args[0]);
    n = json_string_length(args[0]);
  } else {
    wf__intrinsic_java_str(&data, args[0]);
    if (data.oom) return wf__intrinsic_oom(c);
    s = wf__strbuf_cstr(&data);
    n = data.len;
  }
  if (!within_limit(s, n)) {
    wf__strbuf_free(&data);
    return wf__intrinsic_invalid(c);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  int ok = EVP_Digest(s, n, digest, &len, md, NULL);
  wf__strbuf_free(&data);
  if (!ok) return wf__intrinsic_invalid(c);
  static const char hex[] = "0123456789abcdef";
  char text[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < len; i++) {
    text[2 * i] = hex[digest[i] >> 4];
    text[2 * i + 1] = hex[digest[i] & 15];
  }
  *out = json_stringn(text, 2 * (size_t)len);
  return *out ? 0 : wf__intrinsic_oom(c);
}
