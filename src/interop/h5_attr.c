/* HDF5 attributes (spec IV.A.2.m, v): attribute messages (versions 1-3) in
 * the object header, or, for dense storage, in a fractal heap indexed by a
 * version 2 B-tree of name hashes; and their values as strings: fixed
 * length (null-terminated, null- or space-padded) or variable length (in
 * global heap collections). */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "interop/h5_internal.h"

/* Most strings in one attribute and most bytes of them all (Keras model
 * configs are a few hundred KiB, name lists a few thousand entries). */
#define MAX_ATTR_STRINGS ((size_t)1 << 20)
#define MAX_ATTR_BYTES ((size_t)64 << 20)

static size_t pad8(size_t v) { return (v + 7) & ~(size_t)7; }

static sn_status attr_decode(sn_h5 *f, const uint8_t *p, size_t n, h5_attr *a) {
    memset(a, 0, sizeof *a);
    h5_cur c = h5_cur_make(p, n);
    unsigned ver = (unsigned)h5_u(&c, 1), flags = (unsigned)h5_u(&c, 1);
    size_t nsz = (size_t)h5_u(&c, 2), tsz = (size_t)h5_u(&c, 2), ssz = (size_t)h5_u(&c, 2);
    if (ver < 1 || ver > 3) return h5_bad(f, "attribute message version %u", ver);
    if (ver == 3) h5_skip(&c, 1);
    int pad = ver == 1;
    const uint8_t *name = h5_take(&c, pad ? pad8(nsz) : nsz);
    const uint8_t *dt = h5_take(&c, pad ? pad8(tsz) : tsz);
    const uint8_t *ds = h5_take(&c, pad ? pad8(ssz) : ssz);
    if (c.bad || nsz == 0) return h5_bad(f, "corrupt attribute message");
    if (ver > 1 && (flags & 3)) return h5_bad(f, "shared attribute datatypes or dataspaces are not supported");
    const uint8_t *z = memchr(name, 0, nsz);
    a->name = (const char *)name;
    a->nlen = z ? (size_t)(z - name) : nsz;
    sn_status st = h5_dtype_parse(f, dt, tsz, &a->t);
    if (!st) st = h5_space_parse(f, ds, ssz, &a->s);
    a->data = c.p;
    a->data_n = h5_left(&c);
    return st;
}

static int name_is(const h5_attr *a, const char *name) { return strlen(name) == a->nlen && !memcmp(a->name, name, a->nlen); }

typedef struct dense_q {
    const char *name;
    uint32_t hash;
    h5_fheap fh;
    h5_attr *a;
    int found;
} dense_q;

static sn_status dense_cb(sn_h5 *f, void *ctx, const uint8_t *rec, size_t rec_size) {
    dense_q *q = ctx;
    if (rec_size < 17) return h5_bad(f, "short attribute name record");
    if ((uint32_t)h5_le(rec + 13, 4) != q->hash) return SN_OK;
    if (rec[8] & 1) return h5_bad(f, "shared (SOHM) attributes are not supported");
    const uint8_t *p;
    size_t n;
    sn_status st = h5_spend(f, 1);
    if (!st) st = h5_fheap_get(f, &q->fh, rec, &p, &n);
    if (!st) st = attr_decode(f, p, n, q->a);
    if (st) return st;
    if (!name_is(q->a, q->name)) return SN_OK;
    q->found = 1;
    return H5_STOP;
}

sn_status h5_attr_find(sn_h5 *f, const h5_obj *o, const char *name, h5_attr *a, int *found) {
    *found = 0;
    sn_status st = SN_OK;
    for (size_t i = 0; i < o->n && !st; i++) {
        if (o->m[i].type != H5M_ATTR) continue;
        if (o->m[i].flags & 2) return h5_bad(f, "shared attribute messages are not supported");
        if ((st = h5_spend(f, 1)) || (st = attr_decode(f, o->m[i].data, o->m[i].size, a))) return st;
        if (name_is(a, name)) {
            *found = 1;
            return SN_OK;
        }
    }
    const h5_msg *m = h5_obj_msg(o, H5M_AINFO);
    if (!m) return SN_OK;
    h5_cur c = h5_cur_make(m->data, m->size);
    unsigned ver = (unsigned)h5_u(&c, 1), flags = (unsigned)h5_u(&c, 1);
    if (ver != 0) return h5_bad(f, "attribute info message version %u", ver);
    if (flags & 1) h5_skip(&c, 2);
    uint64_t heap = h5_addr(f, &c), names = h5_addr(f, &c);
    if (c.bad) return h5_bad(f, "short attribute info message");
    if (heap == H5_UNDEF) return SN_OK;
    dense_q q;
    memset(&q, 0, sizeof q);
    q.name = name;
    q.hash = h5_lookup3(name, strlen(name), 0);
    q.a = a;
    if ((st = h5_fheap_open(f, heap, &q.fh))) return st;
    if (q.fh.id_len != 8) return h5_bad(f, "attribute heap IDs of %u bytes, expected 8", q.fh.id_len);
    if ((st = h5_bt2_walk(f, names, 8, dense_cb, &q))) return st;
    *found = q.found;
    return SN_OK;
}

/* Appends s[0..len) (cut at a NUL) as a new string. */
static sn_status push(char **v, size_t *k, const uint8_t *s, size_t len, size_t *total) {
    const uint8_t *z = memchr(s, 0, len);
    if (z) len = (size_t)(z - s);
    if ((*total += len) > MAX_ATTR_BYTES) return SN_ERR_FORMAT;
    char *o = sn_malloc(len + 1, 1);
    if (!o) return SN_ERR_NOMEM;
    memcpy(o, s, len);
    o[len] = 0;
    v[(*k)++] = o;
    return SN_OK;
}

static sn_status vlen_strings(sn_h5 *f, const h5_attr *a, size_t cnt, char **v, size_t *k, size_t *total) {
    size_t es = 8 + (size_t)f->so;
    if (a->t.size != es) return h5_bad(f, "attribute %.*s: variable-length strings of %u bytes, expected %zu", (int)a->nlen, a->name, a->t.size, es);
    if (a->data_n / es < cnt) return h5_bad(f, "attribute %.*s: its data is shorter than %zu strings", (int)a->nlen, a->name, cnt);
    sn_status st = SN_OK;
    for (size_t i = 0; i < cnt && !st; i++) {
        h5_cur c = h5_cur_make(a->data + i * es, es);
        uint32_t len = (uint32_t)h5_u(&c, 4);
        uint64_t coll = h5_addr(f, &c);
        uint32_t idx = (uint32_t)h5_u(&c, 4);
        const uint8_t *p = (const uint8_t *)"";
        uint64_t plen = 0;
        if (len && (st = h5_gheap_get(f, coll, idx, &p, &plen))) break;
        if (plen < len) return h5_bad(f, "attribute %.*s: string %zu is longer than its heap object", (int)a->nlen, a->name, i);
        if ((st = push(v, k, p, len, total)) == SN_ERR_FORMAT) st = h5_bad(f, "attribute %.*s is too large", (int)a->nlen, a->name);
    }
    return st;
}

static sn_status fixed_strings(sn_h5 *f, const h5_attr *a, size_t cnt, char **v, size_t *k, size_t *total) {
    size_t sz = a->t.size;
    if (a->data_n / sz < cnt) return h5_bad(f, "attribute %.*s: its data is shorter than %zu strings", (int)a->nlen, a->name, cnt);
    sn_status st = SN_OK;
    for (size_t i = 0; i < cnt && !st; i++) {
        const uint8_t *s = a->data + i * sz;
        size_t len = sz;
        const uint8_t *z = memchr(s, 0, sz);
        if (z) len = (size_t)(z - s);
        if (a->t.pad == 2)
            while (len > 0 && s[len - 1] == ' ') len--;
        if ((st = push(v, k, s, len, total)) == SN_ERR_FORMAT) st = h5_bad(f, "attribute %.*s is too large", (int)a->nlen, a->name);
    }
    return st;
}

sn_status h5_attr_strings(sn_h5 *f, const h5_attr *a, char ***v, size_t *k) {
    uint64_t np;
    sn_status st = h5_space_numel(f, &a->s, &np);
    if (st) return st;
    if (np == 0) return SN_OK; /* an empty list, of whatever type (Keras 2 writes float64 [] for no weights) */
    if ((a->t.cls != H5T_STRING && !(a->t.cls == H5T_VLEN && a->t.vlen_str)) || a->s.rank > 1)
        return h5_bad(f, "attribute %.*s is not a string or a list of strings (%s, rank %d)", (int)a->nlen, a->name,
                      h5_class_name(a->t.cls), a->s.rank);
    if (np > MAX_ATTR_STRINGS - *k)
        return h5_bad(f, "attribute %.*s claims %llu strings, more than the %zu allowed", (int)a->nlen, a->name,
                      (unsigned long long)np, MAX_ATTR_STRINGS);
    size_t cnt = (size_t)np, total = 0;
    for (size_t i = 0; i < *k; i++) total += strlen((*v)[i]);
    char **nv = sn_realloc(*v, *k + cnt + 1, sizeof **v);
    if (!nv) return SN_ERR_NOMEM;
    *v = nv;
    if (a->t.cls == H5T_VLEN) return vlen_strings(f, a, cnt, *v, k, &total);
    return fixed_strings(f, a, cnt, *v, k, &total);
}
