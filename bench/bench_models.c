/* Whole-model training and inference throughput on the seed's shapes, the
 * same cases and step as bench/torch_bench.py (forward, loss, backward,
 * RMSprop update; inference = forward only), so the two can be compared in
 * one run (`make bench`).
 *
 *   build/bench_models [threads] [steps]
 *
 * Prints one line per case: name, train samples/s, infer samples/s (wall
 * time), then the same per CPU-second of the process.
 * SEQNN_BENCH_GEMM=blas runs every product on OpenBLAS (A/B of seqnn's own
 * GEMM kernel); SEQNN_BENCH_PHASE=train|infer runs only that phase (for
 * profiles: perf record -e cpu-clock build/bench_models 1 40 lstm16). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seqnn.h"

typedef struct bcase {
    const char *name, *spec;
    int B, T, C;        /* C = 0: ids in [0, vocab) */
    int vocab;
    sn_loss_kind loss;
    int steps_div;      /* fewer steps for the slow case */
} bcase;

static const bcase g_cases[] = {
    {"jena lstm16", "lstm(16), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE, 1},
    {"jena lstm32", "lstm(32), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE, 1},
    {"jena lstm32 rdrop0.25", "lstm(32, recurrent_dropout=0.25), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE, 1},
    {"jena gru32x2", "gru(32, return_sequences=true), gru(32), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE, 1},
    {"jena bilstm16", "bidirectional(lstm(16)), dense(1)", 256, 120, 14, 0, SN_LOSS_MAE, 1},
    {"imdb emb256 bilstm32", "embedding(20000, 256), bidirectional(lstm(32)), dense(1)", 32, 600, 0, 20000,
     SN_LOSS_BCE_LOGITS, 4},
};

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int steps = argc > 2 ? atoi(argv[2]) : 20;
    const char *only = argc > 3 ? argv[3] : NULL; /* a case's exact name, else a part of names */
    int exact = 0;
    for (size_t c = 0; only && c < sizeof g_cases / sizeof *g_cases; c++) exact |= !strcmp(g_cases[c].name, only);
    sn_threads_set(threads);
    /* SEQNN_BENCH_GEMM=blas: every product on OpenBLAS (seqnn's own GEMM kernel off), for A/B runs */
    const char *gb = getenv("SEQNN_BENCH_GEMM");
    if (gb && !strcmp(gb, "blas")) sn_gemm_set_backend(SN_GEMM_BLAS_ONLY);
    /* SEQNN_BENCH_PHASE=train|infer: only that phase (for profiles; the other's figure is meaningless) */
    const char *ph = getenv("SEQNN_BENCH_PHASE");
    const char phase = ph ? ph[0] : 0;
    for (size_t c = 0; c < sizeof g_cases / sizeof *g_cases; c++) {
        const bcase *k = &g_cases[c];
        if (only && !(exact ? !strcmp(k->name, only) : strstr(k->name, only) != NULL)) continue;
        int st_n = steps / k->steps_div;
        if (st_n < 2) st_n = 2;
        size_t xn = (size_t)k->T * (size_t)(k->C ? k->C : 1);
        size_t n = (size_t)k->B * (size_t)st_n;
        float *x = malloc(n * xn * sizeof(float)), *y = malloc(n * sizeof(float)), *p = malloc(n * sizeof(float));
        sn_rng r;
        sn_rng_seed(&r, 1);
        for (size_t i = 0; i < n * xn; i++) x[i] = k->C ? (float)sn_rng_normal(&r) : (float)sn_rng_below(&r, (uint64_t)k->vocab);
        for (size_t i = 0; i < n; i++) y[i] = k->loss == SN_LOSS_MAE ? (float)sn_rng_normal(&r) : (float)sn_rng_below(&r, 2);
        sn_model_opts mo = {0};
        mo.input_rank = k->C ? 2 : 1;
        mo.input_shape[0] = k->T;
        mo.input_shape[1] = k->C;
        mo.seed = 1;
        sn_model *m = NULL;
        sn_dataset ds, warm;
        if (sn_model_init(&m, k->spec, &mo) || sn_dataset_from_arrays(&ds, x, y, n, xn, 1) ||
            sn_dataset_from_arrays(&warm, x, y, (size_t)k->B * 2, xn, 1)) {
            fprintf(stderr, "%s: %s\n", k->name, sn_error_last());
            return 1;
        }
        sn_optimizer_cfg oc;
        sn_optimizer_cfg_default(&oc, SN_OPT_RMSPROP);
        sn_model_compile(m, &oc, k->loss, NULL, 0);
        sn_fit_opts fo;
        sn_fit_opts_default(&fo);
        fo.batch_size = k->B;
        fo.shuffle = 0;
        sn_model_fit(m, &warm, &fo, NULL); /* warm-up: arena, caches */
        double t0 = sn_time_now(), c0 = cpu_now();
        if (phase != 'i' && sn_model_fit(m, &ds, &fo, NULL)) { /* phase 'i': profiling inference only */
            fprintf(stderr, "%s: %s\n", k->name, sn_error_last());
            return 1;
        }
        double tr = (double)n / (sn_time_now() - t0), c1 = cpu_now();
        t0 = sn_time_now();
        int reps = phase == 'i' ? 4 : phase == 't' ? 0 : 1;
        for (int rep = 0; rep < reps; rep++) sn_model_predict(m, &ds, k->B, p);
        double inf = (double)n * reps / (sn_time_now() - t0), c2 = cpu_now();
        /* also per CPU-second of this process: less sensitive to a shared machine */
        printf("%-28s train %10.0f samples/s   infer %10.0f samples/s   per cpu-s train %.0f infer %.0f\n", k->name, tr,
               inf, (double)n / (c1 - c0), (double)n * reps / (c2 - c1));
        fflush(stdout);
        sn_dataset_free(&ds);
        sn_dataset_free(&warm);
        sn_model_free(m);
        free(x);
        free(y);
        free(p);
    }
    return 0;
}
