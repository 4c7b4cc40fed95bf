/* validate.c - see validate.h: the guards on new data before it is
 * installed (the README lists what they refuse).
 *
 * Poison is checked before shrink, in file order, patterns before prefixes
 * in a set; the first problem is the message.  Only Optimize and Allow
 * sets are checked for poison: Default is proxied by default and holds
 * third-party names on purpose.
 *
 * A pattern matches only names ending in its "fixed part", the whole
 * labels after its last wildcard; a tail that starts inside a label gives
 * only the labels after its first dot, since the wildcard can lengthen
 * that label (*soft.com -> com).  Public suffixes come from libpsl: the
 * file the configuration names, else psl_latest (the system's list,
 * /usr/share/publicsuffix, or libpsl's built-in one, whichever is newer);
 * with none, validation fails closed.  A fixed part in the ICANN section
 * (com, co.uk) is refused; one in the private section (github.io,
 * s3.amazonaws.com) is a platform where anyone can register names, so a
 * pattern over it would send strangers' hosts direct: refused too, but
 * for the few Microsoft platforms that genuine feeds list (microsoft[]
 * below), accepted with a warning, and only in their instance's data.
 * libpsl counts the parent of a wildcard rule as a suffix itself
 * (*.azurecontainer.io makes azurecontainer.io one), so *.x is caught when
 * every name under x is a suffix.  It cannot list the rules below a name:
 * a pattern whose fixed part merely has suffixes further down
 * (*.amazonaws.com, over s3.amazonaws.com) is not caught.
 *
 * Prefixes live in one 128-bit space (IPv4 at ::ffff:a.b.c.d) and CIDR
 * blocks are nested or disjoint, so "overlaps a reserved range" is "one
 * contains the other"; ::ffff:0:0/96 itself is not in reserved[], every
 * IPv4 prefix lies in it.  The length is checked against the floor first,
 * then the reserved ranges (which name what is wrong more precisely),
 * then the configured minimum.
 *
 * Shrink counts sets as entries but names and prefixes as distinct
 * values over all sets, so a feed padded with repeats cannot hide a loss;
 * "fewer than half" is next < prev / 2 in rationals. */
#include "validate.h"

#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "prefix.h"

/* Private-section public suffixes that genuine Microsoft feeds list in
 * Optimize or Allow sets, by instance.  None is on the list yet (neither
 * libpsl's of 2023-02-09 nor the upstream one of 2025, whose Microsoft
 * entries are Azure's worldwide and US Government platforms: cloudapp.net,
 * azurewebsites.net, azure-mobile.net, usgovcloudapp.net, ...); these are
 * the Azure China twins of entries that are, so that the day Microsoft
 * lists them the China data still installs, with a warning, instead of
 * being refused.  No scanned feed's Optimize/Allow pattern is refused by
 * the private section today (tests/data: worldwide 2022, 2025, China
 * 2025).  Add an entry only for a suffix a genuine feed uses, with the
 * set that uses it. */
static const struct microsoft_suffix {
	const char *suffix;
	const char *instance;
} microsoft[] = {
	/* China set 7 (Allow, Common): "*.chinacloudapp.cn", Azure China's
	 * cloudapp.net (cloud services) */
	{ "chinacloudapp.cn", "China" },
	/* China set 7: "*.chinacloudsites.cn", Azure China's
	 * azurewebsites.net (App Service) */
	{ "chinacloudsites.cn", "China" },
	/* China set 7: "*.azure-mobile.cn", Azure China's azure-mobile.net */
	{ "azure-mobile.cn", "China" },
};

#define N_MICROSOFT (sizeof(microsoft) / sizeof(microsoft[0]))

/* Ranges no Optimize/Allow prefix may overlap; the first hit in this order
 * names the message: IPv6 first, so that ::/16 is named by ::/128 rather
 * than by the IPv4-mapped 0.0.0.0/8 it spans too, and ::/128 and ::1/128
 * before the ::/96 around them. */
static const struct reserved {
	const char *text;
	const char *what;
} reserved[] = {
	{ "::/128", "unspecified" },
	{ "::1/128", "loopback" },
	{ "::/96", "IPv4-compatible" },
	{ "64:ff9b::/96", "NAT64" },
	{ "64:ff9b:1::/48", "NAT64" },
	{ "100::/64", "discard-only" },
	{ "2001::/32", "Teredo" },
	{ "2001:2::/48", "benchmarking" },
	{ "2001:db8::/32", "documentation" },
	{ "2002::/16", "6to4" },
	{ "3fff::/20", "documentation" },
	{ "fc00::/7", "private" },
	{ "fe80::/10", "link-local" },
	{ "fec0::/10", "site-local" },
	{ "ff00::/8", "multicast" },
	{ "0.0.0.0/8", "unspecified" },
	{ "10.0.0.0/8", "private" },
	{ "100.64.0.0/10", "shared (carrier-grade NAT)" },
	{ "127.0.0.0/8", "loopback" },
	{ "169.254.0.0/16", "link-local" },
	{ "172.16.0.0/12", "private" },
	{ "192.0.0.0/24", "IETF protocol" },
	{ "192.0.2.0/24", "documentation" },
	{ "192.168.0.0/16", "private" },
	{ "198.18.0.0/15", "benchmarking" },
	{ "198.51.100.0/24", "documentation" },
	{ "203.0.113.0/24", "documentation" },
	{ "224.0.0.0/4", "multicast" },
	{ "240.0.0.0/4", "reserved" },
};

#define N_RESERVED (sizeof(reserved) / sizeof(reserved[0]))

/* What the poison checks need, set up once per validate_data call. */
struct poison {
	const psl_ctx_t *psl;
	psl_ctx_t *psl_owned;           /* loaded from a file: freed */
	char psl_name[256];             /* which list, for the messages */
	struct ip_prefix ranges[N_RESERVED];
	unsigned min_v4, min_v6;
	const char *instance;           /* NULL: no Microsoft suffix accepted */
	/* "\"pattern\" (set N), ...": with psl_name and the words around
	 * them, it always fits validate_result.warning */
	char accepted[VALIDATE_TEXT_MAX / 2];
	size_t n_accepted;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the message (cut to errlen) and returns -1. */
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Loads the public suffix list: the file named, else psl_latest's choice;
 * says which in pz->psl_name.  Returns 0, or -1 with err. */
static int
poison_psl(struct poison *pz, const char *file, char *err, size_t errlen)
{
	time_t t = psl_builtin_file_time();
	char date[32] = "";

	if (file != NULL) {
		if ((pz->psl_owned = psl_load_file(file)) == NULL)
			return fail(err, errlen, "public suffix list %s: cannot "
			    "be loaded (libpsl reads the .dat text and DAFSA "
			    "files)", file);
		pz->psl = pz->psl_owned;
		snprintf(pz->psl_name, sizeof(pz->psl_name), "%s", file);
		return 0;
	}
	/* psl_latest hands back the built-in list itself when no file is
	 * newer, and psl_free leaves that one alone */
	pz->psl_owned = psl_latest(NULL);
	pz->psl = pz->psl_owned != NULL ? pz->psl_owned : psl_builtin();
	if (pz->psl == NULL)
		return fail(err, errlen, "no public suffix list: libpsl has "
		    "neither its built-in list nor %s", psl_dist_filename());
	if (pz->psl != psl_builtin()) {
		snprintf(pz->psl_name, sizeof(pz->psl_name), "%s",
		    psl_dist_filename());
		return 0;
	}
	if (t > 0)
		strftime(date, sizeof(date), " of %Y-%m-%d", gmtime(&t));
	snprintf(pz->psl_name, sizeof(pz->psl_name), "libpsl's built-in list%s",
	    date);
	return 0;
}

static int
poison_open(struct poison *pz, const struct validate_opts *o, char *err,
    size_t errlen)
{
	const char *why;

	for (size_t i = 0; i < N_RESERVED; i++)
		if (prefix_parse(reserved[i].text, strlen(reserved[i].text),
		    false, &pz->ranges[i], &why) != 0)
			return fail(err, errlen, "reserved range %s: %s",
			    reserved[i].text, why);
	pz->min_v4 = o->min_v4 == 0 ? VALIDATE_MIN_V4 :
	    o->min_v4 < VALIDATE_FLOOR_V4 ? VALIDATE_FLOOR_V4 : o->min_v4;
	pz->min_v6 = o->min_v6 == 0 ? VALIDATE_MIN_V6 :
	    o->min_v6 < VALIDATE_FLOOR_V6 ? VALIDATE_FLOOR_V6 : o->min_v6;
	pz->instance = o->instance;
	return poison_psl(pz, o->psl_file, err, errlen);
}

/* Hands the report to res (when not NULL) and frees the list. */
static void
poison_close(struct poison *pz, struct validate_result *res)
{
	if (res != NULL) {
		snprintf(res->psl, sizeof(res->psl), "%s", pz->psl_name);
		res->n_accepted = pz->n_accepted;
		res->warning[0] = '\0';
		if (pz->n_accepted > 0)
			snprintf(res->warning, sizeof(res->warning), "accepted as "
			    "Microsoft's own platform%s, though the public "
			    "suffix list (%s) says anyone can register names "
			    "under %s: %s", pz->n_accepted == 1 ? "" : "s",
			    pz->psl_name, pz->n_accepted == 1 ? "it" : "them",
			    pz->accepted);
	}
	psl_free(pz->psl_owned);
	pz->psl_owned = NULL;
}

static bool
is_wildcard(char c)
{
	return c == '*' || c == '?';
}

/* Points *fixed at the fixed part of pat (see the top of the file), a
 * suffix of pat; returns NULL, or why pat has none. */
static const char *
pattern_fixed_part(const char *pat, const char **fixed)
{
	const char *tail = NULL, *dot;

	for (const char *p = pat; *p != '\0'; p++)
		if (is_wildcard(*p))
			tail = p + 1;
	if (tail == NULL) {
		*fixed = pat;
		return NULL;
	}
	if (pat[strspn(pat, "*?")] == '\0')
		return "only wildcards";
	if (*tail == '\0')
		return "ends in a wildcard (matches any top-level domain)";
	if (*tail == '.') {
		*fixed = tail + 1;
		return NULL;
	}
	dot = strchr(tail, '.');
	if (dot == NULL)
		return "no whole label after the last wildcard";
	*fixed = dot + 1;
	return NULL;
}

/* Whether fixed is a Microsoft platform that data of instance may list
 * although the private section holds it. */
static bool
is_microsoft_suffix(const char *fixed, const char *instance)
{
	if (instance == NULL)
		return false;
	for (size_t i = 0; i < N_MICROSOFT; i++)
		if (strcmp(fixed, microsoft[i].suffix) == 0 &&
		    strcmp(instance, microsoft[i].instance) == 0)
			return true;
	return false;
}

/* Notes an accepted pattern for the warning; what does not fit is
 * counted, not shown. */
static void
note_accepted(struct poison *pz, int id, const char *pat)
{
	size_t len = strlen(pz->accepted), room = sizeof(pz->accepted) - len;
	int n = snprintf(pz->accepted + len, room, "%s\"%s\" (set %d)",
	    len > 0 ? ", " : "", pat, id);

	if (n < 0 || (size_t)n >= room)
		pz->accepted[len] = '\0';      /* cut: the count still says */
	pz->n_accepted++;
}

static int
check_pattern(struct poison *pz, int id, const char *pat, char *err,
    size_t errlen)
{
	const char *fixed = NULL, *why = pattern_fixed_part(pat, &fixed);

	if (why != NULL)
		return fail(err, errlen, "set %d: urls: \"%s\": %s", id, pat,
		    why);
	if (host_label_is_numeric(host_last_label(pat, strlen(pat)), true))
		return fail(err, errlen, "set %d: urls: \"%s\": the last label "
		    "is or can be a number: resolvers read such a name as an "
		    "IPv4 address", id, pat);
	if (psl_is_public_suffix2(pz->psl, fixed, PSL_TYPE_ICANN))
		return fail(err, errlen, "set %d: urls: \"%s\": fixed part "
		    "\"%s\" is a public suffix", id, pat, fixed);
	if (!psl_is_public_suffix2(pz->psl, fixed, PSL_TYPE_PRIVATE))
		return 0;
	if (!is_microsoft_suffix(fixed, pz->instance))
		return fail(err, errlen, "set %d: urls: \"%s\": fixed part "
		    "\"%s\" is a public suffix of the private section: anyone "
		    "can register names under it (%s)", id, pat, fixed,
		    pz->psl_name);
	note_accepted(pz, id, pat);
	return 0;
}

/* CIDR blocks are nested or disjoint: they overlap when one holds the
 * other's network address and is no longer than it. */
static bool
prefixes_overlap(const struct ip_prefix *a, const struct ip_prefix *b)
{
	if (a->len <= b->len)
		return prefix_contains(a, &b->addr);
	return prefix_contains(b, &a->addr);
}

/* The length of p as written: /n of IPv4, not of its ::ffff:0:0/96 form. */
static unsigned
written_len(const struct ip_prefix *p)
{
	return p->v4 ? (unsigned)p->len - 96 : (unsigned)p->len;
}

static int
check_prefix(const struct poison *pz, int id, const struct ip_prefix *p,
    const char *text, char *err, size_t errlen)
{
	const char *v = p->v4 ? "IPv4" : "IPv6";
	unsigned len = written_len(p);
	unsigned floor = p->v4 ? VALIDATE_FLOOR_V4 : VALIDATE_FLOOR_V6;
	unsigned min = p->v4 ? pz->min_v4 : pz->min_v6;

	if (len < floor)
		return fail(err, errlen, "set %d: ips: %s: %s prefix shorter "
		    "than /%u", id, text, v, floor);
	for (size_t i = 0; i < N_RESERVED; i++)
		if (prefixes_overlap(p, &pz->ranges[i]))
			return fail(err, errlen, "set %d: ips: %s: overlaps "
			    "%s range %s", id, text, reserved[i].what,
			    reserved[i].text);
	if (len < min)
		return fail(err, errlen, "set %d: ips: %s: %s prefix shorter "
		    "than /%u (min_prefix_%s = %u)", id, text, v, min,
		    p->v4 ? "v4" : "v6", min);
	return 0;
}

static int
check_set(struct poison *pz, const struct m365_set *s, char *err,
    size_t errlen)
{
	if (s->category != M365_CAT_OPTIMIZE && s->category != M365_CAT_ALLOW)
		return 0;
	for (size_t j = 0; j < s->n_urls; j++)
		if (check_pattern(pz, s->id, s->urls[j], err, errlen) != 0)
			return -1;
	for (size_t j = 0; j < s->n_ips; j++) {
		char shown[2 * IP_TEXT_MAX + 8];

		/* the entry as the data writes it, so the admin can find it;
		 * what it means when that is written otherwise */
		if (strcmp(s->ip_raw[j], s->ip_texts[j]) == 0)
			snprintf(shown, sizeof(shown), "\"%s\"", s->ip_raw[j]);
		else
			snprintf(shown, sizeof(shown), "\"%s\" (%s)", s->ip_raw[j],
			    s->ip_texts[j]);
		if (check_prefix(pz, s->id, &s->ips[j], shown, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static int
check_poison(const struct m365_data *d, const struct validate_opts *o,
    struct validate_result *res, char *err, size_t errlen)
{
	struct poison pz = { 0 };
	int rc = poison_open(&pz, o, err, errlen);

	for (size_t i = 0; rc == 0 && i < d->n_sets; i++)
		rc = check_set(&pz, &d->sets[i], err, errlen);
	poison_close(&pz, res);
	return rc;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_prefix(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

/* The number of distinct elements of v[0..n) (n elements of size bytes),
 * which it sorts. */
static size_t
count_distinct(void *v, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	const char *p = v;
	size_t u = n > 0;

	qsort(v, n, size, cmp);
	for (size_t i = 1; i < n; i++)
		u += cmp(p + (i - 1) * size, p + i * size) != 0;
	return u;
}

/* The distinct URL patterns of d in *out; returns 0, or -1 when out of
 * memory.  The sum of the counts cannot overflow: each count is the length
 * of an array in memory. */
static int
count_names(const struct m365_data *d, size_t *out)
{
	const char **v;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < d->n_sets; i++)
		n += d->sets[i].n_urls;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return -1;
	for (size_t i = 0; i < d->n_sets; i++)
		for (size_t j = 0; j < d->sets[i].n_urls; j++)
			v[k++] = d->sets[i].urls[j];
	*out = count_distinct(v, n, sizeof(*v), cmp_name);
	free(v);
	return 0;
}

/* The distinct prefixes of d in *out; returns 0, or -1 when out of memory. */
static int
count_prefixes(const struct m365_data *d, size_t *out)
{
	struct ip_prefix *v;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < d->n_sets; i++)
		n += d->sets[i].n_ips;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return -1;
	for (size_t i = 0; i < d->n_sets; i++)
		for (size_t j = 0; j < d->sets[i].n_ips; j++)
			v[k++] = d->sets[i].ips[j];
	*out = count_distinct(v, n, sizeof(*v), cmp_prefix);
	free(v);
	return 0;
}

struct counts {
	size_t n[3];                    /* sets, names, prefixes */
};

static const char *const count_what[3] = {
	"sets", "distinct names", "distinct prefixes"
};

static int
count_data(const struct m365_data *d, struct counts *c, char *err,
    size_t errlen)
{
	c->n[0] = d->n_sets;
	if (count_names(d, &c->n[1]) != 0 || count_prefixes(d, &c->n[2]) != 0)
		return fail(err, errlen, "out of memory counting the data");
	return 0;
}

static int
check_shrink(const struct m365_data *next, const struct m365_data *prev,
    char *err, size_t errlen)
{
	struct counts n, p;

	if (count_data(next, &n, err, errlen) != 0 ||
	    count_data(prev, &p, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		/* n < p / 2 exactly, without overflow: n < p - n */
		if (n.n[i] < p.n[i] && n.n[i] < p.n[i] - n.n[i])
			return fail(err, errlen, "shrink: %zu %s where %zu are "
			    "installed (fewer than half; --force to accept)",
			    n.n[i], count_what[i], p.n[i]);
	return 0;
}

int
validate_data(const struct m365_data *next, const struct m365_data *prev,
    const struct validate_opts *o, struct validate_result *res, char *err,
    size_t errlen)
{
	static const struct validate_opts defaults = { 0 };

	if (o == NULL)
		o = &defaults;
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (next == NULL)
		return fail(err, errlen, "no data to validate");
	if (check_poison(next, o, res, err, errlen) != 0)
		return -1;
	if (o->force || prev == NULL)
		return 0;
	return check_shrink(next, prev, err, errlen);
}
