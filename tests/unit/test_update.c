/* test_update.c - the update pipeline (feed/update.c) driven directly
 * against a file:// mirror (MIRROR/version/Worldwide and
 * MIRROR/endpoints/Worldwide) in a temporary state directory: installs,
 * the version check, the guards, the change report, the record of each
 * attempt and the on_change hook. */
#define _XOPEN_SOURCE 700       /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "update.h"
#include "validate.h"

#define V0 "2021010100"
#define V1 "2025110700"
#define V2 "2025112000"
#define V3 "2025112100"
#define V4 "2025112200"
#define V5 "2025112300"
#define SHRUNK_SETS 10          /* of the 64 of worldwide-c2025.json */

/* What the mirror's /endpoints serves. */
enum feed {
	FEED_NONE,                      /* nothing: a fetch fails */
	FEED_C2022,                     /* worldwide-c2022.json */
	FEED_C2025,                     /* worldwide-c2025.json */
	FEED_POISON,                    /* c2025 with *.com in Optimize set 1 */
	FEED_SHRUNK,                    /* c2025's first SHRUNK_SETS sets */
	FEED_REQUIRED,                  /* c2025, set 9 no longer required */
	FEED_AREA,                      /* c2025, set 9 in another service area */
	FEED_COUNT
};

struct bytes {
	char *p;
	size_t len;
};

static struct bytes feeds[FEED_COUNT];

/* ---- files ---- */

static struct bytes
read_bytes(const char *path)
{
	struct bytes b = { NULL, 0 };
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL)
		return b;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b.p = malloc((size_t)n + 1)) != NULL)
		b.len = fread(b.p, 1, (size_t)n, f);
	fclose(f);
	return b;
}

static void
write_bytes(const char *path, const char *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
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
remove_tree(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the feeds ---- */

static struct bytes
data_file(const char *name)
{
	char path[1024];
	struct bytes b;

	snprintf(path, sizeof(path), "%s/%s", suite_data_dir(), name);
	b = read_bytes(path);
	if (b.p == NULL)
		fail_msg("cannot read %s", path);
	return b;
}

static struct bytes
print_json(cJSON *root)
{
	struct bytes b;

	b.p = cJSON_PrintUnformatted(root);
	assert_non_null(b.p);
	b.len = strlen(b.p);
	cJSON_Delete(root);
	return b;
}

/* c2025 with "*.com" added to set 1 (Optimize): poison, refused even with
 * --force. */
static struct bytes
make_poisoned(const struct bytes *src)
{
	cJSON *root = cJSON_ParseWithLength(src->p, src->len);
	cJSON *set = cJSON_GetArrayItem(root, 0);
	cJSON *urls = cJSON_GetObjectItemCaseSensitive(set, "urls");
	cJSON *cat = cJSON_GetObjectItemCaseSensitive(set, "category");

	assert_true(cJSON_IsArray(urls));
	assert_true(cJSON_IsString(cat));
	assert_string_equal(cat->valuestring, "Optimize");
	assert_true(cJSON_AddItemToArray(urls, cJSON_CreateString("*.com")));
	return print_json(root);
}

/* c2025 cut to its first SHRUNK_SETS sets: far below half. */
static struct bytes
make_shrunk(const struct bytes *src)
{
	cJSON *root = cJSON_ParseWithLength(src->p, src->len);

	assert_true(cJSON_GetArraySize(root) > 2 * SHRUNK_SETS);
	while (cJSON_GetArraySize(root) > SHRUNK_SETS)
		cJSON_DeleteItemFromArray(root, SHRUNK_SETS);
	return print_json(root);
}

/* The set of id in root (a parsed feed). */
static cJSON *
feed_set(cJSON *root, int id)
{
	cJSON *set;

	cJSON_ArrayForEach(set, root) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(set, "id");

		if (cJSON_IsNumber(v) && v->valueint == id)
			return set;
	}
	fail_msg("no set %d", id);
	return NULL;
}

/* c2025 with only set 9's "required" (to false) or "serviceArea" (to
 * Skype) changed: the same names, prefixes, categories and ports, but
 * what required_only or a service_areas filter counts is not. */
static struct bytes
make_rescoped(const struct bytes *src, bool area)
{
	cJSON *root = cJSON_ParseWithLength(src->p, src->len);
	cJSON *set = feed_set(root, 9);
	const char *key = area ? "serviceArea" : "required";
	cJSON *v = cJSON_GetObjectItemCaseSensitive(set, key);

	assert_true(area ? cJSON_IsString(v) && strcmp(v->valuestring,
	    "Exchange") == 0 : cJSON_IsTrue(v));
	assert_true(cJSON_ReplaceItemInObjectCaseSensitive(set, key, area ?
	    cJSON_CreateString("Skype") : cJSON_CreateFalse()));
	return print_json(root);
}

/* Loads the feeds once, inside the first test (so a failure is one). */
static void
load_feeds(void)
{
	if (feeds[FEED_C2022].p != NULL)
		return;
	feeds[FEED_C2022] = data_file("worldwide-c2022.json");
	feeds[FEED_C2025] = data_file("worldwide-c2025.json");
	feeds[FEED_POISON] = make_poisoned(&feeds[FEED_C2025]);
	feeds[FEED_SHRUNK] = make_shrunk(&feeds[FEED_C2025]);
	feeds[FEED_REQUIRED] = make_rescoped(&feeds[FEED_C2025], false);
	feeds[FEED_AREA] = make_rescoped(&feeds[FEED_C2025], true);
}

static void
free_feeds(void)
{
	free(feeds[FEED_C2022].p);
	free(feeds[FEED_C2025].p);
	cJSON_free(feeds[FEED_POISON].p);
	cJSON_free(feeds[FEED_SHRUNK].p);
	cJSON_free(feeds[FEED_REQUIRED].p);
	cJSON_free(feeds[FEED_AREA].p);
}

/* ---- a mirror and a state directory ---- */

struct env {
	char root[64];                  /* /tmp/m365-update-XXXXXX */
	char mirror[128], state[128], base_url[160];
	char instance[16];
	char *hook_argv[4];
	struct m365_strlist hook;
	struct m365_update cfg;
	struct m365_strlist areas;
	struct update_opts o;
};

static void
env_open(struct env *e)
{
	char path[256];

	load_feeds();
	memset(e, 0, sizeof(*e));
	snprintf(e->root, sizeof(e->root), "/tmp/m365-update-XXXXXX");
	assert_non_null(mkdtemp(e->root));
	snprintf(e->mirror, sizeof(e->mirror), "%s/mirror", e->root);
	snprintf(e->state, sizeof(e->state), "%s/state", e->root);
	snprintf(e->base_url, sizeof(e->base_url), "file://%s", e->mirror);
	snprintf(e->instance, sizeof(e->instance), "Worldwide");
	assert_int_equal(mkdir(e->mirror, 0755), 0);
	snprintf(path, sizeof(path), "%s/version", e->mirror);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/endpoints", e->mirror);
	assert_int_equal(mkdir(path, 0755), 0);
	e->cfg.base_url = e->base_url;
	e->cfg.instance = e->instance;
	e->cfg.timeout = 10;
	e->cfg.on_change = &e->hook;     /* none */
	e->o.state_dir = e->state;      /* made by the first run */
	e->o.cfg = &e->cfg;
	e->o.service_areas = &e->areas;
}

static void
env_close(struct env *e)
{
	remove_tree(e->root);
}

/* Makes the mirror announce version and serve feed. */
static void
mirror_serve(const struct env *e, const char *version, enum feed feed)
{
	char path[256], body[128];
	int n;

	n = snprintf(body, sizeof(body), "{\"instance\":\"Worldwide\","
	    "\"latest\":\"%s\"}\n", version);
	snprintf(path, sizeof(path), "%s/version/Worldwide", e->mirror);
	write_bytes(path, body, (size_t)n);
	snprintf(path, sizeof(path), "%s/endpoints/Worldwide", e->mirror);
	if (feed == FEED_NONE)
		unlink(path);
	else
		write_bytes(path, feeds[feed].p, feeds[feed].len);
}

static struct bytes
installed_bytes(const struct env *e)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", e->state, STATE_DATA);
	return read_bytes(path);
}

static void
installed_version(const struct env *e, char version[32])
{
	char instance[32];

	state_installed(e->state, version, 32, instance, sizeof(instance));
}

static bool
bytes_equal(const struct bytes *a, const struct bytes *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- the table ---- */

enum want_diff {
	DIFF_NONE,                      /* res.diff == NULL */
	DIFF_CHANGED                    /* a report with entries */
};

struct step {
	const char *version;            /* what /version announces */
	enum feed feed;                 /* what /endpoints serves */
	bool force;
	enum update_status want;
	const char *msg_start;          /* res.message begins so */
	const char *msg_has;            /* and contains this (NULL: no check) */
	enum want_diff diff;
};

#define MAX_STEPS 4

struct scenario {
	const char *name;
	struct step step[MAX_STEPS];    /* up to the first NULL version */
};

static const struct scenario scenarios[] = {
	{ "first run with nothing to fetch: failed, nothing installed", {
		{ V1, FEED_NONE, false, UPDATE_FAILED,
		  "update failed: ", "; keeping version none", DIFF_NONE },
	} },
	{ "first install, then a newer version with a change report", {
		{ V1, FEED_C2022, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V1 " (was none, ",
		  "endpoint sets)", DIFF_NONE },
		{ V2, FEED_C2025, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V2 " (was " V1 ", ",
		  "endpoint sets)", DIFF_CHANGED },
	} },
	{ "the same or an older version is current; /endpoints not asked", {
		{ V1, FEED_C2022, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V1, NULL, DIFF_NONE },
		{ V1, FEED_NONE, false, UPDATE_CURRENT,
		  "Worldwide version " V1 " is current", NULL, DIFF_NONE },
		{ V0, FEED_NONE, false, UPDATE_CURRENT,
		  "Worldwide version " V1 " is current", NULL, DIFF_NONE },
	} },
	{ "--force fetches the same version: installed, data unchanged", {
		{ V1, FEED_C2022, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V1, NULL, DIFF_NONE },
		{ V1, FEED_C2022, true, UPDATE_INSTALLED,
		  "installed Worldwide version " V1 " (was " V1 ", ",
		  ", data unchanged)", DIFF_NONE },
	} },
	{ "poison refused, --force or not; the installed bytes kept", {
		{ V1, FEED_C2022, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V1, NULL, DIFF_NONE },
		{ V2, FEED_POISON, false, UPDATE_FAILED,
		  "update failed: refused data of version " V2 ": ",
		  "; keeping version " V1, DIFF_NONE },
		{ V2, FEED_POISON, true, UPDATE_FAILED,
		  "update failed: refused data of version " V2 ": ",
		  "; keeping version " V1, DIFF_NONE },
	} },
	{ "rollback: an older version refused without --force, with it "
	  "installed", {
		{ V2, FEED_C2025, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V2, NULL, DIFF_NONE },
		{ V1, FEED_C2022, false, UPDATE_CURRENT,
		  "Worldwide version " V2 " is current; refusing version " V1
		  " older than installed " V2 "; --force to roll back", NULL,
		  DIFF_NONE },
		{ V1, FEED_C2022, true, UPDATE_INSTALLED,
		  "installed Worldwide version " V1 " (was " V2 ", ",
		  ", rolled back)", DIFF_CHANGED },
	} },
	{ "a /version answer that is no date: refused, --force or not; "
	  "nothing installed", {
		{ V1, FEED_C2022, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V1, NULL, DIFF_NONE },
		{ "9999999999", FEED_C2025, false, UPDATE_FAILED,
		  "update failed: /version/Worldwide announced version "
		  "9999999999: not a YYYYMMDDNN date; keeping version " V1,
		  NULL, DIFF_NONE },
		{ "2025023000", FEED_C2025, true, UPDATE_FAILED,
		  "update failed: /version/Worldwide announced version "
		  "2025023000: not a YYYYMMDDNN date; keeping version " V1,
		  NULL, DIFF_NONE },
		{ "1999123100", FEED_C2025, false, UPDATE_FAILED,
		  "update failed: /version/Worldwide announced version "
		  "1999123100: not a YYYYMMDDNN date", NULL, DIFF_NONE },
	} },
	{ "a shrink refused without --force, installed with it", {
		{ V1, FEED_C2025, false, UPDATE_INSTALLED,
		  "installed Worldwide version " V1, NULL, DIFF_NONE },
		{ V2, FEED_SHRUNK, false, UPDATE_FAILED,
		  "update failed: refused data of version " V2 ": ",
		  "; keeping version " V1, DIFF_NONE },
		{ V2, FEED_SHRUNK, true, UPDATE_INSTALLED,
		  "installed Worldwide version " V2 " (was " V1 ", 10 endpoint "
		  "sets)", NULL, DIFF_CHANGED },
	} },
};

/* What a step must leave: the result, the record, the installed data. */
static void
check_step(const struct env *e, const struct step *s,
    const struct update_result *res, const struct bytes *before,
    const char *was)
{
	struct bytes after = installed_bytes(e);
	struct state_status st;
	char version[32];

	assert_int_equal(res->status, s->want);
	if (!starts_with(res->message, s->msg_start))
		fail_msg("message \"%s\" does not start \"%s\"", res->message,
		    s->msg_start);
	if (s->msg_has != NULL && strstr(res->message, s->msg_has) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", res->message, s->msg_has);
	assert_string_equal(res->was, was);
	assert_string_equal(res->record_error, "");
	state_status_read(e->state, &st);
	assert_string_equal(st.last_result, update_strerror(s->want));
	assert_string_equal(st.last_message, res->message);
	installed_version(e, version);
	if (s->want == UPDATE_INSTALLED) {
		assert_string_equal(res->version, s->version);
		assert_string_equal(version, s->version);
		assert_true(bytes_equal(&after, &feeds[s->feed]));
	} else {
		assert_string_equal(version, was);
		assert_true(bytes_equal(&after, before));
	}
	if (s->diff == DIFF_NONE)
		assert_null(res->diff);
	else
		assert_true(res->diff != NULL && !diff_is_empty(res->diff));
	assert_int_equal(res->hook, UPDATE_HOOK_NOT_RUN);
	free(after.p);
}

static void
test_scenario(void **state)
{
	const struct scenario *sc = *state;
	struct env e;

	env_open(&e);
	for (size_t i = 0; i < MAX_STEPS && sc->step[i].version != NULL; i++) {
		const struct step *s = &sc->step[i];
		struct update_result res;
		struct bytes before = installed_bytes(&e);
		char was[32] = "";

		installed_version(&e, was);
		mirror_serve(&e, s->version, s->feed);
		e.o.force = s->force;
		update_run(&e.o, &res);
		check_step(&e, s, &res, &before, was);
		update_result_free(&res);
		free(before.p);
	}
	env_close(&e);
}

/* ---- versions against the clock ---- */

/* The version of the day days from now ("NN" = 00). */
static void
version_in(int days, char v[16])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	assert_non_null(gmtime_r(&t, &tm));
	assert_int_not_equal(strftime(v, 16, "%Y%m%d00", &tm), 0);
}

/* Runs one update; checks the status and that the message has has. */
static void
run_expect(struct env *e, enum update_status want, const char *has)
{
	struct update_result res;

	update_run(&e->o, &res);
	if (res.status != want || strstr(res.message, has) == NULL)
		fail_msg("status %s, message \"%s\"; expected %s with \"%s\"",
		    update_strerror(res.status), res.message,
		    update_strerror(want), has);
	update_result_free(&res);
}

/* More than 31 days ahead is refused, 31 days or less is taken. */
static void
test_future(void **state)
{
	char far[16], near[16], msg[128], v[32];
	struct env e;

	(void)state;
	env_open(&e);
	version_in(32, far);
	version_in(30, near);
	mirror_serve(&e, V1, FEED_C2022);
	run_expect(&e, UPDATE_INSTALLED, "installed Worldwide version " V1);
	mirror_serve(&e, far, FEED_C2025);
	snprintf(msg, sizeof(msg), "announced version %s: more than 31 days "
	    "in the future; keeping version " V1, far);
	run_expect(&e, UPDATE_FAILED, msg);
	e.o.force = true;
	run_expect(&e, UPDATE_FAILED, msg);
	e.o.force = false;
	installed_version(&e, v);
	assert_string_equal(v, V1);
	mirror_serve(&e, near, FEED_C2025);
	snprintf(msg, sizeof(msg), "installed Worldwide version %s (was " V1,
	    near);
	run_expect(&e, UPDATE_INSTALLED, msg);
	env_close(&e);
}

/* Makes the state directory's installed data look as if it were of
 * version (what an older release did with a bogus /version answer, or a
 * clock far off did): the same bytes, another name. */
static void
reinstall_as(const struct env *e, const char *version)
{
	char from[256], to[256], link[256], tmp[256], name[128];

	snprintf(link, sizeof(link), "%s/%s", e->state, STATE_DATA);
	memset(name, 0, sizeof(name));
	assert_true(readlink(link, name, sizeof(name) - 1) > 0);
	snprintf(from, sizeof(from), "%s/%s", e->state, name);
	snprintf(name, sizeof(name), "endpoints-%s-Worldwide.json", version);
	snprintf(to, sizeof(to), "%s/%s", e->state, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-link", e->state);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(symlink(name, tmp), 0);
	assert_int_equal(rename(tmp, link), 0);
}

/* One bogus version installed must not make every real one look old. */
static void
test_not_wedged(void **state)
{
	char far[16], v[32], path[256], msg[256];
	struct env e;

	(void)state;
	version_in(400, far);
	for (int i = 0; i < 2; i++) {
		const char *bogus = i == 0 ? "9999999999" : far;

		env_open(&e);
		mirror_serve(&e, V1, FEED_C2022);
		run_expect(&e, UPDATE_INSTALLED, "installed");
		reinstall_as(&e, bogus);
		installed_version(&e, v);
		assert_string_equal(v, bogus);
		mirror_serve(&e, V2, FEED_C2025);
		snprintf(msg, sizeof(msg), "installed Worldwide version " V2
		    " (was %s, 64 endpoint sets); the installed version %s was "
		    "ignored: %s", bogus, bogus, i == 0 ? "not a YYYYMMDDNN date" :
		    "more than 31 days in the future");
		run_expect(&e, UPDATE_INSTALLED, msg);
		installed_version(&e, v);
		assert_string_equal(v, V2);
		/* and the bogus file is gone with the rest of the old data */
		snprintf(path, sizeof(path), "%s/endpoints-%s-Worldwide.json",
		    e.state, bogus);
		assert_int_not_equal(access(path, F_OK), 0);
		/* from now on the ordinary version check */
		run_expect(&e, UPDATE_CURRENT, "Worldwide version " V2
		    " is current");
		env_close(&e);
	}
}

/* A state directory or a file in it that others can write: refused,
 * nothing read, made or changed, said. */
static void
test_untrusted_state(void **state)
{
	struct bytes before, after;
	char path[256], v[32];
	struct env e;

	(void)state;
	env_open(&e);
	mirror_serve(&e, V1, FEED_C2022);
	run_expect(&e, UPDATE_INSTALLED, "installed");
	mirror_serve(&e, V2, FEED_C2025);
	before = installed_bytes(&e);
	assert_int_equal(chmod(e.state, 0777), 0);
	snprintf(path, sizeof(path), "update: %s: writable by others (mode "
	    "0777); refusing a state directory another user can write",
	    e.state);
	run_expect(&e, UPDATE_FAILED, path);
	assert_int_equal(chmod(e.state, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s", e.state, STATE_STATUS);
	assert_int_equal(chmod(path, 0666), 0);
	run_expect(&e, UPDATE_FAILED, "status.json: writable by others");
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/endpoints-" V1 "-Worldwide.json",
	    e.state);
	assert_int_equal(chmod(path, 0664), 0);
	run_expect(&e, UPDATE_FAILED, "writable by its group");
	after = installed_bytes(&e);
	assert_true(bytes_equal(&before, &after));
	installed_version(&e, v);
	assert_string_equal(v, V1);
	free(after.p);
	assert_int_equal(chmod(path, 0644), 0);
	run_expect(&e, UPDATE_INSTALLED, "installed Worldwide version " V2);
	free(before.p);
	env_close(&e);
}

/* ---- the report callback and the hook ---- */

struct seen {
	int calls;
	bool hook_ran_before;           /* the hook's file was there already */
	enum update_status status;
	const char *hook_file;
};

static void
note_report(const struct update_result *res, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->status = res->status;
	s->hook_ran_before = access(s->hook_file, F_OK) == 0;
}

static void
run_seen(struct env *e, struct seen *seen, struct update_result *res)
{
	enum update_status st;

	seen->calls = 0;
	seen->status = (enum update_status)-1;
	e->o.report = note_report;
	e->o.report_arg = seen;
	st = update_run(&e->o, res);
	assert_int_equal(st, res->status);
	assert_int_equal(seen->calls, 1);
	assert_int_equal(seen->status, res->status);
	assert_false(seen->hook_ran_before);
}

/* An install whose only change is what a policy's filters see: a report
 * of scope changes only, not "same endpoints", and the hook ran. */
static void
assert_rescoped(const struct update_result *res, const char *hook_file)
{
	size_t scope = 0;

	assert_int_equal(res->status, UPDATE_INSTALLED);
	assert_null(strstr(res->message, "same endpoints"));
	assert_null(strstr(res->message, "data unchanged"));
	assert_non_null(res->diff);
	assert_false(diff_is_empty(res->diff));
	for (size_t i = 0; i < res->diff->n; i++) {
		const struct diff_item *it = &res->diff->items[i];

		assert_true(it->from == it->to && it->from != M365_CAT_NONE);
		assert_false(diff_item_is_port_change(it));
		scope += diff_item_is_scope_change(it);
	}
	assert_true(scope > 0);
	assert_int_equal(res->hook, UPDATE_HOOK_OK);
	assert_int_equal(access(hook_file, F_OK), 0);
}

static void
test_hook(void **state)
{
	char touch[] = "touch", hook_file[160], false_cmd[] = "false";
	struct update_result res;
	struct seen seen = { .hook_file = hook_file };
	struct env e;

	(void)state;
	env_open(&e);
	snprintf(hook_file, sizeof(hook_file), "%s/hook-ran", e.root);
	e.hook_argv[0] = touch;
	e.hook_argv[1] = hook_file;
	e.hook = (struct m365_strlist){ e.hook_argv, 2 };

	/* a first install runs it, after the report */
	mirror_serve(&e, V1, FEED_C2022);
	run_seen(&e, &seen, &res);
	assert_int_equal(res.status, UPDATE_INSTALLED);
	assert_int_equal(res.hook, UPDATE_HOOK_OK);
	assert_string_equal(res.hook_message, "");
	assert_int_equal(access(hook_file, F_OK), 0);
	update_result_free(&res);

	/* the same bytes again (--force): no change, no hook */
	assert_int_equal(unlink(hook_file), 0);
	e.o.force = true;
	run_seen(&e, &seen, &res);
	assert_int_equal(res.status, UPDATE_INSTALLED);
	assert_int_equal(res.hook, UPDATE_HOOK_NOT_RUN);
	assert_int_not_equal(access(hook_file, F_OK), 0);
	update_result_free(&res);
	e.o.force = false;

	/* current: no hook */
	run_seen(&e, &seen, &res);
	assert_int_equal(res.status, UPDATE_CURRENT);
	assert_int_equal(res.hook, UPDATE_HOOK_NOT_RUN);
	update_result_free(&res);

	/* refused: no hook */
	mirror_serve(&e, V2, FEED_POISON);
	run_seen(&e, &seen, &res);
	assert_int_equal(res.status, UPDATE_FAILED);
	assert_int_equal(res.hook, UPDATE_HOOK_NOT_RUN);
	assert_int_not_equal(access(hook_file, F_OK), 0);
	update_result_free(&res);

	/* a change of only set 9's required flag, then of only its service
	 * area: required_only or a service_areas filter answer otherwise, so
	 * the data changed and the hook runs */
	mirror_serve(&e, V2, FEED_C2025);
	run_seen(&e, &seen, &res);
	assert_int_equal(res.hook, UPDATE_HOOK_OK);
	update_result_free(&res);
	assert_int_equal(unlink(hook_file), 0);
	mirror_serve(&e, V3, FEED_REQUIRED);
	run_seen(&e, &seen, &res);
	assert_rescoped(&res, hook_file);
	update_result_free(&res);
	assert_int_equal(unlink(hook_file), 0);
	mirror_serve(&e, V4, FEED_AREA);
	run_seen(&e, &seen, &res);
	assert_rescoped(&res, hook_file);
	update_result_free(&res);
	assert_int_equal(unlink(hook_file), 0);

	/* a failing hook is reported; the install stands */
	e.hook_argv[0] = false_cmd;
	e.hook.n = 1;
	mirror_serve(&e, V5, FEED_C2025);
	run_seen(&e, &seen, &res);
	assert_int_equal(res.status, UPDATE_INSTALLED);
	assert_int_equal(res.hook, UPDATE_HOOK_FAILED);
	assert_string_equal(res.hook_message, "on_change: false failed (status 1)");
	update_result_free(&res);
	env_close(&e);
}

/* Serves the China data as instance's (version V1) from the mirror. */
static void
mirror_serve_china(const struct env *e, const char *instance)
{
	struct bytes cn = data_file("china-c2025.json");
	char path[256], body[128];
	int n;

	n = snprintf(body, sizeof(body), "{\"instance\":\"%s\","
	    "\"latest\":\"%s\"}\n", instance, V1);
	snprintf(path, sizeof(path), "%s/version/%s", e->mirror, instance);
	write_bytes(path, body, (size_t)n);
	snprintf(path, sizeof(path), "%s/endpoints/%s", e->mirror, instance);
	write_bytes(path, cn.p, cn.len);
	free(cn.p);
}

/* With a public suffix list that holds the Azure China platforms (config
 * public_suffix_list): the China data installs with the guards' warning
 * in the result; served as the Worldwide data it is refused, and nothing
 * is installed. */
static void
test_guard_warning(void **state)
{
	char psl[512];
	struct update_result res;
	struct bytes after;
	struct env e;

	(void)state;
	snprintf(psl, sizeof(psl), "%s/psl-azure-china.dat", suite_data_dir());
	env_open(&e);
	e.cfg.public_suffix_list = psl;
	snprintf(e.instance, sizeof(e.instance), "China");
	mirror_serve_china(&e, "China");
	update_run(&e.o, &res);
	assert_int_equal(res.status, UPDATE_INSTALLED);
	if (strstr(res.guard_warning, "\"*.chinacloudapp.cn\" (set 7)") ==
	    NULL || strstr(res.guard_warning, psl) == NULL)
		fail_msg("guard warning \"%s\"", res.guard_warning);
	update_result_free(&res);
	env_close(&e);

	env_open(&e);
	e.cfg.public_suffix_list = psl;
	mirror_serve_china(&e, "Worldwide");
	update_run(&e.o, &res);
	assert_int_equal(res.status, UPDATE_FAILED);
	if (!starts_with(res.message, "update failed: refused data of version "
	    V1 ": set 7: urls: \"*.azure-mobile.cn\": fixed part "
	    "\"azure-mobile.cn\" is a public suffix of the private section"))
		fail_msg("message \"%s\"", res.message);
	assert_string_equal(res.guard_warning, "");
	after = installed_bytes(&e);
	assert_null(after.p);           /* nothing installed */
	update_result_free(&res);
	env_close(&e);
}

/* A state directory that cannot be made: failed, said, nothing recorded
 * (there is no directory to record it in). */
static void
test_no_state_dir(void **state)
{
	char dir[256], hook_file[] = "/nonexistent";
	struct update_result res;
	struct seen seen = { .hook_file = hook_file };
	struct env e;

	(void)state;
	env_open(&e);
	snprintf(dir, sizeof(dir), "%s/mirror/version/Worldwide/state", e.root);
	mirror_serve(&e, V1, FEED_C2022);
	e.o.state_dir = dir;
	run_seen(&e, &seen, &res);
	assert_int_equal(res.status, UPDATE_FAILED);
	if (!starts_with(res.message, "update: ") ||
	    strstr(res.message, dir) == NULL)
		fail_msg("message \"%s\"", res.message);
	assert_null(res.diff);
	assert_int_equal(res.hook, UPDATE_HOOK_NOT_RUN);
	update_result_free(&res);
	env_close(&e);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(update_strerror(UPDATE_INSTALLED), "installed");
	assert_string_equal(update_strerror(UPDATE_CURRENT), "current");
	assert_string_equal(update_strerror(UPDATE_FAILED), "failed");
	update_result_free(NULL);
}

/* update_settings: the updater's keys of the configuration, typed. */
static void
test_settings(void **state)
{
	struct m365_config c;
	struct m365_update u;
	char why[256], num[16];

	(void)state;
	assert_int_equal(config_init(&c), 0);
	update_settings(&u, &c);
	assert_string_equal(u.base_url, "https://endpoints.office.com");
	assert_string_equal(u.instance, "Worldwide");
	assert_null(u.ca_file);
	assert_null(u.proxy);
	assert_null(u.tenant);
	assert_false(u.no_ipv6);
	assert_int_equal(u.timeout, 60);
	assert_int_equal(u.retries, 3);
	assert_int_equal(u.retry_delay_ms, 2000);
	assert_int_equal(u.on_change->n, 0);
	/* the guards' keys: the defaults are validate.h's, and the floor
	 * is as far as they relax */
	assert_int_equal(u.min_prefix_v4, VALIDATE_MIN_V4);
	assert_int_equal(u.min_prefix_v6, VALIDATE_MIN_V6);
	assert_null(u.public_suffix_list);
	assert_int_equal(config_set(&c, "min_prefix_v4", "7", why,
	    sizeof(why)), -1);
	assert_string_equal(why, "min_prefix_v4: \"7\" is not a number from "
	    "8 to 32");
	assert_int_equal(config_set(&c, "min_prefix_v6", "15", why,
	    sizeof(why)), -1);
	assert_int_equal(config_set(&c, "min_prefix_v6", "129", why,
	    sizeof(why)), -1);
	assert_int_equal(config_set(&c, "public_suffix_list", "psl.dat", why,
	    sizeof(why)), -1);
	snprintf(num, sizeof(num), "%d", VALIDATE_FLOOR_V4);
	assert_int_equal(config_set(&c, "min_prefix_v4", num, why,
	    sizeof(why)), 0);
	snprintf(num, sizeof(num), "%d", VALIDATE_FLOOR_V6);
	assert_int_equal(config_set(&c, "min_prefix_v6", num, why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "public_suffix_list",
	    "/srv/psl.dat", why, sizeof(why)), 0);
	update_settings(&u, &c);
	assert_int_equal(u.min_prefix_v4, VALIDATE_FLOOR_V4);
	assert_int_equal(u.min_prefix_v6, VALIDATE_FLOOR_V6);
	assert_string_equal(u.public_suffix_list, "/srv/psl.dat");
	assert_int_equal(config_set(&c, "base_url", "file:///m", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "instance", "China", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "ca_file", "/ca.pem", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "proxy", "http://p:3128", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "tenant", "contoso", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "no_ipv6", "yes", why, sizeof(why)), 0);
	assert_int_equal(config_set(&c, "timeout", "7", why, sizeof(why)), 0);
	assert_int_equal(config_set(&c, "retries", "10", why, sizeof(why)), 0);
	assert_int_equal(config_set(&c, "retry_delay", "0.5", why,
	    sizeof(why)), 0);
	assert_int_equal(config_set(&c, "on_change", "/bin/true now", why,
	    sizeof(why)), 0);
	update_settings(&u, &c);
	assert_string_equal(u.base_url, "file:///m");
	assert_string_equal(u.instance, "China");
	assert_string_equal(u.ca_file, "/ca.pem");
	assert_string_equal(u.proxy, "http://p:3128");
	assert_string_equal(u.tenant, "contoso");
	assert_true(u.no_ipv6);
	assert_int_equal(u.timeout, 7);
	assert_int_equal(u.retries, 10);
	assert_int_equal(u.retry_delay_ms, 500);
	assert_int_equal(u.on_change->n, 2);
	assert_string_equal(u.on_change->v[1], "now");
	config_free(&c);
}

int
main(void)
{
	struct suite s = { 0 };
	int rc;

	suite_add(&s, test_strerror, NULL, "update_strerror: status.json's words");
	suite_add(&s, test_settings, NULL,
	    "update_settings: the updater's keys, typed");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		suite_add(&s, test_scenario, (void *)&scenarios[i], "%s",
		    scenarios[i].name);
	suite_add(&s, test_hook, NULL, "on_change: after the report, only "
	    "after a change (a set's required flag or service area too), a "
	    "failure reported");
	suite_add(&s, test_guard_warning, NULL, "the guards' warning: Azure "
	    "China platforms on the list, China data only");
	suite_add(&s, test_no_state_dir, NULL,
	    "a state directory that cannot be made: failed, said");
	suite_add(&s, test_future, NULL,
	    "a version more than 31 days ahead refused (--force too), 30 taken");
	suite_add(&s, test_not_wedged, NULL,
	    "a bogus or far-future version installed is ignored: the next "
	    "real one installs");
	suite_add(&s, test_untrusted_state, NULL,
	    "a state directory or file others can write: refused, kept");
	rc = suite_run(&s, "update");
	free_feeds();
	return rc;
}
