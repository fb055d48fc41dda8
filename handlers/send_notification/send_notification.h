/* The SendNotification plugin's private declarations: its configuration,
 * a routed request, one message and a delivery outcome, and the functions
 * the files of the plugin share (prefix sn_). Nothing here is exported. */
#ifndef SN_SEND_NOTIFICATION_H
#define SN_SEND_NOTIFICATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workflow/handler.h"

/* Error names a task fails with (README.md, "Errors"). */
#define SN_ERR_INVALID_INPUT "SendNotification.InvalidInput"
#define SN_ERR_INVALID_RECIPIENT "SendNotification.InvalidRecipient"
#define SN_ERR_DELIVERY_FAILED "SendNotification.DeliveryFailed"
#define SN_ERR_REJECTED "SendNotification.Rejected"
#define SN_ERR_SIMULATED "SendNotification.SimulatedFailure"

#define SN_DEFAULT_RESOURCE \
  "arn:aws:lambda:us-east-1:123456789012:function:SendNotification"

typedef enum sn_channel { SN_EMAIL, SN_SMS, SN_PUSH, SN_NCHANNELS } sn_channel;
typedef enum sn_priority { SN_LOW, SN_NORMAL, SN_HIGH, SN_NPRIORITIES } sn_priority;
typedef enum sn_sink { SN_SINK_OUTBOX, SN_SINK_SMTP, SN_SINK_WEBHOOK } sn_sink;

/* What a priority does with a request (README.md, "Routing"). */
typedef enum sn_route {
  SN_ROUTE_REQUESTED, /* the requested channel, through its sink */
  SN_ROUTE_FANOUT,    /* every channel the input has a recipient for */
  SN_ROUTE_OUTBOX     /* the requested channel, always into the outbox */
} sn_route;

typedef enum sn_tls { SN_TLS_NONE, SN_TLS_TRY, SN_TLS_REQUIRED } sn_tls;

typedef struct sn_outbox_config {
  char *path; /* absolute: resolved at init */
  bool fsync;
  long long max_bytes; /* rotate before passing this size; 0: never */
  int keep;            /* rotated files kept: path.1 (newest) to path.keep */
} sn_outbox_config;

typedef struct sn_smtp_config {
  char *url;  /* smtp:// or smtps:// */
  char *from; /* envelope and header sender */
  char *username, *password; /* NULL: no authentication */
  char *ca_file;             /* NULL: the system's CA store */
  sn_tls tls;
  bool verify_peer;
  long connect_timeout_ms, timeout_ms;
} sn_smtp_config;

typedef struct sn_webhook_config {
  char *url; /* NULL: no webhook for this channel */
  char **headers; /* "Name: value" lines */
  size_t nheaders;
  long connect_timeout_ms, timeout_ms;
} sn_webhook_config;

typedef struct sn_failsim {
  double rate; /* 0: off */
  uint64_t seed;
  char **errors; /* error names drawn from */
  size_t nerrors;
  unsigned int first_attempts; /* only attempts below this; 0: all */
} sn_failsim;

typedef struct sn_recipients sn_recipients; /* compiled patterns */

typedef struct sn_config {
  char **resources;
  size_t nresources;
  sn_sink sink[SN_NCHANNELS];
  sn_outbox_config outbox;
  sn_smtp_config smtp;
  sn_webhook_config webhook[SN_NCHANNELS]; /* [SN_EMAIL] unused */
  sn_route route[SN_NPRIORITIES];
  bool require_all;
  sn_failsim failsim;
  char *subject_template, *body_template;
  sn_recipients *recipients;
} sn_config;

/* One task attempt as the sinks see it: for cancellation, deadlines and
 * the engine's clock. */
typedef struct sn_call {
  const wf_host_api *host;
  wf_task *task;
  const sn_config *config;
} sn_call;

/* Where a request goes: one target per channel at most. */
typedef struct sn_target {
  sn_channel channel;
  const char *recipient; /* borrowed from the input */
  sn_sink sink;
} sn_target;

typedef struct sn_request {
  sn_priority priority;
  sn_channel primary;
  sn_target targets[SN_NCHANNELS];
  size_t ntargets;
  const char *subject, *message; /* from the input, or NULL */
  const char *correlation_id;     /* never NULL */
  json_t *processing_result;      /* borrowed; may be NULL */
} sn_request;

/* One message to one recipient on one channel. */
typedef struct sn_message {
  char id[40];        /* UUID form, stable across retries */
  char timestamp[32]; /* ISO-8601 UTC with milliseconds */
  int64_t time_ms;
  const sn_target *target;
  const sn_request *request;
  const char *execution_name;
  char *subject, *body; /* owned; see sn_message_fini() */
} sn_message;

typedef enum sn_outcome {
  SN_DELIVERED,
  SN_FAILED,  /* transient: worth retrying */
  SN_REJECTED /* permanent: the receiver said no */
} sn_outcome;

typedef struct sn_delivery {
  sn_outcome outcome;
  long status; /* SMTP or HTTP response code; 0 when none */
  char detail[384];
} sn_delivery;

/* One loaded configuration: the payload of its registered handlers. */
typedef struct sn_instance {
  const wf_host_api *host;
  wf_plugin *plugin;
  sn_config *config;
  struct sn_instance *next;
} sn_instance;

/* The handler (handler.c); payload is an sn_instance. */
void sn_handle(wf_task *task, void *payload);

/* --- names (names.c) ----------------------------------------------------- */
const char *sn_channel_name(sn_channel c);
const char *sn_priority_name(sn_priority p);
const char *sn_sink_name(sn_sink s);
/* Case-insensitive; false when unknown. */
bool sn_channel_parse(const char *s, sn_channel *out);
bool sn_priority_parse(const char *s, sn_priority *out);
bool sn_sink_parse(const char *s, sn_sink *out);
bool sn_route_parse(const char *s, sn_route *out);
/* snprintf into a fixed buffer, for error messages (truncates). */
void sn_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- growable strings (text.c) ------------------------------------------ */
typedef struct sn_text {
  char *s;
  size_t len, cap;
  bool failed; /* an allocation failed: the text is lost */
} sn_text;
void sn_text_add(sn_text *t, const char *s, size_t n);
void sn_text_adds(sn_text *t, const char *s);
/* The text (free()), or NULL when an allocation failed; t is reset. */
char *sn_text_take(sn_text *t);
void sn_text_free(sn_text *t);

/* --- configuration (config.c, config_sinks.c, config_fields.c) ----------- */
int sn_config_load(sn_config **out, const char *json, wf_error *err);
void sn_config_free(sn_config *c);
int sn_config_sinks(sn_config *c, json_t *root, wf_error *err);
/* Fill err (code WF_EINVAL) with path and message; returns WF_EINVAL. */
int sn_config_error(wf_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reject members of obj not in the NULL-terminated list. */
int sn_field_only(json_t *obj, const char *path, const char *const *known,
                  wf_error *err);
/* Typed optional members: leave *out alone when absent. */
int sn_field_string(json_t *obj, const char *path, const char *key,
                    char **out, wf_error *err);
int sn_field_bool(json_t *obj, const char *path, const char *key, bool *out,
                  wf_error *err);
int sn_field_ms(json_t *obj, const char *path, const char *key, long *out,
                wf_error *err);
int sn_field_integer(json_t *obj, const char *path, const char *key,
                     long long min, long long max, long long *out,
                     wf_error *err);
int sn_field_object(json_t *obj, const char *path, const char *key,
                    json_t **out, wf_error *err);
/* A string or an array of strings into a new NULL-free vector. */
int sn_field_strings(json_t *obj, const char *path, const char *key,
                     char ***out, size_t *n, wf_error *err);
void sn_strings_free(char **v, size_t n);

/* --- recipients (recipients.c) ------------------------------------------- */
/* patterns: the "recipientPatterns" object or NULL (built-in patterns). */
int sn_recipients_new(sn_recipients **out, json_t *patterns, wf_error *err);
void sn_recipients_free(sn_recipients *r);
bool sn_recipient_valid(const sn_recipients *r, sn_channel c, const char *s);
/* The channel whose form s has; false when none. */
bool sn_recipient_infer(const sn_recipients *r, const char *s, sn_channel *out);
/* What a channel's recipients look like, for causes. */
const char *sn_recipient_form(sn_channel c);

/* --- routing (routing.c) ------------------------------------------------- */
/* Read the task input into req (borrowing from input). On failure returns
 * the error name and writes the cause. */
const char *sn_route_plan(const sn_config *c, json_t *input,
                          const char *fallback_correlation_id, sn_request *req,
                          char *cause, size_t cause_size);

/* --- messages (message.c, template.c) ------------------------------------ */
int sn_message_init(sn_message *m, const sn_call *call, const sn_request *req,
                    const sn_target *target);
void sn_message_fini(sn_message *m);
/* Expand {{placeholders}}; a new string (free()), NULL without memory. */
char *sn_template_render(const char *tmpl, const sn_request *req,
                         sn_channel channel, const char *execution_name);
/* NULL when every placeholder is known, else the first unknown one's name
 * written into buf. */
const char *sn_template_check(const char *tmpl, char *buf, size_t size);
/* RFC 5322 date ("Mon, 01 Jan 2024 00:00:00 +0000") of ms. */
void sn_rfc5322_date(int64_t ms, char *buf, size_t size);

/* --- sinks (sink_*.c, transfer.c) ---------------------------------------- */
void sn_outbox_deliver(const sn_call *call, const sn_message *m,
                       sn_delivery *d);
void sn_smtp_deliver(const sn_call *call, const sn_message *m,
                     sn_delivery *d);
void sn_webhook_deliver(const sn_call *call, const sn_message *m,
                        sn_delivery *d);
/* The JSON object every sink records or sends for a message: new ref. */
json_t *sn_message_json(const sn_message *m);
/* libcurl's global initialisation, once per process. */
bool sn_transfer_global_init(void);

/* --- failure simulation (failsim.c) -------------------------------------- */
/* The error name to fail this attempt with, or NULL. */
const char *sn_failsim_draw(const sn_failsim *f, const char *execution_name,
                            const char *state_name, unsigned int attempt);

#endif
