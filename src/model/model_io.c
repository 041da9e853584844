/* Model file: one self-describing, versioned file.
 *
 *   "SNMODEL\0"  magic (8 bytes)
 *   u32 version (1), u32 section count
 *   sections: char tag[4], u64 length, payload, u32 CRC-32 of the payload
 *     ARCH  input rank/shape/sparse, seed, per-layer trainable flags, spec text
 *     TENS  named tensors: layer name, tensor name, rank, dims, float32 data
 *     OPTM  optimizer config, loss, metrics, iterations, slot arrays
 *     RNGS  dropout RNG state
 *     META  key / byte-blob pairs (normalisation, vocabulary, windowing)
 *     TRST  training state for --resume (epoch, monitors, history, best weights)
 * All integers little endian. Unknown tags are skipped (forward compatible).
 * Every length is checked against the bytes that remain before anything is
 * allocated, so a corrupt header cannot trigger a huge allocation. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "model/model_impl.h"
#include "fit/train_state.h"

#define SN_MODEL_MAGIC "SNMODEL"
#define SN_MODEL_VERSION 1u

/* ---- writer ---- */
typedef struct wbuf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} wbuf;

static void w_bytes(wbuf *b, const void *d, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t nc = (b->n + n) * 2 + 1024;
        unsigned char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void w_u32(wbuf *b, uint32_t v) { w_bytes(b, &v, 4); }
static void w_u64(wbuf *b, uint64_t v) { w_bytes(b, &v, 8); }
static void w_f64(wbuf *b, double v) { w_bytes(b, &v, 8); }
static void w_str(wbuf *b, const char *s) {
    size_t n = strlen(s);
    w_u32(b, (uint32_t)n);
    w_bytes(b, s, n);
}

/* Section bookkeeping: start writes the tag and a length placeholder. */
static size_t sec_begin(wbuf *b, const char *tag) {
    w_bytes(b, tag, 4);
    w_u64(b, 0);
    return b->n;
}
static void sec_end(wbuf *b, size_t start, uint32_t *count) {
    if (b->oom) return;
    uint64_t len = b->n - start;
    memcpy(b->p + start - 8, &len, 8);
    uint32_t crc = (uint32_t)crc32(0L, b->p + start, (uInt)len);
    w_u32(b, crc);
    (*count)++;
}

static void write_model_sections(wbuf *b, const sn_model *m, uint32_t *count) {
    size_t s = sec_begin(b, "ARCH");
    w_u32(b, (uint32_t)m->in_shape.rank);
    for (int i = 0; i < 3; i++) w_u32(b, (uint32_t)m->in_shape.d[i]);
    w_u32(b, m->in_shape.rep == SN_REP_SPARSE);
    w_u64(b, m->seed);
    w_u32(b, (uint32_t)m->n_layers);
    for (int i = 0; i < m->n_layers; i++) w_u32(b, (uint32_t)m->layers[i]->trainable);
    w_str(b, m->spec);
    sec_end(b, s, count);

    s = sec_begin(b, "TENS");
    uint32_t nt = 0;
    for (int i = 0; i < m->n_layers; i++) nt += (uint32_t)m->layers[i]->n_tensors;
    w_u32(b, nt);
    for (int i = 0; i < m->n_layers; i++) {
        const sn_layer *L = m->layers[i];
        for (int k = 0; k < L->n_tensors; k++) {
            const sn_tensor_info *t = &L->tensors[k];
            w_str(b, L->name);
            w_str(b, t->name);
            w_u32(b, (uint32_t)t->rank);
            for (int d = 0; d < t->rank; d++) w_u32(b, (uint32_t)t->dims[d]);
            w_u64(b, t->numel);
            w_bytes(b, L->w + t->offset, t->numel * sizeof(float));
        }
    }
    sec_end(b, s, count);

    if (m->compiled) {
        s = sec_begin(b, "OPTM");
        const sn_optimizer_cfg *c = &m->opt.cfg;
        w_u32(b, (uint32_t)c->kind);
        double f[] = {c->lr, c->momentum, c->rho, c->beta1, c->beta2, c->epsilon, c->clipnorm, c->clipvalue,
                      c->global_clipnorm, c->weight_decay};
        for (size_t i = 0; i < sizeof f / sizeof *f; i++) w_f64(b, f[i]);
        w_u32(b, (uint32_t)c->nesterov);
        w_u32(b, (uint32_t)c->centered);
        w_u32(b, (uint32_t)c->legacy_rmsprop_eps);
        w_u32(b, (uint32_t)m->loss);
        w_u32(b, (uint32_t)m->n_metrics);
        for (int i = 0; i < m->n_metrics; i++) w_u32(b, (uint32_t)m->metrics[i]);
        w_u64(b, (uint64_t)m->opt.iterations);
        w_u64(b, m->opt.n);
        w_u32(b, m->opt.m != NULL);
        if (m->opt.m) w_bytes(b, m->opt.m, m->opt.n * sizeof(float));
        w_u32(b, m->opt.v != NULL);
        if (m->opt.v) w_bytes(b, m->opt.v, m->opt.n * sizeof(float));
        w_u32(b, m->opt.u != NULL);
        if (m->opt.u) w_bytes(b, m->opt.u, m->opt.n * sizeof(float));
        sec_end(b, s, count);
    }

    s = sec_begin(b, "RNGS");
    for (int i = 0; i < 4; i++) w_u64(b, m->rng.s[i]);
    sec_end(b, s, count);

    if (m->n_meta) {
        s = sec_begin(b, "META");
        w_u32(b, (uint32_t)m->n_meta);
        for (int i = 0; i < m->n_meta; i++) {
            w_str(b, m->meta[i].key);
            w_u64(b, m->meta[i].n);
            w_bytes(b, m->meta[i].data, m->meta[i].n);
        }
        sec_end(b, s, count);
    }
}

static sn_status finish_file(wbuf *b, const char *path) {
    if (b->oom) {
        free(b->p);
        return sn_error(SN_ERR_NOMEM, "%s: out of memory serialising the model", path);
    }
    sn_status st = sn_file_write_atomic(path, b->p, b->n);
    free(b->p);
    return st;
}

static void begin_file(wbuf *b) {
    w_bytes(b, SN_MODEL_MAGIC "\0", 8);
    w_u32(b, SN_MODEL_VERSION);
    w_u32(b, 0); /* section count, patched at the end */
}

static void patch_count(wbuf *b, uint32_t count) {
    if (!b->oom) memcpy(b->p + 12, &count, 4);
}

sn_status sn_model_save(const sn_model *m, const char *path) {
    if (!m || !path) return sn_error(SN_ERR_ARG, "sn_model_save: NULL argument");
    wbuf b = {0};
    uint32_t count = 0;
    begin_file(&b);
    write_model_sections(&b, m, &count);
    patch_count(&b, count);
    return finish_file(&b, path);
}

void sn_train_state_init(sn_train_state *ts) { memset(ts, 0, sizeof *ts); }

sn_status sn_train_state_save(const sn_model *m, const char *path, const sn_train_state *ts, const sn_history *h,
                              const float *best_w) {
    wbuf b = {0};
    uint32_t count = 0;
    begin_file(&b);
    write_model_sections(&b, m, &count);
    size_t s = sec_begin(&b, "TRST");
    w_u32(&b, (uint32_t)ts->epoch_done);
    w_f64(&b, ts->best_ckpt);
    w_u32(&b, (uint32_t)ts->have_best_ckpt);
    w_f64(&b, ts->best_es);
    w_u32(&b, (uint32_t)ts->have_best_es);
    w_u32(&b, (uint32_t)ts->wait);
    w_u32(&b, (uint32_t)h->epochs);
    w_u32(&b, (uint32_t)h->n_keys);
    for (int k = 0; k < h->n_keys; k++) w_str(&b, h->key[k]);
    for (int e = 0; e < h->epochs; e++) {
        for (int k = 0; k < h->n_keys; k++) w_f64(&b, h->val[(size_t)e * SN_LOGS_MAX + k]);
        w_f64(&b, h->seconds[e]);
    }
    w_u32(&b, best_w != NULL);
    if (best_w) w_bytes(&b, best_w, m->n_params * sizeof(float));
    w_u32(&b, (uint32_t)ts->step_done);
    w_f64(&b, ts->ltot);
    w_f64(&b, ts->lcnt);
    w_f64(&b, ts->elapsed);
    for (int i = 0; i < 4; i++) {
        w_f64(&b, ts->mtotal[i]);
        w_f64(&b, ts->mcount[i]);
    }
    sec_end(&b, s, &count);
    patch_count(&b, count);
    return finish_file(&b, path);
}

/* ---- reader ---- */
typedef struct rbuf {
    const unsigned char *p;
    size_t n, off;
    const char *path;
    const char *sec;
    int bad;
} rbuf;

static sn_status r_fail(rbuf *r, const char *what) {
    r->bad = 1;
    return sn_error(SN_ERR_FORMAT, "%s: section %s at offset %zu: %s", r->path, r->sec ? r->sec : "header", r->off,
                    what);
}
static int r_bytes(rbuf *r, void *d, size_t n) {
    if (r->bad) return 0;
    if (n > r->n - r->off) {
        r_fail(r, "truncated");
        return 0;
    }
    memcpy(d, r->p + r->off, n);
    r->off += n;
    return 1;
}
static uint32_t r_u32(rbuf *r) {
    uint32_t v = 0;
    r_bytes(r, &v, 4);
    return v;
}
static uint64_t r_u64(rbuf *r) {
    uint64_t v = 0;
    r_bytes(r, &v, 8);
    return v;
}
static double r_f64(rbuf *r) {
    double v = 0;
    r_bytes(r, &v, 8);
    return v;
}
/* Reads a length-prefixed string into buf (max n-1 bytes). */
static int r_str(rbuf *r, char *buf, size_t n) {
    uint32_t len = r_u32(r);
    if (r->bad) return 0;
    if (len >= n) {
        r_fail(r, "string too long");
        return 0;
    }
    if (!r_bytes(r, buf, len)) return 0;
    buf[len] = 0;
    return 1;
}

typedef struct section {
    char tag[5];
    const unsigned char *p;
    size_t n;
    size_t file_off;
} section;

static sn_status read_file(const char *path, unsigned char **data, size_t *n, int *missing) {
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
static sn_status parse_sections(const char *path, const unsigned char *d, size_t n, section *secs, int max, int *ns) {
    if (n < 16 || memcmp(d, SN_MODEL_MAGIC "\0", 8) != 0)
        return sn_error(SN_ERR_FORMAT, "%s: not a seqnn model file (bad magic)", path);
    uint32_t ver, count;
    memcpy(&ver, d + 8, 4);
    memcpy(&count, d + 12, 4);
    if (ver != SN_MODEL_VERSION)
        return sn_error(SN_ERR_FORMAT, "%s: model file version %u is not supported (this build reads %u)", path, ver,
                        SN_MODEL_VERSION);
    if (count > (uint32_t)max) return sn_error(SN_ERR_FORMAT, "%s: header claims %u sections", path, count);
    size_t off = 16;
    for (uint32_t i = 0; i < count; i++) {
        if (n - off < 12) return sn_error(SN_ERR_FORMAT, "%s: truncated at offset %zu (section header)", path, off);
        section *s = &secs[i];
        memcpy(s->tag, d + off, 4);
        s->tag[4] = 0;
        uint64_t len;
        memcpy(&len, d + off + 4, 8);
        off += 12;
        if (len > n - off || n - off - len < 4)
            return sn_error(SN_ERR_FORMAT, "%s: section %s at offset %zu claims %llu bytes, file has %zu left", path,
                            s->tag, off - 12, (unsigned long long)len, n - off);
        uint32_t crc;
        memcpy(&crc, d + off + len, 4);
        if ((uint32_t)crc32(0L, d + off, (uInt)len) != crc)
            return sn_error(SN_ERR_FORMAT, "%s: section %s at offset %zu is corrupt (CRC mismatch)", path, s->tag, off - 12);
        s->p = d + off;
        s->n = (size_t)len;
        s->file_off = off;
        off += (size_t)len + 4;
    }
    *ns = (int)count;
    return SN_OK;
}

static const section *find_sec(const section *s, int n, const char *tag) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].tag, tag)) return &s[i];
    return NULL;
}

static rbuf rb_of(const section *s, const char *path) {
    rbuf r = {s->p, s->n, 0, path, s->tag, 0};
    return r;
}

/* Fills weights of m from TENS: every tensor of the model must be present with the same shape. */
static sn_status read_tensors(sn_model *m, const section *s, const char *path) {
    rbuf r = rb_of(s, path);
    uint32_t nt = r_u32(&r);
    int filled = 0;
    for (uint32_t i = 0; i < nt && !r.bad; i++) {
        char lname[64], tname[64];
        if (!r_str(&r, lname, sizeof lname) || !r_str(&r, tname, sizeof tname)) break;
        uint32_t rank = r_u32(&r);
        if (rank < 1 || rank > 4) return r_fail(&r, "tensor rank out of range");
        uint32_t dims[4];
        for (uint32_t d = 0; d < rank; d++) dims[d] = r_u32(&r);
        uint64_t numel = r_u64(&r), prod = 1;
        if (r.bad) break;
        for (uint32_t d = 0; d < rank; d++) prod *= dims[d];
        if (prod != numel) return r_fail(&r, "tensor dims do not match its element count");
        if (numel > (r.n - r.off) / 4) return r_fail(&r, "tensor data truncated");
        size_t have;
        float *dst = sn_model_tensor(m, lname, tname, &have);
        if (!dst) return sn_error(SN_ERR_FORMAT, "%s: tensor %s/%s does not belong to the model", path, lname, tname);
        if (have != numel)
            return sn_error(SN_ERR_FORMAT, "%s: tensor %s/%s has %llu values, the model expects %zu", path, lname, tname,
                            (unsigned long long)numel, have);
        r_bytes(&r, dst, numel * sizeof(float));
        filled++;
    }
    if (r.bad) return SN_ERR_FORMAT;
    int want = 0;
    for (int i = 0; i < m->n_layers; i++) want += m->layers[i]->n_tensors;
    if (filled != want) return sn_error(SN_ERR_FORMAT, "%s: file holds %d tensors, the model has %d", path, filled, want);
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i])) return sn_error(SN_ERR_FORMAT, "%s: weights hold NaN or Inf", path);
    return SN_OK;
}

static sn_status read_optim(sn_model *m, const section *s, const char *path) {
    rbuf r = rb_of(s, path);
    sn_optimizer_cfg c;
    memset(&c, 0, sizeof c);
    c.kind = (sn_opt_kind)r_u32(&r);
    double *f[] = {&c.lr, &c.momentum, &c.rho, &c.beta1, &c.beta2, &c.epsilon, &c.clipnorm, &c.clipvalue,
                   &c.global_clipnorm, &c.weight_decay};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) *f[i] = r_f64(&r);
    c.nesterov = (int)r_u32(&r);
    c.centered = (int)r_u32(&r);
    c.legacy_rmsprop_eps = (int)r_u32(&r);
    uint32_t loss = r_u32(&r), nm = r_u32(&r);
    if (r.bad) return SN_ERR_FORMAT;
    if (c.kind > SN_OPT_ADAM || loss > SN_LOSS_SCCE || nm > 4) return r_fail(&r, "bad optimizer / loss / metric code");
    sn_metric_kind mk[4];
    for (uint32_t i = 0; i < nm; i++) {
        mk[i] = (sn_metric_kind)r_u32(&r);
        if (mk[i] > SN_METRIC_SPARSE_CATEGORICAL_ACCURACY) return r_fail(&r, "bad metric code");
    }
    uint64_t iters = r_u64(&r), n = r_u64(&r);
    if (r.bad) return SN_ERR_FORMAT;
    if (n != m->n_params) return r_fail(&r, "optimizer slots do not match the parameter count");
    sn_status st = sn_model_compile(m, &c, (sn_loss_kind)loss, mk, (int)nm);
    if (st) return sn_error_prefix(st, "%s: optimizer section", path);
    m->opt.iterations = (int64_t)iters;
    for (int k = 0; k < 3; k++) {
        uint32_t has = r_u32(&r);
        float *slot = k == 0 ? m->opt.m : k == 1 ? m->opt.v : m->opt.u;
        if (has && !slot) return r_fail(&r, "optimizer slot present in file but not used by the optimizer");
        if (has && !r_bytes(&r, slot, n * sizeof(float))) return SN_ERR_FORMAT;
    }
    return r.bad ? SN_ERR_FORMAT : SN_OK;
}

static sn_status read_meta(sn_model *m, const section *s, const char *path) {
    rbuf r = rb_of(s, path);
    uint32_t n = r_u32(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        char key[64];
        if (!r_str(&r, key, sizeof key)) break;
        uint64_t len = r_u64(&r);
        if (r.bad) break;
        if (len > r.n - r.off) return r_fail(&r, "metadata blob truncated");
        sn_status st = sn_model_set_meta(m, key, r.p + r.off, (size_t)len);
        if (st) return st;
        r.off += (size_t)len;
    }
    return r.bad ? SN_ERR_FORMAT : SN_OK;
}

static sn_status load_common(sn_model **out, const char *path, const unsigned char *d, size_t n, section *secs,
                             int *ns) {
    sn_status st = parse_sections(path, d, n, secs, 32, ns);
    if (st) return st;
    const section *a = find_sec(secs, *ns, "ARCH");
    const section *t = find_sec(secs, *ns, "TENS");
    if (!a || !t) return sn_error(SN_ERR_FORMAT, "%s: missing %s section", path, !a ? "ARCH" : "TENS");
    rbuf r = rb_of(a, path);
    sn_model_opts o;
    memset(&o, 0, sizeof o);
    o.input_rank = (int)r_u32(&r);
    for (int i = 0; i < 3; i++) o.input_shape[i] = (int)r_u32(&r);
    o.input_sparse = (int)r_u32(&r);
    o.seed = r_u64(&r);
    uint32_t nl = r_u32(&r);
    if (r.bad) return SN_ERR_FORMAT;
    if (nl > 4096 || (size_t)nl * 4 > r.n - r.off) return r_fail(&r, "layer count out of range");
    uint32_t *tr = sn_malloc(nl ? nl : 1, sizeof(uint32_t));
    if (!tr) return SN_ERR_NOMEM;
    for (uint32_t i = 0; i < nl; i++) tr[i] = r_u32(&r);
    uint32_t slen = r_u32(&r);
    if (r.bad || slen > r.n - r.off) {
        free(tr);
        return r_fail(&r, "spec text truncated");
    }
    char *spec = sn_malloc((size_t)slen + 1, 1);
    if (!spec) {
        free(tr);
        return SN_ERR_NOMEM;
    }
    memcpy(spec, r.p + r.off, slen);
    spec[slen] = 0;
    sn_model *m;
    st = sn_model_build_from_spec(&m, spec, &o, 0);
    free(spec);
    if (st) {
        free(tr);
        return sn_error_prefix(st, "%s: architecture", path);
    }
    if ((uint32_t)m->n_layers != nl) {
        free(tr);
        sn_model_free(m);
        return sn_error(SN_ERR_FORMAT, "%s: spec has %d layers, header says %u", path, m->n_layers, nl);
    }
    for (uint32_t i = 0; i < nl; i++) m->layers[i]->trainable = tr[i] != 0;
    free(tr);
    /* Recompute trainable segments after the flags changed. */
    for (int i = 0; i < m->n_layers; i++)
        if (!m->layers[i]->trainable) {
            st = sn_model_set_trainable(m, m->layers[i]->name, 0);
            if (st) break;
        }
    if (!st) st = read_tensors(m, t, path);
    const section *s;
    if (!st && (s = find_sec(secs, *ns, "OPTM"))) st = read_optim(m, s, path);
    if (!st && (s = find_sec(secs, *ns, "RNGS"))) {
        rbuf rr = rb_of(s, path);
        for (int i = 0; i < 4; i++) m->rng.s[i] = r_u64(&rr);
        if (rr.bad) st = SN_ERR_FORMAT;
    }
    if (!st && (s = find_sec(secs, *ns, "META"))) st = read_meta(m, s, path);
    if (st) {
        sn_model_free(m);
        return st;
    }
    *out = m;
    return SN_OK;
}

sn_status sn_model_load(sn_model **out, const char *path) {
    if (!out || !path) return sn_error(SN_ERR_ARG, "sn_model_load: NULL argument");
    *out = NULL;
    unsigned char *d;
    size_t n;
    int missing;
    sn_status st = read_file(path, &d, &n, &missing);
    if (st) return st;
    section secs[32];
    int ns;
    st = load_common(out, path, d, n, secs, &ns);
    free(d);
    return st;
}

sn_status sn_train_state_load(sn_model *m, const char *path, sn_train_state *ts, sn_history *h, float *best_w) {
    unsigned char *d;
    size_t n;
    int missing;
    sn_status st = read_file(path, &d, &n, &missing);
    if (st) {
        ts->missing = missing;
        return st;
    }
    section secs[32];
    int ns;
    sn_model *saved = NULL;
    st = load_common(&saved, path, d, n, secs, &ns);
    if (st) goto out;
    if (strcmp(saved->spec, m->spec) || saved->n_params != m->n_params) {
        st = sn_error(SN_ERR_FORMAT, "%s: resume state is for model `%s`, not `%s`", path, saved->spec, m->spec);
        goto out;
    }
    const section *s = find_sec(secs, ns, "TRST");
    if (!s) {
        st = sn_error(SN_ERR_FORMAT, "%s: no training state section (not a resume file)", path);
        goto out;
    }
    memcpy(m->params, saved->params, m->n_params * sizeof(float));
    if (saved->compiled && m->compiled && saved->opt.n == m->opt.n) {
        if (m->opt.m && saved->opt.m) memcpy(m->opt.m, saved->opt.m, m->opt.n * sizeof(float));
        if (m->opt.v && saved->opt.v) memcpy(m->opt.v, saved->opt.v, m->opt.n * sizeof(float));
        if (m->opt.u && saved->opt.u) memcpy(m->opt.u, saved->opt.u, m->opt.n * sizeof(float));
        m->opt.iterations = saved->opt.iterations;
    }
    m->rng = saved->rng;
    rbuf r = rb_of(s, path);
    ts->epoch_done = (int)r_u32(&r);
    ts->best_ckpt = r_f64(&r);
    ts->have_best_ckpt = (int)r_u32(&r);
    ts->best_es = r_f64(&r);
    ts->have_best_es = (int)r_u32(&r);
    ts->wait = (int)r_u32(&r);
    uint32_t epochs = r_u32(&r), nk = r_u32(&r);
    if (r.bad) {
        st = SN_ERR_FORMAT;
        goto out;
    }
    if (nk > SN_LOGS_MAX || epochs > 1000000 || (size_t)epochs * (nk + 1) * 8 > r.n - r.off) {
        st = r_fail(&r, "history size out of range");
        goto out;
    }
    sn_history_free(h);
    char keys[SN_LOGS_MAX][32];
    for (uint32_t k = 0; k < nk; k++)
        if (!r_str(&r, keys[k], sizeof keys[k])) break;
    for (uint32_t e = 0; e < epochs && !r.bad; e++) {
        sn_logs l;
        memset(&l, 0, sizeof l);
        l.n = (int)nk;
        for (uint32_t k = 0; k < nk; k++) {
            memcpy(l.key[k], keys[k], sizeof keys[k]);
            l.val[k] = r_f64(&r);
        }
        double secs_e = r_f64(&r);
        /* history_add lives in model_fit.c; rebuild the arrays here. */
        if (h->epochs == h->cap) {
            int nc = h->cap ? h->cap * 2 : 16;
            double *nv = sn_realloc(h->val, (size_t)nc * SN_LOGS_MAX, sizeof(double));
            double *nsx = nv ? sn_realloc(h->seconds, (size_t)nc, sizeof(double)) : NULL;
            if (nv) h->val = nv;
            if (!nv || !nsx) {
                st = SN_ERR_NOMEM;
                goto out;
            }
            h->seconds = nsx;
            h->cap = nc;
        }
        h->n_keys = (int)nk;
        for (uint32_t k = 0; k < nk; k++) {
            memcpy(h->key[k], keys[k], sizeof keys[k]);
            h->val[(size_t)h->epochs * SN_LOGS_MAX + k] = l.val[k];
        }
        h->seconds[h->epochs++] = secs_e;
    }
    uint32_t has_best = r_u32(&r);
    if (!r.bad && has_best) {
        if ((size_t)(r.n - r.off) < m->n_params * sizeof(float)) {
            st = r_fail(&r, "best weights truncated");
            goto out;
        }
        if (best_w) memcpy(best_w, r.p + r.off, m->n_params * sizeof(float));
        r.off += m->n_params * sizeof(float);
    }
    ts->step_done = (int)r_u32(&r);
    ts->ltot = r_f64(&r);
    ts->lcnt = r_f64(&r);
    ts->elapsed = r_f64(&r);
    for (int i = 0; i < 4; i++) {
        ts->mtotal[i] = r_f64(&r);
        ts->mcount[i] = r_f64(&r);
    }
    st = r.bad ? SN_ERR_FORMAT : SN_OK;
out:
    sn_model_free(saved);
    free(d);
    return st;
}
