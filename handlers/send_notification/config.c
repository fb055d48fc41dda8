/* The plugin's configuration (README.md, "Configuration"): read once at
 * init, checked field by field, then immutable and shared by every task
 * attempt on every worker thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send_notification.h"

static const char *const TOP_FIELDS[] = {
    "resources", "channels", "outbox", "smtp", "webhooks", "routing",
    "failureSimulation", "templates", "recipientPatterns", NULL};

static const char *const DEFAULT_SUBJECT =
    "Processing {{status}}: {{recordsProcessed}} records";
static const char *const DEFAULT_BODY =
    "Data processing finished with status {{status}}.\n"
    "Records processed: {{recordsProcessed}}.\n"
    "Correlation id: {{correlationId}}.\n";

/* A list left unset by the configuration gets one default value. */
static int default_strings(char ***v, size_t *n, const char *value) {
  if (*v) return WF_OK;
  if (!(*v = calloc(1, sizeof **v)) || !((*v)[0] = strdup(value)))
    return WF_ENOMEM;
  *n = 1;
  return WF_OK;
}

static int read_resources(sn_config *c, json_t *root, wf_error *err) {
  int rc = sn_field_strings(root, "", "resources", &c->resources,
                            &c->nresources, err);
  if (rc != WF_OK) return rc;
  return default_strings(&c->resources, &c->nresources, SN_DEFAULT_RESOURCE);
}

/* "channels": {"EMAIL": "smtp", "SMS": "webhook", ...}; outbox by default
 * so that a fresh plugin delivers somewhere a person can read. */
static int read_channels(sn_config *c, json_t *root, wf_error *err) {
  json_t *obj;
  int rc = sn_field_object(root, "", "channels", &obj, err);
  if (rc != WF_OK || !obj) return rc;
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    char p[WF_ERROR_PATH_MAX];
    sn_fmt(p, sizeof p, "/channels/%s", key);
    sn_channel ch;
    sn_sink sink;
    if (!sn_channel_parse(key, &ch))
      return sn_config_error(err, p, "unknown channel; expected EMAIL, SMS "
                                     "or PUSH");
    if (!json_is_string(v) || !sn_sink_parse(json_string_value(v), &sink))
      return sn_config_error(err, p, "must be \"outbox\", \"smtp\" or "
                                     "\"webhook\"");
    if (sink == SN_SINK_SMTP && ch != SN_EMAIL)
      return sn_config_error(err, p, "only EMAIL can be sent through smtp");
    c->sink[ch] = sink;
  }
  return WF_OK;
}

/* "routing": {"LOW": "outbox", "NORMAL": "requested", "HIGH": "fanout",
 * "requireAll": false}. */
static int read_routing(sn_config *c, json_t *root, wf_error *err) {
  c->route[SN_LOW] = SN_ROUTE_OUTBOX;
  c->route[SN_NORMAL] = SN_ROUTE_REQUESTED;
  c->route[SN_HIGH] = SN_ROUTE_FANOUT;
  json_t *obj;
  int rc = sn_field_object(root, "", "routing", &obj, err);
  if (rc != WF_OK || !obj) return rc;
  static const char *const known[] = {"LOW", "NORMAL", "HIGH", "requireAll",
                                      NULL};
  if ((rc = sn_field_only(obj, "/routing", known, err)) != WF_OK) return rc;
  for (int p = 0; p < SN_NPRIORITIES; p++) {
    json_t *v = json_object_get(obj, sn_priority_name((sn_priority)p));
    if (!v) continue;
    if (!json_is_string(v) ||
        !sn_route_parse(json_string_value(v), &c->route[p])) {
      char path[64];
      sn_fmt(path, sizeof path, "/routing/%s",
               sn_priority_name((sn_priority)p));
      return sn_config_error(err, path, "must be \"requested\", \"fanout\" "
                                        "or \"outbox\"");
    }
  }
  return sn_field_bool(obj, "/routing", "requireAll", &c->require_all, err);
}

/* "failureSimulation": {"rate": 0.25, "seed": 7, "errors": [...],
 * "firstAttempts": 1}. Off unless rate > 0. */
static int read_failsim(sn_config *c, json_t *root, wf_error *err) {
  sn_failsim *f = &c->failsim;
  json_t *obj;
  int rc = sn_field_object(root, "", "failureSimulation", &obj, err);
  if (rc == WF_OK && obj) {
    static const char *const known[] = {"rate", "seed", "errors",
                                        "firstAttempts", NULL};
    rc = sn_field_only(obj, "/failureSimulation", known, err);
  }
  if (rc != WF_OK) return rc;
  json_t *rate = json_object_get(obj, "rate");
  json_t *seed = json_object_get(obj, "seed");
  json_t *first = json_object_get(obj, "firstAttempts");
  if (rate && (!json_is_number(rate) || json_number_value(rate) < 0 ||
               json_number_value(rate) > 1))
    return sn_config_error(err, "/failureSimulation/rate",
                           "must be a number from 0 to 1");
  if (seed && (!json_is_integer(seed) || json_integer_value(seed) < 0))
    return sn_config_error(err, "/failureSimulation/seed",
                           "must be a non-negative integer");
  if (first && (!json_is_integer(first) || json_integer_value(first) < 0 ||
                json_integer_value(first) > 1000))
    return sn_config_error(err, "/failureSimulation/firstAttempts",
                           "must be an integer from 0 to 1000");
  f->rate = rate ? json_number_value(rate) : 0;
  f->seed = seed ? (uint64_t)json_integer_value(seed) : 0;
  f->first_attempts = first ? (unsigned int)json_integer_value(first) : 0;
  rc = sn_field_strings(obj, "/failureSimulation", "errors", &f->errors,
                        &f->nerrors, err);
  if (rc != WF_OK) return rc;
  for (size_t i = 0; i < f->nerrors; i++) {
    /* States.* names belong to the runtime (ASL, "Error names"). */
    if (strncmp(f->errors[i], "States.", 7) == 0) {
      char p[64];
      sn_fmt(p, sizeof p, "/failureSimulation/errors/%zu", i);
      return sn_config_error(err, p, "\"%s\": the States. prefix is reserved "
                             "for the runtime's errors", f->errors[i]);
    }
  }
  return default_strings(&f->errors, &f->nerrors, SN_ERR_SIMULATED);
}

static int read_template(json_t *obj, const char *key, const char *fallback,
                         char **out, wf_error *err) {
  int rc = sn_field_string(obj, "/templates", key, out, err);
  if (rc != WF_OK) return rc;
  if (!*out && !(*out = strdup(fallback))) return WF_ENOMEM;
  char name[64];
  if (sn_template_check(*out, name, sizeof name)) {
    char p[64];
    sn_fmt(p, sizeof p, "/templates/%s", key);
    return sn_config_error(err, p, "unknown placeholder {{%s}}", name);
  }
  return WF_OK;
}

static int read_templates(sn_config *c, json_t *root, wf_error *err) {
  json_t *obj;
  int rc = sn_field_object(root, "", "templates", &obj, err);
  static const char *const known[] = {"subject", "body", NULL};
  if (rc == WF_OK && obj) rc = sn_field_only(obj, "/templates", known, err);
  if (rc == WF_OK)
    rc = read_template(obj, "subject", DEFAULT_SUBJECT, &c->subject_template,
                       err);
  if (rc == WF_OK)
    rc = read_template(obj, "body", DEFAULT_BODY, &c->body_template, err);
  return rc;
}

static int read_patterns(sn_config *c, json_t *root, wf_error *err) {
  json_t *obj;
  int rc = sn_field_object(root, "", "recipientPatterns", &obj, err);
  if (rc == WF_OK) rc = sn_recipients_new(&c->recipients, obj, err);
  return rc;
}

int sn_config_load(sn_config **out, const char *json, wf_error *err) {
  *out = NULL;
  json_error_t jerr;
  json_t *root = json_loads(json ? json : "{}", JSON_REJECT_DUPLICATES, &jerr);
  if (!root || !json_is_object(root)) {
    int rc = sn_config_error(err, "", "%s",
                             root ? "must be a JSON object" : jerr.text);
    if (!root && err) {
      err->line = jerr.line;
      err->column = jerr.column;
    }
    json_decref(root);
    return rc;
  }
  sn_config *c = calloc(1, sizeof *c);
  int rc = c ? sn_field_only(root, "", TOP_FIELDS, err) : WF_ENOMEM;
  if (rc == WF_OK) rc = read_resources(c, root, err);
  if (rc == WF_OK) rc = read_channels(c, root, err);
  if (rc == WF_OK) rc = read_routing(c, root, err);
  if (rc == WF_OK) rc = read_failsim(c, root, err);
  if (rc == WF_OK) rc = read_templates(c, root, err);
  if (rc == WF_OK) rc = read_patterns(c, root, err);
  if (rc == WF_OK) rc = sn_config_sinks(c, root, err);
  json_decref(root);
  if (rc == WF_ENOMEM && err) {
    memset(err, 0, sizeof *err);
    err->code = WF_ENOMEM;
    snprintf(err->message, sizeof err->message,
             "send_notification configuration: out of memory");
  }
  if (rc != WF_OK) {
    sn_config_free(c);
    return rc;
  }
  *out = c;
  return WF_OK;
}

static void webhook_free(sn_webhook_config *w) {
  free(w->url);
  sn_strings_free(w->headers, w->nheaders);
}

void sn_config_free(sn_config *c) {
  if (!c) return;
  sn_strings_free(c->resources, c->nresources);
  free(c->outbox.path);
  free(c->smtp.url);
  free(c->smtp.from);
  free(c->smtp.username);
  free(c->smtp.password);
  free(c->smtp.ca_file);
  for (int i = 0; i < SN_NCHANNELS; i++) webhook_free(&c->webhook[i]);
  sn_strings_free(c->failsim.errors, c->failsim.nerrors);
  free(c->subject_template);
  free(c->body_template);
  sn_recipients_free(c->recipients);
  free(c);
}
