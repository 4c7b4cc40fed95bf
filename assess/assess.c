/* assess.c - see assess.h. */
#include "assess.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"

#define MIN_PROBE_MS 200                /* less budget left: stop probing */

const char *
assess_status_name(enum assess_status s)
{
	static const char *const names[] = { "PASS", "WARN", "FAIL", "INFO" };

	return (unsigned)s < ASSESS_N_STATUS ? names[s] : "?";
}

static double
ms(int64_t us)
{
	return (double)us / 1000.0;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t
assess_median(int64_t *v, size_t n)
{
	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_i64);
	return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* --- rows ------------------------------------------------------------ */

static void
say(struct assess_row *row, enum assess_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct assess_row *row, enum assess_status st, const char *fmt, ...)
{
	va_list ap;

	row->status = st;
	va_start(ap, fmt);
	vsnprintf(row->reason, sizeof(row->reason), fmt, ap);
	va_end(ap);
}

/* Appends ", more" to the row's reason (cut when it does not fit). */
static void
say_more(struct assess_row *row, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say_more(struct assess_row *row, const char *fmt, ...)
{
	size_t len = strlen(row->reason);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(row->reason + len, sizeof(row->reason) - len, fmt, ap);
	va_end(ap);
}

static void
figure(struct assess_row *row, const char *name, double value)
{
	if (row->n_fig < ASSESS_MAX_FIGURES) {
		row->fig[row->n_fig].name = name;
		row->fig[row->n_fig].value = value;
		row->n_fig++;
	}
}

/* A figure in milliseconds, when known. */
static void
figure_ms(struct assess_row *row, const char *name, int64_t us)
{
	if (us >= 0)
		figure(row, name, ms(us));
}

/* --- judgements -------------------------------------------------------- */

/* The schemes a 407 offered, for a reason. */
static const char *
auth_names(unsigned long a)
{
	if ((a & CURLAUTH_NEGOTIATE) && (a & CURLAUTH_NTLM))
		return "Negotiate, NTLM";
	if (a & CURLAUTH_NEGOTIATE)
		return "Negotiate";
	if (a & CURLAUTH_NTLM)
		return "NTLM";
	if (a & CURLAUTH_DIGEST)
		return "Digest";
	if (a & CURLAUTH_BASIC)
		return "Basic";
	return "unknown scheme";
}

void
assess_judge_auth(bool control, bool have_proxy,
    const struct assess_measure *m, struct assess_row *row)
{
	enum assess_status bad = control ? ASSESS_INFO : ASSESS_FAIL;

	if (!m->probed)
		say(row, control ? ASSESS_INFO : ASSESS_WARN, "%s", m->why);
	else if (!have_proxy)
		say(row, control ? ASSESS_INFO : ASSESS_PASS, "no proxy in the "
		    "way: nothing can ask for credentials");
	else if (!m->via_proxy)
		say(row, control ? ASSESS_INFO : ASSESS_PASS, "not sent to the "
		    "proxy (no_proxy)");
	else if (m->connect_code == 407)
		say(row, bad, "the proxy answers 407 Proxy Authentication "
		    "Required (%s)%s", auth_names(m->auth_offered), control ?
		    ": other traffic needs credentials" :
		    ": Microsoft 365 must not need proxy credentials");
	else if (m->connect_code >= 200 && m->connect_code < 300)
		say(row, control ? ASSESS_INFO : ASSESS_PASS, "no credentials "
		    "asked (CONNECT %ld)", m->connect_code);
	else if (m->connect_code != 0)
		say(row, bad, "the proxy answers CONNECT with %ld",
		    m->connect_code);
	else
		say(row, bad, "no answer from the proxy: %s", m->error);
}

void
assess_judge_inspection(bool control, const struct assess_measure *m,
    const struct assess_measure *direct, const char *public_name,
    const char *other_name, struct assess_row *row)
{
	enum assess_status bad = control ? ASSESS_INFO : ASSESS_FAIL;

	if (!m->probed || (!m->handshake && m->connect_code == 407)) {
		say(row, control ? ASSESS_INFO : ASSESS_WARN, "not checked: %s",
		    m->probed ? m->error : m->why);
		return;
	}
	if (!m->handshake) {
		say(row, bad, "no TLS handshake%s: %s", m->via_proxy ?
		    " through the proxy" : "", m->error);
		return;
	}
	if (m->public_ok && direct != NULL && direct->public_ok &&
	    strcmp(m->issuer, direct->issuer) != 0) {
		say(row, bad, "issuer %s through the proxy, but %s direct: "
		    "the proxy replaced the chain", m->issuer, direct->issuer);
		return;
	}
	(void)public_name;              /* the table's heading names them */
	if (m->public_ok) {
		say(row, control ? ASSESS_INFO : ASSESS_PASS, "not inspected: "
		    "issuer %s, a chain the public roots verify%s", m->issuer,
		    direct != NULL && direct->public_ok ? ", the same as direct" :
		    "");
		return;
	}
	if (m->other_ok)
		say(row, bad, "TLS inspected: issuer %s, a chain only %s "
		    "verifies, not the public roots", m->issuer, other_name);
	else
		say(row, bad, "issuer %s: a chain neither the public roots nor "
		    "%s verify", m->issuer[0] != '\0' ? m->issuer : "unknown",
		    other_name);
	if (direct != NULL && direct->public_ok)
		say_more(row, "; direct: issuer %s", direct->issuer);
}

void
assess_judge_path(const struct assess_measure *m,
    const struct assess_measure *direct, const struct assess_measure *control,
    const char *control_name, unsigned margin_ms, struct assess_row *row)
{
	int64_t rt = m->median.round_trip, margin = (int64_t)margin_ms * 1000;
	int64_t drt = direct != NULL ? direct->median.round_trip : -1;
	int64_t crt = control != NULL ? control->median.round_trip : -1;

	figure_ms(row, "round_trip_ms", rt);
	if (rt < 0) {
		say(row, ASSESS_WARN, "not measured: %s", !m->probed ? m->why :
		    m->error[0] != '\0' ? m->error : "no answer");
		return;
	}
	if (drt >= 0) {
		figure_ms(row, "direct_round_trip_ms", drt);
		if (rt - drt <= margin)
			say(row, ASSESS_PASS, "round trip %.1f ms through the "
			    "proxy, %.1f ms direct: leaves locally", ms(rt),
			    ms(drt));
		else
			say(row, ASSESS_FAIL, "round trip %.1f ms through the "
			    "proxy, %.1f ms direct (+%.1f ms): not local egress, "
			    "it goes the long way", ms(rt), ms(drt), ms(rt - drt));
		return;
	}
	if (crt < 0) {
		say(row, ASSESS_WARN, "round trip %.1f ms; no figures of the "
		    "control %s to compare with", ms(rt), control_name);
		return;
	}
	figure_ms(row, "control_round_trip_ms", crt);
	figure_ms(row, "saving_ms", crt - rt);
	if (crt - rt >= margin)
		say(row, ASSESS_PASS, "round trip %.1f ms, %.1f ms less than the "
		    "control %s (%.1f ms): leaves locally", ms(rt), ms(crt - rt),
		    control_name, ms(crt));
	else
		say(row, ASSESS_FAIL, "round trip %.1f ms, no less than the "
		    "control %s (%.1f ms): the same path as other traffic, the "
		    "proxy chain (if none is in the way, --direct tells)",
		    ms(rt), control_name, ms(crt));
}

static void
format_age(char *buf, size_t size, time_t secs)
{
	if (secs < 120)
		snprintf(buf, size, "%lld s", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, size, "%lld min", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(buf, size, "%lld h", (long long)secs / 3600);
	else
		snprintf(buf, size, "%lld days", (long long)secs / 86400);
}

void
assess_judge_data(const struct assess_data *d, time_t now,
    struct assess_row *row)
{
	const char *v = d->version[0] != '\0' ? d->version : "unknown";
	char fetched[32], good[32];

	format_age(fetched, sizeof(fetched), now - d->fetched);
	format_age(good, sizeof(good), now - d->last_success);
	if (d->last_success != 0)
		figure(row, "age_seconds", (double)(now - d->last_success));
	if (d->fell_back)
		say(row, ASSESS_WARN, "%s does not load: the bundled snapshot "
		    "serves", d->path);
	else if (strcmp(d->source, "cache") != 0 && d->path[0] == '\0')
		say(row, ASSESS_WARN, "the snapshot compiled into the program "
		    "(may be stale): run m365-direct update, or give the "
		    "proxy's data with --data");
	else if (strcmp(d->source, "cache") != 0)
		say(row, ASSESS_INFO, "%s (version %s): its age is not known",
		    d->path, v);
	else if (d->last_success == 0)
		say(row, ASSESS_WARN, "version %s, never updated here "
		    "successfully", v);
	else if (strcmp(d->last_result, "failed") == 0)
		say(row, ASSESS_WARN, "version %s; the last update failed (%s); "
		    "the last good one was %s ago", v, d->last_message, good);
	else if (now - d->last_success > ASSESS_MAX_DATA_AGE)
		say(row, ASSESS_WARN, "version %s; the last good update was %s "
		    "ago (Microsoft asks for an hourly version check)", v, good);
	else
		say(row, ASSESS_PASS, "version %s, instance %s; fetched %s ago, "
		    "checked current %s ago", v, d->instance[0] != '\0' ?
		    d->instance : "unknown", d->fetched != 0 ? fetched : "?",
		    good);
}

/* --- probing ----------------------------------------------------------- */

struct run {
	const struct assess_opts *o;
	struct assess_report *rep;
	int64_t deadline;               /* monotonic microseconds */
	bool oom;
};

/* One probe within the budget; false (nothing run) when it is spent. */
static bool
run_probe(struct run *x, struct probe_opts *po, const char *host,
    struct probe_result *r)
{
	int64_t left = (x->deadline - now_us()) / 1000;

	if (left < MIN_PROBE_MS) {
		x->rep->budget_exhausted = true;
		return false;
	}
	po->connect_ms = x->o->timeout_ms < left ? x->o->timeout_ms :
	    (unsigned)left;
	po->total_ms = 2 * x->o->timeout_ms < left ? 2 * x->o->timeout_ms :
	    (unsigned)left;
	probe_run(po, host, r);
	return true;
}

static void
spent(struct assess_measure *m)
{
	snprintf(m->why, sizeof(m->why), "not run: the time budget of %d s is "
	    "spent", ASSESS_MAX_RUN_MS / 1000);
}

/* What failed in r, for a reason. */
static void
failure(const struct probe_result *r, struct assess_measure *m)
{
	if (r->connect_code != 0 && (r->connect_code < 200 ||
	    r->connect_code >= 300))
		snprintf(m->error, sizeof(m->error), "the proxy answers CONNECT "
		    "with %ld", r->connect_code);
	else
		snprintf(m->error, sizeof(m->error), "%s", r->error);
}

/* Sorts out what a first request with the public roots saw; when the
 * chain did not verify, reads it without verification and tries the
 * other trust.  Leaves po->trust as the timed tries should use it. */
static void
classify(struct run *x, struct probe_opts *po, const char *host,
    const struct probe_result *r, struct assess_measure *m)
{
	struct probe_result chain, other;

	if (r->curl_code == CURLE_OK) {
		m->handshake = m->public_ok = true;
		snprintf(m->issuer, sizeof(m->issuer), "%s", r->issuer);
		return;
	}
	failure(r, m);
	if (!r->verify_failed)
		return;
	po->trust = PROBE_TRUST_NONE;
	if (!run_probe(x, po, host, &chain))
		return;
	m->handshake = chain.tls_us >= 0 || chain.issuer[0] != '\0';
	snprintf(m->issuer, sizeof(m->issuer), "%s", chain.issuer);
	po->trust = PROBE_TRUST_OTHER;
	if (!run_probe(x, po, host, &other))
		return;
	m->other_ok = other.curl_code == CURLE_OK;
	po->trust = m->other_ok ? PROBE_TRUST_OTHER : PROBE_TRUST_NONE;
}

/* One host over one path: what its first requests saw, and the options
 * and samples of its timed tries. */
struct target {
	const char *host;
	struct assess_measure *m;
	struct probe_opts po;
	bool timed;                     /* it gets timed tries */
	int64_t v[5][ASSESS_MAX_TRIES]; /* tcp, tunnel, tls, first byte, rtt */
	size_t n[5];
};

/* After a 407: the request again with the proxy URL's credentials, Basic
 * sent at once when the proxy offered it (so that the timed tries wait
 * for no second 407).  Returns 0 with its result in *r, or -1 (none, or
 * refused: t->m says why). */
static int
with_credentials(struct run *x, struct target *t, struct probe_result *r)
{
	struct assess_measure *m = t->m;

	if (t->po.proxy->user == NULL) {
		snprintf(m->error, sizeof(m->error), "the proxy wants credentials "
		    "and its URL has none");
		return -1;
	}
	t->po.credentials = true;
	t->po.proxy_auth = (r->proxy_auth_avail & CURLAUTH_BASIC) != 0 ?
	    CURLAUTH_BASIC : CURLAUTH_ANY;
	if (!run_probe(x, &t->po, t->host, r)) {
		spent(m);
		return -1;
	}
	if (r->connect_code == 407) {
		snprintf(m->error, sizeof(m->error), "the proxy refuses the URL's "
		    "credentials (407)");
		return -1;
	}
	return 0;
}

/* A first request without credentials (what the proxy asks for), again
 * with them if it asked and the URL has some, then the chain sorted out;
 * t->timed when the host can be timed. */
static void
prepare(struct run *x, struct target *t, bool via_proxy)
{
	const struct probe_proxy *proxy = via_proxy ? x->o->proxy : NULL;
	struct assess_measure *m = t->m;
	struct probe_result r;

	t->po = (struct probe_opts){ proxy, false, 0, PROBE_TRUST_PUBLIC,
	    x->o->public_roots, x->o->ca_file, 0, 0 };
	memset(m, 0, sizeof(*m));
	m->median.tcp = m->median.tunnel = m->median.tls = -1;
	m->median.first_byte = m->median.round_trip = -1;
	if (!run_probe(x, &t->po, t->host, &r)) {
		spent(m);
		return;
	}
	m->probed = true;
	m->connect_code = r.connect_code;
	m->auth_offered = r.proxy_auth_avail;
	m->via_proxy = proxy != NULL && !(r.curl_code == CURLE_OK &&
	    r.connect_code == 0);
	if (r.connect_code == 407 && with_credentials(x, t, &r) != 0)
		return;
	classify(x, &t->po, t->host, &r, m);
	t->timed = m->handshake;
}

/* One timed try of t, a new connection; keeps its step times. */
static bool
timed_try(struct run *x, struct target *t)
{
	struct assess_measure *m = t->m;
	struct probe_result r;
	struct probe_steps s;

	if (!run_probe(x, &t->po, t->host, &r))
		return false;
	m->tries++;
	if (r.http_code == 0) {
		failure(&r, m);
		return true;
	}
	m->ok_tries++;
	probe_steps(&r, &s);
	const int64_t got[5] = { s.tcp, s.tunnel, s.tls, s.first_byte,
	    s.round_trip };
	for (size_t k = 0; k < 5; k++)
		if (got[k] >= 0 && t->n[k] < ASSESS_MAX_TRIES)
			t->v[k][t->n[k]++] = got[k];
	return true;
}

/* The timed tries in rounds, each round one try of every target, so that
 * a slow moment of the network or the machine falls on all of them
 * alike; then the medians. */
static void
timed_rounds(struct run *x, struct target *t, size_t n)
{
	bool more = true;

	for (unsigned round = 0; more && round < x->o->tries &&
	    round < ASSESS_MAX_TRIES; round++)
		for (size_t i = 0; more && i < n; i++)
			if (t[i].timed)
				more = timed_try(x, &t[i]);    /* budget left */
	for (size_t i = 0; i < n; i++) {
		struct probe_steps *md = &t[i].m->median;

		md->tcp = assess_median(t[i].v[0], t[i].n[0]);
		md->tunnel = assess_median(t[i].v[1], t[i].n[1]);
		md->tls = assess_median(t[i].v[2], t[i].n[2]);
		md->first_byte = assess_median(t[i].v[3], t[i].n[3]);
		md->round_trip = assess_median(t[i].v[4], t[i].n[4]);
	}
}

/* --- rows per host ----------------------------------------------------- */

static struct assess_row *
row_add(struct run *x, const char *host, const char *role, const char *area,
    const char *check)
{
	struct assess_report *rep = x->rep;
	struct assess_row *row;

	if (rep->n == rep->cap) {
		size_t cap = rep->cap != 0 ? 2 * rep->cap : 32;
		struct assess_row *rows = realloc(rep->rows, cap * sizeof(*rows));

		if (rows == NULL) {
			x->oom = true;
			return NULL;
		}
		rep->rows = rows;
		rep->cap = cap;
	}
	row = &rep->rows[rep->n++];
	memset(row, 0, sizeof(*row));
	snprintf(row->host, sizeof(row->host), "%s", host);
	row->role = role;
	snprintf(row->service_area, sizeof(row->service_area), "%s", area);
	row->check = check;
	return row;
}

static void
latency_text(struct assess_row *row, const char *what,
    const struct assess_measure *m)
{
	const struct probe_steps *s = &m->median;

	say_more(row, "%s: connect %.1f", what, ms(s->tcp));
	if (s->tunnel >= 0)
		say_more(row, ", tunnel %.1f", ms(s->tunnel));
	say_more(row, ", TLS %.1f, first byte %.1f, round trip %.1f ms "
	    "(median of %u/%u)", ms(s->tls), ms(s->first_byte),
	    ms(s->round_trip), m->ok_tries, m->tries);
}

static void
latency_row(struct run *x, struct assess_row *row, bool control,
    const struct assess_measure *m, const struct assess_measure *direct)
{
	row->status = ASSESS_INFO;
	if (m->ok_tries == 0) {
		say(row, control ? ASSESS_INFO : ASSESS_WARN, "not measured: %s",
		    !m->probed ? m->why : m->error[0] != '\0' ? m->error :
		    "no answer");
	} else {
		latency_text(row, x->o->proxy != NULL ? "through the proxy" :
		    "without a proxy", m);
		figure_ms(row, "connect_ms", m->median.tcp);
		figure_ms(row, "tunnel_ms", m->median.tunnel);
		figure_ms(row, "tls_ms", m->median.tls);
		figure_ms(row, "first_byte_ms", m->median.first_byte);
		figure_ms(row, "round_trip_ms", m->median.round_trip);
		figure(row, "tries", m->tries);
		figure(row, "ok_tries", m->ok_tries);
	}
	if (direct == NULL)
		return;
	if (direct->ok_tries == 0) {
		say_more(row, "; direct: not measured (%s)", !direct->probed ?
		    direct->why : direct->error);
		return;
	}
	say_more(row, "; ");
	latency_text(row, "direct", direct);
	figure_ms(row, "direct_connect_ms", direct->median.tcp);
	figure_ms(row, "direct_tls_ms", direct->median.tls);
	figure_ms(row, "direct_first_byte_ms", direct->median.first_byte);
	figure_ms(row, "direct_round_trip_ms", direct->median.round_trip);
}

/* Where one resolved address is, and how far from the office. */
static void
front_place(struct run *x, struct assess_row *row, const struct sockaddr *sa,
    double *max_km)
{
	const struct assess_opts *o = x->o;
	struct geo_place pl;
	char err[256];
	double km;

	geo_lookup(o->geo, sa, &pl, err, sizeof(err));
	if (!pl.found) {
		say_more(row, " (location unknown%s%s)", err[0] ? ": " : "", err);
		return;
	}
	say_more(row, " %s%s%s", pl.city, pl.city[0] ? " " : "", pl.country);
	if (!o->office)
		return;
	km = geo_distance_km(o->office_lat, o->office_lon, pl.lat, pl.lon);
	say_more(row, " %.0f km", km);
	if (km > *max_km)
		*max_km = km;
	if (km > o->max_distance_km)
		row->status = ASSESS_WARN;
}

/* Whether the data's ranges hold one resolved address, and which. */
static void
front_range(struct run *x, struct assess_row *row, const char *text,
    bool optimize)
{
	static struct m365_verdict v;

	matcher_lookup(x->o->rules, text, strlen(text), SAMPLE_PORT, &v);
	if (v.direct && !v.custom && v.is_ip) {
		const char *what = "";

		for (size_t i = 0; i < v.n_matches && what[0] == '\0'; i++)
			if (v.matches[i].kind == M365_FROM_SET &&
			    v.matches[i].excluded == M365_APPLIES &&
			    v.matches[i].category == v.category)
				what = v.matches[i].what;
		say_more(row, ", %s %s", matcher_category_name(v.category), what);
		return;
	}
	say_more(row, ", not in the data's Optimize/Allow ranges");
	if (optimize)
		row->status = ASSESS_WARN;
	else if (row->status == ASSESS_PASS)
		row->status = ASSESS_INFO;      /* names-only sets are usual */
}

static void
front_row(struct run *x, struct assess_row *row, const struct sample_host *h)
{
	int64_t left = (x->deadline - now_us()) / 1000;
	struct lookup_result lr;
	double max_km = 0;
	char err[256];

	if (left < MIN_PROBE_MS) {
		x->rep->budget_exhausted = true;
		say(row, ASSESS_WARN, "not checked: the time budget of %d s is "
		    "spent", ASSESS_MAX_RUN_MS / 1000);
		return;
	}
	if (lookup_host(h->name, x->o->timeout_ms < left ? x->o->timeout_ms :
	    (unsigned)left, &lr, err, sizeof(err)) != 0) {
		say(row, ASSESS_INFO, "not checked: the name does not resolve "
		    "from this client (%s)", err);
		return;
	}
	row->status = ASSESS_PASS;
	for (size_t i = 0; i < lr.n; i++) {
		say_more(row, "%s%s", i > 0 ? "; " : "", lr.text[i]);
		if (x->o->geo != NULL)
			front_place(x, row, (const struct sockaddr *)(const void *)
			    &lr.addr[i], &max_km);
		front_range(x, row, lr.text[i], h->category == M365_CAT_OPTIMIZE);
	}
	figure(row, "addresses", (double)lr.n);
	if (x->o->geo != NULL && x->o->office) {
		figure(row, "distance_km", max_km);
		if (max_km > x->o->max_distance_km)
			say_more(row, ": farther than %u km from the office "
			    "(assess_max_distance_km)", x->o->max_distance_km);
	}
	if (row->status == ASSESS_WARN && h->category == M365_CAT_OPTIMIZE &&
	    strstr(row->reason, "not in the data") != NULL)
		say_more(row, ": rules by address (interception, firewalls) do "
		    "not see it as Microsoft 365");
}

static const char *
role_of(const struct sample_host *h)
{
	return h->custom ? "custom" : matcher_category_name(h->category);
}

static void
host_rows(struct run *x, const struct sample_host *h,
    const struct assess_measure *m, const struct assess_measure *d,
    const struct assess_measure *control)
{
	const struct assess_opts *o = x->o;
	const char *other = o->ca_file != NULL ? o->ca_file : "the system's store";
	const char *role = role_of(h);
	struct assess_row *row;

	if ((row = row_add(x, h->name, role, h->service_area,
	    "authentication")) != NULL)
		assess_judge_auth(false, o->proxy != NULL, m, row);
	if ((row = row_add(x, h->name, role, h->service_area,
	    "inspection")) != NULL)
		assess_judge_inspection(false, m, d, o->public_name, other, row);
	if ((row = row_add(x, h->name, role, h->service_area, "path")) != NULL)
		assess_judge_path(m, d, control, o->control, o->margin_ms, row);
	if ((row = row_add(x, h->name, role, h->service_area,
	    "latency")) != NULL)
		latency_row(x, row, false, m, d);
	if ((row = row_add(x, h->name, role, h->service_area,
	    "front door")) != NULL)
		front_row(x, row, h);
}

/* The Microsoft 365 hosts' median round trip, -1 when none has one. */
static int64_t
hosts_round_trip(const struct assess_measure *m, size_t n)
{
	int64_t v[ASSESS_MAX_HOSTS];
	size_t k = 0;

	for (size_t i = 0; i < n && i < ASSESS_MAX_HOSTS; i++)
		if (m[i].median.round_trip >= 0)
			v[k++] = m[i].median.round_trip;
	return assess_median(v, k);
}

static void
control_path_row(struct run *x, struct assess_row *row,
    const struct assess_measure *c, const struct assess_measure *cd,
    int64_t hosts_rt)
{
	int64_t rt = c->median.round_trip;

	row->status = ASSESS_INFO;
	figure_ms(row, "round_trip_ms", rt);
	if (rt < 0) {
		say(row, ASSESS_INFO, "not measured: %s", !c->probed ? c->why :
		    c->error);
		return;
	}
	say(row, ASSESS_INFO, "round trip %.1f ms", ms(rt));
	if (hosts_rt >= 0) {
		x->rep->have_extra = true;
		x->rep->control_extra_ms = ms(rt - hosts_rt);
		figure_ms(row, "hosts_round_trip_ms", hosts_rt);
		figure(row, "extra_ms", ms(rt - hosts_rt));
		say_more(row, ", %.1f ms %s than the Microsoft 365 hosts' "
		    "(median %.1f ms)%s", ms(rt >= hosts_rt ? rt - hosts_rt :
		    hosts_rt - rt), rt >= hosts_rt ? "more" : "less",
		    ms(hosts_rt), rt >= hosts_rt ? ": what the way other traffic "
		    "takes adds" : "");
	}
	if (cd != NULL && cd->median.round_trip >= 0) {
		figure_ms(row, "direct_round_trip_ms", cd->median.round_trip);
		say_more(row, "; %.1f ms direct", ms(cd->median.round_trip));
	}
}

static void
control_rows(struct run *x, const struct assess_measure *c,
    const struct assess_measure *cd, int64_t hosts_rt)
{
	const struct assess_opts *o = x->o;
	const char *other = o->ca_file != NULL ? o->ca_file : "the system's store";
	struct assess_row *row;

	if ((row = row_add(x, o->control, "control", "", "authentication")) !=
	    NULL)
		assess_judge_auth(true, o->proxy != NULL, c, row);
	if ((row = row_add(x, o->control, "control", "", "inspection")) != NULL)
		assess_judge_inspection(true, c, cd, o->public_name, other, row);
	if ((row = row_add(x, o->control, "control", "", "path")) != NULL)
		control_path_row(x, row, c, cd, hosts_rt);
	if ((row = row_add(x, o->control, "control", "", "latency")) != NULL)
		latency_row(x, row, true, c, cd);
}

/* Measures every host and the control, through the proxy and (with
 * o->direct) without: m[0..n) the hosts', m[n] the control's; d likewise
 * direct. */
static int
measure_all(struct run *x, size_t n, struct assess_measure *m,
    struct assess_measure *d)
{
	size_t per = x->o->direct ? 2 : 1, k = 0;
	struct target *t = calloc((n + 1) * per, sizeof(*t));

	if (t == NULL)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		const char *host = i < n ? x->o->hosts[i].name : x->o->control;

		t[k].host = host;
		t[k].m = &m[i];
		prepare(x, &t[k++], true);
		if (x->o->direct) {
			t[k].host = host;
			t[k].m = &d[i];
			prepare(x, &t[k++], false);
		}
	}
	timed_rounds(x, t, k);
	free(t);
	return 0;
}

int
assess_run(const struct assess_opts *o, struct assess_report *rep)
{
	struct run x = { o, rep, now_us() + (int64_t)ASSESS_MAX_RUN_MS * 1000,
	    false };
	size_t n = o->n_hosts < ASSESS_MAX_HOSTS ? o->n_hosts : ASSESS_MAX_HOSTS;
	struct assess_measure *m, *d;
	struct assess_row *row;

	m = calloc(n + 1, sizeof(*m));
	d = calloc(n + 1, sizeof(*d));
	if (m == NULL || d == NULL || measure_all(&x, n, m, d) != 0) {
		free(m);
		free(d);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		host_rows(&x, &o->hosts[i], &m[i], o->direct ? &d[i] : NULL,
		    &m[n]);
	control_rows(&x, &m[n], o->direct ? &d[n] : NULL,
	    hosts_round_trip(m, n));
	if ((row = row_add(&x, "data", "data", "", "freshness")) != NULL)
		assess_judge_data(&o->data, o->now, row);
	for (size_t i = 0; i < rep->n; i++)
		rep->count[rep->rows[i].status]++;
	free(m);
	free(d);
	return x.oom ? -1 : 0;
}

void
assess_report_free(struct assess_report *rep)
{
	free(rep->rows);
	memset(rep, 0, sizeof(*rep));
}
