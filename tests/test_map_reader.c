/* A Distributed Map's ItemReader against a local object store
 * (wf_engine_set_object_store): s3:getObject with InputType JSON, JSONL,
 * CSV (every ReaderConfig option) and MANIFEST (an S3 inventory), and
 * s3:listObjectsV2 (AWS's item shape, Prefix, LOAD_AND_FLATTEN), MaxItems
 * and MaxItemsPath, and what fails: malformed objects (the cause naming
 * the object and the place), missing objects, paths that would leave the
 * root, an engine without an object store. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "engine_support.h"
#include "fanout_support.h"
#include "objstore_support.h"
#include "support.h"
#include "workflow/workflow.h"

/* Children that pass their item through. */
#define PROCESSOR                                                         \
  "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"             \
  "'ExecutionType':'STANDARD'},'StartAt':'P','States':{'P':{"             \
  "'Type':'Pass','End':true}}}"

static wfo_root root;
static wf_engine *engine;

static void setup(void) {
  wfo_root_init(&root);
  wfo_mkdir(&root, "b");
  engine = wfo_engine(&root);
}

static void teardown(void) {
  wf_engine_free(engine);
  char *secret = wft_strf("%s-secret.json", root.path);
  unlink(secret); /* paths_never_leave_the_root's, beside the root */
  free(secret);
  wfo_root_free(&root);
}

TestSuite(map_reader, .init = setup, .fini = teardown);

/* A distributed Map with this ItemReader (and `extra` fields, each
 * followed by a comma), run on `input`. */
static wf_execution *run_reader(const char *reader, const char *extra,
                                const char *input) {
  char *def = wft_strf("{'StartAt':'M','States':{'M':{'Type':'Map',"
                       "'End':true,%s'ItemReader':%s," PROCESSOR "}}}",
                       extra ? extra : "", reader);
  wf_machine *m = wfx_load(def);
  free(def);
  wf_execution *x = wfx_run(engine, m, input ? input : "{}");
  wf_machine_free(m);
  return x;
}

static void assert_items(const char *reader, const char *extra,
                         const char *input, const char *output) {
  wf_execution *x = run_reader(reader, extra, input);
  wfx_assert_output(x, output);
  wf_execution_free(x);
}

/* The output exactly as this text (key order included). */
static void assert_items_text(const char *reader, const char *output) {
  wf_execution *x = run_reader(reader, NULL, NULL);
  wft_assert_succeeded(x, NULL);
  char *want = wfx_dq(output);
  cr_assert_str_eq(wf_execution_output(x), want);
  free(want);
  wf_execution_free(x);
}

static void assert_reader_fails(const char *reader, const char *extra,
                                const char *input, const char *cause) {
  wf_execution *x = run_reader(reader, extra, input);
  wft_assert_failed(x, "States.ItemReaderFailed", cause);
  wf_execution_free(x);
}

#define GET(key, config)                                                  \
  "{'Resource':'arn:aws:states:::s3:getObject','ReaderConfig':" config   \
  ",'Parameters':{'Bucket':'b','Key':'" key "'}}"

/* ---- JSON ---- */

Test(map_reader, json_object_is_an_array_of_items) {
  wfo_puts(&root, "b/data.json", "[{\"a\":1},{\"a\":2},\"three\"]");
  assert_items(GET("data.json", "{'InputType':'JSON'}"), NULL, NULL,
               "[{'a':1},{'a':2},'three']");
  /* MaxItems keeps the first items; 0 means all. */
  assert_items(GET("data.json", "{'InputType':'JSON','MaxItems':2}"), NULL,
               NULL, "[{'a':1},{'a':2}]");
  assert_items(GET("data.json", "{'InputType':'JSON','MaxItems':0}"), NULL,
               NULL, "[{'a':1},{'a':2},'three']");
}

Test(map_reader, parameters_come_from_the_input_and_items_path_picks) {
  wfo_puts(&root, "b/dir/doc.json", "{\"list\":[1,2,3],\"other\":true}");
  assert_items("{'Resource':'arn:aws:states:::s3:getObject','ReaderConfig':"
               "{'InputType':'JSON'},'Parameters':{'Bucket.$':'$.bucket',"
               "'Key.$':'$.key'}}",
               "'ItemsPath':'$.list',", "{'bucket':'b','key':'dir/doc.json'}",
               "[1,2,3]");
  assert_reader_fails(GET("dir/doc.json", "{'InputType':'JSON'}"), NULL, NULL,
                      "Attempting to map over non-iterable node.");
}

Test(map_reader, malformed_json_names_the_object_and_the_place) {
  wfo_puts(&root, "b/bad.json", "[1,\n 2,,]");
  assert_reader_fails(GET("bad.json", "{'InputType':'JSON'}"), NULL, NULL,
                      "s3://b/bad.json: line 2, column 4: the JSON is not "
                      "valid: unexpected token near ','");
}

/* ---- JSON Lines ---- */

Test(map_reader, jsonl_is_one_item_a_line) {
  wfo_puts(&root, "b/lines.jsonl",
           "{\"n\":1}\n\n  [2]\r\n\"three\"\n4");
  assert_items(GET("lines.jsonl", "{'InputType':'JSONL'}"), NULL, NULL,
               "[{'n':1},[2],'three',4]");
  assert_items(GET("lines.jsonl", "{'InputType':'JSONL','MaxItems':3}"), NULL,
               NULL, "[{'n':1},[2],'three']");
  wfo_puts(&root, "b/bad.jsonl", "{\"n\":1}\n{\"n\":}\n");
  assert_reader_fails(GET("bad.jsonl", "{'InputType':'JSONL'}"), NULL, NULL,
                      "s3://b/bad.jsonl: line 2, column 6: the JSON is not "
                      "valid: unexpected token near '}'");
  /* Reading stops at MaxItems: what follows is never parsed. */
  assert_items(GET("bad.jsonl", "{'InputType':'JSONL','MaxItems':1}"), NULL,
               NULL, "[{'n':1}]");
}

/* ---- CSV ---- */

Test(map_reader, csv_first_row_names_the_fields_in_order) {
  wfo_puts(&root, "b/r.csv",
           "zeta,alpha,mid\n1,2,3\r\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\""
           "\n\nshort\n");
  assert_items_text(GET("r.csv", "{'InputType':'CSV','CSVHeaderLocation':"
                                 "'FIRST_ROW'}"),
                    "[{'zeta':'1','alpha':'2','mid':'3'},"
                    "{'zeta':'x,y','alpha':'say \\\"hi\\\"','mid':'two\\nlines'},"
                    "{'zeta':'short','alpha':'','mid':''}]");
  /* MaxItems counts rows after the header. */
  assert_items(GET("r.csv", "{'InputType':'CSV','CSVHeaderLocation':"
                            "'FIRST_ROW','MaxItems':1}"),
               NULL, NULL, "[{'zeta':'1','alpha':'2','mid':'3'}]");
}

Test(map_reader, csv_given_headers_and_every_delimiter) {
  static const struct {
    const char *name;
    char c;
  } delimiters[] = {{"COMMA", ','}, {"PIPE", '|'}, {"SEMICOLON", ';'},
                    {"SPACE", ' '}, {"TAB", '\t'}};
  for (size_t i = 0; i < sizeof delimiters / sizeof delimiters[0]; i++) {
    char text[64];
    char d = delimiters[i].c;
    snprintf(text, sizeof text, "1%c2\n\"3%c\"%c4\n", d, d, d);
    wfo_puts(&root, "b/d.csv", text);
    char *reader = wft_strf(GET("d.csv", "{'InputType':'CSV',"
                                         "'CSVHeaderLocation':'GIVEN',"
                                         "'CSVHeaders':['x','y'],"
                                         "'CSVDelimiter':'%s'}"),
                            delimiters[i].name);
    char *want = wft_strf("[{'x':'1','y':'2'},{'x':'3%s','y':'4'}]",
                          d == '\t' ? "\\t" : (char[]){d, '\0'});
    assert_items(reader, NULL, NULL, want);
    free(reader);
    free(want);
  }
  /* A comma is data under another delimiter. */
  wfo_puts(&root, "b/p.csv", "a,b|c\n");
  assert_items(GET("p.csv", "{'InputType':'CSV','CSVHeaderLocation':'GIVEN',"
                            "'CSVHeaders':['l','r'],'CSVDelimiter':'PIPE'}"),
               NULL, NULL, "[{'l':'a,b','r':'c'}]");
}

Test(map_reader, malformed_csv_fails_naming_the_place) {
  wfo_puts(&root, "b/dup.csv", "a,b,a\n1,2,3\n");
  assert_reader_fails(GET("dup.csv", "{'InputType':'CSV','CSVHeaderLocation':"
                                     "'FIRST_ROW'}"),
                      NULL, NULL, "CSV headers cannot contain duplicates.");
  assert_reader_fails(GET("dup.csv", "{'InputType':'CSV','CSVHeaderLocation':"
                                     "'GIVEN','CSVHeaders':['x','x']}"),
                      NULL, NULL, "CSV headers cannot contain duplicates.");
  wfo_puts(&root, "b/open.csv", "a,b\n1,\"never closed\n2,3\n");
  assert_reader_fails(GET("open.csv", "{'InputType':'CSV'}"), NULL, NULL,
                      "s3://b/open.csv: line 2, column 3: a quoted field is "
                      "not closed");
  wfo_puts(&root, "b/after.csv", "a,b\n1,\"2\"x\n");
  assert_reader_fails(GET("after.csv", "{'InputType':'CSV'}"), NULL, NULL,
                      "s3://b/after.csv: line 2, column 6: a closing quote "
                      "must be followed by the delimiter or the end of the "
                      "line");
  wfo_puts(&root, "b/wide.csv", "a,b\n1,2\n1,2,3\n");
  assert_reader_fails(GET("wide.csv", "{'InputType':'CSV'}"), NULL, NULL,
                      "s3://b/wide.csv: line 3: the row has 3 fields, more "
                      "than the 2 headers");
  /* AWS reads headers of up to 10 KB. */
  char *big = malloc(11000);
  memset(big, 'h', 10999);
  big[10999] = '\0';
  wfo_puts(&root, "b/big.csv", big);
  free(big);
  assert_reader_fails(GET("big.csv", "{'InputType':'CSV'}"), NULL, NULL,
                      "s3://b/big.csv: line 1, column 10241: the header row "
                      "is longer than 10 KB");
  assert_reader_fails(GET("r.csv", "{'InputType':'CSV','CSVDelimiter':"
                                   "'COLON'}"),
                      NULL, NULL,
                      "ReaderConfig.CSVDelimiter: \"COLON\" is not a "
                      "supported value");
  assert_reader_fails(GET("r.csv", "{'InputType':'CSV','CSVHeaderLocation':"
                                   "'GIVEN'}"),
                      NULL, NULL,
                      "CSVHeaderLocation GIVEN needs CSVHeaders, an array of "
                      "strings");
}

/* ---- MaxItemsPath ---- */

Test(map_reader, max_items_path_reads_the_input) {
  wfo_puts(&root, "b/n.json", "[1,2,3,4]");
  const char *reader = GET("n.json", "{'InputType':'JSON','MaxItemsPath':"
                                     "'$.max'}");
  assert_items(reader, NULL, "{'max':3}", "[1,2,3]");
  assert_reader_fails(reader, NULL, "{'max':-1}",
                      "field MaxItems must be positive");
  assert_reader_fails(reader, NULL, "{'max':'x'}",
                      "The MaxItemsPath field refers to value '\"x\"' which "
                      "is not a valid integer: $.max");
}

/* ---- S3 inventory manifests ---- */

static void put_gzip(const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", root.path, rel);
  gzFile gz = gzopen(path, "wb");
  cr_assert_not_null(gz);
  cr_assert_eq(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
  gzclose(gz);
}

Test(map_reader, manifest_reads_the_inventory_csv_files) {
  wfo_mkdir(&root, "inv");
  wfo_mkdir(&root, "inv/files");
  put_gzip("inv/files/one.csv.gz",
           "\"src\",\"photos/a.jpg\",\"10\"\n\"src\",\"photos/b.jpg\",\"20\"\n");
  put_gzip("inv/files/two.csv.gz", "\"src\",\"c.txt\",\"30\"\n");
  wfo_puts(&root, "b/manifest.json",
           "{\"sourceBucket\":\"src\",\"destinationBucket\":"
           "\"arn:aws:s3:::inv\",\"version\":\"2016-11-30\","
           "\"fileFormat\":\"CSV\",\"fileSchema\":\"Bucket, Key, Size\","
           "\"files\":[{\"key\":\"files/one.csv.gz\",\"size\":1,"
           "\"MD5checksum\":\"x\"},{\"key\":\"files/two.csv.gz\"}]}");
  assert_items(GET("manifest.json", "{'InputType':'MANIFEST'}"), NULL, NULL,
               "[{'Bucket':'src','Key':'photos/a.jpg','Size':'10'},"
               "{'Bucket':'src','Key':'photos/b.jpg','Size':'20'},"
               "{'Bucket':'src','Key':'c.txt','Size':'30'}]");
  assert_items(GET("manifest.json", "{'InputType':'MANIFEST','MaxItems':2}"),
               NULL, NULL,
               "[{'Bucket':'src','Key':'photos/a.jpg','Size':'10'},"
               "{'Bucket':'src','Key':'photos/b.jpg','Size':'20'}]");
  wfo_puts(&root, "b/orc.json",
           "{\"destinationBucket\":\"arn:aws:s3:::inv\",\"fileFormat\":\"ORC\","
           "\"fileSchema\":\"x\",\"files\":[]}");
  assert_reader_fails(GET("orc.json", "{'InputType':'MANIFEST'}"), NULL, NULL,
                      "s3://b/orc.json: the S3 inventory manifest must list "
                      "CSV files (fileFormat \"CSV\")");
  put_gzip("inv/files/bad.csv.gz", "\"src\",\"unclosed\n");
  wfo_puts(&root, "b/bad-manifest.json",
           "{\"destinationBucket\":\"arn:aws:s3:::inv\",\"fileFormat\":\"CSV\","
           "\"fileSchema\":\"Bucket, Key\",\"files\":[{\"key\":"
           "\"files/bad.csv.gz\"}]}");
  assert_reader_fails(GET("bad-manifest.json", "{'InputType':'MANIFEST'}"),
                      NULL, NULL,
                      "s3://inv/files/bad.csv.gz: line 1, column 7: a quoted "
                      "field is not closed");
}

/* ---- listObjectsV2 ---- */

static void set_mtime(const char *rel, time_t t) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", root.path, rel);
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

#define LIST(params, config)                                              \
  "{'Resource':'arn:aws:states:::s3:listObjectsV2','ReaderConfig':"       \
  config ",'Parameters':" params "}"

Test(map_reader, list_objects_gives_aws_item_shape_in_key_order) {
  wfo_puts(&root, "b/logs/b.txt", "hello\n");
  wfo_puts(&root, "b/logs/a/x.txt", "");
  wfo_puts(&root, "b/other.txt", "zz");
  set_mtime("b/logs/b.txt", 1668699881);
  set_mtime("b/logs/a/x.txt", 1600000000);
  set_mtime("b/other.txt", 1700000000);
  /* A link inside the bucket is no object. */
  char link[512];
  snprintf(link, sizeof link, "%s/b/logs/link.txt", root.path);
  cr_assert_eq(symlink("/etc/hostname", link), 0);
  assert_items_text(
      LIST("{'Bucket':'b','Prefix':'logs/'}", "{}"),
      "[{'Etag':'\\\"d41d8cd98f00b204e9800998ecf8427e\\\"','Key':'logs/a/x.txt',"
      "'LastModified':1600000000,'Size':0,'StorageClass':'STANDARD'},"
      "{'Etag':'\\\"b1946ac92492d2347c6235b4d2611184\\\"','Key':'logs/b.txt',"
      "'LastModified':1668699881,'Size':6,'StorageClass':'STANDARD'}]");
  /* A prefix need not end at a directory; MaxItems; no prefix: all. */
  assert_items(LIST("{'Bucket':'b','Prefix':'logs/a'}", "{}"), NULL, NULL,
               "[{'Etag':'\\\"d41d8cd98f00b204e9800998ecf8427e\\\"',"
               "'Key':'logs/a/x.txt','LastModified':1600000000,'Size':0,"
               "'StorageClass':'STANDARD'}]");
  wf_execution *x = run_reader(LIST("{'Bucket':'b'}", "{'MaxItems':2}"), NULL,
                               NULL);
  wft_assert_succeeded(x, NULL);
  const json_t *out = wf_execution_output_value(x);
  cr_assert_eq(json_array_size(out), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 1),
                                                     "Key")),
                   "logs/b.txt");
  wf_execution_free(x);
}

Test(map_reader, load_and_flatten_reads_every_listed_object) {
  wfo_puts(&root, "b/in/1.jsonl", "{\"n\":1}\n{\"n\":2}\n");
  wfo_puts(&root, "b/in/2.jsonl", "{\"n\":3}\n");
  wfo_puts(&root, "b/skip.jsonl", "{\"n\":0}\n");
  assert_items(LIST("{'Bucket':'b','Prefix':'in/'}",
                    "{'InputType':'JSONL','Transformation':'LOAD_AND_FLATTEN'}"),
               NULL, NULL, "[{'n':1},{'n':2},{'n':3}]");
  assert_items(LIST("{'Bucket':'b','Prefix':'in/'}",
                    "{'InputType':'JSONL','Transformation':'LOAD_AND_FLATTEN',"
                    "'MaxItems':2}"),
               NULL, NULL, "[{'n':1},{'n':2}]");
  wfo_puts(&root, "b/csv/1.csv", "k,v\na,1\n");
  wfo_puts(&root, "b/csv/2.csv", "k,v\nb,2\n");
  assert_items(LIST("{'Bucket':'b','Prefix':'csv/'}",
                    "{'InputType':'CSV','CSVHeaderLocation':'FIRST_ROW',"
                    "'Transformation':'LOAD_AND_FLATTEN'}"),
               NULL, NULL, "[{'k':'a','v':'1'},{'k':'b','v':'2'}]");
  wfo_puts(&root, "b/js/1.json", "[1,2]");
  wfo_puts(&root, "b/js/2.json", "{\"no\":1}");
  assert_reader_fails(LIST("{'Bucket':'b','Prefix':'js/'}",
                           "{'InputType':'JSON',"
                           "'Transformation':'LOAD_AND_FLATTEN'}"),
                      NULL, NULL,
                      "s3://b/js/2.json: Attempting to map over non-iterable "
                      "node.");
  assert_reader_fails(GET("js/1.json", "{'InputType':'JSON',"
                                       "'Transformation':'LOAD_AND_FLATTEN'}"),
                      NULL, NULL,
                      "Transformation LOAD_AND_FLATTEN reads the objects of "
                      "an s3:listObjectsV2 listing");
}

/* ---- what fails ---- */

Test(map_reader, missing_objects_and_buckets) {
  assert_reader_fails(GET("nope.json", "{'InputType':'JSON'}"), NULL, NULL,
                      "s3://b/nope.json: The specified key does not exist.");
  assert_reader_fails("{'Resource':'arn:aws:states:::s3:getObject',"
                      "'ReaderConfig':{'InputType':'JSON'},'Parameters':{"
                      "'Bucket':'nobucket','Key':'k.json'}}",
                      NULL, NULL,
                      "s3://nobucket/k.json: The specified bucket does not "
                      "exist.");
  assert_reader_fails(LIST("{'Bucket':'nobucket'}", "{}"), NULL, NULL,
                      "s3://nobucket/: The specified bucket does not exist.");
  assert_reader_fails("{'Resource':'arn:aws:states:::s3:getObject',"
                      "'ReaderConfig':{'InputType':'JSON'},'Parameters':{"
                      "'Bucket':'b'}}",
                      NULL, NULL,
                      "s3:getObject: the argument Key must be a string");
}

/* Bucket and key come from input: none reaches outside the root. */
Test(map_reader, paths_never_leave_the_root) {
  char secret[600];
  snprintf(secret, sizeof secret, "%s-secret.json", root.path);
  FILE *f = fopen(secret, "w");
  cr_assert_not_null(f);
  fputs("[\"secret\"]", f);
  fclose(f);
  const char *name = strrchr(secret, '/') + 1;
  static const struct {
    const char *bucket, *key, *cause;
  } cases[] = {
      {"b", "../../%s", "the key has a '.' or '..' path component"},
      {"b", "a/../../%s", "the key has a '.' or '..' path component"},
      {"b", "/tmp/%s", "the key is absolute (starts with '/')"},
      {"b", "./x", "the key has a '.' or '..' path component"},
      {"b", "a//x", "the key has an empty path component"},
      {"..", "%s", "the bucket name is not valid (letters, digits, '.', '-' "
                   "and '_', not starting with '.' or '-')"},
      {"b/..", "%s", "the bucket name is not valid (letters, digits, '.', "
                     "'-' and '_', not starting with '.' or '-')"},
      {"b", "", "the key is empty"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *key = wft_strf(cases[i].key, name);
    char *input = wft_strf("{'bucket':'%s','key':'%s'}", cases[i].bucket, key);
    char *cause = wft_strf("s3://%s/%s: %s", cases[i].bucket, key,
                           cases[i].cause);
    assert_reader_fails("{'Resource':'arn:aws:states:::s3:getObject',"
                        "'ReaderConfig':{'InputType':'JSON'},'Parameters':{"
                        "'Bucket.$':'$.bucket','Key.$':'$.key'}}",
                        NULL, input, cause);
    free(key);
    free(input);
    free(cause);
  }
  /* A link inside the bucket to a file outside, and a linked directory. */
  char link[600];
  snprintf(link, sizeof link, "%s/b/escape.json", root.path);
  cr_assert_eq(symlink(secret, link), 0);
  snprintf(link, sizeof link, "%s/b/tmpdir", root.path);
  cr_assert_eq(symlink("/tmp", link), 0);
  const char *via_link =
      ": a symbolic link on the path: objects are read and written only "
      "below the object store's root, never through links";
  char *cause = wft_strf("s3://b/escape.json%s", via_link);
  assert_reader_fails(GET("escape.json", "{'InputType':'JSON'}"), NULL, NULL,
                      cause);
  free(cause);
  char *key = wft_strf("tmpdir/%s", name);
  cause = wft_strf("s3://b/%s%s", key, via_link);
  char *input = wft_strf("{'key':'%s'}", key);
  assert_reader_fails("{'Resource':'arn:aws:states:::s3:getObject',"
                      "'ReaderConfig':{'InputType':'JSON'},'Parameters':{"
                      "'Bucket':'b','Key.$':'$.key'}}",
                      NULL, input, cause);
  free(key);
  free(cause);
  free(input);
}

Test(map_reader, reader_failures_can_be_caught) {
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','ItemReader':" GET(
          "gone.json", "{'InputType':'JSON'}") "," PROCESSOR ",'Catch':[{"
      "'ErrorEquals':['States.ItemReaderFailed'],'Next':'C'}],'End':true},"
      "'C':{'Type':'Pass','End':true}}}");
  wf_execution *x = wfx_run(engine, m, "{}");
  wfx_assert_output(x, "{'Error':'States.ItemReaderFailed','Cause':"
                       "'s3://b/gone.json: The specified key does not exist.'}");
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(map_reader, jsonata_arguments) {
  wfo_puts(&root, "b/j.json", "[\"p\",\"q\"]");
  wf_machine *m = wfx_load(
      "{'QueryLanguage':'JSONata','StartAt':'M','States':{'M':{'Type':'Map',"
      "'End':true,'ItemReader':{'Resource':'arn:aws:states:::s3:getObject',"
      "'ReaderConfig':{'InputType':'JSON'},'Arguments':{'Bucket':'b',"
      "'Key':'{% $states.input.key %}'}}," PROCESSOR "}}}");
  wfx_assert_run(engine, m, "{'key':'j.json'}", "['p','q']");
  wf_machine_free(m);
  /* MaxItems as an expression is not run yet: refused, never ignored. */
  m = wfx_load(
      "{'QueryLanguage':'JSONata','StartAt':'M','States':{'M':{'Type':'Map',"
      "'End':true,'ItemReader':{'Resource':'arn:aws:states:::s3:getObject',"
      "'ReaderConfig':{'InputType':'JSON','MaxItems':'{% 1 %}'},"
      "'Arguments':{'Bucket':'b','Key':'j.json'}}," PROCESSOR "}}}");
  wf_error err;
  wft_assert_start_refused(engine, m, "{}", NULL, WF_EUNSUPPORTED, &err);
  cr_assert_str_eq(err.message,
                   "the Map state 'M' has a JSONata expression in "
                   "ItemReader.ReaderConfig.MaxItems, which this engine "
                   "cannot run yet");
  wf_machine_free(m);
}

/* ---- the engine's object store ---- */

Test(map_reader, without_an_object_store_the_machine_does_not_start) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load("{'StartAt':'Read','States':{'Read':{'Type':'Map',"
                           "'End':true,'ItemReader':" GET(
                               "x.json", "{'InputType':'JSON'}") "," PROCESSOR
                           "}}}");
  wf_error err;
  wft_assert_start_refused(e, m, "{}", NULL, WF_EUNSUPPORTED, &err);
  cr_assert_str_eq(err.message,
                   "the Map state 'Read' reads items with ItemReader or "
                   "writes results with ResultWriter (Amazon S3), and this "
                   "engine has no object store to serve them "
                   "(wf_engine_set_object_store; the gateway's "
                   "objectStore.root)");
  /* Configured, it starts; unconfigured again, it is refused again. */
  wf_object_store_options o;
  cr_assert_eq(wf_object_store_options_init(&o, WF_OBJECT_STORE_OPTIONS_VERSION),
               WF_OK);
  o.root = root.path;
  cr_assert_eq(wf_engine_set_object_store(e, &o, NULL), WF_OK);
  wf_execution *x = wft_run(e, m, "{}", NULL);
  wft_assert_failed(x, "States.ItemReaderFailed",
                    "s3://b/x.json: The specified key does not exist.");
  wf_execution_free(x);
  cr_assert_eq(wf_engine_set_object_store(e, NULL, NULL), WF_OK);
  wft_assert_start_refused(e, m, "{}", NULL, WF_EUNSUPPORTED, &err);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map_reader, set_object_store_checks_its_options) {
  wf_object_store_options o = WF_OBJECT_STORE_OPTIONS_INIT;
  wf_error err;
  char *file = wft_strf("%s/b/file", root.path);
  wfo_puts(&root, "b/file", "x");
  o.root = file;
  cr_assert_eq(wf_engine_set_object_store(engine, &o, &err), WF_EINVAL);
  char *want = wft_strf("the object store's root %s is not a directory", file);
  cr_assert_str_eq(err.message, want);
  free(want);
  free(file);
  o.version = 99;
  cr_assert_eq(wf_engine_set_object_store(engine, &o, &err), WF_EVERSION);
  cr_assert_eq(wf_object_store_options_init(&o, 99), WF_EVERSION);
}
