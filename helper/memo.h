/* memo.h - a small set-associative memo of the helper's answers, keyed by
 * the request text after the channel ID.
 *
 * The answer to a request is a pure function of that text and the rules in
 * force, so a repeated request (Squid with ttl=0, several Squid workers, a
 * burst for one host before Squid's own cache has the answer) can be
 * answered by one hash and one compare instead of parsing, normalising and
 * matching again.  Keys are handled as whole 8-byte words, zero-padded, so
 * that hashing and comparing do not branch on the length of each request.
 * Bounded: a fixed number of slots, keys and answers of a bounded length
 * (longer ones are simply not memoised), a bounded pool of distinct answers
 * (there are only a few dozen: the category and the set ids); cleared
 * whenever the rules change. */
#ifndef M365_MEMO_H
#define M365_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define MEMO_KEY_WORDS 7
#define MEMO_KEY_MAX (8 * MEMO_KEY_WORDS)   /* a slot is one cache line */
#define MEMO_ANSWER_MAX 160
#define MEMO_MAX_ANSWERS 1024    /* distinct answer texts, interned */
#define MEMO_MAX_SLOTS (1u << 20)

struct memo;

struct memo_key {
	uint64_t w[MEMO_KEY_WORDS];     /* the text, zero-padded */
	uint64_t hash;
	uint8_t len;
};

/* Returns a memo of slots entries (rounded up to a power of two, at most
 * MEMO_MAX_SLOTS), or NULL when out of memory or slots is 0. */
struct memo *memo_new(size_t slots);
void memo_free(struct memo *m);

/* Forgets every answer (the rules changed): clears the tags, 2 bytes a
 * slot. */
void memo_clear(struct memo *m);

/* Makes the key of text[0..len), len <= MEMO_KEY_MAX.  Reads
 * text[0..MEMO_KEY_MAX) whatever len is (the caller's buffer has that much
 * slack); the bytes past len are ignored. */
void memo_key_make(struct memo_key *k, const char *text, size_t len);

/* Asks the processor to fetch the slot that may hold k now, for a
 * memo_get soon. */
void memo_prefetch(const struct memo *m, const struct memo_key *k);

/* Returns the memoised answer for k (its length in *alen; MEMO_ANSWER_MAX
 * bytes are readable), or NULL. */
const char *memo_get(const struct memo *m, const struct memo_key *k,
    size_t *alen);

/* Remembers answer (copied) for k, unless it is too long or the answer
 * pool is full. */
void memo_put(struct memo *m, const struct memo_key *k, const char *answer,
    size_t alen);

#endif
