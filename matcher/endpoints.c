/* endpoints.c - see endpoints.h. */
#include "endpoints.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "host.h"
#include "parse.h"

int
endpoints_category_from_name(const char *name)
{
	if (strcmp(name, "Optimize") == 0)
		return M365_CAT_OPTIMIZE;
	if (strcmp(name, "Allow") == 0)
		return M365_CAT_ALLOW;
	if (strcmp(name, "Default") == 0)
		return M365_CAT_DEFAULT;
	return -1;
}

static int
parse_port_item(const char *s, size_t len, struct m365_port_range *r,
    const char **why)
{
	const char *dash = memchr(s, '-', len);
	uint64_t lo, hi;

	if (dash == NULL) {
		if (parse_uint(s, len, 65535, &lo) != 0 || lo == 0) {
			*why = "invalid port";
			return -1;
		}
		hi = lo;
	} else {
		size_t l1 = (size_t)(dash - s), l2 = len - l1 - 1;
		const char *a = parse_trim(s, &l1), *b = parse_trim(dash + 1, &l2);

		if (parse_uint(a, l1, 65535, &lo) != 0 || lo == 0 ||
		    parse_uint(b, l2, 65535, &hi) != 0 || hi < lo) {
			*why = "invalid port range";
			return -1;
		}
	}
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}

int
endpoints_parse_ports(const char *s, struct m365_ports *out, const char **why)
{
	struct m365_port_range tmp[M365_DATA_MAX_PORT_RANGES];
	size_t n = 0, slen = strlen(s), all = slen;

	out->ranges = NULL;
	out->n = 0;
	parse_trim(s, &all);
	if (all == 0)
		return 0;       /* "" means no ports */
	while (slen > 0) {
		const char *comma = memchr(s, ',', slen);
		size_t len = comma != NULL ? (size_t)(comma - s) : slen;
		size_t ilen = len;
		const char *item = parse_trim(s, &ilen);

		if (n == M365_DATA_MAX_PORT_RANGES) {
			*why = "too many port ranges";
			return -1;
		}
		if (parse_port_item(item, ilen, &tmp[n++], why) != 0)
			return -1;
		s += len + (comma != NULL);
		slen -= len + (comma != NULL);
		if (comma != NULL && slen == 0) {
			*why = "invalid port";
			return -1;
		}
	}
	out->ranges = malloc(n * sizeof(*out->ranges));
	if (out->ranges == NULL) {
		*why = "out of memory";
		return -1;
	}
	memcpy(out->ranges, tmp, n * sizeof(*out->ranges));
	out->n = n;
	return 0;
}

bool
endpoints_ports_contain(const struct m365_ports *p, unsigned port)
{
	for (size_t i = 0; i < p->n; i++)
		if (port >= p->ranges[i].lo && port <= p->ranges[i].hi)
			return true;
	return false;
}

/* What a pass over the raw JSON finds before cJSON sees it.  cJSON has only
 * a compile-time nesting limit; it decodes "\u0000" into a NUL that
 * silently cuts a string short ("outlook.office365.com\u0000.evil.net"
 * would load as outlook.office365.com), and it takes raw control bytes
 * (a raw NUL does the same) although RFC 8259 forbids them.  All are
 * caught here, and the values are counted as cJSON will make them (a
 * node per value, every array element and object member). */
struct prescan {
	bool too_deep;
	size_t values;          /* JSON values, the whole array included */
	bool nul;               /* a NUL or control character was found ... */
	size_t nul_set;         /* ... in the nul_set'th object (1-based) */
	char nul_key[32];       /* ... under this key of it */
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the string starting at text[i] (after its quote) is followed by
 * ':', i.e. is an object key; i is at the closing quote. */
static bool
is_key(const char *text, size_t len, size_t i)
{
	for (i++; i < len; i++)
		if (!is_blank(text[i]))
			return text[i] == ':';
	return false;
}

/* Counts the values that c, a character outside strings and not blank,
 * starts: the first element or member of a container that is not empty,
 * and one more after each ','.  *opened: the last one opened a container. */
static void
count_values(struct prescan *p, bool *opened, char c)
{
	if (*opened && c != ']' && c != '}')
		p->values++;
	*opened = c == '[' || c == '{';
	if (c == ',')
		p->values++;
}

static void
prescan_json(const char *text, size_t len, unsigned max, struct prescan *p)
{
	unsigned depth = 0;
	size_t str_start = 0, set = 0;
	bool in_str = false, opened = false;
	char key[sizeof(p->nul_key)] = "";

	memset(p, 0, sizeof(*p));
	p->values = 1;                  /* the array itself */
	for (size_t i = 0; i < len && !p->nul; i++) {
		char c = text[i];

		if (!in_str && !is_blank(c))
			count_values(p, &opened, c);
		if (in_str) {
			if ((unsigned char)c < 0x20 || (c == '\\' && i + 5 < len &&
			    memcmp(text + i + 1, "u0000", 5) == 0)) {
				p->nul = true;
				p->nul_set = set;
				memcpy(p->nul_key, key, sizeof(key));
			} else if (c == '\\') {
				i++;
			} else if (c == '"') {
				in_str = false;
				if (depth == 2 && is_key(text, len, i))
					snprintf(key, sizeof(key), "%.*s",
					    (int)(i - str_start), text + str_start);
			}
		} else if (c == '"') {
			in_str = true;
			str_start = i + 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max) {
				p->too_deep = true;
				return;
			}
			if (depth == 2 && c == '{')
				set++;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
}

/* The message for a \u0000 found by prescan_json, naming the set by its id
 * when the parsed tree has one. */
static void
nul_error(const cJSON *root, const struct prescan *p, char *err,
    size_t errlen)
{
	const cJSON *obj = cJSON_GetArrayItem(root, (int)p->nul_set - 1);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");

	if (cJSON_IsNumber(id))
		snprintf(err, errlen, "set %d: %s: string holds a NUL or "
		    "control character", id->valueint, p->nul_key);
	else
		snprintf(err, errlen, "set #%zu: %s: string holds a NUL or "
		    "control character", p->nul_set, p->nul_key);
}

struct load_ctx {
	char *err;
	size_t errlen;
	size_t n_urls, n_globs, n_ips;  /* totals so far, for the bounds */
};

static int
fail_set(struct load_ctx *c, int id, const char *field, const char *what)
{
	if (id >= 0)
		snprintf(c->err, c->errlen, "set %d: %s: %s", id, field, what);
	else
		snprintf(c->err, c->errlen, "%s: %s", field, what);
	return -1;
}

/* An entry of a list field is wrong: name the set, field, entry and why. */
static int
fail_entry(struct load_ctx *c, int id, const char *field, const char *entry,
    const char *why)
{
	char shown[201];
	size_t n = 0;

	/* the entry is untrusted: no control bytes into logs */
	for (; entry[n] != '\0' && n < sizeof(shown) - 1; n++)
		shown[n] = (unsigned char)entry[n] < 0x20 || entry[n] == 0x7f ||
		    entry[n] == '"' ? '?' : entry[n];
	shown[n] = '\0';
	snprintf(c->err, c->errlen, "set %d: %s: \"%s\": %s", id, field,
	    shown, why);
	return -1;
}

static int
load_ports(struct load_ctx *c, const cJSON *obj, const char *key, int id,
    struct m365_ports *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const char *why;

	out->ranges = NULL;
	out->n = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return fail_set(c, id, key, "not a string");
	if (endpoints_parse_ports(v->valuestring, out, &why) != 0)
		return fail_set(c, id, key, why);
	return 0;
}

static int
load_urls(struct load_ctx *c, const cJSON *obj, struct m365_set *s)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "urls");
	const cJSON *u;
	int n;

	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return fail_set(c, s->id, "urls", "not an array");
	n = cJSON_GetArraySize(arr);
	if (c->n_urls + (size_t)n > M365_DATA_MAX_URLS)
		return fail_set(c, s->id, "urls", "too many patterns");
	s->urls = calloc((size_t)n + 1, sizeof(*s->urls));
	if (s->urls == NULL)
		return fail_set(c, s->id, "urls", "out of memory");
	cJSON_ArrayForEach(u, arr) {
		char buf[HOST_NAME_MAX_LEN + 1];
		const char *why;

		if (!cJSON_IsString(u))
			return fail_set(c, s->id, "urls", "not a string");
		if (host_pattern_check(u->valuestring, strlen(u->valuestring),
		    buf, &why) != 0)
			return fail_entry(c, s->id, "urls", u->valuestring, why);
		if (host_pattern_kind(buf, NULL) == HOST_PATTERN_GLOB &&
		    ++c->n_globs > M365_DATA_MAX_GLOBS)
			return fail_entry(c, s->id, "urls", u->valuestring,
			    "too many patterns with a wildcard after the start");
		s->urls[s->n_urls] = strdup(buf);
		if (s->urls[s->n_urls++] == NULL)
			return fail_set(c, s->id, "urls", "out of memory");
	}
	c->n_urls += s->n_urls;
	return 0;
}

static int
load_ips(struct load_ctx *c, const cJSON *obj, struct m365_set *s)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "ips");
	const cJSON *u;
	int n;

	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return fail_set(c, s->id, "ips", "not an array");
	n = cJSON_GetArraySize(arr);
	if (c->n_ips + (size_t)n > M365_DATA_MAX_IPS)
		return fail_set(c, s->id, "ips", "too many prefixes");
	s->ips = calloc((size_t)n + 1, sizeof(*s->ips));
	s->ip_texts = calloc((size_t)n + 1, sizeof(*s->ip_texts));
	s->ip_raw = calloc((size_t)n + 1, sizeof(*s->ip_raw));
	if (s->ips == NULL || s->ip_texts == NULL || s->ip_raw == NULL)
		return fail_set(c, s->id, "ips", "out of memory");
	cJSON_ArrayForEach(u, arr) {
		char text[IP_TEXT_MAX];
		const char *why;

		if (!cJSON_IsString(u))
			return fail_set(c, s->id, "ips", "not a string");
		if (prefix_parse(u->valuestring, strlen(u->valuestring), false,
		    &s->ips[s->n_ips], &why) != 0)
			return fail_entry(c, s->id, "ips", u->valuestring, why);
		prefix_format(&s->ips[s->n_ips], text, sizeof(text));
		s->ip_texts[s->n_ips] = strdup(text);
		s->ip_raw[s->n_ips] = strdup(u->valuestring);
		if (s->ip_texts[s->n_ips] == NULL || s->ip_raw[s->n_ips++] == NULL)
			return fail_set(c, s->id, "ips", "out of memory");
	}
	c->n_ips += s->n_ips;
	return 0;
}

static int
load_bool(struct load_ctx *c, const cJSON *obj, const char *key, int id,
    bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = false;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return fail_set(c, id, key, "not a boolean");
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
load_id(struct load_ctx *c, const cJSON *obj, size_t index, int *id)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "id");
	char where[64];

	snprintf(where, sizeof(where), "set #%zu", index + 1);
	if (!cJSON_IsNumber(v))
		return fail_set(c, -1, where, "\"id\" missing or not a number");
	if (v->valuedouble < 0 || v->valuedouble > 2147483647.0 ||
	    v->valuedouble != (double)(int)v->valuedouble)
		return fail_set(c, -1, where,
		    "\"id\" is not a non-negative integer");
	*id = (int)v->valuedouble;
	return 0;
}

static int
load_set(struct load_ctx *c, const cJSON *obj, size_t index, struct m365_set *s)
{
	const cJSON *v;
	int cat;

	if (!cJSON_IsObject(obj)) {
		char where[64];

		snprintf(where, sizeof(where), "set #%zu", index + 1);
		return fail_set(c, -1, where, "not an object");
	}
	if (load_id(c, obj, index, &s->id) != 0)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(obj, "category");
	if (!cJSON_IsString(v))
		return fail_set(c, s->id, "category", "missing or not a string");
	cat = endpoints_category_from_name(v->valuestring);
	if (cat < 0)
		return fail_entry(c, s->id, "category", v->valuestring,
		    "not Optimize, Allow or Default");
	s->category = (enum m365_category)cat;
	v = cJSON_GetObjectItemCaseSensitive(obj, "serviceArea");
	if (v != NULL && !cJSON_IsString(v))
		return fail_set(c, s->id, "serviceArea", "not a string");
	s->service_area = strdup(v != NULL ? v->valuestring : "");
	if (s->service_area == NULL)
		return fail_set(c, s->id, "serviceArea", "out of memory");
	if (load_bool(c, obj, "required", s->id, &s->required) != 0 ||
	    load_bool(c, obj, "expressRoute", s->id, &s->express_route) != 0 ||
	    load_ports(c, obj, "tcpPorts", s->id, &s->tcp) != 0 ||
	    load_ports(c, obj, "udpPorts", s->id, &s->udp) != 0)
		return -1;
	return load_urls(c, obj, s) != 0 || load_ips(c, obj, s) != 0 ? -1 : 0;
}

/* Checks and parses text[0..len) into a JSON array of at least one set;
 * returns the tree (the caller deletes it) or NULL with a message. */
static cJSON *
parse_array(const char *text, size_t len, char *err, size_t errlen)
{
	struct prescan scan;
	const char *end;
	cJSON *root;
	int n;

	if (len > M365_DATA_MAX_BYTES) {
		snprintf(err, errlen, "data larger than %u bytes",
		    M365_DATA_MAX_BYTES);
		return NULL;
	}
	prescan_json(text, len, M365_DATA_MAX_DEPTH, &scan);
	if (scan.too_deep) {
		snprintf(err, errlen, "JSON nested deeper than %d levels",
		    M365_DATA_MAX_DEPTH);
		return NULL;
	}
	if (scan.values > M365_DATA_MAX_VALUES) {
		snprintf(err, errlen, "more than %d JSON values",
		    M365_DATA_MAX_VALUES);
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		snprintf(err, errlen, "invalid JSON near byte %td",
		    cJSON_GetErrorPtr() != NULL ? cJSON_GetErrorPtr() - text : 0);
		return NULL;
	}
	while (end < text + len && (*end == ' ' || *end == '\t' ||
	    *end == '\r' || *end == '\n'))
		end++;
	n = cJSON_IsArray(root) ? cJSON_GetArraySize(root) : -1;
	if (end < text + len)
		snprintf(err, errlen, "text after the JSON array at byte %td",
		    end - text);
	else if (scan.nul)
		nul_error(root, &scan, err, errlen);
	else if (n < 0)
		snprintf(err, errlen, "not a JSON array of endpoint sets");
	else if (n == 0)
		snprintf(err, errlen, "no endpoint sets (an empty array)");
	else if (n > M365_DATA_MAX_SETS)
		snprintf(err, errlen, "more than %d endpoint sets",
		    M365_DATA_MAX_SETS);
	else
		return root;
	cJSON_Delete(root);
	return NULL;
}

/* Copies the sets of root, a tree parse_array checked, into new data and
 * deletes the tree, each set's part as soon as it is copied: the copies
 * take the place of what they were copied from, so the tree and the data
 * are never both whole.  Returns NULL with a message naming the set on
 * failure. */
static struct m365_data *
load_sets(cJSON *root, char *err, size_t errlen)
{
	struct load_ctx c = { err, errlen, 0, 0, 0 };
	struct m365_data *d = calloc(1, sizeof(*d));
	cJSON *obj;

	if (d == NULL || (d->sets = calloc((size_t)cJSON_GetArraySize(root),
	    sizeof(*d->sets))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while ((obj = cJSON_DetachItemFromArray(root, 0)) != NULL) {
		struct m365_set *s = &d->sets[d->n_sets];
		/* counted first: endpoints_free frees what a failed set holds */
		int rc = load_set(&c, obj, d->n_sets++, s);

		cJSON_Delete(obj);
		if (rc != 0)
			goto fail;
	}
	cJSON_Delete(root);
	return d;
fail:
	cJSON_Delete(root);
	endpoints_free(d);
	return NULL;
}

struct m365_data *
endpoints_parse(const char *text, size_t len, char *err, size_t errlen)
{
	cJSON *root = parse_array(text, len, err, errlen);

	return root == NULL ? NULL : load_sets(root, err, errlen);
}

struct m365_data *
endpoints_load_fd(int fd, const char *name, char *err, size_t errlen)
{
	struct buf text = BUF_INIT(M365_DATA_MAX_BYTES);
	struct m365_data *d = NULL;
	char inner[512];
	cJSON *root;

	if (file_read_fd(fd, name, M365_DATA_MAX_BYTES, &text, err,
	    errlen) != 0) {
		buf_free(&text);
		return NULL;
	}
	root = parse_array(text.p, text.len, inner, sizeof(inner));
	/* the tree holds copies of every string: the text goes before the
	 * sets copy them once more, so the three never coexist */
	buf_free(&text);
	if (root == NULL || (d = load_sets(root, inner, sizeof(inner))) == NULL)
		snprintf(err, errlen, "%s: %s", name, inner);
	return d;
}

struct m365_data *
endpoints_load_file(const char *path, char *err, size_t errlen)
{
	int fd = file_open_read(path, false);
	struct m365_data *d;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	d = endpoints_load_fd(fd, path, err, errlen);
	close(fd);
	return d;
}

static void
set_free(struct m365_set *s)
{
	free(s->service_area);
	free(s->tcp.ranges);
	free(s->udp.ranges);
	for (size_t i = 0; i < s->n_urls; i++)
		free(s->urls[i]);
	free(s->urls);
	for (size_t i = 0; i < s->n_ips; i++) {
		free(s->ip_texts[i]);
		free(s->ip_raw[i]);
	}
	free(s->ip_texts);
	free(s->ip_raw);
	free(s->ips);
}

void
endpoints_free(struct m365_data *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_sets; i++)
		set_free(&d->sets[i]);
	free(d->sets);
	free(d);
}
