/* prefix.c - see prefix.h. */
#include "prefix.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static void
ip_to_bytes(const struct ip_addr *a, unsigned char b[16])
{
	for (int i = 0; i < 8; i++) {
		b[7 - i] = (unsigned char)(a->hi >> (8 * i));
		b[15 - i] = (unsigned char)(a->lo >> (8 * i));
	}
}

void
ip_from_v4(uint32_t v4, struct ip_addr *a)
{
	a->hi = 0;
	a->lo = 0xffff00000000u | v4;
}

bool
ip_is_v4_mapped(const struct ip_addr *a)
{
	return a->hi == 0 && (a->lo >> 32) == 0xffffu;
}

/* Dotted-quad IPv4 ("a.b.c.d", no leading zeros, as inet_pton): written
 * out because the helper parses an address per request and inet_pton's
 * copying and strlen were a third of that cost. */
int
ip_parse_v4(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0, octet = 0;
	size_t digits = 0, dots = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (digits > 0 && octet == 0)
				return -1;      /* leading zero */
			octet = octet * 10 + (uint32_t)(c - '0');
			if (++digits > 3 || octet > 255)
				return -1;
		} else if (c == '.' && digits > 0 && dots < 3) {
			v = v << 8 | octet;
			octet = 0;
			digits = 0;
			dots++;
		} else {
			return -1;
		}
	}
	if (dots != 3 || digits == 0)
		return -1;
	*out = v << 8 | octet;
	return 0;
}

/* Spreads the groups g[0..n) of an IPv6 text with "::" before group gap
 * (or none: gap < 0) over the 8 groups of *a. */
static void
ip6_expand(const uint16_t *g, size_t n, int gap, struct ip_addr *a)
{
	uint16_t full[8] = { 0 };
	size_t head = gap < 0 ? n : (size_t)gap;

	for (size_t i = 0; i < head; i++)
		full[i] = g[i];
	for (size_t i = head; i < n; i++)
		full[8 - (n - i)] = g[i];
	a->hi = (uint64_t)full[0] << 48 | (uint64_t)full[1] << 32 |
	    (uint64_t)full[2] << 16 | full[3];
	a->lo = (uint64_t)full[4] << 48 | (uint64_t)full[5] << 32 |
	    (uint64_t)full[6] << 16 | full[7];
}

/* IPv6 text (RFC 4291 2.2: hex groups, one "::", an IPv4 tail), accepting
 * what glibc's inet_pton accepts (tests/unit/test_prefix.c cross-checks
 * the two).  Written out for the same reason as ip_parse_v4. */
int
ip_parse_v6(const char *s, size_t len, struct ip_addr *a)
{
	uint16_t g[8];
	size_t n = 0, i = 0;
	int gap = -1;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (len > 0 && s[0] == ':') {
		return -1;
	}
	while (i < len) {
		size_t start = i;
		unsigned v = 0;
		int d;

		while (i < len && i - start < 5 && (d = parse_hex_digit(s[i])) >= 0) {
			v = v * 16 + (unsigned)d;
			i++;
		}
		if (i < len && s[i] == '.') {   /* the IPv4 tail */
			uint32_t v4;

			if (n > 6 || ip_parse_v4(s + start, len - start, &v4) != 0)
				return -1;
			g[n++] = (uint16_t)(v4 >> 16);
			g[n++] = (uint16_t)v4;
			break;
		}
		if (i == start || i - start > 4 || n == 8)
			return -1;
		g[n++] = (uint16_t)v;
		if (i == len)
			break;
		if (s[i++] != ':' || i == len)
			return -1;
		if (s[i] == ':') {
			if (gap >= 0)
				return -1;
			gap = (int)n;
			i++;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return -1;
	ip6_expand(g, n, gap, a);
	return 0;
}

int
ip_parse(const char *s, size_t len, struct ip_addr *a, bool *v4)
{
	uint32_t v;

	/* each parser gives up at the first character it cannot take, so
	 * trying IPv4 first costs an IPv6 literal at most five characters */
	if (ip_parse_v4(s, len, &v) == 0) {
		ip_from_v4(v, a);
		*v4 = true;
		return 0;
	}
	if (ip_parse_v6(s, len, a) != 0)
		return -1;
	*v4 = ip_is_v4_mapped(a);
	return 0;
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
	bool v4, text_v4;

	if (ip_parse(s, alen, &p->addr, &v4) != 0) {
		*why = "invalid address";
		return -1;
	}
	/* the length counts in the family the text is written in */
	text_v4 = memchr(s, ':', alen) == NULL;
	if (slash == NULL) {
		if (!bare_ok) {
			*why = "missing prefix length";
			return -1;
		}
		plen = text_v4 ? 32 : 128;
	} else if (parse_uint(slash + 1, len - alen - 1, text_v4 ? 32 : 128,
	    &plen) != 0) {
		*why = "prefix length out of range";
		return -1;
	}
	p->len = (unsigned)plen + (text_v4 ? 96 : 0);
	p->v4 = v4 && p->len >= 96;
	host_mask(p->len, &mhi, &mlo);
	if ((p->addr.hi & mhi) != 0 || (p->addr.lo & mlo) != 0) {
		*why = "host bits set";
		return -1;
	}
	return 0;
}

bool
prefix_entry_is_cidr(const char *s, size_t len)
{
	struct ip_addr a;
	bool v4;

	return memchr(s, '/', len) != NULL || ip_parse(s, len, &a, &v4) == 0;
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

size_t
prefix_split_v4(const struct ip_prefix *p, struct ip_prefix *out)
{
	struct ip_addr v4 = { 0, 0xffff00000000u };
	size_t n = 0;

	if (p->v4 || p->len >= 96 || !prefix_contains(p, &v4))
		return 0;
	/* the siblings of the path from p down to ::ffff:0:0/96 */
	for (unsigned len = p->len + 1; len <= 96; len++) {
		struct ip_prefix sib = { v4, len, false };
		uint64_t mhi, mlo;

		host_mask(len, &mhi, &mlo);
		sib.addr.hi &= ~mhi;
		sib.addr.lo &= ~mlo;
		/* flip bit len-1 (counting from the top) */
		if (len <= 64)
			sib.addr.hi ^= (uint64_t)1 << (64 - len);
		else
			sib.addr.lo ^= (uint64_t)1 << (128 - len);
		out[n++] = sib;
	}
	return n;
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

int
prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b)
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
	int c = prefix_cmp(&a->p, &b->p);

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

		if (t->n_uniq == 0 || prefix_cmp(&t->uniq[t->n_uniq - 1], p) != 0) {
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
prefix_table_visit(const struct prefix_table *t, const struct ip_addr *a,
    visit_fn *visit, void *ctx)
{
	const struct interval *base = t->iv;
	size_t n = t->n_iv, total = 0;

	/* the last interval whose start <= a (iv[0] starts at ::), by a
	 * branch-free binary search: the compiler turns it into cmovs */
	while (n > 1) {
		size_t half = n / 2;
		const struct ip_addr *st = &base[half].start;
		bool le = st->hi < a->hi || (st->hi == a->hi && st->lo <= a->lo);

		base = le ? base + half : base;
		n -= half;
	}
	for (uint32_t u = base->innermost; u != PREFIX_NONE; u = t->parent[u])
		for (uint32_t k = t->first[u]; k < t->first[u + 1]; k++, total++)
			visit(ctx, t->order[k]);
	return total;
}

size_t
prefix_table_lookup(const struct prefix_table *t, const struct ip_addr *a,
    uint32_t *out, size_t cap)
{
	struct visit_list l = { out, cap, 0 };

	return prefix_table_visit(t, a, visit_collect, &l);
}
