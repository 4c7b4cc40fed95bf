/* probe.h - one HTTPS request to a host from the client's seat (libcurl),
 * through the proxy or without one, on a fresh connection each time, and
 * what it saw: the proxy's answer to the CONNECT, when each step ended,
 * whether the server's chain verified with the roots asked for, and the
 * chain's issuer.  Every step is bounded by the options' timeouts. */
#ifndef M365_PROBE_H
#define M365_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Which certificate authorities the server's chain must verify with. */
enum probe_trust {
	PROBE_TRUST_PUBLIC,             /* the public roots only (roots.h) */
	PROBE_TRUST_OTHER,              /* --ca-file, else the system's store */
	PROBE_TRUST_NONE                /* none checked: to read the chain */
};

/* A proxy URL split for use and for printing: its credentials are never
 * printed, and sent only when a probe asks. */
struct probe_proxy {
	char *url;                      /* scheme://host:port/, no credentials */
	char *user, *password;          /* NULL: none in the URL */
	char *no_proxy;                 /* libcurl's no_proxy list; NULL: none */
};

struct probe_opts {
	const struct probe_proxy *proxy;        /* NULL: no proxy (direct) */
	bool credentials;               /* send the proxy URL's credentials */
	unsigned long proxy_auth;       /* CURLAUTH_* bits for them */
	enum probe_trust trust;
	const struct buf *public_roots; /* PEM, for PROBE_TRUST_PUBLIC */
	const char *ca_file;            /* PROBE_TRUST_OTHER and an https://
					   proxy's own chain; NULL: system */
	unsigned connect_ms;            /* the connection: TCP, tunnel, TLS */
	unsigned total_ms;              /* the whole request */
};

#define PROBE_NAME_MAX 256

struct probe_result {
	int curl_code;                  /* CURLcode: 0 done */
	char error[PROBE_NAME_MAX];     /* libcurl's words, "" when done */
	bool verify_failed;             /* the chain did not verify */
	long connect_code;              /* the proxy's answer to CONNECT; 0: none */
	long http_code;                 /* the server's answer; 0: none */
	unsigned long proxy_auth_avail; /* CURLAUTH_* that a 407 offered */
	/* microseconds from the start until each step ended; -1: not reached */
	int64_t connect_us;             /* TCP to the proxy (or the host) */
	int64_t tunnel_us;              /* the proxy's 2xx to CONNECT */
	int64_t tls_us;                 /* TLS with the host done */
	int64_t pretransfer_us;         /* the request about to go */
	int64_t first_byte_us;          /* the first byte of the answer */
	char issuer[PROBE_NAME_MAX];    /* the server certificate's, as
					   libcurl prints it; "" when unseen */
	char subject[PROBE_NAME_MAX];
	int chain_len;                  /* certificates the server sent */
};

/* Initialises libcurl once per process; returns 0 or -1. */
int probe_global_init(void);
void probe_global_cleanup(void);

/* Splits the proxy URL text ("host:port" means http://host:port) into *p;
 * no_proxy (may be NULL) is copied.  Only http:// and https:// proxies
 * are accepted.  Returns 0, or -1 with a message in err (p then empty).
 * probe_proxy_free releases it; p zeroed is a valid empty one. */
int probe_proxy_parse(const char *text, const char *no_proxy,
    struct probe_proxy *p, char *err, size_t errlen);
void probe_proxy_free(struct probe_proxy *p);

/* One HEAD https://host/ with the options; fills *r.  Never fails as a
 * call: every outcome is in *r. */
void probe_run(const struct probe_opts *o, const char *host,
    struct probe_result *r);

/* The duration of each step of r in microseconds, -1 when unknown: the
 * TCP connection, the proxy's tunnel, the TLS handshake, the time to the
 * first byte (from the start) and the round trip of the request (from
 * sending it to the first byte). */
struct probe_steps {
	int64_t tcp, tunnel, tls, first_byte, round_trip;
};

void probe_steps(const struct probe_result *r, struct probe_steps *s);

#endif
