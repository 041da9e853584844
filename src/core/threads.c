/* The thread count used by seqnn's parallel kernels (OpenMP and OpenBLAS). */
#define _POSIX_C_SOURCE 200809L
#include "seqnn/core.h"

#include <stdlib.h>
#include <unistd.h>

#ifdef SN_HAVE_OPENBLAS
/* OpenBLAS extension, declared here so any cblas.h works. */
void openblas_set_num_threads(int num_threads);
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- Threads ---- */
static int g_threads;

void sn_threads_set(int n) {
    if (n < 1) n = 1;
    g_threads = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
#ifdef SN_HAVE_OPENBLAS
    /* OpenBLAS's own threading changes results with the thread count; seqnn
     * runs BLAS single-threaded and splits large GEMMs itself (sn_gemm). */
    openblas_set_num_threads(1);
#endif
}

int sn_threads_get(void) {
    if (g_threads == 0) {
        const char *e = getenv("SEQNN_THREADS");
        int n = e ? atoi(e) : 0;
        if (n < 1) {
            long c = sysconf(_SC_NPROCESSORS_ONLN);
            n = c > 0 ? (int)c : 1;
        }
        sn_threads_set(n);
    }
    return g_threads;
}

