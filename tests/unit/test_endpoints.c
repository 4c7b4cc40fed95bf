/* test_endpoints.c - loading the web service's endpoint JSON.
 *
 * What the real data does must load (DESIGN.md §2: absent keys, "" ports,
 * spaces in port lists, both orders, ranges, unknown keys and service
 * areas); what is wrong must be rejected with a message naming the set id
 * and the field.  The real files in tests/data/ are loaded and counted
 * (the counts are those of the data's MANIFEST). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"

static struct m365_data *
parse_ok(const char *json)
{
	char err[512] = "";
	struct m365_data *d = endpoints_parse(json, strlen(json), err,
	    sizeof(err));

	if (d == NULL)
		fail_msg("endpoints_parse rejected good input: %s", err);
	return d;
}

static const struct m365_set *
set_by_id(const struct m365_data *d, int id)
{
	for (size_t i = 0; i < d->n_sets; i++)
		if (d->sets[i].id == id)
			return &d->sets[i];
	fail_msg("no set %d", id);
	return NULL;
}

/* --- endpoints_parse_ports -------------------------------------------- */

#define MAXR 5

struct port_case {
	const char *in;
	bool ok;
	size_t n;
	struct m365_port_range r[MAXR];
};

static const struct port_case port_cases[] = {
	{ "", true, 0, { { 0, 0 } } },
	{ " ", true, 0, { { 0, 0 } } },
	{ "80", true, 1, { { 80, 80 } } },
	{ "443", true, 1, { { 443, 443 } } },
	{ "80,443", true, 2, { { 80, 80 }, { 443, 443 } } },
	{ "443,80", true, 2, { { 443, 443 }, { 80, 80 } } },
	{ "143, 587, 993, 995", true, 4,
	    { { 143, 143 }, { 587, 587 }, { 993, 993 }, { 995, 995 } } },
	{ "3478, 3479, 3480, 3481", true, 4,
	    { { 3478, 3478 }, { 3479, 3479 }, { 3480, 3480 }, { 3481, 3481 } } },
	{ " 80 ", true, 1, { { 80, 80 } } },
	{ "3478-3481", true, 1, { { 3478, 3481 } } },
	{ "80,3478-3481,443", true, 3, { { 80, 80 }, { 3478, 3481 },
	    { 443, 443 } } },
	{ "80-80", true, 1, { { 80, 80 } } },
	{ "1-65535", true, 1, { { 1, 65535 } } },
	{ "1", true, 1, { { 1, 1 } } },
	{ "65535", true, 1, { { 65535, 65535 } } },
	{ "0", false, 0, { { 0, 0 } } },
	{ "00", false, 0, { { 0, 0 } } },
	{ "0-5", false, 0, { { 0, 0 } } },
	{ "65536", false, 0, { { 0, 0 } } },
	{ "1-65536", false, 0, { { 0, 0 } } },
	{ "99999999999999999999", false, 0, { { 0, 0 } } },
	{ "18446744073709551696", false, 0, { { 0, 0 } } },
	{ "5-3", false, 0, { { 0, 0 } } },
	{ "3481-3478", false, 0, { { 0, 0 } } },
	{ "80,", false, 0, { { 0, 0 } } },
	{ "80, ", false, 0, { { 0, 0 } } },
	{ ",80", false, 0, { { 0, 0 } } },
	{ ",", false, 0, { { 0, 0 } } },
	{ "80,,443", false, 0, { { 0, 0 } } },
	{ "80 443", false, 0, { { 0, 0 } } },
	{ "80;443", false, 0, { { 0, 0 } } },
	{ "-5", false, 0, { { 0, 0 } } },
	{ "5-", false, 0, { { 0, 0 } } },
	{ "-", false, 0, { { 0, 0 } } },
	{ "1-2-3", false, 0, { { 0, 0 } } },
	{ "abc", false, 0, { { 0, 0 } } },
	{ "+80", false, 0, { { 0, 0 } } },
	{ "0x50", false, 0, { { 0, 0 } } },
	{ "80.0", false, 0, { { 0, 0 } } },
	{ "99x3", false, 0, { { 0, 0 } } },
	{ "143, 587, 99x3, 995", false, 0, { { 0, 0 } } },
	{ "\t80", true, 1, { { 80, 80 } } },
};

static void
test_ports(void **state)
{
	const struct port_case *c = *state;
	struct m365_ports p = { (struct m365_port_range *)1, 99 };
	const char *why = NULL;
	int rc = endpoints_parse_ports(c->in, &p, &why);

	if (!c->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		assert_true(why[0] != '\0');
		assert_int_equal(p.n, 0);
		assert_null(p.ranges);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(p.n, c->n);
	if (c->n == 0)
		assert_null(p.ranges);
	for (size_t i = 0; i < c->n; i++) {
		assert_int_equal(p.ranges[i].lo, c->r[i].lo);
		assert_int_equal(p.ranges[i].hi, c->r[i].hi);
		/* the edges of every range, and just outside */
		assert_true(endpoints_ports_contain(&p, c->r[i].lo));
		assert_true(endpoints_ports_contain(&p, c->r[i].hi));
	}
	/* nothing else is contained */
	for (unsigned port = 0; port <= 65536; port++) {
		bool want = false;

		for (size_t i = 0; i < c->n; i++)
			want |= port >= c->r[i].lo && port <= c->r[i].hi;
		if (endpoints_ports_contain(&p, port) != want)
			fail_msg("port %u: contain says %d", port, !want);
	}
	free(p.ranges);
}

/* The bound on ranges per list: 256 load, 257 do not. */
static void
test_ports_bound(void **state)
{
	char buf[8 * (M365_DATA_MAX_PORT_RANGES + 2)];
	struct m365_ports p;
	const char *why = NULL;
	size_t o = 0;

	(void)state;
	for (unsigned i = 1; i <= M365_DATA_MAX_PORT_RANGES; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u",
		    i > 1 ? "," : "", i);
	assert_int_equal(endpoints_parse_ports(buf, &p, &why), 0);
	assert_int_equal(p.n, M365_DATA_MAX_PORT_RANGES);
	assert_true(endpoints_ports_contain(&p, M365_DATA_MAX_PORT_RANGES));
	free(p.ranges);
	snprintf(buf + o, sizeof(buf) - o, ",%u", M365_DATA_MAX_PORT_RANGES + 1);
	assert_int_equal(endpoints_parse_ports(buf, &p, &why), -1);
	assert_non_null(why);
	assert_null(p.ranges);
}

static void
test_category_names(void **state)
{
	(void)state;
	assert_int_equal(endpoints_category_from_name("Optimize"),
	    M365_CAT_OPTIMIZE);
	assert_int_equal(endpoints_category_from_name("Allow"), M365_CAT_ALLOW);
	assert_int_equal(endpoints_category_from_name("Default"),
	    M365_CAT_DEFAULT);
	assert_int_equal(endpoints_category_from_name("Foo"), -1);
	assert_int_equal(endpoints_category_from_name(""), -1);
	assert_int_equal(endpoints_category_from_name("Optimise"), -1);
	assert_int_equal(endpoints_category_from_name("Optimize "), -1);
	/* the order the verdicts rely on */
	assert_true(M365_CAT_OPTIMIZE > M365_CAT_ALLOW);
	assert_true(M365_CAT_ALLOW > M365_CAT_DEFAULT);
	assert_true(M365_CAT_DEFAULT > M365_CAT_NONE);
}

/* --- what the real data does loads ------------------------------------ */

static void
test_minimal_set(void **state)
{
	struct m365_data *d = parse_ok("[{\"id\": 5, \"category\": \"Allow\"}]");
	const struct m365_set *s = &d->sets[0];

	(void)state;
	assert_int_equal(d->n_sets, 1);
	assert_int_equal(s->id, 5);
	assert_int_equal(s->category, M365_CAT_ALLOW);
	assert_int_equal(s->n_urls, 0);
	assert_int_equal(s->n_ips, 0);
	assert_int_equal(s->tcp.n, 0);
	assert_int_equal(s->udp.n, 0);
	assert_false(s->required);
	assert_false(s->express_route);
	assert_non_null(s->service_area);
	endpoints_free(d);
}

/* Blanks around the array are fine. */
static void
test_blanks(void **state)
{
	struct m365_data *d = parse_ok(" \n\t[{\"id\": 1, "
	    "\"category\": \"Allow\"}]\r\n ");

	(void)state;
	assert_int_equal(d->n_sets, 1);
	endpoints_free(d);
	endpoints_free(NULL);
}

static void
test_tolerated(void **state)
{
	static const char json[] =
	    "[{\"id\": 2, \"serviceArea\": \"Exchange\", "
	    "\"serviceAreaDisplayName\": \"Exchange Online\", "
	    "\"urls\": [\"Outlook.Office365.COM\", \"*.Outlook.com\"], "
	    "\"ips\": [\"13.107.6.152/31\", \"2603:1006:0000::/40\", "
	    "\"2620:1EC:8F0::/46\"], "
	    "\"tcpPorts\": \"143, 587, 993, 995\", \"udpPorts\": \"\", "
	    "\"expressRoute\": true, \"category\": \"Allow\", "
	    "\"required\": false, \"notes\": \"n\", "
	    "\"brandNewField\": {\"x\": [1, 2, {\"y\": null}]}, "
	    "\"anotherOne\": [\"a\", 3.5, false]},\n"
	    " {\"id\": 11, \"serviceArea\": \"Skype\", \"category\": \"Optimize\","
	    " \"required\": true, \"udpPorts\": \"3478-3481\","
	    " \"ips\": [\"52.112.0.0/14\"]},\n"
	    " {\"id\": 46, \"serviceArea\": \"Common\", \"category\": \"Default\","
	    " \"tcpPorts\": \"443,80\", \"urls\": [\"*cdn.onenote.net\","
	    " \"autodiscover.*.onmicrosoft.com\", \"*-files.sharepoint.com\"]},\n"
	    " {\"id\": 200, \"serviceArea\": \"MEM\", \"category\": \"Default\","
	    " \"urls\": [\"x.example\"]},\n"
	    " {\"id\": 201, \"serviceArea\": \"SomethingNew\","
	    " \"category\": \"Allow\"},\n"
	    " {\"category\": \"Allow\", \"id\": 0}]";
	struct m365_data *d = parse_ok(json);
	const struct m365_set *s;

	(void)state;
	assert_int_equal(d->n_sets, 6);
	s = set_by_id(d, 2);
	assert_string_equal(s->service_area, "Exchange");
	assert_int_equal(s->category, M365_CAT_ALLOW);
	assert_true(s->express_route);
	assert_false(s->required);
	assert_int_equal(s->n_urls, 2);
	assert_string_equal(s->urls[0], "outlook.office365.com");
	assert_string_equal(s->urls[1], "*.outlook.com");
	assert_int_equal(s->n_ips, 3);
	assert_string_equal(s->ip_texts[0], "13.107.6.152/31");
	assert_string_equal(s->ip_texts[1], "2603:1006::/40");
	assert_string_equal(s->ip_texts[2], "2620:1ec:8f0::/46");
	assert_true(s->ips[0].v4);
	assert_int_equal(s->ips[0].len, 96 + 31);
	assert_false(s->ips[1].v4);
	assert_int_equal(s->ips[1].len, 40);
	assert_int_equal(s->tcp.n, 4);
	assert_true(endpoints_ports_contain(&s->tcp, 993));
	assert_false(endpoints_ports_contain(&s->tcp, 443));
	assert_int_equal(s->udp.n, 0);
	s = set_by_id(d, 11);
	assert_int_equal(s->category, M365_CAT_OPTIMIZE);
	assert_true(s->required);
	assert_int_equal(s->tcp.n, 0);
	assert_true(endpoints_ports_contain(&s->udp, 3480));
	assert_false(endpoints_ports_contain(&s->udp, 3482));
	s = set_by_id(d, 46);
	assert_int_equal(s->category, M365_CAT_DEFAULT);
	assert_true(endpoints_ports_contain(&s->tcp, 80));
	assert_true(endpoints_ports_contain(&s->tcp, 443));
	assert_int_equal(s->n_urls, 3);
	assert_string_equal(s->urls[0], "*cdn.onenote.net");
	s = set_by_id(d, 200);
	assert_string_equal(s->service_area, "MEM");
	s = set_by_id(d, 201);
	assert_string_equal(s->service_area, "SomethingNew");
	assert_int_equal(s->n_urls + s->n_ips, 0);
	s = set_by_id(d, 0);
	assert_int_equal(s->category, M365_CAT_ALLOW);
	endpoints_free(d);
}

/* Brackets inside strings do not count towards the depth bound; up to
 * M365_DATA_MAX_DEPTH levels load. */
static void
test_depth_ok(void **state)
{
	char buf[512];
	struct m365_data *d;
	size_t o;

	(void)state;
	d = parse_ok("[{\"id\": 1, \"category\": \"Allow\", "
	    "\"notes\": \"[[[[[[[[[[[[{{{{{{{{{{{{ \\\" [[[[[[[[[[[[\"}]");
	endpoints_free(d);
	/* [ { "x": then enough [ to reach exactly the bound */
	o = (size_t)snprintf(buf, sizeof(buf),
	    "[{\"id\": 1, \"category\": \"Allow\", \"x\": ");
	for (int i = 2; i < M365_DATA_MAX_DEPTH; i++)
		buf[o++] = '[';
	for (int i = 2; i < M365_DATA_MAX_DEPTH; i++)
		buf[o++] = ']';
	snprintf(buf + o, sizeof(buf) - o, "}]");
	d = parse_ok(buf);
	endpoints_free(d);
}

/* --- what is wrong is rejected, naming set and field ------------------- */

#define MAXS 4

struct bad_case {
	const char *what;
	const char *json;
	const char *must[MAXS];         /* substrings of the message */
};

#define SET(fields) "[{\"id\": 1, \"category\": \"Allow\"}, " \
	"{\"id\": 57, \"serviceArea\": \"Common\", \"category\": \"Allow\", " \
	fields "}]"

static const struct bad_case bad_cases[] = {
	{ "invalid CIDR", SET("\"ips\": [\"13.107.6.300/31\"]"),
	    { "57", "ips", "13.107.6.300/31" } },
	{ "CIDR host bits set", SET("\"ips\": [\"40.96.0.1/13\"]"),
	    { "57", "ips", "40.96.0.1/13" } },
	{ "IPv6 host bits set", SET("\"ips\": [\"2603:1006:1400::5/40\"]"),
	    { "57", "ips", "2603:1006:1400::5/40" } },
	{ "IPv4 /33", SET("\"ips\": [\"52.112.0.0/33\"]"),
	    { "57", "ips", "52.112.0.0/33" } },
	{ "IPv6 /129", SET("\"ips\": [\"2603:1006::/129\"]"),
	    { "57", "ips", "2603:1006::/129" } },
	{ "CIDR without length", SET("\"ips\": [\"13.107.6.152\"]"),
	    { "57", "ips", "13.107.6.152" } },
	{ "second CIDR bad", SET("\"ips\": [\"13.107.6.152/31\", \"x/8\"]"),
	    { "57", "ips", "x/8" } },
	{ "CIDR not a string", SET("\"ips\": [\"52.108.0.0/14\", 52]"),
	    { "57", "ips" } },
	{ "ips not an array", SET("\"ips\": \"52.108.0.0/14\""),
	    { "57", "ips" } },
	{ "CIDR with NUL", SET("\"ips\": [\"13.107.6.152/31\\u0000/8\"]"),
	    { "57", "ips" } },
	{ "pattern with scheme", SET("\"urls\": [\"https://x\"]"),
	    { "57", "urls", "https://x" } },
	{ "pattern with space", SET("\"urls\": [\"a.b\", \"a b\"]"),
	    { "57", "urls", "a b" } },
	{ "pattern empty label", SET("\"urls\": [\"x..y\"]"),
	    { "57", "urls", "x..y" } },
	{ "pattern leading dot", SET("\"urls\": [\".x\"]"),
	    { "57", "urls", ".x" } },
	{ "pattern trailing dot", SET("\"urls\": [\"x.\"]"),
	    { "57", "urls", "x." } },
	{ "pattern empty", SET("\"urls\": [\"\"]"), { "57", "urls" } },
	{ "pattern with port", SET("\"urls\": [\"x:443\"]"),
	    { "57", "urls", "x:443" } },
	{ "pattern with NUL",
	    SET("\"urls\": [\"outlook.office365.com\\u0000.evil.net\"]"),
	    { "57", "urls" } },
	{ "pattern not a string", SET("\"urls\": [\"a.b\", 7]"),
	    { "57", "urls" } },
	{ "urls not an array", SET("\"urls\": \"aka.ms\""), { "57", "urls" } },
	{ "category Foo", "[{\"id\": 57, \"category\": \"Foo\"}]",
	    { "57", "category", "Foo" } },
	{ "category Optimise", "[{\"id\": 57, \"category\": \"Optimise\"}]",
	    { "57", "category", "Optimise" } },
	{ "category missing", "[{\"id\": 57, \"urls\": [\"a.b\"]}]",
	    { "57", "category" } },
	{ "category not a string", "[{\"id\": 57, \"category\": 3}]",
	    { "57", "category" } },
	{ "tcpPorts 65536", SET("\"tcpPorts\": \"80,65536\""),
	    { "57", "tcpPorts" } },
	{ "tcpPorts 0", SET("\"tcpPorts\": \"0\""), { "57", "tcpPorts" } },
	{ "tcpPorts garbage", SET("\"tcpPorts\": \"143, 587, 99x3, 995\""),
	    { "57", "tcpPorts" } },
	{ "tcpPorts a number", SET("\"tcpPorts\": 443"), { "57", "tcpPorts" } },
	{ "udpPorts reversed range", SET("\"udpPorts\": \"3481-3478\""),
	    { "57", "udpPorts" } },
	{ "udpPorts trailing comma", SET("\"udpPorts\": \"3478,\""),
	    { "57", "udpPorts" } },
	{ "required a string", SET("\"required\": \"no\""),
	    { "57", "required" } },
	{ "expressRoute a number", SET("\"expressRoute\": 1"),
	    { "57", "expressRoute" } },
	{ "serviceArea a number",
	    "[{\"id\": 57, \"serviceArea\": 5, \"category\": \"Allow\"}]",
	    { "57", "serviceArea" } },
	{ "id missing", "[{\"id\": 1, \"category\": \"Allow\"}, "
	    "{\"category\": \"Allow\"}]", { "id", "2" } },
	{ "id a string", "[{\"id\": \"17\", \"category\": \"Allow\"}]",
	    { "id" } },
	{ "id not integer", "[{\"id\": 1, \"category\": \"Allow\"}, "
	    "{\"id\": 2.5, \"category\": \"Allow\"}]", { "id", "2" } },
	{ "id negative", "[{\"id\": -4, \"category\": \"Allow\"}]", { "id" } },
	{ "id too large", "[{\"id\": 1e12, \"category\": \"Allow\"}]",
	    { "id" } },
	{ "id null", "[{\"id\": null, \"category\": \"Allow\"}]", { "id" } },
	{ "id true", "[{\"id\": true, \"category\": \"Allow\"}]", { "id" } },
	{ "set not an object", "[{\"id\": 1, \"category\": \"Allow\"}, "
	    "\"aka.ms\"]", { "2" } },
	{ "set an array", "[[{\"id\": 1, \"category\": \"Allow\"}]]", { "1" } },
	{ "root an object", "{\"id\": 1, \"category\": \"Allow\"}", { "" } },
	{ "root a string", "\"[]\"", { "" } },
	{ "root a number", "42", { "" } },
	{ "an empty array", "[]", { "" } },
	{ "an empty array with blanks", " [ \n ] ", { "" } },
	{ "root null", "null", { "" } },
	{ "invalid JSON: truncated", "[{\"id\": 1, \"category\": \"Allo",
	    { "JSON" } },
	{ "invalid JSON: trailing comma",
	    "[{\"id\": 1, \"category\": \"Allow\"},]", { "JSON" } },
	{ "invalid JSON: single quotes", "[{'id': 1}]", { "JSON" } },
	{ "invalid JSON: Python literal",
	    "[{\"id\": 1, \"category\": \"Allow\", \"required\": True}]",
	    { "JSON" } },
	{ "invalid JSON: empty", "", { "" } },
	{ "invalid JSON: blank", "   \n", { "" } },
	{ "invalid JSON: trailing garbage",
	    "[{\"id\": 1, \"category\": \"Allow\"}] x", { "" } },
	{ "invalid JSON: two arrays", "[{\"id\": 1, \"category\": \"Allow\"}]"
	    "[{\"id\": 2, \"category\": \"Allow\"}]", { "" } },
	{ "nesting deeper than the bound",
	    "[{\"id\": 1, \"category\": \"Allow\", \"x\": "
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]",
	    { "" } },
	{ "nesting of unclosed brackets",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	    { "" } },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	char err[512];
	struct m365_data *d;

	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	strcpy(err, "");
	d = endpoints_parse(c->json, strlen(c->json), err, sizeof(err));
	if (d != NULL) {
		endpoints_free(d);
		fail_msg("accepted: %s", c->json);
	}
	assert_true(err[0] != '\0');
	for (size_t i = 0; i < MAXS && c->must[i] != NULL; i++)
		if (strstr(err, c->must[i]) == NULL)
			fail_msg("message \"%s\" does not mention \"%s\"", err,
			    c->must[i]);
}

/* A raw NUL byte inside a JSON string (control characters must be escaped,
 * RFC 8259 section 7) must not cut the value short: rejected like the
 * \u0000 escape. */
#define RAW(s) { s, sizeof(s) - 1 }

static const struct {
	const char *json;
	size_t len;
} raw_nul_cases[] = {
	RAW("[{\"id\": 9, \"category\": \"Allow\", "
	    "\"urls\": [\"outlook.office365.com\0.evil.net\"]}]"),
	RAW("[{\"id\": 9, \"category\": \"Allow\", "
	    "\"ips\": [\"13.107.6.152/31\0/8\"]}]"),
	RAW("[{\"id\": 9, \"category\": \"Optimize\0Default\"}]"),
	RAW("[{\"id\": 9, \"category\": \"Allow\", "
	    "\"tcpPorts\": \"443\0,25\"}]"),
};

static void
test_raw_nul(void **state)
{
	char err[512] = "";
	size_t i = (size_t)(uintptr_t)*state;
	struct m365_data *d = endpoints_parse(raw_nul_cases[i].json,
	    raw_nul_cases[i].len, err, sizeof(err));

	if (d != NULL) {
		endpoints_free(d);
		fail_msg("a raw NUL inside a string was accepted");
	}
	assert_true(err[0] != '\0');
}

/* Nesting one level beyond the bound is rejected, at the bound loads. */
static void
test_depth_bound(void **state)
{
	char buf[512], err[256];
	struct m365_data *d;
	size_t o;

	(void)state;
	o = (size_t)snprintf(buf, sizeof(buf),
	    "[{\"id\": 1, \"category\": \"Allow\", \"x\": ");
	for (int i = 2; i < M365_DATA_MAX_DEPTH + 1; i++)
		buf[o++] = '[';
	for (int i = 2; i < M365_DATA_MAX_DEPTH + 1; i++)
		buf[o++] = ']';
	snprintf(buf + o, sizeof(buf) - o, "}]");
	d = endpoints_parse(buf, strlen(buf), err, sizeof(err));
	assert_null(d);
	assert_true(err[0] != '\0');
}

/* Only len bytes are read: no reliance on a terminating NUL. */
static void
test_len_honoured(void **state)
{
	const char json[] = "[{\"id\": 1, \"category\": \"Allow\"}]";
	char *buf = malloc(sizeof(json) - 1);
	char err[256];
	struct m365_data *d;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, json, sizeof(json) - 1);        /* no NUL */
	d = endpoints_parse(buf, sizeof(json) - 1, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(d->n_sets, 1);
	endpoints_free(d);
	/* cut short: invalid */
	d = endpoints_parse(buf, sizeof(json) - 3, err, sizeof(err));
	assert_null(d);
	free(buf);
}

/* A tiny err buffer is filled, never overrun. */
static void
test_small_err(void **state)
{
	const char *json = SET("\"ips\": [\"13.107.6.300/31\"]");
	char err[8 + 8];
	struct m365_data *d;

	(void)state;
	memset(err, '@', sizeof(err));
	d = endpoints_parse(json, strlen(json), err, 8);
	assert_null(d);
	assert_true(memchr(err, '\0', 8) != NULL);
	for (size_t i = 8; i < sizeof(err); i++)
		assert_int_equal(err[i], '@');
}

/* --- files ------------------------------------------------------------ */

struct file_case {
	const char *name;
	size_t sets, opt, allow, def;
	size_t urls, urls_unique, v4, v6, ips_unique;
	size_t exchange, skype, sharepoint, common;
	size_t required;
};

static const struct file_case file_cases[] = {
	{ "worldwide-c2025.json", 64, 3, 7, 54, 204, 195, 51, 78, 93,
	    5, 7, 7, 45, 43 },
	{ "worldwide-c2022.json", 107, 3, 12, 92, 354, 303, 90, 204, 131,
	    9, 13, 8, 77, 55 },
	{ "china-c2025.json", 21, 2, 9, 10, 49, 47, 72, 29, 75,
	    4, 2, 2, 13, 20 },
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t
count_unique(const char **v, size_t n)
{
	size_t u = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		u += i == 0 || strcmp(v[i - 1], v[i]) != 0;
	return u;
}

static void
test_file(void **state)
{
	const struct file_case *c = *state;
	struct m365_data *d = suite_load(c->name);
	size_t cat[4] = { 0 }, urls = 0, v4 = 0, v6 = 0, area[4] = { 0 },
	    req = 0, nu = 0, ni = 0;
	const char **uv, **iv;

	assert_int_equal(d->n_sets, c->sets);
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct m365_set *s = &d->sets[i];

		cat[s->category]++;
		urls += s->n_urls;
		for (size_t k = 0; k < s->n_ips; k++)
			s->ips[k].v4 ? v4++ : v6++;
		area[0] += strcmp(s->service_area, "Exchange") == 0;
		area[1] += strcmp(s->service_area, "Skype") == 0;
		area[2] += strcmp(s->service_area, "SharePoint") == 0;
		area[3] += strcmp(s->service_area, "Common") == 0;
		req += s->required;
		/* no Default set carries IPs (MANIFEST) */
		if (s->category == M365_CAT_DEFAULT)
			assert_int_equal(s->n_ips, 0);
	}
	assert_int_equal(cat[M365_CAT_NONE], 0);
	assert_int_equal(cat[M365_CAT_OPTIMIZE], c->opt);
	assert_int_equal(cat[M365_CAT_ALLOW], c->allow);
	assert_int_equal(cat[M365_CAT_DEFAULT], c->def);
	assert_int_equal(urls, c->urls);
	assert_int_equal(v4, c->v4);
	assert_int_equal(v6, c->v6);
	assert_int_equal(area[0], c->exchange);
	assert_int_equal(area[1], c->skype);
	assert_int_equal(area[2], c->sharepoint);
	assert_int_equal(area[3], c->common);
	assert_int_equal(req, c->required);
	uv = calloc(urls + 1, sizeof(*uv));
	iv = calloc(v4 + v6 + 1, sizeof(*iv));
	assert_non_null(uv);
	assert_non_null(iv);
	for (size_t i = 0; i < d->n_sets; i++) {
		for (size_t k = 0; k < d->sets[i].n_urls; k++)
			uv[nu++] = d->sets[i].urls[k];
		for (size_t k = 0; k < d->sets[i].n_ips; k++)
			iv[ni++] = d->sets[i].ip_texts[k];
	}
	assert_int_equal(count_unique(uv, nu), c->urls_unique);
	assert_int_equal(count_unique(iv, ni), c->ips_unique);
	free(uv);
	free(iv);
	endpoints_free(d);
}

/* The parser quirks the MANIFEST lists, in the files themselves. */
static void
test_file_quirks(void **state)
{
	struct m365_data *w = suite_load("worldwide-c2025.json");
	struct m365_data *w22 = suite_load("worldwide-c2022.json");
	struct m365_data *c = suite_load("china-c2025.json");
	const struct m365_set *s;
	bool found = false;

	(void)state;
	s = set_by_id(w, 2);            /* "143, 587, 993, 995" */
	assert_int_equal(s->tcp.n, 4);
	assert_true(endpoints_ports_contain(&s->tcp, 587));
	assert_true(endpoints_ports_contain(&s->tcp, 995));
	assert_false(endpoints_ports_contain(&s->tcp, 443));
	s = set_by_id(w, 47);           /* "443,80" */
	assert_true(endpoints_ports_contain(&s->tcp, 80));
	assert_true(endpoints_ports_contain(&s->tcp, 443));
	s = set_by_id(w, 11);           /* Teams media: UDP only */
	assert_int_equal(s->category, M365_CAT_OPTIMIZE);
	assert_int_equal(s->tcp.n, 0);
	for (unsigned p = 3478; p <= 3481; p++)
		assert_true(endpoints_ports_contain(&s->udp, p));
	s = set_by_id(w, 51);
	assert_string_equal(s->urls[0], "*cdn.onenote.net");
	s = set_by_id(w, 8);
	for (size_t i = 0; i < s->n_urls; i++)
		found |= strcmp(s->urls[i], "autodiscover.*.onmicrosoft.com") == 0;
	assert_true(found);
	s = set_by_id(w22, 39);
	found = false;
	for (size_t i = 0; i < s->n_urls; i++)
		found |= strcmp(s->urls[i], "*-myfiles.sharepoint.com") == 0;
	assert_true(found);
	s = set_by_id(c, 3);            /* "3478, 3479, 3480, 3481" */
	assert_int_equal(s->udp.n, 4);
	assert_true(endpoints_ports_contain(&s->udp, 3481));
	s = set_by_id(c, 26);           /* "udpPorts": "" */
	assert_int_equal(s->udp.n, 0);
	endpoints_free(w);
	endpoints_free(w22);
	endpoints_free(c);
}

static void
test_file_errors(void **state)
{
	char path[1024], err[1024];
	struct m365_data *d;

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-file.json", suite_data_dir());
	d = endpoints_load_file(path, err, sizeof(err));
	assert_null(d);
	assert_non_null(strstr(err, path));
	d = endpoints_load_file(suite_data_dir(), err, sizeof(err));
	assert_null(d);
	assert_non_null(strstr(err, suite_data_dir()));
}

/* Every hostile file in tests/data/bad/ is rejected, naming the file. */
static void
test_bad_file(void **state)
{
	const char *path = *state;
	char err[1024] = "";
	struct m365_data *d = endpoints_load_file(path, err, sizeof(err));

	if (d != NULL) {
		endpoints_free(d);
		fail_msg("%s was accepted", path);
	}
	assert_non_null(strstr(err, path));
}

/* A JSON array of n_sets sets holding n_urls URL patterns and n_ips
 * prefixes in all (spread over the sets), padded with spaces to at least
 * pad bytes.  Returns a malloc'd text; *len its length. */
static char *
gen_json(size_t n_sets, size_t n_urls, size_t n_ips, size_t pad, size_t *len)
{
	size_t cap = 64 + n_sets * 80 + n_urls * 24 + n_ips * 24 + pad, o = 0;
	char *j = malloc(cap);

	assert_non_null(j);
	j[o++] = '[';
	for (size_t i = 0; i < n_sets; i++) {
		o += (size_t)snprintf(j + o, cap - o, "%s{\"id\":%zu,\"category\":"
		    "\"Allow\",\"urls\":[", i ? "," : "", i + 1);
		for (size_t k = i; k < n_urls; k += n_sets)
			o += (size_t)snprintf(j + o, cap - o, "%s\"h%zu.example\"",
			    k == i ? "" : ",", k);
		o += (size_t)snprintf(j + o, cap - o, "],\"ips\":[");
		for (size_t k = i; k < n_ips; k += n_sets)
			o += (size_t)snprintf(j + o, cap - o, "%s\"10.%zu.%zu.0/24\"",
			    k == i ? "" : ",", (k >> 8) & 255, k & 255);
		o += (size_t)snprintf(j + o, cap - o, "]}");
	}
	j[o++] = ']';
	while (o < pad)
		j[o++] = ' ';
	*len = o;
	return j;
}

/* Every bound is explicit: at the bound a file loads, one past it is
 * refused with a message saying which bound. */
static void
test_bounds(void **state)
{
	static const struct {
		size_t sets, urls, ips, pad;
		bool ok;
		const char *msg;
	} cases[] = {
		{ M365_DATA_MAX_SETS, 0, 0, 0, true, NULL },
		{ M365_DATA_MAX_SETS + 1, 0, 0, 0, false, "sets" },
		{ 7, M365_DATA_MAX_URLS, 0, 0, true, NULL },
		{ 7, M365_DATA_MAX_URLS + 1, 0, 0, false, "too many patterns" },
		{ 7, 0, M365_DATA_MAX_IPS, 0, true, NULL },
		{ 7, 0, M365_DATA_MAX_IPS + 1, 0, false, "too many prefixes" },
		{ 1, 1, 1, M365_DATA_MAX_BYTES, true, NULL },
		{ 1, 1, 1, M365_DATA_MAX_BYTES + 1, false, "larger than" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		size_t len;
		char *j = gen_json(cases[i].sets, cases[i].urls, cases[i].ips,
		    cases[i].pad, &len);
		struct m365_data *d = endpoints_parse(j, len, err, sizeof(err));

		free(j);
		if (cases[i].ok) {
			if (d == NULL)
				fail_msg("case %zu refused: %s", i, err);
		} else {
			assert_null(d);
			if (strstr(err, cases[i].msg) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
				    cases[i].msg);
		}
		endpoints_free(d);
	}
}

/* A set whose "notes" hold k zeros, with empty and nested containers
 * and blanks around: 1 + 1 + 6 + 2 + k JSON values (the array, the set,
 * its members, the two elements of "n", the zeros). */
static char *
gen_values(size_t k, size_t *len)
{
	static const char head[] = "[ {\"id\": 1, \"category\": \"Allow\", "
	    "\"e\": [ ], \"o\": {}, \"n\": [[ ] , { }], \"notes\": [";
	size_t cap = sizeof(head) + 4 * k + 8, o = sizeof(head) - 1;
	char *j = malloc(cap);

	assert_non_null(j);
	memcpy(j, head, o);
	for (size_t i = 0; i < k; i++)
		o += (size_t)snprintf(j + o, cap - o, i ? (i % 2 ? " ,0" : ",0") :
		    "0");
	o += (size_t)snprintf(j + o, cap - o, "] } ]");
	*len = o;
	return j;
}

/* The JSON values bound counts exactly what cJSON makes: at the bound the
 * file loads, one value more and it is refused before cJSON sees it. */
static void
test_values_bound(void **state)
{
	for (size_t extra = 0; extra < 2; extra++) {
		char err[256] = "";
		size_t len;
		char *j = gen_values(M365_DATA_MAX_VALUES - 10 + extra, &len);
		struct m365_data *d = endpoints_parse(j, len, err, sizeof(err));

		free(j);
		if (extra == 0 && d == NULL)
			fail_msg("refused at the bound: %s", err);
		if (extra == 1) {
			assert_null(d);
			assert_non_null(strstr(err, "JSON values"));
		}
		endpoints_free(d);
	}
	(void)state;
}

/* At most M365_DATA_MAX_GLOBS patterns with a wildcard after the start,
 * over all sets; patterns with only a leading '*' do not count. */
static void
test_globs_bound(void **state)
{
	for (size_t extra = 0; extra < 2; extra++) {
		size_t n = M365_DATA_MAX_GLOBS + extra, cap = 256 + 48 * n, o;
		char *j = malloc(cap), err[256] = "";
		struct m365_data *d;

		assert_non_null(j);
		o = (size_t)snprintf(j, cap, "[{\"id\": 1, \"category\": "
		    "\"Allow\", \"urls\": [\"*.a.example\", \"*b.example\"]}, "
		    "{\"id\": 2, \"category\": \"Default\", \"urls\": [");
		for (size_t i = 0; i < n; i++)
			o += (size_t)snprintf(j + o, cap - o, "%s\"%s%zu.example\"",
			    i ? ", " : "", i % 2 ? "a*" : "b?", i);
		o += (size_t)snprintf(j + o, cap - o, "]}]");
		d = endpoints_parse(j, o, err, sizeof(err));
		free(j);
		if (extra == 0 && d == NULL)
			fail_msg("refused at the bound: %s", err);
		if (extra == 1) {
			assert_null(d);
			assert_non_null(strstr(err, "set 2: urls"));
			assert_non_null(strstr(err, "wildcard after the start"));
		}
		endpoints_free(d);
	}
	(void)state;
}

int
main(void)
{
	struct suite s = { 0 };
	char dir[1024];
	struct dirent **ents = NULL;
	char *paths[512];
	size_t n_paths = 0;
	int n_ents, rc;

	for (size_t i = 0; i < sizeof(port_cases) / sizeof(port_cases[0]); i++)
		suite_add(&s, test_ports, (void *)&port_cases[i],
		    "ports \"%s\" -> %s", port_cases[i].in,
		    port_cases[i].ok ? "ok" : "rejected");
	suite_add(&s, test_ports_bound, NULL, "ports: at most %u ranges",
	    M365_DATA_MAX_PORT_RANGES);
	suite_add(&s, test_category_names, NULL, "category names and order");
	suite_add(&s, test_minimal_set, NULL, "a set with only id and category");
	suite_add(&s, test_blanks, NULL, "blanks around the array");
	suite_add(&s, test_tolerated, NULL,
	    "absent keys, \"\" ports, spaces, ranges, unknown keys and areas");
	suite_add(&s, test_depth_ok, NULL,
	    "nesting up to the bound, brackets in strings");
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		suite_add(&s, test_bad, (void *)&bad_cases[i], "rejected: %s",
		    bad_cases[i].what);
	for (size_t i = 0; i < sizeof(raw_nul_cases) / sizeof(raw_nul_cases[0]);
	    i++)
		suite_add(&s, test_raw_nul, (void *)(uintptr_t)i,
		    "rejected: raw NUL byte inside a string (%s)",
		    i == 0 ? "urls" : i == 1 ? "ips" : i == 2 ? "category" :
		    "tcpPorts");
	suite_add(&s, test_depth_bound, NULL, "rejected: one level too deep");
	suite_add(&s, test_len_honoured, NULL, "only len bytes are read");
	suite_add(&s, test_small_err, NULL, "a small err buffer is not overrun");
	suite_add(&s, test_bounds, NULL,
	    "bounds: sets, patterns, prefixes, bytes (at and past each)");
	suite_add(&s, test_values_bound, NULL,
	    "bounds: JSON values, counted as cJSON makes them");
	suite_add(&s, test_globs_bound, NULL,
	    "bounds: patterns with a wildcard after the start");
	for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++)
		suite_add(&s, test_file, (void *)&file_cases[i],
		    "%s: %zu sets, counts as in the MANIFEST", file_cases[i].name,
		    file_cases[i].sets);
	suite_add(&s, test_file_quirks, NULL, "the real files' quirks");
	suite_add(&s, test_file_errors, NULL,
	    "missing file and directory name the path");
	/* the hostile inputs: every .json file in bad/ */
	snprintf(dir, sizeof(dir), "%s/bad", suite_data_dir());
	n_ents = scandir(dir, &ents, NULL, alphasort);
	for (int i = 0; i < n_ents; i++) {
		size_t l = strlen(ents[i]->d_name);

		if (l > 5 && strcmp(ents[i]->d_name + l - 5, ".json") == 0 &&
		    n_paths < sizeof(paths) / sizeof(paths[0])) {
			char *p = malloc(strlen(dir) + l + 2);

			if (p == NULL)
				abort();
			sprintf(p, "%s/%s", dir, ents[i]->d_name);
			paths[n_paths++] = p;
			suite_add(&s, test_bad_file, p, "bad/%s rejected",
			    ents[i]->d_name);
		}
		free(ents[i]);
	}
	free(ents);
	rc = suite_run(&s, "endpoints");
	for (size_t i = 0; i < n_paths; i++)
		free(paths[i]);
	return rc;
}
