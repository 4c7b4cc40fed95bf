/* lookup.c - see lookup.h. */
#define _GNU_SOURCE                     /* getaddrinfo_a, gai_suspend */
#include "lookup.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One asynchronous lookup; its memory must outlive a lookup that cannot
 * be cancelled, so it is allocated and, then, never freed. */
struct pending {
	struct gaicb cb;
	struct addrinfo hints;
	char name[256];
};

static bool
seen(const struct lookup_result *out, const struct sockaddr *sa,
    socklen_t len)
{
	for (size_t i = 0; i < out->n; i++)
		if (memcmp(&out->addr[i], sa, len) == 0)
			return true;
	return false;
}

static void
keep(struct lookup_result *out, const struct addrinfo *res)
{
	for (const struct addrinfo *a = res; a != NULL &&
	    out->n < LOOKUP_MAX_ADDRS; a = a->ai_next) {
		const void *ip;

		if (a->ai_family == AF_INET)
			ip = &((const struct sockaddr_in *)(const void *)
			    a->ai_addr)->sin_addr;
		else if (a->ai_family == AF_INET6)
			ip = &((const struct sockaddr_in6 *)(const void *)
			    a->ai_addr)->sin6_addr;
		else
			continue;
		if (a->ai_addrlen > sizeof(out->addr[0]) ||
		    seen(out, a->ai_addr, a->ai_addrlen))
			continue;
		memset(&out->addr[out->n], 0, sizeof(out->addr[0]));
		memcpy(&out->addr[out->n], a->ai_addr, a->ai_addrlen);
		inet_ntop(a->ai_family, ip, out->text[out->n],
		    sizeof(out->text[0]));
		out->n++;
	}
}

/* Waits for p until timeout_ms has passed; returns its status, or
 * EAI_AGAIN with *timed_out when it did not finish. */
static int
wait_for(struct pending *p, unsigned timeout_ms, bool *timed_out)
{
	const struct gaicb *list[1] = { &p->cb };
	struct timespec end, now, left;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	while ((rc = gai_error(&p->cb)) == EAI_INPROGRESS) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000;
		}
		if (left.tv_sec < 0) {
			*timed_out = true;
			return EAI_AGAIN;
		}
		gai_suspend(list, 1, &left);    /* EINTR, EAI_ALLDONE: recheck */
	}
	return rc;
}

int
lookup_host(const char *name, unsigned timeout_ms,
    struct lookup_result *out, char *err, size_t errlen)
{
	struct gaicb *list[1];
	struct pending *p;
	bool timed_out = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->hints.ai_family = AF_UNSPEC;
	p->hints.ai_socktype = SOCK_STREAM;
	p->cb.ar_name = p->name;
	p->cb.ar_request = &p->hints;
	list[0] = &p->cb;
	if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		free(p);
		return -1;
	}
	rc = wait_for(p, timeout_ms, &timed_out);
	if (timed_out && gai_cancel(&p->cb) != EAI_CANCELED) {
		snprintf(err, errlen, "no answer within %u ms", timeout_ms);
		return -1;              /* still running: p stays, on purpose */
	}
	if (timed_out)
		snprintf(err, errlen, "no answer within %u ms", timeout_ms);
	else if (rc != 0)
		snprintf(err, errlen, "%s", gai_strerror(rc));
	else
		keep(out, p->cb.ar_result);
	if (p->cb.ar_result != NULL)
		freeaddrinfo(p->cb.ar_result);
	free(p);
	if (!timed_out && rc == 0 && out->n == 0)
		snprintf(err, errlen, "no IPv4 or IPv6 address");
	return timed_out || rc != 0 || out->n == 0 ? -1 : 0;
}
