/* prefix.h - IP addresses, CIDR prefixes and a lookup table of prefixes.
 *
 * Every address lives in one 128-bit space: IPv6 as is, IPv4 as the
 * IPv4-mapped address ::ffff:a.b.c.d, so an IPv4 /n is a /(96+n).  That gives
 * "IPv4-mapped IPv6 is IPv4" (DESIGN.md §3) for free and one code path. */
#ifndef M365_PREFIX_H
#define M365_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "visit.h"

#define IP_TEXT_MAX 64          /* longer than any address/len text */

struct ip_addr {
	uint64_t hi, lo;
};

struct ip_prefix {
	struct ip_addr addr;    /* network address, host bits zero */
	unsigned len;           /* 0..128 in the 128-bit space */
	bool v4;                /* written as IPv4 (len >= 96) */
};

/* Parses an IPv4 or IPv6 literal (no brackets, no zone).  Returns 0, or -1
 * when it is not an address.  *v4 says whether it is IPv4 or IPv4-mapped. */
int ip_parse(const char *s, size_t len, struct ip_addr *a, bool *v4);

/* The two halves of ip_parse: dotted-quad IPv4 (no leading zeros) into a
 * host-order value, and IPv6 text (hex groups, "::", an IPv4 tail) into *a.
 * Each returns 0, or -1 when s[0..len) is not such an address. */
int ip_parse_v4(const char *s, size_t len, uint32_t *out);
int ip_parse_v6(const char *s, size_t len, struct ip_addr *a);

/* The IPv4-mapped address ::ffff:v4, and whether a is one. */
void ip_from_v4(uint32_t v4, struct ip_addr *a);
bool ip_is_v4_mapped(const struct ip_addr *a);

/* Parses "addr/len" strictly: a valid address, a length in range, no host
 * bits set.  With bare_ok, "addr" alone means a host prefix.  Returns 0, or
 * -1 with *why set to a static reason. */
int prefix_parse(const char *s, size_t len, bool bare_ok, struct ip_prefix *p,
    const char **why);

/* Whether a policy entry (extra_direct, never_direct) means an address
 * range rather than a host pattern: it holds a '/' or is an address (a
 * bare address is a host prefix).  The one answer config.c, matcher.c and
 * the ASN check use. */
bool prefix_entry_is_cidr(const char *s, size_t len);

/* Writes the canonical text of p ("10.0.0.0/8", "2603:1006::/40") into buf. */
void prefix_format(const struct ip_prefix *p, char *buf, size_t size);

/* Whether a lies within p. */
bool prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);

/* The first and last address of p. */
void prefix_range(const struct ip_prefix *p, struct ip_addr *first,
    struct ip_addr *last);

int ip_cmp(const struct ip_addr *a, const struct ip_addr *b);

/* Orders prefixes by address, then length (shorter first): <0, 0, >0. */
int prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b);

#define PREFIX_SPLIT_MAX 96

/* IPv4 lives inside the IPv6 space at ::ffff:0:0/96, so an IPv6 prefix
 * written shorter than /96 there (::/0, ::/64) would also cover every
 * IPv4 address.  Writes to out (PREFIX_SPLIT_MAX entries) the prefixes
 * that cover p without the IPv4 range and returns their count; returns 0
 * when p does not cover it (use p as it is). */
size_t prefix_split_v4(const struct ip_prefix *p, struct ip_prefix *out);

/*
 * A prefix table answers "which of these prefixes contain address A" in
 * O(log n): the prefixes are cut into disjoint address intervals, each naming
 * its innermost prefix; the enclosing prefixes follow through parent links.
 */
struct prefix_table;

#define PREFIX_NONE UINT32_MAX

/* Builds a table over prefixes[0..n); several entries may hold the same
 * prefix.  The table keeps no pointer into the input.  Returns NULL when out
 * of memory. */
struct prefix_table *prefix_table_new(const struct ip_prefix *prefixes,
    size_t n);
void prefix_table_free(struct prefix_table *t);

/* Calls visit with the input index of every prefix containing a, innermost
 * first; returns how many there are.  Allocation free, no bound. */
size_t prefix_table_visit(const struct prefix_table *t,
    const struct ip_addr *a, visit_fn *visit, void *ctx);

/* prefix_table_visit collecting the indices into out, up to cap of them;
 * returns how many there are in all. */
size_t prefix_table_lookup(const struct prefix_table *t,
    const struct ip_addr *a, uint32_t *out, size_t cap);

#endif
