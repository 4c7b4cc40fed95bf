/* haproxy_api.h - the HAProxy runtime-API client of "haproxy-push": the
 * maps of haproxy.h replaced in a running HAProxy without a reload. */
#ifndef M365_EXPORT_HAPROXY_API_H
#define M365_EXPORT_HAPROXY_API_H

#include <stdbool.h>
#include <stddef.h>

#include "haproxy.h"

struct haproxy_push_opts {
	const char *socket;             /* HAProxy's "stats socket" path */
	const char *dir;                /* where HAProxy loads the maps from */
	unsigned timeout_ms;            /* for each runtime API command */
};

enum haproxy_push_status {
	HAPROXY_PUSH_DONE,              /* replaced live, verified, files
	                                   rewritten */
	HAPROXY_PUSH_RELOAD,            /* HAProxy older than 2.4: files
	                                   rewritten, a reload is needed */
	HAPROXY_PUSH_FAILED             /* see err and the report */
};

struct haproxy_push_report {
	char version[64];               /* HAProxy's, "" when not asked yet */
	bool files_written;
	size_t committed;               /* maps replaced in HAProxy */
	struct {
		bool loaded;            /* HAProxy has this map */
		unsigned long version;  /* the version committed */
		size_t shown;           /* entries "show map" lists after it */
	} map[HAPROXY_MAPS];
};

/* Replaces the maps HAProxy has loaded from o->dir with m, atomically per
 * map ("prepare map", "add map @N ... <<" in chunks of at most 15 KB,
 * "commit map"), checks each with "show map", then rewrites the files in
 * o->dir so that a restart agrees.  With HAProxy older than 2.4 only the
 * files are rewritten (HAPROXY_PUSH_RELOAD, err says so in one line).
 * Failing before a commit changes nothing, in HAProxy or on disk.  Returns
 * the status; err holds the message for anything but HAPROXY_PUSH_DONE. */
enum haproxy_push_status haproxy_push(const struct haproxy_maps *m,
    const struct haproxy_push_opts *o, struct haproxy_push_report *r,
    char *err, size_t errlen);

#endif
