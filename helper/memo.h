/* memo.h - a small direct-mapped memo of the helper's answers, keyed by the
 * request text after the channel ID.
 *
 * The answer to a request is a pure function of that text and the rules in
 * force, so a repeated request (Squid with ttl=0, several Squid workers, a
 * burst for one host before Squid's own cache has the answer) can be
 * answered by one hash and one compare instead of parsing, normalising and
 * matching again.  Bounded: a fixed number of slots, keys and answers of a
 * bounded length (longer ones are simply not memoised), a bounded pool of
 * distinct answers (there are only a few dozen: the category and the set
 * ids); cleared whenever the rules change. */
#ifndef M365_MEMO_H
#define M365_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define MEMO_KEY_MAX 56          /* a slot is one 64-byte cache line */
#define MEMO_ANSWER_MAX 160
#define MEMO_MAX_ANSWERS 1024    /* distinct answer texts, interned */
#define MEMO_MAX_SLOTS (1u << 20)

struct memo;

/* Returns a memo of slots entries (rounded up to a power of two, at most
 * MEMO_MAX_SLOTS), or NULL when out of memory or slots is 0. */
struct memo *memo_new(size_t slots);
void memo_free(struct memo *m);

/* Forgets every answer (the rules changed).  O(1). */
void memo_clear(struct memo *m);

uint64_t memo_hash(const char *key, size_t len);

/* Returns the memoised answer for key (its length in *alen), or NULL. */
const char *memo_get(const struct memo *m, const char *key, size_t klen,
    uint64_t hash, size_t *alen);

/* Remembers answer for key (both copied), unless either is too long. */
void memo_put(struct memo *m, const char *key, size_t klen, uint64_t hash,
    const char *answer, size_t alen);

#endif
