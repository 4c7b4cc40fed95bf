/* probes.c - the probes of the exporters' agreement tests, with the answer
 * "m365-direct check" gives without a port (the same matcher, the same
 * policy): one "PROBE<TAB>direct|proxy" line per probe, sorted.
 *
 *   probes [-c CONF] DATA.json...
 *
 * From every pattern and prefix of the data files: the name (wildcards
 * filled in), its apex, one- and two-label subdomains, the name with
 * "evil-" and "x" glued in front and ".evil.net" behind; the first, last
 * and just-outside addresses of every prefix, and IPv4-mapped IPv6 forms
 * of the IPv4 ones.  The policy's extra_direct and never_direct entries
 * give probes too. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "endpoints.h"
#include "host.h"
#include "matcher.h"
#include "prefix.h"

struct probes {
	char **v;
	size_t n, cap;
};

static void
add(struct probes *p, const char *s)
{
	struct host_query q;

	host_normalise(s, strlen(s), &q);
	if (q.kind == HOST_INVALID)
		return;                 /* e.g. a label grown past 63 */
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4096;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		if (p->v == NULL)
			exit(1);
	}
	if ((p->v[p->n++] = strdup(s)) == NULL)
		exit(1);
}

/* The pattern with each '*' replaced by fill and each '?' by 'q'. */
static void
fill_in(const char *pat, const char *fill, char *out, size_t size)
{
	size_t o = 0;

	for (const char *c = pat; *c != '\0' && o + 8 < size; c++) {
		if (*c == '*')
			o += (size_t)snprintf(out + o, size - o, "%s", fill);
		else
			out[o++] = *c == '?' ? 'q' : *c;
	}
	out[o] = '\0';
}

static void
name_probes(struct probes *p, const char *pat)
{
	static const char *const fills[] = { "", "w", "w1.w2" };
	char base[600], buf[700];

	for (size_t f = 0; f < 3; f++) {
		const char *dot;

		fill_in(pat, fills[f], base, sizeof(base));
		if (base[0] == '.' || base[0] == '\0')
			continue;
		add(p, base);
		if ((dot = strchr(base, '.')) != NULL)
			add(p, dot + 1);                        /* the apex */
		snprintf(buf, sizeof(buf), "a.%s", base);
		add(p, buf);
		snprintf(buf, sizeof(buf), "a.b.%s", base);
		add(p, buf);
		snprintf(buf, sizeof(buf), "evil-%s", base);
		add(p, buf);
		snprintf(buf, sizeof(buf), "x%s", base);
		add(p, buf);
		snprintf(buf, sizeof(buf), "%s.evil.net", base);
		add(p, buf);
		snprintf(buf, sizeof(buf), "%s.", base);       /* trailing dot */
		add(p, buf);
	}
}

static void
addr_text(const struct ip_addr *a, bool v4, char *out, size_t size)
{
	unsigned char b[16];

	for (int i = 0; i < 8; i++) {
		b[7 - i] = (unsigned char)(a->hi >> (8 * i));
		b[15 - i] = (unsigned char)(a->lo >> (8 * i));
	}
	if (v4)
		inet_ntop(AF_INET, b + 12, out, (socklen_t)size);
	else
		inet_ntop(AF_INET6, b, out, (socklen_t)size);
}

static void
add_addr(struct probes *p, const struct ip_addr *a)
{
	char text[INET6_ADDRSTRLEN + 16];
	bool v4 = ip_is_v4_mapped(a);

	addr_text(a, v4, text, sizeof(text));
	add(p, text);
	if (v4) {
		char mapped[sizeof(text) + 8];

		snprintf(mapped, sizeof(mapped), "::ffff:%s", text);
		add(p, mapped);
	}
}

static void
prefix_probes(struct probes *p, const struct ip_prefix *px)
{
	struct ip_addr first, last, before, after;

	prefix_range(px, &first, &last);
	add_addr(p, &first);
	add_addr(p, &last);
	before = first;
	if (before.lo-- == 0)
		before.hi--;
	after = last;
	if (++after.lo == 0)
		after.hi++;
	if (!(first.hi == 0 && first.lo == 0))
		add_addr(p, &before);
	if (!(after.hi == 0 && after.lo == 0))
		add_addr(p, &after);
}

static void
policy_probes(struct probes *p, const struct m365_strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct ip_prefix px;
		const char *why;

		if (prefix_parse(l->v[i], strlen(l->v[i]), true, &px, &why) == 0)
			prefix_probes(p, &px);
		else
			name_probes(p, l->v[i]);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	struct config_errors errs = { 0 };
	struct m365_config cfg;
	struct probes p = { 0 };
	struct m365_data *first = NULL;
	struct m365_rules *r;
	char err[1024];
	int i = 1;

	config_init(&cfg);
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		if (config_load(&cfg, argv[2], true, &errs) != 0) {
			fprintf(stderr, "probes: %s\n", errs.n ? errs.msg[0] : argv[2]);
			return 2;
		}
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: probes [-c CONF] DATA.json...\n");
		return 2;
	}
	for (int k = i; k < argc; k++) {
		struct m365_data *d = endpoints_load_file(argv[k], err, sizeof(err));

		if (d == NULL) {
			fprintf(stderr, "probes: %s\n", err);
			return 1;
		}
		for (size_t s = 0; s < d->n_sets; s++) {
			for (size_t u = 0; u < d->sets[s].n_urls; u++)
				name_probes(&p, d->sets[s].urls[u]);
			for (size_t j = 0; j < d->sets[s].n_ips; j++)
				prefix_probes(&p, &d->sets[s].ips[j]);
		}
		if (first == NULL)
			first = d;      /* the answers come from the first file */
		else
			endpoints_free(d);
	}
	policy_probes(&p, &cfg.policy.extra_direct);
	policy_probes(&p, &cfg.policy.never_direct);
	r = matcher_compile(first, &cfg.policy, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "probes: %s\n", err);
		return 1;
	}
	qsort(p.v, p.n, sizeof(*p.v), cmp_str);
	for (size_t k = 0; k < p.n; k++) {
		struct m365_verdict v;

		if (k > 0 && strcmp(p.v[k], p.v[k - 1]) == 0)
			continue;
		matcher_lookup(r, p.v[k], strlen(p.v[k]), -1, &v);
		printf("%s\t%s\n", p.v[k], v.direct ? "direct" : "proxy");
	}
	for (size_t k = 0; k < p.n; k++)
		free(p.v[k]);
	free(p.v);
	matcher_free(r);
	config_free(&cfg);
	return 0;
}
