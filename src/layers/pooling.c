/* Pooling over time, channels last: MaxPooling1D, GlobalAveragePooling1D,
 * GlobalMaxPooling1D (Keras classes of the same names). No parameters.
 *
 *   maxpooling1d(pool_size=2, strides=None → pool_size, padding=valid|same),
 *   with P = pool_size, S = strides, input steps T, output steps T_out:
 *     valid: T_out = ⌊(T − P)/S⌋ + 1; same: T_out = ⌈T/S⌉ with
 *     pad_left = ⌊max((T_out−1)S + P − T, 0)/2⌋, padded steps never win.
 *     y[b,t,c] = max_{i<P} x[b, t·S − pad_left + i, c]; the winning step (first
 *     maximum on ties) is cached for backward: dx[b, argmax, c] += dy[b,t,c].
 *   globalaveragepooling1d(): (T,C) → (C), y = Σ_t x·m / Σ_t m with the mask
 *     m (all ones without one). DEVIATION: a fully masked row gives 0 (and
 *     zero gradients) where Keras gives NaN (0/0).
 *   globalmaxpooling1d(): (T,C) → (C), max over all steps; like Keras 3 it
 *     ignores a mask.
 * All three drop the mask.
 * Reference: keras/src/layers/pooling/base_pooling.py, global_average_pooling1d.py,
 * global_max_pooling1d.py; docs/keras-semantics.md §10. */
#include <string.h>

#include "layers/layer.h"

static sn_status need_seq(const sn_layer *L) {
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rep != SN_REP_DENSE || L->in.rank != 2 || L->in.d[0] < 1 || L->in.d[1] < 1)
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, T, C), got %s", L->name, s);
    return SN_OK;
}

static size_t zero_floats(const sn_layer *L, int B) {
    (void)L; (void)B;
    return 0;
}

static sn_status no_init(sn_layer *L, sn_rng *r) {
    (void)L; (void)r;
    return SN_OK;
}

static sn_status channels_last_only(const sn_spec_call *c, int pos) {
    char df[32];
    sn_status st = sn_arg_str(c, pos, "data_format", "channels_last", df, sizeof df);
    if (st) return st;
    if (strcmp(df, "channels_last") && strcmp(df, "none"))
        return sn_spec_error(c, "only data_format=channels_last is supported, got '%s'", df);
    return SN_OK;
}

/* ---- MaxPooling1D ---- */
typedef struct maxpool_cfg {
    int pool_size, strides, same;
    int t_out, pad_left; /* derived in build */
} maxpool_cfg;

/* True when argument (pos / key) is present and is the word None. */
static int arg_is_none(const sn_spec_call *c, int pos, const char *key) {
    int np = 0;
    for (int i = 0; i < c->n_args; i++) {
        const sn_spec_arg *a = &c->args[i];
        int hit = a->key[0] ? !strcmp(a->key, key) : np++ == pos;
        if (hit && a->kind == SN_V_WORD && !strcmp(a->str, "none")) return 1;
    }
    return 0;
}

static sn_status maxpool_configure(sn_layer *L, const sn_spec_call *c) {
    maxpool_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    int v[SN_SPEC_MAX_TUPLE], n;
    sn_status st = sn_arg_ints(c, 0, "pool_size", v, 1, &n);
    if (st) return st;
    cfg->pool_size = n ? v[0] : 2;
    if (cfg->pool_size < 1 || cfg->pool_size > (1 << 20))
        return sn_spec_error(c, "pool_size must be a positive integer, got %d", cfg->pool_size);
    char tmp[16];
    if (arg_is_none(c, 1, "strides")) {
        if ((st = sn_arg_str(c, 1, "strides", "", tmp, sizeof tmp))) return st;
        n = 0;
    } else if ((st = sn_arg_ints(c, 1, "strides", v, 1, &n))) {
        return st;
    }
    cfg->strides = n ? v[0] : cfg->pool_size;
    if (cfg->strides < 1 || cfg->strides > (1 << 20))
        return sn_spec_error(c, "strides must be a positive integer, got %d", cfg->strides);
    char pad[32];
    if ((st = sn_arg_str(c, 2, "padding", "valid", pad, sizeof pad))) return st;
    if (!strcmp(pad, "same"))
        cfg->same = 1;
    else if (strcmp(pad, "valid"))
        return sn_spec_error(c, "padding must be valid or same, got '%s'", pad);
    return channels_last_only(c, 3);
}

static sn_status maxpool_build(sn_layer *L) {
    maxpool_cfg *cfg = L->cfg;
    sn_status st = need_seq(L);
    if (st) return st;
    const int T = L->in.d[0];
    if (cfg->same) {
        cfg->t_out = (T + cfg->strides - 1) / cfg->strides;
        long pad_total = (long)(cfg->t_out - 1) * cfg->strides + cfg->pool_size - T;
        cfg->pad_left = pad_total > 0 ? (int)(pad_total / 2) : 0;
    } else {
        if (T < cfg->pool_size) {
            char s[64];
            sn_shape_str(&L->in, s, sizeof s);
            return sn_error(SN_ERR_SHAPE, "%s: input %s is shorter than pool_size %d with padding=valid", L->name, s,
                            cfg->pool_size);
        }
        cfg->t_out = (T - cfg->pool_size) / cfg->strides + 1;
        cfg->pad_left = 0;
    }
    L->out.rank = 2;
    L->out.d[0] = cfg->t_out;
    L->out.d[1] = L->in.d[1];
    L->out.rep = SN_REP_DENSE;
    return SN_OK;
}

/* Cache: the winning input step per output (B, T_out, C), as floats. */
static size_t maxpool_cache_floats(const sn_layer *L, int B) { return (size_t)B * sn_shape_numel(&L->out); }

static void maxpool_forward(sn_layer *L, sn_fwd *f) {
    const maxpool_cfg *cfg = L->cfg;
    const int B = f->B, T = L->in.d[0], C = L->in.d[1], t_out = cfg->t_out;
    const int nthreads = L->threads > 0 ? L->threads : 1;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && (size_t)B * t_out * C > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            const float *x = f->x + (size_t)b * T * C;
            float *y = f->y + (size_t)b * t_out * C, *am = f->cache + (size_t)b * t_out * C;
            for (int t = 0; t < t_out; t++) {
                int lo = t * cfg->strides - cfg->pad_left, hi = lo + cfg->pool_size;
                if (lo < 0) lo = 0;
                if (hi > T) hi = T;
                float *yt = y + (size_t)t * C, *at = am + (size_t)t * C;
                memcpy(yt, x + (size_t)lo * C, (size_t)C * sizeof(float));
                for (int c = 0; c < C; c++) at[c] = (float)lo;
                for (int i = lo + 1; i < hi; i++) {
                    const float *xi = x + (size_t)i * C;
                    for (int c = 0; c < C; c++)
                        if (xi[c] > yt[c]) { /* strict: the first maximum wins ties */
                            yt[c] = xi[c];
                            at[c] = (float)i;
                        }
                }
            }
        }
        sn_fp_leave(fp);
    }
}

static void maxpool_backward(sn_layer *L, sn_bwd *b) {
    if (!b->dx) return;
    const maxpool_cfg *cfg = L->cfg;
    const int B = b->B, T = L->in.d[0], C = L->in.d[1], t_out = cfg->t_out;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    /* Samples are disjoint; within a sample the order is fixed. */
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && (size_t)B * t_out * C > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int s = 0; s < B; s++) {
            float *dx = b->dx + (size_t)s * T * C;
            const float *dy = b->dy + (size_t)s * t_out * C, *am = b->cache + (size_t)s * t_out * C;
            for (int t = 0; t < t_out; t++)
                for (int c = 0; c < C; c++) dx[(size_t)am[(size_t)t * C + c] * C + c] += dy[(size_t)t * C + c];
        }
        sn_fp_leave(fp);
    }
}

static int maxpool_describe(const sn_layer *L, char *buf, size_t n) {
    const maxpool_cfg *cfg = L->cfg;
    char extra[96] = "";
    size_t k = 0;
    if (cfg->strides != cfg->pool_size)
        k += (size_t)snprintf(extra + k, sizeof extra - k, ", strides=%d", cfg->strides);
    if (cfg->same) snprintf(extra + k, sizeof extra - k, ", padding=same");
    return snprintf(buf, n, "maxpooling1d(%d%s)", cfg->pool_size, extra);
}

#define MAXPOOL_OPS(kind_)                                                                                  \
    {                                                                                                       \
        .kind = kind_, .class_name = "MaxPooling1D", .mask_policy = SN_MASK_DROP,                           \
        .configure = maxpool_configure, .build = maxpool_build, .init = no_init,                            \
        .cache_floats = maxpool_cache_floats, .scratch_floats = zero_floats, .forward = maxpool_forward,    \
        .backward = maxpool_backward, .describe = maxpool_describe,                                         \
    }
const sn_layer_ops sn_maxpooling1d_ops = MAXPOOL_OPS("maxpooling1d");
/* Keras alias MaxPool1D. */
const sn_layer_ops sn_maxpool1d_ops = MAXPOOL_OPS("maxpool1d");

/* ---- GlobalAveragePooling1D ---- */
static sn_status gap_configure(sn_layer *L, const sn_spec_call *c) {
    L->cfg = NULL;
    sn_status st = channels_last_only(c, 0);
    if (st) return st;
    int keep;
    if ((st = sn_arg_bool(c, -1, "keepdims", 0, &keep))) return st;
    if (keep) return sn_spec_error(c, "keepdims=true is not supported");
    return SN_OK;
}

static sn_status gpool_build(sn_layer *L) {
    sn_status st = need_seq(L);
    if (st) return st;
    L->out.rank = 1;
    L->out.d[0] = L->in.d[1];
    L->out.rep = SN_REP_DENSE;
    return SN_OK;
}

/* Scratch: C doubles (2C floats) of running sums. */
static size_t gap_scratch_floats(const sn_layer *L, int B) {
    (void)B;
    return 2 * (size_t)L->in.d[1] + 16;
}

static void gap_forward(sn_layer *L, sn_fwd *f) {
    const int B = f->B, T = L->in.d[0], C = L->in.d[1];
    double *acc = (double *)f->scratch;
    for (int b = 0; b < B; b++) {
        const float *x = f->x + (size_t)b * T * C;
        const uint8_t *m = f->mask ? f->mask + (size_t)b * T : NULL;
        float *y = f->y + (size_t)b * C;
        int cnt = 0;
        for (int c = 0; c < C; c++) acc[c] = 0;
        for (int t = 0; t < T; t++) {
            if (m && !m[t]) continue;
            cnt++;
            const float *xt = x + (size_t)t * C;
            for (int c = 0; c < C; c++) acc[c] += xt[c];
        }
        for (int c = 0; c < C; c++) y[c] = cnt ? (float)(acc[c] / cnt) : 0.0f;
    }
}

static void gap_backward(sn_layer *L, sn_bwd *bw) {
    if (!bw->dx) return;
    const int B = bw->B, T = L->in.d[0], C = L->in.d[1];
    for (int b = 0; b < B; b++) {
        const uint8_t *m = bw->mask ? bw->mask + (size_t)b * T : NULL;
        int cnt = T;
        if (m) {
            cnt = 0;
            for (int t = 0; t < T; t++) cnt += m[t] != 0;
        }
        if (!cnt) continue;
        const float inv = (float)(1.0 / cnt);
        const float *dy = bw->dy + (size_t)b * C;
        float *dx = bw->dx + (size_t)b * T * C;
        for (int t = 0; t < T; t++) {
            if (m && !m[t]) continue;
            for (int c = 0; c < C; c++) dx[(size_t)t * C + c] += dy[c] * inv;
        }
    }
}

static int gap_describe(const sn_layer *L, char *buf, size_t n) {
    (void)L;
    return snprintf(buf, n, "globalaveragepooling1d()");
}

#define GAP_OPS(kind_)                                                                                     \
    {                                                                                                      \
        .kind = kind_, .class_name = "GlobalAveragePooling1D", .mask_policy = SN_MASK_DROP,                \
        .configure = gap_configure, .build = gpool_build, .init = no_init, .cache_floats = zero_floats,    \
        .scratch_floats = gap_scratch_floats, .forward = gap_forward, .backward = gap_backward,            \
        .describe = gap_describe,                                                                          \
    }
const sn_layer_ops sn_globalaveragepooling1d_ops = GAP_OPS("globalaveragepooling1d");
/* Keras alias GlobalAvgPool1D. */
const sn_layer_ops sn_globalavgpool1d_ops = GAP_OPS("globalavgpool1d");

/* ---- GlobalMaxPooling1D ---- */
static sn_status gmp_configure(sn_layer *L, const sn_spec_call *c) { return gap_configure(L, c); }

/* Cache: the winning step per (B, C). */
static size_t gmp_cache_floats(const sn_layer *L, int B) { return (size_t)B * (size_t)L->in.d[1]; }

static void gmp_forward(sn_layer *L, sn_fwd *f) {
    const int B = f->B, T = L->in.d[0], C = L->in.d[1];
    for (int b = 0; b < B; b++) {
        const float *x = f->x + (size_t)b * T * C;
        float *y = f->y + (size_t)b * C, *am = f->cache + (size_t)b * C;
        memcpy(y, x, (size_t)C * sizeof(float));
        for (int c = 0; c < C; c++) am[c] = 0.0f;
        for (int t = 1; t < T; t++) {
            const float *xt = x + (size_t)t * C;
            for (int c = 0; c < C; c++)
                if (xt[c] > y[c]) {
                    y[c] = xt[c];
                    am[c] = (float)t;
                }
        }
    }
}

static void gmp_backward(sn_layer *L, sn_bwd *bw) {
    if (!bw->dx) return;
    const int B = bw->B, T = L->in.d[0], C = L->in.d[1];
    for (int b = 0; b < B; b++) {
        const float *dy = bw->dy + (size_t)b * C, *am = bw->cache + (size_t)b * C;
        float *dx = bw->dx + (size_t)b * T * C;
        for (int c = 0; c < C; c++) dx[(size_t)am[c] * C + c] += dy[c];
    }
}

static int gmp_describe(const sn_layer *L, char *buf, size_t n) {
    (void)L;
    return snprintf(buf, n, "globalmaxpooling1d()");
}

#define GMP_OPS(kind_)                                                                                     \
    {                                                                                                      \
        .kind = kind_, .class_name = "GlobalMaxPooling1D", .mask_policy = SN_MASK_DROP,                    \
        .configure = gmp_configure, .build = gpool_build, .init = no_init, .cache_floats = gmp_cache_floats, \
        .scratch_floats = zero_floats, .forward = gmp_forward, .backward = gmp_backward,                   \
        .describe = gmp_describe,                                                                          \
    }
const sn_layer_ops sn_globalmaxpooling1d_ops = GMP_OPS("globalmaxpooling1d");
/* Keras alias GlobalMaxPool1D. */
const sn_layer_ops sn_globalmaxpool1d_ops = GMP_OPS("globalmaxpool1d");
