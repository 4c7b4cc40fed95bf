/* atomic.h - installing a file atomically: a temporary file in the same
 * directory, written, fsync'ed, renamed over the name, the directory
 * fsync'ed (STYLE.md rule 9).  Every writer of files uses it. */
#ifndef M365_ATOMIC_H
#define M365_ATOMIC_H

#include <stddef.h>

#define ATOMIC_PATH_MAX 4096
/* The temporary file is DIR/.NAME.XXXXXX, mkstemp's six letters or
 * digits: so that a cleanup can recognise exactly what was left. */
#define ATOMIC_TMP_LEN 6
#define ATOMIC_TMP_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789"

/* Writes buf[0..len) to dir/name atomically (mode 0644).  Returns 0, or -1
 * with a message in err; on failure dir/name is untouched and no temp file
 * is left.  On success err is "", or a warning when the file is in place
 * but the directory could not be synced (it may not survive a power cut). */
int atomic_install(const char *dir, const char *name, const void *buf,
    size_t len, char *err, size_t errlen);

/* fsync of the directory dir, which makes a rename in it durable.  Returns
 * 0, or -1 with errno set. */
int atomic_sync_dir(const char *dir);

#endif
