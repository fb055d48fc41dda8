/* JSONata expressions (the engine in libworkflow/expr/jsonata*.c): any
 * text is compiled, and what compiles is evaluated over a fixed document
 * with a few bound variables, on a small budget. Properties beyond "no
 * crash": a failure always names a JSONata code; compiling the same text
 * twice gives the same answer; a result is JSON that serialises. */
#include <jansson.h>
#include <string.h>

#include "fuzz_support.h"
#include "json_text.h"
#include "jsonata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *doc, *vars;

static void setup(void) {
  if (doc) return;
  doc = json_loads(
      "{\"Account\":{\"Name\":\"Firefly\",\"Order\":[{\"ID\":\"o1\","
      "\"Product\":[{\"Name\":\"Hat\",\"Price\":34.45,\"Quantity\":2},"
      "{\"Name\":\"Tie\",\"Price\":21.67,\"Quantity\":1}]}]},"
      "\"xs\":[1,2,3,[4,5],{\"a\":\"b\"}],\"s\":\"hello world\",\"n\":null}",
      0, NULL);
  vars = json_loads("{\"x\":42,\"name\":\"var\",\"list\":[3,1,2]}", 0, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  setup();
  wf__jsonata *e = NULL;
  wf__jsonata_error err;
  memset(&err, 0, sizeof err);
  int rc = wf__jsonata_compile(&e, (const char *)data, size, &err);
  if (rc != 0) {
    FZ_CHECK(e == NULL, "a failed compile returned an expression");
    FZ_CHECK(err.code[0] != '\0', "a failed compile without a code");
    /* The same text fails the same way. */
    wf__jsonata *again = NULL;
    wf__jsonata_error err2;
    memset(&err2, 0, sizeof err2);
    FZ_CHECK(wf__jsonata_compile(&again, (const char *)data, size, &err2) != 0,
             "a second compile succeeded");
    FZ_CHECK(strcmp(err.code, err2.code) == 0 && err.position == err2.position,
             "%s@%d then %s@%d", err.code, err.position, err2.code,
             err2.position);
    return 0;
  }
  /* A small budget: fuzzed loops end quickly. */
  wf__budget budget;
  wf__budget_init(&budget, 65536, 200000000u);
  budget.steps = 200000;
  wf__jsonata_bindings b = {.values = vars};
  json_t *out = NULL;
  memset(&err, 0, sizeof err);
  size_t bound = 0;
  if (wf__jsonata_eval_depth(&out, e, doc, &b, &budget, 100, &bound, &err) != 0) {
    FZ_CHECK(out == NULL, "a failed evaluation returned a value");
    FZ_CHECK(err.code[0] != '\0', "a failed evaluation without a code");
  } else if (out) {
    char *text = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
    FZ_CHECK(text != NULL, "the result does not serialise");
    free(text);
    /* The size counted while the result was made bounds its text. */
    size_t measured = wf__json_size(out, SIZE_MAX / 2);
    FZ_CHECK(bound >= measured, "size bound %zu below the text's %zu", bound,
             measured);
    json_decref(out);
  }
  wf__jsonata_free(e);
  return 0;
}
