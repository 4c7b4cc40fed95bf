/* memo.c - see memo.h.  Hand-written: a dozen lines of direct-mapped table,
 * where a general hash-table library would cost more than it saves. */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

/* One cache line: a slot is checked with a single memory access. */
struct slot {
	uint32_t generation;            /* valid when equal to the memo's */
	uint16_t answer;                /* index into the answer pool */
	uint8_t klen;
	uint8_t unused;
	uint64_t key[MEMO_KEY_WORDS];   /* zero-padded */
};

_Static_assert(sizeof(struct slot) == 64, "a memo slot is one cache line");

struct answer {
	uint8_t len;
	char text[MEMO_ANSWER_MAX];
};

/* Slots come in buckets of MEMO_WAYS (4 cache lines): a key may sit in
 * any slot of its bucket, so two busy keys hashing alike do not keep
 * evicting each other. */
#define MEMO_WAYS 4

struct memo {
	void *raw;                      /* calloc'd: pages stay untouched */
	struct slot *slots;             /* raw, aligned to a cache line */
	size_t mask;                    /* of the bucket index */
	unsigned victim;                /* round-robin replacement */
	uint32_t generation;
	struct answer *answers;         /* interned, this generation */
	size_t n_answers;
};

struct memo *
memo_new(size_t slots)
{
	struct memo *m;
	size_t n = 1;

	if (slots == 0 || slots > MEMO_MAX_SLOTS)
		return NULL;
	while (n < slots || n < MEMO_WAYS)
		n <<= 1;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	/* calloc, not aligned_alloc + memset: a large calloc is mmap'd zero
	 * pages, so memory is only used as slots fill */
	m->raw = calloc(n + 1, sizeof(struct slot));
	m->answers = calloc(MEMO_MAX_ANSWERS, sizeof(*m->answers));
	if (m->raw == NULL || m->answers == NULL) {
		memo_free(m);
		return NULL;
	}
	m->slots = (struct slot *)(((uintptr_t)m->raw + sizeof(struct slot) - 1) &
	    ~(uintptr_t)(sizeof(struct slot) - 1));
	m->mask = n / MEMO_WAYS - 1;
	m->generation = 1;
	return m;
}

void
memo_free(struct memo *m)
{
	if (m == NULL)
		return;
	free(m->raw);
	free(m->answers);
	free(m);
}

void
memo_clear(struct memo *m)
{
	m->n_answers = 0;
	if (++m->generation == 0) {     /* wrapped: old stamps could match */
		memset(m->slots, 0, (m->mask + 1) * MEMO_WAYS *
		    sizeof(*m->slots));
		m->generation = 1;
	}
}

void
memo_key_make(struct memo_key *k, const char *text, size_t len)
{
	uint64_t h = len;

	/* whole words, the bytes past len masked off: no branch on len */
	for (size_t i = 0; i < MEMO_KEY_WORDS; i++) {
		size_t left = len > 8 * i ? len - 8 * i : 0;
		uint64_t w, mask;

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		mask = left >= 8 ? UINT64_MAX : ~(UINT64_MAX >> (8 * left));
#else
		mask = left >= 8 ? UINT64_MAX : (((uint64_t)1 << (8 * left)) - 1);
#endif
		memcpy(&w, text + 8 * i, 8);
		k->w[i] = w & mask;
		h = ((h << 23) | (h >> 41)) ^ k->w[i];
	}
	h *= 0x9e3779b97f4a7c15u;
	k->hash = h ^ (h >> 32);
	k->len = (uint8_t)len;
}

void
memo_prefetch(const struct memo *m, const struct memo_key *k)
{
	const struct slot *s = &m->slots[(k->hash & m->mask) * MEMO_WAYS];

	for (int w = 0; w < MEMO_WAYS; w++)
		__builtin_prefetch(&s[w]);
}

static int
slot_holds(const struct memo *m, const struct slot *s,
    const struct memo_key *k)
{
	uint64_t diff = (uint64_t)(s->generation ^ m->generation) |
	    (uint64_t)(s->klen ^ k->len);

	for (size_t i = 0; i < MEMO_KEY_WORDS; i++)
		diff |= s->key[i] ^ k->w[i];
	return diff == 0;
}

const char *
memo_get(const struct memo *m, const struct memo_key *k, size_t *alen)
{
	const struct slot *s = &m->slots[(k->hash & m->mask) * MEMO_WAYS];

	for (int w = 0; w < MEMO_WAYS; w++) {
		if (slot_holds(m, &s[w], k)) {
			const struct answer *a = &m->answers[s[w].answer];

			*alen = a->len;
			return a->text;
		}
	}
	return NULL;
}

/* The pool index of answer, added if new; -1 when the pool is full. */
static int
intern(struct memo *m, const char *answer, size_t alen)
{
	for (size_t i = 0; i < m->n_answers; i++)
		if (m->answers[i].len == alen &&
		    memcmp(m->answers[i].text, answer, alen) == 0)
			return (int)i;
	if (m->n_answers == MEMO_MAX_ANSWERS)
		return -1;
	m->answers[m->n_answers].len = (uint8_t)alen;
	memcpy(m->answers[m->n_answers].text, answer, alen);
	return (int)m->n_answers++;
}

void
memo_put(struct memo *m, const struct memo_key *k, const char *answer,
    size_t alen)
{
	struct slot *bucket = &m->slots[(k->hash & m->mask) * MEMO_WAYS], *s;
	int a, w;

	if (alen > MEMO_ANSWER_MAX || (a = intern(m, answer, alen)) < 0)
		return;
	/* a free (or stale) slot of the bucket, else the next victim */
	for (w = 0; w < MEMO_WAYS; w++)
		if (bucket[w].generation != m->generation)
			break;
	if (w == MEMO_WAYS)
		w = (int)(m->victim++ % MEMO_WAYS);
	s = &bucket[w];
	s->generation = m->generation;
	s->answer = (uint16_t)a;
	s->klen = k->len;
	memcpy(s->key, k->w, sizeof(s->key));
}
