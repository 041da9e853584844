/* The reading calls of h5.h over seqnn's own HDF5 reader: opening (the
 * superblock, versions 0-3, found at 0, 512, 1024, ...), path resolution
 * from the root group, and the group / attribute / dataset queries. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "interop/h5_internal.h"

#define MAX_MEMBERS 1000000
#define MAX_COMPONENTS 256

static const uint8_t SIGNATURE[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static sn_h5 *h5_new(const char *name) {
    sn_h5 *f = sn_calloc(1, sizeof *f);
    if (!f) return NULL;
    snprintf(f->name, sizeof f->name, "%s", name ? name : "<memory>");
    for (int i = 0; i < H5_GCOL_CACHE; i++) f->gc[i].addr = H5_UNDEF;
    f->fh_ok = H5_UNDEF;
    return f;
}

/* The superblock at absolute offset `at` (its signature already matched). */
static sn_status superblock(sn_h5 *f, uint64_t at) {
    f->base = at;
    const uint8_t *p;
    sn_status st = h5_at(f, 0, 12, &p, "the superblock");
    if (st) return st;
    f->sb_version = p[8];
    int v = f->sb_version;
    if (v > 3) return h5_bad(f, "superblock version %d", v);
    /* versions 0 and 1 keep the two sizes at bytes 13 and 14 */
    if (v < 2 && (st = h5_at(f, 0, 16, &p, "the superblock"))) return st;
    f->so = v >= 2 ? p[9] : p[13];
    f->sl = v >= 2 ? p[10] : p[14];
    if ((f->so != 2 && f->so != 4 && f->so != 8) || (f->sl != 2 && f->sl != 4 && f->sl != 8))
        return h5_bad(f, "sizes of offsets %d and lengths %d are not supported", f->so, f->sl);
    size_t so = (size_t)f->so, pre = v >= 2 ? 12 : (v == 1 ? 28 : 24), len = pre + 4 * so + (v >= 2 ? 0 : (size_t)f->sl + so + 24);
    if ((st = h5_at(f, 0, len + (v >= 2 ? 4 : 0), &p, "the superblock"))) return st;
    if (v >= 2 && (st = h5_check_sum(f, p, len, "the superblock"))) return st;
    h5_cur c = h5_cur_make(p + pre, len - pre);
    h5_addr(f, &c);     /* base address: libhdf5 too uses where the signature is */
    h5_addr(f, &c);     /* free space info (v0/1) or superblock extension (v2/3) */
    uint64_t eof = h5_addr(f, &c);
    if (v >= 2) {
        f->root = h5_addr(f, &c);
    } else {
        h5_addr(f, &c); /* driver info */
        h5_len(f, &c);  /* root symbol table entry: link name offset (a length), then the header address */
        f->root = h5_addr(f, &c);
    }
    if (c.bad) return h5_bad(f, "short superblock");
    /* the end-of-file address counts a user block too (libhdf5 writes it so) */
    if (eof != H5_UNDEF && eof > f->n)
        return h5_bad(f, "the file is truncated (%zu bytes, the superblock says %llu)", f->n, (unsigned long long)eof);
    return SN_OK;
}

/* Finds and checks the superblock and the root group. */
static sn_status h5_init(sn_h5 *f) {
    /* messages read "<file>: not a readable HDF5 file: <why>" while opening */
    h5_begin(f, "not a readable HDF5 file");
    uint64_t at = 0;
    while (at + 8 <= f->n && memcmp(f->buf + at, SIGNATURE, 8)) at = at ? at * 2 : 512;
    sn_status st = at + 8 <= f->n ? superblock(f, at) : h5_bad(f, "no HDF5 signature");
    h5_obj o;
    if (!st && !(st = h5_obj_read(f, f->root, &o))) {
        if (!h5_obj_is_group(&o)) st = h5_bad(f, "the root object is not a group");
        h5_obj_free(&o);
    }
    f->where = NULL;
    return st;
}

static sn_status open_buf(sn_h5 **out, sn_h5 *f) {
    sn_status st = h5_init(f);
    if (st) {
        sn_h5_close(f);
        return st;
    }
    *out = f;
    return SN_OK;
}

sn_status sn_h5_open(sn_h5 **out, const char *path) {
    *out = NULL;
    if (!path) return sn_error(SN_ERR_ARG, "sn_h5_open: NULL path");
    struct stat sb;
    if (stat(path, &sb) != 0) return sn_error(SN_ERR_IO, "%s: cannot open", path);
    if (!S_ISREG(sb.st_mode)) return sn_error(SN_ERR_IO, "%s: not a regular file", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return sn_error(SN_ERR_IO, "%s: cannot open", path);
    sn_h5 *f = h5_new(path);
    size_t n = (size_t)sb.st_size;
    if (f) f->buf = sn_malloc(n ? n : 1, 1);
    sn_status st = f && f->buf ? SN_OK : SN_ERR_NOMEM;
    if (!st && (f->n = fread(f->buf, 1, n, fp)) != n) st = sn_error(SN_ERR_IO, "%s: read error", path);
    fclose(fp);
    if (st) {
        sn_h5_close(f);
        return st;
    }
    return open_buf(out, f);
}

sn_status sn_h5_open_image(sn_h5 **out, const void *buf, size_t n, const char *name) {
    *out = NULL;
    if (!buf || n == 0) return sn_error(SN_ERR_FORMAT, "%s: empty HDF5 file", name ? name : "<memory>");
    sn_h5 *f = h5_new(name);
    if (!f || !(f->buf = sn_malloc(n, 1))) {
        sn_h5_close(f);
        return SN_ERR_NOMEM;
    }
    memcpy(f->buf, buf, n);
    f->n = n;
    return open_buf(out, f);
}

void sn_h5_close(sn_h5 *f) {
    if (!f) return;
    h5_gheap_free(f);
    h5w_free(f->w);
    free(f->buf);
    free(f);
}

const char *sn_h5_name(const sn_h5 *f) { return f ? f->name : ""; }

/* Resolves path from the root into *o (*found 0 when a component is
 * missing or not a group on the way). */
static sn_status resolve(sn_h5 *f, const char *path, h5_obj *o, int *found) {
    *found = 0;
    sn_status st = h5_obj_read(f, f->root, o);
    const char *p = path ? path : "";
    for (int depth = 0; !st && *p; depth++) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (depth >= MAX_COMPONENTS) {
            h5_obj_free(o);
            return SN_OK;
        }
        const char *name = p;
        p += len;
        if (len == 1 && name[0] == '.') continue;
        uint64_t addr;
        int ok;
        if (!h5_obj_is_group(o)) ok = 0;
        else if ((st = h5_link_find(f, o, name, len, &addr, &ok))) break;
        h5_obj_free(o);
        if (!ok || addr == H5_UNDEF) return SN_OK;
        st = h5_obj_read(f, addr, o);
    }
    if (st) {
        h5_obj_free(o);
        return st;
    }
    *found = 1;
    return SN_OK;
}

static int is_kind(sn_h5 *f, const char *path, int dataset) {
    h5_begin(f, path);
    h5_obj o;
    int found, r = 0;
    if (f->buf && resolve(f, path, &o, &found) == SN_OK && found) {
        r = dataset ? h5_obj_is_dataset(&o) : h5_obj_is_group(&o);
        h5_obj_free(&o);
    }
    return r;
}

int sn_h5_is_group(sn_h5 *f, const char *path) { return is_kind(f, path, 0); }
int sn_h5_is_dataset(sn_h5 *f, const char *path) { return is_kind(f, path, 1); }

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static sn_status add_name(sn_h5 *f, void *ctx, const char *name, size_t nlen, uint64_t addr) {
    (void)addr;
    names *nm = ctx;
    if (nm->n == MAX_MEMBERS) return h5_bad(f, "more than %d members", MAX_MEMBERS);
    if (nm->n == nm->cap) {
        size_t nc = nm->cap ? nm->cap * 2 : 16;
        char **nv = sn_realloc(nm->v, nc, sizeof *nv);
        if (!nv) return SN_ERR_NOMEM;
        nm->v = nv;
        nm->cap = nc;
    }
    if (!(nm->v[nm->n] = sn_malloc(nlen + 1, 1))) return SN_ERR_NOMEM;
    memcpy(nm->v[nm->n], name, nlen);
    nm->v[nm->n++][nlen] = 0;
    return SN_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

sn_status sn_h5_list(sn_h5 *f, const char *path, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    h5_begin(f, path);
    h5_obj o;
    int found;
    names nm = {NULL, 0, 0};
    sn_status st = f->buf ? resolve(f, path, &o, &found) : SN_ERR_STATE;
    if (st) return st;
    if (!found || !h5_obj_is_group(&o)) {
        if (found) h5_obj_free(&o);
        return sn_error(SN_ERR_FORMAT, "%s: %s: no such group", f->name, f->where);
    }
    st = h5_links(f, &o, add_name, &nm);
    h5_obj_free(&o);
    if (st) {
        sn_h5_strs_free(nm.v, nm.n);
        return st;
    }
    if (nm.n) qsort(nm.v, nm.n, sizeof *nm.v, cmp_str); /* HDF5's name order */
    *out = nm.v ? nm.v : sn_calloc(1, sizeof(char *));
    *n = nm.n;
    return *out ? SN_OK : SN_ERR_NOMEM;
}

/* The attribute itself, or Keras's chunked form attr0, attr1, ... (written
 * when a list exceeds the object-header limit), concatenated. */
static sn_status attr_all(sn_h5 *f, const h5_obj *o, const char *attr, char ***v, size_t *k, int *found) {
    h5_attr a;
    sn_status st = h5_attr_find(f, o, attr, &a, found);
    if (!st && *found) return h5_attr_strings(f, &a, v, k);
    for (int c = 0; !st && c < 100000; c++) {
        char nm[300];
        int one;
        snprintf(nm, sizeof nm, "%.250s%d", attr, c);
        if ((st = h5_attr_find(f, o, nm, &a, &one)) || !one) break;
        *found = 1;
        st = h5_attr_strings(f, &a, v, k);
    }
    return st;
}

int sn_h5_has_attr(sn_h5 *f, const char *path, const char *attr) {
    h5_begin(f, path);
    h5_obj o;
    int found, r = 0;
    if (!f->buf || resolve(f, path, &o, &found) != SN_OK || !found) return 0;
    h5_attr a;
    char nm[300];
    snprintf(nm, sizeof nm, "%.250s0", attr);
    if (h5_attr_find(f, &o, attr, &a, &r) != SN_OK) r = 0;
    if (!r && h5_attr_find(f, &o, nm, &a, &r) != SN_OK) r = 0;
    h5_obj_free(&o);
    return r;
}

sn_status sn_h5_attr_strs(sn_h5 *f, const char *path, const char *attr, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    h5_begin(f, path);
    h5_obj o;
    int found;
    sn_status st = f->buf ? resolve(f, path, &o, &found) : SN_ERR_STATE;
    if (st) return st;
    if (!found) return sn_error(SN_ERR_FORMAT, "%s: %s: no such object", f->name, f->where);
    char **v = NULL;
    size_t k = 0;
    st = attr_all(f, &o, attr, &v, &k, &found);
    h5_obj_free(&o);
    if (!st && !found) st = sn_error(SN_ERR_FORMAT, "%s: %s: missing attribute %s", f->name, f->where, attr);
    if (st) {
        sn_h5_strs_free(v, k);
        return st;
    }
    *out = v ? v : sn_calloc(1, sizeof(char *));
    *n = k;
    return *out ? SN_OK : SN_ERR_NOMEM;
}

sn_status sn_h5_attr_str(sn_h5 *f, const char *path, const char *attr, char **out) {
    *out = NULL;
    char **v;
    size_t n;
    sn_status st = sn_h5_attr_strs(f, path, attr, &v, &n);
    if (st) return st;
    if (n != 1) {
        sn_h5_strs_free(v, n);
        return sn_error(SN_ERR_FORMAT, "%s: %s: attribute %s holds %zu strings, expected one", f->name, f->where, attr, n);
    }
    *out = v[0];
    free(v);
    return SN_OK;
}

/* Resolves the numeric dataset at path: header, type, shape. */
static sn_status open_numeric(sn_h5 *f, const char *path, h5_obj *o, int *rank, int64_t *dims) {
    h5_begin(f, path);
    int found;
    h5_dtype t;
    h5_space s;
    sn_status st = f->buf ? resolve(f, path, o, &found) : SN_ERR_STATE;
    if (st) return st;
    if (!found || !h5_obj_is_dataset(o)) {
        if (found) h5_obj_free(o);
        return sn_error(SN_ERR_FORMAT, "%s: %s: no such dataset", f->name, f->where);
    }
    if (!(st = h5_dataset_info(f, o, &t, &s)) && s.rank > SN_H5_MAX_RANK)
        st = sn_error(SN_ERR_FORMAT, "%s: %s: rank %d is more than %d", f->name, f->where, s.rank, SN_H5_MAX_RANK);
    for (int i = 0; !st && i < s.rank; i++) {
        if (s.dims[i] > ((uint64_t)1 << 40)) st = sn_error(SN_ERR_FORMAT, "%s: %s: dimension too large", f->name, f->where);
        dims[i] = (int64_t)s.dims[i];
    }
    *rank = s.null ? 1 : s.rank;
    if (s.null) dims[0] = 0; /* the null dataspace: no elements */
    if (st) h5_obj_free(o);
    return st;
}

sn_status sn_h5_shape(sn_h5 *f, const char *path, int *rank, int64_t dims[SN_H5_MAX_RANK]) {
    *rank = 0;
    h5_obj o;
    sn_status st = open_numeric(f, path, &o, rank, dims);
    if (!st) h5_obj_free(&o);
    return st;
}

sn_status sn_h5_read_f32(sn_h5 *f, const char *path, float *out, size_t numel) {
    h5_obj o;
    int rank;
    int64_t dims[SN_H5_MAX_RANK];
    sn_status st = open_numeric(f, path, &o, &rank, dims);
    if (st) return st;
    uint64_t n = 1;
    int ovf = 0;
    for (int i = 0; i < rank; i++) n = h5_mul(n, (uint64_t)dims[i], &ovf);
    if (ovf || n != numel)
        st = sn_error(SN_ERR_FORMAT, "%s: %s: dataset has %llu elements, expected %zu", f->name, f->where,
                      ovf ? (unsigned long long)UINT64_MAX : (unsigned long long)n, numel);
    else
        st = h5_dataset_read(f, &o, out, numel);
    h5_obj_free(&o);
    return st;
}
