/* fuzz_endpoints.c - libFuzzer target: arbitrary bytes as an endpoint JSON
 * file -> endpoints_parse -> matcher_compile (under one of several
 * policies) -> lookups.  Besides the sanitizers, it checks what must hold
 * for any data that loads:
 *   - every exact URL of a set, looked up without a port under the default
 *     policy, matches with at least that set's category (a pattern matches
 *     itself), and every prefix matches its own network address;
 *   - a verdict is self-consistent (category range, counts, direct vs
 *     never_direct, custom only when direct).
 * Not part of "make check"; see README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "endpoints.h"
#include "matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static void
check_verdict(const struct m365_verdict *v)
{
	CHECK(v->category <= M365_CAT_OPTIMIZE);
	CHECK(v->n_matches <= M365_VERDICT_MATCHES);
	CHECK(v->n_matches <= v->n_total);
	CHECK(!(v->direct && v->never_direct));
	CHECK(!v->custom || v->direct);
	if (v->reason != NULL) {
		CHECK(v->category == M365_CAT_NONE);
		CHECK(!v->direct);
		CHECK(v->n_total == 0);
	}
	for (size_t i = 0; i < v->n_matches; i++) {
		const struct m365_match *m = &v->matches[i];

		CHECK(m->what != NULL);
		if (m->kind == M365_FROM_SET && m->excluded == M365_APPLIES)
			CHECK(m->category <= v->category);
	}
}

static void
lookup(const struct m365_rules *r, const char *q, size_t len, int port,
    struct m365_verdict *v)
{
	matcher_lookup(r, q, len, port, v);
	check_verdict(v);
}

static const char *const fixed[] = {
	"outlook.office365.com", "OUTLOOK.OFFICE365.COM.", "contoso.sharepoint.com",
	"sharepoint.com", "cdn.onenote.net", "xcdn.onenote.net",
	"autodiscover.contoso.onmicrosoft.com", "13.107.6.152", "52.112.0.1",
	"[2603:1006:1400::5]", "2603:1006::1", "::ffff:13.107.6.152", "::",
	"0.0.0.0", "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"", ".", "a..b", "[", "[]", "[::1", "x.", "-", "*", "?",
};

/* The policies the data is compiled under, chosen by the input: a
 * configuration from config_init (release it with policy_release) whose
 * lists may point at static arrays.  Returns 0, or -1 when out of
 * memory. */
static int
make_policy(struct m365_config *c, unsigned which)
{
	static char *extra[] = { "*.example.com", "192.0.2.0/24",
	    "autodiscover.*.example.net", "2001:db8::/32" };
	static char *never[] = { "outlook.office365.com", "13.107.6.0/24",
	    "*cdn.onenote.net", "::/0" };
	static char *areas[] = { "Exchange", "common" };

	if (config_init(c) != 0) {
		config_free(c);
		return -1;
	}
	switch (which % 4) {
	case 0:
		break;          /* defaults: the self-match checks run here */
	case 1:
		c->policy.extra_direct.v = extra;
		c->policy.extra_direct.n = 4;
		c->policy.never_direct.v = never;
		c->policy.never_direct.n = 4;
		break;
	case 2:
		c->policy.service_areas.v = areas;
		c->policy.service_areas.n = 2;
		c->policy.required_only = true;
		c->policy.direct_mask = 1u << M365_CAT_OPTIMIZE;
		break;
	case 3:
		c->policy.match_ports = false;
		c->policy.direct_mask = 0xe;
		break;
	}
	return 0;
}

/* Frees what config_init allocated in c; the lists are detached first, as
 * they point at make_policy's static arrays, not the heap. */
static void
policy_release(struct m365_config *c)
{
	c->policy.extra_direct.v = c->policy.never_direct.v = NULL;
	c->policy.service_areas.v = NULL;
	c->policy.extra_direct.n = c->policy.never_direct.n = 0;
	c->policy.service_areas.n = 0;
	config_free(c);
}

/* A host that the pattern p (lower-case, valid) must match: every '*' and
 * '?' replaced by "x". */
static size_t
instance(const char *p, char *out, size_t cap)
{
	size_t n = 0;

	for (; *p != '\0' && n + 1 < cap; p++)
		out[n++] = (*p == '*' || *p == '?') ? 'x' : *p;
	out[n] = '\0';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], host[600];
	struct m365_config cfg;
	struct m365_data *d;
	struct m365_rules *r;
	struct m365_verdict v;
	const struct m365_data *cd;
	unsigned which = size > 0 ? data[size - 1] : 0;
	size_t budget = 2000;

	d = endpoints_parse((const char *)data, size, err, sizeof(err));
	if (d == NULL) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		return 0;
	}
	if (make_policy(&cfg, which) != 0) {
		endpoints_free(d);
		return 0;
	}
	r = matcher_compile(d, &cfg.policy, err, sizeof(err));
	policy_release(&cfg);
	if (r == NULL) {
		endpoints_free(d);
		return 0;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		lookup(r, fixed[i], strlen(fixed[i]), -1, &v);
		lookup(r, fixed[i], strlen(fixed[i]), 443, &v);
	}
	cd = matcher_data(r);
	for (size_t i = 0; i < cd->n_sets && budget > 0; i++) {
		const struct m365_set *s = &cd->sets[i];

		for (size_t k = 0; k < s->n_urls && budget > 0; k++, budget--) {
			size_t n = instance(s->urls[k], host, sizeof(host));

			lookup(r, host, n, -1, &v);
			if (which % 4 == 0 && v.reason == NULL)
				CHECK(v.category >= s->category);
			lookup(r, host, n, s->tcp.n > 0 ? s->tcp.ranges[0].lo : 80, &v);
		}
		for (size_t k = 0; k < s->n_ips && budget > 0; k++, budget--) {
			const char *t = s->ip_texts[k];
			const char *slash = strchr(t, '/');
			size_t n = slash != NULL ? (size_t)(slash - t) : strlen(t);

			lookup(r, t, n, -1, &v);
			if (which % 4 == 0) {
				CHECK(v.reason == NULL && v.is_ip);
				CHECK(v.category >= s->category);
			}
			/* bracketed form of an IPv6 address */
			if (memchr(t, ':', n) != NULL && n + 2 < sizeof(host)) {
				host[0] = '[';
				memcpy(host + 1, t, n);
				host[n + 1] = ']';
				lookup(r, host, n + 2, 443, &v);
			}
		}
	}
	/* the input itself as a query, in pieces */
	for (size_t off = 0; off < size && off < 4096; off += 97)
		lookup(r, (const char *)data + off,
		    size - off < 300 ? size - off : 300, (int)(off % 65536), &v);
	matcher_free(r);
	return 0;
}
