/* A local object store: Amazon S3's buckets as directories under a root
 * (s3://bucket/key is the file ROOT/bucket/key), and the readers and
 * writers of a Distributed Map's data (ItemReader, ResultWriter). It knows
 * files and formats, never states or executions.
 *
 * Bucket and key come from user input: every path is opened one component
 * at a time below the root, refusing "..", "." and empty components,
 * absolute keys and symbolic links (O_NOFOLLOW), so nothing outside the
 * root can be read or written, whatever a link or a racing rename does.
 *
 * A failing call returns -1 and appends to `why` a cause naming the object
 * ("s3://bucket/key") and, for a parser, where in it (line, column). */
#ifndef WF_OBJSTORE_H
#define WF_OBJSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* ---- objects ---- */

/* Open s3://bucket/key below root for reading; *fd a file descriptor. */
int wf__os_open(int *fd, const char *root, const char *bucket,
                const char *key, wf__strbuf *why);

/* Write s3://bucket/key below root (directories made as needed), through
 * a temporary file renamed into place. */
int wf__os_put(const char *root, const char *bucket, const char *key,
               const char *data, size_t len, wf__strbuf *why);

/* The objects of a bucket whose keys start with prefix (NULL: all), as
 * listObjectsV2 gives them to a Map: [{"Etag":"\"md5\"","Key":…,
 * "LastModified":seconds,"Size":n,"StorageClass":"STANDARD"}], in key
 * order (bytes, as S3 sorts UTF-8 keys); at most max (0: all). */
int wf__os_list(json_t **out, const char *root, const char *bucket,
                const char *prefix, size_t max, wf__strbuf *why);

/* ---- reading items ---- */

/* A byte source: read() returns the bytes read, 0 at the end, -1 on an
 * error (with the cause appended to `why`). `name` is how messages name
 * it ("s3://bucket/key"). */
typedef struct wf__os_src {
  long (*read)(void *src, char *buf, size_t n, wf__strbuf *why);
  void *arg;
  const char *name;
} wf__os_src;

/* A source over memory (tests, fuzzing). */
typedef struct wf__os_mem {
  const char *data;
  size_t len, pos;
} wf__os_mem;
void wf__os_src_mem(wf__os_src *src, wf__os_mem *mem, const char *name,
                    const char *data, size_t len);

typedef enum wf__os_input {
  WF__OS_JSON,
  WF__OS_JSONL,
  WF__OS_CSV,
  WF__OS_MANIFEST
} wf__os_input;

/* ReaderConfig, read and checked. */
typedef struct wf__os_reader {
  wf__os_input input;
  char delimiter;     /* CSVDelimiter: ',' '|' ';' ' ' '\t' */
  json_t *headers;    /* CSVHeaders (GIVEN), an array of strings; NULL:
                       * the first row (FIRST_ROW) */
  size_t max_items;   /* 0: all */
} wf__os_reader;

/* The longest CSV header row (AWS: "CSV headers of up to 10 KB") and the
 * longest row or line any reader takes. */
#define WF__OS_CSV_HEADER_MAX 10240
#define WF__OS_LINE_MAX (8u << 20)

/* A whole JSON document (InputType JSON); the caller checks its shape. */
int wf__os_read_json(json_t **out, wf__os_src *src, wf__strbuf *why);

/* Append the items of a JSON Lines or CSV source to `items`, up to
 * r->max_items in all. */
int wf__os_read_jsonl(json_t *items, wf__os_src *src, size_t max,
                      wf__strbuf *why);
int wf__os_read_csv(json_t *items, wf__os_src *src, const wf__os_reader *r,
                    wf__strbuf *why);

/* An S3 inventory manifest (manifest.json): its CSV files' bucket, keys
 * and column names, checked. */
typedef struct wf__os_manifest {
  char *bucket;
  json_t *keys;    /* array of strings */
  json_t *headers; /* array of strings: fileSchema */
} wf__os_manifest;
int wf__os_manifest_parse(wf__os_manifest *out, json_t *doc, const char *name,
                          wf__strbuf *why);
void wf__os_manifest_free(wf__os_manifest *m);

/* What a Map's ItemReader asks for. */
typedef struct wf__os_request {
  const char *root;
  const char *bucket;
  const char *key;    /* getObject */
  bool list;          /* listObjectsV2 */
  const char *prefix; /* listObjectsV2 */
  bool load_and_flatten; /* listObjectsV2: read each object's items */
  wf__os_reader reader;
  bool has_input_type;
} wf__os_request;

/* The items: for getObject JSON the document itself (any JSON value, the
 * caller applies ItemsPath and checks it is an array), else an array. */
int wf__os_read_items(json_t **out, const wf__os_request *req,
                      wf__strbuf *why);

#endif
