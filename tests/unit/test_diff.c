/* test_diff.c - the change report between two endpoint data sets.
 *
 * Small inline cases pin the whole text report, byte for byte: what is the
 * same (set ids, entry order, port spellings, ports of lower categories, a
 * name in two sets, a service area's spelling) gives nothing; each kind of
 * change gives its line in its section, a change of only a set's required
 * flag or service area (what a policy's filters see) too.  Every case is
 * also run backwards, where added and removed and both sides of every
 * move, port and scope change swap, and each side against itself, which
 * must be empty.  The real files (tests/data/) are checked for facts read
 * off the JSON by hand, and every count and entry of the JSON report
 * against a brute-force recount that shares no code with the diff (linear
 * scans, port bitmaps, each service area's sets filtered one by one). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diff.h"

/* Parses json, written with ' for " to keep the tables readable. */
static struct m365_data *
parse_ok(const char *json)
{
	char err[512] = "", *text = strdup(json);
	struct m365_data *d;

	assert_non_null(text);
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	d = endpoints_parse(text, strlen(text), err, sizeof(err));
	free(text);
	if (d == NULL)
		fail_msg("endpoints_parse rejected test input: %s", err);
	return d;
}

/* The report printed as text (json false) or JSON, as a new string. */
static char *
render(const struct diff_report *d, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (json)
		diff_print_json(f, d);
	else
		diff_print_text(f, d);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static cJSON *
render_json(const struct diff_report *d)
{
	char *text = render(d, true);
	size_t len = strlen(text);
	cJSON *o;

	assert_true(len > 0 && text[len - 1] == '\n');
	o = cJSON_Parse(text);
	if (o == NULL)
		fail_msg("diff_print_json wrote invalid JSON: %.200s", text);
	free(text);
	return o;
}

static cJSON *
get(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		fail_msg("JSON report lacks \"%s\"", key);
	return v;
}

static size_t
get_count(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	assert_true(cJSON_IsNumber(v));
	assert_true(v->valuedouble >= 0);
	return (size_t)v->valuedouble;
}

static const char *
get_str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static const char *const cats[] = { "optimize", "allow", "default" };
#define N_CATS (sizeof(cats) / sizeof(cats[0]))

static const char *
cat_key(enum m365_category c)
{
	return c == M365_CAT_OPTIMIZE ? "optimize" : c == M365_CAT_ALLOW ?
	    "allow" : c == M365_CAT_DEFAULT ? "default" : "none";
}

/* --- the whole text report of small cases ---------------------------- */

struct text_case {
	const char *name;
	const char *old, *new;
	const char *text;               /* the whole report; "" when empty */
};

#define SUMMARY(opt, allow, dflt, tail) \
	"Optimize " opt "; Allow " allow "; Default " dflt "; " tail "\n"
#define NONE "+0 -0 names, +0 -0 prefixes"

static const struct text_case text_cases[] = {
	{ "identical",
	  "[{'id':1,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['outlook.office.com'],'ips':['52.96.0.0/14']}]",
	  "[{'id':1,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['outlook.office.com'],'ips':['52.96.0.0/14']}]",
	  "" },
	{ "renumbered set, entries reordered, ports and prefixes respelled",
	  "[{'id':1,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['a.example.com','b.example.com'],"
	  "'ips':['52.96.0.0/14','2603:1006::/40']}]",
	  "[{'id':42,'category':'Optimize','tcpPorts':'443, 80',"
	  "'urls':['B.Example.COM','a.example.com'],"
	  "'ips':['2603:1006:0:0::/40','52.96.0.0/14']}]",
	  "" },
	{ "a port list and a range of the same ports",
	  "[{'id':11,'category':'Optimize','udpPorts':'3478,3479,3480,3481',"
	  "'ips':['52.112.0.0/14']}]",
	  "[{'id':11,'category':'Optimize','udpPorts':'3478-3481',"
	  "'ips':['52.112.0.0/14']}]",
	  "" },
	{ "the same ports split over two sets of the category",
	  "[{'id':1,'category':'Allow','tcpPorts':'80,443',"
	  "'urls':['x.example.com']}]",
	  "[{'id':1,'category':'Allow','tcpPorts':'443',"
	  "'urls':['x.example.com']},"
	  "{'id':2,'category':'Allow','tcpPorts':'80',"
	  "'urls':['x.example.com']}]",
	  "" },
	{ "ports of a lower category do not count",
	  "[{'id':1,'category':'Optimize','tcpPorts':'443',"
	  "'urls':['x.example.com']},"
	  "{'id':2,'category':'Allow','tcpPorts':'25',"
	  "'urls':['x.example.com']}]",
	  "[{'id':1,'category':'Optimize','tcpPorts':'443',"
	  "'urls':['x.example.com']},"
	  "{'id':2,'category':'Allow','tcpPorts':'587','udpPorts':'443',"
	  "'urls':['x.example.com']}]",
	  "" },
	{ "a name added to an Allow set stays Optimize: no move",
	  "[{'id':1,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['outlook.office365.com']}]",
	  "[{'id':2,'category':'Allow','tcpPorts':'143,587',"
	  "'urls':['outlook.office365.com']},"
	  "{'id':1,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['outlook.office365.com']}]",
	  "" },
	{ "a set dropped whose entries other sets keep",
	  "[{'id':1,'category':'Allow','tcpPorts':'443',"
	  "'urls':['x.example.com','y.example.com']},"
	  "{'id':2,'category':'Allow','tcpPorts':'443',"
	  "'urls':['y.example.com']}]",
	  "[{'id':1,'category':'Allow','tcpPorts':'443',"
	  "'urls':['x.example.com','y.example.com']}]",
	  "" },
	{ "a name added under Optimize",
	  "[{'id':1,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['outlook.office.com']}]",
	  "[{'id':1,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['outlook.cloud.microsoft','outlook.office.com']}]",
	  SUMMARY("+1 -0 names, +0 -0 prefixes", NONE, NONE,
	      "0 moved, 0 port changes")
	  "Optimize names:\n"
	  "+ outlook.cloud.microsoft\n" },
	{ "a name removed under Allow",
	  "[{'id':22,'category':'Allow','tcpPorts':'443',"
	  "'urls':['*.skypeforbusiness.com','*.lync.com']}]",
	  "[{'id':22,'category':'Allow','tcpPorts':'443',"
	  "'urls':['*.lync.com']}]",
	  SUMMARY(NONE, "+0 -1 names, +0 -0 prefixes", NONE,
	      "0 moved, 0 port changes")
	  "Allow names:\n"
	  "- *.skypeforbusiness.com\n" },
	{ "names added and removed under Default, in byte order",
	  "[{'id':3,'category':'Default','tcpPorts':'443',"
	  "'urls':['m.example.com','k.example.com']}]",
	  "[{'id':3,'category':'Default','tcpPorts':'443',"
	  "'urls':['z.example.com','k.example.com','*.example.net',"
	  "'a.example.com']}]",
	  SUMMARY(NONE, NONE, "+3 -1 names, +0 -0 prefixes",
	      "0 moved, 0 port changes")
	  "Default names:\n"
	  "+ *.example.net\n"
	  "+ a.example.com\n"
	  "+ z.example.com\n"
	  "- m.example.com\n" },
	{ "prefixes added and removed: IPv4 first, by address, then length",
	  "[{'id':9,'category':'Allow','tcpPorts':'443',"
	  "'ips':['2a01:111:f400::/48','20.190.128.0/18']}]",
	  "[{'id':9,'category':'Allow','tcpPorts':'443',"
	  "'ips':['2603:1006::/48','104.146.128.0/17','2603:1006::/40',"
	  "'52.96.0.0/14','2603:1016::/36','13.107.6.152/31',"
	  "'20.190.128.0/18','::1/128','2603:1006::/100']}]",
	  SUMMARY(NONE, "+0 -0 names, +8 -1 prefixes", NONE,
	      "0 moved, 0 port changes")
	  "Allow prefixes:\n"
	  "+ 13.107.6.152/31\n"
	  "+ 52.96.0.0/14\n"
	  "+ 104.146.128.0/17\n"
	  "+ ::1/128\n"
	  "+ 2603:1006::/40\n"
	  "+ 2603:1006::/48\n"
	  "+ 2603:1006::/100\n"
	  "+ 2603:1016::/36\n"
	  "- 2a01:111:f400::/48\n" },
	{ "a move Allow -> Optimize",
	  "[{'id':12,'category':'Allow','tcpPorts':'80,443',"
	  "'urls':['teams.microsoft.com']}]",
	  "[{'id':7,'category':'Optimize','tcpPorts':'80,443',"
	  "'urls':['teams.microsoft.com']}]",
	  SUMMARY(NONE, NONE, NONE, "1 moved, 0 port changes")
	  "Moved:\n"
	  "~ teams.microsoft.com: Allow -> Optimize\n" },
	{ "a move of the highest of two categories",
	  "[{'id':1,'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'category':'Default','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'category':'Optimize','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'category':'Default','tcpPorts':'443','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "1 moved, 0 port changes")
	  "Moved:\n"
	  "~ x.example.com: Allow -> Optimize\n" },
	{ "a move with other ports: the move only",
	  "[{'id':1,'category':'Optimize','tcpPorts':'443','ips':['52.96.0.0/14']}]",
	  "[{'id':1,'category':'Default','tcpPorts':'80,443',"
	  "'urls':['other.example.com']},"
	  "{'id':2,'category':'Allow','tcpPorts':'25','ips':['52.96.0.0/14']}]",
	  SUMMARY(NONE, NONE, "+1 -0 names, +0 -0 prefixes",
	      "1 moved, 0 port changes")
	  "Default names:\n"
	  "+ other.example.com\n"
	  "Moved:\n"
	  "~ 52.96.0.0/14: Optimize -> Allow\n" },
	{ "a TCP port change",
	  "[{'id':70,'category':'Default','tcpPorts':'80,443',"
	  "'urls':['prod.msocdn.com']}]",
	  "[{'id':70,'category':'Default','tcpPorts':'443',"
	  "'urls':['prod.msocdn.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 1 port change")
	  "Ports:\n"
	  "~ prod.msocdn.com (Default): tcp 80,443 -> 443\n" },
	{ "a UDP port change",
	  "[{'id':11,'category':'Optimize','ips':['52.112.0.0/14']}]",
	  "[{'id':11,'category':'Optimize','udpPorts':'3478, 3479, 3480, 3481',"
	  "'ips':['52.112.0.0/14']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 1 port change")
	  "Ports:\n"
	  "~ 52.112.0.0/14 (Optimize): udp - -> 3478-3481\n" },
	{ "TCP and UDP port changes",
	  "[{'id':1,'category':'Optimize','tcpPorts':'80,443','udpPorts':'443',"
	  "'urls':['outlook.office365.com']}]",
	  "[{'id':1,'category':'Optimize','tcpPorts':'443',"
	  "'urls':['outlook.office365.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 1 port change")
	  "Ports:\n"
	  "~ outlook.office365.com (Optimize): tcp 80,443 -> 443; udp 443 -> -\n" },
	{ "ports merged and written in order: a,b for two, a-b for more",
	  "[{'id':1,'category':'Allow','tcpPorts':'80','urls':['x.example.com']}]",
	  "[{'id':1,'category':'Allow','tcpPorts':'443,80-81,2-3,1',"
	  "'urls':['x.example.com']},"
	  "{'id':2,'category':'Allow','tcpPorts':'444,65535',"
	  "'urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 1 port change")
	  "Ports:\n"
	  "~ x.example.com (Allow): tcp 80 -> 1-3,80,81,443,444,65535\n" },
	/* what a service_areas filter or required_only sees */
	{ "a set's required flag only",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Optimize','tcpPorts':'443','urls':['outlook.office.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':false,"
	  "'category':'Optimize','tcpPorts':'443','urls':['outlook.office.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ outlook.office.com (Optimize): required yes -> no\n" },
	{ "a set's service area only",
	  "[{'id':5,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','ips':['40.96.0.0/13']}]",
	  "[{'id':5,'serviceArea':'Skype','required':true,"
	  "'category':'Allow','tcpPorts':'443','ips':['40.96.0.0/13']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ 40.96.0.0/13 (Allow): service area Exchange -> Skype\n" },
	{ "an entry leaves one of its service areas",
	  "[{'id':1,'serviceArea':'Skype','required':true,'category':'Default',"
	  "'tcpPorts':'443','urls':['amp.azure.net']},"
	  "{'id':2,'serviceArea':'Common','required':true,'category':'Default',"
	  "'tcpPorts':'443','urls':['amp.azure.net']}]",
	  "[{'id':2,'serviceArea':'Common','required':true,'category':'Default',"
	  "'tcpPorts':'443','urls':['amp.azure.net']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ amp.azure.net (Default): service area Common, Skype -> Common\n" },
	{ "a lower category in another service area",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Optimize','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Optimize','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':true,"
	  "'category':'Default','tcpPorts':'443','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Optimize): service area Common (Allow; tcp 443; "
	  "udp -), Exchange -> Common (Default; tcp 443; udp -), Exchange\n" },
	{ "one of two service areas falls to a lower category",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':true,"
	  "'category':'Default','tcpPorts':'443','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Allow): service area Common, Exchange -> "
	  "Common (Default; tcp 443; udp -), Exchange\n" },
	{ "other ports in another service area",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443,80','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443,80','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':true,"
	  "'category':'Allow','tcpPorts':'80','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Allow): service area Common (Allow; tcp 443; "
	  "udp -), Exchange -> Common (Allow; tcp 80; udp -), Exchange\n" },
	{ "required in one service area of two",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Common','required':false,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Allow): required yes -> Common no, Exchange yes\n" },
	{ "the required sets of an area give fewer ports",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'80','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Exchange','required':false,"
	  "'category':'Allow','tcpPorts':'80','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Allow): required yes -> Exchange (Allow; tcp 443; "
	  "udp -)\n" },
	{ "the required sets of an area give other ports",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Exchange','required':false,"
	  "'category':'Allow','tcpPorts':'80','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':false,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'80','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Allow): required Exchange (Allow; tcp 443; udp -) "
	  "-> Exchange (Allow; tcp 80; udp -)\n" },
	{ "the required sets of an area give a lower category",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Exchange','required':true,"
	  "'category':'Default','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':false,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'Exchange','required':true,"
	  "'category':'Default','tcpPorts':'443','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Allow): required yes -> Exchange (Default; tcp 443; "
	  "udp -)\n" },
	{ "a service area spelt otherwise, a set not required next to a "
	  "required one: nothing any policy sees",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'EXCHANGE','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']},"
	  "{'id':2,'serviceArea':'exchange','required':false,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  "" },
	{ "a port change and a scope change: both",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'587','urls':['smtp.office365.com']}]",
	  "[{'id':1,'serviceArea':'Exchange','required':false,"
	  "'category':'Allow','tcpPorts':'143, 587, 993, 995',"
	  "'urls':['smtp.office365.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 1 port change")
	  "Ports:\n"
	  "~ smtp.office365.com (Allow): tcp 587 -> 143,587,993,995\n"
	  "Service areas and required:\n"
	  "~ smtp.office365.com (Allow): required yes -> no\n" },
	{ "a move: the move only",
	  "[{'id':1,'serviceArea':'Exchange','required':true,"
	  "'category':'Allow','tcpPorts':'443','urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Skype','required':false,"
	  "'category':'Optimize','tcpPorts':'443','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "1 moved, 0 port changes")
	  "Moved:\n"
	  "~ x.example.com: Allow -> Optimize\n" },
	{ "service area and required at once; no service area",
	  "[{'id':1,'required':false,'category':'Default','tcpPorts':'443',"
	  "'urls':['x.example.com']}]",
	  "[{'id':1,'serviceArea':'Common','required':true,'category':'Default',"
	  "'tcpPorts':'443','urls':['x.example.com']}]",
	  SUMMARY(NONE, NONE, NONE, "0 moved, 0 port changes")
	  "Service areas and required:\n"
	  "~ x.example.com (Default): service area - -> Common; "
	  "required no -> yes\n" },
	{ "every section, in order",
	  "[{'id':1,'category':'Optimize','tcpPorts':'443',"
	  "'urls':['o-gone.example.com','p.example.com'],"
	  "'ips':['52.96.0.0/14']},"
	  "{'id':2,'category':'Allow','tcpPorts':'443',"
	  "'urls':['a-gone.example.com','m.example.com'],"
	  "'ips':['2603:1006::/40','40.96.0.0/13']},"
	  "{'id':3,'category':'Default','tcpPorts':'443',"
	  "'urls':['d-gone.example.com']}]",
	  "[{'id':1,'category':'Optimize','tcpPorts':'443','udpPorts':'443',"
	  "'urls':['o-new.example.com','p.example.com','m.example.com'],"
	  "'ips':['13.107.6.152/31']},"
	  "{'id':2,'category':'Allow','tcpPorts':'443',"
	  "'urls':['a-new.example.com'],"
	  "'ips':['2603:1006::/40','52.96.0.0/14']},"
	  "{'id':3,'category':'Default','tcpPorts':'443',"
	  "'urls':['d-new.example.com']}]",
	  SUMMARY("+1 -1 names, +1 -0 prefixes",
	      "+1 -1 names, +0 -1 prefixes", "+1 -1 names, +0 -0 prefixes",
	      "2 moved, 1 port change")
	  "Optimize names:\n"
	  "+ o-new.example.com\n"
	  "- o-gone.example.com\n"
	  "Optimize prefixes:\n"
	  "+ 13.107.6.152/31\n"
	  "Allow names:\n"
	  "+ a-new.example.com\n"
	  "- a-gone.example.com\n"
	  "Allow prefixes:\n"
	  "- 40.96.0.0/13\n"
	  "Default names:\n"
	  "+ d-new.example.com\n"
	  "- d-gone.example.com\n"
	  "Moved:\n"
	  "~ m.example.com: Allow -> Optimize\n"
	  "~ 52.96.0.0/14: Optimize -> Allow\n"
	  "Ports:\n"
	  "~ p.example.com (Optimize): udp - -> 443\n" },
};

#define EVERY_SECTION (&text_cases[sizeof(text_cases) / \
	sizeof(text_cases[0]) - 1])

static struct diff_report *
diff_texts(const char *old, const char *new)
{
	struct m365_data *a = parse_ok(old), *b = parse_ok(new);
	struct diff_report *d = diff_compute(a, b);

	assert_non_null(d);
	endpoints_free(a);
	endpoints_free(b);                  /* the report keeps nothing */
	return d;
}

static void
test_text(void **state)
{
	const struct text_case *c = *state;
	struct diff_report *d = diff_texts(c->old, c->new);
	char *text = render(d, false);

	assert_string_equal(text, c->text);
	assert_true(diff_is_empty(d) == (c->text[0] == '\0'));
	free(text);
	diff_free(d);
}

/* Each side against itself: nothing, in text and in JSON. */
static void
test_self(void **state)
{
	const struct text_case *c = *state;
	const char *sides[] = { c->old, c->new };

	for (size_t i = 0; i < 2; i++) {
		struct diff_report *d = diff_texts(sides[i], sides[i]);
		char *text = render(d, false);
		cJSON *o = render_json(d);

		assert_true(diff_is_empty(d));
		assert_string_equal(text, "");
		assert_int_equal(get_count(get(o, "summary"), "moved"), 0);
		assert_int_equal(cJSON_GetArraySize(get(o, "ports")), 0);
		assert_int_equal(cJSON_GetArraySize(get(o, "scope")), 0);
		cJSON_Delete(o);
		free(text);
		diff_free(d);
	}
}

/* --- JSON ---------------------------------------------------------------- */

/* Whether every "names" and "prefixes" list of a and b are equal. */
static void
assert_lists_equal(const cJSON *a, const cJSON *b)
{
	static const char *const kinds[] = { "names", "prefixes" };

	for (size_t k = 0; k < N_CATS; k++)
		for (size_t j = 0; j < 2; j++)
			assert_true(cJSON_Compare(get(get(a, cats[k]), kinds[j]),
			    get(get(b, cats[k]), kinds[j]), true));
}

/* Whether change o of the report equals r with "from" and "to" swapped
 * (of o itself for a move, of its "tcp" and "udp" for a port change). */
static bool
change_is_reversed(const cJSON *o, const cJSON *r)
{
	static const char *const protos[] = { "tcp", "udp" };
	cJSON *swapped = cJSON_Duplicate(r, true);
	bool same;

	assert_non_null(swapped);
	for (int i = -1; i < 2; i++) {
		cJSON *p = i < 0 ? swapped : cJSON_GetObjectItemCaseSensitive(
		    swapped, protos[i]);
		cJSON *from = cJSON_GetObjectItemCaseSensitive(p, "from");
		cJSON *to = cJSON_GetObjectItemCaseSensitive(p, "to");

		if (from != NULL && to != NULL) {
			char *t = from->valuestring;

			from->valuestring = to->valuestring;
			to->valuestring = t;
		}
	}
	same = cJSON_Compare(o, swapped, true);
	cJSON_Delete(swapped);
	return same;
}

static void
assert_changes_reversed(const cJSON *a, const cJSON *b)
{
	assert_int_equal(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
	for (int i = 0; i < cJSON_GetArraySize(a); i++)
		assert_true(change_is_reversed(cJSON_GetArrayItem(a, i),
		    cJSON_GetArrayItem(b, i)));
}

/* Whether scope change o equals r with its two sides swapped. */
static bool
scope_is_reversed(const cJSON *o, const cJSON *r)
{
	cJSON *swapped = cJSON_Duplicate(r, true);
	cJSON *from, *to;
	bool same;

	assert_non_null(swapped);
	from = cJSON_DetachItemFromObjectCaseSensitive(swapped, "from");
	to = cJSON_DetachItemFromObjectCaseSensitive(swapped, "to");
	assert_non_null(from);
	assert_non_null(to);
	cJSON_AddItemToObject(swapped, "from", to);
	cJSON_AddItemToObject(swapped, "to", from);
	same = cJSON_Compare(o, swapped, false);
	cJSON_Delete(swapped);
	return same;
}

static void
assert_scopes_reversed(const cJSON *a, const cJSON *b)
{
	assert_int_equal(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
	for (int i = 0; i < cJSON_GetArraySize(a); i++)
		assert_true(scope_is_reversed(cJSON_GetArrayItem(a, i),
		    cJSON_GetArrayItem(b, i)));
}

/* NEW -> OLD is OLD -> NEW with added and removed, from and to swapped. */
static void
assert_reversed(const struct m365_data *a, const struct m365_data *b)
{
	struct diff_report *fwd = diff_compute(a, b), *rev = diff_compute(b, a);
	cJSON *f, *r;

	assert_non_null(fwd);
	assert_non_null(rev);
	f = render_json(fwd);
	r = render_json(rev);
	assert_true(diff_is_empty(fwd) == diff_is_empty(rev));
	assert_lists_equal(get(f, "added"), get(r, "removed"));
	assert_lists_equal(get(f, "removed"), get(r, "added"));
	assert_changes_reversed(get(f, "moved"), get(r, "moved"));
	assert_changes_reversed(get(f, "ports"), get(r, "ports"));
	assert_scopes_reversed(get(f, "scope"), get(r, "scope"));
	cJSON_Delete(f);
	cJSON_Delete(r);
	diff_free(fwd);
	diff_free(rev);
}

static void
test_reversed(void **state)
{
	const struct text_case *c = *state;
	struct m365_data *a = parse_ok(c->old), *b = parse_ok(c->new);

	assert_reversed(a, b);
	endpoints_free(a);
	endpoints_free(b);
}

static void
assert_strings(const cJSON *arr, const char *const *want, size_t n)
{
	assert_true(cJSON_IsArray(arr));
	assert_int_equal(cJSON_GetArraySize(arr), n);
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetArrayItem(arr, (int)i);

		assert_true(cJSON_IsString(v));
		assert_string_equal(v->valuestring, want[i]);
	}
}

/* The documented shape, every key present, on the every-section case. */
static void
test_json_shape(void **state)
{
	static const char *const o_new[] = { "o-new.example.com" };
	static const char *const o_gone[] = { "o-gone.example.com" };
	static const char *const o_pfx[] = { "13.107.6.152/31" };
	static const char *const a_gone_pfx[] = { "40.96.0.0/13" };
	struct diff_report *d = diff_texts(EVERY_SECTION->old,
	    EVERY_SECTION->new);
	cJSON *o = render_json(d), *s, *m, *p;

	(void)state;
	assert_int_equal(cJSON_GetArraySize(o), 6);
	assert_int_equal(cJSON_GetArraySize(get(o, "scope")), 0);
	s = get(o, "summary");
	assert_int_equal(get_count(s, "scope"), 0);
	assert_int_equal(get_count(get(s, "optimize"), "names_added"), 1);
	assert_int_equal(get_count(get(s, "optimize"), "names_removed"), 1);
	assert_int_equal(get_count(get(s, "optimize"), "prefixes_added"), 1);
	assert_int_equal(get_count(get(s, "optimize"), "prefixes_removed"), 0);
	assert_int_equal(get_count(get(s, "allow"), "prefixes_removed"), 1);
	assert_int_equal(get_count(get(s, "default"), "names_added"), 1);
	assert_int_equal(get_count(s, "moved"), 2);
	assert_int_equal(get_count(s, "ports"), 1);
	assert_strings(get(get(get(o, "added"), "optimize"), "names"), o_new, 1);
	assert_strings(get(get(get(o, "removed"), "optimize"), "names"),
	    o_gone, 1);
	assert_strings(get(get(get(o, "added"), "optimize"), "prefixes"),
	    o_pfx, 1);
	assert_strings(get(get(get(o, "removed"), "allow"), "prefixes"),
	    a_gone_pfx, 1);
	assert_strings(get(get(get(o, "added"), "default"), "prefixes"), NULL,
	    0);
	m = get(o, "moved");
	assert_int_equal(cJSON_GetArraySize(m), 2);
	assert_string_equal(get_str(cJSON_GetArrayItem(m, 0), "entry"),
	    "m.example.com");
	assert_string_equal(get_str(cJSON_GetArrayItem(m, 0), "kind"), "name");
	assert_string_equal(get_str(cJSON_GetArrayItem(m, 0), "from"), "allow");
	assert_string_equal(get_str(cJSON_GetArrayItem(m, 0), "to"),
	    "optimize");
	assert_string_equal(get_str(cJSON_GetArrayItem(m, 1), "kind"),
	    "prefix");
	p = cJSON_GetArrayItem(get(o, "ports"), 0);
	assert_string_equal(get_str(p, "entry"), "p.example.com");
	assert_string_equal(get_str(p, "category"), "optimize");
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "tcp"));
	assert_string_equal(get_str(get(p, "udp"), "from"), "");
	assert_string_equal(get_str(get(p, "udp"), "to"), "443");
	cJSON_Delete(o);
	diff_free(d);
}

/* An empty report still has every key: zero counts, empty lists. */
static void
test_json_empty(void **state)
{
	const struct text_case *c = &text_cases[0];
	struct diff_report *d = diff_texts(c->old, c->new);
	cJSON *o = render_json(d);
	static const char *const sides[] = { "added", "removed" };

	(void)state;
	for (size_t k = 0; k < N_CATS; k++) {
		const cJSON *s = get(get(o, "summary"), cats[k]);

		assert_int_equal(get_count(s, "names_added") +
		    get_count(s, "names_removed") +
		    get_count(s, "prefixes_added") +
		    get_count(s, "prefixes_removed"), 0);
		for (size_t i = 0; i < 2; i++) {
			assert_strings(get(get(get(o, sides[i]), cats[k]),
			    "names"), NULL, 0);
			assert_strings(get(get(get(o, sides[i]), cats[k]),
			    "prefixes"), NULL, 0);
		}
	}
	assert_strings(get(o, "moved"), NULL, 0);
	assert_strings(get(o, "ports"), NULL, 0);
	assert_strings(get(o, "scope"), NULL, 0);
	assert_int_equal(get_count(get(o, "summary"), "scope"), 0);
	cJSON_Delete(o);
	diff_free(d);
}

/* The text case named name. */
static const struct text_case *
text_case(const char *name)
{
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++)
		if (strcmp(text_cases[i].name, name) == 0)
			return &text_cases[i];
	fail_msg("no text case \"%s\"", name);
	return NULL;
}

/* Area i of a side of a scope change: its name, view and required view
 * ("" category for null). */
static void
assert_area(const cJSON *side, int i, const char *area, const char *cat,
    const char *tcp, const char *req_cat, const char *req_tcp)
{
	const cJSON *a = cJSON_GetArrayItem(side, i), *r;

	assert_non_null(a);
	assert_string_equal(get_str(a, "service_area"), area);
	assert_string_equal(get_str(a, "category"), cat);
	assert_string_equal(get_str(a, "tcp"), tcp);
	assert_string_equal(get_str(a, "udp"), "");
	r = get(a, "required");
	if (req_cat[0] == '\0') {
		assert_true(cJSON_IsNull(r));
		return;
	}
	assert_string_equal(get_str(r, "category"), req_cat);
	assert_string_equal(get_str(r, "tcp"), req_tcp);
	assert_string_equal(get_str(r, "udp"), "");
}

/* A scope change in JSON: both sides whole, each area with what its sets
 * and its required sets give (null: none required). */
static void
test_json_scope(void **state)
{
	const struct text_case *c = text_case("a lower category in another "
	    "service area");
	struct diff_report *d = diff_texts(c->old, c->new);
	cJSON *o = render_json(d), *sc, *from, *to;

	(void)state;
	assert_int_equal(get_count(get(o, "summary"), "scope"), 1);
	assert_int_equal(get_count(get(o, "summary"), "ports"), 0);
	assert_int_equal(cJSON_GetArraySize(get(o, "ports")), 0);
	sc = get(o, "scope");
	assert_int_equal(cJSON_GetArraySize(sc), 1);
	sc = cJSON_GetArrayItem(sc, 0);
	assert_string_equal(get_str(sc, "entry"), "x.example.com");
	assert_string_equal(get_str(sc, "kind"), "name");
	assert_string_equal(get_str(sc, "category"), "optimize");
	from = get(sc, "from");
	to = get(sc, "to");
	assert_int_equal(cJSON_GetArraySize(from), 2);
	assert_int_equal(cJSON_GetArraySize(to), 2);
	assert_area(from, 0, "Common", "allow", "443", "allow", "443");
	assert_area(from, 1, "Exchange", "optimize", "443", "optimize", "443");
	assert_area(to, 0, "Common", "default", "443", "default", "443");
	assert_area(to, 1, "Exchange", "optimize", "443", "optimize", "443");
	cJSON_Delete(o);
	diff_free(d);

	c = text_case("the required sets of an area give fewer ports");
	d = diff_texts(c->old, c->new);
	o = render_json(d);
	sc = cJSON_GetArrayItem(get(o, "scope"), 0);
	assert_non_null(sc);
	assert_area(get(sc, "from"), 0, "Exchange", "allow", "80,443", "allow",
	    "80,443");
	assert_area(get(sc, "to"), 0, "Exchange", "allow", "80,443", "allow",
	    "443");
	cJSON_Delete(o);
	diff_free(d);

	c = text_case("a set's required flag only");
	d = diff_texts(c->old, c->new);
	o = render_json(d);
	sc = cJSON_GetArrayItem(get(o, "scope"), 0);
	assert_non_null(sc);
	assert_string_equal(get_str(sc, "kind"), "name");
	assert_area(get(sc, "from"), 0, "Exchange", "optimize", "443",
	    "optimize", "443");
	assert_area(get(sc, "to"), 0, "Exchange", "optimize", "443", "", "");
	cJSON_Delete(o);
	diff_free(d);
}

/* --- edges outside what the loader makes ------------------------------- */

static void
test_edges(void **state)
{
	struct m365_data none = { NULL, 0 };
	struct m365_set huge = { .id = 1, .category = M365_CAT_ALLOW,
		.n_urls = M365_DATA_MAX_URLS + M365_DATA_MAX_IPS + 1 };
	struct m365_data big = { &huge, 1 };
	struct diff_report *d;
	char *text;

	(void)state;
	diff_free(NULL);
	d = diff_compute(&none, &none);
	assert_non_null(d);
	assert_true(diff_is_empty(d));
	text = render(d, false);
	assert_string_equal(text, "");
	free(text);
	diff_free(d);
	/* beyond the loader's bounds: refused before any entry is read */
	assert_null(diff_compute(&big, &none));
	assert_null(diff_compute(&none, &big));
}

/* --- the real files: a brute-force recount ----------------------------- */

struct bf_counts {
	size_t list[2][N_CATS][2];      /* [added][category][prefix] */
	size_t moved, ports, scope;
};

static bool
set_lists(const struct m365_set *s, const char *text, bool prefix)
{
	char *const *v = prefix ? s->ip_texts : s->urls;
	size_t n = prefix ? s->n_ips : s->n_urls;

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], text) == 0)
			return true;
	return false;
}

/* The highest category of the sets of d listing the entry. */
static enum m365_category
bf_category(const struct m365_data *d, const char *text, bool prefix)
{
	enum m365_category c = M365_CAT_NONE;

	for (size_t i = 0; i < d->n_sets; i++)
		if (d->sets[i].category > c && set_lists(&d->sets[i], text,
		    prefix))
			c = d->sets[i].category;
	return c;
}

#define PORT_BITS (65536 / 8)

static void
bits_add(unsigned char *bits, const struct m365_ports *p)
{
	for (size_t i = 0; i < p->n; i++)
		for (unsigned port = p->ranges[i].lo; port <= p->ranges[i].hi;
		    port++)
			bits[port / 8] |= (unsigned char)(1u << (port % 8));
}

/* The union of the TCP (or UDP) ports of the sets of category c listing
 * the entry, as a bitmap. */
static void
bf_ports(const struct m365_data *d, const char *text, bool prefix,
    enum m365_category c, bool udp, unsigned char *bits)
{
	memset(bits, 0, PORT_BITS);
	for (size_t i = 0; i < d->n_sets; i++)
		if (d->sets[i].category == c && set_lists(&d->sets[i], text,
		    prefix))
			bits_add(bits, udp ? &d->sets[i].udp : &d->sets[i].tcp);
}

/* The bitmap of a port list of the report. */
static void
bits_of(const char *list, unsigned char *bits)
{
	struct m365_ports p;
	const char *why;

	memset(bits, 0, PORT_BITS);
	if (endpoints_parse_ports(list, &p, &why) != 0)
		fail_msg("bad port list \"%s\" in the report: %s", list, why);
	bits_add(bits, &p);
	free(p.ranges);
}

static int
cat_slot(enum m365_category c)
{
	return c == M365_CAT_OPTIMIZE ? 0 : c == M365_CAT_ALLOW ? 1 : 2;
}

/* The element of arr whose "entry" is text, or NULL. */
static const cJSON *
find_entry(const cJSON *arr, const char *text, bool prefix)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, arr) {
		if (strcmp(get_str(v, "entry"), text) == 0) {
			assert_string_equal(get_str(v, "kind"),
			    prefix ? "prefix" : "name");
			return v;
		}
	}
	return NULL;
}

static bool
list_has(const cJSON *arr, const char *text)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, arr)
		if (cJSON_IsString(v) && strcmp(v->valuestring, text) == 0)
			return true;
	return false;
}

/* Checks one protocol of a port change: present iff the ports differ,
 * and then naming exactly the old and new ports. */
static bool
check_proto(const cJSON *change, const char *proto, const unsigned char *a,
    const unsigned char *b)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(change, proto);
	unsigned char got[PORT_BITS];
	bool differs = memcmp(a, b, PORT_BITS) != 0;

	if (!differs) {
		assert_null(p);
		return false;
	}
	if (p == NULL)
		fail_msg("port change lacks \"%s\"", proto);
	bits_of(get_str(p, "from"), got);
	assert_memory_equal(got, a, PORT_BITS);
	bits_of(get_str(p, "to"), got);
	assert_memory_equal(got, b, PORT_BITS);
	return true;
}

/* Whether the ports of the entry (category c in both) changed; if so,
 * checks the report has the change. */
static bool
check_ports(const cJSON *report, const struct m365_data *a,
    const struct m365_data *b, const char *text, bool prefix,
    enum m365_category c)
{
	static unsigned char ta[PORT_BITS], tb[PORT_BITS], ua[PORT_BITS],
	    ub[PORT_BITS];
	const cJSON *change;
	bool tcp, udp;

	bf_ports(a, text, prefix, c, false, ta);
	bf_ports(b, text, prefix, c, false, tb);
	bf_ports(a, text, prefix, c, true, ua);
	bf_ports(b, text, prefix, c, true, ub);
	change = find_entry(get(report, "ports"), text, prefix);
	if (memcmp(ta, tb, PORT_BITS) == 0 && memcmp(ua, ub, PORT_BITS) == 0) {
		assert_null(change);
		return false;
	}
	if (change == NULL)
		fail_msg("port change of %s not reported", text);
	assert_string_equal(get_str(change, "category"), cat_key(c));
	tcp = check_proto(change, "tcp", ta, tb);
	udp = check_proto(change, "udp", ua, ub);
	assert_true(tcp || udp);
	return true;
}

/* --- the scope, brute force: every service area's sets, one by one --- */

/* Whether two service area names are one, as the policy compares them
 * (ASCII letters in either case). */
static bool
bf_same_area(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

struct bf_view {
	enum m365_category cat;
	unsigned char tcp[PORT_BITS], udp[PORT_BITS];
};

static bool
bf_set_counts(const struct m365_set *s, const char *text, bool prefix,
    const char *area, bool req)
{
	return set_lists(s, text, prefix) && (area == NULL ||
	    bf_same_area(s->service_area, area)) && (!req || s->required);
}

/* What the sets of d listing the entry give it: the highest category and
 * the ports of its sets; of all sets (area NULL) or of one service area,
 * and of only the required ones with req. */
static void
bf_view_of(const struct m365_data *d, const char *text, bool prefix,
    const char *area, bool req, struct bf_view *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < d->n_sets; i++)
		if (bf_set_counts(&d->sets[i], text, prefix, area, req) &&
		    d->sets[i].category > v->cat)
			v->cat = d->sets[i].category;
	for (size_t i = 0; i < d->n_sets; i++)
		if (bf_set_counts(&d->sets[i], text, prefix, area, req) &&
		    d->sets[i].category == v->cat) {
			bits_add(v->tcp, &d->sets[i].tcp);
			bits_add(v->udp, &d->sets[i].udp);
		}
}

static bool
bf_view_equal(const struct bf_view *a, const struct bf_view *b)
{
	return a->cat == b->cat && (a->cat == M365_CAT_NONE ||
	    (memcmp(a->tcp, b->tcp, PORT_BITS) == 0 &&
	    memcmp(a->udp, b->udp, PORT_BITS) == 0));
}

#define BF_MAX_AREAS 64

/* Adds the service areas of the sets of d listing the entry to v[0..*n),
 * each once. */
static void
bf_areas(const struct m365_data *d, const char *text, bool prefix,
    const char **v, size_t *n)
{
	for (size_t i = 0; i < d->n_sets; i++) {
		bool seen = false;

		if (!set_lists(&d->sets[i], text, prefix))
			continue;
		for (size_t k = 0; k < *n; k++)
			seen |= bf_same_area(v[k], d->sets[i].service_area);
		if (!seen) {
			assert_true(*n < BF_MAX_AREAS);
			v[(*n)++] = d->sets[i].service_area;
		}
	}
}

/* 0: the required sets of the area give what all its sets give; 1: no
 * required set; 2: something else. */
static int
bf_req_kind(const struct bf_view *all, const struct bf_view *req)
{
	return req->cat == M365_CAT_NONE ? 1 : bf_view_equal(all, req) ? 0 : 2;
}

/* Whether a policy that counts some service areas, all their sets or the
 * required ones, can see the entry (present in a and b, same category)
 * otherwise in a than in b, beyond its overall ports: an area in one
 * only; an area whose sets give it another view (each compared with the
 * entry's overall view, and with each other when not that); the
 * required sets of an area giving it another view (the same as all the
 * area's sets, none, or a view compared). */
static bool
bf_scope_differs(const struct m365_data *a, const struct m365_data *b,
    const char *text, bool prefix)
{
	static struct bf_view oa, ob, va, vb, ra, rb;
	const char *areas[BF_MAX_AREAS];
	size_t n = 0;

	bf_areas(a, text, prefix, areas, &n);
	bf_areas(b, text, prefix, areas, &n);
	bf_view_of(a, text, prefix, NULL, false, &oa);
	bf_view_of(b, text, prefix, NULL, false, &ob);
	for (size_t k = 0; k < n; k++) {
		bool ea, eb;
		int ka, kb;

		bf_view_of(a, text, prefix, areas[k], false, &va);
		bf_view_of(b, text, prefix, areas[k], false, &vb);
		if ((va.cat == M365_CAT_NONE) != (vb.cat == M365_CAT_NONE))
			return true;
		ea = bf_view_equal(&va, &oa);
		eb = bf_view_equal(&vb, &ob);
		if (ea != eb || (!ea && !bf_view_equal(&va, &vb)))
			return true;
		bf_view_of(a, text, prefix, areas[k], true, &ra);
		bf_view_of(b, text, prefix, areas[k], true, &rb);
		ka = bf_req_kind(&va, &ra);
		kb = bf_req_kind(&vb, &rb);
		if (ka != kb || (ka == 2 && !bf_view_equal(&ra, &rb)))
			return true;
	}
	return false;
}

/* Checks a view of the report ("category", "tcp", "udp") against v. */
static void
check_view(const cJSON *o, const struct bf_view *v)
{
	unsigned char got[PORT_BITS];

	assert_string_equal(get_str(o, "category"), cat_key(v->cat));
	bits_of(get_str(o, "tcp"), got);
	assert_memory_equal(got, v->tcp, PORT_BITS);
	bits_of(get_str(o, "udp"), got);
	assert_memory_equal(got, v->udp, PORT_BITS);
}

/* Checks one side of a scope change: every service area of d's sets
 * listing the entry, once each, with what its sets and its required sets
 * give. */
static void
check_scope_side(const cJSON *side, const struct m365_data *d,
    const char *text, bool prefix)
{
	static struct bf_view v, r;
	const char *areas[BF_MAX_AREAS];
	size_t n = 0;
	const cJSON *a;

	bf_areas(d, text, prefix, areas, &n);
	assert_int_equal(cJSON_GetArraySize(side), n);
	cJSON_ArrayForEach(a, side) {
		const char *name = get_str(a, "service_area");
		const cJSON *req = get(a, "required");

		bf_view_of(d, text, prefix, name, false, &v);
		assert_int_not_equal(v.cat, M365_CAT_NONE);
		check_view(a, &v);
		bf_view_of(d, text, prefix, name, true, &r);
		if (r.cat == M365_CAT_NONE)
			assert_true(cJSON_IsNull(req));
		else
			check_view(req, &r);
	}
}

/* Whether the entry's scope changed; if so, checks the report has it,
 * both sides whole. */
static bool
check_scope(const cJSON *report, const struct m365_data *a,
    const struct m365_data *b, const char *text, bool prefix,
    enum m365_category c)
{
	const cJSON *sc = find_entry(get(report, "scope"), text, prefix);

	if (!bf_scope_differs(a, b, text, prefix)) {
		assert_null(sc);
		return false;
	}
	if (sc == NULL)
		fail_msg("scope change of %s not reported", text);
	assert_string_equal(get_str(sc, "category"), cat_key(c));
	check_scope_side(get(sc, "from"), a, text, prefix);
	check_scope_side(get(sc, "to"), b, text, prefix);
	return true;
}

/* Checks the report on one entry, counting what it should list. */
static void
check_entry(const cJSON *report, const struct m365_data *a,
    const struct m365_data *b, const char *text, bool prefix,
    struct bf_counts *n)
{
	enum m365_category ca = bf_category(a, text, prefix);
	enum m365_category cb = bf_category(b, text, prefix);
	const char *kind = prefix ? "prefixes" : "names";
	const cJSON *mv = find_entry(get(report, "moved"), text, prefix);

	if (ca == M365_CAT_NONE || cb == M365_CAT_NONE) {
		bool added = ca == M365_CAT_NONE;
		enum m365_category c = added ? cb : ca;

		if (!list_has(get(get(get(report, added ? "added" : "removed"),
		    cat_key(c)), kind), text))
			fail_msg("%s %s not reported", text, added ? "added" :
			    "removed");
		n->list[added][cat_slot(c)][prefix]++;
	} else if (ca != cb) {
		if (mv == NULL)
			fail_msg("move of %s not reported", text);
		assert_string_equal(get_str(mv, "from"), cat_key(ca));
		assert_string_equal(get_str(mv, "to"), cat_key(cb));
		n->moved++;
		mv = NULL;
	} else {
		n->ports += check_ports(report, a, b, text, prefix, ca);
		n->scope += check_scope(report, a, b, text, prefix, ca);
		return;
	}
	assert_null(mv);
	assert_null(find_entry(get(report, "scope"), text, prefix));
}

/* Whether the entry was seen before: in an earlier set of d, or earlier
 * in set s, or (when prior is not NULL) anywhere in prior. */
static bool
seen_before(const struct m365_data *prior, const struct m365_data *d,
    size_t s, size_t j, bool prefix)
{
	const struct m365_set *set = &d->sets[s];
	const char *text = prefix ? set->ip_texts[j] : set->urls[j];

	if (prior != NULL && bf_category(prior, text, prefix) != M365_CAT_NONE)
		return true;
	for (size_t i = 0; i < s; i++)
		if (set_lists(&d->sets[i], text, prefix))
			return true;
	for (size_t i = 0; i < j; i++)
		if (strcmp(prefix ? set->ip_texts[i] : set->urls[i], text) == 0)
			return true;
	return false;
}

/* Checks every distinct entry of d (skipping those of prior). */
static void
check_entries(const cJSON *report, const struct m365_data *a,
    const struct m365_data *b, const struct m365_data *d,
    const struct m365_data *prior, struct bf_counts *n)
{
	for (size_t s = 0; s < d->n_sets; s++) {
		const struct m365_set *set = &d->sets[s];

		for (size_t j = 0; j < set->n_urls; j++)
			if (!seen_before(prior, d, s, j, false))
				check_entry(report, a, b, set->urls[j], false, n);
		for (size_t j = 0; j < set->n_ips; j++)
			if (!seen_before(prior, d, s, j, true))
				check_entry(report, a, b, set->ip_texts[j], true,
				    n);
	}
}

/* The report's lists hold exactly the counted entries, no more. */
static void
check_counts(const cJSON *report, const struct bf_counts *n)
{
	static const char *const sides[] = { "removed", "added" };
	static const char *const kinds[] = { "names", "prefixes" };
	static const char *const counts[2][2] = {
		{ "names_removed", "prefixes_removed" },
		{ "names_added", "prefixes_added" }
	};
	const cJSON *sum = get(report, "summary");

	for (size_t side = 0; side < 2; side++)
		for (size_t k = 0; k < N_CATS; k++)
			for (size_t p = 0; p < 2; p++) {
				assert_int_equal(cJSON_GetArraySize(get(get(get(
				    report, sides[side]), cats[k]), kinds[p])),
				    n->list[side][k][p]);
				assert_int_equal(get_count(get(sum, cats[k]),
				    counts[side][p]), n->list[side][k][p]);
			}
	assert_int_equal(cJSON_GetArraySize(get(report, "moved")), n->moved);
	assert_int_equal(cJSON_GetArraySize(get(report, "ports")), n->ports);
	assert_int_equal(get_count(sum, "moved"), n->moved);
	assert_int_equal(get_count(sum, "ports"), n->ports);
	assert_int_equal(cJSON_GetArraySize(get(report, "scope")), n->scope);
	assert_int_equal(get_count(sum, "scope"), n->scope);
}

/* The line after l, or NULL when l is the last (unterminated) one. */
static const char *
next_line(const char *l)
{
	const char *nl = strchr(l, '\n');

	return nl != NULL ? nl + 1 : NULL;
}

/* The text report: the summary line from the counts, one line per entry
 * with the right mark. */
static void
check_text(const struct diff_report *d, const struct bf_counts *n)
{
	char *text = render(d, false), want[512];
	size_t lines[3] = { 0, 0, 0 }, add = 0, rem = 0;
	size_t len = 0;
	const char *const titles[] = { "Optimize", "Allow", "Default" };
	static const char marks[] = "+-~";

	for (size_t k = 0; k < N_CATS; k++) {
		len += (size_t)snprintf(want + len, sizeof(want) - len,
		    "%s +%zu -%zu names, +%zu -%zu prefixes; ", titles[k],
		    n->list[1][k][0], n->list[0][k][0], n->list[1][k][1],
		    n->list[0][k][1]);
		add += n->list[1][k][0] + n->list[1][k][1];
		rem += n->list[0][k][0] + n->list[0][k][1];
	}
	snprintf(want + len, sizeof(want) - len, "%zu moved, %zu port change%s\n",
	    n->moved, n->ports, n->ports == 1 ? "" : "s");
	if (add + rem + n->moved + n->ports + n->scope == 0)
		want[0] = '\0';
	assert_memory_equal(text, want, strlen(want));
	for (const char *l = text; l != NULL && *l != '\0'; l = next_line(l)) {
		const char *p = strchr(marks, l[0]);

		if (l[0] != '\0' && p != NULL && l[1] == ' ')
			lines[p - marks]++;
	}
	assert_int_equal(lines[0], add);
	assert_int_equal(lines[1], rem);
	assert_int_equal(lines[2], n->moved + n->ports + n->scope);
	free(text);
}

struct file_pair {
	const char *old, *new;
};

static const struct file_pair file_pairs[] = {
	{ "worldwide-c2022.json", "worldwide-c2025.json" },
	{ "worldwide-c2025.json", "worldwide-c2022.json" },
	{ "worldwide-c2025.json", "worldwide-c2025.json" },
	{ "worldwide-c2022.json", "worldwide-c2022.json" },
	{ "china-c2025.json", "china-c2025.json" },
	{ "worldwide-c2025.json", "china-c2025.json" },
	{ "china-c2025.json", "worldwide-c2022.json" },
};

static void
test_recount(void **state)
{
	const struct file_pair *fp = *state;
	struct m365_data *a = suite_load(fp->old), *b = suite_load(fp->new);
	struct diff_report *d = diff_compute(a, b);
	struct bf_counts n;
	cJSON *report;

	assert_non_null(d);
	report = render_json(d);
	memset(&n, 0, sizeof(n));
	check_entries(report, a, b, a, NULL, &n);
	check_entries(report, a, b, b, a, &n);
	check_counts(report, &n);
	check_text(d, &n);
	assert_true(diff_is_empty(d) == (strcmp(fp->old, fp->new) == 0));
	assert_reversed(a, b);
	cJSON_Delete(report);
	diff_free(d);
	endpoints_free(a);
	endpoints_free(b);
}

/* A data set against nothing: everything is added. */
static void
test_from_nothing(void **state)
{
	struct m365_data none = { NULL, 0 };
	struct m365_data *b = suite_load("worldwide-c2025.json");
	struct diff_report *d = diff_compute(&none, b);
	struct bf_counts n;
	cJSON *report;

	(void)state;
	assert_non_null(d);
	report = render_json(d);
	memset(&n, 0, sizeof(n));
	check_entries(report, &none, b, b, NULL, &n);
	check_counts(report, &n);
	check_text(d, &n);
	assert_int_equal(n.moved + n.ports + n.scope, 0);
	assert_true(n.list[1][0][0] > 0 && n.list[1][1][1] > 0);
	cJSON_Delete(report);
	diff_free(d);
	endpoints_free(b);
}

/* Facts of worldwide 2022 -> 2025 read off the JSON by hand: the line
 * under its section header, or absent (section NULL). */
struct fact {
	const char *section, *line;
};

static const struct fact facts[] = {
	{ "Optimize names:", "+ outlook.cloud.microsoft" },
	{ "Optimize prefixes:", "+ 52.122.0.0/15" },
	{ "Optimize prefixes:", "- 52.120.0.0/14" },
	{ "Allow names:", "+ teams.cloud.microsoft" },
	{ "Allow names:", "- *.skypeforbusiness.com" },
	{ "Default names:", "- r1.res.office365.com" },
	{ "Moved:", "~ 2a01:111:f400::/48: Optimize -> Allow" },
	{ "Moved:", "~ *.portal.cloudappsecurity.com: Allow -> Default" },
	{ "Ports:", "~ smtp.office365.com (Allow): tcp 587 -> 143,587,993,995" },
	{ "Ports:", "~ outlook.office365.com (Optimize): udp - -> 443" },
	{ "Ports:", "~ *.office365.com (Default): tcp 443 -> 80,443" },
	{ "Ports:", "~ prod.msocdn.com (Default): tcp 80,443 -> 443" },
	{ NULL, "+ outlook.office365.com" },
	{ NULL, "- outlook.office365.com" },
	{ NULL, "- 52.112.0.0/14" },
	{ NULL, "~ 52.122.0.0/15 (Optimize): udp - -> 443" },
	/* amp.azure.net: sets 17 (Skype), 41 and 70 (Common) -> 70 only */
	{ "Service areas and required:",
	  "~ amp.azure.net (Default): service area Common, Skype -> Common" },
	/* smtp.office365.com: set 2 required true -> false, other ports */
	{ "Service areas and required:",
	  "~ smtp.office365.com (Allow): required yes -> no" },
	/* *.office.net: sets 50 and 78, not required -> set 47, required */
	{ "Service areas and required:",
	  "~ *.office.net (Default): required no -> yes" },
};

/* The section header above line in text, or NULL when line is absent. */
static const char *
section_of(const char *text, const char *line, char *buf, size_t size)
{
	const char *head = NULL, *l = text;
	size_t len = strlen(line);

	for (; l != NULL && *l != '\0'; l = next_line(l)) {
		if (l[0] != '+' && l[0] != '-' && l[0] != '~')
			head = l;
		else if (strncmp(l, line, len) == 0 && l[len] == '\n')
			break;
	}
	if (l == NULL || *l == '\0' || head == NULL)
		return NULL;
	snprintf(buf, size, "%.*s", (int)(strchr(head, '\n') - head), head);
	return buf;
}

static void
test_worldwide_facts(void **state)
{
	const struct fact *f = *state;
	struct m365_data *a = suite_load("worldwide-c2022.json");
	struct m365_data *b = suite_load("worldwide-c2025.json");
	struct diff_report *d = diff_compute(a, b);
	char *text, buf[128];
	const char *got;

	assert_non_null(d);
	text = render(d, false);
	got = section_of(text, f->line, buf, sizeof(buf));
	if (f->section == NULL)
		assert_null(got);
	else {
		if (got == NULL)
			fail_msg("\"%s\" not in the report", f->line);
		assert_string_equal(got, f->section);
	}
	free(text);
	diff_free(d);
	endpoints_free(a);
	endpoints_free(b);
}

/* The summary, counted by hand (and by a script) from the two files. */
static void
test_worldwide_summary(void **state)
{
	struct m365_data *a = suite_load("worldwide-c2022.json");
	struct m365_data *b = suite_load("worldwide-c2025.json");
	struct diff_report *d = diff_compute(a, b);
	char *text;

	(void)state;
	assert_non_null(d);
	text = render(d, false);
	assert_non_null(strchr(text, '\n'));
	*strchr(text, '\n') = '\0';
	assert_string_equal(text, "Optimize +1 -0 names, +4 -12 prefixes; "
	    "Allow +7 -6 names, +7 -37 prefixes; "
	    "Default +10 -120 names, +0 -0 prefixes; 2 moved, 51 port changes");
	free(text);
	diff_free(d);
	endpoints_free(a);
	endpoints_free(b);
}

int
main(void)
{
	struct suite s = { 0 };
	size_t n_text = sizeof(text_cases) / sizeof(text_cases[0]);

	suite_add(&s, test_edges, NULL,
	    "edges: free(NULL), no sets, beyond the loader's bounds");
	suite_add(&s, test_json_empty, NULL, "JSON of an empty report");
	for (size_t i = 0; i < n_text; i++)
		suite_add(&s, test_text, (void *)&text_cases[i], "text: %s",
		    text_cases[i].name);
	for (size_t i = 0; i < n_text; i++)
		suite_add(&s, test_self, (void *)&text_cases[i],
		    "each side against itself: %s", text_cases[i].name);
	for (size_t i = 0; i < n_text; i++)
		suite_add(&s, test_reversed, (void *)&text_cases[i],
		    "backwards: %s", text_cases[i].name);
	suite_add(&s, test_json_shape, NULL, "JSON: the documented shape");
	suite_add(&s, test_json_scope, NULL,
	    "JSON: a scope change, both sides whole");
	suite_add(&s, test_from_nothing, NULL,
	    "no sets -> worldwide 2025: everything added");
	for (size_t i = 0; i < sizeof(file_pairs) / sizeof(file_pairs[0]); i++)
		suite_add(&s, test_recount, (void *)&file_pairs[i],
		    "brute-force recount: %s -> %s", file_pairs[i].old,
		    file_pairs[i].new);
	suite_add(&s, test_worldwide_summary, NULL,
	    "worldwide 2022 -> 2025: the summary line");
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		suite_add(&s, test_worldwide_facts, (void *)&facts[i],
		    "worldwide 2022 -> 2025: \"%s\" %s%s", facts[i].line,
		    facts[i].section != NULL ? "under " : "absent",
		    facts[i].section != NULL ? facts[i].section : "");
	return suite_run(&s, "diff");
}
