/* pac.c - the PAC file: FindProxyForURL() answers "DIRECT" for the direct
 * hosts and addresses and the --proxy string for everything else, as
 * "m365-direct check" answers without a port (DESIGN.md §3, §5).
 *
 * The file holds the entries as readable lists (the shExpMatch patterns as
 * the data writes them, the prefixes as CIDR text) and a small matcher in
 * plain ES3 JavaScript that compiles them once, when the file is loaded:
 *
 *  - the host is normalised as host.c does it: "[v6]" brackets removed,
 *    one trailing dot stripped, then an IP literal (not direct if it had
 *    the dot), else a host name (labels of 1..63 characters of
 *    [A-Za-z0-9_-], at most 253 in all, the last not a number as
 *    inet_aton reads one), lower-cased; anything else is not direct;
 *  - exact names are one object lookup, "*.suffix" patterns one lookup per
 *    dot of the host, other "*suffix" patterns (*cdn.onenote.net) a suffix
 *    compare each, patterns with an inner wildcard one precompiled RegExp;
 *    never_direct is tried first and wins;
 *  - IP literals (IPv4, IPv6, IPv4-mapped IPv6 as IPv4) are parsed by the
 *    file's own code into the 128-bit space of prefix.h, as a string of
 *    128 binary digits, and looked up once per prefix length in use.  No
 *    isInNet(), isInNetEx(), dnsResolve() or any other DNS resolution: IPv6
 *    literals work in every engine, not only in those with isInNetEx();
 *  - a host name is never resolved: it is direct by its name only, as in
 *    "check".
 *
 * At most 1 MiB (Chromium refuses larger PAC files): a larger file is an
 * error and nothing is written. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "matcher.h"
#include "parse.h"

#define PAC_MAX_BYTES (1024 * 1024)
#define PAC_PROXY_MAX 1024

/* The matcher of the file, after the lists.  Line by line: ISO C does not
 * promise string literals over 4095 characters. */
static const char *const pac_code[] = {
	"",
	"// --- the answer ----------------------------------------------------",
	"",
	"function FindProxyForURL(url, host) {",
	"\tvar h = host, ip, dot = false;",
	"",
	"\tif (h.length >= 2 && h.charAt(0) == \"[\" &&",
	"\t    h.charAt(h.length - 1) == \"]\") {",
	"\t\tip = m365Parse6(h.substring(1, h.length - 1));",
	"\t\treturn ip !== null && m365IsDirect(ip, m365NetIn) ?",
	"\t\t    \"DIRECT\" : M365_PROXY;",
	"\t}",
	"\tif (h.charAt(h.length - 1) == \".\") {",
	"\t\th = h.substring(0, h.length - 1);",
	"\t\tdot = true;",
	"\t}",
	"\t// an address with a trailing dot is a name to a resolver, and a",
	"\t// name ending in a number an address: neither is direct",
	"\tip = h.indexOf(\":\") >= 0 ? m365Parse6(h) : m365Parse4(h);",
	"\tif (ip !== null)",
	"\t\treturn !dot && m365IsDirect(ip, m365NetIn) ? \"DIRECT\" :",
	"\t\t    M365_PROXY;",
	"\tif (h.length > 253 || !M365_HOST.test(h) || M365_NUMBER.test(h))",
	"\t\treturn M365_PROXY;",
	"\treturn m365IsDirect(\".\" + h.toLowerCase(), m365NameIn) ?",
	"\t    \"DIRECT\" : M365_PROXY;",
	"}",
	"",
	"// Direct: a direct entry matches and no never_direct entry does.",
	"function m365IsDirect(key, isIn) {",
	"\treturn !isIn(m365NeverRules, key) && isIn(m365DirectRules, key);",
	"}",
	"",
	"// Whether a pattern of rules r matches h, a host name with a dot",
	"// put in front (\".outlook.office.com\").",
	"function m365NameIn(r, h) {",
	"\tvar i, s;",
	"",
	"\tif (r.exact[h] === true)",
	"\t\treturn true;",
	"\tfor (i = h.indexOf(\".\", 1); i > 0; i = h.indexOf(\".\", i + 1))",
	"\t\tif (r.dot[h.substring(i)] === true)",
	"\t\t\treturn true;",
	"\tfor (i = 0; i < r.ends.length; i++) {",
	"\t\ts = r.ends[i];",
	"\t\tif (h.length > s.length && h.substring(h.length - s.length) == s)",
	"\t\t\treturn true;",
	"\t}",
	"\treturn r.glob !== null && r.glob.test(h.substring(1));",
	"}",
	"",
	"// Whether a prefix of rules r holds the address with these bits: one",
	"// lookup per prefix length in use.",
	"function m365NetIn(r, bits) {",
	"\tfor (var i = 0; i < r.lens.length; i++)",
	"\t\tif (r.nets[bits.substring(0, r.lens[i])] === true)",
	"\t\t\treturn true;",
	"\treturn false;",
	"}",
	"",
	"// --- addresses: 128 bits as a string of 0 and 1; IPv4 a.b.c.d is",
	"// ::ffff:a.b.c.d, so IPv4-mapped IPv6 is IPv4 -------------------------",
	"",
	"// n in binary, width digits.",
	"function m365Bits(n, width) {",
	"\tvar s = n.toString(2);",
	"",
	"\treturn M365_ZEROS.substring(0, width - s.length) + s;",
	"}",
	"",
	"// Dotted-quad IPv4, no leading zeros; null when s is not one.",
	"function m365Parse4(s) {",
	"\tvar m = /^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$/.exec(s);",
	"\tvar bits = M365_MAPPED, i;",
	"",
	"\tif (m === null)",
	"\t\treturn null;",
	"\tfor (i = 1; i <= 4; i++) {",
	"\t\tif ((m[i].length > 1 && m[i].charAt(0) == \"0\") ||",
	"\t\t    parseInt(m[i], 10) > 255)",
	"\t\t\treturn null;",
	"\t\tbits += m365Bits(parseInt(m[i], 10), 8);",
	"\t}",
	"\treturn bits;",
	"}",
	"",
	"// IPv6 text (RFC 4291 2.2: hex groups, one \"::\", an IPv4 tail); null",
	"// when s is not one.",
	"function m365Parse6(s) {",
	"\tvar halves = s.split(\"::\"), head, tail;",
	"",
	"\tif (halves.length > 2)",
	"\t\treturn null;",
	"\thead = m365Groups(halves[0], halves.length == 1);",
	"\tif (halves.length == 1)",
	"\t\treturn head !== null && head.length == 128 ? head : null;",
	"\ttail = m365Groups(halves[1], true);",
	"\tif (head === null || tail === null ||",
	"\t    head.length + tail.length > 112)",
	"\t\treturn null;",
	"\treturn head + m365Bits(0, 128 - head.length - tail.length) + tail;",
	"}",
	"",
	"// The bits of the groups on one side of \"::\"; an IPv4 tail may end",
	"// the last side.",
	"function m365Groups(s, last) {",
	"\tvar parts = s == \"\" ? [] : s.split(\":\"), bits = \"\", i, v4;",
	"",
	"\tfor (i = 0; i < parts.length; i++) {",
	"\t\tif (last && i == parts.length - 1 && parts[i].indexOf(\".\") >= 0) {",
	"\t\t\tif ((v4 = m365Parse4(parts[i])) === null)",
	"\t\t\t\treturn null;",
	"\t\t\tbits += v4.substring(96);",
	"\t\t} else if (/^[0-9A-Fa-f]{1,4}$/.test(parts[i])) {",
	"\t\t\tbits += m365Bits(parseInt(parts[i], 16), 16);",
	"\t\t} else {",
	"\t\t\treturn null;",
	"\t\t}",
	"\t}",
	"\treturn bits;",
	"}",
	"",
	"// --- compiling the lists, once ---------------------------------------",
	"",
	"function m365Rules(names, nets) {",
	"\tvar r = { exact: {}, dot: {}, ends: [], glob: null, nets: {},",
	"\t    lens: [] };",
	"\tvar globs = [], seen = {}, i, p, rest, net, bits, len;",
	"",
	"\tfor (i = 0; i < names.length; i++) {",
	"\t\tp = names[i];",
	"\t\trest = p.charAt(0) == \"*\" ? p.substring(1) : p;",
	"\t\tif (/[*?]/.test(rest))",
	"\t\t\tglobs.push(p.replace(/\\./g, \"\\\\.\").replace(/\\*/g, \".*\")",
	"\t\t\t    .replace(/\\?/g, \".\"));",
	"\t\telse if (rest == p)",
	"\t\t\tr.exact[\".\" + p] = true;",
	"\t\telse if (rest.charAt(0) == \".\")",
	"\t\t\tr.dot[rest] = true;",
	"\t\telse",
	"\t\t\tr.ends.push(rest);",
	"\t}",
	"\tif (globs.length > 0)",
	"\t\tr.glob = new RegExp(\"^(?:\" + globs.join(\"|\") + \")$\");",
	"\tfor (i = 0; i < nets.length; i++) {",
	"\t\tnet = nets[i].split(\"/\");",
	"\t\tlen = parseInt(net[1], 10);",
	"\t\tif (net[0].indexOf(\":\") >= 0) {",
	"\t\t\tbits = m365Parse6(net[0]);",
	"\t\t} else {",
	"\t\t\tbits = m365Parse4(net[0]);",
	"\t\t\tlen += 96;",
	"\t\t}",
	"\t\tr.nets[bits.substring(0, len)] = true;",
	"\t\tif (seen[len] !== true) {",
	"\t\t\tr.lens.push(len);",
	"\t\t\tseen[len] = true;",
	"\t\t}",
	"\t}",
	"\treturn r;",
	"}",
	"",
	"var M365_HOST = /^[0-9A-Za-z_-]{1,63}(?:\\.[0-9A-Za-z_-]{1,63})*$/;",
	"var M365_NUMBER = /(?:^|\\.)(?:[0-9]+|0x[0-9a-f]*)$/i;",
	"var M365_ZEROS = \"00000000000000000000000000000000\";",
	"M365_ZEROS += M365_ZEROS + M365_ZEROS + M365_ZEROS;",
	"var M365_MAPPED = m365Bits(0xffff, 96);",
	"var m365NeverRules = m365Rules(M365_NEVER_NAMES, M365_NEVER_NETS);",
	"var m365DirectRules = m365Rules(M365_DIRECT_NAMES, M365_DIRECT_NETS);",
	NULL
};

/* Whether s needs no escaping in a JavaScript string: what host patterns
 * and prefix texts are made of.  Anything else would be a bug upstream,
 * refused rather than written into a script. */
static bool
js_plain(const char *s)
{
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_*?:/")] ==
	    '\0';
}

/* Checks one element of the --proxy string: "DIRECT", or a keyword, blanks
 * and host:port (a name, an IPv4 address or a bracketed IPv6 one).
 * Returns NULL or why it is wrong. */
static const char *
proxy_element(const char *s, size_t len)
{
	static const char *const keys[] = { "PROXY", "HTTPS", "HTTP", "SOCKS5",
	    "SOCKS4", "SOCKS" };
	static const char host_chars[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:";
	size_t k, host, colon;
	uint64_t port;

	if (len == 6 && strncasecmp(s, "DIRECT", 6) == 0)
		return NULL;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (len > strlen(keys[k]) && s[strlen(keys[k])] == ' ' &&
		    strncasecmp(s, keys[k], strlen(keys[k])) == 0)
			break;
	if (k == sizeof(keys) / sizeof(keys[0]))
		return "each element is DIRECT or PROXY|HTTPS|HTTP|SOCKS5|SOCKS4|"
		    "SOCKS host:port";
	host = strlen(keys[k]);
	host += strspn(s + host, " ");
	for (colon = len; colon > host && s[colon - 1] != ':'; colon--)
		;
	/* s[host .. colon - 1) is the host, s[colon .. len) the port */
	if (colon <= host + 1 || strspn(s + host, host_chars) < colon - 1 - host ||
	    parse_uint(s + colon, len - colon, 65535, &port) != 0 || port == 0)
		return "expected host:port after the keyword";
	return NULL;
}

/* Checks the --proxy string: elements separated by ';', each DIRECT or
 * "KEYWORD host:port", blanks around them.  A malformed string would make
 * browsers skip the proxy or fail, so it is refused. */
static const char *
proxy_check(const char *s)
{
	size_t total = strlen(s);

	if (total == 0 || total > PAC_PROXY_MAX)
		return "empty or too long";
	while (*s != '\0') {
		size_t len = strcspn(s, ";");
		const char *e = s, *why;

		while (len > 0 && *e == ' ')
			e++, len--;
		while (len > 0 && e[len - 1] == ' ')
			len--;
		if (len == 0)
			return "empty element";
		if ((why = proxy_element(e, len)) != NULL)
			return why;
		s = e + len;
		s += strspn(s, " ");
		if (*s == ';' && *++s == '\0')
			return "empty element";
	}
	return NULL;
}

static const char *
category_text(enum m365_category c)
{
	return c == M365_CAT_NONE ? "custom" : matcher_category_name(c);
}

/* Writes one element of a list: the text as a JavaScript string, with the
 * category that makes it direct as a comment (cat NULL: none).  Returns
 * -1 when the text would need escaping. */
static int
write_entry(struct buf *b, const char *text, bool last, const char *cat)
{
	if (!js_plain(text))
		return -1;
	buf_printf(b, "\t\"%s\"%s%s%s\n", text, last ? "" : ",",
	    cat != NULL ? " // " : "", cat != NULL ? cat : "");
	return 0;
}

/* Writes "var NAME = [...];" of the patterns; see write_entry. */
static int
write_names(struct buf *b, const char *var,
    const struct export_name *v, size_t n, bool categories)
{
	buf_printf(b, "var %s = [%s", var, n ? "\n" : "");
	for (size_t i = 0; i < n; i++)
		if (write_entry(b, v[i].pattern, i + 1 == n, categories ?
		    category_text(v[i].category) : NULL) != 0)
			return -1;
	buf_printf(b, "];\n");
	return 0;
}

static int
write_prefixes(struct buf *b, const char *var,
    const struct export_prefix *v, size_t n, bool categories)
{
	buf_printf(b, "var %s = [%s", var, n ? "\n" : "");
	for (size_t i = 0; i < n; i++)
		if (write_entry(b, v[i].text, i + 1 == n, categories ?
		    category_text(v[i].category) : NULL) != 0)
			return -1;
	buf_printf(b, "];\n");
	return 0;
}

/* Writes the four lists.  Returns 0, or -1 when an entry would need
 * escaping (a bug upstream: entries are checked host patterns and
 * canonical prefixes). */
static int
write_lists(struct buf *b, const struct export_entries *e)
{
	buf_printf(b, "// never_direct: never direct, whatever else "
	    "matches.\n");
	if (write_names(b, "M365_NEVER_NAMES", e->never_names, e->n_never_names,
	    false) != 0 || write_prefixes(b, "M365_NEVER_NETS",
	    e->never_prefixes, e->n_never_prefixes, false) != 0)
		return -1;
	buf_printf(b, "\n// Direct, with the category that makes each "
	    "direct (custom: extra_direct).\n");
	return write_names(b, "M365_DIRECT_NAMES", e->names, e->n_names, true) ||
	    write_prefixes(b, "M365_DIRECT_NETS", e->prefixes, e->n_prefixes,
	    true) ? -1 : 0;
}

static void
write_header(struct buf *b, const struct export_ctx *x,
    const struct export_opts *o)
{
	export_buf_header(b, x, "// ");
	buf_printf(b,
	    "//\n"
	    "// Proxy auto-config: FindProxyForURL() answers DIRECT for the names and\n"
	    "// addresses listed below and \"%s\" for\n"
	    "// everything else; never_direct entries win.  Names are matched as by\n"
	    "// shExpMatch(), case-insensitively, one trailing dot ignored.  IP\n"
	    "// literals (IPv4, IPv6, [IPv6], IPv4-mapped IPv6 as IPv4) are compared\n"
	    "// with the prefixes by this file's own code: no DNS resolution\n"
	    "// anywhere, and IPv6 works without isInNetEx().  A host is never\n"
	    "// resolved to find its address: a name is direct by its name only.\n"
	    "\n", o->proxy);
}

int
export_pac(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen)
{
	struct buf b = BUF_INIT(EXPORT_MAX_BYTES);
	const char *why;
	int rc = -1;

	if ((why = proxy_check(o->proxy)) != NULL) {
		snprintf(err, errlen, "--proxy \"%s\": %s", o->proxy, why);
		return -1;
	}
	write_header(&b, x, o);
	buf_printf(&b, "var M365_PROXY = \"%s\";\n\n", o->proxy);
	if (write_lists(&b, &x->entries) != 0) {
		snprintf(err, errlen, "an entry holds a character a PAC file "
		    "cannot take as it is");
		goto cleanup;
	}
	for (size_t i = 0; pac_code[i] != NULL; i++)
		buf_printf(&b, "%s\n", pac_code[i]);
	if (b.error == BUF_OK && b.len > PAC_MAX_BYTES) {
		snprintf(err, errlen, "%s: the PAC file would be %zu bytes, more "
		    "than the %d that browsers accept; nothing written", o->out,
		    b.len, PAC_MAX_BYTES);
		goto cleanup;
	}
	rc = export_buf_install(&b, o->out, err, errlen);
cleanup:
	buf_free(&b);
	return rc;
}
