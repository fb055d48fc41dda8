/* A Distributed Map's ResultWriter: what AWS keeps of each child execution
 * (its record: ARN, name, input, output or error, status, dates), shaped
 * by WriterConfig's Transformation (NONE, COMPACT, FLATTEN) and OutputType
 * (JSON, JSONL), and with a Resource (arn:aws:states:::s3:putObject)
 * written to the object store as AWS lays it out:
 *   PREFIX/MAPRUNUUID/manifest.json       the files, by status
 *   PREFIX/MAPRUNUUID/SUCCEEDED_0.json    (FAILED_0, PENDING_0: when any)
 * the state's result then being {"MapRunArn", "ResultWriterDetails":
 * {"Bucket", "Key"}} (the manifest's key). */
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "map_data.h"
#include "objstore.h"
#include "timestamp.h"

static json_t *date_at(int64_t ms) {
  char text[32];
  wf__timestamp_format_ms(text, ms);
  return json_string(text);
}

static json_t *date_now(wf__frame *f) {
  return date_at(wf__engine_now(f->exec->engine));
}

/* JSON text of a value, as a record's Input and Output hold it. */
static json_t *text_of(const json_t *v) {
  char *s = wf__json_dumps(v ? v : json_null());
  json_t *t = s ? json_string(s) : NULL;
  wf__free(s);
  return t ? t : json_string("");
}

void wf__map_child_started(wf__frame *p, const wf__state *st, size_t i,
                           json_t *input) {
  wf__fanout *fan = p->fan;
  if (!fan->records || i >= json_array_size(fan->records)) return;
  char name[37];
  wf__map_child_name(name, fan->map_run_arn ? fan->map_run_arn : "",
                     fan->base + i);
  json_t *r = json_object();
  wf__strbuf machine = WF__STRBUF_INIT, arn = WF__STRBUF_INIT;
  wf__map_machine_arn(&machine, p, st);
  wf__map_child_arn(&arn, wf__strbuf_cstr(&machine), name);
  json_object_set_new(r, "ExecutionArn", json_string(wf__strbuf_cstr(&arn)));
  json_object_set_new(r, "Input", text_of(input));
  json_object_set_new(r, "InputDetails", json_pack("{s:b}", "Included", 1));
  json_object_set_new(r, "Name", json_string(name));
  json_object_set_new(r, "StartDate", date_now(p));
  json_object_set_new(r, "StateMachineArn",
                      json_string(wf__strbuf_cstr(&machine)));
  wf__strbuf_free(&arn);
  wf__strbuf_free(&machine);
  json_array_set_new(fan->records, i, r);
}

/* What a record adds at the child's end: its output (JSON text) when it
 * succeeded, else its error and cause. */
static void ended(json_t *r, bool ok, json_t *output, const char *error,
                  const char *cause, json_t *stop) {
  if (ok) {
    json_object_set_new(r, "Output", output);
    json_object_set_new(r, "OutputDetails",
                        json_pack("{s:b}", "Included", 1));
  } else {
    json_decref(output);
    json_object_set_new(r, "Error", json_string(error ? error : ""));
    json_object_set_new(r, "Cause", json_string(cause ? cause : ""));
  }
  json_object_set_new(r, "RedriveCount", json_integer(0));
  json_object_set_new(r, "RedriveStatus",
                      json_string(ok ? "NOT_REDRIVABLE"
                                     : "REDRIVABLE_BY_MAP_RUN"));
  if (ok)
    json_object_set_new(r, "RedriveStatusReason",
                        json_string("Execution is SUCCEEDED and cannot be "
                                    "redriven"));
  json_object_set_new(r, "Status", json_string(ok ? "SUCCEEDED" : "FAILED"));
  json_object_set_new(r, "StopDate", stop);
}

void wf__map_child_ended(wf__frame *p, size_t i, const wf__frame *child) {
  wf__fanout *fan = p->fan;
  json_t *r = fan->records ? json_array_get(fan->records, i) : NULL;
  if (!json_is_object(r)) return; /* started before a resume: unknown */
  ended(r, child->ok, child->ok ? text_of(child->output) : NULL, child->error,
        child->cause, date_now(p));
}

void wf__map_child_restored(wf__fanout *fan, const wf_map_run_child *c) {
  /* A share's records are its own children's (map_shard.c). */
  size_t i = (size_t)c->index - fan->base;
  if (!fan->records || c->index < 0 || (size_t)c->index < fan->base ||
      i >= json_array_size(fan->records))
    return;
  json_t *r = json_pack("{s:s,s:s,s:{s:b},s:s,s:o,s:s}", "ExecutionArn",
                        c->execution_arn, "Input", c->input ? c->input : "",
                        "InputDetails", "Included", 1, "Name", c->name,
                        "StartDate", date_at(c->start_ms), "StateMachineArn",
                        c->state_machine_arn);
  if (r && (c->status == WF_EXEC_SUCCEEDED || c->status == WF_EXEC_FAILED))
    ended(r, c->status == WF_EXEC_SUCCEEDED,
          json_string(c->output ? c->output : "null"), c->error, c->cause,
          date_at(c->stop_ms));
  if (r) json_array_set_new(fan->records, i, r);
}

/* ---- WriterConfig ---- */

typedef enum { T_NONE, T_COMPACT, T_FLATTEN } transformation;

typedef struct writer_config {
  transformation t;
  bool jsonl;
} writer_config;

static int writer_config_read(writer_config *w, const wf__state *st,
                              bool resource, wf__fault *fault) {
  json_t *wc = json_object_get(st->result_writer, "WriterConfig");
  const char *t = json_string_value(json_object_get(wc, "Transformation"));
  const char *o = json_string_value(json_object_get(wc, "OutputType"));
  /* NONE is the default when results are written, COMPACT otherwise. */
  w->t = resource ? T_NONE : T_COMPACT;
  w->jsonl = false;
  if (t && !strcmp(t, "NONE")) w->t = T_NONE;
  else if (t && !strcmp(t, "COMPACT")) w->t = T_COMPACT;
  else if (t && !strcmp(t, "FLATTEN")) w->t = T_FLATTEN;
  else if (t)
    return wf__fault_set(fault, WF__RESULT_WRITER_FAILED,
                         "WriterConfig.Transformation: %s is not one of "
                         "NONE, COMPACT, FLATTEN", t);
  if (o && !strcmp(o, "JSONL")) w->jsonl = true;
  else if (o && strcmp(o, "JSON") != 0)
    return wf__fault_set(fault, WF__RESULT_WRITER_FAILED,
                         "WriterConfig.OutputType: %s is not one of JSON, "
                         "JSONL", o);
  return 0;
}

/* Where a child stands at the end: a Status of its record. */
typedef enum { S_SUCCEEDED, S_FAILED, S_PENDING, S_COUNT } outcome;

static outcome child_outcome(const wf__fanout *fan, size_t i) {
  if (fan->succeeded[i]) return S_SUCCEEDED;
  json_t *r = fan->records ? json_array_get(fan->records, i) : NULL;
  return json_is_object(r) ? S_FAILED : S_PENDING;
}

/* Child i's record; a child that started but never ended was aborted, one
 * that never started is pending. New reference. */
static json_t *record(const wf__fanout *fan, size_t i) {
  json_t *r = fan->records ? json_array_get(fan->records, i) : NULL;
  if (json_is_object(r)) {
    r = json_copy(r);
    if (!json_object_get(r, "Status"))
      json_object_set_new(r, "Status", json_string("ABORTED"));
    return r;
  }
  json_t *input = text_of(json_array_get(fan->items, i));
  r = json_pack("{s:o,s:{s:b},s:s}", "Input", input, "InputDetails",
                "Included", 1, "Status",
                fan->succeeded[i] ? "SUCCEEDED" : "PENDING");
  return r;
}

/* Child i's entries as `w` shapes them, appended to `out`. */
static void entries(json_t *out, const wf__fanout *fan, size_t i,
                    const writer_config *w) {
  json_t *result = json_array_get(fan->results, i);
  bool ok = fan->succeeded[i];
  if (w->t == T_COMPACT && (ok || json_is_object(result))) {
    json_array_append(out, result);
  } else if (w->t == T_FLATTEN && ok && json_is_array(result)) {
    json_array_extend(out, result);
  } else if (w->t == T_FLATTEN && ok) {
    json_array_append(out, result);
  } else {
    json_array_append_new(out, record(fan, i));
  }
}

/* ---- writing ---- */

static char *file_text(const json_t *list, bool jsonl, size_t *len) {
  if (!jsonl) {
    char *s = wf__json_dumps(list);
    *len = s ? strlen(s) : 0;
    return s;
  }
  wf__strbuf b = WF__STRBUF_INIT;
  for (size_t i = 0; i < json_array_size(list); i++) {
    char *s = wf__json_dumps(json_array_get(list, i));
    if (s) wf__strbuf_puts(&b, s);
    wf__strbuf_putc(&b, '\n');
    wf__free(s);
  }
  *len = b.len;
  if (!b.data) return wf__strdup("");
  return wf__strbuf_take(&b);
}

static int put(const char *root, const char *bucket, const char *key,
               const char *text, size_t len, wf__fault *fault) {
  wf__strbuf why = WF__STRBUF_INIT;
  int rc = wf__os_put(root, bucket, key, text, len, &why);
  if (rc != 0)
    wf__fault_set(fault, WF__RESULT_WRITER_FAILED, "%s",
                  why.len ? wf__strbuf_cstr(&why) : "out of memory");
  wf__strbuf_free(&why);
  return rc;
}

/* The result files and the manifest under DIR (the prefix and the Map
 * Run's UUID); *manifest_key set. */
static int write_files(const wf__fanout *fan, const writer_config *w,
                       const char *root, const char *bucket, const char *dir,
                       wf__strbuf *manifest_key, wf__fault *fault) {
  static const char *const names[S_COUNT] = {"SUCCEEDED", "FAILED",
                                             "PENDING"};
  json_t *lists[S_COUNT];
  for (int b = 0; b < S_COUNT; b++) lists[b] = json_array();
  for (size_t i = 0; i < fan->total; i++)
    entries(lists[child_outcome(fan, i)], fan, i, w);
  json_t *files = json_object();
  int rc = 0;
  wf__strbuf key = WF__STRBUF_INIT;
  for (int b = 0; b < S_COUNT; b++) {
    json_t *listed = json_array();
    json_object_set_new(files, names[b], listed);
    if (rc != 0 || json_array_size(lists[b]) == 0) continue;
    size_t len;
    char *text = file_text(lists[b], w->jsonl, &len);
    wf__strbuf_reset(&key);
    wf__strbuf_printf(&key, "%s%s_0.json", dir, names[b]);
    rc = text ? put(root, bucket, wf__strbuf_cstr(&key), text, len, fault)
              : wf__fault_set(fault, WF__RESULT_WRITER_FAILED,
                              "out of memory");
    json_array_append_new(listed, json_pack("{s:s,s:I}", "Key",
                                            wf__strbuf_cstr(&key), "Size",
                                            (json_int_t)len));
    wf__free(text);
  }
  if (rc == 0) {
    json_t *manifest = json_pack("{s:s,s:s,s:O}", "DestinationBucket", bucket,
                                 "MapRunArn", fan->map_run_arn, "ResultFiles",
                                 files);
    char *text = manifest ? wf__json_dumps(manifest) : NULL;
    wf__strbuf_printf(manifest_key, "%smanifest.json", dir);
    rc = text ? put(root, bucket, wf__strbuf_cstr(manifest_key), text,
                    strlen(text), fault)
              : wf__fault_set(fault, WF__RESULT_WRITER_FAILED,
                              "out of memory");
    wf__free(text);
    json_decref(manifest);
  }
  wf__strbuf_free(&key);
  json_decref(files);
  for (int b = 0; b < S_COUNT; b++) json_decref(lists[b]);
  return rc;
}

int wf__map_write_results(json_t **out, wf__frame *f, const wf__state *st,
                          wf__fault *fault) {
  *out = NULL;
  wf__fanout *fan = f->fan;
  bool resource = json_object_get(st->result_writer, "Resource") != NULL;
  writer_config w;
  if (writer_config_read(&w, st, resource, fault) != 0) return -1;
  if (!resource) {
    /* Only WriterConfig: the results shaped, kept in the state. */
    json_t *list = json_array();
    for (size_t i = 0; i < fan->total; i++) entries(list, fan, i, &w);
    *out = list;
    return 0;
  }
  json_t *args;
  if (wf__map_io_arguments(&args, f, st->writer_parameters,
                           st->writer_arguments, fan->input, fault) != 0)
    return -1;
  const char *bucket = json_string_value(json_object_get(args, "Bucket"));
  json_t *pv = json_object_get(args, "Prefix");
  const char *prefix = json_string_value(pv);
  char *root = wf__object_root(f->exec->engine);
  int rc = 0;
  if (!bucket || (pv && !prefix))
    rc = wf__fault_set(fault, WF__RESULT_WRITER_FAILED,
                       "s3:putObject: the arguments Bucket and Prefix must "
                       "be strings");
  else if (!root)
    rc = wf__fault_set(fault, WF__RESULT_WRITER_FAILED,
                       "this engine has no object store");
  wf__strbuf dir = WF__STRBUF_INIT, manifest = WF__STRBUF_INIT;
  if (rc == 0) {
    /* PREFIX/ (a '/' added when missing), then the Map Run's UUID. */
    const char *uuid = strrchr(fan->map_run_arn, ':');
    if (prefix && *prefix)
      wf__strbuf_printf(&dir, "%s%s", prefix,
                        prefix[strlen(prefix) - 1] == '/' ? "" : "/");
    wf__strbuf_printf(&dir, "%s/", uuid ? uuid + 1 : "");
    rc = write_files(fan, &w, root, bucket, wf__strbuf_cstr(&dir), &manifest,
                     fault);
  }
  if (rc == 0)
    *out = json_pack("{s:s,s:{s:s,s:s}}", "MapRunArn", fan->map_run_arn,
                     "ResultWriterDetails", "Bucket", bucket, "Key",
                     wf__strbuf_cstr(&manifest));
  wf__strbuf_free(&dir);
  wf__strbuf_free(&manifest);
  wf__free(root);
  json_decref(args);
  return rc;
}
