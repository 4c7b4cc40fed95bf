/* test_state.c - the state directory: atomic writes, the persistent
 * ClientRequestId, the installed version, the status record. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "atomic.h"
#include "state.h"

static char *
make_dir(void)
{
	char *d = strdup("/tmp/m365-state-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
remove_dir(char *d)
{
	DIR *dir = opendir(d);
	struct dirent *e;
	char path[4096];

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
		    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		unlink(path);
	}
	if (dir != NULL)
		closedir(dir);
	rmdir(d);
	free(d);
}

/* The number of entries in d other than . and .. */
static int
count_entries(const char *d)
{
	DIR *dir = opendir(d);
	struct dirent *e;
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(dir);
	return n;
}

static void
read_back(const char *d, const char *name, char *buf, size_t size)
{
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void
test_write_atomic(void **state)
{
	char *d = make_dir(), buf[64], err[256], path[4096];
	struct stat st;

	(void)state;
	assert_int_equal(atomic_install(d, "f", "one", 3, err, sizeof(err)), 0);
	assert_int_equal(atomic_install(d, "f", "second", 6, err,
	    sizeof(err)), 0);
	read_back(d, "f", buf, sizeof(buf));
	assert_string_equal(buf, "second");
	assert_int_equal(count_entries(d), 1);          /* no temp file left */
	snprintf(path, sizeof(path), "%s/f", d);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);      /* the helper reads it */
	/* a directory that is not there: an error, nothing written */
	assert_int_not_equal(atomic_install("/nonexistent/m365", "f", "x", 1,
	    err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/m365"));
	remove_dir(d);
}

static void
test_client_id(void **state)
{
	char *d = make_dir(), a[STATE_GUID_LEN + 1], b[STATE_GUID_LEN + 1];
	char *e = make_dir(), c[STATE_GUID_LEN + 1], err[256], buf[64];

	(void)state;
	assert_int_equal(state_client_id(d, a, err, sizeof(err)), 0);
	assert_int_equal(strlen(a), 36);
	assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	assert_int_equal(a[14], '4');                   /* version 4 */
	assert_non_null(strchr("89ab", a[19]));         /* RFC variant */
	assert_int_equal(state_client_id(d, b, err, sizeof(err)), 0);
	assert_string_equal(a, b);                      /* persistent */
	read_back(d, STATE_CLIENT_ID, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, a, 36), 0);
	assert_int_equal(state_client_id(e, c, err, sizeof(err)), 0);
	assert_string_not_equal(a, c);                  /* random */
	/* a damaged file is replaced by a fresh GUID */
	assert_int_equal(atomic_install(e, STATE_CLIENT_ID, "garbage\n", 8,
	    err, sizeof(err)), 0);
	assert_int_equal(state_client_id(e, c, err, sizeof(err)), 0);
	assert_int_equal(c[14], '4');
	remove_dir(d);
	remove_dir(e);
}

static void
test_install(void **state)
{
	char *d = make_dir(), v[32], inst[32], err[256], buf[64];

	(void)state;
	state_installed(d, v, sizeof(v), inst, sizeof(inst));
	assert_string_equal(v, "");
	assert_string_equal(inst, "");
	assert_int_equal(state_install(d, "[1]", 3, "2025110700", "Worldwide",
	    err, sizeof(err)), 0);
	state_installed(d, v, sizeof(v), inst, sizeof(inst));
	assert_string_equal(v, "2025110700");
	assert_string_equal(inst, "Worldwide");
	read_back(d, STATE_DATA, buf, sizeof(buf));
	assert_string_equal(buf, "[1]");
	assert_int_equal(count_entries(d), 2);
	/* a name only what readers may believe: nothing else is written */
	assert_int_equal(state_install(d, "[2]", 3, "9999999999", "Worldwide",
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "9999999999"));
	assert_int_equal(state_install(d, "[2]", 3, "2025023000", "Worldwide",
	    err, sizeof(err)), -1);
	assert_int_equal(state_install(d, "[2]", 3, "2025110800", "Mars",
	    err, sizeof(err)), -1);
	assert_int_equal(state_install(d, "[2]", 3, "2025110800\n", "Worldwide",
	    err, sizeof(err)), -1);
	assert_int_equal(count_entries(d), 2);
	read_back(d, STATE_DATA, buf, sizeof(buf));
	assert_string_equal(buf, "[1]");
	/* the installed version read back has the form only: the updater
	 * decides whether to believe it */
	{
		char link[4096], tmp[4096];

		snprintf(link, sizeof(link), "%s/%s", d, STATE_DATA);
		snprintf(tmp, sizeof(tmp), "%s/.l", d);
		assert_int_equal(symlink("endpoints-9999999999-China.json", tmp), 0);
		assert_int_equal(rename(tmp, link), 0);
	}
	state_installed(d, v, sizeof(v), inst, sizeof(inst));
	assert_string_equal(v, "9999999999");
	assert_string_equal(inst, "China");
	remove_dir(d);
}

/* Creates d/name holding "x". */
static void
touch(const char *d, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static bool
exists(const char *d, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	return lstat(path, &st) == 0;
}

/* state_cleanup runs in whatever directory state_dir names (an update
 * with state_dir = /root once deleted .bashrc and .profile): it removes
 * exactly the names this program makes, nothing that merely looks
 * similar. */
static void
test_cleanup(void **state)
{
	static const char *const foreign[] = {
		".bashrc", ".profile", ".ssh", ".tmp", "notes.tmp", ".x.tmp",
		".Xauthority", ".lock.bak", "endpoints-notes.txt",
		"endpoints-2025112000-Worldwide.json.bak",
		"endpoints-2025112000-Worldwide.jsonx",
		"endpoints-2025112000-Mars.json", "endpoints-20251120-Worldwide.json",
		"endpoints-202511200a-Worldwide.json",
		"endpoints-2025112000-Worldwide-x.json", "endpoints-.json",
		"endpoints-", ".status.json.ab", ".status.json.abcdefg",
		".status.json.abc-de", ".status.json.", ".notes.txt.abcdef",
		".endpoints-2025112000-Worldwide.json.bak.abcdef",
		".endpoints-notes.txt.abcdef", ".endpoints.json.link.0000000g",
		".endpoints.json.link.123", ".endpoints.json.link.123456789",
		".endpoints.json.link.ABCDEF01", "status.json.abcdef",
	};
	static const char *const debris[] = {
		/* atomic_install's mkstemp names */
		".status.json.Ab3xYz", ".client-request-id.000000",
		".endpoints-2025120100-Worldwide.json.qQ9zZ1",
		".endpoints-2025120100-USGovDoD.json.abcdef",
		/* switch_link's temporary link */
		".endpoints.json.link.0badf00d",
		/* superseded data */
		"endpoints-2025110700-Worldwide.json",
		"endpoints-2025120100-China.json",
		/* what an older release installed for a bogus /version answer */
		"endpoints-9999999999-Worldwide.json",
	};
	char *d = make_dir(), err[256];
	int lock;

	(void)state;
	assert_int_equal(state_install(d, "[1]", 3, "2025112000", "Worldwide",
	    err, sizeof(err)), 0);
	assert_int_equal(atomic_install(d, STATE_CLIENT_ID, "id\n", 3, err,
	    sizeof(err)), 0);
	assert_int_equal(atomic_install(d, STATE_STATUS, "{}", 2, err,
	    sizeof(err)), 0);
	assert_true((lock = state_lock(d, err, sizeof(err))) >= 0);
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		touch(d, foreign[i]);
	for (size_t i = 0; i < sizeof(debris) / sizeof(debris[0]); i++)
		touch(d, debris[i]);
	state_cleanup(d);
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (!exists(d, foreign[i]))
			fail_msg("state_cleanup removed a file it did not make: %s",
			    foreign[i]);
	for (size_t i = 0; i < sizeof(debris) / sizeof(debris[0]); i++)
		if (exists(d, debris[i]))
			fail_msg("state_cleanup left its own debris: %s", debris[i]);
	/* what is in use stays */
	assert_true(exists(d, STATE_DATA));
	assert_true(exists(d, "endpoints-2025112000-Worldwide.json"));
	assert_true(exists(d, STATE_CLIENT_ID));
	assert_true(exists(d, STATE_STATUS));
	assert_true(exists(d, STATE_LOCK));
	close(lock);
	remove_dir(d);
}

/* d/name as a path. */
static char *
path_in(const char *d, const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", d, name);
	return path;
}

/* state_prepare of d fails, naming what and why. */
static void
prepare_fails(const char *d, const char *what, const char *why)
{
	char err[8192];

	alarm(10);                      /* a FIFO must not hang it */
	if (state_prepare(d, err, sizeof(err)) != -1 ||
	    strstr(err, what) == NULL || strstr(err, why) == NULL ||
	    strstr(err, "refusing a state directory another user can "
	    "write") == NULL)
		fail_msg("state_prepare(%s): \"%s\", expected %s: %s", d, err,
		    what, why);
	alarm(0);
}

/* A state directory turned against whoever runs the update: refused
 * before anything is read or made in it.  (Files of other users:
 * tests/integration/state.t, as root.) */
static void
test_prepare(void **state)
{
	char *d = make_dir(), sub[4096], err[8192], data[4096];

	(void)state;
	/* made when missing, under a parent of ours */
	snprintf(sub, sizeof(sub), "%s/new", d);
	assert_int_equal(state_prepare(sub, err, sizeof(err)), 0);
	assert_true(exists(d, "new"));
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(state_prepare(d, err, sizeof(err)), 0);
	/* the directory writable by group or others, sticky or not */
	assert_int_equal(chmod(d, 0775), 0);
	prepare_fails(d, d, "writable by its group (mode 0775)");
	assert_int_equal(chmod(d, 01777), 0);
	prepare_fails(d, d, "writable by others (mode 1777)");
	/* nothing made under a parent others can write */
	prepare_fails(sub, d, "writable by others");
	assert_false(exists(d, "new"));
	assert_int_equal(chmod(d, 0700), 0);
	/* a FIFO, a link, a directory where a file of ours goes */
	static const char *const names[] = { STATE_CLIENT_ID, STATE_STATUS,
	    STATE_LOCK };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = path_in(d, names[i]);

		assert_int_equal(mkfifo(p, 0600), 0);
		prepare_fails(d, p, "not a regular file");
		assert_int_equal(unlink(p), 0);
		assert_int_equal(symlink("/etc/passwd", p), 0);
		prepare_fails(d, p, "symbolic link");
		assert_int_equal(unlink(p), 0);
		assert_int_equal(mkdir(p, 0700), 0);
		prepare_fails(d, p, "not a regular file");
		assert_int_equal(rmdir(p), 0);
		touch(d, names[i]);
		assert_int_equal(chmod(p, 0646), 0);
		prepare_fails(d, p, "writable by others (mode 0646)");
		assert_int_equal(chmod(p, 0620), 0);
		prepare_fails(d, p, "writable by its group");
		assert_int_equal(unlink(p), 0);
	}
	/* the data: a link to a file others can write, a FIFO */
	touch(d, "endpoints-2025110700-Worldwide.json");
	snprintf(data, sizeof(data), "%s", path_in(d,
	    "endpoints-2025110700-Worldwide.json"));
	assert_int_equal(symlink("endpoints-2025110700-Worldwide.json",
	    path_in(d, STATE_DATA)), 0);
	assert_int_equal(state_prepare(d, err, sizeof(err)), 0);
	assert_int_equal(chmod(data, 0666), 0);
	prepare_fails(d, data, "writable by others (mode 0666)");
	assert_int_equal(unlink(data), 0);      /* dangling: no cache */
	assert_int_equal(state_prepare(d, err, sizeof(err)), 0);
	assert_int_equal(mkfifo(data, 0644), 0);
	prepare_fails(d, data, "not a regular file");
	assert_int_equal(unlink(data), 0);
	assert_int_equal(state_prepare(d, err, sizeof(err)), 0);
	remove_dir(d);
}

/* The lock: a link planted at .lock never makes root create its target,
 * a FIFO there never hangs, another update holding it is said. */
static void
test_lock(void **state)
{
	char *d = make_dir(), *e = make_dir(), err[8192], target[4096];
	int a, b;

	(void)state;
	snprintf(target, sizeof(target), "%s/made-by-root", e);
	assert_int_equal(symlink(target, path_in(d, STATE_LOCK)), 0);
	assert_int_equal(state_lock(d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(unlink(path_in(d, STATE_LOCK)), 0);
	assert_int_equal(mkfifo(path_in(d, STATE_LOCK), 0600), 0);
	alarm(10);
	assert_int_equal(state_lock(d, err, sizeof(err)), -1);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(unlink(path_in(d, STATE_LOCK)), 0);
	assert_true((a = state_lock(d, err, sizeof(err))) >= 0);
	assert_int_equal(state_lock(d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another update is running"));
	close(a);
	assert_true((b = state_lock(d, err, sizeof(err))) >= 0);
	close(b);
	assert_int_equal(chmod(path_in(d, STATE_LOCK), 0620), 0);
	assert_int_equal(state_lock(d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by its group"));
	remove_dir(d);
	remove_dir(e);
}

static void
test_status(void **state)
{
	char *d = make_dir(), err[256];
	struct state_status a = { 0 }, b;

	(void)state;
	state_status_read(d, &b);                       /* none: all zero */
	assert_int_equal(b.last_attempt, 0);
	assert_string_equal(b.last_result, "");
	a.last_attempt = 1790000000;
	a.last_success = 1790000001;
	a.fetched = 1790000002;
	a.rate_limited_until = 1790003600;
	snprintf(a.last_result, sizeof(a.last_result), "failed");
	snprintf(a.last_message, sizeof(a.last_message), "HTTP \"500\"\n x");
	assert_int_equal(state_status_write(d, &a, err, sizeof(err)), 0);
	state_status_read(d, &b);
	assert_int_equal(b.last_attempt, a.last_attempt);
	assert_int_equal(b.last_success, a.last_success);
	assert_int_equal(b.fetched, a.fetched);
	assert_int_equal(b.rate_limited_until, a.rate_limited_until);
	assert_string_equal(b.last_result, "failed");
	assert_string_equal(b.last_message, a.last_message);
	/* no ASN check yet: its fields are empty and not written */
	assert_string_equal(b.asn_result, "");
	assert_int_equal(b.asn_checked, 0);
	/* the last ASN check, kept across a read and a write */
	snprintf(a.asn_result, sizeof(a.asn_result), "refused");
	snprintf(a.asn_message, sizeof(a.asn_message), "ASN check: set 46: "
	    "\"45.159.216.0/22\" AS209242 (Cloudflare London, LLC)");
	a.asn_checked = 1790000003;
	a.asn_prefixes = 94;
	a.asn_untrusted = 1;
	a.asn_unknown = 2;
	assert_int_equal(state_status_write(d, &a, err, sizeof(err)), 0);
	state_status_read(d, &b);
	assert_string_equal(b.asn_result, "refused");
	assert_string_equal(b.asn_message, a.asn_message);
	assert_int_equal(b.asn_checked, a.asn_checked);
	assert_int_equal(b.asn_prefixes, 94);
	assert_int_equal(b.asn_untrusted, 1);
	assert_int_equal(b.asn_unknown, 2);
	assert_string_equal(b.last_message, a.last_message);
	/* ASN counts without a result (a hand-made file: fuzz_state found
	 * the reader took them, while the writer drops them) are not read,
	 * so reading and writing back gives the same record */
	{
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/status.json", d);
		assert_non_null(f = fopen(path, "w"));
		fputs("{\"last_result\": \"installed\", \"asn_prefixes\": 94, "
		    "\"asn_checked\": 5, \"asn_message\": \"x\"}", f);
		assert_int_equal(fclose(f), 0);
		state_status_read(d, &b);
		assert_string_equal(b.last_result, "installed");
		assert_int_equal(b.asn_prefixes, 0);
		assert_int_equal(b.asn_checked, 0);
		assert_string_equal(b.asn_message, "");
	}
	remove_dir(d);
}

static void
test_millis(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint64_t ms;
	} cases[] = {
		{ "2", 0, 2000 }, { "0.05", 0, 50 }, { "1.5", 0, 1500 },
		{ "0.001", 0, 1 }, { "600", 0, 600000 }, { "0", 0, 0 },
		{ "600.001", -1, 0 }, { "601", -1, 0 }, { "1.", -1, 0 },
		{ ".5", -1, 0 }, { "1.2345", -1, 0 }, { "-1", -1, 0 },
		{ "1e3", -1, 0 }, { "", -1, 0 }, { "1.x", -1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ms = 12345;
		int rc = parse_millis(cases[i].in, strlen(cases[i].in), 600000, &ms);

		if (rc != cases[i].rc || (rc == 0 && ms != cases[i].ms))
			fail_msg("parse_millis(\"%s\") = %d, %llu", cases[i].in, rc,
			    (unsigned long long)ms);
	}
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_write_atomic, NULL,
	    "atomic_install: replaces, leaves no temp file, mode 0644");
	suite_add(&s, test_client_id, NULL,
	    "ClientRequestId: v4 GUID, persistent, random, damaged file replaced");
	suite_add(&s, test_install, NULL, "state_install: data and version; "
	    "only a valid version and instance");
	suite_add(&s, test_prepare, NULL, "state_prepare: a directory or file "
	    "others can write, a FIFO, a link: refused, nothing made");
	suite_add(&s, test_lock, NULL, "state_lock: never through a link, "
	    "never a FIFO, one update at a time");
	suite_add(&s, test_cleanup, NULL,
	    "state_cleanup: removes exactly its own debris, no look-alike");
	suite_add(&s, test_status, NULL, "status.json round trip");
	suite_add(&s, test_millis, NULL, "parse_millis: seconds with a fraction");
	return suite_run(&s, "state");
}
