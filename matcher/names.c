/* names.c - see names.h.
 *
 * Written by hand, both halves.  No Debian library offers a trie of
 * reversed strings with per-node match lists.  And none offers shExpMatch
 * with a worst-case bound: glibc's fnmatch(3) tries every split of the text
 * at every '*', recursively, and PCRE2 backtracks the same way through ".*"
 * runs (100 patterns "*a*a*...*c.x" took 11.7 s for one host).  PCRE2's
 * match and depth limits would bound the time, but a limit hit is neither
 * a match nor a non-match: taken as "no match" it would let a never_direct
 * pattern fail open, and a cap on wildcards per pattern would still leave
 * the cost exponential in that cap.  shExpMatch needs no more than '*' and
 * '?', and for those a set of states run in parallel (below) is exact and
 * linear in the host.
 *
 * The trie is path-compressed: a node per key and per branching point,
 * its edge text read in place from the pattern the key is a suffix of, so
 * memory grows with the number of patterns, not with their characters,
 * and the text is not held twice. */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define NONE UINT32_MAX

/* A flattened trie node; the children of a node are contiguous, and
 * chars[i] is the first character node i's edge matches (the last of its
 * text: the walk goes from the end of the host), so a child is found by a
 * scan of chars. */
struct node {
	const char *label;              /* the edge text, in a pattern */
	uint32_t child_start;
	uint32_t refs;                  /* refs[]: n_exact, then n_suffix */
	uint32_t n_exact, n_suffix;
	uint32_t globs, n_globs;        /* globs[] whose literal tail ends here */
	uint16_t label_len;             /* 0 for the root only */
	uint16_t n_children;
};

/* An inner-wildcard pattern, tried when the walk passes its tail. */
struct glob {
	uint32_t masks;                 /* offset in masks[] of its automaton */
	uint32_t index;                 /* pattern index */
	uint16_t final;                 /* characters other than '*' */
	uint16_t words;                 /* per state vector */
};

struct name_table {
	struct node *nodes;
	char *chars;
	size_t n_nodes;
	uint32_t *refs;
	struct glob *globs;
	size_t n_globs;
	uint64_t *masks;                /* the globs' automata */
	char *copy;                     /* names_new's copy of the patterns */
};

/* --- the glob automata ------------------------------------------------- */

/* A pattern with M characters other than '*' is an automaton of states
 * 0..M, "the first j of them are matched": on a host character, state j
 * moves to j + 1 when the pattern's character j is that character or '?',
 * and state j also stays when a '*' follows the first j (a '*' absorbs any
 * run, the empty one included).  The pattern matches when state M is
 * reached at the end of the host.  All states run at once, one bit each
 * (Baeza-Yates and Gonnet's shift-and, with '*' as a self-loop), so a host
 * of n characters costs n x ceil((M + 1) / 64) word operations whatever
 * the pattern: nothing is ever tried twice, and there is no limit whose
 * hit could be mistaken for an answer. */

/* Host characters as the automata see them: 0 for any byte but the 39
 * a host name holds (which only '?' matches), 1.. for a-z, 0-9, '-', '_'
 * and '.'; a table, as this is read per character and pattern tried. */
#define GLOB_CLASSES 40
#define GLOB_WORDS_MAX ((HOST_NAME_MAX_LEN + 64) / 64)
_Static_assert(GLOB_WORDS_MAX == 4, "glob_run has a case per word count");

static const unsigned char glob_class[256] = {
	['a'] = 1, ['b'] = 2, ['c'] = 3, ['d'] = 4, ['e'] = 5, ['f'] = 6,
	['g'] = 7, ['h'] = 8, ['i'] = 9, ['j'] = 10, ['k'] = 11,
	['l'] = 12, ['m'] = 13, ['n'] = 14, ['o'] = 15, ['p'] = 16,
	['q'] = 17, ['r'] = 18, ['s'] = 19, ['t'] = 20, ['u'] = 21,
	['v'] = 22, ['w'] = 23, ['x'] = 24, ['y'] = 25, ['z'] = 26,
	['0'] = 27, ['1'] = 28, ['2'] = 29, ['3'] = 30, ['4'] = 31,
	['5'] = 32, ['6'] = 33, ['7'] = 34, ['8'] = 35, ['9'] = 36,
	['-'] = 37, ['_'] = 38, ['.'] = 39
};

static size_t
glob_words(size_t final)
{
	return final / 64 + 1;
}

/* Writes the automaton of pattern p (final characters other than '*')
 * into m, zeroed: for each class the states a character of it moves to,
 * then the states a '*' keeps. */
static void
glob_compile(uint64_t *m, const char *p, size_t final)
{
	size_t words = glob_words(final), j = 0;
	uint64_t *loop = m + GLOB_CLASSES * words;

	for (; *p != '\0'; p++) {
		if (*p == '*') {
			loop[j / 64] |= (uint64_t)1 << (j % 64);
			continue;
		}
		j++;
		for (unsigned c = 0; c < GLOB_CLASSES; c++)
			if (*p == '?' || glob_class[(unsigned char)*p] == c)
				m[c * words + j / 64] |= (uint64_t)1 << (j % 64);
	}
}

/* Runs the automaton m of words state words (a constant where it is
 * called, so that the loop over them unrolls) over s[0..n); returns
 * whether it ends in state final. */
static inline bool
glob_run_words(const uint64_t *m, size_t words, size_t final, const char *s,
    size_t n)
{
	const uint64_t *loop = m + GLOB_CLASSES * words;
	uint64_t d[GLOB_WORDS_MAX] = { 1 };     /* state 0 */
	size_t top = 1;         /* d[top..] are 0 */

	for (size_t i = 0; i < n; i++) {
		const uint64_t *step = m +
		    glob_class[(unsigned char)s[i]] * words;
		uint64_t carry = 0, any = 0;

		for (size_t w = 0; w < top; w++) {
			uint64_t x = d[w];

			d[w] = (((x << 1) | carry) & step[w]) | (x & loop[w]);
			carry = x >> 63;
			any |= d[w];
		}
		if (any == 0)
			return false;   /* no state left: most hosts end here */
		/* a state moves up one at most per character: a word above
		 * the ones in use fills only by a carry out of the last */
		top += top < words && (d[top - 1] >> 63) != 0;
	}
	return (d[final / 64] >> (final % 64)) & 1;
}

/* Whether the automaton g accepts all of s[0..n). */
static bool
glob_run(const struct name_table *t, const struct glob *g, const char *s,
    size_t n)
{
	const uint64_t *m = t->masks + g->masks;

	switch (g->words) {
	case 1:
		return glob_run_words(m, 1, g->final, s, n);
	case 2:
		return glob_run_words(m, 2, g->final, s, n);
	case 3:
		return glob_run_words(m, 3, g->final, s, n);
	default:
		return glob_run_words(m, GLOB_WORDS_MAX, g->final, s, n);
	}
}

/* --- building ---------------------------------------------------------- */

/* One pattern while building: the literal suffix the trie keys it on. */
struct entry {
	const char *pattern;            /* borrowed */
	const char *key;                /* a suffix of pattern */
	uint32_t key_len, index;
	enum host_pattern_kind kind;
};

/* A node while building: its text is key_end - depth .. key_end -
 * (parent's depth), in the pattern of a key it is on the path of, so a
 * split moves nothing. */
struct bnode {
	const char *key_end;
	uint32_t depth, parent;
	uint32_t refs, n_exact, n_suffix, globs, n_globs;
};

struct builder {
	struct entry *e;
	size_t n;
	struct bnode *b;
	size_t n_b;
	size_t n_globs, masks_len;
};

/* Orders entries by reversed key (so a key's extensions follow it), then
 * kind, then pattern order: every node's lists come out contiguous and in
 * pattern order. */
static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;

	for (size_t i = 1; i <= n; i++) {
		unsigned char cx = (unsigned char)x->key[x->key_len - i];
		unsigned char cy = (unsigned char)y->key[y->key_len - i];

		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* How many characters the ends of a and b share. */
static uint32_t
common_tail(const struct entry *a, const struct entry *b)
{
	uint32_t n = 0;

	while (n < a->key_len && n < b->key_len &&
	    a->key[a->key_len - 1 - n] == b->key[b->key_len - 1 - n])
		n++;
	return n;
}

/* The characters of p other than '*': the final state of its automaton. */
static size_t
glob_final(const char *p)
{
	size_t n = 0;

	for (; *p != '\0'; p++)
		n += *p != '*';
	return n;
}

/* Whether entries a and b have the same key. */
static bool
same_key(const struct entry *a, const struct entry *b)
{
	return a->key_len == b->key_len && common_tail(a, b) == a->key_len;
}

/* Fills b->e from the patterns and sorts it; sizes the automata.
 * Returns 0, or -1 with a message. */
static int
entries_make(struct builder *b, const char *const *patterns, size_t n,
    char *err, size_t errlen)
{
	b->n_globs = b->masks_len = 0;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &b->e[i];

		if (strlen(patterns[i]) > HOST_NAME_MAX_LEN) {
			snprintf(err, errlen, "pattern longer than %d characters",
			    HOST_NAME_MAX_LEN);
			return -1;
		}
		e->pattern = e->key = patterns[i];
		e->index = (uint32_t)i;
		e->kind = host_pattern_kind(e->pattern, &e->key);
		if (e->kind == HOST_PATTERN_GLOB) {
			/* keyed by the literal tail after the last wildcard */
			e->key = strrchr(e->pattern, '\0');
			while (e->key > e->pattern && e->key[-1] != '*' &&
			    e->key[-1] != '?')
				e->key--;
			b->n_globs++;
			b->masks_len += (GLOB_CLASSES + 1) *
			    glob_words(glob_final(e->pattern));
		}
		e->key_len = (uint32_t)strlen(e->key);
	}
	qsort(b->e, n, sizeof(*b->e), cmp_entry);
	return 0;
}

static uint32_t
bnode_add(struct builder *b, const char *key_end, uint32_t depth,
    uint32_t parent)
{
	struct bnode *nd = &b->b[b->n_b];

	memset(nd, 0, sizeof(*nd));
	nd->key_end = key_end;
	nd->depth = depth;
	nd->parent = parent;
	return (uint32_t)b->n_b++;
}

/* The node for a key of key_len characters sharing lcp with the previous
 * key, whose path is stack[0..*sp): pops to the branching point, splits
 * the edge there when it falls inside one, and pushes the key's node. */
static uint32_t
trie_place(struct builder *b, uint32_t *stack, size_t *sp, uint32_t lcp,
    uint32_t key_len, const char *key_end)
{
	uint32_t popped = NONE, top;

	while (b->b[stack[*sp - 1]].depth > lcp)
		popped = stack[--*sp];
	top = stack[*sp - 1];
	if (b->b[top].depth < lcp) {    /* then popped is set */
		uint32_t m = bnode_add(b, key_end, lcp, top);

		b->b[popped].parent = m;
		stack[(*sp)++] = top = m;
	}
	if (b->b[top].depth == key_len)
		return top;
	stack[(*sp)++] = bnode_add(b, key_end, key_len, top);
	return stack[*sp - 1];
}

/* Adds the inner-wildcard pattern of e to t->globs, its automaton at
 * offset *masks of t->masks. */
static void
glob_add(struct name_table *t, const struct entry *e, size_t *masks)
{
	struct glob *g = &t->globs[t->n_globs++];
	size_t final = glob_final(e->pattern);

	g->masks = (uint32_t)*masks;
	g->index = e->index;
	g->final = (uint16_t)final;     /* <= HOST_NAME_MAX_LEN */
	g->words = (uint16_t)glob_words(final);
	glob_compile(t->masks + *masks, e->pattern, final);
	*masks += (GLOB_CLASSES + 1) * g->words;
}

/* Builds the nodes from the sorted entries, filling the refs and globs
 * of t.  In sorted order a key's node is a child of the deepest node
 * it shares its end with, so one stack of the current path suffices. */
static void
trie_build(struct builder *b, struct name_table *t, uint32_t *stack)
{
	size_t sp = 1, refs = 0, masks = 0, i = 0;

	bnode_add(b, "", 0, NONE);     /* the root: the empty key */
	stack[0] = 0;
	while (i < b->n) {
		const struct entry *e = &b->e[i];
		uint32_t lcp = i > 0 ? common_tail(&b->e[i - 1], e) : 0, node;
		struct bnode *nd;

		node = trie_place(b, stack, &sp, lcp, e->key_len,
		    e->key + e->key_len);
		nd = &b->b[node];
		nd->refs = (uint32_t)refs;
		nd->globs = (uint32_t)t->n_globs;
		for (; i < b->n && same_key(&b->e[i], e); i++) {
			const struct entry *x = &b->e[i];

			if (x->kind == HOST_PATTERN_GLOB) {
				glob_add(t, x, &masks);
				nd->n_globs++;
				continue;
			}
			t->refs[refs++] = x->index;
			*(x->kind == HOST_PATTERN_EXACT ? &nd->n_exact :
			    &nd->n_suffix) += 1;
		}
	}
}

/* The character a walk reads first on the edge into node i. */
static char
edge_char(const struct builder *b, uint32_t i)
{
	return b->b[i].key_end[-(ptrdiff_t)b->b[b->b[i].parent].depth - 1];
}

/* Lays the nodes out breadth-first, each node's children contiguous and
 * sorted by character.  kids and queue hold n_b entries each. */
static void
trie_flatten(const struct builder *b, struct name_table *t, uint32_t *kids,
    uint32_t *start, uint32_t *queue)
{
	size_t tail = 1;

	/* the children of each node, grouped by parent (counting sort) */
	memset(start, 0, (b->n_b + 1) * sizeof(*start));
	for (size_t i = 1; i < b->n_b; i++)
		start[b->b[i].parent + 1]++;
	for (size_t i = 0; i < b->n_b; i++)
		start[i + 1] += start[i];
	for (size_t i = 1; i < b->n_b; i++)
		kids[start[b->b[i].parent]++] = (uint32_t)i;
	for (size_t i = b->n_b; i > 0; i--)       /* undo the ++ above */
		start[i] = start[i - 1];
	start[0] = 0;
	queue[0] = 0;
	for (size_t head = 0; head < b->n_b; head++) {
		const struct bnode *bn = &b->b[queue[head]];
		struct node *nd = &t->nodes[head];
		uint32_t *k = kids + start[queue[head]];
		size_t nk = start[queue[head] + 1] - start[queue[head]];

		/* few children per node: insertion sort */
		for (size_t i = 1; i < nk; i++)
			for (size_t j = i; j > 0 && (unsigned char)edge_char(b,
			    k[j - 1]) > (unsigned char)edge_char(b, k[j]); j--) {
				uint32_t x = k[j];

				k[j] = k[j - 1];
				k[j - 1] = x;
			}
		nd->child_start = (uint32_t)tail;
		nd->n_children = (uint16_t)nk;
		for (size_t i = 0; i < nk; i++) {
			t->chars[tail] = edge_char(b, k[i]);
			queue[tail++] = k[i];
		}
		nd->label_len = (uint16_t)(queue[head] == 0 ? 0 :
		    bn->depth - b->b[bn->parent].depth);
		nd->label = bn->key_end - bn->depth;
		nd->refs = bn->refs;
		nd->n_exact = bn->n_exact;
		nd->n_suffix = bn->n_suffix;
		nd->globs = bn->globs;
		nd->n_globs = bn->n_globs;
	}
}

/* Allocates what the table and the builder need for n patterns: at most
 * 1 + 2n nodes (one per key and one per branching point), and the
 * automata as entries_make sized them. */
static int
table_alloc(struct name_table *t, struct builder *b, size_t n)
{
	b->b = calloc(1 + 2 * n, sizeof(*b->b));
	t->refs = calloc(n + 1, sizeof(*t->refs));
	t->globs = calloc(b->n_globs + 1, sizeof(*t->globs));
	t->masks = calloc(b->masks_len + 1, sizeof(*t->masks));
	return b->b && t->refs && t->globs && t->masks ? 0 : -1;
}

/* Builds t from patterns[0..n); returns 0, or -1 with a message. */
static int
table_build(struct name_table *t, const char *const *patterns, size_t n,
    char *err, size_t errlen)
{
	struct builder b = { 0 };
	uint32_t *stack = NULL, *kids = NULL, *start = NULL, *queue = NULL;
	int rc = -1;

	snprintf(err, errlen, "out of memory");
	/* node ids and automaton offsets then fit 32 bits */
	if (n > UINT32_MAX / ((GLOB_CLASSES + 1) * GLOB_WORDS_MAX + 2))
		return -1;
	b.n = n;
	if ((b.e = calloc(n + 1, sizeof(*b.e))) == NULL ||
	    entries_make(&b, patterns, n, err, errlen) != 0)
		goto cleanup;
	snprintf(err, errlen, "out of memory");
	/* the path from the root: depth grows by at least 1 per node */
	stack = calloc(HOST_NAME_MAX_LEN + 2, sizeof(*stack));
	if (stack == NULL || table_alloc(t, &b, n) != 0)
		goto cleanup;
	trie_build(&b, t, stack);
	free(b.e);
	b.e = NULL;
	t->n_nodes = b.n_b;
	t->nodes = calloc(b.n_b, sizeof(*t->nodes));
	t->chars = calloc(b.n_b, 1);
	kids = calloc(b.n_b, sizeof(*kids));
	start = calloc(b.n_b + 1, sizeof(*start));
	queue = calloc(b.n_b, sizeof(*queue));
	if (t->nodes == NULL || t->chars == NULL || kids == NULL ||
	    start == NULL || queue == NULL)
		goto cleanup;
	trie_flatten(&b, t, kids, start, queue);
	rc = 0;
cleanup:
	free(b.e);
	free(b.b);
	free(stack);
	free(kids);
	free(start);
	free(queue);
	return rc;
}

struct name_table *
names_new_borrowed(const char *const *patterns, size_t n, char *err,
    size_t errlen)
{
	struct name_table *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (table_build(t, patterns, n, err, errlen) != 0) {
		names_free(t);
		return NULL;
	}
	return t;
}

/* Copies patterns[0..n) into one block (*copy) and points (*ptrs, n
 * entries) at the copies.  Returns 0, or -1 when out of memory. */
static int
patterns_copy(const char *const *patterns, size_t n, char **copy,
    const char ***ptrs)
{
	size_t size = 1, o = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(patterns[i]) + 1;

		if (len > SIZE_MAX - size)
			return -1;
		size += len;
	}
	*copy = malloc(size);
	*ptrs = calloc(n + 1, sizeof(**ptrs));
	if (*copy == NULL || *ptrs == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(patterns[i]) + 1;

		memcpy(*copy + o, patterns[i], len);
		(*ptrs)[i] = *copy + o;
		o += len;
	}
	return 0;
}

struct name_table *
names_new(const char *const *patterns, size_t n, char *err, size_t errlen)
{
	char *copy = NULL;
	const char **ptrs = NULL;
	struct name_table *t = NULL;

	if (patterns_copy(patterns, n, &copy, &ptrs) != 0)
		snprintf(err, errlen, "out of memory");
	else
		t = names_new_borrowed(ptrs, n, err, errlen);
	free(ptrs);
	if (t == NULL)
		free(copy);
	else
		t->copy = copy;
	return t;
}

void
names_free(struct name_table *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t->chars);
	free(t->refs);
	free(t->globs);
	free(t->masks);
	free(t->copy);
	free(t);
}

/* --- lookup ------------------------------------------------------------ */

static size_t
emit(const uint32_t *refs, uint32_t start, uint32_t count,
    visit_fn *visit, void *ctx)
{
	for (uint32_t i = 0; i < count; i++)
		visit(ctx, refs[start + i]);
	return count;
}

/* Tries the inner-wildcard patterns whose literal tail ends the host. */
static size_t
try_globs(const struct name_table *t, const struct node *nd,
    const char *host, size_t len, visit_fn *visit, void *ctx)
{
	size_t n = 0;

	for (uint32_t i = 0; i < nd->n_globs; i++) {
		const struct glob *g = &t->globs[nd->globs + i];

		if (len >= g->final && glob_run(t, g, host, len)) {
			visit(ctx, g->index);
			n++;
		}
	}
	return n;
}

/* The child of nd whose edge is the text of host[0..*i) just before *i,
 * with *i moved past it; NULL when there is none. */
static const struct node *
step(const struct name_table *t, const struct node *nd, const char *host,
    size_t *i)
{
	const char *c = t->chars + nd->child_start;
	const struct node *child;
	uint32_t k = 0;

	/* most nodes have one or two children: a loop beats memchr */
	while (k < nd->n_children && c[k] != host[*i - 1])
		k++;
	if (k == nd->n_children)
		return NULL;
	child = &t->nodes[nd->child_start + k];
	if (child->label_len > *i || memcmp(host + *i - child->label_len,
	    child->label, child->label_len) != 0)
		return NULL;
	*i -= child->label_len;
	return child;
}

size_t
names_visit(const struct name_table *t, const char *host, size_t len,
    visit_fn *visit, void *ctx)
{
	const struct node *nd = &t->nodes[0];
	size_t total = 0, i = len;

	/* walk the reversed host: every node passed ends a suffix of it */
	for (;;) {
		total += emit(t->refs, nd->refs + nd->n_exact, nd->n_suffix,
		    visit, ctx);
		total += try_globs(t, nd, host, len, visit, ctx);
		if (i == 0) {
			total += emit(t->refs, nd->refs, nd->n_exact, visit, ctx);
			break;
		}
		if ((nd = step(t, nd, host, &i)) == NULL)
			break;
	}
	return total;
}

size_t
names_lookup(const struct name_table *t, const char *host, size_t len,
    uint32_t *out, size_t cap)
{
	struct visit_list l = { out, cap, 0 };

	return names_visit(t, host, len, visit_collect, &l);
}

size_t
names_glob_count(const struct name_table *t)
{
	return t->n_globs;
}
