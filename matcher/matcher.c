/* matcher.c - see matcher.h. */
#include "matcher.h"

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host.h"
#include "names.h"
#include "prefix.h"

/* One pattern or prefix and where it came from. */
struct ref {
	enum m365_source_kind kind;
	uint32_t set;                   /* index into data->sets (FROM_SET) */
	const char *what;               /* borrowed from data or rules->texts */
};

struct m365_rules {
	struct m365_data *data;
	bool owns_data;                 /* matcher_compile's; else borrowed */
	enum m365_exclusion *set_excluded;   /* per set: policy exclusion */
	unsigned direct_mask;
	bool match_ports;
	struct name_table *names;
	struct ref *name_refs;
	struct prefix_table *prefixes;
	struct ref *prefix_refs;
	struct ip_prefix *prefix_list;  /* as compiled, for matcher_entries */
	size_t n_names, n_prefixes;
	struct m365_strlist texts;      /* normalised policy entries */
};

/* Growing arrays of patterns/prefixes with their refs, while compiling. */
struct collect {
	const char **patterns;
	struct ref *name_refs;
	size_t n_names;
	struct ip_prefix *prefixes;
	struct ref *prefix_refs;
	size_t n_prefixes;
};

const char *
matcher_category_name(enum m365_category c)
{
	switch (c) {
	case M365_CAT_OPTIMIZE:
		return "optimize";
	case M365_CAT_ALLOW:
		return "allow";
	case M365_CAT_DEFAULT:
		return "default";
	case M365_CAT_NONE:
		break;
	}
	return "none";
}

const char *
matcher_exclusion_name(enum m365_exclusion e)
{
	switch (e) {
	case M365_EXCLUDED_PORT:
		return "port";
	case M365_EXCLUDED_SERVICE_AREA:
		return "service area";
	case M365_EXCLUDED_NOT_REQUIRED:
		return "not required";
	case M365_APPLIES:
		break;
	}
	return "";
}

enum m365_exclusion
matcher_policy_exclusion(const struct m365_policy *p, const struct m365_set *s)
{
	if (p->service_areas.n > 0) {
		bool listed = false;

		for (size_t i = 0; i < p->service_areas.n; i++)
			if (strcasecmp(p->service_areas.v[i], s->service_area) == 0)
				listed = true;
		if (!listed)
			return M365_EXCLUDED_SERVICE_AREA;
	}
	if (p->required_only && !s->required)
		return M365_EXCLUDED_NOT_REQUIRED;
	return M365_APPLIES;
}

/* How many entries collect_prefix makes of p: the room is counted, not
 * guessed, since every IPv6 prefix shorter than /96 might need
 * PREFIX_SPLIT_MAX and the data may hold M365_DATA_MAX_IPS of them. */
static size_t
prefix_split_count(const struct ip_prefix *p)
{
	struct ip_prefix split[PREFIX_SPLIT_MAX];
	size_t n = prefix_split_v4(p, split);

	return n == 0 ? 1 : n;
}

static int
collect_alloc(struct collect *c, const struct m365_data *d,
    const struct m365_policy *p)
{
	size_t names = p->extra_direct.n + p->never_direct.n + 1;
	size_t prefixes = names;

	for (size_t i = 0; i < d->n_sets; i++) {
		names += d->sets[i].n_urls;
		for (size_t k = 0; k < d->sets[i].n_ips; k++)
			prefixes += prefix_split_count(&d->sets[i].ips[k]);
	}
	for (size_t i = 0; i < p->extra_direct.n + p->never_direct.n; i++)
		prefixes += PREFIX_SPLIT_MAX;   /* room for prefix_split_v4 */
	c->patterns = calloc(names, sizeof(*c->patterns));
	c->name_refs = calloc(names, sizeof(*c->name_refs));
	c->prefixes = calloc(prefixes, sizeof(*c->prefixes));
	c->prefix_refs = calloc(prefixes, sizeof(*c->prefix_refs));
	return c->patterns && c->name_refs && c->prefixes && c->prefix_refs ?
	    0 : -1;
}

/* Adds a prefix; an IPv6 one that would cover all of IPv4 (::/0) goes in
 * without the IPv4 range (see prefix_split_v4). */
static void
collect_prefix(struct collect *c, const struct ip_prefix *p, struct ref ref)
{
	struct ip_prefix split[PREFIX_SPLIT_MAX];
	size_t n = prefix_split_v4(p, split);

	if (n == 0) {
		c->prefixes[c->n_prefixes] = *p;
		c->prefix_refs[c->n_prefixes++] = ref;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		c->prefixes[c->n_prefixes] = split[i];
		c->prefix_refs[c->n_prefixes++] = ref;
	}
}

static void
collect_sets(struct collect *c, const struct m365_data *d)
{
	for (size_t i = 0; i < d->n_sets; i++) {
		const struct m365_set *s = &d->sets[i];

		for (size_t k = 0; k < s->n_urls; k++) {
			c->patterns[c->n_names] = s->urls[k];
			c->name_refs[c->n_names++] = (struct ref){ M365_FROM_SET,
			    (uint32_t)i, s->urls[k] };
		}
		for (size_t k = 0; k < s->n_ips; k++)
			collect_prefix(c, &s->ips[k], (struct ref){ M365_FROM_SET,
			    (uint32_t)i, s->ip_texts[k] });
	}
}

/* Adds the policy's extra_direct or never_direct entries: each a CIDR (a
 * bare address meaning one host) or a host pattern. */
static int
collect_policy(struct collect *c, struct m365_rules *r,
    const struct m365_strlist *l, enum m365_source_kind kind, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *e = l->v[i], *why;
		char text[HOST_NAME_MAX_LEN + 1];
		struct ip_prefix p;
		bool is_ip = prefix_entry_is_cidr(e, strlen(e));

		if (is_ip ? prefix_parse(e, strlen(e), true, &p, &why) :
		    host_pattern_check(e, strlen(e), text, &why)) {
			snprintf(err, errlen, "%s \"%s\": %s", kind == M365_FROM_NEVER ?
			    "never_direct" : "extra_direct", e, why);
			return -1;
		}
		if (is_ip)
			prefix_format(&p, text, sizeof(text));
		if ((r->texts.v[r->texts.n] = strdup(text)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		e = r->texts.v[r->texts.n++];
		if (is_ip) {
			collect_prefix(c, &p, (struct ref){ kind, 0, e });
		} else {
			c->patterns[c->n_names] = e;
			c->name_refs[c->n_names++] = (struct ref){ kind, 0, e };
		}
	}
	return 0;
}

static int
compile_tables(struct m365_rules *r, const struct m365_policy *p, char *err,
    size_t errlen)
{
	struct collect c = { 0 };
	int rc = -1;

	snprintf(err, errlen, "out of memory");
	r->texts.v = calloc(p->extra_direct.n + p->never_direct.n + 1,
	    sizeof(*r->texts.v));
	if (r->texts.v == NULL || collect_alloc(&c, r->data, p) != 0)
		goto cleanup;
	collect_sets(&c, r->data);
	if (collect_policy(&c, r, &p->extra_direct, M365_FROM_EXTRA, err,
	    errlen) != 0 || collect_policy(&c, r, &p->never_direct,
	    M365_FROM_NEVER, err, errlen) != 0)
		goto cleanup;
	/* the patterns are the data's and r->texts': both outlive r->names */
	r->names = names_new_borrowed(c.patterns, c.n_names, err, errlen);
	r->prefixes = prefix_table_new(c.prefixes, c.n_prefixes);
	if (r->names == NULL || r->prefixes == NULL)
		goto cleanup;
	r->name_refs = c.name_refs;
	r->prefix_refs = c.prefix_refs;
	r->prefix_list = c.prefixes;
	r->n_names = c.n_names;
	r->n_prefixes = c.n_prefixes;
	c.name_refs = c.prefix_refs = NULL;
	c.prefixes = NULL;
	rc = 0;
cleanup:
	free(c.patterns);
	free(c.name_refs);
	free(c.prefixes);
	free(c.prefix_refs);
	return rc;
}

struct m365_rules *
matcher_compile(struct m365_data *data, const struct m365_policy *policy,
    char *err, size_t errlen)
{
	struct m365_rules *r = calloc(1, sizeof(*r));

	if (r == NULL ||
	    (r->set_excluded = calloc(data->n_sets + 1, sizeof(*r->set_excluded)))
	    == NULL) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->data = data;
	r->direct_mask = policy->direct_mask;
	r->match_ports = policy->match_ports;
	for (size_t i = 0; i < data->n_sets; i++)
		r->set_excluded[i] = matcher_policy_exclusion(policy, &data->sets[i]);
	if (compile_tables(r, policy, err, errlen) != 0) {
		r->data = NULL;         /* the caller keeps it */
		matcher_free(r);
		return NULL;
	}
	r->owns_data = true;
	return r;
}

struct m365_rules *
matcher_compile_borrowed(const struct m365_data *data,
    const struct m365_policy *policy, char *err, size_t errlen)
{
	/* the rules never write to their data; only matcher_free would
	 * free it, and owns_data stays false */
	struct m365_rules *r = matcher_compile((struct m365_data *)data, policy,
	    err, errlen);

	if (r != NULL)
		r->owns_data = false;
	return r;
}

void
matcher_free(struct m365_rules *r)
{
	if (r == NULL)
		return;
	if (r->owns_data)
		endpoints_free(r->data);
	free(r->set_excluded);
	names_free(r->names);
	free(r->name_refs);
	prefix_table_free(r->prefixes);
	free(r->prefix_refs);
	free(r->prefix_list);
	for (size_t i = 0; i < r->texts.n; i++)
		free(r->texts.v[i]);
	free(r->texts.v);
	free(r);
}

size_t
matcher_verdict_sets(const struct m365_verdict *v, int *ids, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n_matches; i++) {
		const struct m365_match *m = &v->matches[i];
		bool dup = false;

		if (m->kind != M365_FROM_SET || m->excluded != M365_APPLIES)
			continue;
		for (size_t k = 0; k < n; k++)
			dup |= ids[k] == m->set_id;
		if (!dup && n < cap)
			ids[n++] = m->set_id;
	}
	return n;
}

const struct m365_data *
matcher_data(const struct m365_rules *r)
{
	return r->data;
}

/* What a lookup carries through the visits of its matches. */
struct weigh_ctx {
	const struct m365_rules *r;
	const struct ref *refs;
	int port;
	struct m365_verdict *v;
};

/* Weighs one matching pattern or prefix into the verdict. */
static void
weigh(void *ctx, uint32_t index)
{
	const struct weigh_ctx *w = ctx;
	const struct ref *ref = &w->refs[index];
	struct m365_verdict *v = w->v;
	struct m365_match m = { ref->kind, 0, M365_CAT_NONE, ref->what,
	    M365_APPLIES };

	if (ref->kind == M365_FROM_SET) {
		const struct m365_set *s = &w->r->data->sets[ref->set];

		m.set_id = s->id;
		m.category = s->category;
		m.excluded = w->r->set_excluded[ref->set];
		if (m.excluded == M365_APPLIES && w->port >= 0 &&
		    w->r->match_ports &&
		    !endpoints_ports_contain(&s->tcp, (unsigned)w->port))
			m.excluded = M365_EXCLUDED_PORT;
		if (m.excluded == M365_APPLIES && s->category > v->category)
			v->category = s->category;
	} else if (ref->kind == M365_FROM_EXTRA) {
		v->extra_direct = true;
	} else {
		v->never_direct = true;
	}
	if (v->n_matches < M365_VERDICT_MATCHES)
		v->matches[v->n_matches++] = m;
	v->n_total++;
}

void
matcher_lookup(const struct m365_rules *r, const char *query, size_t len,
    int port, struct m365_verdict *v)
{
	struct host_query q;
	struct weigh_ctx w = { r, NULL, port, v };
	bool by_category;

	v->category = M365_CAT_NONE;
	v->direct = v->extra_direct = v->never_direct = v->custom = false;
	v->is_ip = false;
	v->reason = NULL;
	v->n_matches = v->n_total = 0;
	host_normalise(query, len, &q);
	if (q.kind == HOST_INVALID) {
		v->reason = q.reason;
		return;
	}
	if (q.kind == HOST_IP) {
		v->is_ip = true;
		w.refs = r->prefix_refs;
		prefix_table_visit(r->prefixes, &q.addr, weigh, &w);
	} else {
		w.refs = r->name_refs;
		names_visit(r->names, q.name, q.len, weigh, &w);
	}
	by_category = (r->direct_mask & (1u << v->category)) != 0;
	v->direct = !v->never_direct && (v->extra_direct || by_category);
	v->custom = v->direct && !by_category;
}

/* How much a verdict vouches for: not direct, then direct by extra_direct
 * alone, then direct by each category. */
static int
strength(const struct m365_verdict *v)
{
	if (!v->direct)
		return -1;
	return v->custom ? 0 : 1 + (int)v->category;
}

static void
identity_answer(struct m365_identity *id, bool from_sni)
{
	const struct m365_verdict *v = from_sni ? &id->sni : &id->dst;

	id->from_sni = from_sni;
	id->direct = v->direct;
	id->custom = v->custom;
	id->category = v->category;
}

void
matcher_lookup_identity(const struct m365_rules *r, const char *dst,
    size_t dlen, const char *sni, size_t slen, int port,
    struct m365_identity *id)
{
	matcher_lookup(r, dst, dlen, port, &id->dst);
	id->has_sni = sni != NULL;
	if (id->has_sni && slen == dlen && memcmp(sni, dst, dlen) == 0)
		/* the common case, SNI = CONNECT host: the same text has the
		 * same verdict; copy what is filled in, not all 32 matches */
		memcpy(&id->sni, &id->dst, offsetof(struct m365_verdict,
		    matches) + id->dst.n_matches * sizeof(id->dst.matches[0]));
	else if (id->has_sni)
		matcher_lookup(r, sni, slen, port, &id->sni);
	matcher_identity_combine(id);
}

void
matcher_identity_combine(struct m365_identity *id)
{
	id->reason = M365_REASON_NONE;
	id->dns_may_verify = false;
	if (!id->has_sni) {
		identity_answer(id, false);
		return;
	}
	/* the weaker of the two speaks; on a tie the destination */
	identity_answer(id, strength(&id->sni) < strength(&id->dst));
	if (id->dst.direct == id->sni.direct)
		return;
	id->reason = M365_REASON_SNI_MISMATCH;
	id->dns_may_verify = id->dst.is_ip && !id->dst.never_direct &&
	    id->sni.direct && !id->sni.is_ip;
}

void
matcher_identity_dns(struct m365_identity *id, enum m365_reason outcome)
{
	if (!id->dns_may_verify)
		return;
	id->reason = outcome;
	if (outcome == M365_REASON_SNI_VERIFIED)
		identity_answer(id, true);
}

const struct m365_verdict *
matcher_identity_basis(const struct m365_identity *id)
{
	return id->from_sni ? &id->sni : &id->dst;
}

const char *
matcher_reason_name(enum m365_reason r)
{
	switch (r) {
	case M365_REASON_NONE:
		break;
	case M365_REASON_SNI_MISMATCH:
		return "sni-mismatch";
	case M365_REASON_SNI_VERIFIED:
		return "sni-verified";
	case M365_REASON_DNS_TIMEOUT:
		return "dns-timeout";
	case M365_REASON_DNS_FAILED:
		return "dns-failed";
	case M365_REASON_DNS_BUSY:
		return "dns-busy";
	}
	return NULL;
}

/* The entry ref stands for, or false when it does not count without a
 * port under mask and the policy. */
static bool
entry_of(const struct m365_rules *r, const struct ref *ref, unsigned mask,
    struct m365_entry *e)
{
	e->kind = ref->kind;
	e->category = M365_CAT_NONE;
	e->set = NULL;
	if (ref->kind == M365_FROM_SET) {
		e->set = &r->data->sets[ref->set];
		e->category = e->set->category;
		if ((mask & (1u << e->category)) == 0 ||
		    r->set_excluded[ref->set] != M365_APPLIES)
			return false;
	}
	return true;
}

int
matcher_entries(const struct m365_rules *r, unsigned mask,
    m365_entry_fn *fn, void *ctx)
{
	struct m365_entry e;
	int rc;

	for (size_t i = 0; i < r->n_names; i++) {
		if (!entry_of(r, &r->name_refs[i], mask, &e))
			continue;
		e.pattern = r->name_refs[i].what;
		e.prefix = NULL;
		if ((rc = fn(ctx, &e)) != 0)
			return rc;
	}
	for (size_t i = 0; i < r->n_prefixes; i++) {
		if (!entry_of(r, &r->prefix_refs[i], mask, &e))
			continue;
		e.pattern = NULL;
		e.prefix = &r->prefix_list[i];
		if ((rc = fn(ctx, &e)) != 0)
			return rc;
	}
	return 0;
}
