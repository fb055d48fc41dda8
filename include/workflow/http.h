/*
 * libworkflow: the HTTP Task (arn:aws:states:::http:invoke).
 *
 * A Task state whose Resource is arn:aws:states:::http:invoke (or its
 * long form naming a region and an account) calls an HTTP API, as AWS's
 * HTTP Task does: its arguments (Parameters in JSONPath, Arguments in
 * JSONata) give ApiEndpoint, Method, Headers, QueryParameters,
 * RequestBody, Transform and Authentication.ConnectionArn; its result is
 * {"Headers":{...},"ResponseBody":...,"StatusCode":N,"StatusText":"..."};
 * a non-2xx answer fails it with States.Http.StatusCode.NNN and a socket
 * failure or a call past 60 seconds with States.Http.Socket.
 *
 * AWS reads credentials from EventBridge connections; here a connection is
 * configured by its ARN: an API key, a user and password (basic) or OAuth
 * client credentials. Secrets are never in the configuration itself: it
 * names environment variables, read at each call (or token fetch), and no
 * secret is written to a log line, an event or an error.
 */
#ifndef WF_HTTP_H
#define WF_HTTP_H

#include "workflow/common.h"
#include "workflow/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The Resource the HTTP Task is registered for. */
#define WF_HTTP_INVOKE_RESOURCE "arn:aws:states:::http:invoke"

/** How a connection authorizes (EventBridge's AuthorizationType). */
typedef enum wf_http_auth {
  WF_HTTP_AUTH_API_KEY = 1, /**< a header carrying a key */
  WF_HTTP_AUTH_BASIC = 2,   /**< Authorization: Basic user:password */
  /** Authorization: Bearer TOKEN, the token fetched from the token
   *  endpoint with the client credentials grant (RFC 6749, 4.4) and kept
   *  until it expires. */
  WF_HTTP_AUTH_OAUTH_CLIENT_CREDENTIALS = 3
} wf_http_auth;

/** One connection. Strings are copied by wf_engine_set_http(). Its layout
 *  is that of the wf_http_options version it is given with. */
typedef struct wf_http_connection {
  /** The ARN tasks name in Authentication.ConnectionArn (required). */
  const char *arn;
  wf_http_auth auth;
  /** API_KEY: the header's name and the environment variable holding
   *  its value. */
  const char *api_key_name;
  const char *api_key_value_env;
  /** BASIC: the user, and the environment variable holding the
   *  password. */
  const char *username;
  const char *password_env;
  /** OAUTH_CLIENT_CREDENTIALS: the token endpoint (http or https; its
   *  host must pass the allowlist too), the client id, the environment
   *  variable holding the client secret, and the scopes (space-separated;
   *  NULL: none sent). */
  const char *token_endpoint;
  const char *client_id;
  const char *client_secret_env;
  const char *scope;
} wf_http_connection;

/** The hosts one state machine may call (by its name). */
typedef struct wf_http_machine_hosts {
  const char *machine;            /**< the state machine's name */
  const char *const *hosts;       /**< NULL-terminated; see allowed_hosts */
} wf_http_machine_hosts;

typedef struct wf_http_options {
  unsigned int version;
  /** Least privilege: the hosts HTTP Tasks of every machine may call, a
   *  NULL-terminated array. An entry is a host name or address
   *  ("api.example.com", "127.0.0.1", any port), a host and port
   *  ("127.0.0.1:8443"), or "*.example.com" (any name under it). NULL
   *  means any host. A call outside it fails with States.Permissions
   *  before anything is sent. Copied. */
  const char *const *allowed_hosts;
  /** Per state machine: a machine listed here may call only the hosts of
   *  its entry (and of allowed_hosts, when set). Copied. */
  const wf_http_machine_hosts *machine_hosts;
  size_t machine_hosts_count;
  /** The connections tasks may name. Copied. */
  const wf_http_connection *connections;
  size_t connections_count;
  /** Milliseconds to establish a connection; 0 means 10,000. */
  unsigned int connect_timeout_ms;
  /** Milliseconds a call may take; 0 means AWS's 60,000. A call past it
   *  fails with States.Http.Socket; a state's TimeoutSeconds shorter than
   *  it ends the call with States.Timeout. */
  unsigned int request_timeout_ms;
} wf_http_options;

#define WF_HTTP_OPTIONS_VERSION 1
#define WF_HTTP_OPTIONS_INIT {.version = WF_HTTP_OPTIONS_VERSION}

/**
 * Initialise HTTP options to their defaults (for bindings without
 * macros). @return WF_OK, WF_EINVAL, WF_EVERSION. Threads: any.
 */
WF_API int wf_http_options_init(wf_http_options *opts, unsigned int version);

/**
 * Serve arn:aws:states:::http:invoke on this engine with libcurl, or
 * replace the configuration it serves with. Calls run on the engine's
 * worker pool (never on a scheduler thread); calls in flight finish with
 * the configuration they started with. The engine stops them (they fail,
 * their results ignored) when it is freed.
 * @param opts     NULL: defaults (any host, no connections); copied.
 * @param[out] err optional; names the field at fault.
 * @return WF_OK; WF_EVERSION; WF_EINVAL (a connection without an ARN, of
 *         an unknown kind, or missing a field its kind needs; two
 *         connections with one ARN); WF_EEXIST (the program registered its
 *         own handler for the resource); WF_EINTERNAL (libcurl could not
 *         be initialised); WF_ENOMEM.
 * Threads: any but the engine's own.
 */
WF_API int wf_engine_set_http(wf_engine *engine, const wf_http_options *opts,
                              wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_HTTP_H */
