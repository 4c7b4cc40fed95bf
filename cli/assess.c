/* assess.c - "m365-direct assess": the options, the hosts and the proxy
 * to use, then assess/'s checks, printed as one table (a row per host and
 * check) and a summary line, or as one JSON object.
 * Exit 0: nothing failed; 1: something did; 2: usage or configuration
 * error. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assess.h"
#include "cli.h"
#include "geo.h"
#include "host.h"
#include "keys.h"
#include "log.h"
#include "matcher.h"
#include "probe.h"
#include "roots.h"
#include "sample.h"
#include "source.h"
#include "state.h"

#define DEFAULT_LABEL "contoso"         /* fills wildcards without a tenant */

struct assess_args {
	const char *proxy;              /* --proxy */
	const char *hosts[ASSESS_MAX_HOSTS];
	size_t n_hosts;
	bool json, direct;
	const char *public_ca, *ca_file;
};

static int
assess_usage(void)
{
	fprintf(stderr, "usage: m365-direct [-c CONF] [--data FILE] assess "
	    "[--proxy URL] [--host NAME]...\n"
	    "           [--control NAME] [--direct] [--json] "
	    "[--public-ca-file FILE]\n"
	    "           [--ca-file FILE] [--tries N] [--timeout SECONDS]\n");
	return 2;
}

static int
set_key(struct m365_config *cfg, const char *opt, const char *key,
    const char *value)
{
	char why[1024];

	if (config_set(cfg, key, value, why, sizeof(why)) == 0)
		return 0;
	log_warnx("assess: --%s %s: %s", opt, value, why);
	return assess_usage();
}

/* The command line, over the configuration where an option is a key. */
static int
parse_assess_args(struct assess_args *a, struct m365_config *cfg, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "proxy", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "control", required_argument, NULL, 'C' },
		{ "direct", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "public-ca-file", required_argument, NULL, 'P' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "tries", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, rc = 0;

	optind = 0;
	opterr = 0;
	while (rc == 0 && (ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			a->proxy = optarg;
			break;
		case 'D':
			a->direct = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'P':
			a->public_ca = optarg;
			break;
		case 'a':
			a->ca_file = optarg;
			break;
		case 'C':
			rc = set_key(cfg, "control", "assess_control", optarg);
			break;
		case 't':
			rc = set_key(cfg, "tries", "assess_tries", optarg);
			break;
		case 'T':
			rc = set_key(cfg, "timeout", "assess_timeout", optarg);
			break;
		case 'H':
			if (a->n_hosts == ASSESS_MAX_HOSTS) {
				log_warnx("assess: at most %d --host", ASSESS_MAX_HOSTS);
				return assess_usage();
			}
			a->hosts[a->n_hosts++] = optarg;
			break;
		default:
			log_warnx("assess: %s: unknown option or missing argument",
			    argv[optind - 1]);
			return assess_usage();
		}
	}
	if (rc == 0 && optind != argc) {
		log_warnx("assess: %s: unexpected argument", argv[optind]);
		return assess_usage();
	}
	return rc;
}

/* The proxy: --proxy, else the environment, as curl reads it for
 * https:// (no_proxy applies to the environment's only).  Returns 0 (*p
 * empty when there is none) or 2. */
static int
find_proxy(const struct assess_args *a, struct probe_proxy *p,
    const char **from)
{
	static const char *const env[] = { "https_proxy", "HTTPS_PROXY",
	    "all_proxy", "ALL_PROXY" };
	const char *text = a->proxy, *no_proxy = NULL;
	char err[512];

	*from = "--proxy";
	for (size_t i = 0; text == NULL && i < sizeof(env) / sizeof(env[0]); i++)
		if ((text = getenv(env[i])) != NULL && text[0] != '\0') {
			*from = env[i];
			no_proxy = getenv("no_proxy") != NULL ? getenv("no_proxy") :
			    getenv("NO_PROXY");
		} else {
			text = NULL;
		}
	memset(p, 0, sizeof(*p));
	if (text == NULL) {
		*from = NULL;
		return 0;
	}
	if (probe_proxy_parse(text, no_proxy, p, err, sizeof(err)) != 0) {
		log_warnx("assess: %s: %s", *from, err);
		return 2;
	}
	return 0;
}

/* The Microsoft 365 hosts: the --host names, else the sample. */
static int
find_hosts(const struct assess_args *a, const struct m365_rules *r,
    const char *label, struct sample_host *hosts, size_t *n)
{
	const char *why;

	if (a->n_hosts == 0) {
		*n = sample_pick(r, label, hosts, ASSESS_MAX_HOSTS);
		if (*n == 0)
			log_warnx("assess: the data in use has no Optimize or Allow "
			    "host name on TCP 443 under the policy: name some with "
			    "--host");
		return *n == 0 ? 2 : 0;
	}
	for (*n = 0; *n < a->n_hosts; (*n)++)
		if (sample_describe(r, a->hosts[*n], &hosts[*n], &why) != 0) {
			log_warnx("assess: --host %s: %s", a->hosts[*n], why);
			return 2;
		}
	return 0;
}

/* The control must be a host name that does not go direct; its
 * normalised name to out. */
static int
check_control(const struct m365_rules *r, const char *control, char *out,
    size_t size)
{
	static struct m365_verdict v;
	struct host_query q;

	host_normalise(control, strlen(control), &q);
	if (q.kind != HOST_NAME) {
		log_warnx("assess: control %s: not a host name", control);
		return 2;
	}
	snprintf(out, size, "%s", q.name);
	matcher_lookup(r, q.name, q.len, SAMPLE_PORT, &v);
	if (v.direct) {
		log_warnx("assess: control %s goes direct by the data in use "
		    "(category %s): the control must be a host that does not",
		    control, matcher_category_name(v.category));
		return 2;
	}
	return 0;
}

/* --- output ------------------------------------------------------------ */

static const char *
role_text(const struct assess_row *row, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", row->role, row->service_area[0] ? " " : "",
	    row->service_area);
	return buf;
}

static void
print_hosts(const struct sample_host *h, size_t n, bool sampled,
    const char *label)
{
	printf("hosts:   %s", sampled ? "a sample of the data" : "as named");
	if (sampled)
		printf(" (wildcards filled with \"%s\")", label);
	printf(":");
	for (size_t i = 0; i < n; i++) {
		printf(" %s", h[i].name);
		if (h[i].pattern[0] != '\0')
			printf(" (%s)", h[i].pattern);
	}
	printf("\n");
}

struct context {
	const struct assess_opts *o;
	const char *proxy_from;
	const char *label;
	bool sampled;
};

static void
print_text(const struct context *k, const struct assess_report *rep)
{
	const struct assess_opts *o = k->o;
	char role[64];
	int w = 24;

	printf("m365-direct assess: %s%s%s%s\n", o->proxy != NULL ?
	    "through the proxy " : "no proxy (none given, none in the "
	    "environment)", o->proxy != NULL ? o->proxy->url : "",
	    o->proxy != NULL ? " from " : "", o->proxy != NULL ? k->proxy_from : "");
	print_hosts(o->hosts, o->n_hosts, k->sampled, k->label);
	printf("control: %s; %u timed tries per host%s; public roots: %s\n",
	    o->control, o->tries, o->direct ? " and path (--direct)" : "",
	    o->public_name);
	for (size_t i = 0; i < rep->n; i++)
		if ((int)strlen(rep->rows[i].host) > w)
			w = (int)strlen(rep->rows[i].host);
	printf("%-*s  %-20s %-15s %-6s %s\n", w, "HOST", "ROLE", "CHECK",
	    "RESULT", "DETAILS");
	for (size_t i = 0; i < rep->n; i++) {
		const struct assess_row *row = &rep->rows[i];

		printf("%-*s  %-20s %-15s %-6s %s\n", w, row->host,
		    role_text(row, role, sizeof(role)), row->check,
		    assess_status_name(row->status), row->reason);
	}
	printf("summary: %zu PASS, %zu WARN, %zu FAIL, %zu INFO",
	    rep->count[ASSESS_PASS], rep->count[ASSESS_WARN],
	    rep->count[ASSESS_FAIL], rep->count[ASSESS_INFO]);
	if (rep->have_extra)
		printf("; the control's round trip is %.1f ms %s than Microsoft "
		    "365's", rep->control_extra_ms >= 0 ? rep->control_extra_ms :
		    -rep->control_extra_ms, rep->control_extra_ms >= 0 ?
		    "longer" : "shorter");
	if (rep->budget_exhausted)
		printf("; the time budget ran out");
	printf(": %s\n", rep->count[ASSESS_FAIL] > 0 ? "FAIL" :
	    rep->count[ASSESS_WARN] > 0 ? "WARN" : "PASS");
}

static void
json_data(cJSON *o, const struct assess_opts *opts)
{
	const struct assess_data *d = &opts->data;
	cJSON *j = cJSON_AddObjectToObject(o, "data");

	cJSON_AddStringToObject(j, "source", d->source);
	cJSON_AddStringToObject(j, "path", d->path);
	cJSON_AddStringToObject(j, "version", d->version);
	cJSON_AddStringToObject(j, "instance", d->instance);
	cJSON_AddNumberToObject(j, "fetched", (double)d->fetched);
	cJSON_AddNumberToObject(j, "last_success", (double)d->last_success);
}

static void
json_hosts(cJSON *o, const struct assess_opts *opts)
{
	cJSON *a = cJSON_AddArrayToObject(o, "hosts");

	for (size_t i = 0; i < opts->n_hosts; i++) {
		const struct sample_host *h = &opts->hosts[i];
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "name", h->name);
		cJSON_AddStringToObject(j, "category", h->custom ? "custom" :
		    matcher_category_name(h->category));
		cJSON_AddStringToObject(j, "service_area", h->service_area);
		if (h->set_id >= 0)
			cJSON_AddNumberToObject(j, "set", h->set_id);
		if (h->pattern[0] != '\0')
			cJSON_AddStringToObject(j, "pattern", h->pattern);
		cJSON_AddItemToArray(a, j);
	}
}

static void
json_rows(cJSON *o, const struct assess_report *rep)
{
	cJSON *a = cJSON_AddArrayToObject(o, "rows");

	for (size_t i = 0; i < rep->n; i++) {
		const struct assess_row *row = &rep->rows[i];
		cJSON *j = cJSON_CreateObject(), *f;

		cJSON_AddStringToObject(j, "host", row->host);
		cJSON_AddStringToObject(j, "role", row->role);
		cJSON_AddStringToObject(j, "service_area", row->service_area);
		cJSON_AddStringToObject(j, "check", row->check);
		cJSON_AddStringToObject(j, "result",
		    assess_status_name(row->status));
		cJSON_AddStringToObject(j, "reason", row->reason);
		f = cJSON_AddObjectToObject(j, "figures");
		for (size_t k = 0; k < row->n_fig; k++)
			cJSON_AddNumberToObject(f, row->fig[k].name,
			    row->fig[k].value);
		cJSON_AddItemToArray(a, j);
	}
}

static int
print_json(const struct context *k, const struct assess_report *rep)
{
	const struct assess_opts *o = k->o;
	cJSON *j = cJSON_CreateObject(), *s;
	char *text;

	if (o->proxy != NULL) {
		cJSON_AddStringToObject(j, "proxy", o->proxy->url);
		cJSON_AddStringToObject(j, "proxy_from", k->proxy_from);
	} else {
		cJSON_AddNullToObject(j, "proxy");
		cJSON_AddNullToObject(j, "proxy_from");
	}
	cJSON_AddBoolToObject(j, "direct", o->direct);
	cJSON_AddStringToObject(j, "control", o->control);
	cJSON_AddStringToObject(j, "label", k->label);
	cJSON_AddNumberToObject(j, "tries", o->tries);
	cJSON_AddStringToObject(j, "public_roots", o->public_name);
	json_data(j, o);
	json_hosts(j, o);
	json_rows(j, rep);
	if (rep->have_extra)
		cJSON_AddNumberToObject(j, "control_extra_ms",
		    rep->control_extra_ms);
	else
		cJSON_AddNullToObject(j, "control_extra_ms");
	cJSON_AddBoolToObject(j, "budget_exhausted", rep->budget_exhausted);
	s = cJSON_AddObjectToObject(j, "summary");
	cJSON_AddNumberToObject(s, "pass", (double)rep->count[ASSESS_PASS]);
	cJSON_AddNumberToObject(s, "warn", (double)rep->count[ASSESS_WARN]);
	cJSON_AddNumberToObject(s, "fail", (double)rep->count[ASSESS_FAIL]);
	cJSON_AddNumberToObject(s, "info", (double)rep->count[ASSESS_INFO]);
	cJSON_AddStringToObject(s, "result", rep->count[ASSESS_FAIL] > 0 ?
	    "FAIL" : rep->count[ASSESS_WARN] > 0 ? "WARN" : "PASS");
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (text == NULL) {
		log_warnx("assess: out of memory");
		return -1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

/* --- set-up ------------------------------------------------------------ */

/* Everything the run needs that can be wrong before it starts. */
struct setup {
	struct assess_args args;
	struct assess_settings set;
	struct m365_rules *rules;
	struct source src;
	struct state_status st;
	struct sample_host hosts[ASSESS_MAX_HOSTS];
	size_t n_hosts;
	char control[HOST_NAME_MAX_LEN + 1];
	struct probe_proxy proxy;
	const char *proxy_from;
	struct buf roots;
	char public_name[512];
	struct geo_db *geo;
	const char *label;
	bool office;
	double lat, lon;
};

static int
setup_trust_geo(struct setup *s)
{
	char err[1024];
	const char *why;
	int n;

	if ((n = roots_load(s->args.public_ca, &s->roots, err,
	    sizeof(err))) < 0) {
		log_warnx("assess: public roots: %s", err);
		return 2;
	}
	snprintf(s->public_name, sizeof(s->public_name), "%s (%d certificate%s)",
	    s->args.public_ca != NULL ? s->args.public_ca : ROOTS_MOZILLA_DIR, n,
	    n == 1 ? "" : "s");
	if (s->set.geo_database != NULL && (s->geo = geo_open(
	    s->set.geo_database, err, sizeof(err))) == NULL) {
		log_warnx("assess: geo_database: %s", err);
		return 2;
	}
	if (s->set.office_location != NULL) {
		if (geo_parse_location(s->set.office_location, &s->lat, &s->lon,
		    &why) != 0) {
			log_warnx("assess: office_location = %s: %s",
			    s->set.office_location, why);
			return 2;
		}
		s->office = true;
	}
	return 0;
}

static int
setup(struct cli *c, struct setup *s, int argc, char **argv)
{
	char err[1024];
	int rc;

	if (cli_load_config(c) != 0)
		return 2;
	if ((rc = parse_assess_args(&s->args, &c->cfg, argc, argv)) != 0)
		return rc;
	assess_settings_read(&s->set, &c->cfg);
	s->label = s->set.tenant != NULL && sample_label_valid(s->set.tenant) ?
	    s->set.tenant : DEFAULT_LABEL;
	s->rules = source_compile(c->data_opt, c->cfg.state_dir, &c->cfg.policy,
	    c->data_opt == NULL, &s->src, err, sizeof(err));
	if (s->rules == NULL) {
		log_warnx("assess: %s", err);
		return 2;
	}
	if (s->src.kind == SOURCE_CACHE)
		state_status_read(c->cfg.state_dir, &s->st);
	if ((rc = check_control(s->rules, s->set.control, s->control,
	    sizeof(s->control))) != 0 ||
	    (rc = find_hosts(&s->args, s->rules, s->label, s->hosts,
	    &s->n_hosts)) != 0 ||
	    (rc = find_proxy(&s->args, &s->proxy, &s->proxy_from)) != 0)
		return rc;
	return setup_trust_geo(s);
}

static void
fill_opts(const struct setup *s, struct assess_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rules = s->rules;
	o->hosts = s->hosts;
	o->n_hosts = s->n_hosts;
	o->control = s->control;
	o->proxy = s->proxy.url != NULL ? &s->proxy : NULL;
	o->direct = s->args.direct && o->proxy != NULL;
	o->public_roots = &s->roots;
	o->public_name = s->public_name;
	o->ca_file = s->args.ca_file;
	o->tries = s->set.tries;
	o->timeout_ms = s->set.timeout_ms;
	o->margin_ms = s->set.margin_ms;
	o->geo = s->geo;
	o->office = s->office;
	o->office_lat = s->lat;
	o->office_lon = s->lon;
	o->max_distance_km = s->set.max_distance_km;
	o->data.source = source_kind_name(s->src.kind);
	o->data.path = s->src.path;
	o->data.version = s->src.version;
	o->data.instance = s->src.instance;
	o->data.fell_back = s->src.fell_back;
	o->data.fetched = s->st.fetched;
	o->data.last_success = s->st.last_success;
	o->data.last_attempt = s->st.last_attempt;
	o->data.last_result = s->st.last_result;
	o->data.last_message = s->st.last_message;
	o->now = time(NULL);
}

static void
setup_free(struct setup *s)
{
	matcher_free(s->rules);
	probe_proxy_free(&s->proxy);
	buf_free(&s->roots);
	geo_close(s->geo);
}

int
cmd_assess(struct cli *c, int argc, char **argv)
{
	static struct setup s;          /* large: the hosts, the status */
	struct assess_report rep = { 0 };
	struct assess_opts o;
	struct context k;
	int rc;

	memset(&s, 0, sizeof(s));
	s.roots = (struct buf)BUF_INIT(ROOTS_MAX_BYTES);
	if ((rc = setup(c, &s, argc, argv)) != 0) {
		setup_free(&s);
		return rc;
	}
	if (probe_global_init() != 0) {
		log_warnx("assess: libcurl does not initialise");
		setup_free(&s);
		return 1;
	}
	fill_opts(&s, &o);
	k = (struct context){ &o, s.proxy_from, s.label, s.args.n_hosts == 0 };
	rc = assess_run(&o, &rep);
	if (rc != 0)
		log_warnx("assess: out of memory");
	else if (s.args.json)
		rc = print_json(&k, &rep);
	else
		print_text(&k, &rep);
	rc = rc != 0 || rep.count[ASSESS_FAIL] > 0 ? 1 : 0;
	assess_report_free(&rep);
	probe_global_cleanup();
	setup_free(&s);
	return rc;
}
