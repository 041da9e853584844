/* HDF5 chunk indexes (spec III.A.1 and Appendix C): the version 1 B-tree
 * of layout version 3, and the indexes of layout version 4 (h5py with
 * libver="latest"): single chunk, implicit, fixed array ("FAHD"/"FADB"),
 * extensible array ("EAHD"/"EAIB"/"EASB"/"EADB") and version 2 B-tree
 * (record types 10 and 11). Each enumerates the stored chunks with their
 * element origin; chunks wholly outside the current extent are skipped. */
#include <string.h>

#include "interop/h5_internal.h"

typedef struct cwalk {
    const h5_chunked *c;
    h5_chunk_cb cb;
    void *ctx;
    uint64_t mc[H5_MAX_SPACE_RANK];  /* chunks per dimension over the maximum extent (H5_UNDEF: unlimited) */
    int order[H5_MAX_SPACE_RANK];    /* dimension order of linear indexes (extensible arrays: unlimited first) */
    uint32_t esz;                    /* array element bytes */
    int filtered_elems;
} cwalk;

/* Calls back for the chunk with scaled coordinates sc, unless outside. */
static sn_status emit(sn_h5 *f, cwalk *w, const uint64_t *sc, uint64_t addr, uint64_t size, uint32_t mask) {
    const h5_chunked *c = w->c;
    uint64_t org[H5_MAX_SPACE_RANK];
    for (int i = 0; i < c->rank; i++) {
        int ovf = 0;
        org[i] = h5_mul(sc[i], c->cdims[i], &ovf);
        if (ovf || org[i] >= c->space->dims[i]) return SN_OK;
    }
    if (addr == H5_UNDEF) return SN_OK;
    return w->cb(f, w->ctx, org, addr, size, mask);
}

/* Linear index -> scaled coordinates (row-major in w->order). */
static sn_status emit_idx(sn_h5 *f, cwalk *w, uint64_t idx, uint64_t addr, uint64_t size, uint32_t mask) {
    uint64_t sc[H5_MAX_SPACE_RANK];
    int r = w->c->rank;
    for (int k = r - 1; k >= 1; k--) {
        int d = w->order[k];
        sc[d] = idx % w->mc[d];
        idx /= w->mc[d];
    }
    if (r > 0) sc[w->order[0]] = idx;
    return emit(f, w, sc, addr, size, mask);
}

/* One array element: chunk address [, filtered size, filter mask]. */
static sn_status emit_elem(sn_h5 *f, cwalk *w, uint64_t idx, const uint8_t *p) {
    h5_cur c = h5_cur_make(p, w->esz);
    uint64_t addr = h5_addr(f, &c), size = w->c->chunk_bytes;
    uint32_t mask = 0;
    if (w->filtered_elems) {
        size = h5_u(&c, (int)(w->esz - (uint32_t)f->so - 4));
        mask = (uint32_t)h5_u(&c, 4);
    }
    if (c.bad) return h5_bad(f, "short chunk index element");
    return emit_idx(f, w, idx, addr, size, mask);
}

static sn_status check_elem_size(sn_h5 *f, cwalk *w, unsigned client, unsigned esz) {
    w->esz = esz;
    w->filtered_elems = client == 1;
    if (client > 1) return h5_bad(f, "chunk index of client type %u", client);
    unsigned lo = (unsigned)f->so + (client ? 5 : 0), hi = (unsigned)f->so + (client ? 12 : 0);
    if (esz < lo || esz > hi) return h5_bad(f, "chunk index elements of %u bytes", esz);
    if (client != (unsigned)w->c->filtered) return h5_bad(f, "chunk index disagrees with the filter pipeline");
    return SN_OK;
}

/* ---- version 1 B-tree (layout version 3) ---- */

static sn_status bt1_chunk(sn_h5 *f, void *ctx, const uint8_t *key, const uint8_t *next_key, uint64_t child) {
    (void)next_key;
    cwalk *w = ctx;
    const h5_chunked *c = w->c;
    uint64_t size = h5_le(key, 4), sc[H5_MAX_SPACE_RANK];
    uint32_t mask = (uint32_t)h5_le(key + 4, 4);
    for (int i = 0; i < c->rank; i++) {
        uint64_t o = h5_le(key + 8 + 8 * i, 8);
        if (o % c->cdims[i]) return h5_bad(f, "a chunk offset is not on a chunk boundary");
        sc[i] = o / c->cdims[i];
    }
    sn_status st = h5_spend(f, 1);
    return st ? st : emit(f, w, sc, child, size, mask);
}

/* ---- fixed array ---- */

static sn_status fixed_array(sn_h5 *f, cwalk *w) {
    size_t so = (size_t)f->so, hl = 8 + (size_t)f->sl + so;
    const uint8_t *p;
    sn_status st = h5_at(f, w->c->addr, hl + 4, &p, "fixed array header");
    if (st) return st;
    if (!h5_sig(p, "FAHD") || p[4] != 0) return h5_bad(f, "no fixed array header at %llu", (unsigned long long)w->c->addr);
    if ((st = h5_check_sum(f, p, hl, "fixed array header")) || (st = check_elem_size(f, w, p[5], p[6]))) return st;
    unsigned pbits = p[7];
    uint64_t n = h5_le(p + 8, f->sl), db = h5_le(p + 8 + f->sl, f->so), total = 1;
    int ovf = 0;
    for (int i = 0; i < w->c->rank; i++) total = h5_mul(total, w->mc[i], &ovf);
    if (ovf || n != total || n > f->n || pbits > 32) return h5_bad(f, "fixed array of %llu elements for %llu chunks", (unsigned long long)n, (unsigned long long)total);
    uint64_t pn = (uint64_t)1 << pbits, npages = n > pn ? (n + pn - 1) / pn : 0, bm = (npages + 7) / 8;
    size_t pre = 6 + so + (size_t)bm;
    if ((st = h5_at(f, db, pre + (npages ? 0 : n * w->esz) + 4, &p, "fixed array data block"))) return st;
    if (!h5_sig(p, "FADB") || p[4] != 0 || h5_le(p + 6, f->so) != w->c->addr)
        return h5_bad(f, "no fixed array data block at %llu", (unsigned long long)db);
    if ((st = h5_check_sum(f, p, pre + (npages ? 0 : n * w->esz), "fixed array data block"))) return st;
    if (!npages) {
        for (uint64_t i = 0; i < n && !st; i++) st = emit_elem(f, w, i, p + pre + i * w->esz);
        return st;
    }
    const uint8_t *bits = p + 6 + so;
    uint64_t at = db + pre + 4;
    for (uint64_t pg = 0; pg < npages && !st; pg++) {
        uint64_t cnt = pg + 1 < npages ? pn : n - pg * pn, len = cnt * w->esz;
        if (!((bits[pg / 8] >> (7 - pg % 8)) & 1)) {
            at += len + 4;
            continue;
        }
        const uint8_t *q;
        if ((st = h5_spend(f, 1)) || (st = h5_at(f, at, len + 4, &q, "fixed array page")) ||
            (st = h5_check_sum(f, q, (size_t)len, "fixed array page")))
            break;
        for (uint64_t i = 0; i < cnt && !st; i++) st = emit_elem(f, w, pg * pn + i, q + i * w->esz);
        at += len + 4;
    }
    return st;
}

/* ---- extensible array ---- */

typedef struct ea {
    unsigned max_bits, iblk_elmts, dblk_min, sblk_min, page_bits, off_size;
    uint64_t max_idx, hdr;
} ea;

/* A data block of nelmts elements for indexes from `first`; when paged,
 * `init` (NULL: all) has a bit per page, most significant first, set for
 * the pages written. */
static sn_status ea_dblock(sn_h5 *f, cwalk *w, const ea *e, uint64_t addr, uint64_t first, uint64_t nelmts,
                           const uint8_t *init) {
    if (addr == H5_UNDEF) return SN_OK;
    size_t so = (size_t)f->so, pre = 6 + so + e->off_size;
    uint64_t pn = (uint64_t)1 << e->page_bits;
    int paged = nelmts > pn;
    const uint8_t *p;
    sn_status st = h5_spend(f, 1);
    if (!st) st = h5_at(f, addr, pre + (paged ? 0 : nelmts * w->esz) + 4, &p, "extensible array data block");
    if (st) return st;
    if (!h5_sig(p, "EADB") || p[4] != 0 || h5_le(p + 6, f->so) != e->hdr)
        return h5_bad(f, "no extensible array data block at %llu", (unsigned long long)addr);
    if ((st = h5_check_sum(f, p, pre + (paged ? 0 : nelmts * w->esz), "extensible array data block"))) return st;
    if (!paged) {
        for (uint64_t i = 0; i < nelmts && !st && first + i < e->max_idx; i++) st = emit_elem(f, w, first + i, p + pre + i * w->esz);
        return st;
    }
    uint64_t at = addr + pre + 4, len = pn * w->esz;
    for (uint64_t pg = 0; pg < nelmts / pn && !st && first + pg * pn < e->max_idx; pg++, at += len + 4) {
        if (init && !((init[pg / 8] >> (7 - pg % 8)) & 1)) continue;
        const uint8_t *q;
        if ((st = h5_spend(f, 1)) || (st = h5_at(f, at, len + 4, &q, "extensible array page")) ||
            (st = h5_check_sum(f, q, (size_t)len, "extensible array page")))
            break;
        for (uint64_t i = 0; i < pn && !st; i++) st = emit_elem(f, w, first + pg * pn + i, q + i * w->esz);
    }
    return st;
}

static sn_status ea_sblock(sn_h5 *f, cwalk *w, const ea *e, uint64_t addr, unsigned ndblks, uint64_t dn, uint64_t first) {
    if (addr == H5_UNDEF) return SN_OK;
    size_t so = (size_t)f->so;
    uint64_t pn = (uint64_t)1 << e->page_bits, npages = dn > pn ? dn / pn : 0;
    size_t pb = (size_t)((npages + 7) / 8), bm = (size_t)ndblks * pb, len = 6 + so + e->off_size + bm + ndblks * so;
    const uint8_t *p;
    sn_status st = h5_spend(f, 1);
    if (!st) st = h5_at(f, addr, len + 4, &p, "extensible array secondary block");
    if (st) return st;
    if (!h5_sig(p, "EASB") || p[4] != 0 || h5_le(p + 6, f->so) != e->hdr)
        return h5_bad(f, "no extensible array secondary block at %llu", (unsigned long long)addr);
    if ((st = h5_check_sum(f, p, len, "extensible array secondary block"))) return st;
    const uint8_t *bits = p + 6 + so + e->off_size, *a = bits + bm;
    for (unsigned d = 0; d < ndblks && !st && first + d * dn < e->max_idx; d++) {
        h5_cur c = h5_cur_make(a + d * so, so);
        st = ea_dblock(f, w, e, h5_addr(f, &c), first + d * dn, dn, npages ? bits + d * pb : NULL);
    }
    return st;
}

static sn_status ea_header(sn_h5 *f, cwalk *w, ea *e, uint64_t *iblock) {
    size_t hl = 12 + 6 * (size_t)f->sl + (size_t)f->so;
    const uint8_t *p;
    sn_status st = h5_at(f, w->c->addr, hl + 4, &p, "extensible array header");
    if (st) return st;
    if (!h5_sig(p, "EAHD") || p[4] != 0) return h5_bad(f, "no extensible array header at %llu", (unsigned long long)w->c->addr);
    if ((st = h5_check_sum(f, p, hl, "extensible array header")) || (st = check_elem_size(f, w, p[5], p[6]))) return st;
    e->max_bits = p[7];
    e->iblk_elmts = p[8];
    e->dblk_min = p[9];
    e->sblk_min = p[10];
    e->page_bits = p[11];
    e->max_idx = h5_le(p + 12 + 4 * f->sl, f->sl);
    *iblock = h5_le(p + 12 + 6 * f->sl, f->so);
    e->hdr = w->c->addr;
    e->off_size = (e->max_bits + 7) / 8;
    if (e->max_bits < 1 || e->max_bits > 63 || !h5_pow2(e->dblk_min) || !h5_pow2(e->sblk_min) || e->page_bits > 31 ||
        (unsigned)h5_log2(e->dblk_min) > e->max_bits)
        return h5_bad(f, "extensible array at %llu has inconsistent parameters", (unsigned long long)w->c->addr);
    return SN_OK;
}

static sn_status extensible_array(sn_h5 *f, cwalk *w) {
    ea e;
    uint64_t ib = H5_UNDEF;
    sn_status st = ea_header(f, w, &e, &ib);
    if (st || ib == H5_UNDEF) return st;
    unsigned nsblks = 1 + e.max_bits - (unsigned)h5_log2(e.dblk_min), iblk_nsblks = 2 * (unsigned)h5_log2(e.sblk_min);
    if (iblk_nsblks > nsblks) iblk_nsblks = nsblks;
    size_t so = (size_t)f->so, ndblk = 2 * ((size_t)e.sblk_min - 1), nsblk = nsblks - iblk_nsblks;
    size_t len = 6 + so + (size_t)e.iblk_elmts * w->esz + (ndblk + nsblk) * so;
    const uint8_t *p;
    if ((st = h5_at(f, ib, len + 4, &p, "extensible array index block"))) return st;
    if (!h5_sig(p, "EAIB") || p[4] != 0 || h5_le(p + 6, f->so) != e.hdr)
        return h5_bad(f, "no extensible array index block at %llu", (unsigned long long)ib);
    if ((st = h5_check_sum(f, p, len, "extensible array index block"))) return st;
    const uint8_t *q = p + 6 + so;
    for (unsigned i = 0; i < e.iblk_elmts && !st && i < e.max_idx; i++) st = emit_elem(f, w, i, q + (size_t)i * w->esz);
    const uint8_t *da = q + (size_t)e.iblk_elmts * w->esz, *sa = da + ndblk * so;
    uint64_t first = e.iblk_elmts;
    size_t di = 0;
    /* super block u: 2^(u/2) data blocks of 2^((u+1)/2) * dblk_min elements */
    for (unsigned u = 0; u < nsblks && !st && first < e.max_idx; u++) {
        unsigned nd = 1u << (u / 2);
        uint64_t dn = ((uint64_t)1 << ((u + 1) / 2)) * e.dblk_min;
        if (u < iblk_nsblks) {
            for (unsigned d = 0; d < nd && !st && di < ndblk; d++, di++) {
                h5_cur c = h5_cur_make(da + di * so, so);
                st = ea_dblock(f, w, &e, h5_addr(f, &c), first + d * dn, dn, NULL);
            }
        } else {
            h5_cur c = h5_cur_make(sa + (u - iblk_nsblks) * so, so);
            st = ea_sblock(f, w, &e, h5_addr(f, &c), nd, dn, first);
        }
        first += nd * dn;
    }
    return st;
}

/* ---- version 2 B-tree (types 10 and 11) ---- */

static sn_status bt2_chunk(sn_h5 *f, void *ctx, const uint8_t *rec, size_t rec_size) {
    cwalk *w = ctx;
    const h5_chunked *c = w->c;
    size_t so = (size_t)f->so, dims = 8 * (size_t)c->rank;
    if (rec_size < so + dims + (c->filtered ? 5 : 0) || (c->filtered && rec_size > so + dims + 12) ||
        (!c->filtered && rec_size != so + dims))
        return h5_bad(f, "chunk B-tree records of %zu bytes", rec_size);
    h5_cur cu = h5_cur_make(rec, rec_size);
    uint64_t addr = h5_addr(f, &cu), size = c->chunk_bytes, sc[H5_MAX_SPACE_RANK];
    uint32_t mask = 0;
    if (c->filtered) {
        size = h5_u(&cu, (int)(rec_size - so - dims - 4));
        mask = (uint32_t)h5_u(&cu, 4);
    }
    for (int i = 0; i < c->rank; i++) sc[i] = h5_u(&cu, 8);
    sn_status st = h5_spend(f, 1);
    return st ? st : emit(f, w, sc, addr, size, mask);
}

sn_status h5_chunks(sn_h5 *f, const h5_chunked *c, h5_chunk_cb cb, void *ctx) {
    cwalk w;
    memset(&w, 0, sizeof w);
    w.c = c;
    w.cb = cb;
    w.ctx = ctx;
    int unlim = -1, n_unlim = 0;
    for (int i = 0; i < c->rank; i++) {
        w.order[i] = i;
        w.mc[i] = c->space->maxd[i] == H5_UNDEF ? H5_UNDEF : (c->space->maxd[i] + c->cdims[i] - 1) / c->cdims[i];
        if (w.mc[i] == H5_UNDEF) unlim = i, n_unlim++;
        else if (w.mc[i] == 0) w.mc[i] = 1;
    }
    if (c->addr == H5_UNDEF) return SN_OK; /* nothing stored yet: all fill value */
    uint64_t zero[H5_MAX_SPACE_RANK] = {0};
    switch (c->index) {
    case 0: return h5_bt1_walk(f, c->addr, 1, 8 + 8 * ((size_t)c->rank + 1), bt1_chunk, &w);
    case 1:
        return emit(f, &w, zero, c->addr, (c->flags & 2) ? c->single_size : c->chunk_bytes, (c->flags & 2) ? c->single_mask : 0);
    case 2:
    case 3: {
        if (n_unlim) return h5_bad(f, "an implicit or fixed-array chunk index with an unlimited dimension");
        if (c->index == 3) return fixed_array(f, &w);
        uint64_t total = 1;
        int ovf = 0;
        for (int i = 0; i < c->rank; i++) total = h5_mul(total, w.mc[i], &ovf);
        if (ovf || h5_mul(total, c->chunk_bytes, &ovf) > f->n || ovf)
            return h5_bad(f, "implicit chunk index larger than the file");
        sn_status st = SN_OK;
        for (uint64_t i = 0; i < total && !st; i++) {
            st = emit_idx(f, &w, i, c->addr + i * c->chunk_bytes, c->chunk_bytes, 0);
        }
        return st;
    }
    case 4:
        if (n_unlim != 1) return h5_bad(f, "an extensible-array chunk index needs one unlimited dimension");
        /* the unlimited dimension varies slowest in the array's order */
        for (int i = 0, k = 1; i < c->rank; i++)
            if (i != unlim) w.order[k++] = i;
        w.order[0] = unlim;
        return extensible_array(f, &w);
    case 5: return h5_bt2_walk(f, c->addr, c->filtered ? 11 : 10, bt2_chunk, &w);
    default: return h5_bad(f, "chunk index type %d is not supported", c->index);
    }
}
