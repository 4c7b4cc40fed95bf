/* check.c - see check.h. */
#include "check.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

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

void
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
