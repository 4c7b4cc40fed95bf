/* check.c - "m365-direct check": a verdict and why, as text or JSON. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "matcher.h"
#include "parse.h"
#include "source.h"

static const char *
match_source(const struct m365_match *m)
{
	switch (m->kind) {
	case M365_FROM_EXTRA:
		return "extra_direct";
	case M365_FROM_NEVER:
		return "never_direct";
	case M365_FROM_SET:
		break;
	}
	return "set";
}

static void
print_text(FILE *f, const char *host, int port, const struct m365_verdict *v)
{
	fprintf(f, "%s", host);
	if (port >= 0)
		fprintf(f, " port %d", port);
	fprintf(f, ": %s (category %s)\n", v->direct ? "DIRECT" : "PROXY",
	    v->custom ? "custom" : matcher_category_name(v->category));
	if (v->reason != NULL)
		fprintf(f, "  not a host name or IP address: %s\n", v->reason);
	if (v->n_total == 0 && v->reason == NULL)
		fprintf(f, "  no endpoint set matches\n");
	for (size_t i = 0; i < v->n_matches; i++) {
		const struct m365_match *m = &v->matches[i];

		if (m->kind == M365_FROM_SET)
			fprintf(f, "  set %-4d %-9s %s %s", m->set_id,
			    matcher_category_name(m->category),
			    v->is_ip ? "prefix " : "pattern", m->what);
		else
			fprintf(f, "  %-18s %s %s", match_source(m),
			    v->is_ip ? "prefix " : "pattern", m->what);
		if (m->excluded != M365_APPLIES)
			fprintf(f, "  (does not count: %s)",
			    matcher_exclusion_name(m->excluded));
		fputc('\n', f);
	}
	if (v->n_total > v->n_matches)
		fprintf(f, "  ... and %zu more matches\n",
		    v->n_total - v->n_matches);
	if (v->never_direct)
		fprintf(f, "  never_direct wins: not direct\n");
}

static cJSON *
verdict_json(const char *host, int port, const struct m365_verdict *v)
{
	cJSON *o = cJSON_CreateObject(), *sets, *matches;
	int ids[M365_VERDICT_MATCHES];
	size_t n = matcher_verdict_sets(v, ids, M365_VERDICT_MATCHES);

	cJSON_AddStringToObject(o, "host", host);
	if (port >= 0)
		cJSON_AddNumberToObject(o, "port", port);
	else
		cJSON_AddNullToObject(o, "port");
	cJSON_AddStringToObject(o, "category", matcher_category_name(v->category));
	cJSON_AddBoolToObject(o, "direct", v->direct);
	cJSON_AddStringToObject(o, "answer", v->custom ? "custom" :
	    matcher_category_name(v->category));
	sets = cJSON_AddArrayToObject(o, "sets");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(sets, cJSON_CreateNumber(ids[i]));
	cJSON_AddBoolToObject(o, "extra_direct", v->extra_direct);
	cJSON_AddBoolToObject(o, "never_direct", v->never_direct);
	if (v->reason != NULL)
		cJSON_AddStringToObject(o, "reason", v->reason);
	matches = cJSON_AddArrayToObject(o, "matches");
	for (size_t i = 0; i < v->n_matches; i++) {
		const struct m365_match *m = &v->matches[i];
		cJSON *j = cJSON_CreateObject();

		cJSON_AddStringToObject(j, "source", match_source(m));
		if (m->kind == M365_FROM_SET) {
			cJSON_AddNumberToObject(j, "set", m->set_id);
			cJSON_AddStringToObject(j, "category",
			    matcher_category_name(m->category));
		}
		cJSON_AddStringToObject(j, v->is_ip ? "prefix" : "pattern", m->what);
		cJSON_AddBoolToObject(j, "counts", m->excluded == M365_APPLIES);
		if (m->excluded != M365_APPLIES)
			cJSON_AddStringToObject(j, "excluded_by",
			    matcher_exclusion_name(m->excluded));
		cJSON_AddItemToArray(matches, j);
	}
	return o;
}

static void
check_print(FILE *f, const struct m365_rules *r, const char *host, int port,
    bool json)
{
	struct m365_verdict v;

	matcher_lookup(r, host, strlen(host), port, &v);
	if (json) {
		cJSON *o = verdict_json(host, port, &v);
		char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

		fprintf(f, "%s\n", s != NULL ? s : "{}");
		free(s);
		cJSON_Delete(o);
	} else {
		print_text(f, host, port, &v);
	}
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	const char *host = NULL, *port_arg = NULL;
	struct m365_rules *r;
	struct source src;
	char err[512];
	bool json = false;
	uint64_t port = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strncmp(argv[i], "--", 2) == 0) {
			log_warnx("check: unknown option %s", argv[i]);
			return 2;
		} else if (host == NULL) {
			host = argv[i];
		} else if (port_arg == NULL) {
			port_arg = argv[i];
		} else {
			cli_usage(stderr);
			return 2;
		}
	}
	if (host == NULL) {
		cli_usage(stderr);
		return 2;
	}
	if (port_arg != NULL && (parse_uint(port_arg, strlen(port_arg), 65535,
	    &port) != 0 || port == 0)) {
		log_warnx("check: port must be 1..65535: %s", port_arg);
		return 2;
	}
	if (cli_load_config(c) != 0)
		return 2;
	/* an explicit --data file is never silently replaced; a broken cache
	 * falls back to the snapshot as the helper does */
	r = source_compile(c->data_opt, c->cfg.state_dir, &c->cfg.policy,
	    c->data_opt == NULL, &src, err, sizeof(err));
	if (r == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	check_print(stdout, r, host, port_arg != NULL ? (int)port : -1, json);
	matcher_free(r);
	return 0;
}

