/* status.c - "m365-direct status": which endpoint data is in use, its
 * version and age, the last update attempt, what the guards say of it now
 * (with the public suffix list they read, and what they accept with a
 * warning); as text, JSON, or node-exporter textfile metrics (written
 * atomically). */
#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "buf.h"
#include "cli.h"
#include "endpoints.h"
#include "log.h"
#include "settings.h"
#include "source.h"
#include "state.h"
#include "validate.h"

#define STATUS_PROM_MAX 65536           /* the textfile, bytes */

struct status {
	struct source src;
	bool loaded;                    /* the data loads */
	char load_error[512];
	size_t n_sets;
	char version[32], instance[32];
	struct state_status st;
	time_t now;
	bool guards_pass;               /* the data in use passes them now */
	char guards_refusal[VALIDATE_TEXT_MAX];
	struct validate_result guards;
};

/* Runs update's guards (poison only: there is nothing to shrink from) on
 * the data in use, as update would with this configuration: the list
 * may have changed since it was installed, and what they accept with a
 * warning is worth seeing after the update that said so. */
static void
check_guards(struct cli *c, struct status *s, const struct m365_data *d)
{
	struct m365_update u;
	struct validate_opts o;

	update_settings(&u, &c->cfg);
	/* the data's own instance; for --data or the snapshot, update's */
	update_guard_opts(&o, &u, s->instance, true);
	s->guards_pass = validate_data(d, NULL, &o, &s->guards,
	    s->guards_refusal, sizeof(s->guards_refusal)) == 0;
}

static void
gather(struct cli *c, struct status *s)
{
	struct m365_data *d;

	s->now = time(NULL);
	d = source_load(c->data_opt, c->cfg.state_dir, &s->src, s->load_error,
	    sizeof(s->load_error));
	s->loaded = d != NULL;
	s->n_sets = d != NULL ? d->n_sets : 0;
	state_status_read(c->cfg.state_dir, &s->st);
	/* the version of the file source_load read, not the link read again */
	snprintf(s->version, sizeof(s->version), "%s", s->src.version);
	snprintf(s->instance, sizeof(s->instance), "%s", s->src.instance);
	if (d != NULL)
		check_guards(c, s, d);
	endpoints_free(d);
}

static void
print_time(const char *label, time_t t, time_t now)
{
	char buf[64];

	if (t == 0) {
		printf("%-18s never\n", label);
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	printf("%-18s %s (%lld s ago)\n", label, buf, (long long)(now - t));
}

/* s for a terminal: printable ASCII as it is, any other byte as \xHH
 * (status.json is a file: no escape sequence of its reaches the screen). */
static void
print_plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p >= 0x20 && *p < 0x7f)
			putchar(*p);
		else
			printf("\\x%02x", *p);
}

static void
print_text(const struct status *s)
{
	printf("%-18s %s%s%s\n", "data in use:", source_kind_name(s->src.kind),
	    s->src.path[0] != '\0' ? " " : "", s->src.path);
	if (!s->loaded) {
		printf("%-18s ", "error:");
		print_plain(s->load_error);
		putchar('\n');
	}
	printf("%-18s %s\n", "version:", s->version[0] != '\0' ? s->version :
	    "unknown");
	printf("%-18s %s\n", "instance:", s->instance[0] != '\0' ? s->instance :
	    "unknown");
	printf("%-18s %zu\n", "endpoint sets:", s->n_sets);
	if (s->loaded && s->guards_pass)
		printf("%-18s pass (public suffix list: %s)\n", "guards:",
		    s->guards.psl);
	else if (s->loaded)
		printf("%-18s update would refuse this data now: %s\n",
		    "guards:", s->guards_refusal);
	if (s->loaded && s->guards.warning[0] != '\0')
		printf("%-18s %s\n", "guards warning:", s->guards.warning);
	if (s->src.kind == SOURCE_CACHE)
		print_time("fetched:", s->st.fetched, s->now);
	print_time("last attempt:", s->st.last_attempt, s->now);
	if (s->st.last_attempt != 0) {
		printf("%-18s ", "last result:");
		print_plain(s->st.last_result);
		printf(": ");
		print_plain(s->st.last_message);
		putchar('\n');
	}
	print_time("last success:", s->st.last_success, s->now);
	if (s->st.rate_limited_until > s->now)
		printf("%-18s no /endpoints call for %lld s (HTTP 429)\n",
		    "rate limited:", (long long)(s->st.rate_limited_until - s->now));
}

/* "guards": {"pass", "public_suffix_list", "refusal", "warning"}. */
static void
json_guards(cJSON *o, const struct status *s)
{
	cJSON *g = cJSON_AddObjectToObject(o, "guards");

	cJSON_AddBoolToObject(g, "pass", s->guards_pass);
	cJSON_AddStringToObject(g, "public_suffix_list", s->guards.psl);
	cJSON_AddStringToObject(g, "refusal", s->guards_pass ? "" :
	    s->guards_refusal);
	cJSON_AddStringToObject(g, "warning", s->guards.warning);
}

static void
print_json(const struct status *s)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "source", source_kind_name(s->src.kind));
	cJSON_AddStringToObject(o, "path", s->src.path);
	cJSON_AddBoolToObject(o, "loads", s->loaded);
	if (!s->loaded)
		cJSON_AddStringToObject(o, "error", s->load_error);
	cJSON_AddStringToObject(o, "version", s->version);
	cJSON_AddStringToObject(o, "instance", s->instance);
	cJSON_AddNumberToObject(o, "sets", (double)s->n_sets);
	if (s->loaded)
		json_guards(o, s);
	cJSON_AddNumberToObject(o, "fetched", (double)s->st.fetched);
	cJSON_AddNumberToObject(o, "age_seconds", s->st.fetched != 0 ?
	    (double)(s->now - s->st.fetched) : -1);
	cJSON_AddNumberToObject(o, "last_attempt", (double)s->st.last_attempt);
	cJSON_AddStringToObject(o, "last_result", s->st.last_result);
	cJSON_AddStringToObject(o, "last_message", s->st.last_message);
	cJSON_AddNumberToObject(o, "last_success", (double)s->st.last_success);
	cJSON_AddNumberToObject(o, "rate_limited_until",
	    (double)s->st.rate_limited_until);
	text = cJSON_PrintUnformatted(o);
	printf("%s\n", text != NULL ? text : "{}");
	free(text);
	cJSON_Delete(o);
}

/* Appends one metric with its HELP and TYPE lines. */
static void
metric(struct buf *b, const char *name, const char *help,
    const char *labels, double value)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s%s %.0f\n", name, help,
	    name, name, labels, value);
}

/* Appends name="value" to a label set, value escaped as the text format
 * wants (backslash, double quote, newline); it comes from a file. */
static void
label(struct buf *b, const char *name, const char *value, bool last)
{
	buf_printf(b, "%s=\"", name);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			buf_add(b, "\\n", 2);
		else
			buf_add(b, p, 1);
	}
	buf_add(b, last ? "\"}" : "\",", 2);
}

static int
write_prometheus(const struct status *s, const char *file)
{
	struct buf out = BUF_INIT(STATUS_PROM_MAX), labels = BUF_INIT(1024);
	char err[512], *dir, *base, *d1, *d2;
	int rc;

	buf_add(&labels, "{", 1);
	label(&labels, "source", source_kind_name(s->src.kind), false);
	label(&labels, "version", s->version, false);
	label(&labels, "instance", s->instance, true);
	metric(&out, "m365_direct_data_info", "The endpoint data in use.",
	    labels.error == BUF_OK ? labels.p : "", 1);
	buf_free(&labels);
	metric(&out, "m365_direct_data_loads",
	    "Whether the data in use loads (1) or not (0).", "", s->loaded);
	metric(&out, "m365_direct_endpoint_sets",
	    "Endpoint sets in the data in use.", "", (double)s->n_sets);
	metric(&out, "m365_direct_data_fetched_timestamp_seconds",
	    "When the cached data was fetched (0: never).", "",
	    (double)s->st.fetched);
	metric(&out, "m365_direct_last_attempt_timestamp_seconds",
	    "When the last update ran (0: never).", "",
	    (double)s->st.last_attempt);
	metric(&out, "m365_direct_last_success_timestamp_seconds",
	    "When an update last succeeded (0: never).", "",
	    (double)s->st.last_success);
	metric(&out, "m365_direct_last_update_ok",
	    "Whether the last update succeeded.", "",
	    strcmp(s->st.last_result, "failed") != 0 && s->st.last_attempt != 0);
	metric(&out, "m365_direct_rate_limited_until_timestamp_seconds",
	    "No /endpoints call before this time (HTTP 429; 0: none).", "",
	    (double)s->st.rate_limited_until);
	if (out.error != BUF_OK) {
		log_warnx("status: %s: %s", file, buf_strerror(out.error));
		buf_free(&out);
		return 1;
	}
	if ((d1 = strdup(file)) == NULL || (d2 = strdup(file)) == NULL) {
		free(d1);
		buf_free(&out);
		log_warnx("status: out of memory");
		return 1;
	}
	dir = dirname(d1);
	base = basename(d2);
	rc = atomic_install(dir, base, out.p, out.len, err, sizeof(err));
	if (rc != 0)
		log_warnx("status: %s", err);
	free(d1);
	free(d2);
	buf_free(&out);
	return rc != 0 ? 1 : 0;
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	const char *prom = NULL;
	struct status s;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--prometheus") == 0 && i + 1 < argc) {
			prom = argv[++i];
		} else {
			fprintf(stderr, "usage: m365-direct status [--json] "
			    "[--prometheus FILE]\n");
			return 2;
		}
	}
	if (cli_load_config(c) != 0)
		return 2;
	memset(&s, 0, sizeof(s));
	gather(c, &s);
	if (json)
		print_json(&s);
	else if (prom == NULL)
		print_text(&s);
	return prom != NULL ? write_prometheus(&s, prom) : 0;
}
