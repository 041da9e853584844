/* HDF5 datatype, dataspace and fill value messages (spec IV.A.2.b, d, e,
 * f) and the conversion of numeric elements to float32: IEEE binary16/32/64
 * and 8- to 64-bit integers, either byte order. Other classes are parsed
 * far enough to be named in an error. */
#include <math.h>
#include <string.h>

#include "interop/h5_internal.h"

static const char *const class_names[] = {"integer", "float",    "time", "string", "bitfield", "opaque",
                                          "compound", "reference", "enum", "variable-length", "array"};

static const char *class_name(int cls) { return cls >= 0 && cls <= 10 ? class_names[cls] : "unknown"; }

static sn_status parse_float(sn_h5 *f, h5_cur *c, unsigned bits, h5_dtype *t) {
    unsigned off = (unsigned)h5_u(c, 2), prec = (unsigned)h5_u(c, 2);
    unsigned eloc = (unsigned)h5_u(c, 1), esz = (unsigned)h5_u(c, 1), mloc = (unsigned)h5_u(c, 1), msz = (unsigned)h5_u(c, 1);
    uint32_t bias = (uint32_t)h5_u(c, 4);
    if (c->bad) return h5_bad(f, "short floating-point datatype");
    if (bits & 0x40) return h5_bad(f, "VAX-order floating-point data is not supported");
    static const unsigned ieee[3][6] = {{2, 10, 5, 0, 10, 15}, {4, 23, 8, 0, 23, 127}, {8, 52, 11, 0, 52, 1023}};
    for (int i = 0; i < 3; i++)
        if (t->size == ieee[i][0] && off == 0 && prec == 8 * t->size && eloc == ieee[i][1] && esz == ieee[i][2] &&
            mloc == ieee[i][3] && msz == ieee[i][4] && bias == ieee[i][5]) {
            t->numeric = 1;
            return SN_OK;
        }
    return h5_bad(f, "a %u-byte floating-point type that is not IEEE binary16/32/64", t->size);
}

sn_status h5_dtype_parse(sn_h5 *f, const uint8_t *p, size_t n, h5_dtype *t) {
    memset(t, 0, sizeof *t);
    h5_cur c = h5_cur_make(p, n);
    unsigned cv = (unsigned)h5_u(&c, 1), bits = (unsigned)h5_u(&c, 3);
    t->cls = (int)(cv & 15);
    t->size = (uint32_t)h5_u(&c, 4);
    if (c.bad) return h5_bad(f, "short datatype message");
    if ((cv >> 4) < 1 || (cv >> 4) > 4) return h5_bad(f, "datatype message version %u", cv >> 4);
    switch (t->cls) {
    case H5T_INT: {
        unsigned off = (unsigned)h5_u(&c, 2), prec = (unsigned)h5_u(&c, 2);
        if (c.bad) return h5_bad(f, "short integer datatype");
        t->be = bits & 1;
        t->sign = (bits >> 3) & 1;
        t->numeric = (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8) && off == 0 && prec == 8 * t->size;
        return SN_OK;
    }
    case H5T_FLOAT:
        t->be = bits & 1;
        return parse_float(f, &c, bits, t);
    case H5T_STRING:
        t->pad = (int)(bits & 15);
        if (t->size == 0) return h5_bad(f, "fixed-length string type of size 0");
        return SN_OK;
    case H5T_VLEN:
        t->vlen_str = (bits & 15) == 1;
        t->pad = (int)((bits >> 4) & 15);
        return SN_OK;
    default:
        return SN_OK;
    }
}

sn_status h5_space_parse(sn_h5 *f, const uint8_t *p, size_t n, h5_space *s) {
    memset(s, 0, sizeof *s);
    h5_cur c = h5_cur_make(p, n);
    unsigned ver = (unsigned)h5_u(&c, 1), rank = (unsigned)h5_u(&c, 1), flags = (unsigned)h5_u(&c, 1);
    if (ver == 1) {
        h5_skip(&c, 5);
    } else if (ver == 2) {
        unsigned type = (unsigned)h5_u(&c, 1);
        if (type == 2) s->null = 1;
        else if (type > 2) return h5_bad(f, "dataspace of unknown type %u", type);
    } else
        return h5_bad(f, "dataspace message version %u", ver);
    if (rank > H5_MAX_SPACE_RANK) return h5_bad(f, "dataspace of rank %u", rank);
    s->rank = (int)rank;
    uint64_t ones = f->sl >= 8 ? UINT64_MAX : (((uint64_t)1 << (8 * f->sl)) - 1);
    for (unsigned i = 0; i < rank; i++) s->dims[i] = h5_len(f, &c);
    for (unsigned i = 0; i < rank; i++) {
        uint64_t m = (flags & 1) ? h5_len(f, &c) : s->dims[i];
        s->maxd[i] = m == ones ? H5_UNDEF : m;
    }
    if (c.bad) return h5_bad(f, "short dataspace message");
    return SN_OK;
}

sn_status h5_space_numel(sn_h5 *f, const h5_space *s, uint64_t *numel) {
    uint64_t n = 1;
    int ovf = 0;
    for (int i = 0; i < s->rank; i++) n = h5_mul(n, s->dims[i], &ovf);
    if (ovf || n > ((uint64_t)1 << 56)) return h5_bad(f, "dataspace with too many elements");
    *numel = s->null ? 0 : n;
    return SN_OK;
}

sn_status h5_fill_value(sn_h5 *f, const h5_obj *o, uint32_t size, uint8_t *fill) {
    memset(fill, 0, size);
    const h5_msg *m = h5_obj_msg(o, H5M_FILL);
    const uint8_t *val = NULL;
    uint64_t vlen = 0;
    if (m) {
        h5_cur c = h5_cur_make(m->data, m->size);
        unsigned ver = (unsigned)h5_u(&c, 1);
        int have;
        if (ver == 1 || ver == 2) {
            h5_skip(&c, 2);
            unsigned defined = (unsigned)h5_u(&c, 1);
            have = ver == 1 || defined;
        } else if (ver == 3) {
            unsigned flags = (unsigned)h5_u(&c, 1);
            have = (flags >> 5) & 1;
        } else
            return h5_bad(f, "fill value message version %u", ver);
        if (have) {
            vlen = h5_u(&c, 4);
            val = vlen ? h5_take(&c, (size_t)vlen) : NULL;
        }
        if (c.bad) return h5_bad(f, "short fill value message");
    } else if ((m = h5_obj_msg(o, H5M_FILL_OLD))) {
        h5_cur c = h5_cur_make(m->data, m->size);
        vlen = h5_u(&c, 4);
        val = vlen ? h5_take(&c, (size_t)vlen) : NULL;
        if (c.bad) return h5_bad(f, "short fill value message");
    }
    if (val && vlen != size) return h5_bad(f, "fill value of %llu bytes for elements of %u", (unsigned long long)vlen, size);
    if (val) memcpy(fill, val, size);
    return SN_OK;
}

/* binary16 -> float (exact). */
static float half_to_float(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 1024), e - 25);
    return s ? -v : v;
}

static uint64_t load(const uint8_t *p, uint32_t size, int be) {
    uint64_t v = 0;
    if (be)
        for (uint32_t i = 0; i < size; i++) v = (v << 8) | p[i];
    else
        for (uint32_t i = size; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

void h5_to_f32(const h5_dtype *t, const uint8_t *src, float *dst, size_t n) {
    uint32_t sz = t->size;
    for (size_t i = 0; i < n; i++, src += sz) {
        uint64_t v = load(src, sz, t->be);
        if (t->cls == H5T_FLOAT) {
            if (sz == 4) {
                uint32_t u = (uint32_t)v;
                memcpy(&dst[i], &u, 4);
            } else if (sz == 8) {
                double d;
                memcpy(&d, &v, 8);
                dst[i] = (float)d;
            } else
                dst[i] = half_to_float((uint16_t)v);
        } else if (t->sign) {
            uint64_t sbit = (uint64_t)1 << (8 * sz - 1);
            int64_t sv = (v & sbit) ? (int64_t)(v | ~(sbit | (sbit - 1))) : (int64_t)v;
            dst[i] = (float)sv;
        } else
            dst[i] = (float)v;
    }
}

const char *h5_class_name(int cls) { return class_name(cls); }
