/* The HDF5 filter pipeline (spec IV.A.2.l) on chunk reads: deflate (zlib),
 * shuffle and fletcher32, undone in reverse order of the message, each
 * skipped when its bit is set in the chunk's filter mask. Output sizes are
 * bounded by the chunk size the layout states, so a decompression bomb
 * stops at that bound. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/internal.h"
#include "interop/h5_internal.h"

enum { F_DEFLATE = 1, F_SHUFFLE = 2, F_FLETCHER32 = 3 };

sn_status h5_pipeline_parse(sn_h5 *f, const h5_obj *o, h5_pipeline *pl) {
    memset(pl, 0, sizeof *pl);
    const h5_msg *m = h5_obj_msg(o, H5M_FILTERS);
    if (!m) return SN_OK;
    h5_cur c = h5_cur_make(m->data, m->size);
    unsigned ver = (unsigned)h5_u(&c, 1), n = (unsigned)h5_u(&c, 1);
    if (ver == 1) h5_skip(&c, 6);
    else if (ver != 2) return h5_bad(f, "filter pipeline message version %u", ver);
    if (n > H5_MAX_FILTERS) return h5_bad(f, "a pipeline of %u filters", n);
    for (unsigned i = 0; i < n && !c.bad; i++) {
        unsigned id = (unsigned)h5_u(&c, 2);
        size_t name_len = (ver == 1 || id >= 256) ? (size_t)h5_u(&c, 2) : 0;
        unsigned flags = (unsigned)h5_u(&c, 2), ncd = (unsigned)h5_u(&c, 2);
        h5_skip(&c, name_len);
        pl->f[i].id = (uint16_t)id;
        pl->f[i].flags = (uint16_t)flags;
        for (unsigned k = 0; k < ncd; k++) {
            uint32_t v = (uint32_t)h5_u(&c, 4);
            if (k < 4) pl->f[i].cd[k] = v;
        }
        pl->f[i].ncd = (int)ncd;
        if (ver == 1 && (ncd & 1)) h5_skip(&c, 4);
    }
    if (c.bad) return h5_bad(f, "short filter pipeline message");
    pl->n = (int)n;
    return SN_OK;
}

static const char *filter_name(unsigned id) {
    switch (id) {
    case 4: return "szip";
    case 5: return "nbit";
    case 6: return "scaleoffset";
    case 307: return "bzip2";
    case 32000: return "lzf";
    case 32001: return "blosc";
    case 32004: return "lz4";
    case 32015: return "zstd";
    default: return "unknown";
    }
}

static sn_status inflate_to(sn_h5 *f, const uint8_t *in, size_t in_n, uint8_t *out, size_t cap, size_t *out_n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return SN_ERR_NOMEM;
    sn_status st = SN_OK;
    size_t done_in = 0, done_out = 0;
    int r = Z_OK;
    while (r == Z_OK) {
        /* zlib counts in uInt: feed and drain in pieces below 1 GiB */
        size_t give = in_n - done_in, room = cap - done_out;
        z.next_in = (Bytef *)(uintptr_t)(in + done_in);
        z.avail_in = (uInt)(give > (1u << 30) ? (1u << 30) : give);
        z.next_out = out + done_out;
        z.avail_out = (uInt)(room > (1u << 30) ? (1u << 30) : room);
        uInt ai = z.avail_in, ao = z.avail_out;
        r = inflate(&z, Z_NO_FLUSH);
        done_in += ai - z.avail_in;
        done_out += ao - z.avail_out;
        if (r == Z_OK && done_out == cap) {
            st = h5_bad(f, "a deflated chunk inflates to more than its chunk size");
            break;
        }
        if (r == Z_BUF_ERROR || (r == Z_OK && done_in == in_n && ai == z.avail_in)) {
            st = h5_bad(f, "a deflated chunk is truncated");
            break;
        }
    }
    if (!st && r != Z_STREAM_END) st = h5_bad(f, "a deflated chunk is corrupt (zlib: %s)", z.msg ? z.msg : "error");
    inflateEnd(&z);
    *out_n = done_out;
    return st;
}

static void unshuffle(const uint8_t *in, size_t n, size_t esize, uint8_t *out) {
    size_t ne = n / esize;
    for (size_t b = 0; b < esize; b++)
        for (size_t j = 0; j < ne; j++) out[j * esize + b] = in[b * ne + j];
    memcpy(out + ne * esize, in + ne * esize, n - ne * esize);
}

/* HDF5's Fletcher-32 over big-endian 16-bit words (H5_checksum_fletcher32). */
static uint32_t fletcher32(const uint8_t *d, size_t len) {
    uint32_t s1 = 0, s2 = 0;
    size_t words = len / 2;
    while (words) {
        size_t t = words > 360 ? 360 : words;
        words -= t;
        do {
            s1 += ((uint32_t)d[0] << 8) | d[1];
            d += 2;
            s2 += s1;
        } while (--t);
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    if (len & 1) {
        s1 += (uint32_t)d[0] << 8;
        s2 += s1;
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    s1 = (s1 & 0xffff) + (s1 >> 16);
    s2 = (s2 & 0xffff) + (s2 >> 16);
    return (s2 << 16) | s1;
}

static sn_status check_fletcher(sn_h5 *f, const uint8_t *d, size_t n) {
    if (n < 4) return h5_bad(f, "a fletcher32 chunk shorter than its checksum");
    uint32_t stored = (uint32_t)h5_le(d + n - 4, 4), sum = fletcher32(d, n - 4);
    /* files from libhdf5 before 1.6.3 stored the two halves byte-swapped */
    uint32_t old = ((sum & 0x00ff00ffu) << 8) | ((sum >> 8) & 0x00ff00ffu);
    if (stored != sum && stored != old) return h5_bad(f, "a chunk fails its fletcher32 checksum");
    return SN_OK;
}

sn_status h5_pipeline_undo(sn_h5 *f, const h5_pipeline *pl, uint32_t mask, const uint8_t *in, size_t in_n, uint8_t *out,
                           size_t out_n) {
    size_t cap = out_n + 4 * H5_MAX_FILTERS + 64;
    uint8_t *buf[2] = {sn_malloc(cap, 1), sn_malloc(cap, 1)};
    sn_status st = (buf[0] && buf[1]) ? SN_OK : SN_ERR_NOMEM;
    const uint8_t *cur = in;
    size_t cur_n = in_n;
    int which = 0;
    for (int i = pl->n - 1; i >= 0 && !st; i--) {
        if (i < 32 && ((mask >> i) & 1)) continue;
        unsigned id = pl->f[i].id;
        uint8_t *dst = buf[which];
        if (id == F_DEFLATE) {
            st = inflate_to(f, cur, cur_n, dst, cap, &cur_n);
        } else if (id == F_SHUFFLE) {
            size_t es = pl->f[i].ncd >= 1 ? pl->f[i].cd[0] : 1;
            if (cur_n > cap) st = h5_bad(f, "a shuffled chunk is larger than its chunk size");
            else if (es > 1) unshuffle(cur, cur_n, es, dst);
            else memcpy(dst, cur, cur_n);
        } else if (id == F_FLETCHER32) {
            if (!(st = check_fletcher(f, cur, cur_n))) cur_n -= 4;
            continue; /* in place */
        } else
            st = sn_error(SN_ERR_UNSUPPORTED, "%s: %s: filter %u (%s) is not supported (deflate, shuffle and fletcher32 are)",
                          f->name, f->where, id, filter_name(id));
        cur = dst;
        which ^= 1;
    }
    if (!st && cur_n != out_n)
        st = h5_bad(f, "a chunk decodes to %zu bytes, expected %zu", cur_n, out_n);
    if (!st) memcpy(out, cur, out_n);
    free(buf[0]);
    free(buf[1]);
    return st;
}
