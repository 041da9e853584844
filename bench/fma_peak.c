/* fp32 peak of this machine on seqnn's active vector path: a loop of
 * independent multiply-adds with nothing else in it (no loads), at a given
 * thread count; the denominator of "fraction of peak" in `make bench`.
 *
 *   build/fma_peak [threads]     prints: "<path> <threads> <GFLOP/s>"
 *
 * avx512: 16 chains of vfmadd on zmm (32 flops each); avx2: 12 chains on
 * ymm (16 flops); sse2: 12 chains of mulps + addps (8 flops a pair, there
 * is no FMA). The chains cover 2 pipes x the latency (4 cycles an FMA, 3 + 3
 * a mul-add pair) on current x86 cores. Best of 400 short runs (a shared
 * machine preempts long ones; the best short run is the core's rate). The machine's peak
 * at T threads is taken as T x the 1-thread figure (bench/run.sh): a shared
 * machine measures less at 2 threads, which is the load, not the peak. */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "seqnn.h"

#define ITERS 20000L /* ~0.1-0.3 ms a run: short enough to fit between other processes' time slices */

__attribute__((target("avx512f"), noinline)) static double run512(float seed) {
    __m512 a[16], x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; i++) a[i] = _mm512_set1_ps(seed + (float)i);
    for (long n = 0; n < ITERS; n++)
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
    __m512 s = a[0];
    for (int i = 1; i < 16; i++) s = _mm512_add_ps(s, a[i]);
    return (double)_mm512_reduce_add_ps(s) * 0 + 32.0 * 16 * ITERS;
}

__attribute__((target("avx2,fma"), noinline)) static double run256(float seed) {
    __m256 a[12], x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps(seed + (float)i);
    for (long n = 0; n < ITERS; n++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    float o[8];
    _mm256_storeu_ps(o, s);
    return (double)o[0] * 0 + 16.0 * 12 * ITERS;
}

__attribute__((noinline)) static double run128(float seed) {
    __m128 a[12], x = _mm_set1_ps(0.999999f), y = _mm_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm_set1_ps(seed + (float)i);
    for (long n = 0; n < ITERS; n++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm_add_ps(_mm_mul_ps(a[i], x), y);
    __m128 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm_add_ps(s, a[i]);
    return (double)_mm_cvtss_f32(s) * 0 + 8.0 * 12 * ITERS;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1) threads = 1;
    sn_isa isa = sn_isa_get(); /* honours SEQNN_ISA */
    double best = 0;
    for (int rep = 0; rep < 400; rep++) {
        double flops = 0, t0 = sn_time_now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops = isa == SN_ISA_AVX512 ? run512((float)omp_get_thread_num())
                : isa == SN_ISA_AVX2 ? run256((float)omp_get_thread_num())
                                     : run128((float)omp_get_thread_num());
        double g = flops / (sn_time_now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    printf("%s %d %.1f\n", sn_isa_name(isa), threads, best);
    return 0;
}
