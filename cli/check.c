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

/* The lines under a verdict's heading: why it is what it is. */
static void
print_matches(FILE *f, const char *indent, const struct m365_verdict *v)
{
	if (v->reason != NULL)
		fprintf(f, "%snot a host name or IP address: %s\n", indent,
		    v->reason);
	if (v->n_total == 0 && v->reason == NULL)
		fprintf(f, "%sno endpoint set matches\n", indent);
	for (size_t i = 0; i < v->n_matches; i++) {
		const struct m365_match *m = &v->matches[i];

		if (m->kind == M365_FROM_SET)
			fprintf(f, "%sset %-4d %-9s %s %s", indent, m->set_id,
			    matcher_category_name(m->category),
			    v->is_ip ? "prefix " : "pattern", m->what);
		else
			fprintf(f, "%s%-18s %s %s", indent, match_source(m),
			    v->is_ip ? "prefix " : "pattern", m->what);
		if (m->excluded != M365_APPLIES)
			fprintf(f, "  (does not count: %s)",
			    matcher_exclusion_name(m->excluded));
		fputc('\n', f);
	}
	if (v->n_total > v->n_matches)
		fprintf(f, "%s... and %zu more matches\n", indent,
		    v->n_total - v->n_matches);
	if (v->never_direct)
		fprintf(f, "%snever_direct wins: not direct\n", indent);
}

static const char *
category_of(bool custom, enum m365_category c)
{
	return custom ? "custom" : matcher_category_name(c);
}

static void
print_heading(FILE *f, const char *what, const char *host,
    const struct m365_verdict *v)
{
	fprintf(f, "  %s %s: %s (category %s)\n", what, host,
	    v->direct ? "DIRECT" : "PROXY", category_of(v->custom,
	    v->category));
}

/* Why the SNI changed the destination's verdict, for an admin. */
static void
print_reason(FILE *f, const struct m365_identity *c, const char *host,
    const char *sni)
{
	switch (c->reason) {
	case M365_REASON_NONE:
		break;
	case M365_REASON_SNI_MISMATCH:
		fprintf(f, "  the destination and the SNI disagree: a connection "
		    "is direct only if each is direct on its own\n");
		if (c->dns_may_verify)
			fprintf(f, "  with verify_sni = dns the helper makes it "
			    "direct if %s resolves to %s\n", sni, host);
		break;
	default:
		fprintf(f, "  DNS check of the SNI: %s\n",
		    matcher_reason_name(c->reason));
		break;
	}
}

static void
print_text(FILE *f, const char *host, const char *sni, int port,
    const struct m365_identity *c)
{
	fprintf(f, "%s", host);
	if (port >= 0)
		fprintf(f, " port %d", port);
	if (sni != NULL)
		fprintf(f, " SNI %s", sni);
	fprintf(f, ": %s (category %s)\n", c->direct ? "DIRECT" : "PROXY",
	    category_of(c->custom, c->category));
	if (sni == NULL) {
		print_matches(f, "  ", &c->dst);
		return;
	}
	print_heading(f, "destination", host, &c->dst);
	print_matches(f, "    ", &c->dst);
	print_heading(f, "SNI", sni, &c->sni);
	print_matches(f, "    ", &c->sni);
	print_reason(f, c, host, sni);
}

/* Adds what one verdict says to o: sets, rules, matches, message. */
static void
add_verdict(cJSON *o, const struct m365_verdict *v)
{
	cJSON *sets, *matches;
	int ids[M365_VERDICT_MATCHES];
	size_t n = matcher_verdict_sets(v, ids, M365_VERDICT_MATCHES);

	sets = cJSON_AddArrayToObject(o, "sets");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(sets, cJSON_CreateNumber(ids[i]));
	cJSON_AddBoolToObject(o, "extra_direct", v->extra_direct);
	cJSON_AddBoolToObject(o, "never_direct", v->never_direct);
	if (v->reason != NULL)
		cJSON_AddStringToObject(o, "message", v->reason);
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
}

static void
add_answer(cJSON *o, bool direct, bool custom, enum m365_category c)
{
	cJSON_AddStringToObject(o, "category", matcher_category_name(c));
	cJSON_AddBoolToObject(o, "direct", direct);
	cJSON_AddStringToObject(o, "answer", category_of(custom, c));
}

/* The connection's answer with the sets and matches of the identity it
 * names (the destination's without an SNI, as the helper answers); with
 * an SNI, "destination_verdict" and "sni_verdict" say what each gives on
 * its own.  "reason": "invalid-host", or why the SNI changed the answer
 * (matcher_reason_name), or null. */
static cJSON *
verdict_json(const char *host, const char *sni, int port,
    const struct m365_identity *c)
{
	cJSON *o = cJSON_CreateObject(), *s;
	const char *reason = matcher_reason_name(c->reason);

	cJSON_AddStringToObject(o, "host", host);
	if (port >= 0)
		cJSON_AddNumberToObject(o, "port", port);
	else
		cJSON_AddNullToObject(o, "port");
	if (sni != NULL)
		cJSON_AddStringToObject(o, "sni", sni);
	else
		cJSON_AddNullToObject(o, "sni");
	add_answer(o, c->direct, c->custom, c->category);
	if (reason == NULL && c->dst.reason != NULL)
		reason = "invalid-host";
	if (reason != NULL)
		cJSON_AddStringToObject(o, "reason", reason);
	else
		cJSON_AddNullToObject(o, "reason");
	add_verdict(o, matcher_identity_basis(c));
	if (sni == NULL)
		return o;
	cJSON_AddBoolToObject(o, "dns_may_verify", c->dns_may_verify);
	s = cJSON_AddObjectToObject(o, "destination_verdict");
	add_answer(s, c->dst.direct, c->dst.custom, c->dst.category);
	add_verdict(s, &c->dst);
	s = cJSON_AddObjectToObject(o, "sni_verdict");
	add_answer(s, c->sni.direct, c->sni.custom, c->sni.category);
	add_verdict(s, &c->sni);
	return o;
}

static void
check_print(FILE *f, const struct m365_rules *r, const char *host,
    const char *sni, int port, bool json)
{
	static struct m365_identity c;

	matcher_lookup_identity(r, host, strlen(host), sni,
	    sni != NULL ? strlen(sni) : 0, port, &c);
	if (json) {
		cJSON *o = verdict_json(host, sni, port, &c);
		char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

		fprintf(f, "%s\n", s != NULL ? s : "{}");
		free(s);
		cJSON_Delete(o);
	} else {
		print_text(f, host, sni, port, &c);
	}
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	const char *host = NULL, *port_arg = NULL, *sni = NULL;
	struct m365_rules *r;
	struct source src;
	bool json = false;
	uint64_t port = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--sni") == 0) {
			if (++i == argc) {
				log_warnx("check: --sni needs a name");
				return 2;
			}
			sni = argv[i];
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
	 * falls back to the snapshot as the helper does; a poisoned one is
	 * refused */
	if ((r = cli_compile(c, &src, "check")) == NULL)
		return 1;
	check_print(stdout, r, host, sni, port_arg != NULL ? (int)port : -1,
	    json);
	matcher_free(r);
	return 0;
}

