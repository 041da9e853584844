/* DLinear (Zeng, Chen, Zhang & Xu, "Are Transformers Effective for Time
 * Series Forecasting?", AAAI 2023; the reference code's DLinear with
 * individual=False): per channel, a moving-average decomposition of the
 * look-back into trend and remainder, and one linear map of each onto the
 * forecast, shared by every channel (channel independence):
 *
 *   x_c     (T)      channel c of the input (T,C)
 *   trend_c[t] = (1/K) Σ_{j=-p..p} x_c[clamp(t+j, 0, T-1)],  p = (K-1)/2
 *                    (AvgPool1d(K, stride 1) over x_c with p copies of its
 *                    first / last value in front / behind: replicate padding)
 *   rem_c   = x_c - trend_c
 *   y[u][c] = Σ_t trend_c[t] Wt[t][u] + bt[u] + Σ_t rem_c[t] Ws[t][u] + bs[u]
 *
 * Spec: dlinear(units, kernel_size=25): input (T, C) → output (units, C);
 * kernel_size odd (the reference's default 25). Tensors trend_kernel (T,
 * units), trend_bias (units), remainder_kernel (T, units), remainder_bias
 * (units), initialised as torch.nn.Linear: uniform ±1/sqrt(T).
 *
 * Forward keeps trend and remainder (B·C, T) in the cache for backward; the
 * maps are two GEMMs over the B·C channel rows. Backward: dW += rows^T dY,
 * d(trend), d(rem) = dY W^T, dx = d(rem) + A^T (d(trend) - d(rem)) with A
 * the moving-average operator (its transpose scatters each output's share
 * back onto the clamped input positions). */
#include <math.h>
#include <string.h>

#include "layers/layer.h"

typedef struct dlinear_cfg {
    int units, kernel;
} dlinear_cfg;

static sn_status dlinear_configure(sn_layer *L, const sn_spec_call *c) {
    dlinear_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    long units, k;
    sn_status st = sn_arg_int(c, 0, "units", -1, &units);
    if (st) return st;
    if (units == -1) return sn_spec_error(c, "dlinear needs units (the forecast steps)");
    if (units < 1 || units > (1 << 20)) return sn_spec_error(c, "units must be a positive integer, got %ld", units);
    if ((st = sn_arg_int(c, 1, "kernel_size", 25, &k))) return st;
    if (k < 1 || k > 100001 || k % 2 == 0)
        return sn_spec_error(c, "kernel_size must be an odd positive integer (the moving average is centred), got %ld", k);
    cfg->units = (int)units;
    cfg->kernel = (int)k;
    return SN_OK;
}

static sn_status dlinear_build(sn_layer *L) {
    dlinear_cfg *cfg = L->cfg;
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rank != 2 || L->in.rep != SN_REP_DENSE || L->in.d[0] < 1 || L->in.d[1] < 1)
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, T, C), got %s", L->name, s);
    const int T = L->in.d[0];
    L->out = L->in;
    L->out.d[0] = cfg->units;
    int kd[2] = {T, cfg->units};
    sn_layer_add_tensor(L, "trend_kernel", 2, kd, 1);
    sn_layer_add_tensor(L, "trend_bias", 1, &cfg->units, 1);
    sn_layer_add_tensor(L, "remainder_kernel", 2, kd, 1);
    sn_layer_add_tensor(L, "remainder_bias", 1, &cfg->units, 1);
    return SN_OK;
}

static sn_status dlinear_init(sn_layer *L, sn_rng *r) {
    const double b = 1.0 / sqrt((double)L->in.d[0]);
    sn_init_uniform(L->w, L->n_params, -b, b, r);
    return SN_OK;
}

/* Offsets of the four tensors in the block. */
static void views(const sn_layer *L, float *base, float **Wt, float **bt, float **Ws, float **bs) {
    const size_t T = (size_t)L->in.d[0], U = (size_t)((const dlinear_cfg *)L->cfg)->units;
    *Wt = base;
    *bt = base + T * U;
    *Ws = *bt + U;
    *bs = *Ws + T * U;
}

static size_t rows_of(const sn_layer *L, int B) { return (size_t)B * (size_t)L->in.d[1]; }

static size_t dlinear_cache_floats(const sn_layer *L, int B) { return 2 * rows_of(L, B) * (size_t)L->in.d[0]; }

static size_t dlinear_scratch_floats(const sn_layer *L, int B) {
    const size_t R = rows_of(L, B), T = (size_t)L->in.d[0], U = (size_t)((const dlinear_cfg *)L->cfg)->units;
    return R * U + 2 * R * T;
}

/* trend (T) of one channel row xr (T) by the replicate-padded moving average. */
static void moving_average(float *trend, const float *xr, int T, int K) {
    const int p = (K - 1) / 2;
    for (int t = 0; t < T; t++) {
        double s = 0;
        for (int j = -p; j <= p; j++) {
            int i = t + j < 0 ? 0 : t + j >= T ? T - 1 : t + j;
            s += xr[i];
        }
        trend[t] = (float)(s / K);
    }
}

static void dlinear_forward(sn_layer *L, sn_fwd *f) {
    const dlinear_cfg *cfg = L->cfg;
    const int T = L->in.d[0], C = L->in.d[1], U = cfg->units;
    const size_t R = rows_of(L, f->B);
    float *trend = f->cache, *rem = f->cache + R * (size_t)T, *yt = f->scratch;
    float *Wt, *bt, *Ws, *bs;
    views(L, L->w, &Wt, &bt, &Ws, &bs);
    /* channel rows: row b*C + c holds x[b][:][c] */
    for (int b = 0; b < f->B; b++)
        for (int c = 0; c < C; c++) {
            float *rr = rem + ((size_t)b * (size_t)C + (size_t)c) * (size_t)T;
            for (int t = 0; t < T; t++) rr[t] = f->x[((size_t)b * (size_t)T + (size_t)t) * (size_t)C + (size_t)c];
            float *tr = trend + ((size_t)b * (size_t)C + (size_t)c) * (size_t)T;
            moving_average(tr, rr, T, cfg->kernel);
            for (int t = 0; t < T; t++) rr[t] -= tr[t];
        }
    /* yt (R,U) = trend (R,T) Wt (T,U) + rem (R,T) Ws (T,U) */
    sn_layer_gemm_m(R, U, T, 1.0f, trend, T, 0, Wt, U, 0.0f, yt, U);
    sn_layer_gemm_m(R, U, T, 1.0f, rem, T, 0, Ws, U, 1.0f, yt, U);
    for (int b = 0; b < f->B; b++)
        for (int c = 0; c < C; c++) {
            const float *r = yt + ((size_t)b * (size_t)C + (size_t)c) * (size_t)U;
            for (int u = 0; u < U; u++)
                f->y[((size_t)b * (size_t)U + (size_t)u) * (size_t)C + (size_t)c] = r[u] + bt[u] + bs[u];
        }
}

static void dlinear_backward(sn_layer *L, sn_bwd *bw) {
    const dlinear_cfg *cfg = L->cfg;
    const int T = L->in.d[0], C = L->in.d[1], U = cfg->units, p = (cfg->kernel - 1) / 2;
    const size_t R = rows_of(L, bw->B);
    const float *trend = bw->cache, *rem = bw->cache + R * (size_t)T;
    float *dyt = bw->scratch, *dtr = dyt + R * (size_t)U, *drm = dtr + R * (size_t)T;
    float *Wt, *bt, *Ws, *bs, *gWt, *gbt, *gWs, *gbs;
    views(L, L->w, &Wt, &bt, &Ws, &bs);
    views(L, L->g, &gWt, &gbt, &gWs, &gbs);
    for (int b = 0; b < bw->B; b++)
        for (int c = 0; c < C; c++)
            for (int u = 0; u < U; u++)
                dyt[((size_t)b * (size_t)C + (size_t)c) * (size_t)U + (size_t)u] =
                    bw->dy[((size_t)b * (size_t)U + (size_t)u) * (size_t)C + (size_t)c];
    for (int u = 0; u < U; u++) {
        double s = 0;
        for (size_t r = 0; r < R; r++) s += dyt[r * (size_t)U + (size_t)u];
        gbt[u] += (float)s;
        gbs[u] += (float)s;
    }
    /* dW (T,U) += rows^T (T,R) dyt (R,U) */
    sn_layer_gemm_k(T, U, R, 1.0f, trend, T, dyt, U, 1.0f, gWt, U);
    sn_layer_gemm_k(T, U, R, 1.0f, rem, T, dyt, U, 1.0f, gWs, U);
    if (!bw->dx) return;
    /* d(trend), d(rem) (R,T) = dyt (R,U) W^T (U,T) */
    sn_layer_gemm_m(R, T, U, 1.0f, dyt, U, 1, Wt, U, 0.0f, dtr, T);
    sn_layer_gemm_m(R, T, U, 1.0f, dyt, U, 1, Ws, U, 0.0f, drm, T);
    const float inv = 1.0f / (float)cfg->kernel;
    for (int b = 0; b < bw->B; b++)
        for (int c = 0; c < C; c++) {
            const size_t r = (size_t)b * (size_t)C + (size_t)c;
            const float *gt = dtr + r * (size_t)T, *gr = drm + r * (size_t)T;
            float *dx = bw->dx + (size_t)b * (size_t)T * (size_t)C + (size_t)c;
            for (int t = 0; t < T; t++) {
                dx[(size_t)t * (size_t)C] += gr[t];
                /* trend[t] = mean of x[clamp(t+j)]: spread (gt - gr)[t] / K back */
                const float g = (gt[t] - gr[t]) * inv;
                for (int j = -p; j <= p; j++) {
                    int i = t + j < 0 ? 0 : t + j >= T ? T - 1 : t + j;
                    dx[(size_t)i * (size_t)C] += g;
                }
            }
        }
}

static int dlinear_describe(const sn_layer *L, char *buf, size_t n) {
    const dlinear_cfg *cfg = L->cfg;
    if (cfg->kernel != 25) return snprintf(buf, n, "dlinear(%d, kernel_size=%d)", cfg->units, cfg->kernel);
    return snprintf(buf, n, "dlinear(%d)", cfg->units);
}

const sn_layer_ops sn_dlinear_ops = {
    .kind = "dlinear",
    .class_name = "DLinear",
    .mask_policy = SN_MASK_DROP,
    .configure = dlinear_configure,
    .build = dlinear_build,
    .init = dlinear_init,
    .cache_floats = dlinear_cache_floats,
    .scratch_floats = dlinear_scratch_floats,
    .forward = dlinear_forward,
    .backward = dlinear_backward,
    .describe = dlinear_describe,
};
