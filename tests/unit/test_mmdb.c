/* test_mmdb.c - the MMDB writer (export/mmdb.c), read back with
 * libmaxminddb: lookups at the first, last and just-outside addresses of
 * prefixes, IPv4, IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible
 * (::a.b.c.d) forms, IPv6, nested prefixes merged, never_direct carved
 * out, every key and type of the record, the metadata, identical records
 * stored once, byte-identical output, 28-bit records, the size bound; and
 * for the three real data files under several policies, every prefix's
 * edges and random inner addresses against the matcher itself.
 *
 *   test_mmdb --lookup FILE    reads addresses (one a line) from stdin and
 *                              prints "ADDRESS<TAB>CATEGORY", "-" when the
 *                              MMDB has no record: the libmaxminddb reader
 *                              of tests/integration/export-mmdb.t. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "endpoints.h"
#include "export.h"
#include "matcher.h"

/* --- writing and opening ------------------------------------------------- */

struct db {
	char dir[64];
	char path[96];
	MMDB_s mmdb;
};

/* Exports d under p (database_type type, data version version) to a new
 * temp dir; returns 0 and fills err, or -1 with err. */
static int
db_write(struct db *db, const struct m365_data *d, const struct m365_policy *p,
    const char *type, const char *version, char *err, size_t errlen)
{
	struct export_source src = { "--data", "test.json", version,
	    "Worldwide" };
	struct export_opts o = { db->path, NULL, type, p->direct_mask };
	struct export_ctx x;
	struct m365_rules *r;
	int rc;

	snprintf(db->dir, sizeof(db->dir), "/tmp/m365-mmdb-XXXXXX");
	assert_non_null(mkdtemp(db->dir));
	snprintf(db->path, sizeof(db->path), "%s/m365.mmdb", db->dir);
	if ((r = matcher_compile_borrowed(d, p, err, errlen)) == NULL)
		return -1;
	if (export_prepare(&x, r, p, p->direct_mask, &src, err, errlen) != 0) {
		matcher_free(r);
		return -1;
	}
	rc = export_mmdb(&x, &o, err, errlen);
	export_release(&x);
	matcher_free(r);
	return rc;
}

static void
db_open(struct db *db, const struct m365_data *d, const struct m365_policy *p,
    const char *type, const char *version)
{
	char err[1024] = "";
	int rc;

	if (db_write(db, d, p, type, version, err, sizeof(err)) != 0)
		fail_msg("export_mmdb: %s", err);
	rc = MMDB_open(db->path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS)
		fail_msg("MMDB_open: %s", MMDB_strerror(rc));
}

static void
db_remove(struct db *db)
{
	unlink(db->path);
	rmdir(db->dir);
}

static void
db_close(struct db *db)
{
	MMDB_close(&db->mmdb);
	db_remove(db);
}

static struct m365_data *
parse_json(const char *json)
{
	char err[1024];
	struct m365_data *d = endpoints_parse(json, strlen(json), err,
	    sizeof(err));

	if (d == NULL)
		fail_msg("endpoints_parse: %s", err);
	return d;
}

static struct m365_policy
default_policy(void)
{
	struct m365_policy p;

	memset(&p, 0, sizeof(p));
	p.direct_mask = (1u << M365_CAT_OPTIMIZE) | (1u << M365_CAT_ALLOW);
	p.match_ports = true;
	return p;
}

/* --- reading a record back ----------------------------------------------- */

static bool
lookup(const struct db *db, const char *ip, MMDB_lookup_result_s *r)
{
	int gai = 0, err = 0;

	*r = MMDB_lookup_string(&db->mmdb, ip, &gai, &err);
	if (gai != 0 || err != MMDB_SUCCESS)
		fail_msg("lookup %s: %s", ip, gai ? gai_strerror(gai) :
		    MMDB_strerror(err));
	return r->found_entry;
}

/* The value at path (NULL-terminated) of e, which must be of type. */
static MMDB_entry_data_s
value_of(MMDB_entry_s *e, uint32_t type, const char *const *path)
{
	MMDB_entry_data_s v;
	int rc = MMDB_aget_value(e, &v, path);

	if (rc != MMDB_SUCCESS || !v.has_data)
		fail_msg("no value at %s...: %s", path[0], MMDB_strerror(rc));
	if (v.type != type)
		fail_msg("%s %s: type %u, want %u", path[0], path[1] ? path[1] : "",
		    v.type, type);
	return v;
}

static void
cat_str(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = strlen(buf);

	snprintf(buf + o, size - o, "%.*s", (int)len, s);
}

/* Appends the array m365.key (of strings or uint32s) as "a,b". */
static void
cat_array(MMDB_entry_s *e, const char *key, uint32_t type, char *buf,
    size_t size)
{
	const char *path[] = { "m365", key, NULL, NULL };
	MMDB_entry_data_s a = value_of(e, MMDB_DATA_TYPE_ARRAY, path);
	char idx[16];

	for (uint32_t i = 0; i < a.data_size; i++) {
		MMDB_entry_data_s v;

		snprintf(idx, sizeof(idx), "%u", i);
		path[2] = idx;
		v = value_of(e, type, path);
		cat_str(buf, size, i ? "," : "", i ? 1 : 0);
		if (type == MMDB_DATA_TYPE_UINT32)
			snprintf(buf + strlen(buf), size - strlen(buf), "%u", v.uint32);
		else
			cat_str(buf, size, v.utf8_string, v.data_size);
	}
}

static void
cat_string(MMDB_entry_s *e, const char *const *path, char *buf, size_t size)
{
	MMDB_entry_data_s v = value_of(e, MMDB_DATA_TYPE_UTF8_STRING, path);

	cat_str(buf, size, v.utf8_string, v.data_size);
}

/* The record as "ASN|org|category|sets|service areas|tcp|udp|required|
 * express_route|version", checking every key's type and that the maps
 * hold exactly the keys written ("-" for a missing ASN). */
static void
record_text(MMDB_entry_s *e, char *buf, size_t size)
{
	static const char *const top[] = { NULL };
	static const char *const asn[] = { "autonomous_system_number", NULL };
	static const char *const org[] = { "autonomous_system_organization",
	    NULL };
	static const char *const m365[] = { "m365", NULL };
	static const char *const keys[] = { "category", "tcp_ports",
	    "udp_ports", "data_version" };
	MMDB_entry_data_s v = value_of(e, MMDB_DATA_TYPE_MAP, top);
	bool has_asn = v.data_size == 3;

	assert_true(v.data_size == 2 || v.data_size == 3);
	buf[0] = '\0';
	if (has_asn)
		snprintf(buf, size, "%u|",
		    value_of(e, MMDB_DATA_TYPE_UINT32, asn).uint32);
	else
		snprintf(buf, size, "-|");
	cat_string(e, org, buf, size);
	assert_int_equal(value_of(e, MMDB_DATA_TYPE_MAP, m365).data_size, 8);
	for (size_t i = 0; i < 4; i++) {
		const char *path[] = { "m365", keys[i], NULL };

		if (i == 1) {
			cat_str(buf, size, "|", 1);
			cat_array(e, "sets", MMDB_DATA_TYPE_UINT32, buf, size);
			cat_str(buf, size, "|", 1);
			cat_array(e, "service_areas", MMDB_DATA_TYPE_UTF8_STRING, buf,
			    size);
		}
		if (i == 3) {
			const char *req[] = { "m365", "required", NULL };
			const char *er[] = { "m365", "express_route", NULL };

			snprintf(buf + strlen(buf), size - strlen(buf), "|%d|%d",
			    value_of(e, MMDB_DATA_TYPE_BOOLEAN, req).boolean,
			    value_of(e, MMDB_DATA_TYPE_BOOLEAN, er).boolean);
		}
		cat_str(buf, size, "|", 1);
		cat_string(e, path, buf, size);
	}
}

/* --- hand-made data: every case of the tree and the record --------------- */

static const char small_json[] =
    "[{\"id\":1,\"serviceArea\":\"Exchange\",\"category\":\"Optimize\","
    "\"required\":true,\"expressRoute\":true,\"tcpPorts\":\"80,443\","
    "\"udpPorts\":\"3478-3481\",\"ips\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},"
    "{\"id\":2,\"serviceArea\":\"Skype\",\"category\":\"Allow\","
    "\"required\":false,\"expressRoute\":false,"
    "\"tcpPorts\":\"443,1000-1002\",\"ips\":[\"10.1.0.0/16\","
    "\"2001:db8:1::/48\",\"192.0.2.0/24\"]},"
    "{\"id\":3,\"serviceArea\":\"Common\",\"category\":\"Default\","
    "\"required\":false,\"expressRoute\":false,"
    "\"urls\":[\"*.example.com\"],\"ips\":[\"198.51.100.0/24\"]},"
    "{\"id\":4,\"serviceArea\":\"SharePoint\",\"category\":\"Allow\","
    "\"required\":true,\"expressRoute\":false,\"tcpPorts\":\"80\","
    "\"ips\":[\"198.51.100.128/25\"]}]";

#define OPT1 "8075|Microsoft 365 Optimize|optimize|1|Exchange|80,443|" \
	"3478-3481|1|1|unknown"
#define OPT12 "8075|Microsoft 365 Optimize|optimize|1,2|Exchange,Skype|" \
	"80,443,1000-1002|3478-3481|1|1|unknown"
#define ALLOW2 "8075|Microsoft 365 Allow|allow|2|Skype|443,1000-1002||0|0|" \
	"unknown"
#define ALLOW34 "8075|Microsoft 365 Allow|allow|3,4|Common,SharePoint|80||" \
	"1|0|unknown"
#define CUSTOM "-|m365-direct extra_direct|custom|||||0|0|unknown"

enum scenario {
	SC_POLICY,              /* default categories, extra and never */
	SC_OPTIMIZE,            /* optimize only */
	SC_DEFAULT,             /* default is direct too */
	SC_SKYPE,               /* service_areas = Skype */
	SC_REQUIRED,            /* required_only */
	SC_EXTRA_OVER_SET,      /* extra_direct over a set that is not direct */
	SC_EVERYTHING,          /* extra_direct ::/0 and 0.0.0.0/0 */
	SC_ALL_CUSTOM,          /* the same with no set counting: one record */
	SC_COUNT
};

static const char *const sc_names[] = { "extra and never", "optimize only",
	"default direct", "service_areas Skype", "required_only",
	"extra over a Default set", "extra ::/0 and 0.0.0.0/0",
	"all custom, no set" };

static char *sc_extra[] = { "203.0.113.0/24", "3fff::/20" };
static char *sc_never[] = { "10.1.2.0/24", "2001:db8:1:5::/64",
	"203.0.113.7" };
static char *sc_skype[] = { "Skype" };
static char *sc_nothing[] = { "Nothing" };
static char *sc_extra_default[] = { "198.51.100.0/25" };
static char *sc_everything[] = { "::/0", "0.0.0.0/0" };

static struct m365_policy
scenario_policy(enum scenario sc)
{
	struct m365_policy p = default_policy();

	switch (sc) {
	case SC_POLICY:
		p.extra_direct = (struct m365_strlist){ sc_extra, 2 };
		p.never_direct = (struct m365_strlist){ sc_never, 3 };
		break;
	case SC_OPTIMIZE:
		p.direct_mask = 1u << M365_CAT_OPTIMIZE;
		break;
	case SC_DEFAULT:
		p.direct_mask |= 1u << M365_CAT_DEFAULT;
		break;
	case SC_SKYPE:
		p.service_areas = (struct m365_strlist){ sc_skype, 1 };
		break;
	case SC_REQUIRED:
		p.required_only = true;
		break;
	case SC_EXTRA_OVER_SET:
		p.extra_direct = (struct m365_strlist){ sc_extra_default, 1 };
		break;
	case SC_ALL_CUSTOM:
		p.service_areas = (struct m365_strlist){ sc_nothing, 1 };
		/* FALLTHROUGH */
	case SC_EVERYTHING:
		p.extra_direct = (struct m365_strlist){ sc_everything, 2 };
		break;
	case SC_COUNT:
		break;
	}
	return p;
}

struct want {
	enum scenario sc;
	const char *ip;
	const char *record;             /* NULL: no record */
};

static const struct want wants[] = {
	/* an IPv4 prefix: first, last, just outside */
	{ SC_POLICY, "10.0.0.0", OPT1 },
	{ SC_POLICY, "10.255.255.255", OPT1 },
	{ SC_POLICY, "9.255.255.255", NULL },
	{ SC_POLICY, "11.0.0.0", NULL },
	/* nested: the sets of both prefixes, merged */
	{ SC_POLICY, "10.1.0.0", OPT12 },
	{ SC_POLICY, "10.1.255.255", OPT12 },
	{ SC_POLICY, "10.0.255.255", OPT1 },
	{ SC_POLICY, "10.2.0.0", OPT1 },
	/* never_direct carved out of a nested prefix */
	{ SC_POLICY, "10.1.2.0", NULL },
	{ SC_POLICY, "10.1.2.255", NULL },
	{ SC_POLICY, "10.1.1.255", OPT12 },
	{ SC_POLICY, "10.1.3.0", OPT12 },
	/* IPv4-mapped is IPv4; IPv4-compatible reads as IPv4 (a limit) */
	{ SC_POLICY, "::ffff:10.1.0.0", OPT12 },
	{ SC_POLICY, "::ffff:10.1.2.3", NULL },
	{ SC_POLICY, "::ffff:11.0.0.0", NULL },
	{ SC_POLICY, "::10.1.0.0", OPT12 },
	{ SC_POLICY, "::ffff:192.0.2.1", ALLOW2 },
	/* a set of its own; a Default prefix is not direct but a nested
	 * Allow one is, with the Default set in its record (as in check) */
	{ SC_POLICY, "192.0.2.0", ALLOW2 },
	{ SC_POLICY, "192.0.2.255", ALLOW2 },
	{ SC_POLICY, "192.0.3.0", NULL },
	{ SC_POLICY, "198.51.100.0", NULL },
	{ SC_POLICY, "198.51.100.127", NULL },
	{ SC_POLICY, "198.51.100.128", ALLOW34 },
	{ SC_POLICY, "198.51.100.255", ALLOW34 },
	/* extra_direct: custom, no ASN; never_direct inside it */
	{ SC_POLICY, "203.0.113.0", CUSTOM },
	{ SC_POLICY, "203.0.113.6", CUSTOM },
	{ SC_POLICY, "203.0.113.7", NULL },
	{ SC_POLICY, "203.0.113.8", CUSTOM },
	{ SC_POLICY, "203.0.114.0", NULL },
	{ SC_POLICY, "3fff::", CUSTOM },
	{ SC_POLICY, "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", CUSTOM },
	{ SC_POLICY, "3fff:1000::", NULL },
	/* IPv6, nested, carved */
	{ SC_POLICY, "2001:db8::", OPT1 },
	{ SC_POLICY, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", OPT1 },
	{ SC_POLICY, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ SC_POLICY, "2001:db9::", NULL },
	{ SC_POLICY, "2001:db8:1::", OPT12 },
	{ SC_POLICY, "2001:db8:1:4:ffff:ffff:ffff:ffff", OPT12 },
	{ SC_POLICY, "2001:db8:1:5::", NULL },
	{ SC_POLICY, "2001:db8:1:5:ffff:ffff:ffff:ffff", NULL },
	{ SC_POLICY, "2001:db8:1:6::", OPT12 },
	{ SC_POLICY, "2001:db8:2::", OPT1 },
	{ SC_POLICY, "::", NULL },
	{ SC_POLICY, "::1", NULL },
	{ SC_POLICY, "0.0.0.0", NULL },
	{ SC_POLICY, "255.255.255.255", NULL },
	{ SC_POLICY, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	/* the policy's categories and filters */
	{ SC_OPTIMIZE, "10.1.0.0", OPT12 },
	{ SC_OPTIMIZE, "192.0.2.1", NULL },
	{ SC_OPTIMIZE, "198.51.100.200", NULL },
	{ SC_DEFAULT, "198.51.100.1", "8075|Microsoft 365 Default|default|3|"
	    "Common|||0|0|unknown" },
	{ SC_DEFAULT, "198.51.100.200", ALLOW34 },
	{ SC_SKYPE, "10.1.0.0", ALLOW2 },
	{ SC_SKYPE, "10.0.0.1", NULL },
	{ SC_SKYPE, "2001:db8:1::1", ALLOW2 },
	{ SC_REQUIRED, "10.1.0.0", OPT1 },
	{ SC_REQUIRED, "192.0.2.1", NULL },
	{ SC_REQUIRED, "198.51.100.200", "8075|Microsoft 365 Allow|allow|4|"
	    "SharePoint|80||1|0|unknown" },
	/* extra_direct over a set that is not direct: custom, yet listed */
	{ SC_EXTRA_OVER_SET, "198.51.100.1", "8075|Microsoft 365 Default|"
	    "custom|3|Common|||0|0|unknown" },
	{ SC_EXTRA_OVER_SET, "198.51.100.200", ALLOW34 },
	/* ::/0 is written around ::/96 (IPv4) and ::ffff:0:0/96 */
	{ SC_EVERYTHING, "1.2.3.4", CUSTOM },
	{ SC_EVERYTHING, "::ffff:1.2.3.4", CUSTOM },
	{ SC_EVERYTHING, "::1.2.3.4", CUSTOM },
	{ SC_EVERYTHING, "::1:0:0", CUSTOM },
	{ SC_EVERYTHING, "::fffe:ffff:ffff", CUSTOM },
	{ SC_EVERYTHING, "::1:0:0:0", CUSTOM },
	{ SC_EVERYTHING, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CUSTOM },
	{ SC_EVERYTHING, "10.1.0.0", OPT12 },
	{ SC_EVERYTHING, "2001:db8:1::", OPT12 },
	{ SC_ALL_CUSTOM, "0.0.0.0", CUSTOM },
	{ SC_ALL_CUSTOM, "10.1.0.0", CUSTOM },
	{ SC_ALL_CUSTOM, "::", CUSTOM },
	{ SC_ALL_CUSTOM, "2001:db8::", CUSTOM },
};

static void
test_want(void **state)
{
	const struct want *w = *state;
	struct m365_data *d = parse_json(small_json);
	struct m365_policy p = scenario_policy(w->sc);
	MMDB_lookup_result_s r;
	char got[1024];
	struct db db;

	db_open(&db, d, &p, "m365-direct", "");
	if (lookup(&db, w->ip, &r))
		record_text(&r.entry, got, sizeof(got));
	db_close(&db);
	endpoints_free(d);
	if (w->record == NULL && r.found_entry)
		fail_msg("%s: want no record, got %s", w->ip, got);
	if (w->record != NULL && !r.found_entry)
		fail_msg("%s: want %s, got no record", w->ip, w->record);
	if (w->record != NULL)
		assert_string_equal(got, w->record);
}

/* --- the file as a whole ------------------------------------------------- */

static void
test_metadata(void **state)
{
	struct m365_data *d = parse_json(small_json);
	struct m365_policy p = scenario_policy(SC_POLICY);
	const MMDB_metadata_s *m;
	struct db db;

	(void)state;
	db_open(&db, d, &p, "m365-direct", "2025012800");
	m = &db.mmdb.metadata;
	assert_int_equal(m->binary_format_major_version, 2);
	assert_int_equal(m->binary_format_minor_version, 0);
	assert_int_equal(m->ip_version, 6);
	assert_int_equal(m->record_size, 24);
	assert_true(m->node_count > 0);
	assert_true(m->build_epoch == 1738022400u);      /* 2025-01-28 */
	assert_string_equal(m->database_type, "m365-direct");
	assert_int_equal(m->languages.count, 1);
	assert_string_equal(m->languages.names[0], "en");
	assert_int_equal(m->description.count, 1);
	assert_string_equal(m->description.descriptions[0]->language, "en");
	assert_non_null(strstr(m->description.descriptions[0]->description,
	    "Generated by m365-direct"));
	assert_non_null(strstr(m->description.descriptions[0]->description,
	    "Data: Worldwide version 2025012800 (--data test.json)"));
	assert_non_null(strstr(m->description.descriptions[0]->description,
	    "IPv4 at ::/96"));
	/* the version reaches the records too */
	{
		static const char *const path[] = { "m365", "data_version", NULL };
		MMDB_lookup_result_s r;

		assert_true(lookup(&db, "10.0.0.1", &r));
		assert_memory_equal(value_of(&r.entry, MMDB_DATA_TYPE_UTF8_STRING,
		    path).utf8_string, "2025012800", 10);
	}
	db_close(&db);

	/* another type; and a version that is no date: the fixed epoch */
	db_open(&db, d, &p, "GeoLite2-ASN", "unknown");
	assert_string_equal(db.mmdb.metadata.database_type, "GeoLite2-ASN");
	assert_true(db.mmdb.metadata.build_epoch == 1);
	db_close(&db);
	endpoints_free(d);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Same data and policy, byte-identical files; identical records once. */
static void
test_deterministic(void **state)
{
	struct m365_data *d = suite_load("worldwide-c2025.json");
	struct m365_policy p = default_policy();
	struct db a, b;
	char err[1024];
	size_t la, lb;
	char *fa, *fb;

	(void)state;
	assert_int_equal(db_write(&a, d, &p, "m365-direct", "", err,
	    sizeof(err)), 0);
	assert_int_equal(db_write(&b, d, &p, "m365-direct", "", err,
	    sizeof(err)), 0);
	fa = slurp(a.path, &la);
	fb = slurp(b.path, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(fa, fb, la);
	free(fa);
	free(fb);
	db_remove(&a);
	db_remove(&b);
	endpoints_free(d);
}

static void
test_dedup(void **state)
{
	struct m365_data *d = parse_json(small_json);
	struct m365_policy p = scenario_policy(SC_POLICY);
	MMDB_lookup_result_s r1, r2, r3;
	struct db db;

	(void)state;
	db_open(&db, d, &p, "m365-direct", "");
	/* set 1 alone, in 10.0.0.0/8 and in 2001:db8::/32 */
	assert_true(lookup(&db, "10.0.0.0", &r1));
	assert_true(lookup(&db, "2001:db8::", &r2));
	assert_true(lookup(&db, "10.1.0.0", &r3));
	assert_int_equal(r1.entry.offset, r2.entry.offset);
	assert_true(r1.entry.offset != r3.entry.offset);
	db_close(&db);
	endpoints_free(d);
}

/* No direct address at all: a valid file in which nothing is found. */
static void
test_empty(void **state)
{
	struct m365_data *d = parse_json(small_json);
	struct m365_policy p = default_policy();
	static const char *const ips[] = { "10.0.0.0", "::", "2001:db8::",
	    "::ffff:10.0.0.0" };
	MMDB_lookup_result_s r;
	struct db db;

	(void)state;
	p.service_areas = (struct m365_strlist){ sc_nothing, 1 };
	db_open(&db, d, &p, "m365-direct", "");
	assert_int_equal(db.mmdb.metadata.node_count, 1);
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
		assert_false(lookup(&db, ips[i], &r));
	db_close(&db);
	endpoints_free(d);
}

static void
test_bad_type(void **state)
{
	static const char *const bad[] = { "", "has space", "caf\xc3\xa9",
	    "semi;colon" };
	struct m365_data *d = parse_json(small_json);
	struct m365_policy p = default_policy();
	char err[1024], long_type[300];
	struct db db;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) + 1; i++) {
		const char *t = bad[0];

		if (i < sizeof(bad) / sizeof(bad[0])) {
			t = bad[i];
		} else {
			memset(long_type, 'a', sizeof(long_type) - 1);
			long_type[sizeof(long_type) - 1] = '\0';
			t = long_type;
		}
		err[0] = '\0';
		assert_int_equal(db_write(&db, d, &p, t, "", err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--database-type"));
		assert_int_equal(access(db.path, F_OK), -1);
		db_remove(&db);
	}
	endpoints_free(d);
}

/* Records past 2^24 - nodes bytes of data need 28-bit records: 2000 sets
 * share 2001:db8::/32, each of 3000 more lists one /128 in it, so each
 * of those addresses has a record of its own of some 6 KB. */
static void
test_record_28(void **state)
{
	size_t cap = 400000, o = 0;
	char *json = malloc(cap), idx[16];
	struct m365_policy p = default_policy();
	const char *path[] = { "m365", "sets", NULL, NULL };
	MMDB_lookup_result_s r;
	struct m365_data *d;
	struct db db;

	(void)state;
	assert_non_null(json);
	o += (size_t)snprintf(json + o, cap - o, "[");
	for (int i = 1; i <= 2000; i++)
		o += (size_t)snprintf(json + o, cap - o, "%s{\"id\":%d,\"category\":"
		    "\"Optimize\",\"ips\":[\"2001:db8::/32\"]}", i > 1 ? "," : "", i);
	for (int i = 0; i < 3000; i++)
		o += (size_t)snprintf(json + o, cap - o, ",{\"id\":%d,\"category\":"
		    "\"Allow\",\"ips\":[\"2001:db8::%x/128\"]}", 10000 + i, i);
	snprintf(json + o, cap - o, "]");
	assert_true(o + 2 < cap);
	d = parse_json(json);
	free(json);
	db_open(&db, d, &p, "m365-direct", "");
	assert_int_equal(db.mmdb.metadata.record_size, 28);
	assert_true(lookup(&db, "2001:db8::bb7", &r));
	assert_int_equal(value_of(&r.entry, MMDB_DATA_TYPE_ARRAY, path).data_size,
	    2001);
	snprintf(idx, sizeof(idx), "%d", 2000);
	path[2] = idx;
	assert_int_equal(value_of(&r.entry, MMDB_DATA_TYPE_UINT32, path).uint32,
	    10000 + 0xbb7);
	path[2] = NULL;
	assert_true(lookup(&db, "2001:db8::bb8", &r));
	assert_int_equal(value_of(&r.entry, MMDB_DATA_TYPE_ARRAY, path).data_size,
	    2000);
	assert_false(lookup(&db, "2001:db9::", &r));
	assert_false(lookup(&db, "10.0.0.1", &r));
	db_close(&db);
	endpoints_free(d);
}

/* A tree past its bound fails with "too large" and writes nothing:
 * 40,000 scattered host prefixes need some 4.5 million nodes. */
static void
test_too_large(void **state)
{
	struct m365_data *d = parse_json(small_json);
	struct m365_policy p = default_policy();
	size_t n = 40000;
	char **v = calloc(n, sizeof(*v)), err[1024] = "";
	struct suite_rng rng = { 42 };
	struct db db;

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = suite_rng_next(&rng);

		v[i] = malloc(64);
		assert_non_null(v[i]);
		snprintf(v[i], 64, "2%03x:%x:%x:%x::%x", (unsigned)(x & 0xfff),
		    (unsigned)(x >> 12 & 0xffff), (unsigned)(x >> 28 & 0xffff),
		    (unsigned)(x >> 44 & 0xffff), (unsigned)i);
	}
	p.extra_direct = (struct m365_strlist){ v, n };
	assert_int_equal(db_write(&db, d, &p, "m365-direct", "", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	assert_int_equal(access(db.path, F_OK), -1);
	db_remove(&db);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	endpoints_free(d);
}

/* --- the real data against the matcher ----------------------------------- */

static void
addr_text(const struct ip_addr *a, char *out, size_t size, bool as_v4)
{
	unsigned char b[16];

	for (int i = 0; i < 8; i++) {
		b[7 - i] = (unsigned char)(a->hi >> (8 * i));
		b[15 - i] = (unsigned char)(a->lo >> (8 * i));
	}
	if (as_v4)
		inet_ntop(AF_INET, b + 12, out, (socklen_t)size);
	else
		inet_ntop(AF_INET6, b, out, (socklen_t)size);
}

struct oracle {
	const struct m365_rules *r;
	const struct db *db;
	size_t checked;
};

/* What the record should say, from the matcher: "category|sets|asn". */
static void
expected(const struct m365_verdict *v, char *buf, size_t size)
{
	int ids[M365_VERDICT_MATCHES];
	size_t n = matcher_verdict_sets(v, ids, M365_VERDICT_MATCHES), o;

	for (size_t i = 1; i < n; i++)          /* ascending, as written */
		for (size_t k = i; k > 0 && ids[k - 1] > ids[k]; k--) {
			int t = ids[k];

			ids[k] = ids[k - 1];
			ids[k - 1] = t;
		}
	o = (size_t)snprintf(buf, size, "%s|", v->custom ? "custom" :
	    matcher_category_name(v->category));
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%d", i ? "," : "",
		    ids[i]);
	snprintf(buf + o, size - o, "|%s", n ? "8075" : "-");
}

static void
found_text(MMDB_entry_s *e, char *buf, size_t size)
{
	char rec[8192];
	const char *f[10];
	char *s = rec;

	record_text(e, rec, sizeof(rec));
	for (int i = 0; i < 10; i++) {
		f[i] = s;
		s = strchr(s, '|');
		if (s != NULL)
			*s++ = '\0';
		else if (i < 9)
			fail_msg("record %s: too few fields", rec);
	}
	snprintf(buf, size, "%s|%s|%s", f[2], f[3], f[0]);
}

/* Looks up query (as the matcher sees it: mquery) in both. */
static void
agree(struct oracle *o, const char *query, const char *mquery)
{
	struct m365_verdict v;
	MMDB_lookup_result_s r;
	char want[1024], got[1024];

	matcher_lookup(o->r, mquery, strlen(mquery), -1, &v);
	o->checked++;
	if (lookup(o->db, query, &r) != v.direct)
		fail_msg("%s: matcher says %s, the MMDB %s a record", query,
		    v.direct ? "direct" : "proxy", r.found_entry ? "has" : "has no");
	if (!v.direct)
		return;
	expected(&v, want, sizeof(want));
	found_text(&r.entry, got, sizeof(got));
	if (strcmp(want, got) != 0)
		fail_msg("%s: matcher says %s, the MMDB %s", query, want, got);
}

/* a, as IPv4 (with its mapped and compatible forms) or IPv6. */
static void
agree_addr(struct oracle *o, const struct ip_addr *a)
{
	char text[64], other[80];

	if (!ip_is_v4_mapped(a)) {
		addr_text(a, text, sizeof(text), false);
		if (a->hi == 0 && a->lo >> 32 == 0)
			return;         /* IPv4-compatible: a stated limit */
		agree(o, text, text);
		return;
	}
	addr_text(a, text, sizeof(text), true);
	agree(o, text, text);
	snprintf(other, sizeof(other), "::ffff:%s", text);
	agree(o, other, text);
	snprintf(other, sizeof(other), "::%s", text);
	agree(o, other, text);
}

static void
agree_prefix(struct oracle *o, const struct ip_prefix *p,
    struct suite_rng *rng)
{
	struct ip_addr first, last, x;

	prefix_range(p, &first, &last);
	agree_addr(o, &first);
	agree_addr(o, &last);
	x = first;
	if (x.lo-- == 0)
		x.hi--;
	if (!(first.hi == 0 && first.lo == 0))
		agree_addr(o, &x);
	x = last;
	if (++x.lo == 0)
		x.hi++;
	if (!(x.hi == 0 && x.lo == 0))
		agree_addr(o, &x);
	for (int i = 0; i < 4; i++) {
		x.hi = first.hi | (suite_rng_next(rng) & (last.hi ^ first.hi));
		x.lo = first.lo | (suite_rng_next(rng) & (last.lo ^ first.lo));
		agree_addr(o, &x);
	}
}

enum real_policy {
	RP_DEFAULT, RP_OPTIMIZE, RP_EXCHANGE, RP_REQUIRED, RP_ENTRIES,
	RP_COUNT
};

static const char *const rp_names[] = { "default policy", "optimize only",
	"Exchange only", "required only", "extra and never entries" };
static const char *const real_files[] = { "worldwide-c2025.json",
	"worldwide-c2022.json", "china-c2025.json" };
static char *rp_exchange[] = { "Exchange" };
/* inside and around Microsoft's prefixes of the three files */
static char *rp_never[] = { "13.107.6.153", "52.112.0.0/16",
	"2603:1006::/48", "40.72.0.0/16", "132.245.0.0/24" };
static char *rp_extra[] = { "192.0.2.0/24", "13.107.6.0/24",
	"2001:db8::/32", "2603:1006:2000::/48" };

static struct m365_policy
real_policy(enum real_policy rp)
{
	struct m365_policy p = default_policy();

	if (rp == RP_OPTIMIZE)
		p.direct_mask = 1u << M365_CAT_OPTIMIZE;
	if (rp == RP_EXCHANGE)
		p.service_areas = (struct m365_strlist){ rp_exchange, 1 };
	if (rp == RP_REQUIRED)
		p.required_only = true;
	if (rp == RP_ENTRIES) {
		p.never_direct = (struct m365_strlist){ rp_never, 5 };
		p.extra_direct = (struct m365_strlist){ rp_extra, 4 };
	}
	return p;
}

static void
agree_list(struct oracle *o, const struct m365_strlist *l,
    struct suite_rng *rng)
{
	for (size_t i = 0; i < l->n; i++) {
		struct ip_prefix px;
		const char *why;

		assert_int_equal(prefix_parse(l->v[i], strlen(l->v[i]), true, &px,
		    &why), 0);
		agree_prefix(o, &px, rng);
	}
}

static void
test_real(void **state)
{
	uintptr_t k = (uintptr_t)*state;
	const char *file = real_files[k / RP_COUNT];
	struct m365_policy p = real_policy((enum real_policy)(k % RP_COUNT));
	struct m365_data *d = suite_load(file), *owned = suite_load(file);
	struct suite_rng rng = { k };
	struct m365_rules *r;
	struct oracle o;
	char err[1024];
	struct db db;

	r = matcher_compile(owned, &p, err, sizeof(err));
	if (r == NULL)
		fail_msg("matcher_compile: %s", err);
	db_open(&db, d, &p, "m365-direct", "");
	o = (struct oracle){ r, &db, 0 };
	for (size_t s = 0; s < d->n_sets; s++)
		for (size_t i = 0; i < d->sets[s].n_ips; i++)
			agree_prefix(&o, &d->sets[s].ips[i], &rng);
	agree_list(&o, &p.never_direct, &rng);
	agree_list(&o, &p.extra_direct, &rng);
	assert_true(o.checked > 1000);
	db_close(&db);
	matcher_free(r);
	endpoints_free(d);
}

/* --- the reader for export-mmdb.t ---------------------------------------- */

static int
lookup_main(const char *path)
{
	static const char *const cat[] = { "m365", "category", NULL };
	char line[256];
	MMDB_s mmdb;
	int rc = MMDB_open(path, MMDB_MODE_MMAP, &mmdb);

	if (rc != MMDB_SUCCESS) {
		fprintf(stderr, "test_mmdb: %s: %s\n", path, MMDB_strerror(rc));
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		MMDB_lookup_result_s r;
		MMDB_entry_data_s v;
		int gai = 0, err = 0;

		line[strcspn(line, "\r\n")] = '\0';
		r = MMDB_lookup_string(&mmdb, line, &gai, &err);
		if (gai != 0 || err != MMDB_SUCCESS)
			printf("%s\terror: %s\n", line, gai ? gai_strerror(gai) :
			    MMDB_strerror(err));
		else if (!r.found_entry)
			printf("%s\t-\n", line);
		else if (MMDB_aget_value(&r.entry, &v, cat) != MMDB_SUCCESS ||
		    v.type != MMDB_DATA_TYPE_UTF8_STRING)
			printf("%s\terror: no m365.category\n", line);
		else
			printf("%s\t%.*s\n", line, (int)v.data_size, v.utf8_string);
	}
	MMDB_close(&mmdb);
	return 0;
}

int
main(int argc, char **argv)
{
	struct suite s = { 0 };

	if (argc == 3 && strcmp(argv[1], "--lookup") == 0)
		return lookup_main(argv[2]);
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
		suite_add(&s, test_want, (void *)&wants[i], "%s: %s -> %s",
		    sc_names[wants[i].sc], wants[i].ip,
		    wants[i].record ? wants[i].record : "no record");
	suite_add(&s, test_metadata, NULL, "metadata: format 2.0, IPv6, "
	    "24-bit, epoch of the version, type, description");
	suite_add(&s, test_deterministic, NULL, "same data, same bytes");
	suite_add(&s, test_dedup, NULL, "identical records are stored once");
	suite_add(&s, test_empty, NULL, "no direct address: a valid, empty "
	    "database");
	suite_add(&s, test_bad_type, NULL, "a bad --database-type writes "
	    "nothing");
	suite_add(&s, test_record_28, NULL, "18 MB of records: 28-bit records");
	suite_add(&s, test_too_large, NULL, "past the node bound: too large, "
	    "nothing written");
	for (uintptr_t k = 0; k < 3 * RP_COUNT; k++)
		suite_add(&s, test_real, (void *)k, "%s, %s: every prefix's edges "
		    "and 4 inner addresses agree with the matcher",
		    real_files[k / RP_COUNT], rp_names[k % RP_COUNT]);
	return suite_run(&s, "mmdb");
}
