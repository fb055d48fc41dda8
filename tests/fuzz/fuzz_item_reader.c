/* The Distributed Map's ItemReader parsers facing any object: CSV (every
 * delimiter, headers from the first row or given), JSON Lines and S3
 * inventory manifests, read through a source that hands out the bytes in
 * pieces of any size (so line endings and quotes fall across blocks).
 * Never crashes; a failure always says why; what is read honours
 * MaxItems, and a CSV item has one string per header.
 * The first byte picks the reader and its options, the second the piece
 * size; the rest is the object. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "objstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct pieces {
  const char *data;
  size_t len, pos, piece;
} pieces;

static long piece_read(void *arg, char *buf, size_t n, wf__strbuf *why) {
  (void)why;
  pieces *p = arg;
  size_t left = p->len - p->pos;
  if (n > p->piece) n = p->piece;
  if (n > left) n = left;
  memcpy(buf, p->data + p->pos, n);
  p->pos += n;
  return (long)n;
}

static void check_csv_items(json_t *items, const wf__os_reader *r) {
  size_t nh = r->headers ? json_array_size(r->headers) : 0;
  for (size_t i = 0; i < json_array_size(items); i++) {
    json_t *item = json_array_get(items, i);
    FZ_CHECK(json_is_object(item), "item %zu is not an object", i);
    if (r->headers)
      FZ_CHECK(json_object_size(item) == nh, "item %zu has %zu fields", i,
               json_object_size(item));
    const char *k;
    json_t *v;
    json_object_foreach(item, k, v) {
      FZ_CHECK(json_is_string(v), "a field of item %zu is not a string", i);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  unsigned mode = data[0], piece = data[1] % 16 + 1;
  if (data[1] & 0x80) piece = 65536;
  pieces p = {(const char *)data + 2, size - 2, 0, piece};
  wf__os_src src = {piece_read, &p, "s3://fuzz/object"};
  wf__strbuf why = WF__STRBUF_INIT;
  json_t *items = json_array();
  static const char delimiters[] = ",|; \t";
  wf__os_reader r = {.input = WF__OS_CSV, .delimiter = delimiters[mode % 5],
                     .max_items = (mode >> 5) & 3};
  int rc;
  switch ((mode >> 3) & 3) {
    case 0: /* CSV, headers from the first row */
      rc = wf__os_read_csv(items, &src, &r, &why);
      if (rc == 0) check_csv_items(items, &r);
      break;
    case 1: /* CSV, headers given */
      r.headers = json_pack("[sss]", "a", "b", "c");
      rc = wf__os_read_csv(items, &src, &r, &why);
      if (rc == 0) check_csv_items(items, &r);
      json_decref(r.headers);
      break;
    case 2: /* JSON Lines */
      rc = wf__os_read_jsonl(items, &src, r.max_items, &why);
      break;
    default: { /* an S3 inventory manifest */
      json_t *doc = NULL;
      rc = wf__os_read_json(&doc, &src, &why);
      if (rc == 0) {
        wf__os_manifest m;
        rc = wf__os_manifest_parse(&m, doc, src.name, &why);
        if (rc == 0) {
          FZ_CHECK(m.bucket && json_is_array(m.keys) &&
                       json_array_size(m.headers) > 0,
                   "a manifest without bucket, keys or headers");
          wf__os_manifest_free(&m);
        }
        json_decref(doc);
      }
    }
  }
  FZ_CHECK(rc == 0 || why.len > 0, "a failure without a cause");
  FZ_CHECK(rc != 0 || !r.max_items || json_array_size(items) <= r.max_items,
           "%zu items read past MaxItems %zu", json_array_size(items),
           r.max_items);
  json_decref(items);
  wf__strbuf_free(&why);
  return 0;
}
