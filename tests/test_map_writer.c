/* A Distributed Map's ResultWriter against a local object store: the
 * manifest.json and the SUCCEEDED_0 / FAILED_0 / PENDING_0 files as AWS
 * lays them out (the keys under the prefix and the Map Run's UUID, each
 * child's record), WriterConfig's Transformation (NONE, COMPACT, FLATTEN)
 * and OutputType (JSON, JSONL) in the files and, without a Resource, in the
 * state's output; the state's output with a Resource; a Map Run that fails
 * still writing its results; what cannot be written failing with
 * States.ResultWriterFailed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "fanout_support.h"
#include "objstore_support.h"
#include "support.h"
#include "workflow/workflow.h"

/* Children that fail for {"fail": true} items and pass the others. */
#define PROCESSOR                                                          \
  "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"              \
  "'ExecutionType':'STANDARD'},'StartAt':'C','States':{'C':{'Type':"       \
  "'Choice','Choices':[{'Variable':'$.fail','IsPresent':true,'Next':'F'}]," \
  "'Default':'P'},'P':{'Type':'Pass','End':true},'F':{'Type':'Fail',"      \
  "'Error':'Child.Failed','Cause':'the item said so'}}}"

static wfo_root root;
static wf_engine *engine;

static void setup(void) {
  wfo_root_init(&root);
  wfo_mkdir(&root, "out");
  engine = wfo_engine(&root);
}

static void teardown(void) {
  wf_engine_free(engine);
  wfo_root_free(&root);
}

TestSuite(map_writer, .init = setup, .fini = teardown);

/* A distributed Map named Work over the input with this ResultWriter and
 * `extra` fields (each followed by a comma), in machine "Orders". */
static wf_execution *run_writer(const char *writer, const char *extra,
                                const char *input) {
  char *def = wft_strf("{'StartAt':'Work','States':{'Work':{'Type':'Map',"
                       "'End':true,%s'ResultWriter':%s," PROCESSOR "}}}",
                       extra ? extra : "", writer);
  char *json = wfx_dq(def);
  wf_machine *m = wft_load_named(json, "Orders");
  free(json);
  free(def);
  wf_execution *x = wfx_run(engine, m, input);
  wf_machine_free(m);
  return x;
}

static json_t *load_object(const char *key) {
  char *rel = wft_strf("out/%s", key);
  char *text = wfo_get(&root, rel);
  cr_assert_not_null(text, "no object %s", rel);
  free(rel);
  json_error_t e;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
  cr_assert_not_null(v, "%s: %s", text, e.text);
  free(text);
  return v;
}

static bool matches(const char *s, const char *pattern) {
  regex_t re;
  cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
  bool ok = s && regexec(&re, s, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

#define UUID "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#define DATE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"

/* The state's output with a Resource: the Map Run and the manifest's key;
 * returns the directory the files are in ("runs/UUID/"), free(). */
static char *assert_written(wf_execution *x, const char *prefix) {
  wft_assert_succeeded(x, NULL);
  const json_t *out = wf_execution_output_value(x);
  const char *arn = json_string_value(json_object_get(out, "MapRunArn"));
  cr_assert(matches(arn, "^arn:aws:states:[a-z0-9-]+:[0-9]+:mapRun:Orders/"
                         "Work:" UUID "$"),
            "MapRunArn %s", arn);
  json_t *details = json_object_get(out, "ResultWriterDetails");
  cr_assert_eq(json_object_size(out), 2);
  cr_assert_eq(json_object_size(details), 2);
  cr_assert_str_eq(json_string_value(json_object_get(details, "Bucket")),
                   "out");
  char *dir = wft_strf("%s%s/", prefix, strrchr(arn, ':') + 1);
  char *key = wft_strf("%smanifest.json", dir);
  cr_assert_str_eq(json_string_value(json_object_get(details, "Key")), key);
  /* The manifest names the bucket, the run and each file with its size. */
  json_t *manifest = load_object(key);
  cr_assert_str_eq(
      json_string_value(json_object_get(manifest, "DestinationBucket")),
      "out");
  cr_assert_str_eq(json_string_value(json_object_get(manifest, "MapRunArn")),
                   arn);
  json_t *files = json_object_get(manifest, "ResultFiles");
  cr_assert_eq(json_object_size(files), 3);
  const char *k;
  json_t *list;
  json_object_foreach(files, k, list) {
    for (size_t i = 0; i < json_array_size(list); i++) {
      json_t *entry = json_array_get(list, i);
      const char *fk = json_string_value(json_object_get(entry, "Key"));
      char *want = wft_strf("%s%s_0.json", dir, k);
      cr_assert_str_eq(fk, want);
      free(want);
      char *rel = wft_strf("out/%s", fk);
      char *text = wfo_get(&root, rel);
      cr_assert_eq((size_t)json_integer_value(json_object_get(entry, "Size")),
                   strlen(text));
      free(text);
      free(rel);
    }
  }
  json_decref(manifest);
  free(key);
  return dir;
}

/* The manifest's files of one status: how many (0 or 1). */
static size_t listed(const char *dir, const char *status) {
  char *key = wft_strf("%smanifest.json", dir);
  json_t *manifest = load_object(key);
  free(key);
  size_t n = json_array_size(
      json_object_get(json_object_get(manifest, "ResultFiles"), status));
  json_decref(manifest);
  return n;
}

static json_t *result_file(const char *dir, const char *status) {
  char *key = wft_strf("%s%s_0.json", dir, status);
  json_t *v = load_object(key);
  free(key);
  return v;
}

/* A child's record as AWS writes it with Transformation NONE. */
static void assert_record(json_t *r, const char *input, const char *status) {
  cr_assert(matches(json_string_value(json_object_get(r, "ExecutionArn")),
                    "^arn:aws:states:[a-z0-9-]+:[0-9]+:execution:Orders/Work:"
                    UUID "$"));
  cr_assert(matches(json_string_value(json_object_get(r, "Name")), "^" UUID "$"));
  cr_assert_str_eq(
      strrchr(json_string_value(json_object_get(r, "ExecutionArn")), ':') + 1,
      json_string_value(json_object_get(r, "Name")));
  cr_assert(matches(json_string_value(json_object_get(r, "StateMachineArn")),
                    "^arn:aws:states:[a-z0-9-]+:[0-9]+:stateMachine:Orders/"
                    "Work$"));
  cr_assert_str_eq(json_string_value(json_object_get(r, "Input")), input);
  cr_assert(json_is_true(
      json_object_get(json_object_get(r, "InputDetails"), "Included")));
  cr_assert_str_eq(json_string_value(json_object_get(r, "Status")), status);
  cr_assert(matches(json_string_value(json_object_get(r, "StartDate")), DATE));
  cr_assert(matches(json_string_value(json_object_get(r, "StopDate")), DATE));
  cr_assert_eq(json_integer_value(json_object_get(r, "RedriveCount")), 0);
  if (!strcmp(status, "SUCCEEDED")) {
    cr_assert_str_eq(json_string_value(json_object_get(r, "Output")), input);
    cr_assert(json_is_true(
        json_object_get(json_object_get(r, "OutputDetails"), "Included")));
    cr_assert_str_eq(json_string_value(json_object_get(r, "RedriveStatus")),
                     "NOT_REDRIVABLE");
    cr_assert_eq(json_object_size(r), 13);
  } else {
    cr_assert_str_eq(json_string_value(json_object_get(r, "Error")),
                     "Child.Failed");
    cr_assert_str_eq(json_string_value(json_object_get(r, "Cause")),
                     "the item said so");
    cr_assert_null(json_object_get(r, "Output"));
  }
}

#define PUT(params)                                                       \
  "{'Resource':'arn:aws:states:::s3:putObject','Parameters':" params "}"

Test(map_writer, writes_the_manifest_and_the_records_of_the_children) {
  wf_execution *x = run_writer(PUT("{'Bucket':'out','Prefix':'runs'}"), NULL,
                               "[{'n':1},{'n':2},{'n':3}]");
  char *dir = assert_written(x, "runs/");
  cr_assert_eq(listed(dir, "SUCCEEDED"), 1);
  cr_assert_eq(listed(dir, "FAILED"), 0);
  cr_assert_eq(listed(dir, "PENDING"), 0);
  json_t *s = result_file(dir, "SUCCEEDED");
  cr_assert_eq(json_array_size(s), 3);
  for (int i = 0; i < 3; i++) {
    char in[16];
    snprintf(in, sizeof in, "{\"n\":%d}", i + 1);
    assert_record(json_array_get(s, (size_t)i), in, "SUCCEEDED");
  }
  json_decref(s);
  /* Nothing else was written. */
  char *failed = wft_strf("out/%sFAILED_0.json", dir);
  char *gone = wfo_get(&root, failed);
  cr_assert_null(gone);
  free(failed);
  free(dir);
  wf_execution_free(x);
}

Test(map_writer, tolerated_failures_go_to_their_own_file) {
  wf_execution *x = run_writer(PUT("{'Bucket.$':'$.bucket','Prefix':'p/'}"),
                               "'ItemsPath':'$.items',"
                               "'ToleratedFailureCount':1,",
                               "{'bucket':'out','items':[{'n':1},"
                               "{'n':2,'fail':true}]}");
  char *dir = assert_written(x, "p/");
  json_t *s = result_file(dir, "SUCCEEDED");
  json_t *f = result_file(dir, "FAILED");
  cr_assert_eq(json_array_size(s), 1);
  cr_assert_eq(json_array_size(f), 1);
  assert_record(json_array_get(s, 0), "{\"n\":1}", "SUCCEEDED");
  assert_record(json_array_get(f, 0), "{\"n\":2,\"fail\":true}", "FAILED");
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 0),
                                                     "RedriveStatus")),
                   "REDRIVABLE_BY_MAP_RUN");
  json_decref(s);
  json_decref(f);
  free(dir);
  wf_execution_free(x);
}

Test(map_writer, compact_and_jsonl_files) {
  wf_execution *x = run_writer(
      "{'Resource':'arn:aws:states:::s3:putObject','Parameters':{"
      "'Bucket':'out','Prefix':''},'WriterConfig':{'Transformation':"
      "'COMPACT','OutputType':'JSONL'}}",
      "'ToleratedFailurePercentage':50,", "[{'n':1},[2,3],{'fail':true}]");
  char *dir = assert_written(x, "");
  char *rel = wft_strf("out/%sSUCCEEDED_0.json", dir);
  char *text = wfo_get(&root, rel);
  cr_assert_str_eq(text, "{\"n\":1}\n[2,3]\n");
  free(text);
  free(rel);
  rel = wft_strf("out/%sFAILED_0.json", dir);
  text = wfo_get(&root, rel);
  cr_assert_str_eq(text, "{\"Error\":\"Child.Failed\",\"Cause\":\"the item "
                         "said so\"}\n");
  free(text);
  free(rel);
  free(dir);
  wf_execution_free(x);
}

Test(map_writer, flatten_spreads_array_outputs) {
  wf_execution *x = run_writer(
      "{'Resource':'arn:aws:states:::s3:putObject','Parameters':{"
      "'Bucket':'out','Prefix':'f'},'WriterConfig':{'Transformation':"
      "'FLATTEN'}}",
      NULL, "[[1,2],[3],4,[]]");
  char *dir = assert_written(x, "f/");
  json_t *s = result_file(dir, "SUCCEEDED");
  char *text = json_dumps(s, JSON_COMPACT);
  cr_assert_str_eq(text, "[1,2,3,4]");
  free(text);
  json_decref(s);
  free(dir);
  wf_execution_free(x);
}

/* Only WriterConfig: the results shaped in the state's output. */
Test(map_writer, writer_config_alone_shapes_the_output) {
  wf_execution *x = run_writer("{'WriterConfig':{'Transformation':'FLATTEN',"
                               "'OutputType':'JSON'}}",
                               NULL, "[[1,2],[3]]");
  wfx_assert_output(x, "[1,2,3]");
  wf_execution_free(x);
  x = run_writer("{'WriterConfig':{'Transformation':'COMPACT'}}",
                 "'ToleratedFailureCount':1,", "[[1],{'fail':true}]");
  wfx_assert_output(x, "[[1],{'Error':'Child.Failed','Cause':'the item said "
                       "so'}]");
  wf_execution_free(x);
  x = run_writer("{'WriterConfig':{'Transformation':'NONE'}}", NULL,
                 "[{'n':5}]");
  wft_assert_succeeded(x, NULL);
  assert_record(json_array_get(wf_execution_output_value(x), 0), "{\"n\":5}",
                "SUCCEEDED");
  wf_execution_free(x);
}

/* A Map Run past its tolerance fails, and still writes what happened. */
Test(map_writer, a_failed_run_writes_its_results) {
  wf_execution *x = run_writer(PUT("{'Bucket':'out','Prefix':'bad'}"),
                               "'MaxConcurrency':1,",
                               "[{'n':1},{'fail':true},{'n':3}]");
  wft_assert_failed(x, "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded");
  wf_execution_free(x);
  char path[600];
  snprintf(path, sizeof path, "%s/out/bad", root.path);
  DIR *d = opendir(path);
  cr_assert_not_null(d);
  struct dirent *de;
  char run[300] = "";
  while ((de = readdir(d)))
    if (de->d_name[0] != '.') snprintf(run, sizeof run, "%s", de->d_name);
  closedir(d);
  char *dir = wft_strf("bad/%s/", run);
  cr_assert_eq(listed(dir, "SUCCEEDED"), 1);
  cr_assert_eq(listed(dir, "FAILED"), 1);
  cr_assert_eq(listed(dir, "PENDING"), 1);
  json_t *p = result_file(dir, "PENDING");
  cr_assert_eq(json_array_size(p), 1);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(p, 0),
                                                     "Input")),
                   "{\"n\":3}");
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(p, 0),
                                                     "Status")),
                   "PENDING");
  json_decref(p);
  free(dir);
}

static void assert_writer_failed(wf_execution *x, const char *cause) {
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.ResultWriterFailed");
  cr_assert(matches(wf_execution_cause(x), cause), "%s",
            wf_execution_cause(x));
}

Test(map_writer, what_cannot_be_written_fails_the_state) {
  wf_execution *x = run_writer(PUT("{'Bucket':'nobucket','Prefix':'p'}"),
                               NULL, "[1]");
  assert_writer_failed(x, "^s3://nobucket/p/" UUID "/SUCCEEDED_0.json: The "
                          "specified bucket does not exist.$");
  wf_execution_free(x);
  x = run_writer(PUT("{'Bucket':'out','Prefix':'../up'}"), NULL, "[1]");
  assert_writer_failed(x, "^s3://out/\\.\\./up/" UUID "/SUCCEEDED_0.json: "
                          "the key has a '\\.' or '\\.\\.' path component$");
  wf_execution_free(x);
  x = run_writer("{'Resource':'arn:aws:states:::s3:putObject','Parameters':{"
                 "'Bucket':'out'},'WriterConfig':{'OutputType':'CSV'}}",
                 NULL, "[1]");
  wft_assert_failed(x, "States.ResultWriterFailed",
                    "WriterConfig.OutputType: CSV is not one of JSON, JSONL");
  wf_execution_free(x);
  /* It can be caught. */
  wf_machine *m = wfx_load(
      "{'StartAt':'Work','States':{'Work':{'Type':'Map','ResultWriter':" PUT(
          "{'Bucket':'nobucket'}") "," PROCESSOR ",'Catch':[{'ErrorEquals':"
      "['States.ResultWriterFailed'],'ResultPath':null,'Next':'Caught'}],"
      "'End':true},'Caught':{'Type':'Pass','End':true}}}");
  x = wfx_run(engine, m, "[]");
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  wf_machine_free(m);
}
