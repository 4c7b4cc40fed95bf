/* state.c - see state.h. */
#include "state.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "file.h"
#include "config.h"
#include "fetch.h"

#define STATE_SMALL_FILE 65536          /* bound on version/status/id */
/* The temporary names, which state_cleanup must recognise exactly:
 * atomic_install's (atomic.h); switch_link appends 8 hex digits. */
#define MKSTEMP_LEN ATOMIC_TMP_LEN
#define MKSTEMP_CHARS ATOMIC_TMP_CHARS
#define LINK_TMP_PREFIX "." STATE_DATA ".link."

/* The users, besides root, whose files the updater takes: itself. */
static void
trust_self(struct file_trust *t)
{
	t->uid[0] = geteuid();
	t->uid[1] = FILE_NO_UID;
}

/* The directory part of path ("." when none) in out. */
static void
parent_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, size, ".");
	else
		snprintf(out, size, "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
}

/* Checks dir/name, when it is there: a regular file (for endpoints.json:
 * a link to one, or one) that only root and we can write. */
static int
check_file(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[SOURCE_PATH_MAX], *real = NULL;
	struct file_trust t;
	struct stat st;
	bool link_ok = strcmp(name, STATE_DATA) == 0;
	int fd, rc;

	trust_self(&t);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) != 0)
		return 0;               /* not there: made by us if needed */
	if (S_ISLNK(st.st_mode) && link_ok) {
		if (stat(path, &st) != 0)
			return 0;       /* a dangling link: no cache */
		/* the file it names, by that name in what is said */
		if ((real = realpath(path, NULL)) != NULL)
			snprintf(path, sizeof(path), "%s", real);
		free(real);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path, S_ISLNK(st.st_mode) ?
		    "a symbolic link, not a regular file" :
		    "not a regular file");
		return -1;
	}
	if ((fd = file_open_read(path, !link_ok)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = file_trust_path(fd, path, &t, err, errlen);
	close(fd);
	return rc;
}

int
state_prepare(const char *dir, char *err, size_t errlen)
{
	static const char *const names[] = { STATE_LOCK, STATE_CLIENT_ID,
	    STATE_STATUS, STATE_DATA };
	char parent[SOURCE_PATH_MAX], why[SOURCE_PATH_MAX + 256];
	struct file_trust t;
	struct stat st;

	trust_self(&t);
	/* nothing is made under a parent someone else could change */
	if (stat(dir, &st) != 0 && errno == ENOENT) {
		parent_of(dir, parent, sizeof(parent));
		if (file_trust_dir(parent, &t, why, sizeof(why)) != 0)
			goto untrusted;
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
	}
	if (file_trust_dir(dir, &t, why, sizeof(why)) != 0)
		goto untrusted;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (check_file(dir, names[i], why, sizeof(why)) != 0)
			goto untrusted;
	return 0;
untrusted:
	snprintf(err, errlen, "%s; refusing a state directory another user "
	    "can write", why);
	return -1;
}

/* Reads a small file dir/name, a regular file of ours (no link) of at
 * most size - 1 bytes, into buf (NUL-terminated); returns its length or
 * -1. */
static ssize_t
read_small(const char *dir, const char *name, char *buf, size_t size)
{
	char path[SOURCE_PATH_MAX], err[256];
	struct buf b = BUF_INIT(size - 1);
	ssize_t n = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_read(path, size - 1, true, &b, err, sizeof(err)) == 0) {
		memcpy(buf, b.p, b.len + 1);
		n = (ssize_t)b.len;
	}
	buf_free(&b);
	return n;
}

static bool
guid_valid(const char *s)
{
	for (size_t i = 0; i < STATE_GUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[STATE_GUID_LEN] == '\0' || s[STATE_GUID_LEN] == '\n';
}

/* A random version-4 GUID (RFC 9562 4.4) from the kernel's generator. */
static int
guid_make(char id[STATE_GUID_LEN + 1])
{
	unsigned char b[16];
	size_t o = 0;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* variant 10 */
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			id[o++] = '-';
		snprintf(id + o, 3, "%02x", b[i]);
		o += 2;
	}
	id[o] = '\0';
	return 0;
}

int
state_client_id(const char *dir, char id[STATE_GUID_LEN + 1], char *err,
    size_t errlen)
{
	char buf[64], line[STATE_GUID_LEN + 2];

	if (read_small(dir, STATE_CLIENT_ID, buf, sizeof(buf)) >= STATE_GUID_LEN &&
	    guid_valid(buf)) {
		memcpy(id, buf, STATE_GUID_LEN);
		id[STATE_GUID_LEN] = '\0';
		return 0;
	}
	if (guid_make(id) != 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	snprintf(line, sizeof(line), "%s\n", id);
	return atomic_install(dir, STATE_CLIENT_ID, line, strlen(line), err,
	    errlen);
}

/* The data file's name for a version and instance. */
static int
data_name(char *buf, size_t size, const char *version, const char *instance)
{
	return (size_t)snprintf(buf, size, "%s%s-%s.json", STATE_DATA_PREFIX,
	    version, instance) < size ? 0 : -1;
}

void
state_installed(const char *dir, char *version, size_t vsize, char *instance,
    size_t isize)
{
	char path[SOURCE_PATH_MAX], target[256];
	ssize_t n;

	version[0] = instance[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_DATA);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	source_data_name_split(target, version, vsize, instance, isize);
}

/* Points dir/endpoints.json at name with one rename: the commit. */
static int
switch_link(const char *dir, const char *name, char *err, size_t errlen)
{
	char tmp[SOURCE_PATH_MAX], path[SOURCE_PATH_MAX];
	unsigned r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned)getpid();
	snprintf(tmp, sizeof(tmp), "%s/" LINK_TMP_PREFIX "%08x", dir, r);
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_DATA);
	unlink(tmp);
	if (symlink(name, tmp) != 0) {
		snprintf(err, errlen, "%s: symlink: %s", tmp, strerror(errno));
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: rename: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	err[0] = '\0';
	if (atomic_sync_dir(dir) != 0)
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
	return 0;
}

int
state_install(const char *dir, const char *data, size_t len,
    const char *version, const char *instance, char *err, size_t errlen)
{
	char name[128], path[SOURCE_PATH_MAX];

	/* the name is what readers believe: nothing it could not say */
	if (!source_version_valid(version) || !config_instance_valid(instance)) {
		snprintf(err, errlen, "refusing to install version \"%.16s\" of "
		    "instance \"%.16s\": the version must be a YYYYMMDDNN date, "
		    "the instance one of the web service's", version, instance);
		return -1;
	}
	if (data_name(name, sizeof(name), version, instance) != 0) {
		snprintf(err, errlen, "version or instance too long");
		return -1;
	}
	if (atomic_install(dir, name, data, len, err, errlen) != 0)
		return -1;
	if (switch_link(dir, name, err, errlen) != 0) {
		char cur[64], inst[64];

		/* not committed: drop the new file unless it is the current */
		state_installed(dir, cur, sizeof(cur), inst, sizeof(inst));
		if (strcmp(cur, version) != 0 || strcmp(inst, instance) != 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			unlink(path);
		}
		return -1;
	}
	return 0;
}

int
state_lock(const char *dir, char *err, size_t errlen)
{
	char path[SOURCE_PATH_MAX];
	struct file_trust t;
	int fd;

	trust_self(&t);
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_LOCK);
	/* never written: read-only is all flock needs */
	fd = file_open_regular(path, O_RDONLY | O_CREAT, 0600, err, errlen);
	if (fd < 0)
		return -1;
	if (file_trust_path(fd, path, &t, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "%s: %s", path, errno == EWOULDBLOCK ?
		    "another update is running" : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether name[0..len) is the name of a data file exactly as data_name
 * makes it, or an older updater made it (source_data_name_split says). */
static bool
is_data_name(const char *name, size_t len)
{
	char copy[SOURCE_NAME_MAX * 2 + 16], v[SOURCE_NAME_MAX], i[SOURCE_NAME_MAX];

	if (len >= sizeof(copy))
		return false;
	memcpy(copy, name, len);
	copy[len] = '\0';
	return source_data_name_split(copy, v, sizeof(v), i, sizeof(i)) == 0;
}

/* Whether s[0..n) is n characters of set. */
static bool
all_of(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return false;
	return true;
}

/* Whether name is one of our temporary files: atomic_install's
 * ".NAME.XXXXXX" (mkstemp's six letters or digits) for a NAME it is given
 * in the state directory, or switch_link's ".endpoints.json.link.%08x". */
static bool
is_temp_name(const char *name)
{
	size_t len = strlen(name), nlen;
	const size_t llen = strlen(LINK_TMP_PREFIX);

	if (len == llen + 8 && strncmp(name, LINK_TMP_PREFIX, llen) == 0)
		return all_of(name + llen, 8, "0123456789abcdef");
	if (name[0] != '.' || len < 1 + 1 + 1 + MKSTEMP_LEN ||
	    name[len - MKSTEMP_LEN - 1] != '.' ||
	    !all_of(name + len - MKSTEMP_LEN, MKSTEMP_LEN, MKSTEMP_CHARS))
		return false;
	nlen = len - 1 - 1 - MKSTEMP_LEN;
	return (nlen == strlen(STATE_CLIENT_ID) &&
	    strncmp(name + 1, STATE_CLIENT_ID, nlen) == 0) ||
	    (nlen == strlen(STATE_STATUS) &&
	    strncmp(name + 1, STATE_STATUS, nlen) == 0) ||
	    is_data_name(name + 1, nlen);
}

/* Whether a file of the state directory is debris: one of our temporary
 * files, or the data of a version that is not the one installed.  The
 * directory is whatever state_dir names, so nothing else goes, however
 * much it looks like ours (a user's dotfiles, endpoints-notes.txt, a .bak
 * of a data file). */
static bool
is_debris(const char *name, const char *installed)
{
	if (is_temp_name(name))
		return true;
	return is_data_name(name, strlen(name)) && strcmp(name, installed) != 0;
}

void
state_cleanup(const char *dir)
{
	char path[SOURCE_PATH_MAX], installed[256] = "";
	struct dirent *e;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_DATA);
	n = readlink(path, installed, sizeof(installed) - 1);
	installed[n > 0 ? n : 0] = '\0';
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!is_debris(e->d_name, installed))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

/* --- status.json ------------------------------------------------------- */

static time_t
json_time(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && v->valuedouble > 0 ? (time_t)v->valuedouble : 0;
}

static unsigned long
json_count(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	    v->valuedouble < 1e15 ? (unsigned long)v->valuedouble : 0;
}

static void
json_string(const cJSON *o, const char *key, char *out, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(v))
		snprintf(out, size, "%s", v->valuestring);
}

void
state_status_read(const char *dir, struct state_status *st)
{
	char *buf = malloc(STATE_SMALL_FILE);
	cJSON *o = NULL;

	memset(st, 0, sizeof(*st));
	if (buf != NULL && read_small(dir, STATE_STATUS, buf,
	    STATE_SMALL_FILE) > 0)
		o = cJSON_Parse(buf);
	free(buf);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return;
	}
	st->last_attempt = json_time(o, "last_attempt");
	st->last_success = json_time(o, "last_success");
	st->fetched = json_time(o, "fetched");
	st->rate_limited_until = json_time(o, "rate_limited_until");
	json_string(o, "last_result", st->last_result, sizeof(st->last_result));
	json_string(o, "last_message", st->last_message,
	    sizeof(st->last_message));
	json_string(o, "asn_result", st->asn_result, sizeof(st->asn_result));
	if (st->asn_result[0] != '\0') {      /* as written: once one ran */
		json_string(o, "asn_message", st->asn_message,
		    sizeof(st->asn_message));
		st->asn_checked = json_time(o, "asn_checked");
		st->asn_prefixes = json_count(o, "asn_prefixes");
		st->asn_untrusted = json_count(o, "asn_untrusted");
		st->asn_unknown = json_count(o, "asn_unknown");
	}
	cJSON_Delete(o);
}

int
state_status_write(const char *dir, const struct state_status *st, char *err,
    size_t errlen)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	int rc = -1;

	if (o == NULL)
		goto oom;
	cJSON_AddNumberToObject(o, "last_attempt", (double)st->last_attempt);
	cJSON_AddStringToObject(o, "last_result", st->last_result);
	cJSON_AddStringToObject(o, "last_message", st->last_message);
	cJSON_AddNumberToObject(o, "last_success", (double)st->last_success);
	cJSON_AddNumberToObject(o, "fetched", (double)st->fetched);
	cJSON_AddNumberToObject(o, "rate_limited_until",
	    (double)st->rate_limited_until);
	if (st->asn_result[0] != '\0') {      /* only once a check ran */
		cJSON_AddStringToObject(o, "asn_result", st->asn_result);
		cJSON_AddStringToObject(o, "asn_message", st->asn_message);
		cJSON_AddNumberToObject(o, "asn_checked",
		    (double)st->asn_checked);
		cJSON_AddNumberToObject(o, "asn_prefixes",
		    (double)st->asn_prefixes);
		cJSON_AddNumberToObject(o, "asn_untrusted",
		    (double)st->asn_untrusted);
		cJSON_AddNumberToObject(o, "asn_unknown",
		    (double)st->asn_unknown);
	}
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text == NULL)
		goto oom;
	rc = atomic_install(dir, STATE_STATUS, text, strlen(text), err,
	    errlen);
	free(text);
	return rc;
oom:
	snprintf(err, errlen, "out of memory");
	return rc;
}
