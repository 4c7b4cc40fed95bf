/* test_matcher.c - the compiled rule set and its verdicts (DESIGN.md §3):
 * highest category over the matching sets, the TCP-port filter, the
 * policy filters, never_direct always wins, extra_direct makes direct.
 *
 * Expected verdicts were worked out by hand from tests/data/
 * worldwide-c2025.json (set ids given in each row). */
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

#include "config.h"
#include "endpoints.h"
#include "matcher.h"

/* --- rule sets --------------------------------------------------------- */

/* The policies the tests use; lists point at static strings (matcher_compile
 * copies what it keeps). */
enum policy_id {
	POL_DEFAULT,
	POL_EXCHANGE_ONLY,
	POL_REQUIRED_ONLY,
	POL_OPTIMIZE_ONLY,
	POL_WITH_DEFAULT,
	POL_NO_PORTS,
	POL_NEVER,
	POL_EXTRA,
	POL_COUNT
};

static char *never_list[] = { "outlook.office365.com", "*.sharepoint.com",
	"13.107.6.152/31", "52.112.0.0/16", "2603:1006::5",
	"both.contoso.example", "10.9.9.9" };
static char *extra_list[] = { "*.contoso.example", "192.0.2.0/24",
	"198.51.100.7", "outlook.office365.com", "both.contoso.example",
	"2001:db8::/32", "10.9.9.0/24" };
static char *exchange_list[] = { "Exchange" };

static struct m365_policy
policy(enum policy_id id)
{
	struct m365_policy p;

	memset(&p, 0, sizeof(p));
	p.direct_mask = (1u << M365_CAT_OPTIMIZE) | (1u << M365_CAT_ALLOW);
	p.match_ports = true;
	switch (id) {
	case POL_EXCHANGE_ONLY:
		p.service_areas.v = exchange_list;
		p.service_areas.n = 1;
		break;
	case POL_REQUIRED_ONLY:
		p.required_only = true;
		break;
	case POL_OPTIMIZE_ONLY:
		p.direct_mask = 1u << M365_CAT_OPTIMIZE;
		break;
	case POL_WITH_DEFAULT:
		p.direct_mask |= 1u << M365_CAT_DEFAULT;
		break;
	case POL_NO_PORTS:
		p.match_ports = false;
		break;
	case POL_NEVER:
		p.never_direct.v = never_list;
		p.never_direct.n = sizeof(never_list) / sizeof(never_list[0]);
		break;
	case POL_EXTRA:
		p.extra_direct.v = extra_list;
		p.extra_direct.n = sizeof(extra_list) / sizeof(extra_list[0]);
		break;
	default:
		break;
	}
	return p;
}

static const char *const policy_names[] = { "default policy",
	"service_areas=Exchange", "required_only", "direct=optimize",
	"direct=optimize,allow,default", "match_ports=no", "never_direct",
	"extra_direct" };

static struct m365_rules *
compile_data(struct m365_data *d, enum policy_id id)
{
	struct m365_policy p = policy(id);
	char err[512] = "";
	struct m365_rules *r = matcher_compile(d, &p, err, sizeof(err));

	if (r == NULL) {
		endpoints_free(d);
		fail_msg("matcher_compile: %s", err);
	}
	return r;
}

static struct m365_rules *
compile_file(const char *name, enum policy_id id)
{
	char path[1024], err[1024] = "";
	struct m365_data *d;

	snprintf(path, sizeof(path), "%s/%s", suite_data_dir(), name);
	d = endpoints_load_file(path, err, sizeof(err));
	if (d == NULL)
		fail_msg("%s", err);
	return compile_data(d, id);
}

static struct m365_rules *
compile_json(const char *json, enum policy_id id)
{
	char err[512] = "";
	struct m365_data *d = endpoints_parse(json, strlen(json), err,
	    sizeof(err));

	if (d == NULL)
		fail_msg("endpoints_parse: %s", err);
	return compile_data(d, id);
}

static void
lookup(const struct m365_rules *r, const char *q, int port,
    struct m365_verdict *v)
{
	memset(v, 0x5a, sizeof(*v));
	matcher_lookup(r, q, strlen(q), port, v);
}

/* Whether the verdict holds a match from set id that applies. */
static bool
has_set(const struct m365_verdict *v, int id, enum m365_exclusion ex)
{
	for (size_t i = 0; i < v->n_matches; i++)
		if (v->matches[i].kind == M365_FROM_SET &&
		    v->matches[i].set_id == id && v->matches[i].excluded == ex)
			return true;
	return false;
}

static void
dump(const struct m365_verdict *v)
{
	print_error("verdict: %s direct=%d extra=%d never=%d custom=%d "
	    "reason=%s, %zu matches:\n", matcher_category_name(v->category),
	    v->direct, v->extra_direct, v->never_direct, v->custom,
	    v->reason ? v->reason : "-", v->n_total);
	for (size_t i = 0; i < v->n_matches; i++)
		print_error("  kind %d set %d %s \"%s\" %s\n", v->matches[i].kind,
		    v->matches[i].set_id,
		    matcher_category_name(v->matches[i].category),
		    v->matches[i].what, matcher_exclusion_name(v->matches[i].excluded));
}

/* --- the table over the real data ------------------------------------- */

#define MAXSETS 6
#define X_PORT 1000             /* + id: the set matches, excluded by port */
#define X_AREA 2000             /* ... by service area */
#define X_REQ 3000              /* ... as not required */

struct row {
	enum policy_id pol;
	const char *q;
	int port;
	enum m365_category cat;
	bool direct;
	int sets[MAXSETS];      /* set ids that must be in the verdict */
	bool never, extra, custom;
};

#define O M365_CAT_OPTIMIZE
#define A M365_CAT_ALLOW
#define D M365_CAT_DEFAULT
#define N M365_CAT_NONE

static const struct row rows[] = {
	/* highest category wins: set 1 Optimize, 2 Allow, 71 Default */
	{ POL_DEFAULT, "outlook.office365.com", 443, O, true,
	    { 1, 71, X_PORT + 2 }, false, false, false },
	{ POL_DEFAULT, "outlook.office365.com", 80, O, true,
	    { 1, 71, X_PORT + 2 }, false, false, false },
	{ POL_DEFAULT, "outlook.office365.com", -1, O, true, { 1, 2, 71 },
	    false, false, false },
	{ POL_DEFAULT, "outlook.office365.com", 993, A, true,
	    { 2, X_PORT + 1, X_PORT + 71 }, false, false, false },
	{ POL_DEFAULT, "outlook.office365.com", 587, A, true, { 2 }, false,
	    false, false },
	{ POL_DEFAULT, "outlook.office365.com", 25, N, false,
	    { X_PORT + 1, X_PORT + 2, X_PORT + 71 }, false, false, false },
	{ POL_DEFAULT, "outlook.office365.com", 8443, N, false, { X_PORT + 1 },
	    false, false, false },
	/* normalised before the lookup */
	{ POL_DEFAULT, "OUTLOOK.Office365.COM.", 443, O, true, { 1 }, false,
	    false, false },
	/* Optimize/Allow names under Default wildcards */
	{ POL_DEFAULT, "outlook.office.com", 443, O, true, { 1, 147 }, false,
	    false, false },
	{ POL_DEFAULT, "outlook.cloud.microsoft", 443, O, true, { 1, 184 },
	    false, false, false },
	{ POL_DEFAULT, "teams.microsoft.com", 443, A, true, { 12, 50, 78 },
	    false, false, false },
	{ POL_DEFAULT, "login.microsoftonline.com", 443, A, true, { 56, 59 },
	    false, false, false },
	{ POL_DEFAULT, "smtp.office365.com", 587, A, true,
	    { 2, X_PORT + 71 }, false, false, false },
	{ POL_DEFAULT, "smtp.office365.com", 443, D, false,
	    { 71, X_PORT + 2 }, false, false, false },
	{ POL_DEFAULT, "smtp.office365.com", -1, A, true, { 2, 71 }, false,
	    false, false },
	{ POL_DEFAULT, "x.mail.protection.outlook.com", 25, A, true,
	    { 10, X_PORT + 9, X_PORT + 8 }, false, false, false },
	{ POL_DEFAULT, "x.mail.protection.outlook.com", 443, A, true,
	    { 9, 8, X_PORT + 10 }, false, false, false },
	{ POL_DEFAULT, "x.mail.protection.outlook.com", 80, D, false,
	    { 8, X_PORT + 9, X_PORT + 10 }, false, false, false },
	/* pattern shapes */
	{ POL_DEFAULT, "contoso.sharepoint.com", 443, O, true, { 31 }, false,
	    false, false },
	{ POL_DEFAULT, "a.b.contoso.sharepoint.com", 443, O, true, { 31 },
	    false, false, false },
	{ POL_DEFAULT, "sharepoint.com", 443, N, false, { 0 }, false, false,
	    false },
	{ POL_DEFAULT, "cdn.onenote.net", 443, D, false, { 51 }, false, false,
	    false },
	{ POL_DEFAULT, "xcdn.onenote.net", 443, D, false, { 51 }, false,
	    false, false },
	{ POL_DEFAULT, "cdn.onenote.net.evil.test", 443, N, false, { 0 },
	    false, false, false },
	{ POL_DEFAULT, "autodiscover.contoso.onmicrosoft.com", 443, D, false,
	    { 8, 78 }, false, false, false },
	{ POL_DEFAULT, "www.microsoft.com", 443, D, false, { 50, 78, 125 },
	    false, false, false },
	{ POL_DEFAULT, "microsoft.com", -1, N, false, { 0 }, false, false,
	    false },
	{ POL_DEFAULT, "outlook.com", -1, N, false, { 0 }, false, false,
	    false },
	{ POL_DEFAULT, "outlook.com.evil.net", -1, N, false, { 0 }, false,
	    false, false },
	{ POL_DEFAULT, "evil-outlook.com", -1, N, false, { 0 }, false, false,
	    false },
	{ POL_DEFAULT, "xoutlook.office365.com.evil", -1, N, false, { 0 },
	    false, false, false },
	{ POL_DEFAULT, "example.com", 443, N, false, { 0 }, false, false,
	    false },
	/* addresses: set 1 Optimize, 2 Allow, both 13.107.6.152/31 */
	{ POL_DEFAULT, "13.107.6.152", 443, O, true, { 1, X_PORT + 2 }, false,
	    false, false },
	{ POL_DEFAULT, "13.107.6.153", 993, A, true, { 2, X_PORT + 1 }, false,
	    false, false },
	{ POL_DEFAULT, "13.107.6.154", -1, N, false, { 0 }, false, false,
	    false },
	{ POL_DEFAULT, "13.107.6.151", -1, N, false, { 0 }, false, false,
	    false },
	{ POL_DEFAULT, "::ffff:13.107.6.152", 443, O, true, { 1 }, false,
	    false, false },
	{ POL_DEFAULT, "[::ffff:13.107.6.153]", 443, O, true, { 1 }, false,
	    false, false },
	{ POL_DEFAULT, "[2603:1006::5]", 443, O, true, { 1, X_PORT + 2 },
	    false, false, false },
	{ POL_DEFAULT, "2603:1006:ff:ffff:ffff:ffff:ffff:ffff", 443, O, true,
	    { 1 }, false, false, false },
	{ POL_DEFAULT, "2603:1006:100::", 443, N, false, { 0 }, false, false,
	    false },
	/* 2603:1006:1400::/40 (46, Allow) lies beside 2603:1006::/40 (1) */
	{ POL_DEFAULT, "2603:1006:1400::5", 443, A, true, { 46 }, false, false,
	    false },
	/* Teams media: Optimize (11) has only UDP ports, never a TCP query */
	{ POL_DEFAULT, "52.112.0.1", 443, A, true, { 12, X_PORT + 11 }, false,
	    false, false },
	{ POL_DEFAULT, "52.112.0.1", 3478, N, false,
	    { X_PORT + 11, X_PORT + 12 }, false, false, false },
	{ POL_DEFAULT, "52.112.0.1", -1, O, true, { 11, 12 }, false, false,
	    false },
	{ POL_DEFAULT, "[2603:1063::1]", -1, O, true, { 11, 12 }, false, false,
	    false },
	{ POL_DEFAULT, "40.92.0.1", 25, A, true, { 10, X_PORT + 9 }, false,
	    false, false },
	{ POL_DEFAULT, "40.92.0.1", 80, N, false, { X_PORT + 9, X_PORT + 10 },
	    false, false, false },
	{ POL_DEFAULT, "192.0.2.1", -1, N, false, { 0 }, false, false, false },
	/* policy: service areas */
	{ POL_EXCHANGE_ONLY, "outlook.office365.com", 443, O, true,
	    { 1, X_AREA + 71 }, false, false, false },
	{ POL_EXCHANGE_ONLY, "contoso.sharepoint.com", 443, N, false,
	    { X_AREA + 31 }, false, false, false },
	{ POL_EXCHANGE_ONLY, "teams.microsoft.com", -1, N, false,
	    { X_AREA + 12, X_AREA + 50 }, false, false, false },
	{ POL_EXCHANGE_ONLY, "52.112.0.1", -1, N, false,
	    { X_AREA + 11, X_AREA + 12 }, false, false, false },
	/* policy: required only (2, 50, 78, 97, 116 are not required) */
	{ POL_REQUIRED_ONLY, "smtp.office365.com", 587, N, false,
	    { X_REQ + 2 }, false, false, false },
	{ POL_REQUIRED_ONLY, "smtp.office365.com", -1, D, false,
	    { 71, X_REQ + 2 }, false, false, false },
	{ POL_REQUIRED_ONLY, "outlook.office365.com", 993, N, false,
	    { X_REQ + 2 }, false, false, false },
	{ POL_REQUIRED_ONLY, "login.live.com", -1, N, false,
	    { X_REQ + 97, X_REQ + 116 }, false, false, false },
	{ POL_REQUIRED_ONLY, "www.microsoft.com", 443, D, false,
	    { 125, X_REQ + 50 }, false, false, false },
	/* policy: direct categories */
	{ POL_OPTIMIZE_ONLY, "outlook.office365.com", 443, O, true, { 1 },
	    false, false, false },
	{ POL_OPTIMIZE_ONLY, "teams.microsoft.com", 443, A, false, { 12 },
	    false, false, false },
	{ POL_OPTIMIZE_ONLY, "outlook.office365.com", 993, A, false, { 2 },
	    false, false, false },
	{ POL_WITH_DEFAULT, "www.microsoft.com", 443, D, true, { 125 }, false,
	    false, false },
	{ POL_WITH_DEFAULT, "example.com", 443, N, false, { 0 }, false, false,
	    false },
	/* policy: ports ignored */
	{ POL_NO_PORTS, "outlook.office365.com", 25, O, true, { 1, 2, 71 },
	    false, false, false },
	{ POL_NO_PORTS, "52.112.0.1", 443, O, true, { 11, 12 }, false, false,
	    false },
	{ POL_NO_PORTS, "smtp.office365.com", 443, A, true, { 2, 71 }, false,
	    false, false },
	/* never_direct wins over Optimize, by name and by prefix */
	{ POL_NEVER, "outlook.office365.com", 443, O, false, { 1 }, true,
	    false, false },
	{ POL_NEVER, "contoso.sharepoint.com", 443, O, false, { 31 }, true,
	    false, false },
	{ POL_NEVER, "outlook.office.com", 443, O, true, { 1 }, false, false,
	    false },
	{ POL_NEVER, "13.107.6.153", 443, O, false, { 1 }, true, false,
	    false },
	{ POL_NEVER, "::ffff:13.107.6.152", 443, O, false, { 1 }, true, false,
	    false },
	{ POL_NEVER, "13.107.18.10", 443, O, true, { 1 }, false, false,
	    false },
	{ POL_NEVER, "52.112.0.1", -1, O, false, { 11, 12 }, true, false,
	    false },
	{ POL_NEVER, "52.113.0.1", -1, O, true, { 11, 12 }, false, false,
	    false },
	{ POL_NEVER, "[2603:1006::5]", 443, O, false, { 1 }, true, false,
	    false },
	{ POL_NEVER, "[2603:1006::6]", 443, O, true, { 1 }, false, false,
	    false },
	{ POL_NEVER, "10.9.9.9", -1, N, false, { 0 }, true, false, false },
	/* extra_direct */
	{ POL_EXTRA, "www.contoso.example", 443, N, true, { 0 }, false, true,
	    true },
	{ POL_EXTRA, "a.b.contoso.example", -1, N, true, { 0 }, false, true,
	    true },
	{ POL_EXTRA, "contoso.example", -1, N, false, { 0 }, false, false,
	    false },
	{ POL_EXTRA, "192.0.2.200", 443, N, true, { 0 }, false, true, true },
	{ POL_EXTRA, "198.51.100.7", 443, N, true, { 0 }, false, true, true },
	{ POL_EXTRA, "198.51.100.8", 443, N, false, { 0 }, false, false,
	    false },
	{ POL_EXTRA, "[2001:db8::1]", 443, N, true, { 0 }, false, true, true },
	{ POL_EXTRA, "outlook.office365.com", 443, O, true, { 1 }, false, true,
	    false },
	/* extra_direct with a port the data does not list */
	{ POL_EXTRA, "outlook.office365.com", 25, N, true, { X_PORT + 1 },
	    false, true, true },
	{ POL_EXTRA, "www.microsoft.com", 443, D, false, { 125 }, false, false,
	    false },
};

static void
test_row(void **state)
{
	const struct row *c = *state;
	struct m365_rules *r = compile_file("worldwide-c2025.json", c->pol);
	struct m365_verdict v;

	lookup(r, c->q, c->port, &v);
	if (v.category != c->cat || v.direct != c->direct) {
		dump(&v);
		fail_msg("category %s direct %d, want %s direct %d",
		    matcher_category_name(v.category), v.direct,
		    matcher_category_name(c->cat), c->direct);
	}
	assert_null(v.reason);
	assert_int_equal(v.never_direct, c->never);
	assert_int_equal(v.extra_direct, c->extra);
	assert_int_equal(v.custom, c->custom);
	assert_int_equal(v.is_ip, strchr(c->q, ':') != NULL ||
	    strspn(c->q, "0123456789.") == strlen(c->q));
	assert_true(v.n_matches <= M365_VERDICT_MATCHES);
	assert_true(v.n_matches <= v.n_total);
	for (size_t i = 0; i < MAXSETS && c->sets[i] != 0; i++) {
		int id = c->sets[i] % 1000;
		enum m365_exclusion ex = c->sets[i] >= X_REQ ?
		    M365_EXCLUDED_NOT_REQUIRED : c->sets[i] >= X_AREA ?
		    M365_EXCLUDED_SERVICE_AREA : c->sets[i] >= X_PORT ?
		    M365_EXCLUDED_PORT : M365_APPLIES;

		if (!has_set(&v, id, ex)) {
			dump(&v);
			fail_msg("set %d (%s) missing from the verdict", id,
			    ex ? matcher_exclusion_name(ex) : "applies");
		}
	}
	/* the category is the highest of the applying matches */
	{
		enum m365_category hi = M365_CAT_NONE;

		for (size_t i = 0; i < v.n_matches; i++)
			if (v.matches[i].kind == M365_FROM_SET &&
			    v.matches[i].excluded == M365_APPLIES &&
			    v.matches[i].category > hi)
				hi = v.matches[i].category;
		if (v.n_matches == v.n_total)
			assert_int_equal(v.category, hi);
	}
	matcher_free(r);
}

/* What matched: the pattern or prefix text and the set's category. */
static void
test_matches_detail(void **state)
{
	struct m365_rules *r = compile_file("worldwide-c2025.json",
	    POL_DEFAULT);
	struct m365_verdict v;
	bool seen1 = false, seen2 = false, seen71 = false;

	(void)state;
	lookup(r, "outlook.office365.com", 443, &v);
	assert_int_equal(v.n_total, 3);
	assert_int_equal(v.n_matches, 3);
	for (size_t i = 0; i < v.n_matches; i++) {
		const struct m365_match *m = &v.matches[i];

		assert_int_equal(m->kind, M365_FROM_SET);
		if (m->set_id == 1) {
			seen1 = true;
			assert_string_equal(m->what, "outlook.office365.com");
			assert_int_equal(m->category, M365_CAT_OPTIMIZE);
			assert_int_equal(m->excluded, M365_APPLIES);
		} else if (m->set_id == 2) {
			seen2 = true;
			assert_string_equal(m->what, "outlook.office365.com");
			assert_int_equal(m->category, M365_CAT_ALLOW);
			assert_int_equal(m->excluded, M365_EXCLUDED_PORT);
		} else {
			assert_int_equal(m->set_id, 71);
			seen71 = true;
			assert_string_equal(m->what, "*.office365.com");
			assert_int_equal(m->category, M365_CAT_DEFAULT);
		}
	}
	assert_true(seen1 && seen2 && seen71);
	lookup(r, "13.107.6.153", -1, &v);
	assert_true(v.is_ip);
	assert_int_equal(v.n_total, 2);
	for (size_t i = 0; i < v.n_matches; i++)
		assert_string_equal(v.matches[i].what, "13.107.6.152/31");
	lookup(r, "[2603:1006:0000::1]", -1, &v);
	assert_int_equal(v.n_total, 2);
	assert_string_equal(v.matches[0].what, "2603:1006::/40");
	matcher_free(r);
}

/* The never_direct and extra_direct entries show up as matches too. */
static void
test_policy_matches(void **state)
{
	struct m365_rules *r = compile_file("worldwide-c2025.json", POL_NEVER);
	struct m365_verdict v;
	bool found = false;

	(void)state;
	lookup(r, "13.107.6.152", 443, &v);
	for (size_t i = 0; i < v.n_matches; i++)
		if (v.matches[i].kind == M365_FROM_NEVER) {
			found = true;
			assert_string_equal(v.matches[i].what, "13.107.6.152/31");
		}
	assert_true(found);
	matcher_free(r);
	r = compile_file("worldwide-c2025.json", POL_EXTRA);
	lookup(r, "www.contoso.example", 443, &v);
	assert_int_equal(v.n_total, 1);
	assert_int_equal(v.matches[0].kind, M365_FROM_EXTRA);
	assert_string_equal(v.matches[0].what, "*.contoso.example");
	matcher_free(r);
}

/* An entry in both lists: never_direct wins over extra_direct. */
static void
test_never_beats_extra(void **state)
{
	struct m365_policy p = policy(POL_DEFAULT);
	char err[256];
	static const char json[] = "[{\"id\": 1, \"category\": \"Default\"}]";
	struct m365_data *d = endpoints_parse(json, sizeof(json) - 1, err,
	    sizeof(err));
	struct m365_rules *r;
	struct m365_verdict v;

	(void)state;
	assert_non_null(d);
	p.never_direct.v = never_list;
	p.never_direct.n = sizeof(never_list) / sizeof(never_list[0]);
	p.extra_direct.v = extra_list;
	p.extra_direct.n = sizeof(extra_list) / sizeof(extra_list[0]);
	r = matcher_compile(d, &p, err, sizeof(err));
	assert_non_null(r);
	lookup(r, "both.contoso.example", 443, &v);
	assert_true(v.extra_direct);
	assert_true(v.never_direct);
	assert_false(v.direct);
	assert_false(v.custom);
	/* a CIDR in one list against a narrower host in the other */
	lookup(r, "10.9.9.9", 443, &v);
	assert_true(v.extra_direct && v.never_direct);
	assert_false(v.direct);
	lookup(r, "10.9.9.8", 443, &v);
	assert_true(v.direct && v.custom);
	matcher_free(r);
}

/* Invalid queries: no match, a reason, category NONE, never direct even
 * when a catch-all extra_direct pattern exists. */
struct bad_query {
	const char *q;
	size_t len;
};

static const struct bad_query bad_queries[] = {
	{ "", 0 },
	{ ".", 1 },
	{ "a..b", 4 },
	{ "outlook.office365.com..", 23 },
	{ "outlook office365.com", 21 },
	{ "[13.107.6.152]", 14 },
	{ "https://outlook.office365.com", 29 },
	{ "outlook.office365.com:443", 25 },
	{ "*.office365.com", 15 },
	{ "outlook.office365.com\0.evil.test", 32 },
	{ "13.107.6.152\0.evil.test", 23 },
	{ "[2603:1006::5\0]", 15 },
};

static void
test_bad_query(void **state)
{
	const struct bad_query *b = *state;
	static char *star[] = { "*" };
	struct m365_policy p = policy(POL_DEFAULT);
	char err[512], path[1024];
	struct m365_data *d;
	struct m365_rules *r;
	struct m365_verdict v;

	snprintf(path, sizeof(path), "%s/worldwide-c2025.json", suite_data_dir());
	d = endpoints_load_file(path, err, sizeof(err));
	assert_non_null(d);
	p.extra_direct.v = star;
	p.extra_direct.n = 1;
	r = matcher_compile(d, &p, err, sizeof(err));
	assert_non_null(r);
	memset(&v, 0x5a, sizeof(v));
	matcher_lookup(r, b->q, b->len, 443, &v);
	assert_non_null(v.reason);
	assert_true(v.reason[0] != '\0');
	assert_int_equal(v.category, M365_CAT_NONE);
	assert_false(v.direct);
	assert_false(v.extra_direct);
	assert_false(v.custom);
	assert_int_equal(v.n_total, 0);
	assert_int_equal(v.n_matches, 0);
	matcher_free(r);
}

/* Bad policy entries: compile fails naming the entry; the data stays the
 * caller's. */
static void
test_bad_policy(void **state)
{
	static char *bad[][1] = { { "x..y" }, { "10.0.0.1/8" },
	    { "https://x" }, { "10.0.0.0/33" }, { "" } };
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int which = 0; which < 2; which++) {
			struct m365_policy p = policy(POL_DEFAULT);
			static const char json[] = "[{\"id\": 1, "
			    "\"category\": \"Allow\", \"urls\": [\"a.example\"]}]";
			struct m365_data *d = endpoints_parse(json,
			    sizeof(json) - 1, err, sizeof(err));
			struct m365_rules *r;

			assert_non_null(d);
			if (which) {
				p.never_direct.v = bad[i];
				p.never_direct.n = 1;
			} else {
				p.extra_direct.v = bad[i];
				p.extra_direct.n = 1;
			}
			err[0] = '\0';
			r = matcher_compile(d, &p, err, sizeof(err));
			assert_null(r);
			assert_non_null(strstr(err, which ? "never_direct" :
			    "extra_direct"));
			if (bad[i][0][0] != '\0')
				assert_non_null(strstr(err, bad[i][0]));
			/* still ours: usable and freeable */
			assert_int_equal(d->n_sets, 1);
			assert_string_equal(d->sets[0].urls[0], "a.example");
			endpoints_free(d);
		}
	}
}

/* More matches than the verdict stores: the total is still counted and
 * the category still weighs every match. */
static void
test_many_matches(void **state)
{
	size_t n = M365_VERDICT_MATCHES + 10, o = 0;
	char *json = malloc(n * 96 + 16);
	struct m365_rules *r;
	struct m365_verdict v;

	(void)state;
	assert_non_null(json);
	json[o++] = '[';
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(json + o, "%s{\"id\": %zu, \"category\": "
		    "\"%s\", \"urls\": [\"*.x.example\"], \"tcpPorts\": \"443\"}",
		    i ? "," : "", i + 1, i == n - 1 ? "Optimize" : "Default");
	json[o++] = ']';
	json[o] = '\0';
	r = compile_json(json, POL_DEFAULT);
	lookup(r, "a.x.example", 443, &v);
	assert_int_equal(v.n_total, n);
	assert_int_equal(v.n_matches, M365_VERDICT_MATCHES);
	assert_int_equal(v.category, M365_CAT_OPTIMIZE);
	assert_true(v.direct);
	free(json);
	matcher_free(r);
}

/* never_direct always wins, even when the data matches a host with more
 * patterns than any fixed bound. */
static void
test_never_beyond_hits(void **state)
{
	size_t n = 1100, o = 0;       /* beyond the old bound of 1024 */
	char *json = malloc(n * 96 + 16);
	static char *never[] = { "victim.x.example", "192.0.2.7" };
	struct m365_policy p = policy(POL_DEFAULT);
	char err[256];
	struct m365_data *d;
	struct m365_rules *r;
	struct m365_verdict v;

	(void)state;
	assert_non_null(json);
	json[o++] = '[';
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(json + o, "%s{\"id\": %zu, \"category\": "
		    "\"Optimize\", \"urls\": [\"*\"], \"ips\": [\"0.0.0.0/0\"]}",
		    i ? "," : "", i + 1);
	json[o++] = ']';
	d = endpoints_parse(json, o, err, sizeof(err));
	free(json);
	assert_non_null(d);
	p.never_direct.v = never;
	p.never_direct.n = 2;
	r = matcher_compile(d, &p, err, sizeof(err));
	assert_non_null(r);
	lookup(r, "victim.x.example", 443, &v);
	assert_true(v.never_direct);
	assert_false(v.direct);
	lookup(r, "192.0.2.7", 443, &v);
	assert_true(v.never_direct);
	assert_false(v.direct);
	lookup(r, "other.x.example", -1, &v);   /* no tcpPorts: no port */
	assert_true(v.direct);
	assert_int_equal(v.n_total, 1100);
	matcher_free(r);
}

/* Small inline data: one definition of ports and precedence. */
static void
test_inline(void **state)
{
	static const char json[] = "["
	    "{\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": \"Default\","
	    " \"required\": true, \"urls\": [\"*.example.test\"],"
	    " \"tcpPorts\": \"80,443\"},"
	    "{\"id\": 2, \"serviceArea\": \"Exchange\", \"category\": \"Allow\","
	    " \"required\": true, \"urls\": [\"mail.example.test\"],"
	    " \"tcpPorts\": \"1000-2000\"},"
	    "{\"id\": 3, \"serviceArea\": \"Skype\", \"category\": \"Optimize\","
	    " \"required\": true, \"urls\": [\"mail.example.test\"],"
	    " \"udpPorts\": \"3478-3481\"},"
	    "{\"id\": 4, \"serviceArea\": \"Future\", \"category\": \"Allow\","
	    " \"urls\": [\"autodiscover.*.example.test\"], \"tcpPorts\": \"443\"}"
	    "]";
	struct m365_rules *r = compile_json(json, POL_DEFAULT);
	struct m365_verdict v;

	(void)state;
	lookup(r, "mail.example.test", 443, &v);
	assert_int_equal(v.category, M365_CAT_DEFAULT);
	assert_false(v.direct);
	lookup(r, "mail.example.test", 1000, &v);
	assert_int_equal(v.category, M365_CAT_ALLOW);
	lookup(r, "mail.example.test", 2000, &v);
	assert_int_equal(v.category, M365_CAT_ALLOW);
	lookup(r, "mail.example.test", 2001, &v);
	assert_int_equal(v.category, M365_CAT_NONE);
	/* set 3 has no TCP ports: never for a TCP query, even 3478 */
	lookup(r, "mail.example.test", 3478, &v);
	assert_int_equal(v.category, M365_CAT_NONE);
	assert_false(v.direct);
	lookup(r, "mail.example.test", -1, &v);
	assert_int_equal(v.category, M365_CAT_OPTIMIZE);
	assert_true(v.direct);
	lookup(r, "example.test", -1, &v);
	assert_int_equal(v.category, M365_CAT_NONE);
	lookup(r, "autodiscover.contoso.example.test", 443, &v);
	assert_int_equal(v.category, M365_CAT_ALLOW);
	assert_true(v.direct);
	lookup(r, "autodiscover.contoso.example.test", 80, &v);
	assert_int_equal(v.category, M365_CAT_DEFAULT);
	assert_int_equal(v.n_total, 2);
	/* the inner '*' needs its two dots: only *.example.test */
	lookup(r, "autodiscover.example.test", 443, &v);
	assert_int_equal(v.category, M365_CAT_DEFAULT);
	assert_int_equal(v.n_total, 1);
	matcher_free(r);
}

/* The other data files compile and answer. */
static void
test_other_files(void **state)
{
	struct m365_rules *r = compile_file("worldwide-c2022.json",
	    POL_DEFAULT);
	struct m365_verdict v;

	(void)state;
	lookup(r, "contoso-files.sharepoint.com", 443, &v);
	assert_int_equal(v.category, M365_CAT_OPTIMIZE);
	assert_true(v.direct);
	lookup(r, "outlook.office365.com", 443, &v);
	assert_int_equal(v.category, M365_CAT_OPTIMIZE);
	matcher_free(r);
	r = compile_file("china-c2025.json", POL_DEFAULT);
	assert_int_equal(matcher_data(r)->n_sets, 21);
	lookup(r, "partner.outlook.cn", 443, &v);          /* 1 O, 12 D */
	assert_int_equal(v.category, M365_CAT_OPTIMIZE);
	lookup(r, "partner.outlook.cn", 993, &v);  /* 20 is *.partner... */
	assert_int_equal(v.category, M365_CAT_NONE);
	lookup(r, "x.partner.outlook.cn", 993, &v);        /* 20 A */
	assert_int_equal(v.category, M365_CAT_ALLOW);
	lookup(r, "x.partner.outlook.cn", 443, &v);        /* 12 D, not 20 */
	assert_int_equal(v.category, M365_CAT_DEFAULT);
	assert_false(v.direct);
	lookup(r, "42.159.34.33", 443, &v);                /* 3 O udp, 19 A */
	assert_int_equal(v.category, M365_CAT_ALLOW);
	lookup(r, "42.159.34.33", -1, &v);
	assert_int_equal(v.category, M365_CAT_OPTIMIZE);
	lookup(r, "outlook.office365.com", 443, &v);       /* not in China */
	assert_int_equal(v.category, M365_CAT_NONE);
	matcher_free(r);
	matcher_free(NULL);
}

static void
test_names_of(void **state)
{
	(void)state;
	assert_string_equal(matcher_category_name(M365_CAT_OPTIMIZE),
	    "optimize");
	assert_string_equal(matcher_category_name(M365_CAT_ALLOW), "allow");
	assert_string_equal(matcher_category_name(M365_CAT_DEFAULT), "default");
	assert_string_equal(matcher_category_name(M365_CAT_NONE), "none");
	assert_string_equal(matcher_exclusion_name(M365_APPLIES), "");
	assert_string_equal(matcher_exclusion_name(M365_EXCLUDED_PORT), "port");
	assert_string_equal(matcher_exclusion_name(M365_EXCLUDED_SERVICE_AREA),
	    "service area");
	assert_string_equal(matcher_exclusion_name(M365_EXCLUDED_NOT_REQUIRED),
	    "not required");
}

/* The data the rules were compiled from, and the policy was copied. */
static void
test_policy_copied(void **state)
{
	char *never[] = { strdup("outlook.office365.com") };
	struct m365_policy p = policy(POL_DEFAULT);
	char err[256], path[1024];
	struct m365_data *d;
	struct m365_rules *r;
	struct m365_verdict v;

	(void)state;
	snprintf(path, sizeof(path), "%s/worldwide-c2025.json", suite_data_dir());
	d = endpoints_load_file(path, err, sizeof(err));
	assert_non_null(d);
	assert_non_null(never[0]);
	p.never_direct.v = never;
	p.never_direct.n = 1;
	r = matcher_compile(d, &p, err, sizeof(err));
	assert_non_null(r);
	assert_ptr_equal(matcher_data(r), d);
	memset(never[0], 'z', strlen(never[0]));
	free(never[0]);
	memset(&p, 0, sizeof(p));
	lookup(r, "outlook.office365.com", 443, &v);
	assert_true(v.never_direct);
	assert_false(v.direct);
	assert_int_equal(v.category, M365_CAT_OPTIMIZE);
	matcher_free(r);
}

/* never_direct = ::/0 means "no IPv6 direct": IPv4 must stay direct even
 * though IPv4 is stored as ::ffff:a.b.c.d. */
static void
test_never_v6_all(void **state)
{
	static char *never[] = { "::/0" };
	struct m365_policy p = policy(POL_DEFAULT);
	struct m365_rules *r;
	struct m365_verdict v;
	char err[256];
	struct m365_data *d = endpoints_load_file(
	    "tests/data/worldwide-c2025.json", err, sizeof(err));

	(void)state;
	assert_non_null(d);
	p.never_direct.v = never;
	p.never_direct.n = 1;
	r = matcher_compile(d, &p, err, sizeof(err));
	assert_non_null(r);
	lookup(r, "2603:1006::10", 443, &v);
	assert_true(v.never_direct);
	assert_false(v.direct);
	lookup(r, "13.107.6.152", 443, &v);
	assert_false(v.never_direct);
	assert_true(v.direct);
	lookup(r, "::ffff:13.107.6.152", 443, &v);
	assert_false(v.never_direct);
	assert_true(v.direct);
	matcher_free(r);
}

/* --- the identity rule (DESIGN.md §3), on verdicts made up for it ----- */

struct side {
	bool direct, custom, is_ip, never;
	enum m365_category cat;
};

#define DIRECT(cat) { true, false, false, false, cat }
#define DIRECT_IP(cat) { true, false, true, false, cat }
#define CUSTOM { true, true, false, false, M365_CAT_NONE }
#define PROXY(cat) { false, false, false, false, cat }
#define PROXY_IP { false, false, true, false, M365_CAT_NONE }
#define NEVER_IP { false, false, true, true, M365_CAT_OPTIMIZE }

struct identity_case {
	const char *what;
	struct side dst;
	bool has_sni;
	struct side sni;
	/* the answer */
	bool direct, custom;
	enum m365_category cat;
	bool from_sni;
	enum m365_reason reason;
	bool dns_may_verify;
	/* after matcher_identity_dns(SNI_VERIFIED) */
	bool direct_if_verified;
};

#define OPT M365_CAT_OPTIMIZE
#define ALW M365_CAT_ALLOW
#define DEF M365_CAT_DEFAULT
#define NON M365_CAT_NONE
#define MIS M365_REASON_SNI_MISMATCH
#define NOR M365_REASON_NONE

static const struct identity_case identity_cases[] = {
	{ "no SNI: the destination alone", DIRECT(OPT), false, PROXY(NON),
	    true, false, OPT, false, NOR, false, true },
	{ "no SNI, not direct", PROXY(DEF), false, DIRECT(OPT),
	    false, false, DEF, false, NOR, false, false },
	{ "both direct: the lower category", DIRECT(OPT), true, DIRECT(ALW),
	    true, false, ALW, true, NOR, false, true },
	{ "both direct, tie: the destination", DIRECT(ALW), true, DIRECT(ALW),
	    true, false, ALW, false, NOR, false, true },
	{ "custom is weaker than any category", DIRECT(OPT), true, CUSTOM,
	    true, true, NON, true, NOR, false, true },
	{ "direct name, foreign SNI", DIRECT(OPT), true, PROXY(NON),
	    false, false, NON, true, MIS, false, false },
	{ "foreign name, M365 SNI: no DNS for names", PROXY(DEF), true,
	    DIRECT(OPT), false, false, DEF, false, MIS, false, false },
	{ "foreign IP, M365 SNI: DNS may verify", PROXY_IP, true, DIRECT(ALW),
	    false, false, NON, false, MIS, true, true },
	{ "never_direct IP, M365 SNI: never verified", NEVER_IP, true,
	    DIRECT(ALW), false, false, OPT, false, MIS, false, false },
	{ "foreign IP, M365 IP as SNI: no DNS", PROXY_IP, true,
	    DIRECT_IP(OPT), false, false, NON, false, MIS, false, false },
	{ "neither direct: no mismatch", PROXY(DEF), true, PROXY(NON),
	    false, false, DEF, false, NOR, false, false },
};

static void
make_side(struct m365_verdict *v, const struct side *sd)
{
	memset(v, 0, sizeof(*v));
	v->direct = sd->direct;
	v->custom = sd->custom;
	v->extra_direct = sd->custom;
	v->never_direct = sd->never;
	v->is_ip = sd->is_ip;
	v->category = sd->cat;
}

static void
test_identity(void **state)
{
	const struct identity_case *c = *state;
	static struct m365_identity id;
	static const enum m365_reason others[] = { M365_REASON_DNS_TIMEOUT,
	    M365_REASON_DNS_FAILED, M365_REASON_DNS_BUSY,
	    M365_REASON_SNI_MISMATCH };

	make_side(&id.dst, &c->dst);
	make_side(&id.sni, &c->sni);
	id.has_sni = c->has_sni;
	matcher_identity_combine(&id);
	assert_int_equal(id.direct, c->direct);
	assert_int_equal(id.custom, c->custom);
	assert_int_equal(id.category, c->cat);
	assert_int_equal(id.from_sni, c->from_sni);
	assert_ptr_equal(matcher_identity_basis(&id),
	    c->from_sni ? &id.sni : &id.dst);
	assert_int_equal(id.reason, c->reason);
	assert_int_equal(id.dns_may_verify, c->dns_may_verify);
	/* the rule itself: direct only if every known identity is */
	assert_true(!id.direct || (id.dst.direct &&
	    (!id.has_sni || id.sni.direct)));
	/* a failed DNS check never makes anything direct */
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		bool was = id.direct;

		matcher_identity_combine(&id);
		matcher_identity_dns(&id, others[i]);
		assert_int_equal(id.direct, was);
		if (c->dns_may_verify)
			assert_int_equal(id.reason, others[i]);
	}
	matcher_identity_combine(&id);
	matcher_identity_dns(&id, M365_REASON_SNI_VERIFIED);
	assert_int_equal(id.direct, c->direct_if_verified);
	if (c->dns_may_verify) {
		assert_int_equal(id.reason, M365_REASON_SNI_VERIFIED);
		assert_true(id.from_sni);
		assert_int_equal(id.category, c->sni.cat);
	}
}

int
main(void)
{
	struct suite s = { 0 };

	for (size_t i = 0; i < sizeof(identity_cases) /
	    sizeof(identity_cases[0]); i++)
		suite_add(&s, test_identity, (void *)&identity_cases[i],
		    "identity: %s", identity_cases[i].what);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *c = &rows[i];

		suite_add(&s, test_row, (void *)c, "%s: %s port %d -> %s %s%s",
		    policy_names[c->pol], c->q, c->port,
		    matcher_category_name(c->cat), c->direct ? "direct" : "proxy",
		    c->custom ? " (custom)" : "");
	}
	suite_add(&s, test_matches_detail, NULL,
	    "the verdict names sets, patterns, prefixes");
	suite_add(&s, test_policy_matches, NULL,
	    "policy entries appear among the matches");
	suite_add(&s, test_never_beats_extra, NULL,
	    "never_direct beats extra_direct");
	for (size_t i = 0; i < sizeof(bad_queries) / sizeof(bad_queries[0]);
	    i++) {
		char shown[80];
		size_t o = 0;

		for (size_t k = 0; k < bad_queries[i].len && o < 70; k++) {
			unsigned char ch = (unsigned char)bad_queries[i].q[k];

			if (ch < 0x20 || ch == '#')
				o += (size_t)snprintf(shown + o, sizeof(shown) - o,
				    "\\x%02x", ch);
			else
				shown[o++] = (char)ch;
		}
		shown[o] = '\0';
		suite_add(&s, test_bad_query, (void *)&bad_queries[i],
		    "invalid query \"%s\": reason, none, not direct", shown);
	}
	suite_add(&s, test_bad_policy, NULL,
	    "bad policy entries fail compilation; data stays the caller's");
	suite_add(&s, test_many_matches, NULL,
	    "more matches than the verdict stores");
	suite_add(&s, test_never_beyond_hits, NULL,
	    "never_direct wins under 1100 matching data sets");
	suite_add(&s, test_never_v6_all, NULL,
	    "never_direct = ::/0 stops IPv6, not IPv4");
	suite_add(&s, test_inline, NULL, "inline data: ports and precedence");
	suite_add(&s, test_other_files, NULL, "the other data files");
	suite_add(&s, test_names_of, NULL, "category and exclusion names");
	suite_add(&s, test_policy_copied, NULL, "the policy is copied");
	return suite_run(&s, "matcher");
}
