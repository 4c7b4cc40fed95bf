/* diff.h - what changed between two endpoint data sets: names and
 * prefixes added and removed per category, category moves, port changes.
 * The comparison only; cli/diff.c prints it. */
#ifndef M365_DIFF_H
#define M365_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "endpoints.h"

/* A changed entry of the report. */
struct diff_item {
	char *text;
	bool prefix;
	enum m365_category from, to;    /* M365_CAT_NONE when absent */
	char *tcp[2], *udp[2];          /* port changes only: old, new */
};

struct diff_report {
	struct diff_item *items;        /* in entry order */
	size_t n;
};

/* Compares old and new (neither is kept).  Returns a new report, or NULL
 * when out of memory (or beyond the loader's bounds on entries). */
struct diff_report *diff_compute(const struct m365_data *old,
    const struct m365_data *new);
void diff_free(struct diff_report *d);

/* Whether the two data sets match in every name, prefix, category and
 * port list (set ids and order aside). */
bool diff_is_empty(const struct diff_report *d);

/* Whether it is a change of ports only (the category stayed). */
bool diff_item_is_port_change(const struct diff_item *it);

#endif
