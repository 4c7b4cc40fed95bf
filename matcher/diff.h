/* diff.h - what changed between two endpoint data sets: names and
 * prefixes added and removed per category, category moves, port changes,
 * and changes of what a policy's service_areas filter or required_only
 * sees of an entry (its "scope").  The comparison only; cli/diff.c
 * prints it. */
#ifndef M365_DIFF_H
#define M365_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "endpoints.h"

/* What some sets give an entry: the highest category among them and the
 * union of the ports of the sets of that category ("" for none). */
struct diff_view {
	enum m365_category cat;         /* M365_CAT_NONE: no such set */
	char *tcp, *udp;                /* NULL when cat is NONE */
};

/* What the required sets of a service area give an entry, next to what
 * all its sets give. */
enum diff_req {
	DIFF_REQ_ALL,                   /* the same: required_only changes
	                                 * nothing here */
	DIFF_REQ_NONE,                  /* no required set lists it */
	DIFF_REQ_PART                   /* another view: diff_area.req */
};

/* One service area (compared as the matcher does: case-insensitively)
 * of the sets listing an entry. */
struct diff_area {
	char *name;                     /* as the data spells it (the first in
	                                 * byte order of its spellings) */
	struct diff_view all;           /* what all its sets give */
	bool as_entry;                  /* all is what the entry has overall */
	enum diff_req req;
	struct diff_view req_view;      /* DIFF_REQ_PART only; else empty */
};

/* The scope of an entry on one side: its overall view and its areas in
 * order of their names, case-insensitively.  A policy sees the entry as
 * the highest of the views of the areas it counts (all or, with
 * required_only, the required ones), so two scopes with the same areas,
 * flags and views give every policy the same answer. */
struct diff_scope {
	struct diff_view entry;
	struct diff_area *areas;
	size_t n;
};

/* A changed entry of the report. */
struct diff_item {
	char *text;
	bool prefix;
	enum m365_category from, to;    /* M365_CAT_NONE when absent */
	char *tcp[2], *udp[2];          /* port changes only: old, new */
	struct diff_scope *scope[2];    /* scope changes only: old, new */
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

/* Whether the two data sets match in every name, prefix, category, port
 * list and scope (set ids and order aside): whether every policy answers
 * every query the same way with both. */
bool diff_is_empty(const struct diff_report *d);

/* Whether it is a change of ports (the category stayed). */
bool diff_item_is_port_change(const struct diff_item *it);

/* Whether what a service_areas filter or required_only sees of the entry
 * changed (the category stayed; the ports may have changed too). */
bool diff_item_is_scope_change(const struct diff_item *it);

/* Whether a and b give the same category and ports. */
bool diff_view_equal(const struct diff_view *a, const struct diff_view *b);

#endif
