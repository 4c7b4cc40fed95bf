/* log.h - a tiny logging API shared by the programs (after OpenBSD's log.h).
 * log_warn() appends strerror(errno); log_warnx() does not.  Messages go to
 * stderr prefixed with the program name, which is what Squid copies into
 * cache.log for helpers. */
#ifndef M365_LOG_H
#define M365_LOG_H

#include <stddef.h>

void log_init(const char *progname);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s[0..len) to buf (size bytes, at least 8) for a log line: the
 * printable ASCII as it is, any other byte and '\\' as \xHH, cut with
 * "..." when it does not fit.  Returns buf.  For text a client chose. */
const char *log_escape(const char *s, size_t len, char *buf, size_t size);

/* The same, but blanks kept: for text a server or a database chose that
 * is shown as one line (an AS's organisation, a certificate's issuer). */
const char *log_escape_line(const char *s, size_t len, char *buf,
    size_t size);

#endif
