/* test_prefix.c - prefix_parse, prefix_format and the prefix table.
 *
 * Expected addresses and masks are computed here, without the library, in
 * its one 128-bit space (IPv4 as ::ffff:a.b.c.d, an IPv4 /n is a /(96+n)).
 * The table is cross-checked against a linear scan over random prefixes. */
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

#include "prefix.h"

/* --- 128-bit helpers, independent of the library ---------------------- */

/* The network mask of a /len in the 128-bit space. */
static struct ip_addr
net_mask(unsigned len)
{
	struct ip_addr m;

	m.hi = len == 0 ? 0 : len >= 64 ? UINT64_MAX : UINT64_MAX << (64 - len);
	m.lo = len <= 64 ? 0 : len >= 128 ? UINT64_MAX :
	    UINT64_MAX << (128 - len);
	return m;
}

static bool
my_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	struct ip_addr m = net_mask(p->len);

	return (a->hi & m.hi) == p->addr.hi && (a->lo & m.lo) == p->addr.lo;
}

static struct ip_addr
add1(struct ip_addr a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

static struct ip_addr
sub1(struct ip_addr a)
{
	if (a.lo-- == 0)
		a.hi--;
	return a;
}

static struct ip_addr
last_of(const struct ip_prefix *p)
{
	struct ip_addr m = net_mask(p->len), a;

	a.hi = p->addr.hi | ~m.hi;
	a.lo = p->addr.lo | ~m.lo;
	return a;
}

static bool
addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->hi == b->hi && a->lo == b->lo;
}

/* Parses a prefix from a test table, failing the test when it does not. */
static struct ip_prefix
pfx(const char *text)
{
	struct ip_prefix p;
	const char *why = NULL;

	if (prefix_parse(text, strlen(text), false, &p, &why) != 0)
		fail_msg("test table: prefix_parse(\"%s\"): %s", text,
		    why ? why : "?");
	return p;
}

/* --- ip_parse against inet_pton ------------------------------------ */

/* What inet_pton says about s[0..len): -1 not an address, else 0 with *a
 * (IPv4 mapped) and *v4.  A NUL inside is never an address. */
static int
ref_parse(const char *s, size_t len, struct ip_addr *a, bool *v4)
{
	char buf[256];
	unsigned char b[16] = { 0 };

	if (len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, b + 12) == 1) {
		b[10] = b[11] = 0xff;
		*v4 = true;
	} else if (inet_pton(AF_INET6, buf, b) == 1) {
		*v4 = false;
	} else {
		return -1;
	}
	a->hi = a->lo = 0;
	for (int i = 0; i < 8; i++) {
		a->hi = (a->hi << 8) | b[i];
		a->lo = (a->lo << 8) | b[i + 8];
	}
	if (!*v4)
		*v4 = a->hi == 0 && (a->lo >> 32) == 0xffffu;
	return 0;
}

/* ip_parse and inet_pton agree on s[0..len); a message when not. */
static bool
agree(const char *s, size_t len)
{
	struct ip_addr a = { 1, 1 }, r = { 2, 2 };
	bool v4 = false, rv4 = true;
	int got = ip_parse(s, len, &a, &v4), want = ref_parse(s, len, &r, &rv4);
	char shown[200];

	if (got == want && (got != 0 || (addr_eq(&a, &r) && v4 == rv4)))
		return true;
	suite_show(s, len, shown, sizeof(shown));
	print_error("ip_parse(\"%s\") = %d, inet_pton says %d%s\n", shown, got,
	    want, got == want ? " but the address differs" : "");
	return false;
}

static const char *const ip_texts[] = {
	/* IPv4 */
	"0.0.0.0", "1.2.3.4", "255.255.255.255", "13.107.6.152",
	"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.02.3.4", "1.2.3.04",
	"00.0.0.0", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4 ", " 1.2.3.4",
	"1.2.3.-4", "+1.2.3.4", "0x1.2.3.4", "1.2.3.4a", "1234.1.1.1",
	"1.2.3.256", "4294967296", "16909060", "1", "", ".", "...",
	/* IPv6 */
	"::", "::1", "1::", "1::2", "2603:1006:1400::5", "2603:1006::",
	"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", ":::", "::::",
	":1::", "1:", ":1", "1::2:", "1:::2", "12345::", "0000:0000::",
	"00000::", "ABCD::ef01", "abcd::EF01", "g::", "fe80::1%eth0",
	"::ffff:1.2.3.4", "::FFFF:1.2.3.4", "::1.2.3.4", "1::1.2.3.4",
	"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1:2:3:4:5:6:1.2.3.4",
	"1:2:3:4:5::1.2.3.4", "::ffff:1.2.3", "::ffff:1.2.3.4.5",
	"::ffff:01.2.3.4", "::ffff:256.2.3.4", "::1.2.3.4:1", "1.2.3.4::",
	"::ffff:1.2.3.4 ", "[::1]", "::1/128", "0:0:0:0:0:ffff:d6b:698",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	"1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1::2:3:4:5:6:7",
	"1:2:3:4::5:6:7:8", "::ffff:a.b.c.d", "::.1.2.3", "::1.2.3.4.",
	"1:2:3:4:5:6:7:8 ", "1 ::", "::-1", "::+1", "0x1::",
};

static void
test_ip_parse_table(void **state)
{
	bool ok = true;

	(void)state;
	for (size_t i = 0; i < sizeof(ip_texts) / sizeof(ip_texts[0]); i++)
		ok &= agree(ip_texts[i], strlen(ip_texts[i]));
	/* only len bytes count; a NUL inside is not an address */
	ok &= agree("1.2.3.4", 5);
	ok &= agree("::1", 2);
	ok &= agree("1.2.3.4\0", 8);
	ok &= agree("1.2.3.4\0.5", 10);
	ok &= agree("::1\0", 4);
	ok &= agree("2603:1006::5\0x", 14);
	assert_true(ok);
}

/* The two halves and the mapping helpers. */
static void
test_ip_halves(void **state)
{
	uint32_t v = 0;
	struct ip_addr a = { 0, 0 }, want;

	(void)state;
	assert_int_equal(ip_parse_v4("1.2.3.4", 7, &v), 0);
	assert_int_equal(v, 0x01020304u);
	assert_int_equal(ip_parse_v4("255.255.255.255", 15, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(ip_parse_v4("::1", 3, &v), -1);
	assert_int_equal(ip_parse_v4("1.2.3.4", 0, &v), -1);
	assert_int_equal(ip_parse_v6("1.2.3.4", 7, &a), -1);
	assert_int_equal(ip_parse_v6("", 0, &a), -1);
	assert_int_equal(ip_parse_v6("2603:1006::5", 12, &a), 0);
	want = suite_addr("2603:1006::5");
	assert_true(addr_eq(&a, &want));
	assert_int_equal(ip_parse_v6("::ffff:13.107.6.152", 19, &a), 0);
	want = suite_addr("13.107.6.152");
	assert_true(addr_eq(&a, &want));
	assert_true(ip_is_v4_mapped(&a));
	ip_from_v4(0x0d6b0698u, &a);
	assert_true(addr_eq(&a, &want));
	want = suite_addr("::13.107.6.152");
	assert_false(ip_is_v4_mapped(&want));
	want = suite_addr("::fffe:0:0");
	assert_false(ip_is_v4_mapped(&want));
	want = suite_addr("1::ffff:0:0");
	assert_false(ip_is_v4_mapped(&want));
}

/* A text that is often an address and often nearly one: groups of 0..5
 * hex digits, ':' and '::' in random places, sometimes a dotted tail. */
static size_t
random_ip_text(struct suite_rng *r, char *buf)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	size_t o = 0;
	unsigned kind = suite_rng_below(r, 4);

	if (kind == 0) {                /* IPv4-ish */
		unsigned parts = 2 + suite_rng_below(r, 4);

		for (unsigned p = 0; p < parts; p++) {
			unsigned digits = suite_rng_below(r, 5);

			if (p > 0)
				buf[o++] = '.';
			if (digits == 4)
				o += (size_t)sprintf(buf + o, "%u",
				    suite_rng_below(r, 300));
			else
				for (unsigned d = 0; d < digits; d++)
					buf[o++] = (char)('0' + suite_rng_below(r, 10));
		}
	} else if (kind == 1) {         /* arbitrary characters */
		static const char alpha[] = "0123456789abcdefABCDEFg:.:: %/";
		unsigned n = suite_rng_below(r, 24);

		for (unsigned i = 0; i < n; i++)
			buf[o++] = alpha[suite_rng_below(r, sizeof(alpha) - 1)];
	} else {                        /* IPv6-ish */
		unsigned groups = suite_rng_below(r, 10);
		bool gap = suite_rng_below(r, 3) != 0;
		unsigned at = suite_rng_below(r, groups + 1);

		for (unsigned g = 0; g < groups; g++) {
			unsigned digits = suite_rng_below(r, 7) == 0 ? 5 :
			    1 + suite_rng_below(r, 4);

			if (gap && g == at)
				buf[o++] = ':', buf[o++] = ':';
			else if (g > 0)
				buf[o++] = ':';
			if (kind == 3 && g == groups - 1) {
				o += (size_t)sprintf(buf + o, "%u.%u.%u.%u",
				    suite_rng_below(r, 260), suite_rng_below(r, 256),
				    suite_rng_below(r, 256), suite_rng_below(r, 256));
				break;
			}
			for (unsigned d = 0; d < digits; d++)
				buf[o++] = hex[suite_rng_below(r, sizeof(hex) - 1)];
		}
		if (gap && at == groups)
			buf[o++] = ':', buf[o++] = ':';
	}
	buf[o] = '\0';
	return o;
}

static void
test_ip_parse_random(void **state)
{
	struct suite_rng r = { 42 };
	size_t accepted = 0, n = 300000;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char buf[128];
		size_t len = random_ip_text(&r, buf);
		struct ip_addr a;
		bool v4;

		if (!agree(buf, len))
			fail();
		accepted += ip_parse(buf, len, &a, &v4) == 0;
	}
	/* the generator must hit both sides, or this proves little */
	assert_true(accepted > n / 20);
	assert_true(accepted < n - n / 20);
}

/* Every address printed by inet_ntop parses back to itself. */
static void
test_ip_parse_roundtrip(void **state)
{
	struct suite_rng r = { 43 };

	(void)state;
	for (size_t i = 0; i < 100000; i++) {
		unsigned char b[16];
		char text[INET6_ADDRSTRLEN];
		uint64_t hi = suite_rng_next(&r), lo = suite_rng_next(&r);

		/* runs of zero groups, so that "::" appears */
		if (suite_rng_below(&r, 2))
			hi &= suite_rng_next(&r) & suite_rng_next(&r);
		if (suite_rng_below(&r, 2))
			lo &= suite_rng_next(&r) & suite_rng_next(&r);
		if (suite_rng_below(&r, 4) == 0) {
			hi = 0;
			lo = 0xffff00000000u | (lo & 0xffffffffu);
		}
		for (int k = 0; k < 8; k++) {
			b[k] = (unsigned char)(hi >> (56 - 8 * k));
			b[k + 8] = (unsigned char)(lo >> (56 - 8 * k));
		}
		inet_ntop(AF_INET6, b, text, sizeof(text));
		if (!agree(text, strlen(text)))
			fail();
		inet_ntop(AF_INET, b + 12, text, sizeof(text));
		if (!agree(text, strlen(text)))
			fail();
	}
}

/* --- prefix_parse ------------------------------------------------------ */

#define LEN_STR SIZE_MAX

struct parse_case {
	const char *in;
	size_t len;
	bool bare_ok;
	bool ok;
	const char *addr;       /* expected network address */
	unsigned plen;          /* expected length in the 128-bit space */
	bool v4;
	const char *text;       /* expected prefix_format */
};

static const struct parse_case parse_cases[] = {
	{ "10.0.0.0/8", LEN_STR, false, true, "10.0.0.0", 104, true,
	    "10.0.0.0/8" },
	{ "13.107.6.152/31", LEN_STR, false, true, "13.107.6.152", 127, true,
	    "13.107.6.152/31" },
	{ "131.253.33.215/32", LEN_STR, false, true, "131.253.33.215", 128,
	    true, "131.253.33.215/32" },
	{ "0.0.0.0/0", LEN_STR, false, true, "0.0.0.0", 96, true,
	    "0.0.0.0/0" },
	{ "128.0.0.0/1", LEN_STR, false, true, "128.0.0.0", 97, true,
	    "128.0.0.0/1" },
	{ "255.255.255.255/32", LEN_STR, false, true, "255.255.255.255", 128,
	    true, "255.255.255.255/32" },
	{ "2603:1006::/40", LEN_STR, false, true, "2603:1006::", 40, false,
	    "2603:1006::/40" },
	{ "2603:1006:0000:0000::/40", LEN_STR, false, true, "2603:1006::", 40,
	    false, "2603:1006::/40" },
	{ "2603:1006:0:0:0:0:0:0/40", LEN_STR, false, true, "2603:1006::", 40,
	    false, "2603:1006::/40" },
	{ "2620:1EC:8F0::/46", LEN_STR, false, true, "2620:1ec:8f0::", 46,
	    false, "2620:1ec:8f0::/46" },
	{ "2a01:111:f100:2000::a83e:3019/128", LEN_STR, false, true,
	    "2a01:111:f100:2000::a83e:3019", 128, false,
	    "2a01:111:f100:2000::a83e:3019/128" },
	{ "::/0", LEN_STR, false, true, "::", 0, false, "::/0" },
	{ "::1/128", LEN_STR, false, true, "::1", 128, false, "::1/128" },
	{ "8000::/1", LEN_STR, false, true, "8000::", 1, false, "8000::/1" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", LEN_STR, false, true,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128, false,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" },
	{ "ffff:ffff:ffff:ffff::/64", LEN_STR, false, true,
	    "ffff:ffff:ffff:ffff::", 64, false, "ffff:ffff:ffff:ffff::/64" },
	{ "2603:1006:1400:0:8000::/65", LEN_STR, false, true,
	    "2603:1006:1400:0:8000::", 65, false, "2603:1006:1400:0:8000::/65" },
	/* IPv6 notation: the length counts in 128 bits */
	{ "::ffff:10.0.0.0/104", LEN_STR, false, true, "10.0.0.0", 104, true,
	    "10.0.0.0/8" },
	{ "::ffff:0:0/96", LEN_STR, false, true, "0.0.0.0", 96, true,
	    "0.0.0.0/0" },
	{ "::ffff:10.0.0.0/8", LEN_STR, false, false, NULL, 0, false, NULL },
	/* only len bytes count */
	{ "10.0.0.0/8XYZ", 10, false, true, "10.0.0.0", 104, true,
	    "10.0.0.0/8" },
	/* bare addresses */
	{ "10.1.2.3", LEN_STR, true, true, "10.1.2.3", 128, true,
	    "10.1.2.3/32" },
	{ "2603:1006::5", LEN_STR, true, true, "2603:1006::5", 128, false,
	    "2603:1006::5/128" },
	{ "10.1.2.3", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "2603:1006::5", LEN_STR, false, false, NULL, 0, false, NULL },
	/* host bits set */
	{ "13.107.6.153/31", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.1/8", LEN_STR, true, false, NULL, 0, false, NULL },
	{ "0.0.0.1/0", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "2603:1006::1/40", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "2603:1006:1::/40", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "::1/127", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "::1/0", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "2603:1006:1400::8000:0:0:0/64", LEN_STR, false, false, NULL, 0,
	    false, NULL },
	/* length out of range or malformed */
	{ "10.0.0.0/33", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/128", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "::/129", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "::/4294967424", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "::/18446744073709551744", LEN_STR, false, false, NULL, 0, false,
	    NULL },
	{ "10.0.0.0/", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/", LEN_STR, true, false, NULL, 0, false, NULL },
	{ "10.0.0.0/-8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/+8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/8 ", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0 /8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ " 10.0.0.0/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/8/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/0x8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/8.0", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0/8\0", 11, false, false, NULL, 0, false, NULL },
	{ "10.0.0.0\0/8", 11, false, false, NULL, 0, false, NULL },
	{ "/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "", LEN_STR, true, false, NULL, 0, false, NULL },
	{ "garbage", LEN_STR, true, false, NULL, 0, false, NULL },
	{ "garbage/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "outlook.com/8", LEN_STR, false, false, NULL, 0, false, NULL },
	/* not addresses: short, octal-looking, bracketed, zoned */
	{ "10.0.0/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "10/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "010.0.0.0/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "256.0.0.0/8", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "[2603:1006::]/40", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "fe80::%eth0/64", LEN_STR, false, false, NULL, 0, false, NULL },
	{ "2603:1006:::/40", LEN_STR, false, false, NULL, 0, false, NULL },
};

static void
test_parse(void **state)
{
	const struct parse_case *c = *state;
	size_t len = c->len == LEN_STR ? strlen(c->in) : c->len;
	struct ip_prefix p;
	const char *why = NULL;
	char text[IP_TEXT_MAX];
	struct ip_addr want;
	int rc;

	memset(&p, 0x5a, sizeof(p));
	rc = prefix_parse(c->in, len, c->bare_ok, &p, &why);
	if (!c->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		assert_true(why[0] != '\0');
		return;
	}
	assert_int_equal(rc, 0);
	want = suite_addr(c->addr);
	assert_true(addr_eq(&p.addr, &want));
	assert_int_equal(p.len, c->plen);
	assert_int_equal(p.v4, c->v4);
	prefix_format(&p, text, sizeof(text));
	assert_string_equal(text, c->text);
}

/* A prefix length with leading zeros is decimal, never octal. */
static void
test_parse_leading_zero_len(void **state)
{
	struct ip_prefix p;
	const char *why;

	(void)state;
	if (prefix_parse("10.0.0.0/010", 12, false, &p, &why) == 0)
		assert_int_equal(p.len, 96 + 10);
	if (prefix_parse("2603:1006::/040", 15, false, &p, &why) == 0)
		assert_int_equal(p.len, 40);
	/* /08 is never rejected as "invalid octal" and read as /0 */
	if (prefix_parse("10.0.0.0/08", 11, false, &p, &why) == 0)
		assert_int_equal(p.len, 96 + 8);
}

/* prefix_format of hand-made prefixes, and formatting round trips. */
static void
test_format(void **state)
{
	static const char *const texts[] = { "10.0.0.0/8", "0.0.0.0/0",
	    "2603:1006::/40", "::/0", "::1/128", "2620:1ec:4::152/128",
	    "2603:1063:6000::/35", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    "204.79.197.215/32" };
	struct ip_prefix p = { suite_addr("13.107.128.0"), 96 + 22, true };
	char buf[IP_TEXT_MAX], small[8];

	(void)state;
	prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "13.107.128.0/22");
	p = (struct ip_prefix){ suite_addr("2603:1006::"), 40, false };
	prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "2603:1006::/40");
	/* a truncating buffer still gets a terminated string */
	memset(small, 'x', sizeof(small));
	prefix_format(&p, small, sizeof(small));
	assert_int_equal(small[sizeof(small) - 1], '\0');
	assert_memory_equal(small, "2603:10", 7);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ip_prefix q = pfx(texts[i]), r;
		const char *why;

		prefix_format(&q, buf, sizeof(buf));
		assert_string_equal(buf, texts[i]);
		assert_int_equal(prefix_parse(buf, strlen(buf), false, &r, &why),
		    0);
		assert_true(addr_eq(&q.addr, &r.addr) && q.len == r.len);
	}
}

/* The longest text fits IP_TEXT_MAX. */
static void
test_format_longest(void **state)
{
	const char *t = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127";
	struct ip_prefix p = pfx(t);
	char buf[IP_TEXT_MAX];

	(void)state;
	prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, t);
	p = pfx("255.255.255.255/32");
	prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.255/32");
}

/* prefix_range and prefix_contains at the edges. */
static void
test_range_contains(void **state)
{
	static const char *const texts[] = { "13.107.6.152/31", "0.0.0.0/0",
	    "::/0", "2603:1006::/40", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    "::/128", "8000::/1", "2603:1006:1400::/64", "2603:1006:1400::/65" };

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ip_prefix p = pfx(texts[i]);
		struct ip_addr first, last, want_last = last_of(&p), out;

		prefix_range(&p, &first, &last);
		assert_true(addr_eq(&first, &p.addr));
		assert_true(addr_eq(&last, &want_last));
		assert_true(prefix_contains(&p, &first));
		assert_true(prefix_contains(&p, &last));
		if (!(first.hi == 0 && first.lo == 0)) {
			out = sub1(first);
			assert_false(prefix_contains(&p, &out));
		}
		if (!(last.hi == UINT64_MAX && last.lo == UINT64_MAX)) {
			out = add1(last);
			assert_false(prefix_contains(&p, &out));
		}
	}
}

/* --- the table: hand-made cases --------------------------------------- */

/* Looks addr up and checks the result is exactly want[0..n), in order. */
static void
expect_lookup(const struct prefix_table *t, const char *addr,
    const uint32_t *want, size_t n)
{
	uint32_t out[64];
	struct ip_addr a = suite_addr(addr);
	size_t got = prefix_table_lookup(t, &a, out, 64);

	if (got != n) {
		print_error("lookup %s: %zu prefixes, want %zu\n", addr, got, n);
		fail();
	}
	for (size_t i = 0; i < n; i++)
		if (out[i] != want[i]) {
			print_error("lookup %s: [%zu] = %u, want %u\n", addr, i,
			    out[i], want[i]);
			fail();
		}
}

#define EXPECT(t, addr, ...) do { \
	static const uint32_t w_[] = { __VA_ARGS__ }; \
	expect_lookup((t), (addr), w_, sizeof(w_) / sizeof(w_[0])); \
} while (0)
#define EXPECT_NONE(t, addr) expect_lookup((t), (addr), NULL, 0)

static struct prefix_table *
table_of(const char *const *texts, size_t n, struct ip_prefix *buf)
{
	struct prefix_table *t;

	for (size_t i = 0; i < n; i++)
		buf[i] = pfx(texts[i]);
	t = prefix_table_new(buf, n);
	assert_non_null(t);
	return t;
}

static void
test_table_edges(void **state)
{
	static const char *const in[] = { "13.107.6.152/31", "13.107.128.0/22",
	    "2603:1063::/38", "131.253.33.215/32" };
	struct ip_prefix p[4];
	struct prefix_table *t = table_of(in, 4, p);

	(void)state;
	EXPECT(t, "13.107.6.152", 0);
	EXPECT(t, "13.107.6.153", 0);
	EXPECT_NONE(t, "13.107.6.151");
	EXPECT_NONE(t, "13.107.6.154");
	EXPECT(t, "13.107.128.0", 1);
	EXPECT(t, "13.107.131.255", 1);
	EXPECT_NONE(t, "13.107.127.255");
	EXPECT_NONE(t, "13.107.132.0");
	EXPECT(t, "2603:1063::", 2);
	EXPECT(t, "2603:1063:3ff:ffff:ffff:ffff:ffff:ffff", 2);
	EXPECT_NONE(t, "2603:1062:ffff:ffff:ffff:ffff:ffff:ffff");
	EXPECT_NONE(t, "2603:1063:400::");
	EXPECT(t, "131.253.33.215", 3);
	EXPECT_NONE(t, "131.253.33.214");
	EXPECT_NONE(t, "131.253.33.216");
	EXPECT_NONE(t, "::");
	EXPECT_NONE(t, "0.0.0.0");
	EXPECT_NONE(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* the IPv4 prefix does not hold the same bits outside ::ffff:0:0/96 */
	EXPECT_NONE(t, "::13.107.6.152");
	EXPECT_NONE(t, "64:ff9b::13.107.6.152");
	prefix_table_free(t);
}

static void
test_table_nested(void **state)
{
	/* given out of order on purpose */
	static const char *const in[] = { "10.1.2.0/24", "10.0.0.0/8",
	    "10.1.2.3/32", "10.1.0.0/16", "10.1.2.128/25" };
	struct ip_prefix p[5];
	struct prefix_table *t = table_of(in, 5, p);

	(void)state;
	EXPECT(t, "10.1.2.3", 2, 0, 3, 1);
	EXPECT(t, "10.1.2.2", 0, 3, 1);
	EXPECT(t, "10.1.2.4", 0, 3, 1);
	EXPECT(t, "10.1.2.127", 0, 3, 1);
	EXPECT(t, "10.1.2.128", 4, 0, 3, 1);
	EXPECT(t, "10.1.2.255", 4, 0, 3, 1);
	EXPECT(t, "10.1.3.0", 3, 1);
	EXPECT(t, "10.1.1.255", 3, 1);
	EXPECT(t, "10.1.0.0", 3, 1);
	EXPECT(t, "10.1.255.255", 3, 1);
	EXPECT(t, "10.2.0.0", 1);
	EXPECT(t, "10.0.255.255", 1);
	EXPECT(t, "10.0.0.0", 1);
	EXPECT(t, "10.255.255.255", 1);
	EXPECT_NONE(t, "9.255.255.255");
	EXPECT_NONE(t, "11.0.0.0");
	prefix_table_free(t);
}

/* Nested prefixes sharing their first address, and sharing their last. */
static void
test_table_shared_ends(void **state)
{
	static const char *const in[] = { "2603:1006::/40", "2603:1006::/48",
	    "2603:1006::/128", "2603:1006:ff:ffff::/64",
	    "2603:1006:ff:ffff:ffff:ffff:ffff:ffff/128" };
	struct ip_prefix p[5];
	struct prefix_table *t = table_of(in, 5, p);

	(void)state;
	EXPECT(t, "2603:1006::", 2, 1, 0);
	EXPECT(t, "2603:1006::1", 1, 0);
	EXPECT(t, "2603:1006:0:ffff:ffff:ffff:ffff:ffff", 1, 0);
	EXPECT(t, "2603:1006:1::", 0);
	EXPECT(t, "2603:1006:ff:fffe:ffff:ffff:ffff:ffff", 0);
	EXPECT(t, "2603:1006:ff:ffff::", 3, 0);
	EXPECT(t, "2603:1006:ff:ffff:ffff:ffff:ffff:fffe", 3, 0);
	EXPECT(t, "2603:1006:ff:ffff:ffff:ffff:ffff:ffff", 4, 3, 0);
	EXPECT_NONE(t, "2603:1006:100::");
	EXPECT_NONE(t, "2603:1005:ffff:ffff:ffff:ffff:ffff:ffff");
	prefix_table_free(t);
}

/* The same prefix from several inputs: every input is reported. */
static void
test_table_duplicates(void **state)
{
	static const char *const in[] = { "52.112.0.0/14", "10.0.0.0/8",
	    "52.112.0.0/14", "52.112.0.0/14", "2603:1063::/38", "52.112.0.0/16",
	    "2603:1063::/38", "::ffff:52.112.0.0/110" };
	struct ip_prefix p[8];
	struct prefix_table *t;
	uint32_t out[16];
	struct ip_addr a = suite_addr("52.112.0.1");
	size_t n;

	(void)state;
	for (size_t i = 0; i < 7; i++)
		p[i] = pfx(in[i]);
	/* the last one written by hand: ::ffff:52.112.0.0/110 is 52.112.0.0/14 */
	p[7] = (struct ip_prefix){ suite_addr("52.112.0.0"), 110, false };
	t = prefix_table_new(p, 8);
	assert_non_null(t);
	n = prefix_table_lookup(t, &a, out, 16);
	assert_int_equal(n, 5);
	assert_int_equal(out[0], 5);            /* the /16 is innermost */
	for (size_t i = 1; i < 5; i++) {
		assert_true(out[i] == 0 || out[i] == 2 || out[i] == 3 ||
		    out[i] == 7);
		for (size_t k = 1; k < i; k++)
			assert_true(out[i] != out[k]);
	}
	EXPECT(t, "52.113.0.0", 0, 2, 3, 7);
	EXPECT(t, "2603:1063::1", 4, 6);
	EXPECT(t, "10.0.0.1", 1);
	EXPECT_NONE(t, "52.116.0.0");
	prefix_table_free(t);
}

static void
test_table_whole_space(void **state)
{
	static const char *const in[] = { "::/0", "0.0.0.0/0" };
	struct ip_prefix p[2];
	struct prefix_table *t = table_of(in, 2, p);

	(void)state;
	EXPECT(t, "::", 0);
	EXPECT(t, "::1", 0);
	EXPECT(t, "::fffe:ffff:ffff", 0);
	EXPECT(t, "0.0.0.0", 1, 0);
	EXPECT(t, "1.2.3.4", 1, 0);
	EXPECT(t, "255.255.255.255", 1, 0);
	EXPECT(t, "::1:0:0:0", 0);
	EXPECT(t, "2603:1006::5", 0);
	EXPECT(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0);
	prefix_table_free(t);
}

static void
test_table_v4_whole_only(void **state)
{
	static const char *const in[] = { "0.0.0.0/0" };
	struct ip_prefix p[1];
	struct prefix_table *t = table_of(in, 1, p);

	(void)state;
	EXPECT(t, "0.0.0.0", 0);
	EXPECT(t, "255.255.255.255", 0);
	EXPECT_NONE(t, "::fffe:ffff:ffff");
	EXPECT_NONE(t, "::1:0:0:0");
	EXPECT_NONE(t, "::");
	EXPECT_NONE(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	prefix_table_free(t);
}

/* The last address of the space: no wrap-around to ::. */
static void
test_table_last_address(void **state)
{
	static const char *const in[] = {
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "ffff::/16",
	    "::/128" };
	struct ip_prefix p[3];
	struct prefix_table *t = table_of(in, 3, p);
	struct prefix_table *t1;

	(void)state;
	EXPECT(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, 1);
	EXPECT(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 1);
	EXPECT(t, "ffff::", 1);
	EXPECT_NONE(t, "fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	EXPECT(t, "::", 2);
	EXPECT_NONE(t, "::1");
	prefix_table_free(t);
	t1 = table_of(in, 1, p);
	EXPECT(t1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0);
	EXPECT_NONE(t1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	EXPECT_NONE(t1, "::");
	prefix_table_free(t1);
	t1 = table_of(in + 2, 1, p);
	EXPECT(t1, "::", 0);
	EXPECT_NONE(t1, "::1");
	EXPECT_NONE(t1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	prefix_table_free(t1);
}

static void
test_table_adjacent(void **state)
{
	static const char *const in[] = { "10.0.0.0/24", "10.0.1.0/24",
	    "10.0.0.0/16", "10.0.2.0/23", "2603:1006::/40", "2603:1006:100::/40" };
	struct ip_prefix p[6];
	struct prefix_table *t = table_of(in, 6, p);

	(void)state;
	EXPECT(t, "10.0.0.255", 0, 2);
	EXPECT(t, "10.0.1.0", 1, 2);
	EXPECT(t, "10.0.1.255", 1, 2);
	EXPECT(t, "10.0.2.0", 3, 2);
	EXPECT(t, "10.0.3.255", 3, 2);
	EXPECT(t, "10.0.4.0", 2);
	EXPECT(t, "10.0.255.255", 2);
	EXPECT_NONE(t, "10.1.0.0");
	EXPECT(t, "2603:1006:ff:ffff:ffff:ffff:ffff:ffff", 4);
	EXPECT(t, "2603:1006:100::", 5);
	EXPECT_NONE(t, "2603:1006:200::");
	prefix_table_free(t);
}

/* An IPv4 prefix answers the IPv4-mapped address as parsed by ip_parse. */
static void
test_table_mapped(void **state)
{
	static const char *const in[] = { "13.107.6.152/31", "2603:1006::/40" };
	static const char *const q[] = { "13.107.6.153", "::ffff:13.107.6.153",
	    "::FFFF:d6b:699", "0:0:0:0:0:ffff:13.107.6.152" };
	struct ip_prefix p[2];
	struct prefix_table *t = table_of(in, 2, p);

	(void)state;
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		struct ip_addr a;
		bool v4 = false;
		uint32_t out[4];

		assert_int_equal(ip_parse(q[i], strlen(q[i]), &a, &v4), 0);
		assert_true(v4);
		assert_int_equal(prefix_table_lookup(t, &a, out, 4), 1);
		assert_int_equal(out[0], 0);
	}
	prefix_table_free(t);
}

static void
test_table_empty(void **state)
{
	struct prefix_table *t = prefix_table_new(NULL, 0);
	struct ip_addr a = suite_addr("1.2.3.4"), z = { 0, 0 },
	    m = { UINT64_MAX, UINT64_MAX };
	uint32_t out[1] = { 77 };

	(void)state;
	assert_non_null(t);
	assert_int_equal(prefix_table_lookup(t, &a, out, 1), 0);
	assert_int_equal(prefix_table_lookup(t, &z, out, 1), 0);
	assert_int_equal(prefix_table_lookup(t, &m, out, 1), 0);
	assert_int_equal(out[0], 77);
	prefix_table_free(t);
	prefix_table_free(NULL);
}

/* cap smaller than the count: the count is still the total, out is not
 * written beyond cap. */
static void
test_table_cap(void **state)
{
	static const char *const in[] = { "10.0.0.0/8", "10.0.0.0/16",
	    "10.0.0.0/24", "10.0.0.0/8", "10.0.0.0/32" };
	struct ip_prefix p[5];
	struct prefix_table *t = table_of(in, 5, p);
	struct ip_addr a = suite_addr("10.0.0.0");
	uint32_t out[6];

	(void)state;
	for (size_t cap = 0; cap <= 5; cap++) {
		for (size_t i = 0; i < 6; i++)
			out[i] = 0xdeadbeef;
		assert_int_equal(prefix_table_lookup(t, &a, out, cap), 5);
		for (size_t i = cap; i < 6; i++)
			assert_int_equal(out[i], 0xdeadbeef);
		if (cap >= 1)
			assert_int_equal(out[0], 4);
		if (cap >= 2)
			assert_int_equal(out[1], 2);
	}
	prefix_table_free(t);
}

/* The table keeps no pointer into the input. */
static void
test_table_copies(void **state)
{
	struct ip_prefix *p = malloc(2 * sizeof(*p));
	struct prefix_table *t;

	(void)state;
	assert_non_null(p);
	p[0] = pfx("10.0.0.0/8");
	p[1] = pfx("2603:1006::/40");
	t = prefix_table_new(p, 2);
	assert_non_null(t);
	memset(p, 0xff, 2 * sizeof(*p));
	free(p);
	EXPECT(t, "10.9.9.9", 0);
	EXPECT(t, "2603:1006::9", 1);
	EXPECT_NONE(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	prefix_table_free(t);
}

/* --- the table: brute force ------------------------------------------- */


struct brute {
	uint64_t seed;
	size_t n_prefixes;
	size_t n_queries;
};

static const struct brute brutes[] = {
	{ 1, 1, 2000 },
	{ 2, 2, 2000 },
	{ 3, 7, 5000 },
	{ 4, 40, 20000 },
	{ 5, 300, 20000 },
	{ 6, 3000, 30000 },
	{ 7, 129, 10000 },      /* a chain /0 .. /128 in there */
};

/* A random prefix near one of a few anchors, so that many nest. */
static struct ip_prefix
random_prefix(struct suite_rng *r, const struct ip_addr *anchors, size_t n_anchors)
{
	struct ip_prefix p;
	struct ip_addr a = anchors[suite_rng_below(r, (unsigned)n_anchors)], m;
	unsigned len;

	switch (suite_rng_below(r, 4)) {
	case 0:         /* IPv4 */
		len = 96 + suite_rng_below(r, 33);
		a.hi = 0;
		a.lo = 0xffff00000000u | (a.lo & 0xffffffffu);
		break;
	case 1:         /* anything */
		len = suite_rng_below(r, 129);
		break;
	default:        /* long ones, to nest deep */
		len = 100 + suite_rng_below(r, 29);
		break;
	}
	/* flip a few low bits so that siblings appear */
	a.lo ^= suite_rng_next(r) & 0xffffu;
	m = net_mask(len);
	p.addr.hi = a.hi & m.hi;
	p.addr.lo = a.lo & m.lo;
	p.len = len;
	p.v4 = len >= 96 && a.hi == 0 && (a.lo >> 32) == 0xffffu;
	return p;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}


static void
check_one(const struct prefix_table *t, const struct ip_prefix *p, size_t n,
    const struct ip_addr *a, uint32_t *got, uint32_t *want)
{
	size_t nw = 0, ng = prefix_table_lookup(t, a, got, n + 1);
	struct suite_visit_log vl = { want, 0, n + 1 };

	/* visit reports the same indices in the same order as lookup */
	assert_int_equal(prefix_table_visit(t, a, suite_visit_log, &vl), ng);
	assert_int_equal(vl.n, ng);
	assert_memory_equal(want, got, ng * sizeof(*got));

	for (size_t i = 0; i < n; i++) {
		bool in = my_contains(&p[i], a);

		if (in != prefix_contains(&p[i], a)) {
			print_error("prefix_contains disagrees on prefix %zu\n", i);
			fail();
		}
		if (in)
			want[nw++] = (uint32_t)i;
	}
	if (ng != nw) {
		print_error("address %016llx%016llx: table %zu prefixes, scan %zu\n",
		    (unsigned long long)a->hi, (unsigned long long)a->lo, ng, nw);
		fail();
	}
	/* innermost first: lengths never grow along the answer */
	for (size_t i = 1; i < ng; i++)
		assert_true(p[got[i - 1]].len >= p[got[i]].len);
	qsort(got, ng, sizeof(*got), cmp_u32);
	assert_memory_equal(got, want, nw * sizeof(*want));
}

static void
test_brute(void **state)
{
	const struct brute *b = *state;
	struct suite_rng r = { b->seed };
	struct ip_addr anchors[8];
	struct ip_prefix *p = calloc(b->n_prefixes, sizeof(*p));
	uint32_t *got = calloc(b->n_prefixes + 1, sizeof(*got));
	uint32_t *want = calloc(b->n_prefixes + 1, sizeof(*want));
	struct prefix_table *t;

	assert_non_null(p);
	assert_non_null(got);
	assert_non_null(want);
	for (size_t i = 0; i < 8; i++) {
		anchors[i].hi = suite_rng_next(&r);
		anchors[i].lo = suite_rng_next(&r);
	}
	anchors[0].hi = 0;              /* an anchor in the IPv4 space */
	anchors[0].lo = 0xffff00000000u | (anchors[0].lo & 0xffffffffu);
	anchors[1].hi = anchors[1].lo = UINT64_MAX;     /* the last address */
	anchors[2].hi = anchors[2].lo = 0;              /* the first */
	for (size_t i = 0; i < b->n_prefixes; i++) {
		if (b->seed == 7) {
			/* a full chain of nested prefixes over one address */
			struct ip_addr m = net_mask((unsigned)i);

			p[i].addr.hi = anchors[3].hi & m.hi;
			p[i].addr.lo = anchors[3].lo & m.lo;
			p[i].len = (unsigned)i;
			p[i].v4 = false;
		} else if (i > 0 && suite_rng_below(&r, 5) == 0) {
			p[i] = p[suite_rng_below(&r, (unsigned)i)];   /* duplicate */
		} else {
			p[i] = random_prefix(&r, anchors, 8);
		}
	}
	t = prefix_table_new(p, b->n_prefixes);
	assert_non_null(t);
	/* every edge of every prefix, and just outside */
	for (size_t i = 0; i < b->n_prefixes; i++) {
		struct ip_addr e[4] = { p[i].addr, last_of(&p[i]),
		    sub1(p[i].addr), add1(last_of(&p[i])) };

		for (size_t k = 0; k < 4; k++)
			check_one(t, p, b->n_prefixes, &e[k], got, want);
	}
	/* random addresses, mostly near the anchors */
	for (size_t q = 0; q < b->n_queries; q++) {
		struct ip_addr a = anchors[suite_rng_below(&r, 8)];

		switch (suite_rng_below(&r, 3)) {
		case 0:
			a.hi = suite_rng_next(&r);
			a.lo = suite_rng_next(&r);
			break;
		case 1:
			a.lo ^= suite_rng_next(&r) >> suite_rng_below(&r, 64);
			break;
		default:
			a.lo ^= suite_rng_next(&r) & 0x1ffffu;
			break;
		}
		check_one(t, p, b->n_prefixes, &a, got, want);
	}
	prefix_table_free(t);
	free(p);
	free(got);
	free(want);
}

/* An IPv6 prefix covering ::ffff:0:0/96 is split so that it no longer
 * covers IPv4: every address is covered by the pieces exactly when it is in
 * the original prefix and not IPv4-mapped. */
static void
test_split_v4(void **state)
{
	static const char *const in[] = { "::/0", "::/64", "::/80",
	    "::fffe:0:0/95" };
	struct ip_prefix whole, v4range, out[PREFIX_SPLIT_MAX], p;
	const char *why;
	uint64_t seed = 7;

	(void)state;
	assert_int_equal(prefix_parse("::ffff:0:0/96", 13, false, &v4range,
	    &why), 0);
	/* prefixes that do not cover the IPv4 range are left alone */
	assert_int_equal(prefix_parse("2603:1006::/40", 14, false, &p, &why), 0);
	assert_int_equal(prefix_split_v4(&p, out), 0);
	assert_int_equal(prefix_parse("0.0.0.0/0", 9, false, &p, &why), 0);
	assert_int_equal(prefix_split_v4(&p, out), 0);
	assert_int_equal(prefix_parse("::ffff:0:0/96", 13, false, &p, &why), 0);
	assert_int_equal(prefix_split_v4(&p, out), 0);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		size_t n;

		assert_int_equal(prefix_parse(in[i], strlen(in[i]), false, &whole,
		    &why), 0);
		n = prefix_split_v4(&whole, out);
		assert_int_equal(n, 96 - whole.len);
		for (int k = 0; k < 20000; k++) {
			struct ip_addr a;
			bool covered = false;

			seed = seed * 6364136223846793005u + 1442695040888963407u;
			a.hi = k % 3 == 0 ? 0 : seed;
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			a.lo = k % 2 == 0 ? (0xffff00000000u | (seed >> 32)) : seed;
			if (k % 5 == 0)
				a.lo = seed >> (k % 64);
			for (size_t j = 0; j < n; j++)
				covered |= prefix_contains(&out[j], &a);
			assert_int_equal(covered, prefix_contains(&whole, &a) &&
			    !prefix_contains(&v4range, &a));
		}
	}
}

int
main(void)
{
	struct suite s = { 0 };
	char shown[120];

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	    i++) {
		const struct parse_case *c = &parse_cases[i];

		suite_show(c->in, c->len == LEN_STR ? strlen(c->in) : c->len, shown,
		    sizeof(shown));
		suite_add(&s, test_parse, (void *)c, "prefix_parse \"%s\"%s -> %s",
		    shown, c->bare_ok ? " (bare ok)" : "",
		    c->ok ? c->text : "rejected");
	}
	suite_add(&s, test_ip_parse_table, NULL,
	    "ip_parse agrees with inet_pton: edge cases");
	suite_add(&s, test_ip_parse_random, NULL,
	    "ip_parse agrees with inet_pton: 300000 generated texts");
	suite_add(&s, test_ip_parse_roundtrip, NULL,
	    "ip_parse reads back what inet_ntop writes");
	suite_add(&s, test_ip_halves, NULL,
	    "ip_parse_v4, ip_parse_v6, ip_from_v4, ip_is_v4_mapped");
	suite_add(&s, test_parse_leading_zero_len, NULL,
	    "prefix_parse: a length with leading zeros is decimal");
	suite_add(&s, test_format, NULL, "prefix_format canonical text");
	suite_add(&s, test_format_longest, NULL, "prefix_format longest text");
	suite_add(&s, test_range_contains, NULL,
	    "prefix_range/prefix_contains edges");
	suite_add(&s, test_table_edges, NULL,
	    "table: first, last, just outside");
	suite_add(&s, test_table_nested, NULL,
	    "table: nested prefixes innermost first");
	suite_add(&s, test_table_shared_ends, NULL,
	    "table: nested prefixes sharing first or last address");
	suite_add(&s, test_table_duplicates, NULL,
	    "table: the same prefix from several inputs");
	suite_add(&s, test_table_whole_space, NULL, "table: ::/0 and 0.0.0.0/0");
	suite_add(&s, test_table_v4_whole_only, NULL,
	    "table: 0.0.0.0/0 holds the IPv4 space only");
	suite_add(&s, test_table_last_address, NULL,
	    "table: ffff..ffff/128, the last address");
	suite_add(&s, test_table_adjacent, NULL, "table: adjacent prefixes");
	suite_add(&s, test_table_mapped, NULL,
	    "table: IPv4-mapped address hits an IPv4 prefix");
	suite_add(&s, test_table_empty, NULL, "table: empty");
	suite_add(&s, test_split_v4, NULL,
	    "prefix_split_v4: ::/0 and kin lose the IPv4 range, nothing else");
	suite_add(&s, test_table_cap, NULL, "table: cap smaller than the count");
	suite_add(&s, test_table_copies, NULL,
	    "table: keeps no pointer into the input");
	for (size_t i = 0; i < sizeof(brutes) / sizeof(brutes[0]); i++)
		suite_add(&s, test_brute, (void *)&brutes[i],
		    "table vs linear scan: seed %llu, %zu prefixes, %zu queries",
		    (unsigned long long)brutes[i].seed, brutes[i].n_prefixes,
		    brutes[i].n_queries);
	return suite_run(&s, "prefix");
}
