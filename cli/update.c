/* update.c - "m365-direct update": the version check, the fetch, the
 * guards, the crash-safe install, the change report and the on_change
 * hook, one clear line on stderr saying what happened (DESIGN.md §2, §7).
 * Exit 0: installed or already current; 1: failed, the last good data
 * kept; 2: usage or configuration error. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "diff.h"
#include "endpoints.h"
#include "fetch.h"
#include "log.h"
#include "parse.h"
#include "state.h"
#include "validate.h"

#define RATE_LIMIT_HOLD 3600            /* seconds after an HTTP 429 */
#define CONNECT_TIMEOUT 15

struct update {
	struct cli *cli;
	const char *dir;
	bool force;
	struct fetch_opts fo;
	char client_id[STATE_GUID_LEN + 1];
	char installed[32], installed_instance[32];
	struct state_status st;
	char err[1024];
};

static int
update_usage(void)
{
	fprintf(stderr, "usage: m365-direct [-c CONF] [--state-dir DIR] update "
	    "[--force] [--base-url URL]\n"
	    "           [--instance NAME] [--ca-file FILE] [--proxy URL] "
	    "[--timeout SECONDS]\n"
	    "           [--retries N] [--retry-delay SECONDS]\n");
	return 2;
}

/* Says what is wrong with an option; returns 2 (usage error). */
static int
bad_option(const char *opt, const char *arg, const char *expected)
{
	if (arg != NULL)
		log_warnx("update: %s %s: expected %s", opt, arg, expected);
	else
		log_warnx("update: %s: %s", opt, expected);
	return update_usage();
}

/* Applies the command line over the configuration; returns 0 or 2. */
static int
parse_update_args(struct update *u, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "instance", required_argument, NULL, 'i' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "proxy", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "retry-delay", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct m365_update *cu = &u->cli->cfg.update;
	uint64_t n;
	int ch;

	optind = 0;     /* GNU: rescan from argv[1] */
	opterr = 0;     /* our own messages, with the program's name */
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		char **slot = ch == 'b' ? &cu->base_url : ch == 'i' ?
		    &cu->instance : ch == 'a' ? &cu->ca_file : ch == 'p' ?
		    &cu->proxy : NULL;

		if (ch == 'f') {
			u->force = true;
		} else if (slot != NULL) {
			free(*slot);
			if ((*slot = strdup(optarg)) == NULL)
				return 2;
		} else if (ch == 't') {
			if (parse_uint(optarg, strlen(optarg), M365_MAX_TIMEOUT,
			    &n) != 0 || n == 0)
				return bad_option("--timeout", optarg, "1..3600 seconds");
			cu->timeout = (unsigned)n;
		} else if (ch == 'r') {
			if (parse_uint(optarg, strlen(optarg), M365_MAX_RETRIES,
			    &n) != 0)
				return bad_option("--retries", optarg, "0..10");
			cu->retries = (unsigned)n;
		} else if (ch == 'd') {
			if (parse_millis(optarg, strlen(optarg),
			    M365_MAX_RETRY_DELAY_MS, &n) != 0)
				return bad_option("--retry-delay", optarg,
				    "0..600 seconds");
			cu->retry_delay_ms = (unsigned)n;
		} else {
			return bad_option(argv[optind - 1], NULL,
			    "unknown option or missing argument");
		}
	}
	if (optind != argc)
		return bad_option(argv[optind], NULL, "unexpected argument");
	return 0;
}

/* Checks the settings that come from either place; returns 0 or 2. */
static int
check_settings(const struct m365_update *cu)
{
	if (strncmp(cu->base_url, "https://", 8) != 0 &&
	    strncmp(cu->base_url, "file://", 7) != 0) {
		log_warnx("update: --base-url: only https:// and file:// are "
		    "accepted: %s", cu->base_url);
		return 2;
	}
	if (!config_instance_valid(cu->instance)) {
		log_warnx("update: --instance: \"%s\" is not Worldwide, USGovDoD, "
		    "USGovGCCHigh or China", cu->instance);
		return 2;
	}
	if (cu->timeout == 0) {
		log_warnx("update: timeout must be at least 1 second");
		return 2;
	}
	return 0;
}

static void
fill_fetch_opts(struct update *u)
{
	const struct m365_config *cfg = &u->cli->cfg;

	u->fo.base_url = cfg->update.base_url;
	u->fo.instance = cfg->update.instance;
	u->fo.client_id = u->client_id;
	u->fo.ca_file = cfg->update.ca_file;
	u->fo.proxy = cfg->update.proxy;
	u->fo.tenant = cfg->update.tenant;
	u->fo.service_areas = &cfg->policy.service_areas;
	u->fo.no_ipv6 = cfg->update.no_ipv6;
	u->fo.timeout = (long)cfg->update.timeout;
	u->fo.connect_timeout = cfg->update.timeout < CONNECT_TIMEOUT ?
	    (long)cfg->update.timeout : CONNECT_TIMEOUT;
	u->fo.retries = cfg->update.retries;
	u->fo.retry_delay = cfg->update.retry_delay_ms / 1000.0;
}

/* Records the attempt and says what happened; returns the exit status. */
static int
finish(struct update *u, const char *result, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
finish(struct update *u, const char *result, int rc, const char *fmt, ...)
{
	char err[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->st.last_message, sizeof(u->st.last_message), fmt, ap);
	va_end(ap);
	snprintf(u->st.last_result, sizeof(u->st.last_result), "%s", result);
	u->st.last_attempt = time(NULL);
	if (rc == 0)
		u->st.last_success = u->st.last_attempt;
	if (state_status_write(u->dir, &u->st, err, sizeof(err)) != 0)
		log_warnx("update: cannot record the attempt: %s", err);
	log_warnx("%s", u->st.last_message);
	return rc;
}

static const char *
was(const struct update *u)
{
	return u->installed[0] != '\0' ? u->installed : "none";
}

/* Runs the on_change command (no shell); a failure is reported, the
 * install stands. */
static void
run_hook(const struct m365_strlist *argv)
{
	pid_t pid, r;
	int status;

	if (argv->n == 0)
		return;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_warn("on_change: fork");
		return;
	}
	if (pid == 0) {
		char *args[CONFIG_MAX_LIST + 1];

		for (size_t i = 0; i < argv->n; i++)
			args[i] = argv->v[i];
		args[argv->n] = NULL;
		execvp(args[0], args);
		log_warn("on_change: %s", args[0]);
		_exit(127);
	}
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0) {            /* e.g. SIGCHLD ignored: no status to read */
		log_warn("on_change: %s: waitpid", argv->v[0]);
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warnx("on_change: %s failed (status %d)", argv->v[0],
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Reads the installed cache: its bytes and its data (NULL when there is
 * none or it does not load: then nothing guards against a shrink, and
 * the new data replaces a broken cache). */
static struct m365_data *
load_installed(const struct update *u, char **raw, size_t *rawlen)
{
	char path[SOURCE_PATH_MAX], err[512];
	struct m365_data *d;
	FILE *f;

	*raw = NULL;
	*rawlen = 0;
	snprintf(path, sizeof(path), "%s/%s", u->dir, STATE_DATA);
	d = endpoints_load_file(path, err, sizeof(err));
	if (d == NULL || (f = fopen(path, "rb")) == NULL)
		return d;
	*raw = malloc(M365_DATA_MAX_BYTES + 1);
	if (*raw != NULL)
		*rawlen = fread(*raw, 1, M365_DATA_MAX_BYTES + 1, f);
	fclose(f);
	return d;
}

/* Validates, installs and reports the fetched body; returns the exit
 * status. */
static int
install(struct update *u, const char *latest, const struct fetch_result *r)
{
	const char *instance = u->fo.instance;
	struct m365_data *next, *prev;
	struct diff_report *diff = NULL;
	char *raw;
	size_t rawlen;
	bool changed;
	int rc;

	next = endpoints_parse(r->body, r->len, u->err, sizeof(u->err));
	if (next == NULL)
		return finish(u, "failed", 1, "update failed: invalid data from "
		    "/endpoints/%s: %s; keeping version %s", instance, u->err,
		    was(u));
	prev = load_installed(u, &raw, &rawlen);
	if (validate_data(next, prev, u->force, u->err, sizeof(u->err)) != 0) {
		rc = finish(u, "failed", 1, "update failed: refused data of "
		    "version %s: %s; keeping version %s", latest, u->err, was(u));
		goto done;
	}
	changed = prev == NULL || rawlen != r->len ||
	    memcmp(raw, r->body, r->len) != 0;
	if (prev != NULL && changed && (diff = diff_compute(prev, next)) == NULL) {
		rc = finish(u, "failed", 1, "update failed: out of memory");
		goto done;
	}
	if (state_install(u->dir, r->body, r->len, latest, instance, u->err,
	    sizeof(u->err)) != 0) {
		rc = finish(u, "failed", 1, "update failed: cannot install "
		    "version %s: %s; keeping version %s", latest, u->err, was(u));
		goto done;
	}
	if (u->err[0] != '\0')         /* installed; durability in doubt */
		log_warnx("update: warning: %s", u->err);
	state_cleanup(u->dir);
	u->st.fetched = time(NULL);
	u->st.rate_limited_until = 0;
	if (diff != NULL)
		diff_print_text(stdout, diff);
	rc = finish(u, "installed", 0, "installed %s version %s (was %s, %zu "
	    "endpoint sets%s)", instance, latest, was(u), next->n_sets,
	    prev != NULL && !changed ? ", data unchanged" :
	    diff != NULL && diff_is_empty(diff) ? ", same endpoints" : "");
	if (prev == NULL || (diff != NULL && !diff_is_empty(diff)))
		run_hook(&u->cli->cfg.update.on_change);
done:
	diff_free(diff);
	free(raw);
	endpoints_free(prev);
	endpoints_free(next);
	return rc;
}

/* The version check, then the fetch when there is something newer. */
static int
run_update(struct update *u)
{
	char latest[FETCH_VERSION_LEN + 1];
	struct fetch_result r;
	enum fetch_status st;
	bool same_instance = strcmp(u->installed_instance, u->fo.instance) == 0;
	int rc;

	if (fetch_version(&u->fo, latest, &r) != FETCH_OK) {
		fetch_result_free(&r);
		return finish(u, "failed", 1, "update failed: %s; keeping version "
		    "%s", r.message, was(u));
	}
	fetch_result_free(&r);
	if (!u->force && same_instance && u->installed[0] != '\0' &&
	    strcmp(u->installed, latest) >= 0)
		return finish(u, "current", 0, "%s version %s is current",
		    u->fo.instance, u->installed);
	if (!u->force && u->st.rate_limited_until > time(NULL))
		return finish(u, "failed", 1, "update failed: the service answered "
		    "HTTP 429 before; not asking /endpoints again until %lld "
		    "seconds from now (--force overrides); keeping version %s",
		    (long long)(u->st.rate_limited_until - time(NULL)), was(u));
	st = fetch_endpoints(&u->fo, &r);
	if (st == FETCH_RATE_LIMITED)
		u->st.rate_limited_until = time(NULL) + RATE_LIMIT_HOLD;
	if (st != FETCH_OK)
		rc = finish(u, "failed", 1, "update failed: %s; keeping version "
		    "%s", r.message, was(u));
	else
		rc = install(u, latest, &r);
	fetch_result_free(&r);
	return rc;
}

int
cmd_update(struct cli *c, int argc, char **argv)
{
	struct update u = { .cli = c };
	int rc, lock;

	if (cli_load_config(c) != 0)
		return 2;
	if ((rc = parse_update_args(&u, argc, argv)) != 0 ||
	    (rc = check_settings(&c->cfg.update)) != 0)
		return rc;
	if (c->data_opt != NULL) {
		log_warnx("update: --data does not apply: update writes the cache");
		return 2;
	}
	u.dir = c->cfg.state_dir;
	if (mkdir(u.dir, 0755) != 0 && errno != EEXIST) {
		log_warn("update: %s", u.dir);
		return 1;
	}
	if ((lock = state_lock(u.dir, u.err, sizeof(u.err))) < 0) {
		log_warnx("update: %s", u.err);
		return 1;
	}
	state_cleanup(u.dir);           /* what a crash may have left */
	if (state_client_id(u.dir, u.client_id, u.err, sizeof(u.err)) != 0) {
		log_warnx("update: %s", u.err);
		close(lock);
		return 1;
	}
	fill_fetch_opts(&u);
	state_status_read(u.dir, &u.st);
	state_installed(u.dir, u.installed, sizeof(u.installed),
	    u.installed_instance, sizeof(u.installed_instance));
	if (fetch_global_init() != 0) {
		log_warnx("update: libcurl initialisation failed");
		close(lock);
		return 1;
	}
	rc = run_update(&u);
	fetch_global_cleanup();
	close(lock);
	return rc;
}
