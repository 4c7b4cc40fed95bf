/* test_names.c - the host pattern table (names_new, names_lookup).
 *
 * Semantics are PAC shExpMatch (DESIGN.md §3): '*' any run (dots
 * included, possibly empty), '?' one character, the rest literal, whole
 * string.  The table is cross-checked against a plain recursive glob over
 * generated patterns and hosts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "names.h"

/* --- the reference: shExpMatch, written the plain way ------------------ */

static bool
glob(const char *p, const char *s)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*')
		return glob(p + 1, s) || (*s != '\0' && glob(p, s + 1));
	if (*s == '\0')
		return false;
	return (*p == '?' || *p == *s) && glob(p + 1, s + 1);
}

/* The same, by dynamic programming over prefixes of the pattern and the
 * host: a second reference, independent of the first and of the table,
 * and polynomial where the first is exponential (many '*'s on a long
 * host), so it can judge the adversarial and the long cases. */
static bool
glob_dp(const char *p, const char *s)
{
	size_t n = strlen(s);
	bool prev[HOST_NAME_MAX_LEN + 2], cur[HOST_NAME_MAX_LEN + 2];

	if (n > HOST_NAME_MAX_LEN)
		fail_msg("glob_dp: host longer than %d", HOST_NAME_MAX_LEN);
	/* prev[j]: the pattern so far matches s[0..j) */
	for (size_t j = 0; j <= n; j++)
		prev[j] = j == 0;
	for (; *p != '\0'; p++) {
		for (size_t j = 0; j <= n; j++) {
			if (*p == '*')
				cur[j] = prev[j] || (j > 0 && cur[j - 1]);
			else
				cur[j] = j > 0 && prev[j - 1] &&
				    (*p == '?' || *p == s[j - 1]);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[n];
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static struct name_table *
table_new(const char *const *pats, size_t n)
{
	char err[256] = "";
	struct name_table *t = names_new(pats, n, err, sizeof(err));

	if (t == NULL)
		fail_msg("names_new: %s", err);
	return t;
}

/* --- table-driven cases ------------------------------------------------ */

#define MAXP 10
#define END UINT32_MAX

struct case_ {
	const char *pats[MAXP];         /* NULL-terminated */
	const char *host;
	uint32_t want[MAXP + 1];        /* sorted, END-terminated */
};

static const struct case_ cases[] = {
	/* exact names */
	{ { "outlook.com" }, "outlook.com", { 0, END } },
	{ { "outlook.com" }, "www.outlook.com", { END } },
	{ { "outlook.com" }, "outlook.com.evil.net", { END } },
	{ { "outlook.com" }, "evil-outlook.com", { END } },
	{ { "outlook.com" }, "xoutlook.com", { END } },
	{ { "outlook.com" }, "outlook.co", { END } },
	{ { "outlook.com" }, "utlook.com", { END } },
	{ { "www.outlook.com" }, "outlook.com", { END } },
	/* *.suffix: subdomains only, never the apex */
	{ { "*.outlook.com" }, "a.outlook.com", { 0, END } },
	{ { "*.outlook.com" }, "a.b.outlook.com", { 0, END } },
	{ { "*.outlook.com" }, "outlook.com", { END } },
	{ { "*.outlook.com" }, "xoutlook.com", { END } },
	{ { "*.outlook.com" }, "evil-outlook.com", { END } },
	{ { "*.outlook.com" }, "outlook.com.evil.net", { END } },
	{ { "*.outlook.com" }, "a.outlook.com.evil.net", { END } },
	{ { "*.outlook.com" }, "a.outlook.co", { END } },
	{ { "outlook.com", "*.outlook.com" }, "outlook.com", { 0, END } },
	{ { "outlook.com", "*.outlook.com" }, "smtp.outlook.com", { 1, END } },
	{ { "outlook.com", "*.outlook.com" }, "evil-outlook.com", { END } },
	/* a '*' with no dot after it is a plain string suffix */
	{ { "*cdn.onenote.net" }, "cdn.onenote.net", { 0, END } },
	{ { "*cdn.onenote.net" }, "xcdn.onenote.net", { 0, END } },
	{ { "*cdn.onenote.net" }, "a.b.cdn.onenote.net", { 0, END } },
	{ { "*cdn.onenote.net" }, "cdn.onenote.net.evil", { END } },
	{ { "*cdn.onenote.net" }, "dn.onenote.net", { END } },
	{ { "*cdn.onenote.net" }, "cdn.onenote.ne", { END } },
	{ { "*-files.sharepoint.com" }, "contoso-files.sharepoint.com",
	    { 0, END } },
	{ { "*-files.sharepoint.com" }, "-files.sharepoint.com", { 0, END } },
	{ { "*-files.sharepoint.com" }, "files.sharepoint.com", { END } },
	{ { "*-files.sharepoint.com" }, "contoso.sharepoint.com", { END } },
	/* a '*' inside */
	{ { "autodiscover.*.onmicrosoft.com" },
	    "autodiscover.contoso.onmicrosoft.com", { 0, END } },
	{ { "autodiscover.*.onmicrosoft.com" },
	    "autodiscover.a.b.onmicrosoft.com", { 0, END } },
	{ { "autodiscover.*.onmicrosoft.com" }, "autodiscover.onmicrosoft.com",
	    { END } },
	{ { "autodiscover.*.onmicrosoft.com" },
	    "xautodiscover.contoso.onmicrosoft.com", { END } },
	{ { "autodiscover.*.onmicrosoft.com" },
	    "autodiscover.contoso.onmicrosoft.com.evil", { END } },
	{ { "autodiscover.*.onmicrosoft.com" },
	    "autodiscover.contoso.onmicrosoft.co", { END } },
	{ { "autodiscover.*.onmicrosoft.com" }, "contoso.onmicrosoft.com",
	    { END } },
	{ { "autodiscover.*.mail.onmicrosoft.us" },
	    "autodiscover.contoso.mail.onmicrosoft.us", { 0, END } },
	{ { "autodiscover.*.mail.onmicrosoft.us" },
	    "autodiscover.contoso.onmicrosoft.us", { END } },
	/* '?' is exactly one character, any character */
	{ { "a?c.example.com" }, "abc.example.com", { 0, END } },
	{ { "a?c.example.com" }, "a.c.example.com", { 0, END } },
	{ { "a?c.example.com" }, "ac.example.com", { END } },
	{ { "a?c.example.com" }, "abbc.example.com", { END } },
	{ { "?" }, "a", { 0, END } },
	{ { "?" }, "ab", { END } },
	{ { "?.x" }, "a.x", { 0, END } },
	{ { "?.x" }, "-.x", { 0, END } },
	{ { "?.x" }, ".x", { END } },
	{ { "?.x" }, "x", { END } },
	/* head and tail around the wildcards may not overlap */
	{ { "ab*ba" }, "aba", { END } },
	{ { "ab*ba" }, "abba", { 0, END } },
	{ { "ab*ba" }, "abxyba", { 0, END } },
	{ { "ab?ba" }, "abba", { END } },
	{ { "a*a" }, "a", { END } },
	{ { "a*a" }, "aa", { 0, END } },
	{ { "*a*" }, "bab", { 0, END } },
	{ { "*a*" }, "bbb", { END } },
	{ { "*.*.example.com" }, "a.b.example.com", { 0, END } },
	{ { "*.*.example.com" }, "a.example.com", { END } },
	/* regex metacharacters in a pattern are literal */
	{ { "a-*.x" }, "a-b.x", { 0, END } },
	{ { "a-*.x" }, "ab.x", { END } },
	{ { "a_b?.x" }, "a_bc.x", { 0, END } },
	{ { "a.b?" }, "axbc", { END } },
	{ { "a.*.b" }, "axyzb", { END } },
	{ { "*.x.?" }, "a.xx.y", { END } },
	/* '*' alone matches everything */
	{ { "*" }, "anything.example", { 0, END } },
	{ { "*" }, "a", { 0, END } },
	/* several patterns, several matches, all reported */
	{ { "*.microsoft.com", "*.com", "login.microsoft.com", "*",
	    "*t.com", "login.*.com", "l?gin.microsoft.com",
	    "login.microsoft.com", "*.microsoft.co", "login.microsoft.com.x" },
	    "login.microsoft.com", { 0, 1, 2, 3, 4, 5, 6, 7, END } },
	{ { "*.office.com", "*.office.com", "outlook.office.com",
	    "*outlook.office.com" }, "outlook.office.com", { 0, 1, 2, 3, END } },
	{ { "*outlook.com", "outlook.com" }, "outlook.com", { 0, 1, END } },
	{ { "*.outlook.com", "*.mail.protection.outlook.com",
	    "*.protection.outlook.com" }, "x.mail.protection.outlook.com",
	    { 0, 1, 2, END } },
	{ { "*.outlook.com", "*.mail.protection.outlook.com",
	    "*.protection.outlook.com" }, "mail.protection.outlook.com",
	    { 0, 2, END } },
	/* an empty table */
	{ { NULL }, "outlook.com", { END } },
};

static void
test_case(void **state)
{
	const struct case_ *c = *state;
	size_t np = 0, nw = 0, n;
	struct name_table *t;
	uint32_t out[MAXP + 4];

	while (np < MAXP && c->pats[np] != NULL)
		np++;
	while (c->want[nw] != END)
		nw++;
	/* the table must agree with the reference too */
	for (size_t i = 0, k = 0; i < np; i++) {
		bool m = glob(c->pats[i], c->host);

		if (m != (k < nw && c->want[k] == i))
			fail_msg("test table disagrees with shExpMatch: %s %s",
			    c->pats[i], c->host);
		k += m;
	}
	t = table_new(c->pats, np);
	n = names_lookup(t, c->host, strlen(c->host), out, MAXP + 4);
	assert_int_equal(n, nw);
	qsort(out, n, sizeof(*out), cmp_u32);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i], c->want[i]);
	names_free(t);
}

/* Only len bytes of the host count. */
static void
test_len_honoured(void **state)
{
	const char *pats[] = { "outlook.com", "*.outlook.com", "a?.x" };
	struct name_table *t = table_new(pats, 3);
	uint32_t out[4];

	(void)state;
	assert_int_equal(names_lookup(t, "outlook.comXX", 11, out, 4), 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(names_lookup(t, "www.outlook.com", 3, out, 4), 0);
	assert_int_equal(names_lookup(t, "ab.xy", 4, out, 4), 1);
	assert_int_equal(out[0], 2);
	assert_int_equal(names_lookup(t, "", 0, out, 4), 0);
	names_free(t);
}

/* cap smaller than the count: the count is the total; out is not written
 * beyond cap; what is written is distinct matching indices. */
static void
test_cap(void **state)
{
	const char *pats[] = { "*.com", "x.y.com", "*", "x.?.com", "*y.com",
	    "nope.com", "x.*.com" };
	struct name_table *t = table_new(pats, 7);
	uint32_t out[8];

	(void)state;
	for (size_t cap = 0; cap <= 7; cap++) {
		for (size_t i = 0; i < 8; i++)
			out[i] = 0xdeadbeef;
		assert_int_equal(names_lookup(t, "x.y.com", 7, out, cap), 6);
		for (size_t i = 0; i < 8; i++) {
			if (i >= cap || i >= 6) {
				assert_int_equal(out[i], 0xdeadbeef);
				continue;
			}
			assert_true(out[i] < 7 && out[i] != 5);
			for (size_t k = 0; k < i; k++)
				assert_true(out[k] != out[i]);
		}
	}
	names_free(t);
}

static void
test_glob_count(void **state)
{
	const char *pats[] = { "*.x", "x", "*cdn.x", "autodiscover.*.x",
	    "a?b", "*", "*a*", "*-files.x", "?x" };
	struct name_table *t = table_new(pats, 9);

	(void)state;
	/* only a wildcard after the first character needs an automaton */
	assert_int_equal(names_glob_count(t), 4);
	names_free(t);
}

/* The table copies the patterns. */
static void
test_copies(void **state)
{
	char a[] = "*.outlook.com", b[] = "autodiscover.*.x", c[] = "exact.x";
	const char *pats[] = { a, b, c };
	struct name_table *t = table_new(pats, 3);
	uint32_t out[4];

	(void)state;
	memset(a, 'z', sizeof(a) - 1);
	memset(b, 'z', sizeof(b) - 1);
	memset(c, 'z', sizeof(c) - 1);
	assert_int_equal(names_lookup(t, "a.outlook.com", 13, out, 4), 1);
	assert_int_equal(names_lookup(t, "autodiscover.q.x", 16, out, 4), 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(names_lookup(t, "exact.x", 7, out, 4), 1);
	assert_int_equal(out[0], 2);
	names_free(t);
	names_free(NULL);
}

/* Every pattern of the real data, checked by host_pattern_check, builds
 * and answers like the reference. */
static void
test_real_shapes(void **state)
{
	static const char *const raw[] = { "outlook.office365.com",
	    "*.outlook.com", "*cdn.onenote.net", "*-files.sharepoint.com",
	    "*-myfiles.sharepoint.com", "autodiscover.*.onmicrosoft.com",
	    "autodiscover.*.mail.onmicrosoft.us", "*.office.com",
	    "*.microsoft.com", "*.sharepoint.com" };
	static const char *const hosts[] = { "outlook.office365.com",
	    "contoso-files.sharepoint.com", "contoso-myfiles.sharepoint.com",
	    "contoso.sharepoint.com", "autodiscover.contoso.onmicrosoft.com",
	    "autodiscover.contoso.mail.onmicrosoft.us", "cdn.onenote.net",
	    "www.onenote.net", "outlook.office.com", "office.com",
	    "login.microsoft.com", "microsoft.com.evil.test",
	    "evilmicrosoft.com", "x.outlook.com" };
	char buf[10][HOST_NAME_MAX_LEN + 1];
	const char *pats[10];
	struct name_table *t;

	(void)state;
	for (size_t i = 0; i < 10; i++) {
		const char *why;

		assert_int_equal(host_pattern_check(raw[i], strlen(raw[i]),
		    buf[i], &why), 0);
		pats[i] = buf[i];
	}
	t = table_new(pats, 10);
	for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
		uint32_t out[16], want[16];
		size_t nw = 0, n = names_lookup(t, hosts[h], strlen(hosts[h]),
		    out, 16);

		for (uint32_t i = 0; i < 10; i++)
			if (glob(pats[i], hosts[h]))
				want[nw++] = i;
		assert_int_equal(n, nw);
		qsort(out, n, sizeof(*out), cmp_u32);
		assert_memory_equal(out, want, n * sizeof(*out));
	}
	names_free(t);
}

/* --- brute force against the reference --------------------------------- */


/* A small alphabet so that patterns and hosts collide often. */
static const char alpha[] = "ab-c";

static void
random_label(struct suite_rng *r, char *buf, size_t *o, bool glob_ok)
{
	unsigned n = 1 + suite_rng_below(r, 4);

	for (unsigned i = 0; i < n; i++) {
		unsigned k = suite_rng_below(r, 12);

		if (glob_ok && k == 0)
			buf[(*o)++] = '*';
		else if (glob_ok && k == 1)
			buf[(*o)++] = '?';
		else
			buf[(*o)++] = alpha[suite_rng_below(r, 4)];
	}
}

static void
random_name(struct suite_rng *r, char *buf, bool glob_ok)
{
	unsigned labels = 1 + suite_rng_below(r, 4);
	size_t o = 0;

	if (glob_ok && suite_rng_below(r, 3) == 0) {
		buf[o++] = '*';         /* the common leading-'*' shapes */
		if (suite_rng_below(r, 2) == 0)
			buf[o++] = '.';
	}
	for (unsigned i = 0; i < labels; i++) {
		if (i > 0)
			buf[o++] = '.';
		random_label(r, buf, &o, glob_ok);
	}
	buf[o] = '\0';
}

/* A host that a pattern matches: every wildcard filled in at random. */
static void
host_from(struct suite_rng *r, const char *pat, char *buf)
{
	size_t o = 0;

	for (const char *p = pat; *p != '\0'; p++) {
		if (*p == '*') {
			unsigned n = suite_rng_below(r, 4);

			for (unsigned i = 0; i < n; i++)
				buf[o++] = (i > 0 && suite_rng_below(r, 3) == 0) ? '.' :
				    alpha[suite_rng_below(r, 4)];
		} else if (*p == '?') {
			buf[o++] = alpha[suite_rng_below(r, 4)];
		} else {
			buf[o++] = *p;
		}
	}
	/* sometimes one character more at either end */
	buf[o] = '\0';
	if (suite_rng_below(r, 4) == 0) {
		memmove(buf + 1, buf, o + 1);
		buf[0] = alpha[suite_rng_below(r, 4)];
	} else if (suite_rng_below(r, 4) == 0) {
		buf[o++] = alpha[suite_rng_below(r, 4)];
		buf[o] = '\0';
	}
}

struct brute {
	uint64_t seed;
	size_t n_patterns, n_hosts;
};

static const struct brute brutes[] = {
	{ 11, 1, 3000 },
	{ 12, 5, 5000 },
	{ 13, 40, 10000 },
	{ 14, 300, 10000 },
	{ 15, 2000, 5000 },
};

#define BUF 64

static void
test_brute(void **state)
{
	const struct brute *b = *state;
	struct suite_rng r = { b->seed };
	char (*store)[BUF] = calloc(b->n_patterns, BUF);
	const char **pats = calloc(b->n_patterns, sizeof(*pats));
	uint32_t *out = calloc(b->n_patterns + 1, sizeof(*out));
	uint32_t *want = calloc(b->n_patterns + 1, sizeof(*want));
	struct name_table *t;
	size_t n = 0, positives = 0;

	assert_non_null(store);
	assert_non_null(pats);
	assert_non_null(out);
	assert_non_null(want);
	while (n < b->n_patterns) {
		char tmp[BUF];
		const char *why;

		if (n > 0 && suite_rng_below(&r, 10) == 0) {
			memcpy(store[n], store[suite_rng_below(&r, (unsigned)n)], BUF);
		} else {
			random_name(&r, tmp, true);
			if (host_pattern_check(tmp, strlen(tmp), store[n], &why)
			    != 0)
				continue;
		}
		pats[n] = store[n];
		n++;
	}
	t = table_new(pats, n);
	for (size_t h = 0; h < b->n_hosts; h++) {
		char host[2 * BUF];
		size_t nw = 0, got;

		if (suite_rng_below(&r, 2) == 0)
			random_name(&r, host, false);
		else
			host_from(&r, pats[suite_rng_below(&r, (unsigned)n)], host);
		for (uint32_t i = 0; i < n; i++)
			if (glob(pats[i], host))
				want[nw++] = i;
		positives += nw > 0;
		got = names_lookup(t, host, strlen(host), out, n + 1);
		{
			/* names_visit: the same matches as names_lookup */
			struct suite_visit_log vl = { calloc(n + 1, sizeof(uint32_t)), 0,
			    n + 1 };

			assert_non_null(vl.v);
			assert_int_equal(names_visit(t, host, strlen(host),
			    suite_visit_log, &vl), got);
			assert_int_equal(vl.n, got);
			assert_memory_equal(vl.v, out, got * sizeof(*out));
			free(vl.v);
		}
		if (got != nw) {
			print_error("host \"%s\": table %zu matches, reference %zu\n",
			    host, got, nw);
			for (size_t i = 0; i < nw; i++)
				print_error("  reference: \"%s\"\n", pats[want[i]]);
			fail();
		}
		qsort(out, got, sizeof(*out), cmp_u32);
		for (size_t i = 0; i < nw; i++)
			if (out[i] != want[i]) {
				print_error("host \"%s\": reported \"%s\", not \"%s\"\n",
				    host, pats[out[i]], pats[want[i]]);
				fail();
			}
	}
	/* the generator must produce matches, or this proves nothing */
	assert_true(positives > b->n_hosts / 4);
	names_free(t);
	free(store);
	free(pats);
	free(out);
	free(want);
}

/* --- long patterns, many wildcards ------------------------------------ */

/* A pattern of up to max characters over a small alphabet, '*' and '?'
 * dense, so the automata get every number of state words (one per 64
 * characters other than '*'). */
static void
random_glob(struct suite_rng *r, char *buf, size_t max)
{
	size_t len = 1 + suite_rng_below(r, (unsigned)max);
	unsigned stars = suite_rng_below(r, 4);         /* 0: none at all */

	for (size_t i = 0; i < len; i++) {
		unsigned k = suite_rng_below(r, 16);

		buf[i] = stars > 0 && k < stars ? '*' : k < 5 ? '?' :
		    "ab.c"[suite_rng_below(r, 4)];
	}
	buf[len] = '\0';
}

/* A host for pat: its wildcards filled in, cut to a host name's length. */
static void
long_host_from(struct suite_rng *r, const char *pat, char *buf)
{
	size_t o = 0;

	for (const char *p = pat; *p != '\0' && o < HOST_NAME_MAX_LEN; p++) {
		unsigned n = *p == '*' ? suite_rng_below(r, 3) : 1;

		for (unsigned i = 0; i < n && o < HOST_NAME_MAX_LEN; i++)
			buf[o++] = *p == '*' || *p == '?' ?
			    "ab.c"[suite_rng_below(r, 4)] : *p;
	}
	buf[o] = '\0';
	for (unsigned k = suite_rng_below(r, 4); k > 0 && o > 0; k--)
		buf[suite_rng_below(r, (unsigned)o)] = "ab.c"[suite_rng_below(r, 4)];
}

/* The two references agree where the recursive one is cheap. */
static void
test_references_agree(void **state)
{
	struct suite_rng r = { 21 };

	(void)state;
	for (int i = 0; i < 20000; i++) {
		char pat[16], host[2 * sizeof(pat)];

		random_glob(&r, pat, 12);
		if (suite_rng_below(&r, 2) == 0)
			long_host_from(&r, pat, host);
		else
			random_glob(&r, host, 12), host[strcspn(host, "*?")] = '\0';
		if (glob(pat, host) != glob_dp(pat, host))
			fail_msg("references disagree: \"%s\" \"%s\"", pat, host);
	}
}

/* One pattern at a time, up to 253 characters with up to 253 wildcards,
 * against the dynamic-programming reference. */
static void
test_long_globs(void **state)
{
	struct suite_rng r = { 22 };
	size_t positives = 0, total = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		char pat[HOST_NAME_MAX_LEN + 1], host[HOST_NAME_MAX_LEN + 1];
		const char *pats[1] = { pat };
		struct name_table *t;

		random_glob(&r, pat, HOST_NAME_MAX_LEN);
		t = table_new(pats, 1);
		for (int h = 0; h < 8; h++) {
			uint32_t out[2];
			bool want;

			long_host_from(&r, pat, host);
			want = glob_dp(pat, host);
			if (names_lookup(t, host, strlen(host), out, 2) != want)
				fail_msg("\"%s\" on \"%s\": want %s", pat, host,
				    want ? "a match" : "none");
			positives += want;
			total++;
		}
		names_free(t);
	}
	/* both answers often enough to prove something */
	assert_true(positives > total / 4 && total - positives > total / 10);
}

/* Where the state vector crosses a word: patterns of 62..66, 126..130,
 * 190..194 and 250..253 characters other than '*', each matched by a host
 * of exactly that many characters and not by one character less or one
 * wrong at the last place. */
static void
test_word_edges(void **state)
{
	static const size_t finals[] = { 2, 62, 63, 64, 65, 66, 126, 127, 128,
	    129, 130, 190, 191, 192, 193, 194, 250, 251, 252, 253 };

	(void)state;
	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
		for (size_t star = 0; star < 2; star++) {
			size_t f = finals[i] - star;    /* a '*' is not a state */
			char pat[HOST_NAME_MAX_LEN + 1], host[HOST_NAME_MAX_LEN + 1];
			const char *pats[1] = { pat };
			struct name_table *t;
			uint32_t out[2];

			memset(pat, '?', f);
			pat[f - 1] = 'b';
			if (star)
				memmove(pat + 2, pat + 1, f - 1), pat[1] = '*';
			pat[f + star] = '\0';
			memset(host, 'a', f);
			host[f - 1] = 'b';
			host[f] = '\0';
			t = table_new(pats, 1);
			assert_int_equal(names_lookup(t, host, f, out, 2), 1);
			assert_int_equal(names_lookup(t, host, f - 1, out, 2), 0);
			host[f - 1] = 'c';
			assert_int_equal(names_lookup(t, host, f, out, 2), 0);
			names_free(t);
		}
}

/* The feed of issue 9: 100 patterns "*a*a*...*a*c.contoso-test.com" with
 * 1..100 "*a" (PCRE2 took 11.7 s per lookup on them).  The answers are
 * known: a host of k 'a's then "c.contoso-test.com" matches the patterns
 * with at most k "*a"; without the 'c' none.  (How fast is for make
 * bench; here, that it finishes, with these answers.) */
static void
test_adversarial(void **state)
{
	enum { N = 100 };
	static const char tail[] = "*c.contoso-test.com";
	char store[N][HOST_NAME_MAX_LEN + 1];
	const char *pats[N];
	struct name_table *t;
	uint32_t out[N + 1];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		size_t o = 0;

		for (size_t k = 0; k <= i; k++)
			store[i][o++] = '*', store[i][o++] = 'a';
		memcpy(store[i] + o, tail, sizeof(tail));
		pats[i] = store[i];
	}
	t = table_new(pats, N);
	assert_int_equal(names_glob_count(t), N);
	for (size_t k = 0; k <= 150; k += 10) {
		char host[HOST_NAME_MAX_LEN + 1];
		size_t o = 0, want = k < N ? k : N, n;

		/* labels of at most 63: a dot after every 60 'a's */
		for (size_t a = 0; a < k; a++) {
			if (a > 0 && a % 60 == 0)
				host[o++] = '.';
			host[o++] = 'a';
		}
		memcpy(host + o, tail + 1, sizeof(tail) - 1);
		n = names_lookup(t, host, strlen(host), out, N + 1);
		assert_int_equal(n, want);
		for (size_t i = 0; i < N; i++)
			assert_int_equal(glob_dp(pats[i], host), i < want);
		qsort(out, n, sizeof(*out), cmp_u32);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(out[i], i);
		/* the same 'a's without the 'c': the tail fits, nothing else */
		host[o] = 'x';
		assert_int_equal(names_lookup(t, host, strlen(host), out, N + 1),
		    0);
	}
	names_free(t);
}

int
main(void)
{
	struct suite s = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *c = &cases[i];
		size_t nw = 0;

		while (c->want[nw] != END)
			nw++;
		suite_add(&s, test_case, (void *)c,
		    "lookup \"%s\" in [%s%s] -> %zu match%s", c->host,
		    c->pats[0] ? c->pats[0] : "", c->pats[1] ? ", ..." : "", nw,
		    nw == 1 ? "" : "es");
	}
	suite_add(&s, test_len_honoured, NULL, "lookup reads only len bytes");
	suite_add(&s, test_cap, NULL, "lookup: cap smaller than the count");
	suite_add(&s, test_glob_count, NULL,
	    "only inner wildcards need an automaton");
	suite_add(&s, test_copies, NULL, "the table copies its patterns");
	suite_add(&s, test_real_shapes, NULL,
	    "the real pattern shapes against shExpMatch");
	for (size_t i = 0; i < sizeof(brutes) / sizeof(brutes[0]); i++)
		suite_add(&s, test_brute, (void *)&brutes[i],
		    "table vs recursive shExpMatch: seed %llu, %zu patterns, "
		    "%zu hosts", (unsigned long long)brutes[i].seed,
		    brutes[i].n_patterns, brutes[i].n_hosts);
	suite_add(&s, test_references_agree, NULL,
	    "the two shExpMatch references agree");
	suite_add(&s, test_long_globs, NULL,
	    "patterns up to 253 characters, dense wildcards, vs the DP "
	    "reference");
	suite_add(&s, test_word_edges, NULL,
	    "inner-wildcard patterns across 64-character state words");
	suite_add(&s, test_adversarial, NULL,
	    "100 patterns \"*a*a...*c.contoso-test.com\": known answers");
	return suite_run(&s, "names");
}
