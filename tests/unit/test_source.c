/* test_source.c - which data is in use, and that the version source_load
 * reports is the one of the data it returns while an update switches
 * endpoints.json (issue 8).
 *
 * The binary is linked with -Wl,--wrap=open,--wrap=readlink (Makefile): the
 * wrappers below pass every call through and, when armed, do what an
 * update does (switch the link to the next version, remove the old file)
 * right after the real call returns, at exactly the point where a second
 * lookup of the link would see the new version. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "matcher.h"
#include "source.h"
#include "state.h"

#define VERSION_A "2025010100"
#define VERSION_B "2025020200"
#define FILE_A "endpoints-" VERSION_A "-Worldwide.json"
#define FILE_B "endpoints-" VERSION_B "-Worldwide.json"

/* --- the wrappers ------------------------------------------------------ */

enum arm { ARM_NONE, ARM_AFTER_OPEN, ARM_AFTER_READLINK };

static enum arm armed;
static char swap_dir[64];
static int swaps;

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
ssize_t __real_readlink(const char *path, char *buf, size_t size);
ssize_t __wrap_readlink(const char *path, char *buf, size_t size);

/* What an update does: endpoints.json -> FILE_B in one rename, then the
 * cleanup removes FILE_A. */
static void
update_to_b(void)
{
	char tmp[128], link[128], old[128];

	snprintf(tmp, sizeof(tmp), "%s/.link", swap_dir);
	snprintf(link, sizeof(link), "%s/%s", swap_dir, STATE_DATA);
	snprintf(old, sizeof(old), "%s/%s", swap_dir, FILE_A);
	if (symlink(FILE_B, tmp) != 0 || rename(tmp, link) != 0 ||
	    unlink(old) != 0)
		abort();
	swaps++;
}

static void
after(enum arm point, const char *path)
{
	if (armed == point && swap_dir[0] != '\0' &&
	    strncmp(path, swap_dir, strlen(swap_dir)) == 0) {
		armed = ARM_NONE;
		update_to_b();
	}
}

int
__wrap_open(const char *path, int flags, ...)
{
	unsigned mode = 0;
	va_list ap;
	int fd;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = va_arg(ap, unsigned);
		va_end(ap);
	}
	fd = __real_open(path, flags, mode);
	after(ARM_AFTER_OPEN, path);
	return fd;
}

ssize_t
__wrap_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = __real_readlink(path, buf, size);

	after(ARM_AFTER_READLINK, path);
	return n;
}

/* --- the state directory ----------------------------------------------- */

/* One set whose only name tells the versions apart. */
static void
write_data(const char *dir, const char *name, const char *host)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "[{\"id\": 1, \"serviceArea\": \"Exchange\", \"category\": "
	    "\"Optimize\", \"required\": true, \"urls\": [\"%s\"]}]\n", host);
	assert_int_equal(fclose(f), 0);
}

/* A state directory as an update leaves it: FILE_A installed (the link),
 * FILE_B written; or endpoints.json linking to link_to, or a plain file
 * when link_to is NULL. */
static void
make_state(const char *link_to)
{
	char link[128];

	snprintf(swap_dir, sizeof(swap_dir), "/tmp/m365-source-XXXXXX");
	assert_non_null(mkdtemp(swap_dir));
	write_data(swap_dir, FILE_A, "a.example.com");
	write_data(swap_dir, FILE_B, "b.example.com");
	write_data(swap_dir, "other.json", "other.example.com");
	snprintf(link, sizeof(link), "%s/%s", swap_dir, STATE_DATA);
	if (link_to != NULL)
		assert_int_equal(symlink(link_to, link), 0);
	else
		write_data(swap_dir, STATE_DATA, "plain.example.com");
	swaps = 0;
	armed = ARM_NONE;
}

static void
remove_state(void)
{
	static const char *const names[] = { FILE_A, FILE_B, "other.json",
	    STATE_DATA, ".link" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", swap_dir, names[i]);
		unlink(path);
	}
	rmdir(swap_dir);
	swap_dir[0] = '\0';
}

/* Loads the cache; checks the one name of the data, the version, the
 * instance and the number of switches the update made meanwhile. */
static void
load_expect(const char *host, const char *version, const char *instance,
    int want_swaps, struct source *src)
{
	char err[512] = "";
	struct m365_data *d = source_load(NULL, swap_dir, src, err, sizeof(err));

	if (d == NULL)
		fail_msg("source_load: %s", err);
	assert_int_equal(src->kind, SOURCE_CACHE);
	assert_int_equal(swaps, want_swaps);
	assert_int_equal(d->n_sets, 1);
	assert_int_equal(d->sets[0].n_urls, 1);
	assert_string_equal(d->sets[0].urls[0], host);
	assert_string_equal(src->version, version);
	assert_string_equal(src->instance, instance);
	endpoints_free(d);
}

/* --- the tests --------------------------------------------------------- */

static void
test_quiet(void **state)
{
	struct source src;

	(void)state;
	make_state(FILE_A);
	load_expect("a.example.com", VERSION_A, "Worldwide", 0, &src);
	assert_false(source_changed(NULL, swap_dir, &src));
	remove_state();
}

/* The update switches the link right after the data is opened: the open
 * file keeps A's content, and the version must be A's too. */
static void
test_switch_after_open(void **state)
{
	struct source src;

	(void)state;
	make_state(FILE_A);
	armed = ARM_AFTER_OPEN;
	load_expect("a.example.com", VERSION_A, "Worldwide", 1, &src);
	/* and what was read is A: the helper notices the switch */
	assert_true(source_changed(NULL, swap_dir, &src));
	remove_state();
}

/* The update switches the link and removes A between the reading of the
 * link and the open: the link is read again, and B is read as B. */
static void
test_switch_after_readlink(void **state)
{
	struct source src;

	(void)state;
	make_state(FILE_A);
	armed = ARM_AFTER_READLINK;
	load_expect("b.example.com", VERSION_B, "Worldwide", 1, &src);
	assert_false(source_changed(NULL, swap_dir, &src));
	remove_state();
}

/* No link, or a link to a name that is not ours: the data, version unknown. */
static void
test_unknown_version(void **state)
{
	struct source src;

	(void)state;
	make_state(NULL);
	load_expect("plain.example.com", "", "", 0, &src);
	remove_state();
	make_state("other.json");
	load_expect("other.example.com", "", "", 0, &src);
	remove_state();
}

static void
test_name_parse(void **state)
{
	static const struct {
		const char *name;
		int rc;
		const char *version, *instance;
	} cases[] = {
		{ FILE_A, 0, VERSION_A, "Worldwide" },
		{ "endpoints-2025112000-China.json", 0, "2025112000", "China" },
		{ "endpoints-2025112000-USGovGCCHigh.json", 0, "2025112000",
		  "USGovGCCHigh" },
		/* only what the updater writes: these go into headers and
		 * Prometheus labels */
		{ "endpoints-1-China.json", -1, "", "" },
		{ "endpoints-20251120001-China.json", -1, "", "" },
		{ "endpoints-202511200x-China.json", -1, "", "" },
		{ "endpoints-2025112000-a-b.json", -1, "", "" },
		{ "endpoints-2025112000-worldwide.json", -1, "", "" },
		{ "endpoints-2025112000-W\"}x{y=\".json", -1, "", "" },
		{ "endpoints--X.json", -1, "", "" },            /* empty parts */
		{ "endpoints-1-.json", -1, "", "" },
		{ "endpoints-1.json", -1, "", "" },             /* no instance */
		{ "endpoints-1-X.txt", -1, "", "" },
		{ "endpoints-1-X.json.tmp", -1, "", "" },
		{ "other-1-X.json", -1, "", "" },
		{ "endpoints-2025112000-../X.json", -1, "", "" },   /* a path */
		/* ten digits, but no date: a bogus version never comes back */
		{ "endpoints-9999999999-Worldwide.json", -1, "", "" },
		{ "endpoints-0000000000-Worldwide.json", -1, "", "" },
		{ "endpoints-2025023000-Worldwide.json", -1, "", "" },
		{ "endpoints-2023022900-Worldwide.json", -1, "", "" },
		{ "endpoints-2025130100-Worldwide.json", -1, "", "" },
		{ "endpoints-2025110000-Worldwide.json", -1, "", "" },
		{ "endpoints-1999123199-Worldwide.json", -1, "", "" },
		{ "endpoints-2100010100-Worldwide.json", -1, "", "" },
		{ "endpoints-2024022999-Worldwide.json", 0, "2024022999",
		  "Worldwide" },
		{ "endpoints-2000010100-China.json", 0, "2000010100", "China" },
		{ "endpoints-2099123100-China.json", 0, "2099123100", "China" },
		/* what a crafted link could carry into a header or a label */
		{ "endpoints-2025110700\r-Worldwide.json", -1, "", "" },
		{ "endpoints-2025110700-Worldwide\r.json", -1, "", "" },
		{ "endpoints-2025110700-World\nwide.json", -1, "", "" },
		{ "endpoints-2025110700-Worldwide\n.json", -1, "", "" },
		{ "endpoints-2025110700-W\"}\nm{x=\"1.json", -1, "", "" },
		{ "endpoints-2025110700-Worldwide*/.json", -1, "", "" },
		{ "endpoints-2025110700-*/Worldwide.json", -1, "", "" },
		{ "endpoints-2025110700-World\xe2\x80\xa8wide.json", -1, "", "" },
		{ "endpoints-2025110700-Worldwide\xe2\x80\xa9.json", -1, "", "" },
		{ "endpoints-2025110700-Worldwide.json\r", -1, "", "" },
		{ "endpoints- 025110700-Worldwide.json", -1, "", "" },
		{ "endpoints-+025110700-Worldwide.json", -1, "", "" },
		{ "endpoints-1234567890123456789012345678901-X.json", -1, "",
		  "" },
		{ "", -1, "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char v[SOURCE_NAME_MAX] = "x", inst[SOURCE_NAME_MAX] = "x";
		char shown[256];
		int rc = source_data_name_parse(cases[i].name, v, sizeof(v), inst,
		    sizeof(inst));

		suite_show(cases[i].name, strlen(cases[i].name), shown,
		    sizeof(shown));
		if (rc != cases[i].rc || strcmp(v, cases[i].version) != 0 ||
		    strcmp(inst, cases[i].instance) != 0)
			fail_msg("\"%s\": %d \"%s\" \"%s\", expected %d \"%s\" \"%s\"",
			    shown, rc, v, inst, cases[i].rc,
			    cases[i].version, cases[i].instance);
	}
}

/* The form alone (for the updater's cleanup and version check): ten
 * digits, a date or not; nothing else. */
static void
test_name_split(void **state)
{
	char v[SOURCE_NAME_MAX], inst[SOURCE_NAME_MAX];

	(void)state;
	assert_int_equal(source_data_name_split(
	    "endpoints-9999999999-Worldwide.json", v, sizeof(v), inst,
	    sizeof(inst)), 0);
	assert_string_equal(v, "9999999999");
	assert_string_equal(inst, "Worldwide");
	assert_int_equal(source_data_name_parse(
	    "endpoints-9999999999-Worldwide.json", v, sizeof(v), inst,
	    sizeof(inst)), -1);
	assert_string_equal(v, "");
	assert_string_equal(inst, "");
	assert_int_equal(source_data_name_split(
	    "endpoints-999999999x-Worldwide.json", v, sizeof(v), inst,
	    sizeof(inst)), -1);
	assert_int_equal(source_data_name_split(
	    "endpoints-9999999999-Worldwide\r.json", v, sizeof(v), inst,
	    sizeof(inst)), -1);
}

/* A version's date: the calendar, leap years, the bounds of the years. */
static void
test_version_day(void **state)
{
	static const struct {
		const char *v;
		long long day;
	} cases[] = {
		{ "2025110700", 1762473600 },
		{ "2025110799", 1762473600 },           /* NN is not a time */
		{ "2024022900", 1709164800 },
		{ "2000010100", 946684800 },            /* SOURCE_YEAR_MIN */
		{ "2000022900", 951782400 },            /* 2000 is a leap year */
		{ "2099123100", 4102358400 },           /* SOURCE_YEAR_MAX */
		{ "1999123100", -1 },
		{ "2100010100", -1 },
		{ "2100022900", -1 },
		{ "2023022900", -1 },
		{ "2025043100", -1 },
		{ "2025063100", -1 },
		{ "2025093100", -1 },
		{ "2025113100", -1 },
		{ "2025123200", -1 },
		{ "2025000100", -1 },
		{ "2025010000", -1 },
		{ "9999999999", -1 },
		{ "202511070", -1 },
		{ "20251107000", -1 },
		{ "2025-11-07", -1 },
		{ "", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long got = (long long)source_version_day(cases[i].v);

		if (got != cases[i].day)
			fail_msg("%s: %lld, expected %lld", cases[i].v, got,
			    cases[i].day);
		assert_int_equal(source_version_valid(cases[i].v),
		    cases[i].day != -1);
	}
	/* every day of 2000..2099 is one, in order, 86400 s apart */
	{
		long long prev = 946684800 - 86400, n = 0;
		char v[16];

		for (unsigned y = 2000; y <= 2099; y++)
			for (unsigned m = 1; m <= 12; m++)
				for (unsigned d = 1; d <= 31; d++) {
					long long t;

					snprintf(v, sizeof(v), "%04u%02u%02u00", y, m, d);
					if ((t = (long long)source_version_day(v)) == -1)
						continue;
					assert_int_equal(t, prev + 86400);
					prev = t;
					n++;
				}
		assert_int_equal(n, 36525);     /* 100 years, 25 leap days */
	}
}

/* A file or directory someone else could write: the cache is refused,
 * said, and taken again once that is fixed without touching the file (a
 * chmod); the helper's fallback serves the snapshot meanwhile. */
static void
test_untrusted(void **state)
{
	static const struct {
		const char *name;               /* NULL: the directory */
		mode_t bad, good;
		const char *why;
	} cases[] = {
		{ FILE_A, 0666, 0644, "writable by others (mode 0666)" },
		{ FILE_A, 0620, 0600, "writable by its group (mode 0620)" },
		{ NULL, 0770, 0700, "writable by its group (mode 0770)" },
		{ NULL, 01777, 0755, "writable by others (mode 1777)" },
	};
	struct m365_policy policy;
	struct m365_rules *r;
	struct m365_data *d;
	struct source src;
	char path[128], err[1024];

	(void)state;
	memset(&policy, 0, sizeof(policy));
	policy.direct_mask = (1u << M365_CAT_OPTIMIZE) | (1u << M365_CAT_ALLOW);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_state(FILE_A);
		if (cases[i].name != NULL)
			snprintf(path, sizeof(path), "%s/%s", swap_dir,
			    cases[i].name);
		else
			snprintf(path, sizeof(path), "%s", swap_dir);
		assert_int_equal(chmod(path, cases[i].bad), 0);
		d = source_load(NULL, swap_dir, &src, err, sizeof(err));
		assert_null(d);
		assert_true(src.untrusted);
		if (strstr(err, cases[i].why) == NULL ||
		    strstr(err, path) == NULL || strstr(err, "refusing") == NULL)
			fail_msg("case %zu: \"%s\"", i, err);
		/* unchanged and still bad: no reload to try (and log) again */
		assert_false(source_changed(NULL, swap_dir, &src));
		/* the helper's start: the snapshot, the file remembered */
		r = source_compile(NULL, swap_dir, &policy, true, &src, err,
		    sizeof(err));
		assert_non_null(r);
		matcher_free(r);
		assert_true(src.fell_back && src.untrusted);
		assert_false(source_changed(NULL, swap_dir, &src));
		assert_int_equal(chmod(path, cases[i].good), 0);
		assert_true(source_changed(NULL, swap_dir, &src));
		load_expect("a.example.com", VERSION_A, "Worldwide", 0, &src);
		assert_false(src.untrusted);
		remove_state();
	}
	/* --data too */
	make_state(FILE_A);
	snprintf(path, sizeof(path), "%s/other.json", swap_dir);
	assert_int_equal(chmod(path, 0646), 0);
	assert_null(source_load(path, NULL, &src, err, sizeof(err)));
	assert_true(src.untrusted && src.kind == SOURCE_DATA_OPTION);
	assert_non_null(strstr(err, "writable by others"));
	assert_int_equal(chmod(path, 0644), 0);
	assert_true(source_changed(path, NULL, &src));
	assert_non_null(d = source_load(path, NULL, &src, err, sizeof(err)));
	endpoints_free(d);
	remove_state();
}

/* A link to a crafted name (what anyone who could write the directory
 * would try): the data is read, but nothing of the name is believed. */
static void
test_crafted_link(void **state)
{
	static const char *const names[] = {
		"endpoints-2025110700\r-Worldwide.json",
		"endpoints-2025110700-Worldwide\r\nfunction x() {}.json",
		"endpoints-2025110700-W\"} 1\nevil{a=\"b.json",
		"endpoints-2025110700-*/return \"DIRECT\";.json",
		"endpoints-2025110700-World\xe2\x80\xa8wide.json",
		"endpoints-9999999999-Worldwide.json",
	};
	char path[256], link[128], sub[256];
	struct source src;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *slash = strchr(names[i], '/');

		make_state(FILE_A);
		snprintf(link, sizeof(link), "%s/%s", swap_dir, STATE_DATA);
		snprintf(path, sizeof(path), "%s/%s", swap_dir, names[i]);
		/* a "/" in the name: a directory of that name's start */
		snprintf(sub, sizeof(sub), "%s/%.*s", swap_dir,
		    slash != NULL ? (int)(slash - names[i]) : 0, names[i]);
		if (slash != NULL)
			assert_int_equal(mkdir(sub, 0755), 0);
		write_data(swap_dir, names[i], "crafted.example.com");
		assert_int_equal(unlink(link), 0);
		assert_int_equal(symlink(names[i], link), 0);
		load_expect("crafted.example.com", "", "", 0, &src);
		assert_int_equal(unlink(path), 0);
		if (slash != NULL)
			assert_int_equal(rmdir(sub), 0);
		remove_state();
	}
}

/* Copies the data file name of the test data into path. */
static void
copy_data(const char *name, const char *path)
{
	char from[4096], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(from, sizeof(from), "%s/%s", suite_data_dir(), name);
	in = fopen(from, "rb");
	assert_non_null(in);
	out = fopen(path, "wb");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* The helper keeps the struct source of its last reload attempt and tries
 * again only when source_changed says so.  A load that fails because the
 * file is gone must not leave the identity of the file loaded before in
 * it (nor the bytes of whatever the struct held): when the same file comes
 * back, that is a change to retry on. */
static void
test_failed_load(void **state)
{
	char dir[] = "/tmp/m365-source-XXXXXX", path[4096], aside[4096];
	char err[512];
	struct m365_data *d;
	struct source src;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/data.json", dir);
	snprintf(aside, sizeof(aside), "%s/aside.json", dir);
	copy_data("worldwide-c2025.json", path);
	memset(&src, 0xa5, sizeof(src));
	d = source_load(path, NULL, &src, err, sizeof(err));
	assert_non_null(d);
	endpoints_free(d);
	assert_int_equal(src.kind, SOURCE_DATA_OPTION);
	assert_false(source_changed(path, NULL, &src));
	/* the same struct, as the helper's reload attempts are */
	assert_int_equal(rename(path, aside), 0);
	assert_null(source_load(path, NULL, &src, err, sizeof(err)));
	assert_true(src.dev == 0 && src.ino == 0 && src.size == 0 &&
	    src.mtime.tv_sec == 0 && src.mtime.tv_nsec == 0);
	assert_false(source_changed(path, NULL, &src));  /* still gone */
	assert_int_equal(rename(aside, path), 0);
	assert_true(source_changed(path, NULL, &src));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_failed_load, NULL,
	    "a failed load forgets the file loaded before; its return is a change");
	suite_add(&s, test_quiet, NULL,
	    "cache: the data of the link's target and its version");
	suite_add(&s, test_switch_after_open, NULL,
	    "cache: link switched right after the open: the old data with the "
	    "old version, and source_changed notices");
	suite_add(&s, test_switch_after_readlink, NULL,
	    "cache: link switched and old file removed before the open: the new "
	    "data with the new version");
	suite_add(&s, test_unknown_version, NULL,
	    "cache: a plain file, or a link to another name: version unknown");
	suite_add(&s, test_untrusted, NULL,
	    "a file or directory others can write: refused, said, taken again "
	    "after a chmod; the fallback serves meanwhile");
	suite_add(&s, test_crafted_link, NULL,
	    "a link to a crafted name: no version, no instance");
	suite_add(&s, test_name_parse, NULL,
	    "source_data_name_parse: endpoints-VERSION-INSTANCE.json");
	suite_add(&s, test_name_split, NULL,
	    "source_data_name_split: the form, ten digits that need be no date");
	suite_add(&s, test_version_day, NULL,
	    "source_version_day: real calendar dates of 2000..2099 only");
	return suite_run(&s, "source");
}
