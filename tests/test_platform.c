/* Platform: denormal flushing in the caller's and the OpenMP workers'
 * threads (and its off switch), the OpenBLAS kernel seqnn chooses for the
 * vector path, and `seqnn version --verbose`. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
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

/* ---- The OpenBLAS kernel: the one of the active path, unless the user
 * set OPENBLAS_CORETYPE (then exactly that). ---- */
static int core_of_path(const char *core, sn_isa isa) {
    /* one core per path (core/blas.c); sse2 on an AVX-only CPU: Sandybridge */
    static const char *const want[3] = {"Prescott", "Haswell", "SkylakeX"};
    if (isa == SN_ISA_SSE2 && sn_isa_detect() == SN_ISA_SSE2) return !strcasecmp(core, "Sandybridge");
    return !strcasecmp(core, want[isa]);
}

TEST(blas_kernel_follows_vector_path) {
    sn_blas_info bi;
    sn_blas_info_get(&bi);
    if (!strstr(bi.library, "OpenBLAS") || !strstr(bi.library, "DYNAMIC_ARCH")) SKIP("not a DYNAMIC_ARCH OpenBLAS");
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (user && *user) {
        CHECK_MSG(!strcasecmp(bi.core, user), "OPENBLAS_CORETYPE=%s but OpenBLAS runs %s", user, bi.core);
        CHECK(strstr(bi.reason, "OPENBLAS_CORETYPE"));
        return;
    }
    sn_isa keep = sn_isa_get();
    float a[4] = {1, 2, 3, 4}, c[4];
    for (int p = (int)sn_isa_detect(); p >= SN_ISA_SSE2; p--) {
        CHECK_OK(sn_isa_set((sn_isa)p));
        sn_gemm(0, 0, 2, 2, 2, 1.0f, a, 2, a, 2, 0.0f, c, 2); /* the first GEMM on this path chooses */
        CHECK(c[0] == 7.0f && c[3] == 22.0f);
        sn_blas_info_get(&bi);
        CHECK_MSG(core_of_path(bi.core, (sn_isa)p) || (p == SN_ISA_SSE2 && sn_isa_detect() == SN_ISA_SSE2),
                  "path %s runs OpenBLAS %s (%s)", sn_isa_name((sn_isa)p), bi.core, bi.reason);
        CHECK_MSG(!getenv("OPENBLAS_CORETYPE"), "the switch left OPENBLAS_CORETYPE in the environment");
    }
    CHECK_OK(sn_isa_set(keep));
    sn_blas_info_get(&bi);
    CHECK(core_of_path(bi.core, keep) || keep == SN_ISA_SSE2);
}

/* ---- seqnn version ---- */
static const char *cli(void) {
    const char *c = getenv("SEQNN_CLI");
    return c ? c : "build/seqnn";
}
static int run(char *out, size_t n, const char *env, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "env %s %s %s 2>&1", env, cli(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t k = fread(out, 1, n - 1, p);
    out[k] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(cli_version_verbose_reports_the_machine) {
    if (access(cli(), X_OK) != 0) SKIP("seqnn binary not built (run through make test)");
    static char out[8192];
    CHECK(run(out, sizeof out, "-u SEQNN_ISA", "version --verbose") == 0);
    const char *lines[] = {"seqnn " SEQNN_VERSION, "cpu:", "vector path:", "denormals:    flushed", "threads:",
                           "blas:", "blas kernel:"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) CHECK_MSG(strstr(out, lines[i]), "no '%s' in\n%s", lines[i], out);
    CHECK(strstr(out, sn_isa_name(sn_isa_detect())));
    /* the off switch, read from the environment */
    CHECK(run(out, sizeof out, "SEQNN_FLUSH_DENORMALS=0", "version --verbose") == 0);
    CHECK_MSG(strstr(out, "denormals:    kept"), "%s", out);
    /* a path that does not exist, or that this CPU lacks, is refused */
    CHECK(run(out, sizeof out, "SEQNN_ISA=avx9", "version") == 2);
    CHECK(strstr(out, "SEQNN_ISA") && strstr(out, "avx9"));
    if (sn_isa_detect() < SN_ISA_AVX512) {
        CHECK(run(out, sizeof out, "SEQNN_ISA=avx512", "version") == 2);
    } else {
        CHECK(run(out, sizeof out, "SEQNN_ISA=sse2", "version --verbose") == 0);
        CHECK_MSG(strstr(out, "vector path:  sse2 (detected avx512, forced by SEQNN_ISA)"), "%s", out);
    }
}
