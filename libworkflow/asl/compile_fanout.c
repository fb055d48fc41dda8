/* Parallel and Map: nested scopes plus the Map's item, concurrency,
 * tolerance, batching and label fields. Distributed-map reader/writer
 * configurations are checked structurally here; running them is the
 * engine's business. */
#include <string.h>

#include "alloc.h"
#include "compile.h"

static const unsigned NUMBER_PATH_FLAGS =
    WF__JP_REFERENCE | WF__JP_ALLOW_VARIABLE;

void wf__compile_parallel(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *branches = json_object_get(js, "Branches");
  if (!branches) {
    wf__cerr(cx, "These fields are required: [Branches]");
  } else {
    size_t mark = wf__loc_push(cx, "Branches");
    if (!json_is_array(branches)) {
      wf__cerr(cx, "Expected value of type [ARRAY]");
    } else if (json_array_size(branches) == 0) {
      wf__cerr(cx, "Value cannot be empty");
    } else {
      size_t n = json_array_size(branches);
      st->branches = wf__calloc(n, sizeof *st->branches);
      if (!st->branches) cx->diags->oom = true;
      for (size_t i = 0; st->branches && i < n; i++) {
        size_t m = wf__loc_index(cx, i);
        json_t *b = json_array_get(branches, i);
        if (!json_is_object(b)) {
          wf__cerr(cx, "Expected value of type [OBJECT]");
        } else {
          wf__scope *s = wf__compile_scope(cx, b, st, false);
          if (s) {
            s->branch_index = i;
            st->branches[st->nbranches++] = s;
          }
        }
        wf__loc_pop(cx, m);
      }
    }
    wf__loc_pop(cx, mark);
  }
  wf__compile_retry_catch(cx, js, st);
}

static void processor_config(wf__cctx *cx, json_t *proc, wf__state *st) {
  json_t *pc = json_object_get(proc, "ProcessorConfig");
  if (!pc) return;
  size_t mark = wf__loc_push(cx, "ProcessorConfig");
  if (!json_is_object(pc)) {
    wf__cerr(cx, "Expected value of type [OBJECT]");
    wf__loc_pop(cx, mark);
    return;
  }
  const char *key;
  json_t *val;
  json_object_foreach(pc, key, val) {
    if (strcmp(key, "Mode") != 0 && strcmp(key, "ExecutionType") != 0)
      wf__cerr(cx, "Field '%s' is not supported", key);
  }
  const char *mode, *exec;
  if (wf__get_string(cx, pc, "Mode", &mode)) {
    if (strcmp(mode, "DISTRIBUTED") == 0)
      st->distributed = true;
    else if (strcmp(mode, "INLINE") != 0)
      wf__cerr_at(cx, "Mode",
                  "Value should be one of the following: [INLINE, "
                  "DISTRIBUTED]");
  }
  if (wf__get_string(cx, pc, "ExecutionType", &exec)) {
    if (strcmp(exec, "EXPRESS") == 0)
      st->express_children = true;
    else if (strcmp(exec, "STANDARD") != 0)
      wf__cerr_at(cx, "ExecutionType",
                  "Value should be one of the following: [STANDARD, "
                  "EXPRESS]");
  } else if (st->distributed && !json_object_get(pc, "ExecutionType")) {
    wf__cerr(cx, "The field 'ExecutionType' is required but was missing");
  }
  wf__loc_pop(cx, mark);
}

/* Map Run labels: up to 40 characters, none of the characters AWS refuses
 * in names (blanks, brackets, wildcards, punctuation, control characters). */
static bool label_ok(const char *s, size_t len) {
  static const char forbidden[] = " <>{}[]?*\"#%\\^|~`$&,;:/";
  size_t chars = 0;
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  if (len == 0) return false;
  for (; p < end; p++) {
    unsigned char c = *p;
    if (c < 0x20 || c == 0x7F || strchr(forbidden, c)) return false;
    if (c == 0xC2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9F)
      return false; /* C1 */
    if (c == 0xC2 && p + 1 < end && p[1] == 0xA0) return false; /* NBSP */
    if ((c & 0xC0) != 0x80) chars++;
  }
  return chars <= 40;
}

/* Keys of a distributed-map configuration object: `any` in both query
 * languages, `path_only` only in JSONPath, `ata_only` only in JSONata.
 * Another language's key gets AWS's QueryLanguage message at the object
 * (as it does for MaxItemsPerBatchPath in a JSONata machine); any other
 * key is not supported. */
static void check_keys_ql(wf__cctx *cx, json_t *obj, wf__ql ql,
                          const char *const *any, const char *const *path_only,
                          const char *const *ata_only) {
  const char *key;
  json_t *val;
  json_object_foreach(obj, key, val) {
    bool known = false, other = false;
    for (const char *const *a = any; a && *a; a++)
      if (strcmp(*a, key) == 0) known = true;
    for (const char *const *a = path_only; a && *a; a++)
      if (strcmp(*a, key) == 0) {
        known = true;
        other = ql != WF__QL_JSONPATH;
      }
    for (const char *const *a = ata_only; a && *a; a++)
      if (strcmp(*a, key) == 0) {
        known = true;
        other = ql != WF__QL_JSONATA;
      }
    if (other)
      wf__cerr_language(cx, ql, key);
    else if (!known && any)
      wf__cerr(cx, "Field '%s' is not supported", key);
  }
}

/* A number field of a Map sub-object: a literal in [min, max] or, in
 * JSONata, an expression. */
static void map_number(wf__cctx *cx, json_t *obj, const char *field,
                       int64_t min, int64_t max, wf__ql ql) {
  json_t *v = json_object_get(obj, field);
  int64_t n;
  if (v && !(ql == WF__QL_JSONATA && wf__jsonata_is_expr(v)))
    wf__get_int(cx, obj, field, min, max, &n);
}

static const char *const PARAMETERS[] = {"Parameters", NULL};
static const char *const ARGUMENTS[] = {"Arguments", NULL};

static void reader_config(wf__cctx *cx, json_t *rc, wf__state *st) {
  wf__ql ql = st->ql;
  static const char *const path_only[] = {"MaxItemsPath", NULL};
  size_t m = wf__loc_push(cx, "ReaderConfig");
  if (!json_is_object(rc)) {
    wf__cerr(cx, "Expected value of type [OBJECT]");
    wf__loc_pop(cx, m);
    return;
  }
  /* Only the language of the keys is checked: the reader's options grow
   * with each new input type. */
  check_keys_ql(cx, rc, ql, NULL, path_only, NULL);
  wf__exclusive(cx, rc, "MaxItems", "MaxItemsPath");
  const char *it;
  if (wf__get_string(cx, rc, "InputType", &it) && strcmp(it, "CSV") != 0 &&
      strcmp(it, "JSON") != 0 && strcmp(it, "JSONL") != 0 &&
      strcmp(it, "PARQUET") != 0 && strcmp(it, "MANIFEST") != 0)
    wf__cerr_at(cx, "InputType",
                "The field 'InputType' should have one of these values: "
                "[CSV, JSON, JSONL, PARQUET, MANIFEST]");
  /* AWS's ceiling for MaxItems (measured, floci#3733). */
  map_number(cx, rc, "MaxItems", 0, 100000000, ql);
  if (ql == WF__QL_JSONATA &&
      wf__jsonata_is_expr(json_object_get(rc, "MaxItems")))
    wf__note_unrunnable(cx,
                        "the Map state '%s' has a JSONata expression in "
                        "ItemReader.ReaderConfig.MaxItems, which this engine "
                        "cannot run yet",
                        st->name ? st->name : "");
  if (ql == WF__QL_JSONPATH)
    wf__jsonpath_free(wf__get_path(cx, rc, "MaxItemsPath", NUMBER_PATH_FLAGS));
  wf__loc_pop(cx, m);
}

/* A Map state that needs Amazon S3: it runs on an engine with an object
 * store (wf_engine_set_object_store). */
static void note_item_io(wf__cctx *cx, const wf__state *st) {
  if (!cx->object_store_state)
    cx->object_store_state = wf__strdup(st->name ? st->name : "");
}

/* ItemReader's or ResultWriter's Parameters (JSONPath, a payload template
 * kept for the run) or Arguments (JSONata). */
static void io_arguments(wf__cctx *cx, json_t *obj, wf__state *st,
                         wf__template **params, wf__jfield **args) {
  if (st->ql == WF__QL_JSONPATH)
    *params = wf__get_template(cx, obj, "Parameters",
                               WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE);
  else
    *args = wf__get_jfield(cx, obj, "Arguments", NULL);
}

static void item_reader(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *r = json_object_get(js, "ItemReader");
  if (!r) return;
  note_item_io(cx, st);
  st->item_reader = json_incref(r);
  size_t mark = wf__loc_push(cx, "ItemReader");
  if (!json_is_object(r)) {
    wf__cerr(cx, "Expected value of type [OBJECT]");
  } else {
    static const char *const any[] = {"Resource", "ReaderConfig", NULL};
    check_keys_ql(cx, r, st->ql, any, PARAMETERS, ARGUMENTS);
    const char *res;
    if (!json_object_get(r, "Resource"))
      wf__cerr(cx, "The field 'Resource' is required but was missing");
    else if (wf__get_string(cx, r, "Resource", &res) &&
             strcmp(res, "arn:aws:states:::s3:getObject") != 0 &&
             strcmp(res, "arn:aws:states:::s3:listObjectsV2") != 0)
      wf__cerr_at(cx, "Resource",
                  "The resource provided %s is not recognized. The value is "
                  "not a valid resource ARN, or the resource is not available "
                  "in this region.",
                  res);
    io_arguments(cx, r, st, &st->reader_parameters, &st->reader_arguments);
    json_t *rc = json_object_get(r, "ReaderConfig");
    if (rc) reader_config(cx, rc, st);
    const char *it = json_string_value(
        json_object_get(json_object_get(r, "ReaderConfig"), "InputType"));
    if (it && strcmp(it, "PARQUET") == 0)
      wf__note_unrunnable(cx,
                          "the Map state '%s' reads PARQUET objects, which "
                          "this engine cannot read",
                          st->name ? st->name : "");
  }
  wf__loc_pop(cx, mark);
}

static void item_batcher(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *b = json_object_get(js, "ItemBatcher");
  if (!b) return;
  size_t mark = wf__loc_push(cx, "ItemBatcher");
  if (!json_is_object(b)) {
    wf__cerr(cx, "Expected value of type [OBJECT]");
  } else {
    static const char *const any[] = {"MaxItemsPerBatch",
                                      "MaxInputBytesPerBatch", "BatchInput",
                                      NULL};
    static const char *const path_only[] = {
        "MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath", NULL};
    check_keys_ql(cx, b, st->ql, any, path_only, NULL);
    wf__exclusive(cx, b, "MaxItemsPerBatch", "MaxItemsPerBatchPath");
    wf__exclusive(cx, b, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath");
    /* Every Map number field refuses values below 0 with "Minimum value
     * is 0" (measured, floci#3733); a batch is at most 256 KiB. */
    map_number(cx, b, "MaxItemsPerBatch", 0, INT64_MAX, st->ql);
    map_number(cx, b, "MaxInputBytesPerBatch", 0, 262144, st->ql);
    if (st->ql == WF__QL_JSONPATH) {
      wf__jsonpath_free(
          wf__get_path(cx, b, "MaxItemsPerBatchPath", NUMBER_PATH_FLAGS));
      wf__jsonpath_free(
          wf__get_path(cx, b, "MaxInputBytesPerBatchPath", NUMBER_PATH_FLAGS));
    }
    st->item_batcher = json_incref(b);
    if (st->ql == WF__QL_JSONATA &&
        (json_object_get(b, "BatchInput") ||
         wf__jsonata_is_expr(json_object_get(b, "MaxItemsPerBatch")) ||
         wf__jsonata_is_expr(json_object_get(b, "MaxInputBytesPerBatch"))))
      wf__note_unrunnable(cx,
                          "the Map state '%s' has a JSONata ItemBatcher with "
                          "BatchInput or expressions, which this engine "
                          "cannot run yet",
                          st->name ? st->name : "");
    if (st->ql == WF__QL_JSONPATH)
      st->batch_input = wf__get_template(
          cx, b, "BatchInput", WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE);
  }
  wf__loc_pop(cx, mark);
}

static void result_writer(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *w = json_object_get(js, "ResultWriter");
  if (!w) return;
  /* Without a Resource it only shapes the output, nothing is written. */
  if (json_object_get(w, "Resource")) note_item_io(cx, st);
  st->result_writer = json_incref(w);
  size_t mark = wf__loc_push(cx, "ResultWriter");
  if (!json_is_object(w)) {
    wf__cerr(cx, "Expected value of type [OBJECT]");
  } else if (json_object_size(w) == 0) {
    wf__cerr(cx, "These fields are required: [Resource]");
  } else {
    static const char *const any[] = {"Resource", "WriterConfig", NULL};
    check_keys_ql(cx, w, st->ql, any, PARAMETERS, ARGUMENTS);
    json_t *res = json_object_get(w, "Resource");
    const char *args = st->ql == WF__QL_JSONPATH ? "Parameters" : "Arguments";
    if (res && (!json_is_string(res) ||
                strcmp(json_string_value(res), "arn:aws:states:::s3:putObject")))
      wf__cerr_at(cx, "Resource",
                  "The resource provided %s is not recognized. The value is "
                  "not a valid resource ARN, or the resource is not available "
                  "in this region.",
                  json_is_string(res) ? json_string_value(res) : "null");
    else if (res && !json_object_get(w, args))
      wf__cerr(cx, "The field '%s' is required but was missing", args);
    io_arguments(cx, w, st, &st->writer_parameters, &st->writer_arguments);
  }
  wf__loc_pop(cx, mark);
}

static void tolerances(wf__cctx *cx, json_t *js, wf__state *st) {
  wf__exclusive(cx, js, "ToleratedFailureCount", "ToleratedFailureCountPath");
  wf__exclusive(cx, js, "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath");
  if (st->ql == WF__QL_JSONATA) {
    st->ata[WF__ATA_TOLERATED_COUNT] =
        wf__get_jfield_expr(cx, js, "ToleratedFailureCount");
    st->ata[WF__ATA_TOLERATED_PERCENTAGE] =
        wf__get_jfield_expr(cx, js, "ToleratedFailurePercentage");
  }
  json_t *v = json_object_get(js, "ToleratedFailureCount");
  if (v && !(st->ql == WF__QL_JSONATA && wf__jsonata_is_expr(v)))
    st->has_tolerated_count = wf__get_int(cx, js, "ToleratedFailureCount", 0,
                                          INT64_MAX, &st->tolerated_count);
  v = json_object_get(js, "ToleratedFailurePercentage");
  if (v && !(st->ql == WF__QL_JSONATA && wf__jsonata_is_expr(v))) {
    double pct;
    if (wf__get_number(cx, js, "ToleratedFailurePercentage", &pct)) {
      /* AWS words this bound as a decimal (measured, floci#3733). */
      if (pct < 0)
        wf__cerr_at(cx, "ToleratedFailurePercentage", "Minimum value is 0.0");
      else if (pct > 100)
        wf__cerr_at(cx, "ToleratedFailurePercentage",
                    "Maximum value is 100.0");
      else {
        st->has_tolerated_percentage = true;
        st->tolerated_percentage = pct;
      }
    }
  }
  if (st->ql == WF__QL_JSONPATH) {
    st->tolerated_count_path =
        wf__get_path(cx, js, "ToleratedFailureCountPath", NUMBER_PATH_FLAGS);
    st->tolerated_percentage_path = wf__get_path(
        cx, js, "ToleratedFailurePercentagePath", NUMBER_PATH_FLAGS);
  }
}

void wf__compile_map(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *proc = json_object_get(js, "ItemProcessor");
  const char *proc_field = "ItemProcessor";
  if (!proc) {
    proc = json_object_get(js, "Iterator");
    proc_field = "Iterator";
  }
  if (wf__exclusive(cx, js, "ItemProcessor", "Iterator")) {
    proc = NULL;
  } else if (!proc) {
    wf__cerr(cx, "These fields are required: [ItemProcessor]");
  } else {
    size_t mark = wf__loc_push(cx, proc_field);
    if (!json_is_object(proc)) {
      wf__cerr(cx, "Expected value of type [OBJECT]");
    } else {
      processor_config(cx, proc, st);
      st->processor = wf__compile_scope(cx, proc, st, true);
    }
    wf__loc_pop(cx, mark);
  }
  const unsigned tflags = WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE;
  wf__exclusive(cx, js, "ItemSelector", "Parameters");
  if (st->ql == WF__QL_JSONPATH) {
    st->items_path = wf__get_path(cx, js, "ItemsPath", tflags);
    st->item_selector = wf__get_template(cx, js, "ItemSelector", tflags);
  } else {
    st->ata[WF__ATA_ITEMS] = wf__get_jfield(cx, js, "Items", NULL);
    st->ata[WF__ATA_ITEM_SELECTOR] =
        wf__get_jfield(cx, js, "ItemSelector", NULL);
    st->ata[WF__ATA_MAX_CONCURRENCY] =
        wf__get_jfield_expr(cx, js, "MaxConcurrency");
  }
  wf__exclusive(cx, js, "MaxConcurrency", "MaxConcurrencyPath");
  json_t *mc = json_object_get(js, "MaxConcurrency");
  if (mc && !(st->ql == WF__QL_JSONATA && wf__jsonata_is_expr(mc)))
    wf__get_int(cx, js, "MaxConcurrency", 0, INT64_MAX, &st->max_concurrency);
  if (st->ql == WF__QL_JSONPATH)
    st->max_concurrency_path =
        wf__get_path(cx, js, "MaxConcurrencyPath", NUMBER_PATH_FLAGS);
  tolerances(cx, js, st);
  item_reader(cx, js, st);
  item_batcher(cx, js, st);
  result_writer(cx, js, st);
  const char *label;
  if (wf__get_string(cx, js, "Label", &label)) {
    /* A NUL inside the label is one of the refused control characters. */
    if (!label_ok(label, json_string_length(json_object_get(js, "Label"))))
      wf__cerr_at(cx, "Label",
                  "The Label must be 1 to 40 characters long and must not "
                  "contain whitespace, brackets, wildcard or special "
                  "characters, or control characters");
    else
      st->label = wf__strdup(label);
  }
  wf__compile_retry_catch(cx, js, st);
}
