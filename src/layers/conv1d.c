/* Conv1D (Keras `Conv1D`), channels last, cross-correlation (no flip):
 *
 *   y[b,t,f] = act( bias[f] + Σ_{k<K, c<Cin} x[b, t·s + k·d − pad_l, c] · W[k,c,f] )
 *
 *   kernel W: (K, Cin, F) row-major as Keras (torch Conv1d's weight (F,Cin,K)
 *   is its permutation); bias (F). Out-of-range x reads are zeros.
 *   valid : L_out = ⌊(L − d(K−1) − 1)/s⌋ + 1, pad_l = 0;
 *   same  : L_out = ⌈L/s⌉, P = max((L_out−1)s + d(K−1) + 1 − L, 0), pad_l = ⌊P/2⌋;
 *   causal: L_out = ⌈L/s⌉, pad_l = d(K−1).
 *   Keras rejects strides > 1 together with dilation_rate > 1; so do we.
 *   The mask is dropped (Keras Conv1D does not support masking).
 *
 * Two kernel strategies: direct register-blocked kernels for F <= 64 (the
 * seed's layers; described at "direct path" below) and, for wider layers,
 * the GEMM path:
 *
 * GEMM path ("virtual rows", no im2col copy). The input is laid out,
 * zero padded when needed, as xp (B, Lp, Cin) with Lp a multiple of s.
 * Output row i = b·R + t (R = Lp/s) then reads tap k at xp + (i·s + k·d)·Cin:
 * for each tap one GEMM over the whole batch with lda = s·Cin (K accumulated
 * GEMMs of depth Cin), the rows with t ≥ L_out being discarded (they
 * straddle two samples). Backward:
 *   dW += xp_rows^T · dZ  (same strided view, garbage rows of dZ set to 0),
 *   dx  = the transposed convolution: dz is scattered (up-sampled by s) into
 *         U (B, Lp + d(K−1), F) at t·s + d(K−1), and correlated with the
 *         flipped, transposed kernel W''[k'] = W[K−1−k']^T — the same GEMM.
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
    int filters, K, s, d;
    conv_pad pad;
    sn_act act;
    int use_bias;
    sn_init_kind kernel_init, bias_init;
    /* derived in build */
    int L, cin, lout, pad_l, lp, R, copy;
    int direct;    /* direct kernels (F <= CONV_DIRECT_MAX_F), else K accumulated GEMMs */
    int f8, cin8;  /* F and Cin rounded up to multiples of 8 (direct kernels' padded widths) */
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
    if (filters < 1 || filters > (1 << 20)) return sn_spec_error(c, "filters must be a positive integer, got %ld", filters);
    cfg->filters = (int)filters;
    if ((st = one_int(c, 1, "kernel_size", -1, &cfg->K))) {
        if (cfg->K == -1) return sn_spec_error(c, "conv1d needs kernel_size");
        return st;
    }
    if ((st = one_int(c, 2, "strides", 1, &cfg->s))) return st;
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
    if ((st = one_int(c, 5, "dilation_rate", 1, &cfg->d))) return st;
    long groups;
    if ((st = sn_arg_int(c, 6, "groups", 1, &groups))) return st;
    if (groups != 1) return sn_spec_error(c, "only groups=1 is supported, got %ld", groups);
    if ((st = sn_arg_str(c, 7, "activation", "linear", act, sizeof act))) return st;
    if (!sn_act_parse(act, &cfg->act))
        return sn_spec_error(c, "activation must be linear, relu, tanh, sigmoid or softmax, got '%s'", act);
    if ((st = sn_arg_bool(c, 8, "use_bias", 1, &cfg->use_bias))) return st;
    if ((st = parse_init(c, "kernel_initializer", "glorot_uniform", &cfg->kernel_init))) return st;
    if ((st = parse_init(c, "bias_initializer", "zeros", &cfg->bias_init))) return st;
    if (cfg->s > 1 && cfg->d > 1)
        return sn_spec_error(c, "strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
    return SN_OK;
}

static sn_status conv_build(sn_layer *L) {
    conv_cfg *cfg = L->cfg;
    char s[64];
    sn_shape_str(&L->in, s, sizeof s);
    if (L->in.rep != SN_REP_DENSE || L->in.rank != 2)
        return sn_error(SN_ERR_SHAPE, "%s: expects a dense input (None, T, C), got %s", L->name, s);
    const int Lin = L->in.d[0], cin = L->in.d[1], K = cfg->K, st = cfg->s, d = cfg->d;
    const long span = (long)d * (K - 1) + 1; /* dilated kernel extent */
    int lout, pad_l;
    if (cfg->pad == PAD_VALID) {
        if (Lin < span)
            return sn_error(SN_ERR_SHAPE, "%s: input %s is shorter than the dilated kernel (%ld steps) with padding=valid",
                            L->name, s, span);
        lout = (int)((Lin - span) / st + 1);
        pad_l = 0;
    } else {
        lout = (Lin + st - 1) / st;
        long P = (long)(lout - 1) * st + span - Lin;
        if (P < 0) P = 0;
        pad_l = cfg->pad == PAD_SAME ? (int)(P / 2) : (int)(span - 1);
    }
    if (lout < 1 || cin < 1) return sn_error(SN_ERR_SHAPE, "%s: input %s gives an empty output", L->name, s);
    /* Padded length: holds pad_l + L and every tap (L_out−1)s + d(K−1), rounded up to s. */
    long need = (long)(lout - 1) * st + span;
    if (need < (long)pad_l + Lin) need = (long)pad_l + Lin;
    long lp = (need + st - 1) / st * st;
    if (lp > (1L << 26)) return sn_error(SN_ERR_SHAPE, "%s: input %s too long", L->name, s);
    cfg->L = Lin;
    cfg->cin = cin;
    cfg->lout = lout;
    cfg->pad_l = pad_l;
    cfg->lp = (int)lp;
    cfg->R = (int)(lp / st);
    cfg->copy = pad_l != 0 || lp != Lin;
    cfg->direct = CONV_HAVE_DIRECT && cfg->filters <= CONV_DIRECT_MAX_F;
    cfg->f8 = (cfg->filters + 7) / 8 * 8;
    cfg->cin8 = (cin + 7) / 8 * 8;
    L->out.rank = 2;
    L->out.d[0] = lout;
    L->out.d[1] = cfg->filters;
    L->out.rep = SN_REP_DENSE;
    int kd[3] = {K, cin, cfg->filters};
    sn_layer_add_tensor(L, "kernel", 3, kd, 1);
    if (cfg->use_bias) sn_layer_add_tensor(L, "bias", 1, &cfg->filters, 1);
    return SN_OK;
}

static void conv_init(sn_layer *L, sn_rng *r) {
    const conv_cfg *cfg = L->cfg;
    const int K = cfg->K, cin = cfg->cin, F = cfg->filters;
    /* fan_in = K·Cin, fan_out = K·F (docs/keras-semantics.md §6). */
    sn_init_apply(cfg->kernel_init, L->w, K * cin, F, (double)K * cin, (double)K * F, r);
    if (cfg->use_bias) sn_init_apply(cfg->bias_init, L->w + (size_t)K * cin * F, 1, F, F, F, r);
}

static size_t conv_cache_floats(const sn_layer *L, int B) {
    (void)L; (void)B;
    return 0;
}

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Scratch regions (float offsets, each 64-byte aligned). */
typedef struct conv_scratch {
    float *xp;   /* (B, Lp, Cin) padded input, when cfg->copy */
    /* GEMM path */
    float *zv;   /* (B·R, F) virtual-row outputs / dZ */
    double *acc; /* (F) bias-gradient sums */
    float *dxv;  /* (B·LU, Cin) */
    /* both: u (B, LU, F) up-sampled dz; w2 flipped, transposed kernel (K, F, Cin) for
     * the GEMM path, (K, F, Cin8) with zero columns Cin..Cin8 for the direct one */
    float *u, *w2;
    /* direct path */
    float *wp;   /* (K·Cin, F8) kernel with zero columns F..F8 */
    float *bp;   /* (F8) bias, zero padded */
    float *dz;   /* (B, L_out, F8) dz = dy ⊙ act'(y), zero columns F..F8 */
    double *tot; /* (K·Cin + 1, F8) dW sums in double; the last row is the bias gradient */
} conv_scratch;

static size_t conv_layout(const sn_layer *L, int B, float *base, conv_scratch *o) {
    const conv_cfg *cfg = L->cfg;
    const size_t F = (size_t)cfg->filters, cin = (size_t)cfg->cin, K = (size_t)cfg->K;
    const size_t F8 = (size_t)cfg->f8, cin8 = (size_t)cfg->cin8;
    const size_t lu = (size_t)cfg->lp + (size_t)cfg->d * (K - 1);
    size_t off = 0;
#define TAKE(field, type, count)                                     \
    do {                                                             \
        if (o) o->field = (type *)(base + off);                      \
        off += up16(count);                                          \
    } while (0)
    TAKE(xp, float, cfg->copy ? (size_t)B * cfg->lp * cin : 0);
    TAKE(u, float, (size_t)B * lu * F);
    if (cfg->direct) {
        TAKE(w2, float, K * F * cin8);
        TAKE(wp, float, K * cin * F8);
        TAKE(bp, float, F8);
        TAKE(dz, float, (size_t)B * cfg->lout * F8);
        TAKE(tot, double, 2 * (K * cin + 1) * F8);
    } else {
        TAKE(w2, float, K * F * cin);
        TAKE(zv, float, (size_t)B * cfg->R * F);
        TAKE(acc, double, 2 * F);
        TAKE(dxv, float, (size_t)B * lu * cin);
    }
#undef TAKE
    return off;
}

static size_t conv_scratch_floats(const sn_layer *L, int B) { return conv_layout(L, B, NULL, NULL); }

/* Zero-padded copy of x into xp (B, Lp, Cin): x[b, j] → xp[b, pad_l + j]. */
static void conv_pad_input(const conv_cfg *cfg, int B, const float *x, float *xp, int nt) {
    const size_t cin = (size_t)cfg->cin, lp = (size_t)cfg->lp, Lin = (size_t)cfg->L, pl = (size_t)cfg->pad_l;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && B > 16)
    for (int b = 0; b < B; b++) {
        float *dst = xp + (size_t)b * lp * cin;
        memset(dst, 0, pl * cin * sizeof(float));
        memcpy(dst + pl * cin, x + (size_t)b * Lin * cin, Lin * cin * sizeof(float));
        memset(dst + (pl + Lin) * cin, 0, (lp - pl - Lin) * cin * sizeof(float));
    }
}

/* W''[k'][f][c] = W[K−1−k'][c][f] (K, F, ld) with zero columns cin..ld: the
 * kernel of the transposed convolution that gives dx. */
static void conv_flip_kernel(const conv_cfg *cfg, const float *W, float *w2, int ld) {
    const int K = cfg->K, cin = cfg->cin, F = cfg->filters;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < F; j++) {
            float *row = w2 + ((size_t)(K - 1 - k) * F + j) * ld;
            for (int c = 0; c < cin; c++) row[c] = W[((size_t)k * cin + c) * F + j];
            for (int c = cin; c < ld; c++) row[c] = 0.0f;
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
    const int B = f->B, F = cfg->filters, F8 = cfg->f8, cin = cfg->cin, K = cfg->K, lout = cfg->lout;
    const int s = cfg->s, d = cfg->d, lp = cfg->lp;
    const int nt = L->threads > 0 ? L->threads : 1;
    const conv_kernels *kn = sn_conv_kernels_get();
    conv_scratch sc;
    conv_layout(L, B, f->scratch, &sc);
    /* kernel and bias padded to F8 columns (used as is when F = F8) */
    const float *wp = L->w, *bias = NULL;
    if (F8 != F) {
        for (int j = 0; j < K * cin; j++)
            for (int n = 0; n < F8; n++) sc.wp[(size_t)j * F8 + n] = n < F ? L->w[(size_t)j * F + n] : 0.0f;
        wp = sc.wp;
    }
    if (cfg->use_bias) {
        for (int n = 0; n < F8; n++) sc.bp[n] = n < F ? L->w[(size_t)K * cin * F + n] : 0.0f;
        bias = sc.bp;
    }
    const float *xp = f->x;
    if (cfg->copy) {
        conv_pad_input(cfg, B, f->x, sc.xp, nt);
        xp = sc.xp;
    }
    /* d = 1: the K taps of a row are K·Cin consecutive floats, one loop */
    const int Kl = d == 1 ? 1 : K, Cl = d == 1 ? K * cin : cin;
    const long work = (long)B * lout * F8 * K * cin;
    /* relu and linear are applied in the kernel's store */
    const int relu = cfg->act == SN_ACT_RELU, fused = relu || cfg->act == SN_ACT_LINEAR;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && work >= CONV_PAR_WORK)
    for (int b = 0; b < B; b++) {
        float *y = f->y + (size_t)b * lout * F;
        kn->direct(y, F, F, xp + (size_t)b * lp * cin, s * cin, d * cin, Cl, Kl, wp, bias, 0, relu, lout);
        if (!fused) sn_act_forward(cfg->act, y, (size_t)lout, (size_t)F);
    }
}

static void direct_backward(sn_layer *L, sn_bwd *bw) {
    const conv_cfg *cfg = L->cfg;
    const int B = bw->B, F = cfg->filters, F8 = cfg->f8, cin = cfg->cin, cin8 = cfg->cin8, K = cfg->K;
    const int lout = cfg->lout, s = cfg->s, d = cfg->d, Lin = cfg->L, pl = cfg->pad_l, lp = cfg->lp;
    const int lu = lp + d * (K - 1), J = K * cin, nJ = (J + 7) / 8, nN = F8 / 8;
    const int nt = L->threads > 0 ? L->threads : 1;
    float *gW = L->g, *gb = cfg->use_bias ? L->g + (size_t)J * F : NULL;
    const conv_kernels *kn = sn_conv_kernels_get();
    conv_scratch sc;
    conv_layout(L, B, bw->scratch, &sc);
    const float *xp = bw->x;
    if (cfg->copy) {
        conv_pad_input(cfg, B, bw->x, sc.xp, nt);
        xp = sc.xp;
    }
    if (bw->dx) conv_flip_kernel(cfg, L->w, sc.w2, cin8);
    memset(sc.tot, 0, (size_t)(J + 1) * F8 * sizeof(double));
    /* work items of the dW reduction: (8-row block of J) × (8-column block), then the bias columns */
    const int n_items = nJ * nN + (gb ? nN : 0);
    const int Kl = d == 1 ? 1 : K, Fl = d == 1 ? K * F : F; /* dx: taps of U rows, as in forward */
    const long work = (long)B * lout * F8 * J * (bw->dx ? 2 : 1);
    const int relu = cfg->act == SN_ACT_RELU, fused = relu || cfg->act == SN_ACT_LINEAR;
#pragma omp parallel num_threads(nt) if (nt > 1 && work >= CONV_PAR_WORK)
    {
        /* dz = dy ⊙ act'(y) in (L_out, F8) rows, then dx of each sample */
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            float *dz = sc.dz + (size_t)b * lout * F8;
            const size_t off = (size_t)b * lout * F;
            if (fused) {
                kn->dz_relu(dz, F8, bw->y + off, bw->dy + off, lout, F, relu);
            } else if (F8 == F) {
                sn_act_backward(cfg->act, dz, bw->y + off, bw->dy + off, (size_t)lout, (size_t)F);
            } else {
                for (int t = 0; t < lout; t++) {
                    float *row = dz + (size_t)t * F8;
                    sn_act_backward(cfg->act, row, bw->y + off + (size_t)t * F, bw->dy + off + (size_t)t * F, 1,
                                    (size_t)F);
                    for (int n = F; n < F8; n++) row[n] = 0.0f;
                }
            }
            if (bw->dx) {
                /* U[t·s + d(K−1)] = dz[t], zeros elsewhere; dx[i] += Σ_k' U[pad_l + i + k'd] · W''[k'] */
                float *u = sc.u + (size_t)b * lu * F;
                memset(u, 0, (size_t)lu * F * sizeof(float));
                for (int t = 0; t < lout; t++)
                    memcpy(u + ((size_t)t * s + (size_t)d * (K - 1)) * F, dz + (size_t)t * F8, (size_t)F * sizeof(float));
                kn->direct(bw->dx + (size_t)b * Lin * cin, cin, cin, u + (size_t)pl * F, F, d * F, Fl, Kl, sc.w2,
                            NULL, 1, 0, Lin);
            }
        }
        /* dW: every thread takes a fixed range of items and runs the batch in
         * order, in groups of G samples (G from the shape only) whose float
         * partial sums (<= ~256 terms) go into the double totals */
        int tid = 0, nth = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        const int it0 = (int)((long)n_items * tid / nth), it1 = (int)((long)n_items * (tid + 1) / nth);
        const int G = SN_MAX(1, 192 / lout);
        const size_t xs = (size_t)lp * cin, zs = (size_t)lout * F8;
        for (int b = 0; b < B; b += G) {
            const int nb = SN_MIN(G, B - b);
            const float *x = xp + (size_t)b * xs, *dz = sc.dz + (size_t)b * zs;
            for (int it = it0; it < it1; it++) {
                if (it < nJ * nN)
                    kn->dw_block(sc.tot, F8, x, xs, s * cin, d * cin, cin, J, dz, zs, lout, nb, it / nN * 8,
                                  it % nN * 8);
                else
                    kn->db_block(sc.tot + (size_t)J * F8, F8, dz, zs, lout, nb, (it - nJ * nN) * 8);
            }
        }
    }
    for (int j = 0; j < J; j++)
        for (int n = 0; n < F; n++) gW[(size_t)j * F + n] += (float)sc.tot[(size_t)j * F8 + n];
    if (gb)
        for (int n = 0; n < F; n++) gb[n] += (float)sc.tot[(size_t)J * F8 + n];
}
#endif

/* ================= GEMM path (wide layers) ================= */

/* out (M, N) (+)= Σ_k A_k (M, Ck) · W_k (Ck, N), A_k = A + k·dil·Ck floats
 * with row stride lda. The K taps are K accumulated GEMMs of depth Ck: the
 * tap rows overlap, which BLAS does not accept as one (M, K·Ck) matrix, and
 * an im2col copy measured 2-2.5x slower on the seed shapes (B=256, (120,14),
 * conv1d(8, 24): 9 ms vs 23 ms forward, 1 thread). */
static void tap_gemm(int M, int N, int Ck, int K, int dil, const float *A, int lda, const float *W, float beta,
                     float *out) {
    for (int k = 0; k < K; k++)
        sn_gemm(0, 0, M, N, Ck, 1.0f, A + (size_t)k * dil * Ck, lda, W + (size_t)k * Ck * N, N, k ? 1.0f : beta, out, N);
}

static void gemm_forward(sn_layer *L, sn_fwd *f) {
    const conv_cfg *cfg = L->cfg;
    const int B = f->B, F = cfg->filters, cin = cfg->cin, K = cfg->K, R = cfg->R, lout = cfg->lout;
    const int nt = L->threads > 0 ? L->threads : 1;
    const float *W = L->w, *bias = cfg->use_bias ? L->w + (size_t)K * cin * F : NULL;
    conv_scratch sc;
    conv_layout(L, B, f->scratch, &sc);
    const float *xp = f->x;
    if (cfg->copy) {
        conv_pad_input(cfg, B, f->x, sc.xp, nt);
        xp = sc.xp;
    }
    /* Virtual rows i = b·R + t; the last sample needs only its L_out rows. */
    const int M = (B - 1) * R + lout;
    float *zv = R == lout ? f->y : sc.zv;
    tap_gemm(M, F, cin, K, cfg->d, xp, cfg->s * cin, W, 0.0f, zv);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && (size_t)B * lout * F > 32768)
    for (int b = 0; b < B; b++) {
        float *y = f->y + (size_t)b * lout * F;
        if (zv != f->y) memcpy(y, zv + (size_t)b * R * F, (size_t)lout * F * sizeof(float));
        if (bias)
            for (int t = 0; t < lout; t++)
                for (int j = 0; j < F; j++) y[(size_t)t * F + j] += bias[j];
        sn_act_forward(cfg->act, y, (size_t)lout, (size_t)F);
    }
}

static void gemm_backward(sn_layer *L, sn_bwd *bw) {
    const conv_cfg *cfg = L->cfg;
    const int B = bw->B, F = cfg->filters, cin = cfg->cin, K = cfg->K, R = cfg->R, lout = cfg->lout;
    const int s = cfg->s, d = cfg->d, Lin = cfg->L, pl = cfg->pad_l;
    const int lu = cfg->lp + d * (K - 1);
    const int nt = L->threads > 0 ? L->threads : 1;
    const float *W = L->w;
    float *gW = L->g, *gb = cfg->use_bias ? L->g + (size_t)K * cin * F : NULL;
    conv_scratch sc;
    conv_layout(L, B, bw->scratch, &sc);

    /* dZ in virtual-row layout: dz = dy ⊙ act'(y) for t < L_out, 0 for the
     * rows that straddle two samples. */
    float *zv = sc.zv;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && (size_t)B * lout * F > 32768)
    for (int b = 0; b < B; b++) {
        float *z = zv + (size_t)b * R * F;
        const size_t off = (size_t)b * lout * F;
        sn_act_backward(cfg->act, z, bw->y + off, bw->dy + off, (size_t)lout, (size_t)F);
        memset(z + (size_t)lout * F, 0, (size_t)(R - lout) * F * sizeof(float));
    }
    if (gb) {
        for (int j = 0; j < F; j++) sc.acc[j] = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < lout; t++) {
                const float *z = zv + ((size_t)b * R + t) * F;
                for (int j = 0; j < F; j++) sc.acc[j] += z[j];
            }
        for (int j = 0; j < F; j++) gb[j] += (float)sc.acc[j];
    }
    const int M = (B - 1) * R + lout;
    /* dW[k] (Cin,F) += A_k^T (Cin,M) · dZ (M,F), A_k the strided view of xp. */
    const float *xp = bw->x;
    if (cfg->copy) {
        conv_pad_input(cfg, B, bw->x, sc.xp, nt);
        xp = sc.xp;
    }
    for (int k = 0; k < K; k++)
        sn_gemm(1, 0, cin, F, M, 1.0f, xp + (size_t)k * d * cin, s * cin, zv, F, 1.0f, gW + (size_t)k * cin * F, F);
    if (!bw->dx) return;

    /* Transposed convolution for dx. U[b, t·s + d(K−1)] = dz[b,t], zeros elsewhere. */
    float *u = sc.u;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && B > 16)
    for (int b = 0; b < B; b++) {
        float *ub = u + (size_t)b * lu * F;
        memset(ub, 0, (size_t)lu * F * sizeof(float));
        for (int t = 0; t < lout; t++)
            memcpy(ub + ((size_t)t * s + (size_t)d * (K - 1)) * F, zv + ((size_t)b * R + t) * F, (size_t)F * sizeof(float));
    }
    conv_flip_kernel(cfg, W, sc.w2, cin);
    /* dxv row i = b·LU + j (j < L): Σ_k' U[b, pad_l + j + k'·d] · W''[k'] */
    const int M2 = (B - 1) * lu + Lin;
    tap_gemm(M2, cin, F, K, d, u + (size_t)pl * F, F, sc.w2, 0.0f, sc.dxv);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && (size_t)B * Lin * cin > 32768)
    for (int b = 0; b < B; b++) {
        float *dx = bw->dx + (size_t)b * Lin * cin;
        const float *src = sc.dxv + (size_t)b * lu * cin;
        for (size_t i = 0; i < (size_t)Lin * cin; i++) dx[i] += src[i];
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
    if (cfg->s != 1) ADD(", strides=%d", cfg->s);
    if (cfg->pad != PAD_VALID) ADD(", padding=%s", g_pad_names[cfg->pad]);
    if (cfg->d != 1) ADD(", dilation_rate=%d", cfg->d);
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
