/* The byte codec and section framing of seqnn's model file (model_file.h):
 * a growable writer, a bounds-checked reader, the header (magic, version,
 * section count) and CRC-checked sections. The layout is docs/format.md;
 * model_io.c fills the model's sections, src/fit/train_state.c its own. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>

#include "model/model_file.h"

#define SN_MODEL_MAGIC "SNMODEL"
#define SN_MODEL_VERSION 1u

/* Byte order: every integer is written and read byte by byte, least
 * significant first, so the file is little-endian on any host; floats go
 * through their IEEE bit patterns. Tensor data is the bulk of a file: on a
 * little-endian host its bytes already are the file's and are copied whole. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SN_HOST_LE 1
#else
#define SN_HOST_LE 0
#endif

static void put_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_le64(const unsigned char *p) { return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32; }

uint32_t sn_file_crc32(const void *p, size_t n) { return (uint32_t)crc32_z(0L, p, n); }

/* ---- writer (each function's contract is in model_file.h) ---- */
/* Makes room for n more bytes; 0 (and oom) when that fails. */
static int w_reserve(sn_wbuf *b, size_t n) {
    if (b->oom) return 0;
    if (n > SIZE_MAX / 2 - b->n - 1024) {
        b->oom = 1;
        return 0;
    }
    if (b->n + n > b->cap) {
        size_t nc = (b->n + n) * 2 + 1024;
        unsigned char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return 0;
        }
        b->p = np;
        b->cap = nc;
    }
    return 1;
}

void sn_w_bytes(sn_wbuf *b, const void *d, size_t n) {
    if (!w_reserve(b, n)) return;
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
void sn_w_u32(sn_wbuf *b, uint32_t v) {
    if (!w_reserve(b, 4)) return;
    put_le32(b->p + b->n, v);
    b->n += 4;
}
void sn_w_u64(sn_wbuf *b, uint64_t v) {
    if (!w_reserve(b, 8)) return;
    put_le64(b->p + b->n, v);
    b->n += 8;
}
void sn_w_f64(sn_wbuf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    sn_w_u64(b, u);
}
void sn_w_f32s(sn_wbuf *b, const float *x, size_t n) {
    if (n > SIZE_MAX / 4 || !w_reserve(b, n * 4)) {
        b->oom = 1;
        return;
    }
    if (SN_HOST_LE) {
        memcpy(b->p + b->n, x, n * 4);
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            put_le32(b->p + b->n + 4 * i, u);
        }
    }
    b->n += n * 4;
}
void sn_w_str(sn_wbuf *b, const char *s) {
    size_t n = strlen(s);
    sn_w_u32(b, (uint32_t)n);
    sn_w_bytes(b, s, n);
}

size_t sn_w_section_begin(sn_wbuf *b, const char *tag) {
    sn_w_bytes(b, tag, 4);
    sn_w_u64(b, 0);
    return b->n;
}

void sn_w_section_end(sn_wbuf *b, size_t start, uint32_t *count) {
    if (b->oom) return;
    size_t len = b->n - start;
    put_le64(b->p + start - 8, (uint64_t)len);
    sn_w_u32(b, sn_file_crc32(b->p + start, len));
    (*count)++;
}

void sn_w_file_begin(sn_wbuf *b) {
    sn_w_bytes(b, SN_MODEL_MAGIC "\0", 8);
    sn_w_u32(b, SN_MODEL_VERSION);
    sn_w_u32(b, 0); /* section count, patched by sn_w_file_finish */
}

sn_status sn_w_file_finish(sn_wbuf *b, uint32_t count, const char *path) {
    if (b->oom) {
        free(b->p);
        return sn_error(SN_ERR_NOMEM, "%s: out of memory serialising the model", path);
    }
    put_le32(b->p + 12, count);
    sn_status st = sn_file_write_atomic(path, b->p, b->n);
    free(b->p);
    return st;
}

/* ---- reader (contracts in model_file.h) ---- */
sn_status sn_r_fail(sn_rbuf *r, const char *what) {
    r->bad = 1;
    return sn_error(SN_ERR_FORMAT, "%s: section %s at offset %zu: %s", r->path, r->sec ? r->sec : "header", r->off,
                    what);
}

int sn_r_bytes(sn_rbuf *r, void *d, size_t n) {
    if (r->bad) return 0;
    if (n > r->n - r->off) {
        sn_r_fail(r, "truncated");
        return 0;
    }
    memcpy(d, r->p + r->off, n);
    r->off += n;
    return 1;
}
uint32_t sn_r_u32(sn_rbuf *r) {
    unsigned char b[4];
    return sn_r_bytes(r, b, 4) ? get_le32(b) : 0;
}
uint64_t sn_r_u64(sn_rbuf *r) {
    unsigned char b[8];
    return sn_r_bytes(r, b, 8) ? get_le64(b) : 0;
}
double sn_r_f64(sn_rbuf *r) {
    uint64_t u = sn_r_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
int sn_r_f32s(sn_rbuf *r, float *x, size_t n) {
    if (r->bad) return 0;
    if (n > (r->n - r->off) / 4) {
        sn_r_fail(r, "truncated");
        return 0;
    }
    const unsigned char *p = r->p + r->off;
    if (SN_HOST_LE) {
        memcpy(x, p, n * 4);
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t u = get_le32(p + 4 * i);
            memcpy(&x[i], &u, 4);
        }
    }
    r->off += n * 4;
    return 1;
}

int sn_r_str(sn_rbuf *r, char *buf, size_t n) {
    uint32_t len = sn_r_u32(r);
    if (r->bad) return 0;
    if (len >= n) {
        sn_r_fail(r, "string too long");
        return 0;
    }
    if (!sn_r_bytes(r, buf, len)) return 0;
    buf[len] = 0;
    return 1;
}

sn_rbuf sn_rbuf_of(const sn_file_section *s, const char *path) {
    sn_rbuf r = {s->p, s->n, 0, path, s->tag, 0};
    return r;
}

/* ---- whole files (contracts in model_file.h) ---- */
static sn_status read_whole_file(const char *path, unsigned char **data, size_t *n, int *missing) {
    *missing = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *missing = errno == ENOENT;
        return sn_error(SN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat stt;
    if (fstat(fileno(fp), &stt) != 0 || !S_ISREG(stt.st_mode)) {
        fclose(fp);
        return sn_error(SN_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)stt.st_size;
    unsigned char *buf = sn_malloc(size ? size : 1, 1);
    if (!buf) {
        fclose(fp);
        return SN_ERR_NOMEM;
    }
    if (fread(buf, 1, size, fp) != size) {
        free(buf);
        fclose(fp);
        return sn_error(SN_ERR_IO, "%s: read failed", path);
    }
    fclose(fp);
    *data = buf;
    *n = size;
    return SN_OK;
}

/* Splits the file into sections, checking magic, version and CRCs. */
static sn_status parse_sections(sn_model_file *f) {
    const char *path = f->path;
    const unsigned char *d = f->data;
    size_t n = f->n;
    if (n < 16 || memcmp(d, SN_MODEL_MAGIC "\0", 8) != 0)
        return sn_error(SN_ERR_FORMAT, "%s: not a seqnn model file (bad magic)", path);
    uint32_t ver = get_le32(d + 8), count = get_le32(d + 12);
    /* The version word doubles as the byte-order mark: a writer that stored
     * host order on a big-endian machine left it byte-swapped. */
    if (ver == ((SN_MODEL_VERSION & 0xffu) << 24))
        return sn_error(SN_ERR_FORMAT, "%s: model file in big-endian byte order (written by a seqnn build that stored "
                        "host byte order); this build reads little-endian files only", path);
    if (ver != SN_MODEL_VERSION)
        return sn_error(SN_ERR_FORMAT, "%s: model file version %u is not supported (this build reads %u)", path, ver,
                        SN_MODEL_VERSION);
    if (count > SN_FILE_MAX_SECTIONS) return sn_error(SN_ERR_FORMAT, "%s: header claims %u sections", path, count);
    size_t off = 16;
    for (uint32_t i = 0; i < count; i++) {
        if (n - off < 12) return sn_error(SN_ERR_FORMAT, "%s: truncated at offset %zu (section header)", path, off);
        sn_file_section *s = &f->sec[i];
        memcpy(s->tag, d + off, 4);
        s->tag[4] = 0;
        uint64_t len = get_le64(d + off + 4);
        off += 12;
        if (len > n - off || n - off - len < 4)
            return sn_error(SN_ERR_FORMAT, "%s: section %s at offset %zu claims %llu bytes, file has %zu left", path,
                            s->tag, off - 12, (unsigned long long)len, n - off);
        if (sn_file_crc32(d + off, (size_t)len) != get_le32(d + off + len))
            return sn_error(SN_ERR_FORMAT, "%s: section %s at offset %zu is corrupt (CRC mismatch)", path, s->tag, off - 12);
        s->p = d + off;
        s->n = (size_t)len;
        s->file_off = off;
        off += (size_t)len + 4;
    }
    f->n_sec = (int)count;
    return SN_OK;
}

sn_status sn_model_file_open(sn_model_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    f->path = path;
    sn_status st = read_whole_file(path, &f->data, &f->n, &f->missing);
    if (st) return st;
    st = parse_sections(f);
    if (st) {
        free(f->data);
        f->data = NULL;
    }
    return st;
}

void sn_model_file_close(sn_model_file *f) {
    free(f->data);
    f->data = NULL;
    f->n_sec = 0;
}

const sn_file_section *sn_model_file_find(const sn_model_file *f, const char *tag) {
    for (int i = 0; i < f->n_sec; i++)
        if (!strcmp(f->sec[i].tag, tag)) return &f->sec[i];
    return NULL;
}
