/* asn.c - see asn.h.
 *
 * The walk: a MaxMind DB is a binary trie, so the record found for an
 * address belongs to a network (the lookup's netmask) and the networks
 * partition the address space.  Looking up the first address of a prefix
 * gives the block around it; if that block reaches the prefix's last
 * address the prefix is done, else the next lookup starts at the address
 * after the block, which begins the next block.  Every lookup moves past
 * at least one address, and the count is capped.
 *
 * IPv4: an ip_version 4 database answers with a netmask of 0..32; an
 * ip_version 6 one keeps IPv4 at ::/96 (and aliases ::ffff:0:0/96 there),
 * and libmaxminddb gives the netmask of an IPv4 lookup in its 128-bit
 * terms, below 96 when the whole of ::/96 is one record or gap.  Both come
 * back here as a block inside ::ffff:0:0/96, prefix.h's place for IPv4.
 *
 * Trust: the default ASes of the Worldwide and US government instances
 * are Microsoft's own (microsoft_asns below; the README says where the
 * list comes from).  China's instance is run by 21Vianet and carried by
 * several Chinese carriers, so it has no default: the check is off there
 * until trusted_asns names them. */
#include "asn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "log.h"
#include "parse.h"

struct asn_db {
	MMDB_s mmdb;
};

/* Microsoft's ASes (the README gives the sources): AS8075, its backbone,
 * with AS8068, AS8069 and AS12076 (ExpressRoute), as Microsoft's peering
 * policy names them, and the rest of the block AS8068-AS8075.  Not
 * AS-MICROSOFT, the IRR as-set: it also holds the ASes of customers
 * Microsoft announces ("Bring Your Own ASN"). */
static const struct asn_range microsoft_asns[] = {
	{ 8068, 8075 },
	{ 12076, 12076 },
};

static const struct instance_trust {
	const char *instance;
	const struct asn_range *r;      /* NULL: no default, check off */
	size_t n;
} instance_trust[] = {
	{ "Worldwide", microsoft_asns, 2 },
	{ "USGovDoD", microsoft_asns, 2 },
	{ "USGovGCCHigh", microsoft_asns, 2 },
	{ "China", NULL, 0 },
};

/* --- the database ------------------------------------------------------ */

struct asn_db *
asn_db_open(const char *path, char *err, size_t errlen)
{
	struct asn_db *db;
	struct stat st;
	int fd, rc;

	/* MMDB_open opens the path itself: a FIFO there would hang it, so
	 * the path is looked at first, without blocking */
	if ((fd = file_open_read(path, false)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	rc = fstat(fd, &st);
	close(fd);
	if (rc != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > ASN_DB_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path,
		    rc != 0 ? strerror(errno) : !S_ISREG(st.st_mode) ?
		    "not a regular file" : "larger than 1 GiB");
		return NULL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s%s%s", path, MMDB_strerror(rc),
		    rc == MMDB_IO_ERROR ? ": " : "",
		    rc == MMDB_IO_ERROR ? strerror(errno) : "");
		free(db);
		return NULL;
	}
	return db;
}

void
asn_db_close(struct asn_db *db)
{
	if (db == NULL)
		return;
	MMDB_close(&db->mmdb);
	free(db);
}

bool
asn_db_has_v6(const struct asn_db *db)
{
	return db->mmdb.metadata.ip_version == 6;
}

static int
lookup_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
lookup_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The address a for libmaxminddb: AF_INET for IPv4, so that it finds
 * IPv4 where the database keeps it. */
static void
to_sockaddr(const struct ip_addr *a, bool v4, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (v4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl((uint32_t)a->lo);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		for (int i = 0; i < 8; i++) {
			sin6->sin6_addr.s6_addr[i] =
			    (uint8_t)(a->hi >> (56 - 8 * i));
			sin6->sin6_addr.s6_addr[8 + i] =
			    (uint8_t)(a->lo >> (56 - 8 * i));
		}
	}
}

/* The block's length in prefix.h's 128-bit space, from the netmask of a
 * lookup; -1 when the database gave an impossible one. */
static int
block_len(const struct asn_db *db, bool v4, unsigned netmask)
{
	bool v6db = asn_db_has_v6(db);

	if (netmask > (v4 && !v6db ? 32u : 128u))
		return -1;
	if (!v4)
		return (int)netmask;
	if (!v6db)
		return 96 + (int)netmask;
	/* ::/96 as a whole (or more) is one record: all of IPv4 */
	return netmask < 96 ? 96 : (int)netmask;
}

/* The value at key of the record e; 0 with v->has_data false when the
 * record has no such key (libmaxminddb says "path does not match"). */
static int
get_key(MMDB_entry_s *e, const char *key, MMDB_entry_data_s *v, char *err,
    size_t errlen)
{
	int rc = MMDB_get_value(e, v, key, NULL);

	if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
		v->has_data = false;
		return 0;
	}
	if (rc != MMDB_SUCCESS)
		return lookup_fail(err, errlen, "%s", MMDB_strerror(rc));
	return 0;
}

/* Reads the AS number and organisation of the record found. */
static int
read_origin(MMDB_entry_s *e, struct asn_origin *o, char *err, size_t errlen)
{
	MMDB_entry_data_s v;
	uint64_t n;

	if (get_key(e, "autonomous_system_number", &v, err, errlen) != 0)
		return -1;
	if (!v.has_data)
		return lookup_fail(err, errlen, "a record without "
		    "autonomous_system_number: not an ASN database");
	if (v.type == MMDB_DATA_TYPE_UINT16)
		n = v.uint16;
	else if (v.type == MMDB_DATA_TYPE_UINT32)
		n = v.uint32;
	else if (v.type == MMDB_DATA_TYPE_UINT64)
		n = v.uint64;
	else
		n = UINT64_MAX;
	if (n > UINT32_MAX)
		return lookup_fail(err, errlen, "autonomous_system_number is "
		    "not a 32-bit unsigned integer");
	/* AS 0 means "not routed" (RFC 7607): no origin */
	o->known = n != 0;
	o->asn = (uint32_t)n;
	if (get_key(e, "autonomous_system_organization", &v, err, errlen) != 0)
		return -1;
	if (v.has_data && v.type == MMDB_DATA_TYPE_UTF8_STRING)
		/* the organisation's name (bytes, not trusted) as one line */
		log_escape_line(v.utf8_string, v.data_size, o->org,
		    sizeof(o->org));
	return 0;
}

/* a with its host bits below len cleared */
static struct ip_addr
ip_mask(const struct ip_addr *a, unsigned len)
{
	struct ip_addr m = *a;

	/* a shift by 64 is undefined: /0 and /64 have their own cases */
	if (len == 0) {
		m.hi = m.lo = 0;
	} else if (len < 64) {
		m.hi &= ~(UINT64_MAX >> len);
		m.lo = 0;
	} else if (len == 64) {
		m.lo = 0;
	} else if (len < 128) {
		m.lo &= ~(UINT64_MAX >> (len - 64));
	}
	return m;
}

enum asn_lookup
asn_db_lookup(const struct asn_db *db, const struct ip_addr *a, bool v4,
    struct asn_origin *o, struct ip_prefix *block, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	MMDB_lookup_result_s r;
	int mmerr, len;

	memset(o, 0, sizeof(*o));
	if (!v4 && !asn_db_has_v6(db))
		return ASN_LOOKUP_NO_V6;
	to_sockaddr(a, v4, &ss);
	r = MMDB_lookup_sockaddr(&db->mmdb, (const struct sockaddr *)&ss,
	    &mmerr);
	if (mmerr != MMDB_SUCCESS) {
		lookup_fail(err, errlen, "%s", MMDB_strerror(mmerr));
		return ASN_LOOKUP_ERROR;
	}
	if ((len = block_len(db, v4, r.netmask)) < 0) {
		lookup_fail(err, errlen, "netmask %u out of range", r.netmask);
		return ASN_LOOKUP_ERROR;
	}
	block->len = (unsigned)len;
	block->addr = ip_mask(a, block->len);
	block->v4 = v4;
	if (r.found_entry && read_origin(&r.entry, o, err, errlen) != 0)
		return ASN_LOOKUP_ERROR;
	return ASN_LOOKUP_OK;
}

/* --- the walk over a prefix ---------------------------------------------- */

static struct ip_addr
ip_next(struct ip_addr a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

enum asn_walk
asn_walk_prefix(const struct asn_db *db, const struct ip_prefix *p,
    size_t max_blocks, asn_part_fn *fn, void *arg, size_t *blocks,
    char *err, size_t errlen)
{
	struct ip_addr cur, last, bfirst, blast;
	struct ip_prefix block;
	struct asn_origin o;
	struct asn_part part;
	enum asn_walk st = ASN_WALK_DONE;
	size_t n = 0;

	prefix_range(p, &cur, &last);
	for (;;) {
		enum asn_lookup l;

		if (n == max_blocks) {
			st = ASN_WALK_CAP;
			break;
		}
		l = asn_db_lookup(db, &cur, p->v4, &o, &block, err, errlen);
		if (l != ASN_LOOKUP_OK) {
			st = l == ASN_LOOKUP_NO_V6 ? ASN_WALK_NO_V6 :
			    ASN_WALK_ERROR;
			break;
		}
		/* the blocks partition the space: this one starts at or
		 * before cur (before only at the prefix's first address) */
		prefix_range(&block, &bfirst, &blast);
		part.first = cur;
		part.last = ip_cmp(&blast, &last) < 0 ? blast : last;
		part.origin = &o;
		fn(&part, arg);
		n++;
		if (ip_cmp(&blast, &last) >= 0)
			break;
		cur = ip_next(blast);   /* blast < last: cannot wrap */
	}
	if (blocks != NULL)
		*blocks = n;
	return st;
}

/* --- which ASes are trusted ---------------------------------------------- */

static int
cmp_range(const void *a, const void *b)
{
	const struct asn_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent ranges, so that a binary
 * search finds the only range that can hold an AS. */
static void
trust_normalise(struct asn_trust *t)
{
	size_t k = 0;

	qsort(t->r, t->n, sizeof(*t->r), cmp_range);
	for (size_t i = 0; i < t->n; i++) {
		struct asn_range *prev = k > 0 ? &t->r[k - 1] : NULL;

		/* overlapping or adjacent (hi + 1 in 64 bits: no wrap) */
		if (prev != NULL && t->r[i].lo <= (uint64_t)prev->hi + 1) {
			if (t->r[i].hi > prev->hi)
				prev->hi = t->r[i].hi;
		} else {
			t->r[k++] = t->r[i];
		}
	}
	t->n = k;
}

/* The instance's default into t. */
static int
trust_default(struct asn_trust *t, const char *instance, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < sizeof(instance_trust) /
	    sizeof(instance_trust[0]); i++) {
		const struct instance_trust *d = &instance_trust[i];

		if (strcmp(d->instance, instance) != 0)
			continue;
		t->from_instance = true;
		if (d->r == NULL) {
			t->off = true;
			return 0;
		}
		if ((t->r = calloc(d->n, sizeof(*t->r))) == NULL)
			return lookup_fail(err, errlen, "out of memory");
		memcpy(t->r, d->r, d->n * sizeof(*t->r));
		t->n = d->n;
		return 0;
	}
	return lookup_fail(err, errlen, "no trusted ASes known for instance "
	    "\"%s\": set trusted_asns", instance);
}

int
asn_trust_init(struct asn_trust *t, const char *instance,
    const struct m365_strlist *trusted, char *err, size_t errlen)
{
	const char *why;

	memset(t, 0, sizeof(*t));
	if (trusted == NULL || trusted->n == 0)
		return trust_default(t, instance != NULL ? instance : "", err,
		    errlen);
	if ((t->r = calloc(trusted->n, sizeof(*t->r))) == NULL)
		return lookup_fail(err, errlen, "out of memory");
	for (size_t i = 0; i < trusted->n; i++) {
		const char *s = trusted->v[i];

		if (parse_asn_range(s, strlen(s), &t->r[i].lo, &t->r[i].hi,
		    &why) != 0) {
			asn_trust_free(t);
			return lookup_fail(err, errlen, "trusted_asns: \"%s\": "
			    "%s", s, why);
		}
	}
	t->n = trusted->n;
	trust_normalise(t);
	return 0;
}

bool
asn_trust_has(const struct asn_trust *t, uint32_t asn)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {               /* the last range starting <= asn */
		size_t mid = lo + (hi - lo) / 2;

		if (t->r[mid].lo <= asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && asn <= t->r[lo - 1].hi;
}

void
asn_trust_free(struct asn_trust *t)
{
	free(t->r);
	memset(t, 0, sizeof(*t));
}

void
asn_trust_format(const struct asn_trust *t, char *buf, size_t size)
{
	struct buf b = BUF_INIT(size > 0 ? size - 1 : 0);

	for (size_t i = 0; i < t->n; i++) {
		if (t->r[i].lo == t->r[i].hi)
			buf_printf(&b, "%sAS%u", i ? ", " : "", t->r[i].lo);
		else
			buf_printf(&b, "%sAS%u-%u", i ? ", " : "", t->r[i].lo,
			    t->r[i].hi);
	}
	/* too long for buf: what fits, marked as cut */
	if (b.error == BUF_OK && b.p != NULL)
		snprintf(buf, size, "%s", b.p);
	else
		snprintf(buf, size, "%s", t->n == 0 ? "none" : "(too many to "
		    "show)");
	buf_free(&b);
}
