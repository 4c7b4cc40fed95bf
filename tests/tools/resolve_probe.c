/* resolve_probe.c - drives helper/resolve.c the way the helper will: one
 * poll loop over stdin and the resolver's sockets.
 *
 *   resolve_probe [-s SERVERS] [-t TIMEOUT_MS] [-i INFLIGHT] [-c CACHE] [-e]
 *
 * Reads lines "ID NAME ADDR" and asks resolver_check whether ADDR is one of
 * NAME's addresses.  Prints "ID STATUS" (resolve_status_name) as soon as
 * the answer is known: at once for answers from the cache and for "busy",
 * later from the callback for "pending" ones.  -e appends " ms=N", the
 * milliseconds from the check to its answer.  Every line is flushed, so a
 * test sees the order of the answers.  A line that is not three fields
 * with an address gets "ID bad line".  Exits 0 at EOF once nothing is
 * pending, 1 when the resolver cannot start (the reason on stderr). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prefix.h"
#include "resolve.h"

#define LINE_MAX_LEN 1024
#define ID_MAX 64

struct pending {
	char id[ID_MAX + 1];
	uint64_t start_us;
};

struct probe {
	struct resolver *r;
	int elapsed;                    /* -e */
	size_t pending;
	char buf[LINE_MAX_LEN + 1];
	size_t len;
	int eof;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
answer(const struct probe *p, const char *id, enum resolve_status st,
    uint64_t start_us)
{
	if (p->elapsed)
		printf("%s %s ms=%llu\n", id, resolve_status_name(st),
		    (unsigned long long)((now_us() - start_us) / 1000u));
	else
		printf("%s %s\n", id, resolve_status_name(st));
	fflush(stdout);
}

static struct probe *the_probe;         /* for the callback */

static void
on_answer(void *arg, enum resolve_status st)
{
	struct pending *pd = arg;

	answer(the_probe, pd->id, st, pd->start_us);
	free(pd);
	the_probe->pending--;
}

/* The three space-separated fields of line; returns 0 or -1. */
static int
split(char *line, char **f)
{
	for (int i = 0; i < 3; i++) {
		f[i] = line;
		line = strchr(line, ' ');
		if ((line == NULL) != (i == 2))
			return -1;
		if (line != NULL)
			*line++ = '\0';
		if (f[i][0] == '\0')
			return -1;
	}
	return 0;
}

static void
handle_line(struct probe *p, char *line)
{
	char *f[3];
	struct ip_addr a;
	struct pending *pd;
	enum resolve_status st;
	bool v4;

	if (split(line, f) != 0 || strlen(f[0]) > ID_MAX ||
	    ip_parse(f[2], strlen(f[2]), &a, &v4) != 0) {
		printf("%s bad line\n", line[0] != '\0' ? line : "?");
		fflush(stdout);
		return;
	}
	if ((pd = malloc(sizeof(*pd))) == NULL) {
		fprintf(stderr, "resolve_probe: out of memory\n");
		exit(1);
	}
	snprintf(pd->id, sizeof(pd->id), "%s", f[0]);
	pd->start_us = now_us();
	st = resolver_check(p->r, f[1], strlen(f[1]), &a, on_answer, pd);
	if (st == RESOLVE_PENDING) {
		p->pending++;
		return;
	}
	answer(p, pd->id, st, pd->start_us);
	free(pd);
}

/* Reads what stdin has and handles every complete line.  An over-long
 * line is dropped with a "bad line". */
static void
read_input(struct probe *p)
{
	ssize_t n = read(STDIN_FILENO, p->buf + p->len, LINE_MAX_LEN - p->len);
	char *nl, *start;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		p->eof = 1;
		return;
	}
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
	start = p->buf;
	while ((nl = memchr(start, '\n', p->len - (size_t)(start - p->buf)))) {
		*nl = '\0';
		handle_line(p, start);
		start = nl + 1;
	}
	p->len -= (size_t)(start - p->buf);
	memmove(p->buf, start, p->len);
	if (p->len == LINE_MAX_LEN) {
		printf("? bad line\n");
		fflush(stdout);
		p->len = 0;
	}
}

static void
run(struct probe *p)
{
	struct pollfd fds[1 + RESOLVE_MAX_FDS];

	while (!p->eof || p->pending > 0) {
		size_t n = 0, nr;

		if (!p->eof) {
			fds[0].fd = STDIN_FILENO;
			fds[0].events = POLLIN;
			fds[0].revents = 0;
			n = 1;
		}
		nr = resolver_pollfds(p->r, fds + n, RESOLVE_MAX_FDS);
		if (poll(fds, (nfds_t)(n + nr), resolver_timeout_ms(p->r)) < 0 &&
		    errno != EINTR) {
			perror("resolve_probe: poll");
			exit(1);
		}
		if (n == 1 && fds[0].revents != 0)
			read_input(p);
		resolver_process(p->r, fds + n, nr);
	}
}

static unsigned long
number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max) {
		fprintf(stderr, "resolve_probe: bad number %s\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct resolve_options o = {
		NULL, RESOLVE_DEFAULT_TIMEOUT_MS, RESOLVE_DEFAULT_INFLIGHT,
		RESOLVE_DEFAULT_CACHE
	};
	static struct probe p;
	char err[256];
	int ch;

	while ((ch = getopt(argc, argv, "s:t:i:c:e")) != -1) {
		switch (ch) {
		case 's': o.servers = optarg; break;
		case 't': o.timeout_ms = (unsigned)number(optarg, 100000); break;
		case 'i': o.max_inflight = number(optarg, 1u << 30); break;
		case 'c': o.cache_names = number(optarg, 1u << 30); break;
		case 'e': p.elapsed = 1; break;
		default:
			fprintf(stderr, "usage: resolve_probe [-s SERVERS] "
			    "[-t TIMEOUT_MS] [-i INFLIGHT] [-c CACHE] [-e]\n");
			return 2;
		}
	}
	if ((p.r = resolver_new(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "resolve_probe: %s\n", err);
		return 1;
	}
	the_probe = &p;
	run(&p);
	resolver_free(p.r);
	return 0;
}
