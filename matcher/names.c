/* names.c - see names.h.  The trie is written by hand: no Debian library
 * offers a reversed-suffix trie with per-node match lists; PCRE2 does the
 * inner-wildcard patterns. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "names.h"

#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* A flattened trie node; the children of a node are contiguous, and
 * chars[i] is node i's own character, so a child is found with memchr. */
struct node {
	uint32_t child_start;
	uint32_t n_children;
	uint32_t exact_start, exact_n;    /* refs[] of patterns ending here */
	uint32_t suffix_start, suffix_n;  /* refs[] of "*" + key patterns */
};

struct glob_re {
	pcre2_code *code;
	bool jit;
	char *head, *tail;              /* literal text around the wildcards */
	size_t head_len, tail_len, min_len;
	uint32_t index;                 /* pattern index */
};

struct name_table {
	struct node *nodes;
	char *chars;
	size_t n_nodes;
	uint32_t *refs;
	struct glob_re *re;
	size_t n_re;
	pcre2_match_data *md;           /* scratch for lookups */
};

/* --- building ---------------------------------------------------------- */

/* The build-time trie: first-child/next-sibling links. */
struct tnode {
	char c;
	uint32_t child, sibling;        /* 0 = none (node 0 is the root) */
	uint32_t exact, suffix;         /* head of pattern lists, +1; 0 = none */
};

struct builder {
	struct tnode *t;
	size_t n, cap;
	uint32_t *next_exact, *next_suffix;  /* per pattern, +1; 0 = end */
};

static uint32_t
tnode_child(struct builder *b, uint32_t parent, char c)
{
	uint32_t k;

	for (k = b->t[parent].child; k != 0; k = b->t[k].sibling)
		if (b->t[k].c == c)
			return k;
	if (b->n == b->cap) {
		size_t cap = b->cap * 2;
		struct tnode *t = realloc(b->t, cap * sizeof(*t));

		if (t == NULL)
			return 0;
		b->t = t;
		b->cap = cap;
	}
	k = (uint32_t)b->n++;
	memset(&b->t[k], 0, sizeof(b->t[k]));
	b->t[k].c = c;
	b->t[k].sibling = b->t[parent].child;
	b->t[parent].child = k;
	return k;
}

/* Inserts key reversed; returns its node, or 0 when out of memory (the
 * root is never the node of a non-empty key). */
static int
tnode_insert(struct builder *b, const char *key, uint32_t *node)
{
	uint32_t n = 0;

	for (size_t i = strlen(key); i > 0; i--) {
		n = tnode_child(b, n, key[i - 1]);
		if (n == 0)
			return -1;
	}
	*node = n;
	return 0;
}

static int
cmp_char(const void *a, const void *b)
{
	return (unsigned char)*(const char *)a - (unsigned char)*(const char *)b;
}

/* Copies one list of pattern indices into refs. */
static uint32_t
flatten_list(const uint32_t *next, uint32_t head, uint32_t *refs, size_t *nrefs)
{
	uint32_t count = 0;

	for (uint32_t p = head; p != 0; p = next[p - 1]) {
		refs[(*nrefs)++] = p - 1;
		count++;
	}
	return count;
}

/* Lays the build-time trie out breadth-first with contiguous, sorted
 * children. */
static int
flatten(struct builder *b, struct name_table *t, size_t n_patterns)
{
	uint32_t *queue = calloc(b->n, sizeof(*queue));
	size_t head = 0, tail = 1, nrefs = 0;

	t->nodes = calloc(b->n, sizeof(*t->nodes));
	t->chars = calloc(b->n, 1);
	t->refs = calloc(n_patterns + 1, sizeof(*t->refs));
	if (queue == NULL || t->nodes == NULL || t->chars == NULL ||
	    t->refs == NULL) {
		free(queue);
		return -1;
	}
	t->n_nodes = b->n;
	queue[0] = 0;
	while (head < tail) {
		uint32_t old = queue[head];
		struct node *nd = &t->nodes[head];
		size_t first = tail;

		nd->exact_start = (uint32_t)nrefs;
		nd->exact_n = flatten_list(b->next_exact, b->t[old].exact,
		    t->refs, &nrefs);
		nd->suffix_start = (uint32_t)nrefs;
		nd->suffix_n = flatten_list(b->next_suffix, b->t[old].suffix,
		    t->refs, &nrefs);
		for (uint32_t k = b->t[old].child; k != 0; k = b->t[k].sibling)
			t->chars[tail] = b->t[k].c, queue[tail++] = k;
		/* sort the children by character, keeping queue aligned */
		for (size_t i = first + 1; i < tail; i++)
			for (size_t j = i; j > first &&
			    cmp_char(&t->chars[j - 1], &t->chars[j]) > 0; j--) {
				char c = t->chars[j];
				uint32_t q = queue[j];

				t->chars[j] = t->chars[j - 1];
				queue[j] = queue[j - 1];
				t->chars[j - 1] = c;
				queue[j - 1] = q;
			}
		nd->child_start = (uint32_t)first;
		nd->n_children = (uint32_t)(tail - first);
		head++;
	}
	free(queue);
	return 0;
}

/* Turns a glob into an anchored regex: '*' is ".*", '?' is ".", every other
 * character literal (escaped). */
static int
glob_compile(struct glob_re *g, const char *pat, uint32_t index, char *err,
    size_t errlen)
{
	size_t len = strlen(pat), rlen = 0;
	char *rx = malloc(2 * len + 1);
	const char *first = strpbrk(pat, "*?");
	const char *last = first;
	int ecode;
	PCRE2_SIZE eoff;

	if (rx == NULL)
		return -1;
	for (const char *p = pat; *p != '\0'; p++) {
		if (*p == '*' || *p == '?') {
			last = p;
			rx[rlen++] = '.';
			if (*p == '*')
				rx[rlen++] = '*';
		} else {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
				rx[rlen++] = '\\';
			rx[rlen++] = *p;
		}
		if (*p != '*')
			g->min_len++;
	}
	g->index = index;
	g->code = pcre2_compile((PCRE2_SPTR)rx, rlen,
	    PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_NO_AUTO_CAPTURE, &ecode,
	    &eoff, NULL);
	free(rx);
	if (g->code == NULL) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(ecode, msg, sizeof(msg));
		snprintf(err, errlen, "pattern %s: %s", pat, (char *)msg);
		return -1;
	}
	g->jit = pcre2_jit_compile(g->code, PCRE2_JIT_COMPLETE) == 0;
	g->head_len = (size_t)(first - pat);
	g->tail_len = len - (size_t)(last - pat) - 1;
	g->head = strndup(pat, g->head_len);
	g->tail = strdup(last + 1);
	return g->head == NULL || g->tail == NULL ? -1 : 0;
}

static int
build_trie(struct name_table *t, const char *const *patterns, size_t n)
{
	struct builder b = { 0 };
	int rc = -1;

	b.cap = 64;
	b.n = 1;
	b.t = calloc(b.cap, sizeof(*b.t));
	b.next_exact = calloc(n + 1, sizeof(uint32_t));
	b.next_suffix = calloc(n + 1, sizeof(uint32_t));
	if (b.t == NULL || b.next_exact == NULL || b.next_suffix == NULL)
		goto cleanup;
	/* insert in reverse so each node's list comes out in pattern order */
	for (size_t i = n; i > 0; i--) {
		const char *p = patterns[i - 1], *suffix = p;
		enum host_pattern_kind k = host_pattern_kind(p, &suffix);
		uint32_t node;

		if (k == HOST_PATTERN_GLOB)
			continue;
		if (tnode_insert(&b, suffix, &node) != 0)
			goto cleanup;
		if (k == HOST_PATTERN_EXACT) {
			b.next_exact[i - 1] = b.t[node].exact;
			b.t[node].exact = (uint32_t)i;
		} else {
			b.next_suffix[i - 1] = b.t[node].suffix;
			b.t[node].suffix = (uint32_t)i;
		}
	}
	rc = flatten(&b, t, n);
cleanup:
	free(b.t);
	free(b.next_exact);
	free(b.next_suffix);
	return rc;
}

struct name_table *
names_new(const char *const *patterns, size_t n, char *err, size_t errlen)
{
	struct name_table *t = calloc(1, sizeof(*t));
	size_t n_re = 0;

	snprintf(err, errlen, "out of memory");
	if (t == NULL)
		return NULL;
	if (build_trie(t, patterns, n) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (host_pattern_kind(patterns[i], NULL) == HOST_PATTERN_GLOB)
			n_re++;
	/* t->n_re counts the entries of t->re in use, which names_free
	 * reads: it grows only once the array is there */
	t->re = calloc(n_re + 1, sizeof(*t->re));
	t->md = pcre2_match_data_create(1, NULL);
	if (t->re == NULL || t->md == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (host_pattern_kind(patterns[i], NULL) != HOST_PATTERN_GLOB)
			continue;
		if (glob_compile(&t->re[t->n_re++], patterns[i], (uint32_t)i,
		    err, errlen) != 0)
			goto fail;
	}
	return t;
fail:
	names_free(t);
	return NULL;
}

void
names_free(struct name_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_re; i++) {
		pcre2_code_free(t->re[i].code);
		free(t->re[i].head);
		free(t->re[i].tail);
	}
	free(t->re);
	pcre2_match_data_free(t->md);
	free(t->nodes);
	free(t->chars);
	free(t->refs);
	free(t);
}

/* --- lookup ------------------------------------------------------------ */

static size_t
emit(const uint32_t *refs, uint32_t start, uint32_t count,
    visit_fn *visit, void *ctx, size_t total)
{
	for (uint32_t i = 0; i < count; i++)
		visit(ctx, refs[start + i]);
	return total + count;
}

static bool
glob_match(const struct name_table *t, const struct glob_re *g,
    const char *host, size_t len)
{
	if (len < g->min_len || memcmp(host, g->head, g->head_len) != 0 ||
	    memcmp(host + len - g->tail_len, g->tail, g->tail_len) != 0)
		return false;
	if (g->jit)
		return pcre2_jit_match(g->code, (PCRE2_SPTR)host, len, 0, 0,
		    t->md, NULL) >= 0;
	return pcre2_match(g->code, (PCRE2_SPTR)host, len, 0, 0, t->md,
	    NULL) >= 0;
}

size_t
names_visit(const struct name_table *t, const char *host, size_t len,
    visit_fn *visit, void *ctx)
{
	const struct node *nd = &t->nodes[0];
	size_t total = emit(t->refs, nd->suffix_start, nd->suffix_n, visit, ctx,
	    0);

	/* walk the reversed host: every node passed ends a suffix of it */
	for (size_t i = len; i > 0; i--) {
		const char *c = t->chars + nd->child_start;
		uint32_t k = 0;

		/* most nodes have one or two children: a loop beats memchr */
		while (k < nd->n_children && c[k] != host[i - 1])
			k++;
		if (k == nd->n_children)
			break;
		nd = &t->nodes[nd->child_start + k];
		total = emit(t->refs, nd->suffix_start, nd->suffix_n, visit, ctx,
		    total);
		if (i == 1)
			total = emit(t->refs, nd->exact_start, nd->exact_n, visit,
			    ctx, total);
	}
	for (size_t i = 0; i < t->n_re; i++)
		if (glob_match(t, &t->re[i], host, len)) {
			visit(ctx, t->re[i].index);
			total++;
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
names_regex_count(const struct name_table *t)
{
	return t->n_re;
}
