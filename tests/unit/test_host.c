/* test_host.c - host_normalise and host_pattern_check (DESIGN.md §3).
 *
 * Every row of a table is its own TAP test point.  Expected addresses are
 * computed here with inet_pton, independently of the library's ip_parse,
 * in the library's one 128-bit space (IPv4 as ::ffff:a.b.c.d). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "lanes.h"

/* --- host_normalise ---------------------------------------------------- */

#define LEN_STR SIZE_MAX        /* len column: use strlen(in) */

struct norm_case {
	const char *in;
	size_t len;
	enum host_kind kind;
	const char *name;       /* expected normalised text (NAME and IP) */
	const char *addr;       /* IP: expected address, as text */
	bool v4;                /* IP: expected v4 flag */
};

/* Long inputs are built at start-up. */
static char name253[254], name254[255], name253dot[255], label63[80],
    label64[80], name252dot2[256];

static void
build_long_names(void)
{
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(name253, 'a', 253);
	name253[63] = name253[127] = name253[191] = '.';
	name253[253] = '\0';
	memcpy(name254, name253, 253);
	name254[253] = 'b';
	name254[254] = '\0';
	memcpy(name253dot, name253, 253);
	name253dot[253] = '.';
	name253dot[254] = '\0';
	/* 252 characters and two trailing dots: still invalid */
	memcpy(name252dot2, name253, 252);
	name252dot2[252] = '.';
	name252dot2[253] = '.';
	name252dot2[254] = '\0';
	memset(label63, 'x', 63);
	memcpy(label63 + 63, ".example", 9);
	memset(label64, 'x', 64);
	memcpy(label64 + 64, ".example", 9);
}

static const struct norm_case norm_cases[] = {
	/* names */
	{ "outlook.office365.com", LEN_STR, HOST_NAME, "outlook.office365.com",
	    NULL, false },
	{ "OUTLOOK.Office365.COM", LEN_STR, HOST_NAME, "outlook.office365.com",
	    NULL, false },
	{ "outlook.office365.com.", LEN_STR, HOST_NAME,
	    "outlook.office365.com", NULL, false },
	{ "Outlook.Office365.Com.", LEN_STR, HOST_NAME,
	    "outlook.office365.com", NULL, false },
	{ "localhost", LEN_STR, HOST_NAME, "localhost", NULL, false },
	{ "a", LEN_STR, HOST_NAME, "a", NULL, false },
	{ "xn--bcher-kva.example", LEN_STR, HOST_NAME, "xn--bcher-kva.example",
	    NULL, false },
	{ "_dmarc.example.com", LEN_STR, HOST_NAME, "_dmarc.example.com", NULL,
	    false },
	{ "under_score.sharepoint.com", LEN_STR, HOST_NAME,
	    "under_score.sharepoint.com", NULL, false },
	{ "eus-www.sway-cdn.com", LEN_STR, HOST_NAME, "eus-www.sway-cdn.com",
	    NULL, false },
	/* only the first len bytes count */
	{ "outlook.comXYZ", 11, HOST_NAME, "outlook.com", NULL, false },
	/* two trailing dots: one is stripped, the rest is an empty label */
	{ "outlook.office365.com..", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ ".", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "..", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "x", 0, HOST_INVALID, NULL, NULL, false },
	{ ".outlook.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook..com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	/* not host names */
	{ "a b.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ " outlook.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook.com ", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "a%2eb.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "a%b.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "100%", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "a\tb.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "a\x01" "b.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook.com\n", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook.com\r", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "out\x7flook.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "b\xc3\xbc" "cher.example", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook\0.com", 12, HOST_INVALID, NULL, NULL, false },
	{ "outlook.com\0", 12, HOST_INVALID, NULL, NULL, false },
	{ "\0", 1, HOST_INVALID, NULL, NULL, false },
	{ "*.outlook.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "a?.outlook.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "https://outlook.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook.com:443", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook.com/x", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "user@outlook.com", LEN_STR, HOST_INVALID, NULL, NULL, false },
	/* IPv4 */
	{ "13.107.6.152", LEN_STR, HOST_IP, "13.107.6.152", "13.107.6.152",
	    true },
	{ "0.0.0.0", LEN_STR, HOST_IP, "0.0.0.0", "0.0.0.0", true },
	{ "255.255.255.255", LEN_STR, HOST_IP, "255.255.255.255",
	    "255.255.255.255", true },
	/* glibc's resolver takes "1.2.3.4." for a name: no address */
	{ "13.107.6.152.", LEN_STR, HOST_INVALID, NULL, NULL, false },
	/* what inet_aton reads as an address is never a name */
	{ "10.1", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "012.0.0.1", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "0x0a.0.0.1", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "3232235777", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "a.b.c.0X1F", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "outlook.office365.com.0", LEN_STR, HOST_INVALID, NULL, NULL,
	    false },
	/* numbers inside a name are fine, at its end not */
	{ "0x0a.example", LEN_STR, HOST_NAME, "0x0a.example", NULL, false },
	{ "365.cafe", LEN_STR, HOST_NAME, "365.cafe", NULL, false },
	{ "a.0xg", LEN_STR, HOST_NAME, "a.0xg", NULL, false },
	{ "a.x1", LEN_STR, HOST_NAME, "a.x1", NULL, false },
	/* brackets hold IPv6 only */
	{ "[13.107.6.152]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	/* IPv6 */
	{ "[2603:1006:1400::5]", LEN_STR, HOST_IP, "2603:1006:1400::5",
	    "2603:1006:1400::5", false },
	{ "[2603:1006:1400::ABCD]", LEN_STR, HOST_IP, "2603:1006:1400::abcd",
	    "2603:1006:1400::abcd", false },
	{ "2603:1006:1400::5", LEN_STR, HOST_IP, "2603:1006:1400::5",
	    "2603:1006:1400::5", false },
	{ "ABCD::EF01", LEN_STR, HOST_IP, NULL, "abcd::ef01", false },
	{ "::1.", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "2603:1006:1400:0:0:0:0:5", LEN_STR, HOST_IP,
	    "2603:1006:1400:0:0:0:0:5", "2603:1006:1400::5", false },
	{ "[::]", LEN_STR, HOST_IP, "::", "::", false },
	{ "[::1]", LEN_STR, HOST_IP, "::1", "::1", false },
	{ "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]", LEN_STR, HOST_IP,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
	/* IPv4-mapped IPv6 is IPv4 */
	{ "[::ffff:13.107.6.152]", LEN_STR, HOST_IP, "::ffff:13.107.6.152",
	    "13.107.6.152", true },
	{ "::ffff:13.107.6.152", LEN_STR, HOST_IP, "::ffff:13.107.6.152",
	    "13.107.6.152", true },
	{ "[::FFFF:13.107.6.152]", LEN_STR, HOST_IP, "::ffff:13.107.6.152",
	    "13.107.6.152", true },
	{ "[::ffff:d6b:698]", LEN_STR, HOST_IP, "::ffff:d6b:698",
	    "13.107.6.152", true },
	/* IPv4-compatible (deprecated) and NAT64 forms are not IPv4 */
	{ "[::13.107.6.152]", LEN_STR, HOST_IP, "::13.107.6.152",
	    "::13.107.6.152", false },
	{ "[64:ff9b::13.107.6.152]", LEN_STR, HOST_IP, "64:ff9b::13.107.6.152",
	    "64:ff9b::13.107.6.152", false },
	/* broken literals */
	{ "[]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[::1", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "::1]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[[::1]]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[::1]:443", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[fe80::1%eth0]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "fe80::1%25eth0", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[2603:1006:1400::5:]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[2603:1006:1400:::5]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[gggg::1]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	{ "[outlook.com]", LEN_STR, HOST_INVALID, NULL, NULL, false },
	/* bytes after a NUL must not be ignored: "13.107.6.152%00.evil.test"
	 * from Squid decodes to this and is not the address 13.107.6.152 */
	{ "13.107.6.152\0.evil.test", 23, HOST_INVALID, NULL, NULL, false },
	{ "[2603:1006::5\0x]", 16, HOST_INVALID, NULL, NULL, false },
	{ "::1\0", 4, HOST_INVALID, NULL, NULL, false },
};

static void
test_normalise(void **state)
{
	const struct norm_case *c = *state;
	size_t len = c->len == LEN_STR ? strlen(c->in) : c->len;
	struct host_query q;

	memset(&q, 0x5a, sizeof(q));
	host_normalise(c->in, len, &q);
	assert_int_equal(q.kind, c->kind);
	if (c->kind == HOST_INVALID) {
		assert_non_null(q.reason);
		assert_true(q.reason[0] != '\0');
		return;
	}
	assert_null(q.reason);
	if (c->kind == HOST_NAME) {
		/* the name text is promised for host names only */
		assert_int_equal(q.len, strlen(c->name));
		assert_int_equal(q.name[q.len], '\0');
		assert_string_equal(q.name, c->name);
	} else {
		struct ip_addr want = suite_addr(c->addr);

		assert_int_equal(q.v4, c->v4);
		assert_true(q.addr.hi == want.hi);
		assert_true(q.addr.lo == want.lo);
	}
}

/* The rules of host_normalise for a query without brackets, written out
 * the slow, obvious way (one character at a time, ip_parse tried first
 * whenever the query may start an address), as the model its 16-bytes-
 * at-a-time check of short queries must agree with: kind, reason and
 * normalised name. */
static void
model_normalise(const char *in, size_t len, struct host_query *q)
{
	size_t start = 0;
	bool dot = len > 0 && in[len - 1] == '.';
	const char *why = NULL;

	memset(q, 0, sizeof(*q));
	q->kind = HOST_INVALID;
	len -= dot;
	if (len == 0) {
		q->reason = "empty host";
		return;
	}
	if (len > HOST_NAME_MAX_LEN) {
		q->reason = "host name longer than 253 characters";
		return;
	}
	if (strchr("0123456789abcdefABCDEF:", in[0]) != NULL &&
	    ip_parse(in, len, &q->addr, &q->v4) == 0) {
		if (dot)
			q->reason = "IP address with a trailing dot";
		else
			q->kind = HOST_IP;
		return;
	}
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? in[i] : '.';

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 'a' - 'A');
		q->name[i] = c;
		if (c == '.') {
			if (why == NULL && i == start)
				why = "empty label";
			if (why == NULL && i - start > HOST_LABEL_MAX_LEN)
				why = "label longer than 63 characters";
			start = i + 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_')) {
			q->reason = "character not allowed in a host name";
			return;
		}
	}
	q->name[len] = '\0';
	if (why == NULL && host_label_is_numeric(host_last_label(q->name, len),
	    false))
		why = "not a host name: the last label is a number, so "
		    "resolvers read it as an IPv4 address";
	if (why != NULL) {
		q->reason = why;
		return;
	}
	q->len = len;
	q->kind = HOST_NAME;
}

/* Random queries of 1..80 bytes from characters that matter (cases,
 * digits that may make an address, dots that may make empty labels, bytes
 * no host name has), most of them short enough for the fast check, 40%
 * of them a real name with one byte changed: host_normalise agrees with
 * the model on every one. */
static void
test_normalise_model(void **state)
{
	static const char alphabet[] = "aAfFxzZ09.-_:/* \x80\xff";
	struct suite_rng rng = { 0x6e6f726dU };
	char in[96];

	(void)state;
	for (unsigned n = 0; n < 200000; n++) {
		size_t len = 1 + suite_rng_below(&rng, n % 4 == 0 ? 80 : 40);
		struct host_query got, want;

		if (suite_rng_below(&rng, 10) < 4) {
			for (size_t i = 0; i < len; i++)
				in[i] = i % 7 == 6 ? '.' : (char)('a' + i % 26);
			in[suite_rng_below(&rng, (unsigned)len)] =
			    alphabet[suite_rng_below(&rng, sizeof(alphabet) - 1)];
		} else {
			for (size_t i = 0; i < len; i++)
				in[i] = alphabet[suite_rng_below(&rng,
				    sizeof(alphabet) - 1)];
		}
		host_normalise(in, len, &got);
		model_normalise(in, len, &want);
		if (got.kind != want.kind ||
		    (got.kind == HOST_INVALID && strcmp(got.reason,
		    want.reason) != 0) ||
		    (got.kind == HOST_NAME && (got.len != want.len ||
		    strcmp(got.name, want.name) != 0)) ||
		    (got.kind == HOST_IP && (got.addr.hi != want.addr.hi ||
		    got.addr.lo != want.addr.lo || got.v4 != want.v4))) {
			char shown[400];

			suite_show(in, len, shown, sizeof(shown));
			fail_msg("\"%s\": kind %d (%s), model %d (%s)", shown,
			    got.kind, got.reason ? got.reason : got.name,
			    want.kind, want.reason ? want.reason : want.name);
		}
	}
}

/* lanes.h's two ways to turn a lane mask into bits (SSE2's one
 * instruction here, the multiply elsewhere) agree on random masks and on
 * every single lane, so the way x86-64 does not build is checked too. */
static void
test_lane_bits(void **state)
{
	struct suite_rng rng = { 0x6c616e65U };

	(void)state;
	for (unsigned n = 0; n < 100000 + 16; n++) {
		lanes16 m;
		uint32_t want = 0;

		for (unsigned i = 0; i < 16; i++) {
			bool on = n < 16 ? i == n : suite_rng_below(&rng, 2) != 0;

			m[i] = on ? -1 : 0;
			want |= (uint32_t)on << i;
		}
		assert_int_equal(lane_bits(m), want);
		assert_int_equal(lane_bits_portable(m), want);
		assert_int_equal(lanes_any(m), want != 0);
	}
}

/* The long-name rows, built at run time. */
struct long_case {
	const char *in;
	enum host_kind kind;
	size_t name_len;
};

static struct long_case long_cases[] = {
	{ name253, HOST_NAME, 253 },
	{ name254, HOST_INVALID, 0 },
	{ name253dot, HOST_NAME, 253 },     /* 254 with the root dot */
	{ name252dot2, HOST_INVALID, 0 },
	{ label63, HOST_NAME, 71 },
	{ label64, HOST_INVALID, 0 },
};

static void
test_normalise_long(void **state)
{
	const struct long_case *c = *state;
	struct host_query q;

	host_normalise(c->in, strlen(c->in), &q);
	assert_int_equal(q.kind, c->kind);
	if (c->kind == HOST_INVALID) {
		assert_non_null(q.reason);
		return;
	}
	assert_int_equal(q.len, c->name_len);
	assert_memory_equal(q.name, c->in, c->name_len);
	assert_int_equal(q.name[c->name_len], '\0');
}

/* A huge input must not overflow the name buffer. */
static void
test_normalise_huge(void **state)
{
	size_t n = 100000;
	char *big = malloc(n);
	struct host_query q;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', n);
	host_normalise(big, n, &q);
	assert_int_equal(q.kind, HOST_INVALID);
	assert_non_null(q.reason);
	big[0] = '[';
	big[n - 1] = ']';
	host_normalise(big, n, &q);
	assert_int_equal(q.kind, HOST_INVALID);
	free(big);
}

/* The same address written three ways is one address. */
static void
test_normalise_mapped_same(void **state)
{
	const char *const forms[] = { "13.107.6.152", "[::ffff:13.107.6.152]",
	    "::ffff:0d6b:0698" };
	struct host_query q0, q;

	(void)state;
	host_normalise(forms[0], strlen(forms[0]), &q0);
	assert_int_equal(q0.kind, HOST_IP);
	for (size_t i = 1; i < 3; i++) {
		host_normalise(forms[i], strlen(forms[i]), &q);
		assert_int_equal(q.kind, HOST_IP);
		assert_true(q.v4);
		assert_true(q.addr.hi == q0.addr.hi && q.addr.lo == q0.addr.lo);
	}
}

/* --- host_pattern_check ------------------------------------------------ */

struct pat_case {
	const char *in;
	size_t len;
	bool ok;
	const char *out;        /* expected lower-case form */
};

static char pat253[254], pat254[255];

static void
build_long_patterns(void)
{
	memcpy(pat253, "*.", 2);
	memcpy(pat253 + 2, name253 + 2, 251);
	pat253[253] = '\0';
	memcpy(pat254, "*.", 2);
	memcpy(pat254 + 2, name254 + 2, 252);
	pat254[254] = '\0';
}

static const struct pat_case pat_cases[] = {
	/* every shape in the real data */
	{ "outlook.office365.com", LEN_STR, true, "outlook.office365.com" },
	{ "*.outlook.com", LEN_STR, true, "*.outlook.com" },
	{ "*cdn.onenote.net", LEN_STR, true, "*cdn.onenote.net" },
	{ "*-files.sharepoint.com", LEN_STR, true, "*-files.sharepoint.com" },
	{ "*-myfiles.sharepoint.com", LEN_STR, true,
	    "*-myfiles.sharepoint.com" },
	{ "autodiscover.*.onmicrosoft.com", LEN_STR, true,
	    "autodiscover.*.onmicrosoft.com" },
	{ "autodiscover.*.mail.onmicrosoft.us", LEN_STR, true,
	    "autodiscover.*.mail.onmicrosoft.us" },
	{ "eus-www.sway-cdn.com", LEN_STR, true, "eus-www.sway-cdn.com" },
	/* case is folded */
	{ "*.Outlook.COM", LEN_STR, true, "*.outlook.com" },
	{ "AutoDiscover.*.OnMicrosoft.com", LEN_STR, true,
	    "autodiscover.*.onmicrosoft.com" },
	/* other globs shExpMatch allows */
	{ "*", LEN_STR, true, "*" },
	{ "a?c.example.com", LEN_STR, true, "a?c.example.com" },
	{ "*.*.example.com", LEN_STR, true, "*.*.example.com" },
	{ "_dmarc.example.com", LEN_STR, true, "_dmarc.example.com" },
	{ "*.outlook.comXYZ", 13, true, "*.outlook.com" },
	/* rejects */
	{ "https://x", LEN_STR, false, NULL },
	{ "http://outlook.com/", LEN_STR, false, NULL },
	{ "a b", LEN_STR, false, NULL },
	{ "x..y", LEN_STR, false, NULL },
	{ ".x", LEN_STR, false, NULL },
	{ "x.", LEN_STR, false, NULL },
	{ "*.x.", LEN_STR, false, NULL },
	{ ".", LEN_STR, false, NULL },
	{ "", LEN_STR, false, NULL },
	{ "x", 0, false, NULL },
	{ "x:443", LEN_STR, false, NULL },
	{ "outlook.com:443", LEN_STR, false, NULL },
	{ "outlook.com/owa", LEN_STR, false, NULL },
	{ "[::1]", LEN_STR, false, NULL },
	{ "a\tb", LEN_STR, false, NULL },
	{ "a\nb", LEN_STR, false, NULL },
	{ "a\0b", 3, false, NULL },
	{ "a%2eb", LEN_STR, false, NULL },
	{ "b\xc3\xbc" "cher.example", LEN_STR, false, NULL },
	{ "*.out look.com", LEN_STR, false, NULL },
	{ "outlook.com,x.com", LEN_STR, false, NULL },
	{ "a[bc].com", LEN_STR, false, NULL },
	{ "a+.com", LEN_STR, false, NULL },
	{ "(a|b).com", LEN_STR, false, NULL },
};

static void
test_pattern(void **state)
{
	const struct pat_case *c = *state;
	size_t len = c->len == LEN_STR ? strlen(c->in) : c->len;
	char out[HOST_NAME_MAX_LEN + 16];
	const char *why = NULL;
	int rc;

	memset(out, 0x5a, sizeof(out));
	rc = host_pattern_check(c->in, len, out, &why);
	if (!c->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		assert_true(why[0] != '\0');
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(out, c->out);
}

struct long_pat {
	const char *in;
	bool ok;
};

static struct long_pat long_pats[] = {
	{ pat253, true },
	{ pat254, false },
};

static void
test_pattern_long(void **state)
{
	const struct long_pat *c = *state;
	char out[300];
	const char *why = NULL;
	int rc = host_pattern_check(c->in, strlen(c->in), out, &why);

	if (!c->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(out, c->in);
}

/* --- the inet_aton reference ------------------------------------------ */

/* One number of an inet_aton form: value v written in base (8, 10, 16,
 * or 0 for a broken octal "08"-like text), upper-case 0X with upper. */
static size_t
put_number(char *out, unsigned long v, int base, bool upper)
{
	switch (base) {
	case 8:
		return (size_t)sprintf(out, "0%lo", v);
	case 16:
		return (size_t)sprintf(out, upper ? "0X%lX" : "0x%lx", v);
	case 0:
		return (size_t)sprintf(out, "0%lu9", v);
	default:
		return (size_t)sprintf(out, "%lu", v);
	}
}

/* Strings of 1 to 5 numbers in every base, with values at the edges of
 * what each part may hold, with and without a trailing dot: wherever
 * inet_aton (the C library, the reference) reads an address,
 * host_normalise must not see a host name, and it must see an IP with
 * the same address exactly when the text is a canonical dotted quad. */
static void
test_inet_aton_table(void **state)
{
	static const unsigned long vals[] = { 0, 1, 7, 8, 10, 255, 256, 65535,
	    65536, 16777215, 16777216, 4294967295ul, 4294967296ul };
	static const int bases[] = { 10, 8, 16, 0 };
	const size_t nv = sizeof(vals) / sizeof(vals[0]), nb = 4;
	unsigned long checked = 0, read_as_addr = 0;

	(void)state;
	for (size_t parts = 1; parts <= 5; parts++) {
		size_t combos = 1;

		for (size_t i = 0; i < parts; i++)
			combos *= parts <= 3 ? nv * nb : 4 * nb;
		for (size_t k = 0; k < combos; k++) {
			char text[160];
			size_t o = 0, x = k;
			bool canonical = true;

			for (size_t i = 0; i < parts; i++) {
				size_t per = parts <= 3 ? nv * nb : 4 * nb;
				size_t pick = x % per;
				unsigned long v = parts <= 3 ? vals[pick / nb] :
				    (unsigned long[]){ 0, 9, 255, 256 }[pick / nb];
				int base = bases[pick % nb];

				x /= per;
				if (i > 0)
					text[o++] = '.';
				o += put_number(text + o, v, base, (k & 1) != 0);
				canonical &= base == 10 && v <= 255;
			}
			canonical &= parts == 4;
			for (int dot = 0; dot < 2; dot++) {
				struct host_query q;
				struct in_addr a;
				int lib;

				text[o] = dot ? '.' : '\0';
				text[o + 1] = '\0';
				lib = inet_aton(text, &a);
				host_normalise(text, o + (size_t)dot, &q);
				checked++;
				read_as_addr += lib != 0;
				if (lib != 0 && q.kind == HOST_NAME)
					fail_msg("inet_aton reads \"%s\" as an "
					    "address, host_normalise as a name",
					    text);
				if (q.kind == HOST_IP && !(canonical && !dot))
					fail_msg("\"%s\" taken for an IP", text);
				if (canonical && !dot) {
					struct ip_addr want;

					assert_int_equal(q.kind, HOST_IP);
					ip_from_v4(ntohl(a.s_addr), &want);
					assert_true(ip_cmp(&q.addr, &want) == 0);
				}
			}
		}
	}
	/* the table must exercise both sides */
	assert_true(read_as_addr > 1000);
	assert_true(checked > 2 * read_as_addr);
}

struct numeric_case {
	const char *label;
	bool glob;
	bool want;
};

static const struct numeric_case numeric_cases[] = {
	{ "1", false, true }, { "0", false, true }, { "08", false, true },
	{ "0x", false, true }, { "0x1f", false, true }, { "0X1F", false, true },
	{ "com", false, false }, { "cafe", false, false },
	{ "x1", false, false }, { "0xg", false, false }, { "1a", false, false },
	{ "", false, false }, { "-1", false, false }, { "1-", false, false },
	/* patterns: could the glob make it a number? */
	{ "*", true, true }, { "?", true, true }, { "1*", true, true },
	{ "*1", true, true }, { "*x1", true, true }, { "0?1f", true, true },
	{ "?x*", true, true }, { "c*", true, false }, { "*m", true, false },
	{ "*com", true, false }, { "x*", true, false }, { "*-1", true, false },
	{ "0x*g", true, false },
	/* without glob, '*' is a character like any other */
	{ "1*", false, false },
};

static void
test_numeric(void **state)
{
	const struct numeric_case *c = *state;

	assert_int_equal(host_label_is_numeric(c->label, c->glob), c->want);
}

struct kind_case {
	const char *pat;
	enum host_pattern_kind kind;
	const char *suffix;     /* SUFFIX only */
};

static const struct kind_case kind_cases[] = {
	{ "outlook.office365.com", HOST_PATTERN_EXACT, NULL },
	{ "*.office365.com", HOST_PATTERN_SUFFIX, ".office365.com" },
	{ "*cdn.onenote.net", HOST_PATTERN_SUFFIX, "cdn.onenote.net" },
	{ "**.x", HOST_PATTERN_SUFFIX, ".x" },
	{ "*-files.sharepoint.com", HOST_PATTERN_SUFFIX, "-files.sharepoint.com" },
	{ "autodiscover.*.onmicrosoft.com", HOST_PATTERN_GLOB, NULL },
	{ "*.a?.x", HOST_PATTERN_GLOB, NULL },
	{ "a?", HOST_PATTERN_GLOB, NULL },
	{ "*", HOST_PATTERN_SUFFIX, "" },
	{ "**", HOST_PATTERN_SUFFIX, "" },
	{ "?", HOST_PATTERN_GLOB, NULL },
	{ "x*", HOST_PATTERN_GLOB, NULL },
};

static void
test_kind(void **state)
{
	const struct kind_case *c = *state;
	const char *suffix = "unset";

	assert_int_equal(host_pattern_kind(c->pat, &suffix), c->kind);
	if (c->kind == HOST_PATTERN_SUFFIX)
		assert_string_equal(suffix, c->suffix);
	else
		assert_string_equal(suffix, "unset");
	assert_int_equal(host_pattern_kind(c->pat, NULL), c->kind);
}

int
main(void)
{
	struct suite s = { 0 };
	char shown[120];

	build_long_names();
	build_long_patterns();
	for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		const struct norm_case *c = &norm_cases[i];

		suite_show(c->in, c->len == LEN_STR ? strlen(c->in) : c->len, shown,
		    sizeof(shown));
		suite_add(&s, test_normalise, (void *)c, "normalise \"%s\" -> %s",
		    shown, c->kind == HOST_NAME ? "name" :
		    c->kind == HOST_IP ? (c->v4 ? "IPv4" : "IPv6") : "invalid");
	}
	for (size_t i = 0; i < sizeof(long_cases) / sizeof(long_cases[0]); i++)
		suite_add(&s, test_normalise_long, &long_cases[i],
		    "normalise %zu-char input (%s) -> %s",
		    strlen(long_cases[i].in), i < 4 ? "name" : "label",
		    long_cases[i].kind == HOST_NAME ? "name" : "invalid");
	suite_add(&s, test_normalise_huge, NULL, "normalise 100000-byte input");
	suite_add(&s, test_lane_bits, NULL,
	    "lane masks to bits, both ways, 100016 masks");
	suite_add(&s, test_normalise_model, NULL,
	    "normalise agrees with a one-character-at-a-time model on 200000 "
	    "random queries of 1..80 bytes");
	suite_add(&s, test_normalise_mapped_same, NULL,
	    "normalise: IPv4 and IPv4-mapped forms give one address");
	for (size_t i = 0; i < sizeof(pat_cases) / sizeof(pat_cases[0]); i++) {
		const struct pat_case *c = &pat_cases[i];

		suite_show(c->in, c->len == LEN_STR ? strlen(c->in) : c->len, shown,
		    sizeof(shown));
		suite_add(&s, test_pattern, (void *)c, "pattern \"%s\" -> %s",
		    shown, c->ok ? "ok" : "rejected");
	}
	for (size_t i = 0; i < 2; i++)
		suite_add(&s, test_pattern_long, &long_pats[i],
		    "pattern of %zu chars -> %s", strlen(long_pats[i].in),
		    long_pats[i].ok ? "ok" : "rejected");
	suite_add(&s, test_inet_aton_table, NULL,
	    "inet_aton's addresses are never names (generated table)");
	for (size_t i = 0; i < sizeof(numeric_cases) / sizeof(numeric_cases[0]);
	    i++)
		suite_add(&s, test_numeric, (void *)&numeric_cases[i],
		    "label \"%s\"%s numeric: %s", numeric_cases[i].label,
		    numeric_cases[i].glob ? " (glob)" : "",
		    numeric_cases[i].want ? "yes" : "no");
	for (size_t i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++)
		suite_add(&s, test_kind, (void *)&kind_cases[i],
		    "pattern kind \"%s\"", kind_cases[i].pat);
	return suite_run(&s, "host");
}
