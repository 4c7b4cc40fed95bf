/* log.h - a tiny logging API shared by the programs (after OpenBSD's log.h).
 * log_warn() appends strerror(errno); log_warnx() does not.  Messages go to
 * stderr prefixed with the program name, which is what Squid copies into
 * cache.log for helpers. */
#ifndef M365_LOG_H
#define M365_LOG_H

void log_init(const char *progname);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
