/* B-tree walks (spec III.A): version 1 ("TREE" nodes: group nodes of
 * symbol-table groups and raw-data chunk nodes) and version 2 ("BTHD"
 * header, "BTIN" / "BTLF" nodes, checksummed). Both only enumerate: the
 * callers filter the records they want. Levels must decrease by one at
 * each step, so a walk cannot recurse forever; the work budget bounds
 * trees whose nodes are shared. */
#include <string.h>

#include "interop/h5_internal.h"

/* ---- version 1 ---- */

static sn_status bt1_node(sn_h5 *f, uint64_t addr, int type, size_t ksz, int level, h5_bt1_cb cb, void *ctx) {
    sn_status st = h5_spend(f, 1);
    const uint8_t *p;
    size_t so = (size_t)f->so;
    if (!st) st = h5_at(f, addr, 8 + 2 * so, &p, "B-tree node");
    if (st) return st;
    if (!h5_sig(p, "TREE")) return h5_bad(f, "no B-tree node at %llu", (unsigned long long)addr);
    if (p[4] != type) return h5_bad(f, "B-tree node at %llu is of type %u, expected %d", (unsigned long long)addr, p[4], type);
    int lv = p[5];
    unsigned used = (unsigned)h5_le(p + 6, 2);
    if (level >= 0 && lv != level)
        return h5_bad(f, "B-tree node at %llu is at level %d, expected %d", (unsigned long long)addr, lv, level);
    if (lv >= H5_MAX_DEPTH) return h5_bad(f, "B-tree at %llu is %d levels deep", (unsigned long long)addr, lv);
    size_t body = 8 + 2 * so, total = body + (size_t)used * (ksz + so) + ksz;
    if ((st = h5_at(f, addr, total, &p, "B-tree node"))) return st;
    for (unsigned i = 0; i < used && !st; i++) {
        const uint8_t *key = p + body + (size_t)i * (ksz + so);
        uint64_t child = h5_le(key + ksz, (int)so);
        if (so < 8 && child == (((uint64_t)1 << (8 * so)) - 1)) child = H5_UNDEF;
        if (so == 8 && child == UINT64_MAX) child = H5_UNDEF;
        if (lv > 0) st = bt1_node(f, child, type, ksz, lv - 1, cb, ctx);
        else st = cb(f, ctx, key, key + ksz + so, child);
    }
    return st;
}

sn_status h5_bt1_walk(sn_h5 *f, uint64_t addr, int type, size_t key_size, h5_bt1_cb cb, void *ctx) {
    if (addr == H5_UNDEF) return SN_OK; /* an empty tree */
    sn_status st = bt1_node(f, addr, type, key_size, -1, cb, ctx);
    return st == H5_STOP ? SN_OK : st;
}

/* ---- version 2 ---- */

typedef struct bt2 {
    int type, depth;
    uint32_t node_size;
    uint16_t rec_size;
    unsigned max_nrec[H5_MAX_DEPTH + 1];
    int nrec_size;                        /* bytes of a child's record count */
    int cum_size[H5_MAX_DEPTH + 1];       /* bytes of a child's total record count, by level */
    h5_bt2_cb cb;
    void *ctx;
} bt2;

static int enc_size(uint64_t v) { return v ? h5_log2(v) / 8 + 1 : 1; }

/* Records per node and pointer field sizes per level, as libhdf5 derives
 * them from the node and record sizes (pointer sizes are not stored). */
static sn_status bt2_geometry(sn_h5 *f, bt2 *t) {
    if (t->node_size < 10 + (uint32_t)t->rec_size || t->rec_size == 0)
        return h5_bad(f, "v2 B-tree: node size %u with records of %u bytes", t->node_size, t->rec_size);
    t->max_nrec[0] = (t->node_size - 10) / t->rec_size;
    t->nrec_size = enc_size(t->max_nrec[0]);
    uint64_t cum = t->max_nrec[0];
    t->cum_size[0] = 0;
    for (int d = 1; d <= t->depth; d++) {
        size_t ptr = (size_t)f->so + (size_t)t->nrec_size + (d > 1 ? (size_t)t->cum_size[d - 1] : 0);
        if (t->node_size < 10 + ptr + t->rec_size + ptr) return h5_bad(f, "v2 B-tree: nodes too small for depth %d", t->depth);
        t->max_nrec[d] = (unsigned)((t->node_size - 10 - ptr) / (t->rec_size + ptr));
        int ovf = 0;
        uint64_t next = h5_mul((uint64_t)t->max_nrec[d] + 1, cum, &ovf) + t->max_nrec[d];
        cum = ovf || next > ((uint64_t)1 << 62) ? ((uint64_t)1 << 62) : next;
        t->cum_size[d] = enc_size(cum);
    }
    return SN_OK;
}

static sn_status bt2_node(sn_h5 *f, bt2 *t, uint64_t addr, unsigned nrec, int d) {
    sn_status st = h5_spend(f, 1);
    if (st) return st;
    if (nrec > t->max_nrec[d])
        return h5_bad(f, "v2 B-tree node at %llu claims %u records, at most %u fit", (unsigned long long)addr, nrec,
                      t->max_nrec[d]);
    size_t ptr = d ? (size_t)f->so + (size_t)t->nrec_size + (d > 1 ? (size_t)t->cum_size[d - 1] : 0) : 0;
    size_t len = 6 + (size_t)nrec * t->rec_size + (d ? (nrec + 1) * ptr : 0);
    const uint8_t *p;
    if ((st = h5_at(f, addr, len + 4, &p, "v2 B-tree node"))) return st;
    if (!h5_sig(p, d ? "BTIN" : "BTLF") || p[4] != 0 || p[5] != t->type)
        return h5_bad(f, "no v2 B-tree %s node at %llu", d ? "internal" : "leaf", (unsigned long long)addr);
    if ((st = h5_check_sum(f, p, len, "v2 B-tree node"))) return st;
    const uint8_t *recs = p + 6, *ptrs = recs + (size_t)nrec * t->rec_size;
    for (unsigned i = 0; i <= nrec && !st; i++) {
        if (d) {
            h5_cur c = h5_cur_make(ptrs + i * ptr, ptr);
            uint64_t ca = h5_addr(f, &c);
            unsigned cn = (unsigned)h5_u(&c, t->nrec_size);
            st = bt2_node(f, t, ca, cn, d - 1);
        }
        if (!st && i < nrec) st = t->cb(f, t->ctx, recs + (size_t)i * t->rec_size, t->rec_size);
    }
    return st;
}

sn_status h5_bt2_walk(sn_h5 *f, uint64_t addr, int type, h5_bt2_cb cb, void *ctx) {
    if (addr == H5_UNDEF) return SN_OK;
    const uint8_t *p;
    size_t len = 16 + (size_t)f->so + 2 + (size_t)f->sl;
    sn_status st = h5_at(f, addr, len + 4, &p, "v2 B-tree header");
    if (st) return st;
    if (!h5_sig(p, "BTHD") || p[4] != 0) return h5_bad(f, "no v2 B-tree header at %llu", (unsigned long long)addr);
    if ((st = h5_check_sum(f, p, len, "v2 B-tree header"))) return st;
    if (p[5] != type) return h5_bad(f, "v2 B-tree at %llu is of type %u, expected %d", (unsigned long long)addr, p[5], type);
    bt2 t;
    memset(&t, 0, sizeof t);
    h5_cur c = h5_cur_make(p + 6, len - 6);
    t.type = type;
    t.node_size = (uint32_t)h5_u(&c, 4);
    t.rec_size = (uint16_t)h5_u(&c, 2);
    t.depth = (int)h5_u(&c, 2);
    h5_skip(&c, 2);
    uint64_t root = h5_addr(f, &c);
    unsigned root_n = (unsigned)h5_u(&c, 2);
    t.cb = cb;
    t.ctx = ctx;
    if (t.depth > H5_MAX_DEPTH) return h5_bad(f, "v2 B-tree at %llu is %d levels deep", (unsigned long long)addr, t.depth);
    if ((st = bt2_geometry(f, &t))) return st;
    if (root == H5_UNDEF || root_n == 0) return SN_OK;
    st = bt2_node(f, &t, root, root_n, t.depth);
    return st == H5_STOP ? SN_OK : st;
}
