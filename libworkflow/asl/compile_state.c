/* One state: which fields its type supports, its query language, the
 * fields every type shares (Next/End, paths, templates), then the
 * type-specific part. Rules and messages follow AWS's validator: an
 * unsupported field is "Field 'X' is not supported" at the state; a field
 * of the other query language is reported at the state with AWS's text. */
#include <string.h>

#include "alloc.h"
#include "compile.h"
#include "compile_state.h"

enum {
  PASS = 1u << WF__PASS,
  TASK = 1u << WF__TASK,
  CHOICE = 1u << WF__CHOICE,
  WAIT = 1u << WF__WAIT,
  SUCCEED = 1u << WF__SUCCEED,
  FAIL = 1u << WF__FAIL,
  PARALLEL = 1u << WF__PARALLEL,
  MAP = 1u << WF__MAP,
  ALL = 0xFF,
  FLOWING = PASS | TASK | WAIT | PARALLEL | MAP /* Next / End */
};

typedef enum { ANY, ONLY_JSONPATH, ONLY_JSONATA } lang;

/* AWS reports other-language fields in this order (InputPath, OutputPath,
 * ResultPath for JSONPath-only fields; Output, Arguments for JSONata). */
static const struct {
  const char *name;
  unsigned types;
  lang lang;
} FIELDS[] = {
    {"Type", ALL, ANY},
    {"Comment", ALL, ANY},
    {"QueryLanguage", ALL, ANY},
    {"Next", FLOWING, ANY},
    {"End", FLOWING, ANY},
    {"InputPath", ALL & ~FAIL, ONLY_JSONPATH},
    {"OutputPath", ALL & ~FAIL, ONLY_JSONPATH},
    {"ResultPath", PASS | TASK | PARALLEL | MAP, ONLY_JSONPATH},
    {"Parameters", PASS | TASK | PARALLEL | MAP, ONLY_JSONPATH},
    {"ResultSelector", TASK | PARALLEL | MAP, ONLY_JSONPATH},
    {"Result", PASS, ONLY_JSONPATH},
    {"Output", ALL & ~FAIL, ONLY_JSONATA},
    {"Arguments", TASK | PARALLEL, ONLY_JSONATA},
    {"Assign", PASS | TASK | CHOICE | WAIT | PARALLEL | MAP, ANY},
    {"Resource", TASK, ANY},
    {"TimeoutSeconds", TASK, ANY},
    {"TimeoutSecondsPath", TASK, ONLY_JSONPATH},
    {"HeartbeatSeconds", TASK, ANY},
    {"HeartbeatSecondsPath", TASK, ONLY_JSONPATH},
    {"Credentials", TASK, ANY},
    {"Retry", TASK | PARALLEL | MAP, ANY},
    {"Catch", TASK | PARALLEL | MAP, ANY},
    {"Choices", CHOICE, ANY},
    {"Default", CHOICE, ANY},
    {"Seconds", WAIT, ANY},
    {"Timestamp", WAIT, ANY},
    {"SecondsPath", WAIT, ONLY_JSONPATH},
    {"TimestampPath", WAIT, ONLY_JSONPATH},
    {"Error", FAIL, ANY},
    {"Cause", FAIL, ANY},
    {"ErrorPath", FAIL, ONLY_JSONPATH},
    {"CausePath", FAIL, ONLY_JSONPATH},
    {"Branches", PARALLEL, ANY},
    {"ItemProcessor", MAP, ANY},
    {"Iterator", MAP, ANY},
    {"ItemsPath", MAP, ONLY_JSONPATH},
    {"Items", MAP, ONLY_JSONATA},
    {"ItemSelector", MAP, ANY},
    {"MaxConcurrency", MAP, ANY},
    {"MaxConcurrencyPath", MAP, ONLY_JSONPATH},
    {"ItemReader", MAP, ANY},
    {"ItemBatcher", MAP, ANY},
    {"ResultWriter", MAP, ANY},
    {"ToleratedFailureCount", MAP, ANY},
    {"ToleratedFailureCountPath", MAP, ONLY_JSONPATH},
    {"ToleratedFailurePercentage", MAP, ANY},
    {"ToleratedFailurePercentagePath", MAP, ONLY_JSONPATH},
    {"Label", MAP, ANY},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

static const char *const TYPE_NAMES[] = {"Pass", "Task",     "Choice",
                                         "Wait", "Succeed",  "Fail",
                                         "Parallel", "Map"};

static int field_index(const char *key) {
  for (size_t i = 0; i < NFIELDS; i++)
    if (strcmp(FIELDS[i].name, key) == 0) return (int)i;
  return -1;
}

int wf__state_type_from_name(const char *name) {
  for (int i = 0; i < 8; i++)
    if (strcmp(TYPE_NAMES[i], name) == 0) return i;
  return -1;
}

/* Resolve the state's query language (AWS: exactly "JSONPath" means
 * JSONPath, absent inherits the machine's, anything else is JSONata) and
 * report a value outside the enum. Returns true when the state downgrades a
 * JSONata machine to JSONPath (reported; the other-language field check is
 * then skipped, as AWS does). */
static bool resolve_ql(wf__cctx *cx, json_t *js, wf__state *st,
                       bool *enum_error, bool *type_error) {
  json_t *q = json_object_get(js, "QueryLanguage");
  st->ql = cx->machine_ql;
  if (!q) return false;
  if (json_is_string(q) && strcmp(json_string_value(q), "JSONPath") == 0) {
    st->ql = WF__QL_JSONPATH;
    if (cx->machine_ql == WF__QL_JSONATA) {
      wf__cerr(cx, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' "
               "for whole state machine");
      return true;
    }
    return false;
  }
  st->ql = WF__QL_JSONATA;
  if (!json_is_string(q)) *type_error = true;
  else if (strcmp(json_string_value(q), "JSONata") != 0) *enum_error = true;
  return false;
}

static void check_fields(wf__cctx *cx, json_t *js, wf__state *st,
                         bool skip_lang) {
  const char *key;
  json_t *val;
  /* Unsupported fields first, in definition order. */
  json_object_foreach(js, key, val) {
    int i = field_index(key);
    if (i < 0 || !(FIELDS[i].types & (1u << st->type)))
      wf__cerr(cx, "Field '%s' is not supported", key);
  }
  if (skip_lang) return;
  for (size_t i = 0; i < NFIELDS; i++) {
    if (!(FIELDS[i].types & (1u << st->type))) continue;
    if (!json_object_get(js, FIELDS[i].name)) continue;
    if ((FIELDS[i].lang == ONLY_JSONPATH && st->ql == WF__QL_JSONATA) ||
        (FIELDS[i].lang == ONLY_JSONATA && st->ql == WF__QL_JSONPATH))
      wf__cerr_language(cx, st->ql, FIELDS[i].name);
  }
}

/* Next / End: exactly one for the flowing types; neither for the others. */
static void compile_transition(wf__cctx *cx, json_t *js, wf__state *st) {
  st->next = -1;
  if (!((1u << st->type) & FLOWING)) return;
  json_t *next = json_object_get(js, "Next");
  bool end = false;
  bool has_end = wf__get_bool(cx, js, "End", &end);
  if (next && has_end && end) {
    wf__cerr(cx, "There should only be one of the following fields: "
             "[Next, End]");
    return;
  }
  if (has_end && !end && !next) {
    wf__cerr_at(cx, "End", "The field 'End' can only be set to true");
    return;
  }
  if (!next && !end) {
    wf__cerr(cx, "One of these fields is required: [Next, End]");
    return;
  }
  if (end) {
    st->end = true;
    return;
  }
  if (!json_is_string(next)) {
    wf__cerr_at(cx, "Next", "Expected value of type [STRING]");
    return;
  }
  st->next = wf__resolve_target(cx, "Next", json_string_value(next));
}

static const unsigned IN_FLAGS = WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE;
static const unsigned TEMPLATE_FLAGS =
    WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE;

/* InputPath, OutputPath, ResultPath, Parameters, ResultSelector, Result,
 * Assign: whichever the type supports (unsupported ones were reported). */
static void compile_io(wf__cctx *cx, json_t *js, wf__state *st) {
  unsigned bit = 1u << st->type;
  if (st->ql == WF__QL_JSONPATH && !(bit & FAIL)) {
    wf__get_path_field(cx, js, "InputPath", IN_FLAGS, &st->input_path);
    wf__get_path_field(cx, js, "OutputPath", IN_FLAGS, &st->output_path);
  }
  if (st->ql == WF__QL_JSONPATH && (bit & (PASS | TASK | PARALLEL | MAP))) {
    wf__get_path_field(cx, js, "ResultPath", WF__JP_REFERENCE,
                       &st->result_path);
    st->parameters = wf__get_template(cx, js, "Parameters", TEMPLATE_FLAGS);
  }
  if (st->ql == WF__QL_JSONPATH && (bit & (TASK | PARALLEL | MAP)))
    st->result_selector =
        wf__get_template(cx, js, "ResultSelector", TEMPLATE_FLAGS);
  if (bit & PASS) {
    json_t *r = json_object_get(js, "Result");
    if (r) st->result = json_incref(r);
  }
  if ((bit & ~(SUCCEED | FAIL)) && st->ql == WF__QL_JSONPATH)
    st->assign = wf__get_template(cx, js, "Assign", TEMPLATE_FLAGS);
  if ((bit & ~(SUCCEED | FAIL)) && !wf__check_assign(cx, js, st->ql)) return;
  if (st->ql == WF__QL_JSONATA) {
    if (!(bit & FAIL)) st->ata[WF__ATA_OUTPUT] = wf__get_jfield(cx, js, "Output", NULL);
    if (bit & (TASK | PARALLEL))
      st->ata[WF__ATA_ARGUMENTS] = wf__get_jfield(cx, js, "Arguments", NULL);
    if (bit & ~(SUCCEED | FAIL))
      st->ata[WF__ATA_ASSIGN] = wf__get_jfield(cx, js, "Assign", NULL);
  }
}

void wf__compile_state(wf__cctx *cx, json_t *js, wf__state *st) {
  st->raw = js;
  st->next = -1;
  st->default_next = -1;
  bool enum_error = false, type_error = false;
  bool downgrade = resolve_ql(cx, js, st, &enum_error, &type_error);
  check_fields(cx, js, st, downgrade);
  if (type_error)
    wf__cerr_at(cx, "QueryLanguage", "Expected value of type [STRING]");
  if (enum_error)
    wf__cerr_at(cx, "QueryLanguage",
                "Value should be one of the following: [JSONPath, JSONata]");
  json_t *comment = json_object_get(js, "Comment");
  if (comment && !json_is_string(comment))
    wf__cerr_at(cx, "Comment", "Expected value of type [STRING]");
  compile_transition(cx, js, st);
  compile_io(cx, js, st);
  switch (st->type) {
    case WF__TASK: wf__compile_task(cx, js, st); break;
    case WF__CHOICE: wf__compile_choice(cx, js, st); break;
    case WF__WAIT: wf__compile_wait(cx, js, st); break;
    case WF__FAIL: wf__compile_fail(cx, js, st); break;
    case WF__PARALLEL: wf__compile_parallel(cx, js, st); break;
    case WF__MAP: wf__compile_map(cx, js, st); break;
    case WF__PASS:
    case WF__SUCCEED: break;
  }
}

void wf__state_free(wf__state *st) {
  if (!st) return;
  wf__free(st->name);
  wf__jsonpath_free(st->input_path.path);
  wf__jsonpath_free(st->output_path.path);
  wf__jsonpath_free(st->result_path.path);
  wf__template_free(st->parameters);
  wf__template_free(st->result_selector);
  wf__template_free(st->assign);
  json_decref(st->result);
  wf__free(st->resource);
  wf__jsonpath_free(st->timeout_path);
  wf__jsonpath_free(st->heartbeat_path);
  wf__template_free(st->credentials);
  for (size_t i = 0; i < st->nretriers; i++)
    wf__strings_free(st->retriers[i].errors, st->retriers[i].nerrors);
  wf__free(st->retriers);
  for (size_t i = 0; i < st->ncatchers; i++) {
    wf__strings_free(st->catchers[i].errors, st->catchers[i].nerrors);
    wf__jsonpath_free(st->catchers[i].result_path.path);
    wf__template_free(st->catchers[i].assign);
    wf__jfield_free(st->catchers[i].output);
    wf__jfield_free(st->catchers[i].ata_assign);
  }
  wf__free(st->catchers);
  for (size_t i = 0; i < st->nchoices; i++) {
    wf__choice_rule_free(st->choices[i].rule);
    wf__jfield_free(st->choices[i].condition);
    wf__template_free(st->choices[i].assign);
    wf__jfield_free(st->choices[i].output);
    wf__jfield_free(st->choices[i].ata_assign);
  }
  wf__free(st->choices);
  wf__jsonpath_free(st->seconds_path);
  wf__jsonpath_free(st->timestamp_path);
  wf__free(st->error);
  wf__free(st->cause);
  wf__jsonpath_free(st->error_path.path);
  wf__intrinsic_free(st->error_path.fn);
  wf__jsonpath_free(st->cause_path.path);
  wf__intrinsic_free(st->cause_path.fn);
  for (size_t i = 0; i < st->nbranches; i++) wf__scope_free(st->branches[i]);
  wf__free(st->branches);
  wf__scope_free(st->processor);
  wf__jsonpath_free(st->items_path);
  wf__template_free(st->item_selector);
  wf__jsonpath_free(st->max_concurrency_path);
  wf__jsonpath_free(st->tolerated_count_path);
  wf__jsonpath_free(st->tolerated_percentage_path);
  json_decref(st->item_batcher);
  json_decref(st->item_reader);
  json_decref(st->result_writer);
  wf__template_free(st->reader_parameters);
  wf__template_free(st->writer_parameters);
  wf__jfield_free(st->reader_arguments);
  wf__jfield_free(st->writer_arguments);
  wf__template_free(st->batch_input);
  wf__free(st->label);
  for (int i = 0; i < WF__ATA_COUNT; i++) wf__jfield_free(st->ata[i]);
  wf__free(st);
}
