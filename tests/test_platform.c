/* Platform: denormal flushing in the caller's and the OpenMP workers'
 * threads, and its off switch. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "seqnn.h"
#include "core/internal.h"
#include "test.h"

#if defined(__x86_64__) && defined(_OPENMP)
#define FLUSH_BITS 0x8040u /* MXCSR FTZ (bit 15) | DAZ (bit 6) */
#define MAXT 8

/* What each thread of sn_gemm's parallel region saw (sn_gemm_worker_hook). */
static atomic_uint g_seen_csr[MAXT];
static atomic_int g_seen[MAXT];
static void record_worker(int t) {
    if (t >= 0 && t < MAXT) {
        atomic_store(&g_seen_csr[t], _mm_getcsr());
        atomic_store(&g_seen[t], 1);
    }
}

/* A (M,K) of denormals 1e-39 times B (K,N) of 1e30: every product is 1e-9, a
 * normal float, so C = K * 1e-9 when denormals are kept; with DAZ the
 * denormal inputs read as 0 and C = 0 exactly. Runs sn_gemm at 2 threads
 * (M = 512: four 128-row blocks, two per thread) from a caller whose MXCSR
 * has neither bit; returns the number of threads seen and checks that the
 * caller's MXCSR is unchanged afterwards. */
static int denormal_gemm(int K, float *c_out, unsigned *caller_after, unsigned csr_seen[MAXT]) {
    enum { M = 512, N = 64 };
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) A[i] = 1e-39f;
    for (int i = 0; i < K * N; i++) B[i] = 1e30f;
    for (int t = 0; t < MAXT; t++) atomic_store(&g_seen[t], 0);
    unsigned caller = _mm_getcsr();
    _mm_setcsr(caller & ~FLUSH_BITS);
    int old = sn_threads_get();
    sn_threads_set(2);
    sn_gemm_worker_hook = record_worker;
    sn_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    sn_gemm_worker_hook = NULL;
    sn_threads_set(old);
    *caller_after = _mm_getcsr();
    _mm_setcsr(caller);
    float cmax = 0;
    for (int i = 0; i < M * N; i++) cmax = C[i] > cmax ? C[i] : cmax;
    *c_out = cmax;
    int n = 0;
    for (int t = 0; t < MAXT; t++)
        if (atomic_load(&g_seen[t])) {
            csr_seen[n++] = atomic_load(&g_seen_csr[t]);
        }
    free(A);
    free(B);
    free(C);
    return n;
}

/* The worker threads' own MXCSR in a plain OpenMP region after seqnn's:
 * the pool is reused, so these are the threads that ran the blocks. */
static int workers_clean(void) {
    int clean = 1;
    unsigned caller = _mm_getcsr();
    _mm_setcsr(caller & ~FLUSH_BITS);
#pragma omp parallel num_threads(2) reduction(&& : clean)
    clean = (_mm_getcsr() & FLUSH_BITS) == 0;
    _mm_setcsr(caller);
    return clean;
}

TEST(denormals_flushed_in_gemm_worker_threads) {
    int keep = sn_denormals_get();
    sn_denormals_set(1);
    /* K = 64: an OpenBLAS product; K = 256: seqnn's own kernel where the path has it */
    for (int K = 64; K <= 256; K *= 4) {
        float cmax;
        unsigned after, seen[MAXT];
        int n = denormal_gemm(K, &cmax, &after, seen);
        CHECK_MSG(n == 2, "K=%d: %d threads ran the region, expected 2", K, n);
        for (int t = 0; t < n; t++)
            CHECK_MSG((seen[t] & FLUSH_BITS) == FLUSH_BITS, "K=%d: a worker ran with MXCSR %#x", K, seen[t]);
        CHECK_MSG(cmax == 0.0f, "K=%d: denormal inputs not read as zero (max C %g)", K, cmax);
        CHECK_MSG((after & FLUSH_BITS) == 0, "K=%d: caller's MXCSR left at %#x", K, after);
        CHECK_MSG(workers_clean(), "K=%d: a worker thread kept FTZ/DAZ after the region", K);
    }
    sn_denormals_set(keep);
}

TEST(denormals_kept_when_switched_off) {
    int keep = sn_denormals_get();
    sn_denormals_set(0);
    float cmax;
    unsigned after, seen[MAXT];
    int n = denormal_gemm(64, &cmax, &after, seen);
    sn_denormals_set(keep);
    CHECK(n == 2);
    for (int t = 0; t < n; t++) CHECK_MSG((seen[t] & FLUSH_BITS) == 0, "a worker ran with MXCSR %#x", seen[t]);
    /* 64 products of 1e-9 each: 6.4e-8 up to float rounding (relative 64 u) */
    CHECK_CLOSE(cmax, 64 * 1e-9, 0, 1e-5);
    CHECK((after & FLUSH_BITS) == 0);
}
#else
TEST(denormals_flushed_in_gemm_worker_threads) { SKIP("MXCSR checks need x86-64 and OpenMP"); }
#endif

