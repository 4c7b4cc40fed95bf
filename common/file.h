/* file.h - reading a whole file without trusting what the path names: it
 * is opened without blocking (a FIFO put in its place would hang open()
 * and read() forever), must be a regular file (or a character device,
 * which only the superuser can make: -c /dev/null), and may hold at most
 * max bytes; O_NOFOLLOW where the caller asks.  And whether a file can be
 * trusted at all: who, besides its owner, could have written it. */
#ifndef M365_FILE_H
#define M365_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* open(path) for reading that never blocks: returns the descriptor, or -1
 * with errno set (ELOOP for a link when nofollow). */
int file_open_read(const char *path, bool nofollow);

/* Reads all of the open file fd, at most max bytes, into out (emptied
 * first; NUL-terminated).  Returns 0, or -1 with a message naming name in
 * err: a FIFO, socket or directory ("not a regular file"), larger than
 * max, a read error, out of memory. */
int file_read_fd(int fd, const char *name, size_t max, struct buf *out,
    char *err, size_t errlen);

/* file_open_read and file_read_fd of path. */
int file_read(const char *path, size_t max, bool nofollow, struct buf *out,
    char *err, size_t errlen);

/* open(path, flags, mode) of a file this program keeps (a lock): never
 * through a link (O_NOFOLLOW: a link planted there would have root create
 * or open any file), never blocking (a FIFO), and it must be a regular
 * file.  flags is O_RDONLY or O_RDWR, with O_CREAT if wanted.  Returns
 * the descriptor, or -1 with a message naming path in err. */
int file_open_regular(const char *path, int flags, mode_t mode, char *err,
    size_t errlen);

/* Who besides root may own what a program trusts (FILE_NO_UID: a slot not
 * used).  Nothing trusted may be writable by its group or by others. */
#define FILE_NO_UID ((uid_t)-1)
#define FILE_TRUST_USERS 2

struct file_trust {
	uid_t uid[FILE_TRUST_USERS];
};

/* Whether the file open as fd, named path, and the directories it is
 * reached through can only be written by root and t's users: the file
 * (if regular) and its directory not writable by group or others; every
 * directory above, of path as written and as resolved (realpath), not
 * either unless it is sticky (/tmp: there nobody replaces another's
 * entry); each of them owned by root or one of t's users.  Returns 0, or
 * -1 with what and why in err. */
int file_trust_path(int fd, const char *path, const struct file_trust *t,
    char *err, size_t errlen);

/* The same for the directory dir itself (not writable by group or
 * others, sticky or not) and every directory above it. */
int file_trust_dir(const char *dir, const struct file_trust *t, char *err,
    size_t errlen);

#endif
