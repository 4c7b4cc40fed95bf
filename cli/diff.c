/* diff.c - "m365-direct diff OLD NEW [--json]": the change report of the
 * updater for any two endpoint data files (exit 0 whether or not they
 * differ, 1 when a file does not load, 2 on a usage error), and the
 * report's printers, which update uses too. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "endpoints.h"
#include "log.h"
#include "matcher.h"

/* --- the report, printed ------------------------------------------------ *
 * Text: nothing for an empty report; else a summary line naming all three
 * categories, a section header only above entries, entry lines starting
 * "+ ", "- " or "~ "; "-" is no ports, adjacent ports "a,b", runs "a-b".
 * A scope change (matcher/diff.h) is one line under "Service areas and
 * required:", with what changed of the two ways to print a scope: the
 * service areas ("Common, Skype"; an area whose sets give the entry other
 * than it has overall with that view: "Common (Allow; tcp 443; udp -)"),
 * and whether they are required ("yes", "no", or per area: "Exchange yes,
 * Common no", or the view its required sets give).  Either way, two
 * scopes print alike only when they are alike.
 * JSON: one object on one line, every key present (empty arrays included),
 * categories as check --json writes them, port lists in the web service's
 * syntax; "tcp"/"udp" in a ports entry only for what changed; a scope
 * entry holds both sides whole ("from", "to": every area with what its
 * sets and its required sets give, "required" null when none is).
 * diff_print_json writes nothing rather than half an object when out of
 * memory; diff_print_text needs no memory. */

enum { SIDE_REMOVED, SIDE_ADDED };

/* Counts of one category: [side][0 names, 1 prefixes]. */
struct diff_counts {
	size_t cat[4][2][2];
	size_t moved, ports, scope;
};

#define N_CATS 3
static const enum m365_category cat_order[N_CATS] = {
	M365_CAT_OPTIMIZE, M365_CAT_ALLOW, M365_CAT_DEFAULT
};

static unsigned
cat_index(enum m365_category c)
{
	return c >= M365_CAT_DEFAULT && c <= M365_CAT_OPTIMIZE ? (unsigned)c :
	    0;
}

static const char *
cat_title(enum m365_category c)
{
	static const char *const t[] = { "None", "Default", "Allow", "Optimize" };

	return t[cat_index(c)];
}

static void
report_count(const struct diff_report *d, struct diff_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_item *it = &d->items[i];

		if (it->from == M365_CAT_NONE)
			c->cat[cat_index(it->to)][SIDE_ADDED][it->prefix]++;
		else if (it->to == M365_CAT_NONE)
			c->cat[cat_index(it->from)][SIDE_REMOVED][it->prefix]++;
		else if (it->from != it->to)
			c->moved++;
		c->ports += diff_item_is_port_change(it);
		c->scope += diff_item_is_scope_change(it);
	}
}

/* Whether it belongs to the added (side) or removed list of cat's names
 * or prefixes. */
static bool
item_in_list(const struct diff_item *it, int side, enum m365_category cat,
    bool prefix)
{
	if (it->prefix != prefix)
		return false;
	if (side == SIDE_ADDED)
		return it->from == M365_CAT_NONE && it->to == cat;
	return it->to == M365_CAT_NONE && it->from == cat;
}

static bool
item_is_move(const struct diff_item *it)
{
	return it->from != M365_CAT_NONE && it->to != M365_CAT_NONE &&
	    it->from != it->to;
}

/* --- text ----------------------------------------------------------------- */

static void
text_summary(FILE *f, const struct diff_counts *c)
{
	for (int k = 0; k < N_CATS; k++) {
		const size_t (*n)[2] = c->cat[cat_index(cat_order[k])];

		fprintf(f, "%s +%zu -%zu names, +%zu -%zu prefixes; ",
		    cat_title(cat_order[k]), n[SIDE_ADDED][0],
		    n[SIDE_REMOVED][0], n[SIDE_ADDED][1], n[SIDE_REMOVED][1]);
	}
	fprintf(f, "%zu moved, %zu port change%s\n", c->moved, c->ports,
	    c->ports == 1 ? "" : "s");
}

/* One category's names or prefixes: the added, then the removed. */
static void
text_list(FILE *f, const struct diff_report *d, enum m365_category cat,
    bool prefix, size_t count)
{
	if (count == 0)
		return;
	fprintf(f, "%s %s:\n", cat_title(cat), prefix ? "prefixes" : "names");
	for (int side = SIDE_ADDED; side >= SIDE_REMOVED; side--)
		for (size_t i = 0; i < d->n; i++)
			if (item_in_list(&d->items[i], side, cat, prefix))
				fprintf(f, "%c %s\n", side == SIDE_ADDED ?
				    '+' : '-', d->items[i].text);
}

static void
text_moves(FILE *f, const struct diff_report *d, size_t count)
{
	if (count == 0)
		return;
	fputs("Moved:\n", f);
	for (size_t i = 0; i < d->n; i++)
		if (item_is_move(&d->items[i]))
			fprintf(f, "~ %s: %s -> %s\n", d->items[i].text,
			    cat_title(d->items[i].from),
			    cat_title(d->items[i].to));
}

static const char *
text_ports(const char *p)
{
	return p[0] != '\0' ? p : "-";
}

static void
text_port_line(FILE *f, const struct diff_item *it)
{
	bool tcp = strcmp(it->tcp[0], it->tcp[1]) != 0;
	bool udp = strcmp(it->udp[0], it->udp[1]) != 0;

	fprintf(f, "~ %s (%s):", it->text, cat_title(it->to));
	if (tcp)
		fprintf(f, " tcp %s -> %s", text_ports(it->tcp[0]),
		    text_ports(it->tcp[1]));
	if (udp)
		fprintf(f, "%s udp %s -> %s", tcp ? ";" : "",
		    text_ports(it->udp[0]), text_ports(it->udp[1]));
	fputc('\n', f);
}

static void
text_lists(FILE *f, const struct diff_report *d, const struct diff_counts *c)
{
	for (int k = 0; k < N_CATS; k++) {
		const size_t (*n)[2] = c->cat[cat_index(cat_order[k])];

		for (int pfx = 0; pfx < 2; pfx++)
			text_list(f, d, cat_order[k], pfx,
			    n[SIDE_ADDED][pfx] + n[SIDE_REMOVED][pfx]);
	}
}

/* --- text: scope changes --- */

static const char *
area_name(const struct diff_area *a)
{
	return a->name[0] != '\0' ? a->name : "-";
}

static void
text_view(FILE *f, const struct diff_view *v)
{
	fprintf(f, "(%s; tcp %s; udp %s)", cat_title(v->cat),
	    text_ports(v->tcp), text_ports(v->udp));
}

/* "Common, Skype (Default; tcp 443; udp -)". */
static void
text_areas(FILE *f, const struct diff_scope *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		fprintf(f, "%s%s", i > 0 ? ", " : "", area_name(&sc->areas[i]));
		if (!sc->areas[i].as_entry) {
			fputc(' ', f);
			text_view(f, &sc->areas[i].all);
		}
	}
}

static bool
areas_print_alike(const struct diff_scope *a, const struct diff_scope *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct diff_area *x = &a->areas[i], *y = &b->areas[i];

		if (strcmp(x->name, y->name) != 0 || x->as_entry != y->as_entry ||
		    (!x->as_entry && !diff_view_equal(&x->all, &y->all)))
			return false;
	}
	return true;
}

/* DIFF_REQ_ALL or _NONE when every area is so; else DIFF_REQ_PART, and
 * the areas print one by one. */
static enum diff_req
required_all(const struct diff_scope *sc)
{
	for (size_t i = 1; i < sc->n; i++)
		if (sc->areas[i].req != sc->areas[0].req)
			return DIFF_REQ_PART;
	return sc->n > 0 && sc->areas[0].req != DIFF_REQ_PART ?
	    sc->areas[0].req : DIFF_REQ_PART;
}

/* "yes", "no", or "Exchange yes, Common no, Skype (Allow; tcp 443; udp -)". */
static void
text_required(FILE *f, const struct diff_scope *sc)
{
	enum diff_req all = required_all(sc);

	if (all != DIFF_REQ_PART) {
		fputs(all == DIFF_REQ_ALL ? "yes" : "no", f);
		return;
	}
	for (size_t i = 0; i < sc->n; i++) {
		const struct diff_area *a = &sc->areas[i];

		fprintf(f, "%s%s ", i > 0 ? ", " : "", area_name(a));
		if (a->req == DIFF_REQ_PART)
			text_view(f, &a->req_view);
		else
			fputs(a->req == DIFF_REQ_ALL ? "yes" : "no", f);
	}
}

static bool
required_print_alike(const struct diff_scope *a, const struct diff_scope *b)
{
	enum diff_req x = required_all(a), y = required_all(b);

	if (x != y)
		return false;
	if (x != DIFF_REQ_PART)
		return true;
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->areas[i].name, b->areas[i].name) != 0 ||
		    a->areas[i].req != b->areas[i].req ||
		    (a->areas[i].req == DIFF_REQ_PART &&
		    !diff_view_equal(&a->areas[i].req_view,
		    &b->areas[i].req_view)))
			return false;
	return true;
}

/* "~ x (Optimize): service area Exchange -> Skype; required yes -> no" */
static void
text_scope_line(FILE *f, const struct diff_item *it)
{
	const struct diff_scope *a = it->scope[0], *b = it->scope[1];
	bool areas = !areas_print_alike(a, b);
	bool req = !required_print_alike(a, b);

	fprintf(f, "~ %s (%s):", it->text, cat_title(it->to));
	if (areas || !req) {            /* never an empty line */
		fputs(" service area ", f);
		text_areas(f, a);
		fputs(" -> ", f);
		text_areas(f, b);
	}
	if (req) {
		fputs(areas ? "; required " : " required ", f);
		text_required(f, a);
		fputs(" -> ", f);
		text_required(f, b);
	}
	fputc('\n', f);
}

void
diff_print_text(FILE *f, const struct diff_report *d)
{
	struct diff_counts c;

	if (diff_is_empty(d))
		return;
	report_count(d, &c);
	text_summary(f, &c);
	text_lists(f, d, &c);
	text_moves(f, d, c.moved);
	if (c.ports > 0)
		fputs("Ports:\n", f);
	for (size_t i = 0; i < d->n; i++)
		if (diff_item_is_port_change(&d->items[i]))
			text_port_line(f, &d->items[i]);
	if (c.scope > 0)
		fputs("Service areas and required:\n", f);
	for (size_t i = 0; i < d->n; i++)
		if (diff_item_is_scope_change(&d->items[i]))
			text_scope_line(f, &d->items[i]);
}

/* --- JSON ----------------------------------------------------------------- */

/* Adds the four counts of one category to o.  Returns 0, or -1 when out
 * of memory. */
static int
json_counts(cJSON *o, const size_t (*n)[2])
{
	return o != NULL &&
	    cJSON_AddNumberToObject(o, "names_added",
	    (double)n[SIDE_ADDED][0]) != NULL &&
	    cJSON_AddNumberToObject(o, "names_removed",
	    (double)n[SIDE_REMOVED][0]) != NULL &&
	    cJSON_AddNumberToObject(o, "prefixes_added",
	    (double)n[SIDE_ADDED][1]) != NULL &&
	    cJSON_AddNumberToObject(o, "prefixes_removed",
	    (double)n[SIDE_REMOVED][1]) != NULL ? 0 : -1;
}

/* The summary object.  Returns it, or NULL when out of memory. */
static cJSON *
json_summary(const struct diff_counts *c)
{
	cJSON *o = cJSON_CreateObject();
	int rc = o != NULL ? 0 : -1;

	for (int k = 0; rc == 0 && k < N_CATS; k++)
		rc = json_counts(cJSON_AddObjectToObject(o,
		    matcher_category_name(cat_order[k])), c->cat[cat_index(cat_order[k])]);
	if (rc != 0 || cJSON_AddNumberToObject(o, "moved",
	    (double)c->moved) == NULL || cJSON_AddNumberToObject(o, "ports",
	    (double)c->ports) == NULL || cJSON_AddNumberToObject(o, "scope",
	    (double)c->scope) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Appends a string to arr.  Returns 0, or -1 when out of memory. */
static int
json_push(cJSON *arr, const char *s)
{
	cJSON *v = cJSON_CreateString(s);

	if (v == NULL || !cJSON_AddItemToArray(arr, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

/* {"optimize": {"names": [...], "prefixes": [...]}, ...} of one side. */
static cJSON *
json_side(const struct diff_report *d, int side)
{
	cJSON *o = cJSON_CreateObject();
	int rc = o != NULL ? 0 : -1;

	for (int k = 0; rc == 0 && k < N_CATS; k++) {
		cJSON *cat = cJSON_AddObjectToObject(o, matcher_category_name(cat_order[k]));

		for (int pfx = 0; rc == 0 && pfx < 2; pfx++) {
			cJSON *arr = cat == NULL ? NULL : cJSON_AddArrayToObject(
			    cat, pfx ? "prefixes" : "names");

			rc = arr != NULL ? 0 : -1;
			for (size_t i = 0; rc == 0 && i < d->n; i++)
				if (item_in_list(&d->items[i], side,
				    cat_order[k], pfx))
					rc = json_push(arr, d->items[i].text);
		}
	}
	if (rc != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Adds the "entry" and "kind" of it to o.  Returns 0, or -1. */
static int
json_entry(cJSON *o, const struct diff_item *it)
{
	return cJSON_AddStringToObject(o, "entry", it->text) != NULL &&
	    cJSON_AddStringToObject(o, "kind", it->prefix ? "prefix" :
	    "name") != NULL ? 0 : -1;
}

/* Adds key: {"from": a, "to": b} to o when a and b differ.  Returns 0, or
 * -1 when out of memory. */
static int
json_change(cJSON *o, const char *key, const char *a, const char *b)
{
	cJSON *c;

	if (strcmp(a, b) == 0)
		return 0;
	c = cJSON_AddObjectToObject(o, key);
	return c != NULL && cJSON_AddStringToObject(c, "from", a) != NULL &&
	    cJSON_AddStringToObject(c, "to", b) != NULL ? 0 : -1;
}

/* The object of one move or port change.  Returns it, or NULL. */
static cJSON *
json_item(const struct diff_item *it)
{
	cJSON *o = cJSON_CreateObject();
	int rc = o != NULL ? json_entry(o, it) : -1;

	if (rc == 0 && diff_item_is_port_change(it))
		rc = cJSON_AddStringToObject(o, "category",
		    matcher_category_name(it->to)) != NULL &&
		    json_change(o, "tcp", it->tcp[0], it->tcp[1]) == 0 &&
		    json_change(o, "udp", it->udp[0], it->udp[1]) == 0 ? 0 : -1;
	else if (rc == 0)
		rc = cJSON_AddStringToObject(o, "from",
		    matcher_category_name(it->from)) != NULL &&
		    cJSON_AddStringToObject(o, "to", matcher_category_name(it->to)) != NULL ?
		    0 : -1;
	if (rc != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The array of moves (ports false) or port changes (ports true). */
static cJSON *
json_changes(const struct diff_report *d, bool ports)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr != NULL && i < d->n; i++) {
		const struct diff_item *it = &d->items[i];
		cJSON *o;

		if (ports ? !diff_item_is_port_change(it) : !item_is_move(it))
			continue;
		if ((o = json_item(it)) == NULL ||
		    !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	return arr;
}

/* Adds "category", "tcp", "udp" of v to o.  Returns 0, or -1. */
static int
json_view(cJSON *o, const struct diff_view *v)
{
	return o != NULL && cJSON_AddStringToObject(o, "category",
	    matcher_category_name(v->cat)) != NULL &&
	    cJSON_AddStringToObject(o, "tcp", v->tcp) != NULL &&
	    cJSON_AddStringToObject(o, "udp", v->udp) != NULL ? 0 : -1;
}

/* One area: {"service_area", "category", "tcp", "udp", "required": what
 * its required sets give, or null}.  Returns it, or NULL. */
static cJSON *
json_area(const struct diff_area *a)
{
	cJSON *o = cJSON_CreateObject();
	const struct diff_view *req = a->req == DIFF_REQ_PART ? &a->req_view :
	    &a->all;
	int rc = o != NULL && cJSON_AddStringToObject(o, "service_area",
	    a->name) != NULL ? json_view(o, &a->all) : -1;

	if (rc == 0 && a->req == DIFF_REQ_NONE)
		rc = cJSON_AddNullToObject(o, "required") != NULL ? 0 : -1;
	else if (rc == 0)
		rc = json_view(cJSON_AddObjectToObject(o, "required"), req);
	if (rc != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The areas of one side of a scope change.  Returns them, or NULL. */
static cJSON *
json_areas(const struct diff_scope *sc)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr != NULL && i < sc->n; i++) {
		cJSON *o = json_area(&sc->areas[i]);

		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	return arr;
}

static int json_attach(cJSON *o, const char *key, cJSON *item);

/* The array of scope changes. */
static cJSON *
json_scopes(const struct diff_report *d)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr != NULL && i < d->n; i++) {
		const struct diff_item *it = &d->items[i];
		cJSON *o;
		int rc;

		if (!diff_item_is_scope_change(it))
			continue;
		o = cJSON_CreateObject();
		rc = o != NULL && json_entry(o, it) == 0 &&
		    cJSON_AddStringToObject(o, "category",
		    matcher_category_name(it->to)) != NULL &&
		    json_attach(o, "from", json_areas(it->scope[0])) == 0 &&
		    json_attach(o, "to", json_areas(it->scope[1])) == 0 ? 0 : -1;
		if (rc != 0 || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			arr = NULL;
		}
	}
	return arr;
}

/* Adds item as key to o, or deletes it.  Returns 0, or -1 (item NULL or
 * out of memory). */
static int
json_attach(cJSON *o, const char *key, cJSON *item)
{
	if (item == NULL || !cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

int
diff_print_json(FILE *f, const struct diff_report *d)
{
	struct diff_counts c;
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	int rc;

	report_count(d, &c);
	if (o != NULL && json_attach(o, "summary", json_summary(&c)) == 0 &&
	    json_attach(o, "added", json_side(d, SIDE_ADDED)) == 0 &&
	    json_attach(o, "removed", json_side(d, SIDE_REMOVED)) == 0 &&
	    json_attach(o, "moved", json_changes(d, false)) == 0 &&
	    json_attach(o, "ports", json_changes(d, true)) == 0 &&
	    json_attach(o, "scope", json_scopes(d)) == 0)
		text = cJSON_PrintUnformatted(o);
	rc = text != NULL ? 0 : -1;     /* decided before text is freed */
	if (text != NULL)
		fprintf(f, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
	return rc;
}

int
cmd_diff(struct cli *c, int argc, char **argv)
{
	const char *files[2] = { NULL, NULL };
	struct m365_data *d[2] = { NULL, NULL };
	struct diff_report *rep = NULL;
	char err[1024];
	bool json = false;
	int rc = 1, n = 0;

	(void)c;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (n < 2 && strncmp(argv[i], "--", 2) != 0)
			files[n++] = argv[i];
		else
			n = 3;
	}
	if (n != 2) {
		fprintf(stderr, "usage: m365-direct diff OLD NEW [--json]\n");
		return 2;
	}
	for (int i = 0; i < 2; i++)
		if ((d[i] = endpoints_load_file(files[i], err, sizeof(err))) == NULL) {
			log_warnx("diff: %s", err);
			goto done;
		}
	if ((rep = diff_compute(d[0], d[1])) == NULL) {
		log_warnx("diff: out of memory");
		goto done;
	}
	rc = 0;
	if (json && diff_print_json(stdout, rep) != 0) {
		log_warnx("diff: out of memory");
		rc = 1;
	} else if (!json && diff_is_empty(rep)) {
		printf("no changes\n");
	} else if (!json) {
		diff_print_text(stdout, rep);
	}
done:
	diff_free(rep);
	endpoints_free(d[0]);
	endpoints_free(d[1]);
	return rc;
}
