/* The model file (docs/format.md): the sections that describe a model
 * (ARCH, TENS, OPTM, RNGS, LRNG, META), sn_model_save and sn_model_load. The byte
 * codec and section framing are file_codec.c; the training-state file adds
 * its TRST section in src/fit/train_state.c. Every length is checked against
 * the bytes that remain before anything is allocated, so a corrupt header
 * cannot trigger a huge allocation. */
#include <math.h>
#include <string.h>

#include "model/model_file.h"

/* The RNG streams layer L owns (ops->rng_streams; none when absent), at
 * most SN_MAX_RNG_STREAMS. The pointers point into L. */
#define SN_MAX_RNG_STREAMS 16
static int layer_streams(const sn_layer *L, sn_rng **out) {
    if (!L->ops->rng_streams) return 0;
    /* the ops entry takes a mutable layer; reading the states changes nothing */
    int n = L->ops->rng_streams((sn_layer *)L, out, SN_MAX_RNG_STREAMS);
    SN_ASSERT(n >= 0 && n <= SN_MAX_RNG_STREAMS);
    return n;
}

/* LRNG (docs/format.md): the streams of every layer that owns some, so that
 * a loaded or resumed model continues them. Written only when a layer owns
 * a stream, so files of models without seeded layers are unchanged. */
static void write_layer_streams(sn_wbuf *b, const sn_model *m, uint32_t *count) {
    sn_rng *st[SN_MAX_RNG_STREAMS];
    uint32_t owners = 0;
    for (int i = 0; i < m->n_layers; i++) owners += layer_streams(m->layers[i], st) > 0;
    if (!owners) return;
    size_t s = sn_w_section_begin(b, "LRNG");
    sn_w_u32(b, owners);
    for (int i = 0; i < m->n_layers; i++) {
        int n = layer_streams(m->layers[i], st);
        if (!n) continue;
        sn_w_str(b, m->layers[i]->name);
        sn_w_u32(b, (uint32_t)n);
        for (int k = 0; k < n; k++)
            for (int w = 0; w < 4; w++) sn_w_u64(b, st[k]->s[w]);
    }
    sn_w_section_end(b, s, count);
}

/* Appends the sections that describe m (docs/format.md: ARCH, TENS, OPTM
 * when compiled, RNGS, LRNG when a layer owns RNG streams, META when any is
 * set) to b, counting them in *count.
 * Allocation failures are recorded in b->oom (sn_w_file_finish reports
 * them). */
void sn_model_write_sections(sn_wbuf *b, const sn_model *m, uint32_t *count) {
    size_t s = sn_w_section_begin(b, "ARCH");
    sn_w_u32(b, (uint32_t)m->in_shape.rank);
    for (int i = 0; i < 3; i++) sn_w_u32(b, (uint32_t)m->in_shape.d[i]);
    sn_w_u32(b, m->in_shape.rep == SN_REP_SPARSE);
    sn_w_u64(b, m->seed);
    sn_w_u32(b, (uint32_t)m->n_layers);
    for (int i = 0; i < m->n_layers; i++) sn_w_u32(b, (uint32_t)m->layers[i]->trainable);
    sn_w_str(b, m->spec);
    sn_w_section_end(b, s, count);

    s = sn_w_section_begin(b, "TENS");
    uint32_t nt = 0;
    for (int i = 0; i < m->n_layers; i++) nt += (uint32_t)m->layers[i]->n_tensors;
    sn_w_u32(b, nt);
    for (int i = 0; i < m->n_layers; i++) {
        const sn_layer *L = m->layers[i];
        for (int k = 0; k < L->n_tensors; k++) {
            const sn_tensor_info *t = &L->tensors[k];
            sn_w_str(b, L->name);
            sn_w_str(b, t->name);
            sn_w_u32(b, (uint32_t)t->rank);
            for (int d = 0; d < t->rank; d++) sn_w_u32(b, (uint32_t)t->dims[d]);
            sn_w_u64(b, t->numel);
            sn_w_f32s(b, L->w + t->offset, t->numel);
        }
    }
    sn_w_section_end(b, s, count);

    if (m->compiled) {
        s = sn_w_section_begin(b, "OPTM");
        const sn_optimizer_cfg *c = &m->opt.cfg;
        sn_w_u32(b, (uint32_t)c->kind);
        double f[] = {c->lr, c->momentum, c->rho, c->beta1, c->beta2, c->epsilon, c->clipnorm, c->clipvalue,
                      c->global_clipnorm, c->weight_decay};
        for (size_t i = 0; i < sizeof f / sizeof *f; i++) sn_w_f64(b, f[i]);
        sn_w_u32(b, (uint32_t)c->nesterov);
        sn_w_u32(b, (uint32_t)c->centered);
        sn_w_u32(b, (uint32_t)c->legacy_rmsprop_eps);
        sn_w_u32(b, (uint32_t)m->loss);
        if (m->loss == SN_LOSS_PINBALL) { /* the quantile levels (only then: other files are unchanged) */
            sn_w_u32(b, (uint32_t)m->n_quantiles);
            for (int i = 0; i < m->n_quantiles; i++) sn_w_f64(b, m->quantiles[i]);
        }
        sn_w_u32(b, (uint32_t)m->n_metrics);
        for (int i = 0; i < m->n_metrics; i++) sn_w_u32(b, (uint32_t)m->metrics[i]);
        sn_w_u64(b, (uint64_t)m->opt.iterations);
        sn_w_u64(b, m->opt.n);
        sn_w_u32(b, m->opt.m != NULL);
        if (m->opt.m) sn_w_f32s(b, m->opt.m, m->opt.n);
        sn_w_u32(b, m->opt.v != NULL);
        if (m->opt.v) sn_w_f32s(b, m->opt.v, m->opt.n);
        sn_w_u32(b, m->opt.u != NULL);
        if (m->opt.u) sn_w_f32s(b, m->opt.u, m->opt.n);
        sn_w_section_end(b, s, count);
    }

    s = sn_w_section_begin(b, "RNGS");
    for (int i = 0; i < 4; i++) sn_w_u64(b, m->rng.s[i]);
    sn_w_section_end(b, s, count);

    write_layer_streams(b, m, count);

    if (m->n_meta) {
        s = sn_w_section_begin(b, "META");
        sn_w_u32(b, (uint32_t)m->n_meta);
        for (int i = 0; i < m->n_meta; i++) {
            sn_w_str(b, m->meta[i].key);
            sn_w_u64(b, m->meta[i].n);
            sn_w_bytes(b, m->meta[i].data, m->meta[i].n);
        }
        sn_w_section_end(b, s, count);
    }
}

/* Tensor number k (counting over all layers in order) named lname/tname:
 * its layer and index within it, or -1. */
static int tensor_index(const sn_model *m, const char *lname, const char *tname, const sn_layer **L, int *ti) {
    int k = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const sn_layer *l = m->layers[i];
        if (strcmp(l->name, lname)) {
            k += l->n_tensors;
            continue;
        }
        for (int j = 0; j < l->n_tensors; j++)
            if (!strcmp(l->tensors[j].name, tname)) {
                *L = l;
                *ti = j;
                return k + j;
            }
        return -1;
    }
    return -1;
}

/* Reads the TENS records (docs/format.md) into m's weights, marking in
 * seen[k] which of the model's tensors a record filled. */
static sn_status read_tensor_records(sn_model *m, sn_rbuf *r, unsigned char *seen) {
    uint32_t nt = sn_r_u32(r);
    for (uint32_t i = 0; i < nt && !r->bad; i++) {
        char lname[64], tname[64];
        if (!sn_r_str(r, lname, sizeof lname) || !sn_r_str(r, tname, sizeof tname)) break;
        uint32_t rank = sn_r_u32(r);
        if (rank < 1 || rank > 4) return sn_r_fail(r, "tensor rank out of range");
        uint32_t dims[4];
        for (uint32_t d = 0; d < rank; d++) dims[d] = sn_r_u32(r);
        uint64_t numel = sn_r_u64(r), prod = 1;
        if (r->bad) break;
        for (uint32_t d = 0; d < rank; d++) prod *= dims[d];
        if (prod != numel) return sn_r_fail(r, "tensor dims do not match its element count");
        if (numel > (r->n - r->off) / 4) return sn_r_fail(r, "tensor data truncated");
        const sn_layer *L;
        int ti, k = tensor_index(m, lname, tname, &L, &ti);
        if (k < 0) return sn_error(SN_ERR_FORMAT, "%s: tensor %s/%s does not belong to the model", r->path, lname, tname);
        if (seen[k]) return sn_error(SN_ERR_FORMAT, "%s: tensor %s/%s appears twice", r->path, lname, tname);
        seen[k] = 1;
        if (L->tensors[ti].numel != numel)
            return sn_error(SN_ERR_FORMAT, "%s: tensor %s/%s has %llu values, the model expects %zu", r->path, lname,
                            tname, (unsigned long long)numel, L->tensors[ti].numel);
        sn_r_f32s(r, L->w + L->tensors[ti].offset, (size_t)numel);
    }
    return r->bad ? SN_ERR_FORMAT : SN_OK;
}

/* Fills the weights of m from TENS: every tensor of the model exactly once,
 * with the shape the model expects, and no NaN or Inf. Errors name the file
 * and the tensor. */
static sn_status read_tensors(sn_model *m, const sn_file_section *s, const char *path) {
    int want = 0;
    for (int i = 0; i < m->n_layers; i++) want += m->layers[i]->n_tensors;
    unsigned char *seen = sn_calloc((size_t)want + 1, 1);
    if (!seen) return SN_ERR_NOMEM;
    sn_rbuf r = sn_rbuf_of(s, path);
    sn_status st = read_tensor_records(m, &r, seen);
    for (int i = 0, k = 0; !st && i < m->n_layers; i++)
        for (int j = 0; j < m->layers[i]->n_tensors; j++, k++)
            if (!seen[k]) {
                st = sn_error(SN_ERR_FORMAT, "%s: tensor %s/%s is missing", path, m->layers[i]->name,
                              m->layers[i]->tensors[j].name);
                break;
            }
    free(seen);
    if (st) return st;
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i])) return sn_error(SN_ERR_FORMAT, "%s: weights hold NaN or Inf", path);
    return SN_OK;
}

static sn_status read_optim(sn_model *m, const sn_file_section *s, const char *path) {
    sn_rbuf r = sn_rbuf_of(s, path);
    sn_optimizer_cfg c;
    memset(&c, 0, sizeof c);
    c.kind = (sn_opt_kind)sn_r_u32(&r);
    double *f[] = {&c.lr, &c.momentum, &c.rho, &c.beta1, &c.beta2, &c.epsilon, &c.clipnorm, &c.clipvalue,
                   &c.global_clipnorm, &c.weight_decay};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) *f[i] = sn_r_f64(&r);
    c.nesterov = (int)sn_r_u32(&r);
    c.centered = (int)sn_r_u32(&r);
    c.legacy_rmsprop_eps = (int)sn_r_u32(&r);
    uint32_t loss = sn_r_u32(&r), nq = 0;
    double q[SN_MODEL_MAX_QUANTILES];
    if (loss == SN_LOSS_PINBALL) {
        nq = sn_r_u32(&r);
        if (r.bad || nq < 1 || nq > SN_MODEL_MAX_QUANTILES) return sn_r_fail(&r, "bad quantile count");
        for (uint32_t i = 0; i < nq; i++) q[i] = sn_r_f64(&r);
    }
    uint32_t nm = sn_r_u32(&r);
    if (r.bad) return SN_ERR_FORMAT;
    if (c.kind > SN_OPT_ADAM || (loss > SN_LOSS_SCCE && loss != SN_LOSS_PINBALL) || nm > 4)
        return sn_r_fail(&r, "bad optimizer / loss / metric code");
    sn_metric_kind mk[4];
    for (uint32_t i = 0; i < nm; i++) {
        mk[i] = (sn_metric_kind)sn_r_u32(&r);
        if (mk[i] > SN_METRIC_SPARSE_CATEGORICAL_ACCURACY) return sn_r_fail(&r, "bad metric code");
    }
    uint64_t iters = sn_r_u64(&r), n = sn_r_u64(&r);
    if (r.bad) return SN_ERR_FORMAT;
    if (n != m->n_params) return sn_r_fail(&r, "optimizer slots do not match the parameter count");
    sn_status st = sn_model_compile(m, &c, (sn_loss_kind)loss, mk, (int)nm);
    if (!st && nq) st = sn_model_set_quantiles(m, q, (int)nq);
    if (st) return sn_error_prefix(st, "%s: optimizer section", path);
    m->opt.iterations = (int64_t)iters;
    for (int k = 0; k < 3; k++) {
        uint32_t has = sn_r_u32(&r);
        float *slot = k == 0 ? m->opt.m : k == 1 ? m->opt.v : m->opt.u;
        if (has && !slot) return sn_r_fail(&r, "optimizer slot present in file but not used by the optimizer");
        if (has && !sn_r_f32s(&r, slot, (size_t)n)) return SN_ERR_FORMAT;
    }
    return r.bad ? SN_ERR_FORMAT : SN_OK;
}

/* Restores the layers' RNG streams from LRNG. A layer the section does not
 * name keeps its streams as configured (files from before the section).
 * Errors name the layer: not in the model, another stream count, twice. */
static sn_status read_layer_streams(sn_model *m, const sn_file_section *s, const char *path) {
    sn_rbuf r = sn_rbuf_of(s, path);
    uint32_t owners = sn_r_u32(&r);
    unsigned char *done = sn_calloc((size_t)m->n_layers, 1);
    if (!done) return SN_ERR_NOMEM;
    sn_status st = SN_OK;
    for (uint32_t e = 0; e < owners && !st && !r.bad; e++) {
        char name[64];
        if (!sn_r_str(&r, name, sizeof name)) break;
        uint32_t n = sn_r_u32(&r);
        int i = 0;
        while (i < m->n_layers && strcmp(m->layers[i]->name, name)) i++;
        sn_rng *rs[SN_MAX_RNG_STREAMS];
        int have = i < m->n_layers ? layer_streams(m->layers[i], rs) : 0;
        if (r.bad) break;
        if (i == m->n_layers)
            st = sn_error(SN_ERR_FORMAT, "%s: section LRNG: layer %s does not belong to the model", path, name);
        else if (done[i])
            st = sn_error(SN_ERR_FORMAT, "%s: section LRNG: layer %s appears twice", path, name);
        else if (n != (uint32_t)have)
            st = sn_error(SN_ERR_FORMAT, "%s: section LRNG: layer %s has %d RNG streams, the file %u", path, name,
                          have, n);
        else
            for (int k = 0; k < have; k++)
                for (int w = 0; w < 4; w++) rs[k]->s[w] = sn_r_u64(&r);
        if (i < m->n_layers) done[i] = 1;
    }
    free(done);
    if (st) return st;
    return r.bad ? SN_ERR_FORMAT : SN_OK;
}

static sn_status read_meta(sn_model *m, const sn_file_section *s, const char *path) {
    sn_rbuf r = sn_rbuf_of(s, path);
    uint32_t n = sn_r_u32(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        char key[64];
        if (!sn_r_str(&r, key, sizeof key)) break;
        uint64_t len = sn_r_u64(&r);
        if (r.bad) break;
        if (len > r.n - r.off) return sn_r_fail(&r, "metadata blob truncated");
        sn_status st = sn_model_set_meta(m, key, r.p + r.off, (size_t)len);
        if (st) return st;
        r.off += (size_t)len;
    }
    return r.bad ? SN_ERR_FORMAT : SN_OK;
}

/* Builds the model an opened file describes (docs/format.md): rebuilds the
 * architecture from ARCH without initialising weights, applies the
 * trainable flags, fills every tensor from TENS, then restores OPTM
 * (compiling the model), RNGS, LRNG and META when present. Errors: SN_ERR_FORMAT
 * naming the file, the section and what is wrong (missing section, bad
 * code, shape mismatch, NaN weights), the architecture's build errors
 * prefixed with the file, SN_ERR_NOMEM; *out is NULL then. The caller frees
 * *out; f is not changed. */
sn_status sn_model_from_file(sn_model **out, const sn_model_file *f) {
    *out = NULL;
    const char *path = f->path;
    sn_status st;
    const sn_file_section *a = sn_model_file_find(f, "ARCH");
    const sn_file_section *t = sn_model_file_find(f, "TENS");
    if (!a || !t) return sn_error(SN_ERR_FORMAT, "%s: missing %s section", path, !a ? "ARCH" : "TENS");
    sn_rbuf r = sn_rbuf_of(a, path);
    sn_model_opts o;
    memset(&o, 0, sizeof o);
    o.input_rank = (int)sn_r_u32(&r);
    for (int i = 0; i < 3; i++) o.input_shape[i] = (int)sn_r_u32(&r);
    o.input_sparse = (int)sn_r_u32(&r);
    o.seed = sn_r_u64(&r);
    uint32_t nl = sn_r_u32(&r);
    if (r.bad) return SN_ERR_FORMAT;
    if (nl > 4096 || (size_t)nl * 4 > r.n - r.off) return sn_r_fail(&r, "layer count out of range");
    uint32_t *tr = sn_malloc(nl ? nl : 1, sizeof(uint32_t));
    if (!tr) return SN_ERR_NOMEM;
    for (uint32_t i = 0; i < nl; i++) tr[i] = sn_r_u32(&r);
    uint32_t slen = sn_r_u32(&r);
    if (r.bad || slen > r.n - r.off) {
        free(tr);
        return sn_r_fail(&r, "spec text truncated");
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
    const sn_file_section *s;
    if (!st && (s = sn_model_file_find(f, "OPTM"))) st = read_optim(m, s, path);
    if (!st && (s = sn_model_file_find(f, "RNGS"))) {
        sn_rbuf rr = sn_rbuf_of(s, path);
        for (int i = 0; i < 4; i++) m->rng.s[i] = sn_r_u64(&rr);
        if (rr.bad) st = SN_ERR_FORMAT;
    }
    if (!st && (s = sn_model_file_find(f, "LRNG"))) st = read_layer_streams(m, s, path);
    if (!st && (s = sn_model_file_find(f, "META"))) st = read_meta(m, s, path);
    if (st) {
        sn_model_free(m);
        return st;
    }
    *out = m;
    return SN_OK;
}

/* Writes m to path as one model file (docs/format.md), atomically: the
 * previous file at path stays intact until the new one is complete.
 * Errors: SN_ERR_ARG, SN_ERR_NOMEM, SN_ERR_IO naming the file. */
sn_status sn_model_save(const sn_model *m, const char *path) {
    if (!m || !path) return sn_error(SN_ERR_ARG, "sn_model_save: NULL argument");
    sn_wbuf b = {0};
    uint32_t count = 0;
    sn_w_file_begin(&b);
    sn_model_write_sections(&b, m, &count);
    return sn_w_file_finish(&b, count, path);
}

/* Reads a model file (or a resume file, whose TRST section it skips) into
 * a new model: architecture, weights, optimizer state when saved (the model
 * is then compiled), RNG, metadata. Errors: SN_ERR_IO (cannot open / read),
 * SN_ERR_FORMAT naming the file and the section or offset, the spec's errors;
 * *out is NULL then. The caller frees *out with sn_model_free. */
sn_status sn_model_load(sn_model **out, const char *path) {
    if (!out || !path) return sn_error(SN_ERR_ARG, "sn_model_load: NULL argument");
    *out = NULL;
    sn_model_file f;
    sn_status st = sn_model_file_open(&f, path);
    if (st) return st;
    st = sn_model_from_file(out, &f);
    sn_model_file_close(&f);
    return st;
}

/* Copies the state training changes from src into dst, two models of the
 * same spec (the caller checked): the weights, the optimizer slots and
 * step count when both are compiled with slots of the same length, and the
 * model's RNG and the RNG streams of its layers. Used to resume into a
 * model the caller already built. */
void sn_model_copy_state(sn_model *dst, const sn_model *src) {
    memcpy(dst->params, src->params, dst->n_params * sizeof(float));
    if (src->compiled && dst->compiled && src->opt.n == dst->opt.n) {
        if (dst->opt.m && src->opt.m) memcpy(dst->opt.m, src->opt.m, dst->opt.n * sizeof(float));
        if (dst->opt.v && src->opt.v) memcpy(dst->opt.v, src->opt.v, dst->opt.n * sizeof(float));
        if (dst->opt.u && src->opt.u) memcpy(dst->opt.u, src->opt.u, dst->opt.n * sizeof(float));
        dst->opt.iterations = src->opt.iterations;
    }
    dst->rng = src->rng;
    for (int i = 0; i < dst->n_layers && i < src->n_layers; i++) {
        sn_rng *d[SN_MAX_RNG_STREAMS], *s[SN_MAX_RNG_STREAMS];
        int nd = layer_streams(dst->layers[i], d), ns = layer_streams(src->layers[i], s);
        for (int k = 0; k < nd && k < ns; k++) *d[k] = *s[k];
    }
}
