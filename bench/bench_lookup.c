/* bench_lookup.c - nanoseconds per matcher_lookup() for host names and IP
 * literals (port unknown, default policy), next to the obvious way to do it:
 * one anchored, caseless, JIT-compiled PCRE2 alternation of every URL
 * pattern of the data, and next to two floors on the same texts (issue
 * 12): inet_pton() for the IP literals, one pass of a fast hash (FxHash,
 * a word at a time) over the host names' bytes.  Prints the median of
 * several rounds; the last line ("result ...") is for bench/run. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "endpoints.h"
#include "matcher.h"
#include "mix.h"
#include "parse.h"

#define DEFAULT_DATA "tests/data/worldwide-c2025.json"
#define DEFAULT_ROUNDS 15
#define MAX_ROUNDS 101
#define ROUND_NS 20e6           /* 20 ms per round */
#define MIX_SEED 0x6d333635u    /* "m365": the same mix every time */
#define MAX_SHOWN 10            /* disagreements printed */

struct baseline {
	pcre2_code *code;
	pcre2_match_data *md;
	size_t n_patterns;
};

enum engine { ENGINE_OURS, ENGINE_BASELINE, ENGINE_FLOOR };

struct engines {
	const struct m365_rules *rules;
	const struct baseline *base;
};

/* Which queries a row of the table measures. */
enum group { G_HOSTS, G_DATA, G_SUB, G_OTHER, G_IPS, G_V4, G_V6, G_COUNT };

static const char *const group_label[G_COUNT] = {
	"host names, all", "  data names", "  subdomains", "  non-M365 names",
	"IP literals, all", "  IPv4", "  IPv6",
};

/* Everything measured lands here so no lookup can be optimised away. */
static volatile uint64_t sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Appends the regex for one shExpMatch glob to buf. */
static size_t
glob_to_regex(const char *glob, char *buf, size_t o)
{
	for (const char *p = glob; *p != '\0'; p++) {
		if (*p == '*') {
			buf[o++] = '.';
			buf[o++] = '*';
		} else if (*p == '?')
			buf[o++] = '.';
		else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			buf[o++] = *p;
		else {
			buf[o++] = '\\';
			buf[o++] = *p;
		}
	}
	return o;
}

static bool
seen_before(const struct m365_data *d, size_t set, size_t url)
{
	const char *u = d->sets[set].urls[url];

	for (size_t i = 0; i <= set; i++)
		for (size_t j = 0; j < (i == set ? url : d->sets[i].n_urls); j++)
			if (strcmp(d->sets[i].urls[j], u) == 0)
				return true;
	return false;
}

/* "^(?:p1|p2|...)$" over the distinct URL patterns; malloc'd or NULL. */
static char *
baseline_pattern(const struct m365_data *d, size_t *n_patterns)
{
	size_t size = 16, o = 0;
	char *buf;

	for (size_t i = 0; i < d->n_sets; i++)
		for (size_t j = 0; j < d->sets[i].n_urls; j++)
			size += 2 * strlen(d->sets[i].urls[j]) + 1;
	if ((buf = malloc(size)) == NULL)
		return NULL;
	memcpy(buf, "^(?:", 4);
	o = 4;
	*n_patterns = 0;
	for (size_t i = 0; i < d->n_sets; i++)
		for (size_t j = 0; j < d->sets[i].n_urls; j++) {
			if (seen_before(d, i, j))
				continue;
			if ((*n_patterns)++ > 0)
				buf[o++] = '|';
			o = glob_to_regex(d->sets[i].urls[j], buf, o);
		}
	memcpy(buf + o, ")$", 3);
	return buf;
}

static int
baseline_init(struct baseline *b, const struct m365_data *d)
{
	char *pat = baseline_pattern(d, &b->n_patterns);
	int errcode;
	PCRE2_SIZE erroff;

	if (pat == NULL)
		return -1;
	b->code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_CASELESS | PCRE2_DOLLAR_ENDONLY, &errcode, &erroff, NULL);
	free(pat);
	if (b->code == NULL)
		return -1;
	b->md = pcre2_match_data_create_from_pattern(b->code, NULL);
	if (b->md == NULL || pcre2_jit_compile(b->code, PCRE2_JIT_COMPLETE)) {
		pcre2_match_data_free(b->md);
		pcre2_code_free(b->code);
		return -1;
	}
	return 0;
}

static void
baseline_fini(struct baseline *b)
{
	pcre2_match_data_free(b->md);
	pcre2_code_free(b->code);
}

static bool
baseline_match(const struct baseline *b, const struct mix_query *q)
{
	return pcre2_jit_match(b->code, (PCRE2_SPTR)q->text, q->len, 0, 0,
	    b->md, NULL) >= 0;
}

static uint64_t
run_ours(const struct m365_rules *r, const struct mix_query *q, size_t n,
    size_t reps)
{
	struct m365_verdict v;
	uint64_t acc = 0;

	for (size_t k = 0; k < reps; k++)
		for (size_t i = 0; i < n; i++) {
			matcher_lookup(r, q[i].text, q[i].len, -1, &v);
			acc += (uint64_t)v.category + v.n_total;
		}
	return acc;
}

static uint64_t
run_baseline(const struct baseline *b, const struct mix_query *q, size_t n,
    size_t reps)
{
	uint64_t acc = 0;

	for (size_t k = 0; k < reps; k++)
		for (size_t i = 0; i < n; i++)
			acc += baseline_match(b, &q[i]);
	return acc;
}

/* FxHash (rustc's), 8 bytes at a time: about the cheapest pass over the
 * bytes a hash table of names would need. */
static uint64_t
fx_hash(const char *p, size_t n)
{
	uint64_t h = 0, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (((h << 5) | (h >> 59)) ^ w) * 0x517cc1b727220a95u;
	}
	w = 0;
	memcpy(&w, p, n);
	return (((h << 5) | (h >> 59)) ^ w) * 0x517cc1b727220a95u;
}

/* The floor of a lookup: inet_pton() of an IP literal (brackets of an
 * IPv6 one stripped), one hash pass over a name. */
static uint64_t
run_floor(const struct mix_query *q, size_t n, size_t reps)
{
	unsigned char a[16];
	char buf[INET6_ADDRSTRLEN + 2];
	uint64_t acc = 0;

	for (size_t k = 0; k < reps; k++)
		for (size_t i = 0; i < n; i++) {
			const char *t = q[i].text;
			size_t len = q[i].len;

			if (q[i].kind != MIX_IP) {
				acc += fx_hash(t, len);
				continue;
			}
			if (t[0] == '[' && len >= 2 && len - 2 < sizeof(buf)) {
				memcpy(buf, t + 1, len - 2);
				buf[len - 2] = '\0';
				t = buf;
			}
			acc += (uint64_t)inet_pton(q[i].v6 ? AF_INET6 : AF_INET,
			    t, a) + a[0];
		}
	return acc;
}

static uint64_t
run(const struct engines *e, enum engine which, const struct mix_query *q,
    size_t n, size_t reps)
{
	if (which == ENGINE_OURS)
		return run_ours(e->rules, q, n, reps);
	if (which == ENGINE_FLOOR)
		return run_floor(q, n, reps);
	return run_baseline(e->base, q, n, reps);
}

/* Median ns per lookup over rounds of about ROUND_NS each: a warm-up pass
 * (caches, JIT) also says how many passes over q fill a round. */
static double
measure(const struct engines *e, enum engine which, const struct mix_query *q,
    size_t n, unsigned rounds)
{
	double ns[MAX_ROUNDS], t0, pass;
	size_t reps;

	if (n == 0)
		return 0;
	t0 = now_ns();
	sink += run(e, which, q, n, 1);
	pass = now_ns() - t0;
	reps = pass >= ROUND_NS ? 1 : (size_t)(ROUND_NS / (pass + 1));
	for (unsigned k = 0; k < rounds; k++) {
		t0 = now_ns();
		sink += run(e, which, q, n, reps);
		ns[k] = (now_ns() - t0) / (double)(n * reps);
	}
	return mix_median(ns, rounds);
}

static bool
in_group(const struct mix_query *q, enum group g)
{
	switch (g) {
	case G_HOSTS:
		return q->kind != MIX_IP;
	case G_DATA:
		return q->kind == MIX_DATA_NAME;
	case G_SUB:
		return q->kind == MIX_SUBDOMAIN;
	case G_OTHER:
		return q->kind == MIX_OTHER_NAME;
	case G_IPS:
		return q->kind == MIX_IP;
	case G_V4:
		return q->kind == MIX_IP && !q->v6;
	case G_V6:
		return q->kind == MIX_IP && q->v6;
	case G_COUNT:
		break;
	}
	return false;
}

/* The queries of group g, borrowed from m, in a new array. */
static struct mix_query *
pick(const struct mix *m, enum group g, size_t *n)
{
	struct mix_query *out = malloc((m->n ? m->n : 1) * sizeof *out);

	*n = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (in_group(&m->q[i], g))
			out[(*n)++] = m->q[i];
	return out;
}

/* Prints where ours and the independent answer disagree; returns how often. */
static size_t
cross_check(const struct engines *e, const struct mix *m)
{
	size_t bad = 0;
	struct m365_verdict v;

	for (size_t i = 0; i < m->n; i++) {
		const struct mix_query *q = &m->q[i];
		bool ours, ref;

		matcher_lookup(e->rules, q->text, q->len, -1, &v);
		ours = v.category != M365_CAT_NONE;
		ref = q->kind == MIX_IP ? q->inside : baseline_match(e->base, q);
		if (ours == ref)
			continue;
		if (bad++ < MAX_SHOWN)
			printf("  disagree: %s: ours %s, %s %s%s%s\n", q->text,
			    matcher_category_name(v.category),
			    q->kind == MIX_IP ? "prefix scan" : "baseline",
			    ref ? "match" : "no match",
			    v.reason ? ", reason: " : "",
			    v.reason ? v.reason : "");
	}
	return bad;
}

static void
describe(const struct m365_data *d, const struct baseline *b,
    const struct mix *m, const char *path)
{
	size_t urls = 0, ips = 0, count[MIX_KINDS] = { 0 }, inside = 0;

	for (size_t i = 0; i < d->n_sets; i++) {
		urls += d->sets[i].n_urls;
		ips += d->sets[i].n_ips;
	}
	for (size_t i = 0; i < m->n; i++) {
		count[m->q[i].kind]++;
		inside += m->q[i].kind == MIX_IP && m->q[i].inside;
	}
	printf("data: %s: %zu sets, %zu URL patterns (%zu distinct), "
	    "%zu prefixes\n", path, d->n_sets, urls, b->n_patterns, ips);
	printf("queries: %zu %s, %zu %s, %zu %s, %zu %s (%zu inside a "
	    "prefix)\n", count[MIX_DATA_NAME], mix_kind_name(MIX_DATA_NAME),
	    count[MIX_SUBDOMAIN], mix_kind_name(MIX_SUBDOMAIN),
	    count[MIX_OTHER_NAME], mix_kind_name(MIX_OTHER_NAME),
	    count[MIX_IP], mix_kind_name(MIX_IP), inside);
}

/* Measures every group; fills ours[], base[] (base only for names) and
 * floor[]. */
static int
measure_all(const struct engines *e, const struct mix *m, unsigned rounds,
    double *ours, double *base, double *floor)
{
	printf("median of %u rounds, ns per lookup (port unknown):\n", rounds);
	printf("  %-20s %8s %6s %10s %8s %7s %9s\n", "", "queries", "ours",
	    "baseline", "ratio", "floor", "ours/flr");
	for (int g = 0; g < G_COUNT; g++) {
		size_t n;
		struct mix_query *q = pick(m, (enum group)g, &n);

		if (q == NULL)
			return -1;
		ours[g] = measure(e, ENGINE_OURS, q, n, rounds);
		base[g] = g < G_IPS ? measure(e, ENGINE_BASELINE, q, n,
		    rounds) : 0;
		floor[g] = measure(e, ENGINE_FLOOR, q, n, rounds);
		if (g < G_IPS)
			printf("  %-20s %8zu %6.1f %10.1f %7.1fx %7.1f %8.1fx\n",
			    group_label[g], n, ours[g], base[g],
			    ours[g] > 0 ? base[g] / ours[g] : 0, floor[g],
			    floor[g] > 0 ? ours[g] / floor[g] : 0);
		else
			printf("  %-20s %8zu %6.1f %10s %8s %7.1f %8.1fx\n",
			    group_label[g], n, ours[g], "-", "-", floor[g],
			    floor[g] > 0 ? ours[g] / floor[g] : 0);
		free(q);
	}
	return 0;
}

static int
parse_args(int argc, char **argv, unsigned *rounds, const char **path)
{
	int ch;
	uint64_t v;

	while ((ch = getopt(argc, argv, "r:")) != -1) {
		if (ch != 'r' || parse_uint(optarg, strlen(optarg), MAX_ROUNDS,
		    &v) == -1 || v == 0)
			return -1;
		*rounds = (unsigned)v;
	}
	if (argc - optind > 1)
		return -1;
	if (argc - optind == 1)
		*path = argv[optind];
	return 0;
}

static int
bench(const char *path, unsigned rounds, const struct m365_data *d,
    const struct m365_rules *r)
{
	struct baseline b;
	struct mix m;
	struct engines e = { r, &b };
	double ours[G_COUNT], base[G_COUNT], floor[G_COUNT];
	size_t bad;
	int rc = 1;

	if (baseline_init(&b, d) == -1) {
		fprintf(stderr, "bench_lookup: cannot build the PCRE2 baseline\n");
		return 1;
	}
	if (mix_build(&m, d, MIX_SEED) == -1) {
		fprintf(stderr, "bench_lookup: out of memory\n");
		goto cleanup;
	}
	describe(d, &b, &m, path);
	bad = cross_check(&e, &m);
	printf("cross-check: %zu of %zu queries disagree with the baseline "
	    "(names) or a linear prefix scan (IPs)\n", bad, m.n);
	if (measure_all(&e, &m, rounds, ours, base, floor) == -1)
		goto cleanup;
	printf("result host_ns=%.2f baseline_ns=%.2f host_ratio=%.2f "
	    "ip_ns=%.2f ip4_ns=%.2f ip6_ns=%.2f disagree=%zu "
	    "hash_ns=%.2f host_floor_ratio=%.2f pton_ns=%.2f "
	    "ip_floor_ratio=%.2f\n",
	    ours[G_HOSTS], base[G_HOSTS], base[G_HOSTS] / ours[G_HOSTS],
	    ours[G_IPS], ours[G_V4], ours[G_V6], bad, floor[G_HOSTS],
	    ours[G_HOSTS] / floor[G_HOSTS], floor[G_IPS],
	    ours[G_IPS] / floor[G_IPS]);
	rc = 0;
cleanup:
	mix_free(&m);
	baseline_fini(&b);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_DATA;
	unsigned rounds = DEFAULT_ROUNDS;
	struct m365_config cfg;
	struct m365_data *d = NULL;
	struct m365_rules *r = NULL;
	char err[512];
	int rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);       /* progress through a pipe */
	if (parse_args(argc, argv, &rounds, &path) == -1) {
		fprintf(stderr, "usage: bench_lookup [-r rounds] [data.json]\n");
		return 2;
	}
	if (config_init(&cfg) == -1) {
		fprintf(stderr, "bench_lookup: out of memory\n");
		return 1;
	}
	if ((d = endpoints_load_file(path, err, sizeof err)) == NULL ||
	    (r = matcher_compile(d, &cfg.policy, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench_lookup: %s\n", err);
		endpoints_free(d);
		goto cleanup;
	}
	rc = bench(path, rounds, matcher_data(r), r);  /* r owns d now */
cleanup:
	matcher_free(r);
	config_free(&cfg);
	return rc;
}
