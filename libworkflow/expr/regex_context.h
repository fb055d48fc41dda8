/* PCRE2 allocating through libworkflow's allocator, for every regular
 * expression of the expression layer (JSONPath filters and StringMatches,
 * JSONata regexes): what it allocates then counts, and fails, as the rest
 * of the library does (util/alloc.h). */
#ifndef WF_REGEX_CONTEXT_H
#define WF_REGEX_CONTEXT_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

/* A general context allocating with wf__malloc and wf__free (compile and
 * match contexts made from it, and the code compiled with them, keep using
 * them); NULL short of memory. Free with pcre2_general_context_free().
 * Threads: any. */
pcre2_general_context *wf__regex_context_new(void);

#endif
