/* worst_lookup.c - nanoseconds per matcher_lookup() for each probe of a
 * data file, the medians of several rounds, and the worst of them: how
 * long the slowest lookup a data file allows takes (tests/tools/gen_feed
 * writes the data and the probes).  The answers are checked against the
 * probes first.  The last line ("result ...") is for bench/run.
 *
 *   worst_lookup [-r rounds] DATA PROBES
 *
 * PROBES: "HOST PORT direct|proxy" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "endpoints.h"
#include "host.h"
#include "matcher.h"
#include "mix.h"
#include "parse.h"

#define DEFAULT_ROUNDS 15
#define MAX_ROUNDS 101
#define MAX_PROBES 64
#define ROUND_NS 5e6            /* 5 ms per probe and round */

struct probe {
	char host[HOST_NAME_MAX_LEN + 3];       /* [v6] brackets */
	int port;
	bool direct;
	double ns;
};

static volatile unsigned sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Reads one "HOST PORT direct|proxy" line into *p; returns 0, or -1. */
static int
parse_probe(char *line, struct probe *p)
{
	char *port = strchr(line, ' '), *want;
	uint64_t v;

	if (port == NULL || (size_t)(port - line) >= sizeof(p->host))
		return -1;
	*port++ = '\0';
	if ((want = strchr(port, ' ')) == NULL ||
	    parse_uint(port, (size_t)(want - port), 65535, &v) != 0)
		return -1;
	want[strcspn(want, "\n")] = '\0';
	strcpy(p->host, line);
	p->port = (int)v;
	p->direct = strcmp(want + 1, "direct") == 0;
	return p->direct || strcmp(want + 1, "proxy") == 0 ? 0 : -1;
}

/* Reads the probes; returns how many, or -1 on a bad line. */
static int
read_probes(const char *path, struct probe *p, size_t cap)
{
	char line[HOST_NAME_MAX_LEN + 64];
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int rc = 0;

	if (f == NULL)
		return -1;
	while (rc == 0 && n < cap && fgets(line, sizeof line, f) != NULL)
		rc = parse_probe(line, &p[n++]);
	fclose(f);
	return rc == 0 ? (int)n : -1;
}

static double
measure(const struct m365_rules *r, const struct probe *p, unsigned rounds)
{
	double ns[MAX_ROUNDS], t0, pass;
	size_t reps, len = strlen(p->host);
	struct m365_verdict v;

	t0 = now_ns();
	matcher_lookup(r, p->host, len, p->port, &v);
	pass = now_ns() - t0;
	reps = pass >= ROUND_NS ? 1 : (size_t)(ROUND_NS / (pass + 1));
	for (unsigned k = 0; k < rounds; k++) {
		t0 = now_ns();
		for (size_t i = 0; i < reps; i++) {
			matcher_lookup(r, p->host, len, p->port, &v);
			sink += (unsigned)v.n_total;
		}
		ns[k] = (now_ns() - t0) / (double)reps;
	}
	return mix_median(ns, rounds);
}

static int
bench(const struct m365_rules *r, struct probe *p, size_t n, unsigned rounds)
{
	size_t worst = 0, bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct m365_verdict v;

		matcher_lookup(r, p[i].host, strlen(p[i].host), p[i].port, &v);
		if (v.direct != p[i].direct) {
			printf("  wrong: %.60s %d: want %s\n", p[i].host, p[i].port,
			    p[i].direct ? "direct" : "proxy");
			bad++;
		}
		p[i].ns = measure(r, &p[i], rounds);
		printf("  %10.1f ns  %-6s %.60s%s (%zu chars)\n", p[i].ns,
		    p[i].direct ? "direct" : "proxy", p[i].host,
		    strlen(p[i].host) > 60 ? "..." : "", strlen(p[i].host));
		if (p[i].ns > p[worst].ns)
			worst = i;
	}
	printf("result worst_ns=%.1f worst_host=%.40s wrong=%zu\n", p[worst].ns,
	    p[worst].host, bad);
	return bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static struct probe probes[MAX_PROBES];
	unsigned rounds = DEFAULT_ROUNDS;
	struct m365_config cfg;
	struct m365_data *d;
	struct m365_rules *r;
	char err[512];
	uint64_t v;
	int ch, n, rc;

	while ((ch = getopt(argc, argv, "r:")) != -1) {
		if (ch != 'r' || parse_uint(optarg, strlen(optarg), MAX_ROUNDS,
		    &v) != 0 || v == 0)
			goto usage;
		rounds = (unsigned)v;
	}
	if (argc - optind != 2)
		goto usage;
	if ((n = read_probes(argv[optind + 1], probes, MAX_PROBES)) <= 0) {
		fprintf(stderr, "worst_lookup: %s: no probes\n", argv[optind + 1]);
		return 1;
	}
	if (config_init(&cfg) != 0)
		return 1;
	if ((d = endpoints_load_file(argv[optind], err, sizeof err)) == NULL ||
	    (r = matcher_compile(d, &cfg.policy, err, sizeof err)) == NULL) {
		fprintf(stderr, "worst_lookup: %s\n", err);
		endpoints_free(d);
		config_free(&cfg);
		return 1;
	}
	printf("median of %u rounds, ns per lookup, %d probes of %s:\n", rounds,
	    n, argv[optind]);
	rc = bench(r, probes, (size_t)n, rounds);
	matcher_free(r);
	config_free(&cfg);
	return rc;
usage:
	fprintf(stderr, "usage: worst_lookup [-r rounds] DATA PROBES\n");
	return 2;
}
