/* A hash table of byte strings -> dense ids (core/strtab.c), private to the
 * library: the one behind the vectorizer's vocabulary and adapt counts, the
 * Word2Vec vocabulary count and the word-vector index.
 *
 * Ids are 0..n-1 in insertion order and never change; keys are copied into
 * one arena (each followed by a NUL) addressed by offsets, so growing the
 * arena never invalidates an entry. Open addressing with linear probing over
 * a power-of-two slot array kept at most half full; a slot stores the hash's
 * high 32 bits next to id + 1, so most probes that miss never touch an
 * entry. The hash is 64-bit FNV-1a finished with murmur3's fmix64 (FNV's low
 * bits alone cluster on similar keys). Every field a lookup or a counting
 * update touches sits in one 64-byte entry, including the first
 * SN_STRTAB_INLINE key bytes: a hit on a short key costs one cache miss for
 * the slot and one for the entry.
 *
 * Not thread-safe for writers; concurrent finds on an unchanging table are
 * fine. */
#ifndef SEQNN_CORE_STRTAB_H
#define SEQNN_CORE_STRTAB_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "seqnn/core.h"

#define SN_STRTAB_INLINE 28

typedef struct sn_strtab_ent {
    uint64_t hash;   /* sn_strtab_hash of the key */
    uint64_t count;  /* the user's (zero on insert), e.g. occurrences */
    uint64_t off;    /* key bytes at arena.p + off, NUL-terminated */
    uint32_t len;    /* key length in bytes */
    uint32_t aux[2]; /* the user's (zero on insert), e.g. document counts */
    char inl[SN_STRTAB_INLINE]; /* the first key bytes */
} sn_strtab_ent;

typedef struct sn_strtab {
    uint64_t *slots;  /* (mask + 1): 0 empty, else (hash >> 32) << 32 | (id + 1) */
    size_t mask;
    size_t n;         /* entries */
    size_t cap;       /* entries allocated */
    sn_strtab_ent *e; /* (cap) */
    sn_buf arena;     /* key bytes */
} sn_strtab;

/* The table's hash of s[0..n). */
uint64_t sn_strtab_hash(const char *s, size_t n);

/* An empty table sized for about `expect` keys without regrowing.
 * Errors: SN_ERR_NOMEM (t left zeroed). Free with sn_strtab_free. */
sn_status sn_strtab_init(sn_strtab *t, size_t expect);

/* Releases everything and zeroes t (a zeroed table is fine). */
void sn_strtab_free(sn_strtab *t);

/* Id of key s[0..n) whose hash is h, or -1 when absent (also for a zeroed
 * table). */
int64_t sn_strtab_find_h(const sn_strtab *t, const char *s, size_t n, uint64_t h);

static inline int64_t sn_strtab_find(const sn_strtab *t, const char *s, size_t n) {
    return sn_strtab_find_h(t, s, n, sn_strtab_hash(s, n));
}

/* Id of key s[0..n) with hash h, inserting it (count and aux zeroed) when
 * new; *fresh tells which. Returns -1 on failure with the message set:
 * SN_ERR_NOMEM, or a key over 2^32 - 1 bytes / more than 2^31 - 1 keys.
 * Entry pointers (t->e) may move on insertion; ids never do. */
int64_t sn_strtab_put_h(sn_strtab *t, const char *s, size_t n, uint64_t h, int *fresh);

static inline int64_t sn_strtab_put(sn_strtab *t, const char *s, size_t n, int *fresh) {
    return sn_strtab_put_h(t, s, n, sn_strtab_hash(s, n), fresh);
}

/* The NUL-terminated key of entry id (points into the arena: valid until the
 * next insertion). */
static inline const char *sn_strtab_key(const sn_strtab *t, size_t id) { return t->arena.p + t->e[id].off; }

#endif
