/* fetch.h - Microsoft's endpoint web service over HTTPS (libcurl), the way
 * Microsoft asks: a persistent ClientRequestId on every call, /version
 * before /endpoints, bounded everything, retries with backoff and jitter
 * for transient faults, never a retry on HTTP 429 (DESIGN.md §2). */
#ifndef M365_FETCH_H
#define M365_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "source.h"

#define FETCH_DEFAULT_BASE "https://endpoints.office.com"
#define FETCH_MAX_BODY (4u * 1024 * 1024)   /* = M365_DATA_MAX_BYTES */
#define FETCH_MAX_VERSION_BODY 4096
#define FETCH_VERSION_LEN SOURCE_VERSION_LEN /* YYYYMMDDNN */

struct fetch_opts {
	const char *base_url;           /* https://… or file://… */
	const char *instance;           /* Worldwide, USGovDoD, … */
	const char *client_id;          /* the persistent GUID */
	const char *ca_file;            /* NULL: the system's */
	const char *proxy;              /* NULL: libcurl's env (https_proxy) */
	const char *tenant;             /* NULL: none */
	const struct m365_strlist *service_areas;  /* empty: all */
	bool no_ipv6;
	long connect_timeout;           /* seconds */
	long timeout;                   /* seconds, per request */
	unsigned retries;               /* after the first try */
	double retry_delay;             /* seconds, doubled per retry */
};

enum fetch_status {
	FETCH_OK,
	FETCH_RATE_LIMITED,             /* HTTP 429: stop, do not retry */
	FETCH_FAILED                    /* anything else; message says what */
};

struct fetch_result {
	enum fetch_status status;
	long http_code;                 /* 0 when there was no response */
	char *body;                     /* malloc'd, NUL-terminated; caller frees */
	size_t len;
	char message[512];
};

/* Initialises libcurl once per process; returns 0 or -1. */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/* GET {base}/version/{instance}: writes the latest version (10 digits) to
 * latest.  Returns the status; r->message says what went wrong. */
enum fetch_status fetch_version(const struct fetch_opts *o,
    char latest[FETCH_VERSION_LEN + 1], struct fetch_result *r);

/* GET {base}/endpoints/{instance} with the options' query parameters; the
 * body (at most FETCH_MAX_BODY bytes) in r. */
enum fetch_status fetch_endpoints(const struct fetch_opts *o,
    struct fetch_result *r);

void fetch_result_free(struct fetch_result *r);

#endif
