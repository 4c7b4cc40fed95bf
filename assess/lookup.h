/* lookup.h - a host name's addresses as the client's resolver gives them
 * (getaddrinfo: /etc/hosts, DNS), within a time bound: getaddrinfo alone
 * may wait as long as resolv.conf's timeouts and attempts say. */
#ifndef M365_LOOKUP_H
#define M365_LOOKUP_H

#include <stddef.h>
#include <sys/socket.h>

#define LOOKUP_MAX_ADDRS 4              /* kept per name */

struct lookup_result {
	struct sockaddr_storage addr[LOOKUP_MAX_ADDRS];
	char text[LOOKUP_MAX_ADDRS][46];        /* each as inet_ntop writes it */
	size_t n;
};

/* Resolves name (TCP addresses, IPv4 and IPv6, each once, in the
 * resolver's order, the first LOOKUP_MAX_ADDRS) waiting at most
 * timeout_ms.  Returns 0, or -1 with the reason in err (no such name,
 * resolver error, "no answer within N ms").  A lookup that timed out
 * may go on in the background until the process exits. */
int lookup_host(const char *name, unsigned timeout_ms,
    struct lookup_result *out, char *err, size_t errlen);

#endif
