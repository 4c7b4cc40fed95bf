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
 * The policy filters sets by service area and by the required flag
 * (matcher_policy_exclusion), so the category and ports an entry has
 * overall are not all a policy can see: with service_areas = Skype it
 * has what the Skype sets give it, with required_only what the required
 * ones give.  Every policy counts a union of whole service areas, all
 * their sets or only the required ones; so what each area's sets give,
 * and what its required sets give, is everything any policy can see of
 * the entry (diff_scope).  Each is kept relative to the entry (the same
 * as overall, or as the area's sets: the usual case, and short to print),
 * which loses nothing, since the overall view is compared on its own.
 * An entry that kept its category is a scope change when that differs,
 * with or without a port change; a move is not compared further.  The
 * same rule as above holds inside an area: ports of a lower category
 * there decide nothing.
 *
 * diff_compute returns NULL when out of memory, and for data beyond the
 * loader's bounds. */
#include "diff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One listing of an entry by one set; sorted, equal entries form a run. */
struct occ {
	const char *text;               /* borrowed from the data */
	const struct ip_prefix *prefix; /* NULL for a name */
	const struct m365_set *set;
};

/* An entry of one data set: its effective category and ports (the
 * scope's entry view) and what each service area gives it. */
struct entry {
	const char *text;               /* borrowed from the data */
	const struct ip_prefix *prefix; /* NULL for a name */
	struct diff_scope sc;
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

/* Whether the set of o counts for a view of only the required sets. */
static bool
occ_counts(const struct occ *o, bool req)
{
	return !req || o->set->required;
}

/* The canonical union of the TCP (or UDP) ports of the sets in
 * run[0..n) of category cat (required ones only with req).  Returns a
 * new string or NULL (no memory). */
static char *
ports_union(const struct occ *run, size_t n, enum m365_category cat,
    bool req, bool udp)
{
	struct m365_port_range *r;
	size_t total = 0, k = 0;
	char *text;

	for (size_t i = 0; i < n; i++) {
		const struct m365_ports *p = udp ? &run[i].set->udp :
		    &run[i].set->tcp;

		if (run[i].set->category == cat && occ_counts(&run[i], req)) {
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

		if (run[i].set->category == cat && occ_counts(&run[i], req) &&
		    p->n > 0) {
			memcpy(r + k, p->ranges, p->n * sizeof(*r));
			k += p->n;
		}
	}
	text = ports_format(r, ports_merge(r, total));
	free(r);
	return text;
}

static void
view_free(struct diff_view *v)
{
	free(v->tcp);
	free(v->udp);
	v->tcp = v->udp = NULL;
	v->cat = M365_CAT_NONE;
}

bool
diff_view_equal(const struct diff_view *a, const struct diff_view *b)
{
	return a->cat == b->cat && (a->cat == M365_CAT_NONE ||
	    (strcmp(a->tcp, b->tcp) == 0 && strcmp(a->udp, b->udp) == 0));
}

/* What the sets of run[0..n) (the required ones with req) give the
 * entry.  Returns 0, or -1 when out of memory. */
static int
view_make(struct diff_view *v, const struct occ *run, size_t n, bool req)
{
	v->cat = M365_CAT_NONE;
	v->tcp = v->udp = NULL;
	for (size_t i = 0; i < n; i++)
		if (occ_counts(&run[i], req) && run[i].set->category > v->cat)
			v->cat = run[i].set->category;
	if (v->cat == M365_CAT_NONE)
		return 0;
	v->tcp = ports_union(run, n, v->cat, req, false);
	v->udp = ports_union(run, n, v->cat, req, true);
	if (v->tcp == NULL || v->udp == NULL) {
		view_free(v);
		return -1;
	}
	return 0;
}

static void
scope_free(struct diff_scope *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->areas[i].name);
		view_free(&sc->areas[i].all);
		view_free(&sc->areas[i].req_view);
	}
	free(sc->areas);
	sc->areas = NULL;
	sc->n = 0;
	view_free(&sc->entry);
}

/* Listings by service area, case-insensitively (as the policy compares
 * them), then by spelling. */
static int
occ_area_cmp(const void *a, const void *b)
{
	const char *x = ((const struct occ *)a)->set->service_area;
	const char *y = ((const struct occ *)b)->set->service_area;
	int c = strcasecmp(x, y);

	return c != 0 ? c : strcmp(x, y);
}

/* Fills area from the listings o[0..n) of one service area, next to the
 * entry's overall view.  Returns 0, or -1 when out of memory. */
static int
area_make(struct diff_area *area, const struct occ *o, size_t n,
    const struct diff_view *entry)
{
	struct diff_view req;

	if ((area->name = strdup(o[0].set->service_area)) == NULL ||
	    view_make(&area->all, o, n, false) != 0 ||
	    view_make(&req, o, n, true) != 0)
		return -1;
	area->as_entry = diff_view_equal(&area->all, entry);
	if (req.cat == M365_CAT_NONE)
		area->req = DIFF_REQ_NONE;
	else if (diff_view_equal(&req, &area->all))
		area->req = DIFF_REQ_ALL;
	else {
		area->req = DIFF_REQ_PART;
		area->req_view = req;
		return 0;
	}
	view_free(&req);
	return 0;
}

/* Fills sc from the listings run[0..n) of one entry.  Returns 0, or -1
 * when out of memory (sc then holds what was made: scope_free it). */
static int
scope_make(struct diff_scope *sc, const struct occ *run, size_t n)
{
	struct occ *o;
	size_t groups = 0;
	int rc = -1;

	if (view_make(&sc->entry, run, n, false) != 0 ||
	    (o = malloc(n * sizeof(*o))) == NULL)
		return -1;
	memcpy(o, run, n * sizeof(*o));
	qsort(o, n, sizeof(*o), occ_area_cmp);
	for (size_t i = 0; i < n; i++)
		groups += i == 0 || strcasecmp(o[i - 1].set->service_area,
		    o[i].set->service_area) != 0;
	if ((sc->areas = calloc(groups, sizeof(*sc->areas))) == NULL)
		goto done;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && strcasecmp(o[i].set->service_area,
		    o[j].set->service_area) == 0; j++)
			continue;
		if (area_make(&sc->areas[sc->n++], o + i, j - i,
		    &sc->entry) != 0)
			goto done;
	}
	rc = 0;
done:
	free(o);
	return rc;
}

/* Fills e from the run of listings run[0..n) of one entry.  Returns 0, or
 * -1 when out of memory (e then holds what was made: entries_free it). */
static int
entry_make(struct entry *e, const struct occ *run, size_t n)
{
	e->text = run[0].text;
	e->prefix = run[0].prefix;
	return scope_make(&e->sc, run, n);
}

static void
entries_free(struct entry *e, size_t n)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		scope_free(&e[i].sc);
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
	return it->from != M365_CAT_NONE && it->from == it->to &&
	    it->tcp[0] != NULL;
}

bool
diff_item_is_scope_change(const struct diff_item *it)
{
	return it->scope[0] != NULL;
}

static void
item_free(struct diff_item *it)
{
	free(it->text);
	for (int i = 0; i < 2; i++) {
		free(it->tcp[i]);
		free(it->udp[i]);
		if (it->scope[i] != NULL)
			scope_free(it->scope[i]);
		free(it->scope[i]);
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

/* Copies the port lists of a and b into it.  Returns 0, or -1. */
static int
item_ports(struct diff_item *it, const struct entry *a,
    const struct entry *b)
{
	const struct diff_view *v[2] = { &a->sc.entry, &b->sc.entry };

	for (int i = 0; i < 2; i++)
		if ((it->tcp[i] = strdup(v[i]->tcp)) == NULL ||
		    (it->udp[i] = strdup(v[i]->udp)) == NULL)
			return -1;
	return 0;
}

/* Takes over the scopes of a and b into it.  Returns 0, or -1. */
static int
item_scope(struct diff_item *it, struct entry *a, struct entry *b)
{
	struct entry *e[2] = { a, b };

	for (int i = 0; i < 2; i++) {
		if ((it->scope[i] = malloc(sizeof(*it->scope[i]))) == NULL)
			return -1;
		*it->scope[i] = e[i]->sc;
		memset(&e[i]->sc, 0, sizeof(e[i]->sc));
	}
	return 0;
}

/* Appends the change from a (old, NULL when absent) to b (new, or NULL);
 * with ports, copies their port lists; with scope, takes over their
 * scopes.  Returns 0, or -1 when out of memory. */
static int
report_add(struct diff_report *d, struct entry *a, struct entry *b,
    bool ports, bool scope)
{
	const struct entry *e = a != NULL ? a : b;
	struct diff_item *it = &d->items[d->n];

	memset(it, 0, sizeof(*it));
	if ((it->text = strdup(e->text)) == NULL)
		return -1;
	d->n++;
	it->prefix = e->prefix != NULL;
	it->from = a != NULL ? a->sc.entry.cat : M365_CAT_NONE;
	it->to = b != NULL ? b->sc.entry.cat : M365_CAT_NONE;
	if (ports && item_ports(it, a, b) != 0)
		return -1;
	if (scope && item_scope(it, a, b) != 0)
		return -1;
	return 0;
}

/* Whether the same entry a, b (of one category) has other ports. */
static bool
ports_differ(const struct entry *a, const struct entry *b)
{
	return strcmp(a->sc.entry.tcp, b->sc.entry.tcp) != 0 ||
	    strcmp(a->sc.entry.udp, b->sc.entry.udp) != 0;
}

static bool
area_differs(const struct diff_area *x, const struct diff_area *y)
{
	if (strcasecmp(x->name, y->name) != 0 || x->as_entry != y->as_entry ||
	    x->req != y->req)
		return true;
	if (!x->as_entry && !diff_view_equal(&x->all, &y->all))
		return true;
	return x->req == DIFF_REQ_PART &&
	    !diff_view_equal(&x->req_view, &y->req_view);
}

/* Whether a service_areas filter or required_only sees the same entry a,
 * b (of one category) otherwise, beyond its overall ports. */
static bool
scope_differs(const struct entry *a, const struct entry *b)
{
	if (a->sc.n != b->sc.n)
		return true;
	for (size_t i = 0; i < a->sc.n; i++)
		if (area_differs(&a->sc.areas[i], &b->sc.areas[i]))
			return true;
	return false;
}

/* Adds what changed of the entry a, b present on both sides. */
static int
report_same(struct diff_report *d, struct entry *a, struct entry *b)
{
	bool ports, scope;

	if (a->sc.entry.cat != b->sc.entry.cat)
		return report_add(d, a, b, false, false);
	ports = ports_differ(a, b);
	scope = scope_differs(a, b);
	return ports || scope ? report_add(d, a, b, ports, scope) : 0;
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
			rc = report_add(d, &a[i++], NULL, false, false);
		else if (c > 0)
			rc = report_add(d, NULL, &b[j++], false, false);
		else
			rc = report_same(d, &a[i++], &b[j++]);
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

