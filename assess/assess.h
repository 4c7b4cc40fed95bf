/* assess.h - whether a branch follows Microsoft's connectivity
 * principles, seen from a client's seat: is Microsoft 365 traffic let out
 * without proxy authentication, without TLS inspection, on a shorter path
 * than other traffic (local egress), to a front door near the office; and
 * is the data deciding it current.  Each host and check gets one row,
 * PASS, WARN, FAIL or INFO, with the reason and the figures.
 *
 * The probes (probe.h) are real HTTPS requests through the proxy: the
 * module decides from what they saw; cli/assess.c only prints. */
#ifndef M365_ASSESS_H
#define M365_ASSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "geo.h"
#include "matcher.h"
#include "probe.h"
#include "sample.h"

#define ASSESS_MAX_HOSTS 16             /* Microsoft 365 hosts per run */
#define ASSESS_MAX_TRIES 10
#define ASSESS_MAX_RUN_MS 300000        /* the whole run, at most */
#define ASSESS_MAX_DATA_AGE (2 * 86400) /* since the last good update */
#define ASSESS_MAX_FIGURES 12
#define ASSESS_REASON_MAX 768

enum assess_status {
	ASSESS_PASS,
	ASSESS_WARN,
	ASSESS_FAIL,
	ASSESS_INFO                     /* for reading: the control, figures */
};
#define ASSESS_N_STATUS 4

struct assess_figure {
	const char *name;               /* static: "round_trip_ms", ... */
	double value;
};

struct assess_row {
	char host[HOST_NAME_MAX_LEN + 1];       /* or "data" */
	const char *role;               /* optimize, allow, custom, control, data */
	char service_area[SAMPLE_AREA_MAX];
	const char *check;              /* authentication, inspection, path,
					   latency, front door, freshness */
	enum assess_status status;
	char reason[ASSESS_REASON_MAX];
	struct assess_figure fig[ASSESS_MAX_FIGURES];
	size_t n_fig;
};

/* The data in use, as "m365-direct status" tells it (strings borrowed). */
struct assess_data {
	const char *source;             /* source_kind_name: "cache", ... */
	const char *path;               /* "" for the bundled snapshot */
	const char *version, *instance; /* "" when unknown */
	bool fell_back;                 /* the chosen file failed: snapshot */
	time_t fetched, last_success, last_attempt;     /* 0: never */
	const char *last_result;        /* installed, current, failed, "" */
	const char *last_message;
};

struct assess_opts {
	const struct m365_rules *rules;
	const struct sample_host *hosts;        /* the Microsoft 365 hosts */
	size_t n_hosts;                 /* 1..ASSESS_MAX_HOSTS */
	const char *control;            /* a host that should not go direct */
	const struct probe_proxy *proxy;        /* NULL: none */
	bool direct;                    /* also measure without the proxy */
	const struct buf *public_roots;
	const char *public_name;        /* where they came from, for reasons */
	const char *ca_file;            /* other trust; NULL: system store */
	unsigned tries;                 /* timed requests per host and path */
	unsigned timeout_ms;            /* a connection's steps; a request 2x */
	unsigned margin_ms;             /* a shorter round trip counts from */
	const struct geo_db *geo;       /* NULL: no locations */
	bool office;                    /* office_lat, office_lon are set */
	double office_lat, office_lon;
	unsigned max_distance_km;
	struct assess_data data;
	time_t now;
};

struct assess_report {
	struct assess_row *rows;
	size_t n, cap;
	size_t count[ASSESS_N_STATUS];
	bool have_extra;                /* control_extra_ms is known */
	double control_extra_ms;        /* the control's round trip minus the
					   Microsoft 365 hosts' median */
	bool budget_exhausted;          /* ASSESS_MAX_RUN_MS cut checks */
};

/* Runs every check (real requests, bounded by the options' timeouts and
 * ASSESS_MAX_RUN_MS) into rep (zeroed by the caller).  Returns 0, or -1
 * when out of memory (rep then holds what was done; free it). */
int assess_run(const struct assess_opts *o, struct assess_report *rep);
void assess_report_free(struct assess_report *rep);

/* "PASS", "WARN", "FAIL", "INFO". */
const char *assess_status_name(enum assess_status s);

/* The judgements, from what the probes of one host over one path saw;
 * exposed for the unit tests. */
struct assess_measure {
	bool probed;                    /* a try ran (else why says why not) */
	char why[PROBE_NAME_MAX];
	bool via_proxy;                 /* the connection used the proxy */
	long connect_code;              /* the proxy's first answer, no
					   credentials; 0: none */
	unsigned long auth_offered;     /* CURLAUTH_* of a 407 */
	bool handshake;                 /* a TLS handshake completed */
	bool public_ok;                 /* the chain verified with the public roots */
	bool other_ok;                  /* only with the other trust */
	char issuer[PROBE_NAME_MAX];    /* the server certificate's issuer */
	char error[PROBE_NAME_MAX];     /* what failed, when it did */
	unsigned tries, ok_tries;
	struct probe_steps median;      /* over the timed tries; -1: none */
};

/* Median of v[0..n) (v reordered; of an even n the mean of the middle
 * two), -1 when n is 0. */
int64_t assess_median(int64_t *v, size_t n);

void assess_judge_auth(bool control, bool have_proxy,
    const struct assess_measure *m, struct assess_row *row);
void assess_judge_inspection(bool control, const struct assess_measure *m,
    const struct assess_measure *direct, const char *public_name,
    const char *other_name, struct assess_row *row);
void assess_judge_path(const struct assess_measure *m,
    const struct assess_measure *direct, const struct assess_measure *control,
    const char *control_name, unsigned margin_ms, struct assess_row *row);
void assess_judge_data(const struct assess_data *d, time_t now,
    struct assess_row *row);

#endif
