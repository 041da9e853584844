/* Recurrent layer speed: one training step (forward + backward, no
 * optimizer) on the book's shapes, samples/s.
 *
 *   gcc -std=c11 -O2 -fopenmp -Iinclude -Isrc bench/bench_rnn.c build/libseqnn.a \
 *       -lopenblas -lz -larchive -lcairo -lm -lpthread -o build/bench_rnn
 *   build/bench_rnn [threads] [reps]
 *
 * Cases (B, T, C): Jena (256, 120, 14) lstm(16), lstm(16, recurrent_dropout=0.25),
 * lstm(32), gru(32), bidirectional(lstm(16)); IMDB-like (32, 600, 256 embedded
 * features) bidirectional(lstm(32)). Compare with /work/shared/peers (PyTorch,
 * oneDNN) measured on the same machine.
 *
 * Each line gives samples/s by wall clock and per CPU-second of the whole
 * process (all threads, spin-waiting included). On a machine shared with
 * other jobs, compare CPU figures, interleave the runs being compared and
 * take the best of several; with more threads than free cores, libgomp's
 * spin-waiting between parallel regions steals time from the working
 * threads (GOMP_SPINCOUNT=0 or OMP_WAIT_POLICY=passive shows the layer's
 * own scaling). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layers/layer.h"
#include "spec/spec.h"

typedef struct bcase { const char *spec; int B, T, C, training; } bcase;

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Returns samples/s by wall clock; *cpu_sps receives samples per CPU-second
 * (all threads), less sensitive to a loaded machine. Best of `reps`. */
static double run(const bcase *c, int threads, int reps, double *cpu_sps) {
    sn_spec sp;
    if (sn_spec_parse(&sp, c->spec)) return -1;
    sn_layer *L = sn_layer_create(sp.calls[0]);
    sn_shape in = {2, {c->T, c->C, 0}, SN_REP_DENSE};
    if (!L || sn_layer_build(L, &in)) {
        fprintf(stderr, "%s: %s\n", c->spec, sn_error_last());
        return -1;
    }
    int B = c->B;
    size_t nx = (size_t)B * c->T * c->C, ny = (size_t)B * sn_shape_phys(&L->out);
    float *w = sn_aligned_calloc(L->n_params, 4), *g = sn_aligned_calloc(L->n_params, 4);
    float *cache = sn_aligned_calloc(L->ops->cache_floats(L, B), 4);
    float *scr = sn_aligned_calloc(L->ops->scratch_floats(L, B), 4);
    float *x = sn_aligned_calloc(nx, 4), *y = sn_aligned_calloc(ny, 4), *dy = sn_aligned_calloc(ny, 4);
    float *dx = sn_aligned_calloc(nx, 4);
    L->w = w;
    L->g = g;
    L->threads = threads;
    if (L->ops->bind) L->ops->bind(L);
    sn_rng r;
    sn_rng_seed(&r, 1);
    L->ops->init(L, &r);
    for (size_t i = 0; i < nx; i++) x[i] = (float)sn_rng_normal(&r);
    for (size_t i = 0; i < ny; i++) dy[i] = (float)sn_rng_normal(&r) * 0.01f;
    double best = 1e30, bestc = 1e30;
    for (int rep = 0; rep < reps + 1; rep++) {
        double t0 = sn_time_now(), c0 = cpu_now();
        sn_fwd f = {0};
        f.B = B; f.training = c->training; f.x = x; f.y = y; f.rng = &r; f.cache = cache; f.scratch = scr;
        L->ops->forward(L, &f);
        if (c->training) {
            sn_bwd b = {0};
            b.B = B; b.x = x; b.y = y; b.dy = dy; b.dx = dx; b.cache = cache; b.scratch = scr;
            L->ops->backward(L, &b);
        }
        double dt = sn_time_now() - t0, dc = cpu_now() - c0;
        if (rep > 0 && dt < best) best = dt; /* rep 0 warms up */
        if (rep > 0 && dc < bestc) bestc = dc;
    }
    sn_layer_free(L);
    sn_spec_free(&sp);
    free(w); free(g); free(cache); free(scr); free(x); free(y); free(dy); free(dx);
    *cpu_sps = B / bestc;
    return B / best;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 5;
    int only = argc > 3 ? atoi(argv[3]) : -1; /* run a single case by index */
    sn_threads_set(threads);
    const bcase cases[] = {
        {"lstm(16)", 256, 120, 14, 1},
        {"lstm(16, recurrent_dropout=0.25)", 256, 120, 14, 1},
        {"lstm(16, dropout=0.2)", 256, 120, 14, 1},
        {"lstm(16, dropout=0.2, recurrent_dropout=0.25)", 256, 120, 14, 1},
        {"lstm(16)", 256, 120, 14, 0},
        {"lstm(32)", 256, 120, 14, 1},
        {"gru(32)", 256, 120, 14, 1},
        {"gru(32, recurrent_dropout=0.25)", 256, 120, 14, 1},
        {"simplernn(32)", 256, 120, 14, 1},
        {"bidirectional(lstm(16))", 256, 120, 14, 1},
        {"bidirectional(lstm(32))", 32, 600, 256, 1},
        {"lstm(128)", 64, 100, 32, 1},
    };
    printf("threads=%d (best of %d)\n", threads, reps);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bcase *c = &cases[i];
        if (only >= 0 && (size_t)only != i) continue;
        double cps = 0, sps = run(c, threads, reps, &cps);
        printf("%-48s B=%-3d T=%-3d C=%-3d %-9s %8.0f samples/s wall %8.0f samples/cpu-s\n", c->spec, c->B, c->T,
               c->C, c->training ? "fwd+bwd" : "forward", sps, cps);
        fflush(stdout);
    }
    return 0;
}
