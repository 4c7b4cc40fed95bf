/* haproxy.c - see haproxy.h: the HAProxy map files.  Replacing them in a
 * running HAProxy is haproxy_api.c's job.
 *
 * How each pattern becomes a key (DESIGN.md §3, §5):
 *   "host"          map_str key "host"
 *   "*x"            map_end key "x" (a raw byte suffix is exactly "*x":
 *                   "*.x" gives ".x", "*cdn.x" gives "cdn.x")
 *   anything else   map_reg key "^...$": '*' is ".*", '?' is ".", '.' is
 *                   "[.]" (no backslash: HAProxy's runtime API would have
 *                   to escape it)
 * map_dom is never used: it is not a suffix match ("x" matches "x.evil.net").
 *
 * The values are the category, as high as check would say wherever one
 * lookup can tell: map_str keys get the highest category of every entry
 * matching them; map_end is a list searched in file order, so the longest
 * keys come first and each carries the highest category of the keys that
 * are its suffixes; map_ip returns the longest prefix, which carries the
 * highest category of the prefixes containing it.  A host matching entries
 * of two maps gets the value of the first map the frontend asks.  Whether a
 * host is direct never depends on the values. */
#include "haproxy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "matcher.h"
#include "names.h"
#include "parse.h"
#include "prefix.h"

static const struct map_kind {
	const char *file;
	const char *what;
} kinds[HAPROXY_MAPS] = {
	{ "m365-never-names.map", "never_direct host names, exact (map_str)" },
	{ "m365-never-suffixes.map", "never_direct patterns \"*x\" as the "
	    "suffix x (map_end)" },
	{ "m365-never-patterns.map", "never_direct patterns with a wildcard "
	    "elsewhere, as anchored regexes (map_reg)" },
	{ "m365-never-ips.map", "never_direct addresses and prefixes (map_ip)" },
	{ "m365-direct-names.map", "direct host names, exact (map_str)" },
	{ "m365-direct-suffixes.map", "direct patterns \"*x\" as the suffix x "
	    "(map_end; longest first, the first match wins)" },
	{ "m365-direct-patterns.map", "direct patterns with a wildcard "
	    "elsewhere, as anchored regexes (map_reg)" },
	{ "m365-direct-ips.map", "direct prefixes (map_ip)" },
};

/* --- building the maps ------------------------------------------------- */

#define RANK_GUARD (-1)         /* an ip map guard: value "-" */
#define REGEX_MAX (3 * HOST_NAME_MAX_LEN + 3)

struct line {
	char *key;
	int rank;               /* enum m365_category, or RANK_GUARD */
};

struct lines {
	struct line *v;
	size_t n, cap;
};

static int
lines_add(struct lines *l, const char *key, size_t len, int rank)
{
	char *k;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct line *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if ((k = parse_strndup(key, len)) == NULL)
		return -1;
	l->v[l->n].key = k;
	l->v[l->n++].rank = rank;
	return 0;
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->key,
	    ((const struct line *)b)->key);
}

static int
cmp_str_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct line *)elem)->key);
}

/* Longest first, then by key: the order of a map_end list. */
static int
cmp_suffix_order(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	size_t lx = strlen(x->key), ly = strlen(y->key);

	if (lx != ly)
		return lx > ly ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Highest category first, then by key: the order of a map_reg list. */
static int
cmp_regex_order(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Sorts by key and merges equal keys, keeping the highest rank. */
static void
lines_dedup(struct lines *l)
{
	size_t k = 0;

	if (l->n == 0)
		return;                 /* qsort must not get NULL */
	qsort(l->v, l->n, sizeof(*l->v), cmp_key);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1].key, l->v[i].key) == 0) {
			if (l->v[i].rank > l->v[k - 1].rank)
				l->v[k - 1].rank = l->v[i].rank;
			free(l->v[i].key);
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

/* The anchored regex of a shExpMatch pattern (lower case, [a-z0-9_.-*?]). */
static void
glob_regex(const char *pat, char *out, size_t size)
{
	size_t o = 0;

	out[o++] = '^';
	for (const char *c = pat; *c != '\0' && o + 5 < size; c++) {
		const char *s;

		if (*c == '*' && c > pat && c[-1] == '*')
			continue;               /* "**" is "*" */
		s = *c == '*' ? ".*" : *c == '?' ? "." : *c == '.' ? "[.]" : NULL;
		if (s == NULL) {
			out[o++] = *c;
			continue;
		}
		memcpy(out + o, s, strlen(s));
		o += strlen(s);
	}
	out[o++] = '$';
	out[o] = '\0';
}

/* Files each pattern as an exact name, a suffix or a regex. */
static int
split_names(const struct export_name *names, size_t n, struct lines *exact,
    struct lines *suffix, struct lines *regex)
{
	for (size_t i = 0; i < n; i++) {
		const char *pat = names[i].pattern, *rest = pat;
		int rank = (int)names[i].category, rc;
		char re[REGEX_MAX + 8];

		switch (host_pattern_kind(pat, &rest)) {
		case HOST_PATTERN_SUFFIX:
			if (*rest != '\0') {
				rc = lines_add(suffix, rest, strlen(rest), rank);
				break;
			}
			/* "*": map_end cannot hold an empty key */
			/* FALLTHROUGH */
		case HOST_PATTERN_GLOB:
			glob_regex(pat, re, sizeof(re));
			rc = lines_add(regex, re, strlen(re), rank);
			break;
		default:
			rc = lines_add(exact, pat, strlen(pat), rank);
			break;
		}
		if (rc != 0)
			return -1;
	}
	lines_dedup(exact);
	lines_dedup(suffix);
	lines_dedup(regex);
	return 0;
}

struct rank_max {
	const struct export_name *names;
	int max;
};

static void
visit_name_rank(void *ctx, uint32_t index)
{
	struct rank_max *m = ctx;

	if ((int)m->names[index].category > m->max)
		m->max = (int)m->names[index].category;
}

/* Raises each exact name to the highest category of all direct entries
 * that match it (as check would answer). */
static int
raise_exact(struct lines *exact, const struct export_name *names, size_t n,
    char *err, size_t errlen)
{
	const char **pats = malloc((n ? n : 1) * sizeof(*pats));
	struct name_table *t = NULL;

	if (pats == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		pats[i] = names[i].pattern;
	t = names_new(pats, n, err, errlen);
	free(pats);
	if (t == NULL)
		return -1;
	for (size_t i = 0; i < exact->n; i++) {
		struct rank_max m = { names, exact->v[i].rank };

		names_visit(t, exact->v[i].key, strlen(exact->v[i].key),
		    visit_name_rank, &m);
		exact->v[i].rank = m.max;
	}
	names_free(t);
	return 0;
}

/* Raises each suffix key to the highest rank of the keys that are its
 * suffixes (every host ending in the key ends in those too).  l is sorted
 * by key. */
static int
raise_suffixes(struct lines *l)
{
	int *rank = malloc((l->n ? l->n : 1) * sizeof(*rank));

	if (rank == NULL)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		const char *k = l->v[i].key;

		rank[i] = l->v[i].rank;
		for (size_t off = 1; k[off] != '\0'; off++) {
			const struct line *hit = bsearch(k + off, l->v, l->n,
			    sizeof(*l->v), cmp_str_key);

			if (hit != NULL && hit->rank > rank[i])
				rank[i] = hit->rank;
		}
	}
	for (size_t i = 0; i < l->n; i++)
		l->v[i].rank = rank[i];
	free(rank);
	return 0;
}

struct prefix_max {
	const struct export_prefix *v;
	unsigned len;                   /* of the prefix asked about */
	int max;
	bool any;
};

static void
visit_prefix_rank(void *ctx, uint32_t index)
{
	struct prefix_max *m = ctx;

	/* a prefix containing the network address and no longer contains
	 * the whole prefix */
	if (m->v[index].prefix.len > m->len)
		return;
	m->any = true;
	if ((int)m->v[index].category > m->max)
		m->max = (int)m->v[index].category;
}

/* The ip map lines: each prefix with the highest category of the prefixes
 * containing it, then the guards (see haproxy.h). */
static int
ip_lines(const struct export_prefix *v, size_t n, struct lines *out)
{
	static const char *const guards[] = { "::/96", "2002::/16" };
	struct ip_prefix *px = malloc((n ? n : 1) * sizeof(*px));
	struct prefix_table *t;
	int rc = -1;

	if (px == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		px[i] = v[i].prefix;
	t = prefix_table_new(px, n);
	free(px);
	if (t == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct prefix_max m = { v, v[i].prefix.len, (int)v[i].category,
		    false };

		prefix_table_visit(t, &v[i].prefix.addr, visit_prefix_rank, &m);
		if (lines_add(out, v[i].text, strlen(v[i].text), m.max) != 0)
			goto done;
	}
	for (size_t g = 0; g < sizeof(guards) / sizeof(guards[0]); g++) {
		struct ip_prefix gp;
		struct prefix_max m = { v, 0, RANK_GUARD, false };
		const char *why;
		bool same = false;

		prefix_parse(guards[g], strlen(guards[g]), false, &gp, &why);
		m.len = gp.len;
		for (size_t i = 0; i < n && !same; i++)
			same = v[i].prefix.len == gp.len &&
			    ip_cmp(&v[i].prefix.addr, &gp.addr) == 0;
		if (same)
			continue;               /* the entry itself does the job */
		prefix_table_visit(t, &gp.addr, visit_prefix_rank, &m);
		if (lines_add(out, guards[g], strlen(guards[g]), m.max) != 0)
			goto done;
	}
	rc = 0;
done:
	prefix_table_free(t);
	return rc;
}

static const char *
value_text(bool never, int rank)
{
	if (rank == RANK_GUARD)
		return "-";
	if (never)
		return "never";
	if (rank == M365_CAT_NONE)
		return "custom";
	return matcher_category_name((enum m365_category)rank);
}

static void
emit(struct haproxy_map *map, enum haproxy_map_id id,
    const struct export_ctx *x, const struct lines *l)
{
	struct buf *b = &map->text;
	bool never = id <= HAPROXY_NEVER_IPS;

	map->file = kinds[id].file;
	export_buf_header(b, x, "# ");
	buf_printf(b, "# %s: %s.\n", kinds[id].file, kinds[id].what);
	if (never)
		buf_printf(b, "# Looked up before the direct maps: a "
		    "match here is never direct.\n");
	else
		buf_printf(b, "# Value: the category that makes the host "
		    "direct (optimize, allow, default; custom for extra_direct).\n");
	if (id == HAPROXY_NEVER_IPS || id == HAPROXY_DIRECT_IPS)
		buf_printf(b, "# \"-\" (::/96, 2002::/16) is no match: "
		    "map_ip would otherwise read such IPv6 addresses as the IPv4 "
		    "address they embed.\n");
	map->entries_at = b->len;
	for (size_t i = 0; i < l->n; i++)
		buf_printf(b, "%s %s\n", l->v[i].key,
		    value_text(never, l->v[i].rank));
	map->n_entries = l->n;
}

/* Builds the four maps of one side (never or direct). */
static int
build_side(struct haproxy_maps *m, const struct export_ctx *x, bool never,
    char *err, size_t errlen)
{
	const struct export_entries *e = &x->entries;
	const struct export_name *names = never ? e->never_names : e->names;
	size_t n_names = never ? e->n_never_names : e->n_names;
	enum haproxy_map_id first = never ? HAPROXY_NEVER_NAMES :
	    HAPROXY_DIRECT_NAMES;
	struct lines exact = { 0 }, suffix = { 0 }, regex = { 0 }, ips = { 0 };
	int rc = -1;

	snprintf(err, errlen, "out of memory");
	if (split_names(names, n_names, &exact, &suffix, &regex) != 0 ||
	    (!never && raise_exact(&exact, names, n_names, err, errlen) != 0) ||
	    (!never && raise_suffixes(&suffix) != 0) ||
	    ip_lines(never ? e->never_prefixes : e->prefixes,
	    never ? e->n_never_prefixes : e->n_prefixes, &ips) != 0)
		goto done;
	if (suffix.n > 0)
		qsort(suffix.v, suffix.n, sizeof(*suffix.v), cmp_suffix_order);
	if (regex.n > 0)
		qsort(regex.v, regex.n, sizeof(*regex.v), cmp_regex_order);
	emit(&m->map[first], first, x, &exact);
	emit(&m->map[first + 1], first + 1, x, &suffix);
	emit(&m->map[first + 2], first + 2, x, &regex);
	emit(&m->map[first + 3], first + 3, x, &ips);
	rc = 0;
done:
	lines_free(&exact);
	lines_free(&suffix);
	lines_free(&regex);
	lines_free(&ips);
	return rc;
}

int
haproxy_maps_build(const struct export_ctx *x, struct haproxy_maps *m,
    char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < HAPROXY_MAPS; i++)
		m->map[i].text = (struct buf)BUF_INIT(EXPORT_MAX_BYTES);
	if (build_side(m, x, true, err, errlen) != 0 ||
	    build_side(m, x, false, err, errlen) != 0)
		goto fail;
	for (int i = 0; i < HAPROXY_MAPS; i++)
		if (m->map[i].text.error != BUF_OK) {
			snprintf(err, errlen, "%s: %s", m->map[i].file,
			    buf_strerror(m->map[i].text.error));
			goto fail;
		}
	return 0;
fail:
	haproxy_maps_free(m);
	return -1;
}

void
haproxy_maps_free(struct haproxy_maps *m)
{
	for (int i = 0; i < HAPROXY_MAPS; i++)
		buf_free(&m->map[i].text);
	memset(m, 0, sizeof(*m));
}

int
haproxy_map_path(const char *dir, const char *file, char *out, size_t size)
{
	size_t dl = strlen(dir);

	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	return snprintf(out, size, "%.*s/%s", (int)dl, dir, file) >= (int)size ?
	    -1 : 0;
}

int
haproxy_maps_install(const struct haproxy_maps *m, const char *dir,
    char *err, size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < HAPROXY_MAPS; i++) {
		char path[PATH_MAX];

		if (haproxy_map_path(dir, m->map[i].file, path, sizeof(path)) != 0) {
			snprintf(err, errlen, "%s: path too long", dir);
			return -1;
		}
		if (export_buf_install(&m->map[i].text, path, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int
export_haproxy(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen)
{
	struct haproxy_maps m;
	int rc;

	if (haproxy_maps_build(x, &m, err, errlen) != 0)
		return -1;
	rc = haproxy_maps_install(&m, o->out, err, errlen);
	haproxy_maps_free(&m);
	return rc;
}
