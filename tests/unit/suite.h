/* suite.h - a tiny table runner for the cmocka unit tests: one cmocka test
 * per table row, each with a readable name. */
#ifndef M365_TEST_SUITE_H
#define M365_TEST_SUITE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "endpoints.h"
#include "prefix.h"

struct suite {
	struct CMUnitTest *t;
	size_t n, cap;
};

/* Adds a test running fn with state, named by fmt (copied). */
void suite_add(struct suite *s, CMUnitTestFunction fn, void *state,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Runs every test as the group name; frees the suite; returns the number
 * of failures. */
int suite_run(struct suite *s, const char *name);

/* Writes s[0..len) with non-printable bytes (and '#', which TAP reads as a
 * directive) as \xHH, cut to fit size ("..." when cut). */
void suite_show(const char *s, size_t len, char *buf, size_t size);

/* A deterministic generator (splitmix64) for seeded brute-force tests. */
struct suite_rng {
	uint64_t s;
};

uint64_t suite_rng_next(struct suite_rng *r);
unsigned suite_rng_below(struct suite_rng *r, unsigned n);

/* The address of an IPv4 or IPv6 literal in the library's 128-bit space,
 * computed with inet_pton (independently of the library); fails the test
 * on a bad literal. */
struct ip_addr suite_addr(const char *text);

/* A visit callback (matcher/visit.h) that records up to cap indices in
 * v and counts them all in n. */
struct suite_visit_log {
	uint32_t *v;
	size_t n, cap;
};

void suite_visit_log(void *ctx, uint32_t index);

/* The directory of the real data files: $M365_TEST_DATA, else tests/data
 * (the tests run from the top of the tree). */
const char *suite_data_dir(void);

/* Loads tests/data/NAME; fails the test when it does not load. */
struct m365_data *suite_load(const char *name);

#endif
