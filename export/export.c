/* export.c - see export.h: the entries every writer works from, the
 * header, the output buffer and its atomic install. */
#include "export.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "matcher.h"
#include "atomic.h"

static const struct exporter exporters[] = {
	{ "squid", export_squid },
	{ "haproxy", export_haproxy },
	{ "pac", export_pac },
	{ "mmdb", export_mmdb },
};

const struct exporter *
export_find(const char *name)
{
	for (size_t i = 0; i < sizeof(exporters) / sizeof(exporters[0]); i++)
		if (strcmp(name, exporters[i].name) == 0)
			return &exporters[i];
	return NULL;
}

/* --- the buffer -------------------------------------------------------- */

void
export_buf_text(struct buf *b, const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c > 0x7e || c == '\\' ||
		    (c == '/' && p > s && p[-1] == '*'))
			buf_printf(b, "\\x%02x", c);
		else
			buf_add(b, p, 1);
	}
}

void
export_buf_header(struct buf *b, const struct export_ctx *x,
    const char *comment)
{
	const char *line = x->header;

	while (*line != '\0') {
		size_t len = strcspn(line, "\n");

		buf_printf(b, "%s%.*s\n", comment, (int)len, line);
		line += len + (line[len] == '\n');
	}
}

int
export_buf_install(const struct buf *b, const char *path, char *err,
    size_t errlen)
{
	char *d1 = strdup(path), *d2 = strdup(path);
	int rc = -1;

	if (b->error != BUF_OK)
		snprintf(err, errlen, "%s: %s", path, buf_strerror(b->error));
	else if (d1 == NULL || d2 == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	else
		rc = atomic_install(dirname(d1), basename(d2),
		    b->p != NULL ? b->p : "", b->len, err, errlen);
	free(d1);
	free(d2);
	return rc;
}

/* --- the entries ------------------------------------------------------- */

static int
add_name(struct export_name **v, size_t *n, size_t *cap, const char *pattern,
    enum m365_category cat)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		struct export_name *p = realloc(*v, c * sizeof(*p));

		if (p == NULL)
			return -1;
		*v = p;
		*cap = c;
	}
	(*v)[*n].pattern = strdup(pattern);
	(*v)[*n].category = cat;
	return (*v)[(*n)++].pattern == NULL ? -1 : 0;
}

static int
add_prefix(struct export_prefix **v, size_t *n, size_t *cap,
    const struct ip_prefix *p, enum m365_category cat)
{
	char text[IP_TEXT_MAX];

	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		struct export_prefix *q = realloc(*v, c * sizeof(*q));

		if (q == NULL)
			return -1;
		*v = q;
		*cap = c;
	}
	prefix_format(p, text, sizeof(text));
	(*v)[*n].prefix = *p;
	(*v)[*n].category = cat;
	return ((*v)[(*n)++].text = strdup(text)) == NULL ? -1 : 0;
}

static int
cmp_name(const void *a, const void *b)
{
	const struct export_name *x = a, *y = b;
	int c = strcmp(x->pattern, y->pattern);

	/* equal patterns: the highest category first (kept by dedup) */
	return c != 0 ? c : (int)y->category - (int)x->category;
}

static int
cmp_prefix_entry(const void *a, const void *b)
{
	const struct export_prefix *x = a, *y = b;
	int c = prefix_cmp(&x->prefix, &y->prefix);

	/* equal prefixes: the highest category first (kept by dedup) */
	return c != 0 ? c : (int)y->category - (int)x->category;
}

/* Sorts and keeps the first of equal entries (the highest category).
 * Extra_direct entries (NONE) sort after data entries of the same name,
 * so data categories win; a name only in extra_direct stays "custom". */
static void
dedup_names(struct export_name *v, size_t *n)
{
	size_t k = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), cmp_name);
	for (size_t i = 0; i < *n; i++) {
		if (k > 0 && strcmp(v[k - 1].pattern, v[i].pattern) == 0) {
			free(v[i].pattern);
			continue;
		}
		v[k++] = v[i];
	}
	*n = k;
}

static void
dedup_prefixes(struct export_prefix *v, size_t *n)
{
	size_t k = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), cmp_prefix_entry);
	for (size_t i = 0; i < *n; i++) {
		if (k > 0 && ip_cmp(&v[k - 1].prefix.addr, &v[i].prefix.addr) == 0 &&
		    v[k - 1].prefix.len == v[i].prefix.len) {
			free(v[i].text);
			continue;
		}
		v[k++] = v[i];
	}
	*n = k;
}

bool
export_mask_supported(unsigned mask)
{
	bool opt = mask & (1u << M365_CAT_OPTIMIZE);
	bool allow = mask & (1u << M365_CAT_ALLOW);
	bool def = mask & (1u << M365_CAT_DEFAULT);

	return (!allow || opt) && (!def || allow);
}

/* What collect fills, as matcher_entries hands the entries over. */
struct collect_ctx {
	struct export_entries *e;
	size_t cn, cp, cnn, cnp;        /* capacities */
};

static int
collect_one(void *ctx, const struct m365_entry *m)
{
	struct collect_ctx *c = ctx;
	struct export_entries *e = c->e;
	bool never = m->kind == M365_FROM_NEVER;

	if (m->pattern != NULL)
		return never ? add_name(&e->never_names, &e->n_never_names, &c->cnn,
		    m->pattern, m->category) : add_name(&e->names, &e->n_names,
		    &c->cn, m->pattern, m->category);
	return never ? add_prefix(&e->never_prefixes, &e->n_never_prefixes,
	    &c->cnp, m->prefix, m->category) : add_prefix(&e->prefixes,
	    &e->n_prefixes, &c->cp, m->prefix, m->category);
}

/* The entries, from the one view of the rules (matcher_entries): what the
 * policy makes direct and never_direct, sorted and de-duplicated. */
static int
collect(struct export_ctx *x, unsigned mask)
{
	struct collect_ctx c = { &x->entries, 0, 0, 0, 0 };
	struct export_entries *e = &x->entries;

	if (matcher_entries(x->rules, mask, collect_one, &c) != 0)
		return -1;
	dedup_names(e->names, &e->n_names);
	dedup_prefixes(e->prefixes, &e->n_prefixes);
	dedup_names(e->never_names, &e->n_never_names);
	dedup_prefixes(e->never_prefixes, &e->n_never_prefixes);
	return 0;
}

/* Builds x->header: what made the file, from which data, under which
 * policy.  Returns 0, or -1 when out of memory. */
static int
make_header(struct export_ctx *x, unsigned mask)
{
	const struct m365_policy *p = x->policy;
	const struct export_source *src = &x->source;
	struct buf b = BUF_INIT(EXPORT_MAX_BYTES);
	bool any = false;

	buf_printf(&b, "Generated by m365-direct %s; do not edit: "
	    "regenerate with \"m365-direct export\".\nData: ", M365_VERSION);
	if (src->instance[0] != '\0') {
		export_buf_text(&b, src->instance);
		buf_add(&b, " ", 1);
	}
	buf_printf(&b, "version ");
	export_buf_text(&b, src->version[0] != '\0' ? src->version : "unknown");
	buf_printf(&b, " (%s%s", src->kind, src->path[0] ? " " : "");
	export_buf_text(&b, src->path);
	buf_printf(&b, ").\nPolicy: direct categories ");
	for (int c = M365_CAT_OPTIMIZE; c >= M365_CAT_DEFAULT; c--)
		if (mask & (1u << c)) {
			buf_printf(&b, "%s%s", any ? ", " : "",
			    matcher_category_name((enum m365_category)c));
			any = true;
		}
	buf_printf(&b, "%s; service areas %s", any ? "" : "none",
	    p->service_areas.n > 0 ? "" : "all");
	for (size_t i = 0; i < p->service_areas.n; i++) {
		buf_printf(&b, "%s", i > 0 ? ", " : "");
		export_buf_text(&b, p->service_areas.v[i]);
	}
	buf_printf(&b, "; required only %s; %zu extra_direct and %zu "
	    "never_direct entries.\n"
	    "Ports are not expressed: what is listed is direct on every port "
	    "(the answer of \"m365-direct check\" without a port).",
	    p->required_only ? "yes" : "no", p->extra_direct.n,
	    p->never_direct.n);
	if (b.error != BUF_OK || b.p == NULL) {
		buf_free(&b);
		return -1;
	}
	x->header = b.p;        /* handed over: export_release frees it */
	return 0;
}

int
export_prepare(struct export_ctx *x, const struct m365_rules *rules,
    const struct m365_policy *policy, unsigned direct_mask,
    const struct export_source *src, char *err, size_t errlen)
{
	memset(x, 0, sizeof(*x));
	x->rules = rules;
	x->data = matcher_data(rules);
	x->policy = policy;
	x->source = *src;
	if (!export_mask_supported(direct_mask)) {
		snprintf(err, errlen, "exports need direct categories that include "
		    "every higher one (optimize; optimize, allow; or all three)");
		return -1;
	}
	if (collect(x, direct_mask) != 0 || make_header(x, direct_mask) != 0) {
		snprintf(err, errlen, "out of memory");
		export_release(x);
		return -1;
	}
	return 0;
}

static void
free_names(struct export_name *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].pattern);
	free(v);
}

static void
free_prefixes(struct export_prefix *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

void
export_release(struct export_ctx *x)
{
	struct export_entries *e = &x->entries;

	free_names(e->names, e->n_names);
	free_prefixes(e->prefixes, e->n_prefixes);
	free_names(e->never_names, e->n_never_names);
	free_prefixes(e->never_prefixes, e->n_never_prefixes);
	memset(e, 0, sizeof(*e));
	free(x->header);
	x->header = NULL;
}
