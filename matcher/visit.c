/* visit.c - see visit.h. */
#include "visit.h"

void
visit_collect(void *ctx, uint32_t index)
{
	struct visit_list *l = ctx;

	if (l->n < l->cap)
		l->out[l->n] = index;
	l->n++;
}
