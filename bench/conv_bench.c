/* Conv1D layer speed on the seed model's three conv layers (B = 256):
 * forward, backward without dx (first layer of a model) and backward with
 * dx, milliseconds per call, best of `reps` by wall clock. Not linked into
 * the tests.
 *
 *   make BUILD=/tmp/convb /tmp/convb/libseqnn.a
 *   gcc -std=c11 -O2 -fopenmp -Iinclude -Isrc bench/conv_bench.c /tmp/convb/libseqnn.a \
 *       -lopenblas -lz -larchive -lcairo -lm -lpthread -o /tmp/convb/conv_bench
 *   /tmp/convb/conv_bench [threads] [reps] [case index, default all]
 *
 * Also prints a checksum of y, dW and dx (sum of |v|) so two builds can be
 * compared for equality up to float rounding; with CONV_BENCH_DUMP=file it
 * appends the raw y, dW and dx floats of every case to that file (for a bit
 * for bit comparison of two builds). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"
#include "spec/spec.h"

typedef struct bcase { const char *spec; int B, T, C; } bcase;

static double absum(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)v[i]);
    return s;
}

static int run(const bcase *c, int threads, int reps) {
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
    float *cache = sn_aligned_calloc(L->ops->cache_floats(L, B) + 1, 4);
    float *scr = sn_aligned_calloc(L->ops->scratch_floats(L, B) + 1, 4);
    float *x = sn_aligned_calloc(nx, 4), *y = sn_aligned_calloc(ny, 4), *dy = sn_aligned_calloc(ny, 4);
    float *dx = sn_aligned_calloc(nx, 4);
    L->w = w;
    L->g = g;
    L->threads = threads;
    sn_rng r;
    sn_rng_seed(&r, 1);
    L->ops->init(L, &r);
    for (size_t i = 0; i < nx; i++) x[i] = (float)sn_rng_normal(&r);
    for (size_t i = 0; i < ny; i++) dy[i] = (float)sn_rng_normal(&r) * 0.01f;
    double best[3] = {1e30, 1e30, 1e30};
    for (int rep = 0; rep < reps + 1; rep++) {
        for (int mode = 0; mode < 3; mode++) {
            memset(g, 0, L->n_params * sizeof(float));
            memset(dx, 0, nx * sizeof(float));
            double t0 = sn_time_now();
            if (mode == 0) {
                sn_fwd f = {0};
                f.B = B; f.training = 1; f.x = x; f.y = y; f.rng = &r; f.cache = cache; f.scratch = scr;
                L->ops->forward(L, &f);
            } else {
                sn_bwd b = {0};
                b.B = B; b.x = x; b.y = y; b.dy = dy; b.dx = mode == 2 ? dx : NULL; b.cache = cache; b.scratch = scr;
                L->ops->backward(L, &b);
            }
            double dt = sn_time_now() - t0;
            if (rep > 0 && dt < best[mode]) best[mode] = dt; /* rep 0 warms up */
        }
    }
    printf("%-34s (%3d,%2d)  fwd %7.3f ms  bwd %7.3f ms  bwd+dx %7.3f ms   |y| %.6e |dW| %.6e |dx| %.6e\n", c->spec,
           c->T, c->C, 1e3 * best[0], 1e3 * best[1], 1e3 * best[2], absum(y, ny), absum(g, L->n_params),
           absum(dx, nx));
    fflush(stdout);
    const char *dump = getenv("CONV_BENCH_DUMP");
    FILE *fd = dump ? fopen(dump, "ab") : NULL;
    if (fd) {
        fwrite(y, sizeof(float), ny, fd);
        fwrite(g, sizeof(float), L->n_params, fd);
        fwrite(dx, sizeof(float), nx, fd);
        fclose(fd);
    }
    sn_layer_free(L);
    sn_spec_free(&sp);
    free(w); free(g); free(cache); free(scr); free(x); free(y); free(dy); free(dx);
    return 0;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 20;
    int only = argc > 3 ? atoi(argv[3]) : -1;
    sn_threads_set(threads);
    const bcase cases[] = {
        {"conv1d(8, 24, activation=relu)", 256, 120, 14},
        {"conv1d(8, 24, activation=relu)", 256, 120, 6},
        {"conv1d(8, 12, activation=relu)", 256, 48, 8},
        {"conv1d(8, 6, activation=relu)", 256, 18, 8},
        {"conv1d(32, 5, padding=same)", 256, 120, 14},
        {"conv1d(64, 3, strides=2, padding=causal)", 256, 120, 32},
        {"conv1d(128, 3, padding=same)", 64, 100, 64},
    };
    printf("threads=%d, best of %d\n", threads, reps);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (only < 0 || (size_t)only == i) run(&cases[i], threads, reps);
    return 0;
}
