/* prefix.c - see prefix.h. */
#include "prefix.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static void
ip_from_bytes(const unsigned char b[16], struct ip_addr *a)
{
	a->hi = 0;
	a->lo = 0;
	for (int i = 0; i < 8; i++) {
		a->hi = (a->hi << 8) | b[i];
		a->lo = (a->lo << 8) | b[i + 8];
	}
}

static void
ip_to_bytes(const struct ip_addr *a, unsigned char b[16])
{
	for (int i = 0; i < 8; i++) {
		b[7 - i] = (unsigned char)(a->hi >> (8 * i));
		b[15 - i] = (unsigned char)(a->lo >> (8 * i));
	}
}

static bool
ip_is_v4_mapped(const struct ip_addr *a)
{
	return a->hi == 0 && (a->lo >> 32) == 0xffffu;
}

int
ip_parse(const char *s, size_t len, struct ip_addr *a, bool *v4)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char b[16] = { 0 };

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, b + 12) == 1) {
		b[10] = 0xff;
		b[11] = 0xff;
		ip_from_bytes(b, a);
		*v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, b) == 1) {
		ip_from_bytes(b, a);
		*v4 = ip_is_v4_mapped(a);
		return 0;
	}
	return -1;
}

/* The mask of the host bits of a /len prefix, as two halves. */
static void
host_mask(unsigned len, uint64_t *hi, uint64_t *lo)
{
	*hi = len >= 64 ? 0 : (len == 0 ? UINT64_MAX : UINT64_MAX >> len);
	*lo = len >= 128 ? 0 : (len <= 64 ? UINT64_MAX : UINT64_MAX >> (len - 64));
}

int
prefix_parse(const char *s, size_t len, bool bare_ok, struct ip_prefix *p,
    const char **why)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - s) : len;
	uint64_t plen, mhi, mlo;
	bool v4;

	if (ip_parse(s, alen, &p->addr, &v4) != 0) {
		*why = "invalid address";
		return -1;
	}
	if (slash == NULL) {
		if (!bare_ok) {
			*why = "missing prefix length";
			return -1;
		}
		plen = v4 ? 32 : 128;
	} else if (parse_uint(slash + 1, len - alen - 1, v4 ? 32 : 128,
	    &plen) != 0) {
		*why = "prefix length out of range";
		return -1;
	}
	p->v4 = v4;
	p->len = (unsigned)plen + (v4 ? 96 : 0);
	host_mask(p->len, &mhi, &mlo);
	if ((p->addr.hi & mhi) != 0 || (p->addr.lo & mlo) != 0) {
		*why = "host bits set";
		return -1;
	}
	return 0;
}

void
prefix_format(const struct ip_prefix *p, char *buf, size_t size)
{
	unsigned char b[16];
	char text[INET6_ADDRSTRLEN];

	ip_to_bytes(&p->addr, b);
	if (p->v4)
		inet_ntop(AF_INET, b + 12, text, sizeof(text));
	else
		inet_ntop(AF_INET6, b, text, sizeof(text));
	snprintf(buf, size, "%s/%u", text, p->v4 ? p->len - 96 : p->len);
}

void
prefix_range(const struct ip_prefix *p, struct ip_addr *first,
    struct ip_addr *last)
{
	uint64_t mhi, mlo;

	host_mask(p->len, &mhi, &mlo);
	*first = p->addr;
	last->hi = p->addr.hi | mhi;
	last->lo = p->addr.lo | mlo;
}

bool
prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	uint64_t mhi, mlo;

	host_mask(p->len, &mhi, &mlo);
	return (a->hi & ~mhi) == p->addr.hi && (a->lo & ~mlo) == p->addr.lo;
}

int
ip_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

/* --- the table ------------------------------------------------------- */

struct interval {
	struct ip_addr start;   /* runs up to the next interval's start */
	uint32_t innermost;     /* unique prefix index, or PREFIX_NONE */
};

struct prefix_table {
	struct ip_prefix *uniq;         /* sorted by (address, length) */
	uint32_t *parent;               /* enclosing unique prefix or NONE */
	uint32_t *first;                /* uniq[i]'s inputs: order[first[i]..] */
	uint32_t *order;                /* input indices grouped by prefix */
	size_t n_uniq, n_input;
	struct interval *iv;
	size_t n_iv;
};

struct keyed {
	struct ip_prefix p;
	uint32_t index;
};

static int
cmp_prefix(const struct ip_prefix *a, const struct ip_prefix *b)
{
	int c = ip_cmp(&a->addr, &b->addr);

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int
cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	int c = cmp_prefix(&a->p, &b->p);

	if (c != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Appends an interval, merging it into the last one when that names the
 * same innermost prefix. */
static void
add_interval(struct prefix_table *t, const struct ip_addr *start,
    uint32_t innermost)
{
	if (t->n_iv > 0 && t->iv[t->n_iv - 1].innermost == innermost)
		return;
	if (t->n_iv > 0 && ip_cmp(&t->iv[t->n_iv - 1].start, start) == 0) {
		t->iv[t->n_iv - 1].innermost = innermost;
		return;
	}
	t->iv[t->n_iv].start = *start;
	t->iv[t->n_iv].innermost = innermost;
	t->n_iv++;
}

/* Adds one to a; returns false when it wrapped past the last address. */
static bool
ip_next(struct ip_addr *a)
{
	if (++a->lo != 0)
		return true;
	return ++a->hi != 0;
}

/* Cuts the nested unique prefixes into disjoint intervals with a stack
 * sweep: prefixes sorted by (address, length) come in pre-order. */
static void
build_intervals(struct prefix_table *t)
{
	uint32_t stack[130];
	size_t depth = 0;
	struct ip_addr cur = { 0, 0 };
	bool done = false;

	add_interval(t, &cur, PREFIX_NONE);
	for (size_t i = 0; i < t->n_uniq; i++) {
		struct ip_addr first, last;

		prefix_range(&t->uniq[i], &first, &last);
		while (depth > 0) {
			struct ip_addr f, top_last;

			prefix_range(&t->uniq[stack[depth - 1]], &f, &top_last);
			if (ip_cmp(&top_last, &first) >= 0)
				break;
			depth--;
			cur = top_last;
			ip_next(&cur);  /* cannot wrap: first lies beyond */
			add_interval(t, &cur,
			    depth > 0 ? stack[depth - 1] : PREFIX_NONE);
		}
		t->parent[i] = depth > 0 ? stack[depth - 1] : PREFIX_NONE;
		stack[depth++] = (uint32_t)i;
		add_interval(t, &first, (uint32_t)i);
	}
	while (depth > 0 && !done) {
		struct ip_addr f, top_last;

		prefix_range(&t->uniq[stack[--depth]], &f, &top_last);
		cur = top_last;
		done = !ip_next(&cur);
		if (!done)
			add_interval(t, &cur,
			    depth > 0 ? stack[depth - 1] : PREFIX_NONE);
	}
}

struct prefix_table *
prefix_table_new(const struct ip_prefix *prefixes, size_t n)
{
	struct prefix_table *t = calloc(1, sizeof(*t));
	struct keyed *k = calloc(n + 1, sizeof(*k));
	size_t cap = 2 * n + 2;

	if (t == NULL || k == NULL) {
		free(t);
		free(k);
		return NULL;
	}
	t->n_input = n;
	t->order = calloc(n + 1, sizeof(*t->order));
	t->uniq = calloc(n + 1, sizeof(*t->uniq));
	t->parent = calloc(n + 1, sizeof(*t->parent));
	t->first = calloc(n + 2, sizeof(*t->first));
	t->iv = calloc(cap, sizeof(*t->iv));
	if (t->order == NULL || t->uniq == NULL || t->parent == NULL ||
	    t->first == NULL || t->iv == NULL) {
		prefix_table_free(t);
		free(k);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		k[i].p = prefixes[i];
		k[i].index = (uint32_t)i;
	}
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 0; i < n; i++) {
		const struct ip_prefix *p = &k[i].p;

		t->order[i] = k[i].index;

		if (t->n_uniq == 0 || cmp_prefix(&t->uniq[t->n_uniq - 1], p) != 0) {
			t->first[t->n_uniq] = (uint32_t)i;
			t->uniq[t->n_uniq++] = *p;
		}
	}
	t->first[t->n_uniq] = (uint32_t)n;
	free(k);
	build_intervals(t);
	return t;
}

void
prefix_table_free(struct prefix_table *t)
{
	if (t == NULL)
		return;
	free(t->order);
	free(t->uniq);
	free(t->parent);
	free(t->first);
	free(t->iv);
	free(t);
}

size_t
prefix_table_lookup(const struct prefix_table *t, const struct ip_addr *a,
    uint32_t *out, size_t cap)
{
	size_t lo = 0, hi = t->n_iv, total = 0;

	/* the last interval whose start <= a; iv[0] starts at :: */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ip_cmp(&t->iv[mid].start, a) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	for (uint32_t u = t->iv[lo].innermost; u != PREFIX_NONE;
	    u = t->parent[u]) {
		for (uint32_t k = t->first[u]; k < t->first[u + 1]; k++) {
			if (total < cap)
				out[total] = t->order[k];
			total++;
		}
	}
	return total;
}
