/* fetch.c - see fetch.h. */
#include "fetch.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"

#define FETCH_USER_AGENT "m365-direct/" M365_VERSION
#define FETCH_MAX_REDIRS 5
#define FETCH_MAX_DELAY_MS 300000       /* one backoff at most 5 min */
#define FETCH_URL_MAX 4096

/* A response body growing up to a bound. */
int
fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

void
fetch_result_free(struct fetch_result *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

static size_t
on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	size_t n = size * nmemb;

	/* a short count makes curl stop: CURLE_WRITE_ERROR */
	return buf_add(ud, data, n) == 0 ? n : 0;
}

/* Whether a libcurl failure may go away on a retry. */
static bool
transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return true;
	default:
		return false;
	}
}

static void
set_options(CURL *c, const struct fetch_opts *o, const char *url,
    struct buf *b, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o->proxy != NULL) {
		curl_easy_setopt(c, CURLOPT_PROXY, o->proxy);
		curl_easy_setopt(c, CURLOPT_PROXYAUTH, (long)CURLAUTH_ANY);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, FETCH_USER_AGENT);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b->max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
}

/* The outcome of a transfer that libcurl completed without error. */
static enum fetch_status
judge_response(CURL *c, const char *url, struct fetch_result *r, bool *retry)
{
	const char *scheme = NULL;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http_code);
	curl_easy_getinfo(c, CURLINFO_SCHEME, &scheme);
	if (scheme != NULL && strcasecmp(scheme, "file") == 0)
		return FETCH_OK;
	if (r->http_code == 200)
		return FETCH_OK;
	if (r->http_code == 429) {
		snprintf(r->message, sizeof(r->message), "HTTP 429 (rate limited) "
		    "from %s", url);
		return FETCH_RATE_LIMITED;
	}
	*retry = r->http_code >= 500;
	snprintf(r->message, sizeof(r->message), "HTTP %ld from %s",
	    r->http_code, url);
	return FETCH_FAILED;
}

/* One GET of url, its body bounded by max. */
static enum fetch_status
get_once(const struct fetch_opts *o, const char *url, size_t max,
    struct fetch_result *r, bool *retry)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct buf b = BUF_INIT(max);
	enum fetch_status st = FETCH_FAILED;
	CURL *c = curl_easy_init();
	CURLcode rc;

	*retry = false;
	r->http_code = 0;
	if (c == NULL) {
		snprintf(r->message, sizeof(r->message), "libcurl: out of memory");
		return FETCH_FAILED;
	}
	set_options(c, o, url, &b, errbuf);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		st = judge_response(c, url, r, retry);
	} else if (b.error == BUF_TOO_LARGE || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(r->message, sizeof(r->message), "%s: response larger "
		    "than %zu bytes", url, max);
	} else {
		long proxy_code = 0;

		/* a proxy refusing the tunnel (407: credentials) will refuse
		 * it again */
		curl_easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE, &proxy_code);
		*retry = transient(rc) && !(proxy_code >= 400 && proxy_code < 500);
		snprintf(r->message, sizeof(r->message), "%s: %s", url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_cleanup(c);
	if (st == FETCH_OK) {
		r->body = b.p != NULL ? b.p : strdup("");
		r->len = b.len;
	} else {
		free(b.p);
	}
	return st;
}

/* Sleeps the backoff before retry number attempt (0-based): the base
 * delay doubled per attempt, times a random factor in [0.5, 1.5). */
static void
backoff(const struct fetch_opts *o, unsigned attempt)
{
	double ms = o->retry_delay * 1000.0;
	unsigned short rnd = 0;
	struct timespec ts;

	for (unsigned i = 0; i < attempt && ms < FETCH_MAX_DELAY_MS; i++)
		ms *= 2;
	if (ms > FETCH_MAX_DELAY_MS)
		ms = FETCH_MAX_DELAY_MS;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = 32768;
	ms *= 0.5 + rnd / 65536.0;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* GET with retries for transient faults (timeouts, connection errors,
 * 5xx), never for 429. */
static enum fetch_status
get(const struct fetch_opts *o, const char *url, size_t max,
    struct fetch_result *r)
{
	enum fetch_status st;
	unsigned attempt = 0;
	bool retry;

	memset(r, 0, sizeof(*r));
	for (;;) {
		st = get_once(o, url, max, r, &retry);
		if (st != FETCH_FAILED || !retry || attempt == o->retries)
			break;
		backoff(o, attempt++);
	}
	if (st == FETCH_FAILED && attempt > 0) {
		size_t n = strlen(r->message);

		snprintf(r->message + n, sizeof(r->message) - n,
		    " (after %u retries)", attempt);
	}
	return st;
}

static bool
is_file_url(const char *url)
{
	return strncmp(url, "file://", 7) == 0;
}

/* Appends "&name=value" (value URL-escaped) to url. */
static void
add_param(CURL *c, char *url, size_t size, const char *name,
    const char *value)
{
	char *esc = curl_easy_escape(c, value, 0);
	size_t n = strlen(url);

	if (esc == NULL)
		return;
	snprintf(url + n, size - n, "%c%s=%s", strchr(url, '?') ? '&' : '?',
	    name, esc);
	curl_free(esc);
}

/* {base}/{method}/{instance} with the query of the options (none for a
 * file:// mirror). */
static int
build_url(const struct fetch_opts *o, const char *method, bool endpoints,
    char *url, size_t size)
{
	CURL *c;
	char areas[1024] = "";

	if ((size_t)snprintf(url, size, "%s/%s/%s", o->base_url, method,
	    o->instance) >= size)
		return -1;
	if (is_file_url(o->base_url))
		return 0;
	if ((c = curl_easy_init()) == NULL)
		return -1;
	add_param(c, url, size, "ClientRequestId", o->client_id);
	for (size_t i = 0; endpoints && o->service_areas != NULL &&
	    i < o->service_areas->n; i++) {
		size_t n = strlen(areas);

		snprintf(areas + n, sizeof(areas) - n, "%s%s", n ? "," : "",
		    o->service_areas->v[i]);
	}
	if (areas[0] != '\0')
		add_param(c, url, size, "ServiceAreas", areas);
	if (endpoints && o->tenant != NULL)
		add_param(c, url, size, "TenantName", o->tenant);
	if (endpoints && o->no_ipv6)
		add_param(c, url, size, "NoIPv6", "true");
	curl_easy_cleanup(c);
	return strlen(url) + 1 >= size ? -1 : 0;
}

/* Takes "latest" out of a /version answer: 10 digits. */
static int
parse_version(const char *body, const char *instance,
    char latest[FETCH_VERSION_LEN + 1], char *msg, size_t msglen)
{
	cJSON *o = cJSON_Parse(body);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "latest");
	int rc = -1;

	if (!cJSON_IsString(v) || strlen(v->valuestring) != FETCH_VERSION_LEN ||
	    strspn(v->valuestring, "0123456789") != FETCH_VERSION_LEN) {
		snprintf(msg, msglen, "/version/%s: no \"latest\" version of "
		    "10 digits in the answer", instance);
	} else {
		memcpy(latest, v->valuestring, FETCH_VERSION_LEN + 1);
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

enum fetch_status
fetch_version(const struct fetch_opts *o, char latest[FETCH_VERSION_LEN + 1],
    struct fetch_result *r)
{
	char url[FETCH_URL_MAX];
	enum fetch_status st;

	memset(r, 0, sizeof(*r));
	if (build_url(o, "version", false, url, sizeof(url)) != 0) {
		snprintf(r->message, sizeof(r->message), "URL too long");
		return FETCH_FAILED;
	}
	st = get(o, url, FETCH_MAX_VERSION_BODY, r);
	if (st != FETCH_OK)
		return st;
	if (parse_version(r->body, o->instance, latest, r->message,
	    sizeof(r->message)) != 0) {
		fetch_result_free(r);
		return FETCH_FAILED;
	}
	return FETCH_OK;
}

enum fetch_status
fetch_endpoints(const struct fetch_opts *o, struct fetch_result *r)
{
	char url[FETCH_URL_MAX];

	memset(r, 0, sizeof(*r));
	if (build_url(o, "endpoints", true, url, sizeof(url)) != 0) {
		snprintf(r->message, sizeof(r->message), "URL too long");
		return FETCH_FAILED;
	}
	return get(o, url, FETCH_MAX_BODY, r);
}
