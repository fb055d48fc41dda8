/* JSON text in and out, the way AWS Step Functions prints it.
 *
 * Output matches what Step Functions (Jackson) writes: compact separators,
 * non-ASCII kept as UTF-8, control characters escaped, integers as integers
 * and reals in Java's Double.toString form (shortest round-trip digits, at
 * least one fractional digit, "E" notation outside [1e-3, 1e7)). */
#ifndef WF_JSON_TEXT_H
#define WF_JSON_TEXT_H

#include <jansson.h>
#include <stdbool.h>

#include "strbuf.h"
#include "workflow/common.h"

/* Append the compact serialisation of v to b. */
void wf__json_dump(wf__strbuf *b, const json_t *v);
/* Same, as a new string (free with wf__free); NULL on out-of-memory. */
char *wf__json_dumps(const json_t *v);
/* A value as AWS shows it in run-time messages: a string's characters,
 * anything else compact. New string (wf__free); NULL on out-of-memory. */
char *wf__json_shown(const json_t *v);
/* Pretty form (2-space indent, ": " separators) for people. */
void wf__json_dump_pretty(wf__strbuf *b, const json_t *v);
/* Append v's compact text as a JSON string (as an event's "input" holds
 * the input document): wf__json_dump_string of wf__json_dumps(v), in one
 * pass. */
void wf__json_dump_quoted(wf__strbuf *b, const json_t *v);
/* Append a quoted, escaped JSON string. */
void wf__json_dump_string(wf__strbuf *b, const char *s, size_t len);
/* Write a real the way Java's Double.toString does into out[32]. */
void wf__json_format_real(char out[32], double d);
/* Append null, true, false or a number as JSON (the same in Java's
 * toString); false, appending nothing, for strings and containers. */
bool wf__json_dump_scalar(wf__strbuf *b, const json_t *v);

/* Parse JSON text (any value at the top level) as json_loadb would with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL (json_parse.c), except that a NUL byte
 * outside a string is refused (jansson ends its input there). On failure returns
 * WF_EPARSE with err's message, line and column set (1-based), or
 * WF_ENOMEM; *out is then NULL. *out is a new reference. `what` names the
 * text in the message ("input", "definition"). */
int wf__json_parse(json_t **out, const char *text, size_t len,
                   const char *what, wf_error *err);

/* Whether the compact serialisation fits in `limit` bytes: returns its
 * size, or limit + 1 once it exceeds the limit. Below the limit the value
 * may be an upper bound (reals are not formatted); above it, it is exact. */
size_t wf__json_size(const json_t *v, size_t limit);

/* The parts wf__json_size adds up, for code that builds a document and
 * counts its size as it goes: a string's quoted, escaped length (exact);
 * an integer's digits and sign (exact); and the longest a real can be
 * (Java's form of any double, quoted "Infinity"/"NaN" included). */
extern const unsigned char wf__json_escape_extra[256];
static inline size_t wf__json_string_size(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = len + 2;
  for (size_t i = 0; i < len; i++) n += wf__json_escape_extra[p[i]];
  return n;
}
size_t wf__json_int_size(json_int_t v);
#define WF__JSON_REAL_MAX 24

#endif
