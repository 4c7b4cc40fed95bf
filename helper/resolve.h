/* resolve.h - the helper's only network code: asynchronous DNS (c-ares)
 * answering "is this address one of that name's addresses?" for
 * --verify-sni dns (DESIGN.md §3 "Identity"), the check Squid's own
 * host_verify_strict makes for Host headers.
 *
 * Bounded everywhere: a cap on checks waiting for an answer, a timeout per
 * check (at most RESOLVE_TIMEOUT_MAX_MS), a fixed number of cached names
 * with at most RESOLVE_MAX_ADDRS addresses each, kept for their DNS TTL
 * (at most RESOLVE_TTL_MAX seconds).  Nothing here blocks: the caller polls
 * the resolver's sockets with its own and calls resolver_process(). */
#ifndef M365_RESOLVE_H
#define M365_RESOLVE_H

#include <poll.h>
#include <stddef.h>

#include "prefix.h"

#define RESOLVE_TIMEOUT_MAX_MS 2000
#define RESOLVE_DEFAULT_TIMEOUT_MS 2000
#define RESOLVE_DEFAULT_INFLIGHT 256    /* checks waiting at once */
#define RESOLVE_DEFAULT_CACHE 4096      /* names cached */
#define RESOLVE_MAX_ADDRS 32            /* addresses kept per name */
#define RESOLVE_TTL_MAX 3600            /* seconds; a longer TTL is cut */
#define RESOLVE_NEGATIVE_TTL 30         /* seconds for "no such name" */
#define RESOLVE_MAX_FDS 16              /* sockets resolver_pollfds fills */

enum resolve_status {
	RESOLVE_MATCH,          /* addr is one of name's A/AAAA addresses */
	RESOLVE_NO_MATCH,       /* it is not (or the name does not exist) */
	RESOLVE_PENDING,        /* asked; the callback will tell */
	RESOLVE_TIMEOUT,        /* no answer within the timeout */
	RESOLVE_FAILED,         /* SERVFAIL, refused, bad answer, ... */
	RESOLVE_BUSY            /* too many checks waiting: not asked */
};

struct resolve_options {
	const char *servers;    /* "ip[:port],..." (c-ares CSV), or NULL for
				 * /etc/resolv.conf; copied */
	unsigned timeout_ms;    /* 1..RESOLVE_TIMEOUT_MAX_MS */
	size_t max_inflight;    /* >= 1 */
	size_t cache_names;     /* >= 1 */
};

/* Called exactly once for every check that returned RESOLVE_PENDING, from
 * resolver_process() (never from resolver_check()), with RESOLVE_MATCH,
 * RESOLVE_NO_MATCH, RESOLVE_TIMEOUT or RESOLVE_FAILED. */
typedef void resolve_cb(void *arg, enum resolve_status st);

struct resolver;

/* Returns a resolver, or NULL with a message in err (bad servers list,
 * c-ares failed to start, out of memory). */
struct resolver *resolver_new(const struct resolve_options *o, char *err,
    size_t errlen);

/* Frees r; pending checks are dropped without their callbacks.  Not from
 * inside a callback.  resolver_free(NULL) is a no-op. */
void resolver_free(struct resolver *r);

/* Whether addr is one of the addresses of name[0..len) (a normalised,
 * lower-case host name).  Answers at once from the cache (MATCH, NO_MATCH,
 * FAILED: the callback is not called), or starts or joins a lookup and
 * returns PENDING (the callback will be called), or returns BUSY when
 * max_inflight checks are already waiting (or max_inflight lookups are
 * still running: a lookup outlives its timed-out checks until c-ares gives
 * up, about 1.5 timeouts per server).  A name that is not lower-case
 * letters, digits, '-', '_' and '.', or whose last label is numeric, is
 * FAILED without asking.  A pending check cannot be cancelled; arg must
 * stay valid until its callback. */
enum resolve_status resolver_check(struct resolver *r, const char *name,
    size_t len, const struct ip_addr *addr, resolve_cb *cb, void *arg);

/* Writes the sockets to poll to fds (at most cap, RESOLVE_MAX_FDS is
 * enough) and returns how many. */
size_t resolver_pollfds(struct resolver *r, struct pollfd *fds, size_t cap);

/* Milliseconds until resolver_process must run even if no socket is ready
 * (the next c-ares retransmit or check timeout), or -1 when nothing
 * waits. */
int resolver_timeout_ms(struct resolver *r);

/* Handles the ready sockets in fds[0..n) (as filled by resolver_pollfds,
 * revents set by poll) and every expired timeout, calling the callbacks
 * of finished checks.  Call it after every poll (n may be 0); a callback
 * may call resolver_check. */
void resolver_process(struct resolver *r, const struct pollfd *fds,
    size_t n);

/* "match", "no match", "pending", "timeout", "failed", "busy". */
const char *resolve_status_name(enum resolve_status st);

#endif
