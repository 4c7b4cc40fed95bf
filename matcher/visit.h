/* visit.h - how the lookup tables (names.h, prefix.h) report matches: a
 * callback per match, so that no bound on the number of matches is needed;
 * and a collector for callers that want them in an array. */
#ifndef M365_VISIT_H
#define M365_VISIT_H

#include <stddef.h>
#include <stdint.h>

/* Called with the input index of each match. */
typedef void visit_fn(void *ctx, uint32_t index);

/* Collects indices into out, up to cap of them; n counts all. */
struct visit_list {
	uint32_t *out;
	size_t cap, n;
};

/* A visit_fn for a struct visit_list *ctx. */
void visit_collect(void *ctx, uint32_t index);

#endif
