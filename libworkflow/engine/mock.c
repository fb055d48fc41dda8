/* Step Functions Local's MockConfigFile: StateMachines -> TestCases ->
 * state -> mocked response; MockedResponses keyed by 0-based invocation
 * number ("0", "1-2") with exactly one of Return or Throw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

static bool parse_range(const char *key, long *lo, long *hi) {
  char *end;
  *lo = strtol(key, &end, 10);
  if (end == key || *lo < 0) return false;
  if (*end == '\0') {
    *hi = *lo;
    return true;
  }
  if (*end != '-') return false;
  const char *second = end + 1;
  *hi = strtol(second, &end, 10);
  return end != second && *end == '\0' && *hi >= *lo;
}

int wf__mock_validate(json_t *cfg, char *msg, size_t n) {
  if (!json_is_object(cfg))
    return snprintf(msg, n, "the mock configuration must be a JSON object"), -1;
  json_t *machines = json_object_get(cfg, "StateMachines");
  json_t *responses = json_object_get(cfg, "MockedResponses");
  if (!json_is_object(machines))
    return snprintf(msg, n, "'StateMachines' must be an object"), -1;
  if (responses && !json_is_object(responses))
    return snprintf(msg, n, "'MockedResponses' must be an object"), -1;
  const char *mname, *cname, *sname, *rname, *key;
  json_t *m, *c, *s, *r, *entry;
  json_object_foreach(machines, mname, m) {
    json_t *cases = json_object_get(m, "TestCases");
    if (!json_is_object(cases))
      return snprintf(msg, n, "StateMachines.%s.TestCases must be an object",
                      mname), -1;
    json_object_foreach(cases, cname, c) {
      if (!json_is_object(c))
        return snprintf(msg, n, "StateMachines.%s.TestCases.%s must be an "
                        "object", mname, cname), -1;
      json_object_foreach(c, sname, s) {
        if (!json_is_string(s))
          return snprintf(msg, n, "StateMachines.%s.TestCases.%s.%s must name "
                          "a mocked response", mname, cname, sname), -1;
        if (!json_object_get(responses, json_string_value(s)))
          return snprintf(msg, n, "StateMachines.%s.TestCases.%s.%s names the "
                          "unknown mocked response '%s'", mname, cname, sname,
                          json_string_value(s)), -1;
      }
    }
  }
  json_object_foreach(responses, rname, r) {
    if (!json_is_object(r))
      return snprintf(msg, n, "MockedResponses.%s must be an object", rname),
             -1;
    json_object_foreach(r, key, entry) {
      long lo, hi;
      if (!parse_range(key, &lo, &hi))
        return snprintf(msg, n, "MockedResponses.%s: '%s' is not an "
                        "invocation number or range like \"1-2\"", rname, key),
               -1;
      json_t *ret = json_object_get(entry, "Return");
      json_t *thr = json_object_get(entry, "Throw");
      if (!json_is_object(entry) || (!ret == !thr))
        return snprintf(msg, n, "MockedResponses.%s.%s must hold exactly one "
                        "of Return or Throw", rname, key), -1;
      if (thr && (!json_is_object(thr) ||
                  !json_is_string(json_object_get(thr, "Error"))))
        return snprintf(msg, n, "MockedResponses.%s.%s.Throw needs an Error "
                        "string", rname, key), -1;
    }
  }
  return 0;
}

bool wf__mock_next(wf_execution *x, const wf__state *st, bool *ok,
                   json_t **output, const char **error, const char **cause,
                   bool *missing) {
  *missing = false;
  if (!x->mock_case) return false;
  json_t *name = json_object_get(x->mock_case, st->name);
  if (!name) return false;
  json_t *resp = json_object_get(x->mock_responses, json_string_value(name));
  /* Invocation counter of this state in this execution (each retry is a
   * new invocation). */
  intptr_t calls = (intptr_t)wf__strmap_get(&x->mock_calls, st->name);
  wf__strmap_put(&x->mock_calls, st->name, (void *)(calls + 1), NULL);
  const char *key;
  json_t *entry;
  json_object_foreach(resp, key, entry) {
    long lo, hi;
    if (!parse_range(key, &lo, &hi) || calls < lo || calls > hi) continue;
    json_t *ret = json_object_get(entry, "Return");
    if (ret) {
      *ok = true;
      *output = json_incref(ret);
    } else {
      json_t *thr = json_object_get(entry, "Throw");
      *ok = false;
      *output = NULL;
      *error = json_string_value(json_object_get(thr, "Error"));
      *cause = json_string_value(json_object_get(thr, "Cause"));
    }
    return true;
  }
  *missing = true;
  return true;
}
