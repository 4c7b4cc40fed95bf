/* update.c - see update.h.  Every outcome is one line, the same on stderr
 * (the caller prints it) and in status.json; a failure keeps the last
 * good data byte-identical. */
#include "update.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "endpoints.h"
#include "file.h"
#include "log.h"
#include "state.h"
#include "validate.h"

#define RATE_LIMIT_HOLD 3600            /* seconds after an HTTP 429 */
#define CONNECT_TIMEOUT 15
/* How far ahead of the clock a version's date may be: the web service's
 * versions are the dates they were published. */
#define VERSION_MAX_DAYS_AHEAD 31

struct update {
	const struct update_opts *o;
	struct update_result *res;      /* borrowed: the caller's */
	struct fetch_opts fo;
	char client_id[STATE_GUID_LEN + 1];
	char installed_instance[32];
	/* res->was is a version to compare with (a date, not too far
	 * ahead); when not, ignored says why, for the messages */
	bool installed_ok;
	char ignored[128];
	bool rollback;                  /* --force installs an older version */
	struct state_status st;
	bool hook_due;                  /* installed data that changed */
	char err[1024];
};

const char *
update_strerror(enum update_status st)
{
	switch (st) {
	case UPDATE_INSTALLED:
		return "installed";
	case UPDATE_CURRENT:
		return "current";
	case UPDATE_FAILED:
		break;
	}
	return "failed";
}

void
update_result_free(struct update_result *res)
{
	if (res == NULL)
		return;
	diff_free(res->diff);
	res->diff = NULL;
}

static void
fill_fetch_opts(struct update *u)
{
	const struct m365_update *cu = u->o->cfg;

	u->fo.base_url = cu->base_url;
	u->fo.instance = cu->instance;
	u->fo.client_id = u->client_id;
	u->fo.ca_file = cu->ca_file;
	u->fo.proxy = cu->proxy;
	u->fo.tenant = cu->tenant;
	u->fo.service_areas = u->o->service_areas;
	u->fo.no_ipv6 = cu->no_ipv6;
	u->fo.timeout = (long)cu->timeout;
	u->fo.connect_timeout = cu->timeout < CONNECT_TIMEOUT ?
	    (long)cu->timeout : CONNECT_TIMEOUT;
	u->fo.retries = cu->retries;
	u->fo.retry_delay = cu->retry_delay_ms / 1000.0;
}

/* Records the attempt and says what happened; returns st. */
static enum update_status
finish(struct update *u, enum update_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum update_status
finish(struct update *u, enum update_status st, const char *fmt, ...)
{
	char err[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->st.last_message, sizeof(u->st.last_message), fmt, ap);
	va_end(ap);
	snprintf(u->st.last_result, sizeof(u->st.last_result), "%s",
	    update_strerror(st));
	u->st.last_attempt = time(NULL);
	if (st != UPDATE_FAILED)
		u->st.last_success = u->st.last_attempt;
	if (state_status_write(u->o->state_dir, &u->st, err, sizeof(err)) != 0)
		snprintf(u->res->record_error, sizeof(u->res->record_error), "%s",
		    err);
	snprintf(u->res->message, sizeof(u->res->message), "%s",
	    u->st.last_message);
	u->res->status = st;
	return st;
}

/* A failure before the lock is held: said, not recorded. */
static void
fail_unrecorded(struct update *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail_unrecorded(struct update *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->res->message, sizeof(u->res->message), fmt, ap);
	va_end(ap);
	u->res->status = UPDATE_FAILED;
}

static const char *
was(const struct update *u)
{
	return u->res->was[0] != '\0' ? u->res->was : "none";
}

/* Why v cannot be a version of the web service at time now (not a date,
 * or too far ahead: one bogus answer believed would make every real
 * version look old); NULL when it can. */
static const char *
version_problem(const char *v, time_t now)
{
	time_t day = source_version_day(v);

	if (day == -1)
		return "not a YYYYMMDDNN date";
	if (day > now + (time_t)VERSION_MAX_DAYS_AHEAD * 86400)
		return "more than 31 days in the future";
	return NULL;
}

/* Says why the hook failed, in res. */
static void
hook_failed(struct update_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
hook_failed(struct update_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->hook_message, sizeof(res->hook_message), fmt, ap);
	va_end(ap);
	res->hook = UPDATE_HOOK_FAILED;
}

/* Runs the on_change command (no shell) and waits for it; a failure is
 * reported in res, the install stands. */
static void
run_hook(const struct m365_strlist *argv, struct update_result *res)
{
	pid_t pid, r;
	int status;

	if (argv->n == 0)
		return;
	fflush(NULL);           /* the child must not write our buffers again */
	pid = fork();
	if (pid < 0) {
		hook_failed(res, "on_change: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		char *args[CONFIG_MAX_LIST + 1];

		for (size_t i = 0; i < argv->n; i++)
			args[i] = argv->v[i];
		args[argv->n] = NULL;
		execvp(args[0], args);
		log_warn("on_change: %s", args[0]);     /* the child's only word */
		_exit(127);
	}
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)              /* e.g. SIGCHLD ignored: no status to read */
		hook_failed(res, "on_change: %s: waitpid: %s", argv->v[0],
		    strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		hook_failed(res, "on_change: %s failed (status %d)",
		    argv->v[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else
		res->hook = UPDATE_HOOK_OK;
}

/* Reads the installed cache: its bytes and its data (NULL when there is
 * none or it does not load: then nothing guards against a shrink, and
 * the new data replaces a broken cache).  One open that never blocks:
 * the bytes compared are those of the data guarded against. */
static struct m365_data *
load_installed(const struct update *u, char **raw, size_t *rawlen)
{
	char path[SOURCE_PATH_MAX], err[512];
	struct buf b = BUF_INIT(M365_DATA_MAX_BYTES);
	struct m365_data *d = NULL;
	int fd;

	*raw = NULL;
	*rawlen = 0;
	snprintf(path, sizeof(path), "%s/%s", u->o->state_dir, STATE_DATA);
	if ((fd = file_open_read(path, false)) < 0)
		return NULL;
	if (file_read_fd(fd, path, M365_DATA_MAX_BYTES, &b, err,
	    sizeof(err)) == 0 &&
	    (d = endpoints_parse(b.p, b.len, err, sizeof(err))) != NULL) {
		*raw = b.p;
		*rawlen = b.len;
	} else {
		buf_free(&b);
	}
	close(fd);
	return d;
}

/* Runs the guards on next over prev with the configuration's bounds;
 * what they accepted with a warning goes to res.  Returns 0, or -1 with
 * the reason in u->err. */
static int
guard(struct update *u, const struct m365_data *next,
    const struct m365_data *prev)
{
	struct validate_opts vo;
	struct validate_result vr;

	update_guard_opts(&vo, u->o->cfg, u->fo.instance, u->o->force);

	if (validate_data(next, prev, &vo, &vr, u->err, sizeof(u->err)) != 0)
		return -1;
	snprintf(u->res->guard_warning, sizeof(u->res->guard_warning), "%s",
	    vr.warning);
	return 0;
}

/* Validates and installs the fetched body, with the change report;
 * returns the status. */
static enum update_status
install(struct update *u, const struct fetch_result *r)
{
	const char *instance = u->fo.instance, *latest = u->res->version;
	struct m365_data *next, *prev;
	struct diff_report *diff = NULL;
	enum update_status st;
	char *raw;
	size_t rawlen;
	bool changed;

	next = endpoints_parse(r->body, r->len, u->err, sizeof(u->err));
	if (next == NULL)
		return finish(u, UPDATE_FAILED, "update failed: invalid data from "
		    "/endpoints/%s: %s; keeping version %s", instance, u->err,
		    was(u));
	prev = load_installed(u, &raw, &rawlen);
	if (guard(u, next, prev) != 0) {
		st = finish(u, UPDATE_FAILED, "update failed: refused data of "
		    "version %s: %s; keeping version %s", latest, u->err, was(u));
		goto done;
	}
	changed = prev == NULL || rawlen != r->len ||
	    memcmp(raw, r->body, r->len) != 0;
	if (prev != NULL && changed && (diff = diff_compute(prev, next)) == NULL) {
		st = finish(u, UPDATE_FAILED, "update failed: out of memory");
		goto done;
	}
	if (state_install(u->o->state_dir, r->body, r->len, latest, instance,
	    u->err, sizeof(u->err)) != 0) {
		st = finish(u, UPDATE_FAILED, "update failed: cannot install "
		    "version %s: %s; keeping version %s", latest, u->err, was(u));
		goto done;
	}
	/* "" or installed with durability in doubt */
	snprintf(u->res->warning, sizeof(u->res->warning), "%s", u->err);
	state_cleanup(u->o->state_dir);
	u->st.fetched = time(NULL);
	u->st.rate_limited_until = 0;
	u->hook_due = prev == NULL || (diff != NULL && !diff_is_empty(diff));
	st = finish(u, UPDATE_INSTALLED, "installed %s version %s (was %s, %zu "
	    "endpoint sets%s%s)%s", instance, latest, was(u), next->n_sets,
	    prev != NULL && !changed ? ", data unchanged" :
	    diff != NULL && diff_is_empty(diff) ? ", same endpoints" : "",
	    u->rollback ? ", rolled back" : "", u->ignored);
	u->res->diff = diff;
	diff = NULL;
done:
	diff_free(diff);
	free(raw);
	endpoints_free(prev);
	endpoints_free(next);
	return st;
}

/* The version check, then the fetch when there is something newer. */
static enum update_status
check_and_fetch(struct update *u)
{
	struct fetch_result r;
	enum fetch_status fs;
	enum update_status st;
	const char *installed = u->res->was, *latest = u->res->version, *why;
	/* what the new version is compared with: the installed one, when it
	 * is of this instance and believable */
	bool comparable = u->installed_ok &&
	    strcmp(u->installed_instance, u->fo.instance) == 0;

	if (fetch_version(&u->fo, u->res->version, &r) != FETCH_OK) {
		u->res->version[0] = '\0';
		st = finish(u, UPDATE_FAILED, "update failed: %s; keeping "
		    "version %s", r.message, was(u));
		fetch_result_free(&r);
		return st;
	}
	fetch_result_free(&r);
	if ((why = version_problem(latest, time(NULL))) != NULL) {
		st = finish(u, UPDATE_FAILED, "update failed: /version/%s "
		    "announced version %s: %s; keeping version %s",
		    u->fo.instance, latest, why, was(u));
		u->res->version[0] = '\0';
		return st;
	}
	if (!u->o->force && comparable && strcmp(installed, latest) == 0)
		return finish(u, UPDATE_CURRENT, "%s version %s is current",
		    u->fo.instance, installed);
	/* rollback protection: an older version is an old answer replayed
	 * (a stale mirror or cache, or an attacker); only --force takes it */
	u->rollback = comparable && strcmp(installed, latest) > 0;
	if (!u->o->force && u->rollback)
		return finish(u, UPDATE_CURRENT, "%s version %s is current; "
		    "refusing version %s older than installed %s; --force to "
		    "roll back", u->fo.instance, installed, latest, installed);
	if (!u->o->force && u->st.rate_limited_until > time(NULL))
		return finish(u, UPDATE_FAILED, "update failed: the service "
		    "answered HTTP 429 before; not asking /endpoints again until "
		    "%lld seconds from now (--force overrides); keeping version "
		    "%s", (long long)(u->st.rate_limited_until - time(NULL)),
		    was(u));
	fs = fetch_endpoints(&u->fo, &r);
	if (fs == FETCH_RATE_LIMITED)
		u->st.rate_limited_until = time(NULL) + RATE_LIMIT_HOLD;
	if (fs != FETCH_OK)
		st = finish(u, UPDATE_FAILED, "update failed: %s; keeping "
		    "version %s", r.message, was(u));
	else
		st = install(u, &r);
	fetch_result_free(&r);
	return st;
}

/* Makes the directory and takes its lock, then reads what is there.
 * Returns the lock's descriptor, or -1 with the failure in u->res. */
static int
open_state(struct update *u)
{
	const char *dir = u->o->state_dir, *why;
	int lock;

	if (state_prepare(dir, u->err, sizeof(u->err)) != 0) {
		fail_unrecorded(u, "update: %s", u->err);
		return -1;
	}
	if ((lock = state_lock(dir, u->err, sizeof(u->err))) < 0) {
		fail_unrecorded(u, "update: %s", u->err);
		return -1;
	}
	state_cleanup(dir);             /* what a crash may have left */
	if (state_client_id(dir, u->client_id, u->err, sizeof(u->err)) != 0) {
		fail_unrecorded(u, "update: %s", u->err);
		close(lock);
		return -1;
	}
	state_status_read(dir, &u->st);
	state_installed(dir, u->res->was, sizeof(u->res->was),
	    u->installed_instance, sizeof(u->installed_instance));
	/* a bogus version once installed (by an older release: 9999999999)
	 * must not make every real one look old forever */
	u->installed_ok = u->res->was[0] != '\0';
	if (u->installed_ok &&
	    (why = version_problem(u->res->was, time(NULL))) != NULL) {
		u->installed_ok = false;
		snprintf(u->ignored, sizeof(u->ignored), "; the installed "
		    "version %s was ignored: %s", u->res->was, why);
	}
	return lock;
}

enum update_status
update_run(const struct update_opts *o, struct update_result *res)
{
	struct update u = { .o = o, .res = res };
	int lock;

	memset(res, 0, sizeof(*res));
	if ((lock = open_state(&u)) >= 0) {
		fill_fetch_opts(&u);
		if (fetch_global_init() != 0) {
			fail_unrecorded(&u, "update: libcurl initialisation failed");
		} else {
			check_and_fetch(&u);
			fetch_global_cleanup();
		}
	}
	if (o->report != NULL)
		o->report(res, o->report_arg);
	if (u.hook_due)
		run_hook(o->cfg->on_change, res);
	if (lock >= 0)
		close(lock);
	return res->status;
}
