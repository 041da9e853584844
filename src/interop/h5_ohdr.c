/* HDF5 object headers (spec IV.A.1): version 1 (16-byte prefix, 8-byte
 * message headers) and version 2 ("OHDR", checksummed), with their
 * continuation chunks (version 2 ones start "OCHK"). The messages of all
 * chunks are gathered into one list pointing into the file. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "interop/h5_internal.h"

#define MAX_CHUNKS 1024
#define MAX_MSGS ((size_t)1 << 18)

typedef struct chunk_q {
    uint64_t (*c)[2]; /* (address, length) of each continuation chunk met */
    int n, cap;
    uint64_t first[8][2];
} chunk_q;

static sn_status add_msg(sn_h5 *f, h5_obj *o, unsigned type, unsigned flags, const uint8_t *data, size_t size) {
    if (o->n == o->cap) {
        if (o->cap >= MAX_MSGS) return h5_bad(f, "object header at %llu has too many messages", (unsigned long long)o->addr);
        size_t nc = o->cap ? o->cap * 2 : 16;
        h5_msg *nm = sn_realloc(o->m, nc, sizeof *nm);
        if (!nm) return SN_ERR_NOMEM;
        o->m = nm;
        o->cap = nc;
    }
    h5_msg *m = &o->m[o->n++];
    m->type = (uint16_t)type;
    m->flags = (uint8_t)flags;
    m->size = (uint32_t)size;
    m->data = data;
    return SN_OK;
}

/* A continuation message: queues its chunk unless seen before. */
static sn_status add_cont(sn_h5 *f, h5_obj *o, chunk_q *q, const uint8_t *data, size_t size) {
    h5_cur c = h5_cur_make(data, size);
    uint64_t a = h5_addr(f, &c), l = h5_len(f, &c);
    if (c.bad) return h5_bad(f, "object header at %llu: short continuation message", (unsigned long long)o->addr);
    for (int i = 0; i < q->n; i++)
        if (q->c[i][0] == a)
            return h5_bad(f, "object header at %llu: continuation chunks form a cycle", (unsigned long long)o->addr);
    if (q->n == MAX_CHUNKS) return h5_bad(f, "object header at %llu: too many continuation chunks", (unsigned long long)o->addr);
    if (q->n == q->cap) {
        uint64_t(*nc)[2] = sn_malloc((size_t)q->cap * 2, sizeof *nc);
        if (!nc) return SN_ERR_NOMEM;
        memcpy(nc, q->c, (size_t)q->n * sizeof *nc);
        if (q->c != q->first) free(q->c);
        q->c = nc;
        q->cap *= 2;
    }
    q->c[q->n][0] = a;
    q->c[q->n][1] = l;
    q->n++;
    return SN_OK;
}

/* The messages of one chunk's message area [p, p+n) of a version 1 or 2
 * header (v2: creation-order field when `crt`). */
static sn_status scan_msgs(sn_h5 *f, h5_obj *o, chunk_q *q, const uint8_t *p, size_t n, int crt) {
    h5_cur c = h5_cur_make(p, n);
    size_t hdr = o->version == 1 ? 8 : (crt ? 6 : 4);
    sn_status st = SN_OK;
    while (!st && h5_left(&c) >= hdr) {
        unsigned type, flags;
        size_t size;
        if (o->version == 1) {
            type = (unsigned)h5_u(&c, 2);
            size = (size_t)h5_u(&c, 2);
            flags = (unsigned)h5_u(&c, 1);
            h5_skip(&c, 3);
        } else {
            type = (unsigned)h5_u(&c, 1);
            size = (size_t)h5_u(&c, 2);
            flags = (unsigned)h5_u(&c, 1);
            if (crt) h5_skip(&c, 2);
        }
        const uint8_t *data = h5_take(&c, size);
        if (!data)
            return h5_bad(f, "object header at %llu: message of %zu bytes runs past its chunk", (unsigned long long)o->addr,
                          size);
        if ((st = h5_spend(f, 1))) break;
        if (type == H5M_CONT) st = add_cont(f, o, q, data, size);
        else if (type != H5M_NIL) st = add_msg(f, o, type, flags, data, size);
    }
    return st;
}

/* Version 1 prefix: chunk 0 follows at addr + 16. */
static sn_status read_v1(sn_h5 *f, h5_obj *o, chunk_q *q) {
    const uint8_t *p;
    sn_status st = h5_at(f, o->addr, 16, &p, "object header");
    if (st) return st;
    h5_cur c = h5_cur_make(p, 16);
    h5_skip(&c, 2);
    h5_skip(&c, 2 + 4); /* message count, link count */
    uint64_t size = h5_u(&c, 4);
    const uint8_t *body;
    if ((st = h5_at(f, o->addr + 16, size, &body, "object header chunk"))) return st;
    return scan_msgs(f, o, q, body, (size_t)size, 0);
}

/* Version 2 prefix "OHDR": flags, optional times and attribute phase
 * change values, chunk 0 size in 1/2/4/8 bytes; checksum after chunk 0. */
static sn_status read_v2(sn_h5 *f, h5_obj *o, chunk_q *q, unsigned *crt) {
    const uint8_t *p;
    sn_status st = h5_at(f, o->addr, 6, &p, "object header");
    if (st) return st;
    unsigned flags = p[5];
    if (p[4] != 2) return h5_bad(f, "object header at %llu: version %u", (unsigned long long)o->addr, p[4]);
    size_t pre = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0), szb = (size_t)1 << (flags & 3);
    if ((st = h5_at(f, o->addr, pre + szb, &p, "object header"))) return st;
    uint64_t size = h5_le(p + pre, (int)szb);
    if (size > f->n || (st = h5_at(f, o->addr, pre + szb + size + 4, &p, "object header chunk"))) {
        return st ? st : h5_bad(f, "object header at %llu: chunk of %llu bytes", (unsigned long long)o->addr,
                                (unsigned long long)size);
    }
    if ((st = h5_check_sum(f, p, pre + szb + (size_t)size, "object header"))) return st;
    *crt = (flags & 0x04) != 0;
    return scan_msgs(f, o, q, p + pre + szb, (size_t)size, (int)*crt);
}

sn_status h5_obj_read(sn_h5 *f, uint64_t addr, h5_obj *o) {
    memset(o, 0, sizeof *o);
    o->addr = addr;
    chunk_q qq = {qq.first, 0, 8, {{0}}}, *q = &qq;
    const uint8_t *p;
    unsigned crt = 0;
    sn_status st = h5_spend(f, 1);
    if (!st) st = h5_at(f, addr, 4, &p, "object header");
    if (!st) {
        if (h5_sig(p, "OHDR")) {
            o->version = 2;
            st = read_v2(f, o, q, &crt);
        } else if (p[0] == 1) {
            o->version = 1;
            st = read_v1(f, o, q);
        } else
            st = h5_bad(f, "no object header at %llu", (unsigned long long)addr);
    }
    /* continuation chunks, in the order met (the queue grows as they are read) */
    for (int i = 0; i < q->n && !st; i++) {
        uint64_t ca = q->c[i][0], cl = q->c[i][1];
        if ((st = h5_at(f, ca, cl, &p, "object header continuation"))) break;
        if (o->version == 1) {
            st = scan_msgs(f, o, q, p, (size_t)cl, 0);
        } else {
            if (cl < 8 || !h5_sig(p, "OCHK")) {
                st = h5_bad(f, "object header at %llu: continuation at %llu is not an OCHK block", (unsigned long long)addr,
                            (unsigned long long)ca);
            } else if (!(st = h5_check_sum(f, p, (size_t)cl - 4, "object header continuation")))
                st = scan_msgs(f, o, q, p + 4, (size_t)cl - 8, (int)crt);
        }
    }
    if (q->c != q->first) free(q->c);
    if (st) h5_obj_free(o);
    return st;
}

void h5_obj_free(h5_obj *o) {
    free(o->m);
    o->m = NULL;
    o->n = o->cap = 0;
}

const h5_msg *h5_obj_msg(const h5_obj *o, int type) {
    for (size_t i = 0; i < o->n; i++)
        if (o->m[i].type == type) return &o->m[i];
    return NULL;
}

int h5_obj_is_group(const h5_obj *o) { return h5_obj_msg(o, H5M_STAB) || h5_obj_msg(o, H5M_LINFO); }

int h5_obj_is_dataset(const h5_obj *o) {
    return h5_obj_msg(o, H5M_LAYOUT) && h5_obj_msg(o, H5M_DTYPE) && h5_obj_msg(o, H5M_DATASPACE);
}
