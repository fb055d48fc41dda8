/* The HTTP Task's URL encodings: QueryParameters, and a RequestBody with
 * Transform.RequestBodyEncoding URL_ENCODED, whose arrays are spelled as
 * RequestEncodingOptions.ArrayFormat says (AWS, "Call HTTPS APIs",
 * "Applying URL-encoding on request body"): for {"array":["a","b"]}
 *   INDICES  (default) array[0]=a&array[1]=b
 *   REPEAT   array=a&array=b
 *   COMMAS   array=a,b
 *   BRACKETS array[]=a&array[]=b
 * brackets and commas written as the documentation spells them (a value's
 * own are percent-encoded). Nested objects are spelled key[member]. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "http_impl.h"
#include "json_text.h"

void wf__http_percent_encode(wf__strbuf *b, const char *s, size_t n) {
  static const char HEX[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      wf__strbuf_putc(b, (char)c);
    } else {
      wf__strbuf_putc(b, '%');
      wf__strbuf_putc(b, HEX[c >> 4]);
      wf__strbuf_putc(b, HEX[c & 15]);
    }
  }
}

/* A scalar's text: a string as it is, null as nothing, others as JSON. */
static void put_scalar(wf__strbuf *b, const json_t *v) {
  if (json_is_string(v)) {
    wf__http_percent_encode(b, json_string_value(v), json_string_length(v));
  } else if (!json_is_null(v)) {
    char *text = wf__json_dumps(v);
    if (text) wf__http_percent_encode(b, text, strlen(text));
    else b->oom = true;
    wf__free(text);
  }
}

static void put_pair(wf__strbuf *b, const wf__strbuf *key, const json_t *v) {
  if (b->len) wf__strbuf_putc(b, '&');
  wf__strbuf_append(b, key->data ? key->data : "", key->len);
  wf__strbuf_putc(b, '=');
  put_scalar(b, v);
}

static void encode(wf__strbuf *b, wf__strbuf *key, const json_t *v,
                   wf__http_arrays arrays);

/* key[suffix], percent-encoded, then v under it. */
static void nested(wf__strbuf *b, wf__strbuf *key, const char *suffix,
                   size_t n, const json_t *v, wf__http_arrays arrays) {
  size_t mark = key->len;
  wf__strbuf_putc(key, '[');
  wf__http_percent_encode(key, suffix, n);
  wf__strbuf_putc(key, ']');
  encode(b, key, v, arrays);
  wf__strbuf_truncate(key, mark);
}

static void encode_array(wf__strbuf *b, wf__strbuf *key, const json_t *v,
                         wf__http_arrays arrays) {
  size_t i;
  const json_t *item;
  if (arrays == WF__HTTP_COMMAS) {
    if (b->len) wf__strbuf_putc(b, '&');
    wf__strbuf_append(b, key->data ? key->data : "", key->len);
    wf__strbuf_putc(b, '=');
    json_array_foreach(v, i, item) {
      if (i) wf__strbuf_putc(b, ',');
      put_scalar(b, item);
    }
    return;
  }
  json_array_foreach(v, i, item) {
    char index[24];
    int n = 0;
    if (arrays == WF__HTTP_INDICES)
      n = snprintf(index, sizeof index, "%zu", i);
    if (arrays == WF__HTTP_REPEAT) encode(b, key, item, arrays);
    else nested(b, key, index, (size_t)n, item, arrays);
  }
}

static void encode(wf__strbuf *b, wf__strbuf *key, const json_t *v,
                   wf__http_arrays arrays) {
  if (json_is_array(v)) {
    encode_array(b, key, v, arrays);
  } else if (json_is_object(v)) {
    const char *member;
    json_t *mv;
    json_object_foreach((json_t *)v, member, mv)
      nested(b, key, member, strlen(member), mv, arrays);
  } else {
    put_pair(b, key, v);
  }
}

void wf__http_form_encode(wf__strbuf *b, const json_t *obj,
                          wf__http_arrays arrays) {
  const char *member;
  json_t *v;
  wf__strbuf key = WF__STRBUF_INIT;
  json_object_foreach((json_t *)obj, member, v) {
    wf__strbuf_reset(&key);
    wf__http_percent_encode(&key, member, strlen(member));
    encode(b, &key, v, arrays);
  }
  if (key.oom) b->oom = true;
  wf__strbuf_free(&key);
}
