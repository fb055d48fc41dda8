/*
 * libworkflow: a local object store for Distributed Map data.
 *
 * A Distributed Map's ItemReader (arn:aws:states:::s3:getObject and
 * arn:aws:states:::s3:listObjectsV2) and ResultWriter
 * (arn:aws:states:::s3:putObject) read and write Amazon S3 objects. Here
 * they read and write files: each bucket is a directory under a root, and
 * s3://bucket/key is the file ROOT/bucket/key (a key's '/' are
 * directories). Buckets are not made: a bucket is a directory the operator
 * creates. Objects are opened one path component at a time below the root:
 * a key with "..", "." or empty components, an absolute key, or a path
 * through a symbolic link is refused, so a definition or an input can
 * never reach a file outside the root.
 *
 * What is read (ReaderConfig, as AWS documents it):
 *  - getObject with InputType JSON (the object is an array of items; the
 *    Map's ItemsPath may pick the array out of an object), JSONL (one item
 *    a line), CSV (CSVHeaderLocation FIRST_ROW or GIVEN with CSVHeaders;
 *    CSVDelimiter COMMA, PIPE, SEMICOLON, SPACE or TAB; every value a
 *    string; RFC 4180 quoting) or MANIFEST (an S3 inventory manifest.json:
 *    the rows of its gzipped CSV files, named by its fileSchema);
 *  - listObjectsV2 with Bucket and Prefix: one item an object,
 *    {"Etag":"\"md5\"","Key":…,"LastModified":seconds,"Size":bytes,
 *    "StorageClass":"STANDARD"} in key order; with ReaderConfig
 *    Transformation LOAD_AND_FLATTEN, the items of every listed object
 *    read as its InputType says.
 *  - MaxItems (or MaxItemsPath) stops reading once that many items are
 *    read.
 * What is written (ResultWriter with Resource arn:aws:states:::s3:putObject
 * and Bucket, Prefix): PREFIX/UUID/manifest.json ({"DestinationBucket",
 * "MapRunArn", "ResultFiles": {"FAILED", "PENDING", "SUCCEEDED"}, each a
 * list of {"Key", "Size"}}) and beside it SUCCEEDED_0.json, FAILED_0.json
 * and PENDING_0.json (each only when it has entries), UUID being the Map
 * Run's; the Map state's result is then {"MapRunArn": ...,
 * "ResultWriterDetails": {"Bucket": ..., "Key": the manifest's key}}.
 * WriterConfig Transformation NONE (the default with a Resource: each
 * child's record, ExecutionArn, Input, Output or Error and Cause, Status,
 * StartDate, StopDate...), COMPACT (outputs; {"Error", "Cause"} of a
 * failed child) or FLATTEN (outputs, arrays spread; a failed child's
 * record), OutputType JSON (an array) or JSONL (a line an entry). Without
 * a Resource, WriterConfig shapes the state's result the same way. A Map
 * Run that fails still writes its results.
 *
 * JSON Lines and CSV objects are read a block at a time. A missing
 * object, a refused path or a malformed object fails the Map state with
 * States.ItemReaderFailed, the cause naming the object and the line and
 * column at fault; a ResultWriter that cannot write fails it with
 * States.ResultWriterFailed. PARQUET objects are not read: such a machine
 * does not start (WF_EUNSUPPORTED).
 *
 * The reading and writing happen on a scheduler thread, inside the Map
 * state's step: a local disk is assumed.
 */
#ifndef WF_OBJECT_STORE_H
#define WF_OBJECT_STORE_H

#include "workflow/common.h"
#include "workflow/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_object_store_options {
  unsigned int version;
  /** The directory holding one directory per bucket. Copied. NULL: no
   *  object store (the default): a machine whose Map reads or writes
   *  Amazon S3 does not start (WF_EUNSUPPORTED, naming the state). */
  const char *root;
} wf_object_store_options;

#define WF_OBJECT_STORE_OPTIONS_VERSION 1
#define WF_OBJECT_STORE_OPTIONS_INIT \
  {.version = WF_OBJECT_STORE_OPTIONS_VERSION}

/**
 * Initialise object store options to their defaults (for bindings without
 * macros). @return WF_OK, WF_EINVAL, WF_EVERSION. Threads: any.
 */
WF_API int wf_object_store_options_init(wf_object_store_options *opts,
                                        unsigned int version);

/**
 * Serve Distributed Map ItemReader and ResultWriter from the directories
 * under opts->root, or (opts NULL or its root NULL) stop serving them.
 * Map states already reading or writing finish with the root they began
 * with; executions started later see the new one.
 * @param opts     copied.
 * @param[out] err optional; says what is wrong with the root.
 * @return WF_OK; WF_EINVAL (the root is not a directory that can be
 *         opened); WF_EVERSION; WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_engine_set_object_store(wf_engine *engine,
                                      const wf_object_store_options *opts,
                                      wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_OBJECT_STORE_H */
