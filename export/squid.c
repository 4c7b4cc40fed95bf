/* squid.c - "m365-direct export squid -o DIR": Squid ACLs that give, for
 * every destination, the answer "m365-direct check" gives without a port.
 *
 * DIR/m365-direct.conf, a squid.conf fragment to include, defines
 *   m365_direct      the request's host (URL host or CONNECT host) is
 *                    direct; for always_direct, http_access, ...
 * and DIR/m365-direct-sni.conf, included after it, defines
 *   m365_direct_sni  the same for the TLS server name (ssl::server_name:
 *                    the SNI, without one the CONNECT host);
 *   m365_direct_tls  m365_direct and m365_direct_sni, for ssl_bump splice:
 *                    a connection is direct only if its destination and
 *                    its server name are, each on its own (DESIGN.md §3,
 *                    "Identity"), so a faked SNI never splices a foreign
 *                    destination and a foreign SNI never rides on a
 *                    Microsoft address.
 * The second is a file of its own because only OpenSSL builds of Squid
 * (squid-openssl) know ssl::server_name, and Squid stops on an unknown ACL
 * type.  Both read their values from DIR/m365-{direct,never}-{domains,
 * regex,ips}.txt; a value file with no entries is written but not used
 * (Squid warns about an empty ACL).
 *
 * How the answer stays exact (DESIGN.md §3, §5):
 * - dstdomain ".x" matches "x" too, and Squid 5 stops when one dstdomain
 *   entry covers another ("www.x" with ".x", "x" with ".x").  So "*.x"
 *   becomes ".x" only when "x" itself is matched by the same list, else the
 *   regex "\.x$"; an entry that another entry covers is left out, and so is
 *   the exact "x" next to ".x".
 * - Patterns dstdomain cannot express ("*cdn.x", "*-files.x", "a.*.x",
 *   "a?b") become regexes (dstdom_regex -i), anchored where the pattern is.
 * - never_direct wins: m365_direct is "all-of <direct entries> !m365_never".
 * - -n on every ACL: no DNS ever (dst would resolve names, dstdomain would
 *   look up the name of an address).
 * - The server name is an address only without an SNI (Squid then uses
 *   the CONNECT host, an address in interception mode too) or with an SNI
 *   that is an address, which RFC 6066 forbids.  ssl::server_name cannot
 *   tell the two apart nor match prefixes, so such a name counts as direct
 *   when the destination address is (m365_direct_sni_ips): an address SNI
 *   gets what a client without SNI gets, never more.  A server name that
 *   is a name never matches by the destination address.
 * - Prefixes go to "dst -n", none inside another (Squid warns and drops
 *   one of two overlapping entries).  IPv4 /0 is written as two /1: Squid
 *   reads "0.0.0.0/0" as every address, IPv6 too.
 * - The matcher answers an address from the prefixes only.  A pattern that
 *   could match the text of an address ("10.*", "*.5") is kept away from
 *   addresses by a guard ACL, written only when such a pattern exists.
 *
 * Limits: ports are not expressed (the header says so).  Squid takes the
 * unspecified addresses 0.0.0.0 and :: for no address at all and "dst"
 * never matches them, so they are never direct, even under a prefix that
 * holds them (only an extra_direct 0.0.0.0/N or ::/N can hold them).
 */
#include "export.h"
#include "host.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SQUID_CONF      "m365-direct.conf"
#define SQUID_SNI_CONF  "m365-direct-sni.conf"
#define SQUID_ACL_LIST  256     /* room for a list of our own ACL names */

/* One side of the decision, the direct entries or the never_direct ones,
 * as the contents of its three value files. */
struct squid_side {
	const char *name;               /* "direct" or "never" */
	struct buf domains, regex, ips;
	size_t n_domains, n_regex, n_ips;
	bool ip_like;                   /* a pattern may match an address */
};

/* How one kind of ACL names its parts. */
struct squid_flavour {
	const char *direct, *never;     /* the final ACL names */
	const char *domains_type;       /* "dstdomain -n", ... */
	const char *regex_type;
	const char *guard;              /* "the host is an address" */
	const char *guard_type;
	bool defines_ips;               /* the dst ACLs are defined here */
	bool ips_need_guard;            /* direct by dst only for an address */
};

static const struct squid_flavour flavour_http = {
	"m365_direct", "m365_never", "dstdomain -n", "dstdom_regex -n -i",
	"m365_ip_literal", "dstdom_regex -n", true, false
};

/* --client-requested: the name the client asked for (the SNI, without one
 * the CONNECT host) at every SslBump step, never the names in a server's
 * certificate, which whoever runs the server chooses. */
static const struct squid_flavour flavour_sni = {
	"m365_direct_sni", "m365_never_sni",
	"ssl::server_name --client-requested",
	"ssl::server_name_regex --client-requested -i", "m365_sni_ip_literal",
	"ssl::server_name_regex --client-requested", false, true
};

/* --- names ------------------------------------------------------------- */

static bool
has_glob(const char *p)
{
	return host_pattern_kind(p, NULL) != HOST_PATTERN_EXACT;
}

/* For a plain string-suffix pattern ("*S"), S; else NULL. */
static const char *
suffix_of(const char *p)
{
	const char *s = NULL;

	return host_pattern_kind(p, &s) == HOST_PATTERN_SUFFIX ? s : NULL;
}

static bool
ends_with(const char *s, const char *t)
{
	size_t ls = strlen(s), lt = strlen(t);

	return ls >= lt && memcmp(s + ls - lt, t, lt) == 0;
}

/* shExpMatch: the patterns hold only [a-z0-9_.-*?], where fnmatch without
 * flags means exactly that ('*' crosses dots, no special leading dot). */
static bool
glob_match(const char *pat, const char *host)
{
	return fnmatch(pat, host, 0) == 0;
}

static bool
list_matches(const struct export_name *v, size_t n, const char *host)
{
	for (size_t i = 0; i < n; i++)
		if (glob_match(v[i].pattern, host))
			return true;
	return false;
}

/* Whether every host v[i] matches is matched by another entry too.  An
 * exact name: some other pattern matches it.  A pattern: some "*T" ends
 * its literal tail (what follows its last wildcard) with T.  The second
 * test is only sufficient, which merely keeps an entry that is not needed;
 * it cannot loop, as "*T" covers only patterns with a longer tail. */
static bool
name_covered(const struct export_name *v, size_t n, size_t i)
{
	const char *p = v[i].pattern, *tail = p, *g;

	if (!has_glob(p)) {
		for (size_t j = 0; j < n; j++)
			if (j != i && glob_match(v[j].pattern, p))
				return true;
		return false;
	}
	while ((g = strpbrk(tail, "*?")) != NULL)
		tail = g + 1;
	for (size_t j = 0; j < n; j++) {
		const char *t = suffix_of(v[j].pattern);

		if (j != i && t != NULL && ends_with(tail, t))
			return true;
	}
	return false;
}

/* Whether "*.name" is in the list and written as the dstdomain ".name",
 * which covers "name" as well. */
static bool
dot_form_written(const struct export_name *v, size_t n, const bool *skip,
    const char *name)
{
	for (size_t j = 0; j < n; j++)
		if (!skip[j] && v[j].pattern[0] == '*' && v[j].pattern[1] == '.' &&
		    strcmp(v[j].pattern + 2, name) == 0)
			return true;
	return false;
}

/* Whether the pattern could match the text of an IP address.  After a
 * literal dot an address holds only digits and dots (an IPv6 literal has
 * dots only in its IPv4 tail); without a dot the pattern must match it
 * whole: hex digits, and ':' it cannot hold.  So: the text after the last
 * dot is digits and wildcards only, or with no dot hex digits and
 * wildcards only. */
static bool
pattern_ip_like(const char *p)
{
	const char *dot = strrchr(p, '.');
	const char *tail = dot != NULL ? dot + 1 : p;
	const char *ok = dot != NULL ? "0123456789*?" : "0123456789abcdef*?";

	return strspn(tail, ok) == strlen(tail);
}

/* Appends the POSIX extended regex for a pattern: anchored at the ends
 * that are literal, '*' ".*", '?' ".", the rest escaped. */
static void
add_regex(struct buf *b, const char *p)
{
	const char *s = p, *e = p + strlen(p);

	while (s < e && *s == '*')
		s++;
	while (e > s && e[-1] == '*')
		e--;
	if (s == e) {
		buf_add(b, ".\n", 2);    /* only '*': any name */
		return;
	}
	if (s == p)
		buf_add(b, "^", 1);
	for (const char *c = s; c < e; c++) {
		if (*c == '*')
			buf_add(b, ".*", 2);
		else if (*c == '?')
			buf_add(b, ".", 1);
		else if (strchr("\\^$.[]|()+{}", *c) != NULL)
			buf_printf(b, "\\%c", *c);
		else
			buf_add(b, c, 1);
	}
	if (*e == '\0')
		buf_add(b, "$", 1);
	buf_add(b, "\n", 1);
}

/* Writes one name to the domains or the regex values. */
static void
side_add_name(struct squid_side *s, const struct export_name *v, size_t n,
    const bool *skip, const char *p)
{
	const char *suffix = suffix_of(p);

	if (!has_glob(p)) {
		if (dot_form_written(v, n, skip, p))
			return;
		buf_printf(&s->domains, "%s\n", p);
		s->n_domains++;
	} else if (suffix != NULL && suffix[0] == '.' &&
	    list_matches(v, n, suffix + 1)) {
		/* "*.x" with "x" matched too: ".x" is exact */
		buf_printf(&s->domains, "%s\n", suffix);
		s->n_domains++;
	} else {
		add_regex(&s->regex, p);
		s->n_regex++;
	}
	if (pattern_ip_like(p))
		s->ip_like = true;
}

static int
side_add_names(struct squid_side *s, const struct export_name *v, size_t n)
{
	bool *skip = calloc(n ? n : 1, sizeof(*skip));

	if (skip == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		skip[i] = name_covered(v, n, i);
	for (size_t i = 0; i < n; i++)
		if (!skip[i])
			side_add_name(s, v, n, skip, v[i].pattern);
	free(skip);
	return 0;
}

/* --- prefixes ---------------------------------------------------------- */

/* Writes the prefixes none of which lies inside another: the entries are
 * sorted by address, shorter first, and CIDR prefixes either nest or are
 * disjoint, so an entry is covered exactly when the last one kept holds
 * its first address. */
static void
side_add_prefixes(struct squid_side *s, const struct export_prefix *v,
    size_t n)
{
	const struct export_prefix *kept = NULL;

	for (size_t i = 0; i < n; i++) {
		if (kept != NULL && prefix_contains(&kept->prefix, &v[i].prefix.addr))
			continue;
		kept = &v[i];
		if (v[i].prefix.v4 && v[i].prefix.len == 96) {
			buf_printf(&s->ips, "0.0.0.0/1\n128.0.0.0/1\n");
			s->n_ips += 2;
		} else {
			buf_printf(&s->ips, "%s\n", v[i].text);
			s->n_ips++;
		}
	}
}

/* --- files ------------------------------------------------------------- */

/* Makes dir (one level) when it is missing and writes its absolute path to
 * abs (PATH_MAX bytes).  The path goes into squid.conf between quotes, so
 * it may hold no quote, backslash, blank or control character. */
static int
squid_dir(const char *dir, char *abs, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) != 0 && (errno != ENOENT || mkdir(dir, 0755) != 0)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (realpath(dir, abs) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory (squid writes a "
		    "directory of files)", dir);
		return -1;
	}
	for (const unsigned char *c = (const unsigned char *)abs; *c; c++)
		if (*c <= ' ' || *c == '"' || *c == '\\' || *c == 0x7f) {
			snprintf(err, errlen, "%s: a path squid.conf can quote "
			    "holds no blank, quote or backslash", abs);
			return -1;
		}
	return 0;
}

/* Writes dir/name (PATH_MAX bytes) into path; -1 with err if too long. */
static int
squid_path(char *path, const char *dir, const char *name, char *err,
    size_t errlen)
{
	if ((size_t)snprintf(path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

/* Installs DIR/m365-SIDE-KIND.txt: the header, what it holds, the
 * values. */
static int
install_values(const struct export_ctx *x, const char *dir,
    const struct squid_side *s, const char *kind, const char *what,
    const struct buf *values, size_t n, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(EXPORT_MAX_BYTES);
	char path[PATH_MAX], name[64];
	int rc;

	snprintf(name, sizeof(name), "m365-%s-%s.txt", s->name, kind);
	if (squid_path(path, dir, name, err, errlen) != 0)
		return -1;
	export_buf_header(&b, x, "# ");
	buf_printf(&b, "#\n# The %s entries for %s and %s:\n# %s.\n"
	    "# %zu value%s%s\n", s->name, SQUID_CONF, SQUID_SNI_CONF, what, n,
	    n == 1 ? "" : "s", n == 0 ? " (so not used: Squid warns about an "
	    "empty ACL)." : ".");
	if (values->p != NULL)
		buf_add(&b, values->p, values->len);
	if (values->error != BUF_OK)
		b.error = values->error;
	rc = export_buf_install(&b, path, err, errlen);
	buf_free(&b);
	return rc;
}

static int
install_side(const struct export_ctx *x, const char *dir,
    const struct squid_side *s, char *err, size_t errlen)
{
	if (install_values(x, dir, s, "domains", "dstdomain and ssl::server_name "
	    "values, \"name\" for the name only, \".name\" for it and every "
	    "name under it", &s->domains, s->n_domains, err, errlen) != 0 ||
	    install_values(x, dir, s, "regex", "POSIX extended regexes, "
	    "case-insensitive, for what dstdomain cannot say exactly",
	    &s->regex, s->n_regex, err, errlen) != 0 ||
	    install_values(x, dir, s, "ips", "dst -n values, IPv4 and IPv6 "
	    "prefixes, none inside another", &s->ips, s->n_ips, err,
	    errlen) != 0)
		return -1;
	return 0;
}

/* --- the fragments ----------------------------------------------------- */

static void
list_append(char *list, const char *name)
{
	size_t len = strlen(list);

	snprintf(list + len, SQUID_ACL_LIST - len, "%s%s", len ? " " : "", name);
}

/* Writes the ACLs of one side, named after base, and puts the names that
 * together match its hosts into list (SQUID_ACL_LIST bytes).  Returns how
 * many there are. */
static size_t
emit_side(struct buf *b, const struct squid_flavour *f,
    const struct squid_side *s, const char *base, const char *dir,
    char *list)
{
	char names[SQUID_ACL_LIST] = "", acl[64];
	size_t n = 0;

	list[0] = '\0';
	if (s->n_domains) {
		buf_printf(b, "acl %s_domains %s \"%s/m365-%s-domains.txt\"\n",
		    base, f->domains_type, dir, s->name);
		snprintf(acl, sizeof(acl), "%s_domains", base);
		list_append(names, acl);
		n++;
	}
	if (s->n_regex) {
		buf_printf(b, "acl %s_regex %s \"%s/m365-%s-regex.txt\"\n",
		    base, f->regex_type, dir, s->name);
		snprintf(acl, sizeof(acl), "%s_regex", base);
		list_append(names, acl);
		n++;
	}
	if (n > 0 && s->ip_like) {
		/* a name pattern never matches an address (as in the matcher) */
		buf_printf(b, "acl %s_patterns any-of %s\n", base, names);
		buf_printf(b, "acl %s_names all-of %s_patterns !%s\n", base,
		    base, f->guard);
		snprintf(names, sizeof(names), "%s_names", base);
	}
	list_append(list, names);
	if (s->n_ips) {
		snprintf(acl, sizeof(acl), "m365_%s_ips", s->name);
		if (f->defines_ips)
			buf_printf(b, "acl %s dst -n \"%s/m365-%s-ips.txt\"\n",
			    acl, dir, s->name);
		if (f->ips_need_guard && strcmp(s->name, "direct") == 0) {
			/* a server name that is a name is judged as a name only:
			 * never let a direct address make a foreign SNI direct */
			buf_printf(b, "acl %s_ips all-of %s %s\n", base,
			    f->guard, acl);
			snprintf(acl, sizeof(acl), "%s_ips", base);
		}
		list_append(list, acl);
		n++;
	}
	return n;
}

/* Writes the ACLs of a flavour, ending with its final ACL f->direct. */
static void
emit_flavour(struct buf *b, const struct squid_flavour *f,
    const struct squid_side *direct, const struct squid_side *never,
    const char *dir)
{
	char dl[SQUID_ACL_LIST], nl[SQUID_ACL_LIST];
	size_t nd, nn;

	if (direct->ip_like || never->ip_like)
		buf_printf(b, "# A name pattern below could match the text "
		    "of an address; addresses are\n# matched by the prefixes "
		    "only:\nacl %s %s ^[0-9.]+$ :\n", f->guard, f->guard_type);
	else if (f->ips_need_guard && direct->n_ips)
		buf_printf(b, "# The server name is an address (no SNI and "
		    "a CONNECT to an address):\nacl %s %s ^[0-9.]+$ :\n",
		    f->guard, f->guard_type);
	nd = emit_side(b, f, direct, f->direct, dir, dl);
	nn = emit_side(b, f, never, f->never, dir, nl);
	if (nd == 0) {
		buf_printf(b, "# Nothing is direct: a never matching ACL.\n"
		    "acl %s all-of all !all\n", f->direct);
	} else if (nn == 0) {
		buf_printf(b, "acl %s any-of %s\n", f->direct, dl);
	} else {
		buf_printf(b, "acl %s any-of %s\n", f->never, nl);
		buf_printf(b, "acl %s_any any-of %s\n", f->direct, dl);
		buf_printf(b, "# never_direct wins.\n"
		    "acl %s all-of %s_any !%s\n", f->direct, f->direct, f->never);
	}
}

/* Writes one fragment: the header, intro (comment lines), the ACLs of
 * flavour f, then outro (NULL for none), to dir/name. */
static int
install_fragment(const struct export_ctx *x, const char *dir,
    const char *name, const struct squid_flavour *f, const char *intro,
    const char *outro, const struct squid_side *direct,
    const struct squid_side *never, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(EXPORT_MAX_BYTES);
	char path[PATH_MAX];
	int rc;

	export_buf_header(&b, x, "# ");
	buf_add(&b, intro, strlen(intro));
	emit_flavour(&b, f, direct, never, dir);
	if (outro != NULL)
		buf_add(&b, outro, strlen(outro));
	rc = squid_path(path, dir, name, err, errlen) != 0 ? -1 :
	    export_buf_install(&b, path, err, errlen);
	buf_free(&b);
	return rc;
}

static int
install_conf(const struct export_ctx *x, const char *dir,
    const struct squid_side *direct, const struct squid_side *never,
    char *err, size_t errlen)
{
	char intro[1024 + PATH_MAX];

	snprintf(intro, sizeof(intro), "#\n"
	    "# A squid.conf fragment.  It defines the ACL m365_direct: the "
	    "request's host\n"
	    "# (URL host, or CONNECT host for HTTPS) is direct.  Use, for "
	    "example:\n"
	    "#   include %s/%s\n"
	    "#   always_direct allow m365_direct\n"
	    "#   never_direct allow all\n"
	    "# Names are matched as written and addresses by prefix, never "
	    "through DNS.\n"
	    "# For \"ssl_bump splice\" by TLS server name include %s after "
	    "this\n"
	    "# file (Squid built with OpenSSL only).\n\n", dir, SQUID_CONF,
	    SQUID_SNI_CONF);
	return install_fragment(x, dir, SQUID_CONF, &flavour_http, intro, NULL,
	    direct, never, err, errlen);
}

static int
install_sni_conf(const struct export_ctx *x, const char *dir,
    const struct squid_side *direct, const struct squid_side *never,
    char *err, size_t errlen)
{
	char intro[2048 + 2 * PATH_MAX];

	snprintf(intro, sizeof(intro), "#\n"
	    "# A squid.conf fragment for Squid built with OpenSSL "
	    "(squid-openssl), to include\n"
	    "# after %s, whose m365_direct it uses.  It defines\n"
	    "#   m365_direct_sni  the TLS server name is direct: the SNI, "
	    "without one the\n"
	    "#                    CONNECT host (Squid's ssl::server_name); a "
	    "server name\n"
	    "#                    that is an address counts when the "
	    "destination address\n"
	    "#                    is direct;\n"
	    "#   m365_direct_tls  m365_direct and m365_direct_sni: the "
	    "destination AND the\n"
	    "#                    server name are direct, each on its own.  "
	    "Splice on this\n"
	    "#                    one: the SNI alone is whatever the client "
	    "writes, and\n"
	    "#                    splicing on it sends any destination "
	    "through uninspected.\n"
	    "# Use, for example:\n"
	    "#   include %s/%s\n"
	    "#   include %s/%s\n"
	    "#   acl step1 at_step SslBump1\n"
	    "#   ssl_bump peek step1\n"
	    "#   ssl_bump splice m365_direct_tls\n"
	    "#   ssl_bump bump all\n\n", SQUID_CONF, dir, SQUID_CONF, dir,
	    SQUID_SNI_CONF);
	return install_fragment(x, dir, SQUID_SNI_CONF, &flavour_sni, intro,
	    "# Direct only if every identity of the connection is: the "
	    "destination and\n# the server name.\n"
	    "acl m365_direct_tls all-of m365_direct m365_direct_sni\n",
	    direct, never, err, errlen);
}

static void
side_free(struct squid_side *s)
{
	buf_free(&s->domains);
	buf_free(&s->regex);
	buf_free(&s->ips);
}

int
export_squid(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen)
{
	const struct export_entries *e = &x->entries;
	struct squid_side direct = { .name = "direct",
	    .domains = BUF_INIT(EXPORT_MAX_BYTES),
	    .regex = BUF_INIT(EXPORT_MAX_BYTES),
	    .ips = BUF_INIT(EXPORT_MAX_BYTES) };
	struct squid_side never = { .name = "never",
	    .domains = BUF_INIT(EXPORT_MAX_BYTES),
	    .regex = BUF_INIT(EXPORT_MAX_BYTES),
	    .ips = BUF_INIT(EXPORT_MAX_BYTES) };
	char dir[PATH_MAX];
	int rc = -1;

	if (squid_dir(o->out, dir, err, errlen) != 0)
		return -1;
	if (side_add_names(&direct, e->names, e->n_names) != 0 ||
	    side_add_names(&never, e->never_names, e->n_never_names) != 0) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	side_add_prefixes(&direct, e->prefixes, e->n_prefixes);
	side_add_prefixes(&never, e->never_prefixes, e->n_never_prefixes);
	/* the values first, the fragments that use them last */
	if (install_side(x, dir, &direct, err, errlen) != 0 ||
	    install_side(x, dir, &never, err, errlen) != 0 ||
	    install_sni_conf(x, dir, &direct, &never, err, errlen) != 0 ||
	    install_conf(x, dir, &direct, &never, err, errlen) != 0)
		goto cleanup;
	rc = 0;
cleanup:
	side_free(&direct);
	side_free(&never);
	return rc;
}
