/* HDF5 datasets (spec IV.A.2.i): the data layout message (versions 1-4:
 * compact, contiguous, chunked), reading every element as float32.
 * Chunks are decoded one at a time (filters undone) and their part inside
 * the extent copied into the raw array, which starts as the fill value.
 * Limits: a decoded chunk is at most CHUNK_CAP bytes or 4x the dataset's
 * raw size, and no more chunks are decoded than the extent has. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "interop/h5_internal.h"

#define CHUNK_CAP ((uint64_t)16 << 20)

sn_status h5_dataset_info(sn_h5 *f, const h5_obj *o, h5_dtype *t, h5_space *s) {
    const h5_msg *mt = h5_obj_msg(o, H5M_DTYPE), *ms = h5_obj_msg(o, H5M_DATASPACE);
    if (!mt || !ms) return h5_bad(f, "no such dataset");
    if ((mt->flags | ms->flags) & 2) return h5_bad(f, "shared (committed) datatypes or dataspaces are not supported");
    sn_status st = h5_dtype_parse(f, mt->data, mt->size, t);
    if (!st) st = h5_space_parse(f, ms->data, ms->size, s);
    if (!st && !t->numeric) {
        if (t->cls == H5T_INT || t->cls == H5T_FLOAT)
            return h5_bad(f, "%u-byte %s elements are not supported", t->size, h5_class_name(t->cls));
        return h5_bad(f, "dataset is not numeric (%s)", h5_class_name(t->cls));
    }
    return st;
}

typedef struct layout {
    int cls; /* 0 compact, 1 contiguous, 2 chunked */
    const uint8_t *compact;
    uint64_t compact_n, addr, size;
    h5_chunked ch;
} layout;

static sn_status chunk_dims(sn_h5 *f, layout *L, unsigned nd, h5_cur *c, int enc, const h5_space *s, uint32_t es) {
    if (nd < 2 || nd - 1 > H5_MAX_SPACE_RANK) return h5_bad(f, "chunked layout of %u dimensions", nd);
    L->ch.rank = (int)nd - 1;
    for (unsigned i = 0; i < nd; i++) {
        uint64_t d = h5_u(c, enc);
        if (i + 1 < nd) L->ch.cdims[i] = d;
        else L->ch.esize = (uint32_t)d;
    }
    if (c->bad) return h5_bad(f, "short layout message");
    if (L->ch.rank != s->rank) return h5_bad(f, "chunks of rank %d for a dataset of rank %d", L->ch.rank, s->rank);
    if (L->ch.esize != es) return h5_bad(f, "chunks of %u-byte elements for a type of %u bytes", L->ch.esize, es);
    uint64_t b = es;
    int ovf = 0;
    for (int i = 0; i < L->ch.rank; i++) {
        if (!L->ch.cdims[i]) return h5_bad(f, "a chunk dimension of 0");
        b = h5_mul(b, L->ch.cdims[i], &ovf);
    }
    if (ovf) return h5_bad(f, "chunks too large");
    L->ch.chunk_bytes = b;
    L->ch.space = s;
    return SN_OK;
}

/* Version 4 chunked properties: flags, dims in `enc` bytes each, the
 * index type and its parameters, the index address. */
static sn_status chunked_v4(sn_h5 *f, layout *L, h5_cur *c, const h5_space *s, uint32_t es) {
    L->ch.flags = (unsigned)h5_u(c, 1);
    unsigned nd = (unsigned)h5_u(c, 1), enc = (unsigned)h5_u(c, 1);
    if (enc < 1 || enc > 8) return h5_bad(f, "chunk dimensions encoded in %u bytes", enc);
    sn_status st = chunk_dims(f, L, nd, c, (int)enc, s, es);
    if (st) return st;
    L->ch.index = (int)h5_u(c, 1);
    switch (L->ch.index) {
    case 1:
        if (L->ch.flags & 2) {
            L->ch.single_size = h5_len(f, c);
            L->ch.single_mask = (uint32_t)h5_u(c, 4);
        }
        break;
    case 2: break;
    case 3: h5_skip(c, 1); break;
    case 4: h5_skip(c, 5); break;
    case 5: h5_skip(c, 6); break;
    default: return h5_bad(f, "chunk index type %d is not supported", L->ch.index);
    }
    L->ch.addr = h5_addr(f, c);
    return c->bad ? h5_bad(f, "short layout message") : SN_OK;
}

static sn_status layout_parse(sn_h5 *f, const h5_obj *o, const h5_space *s, uint32_t es, layout *L) {
    memset(L, 0, sizeof *L);
    const h5_msg *m = h5_obj_msg(o, H5M_LAYOUT);
    if (!m) return h5_bad(f, "a dataset without a layout message");
    h5_cur c = h5_cur_make(m->data, m->size);
    unsigned ver = (unsigned)h5_u(&c, 1);
    L->ch.version = (int)ver;
    if (ver == 1 || ver == 2) {
        unsigned nd = (unsigned)h5_u(&c, 1);
        L->cls = (int)h5_u(&c, 1);
        h5_skip(&c, 5);
        if (L->cls == 1 || L->cls == 2) L->addr = L->ch.addr = h5_addr(f, &c);
        if (L->cls == 2) return chunk_dims(f, L, nd, &c, 4, s, es);
        h5_skip(&c, 4 * (size_t)nd);
        if (L->cls == 0) {
            L->compact_n = h5_u(&c, 4);
            L->compact = h5_take(&c, (size_t)L->compact_n);
        }
        L->size = H5_UNDEF; /* contiguous: computed from the dataspace */
    } else if (ver == 3 || ver == 4) {
        L->cls = (int)h5_u(&c, 1);
        if (L->cls == 0) {
            L->compact_n = h5_u(&c, 2);
            L->compact = h5_take(&c, (size_t)L->compact_n);
        } else if (L->cls == 1) {
            L->addr = h5_addr(f, &c);
            L->size = h5_len(f, &c);
        } else if (L->cls == 2 && ver == 3) {
            unsigned nd = (unsigned)h5_u(&c, 1);
            L->ch.addr = h5_addr(f, &c);
            return chunk_dims(f, L, nd, &c, 4, s, es);
        } else if (L->cls == 2)
            return chunked_v4(f, L, &c, s, es);
    } else
        return h5_bad(f, "layout message version %u", ver);
    if (L->cls == 3) return sn_error(SN_ERR_UNSUPPORTED, "%s: %s: virtual datasets are not supported", f->name, f->where);
    if (L->cls > 3) return h5_bad(f, "layout class %d", L->cls);
    return c.bad ? h5_bad(f, "short layout message") : SN_OK;
}

typedef struct rd {
    const layout *L;
    const h5_pipeline *pl;
    uint8_t *raw;   /* (numel * esize) */
    uint8_t *buf;   /* one decoded chunk */
    uint64_t left;  /* chunks that may still be decoded */
} rd;

/* Copies the part of a decoded chunk at origin org inside the extent. */
static void place(const rd *r, const uint8_t *chunk, const uint64_t *org) {
    const h5_chunked *c = &r->L->ch;
    int rank = c->rank;
    uint64_t ext[H5_MAX_SPACE_RANK], cst[H5_MAX_SPACE_RANK], dst[H5_MAX_SPACE_RANK], idx[H5_MAX_SPACE_RANK] = {0};
    uint64_t cs = c->esize, ds = c->esize;
    for (int i = rank - 1; i >= 0; i--) {
        uint64_t room = c->space->dims[i] - org[i];
        ext[i] = c->cdims[i] < room ? c->cdims[i] : room;
        cst[i] = cs;
        dst[i] = ds;
        cs *= c->cdims[i];
        ds *= c->space->dims[i];
    }
    size_t run = (size_t)(ext[rank - 1] * c->esize);
    for (;;) {
        uint64_t so = 0, doff = 0;
        for (int i = 0; i < rank; i++) {
            so += idx[i] * cst[i];
            doff += (org[i] + idx[i]) * dst[i];
        }
        memcpy(r->raw + doff, chunk + so, run);
        int i = rank - 2;
        while (i >= 0 && ++idx[i] == ext[i]) idx[i--] = 0;
        if (i < 0) break;
    }
}

static int is_edge(const h5_chunked *c, const uint64_t *org) {
    for (int i = 0; i < c->rank; i++)
        if (org[i] + c->cdims[i] > c->space->dims[i]) return 1;
    return 0;
}

static sn_status chunk_cb(sn_h5 *f, void *ctx, const uint64_t *org, uint64_t addr, uint64_t size, uint32_t mask) {
    rd *r = ctx;
    const h5_chunked *c = &r->L->ch;
    if (r->left == 0) return h5_bad(f, "the chunk index lists more chunks than the dataset has");
    r->left--;
    sn_status st = h5_spend(f, 1 + c->chunk_bytes / 4096);
    const uint8_t *p;
    if (st) return st;
    if (size > f->n) return h5_bad(f, "a chunk of %llu bytes in a file of %zu", (unsigned long long)size, f->n);
    if ((st = h5_at(f, addr, size, &p, "a chunk"))) return st;
    int raw = r->pl->n == 0 || ((c->flags & 1) && is_edge(c, org));
    if (raw) {
        if (size < c->chunk_bytes)
            return h5_bad(f, "a chunk of %llu bytes, expected %llu", (unsigned long long)size, (unsigned long long)c->chunk_bytes);
        place(r, p, org);
        return SN_OK;
    }
    if ((st = h5_pipeline_undo(f, r->pl, mask, p, (size_t)size, r->buf, (size_t)c->chunk_bytes))) return st;
    place(r, r->buf, org);
    return SN_OK;
}

static sn_status read_chunked(sn_h5 *f, const h5_obj *o, layout *L, uint64_t raw_bytes, uint8_t *raw) {
    h5_pipeline pl;
    sn_status st = h5_pipeline_parse(f, o, &pl);
    if (st) return st;
    const h5_chunked *c = &L->ch;
    if (c->chunk_bytes > CHUNK_CAP && c->chunk_bytes / 4 > raw_bytes)
        return h5_bad(f, "chunks of %llu bytes for a dataset of %llu", (unsigned long long)c->chunk_bytes, (unsigned long long)raw_bytes);
    L->ch.filtered = pl.n > 0;
    uint64_t nch = 1;
    for (int i = 0; i < c->rank; i++) nch *= (c->space->dims[i] + c->cdims[i] - 1) / c->cdims[i]; /* <= numel */
    rd r = {L, &pl, raw, NULL, nch};
    if (pl.n && !(r.buf = sn_malloc((size_t)c->chunk_bytes, 1))) return SN_ERR_NOMEM;
    st = h5_chunks(f, c, chunk_cb, &r);
    free(r.buf);
    return st;
}

sn_status h5_dataset_read(sn_h5 *f, const h5_obj *o, float *out, size_t numel) {
    h5_dtype t;
    h5_space s;
    layout L;
    sn_status st = h5_dataset_info(f, o, &t, &s);
    uint64_t ne;
    if (!st) st = h5_space_numel(f, &s, &ne);
    if (!st && ne != numel) st = h5_bad(f, "dataset has %llu elements, expected %zu", (unsigned long long)ne, numel);
    if (!st) st = layout_parse(f, o, &s, t.size, &L);
    if (st || numel == 0) return st;
    uint64_t need = (uint64_t)numel * t.size;
    const uint16_t one = 1;
    int direct = t.cls == H5T_FLOAT && t.size == 4 && !t.be && *(const uint8_t *)&one == 1;
    uint8_t *raw = direct ? (uint8_t *)out : sn_malloc(numel, t.size);
    if (!raw) return SN_ERR_NOMEM;
    uint8_t fill[8];
    if (!(st = h5_fill_value(f, o, t.size, fill)))
        for (size_t i = 0; i < numel; i++) memcpy(raw + i * t.size, fill, t.size);
    const uint8_t *p;
    if (st) {
    } else if (L.cls == 0) {
        if (!L.compact || L.compact_n < need) st = h5_bad(f, "compact data of %llu bytes, expected %llu", (unsigned long long)L.compact_n, (unsigned long long)need);
        else memcpy(raw, L.compact, (size_t)need);
    } else if (L.cls == 1) {
        if (h5_obj_msg(o, 0x07)) st = sn_error(SN_ERR_UNSUPPORTED, "%s: %s: external data files are not supported", f->name, f->where);
        else if (L.addr == H5_UNDEF) {
        } /* never written: the fill value */
        else if (L.size != H5_UNDEF && L.size < need)
            st = h5_bad(f, "contiguous data of %llu bytes, expected %llu", (unsigned long long)L.size, (unsigned long long)need);
        else if (!(st = h5_at(f, L.addr, need, &p, "the data")))
            memcpy(raw, p, (size_t)need);
    } else
        st = read_chunked(f, o, &L, need, raw);
    if (!st && !direct) h5_to_f32(&t, raw, out, numel);
    if (!direct) free(raw);
    return st;
}
