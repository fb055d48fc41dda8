/* A Distributed Map's ItemReader run against the engine's object store
 * (wf_engine_set_object_store): its Parameters or Arguments and
 * ReaderConfig read as AWS does, the items read by the objstore layer,
 * ItemsPath and MaxItems applied. Failures are AWS's
 * States.ItemReaderFailed, the cause naming the object and where. */
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "map_data.h"
#include "objstore.h"
#include "workflow/object_store.h"

/* ---- the engine's object store ---- */

typedef struct os_config {
  pthread_mutex_t lock; /* guards root */
  char *root;
} os_config;

static const char OS_KEY = 0; /* the attachment's key: its address */

static void *os_new(wf_engine *e) {
  (void)e;
  os_config *c = wf__calloc(1, sizeof *c);
  if (c) pthread_mutex_init(&c->lock, NULL);
  return c;
}

static void os_teardown(wf_engine *e, void *data) {
  (void)e;
  os_config *c = data;
  pthread_mutex_destroy(&c->lock);
  wf__free(c->root);
  wf__free(c);
}

int wf_object_store_options_init(wf_object_store_options *opts,
                                 unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_OBJECT_STORE_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return WF_OK;
}

int wf_engine_set_object_store(wf_engine *e,
                               const wf_object_store_options *opts,
                               wf_error *err) {
  if (!e) return wf__error_set(err, WF_EINVAL, NULL, "engine is required");
  if (opts && opts->version != WF_OBJECT_STORE_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_object_store_options version %u is not "
                         "supported (expected %u)",
                         opts->version, WF_OBJECT_STORE_OPTIONS_VERSION);
  const char *root = opts ? opts->root : NULL;
  struct stat sb;
  if (root && (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)))
    return wf__error_set(err, WF_EINVAL, "root",
                         "the object store's root %s is not a directory",
                         root);
  char *copy = root ? wf__strdup(root) : NULL;
  os_config *c = wf__engine_attachment(e, &OS_KEY, os_new, os_teardown);
  if ((root && !copy) || !c) {
    wf__free(copy);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  pthread_mutex_lock(&c->lock);
  wf__free(c->root);
  c->root = copy;
  pthread_mutex_unlock(&c->lock);
  return WF_OK;
}

char *wf__object_root(wf_engine *e) {
  os_config *c = wf__engine_attachment(e, &OS_KEY, os_new, os_teardown);
  if (!c) return NULL;
  pthread_mutex_lock(&c->lock);
  char *root = c->root ? wf__strdup(c->root) : NULL;
  pthread_mutex_unlock(&c->lock);
  return root;
}

int wf__object_store_check(wf_engine *e, const wf_machine *m, wf_error *err) {
  if (!m->object_store_state) return WF_OK;
  char *root = wf__object_root(e);
  wf__free(root);
  if (root) return WF_OK;
  return wf__error_set(err, WF_EUNSUPPORTED, NULL,
                       "the Map state '%s' reads items with ItemReader or "
                       "writes results with ResultWriter (Amazon S3), and "
                       "this engine has no object store to serve them "
                       "(wf_engine_set_object_store; the gateway's "
                       "objectStore.root)",
                       m->object_store_state);
}

/* ---- the reader's arguments ---- */

/* Parameters (JSONPath) or Arguments (JSONata) of ItemReader or
 * ResultWriter, evaluated; an object. */
int wf__map_io_arguments(json_t **out, wf__frame *f, const wf__template *t,
                         const wf__jfield *j, json_t *eff, wf__fault *fault) {
  *out = NULL;
  int rc = 0;
  if (t) {
    wf__eval_env env;
    wf__eval_env_init(&env, f, eff);
    rc = wf__template_eval(out, t, &env, fault);
  } else if (j) {
    rc = wf__ata_eval(out, f, j, fault);
  } else {
    *out = json_object();
  }
  if (rc == 0 && !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return wf__fault_set(fault, WF__QUERY_ERROR,
                         "The Arguments field must evaluate to an object");
  }
  return rc;
}

/* A ReaderConfig string field, one of `allowed` (NULL-terminated); the
 * first is the default. The index, or -1 with the fault set. */
static int choice(const json_t *rc, const char *field,
                  const char *const *allowed, wf__fault *fault) {
  json_t *v = json_object_get(rc, field);
  if (!v) return 0;
  for (int i = 0; json_is_string(v) && allowed[i]; i++)
    if (strcmp(json_string_value(v), allowed[i]) == 0) return i;
  char *text = wf__json_dumps(v);
  wf__fault_set(fault, WF__ITEM_READER_FAILED,
                "ReaderConfig.%s: %s is not a supported value", field,
                text ? text : "");
  wf__free(text);
  return -1;
}

/* MaxItems, or MaxItemsPath read from the state's input. */
static int max_items(size_t *out, wf__frame *f, const json_t *rc, json_t *eff,
                     wf__fault *fault) {
  *out = 0;
  json_t *v = json_object_get(rc, "MaxItems");
  if (json_is_integer(v)) {
    *out = (size_t)json_integer_value(v);
    return 0;
  }
  const char *path = json_string_value(json_object_get(rc, "MaxItemsPath"));
  if (!path) return 0;
  wf__jsonpath *p = NULL;
  char msg[128];
  if (wf__jsonpath_compile(&p, path, WF__JP_REFERENCE | WF__JP_ALLOW_VARIABLE,
                           msg, sizeof msg) != 0)
    return wf__fault_set(fault, "States.Runtime", "%s", msg);
  json_t *n = NULL;
  int rc_ = wf__frame_eval_path(&n, f, p, eff, NULL);
  wf__jsonpath_free(p);
  if (rc_ != 0 || !json_is_integer(n)) {
    char *text = n ? wf__json_dumps(n) : NULL;
    json_decref(n);
    wf__fault_set(fault, WF__ITEM_READER_FAILED,
                  "The MaxItemsPath field refers to value '%s' which is not "
                  "a valid integer: %s",
                  text ? text : "null", path);
    wf__free(text);
    return -1;
  }
  json_int_t value = json_integer_value(n);
  json_decref(n);
  if (value < 0)
    return wf__fault_set(fault, WF__ITEM_READER_FAILED,
                         "field MaxItems must be positive");
  *out = (size_t)value;
  return 0;
}

/* ReaderConfig into the request. */
static int reader_config(wf__os_request *q, wf__frame *f, const json_t *rc,
                         json_t *eff, wf__fault *fault) {
  static const char *const inputs[] = {"JSON", "JSONL", "CSV", "MANIFEST",
                                       NULL};
  static const char *const locations[] = {"FIRST_ROW", "GIVEN", NULL};
  static const char *const delimiters[] = {"COMMA", "PIPE", "SEMICOLON",
                                           "SPACE", "TAB", NULL};
  static const char delimiter_chars[] = ",|; \t";
  static const char *const transformations[] = {"NONE", "LOAD_AND_FLATTEN",
                                                NULL};
  int input = choice(rc, "InputType", inputs, fault);
  int location = choice(rc, "CSVHeaderLocation", locations, fault);
  int delimiter = choice(rc, "CSVDelimiter", delimiters, fault);
  int transformation = choice(rc, "Transformation", transformations, fault);
  if (input < 0 || location < 0 || delimiter < 0 || transformation < 0)
    return -1;
  q->reader.input = (wf__os_input)input;
  q->has_input_type = json_object_get(rc, "InputType") != NULL;
  q->reader.delimiter = delimiter_chars[delimiter];
  q->load_and_flatten = transformation == 1;
  if (q->load_and_flatten && !q->list)
    return wf__fault_set(fault, WF__ITEM_READER_FAILED,
                         "Transformation LOAD_AND_FLATTEN reads the objects "
                         "of an s3:listObjectsV2 listing");
  if (q->load_and_flatten && q->reader.input == WF__OS_MANIFEST)
    return wf__fault_set(fault, WF__ITEM_READER_FAILED,
                         "Transformation LOAD_AND_FLATTEN reads JSON, JSONL "
                         "or CSV objects");
  if (location == 1) {
    json_t *h = json_object_get(rc, "CSVHeaders");
    bool ok = json_is_array(h) && json_array_size(h) > 0;
    for (size_t i = 0; ok && i < json_array_size(h); i++)
      ok = json_is_string(json_array_get(h, i));
    if (!ok)
      return wf__fault_set(fault, WF__ITEM_READER_FAILED,
                           "CSVHeaderLocation GIVEN needs CSVHeaders, an "
                           "array of strings");
    q->reader.headers = h;
  }
  return max_items(&q->reader.max_items, f, rc, eff, fault);
}

/* A string argument of the S3 call, required or not. */
static int argument(const char **out, const json_t *args, const char *name,
                    bool required, const char *api, wf__fault *fault) {
  json_t *v = json_object_get(args, name);
  *out = json_string_value(v);
  if (v ? json_is_string(v) : !required) return 0;
  return wf__fault_set(fault, WF__ITEM_READER_FAILED,
                       "%s: the argument %s must be a string", api, name);
}

int wf__map_read_items(json_t **out, wf__frame *f, const wf__state *st,
                       json_t *eff, wf__fault *fault) {
  *out = NULL;
  const json_t *r = st->item_reader;
  wf__os_request q = {0};
  const char *resource = json_string_value(json_object_get(r, "Resource"));
  q.list = resource && strstr(resource, "listObjectsV2") != NULL;
  const char *api = q.list ? "s3:listObjectsV2" : "s3:getObject";
  json_t *args;
  if (wf__map_io_arguments(&args, f, st->reader_parameters,
                           st->reader_arguments, eff, fault) != 0)
    return -1;
  int rc = reader_config(&q, f, json_object_get(r, "ReaderConfig"), eff, fault);
  if (rc == 0) rc = argument(&q.bucket, args, "Bucket", true, api, fault);
  if (rc == 0)
    rc = q.list ? argument(&q.prefix, args, "Prefix", false, api, fault)
                : argument(&q.key, args, "Key", true, api, fault);
  char *root = rc == 0 ? wf__object_root(f->exec->engine) : NULL;
  if (rc == 0) {
    wf__strbuf why = WF__STRBUF_INIT;
    q.root = root;
    if (!root) wf__strbuf_puts(&why, "this engine has no object store");
    json_t *doc = NULL;
    if (!root || wf__os_read_items(&doc, &q, &why) != 0) {
      wf__fault_set(fault, WF__ITEM_READER_FAILED, "%s",
                    why.len ? wf__strbuf_cstr(&why) : "out of memory");
      rc = -1;
    } else {
      *out = doc;
    }
    wf__strbuf_free(&why);
  }
  wf__free(root);
  json_decref(args);
  if (rc != 0) return rc;
  if (st->items_path) {
    /* ItemsPath picks the items out of what was read. */
    json_t *items = NULL;
    wf__strbuf detail = WF__STRBUF_INIT;
    if (wf__frame_eval_path(&items, f, st->items_path, *out, &detail) != 0)
      rc = wf__fault_set(fault, "States.Runtime", "Invalid path '%s' : %s",
                         wf__jsonpath_text(st->items_path),
                         wf__strbuf_cstr(&detail));
    wf__strbuf_free(&detail);
    json_decref(*out);
    *out = items;
    if (rc != 0) return rc;
  }
  if (!json_is_array(*out)) {
    json_decref(*out);
    *out = NULL;
    return wf__fault_set(fault, WF__ITEM_READER_FAILED,
                         "Attempting to map over non-iterable node.");
  }
  /* What a reader read past MaxItems (a JSON array) goes. */
  size_t max = q.reader.max_items;
  while (max && json_array_size(*out) > max)
    json_array_remove(*out, json_array_size(*out) - 1);
  return 0;
}
