/* wf-gateway serves the HTTP Task from its configuration's http section:
 * a state machine's task calls a server in this process through a
 * connection whose API key comes from the gateway's environment, and a
 * machine's own allowedHosts keeps it from hosts it does not list. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway_support.h"
#include "http_server.h"
#include "support.h"

#define CONN "arn:aws:events:us-east-1:123456789012:connection/echo/1"
#define KEY "gateway-http-key-31"

static hts_server *srv;
static char def_dir[] = "/tmp/wft-http-XXXXXX";
static char def_path[64];

static void setup(void) {
  srv = hts_start();
  cr_assert_not_null(srv);
  cr_assert_not_null(mkdtemp(def_dir));
  snprintf(def_path, sizeof def_path, "%s/call.json", def_dir);
  FILE *f = fopen(def_path, "w");
  cr_assert_not_null(f);
  fputs("{\"StartAt\":\"Call\",\"States\":{\"Call\":{\"Type\":\"Task\","
        "\"Resource\":\"arn:aws:states:::http:invoke\",\"Parameters\":{"
        "\"ApiEndpoint.$\":\"$.url\",\"Method\":\"POST\","
        "\"RequestBody.$\":\"$.body\","
        "\"Authentication\":{\"ConnectionArn\":\"" CONN "\"}},"
        "\"ResultSelector\":{\"key.$\":\"$.ResponseBody.headers['x-api-key']\","
        "\"sent.$\":\"$.ResponseBody.body\",\"status.$\":\"$.StatusCode\"},"
        "\"End\":true}}}",
        f);
  fclose(f);
  /* wf-gateway inherits it: the file names the variable, not the key. */
  setenv("WFT_GATEWAY_HTTP_KEY", KEY, 1);
}

static void teardown(void) {
  gwt_fini();
  hts_stop(srv);
  unlink(def_path);
  rmdir(def_dir);
}

TestSuite(gateway_http_task, .init = setup, .fini = teardown, .timeout = 60);

/* Start the gateway with `machine`'s allowedHosts and run it once. */
static json_t *run_with_hosts(const char *hosts) {
  char *cfg = wft_strf(
      "stateMachines:\n"
      "  - {name: callapi, definition: %s, allowedHosts: [%s]}\n"
      "process: {stateMachine: callapi}\n"
      "log: {path: gateway.log}\n"
      "auth: {apiKeys: [{name: tests, key: " GWT_API_KEY "}]}\n"
      "http:\n"
      "  connectTimeoutMs: 2000\n"
      "  connections:\n"
      "    - {arn: \"" CONN "\", type: API_KEY, apiKeyName: x-api-key,\n"
      "       apiKeyValueEnv: WFT_GATEWAY_HTTP_KEY}\n",
      def_path, hosts);
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
  char *body = wft_strf(
      "{\"url\":\"http://127.0.0.1:%d/echo\",\"body\":{\"order\":7}}",
      hts_port(srv));
  gwt_response r = gwt_process(&gwt_srv, body);
  free(body);
  cr_assert_eq(r.status, 202, "%s", r.body);
  json_t *x = gwt_wait_execution(
      &gwt_srv, json_string_value(json_object_get(r.json, "executionId")));
  cr_assert_not_null(x);
  gwt_response_free(&r);
  return x;
}

Test(gateway_http_task, a_task_calls_through_a_configured_connection) {
  json_t *x = run_with_hosts("127.0.0.1");
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED", "%s",
                   json_string_value(json_object_get(x, "cause")));
  json_t *out = json_object_get(x, "output");
  if (json_is_string(out))
    out = json_loads(json_string_value(out), 0, NULL);
  else
    json_incref(out);
  cr_assert_str_eq(json_string_value(json_object_get(out, "key")), KEY);
  cr_assert_str_eq(json_string_value(json_object_get(out, "sent")),
                   "{\"order\":7}");
  cr_assert_eq(json_integer_value(json_object_get(out, "status")), 200);
  json_decref(out);
  json_decref(x);
  /* The file never held the key. */
  char *cfg = wft_strf("%s/gateway.yaml", gwt_srv.dir);
  char *text = wft_read_file(cfg, NULL);
  cr_assert_not_null(text);
  cr_assert_null(strstr(text, KEY));
  free(text);
  free(cfg);
  gwt_finish();
}

Test(gateway_http_task, a_machine_calls_only_its_allowed_hosts) {
  json_t *x = run_with_hosts("api.example.com");
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")), "FAILED");
  cr_assert_str_eq(json_string_value(json_object_get(x, "error")),
                   "States.Permissions");
  cr_assert(strstr(json_string_value(json_object_get(x, "cause")),
                   "'callapi' is not allowed to call the host '127.0.0.1'"));
  json_decref(x);
  gwt_finish();
}
