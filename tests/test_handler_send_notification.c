/* The SendNotification plugin (handlers/send_notification), loaded from
 * <build>/plugins through wf_engine_load_plugin() and run by the seed
 * workflow and by one-state machines: every channel and sink, recipient
 * validation, channel inference, priority routing and fan-out, real mail
 * to an SMTP server (aiosmtpd) and real webhook calls to an HTTP listener,
 * both started by the test on 127.0.0.1 (tests/support/smtp_recorder.py
 * and webhook_recorder.py), retries, timeouts, cancellation, failure
 * simulation and configuration errors. Engines run on a virtual clock, so
 * back-offs take no real time; they keep no history (events are counted by
 * a listener). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data_cases.h"
#include "engine_support.h"
#include "notify_support.h"
#include "support.h"
#include "workflow/workflow.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define SEND FN "SendNotification"
#define APNS "a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define FCM                                                              \
  "dQw4w9WgXcQ-abcdEFGH:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"           \
  "0BSm_bvE1KNqGfQWaj6bGGC0bbC1yhR3kqpFOvvMWRI6VZgS8hO7y4KpYv-MzsQ2"     \
  "kzVq0nkJ0lxZ3JqSRDAbkGp-aGM0Nxq8FaXdkr6e0qXJPzT5"
/* 2023-11-14T22:13:20.000Z, where the virtual clocks start. */
#define T0_ISO "2023-11-14T22:13:20.000Z"

static struct {
  char dir[PATH_MAX];          /* private to the test; removed at the end */
  char plugin[PATH_MAX + 64]; /* the plugin, copied into dir/plugins */
  wf_clock *clock;
  wf_engine *engine;
  wf_plugin *loaded;
  nt_server smtp, http;
  pthread_mutex_t mu;
  char *log;    /* every log line, newline-separated (mu) */
  char *events; /* "<type> <execution ARN>" lines (mu) */
} T = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void append_line(char **text, const char *a, const char *b) {
  pthread_mutex_lock(&T.mu);
  size_t have = *text ? strlen(*text) : 0;
  char *grown = realloc(*text, have + strlen(a) + strlen(b) + 3);
  if (grown) {
    sprintf(grown + have, "%s%s%s\n", a, *b ? " " : "", b);
    *text = grown;
  }
  pthread_mutex_unlock(&T.mu);
}

static void capture_log(const char *line, void *payload) {
  (void)payload;
  append_line(&T.log, line, "");
}

/* Events come to listeners whether or not the engine keeps histories;
 * these engines keep none. */
static void capture_event(const wf_event *ev, void *payload) {
  (void)payload;
  append_line(&T.events, ev->type, ev->execution_arn);
}

/* The seed's ProcessData, answered without the process_data plugin. */
static void process_data_stub(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, "{\"status\":\"SUCCESS\",\"recordsProcessed\":5,"
                     "\"batchId\":\"batch-7\"}");
}

static wf_engine *new_engine(wf_clock *clock) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = clock;
  o.log = capture_log;
  o.log_level = WF_LOG_DEBUG;
  o.history = WF_HISTORY_OFF;
  wf_engine *e = wft_engine(&o);
  cr_assert_eq(wf_engine_add_listener(e, capture_event, NULL), WF_OK);
  char plugdir[PATH_MAX + 16];
  nt_fmt(plugdir, sizeof plugdir, "%s/plugins", T.dir);
  wf_error err;
  cr_assert_eq(wf_engine_add_plugin_dir(e, plugdir, &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(wf_engine_register_handler(e, FN "ProcessData",
                                          process_data_stub, NULL,
                                          WF_HANDLER_INLINE, &err),
               WF_OK);
  return e;
}

static void setup(void) {
  nt_mkdtemp(T.dir, sizeof T.dir);
  char plugdir[PATH_MAX + 16];
  nt_fmt(plugdir, sizeof plugdir, "%s/plugins", T.dir);
  cr_assert_eq(mkdir(plugdir, 0700), 0);
  nt_fmt(T.plugin, sizeof T.plugin, "%s/send_notification.so", plugdir);
  nt_copy_file(WF_BINARY_DIR "/plugins/send_notification.so", T.plugin, 0755);
  cr_assert_eq(wf_clock_virtual_new(&T.clock, WFT_T0), WF_OK);
  T.engine = new_engine(T.clock);
}

static void teardown(void) {
  /* The engine first: it waits for handlers still talking to a server. */
  wf_engine_free(T.engine);
  wf_clock_free(T.clock);
  nt_server_stop(&T.smtp);
  nt_server_stop(&T.http);
  nt_rm_tree(T.dir);
  free(T.log);
  free(T.events);
}

TestSuite(send_notification, .init = setup, .fini = teardown, .timeout = 90);

/* ---- helpers -------------------------------------------------------------- */

static char *path_in_dir(const char *name) {
  return wft_strf("%s/%s", T.dir, name);
}

/* {"outbox": <in the test's directory>, members...}: the configuration
 * every test starts from, unless members set the outbox themselves. */
static char *config_with(const char *members) {
  if (strstr(members, "\"outbox\":")) return wft_strf("{%s}", members);
  return wft_strf("{\"outbox\":{\"path\":\"%s/outbox.jsonl\"}%s%s}", T.dir,
                  *members ? "," : "", members);
}

static wf_plugin *load_into(wf_engine *e, const char *members) {
  char *cfg = config_with(members);
  wf_plugin *p = NULL;
  wf_error err;
  int rc = wf_engine_load_plugin(&p, e, T.plugin, cfg, &err);
  cr_assert_eq(rc, WF_OK, "load: %s: %s\nconfiguration: %s",
               wf_error_name(rc), err.message, cfg);
  free(cfg);
  return p;
}

static void load(const char *members) { T.loaded = load_into(T.engine, members); }

static void reload(const char *members) {
  wf_plugin_unload(T.loaded);
  load(members);
}

static json_t *outbox_lines(void) {
  char *p = path_in_dir("outbox.jsonl");
  json_t *lines = nt_read_lines(p);
  free(p);
  return lines;
}

/* The outbox holds `n` lines. */
static void assert_outbox_lines(size_t n) {
  json_t *lines = outbox_lines();
  cr_assert_eq(json_array_size(lines), n, "%zu outbox lines, not %zu",
               json_array_size(lines), n);
  json_decref(lines);
}

/* The outbox holds one line, whose `key` is `value`. */
static void assert_one_outbox_line(const char *key, const char *value) {
  json_t *lines = outbox_lines();
  cr_assert_eq(json_array_size(lines), 1);
  cr_assert_str_eq(nt_str(json_array_get(lines, 0), key), value);
  json_decref(lines);
}

static wf_machine *machine_from(const char *path) {
  char *def = wft_read_file(path, NULL);
  cr_assert_not_null(def, "cannot read %s", path);
  wf_machine *m = wft_load(def);
  free(def);
  return m;
}

static wf_execution *run_machine(wf_engine *e, wf_machine *m,
                                 const char *input, const char *name) {
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  so.correlation_id = name;
  wf_execution *x = wft_run(e, m, input, &so);
  wf_machine_free(m);
  return x;
}

/* The seed workflow (or a variant) with this notification; the execution
 * is named `name`, which the seed passes on as correlationId. */
static wf_execution *run_seed_file(const char *file, const char *notification,
                                   const char *name) {
  char *input = wft_strf("{\"data\":{\"records\":[1,2,3,4,5]},"
                         "\"notification\":%s}", notification);
  wf_execution *x = run_machine(T.engine, machine_from(file), input, name);
  free(input);
  return x;
}

static wf_execution *run_seed(const char *notification, const char *name) {
  return run_seed_file(WF_SOURCE_DIR "/examples/workflows/seed-workflow.json",
                       notification, name);
}

/* One Task state without Retry: the handler's own answer to `input`. */
static wf_execution *run_input_on(wf_engine *e, const char *input,
                                  const char *name) {
  wf_machine *m = wft_load("{\"StartAt\":\"Notify\",\"States\":{\"Notify\":"
                           "{\"Type\":\"Task\",\"Resource\":\"" SEND "\","
                           "\"End\":true}}}");
  return run_machine(e, m, input, name);
}

static wf_execution *run_once(const char *notification, const char *name) {
  char *input = wft_strf(
      "{\"notification\":%s,\"processingResult\":{\"status\":\"SUCCESS\","
      "\"recordsProcessed\":5,\"batchId\":\"batch-7\"},"
      "\"correlationId\":\"corr-%s\"}", notification, name);
  wf_execution *x = run_input_on(T.engine, input, name);
  free(input);
  return x;
}

/* The handler's result: the seed's $.notificationResult, or the whole
 * output of a one-state run. New reference. */
static json_t *result_of(wf_execution *x) {
  wft_assert_succeeded(x, NULL);
  json_t *out = wft_parse(wf_execution_output(x));
  json_t *r = json_object_get(out, "notificationResult");
  r = json_incref(r ? r : out);
  json_decref(out);
  return r;
}

static json_t *message_at(json_t *result, size_t i) {
  json_t *m = json_array_get(json_object_get(result, "messages"), i);
  cr_assert(json_is_object(m), "no message %zu in the result", i);
  return m;
}

static void assert_failed_with(wf_execution *x, const char *error,
                               const char *cause_part) {
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED, "status %d, output %s",
               wf_execution_status(x),
               wf_execution_output(x) ? wf_execution_output(x) : "(none)");
  cr_assert_str_eq(wf_execution_error(x), error, "cause: %s",
                   wf_execution_cause(x) ? wf_execution_cause(x) : "(none)");
  const char *cause = wf_execution_cause(x);
  cr_assert(cause && strstr(cause, cause_part),
            "cause \"%s\" lacks \"%s\"", cause ? cause : "(none)", cause_part);
}

/* How many events of this type the execution had. */
static size_t count_events(wf_execution *x, const char *type) {
  char *line = wft_strf("%s %s\n", type, wf_execution_arn(x));
  size_t n = 0;
  pthread_mutex_lock(&T.mu);
  for (const char *p = T.events; p && (p = strstr(p, line)); p += strlen(line))
    n += p == T.events || p[-1] == '\n';
  pthread_mutex_unlock(&T.mu);
  free(line);
  return n;
}

/* Milliseconds since the epoch of an ISO-8601 UTC time with
 * milliseconds, as the plugin writes them. */
static int64_t iso_ms(const char *s) {
  struct tm tm = {0};
  int ms = 0;
  cr_assert_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                      &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                      &tm.tm_sec, &ms), 7, "not a time stamp: %s", s);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * 1000 + ms;
}

static bool is_message_id(const char *s) {
  regex_t re;
  cr_assert_eq(regcomp(&re, "^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab]"
                            "[0-9a-f]{3}-[0-9a-f]{12}$",
                       REG_EXTENDED | REG_NOSUB), 0);
  bool ok = regexec(&re, s, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

static void start_smtp(const char *const *extra) {
  nt_server_start(&T.smtp, T.dir, "smtp_recorder.py", "smtp", extra);
}

static void start_http(void) {
  nt_server_start(&T.http, T.dir, "webhook_recorder.py", "http", NULL);
}

/* A JSON member list sending EMAIL through the test's SMTP server. */
static char *smtp_members(const char *more) {
  return wft_strf("\"channels\":{\"EMAIL\":\"smtp\"},\"smtp\":{\"url\":"
                  "\"smtp://127.0.0.1:%d\",\"from\":\"workflow@example.org\""
                  "%s}", T.smtp.port, more);
}

#define NOTE(type, recipient, priority)                              \
  "{\"type\":\"" type "\",\"recipient\":\"" recipient "\","          \
  "\"priority\":\"" priority "\"}"

/* ---- outbox, the default sink --------------------------------------------- */

Test(send_notification, default_configuration_delivers_to_the_outbox) {
  load("");
  wf_execution *x = run_seed(NOTE("EMAIL", "ops@example.com", "NORMAL"),
                             "exec-default");
  json_t *r = result_of(x);
  cr_assert(json_is_true(json_object_get(r, "delivered")));
  cr_assert_str_eq(nt_str(r, "status"), "DELIVERED");
  cr_assert_str_eq(nt_str(r, "priority"), "NORMAL");
  cr_assert_str_eq(nt_str(r, "channel"), "EMAIL");
  cr_assert_str_eq(nt_str(r, "correlationId"), "exec-default");
  cr_assert_eq(json_integer_value(json_object_get(r, "deliveredCount")), 1);
  cr_assert_eq(json_integer_value(json_object_get(r, "failedCount")), 0);
  cr_assert_eq(json_array_size(json_object_get(r, "messages")), 1);
  json_t *m = message_at(r, 0);
  cr_assert(is_message_id(nt_str(m, "messageId")), "%s", nt_str(m, "messageId"));
  cr_assert_str_eq(nt_str(m, "channel"), "EMAIL");
  cr_assert_str_eq(nt_str(m, "recipient"), "ops@example.com");
  cr_assert_str_eq(nt_str(m, "status"), "DELIVERED");
  cr_assert_str_eq(nt_str(m, "sink"), "outbox");
  cr_assert_str_eq(nt_str(m, "timestamp"), T0_ISO);

  /* One line a person can read, with the default templates filled in. */
  json_t *lines = outbox_lines();
  cr_assert_eq(json_array_size(lines), 1);
  json_t *line = json_array_get(lines, 0);
  cr_assert_str_eq(nt_str(line, "messageId"), nt_str(m, "messageId"));
  cr_assert_str_eq(nt_str(line, "recipient"), "ops@example.com");
  cr_assert_str_eq(nt_str(line, "subject"), "Processing SUCCESS: 5 records");
  cr_assert_str_eq(nt_str(line, "message"),
                   "Data processing finished with status SUCCESS.\n"
                   "Records processed: 5.\nCorrelation id: exec-default.\n");
  cr_assert_str_eq(nt_str(line, "executionName"), "exec-default");
  cr_assert_str_eq(nt_str(line, "timestamp"), T0_ISO);

  /* The structured log carries the task's correlation id. */
  char *want = wft_strf("\"messageId\":\"%s\"", nt_str(m, "messageId"));
  bool logged = false;
  pthread_mutex_lock(&T.mu);
  char *log = strdup(T.log ? T.log : "");
  pthread_mutex_unlock(&T.mu);
  for (char *l = strtok(log, "\n"); l && !logged; l = strtok(NULL, "\n"))
    logged = strstr(l, "\"event\":\"NotificationDelivered\"") &&
             strstr(l, "\"correlationId\":\"exec-default\"") && strstr(l, want);
  cr_assert(logged, "no NotificationDelivered line with the correlation id");
  free(log);
  free(want);
  json_decref(lines);
  json_decref(r);
  wf_execution_free(x);
}

Test(send_notification, loads_without_any_configuration) {
  cr_assert_eq(chdir(T.dir), 0); /* the default outbox is ./outbox.jsonl */
  wf_error err;
  cr_assert_eq(wf_engine_load_plugin(&T.loaded, T.engine, T.plugin, NULL,
                                     &err), WF_OK, "%s", err.message);
  cr_assert_str_eq(wf_plugin_name(T.loaded), "send-notification");
  wf_execution *x = run_seed(NOTE("SMS", "+14155550100", "HIGH"), "exec-bare");
  json_t *r = result_of(x);
  cr_assert_str_eq(nt_str(message_at(r, 0), "sink"), "outbox");
  assert_one_outbox_line("channel", "SMS");
  json_decref(r);
  wf_execution_free(x);
}

/* ---- SMTP ------------------------------------------------------------------ */

Test(send_notification, email_goes_through_a_real_smtp_conversation) {
  start_smtp(NULL);
  char *members = smtp_members("");
  load(members);
  wf_execution *x = run_seed(NOTE("EMAIL", "ops@example.com", "NORMAL"),
                             "exec-smtp");
  json_t *r = result_of(x);
  json_t *m = message_at(r, 0);
  cr_assert_str_eq(nt_str(m, "sink"), "smtp");
  cr_assert_eq(json_integer_value(json_object_get(m, "statusCode")), 250);

  json_t *mail = nt_wait_lines(T.smtp.out, 1);
  cr_assert_eq(json_array_size(mail), 1);
  json_t *got = json_array_get(mail, 0);
  cr_assert_str_eq(nt_str(got, "mailFrom"), "workflow@example.org");
  cr_assert_str_eq(json_string_value(json_array_get(
                       json_object_get(got, "rcptTos"), 0)),
                   "ops@example.com");
  const char *data = nt_str(got, "data");
  char *msgid = wft_strf("Message-ID: <%s@example.org>\r\n",
                         nt_str(m, "messageId"));
  const char *expect[] = {
      "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n",
      "From: workflow@example.org\r\n",
      "To: ops@example.com\r\n",
      "Subject: Processing SUCCESS: 5 records\r\n",
      msgid,
      "X-Correlation-Id: exec-smtp\r\n",
      "X-Priority: 3\r\n",
      "Content-Type: text/plain; charset=UTF-8\r\n",
      "\r\n\r\nData processing finished with status SUCCESS.\r\n"
      "Records processed: 5.\r\nCorrelation id: exec-smtp.\r\n"};
  for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
    cr_assert(strstr(data, expect[i]), "mail lacks %s:\n%s", expect[i], data);
  assert_outbox_lines(0);
  free(msgid);
  free(members);
  json_decref(mail);
  json_decref(r);
  wf_execution_free(x);
}

Test(send_notification, smtp_authentication_and_encoded_subjects) {
  const char *auth[] = {"--auth", "notifier:s3cret", NULL};
  start_smtp(auth);
  char *members = smtp_members(",\"username\":\"notifier\","
                               "\"password\":\"s3cret\",\"tls\":\"try\"");
  load(members);
  free(members);
  wf_execution *x = run_once("{\"type\":\"EMAIL\",\"recipient\":"
                             "\"ops@example.com\",\"subject\":"
                             "\"Résumé prêt ✓\",\"message\":\"line one\\n."
                             "dot line\"}", "auth-ok");
  json_t *r = result_of(x);
  json_t *mail = nt_wait_lines(T.smtp.out, 1);
  json_t *got = json_array_get(mail, 0);
  cr_assert(json_is_true(json_object_get(got, "authenticated")));
  const char *data = nt_str(got, "data");
  /* RFC 2047 for the non-ASCII subject; the leading dot survives the
   * SMTP transparency procedure. */
  cr_assert(strstr(data, "Subject: =?UTF-8?B?UsOpc3Vtw6kgcHLDqnQg4pyT?=\r\n"),
            "%s", data);
  cr_assert(strstr(data, "\r\n\r\nline one\r\n.dot line\r\n"), "%s", data);
  json_decref(mail);
  json_decref(r);
  wf_execution_free(x);

  members = smtp_members(",\"username\":\"notifier\",\"password\":\"wrong\"");
  reload(members);
  free(members);
  x = run_once(NOTE("EMAIL", "ops@example.com", "NORMAL"), "auth-bad");
  assert_failed_with(x, "SendNotification.Rejected", "smtp");
  wf_execution_free(x);
}

Test(send_notification, smtp_refusals_are_permanent_or_transient) {
  start_smtp(NULL);
  char *members = smtp_members("");
  load(members);
  free(members);
  wf_execution *x = run_once(NOTE("EMAIL", "reject@example.com", "NORMAL"),
                             "smtp-550");
  assert_failed_with(x, "SendNotification.Rejected", "550");
  wf_execution_free(x);
  x = run_once(NOTE("EMAIL", "busy@example.com", "NORMAL"), "smtp-451");
  assert_failed_with(x, "SendNotification.DeliveryFailed", "451");
  wf_execution_free(x);
}

Test(send_notification, an_unwritable_outbox_is_a_transient_failure) {
  char *sub = path_in_dir("spool");
  cr_assert_eq(mkdir(sub, 0700), 0);
  char *members = wft_strf("\"outbox\":{\"path\":\"%s/outbox.jsonl\"}", sub);
  load(members);
  cr_assert_eq(rmdir(sub), 0); /* the directory goes away after init */
  wf_execution *x = run_once(NOTE("PUSH", APNS, "NORMAL"), "no-spool");
  assert_failed_with(x, "SendNotification.DeliveryFailed",
                     "via outbox: outbox ");
  cr_assert(strstr(wf_execution_cause(x), "open: No such file or directory"),
            "%s", wf_execution_cause(x));
  wf_execution_free(x);
  free(members);
  free(sub);
}

Test(send_notification, an_unreachable_server_is_a_transient_failure) {
  char *members = wft_strf("\"channels\":{\"EMAIL\":\"smtp\"},\"smtp\":{"
                           "\"url\":\"smtp://127.0.0.1:%d\",\"from\":"
                           "\"workflow@example.org\"}", nt_unused_port());
  load(members);
  free(members);
  wf_execution *x = run_once(NOTE("EMAIL", "ops@example.com", "NORMAL"),
                             "refused");
  assert_failed_with(x, "SendNotification.DeliveryFailed",
                     "EMAIL to ops@example.com via smtp");
  wf_execution_free(x);
}

/* ---- webhooks -------------------------------------------------------------- */

/* Webhook members for SMS and PUSH at these paths of the test's listener. */
static char *webhook_members(const char *sms_path, const char *push_path,
                             const char *more) {
  return wft_strf("\"channels\":{\"SMS\":\"webhook\",\"PUSH\":\"webhook\"},"
                  "\"webhooks\":{\"SMS\":{\"url\":\"http://127.0.0.1:%d%s\","
                  "\"headers\":{\"Authorization\":\"Bearer t0ken\"}%s},"
                  "\"PUSH\":{\"url\":\"http://127.0.0.1:%d%s\"}}",
                  T.http.port, sms_path, more, T.http.port, push_path);
}

Test(send_notification, sms_and_push_are_posted_to_their_webhooks) {
  start_http();
  char *members = webhook_members("/ok/sms", "/ok/push", "");
  load(members);
  free(members);
  wf_execution *sms = run_once(NOTE("SMS", "+14155550100", "NORMAL"), "sms");
  wf_execution *apns = run_once(NOTE("PUSH", APNS, "HIGH"), "apns");
  wf_execution *fcm = run_once(NOTE("PUSH", FCM, "NORMAL"), "fcm");
  json_t *r = result_of(sms);
  json_t *m = message_at(r, 0);
  cr_assert_str_eq(nt_str(m, "sink"), "webhook");
  cr_assert_eq(json_integer_value(json_object_get(m, "statusCode")), 200);
  json_t *reqs = nt_wait_lines(T.http.out, 3);
  cr_assert_eq(json_array_size(reqs), 3);

  json_t *q = json_array_get(reqs, 0);
  json_t *h = json_object_get(q, "headers");
  cr_assert_str_eq(nt_str(q, "path"), "/ok/sms");
  cr_assert_str_eq(nt_str(h, "Content-Type"), "application/json");
  cr_assert_str_eq(nt_str(h, "Authorization"), "Bearer t0ken");
  cr_assert_str_eq(nt_str(h, "Idempotency-Key"), nt_str(m, "messageId"));
  cr_assert_str_eq(nt_str(h, "X-Correlation-Id"), "corr-sms");
  json_t *body = wft_parse(nt_str(q, "body"));
  cr_assert_str_eq(nt_str(body, "messageId"), nt_str(m, "messageId"));
  cr_assert_str_eq(nt_str(body, "channel"), "SMS");
  cr_assert_str_eq(nt_str(body, "recipient"), "+14155550100");
  cr_assert_str_eq(nt_str(body, "priority"), "NORMAL");
  cr_assert_str_eq(nt_str(body, "correlationId"), "corr-sms");
  cr_assert_str_eq(nt_str(body, "timestamp"), T0_ISO);
  cr_assert(strstr(nt_str(body, "message"), "Records processed: 5."));

  /* HIGH on PUSH alone has nothing to fan out to. */
  json_t *ra = result_of(apns), *rf = result_of(fcm);
  cr_assert_eq(json_array_size(json_object_get(ra, "messages")), 1);
  cr_assert_str_eq(nt_str(json_array_get(reqs, 1), "path"), "/ok/push");
  json_t *pb = wft_parse(nt_str(json_array_get(reqs, 2), "body"));
  cr_assert_str_eq(nt_str(pb, "recipient"), FCM);
  cr_assert_null(json_object_get(json_object_get(json_array_get(reqs, 1),
                                                 "headers"), "Authorization"));
  json_decref(pb);
  json_decref(ra);
  json_decref(rf);
  json_decref(body);
  json_decref(reqs);
  json_decref(r);
  wf_execution_free(sms);
  wf_execution_free(apns);
  wf_execution_free(fcm);
}

Test(send_notification, a_500_then_200_is_retried_by_the_seed_workflow) {
  start_http();
  char *members = webhook_members("/flaky/1/sms", "/ok/push", "");
  load(members);
  free(members);
  wf_execution *x = run_seed(NOTE("SMS", "+14155550100", "NORMAL"),
                             "exec-flaky");
  json_t *r = result_of(x);
  json_t *m = message_at(r, 0);
  cr_assert_eq(count_events(x, "LambdaFunctionFailed"), 1);
  json_t *reqs = nt_wait_lines(T.http.out, 2);
  cr_assert_eq(json_array_size(reqs), 2);
  /* Delivered by the second attempt, at least a second (the back-off, in
   * virtual time) after the first. */
  json_t *b0 = wft_parse(nt_str(json_array_get(reqs, 0), "body"));
  json_t *b1 = wft_parse(nt_str(json_array_get(reqs, 1), "body"));
  cr_assert_str_eq(nt_str(b0, "timestamp"), T0_ISO);
  cr_assert_str_eq(nt_str(m, "timestamp"), nt_str(b1, "timestamp"));
  cr_assert_geq(iso_ms(nt_str(b1, "timestamp")), iso_ms(T0_ISO) + 1000);
  json_decref(b0);
  json_decref(b1);
  /* Both attempts carry the same id: the gateway can drop a duplicate. */
  for (size_t i = 0; i < 2; i++)
    cr_assert_str_eq(nt_str(json_object_get(json_array_get(reqs, i),
                                            "headers"), "Idempotency-Key"),
                     nt_str(m, "messageId"));
  json_decref(reqs);
  json_decref(r);
  wf_execution_free(x);
}

Test(send_notification, webhook_answers_are_classified) {
  start_http();
  char *members = wft_strf(
      "\"channels\":{\"EMAIL\":\"webhook\",\"SMS\":\"webhook\","
      "\"PUSH\":\"webhook\"},\"webhooks\":{"
      "\"EMAIL\":{\"url\":\"http://127.0.0.1:%d/status/503\"},"
      "\"SMS\":{\"url\":\"http://127.0.0.1:%d/status/400\"},"
      "\"PUSH\":{\"url\":\"http://127.0.0.1:%d/status/429\"}}",
      T.http.port, T.http.port, T.http.port);
  load(members);
  free(members);
  wf_execution *x = run_once(NOTE("SMS", "+14155550100", "NORMAL"), "h400");
  assert_failed_with(x, "SendNotification.Rejected", "HTTP 400");
  wf_execution_free(x);
  x = run_once(NOTE("PUSH", APNS, "NORMAL"), "h429");
  assert_failed_with(x, "SendNotification.DeliveryFailed", "HTTP 429");
  wf_execution_free(x);
  x = run_once(NOTE("EMAIL", "ops@example.com", "NORMAL"), "h503");
  assert_failed_with(x, "SendNotification.DeliveryFailed", "HTTP 503");
  wf_execution_free(x);
}

Test(send_notification, a_slow_webhook_times_out) {
  start_http();
  char *members = webhook_members("/slow/3000", "/ok/push",
                                  ",\"timeoutMs\":300");
  load(members);
  free(members);
  int64_t t0 = wft_mono_ms();
  wf_execution *x = run_once(NOTE("SMS", "+14155550100", "NORMAL"), "slow");
  int64_t took = wft_mono_ms() - t0;
  assert_failed_with(x, "SendNotification.DeliveryFailed",
                     "webhook: timed out (limits: connect 300 ms, total "
                     "300 ms): ");
  cr_assert_lt(took, 2500, "the timeout did not cut the call short: %lld ms",
               (long long)took);
  wf_execution_free(x);
}

Test(send_notification, stopping_an_execution_abandons_its_delivery) {
  start_http();
  char *members = webhook_members("/slow/8000", "/ok/push",
                                  ",\"timeoutMs\":30000");
  load(members);
  free(members);
  wf_machine *m = wft_load("{\"StartAt\":\"N\",\"States\":{\"N\":{\"Type\":"
                           "\"Task\",\"Resource\":\"" SEND "\",\"End\":true}}}");
  wf_execution *x = wft_start(T.engine, m, "{\"notification\":" NOTE(
                                  "SMS", "+14155550100", "NORMAL") "}", NULL);
  json_t *reqs = nt_wait_lines(T.http.out, 1);
  cr_assert_eq(json_array_size(reqs), 1, "the webhook was not called");
  json_decref(reqs);
  int64_t t0 = wft_mono_ms();
  cr_assert_eq(wf_execution_stop(x, "Stopped", "by the test"), WF_OK);
  /* Freeing the engine waits for the handler: it returns once libcurl sees
   * the task cancelled, long before the listener would answer. */
  wf_engine_free(T.engine);
  T.engine = NULL;
  int64_t took = wft_mono_ms() - t0;
  cr_assert_lt(took, 4000, "the handler kept waiting: %lld ms", (long long)took);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);
  wf_execution_free(x);
  wf_machine_free(m);
}

/* ---- recipients and input ---------------------------------------------------- */

Test(send_notification, invalid_recipients_fail_before_anything_is_sent) {
  load("");
  static const struct {
    const char *type, *recipient, *cause;
  } cases[] = {
      {"EMAIL", "not-an-address", "EMAIL recipient \"not-an-address\" is not "
                                  "an email address"},
      {"EMAIL", "ops@localhost", "\"ops@localhost\""},
      {"EMAIL", "a..b@example.com", "\"a..b@example.com\""},
      {"EMAIL", "ops@example.com\\n", "EMAIL recipient"},
      {"EMAIL", "ops@-example.com", "\"ops@-example.com\""},
      {"SMS", "4155550100", "SMS recipient \"4155550100\" is not an E.164 "
                            "phone number (+ and 8 to 15 digits)"},
      {"SMS", "+0155550100", "\"+0155550100\""},
      {"SMS", "+1 415 555 0100", "\"+1 415 555 0100\""},
      {"SMS", "+1234567", "\"+1234567\""},
      {"SMS", "+1234567890123456", "\"+1234567890123456\""},
      {"PUSH", "abc123", "PUSH recipient \"abc123\" is not a device token"},
      {"PUSH", APNS "0", "PUSH recipient"},
      {"PUSH", "zz" APNS, "PUSH recipient"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *note = wft_strf("{\"type\":\"%s\",\"recipient\":\"%s\"}",
                          cases[i].type, cases[i].recipient);
    char *name = wft_strf("bad-%zu", i);
    wf_execution *x = run_once(note, name);
    assert_failed_with(x, "SendNotification.InvalidRecipient", cases[i].cause);
    wf_execution_free(x);
    free(note);
    free(name);
  }
  /* A bad recipient among fan-out targets stops all of them. */
  wf_execution *x = run_once(
      "{\"type\":\"EMAIL\",\"recipient\":\"ops@example.com\",\"priority\":"
      "\"HIGH\",\"recipients\":{\"SMS\":\"+14155550100\",\"PUSH\":\"nope\"}}",
      "bad-fanout");
  assert_failed_with(x, "SendNotification.InvalidRecipient",
                     "PUSH recipient \"nope\"");
  wf_execution_free(x);
  assert_outbox_lines(0);
}

Test(send_notification, every_recipient_form_is_accepted) {
  load("");
  static const char *const cases[][2] = {
      {"EMAIL", "first.last+tag@mail.example.co.uk"},
      {"EMAIL", "o'brien@example.ie"},
      {"EMAIL", "ops@[192.0.2.1]"},
      {"SMS", "+14155550100"},
      {"SMS", "+442071838750"},
      {"SMS", "+861234567890123"},
      {"PUSH", APNS},
      {"PUSH", FCM},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *note = wft_strf("{\"type\":\"%s\",\"recipient\":\"%s\"}",
                          cases[i][0], cases[i][1]);
    char *name = wft_strf("good-%zu", i);
    wf_execution *x = run_once(note, name);
    json_t *r = result_of(x);
    cr_assert_str_eq(nt_str(message_at(r, 0), "recipient"), cases[i][1]);
    json_decref(r);
    wf_execution_free(x);
    free(note);
    free(name);
  }
}

Test(send_notification, the_channel_is_inferred_from_the_recipient) {
  load("");
  static const char *const cases[][2] = {
      {"{\"recipient\":\"ops@example.com\"}", "EMAIL"},
      {"{\"recipient\":\"+14155550100\"}", "SMS"},
      {"{\"recipient\":\"" APNS "\"}", "PUSH"},
      {"{\"recipients\":{\"PUSH\":\"" FCM "\"}}", "PUSH"},
      {"{\"type\":\"sms\",\"recipients\":{\"SMS\":\"+14155550100\"}}", "SMS"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *name = wft_strf("infer-%zu", i);
    wf_execution *x = run_once(cases[i][0], name);
    json_t *r = result_of(x);
    cr_assert_str_eq(nt_str(r, "channel"), cases[i][1], "for %s",
                     cases[i][0]);
    cr_assert_str_eq(nt_str(r, "priority"), "NORMAL");
    json_decref(r);
    wf_execution_free(x);
    free(name);
  }
  wf_execution *x = run_once("{\"recipient\":\"hello\"}", "infer-none");
  assert_failed_with(x, "SendNotification.InvalidRecipient",
                     "recipient \"hello\" fits no channel");
  wf_execution_free(x);
}

Test(send_notification, malformed_input_is_named) {
  load("");
  static const char *const cases[][2] = {
      {"{\"correlationId\":\"c\"}", "no notification object"},
      {"{\"notification\":[1]}", "no notification object"},
      {"{\"notification\":{\"type\":\"FAX\",\"recipient\":\"x\"}}",
       "notification.type must be EMAIL, SMS or PUSH"},
      {"{\"notification\":{\"recipient\":\"ops@example.com\",\"priority\":"
       "\"URGENT\"}}", "notification.priority must be LOW, NORMAL or HIGH"},
      {"{\"notification\":{\"recipient\":42}}",
       "notification.recipient must be a string"},
      {"{\"notification\":{\"type\":\"EMAIL\"}}", "no EMAIL recipient"},
      {"{\"notification\":{}}", "the notification has no recipient"},
      {"{\"notification\":{\"recipient\":\"ops@example.com\",\"recipients\":"
       "\"x\"}}", "notification.recipients must be an object"},
      {"{\"notification\":{\"recipients\":{\"FAX\":\"1\"}}}",
       "notification.recipients.FAX: unknown channel"},
      {"{\"notification\":{\"recipient\":\"ops@example.com\",\"subject\":7}}",
       "notification.subject must be a string"},
      {"[1,2]", "the task input must be a JSON object"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *name = wft_strf("input-%zu", i);
    wf_execution *x = run_input_on(T.engine, cases[i][0], name);
    assert_failed_with(x, "SendNotification.InvalidInput", cases[i][1]);
    wf_execution_free(x);
    free(name);
  }
}

/* ---- routing ------------------------------------------------------------------ */

/* EMAIL over SMTP, SMS over a webhook, PUSH into the outbox. */
static void load_three_sinks(const char *more) {
  start_smtp(NULL);
  start_http();
  char *members = wft_strf(
      "\"channels\":{\"EMAIL\":\"smtp\",\"SMS\":\"webhook\"},"
      "\"smtp\":{\"url\":\"smtp://127.0.0.1:%d\",\"from\":"
      "\"workflow@example.org\"},\"webhooks\":{\"SMS\":{\"url\":"
      "\"http://127.0.0.1:%d/ok/sms\"}}%s",
      T.smtp.port, T.http.port, more);
  load(members);
  free(members);
}

#define EVERYONE(priority)                                             \
  "{\"type\":\"SMS\",\"recipient\":\"+14155550100\",\"priority\":\"" \
  priority "\",\"recipients\":{\"EMAIL\":\"ops@example.com\","        \
  "\"PUSH\":\"" APNS "\"}}"

Test(send_notification, high_priority_fans_out_to_every_channel) {
  load_three_sinks("");
  wf_execution *x = run_seed(EVERYONE("HIGH"), "exec-high");
  json_t *r = result_of(x);
  cr_assert_str_eq(nt_str(r, "priority"), "HIGH");
  cr_assert_str_eq(nt_str(r, "channel"), "SMS");
  cr_assert_eq(json_integer_value(json_object_get(r, "deliveredCount")), 3);
  /* The requested channel first, then the others in a fixed order. */
  static const char *const want[][3] = {{"SMS", "webhook", "+14155550100"},
                                        {"EMAIL", "smtp", "ops@example.com"},
                                        {"PUSH", "outbox", APNS}};
  for (size_t i = 0; i < 3; i++) {
    json_t *m = message_at(r, i);
    cr_assert_str_eq(nt_str(m, "channel"), want[i][0]);
    cr_assert_str_eq(nt_str(m, "sink"), want[i][1]);
    cr_assert_str_eq(nt_str(m, "recipient"), want[i][2]);
    cr_assert_str_eq(nt_str(m, "status"), "DELIVERED");
    for (size_t j = 0; j < i; j++)
      cr_assert_str_neq(nt_str(m, "messageId"),
                        nt_str(message_at(r, j), "messageId"));
  }
  json_t *mail = nt_wait_lines(T.smtp.out, 1), *reqs = nt_wait_lines(T.http.out, 1);
  json_t *lines = outbox_lines();
  cr_assert_eq(json_array_size(mail), 1);
  cr_assert(strstr(nt_str(json_array_get(mail, 0), "data"), "X-Priority: 1\r\n"));
  cr_assert_eq(json_array_size(reqs), 1);
  cr_assert_eq(json_array_size(lines), 1);
  cr_assert_str_eq(nt_str(json_array_get(lines, 0), "channel"), "PUSH");
  json_decref(mail);
  json_decref(reqs);
  json_decref(lines);
  json_decref(r);
  wf_execution_free(x);
}

Test(send_notification, normal_priority_uses_the_requested_channel_only) {
  load_three_sinks("");
  wf_execution *x = run_seed(EVERYONE("NORMAL"), "exec-normal");
  json_t *r = result_of(x);
  cr_assert_eq(json_array_size(json_object_get(r, "messages")), 1);
  cr_assert_str_eq(nt_str(message_at(r, 0), "sink"), "webhook");
  assert_outbox_lines(0);
  json_decref(r);
  wf_execution_free(x);
}

Test(send_notification, low_priority_is_kept_in_the_outbox) {
  /* SMTP points at a port where nothing listens: LOW must not go there. */
  char *members = wft_strf("\"channels\":{\"EMAIL\":\"smtp\"},\"smtp\":{"
                           "\"url\":\"smtp://127.0.0.1:%d\",\"from\":"
                           "\"workflow@example.org\"}", nt_unused_port());
  load(members);
  free(members);
  wf_execution *x = run_seed("{\"type\":\"EMAIL\",\"recipient\":"
                             "\"ops@example.com\",\"priority\":\"low\","
                             "\"recipients\":{\"SMS\":\"+14155550100\"}}",
                             "exec-low");
  json_t *r = result_of(x);
  cr_assert_str_eq(nt_str(r, "priority"), "LOW");
  cr_assert_eq(json_array_size(json_object_get(r, "messages")), 1);
  cr_assert_str_eq(nt_str(message_at(r, 0), "sink"), "outbox");
  assert_one_outbox_line("priority", "LOW");
  json_decref(r);
  wf_execution_free(x);
}

Test(send_notification, routes_are_configurable) {
  load("\"routing\":{\"NORMAL\":\"fanout\",\"HIGH\":\"requested\","
       "\"LOW\":\"requested\"}");
  wf_execution *n = run_once(EVERYONE("NORMAL"), "route-normal");
  wf_execution *h = run_once(EVERYONE("HIGH"), "route-high");
  json_t *rn = result_of(n), *rh = result_of(h);
  cr_assert_eq(json_array_size(json_object_get(rn, "messages")), 3);
  cr_assert_eq(json_array_size(json_object_get(rh, "messages")), 1);
  json_decref(rn);
  json_decref(rh);
  wf_execution_free(n);
  wf_execution_free(h);
}

Test(send_notification, a_partial_fan_out_succeeds_unless_all_are_required) {
  start_http();
  char *members = webhook_members("/status/500", "/ok/push", "");
  load(members);
  wf_execution *x = run_once("{\"type\":\"EMAIL\",\"recipient\":"
                             "\"ops@example.com\",\"priority\":\"HIGH\","
                             "\"recipients\":{\"SMS\":\"+14155550100\"}}",
                             "partial");
  json_t *r = result_of(x);
  cr_assert(json_is_true(json_object_get(r, "delivered")));
  cr_assert_str_eq(nt_str(r, "status"), "PARTIAL");
  cr_assert_eq(json_integer_value(json_object_get(r, "deliveredCount")), 1);
  cr_assert_eq(json_integer_value(json_object_get(r, "failedCount")), 1);
  json_t *failed = message_at(r, 1);
  cr_assert_str_eq(nt_str(failed, "channel"), "SMS");
  cr_assert_str_eq(nt_str(failed, "status"), "FAILED");
  cr_assert_str_eq(nt_str(failed, "error"), "SendNotification.DeliveryFailed");
  cr_assert(strstr(nt_str(failed, "cause"), "HTTP 500"));
  json_decref(r);
  wf_execution_free(x);

  char *strict = wft_strf("%s,\"routing\":{\"requireAll\":true}", members);
  reload(strict);
  x = run_once("{\"type\":\"EMAIL\",\"recipient\":\"ops@example.com\","
               "\"priority\":\"HIGH\",\"recipients\":{\"SMS\":"
               "\"+14155550100\"}}", "strict");
  assert_failed_with(x, "SendNotification.DeliveryFailed",
                     "1 of 2 messages not delivered: SMS to +14155550100 via "
                     "webhook: webhook: HTTP 500");
  wf_execution_free(x);
  free(strict);
  free(members);
}

/* ---- retries -------------------------------------------------------------------- */

Test(send_notification, the_seed_retries_transient_errors_only) {
  load("");
  /* Permanent errors (here a bad recipient) fail at the first attempt:
   * the seed's first Retry rule stops them (MaxAttempts 0)... */
  wf_execution *x = run_seed(NOTE("SMS", "12345", "NORMAL"), "exec-seed-bad");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "NotificationFailed");
  cr_assert_eq(count_events(x, "LambdaFunctionFailed"), 1);
  wf_execution_free(x);
  /* ...while transient ones are retried with back-off. */
  reload("\"failureSimulation\":{\"rate\":1,\"firstAttempts\":2,"
         "\"errors\":[\"SendNotification.DeliveryFailed\"]}");
  x = run_seed(NOTE("SMS", "+14155550100", "NORMAL"), "exec-seed-ok");
  json_t *r = result_of(x);
  cr_assert_eq(count_events(x, "LambdaFunctionFailed"), 2);
  /* Back-offs of 1 s and 2 s (virtual) before the third attempt. */
  cr_assert_geq(iso_ms(nt_str(message_at(r, 0), "timestamp")),
                iso_ms(T0_ISO) + 3000);
  json_decref(r);
  wf_execution_free(x);
}

/* ---- failure simulation --------------------------------------------------------- */

static char *simulation(int seed) {
  return wft_strf("\"failureSimulation\":{\"rate\":0.5,\"seed\":%d,"
                  "\"errors\":[\"SendNotification.SimulatedOutage\","
                  "\"SendNotification.SimulatedThrottle\"]}", seed);
}

/* The outcomes of 16 executions named sim-0..sim-15 on a new engine whose
 * plugin simulates with `seed`: '.' delivered, 'O' outage, 'T' throttle.
 * A new engine, because execution names are unique per engine. */
static void simulate(int seed, char out[17]) {
  wf_clock *clock;
  cr_assert_eq(wf_clock_virtual_new(&clock, WFT_T0), WF_OK);
  wf_engine *e = new_engine(clock);
  char *members = simulation(seed);
  load_into(e, members);
  free(members);
  char *want = wft_strf("simulated failure (rate 0.5, seed %d, attempt 0)",
                        seed);
  for (int i = 0; i < 16; i++) {
    char name[16];
    snprintf(name, sizeof name, "sim-%d", i);
    wf_execution *x = run_input_on(e, "{\"notification\":" NOTE(
        "EMAIL", "ops@example.com", "NORMAL") "}", name);
    const char *err = wf_execution_error(x);
    if (wf_execution_status(x) == WF_EXEC_SUCCEEDED)
      out[i] = '.';
    else if (err && strcmp(err, "SendNotification.SimulatedOutage") == 0)
      out[i] = 'O';
    else if (err && strcmp(err, "SendNotification.SimulatedThrottle") == 0)
      out[i] = 'T';
    else
      cr_assert_fail("unexpected error %s", err ? err : "(none)");
    if (out[i] != '.')
      cr_assert(strstr(wf_execution_cause(x), want), "%s",
                wf_execution_cause(x));
    wf_execution_free(x);
  }
  out[16] = '\0';
  free(want);
  wf_engine_free(e);
  wf_clock_free(clock);
}

Test(send_notification, failure_simulation_is_reproducible) {
  char first[17], again[17], other[17];
  simulate(42, first);
  json_t *lines = outbox_lines();
  size_t delivered = 0;
  for (const char *p = first; *p; p++) delivered += *p == '.';
  cr_assert_eq(json_array_size(lines), delivered,
               "a simulated failure still delivered");
  json_decref(lines);
  cr_assert(strchr(first, '.') && strchr(first, 'O') && strchr(first, 'T'),
            "rate 0.5 over 16 runs should give every outcome: %s", first);
  simulate(42, again);
  cr_assert_str_eq(first, again, "the same seed drew differently");
  simulate(43, other);
  cr_assert_str_neq(first, other, "another seed drew the same");
}

Test(send_notification, failure_simulation_is_off_by_default) {
  load("");
  for (int i = 0; i < 8; i++) {
    char name[16];
    snprintf(name, sizeof name, "plain-%d", i);
    wf_execution *x = run_once(NOTE("EMAIL", "ops@example.com", "NORMAL"),
                               name);
    wft_assert_succeeded(x, NULL);
    wf_execution_free(x);
  }
}

Test(send_notification, a_simulated_first_attempt_failure_is_retried) {
  load("\"failureSimulation\":{\"rate\":1,\"firstAttempts\":1}");
  wf_execution *x = run_seed(NOTE("EMAIL", "ops@example.com", "NORMAL"),
                             "exec-sim-retry");
  json_t *r = result_of(x);
  cr_assert_eq(count_events(x, "LambdaFunctionFailed"), 1);
  assert_outbox_lines(1);
  json_decref(r);
  wf_execution_free(x);
  /* Every attempt failing: the seed's Catch ends in NotificationFailed. */
  reload("\"failureSimulation\":{\"rate\":1}");
  x = run_seed(NOTE("EMAIL", "ops@example.com", "NORMAL"), "exec-sim-all");
  cr_assert_str_eq(wf_execution_error(x), "NotificationFailed");
  cr_assert_eq(count_events(x, "LambdaFunctionFailed"), 4);
  wf_execution_free(x);
}

/* ---- templates -------------------------------------------------------------------- */

Test(send_notification, templates_fill_in_the_processing_result) {
  load("\"templates\":{\"subject\":\"[{{priority}}] {{processingResult."
       "batchId}} for {{executionName}}\",\"body\":\"{{ recordsProcessed }} "
       "records via {{channel}}; missing: '{{processingResult.nothing}}'\"}");
  wf_execution *x = run_seed(NOTE("PUSH", APNS, "HIGH"), "exec-tmpl");
  wf_execution *y = run_once("{\"recipient\":\"ops@example.com\",\"subject\":"
                             "\"As given\",\"message\":\"{{status}} stays\"}",
                             "given");
  wft_assert_succeeded(x, NULL);
  wft_assert_succeeded(y, NULL);
  json_t *lines = outbox_lines();
  cr_assert_eq(json_array_size(lines), 2);
  json_t *a = json_array_get(lines, 0), *b = json_array_get(lines, 1);
  cr_assert_str_eq(nt_str(a, "subject"), "[HIGH] batch-7 for exec-tmpl");
  cr_assert_str_eq(nt_str(a, "message"), "5 records via PUSH; missing: ''");
  /* Text given in the input is used as it is. */
  cr_assert_str_eq(nt_str(b, "subject"), "As given");
  cr_assert_str_eq(nt_str(b, "message"), "{{status}} stays");
  json_decref(lines);
  wf_execution_free(x);
  wf_execution_free(y);
}

/* ---- configuration ------------------------------------------------------------------ */

#define CONFIG_CASES "send_notification/invalid_configs.json"

ParameterizedTestParameters(send_notification, bad_configurations_name_the_field) {
  WFT_CASE_PARAMS(CONFIG_CASES);
}

ParameterizedTest(int *i, send_notification, bad_configurations_name_the_field) {
  json_t *c = wft_case_at(CONFIG_CASES, *i);
  const char *name = nt_str(c, "name");
  char *config = json_dumps(json_object_get(c, "config"), JSON_ENCODE_ANY);
  wf_plugin *p = (wf_plugin *)1;
  wf_error err;
  int rc = wf_engine_load_plugin(&p, T.engine, T.plugin, config, &err);
  cr_assert_null(p, "%s: a plugin was returned", name);
  if (json_is_true(json_object_get(c, "host"))) {
    cr_assert_eq(rc, WF_EPARSE, "%s: %s", name, wf_error_name(rc));
  } else {
    cr_assert_eq(rc, WF_EABI, "%s: %s (%s)", name, wf_error_name(rc),
                 err.message);
    char *where = wft_strf("send_notification configuration %s: ",
                           nt_str(c, "path"));
    cr_assert(strstr(err.message, "init failed (WF_EINVAL)") &&
                  strstr(err.message, where),
              "%s: the message does not name %s: %s", name, where,
              err.message);
    free(where);
  }
  cr_assert(strstr(err.message, nt_str(c, "says")), "%s: \"%s\" lacks \"%s\"",
            name, err.message, nt_str(c, "says"));
  /* Nothing of the refused plugin stays: a good configuration loads. */
  wf_plugin *ok = load_into(T.engine, "");
  wf_plugin_unload(ok);
  free(config);
  json_decref(c);
}

Test(send_notification, custom_resources_and_recipient_patterns) {
  load("\"resources\":[\"" FN "Notify\",\"" FN "NotifyToo\"],"
       "\"recipientPatterns\":{\"SMS\":\"\\\\+1[0-9]{10}\"}");
  wf_execution *x = run_input_on(T.engine, "{\"notification\":"
                                 NOTE("SMS", "+442071838750", "NORMAL") "}",
                                 "uk");
  /* SendNotification itself is not registered any more. */
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_neq(wf_execution_error(x), "SendNotification.InvalidRecipient");
  wf_execution_free(x);
  static const char *const resources[] = {FN "Notify", FN "NotifyToo"};
  static const char *const numbers[][3] = {
      {"+14155550100", NULL, "us"}, {"+442071838750", "not an E.164", "uk2"}};
  for (size_t i = 0; i < 2; i++) {
    char *def = wft_strf("{\"StartAt\":\"N\",\"States\":{\"N\":{\"Type\":"
                         "\"Task\",\"Resource\":\"%s\",\"End\":true}}}",
                         resources[i]);
    char *input = wft_strf("{\"notification\":{\"type\":\"SMS\","
                           "\"recipient\":\"%s\"}}", numbers[i][0]);
    x = run_machine(T.engine, wft_load(def), input, numbers[i][2]);
    if (numbers[i][1])
      assert_failed_with(x, "SendNotification.InvalidRecipient", numbers[i][1]);
    else
      wft_assert_succeeded(x, NULL);
    wf_execution_free(x);
    free(def);
    free(input);
  }
}

/* ---- concurrency and lifetime ----------------------------------------------------------- */

Test(send_notification, concurrent_executions_write_whole_outbox_lines) {
  char *members = wft_strf("\"outbox\":{\"path\":\"%s/outbox.jsonl\","
                           "\"fsync\":true}", T.dir);
  load(members);
  free(members);
  wf_machine *m = machine_from(WF_SOURCE_DIR "/examples/workflows/"
                               "seed-workflow.json");
  enum { N = 24 };
  wf_execution *xs[N];
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "exec-par-%d", i);
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = name;
    xs[i] = wft_start(T.engine, m,
                      "{\"data\":{},\"notification\":{\"type\":\"EMAIL\","
                      "\"recipient\":\"ops@example.com\",\"priority\":\"HIGH\","
                      "\"message\":\"" "0123456789abcdef0123456789abcdef"
                      "0123456789abcdef0123456789abcdef\",\"recipients\":{"
                      "\"SMS\":\"+14155550100\",\"PUSH\":\"" APNS "\"}}}",
                      &so);
  }
  for (int i = 0; i < N; i++) {
    wft_wait(xs[i]);
    wft_assert_succeeded(xs[i], NULL);
    wf_execution_free(xs[i]);
  }
  wf_machine_free(m);
  assert_outbox_lines(3 * N); /* reading asserts one object per line */
}

/* ---- outbox rotation ------------------------------------------------------------------ */

/* Loads the plugin with an outbox of this maxBytes, keeping two old files. */
static void load_rotating(long long max_bytes) {
  char *members = wft_strf("\"outbox\":{\"path\":\"%s/outbox.jsonl\","
                           "\"maxBytes\":%lld,\"keep\":2}", T.dir, max_bytes);
  load(members);
  free(members);
}

/* The lines of outbox.jsonl (i = 0) or outbox.jsonl.i, after asserting the
 * file is within max_bytes unless it holds a single line. */
static json_t *rotated_lines(int i, long long max_bytes) {
  char *p = i ? wft_strf("%s/outbox.jsonl.%d", T.dir, i)
              : path_in_dir("outbox.jsonl");
  json_t *lines = nt_read_lines(p); /* asserts one whole object per line */
  struct stat st;
  if (stat(p, &st) == 0 && json_array_size(lines) > 1)
    cr_assert_leq(st.st_size, max_bytes, "%s has %lld bytes, above %lld", p,
                  (long long)st.st_size, max_bytes);
  free(p);
  return lines;
}

static bool rotated_exists(int i) {
  char *p = wft_strf("%s/outbox.jsonl.%d", T.dir, i);
  bool exists = access(p, F_OK) == 0;
  free(p);
  return exists;
}

/* Start n seed executions at once (named prefix-0, ...) with a HIGH
 * notification, which fans out to three channels: three outbox lines each,
 * written by the engine's worker threads at once; all must succeed. */
static void run_high_fanout(const char *prefix, int n) {
  wf_machine *m = machine_from(WF_SOURCE_DIR "/examples/workflows/"
                               "seed-workflow.json");
  wf_execution **xs = calloc((size_t)n, sizeof *xs);
  cr_assert_not_null(xs);
  for (int i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s-%d", prefix, i);
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = name;
    xs[i] = wft_start(T.engine, m,
                      "{\"data\":{},\"notification\":{\"type\":\"EMAIL\","
                      "\"recipient\":\"ops@example.com\",\"priority\":\"HIGH\","
                      "\"message\":\"rotate me\",\"recipients\":{"
                      "\"SMS\":\"+14155550100\",\"PUSH\":\"" APNS "\"}}}",
                      &so);
  }
  for (int i = 0; i < n; i++) {
    wft_wait(xs[i]);
    wft_assert_succeeded(xs[i], NULL);
    wf_execution_free(xs[i]);
  }
  free(xs);
  wf_machine_free(m);
}

Test(send_notification, concurrent_lines_rotate_the_outbox_whole) {
  /* Each line is about 300 bytes: 1500 bytes hold four or five, so the
   * 60 lines below rotate a dozen times and keep=2 drops the older files. */
  enum { MAX = 1500, N = 20 };
  load_rotating(MAX);
  run_high_fanout("exec-rot", N);
  size_t total = 0;
  for (int i = 0; i <= 2; i++) {
    json_t *lines = rotated_lines(i, MAX);
    cr_assert_gt(json_array_size(lines), 0, "file %d is empty", i);
    total += json_array_size(lines);
    json_decref(lines);
  }
  cr_assert(rotated_exists(2) && !rotated_exists(3), "keep=2 keeps two");
  /* Older files were dropped: the three kept hold fewer than were sent. */
  cr_assert_lt(total, 3 * N);
}

Test(send_notification, rotation_loses_no_line_while_within_keep) {
  /* Lines of about 300 bytes: a file of 1500 holds four or five, so the
   * twelve lines of four executions, written by several threads at once,
   * fill exactly outbox.jsonl, .1 and .2. */
  enum { MAX = 1500, N = 4 };
  load_rotating(MAX);
  run_high_fanout("exec-keep", N);
  json_t *all = json_array();
  for (int i = 2; i >= 0; i--) {
    json_t *lines = rotated_lines(i, MAX);
    json_array_extend(all, lines);
    json_decref(lines);
  }
  cr_assert(rotated_exists(2) && !rotated_exists(3));
  cr_assert_eq(json_array_size(all), 3 * N, "%zu lines, not %d",
               json_array_size(all), 3 * N);
  /* Each execution's three lines, each once. */
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "exec-keep-%d", i);
    size_t k, seen = 0;
    json_t *line;
    json_array_foreach(all, k, line)
      seen += strcmp(nt_str(line, "executionName"), name) == 0;
    cr_assert_eq(seen, 3, "%s: %zu lines", name, seen);
  }
  json_decref(all);
}

Test(send_notification, a_line_above_max_bytes_gets_a_file_of_its_own) {
  load_rotating(64);
  for (int i = 1; i <= 4; i++) {
    char name[16];
    snprintf(name, sizeof name, "big-%d", i);
    wf_execution *x = run_once(NOTE("EMAIL", "ops@example.com", "NORMAL"),
                               name);
    wft_assert_succeeded(x, NULL);
    wf_execution_free(x);
  }
  /* Newest in outbox.jsonl, the first one dropped (keep=2). */
  static const char *const expect[] = {"big-4", "big-3", "big-2"};
  for (int i = 0; i <= 2; i++) {
    json_t *lines = rotated_lines(i, 64);
    cr_assert_eq(json_array_size(lines), 1, "file %d: %zu lines", i,
                 json_array_size(lines));
    cr_assert_str_eq(nt_str(json_array_get(lines, 0), "executionName"),
                     expect[i]);
    json_decref(lines);
  }
  cr_assert(!rotated_exists(3));
}

Test(send_notification, max_bytes_zero_never_rotates) {
  load_rotating(0);
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "flat-%d", i);
    wf_execution *x = run_once(NOTE("EMAIL", "ops@example.com", "NORMAL"),
                               name);
    wft_assert_succeeded(x, NULL);
    wf_execution_free(x);
  }
  assert_outbox_lines(3);
  cr_assert(!rotated_exists(1));
}

Test(send_notification, bad_rotation_settings_name_the_field) {
  static const struct {
    const char *members, *path;
  } cases[] = {
      {"\"maxBytes\":-1", "/outbox/maxBytes"},
      {"\"maxBytes\":\"16MB\"", "/outbox/maxBytes"},
      {"\"maxBytes\":1.5", "/outbox/maxBytes"},
      {"\"maxBytes\":1099511627777", "/outbox/maxBytes"},
      {"\"keep\":-1", "/outbox/keep"},
      {"\"keep\":101", "/outbox/keep"},
      {"\"keep\":true", "/outbox/keep"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *cfg = wft_strf("{\"outbox\":{\"path\":\"%s/outbox.jsonl\",%s}}",
                         T.dir, cases[i].members);
    wf_plugin *p = (wf_plugin *)1;
    wf_error err;
    int rc = wf_engine_load_plugin(&p, T.engine, T.plugin, cfg, &err);
    cr_assert_eq(rc, WF_EABI, "%s: %s", cfg, wf_error_name(rc));
    cr_assert_null(p);
    char *where = wft_strf("send_notification configuration %s: must be an "
                           "integer from 0 to ", cases[i].path);
    cr_assert(strstr(err.message, where), "%s: %s", cfg, err.message);
    free(where);
    free(cfg);
  }
}

Test(send_notification, reloads_and_serves_two_engines_apart) {
  load("");
  wf_clock *clock2;
  cr_assert_eq(wf_clock_virtual_new(&clock2, WFT_T0), WF_OK);
  wf_engine *e2 = new_engine(clock2);
  char *other = path_in_dir("other.jsonl");
  char *cfg = wft_strf("{\"outbox\":{\"path\":\"%s\"}}", other);
  wf_plugin *p2 = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_load_plugin(&p2, e2, T.plugin, cfg, &err), WF_OK,
               "%s", err.message);
  char *input = wft_strf("{\"notification\":%s}",
                         NOTE("EMAIL", "ops@example.com", "NORMAL"));
  wf_execution *a = run_input_on(T.engine, input, "one");
  wf_execution *b = run_input_on(e2, input, "two");
  wft_assert_succeeded(a, NULL);
  wft_assert_succeeded(b, NULL);
  wf_execution_free(a);
  wf_execution_free(b);
  /* Unloading one instance leaves the other working. */
  wf_plugin_unload(T.loaded);
  load("");
  wf_plugin_unload(p2);
  a = run_input_on(T.engine, input, "three");
  wft_assert_succeeded(a, NULL);
  wf_execution_free(a);
  json_t *mine = outbox_lines(), *theirs = nt_read_lines(other);
  cr_assert_eq(json_array_size(mine), 2);
  cr_assert_eq(json_array_size(theirs), 1);
  cr_assert_str_eq(nt_str(json_array_get(theirs, 0), "executionName"), "two");
  json_decref(mine);
  json_decref(theirs);
  wf_engine_free(e2);
  wf_clock_free(clock2);
  free(input);
  free(cfg);
  free(other);
}
