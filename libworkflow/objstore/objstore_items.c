/* An ItemReader's request run against the object store: getObject (JSON,
 * JSON Lines, CSV, an S3 inventory MANIFEST and its gzipped CSV files) and
 * listObjectsV2 (the objects themselves, or with LOAD_AND_FLATTEN the
 * items of each, in key order). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "alloc.h"
#include "objstore.h"

/* ---- sources over files ---- */

typedef struct file_src {
  int fd;
  gzFile gz; /* inventory files: gzip, or plain bytes (zlib reads both) */
  wf__strbuf name;
} file_src;

static long fd_read(void *arg, char *buf, size_t n, wf__strbuf *why) {
  file_src *f = arg;
  for (;;) {
    ssize_t got = read(f->fd, buf, n);
    if (got >= 0) return (long)got;
    if (errno == EINTR) continue;
    wf__strbuf_printf(why, "%s: %s", wf__strbuf_cstr(&f->name),
                      strerror(errno));
    return -1;
  }
}

static long gz_read(void *arg, char *buf, size_t n, wf__strbuf *why) {
  file_src *f = arg;
  int got = gzread(f->gz, buf, (unsigned)(n > 65536 ? 65536 : n));
  if (got >= 0) return got;
  int code;
  const char *msg = gzerror(f->gz, &code);
  wf__strbuf_printf(why, "%s: the gzip data is not valid: %s",
                    wf__strbuf_cstr(&f->name), msg ? msg : "read error");
  return -1;
}

static int src_open(wf__os_src *src, file_src *f, const char *root,
                    const char *bucket, const char *key, bool gzip,
                    wf__strbuf *why) {
  *f = (file_src){.fd = -1, .name = WF__STRBUF_INIT};
  if (wf__os_open(&f->fd, root, bucket, key, why) != 0) return -1;
  wf__strbuf_printf(&f->name, "s3://%s/%s", bucket, key);
  if (gzip) {
    f->gz = gzdopen(f->fd, "rb");
    if (!f->gz) {
      close(f->fd);
      wf__strbuf_free(&f->name);
      wf__strbuf_printf(why, "s3://%s/%s: out of memory", bucket, key);
      return -1;
    }
    f->fd = -1; /* the gzFile owns it */
  }
  *src = (wf__os_src){gzip ? gz_read : fd_read, f, wf__strbuf_cstr(&f->name)};
  return 0;
}

static void src_close(file_src *f) {
  if (f->gz) gzclose(f->gz);
  if (f->fd >= 0) close(f->fd);
  wf__strbuf_free(&f->name);
}

/* ---- one object's items ---- */

static int not_iterable(wf__strbuf *why, const char *name) {
  wf__strbuf_printf(why, "%s: Attempting to map over non-iterable node.",
                    name);
  return -1;
}

/* Append the items of one object, read as `r` says (JSON: an array). */
static int append_object(json_t *items, const char *root, const char *bucket,
                         const char *key, const wf__os_reader *r, bool gzip,
                         wf__strbuf *why) {
  wf__os_src src;
  file_src f;
  if (src_open(&src, &f, root, bucket, key, gzip, why) != 0) return -1;
  int rc;
  if (r->input == WF__OS_JSON) {
    json_t *doc = NULL;
    rc = wf__os_read_json(&doc, &src, why);
    if (rc == 0 && !json_is_array(doc)) rc = not_iterable(why, src.name);
    for (size_t i = 0; rc == 0 && i < json_array_size(doc) &&
                       !(r->max_items && json_array_size(items) >= r->max_items);
         i++)
      json_array_append(items, json_array_get(doc, i));
    json_decref(doc);
  } else if (r->input == WF__OS_JSONL) {
    rc = wf__os_read_jsonl(items, &src, r->max_items, why);
  } else {
    rc = wf__os_read_csv(items, &src, r, why);
  }
  src_close(&f);
  return rc;
}

/* ---- S3 inventory manifests ---- */

void wf__os_manifest_free(wf__os_manifest *m) {
  wf__free(m->bucket);
  json_decref(m->keys);
  json_decref(m->headers);
  *m = (wf__os_manifest){0};
}

static int manifest_fail(wf__strbuf *why, const char *name, const char *what) {
  wf__strbuf_printf(why, "%s: the S3 inventory manifest %s", name, what);
  return -1;
}

int wf__os_manifest_parse(wf__os_manifest *out, json_t *doc, const char *name,
                          wf__strbuf *why) {
  *out = (wf__os_manifest){0};
  if (!json_is_object(doc)) return manifest_fail(why, name, "is not an object");
  const char *format = json_string_value(json_object_get(doc, "fileFormat"));
  const char *schema = json_string_value(json_object_get(doc, "fileSchema"));
  const char *dest = json_string_value(json_object_get(doc, "destinationBucket"));
  json_t *files = json_object_get(doc, "files");
  if (!format || strcmp(format, "CSV") != 0)
    return manifest_fail(why, name, "must list CSV files (fileFormat \"CSV\")");
  if (!schema) return manifest_fail(why, name, "has no fileSchema string");
  if (!dest) return manifest_fail(why, name, "has no destinationBucket string");
  if (!json_is_array(files)) return manifest_fail(why, name, "has no files array");
  const char *arn = "arn:aws:s3:::";
  out->bucket = wf__strdup(strncmp(dest, arn, strlen(arn)) == 0
                               ? dest + strlen(arn) : dest);
  out->keys = json_array();
  out->headers = json_array();
  if (!out->bucket || !out->keys || !out->headers) {
    wf__os_manifest_free(out);
    return manifest_fail(why, name, "could not be read: out of memory");
  }
  for (size_t i = 0; i < json_array_size(files); i++) {
    json_t *key = json_object_get(json_array_get(files, i), "key");
    if (!json_is_string(key)) {
      wf__os_manifest_free(out);
      wf__strbuf_printf(why, "%s: the S3 inventory manifest's files[%zu] has "
                        "no key string", name, i);
      return -1;
    }
    json_array_append(out->keys, key);
  }
  /* "Bucket, Key, Size": names separated by commas, blanks around them. */
  for (const char *p = schema;;) {
    while (*p == ' ') p++;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && p[len - 1] == ' ') len--;
    json_array_append_new(out->headers, json_stringn(p, len));
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

static int read_manifest(json_t *items, const wf__os_request *q,
                         wf__strbuf *why) {
  wf__os_src src;
  file_src f;
  if (src_open(&src, &f, q->root, q->bucket, q->key, false, why) != 0)
    return -1;
  json_t *doc;
  int rc = wf__os_read_json(&doc, &src, why);
  wf__os_manifest m = {0};
  if (rc == 0) {
    rc = wf__os_manifest_parse(&m, doc, src.name, why);
    json_decref(doc);
  }
  src_close(&f);
  if (rc != 0) return -1;
  /* Inventory files: CSV, comma-separated, no header row, gzipped. */
  wf__os_reader r = {.input = WF__OS_CSV, .delimiter = ',',
                     .headers = m.headers, .max_items = q->reader.max_items};
  for (size_t i = 0; rc == 0 && i < json_array_size(m.keys); i++) {
    if (r.max_items && json_array_size(items) >= r.max_items) break;
    rc = append_object(items, q->root, m.bucket,
                       json_string_value(json_array_get(m.keys, i)), &r, true,
                       why);
  }
  wf__os_manifest_free(&m);
  return rc;
}

/* ---- the request ---- */

static int list_and_load(json_t *items, const wf__os_request *q,
                         wf__strbuf *why) {
  json_t *objects;
  if (wf__os_list(&objects, q->root, q->bucket, q->prefix, 0, why) != 0)
    return -1;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < json_array_size(objects); i++) {
    if (q->reader.max_items && json_array_size(items) >= q->reader.max_items)
      break;
    const char *key =
        json_string_value(json_object_get(json_array_get(objects, i), "Key"));
    rc = append_object(items, q->root, q->bucket, key, &q->reader, false, why);
  }
  json_decref(objects);
  return rc;
}

int wf__os_read_items(json_t **out, const wf__os_request *q, wf__strbuf *why) {
  *out = NULL;
  if (q->list && !q->load_and_flatten)
    return wf__os_list(out, q->root, q->bucket, q->prefix, q->reader.max_items,
                       why);
  if (!q->list && q->reader.input == WF__OS_JSON) {
    wf__os_src src;
    file_src f;
    if (src_open(&src, &f, q->root, q->bucket, q->key, false, why) != 0)
      return -1;
    int rc = wf__os_read_json(out, &src, why);
    src_close(&f);
    return rc;
  }
  json_t *items = json_array();
  if (!items) return -1;
  int rc;
  if (q->list)
    rc = list_and_load(items, q, why);
  else if (q->reader.input == WF__OS_MANIFEST)
    rc = read_manifest(items, q, why);
  else
    rc = append_object(items, q->root, q->bucket, q->key, &q->reader, false,
                       why);
  if (rc != 0) {
    json_decref(items);
    return -1;
  }
  *out = items;
  return 0;
}
