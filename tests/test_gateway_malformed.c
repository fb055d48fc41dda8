/* wf-gateway end to end: a battery of malformed input — truncated and
 * invalid JSON, invalid UTF-8, deep nesting, huge bodies, wrong media
 * types, broken HTTP — each answered with a 4xx, the server healthy after
 * all of it and its log still one JSON object per line. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_support.h"
#include "support.h"

TestSuite(gateway_malformed, .fini = gwt_fini, .timeout = 60);

static void start(void) {
  char *cfg = wft_strf("%s%s%s", GWT_BASE_CONFIG, GWT_PROCESS_HELLO,
                       "limits: {maxBodyBytes: 65536, maxDepth: 16}\n"
                       "throttle: {enabled: false}\n");
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
}

static void expect_healthy(void) {
  gwt_response r = gwt_request(&gwt_srv, "GET", "/health", NULL, NULL, 0);
  cr_assert_eq(r.status, 200, "the server is still healthy");
  gwt_response_free(&r);
  r = gwt_process(&gwt_srv, "{\"still\":\"working\"}");
  cr_assert_eq(r.status, 202, "and still starts executions: %s", r.body);
  gwt_response_free(&r);
}

static char *repeat(const char *unit, size_t times, const char *tail) {
  size_t n = strlen(unit);
  char *s = malloc(n * times + strlen(tail) + 1);
  for (size_t i = 0; i < times; i++) memcpy(s + i * n, unit, n);
  strcpy(s + n * times, tail);
  return s;
}

typedef struct bad_body {
  const char *what;
  const char *body; /* NULL: built in the test */
  size_t len;       /* 0: strlen */
  long status;
} bad_body;

Test(gateway_malformed, bad_json_bodies_get_400) {
  start();
  static const bad_body cases[] = {
      {"empty", "", 0, 400},
      {"truncated object", "{\"a\":", 0, 400},
      {"truncated string", "{\"a\":\"abc", 0, 400},
      {"truncated escape", "{\"a\":\"\\u12", 0, 400},
      {"trailing garbage", "{} x", 0, 400},
      {"two documents", "{}{}", 0, 400},
      {"bare scalar", "42", 0, 400},
      {"bare string", "\"text\"", 0, 400},
      {"null", "null", 0, 400},
      {"single quotes", "{'a':1}", 0, 400},
      {"comment", "{/* x */}", 0, 400},
      {"trailing comma", "{\"a\":1,}", 0, 400},
      {"NaN", "{\"a\":NaN}", 0, 400},
      {"duplicate keys", "{\"a\":1,\"a\":2}", 0, 400},
      {"NUL escape", "{\"a\":\"\\u0000\"}", 0, 400},
      {"raw NUL byte", "{\"a\":\"x\0y\"}", 11, 400},
      {"lone surrogate", "{\"a\":\"\\ud800\"}", 0, 400},
      {"invalid UTF-8 byte", "{\"a\":\"\xff\xfe\"}", 0, 400},
      {"overlong UTF-8", "{\"a\":\"\xc0\xaf\"}", 0, 400},
      {"UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", 0, 400},
      {"truncated UTF-8", "{\"a\":\"\xe2\x82\"}", 0, 400},
      {"raw control in string", "{\"a\":\"x\ny\"}", 0, 400},
      {"UTF-16 BOM", "\xff\xfe{\0}\0", 6, 400},
      {"binary", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, 400},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *headers[] = {"Content-Type: application/json",
                             "x-api-key: " GWT_API_KEY, NULL};
    size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
    gwt_response r = gwt_request(&gwt_srv, "POST", "/process", headers,
                                 cases[i].body, len);
    cr_assert_eq(r.status, cases[i].status, "%s: %ld %s", cases[i].what,
                 r.status, r.body);
    cr_assert(json_is_object(r.json), "%s: a JSON error", cases[i].what);
    gwt_response_free(&r);
  }
  expect_healthy();
  gwt_finish();
}

Test(gateway_malformed, deep_nesting_is_refused_before_parsing) {
  start();
  char *arrays = repeat("[", 60000, "");
  char *objects = repeat("{\"a\":", 10000, "1");
  char *mixed = repeat("[{\"a\":", 9, "1");  /* depth 18 > 16 */
  char *inside = repeat("[", 30, "");         /* brackets in a string */
  char *in_string = wft_strf("{\"a\":\"%s\"}", inside);
  char *bodies[] = {arrays, objects, mixed};
  for (size_t i = 0; i < 3; i++) {
    gwt_response r = gwt_process(&gwt_srv, bodies[i]);
    cr_assert_eq(r.status, 400, "case %zu: %ld", i, r.status);
    cr_assert(strstr(r.body, "deeper than 16"), "%s", r.body);
    gwt_response_free(&r);
  }
  gwt_response r = gwt_process(&gwt_srv, in_string);
  cr_assert_eq(r.status, 202, "brackets inside strings are text: %s", r.body);
  gwt_response_free(&r);
  free(arrays);
  free(objects);
  free(mixed);
  free(inside);
  free(in_string);
  expect_healthy();
  gwt_finish();
}

Test(gateway_malformed, huge_bodies_get_413) {
  start();
  size_t n = 10u << 20;
  char *huge = malloc(n + 1);
  memset(huge, 'x', n);
  huge[n] = '\0';
  for (int chunked = 0; chunked < 2; chunked++) {
    const char *headers[] = {"Content-Type: application/json",
                             "x-api-key: " GWT_API_KEY,
                             chunked ? "Transfer-Encoding: chunked" : NULL,
                             NULL};
    gwt_response r = gwt_request(&gwt_srv, "POST", "/process", headers, huge,
                                 n);
    cr_assert_eq(r.status, 413, "chunked %d: %ld", chunked, r.status);
    gwt_response_free(&r);
  }
  /* A client waiting for "100 Continue" hears 413 instead, and sends
   * nothing; so does one announcing a length past any reason. (Written
   * on a socket: a client library that sends the body anyway may be cut
   * off mid-body when the gateway closes, and then reports no answer.) */
  char expecting[512];
  snprintf(expecting, sizeof expecting,
           "POST /process HTTP/1.1\r\nHost: x\r\n"
           "Content-Type: application/json\r\n"
           "x-api-key: " GWT_API_KEY "\r\n"
           "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n", n);
  char *heard = gwt_raw(&gwt_srv, expecting, strlen(expecting));
  cr_assert(strstr(heard, " 413 ") && !strstr(heard, "100 Continue"),
            "with Expect: %s", heard);
  free(heard);
  const char lying[] = "POST /process HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/json\r\n"
                       "x-api-key: " GWT_API_KEY "\r\n"
                       "Content-Length: 99999999999\r\n\r\n";
  char *out = gwt_raw(&gwt_srv, lying, sizeof lying - 1);
  cr_assert(strstr(out, " 413 "), "%s", out);
  free(out);
  free(huge);
  expect_healthy();
  gwt_finish();
}

Test(gateway_malformed, wrong_media_types_get_415_even_with_json_inside) {
  start();
  const char *types[] = {"text/plain", "application/x-www-form-urlencoded",
                         "application/json; charset=utf-16",
                         "application/javascript", "json", ""};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    char *ct = wft_strf("Content-Type: %s", types[i]);
    const char *headers[] = {ct, "x-api-key: " GWT_API_KEY, NULL};
    gwt_response r = gwt_request(&gwt_srv, "POST", "/process", headers,
                                 "{\"a\":1}", 7);
    cr_assert_eq(r.status, 415, "'%s': %ld", types[i], r.status);
    gwt_response_free(&r);
    free(ct);
  }
  expect_healthy();
  gwt_finish();
}

Test(gateway_malformed, broken_http_is_refused_by_the_server) {
  start();
  static const char *const raw[] = {
      "GARBAGE\r\n\r\n",
      "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
      "POST /process HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      ("POST /process HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
       "\r\nzz\r\n"),
      "GET /health HTTP/1.1\r\n\r\n", /* HTTP/1.1 without Host */
  };
  for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
    char *out = gwt_raw(&gwt_srv, raw[i], strlen(raw[i]));
    bool refused = !*out || strstr(out, " 400 ") || strstr(out, " 505 ") ||
                   strstr(out, " 413 ") || strstr(out, " 431 ");
    cr_assert(refused, "case %zu answered: %.80s", i, out);
    free(out);
  }
  /* Headers past the connection's memory are refused, not buffered. */
  char *big = repeat("X-Filler: 0123456789012345678901234567890123456789\r\n",
                     5000, "\r\n");
  char *req = wft_strf("GET /health HTTP/1.1\r\nHost: x\r\n%s", big);
  char *out = gwt_raw(&gwt_srv, req, strlen(req));
  cr_assert(!*out || strstr(out, " 431 ") || strstr(out, " 413 ") ||
                strstr(out, " 400 "),
            "%.80s", out);
  free(out);
  free(req);
  free(big);
  expect_healthy();
  gwt_finish();
}

Test(gateway_malformed, hostile_paths_and_headers_never_reach_a_log_raw) {
  start();
  const char *headers[] = {"User-Agent: evil\x1b[31m\x01\xff\"}{",
                           "x-api-key: " GWT_API_KEY, NULL};
  gwt_response r = gwt_request(&gwt_srv, "GET",
                               "/executions/%0a%7b%22forged%22%3a1%7d%ff",
                               headers, NULL, 0);
  cr_assert_eq(r.status, 404, "%ld", r.status);
  gwt_response_free(&r);
  r = gwt_request(&gwt_srv, "GET", "/%1b%5b2J%00x", headers, NULL, 0);
  cr_assert(r.status == 404 || r.status == 400, "%ld", r.status);
  gwt_response_free(&r);
  expect_healthy();
  json_t *lines = gwt_log_lines(&gwt_srv, NULL, 8);
  cr_assert(lines, "every log line is still one JSON object");
  char *text = wft_read_file(gwt_srv.log, NULL);
  cr_assert(text && !strstr(text, "\x1b") && !strstr(text, "\xff"),
            "no raw escape or invalid byte in the log");
  cr_assert(!strstr(text, "\n{\"forged\""), "no forged line");
  free(text);
  json_decref(lines);
  gwt_finish();
}

Test(gateway_malformed, too_many_headers_get_431) {
  char *cfg = wft_strf("%s%s%s", GWT_BASE_CONFIG, GWT_PROCESS_HELLO,
                       "limits: {maxHeaders: 8}\n");
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
  const char *many[] = {"X-A: 1", "X-B: 2", "X-C: 3", "X-D: 4", "X-E: 5",
                        "X-F: 6", "X-G: 7", "X-H: 8", "X-I: 9", NULL};
  gwt_response r = gwt_request(&gwt_srv, "GET", "/health", many, NULL, 0);
  cr_assert_eq(r.status, 431, "%ld", r.status);
  cr_assert_str_eq(json_string_value(json_object_get(r.json, "error")),
                   "TooManyHeaders");
  gwt_response_free(&r);
  r = gwt_request(&gwt_srv, "GET", "/health", NULL, NULL, 0);
  cr_assert_eq(r.status, 200, "a few headers are fine: %ld", r.status);
  gwt_response_free(&r);
  gwt_finish();
}

/* Framing a proxy and this server could read differently is refused as it
 * arrives, and the connection closed (what follows is not a request):
 * two Content-Length values, Content-Length beside Transfer-Encoding, a
 * header name with a space (400); a Transfer-Encoding other than chunked
 * (501, at once rather than a wait for a body it cannot delimit). */
Test(gateway_malformed, ambiguous_framing_is_refused_and_the_connection_closed) {
  start();
  static const struct {
    const char *raw, *status;
  } cases[] = {
      {"POST /process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
       "\r\nContent-Length: 2\r\nContent-Length: 44\r\n\r\n{}",
       " 400 "},
      {"POST /process HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
       "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       " 400 "},
      {"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", " 400 "},
      {"POST /process HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
       "\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n",
       " 501 "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *out = gwt_raw(&gwt_srv, cases[i].raw, strlen(cases[i].raw));
    cr_expect(strncmp(out, "HTTP/1.1", 8) == 0 && strstr(out, cases[i].status),
              "case %zu: want%sgot: %.200s", i, cases[i].status, out);
    cr_expect(strcasestr(out, "\r\nConnection: close\r\n"),
              "case %zu: the connection stays open: %.300s", i, out);
    /* Nothing after the refusal was taken for a request. */
    cr_expect(!strstr(out + 8, "HTTP/1.1 200"), "case %zu: %.300s", i, out);
    free(out);
  }
  expect_healthy();
  gwt_finish();
}
