/* test_assess.c - m365-direct assess's parts that need no network: the
 * sample drawn from the real data (wildcards filled), the judgements of
 * each check at and around their bounds, the medians, the proxy URL split
 * (credentials never in the printable URL), the public roots, the office
 * location, the distance, a bounded lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assess.h"
#include "config.h"
#include "geo.h"
#include "lookup.h"
#include "matcher.h"
#include "probe.h"
#include "roots.h"
#include "sample.h"

/* The 2025 file compiled under the defaults plus key = value (a list
 * key's value added to its default), and direct categories mask (0: the
 * default). */
static struct m365_rules *
rules_mask(const char *key, const char *value, unsigned mask)
{
	struct m365_config cfg;
	struct m365_rules *r;
	char err[512];

	assert_int_equal(config_init(&cfg), 0);
	if (key != NULL)
		assert_int_equal(config_set(&cfg, key, value, err, sizeof(err)), 0);
	if (mask != 0)
		cfg.policy.direct_mask = mask;
	r = matcher_compile(suite_load("worldwide-c2025.json"), &cfg.policy, err,
	    sizeof(err));
	if (r == NULL)
		fail_msg("compile: %s", err);
	config_free(&cfg);
	return r;
}

static struct m365_rules *
rules_with(const char *key, const char *value)
{
	return rules_mask(key, value, 0);
}

static void
test_median(void **state)
{
	int64_t a[] = { 5 }, b[] = { 9, 1, 5 }, c[] = { 4, 1, 3, 2 };
	int64_t d[] = { 7, 7, 100, 7, 1 };

	(void)state;
	assert_int_equal(assess_median(a, 0), -1);
	assert_int_equal(assess_median(a, 1), 5);
	assert_int_equal(assess_median(b, 3), 5);
	assert_int_equal(assess_median(c, 4), 2);       /* (2 + 3) / 2 */
	assert_int_equal(assess_median(d, 5), 7);       /* an outlier does not count */
}

static void
test_fill(void **state)
{
	static const struct {
		const char *pattern, *want;     /* NULL: refused */
	} cases[] = {
		{ "outlook.office365.com", "outlook.office365.com" },
		{ "*.sharepoint.com", "contoso.sharepoint.com" },
		{ "autodiscover.*.onmicrosoft.com",
		    "autodiscover.contoso.onmicrosoft.com" },
		{ "*cdn.onenote.net", "cdn.onenote.net" },       /* '*' empty */
		{ "*-files.sharepoint.com", "-files.sharepoint.com" },
		{ "a?c.example.com", "axc.example.com" },
		{ "*.*.example.com", "contoso.contoso.example.com" },
		{ "OUTLOOK.Office365.COM.", "outlook.office365.com" },
		{ "*", "contoso" },
		{ "*.0.1", NULL },                              /* an address */
		{ "..x", NULL },
	};
	char out[HOST_NAME_MAX_LEN + 1], small[12];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sample_fill(cases[i].pattern, "contoso", out, sizeof(out));

		if (cases[i].want == NULL ? rc == 0 : rc != 0 ||
		    strcmp(out, cases[i].want) != 0)
			fail_msg("sample_fill(%s) = %d \"%s\", want %s",
			    cases[i].pattern, rc, rc == 0 ? out : "",
			    cases[i].want != NULL ? cases[i].want : "refused");
	}
	/* does not fit: refused, never cut */
	assert_int_equal(sample_fill("*.sharepoint.com", "contoso", small,
	    sizeof(small)), -1);
}

static void
test_label(void **state)
{
	char long_label[70];

	(void)state;
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_true(sample_label_valid("contoso"));
	assert_true(sample_label_valid("contoso-eu1"));
	assert_true(sample_label_valid(long_label + 1));        /* 63 */
	assert_false(sample_label_valid(long_label));           /* 64 */
	assert_false(sample_label_valid(""));
	assert_false(sample_label_valid("-contoso"));
	assert_false(sample_label_valid("contoso-"));
	assert_false(sample_label_valid("con.toso"));
	assert_false(sample_label_valid("con*"));
}

static void
want_host(const struct sample_host *h, const char *name, const char *pattern,
    enum m365_category c, const char *area, int set)
{
	if (strcmp(h->name, name) != 0 || strcmp(h->pattern, pattern) != 0 ||
	    h->category != c || strcmp(h->service_area, area) != 0 ||
	    h->set_id != set)
		fail_msg("got %s (%s) %s %s set %d, want %s (%s) %s %s set %d",
		    h->name, h->pattern, matcher_category_name(h->category),
		    h->service_area, h->set_id, name, pattern,
		    matcher_category_name(c), area, set);
}

/* The default sample of the real data, read by hand from
 * tests/data/worldwide-c2025.json: Exchange Optimize set 1 (its first
 * name), SharePoint Optimize set 31 (*.sharepoint.com), no Skype Optimize
 * name (set 11 is UDP and addresses only), no Common Optimize set; Allow:
 * Exchange set 9 (set 2 lists 443 for no name: its ports are mail),
 * Skype set 12 (an exact name first), Common set 46. */
static void
test_pick(void **state)
{
	struct sample_host h[ASSESS_MAX_HOSTS];
	struct m365_rules *r = rules_with(NULL, NULL);
	size_t n = sample_pick(r, "contoso", h, ASSESS_MAX_HOSTS);

	(void)state;
	assert_int_equal(n, 5);
	want_host(&h[0], "outlook.cloud.microsoft", "", M365_CAT_OPTIMIZE,
	    "Exchange", 1);
	want_host(&h[1], "contoso.sharepoint.com", "*.sharepoint.com",
	    M365_CAT_OPTIMIZE, "SharePoint", 31);
	want_host(&h[2], "contoso.protection.outlook.com",
	    "*.protection.outlook.com", M365_CAT_ALLOW, "Exchange", 9);
	want_host(&h[3], "teams.cloud.microsoft", "", M365_CAT_ALLOW, "Skype",
	    12);
	want_host(&h[4], "office.live.com", "", M365_CAT_ALLOW, "Common", 46);
	/* the cap holds */
	assert_int_equal(sample_pick(r, "contoso", h, 2), 2);
	matcher_free(r);

	/* the policy decides: Optimize only, then one service area */
	r = rules_mask(NULL, NULL, 1u << M365_CAT_OPTIMIZE);
	assert_int_equal(sample_pick(r, "fabrikam", h, ASSESS_MAX_HOSTS), 2);
	want_host(&h[1], "fabrikam.sharepoint.com", "*.sharepoint.com",
	    M365_CAT_OPTIMIZE, "SharePoint", 31);
	matcher_free(r);
	r = rules_with("service_areas", "Skype");
	assert_int_equal(sample_pick(r, "contoso", h, ASSESS_MAX_HOSTS), 1);
	want_host(&h[0], "teams.cloud.microsoft", "", M365_CAT_ALLOW, "Skype",
	    12);
	matcher_free(r);
}

static void
test_describe(void **state)
{
	struct m365_rules *r = rules_with("extra_direct", "*.contoso.example");
	struct sample_host h;
	const char *why;

	(void)state;
	assert_int_equal(sample_describe(r, "Outlook.Office365.com.", &h, &why), 0);
	want_host(&h, "outlook.office365.com", "", M365_CAT_OPTIMIZE, "Exchange",
	    1);
	assert_int_equal(sample_describe(r, "a.contoso.example", &h, &why), 0);
	assert_true(h.custom);
	assert_int_equal(h.set_id, -1);
	assert_int_equal(sample_describe(r, "www.example.com", &h, &why), -1);
	assert_non_null(strstr(why, "not a Microsoft 365 endpoint"));
	assert_int_equal(sample_describe(r, "www.office.com", &h, &why), -1);
	assert_int_equal(sample_describe(r, "13.107.6.152", &h, &why), -1);
	assert_non_null(strstr(why, "IP address"));
	assert_int_equal(sample_describe(r, "bad name!", &h, &why), -1);
	matcher_free(r);
}

/* A measure as the probes leave it, for the judgements. */
static struct assess_measure
measured(long connect_code, bool handshake, bool public_ok, bool other_ok,
    const char *issuer, int64_t rt_us)
{
	struct assess_measure m;

	memset(&m, 0, sizeof(m));
	m.probed = true;
	m.via_proxy = true;
	m.connect_code = connect_code;
	m.handshake = handshake;
	m.public_ok = public_ok;
	m.other_ok = other_ok;
	snprintf(m.issuer, sizeof(m.issuer), "%s", issuer);
	snprintf(m.error, sizeof(m.error), "%s", handshake ? "" : "boom");
	m.median.tcp = m.median.tunnel = m.median.tls = -1;
	m.median.first_byte = -1;
	m.median.round_trip = rt_us;
	m.ok_tries = rt_us >= 0 ? 3 : 0;
	return m;
}

static void
want_row(const struct assess_row *row, enum assess_status st,
    const char *part)
{
	if (row->status != st || strstr(row->reason, part) == NULL)
		fail_msg("got %s \"%s\", want %s with \"%s\"",
		    assess_status_name(row->status), row->reason,
		    assess_status_name(st), part);
}

static void
test_auth(void **state)
{
	struct assess_measure m = measured(200, true, true, false, "", 1000);
	struct assess_row row;

	(void)state;
	memset(&row, 0, sizeof(row));
	assess_judge_auth(false, true, &m, &row);
	want_row(&row, ASSESS_PASS, "no credentials asked (CONNECT 200)");
	m.connect_code = 407;
	m.auth_offered = CURLAUTH_BASIC;
	assess_judge_auth(false, true, &m, &row);
	want_row(&row, ASSESS_FAIL, "407 Proxy Authentication Required (Basic)");
	m.auth_offered = CURLAUTH_NEGOTIATE | CURLAUTH_NTLM;
	assess_judge_auth(false, true, &m, &row);
	want_row(&row, ASSESS_FAIL, "(Negotiate, NTLM)");
	assess_judge_auth(true, true, &m, &row);        /* the control */
	want_row(&row, ASSESS_INFO, "other traffic needs credentials");
	m.connect_code = 403;
	assess_judge_auth(false, true, &m, &row);
	want_row(&row, ASSESS_FAIL, "CONNECT with 403");
	m.connect_code = 0;
	assess_judge_auth(false, true, &m, &row);
	want_row(&row, ASSESS_FAIL, "no answer from the proxy: ");
	assess_judge_auth(false, false, &m, &row);
	want_row(&row, ASSESS_PASS, "no proxy in the way");
	m.via_proxy = false;
	assess_judge_auth(false, true, &m, &row);
	want_row(&row, ASSESS_PASS, "no_proxy");
	m.probed = false;
	snprintf(m.why, sizeof(m.why), "not run: spent");
	assess_judge_auth(false, true, &m, &row);
	want_row(&row, ASSESS_WARN, "not run");
}

static void
test_inspection(void **state)
{
	const char *pub = "CN = Public Root", *bump = "CN = Corp Bump CA";
	struct assess_measure m = measured(200, true, true, false, pub, 1000);
	struct assess_measure d = measured(0, true, true, false, pub, 1000);
	struct assess_row row;

	(void)state;
	memset(&row, 0, sizeof(row));
	assess_judge_inspection(false, &m, NULL, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_PASS, "not inspected: issuer CN = Public Root");
	assess_judge_inspection(false, &m, &d, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_PASS, "the same as direct");
	/* publicly trusted, but not what a direct connection gets */
	snprintf(d.issuer, sizeof(d.issuer), "CN = Other Public CA");
	assess_judge_inspection(false, &m, &d, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_FAIL, "issuer CN = Public Root through the proxy, "
	    "but CN = Other Public CA direct");
	/* a chain only the enterprise's CA verifies */
	m = measured(200, true, false, true, bump, 1000);
	assess_judge_inspection(false, &m, NULL, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_FAIL, "TLS inspected: issuer CN = Corp Bump CA, "
	    "a chain only corp.pem verifies");
	assess_judge_inspection(true, &m, NULL, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_INFO, "TLS inspected");
	assess_judge_inspection(false, &m, &d, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_FAIL, "; direct: issuer CN = Other Public CA");
	/* nothing verifies it */
	m = measured(200, true, false, false, bump, 1000);
	assess_judge_inspection(false, &m, NULL, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_FAIL, "neither the public roots nor corp.pem");
	/* no handshake: a failure; a 407 without credentials: not checked */
	m = measured(200, false, false, false, "", -1);
	assess_judge_inspection(false, &m, NULL, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_FAIL, "no TLS handshake through the proxy: boom");
	m = measured(407, false, false, false, "", -1);
	assess_judge_inspection(false, &m, NULL, "roots", "corp.pem", &row);
	want_row(&row, ASSESS_WARN, "not checked");
}

static void
test_path(void **state)
{
	struct assess_measure m = measured(200, true, true, false, "", 2000);
	struct assess_measure c = measured(200, true, true, false, "", 42000);
	struct assess_measure d = measured(0, true, true, false, "", 1500);
	struct assess_row row;

	(void)state;
	memset(&row, 0, sizeof(row));
	assess_judge_path(&m, NULL, &c, "ctl", 10, &row);
	want_row(&row, ASSESS_PASS, "round trip 2.0 ms, 40.0 ms less than the "
	    "control ctl (42.0 ms): leaves locally");
	/* the margin: exactly it passes, a microsecond less fails */
	c.median.round_trip = 12000;
	assess_judge_path(&m, NULL, &c, "ctl", 10, &row);
	want_row(&row, ASSESS_PASS, "10.0 ms less");
	c.median.round_trip = 11999;
	row.n_fig = 0;
	assess_judge_path(&m, NULL, &c, "ctl", 10, &row);
	want_row(&row, ASSESS_FAIL, "no less than the control ctl");
	/* direct figures win over the control's */
	row.n_fig = 0;
	assess_judge_path(&m, &d, &c, "ctl", 10, &row);
	want_row(&row, ASSESS_PASS, "2.0 ms through the proxy, 1.5 ms direct: "
	    "leaves locally");
	m.median.round_trip = 41500;
	row.n_fig = 0;
	assess_judge_path(&m, &d, &c, "ctl", 10, &row);
	want_row(&row, ASSESS_FAIL, "(+40.0 ms): not local egress");
	/* nothing to compare with; nothing measured */
	d.median.round_trip = -1;
	c.median.round_trip = -1;
	row.n_fig = 0;
	assess_judge_path(&m, &d, &c, "ctl", 10, &row);
	want_row(&row, ASSESS_WARN, "no figures of the control");
	m.median.round_trip = -1;
	row.n_fig = 0;
	assess_judge_path(&m, NULL, NULL, "ctl", 10, &row);
	want_row(&row, ASSESS_WARN, "not measured");
}

static void
test_data(void **state)
{
	time_t now = 1750000000;
	struct assess_data d = { "cache", "/var/lib/m365-direct/endpoints.json",
	    "2025061200", "Worldwide", false, now - 86400 * 30, now - 600,
	    now - 600, "current", "is current" };
	struct assess_row row;

	(void)state;
	memset(&row, 0, sizeof(row));
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_PASS, "version 2025061200, instance Worldwide; "
	    "fetched 30 days ago, checked current 10 min ago");
	d.last_success = now - ASSESS_MAX_DATA_AGE - 1;
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_WARN, "the last good update was 2 days ago");
	d.last_success = now - ASSESS_MAX_DATA_AGE;     /* at the bound */
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_PASS, "checked current 2 days ago");
	d.last_result = "failed";
	d.last_message = "HTTP 503";
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_WARN, "the last update failed (HTTP 503)");
	d.last_success = 0;
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_WARN, "never updated");
	d.fell_back = true;
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_WARN, "does not load");
	d = (struct assess_data){ "bundled snapshot", "", "", "", false, 0, 0, 0,
	    "", "" };
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_WARN, "compiled into the program");
	d.source = "--data";
	d.path = "x.json";
	assess_judge_data(&d, now, &row);
	want_row(&row, ASSESS_INFO, "x.json (version unknown)");
}

static void
test_proxy(void **state)
{
	struct probe_proxy p;
	char err[256];

	(void)state;
	assert_int_equal(probe_proxy_parse("proxy.example.net:3128", NULL, &p,
	    err, sizeof(err)), 0);
	assert_string_equal(p.url, "http://proxy.example.net:3128/");
	assert_null(p.user);
	assert_null(p.no_proxy);
	probe_proxy_free(&p);
	assert_int_equal(probe_proxy_parse(
	    "http://alice:won%40der@10.0.0.1:3128", ".example.com", &p, err,
	    sizeof(err)), 0);
	assert_string_equal(p.url, "http://10.0.0.1:3128/");  /* no secret */
	assert_string_equal(p.user, "alice");
	assert_string_equal(p.password, "won@der");
	assert_string_equal(p.no_proxy, ".example.com");
	probe_proxy_free(&p);
	probe_proxy_free(&p);                                   /* harmless */
	assert_int_equal(probe_proxy_parse("https://[2001:db8::1]:8443", NULL,
	    &p, err, sizeof(err)), 0);
	assert_string_equal(p.url, "https://[2001:db8::1]:8443/");
	probe_proxy_free(&p);
	assert_int_equal(probe_proxy_parse("socks5://10.0.0.1:1080", NULL, &p,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only http:// and https://"));
	assert_null(p.url);
	assert_int_equal(probe_proxy_parse("http://exa mple:80", NULL, &p, err,
	    sizeof(err)), -1);
}

static void
test_steps(void **state)
{
	struct probe_result r;
	struct probe_steps s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.connect_us = 100;
	r.tunnel_us = 1100;
	r.tls_us = 4100;
	r.pretransfer_us = 4200;
	r.first_byte_us = 9200;
	probe_steps(&r, &s);
	assert_int_equal(s.tcp, 100);
	assert_int_equal(s.tunnel, 1000);
	assert_int_equal(s.tls, 3000);
	assert_int_equal(s.first_byte, 9200);
	assert_int_equal(s.round_trip, 5000);
	r.tunnel_us = -1;                       /* no proxy: TLS after TCP */
	r.first_byte_us = -1;
	probe_steps(&r, &s);
	assert_int_equal(s.tunnel, -1);
	assert_int_equal(s.tls, 4000);
	assert_int_equal(s.round_trip, -1);
}

static void
test_location(void **state)
{
	static const struct {
		const char *in;
		int rc;
		double lat, lon;
	} cases[] = {
		{ "52.52,13.405", 0, 52.52, 13.405 },
		{ " -33.8688 , 151.2093 ", 0, -33.8688, 151.2093 },
		{ "90,-180", 0, 90, -180 },
		{ "0,0", 0, 0, 0 },
		{ "90.000000001,0", -1, 0, 0 },
		{ "0,180.5", -1, 0, 0 },
		{ "52.52", -1, 0, 0 },
		{ "52.52;13.4", -1, 0, 0 },
		{ "1e2,3", -1, 0, 0 },
		{ "+5,3", -1, 0, 0 },
		{ "5.,3", -1, 0, 0 },
		{ ".5,3", -1, 0, 0 },
		{ "5,3,1", -1, 0, 0 },
		{ "0.1234567891,0", -1, 0, 0 },         /* ten digits */
		{ "", -1, 0, 0 },
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double lat = 99, lon = 99;
		int rc = geo_parse_location(cases[i].in, &lat, &lon, &why);

		if (rc != cases[i].rc || (rc == 0 && (fabs(lat - cases[i].lat) >
		    1e-9 || fabs(lon - cases[i].lon) > 1e-9)))
			fail_msg("geo_parse_location(\"%s\") = %d %f,%f",
			    cases[i].in, rc, lat, lon);
	}
}

static void
test_distance(void **state)
{
	(void)state;
	/* Berlin to Amsterdam and to Sydney, against published figures */
	assert_true(fabs(geo_distance_km(52.52, 13.405, 52.3676, 4.9041) - 576)
	    < 2);
	assert_true(fabs(geo_distance_km(52.52, 13.405, -33.8688, 151.2093) -
	    16094) < 20);
	assert_true(geo_distance_km(10, 20, 10, 20) == 0);
	/* antipodes: half the circumference, no NaN from rounding */
	assert_true(fabs(geo_distance_km(0, 0, 0, 180) - M_PI * 6371.0088) < 1);
	assert_true(fabs(geo_distance_km(90, 0, -90, 0) - M_PI * 6371.0088) < 1);
}

static void
test_roots(void **state)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	char path[] = "/tmp/m365-roots-XXXXXX", err[512];
	struct buf b = BUF_INIT(ROOTS_MAX_BYTES);
	FILE *f;
	int fd, n;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "%s%s", pem, pem);
	fclose(f);
	assert_int_equal(roots_load(path, &b, err, sizeof(err)), 2);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "not a certificate\n");
	fclose(f);
	assert_int_equal(roots_load(path, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no PEM certificate"));
	unlink(path);
	assert_int_equal(roots_load(path, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	/* Debian's Mozilla bundle, where ca-certificates is installed */
	if (access(ROOTS_MOZILLA_DIR, R_OK) == 0) {
		n = roots_load(NULL, &b, err, sizeof(err));
		if (n < 100)
			fail_msg("roots_load(NULL) = %d: %s", n, err);
	}
	buf_free(&b);
}

static void
test_lookup(void **state)
{
	struct lookup_result lr;
	char err[256];

	(void)state;
	assert_int_equal(lookup_host("localhost", 2000, &lr, err, sizeof(err)),
	    0);
	assert_true(lr.n >= 1 && lr.n <= LOOKUP_MAX_ADDRS);
	for (size_t i = 0; i < lr.n; i++)
		if (strcmp(lr.text[i], "127.0.0.1") != 0 &&
		    strcmp(lr.text[i], "::1") != 0)
			fail_msg("localhost is %s", lr.text[i]);
	/* a name the hosts file and any resolver must refuse */
	assert_int_equal(lookup_host("no-such-host.invalid", 2000, &lr, err,
	    sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_median, NULL, "assess_median: odd, even, outliers");
	suite_add(&s, test_fill, NULL,
	    "sample_fill: whole-label '*' gets the label, others nothing");
	suite_add(&s, test_label, NULL, "sample_label_valid: one DNS label");
	suite_add(&s, test_pick, NULL,
	    "sample_pick: the default sample of the 2025 data, under policies");
	suite_add(&s, test_describe, NULL,
	    "sample_describe: --host must go direct on 443");
	suite_add(&s, test_auth, NULL, "authentication: 407 fails, the control's informs");
	suite_add(&s, test_inspection, NULL,
	    "inspection: public roots, another CA, a different issuer than direct");
	suite_add(&s, test_path, NULL,
	    "path: the margin, direct figures before the control's");
	suite_add(&s, test_data, NULL, "freshness: age, failures, snapshot");
	suite_add(&s, test_proxy, NULL,
	    "probe_proxy_parse: credentials out of the printed URL");
	suite_add(&s, test_steps, NULL, "probe_steps: each step's duration");
	suite_add(&s, test_location, NULL, "geo_parse_location: strict decimal degrees");
	suite_add(&s, test_distance, NULL, "geo_distance_km: known distances");
	suite_add(&s, test_roots, NULL, "roots_load: a bundle, none, the Mozilla roots");
	suite_add(&s, test_lookup, NULL, "lookup_host: localhost, an invalid name");
	return suite_run(&s, "assess");
}
