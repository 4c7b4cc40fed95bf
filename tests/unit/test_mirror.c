/* test_mirror.c - feed/mirror.c: the state directory's data written in the
 * layout a base_url reads, checked by reading it back the way update does
 * (fetch.c over file://, libcurl), so the layout and the reader cannot
 * drift apart; idempotence; what is replaced and what is refused. */
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

#include "buf.h"
#include "fetch.h"
#include "file.h"
#include "mirror.h"
#include "state.h"

#define V1 "2025110700"
#define V2 "2025112000"

struct fixture {
	char root[64];                  /* a temp dir holding both */
	char state[128], out[128];
	struct buf data;                /* tests/data/worldwide-c2025.json */
	const void *row;                /* the test's table row, or NULL */
};

/* Removes path and, for a directory, what is in it (links not followed). */
static void
remove_tree(const char *path)
{
	struct dirent *e;
	struct stat st;
	char sub[1024];
	DIR *d;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_tree(sub);
		}
		closedir(d);
	}
	remove(path);
}

static int
setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	char path[1024], err[256];

	assert_non_null(x);
	x->row = *state;        /* cmocka passes the initial state in */
	snprintf(x->root, sizeof(x->root), "/tmp/m365-mirror-XXXXXX");
	assert_non_null(mkdtemp(x->root));
	snprintf(x->state, sizeof(x->state), "%s/state", x->root);
	snprintf(x->out, sizeof(x->out), "%s/out", x->root);
	assert_int_equal(mkdir(x->state, 0755), 0);
	x->data = (struct buf)BUF_INIT(M365_DATA_MAX_BYTES);
	snprintf(path, sizeof(path), "%s/worldwide-c2025.json", suite_data_dir());
	assert_int_equal(file_read(path, M365_DATA_MAX_BYTES, false, &x->data, err,
	    sizeof(err)), 0);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *x = *state;

	remove_tree(x->root);
	buf_free(&x->data);
	free(x);
	return 0;
}

static void
install(struct fixture *x, const char *data, size_t len, const char *version)
{
	char err[512];

	assert_int_equal(state_install(x->state, data, len, version, "Worldwide",
	    err, sizeof(err)), 0);
}

/* The file out/rel, read whole ("" when missing). */
static void
slurp(const struct fixture *x, const char *rel, struct buf *b)
{
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/%s", x->out, rel);
	*b = (struct buf)BUF_INIT(M365_DATA_MAX_BYTES);
	if (file_read(path, M365_DATA_MAX_BYTES, false, b, err, sizeof(err)) != 0)
		buf_add(b, "", 0);
}

static void
mirror_ok(struct fixture *x, struct mirror_result *res)
{
	char err[512] = "";
	int rc = mirror_write(x->state, x->out, res, err, sizeof(err));

	if (rc != 0)
		fail_msg("mirror_write: %s", err);
}

/* What update reads from base_url = file://DIR: the version, then the
 * data, with fetch.c itself. */
static void
read_back(const struct fixture *x, char latest[FETCH_VERSION_LEN + 1],
    struct fetch_result *data)
{
	char base[256];
	struct fetch_opts o = { 0 };
	struct fetch_result r;

	snprintf(base, sizeof(base), "file://%s", x->out);
	o.base_url = base;
	o.instance = "Worldwide";
	o.client_id = "00000000-0000-4000-8000-000000000000";
	o.connect_timeout = o.timeout = 5;
	assert_int_equal(fetch_global_init(), 0);
	assert_int_equal(fetch_version(&o, latest, &r), FETCH_OK);
	fetch_result_free(&r);
	assert_int_equal(fetch_endpoints(&o, data), FETCH_OK);
	fetch_global_cleanup();
}

static void
test_round_trip(void **state)
{
	struct fixture *x = *state;
	struct mirror_result res;
	char latest[FETCH_VERSION_LEN + 1];
	struct fetch_result data;
	struct buf v;

	install(x, x->data.p, x->data.len, V1);
	mirror_ok(x, &res);
	assert_string_equal(res.version, V1);
	assert_string_equal(res.instance, "Worldwide");
	assert_int_equal(res.n_sets, 64);
	assert_true(res.data_written && res.version_written);
	assert_string_equal(res.warning, "");
	slurp(x, "version/Worldwide", &v);
	assert_string_equal(v.p, "{\"instance\":\"Worldwide\",\"latest\":\"" V1 "\"}\n");
	buf_free(&v);
	read_back(x, latest, &data);
	assert_string_equal(latest, V1);
	assert_int_equal(data.len, x->data.len);
	assert_memory_equal(data.body, x->data.p, x->data.len);
	fetch_result_free(&data);
}

/* A second run with nothing new writes nothing: same inode and mtime. */
static void
test_idempotent(void **state)
{
	struct fixture *x = *state;
	struct mirror_result res;
	struct stat a[2], b[2];
	char p[2][256];

	install(x, x->data.p, x->data.len, V1);
	mirror_ok(x, &res);
	snprintf(p[0], sizeof(p[0]), "%s/endpoints/Worldwide", x->out);
	snprintf(p[1], sizeof(p[1]), "%s/version/Worldwide", x->out);
	for (int i = 0; i < 2; i++)
		assert_int_equal(stat(p[i], &a[i]), 0);
	mirror_ok(x, &res);
	assert_false(res.data_written || res.version_written);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(stat(p[i], &b[i]), 0);
		assert_int_equal(a[i].st_ino, b[i].st_ino);
		assert_int_equal(a[i].st_mtim.tv_sec, b[i].st_mtim.tv_sec);
		assert_int_equal(a[i].st_mtim.tv_nsec, b[i].st_mtim.tv_nsec);
		assert_int_equal(b[i].st_mode & 07777, 0644);
	}
}

/* A new version replaces both; the same data under a new version
 * rewrites the version only. */
static void
test_new_version(void **state)
{
	struct fixture *x = *state;
	struct mirror_result res;
	const char *small = "[{\"id\": 1, \"serviceArea\": \"Exchange\", "
	    "\"category\": \"Optimize\", \"urls\": [\"outlook.office365.com\"], "
	    "\"tcpPorts\": \"443\", \"expressRoute\": false, \"required\": true}]";
	struct buf d, v;

	install(x, x->data.p, x->data.len, V1);
	mirror_ok(x, &res);
	install(x, small, strlen(small), V2);
	mirror_ok(x, &res);
	assert_true(res.data_written && res.version_written);
	assert_int_equal(res.n_sets, 1);
	slurp(x, "endpoints/Worldwide", &d);
	assert_string_equal(d.p, small);
	buf_free(&d);
	install(x, small, strlen(small), "2025120100");
	mirror_ok(x, &res);
	assert_false(res.data_written);
	assert_true(res.version_written);
	slurp(x, "version/Worldwide", &v);
	assert_non_null(strstr(v.p, "\"latest\":\"2025120100\""));
	buf_free(&v);
}

/* The same bytes in a file that is not a plain 0644 file of its own are
 * replaced: a 0600 file (a web server could not read it) and a link (to
 * a file elsewhere, which stays untouched). */
static void
test_replaces_odd_files(void **state)
{
	struct fixture *x = *state;
	struct mirror_result res;
	char path[256], target[256];
	struct stat st;
	FILE *f;

	install(x, x->data.p, x->data.len, V1);
	mirror_ok(x, &res);
	snprintf(path, sizeof(path), "%s/endpoints/Worldwide", x->out);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", x->root);
	f = fopen(target, "w");
	assert_non_null(f);
	fputs("{\"instance\":\"Worldwide\",\"latest\":\"" V1 "\"}\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/version/Worldwide", x->out);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	mirror_ok(x, &res);
	assert_true(res.data_written && res.version_written);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	snprintf(path, sizeof(path), "%s/endpoints/Worldwide", x->out);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(target, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

struct refusal {
	const char *what;
	int kind;                       /* see prepare_refusal */
	const char *message;            /* a part of err */
};

static const struct refusal refusals[] = {
	{ "no cache", 0, "no cached data in " },
	{ "endpoints.json not a link of ours", 1, "its version is unknown" },
	{ "cached data that does not load", 2, "endpoints.json: " },
	{ "DIR is a file", 3, "out: not a directory" },
	{ "DIR/endpoints is a file", 4, "out/endpoints: not a directory" },
	{ "DIR's parent missing", 5, "No such file or directory" },
};

static void
put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
prepare_refusal(struct fixture *x, int kind)
{
	char path[256];

	switch (kind) {
	case 1:
		snprintf(path, sizeof(path), "%s/endpoints.json", x->state);
		put_file(path, x->data.p);
		break;
	case 2:
		install(x, "[{\"id\": 1", 9, V1);
		break;
	case 3:
		install(x, x->data.p, x->data.len, V1);
		put_file(x->out, "x\n");
		break;
	case 4:
		install(x, x->data.p, x->data.len, V1);
		assert_int_equal(mkdir(x->out, 0755), 0);
		snprintf(path, sizeof(path), "%s/endpoints", x->out);
		put_file(path, "x\n");
		break;
	case 5:
		install(x, x->data.p, x->data.len, V1);
		snprintf(x->out, sizeof(x->out), "%s/no/such/dir", x->root);
		break;
	default:
		break;
	}
}

static void
test_refusal(void **state)
{
	struct fixture *x = *state;
	const struct refusal *t = x->row;
	struct mirror_result res;
	char err[512] = "", vpath[256];

	prepare_refusal(x, t->kind);
	assert_int_equal(mirror_write(x->state, x->out, &res, err, sizeof(err)), -1);
	if (strstr(err, t->message) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", t->what, err, t->message);
	/* no version names data that was not written */
	snprintf(vpath, sizeof(vpath), "%s/version/Worldwide", x->out);
	assert_int_equal(access(vpath, F_OK), -1);
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_round_trip, NULL,
	    "mirror then fetch over file://: the version and the data, byte for byte");
	suite_add(&s, test_idempotent, NULL,
	    "a second run writes nothing: same inode, same mtime, 0644");
	suite_add(&s, test_new_version, NULL,
	    "a new version replaces both files; the same data rewrites the version only");
	suite_add(&s, test_replaces_odd_files, NULL,
	    "same bytes in a 0600 file or a link: replaced by a 0644 file of its own");
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		suite_add(&s, test_refusal, (void *)&refusals[i],
		    "refused, no version file names the data: %s", refusals[i].what);
	for (size_t i = 0; i < s.n; i++) {
		s.t[i].setup_func = setup;
		s.t[i].teardown_func = teardown;
	}
	return suite_run(&s, "mirror");
}
