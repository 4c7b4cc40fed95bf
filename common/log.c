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

/* Both escapes: bytes from lowest to '~' but '\\' as they are. */
static const char *
escape(const char *s, size_t len, char *buf, size_t size, unsigned lowest)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size < 8)
		return "";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 4 + 4 > size) {         /* room for "\xHH" and "..." */
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= lowest && c < 0x7f && c != '\\') {
			buf[o++] = (char)c;
			continue;
		}
		buf[o++] = '\\';
		buf[o++] = 'x';
		buf[o++] = hex[c >> 4];
		buf[o++] = hex[c & 15];
	}
	buf[o] = '\0';
	return buf;
}

const char *
log_escape(const char *s, size_t len, char *buf, size_t size)
{
	return escape(s, len, buf, size, ' ' + 1);
}

const char *
log_escape_line(const char *s, size_t len, char *buf, size_t size)
{
	return escape(s, len, buf, size, ' ');
}
