/* names.h - a table of host patterns whose every lookup has a worst-case
 * bound: O(length of the host) for the trie walk, plus O(host length x
 * pattern length) for each inner-wildcard pattern it has to try.
 *
 * Every pattern is keyed by a literal suffix in one path-compressed trie of
 * reversed strings, walked once from the end of the host: an exact name by
 * itself, a pattern whose only wildcard is one leading '*' (a plain string
 * suffix, shExpMatch semantics: "*cdn.x" matches "cdn.x") by what follows
 * the '*', and a pattern with a wildcard elsewhere ("autodiscover.*.x",
 * "a?b") by its literal tail after the last wildcard.  So only the
 * inner-wildcard patterns whose tail the host ends with are tried, each by
 * a matcher that never backtracks (names.c).  How many there can be is
 * the inputs' bound: M365_DATA_MAX_GLOBS in a data file, CONFIG_MAX_GLOBS
 * in the policy.  Memory is linear in the patterns: a
 * trie node per pattern and per branch, never per character. */
#ifndef M365_NAMES_H
#define M365_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "visit.h"

struct name_table;

/* Builds a table over the lower-case, valid patterns[0..n) (see
 * host_pattern_check).  Returns NULL with a message in err on failure (out
 * of memory, a pattern longer than a host name).  The table copies the
 * patterns. */
struct name_table *names_new(const char *const *patterns, size_t n,
    char *err, size_t errlen);

/* names_new that borrows the pattern strings instead (the array itself
 * is not kept): they must stay unchanged until names_free, which does not
 * read them.  What the matcher uses: its data outlives its tables, and
 * the patterns are then held once, not twice. */
struct name_table *names_new_borrowed(const char *const *patterns, size_t n,
    char *err, size_t errlen);
void names_free(struct name_table *t);

/* Calls visit for every pattern matching host[0..len) (a normalised host
 * name); returns how many match.  No allocation, no bound on the number of
 * matches, and the table is only read: any number of threads may look up
 * in one table at once. */
size_t names_visit(const struct name_table *t, const char *host, size_t len,
    visit_fn *visit, void *ctx);

/* names_visit collecting the indices into out, up to cap of them; returns
 * how many match in all. */
size_t names_lookup(const struct name_table *t, const char *host, size_t len,
    uint32_t *out, size_t cap);

/* How many patterns have an inner wildcard, so that a lookup may have to
 * try them one by one (for tests and benchmarks). */
size_t names_glob_count(const struct name_table *t);

#endif
