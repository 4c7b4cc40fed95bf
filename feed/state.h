/* state.h - the state directory (/var/lib/m365-direct): the last good
 * endpoint data and its version, the persistent ClientRequestId, the
 * record of the last update attempt.  Every file is written atomically:
 * temp file in the same directory, write, fsync, rename, fsync of the
 * directory.
 *
 * The data of each version lives in endpoints-VERSION-INSTANCE.json and
 * endpoints.json is a symbolic link to the installed one, so that data and
 * version change in one atomic rename: at every instant endpoints.json is
 * the old good data or the new, whole, and the version read from the link
 * is always the version of that data. */
#ifndef M365_STATE_H
#define M365_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "source.h"

#define STATE_DATA SOURCE_CACHE_FILE    /* endpoints.json: the link */
#define STATE_DATA_PREFIX SOURCE_DATA_PREFIX /* endpoints-VERSION-INSTANCE.json */
#define STATE_LOCK ".lock"
#define STATE_CLIENT_ID "client-request-id"
#define STATE_STATUS "status.json"
#define STATE_GUID_LEN 36

/* Makes the state directory dir (mode 0755) when it is missing, then
 * checks that nobody but root and this process's user could have written
 * it, the directories above it, or what it holds of ours: each file
 * (client-request-id, status.json, .lock, the data endpoints.json links
 * to) a regular file owned by root or the user, not writable by group or
 * others (file_trust_dir, file_trust_path).  So a state directory turned
 * against whoever runs the update is refused before anything in it is
 * read or made.  Returns 0, or -1 with what and why in err. */
int state_prepare(const char *dir, char *err, size_t errlen);

/* The persistent ClientRequestId: read from dir, or made (a random
 * version-4 GUID) and stored on first use.  Returns 0 or -1 with err. */
int state_client_id(const char *dir, char id[STATE_GUID_LEN + 1], char *err,
    size_t errlen);

/* The installed version and instance, from the name endpoints.json links
 * to ("" when there is no such link).  The version has the form only
 * (source_data_name_split: ten digits, maybe no date): whether to believe
 * it is the caller's to say. */
void state_installed(const char *dir, char *version, size_t vsize,
    char *instance, size_t isize);

/* Installs data[0..len) as the cache of version (a valid one:
 * source_version_valid) and instance: writes
 * endpoints-VERSION-INSTANCE.json atomically, then switches the link.
 * Returns -1 with err when the old data is still in place, 0 when the new
 * data is (err then "" or a warning: installed, but not synced). */
int state_install(const char *dir, const char *data, size_t len,
    const char *version, const char *instance, char *err, size_t errlen);

/* Takes the directory's update lock (one update at a time).  The lock
 * file is opened never through a link and never blocking, and must be a
 * regular file of root or this process's user.  Returns the lock's file
 * descriptor (close it to release), or -1 with err (another update holds
 * it, or the lock file cannot be made or trusted). */
int state_lock(const char *dir, char *err, size_t errlen);

/* Removes what a crash may have left: this module's temporary files and
 * the endpoints-VERSION-INSTANCE.json of versions not installed, matched
 * by their exact form (dir is whatever state_dir names: nothing else in
 * it is touched).  Call it holding the lock. */
void state_cleanup(const char *dir);

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
