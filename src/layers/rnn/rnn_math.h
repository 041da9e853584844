/* Inline arithmetic of the recurrent row kernels (private to
 * src/layers/rnn/): branch-free activations and register-blocked small
 * matrix-vector products. Included by rnn_kern_fwd.h / rnn_kern_bwd.h, so
 * it is compiled once per vector path, with that path's instruction set
 * (rnn_kern_<path>.c). Every function does the same IEEE operations per
 * element on every path: no FMA is formed (ISO C mode compiles with
 * -ffp-contract=off, and the Makefile states it for the kernel files) and no
 * sum is reassociated, so the paths give bit-identical results
 * (tests/test_isa_paths.c checks it). The Makefile also compiles the kernel
 * files with -fno-trapping-math: it lets GCC if-convert the selects of the
 * activations (the clamps, tanh's two branches) so their loops vectorize. It
 * only drops the guarantee about floating-point exception flags; the values
 * are the same IEEE results.
 *
 * Letters: H units; the reduction length of a product is `depth` (H for the
 * recurrent product, C for the input projection); n_gates <= 4 gate blocks.
 */
#ifndef SEQNN_RNN_MATH_H
#define SEQNN_RNN_MATH_H

#include <stdint.h>

#include "layers/layer.h"

/* Forced inlining: the helpers must be compiled inside each path's kernels
 * (AVX-512 / AVX2 / SSE2), not called as separate functions. */
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
 * fixtures pass with these within the derived tolerance of
 * tests/layer_check.h (which counts these ulps). */
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
    case SN_ACT_LINEAR: return;
    default: /* the rarer Keras activations: the layers' scalar formulas */
        for (int j = 0; j < n; j++) v[j] = sn_act_elem(a, v[j]);
        return;
    }
}

/* Derivative of the activation expressed through its output y. */
SN_INLINE float act_d(sn_act a, float y) {
    switch (a) {
    case SN_ACT_TANH: return 1.0f - y * y;
    case SN_ACT_SIGMOID: return y * (1.0f - y);
    case SN_ACT_RELU: return y > 0 ? 1.0f : 0.0f;
    default: return sn_act_elem_d(a, y);
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

/* Gate-parallel forms: all n_gates (<= 4) gate blocks advance together, so a row
 * has 2·n_gates independent accumulator chains (latency, not throughput, bounds
 * these short reductions), and per-gate dropout masks cost no extra pass.
 *
 * gate_matvec: z[g*H + j] += Σ_{i<depth} x_g[i] U[i*ld + g*H + j], g < n_gates, j < H
 * (depth = H for the recurrent product, depth = C for the input projection). */
#define GM_ACC(g, lo, hi)                                                             \
    do {                                                                              \
        float s_ = x[g][i];                                                           \
        lo += s_ * v8_load(u + (g) * H);                                              \
        hi += s_ * v8_load(u + (g) * H + 8);                                          \
    } while (0)
SN_INLINE void gate_matvec_from(int j0, float *restrict z, const float *const *x, const float *restrict U, int ld,
                                 int H, int depth, int n_gates) {
#if defined(__GNUC__)
    for (; j0 + 16 <= H; j0 += 16) {
        sn_v8 z0 = {0}, z1 = {0}, o0 = {0}, o1 = {0}, t0 = {0}, t1 = {0}, r0 = {0}, r1 = {0};
        z0 = v8_load(z + j0), z1 = v8_load(z + j0 + 8);
        if (n_gates > 1) o0 = v8_load(z + H + j0), o1 = v8_load(z + H + j0 + 8);
        if (n_gates > 2) t0 = v8_load(z + 2 * H + j0), t1 = v8_load(z + 2 * H + j0 + 8);
        if (n_gates > 3) r0 = v8_load(z + 3 * H + j0), r1 = v8_load(z + 3 * H + j0 + 8);
        for (int i = 0; i < depth; i++) {
            const float *u = U + (size_t)i * ld + j0;
            GM_ACC(0, z0, z1);
            if (n_gates > 1) GM_ACC(1, o0, o1);
            if (n_gates > 2) GM_ACC(2, t0, t1);
            if (n_gates > 3) GM_ACC(3, r0, r1);
        }
        v8_store(z + j0, z0), v8_store(z + j0 + 8, z1);
        if (n_gates > 1) v8_store(z + H + j0, o0), v8_store(z + H + j0 + 8, o1);
        if (n_gates > 2) v8_store(z + 2 * H + j0, t0), v8_store(z + 2 * H + j0 + 8, t1);
        if (n_gates > 3) v8_store(z + 3 * H + j0, r0), v8_store(z + 3 * H + j0 + 8, r1);
    }
    for (; j0 + 8 <= H; j0 += 8)
        for (int g = 0; g < n_gates; g++) {
            sn_v8 a0 = v8_load(z + g * H + j0);
            for (int i = 0; i < depth; i++) a0 += x[g][i] * v8_load(U + (size_t)i * ld + g * H + j0);
            v8_store(z + g * H + j0, a0);
        }
#endif
    for (; j0 < H; j0++)
        for (int g = 0; g < n_gates; g++) {
            float a0 = z[g * H + j0];
            for (int i = 0; i < depth; i++) a0 += x[g][i] * U[(size_t)i * ld + g * H + j0];
            z[g * H + j0] = a0;
        }
}

SN_INLINE void gate_matvec(float *restrict z, const float *const *x, const float *restrict U, int ld, int H, int depth,
                            int n_gates) {
    gate_matvec_from(0, z, x, U, ld, H, depth, n_gates);
}

/* gate_matvec with one 16-float vector per gate and 16-column block, on the
 * AVX-512 path (this header compiled with -mavx512f; a 64-byte generic
 * vector in the AVX2 path was measured 2x slower). Each output element sees
 * the same multiply and add in the same order as in gate_matvec, so the
 * results are the same; with AVX-512, LSTM(16) inference +8 %, LSTM(32)
 * +17 % (B=256, T=120, 1 thread). */
#if defined(__GNUC__) && defined(__AVX512F__)
#define RNN_HAVE_V16 1
typedef float sn_v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float sn_v16 __attribute__((vector_size(64)));
#define v16_load(p) (*(const sn_v16u *)(const void *)(p))
#define v16_store(p, v) (*(sn_v16u *)(void *)(p) = (v))
SN_INLINE void gm16_body(float *restrict z, const float *const *x, const float *restrict U, int ld, int H, int depth,
                         int n_gates) {
    int j0 = 0;
    for (; j0 + 16 <= H; j0 += 16) {
        sn_v16 z0 = {0}, o0 = {0}, t0 = {0}, r0 = {0};
        z0 = v16_load(z + j0);
        if (n_gates > 1) o0 = v16_load(z + H + j0);
        if (n_gates > 2) t0 = v16_load(z + 2 * H + j0);
        if (n_gates > 3) r0 = v16_load(z + 3 * H + j0);
        for (int i = 0; i < depth; i++) {
            const float *u = U + (size_t)i * ld + j0;
            z0 += x[0][i] * v16_load(u);
            if (n_gates > 1) o0 += x[1][i] * v16_load(u + H);
            if (n_gates > 2) t0 += x[2][i] * v16_load(u + 2 * H);
            if (n_gates > 3) r0 += x[3][i] * v16_load(u + 3 * H);
        }
        v16_store(z + j0, z0);
        if (n_gates > 1) v16_store(z + H + j0, o0);
        if (n_gates > 2) v16_store(z + 2 * H + j0, t0);
        if (n_gates > 3) v16_store(z + 3 * H + j0, r0);
    }
    gate_matvec_from(j0, z, x, U, ld, H, depth, n_gates);
}
/* one function per gate count, so the gate branches fold away */
#define GM16(g)                                                                                                    \
    __attribute__((noinline)) static void gm16_##g(float *restrict z, const float *const *x, const float *restrict U, \
                                                   int ld, int H, int depth) {                                     \
        gm16_body(z, x, U, ld, H, depth, g);                                                                       \
    }
GM16(1)
GM16(2)
GM16(3)
GM16(4)
#undef GM16
#endif

/* gate_matvec, through the 16-wide kernel on the AVX-512 path. */
SN_INLINE void gate_matvec_path(float *restrict z, const float *const *x, const float *restrict U, int ld, int H,
                                int depth, int n_gates) {
#ifdef RNN_HAVE_V16
    if (H >= 16) {
        switch (n_gates) {
        case 1: gm16_1(z, x, U, ld, H, depth); return;
        case 2: gm16_2(z, x, U, ld, H, depth); return;
        case 3: gm16_3(z, x, U, ld, H, depth); return;
        default: gm16_4(z, x, U, ld, H, depth); return;
        }
    }
#endif
    gate_matvec(z, x, U, ld, H, depth, n_gates);
}

/* z[g*H + j] += Σ_i (hp[i] * m_g[i]) U[i, g*H + j] for gate blocks g0 <= g < g1.
 * hp: (H); mh: gate mask rows (each (H), row already selected) or NULL;
 * U (H, gate_cols); hd: (gate_cols) work row for the masked copies of h. */
SN_INLINE void rec_accum(float *restrict z, const float *restrict hp, const float *const *mh,
                         const float *restrict U, int H, int gate_cols, int g0, int g1, float *restrict hd) {
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
    gate_matvec_path(z + g0 * H, x, U + g0 * H, gate_cols, H, H, g1 - g0);
}

/* gate_matvec_t: out[i] += Σ_g m_g[i] Σ_{j<H} dz_g[j] Ut[(g*H + j)*ldu + i], i < n,
 * g < n_gates (<= 4); m NULL = no masks. dz_g: (H) each; Ut: (gate_cols, ldu)
 * rows of U^T (n = ldu = H), or of W^T zero-padded to ldu = round8(C) columns for
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
                             int ldu, int n_gates, const float *const *m) {
    int i0 = 0;
#if defined(__GNUC__)
    for (; i0 + 16 <= n; i0 += 16) {
        sn_v8 z0 = {0}, z1 = {0}, o0 = {0}, o1 = {0}, t0 = {0}, t1 = {0}, r0 = {0}, r1 = {0};
        for (int j = 0; j < H; j++) {
            GT_ACC(0, z0, z1);
            if (n_gates > 1) GT_ACC(1, o0, o1);
            if (n_gates > 2) GT_ACC(2, t0, t1);
            if (n_gates > 3) GT_ACC(3, r0, r1);
        }
        sn_v8 s0 = {0}, s1 = {0};
        GT_OUT(0, z0, z1);
        if (n_gates > 1) GT_OUT(1, o0, o1);
        if (n_gates > 2) GT_OUT(2, t0, t1);
        if (n_gates > 3) GT_OUT(3, r0, r1);
        v8_store(out + i0, v8_load(out + i0) + s0);
        v8_store(out + i0 + 8, v8_load(out + i0 + 8) + s1);
    }
    for (; i0 + 8 <= n; i0 += 8) {
        sn_v8 s0 = {0};
        for (int g = 0; g < n_gates; g++) {
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
        for (int g = 0; g < n_gates; g++) {
            float a0 = 0.0f;
            for (int j = 0; j < H; j++) a0 += dz[g][j] * Ut[((size_t)g * H + j) * ldu + i0];
            s0 += m ? a0 * m[g][i0] : a0;
        }
        out[i0] += s0;
    }
}

/* 1 for the default activation pair, whose loops get constant arguments. */
#define RNN_DEFAULT_ACTS(A, RA) ((A) == SN_ACT_TANH && (RA) == SN_ACT_SIGMOID)

/* act(x) for one element: the operations of act_vec's loops. */
SN_INLINE float act1(sn_act a, float x) {
    switch (a) {
    case SN_ACT_TANH: return fast_tanhf(x);
    case SN_ACT_SIGMOID: return sigm(x);
    case SN_ACT_RELU: return x > 0 ? x : 0.0f;
    default: return sn_act_elem(a, x);
    }
}

#endif
