/* sample.c - see sample.h. */
#include "sample.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FILL_NONLABEL "x"               /* a '?' */

bool
sample_label_valid(const char *label)
{
	size_t len = strlen(label);

	if (len == 0 || len > HOST_LABEL_MAX_LEN || label[0] == '-' ||
	    label[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

int
sample_fill(const char *pattern, const char *label, char *out, size_t size)
{
	struct host_query q;
	size_t n = 0;

	for (const char *p = pattern; *p != '\0'; p++) {
		const char *add = p;
		size_t len = 1;

		if (*p == '*') {
			bool whole = (p == pattern || p[-1] == '.') &&
			    (p[1] == '\0' || p[1] == '.');

			add = whole ? label : "";
			len = strlen(add);
		} else if (*p == '?') {
			add = FILL_NONLABEL;
		}
		if (n + len >= size)
			return -1;
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = '\0';
	host_normalise(out, n, &q);
	if (q.kind != HOST_NAME)
		return -1;
	snprintf(out, size, "%s", q.name);
	return 0;
}

static const struct m365_set *
find_set(const struct m365_data *d, int id)
{
	for (size_t i = 0; i < d->n_sets; i++)
		if (d->sets[i].id == id)
			return &d->sets[i];
	return NULL;
}

static void
set_area(struct sample_host *h, const struct m365_set *s)
{
	snprintf(h->service_area, sizeof(h->service_area), "%s",
	    s != NULL && s->service_area != NULL ? s->service_area : "");
}

/* Whether name goes direct on port 443 with exactly category c, not only
 * by extra_direct. */
static bool
direct_as(const struct m365_rules *r, const char *name, enum m365_category c)
{
	static struct m365_verdict v;   /* large; one thread */

	matcher_lookup(r, name, strlen(name), SAMPLE_PORT, &v);
	return v.direct && !v.custom && v.category == c;
}

static bool
already(const struct sample_host *out, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(out[i].name, name) == 0)
			return true;
	return false;
}

/* The first usable name of set s, exact names first: 0 and *h filled,
 * or -1. */
static int
pick_from_set(const struct m365_rules *r, const struct m365_set *s,
    const char *label, const struct sample_host *out, size_t n,
    struct sample_host *h)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->n_urls; i++) {
			const char *u = s->urls[i];
			bool glob = strpbrk(u, "*?") != NULL;

			if (glob != (pass == 1) || sample_fill(u, label, h->name,
			    sizeof(h->name)) != 0 || already(out, n, h->name) ||
			    !direct_as(r, h->name, s->category))
				continue;
			snprintf(h->pattern, sizeof(h->pattern), "%s",
			    glob ? u : "");
			h->category = s->category;
			h->custom = false;
			h->set_id = s->id;
			set_area(h, s);
			return 0;
		}
	}
	return -1;
}

/* Whether area was named by a set before index i (first appearance). */
static bool
area_seen_before(const struct m365_data *d, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcasecmp(d->sets[j].service_area, d->sets[i].service_area) == 0)
			return true;
	return false;
}

/* One host of category c for the service area of set index a, appended to
 * out; returns 1 when one was found, else 0. */
static size_t
pick_for_area(const struct m365_rules *r, size_t a, enum m365_category c,
    const char *label, struct sample_host *out, size_t n)
{
	const struct m365_data *d = matcher_data(r);

	for (size_t i = a; i < d->n_sets; i++) {
		const struct m365_set *s = &d->sets[i];

		if (s->category != c || strcasecmp(s->service_area,
		    d->sets[a].service_area) != 0 ||
		    !endpoints_ports_contain(&s->tcp, SAMPLE_PORT))
			continue;
		if (pick_from_set(r, s, label, out, n, &out[n]) == 0)
			return 1;
	}
	return 0;
}

size_t
sample_pick(const struct m365_rules *r, const char *label,
    struct sample_host *out, size_t cap)
{
	const struct m365_data *d = matcher_data(r);
	size_t n = 0, allow = 0;

	for (size_t a = 0; a < d->n_sets && n < cap; a++)
		if (!area_seen_before(d, a))
			n += pick_for_area(r, a, M365_CAT_OPTIMIZE, label, out, n);
	for (size_t a = 0; a < d->n_sets && n < cap && allow < SAMPLE_MAX_ALLOW;
	    a++) {
		size_t got;

		if (area_seen_before(d, a))
			continue;
		got = pick_for_area(r, a, M365_CAT_ALLOW, label, out, n);
		n += got;
		allow += got;
	}
	return n;
}

int
sample_describe(const struct m365_rules *r, const char *name,
    struct sample_host *h, const char **why)
{
	static struct m365_verdict v;
	struct host_query q;

	memset(h, 0, sizeof(*h));
	h->set_id = -1;
	host_normalise(name, strlen(name), &q);
	if (q.kind != HOST_NAME) {
		*why = q.kind == HOST_IP ? "an IP address: assess needs a host "
		    "name (the TLS server name)" : q.reason;
		return -1;
	}
	matcher_lookup(r, q.name, q.len, SAMPLE_PORT, &v);
	if (!v.direct) {
		*why = "not a Microsoft 365 endpoint that goes direct on TCP 443 "
		    "by the data in use (use it as --control)";
		return -1;
	}
	snprintf(h->name, sizeof(h->name), "%s", q.name);
	h->category = v.category;
	h->custom = v.custom;
	for (size_t i = 0; i < v.n_matches && !v.custom; i++) {
		const struct m365_match *m = &v.matches[i];

		if (m->kind == M365_FROM_SET && m->excluded == M365_APPLIES &&
		    m->category == v.category) {
			h->set_id = m->set_id;
			set_area(h, find_set(matcher_data(r), m->set_id));
			break;
		}
	}
	return 0;
}
