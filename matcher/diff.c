/* diff.c - see diff.h: the change report between two data sets (the
 * README describes it for admins).
 *
 * An entry is a URL pattern (as loaded) or a prefix (canonical text); set
 * ids play no part.  Its category is the highest of the sets listing it;
 * its ports are the union over the sets *of that category* only, since
 * lower ones decide nothing, and counting them would report a port change
 * whenever an Allow set next to an Optimize one changes.  Ports compare as
 * sets.  Each entry lands in one of added, removed, moved (ports are then
 * not compared) or ports; names first in byte order, then prefixes (IPv4
 * before IPv6, by address, then length).
 *
 * diff_compute returns NULL when out of memory, and for data beyond the
 * loader's bounds. */
#include "diff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One listing of an entry by one set; sorted, equal entries form a run. */
struct occ {
	const char *text;               /* borrowed from the data */
	const struct ip_prefix *prefix; /* NULL for a name */
	const struct m365_set *set;
};

/* An entry of one data set, with its effective category and ports. */
struct entry {
	const char *text;               /* borrowed from the data */
	const struct ip_prefix *prefix; /* NULL for a name */
	enum m365_category cat;
	char *tcp, *udp;                /* canonical port lists, "" for none */
};

/* The longest text of one port range: "65535-65535,". */
#define PORT_RANGE_TEXT_MAX 12

/* --- entries of one data set -------------------------------------------- */

/* Names before prefixes; names in byte order; prefixes IPv4 first, then
 * by address and length (the text decides only between spellings of the
 * same prefix, which canonical texts never are). */
static int
key_cmp(const char *ta, const struct ip_prefix *pa, const char *tb,
    const struct ip_prefix *pb)
{
	int c;

	if ((pa == NULL) != (pb == NULL))
		return pa == NULL ? -1 : 1;
	if (pa != NULL) {
		if (pa->v4 != pb->v4)
			return pa->v4 ? -1 : 1;
		if ((c = ip_cmp(&pa->addr, &pb->addr)) != 0)
			return c;
		if (pa->len != pb->len)
			return pa->len < pb->len ? -1 : 1;
	}
	return strcmp(ta, tb);
}

static int
occ_cmp(const void *a, const void *b)
{
	const struct occ *x = a, *y = b;

	return key_cmp(x->text, x->prefix, y->text, y->prefix);
}

/* Every (entry, set) listing of d, sorted.  Returns NULL when out of
 * memory or beyond the loader's bounds; *n = 0 and NULL for no entries. */
static struct occ *
occ_collect(const struct m365_data *d, size_t *n)
{
	struct occ *o;
	size_t total = 0, k = 0;

	*n = 0;
	for (size_t i = 0; i < d->n_sets; i++) {
		total += d->sets[i].n_urls + d->sets[i].n_ips;
		if (total > M365_DATA_MAX_URLS + M365_DATA_MAX_IPS)
			return NULL;
	}
	if ((o = calloc(total + 1, sizeof(*o))) == NULL)
		return NULL;
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct m365_set *s = &d->sets[i];

		for (size_t j = 0; j < s->n_urls; j++)
			o[k++] = (struct occ){ s->urls[j], NULL, s };
		for (size_t j = 0; j < s->n_ips; j++)
			o[k++] = (struct occ){ s->ip_texts[j], &s->ips[j], s };
	}
	qsort(o, total, sizeof(*o), occ_cmp);
	*n = total;
	return o;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct m365_port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sorts r[0..n) and merges overlapping and adjacent ranges in place;
 * returns the new count. */
static size_t
ports_merge(struct m365_port_range *r, size_t n)
{
	size_t m = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (size_t i = 1; i < n; i++) {
		if ((unsigned)r[i].lo <= (unsigned)r[m].hi + 1u) {
			if (r[i].hi > r[m].hi)
				r[m].hi = r[i].hi;
		} else
			r[++m] = r[i];
	}
	return m + 1;
}

/* The text of merged ranges r[0..n): "80,443", "3478-3481", "" for none.
 * Returns a new string, or NULL when out of memory. */
static char *
ports_format(const struct m365_port_range *r, size_t n)
{
	size_t size = n * PORT_RANGE_TEXT_MAX + 1, len = 0;
	char *buf;

	if (n > (SIZE_MAX - 1) / PORT_RANGE_TEXT_MAX ||
	    (buf = malloc(size)) == NULL)
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *sep = r[i].hi == r[i].lo + 1 ? "," : "-";
		int w;

		if (r[i].hi == r[i].lo)
			w = snprintf(buf + len, size - len, "%s%u",
			    i > 0 ? "," : "", (unsigned)r[i].lo);
		else
			w = snprintf(buf + len, size - len, "%s%u%s%u",
			    i > 0 ? "," : "", (unsigned)r[i].lo, sep,
			    (unsigned)r[i].hi);
		len += (size_t)w;
	}
	return buf;
}

/* The canonical union of the TCP (or UDP) ports of the sets in
 * run[0..n) of category cat.  Returns a new string or NULL (no memory). */
static char *
ports_union(const struct occ *run, size_t n, enum m365_category cat,
    bool udp)
{
	struct m365_port_range *r;
	size_t total = 0, k = 0;
	char *text;

	for (size_t i = 0; i < n; i++) {
		const struct m365_ports *p = udp ? &run[i].set->udp :
		    &run[i].set->tcp;

		if (run[i].set->category == cat) {
			if (p->n > SIZE_MAX / sizeof(*r) - total - 1)
				return NULL;
			total += p->n;
		}
	}
	if ((r = calloc(total + 1, sizeof(*r))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct m365_ports *p = udp ? &run[i].set->udp :
		    &run[i].set->tcp;

		if (run[i].set->category == cat && p->n > 0) {
			memcpy(r + k, p->ranges, p->n * sizeof(*r));
			k += p->n;
		}
	}
	text = ports_format(r, ports_merge(r, total));
	free(r);
	return text;
}

/* Fills e from the run of listings run[0..n) of one entry.  Returns 0, or
 * -1 when out of memory. */
static int
entry_make(struct entry *e, const struct occ *run, size_t n)
{
	e->text = run[0].text;
	e->prefix = run[0].prefix;
	e->cat = M365_CAT_NONE;
	for (size_t i = 0; i < n; i++)
		if (run[i].set->category > e->cat)
			e->cat = run[i].set->category;
	e->tcp = ports_union(run, n, e->cat, false);
	e->udp = ports_union(run, n, e->cat, true);
	return e->tcp != NULL && e->udp != NULL ? 0 : -1;
}

static void
entries_free(struct entry *e, size_t n)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(e[i].tcp);
		free(e[i].udp);
	}
	free(e);
}

/* The distinct entries of d, sorted, in *out.  Returns 0, or -1 when out
 * of memory (nothing to free then). */
static int
entries_build(const struct m365_data *d, struct entry **out, size_t *n)
{
	struct occ *o;
	struct entry *e = NULL;
	size_t n_occ, k = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if ((o = occ_collect(d, &n_occ)) == NULL ||
	    (e = calloc(n_occ + 1, sizeof(*e))) == NULL)
		goto done;
	for (size_t i = 0, j; i < n_occ; i = j) {
		for (j = i + 1; j < n_occ && occ_cmp(&o[i], &o[j]) == 0; j++)
			continue;
		if (entry_make(&e[k++], o + i, j - i) != 0)
			goto done;
	}
	*out = e;
	*n = k;
	e = NULL;
	rc = 0;
done:
	entries_free(e, k);
	free(o);
	return rc;
}

/* --- the report ----------------------------------------------------------- */

bool
diff_item_is_port_change(const struct diff_item *it)
{
	return it->from != M365_CAT_NONE && it->from == it->to;
}

static void
item_free(struct diff_item *it)
{
	free(it->text);
	for (int i = 0; i < 2; i++) {
		free(it->tcp[i]);
		free(it->udp[i]);
	}
}

void
diff_free(struct diff_report *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		item_free(&d->items[i]);
	free(d->items);
	free(d);
}

/* Appends the change from a (old, NULL when absent) to b (new, or NULL);
 * takes over the port lists of a and b for a port change.  Returns 0, or
 * -1 when out of memory. */
static int
report_add(struct diff_report *d, struct entry *a, struct entry *b)
{
	const struct entry *e = a != NULL ? a : b;
	struct diff_item *it = &d->items[d->n];

	memset(it, 0, sizeof(*it));
	if ((it->text = strdup(e->text)) == NULL)
		return -1;
	d->n++;
	it->prefix = e->prefix != NULL;
	it->from = a != NULL ? a->cat : M365_CAT_NONE;
	it->to = b != NULL ? b->cat : M365_CAT_NONE;
	if (diff_item_is_port_change(it)) {
		it->tcp[0] = a->tcp;
		it->udp[0] = a->udp;
		it->tcp[1] = b->tcp;
		it->udp[1] = b->udp;
		a->tcp = a->udp = b->tcp = b->udp = NULL;
	}
	return 0;
}

/* Whether the same entry a, b differs in category or ports. */
static bool
entry_changed(const struct entry *a, const struct entry *b)
{
	return a->cat != b->cat || strcmp(a->tcp, b->tcp) != 0 ||
	    strcmp(a->udp, b->udp) != 0;
}

/* Walks the sorted entries of both sides in step, adding every change. */
static int
report_fill(struct diff_report *d, struct entry *a, size_t na,
    struct entry *b, size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : key_cmp(a[i].text,
		    a[i].prefix, b[j].text, b[j].prefix);
		int rc = 0;

		if (c < 0)
			rc = report_add(d, &a[i++], NULL);
		else if (c > 0)
			rc = report_add(d, NULL, &b[j++]);
		else {
			if (entry_changed(&a[i], &b[j]))
				rc = report_add(d, &a[i], &b[j]);
			i++;
			j++;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

struct diff_report *
diff_compute(const struct m365_data *old, const struct m365_data *new)
{
	struct diff_report *d = NULL;
	struct entry *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;

	if (entries_build(old, &a, &na) != 0 ||
	    entries_build(new, &b, &nb) != 0 ||
	    (d = calloc(1, sizeof(*d))) == NULL ||
	    (d->items = calloc(na + nb + 1, sizeof(*d->items))) == NULL ||
	    report_fill(d, a, na, b, nb) != 0) {
		diff_free(d);
		d = NULL;
	}
	entries_free(a, na);
	entries_free(b, nb);
	return d;
}

bool
diff_is_empty(const struct diff_report *d)
{
	return d->n == 0;
}

