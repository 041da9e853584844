/* Conv1D (Keras `Conv1D`), channels last, cross-correlation (no flip):
 *
 *   y[b,t,f] = act( bias[f] + Σ_{k<K, c<C} x[b, t·s + k·d − pad_left, c] · W[k,c,f] )
 *
 * Letters: B batch, T input steps, C input features, K kernel width; in
 * formulas s = strides, d = dilation_rate, and the other sizes are named in
 * words (filters, T_out = t_out output steps, T_p = t_padded padded input
 * steps, T_up = t_up up-sampled steps).
 *   kernel W: (K, C, filters) row-major as Keras (torch Conv1d's weight
 *   (filters, C, K) is its permutation); bias (filters). Out-of-range x
 *   reads are zeros.
 *   valid : T_out = ⌊(T − d(K−1) − 1)/s⌋ + 1, pad_left = 0;
 *   same  : T_out = ⌈T/s⌉, P = max((T_out−1)s + d(K−1) + 1 − T, 0), pad_left = ⌊P/2⌋;
 *   causal: T_out = ⌈T/s⌉, pad_left = d(K−1).
 *   Keras rejects strides > 1 together with dilation_rate > 1; so do we.
 *   The mask is dropped (Keras Conv1D does not support masking).
 *
 * Two kernel strategies: direct register-blocked kernels for filters <= 64
 * (the seed's layers; conv1d_kern.h describes them) and, for wider layers,
 * the GEMM path:
 *
 * GEMM path ("virtual rows", no im2col copy). The input is laid out,
 * zero padded when needed, as xp (B, T_p, C) with T_p a multiple of s.
 * Output row i = b·R + t (R = rows_per_sample = T_p/s) then reads tap k at
 * xp + (i·s + k·d)·C: for each tap one GEMM over the whole batch with
 * lda = s·C (K accumulated GEMMs of depth C), the rows with t ≥ T_out being
 * discarded (they straddle two samples). Backward:
 *   dW += xp_rows^T · dZ  (same strided view, garbage rows of dZ set to 0),
 *   dx  = the transposed convolution: dz is scattered (up-sampled by s) into
 *         U (B, T_p + d(K−1), filters) at t·s + d(K−1), and correlated with the
 *         flipped, transposed kernel W''[k'] = W[K−1−k']^T — the same GEMM.
 *
 * What is reproducible: on one machine the results are bit-identical for
 * every thread count, and the direct kernels for every vector path
 * (SEQNN_ISA; tests/test_isa_paths.c). Across CPUs they are not promised:
 * the GEMM path's results differ by rounding because the BLAS picks its
 * kernel (blocking, FMA, summation order) per CPU, and the tanh / sigmoid
 * activations call libm, which may pick per-CPU variants too. The direct
 * kernels with relu or linear use neither.
 * Reference: keras/src/layers/convolutional/base_conv.py,
 * keras/src/ops/operation_utils.py; docs/keras-semantics.md §6, §10. */
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "layers/conv1d_kern.h"
#include "layers/layer.h"


typedef enum conv_pad { PAD_VALID = 0, PAD_SAME, PAD_CAUSAL } conv_pad;
static const char *const g_pad_names[] = {"valid", "same", "causal"};

typedef struct conv_cfg {
    int filters, K, strides, dilation;
    conv_pad pad;
    sn_act act;
    int use_bias;
    sn_init_kind kernel_init, bias_init;
    /* derived in build */
    int T, C, t_out, pad_left, t_padded, rows_per_sample, pad_copy; /* see conv_build */
    int direct;    /* direct kernels (filters <= CONV_DIRECT_MAX_F), else K accumulated GEMMs */
    int filters8, c8; /* filters and C rounded up to multiples of 8 (direct kernels' padded widths) */
} conv_cfg;

static sn_status parse_init(const sn_spec_call *c, const char *key, const char *def, sn_init_kind *out) {
    char s[64];
    sn_status st = sn_arg_str(c, -1, key, def, s, sizeof s);
    if (st) return st;
    if (!sn_init_parse(s, out))
        return sn_spec_error(c, "%s must be glorot_uniform, he_uniform, orthogonal, zeros, ones or uniform, got '%s'",
                             key, s);
    return SN_OK;
}

/* One positive integer given as 3 or (3,). */
static sn_status one_int(const sn_spec_call *c, int pos, const char *key, int def, int *out) {
    int v[SN_SPEC_MAX_TUPLE], n;
    sn_status st = sn_arg_ints(c, pos, key, v, 1, &n);
    if (st) return st;
    *out = n ? v[0] : def;
    if (*out < 1 || *out > (1 << 20)) return sn_spec_error(c, "%s must be a positive integer, got %d", key, *out);
    return SN_OK;
}

static sn_status conv_configure(sn_layer *L, const sn_spec_call *c) {
    conv_cfg *cfg = sn_calloc(1, sizeof *cfg);
    if (!cfg) return SN_ERR_NOMEM;
    L->cfg = cfg;
    long filters;
    sn_status st = sn_arg_int(c, 0, "filters", -1, &filters);
    if (st) return st;
    if (filters == -1) return sn_spec_error(c, "conv1d needs filters and kernel_size");
    if (filters < 1 || filters > (1 << 20))
        return sn_spec_error(c, "filters must be a positive integer, got %ld", filters);
    cfg->filters = (int)filters;
    if ((st = one_int(c, 1, "kernel_size", -1, &cfg->K))) {
        if (cfg->K == -1) return sn_spec_error(c, "conv1d needs kernel_size");
        return st;
    }
    if ((st = one_int(c, 2, "strides", 1, &cfg->strides))) return st;
    char pad[32], df[32], act[32];
    if ((st = sn_arg_str(c, 3, "padding", "valid", pad, sizeof pad))) return st;
    int found = 0;
    for (int i = 0; i < 3; i++)
        if (!strcmp(pad, g_pad_names[i])) {
            cfg->pad = (conv_pad)i;
            found = 1;
        }
    if (!found) return sn_spec_error(c, "padding must be valid, same or causal, got '%s'", pad);
    if ((st = sn_arg_str(c, 4, "data_format", "channels_last", df, sizeof df))) return st;
    if (strcmp(df, "channels_last") && strcmp(df, "none"))
        return sn_spec_error(c, "only data_format=channels_last is supported, got '%s'", df);
    if ((st = one_int(c, 5, "dilation_rate", 1, &cfg->dilation))) return st;
    long groups;
    if ((st = sn_arg_int(c, 6, "groups", 1, &groups))) return st;
    if (groups != 1) return sn_spec_error(c, "only groups=1 is supported, got %ld", groups);
    if ((st = sn_arg_str(c, 7, "activation", "linear", act, sizeof act))) return st;
    if (!sn_act_parse(act, &cfg->act))
        return sn_spec_error(c, "activation must be linear, relu, tanh, sigmoid, softmax, hard_sigmoid, hard_sigmoid_keras2, softsign, softplus, elu or selu, got '%s'", act);
    if ((st = sn_arg_bool(c, 8, "use_bias", 1, &cfg->use_bias))) return st;
    if ((st = parse_init(c, "kernel_initializer", "glorot_uniform", &cfg->kernel_init))) return st;
    if ((st = parse_init(c, "bias_initializer", "zeros", &cfg->bias_init))) return st;
    if (cfg->strides > 1 && cfg->dilation > 1)
        return sn_spec_error(c, "strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
    return SN_OK;
}

static sn_status conv_build(sn_layer *L) {
    conv_cfg *cfg = L->cfg;
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rep != SN_REP_DENSE || L->in.rank != 2)
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, T, C), got %s", L->name, s);
    const int T = L->in.d[0], C = L->in.d[1], K = cfg->K, strides = cfg->strides, dilation = cfg->dilation;
    const long span = (long)dilation * (K - 1) + 1; /* dilated kernel extent */
    int t_out, pad_left;
    if (cfg->pad == PAD_VALID) {
        if (T < span)
            return sn_error(SN_ERR_SHAPE,
                            "%s: input %s is shorter than the dilated kernel (%ld steps) with padding=valid", L->name,
                            s, span);
        t_out = (int)((T - span) / strides + 1);
        pad_left = 0;
    } else {
        t_out = (T + strides - 1) / strides;
        long pad_total = (long)(t_out - 1) * strides + span - T;
        if (pad_total < 0) pad_total = 0;
        pad_left = cfg->pad == PAD_SAME ? (int)(pad_total / 2) : (int)(span - 1);
    }
    if (t_out < 1 || C < 1) return sn_error(SN_ERR_SHAPE, "%s: input %s gives an empty output", L->name, s);
    /* Padded length: holds pad_left + T and every tap (T_out−1)s + d(K−1), rounded up to s. */
    long need = (long)(t_out - 1) * strides + span;
    if (need < (long)pad_left + T) need = (long)pad_left + T;
    long t_padded = (need + strides - 1) / strides * strides;
    if (t_padded > (1L << 26)) return sn_error(SN_ERR_SHAPE, "%s: input %s too long", L->name, s);
    cfg->T = T;
    cfg->C = C;
    cfg->t_out = t_out;
    cfg->pad_left = pad_left;
    cfg->t_padded = (int)t_padded;
    cfg->rows_per_sample = (int)(t_padded / strides);
    cfg->pad_copy = pad_left != 0 || t_padded != T;
    cfg->direct = CONV_HAVE_DIRECT && cfg->filters <= CONV_DIRECT_MAX_F;
    cfg->filters8 = (cfg->filters + 7) / 8 * 8;
    cfg->c8 = (C + 7) / 8 * 8;
    L->out.rank = 2;
    L->out.d[0] = t_out;
    L->out.d[1] = cfg->filters;
    L->out.rep = SN_REP_DENSE;
    int kd[3] = {K, C, cfg->filters};
    sn_layer_add_tensor(L, "kernel", 3, kd, 1);
    if (cfg->use_bias) sn_layer_add_tensor(L, "bias", 1, &cfg->filters, 1);
    return SN_OK;
}

static sn_status conv_init(sn_layer *L, sn_rng *r) {
    const conv_cfg *cfg = L->cfg;
    const int K = cfg->K, C = cfg->C, filters = cfg->filters;
    /* fan_in = K·C, fan_out = K·filters (docs/keras-semantics.md §6). */
    sn_status st = sn_init_apply(cfg->kernel_init, L->w, K * C, filters, (double)K * C, (double)K * filters, r);
    if (!st && cfg->use_bias)
        st = sn_init_apply(cfg->bias_init, L->w + (size_t)K * C * filters, 1, filters, filters, filters, r);
    return st;
}

static size_t conv_cache_floats(const sn_layer *L, int B) {
    (void)L; (void)B;
    return 0;
}

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Scratch regions (float offsets, each 64-byte aligned). */
typedef struct conv_scratch {
    float *xp;   /* (B, T_p, C) padded input, when cfg->pad_copy */
    /* GEMM path */
    float *zv;   /* (B·rows_per_sample, filters) virtual-row outputs / dZ */
    double *acc; /* (filters) bias-gradient sums */
    float *dxv;  /* (B·T_up, C) */
    /* both: u (B, T_up, filters) up-sampled dz; w2 flipped, transposed kernel
     * (K, filters, C) for the GEMM path, (K, filters, c8) with zero columns
     * C..c8 for the direct one */
    float *u, *w2;
    /* direct path */
    float *wp;   /* (K·C, filters8) kernel with zero columns filters..filters8 */
    float *bp;   /* (filters8) bias, zero padded */
    float *dz;   /* (B, T_out, filters8) dz = dy ⊙ act'(y), zero columns filters..filters8 */
    double *tot; /* (K·C + 1, filters8) dW sums in double; the last row is the bias gradient */
} conv_scratch;

static size_t conv_layout(const sn_layer *L, int B, float *base, conv_scratch *o) {
    const conv_cfg *cfg = L->cfg;
    const size_t filters = (size_t)cfg->filters, C = (size_t)cfg->C, K = (size_t)cfg->K;
    const size_t filters8 = (size_t)cfg->filters8, c8 = (size_t)cfg->c8;
    const size_t t_up = (size_t)cfg->t_padded + (size_t)cfg->dilation * (K - 1);
    size_t off = 0;
#define TAKE(field, type, count)                                     \
    do {                                                             \
        if (o) o->field = (type *)(base + off);                      \
        off += up16(count);                                          \
    } while (0)
    TAKE(xp, float, cfg->pad_copy ? (size_t)B * cfg->t_padded * C : 0);
    TAKE(u, float, (size_t)B * t_up * filters);
    if (cfg->direct) {
        TAKE(w2, float, K * filters * c8);
        TAKE(wp, float, K * C * filters8);
        TAKE(bp, float, filters8);
        TAKE(dz, float, (size_t)B * cfg->t_out * filters8);
        TAKE(tot, double, 2 * (K * C + 1) * filters8);
    } else {
        TAKE(w2, float, K * filters * C);
        TAKE(zv, float, (size_t)B * cfg->rows_per_sample * filters);
        TAKE(acc, double, 2 * filters);
        TAKE(dxv, float, (size_t)B * t_up * C);
    }
#undef TAKE
    return off;
}

static size_t conv_scratch_floats(const sn_layer *L, int B) { return conv_layout(L, B, NULL, NULL); }

/* Zero-padded copy of x into xp (B, T_p, C): x[b, j] → xp[b, pad_left + j]. */
static void conv_pad_input(const conv_cfg *cfg, int B, const float *x, float *xp, int nthreads) {
    const size_t C = (size_t)cfg->C, t_padded = (size_t)cfg->t_padded, T = (size_t)cfg->T,
                 pad_left = (size_t)cfg->pad_left;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && B > 16)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *dst = xp + (size_t)b * t_padded * C;
            memset(dst, 0, pad_left * C * sizeof(float));
            memcpy(dst + pad_left * C, x + (size_t)b * T * C, T * C * sizeof(float));
            memset(dst + (pad_left + T) * C, 0, (t_padded - pad_left - T) * C * sizeof(float));
        }
        sn_fp_leave(fp);
    }
}

/* W''[k'][f][c] = W[K−1−k'][c][f] (K, filters, ld) with zero columns C..ld: the
 * kernel of the transposed convolution that gives dx. */
static void conv_flip_kernel(const conv_cfg *cfg, const float *W, float *w2, int ld) {
    const int K = cfg->K, C = cfg->C, filters = cfg->filters;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < filters; j++) {
            float *row = w2 + ((size_t)(K - 1 - k) * filters + j) * ld;
            for (int c = 0; c < C; c++) row[c] = W[((size_t)k * C + c) * filters + j];
            for (int c = C; c < ld; c++) row[c] = 0.0f;
        }
}


/* Spreads `work` multiply-adds over threads only when there is enough of it:
 * 4M multiply-adds are ~0.1 ms on one core, and on a loaded machine a
 * parallel region's barrier can cost that much (the seed's last layer,
 * conv1d(8, 6) on (18, 8) at B = 256, is 1.3M and stays on one thread). */
#define CONV_PAR_WORK (1L << 22)

#if CONV_HAVE_DIRECT
const conv_kernels *sn_conv_kernels_get(void) {
    return sn_isa_get() >= SN_ISA_AVX2 ? &sn_conv_kernels_avx2 : &sn_conv_kernels_sse2;
}

static void direct_forward(sn_layer *L, sn_fwd *f) {
    const conv_cfg *cfg = L->cfg;
    const int B = f->B, filters = cfg->filters, filters8 = cfg->filters8, C = cfg->C, K = cfg->K, t_out = cfg->t_out;
    const int strides = cfg->strides, dilation = cfg->dilation, t_padded = cfg->t_padded;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    const conv_kernels *kn = sn_conv_kernels_get();
    conv_scratch sc;
    conv_layout(L, B, f->scratch, &sc);
    /* kernel and bias padded to filters8 columns (used as is when filters = filters8) */
    const float *wp = L->w, *bias = NULL;
    if (filters8 != filters) {
        for (int j = 0; j < K * C; j++)
            for (int n = 0; n < filters8; n++)
                sc.wp[(size_t)j * filters8 + n] = n < filters ? L->w[(size_t)j * filters + n] : 0.0f;
        wp = sc.wp;
    }
    if (cfg->use_bias) {
        for (int n = 0; n < filters8; n++) sc.bp[n] = n < filters ? L->w[(size_t)K * C * filters + n] : 0.0f;
        bias = sc.bp;
    }
    const float *xp = f->x;
    if (cfg->pad_copy) {
        conv_pad_input(cfg, B, f->x, sc.xp, nthreads);
        xp = sc.xp;
    }
    /* dilation = 1: the K taps of a row are K·C consecutive floats, one loop */
    const int n_taps = dilation == 1 ? 1 : K, tap_depth = dilation == 1 ? K * C : C;
    const long work = (long)B * t_out * filters8 * K * C;
    /* relu and linear are applied in the kernel's store */
    const int relu = cfg->act == SN_ACT_RELU, fused = relu || cfg->act == SN_ACT_LINEAR;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && work >= CONV_PAR_WORK)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *y = f->y + (size_t)b * t_out * filters;
            kn->direct(y, filters, filters, xp + (size_t)b * t_padded * C, strides * C, dilation * C, tap_depth, n_taps,
                       wp, bias, 0, relu, t_out);
            if (!fused) sn_act_forward(cfg->act, y, (size_t)t_out, (size_t)filters);
        }
        sn_fp_leave(fp);
    }
}

static void direct_backward(sn_layer *L, sn_bwd *bw) {
    const conv_cfg *cfg = L->cfg;
    const int B = bw->B, filters = cfg->filters, filters8 = cfg->filters8, C = cfg->C, c8 = cfg->c8, K = cfg->K;
    const int t_out = cfg->t_out, strides = cfg->strides, dilation = cfg->dilation, T = cfg->T,
              pad_left = cfg->pad_left, t_padded = cfg->t_padded;
    const int t_up = t_padded + dilation * (K - 1), kernel_rows = K * C, row_blocks = (kernel_rows + 7) / 8,
              col_blocks = filters8 / 8;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    float *gW = L->g, *gb = cfg->use_bias ? L->g + (size_t)kernel_rows * filters : NULL;
    const conv_kernels *kn = sn_conv_kernels_get();
    conv_scratch sc;
    conv_layout(L, B, bw->scratch, &sc);
    const float *xp = bw->x;
    if (cfg->pad_copy) {
        conv_pad_input(cfg, B, bw->x, sc.xp, nthreads);
        xp = sc.xp;
    }
    if (bw->dx) conv_flip_kernel(cfg, L->w, sc.w2, c8);
    memset(sc.tot, 0, (size_t)(kernel_rows + 1) * filters8 * sizeof(double));
    /* work items of the dW reduction: (8-row block of J) × (8-column block), then the bias columns */
    const int n_items = row_blocks * col_blocks + (gb ? col_blocks : 0);
    const int n_taps = dilation == 1 ? 1 : K,
              tap_depth = dilation == 1 ? K * filters : filters; /* dx: taps of U rows, as in forward */
    const long work = (long)B * t_out * filters8 * kernel_rows * (bw->dx ? 2 : 1);
    const int relu = cfg->act == SN_ACT_RELU, fused = relu || cfg->act == SN_ACT_LINEAR;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && work >= CONV_PAR_WORK)
    {
        sn_fp_state fp = sn_fp_enter();
        /* dz = dy ⊙ act'(y) in (T_out, filters8) rows, then dx of each sample */
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *dz = sc.dz + (size_t)b * t_out * filters8;
            const size_t off = (size_t)b * t_out * filters;
            if (fused) {
                kn->dz_relu(dz, filters8, bw->y + off, bw->dy + off, t_out, filters, relu);
            } else if (filters8 == filters) {
                sn_act_backward(cfg->act, dz, bw->y + off, bw->dy + off, (size_t)t_out, (size_t)filters);
            } else {
                for (int t = 0; t < t_out; t++) {
                    float *row = dz + (size_t)t * filters8;
                    sn_act_backward(cfg->act, row, bw->y + off + (size_t)t * filters,
                                    bw->dy + off + (size_t)t * filters, 1, (size_t)filters);
                    for (int n = filters; n < filters8; n++) row[n] = 0.0f;
                }
            }
            if (bw->dx) {
                /* U[t·s + d(K−1)] = dz[t], zeros elsewhere; dx[i] += Σ_k' U[pad_left + i + k'd] · W''[k'] */
                float *u = sc.u + (size_t)b * t_up * filters;
                memset(u, 0, (size_t)t_up * filters * sizeof(float));
                for (int t = 0; t < t_out; t++)
                    memcpy(u + ((size_t)t * strides + (size_t)dilation * (K - 1)) * filters, dz + (size_t)t * filters8,
                           (size_t)filters * sizeof(float));
                kn->direct(bw->dx + (size_t)b * T * C, C, C, u + (size_t)pad_left * filters, filters,
                           dilation * filters, tap_depth, n_taps, sc.w2, NULL, 1, 0, T);
            }
        }
        /* dW: every thread takes a fixed range of items and runs the batch in
         * order, in groups of `group` samples (from the shape only) whose float
         * partial sums (<= ~256 terms) go into the double totals */
        int tid = 0, nth = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        const int it0 = (int)((long)n_items * tid / nth), it1 = (int)((long)n_items * (tid + 1) / nth);
        const int group = SN_MAX(1, 192 / t_out);
        const size_t xs = (size_t)t_padded * C, zs = (size_t)t_out * filters8;
        for (int b = 0; b < B; b += group) {
            const int nb = SN_MIN(group, B - b);
            const float *x = xp + (size_t)b * xs, *dz = sc.dz + (size_t)b * zs;
            for (int it = it0; it < it1; it++) {
                if (it < row_blocks * col_blocks)
                    kn->dw_block(sc.tot, filters8, x, xs, strides * C, dilation * C, C, kernel_rows, dz, zs, t_out, nb,
                                 it / col_blocks * 8, it % col_blocks * 8);
                else
                    kn->db_block(sc.tot + (size_t)kernel_rows * filters8, filters8, dz, zs, t_out, nb,
                                 (it - row_blocks * col_blocks) * 8);
            }
        }
        sn_fp_leave(fp);
    }
    for (int j = 0; j < kernel_rows; j++)
        for (int n = 0; n < filters; n++) gW[(size_t)j * filters + n] += (float)sc.tot[(size_t)j * filters8 + n];
    if (gb)
        for (int n = 0; n < filters; n++) gb[n] += (float)sc.tot[(size_t)kernel_rows * filters8 + n];
}
#endif

/* ================= GEMM path (wide layers) ================= */

/* out (rows, cols) (+)= Σ_k A_k (rows, depth) · W_k (depth, cols), A_k = A +
 * k·dilation·depth floats with row stride lda, in row blocks
 * (sn_layer_gemm_m: rows may pass INT_MAX). The K taps are K accumulated
 * GEMMs of depth `depth`: the tap rows overlap, which BLAS does not accept as
 * one (rows, K·depth) matrix, and
 * an im2col copy measured 2-2.5x slower on the seed shapes (B=256, (120,14),
 * conv1d(8, 24): 9 ms vs 23 ms forward, 1 thread). */
static void tap_gemm(size_t rows, int cols, int depth, int K, int dilation, const float *A, int lda, const float *W,
                     float beta, float *out) {
    for (int k = 0; k < K; k++)
        sn_layer_gemm_m(rows, cols, depth, 1.0f, A + (size_t)k * dilation * depth, lda, 0, W + (size_t)k * depth * cols,
                        cols, k ? 1.0f : beta, out, cols);
}

static void gemm_forward(sn_layer *L, sn_fwd *f) {
    const conv_cfg *cfg = L->cfg;
    const int B = f->B, filters = cfg->filters, C = cfg->C, K = cfg->K, rows_per_sample = cfg->rows_per_sample,
              t_out = cfg->t_out;
    const int nthreads = L->threads > 0 ? L->threads : 1;
    const float *W = L->w, *bias = cfg->use_bias ? L->w + (size_t)K * C * filters : NULL;
    conv_scratch sc;
    conv_layout(L, B, f->scratch, &sc);
    const float *xp = f->x;
    if (cfg->pad_copy) {
        conv_pad_input(cfg, B, f->x, sc.xp, nthreads);
        xp = sc.xp;
    }
    /* Virtual rows i = b·R + t; the last sample needs only its T_out rows. */
    const size_t rows = (size_t)(B - 1) * rows_per_sample + t_out;
    float *zv = rows_per_sample == t_out ? f->y : sc.zv;
    tap_gemm(rows, filters, C, K, cfg->dilation, xp, cfg->strides * C, W, 0.0f, zv);
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && (size_t)B * t_out * filters > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *y = f->y + (size_t)b * t_out * filters;
            if (zv != f->y)
                memcpy(y, zv + (size_t)b * rows_per_sample * filters, (size_t)t_out * filters * sizeof(float));
            if (bias)
                for (int t = 0; t < t_out; t++)
                    for (int j = 0; j < filters; j++) y[(size_t)t * filters + j] += bias[j];
            sn_act_forward(cfg->act, y, (size_t)t_out, (size_t)filters);
        }
        sn_fp_leave(fp);
    }
}

static void gemm_backward(sn_layer *L, sn_bwd *bw) {
    const conv_cfg *cfg = L->cfg;
    const int B = bw->B, filters = cfg->filters, C = cfg->C, K = cfg->K, rows_per_sample = cfg->rows_per_sample,
              t_out = cfg->t_out;
    const int strides = cfg->strides, dilation = cfg->dilation, T = cfg->T, pad_left = cfg->pad_left;
    const int t_up = cfg->t_padded + dilation * (K - 1);
    const int nthreads = L->threads > 0 ? L->threads : 1;
    const float *W = L->w;
    float *gW = L->g, *gb = cfg->use_bias ? L->g + (size_t)K * C * filters : NULL;
    conv_scratch sc;
    conv_layout(L, B, bw->scratch, &sc);

    /* dZ in virtual-row layout: dz = dy ⊙ act'(y) for t < T_out, 0 for the
     * rows that straddle two samples. */
    float *zv = sc.zv;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && (size_t)B * t_out * filters > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *z = zv + (size_t)b * rows_per_sample * filters;
            const size_t off = (size_t)b * t_out * filters;
            sn_act_backward(cfg->act, z, bw->y + off, bw->dy + off, (size_t)t_out, (size_t)filters);
            memset(z + (size_t)t_out * filters, 0, (size_t)(rows_per_sample - t_out) * filters * sizeof(float));
        }
        sn_fp_leave(fp);
    }
    if (gb) {
        for (int j = 0; j < filters; j++) sc.acc[j] = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < t_out; t++) {
                const float *z = zv + ((size_t)b * rows_per_sample + t) * filters;
                for (int j = 0; j < filters; j++) sc.acc[j] += z[j];
            }
        for (int j = 0; j < filters; j++) gb[j] += (float)sc.acc[j];
    }
    const size_t rows = (size_t)(B - 1) * rows_per_sample + t_out;
    /* dW[k] (C,filters) += A_k^T (C,rows) · dZ (rows,filters), A_k the strided view of xp. */
    const float *xp = bw->x;
    if (cfg->pad_copy) {
        conv_pad_input(cfg, B, bw->x, sc.xp, nthreads);
        xp = sc.xp;
    }
    for (int k = 0; k < K; k++)
        sn_layer_gemm_k(C, filters, rows, 1.0f, xp + (size_t)k * dilation * C, strides * C, zv, filters, 1.0f,
                        gW + (size_t)k * C * filters, filters);
    if (!bw->dx) return;

    /* Transposed convolution for dx. U[b, t·s + d(K−1)] = dz[b,t], zeros elsewhere. */
    float *u = sc.u;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && B > 16)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *ub = u + (size_t)b * t_up * filters;
            memset(ub, 0, (size_t)t_up * filters * sizeof(float));
            for (int t = 0; t < t_out; t++)
                memcpy(ub + ((size_t)t * strides + (size_t)dilation * (K - 1)) * filters,
                       zv + ((size_t)b * rows_per_sample + t) * filters, (size_t)filters * sizeof(float));
        }
        sn_fp_leave(fp);
    }
    conv_flip_kernel(cfg, W, sc.w2, C);
    /* dxv row i = b·T_up + j (j < T): Σ_k' U[b, pad_left + j + k'·d] · W''[k'] */
    const size_t dx_rows = (size_t)(B - 1) * t_up + T;
    tap_gemm(dx_rows, C, filters, K, dilation, u + (size_t)pad_left * filters, filters, sc.w2, 0.0f, sc.dxv);
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && (size_t)B * T * C > 32768)
    {
        sn_fp_state fp = sn_fp_enter();
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *dx = bw->dx + (size_t)b * T * C;
            const float *src = sc.dxv + (size_t)b * t_up * C;
            for (size_t i = 0; i < (size_t)T * C; i++) dx[i] += src[i];
        }
        sn_fp_leave(fp);
    }
}

static void conv_forward(sn_layer *L, sn_fwd *f) {
#if CONV_HAVE_DIRECT
    if (((const conv_cfg *)L->cfg)->direct) {
        direct_forward(L, f);
        return;
    }
#endif
    gemm_forward(L, f);
}

static void conv_backward(sn_layer *L, sn_bwd *bw) {
#if CONV_HAVE_DIRECT
    if (((const conv_cfg *)L->cfg)->direct) {
        direct_backward(L, bw);
        return;
    }
#endif
    gemm_backward(L, bw);
}

static int conv_describe(const sn_layer *L, char *buf, size_t n) {
    const conv_cfg *cfg = L->cfg;
    char extra[256] = "";
    size_t k = 0;
#define ADD(...) k += (size_t)snprintf(extra + k, sizeof extra - k, __VA_ARGS__)
    if (cfg->strides != 1) ADD(", strides=%d", cfg->strides);
    if (cfg->pad != PAD_VALID) ADD(", padding=%s", g_pad_names[cfg->pad]);
    if (cfg->dilation != 1) ADD(", dilation_rate=%d", cfg->dilation);
    if (cfg->act != SN_ACT_LINEAR) ADD(", activation=%s", sn_act_name(cfg->act));
    if (!cfg->use_bias) ADD(", use_bias=false");
    if (cfg->kernel_init != SN_INIT_GLOROT_UNIFORM) ADD(", kernel_initializer=%s", sn_init_name(cfg->kernel_init));
    if (cfg->bias_init != SN_INIT_ZEROS) ADD(", bias_initializer=%s", sn_init_name(cfg->bias_init));
#undef ADD
    return snprintf(buf, n, "conv1d(%d, %d%s)", cfg->filters, cfg->K, extra);
}

const sn_layer_ops sn_conv1d_ops = {
    .kind = "conv1d",
    .class_name = "Conv1D",
    .mask_policy = SN_MASK_DROP,
    .configure = conv_configure,
    .build = conv_build,
    .init = conv_init,
    .cache_floats = conv_cache_floats,
    .scratch_floats = conv_scratch_floats,
    .forward = conv_forward,
    .backward = conv_backward,
    .describe = conv_describe,
};
