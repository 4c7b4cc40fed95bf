/* names.h - a table of host patterns looked up in O(length of the host).
 *
 * Exact names and every pattern whose only wildcard is one leading '*' (a
 * plain string suffix, shExpMatch semantics: "*cdn.x" matches "cdn.x") sit
 * in one trie of reversed strings, walked once from the end of the host.
 * The few patterns with a wildcard elsewhere ("autodiscover.*.x", "a?b")
 * become anchored PCRE2 regexes, JIT-compiled, each guarded by its literal
 * head and tail so the regex runs only when those already fit. */
#ifndef M365_NAMES_H
#define M365_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "visit.h"

struct name_table;

/* Builds a table over the lower-case, valid patterns[0..n) (see
 * host_pattern_check).  Returns NULL with a message in err on failure (out
 * of memory, regex compilation). The table copies what it keeps. */
struct name_table *names_new(const char *const *patterns, size_t n,
    char *err, size_t errlen);
void names_free(struct name_table *t);

/* Calls visit for every pattern matching host[0..len) (a normalised host
 * name); returns how many match.  No allocation and no bound on the number
 * of matches; the regex scratch space is owned by the table, so one table
 * is used by one thread at a time. */
size_t names_visit(const struct name_table *t, const char *host, size_t len,
    visit_fn *visit, void *ctx);

/* names_visit collecting the indices into out, up to cap of them; returns
 * how many match in all. */
size_t names_lookup(const struct name_table *t, const char *host, size_t len,
    uint32_t *out, size_t cap);

/* How many patterns needed a regex (for tests and benchmarks). */
size_t names_regex_count(const struct name_table *t);

#endif
