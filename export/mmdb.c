/* mmdb.c - "m365-direct export mmdb": the direct addresses as a MaxMind DB
 * (format 2.0), our own writer (libmaxminddb only reads; the tests read
 * what we write back with it, mmdblookup and nginx).  The README lists the
 * record a lookup finds.
 *
 * A record sits exactly where "m365-direct check ADDRESS" (no port) says
 * direct, merged from every set that counts for the address (nested
 * prefixes included, after the policy's filters); a never_direct prefix
 * inside a direct one is a hole.
 *
 * The tree is IPv6 with IPv4 at ::/96, where every reader looks IPv4 up,
 * and ::ffff:0:0/96 aliased to it so IPv4-mapped lookups answer as the
 * matcher does; no other alias (6to4, Teredo are IPv6 to the matcher).
 * The price: ::a.b.c.d reads as IPv4 here, and IPv6 entries inside ::/96
 * cannot be written.  Built from a binary trie in the matcher's address
 * space: a depth-first walk carries the enclosing prefixes down and a
 * leaf's record merges them; equal halves collapse; nodes in pre-order;
 * identical records stored once.  Deterministic: build_epoch is the data
 * version's date (1 when unknown, since libmaxminddb refuses 0), never the
 * clock; a data section under 3 bytes (which libmaxminddb refuses) gets
 * three unreferenced empty maps. */
#include "export.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"
#include "source.h"

/* Bounds: the real data needs under 4,000 nodes and 3 KB of records. */
#define MMDB_MAX_NODES (1u << 22)               /* trie and tree nodes */
#define MMDB_MAX_DATA (64u << 20)               /* data section bytes */
#define MMDB_MAX_RECORD (1u << 20)              /* one record */
#define MMDB_MAX_TEXT (512u << 10)              /* a port list's text */
#define MMDB_MAX_TYPE 255                       /* database_type */
#define MMDB_MAX_FIELD (65821u + 0xffffffu)     /* the format's own bound */
#define MMDB_MAX_FILE ((size_t)MMDB_MAX_NODES * 7 + MMDB_MAX_DATA + \
	    (128u << 10))

#define MMDB_ASN_MICROSOFT 8075
#define MMDB_EPOCH_UNKNOWN 1                    /* no data version known
                                                   (libmaxminddb refuses 0) */
#define MMDB_MIN_DATA 3                         /* libmaxminddb refuses less */
#define MMDB_SEPARATOR 16                       /* NULs before the data */
#define MMDB_MARKER "\xab\xcd\xefMaxMind.com"
#define MMDB_MARKER_LEN 14

/* Data field types (the spec's "Output Data Section"). */
enum mmdb_type {
	T_STRING = 2, T_UINT16 = 5, T_UINT32 = 6, T_MAP = 7, T_UINT64 = 9,
	T_ARRAY = 11, T_BOOL = 14
};

/* --- a bounded byte buffer ----------------------------------------------- */

/* Grows *v (of elem-byte entries) to hold need entries, at most max.
 * Returns 0, or -1 with *why. */
static int
grow(void **v, size_t *cap, size_t need, size_t elem, size_t max,
    const char **why)
{
	size_t c = *cap ? *cap : 1024;
	void *p;

	if (need <= *cap)
		return 0;
	if (need > max) {
		*why = "too large";
		return -1;
	}
	while (c < need)
		c = c > max / 2 ? max : c * 2;
	if (c > SIZE_MAX / elem || (p = realloc(*v, c * elem)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	*v = p;
	*cap = c;
	return 0;
}

/* --- the data field encoding --------------------------------------------- */

/* The control byte, the extended type byte (types above 7) and the size
 * bytes of a field of type carrying size (bytes, pairs or items). */
static void
put_ctrl(struct buf *b, enum mmdb_type type, size_t size)
{
	unsigned first = type <= 7 ? (unsigned)type << 5 : 0;
	size_t extra, n;

	if (size > MMDB_MAX_FIELD) {
		b->error = BUF_TOO_LARGE;
		return;
	}
	if (size < 29) {
		buf_byte(b, first | (unsigned)size);
		n = 0, extra = 0;
	} else if (size < 285) {
		buf_byte(b, first | 29);
		n = 1, extra = size - 29;
	} else if (size < 65821) {
		buf_byte(b, first | 30);
		n = 2, extra = size - 285;
	} else {
		buf_byte(b, first | 31);
		n = 3, extra = size - 65821;
	}
	if (type > 7)
		buf_byte(b, (unsigned)type - 7);
	while (n-- > 0)
		buf_byte(b, (unsigned)(extra >> (8 * n)) & 0xff);
}

/* The length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 :
	    s[0] >= 0xe0 && s[0] < 0xf0 ? 3 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;

	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong three- and four-byte forms, surrogates, above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/* A UTF-8 string; bytes that are not UTF-8 (the format requires it) are
 * written as '?', which also keeps the metadata marker out of strings. */
static void
put_string_n(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	put_ctrl(b, T_STRING, n);
	while (i < n) {
		size_t k = utf8_seq(u + i, n - i);

		if (k == 0) {
			buf_byte(b, '?');
			i++;
		} else {
			buf_add(b, u + i, k);
			i += k;
		}
	}
}

static void
put_string(struct buf *b, const char *s)
{
	put_string_n(b, s, strlen(s));
}

/* An unsigned integer in as few bytes as it needs (0 takes none). */
static void
put_uint(struct buf *b, enum mmdb_type type, uint64_t v)
{
	size_t n = 0;

	for (uint64_t t = v; t != 0; t >>= 8)
		n++;
	put_ctrl(b, type, n);
	while (n-- > 0)
		buf_byte(b, (unsigned)(v >> (8 * n)) & 0xff);
}

static void
put_bool(struct buf *b, bool v)
{
	put_ctrl(b, T_BOOL, v ? 1 : 0);
}

/* --- the trie of prefixes ------------------------------------------------ */

/* What a prefix in the trie stands for: a set (its index in the data) or
 * one of these. */
#define REF_EXTRA (UINT32_MAX - 1)
#define REF_NEVER (UINT32_MAX - 2)
#define NO_REF UINT32_MAX

struct trie_node {
	uint32_t child[2];              /* 0: none (the root is no child) */
	uint32_t refs;                  /* first trie_ref, or NO_REF */
};

struct trie_ref {
	uint32_t next;                  /* NO_REF ends the list */
	uint32_t what;                  /* set index, REF_EXTRA, REF_NEVER */
};

struct trie {
	struct trie_node *nodes;
	size_t n, cap;
	struct trie_ref *refs;
	size_t n_refs, cap_refs;
	const char *error;
};

static unsigned
addr_bit(const struct ip_addr *a, unsigned i)
{
	return i < 64 ? (unsigned)(a->hi >> (63 - i)) & 1 :
	    (unsigned)(a->lo >> (127 - i)) & 1;
}

static uint32_t
trie_node_new(struct trie *t)
{
	if (grow((void **)&t->nodes, &t->cap, t->n + 1, sizeof(*t->nodes),
	    MMDB_MAX_NODES, &t->error) != 0)
		return 0;
	t->nodes[t->n] = (struct trie_node){ { 0, 0 }, NO_REF };
	return (uint32_t)t->n++;
}

/* The node of prefix p, made with its path when missing; on failure 0
 * with t->error set. */
static uint32_t
trie_find(struct trie *t, const struct ip_prefix *p)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < p->len && t->error == NULL; i++) {
		unsigned bit = addr_bit(&p->addr, i);
		uint32_t c = t->nodes[n].child[bit];

		if (c == 0 && (c = trie_node_new(t)) != 0)
			t->nodes[n].child[bit] = c;
		n = c;
	}
	return t->error == NULL ? n : 0;
}

static void
trie_add(struct trie *t, const struct ip_prefix *p, uint32_t what)
{
	uint32_t n = trie_find(t, p);

	if (t->error != NULL || grow((void **)&t->refs, &t->cap_refs,
	    t->n_refs + 1, sizeof(*t->refs), MMDB_MAX_NODES, &t->error) != 0)
		return;
	t->refs[t->n_refs] = (struct trie_ref){ t->nodes[n].refs, what };
	t->nodes[n].refs = (uint32_t)t->n_refs++;
}

struct trie_add_ctx {
	struct trie *t;
	const struct m365_set *sets;
};

/* One prefix of a set that counts (matcher_entries) into the trie. */
static int
trie_add_entry(void *ctx, const struct m365_entry *e)
{
	struct trie_add_ctx *c = ctx;

	if (e->kind == M365_FROM_SET && e->prefix != NULL)
		trie_add(c->t, e->prefix, (uint32_t)(e->set - c->sets));
	return 0;
}

/* Adds the prefixes of every set that counts under the policy, whatever
 * its category (a Default set listing a direct address is in its record,
 * as in check's), from the one view of the rules: split around the
 * IPv4-mapped range as the matcher splits them. */
static void
trie_add_sets(struct trie *t, const struct export_ctx *x)
{
	struct trie_add_ctx c = { t, x->data->sets };
	unsigned every = (1u << M365_CAT_OPTIMIZE) | (1u << M365_CAT_ALLOW) |
	    (1u << M365_CAT_DEFAULT);

	matcher_entries(x->rules, every, trie_add_entry, &c);
}

/* The whole trie: the sets, extra_direct (the entries of category NONE;
 * export.c has split them already) and never_direct, and the two /96
 * anchors the tree hangs IPv4 on.  Returns 0 or -1 with t->error. */
static int
trie_build(struct trie *t, const struct export_ctx *x, uint32_t *v6hole,
    uint32_t *v4root)
{
	const struct export_entries *e = &x->entries;
	const struct ip_prefix hole = { { 0, 0 }, 96, false };
	const struct ip_prefix v4 = { { 0, 0xffff00000000u }, 96, true };

	if (trie_node_new(t) != 0 || t->error != NULL)
		return -1;
	trie_add_sets(t, x);
	for (size_t i = 0; i < e->n_prefixes; i++)
		if (e->prefixes[i].category == M365_CAT_NONE)
			trie_add(t, &e->prefixes[i].prefix, REF_EXTRA);
	for (size_t i = 0; i < e->n_never_prefixes; i++)
		trie_add(t, &e->never_prefixes[i].prefix, REF_NEVER);
	*v6hole = trie_find(t, &hole);
	*v4root = trie_find(t, &v4);
	return t->error == NULL ? 0 : -1;
}

/* --- records ------------------------------------------------------------- */

/* A set in a record, sorted by id. */
struct set_ref {
	int id;
	uint32_t index;
};

/* What the prefixes containing an address say, merged. */
struct merge {
	bool never, extra;
	enum m365_category category;    /* highest of the sets */
	size_t n_sets;                  /* in the walk's sets[] */
};

/* Identical records are stored once: an open-addressing table of the
 * records in the data section. */
struct intern_slot {
	uint64_t hash;
	uint32_t off, len;
	bool used;
};

struct intern {
	struct intern_slot *slot;
	size_t cap, n;                  /* cap: a power of two */
};

/* A value in the tree being built: no data, a record, or a node. */
enum { V_EMPTY = 0, V_DATA = 1, V_NODE = 2 };
#define VAL(kind, i) (((uint64_t)(kind) << 32) | (uint32_t)(i))
#define VAL_KIND(v) ((unsigned)((v) >> 32))
#define VAL_INDEX(v) ((uint32_t)(v))

struct tree_node {
	uint64_t half[2];
};

/* Everything the walk from the trie to the tree uses. */
struct walk {
	const struct export_ctx *x;
	unsigned direct_mask;
	const char *version;
	struct trie trie;
	uint32_t path[129];             /* trie nodes from the root down */
	unsigned depth;
	uint32_t v6hole, v4root;
	uint64_t v4value;               /* the IPv4 subtree, made first */
	struct set_ref *sets;           /* n_sets entries of scratch */
	uint32_t *seen;                 /* per set: the leaf it was last seen */
	uint32_t leaf;                  /* leaves merged so far */
	const char **areas;             /* n_sets entries of scratch */
	uint64_t tcp[1024], udp[1024];  /* port bitmaps */
	struct buf record, text, data;
	struct intern intern;
	struct tree_node *tree;
	size_t n_tree, cap_tree;
	const char *error;
};

static void
merge_ref(struct walk *w, struct merge *m, uint32_t what)
{
	const struct m365_set *s;

	if (what == REF_NEVER) {
		m->never = true;
	} else if (what == REF_EXTRA) {
		m->extra = true;
	} else if (w->seen[what] != w->leaf) {
		w->seen[what] = w->leaf;
		s = &w->x->data->sets[what];
		w->sets[m->n_sets++] = (struct set_ref){ s->id, what };
		if (s->category > m->category)
			m->category = s->category;
	}
}

/* Merges the entries of every prefix on the walk's path. */
static void
merge_path(struct walk *w, struct merge *m)
{
	*m = (struct merge){ false, false, M365_CAT_NONE, 0 };
	w->leaf++;
	for (unsigned d = 0; d < w->depth; d++)
		for (uint32_t r = w->trie.nodes[w->path[d]].refs; r != NO_REF;
		    r = w->trie.refs[r].next)
			merge_ref(w, m, w->trie.refs[r].what);
}

static bool
merge_direct(const struct walk *w, const struct merge *m)
{
	return !m->never && (m->extra ||
	    (w->direct_mask & (1u << m->category)) != 0);
}

/* Sets bits lo..hi of map, a word at a time. */
static void
ports_mark(uint64_t *map, const struct m365_ports *p)
{
	for (size_t i = 0; i < p->n; i++) {
		unsigned lo = p->ranges[i].lo, hi = p->ranges[i].hi;

		while (lo <= hi) {
			unsigned end = lo | 63;         /* the word's last bit */
			unsigned top = end < hi ? end : hi;
			uint64_t bits = UINT64_MAX >> (63 - (top - lo));

			map[lo / 64] |= bits << (lo % 64);
			lo = top + 1;
		}
	}
}

/* Writes the ports of map as "80,443,3478-3481" into the walk's text. */
static void
ports_text(struct walk *w, const uint64_t *map)
{
	unsigned port = 0;

	w->text.len = 0;
	w->text.error = BUF_OK;
	while (port < 65536) {
		unsigned lo;
		char num[16];
		int n;

		if (map[port / 64] == 0 && port % 64 == 0) {
			port += 64;
			continue;
		}
		if ((map[port / 64] >> (port % 64) & 1) == 0) {
			port++;
			continue;
		}
		for (lo = port; port < 65536 &&
		    (map[port / 64] >> (port % 64) & 1); port++)
			;
		n = port - 1 == lo ? snprintf(num, sizeof(num), "%s%u",
		    w->text.len ? "," : "", lo) : snprintf(num, sizeof(num),
		    "%s%u-%u", w->text.len ? "," : "", lo, port - 1);
		buf_add(&w->text, num, (size_t)n);
	}
}

static int
cmp_set_ref(const void *a, const void *b)
{
	const struct set_ref *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
put_service_areas(struct walk *w, const struct merge *m)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < m->n_sets; i++) {
		const char *a = w->x->data->sets[w->sets[i].index].service_area;

		if (a[0] != '\0')
			w->areas[n++] = a;
	}
	qsort(w->areas, n, sizeof(*w->areas), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(w->areas[k - 1], w->areas[i]) != 0)
			w->areas[k++] = w->areas[i];
	put_ctrl(&w->record, T_ARRAY, k);
	for (size_t i = 0; i < k; i++)
		put_string(&w->record, w->areas[i]);
}

/* The ids of the record's sets (sorted), each once, as check lists them. */
static void
put_set_ids(struct walk *w, const struct merge *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_sets; i++)
		n += i == 0 || w->sets[i].id != w->sets[i - 1].id;
	put_ctrl(&w->record, T_ARRAY, n);
	for (size_t i = 0; i < m->n_sets; i++)
		if (i == 0 || w->sets[i].id != w->sets[i - 1].id)
			put_uint(&w->record, T_UINT32, (uint32_t)w->sets[i].id);
}

/* Puts one port list ("tcp_ports" or "udp_ports") of the record's sets. */
static void
put_ports(struct walk *w, const struct merge *m, bool tcp)
{
	uint64_t *map = tcp ? w->tcp : w->udp;

	memset(map, 0, sizeof(w->tcp));
	for (size_t i = 0; i < m->n_sets; i++) {
		const struct m365_set *s = &w->x->data->sets[w->sets[i].index];

		ports_mark(map, tcp ? &s->tcp : &s->udp);
	}
	ports_text(w, map);
	if (w->text.error != BUF_OK)
		w->record.error = w->text.error;
	put_string(&w->record, tcp ? "tcp_ports" : "udp_ports");
	put_string_n(&w->record, (const char *)w->text.p, w->text.len);
}

/* The "m365" map of a direct address's record. */
static void
put_m365(struct walk *w, const struct merge *m, bool custom)
{
	struct buf *b = &w->record;
	bool required = false, express = false;

	for (size_t i = 0; i < m->n_sets; i++) {
		required |= w->x->data->sets[w->sets[i].index].required;
		express |= w->x->data->sets[w->sets[i].index].express_route;
	}
	put_ctrl(b, T_MAP, 8);
	put_string(b, "category");
	put_string(b, custom ? "custom" : matcher_category_name(m->category));
	put_string(b, "sets");
	put_set_ids(w, m);
	put_string(b, "service_areas");
	put_service_areas(w, m);
	put_ports(w, m, true);
	put_ports(w, m, false);
	put_string(b, "required");
	put_bool(b, required);
	put_string(b, "express_route");
	put_bool(b, express);
	put_string(b, "data_version");
	put_string(b, w->version);
}

/* Encodes the record of a direct address into w->record. */
static void
encode_record(struct walk *w, struct merge *m)
{
	static const char *const orgs[] = { "m365-direct extra_direct",
	    "Microsoft 365 Default", "Microsoft 365 Allow",
	    "Microsoft 365 Optimize" };
	bool listed = m->n_sets > 0;
	bool custom = !(w->direct_mask & (1u << m->category));

	qsort(w->sets, m->n_sets, sizeof(*w->sets), cmp_set_ref);
	w->record.len = 0;
	w->record.error = BUF_OK;
	put_ctrl(&w->record, T_MAP, listed ? 3 : 2);
	if (listed) {
		put_string(&w->record, "autonomous_system_number");
		put_uint(&w->record, T_UINT32, MMDB_ASN_MICROSOFT);
	}
	put_string(&w->record, "autonomous_system_organization");
	put_string(&w->record, orgs[listed ? m->category : M365_CAT_NONE]);
	put_string(&w->record, "m365");
	put_m365(w, m, custom);
}

static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;       /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3u;
	return h;
}

static int
intern_grow(struct intern *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct intern_slot *s;

	if (cap > SIZE_MAX / sizeof(*s) || (s = calloc(cap, sizeof(*s))) == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		size_t k = t->slot[i].hash & (cap - 1);

		if (!t->slot[i].used)
			continue;
		while (s[k].used)
			k = (k + 1) & (cap - 1);
		s[k] = t->slot[i];
	}
	free(t->slot);
	t->slot = s;
	t->cap = cap;
	return 0;
}

/* The data section offset of w->record, stored there the first time;
 * UINT32_MAX with w->error on failure. */
static uint32_t
intern_record(struct walk *w)
{
	struct intern *t = &w->intern;
	uint64_t h = hash_bytes((const uint8_t *)w->record.p, w->record.len);
	size_t k;
	uint32_t off;

	if (2 * (t->n + 1) > t->cap && intern_grow(t) != 0) {
		w->error = "out of memory";
		return UINT32_MAX;
	}
	for (k = h & (t->cap - 1); t->slot[k].used; k = (k + 1) & (t->cap - 1))
		if (t->slot[k].hash == h && t->slot[k].len == w->record.len &&
		    memcmp(w->data.p + t->slot[k].off, w->record.p,
		    w->record.len) == 0)
			return t->slot[k].off;
	off = (uint32_t)w->data.len;
	buf_add(&w->data, w->record.p, w->record.len);
	if (w->data.error != BUF_OK) {
		w->error = buf_strerror(w->data.error);
		return UINT32_MAX;
	}
	t->slot[k] = (struct intern_slot){ h, off, (uint32_t)w->record.len,
	    true };
	t->n++;
	return off;
}

/* The value of the addresses below the walk's path with no deeper prefix:
 * nothing, or their record. */
static uint64_t
leaf_value(struct walk *w)
{
	struct merge m;
	uint32_t off;

	merge_path(w, &m);
	if (!merge_direct(w, &m))
		return VAL(V_EMPTY, 0);
	encode_record(w, &m);
	if (w->record.error != BUF_OK) {
		w->error = buf_strerror(w->record.error);
		return VAL(V_EMPTY, 0);
	}
	off = intern_record(w);
	return off == UINT32_MAX ? VAL(V_EMPTY, 0) : VAL(V_DATA, off);
}

/* --- the tree ------------------------------------------------------------ */

static uint64_t
tree_node_new(struct walk *w, const uint64_t half[2])
{
	if (grow((void **)&w->tree, &w->cap_tree, w->n_tree + 1,
	    sizeof(*w->tree), MMDB_MAX_NODES, &w->error) != 0)
		return VAL(V_EMPTY, 0);
	w->tree[w->n_tree].half[0] = half[0];
	w->tree[w->n_tree].half[1] = half[1];
	return VAL(V_NODE, w->n_tree++);
}

/* The value of trie node t's addresses, whose enclosing trie nodes are on
 * the walk's path: a leaf when both halves are the same leaf, else a tree
 * node.  Recursion depth: at most 129 (one per address bit). */
static uint64_t
walk_node(struct walk *w, uint32_t t)
{
	const struct trie_node *n = &w->trie.nodes[t];
	uint64_t half[2], leaf = VAL(V_EMPTY, 0);
	bool have_leaf = false;

	if (t == w->v6hole || t == w->v4root)
		return w->v4value;      /* IPv4, made by walk_v4 */
	w->path[w->depth++] = t;
	for (unsigned b = 0; b < 2 && w->error == NULL; b++) {
		if (n->child[b] != 0) {
			half[b] = walk_node(w, n->child[b]);
			continue;
		}
		if (!have_leaf)
			leaf = leaf_value(w);
		have_leaf = true;
		half[b] = leaf;
	}
	w->depth--;
	if (w->error != NULL)
		return VAL(V_EMPTY, 0);
	if (half[0] == half[1] && VAL_KIND(half[0]) != V_NODE)
		return half[0];
	return tree_node_new(w, half);
}

/* Makes the IPv4 subtree (::ffff:0:0/96 in the trie) with the trie nodes
 * above it on the path, so that it merges what encloses it. */
static void
walk_v4(struct walk *w)
{
	const struct ip_addr v4 = { 0, 0xffff00000000u };
	uint32_t t = 0, root = w->v4root;

	w->depth = 0;
	for (unsigned i = 0; i < 96; i++) {
		w->path[w->depth++] = t;
		t = w->trie.nodes[t].child[addr_bit(&v4, i)];
	}
	w->v4root = UINT32_MAX;         /* walk into it this once */
	w->v4value = walk_node(w, root);
	w->v4root = root;
	w->depth = 0;
}

/* The tree's nodes in pre-order, root 0: number[i] of tree node i, and
 * order[k] the tree node numbered k. */
struct numbering {
	uint32_t *number, *order;
	uint32_t count;
};

static void
tree_number(const struct walk *w, struct numbering *nb, uint64_t v)
{
	uint32_t i = VAL_INDEX(v);

	if (VAL_KIND(v) != V_NODE || nb->number[i] != UINT32_MAX)
		return;
	nb->number[i] = nb->count;
	nb->order[nb->count++] = i;
	tree_number(w, nb, w->tree[i].half[0]);
	tree_number(w, nb, w->tree[i].half[1]);
}

/* The record value of v in a tree of count nodes (the spec's "Search
 * Lookup Algorithm"). */
static uint32_t
record_value(const struct numbering *nb, uint64_t v)
{
	switch (VAL_KIND(v)) {
	case V_NODE:
		return nb->number[VAL_INDEX(v)];
	case V_DATA:
		return nb->count + MMDB_SEPARATOR + VAL_INDEX(v);
	default:
		return nb->count;
	}
}

static void
put_node(struct buf *b, uint32_t left, uint32_t right, unsigned bits)
{
	uint8_t n[7];

	n[0] = (uint8_t)(left >> 16);
	n[1] = (uint8_t)(left >> 8);
	n[2] = (uint8_t)left;
	if (bits == 24) {
		n[3] = (uint8_t)(right >> 16);
		n[4] = (uint8_t)(right >> 8);
		n[5] = (uint8_t)right;
		buf_add(b, n, 6);
		return;
	}
	n[3] = (uint8_t)(((left >> 24) & 0xf) << 4 | ((right >> 24) & 0xf));
	n[4] = (uint8_t)(right >> 16);
	n[5] = (uint8_t)(right >> 8);
	n[6] = (uint8_t)right;
	buf_add(b, n, 7);
}

/* Writes the search tree rooted at root into out; *count and *bits get
 * its node count and record size.  Returns 0 or -1 with w->error. */
static int
tree_write(struct walk *w, uint64_t root, struct buf *out, uint32_t *count,
    unsigned *bits)
{
	struct numbering nb = { NULL, NULL, 0 };
	uint64_t top;
	int rc = -1;

	if (VAL_KIND(root) != V_NODE) {
		const uint64_t half[2] = { root, root };

		root = tree_node_new(w, half);      /* a tree has a node */
		if (w->error != NULL)
			return -1;
	}
	nb.number = malloc(w->n_tree * sizeof(*nb.number));
	nb.order = malloc(w->n_tree * sizeof(*nb.order));
	if (nb.number == NULL || nb.order == NULL) {
		w->error = "out of memory";
		goto cleanup;
	}
	memset(nb.number, 0xff, w->n_tree * sizeof(*nb.number));
	tree_number(w, &nb, root);
	top = (uint64_t)nb.count + MMDB_SEPARATOR + w->data.len;
	*bits = top < (1u << 24) ? 24 : top < (1u << 28) ? 28 : 0;
	if (*bits == 0) {
		w->error = "too large";
		goto cleanup;
	}
	for (uint32_t k = 0; k < nb.count; k++) {
		const struct tree_node *n = &w->tree[nb.order[k]];

		put_node(out, record_value(&nb, n->half[0]),
		    record_value(&nb, n->half[1]), *bits);
	}
	*count = nb.count;
	rc = 0;
cleanup:
	free(nb.number);
	free(nb.order);
	return rc;
}

/* --- metadata and the file ----------------------------------------------- */

/* build_epoch: 00:00 UTC of the date of a "YYYYMMDDNN" data version, or
 * MMDB_EPOCH_UNKNOWN (never the clock: the output is deterministic). */
static uint64_t
version_epoch(const char *v)
{
	time_t day = source_version_day(v);

	return day > 0 ? (uint64_t)day : MMDB_EPOCH_UNKNOWN;
}

/* Whether name can be a database_type: 1..255 of [A-Za-z0-9._-]. */
static bool
type_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= MMDB_MAX_TYPE && strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

#define MMDB_NOTE \
	"MMDB: a record exactly where \"m365-direct check ADDRESS\" says " \
	"direct. IPv4 at ::/96 and its alias ::ffff:0:0/96; an IPv4-compatible " \
	"::a.b.c.d reads as a.b.c.d. build_epoch: the data version's date, " \
	"1 when unknown."

static void
put_metadata(struct buf *b, const struct export_ctx *x, const char *type,
    uint32_t count, unsigned bits)
{
	struct buf desc = BUF_INIT(EXPORT_MAX_BYTES);

	buf_printf(&desc, "%s\n%s", x->header, MMDB_NOTE);
	if (desc.error != BUF_OK && b->error == BUF_OK)
		b->error = desc.error;
	buf_add(b, MMDB_MARKER, MMDB_MARKER_LEN);
	put_ctrl(b, T_MAP, 9);
	put_string(b, "binary_format_major_version");
	put_uint(b, T_UINT16, 2);
	put_string(b, "binary_format_minor_version");
	put_uint(b, T_UINT16, 0);
	put_string(b, "build_epoch");
	put_uint(b, T_UINT64, version_epoch(x->source.version));
	put_string(b, "database_type");
	put_string(b, type);
	put_string(b, "description");
	put_ctrl(b, T_MAP, 1);
	put_string(b, "en");
	put_string(b, desc.p != NULL ? desc.p : "");
	buf_free(&desc);
	put_string(b, "ip_version");
	put_uint(b, T_UINT16, 6);
	put_string(b, "languages");
	put_ctrl(b, T_ARRAY, 1);
	put_string(b, "en");
	put_string(b, "node_count");
	put_uint(b, T_UINT32, count);
	put_string(b, "record_size");
	put_uint(b, T_UINT16, bits);
}

static int
walk_init(struct walk *w, const struct export_ctx *x, unsigned mask)
{
	size_t n = x->data->n_sets + 1;

	memset(w, 0, sizeof(*w));
	w->x = x;
	w->direct_mask = mask;
	w->version = x->source.version[0] ? x->source.version : "unknown";
	w->record.max = MMDB_MAX_RECORD;
	w->text.max = MMDB_MAX_TEXT;
	w->data.max = MMDB_MAX_DATA;
	w->sets = calloc(n, sizeof(*w->sets));
	w->seen = calloc(n, sizeof(*w->seen));
	w->areas = calloc(n, sizeof(*w->areas));
	return w->sets && w->seen && w->areas ? 0 : -1;
}

static void
walk_free(struct walk *w)
{
	free(w->trie.nodes);
	free(w->trie.refs);
	free(w->sets);
	free(w->seen);
	free(w->areas);
	buf_free(&w->record);
	buf_free(&w->text);
	buf_free(&w->data);
	free(w->intern.slot);
	free(w->tree);
}

/* The whole file into out.  Returns 0 or -1 with *why. */
static int
mmdb_build(struct walk *w, const char *type, struct buf *out,
    const char **why)
{
	static const uint8_t zeros[MMDB_SEPARATOR];
	uint64_t root;
	uint32_t count = 0;
	unsigned bits = 0;

	if (trie_build(&w->trie, w->x, &w->v6hole, &w->v4root) != 0) {
		*why = w->trie.error;
		return -1;
	}
	walk_v4(w);
	root = w->error == NULL ? walk_node(w, 0) : VAL(V_EMPTY, 0);
	if (w->error != NULL || tree_write(w, root, out, &count, &bits) != 0) {
		*why = w->error;
		return -1;
	}
	buf_add(out, zeros, sizeof(zeros));
	buf_add(out, w->data.p, w->data.len);
	for (size_t n = w->data.len; n < MMDB_MIN_DATA; n++)
		put_ctrl(out, T_MAP, 0);        /* unreferenced padding */
	put_metadata(out, w->x, type, count, bits);
	*why = buf_strerror(out->error);
	return out->error == BUF_OK ? 0 : -1;
}

int
export_mmdb(const struct export_ctx *x, const struct export_opts *o,
    char *err, size_t errlen)
{
	const char *type = o->database_type ? o->database_type : "m365-direct";
	const char *why = "out of memory";
	struct buf out = BUF_INIT(MMDB_MAX_FILE);
	struct walk w;
	int rc = -1;

	if (!type_valid(type)) {
		snprintf(err, errlen, "--database-type: 1 to %d letters, digits, "
		    "'.', '_' or '-'", MMDB_MAX_TYPE);
		return -1;
	}
	if (walk_init(&w, x, o->direct_mask) != 0 ||
	    mmdb_build(&w, type, &out, &why) != 0) {
		snprintf(err, errlen, "%s: %s", o->out, why);
		goto cleanup;
	}
	rc = export_buf_install(&out, o->out, err, errlen);
cleanup:
	walk_free(&w);
	buf_free(&out);
	return rc;
}
