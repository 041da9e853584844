/* BatchNormalization and LayerNormalization (Keras 3), channels last.
 *
 * batchnormalization(momentum=0.99, epsilon=0.001, center=true, scale=true)
 *   Tensors, in Keras order: gamma (C), beta (C) trainable; moving_mean (C),
 *   moving_variance (C) NOT trainable (params 4C, 2C non-trainable).
 *   Moments over every axis but the last: N = B rows for (C), B·T for (T,C).
 *   Training mode = f->training && L->trainable (Keras: training and
 *   layer.trainable):
 *     μ = Σ w·x / Σ w,  σ² = Σ w·(x−μ)² / Σ w   (biased; w = mask or 1),
 *     y = γ·(x−μ)/√(σ²+ε) + β,
 *     moving_mean ← momentum·moving_mean + (1−momentum)·μ, same for the
 *     variance with the biased σ² — updated in forward.
 *   (torch BatchNorm1d stores the UNBIASED variance in running_var and uses
 *    momentum 1−keras_momentum; the fixtures compare against the Keras formula.)
 *   Inference: y = γ·(x−moving_mean)/√(moving_variance+ε) + β.
 *   Backward (training), with x̂ = (x−μ)·inv, inv = 1/√(σ²+ε), g = dy·γ:
 *     dx_r = inv·(g_r − w_r·(Σ g + x̂_r·Σ g·x̂)/Σ w),  dγ += Σ dy·x̂,  dβ += Σ dy.
 *   A mask gives masked moments as in Keras 3; a fully masked batch gives
 *   μ = 0, σ² = 0 and leaves the moving statistics unchanged (Keras: NaN).
 *   The mask passes through.
 * layernormalization(epsilon=0.001, center=true, scale=true)
 *   Per row over the last axis: y = (x−μ)/√(σ²+ε)·γ + β (biased σ²); gamma,
 *   beta (C). dx = inv·(g − mean(g) − x̂·mean(g·x̂)). The mask passes through.
 * Reference: keras/src/layers/normalization/batch_normalization.py,
 * layer_normalization.py; docs/keras-semantics.md §9. */
#include <math.h>
#include <string.h>

#include "layers/layer.h"

typedef struct norm_cfg {
    double momentum, eps;
    int center, scale;
    /* derived in build: channels, rows per sample, tensor offsets (−1 = absent) */
    int C, T;
    long o_gamma, o_beta, o_mean, o_var;
} norm_cfg;

static sn_status axis_last_only(const sn_spec_call *c, int pos) {
    long axis;
    sn_status st = sn_arg_int(c, pos, "axis", -1, &axis);
    if (st) return st;
    if (axis != -1) return sn_spec_error(c, "only axis=-1 (the last axis) is supported, got %ld", axis);
    return SN_OK;
}

static sn_status norm_common_args(norm_cfg *cfg, const sn_spec_call *c, int eps_pos, int center_pos, int scale_pos) {
    sn_status st = sn_arg_float(c, eps_pos, "epsilon", 1e-3, &cfg->eps);
    if (st) return st;
    if (!(cfg->eps > 0 && cfg->eps < 1)) return sn_spec_error(c, "epsilon must be in (0, 1), got %g", cfg->eps);
    if ((st = sn_arg_bool(c, center_pos, "center", 1, &cfg->center))) return st;
    return sn_arg_bool(c, scale_pos, "scale", 1, &cfg->scale);
}

static sn_status norm_build_common(sn_layer *L, int moving) {
    norm_cfg *cfg = L->cfg;
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rep != SN_REP_DENSE || L->in.rank < 1 || L->in.rank > 2 || L->in.d[L->in.rank - 1] < 1)
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, C) or (None, T, C), got %s", L->name, s);
    cfg->C = L->in.d[L->in.rank - 1];
    cfg->T = L->in.rank == 2 ? L->in.d[0] : 1;
    L->out = L->in;
    cfg->o_gamma = cfg->scale ? (long)sn_layer_add_tensor(L, "gamma", 1, &cfg->C, 1) : -1;
    cfg->o_beta = cfg->center ? (long)sn_layer_add_tensor(L, "beta", 1, &cfg->C, 1) : -1;
    cfg->o_mean = moving ? (long)sn_layer_add_tensor(L, "moving_mean", 1, &cfg->C, 0) : -1;
    cfg->o_var = moving ? (long)sn_layer_add_tensor(L, "moving_variance", 1, &cfg->C, 0) : -1;
    return SN_OK;
}

static sn_status norm_init(sn_layer *L, sn_rng *r) {
    (void)r;
    const norm_cfg *cfg = L->cfg;
    const size_t C = (size_t)cfg->C;
    if (cfg->o_gamma >= 0) sn_init_const(L->w + cfg->o_gamma, C, 1.0f);
    if (cfg->o_beta >= 0) sn_init_const(L->w + cfg->o_beta, C, 0.0f);
    if (cfg->o_mean >= 0) sn_init_const(L->w + cfg->o_mean, C, 0.0f);
    if (cfg->o_var >= 0) sn_init_const(L->w + cfg->o_var, C, 1.0f);
    return SN_OK;
}

/* Shortest "%.*g" text that reads back as the same double. */
static void fmt_num(char *buf, size_t n, double v) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* ---- BatchNormalization ---- */
static sn_status bn_configure(sn_layer *L, const sn_spec_call *c) {
    norm_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    sn_status st = axis_last_only(c, 0);
    if (st) return st;
    if ((st = sn_arg_float(c, 1, "momentum", 0.99, &cfg->momentum))) return st;
    if (!(cfg->momentum >= 0 && cfg->momentum <= 1))
        return sn_spec_error(c, "momentum must be in [0, 1], got %g", cfg->momentum);
    return norm_common_args(cfg, c, 2, 3, 4);
}

static sn_status bn_build(sn_layer *L) { return norm_build_common(L, 1); }

/* Cache: [0] training flag, [1] Σw; from 16: μ (C), then from 16+up16(C): inv (C). */
static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }
static size_t bn_cache_floats(const sn_layer *L, int B) {
    (void)B;
    const norm_cfg *cfg = L->cfg;
    return 16 + 2 * up16((size_t)cfg->C);
}
/* Scratch: 4 arrays of C doubles. */
static size_t bn_scratch_floats(const sn_layer *L, int B) {
    (void)B;
    const norm_cfg *cfg = L->cfg;
    return 8 * (size_t)cfg->C + 16;
}

static void bn_forward(sn_layer *L, sn_fwd *f) {
    const norm_cfg *cfg = L->cfg;
    const int C = cfg->C, T = cfg->T;
    const long rows = (long)f->B * T;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    float *mu = f->cache + 16, *inv = f->cache + 16 + up16((size_t)C);
    const float *gamma = cfg->o_gamma >= 0 ? L->w + cfg->o_gamma : NULL;
    const float *beta = cfg->o_beta >= 0 ? L->w + cfg->o_beta : NULL;
    float *mm = L->w + cfg->o_mean, *mv = L->w + cfg->o_var;
    const uint8_t *mask = L->in.rank == 2 ? f->mask : NULL; /* (B,T): one weight per row */
    if (f->training && L->trainable) {
        double *s1 = (double *)f->scratch, *s2 = s1 + C;
        for (int c = 0; c < C; c++) s1[c] = s2[c] = 0;
        double cnt = 0;
        /* Two passes in row order (fixed, thread independent), double sums. */
        for (long r = 0; r < rows; r++) {
            if (mask && !mask[r]) continue;
            cnt += 1;
            const float *x = f->x + (size_t)r * C;
            for (int c = 0; c < C; c++) s1[c] += x[c];
        }
        for (int c = 0; c < C; c++) s1[c] = cnt > 0 ? s1[c] / cnt : 0.0;
        for (long r = 0; r < rows; r++) {
            if (mask && !mask[r]) continue;
            const float *x = f->x + (size_t)r * C;
            for (int c = 0; c < C; c++) {
                double dd = x[c] - s1[c];
                s2[c] += dd * dd;
            }
        }
        const double m = cfg->momentum;
        for (int c = 0; c < C; c++) {
            double var = cnt > 0 ? s2[c] / cnt : 0.0;
            mu[c] = (float)s1[c];
            inv[c] = (float)(1.0 / sqrt(var + cfg->eps));
            if (cnt > 0) {
                mm[c] = (float)(mm[c] * m + s1[c] * (1.0 - m));
                mv[c] = (float)(mv[c] * m + var * (1.0 - m));
            }
        }
        f->cache[0] = 1.0f;
        f->cache[1] = (float)cnt;
    } else {
        for (int c = 0; c < C; c++) {
            mu[c] = mm[c];
            inv[c] = (float)(1.0 / sqrt((double)mv[c] + cfg->eps));
        }
        f->cache[0] = 0.0f;
        f->cache[1] = 0.0f;
    }
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && rows * C > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) {
            const float *x = f->x + (size_t)r * C;
            float *y = f->y + (size_t)r * C;
            for (int c = 0; c < C; c++) {
                float v = (x[c] - mu[c]) * inv[c];
                if (gamma) v *= gamma[c];
                if (beta) v += beta[c];
                y[c] = v;
            }
        }
        sn_fp_leave(fp);
    }
}

static void bn_backward(sn_layer *L, sn_bwd *b) {
    const norm_cfg *cfg = L->cfg;
    const int C = cfg->C, T = cfg->T;
    const long rows = (long)b->B * T;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    const float *mu = b->cache + 16, *inv = b->cache + 16 + up16((size_t)C);
    const int training = b->cache[0] != 0.0f;
    const double cnt = b->cache[1];
    const float *gamma = cfg->o_gamma >= 0 ? L->w + cfg->o_gamma : NULL;
    float *ggamma = cfg->o_gamma >= 0 ? L->g + cfg->o_gamma : NULL;
    float *gbeta = cfg->o_beta >= 0 ? L->g + cfg->o_beta : NULL;
    const uint8_t *mask = L->in.rank == 2 ? b->mask : NULL;
    /* S_dy = Σ dy, S_dyx = Σ dy·x̂ over every row (masked rows are in the graph too). */
    double *sdy = (double *)b->scratch, *sdyx = sdy + C, *k1 = sdy + 2 * C, *k2 = sdy + 3 * C;
    for (int c = 0; c < C; c++) sdy[c] = sdyx[c] = 0;
    for (long r = 0; r < rows; r++) {
        const float *x = b->x + (size_t)r * C, *dy = b->dy + (size_t)r * C;
        for (int c = 0; c < C; c++) {
            sdy[c] += dy[c];
            sdyx[c] += (double)dy[c] * ((x[c] - mu[c]) * inv[c]);
        }
    }
    for (int c = 0; c < C; c++) {
        if (ggamma) ggamma[c] += (float)sdyx[c];
        if (gbeta) gbeta[c] += (float)sdy[c];
    }
    if (!b->dx) return;
    /* With g = γ·dy: Σ g = γ·S_dy, Σ g·x̂ = γ·S_dyx. */
    for (int c = 0; c < C; c++) {
        double gm = gamma ? gamma[c] : 1.0;
        k1[c] = training && cnt > 0 ? gm * sdy[c] / cnt : 0.0;
        k2[c] = training && cnt > 0 ? gm * sdyx[c] / cnt : 0.0;
    }
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && rows * C > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) {
            const float *x = b->x + (size_t)r * C, *dy = b->dy + (size_t)r * C;
            float *dx = b->dx + (size_t)r * C;
            const int w = !mask || mask[r];
            for (int c = 0; c < C; c++) {
                float g = gamma ? dy[c] * gamma[c] : dy[c];
                if (w) {
                    float xh = (x[c] - mu[c]) * inv[c];
                    g -= (float)(k1[c] + xh * k2[c]);
                }
                dx[c] += inv[c] * g;
            }
        }
        sn_fp_leave(fp);
    }
}

static int bn_describe(const sn_layer *L, char *buf, size_t n) {
    const norm_cfg *cfg = L->cfg;
    char extra[160] = "", num[32];
    size_t k = 0;
    if (cfg->momentum != 0.99) {
        fmt_num(num, sizeof num, cfg->momentum);
        k += (size_t)snprintf(extra + k, sizeof extra - k, "%smomentum=%s", k ? ", " : "", num);
    }
    if (cfg->eps != 1e-3) {
        fmt_num(num, sizeof num, cfg->eps);
        k += (size_t)snprintf(extra + k, sizeof extra - k, "%sepsilon=%s", k ? ", " : "", num);
    }
    if (!cfg->center) k += (size_t)snprintf(extra + k, sizeof extra - k, "%scenter=false", k ? ", " : "");
    if (!cfg->scale) snprintf(extra + k, sizeof extra - k, "%sscale=false", k ? ", " : "");
    return snprintf(buf, n, "batchnormalization(%s)", extra);
}

const sn_layer_ops sn_batchnormalization_ops = {
    .kind = "batchnormalization",
    .class_name = "BatchNormalization",
    .mask_policy = SN_MASK_PASS,
    .configure = bn_configure,
    .build = bn_build,
    .init = norm_init,
    .cache_floats = bn_cache_floats,
    .scratch_floats = bn_scratch_floats,
    .forward = bn_forward,
    .backward = bn_backward,
    .describe = bn_describe,
};

/* ---- LayerNormalization ---- */
static sn_status ln_configure(sn_layer *L, const sn_spec_call *c) {
    norm_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    sn_status st = axis_last_only(c, 0);
    if (st) return st;
    if ((st = norm_common_args(cfg, c, 1, 2, 3))) return st;
    int rms;
    if ((st = sn_arg_bool(c, 4, "rms_scaling", 0, &rms))) return st;
    if (rms) return sn_spec_error(c, "rms_scaling=true is not supported");
    return SN_OK;
}

static sn_status ln_build(sn_layer *L) { return norm_build_common(L, 0); }

/* Cache: per row μ (N) then inv (N), N = B·T. */
static size_t ln_cache_floats(const sn_layer *L, int B) {
    const norm_cfg *cfg = L->cfg;
    return 2 * up16((size_t)B * cfg->T);
}
static size_t ln_scratch_floats(const sn_layer *L, int B) {
    (void)B;
    const norm_cfg *cfg = L->cfg;
    return 4 * (size_t)cfg->C + 16;
}

static void ln_forward(sn_layer *L, sn_fwd *f) {
    const norm_cfg *cfg = L->cfg;
    const int C = cfg->C;
    const long rows = (long)f->B * cfg->T;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    float *mu = f->cache, *inv = f->cache + up16((size_t)rows);
    const float *gamma = cfg->o_gamma >= 0 ? L->w + cfg->o_gamma : NULL;
    const float *beta = cfg->o_beta >= 0 ? L->w + cfg->o_beta : NULL;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && rows * C > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) {
            const float *x = f->x + (size_t)r * C;
            float *y = f->y + (size_t)r * C;
            double s = 0, q = 0;
            for (int c = 0; c < C; c++) s += x[c];
            const double m = s / C;
            for (int c = 0; c < C; c++) q += (x[c] - m) * (x[c] - m);
            const float iv = (float)(1.0 / sqrt(q / C + cfg->eps)), mf = (float)m;
            mu[r] = mf;
            inv[r] = iv;
            for (int c = 0; c < C; c++) {
                float v = (x[c] - mf) * iv;
                if (gamma) v *= gamma[c];
                if (beta) v += beta[c];
                y[c] = v;
            }
        }
        sn_fp_leave(fp);
    }
}

static void ln_backward(sn_layer *L, sn_bwd *b) {
    const norm_cfg *cfg = L->cfg;
    const int C = cfg->C;
    const long rows = (long)b->B * cfg->T;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    const float *mu = b->cache, *inv = b->cache + up16((size_t)rows);
    const float *gamma = cfg->o_gamma >= 0 ? L->w + cfg->o_gamma : NULL;
    float *ggamma = cfg->o_gamma >= 0 ? L->g + cfg->o_gamma : NULL;
    float *gbeta = cfg->o_beta >= 0 ? L->g + cfg->o_beta : NULL;
    if (ggamma || gbeta) {
        double *sg = (double *)b->scratch, *sb = sg + C;
        for (int c = 0; c < C; c++) sg[c] = sb[c] = 0;
        for (long r = 0; r < rows; r++) {
            const float *x = b->x + (size_t)r * C, *dy = b->dy + (size_t)r * C;
            for (int c = 0; c < C; c++) {
                sg[c] += (double)dy[c] * ((x[c] - mu[r]) * inv[r]);
                sb[c] += dy[c];
            }
        }
        for (int c = 0; c < C; c++) {
            if (ggamma) ggamma[c] += (float)sg[c];
            if (gbeta) gbeta[c] += (float)sb[c];
        }
    }
    if (!b->dx) return;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && rows * C > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) {
            const float *x = b->x + (size_t)r * C, *dy = b->dy + (size_t)r * C;
            float *dx = b->dx + (size_t)r * C;
            double sg = 0, sgx = 0;
            for (int c = 0; c < C; c++) {
                double g = gamma ? (double)dy[c] * gamma[c] : dy[c];
                sg += g;
                sgx += g * ((x[c] - mu[r]) * inv[r]);
            }
            const float a = (float)(sg / C), bb = (float)(sgx / C);
            for (int c = 0; c < C; c++) {
                float g = gamma ? dy[c] * gamma[c] : dy[c];
                float xh = (x[c] - mu[r]) * inv[r];
                dx[c] += inv[r] * (g - a - xh * bb);
            }
        }
        sn_fp_leave(fp);
    }
}

static int ln_describe(const sn_layer *L, char *buf, size_t n) {
    const norm_cfg *cfg = L->cfg;
    char extra[160] = "", num[32];
    size_t k = 0;
    if (cfg->eps != 1e-3) {
        fmt_num(num, sizeof num, cfg->eps);
        k += (size_t)snprintf(extra + k, sizeof extra - k, "epsilon=%s", num);
    }
    if (!cfg->center) k += (size_t)snprintf(extra + k, sizeof extra - k, "%scenter=false", k ? ", " : "");
    if (!cfg->scale) snprintf(extra + k, sizeof extra - k, "%sscale=false", k ? ", " : "");
    return snprintf(buf, n, "layernormalization(%s)", extra);
}

const sn_layer_ops sn_layernormalization_ops = {
    .kind = "layernormalization",
    .class_name = "LayerNormalization",
    .mask_policy = SN_MASK_PASS,
    .configure = ln_configure,
    .build = ln_build,
    .init = norm_init,
    .cache_floats = ln_cache_floats,
    .scratch_floats = ln_scratch_floats,
    .forward = ln_forward,
    .backward = ln_backward,
    .describe = ln_describe,
};
