/* SimpleRNN, LSTM and GRU layers: Keras 3 semantics (docs/keras-semantics.md §1-§3),
 * hand-written forward / backward over raw floats.
 *
 * Equations (row vectors, ⊙ elementwise, σ = recurrent_activation, φ = activation):
 *   SimpleRNN  h_t = φ(x W + b + h_{t-1} U)
 *   LSTM       z = x W + h_{t-1} U + b, blocks i,f,c,o;  c_t = σ(z_f)⊙c_{t-1} + σ(z_i)⊙φ(z_c);
 *              h_t = σ(z_o)⊙φ(c_t)
 *   GRU        blocks z,r,h; reset_after=true:  ĥ = φ(xW_h + b^x_h + r⊙(h U_h + b^h_h))
 *                            reset_after=false: ĥ = φ(xW_h + b_h + (r⊙h) U_h)
 *              h_t = z⊙h_{t-1} + (1-z)⊙ĥ
 *
 * Speed layout (all caches time-major, k = processing step, so go_backwards
 * only changes which input row step k reads):
 *   1. the input projection is a GEMM (rows, C)x(C, G*H) into `gt` (T,B,G*H)
 *      per chunk of whole steps (rnn_step_chunk: ~1024 rows), chunks spread
 *      over threads (a row gather W[id] for SN_REP_IDS inputs, done in the
 *      step); with per-gate input masks it is done in the row kernel instead
 *      (rnn_xin: one masked copy of x per gate would be needed otherwise);
 *   2. the time loop: the batch is cut into fixed chunks of RNN_ROWS rows and
 *      one thread runs the WHOLE sequence of a chunk (rows of a recurrent
 *      layer are independent over time): no barrier or fork per step, and
 *      the chunking does not depend on the thread count. Per row and step,
 *      the recurrent product h_{t-1}U by a register-blocked kernel that
 *      advances all gate blocks together (gate_matvec), then the gate
 *      arithmetic (vectorized exp/sigmoid/tanh; for LSTM run over the
 *      chunk's rows after all their products, which keeps more independent
 *      work in flight: +15 %); the activations overwrite the
 *      pre-activations in `gt`. glibc tanhf/expf instead of the inline
 *      versions cost 5x;
 *   3. backward walks the steps in reverse with the same chunks, turning
 *      the activations in `gt` into pre-activation gradients dZ in place
 *      (vectorized elementwise loops) and carrying dh_{t-1} = dZ U^T
 *      (gate_matvec_t) per row;
 *   4. dW = X^T dZ, dU = Hprev^T dZ, db and dX = dZ W^T per chunk of whole
 *      steps again, threads taking chunks; each chunk writes its own partial
 *      dW / dU / db, summed afterwards in chunk order.
 * Inference (training == 0, rnn_forward_lean) runs the same arithmetic but
 * keeps only live values: per chunk of steps the input GEMM (same shapes as
 * in training) into a chunk-sized gt, then the time loop over those steps;
 * h / c in a 2-step ring; LSTM gates fused into one pass (lstm_lean_elem).
 * Its output is bit-identical to the training forward (test_rnn.c, memcmp);
 * a backward after it recomputes the caches with the training forward.
 * Every row is computed by one thread with a fixed operation order and the
 * gradient partials are reduced in a fixed order, so the results do not
 * depend on the thread count (tests/test_rnn.c checks 1 vs 2).
 * Measured with bench/bench_rnn.c (LSTM(16), B=256, T=120, C=14, 1 thread,
 * Zen3): ~11 ms per fwd+bwd step, of which ~28 % the GEMMs of 1 and 4
 * (OpenBLAS runs them near the FMA peak), ~45 % the row kernels (the
 * activations are most of it; ISO C mode forms no FMA).
 *
 * Dropout (Keras): masks drawn once per forward call from the model RNG (or
 * the layer's own `seed` stream), (B,C) for x and (B,H) for h, values 0 or
 * 1/(1-p), reused at every step and kept in the cache. recurrent_dropout > 0
 * selects Keras implementation 1: one independent mask per gate for x (if
 * dropout > 0) and for h. The per-gate h masks cost nothing extra in the
 * loop: the row kernel multiplies h by the gate's mask while it streams U's
 * block. The per-gate x masks: (x ⊙ m_g) W_g and dx += Σ_g (dZ_g W_g^T) ⊙ m_g
 * are row-kernel products (no cached masked copies); dW_g and dU_g use
 * masked copies built per chunk of steps.
 *
 * Masking (B,T): at a masked step the states are carried and the output is
 * the previous output (= carried h; zeros before the first valid step), or 0
 * with zero_output_for_mask (set by Bidirectional when return_sequences).
 */
#if defined(__GNUC__) && !defined(__clang__)
/* Lets GCC if-convert the selects in the activation loops so they vectorize.
 * It only drops the guarantee about floating-point exception flags; the
 * computed values are the same IEEE results. */
#pragma GCC optimize("no-trapping-math")
#endif
#include "layers/rnn/rnn.h"

#include <math.h>
#include <string.h>

/* ---- configuration ---- */

static const char *rnn_kind_name(sn_rnn_kind k) { return k == SN_RNN_LSTM ? "lstm" : k == SN_RNN_GRU ? "gru" : "simplernn"; }

static sn_status parse_act(const sn_spec_call *c, const char *key, const char *def, sn_act *out) {
    char s[64];
    sn_status st = sn_arg_str(c, -1, key, def, s, sizeof s);
    if (st) return st;
    if (!sn_act_parse(s, out) || *out == SN_ACT_SOFTMAX)
        return sn_spec_error(c, "%s must be tanh, sigmoid, relu or linear, got '%s'", key, s);
    return SN_OK;
}

static sn_status parse_init(const sn_spec_call *c, const char *key, const char *def, sn_init_kind *out) {
    char s[64];
    sn_status st = sn_arg_str(c, -1, key, def, s, sizeof s);
    if (st) return st;
    if (!sn_init_parse(s, out))
        return sn_spec_error(c, "%s: unknown initializer '%s' (glorot_uniform, he_uniform, orthogonal, zeros, ones, uniform)", key, s);
    return SN_OK;
}

static sn_status parse_rate(const sn_spec_call *c, const char *key, double *out) {
    sn_status st = sn_arg_float(c, -1, key, 0.0, out);
    if (st) return st;
    if (!(*out >= 0.0 && *out <= 1.0)) return sn_spec_error(c, "%s must be in [0, 1], got %g", key, *out);
    return SN_OK;
}

static sn_status rnn_configure_kind(sn_layer *L, const sn_spec_call *c, sn_rnn_kind kind) {
    sn_rnn_cfg *cf = sn_calloc(1, sizeof *cf);
    if (!cf) return SN_ERR_NOMEM;
    L->cfg = cf;
    cf->kind = kind;
    long units = 0;
    sn_status st;
    if ((st = sn_arg_int(c, 0, "units", 0, &units))) return st;
    if (units <= 0 || units > 65536) return sn_spec_error(c, "units must be in [1, 65536], got %ld", units);
    cf->units = (int)units;
    if ((st = parse_act(c, "activation", "tanh", &cf->act))) return st;
    if ((st = parse_act(c, "recurrent_activation", "sigmoid", &cf->ract))) return st;
    if ((st = sn_arg_bool(c, -1, "use_bias", 1, &cf->use_bias))) return st;
    if ((st = parse_init(c, "kernel_initializer", "glorot_uniform", &cf->kinit))) return st;
    if ((st = parse_init(c, "recurrent_initializer", "orthogonal", &cf->rinit))) return st;
    if ((st = parse_init(c, "bias_initializer", "zeros", &cf->binit))) return st;
    cf->unit_forget_bias = 0;
    if (kind == SN_RNN_LSTM && (st = sn_arg_bool(c, -1, "unit_forget_bias", 1, &cf->unit_forget_bias))) return st;
    cf->reset_after = 0;
    if (kind == SN_RNN_GRU && (st = sn_arg_bool(c, -1, "reset_after", 1, &cf->reset_after))) return st;
    if ((st = sn_arg_bool(c, -1, "return_sequences", 0, &cf->return_sequences))) return st;
    if ((st = sn_arg_bool(c, -1, "return_state", 0, &cf->return_state))) return st;
    if (cf->return_state)
        return sn_spec_error(c, "return_state=true is not supported: in a Sequential model only the output "
                                "continues (final states are readable through sn_rnn_final_states)");
    if ((st = sn_arg_bool(c, -1, "go_backwards", 0, &cf->go_backwards))) return st;
    if ((st = sn_arg_bool(c, -1, "unroll", 0, &cf->unroll))) return st;
    if ((st = parse_rate(c, "dropout", &cf->dropout))) return st;
    if ((st = parse_rate(c, "recurrent_dropout", &cf->rdropout))) return st;
    if ((st = sn_arg_int(c, -1, "seed", -1, &cf->seed))) return st;
    if (cf->seed < -1) return sn_spec_error(c, "seed must be >= 0, got %ld", cf->seed);
    if (cf->seed >= 0) sn_rng_seed(&cf->seed_rng, (uint64_t)cf->seed);
    cf->G = kind == SN_RNN_LSTM ? 4 : kind == SN_RNN_GRU ? 3 : 1;
    return SN_OK;
}

static sn_status simplernn_configure(sn_layer *L, const sn_spec_call *c) { return rnn_configure_kind(L, c, SN_RNN_SIMPLE); }
static sn_status lstm_configure(sn_layer *L, const sn_spec_call *c) { return rnn_configure_kind(L, c, SN_RNN_LSTM); }
static sn_status gru_configure(sn_layer *L, const sn_spec_call *c) { return rnn_configure_kind(L, c, SN_RNN_GRU); }

int sn_rnn_is_recurrent(const sn_layer *L) {
    return L && (L->ops == &sn_simplernn_ops || L->ops == &sn_lstm_ops || L->ops == &sn_gru_ops);
}

static sn_status rnn_build(sn_layer *L) {
    sn_rnn_cfg *cf = L->cfg;
    char b[64];
    if (L->in.rank != 2 || L->in.rep == SN_REP_SPARSE || L->in.d[0] <= 0 || L->in.d[1] <= 0) {
        sn_shape_str(&L->in, b, sizeof b);
        return sn_error(SN_ERR_SHAPE, "%s: expects a sequence input (None, T, C), got %s", L->name, b);
    }
    cf->T = L->in.d[0];
    cf->C = L->in.d[1];
    cf->ids = L->in.rep == SN_REP_IDS;
    int H = cf->units, nH = cf->G * H;
    if ((double)cf->C * nH > 1e9 || (double)H * nH > 1e9)
        return sn_error(SN_ERR_SHAPE, "%s: kernel (%d, %d) is too large", L->name, cf->C, nH);
    int dk[2] = {cf->C, nH}, dr[2] = {H, nH};
    cf->off_k = sn_layer_add_tensor(L, "kernel", 2, dk, L->trainable);
    cf->off_r = sn_layer_add_tensor(L, "recurrent_kernel", 2, dr, L->trainable);
    if (cf->use_bias) {
        if (cf->kind == SN_RNN_GRU && cf->reset_after) {
            int db[2] = {2, nH};
            cf->off_b = sn_layer_add_tensor(L, "bias", 2, db, L->trainable);
        } else {
            int db[1] = {nH};
            cf->off_b = sn_layer_add_tensor(L, "bias", 1, db, L->trainable);
        }
    }
    L->out.rep = SN_REP_DENSE;
    if (cf->return_sequences) {
        L->out.rank = 2;
        L->out.d[0] = cf->T;
        L->out.d[1] = H;
    } else {
        L->out.rank = 1;
        L->out.d[0] = H;
    }
    return SN_OK;
}

static void rnn_init(sn_layer *L, sn_rng *r) {
    sn_rnn_cfg *cf = L->cfg;
    int H = cf->units, nH = cf->G * H;
    /* Keras fans: kernel (C, nH) → fan_in C, fan_out nH (§6). */
    SN_ASSERT(sn_init_apply(cf->kinit, L->w + cf->off_k, cf->C, nH, cf->C, nH, r) == SN_OK);
    SN_ASSERT(sn_init_apply(cf->rinit, L->w + cf->off_r, H, nH, H, nH, r) == SN_OK);
    if (!cf->use_bias) return;
    float *b = L->w + cf->off_b;
    if (cf->kind == SN_RNN_LSTM && cf->unit_forget_bias) {
        /* [init(H), ones(H), init(2H)] */
        SN_ASSERT(sn_init_apply(cf->binit, b, 1, H, H, H, r) == SN_OK);
        sn_init_const(b + H, (size_t)H, 1.0f);
        SN_ASSERT(sn_init_apply(cf->binit, b + 2 * H, 1, 2 * H, 2 * H, 2 * H, r) == SN_OK);
    } else if (cf->kind == SN_RNN_GRU && cf->reset_after) {
        SN_ASSERT(sn_init_apply(cf->binit, b, 2, nH, 2, nH, r) == SN_OK);
    } else {
        SN_ASSERT(sn_init_apply(cf->binit, b, 1, nH, nH, nH, r) == SN_OK);
    }
}

/* ---- cache / scratch layout ---- */

typedef struct rnn_lay {
    size_t xd, mx, mh, hs, cs, tc, gt, q, total; /* cache offsets (floats) */
    int gx, gh;                                  /* mask counts */
} rnn_lay;

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Cache: header(16) | xd (T,B,C) dropped input, time-major (dense input, one mask only)
 * | mx (gx,B,C) | mh (gh,B,H) | hs (T+1,B,H) h_{k-1} | cs (T+1,B,H) LSTM c
 * | tc (T,B,H) LSTM φ(c_k) | gt (T,B,G*H) acts → dZ | q (T,B,H) GRU. */
static rnn_lay rnn_layout(const sn_rnn_cfg *cf, int B) {
    rnn_lay l;
    size_t T = (size_t)cf->T, C = (size_t)cf->C, H = (size_t)cf->units, nH = (size_t)cf->G * H, Bz = (size_t)B;
    l.gx = (cf->dropout > 0 && cf->rdropout > 0 && cf->kind != SN_RNN_SIMPLE) ? cf->G : 1;
    l.gh = cf->kind == SN_RNN_SIMPLE ? 1 : cf->G;
    size_t o = 16;
    l.xd = o; o += cf->ids ? 0 : up16(T * Bz * C);
    l.mx = o; o += cf->dropout > 0 ? up16((size_t)l.gx * Bz * C) : 0;
    l.mh = o; o += cf->rdropout > 0 ? up16((size_t)l.gh * Bz * H) : 0;
    l.hs = o; o += up16((T + 1) * Bz * H);
    l.cs = o; o += cf->kind == SN_RNN_LSTM ? up16((T + 1) * Bz * H) : 0;
    l.tc = o; o += cf->kind == SN_RNN_LSTM ? up16(T * Bz * H) : 0;
    l.gt = o; o += up16(T * Bz * nH);
    l.q = o; o += cf->kind == SN_RNN_GRU ? up16(T * Bz * H) : 0;
    l.total = o;
    return l;
}

static size_t rnn_cache_floats(const sn_layer *L, int B) { return rnn_layout(L->cfg, B).total; }

/* Steps per chunk of the GEMMs around the time loop: ~1024 rows (B per
 * step) keep a chunk's dZ in cache, and chunks are the unit of threading.
 * Depends on B only, never on the thread count. */
static int rnn_step_chunk(int B) { return SN_MAX(1, 1024 / B); }

/* Scratch: R (B,G*H) GRU recurrent part | HD (B,G*H) h ⊙ m_g per row | Ut (G*H,H) U transposed | DH, DC,
 * AUX, AUX2 (B,H) | th (nkc*kc*B*H) h ⊙ m_g | tx (nkc*kc*B*C) dZ W^T or x ⊙ m_g | with per-gate input
 * masks: xm (B,G*C) x ⊙ m_g per row, wt (G*H,Cp) W^T padded, mxp (G,B,Cp) padded masks, dxr (B,Cp)
 * dX row | part (nkc, pz) per-chunk
 * weight-gradient partials: dW (C,G*H) (dense input only), dU (H,G*H), db (2,G*H). */
typedef struct rnn_sl { size_t r, hd, ut, dh, dc, aux, aux2, th, tx, xm, wt, mxp, dxr, part, pz, pu, pb, total; } rnn_sl;

/* Input projection and dX in the row kernels instead of GEMMs around the
 * loop: with per-gate input masks (gx > 1), where the GEMMs would need one
 * masked copy of x per gate. Dense inputs only. (Also doing it for narrow
 * unmasked inputs, C <= 32, was measured slower: LSTM(16), C=14, B=256,
 * T=120, 1 thread, 24k vs 26k samples/s; the code handles gx = 1.) */
static int rnn_xin(const sn_rnn_cfg *cf, int gx) { return !cf->ids && gx > 1; }

/* C rounded up to 8: row length of the padded W^T, masks and dX rows. */
static int rnn_cpad(int C) { return (C + 7) & ~7; }
static rnn_sl rnn_scratch_layout(const sn_rnn_cfg *cf, int B) {
    rnn_sl s;
    size_t T = (size_t)cf->T, H = (size_t)cf->units, nH = (size_t)cf->G * H, Bz = (size_t)B;
    size_t kc = (size_t)rnn_step_chunk(B), nkc = (T + kc - 1) / kc, rows = nkc * kc * Bz;
    size_t Cd = cf->ids ? 0 : (size_t)cf->C;
    size_t o = 0;
    s.r = o; o += up16(Bz * nH);
    s.hd = o; o += up16(Bz * nH);
    s.ut = o; o += up16(nH * H);
    s.dh = o; o += up16(Bz * H);
    s.dc = o; o += up16(Bz * H);
    s.aux = o; o += up16(Bz * H);
    s.aux2 = o; o += up16(Bz * H);
    s.th = o; o += up16(rows * H);
    s.tx = o; o += up16(rows * Cd);
    size_t Cp = cf->ids ? 0 : (size_t)rnn_cpad(cf->C), G = (size_t)cf->G;
    s.xm = o; o += up16(Bz * G * Cd);
    s.wt = o; o += up16(nH * Cp);
    s.mxp = o; o += up16(G * Bz * Cp);
    s.dxr = o; o += up16(Bz * Cp);
    s.pu = Cd * nH;          /* within a partial: dW at 0, dU at pu, db at pb */
    s.pb = s.pu + H * nH;
    s.pz = up16(s.pb + 2 * nH);
    s.part = o; o += nkc * s.pz;
    s.total = o;
    return s;
}

static size_t rnn_scratch_floats(const sn_layer *L, int B) { return rnn_scratch_layout(L->cfg, B).total; }

/* ---- elementwise pieces ---- */

/* Forced inlining: the helpers must be compiled inside each target clone of
 * the row kernels (AVX-512 / AVX2 / default), not called as separate SSE functions. */
#if defined(__GNUC__)
#define SN_INLINE static inline __attribute__((always_inline))
#else
#define SN_INLINE static inline
#endif

/* exp, sigmoid and tanh written as branch-free inline code so the gate
 * loops vectorize (glibc's tanhf/expf are scalar calls and took 60 % of an
 * LSTM(16) step). exp: Cephes range reduction x = n ln2 + r (two-part ln2),
 * degree-6 polynomial, 2^n through the exponent bits; max error ~1 ulp on
 * [-87, 88] (inputs are clamped there). No FMA contraction in ISO C mode, so
 * the results do not depend on vector width or thread count. The PyTorch
 * fixtures (1e-5 relative) pass with these. */
SN_INLINE float fast_expf(float x) {
    x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    union { int32_t i; float f; } u;
    u.i = ((int32_t)n + 127) << 23; /* n in [-126, 127] after the clamp */
    return e * u.f;
}

SN_INLINE float sigm(float x) { return 1.0f / (1.0f + fast_expf(-x)); }

/* tanh: odd Taylor polynomial to x^13 for |x| < 0.25 (truncation < 1e-10
 * relative), else 1 - 2/(e^{2|x|} + 1) (cancellation costs <= 4 ulp there). */
SN_INLINE float fast_tanhf(float x) {
    float ax = x < 0 ? -x : x;
    float x2 = x * x;
    float p = 21844.0f / 6081075.0f;
    p = p * x2 - 1382.0f / 155925.0f;
    p = p * x2 + 62.0f / 2835.0f;
    p = p * x2 - 17.0f / 315.0f;
    p = p * x2 + 2.0f / 15.0f;
    p = p * x2 - 1.0f / 3.0f;
    float small = x + x * x2 * p;
    float big = 1.0f - 2.0f / (fast_expf(2.0f * (ax > 20.0f ? 20.0f : ax)) + 1.0f);
    big = x < 0 ? -big : big;
    return ax < 0.25f ? small : big;
}

/* v[j] = act(v[j]) for j < n, one vectorized pass per activation kind. */
SN_INLINE void act_vec(sn_act a, float *restrict v, int n) {
    switch (a) {
    case SN_ACT_TANH:
#pragma omp simd
        for (int j = 0; j < n; j++) v[j] = fast_tanhf(v[j]);
        return;
    case SN_ACT_SIGMOID:
#pragma omp simd
        for (int j = 0; j < n; j++) v[j] = sigm(v[j]);
        return;
    case SN_ACT_RELU:
#pragma omp simd
        for (int j = 0; j < n; j++) v[j] = v[j] > 0 ? v[j] : 0.0f;
        return;
    default: return;
    }
}

/* Derivative of the activation expressed through its output y. */
SN_INLINE float act_d(sn_act a, float y) {
    switch (a) {
    case SN_ACT_TANH: return 1.0f - y * y;
    case SN_ACT_SIGMOID: return y * (1.0f - y);
    case SN_ACT_RELU: return y > 0 ? 1.0f : 0.0f;
    default: return 1.0f;
    }
}

/* Register-blocked small matrix-vector products. The accumulators of a block
 * of outputs stay in vector registers across the whole reduction (a plain
 * `acc[j] += a*u[j]` loop over memory stalls on store-to-load forwarding when
 * the block is short). Each output is still summed in index order with one
 * multiply and one add per term, so the blocking does not change results. */
#if defined(__GNUC__)
typedef float sn_v8 __attribute__((vector_size(32)));
/* unaligned, aliasing view for loads / stores of 8 floats */
typedef float sn_v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define v8_load(p) (*(const sn_v8u *)(const void *)(p))
#define v8_store(p, v) (*(sn_v8u *)(void *)(p) = (v))

#endif

/* Gate-parallel forms: all G (<= 4) gate blocks advance together, so a row
 * has 2G independent accumulator chains (latency, not throughput, bounds
 * these short reductions), and per-gate dropout masks cost no extra pass.
 *
 * gate_matvec: z[g*H + j] += Σ_{i<K} x_g[i] U[i*ld + g*H + j], g < G, j < H
 * (K = H for the recurrent product, K = C for the input projection). */
#define GM_ACC(g, lo, hi)                                                             \
    do {                                                                              \
        float s_ = x[g][i];                                                           \
        lo += s_ * v8_load(u + (g) * H);                                              \
        hi += s_ * v8_load(u + (g) * H + 8);                                          \
    } while (0)
SN_INLINE void gate_matvec_from(int j0, float *restrict z, const float *const *x, const float *restrict U, int ld,
                                 int H, int K, int G) {
#if defined(__GNUC__)
    for (; j0 + 16 <= H; j0 += 16) {
        sn_v8 z0 = {0}, z1 = {0}, o0 = {0}, o1 = {0}, t0 = {0}, t1 = {0}, r0 = {0}, r1 = {0};
        z0 = v8_load(z + j0), z1 = v8_load(z + j0 + 8);
        if (G > 1) o0 = v8_load(z + H + j0), o1 = v8_load(z + H + j0 + 8);
        if (G > 2) t0 = v8_load(z + 2 * H + j0), t1 = v8_load(z + 2 * H + j0 + 8);
        if (G > 3) r0 = v8_load(z + 3 * H + j0), r1 = v8_load(z + 3 * H + j0 + 8);
        for (int i = 0; i < K; i++) {
            const float *u = U + (size_t)i * ld + j0;
            GM_ACC(0, z0, z1);
            if (G > 1) GM_ACC(1, o0, o1);
            if (G > 2) GM_ACC(2, t0, t1);
            if (G > 3) GM_ACC(3, r0, r1);
        }
        v8_store(z + j0, z0), v8_store(z + j0 + 8, z1);
        if (G > 1) v8_store(z + H + j0, o0), v8_store(z + H + j0 + 8, o1);
        if (G > 2) v8_store(z + 2 * H + j0, t0), v8_store(z + 2 * H + j0 + 8, t1);
        if (G > 3) v8_store(z + 3 * H + j0, r0), v8_store(z + 3 * H + j0 + 8, r1);
    }
    for (; j0 + 8 <= H; j0 += 8)
        for (int g = 0; g < G; g++) {
            sn_v8 a0 = v8_load(z + g * H + j0);
            for (int i = 0; i < K; i++) a0 += x[g][i] * v8_load(U + (size_t)i * ld + g * H + j0);
            v8_store(z + g * H + j0, a0);
        }
#endif
    for (; j0 < H; j0++)
        for (int g = 0; g < G; g++) {
            float a0 = z[g * H + j0];
            for (int i = 0; i < K; i++) a0 += x[g][i] * U[(size_t)i * ld + g * H + j0];
            z[g * H + j0] = a0;
        }
}

SN_INLINE void gate_matvec(float *restrict z, const float *const *x, const float *restrict U, int ld, int H, int K,
                            int G) {
    gate_matvec_from(0, z, x, U, ld, H, K, G);
}

/* gate_matvec with one 16-float vector per gate and 16-column block, for
 * CPUs with AVX-512 (rnn_ctx.v16, chosen at run time: a 64-byte generic
 * vector in the AVX2 clone was measured 2x slower). Each output element sees
 * the same multiply and add in the same order as in gate_matvec, so the
 * results are the same; with AVX-512, LSTM(16) inference +8 %, LSTM(32)
 * +17 % (B=256, T=120, 1 thread). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SN_HAVE_V16 1
typedef float sn_v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float sn_v16 __attribute__((vector_size(64)));
#define v16_load(p) (*(const sn_v16u *)(const void *)(p))
#define v16_store(p, v) (*(sn_v16u *)(void *)(p) = (v))
__attribute__((target("avx512f"), always_inline)) static inline void gm16_body(float *restrict z, const float *const *x,
                                                                               const float *restrict U, int ld,
                                                                               int H, int K, int G) {
    int j0 = 0;
    for (; j0 + 16 <= H; j0 += 16) {
        sn_v16 z0 = {0}, o0 = {0}, t0 = {0}, r0 = {0};
        z0 = v16_load(z + j0);
        if (G > 1) o0 = v16_load(z + H + j0);
        if (G > 2) t0 = v16_load(z + 2 * H + j0);
        if (G > 3) r0 = v16_load(z + 3 * H + j0);
        for (int i = 0; i < K; i++) {
            const float *u = U + (size_t)i * ld + j0;
            z0 += x[0][i] * v16_load(u);
            if (G > 1) o0 += x[1][i] * v16_load(u + H);
            if (G > 2) t0 += x[2][i] * v16_load(u + 2 * H);
            if (G > 3) r0 += x[3][i] * v16_load(u + 3 * H);
        }
        v16_store(z + j0, z0);
        if (G > 1) v16_store(z + H + j0, o0);
        if (G > 2) v16_store(z + 2 * H + j0, t0);
        if (G > 3) v16_store(z + 3 * H + j0, r0);
    }
    gate_matvec_from(j0, z, x, U, ld, H, K, G);
}
#define GM16(g)                                                                                                 \
    __attribute__((target("avx512f"), noinline)) static void gm16_##g(float *restrict z, const float *const *x, \
                                                                      const float *restrict U, int ld, int H,   \
                                                                      int K) {                                  \
        gm16_body(z, x, U, ld, H, K, g);                                                                        \
    }
GM16(1)
GM16(2)
GM16(3)
GM16(4)
#undef GM16
#endif

/* gate_matvec, through the AVX-512 kernel when v16 (rnn_ctx.v16) is set. */
SN_INLINE void gate_matvec_v(int v16, float *restrict z, const float *const *x, const float *restrict U, int ld, int H,
                             int K, int G) {
#ifdef SN_HAVE_V16
    if (v16 && H >= 16) {
        switch (G) {
        case 1: gm16_1(z, x, U, ld, H, K); return;
        case 2: gm16_2(z, x, U, ld, H, K); return;
        case 3: gm16_3(z, x, U, ld, H, K); return;
        default: gm16_4(z, x, U, ld, H, K); return;
        }
    }
#else
    (void)v16;
#endif
    gate_matvec(z, x, U, ld, H, K, G);
}

/* z[g*H + j] += Σ_i (hp[i] * m_g[i]) U[i, g*H + j] for gate blocks g0 <= g < g1.
 * hp: (H); mh: gate mask rows (each (H), row already selected) or NULL; U (H, nH);
 * hd: (G*H) work row for the masked copies of h. */
SN_INLINE void rec_accum(int v16, float *restrict z, const float *restrict hp, const float *const *mh,
                         const float *restrict U, int H, int nH, int g0, int g1, float *restrict hd) {
    const float *x[4];
    for (int g = g0; g < g1; g++) {
        if (mh) {
            float *d = hd + g * H;
            const float *m = mh[g];
#pragma omp simd
            for (int i = 0; i < H; i++) d[i] = hp[i] * m[i];
            x[g - g0] = d;
        } else {
            x[g - g0] = hp;
        }
    }
    gate_matvec_v(v16, z + g0 * H, x, U + g0 * H, nH, H, H, g1 - g0);
}

/* gate_matvec_t: out[i] += Σ_g m_g[i] Σ_{j<H} dz_g[j] Ut[(g*H + j)*ldu + i], i < n,
 * g < G (<= 4); m NULL = no masks. dz_g: (H) each; Ut: (G*H, ldu) rows of
 * U^T (n = ldu = H), or of W^T zero-padded to ldu = round8(C) columns for
 * dX (n = ldu; out and the m_g rows are then padded to ldu as well).
 * Per gate the sum runs in j order from 0; gates are then added in order. */
#define GT_ACC(g, lo, hi)                                                             \
    do {                                                                              \
        float s_ = dz[g][j];                                                          \
        const float *u_ = Ut + ((size_t)(g) * H + j) * H + i0;                        \
        lo += s_ * v8_load(u_);                                                       \
        hi += s_ * v8_load(u_ + 8);                                                   \
    } while (0)
#define GT_OUT(g, lo, hi)                                                             \
    do {                                                                              \
        if (m) {                                                                      \
            lo *= v8_load(m[g] + i0);                                                 \
            hi *= v8_load(m[g] + i0 + 8);                                             \
        }                                                                             \
        s0 += lo;                                                                     \
        s1 += hi;                                                                     \
    } while (0)
SN_INLINE void gate_matvec_t(float *restrict out, const float *const *dz, const float *restrict Ut, int H, int n,
                             int ldu, int G, const float *const *m) {
    int i0 = 0;
#if defined(__GNUC__)
    for (; i0 + 16 <= n; i0 += 16) {
        sn_v8 z0 = {0}, z1 = {0}, o0 = {0}, o1 = {0}, t0 = {0}, t1 = {0}, r0 = {0}, r1 = {0};
        for (int j = 0; j < H; j++) {
            GT_ACC(0, z0, z1);
            if (G > 1) GT_ACC(1, o0, o1);
            if (G > 2) GT_ACC(2, t0, t1);
            if (G > 3) GT_ACC(3, r0, r1);
        }
        sn_v8 s0 = {0}, s1 = {0};
        GT_OUT(0, z0, z1);
        if (G > 1) GT_OUT(1, o0, o1);
        if (G > 2) GT_OUT(2, t0, t1);
        if (G > 3) GT_OUT(3, r0, r1);
        v8_store(out + i0, v8_load(out + i0) + s0);
        v8_store(out + i0 + 8, v8_load(out + i0 + 8) + s1);
    }
    for (; i0 + 8 <= n; i0 += 8) {
        sn_v8 s0 = {0};
        for (int g = 0; g < G; g++) {
            sn_v8 a0 = {0};
            for (int j = 0; j < H; j++) a0 += dz[g][j] * v8_load(Ut + ((size_t)g * H + j) * ldu + i0);
            if (m) a0 *= v8_load(m[g] + i0);
            s0 += a0;
        }
        v8_store(out + i0, v8_load(out + i0) + s0);
    }
#endif
    for (; i0 < n; i0++) {
        float s0 = 0.0f;
        for (int g = 0; g < G; g++) {
            float a0 = 0.0f;
            for (int j = 0; j < H; j++) a0 += dz[g][j] * Ut[((size_t)g * H + j) * ldu + i0];
            s0 += m ? a0 * m[g][i0] : a0;
        }
        out[i0] += s0;
    }
}

/* The row kernels are also compiled for AVX-512 and AVX2 and picked at load
 * time (GCC function multi-versioning). ISO C mode compiles with
 * -ffp-contract=off, so no FMA is formed and every element sees the same IEEE
 * operations in all versions: results are identical on every x86-64 machine
 * (checked: 1 epoch of training + predict, avx2 vs avx512f build, bitwise).
 * The AVX-512 clone (wider activation loops, 32 vector registers: the AVX2
 * activation loops spill their constants) made LSTM(16) inference ~+25 %
 * on Zen4 (B=256, T=120, 1 thread, thread CPU time). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SN_ROW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SN_ROW_CLONES
#endif

/* ---- copies between (B,T,C) inputs and time-major rows ---- */

/* Inverse of masked_steps, accumulating: dx[b, t(k), i] += s[((k-k0)*B + b)*C + i]
 * (* m[b*C + i] when m is not NULL). */
SN_ROW_CLONES static void scatter_steps(float *restrict dx, const float *restrict s, const float *restrict m, int k0,
                                        int nk, int B, int T, int C, int go_backwards) {
    for (int k = k0; k < k0 + nk; k++) {
        int t = go_backwards ? T - 1 - k : k;
        for (int b = 0; b < B; b++) {
            float *restrict d = dx + ((size_t)b * T + t) * C;
            const float *restrict sx = s + ((size_t)(k - k0) * B + b) * C;
            if (m) {
                const float *restrict mb = m + (size_t)b * C;
#pragma omp simd
                for (int i = 0; i < C; i++) d[i] += sx[i] * mb[i];
            } else {
#pragma omp simd
                for (int i = 0; i < C; i++) d[i] += sx[i];
            }
        }
    }
}

/* Column sums of a (rows, n) matrix with leading dimension ld, added to out
 * (each column summed in row order, blocks of columns held in registers). */
SN_ROW_CLONES static void colsum_add(float *restrict out, const float *restrict m, size_t rows, int n, int ld) {
    int j0 = 0;
#if defined(__GNUC__)
    for (; j0 + 32 <= n; j0 += 32) {
        sn_v8 a0 = v8_load(out + j0), a1 = v8_load(out + j0 + 8), a2 = v8_load(out + j0 + 16),
              a3 = v8_load(out + j0 + 24);
        for (size_t r = 0; r < rows; r++) {
            const float *row = m + r * (size_t)ld + j0;
            a0 += v8_load(row), a1 += v8_load(row + 8), a2 += v8_load(row + 16), a3 += v8_load(row + 24);
        }
        v8_store(out + j0, a0), v8_store(out + j0 + 8, a1), v8_store(out + j0 + 16, a2), v8_store(out + j0 + 24, a3);
    }
    for (; j0 + 8 <= n; j0 += 8) {
        sn_v8 a0 = v8_load(out + j0);
        for (size_t r = 0; r < rows; r++) a0 += v8_load(m + r * (size_t)ld + j0);
        v8_store(out + j0, a0);
    }
#endif
    for (; j0 < n; j0++) {
        float a0 = out[j0];
        for (size_t r = 0; r < rows; r++) a0 += m[r * (size_t)ld + j0];
        out[j0] = a0;
    }
}

/* Time-major masked copy of steps k0 <= k < k0+nk of x (B,T,C):
 * d[((k-k0)*B + b)*C + i] = x[b, t(k), i] * m[b*C + i] (a plain copy when m is NULL). */
SN_ROW_CLONES static void masked_steps(float *restrict d, const float *restrict x, const float *restrict m, int k0,
                                       int nk, int B, int T, int C, int go_backwards) {
    for (int k = k0; k < k0 + nk; k++) {
        int t = go_backwards ? T - 1 - k : k;
        for (int b = 0; b < B; b++) {
            const float *restrict src = x + ((size_t)b * T + t) * C;
            const float *restrict mb = m ? m + (size_t)b * C : NULL;
            float *restrict o = d + ((size_t)(k - k0) * B + b) * C;
            if (!m) {
                memcpy(o, src, (size_t)C * sizeof(float));
                continue;
            }
#pragma omp simd
            for (int i = 0; i < C; i++) o[i] = src[i] * mb[i];
        }
    }
}

/* ---- forward ---- */

/* Rows per thread task: a chunk of rows runs the whole sequence on one
 * thread. Fixed (not derived from the thread count) so that every thread
 * count computes the same chunks. */
#define RNN_ROWS 8

typedef struct rnn_ctx {
    const sn_rnn_cfg *cf;
    int B, T, C, H, G, nH;
    const float *W, *U, *bx, *bh; /* bh: GRU reset_after recurrent bias row, else NULL */
    const float *x;               /* forward input (B,T,C) or ids (B,T) */
    const uint8_t *mask;          /* (B,T) or NULL */
    float *hs, *cs, *tc, *gt, *q, *mx, *mh, *R, *HD;
    int xdrop, hdrop, gx;
    int xk;    /* x W in the row kernel (no gt GEMM), dX there too: rnn_xin */
    float *XM; /* (B,G*C) x ⊙ m_g rows */
    float *y;  /* layer output, or NULL (backward recomputing the caches) */
    /* Inference (rnn_forward_lean): hs / cs hold 2 steps (ring: step k in
     * slot k & 1), tc / q one step, gt the steps gk0.. of one chunk. */
    int lean, gk0;
    int v16; /* the CPU has AVX-512: gate_matvec_v takes its kernel */
} rnn_ctx;

/* 1 when the AVX-512 recurrent product can run on this CPU. */
static int rnn_v16(void) {
#ifdef SN_HAVE_V16
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* Slot of state h_k / c_k (k = 0..T) in hs / cs. */
SN_INLINE size_t hslot(const rnn_ctx *c, int k) { return (size_t)(c->lean ? k & 1 : k); }
/* Slot of step k's rows in tc / q (the step's own values, dead after it). */
SN_INLINE size_t tslot(const rnn_ctx *c, int k) { return (size_t)(c->lean ? 0 : k); }
/* Slot of step k's rows in gt. */
SN_INLINE size_t gslot(const rnn_ctx *c, int k) { return (size_t)(k - c->gk0); }

/* One row b at processing step k: recurrent product + gates + state update. */
SN_ROW_CLONES static void rnn_fwd_row(const rnn_ctx *c, int k, int b) {
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, nH = c->nH, B = c->B, T = c->T;
    int t = cf->go_backwards ? T - 1 - k : k;
    int valid = !c->mask || c->mask[(size_t)b * T + t];
    const float *hp = c->hs + (hslot(c, k) * B + b) * H;
    float *hn = c->hs + (hslot(c, k + 1) * B + b) * H;
    float *a = c->gt + (gslot(c, k) * B + b) * nH;
    float *yrow = cf->return_sequences && c->y ? c->y + ((size_t)b * T + k) * H : NULL;
    if (!valid) {
        memcpy(hn, hp, (size_t)H * sizeof(float));
        if (cf->kind == SN_RNN_LSTM) {
            memcpy(c->cs + (hslot(c, k + 1) * B + b) * H, c->cs + (hslot(c, k) * B + b) * H, (size_t)H * sizeof(float));
            memset(c->tc + (tslot(c, k) * B + b) * H, 0, (size_t)H * sizeof(float));
        }
        memset(a, 0, (size_t)nH * sizeof(float));
        if (c->q) memset(c->q + (tslot(c, k) * B + b) * H, 0, (size_t)H * sizeof(float));
        if (yrow) {
            if (cf->zero_output_for_mask)
                memset(yrow, 0, (size_t)H * sizeof(float));
            else
                memcpy(yrow, hn, (size_t)H * sizeof(float));
        }
        return;
    }
    if (cf->ids) {
        /* one-hot input: x·W = W[id] (times the dropout mask at column id) */
        long id = (long)(c->x[(size_t)b * T + t] + 0.5f);
        SN_ASSERT(id >= 0 && id < cf->C);
        const float *wr = c->W + (size_t)id * nH;
        if (!c->xdrop) {
            memcpy(a, wr, (size_t)nH * sizeof(float));
        } else {
            /* gate block j/H uses mask gx == 1 ? 0 : j/H */
            for (int j = 0; j < nH; j++) {
                int g = c->gx == 1 ? 0 : j / H;
                a[j] = wr[j] * c->mx[((size_t)g * B + b) * cf->C + id];
            }
        }
    }
    if (c->xk) {
        /* input projection in the row: a_g = (x ⊙ m_g) W_g (the masks are per
         * sample: one for all gates, or one per gate with Keras
         * implementation 1) */
        int C = c->C, G = c->G;
        const float *src = c->x + ((size_t)b * T + t) * C;
        float *xm = c->XM + (size_t)b * G * C;
        const float *xg[4] = {src, src, src, src};
        if (c->xdrop) {
            for (int g = 0; g < c->gx; g++) {
                const float *restrict m = c->mx + ((size_t)g * B + b) * C;
                float *restrict d = xm + (size_t)g * C;
#pragma omp simd
                for (int i = 0; i < C; i++) d[i] = src[i] * m[i];
            }
            for (int g = 0; g < G; g++) xg[g] = xm + (size_t)(c->gx == 1 ? 0 : g) * C;
        }
        memset(a, 0, (size_t)nH * sizeof(float));
        /* constant gate counts so the kernel's gate branches fold away */
        if (G == 4)
            gate_matvec(a, xg, c->W, nH, H, C, 4);
        else if (G == 3)
            gate_matvec(a, xg, c->W, nH, H, C, 3);
        else
            gate_matvec(a, xg, c->W, nH, H, C, 1);
    }
    if (c->bx) {
        const float *restrict bx = c->bx;
        float *restrict ar = a;
#pragma omp simd
        for (int j = 0; j < nH; j++) ar[j] += bx[j];
    }
    const float *mrow[4] = {NULL, NULL, NULL, NULL};
    const float *const *mh = NULL;
    if (c->hdrop) {
        for (int g = 0; g < c->G; g++) mrow[g] = c->mh + ((size_t)(cf->kind == SN_RNN_SIMPLE ? 0 : g) * B + b) * H;
        mh = mrow;
    }
    const sn_act A = cf->act, RA = cf->ract;
    float *hd = c->HD + (size_t)b * nH;
    if (cf->kind == SN_RNN_SIMPLE) {
        rec_accum(c->v16, a, hp, mh, c->U, H, nH, 0, 1, hd);
        act_vec(A, a, H);
        memcpy(hn, a, (size_t)H * sizeof(float));
    } else if (cf->kind == SN_RNN_LSTM) {
        /* gates and state update in rnn_fwd_lstm_tail, run for all rows of
         * the chunk after their products (more independent work in flight) */
        rec_accum(c->v16, a, hp, mh, c->U, H, nH, 0, 4, hd);
        return;
    } else if (cf->reset_after) {
        float *R = c->R + (size_t)b * nH, *q = c->q + (tslot(c, k) * B + b) * H;
        if (c->bh)
            memcpy(R, c->bh, (size_t)nH * sizeof(float));
        else
            memset(R, 0, (size_t)nH * sizeof(float));
        rec_accum(c->v16, R, hp, mh, c->U, H, nH, 0, 3, hd);
#pragma omp simd
        for (int j = 0; j < 2 * H; j++) a[j] += R[j];
        act_vec(RA, a, 2 * H); /* z, r */
        memcpy(q, R + 2 * H, (size_t)H * sizeof(float));
#pragma omp simd
        for (int i = 0; i < H; i++) a[2 * H + i] += a[H + i] * q[i];
        act_vec(A, a + 2 * H, H);
#pragma omp simd
        for (int i = 0; i < H; i++) hn[i] = a[i] * hp[i] + (1.0f - a[i]) * a[2 * H + i];
    } else {
        float *q = c->q + (tslot(c, k) * B + b) * H;
        rec_accum(c->v16, a, hp, mh, c->U, H, nH, 0, 2, hd);
        const float *mhh = mh ? mh[2] : NULL;
        act_vec(RA, a, 2 * H); /* z, r */
        for (int i = 0; i < H; i++) q[i] = a[H + i] * hp[i] * (mhh ? mhh[i] : 1.0f); /* r ⊙ (h ⊙ m_h) */
        rec_accum(c->v16, a, q, NULL, c->U, H, nH, 2, 3, hd);
        act_vec(A, a + 2 * H, H);
#pragma omp simd
        for (int i = 0; i < H; i++) hn[i] = a[i] * hp[i] + (1.0f - a[i]) * a[2 * H + i];
    }
    if (yrow) memcpy(yrow, hn, (size_t)H * sizeof(float));
}

/* 1 for the default activation pair, whose loops get constant arguments. */
#define RNN_DEFAULT_ACTS(A, RA) ((A) == SN_ACT_TANH && (RA) == SN_ACT_SIGMOID)

/* act(x) for one element: the operations of act_vec's loops. */
SN_INLINE float act1(sn_act a, float x) {
    switch (a) {
    case SN_ACT_TANH: return fast_tanhf(x);
    case SN_ACT_SIGMOID: return sigm(x);
    case SN_ACT_RELU: return x > 0 ? x : 0.0f;
    default: return x;
    }
}

/* LSTM gates and state update in one pass for inference: the activations are
 * not stored, and the five of an element are independent work in flight
 * (act_vec's separate short loops over H = 16 wait on each polynomial's
 * latency). Per element the same operations as rnn_fwd_lstm_tail:
 * c = σ(z_f)·c_prev + σ(z_i)·φ(z_c), h = σ(z_o)·φ(c). a: (G*H) z; cp, cn, hn: (H). */
SN_INLINE void lstm_lean_elem(sn_act A, sn_act RA, int H, const float *restrict a, const float *restrict cp,
                              float *restrict cn, float *restrict hn) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float ig = act1(RA, a[i]), fg = act1(RA, a[H + i]), gg = act1(A, a[2 * H + i]), og = act1(RA, a[3 * H + i]);
        float cv = fg * cp[i] + ig * gg;
        cn[i] = cv;
        hn[i] = og * act1(A, cv);
    }
}

/* LSTM row b at step k after rnn_fwd_row: gate activations, c_k, φ(c_k), h_k. */
SN_ROW_CLONES static void rnn_fwd_lstm_tail(const rnn_ctx *c, int k, int b) {
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, nH = c->nH, B = c->B, T = c->T;
    int t = cf->go_backwards ? T - 1 - k : k;
    if (c->mask && !c->mask[(size_t)b * T + t]) return;
    float *restrict a = c->gt + (gslot(c, k) * B + b) * nH;
    const float *restrict cp = c->cs + (hslot(c, k) * B + b) * H;
    float *restrict cn = c->cs + (hslot(c, k + 1) * B + b) * H;
    float *restrict tcr = c->tc + (tslot(c, k) * B + b) * H;
    float *restrict hn = c->hs + (hslot(c, k + 1) * B + b) * H;
    const sn_act A = cf->act, RA = cf->ract;
    if (c->lean) {
        if (RNN_DEFAULT_ACTS(A, RA))
            lstm_lean_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, cp, cn, hn);
        else
            lstm_lean_elem(A, RA, H, a, cp, cn, hn);
        if (cf->return_sequences) memcpy(c->y + ((size_t)b * T + k) * H, hn, (size_t)H * sizeof(float));
        return;
    }
    act_vec(RA, a, 2 * H); /* i, f */
    act_vec(A, a + 2 * H, H);
    act_vec(RA, a + 3 * H, H);
#pragma omp simd
    for (int i = 0; i < H; i++) tcr[i] = cn[i] = a[H + i] * cp[i] + a[i] * a[2 * H + i];
    act_vec(A, tcr, H);
#pragma omp simd
    for (int i = 0; i < H; i++) hn[i] = a[3 * H + i] * tcr[i];
    if (cf->return_sequences && c->y) memcpy(c->y + ((size_t)b * T + k) * H, hn, (size_t)H * sizeof(float));
}

static void draw_mask(float *m, size_t n, double p, sn_rng *r) {
    float keep = (float)(1.0 / (1.0 - p));
    for (size_t i = 0; i < n; i++) m[i] = sn_rng_double(r) < p ? 0.0f : keep;
}

/* The step context both forward paths start from: sizes and weight views
 * of layer L, the input and mask of call f; every other field zero. */
static void rnn_ctx_init(rnn_ctx *c, sn_layer *L, const sn_fwd *f) {
    sn_rnn_cfg *cf = L->cfg;
    int nH = cf->G * cf->units;
    memset(c, 0, sizeof *c);
    c->cf = cf; c->B = f->B; c->T = cf->T; c->C = cf->C; c->H = cf->units; c->G = cf->G; c->nH = nH;
    c->W = L->w + cf->off_k;
    c->U = L->w + cf->off_r;
    c->bx = cf->use_bias ? L->w + cf->off_b : NULL;
    c->bh = cf->use_bias && cf->kind == SN_RNN_GRU && cf->reset_after ? L->w + cf->off_b + nH : NULL;
    c->x = f->x;
    c->mask = f->mask;
}

/* Training forward: fills every cache backward reads (all states, gate
 * activations, time-major input copy, dropout masks). f->y may be NULL when
 * backward recomputes the caches after an inference forward. */
static void rnn_forward_full(sn_layer *L, sn_fwd *f) {
    sn_rnn_cfg *cf = L->cfg;
    int B = f->B, T = cf->T, C = cf->C, H = cf->units, G = cf->G, nH = G * H;
    rnn_lay ly = rnn_layout(cf, B);
    rnn_sl sl = rnn_scratch_layout(cf, B);
    float *ca = f->cache;
    rnn_ctx c;
    rnn_ctx_init(&c, L, f);
    c.hs = ca + ly.hs;
    c.cs = cf->kind == SN_RNN_LSTM ? ca + ly.cs : NULL;
    c.tc = cf->kind == SN_RNN_LSTM ? ca + ly.tc : NULL;
    c.gt = ca + ly.gt;
    c.q = cf->kind == SN_RNN_GRU ? ca + ly.q : NULL;
    c.mx = ca + ly.mx;
    c.mh = ca + ly.mh;
    c.R = f->scratch + sl.r;
    c.HD = f->scratch + sl.hd;
    c.y = f->y;
    c.v16 = rnn_v16();
    c.xdrop = f->training && cf->dropout > 0 && cf->dropout < 1;
    c.hdrop = f->training && cf->rdropout > 0 && cf->rdropout < 1;
    c.gx = c.xdrop ? ly.gx : 1;
    c.xk = rnn_xin(cf, c.gx);
    c.XM = f->scratch + sl.xm;
    ca[0] = (float)c.xdrop;
    ca[1] = (float)c.hdrop;
    ca[2] = (float)c.gx;
    ca[3] = 0.0f; /* full caches */
    sn_rng *rng = cf->seed >= 0 ? &cf->seed_rng : f->rng;
    if (c.xdrop || c.hdrop) SN_ASSERT(rng);
    if (c.xdrop) draw_mask(c.mx, (size_t)c.gx * B * C, cf->dropout, rng);
    if (c.hdrop) draw_mask(c.mh, (size_t)ly.gh * B * H, cf->rdropout, rng);

    if (!cf->ids && !c.xk) {
        /* time-major (dropped) input copy and the projection GEMM, in
         * chunks of whole steps (threads take chunks; every chunk does the
         * same work whatever the thread count). */
        float *xd = ca + ly.xd;
        int kc = rnn_step_chunk(B), nkc = (T + kc - 1) / kc;
        int nthc = SN_MIN(L->threads > 1 ? L->threads : 1, nkc);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthc) if (nthc > 1)
        for (int ch = 0; ch < nkc; ch++) {
            int k0 = ch * kc, k1 = SN_MIN(T, k0 + kc);
            size_t r0 = (size_t)k0 * B;
            if (c.xdrop) {
                masked_steps(xd + r0 * C, f->x, c.mx, k0, k1 - k0, B, T, C, cf->go_backwards);
            } else {
                for (int k = k0; k < k1; k++) {
                    int t = cf->go_backwards ? T - 1 - k : k;
                    for (int b = 0; b < B; b++)
                        memcpy(xd + ((size_t)k * B + b) * C, f->x + ((size_t)b * T + t) * C, (size_t)C * sizeof(float));
                }
            }
            int nr = (k1 - k0) * B;
            sn_gemm(0, 0, nr, nH, C, 1.0f, xd + r0 * C, C, c.W, nH, 0.0f, c.gt + r0 * nH, nH);
        }
    }
    memset(c.hs, 0, (size_t)B * H * sizeof(float));
    if (c.cs) memset(c.cs, 0, (size_t)B * H * sizeof(float));

    /* Each chunk of rows runs the whole time loop on one thread: no barrier
     * per step. Chunks are independent and their size is fixed, so the
     * results do not depend on the thread count or on the schedule. */
    int nchunk = (B + RNN_ROWS - 1) / RNN_ROWS;
    int nth = SN_MIN(L->threads > 1 ? L->threads : 1, nchunk);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (nth > 1)
    for (int ch = 0; ch < nchunk; ch++) {
        int b0 = ch * RNN_ROWS, b1 = SN_MIN(B, b0 + RNN_ROWS);
        for (int k = 0; k < T; k++) {
            for (int b = b0; b < b1; b++) rnn_fwd_row(&c, k, b);
            if (cf->kind == SN_RNN_LSTM)
                for (int b = b0; b < b1; b++) rnn_fwd_lstm_tail(&c, k, b);
        }
    }
    if (!cf->return_sequences && f->y) memcpy(f->y, c.hs + (size_t)T * B * H, (size_t)B * H * sizeof(float));
    f->mask_out = cf->return_sequences ? f->mask : NULL;
}

/* Inference forward (training == 0: no dropout, nothing kept for backward).
 * The same arithmetic in the same order as rnn_forward_full, so the output
 * is bit-identical (tests/test_rnn.c compares with memcmp), but only the
 * live values are stored, in a working set that stays in cache:
 *   - the steps are taken in the chunks of rnn_step_chunk (~1024 rows); per
 *     chunk the time-major input copy and the projection GEMM have the very
 *     shapes of the full path (same BLAS calls, same results) and write one
 *     chunk-sized gt, which the row chunks then consume step by step;
 *   - h and c live in a 2-step ring (step k in slot k & 1), φ(c_k) and the
 *     GRU q in one (B,H) slot; no per-step state, activation or q history.
 * The full path's gt (T,B,G*H) alone is 7.9 MB for LSTM(16), B=256, T=120:
 * written by the GEMM, then read back by the time loop from memory.
 * The final states are copied to where sn_rnn_final_states reads them, and
 * cache[3] = 1 tells backward that the caches are not filled. */
static void rnn_forward_lean(sn_layer *L, sn_fwd *f) {
    sn_rnn_cfg *cf = L->cfg;
    int B = f->B, T = cf->T, C = cf->C, H = cf->units, G = cf->G, nH = G * H;
    rnn_lay ly = rnn_layout(cf, B);
    rnn_sl sl = rnn_scratch_layout(cf, B);
    float *ca = f->cache;
    rnn_ctx c;
    rnn_ctx_init(&c, L, f);
    c.hs = ca + ly.hs;                                   /* (2,B,H) ring */
    c.cs = cf->kind == SN_RNN_LSTM ? ca + ly.cs : NULL;  /* (2,B,H) ring */
    c.tc = cf->kind == SN_RNN_LSTM ? ca + ly.tc : NULL;  /* (B,H) */
    c.gt = ca + ly.gt;                                   /* (kc,B,G*H) */
    c.q = cf->kind == SN_RNN_GRU ? ca + ly.q : NULL;     /* (B,H) */
    c.R = f->scratch + sl.r;
    c.HD = f->scratch + sl.hd;
    c.y = f->y;
    c.gx = 1;
    c.lean = 1;
    c.v16 = rnn_v16();
    ca[0] = 0.0f;
    ca[1] = 0.0f;
    ca[2] = 1.0f;
    ca[3] = 1.0f; /* caches not filled */
    memset(c.hs, 0, (size_t)B * H * sizeof(float));
    if (c.cs) memset(c.cs, 0, (size_t)B * H * sizeof(float));

    float *xd = ca + ly.xd; /* (kc,B,C) */
    int kc = rnn_step_chunk(B), nkc = (T + kc - 1) / kc;
    int nchunk = (B + RNN_ROWS - 1) / RNN_ROWS;
    int nth = SN_MIN(L->threads > 1 ? L->threads : 1, nchunk);
    for (int sc = 0; sc < nkc; sc++) {
        int k0 = sc * kc, k1 = SN_MIN(T, k0 + kc);
        if (!cf->ids) {
            masked_steps(xd, f->x, NULL, k0, k1 - k0, B, T, C, cf->go_backwards);
            sn_gemm(0, 0, (k1 - k0) * B, nH, C, 1.0f, xd, C, c.W, nH, 0.0f, c.gt, nH);
        }
        c.gk0 = k0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (nth > 1)
        for (int ch = 0; ch < nchunk; ch++) {
            int b0 = ch * RNN_ROWS, b1 = SN_MIN(B, b0 + RNN_ROWS);
            for (int k = k0; k < k1; k++) {
                for (int b = b0; b < b1; b++) rnn_fwd_row(&c, k, b);
                if (cf->kind == SN_RNN_LSTM)
                    for (int b = b0; b < b1; b++) rnn_fwd_lstm_tail(&c, k, b);
            }
        }
    }
    const float *hT = c.hs + hslot(&c, T) * B * H;
    if (!cf->return_sequences) memcpy(f->y, hT, (size_t)B * H * sizeof(float));
    /* final states where sn_rnn_final_states reads them (T == 1: already there) */
    if (hslot(&c, T) != (size_t)T) {
        memcpy(c.hs + (size_t)T * B * H, hT, (size_t)B * H * sizeof(float));
        if (c.cs) memcpy(c.cs + (size_t)T * B * H, c.cs + hslot(&c, T) * B * H, (size_t)B * H * sizeof(float));
    }
    f->mask_out = cf->return_sequences ? f->mask : NULL;
}

static void rnn_forward(sn_layer *L, sn_fwd *f) {
    if (f->training)
        rnn_forward_full(L, f);
    else
        rnn_forward_lean(L, f);
}

/* ---- backward ---- */

typedef struct rnn_bctx {
    rnn_ctx c;
    const float *Ut;
    float *DH, *DC, *AUX, *AUX2;
    const float *dy;
    /* per-gate input masks (c.xk): dX rows in the row kernel */
    const float *Wt, *MXP; /* (G*H,Cp) W^T zero-padded, (G,B,Cp) masks zero-padded */
    float *DXR, *dx;       /* (B,Cp) work row, dx (B,T,C) or NULL */
    int Cp;
} rnn_bctx;

/* Elementwise parts of the backward row step, one vectorized loop each.
 * Called with constant activations for the default pair (tanh, sigmoid) so
 * the derivative switch folds away; the operations per element are the
 * same either way. */
SN_INLINE void simple_bwd_elem(sn_act A, int H, float *restrict a, const float *restrict dh) {
#pragma omp simd
    for (int i = 0; i < H; i++) a[i] = dh[i] * act_d(A, a[i]);
}

/* LSTM: acts i,f,c,o (overwritten by dZ), dc (H) carried cell gradient,
 * dh (H), cp c_{k-1} (H), tcr φ(c_k) (H). */
SN_INLINE void lstm_bwd_elem(sn_act A, sn_act RA, int H, float *restrict ai, float *restrict af, float *restrict ag,
                             float *restrict ao, float *restrict dc, const float *restrict dh,
                             const float *restrict cp, const float *restrict tcr) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float ig = ai[i], fg = af[i], gg = ag[i], og = ao[i], tv = tcr[i];
        float dcv = dc[i] + dh[i] * og * act_d(A, tv);
        float d_o = dh[i] * tv;
        ai[i] = dcv * gg * act_d(RA, ig);
        af[i] = dcv * cp[i] * act_d(RA, fg);
        ag[i] = dcv * ig * act_d(A, gg);
        ao[i] = d_o * act_d(RA, og);
        dc[i] = dcv * fg;
    }
}

/* GRU reset_after: acts z,r,ĥ (overwritten by dZ), q (H) = hU_h + b^h_h
 * (overwritten by its gradient), hp h_{k-1}, aux (H) receives dh·z. */
SN_INLINE void gru_ra_bwd_elem(sn_act A, sn_act RA, int H, float *restrict az, float *restrict ar,
                               float *restrict ah, float *restrict q, float *restrict aux,
                               const float *restrict dh, const float *restrict hp) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float zg = az[i], rg = ar[i], hh = ah[i], dhv = dh[i];
        float daz = dhv * (hp[i] - hh) * act_d(RA, zg);
        float dah = dhv * (1.0f - zg) * act_d(A, hh);
        float dar = dah * q[i] * act_d(RA, rg);
        q[i] = dah * rg; /* gradient of (h U_h + b^h_h) */
        az[i] = daz; ar[i] = dar; ah[i] = dah;
        aux[i] = dhv * zg;
    }
}

/* GRU reset_after=false, first part: z and ĥ gradients, aux = dh·z. */
SN_INLINE void gru_rb_bwd_elem(sn_act A, sn_act RA, int H, float *restrict az, float *restrict ah,
                               float *restrict aux, const float *restrict dh, const float *restrict hp) {
#pragma omp simd
    for (int i = 0; i < H; i++) {
        float zg = az[i], hh = ah[i], dhv = dh[i];
        az[i] = dhv * (hp[i] - hh) * act_d(RA, zg);
        ah[i] = dhv * (1.0f - zg) * act_d(A, hh);
        aux[i] = dhv * zg;
    }
}


SN_ROW_CLONES static void rnn_bwd_row(const rnn_bctx *bc, int k, int b) {
    const rnn_ctx *c = &bc->c;
    const sn_rnn_cfg *cf = c->cf;
    int H = c->H, nH = c->nH, B = c->B, T = c->T;
    int t = cf->go_backwards ? T - 1 - k : k;
    int valid = !c->mask || c->mask[(size_t)b * T + t];
    float *dh = bc->DH + (size_t)b * H, *dc = bc->DC + (size_t)b * H;
    float *aux = bc->AUX + (size_t)b * H, *aux2 = bc->AUX2 + (size_t)b * H;
    float *a = c->gt + ((size_t)k * B + b) * nH;
    /* output gradient entering at this step */
    const float *dyr = NULL;
    if (cf->return_sequences) {
        if (valid || !cf->zero_output_for_mask) dyr = bc->dy + ((size_t)b * T + k) * H;
    } else if (k == T - 1) {
        dyr = bc->dy + (size_t)b * H;
    }
    if (dyr) {
        const float *restrict dv = dyr;
#pragma omp simd
        for (int i = 0; i < H; i++) dh[i] += dv[i];
    }
    if (!valid) {
        /* states carried: gradients pass through, dZ = 0 */
        memset(a, 0, (size_t)nH * sizeof(float));
        if (c->q && cf->reset_after) memset(c->q + ((size_t)k * B + b) * H, 0, (size_t)H * sizeof(float));
        return;
    }
    const float *hp = c->hs + ((size_t)k * B + b) * H;
    const float *mrow[4] = {NULL, NULL, NULL, NULL};
    if (c->hdrop)
        for (int g = 0; g < c->G; g++) mrow[g] = c->mh + ((size_t)(cf->kind == SN_RNN_SIMPLE ? 0 : g) * B + b) * H;
    const float *const *mm = c->hdrop ? mrow : NULL;
    const sn_act A = cf->act, RA = cf->ract;
    const float *Ut = bc->Ut;
    memset(aux, 0, (size_t)H * sizeof(float));
    if (cf->kind == SN_RNN_SIMPLE) {
        if (A == SN_ACT_TANH)
            simple_bwd_elem(SN_ACT_TANH, H, a, dh);
        else
            simple_bwd_elem(A, H, a, dh);
        const float *dz[1] = {a};
        gate_matvec_t(aux, dz, Ut, H, H, H, 1, mm);
    } else if (cf->kind == SN_RNN_LSTM) {
        const float *cp = c->cs + ((size_t)k * B + b) * H;
        const float *tcr = c->tc + ((size_t)k * B + b) * H;
        if (RNN_DEFAULT_ACTS(A, RA))
            lstm_bwd_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, a + H, a + 2 * H, a + 3 * H, dc, dh, cp, tcr);
        else
            lstm_bwd_elem(A, RA, H, a, a + H, a + 2 * H, a + 3 * H, dc, dh, cp, tcr);
        const float *dz[4] = {a, a + H, a + 2 * H, a + 3 * H};
        gate_matvec_t(aux, dz, Ut, H, H, H, 4, mm);
    } else if (cf->reset_after) {
        float *q = c->q + ((size_t)k * B + b) * H;
        if (RNN_DEFAULT_ACTS(A, RA))
            gru_ra_bwd_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, a + H, a + 2 * H, q, aux, dh, hp);
        else
            gru_ra_bwd_elem(A, RA, H, a, a + H, a + 2 * H, q, aux, dh, hp);
        const float *dz[3] = {a, a + H, q};
        gate_matvec_t(aux, dz, Ut, H, H, H, 3, mm);
    } else {
        if (RNN_DEFAULT_ACTS(A, RA))
            gru_rb_bwd_elem(SN_ACT_TANH, SN_ACT_SIGMOID, H, a, a + 2 * H, aux, dh, hp);
        else
            gru_rb_bwd_elem(A, RA, H, a, a + 2 * H, aux, dh, hp);
        /* d(r⊙h_d) = da_h U_h^T */
        memset(aux2, 0, (size_t)H * sizeof(float));
        const float *dzh[1] = {a + 2 * H};
        gate_matvec_t(aux2, dzh, Ut + (size_t)2 * H * H, H, H, H, 1, NULL);
        const float *mhh = mrow[2];
        for (int i = 0; i < H; i++) {
            float rg = a[H + i], mv = mhh ? mhh[i] : 1.0f;
            float drh = aux2[i];
            a[H + i] = drh * hp[i] * mv * act_d(RA, rg);
            aux[i] += drh * rg * mv;
        }
        const float *dz[2] = {a, a + H};
        gate_matvec_t(aux, dz, Ut, H, H, H, 2, mm);
    }
    if (c->xk && bc->dx) {
        /* dx_t += Σ_g (dZ_g W_g^T) ⊙ m_g */
        int C = c->C, Cp = bc->Cp;
        float *o = bc->DXR + (size_t)b * Cp;
        const float *dzx[4] = {a, a + H, a + 2 * H, a + 3 * H};
        const float *mg[4] = {NULL, NULL, NULL, NULL};
        for (int g = 0; g < c->G; g++) mg[g] = bc->MXP + ((size_t)(c->gx == 1 ? 0 : g) * B + b) * Cp;
        memset(o, 0, (size_t)Cp * sizeof(float));
        const float *const *mm2 = c->xdrop ? mg : NULL;
        if (c->G == 4)
            gate_matvec_t(o, dzx, bc->Wt, H, Cp, Cp, 4, mm2);
        else if (c->G == 3)
            gate_matvec_t(o, dzx, bc->Wt, H, Cp, Cp, 3, mm2);
        else
            gate_matvec_t(o, dzx, bc->Wt, H, Cp, Cp, 1, mm2);
        float *restrict d = bc->dx + ((size_t)b * T + t) * C;
#pragma omp simd
        for (int i = 0; i < C; i++) d[i] += o[i];
    }
    memcpy(dh, aux, (size_t)H * sizeof(float));
}

static void rnn_backward(sn_layer *L, sn_bwd *bw) {
    sn_rnn_cfg *cf = L->cfg;
    int B = bw->B, T = cf->T, C = cf->C, H = cf->units, G = cf->G, nH = G * H;
    rnn_lay ly = rnn_layout(cf, B);
    rnn_sl sl = rnn_scratch_layout(cf, B);
    float *ca = bw->cache, *sc = bw->scratch;
    if (ca[3] != 0.0f) {
        /* the forward was an inference one (no caches): recompute them with
         * the full path (no dropout then, as in that forward) */
        sn_fwd f;
        memset(&f, 0, sizeof f);
        f.B = B;
        f.x = bw->x;
        f.xs = bw->xs;
        f.mask = bw->mask;
        f.cache = ca;
        f.scratch = sc;
        rnn_forward_full(L, &f);
    }
    rnn_bctx bc;
    memset(&bc, 0, sizeof bc);
    rnn_ctx *c = &bc.c;
    c->cf = cf; c->B = B; c->T = T; c->C = C; c->H = H; c->G = G; c->nH = nH;
    c->W = L->w + cf->off_k;
    c->U = L->w + cf->off_r;
    c->x = bw->x;
    c->mask = bw->mask;
    c->hs = ca + ly.hs;
    c->cs = cf->kind == SN_RNN_LSTM ? ca + ly.cs : NULL;
    c->tc = cf->kind == SN_RNN_LSTM ? ca + ly.tc : NULL;
    c->gt = ca + ly.gt;
    c->q = cf->kind == SN_RNN_GRU ? ca + ly.q : NULL;
    c->mx = ca + ly.mx;
    c->mh = ca + ly.mh;
    c->xdrop = ca[0] != 0.0f;
    c->hdrop = ca[1] != 0.0f;
    c->gx = (int)ca[2];
    float *Ut = sc + sl.ut;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < nH; j++) Ut[(size_t)j * H + i] = c->U[(size_t)i * nH + j];
    bc.Ut = Ut;
    bc.DH = sc + sl.dh;
    bc.DC = sc + sl.dc;
    bc.AUX = sc + sl.aux;
    bc.AUX2 = sc + sl.aux2;
    bc.dy = bw->dy;
    c->xk = rnn_xin(cf, c->gx);
    if (c->xk && bw->dx) {
        int Cp = rnn_cpad(C);
        float *wt = sc + sl.wt, *mxp = sc + sl.mxp;
        for (int j = 0; j < nH; j++)
            for (int i = 0; i < Cp; i++) wt[(size_t)j * Cp + i] = i < C ? c->W[(size_t)i * nH + j] : 0.0f;
        if (c->xdrop)
            for (size_t r = 0; r < (size_t)c->gx * B; r++)
                for (int i = 0; i < Cp; i++) mxp[r * Cp + i] = i < C ? c->mx[r * C + i] : 0.0f;
        bc.Wt = wt;
        bc.MXP = mxp;
        bc.DXR = sc + sl.dxr;
        bc.dx = bw->dx;
        bc.Cp = Cp;
    }
    memset(bc.DH, 0, (size_t)B * H * sizeof(float));
    memset(bc.DC, 0, (size_t)B * H * sizeof(float));

    int nchunk = (B + RNN_ROWS - 1) / RNN_ROWS;
    int nth = SN_MIN(L->threads > 1 ? L->threads : 1, nchunk);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (nth > 1)
    for (int ch = 0; ch < nchunk; ch++) {
        int b0 = ch * RNN_ROWS, b1 = SN_MIN(B, b0 + RNN_ROWS);
        for (int k = T - 1; k >= 0; k--)
            for (int b = b0; b < b1; b++) rnn_bwd_row(&bc, k, b);
    }

    /* weight gradients */
    float *gW = L->g + cf->off_k, *gU = L->g + cf->off_r;
    const float *gt = c->gt;
    if (cf->ids) {
        /* scatter-add of dZ rows into the gathered kernel rows (sequential: deterministic) */
        for (int k = 0; k < T; k++) {
            int t = cf->go_backwards ? T - 1 - k : k;
            for (int b = 0; b < B; b++) {
                long id = (long)(bw->x[(size_t)b * T + t] + 0.5f);
                if (c->mask && !c->mask[(size_t)b * T + t]) continue;
                const float *dz = gt + ((size_t)k * B + b) * nH;
                float *gr = gW + (size_t)id * nH;
                if (!c->xdrop) {
                    for (int j = 0; j < nH; j++) gr[j] += dz[j];
                } else {
                    for (int j = 0; j < nH; j++) {
                        int g = c->gx == 1 ? 0 : j / H;
                        gr[j] += c->mx[((size_t)g * B + b) * C + id] * dz[j];
                    }
                }
            }
        }
    }
    /* dW = Xd^T dZ, dU = Hd^T dZh, db = Σ dZ and dX = dZ W^T over chunks of
     * whole steps (rnn_step_chunk: dZ of a chunk stays in cache). Each chunk
     * writes its own partial dW / dU / db, summed afterwards in chunk order,
     * so threads take chunks and the result does not depend on their number.
     * With per-gate masks (dropout and recurrent_dropout: Keras
     * implementation 1) every gate's GEMMs read a quarter of each dZ row, and
     * Hd_g = h ⊙ m_g (m_g is the same at every step) is built per chunk. */
    int gru_ra = cf->kind == SN_RNN_GRU && cf->reset_after, gru_rb = cf->kind == SN_RNN_GRU && !cf->reset_after;
    int nrec = gru_rb ? 2 : G; /* blocks whose recurrent operand is h itself */
    int kc = rnn_step_chunk(B), nkc = (T + kc - 1) / kc;
    const float *xd = ca + ly.xd;
    float *part = sc + sl.part;
    int nthc = SN_MIN(L->threads > 1 ? L->threads : 1, nkc);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthc) if (nthc > 1)
    for (int ch = 0; ch < nkc; ch++) {
        int k0 = ch * kc, nk = SN_MIN(kc, T - k0), nr = nk * B;
        size_t r0 = (size_t)k0 * B;
        const float *gtc = gt + r0 * nH;
        float *pW = part + (size_t)ch * sl.pz, *pU = pW + sl.pu, *pb = pW + sl.pb;
        float *th = sc + sl.th + r0 * H, *tx = sc + sl.tx + r0 * (cf->ids ? 0 : C);
        memset(pW, 0, sl.pz * sizeof(float));
        if (c->xk) {
            /* (x ⊙ m_g)^T dZ_g: (masked) copies of the chunk's input rows */
            int gw = c->gx == 1 ? nH : H;
            for (int g = 0; g < c->gx; g++) {
                masked_steps(tx, bw->x, c->xdrop ? c->mx + (size_t)g * B * C : NULL, k0, nk, B, T, C,
                             cf->go_backwards);
                sn_gemm(1, 0, C, gw, nr, 1.0f, tx, C, gtc + g * H, nH, 1.0f, pW + g * H, nH);
            }
        } else if (!cf->ids) {
            sn_gemm(1, 0, C, nH, nr, 1.0f, xd + r0 * C, C, gtc, nH, 1.0f, pW, nH);
        }
        if (!c->hdrop) {
            const float *hsc = c->hs + r0 * H;
            if (gru_ra) {
                sn_gemm(1, 0, H, 2 * H, nr, 1.0f, hsc, H, gtc, nH, 1.0f, pU, nH);
                sn_gemm(1, 0, H, H, nr, 1.0f, hsc, H, c->q + r0 * H, H, 1.0f, pU + 2 * H, nH);
            } else {
                sn_gemm(1, 0, H, nrec * H, nr, 1.0f, hsc, H, gtc, nH, 1.0f, pU, nH);
            }
        } else {
            for (int g = 0; g < nrec; g++) {
                const float *m = c->mh + (size_t)(cf->kind == SN_RNN_SIMPLE ? 0 : g) * B * H;
                for (int k = 0; k < nk; k++) {
                    const float *hsrc = c->hs + (r0 + (size_t)k * B) * H;
                    float *d = th + (size_t)k * B * H;
#pragma omp simd
                    for (size_t r = 0; r < (size_t)B * H; r++) d[r] = hsrc[r] * m[r];
                }
                const float *dz = gtc + g * H;
                int ldz = nH;
                if (gru_ra && g == 2) {
                    dz = c->q + r0 * H;
                    ldz = H;
                }
                sn_gemm(1, 0, H, H, nr, 1.0f, th, H, dz, ldz, 1.0f, pU + g * H, nH);
            }
        }
        if (gru_rb) sn_gemm(1, 0, H, H, nr, 1.0f, c->q + r0 * H, H, gtc + 2 * H, nH, 1.0f, pU + 2 * H, nH);
        if (cf->use_bias) {
            colsum_add(pb, gtc, (size_t)nr, nH, nH);
            if (gru_ra) {
                colsum_add(pb + nH, gtc, (size_t)nr, 2 * H, nH);
                colsum_add(pb + nH + 2 * H, c->q + r0 * H, (size_t)nr, H, H);
            }
        }
        /* dx = (dZ W^T) ⊙ m, back to (B,T,C) input order; the chunk's
         * steps own their dx rows (per-gate masks: done in the row kernel) */
        if (bw->dx && !cf->ids && !c->xk) {
            sn_gemm(0, 1, nr, C, nH, 1.0f, gtc, nH, c->W, nH, 0.0f, tx, C);
            scatter_steps(bw->dx, tx, c->xdrop ? c->mx : NULL, k0, nk, B, T, C, cf->go_backwards);
        }
    }
    /* partials in chunk order */
    size_t nw = cf->ids ? 0 : (size_t)C * nH, nu = (size_t)H * nH;
    float *gb = cf->use_bias ? L->g + cf->off_b : NULL;
    size_t nb = gru_ra ? 2 * (size_t)nH : (size_t)nH;
    for (int ch = 0; ch < nkc; ch++) {
        const float *pW = part + (size_t)ch * sl.pz, *pU = pW + sl.pu, *pb = pW + sl.pb;
        for (size_t j = 0; j < nw; j++) gW[j] += pW[j];
        for (size_t j = 0; j < nu; j++) gU[j] += pU[j];
        if (gb)
            for (size_t j = 0; j < nb; j++) gb[j] += pb[j];
    }
}

sn_status sn_rnn_final_states(const sn_layer *L, const float *cache, int B, const float **h, const float **c) {
    if (!sn_rnn_is_recurrent(L) || !cache || B <= 0) return sn_error(SN_ERR_ARG, "sn_rnn_final_states: not a recurrent layer");
    const sn_rnn_cfg *cf = L->cfg;
    rnn_lay ly = rnn_layout(cf, B);
    size_t last = (size_t)cf->T * B * cf->units;
    if (h) *h = cache + ly.hs + last;
    if (c) *c = cf->kind == SN_RNN_LSTM ? cache + ly.cs + last : NULL;
    return SN_OK;
}

static int rnn_describe(const sn_layer *L, char *buf, size_t n) {
    const sn_rnn_cfg *cf = L->cfg;
    char s[512];
    int k = snprintf(s, sizeof s, "%s(%d", rnn_kind_name(cf->kind), cf->units);
#define ADD(...) k += snprintf(s + k, sizeof s - (size_t)k, __VA_ARGS__)
    if (cf->act != SN_ACT_TANH) ADD(", activation=%s", sn_act_name(cf->act));
    if (cf->ract != SN_ACT_SIGMOID) ADD(", recurrent_activation=%s", sn_act_name(cf->ract));
    if (!cf->use_bias) ADD(", use_bias=false");
    if (cf->kinit != SN_INIT_GLOROT_UNIFORM) ADD(", kernel_initializer=%s", sn_init_name(cf->kinit));
    if (cf->rinit != SN_INIT_ORTHOGONAL) ADD(", recurrent_initializer=%s", sn_init_name(cf->rinit));
    if (cf->binit != SN_INIT_ZEROS) ADD(", bias_initializer=%s", sn_init_name(cf->binit));
    if (cf->kind == SN_RNN_LSTM && !cf->unit_forget_bias) ADD(", unit_forget_bias=false");
    if (cf->kind == SN_RNN_GRU && !cf->reset_after) ADD(", reset_after=false");
    if (cf->return_sequences) ADD(", return_sequences=true");
    if (cf->go_backwards) ADD(", go_backwards=true");
    if (cf->unroll) ADD(", unroll=true");
    if (cf->dropout > 0) ADD(", dropout=%g", cf->dropout);
    if (cf->rdropout > 0) ADD(", recurrent_dropout=%g", cf->rdropout);
    if (cf->seed >= 0) ADD(", seed=%ld", cf->seed);
    ADD(")");
#undef ADD
    return snprintf(buf, n, "%s", s);
}

const sn_layer_ops sn_simplernn_ops = {
    .kind = "simplernn", .class_name = "SimpleRNN", .mask_policy = SN_MASK_OWN,
    .configure = simplernn_configure, .build = rnn_build, .init = rnn_init,
    .cache_floats = rnn_cache_floats, .scratch_floats = rnn_scratch_floats,
    .forward = rnn_forward, .backward = rnn_backward, .describe = rnn_describe,
};
const sn_layer_ops sn_lstm_ops = {
    .kind = "lstm", .class_name = "LSTM", .mask_policy = SN_MASK_OWN,
    .configure = lstm_configure, .build = rnn_build, .init = rnn_init,
    .cache_floats = rnn_cache_floats, .scratch_floats = rnn_scratch_floats,
    .forward = rnn_forward, .backward = rnn_backward, .describe = rnn_describe,
};
const sn_layer_ops sn_gru_ops = {
    .kind = "gru", .class_name = "GRU", .mask_policy = SN_MASK_OWN,
    .configure = gru_configure, .build = rnn_build, .init = rnn_init,
    .cache_floats = rnn_cache_floats, .scratch_floats = rnn_scratch_floats,
    .forward = rnn_forward, .backward = rnn_backward, .describe = rnn_describe,
};
