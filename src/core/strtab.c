/* The string hash table declared in core/strtab.h. */
#include "core/strtab.h"

#include <string.h>
#include "core/internal.h"

_Static_assert(sizeof(sn_strtab_ent) == 64, "one entry per cache line");

uint64_t sn_strtab_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull; /* FNV prime */
    }
    h ^= h >> 33; /* murmur3 fmix64 */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

sn_status sn_strtab_init(sn_strtab *t, size_t expect) {
    memset(t, 0, sizeof *t);
    size_t s = 64;
    while (s < 2 * expect) s *= 2;
    t->slots = sn_calloc(s, sizeof *t->slots);
    if (!t->slots) return SN_ERR_NOMEM;
    t->mask = s - 1;
    return SN_OK;
}

void sn_strtab_free(sn_strtab *t) {
    free(t->slots);
    free(t->e);
    sn_buf_free(&t->arena);
    memset(t, 0, sizeof *t);
}

int64_t sn_strtab_find_h(const sn_strtab *t, const char *s, size_t n, uint64_t h) {
    if (!t->slots) return -1;
    uint64_t tag = h >> 32;
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t sl = t->slots[i];
        if (!sl) return -1;
        if ((sl >> 32) != tag) continue;
        size_t id = (size_t)(sl & 0xffffffffu) - 1;
        const sn_strtab_ent *e = &t->e[id];
        if (e->len == n && memcmp(e->inl, s, SN_MIN(n, (size_t)SN_STRTAB_INLINE)) == 0 &&
            (n <= SN_STRTAB_INLINE ||
             memcmp(t->arena.p + e->off + SN_STRTAB_INLINE, s + SN_STRTAB_INLINE, n - SN_STRTAB_INLINE) == 0))
            return (int64_t)id;
    }
}

/* Doubles the slot array and re-places every id by its stored hash. */
static sn_status grow_slots(sn_strtab *t) {
    size_t s = (t->mask + 1) * 2;
    uint64_t *ns = sn_calloc(s, sizeof *ns);
    if (!ns) return SN_ERR_NOMEM;
    for (size_t id = 0; id < t->n; id++) {
        uint64_t h = t->e[id].hash;
        size_t i = (size_t)h & (s - 1);
        while (ns[i]) i = (i + 1) & (s - 1);
        ns[i] = ((h >> 32) << 32) | (uint64_t)(id + 1);
    }
    free(t->slots);
    t->slots = ns;
    t->mask = s - 1;
    return SN_OK;
}

int64_t sn_strtab_put_h(sn_strtab *t, const char *s, size_t n, uint64_t h, int *fresh) {
    *fresh = 0;
    int64_t id = sn_strtab_find_h(t, s, n, h);
    if (id >= 0) return id;
    if (!t->slots) {
        sn_error(SN_ERR_STATE, "string table: not initialised");
        return -1;
    }
    if (n > 0xffffffffu || t->n >= 0x7fffffffu) {
        sn_error(SN_ERR_NOMEM, "string table: a %zu-byte key or more than 2^31 - 1 keys", n);
        return -1;
    }
    if (2 * (t->n + 1) > t->mask + 1 && grow_slots(t) != SN_OK) return -1;
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 1024;
        sn_strtab_ent *ne = sn_realloc(t->e, nc, sizeof *ne);
        if (!ne) return -1;
        t->e = ne;
        t->cap = nc;
    }
    size_t off = t->arena.n;
    if (sn_buf_append(&t->arena, s, n) != SN_OK || sn_buf_putc(&t->arena, '\0') != SN_OK) {
        t->arena.n = off;
        return -1;
    }
    size_t nid = t->n++;
    sn_strtab_ent *e = &t->e[nid];
    memset(e, 0, sizeof *e);
    memcpy(e->inl, s, SN_MIN(n, (size_t)SN_STRTAB_INLINE));
    e->off = off;
    e->len = (uint32_t)n;
    e->hash = h;
    size_t i = (size_t)h & t->mask;
    while (t->slots[i]) i = (i + 1) & t->mask;
    t->slots[i] = ((h >> 32) << 32) | (uint64_t)(nid + 1);
    *fresh = 1;
    return (int64_t)nid;
}
