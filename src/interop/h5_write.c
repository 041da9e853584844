/* seqnn's HDF5 writer (h5.h's writing calls): what Keras 3's
 * model.weights.h5 needs — groups, float32 datasets and UTF-8 string
 * attributes — in the HDF5 1.8 file format, which h5py / libhdf5 1.8 and
 * later read:
 *   superblock version 2 (8-byte offsets and lengths) at 0;
 *   version 2 object headers ("OHDR", one chunk, no times): groups with a
 *   link info, a group info and one link message per member (compact
 *   storage, members in creation order), datasets with dataspace, float32
 *   datatype, fill value (version 3, default) and contiguous layout
 *   (version 3) messages;
 *   attributes as version 3 messages of a scalar variable-length UTF-8
 *   string, whose bytes sit in global heap collections (as h5py writes
 *   them);
 *   then the collections, then the raw data, 8-byte aligned.
 * The objects are kept in a tree until sn_h5_image lays the file out, so
 * the same calls always give the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "interop/h5_internal.h"

#define GCOL_MIN 4096        /* libhdf5's smallest global heap collection */
#define GCOL_MAX_OBJS 65535  /* object indices are 16-bit */

typedef struct wattr {
    char *name, *value;
    size_t col;     /* global heap collection (index into h5w.col) */
    uint32_t index; /* object index in it (0: empty string, no object) */
} wattr;

typedef struct wnode {
    char *name;   /* link name; NULL for the root */
    int dataset;
    struct wnode **kid;
    size_t nkid;
    wattr *attr;
    size_t nattr;
    int rank;
    uint64_t dims[SN_H5_MAX_RANK];
    float *data;  /* (numel) */
    size_t numel;
    uint64_t addr, hsize, data_addr;
} wnode;

typedef struct wcol { /* a global heap collection being laid out */
    uint64_t addr, size, used;
    uint32_t nobj;
} wcol;

struct h5w {
    wnode root;
    wcol *col;
    size_t ncol;
    wattr **str; /* attributes with heap objects, in tree (= index) order */
    size_t nstr;
};

/* ---- the tree ---- */

static void node_free(wnode *n) {
    for (size_t i = 0; i < n->nkid; i++) {
        node_free(n->kid[i]);
        free(n->kid[i]);
    }
    for (size_t i = 0; i < n->nattr; i++) {
        free(n->attr[i].name);
        free(n->attr[i].value);
    }
    free(n->kid);
    free(n->attr);
    free(n->name);
    free(n->data);
}

void h5w_free(h5w *w) {
    if (!w) return;
    node_free(&w->root);
    free(w->col);
    free(w->str);
    free(w);
}

static char *dup_n(const char *s, size_t n) {
    char *d = sn_malloc(n + 1, 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static wnode *child(wnode *g, const char *name, size_t len) {
    for (size_t i = 0; i < g->nkid; i++)
        if (strlen(g->kid[i]->name) == len && !memcmp(g->kid[i]->name, name, len)) return g->kid[i];
    return NULL;
}

static sn_status add_child(wnode *g, const char *name, size_t len, int dataset, wnode **out) {
    wnode **nk = sn_realloc(g->kid, g->nkid + 1, sizeof *nk);
    if (!nk) return SN_ERR_NOMEM;
    g->kid = nk;
    wnode *n = sn_calloc(1, sizeof *n);
    if (!n || !(n->name = dup_n(name, len))) {
        free(n);
        return SN_ERR_NOMEM;
    }
    n->dataset = dataset;
    g->kid[g->nkid++] = n;
    *out = n;
    return SN_OK;
}

/* Walks path from the root, creating missing groups (the last component
 * too when make_last); *out is the last node, or its parent with *leaf set
 * to the last name when !make_last. */
static sn_status walk(sn_h5 *f, const char *path, int make_last, wnode **out, const char **leaf) {
    wnode *g = &f->w->root;
    const char *p = path ? path : "";
    *leaf = NULL;
    sn_status st = SN_OK;
    while (*p == '/') p++;
    while (*p && !st) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *next = p + len;
        while (*next == '/') next++;
        if (!*next && !make_last) {
            *leaf = p;
            break;
        }
        if (g->dataset) return sn_error(SN_ERR_ARG, "%s: %s: a dataset cannot hold members", f->name, path);
        wnode *c = child(g, p, len);
        if (!c) st = add_child(g, p, len, 0, &c);
        g = c;
        p = next;
    }
    if (!st && g->dataset && *leaf) return sn_error(SN_ERR_ARG, "%s: %s: a dataset cannot hold members", f->name, path);
    if (!st && g->dataset && make_last) return sn_error(SN_ERR_ARG, "%s: %s: is a dataset, not a group", f->name, path);
    *out = g;
    return st;
}

sn_status sn_h5_create_image(sn_h5 **out, const char *name) {
    *out = NULL;
    sn_h5 *f = sn_calloc(1, sizeof *f);
    if (!f || !(f->w = sn_calloc(1, sizeof *f->w))) {
        free(f);
        return SN_ERR_NOMEM;
    }
    snprintf(f->name, sizeof f->name, "%s", name ? name : "<memory>");
    for (int i = 0; i < H5_GCOL_CACHE; i++) f->gc[i].addr = H5_UNDEF;
    *out = f;
    return SN_OK;
}

static sn_status writable(sn_h5 *f) { return f && f->w ? SN_OK : sn_error(SN_ERR_STATE, "%s: opened read-only", f ? f->name : "?"); }

sn_status sn_h5_make_group(sn_h5 *f, const char *path) {
    sn_status st = writable(f);
    wnode *g;
    const char *leaf;
    return st ? st : walk(f, path, 1, &g, &leaf);
}

sn_status sn_h5_write_f32(sn_h5 *f, const char *path, int rank, const int64_t *dims, const float *data) {
    if (rank < 0 || rank > SN_H5_MAX_RANK) return sn_error(SN_ERR_ARG, "sn_h5_write_f32: rank %d", rank);
    sn_status st = writable(f);
    wnode *g, *d;
    const char *leaf;
    if (!st) st = walk(f, path, 0, &g, &leaf);
    if (st) return st;
    if (!leaf) return sn_error(SN_ERR_ARG, "%s: %s: not a dataset path", f->name, path ? path : "");
    size_t len = strcspn(leaf, "/"), numel = 1;
    if (child(g, leaf, len)) return sn_error(SN_ERR_ARG, "%s: %s: already exists", f->name, path);
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || (dims[i] && numel > SIZE_MAX / 4 / (size_t)dims[i]))
            return sn_error(SN_ERR_ARG, "%s: %s: bad dimension %lld", f->name, path, (long long)dims[i]);
        numel *= (size_t)dims[i];
    }
    float *copy = sn_malloc(numel ? numel : 1, sizeof *copy);
    if (!copy) return SN_ERR_NOMEM;
    if (numel) memcpy(copy, data, numel * sizeof *copy);
    if ((st = add_child(g, leaf, len, 1, &d))) {
        free(copy);
        return st;
    }
    d->rank = rank;
    for (int i = 0; i < rank; i++) d->dims[i] = (uint64_t)dims[i];
    d->data = copy;
    d->numel = numel;
    return SN_OK;
}

sn_status sn_h5_set_attr_str(sn_h5 *f, const char *path, const char *attr, const char *value) {
    sn_status st = writable(f);
    wnode *n;
    const char *leaf;
    if (!st) st = walk(f, path, 0, &n, &leaf);
    if (st) return st;
    if (leaf && !(n = child(n, leaf, strcspn(leaf, "/"))))
        return sn_error(SN_ERR_ARG, "%s: %s: no such object", f->name, path);
    size_t al = strlen(attr), vl = strlen(value);
    if (al == 0 || al > 60000 || vl > ((size_t)1 << 30)) return sn_error(SN_ERR_ARG, "%s: %s: bad attribute %s", f->name, path, attr);
    for (size_t i = 0; i < n->nattr; i++)
        if (!strcmp(n->attr[i].name, attr)) return sn_error(SN_ERR_ARG, "%s: %s: attribute %s already exists", f->name, path, attr);
    wattr *na = sn_realloc(n->attr, n->nattr + 1, sizeof *na);
    if (!na) return SN_ERR_NOMEM;
    n->attr = na;
    wattr *a = &n->attr[n->nattr];
    memset(a, 0, sizeof *a);
    if (!(a->name = dup_n(attr, al)) || !(a->value = dup_n(value, vl))) {
        free(a->name);
        return SN_ERR_NOMEM;
    }
    n->nattr++;
    return SN_OK;
}

/* ---- layout ---- */

static uint64_t pad8(uint64_t v) { return (v + 7) & ~(uint64_t)7; }

enum { SB_SIZE = 48, OH_PREFIX = 10, MSG_HDR = 4, DT_VSTR = 20, DT_F32 = 20, ATTR_DATA = 16 };

static uint64_t link_size(const wnode *k) { return 2 + (strlen(k->name) < 256 ? 1 : 2) + strlen(k->name) + 8; }
static uint64_t attr_size(const wattr *a) { return 9 + strlen(a->name) + 1 + DT_VSTR + 4 + ATTR_DATA; }

/* Bytes of the object header of n (prefix, messages, checksum). */
static uint64_t header_size(const wnode *n) {
    uint64_t s = OH_PREFIX + 4;
    if (n->dataset)
        s += MSG_HDR + 4 + 8 * (uint64_t)n->rank + MSG_HDR + DT_F32 + MSG_HDR + 2 + MSG_HDR + 18;
    else {
        s += MSG_HDR + 18 + MSG_HDR + 2;
        for (size_t i = 0; i < n->nkid; i++) s += MSG_HDR + link_size(n->kid[i]);
    }
    for (size_t i = 0; i < n->nattr; i++) s += MSG_HDR + attr_size(&n->attr[i]);
    return s;
}

/* Gives every non-empty attribute value its heap object (collections of
 * up to 65535 objects), in tree order. */
static sn_status place_strings(h5w *w, wnode *n) {
    for (size_t i = 0; i < n->nattr; i++) {
        wattr *a = &n->attr[i];
        uint64_t len = strlen(a->value);
        if (!len) continue;
        if (!w->ncol || w->col[w->ncol - 1].nobj == GCOL_MAX_OBJS) {
            wcol *nc = sn_realloc(w->col, w->ncol + 1, sizeof *nc);
            if (!nc) return SN_ERR_NOMEM;
            w->col = nc;
            memset(&w->col[w->ncol], 0, sizeof *w->col);
            w->col[w->ncol++].used = 16;
        }
        wattr **ns = sn_realloc(w->str, w->nstr + 1, sizeof *ns);
        if (!ns) return SN_ERR_NOMEM;
        w->str = ns;
        w->str[w->nstr++] = a;
        wcol *c = &w->col[w->ncol - 1];
        a->index = ++c->nobj;
        a->col = w->ncol - 1;
        c->used += 16 + pad8(len);
    }
    sn_status st = SN_OK;
    for (size_t i = 0; i < n->nkid && !st; i++) st = place_strings(w, n->kid[i]);
    return st;
}

static void place_headers(wnode *n, uint64_t *at) {
    n->hsize = header_size(n);
    n->addr = *at;
    *at += n->hsize;
    for (size_t i = 0; i < n->nkid; i++) place_headers(n->kid[i], at);
}

static void place_data(wnode *n, uint64_t *at) {
    if (n->dataset && n->numel) {
        *at = pad8(*at);
        n->data_addr = *at;
        *at += 4 * (uint64_t)n->numel;
    } else
        n->data_addr = H5_UNDEF;
    for (size_t i = 0; i < n->nkid; i++) place_data(n->kid[i], at);
}

/* ---- encoding ---- */

typedef struct wbuf {
    uint8_t *p;
    uint64_t at;
} wbuf;

static void put(wbuf *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) b->p[b->at++] = (uint8_t)(v >> (8 * i));
}
static void put_bytes(wbuf *b, const void *s, size_t n) {
    memcpy(b->p + b->at, s, n);
    b->at += n;
}
static void msg_hdr(wbuf *b, int type, uint64_t size, int flags) {
    put(b, (uint64_t)type, 1);
    put(b, size, 2);
    put(b, (uint64_t)flags, 1);
}

static void put_attr(wbuf *b, const wattr *a, const h5w *w) {
    size_t nl = strlen(a->name) + 1;
    msg_hdr(b, H5M_ATTR, attr_size(a), 0);
    put(b, 3, 1);  /* version */
    put(b, 0, 1);  /* flags */
    put(b, nl, 2);
    put(b, DT_VSTR, 2);
    put(b, 4, 2);  /* dataspace size */
    put(b, 0, 1);  /* name character set: ASCII (h5py's choice for ASCII names) */
    put_bytes(b, a->name, nl);
    /* variable-length string (class 9, version 1), UTF-8, null-terminated;
     * base type: a 1-byte unsigned integer (what libhdf5 encodes) */
    put(b, 0x19, 1);
    put(b, 0x0101, 3);
    put(b, 16, 4);
    put(b, 0x10, 1);
    put(b, 0, 3);
    put(b, 1, 4);
    put(b, 0, 2);
    put(b, 8, 2);
    put(b, 0x02, 1); /* dataspace version 2, scalar */
    put(b, 0, 3);
    put(b, strlen(a->value), 4);
    put(b, a->index ? w->col[a->col].addr : 0, 8);
    put(b, a->index, 4);
}

static void put_dataset_msgs(wbuf *b, const wnode *n) {
    msg_hdr(b, H5M_DATASPACE, 4 + 8 * (uint64_t)n->rank, 1);
    put(b, 2, 1);
    put(b, (uint64_t)n->rank, 1);
    put(b, 0, 1);
    put(b, n->rank ? 1 : 0, 1);
    for (int i = 0; i < n->rank; i++) put(b, n->dims[i], 8);
    /* IEEE binary32 little-endian: class 1 version 1, mantissa normalised
     * with implied bit, sign at bit 31; offset 0, precision 32, exponent at
     * 23 (8 bits), mantissa at 0 (23 bits), bias 127 */
    msg_hdr(b, H5M_DTYPE, DT_F32, 1);
    put(b, 0x11, 1);
    put(b, 0x1f20, 3);
    put(b, 4, 4);
    put(b, 0, 2);
    put(b, 32, 2);
    put(b, 23, 1);
    put(b, 8, 1);
    put(b, 0, 1);
    put(b, 23, 1);
    put(b, 127, 4);
    msg_hdr(b, H5M_FILL, 2, 1);
    put(b, 3, 1);
    put(b, 0x0a, 1); /* allocation late, fill written if set, default (zero) fill value */
    msg_hdr(b, H5M_LAYOUT, 18, 0);
    put(b, 3, 1);
    put(b, 1, 1);    /* contiguous */
    put(b, n->data_addr, 8);
    put(b, 4 * (uint64_t)n->numel, 8);
}

static void put_header(wbuf *b, const wnode *n, const h5w *w) {
    uint64_t start = b->at;
    put_bytes(b, "OHDR", 4);
    put(b, 2, 1);
    put(b, 0x02, 1); /* chunk 0 size in 4 bytes; no times, no attribute phase values */
    put(b, n->hsize - OH_PREFIX - 4, 4);
    if (n->dataset)
        put_dataset_msgs(b, n);
    else {
        msg_hdr(b, H5M_LINFO, 18, 0);
        put(b, 0, 2);
        put(b, H5_UNDEF, 8); /* no fractal heap: compact links */
        put(b, H5_UNDEF, 8);
        msg_hdr(b, H5M_GINFO, 2, 0);
        put(b, 0, 2);
        for (size_t i = 0; i < n->nkid; i++) {
            const char *nm = n->kid[i]->name;
            size_t len = strlen(nm);
            msg_hdr(b, H5M_LINK, link_size(n->kid[i]), 0);
            put(b, 1, 1);
            put(b, len < 256 ? 0 : 1, 1);
            put(b, len, len < 256 ? 1 : 2);
            put_bytes(b, nm, len);
            put(b, n->kid[i]->addr, 8);
        }
    }
    for (size_t i = 0; i < n->nattr; i++) put_attr(b, &n->attr[i], w);
    put(b, h5_lookup3(b->p + start, (size_t)(b->at - start), 0), 4);
    for (size_t i = 0; i < n->nkid; i++) put_header(b, n->kid[i], w);
}

static void put_data(wbuf *b, const wnode *n) {
    if (n->data_addr != H5_UNDEF) {
        while (b->at < n->data_addr) b->p[b->at++] = 0;
        for (size_t i = 0; i < n->numel; i++) {
            uint32_t u;
            memcpy(&u, &n->data[i], 4);
            put(b, u, 4);
        }
    }
    for (size_t i = 0; i < n->nkid; i++) put_data(b, n->kid[i]);
}

/* Collections: header, the objects in index order, and a free-space
 * object (index 0, its size counting its own header) filling the rest. */
static void put_collections(wbuf *b, const h5w *w) {
    size_t k = 0;
    for (size_t c = 0; c < w->ncol; c++) {
        const wcol *col = &w->col[c];
        b->at = col->addr;
        put_bytes(b, "GCOL", 4);
        put(b, 1, 1);
        put(b, 0, 3);
        put(b, col->size, 8);
        for (; k < w->nstr && w->str[k]->col == c; k++) {
            const wattr *a = w->str[k];
            uint64_t len = strlen(a->value);
            put(b, a->index, 2);
            put(b, 0, 2); /* reference count */
            put(b, 0, 4);
            put(b, len, 8);
            put_bytes(b, a->value, (size_t)len);
            b->at += pad8(len) - len; /* zeros */
        }
        if (col->size > col->used) {
            put(b, 0, 8);
            put(b, col->size - col->used, 8);
        }
    }
}

sn_status sn_h5_image(sn_h5 *f, void **buf, size_t *n) {
    *buf = NULL;
    *n = 0;
    sn_status st = writable(f);
    if (st) return st;
    h5w *w = f->w;
    free(w->col);
    free(w->str);
    w->col = NULL;
    w->str = NULL;
    w->ncol = w->nstr = 0;
    if ((st = place_strings(w, &w->root))) return st;
    uint64_t at = SB_SIZE;
    place_headers(&w->root, &at);
    for (size_t c = 0; c < w->ncol; c++) {
        at = pad8(at);
        w->col[c].addr = at;
        w->col[c].size = w->col[c].used + 16 <= GCOL_MIN ? GCOL_MIN : w->col[c].used;
        at += w->col[c].size;
    }
    place_data(&w->root, &at);
    uint64_t total = pad8(at);
    wbuf b = {sn_calloc((size_t)total, 1), 0};
    if (!b.p) return SN_ERR_NOMEM;
    /* superblock version 2 */
    put_bytes(&b, "\x89HDF\r\n\x1a\n", 8);
    put(&b, 2, 1);
    put(&b, 8, 1);
    put(&b, 8, 1);
    put(&b, 0, 1);
    put(&b, 0, 8);        /* base address */
    put(&b, H5_UNDEF, 8); /* no superblock extension */
    put(&b, total, 8);    /* end of file */
    put(&b, w->root.addr, 8);
    put(&b, h5_lookup3(b.p, 44, 0), 4);
    put_header(&b, &w->root, w);
    put_collections(&b, w);
    put_data(&b, &w->root);
    *buf = b.p;
    *n = (size_t)total;
    return SN_OK;
}
