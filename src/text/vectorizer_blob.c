/* The vectorizer's serialized form (the "vectorizer" entry of a model
 * file, so `seqnn predict` classifies raw text). Little-endian throughout:
 *
 *   "SNVZ"  u32 version (1)  u32 n_fields (10)
 *   u32 x 10  max_tokens standardize split ngrams output_mode
 *             output_sequence_length pad_to_max_tokens strip_html stem utf8_lower
 *   u32 n_tokens, then per token: u32 length, bytes (no NUL)
 *   u32 has_idf (1 exactly in tf_idf mode), then n_tokens f32 idf and the OOV f32
 *   u32 CRC-32 (zlib) of everything before it
 *
 * Every read is bounds-checked; a blob that is malformed in any way is
 * SN_ERR_FORMAT naming the field. */
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/internal.h"
#include "text/vectorizer_internal.h"

#define BLOB_VERSION 1u
#define BLOB_NFIELDS 10u

/* ---- writing: a byte buffer whose first failure sticks ---- */

typedef struct wbuf {
    sn_buf b;
    sn_status st;
} wbuf;

static void w_bytes(wbuf *w, const void *src, size_t n) {
    if (w->st == SN_OK) w->st = sn_buf_append(&w->b, src, n);
}

static void w_u32(wbuf *w, uint32_t x) {
    unsigned char b[4] = {(unsigned char)x, (unsigned char)(x >> 8), (unsigned char)(x >> 16),
                          (unsigned char)(x >> 24)};
    w_bytes(w, b, 4);
}

static void w_f32(wbuf *w, float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    w_u32(w, x);
}

sn_status sn_vectorizer_save_blob(const sn_vectorizer *v, void **buf, size_t *len) {
    if (!v || !buf || !len) return sn_error(SN_ERR_ARG, "sn_vectorizer_save_blob: NULL argument");
    wbuf w = {{0}, SN_OK};
    w_bytes(&w, "SNVZ", 4);
    w_u32(&w, BLOB_VERSION);
    w_u32(&w, BLOB_NFIELDS);
    const sn_vectorizer_opts *o = &v->o;
    int32_t f[BLOB_NFIELDS] = {o->max_tokens, (int32_t)o->standardize, (int32_t)o->split, o->ngrams,
                               (int32_t)o->output_mode, o->output_sequence_length, o->pad_to_max_tokens,
                               o->strip_html, o->stem, o->utf8_lower};
    for (unsigned i = 0; i < BLOB_NFIELDS; i++) w_u32(&w, (uint32_t)f[i]);
    w_u32(&w, (uint32_t)v->vocab.n);
    for (size_t i = 0; i < v->vocab.n; i++) {
        w_u32(&w, v->vocab.e[i].len);
        w_bytes(&w, sn_strtab_key(&v->vocab, i), v->vocab.e[i].len);
    }
    w_u32(&w, v->idf ? 1u : 0u);
    if (v->idf) {
        for (size_t i = 0; i < v->vocab.n; i++) w_f32(&w, v->idf[i]);
        w_f32(&w, v->oov_idf);
    }
    uint32_t crc = w.st == SN_OK ? (uint32_t)crc32_z(0L, (const unsigned char *)w.b.p, w.b.n) : 0;
    w_u32(&w, crc);
    if (w.st != SN_OK) {
        sn_buf_free(&w.b);
        return sn_error(SN_ERR_NOMEM, "sn_vectorizer_save_blob: out of memory");
    }
    *buf = w.b.p;
    *len = w.b.n;
    return SN_OK;
}

/* ---- reading ---- */

typedef struct rbuf {
    const unsigned char *p;
    size_t n, pos;
} rbuf;

static int r_u32(rbuf *r, uint32_t *x) {
    if (r->n - r->pos < 4) return 0;
    const unsigned char *b = r->p + r->pos;
    *x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    r->pos += 4;
    return 1;
}

static int r_f32(rbuf *r, float *f) {
    uint32_t x;
    if (!r_u32(r, &x)) return 0;
    memcpy(f, &x, 4);
    return 1;
}

#define BLOB_ERR(...) sn_error(SN_ERR_FORMAT, "vectorizer blob: " __VA_ARGS__)

/* Size, magic and checksum of the whole blob. */
static sn_status check_frame(const unsigned char *p, size_t len) {
    if (len < 4 + 4 + 4 + 4 * BLOB_NFIELDS + 4 + 4 + 4) return BLOB_ERR("truncated (%zu bytes)", len);
    if (memcmp(p, "SNVZ", 4) != 0) return BLOB_ERR("bad magic (not a vectorizer)");
    uint32_t crc_stored = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 | (uint32_t)p[len - 2] << 16 |
                          (uint32_t)p[len - 1] << 24;
    if ((uint32_t)crc32_z(0L, p, len - 4) != crc_stored) return BLOB_ERR("checksum mismatch (corrupt data)");
    return SN_OK;
}

/* Version, field count and the options (validated as sn_vectorizer_init does). */
static sn_status read_opts(rbuf *r, sn_vectorizer_opts *o) {
    uint32_t ver = 0, nf = 0;
    r_u32(r, &ver); /* check_frame guaranteed these bytes */
    if (ver != BLOB_VERSION) return BLOB_ERR("unsupported version %u (this build reads %u)", ver, BLOB_VERSION);
    r_u32(r, &nf);
    if (nf != BLOB_NFIELDS) return BLOB_ERR("field 'n_fields' is %u, expected %u", nf, BLOB_NFIELDS);
    uint32_t f[BLOB_NFIELDS];
    for (unsigned i = 0; i < BLOB_NFIELDS; i++)
        if (!r_u32(r, &f[i])) return BLOB_ERR("truncated in the options");
    o->max_tokens = (int32_t)f[0];
    o->standardize = (sn_standardize)f[1];
    o->split = (sn_split)f[2];
    o->ngrams = (int32_t)f[3];
    o->output_mode = (sn_output_mode)f[4];
    o->output_sequence_length = (int32_t)f[5];
    o->pad_to_max_tokens = (int32_t)f[6];
    o->strip_html = (int32_t)f[7];
    o->stem = (int32_t)f[8];
    o->utf8_lower = (int32_t)f[9];
    if (f[1] > 3 || f[2] > 2 || f[4] > 3) return BLOB_ERR("an option enum is out of range");
    if (sn_vectorizer_check_opts(o) != SN_OK) return sn_error_prefix(SN_ERR_FORMAT, "vectorizer blob: bad options");
    return SN_OK;
}

/* The token list: *toks point into the blob (not NUL-terminated), *lens
 * their lengths; both arrays are fresh (free them, also on error). */
static sn_status read_tokens(rbuf *r, uint32_t *nt, const char ***toks, uint32_t **lens) {
    if (!r_u32(r, nt)) return BLOB_ERR("truncated before 'n_tokens'");
    if ((size_t)*nt > (r->n - r->pos) / 4) return BLOB_ERR("field 'n_tokens' = %u does not fit in %zu bytes", *nt, r->n - r->pos);
    *toks = sn_malloc(SN_MAX(*nt, 1u), sizeof **toks);
    *lens = sn_malloc(SN_MAX(*nt, 1u), sizeof **lens);
    if (!*toks || !*lens) return SN_ERR_NOMEM;
    for (uint32_t i = 0; i < *nt; i++) {
        uint32_t l;
        if (!r_u32(r, &l)) return BLOB_ERR("truncated at token %u", i);
        if (l == 0 || l > r->n - r->pos) return BLOB_ERR("token %u has length %u (%zu bytes left)", i, l, r->n - r->pos);
        (*toks)[i] = (const char *)r->p + r->pos;
        (*lens)[i] = l;
        r->pos += l;
    }
    return SN_OK;
}

/* The idf table (tf_idf mode only): *idf fresh (free it), *oov the OOV weight. */
static sn_status read_idf(rbuf *r, const sn_vectorizer_opts *o, uint32_t nt, uint32_t *has_idf, float **idf, float *oov) {
    if (!r_u32(r, has_idf) || *has_idf > 1) return BLOB_ERR("field 'has_idf' missing or not 0/1");
    if (*has_idf != (o->output_mode == SN_OUTPUT_TF_IDF))
        return BLOB_ERR("field 'has_idf' = %u does not match the output mode", *has_idf);
    *oov = 0.0f;
    if (!*has_idf) return SN_OK;
    if ((r->n - r->pos) / 4 < (size_t)nt + 1) return BLOB_ERR("truncated in the idf table");
    if (!(*idf = sn_malloc(SN_MAX(nt, 1u), sizeof **idf))) return SN_ERR_NOMEM;
    for (uint32_t i = 0; i < nt; i++) r_f32(r, &(*idf)[i]);
    r_f32(r, oov);
    if (!isfinite(*oov)) return BLOB_ERR("OOV idf is not finite");
    return SN_OK;
}

sn_status sn_vectorizer_load_blob(sn_vectorizer **out, const void *buf, size_t len) {
    if (!out || (!buf && len)) return sn_error(SN_ERR_ARG, "sn_vectorizer_load_blob: NULL argument");
    *out = NULL;
    const unsigned char *p = buf;
    sn_status st = check_frame(p, len);
    if (st != SN_OK) return st;
    rbuf r = {p, len - 4, 4};
    sn_vectorizer_opts o;
    sn_vectorizer *v = NULL;
    const char **toks = NULL;
    uint32_t *lens = NULL, nt = 0, has_idf = 0;
    float *idf = NULL, oov = 0.0f;
    st = read_opts(&r, &o);
    if (st == SN_OK) st = read_tokens(&r, &nt, &toks, &lens);
    if (st == SN_OK) st = read_idf(&r, &o, nt, &has_idf, &idf, &oov);
    if (st == SN_OK && r.pos != r.n) st = BLOB_ERR("%zu trailing bytes", r.n - r.pos);
    if (st == SN_OK) st = sn_vectorizer_init(&v, &o);
    /* tokens in a blob are not NUL-terminated: install_vocab uses lengths */
    if (st == SN_OK && sn_vectorizer_install_vocab(v, toks, lens, nt, idf, (int)has_idf, oov) != SN_OK)
        st = sn_error_prefix(SN_ERR_FORMAT, "vectorizer blob");
    free(toks);
    free(lens);
    free(idf);
    if (st != SN_OK) {
        sn_vectorizer_free(v);
        return st;
    }
    *out = v;
    return SN_OK;
}
