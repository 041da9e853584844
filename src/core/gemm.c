/* sn_gemm: every matmul of seqnn, on BLAS or the portable reference. */
#include "seqnn/core.h"
#include "core/internal.h"

#ifdef SN_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#else
static int omp_get_thread_num(void) { return 0; }
#endif

/* ---- GEMM ---- */
static sn_gemm_backend g_backend = SN_GEMM_BLAS;

void sn_gemm_set_backend(sn_gemm_backend b) { g_backend = b; }
sn_gemm_backend sn_gemm_get_backend(void) { return g_backend; }

/* Portable reference GEMM: i-k-j loop order with a double-free float
 * accumulation in C's row; used to cross-check BLAS and where BLAS is absent. */
static void gemm_portable(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < N; j++) c[j] = 0.0f;
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
        for (int k = 0; k < K; k++) {
            float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
            a *= alpha;
            if (a == 0.0f) continue;
            if (!tb) {
                const float *b = B + (size_t)k * ldb;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            } else {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * ldb + k];
            }
        }
    }
}

static void gemm_one(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                     int ldb, float beta, float *C, int ldc) {
    if (g_backend == SN_GEMM_BLAS && sn_gemm_rb_fits(ta, tb, M, N, K, ldb, ldc)) {
        sn_gemm_rb(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#ifdef SN_HAVE_OPENBLAS
    if (g_backend != SN_GEMM_PORTABLE) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                    A, lda, B, ldb, beta, C, ldc);
        return;
    }
#endif
    gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Parallel GEMM whose results do not depend on the thread count: C is cut
 * into fixed blocks of SN_GEMM_BLOCK rows (or columns when M is small) chosen
 * from the shape alone; each block is one single-threaded BLAS call, so every
 * element is computed by the same kernel call whatever the number of threads.
 * Small products run as one call. */
#define SN_GEMM_BLOCK 128
#define SN_GEMM_PAR_FLOPS 2000000.0

void (*sn_gemm_worker_hook)(int thread);

/* The blocks of one product, run by the threads of one parallel region. Each
 * thread sets the denormal mode on entry and restores its own on exit
 * (OpenMP workers persist between regions and serve the application too). */
static void gemm_blocks(int by_rows, int threads, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    int nb = ((by_rows ? M : N) + SN_GEMM_BLOCK - 1) / SN_GEMM_BLOCK;
#pragma omp parallel num_threads(threads)
    {
        sn_fp_state fp = sn_fp_enter();
        if (sn_gemm_worker_hook) sn_gemm_worker_hook(omp_get_thread_num());
#pragma omp for schedule(static)
        for (int b = 0; b < nb; b++) {
            if (by_rows) {
                int i0 = b * SN_GEMM_BLOCK, mc = SN_MIN(SN_GEMM_BLOCK, M - i0);
                const float *Ab = ta ? A + i0 : A + (size_t)i0 * lda;
                gemm_one(ta, tb, mc, N, K, alpha, Ab, lda, B, ldb, beta, C + (size_t)i0 * ldc, ldc);
            } else {
                int j0 = b * SN_GEMM_BLOCK, nc = SN_MIN(SN_GEMM_BLOCK, N - j0);
                const float *Bb = tb ? B + (size_t)j0 * ldb : B + j0;
                gemm_one(ta, tb, M, nc, K, alpha, A, lda, Bb, ldb, beta, C + j0, ldc);
            }
        }
        sn_fp_leave(fp);
    }
}

void sn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc) {
    /* Negative sizes and short leading dimensions are bugs of the caller
     * (core.h); zero sizes are valid empty products. */
    SN_ASSERT(M >= 0 && N >= 0 && K >= 0);
    if (M == 0 || N == 0) return;
    SN_ASSERT(ldc >= N);
    if (K > 0) SN_ASSERT(lda >= (ta ? M : K) && ldb >= (tb ? K : N));
    sn_fp_state fp = sn_fp_enter();
    if (K == 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        sn_fp_leave(fp);
        return;
    }
    sn_blas_prepare(); /* the OpenBLAS kernel of the active vector path */
    int threads = sn_threads_get(); /* first call also pins OpenBLAS to one thread */
    double flops = 2.0 * M * (double)N * K;
    /* The blocking depends on the shape only, so 1 and N threads agree bit for bit. */
    if (flops < SN_GEMM_PAR_FLOPS || (M < 2 * SN_GEMM_BLOCK && N < 2 * SN_GEMM_BLOCK))
        gemm_one(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        gemm_blocks(M >= 2 * SN_GEMM_BLOCK, threads, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    sn_fp_leave(fp);
}
