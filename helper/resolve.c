/* resolve.c - see resolve.h.  The helper's only network code; all c-ares
 * use lives here.
 *
 * Three kinds of objects, each bounded:
 *   check   one resolver_check() that returned PENDING: the address asked
 *           about, the callback, a deadline.  At most max_inflight exist,
 *           counting those whose answer is known but not yet delivered.
 *   lookup  one ares_getaddrinfo() in progress for a name; every check for
 *           that name joins it.  At most max_inflight exist: a lookup may
 *           outlive its checks (they timed out, c-ares still retries) and
 *           is then kept so that a late answer still fills the cache.
 *   entry   a cached answer: the name's addresses (at most
 *           RESOLVE_MAX_ADDRS) or "no such name", until it expires.  At
 *           most cache_names exist; the least recently used goes first.
 *
 * Names are found through chained hash tables keyed with SipHash-2-4 under
 * a per-process random key, so that nobody can choose names that pile up
 * in one chain; a chain walk compares the full name, so a collision costs
 * time, never a wrong answer.
 *
 * Callbacks are never called from inside c-ares: a finished check moves to
 * the ready list, and resolver_process() delivers the ready list after
 * c-ares has returned, so a callback may call resolver_check() again. */
#include "resolve.h"

#include <sys/queue.h>

#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siphash.h"

#define NAME_MAX_LEN 253                /* a DNS name in text, no final dot */
#define MAX_SERVERS (RESOLVE_MAX_FDS / 2)       /* a UDP and a TCP socket each */
#define MAX_INFLIGHT_LIMIT (1u << 16)
#define MAX_CACHE_LIMIT (1u << 20)
#define ARES_TRIES 2

struct name_node {
	struct name_node *chain;        /* next in the hash bucket */
	uint64_t hash;
	size_t len;
	char name[NAME_MAX_LEN + 1];
};

struct name_table {
	struct name_node **bucket;
	size_t mask;                    /* buckets - 1, a power of two less 1 */
	size_t count;
};

struct check;

/* The lists are <sys/queue.h> tail queues.  A list of checks: the
 * deadline list (waiting checks, oldest first, so earliest deadline first:
 * every check has the same timeout) or the ready list (answer known,
 * callback not yet called); and a lookup's waiting checks. */
TAILQ_HEAD(check_list, check);

struct check {
	TAILQ_ENTRY(check) link;        /* in the deadline or the ready list */
	TAILQ_ENTRY(check) llink;       /* in its lookup, while waiting */
	struct lookup *lookup;          /* NULL once the answer is known */
	struct ip_addr addr;
	resolve_cb *cb;
	void *arg;
	uint64_t deadline_us;
	enum resolve_status status;     /* the answer, once known */
};

struct lookup {
	struct name_node node;          /* first: the table's handle */
	struct resolver *r;
	struct check_list checks;       /* the checks waiting for it */
};

struct entry {
	struct name_node node;          /* first: the table's handle */
	TAILQ_ENTRY(entry) lru;         /* the LRU list, oldest first */
	uint64_t expires_us;
	size_t naddrs;                  /* 0: the name has no addresses */
	struct ip_addr addrs[];
};

/* What one finished lookup says. */
enum answer_kind {
	ANSWER_ADDRS,                   /* addresses, cacheable for ttl */
	ANSWER_NONE,                    /* NXDOMAIN or no A/AAAA records */
	ANSWER_TIMEOUT,
	ANSWER_FAILED
};

struct answer {
	enum answer_kind kind;
	unsigned ttl;
	size_t naddrs;
	struct ip_addr addrs[RESOLVE_MAX_ADDRS];
};

struct resolver {
	ares_channel channel;
	bool channel_ok;
	bool destroying;                /* resolver_free: drop every answer */
	uint64_t key[2];                /* SipHash key, random per process */
	unsigned timeout_ms;
	size_t max_inflight, cache_names;
	size_t nchecks, nlookups;
	struct name_table lookups, cache;
	TAILQ_HEAD(entry_lru, entry) lru;
	struct check_list waiting, ready;
};

/* --- time ------------------------------------------------------------- */

static uint64_t
now_us(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux; a
	 * wall-clock step must never stretch a TTL or a deadline. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- name tables ------------------------------------------------------ */

static int
table_init(struct name_table *t, size_t want)
{
	size_t n = 16;

	while (n < want)        /* want <= MAX_CACHE_LIMIT: cannot overflow */
		n *= 2;
	t->bucket = calloc(n, sizeof(*t->bucket));
	t->mask = n - 1;
	t->count = 0;
	return t->bucket == NULL ? -1 : 0;
}

static struct name_node *
table_find(const struct name_table *t, uint64_t hash, const char *name,
    size_t len)
{
	struct name_node *n = t->bucket[hash & t->mask];

	for (; n != NULL; n = n->chain)
		if (n->hash == hash && n->len == len &&
		    memcmp(n->name, name, len) == 0)
			return n;
	return NULL;
}

static void
table_insert(struct name_table *t, struct name_node *n)
{
	struct name_node **b = &t->bucket[n->hash & t->mask];

	n->chain = *b;
	*b = n;
	t->count++;
}

/* Chains stay short (a random key, at least as many buckets as names), so
 * the walk to n is O(1) expected. */
static void
table_remove(struct name_table *t, struct name_node *n)
{
	struct name_node **p = &t->bucket[n->hash & t->mask];

	while (*p != n)
		p = &(*p)->chain;
	*p = n->chain;
	t->count--;
}

static void
node_set(struct name_node *n, uint64_t hash, const char *name, size_t len)
{
	n->chain = NULL;
	n->hash = hash;
	n->len = len;
	memcpy(n->name, name, len);
	n->name[len] = '\0';
}

/* --- check lists ------------------------------------------------------ */

static void
lookup_attach(struct lookup *lk, struct check *c)
{
	c->lookup = lk;
	TAILQ_INSERT_TAIL(&lk->checks, c, llink);
}

static void
lookup_detach(struct lookup *lk, struct check *c)
{
	TAILQ_REMOVE(&lk->checks, c, llink);
	c->lookup = NULL;
}

/* A waiting check's answer is known: off its lookup and the deadline list,
 * onto the ready list for resolver_process to deliver. */
static void
check_finish(struct resolver *r, struct check *c, enum resolve_status st)
{
	if (c->lookup != NULL)
		lookup_detach(c->lookup, c);
	TAILQ_REMOVE(&r->waiting, c, link);
	c->status = st;
	TAILQ_INSERT_TAIL(&r->ready, c, link);
}

/* --- the cache -------------------------------------------------------- */

static void
cache_remove(struct resolver *r, struct entry *e)
{
	table_remove(&r->cache, &e->node);
	TAILQ_REMOVE(&r->lru, e, lru);
	free(e);
}

/* The live entry for the name, made the most recently used; an expired one
 * is dropped on the way.  NULL when there is none. */
static struct entry *
cache_get(struct resolver *r, uint64_t hash, const char *name, size_t len,
    uint64_t now)
{
	struct name_node *n = table_find(&r->cache, hash, name, len);
	struct entry *e = (struct entry *)n;

	if (e == NULL)
		return NULL;
	if (now >= e->expires_us) {
		cache_remove(r, e);
		return NULL;
	}
	TAILQ_REMOVE(&r->lru, e, lru);
	TAILQ_INSERT_TAIL(&r->lru, e, lru);
	return e;
}

/* Remembers a for the name of node, replacing what was there and making
 * room by dropping the least recently used entry.  Out of memory: not
 * cached, which only costs a lookup later. */
static void
cache_put(struct resolver *r, const struct name_node *node,
    const struct answer *a, uint64_t now)
{
	struct name_node *old = table_find(&r->cache, node->hash, node->name,
	    node->len);
	size_t n = a->kind == ANSWER_ADDRS ? a->naddrs : 0;
	unsigned ttl = a->kind == ANSWER_ADDRS ? a->ttl : RESOLVE_NEGATIVE_TTL;
	struct entry *e;

	if (old != NULL)
		cache_remove(r, (struct entry *)old);
	if (r->cache.count >= r->cache_names && !TAILQ_EMPTY(&r->lru))
		cache_remove(r, TAILQ_FIRST(&r->lru));
	/* n <= RESOLVE_MAX_ADDRS: the size cannot overflow. */
	e = malloc(sizeof(*e) + n * sizeof(e->addrs[0]));
	if (e == NULL)
		return;
	node_set(&e->node, node->hash, node->name, node->len);
	e->expires_us = now + (uint64_t)ttl * 1000000u;
	e->naddrs = n;
	memcpy(e->addrs, a->addrs, n * sizeof(e->addrs[0]));
	table_insert(&r->cache, &e->node);
	TAILQ_INSERT_TAIL(&r->lru, e, lru);
}

static enum resolve_status
addrs_match(const struct ip_addr *addrs, size_t n, const struct ip_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (ip_cmp(&addrs[i], a) == 0)
			return RESOLVE_MATCH;
	return RESOLVE_NO_MATCH;
}

/* --- answers from c-ares ---------------------------------------------- */

/* The address of one c-ares node in our 128-bit space (IPv4 as
 * ::ffff:a.b.c.d, the form ip_parse gives).  Returns 0, or -1 for a family
 * we do not know. */
static int
node_addr(const struct ares_addrinfo_node *nd, struct ip_addr *a)
{
	if (nd->ai_family == AF_INET &&
	    nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)(const void *)nd->ai_addr;

		ip_from_v4(ntohl(sin->sin_addr.s_addr), a);
		return 0;
	}
	if (nd->ai_family == AF_INET6 &&
	    nd->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)(const void *)nd->ai_addr;
		const unsigned char *b = sin6->sin6_addr.s6_addr;

		a->hi = a->lo = 0;
		for (int i = 0; i < 8; i++) {
			a->hi = a->hi << 8 | b[i];
			a->lo = a->lo << 8 | b[8 + i];
		}
		return 0;
	}
	return -1;
}

static unsigned
ttl_min(unsigned ttl, int t)
{
	if (t <= 0)
		return 0;
	return (unsigned)t < ttl ? (unsigned)t : ttl;
}

/* The addresses of a successful answer and the smallest TTL among them and
 * the CNAMEs that led there, cut to RESOLVE_TTL_MAX.  Only the first
 * RESOLVE_MAX_ADDRS addresses are kept: an address beyond those then
 * counts as no match, which is the safe direction (the connection goes
 * through the proxy). */
static void
answer_from_addrinfo(struct answer *a, const struct ares_addrinfo *res)
{
	const struct ares_addrinfo_node *nd;
	const struct ares_addrinfo_cname *cn;

	a->kind = ANSWER_NONE;
	a->ttl = RESOLVE_TTL_MAX;
	a->naddrs = 0;
	for (nd = res->nodes; nd != NULL; nd = nd->ai_next) {
		if (a->naddrs == RESOLVE_MAX_ADDRS)
			break;
		if (node_addr(nd, &a->addrs[a->naddrs]) != 0)
			continue;
		a->naddrs++;
		a->ttl = ttl_min(a->ttl, nd->ai_ttl);
	}
	for (cn = res->cnames; cn != NULL; cn = cn->next)
		a->ttl = ttl_min(a->ttl, cn->ttl);
	if (a->naddrs > 0)
		a->kind = ANSWER_ADDRS;
}

/* What a c-ares status means for us.  NXDOMAIN and "no such record" are a
 * negative answer; a c-ares timeout is a timeout; everything else
 * (SERVFAIL, REFUSED, a malformed answer, out of memory) is a failure.
 * When one of the A and AAAA queries fails and the other has addresses,
 * c-ares reports success with those: a destination of the missing family
 * then gets no match, the safe direction. */
static void
answer_from_status(struct answer *a, int status,
    const struct ares_addrinfo *res)
{
	a->naddrs = 0;
	a->ttl = 0;
	switch (status) {
	case ARES_SUCCESS:
		if (res != NULL) {
			answer_from_addrinfo(a, res);
			return;
		}
		a->kind = ANSWER_NONE;
		return;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		a->kind = ANSWER_NONE;
		return;
	case ARES_ETIMEOUT:
		a->kind = ANSWER_TIMEOUT;
		return;
	default:
		a->kind = ANSWER_FAILED;
		return;
	}
}

/* Positive answers are cached for their TTL (0: not at all, but the
 * waiting checks still get it), negative ones for RESOLVE_NEGATIVE_TTL.
 * Failures and timeouts are never cached: the next check asks again,
 * and coalescing plus max_inflight bound how often that can happen. */
static bool
answer_cacheable(const struct answer *a)
{
	return (a->kind == ANSWER_ADDRS && a->ttl > 0) ||
	    a->kind == ANSWER_NONE;
}

static enum resolve_status
answer_status(const struct answer *a, const struct ip_addr *addr)
{
	switch (a->kind) {
	case ANSWER_ADDRS:
		return addrs_match(a->addrs, a->naddrs, addr);
	case ANSWER_NONE:
		return RESOLVE_NO_MATCH;
	case ANSWER_TIMEOUT:
		return RESOLVE_TIMEOUT;
	case ANSWER_FAILED:
		break;
	}
	return RESOLVE_FAILED;
}

/* c-ares calls this once per ares_getaddrinfo, from ares_process_fd,
 * from ares_getaddrinfo itself when it fails at once, or from
 * ares_destroy. */
static void
on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct lookup *lk = arg;
	struct resolver *r = lk->r;
	struct answer a;
	struct check *c;

	(void)timeouts;
	if (!r->destroying) {
		answer_from_status(&a, status, res);
		if (answer_cacheable(&a))
			cache_put(r, &lk->node, &a, now_us());
		while ((c = TAILQ_FIRST(&lk->checks)) != NULL)
			check_finish(r, c, answer_status(&a, &c->addr));
		table_remove(&r->lookups, &lk->node);
	}
	ares_freeaddrinfo(res);     /* NULL is fine */
	r->nlookups--;
	free(lk);
}

/* --- starting and joining lookups ------------------------------------- */

/* Whether name[0..len) is a lower-case host name we may ask about: only
 * letters, digits, '-', '_' and '.', so that what c-ares asks is exactly
 * the cache key (no NUL cutting it short, no escapes), and a last label
 * that is not all digits.  No top-level domain is numeric, and c-ares
 * would answer an address literal ("13.107.6.152") with itself, making
 * any address "match" its own text (DESIGN.md §3: such strings are never
 * host names). */
static bool
name_ok(const char *name, size_t len)
{
	bool numeric = true;    /* the last label so far */

	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == '.') {
			numeric = true;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_'))
			return false;
		if (ch < '0' || ch > '9')
			numeric = false;
	}
	return !numeric;
}

static struct lookup *
lookup_new(struct resolver *r, uint64_t hash, const char *name, size_t len)
{
	struct lookup *lk = calloc(1, sizeof(*lk));

	if (lk == NULL)
		return NULL;
	node_set(&lk->node, hash, name, len);
	lk->r = r;
	TAILQ_INIT(&lk->checks);
	table_insert(&r->lookups, &lk->node);
	r->nlookups++;
	return lk;
}

/* After this, lk belongs to c-ares until on_addrinfo frees it, which may
 * happen before ares_getaddrinfo returns. */
static void
lookup_send(struct resolver *r, struct lookup *lk)
{
	struct ares_addrinfo_hints hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	/* NOSORT: RFC 6724 sorting opens a socket per address, and the
	 * order does not matter for a membership test. */
	hints.ai_flags = ARES_AI_NOSORT;
	ares_getaddrinfo(r->channel, lk->node.name, NULL, &hints, on_addrinfo,
	    lk);
}

static struct check *
check_new(struct resolver *r, const struct ip_addr *addr, resolve_cb *cb,
    void *arg)
{
	struct check *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->addr = *addr;
	c->cb = cb;
	c->arg = arg;
	c->deadline_us = now_us() + (uint64_t)r->timeout_ms * 1000u;
	c->status = RESOLVE_PENDING;
	TAILQ_INSERT_TAIL(&r->waiting, c, link);
	r->nchecks++;
	return c;
}

static void
check_free(struct resolver *r, struct check *c, struct check_list *l)
{
	TAILQ_REMOVE(l, c, link);
	free(c);
	r->nchecks--;
}

/* Starts a lookup for c's name.  Returns PENDING, or the answer when
 * c-ares finished before returning (it could not open a socket, say):
 * the callback must not run from resolver_check, so c is taken back from
 * the ready list and answered here. */
static enum resolve_status
check_start(struct resolver *r, struct check *c, uint64_t hash,
    const char *name, size_t len)
{
	struct lookup *lk = lookup_new(r, hash, name, len);
	enum resolve_status st;

	if (lk == NULL) {
		check_free(r, c, &r->waiting);
		return RESOLVE_FAILED;
	}
	lookup_attach(lk, c);
	lookup_send(r, lk);
	if (c->status == RESOLVE_PENDING)
		return RESOLVE_PENDING;
	/* An immediate answer is MATCH, NO_MATCH or FAILED (resolve.h). */
	st = c->status == RESOLVE_TIMEOUT ? RESOLVE_FAILED : c->status;
	check_free(r, c, &r->ready);
	return st;
}

enum resolve_status
resolver_check(struct resolver *r, const char *name, size_t len,
    const struct ip_addr *addr, resolve_cb *cb, void *arg)
{
	struct lookup *lk;
	struct entry *e;
	struct check *c;
	uint64_t hash;

	if (!name_ok(name, len))
		return RESOLVE_FAILED;
	hash = siphash24(r->key, name, len);
	if ((e = cache_get(r, hash, name, len, now_us())) != NULL)
		return addrs_match(e->addrs, e->naddrs, addr);
	if (r->nchecks >= r->max_inflight)
		return RESOLVE_BUSY;
	lk = (struct lookup *)table_find(&r->lookups, hash, name, len);
	if (lk == NULL && r->nlookups >= r->max_inflight)
		return RESOLVE_BUSY;    /* lookups outliving their checks */
	if ((c = check_new(r, addr, cb, arg)) == NULL)
		return RESOLVE_FAILED;
	if (lk == NULL)
		return check_start(r, c, hash, name, len);
	lookup_attach(lk, c);
	return RESOLVE_PENDING;
}

/* --- polling ---------------------------------------------------------- */

size_t
resolver_pollfds(struct resolver *r, struct pollfd *fds, size_t cap)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	int bits = ares_getsock(r->channel, socks, ARES_GETSOCK_MAXNUM);
	size_t n = 0;

	for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < cap; i++) {
		short ev = 0;

		if (ARES_GETSOCK_READABLE(bits, i))
			ev |= POLLIN;
		if (ARES_GETSOCK_WRITABLE(bits, i))
			ev |= POLLOUT;
		if (ev == 0)
			break;  /* c-ares fills the array from the start */
		fds[n].fd = socks[i];
		fds[n].events = ev;
		fds[n].revents = 0;
		n++;
	}
	return n;
}

/* Milliseconds from now to t, rounded up so that a poll woken at the end
 * finds t passed instead of spinning on a 0 timeout just before it. */
static int
ms_until(uint64_t t, uint64_t now)
{
	uint64_t ms;

	if (t <= now)
		return 0;
	ms = (t - now + 999) / 1000;
	return ms > RESOLVE_TIMEOUT_MAX_MS ? RESOLVE_TIMEOUT_MAX_MS : (int)ms;
}

int
resolver_timeout_ms(struct resolver *r)
{
	struct timeval tv, *t;
	int ms = -1;

	if (!TAILQ_EMPTY(&r->ready))
		return 0;
	if (!TAILQ_EMPTY(&r->waiting))
		ms = ms_until(TAILQ_FIRST(&r->waiting)->deadline_us, now_us());
	if ((t = ares_timeout(r->channel, NULL, &tv)) != NULL) {
		uint64_t us = (uint64_t)t->tv_sec * 1000000u +
		    (uint64_t)t->tv_usec;
		int ams = ms_until(us, 0);

		if (ms < 0 || ams < ms)
			ms = ams;
	}
	return ms;
}

/* Every waiting check whose deadline has come gets RESOLVE_TIMEOUT; its
 * lookup carries on for the others and for the cache. */
static void
expire_checks(struct resolver *r)
{
	uint64_t now = now_us();
	struct check *c;

	while ((c = TAILQ_FIRST(&r->waiting)) != NULL && c->deadline_us <= now)
		check_finish(r, c, RESOLVE_TIMEOUT);
}

/* One at a time off the head: a callback may call resolver_check, which
 * may append to the list. */
static void
deliver_ready(struct resolver *r)
{
	struct check *c;

	while ((c = TAILQ_FIRST(&r->ready)) != NULL) {
		resolve_cb *cb = c->cb;
		void *arg = c->arg;
		enum resolve_status st = c->status;

		check_free(r, c, &r->ready);
		cb(arg, st);
	}
}

void
resolver_process(struct resolver *r, const struct pollfd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ares_socket_t rd = ARES_SOCKET_BAD, wr = ARES_SOCKET_BAD;

		/* An error or hangup is reported as readable: c-ares then
		 * reads, sees the error and moves the query on. */
		if (fds[i].revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
			rd = fds[i].fd;
		if (fds[i].revents & POLLOUT)
			wr = fds[i].fd;
		if (rd != ARES_SOCKET_BAD || wr != ARES_SOCKET_BAD)
			ares_process_fd(r->channel, rd, wr);
	}
	/* No socket: c-ares only handles its retransmits and timeouts. */
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	expire_checks(r);
	deliver_ready(r);
}

/* --- life cycle ------------------------------------------------------- */

static int
options_check(const struct resolve_options *o, char *err, size_t errlen)
{
	if (o->timeout_ms < 1 || o->timeout_ms > RESOLVE_TIMEOUT_MAX_MS) {
		snprintf(err, errlen, "DNS timeout must be 1..%d ms",
		    RESOLVE_TIMEOUT_MAX_MS);
		return -1;
	}
	if (o->max_inflight < 1 || o->max_inflight > MAX_INFLIGHT_LIMIT) {
		snprintf(err, errlen, "DNS checks in flight must be 1..%u",
		    MAX_INFLIGHT_LIMIT);
		return -1;
	}
	if (o->cache_names < 1 || o->cache_names > MAX_CACHE_LIMIT) {
		snprintf(err, errlen, "DNS cache size must be 1..%u names",
		    MAX_CACHE_LIMIT);
		return -1;
	}
	return 0;
}

/* The channel: DNS only (ARES_OPT_LOOKUPS "b"), never /etc/hosts, and no
 * search domains, so a name is asked exactly as given.  Each try waits
 * half the check timeout, so one retransmit (or the next server) fits
 * before the deadline; c-ares gives up after about 1.5 timeouts per
 * server, which bounds how long a lookup outlives its checks. */
static int
channel_open(struct resolver *r, const struct resolve_options *o, char *err,
    size_t errlen)
{
	struct ares_options ao;
	char lookups[] = "b";
	int st;

	memset(&ao, 0, sizeof(ao));
	ao.flags = ARES_FLAG_NOSEARCH;
	ao.timeout = (int)(o->timeout_ms / 2 > 0 ? o->timeout_ms / 2 : 1);
	ao.tries = ARES_TRIES;
	ao.lookups = lookups;
	ao.domains = NULL;
	ao.ndomains = 0;
	st = ares_init_options(&r->channel, &ao, ARES_OPT_FLAGS |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS |
	    ARES_OPT_DOMAINS);
	if (st != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(st));
		return -1;
	}
	r->channel_ok = true;
	if (o->servers != NULL &&
	    (st = ares_set_servers_ports_csv(r->channel, o->servers)) !=
	    ARES_SUCCESS) {
		snprintf(err, errlen, "DNS servers \"%s\": %s", o->servers,
		    ares_strerror(st));
		return -1;
	}
	return 0;
}

/* resolver_pollfds hands out at most RESOLVE_MAX_FDS sockets, a UDP and
 * maybe a TCP one per server: more servers could leave one unpolled. */
static int
servers_count_check(struct resolver *r, char *err, size_t errlen)
{
	struct ares_addr_port_node *list = NULL, *s;
	size_t n = 0;
	int st = ares_get_servers_ports(r->channel, &list);

	if (st != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(st));
		return -1;
	}
	for (s = list; s != NULL; s = s->next)
		n++;
	ares_free_data(list);
	if (n > MAX_SERVERS) {
		snprintf(err, errlen, "%zu DNS servers, at most %d", n,
		    MAX_SERVERS);
		return -1;
	}
	return 0;
}

struct resolver *
resolver_new(const struct resolve_options *o, char *err, size_t errlen)
{
	struct resolver *r;
	int st;

	if (options_check(o, err, errlen) != 0)
		return NULL;
	if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(st));
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		ares_library_cleanup();
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	TAILQ_INIT(&r->waiting);
	TAILQ_INIT(&r->ready);
	TAILQ_INIT(&r->lru);
	r->timeout_ms = o->timeout_ms;
	r->max_inflight = o->max_inflight;
	r->cache_names = o->cache_names;
	if (table_init(&r->lookups, o->max_inflight) != 0 ||
	    table_init(&r->cache, o->cache_names) != 0)
		goto nomem;
	if (siphash_key(r->key) != 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if (channel_open(r, o, err, errlen) != 0 ||
	    servers_count_check(r, err, errlen) != 0)
		goto fail;
	return r;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	resolver_free(r);       /* and ares_library_cleanup */
	return NULL;
}

static void
checks_drop(struct resolver *r, struct check_list *l)
{
	struct check *c;

	while ((c = TAILQ_FIRST(l)) != NULL) {
		if (c->lookup != NULL)
			lookup_detach(c->lookup, c);
		check_free(r, c, l);
	}
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	checks_drop(r, &r->waiting);
	checks_drop(r, &r->ready);
	/* ares_destroy calls on_addrinfo for every lookup still running;
	 * destroying makes it free the lookup and nothing else. */
	r->destroying = true;
	if (r->channel_ok)
		ares_destroy(r->channel);
	while (!TAILQ_EMPTY(&r->lru))
		cache_remove(r, TAILQ_FIRST(&r->lru));
	free(r->lookups.bucket);
	free(r->cache.bucket);
	free(r);
	ares_library_cleanup();
}

const char *
resolve_status_name(enum resolve_status st)
{
	switch (st) {
	case RESOLVE_MATCH:
		return "match";
	case RESOLVE_NO_MATCH:
		return "no match";
	case RESOLVE_PENDING:
		return "pending";
	case RESOLVE_TIMEOUT:
		return "timeout";
	case RESOLVE_FAILED:
		return "failed";
	case RESOLVE_BUSY:
		return "busy";
	}
	return "unknown";
}
