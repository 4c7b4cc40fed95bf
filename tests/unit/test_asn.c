/* test_asn.c - the ASN cross-check (feed/asn.c, feed/asn_check.c) against
 * MaxMind DBs that MaxMind's own writer builds here, at test time
 * (tests/tools/asn_mmdb.pl, MaxMind::DB::Writer::Tree), from the real
 * IP-to-ASN rows of tests/data/asn/ (IP to ASN data by DB-IP (db-ip.com),
 * RouteViews and NRO, CC BY 4.0) and edge rows this test writes in
 * documentation and benchmark space: ip_version 6 (IPv4 at ::/96,
 * ::ffff:0:0/96 aliased to it) with 24- and 28-bit records, ip_version 4
 * with 24- and 28-bit records.
 *
 * The walk is cross-checked against the CSV rows themselves (an
 * independent reference): for every Optimize/Allow prefix of the three
 * real feeds, in every database, the parts must tile the prefix exactly
 * and each part must lie in one row with that row's AS, or in no row.
 * Then the edges: block boundaries, /32 and /128, the end of the IPv4 and
 * IPv6 spaces, gaps, AS 0, a record without an AS number, the cap; and
 * the check of whole feeds: the real ones pass under their instance's
 * defaults, an injected foreign prefix, a prefix partly foreign, warn,
 * off, China, extra_direct, an unreadable database. */
#define _XOPEN_SOURCE 700       /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asn.h"
#include "asn_check.h"
#include "endpoints.h"
#include "prefix.h"

#define N_SPREAD 4200           /* /32 rows of alternating AS: past the cap */
#define MAX_PARTS 8192

/* --- the fixture: databases built by MaxMind's writer -------------------- */

struct db_kind {
	const char *name;
	int ip_version, record_size;
	char path[512];
	struct asn_db *db;
};

static struct db_kind dbs[] = {
	{ "v6-28", 6, 28, "", NULL },
	{ "v6-24", 6, 24, "", NULL },
	{ "v4-24", 4, 24, "", NULL },
	{ "v4-28", 4, 28, "", NULL },
};

#define N_DBS (sizeof(dbs) / sizeof(dbs[0]))

static char tmpdir[] = "/tmp/m365-asn-XXXXXX";
static char edges_csv[600], fixture_error[1024];

/* The edge rows: only documentation, benchmark and reserved space, which
 * no real row touches.  Each is used by a test below. */
static const char edges[] =
    "198.51.100.0,198.51.100.127,8075,MICROSOFT-CORP-MSN-AS-BLOCK\n"
    "198.51.100.128,198.51.100.191,15169,GOOGLE\n"
    "198.51.100.192,198.51.100.254,8075,MICROSOFT-CORP-MSN-AS-BLOCK\n"
    "198.51.100.255,198.51.100.255,13335,CLOUDFLARENET\n"
    "203.0.113.0,203.0.113.63,8068,MICROSOFT-CORP-AS\n"
    "203.0.113.128,203.0.113.255,8068,MICROSOFT-CORP-AS\n"
    "192.0.2.7,192.0.2.7,8075,MICROSOFT-CORP-MSN-AS-BLOCK\n"
    "192.0.2.8,192.0.2.8,8075,\"Micr\xc3\xb6soft \"\"quoted\"\", back\\slash\"\n"
    "192.0.2.64,192.0.2.127,-,a record without an AS number\n"
    "192.0.2.128,192.0.2.255,0,not routed\n"
    "255.255.255.0,255.255.255.255,64500,\"END, OF IPV4\"\n"
    "2001:db8:1::,2001:db8:1::4,8075,MICROSOFT-CORP-MSN-AS-BLOCK\n"
    "2001:db8:1::5,2001:db8:1::5,3356,LEVEL3\n"
    "2001:db8:1::6,2001:db8:1:ffff:ffff:ffff:ffff:ffff,8075,MICROSOFT-CORP-MSN-AS-BLOCK\n"
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00,"
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,64501,END OF IPV6\n";

static int
write_edges(void)
{
	FILE *f;

	snprintf(edges_csv, sizeof(edges_csv), "%s/edges.csv", tmpdir);
	if ((f = fopen(edges_csv, "w")) == NULL)
		return -1;
	fputs(edges, f);
	/* 198.18.0.0 + i: one /32 each, AS8068 and AS8075 in turn, so no
	 * two neighbours can merge: 198.18.0.0/16 has more blocks than the
	 * cap, every one of them trusted */
	for (unsigned i = 0; i < N_SPREAD; i++)
		fprintf(f, "198.18.%u.%u,198.18.%u.%u,%u,MICROSOFT\n", i >> 8,
		    i & 255, i >> 8, i & 255, i % 2 ? 8075 : 8068);
	return fclose(f);
}

/* Runs the writer (no shell) for one database. */
static int
build_db(struct db_kind *k)
{
	char ipv[8], rs[8], script[512], v4[512], v6[512];
	pid_t pid;
	int status;

	snprintf(k->path, sizeof(k->path), "%s/%s.mmdb", tmpdir, k->name);
	snprintf(ipv, sizeof(ipv), "%d", k->ip_version);
	snprintf(rs, sizeof(rs), "%d", k->record_size);
	snprintf(script, sizeof(script), "%s/../tools/asn_mmdb.pl",
	    suite_data_dir());
	snprintf(v4, sizeof(v4), "%s/asn/asn-ipv4.csv", suite_data_dir());
	snprintf(v6, sizeof(v6), "%s/asn/asn-ipv6.csv", suite_data_dir());
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execlp("perl", "perl", script, "--ip-version", ipv,
		    "--record-size", rs, "-o", k->path, v4, v6, edges_csv,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

static int
fixture_up(void)
{
	char err[512];

	if (mkdtemp(tmpdir) == NULL || write_edges() != 0) {
		snprintf(fixture_error, sizeof(fixture_error), "%s: %s",
		    tmpdir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < N_DBS; i++) {
		if (build_db(&dbs[i]) != 0) {
			snprintf(fixture_error, sizeof(fixture_error),
			    "tests/tools/asn_mmdb.pl could not build %s (is "
			    "libmaxmind-db-writer-perl installed? make deps)",
			    dbs[i].path);
			return -1;
		}
		if ((dbs[i].db = asn_db_open(dbs[i].path, err,
		    sizeof(err))) == NULL) {
			snprintf(fixture_error, sizeof(fixture_error), "%s", err);
			return -1;
		}
	}
	return 0;
}

static int
remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
fixture_down(void)
{
	for (size_t i = 0; i < N_DBS; i++)
		asn_db_close(dbs[i].db);
	if (!getenv("M365_KEEP"))
		nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
test_fixture_failed(void **state)
{
	(void)state;
	fail_msg("%s", fixture_error);
}

/* --- the reference: the CSV rows ------------------------------------------ */

struct row {
	struct ip_addr first, last;
	long asn;                       /* -1: a record without one */
};

static struct row *rows;
static size_t n_rows;

static int
cmp_row(const void *a, const void *b)
{
	return ip_cmp(&((const struct row *)a)->first,
	    &((const struct row *)b)->first);
}

/* Reads "first,last,asn," from each line of path. */
static void
load_rows(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *a = line, *b = strchr(a, ','), *c = NULL;

		if (b != NULL)
			c = strchr(b + 1, ',');
		if (c == NULL)
			fail_msg("%s: bad line %s", path, line);
		*b++ = '\0';
		*c = '\0';
		rows = realloc(rows, (n_rows + 1) * sizeof(*rows));
		assert_non_null(rows);
		rows[n_rows].first = suite_addr(a);
		rows[n_rows].last = suite_addr(b);
		rows[n_rows].asn = c[1] == '-' ? -1 : strtol(c + 1, NULL, 10);
		n_rows++;
	}
	fclose(f);
}

static void
load_reference(void)
{
	char path[600];

	if (rows != NULL)
		return;
	snprintf(path, sizeof(path), "%s/asn/asn-ipv4.csv", suite_data_dir());
	load_rows(path);
	snprintf(path, sizeof(path), "%s/asn/asn-ipv6.csv", suite_data_dir());
	load_rows(path);
	load_rows(edges_csv);
	qsort(rows, n_rows, sizeof(*rows), cmp_row);
}

/* The row holding a, or NULL. */
static const struct row *
row_of(const struct ip_addr *a)
{
	size_t lo = 0, hi = n_rows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ip_cmp(&rows[mid].first, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && ip_cmp(a, &rows[lo - 1].last) <= 0)
		return &rows[lo - 1];
	return NULL;
}

/* Whether a row overlaps [a, b]. */
static bool
row_overlaps(const struct ip_addr *a, const struct ip_addr *b)
{
	for (size_t i = 0; i < n_rows; i++)
		if (ip_cmp(&rows[i].first, b) <= 0 &&
		    ip_cmp(&rows[i].last, a) >= 0)
			return true;
	return false;
}

/* --- walking ------------------------------------------------------------- */

struct part {
	struct ip_addr first, last;
	struct asn_origin o;
};

struct parts {
	struct part v[MAX_PARTS];
	size_t n;
};

static void
keep_part(const struct asn_part *p, void *arg)
{
	struct parts *ps = arg;

	assert_true(ps->n < MAX_PARTS);
	ps->v[ps->n].first = p->first;
	ps->v[ps->n].last = p->last;
	ps->v[ps->n].o = *p->origin;
	ps->n++;
}

static struct parts parts;

static enum asn_walk
walk(const struct db_kind *k, const char *prefix, size_t max)
{
	struct ip_prefix p;
	const char *why;
	char err[512] = "";
	size_t n = 99;
	enum asn_walk st;

	if (prefix_parse(prefix, strlen(prefix), false, &p, &why) != 0)
		fail_msg("test table: %s: %s", prefix, why);
	parts.n = 0;
	st = asn_walk_prefix(k->db, &p, max, keep_part, &parts, &n, err,
	    sizeof(err));
	assert_int_equal(n, parts.n);
	if (st == ASN_WALK_ERROR)
		assert_true(err[0] != '\0');
	return st;
}

static struct ip_addr
next_addr(struct ip_addr a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

/* The parts tile p exactly, and each lies in one row with its AS (or in
 * no row, unknown). */
static void
check_tiling(const struct db_kind *k, const struct ip_prefix *p,
    const char *text)
{
	struct ip_addr first, last;

	prefix_range(p, &first, &last);
	if (parts.n == 0)
		fail_msg("%s %s: no parts", k->name, text);
	if (ip_cmp(&parts.v[0].first, &first) != 0 ||
	    ip_cmp(&parts.v[parts.n - 1].last, &last) != 0)
		fail_msg("%s %s: the parts do not start and end with it",
		    k->name, text);
	for (size_t i = 0; i < parts.n; i++) {
		const struct part *pt = &parts.v[i];
		const struct row *r = row_of(&pt->first);
		struct ip_addr nx = next_addr(i > 0 ? parts.v[i - 1].last :
		    first);

		if (i > 0 && ip_cmp(&nx, &pt->first) != 0)
			fail_msg("%s %s: a gap or overlap before part %zu",
			    k->name, text, i);
		if (ip_cmp(&pt->first, &pt->last) > 0)
			fail_msg("%s %s: part %zu ends before it starts",
			    k->name, text, i);
		if (r != NULL && r->asn == 0) {         /* AS 0: no origin */
			if (pt->o.known || ip_cmp(&pt->last, &r->last) > 0)
				fail_msg("%s %s: part %zu: AS 0 is no origin",
				    k->name, text, i);
		} else if (r == NULL) {
			if (pt->o.known || row_overlaps(&pt->first, &pt->last))
				fail_msg("%s %s: part %zu: the rows say "
				    "unknown, partly or whole", k->name, text, i);
		} else if (ip_cmp(&pt->last, &r->last) > 0 || !pt->o.known ||
		    (long)pt->o.asn != r->asn) {
			fail_msg("%s %s: part %zu: AS%u (known %d), the row says "
			    "AS%ld up to its own end", k->name, text, i,
			    pt->o.asn, pt->o.known, r->asn);
		}
	}
}

/* Every Optimize/Allow prefix of the three feeds, in every database. */
static void
test_walk_real(void **state)
{
	const char *file = *state;
	struct m365_data *d = suite_load(file);
	size_t checked = 0;

	load_reference();
	for (size_t i = 0; i < N_DBS; i++) {
		const struct db_kind *k = &dbs[i];

		for (size_t s = 0; s < d->n_sets; s++) {
			const struct m365_set *set = &d->sets[s];

			if (set->category == M365_CAT_DEFAULT)
				continue;
			for (size_t j = 0; j < set->n_ips; j++) {
				enum asn_walk st = walk(k, set->ip_texts[j],
				    MAX_PARTS);

				if (!set->ips[j].v4 && k->ip_version == 4) {
					assert_int_equal(st, ASN_WALK_NO_V6);
					assert_int_equal(parts.n, 0);
					continue;
				}
				assert_int_equal(st, ASN_WALK_DONE);
				check_tiling(k, &set->ips[j], set->ip_texts[j]);
				checked++;
			}
		}
	}
	assert_true(checked > 100);
	endpoints_free(d);
}

/* One walk's runs of one AS as "first-last:AS" (":-" unknown), merged,
 * must be want; in every database that holds the family. */
struct edge_case {
	const char *prefix;
	const char *want;               /* runs, space-separated */
	size_t min_parts;               /* blocks at least (not merged) */
};

static const struct edge_case edge_cases[] = {
	/* boundaries inside a /24: trusted, foreign, trusted, /32 foreign */
	{ "198.51.100.0/24", "198.51.100.0-198.51.100.127:8075 "
	    "198.51.100.128-198.51.100.191:15169 "
	    "198.51.100.192-198.51.100.254:8075 "
	    "198.51.100.255-198.51.100.255:13335", 9 },
	/* the foreign block alone, and its first and last addresses */
	{ "198.51.100.128/26", "198.51.100.128-198.51.100.191:15169", 1 },
	{ "198.51.100.128/32", "198.51.100.128-198.51.100.128:15169", 1 },
	{ "198.51.100.191/32", "198.51.100.191-198.51.100.191:15169", 1 },
	{ "198.51.100.127/32", "198.51.100.127-198.51.100.127:8075", 1 },
	{ "198.51.100.255/32", "198.51.100.255-198.51.100.255:13335", 1 },
	/* a prefix inside one block: one lookup */
	{ "198.51.100.16/28", "198.51.100.16-198.51.100.31:8075", 1 },
	/* a gap in the middle */
	{ "203.0.113.0/24", "203.0.113.0-203.0.113.63:8068 "
	    "203.0.113.64-203.0.113.127:- "
	    "203.0.113.128-203.0.113.255:8068", 3 },
	/* a /32 record among gaps, and the gap beside it */
	{ "192.0.2.7/32", "192.0.2.7-192.0.2.7:8075", 1 },
	{ "192.0.2.6/32", "192.0.2.6-192.0.2.6:-", 1 },
	{ "192.0.2.0/29", "192.0.2.0-192.0.2.6:- 192.0.2.7-192.0.2.7:8075", 2 },
	/* AS 0 is no origin */
	{ "192.0.2.128/25", "192.0.2.128-192.0.2.255:-", 1 },
	/* the end of the IPv4 space: no wrap */
	{ "255.255.255.0/24", "255.255.255.0-255.255.255.255:64500", 1 },
	{ "255.255.255.255/32", "255.255.255.255-255.255.255.255:64500", 1 },
	{ "255.255.254.0/23", "255.255.254.0-255.255.254.255:- "
	    "255.255.255.0-255.255.255.255:64500", 2 },
	/* IPv6: a /128 inside a /48 of another AS */
	{ "2001:db8:1::5/128", "2001:db8:1::5-2001:db8:1::5:3356", 1 },
	{ "2001:db8:1::4/128", "2001:db8:1::4-2001:db8:1::4:8075", 1 },
	{ "2001:db8:1::/120", "2001:db8:1::-2001:db8:1::4:8075 "
	    "2001:db8:1::5-2001:db8:1::5:3356 "
	    "2001:db8:1::6-2001:db8:1::ff:8075", 3 },
	{ "2001:db8::/47", "2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff:- "
	    "2001:db8:1::-2001:db8:1::4:8075 2001:db8:1::5-2001:db8:1::5:3356 "
	    "2001:db8:1::6-2001:db8:1:ffff:ffff:ffff:ffff:ffff:8075", 4 },
	/* the end of the IPv6 space */
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00-"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:64501", 1 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff-"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:64501", 1 },
	/* IPv4 written as IPv4-mapped IPv6 is IPv4 */
	{ "::ffff:198.51.100.128/122", "198.51.100.128-198.51.100.191:15169", 1 },
};

static void
addr_text(const struct ip_addr *a, char *buf, size_t size)
{
	unsigned char b[16];

	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(a->hi >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(a->lo >> (56 - 8 * i));
	}
	if (ip_is_v4_mapped(a))
		inet_ntop(AF_INET, b + 12, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, b, buf, (socklen_t)size);
}

/* The walk's parts as merged runs, in edge_case's notation. */
static void
runs_text(char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < parts.n; ) {
		size_t j = i + 1;
		char a[64], b[64], as[16];

		while (j < parts.n && parts.v[j].o.known == parts.v[i].o.known &&
		    parts.v[j].o.asn == parts.v[i].o.asn)
			j++;
		addr_text(&parts.v[i].first, a, sizeof(a));
		addr_text(&parts.v[j - 1].last, b, sizeof(b));
		if (parts.v[i].o.known)
			snprintf(as, sizeof(as), "%u", parts.v[i].o.asn);
		else
			snprintf(as, sizeof(as), "-");
		o += (size_t)snprintf(buf + o, size - o, "%s%s-%s:%s",
		    o ? " " : "", a, b, as);
		assert_true(o < size);
		i = j;
	}
}

static void
test_walk_edge(void **state)
{
	const struct edge_case *c = *state;
	char got[2048];
	size_t tested = 0;

	load_reference();
	for (size_t i = 0; i < N_DBS; i++) {
		struct ip_prefix p;
		const char *why;

		assert_int_equal(prefix_parse(c->prefix, strlen(c->prefix),
		    false, &p, &why), 0);
		if (walk(&dbs[i], c->prefix, MAX_PARTS) == ASN_WALK_NO_V6) {
			assert_int_equal(dbs[i].ip_version, 4);
			assert_false(p.v4);
			continue;
		}
		runs_text(got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: %s\n  got:  %s\n  want: %s", dbs[i].name,
			    c->prefix, got, c->want);
		if (parts.n < c->min_parts)
			fail_msg("%s: %s: %zu blocks, at least %zu expected",
			    dbs[i].name, c->prefix, parts.n, c->min_parts);
		check_tiling(&dbs[i], &p, c->prefix);
		tested++;
	}
	assert_true(tested >= 2);
}

/* The cap: exactly max parts, then ASN_WALK_CAP; 0 looks at nothing. */
static void
test_walk_cap(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_DBS; i++) {
		assert_int_equal(walk(&dbs[i], "198.51.100.0/24", 2),
		    ASN_WALK_CAP);
		assert_int_equal(parts.n, 2);
		assert_int_equal(walk(&dbs[i], "198.51.100.0/24", 0),
		    ASN_WALK_CAP);
		assert_int_equal(parts.n, 0);
		/* 198.18.0.0/16: N_SPREAD /32 blocks and the gap after them */
		assert_int_equal(walk(&dbs[i], "198.18.0.0/16",
		    ASN_MAX_BLOCKS_PER_PREFIX), ASN_WALK_CAP);
		assert_int_equal(parts.n, ASN_MAX_BLOCKS_PER_PREFIX);
		assert_int_equal(walk(&dbs[i], "198.18.0.0/16", MAX_PARTS),
		    ASN_WALK_DONE);
		assert_true(parts.n > N_SPREAD);
		/* all of IPv4 holds far more blocks than the cap */
		assert_int_equal(walk(&dbs[i], "0.0.0.0/0",
		    ASN_MAX_BLOCKS_PER_PREFIX), ASN_WALK_CAP);
	}
}

/* A record without an AS number is an error, not an unknown: the file
 * is not an ASN database. */
static void
test_walk_not_asn(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_DBS; i++) {
		assert_int_equal(walk(&dbs[i], "192.0.2.64/26", 10),
		    ASN_WALK_ERROR);
		assert_int_equal(walk(&dbs[i], "192.0.2.0/24", 100),
		    ASN_WALK_ERROR);
		assert_true(parts.n >= 1);      /* what came before it */
	}
}

/* One lookup: the block and the organisation's text, escaped. */
static void
test_lookup(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_DBS; i++) {
		struct ip_addr a = suite_addr("192.0.2.8"), m;
		struct asn_origin o;
		struct ip_prefix b;
		char err[256], text[IP_TEXT_MAX];

		assert_int_equal(asn_db_lookup(dbs[i].db, &a, true, &o, &b,
		    err, sizeof(err)), ASN_LOOKUP_OK);
		assert_true(o.known);
		assert_int_equal(o.asn, 8075);
		assert_string_equal(o.org,
		    "Micr\\xc3\\xb6soft \"quoted\", back\\x5cslash");
		prefix_format(&b, text, sizeof(text));
		assert_string_equal(text, "192.0.2.8/32");
		assert_true(b.v4);
		/* a real Microsoft block: 52.122.0.0-52.122.35.255 is
		 * 52.122.0.0/19 + /22, so the block of .0.1 is the /19 */
		a = suite_addr("52.122.0.1");
		assert_int_equal(asn_db_lookup(dbs[i].db, &a, true, &o, &b,
		    err, sizeof(err)), ASN_LOOKUP_OK);
		prefix_format(&b, text, sizeof(text));
		assert_string_equal(text, "52.122.0.0/19");
		assert_int_equal(o.asn, 8069);
		assert_string_equal(o.org, "Microsoft Corporation");
		/* IPv6 */
		a = suite_addr("2603:1063:300::1");
		m = a;
		if (dbs[i].ip_version == 4) {
			assert_int_equal(asn_db_lookup(dbs[i].db, &m, false, &o,
			    &b, err, sizeof(err)), ASN_LOOKUP_NO_V6);
			assert_false(asn_db_has_v6(dbs[i].db));
			continue;
		}
		assert_true(asn_db_has_v6(dbs[i].db));
		assert_int_equal(asn_db_lookup(dbs[i].db, &m, false, &o, &b,
		    err, sizeof(err)), ASN_LOOKUP_OK);
		prefix_format(&b, text, sizeof(text));
		assert_string_equal(text, "2603:1063:300::/40");
		assert_int_equal(o.asn, 8070);
	}
}

/* --- opening -------------------------------------------------------------- */

static void
test_open_errors(void **state)
{
	char path[600], err[512];
	FILE *f;

	(void)state;
	assert_null(asn_db_open("/nonexistent-m365/asn.mmdb", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-m365/asn.mmdb"));
	assert_non_null(strstr(err, "No such file"));
	assert_null(asn_db_open(tmpdir, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	/* a FIFO does not hang the open */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(asn_db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	/* not a MaxMind DB: the CSV, and a database cut in half */
	assert_null(asn_db_open(edges_csv, err, sizeof(err)));
	assert_non_null(strstr(err, edges_csv));
	snprintf(path, sizeof(path), "%s/cut.mmdb", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("\xab\xcd\xefMaxMind.com", 1, 14, f);
	fclose(f);
	assert_null(asn_db_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cut.mmdb"));
}

/* --- trust -------------------------------------------------------------- */

static void
test_trust(void **state)
{
	char *items[] = { "AS58593", "4837-4840", "4838", "100-200", "150-300",
	    "301" };
	struct m365_strlist l = { items, 6 };
	struct m365_strlist empty = { NULL, 0 };
	struct asn_trust t;
	char err[256], text[256];

	(void)state;
	/* the defaults: Microsoft's for Worldwide and the US government */
	for (int i = 0; i < 3; i++) {
		const char *inst[] = { "Worldwide", "USGovDoD", "USGovGCCHigh" };

		assert_int_equal(asn_trust_init(&t, inst[i], &empty, err,
		    sizeof(err)), 0);
		assert_false(t.off);
		assert_true(t.from_instance);
		for (uint32_t a = 8068; a <= 8075; a++)
			assert_true(asn_trust_has(&t, a));
		assert_true(asn_trust_has(&t, 12076));
		assert_false(asn_trust_has(&t, 8067));
		assert_false(asn_trust_has(&t, 8076));
		assert_false(asn_trust_has(&t, 15169));
		assert_false(asn_trust_has(&t, 58593));
		asn_trust_format(&t, text, sizeof(text));
		assert_string_equal(text, "AS8068-8075, AS12076");
		asn_trust_free(&t);
	}
	/* China: no default, the check is off */
	assert_int_equal(asn_trust_init(&t, "China", NULL, err, sizeof(err)), 0);
	assert_true(t.off);
	assert_false(asn_trust_has(&t, 58593));
	asn_trust_free(&t);
	/* a list wins over the instance, merged where it overlaps */
	assert_int_equal(asn_trust_init(&t, "China", &l, err, sizeof(err)), 0);
	assert_false(t.off);
	assert_false(t.from_instance);
	asn_trust_format(&t, text, sizeof(text));
	assert_string_equal(text, "AS100-301, AS4837-4840, AS58593");
	assert_true(asn_trust_has(&t, 58593));
	assert_true(asn_trust_has(&t, 100));
	assert_true(asn_trust_has(&t, 250));
	assert_true(asn_trust_has(&t, 301));
	assert_false(asn_trust_has(&t, 302));
	assert_false(asn_trust_has(&t, 99));
	assert_false(asn_trust_has(&t, 8075));
	asn_trust_format(&t, text, 8);
	assert_string_equal(text, "(too ma");
	asn_trust_free(&t);
	items[0] = "Microsoft";
	assert_int_equal(asn_trust_init(&t, "Worldwide", &l, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "Microsoft"));
	assert_int_equal(asn_trust_init(&t, "Mars", NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "Mars"));
}

/* --- the check of whole feeds ------------------------------------------- */

/* Adds text to set id's ips, as the loader would have it. */
static void
add_prefix(struct m365_data *d, int id, const char *text)
{
	struct m365_set *s = NULL;
	const char *why;

	for (size_t i = 0; i < d->n_sets; i++)
		if (d->sets[i].id == id)
			s = &d->sets[i];
	assert_non_null(s);
	s->ips = realloc(s->ips, (s->n_ips + 1) * sizeof(*s->ips));
	s->ip_texts = realloc(s->ip_texts, (s->n_ips + 1) * sizeof(char *));
	s->ip_raw = realloc(s->ip_raw, (s->n_ips + 1) * sizeof(char *));
	assert_true(s->ips != NULL && s->ip_texts != NULL && s->ip_raw != NULL);
	assert_int_equal(prefix_parse(text, strlen(text), false,
	    &s->ips[s->n_ips], &why), 0);
	s->ip_texts[s->n_ips] = strdup(text);
	s->ip_raw[s->n_ips] = strdup(text);
	s->n_ips++;
}

/* The carriers the China data's prefixes lie in (tests/data/asn/). */
static char *china_asns[] = { "58593", "4837", "138195", "21859",
    "138169", "38283", "9009", "45629", "17638", "136190", "63835",
    "135377", "56046" };

struct feed_run {
	struct asn_report r;
	char *all;                      /* every line, joined */
};

static void
run_check(struct feed_run *f, const struct m365_data *d, const char *db,
    const char *mode, const char *instance, const struct m365_strlist *trusted,
    const struct m365_strlist *extra)
{
	const struct asn_check_opts o = { db, mode, instance, trusted, extra,
	    (1u << M365_CAT_OPTIMIZE) | (1u << M365_CAT_ALLOW) };
	size_t len = 1;

	asn_check_data(&o, d, &f->r);
	for (size_t i = 0; i < f->r.n_lines; i++)
		len += strlen(f->r.lines[i]) + 1;
	f->all = calloc(1, len);
	assert_non_null(f->all);
	for (size_t i = 0; i < f->r.n_lines; i++) {
		strcat(f->all, f->r.lines[i]);
		strcat(f->all, "\n");
		assert_non_null(strstr(f->r.lines[i], "asn_check: "));
	}
}

static void
run_free(struct feed_run *f)
{
	asn_report_free(&f->r);
	free(f->all);
}

/* Lines that are not warnings. */
static size_t
refusing_lines(const struct feed_run *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->r.n_lines; i++)
		n += strstr(f->r.lines[i], "asn_check: warning: ") == NULL;
	return n;
}

static void
test_feeds_pass(void **state)
{
	struct m365_strlist china = { china_asns, 13 };
	struct feed_run f;
	struct m365_data *d;

	(void)state;
	for (size_t i = 0; i < N_DBS; i++) {
		bool v4 = dbs[i].ip_version == 4;

		d = suite_load("worldwide-c2025.json");
		run_check(&f, d, dbs[i].path, NULL, "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_PASS);
		assert_false(f.r.fails);
		assert_int_equal(f.r.prefixes, 93);
		assert_int_equal(f.r.untrusted, 0);
		assert_int_equal(f.r.unknown, 0);
		assert_int_equal(refusing_lines(&f), 0);
		assert_int_equal(f.r.n_lines, v4 ? 1 : 0);     /* IPv6 unchecked */
		assert_non_null(strstr(f.r.summary, "ASN check passed: 93"));
		run_free(&f);
		endpoints_free(d);

		/* old prefixes no longer routed (IPv6 ones, in this data):
		 * warnings, not refusals */
		d = suite_load("worldwide-c2022.json");
		run_check(&f, d, dbs[i].path, "refuse", "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_PASS);
		assert_false(f.r.fails);
		assert_int_equal(f.r.untrusted, 0);
		assert_int_equal(refusing_lines(&f), 0);
		if (v4) {
			assert_int_equal(f.r.unknown, 0);
			assert_non_null(strstr(f.r.summary, "IPv6 not checked"));
		} else {
			assert_int_equal(f.r.unknown, 10);
			assert_non_null(strstr(f.all, "set 1, 2, 5, 6: ips: "
			    "\"2603:1096::/38\": not in the ASN database"));
			assert_non_null(strstr(f.r.summary,
			    "10 partly not in the database"));
		}
		run_free(&f);
		endpoints_free(d);

		/* China: off by default, said once; with its carriers: pass */
		d = suite_load("china-c2025.json");
		run_check(&f, d, dbs[i].path, NULL, "China", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_OFF);
		assert_false(f.r.fails);
		assert_int_equal(f.r.n_lines, 1);
		assert_non_null(strstr(f.all, "trusted_asns"));
		assert_non_null(strstr(f.all, "China"));
		assert_int_equal(f.r.prefixes, 0);
		run_free(&f);
		run_check(&f, d, dbs[i].path, NULL, "China", &china, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_PASS);
		assert_int_equal(f.r.prefixes, 75);
		assert_int_equal(f.r.untrusted, 0);
		run_free(&f);
		/* and under Microsoft's ASes alone it is refused */
		run_check(&f, d, dbs[i].path, NULL, "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_REFUSED);
		assert_true(f.r.untrusted > 50);
		run_free(&f);
		endpoints_free(d);
	}
}

/* One foreign prefix (a Google range of the random rows) refuses the
 * feed, named by set, prefix, AS and organisation. */
static void
test_feed_foreign(void **state)
{
	struct feed_run f;
	struct m365_data *d = suite_load("worldwide-c2025.json");

	(void)state;
	add_prefix(d, 46, "34.190.224.0/21");
	for (size_t i = 0; i < N_DBS; i++) {
		run_check(&f, d, dbs[i].path, NULL, "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_REFUSED);
		assert_true(f.r.fails);
		assert_int_equal(f.r.untrusted, 1);
		assert_int_equal(f.r.prefixes, 94);
		assert_int_equal(refusing_lines(&f), 1);
		assert_non_null(strstr(f.all, "asn_check: set 46: ips: "
		    "\"34.190.224.0/21\": originated by AS19527 (Google LLC), "
		    "not a trusted AS\n"));
		assert_non_null(strstr(f.r.summary, "set 46"));
		assert_non_null(strstr(f.r.summary, "34.190.224.0/21"));
		assert_non_null(strstr(f.r.summary, "AS19527 (Google LLC)"));
		run_free(&f);
		/* warn: the same line as a warning; installs */
		run_check(&f, d, dbs[i].path, "warn", "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_WARN);
		assert_false(f.r.fails);
		assert_int_equal(refusing_lines(&f), 0);
		assert_non_null(strstr(f.all, "asn_check: warning: set 46: ips: "
		    "\"34.190.224.0/21\": originated by AS19527 (Google LLC), "
		    "not a trusted AS (asn_check = warn: installed anyway)"));
		run_free(&f);
		/* off: nothing looked at */
		run_check(&f, d, dbs[i].path, "off", "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_OFF);
		assert_false(f.r.fails);
		assert_int_equal(f.r.n_lines, 0);
		run_free(&f);
		/* no database: nothing happens */
		run_check(&f, d, NULL, "refuse", "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_OFF);
		assert_false(f.r.fails);
		assert_int_equal(f.r.n_lines, 0);
		run_free(&f);
	}
	endpoints_free(d);
}

/* 52.112.0.0/13: its first half is Microsoft's (Teams, 52.112.0.0/14),
 * but 52.119.51.0/24 in it is FastTrack's (AS30688).  One sample address
 * would pass it; the walk refuses it, naming the foreign part. */
static void
test_feed_partly_foreign(void **state)
{
	struct feed_run f;
	struct m365_data *d = suite_load("worldwide-c2025.json");

	(void)state;
	add_prefix(d, 11, "52.112.0.0/13");
	for (size_t i = 0; i < N_DBS; i++) {
		run_check(&f, d, dbs[i].path, NULL, "Worldwide", NULL, NULL);
		assert_int_equal(f.r.result, ASN_RESULT_REFUSED);
		assert_int_equal(f.r.untrusted, 1);
		assert_non_null(strstr(f.all, "asn_check: set 11: ips: "
		    "\"52.112.0.0/13\": 52.119.51.0-52.119.55.255 originated by "
		    "AS30688 (FastTrack Communications Inc.), not a trusted AS"));
		run_free(&f);
	}
	endpoints_free(d);
}

/* The edge rows through the whole check: a foreign /32 at a block's end,
 * a gap, more blocks than the cap (refused though each is trusted). */
static void
test_feed_edges(void **state)
{
	struct feed_run f;
	struct m365_data *d = suite_load("worldwide-c2025.json");

	(void)state;
	add_prefix(d, 1, "198.51.100.192/26");
	add_prefix(d, 2, "203.0.113.0/24");
	add_prefix(d, 2, "198.18.0.0/16");
	run_check(&f, d, dbs[0].path, NULL, "Worldwide", NULL, NULL);
	assert_int_equal(f.r.result, ASN_RESULT_REFUSED);
	assert_int_equal(f.r.untrusted, 1);
	assert_int_equal(f.r.unknown, 1);
	assert_int_equal(f.r.capped, 1);
	assert_non_null(strstr(f.all, "asn_check: set 1: ips: "
	    "\"198.51.100.192/26\": 198.51.100.255-198.51.100.255 originated "
	    "by AS13335 (CLOUDFLARENET), not a trusted AS\n"));
	assert_non_null(strstr(f.all, "asn_check: warning: set 2: ips: "
	    "\"203.0.113.0/24\": 203.0.113.64-203.0.113.127 not in the ASN "
	    "database"));
	assert_non_null(strstr(f.all, "asn_check: set 2: ips: "
	    "\"198.18.0.0/16\": more than 4096 blocks in the ASN database: the "
	    "rest is not checked, so refused (never assumed trusted)"));
	assert_non_null(strstr(f.r.summary, "2 of 96 prefixes"));
	run_free(&f);
	/* a record without an AS number: the database cannot be trusted */
	add_prefix(d, 2, "192.0.2.64/26");
	run_check(&f, d, dbs[0].path, NULL, "Worldwide", NULL, NULL);
	assert_int_equal(f.r.result, ASN_RESULT_ERROR);
	assert_true(f.r.fails);
	if (strstr(f.r.summary, "not an ASN database") == NULL)
		fail_msg("summary: %s", f.r.summary);
	run_free(&f);
	run_check(&f, d, dbs[0].path, "warn", "Worldwide", NULL, NULL);
	assert_int_equal(f.r.result, ASN_RESULT_ERROR);
	assert_false(f.r.fails);
	assert_non_null(strstr(f.r.summary, "installed unchecked"));
	run_free(&f);
	endpoints_free(d);
}

/* extra_direct: CIDRs are checked, as warnings only; patterns skipped. */
static void
test_feed_extra(void **state)
{
	char *extra[] = { "*.contoso.example", "45.159.216.0/22",
	    "52.122.0.0/16", "192.0.2.7" };
	struct m365_strlist l = { extra, 4 };
	struct feed_run f;
	struct m365_data *d = suite_load("worldwide-c2025.json");

	(void)state;
	run_check(&f, d, dbs[0].path, NULL, "Worldwide", NULL, &l);
	assert_int_equal(f.r.result, ASN_RESULT_PASS);
	assert_false(f.r.fails);
	assert_int_equal(f.r.extra_untrusted, 1);
	assert_int_equal(f.r.prefixes, 93);
	assert_int_equal(refusing_lines(&f), 0);
	assert_non_null(strstr(f.all, "asn_check: warning: extra_direct "
	    "\"45.159.216.0/22\": originated by AS209242 (Cloudflare London, "
	    "LLC), not a trusted AS (extra_direct: your own configuration, a "
	    "warning only)"));
	assert_null(strstr(f.all, "52.122.0.0/16"));
	assert_null(strstr(f.all, "192.0.2.7"));
	assert_null(strstr(f.all, "contoso"));
	assert_non_null(strstr(f.r.summary, "1 extra_direct CIDRs"));
	run_free(&f);
	endpoints_free(d);
}

/* A database that cannot be opened: refuse fails, warn installs; both
 * say so. */
static void
test_feed_unreadable(void **state)
{
	struct feed_run f;
	struct m365_data *d = suite_load("worldwide-c2025.json");

	(void)state;
	run_check(&f, d, "/nonexistent-m365/asn.mmdb", NULL, "Worldwide", NULL,
	    NULL);
	assert_int_equal(f.r.result, ASN_RESULT_ERROR);
	assert_true(f.r.fails);
	assert_non_null(strstr(f.r.summary, "cannot read the ASN database"));
	assert_non_null(strstr(f.r.summary, "/nonexistent-m365/asn.mmdb"));
	run_free(&f);
	run_check(&f, d, edges_csv, "warn", "Worldwide", NULL, NULL);
	assert_int_equal(f.r.result, ASN_RESULT_ERROR);
	assert_false(f.r.fails);
	assert_non_null(strstr(f.r.summary, edges_csv));
	run_free(&f);
	endpoints_free(d);
}

/* The report keeps ASN_MAX_LINES lines and counts the rest. */
static void
test_feed_many_lines(void **state)
{
	struct feed_run f;
	struct m365_data *d = suite_load("worldwide-c2025.json");
	char text[64];

	(void)state;
	for (unsigned i = 0; i < ASN_MAX_LINES + 10; i++) {
		snprintf(text, sizeof(text), "198.18.%u.%u/32", i >> 7,
		    (i & 127) * 2);
		add_prefix(d, 2, text);
		snprintf(text, sizeof(text), "203.0.113.%u/32", 64 + (i % 64));
		if (i < 64)
			add_prefix(d, 2, text);
	}
	run_check(&f, d, dbs[0].path, NULL, "Worldwide", NULL, NULL);
	assert_int_equal(f.r.result, ASN_RESULT_PASS);  /* all trusted */
	assert_int_equal(f.r.unknown, 64);
	assert_int_equal(f.r.n_lines, ASN_MAX_LINES);
	assert_int_equal(f.r.more_lines, 0);
	run_free(&f);
	for (unsigned i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "198.51.100.%u/32", 128 + i);
		add_prefix(d, 1, text);
	}
	run_check(&f, d, dbs[0].path, NULL, "Worldwide", NULL, NULL);
	assert_int_equal(f.r.result, ASN_RESULT_REFUSED);
	assert_int_equal(f.r.untrusted, 10);
	assert_int_equal(f.r.n_lines, ASN_MAX_LINES);
	assert_int_equal(f.r.more_lines, 10);
	run_free(&f);
	endpoints_free(d);
}

int
main(void)
{
	static const char *const feeds[] = { "worldwide-c2025.json",
	    "worldwide-c2022.json", "china-c2025.json" };
	struct suite s = { 0 };
	int rc;

	if (fixture_up() != 0) {
		suite_add(&s, test_fixture_failed, NULL,
		    "fixture: the test databases are built by asn_mmdb.pl");
		rc = suite_run(&s, "asn");
		fixture_down();
		return rc;
	}
	for (size_t i = 0; i < 3; i++)
		suite_add(&s, test_walk_real, (void *)feeds[i], "walk: every "
		    "prefix of %s tiled as the CSV rows say, in %zu databases",
		    feeds[i], N_DBS);
	for (size_t i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++)
		suite_add(&s, test_walk_edge, (void *)&edge_cases[i],
		    "walk: %s", edge_cases[i].prefix);
	suite_add(&s, test_walk_cap, NULL, "walk: the cap of blocks");
	suite_add(&s, test_walk_not_asn, NULL,
	    "walk: a record without an AS number is an error");
	suite_add(&s, test_lookup, NULL,
	    "lookup: blocks, IPv4 in IPv6 databases, organisation escaped");
	suite_add(&s, test_open_errors, NULL,
	    "open: missing, directory, FIFO, not a MaxMind DB");
	suite_add(&s, test_trust, NULL,
	    "trusted ASes: instance defaults, lists merged, bad items");
	suite_add(&s, test_feeds_pass, NULL,
	    "check: the three real feeds under their instances' defaults");
	suite_add(&s, test_feed_foreign, NULL,
	    "check: one foreign prefix refuses; warn; off; no database");
	suite_add(&s, test_feed_partly_foreign, NULL,
	    "check: a prefix partly foreign is refused (the whole range)");
	suite_add(&s, test_feed_edges, NULL,
	    "check: a foreign /32, a gap, the cap, not an ASN database");
	suite_add(&s, test_feed_extra, NULL,
	    "check: extra_direct CIDRs warn, patterns are skipped");
	suite_add(&s, test_feed_unreadable, NULL,
	    "check: an unreadable database fails refuse, warns warn");
	suite_add(&s, test_feed_many_lines, NULL,
	    "check: the lines are bounded, the rest counted");
	rc = suite_run(&s, "asn");
	free(rows);
	fixture_down();
	return rc;
}
