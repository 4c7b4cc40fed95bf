/* haproxy_api.c - see haproxy_api.h: replacing the maps in a running
 * HAProxy through its runtime API (a UNIX stream socket, one command per
 * connection: HAProxy's non-interactive mode answers and closes). */
#include "haproxy_api.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"

/* --- the runtime API --------------------------------------------------- */

#define API_CHUNK_MAX (15u * 1024)      /* HAProxy 2.6 silently drops a
                                           command of about 16 KB */
#define API_ANSWER_MAX (256u << 20)     /* bytes of one answer */
#define API_HEAD_MAX 1024               /* kept for messages */
#define API_LINE_MAX 8192               /* longer lines reach the callback
                                           cut */

typedef void api_line_fn(void *ctx, const char *line, size_t len);

struct api {
	const char *path;
	unsigned timeout_ms;
};

struct api_answer {
	char head[API_HEAD_MAX];        /* the first line, NUL-ended */
	size_t len;                     /* bytes in all */
	size_t lines;                   /* non-empty lines */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline.  Returns 0, or -1 with err. */
static int
api_wait(const struct api *a, int fd, short events, long long deadline,
    const char *what, char *err, size_t errlen)
{
	struct pollfd p = { fd, events, 0 };

	for (;;) {
		long long left = deadline - now_ms();
		int n;

		if (left <= 0) {
			snprintf(err, errlen, "%s: no answer to \"%s\" within %u ms",
			    a->path, what, a->timeout_ms);
			return -1;
		}
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			snprintf(err, errlen, "%s: poll: %s", a->path,
			    strerror(errno));
			return -1;
		}
	}
}

static int
api_connect(const struct api *a, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(a->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", a->path);
		return -1;
	}
	memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (errno == ENOENT)
		snprintf(err, errlen, "%s: no such socket: is HAProxy running, "
		    "with \"stats socket %s level admin\" in its global section?",
		    a->path, a->path);
	else if (errno == ECONNREFUSED)
		snprintf(err, errlen, "%s: connection refused: HAProxy is not "
		    "listening there (stopped?)", a->path);
	else if (errno == EACCES)
		snprintf(err, errlen, "%s: permission denied: run as a user "
		    "who may open HAProxy's stats socket", a->path);
	else if (errno == EAGAIN)
		snprintf(err, errlen, "%s: HAProxy is too busy to accept (try "
		    "again)", a->path);
	else
		snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
	close(fd);
	return -1;
}

static int
api_send(const struct api *a, int fd, const char *cmd, size_t len,
    long long deadline, const char *what, char *err, size_t errlen)
{
	while (len > 0) {
		ssize_t n;

		if (api_wait(a, fd, POLLOUT, deadline, what, err, errlen) != 0)
			return -1;
		n = send(fd, cmd, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: sending \"%s\": %s", a->path, what,
			    strerror(errno));
			return -1;
		}
		cmd += n;
		len -= (size_t)n;
	}
	return 0;
}

struct api_reader {
	struct api_answer *ans;
	api_line_fn *fn;
	void *ctx;
	char line[API_LINE_MAX];        /* longer lines are cut */
	size_t used;                    /* in line */
};

/* A line ended: counted, the first kept, handed to fn. */
static void
api_line_end(struct api_reader *r)
{
	struct api_answer *ans = r->ans;
	size_t n = r->used;

	if (n > 0 && r->line[n - 1] == '\r')
		n--;
	r->used = 0;
	if (n == 0)
		return;
	if (ans->lines++ == 0)
		snprintf(ans->head, sizeof(ans->head), "%.*s", (int)n, r->line);
	if (r->fn != NULL)
		r->fn(r->ctx, r->line, n);
}

static void
api_feed(struct api_reader *r, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			api_line_end(r);
		else if (r->used < sizeof(r->line))
			r->line[r->used++] = buf[i];
	}
}

/* Reads the answer on fd until HAProxy closes the connection. */
static int
api_read(const struct api *a, int fd, struct api_reader *r,
    long long deadline, const char *what, char *err, size_t errlen)
{
	char buf[16384];

	for (;;) {
		ssize_t n;

		if (api_wait(a, fd, POLLIN, deadline, what, err, errlen) != 0)
			return -1;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: reading the answer to \"%s\": %s",
			    a->path, what, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		if ((r->ans->len += (size_t)n) > API_ANSWER_MAX) {
			snprintf(err, errlen, "%s: the answer to \"%s\" is over %u "
			    "bytes", a->path, what, API_ANSWER_MAX);
			return -1;
		}
		api_feed(r, buf, (size_t)n);
	}
	api_line_end(r);                /* a last line without LF */
	return 0;
}

/* Sends cmd (one command, with its payload and the empty line ending it
 * when it has one) on a new connection and reads the answer until HAProxy
 * closes; fn (may be NULL) gets each non-empty line.  Returns 0, or -1 with
 * err (also when HAProxy says "Permission denied"). */
static int
api_call(const struct api *a, const char *cmd, size_t len,
    struct api_answer *ans, api_line_fn *fn, void *ctx, char *err,
    size_t errlen)
{
	long long deadline = now_ms() + a->timeout_ms;
	struct api_reader *r = calloc(1, sizeof(*r));
	char what[64];
	int fd = -1, rc = -1;

	snprintf(what, sizeof(what), "%.*s", (int)strcspn(cmd, "\n<"), cmd);
	if (what[0] != '\0' && what[strlen(what) - 1] == ' ')
		what[strlen(what) - 1] = '\0';
	memset(ans, 0, sizeof(*ans));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*r = (struct api_reader){ .ans = ans, .fn = fn, .ctx = ctx };
	if ((fd = api_connect(a, err, errlen)) < 0 ||
	    api_send(a, fd, cmd, len, deadline, what, err, errlen) != 0 ||
	    api_read(a, fd, r, deadline, what, err, errlen) != 0)
		goto done;
	if (strncmp(ans->head, "Permission denied", 17) == 0) {
		snprintf(err, errlen, "%s: HAProxy answers \"Permission denied\" "
		    "to \"%s\": the stats socket needs \"level admin\"", a->path,
		    what);
		goto done;
	}
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	free(r);
	return rc;
}

/* Runs cmd and wants an empty answer (what "add map" and "commit map" say
 * when they work). */
static int
api_call_quiet(const struct api *a, const char *cmd, size_t len, char *err,
    size_t errlen)
{
	struct api_answer ans;

	if (api_call(a, cmd, len, &ans, NULL, NULL, err, errlen) != 0)
		return -1;
	if (ans.lines > 0) {
		snprintf(err, errlen, "%s: HAProxy answers \"%.*s\" to \"%.*s\"",
		    a->path, 300, ans.head, (int)strcspn(cmd, "<\n"), cmd);
		return -1;
	}
	return 0;
}

/* --- the push ---------------------------------------------------------- */

struct version_ctx {
	char *version;
	size_t size;
};

static void
version_line(void *ctx, const char *line, size_t len)
{
	struct version_ctx *v = ctx;

	if (len > 9 && memcmp(line, "Version: ", 9) == 0)
		snprintf(v->version, v->size, "%.*s", (int)(len - 9), line + 9);
}

/* HAProxy's version from "show info" into r->version, and whether it is
 * 2.4 or later (*atomic).  Returns 0 or -1 with err. */
static int
ask_version(const struct api *a, struct haproxy_push_report *r, bool *atomic,
    char *err, size_t errlen)
{
	struct version_ctx v = { r->version, sizeof(r->version) };
	struct api_answer ans;
	uint64_t major, minor;
	size_t l1, l2;

	if (api_call(a, "show info\n", 10, &ans, version_line, &v, err,
	    errlen) != 0)
		return -1;
	l1 = strspn(r->version, "0123456789");
	l2 = r->version[l1] == '.' ? strspn(r->version + l1 + 1,
	    "0123456789") : 0;
	if (parse_uint(r->version, l1, 1000, &major) != 0 ||
	    parse_uint(r->version + l1 + 1, l2, 1000, &minor) != 0) {
		snprintf(err, errlen, "%s: not HAProxy's runtime API (\"show info\" "
		    "gives no version: \"%s\")", a->path, ans.head);
		return -1;
	}
	*atomic = major > 2 || (major == 2 && minor >= 4);
	return 0;
}

/* What "show map" lists, for finding our maps: per map, the identifier to
 * use in commands ("" when HAProxy does not have it). */
struct find_ctx {
	const struct haproxy_maps *m;
	char want[HAPROXY_MAPS][PATH_MAX];      /* dir/file */
	char real[HAPROXY_MAPS][PATH_MAX];      /* realpath of it, or "" */
	char id[HAPROXY_MAPS][PATH_MAX];
	char other[PATH_MAX];                   /* ours from another dir */
};

/* Whether HAProxy's runtime API can name path as a plain word. */
static bool
word_safe(const char *path)
{
	return path[0] != '#' && path[0] != '@' &&
	    strpbrk(path, " \t;\\") == NULL;
}

/* One line of "show map": "ID (FILE) description". */
static void
find_line(void *vctx, const char *line, size_t len)
{
	struct find_ctx *f = vctx;
	char file[PATH_MAX], real[PATH_MAX];
	const char *lp, *rp;
	size_t idlen;

	if (line[0] == '#' || (lp = memchr(line, '(', len)) == NULL)
		return;
	idlen = (size_t)(lp - line);
	while (idlen > 0 && line[idlen - 1] == ' ')
		idlen--;
	for (rp = lp + 1; rp < line + len; rp++)
		if (*rp == ')' && (rp + 1 == line + len || rp[1] == ' '))
			break;
	if (rp >= line + len || (size_t)(rp - lp - 1) >= sizeof(file))
		return;
	snprintf(file, sizeof(file), "%.*s", (int)(rp - lp - 1), lp + 1);
	if (realpath(file, real) == NULL)
		real[0] = '\0';
	for (int i = 0; i < HAPROXY_MAPS; i++) {
		const char *base = strrchr(file, '/');

		if (strcmp(file, f->want[i]) == 0 ||
		    (real[0] != '\0' && strcmp(real, f->real[i]) == 0)) {
			if (word_safe(file))
				snprintf(f->id[i], sizeof(f->id[i]), "%s", file);
			else
				snprintf(f->id[i], sizeof(f->id[i]), "#%.*s",
				    (int)idlen, line);
		} else if (strcmp(base != NULL ? base + 1 : file,
		    f->m->map[i].file) == 0 && f->other[0] == '\0') {
			snprintf(f->other, sizeof(f->other), "%s", file);
		}
	}
}

static int
find_maps(const struct api *a, const struct haproxy_maps *m,
    const char *dir, struct find_ctx *f, struct haproxy_push_report *r,
    char *err, size_t errlen)
{
	struct api_answer ans;
	size_t loaded = 0;

	memset(f, 0, sizeof(*f));
	f->m = m;
	for (int i = 0; i < HAPROXY_MAPS; i++) {
		if (haproxy_map_path(dir, m->map[i].file, f->want[i],
		    sizeof(f->want[i])) != 0) {
			snprintf(err, errlen, "%s: path too long", dir);
			return -1;
		}
		if (realpath(f->want[i], f->real[i]) == NULL)
			f->real[i][0] = '\0';
	}
	if (api_call(a, "show map\n", 9, &ans, find_line, f, err, errlen) != 0)
		return -1;
	for (int i = 0; i < HAPROXY_MAPS; i++)
		if ((r->map[i].loaded = f->id[i][0] != '\0'))
			loaded++;
	if (loaded == 0) {
		snprintf(err, errlen, "HAProxy has none of the maps of %s loaded%s%s"
		    "%s; is a frontend of configs/haproxy/ in its configuration, "
		    "with the maps in %s?", dir, f->other[0] ? " (it has " : "",
		    f->other, f->other[0] ? ")" : "", dir);
		return -1;
	}
	return 0;
}

static int
prepare_map(const struct api *a, const char *id, unsigned long *ver,
    char *err, size_t errlen)
{
	static const char said[] = "New version created: ";
	struct api_answer ans;
	char cmd[PATH_MAX + 32];
	uint64_t v;
	size_t n = (size_t)snprintf(cmd, sizeof(cmd), "prepare map %s\n", id);

	if (api_call(a, cmd, n, &ans, NULL, NULL, err, errlen) != 0)
		return -1;
	if (strncmp(ans.head, said, sizeof(said) - 1) != 0 ||
	    parse_uint(ans.head + sizeof(said) - 1,
	    strlen(ans.head + sizeof(said) - 1), UINT32_MAX, &v) != 0) {
		snprintf(err, errlen, "%s: HAProxy answers \"%s\" to \"prepare map "
		    "%s\"", a->path, ans.head, id);
		return -1;
	}
	*ver = (unsigned long)v;
	return 0;
}

/* Adds the entries of map to version ver, in commands of at most
 * API_CHUNK_MAX bytes. */
static int
fill_map(const struct api *a, const char *id, unsigned long ver,
    const struct haproxy_map *map, char *err, size_t errlen)
{
	const char *p = map->text.p + map->entries_at;
	const char *end = map->text.p + map->text.len;
	char *cmd = malloc(API_CHUNK_MAX);
	int rc = -1;

	if (cmd == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (p < end) {
		size_t n = (size_t)snprintf(cmd, API_CHUNK_MAX,
		    "add map @%lu %s <<\n", ver, id), start = n;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t ll = nl != NULL ? (size_t)(nl - p) + 1 :
			    (size_t)(end - p);

			if (n + ll + 1 > API_CHUNK_MAX)
				break;
			memcpy(cmd + n, p, ll);
			n += ll;
			p += ll;
		}
		if (n == start) {
			snprintf(err, errlen, "%s: an entry does not fit in one "
			    "command", map->file);
			goto done;
		}
		cmd[n++] = '\n';                /* the end of the payload */
		if (api_call_quiet(a, cmd, n, err, errlen) != 0)
			goto done;
	}
	rc = 0;
done:
	free(cmd);
	return rc;
}

struct count_ctx {
	size_t entries;                 /* "0x55d0c8a0 key value" */
	size_t other;                   /* anything else: an error message */
};

static void
count_entry(void *ctx, const char *line, size_t len)
{
	struct count_ctx *c = ctx;

	if (len >= 2 && line[0] == '0' && line[1] == 'x')
		c->entries++;
	else
		c->other++;
}

/* The number of entries HAProxy matches against now in map id. */
static int
show_count(const struct api *a, const char *id, size_t *n, char *err,
    size_t errlen)
{
	struct count_ctx c = { 0, 0 };
	struct api_answer ans;
	char cmd[PATH_MAX + 32];
	size_t len = (size_t)snprintf(cmd, sizeof(cmd), "show map %s\n", id);

	if (api_call(a, cmd, len, &ans, count_entry, &c, err, errlen) != 0)
		return -1;
	if (c.other > 0) {
		snprintf(err, errlen, "%s: HAProxy answers \"%s\" to \"show map "
		    "%s\"", a->path, ans.head, id);
		return -1;
	}
	*n = c.entries;
	return 0;
}

/* Forgets versions prepared but not committed (best effort: HAProxy drops
 * them anyway at the next commit). */
static void
clear_prepared(const struct api *a, const struct find_ctx *f,
    const unsigned long *ver, const bool *prepared)
{
	for (int i = 0; i < HAPROXY_MAPS; i++) {
		char cmd[PATH_MAX + 48], e[256];
		size_t n;

		if (!prepared[i])
			continue;
		n = (size_t)snprintf(cmd, sizeof(cmd), "clear map @%lu %s\n",
		    ver[i], f->id[i]);
		api_call_quiet(a, cmd, n, e, sizeof(e));
	}
}

/* Prepares and fills a new version of every loaded map.  On failure the
 * versions made are cleared: nothing changed. */
static int
stage_maps(const struct api *a, const struct haproxy_maps *m,
    const struct find_ctx *f, unsigned long *ver, char *err, size_t errlen)
{
	bool prepared[HAPROXY_MAPS] = { false };

	for (int i = 0; i < HAPROXY_MAPS; i++) {
		if (f->id[i][0] == '\0')
			continue;
		if (prepare_map(a, f->id[i], &ver[i], err, errlen) != 0)
			goto fail;
		prepared[i] = true;
		if (fill_map(a, f->id[i], ver[i], &m->map[i], err, errlen) != 0)
			goto fail;
	}
	return 0;
fail:
	clear_prepared(a, f, ver, prepared);
	return -1;
}

static int
commit_maps(const struct api *a, const struct find_ctx *f,
    const unsigned long *ver, struct haproxy_push_report *r, char *err,
    size_t errlen)
{
	for (int i = 0; i < HAPROXY_MAPS; i++) {
		char cmd[PATH_MAX + 48];
		size_t n;

		if (f->id[i][0] == '\0')
			continue;
		n = (size_t)snprintf(cmd, sizeof(cmd), "commit map @%lu %s\n",
		    ver[i], f->id[i]);
		if (api_call_quiet(a, cmd, n, err, errlen) != 0)
			return -1;
		r->map[i].version = ver[i];
		r->committed++;
	}
	return 0;
}

static int
verify_maps(const struct api *a, const struct haproxy_maps *m,
    const struct find_ctx *f, struct haproxy_push_report *r, char *err,
    size_t errlen)
{
	for (int i = 0; i < HAPROXY_MAPS; i++) {
		if (f->id[i][0] == '\0')
			continue;
		if (show_count(a, f->id[i], &r->map[i].shown, err, errlen) != 0)
			return -1;
		if (r->map[i].shown != m->map[i].n_entries) {
			snprintf(err, errlen, "%s: HAProxy shows %zu entries after the "
			    "commit, %zu were sent", f->id[i], r->map[i].shown,
			    m->map[i].n_entries);
			return -1;
		}
	}
	return 0;
}

enum haproxy_push_status
haproxy_push(const struct haproxy_maps *m, const struct haproxy_push_opts *o,
    struct haproxy_push_report *r, char *err, size_t errlen)
{
	struct api a = { o->socket, o->timeout_ms };
	unsigned long ver[HAPROXY_MAPS] = { 0 };
	struct find_ctx *f;
	enum haproxy_push_status st = HAPROXY_PUSH_FAILED;
	bool atomic;
	char e2[512];

	memset(r, 0, sizeof(*r));
	if (ask_version(&a, r, &atomic, err, errlen) != 0)
		return HAPROXY_PUSH_FAILED;
	if (!atomic) {
		if (haproxy_maps_install(m, o->dir, err, errlen) != 0)
			return HAPROXY_PUSH_FAILED;
		r->files_written = true;
		snprintf(err, errlen, "HAProxy %s cannot replace maps live (2.4 "
		    "and later can): maps written to %s; reload HAProxy to use "
		    "them", r->version, o->dir);
		return HAPROXY_PUSH_RELOAD;
	}
	if ((f = malloc(sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return HAPROXY_PUSH_FAILED;
	}
	if (find_maps(&a, m, o->dir, f, r, err, errlen) != 0 ||
	    stage_maps(&a, m, f, ver, err, errlen) != 0)
		goto done;
	if (commit_maps(&a, f, ver, r, err, errlen) != 0) {
		snprintf(e2, sizeof(e2), "%s", err);
		snprintf(err, errlen, "%s; HAProxy runs %zu of the new maps and "
		    "the old others; files not rewritten: run haproxy-push again",
		    e2, r->committed);
		goto done;
	}
	/* HAProxy runs the new maps: the files follow whatever the check
	 * says, so that a restart agrees */
	if (verify_maps(&a, m, f, r, err, errlen) != 0)
		st = HAPROXY_PUSH_FAILED;
	else
		st = HAPROXY_PUSH_DONE;
	if (haproxy_maps_install(m, o->dir, e2, sizeof(e2)) != 0) {
		if (st == HAPROXY_PUSH_DONE)
			snprintf(err, errlen, "HAProxy runs the new maps, but the "
			    "files were not rewritten (a restart would go back): %s",
			    e2);
		st = HAPROXY_PUSH_FAILED;
	} else {
		r->files_written = true;
	}
done:
	free(f);
	return st;
}
