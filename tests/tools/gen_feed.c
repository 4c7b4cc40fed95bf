/* gen_feed.c - writes a synthetic endpoint file at the loader's limits and
 * the probes whose answers it knows, for tests/integration/limits.t and
 * make bench.
 *
 *   gen_feed worst|adversarial FEED PROBES
 *
 * worst: as much as matcher/endpoints.h lets one file hold, in the shapes
 * that cost the most: M365_DATA_MAX_IPS prefixes (IPv4 and IPv6, nested),
 * M365_DATA_MAX_GLOBS patterns of 253 characters dense with '*' and '?'
 * (four state words each), then distinct names of 253 characters until
 * the bytes (M365_DATA_MAX_BYTES) or the JSON values
 * (M365_DATA_MAX_VALUES) run out.
 *
 * adversarial: the feed of issue 9, 100 patterns "*a*a...*a*c.contoso-
 * test.com" with 1..100 "*a" (PCRE2 backtracked 11.7 s on one lookup),
 * in an Allow set.
 *
 * PROBES gets one "HOST PORT direct|proxy" line per probe: names and
 * addresses of the feed, instances of its patterns, near misses.  The
 * answers come from how the feed was made, not from the matcher.  The
 * same arguments write the same files. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "host.h"

#define NAMES_PER_SET 100
#define IPS_PER_SET 500
#define ADVERSARIAL_PATTERNS 100
#define PROBE_PORT 443

/* The feed being written, and what is left of each bound. */
struct feed {
	FILE *f, *probes;
	size_t bytes, values, sets, urls, ips;
	uint64_t rng;
	int next_id;
};

static uint64_t
rand64(struct feed *fd)
{
	uint64_t z = (fd->rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void
emit(struct feed *fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
emit(struct feed *fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(fd->f, fmt, ap);
	va_end(ap);
	if (n < 0) {
		perror("gen_feed");
		exit(1);
	}
	fd->bytes += (size_t)n;
}

static void
probe(struct feed *fd, const char *host, bool direct)
{
	fprintf(fd->probes, "%s %d %s\n", host, PROBE_PORT,
	    direct ? "direct" : "proxy");
}

/* Opens a set: "{...,"key":[" (values: the set and its four members). */
static void
set_open(struct feed *fd, const char *category, const char *key)
{
	emit(fd, "%s\n{\"id\":%d,\"serviceArea\":\"Common\",\"category\":\"%s\","
	    "\"tcpPorts\":\"%d\",\"%s\":[", fd->sets > 0 ? "," : "",
	    fd->next_id++, category, PROBE_PORT, key);
	fd->sets++;
	fd->values += 6;
}

static void
set_close(struct feed *fd)
{
	emit(fd, "]}");
}

/* A string entry of the open set. */
static void
entry(struct feed *fd, size_t k, const char *s)
{
	emit(fd, "%s\"%s\"", k > 0 ? "," : "", s);
	fd->values++;
}

/* --- worst ------------------------------------------------------------- */

/* Prefix i, all distinct: IPv4 /24s and some /16s from 20.0.0.0/8 on,
 * IPv6 /48s and some /40s under 2603::/16; inside gets an address in it. */
static void
prefix_text(size_t i, char *buf, size_t size, char *inside, size_t isize)
{
	unsigned a = (unsigned)(i / 2 / 256), b = (unsigned)(i / 2 % 256);

	if (i % 2 == 0) {
		unsigned len = i % 20 == 10 ? 16 : 24;

		snprintf(buf, size, "%u.%u.%u.0/%u", 20 + a, b, len == 16 ? 0 :
		    (unsigned)(i % 256), len);
		snprintf(inside, isize, "%u.%u.%u.1", 20 + a, b, len == 16 ? 0 :
		    (unsigned)(i % 256));
	} else {
		unsigned len = i % 20 == 11 ? 40 : 48;

		snprintf(buf, size, "2603:%x:%x::/%u", 0x1000 + a, len == 40 ?
		    b << 8 : (b << 8) | (unsigned)(i % 256), len);
		snprintf(inside, isize, "2603:%x:%x::1", 0x1000 + a, len == 40 ?
		    b << 8 : (b << 8) | (unsigned)(i % 256));
	}
}

static void
worst_prefixes(struct feed *fd)
{
	char text[IP_TEXT_MAX], inside[IP_TEXT_MAX];

	for (size_t i = 0; i < M365_DATA_MAX_IPS; i++) {
		if (i % IPS_PER_SET == 0) {
			if (i > 0)
				set_close(fd);
			set_open(fd, "Allow", "ips");
		}
		prefix_text(i, text, sizeof(text), inside, sizeof(inside));
		entry(fd, i % IPS_PER_SET, text);
		if (i == 1 || i == M365_DATA_MAX_IPS - 2)
			probe(fd, inside, true);
	}
	set_close(fd);
	fd->ips = M365_DATA_MAX_IPS;
	probe(fd, "19.255.255.255", false);
	probe(fd, "[2604::1]", false);
}

/* Glob i: '*', labels of 62 characters "g<i>" then "a?bc*" repeated,
 * ending "*z.glob.example", 253 characters in all, over 192 of them not
 * '*' (four state words); the leading '*' keeps every automaton running
 * to the end of the host.  inst gets the host made by taking each '*' as
 * nothing and each '?' as 'q'. */
static void
glob_text(size_t i, char *pat, char *inst)
{
	static const char tail[] = "*z.glob.example";
	size_t o = 1, k = 0;

	pat[0] = '*';
	while (o + sizeof(tail) - 1 < HOST_NAME_MAX_LEN) {
		size_t room = HOST_NAME_MAX_LEN - (sizeof(tail) - 1) - o;
		size_t label = room < 62 ? room : 62;
		int head = snprintf(pat + o, label + 1, "g%zu", i);

		o += (size_t)head;
		for (size_t j = (size_t)head; j < label; j++)
			pat[o++] = "a?bc*"[j % 5];
		if (o + sizeof(tail) - 1 < HOST_NAME_MAX_LEN)
			pat[o++] = '.';
	}
	memcpy(pat + o, tail, sizeof(tail));
	for (const char *p = pat; *p != '\0'; p++)
		if (*p != '*')
			inst[k++] = *p == '?' ? 'q' : *p;
	inst[k] = '\0';
}

static void
worst_globs(struct feed *fd)
{
	char pat[HOST_NAME_MAX_LEN + 1], inst[HOST_NAME_MAX_LEN + 1];

	set_open(fd, "Optimize", "urls");
	for (size_t i = 0; i < M365_DATA_MAX_GLOBS; i++) {
		glob_text(i, pat, inst);
		entry(fd, i, pat);
		if (i == 0 || i == M365_DATA_MAX_GLOBS - 1)
			probe(fd, inst, true);
		if (i == 0) {
			inst[strlen(inst) - 14] = 'y';  /* "y.glob.example" */
			probe(fd, inst, false);
		}
	}
	set_close(fd);
	/* the longest host with the tail and no match: every pattern's
	 * automaton runs to its end */
	memset(inst, 'b', HOST_NAME_MAX_LEN);
	for (size_t k = 60; k < HOST_NAME_MAX_LEN - 14; k += 61)
		inst[k] = '.';
	strcpy(inst + HOST_NAME_MAX_LEN - 14, "z.glob.example");
	probe(fd, inst, false);
	fd->urls += M365_DATA_MAX_GLOBS;
}

/* Name i: four labels of random letters and digits, "n<i>" first so that
 * every name differs, 253 characters ending ".worst.example". */
static void
name_text(struct feed *fd, size_t i, char *name)
{
	static const char tail[] = ".worst.example";
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t o = (size_t)snprintf(name, 16, "n%zu", i);

	while (o < HOST_NAME_MAX_LEN - (sizeof(tail) - 1)) {
		if (o % 64 == 63)
			name[o++] = '.';
		else
			name[o++] = alnum[rand64(fd) % (sizeof(alnum) - 1)];
	}
	memcpy(name + o, tail, sizeof(tail));
}

/* Names until a bound is reached; categories Optimize, Allow and Default
 * by set, the last not direct. */
static void
worst_names(struct feed *fd)
{
	static const char *const cats[] = { "Optimize", "Allow", "Default" };
	/* what one more name and one more set cost, and the closing "]" */
	const size_t name_bytes = HOST_NAME_MAX_LEN + 3, set_bytes = 128;
	char name[HOST_NAME_MAX_LEN + 1], last[HOST_NAME_MAX_LEN + 1] = "";
	size_t i = 0;
	const char *cat = NULL;

	while (fd->urls < M365_DATA_MAX_URLS && fd->sets < M365_DATA_MAX_SETS &&
	    fd->bytes + name_bytes + set_bytes + 8 <= M365_DATA_MAX_BYTES &&
	    fd->values + 1 + 6 <= M365_DATA_MAX_VALUES) {
		if (i % NAMES_PER_SET == 0) {
			if (i > 0)
				set_close(fd);
			cat = cats[i / NAMES_PER_SET % 3];
			set_open(fd, cat, "urls");
		}
		name_text(fd, i, name);
		entry(fd, i % NAMES_PER_SET, name);
		if (i == 0) {
			probe(fd, name, true);
			name[HOST_NAME_MAX_LEN - 20] ^= 1;      /* a near miss */
			probe(fd, name, false);
		}
		memcpy(last, name, sizeof(name));
		fd->urls++;
		i++;
	}
	set_close(fd);
	probe(fd, last, strcmp(cat, "Default") != 0);
	probe(fd, "nomatch.worst.example", false);
}

/* --- adversarial ------------------------------------------------------- */

/* The host of a a's (a dot after every 60) then tail. */
static void
a_host(size_t a, const char *tail, char *host)
{
	size_t o = 0;

	for (size_t k = 0; k < a; k++) {
		if (k > 0 && k % 60 == 0)
			host[o++] = '.';
		host[o++] = 'a';
	}
	strcpy(host + o, tail);
}

static void
adversarial(struct feed *fd)
{
	char pat[HOST_NAME_MAX_LEN + 1], host[HOST_NAME_MAX_LEN + 1];

	set_open(fd, "Allow", "urls");
	for (size_t i = 0; i < ADVERSARIAL_PATTERNS; i++) {
		size_t o = 0;

		for (size_t k = 0; k <= i; k++)
			pat[o++] = '*', pat[o++] = 'a';
		strcpy(pat + o, "*c.contoso-test.com");
		entry(fd, i, pat);
	}
	set_close(fd);
	fd->urls += ADVERSARIAL_PATTERNS;
	/* every "*a" pattern up to its count of a's, the longest hosts
	 * last: the lookups that try all 100 patterns to the end.  First
	 * the one a backtracking matcher fails on: too few a's for half of
	 * the patterns, every way to place them tried */
	a_host(50, "c.contoso-test.com", host);
	probe(fd, host, true);
	a_host(1, "c.contoso-test.com", host);
	probe(fd, host, true);
	a_host(0, "bc.contoso-test.com", host);
	probe(fd, host, false);
	a_host(100, "c.contoso-test.com", host);
	probe(fd, host, true);
	a_host(230, "c.contoso-test.com", host);
	probe(fd, host, true);
	a_host(230, ".contoso-test.com", host);     /* PCRE2's 11.7 s */
	probe(fd, host, false);
	memset(host, 'b', 230);
	host[60] = host[121] = host[182] = '.';
	strcpy(host + 230, "c.contoso-test.com");
	probe(fd, host, false);
}

int
main(int argc, char **argv)
{
	struct feed fd = { 0 };
	bool worst;

	if (argc != 4 || (strcmp(argv[1], "worst") != 0 &&
	    strcmp(argv[1], "adversarial") != 0)) {
		fprintf(stderr, "usage: gen_feed worst|adversarial FEED PROBES\n");
		return 2;
	}
	worst = strcmp(argv[1], "worst") == 0;
	fd.rng = 9;
	fd.next_id = 1;
	fd.values = 1;                  /* the array */
	if ((fd.f = fopen(argv[2], "w")) == NULL ||
	    (fd.probes = fopen(argv[3], "w")) == NULL) {
		perror("gen_feed");
		return 1;
	}
	emit(&fd, "[");
	if (worst) {
		worst_prefixes(&fd);
		worst_globs(&fd);
		worst_names(&fd);
	} else {
		adversarial(&fd);
	}
	emit(&fd, "\n]\n");
	if (fclose(fd.f) != 0 || fclose(fd.probes) != 0) {
		perror("gen_feed");
		return 1;
	}
	fprintf(stderr, "gen_feed: %s: %zu bytes, %zu JSON values, %zu sets, "
	    "%zu URL patterns, %zu prefixes\n", argv[2], fd.bytes, fd.values,
	    fd.sets, fd.urls, fd.ips);
	return 0;
}
