/* Internal helpers shared by the library's modules (not installed). */
#ifndef SEQNN_INTERNAL_H
#define SEQNN_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>
#include "seqnn/core.h"

/* Always-on invariant check: an internal bug, never a user error. Prints
 * file:line and aborts (the one place the library may stop the process). */
#define SN_ASSERT(cond)                                                                          \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "seqnn internal error: %s:%d: assertion `%s` failed\n", __FILE__,    \
                    __LINE__, #cond);                                                            \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* ---- Floating-point environment (core/fpenv.c). seqnn's arithmetic runs
 * with denormals flushed to zero (FTZ) and treated as zero on input (DAZ):
 * on Intel cores every denormal operand costs a micro-code assist, and a long
 * BPTT produces mostly denormal gradients. Every thread that computes for
 * seqnn sets the mode on entry and restores the caller's mode on exit:
 *   - public compute entry points (fit, predict, evaluate, ...) on the
 *     calling thread;
 *   - the start and end of every OpenMP parallel region (workers persist
 *     between regions and are shared with the application's own OpenMP code):
 *
 *     #pragma omp parallel num_threads(nt)
 *     {
 *         sn_fp_state fp = sn_fp_enter();
 *     #pragma omp for schedule(static)
 *         for (...) ...
 *         sn_fp_leave(fp);
 *     }
 * Both are cheap (one control-register read and write). sn_denormals_set(0)
 * turns flushing off process-wide (then enter/leave change nothing).
 * Enter/leave nest, and only the FTZ/DAZ bits are restored (exception flags
 * raised meanwhile stay). A worker that OpenMP creates inside a flushed
 * region inherits the flushed MXCSR from its creator; its first enter sees
 * that (core/fpenv.c) and its leave clears the bits, so no thread keeps the
 * mode after seqnn returns (tests/test_platform.c). */
typedef struct sn_fp_state {
    unsigned csr;  /* the FTZ/DAZ bits to put back */
    int entered;   /* flushing was on: leave pops this thread's depth */
    int restore;   /* leave writes csr's bits back */
    int outer;     /* this enter changed the mode of a thread not yet in seqnn */
} sn_fp_state;
sn_fp_state sn_fp_enter(void);
void sn_fp_leave(sn_fp_state s);

/* ---- BLAS kernel choice (core/blas.c; core.h: sn_blas_info_get). Makes
 * OpenBLAS run the kernel set of the active vector path; cheap after the
 * first call (one atomic load). sn_gemm calls it; so does anything that
 * calls cblas_* directly. */
void sn_blas_prepare(void);

/* ---- seqnn's own register-blocked kernel (core/gemm_kernel.c) for the
 * products OpenBLAS runs slowly (long sums into a small C, outer products,
 * short dot products), on the avx2 and avx512 paths. sn_gemm_rb_fits says whether
 * sn_gemm sends a (block) product of this shape to it on the active path. */
int sn_gemm_rb_fits(int ta, int tb, int M, int N, int K, int ldb, int ldc);
void sn_gemm_rb(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                float beta, float *C, int ldc);

/* Test hook (tests/test_platform.c): when set, every thread of sn_gemm's
 * parallel region calls it once, inside the region after sn_fp_enter, with
 * its OpenMP thread number. NULL in production. */
extern void (*sn_gemm_worker_hook)(int thread);

#define SN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SN_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Checked allocation helpers: return NULL and set sn_error_last on failure
 * (including n*size overflow). Memory is zeroed by sn_calloc. */
void *sn_malloc(size_t n, size_t size);
void *sn_calloc(size_t n, size_t size);
void *sn_realloc(void *p, size_t n, size_t size);
/* 64-byte aligned, zeroed; free with free(). */
void *sn_aligned_calloc(size_t n, size_t size);
/* Test hook: after the next n allocations through the four functions above,
 * every one fails (NULL, SN_ERR_NOMEM) until the hook is reset with n < 0,
 * the default. Process-wide and not synchronised: for single-threaded tests
 * of out-of-memory paths only. */
void sn_alloc_fail_after(long n);

#endif
