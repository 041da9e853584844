/* NumPy .npy reader and writer (contract in include/seqnn/npy.h).
 *
 * File layout (numpy/lib/format.py): "\x93NUMPY", major, minor, header
 * length (uint16 LE for 1.0, uint32 LE for 2.0 / 3.0), the header text (a
 * Python dict literal, latin-1 for 1.0 / 2.0 and UTF-8 for 3.0; padded with
 * spaces and a '\n' so the data starts at a multiple of 64), then the raw
 * elements. The header is parsed by a small literal parser of its own (not
 * the JSON one: single quotes, tuples, True/False). Elements are assembled
 * byte by byte in the file's byte order, so the host's byte order does not
 * matter, and converted in chunks so a file is never held twice. */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/npy.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/internal.h"

#define NPY_MAX_HEADER (1u << 20)
#define NPY_CHUNK (1u << 20)

typedef struct hdr {
    char kind;      /* 'f' 'i' 'u' 'b' */
    int size;       /* bytes per element */
    int big;        /* big-endian elements */
    int fortran;
    int major;
    int ndim;
    int64_t shape[SN_NPY_MAX_DIMS];
    size_t numel;
    size_t data_off;  /* where the elements start */
    char descr[4];
    int seen;         /* bit 0 descr, 1 fortran_order, 2 shape */
} hdr;

/* ---------------------------------------------------------------------
 * Header: prefix, then the dict literal
 * --------------------------------------------------------------------- */
static sn_status prefix(const unsigned char *b, size_t n, const char *name, hdr *h, size_t *hlen) {
    if (n < 8 || memcmp(b, "\x93NUMPY", 6))
        return sn_error(SN_ERR_FORMAT, "%s: not a .npy file (it does not start with \\x93NUMPY)", name);
    h->major = b[6];
    if (h->major < 1 || h->major > 3 || b[7] != 0)
        return sn_error(SN_ERR_UNSUPPORTED, "%s: .npy format version %d.%d (seqnn reads 1.0, 2.0 and 3.0)", name,
                        b[6], b[7]);
    size_t need = h->major == 1 ? 10 : 12;
    if (n < need)
        return sn_error(SN_ERR_FORMAT, "%s: truncated: %zu bytes, the .npy %d.0 prefix needs %zu", name, n,
                        h->major, need);
    *hlen = h->major == 1 ? (size_t)b[8] | (size_t)b[9] << 8
                          : (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (*hlen > NPY_MAX_HEADER)
        return sn_error(SN_ERR_FORMAT, "%s: header length %zu exceeds the limit of %u bytes", name, *hlen,
                        NPY_MAX_HEADER);
    h->data_off = need + *hlen;
    return SN_OK;
}

typedef struct lit {
    const char *p, *e, *name, *field;
} lit;

static void lws(lit *l) {
    while (l->p < l->e && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r')) l->p++;
}

/* "header field 'shape': <what>, at `...`" (the text where it went wrong). */
static sn_status lerr(lit *l, sn_status st, const char *what) {
    char near[24];
    size_t k = 0;
    for (const char *q = l->p; q < l->e && k < 20; q++) near[k++] = *q >= 0x20 && *q < 0x7f ? *q : '?';
    near[k] = 0;
    const char *at = l->p < l->e ? ", at `" : "", *end = l->p < l->e ? "`" : "";
    if (l->field) return sn_error(st, "%s: header field '%s': %s%s%s%s", l->name, l->field, what, at, near, end);
    return sn_error(st, "%s: header: %s%s%s%s", l->name, what, at, near, end);
}

static int leat(lit *l, char c) {
    lws(l);
    if (l->p < l->e && *l->p == c) {
        l->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes into out[cap]; -1 when there is none. */
static int lstr(lit *l, char *out, size_t cap) {
    lws(l);
    if (l->p >= l->e || (*l->p != '\'' && *l->p != '"')) return -1;
    char q = *l->p++;
    size_t n = 0;
    while (l->p < l->e && *l->p != q && *l->p != '\\' && *l->p != '\n') {
        if (n + 1 < cap) out[n] = *l->p;
        n++;
        l->p++;
    }
    if (l->p >= l->e || *l->p != q) return -1;
    l->p++;
    out[n < cap ? n : cap - 1] = 0;
    return (int)SN_MIN(n, (size_t)0x7fffffff);
}

static sn_status ldescr(lit *l, hdr *h) {
    char s[16];
    lws(l);
    if (l->p < l->e && *l->p == '[')
        return lerr(l, SN_ERR_UNSUPPORTED, "structured dtypes are not supported (a plain dtype such as '<f4' is)");
    int n = lstr(l, s, sizeof s);
    if (n < 0) return lerr(l, SN_ERR_FORMAT, "expected a quoted dtype such as '<f4'");
    static const char *const ok[] = {"f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"};
    int known = 0;
    for (size_t k = 0; n == 3 && k < sizeof ok / sizeof *ok; k++) known |= !strcmp(s + 1, ok[k]);
    int one = known && s[2] == '1';
    if (!known || !(s[0] == '<' || s[0] == '>' || (s[0] == '|' && one))) {
        char m[160];
        snprintf(m, sizeof m, "unsupported dtype '%s' (seqnn reads f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, "
                 "'<' or '>' byte order, '|' for one-byte types)", s);
        l->p = l->e;
        return lerr(l, SN_ERR_UNSUPPORTED, m);
    }
    memcpy(h->descr, s, 4);
    h->kind = s[1];
    h->size = s[2] - '0';
    h->big = s[0] == '>';
    return SN_OK;
}

static sn_status lbool(lit *l, int *out) {
    lws(l);
    size_t left = (size_t)(l->e - l->p);
    if (left >= 4 && !memcmp(l->p, "True", 4)) *out = 1, l->p += 4;
    else if (left >= 5 && !memcmp(l->p, "False", 5)) *out = 0, l->p += 5;
    else return lerr(l, SN_ERR_FORMAT, "expected True or False");
    return SN_OK;
}

/* A tuple of non-negative decimal integers: (), (3,), (2, 3) ... (an 'L'
 * suffix from Python 2 writers is accepted, as NumPy does). */
static sn_status lshape(lit *l, hdr *h) {
    if (!leat(l, '(')) return lerr(l, SN_ERR_FORMAT, "expected a tuple such as (3, 4)");
    h->ndim = 0;
    if (leat(l, ')')) return SN_OK;
    for (;;) {
        lws(l);
        if (l->p < l->e && *l->p == '-') return lerr(l, SN_ERR_FORMAT, "negative dimension");
        if (l->p >= l->e || *l->p < '0' || *l->p > '9') return lerr(l, SN_ERR_FORMAT, "expected a dimension (an integer)");
        if (*l->p == '0' && l->p + 1 < l->e && l->p[1] >= '0' && l->p[1] <= '9')
            return lerr(l, SN_ERR_FORMAT, "leading zero in a dimension");
        int64_t v = 0;
        for (; l->p < l->e && *l->p >= '0' && *l->p <= '9'; l->p++) {
            if (v > (INT64_MAX - (*l->p - '0')) / 10) return lerr(l, SN_ERR_FORMAT, "dimension too large");
            v = v * 10 + (*l->p - '0');
        }
        if (l->p < l->e && *l->p == 'L') l->p++;
        if (h->ndim == SN_NPY_MAX_DIMS) return lerr(l, SN_ERR_UNSUPPORTED, "more than 32 dimensions");
        h->shape[h->ndim++] = v;
        int comma = leat(l, ',');
        if (leat(l, ')')) {
            if (h->ndim == 1 && !comma) return lerr(l, SN_ERR_FORMAT, "(n) is an integer, not a tuple: write (n,)");
            return SN_OK;
        }
        if (!comma) return lerr(l, SN_ERR_FORMAT, "expected ',' or ')' in the shape tuple");
    }
}

static sn_status dict(const char *text, size_t n, const char *name, hdr *h) {
    lit l = {text, text + n, name, NULL};
    if (!leat(&l, '{')) return lerr(&l, SN_ERR_FORMAT, "expected a dict literal starting with '{'");
    while (!leat(&l, '}')) {
        char key[32];
        l.field = NULL;
        if (lstr(&l, key, sizeof key) < 0) return lerr(&l, SN_ERR_FORMAT, "expected a quoted key or '}'");
        int bit = !strcmp(key, "descr") ? 1 : !strcmp(key, "fortran_order") ? 2 : !strcmp(key, "shape") ? 4 : 0;
        l.field = key;
        if (!bit)
            return lerr(&l, SN_ERR_FORMAT, "unexpected key (a .npy header holds 'descr', 'fortran_order', 'shape')");
        if (h->seen & bit) return lerr(&l, SN_ERR_FORMAT, "given twice");
        h->seen |= bit;
        if (!leat(&l, ':')) return lerr(&l, SN_ERR_FORMAT, "expected ':' after the key");
        sn_status st = bit == 1 ? ldescr(&l, h) : bit == 2 ? lbool(&l, &h->fortran) : lshape(&l, h);
        if (st) return st;
        if (!leat(&l, ',') && (lws(&l), l.p >= l.e || *l.p != '}'))
            return lerr(&l, SN_ERR_FORMAT, "expected ',' or '}' after the value");
    }
    l.field = NULL;
    lws(&l);
    if (l.p < l.e) return lerr(&l, SN_ERR_FORMAT, "unexpected text after the dict");
    static const char *const names[] = {"descr", "fortran_order", "shape"};
    for (int k = 0; k < 3; k++)
        if (!(h->seen & 1 << k))
            return sn_error(SN_ERR_FORMAT, "%s: header has no '%s' field", name, names[k]);
    h->numel = 1;
    for (int k = 0; k < h->ndim; k++) {
        if (h->shape[k] && h->numel > (SIZE_MAX / 16) / (uint64_t)h->shape[k])
            return sn_error(SN_ERR_NOMEM, "%s: header field 'shape': too many elements", name);
        h->numel *= (size_t)h->shape[k];
    }
    return SN_OK;
}

static void shape_str(const hdr *h, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < h->ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? ", %lld" : "%lld", (long long)h->shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, h->ndim == 1 ? ",)" : ")");
}

/* Payload size against the header, then the output buffer. */
static sn_status check_alloc(const hdr *h, size_t have, const char *name, const sn_npy_opts *o, sn_npy *a) {
    size_t need = h->numel * (size_t)h->size;
    char sh[256];
    shape_str(h, sh, sizeof sh);
    if (have < need)
        return sn_error(SN_ERR_FORMAT, "%s: truncated: shape %s of %s needs %zu bytes of data after the %zu-byte "
                        "header, the file has %zu", name, sh, h->descr, need, h->data_off, have);
    if (have > need)
        return sn_error(SN_ERR_FORMAT, "%s: %zu bytes of data after the %zu-byte header, shape %s of %s needs "
                        "exactly %zu", name, have, h->data_off, sh, h->descr, need);
    size_t out = h->numel * (o->as_int64 ? 8 : 4);
    if (o->max_bytes && out > o->max_bytes)
        return sn_error(SN_ERR_NOMEM, "%s: shape %s needs %zu bytes, more than max_bytes (%zu)", name, sh, out,
                        o->max_bytes);
    void *p = sn_aligned_calloc(h->numel ? h->numel : 1, o->as_int64 ? 8 : 4);
    if (!p) return sn_error_prefix(SN_ERR_NOMEM, "%s", name);
    a->ndim = h->ndim;
    memcpy(a->shape, h->shape, sizeof a->shape);
    a->numel = h->numel;
    memcpy(a->descr, h->descr, sizeof a->descr);
    a->version = h->major;
    a->fortran_order = h->fortran;
    if (o->as_int64) a->i64 = p;
    else a->f32 = p;
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Elements
 * --------------------------------------------------------------------- */
/* Where element j of the file goes in C order: j itself, or for a
 * Fortran-ordered file (first index fastest) an odometer over the shape. */
typedef struct cursor {
    size_t dst;
    int64_t idx[SN_NPY_MAX_DIMS];
    size_t cstride[SN_NPY_MAX_DIMS];
} cursor;

static void cursor_init(cursor *c, const hdr *h) {
    memset(c, 0, sizeof *c);
    size_t s = 1;
    for (int k = h->ndim - 1; k >= 0; k--) {
        c->cstride[k] = s;
        s *= (size_t)h->shape[k];
    }
}

static void cursor_next(cursor *c, const hdr *h) {
    if (!h->fortran) {
        c->dst++;
        return;
    }
    for (int k = 0; k < h->ndim; k++) {
        c->dst += c->cstride[k];
        if (++c->idx[k] < h->shape[k]) return;
        c->dst -= (size_t)h->shape[k] * c->cstride[k];
        c->idx[k] = 0;
    }
}

static uint64_t load(const unsigned char *p, int size, int big) {
    uint64_t v = 0;
    for (int i = 0; i < size; i++) v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
    return v;
}

static sn_status not_exact(const char *name, size_t d, const char *val, const char *as) {
    return sn_error(SN_ERR_FORMAT, "%s: element %zu (C order) = %s is not exactly representable as %s", name, d,
                    val, as);
}

/* Shortest "%g" text that reads back to x. */
static void fmt_double(char *buf, size_t cap, double x) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, cap, "%.*g", p, x);
        if (strtod(buf, NULL) == x) return;
    }
}

/* count elements at src, in file order, into a->f32 or a->i64. */
static sn_status convert(const hdr *h, const unsigned char *src, size_t count, cursor *c, sn_npy *a,
                         const char *name) {
    char v_s[40];
    for (size_t k = 0; k < count; k++, src += h->size, cursor_next(c, h)) {
        uint64_t v = load(src, h->size, h->big);
        size_t d = c->dst;
        if (h->kind == 'f') {
            double x;
            if (h->size == 4) {
                uint32_t u = (uint32_t)v;
                float f;
                memcpy(&f, &u, 4);
                x = f;
            } else {
                memcpy(&x, &v, 8);
            }
            if (a->f32) {
                if (isfinite(x) && fabs(x) > FLT_MAX) {
                    fmt_double(v_s, sizeof v_s, x);
                    return not_exact(name, d, v_s, "float32 (out of range)");
                }
                a->f32[d] = (float)x;
            } else {
                if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0) || x != floor(x)) {
                    fmt_double(v_s, sizeof v_s, x);
                    return not_exact(name, d, v_s, "int64 (as_int64)");
                }
                a->i64[d] = (int64_t)x;
            }
        } else if (h->kind == 'u' || h->kind == 'b') {
            if (h->kind == 'b') v = v != 0;
            if (a->i64) {
                if (v > (uint64_t)INT64_MAX) {
                    snprintf(v_s, sizeof v_s, "%llu", (unsigned long long)v);
                    return not_exact(name, d, v_s, "int64");
                }
                a->i64[d] = (int64_t)v;
            } else {
                float f = (float)v;
                if (f >= 18446744073709551616.0f || (uint64_t)f != v) {
                    snprintf(v_s, sizeof v_s, "%llu", (unsigned long long)v);
                    return not_exact(name, d, v_s, "float32 (read ids with as_int64)");
                }
                a->f32[d] = f;
            }
        } else {
            if (h->size < 8 && (v >> (8 * h->size - 1) & 1)) v |= ~(uint64_t)0 << (8 * h->size);
            int64_t x;
            memcpy(&x, &v, 8);
            if (a->i64) {
                a->i64[d] = x;
            } else {
                float f = (float)x;
                if (f >= 9223372036854775808.0f || (int64_t)f != x) {
                    snprintf(v_s, sizeof v_s, "%lld", (long long)x);
                    return not_exact(name, d, v_s, "float32 (read ids with as_int64)");
                }
                a->f32[d] = f;
            }
        }
    }
    return SN_OK;
}

/* ---------------------------------------------------------------------
 * Reading
 * --------------------------------------------------------------------- */
void sn_npy_opts_default(sn_npy_opts *o) { memset(o, 0, sizeof *o); }

void sn_npy_free(sn_npy *a) {
    if (!a) return;
    free(a->f32);
    free(a->i64);
    memset(a, 0, sizeof *a);
}

sn_status sn_npy_read_mem(sn_npy *a, const void *buf, size_t n, const char *name, const sn_npy_opts *opts) {
    if (!a) return sn_error(SN_ERR_ARG, "sn_npy_read_mem: NULL array");
    memset(a, 0, sizeof *a);
    name = name ? name : "<memory>";
    if (!buf && n) return sn_error(SN_ERR_ARG, "%s: NULL buffer", name);
    sn_npy_opts o;
    sn_npy_opts_default(&o);
    if (opts) o = *opts;
    const unsigned char *b = buf;
    hdr h;
    memset(&h, 0, sizeof h);
    size_t hlen;
    sn_status st = prefix(b, n, name, &h, &hlen);
    if (st) return st;
    if (n < h.data_off)
        return sn_error(SN_ERR_FORMAT, "%s: truncated: the header needs %zu bytes, the file has %zu", name,
                        h.data_off, n);
    if ((st = dict((const char *)b + h.data_off - hlen, hlen, name, &h))) return st;
    if ((st = check_alloc(&h, n - h.data_off, name, &o, a))) return st;
    cursor c;
    cursor_init(&c, &h);
    if ((st = convert(&h, b + h.data_off, h.numel, &c, a, name))) sn_npy_free(a);
    return st;
}

static sn_status read_open(FILE *fp, const char *path, sn_npy *a, const sn_npy_opts *o) {
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode))
        return sn_error(SN_ERR_IO, "%s: not a regular file", path);
    size_t fsize = (size_t)sb.st_size, hlen;
    unsigned char pre[12];
    hdr h;
    memset(&h, 0, sizeof h);
    sn_status st = prefix(pre, fread(pre, 1, sizeof pre, fp), path, &h, &hlen);
    if (st) return st;
    if (fsize < h.data_off)
        return sn_error(SN_ERR_FORMAT, "%s: truncated: the header needs %zu bytes, the file has %zu", path,
                        h.data_off, fsize);
    char *text = malloc(hlen ? hlen : 1);
    if (!text) return sn_error(SN_ERR_NOMEM, "%s: out of memory", path);
    if (fseek(fp, (long)(h.data_off - hlen), SEEK_SET) != 0 || fread(text, 1, hlen, fp) != hlen)
        st = sn_error(SN_ERR_IO, "%s: cannot read the header: %s", path, strerror(errno));
    else
        st = dict(text, hlen, path, &h);
    free(text);
    if (st || (st = check_alloc(&h, fsize - h.data_off, path, o, a))) return st;
    size_t per = NPY_CHUNK / (size_t)h.size, left = h.numel;
    unsigned char *chunk = malloc(SN_MIN(left, per) * (size_t)h.size + 1);
    if (!chunk) return sn_error(SN_ERR_NOMEM, "%s: out of memory", path);
    cursor c;
    cursor_init(&c, &h);
    while (left && !st) {
        size_t k = SN_MIN(left, per);
        if (fread(chunk, (size_t)h.size, k, fp) != k)
            st = sn_error(SN_ERR_IO, "%s: read failed after %zu of %zu elements (did the file change?)", path,
                          h.numel - left, h.numel);
        else
            st = convert(&h, chunk, k, &c, a, path);
        left -= k;
    }
    free(chunk);
    return st;
}

sn_status sn_npy_read(sn_npy *a, const char *path, const sn_npy_opts *opts) {
    if (!a || !path) return sn_error(SN_ERR_ARG, "sn_npy_read: NULL argument");
    memset(a, 0, sizeof *a);
    sn_npy_opts o;
    sn_npy_opts_default(&o);
    if (opts) o = *opts;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sn_error(SN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    sn_status st = read_open(fp, path, a, &o);
    fclose(fp);
    if (st) sn_npy_free(a);
    return st;
}

/* ---------------------------------------------------------------------
 * Writing
 * --------------------------------------------------------------------- */
static sn_status write_npy(const char *path, const void *data, int i64, int ndim, const int64_t *shape) {
    const char *fn = i64 ? "sn_npy_write_i64" : "sn_npy_write_f32";
    if (!path) return sn_error(SN_ERR_ARG, "%s: NULL path", fn);
    if (ndim < 0 || ndim > SN_NPY_MAX_DIMS || (ndim && !shape))
        return sn_error(SN_ERR_ARG, "%s: %s: ndim %d outside 0..%d (or NULL shape)", path, fn, ndim, SN_NPY_MAX_DIMS);
    size_t numel = 1;
    char head[2048];
    int k = snprintf(head, sizeof head, "{'descr': '%s', 'fortran_order': False, 'shape': (", i64 ? "<i8" : "<f4");
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return sn_error(SN_ERR_ARG, "%s: %s: dimension %d is %lld", path, fn, i, (long long)shape[i]);
        if (shape[i] && numel > (SIZE_MAX / 16) / (uint64_t)shape[i])
            return sn_error(SN_ERR_NOMEM, "%s: %s: too many elements", path, fn);
        numel *= (size_t)shape[i];
        k += snprintf(head + k, sizeof head - (size_t)k, i ? ", %lld" : "%lld", (long long)shape[i]);
    }
    if (numel && !data) return sn_error(SN_ERR_ARG, "%s: %s: NULL data", path, fn);
    k += snprintf(head + k, sizeof head - (size_t)k, ndim == 1 ? ",), }" : "), }");
    if (ndim) { /* NumPy's room for growing the first axis in place: 21 digits */
        int digits = snprintf(NULL, 0, "%lld", (long long)shape[0]);
        k += snprintf(head + k, sizeof head - (size_t)k, "%*s", 21 - digits, "");
    }
    size_t hlen = (size_t)k + 1, plen = 10, pad = 64 - (10 + hlen) % 64;
    if (hlen + pad > 65535) plen = 12, pad = 64 - (12 + hlen) % 64;
    size_t isz = i64 ? 8 : 4, total = plen + hlen + pad + numel * isz, hl = hlen + pad;
    unsigned char *b = sn_malloc(total, 1);
    if (!b) return sn_error_prefix(SN_ERR_NOMEM, "%s", path);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = plen == 10 ? 1 : 2;
    b[7] = 0;
    for (size_t i = 0; i < plen - 8; i++) b[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(b + plen, head, (size_t)k);
    memset(b + plen + k, ' ', pad);
    b[plen + hlen + pad - 1] = '\n';
    unsigned char *o = b + plen + hlen + pad;
    for (size_t e = 0; e < numel; e++) {
        uint64_t v;
        if (i64) {
            memcpy(&v, (const int64_t *)data + e, 8);
        } else {
            uint32_t u;
            memcpy(&u, (const float *)data + e, 4);
            v = u;
        }
        for (size_t i = 0; i < isz; i++) *o++ = (unsigned char)(v >> (8 * i));
    }
    sn_status st = sn_file_write_atomic(path, b, total);
    free(b);
    return st;
}

sn_status sn_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape) {
    return write_npy(path, data, 0, ndim, shape);
}

sn_status sn_npy_write_i64(const char *path, const int64_t *data, int ndim, const int64_t *shape) {
    return write_npy(path, data, 1, ndim, shape);
}
