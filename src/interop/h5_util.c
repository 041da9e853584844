/* HDF5 reader basics: the bounds-checked cursor, address checks, error
 * messages, the work budget and Jenkins' lookup3 checksum (h5_internal.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop/h5_internal.h"

h5_cur h5_cur_make(const uint8_t *p, size_t n) {
    h5_cur c = {p, p ? p + n : p, p == NULL};
    return c;
}

size_t h5_left(const h5_cur *c) { return c->bad ? 0 : (size_t)(c->end - c->p); }

uint64_t h5_le(const uint8_t *p, int nbytes) {
    uint64_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint64_t h5_u(h5_cur *c, int nbytes) {
    if (c->bad || nbytes < 1 || nbytes > 8 || (size_t)(c->end - c->p) < (size_t)nbytes) {
        c->bad = 1;
        return 0;
    }
    uint64_t v = h5_le(c->p, nbytes);
    c->p += nbytes;
    return v;
}

const uint8_t *h5_take(h5_cur *c, size_t n) {
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

void h5_skip(h5_cur *c, size_t n) { (void)h5_take(c, n); }

uint64_t h5_addr(const sn_h5 *f, h5_cur *c) {
    uint64_t v = h5_u(c, f->so);
    uint64_t ones = f->so >= 8 ? UINT64_MAX : (((uint64_t)1 << (8 * f->so)) - 1);
    return v == ones ? H5_UNDEF : v;
}

uint64_t h5_len(const sn_h5 *f, h5_cur *c) { return h5_u(c, f->sl); }

sn_status h5_bad(sn_h5 *f, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *w = f->where && f->where[0] ? f->where : NULL;
    return sn_error(SN_ERR_FORMAT, "%s: %s%s%s", f->name, w ? w : "", w ? ": " : "", msg);
}

sn_status h5_at(sn_h5 *f, uint64_t addr, uint64_t len, const uint8_t **p, const char *what) {
    *p = NULL;
    if (addr == H5_UNDEF) return h5_bad(f, "%s has an undefined address", what);
    uint64_t n = f->n;
    if (f->base > n || addr > n - f->base || len > n - f->base - addr)
        return h5_bad(f, "%s points past the end of the file (%llu bytes at %llu, file of %llu)", what,
                      (unsigned long long)len, (unsigned long long)addr, (unsigned long long)n);
    *p = f->buf + f->base + addr;
    return SN_OK;
}

void h5_begin(sn_h5 *f, const char *path) {
    f->where = path && path[0] ? path : "/";
    f->budget = 4096 + (uint64_t)f->n / 2;
}

sn_status h5_spend(sn_h5 *f, uint64_t units) {
    if (units > f->budget) {
        f->budget = 0;
        return h5_bad(f, "the file's structures loop or are too large to walk");
    }
    f->budget -= units;
    return SN_OK;
}

int h5_sig(const uint8_t *p, const char *s) { return memcmp(p, s, 4) == 0; }

int h5_log2(uint64_t v) {
    int r = -1;
    while (v) {
        v >>= 1;
        r++;
    }
    return r;
}

int h5_pow2(uint64_t v) { return v && !(v & (v - 1)); }

uint64_t h5_mul(uint64_t a, uint64_t b, int *ovf) {
    if (a && b > UINT64_MAX / a) {
        *ovf = 1;
        return 0;
    }
    return a * b;
}

/* Bob Jenkins' lookup3 hashlittle() (public domain, 2006), byte by byte:
 * the checksum of every HDF5 metadata structure that has one. */
#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
#define MIX(a, b, c)                                                                                                   \
    do {                                                                                                               \
        a -= c, a ^= ROT(c, 4), c += b;                                                                                \
        b -= a, b ^= ROT(a, 6), a += c;                                                                                \
        c -= b, c ^= ROT(b, 8), b += a;                                                                                \
        a -= c, a ^= ROT(c, 16), c += b;                                                                               \
        b -= a, b ^= ROT(a, 19), a += c;                                                                               \
        c -= b, c ^= ROT(b, 4), b += a;                                                                                \
    } while (0)
#define FINAL(a, b, c)                                                                                                 \
    do {                                                                                                               \
        c ^= b, c -= ROT(b, 14);                                                                                       \
        a ^= c, a -= ROT(c, 11);                                                                                       \
        b ^= a, b -= ROT(a, 25);                                                                                       \
        c ^= b, c -= ROT(b, 16);                                                                                       \
        a ^= c, a -= ROT(c, 4);                                                                                        \
        b ^= a, b -= ROT(a, 14);                                                                                       \
        c ^= b, c -= ROT(b, 24);                                                                                       \
    } while (0)

static uint32_t word(const uint8_t *k, size_t n) {
    uint32_t v = 0;
    for (size_t i = 0; i < n && i < 4; i++) v |= (uint32_t)k[i] << (8 * i);
    return v;
}

uint32_t h5_lookup3(const void *key, size_t len, uint32_t init) {
    const uint8_t *k = key;
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + (uint32_t)len + init;
    while (len > 12) {
        a += word(k, 4);
        b += word(k + 4, 4);
        c += word(k + 8, 4);
        MIX(a, b, c);
        len -= 12;
        k += 12;
    }
    if (len == 0) return c;
    /* the last 1..12 bytes, zero-extended (the spec's fall-through switch) */
    a += word(k, len);
    if (len > 4) b += word(k + 4, len - 4);
    if (len > 8) c += word(k + 8, len - 8);
    FINAL(a, b, c);
    return c;
}

sn_status h5_check_sum(sn_h5 *f, const uint8_t *p, size_t len, const char *what) {
    uint32_t want = (uint32_t)h5_le(p + len, 4), got = h5_lookup3(p, len, 0);
    if (want != got) return h5_bad(f, "%s: checksum mismatch (stored %08x, computed %08x)", what, want, got);
    return SN_OK;
}

void sn_h5_strs_free(char **s, size_t n) {
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}
