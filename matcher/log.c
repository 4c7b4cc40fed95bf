/* log.c - see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *log_progname = "m365-direct";

void
log_init(const char *progname)
{
	log_progname = progname;
}

static void
log_vwrite(int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int errnum, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0)
		fprintf(stderr, "%s: %s: %s\n", log_progname, msg, strerror(errnum));
	else
		fprintf(stderr, "%s: %s\n", log_progname, msg);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(0, fmt, ap);
	va_end(ap);
}
