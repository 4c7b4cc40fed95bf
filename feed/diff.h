/* diff.h - what changed between two endpoint data sets, in a form an
 * admin reads in ten seconds: names and prefixes added and removed per
 * category, category moves, port changes. */
#ifndef M365_DIFF_H
#define M365_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "endpoints.h"

struct diff_report;

/* Compares old and new (neither is kept).  Returns a new report, or NULL
 * when out of memory (or beyond the loader's bounds on entries). */
struct diff_report *diff_compute(const struct m365_data *old,
    const struct m365_data *new);
void diff_free(struct diff_report *d);

/* Whether the two data sets match in every name, prefix, category and
 * port list (set ids and order aside). */
bool diff_is_empty(const struct diff_report *d);

/* Writes the report as text (nothing when empty). */
void diff_print_text(FILE *f, const struct diff_report *d);

/* Writes the report as one JSON object on one line (shape: feed/diff.c).
 * Returns 0, or -1 when out of memory (nothing written). */
int diff_print_json(FILE *f, const struct diff_report *d);

#endif
