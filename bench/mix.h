/* mix.h - a realistic, reproducible mix of queries built from endpoint data,
 * shared by the lookup benchmark and the request-file generator.
 *
 * Names: every pattern of the data instantiated ("*.x" -> "a.x",
 * "autodiscover.*.x" -> "autodiscover.contoso.x", "*cdn.x" -> "cdn.x" and
 * "contosocdn.x"), subdomains of those, and names outside Microsoft 365
 * (common web hosts, random-looking names, look-alikes such as
 * "outlook.office365.com.evil.test").  Addresses: one inside every prefix of
 * the data, the neighbours just outside each prefix, and random IPv4/IPv6
 * addresses; each address knows whether a prefix of the data contains it. */
#ifndef M365_BENCH_MIX_H
#define M365_BENCH_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoints.h"

enum mix_kind {
	MIX_DATA_NAME,          /* an instantiated pattern of the data */
	MIX_SUBDOMAIN,          /* a subdomain of one */
	MIX_OTHER_NAME,         /* not meant to be Microsoft 365 */
	MIX_IP,                 /* an IPv4 or IPv6 literal */
	MIX_KINDS
};

struct mix_query {
	const char *text;       /* NUL-terminated; owned by the mix */
	size_t len;
	enum mix_kind kind;
	bool v6;                /* MIX_IP: an IPv6 literal */
	bool inside;            /* MIX_IP: within a prefix of the data */
};

struct mix {
	struct mix_query *q;    /* deduplicated, in a shuffled order */
	size_t n;
};

/* Builds the mix for data, shuffled with seed.  Returns 0, or -1 when out of
 * memory (m then holds nothing). */
int mix_build(struct mix *m, const struct m365_data *data, uint64_t seed);
void mix_free(struct mix *m);

/* Copies the queries whose kind is in mask (bit 1 << kind) into a new array
 * (*out, *n; the texts stay borrowed from m).  Returns 0, or -1 when out of
 * memory. */
int mix_select(const struct mix *m, unsigned mask, struct mix_query **out,
    size_t *n);

const char *mix_kind_name(enum mix_kind k);

/* splitmix64: the next pseudo-random number of *state. */
uint64_t mix_rand(uint64_t *state);

/* The median of v[0..n), n > 0 (v is sorted in place). */
double mix_median(double *v, size_t n);

#endif
