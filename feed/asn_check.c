/* asn_check.c - see asn_check.h.
 *
 * Each distinct prefix is walked once (Microsoft repeats every Optimize
 * prefix in an Allow set); its lines name every set that lists it.  The
 * blocks of a walk are merged into runs of one origin, and each run that
 * is not in a trusted AS, or not in the database, is one line.  A
 * block of an untrusted AS refuses the update (or, with asn_check = warn,
 * is said and installed); a block the database does not know is a
 * warning (Microsoft's lists keep prefixes that are no longer routed); a
 * prefix with more blocks than the cap is refused, its unread rest never
 * assumed trusted.  extra_direct is the admin's own choice: its CIDRs
 * only ever warn. */
#include "asn_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define MAX_LABEL_SETS 4                /* set ids named in a line */

/* One prefix of one set, in file order. */
struct entry {
	struct ip_prefix p;
	size_t order;
	int set_id;
	const char *raw, *text;         /* borrowed from the data */
};

struct check {
	const struct asn_check_opts *o;
	enum asn_mode mode;
	struct asn_db *db;
	struct asn_trust trust;
	struct asn_report *r;
	size_t budget;                  /* of ASN_MAX_BLOCKS_TOTAL, blocks left */
	size_t no_v6;                   /* IPv6 prefixes, IPv4-only database */
	char first[ASN_MSG_MAX];        /* the first refusing finding */
	char err[ASN_MSG_MAX];
	bool failed;                    /* the database could not be read */
};

/* One prefix being walked: the run of blocks of one origin so far. */
struct walk {
	struct check *c;
	const char *label;
	const struct ip_prefix *p;
	bool extra;                     /* an extra_direct CIDR */
	bool open;
	struct ip_addr first, last;
	struct asn_origin origin;
	bool untrusted, unknown;
};

const char *
asn_result_name(enum asn_result r)
{
	switch (r) {
	case ASN_RESULT_PASS:
		return "pass";
	case ASN_RESULT_WARN:
		return "warn";
	case ASN_RESULT_REFUSED:
		return "refused";
	case ASN_RESULT_ERROR:
		return "error";
	case ASN_RESULT_OFF:
		break;
	}
	return "off";
}

enum asn_mode
asn_mode_parse(const char *s)
{
	if (s != NULL && strcmp(s, "warn") == 0)
		return ASN_MODE_WARN;
	if (s != NULL && strcmp(s, "off") == 0)
		return ASN_MODE_OFF;
	return ASN_MODE_REFUSE;
}

static void add_line(struct asn_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps one finding; past ASN_MAX_LINES (or out of memory) it is only
 * counted. */
static void
add_line(struct asn_report *r, const char *fmt, ...)
{
	char line[2 * ASN_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (r->n_lines == ASN_MAX_LINES ||
	    (r->lines[r->n_lines] = strdup(line)) == NULL)
		r->more_lines++;
	else
		r->n_lines++;
}

void
asn_report_free(struct asn_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_lines; i++)
		free(r->lines[i]);
	r->n_lines = 0;
	r->more_lines = 0;
}

static void
addr_text(const struct ip_addr *a, bool v4, char *buf, size_t size)
{
	unsigned char b[16];

	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(a->hi >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(a->lo >> (56 - 8 * i));
	}
	if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? b + 12 : b, buf,
	    (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

/* "A-B " for a run that is part of the prefix, "" for all of it. */
static void
run_text(const struct walk *w, char *buf, size_t size)
{
	struct ip_addr pf, pl;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	prefix_range(w->p, &pf, &pl);
	if (ip_cmp(&w->first, &pf) == 0 && ip_cmp(&w->last, &pl) == 0) {
		buf[0] = '\0';
		return;
	}
	addr_text(&w->first, w->p->v4, a, sizeof(a));
	addr_text(&w->last, w->p->v4, b, sizeof(b));
	snprintf(buf, size, "%s-%s ", a, b);
}

/* What to call a finding that does not stop the update. */
static const char *
severity(const struct walk *w)
{
	return w->extra || w->c->mode == ASN_MODE_WARN ? "warning: " : "";
}

static const char *
consequence(const struct walk *w)
{
	if (w->extra)
		return " (extra_direct: your own configuration, a warning "
		    "only)";
	return w->c->mode == ASN_MODE_WARN ? " (asn_check = warn: installed "
	    "anyway)" : "";
}

/* Reports the run that ended, if it is unknown or untrusted. */
static void
flush_run(struct walk *w)
{
	char range[2 * INET6_ADDRSTRLEN + 2], what[ASN_MSG_MAX];
	const struct asn_origin *o = &w->origin;

	if (!w->open)
		return;
	w->open = false;
	run_text(w, range, sizeof(range));
	if (!o->known) {
		w->unknown = true;
		add_line(w->c->r, "asn_check: warning: %s: %snot in the ASN "
		    "database (not routed?)", w->label, range);
		return;
	}
	if (asn_trust_has(&w->c->trust, o->asn))
		return;
	w->untrusted = true;
	snprintf(what, sizeof(what), "%s: %soriginated by AS%u%s%.64s%s",
	    w->label, range, o->asn, o->org[0] != '\0' ? " (" : "", o->org,
	    o->org[0] != '\0' ? ")" : "");
	if (!w->extra && w->c->first[0] == '\0')
		snprintf(w->c->first, sizeof(w->c->first), "%s", what);
	add_line(w->c->r, "asn_check: %s%s, not a trusted AS%s", severity(w),
	    what, consequence(w));
}

static bool
same_origin(const struct asn_origin *a, const struct asn_origin *b)
{
	return a->known == b->known && (!a->known || a->asn == b->asn);
}

static void
on_part(const struct asn_part *part, void *arg)
{
	struct walk *w = arg;

	if (w->open && same_origin(&w->origin, part->origin)) {
		w->last = part->last;
		return;
	}
	flush_run(w);
	w->open = true;
	w->first = part->first;
	w->last = part->last;
	w->origin = *part->origin;
}

/* A prefix with more blocks than the walk may read. */
static void
capped(struct walk *w, size_t max)
{
	char what[ASN_MSG_MAX];

	snprintf(what, sizeof(what), "%s: more than %zu blocks in the ASN "
	    "database%s", w->label, max, max < ASN_MAX_BLOCKS_PER_PREFIX ?
	    " (the check's total is used up)" : "");
	if (!w->extra) {
		w->c->r->capped++;
		if (w->c->first[0] == '\0')
			snprintf(w->c->first, sizeof(w->c->first), "%s", what);
	}
	add_line(w->c->r, "asn_check: %s%s: the rest is not checked%s",
	    severity(w), what, w->extra || w->c->mode == ASN_MODE_WARN ?
	    consequence(w) : ", so refused (never assumed trusted)");
}

/* Walks one prefix and counts what it found. */
static void
walk_one(struct check *c, const struct ip_prefix *p, const char *label,
    bool extra)
{
	struct walk w = { .c = c, .label = label, .p = p, .extra = extra };
	size_t max = c->budget < ASN_MAX_BLOCKS_PER_PREFIX ? c->budget :
	    ASN_MAX_BLOCKS_PER_PREFIX, n = 0;
	enum asn_walk st;

	st = asn_walk_prefix(c->db, p, max, on_part, &w, &n, c->err,
	    sizeof(c->err));
	flush_run(&w);
	c->budget -= n;
	if (st == ASN_WALK_CAP)
		capped(&w, max);
	else if (st == ASN_WALK_NO_V6)
		c->no_v6++;
	else if (st == ASN_WALK_ERROR)
		c->failed = true;
	if (extra) {
		c->r->extra_untrusted += w.untrusted;
		return;
	}
	c->r->prefixes++;
	c->r->untrusted += w.untrusted;
	c->r->unknown += w.unknown;
}

static bool
set_checked(const struct m365_set *s, unsigned direct_mask)
{
	return s->category == M365_CAT_OPTIMIZE ||
	    s->category == M365_CAT_ALLOW ||
	    (direct_mask & (1u << s->category)) != 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = prefix_cmp(&x->p, &y->p);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The checked prefixes of d, sorted; NULL when out of memory (n = 0 and
 * a non-NULL result when there are none). */
static struct entry *
collect(const struct m365_data *d, unsigned mask, size_t *n)
{
	struct entry *e;
	size_t k = 0;

	*n = 0;
	for (size_t i = 0; i < d->n_sets; i++)
		if (set_checked(&d->sets[i], mask))
			*n += d->sets[i].n_ips;
	if ((e = calloc(*n + 1, sizeof(*e))) == NULL)
		return NULL;
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct m365_set *s = &d->sets[i];

		for (size_t j = 0; set_checked(s, mask) && j < s->n_ips; j++) {
			e[k] = (struct entry){ s->ips[j], k, s->id,
			    s->ip_raw[j], s->ip_texts[j] };
			k++;
		}
	}
	qsort(e, *n, sizeof(*e), cmp_entry);
	return e;
}

/* "set 1, 2: ips: \"raw\"" for the n entries of one prefix, as the data
 * writes it (and what it means when written otherwise). */
static void
make_label(const struct entry *e, size_t n, char *buf, size_t size)
{
	struct buf b = BUF_INIT(size - 1);
	size_t named = 0;

	buf_printf(&b, "set ");
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && e[i].set_id == e[i - 1].set_id)
			continue;
		if (named == MAX_LABEL_SETS) {
			buf_printf(&b, " and more");
			break;
		}
		buf_printf(&b, "%s%d", named++ ? ", " : "", e[i].set_id);
	}
	buf_printf(&b, ": ips: \"%s\"", e->raw);
	if (strcmp(e->raw, e->text) != 0)
		buf_printf(&b, " (%s)", e->text);
	snprintf(buf, size, "%s", b.error == BUF_OK ? b.p : "set ?");
	buf_free(&b);
}

static int
check_sets(struct check *c, const struct m365_data *d)
{
	char label[ASN_MSG_MAX / 2];
	size_t n;
	struct entry *e = collect(d, c->o->direct_mask, &n);

	if (e == NULL)
		return -1;
	for (size_t i = 0, j; i < n && !c->failed; i = j) {
		for (j = i + 1; j < n && prefix_cmp(&e[j].p, &e[i].p) == 0; j++)
			;
		make_label(e + i, j - i, label, sizeof(label));
		walk_one(c, &e[i].p, label, false);
	}
	free(e);
	return 0;
}

/* extra_direct's CIDRs (its host patterns have no address to check). */
static void
check_extra(struct check *c)
{
	const struct m365_strlist *l = c->o->extra_direct;
	char label[ASN_MSG_MAX / 2];

	for (size_t i = 0; l != NULL && i < l->n && !c->failed; i++) {
		const char *s = l->v[i], *why;
		struct ip_prefix p;

		if (!prefix_entry_is_cidr(s, strlen(s)) ||
		    prefix_parse(s, strlen(s), true, &p, &why) != 0)
			continue;       /* the config reader said so already */
		snprintf(label, sizeof(label), "extra_direct \"%s\"", s);
		walk_one(c, &p, label, true);
	}
}

static enum asn_result finish_check(struct check *c, enum asn_result res,
    bool fails, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets the result and the summary line; returns res. */
static enum asn_result
finish_check(struct check *c, enum asn_result res, bool fails,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->r->summary, sizeof(c->r->summary), fmt, ap);
	va_end(ap);
	c->r->result = res;
	c->r->fails = fails;
	return res;
}

/* The result and summary once every prefix was walked; more is what the
 * warnings count (", 3 partly not in the database"). */
static enum asn_result
conclude_with(struct check *c, const char *more)
{
	struct asn_report *r = c->r;
	size_t bad = r->untrusted + r->capped;

	if (bad == 0)
		return finish_check(c, ASN_RESULT_PASS, false, "ASN check "
		    "passed: %zu prefixes in trusted ASes%s", r->prefixes,
		    more);
	if (c->mode == ASN_MODE_WARN)
		return finish_check(c, ASN_RESULT_WARN, false, "ASN check "
		    "(asn_check = warn): %zu of %zu prefixes not in trusted "
		    "ASes, the first: %s", bad, r->prefixes, c->first);
	return finish_check(c, ASN_RESULT_REFUSED, true, "ASN check: %zu of "
	    "%zu prefixes not in trusted ASes, the first: %s", bad,
	    r->prefixes, c->first);
}

static enum asn_result
conclude(struct check *c)
{
	struct asn_report *r = c->r;
	struct buf more = BUF_INIT(ASN_MSG_MAX);
	enum asn_result res;

	if (c->no_v6 > 0)
		add_line(r, "asn_check: warning: the ASN database holds IPv4 "
		    "only: %zu IPv6 prefixes not checked", c->no_v6);
	buf_add(&more, "", 0);
	if (r->unknown > 0)
		buf_printf(&more, ", %zu partly not in the database",
		    r->unknown);
	if (c->no_v6 > 0)
		buf_printf(&more, ", %zu IPv6 not checked (IPv4-only database)",
		    c->no_v6);
	if (r->extra_untrusted > 0)
		buf_printf(&more, ", %zu extra_direct CIDRs outside trusted "
		    "ASes", r->extra_untrusted);
	res = conclude_with(c, more.error == BUF_OK ? more.p : "");
	buf_free(&more);
	return res;
}

/* A lookup failed in the middle: the database is damaged or not an ASN
 * database; nothing is known of the rest. */
static enum asn_result
read_failed(struct check *c)
{
	bool warn = c->mode == ASN_MODE_WARN;

	return finish_check(c, ASN_RESULT_ERROR, !warn, "ASN check: cannot "
	    "read the ASN database %s: %s%s", c->o->database, c->err, warn ?
	    " (asn_check = warn: installed unchecked)" : "");
}

/* The database and the trusted ASes; returns -1 with the result set
 * when there is nothing to walk. */
static int
check_open(struct check *c)
{
	const struct asn_check_opts *o = c->o;
	bool warn = c->mode == ASN_MODE_WARN;

	if (o->database == NULL || c->mode == ASN_MODE_OFF) {
		finish_check(c, ASN_RESULT_OFF, false, "ASN check off: %s",
		    o->database == NULL ? "no asn_database" :
		    "asn_check = off");
		return -1;
	}
	if (asn_trust_init(&c->trust, o->instance, o->trusted, c->err,
	    sizeof(c->err)) != 0) {
		finish_check(c, ASN_RESULT_ERROR, true, "ASN check: %s",
		    c->err);
		return -1;
	}
	if (c->trust.off) {
		finish_check(c, ASN_RESULT_OFF, false, "ASN check off: "
		    "instance %s has no default trusted ASes (21Vianet's "
		    "AS58593 and Chinese carriers originate its prefixes); set "
		    "trusted_asns to check it", o->instance);
		add_line(c->r, "asn_check: %s", c->r->summary);
		return -1;
	}
	c->db = asn_db_open(o->database, c->err, sizeof(c->err));
	if (c->db == NULL) {
		finish_check(c, ASN_RESULT_ERROR, !warn, "ASN check: cannot "
		    "read the ASN database: %s%s", c->err, warn ?
		    " (asn_check = warn: installed unchecked)" : "");
		return -1;
	}
	return 0;
}

enum asn_result
asn_check_data(const struct asn_check_opts *o, const struct m365_data *d,
    struct asn_report *r)
{
	struct check c = { .o = o, .mode = asn_mode_parse(o->mode), .r = r,
	    .budget = ASN_MAX_BLOCKS_TOTAL };
	enum asn_result res;

	memset(r, 0, sizeof(*r));
	if (check_open(&c) != 0) {
		res = r->result;
	} else if (check_sets(&c, d) != 0) {
		res = finish_check(&c, ASN_RESULT_ERROR, true, "ASN check: out "
		    "of memory");
	} else {
		check_extra(&c);
		res = c.failed ? read_failed(&c) : conclude(&c);
	}
	asn_db_close(c.db);
	asn_trust_free(&c.trust);
	return res;
}
