/* config.c - see config.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "endpoints.h"
#include "host.h"
#include "parse.h"

struct cfg_ctx {
	struct m365_config *c;
	const char *path;
	unsigned line;
	struct config_errors *errs;
	unsigned seen;                  /* bit per list key already given */
};

static void
cfg_error(struct cfg_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cfg_error(struct cfg_ctx *x, const char *fmt, ...)
{
	char msg[512], full[1024];
	va_list ap;

	if (x->errs->n == CONFIG_MAX_ERRORS) {
		x->errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->line > 0)
		snprintf(full, sizeof(full), "%s:%u: %s", x->path, x->line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", x->path, msg);
	x->errs->msg[x->errs->n] = strdup(full);
	if (x->errs->msg[x->errs->n] != NULL)
		x->errs->n++;
}

static void
strlist_clear(struct m365_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
strlist_add(struct m365_strlist *l, const char *s, size_t len)
{
	char **v;

	if (l->n == CONFIG_MAX_LIST)
		return -1;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	l->v = v;
	if ((l->v[l->n] = parse_strndup(s, len)) == NULL)
		return -1;
	l->n++;
	return 0;
}

int
config_parse_categories(const char *s, unsigned *mask, const char **why)
{
	static const char *const names[] = { "default", "allow", "optimize" };
	unsigned m = 0;

	while (*s != '\0') {
		size_t len = strcspn(s, ", \t");
		int found = -1;

		for (int i = 0; i < 3 && len > 0; i++)
			if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0)
				found = i + 1;
		if (len > 0 && found < 0) {
			*why = "unknown category (expected optimize, allow, default)";
			return -1;
		}
		if (found > 0)
			m |= 1u << found;
		s += len;
		s += strspn(s, ", \t");
	}
	*mask = m;
	return 0;
}

int
config_check_entry(const char *s, const char **why)
{
	struct ip_prefix p;
	char buf[HOST_NAME_MAX_LEN + 1];
	size_t len = strlen(s);
	struct ip_addr a;
	bool v4;

	if (strchr(s, '/') != NULL || ip_parse(s, len, &a, &v4) == 0)
		return prefix_parse(s, len, true, &p, why);
	return host_pattern_check(s, len, buf, why);
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* Adds every comma- or blank-separated item of value to a list key; the
 * first occurrence of a key in the file replaces the default. */
static void
set_list(struct cfg_ctx *x, unsigned bit, struct m365_strlist *l,
    const char *key, const char *value, bool entries)
{
	const char *s = value;

	if ((x->seen & bit) == 0)
		strlist_clear(l);
	x->seen |= bit;
	while (*s != '\0') {
		size_t len = strcspn(s, ", \t");
		char item[HOST_NAME_MAX_LEN + 2];
		const char *why;

		if (len > HOST_NAME_MAX_LEN) {
			cfg_error(x, "%s: entry too long", key);
		} else if (len > 0) {
			memcpy(item, s, len);
			item[len] = '\0';
			if (entries && config_check_entry(item, &why) != 0)
				cfg_error(x, "%s: \"%s\": %s", key, item, why);
			else if (strlist_add(l, item, len) != 0)
				cfg_error(x, "%s: too many entries (at most %d)",
				    key, CONFIG_MAX_LIST);
		}
		s += len;
		s += strspn(s, ", \t");
	}
}

bool
config_instance_valid(const char *name)
{
	static const char *const names[] = { "Worldwide", "USGovDoD",
	    "USGovGCCHigh", "China" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Replaces *slot with a copy of value. */
static void
set_string(struct cfg_ctx *x, char **slot, const char *value)
{
	char *dup = strdup(value);

	if (dup == NULL) {
		cfg_error(x, "out of memory");
		return;
	}
	free(*slot);
	*slot = dup;
}

static void
set_number(struct cfg_ctx *x, const char *key, const char *value,
    unsigned max, unsigned *out)
{
	uint64_t n;

	if (parse_uint(value, strlen(value), max, &n) != 0)
		cfg_error(x, "%s: \"%s\" is not a number from 0 to %u", key,
		    value, max);
	else
		*out = (unsigned)n;
}

/* A command and its arguments, split on blanks (no shell, no quoting);
 * a later line replaces an earlier one. */
static void
set_argv(struct cfg_ctx *x, struct m365_strlist *l, const char *value)
{
	strlist_clear(l);
	while (*value != '\0') {
		size_t len = strcspn(value, " \t");

		if (strlist_add(l, value, len) != 0) {
			cfg_error(x, "on_change: too many arguments");
			return;
		}
		value += len;
		value += strspn(value, " \t");
	}
}

/* The keys of the updater (struct m365_update). */
static bool
set_update_key(struct cfg_ctx *x, const char *key, const char *value)
{
	struct m365_update *u = &x->c->update;
	uint64_t ms;

	if (strcmp(key, "base_url") == 0) {
		if (strncmp(value, "https://", 8) != 0 &&
		    strncmp(value, "file://", 7) != 0)
			cfg_error(x, "base_url: only https:// and file:// are "
			    "accepted");
		else
			set_string(x, &u->base_url, value);
	} else if (strcmp(key, "instance") == 0) {
		if (!config_instance_valid(value))
			cfg_error(x, "instance: \"%s\" is not Worldwide, USGovDoD, "
			    "USGovGCCHigh or China", value);
		else
			set_string(x, &u->instance, value);
	} else if (strcmp(key, "ca_file") == 0) {
		set_string(x, &u->ca_file, value);
	} else if (strcmp(key, "proxy") == 0) {
		set_string(x, &u->proxy, value);
	} else if (strcmp(key, "tenant") == 0) {
		set_string(x, &u->tenant, value);
	} else if (strcmp(key, "no_ipv6") == 0) {
		if (parse_bool(value, &u->no_ipv6) != 0)
			cfg_error(x, "%s: \"%s\" is not yes or no", key, value);
	} else if (strcmp(key, "timeout") == 0) {
		set_number(x, key, value, M365_MAX_TIMEOUT, &u->timeout);
	} else if (strcmp(key, "retries") == 0) {
		set_number(x, key, value, M365_MAX_RETRIES, &u->retries);
	} else if (strcmp(key, "retry_delay") == 0) {
		if (parse_millis(value, strlen(value), M365_MAX_RETRY_DELAY_MS,
		    &ms) != 0)
			cfg_error(x, "retry_delay: \"%s\" is not a number of "
			    "seconds up to %u", value, M365_MAX_RETRY_DELAY_MS / 1000);
		else
			u->retry_delay_ms = (unsigned)ms;
	} else if (strcmp(key, "on_change") == 0) {
		set_argv(x, &u->on_change, value);
	} else {
		return false;
	}
	return true;
}

/* The keys of the helper's SNI check; false when key is none of them. */
static bool
set_sni_key(struct cfg_ctx *x, const char *key, const char *value)
{
	struct m365_sni *n = &x->c->sni;
	uint64_t ms;

	if (strcmp(key, "verify_sni") == 0) {
		if (strcmp(value, "dns") == 0 || strcmp(value, "off") == 0)
			n->verify_dns = value[0] == 'd';
		else
			cfg_error(x, "verify_sni: \"%s\" is not dns or off", value);
	} else if (strcmp(key, "dns_servers") == 0) {
		set_string(x, &n->dns_servers, value);
	} else if (strcmp(key, "dns_timeout") == 0) {
		if (parse_millis(value, strlen(value), M365_MAX_DNS_TIMEOUT_MS,
		    &ms) != 0 || ms == 0)
			cfg_error(x, "dns_timeout: \"%s\" is not a number of "
			    "seconds from 0.001 to %u", value,
			    M365_MAX_DNS_TIMEOUT_MS / 1000);
		else
			n->dns_timeout_ms = (unsigned)ms;
	} else {
		return false;
	}
	return true;
}

static void
set_key(struct cfg_ctx *x, const char *key, const char *value)
{
	struct m365_policy *p = &x->c->policy;
	const char *why;

	if (strcmp(key, "state_dir") == 0) {
		if (value[0] != '/')
			cfg_error(x, "state_dir: must be an absolute path");
		else
			set_string(x, &x->c->state_dir, value);
	} else if (strcmp(key, "direct_categories") == 0) {
		unsigned m;

		if (config_parse_categories(value, &m, &why) != 0)
			cfg_error(x, "direct_categories: \"%s\": %s", value, why);
		else
			p->direct_mask = ((x->seen & 1u) ? p->direct_mask : 0) | m;
		x->seen |= 1u;
	} else if (strcmp(key, "service_areas") == 0) {
		set_list(x, 2u, &p->service_areas, key, value, false);
	} else if (strcmp(key, "extra_direct") == 0) {
		set_list(x, 4u, &p->extra_direct, key, value, true);
	} else if (strcmp(key, "never_direct") == 0) {
		set_list(x, 8u, &p->never_direct, key, value, true);
	} else if (strcmp(key, "required_only") == 0 ||
	    strcmp(key, "match_ports") == 0) {
		bool *b = key[0] == 'r' ? &p->required_only : &p->match_ports;

		if (parse_bool(value, b) != 0)
			cfg_error(x, "%s: \"%s\" is not yes or no", key, value);
	} else if (!set_update_key(x, key, value) &&
	    !set_sni_key(x, key, value)) {
		cfg_error(x, "unknown key \"%s\"", key);
	}
}

static void
parse_line(struct cfg_ctx *x, char *line)
{
	char *hash = strchr(line, '#'), *eq, *key, *value;
	size_t klen, vlen;

	if (hash != NULL)
		*hash = '\0';
	eq = strchr(line, '=');
	klen = strlen(line);
	key = (char *)parse_trim(line, &klen);
	if (klen == 0)
		return;
	if (eq == NULL) {
		cfg_error(x, "expected \"key = value\"");
		return;
	}
	*eq = '\0';
	klen = strlen(key);
	key = (char *)parse_trim(key, &klen);
	key[klen] = '\0';
	vlen = strlen(eq + 1);
	value = (char *)parse_trim(eq + 1, &vlen);
	value[vlen] = '\0';
	if (klen == 0)
		cfg_error(x, "missing key before \"=\"");
	else if (vlen == 0)
		cfg_error(x, "%s: missing value", key);
	else
		set_key(x, key, value);
}

int
config_init(struct m365_config *c)
{
	memset(c, 0, sizeof(*c));
	c->state_dir = strdup(M365_DEFAULT_STATE_DIR);
	c->policy.direct_mask = (1u << M365_CAT_OPTIMIZE) | (1u << M365_CAT_ALLOW);
	c->policy.match_ports = true;
	c->update.base_url = strdup(M365_DEFAULT_BASE_URL);
	c->update.instance = strdup(M365_DEFAULT_INSTANCE);
	c->update.timeout = 60;
	c->update.retries = 3;
	c->update.retry_delay_ms = 2000;
	c->sni.dns_timeout_ms = M365_MAX_DNS_TIMEOUT_MS;
	return c->state_dir == NULL || c->update.base_url == NULL ||
	    c->update.instance == NULL ? -1 : 0;
}

int
config_load(struct m365_config *c, const char *path, bool required,
    struct config_errors *errs)
{
	struct cfg_ctx x = { c, path, 0, errs, 0 };
	FILE *f = fopen(path, "r");
	char line[CONFIG_MAX_LINE + 2];
	size_t total = 0;

	if (f == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		cfg_error(&x, "%s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		x.line++;
		total += len;
		if (total > CONFIG_MAX_BYTES) {
			cfg_error(&x, "file larger than %d bytes", CONFIG_MAX_BYTES);
			break;
		}
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			int ch;

			cfg_error(&x, "line longer than %d bytes", CONFIG_MAX_LINE);
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		parse_line(&x, line);
	}
	if (ferror(f)) {
		x.line = 0;
		cfg_error(&x, "read error");
	}
	fclose(f);
	return errs->n > 0 || errs->dropped > 0 ? -1 : 0;
}

void
config_free(struct m365_config *c)
{
	free(c->state_dir);
	c->state_dir = NULL;
	strlist_clear(&c->policy.service_areas);
	strlist_clear(&c->policy.extra_direct);
	strlist_clear(&c->policy.never_direct);
	free(c->update.base_url);
	free(c->update.instance);
	free(c->update.ca_file);
	free(c->update.proxy);
	free(c->update.tenant);
	c->update.base_url = c->update.instance = c->update.ca_file = NULL;
	c->update.proxy = c->update.tenant = NULL;
	strlist_clear(&c->update.on_change);
	free(c->sni.dns_servers);
	c->sni.dns_servers = NULL;
}

void
config_errors_free(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
	e->dropped = 0;
}
