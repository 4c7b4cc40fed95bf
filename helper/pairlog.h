/* pairlog.h - "log each distinct disagreement once" without a log flood.
 *
 * When a connection's destination and SNI disagree (DESIGN.md §3
 * "Identity") the admin wants to hear of it in cache.log, once per
 * (destination, SNI) pair, even when a client sends thousands of them.
 * Bounded: PAIRLOG_SLOTS remembered pairs (a pair forgotten to make room
 * may be logged again later) and at most PAIRLOG_BURST lines per
 * PAIRLOG_WINDOW seconds; what the budget drops is counted and reported
 * with the next line logged. */
#ifndef M365_PAIRLOG_H
#define M365_PAIRLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define PAIRLOG_SLOTS 4096
#define PAIRLOG_BURST 20
#define PAIRLOG_WINDOW 60

struct pairlog;

/* Returns an empty pair log, or NULL when out of memory. */
struct pairlog *pairlog_new(void);
void pairlog_free(struct pairlog *pl);

/* Whether the pair a[0..alen), b[0..blen) is to be logged now (at
 * monotonic second now): false when it was logged already or the budget
 * of the window is spent.  When true, *dropped is the number of pairs the
 * budget dropped since the last line logged (report it), else 0. */
bool pairlog_admit(struct pairlog *pl, const char *a, size_t alen,
    const char *b, size_t blen, time_t now, unsigned long *dropped);

#endif
