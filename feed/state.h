/* state.h - the state directory (/var/lib/m365-direct): the last good
 * endpoint data and its version, the persistent ClientRequestId, the
 * record of the last update attempt.  Every file is written atomically:
 * temp file in the same directory, write, fsync, rename, fsync of the
 * directory. */
#ifndef M365_STATE_H
#define M365_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "source.h"

#define STATE_DATA SOURCE_CACHE_FILE    /* endpoints.json */
#define STATE_VERSION "version"         /* "VERSION INSTANCE\n" */
#define STATE_CLIENT_ID "client-request-id"
#define STATE_STATUS "status.json"
#define STATE_GUID_LEN 36

/* Writes buf[0..len) to dir/name atomically (mode 0644).  Returns 0, or -1
 * with a message in err; on failure dir/name is untouched and no temp file
 * is left. */
int state_write_atomic(const char *dir, const char *name, const void *buf,
    size_t len, char *err, size_t errlen);

/* The persistent ClientRequestId: read from dir, or made (a random
 * version-4 GUID) and stored on first use.  Returns 0 or -1 with err. */
int state_client_id(const char *dir, char id[STATE_GUID_LEN + 1], char *err,
    size_t errlen);

/* The installed version and instance ("" when none or unreadable). */
void state_installed(const char *dir, char *version, size_t vsize,
    char *instance, size_t isize);

/* Installs data[0..len) as the cache, then its version: at every instant
 * the directory holds the old good data or the new, and the version file
 * never names data the directory does not have.  Returns 0 or -1 with err
 * (the old data is then still in place). */
int state_install(const char *dir, const char *data, size_t len,
    const char *version, const char *instance, char *err, size_t errlen);

/* The record of update attempts (status.json). */
struct state_status {
	time_t last_attempt;            /* 0: never */
	char last_result[16];           /* installed, current, failed */
	char last_message[512];
	time_t last_success;            /* the last installed or current */
	time_t fetched;                 /* when the installed data came */
	time_t rate_limited_until;      /* 429: no /endpoints before this */
};

/* Reads dir's status (all zero when there is none). */
void state_status_read(const char *dir, struct state_status *st);
int state_status_write(const char *dir, const struct state_status *st,
    char *err, size_t errlen);

#endif
