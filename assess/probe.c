/* probe.c - see probe.h. */
#include "probe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define PROBE_USER_AGENT "m365-direct-assess/" M365_VERSION
#define PROBE_URL_MAX 300               /* https:// + a host name + / */
#define PROBE_MAX_BODY 65536            /* a HEAD has none; just in case */

int
probe_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
probe_global_cleanup(void)
{
	curl_global_cleanup();
}

void
probe_proxy_free(struct probe_proxy *p)
{
	free(p->url);
	free(p->user);
	free(p->password);
	free(p->no_proxy);
	memset(p, 0, sizeof(*p));
}

/* Copies a part libcurl handed out (freed here); NULL stays NULL. */
static char *
take(char *part, bool *oom)
{
	char *copy;

	if (part == NULL)
		return NULL;
	if ((copy = strdup(part)) == NULL)
		*oom = true;
	curl_free(part);
	return copy;
}

/* The URL's parts into p; returns 0 or -1 with err. */
static int
split_proxy(CURLU *u, struct probe_proxy *p, char *err, size_t errlen)
{
	char *scheme = NULL, *url = NULL, *user = NULL, *pass = NULL;
	bool oom = false;
	int rc = -1;

	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (scheme == NULL || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0)) {
		snprintf(err, errlen, "proxy: only http:// and https:// proxies "
		    "can answer a CONNECT");
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		snprintf(err, errlen, "proxy: not a URL");
		goto out;
	}
	p->url = take(url, &oom);
	url = NULL;
	p->user = take(user, &oom);
	p->password = take(pass, &oom);
	user = pass = NULL;
	if (oom)
		snprintf(err, errlen, "out of memory");
	rc = oom ? -1 : 0;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(url);
	return rc;
}

int
probe_proxy_parse(const char *text, const char *no_proxy,
    struct probe_proxy *p, char *err, size_t errlen)
{
	char with_scheme[2048];
	CURLU *u;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if ((size_t)snprintf(with_scheme, sizeof(with_scheme), "%s%s",
	    strstr(text, "://") != NULL ? "" : "http://", text) >=
	    sizeof(with_scheme)) {
		snprintf(err, errlen, "proxy: URL too long");
		return -1;
	}
	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* any scheme parses, so that split_proxy can say which it takes */
	if (curl_url_set(u, CURLUPART_URL, with_scheme,
	    CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		snprintf(err, errlen, "proxy: not a URL");
	else
		rc = split_proxy(u, p, err, errlen);
	curl_url_cleanup(u);
	if (rc == 0 && no_proxy != NULL && (p->no_proxy = strdup(no_proxy)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc != 0)
		probe_proxy_free(p);
	return rc;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* When the proxy's answer to the last CONNECT ended, seen in libcurl's
 * debug stream: libcurl reports no time for the tunnel on its own. */
struct tunnel_clock {
	int64_t start;
	bool in_connect;                /* a CONNECT is waiting for its answer */
	int64_t answered;               /* -1: no answer yet */
};

static int
on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	struct tunnel_clock *t = ud;

	(void)h;
	if (type == CURLINFO_HEADER_OUT && size >= 8 &&
	    memcmp(data, "CONNECT ", 8) == 0) {
		t->in_connect = true;
	} else if (type == CURLINFO_HEADER_IN && t->in_connect &&
	    ((size == 2 && data[0] == '\r' && data[1] == '\n') ||
	    (size == 1 && data[0] == '\n'))) {
		t->in_connect = false;      /* the empty line ends the answer */
		t->answered = now_us() - t->start;
	}
	return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	(void)data;
	(void)ud;
	return size * nmemb;
}

static void
set_trust(CURL *h, const struct probe_opts *o)
{
	struct curl_blob blob;

	switch (o->trust) {
	case PROBE_TRUST_PUBLIC:
		/* the blob and nothing else: no default file, no directory */
		blob.data = o->public_roots->p;
		blob.len = o->public_roots->len;
		blob.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
		break;
	case PROBE_TRUST_OTHER:
		if (o->ca_file != NULL) {
			curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
			curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		}
		break;
	case PROBE_TRUST_NONE:
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		return;
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
}

static void
set_proxy(CURL *h, const struct probe_opts *o)
{
	const struct probe_proxy *p = o->proxy;

	if (p == NULL) {
		/* "" is "no proxy", whatever the environment says */
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		return;
	}
	curl_easy_setopt(h, CURLOPT_PROXY, p->url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, p->no_proxy != NULL ?
	    p->no_proxy : "");
	curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_PROXY_CAINFO, o->ca_file);
	if (o->credentials && p->user != NULL) {
		curl_easy_setopt(h, CURLOPT_PROXYUSERNAME, p->user);
		curl_easy_setopt(h, CURLOPT_PROXYPASSWORD, p->password != NULL ?
		    p->password : "");
		curl_easy_setopt(h, CURLOPT_PROXYAUTH, o->proxy_auth != 0 ?
		    o->proxy_auth : (unsigned long)CURLAUTH_ANY);
	}
}

static void
set_options(CURL *h, const struct probe_opts *o, const char *url,
    struct tunnel_clock *t, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->total_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, PROBE_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)PROBE_MAX_BODY);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	/* the debug stream only flows with VERBOSE; on_debug prints nothing */
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, t);
	set_trust(h, o);
	set_proxy(h, o);
}

/* Copies the value of "Key:value" when line starts with key. */
static void
cert_field(const char *line, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	if (strncmp(line, key, klen) == 0 && line[klen] == ':')
		/* chosen by the server: one line of printable ASCII */
		log_escape_line(line + klen + 1, strlen(line + klen + 1), out,
		    size);
}

/* The server certificate's names, from the chain libcurl kept. */
static void
read_chain(CURL *h, struct probe_result *r)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs <= 0)
		return;
	r->chain_len = ci->num_of_certs;
	for (struct curl_slist *s = ci->certinfo[0]; s != NULL; s = s->next) {
		cert_field(s->data, "Issuer", r->issuer, sizeof(r->issuer));
		cert_field(s->data, "Subject", r->subject, sizeof(r->subject));
	}
}

static int64_t
step_time(CURL *h, CURLINFO what)
{
	curl_off_t t = 0;

	if (curl_easy_getinfo(h, what, &t) != CURLE_OK || t <= 0)
		return -1;
	return (int64_t)t;
}

static void
read_result(CURL *h, const struct tunnel_clock *t, struct probe_result *r)
{
	long avail = 0;

	curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &r->connect_code);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->http_code);
	curl_easy_getinfo(h, CURLINFO_PROXYAUTH_AVAIL, &avail);
	r->proxy_auth_avail = (unsigned long)avail;
	r->connect_us = step_time(h, CURLINFO_CONNECT_TIME_T);
	r->tls_us = step_time(h, CURLINFO_APPCONNECT_TIME_T);
	r->pretransfer_us = step_time(h, CURLINFO_PRETRANSFER_TIME_T);
	r->first_byte_us = step_time(h, CURLINFO_STARTTRANSFER_TIME_T);
	r->tunnel_us = r->connect_code >= 200 && r->connect_code < 300 ?
	    t->answered : -1;
	if (r->http_code == 0) {        /* no answer: the later steps failed */
		r->pretransfer_us = -1;
		r->first_byte_us = -1;
	}
	read_chain(h, r);
}

void
probe_run(const struct probe_opts *o, const char *host,
    struct probe_result *r)
{
	char url[PROBE_URL_MAX], errbuf[CURL_ERROR_SIZE] = "";
	struct tunnel_clock t = { 0, false, -1 };
	CURL *h;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	r->connect_us = r->tunnel_us = r->tls_us = -1;
	r->pretransfer_us = r->first_byte_us = -1;
	if ((size_t)snprintf(url, sizeof(url), "https://%s/", host) >=
	    sizeof(url) || (h = curl_easy_init()) == NULL) {
		r->curl_code = CURLE_OUT_OF_MEMORY;
		snprintf(r->error, sizeof(r->error), "cannot start a request");
		return;
	}
	set_options(h, o, url, &t, errbuf);
	t.start = now_us();
	rc = curl_easy_perform(h);
	r->curl_code = (int)rc;
	if (rc != CURLE_OK) {
		const char *e = errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(rc);

		log_escape_line(e, strlen(e), r->error, sizeof(r->error));
	}
	r->verify_failed = rc == CURLE_PEER_FAILED_VERIFICATION;
	read_result(h, &t, r);
	curl_easy_cleanup(h);
}

void
probe_steps(const struct probe_result *r, struct probe_steps *s)
{
	int64_t before_tls = r->tunnel_us >= 0 ? r->tunnel_us : r->connect_us;

	s->tcp = r->connect_us;
	s->tunnel = r->tunnel_us >= 0 && r->connect_us >= 0 &&
	    r->tunnel_us >= r->connect_us ? r->tunnel_us - r->connect_us : -1;
	s->tls = r->tls_us >= 0 && before_tls >= 0 && r->tls_us >= before_tls ?
	    r->tls_us - before_tls : -1;
	s->first_byte = r->first_byte_us;
	s->round_trip = r->first_byte_us >= 0 && r->pretransfer_us >= 0 &&
	    r->first_byte_us >= r->pretransfer_us ?
	    r->first_byte_us - r->pretransfer_us : -1;
}
