/* JSONata 2.0.6 (the version AWS Step Functions documents for
 * "QueryLanguage": "JSONata"), evaluated natively over jansson values.
 *
 * The language follows the reference implementation, jsonata-js 2.0.6: the
 * same grammar (a Pratt parser with its binding powers), the same sequence
 * semantics (sequences flatten, a singleton sequence is its one item,
 * undefined is not null), the same function library and signatures, and
 * the same error codes ("S0201", "T2001", "D3001", ...), positions and
 * message texts.
 *
 * An expression is compiled once and evaluated any number of times, by any
 * number of threads at once: the compiled tree is never written after
 * wf__jsonata_compile() returns. Everything an evaluation allocates lives in
 * an arena of its own, released when it returns.
 *
 * The ASL side (expressions inside a state's fields, $states, AWS's
 * causes) is in jsonata_field.c. */
#ifndef WF_JSONATA_H
#define WF_JSONATA_H

#include <jansson.h>
#include <stddef.h>

#include "eval.h"

typedef struct wf__jsonata wf__jsonata;

/* A failure, as jsonata-js reports it. */
typedef struct wf__jsonata_error {
  /* jsonata-js's code: "S0xxx" (syntax, at compile time), "T0410" (a
   * function's signature), "Txxxx" (type), "Dxxxx" (dynamic), "U1001"
   * (stack overflow or evaluation timeout, as jsonata-js's test harness
   * words it), or "U1002" (out of memory, ours). */
  char code[8];
  /* Character offset jsonata-js gives (-1 when it gives none). Offsets
   * count bytes of the UTF-8 text; they equal jsonata-js's UTF-16 offsets
   * for ASCII expressions. */
  int position;
  /* The token jsonata-js names ("" when none), e.g. an operator or a
   * function's name. */
  char token[64];
  /* The offending value as JSON ("" when none), e.g. "\"abc\"". */
  char value[128];
  /* The message in jsonata-js's words, e.g. "The left side of the "+"
   * operator must evaluate to a number". */
  char message[256];
} wf__jsonata_error;

/* What an evaluation sees besides the function library. */
typedef struct wf__jsonata_bindings {
  /* A JSON object, each member "name" bound as "$name" (borrowed; may be
   * NULL). */
  json_t *values;
  /* Variables found on first use (may be NULL): a "$name" that neither the
   * expression nor `values` binds is asked for by name (without '$');
   * the answer is borrowed for the evaluation, NULL when there is no such
   * variable (then the function library is looked at). Called on the
   * evaluating thread, at most once per name and evaluation when it
   * answers. */
  json_t *(*resolve)(const char *name, void *payload);
  void *payload;
  /* A record (may be NULL): "$<record>" is an object of the `nrecord`
   * members in `members` (names and values borrowed, in that order),
   * made when first looked up, without a JSON object built for it
   * ($states). It comes before `resolve`. */
  const char *record;
  const struct wf__jsonata_member {
    const char *name;
    json_t *value;
    /* Not 0: an upper bound of the value's compact text size, given for
     * a value whose numbers are as a JSONata result has them (no whole
     * reals, no integers past 2^53). A result that holds a container of
     * it unchanged then counts that bound for it rather than looking
     * into it (when the evaluation is asked for its result's size). */
    size_t size;
    /* The caller gives the value up for the result: an object the
     * result makes from it ($merge of it and others) may be it, written
     * in place, when nothing else holds it (with a size only). Only for
     * an evaluation whose result is all the caller keeps of it. */
    bool own;
  } *members;
  size_t nrecord;
  /* $now() and $millis(): milliseconds since the epoch at which the
   * evaluation happens (one value for the whole evaluation); 0 asks
   * `clock` (with `payload`) when either is first called, or without a
   * clock reads the system's real-time clock. */
  int64_t now_ms;
  int64_t (*clock)(void *payload);
  /* AWS Step Functions' function set: $partition, $range, $hash, $uuid,
   * $parse and $random with a seed added, $eval taken away. */
  bool aws;
} wf__jsonata_bindings;

/* Default nesting of evaluations before "U1001" (Stack overflow): deep
 * enough for any real expression, shallow enough for an engine thread's
 * stack. */
#define WF__JSONATA_MAX_DEPTH 500

/**
 * Compile JSONata text.
 * @param[out] out the expression; free with wf__jsonata_free(). NULL on
 *             failure.
 * @param text UTF-8, `len` bytes (need not be NUL-terminated); not retained.
 * @param[out] err optional; on failure the syntax error ("S0xxx") with its
 *             position, or "U1002" when memory ran out.
 * @return 0, or -1.
 * Threads: any.
 */
int wf__jsonata_compile(wf__jsonata **out, const char *text, size_t len,
                        wf__jsonata_error *err);
void wf__jsonata_free(wf__jsonata *e);

/**
 * Evaluate a compiled expression.
 * @param[out] out a new reference to the result, or NULL when the result is
 *             JSONata's undefined (no value). Functions in the result are
 *             dropped from objects and are null in arrays (JSON.stringify's
 *             rule); a function alone gives undefined.
 * @param e the expression (shared, read only).
 * @param input the context value `$` (borrowed); NULL means undefined.
 * @param vars optional variables.
 * @param budget optional (NULL: a default budget): each evaluation step
 *             charges it; its CPU-time bound applies.
 * @param[out] err optional; the error on failure.
 * @return 0, or -1 with err set.
 * Threads: any number at once on the same expression.
 */
int wf__jsonata_eval(json_t **out, const wf__jsonata *e, json_t *input,
                     const wf__jsonata_bindings *vars, wf__budget *budget,
                     wf__jsonata_error *err);

/* As wf__jsonata_eval, with another bound on the nesting of evaluations
 * (0: WF__JSONATA_MAX_DEPTH), and optionally (size not NULL) an upper
 * bound of the result's compact text size in bytes, as wf__json_size
 * would count it, found while the result is made (0 when undefined). */
int wf__jsonata_eval_depth(json_t **out, const wf__jsonata *e, json_t *input,
                           const wf__jsonata_bindings *vars,
                           wf__budget *budget, int max_depth, size_t *size,
                           wf__jsonata_error *err);

#endif
