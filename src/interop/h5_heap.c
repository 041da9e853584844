/* HDF5 heaps (spec III.D, III.E, III.G): the local heap of symbol-table
 * groups (link names), global heap collections (variable-length data) and
 * fractal heaps (dense links and attributes: managed objects in direct
 * blocks under a doubling table of indirect blocks, huge objects through a
 * version 2 B-tree, tiny objects inside their IDs). */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "interop/h5_internal.h"

/* ---- local heap ---- */

sn_status h5_lheap_str(sn_h5 *f, uint64_t heap_addr, uint64_t off, const char **s, size_t *len) {
    const uint8_t *p;
    size_t hl = 8 + 2 * (size_t)f->sl + (size_t)f->so;
    sn_status st = h5_at(f, heap_addr, hl, &p, "local heap");
    if (st) return st;
    if (!h5_sig(p, "HEAP") || p[4] != 0) return h5_bad(f, "no local heap at %llu", (unsigned long long)heap_addr);
    h5_cur c = h5_cur_make(p + 8, hl - 8);
    uint64_t size = h5_len(f, &c);
    h5_len(f, &c);
    uint64_t data = h5_addr(f, &c);
    const uint8_t *d;
    if ((st = h5_at(f, data, size, &d, "local heap data"))) return st;
    if (off >= size) return h5_bad(f, "name offset %llu is outside its local heap", (unsigned long long)off);
    const uint8_t *e = memchr(d + off, 0, (size_t)(size - off));
    if (!e) return h5_bad(f, "a name in the local heap at %llu is not terminated", (unsigned long long)heap_addr);
    *s = (const char *)(d + off);
    *len = (size_t)(e - (d + off));
    return SN_OK;
}

/* ---- global heap ---- */

static void gcol_clear(h5_gcol *g) {
    free(g->idx);
    free(g->p);
    free(g->len);
    memset(g, 0, sizeof *g);
    g->addr = H5_UNDEF;
}

void h5_gheap_free(sn_h5 *f) {
    for (int i = 0; i < H5_GCOL_CACHE; i++) gcol_clear(&f->gc[i]);
}

/* Indexes the collection at addr into g: objects follow the header, each
 * an object header and its data, all padded to 8 bytes, until the
 * free-space object (index 0) or the end.
 * Every step advances, so a corrupt collection cannot loop. */
static sn_status gcol_load(sn_h5 *f, uint64_t addr, h5_gcol *g) {
    const uint8_t *p;
    size_t hl = (8 + (size_t)f->sl + 7) & ~(size_t)7; /* the header and object headers are padded to 8 bytes */
    sn_status st = h5_at(f, addr, hl, &p, "global heap collection");
    if (st) return st;
    if (!h5_sig(p, "GCOL") || p[4] != 1) return h5_bad(f, "no global heap collection at %llu", (unsigned long long)addr);
    uint64_t size = h5_le(p + 8, f->sl);
    if (size < hl) return h5_bad(f, "global heap collection at %llu has size %llu", (unsigned long long)addr, (unsigned long long)size);
    if ((st = h5_at(f, addr, size, &p, "global heap collection"))) return st;
    size_t oh = hl, cap = (size_t)(size / oh) + 1;
    g->idx = sn_malloc(cap, sizeof *g->idx);
    g->p = sn_malloc(cap, sizeof *g->p);
    g->len = sn_malloc(cap, sizeof *g->len);
    if (!g->idx || !g->p || !g->len) return SN_ERR_NOMEM;
    g->addr = addr;
    h5_cur c = h5_cur_make(p + hl, (size_t)size - hl);
    while (h5_left(&c) >= oh) {
        unsigned idx = (unsigned)h5_u(&c, 2);
        h5_skip(&c, 6);
        uint64_t len = h5_len(f, &c);
        h5_skip(&c, oh - 8 - (size_t)f->sl);
        if (idx == 0) break; /* free space: the rest of the collection */
        if (len > h5_left(&c))
            return h5_bad(f, "global heap object %u runs past its collection at %llu", idx, (unsigned long long)addr);
        const uint8_t *d = h5_take(&c, (size_t)len);
        h5_skip(&c, (size_t)((8 - len % 8) % 8));
        if (g->n == cap) break;
        g->idx[g->n] = idx;
        g->p[g->n] = d;
        g->len[g->n] = len;
        g->n++;
        if ((st = h5_spend(f, 1))) return st;
    }
    return SN_OK;
}

sn_status h5_gheap_get(sn_h5 *f, uint64_t addr, uint32_t index, const uint8_t **p, uint64_t *len) {
    h5_gcol *g = NULL;
    for (int i = 0; i < H5_GCOL_CACHE && !g; i++)
        if (f->gc[i].addr == addr && f->gc[i].idx) g = &f->gc[i];
    if (!g) {
        g = &f->gc[f->gc_next];
        f->gc_next = (f->gc_next + 1) % H5_GCOL_CACHE;
        gcol_clear(g);
        sn_status st = gcol_load(f, addr, g);
        if (st) {
            gcol_clear(g);
            return st;
        }
    }
    for (size_t i = 0; i < g->n; i++)
        if (g->idx[i] == index) {
            *p = g->p[i];
            *len = g->len[i];
            return SN_OK;
        }
    return h5_bad(f, "global heap collection at %llu has no object %u", (unsigned long long)addr, index);
}

/* ---- fractal heap ---- */

sn_status h5_fheap_open(sn_h5 *f, uint64_t addr, h5_fheap *h) {
    memset(h, 0, sizeof *h);
    size_t so = (size_t)f->so, sl = (size_t)f->sl, len = 22 + 12 * sl + 3 * so + 4; /* with the checksum */
    const uint8_t *p;
    sn_status st = h5_at(f, addr, len, &p, "fractal heap header");
    if (st) return st;
    if (!h5_sig(p, "FRHP") || p[4] != 0) return h5_bad(f, "no fractal heap header at %llu", (unsigned long long)addr);
    h5_cur c = h5_cur_make(p + 5, len - 5);
    h->addr = addr;
    h->id_len = (unsigned)h5_u(&c, 2);
    unsigned filt_len = (unsigned)h5_u(&c, 2);
    h->flags = (unsigned)h5_u(&c, 1);
    h->max_man = (uint32_t)h5_u(&c, 4);
    h5_len(f, &c);
    h->huge_bt = h5_addr(f, &c);
    h5_skip(&c, sl + so + 8 * sl); /* free space, its manager, managed / huge / tiny statistics */
    h->width = (unsigned)h5_u(&c, 2);
    h->start_block = h5_len(f, &c);
    h->max_direct = h5_len(f, &c);
    h->max_heap_bits = (unsigned)h5_u(&c, 2);
    h5_skip(&c, 2);
    h->root = h5_addr(f, &c);
    h->cur_rows = (unsigned)h5_u(&c, 2);
    h->filtered = filt_len > 0;
    size_t total = len - 4 + (h->filtered ? sl + 4 + filt_len : 0);
    if (c.bad || (st = h5_at(f, addr, total + 4, &p, "fractal heap header"))) return st ? st : h5_bad(f, "short fractal heap header");
    if ((st = h5_check_sum(f, p, total, "fractal heap header"))) return st;
    if (!h5_pow2(h->width) || h->width > 65536 || !h5_pow2(h->start_block) || !h5_pow2(h->max_direct) ||
        h->max_direct < h->start_block || h->max_direct > ((uint64_t)1 << 40) || h->max_heap_bits < 1 ||
        h->max_heap_bits > 64 || h->id_len < 2 || h->id_len > 1024 || h->max_man == 0)
        return h5_bad(f, "fractal heap at %llu has inconsistent parameters", (unsigned long long)addr);
    h->max_direct_rows = h5_log2(h->max_direct) - h5_log2(h->start_block) + 2;
    h->first_row_bits = h5_log2(h->start_block) + h5_log2(h->width);
    h->off_size = h->blk_off_size = (int)(h->max_heap_bits + 7) / 8;
    int a = (h5_log2(h->max_direct) + 7) / 8, b = h5_log2(h->max_man) / 8 + 1;
    h->len_size = a < b ? a : b;
    if (h->cur_rows > (unsigned)h->max_heap_bits + 2)
        return h5_bad(f, "fractal heap at %llu claims %u rows", (unsigned long long)addr, h->cur_rows);
    return SN_OK;
}

static uint64_t row_size(const h5_fheap *h, int r) { return r <= 1 ? h->start_block : h->start_block << (r - 1); }
static uint64_t row_off(const h5_fheap *h, int r) {
    return r == 0 ? 0 : ((uint64_t)h->start_block * h->width) << (r - 1);
}

/* The direct block holding heap offset `off`: walks the indirect blocks
 * from the root. *bstart is the block's first heap offset. */
static sn_status find_dblock(sn_h5 *f, const h5_fheap *h, uint64_t off, uint64_t *daddr, uint64_t *bsize, uint64_t *bstart) {
    uint64_t ib = h->root, ib_off = 0;
    unsigned nrows = h->cur_rows;
    size_t so = (size_t)f->so;
    for (int depth = 0; depth < H5_MAX_DEPTH; depth++) {
        sn_status st = h5_spend(f, 1);
        if (st) return st;
        uint64_t rel = off - ib_off;
        int row;
        uint64_t col;
        if (rel < (uint64_t)h->start_block * h->width) {
            row = 0;
            col = rel / h->start_block;
        } else {
            int hb = h5_log2(rel);
            row = hb - h->first_row_bits + 1;
            col = (rel - ((uint64_t)1 << hb)) / row_size(h, row);
        }
        if (row < 0 || (unsigned)row >= nrows || col >= h->width)
            return h5_bad(f, "fractal heap offset %llu is outside its heap", (unsigned long long)off);
        unsigned kd = (nrows < (unsigned)h->max_direct_rows ? nrows : (unsigned)h->max_direct_rows) * h->width;
        unsigned ki = nrows > (unsigned)h->max_direct_rows ? (nrows - (unsigned)h->max_direct_rows) * h->width : 0;
        size_t hl = 5 + so + (size_t)h->blk_off_size, len = hl + (size_t)kd * so + (size_t)ki * so;
        const uint8_t *p;
        if ((st = h5_at(f, ib, len + 4, &p, "fractal heap indirect block"))) return st;
        if (!h5_sig(p, "FHIB") || p[4] != 0 || h5_le(p + 5, f->so) != h->addr)
            return h5_bad(f, "no fractal heap indirect block at %llu", (unsigned long long)ib);
        if ((st = h5_check_sum(f, p, len, "fractal heap indirect block"))) return st;
        h5_cur c = h5_cur_make(p + hl + ((size_t)row * h->width + col) * so, so);
        uint64_t child = h5_addr(f, &c);
        uint64_t start = ib_off + row_off(h, row) + col * row_size(h, row);
        if (child == H5_UNDEF) return h5_bad(f, "fractal heap offset %llu is in an unallocated block", (unsigned long long)off);
        if (row < h->max_direct_rows) {
            *daddr = child;
            *bsize = row_size(h, row);
            *bstart = start;
            return SN_OK;
        }
        ib = child;
        ib_off = start;
        nrows = (unsigned)(h5_log2(row_size(h, row)) - h->first_row_bits + 1);
    }
    return h5_bad(f, "fractal heap at %llu nests too deep", (unsigned long long)h->addr);
}

static sn_status managed(sn_h5 *f, const h5_fheap *h, const uint8_t *id, const uint8_t **p, size_t *len) {
    uint64_t off = h5_le(id + 1, h->off_size), olen = h5_le(id + 1 + h->off_size, h->len_size);
    uint64_t daddr = H5_UNDEF, bsize = 0, bstart = 0;
    sn_status st = SN_OK;
    if (h->root == H5_UNDEF) return h5_bad(f, "fractal heap at %llu is empty", (unsigned long long)h->addr);
    if (h->cur_rows == 0) {
        daddr = h->root;
        bsize = h->start_block;
    } else if ((st = find_dblock(f, h, off, &daddr, &bsize, &bstart)))
        return st;
    const uint8_t *b;
    size_t hl = 5 + (size_t)f->so + (size_t)h->blk_off_size + ((h->flags & 2) ? 4 : 0);
    if ((st = h5_at(f, daddr, bsize, &b, "fractal heap direct block"))) return st;
    if (bsize < hl || !h5_sig(b, "FHDB") || b[4] != 0 || h5_le(b + 5, f->so) != h->addr ||
        h5_le(b + 5 + f->so, h->blk_off_size) != bstart)
        return h5_bad(f, "no fractal heap direct block at %llu", (unsigned long long)daddr);
    if ((h->flags & 2) && f->fh_ok != daddr) {
        /* the checksum covers the whole block with its own field zeroed */
        uint8_t *ck = f->buf + (b - f->buf) + hl - 4, keep[4];
        memcpy(keep, ck, 4);
        memset(ck, 0, 4);
        uint32_t got = h5_lookup3(b, (size_t)bsize, 0);
        memcpy(ck, keep, 4);
        if (got != (uint32_t)h5_le(keep, 4)) return h5_bad(f, "fractal heap direct block at %llu: checksum mismatch", (unsigned long long)daddr);
        f->fh_ok = daddr;
    }
    if (off < bstart + hl || olen > bsize || off - bstart > bsize - olen)
        return h5_bad(f, "fractal heap object at offset %llu (%llu bytes) is outside its block", (unsigned long long)off,
                      (unsigned long long)olen);
    *p = b + (off - bstart);
    *len = (size_t)olen;
    return SN_OK;
}

typedef struct huge_q {
    uint64_t key, addr, len;
    int found;
} huge_q;

static sn_status huge_cb(sn_h5 *f, void *ctx, const uint8_t *rec, size_t rec_size) {
    huge_q *q = ctx;
    h5_cur c = h5_cur_make(rec, rec_size);
    uint64_t a = h5_addr(f, &c), l = h5_len(f, &c), id = h5_len(f, &c);
    if (c.bad) return h5_bad(f, "short huge-object record");
    if (id != q->key) return SN_OK;
    q->addr = a;
    q->len = l;
    q->found = 1;
    return H5_STOP;
}

static sn_status huge(sn_h5 *f, const h5_fheap *h, const uint8_t *id, const uint8_t **p, size_t *len) {
    if (h->filtered) return h5_bad(f, "filtered huge objects in a fractal heap are not supported");
    uint64_t a, l;
    if (h->id_len >= 1 + (unsigned)f->so + (unsigned)f->sl) {
        h5_cur c = h5_cur_make(id + 1, h->id_len - 1);
        a = h5_addr(f, &c);
        l = h5_len(f, &c);
    } else {
        huge_q q = {h5_le(id + 1, h->id_len - 1 < 8 ? (int)h->id_len - 1 : 8), 0, 0, 0};
        sn_status st = h5_bt2_walk(f, h->huge_bt, 1, huge_cb, &q);
        if (st) return st;
        if (!q.found) return h5_bad(f, "huge heap object %llu is not in its B-tree", (unsigned long long)q.key);
        a = q.addr;
        l = q.len;
    }
    if (l > f->n) return h5_bad(f, "huge heap object of %llu bytes", (unsigned long long)l);
    *len = (size_t)l;
    return h5_at(f, a, l, p, "huge heap object");
}

sn_status h5_fheap_get(sn_h5 *f, const h5_fheap *h, const uint8_t *id, const uint8_t **p, size_t *len) {
    unsigned kind = (id[0] >> 4) & 3;
    if (id[0] >> 6) return h5_bad(f, "heap ID version %u", id[0] >> 6);
    if (kind == 0) {
        if (h->filtered) return h5_bad(f, "filtered fractal heaps are not supported");
        if (h->id_len < 1u + (unsigned)h->off_size + (unsigned)h->len_size) return h5_bad(f, "heap IDs too short");
        return managed(f, h, id, p, len);
    }
    if (kind == 1) return huge(f, h, id, p, len);
    if (kind == 2) {
        int ext = h->id_len > 18;
        size_t n = ext ? ((size_t)(id[0] & 15) << 8 | id[1]) + 1 : (size_t)(id[0] & 15) + 1;
        if (n + 1 + (size_t)ext > h->id_len) return h5_bad(f, "tiny heap object longer than its ID");
        *p = id + 1 + ext;
        *len = n;
        return SN_OK;
    }
    return h5_bad(f, "heap ID of unknown kind %u", kind);
}
