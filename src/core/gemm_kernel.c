/* seqnn's own register-blocked GEMM kernel (sn_gemm_rb) for the products
 * OpenBLAS runs far below this CPU's speed: the weight gradients of the
 * recurrent layers, dW = X^T dZ and dU = H^T dZ, whose output is tiny
 * (M = C or H <= 32 rows, N = G*H <= 128 columns) and whose sum is long
 * (K = 1024 rows of a chunk of time steps). OpenBLAS 0.3.21's SkylakeX and
 * Haswell kernels pack such operands for a large-output kernel and reach
 * 45-65 % of oneDNN's sgemm on them (bench/gemm_bench.c,
 * docs/performance.md); this kernel keeps a whole MR x NR tile of C in
 * registers for the entire K loop and streams A and B once per tile.
 *
 *   C (M,N) = alpha * op(A) (M,K) * B (K,N) + beta * C,   B row-major (tb = 0)
 *   op(A)(i,k) = ta ? A[k*lda + i] : A[i*lda + k]
 *
 * Tile: MR rows x NV vectors of C. Per k: NV loads of B's row k, MR
 * broadcasts of op(A)(i0..i0+MR, k), MR*NV FMAs into the accumulators.
 *   avx512: MR <= 8, NV <= 2 (16 zmm accumulators, 32 columns), masked tails
 *   avx2:   MR <= 6, NV <= 2 (12 ymm accumulators, 16 columns), masked tails
 * Each element is sum_k op(A)(i,k) B(k,j) by one FMA chain in k order, then
 * alpha * acc (+ beta * C): the result depends on the shape and the path
 * only, never on the thread count or the tiling of C.
 * Also here: outer products (K == 1, B's row contiguous) on the same tiles,
 * and the N == 1 products of a Dense(1) head: row dot products (dot_rows*)
 * and column axpys (axpy_cols*). */
#include "seqnn/core.h"
#include "core/internal.h"

#include <immintrin.h>

#define RB_PF 32 /* software prefetch distance in rows of B and op(A) */

#define RB_ARGS                                                                                                  \
    int MR, int NV, int K, const float *A, size_t rsa, size_t csa, const float *B, size_t ldb, float *C, size_t ldc, \
        float alpha, float beta, int nc, int pfa, int pfb

/* Compile-time variants of each tile (the k loop is register-bound: 16
 * accumulators, the B row, a broadcast, the pointers): FULL, every column
 * of the tile exists (plain loads and stores, no masks); TRA, op(A) is
 * A^T, so the tile's MR values of op(A) at step k are contiguous (rsa == 1,
 * immediate offsets instead of MR index registers). Prefetch offsets are 0
 * (a line being read anyway) when off, so the loop has no branch. */

/* ---- AVX-512 ---- */
__attribute__((target("avx512f"), always_inline)) static inline void tile512(RB_ARGS, const int FULL, const int TRA) {
    __m512 acc[8][2];
    __mmask16 m[2];
    for (int v = 0; v < 2; v++) {
        int left = nc - 16 * v;
        m[v] = left >= 16 ? (__mmask16)0xffff : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    /* Operands are often cold (dZ is written for all steps before the
     * weight gradients run), and these row-strided streams are ones the
     * hardware prefetchers miss: fetch RB_PF rows ahead on the first pass
     * over each (pfb: the first row tile reads B first; pfa: the first
     * column tile reads the strip of op(A) first); later passes find the
     * data in L2, where prefetching into L1 only costs. */
    const size_t pb = pfb ? RB_PF * ldb : 0, pa = pfa ? RB_PF * csa : 0;
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb, *a = A + (size_t)k * csa;
        _mm_prefetch((const char *)(b + pb), _MM_HINT_T0);
        if (NV > 1) _mm_prefetch((const char *)(b + pb + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(a + pa), _MM_HINT_T0);
        __m512 bv[2];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) bv[v] = FULL ? _mm512_loadu_ps(b + 16 * v) : _mm512_maskz_loadu_ps(m[v], b + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[TRA ? (size_t)r : (size_t)r * rsa]);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            float *c = C + (size_t)r * ldc + 16 * v;
            __m512 y = _mm512_mul_ps(al, acc[r][v]);
            if (FULL) {
                if (beta != 0.0f) y = _mm512_fmadd_ps(be, _mm512_loadu_ps(c), y);
                _mm512_storeu_ps(c, y);
            } else {
                if (beta != 0.0f) y = _mm512_fmadd_ps(be, _mm512_maskz_loadu_ps(m[v], c), y);
                _mm512_mask_storeu_ps(c, m[v], y);
            }
        }
}

typedef void (*rb_tile_fn)(RB_ARGS);
#define RB512(mr, nv)                                                                                      \
    __attribute__((target("avx512f"), noinline)) static void t512_##mr##_##nv(RB_ARGS) {                 \
        (void)MR;                                                                                          \
        (void)NV;                                                                                          \
        int full = nc == 16 * (nv);                                                                        \
        if (rsa == 1) {                                                                                    \
            if (full) tile512(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 1, 1);   \
            else tile512(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 0, 1);        \
        } else {                                                                                           \
            if (full) tile512(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 1, 0);   \
            else tile512(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 0, 0);        \
        }                                                                                                  \
    }
RB512(1, 1) RB512(2, 1) RB512(3, 1) RB512(4, 1) RB512(5, 1) RB512(6, 1) RB512(7, 1) RB512(8, 1)
RB512(1, 2) RB512(2, 2) RB512(3, 2) RB512(4, 2) RB512(5, 2) RB512(6, 2) RB512(7, 2) RB512(8, 2)
static const rb_tile_fn g_t512[2][8] = {
    {t512_1_1, t512_2_1, t512_3_1, t512_4_1, t512_5_1, t512_6_1, t512_7_1, t512_8_1},
    {t512_1_2, t512_2_2, t512_3_2, t512_4_2, t512_5_2, t512_6_2, t512_7_2, t512_8_2}};

/* ---- AVX2 + FMA ---- */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256i mask8(int left) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left < 0 ? 0 : left), idx);
}

/* AVX2 masked moves are slow and their masks take registers the full
 * tiles need: FULL tiles use plain loads and stores. */
__attribute__((target("avx2,fma"), always_inline)) static inline void tile256(RB_ARGS, const int FULL, const int TRA) {
    __m256 acc[6][2];
    __m256i m[2];
    for (int v = 0; v < 2; v++) m[v] = mask8(nc - 8 * v);
#define LD256(p, v) (FULL ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m[v]))
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[r][v] = _mm256_setzero_ps();
    const size_t pb = pfb ? RB_PF * ldb : 0, pa = pfa ? RB_PF * csa : 0; /* as in tile512 */
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb, *a = A + (size_t)k * csa;
        _mm_prefetch((const char *)(b + pb), _MM_HINT_T0);
        _mm_prefetch((const char *)(a + pa), _MM_HINT_T0);
        __m256 bv[2];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) bv[v] = LD256(b + 8 * v, v);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(a + (TRA ? (size_t)r : (size_t)r * rsa));
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    __m256 al = _mm256_set1_ps(alpha), be = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            float *c = C + (size_t)r * ldc + 8 * v;
            __m256 y = _mm256_mul_ps(al, acc[r][v]);
            if (beta != 0.0f) y = _mm256_fmadd_ps(be, LD256(c, v), y);
            if (FULL)
                _mm256_storeu_ps(c, y);
            else
                _mm256_maskstore_ps(c, m[v], y);
        }
#undef LD256
}

#define RB256(mr, nv)                                                                                      \
    __attribute__((target("avx2,fma"), noinline)) static void t256_##mr##_##nv(RB_ARGS) {                \
        (void)MR;                                                                                          \
        (void)NV;                                                                                          \
        int full = nc == 8 * (nv);                                                                         \
        if (rsa == 1) {                                                                                    \
            if (full) tile256(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 1, 1);   \
            else tile256(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 0, 1);        \
        } else {                                                                                           \
            if (full) tile256(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 1, 0);   \
            else tile256(mr, nv, K, A, rsa, csa, B, ldb, C, ldc, alpha, beta, nc, pfa, pfb, 0, 0);        \
        }                                                                                                  \
    }
RB256(1, 1) RB256(2, 1) RB256(3, 1) RB256(4, 1) RB256(5, 1) RB256(6, 1)
RB256(1, 2) RB256(2, 2) RB256(3, 2) RB256(4, 2) RB256(5, 2) RB256(6, 2)
static const rb_tile_fn g_t256[2][6] = {{t256_1_1, t256_2_1, t256_3_1, t256_4_1, t256_5_1, t256_6_1},
                                        {t256_1_2, t256_2_2, t256_3_2, t256_4_2, t256_5_2, t256_6_2}};

/* ---- N == 1, A not transposed: C[i] = alpha * dot(A[i,:], b) + beta * C[i]
 * with b contiguous (the Dense(1) head's forward product, K small). One
 * vector FMA chain along k per row, then a fixed-order horizontal sum. ---- */
__attribute__((target("avx512f"))) static void dot_rows512(int M, int K, float alpha, const float *A, int lda,
                                                            const float *b, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        __m512 acc = _mm512_setzero_ps();
        for (int k = 0; k < K; k += 16) {
            __mmask16 m = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), acc);
        }
        float y = alpha * _mm512_reduce_add_ps(acc);
        C[(size_t)i * ldc] = beta != 0.0f ? y + beta * C[(size_t)i * ldc] : y;
    }
}

__attribute__((target("avx2,fma"))) static void dot_rows256(int M, int K, float alpha, const float *A, int lda,
                                                             const float *b, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        __m256 acc = _mm256_setzero_ps();
        for (int k = 0; k < K; k += 8) {
            __m256i m = mask8(K - k);
            acc = _mm256_fmadd_ps(_mm256_maskload_ps(a + k, m), _mm256_maskload_ps(b + k, m), acc);
        }
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
        float y = alpha * _mm_cvtss_f32(h);
        C[(size_t)i * ldc] = beta != 0.0f ? y + beta * C[(size_t)i * ldc] : y;
    }
}

/* ---- N == 1, A transposed: C[i] = alpha * sum_k A[k,i] b[k] + beta * C[i],
 * C contiguous (ldc == 1): up to four vectors of C accumulate along k, in
 * two FMA chains each (even and odd k, added at the end: a fixed order)
 * (the Dense(1) head's weight gradient). ---- */
__attribute__((target("avx512f"))) static void axpy_cols512(int M, int K, float alpha, const float *A, int lda,
                                                             const float *b, size_t bs, float beta, float *C) {
    for (int i0 = 0; i0 < M; i0 += 64) {
        __m512 acc[4];
        __mmask16 m[4];
        int nv = SN_MIN(4, (M - i0 + 15) / 16);
        for (int v = 0; v < 4; v++) {
            int left = M - i0 - 16 * v;
            m[v] = left >= 16 ? (__mmask16)0xffff : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
            acc[v] = _mm512_setzero_ps();
        }
        __m512 odd[4];
        for (int v = 0; v < 4; v++) odd[v] = _mm512_setzero_ps();
        int k = 0;
        for (; k + 1 < K; k += 2) { /* even and odd k in two chains: twice the FMAs in flight */
            __m512 b0 = _mm512_set1_ps(b[(size_t)k * bs]), b1 = _mm512_set1_ps(b[(size_t)(k + 1) * bs]);
            const float *a = A + (size_t)k * lda + i0;
            for (int v = 0; v < nv; v++) {
                acc[v] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[v], a + 16 * v), b0, acc[v]);
                odd[v] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[v], a + lda + 16 * v), b1, odd[v]);
            }
        }
        if (k < K) {
            __m512 bk = _mm512_set1_ps(b[(size_t)k * bs]);
            const float *a = A + (size_t)k * lda + i0;
            for (int v = 0; v < nv; v++) acc[v] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m[v], a + 16 * v), bk, acc[v]);
        }
        for (int v = 0; v < nv; v++) acc[v] = _mm512_add_ps(acc[v], odd[v]);
        for (int v = 0; v < nv; v++) {
            __m512 y = _mm512_mul_ps(_mm512_set1_ps(alpha), acc[v]);
            if (beta != 0.0f) y = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m[v], C + i0 + 16 * v), y);
            _mm512_mask_storeu_ps(C + i0 + 16 * v, m[v], y);
        }
    }
}

__attribute__((target("avx2,fma"))) static void axpy_cols256(int M, int K, float alpha, const float *A, int lda,
                                                              const float *b, size_t bs, float beta, float *C) {
    for (int i0 = 0; i0 < M; i0 += 32) {
        __m256 acc[4];
        __m256i m[4];
        int nv = SN_MIN(4, (M - i0 + 7) / 8);
        for (int v = 0; v < 4; v++) {
            m[v] = mask8(M - i0 - 8 * v);
            acc[v] = _mm256_setzero_ps();
        }
        __m256 odd[4];
        for (int v = 0; v < 4; v++) odd[v] = _mm256_setzero_ps();
        int k = 0;
        for (; k + 1 < K; k += 2) { /* even and odd k in two chains, as axpy_cols512 */
            __m256 b0 = _mm256_broadcast_ss(b + (size_t)k * bs), b1 = _mm256_broadcast_ss(b + (size_t)(k + 1) * bs);
            const float *a = A + (size_t)k * lda + i0;
            for (int v = 0; v < nv; v++) {
                acc[v] = _mm256_fmadd_ps(_mm256_maskload_ps(a + 8 * v, m[v]), b0, acc[v]);
                odd[v] = _mm256_fmadd_ps(_mm256_maskload_ps(a + lda + 8 * v, m[v]), b1, odd[v]);
            }
        }
        if (k < K) {
            __m256 bk = _mm256_broadcast_ss(b + (size_t)k * bs);
            const float *a = A + (size_t)k * lda + i0;
            for (int v = 0; v < nv; v++) acc[v] = _mm256_fmadd_ps(_mm256_maskload_ps(a + 8 * v, m[v]), bk, acc[v]);
        }
        for (int v = 0; v < nv; v++) acc[v] = _mm256_add_ps(acc[v], odd[v]);
        for (int v = 0; v < nv; v++) {
            __m256 y = _mm256_mul_ps(_mm256_set1_ps(alpha), acc[v]);
            if (beta != 0.0f) y = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(C + i0 + 8 * v, m[v]), y);
            _mm256_maskstore_ps(C + i0 + 8 * v, m[v], y);
        }
    }
}

/* Which of seqnn's kernels takes a product: 0 none (OpenBLAS), 1 tiles,
 * 2 row dots, 3 column axpys. The rules are where these measured faster
 * than OpenBLAS's best core of the path (docs/performance.md,
 * bench/gemm_bench.c). */
static int rb_kind(int ta, int tb, int M, int N, int K, int ldb, int ldc) {
    sn_isa isa = sn_isa_get();
    if (isa < SN_ISA_AVX2) return 0;
    /* long sums: loads and stores of C amortised. On avx2 OpenBLAS's
     * Haswell kernel is ahead where both M and N are large. */
    if (!tb && N >= 16 && K >= 256 && (isa >= SN_ISA_AVX512 || M <= 32 || N <= 32)) return 1;
    /* short sums on avx2 (the input projections of C = 14 features): ahead of
     * Haswell's kernel there (106 vs 85 GFLOP/s at 128 x 64 x 14), behind
     * SkylakeX's on avx512 */
    if (!tb && isa == SN_ISA_AVX2 && K <= 16 && N >= 16) return 1;
    if (K == 1 && N >= 8 && (!tb || ldb == 1)) return 1; /* outer products: B's one row contiguous */
    if (N == 1 && !ta && (tb || ldb == 1) && (isa < SN_ISA_AVX512 || K <= 16)) return 2; /* dots, b contiguous */
    if (N == 1 && ta && ldc == 1 && isa < SN_ISA_AVX512) return 3;
    return 0;
}

int sn_gemm_rb_fits(int ta, int tb, int M, int N, int K, int ldb, int ldc) {
    return rb_kind(ta, tb, M, N, K, ldb, ldc) != 0;
}

void sn_gemm_rb(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc) {
    int kind = rb_kind(ta, tb, M, N, K, ldb, ldc);
    SN_ASSERT(kind && M >= 0 && N >= 0 && K >= 0);
    const int w512 = sn_isa_get() >= SN_ISA_AVX512;
    if (kind == 2) {
        (w512 ? dot_rows512 : dot_rows256)(M, K, alpha, A, lda, B, beta, C, ldc);
        return;
    }
    if (kind == 3) { /* b[k] = B(k, 0): B[k*ldb] (tb == 0) or B[k] (tb == 1) */
        (w512 ? axpy_cols512 : axpy_cols256)(M, K, alpha, A, lda, B, tb ? 1 : (size_t)ldb, beta, C);
        return;
    }
    const size_t rsa = ta ? 1 : (size_t)lda, csa = ta ? (size_t)lda : 1;
    const int vw = w512 ? 16 : 8, maxmr = w512 ? 8 : 6;
    /* Row tiles outside: a tile row's strip of op(A) (K x MR) is read from
     * memory once and stays in cache for all column tiles; B (K x N) is
     * re-read from L2 per row tile. */
    for (int i0 = 0; i0 < M; i0 += maxmr) {
        int mr = SN_MIN(maxmr, M - i0);
        for (int j0 = 0; j0 < N; j0 += 2 * vw) {
            int nc = SN_MIN(2 * vw, N - j0), nv = nc > vw ? 2 : 1;
            rb_tile_fn f = w512 ? g_t512[nv - 1][mr - 1] : g_t256[nv - 1][mr - 1];
            f(mr, nv, K, A + (size_t)i0 * rsa, rsa, csa, B + j0, (size_t)ldb, C + (size_t)i0 * ldc + j0, (size_t)ldc,
              alpha, beta, nc, j0 == 0, i0 == 0);
        }
    }
}
