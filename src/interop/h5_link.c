/* HDF5 groups (spec III.B-D, IV.A.2.c, g, r): old-style symbol-table
 * groups (a version 1 B-tree of symbol nodes whose names live in a local
 * heap) and new-style groups (link messages in the object header, or, for
 * "dense" storage, link messages in a fractal heap indexed by a version 2
 * B-tree of name hashes). */
#include <string.h>

#include "interop/h5_internal.h"

typedef struct walk {
    h5_link_cb cb;
    void *ctx;
    uint64_t heap;    /* symbol tables: the local heap */
    int want;         /* dense: only records with this name's hash */
    uint32_t hash;
    h5_fheap fh;
} walk;

/* ---- symbol tables ---- */

static sn_status snod_cb(sn_h5 *f, void *ctx, const uint8_t *key, const uint8_t *next_key, uint64_t child) {
    (void)key, (void)next_key;
    walk *w = ctx;
    const uint8_t *p;
    size_t so = (size_t)f->so, esz = (size_t)f->sl + so + 24;
    sn_status st = h5_at(f, child, 8, &p, "symbol table node");
    if (st) return st;
    if (!h5_sig(p, "SNOD") || p[4] != 1) return h5_bad(f, "no symbol table node at %llu", (unsigned long long)child);
    unsigned n = (unsigned)h5_le(p + 6, 2);
    if ((st = h5_at(f, child, 8 + (size_t)n * esz, &p, "symbol table node"))) return st;
    for (unsigned i = 0; i < n && !st; i++) {
        h5_cur c = h5_cur_make(p + 8 + i * esz, esz);
        /* the name offset has the size of lengths (as libhdf5 reads it), the address that of offsets */
        uint64_t name_off = h5_len(f, &c), addr = h5_addr(f, &c);
        unsigned cache = (unsigned)h5_u(&c, 4);
        const char *name;
        size_t nlen;
        if ((st = h5_spend(f, 1)) || (st = h5_lheap_str(f, w->heap, name_off, &name, &nlen))) break;
        st = w->cb(f, w->ctx, name, nlen, cache == 2 ? H5_UNDEF : addr);
    }
    return st;
}

static sn_status stab_walk(sn_h5 *f, const h5_msg *m, walk *w) {
    h5_cur c = h5_cur_make(m->data, m->size);
    uint64_t bt = h5_addr(f, &c);
    w->heap = h5_addr(f, &c);
    if (c.bad) return h5_bad(f, "short symbol table message");
    return h5_bt1_walk(f, bt, 0, (size_t)f->sl, snod_cb, w);
}

/* ---- link messages ---- */

static sn_status link_decode(sn_h5 *f, const uint8_t *p, size_t n, walk *w) {
    h5_cur c = h5_cur_make(p, n);
    unsigned ver = (unsigned)h5_u(&c, 1), flags = (unsigned)h5_u(&c, 1);
    if (ver != 1) return h5_bad(f, "link message version %u", ver);
    unsigned type = (flags & 8) ? (unsigned)h5_u(&c, 1) : 0;
    if (flags & 4) h5_skip(&c, 8);
    if (flags & 16) h5_skip(&c, 1);
    uint64_t nlen = h5_u(&c, 1 << (flags & 3));
    if (c.bad || nlen == 0 || nlen > h5_left(&c)) return h5_bad(f, "corrupt link message");
    const char *name = (const char *)h5_take(&c, (size_t)nlen);
    uint64_t addr = type == 0 ? h5_addr(f, &c) : H5_UNDEF;
    if (c.bad) return h5_bad(f, "short link message");
    return w->cb(f, w->ctx, name, (size_t)nlen, addr);
}

static sn_status dense_cb(sn_h5 *f, void *ctx, const uint8_t *rec, size_t rec_size) {
    walk *w = ctx;
    if (rec_size < 4 + w->fh.id_len) return h5_bad(f, "v2 B-tree records too short for heap IDs");
    if (w->want && (uint32_t)h5_le(rec, 4) != w->hash) return SN_OK;
    const uint8_t *p;
    size_t n;
    sn_status st = h5_spend(f, 1);
    if (!st) st = h5_fheap_get(f, &w->fh, rec + 4, &p, &n);
    if (!st) st = link_decode(f, p, n, w);
    return st;
}

/* Link info message: dense storage when its fractal heap is defined. */
static sn_status linfo_walk(sn_h5 *f, const h5_obj *g, const h5_msg *m, walk *w) {
    h5_cur c = h5_cur_make(m->data, m->size);
    unsigned ver = (unsigned)h5_u(&c, 1), flags = (unsigned)h5_u(&c, 1);
    if (ver != 0) return h5_bad(f, "link info message version %u", ver);
    if (flags & 1) h5_skip(&c, 8);
    uint64_t heap = h5_addr(f, &c), names = h5_addr(f, &c);
    if (c.bad) return h5_bad(f, "short link info message");
    sn_status st = SN_OK;
    if (heap == H5_UNDEF) {
        for (size_t i = 0; i < g->n && !st; i++)
            if (g->m[i].type == H5M_LINK) {
                if (g->m[i].flags & 2) return h5_bad(f, "shared link messages are not supported");
                st = link_decode(f, g->m[i].data, g->m[i].size, w);
            }
        return st;
    }
    if ((st = h5_fheap_open(f, heap, &w->fh))) return st;
    return h5_bt2_walk(f, names, 5, dense_cb, w);
}

static sn_status walk_links(sn_h5 *f, const h5_obj *g, walk *w) {
    const h5_msg *m = h5_obj_msg(g, H5M_STAB);
    sn_status st;
    if (m) st = stab_walk(f, m, w);
    else if ((m = h5_obj_msg(g, H5M_LINFO))) st = linfo_walk(f, g, m, w);
    else return h5_bad(f, "not a group");
    return st == H5_STOP ? SN_OK : st;
}

sn_status h5_links(sn_h5 *f, const h5_obj *g, h5_link_cb cb, void *ctx) {
    walk w;
    memset(&w, 0, sizeof w);
    w.cb = cb;
    w.ctx = ctx;
    return walk_links(f, g, &w);
}

typedef struct find_q {
    const char *name;
    size_t len;
    uint64_t addr;
    int found;
} find_q;

static sn_status find_cb(sn_h5 *f, void *ctx, const char *name, size_t nlen, uint64_t addr) {
    (void)f;
    find_q *q = ctx;
    if (nlen != q->len || memcmp(name, q->name, nlen)) return SN_OK;
    q->addr = addr;
    q->found = 1;
    return H5_STOP;
}

sn_status h5_link_find(sn_h5 *f, const h5_obj *g, const char *name, size_t len, uint64_t *addr, int *found) {
    find_q q = {name, len, H5_UNDEF, 0};
    walk w;
    memset(&w, 0, sizeof w);
    w.cb = find_cb;
    w.ctx = &q;
    w.want = 1;
    w.hash = h5_lookup3(name, len, 0);
    sn_status st = walk_links(f, g, &w);
    *addr = q.addr;
    *found = q.found;
    return st;
}
