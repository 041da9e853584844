/* Dense (Keras `Dense`): y = act(x·W + b) over the last axis.
 *
 *   kernel W: (C, units) row-major, exactly Keras's layout (torch Linear's
 *             weight is its transpose); bias b: (units).
 *   input (C) → (units); input (T,C) → (T,units): the T rows of every
 *   sample are just more rows of one (B·T, C) × (C, units) GEMM. The mask
 *   passes through.
 *   Sparse input (CSR, logical (V)): y_r = b + Σ_nz val·W[col,:], O(nnz·units);
 *   backward scatters dW[col,:] += val·dz_r and produces no dx (a sparse
 *   tensor is always the model input).
 *   Ids input (one-hot sequences) is rejected at build: the recurrent and
 *   embedding layers gather kernel rows for those.
 * Reference: keras/src/layers/core/dense.py; docs/keras-semantics.md §6, §10. */
#include <string.h>

#include "layers/layer.h"

typedef struct dense_cfg {
    int units;
    sn_act act;
    int use_bias;
    sn_init_kind kernel_init, bias_init;
} dense_cfg;

static sn_status parse_init(const sn_spec_call *c, const char *key, const char *def, sn_init_kind *out) {
    char s[64];
    sn_status st = sn_arg_str(c, -1, key, def, s, sizeof s);
    if (st) return st;
    if (!sn_init_parse(s, out))
        return sn_spec_error(c, "%s must be glorot_uniform, he_uniform, orthogonal, zeros, ones or uniform, got '%s'",
                             key, s);
    return SN_OK;
}

static sn_status dense_configure(sn_layer *L, const sn_spec_call *c) {
    dense_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    long units;
    char act[32];
    sn_status st = sn_arg_int(c, 0, "units", -1, &units);
    if (st) return st;
    if (units == -1) return sn_spec_error(c, "dense needs units");
    if (units < 1 || units > (1 << 24)) return sn_spec_error(c, "units must be a positive integer, got %ld", units);
    cfg->units = (int)units;
    if ((st = sn_arg_str(c, 1, "activation", "linear", act, sizeof act))) return st;
    if (!sn_act_parse(act, &cfg->act))
        return sn_spec_error(c, "activation must be linear, relu, tanh, sigmoid, softmax, hard_sigmoid, hard_sigmoid_keras2, softsign, softplus, elu or selu, got '%s'", act);
    if ((st = sn_arg_bool(c, 2, "use_bias", 1, &cfg->use_bias))) return st;
    if ((st = parse_init(c, "kernel_initializer", "glorot_uniform", &cfg->kernel_init))) return st;
    if ((st = parse_init(c, "bias_initializer", "zeros", &cfg->bias_init))) return st;
    return SN_OK;
}

static sn_status dense_build(sn_layer *L) {
    dense_cfg *cfg = L->cfg;
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rep == SN_REP_IDS)
        return sn_error(SN_ERR_SHAPE,
                        "%s: input %s is a one-hot id sequence; Dense cannot take it (put an embedding or a "
                        "recurrent layer first)", L->name, s);
    if (L->in.rank < 1 || L->in.rank > 2 || (L->in.rep == SN_REP_SPARSE && L->in.rank != 1))
        return sn_error(SN_ERR_SHAPE, "%s: expects input (None, C) or (None, T, C), got %s", L->name, s);
    int C = L->in.d[L->in.rank - 1];
    if (C < 1) return sn_error(SN_ERR_SHAPE, "%s: input %s has no features", L->name, s);
    L->out = L->in;
    L->out.rep = SN_REP_DENSE;
    L->out.d[L->out.rank - 1] = cfg->units;
    int kd[2] = {C, cfg->units};
    sn_layer_add_tensor(L, "kernel", 2, kd, 1);
    if (cfg->use_bias) sn_layer_add_tensor(L, "bias", 1, &cfg->units, 1);
    return SN_OK;
}

static int dense_c(const sn_layer *L) { return L->in.d[L->in.rank - 1]; }
/* Rows of the GEMM: B, or B·T for sequences. */
static size_t dense_rows(const sn_layer *L, int B) { return (size_t)B * (L->in.rank == 2 ? (size_t)L->in.d[0] : 1); }

static sn_status dense_init(sn_layer *L, sn_rng *r) {
    dense_cfg *cfg = L->cfg;
    int C = dense_c(L), units = cfg->units;
    sn_status st = sn_init_apply(cfg->kernel_init, L->w, C, units, C, units, r);
    /* 1-D tensor: fan_in = fan_out = units (docs/keras-semantics.md §6). */
    if (!st && cfg->use_bias) st = sn_init_apply(cfg->bias_init, L->w + (size_t)C * units, 1, units, units, units, r);
    return st;
}

static size_t dense_cache_floats(const sn_layer *L, int B) {
    (void)L; (void)B;
    return 0;
}

/* Scratch: dz (rows, units) when the activation is not linear, plus units doubles
 * (2·units floats) for the bias-gradient column sums, 16 floats apart. */
static size_t dense_scratch_floats(const sn_layer *L, int B) {
    const dense_cfg *cfg = L->cfg;
    size_t units = (size_t)cfg->units;
    return 2 * units + 16 + (cfg->act != SN_ACT_LINEAR ? dense_rows(L, B) * units : 0);
}

static void dense_forward(sn_layer *L, sn_fwd *f) {
    const dense_cfg *cfg = L->cfg;
    const int C = dense_c(L), units = cfg->units;
    const float *W = L->w, *bias = cfg->use_bias ? L->w + (size_t)C * units : NULL;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    if (L->in.rep == SN_REP_SPARSE) {
        /* y_r = b + Σ_{j in row r} val_j · W[col_j, :] */
        const sn_csr *xs = f->xs;
        SN_ASSERT(xs && xs->rows == f->B);
        const long B = f->B;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && B > 32)
        {
            sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
            for (long r = 0; r < B; r++) {
                float *y = f->y + (size_t)r * units;
                if (bias)
                    memcpy(y, bias, (size_t)units * sizeof(float));
                else
                    memset(y, 0, (size_t)units * sizeof(float));
                for (int64_t j = xs->row_ptr[r]; j < xs->row_ptr[r + 1]; j++) {
                    const float v = xs->val[j];
                    const float *w = W + (size_t)xs->col[j] * units;
                    for (int h = 0; h < units; h++) y[h] += v * w[h];
                }
            }
            sn_fp_leave(fp);
        }
        sn_act_forward(cfg->act, f->y, (size_t)B, (size_t)units);
        return;
    }
    const long rows = (long)dense_rows(L, f->B);
    /* y (rows,units) = x (rows,C) · W (C,units) */
    sn_layer_gemm_m((size_t)rows, units, C, 1.0f, f->x, C, 0, W, units, 0.0f, f->y, units);
    if (bias) {
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && rows * units > 32768)
        {
            sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
            for (long r = 0; r < rows; r++) {
                float *y = f->y + (size_t)r * units;
                for (int h = 0; h < units; h++) y[h] += bias[h];
            }
            sn_fp_leave(fp);
        }
    }
    sn_act_forward(cfg->act, f->y, (size_t)rows, (size_t)units);
}

static void dense_backward(sn_layer *L, sn_bwd *b) {
    const dense_cfg *cfg = L->cfg;
    const int C = dense_c(L), units = cfg->units;
    const float *W = L->w;
    float *gW = L->g, *gb = cfg->use_bias ? L->g + (size_t)C * units : NULL;
    const size_t rows = L->in.rep == SN_REP_SPARSE ? (size_t)b->B : dense_rows(L, b->B);
    /* dz = dy ⊙ act'(y), from the output (softmax: the row Jacobian). */
    double *colsum = (double *)b->scratch;
    const float *dz = b->dy;
    if (cfg->act != SN_ACT_LINEAR) {
        float *t = b->scratch + 2 * (size_t)units + 16;
        sn_act_backward(cfg->act, t, b->y, b->dy, rows, (size_t)units);
        dz = t;
    }
    if (gb) {
        /* db += Σ_r dz_r, rows in a fixed order, double accumulators. */
        for (int h = 0; h < units; h++) colsum[h] = 0;
        for (size_t r = 0; r < rows; r++) {
            const float *d = dz + r * units;
            for (int h = 0; h < units; h++) colsum[h] += d[h];
        }
        for (int h = 0; h < units; h++) gb[h] += (float)colsum[h];
    }
    if (L->in.rep == SN_REP_SPARSE) {
        /* dW[col,:] += val · dz_r; serial so that the order never depends on threads. */
        const sn_csr *xs = b->xs;
        SN_ASSERT(xs && xs->rows == b->B);
        for (size_t r = 0; r < rows; r++) {
            const float *d = dz + r * units;
            for (int64_t j = xs->row_ptr[r]; j < xs->row_ptr[r + 1]; j++) {
                const float v = xs->val[j];
                float *g = gW + (size_t)xs->col[j] * units;
                for (int h = 0; h < units; h++) g[h] += v * d[h];
            }
        }
        return;
    }
    /* dW (C,units) += x^T (C,rows) · dz (rows,units) */
    sn_layer_gemm_k(C, units, rows, 1.0f, b->x, C, dz, units, 1.0f, gW, units);
    /* dx (rows,C) += dz (rows,units) · W^T (units,C) */
    if (b->dx) sn_layer_gemm_m(rows, C, units, 1.0f, dz, units, 1, W, units, 1.0f, b->dx, C);
}

static int dense_describe(const sn_layer *L, char *buf, size_t n) {
    const dense_cfg *cfg = L->cfg;
    char extra[256] = "";
    size_t k = 0;
    if (cfg->act != SN_ACT_LINEAR)
        k += (size_t)snprintf(extra + k, sizeof extra - k, ", activation=%s", sn_act_name(cfg->act));
    if (!cfg->use_bias) k += (size_t)snprintf(extra + k, sizeof extra - k, ", use_bias=false");
    if (cfg->kernel_init != SN_INIT_GLOROT_UNIFORM)
        k += (size_t)snprintf(extra + k, sizeof extra - k, ", kernel_initializer=%s", sn_init_name(cfg->kernel_init));
    if (cfg->bias_init != SN_INIT_ZEROS)
        snprintf(extra + k, sizeof extra - k, ", bias_initializer=%s", sn_init_name(cfg->bias_init));
    return snprintf(buf, n, "dense(%d%s)", cfg->units, extra);
}

const sn_layer_ops sn_dense_ops = {
    .kind = "dense",
    .class_name = "Dense",
    .mask_policy = SN_MASK_PASS,
    .configure = dense_configure,
    .build = dense_build,
    .init = dense_init,
    .cache_floats = dense_cache_floats,
    .scratch_floats = dense_scratch_floats,
    .forward = dense_forward,
    .backward = dense_backward,
    .describe = dense_describe,
};
