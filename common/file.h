/* file.h - reading a whole file without trusting what the path names: it
 * is opened without blocking (a FIFO put in its place would hang open()
 * and read() forever), must be a regular file (or a character device,
 * which only the superuser can make: -c /dev/null), and may hold at most
 * max bytes; O_NOFOLLOW where the caller asks. */
#ifndef M365_FILE_H
#define M365_FILE_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
