/* test_proto.c - Squid's external ACL line protocol from the helper's side
 * (DESIGN.md §4): field roles, request lines (channel ID, %XX escapes, "-"
 * for absent values, SNI over host), and the exact answer lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "matcher.h"
#include "proto.h"

/* --- proto_parse_fields ------------------------------------------------ */

#define H PROTO_HOST
#define P PROTO_PORT
#define S PROTO_SNI
#define K PROTO_SKIP

struct fields_case {
	const char *spec;
	bool ok;
	size_t n;
	enum proto_role role[PROTO_MAX_FIELDS];
};

static const struct fields_case fields_cases[] = {
	{ "host,port", true, 2, { H, P } },
	{ "host", true, 1, { H } },
	{ "sni", false, 0, { S } },     /* the SNI alone never decides */
	{ "sni,host,port", true, 3, { S, H, P } },
	{ "host,port,sni", true, 3, { H, P, S } },
	{ "skip,host,skip,port", true, 4, { K, H, K, P } },
	{ "port,sni", false, 0, { P, S } },
	{ "sni,sni,port", false, 0, { S } },
	{ "sni,host", true, 2, { S, H } },
	{ "host,port,skip,skip,skip,skip,skip,skip", true, 8,
	    { H, P, K, K, K, K, K, K } },
	{ "host,port,skip,skip,skip,skip,skip,skip,skip", false, 0, { H } },
	{ "", false, 0, { H } },
	{ "port", false, 0, { H } },
	{ "skip", false, 0, { H } },
	{ "port,skip", false, 0, { H } },
	{ "host,bogus", false, 0, { H } },
	{ "hostname", false, 0, { H } },
	{ "hos", false, 0, { H } },
	{ "host,,port", false, 0, { H } },
	{ ",host", false, 0, { H } },
	{ "host port", false, 0, { H } },
	{ "%DST", false, 0, { H } },
};

static void
test_fields(void **state)
{
	const struct fields_case *c = *state;
	struct proto_fields f;
	const char *why = NULL;
	int rc;

	memset(&f, 0x5a, sizeof(f));
	rc = proto_parse_fields(c->spec, &f, &why);
	if (!c->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		assert_true(why[0] != '\0');
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(f.n, c->n);
	for (size_t i = 0; i < c->n; i++)
		assert_int_equal(f.role[i], c->role[i]);
}

/* --- proto_parse_line -------------------------------------------------- */

#define LEN_STR SIZE_MAX
#define NO_ID NULL

struct line_case {
	const char *fields;
	bool concurrency;
	const char *line;
	size_t len;
	bool ok;
	const char *id;         /* expected echo, or NULL */
	const char *host;       /* expected decoded host (ok only) */
	size_t host_len;        /* 0: strlen(host) */
	int port;
	const char *sni;        /* expected decoded SNI, NULL: none */
};

static const struct line_case line_cases[] = {
	/* the default fields */
	{ "host,port", false, "outlook.office365.com 443", LEN_STR, true,
	    NO_ID, "outlook.office365.com", 0, 443, NULL },
	{ "host,port", false, "outlook.office365.com 443 -", LEN_STR, true,
	    NO_ID, "outlook.office365.com", 0, 443, NULL },
	{ "host,port", false, "a.example.test 8080 - extra %zz fields", LEN_STR,
	    true, NO_ID, "a.example.test", 0, 8080, NULL },
	{ "host,port", false, "outlook.office365.com", LEN_STR, true, NO_ID,
	    "outlook.office365.com", 0, -1, NULL },
	{ "host,port", false, "outlook.office365.com -", LEN_STR, true, NO_ID,
	    "outlook.office365.com", 0, -1, NULL },
	{ "host,port", false, "outlook.office365.com 0", LEN_STR, true, NO_ID,
	    "outlook.office365.com", 0, -1, NULL },
	{ "host,port", false, "outlook.office365.com 1", LEN_STR, true, NO_ID,
	    "outlook.office365.com", 0, 1, NULL },
	{ "host,port", false, "outlook.office365.com 65535", LEN_STR, true,
	    NO_ID, "outlook.office365.com", 0, 65535, NULL },
	{ "host,port", false, "outlook.office365.com 65536", LEN_STR, false,
	    NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "outlook.office365.com 443x", LEN_STR, false,
	    NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "outlook.office365.com -443", LEN_STR, false,
	    NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "outlook.office365.com %34%34%33", LEN_STR, true,
	    NO_ID, "outlook.office365.com", 0, 443, NULL },
	/* only len bytes count */
	{ "host,port", false, "outlook.office365.com 443 trailing", 25, true,
	    NO_ID, "outlook.office365.com", 0, 443, NULL },
	{ "host,port", false, "outlook.office365.com 443", 24, true, NO_ID,
	    "outlook.office365.com", 0, 44, NULL },
	/* extra blanks between fields */
	{ "host,port", false, "outlook.office365.com   443", LEN_STR, true,
	    NO_ID, "outlook.office365.com", 0, 443, NULL },
	/* escapes */
	{ "host,port", false, "%5B2603:1006:1400::5%5D 443", LEN_STR, true,
	    NO_ID, "[2603:1006:1400::5]", 0, 443, NULL },
	{ "host,port", false, "%5b2603:1006:1400::5%5d 443", LEN_STR, true,
	    NO_ID, "[2603:1006:1400::5]", 0, 443, NULL },
	{ "host,port", false, "a%2Eexample%2etest", LEN_STR, true, NO_ID,
	    "a.example.test", 0, -1, NULL },
	{ "host,port", false, "a%20b 443", LEN_STR, true, NO_ID, "a b", 0,
	    443, NULL },
	{ "host,port", false, "13.107.6.152%00.evil.test 443", LEN_STR, true,
	    NO_ID, "13.107.6.152\0.evil.test", 23, 443, NULL },
	{ "host,port", false, "% 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "%4 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "%zz 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "%4g 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "a% 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "a%4 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "%%41 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "example.test %", LEN_STR, false, NO_ID, NULL, 0,
	    0, NULL },
	{ "host,port", false, "example.test 44%", LEN_STR, false, NO_ID, NULL,
	    0, 0, NULL },
	/* absent host */
	{ "host,port", false, "- 443", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "-", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", false, "   ", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	/* the SNI is kept apart from the host; "-" is no SNI */
	{ "sni,host,port", false, "login.microsoftonline.com 13.107.6.152 443",
	    LEN_STR, true, NO_ID, "13.107.6.152", 0, 443,
	    "login.microsoftonline.com" },
	{ "sni,host,port", false, "- 13.107.6.152 443", LEN_STR, true, NO_ID,
	    "13.107.6.152", 0, 443, NULL },
	{ "host,port,sni", false, "13.107.6.152 443 outlook.office365.com",
	    LEN_STR, true, NO_ID, "13.107.6.152", 0, 443,
	    "outlook.office365.com" },
	{ "host,port,sni", false, "13.107.6.152 443 -", LEN_STR, true, NO_ID,
	    "13.107.6.152", 0, 443, NULL },
	{ "host,port,sni", false, "13.107.6.152 443", LEN_STR, true, NO_ID,
	    "13.107.6.152", 0, 443, NULL },
	{ "host,port,sni", false, "- 443 outlook.office365.com", LEN_STR, false,
	    NO_ID, NULL, 0, 0, NULL },
	{ "host,port,sni", false, "- 443 -", LEN_STR, false, NO_ID, NULL, 0,
	    0, NULL },
	{ "sni,host", false, "outlook.office365.com a.example", LEN_STR, true,
	    NO_ID, "a.example", 0, -1, "outlook.office365.com" },
	{ "sni,host,port", false, "%5B2603:1006::1%5D %5B2603:1006::1%5D 443",
	    LEN_STR, true, NO_ID, "[2603:1006::1]", 0, 443, "[2603:1006::1]" },
	{ "sni,host,port", false, "a%0D.example b.example 443", LEN_STR, true,
	    NO_ID, "b.example", 0, 443, "a\r.example" },
	{ "sni,host,port", false, "%zz b.example 443", LEN_STR, false, NO_ID,
	    NULL, 0, 0, NULL },
	{ "sni,host,port", false, "a.example %zz 443", LEN_STR, false, NO_ID,
	    NULL, 0, 0, NULL },
	/* skipped fields are not decoded */
	{ "skip,host,port", false, "%zz outlook.office365.com 443", LEN_STR,
	    true, NO_ID, "outlook.office365.com", 0, 443, NULL },
	{ "host,skip,port", false, "a.example - 443", LEN_STR, true, NO_ID,
	    "a.example", 0, 443, NULL },
	/* the channel ID */
	{ "host,port", true, "1 outlook.office365.com 443", LEN_STR, true, "1",
	    "outlook.office365.com", 0, 443, NULL },
	{ "host,port", true, "0 a.example 443", LEN_STR, true, "0",
	    "a.example", 0, 443, NULL },
	{ "host,port", true, "18446744073709551615 a.example 443", LEN_STR,
	    true, "18446744073709551615", "a.example", 0, 443, NULL },
	{ "host,port", true, "184467440737095516150 a.example 443", LEN_STR,
	    false, NO_ID, NULL, 0, 0, NULL },
	{ "host,port", true, "x1 a.example 443", LEN_STR, false, NO_ID, NULL, 0,
	    0, NULL },
	{ "host,port", true, "-1 a.example 443", LEN_STR, false, NO_ID, NULL,
	    0, 0, NULL },
	{ "host,port", true, "1x a.example 443", LEN_STR, false, NO_ID, NULL,
	    0, 0, NULL },
	{ "host,port", true, "", LEN_STR, false, NO_ID, NULL, 0, 0, NULL },
	/* a valid ID is kept even when the rest is wrong */
	{ "host,port", true, "7", LEN_STR, false, "7", NULL, 0, 0, NULL },
	{ "host,port", true, "7 -", LEN_STR, false, "7", NULL, 0, 0, NULL },
	{ "host,port", true, "8 %zz 443", LEN_STR, false, "8", NULL, 0, 0, NULL },
	{ "host,port", true, "9 a.example 99999", LEN_STR, false, "9", NULL, 0,
	    0, NULL },
	{ "host,port", true, "10 %5B::1%5D 443 -", LEN_STR, true, "10",
	    "[::1]", 0, 443, NULL },
	/* without concurrency a number is the host */
	{ "host,port", false, "1 443", LEN_STR, true, NO_ID, "1", 0, 443, NULL },
};

static void
test_line(void **state)
{
	const struct line_case *c = *state;
	size_t len = c->len == LEN_STR ? strlen(c->line) : c->len;
	struct proto_fields f;
	struct proto_request req;
	const char *why = NULL;
	int rc;

	assert_int_equal(proto_parse_fields(c->fields, &f, &why), 0);
	memset(&req, 0x5a, sizeof(req));
	why = NULL;
	rc = proto_parse_line(&f, c->concurrency, c->line, len, &req, &why);
	if (c->id == NULL) {
		assert_true(req.id == NULL || req.id_len == 0);
	} else {
		assert_non_null(req.id);
		assert_int_equal(req.id_len, strlen(c->id));
		assert_memory_equal(req.id, c->id, req.id_len);
		/* borrowed from the line, not copied */
		assert_true(req.id >= c->line && req.id < c->line + len);
	}
	if (!c->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		assert_true(why[0] != '\0');
		return;
	}
	assert_int_equal(rc, 0);
	{
		size_t hl = c->host_len ? c->host_len : strlen(c->host);

		assert_int_equal(req.host_len, hl);
		assert_memory_equal(req.host, c->host, hl);
	}
	assert_int_equal(req.port, c->port);
	assert_int_equal(req.has_sni, c->sni != NULL);
	if (c->sni != NULL) {
		assert_int_equal(req.sni_len, strlen(c->sni));
		assert_memory_equal(req.sni, c->sni, req.sni_len);
	}
}

/* Values up to PROTO_MAX_VALUE - 1 bytes decode; longer ones are an error,
 * never an overflow. */
static void
test_long_value(void **state)
{
	size_t n = PROTO_MAX_VALUE + 8;
	char *line = malloc(3 * n + 16);
	struct proto_fields f;
	struct proto_request req;
	const char *why;

	(void)state;
	assert_non_null(line);
	assert_int_equal(proto_parse_fields("host,port", &f, &why), 0);
	memset(line, 'a', PROTO_MAX_VALUE - 1);
	memcpy(line + PROTO_MAX_VALUE - 1, " 443", 4);
	assert_int_equal(proto_parse_line(&f, false, line, PROTO_MAX_VALUE + 3,
	    &req, &why), 0);
	assert_int_equal(req.host_len, PROTO_MAX_VALUE - 1);
	memset(line, 'a', PROTO_MAX_VALUE);
	memcpy(line + PROTO_MAX_VALUE, " 443", 4);
	assert_int_equal(proto_parse_line(&f, false, line, PROTO_MAX_VALUE + 4,
	    &req, &why), -1);
	/* the same for the SNI */
	assert_int_equal(proto_parse_fields("sni,host", &f, &why), 0);
	memset(line, 'b', n);
	memcpy(line + n, " a.example", 10);
	assert_int_equal(proto_parse_line(&f, false, line, n + 10, &req, &why),
	    -1);
	/* escaped: three bytes of text per byte of value */
	assert_int_equal(proto_parse_fields("host,port", &f, &why), 0);
	for (size_t i = 0; i < n; i++)
		memcpy(line + 3 * i, "%41", 3);
	assert_int_equal(proto_parse_line(&f, false, line, 3 * n, &req, &why),
	    -1);
	free(line);
}

/* The tokens of line[0..len) as the protocol has them (runs of spaces
 * between), the slow obvious way: the model proto_parse_line's 16-bytes-
 * at-a-time token scan must agree with.  Returns how many, up to max. */
static size_t
model_tokens(const char *line, size_t len, const char **tok, size_t *tlen,
    size_t max)
{
	size_t n = 0, i = 0;

	while (n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		tok[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		tlen[n] = (size_t)(line + i - tok[n]);
		n++;
	}
	return n;
}

/* Random lines "ID host port" with runs of spaces, tokens of 0..40
 * bytes on both sides of the scan's 16-byte chunks, '%' escapes good and
 * bad, cut at random: proto_parse_line finds the host and port the model
 * tokens give, and fails exactly when the model says it must. */
static void
test_line_model(void **state)
{
	static const char alphabet[] = "abc.-0123456789%%%  4aF";
	struct suite_rng rng = { 0x746f6b6eU };
	struct proto_fields f;
	const char *why;
	char line[160];

	(void)state;
	assert_int_equal(proto_parse_fields("host,port", &f, &why), 0);
	for (unsigned n = 0; n < 200000; n++) {
		size_t len = 0, nt, tlen[3], cut;
		const char *tok[3];
		struct proto_request req;
		int rc;

		for (int t = 0; t < 3; t++) {
			size_t k = suite_rng_below(&rng, t == 1 ? 41 : 8);

			for (size_t sp = 1 + suite_rng_below(&rng, 3); sp > 0 &&
			    t > 0; sp--)
				line[len++] = ' ';
			for (size_t i = 0; i < k; i++)
				line[len++] = t == 0 ? (char)('0' +
				    suite_rng_below(&rng, 10)) : alphabet[
				    suite_rng_below(&rng, sizeof(alphabet) - 1)];
		}
		cut = suite_rng_below(&rng, 8) == 0 ?
		    suite_rng_below(&rng, (unsigned)len + 1) : len;
		nt = model_tokens(line, cut, tok, tlen, 3);
		rc = proto_parse_line(&f, true, line, cut, &req, &why);
		if (nt < 2 || tlen[0] > PROTO_MAX_ID ||
		    strspn(tok[0], "0123456789") < tlen[0]) {
			if (rc != -1)
				fail_msg("line %u: parsed with %zu tokens", n, nt);
			continue;
		}
		/* the host as the model decodes it */
		{
			char want[64];
			size_t w = 0;
			bool bad = false;

			for (size_t i = 0; i < tlen[1]; i++) {
				if (tok[1][i] != '%') {
					want[w++] = tok[1][i];
					continue;
				}
				if (i + 2 >= tlen[1] ||
				    !isxdigit((unsigned char)tok[1][i + 1]) ||
				    !isxdigit((unsigned char)tok[1][i + 2])) {
					bad = true;
					break;
				}
				want[w++] = (char)strtol((char[]){ tok[1][i + 1],
				    tok[1][i + 2], '\0' }, NULL, 16);
				i += 2;
			}
			if (bad) {
				if (rc != -1 || strcmp(why, "invalid %-escape") != 0)
					fail_msg("line %u \"%.*s\": a bad escape parsed (%d, %s)",
					    n, (int)cut, line, rc, rc ? why : "");
				continue;
			}
			if (w == 1 && want[0] == '-') {
				if (rc != -1)
					fail_msg("line %u: \"-\" taken as a host", n);
				continue;
			}
			if (rc == -1 && nt == 3)
				continue;       /* the port, checked below */
			if (rc != 0)
				fail_msg("line %u: %s", n, why);
			assert_memory_equal(req.id, tok[0], tlen[0]);
			assert_int_equal(req.id_len, tlen[0]);
			assert_int_equal(req.host_len, w);
			assert_memory_equal(req.host, want, w);
		}
	}
}

struct id_case {
	const char *line;
	size_t want;
};

static const struct id_case id_cases[] = {
	{ "123 rest of a long line", 3 },
	{ "123", 3 },
	{ "18446744073709551615 x", 20 },
	{ "184467440737095516150 x", 0 },
	{ "184467440737095516150", 0 },
	{ "abc def", 0 },
	{ "12a x", 0 },
	{ " 123 x", 0 },
	{ "", 0 },
	{ "-", 0 },
};

static void
test_line_id(void **state)
{
	const struct id_case *c = *state;

	assert_int_equal(proto_line_id(c->line, strlen(c->line)), c->want);
}

/* proto_line_id_wide, the memo's word-at-a-time reading of the ID,
 * against proto_line_id on the rows above and on random lines (digits,
 * spaces, bytes just outside '0'..'9', bytes with the high bit set) of
 * 0..30 bytes, followed by random slack it must not take for the line. */
static void
test_line_id_wide(void **state)
{
	static const char alphabet[] = "0123456789 /:a\x80\xb0\xb9-";
	struct suite_rng rng = { 0x6c696e65U };
	char buf[64 + PROTO_ID_SLACK];

	(void)state;
	for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
		size_t len = strlen(id_cases[i].line);

		memset(buf, '7', sizeof(buf));
		memcpy(buf, id_cases[i].line, len);
		assert_int_equal(proto_line_id_wide(buf, len), id_cases[i].want);
	}
	for (unsigned n = 0; n < 200000; n++) {
		size_t len = suite_rng_below(&rng, 31);
		bool digits = suite_rng_below(&rng, 2) == 0;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = digits && i < len && suite_rng_below(&rng, 8) != 0 ?
			    (char)('0' + suite_rng_below(&rng, 10)) :
			    alphabet[suite_rng_below(&rng, sizeof(alphabet) - 1)];
		if (proto_line_id_wide(buf, len) != proto_line_id(buf, len)) {
			char shown[200];

			suite_show(buf, len, shown, sizeof(shown));
			fail_msg("\"%s\": wide %zu, bytewise %zu", shown,
			    proto_line_id_wide(buf, len), proto_line_id(buf, len));
		}
	}
}

/* --- answers ----------------------------------------------------------- */

static struct m365_match
set_match(int id, enum m365_category cat, enum m365_exclusion ex)
{
	struct m365_match m = { M365_FROM_SET, id, cat, "x", ex };

	return m;
}

static struct m365_match
policy_match(enum m365_source_kind kind)
{
	struct m365_match m = { kind, 0, M365_CAT_NONE, "y", M365_APPLIES };

	return m;
}

struct answer_case {
	const char *what;
	const char *id;
	struct m365_verdict v;
	const char *want;
};

#define V(cat, direct, extra, never, custom, reason) \
	{ cat, direct, extra, never, custom, false, reason, 0, 0, { { 0 } } }

static struct answer_case answer_cases[] = {
	{ "optimize, direct", NULL,
	    V(M365_CAT_OPTIMIZE, true, false, false, false, NULL),
	    "OK m365=direct m365_category=optimize m365_sets=1,71\n" },
	{ "optimize, direct, with ID", "42",
	    V(M365_CAT_OPTIMIZE, true, false, false, false, NULL),
	    "42 OK m365=direct m365_category=optimize m365_sets=1,71\n" },
	{ "allow, direct, 64-bit ID", "18446744073709551615",
	    V(M365_CAT_ALLOW, true, false, false, false, NULL),
	    "18446744073709551615 OK m365=direct m365_category=allow "
	    "m365_sets=1,71\n" },
	{ "default, proxy", NULL,
	    V(M365_CAT_DEFAULT, false, false, false, false, NULL),
	    "ERR m365=proxy m365_category=default m365_sets=1,71\n" },
	{ "none, proxy", "3",
	    V(M365_CAT_NONE, false, false, false, false, NULL),
	    "3 ERR m365=proxy m365_category=none\n" },
	{ "never_direct", "5",
	    V(M365_CAT_OPTIMIZE, false, false, true, false, NULL),
	    "5 ERR m365=proxy m365_category=optimize m365_sets=1,71 "
	    "m365_rule=never_direct\n" },
	{ "extra_direct alone: custom", NULL,
	    V(M365_CAT_NONE, true, true, false, true, NULL),
	    "OK m365=direct m365_category=custom m365_rule=extra_direct\n" },
	{ "extra_direct on an optimize host", NULL,
	    V(M365_CAT_OPTIMIZE, true, true, false, false, NULL),
	    "OK m365=direct m365_category=optimize m365_sets=1,71 "
	    "m365_rule=extra_direct\n" },
	{ "both lists: never wins", NULL,
	    V(M365_CAT_NONE, false, true, true, false, NULL),
	    "ERR m365=proxy m365_category=none m365_rule=never_direct\n" },
	{ "invalid query", "9",
	    V(M365_CAT_NONE, false, false, false, false, "empty label"),
	    "9 ERR m365=proxy m365_category=none message=\"empty label\"\n" },
};

/* The matches every answer case carries, chosen per case. */
static void
fill_matches(struct answer_case *c)
{
	struct m365_verdict *v = &c->v;

	v->n_matches = 0;
	if (v->category != M365_CAT_NONE) {
		/* 2 excluded by port, 1 twice, 71 once: "1,71" */
		v->matches[v->n_matches++] = set_match(1, v->category,
		    M365_APPLIES);
		v->matches[v->n_matches++] = set_match(2, M365_CAT_ALLOW,
		    M365_EXCLUDED_PORT);
		v->matches[v->n_matches++] = set_match(1, v->category,
		    M365_APPLIES);
		v->matches[v->n_matches++] = set_match(71, M365_CAT_DEFAULT,
		    M365_APPLIES);
		v->matches[v->n_matches++] = set_match(8, M365_CAT_DEFAULT,
		    M365_EXCLUDED_SERVICE_AREA);
		v->matches[v->n_matches++] = set_match(9, M365_CAT_DEFAULT,
		    M365_EXCLUDED_NOT_REQUIRED);
	} else if (v->reason == NULL && (v->direct || v->never_direct)) {
		/* an excluded set match prints nothing */
		v->matches[v->n_matches++] = set_match(4, M365_CAT_ALLOW,
		    M365_EXCLUDED_PORT);
	}
	if (v->extra_direct)
		v->matches[v->n_matches++] = policy_match(M365_FROM_EXTRA);
	if (v->never_direct)
		v->matches[v->n_matches++] = policy_match(M365_FROM_NEVER);
	v->n_total = v->n_matches;
}

/* The answer for a connection with destination v and no SNI. */
static size_t
format_alone(char *out, const char *id, size_t id_len,
    const struct m365_verdict *v)
{
	static struct m365_identity c;

	c.dst = *v;
	c.has_sni = false;
	matcher_identity_combine(&c);
	return proto_format_answer(out, id, id_len, &c);
}

static void
test_answer(void **state)
{
	struct answer_case *c = *state;
	char out[PROTO_MAX_ANSWER + 64];
	size_t n;

	fill_matches(c);
	memset(out, '@', sizeof(out));
	n = format_alone(out, c->id, c->id ? strlen(c->id) : 0, &c->v);
	if (n != strlen(c->want) || memcmp(out, c->want, n) != 0) {
		char a[512], b[512];

		suite_show(out, n < sizeof(out) ? n : 0, a, sizeof(a));
		suite_show(c->want, strlen(c->want), b, sizeof(b));
		fail_msg("got  \"%s\"\nwant \"%s\"", a, b);
	}
	for (size_t i = PROTO_MAX_ANSWER; i < sizeof(out); i++)
		assert_int_equal(out[i], '@');
}

/* The longest answer fits PROTO_MAX_ANSWER. */
static void
test_answer_longest(void **state)
{
	struct m365_verdict v;
	char out[PROTO_MAX_ANSWER + 64];
	const char *id = "18446744073709551615";
	size_t n;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.category = M365_CAT_DEFAULT;
	v.never_direct = true;
	v.extra_direct = true;
	v.reason = "host name longer than 253 characters";
	for (size_t i = 0; i < M365_VERDICT_MATCHES; i++)
		v.matches[i] = set_match(2147483647 - (int)i, M365_CAT_DEFAULT,
		    M365_APPLIES);
	v.n_matches = M365_VERDICT_MATCHES;
	v.n_total = 1000;
	memset(out, '@', sizeof(out));
	n = format_alone(out, id, strlen(id), &v);
	assert_true(n <= PROTO_MAX_ANSWER);
	assert_int_equal(out[n - 1], '\n');
	assert_null(memchr(out, '\n', n - 1));
	for (size_t i = PROTO_MAX_ANSWER; i < sizeof(out); i++)
		assert_int_equal(out[i], '@');
	{
		static const char head[] = "18446744073709551615 ERR m365=proxy "
		    "m365_category=default m365_sets=2147483647,2147483646,";
		static const char tail[] = ",2147483616 m365_rule=never_direct "
		    "message=\"host name longer than 253 characters\"\n";

		assert_memory_equal(out, head, sizeof(head) - 1);
		assert_true(n > sizeof(tail) - 1);
		assert_memory_equal(out + n - (sizeof(tail) - 1), tail,
		    sizeof(tail) - 1);
	}
}

struct error_case {
	const char *id;
	const char *why;
	const char *want;
};

static const struct error_case error_cases[] = {
	{ NULL, "missing host", "ERR message=\"missing host\"\n" },
	{ "1", "invalid %-escape", "1 ERR message=\"invalid %-escape\"\n" },
	{ "18446744073709551615", "line too long",
	    "18446744073709551615 ERR message=\"line too long\"\n" },
	{ NULL, "", "ERR message=\"\"\n" },
};

static void
test_error(void **state)
{
	const struct error_case *c = *state;
	char out[PROTO_MAX_ANSWER];
	size_t n = proto_format_error(out, c->id, c->id ? strlen(c->id) : 0,
	    c->why);

	assert_int_equal(n, strlen(c->want));
	assert_memory_equal(out, c->want, n);
}

/* From a request line to the answer, through the real data: the
 * destination alone, and with an SNI by the identity rule. */
static void
test_end_to_end(void **state)
{
	static const struct {
		const char *line;       /* fields sni,host,port */
		const char *head;       /* the answer up to the set list */
		const char *sets;       /* the set ids, sorted, or NULL */
		const char *reason;     /* m365_reason, or NULL: none */
	} cases[] = {
		{ "1 - outlook.office365.com 443 -",
		    "1 OK m365=direct m365_category=optimize", "1,71", NULL },
		{ "2 - outlook.office365.com 25 -",
		    "2 ERR m365=proxy m365_category=none", NULL, NULL },
		{ "3 - outlook.office365.com 993 -",
		    "3 OK m365=direct m365_category=allow", "2", NULL },
		{ "4 - %5B2603:1006::5%5D 443 -",
		    "4 OK m365=direct m365_category=optimize", "1", NULL },
		{ "5 - www.microsoft.com - -",
		    "5 ERR m365=proxy m365_category=default", "50,78,125", NULL },
		{ "6 - 13.107.6.152%00.evil.test 443 -",
		    "6 ERR m365=proxy m365_category=none", NULL, NULL },
		{ "7 - evil-outlook.com 443 -",
		    "7 ERR m365=proxy m365_category=none", NULL, NULL },
		/* the SNI narrows, never widens */
		{ "8 outlook.office365.com evil.example.com 443 -",
		    "8 ERR m365=proxy m365_category=none", NULL, "sni-mismatch" },
		{ "9 outlook.office365.com 203.0.113.5 443 -",
		    "9 ERR m365=proxy m365_category=none", NULL, "sni-mismatch" },
		{ "10 evil.example.com outlook.office365.com 443 -",
		    "10 ERR m365=proxy m365_category=none", NULL, "sni-mismatch" },
		{ "11 evil.example.com 13.107.6.152 443 -",
		    "11 ERR m365=proxy m365_category=none", NULL, "sni-mismatch" },
		{ "12 outlook.office365.com outlook.office365.com 443 -",
		    "12 OK m365=direct m365_category=optimize", "1,71", NULL },
		{ "13 OUTLOOK.office365.com. outlook.office365.com 443 -",
		    "13 OK m365=direct m365_category=optimize", "1,71", NULL },
		/* both direct: the weaker category speaks (13.107.6.152 is
		 * Optimize in set 1 on 443, Allow in set 2 on 993;
		 * *.officeapps.live.com Allow in set 46) */
		{ "14 outlook.office365.com 13.107.6.152 993 -",
		    "14 OK m365=direct m365_category=allow", "2", NULL },
		{ "19 foo.officeapps.live.com 13.107.6.152 443 -",
		    "19 OK m365=direct m365_category=allow", "46", NULL },
		{ "20 13.107.6.152 foo.officeapps.live.com 443 -",
		    "20 OK m365=direct m365_category=allow", "46", NULL },
		{ "15 outlook.office365.com %5B2603:1006::5%5D 443 -",
		    "15 OK m365=direct m365_category=optimize", "1", NULL },
		{ "16 www.microsoft.com outlook.office365.com 443 -",
		    "16 ERR m365=proxy m365_category=default", "50,78,125",
		    "sni-mismatch" },
		{ "17 www.example.com www.example.com 443 -",
		    "17 ERR m365=proxy m365_category=none", NULL, NULL },
		{ "18 10.1 outlook.office365.com 443 -",
		    "18 ERR m365=proxy m365_category=none", NULL, "sni-mismatch" },
	};
	char path[1024], err[512];
	struct m365_config cfg;
	struct m365_data *d;
	struct m365_rules *r;
	struct proto_fields f;
	const char *why;

	(void)state;
	snprintf(path, sizeof(path), "%s/worldwide-c2025.json",
	    suite_data_dir());
	d = endpoints_load_file(path, err, sizeof(err));
	if (d == NULL)
		fail_msg("%s", err);
	assert_int_equal(config_init(&cfg), 0);
	r = matcher_compile(d, &cfg.policy, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(proto_parse_fields("sni,host,port", &f, &why), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_request req;
		static struct m365_identity v;
		char out[PROTO_MAX_ANSWER + 1], want[256], sets[128] = "";
		const char *p;
		size_t n, hl = strlen(cases[i].head);
		int ids[32], k = 0;

		assert_int_equal(proto_parse_line(&f, true, cases[i].line,
		    strlen(cases[i].line), &req, &why), 0);
		matcher_lookup_identity(r, req.host, req.host_len,
		    req.has_sni ? req.sni : NULL, req.sni_len, req.port, &v);
		n = proto_format_answer(out, req.id, req.id_len, &v);
		out[n] = '\0';
		if (cases[i].reason == NULL) {
			assert_null(strstr(out, "m365_reason="));
		} else {
			snprintf(want, sizeof(want), " m365_reason=%s",
			    cases[i].reason);
			if (strstr(out, want) == NULL)
				fail_msg("\"%s\" lacks \"%s\"", out, want);
		}
		if (strncmp(out, cases[i].head, hl) != 0)
			fail_msg("\"%s\" does not start \"%s\"", out,
			    cases[i].head);
		/* the set list in any order, each id once */
		p = strstr(out, " m365_sets=");
		if (cases[i].sets == NULL) {
			assert_null(p);
		} else {
			assert_true(p == out + hl);
			for (p += 11; *p >= '0' && *p <= '9'; ) {
				ids[k++] = (int)strtol(p, (char **)&p, 10);
				if (*p == ',')
					p++;
			}
			for (int a = 0; a < k; a++)         /* sort */
				for (int b = a + 1; b < k; b++)
					if (ids[b] < ids[a]) {
						int t = ids[a];

						ids[a] = ids[b];
						ids[b] = t;
					}
			for (int a = 0; a < k; a++)
				snprintf(sets + strlen(sets), sizeof(sets) -
				    strlen(sets), "%s%d", a ? "," : "", ids[a]);
			assert_string_equal(sets, cases[i].sets);
		}
		snprintf(want, sizeof(want), "%s", out + strlen(out) - 1);
		assert_string_equal(want, "\n");
	}
	matcher_free(r);
	config_free(&cfg);
}

int
main(void)
{
	struct suite s = { 0 };
	char shown[160];

	for (size_t i = 0; i < sizeof(fields_cases) / sizeof(fields_cases[0]);
	    i++)
		suite_add(&s, test_fields, (void *)&fields_cases[i],
		    "fields \"%s\" -> %s", fields_cases[i].spec,
		    fields_cases[i].ok ? "ok" : "rejected");
	for (size_t i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]);
	    i++) {
		const struct line_case *c = &line_cases[i];

		suite_show(c->line, c->len == LEN_STR ? strlen(c->line) : c->len, shown,
		    sizeof(shown));
		suite_add(&s, test_line, (void *)c, "line%s [%s] \"%s\" -> %s",
		    c->concurrency ? " with ID" : "", c->fields, shown,
		    c->ok ? "ok" : "error");
	}
	suite_add(&s, test_long_value, NULL, "values up to %d bytes",
	    PROTO_MAX_VALUE - 1);
	for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++)
		suite_add(&s, test_line_id, (void *)&id_cases[i],
		    "proto_line_id \"%s\" -> %zu", id_cases[i].line,
		    id_cases[i].want);
	suite_add(&s, test_line_model, NULL, "proto_line_parse agrees with "
	    "a bytewise tokenizer on 200000 random lines");
	suite_add(&s, test_line_id_wide, NULL, "proto_line_id_wide agrees "
	    "with proto_line_id on 200000 random lines and their slack");
	for (size_t i = 0; i < sizeof(answer_cases) / sizeof(answer_cases[0]);
	    i++)
		suite_add(&s, test_answer, &answer_cases[i], "answer: %s",
		    answer_cases[i].what);
	suite_add(&s, test_answer_longest, NULL,
	    "the longest answer fits PROTO_MAX_ANSWER");
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	    i++)
		suite_add(&s, test_error, (void *)&error_cases[i],
		    "error answer \"%s\"", error_cases[i].why);
	suite_add(&s, test_end_to_end, NULL,
	    "request line to answer through the real data");
	return suite_run(&s, "proto");
}
