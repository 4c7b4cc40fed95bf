/* memo.c - see memo.h.  Hand-written: a dozen lines of direct-mapped table,
 * where a general hash-table library would cost more than it saves. */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

/* One cache line: a slot is checked with a single memory access. */
struct slot {
	uint16_t answer;                /* index into the answer pool */
	uint8_t klen;
	uint8_t unused[5];
	uint64_t key[MEMO_KEY_WORDS];   /* zero-padded */
};

_Static_assert(sizeof(struct slot) == 64, "a memo slot is one cache line");

struct answer {
	uint8_t len;
	char text[MEMO_ANSWER_MAX];
};

/* Slots come in buckets of MEMO_WAYS: a key may sit in any slot of its
 * bucket, so two busy keys hashing alike do not keep evicting each other.
 * Each slot has a 16-bit tag (0: empty) in a small array of its own
 * (2 bytes a slot: it stays in the processor's cache), so that finding
 * the one slot worth reading costs no trip to memory. */
#define MEMO_WAYS 4

struct memo {
	void *raw;                      /* calloc'd: pages stay untouched */
	struct slot *slots;             /* raw, aligned to a cache line */
	uint16_t *tags;                 /* MEMO_WAYS per bucket */
	size_t mask;                    /* of the bucket index */
	unsigned victim;                /* round-robin replacement */
	struct answer *answers;         /* interned, since the last clear */
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
	m->tags = calloc(n, sizeof(*m->tags));
	m->answers = calloc(MEMO_MAX_ANSWERS, sizeof(*m->answers));
	if (m->raw == NULL || m->tags == NULL || m->answers == NULL) {
		memo_free(m);
		return NULL;
	}
	m->slots = (struct slot *)(((uintptr_t)m->raw + sizeof(struct slot) - 1) &
	    ~(uintptr_t)(sizeof(struct slot) - 1));
	m->mask = n / MEMO_WAYS - 1;
	return m;
}

void
memo_free(struct memo *m)
{
	if (m == NULL)
		return;
	free(m->raw);
	free(m->tags);
	free(m->answers);
	free(m);
}

void
memo_clear(struct memo *m)
{
	m->n_answers = 0;
	memset(m->tags, 0, (m->mask + 1) * MEMO_WAYS * sizeof(*m->tags));
}

void
memo_key_make(struct memo_key *k, const char *text, size_t len)
{
	uint64_t h = len, w;
	size_t full = len / 8, i;

	/* whole words, the bytes past len masked off in the last */
	for (i = 0; i < full; i++) {
		memcpy(&k->w[i], text + 8 * i, 8);
		h = ((h << 23) | (h >> 41)) ^ k->w[i];
	}
	if (i < MEMO_KEY_WORDS) {
		size_t left = len - 8 * i;

		memcpy(&w, text + 8 * i, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w &= left == 0 ? 0 : ~(UINT64_MAX >> (8 * left));
#else
		w &= ((uint64_t)1 << (8 * left)) - 1;
#endif
		k->w[i] = w;
		h = ((h << 23) | (h >> 41)) ^ w;
		for (i++; i < MEMO_KEY_WORDS; i++) {
			k->w[i] = 0;
			h = (h << 23) | (h >> 41);
		}
	}
	h *= 0x9e3779b97f4a7c15u;
	k->hash = h ^ (h >> 32);
	k->len = (uint8_t)len;
}

static uint16_t
key_tag(const struct memo_key *k)
{
	uint16_t t = (uint16_t)(k->hash >> 48);

	return t != 0 ? t : 1;
}

/* The ways of k's bucket whose tag is k's, as a bit mask. */
static unsigned
candidates(const struct memo *m, const struct memo_key *k, size_t *bucket)
{
	const uint16_t *tags;
	uint16_t t = key_tag(k);

	*bucket = (k->hash & m->mask) * MEMO_WAYS;
	tags = &m->tags[*bucket];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && MEMO_WAYS == 4
	/* the four tags in one word: a way's 16 bits are zero in y exactly
	 * when its tag is t, and then (and only then) the sum leaves its top
	 * bit clear (no way carries into the next: each sum stays below
	 * 0x10000) */
	const uint64_t low15 = 0x7fff7fff7fff7fffu;
	uint64_t x, y, z;

	memcpy(&x, tags, sizeof(x));
	y = x ^ (t * 0x0001000100010001u);
	z = ~(((y & low15) + low15) | y) & ~low15;
	return (unsigned)((z >> 15 & 1) | (z >> 30 & 2) | (z >> 45 & 4) |
	    (z >> 60 & 8));
#else
	unsigned found = 0;

	for (unsigned w = 0; w < MEMO_WAYS; w++)
		found |= (unsigned)(tags[w] == t) << w;
	return found;
#endif
}

void
memo_prefetch(const struct memo *m, const struct memo_key *k)
{
	size_t bucket;
	unsigned found = candidates(m, k, &bucket);

	if (found != 0)
		__builtin_prefetch(&m->slots[bucket + (unsigned)__builtin_ctz(found)]);
}

static int
slot_holds(const struct slot *s, const struct memo_key *k)
{
	uint64_t diff = (uint64_t)(s->klen ^ k->len);

	for (size_t i = 0; i < MEMO_KEY_WORDS; i++)
		diff |= s->key[i] ^ k->w[i];
	return diff == 0;
}

const char *
memo_get(const struct memo *m, const struct memo_key *k, size_t *alen)
{
	size_t bucket;
	unsigned found = candidates(m, k, &bucket);

	for (; found != 0; found &= found - 1) {
		const struct slot *s = &m->slots[bucket +
		    (unsigned)__builtin_ctz(found)];

		if (slot_holds(s, k)) {
			const struct answer *a = &m->answers[s->answer];

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
	size_t bucket;
	unsigned found = candidates(m, k, &bucket), w = MEMO_WAYS;
	struct slot *s;
	int a;

	/* the slot that holds k already, if any: the new answer replaces
	 * it (two would leave the older one found first) */
	for (; found != 0; found &= found - 1)
		if (slot_holds(&m->slots[bucket + (unsigned)__builtin_ctz(found)],
		    k))
			w = (unsigned)__builtin_ctz(found);
	if (alen > MEMO_ANSWER_MAX || (a = intern(m, answer, alen)) < 0) {
		if (w < MEMO_WAYS)
			m->tags[bucket + w] = 0;        /* forget the old one */
		return;
	}
	/* else an empty slot of the bucket, else the next victim */
	for (unsigned e = 0; w == MEMO_WAYS && e < MEMO_WAYS; e++)
		if (m->tags[bucket + e] == 0)
			w = e;
	if (w == MEMO_WAYS)
		w = m->victim++ % MEMO_WAYS;
	s = &m->slots[bucket + w];
	s->answer = (uint16_t)a;
	s->klen = k->len;
	memcpy(s->key, k->w, sizeof(s->key));
	m->tags[bucket + w] = key_tag(k);
}
